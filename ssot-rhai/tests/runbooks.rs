//! Runbooks as `ssot run` runs them: limits, error positions, exit codes,
//! and the rule that a gate cannot be skipped. Whole operations run on the
//! core's in-memory host (no disk, a fixed clock), commands are real.

#[path = "../../ssot-core/tests/mem/mod.rs"]
#[allow(dead_code)]
mod mem;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use mem::World;
use ssot_core::config::Config;
use ssot_rhai::{Ending, Host, Level, Limits};

fn t0() -> DateTime<Utc> {
    "2026-02-05T12:00:00Z".parse().unwrap()
}

/// The core tests' standard world, with 6 WAL segments in pg_wal.
fn world() -> (World, Config) {
    let (w, cfg) = mem::standard_world(t0());
    w.set_segments("/pgdata", 6);
    (w, cfg)
}

struct Run {
    ending: Ending,
    lines: Vec<(Level, String)>,
}

impl Run {
    fn output(&self) -> Vec<&str> {
        self.lines
            .iter()
            .filter(|(l, _)| *l == Level::Output)
            .map(|(_, m)| m.as_str())
            .collect()
    }
    fn error(&self) -> &ssot_rhai::ScriptError {
        match &self.ending {
            Ending::Error(e) => e,
            other => panic!(
                "expected a script error, got {other:?}; log {:?}",
                self.lines
            ),
        }
    }
}

fn run_with(script: &str, limits: Limits) -> Run {
    let (w, cfg) = world();
    run_in(&w, cfg, script, limits)
}

fn run_in(w: &World, cfg: Config, script: &str, limits: Limits) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runbook.rhai");
    std::fs::write(&path, script).unwrap();
    let mut host = Host::new(w.ssot(cfg, t0()), Some(t0()), Box::new(|_, _| {}));
    host.keep_lines = true;
    let ran = ssot_rhai::run_file(&path, host, &limits, Default::default());
    let lines = ran.host.map(|h| h.lines()).unwrap_or_default();
    Run {
        ending: ran.ending,
        lines,
    }
}

fn run(script: &str) -> Run {
    run_with(script, Limits::default())
}

// --- exit codes --------------------------------------------------------------

#[test]
fn the_exit_code_is_the_runbooks() {
    assert_eq!(run("let x = 1;").ending.exit_code(), 0);
    assert_eq!(run("exit(3);").ending.exit_code(), 3);
    assert_eq!(
        run("fn f() { exit(7); } f(); exit(0);").ending.exit_code(),
        7
    );
    // exit is not an error a script can catch.
    assert_eq!(
        run("try { exit(5); } catch { exit(9); }")
            .ending
            .exit_code(),
        5
    );
    let reserved = run("exit(124);");
    assert_eq!(reserved.ending.exit_code(), 125);
    assert!(
        reserved.error().message.contains("reserved"),
        "{:?}",
        reserved.error()
    );
}

// --- error positions ---------------------------------------------------------

#[test]
fn a_syntax_error_names_line_and_column() {
    let r = run("let a = 1;\nlet b = (2 +;\n");
    let e = r.error();
    assert_eq!((e.line, e.column), (Some(2), Some(13)), "{e}");
    assert!(
        e.to_string().contains("runbook.rhai:2:13: syntax error"),
        "{e}"
    );
    assert_eq!(r.ending.exit_code(), 125);
    // The same from `ssot run --check`.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.rhai");
    std::fs::write(&p, "let a = 1;\nlet b = (2 +;\n").unwrap();
    let e = ssot_rhai::check_file(&p).unwrap_err();
    assert_eq!((e.line, e.column), (Some(2), Some(13)));
}

#[test]
fn a_runtime_error_names_where_the_runbook_called() {
    let r = run("let x = 1;\n\nlet p = plan_retention(#{ profile: \"nightly\" });\n");
    let e = r.error();
    assert_eq!(e.line, Some(3), "{e}");
    assert!(
        e.message.contains("no retention profile \"nightly\""),
        "{e}"
    );
    let r = run("fn inner() {\n  gate(\"bakup\")\n}\ninner();\n");
    let e = r.error();
    assert!(e.message.contains("invalid operation \"bakup\""), "{e}");
    assert!(e.line.is_some(), "{e}");
}

// --- limits ------------------------------------------------------------------

#[test]
fn an_infinite_loop_stops_at_the_timeout() {
    let limits = Limits {
        timeout: Duration::from_millis(300),
        max_operations: u64::MAX,
        ..Limits::default()
    };
    let started = Instant::now();
    let r = run_with("let i = 0; loop { i += 1; }", limits);
    // A hang detector, not a speed claim: stopped at all, and by the timeout.
    assert!(started.elapsed() < Duration::from_secs(60));
    assert!(
        r.error().message.contains("longer than its timeout"),
        "{}",
        r.error()
    );
}

#[test]
fn operations_are_limited() {
    let limits = Limits {
        max_operations: 10_000,
        ..Limits::default()
    };
    let r = run_with("let i = 0; while true { i += 1; }", limits);
    assert!(
        r.error().message.contains("Too many operations"),
        "{}",
        r.error()
    );
}

#[test]
fn deep_recursion_is_limited() {
    let r = run("fn f(n) { f(n + 1) } f(0);");
    let m = &r.error().message;
    assert!(m.contains("Stack overflow") || m.contains("call"), "{m}");
}

#[test]
fn a_huge_string_is_limited() {
    let limits = Limits {
        max_string_size: 1 << 20,
        ..Limits::default()
    };
    let r = run_with("let s = \"x\"; while true { s += s; }", limits);
    assert!(r.error().message.contains("too large"), "{}", r.error());
}

#[test]
fn huge_arrays_and_maps_are_limited() {
    let limits = Limits {
        max_array_size: 1000,
        max_map_size: 1000,
        ..Limits::default()
    };
    let r = run_with(
        "let a = []; for i in 0..100000 { a.push(i); } print(a.len());",
        limits.clone(),
    );
    assert!(r.error().message.contains("too large"), "{}", r.error());
    let r = run_with(
        "let m = #{}; for i in 0..100000 { m[`k${i}`] = i; } print(m.len());",
        limits,
    );
    assert!(r.error().message.contains("too large"), "{}", r.error());
}

#[test]
fn no_imports_and_no_eval() {
    let r = run("import \"other\" as o;");
    assert!(
        r.error().message.to_lowercase().contains("module"),
        "{}",
        r.error()
    );
    let r = run("eval(\"exit(9)\");");
    assert_ne!(r.ending.exit_code(), 9);
    assert_eq!(r.ending.exit_code(), 125, "{:?}", r.error());
}

// --- gates cannot be skipped -------------------------------------------------

/// wal.status fresh and OK, so the backup gate allows on the separate backup volume.
fn healthy() -> (World, Config) {
    let (w, cfg) = world();
    let ssot = w.ssot(cfg.clone(), t0());
    let _ = ssot
        .check_wal(&ssot_core::WalCheckRequest::default(), t0())
        .unwrap();
    (w, cfg)
}

#[test]
fn an_uncaught_denial_stops_the_runbook_with_124() {
    // No wal.status: the gate denies; nothing after it runs.
    let r = run("print(\"before\");\nlet d = gate(\"backup\");\nprint(\"after\");\n");
    assert!(matches!(r.ending, Ending::Denied(ref t) if t.contains("DENY wal_status_missing")));
    assert_eq!(r.ending.exit_code(), 124);
    assert_eq!(r.output(), ["before"]);
}

#[test]
fn a_caught_denial_cannot_run_the_gated_command() {
    let r = run(
        "try { gate(\"backup\"); } catch (d) {\n  print(`denied: ${d.reasons[0].rule}`);\n  d.run(\"true\", []);\n}\n",
    );
    assert_eq!(r.output(), ["denied: wal_status_missing"]);
    let e = r.error();
    assert!(
        e.message
            .contains("gate backup was DENIED: true is not run"),
        "{e}"
    );
    assert_eq!(e.line, Some(3), "{e}");
}

#[test]
fn a_gated_program_is_refused_outside_a_decision() {
    let (w, cfg) = healthy();
    let r = run_in(
        &w,
        cfg,
        "run(\"/usr/bin/pg_dump\", [\"trading\"]);",
        Limits::default(),
    );
    assert!(
        r.error().message.contains("performs a gated operation"),
        "{}",
        r.error()
    );
}

#[test]
fn an_allowed_decision_runs_under_the_lock_until_released() {
    let (w, cfg) = healthy();
    let r = run_in(
        &w,
        cfg,
        r#"
        let d = gate("backup");
        print(`allowed ${d.allowed}, held ${d.held}`);
        let out = d.run("sh", ["-c", "echo dumped; exit 3"]);
        print(`code ${out.code}: ${out.stdout}`);
        try { gate("backup"); } catch (other) { print(`second: ${other.reasons[0].rule}`); }
        d.release();
        try { d.run("true", []); } catch (e) { print(`after release: ${e}`); }
        print(`again: ${gate("backup").allowed}`);
        "#,
        Limits::default(),
    );
    assert_eq!(r.ending.exit_code(), 0, "{:?}", r.lines);
    let out = r.output();
    assert_eq!(out[0], "allowed true, held true");
    assert_eq!(out[1], "code 3: dumped\n");
    assert_eq!(out[2], "second: operation_lock");
    assert!(out[3].starts_with("after release: gate backup's operation lock was released"));
    assert_eq!(out[4], "again: true");
    // Each command is logged with the gate it ran under.
    assert!(r.lines.iter().any(
        |(l, m)| *l == Level::Info && m == "run sh -c echo dumped; exit 3 (under gate backup)"
    ));
}

#[test]
fn a_command_that_outlives_its_timeout_is_killed() {
    let (w, cfg) = world();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rb.rhai");
    std::fs::write(&path, "run(\"sleep\", [\"30\"]);").unwrap();
    let mut host = Host::new(w.ssot(cfg, t0()), Some(t0()), Box::new(|_, _| {}));
    host.command_timeout = Duration::from_millis(200);
    let started = Instant::now();
    let ran = ssot_rhai::run_file(&path, host, &Limits::default(), Default::default());
    assert!(started.elapsed() < Duration::from_secs(20));
    match ran.ending {
        Ending::Error(e) => assert!(e.message.contains("was killed"), "{e}"),
        other => panic!("{other:?}"),
    }
}

// --- the API, as a runbook uses it ------------------------------------------------

#[test]
fn a_day_in_a_runbook() {
    let (w, cfg) = world();
    let r = run_in(
        &w,
        cfg,
        r#"
        let wal = check_wal();
        print(`${wal.status} ${wal.exit_code}`);
        let t = parse_time("2026-02-05T11:00:00Z");
        print(`${t + duration("1h") == now()} ${(now() - t).seconds}`);
        print(now().format("%Y%m%d_%H%M%S"));
        let r = report();
        print(r.verdict);
        print(`${status().files["wal.status"].state}`);
        print(config().gate.targets.backup);
        let plan = plan_retention(#{ dir: "/backup/dumps", policy: #{ keep_last: 1 } });
        print(`${plan.summary.total} ${plan.exit_code}`);
        let c = check_contract(#{});
        print(c.status);
        "#,
        Limits::default(),
    );
    assert_eq!(r.ending.exit_code(), 0, "{:?}", r.lines);
    assert_eq!(
        r.output(),
        [
            "OK 0",
            "true 3600",
            "20260205_120000",
            "DEGRADED",
            "present",
            "/backup/dumps",
            "0 0",
            "UNKNOWN"
        ]
    );
}

/// Issue "Retention and evidence": `verify()` re-reads recorded backups, and
/// a drill works only in a scratch directory ssot created and marked.
#[test]
fn a_runbook_verifies_backups_and_drills_only_in_its_own_scratch() {
    let (w, cfg) = world();
    w.file_sized("/backup/dumps/d1.sql.gz", b"whole", 5, t0());
    w.mkdir("/backup/scratch/ssot-drill");
    let script = r#"
        record_backup(#{ artifact: "d1.sql.gz", location: "/backup/dumps", pgdata: "/pgdata" });
        let v = verify();
        print(`${v.failed} ${v.exit_code}`);
        let work = drill_scratch("/backup", #{});
        print(work);
        remove_drill_scratch(work);
        drill_scratch("/backup/scratch", #{});
        "#;
    let r = run_in(&w, cfg.clone(), script, Limits::default());
    assert_eq!(r.output(), ["0 0", "/backup/ssot-drill"], "{:?}", r.lines);
    assert!(
        r.error().message.contains("carries no .ssot-drill-scratch"),
        "{:?}",
        r.error()
    );
    w.file_sized("/backup/dumps/d1.sql.gz", b"other", 5, t0());
    let r = run_in(
        &w,
        cfg,
        "let v = verify(); print(`${v.failed} ${v.exit_code}`);",
        Limits::default(),
    );
    assert_eq!(r.output(), ["1 1"], "{:?}", r.lines);
}

#[test]
fn results_are_read_only() {
    let r = run("let p = plan_retention([], #{}, now());\np.plan_hash = \"x\";\n");
    assert_eq!(r.ending.exit_code(), 125);
    assert_eq!(r.error().line, Some(2), "{}", r.error());
}

#[test]
fn a_runbook_probes_the_live_server_with_the_same_calls() {
    let (w, cfg) = world();
    w.set_server(Some(
        Err("FATAL: the database system is starting up".into()),
    ));
    let r = run_in(
        &w,
        cfg,
        r#"
        let c = check_wal(#{ dsn: "host=/run/pg user=postgres" });
        print(`${c.status} ${c.reasons[0].rule}`);
        print(report(#{ dsn: "host=/run/pg user=postgres" }).to_map().sections.filter(|s| s.name == "postgres")[0].status);
        "#,
        Limits::default(),
    );
    assert_eq!(r.ending.exit_code(), 0, "{:?}", r.lines);
    // A server starting up answered: not "unreachable", and not refused either.
    assert_eq!(r.output(), ["ERROR postgres_starting", "DOWN"]);
}

/// Writes the state file `name` holding `first` and `checked_at` at t0.
fn record_at_t0(w: &World, name: &str, first: &str) {
    w.write_text(
        &format!("/opt/ssot/state/{name}"),
        &format!(
            "{first}\nchecked_at={}\n",
            ssot_core::state::timestamp(t0())
        ),
        t0(),
    );
}

/// Issue "WAL truth": a crashed server does not answer the probe, and the
/// startup gate then denied its restart forever. A runbook's startup gate
/// leaves the probe's rules out; its backup gate does not.
#[test]
fn a_runbook_may_start_a_server_that_does_not_answer() {
    let (w, cfg) = world();
    w.set_segments("/pgdata", 6);
    record_at_t0(&w, "contract.status", "contract_status=PASS");
    let r = run_in(
        &w,
        cfg,
        r#"
        let c = check_wal(#{ dsn: "host=/run/pg user=postgres" });
        print(`${c.status} ${c.reasons[0].rule}`);
        print(`startup ${gate("startup").allowed}`);
        try { gate("backup"); } catch (denied) { print(`backup ${denied.reasons[0].rule}`); }
        "#,
        Limits::default(),
    );
    assert_eq!(r.ending.exit_code(), 0, "{:?}", r.lines);
    assert_eq!(
        r.output(),
        [
            "ERROR postgres_unreachable",
            "startup true",
            "backup wal_status_ok"
        ]
    );
}

/// Issue "hosts": a contract check that cannot read its inputs records a
/// FAIL naming them, so the last PASS does not keep vouching for a broken
/// configuration, and the runbook's startup gate denies.
#[test]
fn a_runbook_contract_check_that_cannot_read_its_inputs_fails() {
    let (w, cfg) = world();
    record_at_t0(&w, "wal.status", "wal_status=OK");
    record_at_t0(&w, "contract.status", "contract_status=PASS");
    w.write_text(
        "/etc/pg/postgresql.conf",
        "max_wal_size = 4GB\ninclude 'tuning.conf'\n",
        t0(),
    );
    let r = run_in(
        &w,
        cfg,
        r#"
        print(`startup ${gate("startup").allowed}`);
        let c = check_contract(#{ postgresql_conf: "/etc/pg/postgresql.conf" });
        print(`${c.status} ${c.exit_code} ${c.invariants[0].id}`);
        try { gate("startup"); } catch (denied) { print(`startup ${denied.reasons[0].rule}`); }
        "#,
        Limits::default(),
    );
    assert_eq!(r.ending.exit_code(), 0, "{:?}", r.lines);
    assert_eq!(
        r.output(),
        [
            "startup true",
            "FAIL 1 inputs.readable",
            "startup contract_pass"
        ]
    );
}

#[test]
fn a_runbook_plans_with_todays_restic_rules() {
    let (w, cfg) = world();
    let t0: chrono::DateTime<chrono::Utc> = "2026-02-05T12:00:00Z".parse().unwrap();
    for day in 1..=4 {
        w.file_sized(
            &format!("/backup/dumps/ssot_202602{day:02}_030000.sql.gz"),
            b"x",
            1,
            t0,
        );
    }
    w.file_sized(
        "/backup/dumps/ssot_20260202_030000.sql.gz.tags",
        b"legal\n",
        6,
        t0,
    );
    let r = run_in(
        &w,
        cfg,
        r#"
        let p = plan_retention(#{ dir: "/backup/dumps", pattern: "ssot_%Y%m%d_%H%M%S.sql.gz",
                                  policy: #{ keep_monthly: -1, keep_tags: [["legal"]] } });
        for d in p.keep + p.delete { print(`${d.id} ${d.reasons}`); }
        let old = plan_retention(#{ dir: "/backup/dumps", pattern: "ssot_%Y%m%d_%H%M%S.sql.gz",
                                    policy: #{ keep_monthly: 3, restic_compat: "0.14" } });
        print(old.summary.kept);
        "#,
        Limits::default(),
    );
    assert_eq!(r.ending.exit_code(), 0, "{:?} {:?}", r.lines, r.ending);
    assert_eq!(
        r.output(),
        [
            "ssot_20260204_030000.sql.gz [\"monthly 2026-02\", \"last_good_copy\"]",
            "ssot_20260202_030000.sql.gz [\"has tags legal\"]",
            "ssot_20260201_030000.sql.gz [\"oldest monthly 2026-02\"]",
            "ssot_20260203_030000.sql.gz [\"not kept by any rule (keep_monthly all, keep_tag legal)\"]",
            "1"
        ]
    );
}

// --- gates that hold on every surface -------------------------------------------

/// A gate denial raised inside any callback a standard function takes ends
/// the run with 124: none of them may swallow it (Rhai 1.27's `sort` and
/// `dedup` comparers did; ssot-rhai replaces them). The list is every
/// function of Rhai's packages that takes a callback.
#[test]
fn a_denial_inside_any_callback_ends_the_run() {
    let g = "gate(\"backup\")";
    let cases = [
        format!("[1, 2].map(|x| {{ {g}; x }})"),
        format!("[1, 2].filter(|x| {{ {g}; true }})"),
        format!("[1, 2].reduce(|s, x| {{ {g}; x }}, 0)"),
        format!("[1, 2].reduce_rev(|s, x| {{ {g}; x }}, 0)"),
        format!("[1, 2].some(|x| {{ {g}; true }})"),
        format!("[1, 2].all(|x| {{ {g}; true }})"),
        format!("[1, 2].find(|x| {{ {g}; true }})"),
        format!("[1, 2].find_map(|x| {{ {g}; x }})"),
        format!("[1, 2].for_each(|| {{ {g}; }})"),
        format!("[1, 2].index_of(|x| {{ {g}; true }})"),
        format!("[2, 1].sort(|a, b| {{ {g}; a - b }})"),
        format!("[2, 1].sort_by(|a, b| {{ {g}; a - b }})"),
        format!("[1, 1].dedup(|a, b| {{ {g}; a == b }})"),
        format!("[1, 2].drain(|x| {{ {g}; true }})"),
        format!("[1, 2].retain(|x| {{ {g}; true }})"),
        format!("[1, 2].zip([3, 4], |a, b| {{ {g}; a }})"),
        format!("#{{a: 1}}.filter(|k, v| {{ {g}; true }})"),
        format!("#{{a: 1}}.drain(|k, v| {{ {g}; true }})"),
        format!("#{{a: 1}}.retain(|k, v| {{ {g}; true }})"),
        format!("#{{a: 1}}.map(|k, v| {{ {g}; v }})"),
    ];
    for call in &cases {
        let r = run(&format!("let a = {call};\nprint(\"after\");\n"));
        assert!(
            matches!(r.ending, Ending::Denied(_)),
            "{call}: {:?} {:?}",
            r.ending,
            r.lines
        );
        assert!(r.output().is_empty(), "{call}: the runbook went on");
    }
}

/// Log lines go to the sink as they are logged; none is kept unless asked.
#[test]
fn log_lines_are_streamed_and_kept_only_when_asked() {
    let (w, cfg) = world();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rb.rhai");
    std::fs::write(&path, "log_info(\"a\");\nprint(\"b\");\nlog_warn(\"c\");\n").unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    let host = Host::new(
        w.ssot(cfg, t0()),
        Some(t0()),
        Box::new(move |l, m| sink.lock().unwrap().push((l, m.to_string()))),
    );
    let ran = ssot_rhai::run_file(&path, host, &Limits::default(), Default::default());
    assert_eq!(ran.ending.exit_code(), 0);
    assert_eq!(seen.lock().unwrap().len(), 3, "every line reached the sink");
    assert!(ran.host.unwrap().lines().is_empty(), "no line was kept");
}

/// `gate(op, #{now: ...})`: the decision is made at the real time (the
/// host's clock); a given time beyond the skew is an error, not a decision.
#[test]
fn a_runbook_gate_uses_the_real_clock() {
    let (w, cfg) = healthy();
    let r = run_in(
        &w,
        cfg,
        "let d = gate(\"backup\", #{ now: \"2026-02-05T17:00:00Z\" });\nprint(\"ran\");\n",
        Limits::default(),
    );
    let e = r.error();
    assert!(
        e.message
            .contains("now: gate backup authorises work and uses the real clock"),
        "{e}"
    );
    assert!(r.output().is_empty());
}
