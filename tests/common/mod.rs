//! Helpers shared by the CLI test suites.
#![allow(dead_code)]

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub mod pg;

/// The `ssot` binary under test: this build's, or `$SSOT_TEST_BIN` (to run a
/// suite against another build, e.g. to show that a regression test fails
/// on the code before its fix).
pub fn bin() -> String {
    std::env::var("SSOT_TEST_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_ssot").to_string())
}

/// The `ssot` binary, isolated from the developer's real configuration and state.
pub fn ssot() -> Command {
    let mut c = Command::new(bin());
    c.env_remove("SSOT_STATE_DIR")
        .env_remove("SSOT_CONFIG")
        .env_remove("PGDATA")
        .env("RUST_BACKTRACE", "0");
    c
}

pub fn run(args: &[&str]) -> Output {
    ssot().args(args).output().unwrap()
}

pub fn code(o: &Output) -> i32 {
    o.status
        .code()
        .unwrap_or_else(|| panic!("killed by a signal: {:?}", o.status))
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The summary line of the report section `name` (the report as JSON).
pub fn section_summary(report: &Value, name: &str) -> String {
    report["sections"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == name))
        .and_then(|s| s["summary"].as_str())
        .unwrap_or_else(|| panic!("no section {name}: {report:#}"))
        .to_string()
}

pub fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// How long a command may run before a test calls it hung. Generous: the
/// commands under test finish in well under a second; this only tells a
/// hang (a FIFO, a runaway loop) from a finish, it measures no speed.
pub const HANG: Duration = Duration::from_secs(60);

pub fn wait_or_kill(mut child: Child, deadline: Duration, what: &str) -> Output {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut out = Vec::new();
            let mut err = Vec::new();
            if let Some(mut s) = child.stdout.take() {
                s.read_to_end(&mut out).unwrap();
            }
            if let Some(mut s) = child.stderr.take() {
                s.read_to_end(&mut err).unwrap();
            }
            return Output {
                status,
                stdout: out,
                stderr: err,
            };
        }
        if start.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`{what}` hung: still running after {deadline:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs ssot with `args`; fails the test if it has not finished within [`HANG`].
/// Output goes to temp files, so a large output cannot block the child.
pub fn run_bounded(args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out");
    let err_path = dir.path().join("err");
    let child = ssot()
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let o = wait_or_kill(child, HANG, &format!("ssot {}", args.join(" ")));
    Output {
        status: o.status,
        stdout: std::fs::read(&out_path).unwrap(),
        stderr: std::fs::read(&err_path).unwrap(),
    }
}

/// `path` as a `&str`.
pub fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Configuration that takes the volume rules out of a test: the sandboxes
/// live on the machine's real temp volume, whose fill level is the machine's,
/// not the test's (the WAL rules have their own vectors).
pub const NO_VOLUME_RULES: &str =
    "[wal]\nvolume_near_pct = 100\nvolume_error_pct = 100\nmin_free_bytes = 0\n";

/// A fresh directory (mode 0755, removed on drop) on another filesystem than
/// `than`: under tmpfs `/dev/shm`. `None` where there is no such filesystem —
/// then a backup cannot be off PGDATA's filesystem and gates rightly deny.
pub fn other_filesystem_dir(than: &Path) -> Option<tempfile::TempDir> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let shm = Path::new("/dev/shm");
    let dev = |p: &Path| std::fs::metadata(p).map(|m| m.dev()).ok();
    if !shm.is_dir() || dev(shm).is_none() || dev(shm) == dev(than) {
        return None;
    }
    let dir = tempfile::Builder::new()
        .prefix("ssot-test-")
        .tempdir_in(shm)
        .ok()?;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).ok()?;
    Some(dir)
}

/// The real time now, as RFC 3339 (whole seconds): a decision that
/// authorises work (a gate, an apply that deletes) is made at the real time,
/// so the state it judges is written at it.
pub fn real_now() -> String {
    real_ago(0)
}

/// The real time `secs` seconds ago (negative: ahead), as RFC 3339.
pub fn real_ago(secs: i64) -> String {
    (chrono::Utc::now() - chrono::TimeDelta::seconds(secs))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Whether `args` (an ssot command line) asks for a decision that
/// authorises work: a gate, or a retention apply that deletes. Such a
/// decision takes no `--now` other than the real time.
pub fn authorises(args: &[&str]) -> bool {
    let at = |w: &str| args.iter().position(|a| *a == w);
    if args
        .iter()
        .take_while(|a| **a != "--")
        .any(|a| *a == "gate")
    {
        return true;
    }
    at("apply").is_some() && (at("--confirm").is_some() || at("--plan-hash").is_some())
}

/// A plain dump as pg_dump writes it, gzip'd (`pg_dump | gzip`): `rows`
/// lines of data between pg_dump's opening and closing comments.
#[allow(dead_code)]
pub fn plain_dump(rows: usize) -> Vec<u8> {
    let mut sql = String::from("--\n-- PostgreSQL database dump\n--\n\nCOPY t (a) FROM stdin;\n");
    for i in 0..rows {
        sql.push_str(&format!("{i}\tsome row data {i}\n"));
    }
    sql.push_str("\\.\n\n--\n-- PostgreSQL database dump complete\n--\n\n");
    gzip_of(sql.as_bytes())
}

/// A gzip stream of `data`.
#[allow(dead_code)]
pub fn gzip_of(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}
