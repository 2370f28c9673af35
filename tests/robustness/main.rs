//! Robustness of the whole program under crashes, concurrency and a full
//! disk, on the demo sandbox (`ssot demo --dir`):
//!
//! - `crash`: SIGKILL of `wal check`, `evidence backup`, a gated command and
//!   `retention apply` at random points; after each kill every state file
//!   parses, `gate.log` has only whole lines, the retention root holds only
//!   what the plan keeps or has not reached yet, and a final run converges.
//!   `SSOT_CRASH_ROUNDS` (default 120) sets the number of kills; the long run
//!   and its figures are in `benches/RESULTS.md`.
//! - `concurrency`: writers, appliers and readers on one state directory at
//!   once for a bounded time: no torn read, no lost `gate.log` line, every
//!   deletion happens once.
//! - `full_disk`: the state directory on a full tmpfs.

#[path = "../common/mod.rs"]
mod common;

mod concurrency;
mod crash;
mod full_disk;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;
use ssot_core::statefile::StateFile;

/// A demo sandbox plus a retention root of 120 nightly dumps.
pub struct Sandbox {
    pub _tmp: tempfile::TempDir,
    pub dir: PathBuf,
    pub many: PathBuf,
    /// A backup target on another filesystem than PGDATA (tmpfs `/dev/shm`),
    /// so that gates can allow; `None` where there is none (they then deny
    /// `separate_filesystem`, and the tests still check what they can).
    pub target: Option<tempfile::TempDir>,
}

impl Sandbox {
    pub fn build() -> Sandbox {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("demo");
        // Everything runs at the real time: the gates and applies under test
        // decide by the real clock, so the sandbox's state is dated now.
        let o = run_bounded(&["demo", "--dir", s(&dir)]);
        assert!(code(&o) <= 2, "demo: {}", stderr(&o));
        // The follow-up commands measure the real volume under the temp dir.
        let mut toml = fs::read_to_string(dir.join("ssot.toml")).unwrap();
        assert!(
            !toml.contains("[wal]"),
            "the demo's ssot.toml has no [wal] table"
        );
        toml.push('\n');
        toml.push_str(NO_VOLUME_RULES);
        toml.push_str("[disk]\nmin_free_pct = 0.05\nmin_free_bytes = \"1MB\"\n");
        fs::write(dir.join("ssot.toml"), toml).unwrap();
        let many = dir.join("backup/many");
        fs::create_dir_all(&many).unwrap();
        let t0 = chrono::Utc::now();
        for d in 0..120 {
            let t = t0 - chrono::TimeDelta::days(d) - chrono::TimeDelta::hours(9);
            let name = t.format("ssot_%Y%m%d_%H%M%S.sql.gz").to_string();
            fs::write(many.join(name), plain_dump(10)).unwrap();
        }
        let target = other_filesystem_dir(&dir);
        Sandbox {
            _tmp: tmp,
            dir,
            many,
            target,
        }
    }

    pub fn config(&self) -> PathBuf {
        self.dir.join("ssot.toml")
    }

    pub fn state(&self) -> PathBuf {
        self.dir.join("state")
    }

    /// `ssot --config <sandbox> args…` (at the real time), as argv.
    pub fn args<'a>(&'a self, args: &[&'a str]) -> Vec<String> {
        let mut v: Vec<String> = vec!["--config".into(), s(&self.config()).into()];
        v.extend(args.iter().map(|a| a.to_string()));
        v
    }

    /// The retention arguments over `many`: keep_daily 30, the rest goes.
    pub fn retention<'a>(&'a self, verb: &'a str) -> Vec<String> {
        self.args(&[
            "retention",
            verb,
            "--dir",
            s(&self.many),
            "--pattern",
            "ssot_%Y%m%d_%H%M%S.sql.gz",
            "--keep-daily",
            "30",
            "--format",
            "json",
        ])
    }

    /// `gate backup` with the separate target when there is one.
    pub fn gate(&self, extra: &[&str]) -> Vec<String> {
        let mut a = self.args(&["gate", "backup"]);
        if let Some(t) = &self.target {
            a.extend(["--target".to_string(), s(t.path()).to_string()]);
        }
        a.extend(extra.iter().map(|x| x.to_string()));
        a
    }

    /// What the plan keeps and deletes in `many` (from a read-only plan).
    pub fn plan(&self) -> (BTreeSet<String>, BTreeSet<String>) {
        let o = ssot().args(self.retention("plan")).output().unwrap();
        assert!(code(&o) <= 1, "plan: {}", stderr(&o));
        let v = json(&o);
        let ids = |k: &str| -> BTreeSet<String> {
            v[k].as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].as_str().unwrap().to_string())
                .collect()
        };
        (ids("keep"), ids("delete"))
    }
}

/// The artifact names in `dir` (entries that are not ssot's own dot files).
pub fn names(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect()
}

/// Every state file parses (none torn or half-written), `gate.log` holds
/// only whole JSON lines, and the report reads the directory without finding
/// anything corrupt. Returns the number of `gate.log` lines.
pub fn state_is_whole(sb: &Sandbox, context: &str) -> usize {
    let state = sb.state();
    let mut gate_lines = 0;
    for e in fs::read_dir(&state).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue; // locks, and temp files a kill left (never read)
        }
        let bytes = fs::read(e.path()).unwrap();
        if name == "gate.log" || name.starts_with("gate.log.") {
            for (i, line) in String::from_utf8(bytes).unwrap().lines().enumerate() {
                serde_json::from_str::<Value>(line).unwrap_or_else(|err| {
                    panic!("{context}: {name} line {}: {err}: {line:?}", i + 1)
                });
                gate_lines += 1;
            }
        } else if name.ends_with(".status") || name == "wal.settings" {
            StateFile::parse(&bytes, &name)
                .unwrap_or_else(|err| panic!("{context}: {name} does not parse: {err}"));
            assert!(bytes.ends_with(b"\n"), "{context}: {name} is cut short");
        }
    }
    let o = ssot()
        .args(sb.args(&["report", "--format", "json"]))
        .output()
        .unwrap();
    assert!(
        code(&o) <= 2,
        "{context}: report gave no verdict: {}",
        stderr(&o)
    );
    let report = json(&o);
    for section in report["sections"].as_array().unwrap() {
        let summary = section["summary"].as_str().unwrap_or_default();
        assert!(
            !summary.contains("corrupt"),
            "{context}: section {} finds a corrupt file: {summary}",
            section["name"]
        );
    }
    gate_lines
}

/// A small deterministic generator (no dependency for a few random delays).
pub struct Lcg(pub u64);

impl Lcg {
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}
