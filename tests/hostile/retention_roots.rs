//! Retention pointed at dangerous roots (point 1). These tests never apply
//! to `/`: against a build without the fix that would delete the machine.
//! `/` is only planned; every apply targets a throwaway tree.

use std::fs;
use std::os::unix::fs::symlink;

use super::*;

/// Files older than a day, so `--max-age 1d` would delete them all.
fn old_files(dir: &Path, names: &[&str]) {
    fs::create_dir_all(dir).unwrap();
    for n in names {
        let p = dir.join(n);
        fs::write(&p, "x").unwrap();
        let t = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        fs::File::options()
            .write(true)
            .open(&p)
            .unwrap()
            .set_modified(t)
            .unwrap();
    }
}

fn refused_rule(o: &Output) -> String {
    let v = json(o);
    let r = v["refused"]
        .as_str()
        .unwrap_or_else(|| panic!("not refused: {v:#}"));
    r.rsplit("(rule ")
        .next()
        .unwrap()
        .trim_end_matches(')')
        .to_string()
}

/// Point 1: `--dir /` is refused at plan time, before anything is listed.
#[test]
fn the_filesystem_root_is_refused_at_plan_time() {
    let w = World::new();
    let o = w.ssot(&[
        "retention",
        "plan",
        "--dir",
        "/",
        "--max-age",
        "1d",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert_eq!(refused_rule(&o), "root_is_filesystem_root");
    assert!(
        json(&o)["keep"].as_array().unwrap().is_empty(),
        "nothing is listed"
    );
    assert!(json(&o)["delete"].as_array().unwrap().is_empty());
}

/// Point 1: a root that contains the state directory (as `/` did, taking
/// the state directory with it) is refused, and nothing is deleted.
#[test]
fn a_root_holding_the_state_directory_is_refused_and_nothing_deleted() {
    let w = World::new();
    old_files(&w.root, &["lib", "bin", "home"]);
    let o = w.ssot(&[
        "retention",
        "apply",
        "--dir",
        s(&w.root),
        "--max-age",
        "1d",
        "--confirm",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert_eq!(refused_rule(&o), "root_holds_state_dir");
    assert!(json(&o)["refused"].as_str().unwrap().contains(s(&w.state)));
    for n in ["lib", "bin", "home", "state"] {
        assert!(w.root.join(n).exists(), "{n} was deleted");
    }
    // The state directory itself as the root, and a directory inside it.
    for (root, rule) in [
        (w.state.clone(), "root_holds_state_dir"),
        (w.state.join("sub"), "root_inside_state_dir"),
    ] {
        fs::create_dir_all(&root).unwrap();
        let o = w.ssot(&[
            "retention",
            "plan",
            "--dir",
            s(&root),
            "--max-age",
            "1d",
            "--format",
            "json",
        ]);
        assert_eq!(refused_rule(&o), rule, "{}", root.display());
    }
}

/// Point 1: a state directory that does not exist yet is protected where it
/// would be created.
#[test]
fn a_future_state_directory_is_protected_too() {
    let w = World::new();
    let future = w.path("opt/ssot/state");
    old_files(&w.path("opt"), &["x"]);
    let o = run_bounded(&[
        "--state",
        s(&future),
        "retention",
        "apply",
        "--dir",
        s(&w.path("opt")),
        "--max-age",
        "1d",
        "--confirm",
        "--format",
        "json",
    ]);
    assert_eq!(refused_rule(&o), "root_holds_state_dir");
    assert!(w.path("opt/x").exists());
}

/// Point 1: PGDATA and pg_wal (through its symlink) are never a root or inside one.
#[test]
fn roots_overlapping_pgdata_or_pg_wal_are_refused() {
    let w = World::new();
    let pgdata = w.path("pg/data");
    let wal = w.path("walvol/pg_wal");
    fs::create_dir_all(&pgdata).unwrap();
    old_files(&wal, &["000000010000000000000001"]);
    symlink(&wal, pgdata.join("pg_wal")).unwrap();
    old_files(&pgdata, &["PG_VERSION"]);
    for (root, rule) in [
        (w.path("pg"), "root_holds_pgdata"),
        (pgdata.clone(), "root_holds_pgdata"),
        (wal.clone(), "root_holds_pg_wal"),
        (w.path("walvol"), "root_holds_pg_wal"),
    ] {
        let o = w.ssot(&[
            "retention",
            "apply",
            "--dir",
            s(&root),
            "--pgdata",
            s(&pgdata),
            "--max-age",
            "1d",
            "--confirm",
            "--format",
            "json",
        ]);
        assert_eq!(refused_rule(&o), rule, "{}", root.display());
    }
    assert!(wal.join("000000010000000000000001").exists());
    assert!(pgdata.join("PG_VERSION").exists());
    // PGDATA also comes from $PGDATA, as for every other command.
    let o = ssot()
        .args([
            "--state",
            s(&w.state),
            "--now",
            NOW,
            "retention",
            "plan",
            "--dir",
        ])
        .arg(&wal)
        .args(["--max-age", "1d", "--format", "json"])
        .env("PGDATA", &pgdata)
        .output()
        .unwrap();
    assert_eq!(refused_rule(&o), "root_holds_pg_wal");
}

/// Point 1: the configuration file's directory is not a retention root.
#[test]
fn a_root_holding_the_configuration_file_is_refused() {
    let w = World::new();
    let etc = w.path("etc");
    old_files(&etc, &["other.conf"]);
    fs::write(etc.join("ssot.toml"), "").unwrap();
    let o = w.ssot(&[
        "--config",
        s(&etc.join("ssot.toml")),
        "retention",
        "apply",
        "--dir",
        s(&etc),
        "--max-age",
        "1d",
        "--confirm",
        "--format",
        "json",
    ]);
    assert_eq!(refused_rule(&o), "root_holds_config");
    assert!(etc.join("ssot.toml").exists() && etc.join("other.conf").exists());
}

/// Point 1: another spelling of a protected directory (a symlink to the
/// state directory's parent) is recognised by identity, not by path.
#[test]
fn a_symlinked_spelling_of_a_protected_root_is_refused() {
    let w = World::new();
    let alias = w.path("alias");
    symlink(&w.root, &alias).unwrap();
    let o = w.ssot(&[
        "retention",
        "plan",
        "--dir",
        s(&alias),
        "--max-age",
        "1d",
        "--format",
        "json",
    ]);
    assert_eq!(refused_rule(&o), "root_holds_state_dir");
}

/// Point 1: a catalog applied to a root is refused the same way.
#[test]
fn a_catalog_root_is_checked_too() {
    let w = World::new();
    let catalog = w.path("catalog.json");
    fs::write(
        &catalog,
        r#"[{"id": "state", "created_at": "2020-01-01T00:00:00Z"}]"#,
    )
    .unwrap();
    let o = w.ssot(&[
        "retention",
        "apply",
        "--catalog",
        s(&catalog),
        "--root",
        s(&w.root),
        "--max-age",
        "1d",
        "--confirm",
        "--format",
        "json",
    ]);
    assert_eq!(refused_rule(&o), "root_holds_state_dir");
    assert!(w.state.exists());
}

/// Point 1: whatever the root, an entry that is (or holds) a protected
/// directory — recognised by device and inode, as a bind mount would show
/// it — is never listed.
#[test]
fn an_entry_that_is_a_protected_directory_is_never_listed() {
    use ssot_core::retention::guard::{FileId, Lineage, Protected, ProtectedKind};
    use ssot_core::retention::source::{artifacts_from_entries, DrillProofs, EntryKind, RootEntry};
    let state_id = FileId { dev: 7, ino: 42 };
    let protected = [Protected {
        kind: ProtectedKind::StateDir,
        lineage: Lineage {
            source: None,
            mounts_below: Vec::new(),
            path: "/opt/ssot/state".into(),
            exists: true,
            ids: vec![
                state_id,
                FileId { dev: 7, ino: 2 },
                FileId { dev: 7, ino: 1 },
            ],
        },
    }];
    let entry = |name: &str, id: FileId| RootEntry {
        name: name.into(),
        name_is_utf8: true,
        kind: EntryKind::Directory,
        size_bytes: 1,
        modified: NOW.parse().unwrap(),
        content: None,
        file_id: Some(id),
        held: None,
        sha256: None,
    };
    let entries = [
        entry("state-bind-mount", state_id),
        entry("layer", FileId { dev: 7, ino: 99 }),
    ];
    let utc = ssot_core::retention::RetentionPolicy::default()
        .tz()
        .unwrap();
    let l = artifacts_from_entries(
        &entries,
        None,
        utc,
        &protected,
        &DrillProofs::Missing("none".into()),
        NOW.parse().unwrap(),
    );
    let ids: Vec<&str> = l.artifacts.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["layer"]);
    assert!(l.warnings.iter().any(|w| w.contains(
        "state-bind-mount is or holds ssot's state directory /opt/ssot/state: never listed"
    )));
}
