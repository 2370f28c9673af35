//! `--dsn`: the live probe against a real server, a dead one and a mute one.

use std::os::unix::net::UnixListener;
use std::time::Instant;

use super::*;

/// The contract the test clusters run with (their `-c` options).
/// The test clusters get their WAL settings on the command line (`-c`), as a
/// StatefulSet's container args pass them: the Kubernetes deployment's truth.
pub const CLUSTER_CONTRACT: &str = "[contract]\ndeployment = \"kubernetes\"\nmax_wal_size = \"96MB\"\nmin_wal_size = \"32MB\"\nwal_keep_size = \"0\"\ncheckpoint_timeout = \"5min\"\n";

#[test]
fn wal_check_matches_pg_ls_waldir_on_disk_and_through_the_probe() {
    if skipped() {
        return;
    }
    let c = Cluster::start();
    c.tool("pgbench", &["-i", "-s", "4", "-q"]);
    c.tool("pgbench", &["-T", "4", "-c", "2", "-n"]);
    let ops = Ops::new(&c, NO_VOLUME_RULES);

    // pg_ls_waldir() and the scan must agree on the same, settled directory:
    // query, scan, query again, and accept only when both queries agree.
    let mut matched = None;
    for _ in 0..10 {
        let before = waldir(&c);
        let (code, report) = ops.json(&["wal", "check"]);
        let after = waldir(&c);
        if before == after {
            matched = Some((before, code, report));
            break;
        }
    }
    let ((sum, count), code, report) = matched.expect("pg_wal never settled across 10 tries");
    eprintln!(
        "pg_ls_waldir(): sum(size)={sum} segments={count}; ssot wal check: wal_size={} segment_count={}",
        report["wal_size"], report["segment_count"]
    );
    assert_eq!(report["wal_size"].as_u64(), Some(sum), "{report}");
    assert_eq!(report["segment_count"].as_u64(), Some(count), "{report}");
    // The probe's own count of the same directory, in the same report.
    assert_eq!(
        report["pg_ls_waldir"]["bytes"].as_u64(),
        Some(sum),
        "{report}"
    );
    assert!(sum >= 3 * SEGMENT, "pgbench produced WAL: {report}");
    assert_eq!(report["status"], "OK", "{report}");
    assert_eq!(code, 0);

    // An inactive physical slot that reserves WAL: read by the probe itself.
    c.sql("SELECT pg_create_physical_replication_slot('forgotten_standby', true)");
    let (code, report) = ops.json(&["wal", "check"]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["status"], "GROWING");
    assert_eq!(rules(&report), ["slot_inactive"]);
    assert!(reason(&report, "slot_inactive").contains("forgotten_standby"));

    // The same slot as psql prints it, given by hand (the file input).
    let slots = c.sql(
        "SELECT slot_name, active, wal_status, pg_current_wal_lsn() - restart_lsn FROM pg_replication_slots",
    );
    let slots_file = ops.path("slots.csv");
    fs::write(&slots_file, &slots).unwrap();
    let (_, by_file) = ops.json(&["wal", "check", "--slots", s(&slots_file)]);
    assert_eq!(rules(&by_file), ["slot_inactive"]);
}

#[test]
fn a_dead_server_is_an_error_with_its_reason() {
    if skipped() {
        return;
    }
    let c = Cluster::start();
    let ops = Ops::new(&c, NO_VOLUME_RULES);
    c.stop();
    let started = Instant::now();
    let (code, report) = ops.json(&["wal", "check"]);
    let took = started.elapsed();
    eprintln!("a stopped server: wal check answered in {took:?}");
    assert_eq!(code, 2, "{report}");
    assert_eq!(report["status"], "ERROR");
    let why = reason(&report, "postgres_unreachable");
    assert!(
        why.contains(&c.socket()) && why.contains("No such file or directory"),
        "{why}"
    );
    // pg_wal itself was still measured from the files.
    assert!(report["wal_size"].as_u64().unwrap() > 0, "{report}");
    // The report says the same in its postgres section.
    let o = ops.run(&["report", "--format", "json"]);
    let sections = json(&o)["sections"].clone();
    let pg = sections
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "postgres")
        .unwrap()
        .clone();
    assert_eq!(pg["status"], "DOWN", "{pg}");
}

#[test]
fn a_server_that_never_answers_times_out() {
    if skipped() {
        return;
    }
    // Something listens on the socket, accepts, and says nothing.
    let dir = tempfile::tempdir().unwrap();
    let listener = UnixListener::bind(dir.path().join(".s.PGSQL.5432")).unwrap();
    let accepting = std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().take(4) {
            held.push(conn);
        }
        std::thread::sleep(std::time::Duration::from_secs(30));
    });
    let c = Cluster::stopped();
    let ops = Ops::new(&c, NO_VOLUME_RULES);
    let started = Instant::now();
    let o = ops.run(&[
        "wal",
        "check",
        "--format",
        "json",
        "--dsn",
        &format!(
            "host={} user=postgres dbname=postgres",
            dir.path().display()
        ),
    ]);
    let took = started.elapsed();
    eprintln!("a mute server: wal check answered in {took:?}");
    let report = json(&o);
    assert_eq!(report["status"], "ERROR", "{report}");
    let why = reason(&report, "postgres_unreachable");
    assert!(why.contains("timeout"), "{why}");
    drop(accepting);
}

#[test]
fn the_contract_reads_the_running_server() {
    if skipped() {
        return;
    }
    let c = Cluster::start();
    let ops = Ops::new(&c, CLUSTER_CONTRACT);
    let (code, report) = ops.json(&["contract", "check"]);
    let status = |id: &str| {
        report["invariants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == id)
            .unwrap_or_else(|| panic!("no {id} in {report:#}"))["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    for id in [
        "runtime.reachable",
        "runtime.max_wal_size",
        "runtime.min_wal_size",
        "runtime.wal_keep_size",
        "runtime.archive_mode",
        "processes.no_archiver",
    ] {
        assert_eq!(status(id), "pass", "{id}: {report:#}");
    }
    // Without a StatefulSet the declared side of the args is unknown, nothing fails.
    assert_eq!(code, 0, "{report:#}");
    let limitations: Vec<(String, String)> = report["limitations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["name"].as_str().unwrap().into(),
                l["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        limitations.contains(&("wal_archive".into(), "off".into())),
        "{limitations:?}"
    );
    assert!(
        limitations.contains(&("ha_replication".into(), "off".into())),
        "{limitations:?}"
    );
}

/// A server that wants a password (scram-sha-256 for the probe's role): the
/// password given in the connection string reaches psql — through a private
/// service file, never on psql's command line — and the probe answers; with
/// no password psql fails at once (`--no-password`), it never waits at a
/// prompt. No spelling of the password reaches anything ssot writes.
#[test]
fn a_password_reaches_the_server_and_nothing_else() {
    if skipped() {
        return;
    }
    let c = Cluster::start();
    c.sql("SET password_encryption = 'scram-sha-256'; CREATE ROLE probe LOGIN PASSWORD 'a b''c!9x' IN ROLE pg_monitor");
    let hba = c.data().join("pg_hba.conf");
    let old = fs::read_to_string(&hba).unwrap();
    fs::write(&hba, format!("local all probe scram-sha-256\n{old}")).unwrap();
    c.sql("SELECT pg_reload_conf()");
    let ops = Ops::new(&c, NO_VOLUME_RULES);
    for dsn in [
        format!(
            "host={} user=probe dbname=postgres password='a b\\'c!9x'",
            c.socket()
        ),
        format!(
            "postgresql://probe:a%20b'c!9x@/postgres?host={}",
            c.socket().replace('/', "%2F")
        ),
    ] {
        let (code, report) = ops.json(&["wal", "check", "--dsn", &dsn]);
        assert!(
            !rules(&report).contains(&"postgres_unreachable".to_string()),
            "{dsn}: {report}"
        );
        assert!(
            report["pg_ls_waldir"]["bytes"].as_u64().is_some(),
            "{report}"
        );
        assert!(code <= 1, "{report}");
        for f in ["wal.status", "gate.log"] {
            let text = fs::read_to_string(ops.state.join(f)).unwrap_or_default();
            assert!(!text.contains("c!9x"), "{f}: {text}");
        }
        let o = ops.run(&["report", "--dsn", &dsn, "--format", "json"]);
        assert!(!stdout(&o).contains("c!9x"));
    }
    let started = Instant::now();
    let (code, report) = ops.json(&[
        "wal",
        "check",
        "--dsn",
        &format!("host={} user=probe dbname=postgres", c.socket()),
    ]);
    eprintln!("no password: answered in {:?}", started.elapsed());
    assert_eq!(code, 2, "{report}");
    assert!(
        reason(&report, "postgres_auth_failed").contains("password"),
        "{report}"
    );
}

/// Issue "WAL truth": after `pg_ctl stop -m immediate`, `wal check --dsn`
/// recorded ERROR postgres_unreachable and `gate startup` (the systemd
/// ExecCondition) then denied the restart forever. The startup gate judges
/// what matters for a server that is not running; the backup gate still
/// denies. The restarted server clears the status at the next check.
#[test]
fn a_crashed_server_restarts_through_the_startup_gate() {
    if skipped() {
        return;
    }
    let c = Cluster::start();
    // The server went down holding WAL for a forgotten slot (found by
    // attack: the remembered slot then kept it from starting).
    c.sql("SELECT pg_create_physical_replication_slot('stuck', true)");
    let ops = Ops::new(&c, NO_VOLUME_RULES);
    let (code, report) = ops.json(&["wal", "check"]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(rules(&report), ["slot_inactive"], "{report}");
    c.stop();
    let (code, report) = ops.json(&["wal", "check"]);
    assert_eq!(code, 2, "{report}");
    assert_eq!(
        rules(&report),
        ["postgres_unreachable", "slot_inactive"],
        "{report}"
    );
    assert!(
        report
            .to_string()
            .contains("as the last probe that answered saw it at"),
        "{report}"
    );
    // The contract on a plain host is the host-deployment issue's; here it
    // holds, so only the WAL status decides.
    fs::write(
        ops.state.join("contract.status"),
        format!("contract_status=PASS\nchecked_at={}\n", real_now()),
    )
    .unwrap();
    let (code, decision) = ops.json(&["gate", "startup"]);
    assert_eq!(code, 0, "a crashed server must be startable: {decision:#}");
    let wal_ok = decision["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rule"] == "wal_status_ok")
        .unwrap()
        .to_string();
    assert!(wal_ok.contains("left out for startup"), "{wal_ok}");
    let target = ops.path("dumps");
    fs::create_dir(&target).unwrap();
    let (code, decision) = ops.json(&["gate", "backup", "--target", s(&target)]);
    assert_eq!(code, 1, "{decision:#}");
    assert!(
        decision.to_string().contains("postgres_unreachable"),
        "{decision:#}"
    );
    c.start_again("");
    c.sql("SELECT pg_drop_replication_slot('stuck')");
    let (code, report) = ops.json(&["wal", "check"]);
    assert_eq!(code, 0, "back to OK once it answers: {report}");
}

/// A role without pg_monitor is not an unreachable server: its own rule and
/// advice (the issue saw "permission denied for function pg_ls_waldir" as
/// postgres_unreachable).
#[test]
fn a_probe_without_pg_monitor_says_so() {
    if skipped() {
        return;
    }
    let c = Cluster::start();
    c.sql("CREATE ROLE weak LOGIN");
    let ops = Ops::new(&c, NO_VOLUME_RULES);
    let (code, report) = ops.json(&[
        "wal",
        "check",
        "--dsn",
        &format!("host={} user=weak dbname=postgres", c.socket()),
    ]);
    assert_eq!(code, 2, "{report}");
    assert_eq!(rules(&report), ["postgres_privilege_missing"], "{report}");
    let why = reason(&report, "postgres_privilege_missing");
    assert!(
        why.contains("permission denied") && why.contains("GRANT pg_monitor"),
        "{why}"
    );
}

/// Issue "WAL truth": a gated `pg_dump` against a frozen (SIGSTOPped)
/// postmaster one minute after an OK check was allowed and hung with the
/// lock. With a DSN configured the backup gate makes its own bounded
/// liveness probe and denies, naming the server.
#[test]
fn a_frozen_server_is_denied_by_the_backup_gate() {
    if skipped() {
        return;
    }
    let c = Cluster::start();
    let ops = Ops::new(&c, NO_VOLUME_RULES);
    let (code, report) = ops.json(&["wal", "check"]);
    assert_eq!(code, 0, "{report}");
    let pid: i32 = fs::read_to_string(c.data().join("postmaster.pid"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let target = ops.path("dumps");
    fs::create_dir(&target).unwrap();
    /// Sends SIGCONT when dropped: the server thaws even if the test fails.
    struct Frozen(nix::unistd::Pid);
    impl Drop for Frozen {
        fn drop(&mut self) {
            let _ = nix::sys::signal::kill(self.0, nix::sys::signal::Signal::SIGCONT);
        }
    }
    let pid = nix::unistd::Pid::from_raw(pid);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGSTOP).unwrap();
    let frozen = Frozen(pid);
    let started = Instant::now();
    let (code, decision) = ops.json(&["gate", "backup", "--target", s(&target)]);
    let took = started.elapsed();
    drop(frozen);
    eprintln!("a frozen server: the backup gate decided in {took:?}");
    assert_eq!(code, 1, "{decision:#}");
    let why = decision["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rule"] == "postgres_answers")
        .unwrap_or_else(|| panic!("no liveness check: {decision:#}"))
        .to_string();
    assert!(
        why.contains("\"passed\":false") && why.contains(&c.socket()),
        "{why}"
    );

    // The server freezes after the gate allowed: a gated command given a
    // time limit is ended with its group, and the lock goes with it. A
    // backup the gate may allow lives off PGDATA's filesystem.
    let Some(off) = other_filesystem_dir(&c.data()) else {
        eprintln!("skipped the time limit: no filesystem other than PGDATA's here");
        return;
    };
    let target = off.path().to_path_buf();
    let frozen = Frozen(pid);
    let script = format!(
        "kill -STOP {} && exec {} -d '{}' -f /dev/null",
        pid,
        c.bin.join("pg_dump").display(),
        c.dsn()
    );
    let o = ops.run(&[
        "gate",
        "backup",
        "--target",
        s(&target),
        "--time-limit",
        "3s",
        "--",
        "sh",
        "-c",
        &script,
    ]);
    drop(frozen);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        matches!(o.status.code(), Some(143 | 137)),
        "{:?}\n{err}",
        o.status
    );
    assert!(err.contains("ran past its time limit of 3s"), "{err}");
    let (code, decision) = ops.json(&["gate", "backup", "--target", s(&target)]);
    assert_eq!(code, 0, "the lock outlived the command: {decision:#}");
}

/// Issue "runs on the hosts it promises": without a StatefulSet the contract
/// stayed UNKNOWN, so `gate startup` always denied on a plain host. Its truth
/// is the configuration PostgreSQL reads (here PGDATA's postgresql.conf with
/// an include_dir holding the seed's WAL settings, as Debian's conf.d): with
/// the server running them the contract PASSes and the server may start. An
/// ALTER SYSTEM override then fails it, naming the postgresql.auto.conf line.
#[test]
fn a_plain_host_reaches_contract_pass_and_may_start() {
    if skipped() {
        return;
    }
    let c = Cluster::stopped();
    let conf = c.data().join("postgresql.conf");
    let mut text = fs::read_to_string(&conf).unwrap();
    text.push_str("include_dir = 'conf.d'\n");
    fs::write(&conf, text).unwrap();
    let dir = c.data().join("conf.d");
    fs::create_dir(&dir).unwrap();
    let seed = dir.join("ssot.conf");
    fs::write(
        &seed,
        "max_wal_size = 4GB\nmin_wal_size = 1GB\nwal_keep_size = 0\ncheckpoint_timeout = 5min\n",
    )
    .unwrap();
    c.give(&dir);
    c.give(&seed);
    c.start_as_configured();
    let ops = Ops::new(&c, NO_VOLUME_RULES);
    let (code, contract) = ops.json(&["contract", "check"]);
    assert_eq!(code, 0, "{contract:#}");
    assert_eq!(contract["status"], "PASS", "{contract:#}");
    assert_eq!(contract["deployment"], "host");
    let evidence = contract["invariants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "conf.max_wal_size")
        .unwrap()["evidence"]
        .to_string();
    assert!(evidence.contains("conf.d/ssot.conf:1"), "{evidence}");
    let (code, wal) = ops.json(&["wal", "check"]);
    assert_eq!(code, 0, "{wal:#}");
    let (code, decision) = ops.json(&["gate", "startup"]);
    assert_eq!(code, 0, "{decision:#}");

    c.sql("ALTER SYSTEM SET max_wal_size = '8GB'");
    c.sql("SELECT pg_reload_conf()");
    // The reload is asynchronous: wait for it (a hang fails the test).
    let start = Instant::now();
    while c.sql("SHOW max_wal_size").trim() != "8GB" {
        assert!(start.elapsed() < HANG, "the server never reloaded");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
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
        ["runtime.max_wal_size", "auto_conf.no_wal_override"],
        "{contract:#}"
    );
    assert!(
        contract
            .to_string()
            .contains("postgresql.auto.conf:3 max_wal_size = '8GB'"),
        "{contract:#}"
    );
    let (code, _) = ops.json(&["gate", "startup"]);
    assert_eq!(code, 1, "a drifted contract keeps the gate closed");
}
