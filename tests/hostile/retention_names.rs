//! Hostile names and markers in an artifact root (points 9 and 10, and the
//! name-pattern items of point 19).

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;

use super::*;

/// Sets a path's modification time to `days` days before NOW.
fn age(path: &Path, days: i64) {
    let now: chrono::DateTime<chrono::Utc> = NOW.parse().unwrap();
    let t: std::time::SystemTime = (now - chrono::TimeDelta::days(days)).into();
    let f = fs::File::open(path).unwrap();
    f.set_modified(t).unwrap();
}

fn apply(w: &World, dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "retention",
        "apply",
        "--dir",
        s(dir),
        "--confirm",
        "--format",
        "json",
    ];
    args.extend(extra);
    w.ssot(&args)
}

fn warnings(o: &Output) -> String {
    json(o)["plan"]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Point 9: a name holding a newline was deleted, then the run exited 2 and
/// wrote no retention.status. It is skipped with a warning, never deleted.
#[test]
fn a_name_with_a_newline_is_skipped_not_deleted() {
    let w = World::new();
    let dir = w.path("dumps");
    fs::create_dir(&dir).unwrap();
    for n in ["bad\nname", "tab\tname", "plain"] {
        fs::write(dir.join(n), "x").unwrap();
        age(&dir.join(n), 30);
    }
    // A fresh copy: the last good copy, which retention never takes.
    fs::write(dir.join("zz-fresh"), "x").unwrap();
    let o = apply(&w, &dir, &["--max-age", "7d"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(dir.join("bad\nname").exists() && dir.join("tab\tname").exists());
    assert!(!dir.join("plain").exists(), "the ordinary old file goes");
    assert!(
        warnings(&o).contains(r#""bad\nname" contains a control character"#),
        "{}",
        warnings(&o)
    );
    let status = fs::read_to_string(w.state.join("retention.status")).unwrap();
    assert!(status.contains("default.deleted=1\n"), "{status}");
}

/// Point 9: a name of 250 bytes made every run exit 2 (the trash name was
/// longer than NAME_MAX). Trash names are short now.
#[test]
fn a_long_name_is_deleted_through_a_short_trash_name() {
    let w = World::new();
    let dir = w.path("dumps");
    fs::create_dir(&dir).unwrap();
    let long = "L".repeat(250);
    fs::write(dir.join(&long), "x").unwrap();
    age(&dir.join(&long), 30);
    // A fresh copy: the last good copy, which retention never takes.
    fs::write(dir.join("zz-fresh"), "x").unwrap();
    let o = apply(&w, &dir, &["--max-age", "7d"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!dir.join(&long).exists());
    let journal = fs::read_to_string(dir.join(".ssot-retention.journal")).unwrap();
    assert!(
        journal.contains(r#""trash":".ssot-trash-"#),
        "the trash name is journalled: {journal}"
    );
    let o = apply(&w, &dir, &["--max-age", "7d"]);
    assert_eq!(code(&o), 0, "the next run is not wedged: {}", stderr(&o));
}

/// Point 9: a sidecar that is a directory (`X.failed/`) used to get X moved
/// to the trash and then an error. X is never touched.
#[test]
fn a_sidecar_that_is_a_directory_keeps_its_artifact_untouched() {
    let w = World::new();
    let dir = w.path("dumps");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("X"), "backup").unwrap();
    fs::create_dir(dir.join("X.failed")).unwrap();
    fs::write(dir.join("Y"), "backup").unwrap();
    age(&dir.join("X"), 30);
    age(&dir.join("Y"), 30);
    // A fresh copy: the last good copy, which retention never takes.
    fs::write(dir.join("zz-fresh"), "x").unwrap();
    let o = apply(&w, &dir, &["--max-age", "7d"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(fs::read_to_string(dir.join("X")).unwrap(), "backup");
    assert!(dir.join("X.failed").is_dir());
    assert!(!dir.join("Y").exists());
    assert!(
        warnings(&o).contains("X: its .failed marker X.failed is a directory, not a regular file")
    );
    let trash: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".ssot-trash")
        })
        .collect();
    assert!(trash.is_empty());
}

/// Point 9: a user's own `.ssot-trash-*` entry that no journal names is not ssot's to delete.
#[test]
fn a_users_own_trash_named_entry_survives() {
    let w = World::new();
    let dir = w.path("dumps");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join(".ssot-trash-keepme"), "mine").unwrap();
    fs::write(dir.join("old"), "x").unwrap();
    age(&dir.join("old"), 30);
    let o = apply(&w, &dir, &["--max-age", "7d"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        fs::read_to_string(dir.join(".ssot-trash-keepme")).unwrap(),
        "mine"
    );
}

/// Point 9: a name that is not UTF-8 no longer fails the whole run: it is
/// skipped with a warning, and the rest is handled.
#[test]
fn a_name_that_is_not_utf8_is_skipped() {
    let w = World::new();
    let dir = w.path("dumps");
    fs::create_dir(&dir).unwrap();
    let raw = dir.join(OsStr::from_bytes(b"caf\xe9"));
    fs::write(&raw, "x").unwrap();
    age(&raw, 30);
    fs::write(dir.join("old"), "x").unwrap();
    age(&dir.join("old"), 30);
    // A fresh copy: the last good copy, which retention never takes.
    fs::write(dir.join("zz-fresh"), "x").unwrap();
    let o = apply(&w, &dir, &["--max-age", "7d"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(raw.exists());
    assert!(!dir.join("old").exists());
    assert!(warnings(&o).contains("not valid UTF-8"));
}

/// Point 10: a `layer.parent` of 5,000 bytes (the id, then blank lines) was
/// read as empty, so `base` was deleted while `layer` was kept.
#[test]
fn a_long_parent_marker_is_read_exactly() {
    let w = World::new();
    let dir = w.path("layers");
    fs::create_dir_all(dir.join("base")).unwrap();
    fs::create_dir_all(dir.join("layer")).unwrap();
    fs::write(
        dir.join("layer.parent"),
        format!("base{}", "\n".repeat(4996)),
    )
    .unwrap();
    age(&dir.join("base"), 2);
    age(&dir.join("layer"), 1);
    let o = apply(&w, &dir, &["--keep-last", "1"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(dir.join("base").exists(), "base is layer's parent");
    let keep = &json(&o)["plan"]["keep"];
    let base = keep
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == "base")
        .unwrap();
    assert_eq!(base["reasons"][0], "parent of layer");
}

/// Point 10: an unreadable or ambiguous marker keeps its artifact and
/// everything it might depend on, with a warning.
#[test]
fn an_unreadable_or_ambiguous_parent_marker_keeps_everything() {
    for (content, why) in [
        (
            "base\nother\n".to_string(),
            "is ambiguous: it names 2 artifacts",
        ),
        ("\n\n".to_string(), "is empty"),
        ("x".repeat(70 << 10), "is unreadable: is larger than 64KiB"),
        ("../etc".to_string(), "does not name an artifact"),
    ] {
        let w = World::new();
        let dir = w.path("layers");
        for d in ["base", "other", "layer"] {
            fs::create_dir_all(dir.join(d)).unwrap();
        }
        fs::write(dir.join("layer.parent"), &content).unwrap();
        age(&dir.join("base"), 3);
        age(&dir.join("other"), 2);
        age(&dir.join("layer"), 1);
        let o = apply(&w, &dir, &["--keep-last", "1", "--max-total-size", "0"]);
        assert_eq!(code(&o), 0, "{why}: {}", stderr(&o));
        for d in ["base", "other", "layer"] {
            assert!(dir.join(d).exists(), "{why}: {d} was deleted");
        }
        let warns = warnings(&o);
        assert!(
            warns.contains(&format!("layer.parent {why}"))
                && warns.contains("layer is kept, with every artifact it might depend on"),
            "{warns}"
        );
    }
}

/// Point 19: an invalid strftime `--pattern`, or one that cannot recover a
/// date, is rejected instead of silently matching nothing.
#[test]
fn an_invalid_name_pattern_is_rejected() {
    let w = World::new();
    let dir = w.path("dumps");
    fs::create_dir(&dir).unwrap();
    for (pattern, needle) in [
        ("ssot_%Q.sql.gz", "invalid strftime pattern"),
        ("ssot_%", "invalid strftime pattern"),
        ("backup.tar", "cannot recover a date"),
        ("ssot_%H%M.sql", "cannot recover a date"),
    ] {
        let o = w.ssot(&["retention", "plan", "--dir", s(&dir), "--pattern", pattern]);
        assert_eq!(code(&o), 3, "{pattern}");
        assert!(stderr(&o).contains(needle), "{pattern}: {}", stderr(&o));
    }
    let cfg = w.path("ssot.toml");
    fs::write(&cfg, "[retention.backups]\npattern = \"ssot_%Q\"\n").unwrap();
    let o = w.ssot(&["--config", s(&cfg), "config", "show"]);
    assert_eq!(code(&o), 3);
    assert!(
        stderr(&o).contains("retention.backups.pattern"),
        "{}",
        stderr(&o)
    );
}

/// Point 19: a name in a spring-forward gap resolves as `keep_within` does
/// (moved forward by the gap) instead of falling back to its mtime.
#[test]
fn a_name_in_a_dst_gap_resolves_like_keep_within() {
    let w = World::new();
    let dir = w.path("snaps");
    fs::create_dir(&dir).unwrap();
    // 02:30 does not exist in Europe/Berlin on 2026-03-29.
    fs::write(dir.join("snap_20260329_023000"), "x").unwrap();
    let o = w.ssot(&[
        "retention",
        "plan",
        "--dir",
        s(&dir),
        "--pattern",
        "snap_%Y%m%d_%H%M%S",
        "--timezone",
        "Europe/Berlin",
        "--format",
        "json",
    ]);
    let v = json(&o);
    assert_eq!(v["keep"][0]["created_at"], "2026-03-29T01:30:00Z", "{v:#}");
    assert!(
        !v["warnings"].to_string().contains("does not match"),
        "{v:#}"
    );
}
