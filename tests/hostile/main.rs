//! The hostile-input suite: ssot attacked the way a careless operator, a
//! hostile file or a crash would attack it, and tried as a new user would.
//!
//! Every test here is a regression test for an attack that once worked
//! (issues "Hardening: make ssot safe at its edges" and "Gates that hold on
//! every surface"); the module names the attack family, each test names the
//! point it covers. A new attack family gets a new module here.
//!
//! The tests drive the `ssot` binary as a user does. Set `SSOT_TEST_BIN` to
//! run them against another build (e.g. the code before a fix, to see them fail).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

#[path = "../common/mod.rs"]
mod common;
use common::*;

mod arithmetic;
mod clock;
mod complexity;
mod contract;
mod evidence;
mod evidence_proof;
mod exit_codes;
mod gate_command;
mod new_user;
mod planted_state;
mod retention_apply;
mod retention_integrity;
mod retention_names;
mod retention_roots;
mod runbooks;
mod secrets;
mod stage_claims;
mod state_files;
mod tool_listings;
mod wal_rates;
mod wal_truth;

/// The time every test evaluates at.
pub const NOW: &str = "2026-02-05T12:00:00Z";

/// A temp directory with a state directory in it.
pub struct World {
    pub _tmp: tempfile::TempDir,
    pub root: PathBuf,
    pub state: PathBuf,
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

impl World {
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(tmp.path()).unwrap();
        let state = root.join("state");
        fs::create_dir_all(&state).unwrap();
        World {
            _tmp: tmp,
            root,
            state,
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Writes a state file.
    pub fn write_state(&self, name: &str, content: &str) {
        fs::write(self.state.join(name), content).unwrap();
    }

    /// A fresh `wal.status` saying OK and a fresh passing `contract.status`
    /// (written at the real time, as a gate judges them by the real clock):
    /// `gate startup` is allowed in this world unless something else denies.
    pub fn healthy(&self) {
        let now = real_now();
        self.write_state("wal.status", &format!("wal_status=OK\nchecked_at={now}\n"));
        self.write_state(
            "contract.status",
            &format!("contract_status=PASS\nchecked_at={now}\n"),
        );
    }

    /// `ssot --state <state> [--now NOW] <args>`, bounded. Evaluations run at
    /// `NOW`; a gate or an apply that deletes runs at the real time (a given
    /// time would be refused).
    pub fn ssot(&self, args: &[&str]) -> Output {
        let mut all: Vec<&str> = vec!["--state", s(&self.state)];
        if !authorises(args) {
            all.extend(["--now", NOW]);
        }
        all.extend(args);
        run_bounded(&all)
    }

    /// `ssot gate <op> --format json`; the decision.
    pub fn gate_json(&self, op: &str) -> (i32, serde_json::Value) {
        let o = self.ssot(&["gate", op, "--format", "json"]);
        (code(&o), json(&o))
    }
}

/// A mount a test made, unmounted when dropped.
pub struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

/// `mount ARGS... AT` (e.g. `["--bind", FROM]`, or `["-t", "tmpfs", ...,
/// "tmpfs"]`), unmounted when the guard drops; `None`, with the test saying
/// it is skipped, when not root (CI runs as root) or when mounting fails here.
pub fn mount(args: &[&str], at: &Path) -> Option<Mounted> {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: mounting needs root");
        return None;
    }
    let ok = std::process::Command::new("mount")
        .args(args)
        .arg(at)
        .status();
    if !ok.is_ok_and(|s| s.success()) {
        eprintln!("skipped: cannot mount here");
        return None;
    }
    Some(Mounted(at.to_path_buf()))
}

/// Runs `f` on a thread; fails the test if it has not returned within
/// [`HANG`] (a hang detector for pure code, not a speed measurement).
pub fn within_hang_limit<T: Send + 'static>(
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(HANG)
        .unwrap_or_else(|_| panic!("{what} hung: not done after {HANG:?}"))
}

/// The rules of a decision's failed checks.
/// The section `name` of `ssot report --format json`'s output.
pub fn report_section(o: &Output, name: &str) -> serde_json::Value {
    json(o)["sections"]
        .as_array()
        .unwrap_or_else(|| panic!("no sections: {}", stdout(o)))
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no {name} section: {}", stdout(o)))
        .clone()
}

pub fn denied_rules(decision: &serde_json::Value) -> Vec<String> {
    decision["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["passed"] == false)
        .map(|c| c["rule"].as_str().unwrap().to_string())
        .collect()
}

/// The message of the failed check with `rule`.
pub fn denial(decision: &serde_json::Value, rule: &str) -> String {
    decision["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rule"] == rule && c["passed"] == false)
        .map(|c| c["message"].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("no failed {rule} in {decision:#}"))
}

/// A file outside the state directory that an attack aims at.
pub fn victim(dir: &Path) -> PathBuf {
    let v = dir.join("victim");
    fs::write(&v, "precious data\n").unwrap();
    v
}

pub fn assert_victim_intact(v: &Path) {
    assert_eq!(
        fs::read_to_string(v).unwrap(),
        "precious data\n",
        "{} was written through a symlink",
        v.display()
    );
}

// ---- processes and the operation lock, for the gated-command families ----

/// Alive and not a zombie (a zombie's lock descriptor is already closed).
pub fn alive(pid: i32) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok() && !is_zombie(pid)
}

fn is_zombie(pid: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
        .unwrap_or(true)
}

/// Polls `f` until it holds; a hang detector, not a time window.
pub fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !f() {
        assert!(start.elapsed() < HANG, "timed out waiting for {what}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// The pid a command wrote into `path`, once it has.
pub fn read_pid(path: &Path) -> Option<i32> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The lock as a second gate sees it: `Some(holder)` while held.
pub fn lock_holder(w: &World) -> Option<String> {
    let (c, d) = w.gate_json("startup");
    if c == 0 {
        return None;
    }
    assert_eq!(denied_rules(&d), ["operation_lock"], "{d:#}");
    Some(denial(&d, "operation_lock"))
}
