//! Evidence records and evaluations, and the stage registry's rules.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use ssot_core::config::Config;
use ssot_core::evidence::{
    dr_outcome, BackupEvidence, BackupKind, BackupResult, DrDrillEvidence, EvidencePolicy,
    RestoreDrillEvidence,
};
use ssot_core::report::evidence::{backup_section, restore_drill_section};
use ssot_core::report::Verdict;
use ssot_core::stages::{check, Claim, StageDef, StageFacts};
use ssot_core::state::{
    write_backup as record_backup, write_dr_drill as record_dr_drill,
    write_restore_drill as record_restore_drill, VERIFIED_KEPT,
};
use ssot_core::state::{Freshness, StateInput};
use ssot_core::statefile::StateFile;

fn now() -> DateTime<Utc> {
    "2026-02-05T12:00:00Z".parse().unwrap()
}

fn ago(h: i64) -> DateTime<Utc> {
    now() - TimeDelta::hours(h)
}

fn backup(h: i64, result: BackupResult) -> BackupEvidence {
    BackupEvidence {
        finished_at: ago(h),
        started_at: Some(ago(h) - TimeDelta::minutes(5)),
        artifact: format!("ssot_{h}.sql.gz"),
        location: "/opt/ssot-backup/dumps".into(),
        result,
        size_bytes: Some(1 << 20),
        kind: BackupKind::Dump,
        recorded_by: "alex".into(),
        separate_from_pgdata: Some(true),
        sha256: None,
        format: None,
        warnings: Vec::new(),
    }
}

fn present(f: &StateFile) -> StateInput {
    StateInput::Present {
        path: f.path().into(),
        content: f.render().into_bytes(),
    }
}

#[test]
fn dr_outcome_measures_rto_and_rpo_against_the_targets() {
    let p = EvidencePolicy::default();
    let drill = |rto_min: i64, rpo_min: i64| DrDrillEvidence {
        scenario: "loss of the primary DB instance".into(),
        t0: now(),
        restored_at: now() + TimeDelta::minutes(rto_min),
        newest_data_before: now() - TimeDelta::minutes(1),
        newest_data_after: now() - TimeDelta::minutes(1 + rpo_min),
        recorded_by: "alex".into(),
    };
    let at_target = dr_outcome(&drill(15, 5), &p).unwrap();
    assert_eq!(
        (
            at_target.rto_seconds,
            at_target.rpo_seconds,
            at_target.passed
        ),
        (900, 300, true),
        "targets are inclusive"
    );
    assert!(!dr_outcome(&drill(16, 5), &p).unwrap().passed);
    assert!(!dr_outcome(&drill(15, 6), &p).unwrap().passed);
    let mut nothing_lost = drill(3, 0);
    nothing_lost.newest_data_after = nothing_lost.newest_data_before + TimeDelta::minutes(1);
    assert_eq!(dr_outcome(&nothing_lost, &p).unwrap().rpo_seconds, 0);
    let mut backwards = drill(3, 0);
    backwards.restored_at = now() - TimeDelta::minutes(1);
    assert!(dr_outcome(&backwards, &p)
        .unwrap_err()
        .to_string()
        .contains("before the incident start"));

    let mut f = StateFile::new("dr_drill.status");
    let o = dr_outcome(&drill(20, 2), &p).unwrap();
    record_dr_drill(&mut f, &drill(20, 2), &o, now()).unwrap();
    assert_eq!(f.get("rto_seconds"), Some("1200"));
    assert_eq!(f.get("result"), Some("fail"));
}

#[test]
fn backups_keep_the_newest_complete_apart_from_the_latest_attempt() {
    let mut f = StateFile::new("backup.status");
    record_backup(&mut f, &backup(20, BackupResult::Complete), now()).unwrap();
    record_backup(&mut f, &backup(2, BackupResult::Failed), now()).unwrap();
    assert_eq!(f.get("last_result"), Some("failed"));
    assert_eq!(f.get("last_complete_artifact"), Some("ssot_20.sql.gz"));
    assert_eq!(f.get("last_complete_duration_seconds"), Some("300"));
    let s = backup_section(&present(&f), &Freshness::default(), now());
    assert_eq!(
        s.status,
        Verdict::Degraded,
        "the latest attempt failed: {}",
        s.summary
    );
    assert!(
        s.summary
            .contains("newest complete backup ssot_20.sql.gz is 20h old"),
        "{}",
        s.summary
    );

    let mut fresh = StateFile::new("backup.status");
    record_backup(&mut fresh, &backup(25, BackupResult::Complete), now()).unwrap();
    assert_eq!(
        backup_section(&present(&fresh), &Freshness::default(), now()).status,
        Verdict::Ok,
        "exactly 25h is within 25h"
    );
    let mut stale = StateFile::new("backup.status");
    record_backup(&mut stale, &backup(26, BackupResult::Complete), now()).unwrap();
    assert_eq!(
        backup_section(&present(&stale), &Freshness::default(), now()).status,
        Verdict::Degraded
    );

    // A snapshot is no BackupKind: a backup claiming to be one cannot be built.
    assert!("snapshot"
        .parse::<BackupKind>()
        .unwrap_err()
        .to_string()
        .contains("a snapshot is not a backup"));
    let mut bad = backup(1, BackupResult::Complete);
    bad.started_at = Some(ago(0));
    assert!(
        record_backup(&mut StateFile::new("b"), &bad, now()).is_err(),
        "started after finished"
    );
}

#[test]
fn restore_drills_remember_a_bounded_list_of_verified_artifacts() {
    let mut f = StateFile::new("restore_drill.status");
    for i in 0..(VERIFIED_KEPT + 5) {
        let e = RestoreDrillEvidence {
            finished_at: ago(100 - i as i64),
            started_at: None,
            artifact: format!("dump{i}"),
            passed: true,
            recorded_by: "alex".into(),
            notes: String::new(),
            verified_until: None,
            sha256: None,
        };
        record_restore_drill(&mut f, &e, now()).unwrap();
    }
    let fail = RestoreDrillEvidence {
        passed: false,
        artifact: "dump99".into(),
        ..RestoreDrillEvidence {
            finished_at: ago(1),
            started_at: None,
            artifact: String::new(),
            passed: false,
            recorded_by: "alex".into(),
            notes: "psql: relation missing".into(),
            verified_until: None,
            sha256: None,
        }
    };
    record_restore_drill(&mut f, &fail, now()).unwrap();
    let verified: Vec<&str> = f.get("verified_artifacts").unwrap().split(',').collect();
    assert_eq!(verified.len(), VERIFIED_KEPT);
    assert_eq!(verified[0], format!("dump{}", VERIFIED_KEPT + 4));
    assert_eq!(
        f.get("last_pass_artifact"),
        Some(format!("dump{}", VERIFIED_KEPT + 4).as_str())
    );
    let s = restore_drill_section(&present(&f), &Freshness::default(), now());
    assert_eq!(s.status, Verdict::Degraded);
    assert!(
        s.details[0].starts_with("the latest drill FAILED"),
        "{:?}",
        s.details
    );
}

fn stage(status: Claim, criteria: &[&str]) -> StageDef {
    StageDef {
        id: "x".into(),
        title: "t".into(),
        status,
        final_: false,
        criteria: criteria.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn stage_claims_need_their_evidence() {
    let mut files = BTreeMap::new();
    files.insert(
        "active_pvc.list".to_string(),
        StateInput::Present {
            path: "active_pvc.list".into(),
            content: b"data-0\n".to_vec(),
        },
    );
    let exist = BTreeMap::from([
        ("/runbook.md".to_string(), true),
        ("/missing.md".to_string(), false),
    ]);
    let gate_log = StateInput::Present {
        path: "gate.log".into(),
        content: format!(
            r#"{{"operation":"backup","allowed":false,"decided_at":"{}","reasons":[]}}"#,
            ssot_core::state::timestamp(ago(1))
        )
        .into_bytes(),
    };
    let freshness = Freshness::default();
    let facts = StageFacts {
        files: &files,
        gate_log: Some(&gate_log),
        files_exist: &exist,
        freshness: &freshness,
    };
    let registry = vec![
        stage(
            Claim::Complete,
            &[
                "state:active_pvc.list",
                "file:/runbook.md",
                "gate_denied:backup",
            ],
        ),
        stage(
            Claim::Implemented,
            &["file:/runbook.md", "file:/missing.md"],
        ),
        stage(Claim::Partial, &["file:/runbook.md", "file:/missing.md"]),
        stage(Claim::Partial, &["file:/missing.md"]),
        stage(Claim::Complete, &[]),
        stage(Claim::Design, &["gate_used:restore"]),
    ];
    let r = check(&registry, &facts, now());
    let consistent: Vec<bool> = r.iter().map(|c| c.consistent).collect();
    assert_eq!(consistent, [true, false, true, false, false, false]);
    assert!(r[1].missing[0].starts_with("file:/missing.md: /missing.md does not exist"));
    assert!(r[4]
        .message
        .contains("a claim without evidence is not backed"));
    assert!(r[0].met[2].contains("gate.log: backup denied at"));
}

#[test]
fn the_default_registry_is_empty_the_seeds_is_an_example_and_typos_are_config_errors() {
    // A new user's report carries no stage of someone else's project.
    assert_eq!(Config::default().stages, Vec::new());
    // The seed's registry, names included, is the example configuration.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/config/seed.toml");
    let cfg = Config::from_toml_str(&std::fs::read_to_string(path).unwrap(), path).unwrap();
    assert_eq!(cfg.stages, ssot_core::stages::seed_registry());
    assert!(cfg.stages.len() >= 14);
    assert_eq!(
        (
            cfg.contract.statefulset.as_str(),
            cfg.contract.namespace.as_str()
        ),
        ("trading-postgres", "trading")
    );
    assert_eq!(cfg.report.configmap_namespace, "trading");
    // Only the names and the registry differ from the defaults.
    let mut neutral = cfg.clone();
    neutral.stages = Vec::new();
    neutral.contract.statefulset = "postgres".into();
    neutral.contract.namespace = "default".into();
    neutral.report.configmap_namespace = "default".into();
    assert_eq!(neutral, Config::default());
    for s in &cfg.stages {
        assert!(!s.criteria.is_empty(), "stage {} has no criteria", s.id);
        s.parsed_criteria().unwrap();
    }
    let err = Config::from_toml_str("[[stages]]\nid = \"8\"\ntitle = \"Backup\"\nstatus = \"IMPLEMENTED\"\ncriteria = [\"backups\"]\n", "c")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("stage 8 has an unknown criterion \"backups\""),
        "{err}"
    );
    let err = Config::from_toml_str(
        "[[stages]]\nid = \"8\"\ntitle = \"B\"\nstatus = \"DONE\"\n",
        "c",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("DONE"), "{err}");
}

/// The report's Prometheus rendering carries the version that wrote it and the
/// limits it judged by, taken from the configuration (not the defaults), even
/// with no evidence at all: dashboards and alerts draw thresholds from these.
#[test]
fn the_prometheus_rendering_carries_build_info_and_the_configured_limits() {
    let cfg = Config::from_toml_str(
        "[evidence]\nbackup_max_age = \"30h\"\nrestore_drill_max_age = \"7d\"\ndr_drill_max_age = \"40d\"\nrto_target = \"20min\"\nrpo_target = \"1min\"\n[gate]\nwal_max_age = \"3min\"\n",
        "c",
    )
    .unwrap();
    let report = ssot_core::report::build(
        &ssot_core::report::ReportFacts::default(),
        &cfg.report_policy(),
        now(),
    );
    let prom = ssot_core::report::render::prometheus(&report);
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        prom.starts_with(&format!(
            "# HELP ssot_build_info The ssot version that rendered these metrics (always 1)\n# TYPE ssot_build_info gauge\nssot_build_info{{version=\"{version}\"}} 1\n"
        )),
        "{prom}"
    );
    for line in [
        "ssot_wal_max_age_seconds 180\n",
        "ssot_backup_max_age_seconds 108000\n",
        "ssot_restore_drill_max_age_seconds 604800\n",
        "ssot_dr_drill_max_age_seconds 3456000\n",
        "ssot_dr_drill_rto_target_seconds 1200\n",
        "ssot_dr_drill_rpo_target_seconds 60\n",
    ] {
        assert!(prom.contains(line), "{line:?} missing from:\n{prom}");
    }
}
