//! Against a real PostgreSQL: a throwaway cluster (Debian's postgresql 15,
//! or `SSOT_PG_BIN`) in a temp dir, on a Unix socket only, run as the
//! `postgres` user when the tests run as root. pgbench generates WAL and
//! `ssot wal check` must report exactly what `pg_ls_waldir()` reports.
//!
//! The server binaries are required: a missing PostgreSQL fails this test
//! rather than skipping it, unless `SSOT_SKIP_PG=1` says so explicitly.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

mod common;
use common::pg::Cluster;

fn wal_check(c: &Cluster, state: &Path, extra: &[&str], stdin: Option<&str>) -> (i32, Value) {
    use std::io::Write;
    let cfg = state.parent().unwrap().join("ssot.toml");
    // Judge only pg_wal here; the host disk's fill level is not under test.
    fs::write(
        &cfg,
        "[wal]\nvolume_near_pct = 100\nvolume_error_pct = 100\nmin_free_bytes = 0\n",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ssot"))
        .args(["wal", "check", "--format", "json", "--pgdata"])
        .arg(c.data())
        .arg("--state")
        .arg(state)
        .arg("--config")
        .arg(&cfg)
        .args(extra)
        .env_remove("SSOT_STATE_DIR")
        .env_remove("PGDATA")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap(),
        serde_json::from_slice(&out.stdout).unwrap(),
    )
}

#[test]
fn wal_check_matches_pg_ls_waldir() {
    if std::env::var("SSOT_SKIP_PG").as_deref() == Ok("1") {
        eprintln!("SKIPPED explicitly by SSOT_SKIP_PG=1");
        return;
    }
    let c = Cluster::start();
    c.tool("pgbench", &["-i", "-s", "4", "-q"]);
    c.tool("pgbench", &["-T", "4", "-c", "2", "-n"]);
    let state_root = tempfile::tempdir().unwrap();
    let state = state_root.path().join("state");

    // pg_ls_waldir() and the scan must agree on the same, settled directory:
    // query, scan, query again, and accept only when both queries agree.
    let query =
        "SELECT sum(size), count(*) FILTER (WHERE name ~ '^[0-9A-F]{24}$') FROM pg_ls_waldir()";
    let mut matched = None;
    for _ in 0..10 {
        let before = c.sql(query);
        let (code, report) = wal_check(&c, &state, &[], None);
        let after = c.sql(query);
        if before == after {
            matched = Some((before, code, report));
            break;
        }
    }
    let (expected, code, report) = matched.expect("pg_wal never settled across 10 tries");
    let (sum, count) = expected.split_once(',').unwrap();
    eprintln!(
        "pg_ls_waldir(): sum(size)={sum} segments={count}; ssot wal check: wal_size={} segment_count={}",
        report["wal_size"], report["segment_count"]
    );
    assert_eq!(
        report["wal_size"].as_u64().unwrap().to_string(),
        sum,
        "{report}"
    );
    assert_eq!(
        report["segment_count"].as_u64().unwrap().to_string(),
        count,
        "{report}"
    );
    assert!(
        report["wal_size"].as_u64().unwrap() >= 3 * (16 << 20),
        "pgbench produced WAL: {report}"
    );
    assert_eq!(report["status"], "OK", "{report}");
    assert_eq!(code, 0);

    // An inactive physical slot that reserves WAL, fed as psql prints it.
    c.sql("SELECT pg_create_physical_replication_slot('forgotten_standby', true)");
    let slots = c.sql(
        "SELECT slot_name, active, wal_status, pg_current_wal_lsn() - restart_lsn FROM pg_replication_slots",
    );
    assert!(
        slots.starts_with("forgotten_standby,f,reserved,"),
        "{slots}"
    );
    let (code, report) = wal_check(&c, &state, &["--slots", "-"], Some(&slots));
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["status"], "GROWING");
    assert_eq!(report["reasons"][0]["rule"], "slot_inactive");
    assert!(report["reasons"][0]["message"]
        .as_str()
        .unwrap()
        .contains("forgotten_standby"));
}
