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

/// `gate startup` (JSON) over a hand-written `wal.status` whose lines after
/// `checked_at` are `rest`, beside a fresh passing contract.
fn startup_over(w: &World, cfg: &Path, rest: &str) -> Output {
    let now = real_now();
    w.write_state(
        "wal.status",
        &format!("wal_status=ERROR\nchecked_at={now}\n{rest}"),
    );
    w.write_state(
        "contract.status",
        &format!("contract_status=PASS\nchecked_at={now}\n"),
    );
    at_real_time(w, cfg, &["gate", "startup", "--format", "json"])
}

/// A status whose only problem is the probe, next to a full volume: the
/// volume still keeps the server from starting (only the probe's rules are
/// left out).
#[test]
fn startup_still_waits_for_a_full_volume() {
    let w = World::new();
    let (_, cfg) = sandbox(&w);
    let o = startup_over(
        &w,
        &cfg,
        "active_rules=volume_used_error,postgres_unreachable\n\
         reason_count=2\nreason.1=ERROR volume_used_error: volume holding pg_wal is 95% used, error threshold 90%\n\
         reason.2=ERROR postgres_unreachable: PostgreSQL at host=/run/postgresql did not answer the live probe\n",
    );
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    let why = denial(&json(&o), "wal_status_ok");
    assert!(why.contains("volume_used_error"), "{why}");
}

/// Found by attack: a server that went down with an inactive slot, a lost
/// slot or a failing archiver is still described by the last probe that
/// answered (dated), and `gate startup` then denied the restart forever — a
/// slot can only be dropped while the server runs. Those facts are left out
/// for startup when the server does not answer; a full volume is not.
#[test]
fn what_the_last_probe_saw_never_keeps_a_server_down() {
    let w = World::new();
    let (_, cfg) = sandbox(&w);
    let o = startup_over(
        &w,
        &cfg,
        "active_rules=postgres_unreachable,slot_lost,slot_inactive,archiver_failing
         reason_count=4
         reason.1=ERROR postgres_unreachable: PostgreSQL at host=/run/postgresql did not answer the live probe
         reason.2=ERROR slot_lost: replication slot \"ghost\" is lost (as the last probe that answered saw it at 2026-12-01T00:00:00Z)
         reason.3=GROWING slot_inactive: replication slot \"stuck\" is inactive and holds WAL back (as the last probe that answered saw it at 2026-12-01T00:00:00Z)
         reason.4=GROWING archiver_failing: the archiver was failing when the last probe that answered saw it at 2026-12-01T00:00:00Z
",
    );
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    let d = json(&o);
    let note = d["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rule"] == "wal_status_ok")
        .unwrap()["message"]
        .to_string();
    assert!(
        note.contains("slot_lost") && note.contains("left out"),
        "{note}"
    );
    // With a full volume beside them, the volume still decides.
    let o = startup_over(
        &w,
        &cfg,
        "active_rules=postgres_unreachable,slot_inactive,volume_used_error
         reason_count=3
         reason.1=ERROR postgres_unreachable: PostgreSQL at host=/run/postgresql did not answer the live probe
         reason.2=GROWING slot_inactive: replication slot \"stuck\" is inactive and holds WAL back
         reason.3=ERROR volume_used_error: volume holding pg_wal is 95% used, error threshold 90%
",
    );
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    // A server that answers and has a lost slot: nothing is left out.
    let o = startup_over(
        &w,
        &cfg,
        "active_rules=slot_lost
reason_count=1
         reason.1=ERROR slot_lost: replication slot \"ghost\" is lost
",
    );
    assert_eq!(code(&o), 1, "{}", stdout(&o));
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
        report_section(&o, "gates")
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
    // The configured target spelled with a trailing slash is the same target.
    let g = gates(&line("2026-02-05T11:58:00Z", "/backup//dumps/", false));
    assert!(
        g["summary"].to_string().contains("backup blocked now"),
        "{g:#}"
    );
}

/// `wal check` with the sandbox's PGDATA, at the real time: exit code and
/// the recorded `wal.status`.
fn check_and_status(w: &World, cfg: &Path, pgdata: &Path, extra: &[&str]) -> (i32, String) {
    let mut args = vec!["wal", "check", "--pgdata", s(pgdata)];
    args.extend(extra);
    let o = at_real_time(w, cfg, &args);
    let status = fs::read_to_string(w.state.join("wal.status")).unwrap_or_default();
    (code(&o), format!("{status}\n{}{}", stdout(&o), stderr(&o)))
}

/// Found by attack: a `pg_tblspc` entry that is not a tablespace link (a
/// name that is no OID, a link to a file, a dangling `pg_tblspc`, plain
/// files in it) was measured as a tablespace, passed over, or made `wal
/// check` exit 3 without writing — leaving the previous OK standing for the
/// gates. Each is a failed measurement, recorded.
#[test]
fn a_pg_tblspc_that_is_not_tablespace_links_fails_the_measurement() {
    let w = World::new();
    let (pgdata, cfg) = sandbox(&w);
    let tblspc = pgdata.join("pg_tblspc");
    let elsewhere = w.path("elsewhere");
    fs::create_dir_all(elsewhere.join("dir")).unwrap();
    fs::write(elsewhere.join("file"), "x").unwrap();
    type Plant<'a> = Box<dyn Fn() + 'a>;
    let cases: Vec<(&str, Plant)> = vec![
        (
            "a name that is no OID",
            Box::new(|| {
                std::os::unix::fs::symlink(elsewhere.join("dir"), tblspc.join("16385 ")).unwrap()
            }),
        ),
        (
            "a link to a file",
            Box::new(|| {
                std::os::unix::fs::symlink(elsewhere.join("file"), tblspc.join("16386")).unwrap()
            }),
        ),
        (
            "an OID spelled with a leading zero",
            Box::new(|| {
                std::os::unix::fs::symlink(elsewhere.join("dir"), tblspc.join("016388")).unwrap()
            }),
        ),
        (
            "a plain file",
            Box::new(|| fs::write(tblspc.join("16387"), "x").unwrap()),
        ),
    ];
    for (what, plant) in cases {
        let _ = fs::remove_dir_all(&tblspc);
        fs::create_dir(&tblspc).unwrap();
        let (c, _) = check_and_status(&w, &cfg, &pgdata, &[]);
        assert_eq!(c, 0, "{what}: a clean pg_tblspc first");
        plant();
        let (c, out) = check_and_status(&w, &cfg, &pgdata, &[]);
        assert_eq!(c, 2, "{what}: {out}");
        assert!(
            out.contains("wal_status=ERROR") && out.contains("measurement_failed"),
            "{what}: {out}"
        );
    }
    fs::remove_dir_all(&tblspc).unwrap();
    std::os::unix::fs::symlink(w.path("nowhere"), &tblspc).unwrap();
    let (c, out) = check_and_status(&w, &cfg, &pgdata, &[]);
    assert_eq!(c, 2, "a dangling pg_tblspc: {out}");
    assert!(out.contains("wal_status=ERROR"), "{out}");
}

/// Found by attack: a DSN with a line break put the break into a reason;
/// the status could not be written, `wal check` exited 3 and the previous
/// OK `wal.status` kept the gates open. The reason is escaped onto one line.
#[test]
fn a_dsn_with_a_line_break_still_records_the_status() {
    let w = World::new();
    let (pgdata, cfg) = sandbox(&w);
    let (c, _) = check_and_status(&w, &cfg, &pgdata, &[]);
    assert_eq!(c, 0);
    let dsn = format!(
        "host='{}\nreason.9=x' user=postgres",
        w.path("no-server").display()
    );
    let (c, out) = check_and_status(&w, &cfg, &pgdata, &["--dsn", &dsn]);
    assert_eq!(c, 2, "{out}");
    let status = fs::read_to_string(w.state.join("wal.status")).unwrap();
    assert!(status.contains("wal_status=ERROR"), "{status}");
    assert!(
        !status.lines().any(|l| l.starts_with("reason.9=")),
        "{status}"
    );
}

/// Found by attack: a DSN that is not UTF-8 (`$SSOT_DSN` in a unit file,
/// `--dsn` from a script) was a usage error: `wal check` exited 3 without
/// writing, and the previous OK `wal.status` kept the backup gate open until
/// it went stale. It is probed like any DSN; the probe fails and says so.
#[test]
fn a_dsn_that_is_not_utf8_still_records_the_status() {
    use std::os::unix::ffi::OsStrExt;
    let w = World::new();
    let (pgdata, cfg) = sandbox(&w);
    let (c, _) = check_and_status(&w, &cfg, &pgdata, &[]);
    assert_eq!(c, 0);
    let mut dsn = format!("host={} user=postgres", w.path("no-server").display()).into_bytes();
    dsn.push(0xff);
    let bad = std::ffi::OsStr::from_bytes(&dsn);
    for how in ["env", "flag"] {
        let mut cmd = ssot();
        cmd.args(["--state", s(&w.state), "--config", s(&cfg)])
            .args(["wal", "check", "--pgdata", s(&pgdata)])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        if how == "env" {
            cmd.env("SSOT_DSN", bad);
        } else {
            cmd.arg("--dsn").arg(bad);
        }
        let o = wait_or_kill(cmd.spawn().unwrap(), HANG, "wal check");
        assert_eq!(code(&o), 2, "{how}: {}", stderr(&o));
        let status = fs::read_to_string(w.state.join("wal.status")).unwrap();
        assert!(
            status.contains("wal_status=ERROR") && status.contains("postgres_unreachable"),
            "{how}: {status}"
        );
        let (c, _) = check_and_status(&w, &cfg, &pgdata, &[]);
        assert_eq!(c, 0);
    }
}

/// Found by attack: a `wal.probe` ssot cannot trust (group- or
/// world-writable, a symlink) was skipped without a word; it is named in a
/// note. One written for another PGDATA at the same DSN (a new cluster on
/// the same socket) is not shown as this server's.
#[test]
fn a_last_probe_that_cannot_be_trusted_or_is_another_servers_is_not_shown() {
    use std::os::unix::fs::PermissionsExt;
    let w = World::new();
    let (pgdata, cfg) = sandbox(&w);
    let dsn = format!("host={} user=postgres", w.path("no-server").display());
    let server = format!("host={} user=postgres", w.path("no-server").display());
    let probe = |pgdata_field: &str| {
        format!(
            "{{\"probed_at\":\"2026-01-01T00:00:00Z\",\"server\":\"{server}\",{pgdata_field}\
             \"slots\":[{{\"name\":\"ghost\",\"active\":false,\"wal_status\":\"lost\",\"retained_bytes\":1}}]}}\n"
        )
    };
    let path = w.state.join("wal.probe");
    w.write_state("wal.probe", &probe(""));
    fs::set_permissions(&path, fs::Permissions::from_mode(0o666)).unwrap();
    let (c, out) = check_and_status(&w, &cfg, &pgdata, &["--dsn", &dsn]);
    assert_eq!(c, 2, "{out}");
    assert!(!out.contains("ghost"), "{out}");
    assert!(
        out.contains("wal.probe") && out.contains("not usable"),
        "{out}"
    );
    // Trusted, written for this PGDATA: the slot is shown, dated.
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    let this = format!("\"pgdata\":\"{}\",", pgdata.display());
    w.write_state("wal.probe", &probe(&this));
    let (_, out) = check_and_status(&w, &cfg, &pgdata, &["--dsn", &dsn]);
    assert!(
        out.contains("\"ghost\" is lost") || out.contains("ghost"),
        "{out}"
    );
    // Another PGDATA at the same DSN: another server.
    w.write_state("wal.probe", &probe("\"pgdata\":\"/elsewhere\","));
    let (_, out) = check_and_status(&w, &cfg, &pgdata, &["--dsn", &dsn]);
    assert!(!out.contains("ghost"), "{out}");
}

/// Found by attack: the state file escaped control characters, but the text
/// of `wal check` printed a quoted newline in the DSN raw, so a line reading
/// `wal_status=OK` appeared on stdout. The server is named on one line.
#[test]
fn a_dsn_with_a_line_break_prints_on_one_line() {
    let w = World::new();
    let (pgdata, cfg) = sandbox(&w);
    let dsn = format!(
        "host={} dbname='a\nwal_status=OK\u{1b}[2J'",
        w.path("no-server").display()
    );
    let (c, out) = check_and_status(&w, &cfg, &pgdata, &["--dsn", &dsn]);
    assert_eq!(c, 2, "{out}");
    assert!(
        !out.lines().any(|l| l.starts_with("wal_status=OK")),
        "{out}"
    );
    assert!(!out.contains('\u{1b}'), "{out}");
    assert!(out.contains("a\\nwal_status=OK"), "{out}");
}

/// Found by attack: `active_rules=postgres_unreachable` beside a reason line
/// `ERROR volume_used_error: …` made `gate startup` allowed, the line
/// silently dropped. A reason line must name an active rule at its level.
#[test]
fn a_reason_line_outside_active_rules_is_corrupt() {
    let w = World::new();
    let (_, cfg) = sandbox(&w);
    let o = startup_over(
        &w,
        &cfg,
        "active_rules=postgres_unreachable\n\
         reason_count=2\nreason.1=ERROR postgres_unreachable: PostgreSQL at host=/run/postgresql did not answer\n\
         reason.2=ERROR volume_used_error: volume holding pg_wal is 99% used, error threshold 90%\n",
    );
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    let why = denial(&json(&o), "wal_status_corrupt");
    assert!(why.contains("reason.2"), "{why}");
}

/// Found by attack: `--slots` that cannot be read made `wal check` exit 3
/// without writing, leaving the previous OK standing for the gates. It is a
/// failed measurement, recorded.
#[test]
fn slots_that_cannot_be_read_fail_the_measurement() {
    let w = World::new();
    let (pgdata, cfg) = sandbox(&w);
    let (c, _) = check_and_status(&w, &cfg, &pgdata, &[]);
    assert_eq!(c, 0);
    let garbage = w.path("slots.csv");
    fs::write(&garbage, "garbage\n").unwrap();
    let missing = w.path("no-such-slots.csv");
    for slots in [&garbage, &missing] {
        let (c, out) = check_and_status(&w, &cfg, &pgdata, &["--slots", s(slots)]);
        assert_eq!(c, 2, "{out}");
        assert!(
            out.contains("wal_status=ERROR") && out.contains("replication slots given"),
            "{out}"
        );
    }
}

/// Found by attack: a denial of the configured target reached through a
/// symlink, `..` or a relative path was not "blocked now" in the report.
/// The gate records the target's real path, and the report resolves the
/// configured one.
#[test]
fn blocked_now_follows_the_real_target_however_it_is_spelled() {
    let w = World::new();
    let real = w.path("dumps");
    fs::create_dir(&real).unwrap();
    let link = w.path("link-to-dumps");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let cfg = w.path("ssot.toml");
    fs::write(
        &cfg,
        format!("[gate.targets]\nbackup = \"{}\"\n", real.display()),
    )
    .unwrap();
    for spelled in [
        link.display().to_string(),
        format!("{}/../dumps", real.display()),
    ] {
        fs::remove_file(w.state.join("gate.log")).ok();
        // Denied: there is no wal.status.
        let o = at_real_time(&w, &cfg, &["gate", "backup", "--target", &spelled]);
        assert_eq!(code(&o), 1, "{}", stdout(&o));
        let o = at_real_time(&w, &cfg, &["report", "--format", "json"]);
        let gates = report_section(&o, "gates");
        assert!(
            gates["summary"].to_string().contains("backup blocked now"),
            "{spelled}: {gates:#}"
        );
    }
}

/// Issue "WAL truth": ssot's used % counts root-reserved blocks as used, so
/// it differs from `df`'s Use%. On a real loop-mounted ext4 (5 % reserved)
/// `wal check` shows both: `df_used_pct` is exactly `df`'s figure, and the
/// thresholds' `wal_used_pct` is the higher one.
#[test]
fn df_use_and_ssot_use_are_both_shown_on_ext4_with_reserved_blocks() {
    let w = World::new();
    let img = w.path("ext4.img");
    fs::File::create(&img).unwrap().set_len(64 << 20).unwrap();
    let made = std::process::Command::new("mkfs.ext4")
        .args(["-q", "-F", "-m", "5"])
        .arg(&img)
        .status()
        .is_ok_and(|s| s.success());
    if !made {
        eprintln!("skipped: mkfs.ext4 is not available here");
        return;
    }
    let mnt = w.path("ext4");
    fs::create_dir(&mnt).unwrap();
    let Some(_mounted) = mount(&["-o", "loop", s(&img)], &mnt) else {
        return;
    };
    let pgdata = mnt.join("pgdata");
    fs::create_dir_all(pgdata.join("pg_wal")).unwrap();
    fs::write(mnt.join("fill"), vec![7u8; 30 << 20]).unwrap();
    let cfg = w.path("ssot.toml");
    fs::write(&cfg, NO_VOLUME_RULES).unwrap();
    let o = at_real_time(
        &w,
        &cfg,
        &["wal", "check", "--pgdata", s(&pgdata), "--format", "json"],
    );
    assert!(code(&o) <= 2, "{}{}", stdout(&o), stderr(&o));
    let v = json(&o);
    let df = std::process::Command::new("df")
        .args(["--output=pcent"])
        .arg(&mnt)
        .output()
        .unwrap();
    let df_pct: f64 = String::from_utf8_lossy(&df.stdout)
        .lines()
        .nth(1)
        .unwrap()
        .trim()
        .trim_end_matches('%')
        .parse()
        .unwrap();
    let ours = v["wal_used_pct"].as_f64().unwrap();
    eprintln!(
        "ext4, 5% reserved: df Use% {df_pct}, ssot's df_used_pct {}, ssot's wal_used_pct {ours}",
        v["df_used_pct"]
    );
    assert_eq!(v["df_used_pct"].as_f64(), Some(df_pct), "{v:#}");
    assert!(ours > df_pct, "the reserve counts as used: {v:#}");
    let text = at_real_time(&w, &cfg, &["wal", "check", "--pgdata", s(&pgdata)]);
    assert!(
        stdout(&text).contains(&format!(", df {}%", df_pct as u64)),
        "{}",
        stdout(&text)
    );
}
