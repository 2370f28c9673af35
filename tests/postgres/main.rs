//! End to end against a real PostgreSQL, the way an operator runs ssot:
//! Debian's postgresql 15 (or `SSOT_PG_BIN`) as throwaway clusters in temp
//! dirs, on Unix sockets only, run as the `postgres` user when the tests run
//! as root, stopped and removed when each test ends (also when it fails).
//!
//! | module | what |
//! |---|---|
//! | `live` | `--dsn` probes agree with the server; a dead or mute server is an ERROR with its reason, in seconds |
//! | `load` | `wal check` ≥ 200 times under pgbench and checkpoints: no errors, equal to `pg_ls_waldir()`, NEAR_LIMIT and back |
//! | `scenarios` | an inactive slot pinning WAL, a failing `archive_command`, `max_slot_wal_keep_size` losing a slot |
//! | `backup_restore` | an operator's day: `pre_backup.rhai` (and its refusal at NEAR_LIMIT), `restore_drill.rhai` into a second cluster, retention, a measured DR drill (continuous writes, T0, the source destroyed, restored, RTO/RPO recorded), the report and promtool |
//!
//! The server binaries are required: a missing PostgreSQL fails these tests
//! rather than skipping them, unless `SSOT_SKIP_PG=1` says so explicitly.
//! Figures measured here are printed (`cargo test --test postgres -- --nocapture`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

#[path = "../common/mod.rs"]
mod common;
use common::pg::Cluster;
use common::*;

mod backup_restore;
mod live;
mod load;
mod scenarios;

/// True (and says so) when the PostgreSQL tests are skipped explicitly.
fn skipped() -> bool {
    let skip = std::env::var("SSOT_SKIP_PG").as_deref() == Ok("1");
    if skip {
        eprintln!("SKIPPED explicitly by SSOT_SKIP_PG=1");
    }
    skip
}

/// A state directory and a configuration file of one test.
struct Ops {
    _root: tempfile::TempDir,
    root: PathBuf,
    state: PathBuf,
    config: PathBuf,
}

impl Ops {
    /// A state directory with `config` (TOML) for the cluster `c`.
    fn new(c: &Cluster, config: &str) -> Ops {
        let root = tempfile::tempdir().unwrap();
        let path = fs::canonicalize(root.path()).unwrap();
        let state = path.join("state");
        fs::create_dir(&state).unwrap();
        let ops = Ops {
            config: path.join("ssot.toml"),
            state,
            root: path,
            _root: root,
        };
        ops.configure(c, config);
        ops
    }

    /// Rewrites the configuration: `extra` plus the cluster's PGDATA and DSN.
    fn configure(&self, c: &Cluster, extra: &str) {
        let text = format!(
            "state_dir = {}\n{extra}\n[postgres]\npgdata = {}\ndsn = {}\n",
            toml_str(&self.state),
            toml_str(&c.data()),
            toml::Value::String(c.dsn())
        );
        fs::write(&self.config, text).unwrap();
    }

    /// `ssot --config ... ARGS`, bounded; the environment's defaults removed.
    fn run(&self, args: &[&str]) -> Output {
        let mut all = vec!["--config", s(&self.config)];
        all.extend(args);
        run_bounded(&all)
    }

    /// `ssot ... ARGS --format json`: exit code and JSON.
    fn json(&self, args: &[&str]) -> (i32, Value) {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        let o = self.run(&all);
        (code(&o), json(&o))
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }
}

fn toml_str(p: &Path) -> toml::Value {
    toml::Value::String(p.display().to_string())
}

/// `sum(size)` and segment count of `pg_ls_waldir()`.
fn waldir(c: &Cluster) -> (u64, u64) {
    let row = c.sql(
        "SELECT sum(size), count(*) FILTER (WHERE name ~ '^[0-9A-F]{24}$') FROM pg_ls_waldir()",
    );
    let (a, b) = row.split_once(',').unwrap();
    (a.parse().unwrap(), b.parse().unwrap())
}

const SEGMENT: u64 = 16 << 20;

/// The rules of a WAL report's reasons.
fn rules(report: &Value) -> Vec<String> {
    report["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap().to_string())
        .collect()
}

/// The message of the reason `rule`.
fn reason(report: &Value, rule: &str) -> String {
    report["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule} in {report:#}"))["message"]
        .as_str()
        .unwrap()
        .to_string()
}
