//! Whole operations through `Ssot` on the in-memory host (`mem/`): no disk,
//! no clock, every fact under the test's control — a WAL status changing with
//! pg_wal, gates denying for each reason, an interrupted retention apply
//! resumed, evidence recorded and read back by retention.

mod mem;

use chrono::{DateTime, TimeDelta, Utc};
use mem::World;
use ssot_core::config::Config;
use ssot_core::gate::Operation;
use ssot_core::retention::{Action, RetentionPolicyPatch};
use ssot_core::wal::Level;
use ssot_core::{
    ApplyMode, BackupRequest, DrillResult, Error, GateRequest, Outcome, RestoreDrillRequest,
    RetentionRequest, Ssot, WalCheckRequest,
};

fn t0() -> DateTime<Utc> {
    "2026-02-05T12:00:00Z".parse().unwrap()
}

fn mins(m: i64) -> DateTime<Utc> {
    t0() + TimeDelta::minutes(m)
}

fn world() -> (World, Config) {
    mem::standard_world(t0())
}

/// The backup gate with the world's clock at `at` (a gate decides at the
/// real time: the clock's, never a time the caller gives).
fn gate(w: &World, ssot: &Ssot, at: DateTime<Utc>) -> ssot_core::gate::Decision {
    w.set_now(at);
    ssot.gate(&GateRequest::new(Operation::Backup), None)
        .unwrap()
}

fn failed(d: &ssot_core::gate::Decision) -> Vec<&str> {
    d.denials().map(|c| c.rule.as_str()).collect()
}

#[test]
fn ssot_can_be_shared_across_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Ssot>();
}

#[test]
fn wal_status_follows_pg_wal_with_hysteresis_and_gates_follow_it() {
    let (w, cfg) = world();
    let ssot = w.ssot(cfg, t0());
    let req = WalCheckRequest::default();
    // (minutes, segments, status, exit code, backup allowed)
    let story = [
        (0, 6, Level::Ok, 0, true),
        (20, 330, Level::NearLimit, 1, false), // 5.2GB > 4GB soft limit
        // 3.8GB: under the limit. What PostgreSQL keeps by design is not
        // "over", so the soft limit releases at the limit (no hysteresis).
        (40, 245, Level::Ok, 0, true),
        (60, 64, Level::Ok, 0, true), // 1GB
    ];
    for (m, segments, status, code, allowed) in story {
        w.set_segments("/pgdata", segments);
        let check = ssot.check_wal(&req, mins(m)).unwrap();
        assert_eq!(check.report.status, status, "at +{m}min");
        assert_eq!(check.exit_code(), code, "at +{m}min");
        assert_eq!(check.report.measures.segment_count, Some(segments));
        assert!(!check.report.reasons.iter().any(|r| r.held), "at +{m}min");
        let file = w.read("/opt/ssot/state/wal.status").unwrap();
        assert!(
            file.contains(&format!("wal_status={}", status.as_str())),
            "{file}"
        );
        let d = gate(&w, &ssot, mins(m));
        assert_eq!(d.allowed, allowed, "at +{m}min: {d}");
        if !allowed {
            assert_eq!(failed(&d), ["wal_status_ok"], "{d}");
        }
    }
    // Every decision went to gate.log.
    assert_eq!(
        w.read("/opt/ssot/state/gate.log").unwrap().lines().count(),
        4
    );
}

/// Issue "WAL truth": with pg_wal on its own volume, PGDATA's volume at
/// 99 % went unseen (`wal check` OK, `gate backup` allowed) while
/// PostgreSQL failed to extend its files. Every volume the cluster writes is
/// measured; a tablespace on a third volume too.
#[test]
fn pgdata_and_tablespace_volumes_are_watched_when_pg_wal_lives_elsewhere() {
    let (w, cfg) = world();
    w.mount("/pgdata/pg_wal", 30, 10 << 30);
    w.set_segments("/pgdata", 6);
    w.mkdir("/pgdata/pg_tblspc");
    w.mount("/pgdata/pg_tblspc/16384", 40, 10 << 30);
    let ssot = w.ssot(cfg, t0());
    let check = ssot.check_wal(&WalCheckRequest::default(), t0()).unwrap();
    assert_eq!(check.report.status, Level::Ok, "{:?}", check.report.reasons);
    let keys: Vec<&str> = check
        .report
        .volumes
        .iter()
        .map(|v| v.key.as_str())
        .collect();
    assert_eq!(keys, ["pgdata", "tablespace_16384"]);
    assert!(gate(&w, &ssot, t0()).allowed);

    // PGDATA's volume (20GB) fills: pg_wal's own volume stays nearly empty.
    w.file_sized("/pgdata/base/big", b"", 13_900 << 20, t0());
    let check = ssot
        .check_wal(&WalCheckRequest::default(), mins(1))
        .unwrap();
    assert_eq!(
        check.report.status,
        Level::Error,
        "{:?}",
        check.report.reasons
    );
    let first = &check.report.reasons[0];
    assert_eq!(first.rule, "volume_used_error");
    assert!(
        first.message.contains("PGDATA /pgdata"),
        "{}",
        first.message
    );
    assert!(check.report.measures.wal_used_pct.unwrap() < 10.0);
    let d = gate(&w, &ssot, mins(1));
    assert!(!d.allowed, "{d}");
    assert!(w
        .read("/opt/ssot/state/wal.status")
        .unwrap()
        .contains("volume.pgdata.used_pct="));
}

#[test]
fn a_failed_measurement_is_recorded_as_error_and_denies() {
    let (w, cfg) = world();
    let ssot = w.ssot(cfg, t0());
    // No pg_wal at all.
    let check = ssot.check_wal(&WalCheckRequest::default(), t0()).unwrap();
    assert!(check.measurement_failed());
    assert_eq!(check.report.status, Level::Error);
    assert_eq!(check.exit_code(), 2);
    assert!(w
        .read("/opt/ssot/state/wal.status")
        .unwrap()
        .contains("wal_status=ERROR"));
    assert!(
        !w.exists("/opt/ssot/state/wal.last_check"),
        "no successful measurement"
    );
    assert!(failed(&gate(&w, &ssot, t0())).contains(&"wal_status_ok"));
}

#[test]
fn gates_deny_for_each_reason_and_name_it() {
    let (w, cfg) = world();
    let ssot = w.ssot(cfg.clone(), t0());
    assert_eq!(failed(&gate(&w, &ssot, t0())), ["wal_status_missing"]);

    w.set_segments("/pgdata", 6);
    let _ = ssot.check_wal(&WalCheckRequest::default(), t0()).unwrap();
    assert!(gate(&w, &ssot, t0()).allowed);
    assert_eq!(failed(&gate(&w, &ssot, mins(11))), ["wal_status_stale"]);
    assert_eq!(
        failed(&gate(&w, &ssot, mins(-2))),
        ["wal_status_future_dated"]
    );
    w.set_now(t0());

    // A target on PGDATA's volume.
    w.mkdir("/pgdata/dumps");
    let d = ssot
        .gate(
            &GateRequest {
                target: Some("/pgdata/dumps".into()),
                ..GateRequest::new(Operation::Backup)
            },
            None,
        )
        .unwrap();
    assert_eq!(
        failed(&d),
        ["separate_filesystem", "target_outside_protected"],
        "{d}"
    );

    // Not enough room for the estimate on the 50GB backup disk: 40GB
    // leaves 20% (over the 10% floor), 49.5GB leaves 512MB (under both floors).
    let estimate = |mib| {
        let req = GateRequest {
            estimate: Some(ssot_core::units::ByteSize::mib(mib)),
            ..GateRequest::new(Operation::Backup)
        };
        failed(&ssot.gate(&req, None).unwrap()).join(",")
    };
    assert_eq!(estimate(40 * 1024), "");
    assert_eq!(estimate(49 * 1024 + 512), "free_space_pct,free_space_bytes");

    // Restore needs the contract, which was never checked.
    let d = ssot
        .gate(&GateRequest::new(Operation::Restore), None)
        .unwrap();
    assert!(failed(&d).contains(&"contract_status_missing"), "{d}");
}

#[test]
fn a_held_operation_lock_denies_the_next_gate_until_it_is_released() {
    let (w, cfg) = world();
    let ssot = w.ssot(cfg, t0());
    w.set_segments("/pgdata", 6);
    let _ = ssot.check_wal(&WalCheckRequest::default(), t0()).unwrap();
    let cmd = ["pg_dump".to_string(), "app".to_string()];
    let (d, held) = ssot
        .gate_and_hold(&GateRequest::new(Operation::Backup), &cmd, None)
        .unwrap();
    assert!(d.allowed && held.is_some());
    let second = gate(&w, &ssot, t0());
    assert_eq!(failed(&second), ["operation_lock"]);
    let why = &second.denials().next().unwrap().message;
    assert!(
        why.contains("backup by pid") && why.contains("pg_dump app"),
        "{why}"
    );
    drop(held);
    assert!(gate(&w, &ssot, t0()).allowed);
}

/// Ten nightly dumps at 03:00 in `/backup/dumps`, newest last night.
fn nightly_dumps(w: &World) {
    for d in 0..10 {
        let at = t0() - TimeDelta::days(d) - TimeDelta::hours(9);
        w.file_sized(
            &format!("/backup/dumps/dump_{}.sql.gz", 10 - d),
            b"",
            300 << 20,
            at,
        );
    }
}

fn keep_daily(n: i64) -> RetentionRequest {
    RetentionRequest {
        dir: Some("/backup/dumps".into()),
        policy: RetentionPolicyPatch {
            keep_daily: Some(n),
            ..RetentionPolicyPatch::default()
        },
        ..RetentionRequest::default()
    }
}

#[test]
fn an_interrupted_apply_resumes_to_where_an_uninterrupted_one_ends() {
    // The reference: an uninterrupted run.
    let (clean, cfg) = world();
    nightly_dumps(&clean);
    let ssot = clean.ssot(cfg.clone(), t0());
    let plan = ssot.plan_retention(&keep_daily(3), t0()).unwrap();
    let hash = plan.plan.plan_hash.clone();
    let expected_deleted: Vec<String> = plan
        .plan
        .deletions_oldest_first()
        .iter()
        .map(|d| d.id.clone())
        .collect();
    assert_eq!(expected_deleted.len(), 7);
    let done = ssot
        .apply_retention(
            &keep_daily(3),
            &ApplyMode::PlanHash(hash.clone()),
            Some(t0()),
        )
        .unwrap();
    assert_eq!(done.deleted, expected_deleted);

    // The same on a world that crashes after the third move to the trash.
    let (w, cfg) = world();
    nightly_dumps(&w);
    let ssot = w.ssot(cfg, t0());
    let dry = ssot
        .apply_retention(&keep_daily(3), &ApplyMode::DryRun, Some(t0()))
        .unwrap();
    assert!(dry.dry_run && dry.deleted.is_empty());
    assert_eq!(dry.plan.plan_hash, hash, "same facts, same plan");
    w.crash_after_trash(Some(3));
    let err = ssot
        .apply_retention(
            &keep_daily(3),
            &ApplyMode::PlanHash(hash[..12].into()),
            Some(t0()),
        )
        .unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
    assert_eq!(err.exit_code(), 3);
    let trash: Vec<String> = w
        .names("/backup/dumps")
        .into_iter()
        .filter(|n| n.starts_with(".ssot-trash"))
        .collect();
    assert_eq!(trash.len(), 1, "the third dump is left in the trash");

    // Run again with the reviewed hash: the plan computed now differs (two
    // dumps are gone), but it is the rest of the reviewed one.
    w.crash_after_trash(None);
    let resumed = ssot
        .apply_retention(
            &keep_daily(3),
            &ApplyMode::PlanHash(hash.clone()),
            Some(t0()),
        )
        .unwrap();
    assert_eq!(resumed.exit_code(), 0, "{resumed}");
    assert_eq!(resumed.recovered, [expected_deleted[2].clone()]);
    assert_eq!(resumed.resumed.as_deref(), Some(hash.as_str()));
    assert_eq!(resumed.deleted, expected_deleted[3..]);
    assert_eq!(w.names("/backup/dumps"), clean.names("/backup/dumps"));
    let status = w.read("/opt/ssot/state/retention.status").unwrap();
    assert!(status.contains(&hash), "{status}");

    // And once more: already applied, nothing to do.
    let again = ssot
        .apply_retention(
            &keep_daily(3),
            &ApplyMode::PlanHash(hash.clone()),
            Some(t0()),
        )
        .unwrap();
    assert!(
        again.deleted.is_empty() && again.refused.is_none(),
        "{again}"
    );
}

#[test]
fn a_recorded_drill_marks_the_artifact_verified_and_retention_keeps_it() {
    let (w, cfg) = world();
    nightly_dumps(&w);
    let ssot = w.ssot(cfg, t0());
    let rec = ssot
        .record_backup(&BackupRequest::new("dump_10.sql.gz"), t0())
        .unwrap();
    assert_eq!(rec.evidence.size_bytes, Some(300 << 20), "measured");
    assert_eq!(rec.evidence.separate_from_pgdata, Some(true));
    assert!(rec
        .to_string()
        .starts_with("recorded backup dump_10.sql.gz (complete, 300MB)"));

    // The oldest dump, recorded too, passed a restore drill.
    let _ = ssot
        .record_backup(&BackupRequest::new("dump_1.sql.gz"), t0())
        .unwrap();
    let drill = RestoreDrillRequest {
        artifact: "dump_1.sql.gz".into(),
        result: DrillResult::Pass,
        started: None,
        finished: None,
        by: Some("ops".into()),
        notes: String::new(),
        mark_verified: Some("/backup/dumps".into()),
    };
    let rec = ssot.record_restore_drill(&drill, t0()).unwrap();
    assert_eq!(
        rec.marked_verified.as_deref(),
        Some(std::path::Path::new("/backup/dumps/dump_1.sql.gz.verified"))
    );
    let mut req = keep_daily(3);
    req.policy.min_verified = Some(1);
    let plan = ssot.plan_retention(&req, t0()).unwrap().plan;
    let oldest = plan
        .decisions
        .iter()
        .find(|d| d.id == "dump_1.sql.gz")
        .unwrap();
    assert_eq!(oldest.action, Action::Keep, "{:?}", oldest.reasons);
    assert_eq!(oldest.reasons[0].to_string(), "min_verified 1");

    // A backup that is not there is refused: exit 2, a verdict.
    let err = ssot
        .record_backup(&BackupRequest::new("dump_99.sql.gz"), t0())
        .unwrap_err();
    assert!(matches!(err, Error::EvidenceRefused(_)), "{err}");
    assert_eq!(err.exit_code(), 2);
}

#[test]
fn a_retention_root_holding_the_state_directory_is_refused_before_listing() {
    let (w, cfg) = world();
    let ssot = w.ssot(cfg, t0());
    let req = RetentionRequest {
        dir: Some("/opt".into()),
        ..keep_daily(1)
    };
    let planned = ssot.plan_retention(&req, t0()).unwrap();
    let refused = planned.plan.refused.as_deref().unwrap_or_default();
    assert!(refused.contains("state directory"), "{refused}");
    assert!(planned.plan.decisions.is_empty());
    assert_eq!(planned.exit_code(), 1);
}

/// What a server with a failing archive_command and a forgotten slot answers to the live probe.
const FAILING_ARCHIVER: &str = r#"{"version": 150010, "in_recovery": false,
  "settings": [{"name": "archive_mode", "setting": "on", "unit": null},
               {"name": "archive_command", "setting": "/bin/false", "unit": null}],
  "slots": [{"name": "forgotten", "active": false, "wal_status": "extended", "retained_bytes": 201326592}],
  "slot_safe_wal_size": {"forgotten": null},
  "archiver": {"archived_count": 0, "last_archived_wal": null, "last_archived_time": null,
               "failed_count": 7, "last_failed_wal": "000000010000000000000003",
               "last_failed_time": "2026-02-05T11:59:00+00:00"},
  "backends": ["archiver", "checkpointer", "client backend"],
  "waldir": {"bytes": 100663296, "segments": 6}}"#;

/// A world with 6 segments, its `Ssot`, and a WAL check probing `dsn`.
fn probing(dsn: &str) -> (World, Ssot, WalCheckRequest) {
    let (w, cfg) = world();
    w.set_segments("/pgdata", 6);
    let ssot = w.ssot(cfg, t0());
    let req = WalCheckRequest {
        dsn: Some(dsn.into()),
        ..WalCheckRequest::default()
    };
    (w, ssot, req)
}

#[test]
fn a_server_that_does_not_answer_is_an_error_with_its_reason() {
    let (w, ssot, req) = probing("host=/run/pg user=ssot password=hunter2");
    let check = ssot.check_wal(&req, t0()).unwrap();
    assert_eq!(check.report.status, Level::Error);
    let r = &check.report.reasons[0];
    assert_eq!(r.rule, "postgres_unreachable");
    assert!(r.message.contains("connection refused"), "{}", r.message);
    assert!(
        !r.message.contains("hunter2"),
        "the password never shows: {}",
        r.message
    );
    // The server is named by host, port, dbname and user only.
    assert!(
        r.message.contains("host=/run/pg user=ssot"),
        "{}",
        r.message
    );
    assert!(!r.message.contains("password"), "{}", r.message);
    // The gate follows: no backup while the server is unknown.
    assert_eq!(failed(&gate(&w, &ssot, t0())), ["wal_status_ok"]);
    let c = ssot
        .check_contract(
            &ssot_core::ContractRequest {
                dsn: req.dsn.clone(),
                ..Default::default()
            },
            t0(),
        )
        .unwrap();
    let reach = c
        .invariants
        .iter()
        .find(|i| i.id == "runtime.reachable")
        .unwrap();
    assert_eq!(reach.status, ssot_core::contract::InvariantStatus::Unknown);
    let report = ssot.report(
        &ssot_core::ReportRequest {
            dsn: req.dsn.clone(),
            ..Default::default()
        },
        t0(),
    );
    let pg = report
        .sections
        .iter()
        .find(|s| s.name == "postgres")
        .unwrap();
    assert_eq!(pg.status, ssot_core::report::Verdict::Down);
    assert!(!ssot_core::report::render::prometheus(&report).contains("hunter2"));
}

#[test]
fn a_live_probe_names_the_failing_archiver_and_the_forgotten_slot() {
    let (w, cfg) = world();
    w.set_segments("/pgdata", 6);
    w.set_server(Some(Ok(FAILING_ARCHIVER.into())));
    let ssot = w.ssot(cfg, t0());
    let dsn = Some("host=/run/pg user=postgres".to_string());
    let check = ssot
        .check_wal(
            &WalCheckRequest {
                dsn: dsn.clone(),
                ..Default::default()
            },
            t0(),
        )
        .unwrap();
    let rules: Vec<&str> = check
        .report
        .reasons
        .iter()
        .map(|r| r.rule.as_str())
        .collect();
    assert_eq!(rules, ["slot_inactive", "archiver_failing"], "{check}");
    assert!(check.report.reasons[0].message.contains("\"forgotten\""));
    assert!(check.report.reasons[1]
        .message
        .contains("000000010000000000000003"));
    assert_eq!(check.pg_ls_waldir.map(|d| d.segments), Some(6));
    // The contract reads pg_settings and the backends from the same probe:
    // archiving is on at runtime and an archiver runs, though declared off.
    let c = ssot
        .check_contract(
            &ssot_core::ContractRequest {
                dsn: dsn.clone(),
                ..Default::default()
            },
            t0(),
        )
        .unwrap();
    let failed: Vec<&str> = c
        .with_status(ssot_core::contract::InvariantStatus::Fail)
        .map(|i| i.id.as_str())
        .collect();
    assert_eq!(
        failed,
        ["runtime.archive_mode", "processes.no_archiver"],
        "{c}"
    );
    let on: Vec<&str> = c
        .limitations
        .iter()
        .filter(|l| l.status == ssot_core::contract::LimitationStatus::On)
        .map(|l| l.name.as_str())
        .collect();
    assert!(
        on.contains(&"wal_archive") && on.contains(&"ha_replication"),
        "{c}"
    );
    let report = ssot.report(
        &ssot_core::ReportRequest {
            dsn,
            ..Default::default()
        },
        t0(),
    );
    let pg = report
        .sections
        .iter()
        .find(|s| s.name == "postgres")
        .unwrap();
    assert_eq!(pg.status, ssot_core::report::Verdict::Degraded, "{pg:?}");
    assert!(pg.summary.contains("archiver is failing"), "{}", pg.summary);
    let prom = ssot_core::report::render::prometheus(&report);
    assert!(
        prom.contains("ssot_postgres_slot_retained_bytes{slot=\"forgotten\"} 201326592"),
        "{prom}"
    );
}

/// A full state filesystem (ENOSPC injected through the port): the failed
/// write leaves the old `wal.status` whole, the check fails naming the file
/// and the cause, and a gate that cannot record its decision does not allow.
/// (`tests/robustness/full_disk.rs` does the same on a real full tmpfs.)
#[test]
fn a_full_state_filesystem_keeps_the_old_status_and_the_gate_does_not_allow() {
    let (w, cfg) = world();
    let ssot = w.ssot(cfg, t0());
    w.set_segments("/pgdata", 6);
    let first = ssot.check_wal(&WalCheckRequest::default(), t0()).unwrap();
    assert_eq!(first.report.status, Level::Ok);
    let before = w.read("/opt/ssot/state/wal.status").unwrap();
    assert!(gate(&w, &ssot, mins(1)).allowed);

    w.set_disk_full(true);
    w.set_segments("/pgdata", 330);
    let e = ssot
        .check_wal(&WalCheckRequest::default(), mins(2))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("wal.status") && e.contains("No space left"),
        "{e}"
    );
    assert_eq!(w.read("/opt/ssot/state/wal.status").unwrap(), before);
    w.set_now(mins(3));
    match ssot.gate(&GateRequest::new(Operation::Backup), None) {
        Ok(d) => panic!("a gate that could not log its decision answered: {d}"),
        Err(e) => assert!(e.to_string().contains("gate.log"), "{e}"),
    }

    w.set_disk_full(false);
    let check = ssot
        .check_wal(&WalCheckRequest::default(), mins(4))
        .unwrap();
    assert_eq!(
        check.report.status,
        Level::NearLimit,
        "recovers once there is room"
    );
}

/// A decision that authorises work (a gate, a hold, an apply that deletes)
/// is made at the real time, the ports' clock: a given time is only checked
/// against it, and refused beyond `gate.max_clock_skew`. It used to be the
/// decision's time, so a chosen `now` made stale state fresh.
#[test]
fn a_decision_that_authorises_work_uses_the_real_clock() {
    let (w, cfg) = world();
    w.set_segments("/pgdata", 6);
    nightly_dumps(&w);
    let ssot = w.ssot(cfg, mins(-300));
    let _ = ssot
        .check_wal(&WalCheckRequest::default(), mins(-300))
        .unwrap();
    w.set_now(t0());
    let req = GateRequest::new(Operation::Backup);
    for given in [mins(-298), mins(-2), mins(120)] {
        match ssot.gate(&req, Some(given)) {
            Err(Error::ClockRefused { given: g, real, .. }) => {
                assert_eq!((g, real), (given, t0()));
            }
            other => panic!("a gate at a chosen time {given}: {other:?}"),
        }
        assert!(matches!(
            ssot.gate_and_hold(&req, &["pg_dump".into()], Some(given)),
            Err(Error::ClockRefused { .. })
        ));
        assert!(matches!(
            ssot.apply_retention(&keep_daily(3), &ApplyMode::Confirm, Some(given)),
            Err(Error::ClockRefused { .. })
        ));
    }
    assert_eq!(w.names("/backup/dumps").len(), 10, "nothing was deleted");
    // Within the skew: accepted, decided at the clock's time (the status is stale then).
    let d = ssot
        .gate(&req, Some(t0() + TimeDelta::seconds(30)))
        .unwrap();
    assert_eq!(d.decided_at, t0());
    assert_eq!(failed(&d), ["wal_status_stale"]);
    // A dry run reads only: it is evaluated at the time given.
    let dry = ssot
        .apply_retention(&keep_daily(3), &ApplyMode::DryRun, Some(mins(-1000)))
        .unwrap();
    assert!(dry.dry_run);
}

/// Issue "WAL truth": when the probe fails, the last good probe's slots are
/// kept, dated, so the slot that filled the disk is still named after the
/// server went down.
#[test]
fn the_last_good_probe_still_names_the_slot_and_the_archiver_after_the_server_went_down() {
    let (w, ssot, req) = probing("host=/run/pg user=ssot");
    w.set_server(Some(Ok(FAILING_ARCHIVER.into())));
    let check = ssot.check_wal(&req, t0()).unwrap();
    assert!(check
        .report
        .reasons
        .iter()
        .any(|r| r.rule == "slot_inactive" && !r.message.contains("last probe")));
    w.set_server(None);
    let check = ssot.check_wal(&req, mins(1)).unwrap();
    let rules: Vec<&str> = check
        .report
        .reasons
        .iter()
        .map(|r| r.rule.as_str())
        .collect();
    assert_eq!(
        rules,
        ["postgres_unreachable", "slot_inactive", "archiver_failing"],
        "{:?}",
        check.report.reasons
    );
    let slot = &check.report.reasons[1].message;
    assert!(
        slot.contains("forgotten")
            && slot.contains("as the last probe that answered saw it at 2026-02-05T12:00:00Z"),
        "{slot}"
    );
    let archiver = &check.report.reasons[2].message;
    assert!(
        archiver.contains(
            "was failing when the last probe that answered saw it at 2026-02-05T12:00:00Z"
        ) && archiver.contains("000000010000000000000003"),
        "{archiver}"
    );
    // Judged as of the probe that saw it, however long the server stays down.
    w.set_server(None);
    let later = ssot.check_wal(&req, mins(600)).unwrap();
    assert!(
        later
            .report
            .reasons
            .iter()
            .any(|r| r.rule == "archiver_failing" && r.message.contains("last probe")),
        "{:?}",
        later.report.reasons
    );
}

/// Issue "WAL truth": the gate trusted a minutes-old status and never
/// probed; a gated `pg_dump` against a frozen postmaster was allowed and hung
/// with the lock. With a DSN configured, the backup, snapshot and restore
/// gates make a bounded liveness probe; startup does not (the server is
/// down then).
#[test]
fn data_gates_probe_liveness_when_a_dsn_is_configured() {
    let (w, mut cfg) = world();
    w.set_segments("/pgdata", 6);
    cfg.postgres.dsn = Some("host=/run/pg user=ssot".into());
    let ssot = w.ssot(cfg, t0());
    w.set_server(Some(Ok("1".into())));
    w.write_text(
        "/opt/ssot/state/wal.status",
        &format!(
            "wal_status=OK\nchecked_at={}\n",
            ssot_core::state::timestamp(t0())
        ),
        t0(),
    );
    let d = gate(&w, &ssot, t0());
    assert!(d.allowed, "{d}");
    assert!(d
        .reasons
        .iter()
        .any(|c| c.rule == "postgres_answers" && c.passed));
    w.set_server(Some(Err("timeout expired".into())));
    let d = gate(&w, &ssot, t0());
    assert_eq!(failed(&d), ["postgres_answers"], "{d}");
    let why = &d.denials().next().unwrap().message;
    assert!(why.contains("timeout expired"), "{why}");
}

/// Issue "runs on the hosts it promises": on a plain host the truth is the
/// configuration PostgreSQL itself reads: PGDATA's postgresql.conf with its
/// include_dir, and the data directory's postgresql.auto.conf, found without
/// being named. ALTER SYSTEM drift names the auto.conf line; the PVC checks
/// do not apply.
#[test]
fn a_host_reads_postgresql_conf_with_its_includes_from_pgdata() {
    let (w, cfg) = world();
    w.write_text(
        "/pgdata/postgresql.conf",
        "max_wal_size = 1GB\ninclude_dir = 'conf.d'\ninclude_if_exists = 'gone.conf'\n",
        t0(),
    );
    w.write_text(
        "/pgdata/conf.d/10-ssot.conf",
        "max_wal_size = 4GB\nmin_wal_size = 1GB\nwal_keep_size = 0\n",
        t0(),
    );
    w.write_text("/pgdata/conf.d/README", "max_wal_size = 9GB\n", t0());
    w.write_text(
        "/pgdata/postgresql.auto.conf",
        "# Do not edit this file manually!\nmin_wal_size = '2GB'\n",
        t0(),
    );
    let ssot = w.ssot(cfg, t0());
    let settings = "archive_mode,off,\ncheckpoint_timeout,300,s\nmax_wal_size,4096,MB\n\
                    min_wal_size,2048,MB\nwal_keep_size,0,MB\n";
    let c = ssot
        .check_contract(
            &ssot_core::ContractRequest {
                settings: Some(ssot_core::Input::text(settings, "pg_settings")),
                ..Default::default()
            },
            t0(),
        )
        .unwrap();
    assert_eq!(c.deployment, ssot_core::contract::Deployment::Host);
    let get = |id: &str| c.invariants.iter().find(|i| i.id == id).unwrap();
    let max = get("conf.max_wal_size");
    assert_eq!(
        max.status,
        ssot_core::contract::InvariantStatus::Pass,
        "{c}"
    );
    assert_eq!(
        max.evidence,
        ["/pgdata/conf.d/10-ssot.conf:1 max_wal_size = '4GB'"]
    );
    let failed: Vec<&str> = c
        .with_status(ssot_core::contract::InvariantStatus::Fail)
        .map(|i| i.id.as_str())
        .collect();
    assert_eq!(
        failed,
        ["runtime.min_wal_size", "auto_conf.no_wal_override"],
        "{c}"
    );
    assert!(
        get("auto_conf.no_wal_override")
            .message
            .contains("/pgdata/postgresql.auto.conf:2 min_wal_size = '2GB'"),
        "{c}"
    );
    assert_eq!(
        get("volume.pgdata_declared").status,
        ssot_core::contract::InvariantStatus::Pass,
        "{c}"
    );
    assert_eq!(
        get("pvc.no_orphans").status,
        ssot_core::contract::InvariantStatus::NotApplicable
    );
    // An include that is missing stops PostgreSQL; ssot says where, in a
    // FAIL that replaces the record.
    w.write_text("/pgdata/postgresql.conf", "include 'gone.conf'\n", t0());
    let c = ssot
        .check_contract(&ssot_core::ContractRequest::default(), t0())
        .unwrap();
    assert_eq!(c.status, ssot_core::contract::ContractVerdict::Fail, "{c}");
    let e = &get_in(&c, "inputs.readable").message;
    assert!(
        e.contains("/pgdata/postgresql.conf") && e.contains("/pgdata/gone.conf"),
        "{e}"
    );
    let rec = w.read("/opt/ssot/state/contract.status").unwrap();
    assert!(rec.starts_with("contract_status=FAIL\n"), "{rec}");
}

fn get_in<'a>(
    c: &'a ssot_core::contract::ContractReport,
    id: &str,
) -> &'a ssot_core::contract::Invariant {
    c.invariants.iter().find(|i| i.id == id).unwrap()
}

/// Issue "WAL truth": the server's own wal_segment_size is used when it
/// differs from the declared one (and the declaration named), and a
/// standby says it is one.
#[test]
fn a_standby_with_another_segment_size_says_so() {
    let (w, ssot, req) = probing("host=/run/pg user=ssot");
    w.set_server(Some(Ok(r#"{"version": 150010, "in_recovery": true,
      "settings": [{"name": "wal_segment_size", "setting": "67108864", "unit": "B"}],
      "slots": [], "slot_safe_wal_size": {},
      "archiver": {"archived_count": 0, "last_archived_wal": null, "last_archived_time": null,
                   "failed_count": 0, "last_failed_wal": null, "last_failed_time": null},
      "backends": ["startup", "walreceiver"],
      "waldir": {"bytes": 100663296, "segments": 6}}"#
        .into())));
    let check = ssot.check_wal(&req, t0()).unwrap();
    let notes = check.notes.join("\n");
    assert!(
        notes.contains("the server's wal_segment_size is 64MB, the declared one 16MB"),
        "{notes}"
    );
    assert!(
        notes.contains("is a standby (pg_is_in_recovery())"),
        "{notes}"
    );
}

/// Found by attack: an `include` in postgresql.auto.conf (PostgreSQL reads
/// it like any configuration file) made the check exit 3 and left the last
/// PASS standing. It is followed, and what it sets is an override.
#[test]
fn an_include_in_postgresql_auto_conf_is_followed() {
    let (w, cfg) = world();
    w.write_text(
        "/pgdata/postgresql.conf",
        "max_wal_size = 4GB\nmin_wal_size = 1GB\nwal_keep_size = 0\n",
        t0(),
    );
    w.write_text(
        "/pgdata/postgresql.auto.conf",
        "# Do not edit this file manually!\ninclude 'evil.conf'\n",
        t0(),
    );
    w.write_text("/pgdata/evil.conf", "max_wal_size = 64MB\n", t0());
    let ssot = w.ssot(cfg, t0());
    let c = ssot
        .check_contract(&ssot_core::ContractRequest::default(), t0())
        .unwrap();
    let inv = c
        .invariants
        .iter()
        .find(|i| i.id == "auto_conf.no_wal_override")
        .unwrap();
    assert_eq!(
        inv.status,
        ssot_core::contract::InvariantStatus::Fail,
        "{c}"
    );
    assert!(
        inv.message.contains("(from /pgdata/evil.conf:1)"),
        "{}",
        inv.message
    );
}
