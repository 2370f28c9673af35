//! WAL truth in incidents (issue "WAL truth in real incidents"): the
//! startup gate never keeps a crashed server down; a probe failure is
//! classified. The real-server replays live in `tests/postgres/live.rs`.

use std::fs;

use super::*;

/// A sandbox PGDATA with an empty pg_wal and a configuration whose volume
/// rules cannot fire on whatever disk the test runs on.
fn sandbox(w: &World) -> (PathBuf, PathBuf) {
    let pgdata = w.path("pgdata");
    fs::create_dir_all(pgdata.join("pg_wal")).unwrap();
    let cfg = w.path("ssot.toml");
    fs::write(&cfg, NO_VOLUME_RULES).unwrap();
    (pgdata, cfg)
}

/// `ssot --state S --config C ARGS` at the real time.
fn at_real_time(w: &World, cfg: &Path, args: &[&str]) -> Output {
    let mut all = vec!["--state", s(&w.state), "--config", s(cfg)];
    all.extend(args);
    run_bounded(&all)
}

/// A crashed server does not answer the probe: `wal check --dsn` records
/// ERROR postgres_unreachable, and `gate startup` denied the restart
/// forever. Startup leaves the probe's rules out; a backup still waits.
#[test]
fn a_server_that_does_not_answer_may_still_be_started() {
    let w = World::new();
    let (pgdata, cfg) = sandbox(&w);
    let no_server = w.path("no-server");
    fs::create_dir(&no_server).unwrap();
    let dsn = format!("host={} user=postgres dbname=postgres", no_server.display());
    let o = at_real_time(
        &w,
        &cfg,
        &[
            "wal",
            "check",
            "--pgdata",
            s(&pgdata),
            "--dsn",
            &dsn,
            "--format",
            "json",
        ],
    );
    assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
    let report = json(&o);
    assert_eq!(
        report["reasons"][0]["rule"], "postgres_unreachable",
        "{report:#}"
    );
    w.write_state(
        "contract.status",
        &format!("contract_status=PASS\nchecked_at={}\n", real_now()),
    );
    let ran = w.path("started");
    let o = at_real_time(&w, &cfg, &["gate", "startup", "--", "touch", s(&ran)]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(ran.exists(), "the restart command did not run");

    let target = w.path("dumps");
    fs::create_dir(&target).unwrap();
    let o = at_real_time(
        &w,
        &cfg,
        &["gate", "backup", "--target", s(&target), "--format", "json"],
    );
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert!(
        denial(&json(&o), "wal_status_ok").contains("postgres_unreachable"),
        "{}",
        stdout(&o)
    );
}

/// A status whose only problem is the probe, next to a full volume: the
/// volume still keeps the server from starting (only the probe's rules are
/// left out).
#[test]
fn startup_still_waits_for_a_full_volume() {
    let w = World::new();
    let (_, cfg) = sandbox(&w);
    let now = real_now();
    w.write_state(
        "wal.status",
        &format!(
            "wal_status=ERROR\nchecked_at={now}\nactive_rules=volume_used_error,postgres_unreachable\n\
             reason_count=2\nreason.1=ERROR volume_used_error: volume holding pg_wal is 95% used, error threshold 90%\n\
             reason.2=ERROR postgres_unreachable: PostgreSQL at host=/run/postgresql did not answer the live probe\n"
        ),
    );
    w.write_state(
        "contract.status",
        &format!("contract_status=PASS\nchecked_at={now}\n"),
    );
    let o = at_real_time(&w, &cfg, &["gate", "startup", "--format", "json"]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    let why = denial(&json(&o), "wal_status_ok");
    assert!(why.contains("volume_used_error"), "{why}");
}

/// The report said "backup blocked now" from the last decision even when it
/// was an ad-hoc `--target` test 26 hours earlier. A denial counts as
/// "blocked now" only while recent (`gate.wal_max_age`) and for the
/// configured target.
#[test]
fn blocked_now_ages_out_and_follows_the_configured_target() {
    let w = World::new();
    let cfg = w.path("ssot.toml");
    fs::write(&cfg, "[gate.targets]\nbackup = \"/backup/dumps\"\n").unwrap();
    let line = |at: &str, target: &str, allowed: bool| {
        format!(
            "{{\"operation\":\"backup\",\"allowed\":{allowed},\"decided_at\":\"{at}\",\"target\":\"{target}\",\"reasons\":[{{\"rule\":\"wal_status_ok\",\"passed\":{allowed},\"message\":\"WAL status is NEAR_LIMIT\"}}]}}\n"
        )
    };
    let gates = |log: &str| -> serde_json::Value {
        w.write_state("gate.log", log);
        let o = w.ssot(&["--config", s(&cfg), "report", "--format", "json"]);
        json(&o)["sections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "gates")
            .unwrap()
            .clone()
    };
    // An ad-hoc test of another target, 26 hours ago.
    let g = gates(&line("2026-02-04T10:00:00Z", "/tmp/elsewhere", false));
    assert!(!g["summary"].to_string().contains("blocked now"), "{g:#}");
    assert!(g["details"].to_string().contains("not current"), "{g:#}");
    // The configured target, denied 26 hours ago: history, not now.
    let g = gates(&line("2026-02-04T10:00:00Z", "/backup/dumps", false));
    assert!(!g["summary"].to_string().contains("blocked now"), "{g:#}");
    // The configured target, denied two minutes ago: blocked now, even after
    // an allowed ad-hoc test since.
    let g = gates(&format!(
        "{}{}",
        line("2026-02-05T11:58:00Z", "/backup/dumps", false),
        line("2026-02-05T11:59:00Z", "/tmp/elsewhere", true)
    ));
    assert!(
        g["summary"].to_string().contains("backup blocked now"),
        "{g:#}"
    );
    assert_eq!(g["status"], "DEGRADED", "{g:#}");
}
