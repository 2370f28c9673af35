//! `ssot retention` as a user runs it: plan, dry run, reviewed apply, safety
//! rails, and convergence after `kill -9`.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

mod common;
use common::{code, json, run, ssot};

const NOW: &str = "2026-02-13T12:00:00Z";

/// The differences between two snapshots, readably.
fn diff(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> String {
    let only_a: Vec<_> = a.keys().filter(|k| !b.contains_key(*k)).take(10).collect();
    let only_b: Vec<_> = b.keys().filter(|k| !a.contains_key(*k)).take(10).collect();
    let changed: Vec<_> = a
        .iter()
        .filter(|(k, v)| b.get(*k).is_some_and(|w| w != *v))
        .take(10)
        .collect();
    format!("only left: {only_a:?}\nonly right: {only_b:?}\nchanged: {changed:?}")
}

/// Artifacts and sidecars only: ssot's own hidden bookkeeping (lock, journal) left out.
fn artifacts_of(dir: &Path) -> BTreeMap<String, String> {
    snapshot_of(dir)
        .into_iter()
        .filter(|(k, _)| !k.starts_with(".ssot-retention."))
        .collect()
}

/// Names in `dir` (all of them, hidden included) with a content fingerprint.
fn snapshot_of(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for e in walkdir(dir) {
        let rel = e.strip_prefix(dir).unwrap().display().to_string();
        let m = fs::symlink_metadata(&e).unwrap();
        let fp = if m.is_file() {
            format!("file {}", fs::read(&e).unwrap().len())
        } else if m.is_dir() {
            "dir".into()
        } else {
            "link".into()
        };
        out.insert(rel, fp);
    }
    out
}

fn walkdir(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let is_dir = fs::symlink_metadata(&p).unwrap().is_dir();
        out.push(p.clone());
        if is_dir {
            out.extend(walkdir(&p));
        }
    }
    out
}

/// A snapshot directory per 4 hours for 20 days, each a directory of files,
/// some verified, a few partial, with a parent chain.
fn build_snapshots(root: &Path, files_per_artifact: usize) {
    fs::create_dir_all(root).unwrap();
    let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 24)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    for i in 0..120 {
        let t = start + chrono::TimeDelta::hours(4 * i);
        let name = t.format("snap_%Y%m%d_%H%M%S").to_string();
        let dir = root.join(&name);
        fs::create_dir(&dir).unwrap();
        for f in 0..files_per_artifact {
            fs::write(dir.join(format!("part{f:03}")), vec![b'x'; 512]).unwrap();
        }
        if i % 17 == 0 {
            fs::write(root.join(format!("{name}.verified")), "").unwrap();
        }
        if i % 29 == 5 {
            fs::write(
                root.join(format!("{name}.parent")),
                t.format("snap_%Y%m%d_000000").to_string(),
            )
            .unwrap();
        }
    }
    fs::write(root.join("snap_20260212_230000.partial"), "half").unwrap();
    fs::write(root.join("snap_20260201_010000.tmp"), "old half").unwrap();
}

const POLICY: [&str; 10] = [
    "--pattern",
    "snap_%Y%m%d_%H%M%S",
    "--keep-last",
    "6",
    "--keep-daily",
    "4",
    "--min-verified",
    "2",
    "--keep-weekly",
    "2",
];

/// `retention CMD` over `dir` with the test policy, at the real time (an
/// apply that deletes runs at the real time, so its reviewed plan is made
/// at it too; the snapshots are all in the past either way).
fn retention(cmd: &str, dir: &Path, state: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "retention",
        cmd,
        "--dir",
        dir.to_str().unwrap(),
        "--state",
        state.to_str().unwrap(),
    ];
    args.extend(POLICY);
    args.extend(extra);
    run(&args)
}

#[test]
fn plan_is_read_only_and_apply_needs_confirmation() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("snaps");
    build_snapshots(&root, 2);
    let state = tmp.path().join("state");
    let before = snapshot_of(&root);

    let o = retention("plan", &root, &state, &["--format", "json"]);
    assert!(code(&o) <= 1, "{}", String::from_utf8_lossy(&o.stderr));
    let plan = json(&o);
    let hash = plan["plan_hash"].as_str().unwrap().to_string();
    let deletions = plan["delete"].as_array().unwrap().len();
    assert!(
        deletions > 50,
        "the policy deletes most of the 120: {deletions}"
    );
    assert!(
        plan["delete"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["id"] == "snap_20260201_010000.tmp"),
        "an old partial goes"
    );
    assert_eq!(snapshot_of(&root), before, "plan changes nothing");

    let o = retention("apply", &root, &state, &["--format", "json"]);
    assert_eq!(code(&o), 0);
    assert_eq!(json(&o)["dry_run"], true);
    assert_eq!(
        snapshot_of(&root),
        before,
        "a dry run changes nothing, not even a lock file"
    );

    let o = retention(
        "apply",
        &root,
        &state,
        &["--plan-hash", &"0".repeat(64), "--format", "json"],
    );
    assert_eq!(code(&o), 1);
    assert!(json(&o)["refused"]
        .as_str()
        .unwrap()
        .contains("the plan changed since it was reviewed"));
    let after = artifacts_of(&root);
    assert!(
        after == before,
        "a refused apply deletes nothing:\n{}",
        diff(&before, &after)
    );

    let o = retention(
        "apply",
        &root,
        &state,
        &["--plan-hash", &hash, "--format", "json"],
    );
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let out = json(&o);
    assert_eq!(out["applied"], true);
    assert_eq!(out["deleted"].as_array().unwrap().len(), deletions);
    // Deleted oldest first.
    let deleted: Vec<&str> = out["deleted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let mut sorted = deleted.clone();
    sorted.sort();
    assert_eq!(
        deleted, sorted,
        "names sort by time here, so oldest first = sorted"
    );
    for id in &deleted {
        assert!(!root.join(id).exists());
        assert!(
            !root.join(format!("{id}.verified")).exists(),
            "sidecars go with their artifact"
        );
    }
    let status = fs::read_to_string(state.join("retention.status")).unwrap();
    assert!(
        status.contains(&format!("default.deleted={deletions}\n")),
        "{status}"
    );
    assert!(
        status.contains(&format!("default.plan_hash={hash}\n")),
        "{status}"
    );

    // Planning again deletes nothing more, and re-applying the reviewed hash is a no-op.
    let again = json(&retention("plan", &root, &state, &["--format", "json"]));
    assert!(again["delete"].as_array().unwrap().is_empty(), "{again}");
    let o = retention(
        "apply",
        &root,
        &state,
        &["--plan-hash", &hash, "--format", "json"],
    );
    assert_eq!(code(&o), 0);
    assert!(json(&o)["deleted"].as_array().unwrap().is_empty());
}

#[test]
fn never_through_a_symlink_and_never_outside_the_root() {
    let tmp = tempfile::tempdir().unwrap();
    let outside = tmp.path().join("precious");
    fs::create_dir(&outside).unwrap();
    fs::write(outside.join("data"), "keep me").unwrap();
    let real = tmp.path().join("real-root");
    fs::create_dir(&real).unwrap();
    // An old artifact that is a symlink to precious data, and an old directory
    // artifact with a symlink inside pointing at it.
    symlink(&outside, real.join("snap_20200101_000000")).unwrap();
    fs::create_dir(real.join("snap_20200102_000000")).unwrap();
    symlink(&outside, real.join("snap_20200102_000000/link")).unwrap();
    fs::write(real.join("snap_20260213_000000"), "new").unwrap();
    // The root itself is reached through a symlink (resolved once).
    let root = tmp.path().join("root-link");
    symlink(&real, &root).unwrap();
    let state = tmp.path().join("state");
    let o = run(&[
        "retention",
        "apply",
        "--dir",
        root.to_str().unwrap(),
        "--state",
        state.to_str().unwrap(),
        "--pattern",
        "snap_%Y%m%d_%H%M%S",
        "--keep-last",
        "1",
        "--confirm",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let out = json(&o);
    assert_eq!(out["deleted"], serde_json::json!(["snap_20200102_000000"]));
    assert!(out["plan"]["warnings"][0]
        .as_str()
        .unwrap()
        .contains("snap_20200101_000000 is a symlink: skipped"));
    assert_eq!(
        fs::read_to_string(outside.join("data")).unwrap(),
        "keep me",
        "nothing behind a link was touched"
    );
    assert!(
        fs::symlink_metadata(real.join("snap_20200101_000000")).is_ok(),
        "the link artifact itself is left alone"
    );

    // A catalog cannot smuggle a path out of the root.
    let catalog = tmp.path().join("catalog.json");
    fs::write(
        &catalog,
        r#"[{"id": "../precious", "created_at": "2020-01-01T00:00:00Z"}]"#,
    )
    .unwrap();
    let o = run(&[
        "retention",
        "apply",
        "--catalog",
        catalog.to_str().unwrap(),
        "--root",
        root.to_str().unwrap(),
        "--state",
        state.to_str().unwrap(),
        "--keep-last",
        "0",
        "--max-age",
        "1d",
        "--confirm",
    ]);
    // Refused at plan time, naming the id; nothing is touched.
    assert_eq!(code(&o), 1, "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("../precious") && out.contains("path separator"),
        "{out}"
    );
    assert!(outside.join("data").exists());
}

#[test]
fn catalog_source_with_reasons_and_max_delete() {
    let tmp = tempfile::tempdir().unwrap();
    let catalog = tmp.path().join("catalog.json");
    fs::write(
        &catalog,
        r#"[
          {"id": "base", "created_at": "2026-02-01T00:00:00Z", "size_bytes": 4000000000, "kind": "layer"},
          {"id": "l1", "created_at": "2026-02-05T00:00:00Z", "size_bytes": 1000000000, "parent": "base", "last_used_at": "2026-02-13T10:00:00Z"},
          {"id": "l2", "created_at": "2026-02-06T00:00:00Z", "size_bytes": 1000000000, "parent": "base", "last_used_at": "2026-02-07T00:00:00Z"},
          {"id": "l3", "created_at": "2026-02-07T00:00:00Z", "size_bytes": 1000000000, "parent": "l2", "last_used_at": "2026-02-08T00:00:00Z"},
          {"id": "keep", "created_at": "2026-02-12T00:00:00Z", "size_bytes": 1000000000, "pinned": true}
        ]"#,
    )
    .unwrap();
    let args = [
        "retention",
        "plan",
        "--catalog",
        catalog.to_str().unwrap(),
        "--now",
        NOW,
        "--max-total-size",
        "6GB",
        "--format",
        "json",
    ];
    let o = run(&args);
    let v = json(&o);
    let deleted: Vec<&str> = v["delete"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    // 8e9 bytes in, budget 6GB = 6442450944 bytes: l3 (a leaf, used longest ago) goes,
    // which leaves 7e9; then l2 (now a leaf) goes, leaving 6e9.
    assert_eq!(deleted, ["l3", "l2"], "{v}");
    assert!(v["delete"][0]["reasons"][0]
        .as_str()
        .unwrap()
        .starts_with("over size budget 6GB"));
    let keep_base = v["keep"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == "base")
        .unwrap();
    assert!(keep_base["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r == "parent of l1"));

    let mut refused = args.to_vec();
    refused.extend(["--max-delete", "1"]);
    let o = run(&refused);
    assert_eq!(code(&o), 1);
    assert!(json(&o)["refused"]
        .as_str()
        .unwrap()
        .contains("more than max_delete 1"));

    // Unknown fields in a catalog are an error, not silently ignored (a typo'd "pinned" must not delete).
    fs::write(
        &catalog,
        r#"[{"id": "x", "created_at": "2026-02-01T00:00:00Z", "pined": true}]"#,
    )
    .unwrap();
    let o = run(&[
        "retention",
        "plan",
        "--catalog",
        catalog.to_str().unwrap(),
        "--now",
        NOW,
    ]);
    assert_eq!(code(&o), 3);
    assert!(String::from_utf8_lossy(&o.stderr).contains("pined"));
}

#[test]
fn seed_profiles_work_without_configuration() {
    let tmp = tempfile::tempdir().unwrap();
    let dumps = tmp.path().join("dumps");
    fs::create_dir(&dumps).unwrap();
    for d in 1..=12 {
        fs::write(
            dumps.join(format!("ssot_202602{d:02}_030000.sql.gz")),
            "dump",
        )
        .unwrap();
    }
    // A restore drill's marker (the dump's checksum and an expiry after NOW)
    // and the drill record it counts for.
    let state = tmp.path().join("state");
    fs::create_dir(&state).unwrap();
    fs::write(
        state.join("restore_drill.status"),
        format!(
            "last_drill_at=2026-02-04T00:00:00Z\nlast_result=pass\nlast_artifact=ssot_20260203_030000.sql.gz\n\
             last_pass_at=2026-02-04T00:00:00Z\nlast_pass_artifact=ssot_20260203_030000.sql.gz\n\
             verified_artifacts=ssot_20260203_030000.sql.gz\nverified_until=2026-03-10T00:00:00Z\n\
             verified_sha256={}\n",
            ssot_core::evidence::sha256_hex(b"dump")
        ),
    )
    .unwrap();
    fs::write(
        dumps.join("ssot_20260203_030000.sql.gz.verified"),
        format!(
            "sha256={}\nverified_at=2026-02-04T00:00:00Z\nexpires_at=2026-03-10T00:00:00Z\n",
            ssot_core::evidence::sha256_hex(b"dump")
        ),
    )
    .unwrap();
    let o = run(&[
        "--state",
        state.to_str().unwrap(),
        "retention",
        "plan",
        "--profile",
        "backups",
        "--dir",
        dumps.to_str().unwrap(),
        "--now",
        NOW,
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let v = json(&o);
    let kept: Vec<&str> = v["keep"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    // 7 days (the seed's backup retention) plus the one verified dump (at least one valid dump).
    assert_eq!(kept.len(), 7, "{kept:?}");
    assert!(kept.contains(&"ssot_20260203_030000.sql.gz"));
    let o = run(&[
        "retention",
        "plan",
        "--profile",
        "nope",
        "--dir",
        dumps.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 3);
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("no retention profile \"nope\" (configured: backups, snapshots)"));
}

#[test]
fn apply_waits_for_no_one_a_running_operation_refuses_it() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("snaps");
    build_snapshots(&root, 1);
    let state = tmp.path().join("state");
    fs::create_dir_all(&state).unwrap();
    // A gated backup holds the operation lock (it is denied, but holds nothing then) —
    // so hold it directly the way a running gated command does.
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(state.join("operation.lock"))
        .unwrap();
    fs::write(state.join("operation.lock"), "backup by pid 1: pg_dump").unwrap();
    fs2::FileExt::lock_exclusive(&lock).unwrap();
    let before = snapshot_of(&root);
    let o = retention("apply", &root, &state, &["--confirm", "--format", "json"]);
    assert_eq!(code(&o), 1);
    assert!(json(&o)["refused"]
        .as_str()
        .unwrap()
        .contains("another operation holds the lock: backup by pid 1"));
    let after = snapshot_of(&root);
    assert!(after == before, "{}", diff(&before, &after));
    drop(lock);
}

/// kill -9 at random points of a run (after a random number of deletions
/// was seen, or before the first), then one uninterrupted run: every
/// interrupted history ends where the uninterrupted run does. No step needs
/// a process to finish, or to be killed, within any time.
#[test]
fn apply_converges_after_kill_9() {
    let tmp = tempfile::tempdir().unwrap();
    let reference = tmp.path().join("reference");
    build_snapshots(&reference, 60);
    let o = retention(
        "apply",
        &reference,
        &tmp.path().join("state-ref"),
        &["--confirm"],
    );
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let expected = snapshot_of(&reference);
    let top = |dir: &Path| {
        fs::read_dir(dir)
            .unwrap()
            .filter(|e| {
                !e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with(".ssot-")
            })
            .count()
    };
    let expected_top = top(&reference);

    let mut seed: u64 = 0x5eed;
    let (mut killed, mut mid_run_kills) = (0, 0);
    for round in 0..4 {
        let root = tmp.path().join(format!("round{round}"));
        build_snapshots(&root, 60);
        let state = tmp.path().join(format!("state{round}"));
        let total_before = top(&root);
        let mut args = vec![
            "retention",
            "apply",
            "--dir",
            root.to_str().unwrap(),
            "--state",
            state.to_str().unwrap(),
        ];
        args.extend(POLICY);
        args.push("--confirm");
        for _ in 0..6 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            // Kill once this many more entries are gone (0: at once).
            let after_deletions = ((seed >> 33) % 40) as usize;
            let before = top(&root);
            let mut child = ssot()
                .args(&args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            loop {
                if child.try_wait().unwrap().is_some() {
                    break; // it finished first: a complete run, not a kill
                }
                if before - top(&root).min(before) >= after_deletions {
                    child.kill().unwrap(); // SIGKILL
                    child.wait().unwrap();
                    killed += 1;
                    let after = top(&root);
                    if after < before && after > expected_top {
                        mid_run_kills += 1;
                    }
                    break;
                }
                std::thread::yield_now();
            }
        }
        // The uninterrupted run that ends every history.
        let o = ssot().args(&args).output().unwrap();
        assert!(
            o.status.success(),
            "round {round}: the last run failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let got = artifacts_of(&root);
        let want: BTreeMap<String, String> = expected
            .iter()
            .filter(|(k, _)| !k.starts_with(".ssot-retention."))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert!(
            got == want,
            "round {round}: interrupted runs must end where the uninterrupted one did:\n{}",
            diff(&got, &want)
        );
        assert!(
            !snapshot_of(&root)
                .keys()
                .any(|k| k.starts_with(".ssot-trash-")),
            "round {round}: trash left behind"
        );
        assert!(
            total_before > expected_top + 50,
            "most artifacts are to be deleted"
        );
    }
    // A figure, not an assertion: how many kills landed between deletions.
    eprintln!("{killed} runs killed with SIGKILL, {mid_run_kills} of them after deleting some but not all");
}

/// The text of a plan and of a dry run ends with how to apply it, in the
/// CLI's own flags (the core's text names no flag; the CLI adds the hint).
#[test]
fn plan_and_dry_run_text_say_how_to_apply() {
    let tmp = tempfile::tempdir().unwrap();
    let catalog = tmp.path().join("catalog.json");
    let arts: Vec<String> = (1..=5)
        .map(|d| format!(r#"{{"id": "d{d}", "created_at": "2026-02-0{d}T03:00:00Z"}}"#))
        .collect();
    fs::write(&catalog, format!("[{}]", arts.join(","))).unwrap();
    let state = tmp.path().join("state");
    let args = |cmd: &str| -> Vec<String> {
        [
            "--state",
            state.to_str().unwrap(),
            "--now",
            NOW,
            "retention",
            cmd,
            "--catalog",
            catalog.to_str().unwrap(),
            "--keep-last",
            "2",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let plan = run(&args("plan").iter().map(String::as_str).collect::<Vec<_>>());
    let text = String::from_utf8_lossy(&plan.stdout);
    let hash = text
        .lines()
        .find_map(|l| l.strip_prefix("plan_hash "))
        .unwrap()
        .to_string();
    assert!(
        text.ends_with(&format!(
            "to apply exactly this plan: `ssot retention apply` with the same arguments (but without --now: an apply that deletes runs at the real time) and --plan-hash {hash}\n"
        )),
        "{text}"
    );
    let dry = run(&args("apply").iter().map(String::as_str).collect::<Vec<_>>());
    let text = String::from_utf8_lossy(&dry.stdout);
    assert!(
        text.ends_with(&format!(
            "DRY RUN: nothing deleted.\nTo apply, re-run with the same arguments (but without --now: an apply that deletes runs at the real time) and --plan-hash {hash} (or --confirm)\n"
        )),
        "{text}"
    );
    // Without --now, the hint is just the arguments; and following it works.
    let real: Vec<String> = args("plan")
        .into_iter()
        .filter(|a| a != "--now" && a != NOW)
        .collect();
    let plan = run(&real.iter().map(String::as_str).collect::<Vec<_>>());
    let text = String::from_utf8_lossy(&plan.stdout).to_string();
    let hash = text
        .lines()
        .find_map(|l| l.strip_prefix("plan_hash "))
        .unwrap()
        .to_string();
    assert!(
        text.ends_with(&format!(
            "to apply exactly this plan: `ssot retention apply` with the same arguments and --plan-hash {hash}\n"
        )),
        "{text}"
    );
}

/// Today's restic from the command line and the configuration: `-1` in both
/// flag spellings, `--keep-tag` (repeatable) with `NAME.tags` sidecars, the
/// keep-the-oldest rule and its reason, and `--restic-compat 0.14`.
#[test]
fn todays_restic_unlimited_counts_tags_oldest_and_the_0_14_mode() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dumps");
    fs::create_dir(&dir).unwrap();
    for d in 1..=6 {
        fs::write(dir.join(format!("ssot_202602{d:02}_030000.sql.gz")), b"x").unwrap();
    }
    fs::write(
        dir.join("ssot_20260202_030000.sql.gz.tags"),
        "monthly\nprod\n",
    )
    .unwrap();
    fs::write(dir.join("ssot_20260203_030000.sql.gz.tags"), "monthly\n").unwrap();
    let state = tmp.path().join("state");
    let plan = |extra: &[&str]| {
        let mut args = vec![
            "--state",
            state.to_str().unwrap(),
            "--now",
            NOW,
            "retention",
            "plan",
            "--dir",
            dir.to_str().unwrap(),
            "--pattern",
            "ssot_%Y%m%d_%H%M%S.sql.gz",
            "--format",
            "json",
        ];
        args.extend(extra);
        let o = run(&args);
        assert!(
            code(&o) <= 1,
            "{extra:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        json(&o)
    };
    let reasons = |v: &serde_json::Value, id: &str| -> Vec<String> {
        v["keep"]
            .as_array()
            .unwrap()
            .iter()
            .chain(v["delete"].as_array().unwrap())
            .find(|e| e["id"] == id)
            .unwrap()["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap().to_string())
            .collect()
    };
    let kept = |v: &serde_json::Value| v["keep"].as_array().unwrap().len();
    // -1: every day, in both spellings.
    for flags in [&["--keep-daily", "-1"][..], &["--keep-daily=-1"][..]] {
        let v = plan(flags);
        assert_eq!(kept(&v), 6, "{flags:?}");
        assert_eq!(
            reasons(&v, "ssot_20260201_030000.sql.gz"),
            ["daily 2026-02-01"]
        );
    }
    // Tags: all of one list; a kept-by-tag dump uses up no count.
    let v = plan(&[
        "--keep-last",
        "1",
        "--keep-tag",
        "monthly,prod",
        "--keep-tag",
        "legal",
    ]);
    assert_eq!(
        reasons(&v, "ssot_20260202_030000.sql.gz"),
        ["has tags monthly,prod"]
    );
    assert_eq!(
        reasons(&v, "ssot_20260206_030000.sql.gz"),
        ["last 1/1", "last_good_copy"]
    );
    assert_eq!(
        reasons(&v, "ssot_20260203_030000.sql.gz"),
        ["not kept by any rule (keep_last 1, keep_tag monthly,prod, keep_tag legal)"]
    );
    // The oldest: counts left when the walk ends.
    let v = plan(&["--keep-monthly", "3"]);
    assert_eq!(
        reasons(&v, "ssot_20260201_030000.sql.gz"),
        ["oldest monthly 2026-02"]
    );
    assert_eq!(kept(&v), 2);
    let v = plan(&["--keep-monthly", "3", "--restic-compat", "0.14"]);
    assert_eq!(kept(&v), 1);
    // Refusals name the flag or the key.
    let o = run(&[
        "--state",
        state.to_str().unwrap(),
        "retention",
        "plan",
        "--dir",
        dir.to_str().unwrap(),
        "--keep-daily",
        "-2",
    ]);
    assert_eq!(code(&o), 3);
    assert!(String::from_utf8_lossy(&o.stderr).contains("-2 is not in -1..=4294967295"));
    let o = run(&[
        "--state",
        state.to_str().unwrap(),
        "retention",
        "plan",
        "--dir",
        dir.to_str().unwrap(),
        "--keep-daily",
        "-1",
        "--restic-compat",
        "0.14",
    ]);
    assert_eq!(code(&o), 3);
    assert!(String::from_utf8_lossy(&o.stderr).contains("restic 0.14 has no unlimited counts"));
    // The same from a profile in the configuration.
    let cfg = tmp.path().join("ssot.toml");
    let profile = |extra: &str| {
        let toml = format!(
            "[retention.dumps]\nroot = \"{}\"\npattern = \"ssot_%Y%m%d_%H%M%S.sql.gz\"\nkeep_monthly = -1\nkeep_tags = [[\"monthly\"]]\n{extra}",
            dir.display()
        );
        fs::write(&cfg, toml).unwrap();
        let (c, st) = (cfg.to_str().unwrap(), state.to_str().unwrap());
        run(&[
            "--config",
            c,
            "--state",
            st,
            "--now",
            NOW,
            "retention",
            "plan",
            "--profile",
            "dumps",
            "--format",
            "json",
        ])
    };
    let o = profile("restic_compat = \"0.14\"\n");
    assert_eq!(code(&o), 3, "0.14 refuses -1 from the configuration too");
    let o = profile("");
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let v = json(&o);
    assert_eq!(
        reasons(&v, "ssot_20260203_030000.sql.gz"),
        ["has tags monthly"]
    );
    assert_eq!(
        reasons(&v, "ssot_20260206_030000.sql.gz"),
        ["monthly 2026-02", "last_good_copy"]
    );
    assert_eq!(
        reasons(&v, "ssot_20260201_030000.sql.gz"),
        ["oldest monthly 2026-02"]
    );
    let shown = run(&["--config", cfg.to_str().unwrap(), "config", "show"]);
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(
        text.contains("keep_monthly = -1") && text.contains("keep_tags = [[\"monthly\"]]"),
        "{text}"
    );
}
