//! The restic catalog adapter against the real restic (issue 22): ssot plans
//! over `restic snapshots --json` with restic's own policy flags and keeps
//! exactly what `restic forget --dry-run --json` keeps, and the `restic
//! forget` commands its plan prints — pasted into a shell, or run by
//! `retention apply --plan-hash` under the operation lock — leave a
//! repository that `restic check` passes and that lists exactly ssot's kept
//! set.
//!
//! Each test builds its own repository in a temp dir. Without `restic` on
//! PATH (scripts/install-test-deps installs it) the tests say so and pass
//! without checking anything.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

mod common;
use common::{code, json, ssot, stderr, stdout};

/// A throwaway restic repository with a controlled history.
struct Repo {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    repo: PathBuf,
    /// `0.14` for Debian 12's restic, else `current` (ssot's `restic_compat`).
    compat: &'static str,
}

/// `restic version`, or `None` (with the reason on stderr) when restic is absent.
fn restic_version() -> Option<String> {
    match Command::new("restic").arg("version").output() {
        Ok(o) if o.status.success() => Some(String::from_utf8_lossy(&o.stdout).into_owned()),
        _ => {
            eprintln!(
                "SKIPPED: restic is not installed (scripts/install-test-deps installs it); nothing was checked"
            );
            None
        }
    }
}

impl Repo {
    /// A repository with snapshots of three groups (two hosts, two path
    /// sets), tagged, at fixed times in January–April 2026.
    fn new() -> Option<Repo> {
        let version = restic_version()?;
        let compat = if version.starts_with("restic 0.14.") {
            "0.14"
        } else {
            "current"
        };
        let tmp = tempfile::tempdir().unwrap();
        let dir = fs::canonicalize(tmp.path()).unwrap();
        let repo = dir.join("repo");
        let r = Repo {
            _tmp: tmp,
            dir,
            repo,
            compat,
        };
        r.ok(&["init"]);
        for d in ["a", "b"] {
            fs::create_dir_all(r.dir.join(d)).unwrap();
        }
        // (host, paths, tags): the second group is given its paths in
        // reverse order, which restic groups with the sorted order.
        let groups: [(&str, &[&str]); 3] = [("db1", &["a"]), ("db1", &["b", "a"]), ("db2", &["a"])];
        let mut seed: u64 = 0x5eed;
        let mut n = 0;
        for (host, paths) in groups {
            // 12 snapshots a group, 1 to 9 days and 0 to 23 hours apart.
            let mut t = chrono::DateTime::parse_from_rfc3339("2026-01-03T10:00:00Z").unwrap();
            for i in 0..12 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let days = 1 + (seed >> 33) % 9;
                let hours = (seed >> 45) % 24;
                t += chrono::Duration::days(days as i64) + chrono::Duration::hours(hours as i64);
                fs::write(r.dir.join(paths[0]).join("f"), format!("{host} {i}")).unwrap();
                let time = t.format("%Y-%m-%d %H:%M:%S").to_string();
                let mut args = vec!["backup", "--host", host, "--time", &time];
                let tags = match i % 4 {
                    0 => Some("keep,pg"),
                    1 => Some("pg"),
                    2 => Some("keep"),
                    _ => None,
                };
                if let Some(tags) = tags {
                    args.extend(["--tag", tags]);
                }
                let full: Vec<String> = paths
                    .iter()
                    .map(|p| r.dir.join(p).display().to_string())
                    .collect();
                args.extend(full.iter().map(String::as_str));
                r.ok(&args);
                n += 1;
            }
        }
        assert_eq!(r.snapshot_ids().len(), n);
        Some(r)
    }

    fn restic(&self, args: &[&str]) -> Command {
        let mut c = Command::new("restic");
        c.env("RESTIC_REPOSITORY", &self.repo)
            .env("RESTIC_PASSWORD", "ssot-test")
            .env("TZ", "UTC")
            .env("HOME", &self.dir)
            .env_remove("RESTIC_PASSWORD_FILE")
            .env_remove("RESTIC_PASSWORD_COMMAND")
            .args(["--no-cache", "-q"])
            .args(args);
        c
    }

    /// Runs restic and returns its stdout; a failure fails the test.
    fn ok(&self, args: &[&str]) -> String {
        let o = self.restic(args).output().unwrap();
        assert!(
            o.status.success(),
            "restic {args:?}: {}\n{}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// `restic snapshots --json`, written to a file for ssot.
    fn listing(&self) -> PathBuf {
        let p = self.dir.join("snapshots.json");
        fs::write(&p, self.ok(&["snapshots", "--json"])).unwrap();
        p
    }

    fn snapshot_ids(&self) -> BTreeSet<String> {
        let v: Value = serde_json::from_str(&self.ok(&["snapshots", "--json"])).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect()
    }

    /// What `restic forget --dry-run --json POLICY` keeps.
    fn restic_keeps(&self, policy: &[&str]) -> BTreeSet<String> {
        let mut args = vec!["forget", "--dry-run", "--json"];
        args.extend(policy);
        let v: Value = serde_json::from_str(&self.ok(&args)).unwrap();
        let mut kept = BTreeSet::new();
        for group in v.as_array().unwrap() {
            for s in group["keep"].as_array().into_iter().flatten() {
                kept.insert(s["id"].as_str().unwrap().to_string());
            }
        }
        kept
    }

    /// `ssot retention plan --catalog-format restic POLICY` over the listing.
    fn plan(&self, listing: &Path, policy: &[&str], format: &str) -> Output {
        let mut args = vec![
            "retention",
            "plan",
            "--catalog",
            listing.to_str().unwrap(),
            "--catalog-format",
            "restic",
            "--restic-compat",
            self.compat,
            "--format",
            format,
        ];
        args.extend(policy);
        ssot()
            .args(&args)
            .env("SSOT_STATE_DIR", self.dir.join("state"))
            .output()
            .unwrap()
    }
}

impl Repo {
    /// `ssot retention apply --catalog-format restic POLICY [--plan-hash H]`
    /// (JSON), with restic's repository settings in the environment.
    fn apply(&self, listing: &Path, policy: &[&str], hash: Option<&str>) -> Output {
        let mut args = vec![
            "retention",
            "apply",
            "--catalog",
            listing.to_str().unwrap(),
            "--catalog-format",
            "restic",
            "--restic-compat",
            self.compat,
            "--format",
            "json",
        ];
        args.extend(policy);
        if let Some(h) = hash {
            args.extend(["--plan-hash", h]);
        }
        ssot()
            .args(&args)
            .env("SSOT_STATE_DIR", self.dir.join("state"))
            .env("RESTIC_REPOSITORY", &self.repo)
            .env("RESTIC_PASSWORD", "ssot-test")
            .env("RESTIC_CACHE_DIR", self.dir.join("cache"))
            .env("HOME", &self.dir)
            .output()
            .unwrap()
    }
}

/// The ids of a plan's `keep` (or `delete`) entries.
fn ids(plan: &Value, key: &str) -> BTreeSet<String> {
    plan[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect()
}

/// restic's policy flags, given to restic and to ssot alike.
const POLICIES: &[&[&str]] = &[
    &["--keep-last", "5"],
    &["--keep-daily", "7", "--keep-weekly", "4"],
    &["--keep-monthly", "2", "--keep-tag", "keep"],
    &["--keep-last", "1", "--keep-tag", "keep,pg"],
    &["--keep-last", "2", "--keep-tag", "pg", "--keep-tag", "keep"],
    &["--keep-within", "20d", "--keep-yearly", "1"],
    &["--keep-hourly", "3", "--keep-within-weekly", "1m"],
    &[
        "--keep-daily",
        "3",
        "--keep-weekly",
        "2",
        "--keep-monthly",
        "-1",
    ],
];

#[test]
fn ssot_keeps_exactly_what_restic_forget_keeps_with_the_same_flags() {
    let Some(repo) = Repo::new() else { return };
    let listing = repo.listing();
    let all = repo.snapshot_ids();
    for policy in POLICIES {
        if repo.compat == "0.14" && policy.contains(&"-1") {
            continue; // restic 0.14 has no -1 (keep every bucket)
        }
        let o = repo.plan(&listing, policy, "json");
        assert_eq!(code(&o), 0, "{policy:?}: {}", stderr(&o));
        let plan = json(&o);
        let kept = ids(&plan, "keep");
        let expected = repo.restic_keeps(policy);
        assert_eq!(kept, expected, "{policy:?}: ssot's kept set is restic's");
        eprintln!("{policy:?}: both keep {} of {}", kept.len(), all.len());
        // Not vacuous: every policy here deletes some and keeps some.
        assert!(!kept.is_empty() && kept.len() < all.len(), "{policy:?}");
        let deleted = ids(&plan, "delete");
        assert_eq!(
            &kept | &deleted,
            all,
            "{policy:?}: every snapshot is decided"
        );
        // The commands delete exactly the plan's deletions.
        let in_commands: BTreeSet<String> = plan["commands"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|argv| {
                let argv = argv.as_array().unwrap();
                assert_eq!(argv[0], "restic");
                assert_eq!(argv[1], "forget");
                argv[2..]
                    .iter()
                    .map(|id| id.as_str().unwrap().to_string())
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(in_commands, deleted, "{policy:?}");
    }
}

/// The commands block of a plan's text: from the comment bound to the plan
/// hash to the end.
fn commands_block(text: &str, hash: &str) -> String {
    let marker = format!("# ssot plan {hash}: run only if this plan is the one you reviewed\n");
    let at = text
        .find(&marker)
        .unwrap_or_else(|| panic!("no commands bound to {hash}:\n{text}"));
    text[at..].to_string()
}

#[test]
fn the_printed_forget_commands_pasted_into_a_shell_leave_exactly_the_kept_set() {
    let Some(repo) = Repo::new() else { return };
    let listing = repo.listing();
    let before = repo.snapshot_ids();
    let policy = ["--keep-daily", "5", "--keep-tag", "keep,pg"];
    let plan = json(&repo.plan(&listing, &policy, "json"));
    let kept = ids(&plan, "keep");
    let hash = plan["plan_hash"].as_str().unwrap();
    assert!(kept.len() < before.len());

    let o = repo.plan(&listing, &policy, "text");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    let block = commands_block(&text, hash);
    // The plan's text ends with the commands: no hint to apply through ssot.
    assert!(
        block.lines().skip(1).all(|l| !l.contains("ssot")),
        "{block}"
    );
    assert!(block.contains("restic forget \\\n"), "{block}");
    assert!(
        block.lines().all(|l| l.len() <= 220),
        "lines stay readable:\n{block}"
    );

    // A dry run, and a reviewed hash that is not this plan's, run nothing.
    let stale = "0123456789ab";
    assert!(!hash.starts_with(stale));
    for (extra, expected) in [(None, 0), (Some(stale), 1)] {
        let o = repo.apply(&listing, &policy, extra);
        assert_eq!(
            code(&o),
            expected,
            "{extra:?}: {}{}",
            stdout(&o),
            stderr(&o)
        );
        assert_eq!(repo.snapshot_ids(), before, "{extra:?}: nothing deleted");
    }

    // Pasted as printed into a shell, with the operator's repository settings.
    let sh = Command::new("sh")
        .arg("-c")
        .arg(format!("set -e\n{block}"))
        .env("RESTIC_REPOSITORY", &repo.repo)
        .env("RESTIC_PASSWORD", "ssot-test")
        .env("HOME", &repo.dir)
        .env("RESTIC_CACHE_DIR", repo.dir.join("cache"))
        .output()
        .unwrap();
    assert!(
        sh.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&sh.stdout),
        String::from_utf8_lossy(&sh.stderr)
    );
    repo.ok(&["check"]);
    assert_eq!(
        repo.snapshot_ids(),
        kept,
        "restic lists exactly ssot's kept set"
    );

    // Planned again over the new listing, the same policy deletes nothing more.
    let again = json(&repo.plan(&repo.listing(), &policy, "json"));
    assert_eq!(ids(&again, "keep"), kept);
    assert!(ids(&again, "delete").is_empty());
    assert!(again.get("commands").is_none(), "{again}");
}

#[test]
fn apply_with_the_reviewed_hash_runs_restic_forget_and_leaves_exactly_the_kept_set() {
    let Some(repo) = Repo::new() else { return };
    let listing = repo.listing();
    let before = repo.snapshot_ids();
    let policy = ["--keep-weekly", "3", "--keep-tag", "pg"];
    let plan = json(&repo.plan(&listing, &policy, "json"));
    let kept = ids(&plan, "keep");
    let deleted = ids(&plan, "delete");
    assert!(!deleted.is_empty() && !kept.is_empty());
    assert_eq!(kept, repo.restic_keeps(&policy));
    let hash = &plan["plan_hash"].as_str().unwrap()[..16];

    // restic failing (a wrong password here) is no verdict: exit 3, the
    // command and its failure named, nothing reported deleted.
    let mut args = vec![
        "retention",
        "apply",
        "--catalog",
        listing.to_str().unwrap(),
        "--catalog-format",
        "restic",
        "--restic-compat",
        repo.compat,
        "--plan-hash",
        hash,
    ];
    args.extend(policy);
    let o = ssot()
        .args(&args)
        .env("SSOT_STATE_DIR", repo.dir.join("state"))
        .env("RESTIC_REPOSITORY", &repo.repo)
        .env("RESTIC_PASSWORD", "not the password")
        .env("RESTIC_CACHE_DIR", repo.dir.join("cache"))
        .env("HOME", &repo.dir)
        .output()
        .unwrap();
    assert_eq!(code(&o), 3, "{}{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).contains("ssot: restic forget exited with"),
        "{}",
        stderr(&o)
    );
    assert!(!stdout(&o).contains("deleted"), "{}", stdout(&o));
    assert_eq!(repo.snapshot_ids(), before);

    let o = repo.apply(&listing, &policy, Some(hash));
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let out = json(&o); // restic's own output went to stderr, not into the JSON
    assert_eq!(out["applied"], true, "{out}");
    assert_eq!(out["refused"], Value::Null);
    let reported: BTreeSet<String> = out["deleted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(reported, deleted);
    repo.ok(&["check"]);
    assert_eq!(
        repo.snapshot_ids(),
        kept,
        "restic lists exactly ssot's kept set"
    );
    assert_eq!(&kept | &deleted, before);

    // The same reviewed hash over the old listing again (a retried run):
    // the ids are gone already, nothing else is deleted. restic 0.14
    // ignores an id it does not find (exit 0); a restic that fails on it
    // is no verdict (exit 3) that says to list again.
    let o = repo.apply(&listing, &policy, Some(hash));
    match code(&o) {
        0 => assert_eq!(json(&o)["applied"], true),
        3 if repo.compat != "0.14" => {
            assert!(stderr(&o).contains("list again and plan"), "{}", stderr(&o))
        }
        c => panic!("exit {c}: {}{}", stdout(&o), stderr(&o)),
    }
    repo.ok(&["check"]);
    assert_eq!(repo.snapshot_ids(), kept);
}
