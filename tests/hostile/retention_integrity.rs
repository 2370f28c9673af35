//! Retention that cannot lose a backup (issue "Retention and evidence that
//! cannot lose or fake a backup"): the root swapped under a running apply,
//! mounts inside directory artifacts, catalog ids that name ssot's own files
//! or links, profile names and stage ids, a held root lock, and the last good
//! copy that no policy takes.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::symlink;
use std::process::Stdio;

use nix::fcntl::{renameat2, RenameFlags};

use super::*;

/// Files dated long ago (so `--max-age 7d` would delete them all).
fn old_files(dir: &Path, names: &[String]) {
    fs::create_dir_all(dir).unwrap();
    for n in names {
        let p = dir.join(n);
        fs::write(&p, n.as_bytes()).unwrap();
        age(&p);
    }
}

fn age(p: &Path) {
    let t = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
    fs::File::options()
        .write(true)
        .open(p)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

fn names_in(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

fn exchange(a: &Path, b: &Path) {
    renameat2(
        nix::fcntl::AT_FDCWD,
        a,
        nix::fcntl::AT_FDCWD,
        b,
        RenameFlags::RENAME_EXCHANGE,
    )
    .unwrap();
}

/// Point 1: the root (or a directory above it) exchanged for a look-alike
/// tree after the first deletion. Today's binary deleted the look-alike's
/// files by path. The root is opened once; nothing of the other tree is
/// touched, whenever the exchange lands. `SSOT_SWAP_ROUNDS` runs it more often.
#[test]
fn a_root_exchanged_under_a_running_apply_never_loses_the_other_tree() {
    let rounds: usize = std::env::var("SSOT_SWAP_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    let names: Vec<String> = (0..300).map(|i| format!("dump_{i:03}.sql")).collect();
    let mut seed: u64 = 0x5eed_0001;
    let (mut swapped_mid_run, mut untouched_files) = (0, 0);
    for round in 0..rounds {
        let w = World::new();
        // Odd rounds exchange the parent of the root, even rounds the root.
        let parent = w.path("site");
        let root = parent.join("dumps");
        old_files(&root, &names);
        fs::write(root.join("fresh.sql"), "new").unwrap();
        let other_parent = w.path("other-site");
        let other = other_parent.join("dumps");
        old_files(&other, &names);
        fs::write(other.join("fresh.sql"), "new").unwrap();
        let (a, b) = if round % 2 == 0 {
            (root.clone(), other.clone())
        } else {
            (parent.clone(), other_parent.clone())
        };
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let after = 1 + ((seed >> 33) % 200) as usize;
        let mut child = ssot()
            .args([
                "--state",
                s(&w.state),
                "retention",
                "apply",
                "--dir",
                s(&root),
                "--max-age",
                "7d",
                "--confirm",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Exchange once `after` files are gone, or once the run ended.
        loop {
            let finished = child.try_wait().unwrap().is_some();
            let gone =
                301usize.saturating_sub(fs::read_dir(&root).map(|d| d.count()).unwrap_or(301));
            if finished || gone >= after {
                exchange(&a, &b);
                swapped_mid_run += usize::from(!finished);
                break;
            }
            std::thread::yield_now();
        }
        let status = child.wait().unwrap();
        // The tree now at the root's path is the look-alike: whole.
        let lookalike = names_in(&root);
        for n in &names {
            assert!(
                lookalike.contains(n),
                "round {round}: {n} of the other tree was deleted (exit {status})"
            );
            assert_eq!(fs::read(root.join(n)).unwrap(), n.as_bytes());
        }
        untouched_files += names.len();
        // The planned tree (now at the other path) lost only its own old files.
        let planned = names_in(&other);
        assert!(planned.contains("fresh.sql"), "round {round}: {planned:?}");
        assert!(
            planned
                .iter()
                .all(|n| n == "fresh.sql" || n.starts_with(".ssot-") || names.contains(n)),
            "round {round}: {planned:?}"
        );
    }
    eprintln!(
        "{rounds} root exchanges ({swapped_mid_run} while apply was deleting): {untouched_files} files of the other trees, none touched"
    );
}

/// Point 1: a root given as a symlink is resolved once; a root whose last
/// component is swapped for a symlink between check and open is refused.
#[test]
fn a_root_opened_once_is_the_one_checked() {
    let w = World::new();
    let real = w.path("real");
    old_files(&real, &["a.sql".into(), "b.sql".into()]);
    fs::write(real.join("fresh.sql"), "new").unwrap();
    let link = w.path("link");
    symlink(&real, &link).unwrap();
    let o = w.ssot(&[
        "retention",
        "apply",
        "--dir",
        s(&link),
        "--max-age",
        "7d",
        "--confirm",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        names_in(&real)
            .iter()
            .filter(|n| !n.starts_with('.'))
            .count(),
        1
    );
}

/// Point 2: a directory artifact that holds a mount is kept with a reason
/// naming the mount, and nothing in the mounted filesystem is touched.
/// Needs root (CI runs as root) to mount.
#[test]
fn a_directory_artifact_holding_a_mount_is_kept_and_the_mount_untouched() {
    let w = World::new();
    let root = w.path("layers");
    let layer = root.join("old-layer");
    let cache = layer.join("cache");
    fs::create_dir_all(&cache).unwrap();
    fs::write(layer.join("data"), "x").unwrap();
    let elsewhere = w.path("precious");
    fs::create_dir_all(&elsewhere).unwrap();
    fs::write(elsewhere.join("keep.me"), "precious").unwrap();
    let Some(_mounted) = mount(&["--bind", s(&elsewhere)], &cache) else {
        return;
    };
    let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
    fs::File::open(&layer).unwrap().set_modified(old).unwrap();
    fs::write(root.join("fresh-layer"), "new").unwrap();
    let o = w.ssot(&[
        "retention",
        "apply",
        "--dir",
        s(&root),
        "--max-age",
        "7d",
        "--confirm",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v = json(&o);
    let kept: Vec<&serde_json::Value> = v["plan"]["keep"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["id"] == "old-layer")
        .collect();
    assert_eq!(kept.len(), 1, "{v:#}");
    let reasons = kept[0]["reasons"].to_string();
    assert!(
        reasons.contains("holds a mount") && reasons.contains("cache"),
        "{reasons}"
    );
    assert_eq!(
        fs::read_to_string(elsewhere.join("keep.me")).unwrap(),
        "precious"
    );
    assert!(layer.join("data").exists());
}

fn catalog(w: &World, ids: &[&str]) -> PathBuf {
    let arts: Vec<String> = ids
        .iter()
        .map(|id| {
            format!(
                r#"{{"id": {}, "created_at": "2020-01-01T00:00:00Z"}}"#,
                serde_json::to_string(id).unwrap()
            )
        })
        .chain(std::iter::once(format!(
            r#"{{"id": "fresh", "created_at": "{}"}}"#,
            real_now()
        )))
        .collect();
    let p = w.path("catalog.json");
    fs::write(&p, format!("[{}]", arts.join(","))).unwrap();
    p
}

/// Point 3: a catalog applied to a root may not name ssot's own files,
/// hidden entries, paths or `..`: refused at plan time, naming the id, and
/// nothing is deleted.
#[test]
fn a_catalog_id_that_is_not_a_plain_name_is_refused_at_plan_time() {
    for bad in [
        ".ssot-retention.journal",
        ".ssot-retention.lock",
        ".hidden",
        "sub/file",
        "..",
    ] {
        let w = World::new();
        let root = w.path("root");
        old_files(&root, &["a".into(), "sub/file".replace('/', "_")]);
        fs::create_dir_all(root.join("sub")).unwrap();
        fs::write(root.join("sub/file"), "x").unwrap();
        fs::write(root.join(".ssot-retention.journal"), "").unwrap();
        fs::write(root.join(".hidden"), "x").unwrap();
        fs::write(root.join("fresh"), "x").unwrap();
        let before = names_in(&root);
        let cat = catalog(&w, &["a", bad]);
        let o = w.ssot(&[
            "retention",
            "apply",
            "--catalog",
            s(&cat),
            "--root",
            s(&root),
            "--max-age",
            "7d",
            "--confirm",
            "--format",
            "json",
        ]);
        assert_eq!(code(&o), 1, "{bad}: {}{}", stdout(&o), stderr(&o));
        let refused = json(&o)["refused"].as_str().unwrap_or_default().to_string();
        assert!(
            refused.contains(&bad.replace('"', "\\\"")) || refused.contains(bad),
            "{bad}: {refused}"
        );
        assert_eq!(names_in(&root), before, "{bad}: nothing is deleted");
    }
}

/// Point 3: an id with no entry in the root is "missing" (kept, a warning),
/// never reported as deleted.
#[test]
fn a_catalog_id_with_no_entry_is_missing_not_deleted() {
    let w = World::new();
    let root = w.path("root");
    old_files(&root, &["a".into()]);
    fs::write(root.join("fresh"), "x").unwrap();
    let cat = catalog(&w, &["a", "ghost"]);
    let o = w.ssot(&[
        "retention",
        "apply",
        "--catalog",
        s(&cat),
        "--root",
        s(&root),
        "--max-age",
        "7d",
        "--confirm",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v = json(&o);
    let deleted: Vec<&str> = v["deleted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert_eq!(deleted, ["a"], "{v:#}");
    assert!(
        v["plan"]["warnings"].to_string().contains("ghost: missing"),
        "{v:#}"
    );
}

/// Point 4: a symlinked catalog id planned with exit 0 and then stopped every
/// apply with exit 3. It is kept ("symlink: not followed"); the rest is applied.
#[test]
fn a_symlinked_catalog_id_is_kept_and_the_rest_applied() {
    let w = World::new();
    let root = w.path("root");
    old_files(&root, &["a".into(), "b".into()]);
    fs::write(root.join("fresh"), "x").unwrap();
    let target = w.path("precious");
    fs::write(&target, "precious").unwrap();
    symlink(&target, root.join("link")).unwrap();
    let cat = catalog(&w, &["a", "link", "b"]);
    let plan = w.ssot(&[
        "retention",
        "plan",
        "--catalog",
        s(&cat),
        "--root",
        s(&root),
        "--max-age",
        "7d",
        "--format",
        "json",
    ]);
    // Exit 1: a plan with warnings (the link is named in one).
    assert_eq!(code(&plan), 1, "{}", stderr(&plan));
    let keep = json(&plan)["keep"].to_string();
    assert!(keep.contains("symlink: not followed"), "{keep}");
    let o = w.ssot(&[
        "retention",
        "apply",
        "--catalog",
        s(&cat),
        "--root",
        s(&root),
        "--max-age",
        "7d",
        "--confirm",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!root.join("a").exists() && !root.join("b").exists());
    assert!(fs::symlink_metadata(root.join("link")).is_ok());
    assert_eq!(fs::read_to_string(&target).unwrap(), "precious");
}

/// Point 5: a profile name that cannot be a record key, and a stage id
/// given twice, are refused when the configuration loads (exit 3, nothing
/// deleted); a held root lock is "refused" (exit 1).
#[test]
fn bad_profile_names_and_duplicate_stages_are_refused_at_load() {
    let w = World::new();
    let root = w.path("root");
    old_files(&root, &["a".into()]);
    fs::write(root.join("fresh"), "x").unwrap();
    let cfg = w.path("ssot.toml");
    fs::write(
        &cfg,
        format!(
            "[retention.\"my backups\"]\nroot = \"{}\"\nmax_age = \"7d\"\n",
            root.display()
        ),
    )
    .unwrap();
    let o = w.ssot(&[
        "--config",
        s(&cfg),
        "retention",
        "apply",
        "--profile",
        "my backups",
        "--confirm",
    ]);
    assert_eq!(code(&o), 3, "{}{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("my backups"), "{}", stderr(&o));
    assert!(root.join("a").exists());

    let stage = "[[stages]]\nid = \"8\"\ntitle = \"t\"\nstatus = \"IMPLEMENTED\"\n";
    fs::write(&cfg, format!("{stage}{stage}")).unwrap();
    let o = w.ssot(&["--config", s(&cfg), "config", "show"]);
    assert_eq!(code(&o), 3, "{}{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("\"8\" twice"), "{}", stderr(&o));
}

#[test]
fn a_held_root_lock_is_refused_not_a_failure() {
    let w = World::new();
    let root = w.path("root");
    old_files(&root, &["a".into()]);
    fs::write(root.join("fresh"), "x").unwrap();
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(root.join(".ssot-retention.lock"))
        .unwrap();
    fs2::FileExt::lock_exclusive(&lock).unwrap();
    let o = w.ssot(&[
        "retention",
        "apply",
        "--dir",
        s(&root),
        "--max-age",
        "7d",
        "--confirm",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    assert!(
        json(&o)["refused"].as_str().unwrap().contains("lock"),
        "{}",
        stdout(&o)
    );
    assert!(root.join("a").exists());
}

/// Point 6: `--max-age 7d` over dumps that stopped weeks ago deleted every
/// copy; a dump named for 2099 took the `min_keep` slot. The newest real
/// copy is the last good copy; the future one is kept and warned about.
#[test]
fn the_last_good_copy_survives_any_policy_and_a_future_name_takes_no_slot() {
    let w = World::new();
    let root = w.path("dumps");
    old_files(
        &root,
        &[
            "ssot_20260101_030000.sql.gz".into(),
            "ssot_20260102_030000.sql.gz".into(),
        ],
    );
    let o = w.ssot(&[
        "retention",
        "apply",
        "--dir",
        s(&root),
        "--pattern",
        "ssot_%Y%m%d_%H%M%S.sql.gz",
        "--max-age",
        "7d",
        "--confirm",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        root.join("ssot_20260102_030000.sql.gz").exists(),
        "{}",
        stdout(&o)
    );
    assert!(!root.join("ssot_20260101_030000.sql.gz").exists());
    assert!(stdout(&o).contains("last_good_copy"), "{}", stdout(&o));

    fs::write(root.join("ssot_20991231_030000.sql.gz"), "x").unwrap();
    fs::write(root.join("ssot_20260103_030000.sql.gz"), "x").unwrap();
    age(&root.join("ssot_20260103_030000.sql.gz"));
    let o = w.ssot(&[
        "retention",
        "apply",
        "--dir",
        s(&root),
        "--pattern",
        "ssot_%Y%m%d_%H%M%S.sql.gz",
        "--keep-last",
        "1",
        "--confirm",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(root.join("ssot_20991231_030000.sql.gz").exists());
    assert!(
        root.join("ssot_20260103_030000.sql.gz").exists(),
        "{}",
        stdout(&o)
    );
    assert!(!root.join("ssot_20260102_030000.sql.gz").exists());
    let v = json(&o);
    assert!(
        v["plan"]["warnings"].to_string().contains("in the future"),
        "{v:#}"
    );
}

/// Found by attack: a pattern with a time-zone specifier (`%z`, `%Z`)
/// panicked (exit 101) in every command that read the configuration.
#[test]
fn a_pattern_with_a_time_zone_specifier_is_refused_not_a_panic() {
    let w = World::new();
    let root = w.path("dumps");
    fs::create_dir_all(&root).unwrap();
    for pattern in [
        "ssot_%Y%m%d_%H%M%S%z",
        "ssot_%Y%m%d%Z",
        "x_%Y%m%d%:z",
        "x_%Y%m%d_%+",
    ] {
        let o = w.ssot(&["retention", "plan", "--dir", s(&root), "--pattern", pattern]);
        assert_eq!(code(&o), 3, "{pattern}: {}", stderr(&o));
        assert!(stderr(&o).contains("pattern"), "{pattern}: {}", stderr(&o));
    }
    let cfg = w.path("ssot.toml");
    fs::write(
        &cfg,
        "[retention.backups]\npattern = \"ssot_%Y%m%d_%H%M%S%z\"\n",
    )
    .unwrap();
    let o = w.ssot(&["--config", s(&cfg), "config", "show"]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
}

/// Found by attack: an empty newest file took the last-good-copy floor and
/// the only real dump was deleted.
#[test]
fn an_empty_file_is_never_the_last_good_copy() {
    let w = World::new();
    let root = w.path("dumps");
    old_files(&root, &["ssot_20260101_030000.sql.gz".into()]);
    fs::write(root.join("ssot_20260102_030000.sql.gz"), "").unwrap();
    age(&root.join("ssot_20260102_030000.sql.gz"));
    let o = w.ssot(&[
        "retention",
        "apply",
        "--dir",
        s(&root),
        "--pattern",
        "ssot_%Y%m%d_%H%M%S.sql.gz",
        "--max-age",
        "7d",
        "--confirm",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        root.join("ssot_20260101_030000.sql.gz").exists(),
        "{}",
        stdout(&o)
    );
}

/// Found by attack: a child whose `.parent` marker is a symlink (or a FIFO,
/// a directory) was skipped while its parent was deleted.
#[test]
fn a_child_with_an_unreadable_parent_marker_keeps_every_possible_parent() {
    let w = World::new();
    let root = w.path("layers");
    old_files(&root, &["base".into(), "child".into()]);
    let target = w.path("elsewhere");
    fs::write(&target, "base\n").unwrap();
    symlink(&target, root.join("child.parent")).unwrap();
    let o = w.ssot(&[
        "retention",
        "apply",
        "--dir",
        s(&root),
        "--max-age",
        "7d",
        "--confirm",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        root.join("base").exists() && root.join("child").exists(),
        "{}",
        stdout(&o)
    );
}

/// Found by attack: a file artifact that is a mount point planned DELETE and
/// then stopped every apply with EBUSY (exit 3), forever. It is kept.
#[test]
fn a_file_artifact_that_is_a_mount_point_is_kept_and_the_rest_applied() {
    let w = World::new();
    let root = w.path("dumps");
    old_files(&root, &["a".into(), "mnt".into(), "z".into()]);
    fs::write(root.join("fresh"), "x").unwrap();
    let other = w.path("other-file");
    fs::write(&other, "precious").unwrap();
    let Some(mounted) = mount(&["--bind", s(&other)], &root.join("mnt")) else {
        return;
    };
    let o = w.ssot(&[
        "retention",
        "apply",
        "--dir",
        s(&root),
        "--max-age",
        "7d",
        "--confirm",
    ]);
    drop(mounted);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("mount point"), "{}", stdout(&o));
    assert!(!root.join("a").exists() && !root.join("z").exists());
    assert_eq!(fs::read_to_string(&other).unwrap(), "precious");
}
