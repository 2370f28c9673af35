//! Evidence that is not what it claims (point 16).

use std::fs;

use super::*;

fn backup(w: &World, extra: &[&str]) -> Output {
    let mut args = vec!["evidence", "backup"];
    args.extend(extra);
    w.ssot(&args)
}

fn section(w: &World, name: &str) -> serde_json::Value {
    let o = w.ssot(&["report", "--format", "json"]);
    json(&o)["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap()
        .clone()
}

/// Point 16: `evidence backup --artifact X` recorded a backup that did not
/// exist as complete (exit 0), and the report then said the backup was fresh.
#[test]
fn a_backup_that_is_not_there_is_refused() {
    let w = World::new();
    let dumps = w.path("dumps");
    fs::create_dir(&dumps).unwrap();
    let o = backup(
        &w,
        &["--artifact", "nothere.sql.gz", "--location", s(&dumps)],
    );
    assert_eq!(code(&o), 2, "{}", stdout(&o));
    assert!(
        stderr(&o).contains("backup nothere.sql.gz is not at its location"),
        "{}",
        stderr(&o)
    );
    assert!(!w.state.join("backup.status").exists());
    assert_ne!(section(&w, "backup")["status"], "OK");
    // A location that does not exist at all.
    let o = backup(
        &w,
        &["--artifact", "x", "--location", s(&w.path("nowhere"))],
    );
    assert_eq!(code(&o), 2);
    // A failed attempt needs no file.
    let o = backup(
        &w,
        &[
            "--artifact",
            "nothere.sql.gz",
            "--location",
            s(&dumps),
            "--result",
            "failed",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

/// Point 16: size and filesystem are measured and recorded; a size given
/// that does not match the file is refused.
#[test]
fn size_and_filesystem_are_measured() {
    let w = World::new();
    let dumps = w.path("dumps");
    fs::create_dir(&dumps).unwrap();
    let dump = plain_dump(500);
    fs::write(dumps.join("d.sql.gz"), &dump).unwrap();
    let size = dump.len();
    let pgdata = w.path("pgdata");
    fs::create_dir(&pgdata).unwrap();
    let o = backup(
        &w,
        &[
            "--artifact",
            "d.sql.gz",
            "--location",
            s(&dumps),
            "--pgdata",
            s(&pgdata),
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let status = fs::read_to_string(w.state.join("backup.status")).unwrap();
    assert!(
        status.contains(&format!("last_complete_size_bytes={size}\n")),
        "{status}"
    );
    // Same temp filesystem as this PGDATA: measured, and said so.
    assert!(
        status.contains("last_complete_separate_from_pgdata=no\n"),
        "{status}"
    );
    let o = backup(
        &w,
        &[
            "--artifact",
            "d.sql.gz",
            "--location",
            s(&dumps),
            "--pgdata",
            s(&pgdata),
            "--size",
            "1GB",
        ],
    );
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains(&format!("holds {size} bytes, not the 1073741824 given")),
        "{}",
        stderr(&o)
    );
    // A directory backup (pg_basebackup -Fp) is sized as a whole. (A
    // directory dump's toc.dat is read by pg_restore: a fake one is refused,
    // see evidence_proof.)
    let fd = dumps.join("d.dir");
    fs::create_dir(&fd).unwrap();
    fs::write(fd.join("PG_VERSION"), vec![b'1'; 100]).unwrap();
    fs::write(fd.join("backup_manifest"), vec![b'x'; 900]).unwrap();
    let o = backup(
        &w,
        &[
            "--artifact",
            "d.dir",
            "--kind",
            "basebackup",
            "--location",
            s(&dumps),
            "--pgdata",
            s(&pgdata),
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let status = fs::read_to_string(w.state.join("backup.status")).unwrap();
    assert!(
        status.contains("last_complete_size_bytes=1000\n"),
        "{status}"
    );
}

/// Point 16: a backup whose filesystem is unknown is not OK in the report.
#[test]
fn a_backup_on_an_unknown_filesystem_is_not_ok() {
    let w = World::new();
    w.write_state(
        "backup.status",
        &format!(
            "last_at={t}\nlast_artifact=d.sql.gz\nlast_location=/backups\nlast_result=complete\n\
             last_complete_at={t}\nlast_complete_artifact=d.sql.gz\nlast_complete_location=/backups\n\
             last_complete_separate_from_pgdata=unknown\nchecked_at={t}\n",
            t = "2026-02-05T11:00:00Z"
        ),
    );
    let b = section(&w, "backup");
    assert_eq!(b["status"], "DEGRADED", "{b:#}");
    assert!(
        b["details"].to_string().contains("filesystem is unknown"),
        "{b:#}"
    );
}

/// Issue "Retention and evidence", point 10: the location is compared with
/// every protected volume. A dump on the state directory's filesystem (or
/// pg_wal's) was recorded as "on another filesystem than PGDATA".
#[test]
fn a_backup_sharing_a_protected_volume_is_not_separate() {
    let w = World::new();
    let dumps = w.path("dumps");
    fs::create_dir(&dumps).unwrap();
    fs::write(dumps.join("d.sql.gz"), plain_dump(10)).unwrap();
    let o = backup(
        &w,
        &[
            "--artifact",
            "d.sql.gz",
            "--location",
            s(&dumps),
            "--pgdata",
            s(&w.path("no-pgdata")),
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).contains("same filesystem as the state directory"),
        "{}",
        stdout(&o)
    );
    let b = section(&w, "backup");
    assert_eq!(b["status"], "DEGRADED", "{b:#}");
}

/// Issue 8 (one loader for trusted state): the report trusted a restore
/// drill dated in the future — a skewed clock's record counted as recent
/// proof of recoverability (the backup section checked the date, the
/// restore-drill section did not).
#[test]
fn a_future_dated_restore_drill_is_not_evidence() {
    let w = World::new();
    w.write_state(
        "restore_drill.status",
        "last_drill_at=2026-02-05T14:00:00Z\nlast_result=pass\nlast_artifact=d.sql.gz\n\
         last_pass_at=2026-02-05T14:00:00Z\nlast_pass_artifact=d.sql.gz\n\
         verified_artifacts=d.sql.gz\nchecked_at=2026-02-05T14:00:00Z\n",
    );
    let s = section(&w, "restore_drill");
    assert_eq!(s["status"], "DEGRADED", "{s:#}");
    assert!(
        s["summary"]
            .as_str()
            .unwrap()
            .contains("dated in the future"),
        "{s:#}"
    );
}

/// Issue 8 (the `.verified` marker rule lives in core): a drill of an
/// artifact whose name cannot be a marker (`../x`) was recorded first and
/// only then refused at the marker (exit 3 after writing state).
#[test]
fn an_unmarkable_artifact_is_refused_before_the_drill_is_recorded() {
    let w = World::new();
    let dumps = w.path("dumps");
    fs::create_dir(&dumps).unwrap();
    let o = w.ssot(&[
        "evidence",
        "restore-drill",
        "--artifact",
        "../x",
        "--result",
        "pass",
        "--mark-verified",
        s(&dumps),
    ]);
    assert_eq!(code(&o), 3, "{}", stdout(&o));
    assert!(stderr(&o).contains("path separator"), "{}", stderr(&o));
    assert!(!w.state.join("restore_drill.status").exists());
    assert!(!w.path("x.verified").exists());
}

/// Issue 11 (found by the DR drill against a real cluster): RTO was computed
/// from times with fractions of a second, but `dr_drill.status` keeps whole
/// seconds, so the recorded drill read back as corrupt ("rto_seconds says 2,
/// but restored_at − t0 is 3 seconds") and the report degraded.
#[test]
fn a_dr_drill_with_fractional_times_reads_back_as_recorded() {
    let w = World::new();
    let o = w.ssot(&[
        "evidence",
        "dr-drill",
        "--scenario",
        "loss of the primary",
        "--t0",
        "2026-02-05T11:00:00.900Z",
        "--restored-at",
        "2026-02-05T11:00:03.100Z",
        "--newest-before",
        "2026-02-05T11:00:00.800Z",
        "--newest-after",
        "2026-02-05T10:59:58.950Z",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let s = section(&w, "dr_drill");
    assert_eq!(s["status"], "OK", "{s:#}");
    assert!(s["summary"].as_str().unwrap().contains("RTO 3s"), "{s:#}");
}
