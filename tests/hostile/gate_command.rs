//! A gated command and its operation lock (point 3): the lock lives exactly
//! as long as the command, whatever happens to the `ssot` that started it.

use std::fs;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::*;

/// `ssot gate startup -- COMMAND` in the background.
fn start_gated(w: &World, script: &str) -> Child {
    start_gated_with(w, &[], script)
}

/// `ssot gate startup OPTIONS -- sh -c SCRIPT` in the background.
fn start_gated_with(w: &World, options: &[&str], script: &str) -> Child {
    ssot()
        .args(["--state", s(&w.state), "gate", "startup"])
        .args(options)
        .args(["--", "sh", "-c", script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// `ssot gate startup --time-limit LIMIT -- sh -c SCRIPT`, to its end.
fn limited(w: &World, limit: &str, script: &str) -> std::process::Output {
    w.ssot(&[
        "gate",
        "startup",
        "--time-limit",
        limit,
        "--",
        "sh",
        "-c",
        script,
    ])
}

/// Waits for `child`; a hang fails the test.
fn wait_ended(child: &mut Child, what: &str) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        if start.elapsed() > HANG {
            let _ = child.kill();
            panic!("{what}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A command that writes TERM into `got` when it gets SIGTERM (and exits
/// 7), once it has touched `ready`.
fn trapping_term(got: &Path, ready: &Path) -> String {
    format!(
        "trap 'echo TERM > {}; exit 7' TERM; touch {}; while :; do sleep 0.05; done",
        got.display(),
        ready.display()
    )
}

/// Point 3: `kill -9` of ssot used to leave the command running with the
/// lock free, so a second gate said ALLOWED and retention could delete
/// while the first operation still ran. While the command runs, the lock is held.
#[test]
fn kill_9_of_ssot_never_leaves_the_command_running_without_the_lock() {
    let w = World::new();
    w.healthy();
    let pidfile = w.path("cmd.pid");
    let script = format!("echo $$ > {}; exec sleep 30", pidfile.display());
    let mut child = start_gated(&w, &script);
    wait_for("the command to start", || read_pid(&pidfile).is_some());
    let cmd = read_pid(&pidfile).unwrap();
    let holder = lock_holder(&w).expect("the running command holds the lock");
    assert!(holder.contains("startup by pid"), "{holder}");

    kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).unwrap();
    child.wait().unwrap();
    // Whatever survived: while the command is alive, the lock must be held.
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        let running = alive(cmd);
        let held = lock_holder(&w).is_some();
        assert!(
            !running || held,
            "the command (pid {cmd}) runs but the operation lock is free"
        );
        if !running {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    if alive(cmd) {
        let _ = kill(Pid::from_raw(cmd), Signal::SIGKILL);
    }
    wait_for("the lock to be free", || lock_holder(&w).is_none());
}

/// Point 3: SIGTERM sent to the pid ssot was started as reaches the command.
#[test]
fn sigterm_reaches_the_command() {
    let w = World::new();
    w.healthy();
    let ready = w.path("ready");
    let got = w.path("got-term");
    let mut child = start_gated(&w, &trapping_term(&got, &ready));
    wait_for("the command to start", || ready.exists());
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    let status = wait_ended(&mut child, "the command did not get SIGTERM");
    assert_eq!(fs::read_to_string(&got).unwrap_or_default(), "TERM\n");
    assert_eq!(status.code(), Some(7), "the command's own exit status");
    assert_eq!(lock_holder(&w), None, "the lock ends with the command");
}

/// Point 3: a retention apply while a gated command runs is refused.
#[test]
fn retention_waits_for_a_running_gated_command() {
    let w = World::new();
    w.healthy();
    let pidfile = w.path("cmd.pid");
    let mut child = start_gated(
        &w,
        &format!("echo $$ > {}; exec sleep 30", pidfile.display()),
    );
    wait_for("the command to start", || read_pid(&pidfile).is_some());
    let dumps = w.path("dumps");
    fs::create_dir(&dumps).unwrap();
    fs::write(dumps.join("old"), "x").unwrap();
    let o = w.ssot(&[
        "retention",
        "apply",
        "--dir",
        s(&dumps),
        "--keep-last",
        "0",
        "--max-age",
        "0",
        "--confirm",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(json(&o)["refused"]
        .as_str()
        .unwrap()
        .contains("another operation holds the lock: startup by pid"));
    assert!(dumps.join("old").exists());
    let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
    child.wait().unwrap();
}

/// Point 3: a child the command leaves running in the background keeps the
/// lock's descriptor, so the operation is not over while it runs.
#[test]
fn a_background_child_of_the_command_keeps_the_lock() {
    let w = World::new();
    w.healthy();
    let bgpid = w.path("bg.pid");
    let mut child = start_gated(&w, &format!("sleep 30 & echo $! > {}", bgpid.display()));
    assert!(child.wait().unwrap().success());
    let bg = read_pid(&bgpid).unwrap();
    assert!(alive(bg));
    assert!(
        lock_holder(&w).is_some(),
        "the background child holds the lock"
    );
    kill(Pid::from_raw(bg), Signal::SIGKILL).unwrap();
    wait_for("the lock to be free", || lock_holder(&w).is_none());
}

/// Issue "WAL truth": a gated command can be given a time limit. Past it the
/// command and everything in its process group are ended, ssot exits 128+the
/// signal, and the lock is free again.
#[test]
fn a_time_limit_ends_the_command_with_its_group_and_frees_the_lock() {
    let w = World::new();
    w.healthy();
    let bgpid = w.path("bg.pid");
    let o = limited(
        &w,
        "1s",
        &format!(
            "sleep 1000 & echo $! > {}; exec sleep 1000",
            bgpid.display()
        ),
    );
    assert_eq!(code(&o), 128 + 15, "{}", stderr(&o));
    assert!(
        stderr(&o)
            .contains("sh ran past its time limit of 1s and was ended with its process group"),
        "{}",
        stderr(&o)
    );
    let bg = read_pid(&bgpid).expect("the command started");
    wait_for("the background child to end", || !alive(bg));
    assert_eq!(lock_holder(&w), None, "the lock ends with the group");
    // A limit needs a command to limit.
    let o = w.ssot(&["gate", "startup", "--time-limit", "1s"]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
}

/// With a time limit ssot stays the command's parent: the command still
/// reads ssot's stdin (`pg_restore < dump`), writes its stdout, and its own
/// exit status is ssot's.
#[test]
fn a_time_limited_command_keeps_its_stdin_stdout_and_status() {
    let w = World::new();
    w.healthy();
    let mut child = ssot()
        .args([
            "--state",
            s(&w.state),
            "gate",
            "startup",
            "--time-limit",
            "1h",
            "--",
            "sh",
            "-c",
            "cat; exit 5",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"a dump's bytes\n").unwrap();
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "a dump's bytes\n");
    assert_eq!(o.status.code(), Some(5));
    assert_eq!(lock_holder(&w), None);
}

/// With a time limit, SIGTERM to ssot reaches the command's group, and ssot
/// ends by the same signal once the command has.
#[test]
fn sigterm_reaches_a_time_limited_command() {
    use std::os::unix::process::ExitStatusExt;
    let w = World::new();
    w.healthy();
    let ready = w.path("ready");
    let got = w.path("got-term");
    let mut child = start_gated_with(&w, &["--time-limit", "1h"], &trapping_term(&got, &ready));
    wait_for("the command to start", || ready.exists());
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    let status = wait_ended(&mut child, "the command did not get SIGTERM");
    assert_eq!(fs::read_to_string(&got).unwrap_or_default(), "TERM\n");
    assert_eq!(status.signal(), Some(15), "{status:?}");
    assert_eq!(lock_holder(&w), None, "the lock ends with the command");
}

/// Found by attack: a limit under a second was cut to 0 s (the command was
/// ended at once), and 0 itself was accepted. The fraction counts, and 0 is
/// a usage error.
#[test]
fn a_time_limit_keeps_its_fraction_and_is_never_zero() {
    let w = World::new();
    w.healthy();
    for zero in ["0", "0s", "0ms"] {
        let o = w.ssot(&["gate", "startup", "--time-limit", zero, "--", "true"]);
        assert_eq!(code(&o), 125, "{zero}: {}", stderr(&o));
        assert!(stderr(&o).contains("above zero"), "{}", stderr(&o));
    }
    let started = Instant::now();
    let o = w.ssot(&[
        "gate",
        "startup",
        "--time-limit",
        "1500ms",
        "--",
        "sleep",
        "1000",
    ]);
    assert_eq!(code(&o), 128 + 15, "{}", stderr(&o));
    // A lower bound only: the limit can never end it sooner.
    assert!(started.elapsed() >= Duration::from_millis(1500));
    assert!(
        stderr(&o).contains("time limit of 1500ms"),
        "{}",
        stderr(&o)
    );
}

/// Found by attack: a stopped command (SIGSTOP, or a read from the terminal
/// in its background group) never saw the limit's SIGTERM and was killed
/// 10 s later; SIGCONT follows SIGTERM, as with `timeout(1)`.
#[test]
fn a_stopped_command_sees_the_time_limit() {
    let w = World::new();
    w.healthy();
    let got = w.path("got-term");
    let o = limited(
        &w,
        "1s",
        &format!(
            "trap 'echo TERM > {}; exit 7' TERM; kill -STOP $$; sleep 1000",
            got.display()
        ),
    );
    assert_eq!(code(&o), 128 + 15, "{}", stderr(&o));
    assert_eq!(
        fs::read_to_string(&got).unwrap_or_default(),
        "TERM\n",
        "the stopped command never got SIGTERM"
    );
}

/// Found by attack: with a time limit ssot stays the parent, and the lock
/// named ssot's pid; after `kill -9` of ssot it named a dead process while
/// the command still held it. It names the command.
#[test]
fn a_time_limited_command_is_named_as_the_lock_holder() {
    let w = World::new();
    w.healthy();
    let pidfile = w.path("cmd.pid");
    let mut child = start_gated_with(
        &w,
        &["--time-limit", "1h"],
        &format!("echo $$ > {}; exec sleep 1000", pidfile.display()),
    );
    wait_for("the command to start", || read_pid(&pidfile).is_some());
    let cmd = read_pid(&pidfile).unwrap();
    wait_for("the lock to name the command", || {
        lock_holder(&w).is_some_and(|h| h.contains(&format!("startup by pid {cmd} ")))
    });
    kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).unwrap();
    child.wait().unwrap();
    let holder = lock_holder(&w).expect("the command still holds the lock");
    assert!(holder.contains(&format!("by pid {cmd} ")), "{holder}");
    kill(Pid::from_raw(cmd), Signal::SIGKILL).unwrap();
    wait_for("the lock to be free", || lock_holder(&w).is_none());
}
