//! The architecture contract against hand-written fixtures in the real
//! tools' formats (`tests/fixtures/contract/`).

use std::fs;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use ssot_core::config::ContractConfig;
use ssot_core::contract::ContractVerdict;
use ssot_core::contract::{
    evaluate, ContractInputs, ContractReport, Invariant, InvariantStatus, LimitationStatus, Sourced,
};
use ssot_core::inputs::{
    parse_active_pvcs, parse_auto_conf, parse_pg_settings, parse_processes, parse_pvcs,
    parse_statefulset,
};

fn fixture(name: &str) -> (String, String) {
    let p: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "tests",
        "fixtures",
        "contract",
        name,
    ]
    .iter()
    .collect();
    (
        fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
        name.to_string(),
    )
}

fn now() -> DateTime<Utc> {
    "2026-02-05T12:00:00Z".parse().unwrap()
}

#[derive(Default)]
struct Files<'a> {
    sts: Option<&'a str>,
    settings: Option<&'a str>,
    ps: Option<&'a str>,
    pvcs: Option<&'a str>,
    active: Option<&'a str>,
    auto_conf: Option<&'a str>,
}

fn inputs(f: Files) -> ContractInputs {
    let mut i = ContractInputs::default();
    if let Some(n) = f.sts {
        let (t, o) = fixture(n);
        i.statefulset = Some(Sourced::new(
            parse_statefulset(&t, &o, "trading-postgres").unwrap(),
            o,
        ));
    }
    if let Some(n) = f.settings {
        let (t, o) = fixture(n);
        i.settings = Some(Sourced::new(parse_pg_settings(&t, &o).unwrap(), o));
    }
    if let Some(n) = f.ps {
        let (t, o) = fixture(n);
        i.processes = Some(Sourced::new(parse_processes(&t), o));
    }
    if let Some(n) = f.pvcs {
        let (t, o) = fixture(n);
        i.pvcs = Some(Sourced::new(parse_pvcs(&t, &o).unwrap(), o));
    }
    if let Some(n) = f.active {
        let (t, o) = fixture(n);
        i.active_pvcs = Some(Sourced::new(parse_active_pvcs(&t), o));
    }
    if let Some(n) = f.auto_conf {
        let (t, o) = fixture(n);
        i.auto_conf = Some(Sourced::new(parse_auto_conf(&t, &o).unwrap(), o));
    }
    i
}

fn all_clean() -> Files<'static> {
    Files {
        sts: Some("sts-clean.json"),
        settings: Some("settings-clean.csv"),
        ps: Some("ps-args-clean.txt"),
        pvcs: Some("pvcs-clean.json"),
        active: Some("active_pvc.list"),
        auto_conf: None,
    }
}

fn get<'a>(r: &'a ContractReport, id: &str) -> &'a Invariant {
    r.invariants.iter().find(|i| i.id == id).unwrap_or_else(|| {
        panic!(
            "no invariant {id}: {:?}",
            r.invariants.iter().map(|i| &i.id).collect::<Vec<_>>()
        )
    })
}

fn failed(r: &ContractReport) -> Vec<&str> {
    r.with_status(InvariantStatus::Fail)
        .map(|i| i.id.as_str())
        .collect()
}

#[test]
fn the_seed_architecture_passes() {
    let r = evaluate(&inputs(all_clean()), &ContractConfig::default(), now());
    let unknown: Vec<&str> = r
        .with_status(InvariantStatus::Unknown)
        .map(|i| i.id.as_str())
        .collect();
    assert_eq!(failed(&r), Vec::<&str>::new(), "{:#?}", r.invariants);
    assert_eq!(
        unknown,
        ["auto_conf.no_wal_override"],
        "only the input not given is unknown"
    );
    assert_eq!(r.status, ContractVerdict::Unknown);
    // A declared 4GB equals the runtime's 4096 MB; the evidence names both.
    let rt = get(&r, "runtime.max_wal_size");
    assert_eq!(rt.status, InvariantStatus::Pass);
    assert!(
        rt.evidence[0].contains("pg_settings max_wal_size = 4096 MB (settings-clean.csv:8)"),
        "{:?}",
        rt.evidence
    );
    assert_eq!(rt.evidence[1], "-c max_wal_size=4GB");
    assert!(get(&r, "sts.archive_disabled")
        .message
        .contains("not passed"));
    assert_eq!(get(&r, "pvc.pgdata_active").status, InvariantStatus::Pass);
    assert!(get(&r, "pvc.pgdata_on_pvc")
        .message
        .contains("data-trading-postgres-0"));
    // With postgresql.auto.conf free of WAL settings, everything passes.
    let mut i = inputs(all_clean());
    i.auto_conf = Some(Sourced::new(
        parse_auto_conf("# empty\n", "auto.conf").unwrap(),
        "auto.conf",
    ));
    let r = evaluate(&i, &ContractConfig::default(), now());
    assert_eq!(r.status, ContractVerdict::Pass, "{:#?}", r.invariants);
    let wal = r.declared_wal.as_ref().unwrap();
    assert_eq!(wal["max_wal_size"], "4GB");
    assert_eq!(wal["wal_keep_size"], "0");
    assert_eq!(wal["archive_mode"], "off");
    // Limitations the clean facts confirm.
    let lim = |n: &str| r.limitations.iter().find(|l| l.name == n).unwrap().status;
    assert_eq!(lim("wal_archive"), LimitationStatus::Off);
    assert_eq!(lim("pitr"), LimitationStatus::Off);
    assert_eq!(lim("ha_replication"), LimitationStatus::Off);
    assert_eq!(lim("pg_basebackup"), LimitationStatus::Off);
    assert_eq!(
        lim("sla_rpo_rto"),
        LimitationStatus::Unverified,
        "a promise is not observable"
    );
}

#[test]
fn archive_mode_on_in_the_statefulset_fails_naming_the_args() {
    let r = evaluate(
        &inputs(Files {
            sts: Some("sts-archive-on.json"),
            ..all_clean()
        }),
        &ContractConfig::default(),
        now(),
    );
    let inv = get(&r, "sts.archive_disabled");
    assert_eq!(inv.status, InvariantStatus::Fail);
    assert!(
        inv.message
            .contains("-c archive_mode=on, -c archive_command=/bin/false"),
        "{}",
        inv.message
    );
    assert_eq!(
        inv.evidence,
        [
            "-c archive_mode=on (sts-archive-on.json)",
            "-c archive_command=/bin/false (sts-archive-on.json)"
        ]
    );
    assert_eq!(r.status, ContractVerdict::Fail);
    let l = r
        .limitations
        .iter()
        .find(|l| l.name == "wal_archive")
        .unwrap();
    assert_eq!(l.status, LimitationStatus::On);
    assert!(l
        .message
        .contains("-c archive_mode=on in sts-archive-on.json"));
    assert_eq!(
        r.limitations
            .iter()
            .find(|l| l.name == "pitr")
            .unwrap()
            .status,
        LimitationStatus::On
    );
}

#[test]
fn runtime_drift_names_both_values_and_the_alter_system_line() {
    let r = evaluate(
        &inputs(Files {
            settings: Some("settings-drift.csv"),
            auto_conf: Some("postgresql.auto.conf"),
            ..all_clean()
        }),
        &ContractConfig::default(),
        now(),
    );
    let inv = get(&r, "runtime.wal_keep_size");
    assert_eq!(inv.status, InvariantStatus::Fail);
    assert_eq!(
        inv.message,
        "drift: runtime wal_keep_size = 1GB, but -c wal_keep_size=0 says 0; postgresql.auto.conf sets it to '1GB' (ALTER SYSTEM)"
    );
    assert!(
        inv.evidence
            .contains(&"postgresql.auto.conf:3 wal_keep_size = '1GB'".to_string()),
        "{:?}",
        inv.evidence
    );
    assert!(inv.evidence[0].contains("pg_settings wal_keep_size = 1024 MB (settings-drift.csv:12)"));
    assert_eq!(
        get(&r, "auto_conf.no_wal_override").status,
        InvariantStatus::Fail
    );
    assert_eq!(
        failed(&r),
        ["runtime.wal_keep_size", "auto_conf.no_wal_override"]
    );
}

#[test]
fn an_archiver_in_ps_aux_fails_naming_the_process_line() {
    let r = evaluate(
        &inputs(Files {
            ps: Some("ps-aux-archiver.txt"),
            ..all_clean()
        }),
        &ContractConfig::default(),
        now(),
    );
    let inv = get(&r, "processes.no_archiver");
    assert_eq!(inv.status, InvariantStatus::Fail);
    assert_eq!(
        inv.evidence,
        ["ps-aux-archiver.txt:7 postgres: archiver failed on 000000010000000000000003"]
    );
    assert!(
        inv.message.contains("postgres: archiver failed on"),
        "{}",
        inv.message
    );
}

#[test]
fn an_orphan_pvc_fails_naming_it() {
    let r = evaluate(
        &inputs(Files {
            pvcs: Some("pvcs-orphan.json"),
            ..all_clean()
        }),
        &ContractConfig::default(),
        now(),
    );
    let inv = get(&r, "pvc.no_orphans");
    assert_eq!(inv.status, InvariantStatus::Fail);
    assert!(
        inv.message
            .contains("trading/pgdata-trading-postgres-0-old (Bound)"),
        "{}",
        inv.message
    );
    assert_eq!(failed(&r), ["pvc.no_orphans"]);
}

#[test]
fn missing_inputs_are_unknown_not_pass() {
    // On Kubernetes every invariant needs an input; on a host (the default
    // without a StatefulSet) the PVC checks do not apply, and the rest are
    // unknown: nothing passes.
    let kubernetes = ContractConfig {
        deployment: ssot_core::contract::Deployment::Kubernetes,
        ..ContractConfig::default()
    };
    let r = evaluate(&ContractInputs::default(), &kubernetes, now());
    assert!(
        r.invariants
            .iter()
            .all(|i| i.status == InvariantStatus::Unknown),
        "{:#?}",
        r.invariants
    );
    let host = evaluate(
        &ContractInputs::default(),
        &ContractConfig::default(),
        now(),
    );
    assert_eq!(host.deployment, ssot_core::contract::Deployment::Host);
    assert_eq!(host.status, ssot_core::contract::ContractVerdict::Unknown);
    let not_applicable: Vec<&str> = host
        .invariants
        .iter()
        .filter(|i| i.status == InvariantStatus::NotApplicable)
        .map(|i| i.id.as_str())
        .collect();
    assert_eq!(
        not_applicable,
        [
            "sts.single_instance",
            "pvc.pgdata_on_pvc",
            "pvc.pgdata_active",
            "pvc.no_orphans",
            "pvc.active_list_current"
        ]
    );
    assert!(host.invariants.iter().all(|i| matches!(
        i.status,
        InvariantStatus::Unknown | InvariantStatus::NotApplicable
    )));
    assert!(r
        .invariants
        .iter()
        .all(|i| i.message.starts_with("not checked: no ") && i.message.ends_with(" input given")));
    assert_eq!(r.status, ContractVerdict::Unknown);
    assert!(r
        .limitations
        .iter()
        .all(|l| l.status == LimitationStatus::Unverified));
    assert!(r.declared_wal.is_none());
}

#[test]
fn a_statefulset_without_the_wal_args_fails() {
    let (t, _) = fixture("sts-clean.json");
    let mut v: serde_json::Value = serde_json::from_str(&t).unwrap();
    v["spec"]["template"]["spec"]["containers"][0]["args"] = serde_json::json!([
        "--max-wal-size=4GB",
        "-c",
        "min_wal_size=1GB",
        "-c",
        "min_wal_size=2GB"
    ]);
    let sts = parse_statefulset(&v.to_string(), "edited.json", "trading-postgres").unwrap();
    let i = ContractInputs {
        statefulset: Some(Sourced::new(sts, "edited.json")),
        ..Default::default()
    };
    let r = evaluate(&i, &ContractConfig::default(), now());
    assert_eq!(
        get(&r, "sts.max_wal_size").status,
        InvariantStatus::Pass,
        "--max-wal-size=4GB counts"
    );
    let min = get(&r, "sts.min_wal_size");
    assert_eq!(min.status, InvariantStatus::Fail, "the last -c wins");
    assert_eq!(
        min.message,
        "the StatefulSet sets min_wal_size = 2GB, the contract declares 1GB"
    );
    let keep = get(&r, "sts.wal_keep_size");
    assert_eq!(keep.status, InvariantStatus::Fail);
    assert!(keep.message.contains("not set in the StatefulSet args"));
    assert_eq!(
        get(&r, "sts.checkpoint_timeout").status,
        InvariantStatus::Pass,
        "PostgreSQL's default equals 5min"
    );
}

#[test]
fn inputs_in_a_wrong_format_are_errors_that_name_the_file() {
    let e = parse_statefulset("{\"kind\": \"Deployment\"}", "dep.json", "x").unwrap_err();
    assert!(
        matches!(&e, ssot_core::Error::InputFile { origin, .. } if origin == "dep.json"),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .starts_with("dep.json: kind is \"Deployment\""),
        "{e}"
    );
    let e = parse_statefulset("{not json", "bad.json", "x").unwrap_err();
    assert!(
        matches!(
            e,
            ssot_core::Error::InputFile {
                line: Some(1),
                column: Some(2),
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .contains("bad.json: not JSON at line 1 column 2"),
        "{e}"
    );
    let e = parse_pvcs("[]", "p.json").unwrap_err().to_string();
    assert!(e.contains("p.json"), "{e}");
    let e = parse_auto_conf("wal_keep_size\n", "a.conf")
        .unwrap_err()
        .to_string();
    assert!(e.contains("a.conf: line 1"), "{e}");
}

/// Found by attack: on a host, an `archive_mode` PostgreSQL refuses
/// (`bogus`, `tru`, `'on '`) read as "not on" and passed; PostgreSQL does
/// not start with it. And `'\157n'` is `on`.
#[test]
fn a_host_archive_mode_is_read_as_postgresql_reads_it() {
    let host = ContractConfig {
        deployment: ssot_core::contract::Deployment::Host,
        ..ContractConfig::default()
    };
    for (line, status) in [
        ("archive_mode = 'bogus'", InvariantStatus::Fail),
        ("archive_mode = tru", InvariantStatus::Fail),
        ("archive_mode = 'on '", InvariantStatus::Fail),
        ("archive_mode = '\\157n'", InvariantStatus::Fail),
        ("archive_mode = off", InvariantStatus::Pass),
        ("archive_command = '/bin/true'", InvariantStatus::Pass),
    ] {
        let conf =
            ssot_core::inputs::parse_postgresql_conf(&format!("{line}\n"), "pg.conf").unwrap();
        let inputs = ContractInputs {
            conf: Some(ssot_core::contract::Sourced::new(conf, "pg.conf")),
            ..ContractInputs::default()
        };
        let r = evaluate(&inputs, &host, now());
        let inv = r
            .invariants
            .iter()
            .find(|i| i.id == "conf.archive_disabled")
            .unwrap();
        assert_eq!(inv.status, status, "{line}: {}", inv.message);
    }
}
