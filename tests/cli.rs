//! The `ssot` binary as a user runs it: exit codes, JSON fields, state files.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::{code, json, real_ago, real_now, run, ssot, stderr, stdout};

const SEG: u64 = 16 << 20;
const NOW: &str = "2026-02-05T12:00:00Z";

struct Sandbox {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Sandbox {
    fn new(segments: u64) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        let pg_wal = root.join("pgdata/pg_wal");
        fs::create_dir_all(pg_wal.join("archive_status")).unwrap();
        for n in 1..=segments {
            File::create(pg_wal.join(format!("00000001{n:016X}")))
                .unwrap()
                .set_len(SEG)
                .unwrap();
        }
        Sandbox { _tmp: tmp, root }
    }
    fn p(&self, rel: &str) -> String {
        self.root.join(rel).display().to_string()
    }
    /// A config where the host's real disk usage cannot change the outcome.
    fn neutral_config(&self) -> String {
        let path = self.p("ssot.toml");
        fs::write(
            &path,
            "[wal]\nvolume_near_pct = 100\nvolume_error_pct = 100\nmin_free_bytes = 0\n",
        )
        .unwrap();
        path
    }
}

#[test]
fn demo_shows_an_allowed_and_a_denied_gate() {
    let o = run(&["demo"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(code(&o), 0, "{out}\n{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("gate backup: ALLOWED"), "{out}");
    assert!(out.contains("gate backup: DENIED"), "{out}");
    assert!(
        out.contains("DENY wal_status_ok: WAL status is NEAR_LIMIT"),
        "{out}"
    );
    assert!(out.contains("clears at the limit"), "{out}");
    let sandbox = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("state    "))
        .expect("the demo prints where its sandbox is");
    assert!(Path::new(sandbox).join("gate.log").exists());
    let _ = fs::remove_dir_all(Path::new(sandbox).parent().unwrap());
}

#[test]
fn demo_json_and_a_chosen_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sandbox");
    let o = run(&[
        "demo",
        "--format",
        "json",
        "--now",
        NOW,
        "--dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0);
    let v = json(&o);
    assert_eq!(v["as_expected"], true);
    let steps = v["steps"].as_array().unwrap();
    let statuses: Vec<_> = steps
        .iter()
        .map(|s| s["wal"]["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["OK", "NEAR_LIMIT", "OK", "OK"]);
    let allowed: Vec<_> = steps
        .iter()
        .map(|s| s["gate"]["allowed"].as_bool().unwrap())
        .collect();
    assert_eq!(allowed, [true, false, true, true]);
    assert_eq!(steps[3]["at"], NOW, "the demo's timeline ends at now");
    assert_eq!(steps[0]["at"], "2026-02-05T11:00:00Z");
    let log = fs::read_to_string(dir.join("state/gate.log")).unwrap();
    assert_eq!(log.lines().count(), 4);
}

#[test]
fn wal_check_reports_the_seed_fields_and_writes_state() {
    let s = Sandbox::new(3);
    let cfg = s.neutral_config();
    let o = run(&[
        "wal",
        "check",
        "--pgdata",
        &s.p("pgdata"),
        "--state",
        &s.p("state"),
        "--config",
        &cfg,
        "--now",
        NOW,
        "--format",
        "json",
    ]);
    let v = json(&o);
    assert_eq!(code(&o), 0, "{v}");
    assert_eq!(v["status"], "OK");
    assert_eq!(v["wal_size"], 3 * SEG);
    assert_eq!(v["segment_count"], 3);
    assert!(v["wal_used_pct"].is_number());
    assert_eq!(v["threshold_pct"], 100);
    assert_eq!(v["checked_at"], NOW);
    assert!(v["reasons"].as_array().unwrap().is_empty());
    let status = fs::read_to_string(s.root.join("state/wal.status")).unwrap();
    assert!(status.contains("wal_status=OK\n"), "{status}");
    assert!(
        status.contains(&format!("wal_size={}\n", 3 * SEG)),
        "{status}"
    );
    assert!(status.contains(&format!("checked_at={NOW}\n")), "{status}");
    assert_eq!(
        fs::read_to_string(s.root.join("state/wal.last_check")).unwrap(),
        format!("{NOW}\n")
    );

    // Unknown keys written by someone else survive the next rewrite.
    fs::write(
        s.root.join("state/wal.status"),
        format!("# by hand\nowner=alex\n{status}"),
    )
    .unwrap();
    let o = run(&[
        "wal",
        "check",
        "--pgdata",
        &s.p("pgdata"),
        "--state",
        &s.p("state"),
        "--config",
        &cfg,
        "--now",
        NOW,
    ]);
    assert_eq!(code(&o), 0);
    let status = fs::read_to_string(s.root.join("state/wal.status")).unwrap();
    assert!(status.starts_with("# by hand\nowner=alex\n"), "{status}");
}

#[test]
fn wal_check_exit_codes_follow_the_status() {
    let s = Sandbox::new(2); // 32MB of WAL
    let cfg = s.neutral_config();
    fs::create_dir_all(s.root.join("state")).unwrap();
    let check = |extra: &[&str]| {
        let mut args: Vec<String> = [
            "wal",
            "check",
            "--pgdata",
            &s.p("pgdata"),
            "--state",
            &s.p("state"),
        ]
        .iter()
        .map(|a| a.to_string())
        .collect();
        args.extend(["--config", &cfg, "--now", NOW, "--format", "json"].map(String::from));
        args.extend(extra.iter().map(|a| a.to_string()));
        let o = ssot().args(&args).output().unwrap();
        (code(&o), json(&o))
    };
    // wal.settings (written by `contract check`) declares max_wal_size=16MB,
    // in 4MB segments: PostgreSQL keeps 16MB + 2 segments (24MB), 32MB is over it.
    fs::write(
        s.root.join("state/wal.settings"),
        "max_wal_size=16MB\nwal_keep_size=0\nwal_segment_size=4MB\n",
    )
    .unwrap();
    let (c, v) = check(&[]);
    assert_eq!((c, v["status"].as_str().unwrap()), (1, "NEAR_LIMIT"), "{v}");
    assert!(v["settings_source"]
        .as_str()
        .unwrap()
        .ends_with("wal.settings"));
    fs::write(s.root.join("state/wal.settings"), "max_wal_size=8MB\n").unwrap();
    let (c, v) = check(&[]);
    assert_eq!((c, v["status"].as_str().unwrap()), (2, "ERROR"), "{v}");
    fs::write(s.root.join("state/wal.settings"), "max_wal_size=4GB\n").unwrap();
    // An inactive slot from `psql -AtF,` output: GROWING, exit 1.
    fs::write(s.p("slots.csv"), "old_standby,f,extended,2147483648\n").unwrap();
    let slots = s.p("slots.csv");
    let (c, v) = check(&["--slots", &slots]);
    assert_eq!((c, v["status"].as_str().unwrap()), (1, "GROWING"), "{v}");
    assert_eq!(v["reasons"][0]["rule"], "slot_inactive");
    // A corrupt wal.settings is a failed measurement, not a silent default.
    fs::write(s.root.join("state/wal.settings"), "max_wal_size=4 gigs\n").unwrap();
    let (c, v) = check(&[]);
    assert_eq!(c, 2);
    assert_eq!(v["reasons"][0]["rule"], "measurement_failed");
    assert!(
        v["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains("wal.settings:1: key \"max_wal_size\""),
        "{v}"
    );
}

#[test]
fn wal_check_of_a_missing_pgdata_records_error_and_exits_2() {
    let s = Sandbox::new(0);
    let o = run(&[
        "wal",
        "check",
        "--pgdata",
        &s.p("nope"),
        "--state",
        &s.p("state"),
        "--now",
        NOW,
        "--format",
        "json",
    ]);
    let v = json(&o);
    assert_eq!(code(&o), 2);
    assert_eq!(v["status"], "ERROR");
    assert_eq!(v["reasons"][0]["rule"], "measurement_failed");
    assert!(v["wal_size"].is_null());
    let status = fs::read_to_string(s.root.join("state/wal.status")).unwrap();
    assert!(status.contains("wal_status=ERROR"), "{status}");
    assert!(
        !s.root.join("state/wal.last_check").exists(),
        "no completed measurement"
    );
}

#[test]
fn gate_without_state_denies_and_logs() {
    let s = Sandbox::new(1);
    fs::create_dir(s.root.join("target")).unwrap();
    let o = run(&[
        "gate",
        "backup",
        "--target",
        &s.p("target"),
        "--pgdata",
        &s.p("pgdata"),
        "--state",
        &s.p("state"),
        "--format",
        "json",
    ]);
    let after = chrono::Utc::now();
    let v = json(&o);
    assert_eq!(code(&o), 1, "{v}");
    assert_eq!(v["allowed"], false);
    assert_eq!(v["operation"], "backup");
    assert_eq!(v["reasons"][0]["rule"], "wal_status_missing");
    let log = fs::read_to_string(s.root.join("state/gate.log")).unwrap();
    let line: Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    assert_eq!(line["allowed"], false);
    // gate.log records the real decision time.
    let at: chrono::DateTime<chrono::Utc> = line["decided_at"].as_str().unwrap().parse().unwrap();
    assert!(at <= after, "decided at {at}, before {after}");
}

#[test]
fn gate_that_cannot_record_its_decision_exits_2() {
    let s = Sandbox::new(1);
    fs::write(s.p("state"), "not a directory").unwrap();
    let o = run(&["gate", "backup", "--state", &s.p("state")]);
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("could not be evaluated, denying"));
}

/// A directory on another filesystem than the temp dir, for the separate-volume check.
fn other_filesystem() -> Option<tempfile::TempDir> {
    use std::os::unix::fs::MetadataExt;
    let shm = Path::new("/dev/shm");
    let tmp_dev = fs::metadata(std::env::temp_dir()).ok()?.dev();
    (fs::metadata(shm).ok()?.dev() != tmp_dev)
        .then(|| tempfile::tempdir_in(shm).ok())
        .flatten()
}

fn write_ok_status(state: &Path, checked_at: &str) {
    fs::create_dir_all(state).unwrap();
    fs::write(
        state.join("wal.status"),
        format!("wal_status=OK\nchecked_at={checked_at}\n"),
    )
    .unwrap();
}

#[test]
fn gate_allows_runs_the_command_under_the_lock_and_denies_a_second_operation() {
    let Some(pg) = other_filesystem() else {
        eprintln!("SKIPPED: /dev/shm is not a separate filesystem here");
        return;
    };
    fs::create_dir_all(pg.path().join("pg_wal")).unwrap();
    let s = Sandbox::new(0);
    fs::create_dir(s.root.join("target")).unwrap();
    write_ok_status(&s.root.join("state"), &real_now());
    let pgdata = pg.path().to_str().unwrap();
    let base = [
        "--target",
        &s.p("target"),
        "--pgdata",
        pgdata,
        "--state",
        &s.p("state"),
        "--estimate",
        "1MB",
    ];
    let mut args = vec!["gate", "backup", "--format", "json"];
    args.extend(base);
    let o = run(&args);
    let v = json(&o);
    assert_eq!(
        code(&o),
        0,
        "the temp dir's volume needs 10% and 1GiB free: {v}"
    );
    assert!(v["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["rule"] == "separate_filesystem" && r["passed"] == true));

    // Allowed: the command runs, and its exit status is ssot's.
    let marker = s.p("ran");
    let mut args = vec!["gate", "backup"];
    args.extend(base);
    let script = format!("echo dumped > {marker}; exit 7");
    args.extend(["--", "sh", "-c", &script]);
    let o = run(&args);
    assert_eq!(code(&o), 7);
    assert_eq!(fs::read_to_string(&marker).unwrap(), "dumped\n");
    assert!(o.stdout.is_empty(), "the decision goes to stderr");
    assert!(String::from_utf8_lossy(&o.stderr).contains("gate backup: ALLOWED"));

    // While one gated operation runs, another is denied, naming the holder.
    let mut args = vec!["gate", "backup"];
    args.extend(base);
    args.extend(["--", "sleep", "5"]);
    let mut child = ssot()
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lock = s.root.join("state/operation.lock");
    let start = Instant::now();
    while !fs::read_to_string(&lock)
        .unwrap_or_default()
        .contains("sleep 5")
    {
        assert!(
            start.elapsed() < common::HANG,
            "the first operation never took the lock"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut args = vec!["gate", "snapshot", "--format", "json"];
    args.extend(base);
    let o = run(&args);
    let v = json(&o);
    assert_eq!(code(&o), 1);
    let lock_reason = v["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "operation_lock")
        .unwrap()
        .clone();
    assert_eq!(lock_reason["passed"], false);
    assert!(
        lock_reason["message"]
            .as_str()
            .unwrap()
            .contains("backup by pid"),
        "{lock_reason}"
    );
    assert!(child.wait().unwrap().success());

    // Denied: the command does not run.
    write_ok_status(&s.root.join("state"), &real_ago(3600)); // stale
    let marker2 = s.p("ran2");
    let mut args = vec!["gate", "backup"];
    args.extend(base);
    let touch = format!("touch {marker2}");
    args.extend(["--", "sh", "-c", &touch]);
    let o = run(&args);
    assert_eq!(code(&o), 124, "denied, with a command: the reserved code");
    assert!(
        !Path::new(&marker2).exists(),
        "a denied operation must not run"
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("wal_status_stale"));
}

#[test]
fn gate_restore_and_startup_need_the_contract() {
    let s = Sandbox::new(1);
    write_ok_status(&s.root.join("state"), &real_now());
    let o = run(&[
        "gate",
        "startup",
        "--state",
        &s.p("state"),
        "--pgdata",
        &s.p("pgdata"),
        "--format",
        "json",
    ]);
    let v = json(&o);
    assert_eq!(code(&o), 1);
    assert_eq!(v["reasons"][0]["rule"], "contract_status_missing");
}

#[test]
fn status_shows_state_files() {
    let s = Sandbox::new(2);
    let cfg = s.neutral_config();
    assert_eq!(
        code(&run(&[
            "wal",
            "check",
            "--pgdata",
            &s.p("pgdata"),
            "--state",
            &s.p("state"),
            "--config",
            &cfg,
            "--now",
            NOW
        ])),
        0
    );
    fs::write(
        s.root.join("state/contract.status"),
        "contract_status=PASS\n%%\n",
    )
    .unwrap();
    let o = run(&[
        "status",
        "--state",
        &s.p("state"),
        "--now",
        NOW,
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 0);
    let v = json(&o);
    assert_eq!(v["files"]["wal.status"]["values"]["wal_status"], "OK");
    assert_eq!(v["files"]["wal.last_check"]["lines"][0], NOW);
    assert_eq!(v["files"]["contract.status"]["state"], "corrupt");
    assert_eq!(v["files"]["active_pvc.list"]["state"], "missing");
    let o = run(&[
        "status",
        "--state",
        &s.p("state"),
        "--now",
        "2026-02-05T12:05:00Z",
    ]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("wal_status=OK"), "{text}");
    assert!(text.contains("(checked 5min ago)"), "{text}");
    assert!(text.contains("CORRUPT: "), "{text}");
}

#[test]
fn config_show_prints_the_effective_configuration() {
    let o = run(&["config", "show"]);
    assert_eq!(code(&o), 0);
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        text.starts_with("# effective configuration: built-in defaults"),
        "{text}"
    );
    let v: toml::Value = toml::from_str(&text).unwrap();
    assert_eq!(v["contract"]["max_wal_size"].as_str(), Some("4GB"));
    assert_eq!(v["contract"]["min_wal_size"].as_str(), Some("1GB"));
    assert_eq!(v["contract"]["wal_keep_size"].as_str(), Some("0"));
    assert_eq!(v["contract"]["checkpoint_timeout"].as_str(), Some("5min"));
    assert_eq!(v["wal"]["volume_near_pct"].as_float(), Some(80.0));
    assert_eq!(v["state_dir"].as_str(), Some("/opt/ssot/state"));

    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("ssot.toml");
    fs::write(&cfg, "[wal]\nvolume_near_pct = 70\n").unwrap();
    let o = run(&["config", "show", "--config", cfg.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("volume_near_pct = 70.0"), "{text}");
    assert!(
        text.contains(cfg.to_str().unwrap()),
        "names the file it read: {text}"
    );

    fs::write(&cfg, "[wal]\nvolume_near_pcnt = 70\n").unwrap();
    let o = run(&["config", "show", "--config", cfg.to_str().unwrap()]);
    assert_eq!(code(&o), 3, "a bad configuration gives no verdict");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("volume_near_pcnt") && err.contains(cfg.to_str().unwrap()),
        "{err}"
    );

    let o = run(&["config", "show", "--config", "/nonexistent/ssot.toml"]);
    assert_eq!(code(&o), 3);
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/ssot.toml"));
}

#[test]
fn bad_arguments_exit_3_with_the_ssot_prefix() {
    for args in [
        &["wal", "check", "--now", "yesterday"][..],
        &["gate", "teleport"],
        &["gate", "backup", "--estimate", "4gigs"],
    ] {
        let o = run(args);
        assert_eq!(code(&o), 3, "{args:?}");
        assert!(
            String::from_utf8_lossy(&o.stderr).starts_with("ssot: error: "),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn state_dir_comes_from_the_environment() {
    let s = Sandbox::new(1);
    let cfg = s.neutral_config();
    let o = ssot()
        .args(["wal", "check", "--config", &cfg, "--now", NOW])
        .env("SSOT_STATE_DIR", s.p("envstate"))
        .env("PGDATA", s.p("pgdata"))
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert!(s.root.join("envstate/wal.status").exists());
}

/// `ssot completions` and `ssot man` come from the flag definitions: they
/// work on a machine whose configuration is broken or absent.
#[test]
fn completions_and_man_pages_need_no_configuration() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("ssot.toml");
    fs::write(&bad, "[wal\n").unwrap();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = ssot()
            .env("SSOT_CONFIG", &bad)
            .args(["completions", shell])
            .output()
            .unwrap();
        assert_eq!(code(&o), 0, "{shell}: {}", stderr(&o));
        assert!(stdout(&o).contains("retention"), "{shell}");
    }
    let o = ssot().env("SSOT_CONFIG", &bad).arg("man").output().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).starts_with(".ie") && stdout(&o).contains(".TH ssot 1"));
    let dir = tmp.path().join("man1");
    let o = ssot()
        .args(["man", "--dir", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let page = fs::read_to_string(dir.join("ssot-retention-plan.1")).unwrap();
    assert!(page.contains("keep\\-tag"), "the page documents the flags");
}
