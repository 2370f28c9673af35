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
    ssot()
        .args([
            "--state",
            s(&w.state),
            "gate",
            "startup",
            "--",
            "sh",
            "-c",
            script,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
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
    let script = format!(
        "trap 'echo TERM > {}; exit 7' TERM; touch {}; while :; do sleep 0.05; done",
        got.display(),
        ready.display()
    );
    let mut child = start_gated(&w, &script);
    wait_for("the command to start", || ready.exists());
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    let status = {
        let start = Instant::now();
        loop {
            if let Some(st) = child.try_wait().unwrap() {
                break st;
            }
            if start.elapsed() > HANG {
                let _ = child.kill();
                panic!("the command did not get SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    };
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
