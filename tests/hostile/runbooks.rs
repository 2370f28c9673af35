//! Runbooks (`ssot run`) attacked (issue "Gates that hold on every
//! surface"): gated work outside `decision.run`, a command outliving its
//! lock after the runner was signalled, killed or timed out, a denial
//! swallowed by a callback, cut output, hostile values and hostile files.

use std::fs;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::*;

/// Writes `script` as a runbook in `w`.
fn runbook(w: &World, script: &str) -> PathBuf {
    let p = w.path("rb.rhai");
    fs::write(&p, script).unwrap();
    p
}

/// `ssot --state <state> run [extra] RUNBOOK`, at the real time, bounded.
fn run_rb(w: &World, script: &str, extra: &[&str]) -> Output {
    let rb = runbook(w, script);
    let mut args = vec!["--state", s(&w.state), "run"];
    args.extend(extra);
    args.push(s(&rb));
    run_bounded(&args)
}

/// The same in the background.
fn start_rb(w: &World, script: &str, extra: &[&str]) -> Child {
    let rb = runbook(w, script);
    ssot()
        .args(["--state", s(&w.state), "run"])
        .args(extra)
        .arg(&rb)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn exited_by(child: &mut Child) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        assert!(start.elapsed() < HANG, "ssot run did not end");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A command for `decision.run`: records its pid, starts a child that
/// ignores SIGTERM (and records its pid), traps SIGTERM itself (records it),
/// then waits.
fn worker(w: &World) -> (String, PathBuf, PathBuf, PathBuf) {
    let (pid, bg, got) = (w.path("cmd.pid"), w.path("bg.pid"), w.path("got-term"));
    let sh = format!(
        "echo $$ > {pid}; (trap '' TERM; exec sleep 1000) & echo $! > {bg}; trap 'echo TERM > {got}; exit 0' TERM; while :; do sleep 0.05; done",
        pid = pid.display(),
        bg = bg.display(),
        got = got.display()
    );
    let script = format!(
        "let d = gate(\"startup\");\nd.run(\"sh\", [\"-c\", {}]);\n",
        serde_json::to_string(&sh).unwrap()
    );
    (script, pid, bg, got)
}

/// `kill -TERM` of `ssot run` while `decision.run` runs a command: the
/// command gets the signal (forwarded to its group), `ssot run` ends by it,
/// and what the command left running still holds the lock. It used to keep
/// running with the lock free, so a second gate was allowed at once.
#[test]
fn sigterm_of_ssot_run_reaches_the_command_and_the_lock_outlives_nothing() {
    let w = World::new();
    w.healthy();
    let (script, pid, bg, got) = worker(&w);
    let mut child = start_rb(&w, &script, &[]);
    wait_for("the command and its child", || read_pid(&bg).is_some());
    let bg = read_pid(&bg).unwrap();
    assert!(lock_holder(&w).is_some(), "the command holds the lock");

    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    let st = exited_by(&mut child);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(st.signal(), Some(15), "ssot run ends by the signal: {st:?}");
    assert_eq!(
        fs::read_to_string(&got).unwrap_or_default(),
        "TERM\n",
        "the command got the SIGTERM"
    );
    assert!(!alive(read_pid(&pid).unwrap()));
    // The child that ignored SIGTERM runs on: it holds the lock.
    assert!(alive(bg));
    assert!(
        lock_holder(&w).is_some(),
        "gated work still runs while the lock is free"
    );
    kill(Pid::from_raw(bg), Signal::SIGKILL).unwrap();
    wait_for("the lock to be free", || lock_holder(&w).is_none());
}

/// `kill -9` of `ssot run`: nothing can be forwarded, but the command
/// inherited the lock: while it runs, no other gate is allowed.
#[test]
fn sigkill_of_ssot_run_leaves_the_lock_with_the_command() {
    let w = World::new();
    w.healthy();
    let (script, pid, _bg, _got) = worker(&w);
    let mut child = start_rb(&w, &script, &[]);
    wait_for("the command", || read_pid(&pid).is_some());
    kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).unwrap();
    child.wait().unwrap();
    let cmd = read_pid(&pid).unwrap();
    assert!(alive(cmd));
    assert!(
        lock_holder(&w).is_some(),
        "the command runs on without the lock"
    );
    // End the command's whole group: the lock is free.
    let _ = nix::sys::signal::killpg(Pid::from_raw(cmd), Signal::SIGKILL);
    wait_for("the lock to be free", || lock_holder(&w).is_none());
}

/// `--command-timeout` used to kill only the direct child: its children
/// ran on. Now the whole group ends.
#[test]
fn a_command_timeout_ends_the_whole_group() {
    let w = World::new();
    w.healthy();
    let bg = w.path("bg.pid");
    let sh = format!("sleep 1000 & echo $! > {}; wait", bg.display());
    let script = format!(
        "let d = gate(\"startup\");\nd.run(\"sh\", [\"-c\", {}]);\n",
        serde_json::to_string(&sh).unwrap()
    );
    let o = run_rb(&w, &script, &["--command-timeout", "1"]);
    assert_eq!(code(&o), 125, "{}", stderr(&o));
    assert!(stderr(&o).contains("whole process group"), "{}", stderr(&o));
    let bg = read_pid(&bg).unwrap();
    wait_for("the group to end", || !alive(bg));
    assert_eq!(lock_holder(&w), None);
}

/// Plain `run()` refused `pg_dump` only as the program: `sh -c "pg_dump …"`,
/// `env`, `nice`, `timeout`, `runuser`, `su -c`, `xargs`, `pg_ctlcluster`,
/// `pg_receivewal` and `psql -f` ran ungated. Every word is searched now.
#[test]
fn run_refuses_gated_work_however_it_is_wrapped() {
    let w = World::new();
    let ran = w.path("ran");
    let cases: &[&[&str]] = &[
        &["sh", "-c", "pg_dump trading | gzip > /tmp/x.gz"],
        &["bash", "-c", "pg_dumpall > /tmp/x"],
        &["env", "PGHOST=/tmp", "pg_dump", "db"],
        &["nice", "-n", "5", "pg_basebackup", "-D", "/tmp/b"],
        &["timeout", "60", "pg_restore", "/tmp/x"],
        &["runuser", "-u", "postgres", "--", "pg_ctl", "start"],
        &["su", "postgres", "-c", "pg_ctl -D /d start"],
        &["xargs", "pg_dump"],
        &["pg_ctlcluster", "15", "main", "start"],
        &["pg_receivewal", "-D", "/tmp/w"],
        &["psql", "-f", "/tmp/dump.sql"],
        &["sh", "-c", "gunzip -c /tmp/x.gz | psql db"],
    ];
    for argv in cases {
        let args: Vec<String> = argv[1..]
            .iter()
            .map(|a| serde_json::to_string(a).unwrap())
            .collect();
        let script = format!(
            "run({}, [{}]);\nrun(\"touch\", [\"{}\"]);\n",
            serde_json::to_string(argv[0]).unwrap(),
            args.join(", "),
            ran.display()
        );
        let o = run_rb(&w, &script, &[]);
        assert_eq!(code(&o), 125, "{argv:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("performs a gated operation") && stderr(&o).contains("d.run"),
            "{argv:?}: {}",
            stderr(&o)
        );
        assert!(!ran.exists(), "{argv:?} ran, and so did what followed");
    }
    // An ordinary command still runs.
    let o = run_rb(
        &w,
        &format!("run(\"touch\", [\"{}\"]);", ran.display()),
        &[],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(ran.exists());
}

/// A denial raised inside a callback Rhai swallows (a `sort` or `dedup`
/// comparer) used to let the runbook go on and end 0.
#[test]
fn a_denial_in_a_swallowing_callback_still_ends_the_run() {
    let w = World::new();
    for script in [
        "let a = [3, 1, 2];\na.sort(|x, y| { gate(\"backup\"); x - y });\nprint(\"after\");\n",
        "let a = [1, 1, 2];\na.dedup(|x, y| { gate(\"backup\"); x == y });\nprint(\"after\");\n",
    ] {
        let o = run_rb(&w, script, &[]);
        assert_eq!(code(&o), 124, "{script}: {}", stderr(&o));
        assert!(!stdout(&o).contains("after"), "{script}");
        assert!(
            stderr(&o).contains("DENY wal_status_missing"),
            "{}",
            stderr(&o)
        );
    }
    // try/catch still catches.
    let o = run_rb(
        &w,
        "try { gate(\"backup\"); } catch (d) { print(`caught ${d.allowed}`); }",
        &[],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o), "caught false\n");
}

/// Output cut at the cap says so: `truncated: true` and a warning.
#[test]
fn cut_output_says_so() {
    let w = World::new();
    let o = run_rb(
        &w,
        "let r = run(\"head\", [\"-c\", \"17000000\", \"/dev/zero\"]);\nprint(`${r.truncated} ${r.stdout.len()}`);\nlet s = run(\"echo\", [\"hi\"]);\nprint(`${s.truncated} ${s.stdout}`);\n",
        &[],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o), format!("true {}\nfalse hi\n\n", 16 << 20));
    assert!(stderr(&o).contains("was cut at"), "{}", stderr(&o));
}

/// A value nested 10,000 deep, printed or compared, aborted `ssot run` with
/// a stack overflow (exit 134). Now: a script error saying why, catchable
/// like any other, and 125 when not caught.
#[test]
fn a_deeply_nested_value_is_a_script_error_not_a_crash() {
    let w = World::new();
    let script = r#"
let a = [];
for i in 0..10000 { a = [a]; }
let tries = [
    || print(a),
    || a == a,
    || a != [a],
    || debug(a),
    || a.to_string(),
    || plan_retention(a, #{}, now()),
    || #{ x: a }.to_json(),
    || print(#{ x: a }),
];
for t in tries {
    try { t.call(); print("no error"); } catch (e) { print(if `${e}`.contains("nested deeper than") { "refused" } else { `${e}` }); }
}
// Interpolation formats the value inside Rhai, which swallows any error
// there: it is formatted whole, on the runbook's own large stack.
print(`${a}`.len());
print(a);
"#;
    let o = run_rb(&w, script, &[]);
    assert_eq!(code(&o), 125, "{}", stderr(&o));
    assert_eq!(stdout(&o), format!("{}20002\n", "refused\n".repeat(8)));
    assert!(
        stderr(&o).contains("nested deeper than 64 levels"),
        "{}",
        stderr(&o)
    );
}

/// `ssot run FIFO` and `run --check FIFO` blocked forever; `--check
/// /dev/zero` grew without bound. A runbook is read as ssot reads its own
/// files: a regular file, bounded.
#[test]
fn a_runbook_that_is_not_a_regular_bounded_file_is_refused_at_once() {
    let w = World::new();
    let fifo = w.path("rb.fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    for args in [
        vec!["run", s(&fifo)],
        vec!["run", "--check", s(&fifo)],
        vec!["run", "--check", "/dev/zero"],
        vec!["run", "/dev/zero"],
    ] {
        let mut all = vec!["--state", s(&w.state)];
        all.extend(&args);
        let o = run_bounded(&all);
        assert_eq!(code(&o), 125, "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("not a regular file"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
    // Larger than any runbook: refused, the limit named.
    let big = w.path("big.rhai");
    fs::write(&big, format!("// {}\n", "x".repeat(300 << 10))).unwrap();
    let o = run_bounded(&["--state", s(&w.state), "run", "--check", s(&big)]);
    assert_eq!(code(&o), 125);
    assert!(
        stderr(&o).contains("is larger than 256KiB"),
        "{}",
        stderr(&o)
    );
}

/// A runbook anyone could have written is not run: it is code that runs
/// gated commands with the lock.
#[test]
fn a_runbook_others_can_write_is_not_run() {
    use std::os::unix::fs::PermissionsExt;
    let w = World::new();
    let ran = w.path("ran");
    let rb = runbook(&w, &format!("run(\"touch\", [\"{}\"]);", ran.display()));
    fs::set_permissions(&rb, fs::Permissions::from_mode(0o666)).unwrap();
    let o = run_bounded(&["--state", s(&w.state), "run", s(&rb)]);
    assert_eq!(code(&o), 125, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("writable by") && stderr(&o).contains("mode 0666"),
        "{}",
        stderr(&o)
    );
    assert!(!ran.exists());
}

/// Compiling counts in `--timeout`: a huge `switch` compiled for as long as
/// it took before the timeout started. (With a timeout of zero no runbook
/// can compile in time; the old code started the clock after compiling.)
#[test]
fn compiling_counts_in_the_timeout() {
    let w = World::new();
    let mut script = String::from("let x = 1;\nswitch x {\n");
    let mut i = 0;
    while script.len() < 200 << 10 {
        script.push_str(&format!("  {i} => print(\"case {i}\"),\n"));
        i += 1;
    }
    script.push_str("  _ => ()\n}\n");
    let o = run_rb(&w, &script, &["--timeout", "0"]);
    assert_eq!(code(&o), 125, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("did not even compile within its timeout"),
        "{}",
        stderr(&o)
    );
}

/// Every `print`/`log_*` line was kept in memory for the whole run (150 ×
/// 10MB = 1.5GB). Lines are streamed now: the peak resident size of `ssot
/// run`, read from `/proc/PID/status` by a command it runs after logging
/// 3GB, stays far below what keeping them would take.
#[test]
fn log_lines_are_streamed_not_kept() {
    let w = World::new();
    let script = "let s = \"x\";\nwhile s.len() < 8388608 { s += s; }\nfor i in 0..400 { log_info(s); }\nlet r = run(\"sh\", [\"-c\", \"grep VmHWM /proc/$PPID/status\"]);\nprint(r.stdout);\n";
    let rb = runbook(&w, script);
    let o = ssot()
        .args(["--state", s(&w.state), "run", s(&rb)])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(code(&o), 0);
    let kb: u64 = stdout(&o)
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no VmHWM in {:?}", stdout(&o)));
    assert!(
        kb < 1 << 20,
        "ssot run's peak resident size is {kb}kB after logging 3.2GB: lines are kept"
    );
}

/// An allowed decision used to stay allowed for the whole runbook: a
/// command run under it hours later ran even after WAL had gone to ERROR.
/// Each `decision.run` decides again, at the real time; a denial releases
/// the lock and stops the runbook (124) before the command.
#[test]
fn each_command_under_a_decision_is_decided_again() {
    let w = World::new();
    w.healthy();
    let bad = w.path("error.status");
    fs::write(
        &bad,
        format!("wal_status=ERROR\nchecked_at={}\n", real_now()),
    )
    .unwrap();
    let ran = w.path("ran");
    let script = format!(
        "let d = gate(\"startup\");\nprint(d.run(\"true\", []).code);\nrun(\"cp\", [\"{}\", \"{}\"]);\nd.run(\"touch\", [\"{}\"]);\nprint(\"after\");\n",
        bad.display(),
        w.state.join("wal.status").display(),
        ran.display()
    );
    let o = run_rb(&w, &script, &[]);
    assert_eq!(code(&o), 124, "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "0\n",
        "the first command ran, nothing after the denial"
    );
    assert!(
        !ran.exists(),
        "a command ran under a decision that no longer holds"
    );
    assert!(stderr(&o).contains("DENY wal_status_ok"), "{}", stderr(&o));
    let (_, d) = w.gate_json("startup");
    assert_eq!(
        denied_rules(&d),
        ["wal_status_ok"],
        "the lock was released: {d:#}"
    );
}

/// `--allow-imports` modules were read without the runbook's checks, and a
/// runbook in a directory anyone could write was run.
#[test]
fn imported_modules_and_the_runbooks_directory_are_checked_too() {
    use std::os::unix::fs::PermissionsExt;
    let w = World::new();
    let dir = w.path("rb");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("lib.rhai"), "fn hello() { \"imported\" }").unwrap();
    fs::write(
        dir.join("main.rhai"),
        "import \"lib\" as m;\nprint(m::hello());\n",
    )
    .unwrap();
    let main = dir.join("main.rhai");
    let run = || run_bounded(&["--state", s(&w.state), "run", "--allow-imports", s(&main)]);
    let o = run();
    assert_eq!(
        (code(&o), stdout(&o).as_str()),
        (0, "imported\n"),
        "{}",
        stderr(&o)
    );
    fs::set_permissions(dir.join("lib.rhai"), fs::Permissions::from_mode(0o666)).unwrap();
    let o = run();
    assert_eq!(code(&o), 125, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("lib.rhai") && stderr(&o).contains("mode 0666"),
        "{}",
        stderr(&o)
    );
    fs::set_permissions(dir.join("lib.rhai"), fs::Permissions::from_mode(0o644)).unwrap();
    fs::write(dir.join("up.rhai"), "import \"../lib\" as m;").unwrap();
    let o = run_bounded(&[
        "--state",
        s(&w.state),
        "run",
        "--allow-imports",
        s(&dir.join("up.rhai")),
    ]);
    assert_eq!(code(&o), 125);
    assert!(stderr(&o).contains("own directory"), "{}", stderr(&o));
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
    let o = run();
    assert_eq!(code(&o), 125, "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("lies in {}", dir.display())),
        "{}",
        stderr(&o)
    );
}

/// `--timeout` bounds the whole runbook, a running command included: it
/// used to be checked only between operations, so `--timeout 1` waited for
/// a command as long as `--command-timeout` (6h by default).
#[test]
fn the_runbook_timeout_ends_a_running_command_too() {
    let w = World::new();
    let o = run_rb(&w, "run(\"sleep\", [\"1000\"]);", &["--timeout", "1"]);
    assert_eq!(code(&o), 125, "{}", stderr(&o));
    assert!(stderr(&o).contains("runbook's --timeout"), "{}", stderr(&o));
}
