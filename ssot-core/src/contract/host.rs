//! A plain host: no StatefulSet and no PVCs. One postmaster per data
//! directory is PostgreSQL's own guarantee (`postmaster.pid`); the PVC
//! invariants become one volume invariant: PGDATA is the data directory the
//! configuration declares (and the running server uses).

use super::{ContractInputs, Inv, InvariantStatus};

/// The Kubernetes invariants a host has no object for.
const KUBERNETES_ONLY: [&str; 4] = [
    "pvc.pgdata_on_pvc",
    "pvc.pgdata_active",
    "pvc.no_orphans",
    "pvc.active_list_current",
];

/// `sts.single_instance` is not applicable on a host.
pub(super) fn single_instance(inv: &mut Inv) {
    inv.not_applicable(
        "sts.single_instance",
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

/// A directory as written, without trailing slashes, for comparison.
fn dir(p: &str) -> &str {
    match p.trim_end_matches('/') {
        "" => "/",
        d => d,
    }
}

fn pgdata_declared(inv: &mut Inv, inputs: &ContractInputs) {
    const ID: &str = "volume.pgdata_declared";
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
        let d = dir(p);
        inputs
            .real_dirs
            .get(d)
            .map_or_else(|| d.to_string(), |r| dir(r).to_string())
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
