//! Scenarios from the field, each against a real server: the cause must be
//! named in the reasons.

use std::time::{Duration, Instant};

use super::live::CLUSTER_CONTRACT;
use super::*;

/// Writes WAL: pgbench for `secs`, a checkpoint after.
fn write_wal(c: &Cluster, secs: u32) {
    c.tool("pgbench", &["-n", "-c", "2", "-T", &secs.to_string()]);
    c.sql("CHECKPOINT");
}

/// Polls `query` until `done(answer)`, at most `within`.
fn until(c: &Cluster, query: &str, within: Duration, done: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        let a = c.sql(query);
        if done(&a) || start.elapsed() > within {
            return a;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn an_inactive_slot_pins_wal_past_max_wal_size_and_is_named() {
    if skipped() {
        return;
    }
    let c = Cluster::start();
    c.tool("pgbench", &["-i", "-s", "4", "-q"]);
    c.sql("SELECT pg_create_physical_replication_slot('standby_gone', true)");
    let ops = Ops::new(
        &c,
        &format!("{NO_VOLUME_RULES}hard_limit_factor = 10\n{CLUSTER_CONTRACT}"),
    );
    let mut rounds = 0;
    while waldir(&c).0 <= 128 << 20 && rounds < 10 {
        write_wal(&c, 3);
        rounds += 1;
    }
    let (bytes, segments) = waldir(&c);
    assert!(bytes > 96 << 20, "the slot pinned only {bytes} bytes");
    let (code, report) = ops.json(&["wal", "check"]);
    eprintln!(
        "slot pinning: pg_wal {bytes} bytes in {segments} segments: {:?}",
        rules(&report)
    );
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["status"], "NEAR_LIMIT");
    assert!(rules(&report).contains(&"wal_over_soft_limit".to_string()));
    let why = reason(&report, "slot_inactive");
    assert!(
        why.contains("\"standby_gone\"") && why.contains("holds WAL back"),
        "{why}"
    );
    // Dropping the slot and checkpointing releases it.
    c.sql("SELECT pg_drop_replication_slot('standby_gone')");
    c.sql("CHECKPOINT");
    let (_, after) = ops.json(&["wal", "check"]);
    assert!(
        !rules(&after).contains(&"slot_inactive".to_string()),
        "{after:#}"
    );
}

#[test]
fn a_failing_archive_command_while_archiving_is_declared_off() {
    if skipped() {
        return;
    }
    let c = Cluster::start_with("-c archive_mode=on -c archive_command=/bin/false");
    // Archiving is declared off (the seed's contract): wal_level replica, no archive.
    let ops = Ops::new(&c, &format!("{NO_VOLUME_RULES}{CLUSTER_CONTRACT}"));
    for _ in 0..4 {
        c.sql("CREATE TABLE IF NOT EXISTS t AS SELECT 1 AS x; INSERT INTO t SELECT 1; SELECT pg_switch_wal()");
    }
    let failed = until(
        &c,
        "SELECT failed_count FROM pg_stat_archiver",
        Duration::from_secs(30),
        |a| a.parse::<u64>().unwrap_or(0) > 0,
    );
    let ready = fs::read_dir(c.data().join("pg_wal/archive_status"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".ready")
        })
        .count();
    assert!(ready > 0, "no .ready backlog");
    let (code, report) = ops.json(&["wal", "check"]);
    eprintln!(
        "failing archiver: failed_count {failed}, {ready} .ready: {:?}",
        rules(&report)
    );
    assert_eq!(code, 1, "{report:#}");
    assert!(reason(&report, "ready_backlog").contains("archiving is declared off"));
    let why = reason(&report, "archiver_failing");
    assert!(
        why.contains("the archiver is failing") && why.contains("nothing was ever archived"),
        "{why}"
    );
    // The contract sees it too: archive_mode is on at runtime, an archiver runs.
    let (code, contract) = ops.json(&["contract", "check"]);
    assert_eq!(code, 1, "{contract:#}");
    let failed: Vec<&str> = contract["invariants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["status"] == "fail")
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        failed,
        ["runtime.archive_mode", "processes.no_archiver"],
        "{contract:#}"
    );
}

#[test]
fn max_slot_wal_keep_size_makes_a_slot_unreserved_then_lost() {
    if skipped() {
        return;
    }
    let c = Cluster::start_with("-c max_slot_wal_keep_size=32MB");
    c.tool("pgbench", &["-i", "-s", "2", "-q"]);
    c.sql("SELECT pg_create_physical_replication_slot('lagging', true)");
    let ops = Ops::new(
        &c,
        &format!("{NO_VOLUME_RULES}hard_limit_factor = 10\n{CLUSTER_CONTRACT}"),
    );
    let mut seen = Vec::new();
    for _ in 0..12 {
        write_wal(&c, 2);
        let status =
            c.sql("SELECT wal_status FROM pg_replication_slots WHERE slot_name = 'lagging'");
        let (_, report) = ops.json(&["wal", "check"]);
        seen.push((status.clone(), rules(&report)));
        if status == "lost" {
            assert_eq!(report["status"], "ERROR", "{report:#}");
            let why = reason(&report, "slot_lost");
            assert!(why.contains("\"lagging\" is lost"), "{why}");
            eprintln!("max_slot_wal_keep_size: {seen:?}");
            return;
        }
        if status == "unreserved" {
            let why = reason(&report, "slot_unreserved");
            assert!(why.contains("\"lagging\""), "{why}");
        }
    }
    panic!("the slot was never lost: {seen:?}");
}
