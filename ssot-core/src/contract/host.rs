//! A plain host: no StatefulSet and no PVCs. One postmaster per data
//! directory is PostgreSQL's own guarantee (`postmaster.pid`); the PVC
//! invariants become one volume invariant: PGDATA is the data directory the
//! configuration declares (and the running server uses).

use super::{ContractInputs, Inv, InvariantId, InvariantStatus};

/// The Kubernetes invariants a host has no object for.
const KUBERNETES_ONLY: [InvariantId; 4] = [
    InvariantId::PvcPgdataOnPvc,
    InvariantId::PvcPgdataActive,
    InvariantId::PvcNoOrphans,
    InvariantId::PvcActiveListCurrent,
];

/// `sts.single_instance` is not applicable on a host.
pub(super) fn single_instance(inv: &mut Inv) {
    inv.not_applicable(
        InvariantId::StsSingleInstance,
        "a host runs no StatefulSet: PostgreSQL's postmaster.pid allows one server per data directory",
    );
}

/// `volume.pgdata_declared`, and the PVC invariants as not applicable.
pub(super) fn volumes(inv: &mut Inv, inputs: &ContractInputs) {
    pgdata_declared(inv, inputs);
    for id in KUBERNETES_ONLY {
        inv.not_applicable(id, "a host deployment has no PersistentVolumeClaims");
    }
}

/// A directory as written, without trailing slashes, for comparison (the
/// key of [`ContractInputs::real_dirs`]).
pub fn written_dir(p: &str) -> &str {
    match p.trim_end_matches('/') {
        "" => "/",
        d => d,
    }
}

fn pgdata_declared(inv: &mut Inv, inputs: &ContractInputs) {
    const ID: InvariantId = InvariantId::VolumePgdataDeclared;
    let Some(pgdata) = inputs.pgdata.as_deref() else {
        inv.unknown(ID, "pgdata");
        return;
    };
    // (where, the data directory it names)
    let mut declared: Vec<(String, String)> = Vec::new();
    if let Some(c) = &inputs.conf {
        match c.value.settings.get("data_directory") {
            Some(l) => declared.push((
                format!("{} data_directory = '{}'", l.at(), l.value),
                l.value.clone(),
            )),
            // Without data_directory, PostgreSQL's data directory is the one
            // holding its postgresql.conf (postgres -D).
            None => {
                let holder = std::path::Path::new(&c.origin)
                    .parent()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                declared.push((
                    format!(
                        "no data_directory in {}: the data directory is {holder}",
                        c.origin
                    ),
                    holder,
                ));
            }
        }
    }
    if let Some(row) = inputs
        .settings
        .as_ref()
        .and_then(|s| s.value.get("data_directory").map(|r| (r, &s.origin)))
    {
        declared.push((
            format!("pg_settings data_directory = {} ({})", row.0.setting, row.1),
            row.0.setting.clone(),
        ));
    }
    if declared.is_empty() {
        inv.unknown(ID, "postgresql_conf or settings");
        return;
    }
    // Through symbolic links, as the host resolved them: Debian's
    // /var/lib/postgresql/15/main may be a link to the real volume.
    let real = |p: &str| -> String {
        let d = written_dir(p);
        inputs
            .real_dirs
            .get(d)
            .map_or_else(|| d.to_string(), |r| written_dir(r).to_string())
    };
    let differ: Vec<&(String, String)> = declared
        .iter()
        .filter(|(_, d)| real(d) != real(pgdata))
        .collect();
    let mut evidence: Vec<String> = declared.iter().map(|(e, _)| e.clone()).collect();
    evidence.push(format!("ssot watches PGDATA {pgdata}"));
    if differ.is_empty() {
        inv.push(
            ID,
            InvariantStatus::Pass,
            evidence,
            format!("PGDATA {pgdata} is the data directory the configuration declares"),
        );
    } else {
        inv.push(
            ID,
            InvariantStatus::Fail,
            evidence,
            format!(
                "ssot watches PGDATA {pgdata}, but {}: its volumes are not the server's (set postgres.pgdata)",
                differ
                    .iter()
                    .map(|(e, _)| e.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        );
    }
}

/// `conf.parameters_known`: every parameter `postgresql.conf` (with its
/// includes) and `postgresql.auto.conf` set is one PostgreSQL knows (an
/// unknown name without a dot, which marks an extension's placeholder,
/// stops the server at its next start: "unrecognized configuration
/// parameter"). The names come from the live probe's
/// `pg_settings` (any version), else PostgreSQL 15's own list when the
/// server is known to be 15 (its `server_version_num` in the settings
/// given, or the data directory's `PG_VERSION`); otherwise unknown.
pub(super) fn parameters_known(inv: &mut Inv, inputs: &ContractInputs) {
    let Some(conf) = &inputs.conf else {
        inv.unknown(InvariantId::ConfParametersKnown, "postgresql_conf");
        return;
    };
    let live = match inputs.live.as_ref().map(|l| (&l.value, &l.origin)) {
        Some((Ok(l), origin)) if !l.settings.is_empty() => Some((l, origin)),
        _ => None,
    };
    let major = live
        .map(|(l, o)| (l.version / 10000, format!("the live probe of {o}")))
        .or_else(|| {
            let s = inputs.settings.as_ref()?;
            let row = s.value.get("server_version_num")?;
            let v: u32 = row.setting.trim().parse().ok()?;
            Some((v / 10000, format!("server_version_num {v} ({})", row.at)))
        })
        .or_else(|| {
            inputs
                .pg_version
                .as_ref()
                .map(|v| (v.value, v.origin.clone()))
        });
    type Known<'a> = Box<dyn Fn(&str) -> bool + 'a>;
    let (known, from): (Known, String) = match (live, &major) {
        (Some((l, origin)), _) => {
            // pg_settings spells some names in mixed case (DateStyle,
            // TimeZone); PostgreSQL compares them case-insensitively.
            let names: std::collections::BTreeSet<String> =
                l.settings.keys().map(|k| k.to_ascii_lowercase()).collect();
            (
                Box::new(move |n: &str| names.contains(n)),
                format!("pg_settings ({origin})"),
            )
        }
        (None, Some((15, from))) => (
            Box::new(|n: &str| {
                super::pg15_parameters::PG15_PARAMETERS
                    .binary_search(&n)
                    .is_ok()
            }),
            format!("PostgreSQL 15's parameters ({from})"),
        ),
        (None, Some((v, from))) => {
            inv.push(
                InvariantId::ConfParametersKnown,
                InvariantStatus::Unknown,
                vec![format!("PostgreSQL {v} ({from})")],
                format!(
                    "not checked: PostgreSQL {v}'s parameter names are known only from a live probe (give --dsn while it runs)"
                ),
            );
            return;
        }
        (None, None) => {
            inv.unknown(
                InvariantId::ConfParametersKnown,
                "live probe, settings or PG_VERSION",
            );
            return;
        }
    };
    // Names PostgreSQL accepts in a file but pg_settings does not list:
    // the old aliases it maps (sort_mem, vacuum_mem) and settings hidden
    // from SHOW ALL (seed, role); found by attack as false failures.
    const ACCEPTED_UNLISTED: [&str; 4] = ["role", "seed", "sort_mem", "vacuum_mem"];
    // A dotted name is an extension's placeholder.
    let unknown_name = |name: &str| {
        let n = name.to_ascii_lowercase();
        !n.contains('.') && !ACCEPTED_UNLISTED.contains(&n.as_str()) && !known(&n)
    };
    let mut unknown: Vec<String> = conf
        .value
        .settings
        .iter()
        .filter(|(name, _)| unknown_name(name))
        .map(|(name, s)| format!("{} {name}", s.at()))
        .collect();
    if let Some(a) = &inputs.auto_conf {
        unknown.extend(
            a.value
                .iter()
                .filter(|(name, _)| unknown_name(name))
                .map(|(name, l)| format!("{}:{} {name}", a.origin, l.line)),
        );
    }
    if unknown.is_empty() {
        inv.push(
            InvariantId::ConfParametersKnown,
            InvariantStatus::Pass,
            vec![format!("names checked against {from}")],
            "every parameter set is one PostgreSQL knows".into(),
        );
    } else {
        inv.push(
            InvariantId::ConfParametersKnown,
            InvariantStatus::Fail,
            unknown.clone(),
            format!(
                "PostgreSQL will not start: unrecognized configuration parameter(s) {} (checked against {from})",
                unknown.join(", ")
            ),
        );
    }
}
