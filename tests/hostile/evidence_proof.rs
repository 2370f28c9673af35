//! Evidence that proves what it records (issue "Retention and evidence that
//! cannot lose or fake a backup"): backups read whole, drills of recorded
//! backups, verification that expires and follows the content, `ssot verify`,
//! the disk guard's estimate, restore targets and drill scratch directories.

use std::fs;

use super::*;

const DUMP_PATTERN: &str = "ssot_%Y%m%d_%H%M%S.sql.gz";

fn record(w: &World, dumps: &Path, artifact: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "evidence",
        "backup",
        "--artifact",
        artifact,
        "--location",
        s(dumps),
        "--pgdata",
        s(&w.root),
    ];
    args.extend(extra);
    w.ssot(&args)
}

fn dumps(w: &World) -> PathBuf {
    let d = w.path("dumps");
    fs::create_dir_all(&d).unwrap();
    d
}

/// Point 10: a 0-byte file was recorded as a complete backup and the
/// report said "backup OK".
#[test]
fn an_empty_backup_is_refused() {
    let w = World::new();
    let d = dumps(&w);
    fs::write(d.join("ssot_20260205_030000.sql.gz"), "").unwrap();
    let o = record(&w, &d, "ssot_20260205_030000.sql.gz", &[]);
    assert_eq!(code(&o), 2, "{}", stdout(&o));
    assert!(stderr(&o).contains("is empty"), "{}", stderr(&o));
    assert!(!w.state.join("backup.status").exists());
}

/// Point 10: a truncated gzip dump (and a plain dump cut short inside a
/// whole gzip stream) was recorded as complete.
#[test]
fn a_truncated_dump_is_refused() {
    let w = World::new();
    let d = dumps(&w);
    let whole = plain_dump(20_000);
    fs::write(d.join("ssot_20260204_030000.sql.gz"), &whole).unwrap();
    let o = record(&w, &d, "ssot_20260204_030000.sql.gz", &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).contains("gzip decoded to its end"),
        "{}",
        stdout(&o)
    );

    fs::write(
        d.join("ssot_20260205_030000.sql.gz"),
        &whole[..whole.len() / 2],
    )
    .unwrap();
    let o = record(&w, &d, "ssot_20260205_030000.sql.gz", &[]);
    assert_eq!(code(&o), 2, "{}", stdout(&o));
    assert!(
        stderr(&o).contains("truncated or corrupt"),
        "{}",
        stderr(&o)
    );

    // A whole gzip stream of a plain dump that stops mid-COPY.
    let sql = "--\n-- PostgreSQL database dump\n--\nCOPY t (a) FROM stdin;\n1\n2\n";
    fs::write(
        d.join("ssot_20260205_040000.sql.gz"),
        gzip_of(sql.as_bytes()),
    )
    .unwrap();
    let o = record(&w, &d, "ssot_20260205_040000.sql.gz", &[]);
    assert_eq!(code(&o), 2, "{}", stdout(&o));
    assert!(stderr(&o).contains("cut short"), "{}", stderr(&o));
}

/// Point 10: a custom-format dump is read through by pg_restore (when it is
/// on PATH): a file that only starts like one is refused.
#[test]
fn a_custom_dump_that_pg_restore_cannot_read_is_refused() {
    if which("pg_restore").is_none() {
        eprintln!("skipped: pg_restore is not on PATH");
        return;
    }
    let w = World::new();
    let d = dumps(&w);
    let mut fake = b"PGDMP".to_vec();
    fake.extend(vec![7u8; 4000]);
    fs::write(d.join("db.dump"), fake).unwrap();
    let o = record(&w, &d, "db.dump", &[]);
    assert_eq!(code(&o), 2, "{}", stdout(&o));
    assert!(stderr(&o).contains("pg_restore"), "{}", stderr(&o));
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// Point 10: a 2-byte file after real dumps is implausibly small: refused,
/// or (configured) recorded with a warning.
#[test]
fn an_implausibly_small_backup_is_refused_or_warned() {
    let w = World::new();
    let d = dumps(&w);
    fs::write(d.join("ssot_20260204_030000.sql.gz"), plain_dump(20_000)).unwrap();
    assert_eq!(code(&record(&w, &d, "ssot_20260204_030000.sql.gz", &[])), 0);
    fs::write(d.join("ssot_20260205_030000.sql.gz"), plain_dump(1)).unwrap();
    let o = record(&w, &d, "ssot_20260205_030000.sql.gz", &[]);
    assert_eq!(code(&o), 2, "{}", stdout(&o));
    assert!(stderr(&o).contains("implausibly small"), "{}", stderr(&o));

    let cfg = w.path("ssot.toml");
    fs::write(&cfg, "[evidence]\nsize_drop = \"warn\"\n").unwrap();
    let o = w.ssot(&[
        "--config",
        s(&cfg),
        "evidence",
        "backup",
        "--artifact",
        "ssot_20260205_030000.sql.gz",
        "--location",
        s(&d),
        "--pgdata",
        s(&w.root),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("WARNING") && stdout(&o).contains("implausibly small"));
}

/// Point 10: `--kind` is an allow-list; every spelling of a snapshot is refused.
#[test]
fn a_snapshot_by_any_name_and_an_unknown_kind_are_refused() {
    let w = World::new();
    let d = dumps(&w);
    fs::write(d.join("ssot_20260205_030000.sql.gz"), plain_dump(10)).unwrap();
    for kind in [
        "volume-snapshot",
        "VolumeSnapshot",
        "SNAPSHOT",
        "zfs-snap",
        "lvm_snapshot",
    ] {
        let o = record(&w, &d, "ssot_20260205_030000.sql.gz", &["--kind", kind]);
        assert_eq!(code(&o), 2, "{kind}: {}", stdout(&o));
        assert!(
            stderr(&o).contains("a snapshot is not a backup"),
            "{kind}: {}",
            stderr(&o)
        );
    }
    let o = record(
        &w,
        &d,
        "ssot_20260205_030000.sql.gz",
        &["--kind", "whatever"],
    );
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("basebackup"), "{}", stderr(&o));
    assert!(!w.state.join("backup.status").exists());
    let help = w.ssot(&["evidence", "backup", "--help"]);
    assert!(stdout(&help).contains("pgbackrest") && stdout(&help).contains("basebackup"));
}

fn drill(w: &World, artifact: &str, result: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "evidence",
        "restore-drill",
        "--artifact",
        artifact,
        "--result",
        result,
    ];
    args.extend(extra);
    w.ssot(&args)
}

/// Point 11: a drill of a backup ssot never recorded was recorded and then
/// named as the newest verified backup; `--mark-verified` wrote a marker next
/// to nothing.
#[test]
fn a_drill_names_a_recorded_backup_that_is_still_whole() {
    let w = World::new();
    let d = dumps(&w);
    let o = drill(&w, "no_such.dump", "pass", &["--mark-verified", s(&d)]);
    assert_eq!(code(&o), 2, "{}", stdout(&o));
    assert!(
        stderr(&o).contains("not a complete backup ssot recorded"),
        "{}",
        stderr(&o)
    );
    assert!(!d.join("no_such.dump.verified").exists());
    assert!(!w.state.join("restore_drill.status").exists());

    let name = "ssot_20260205_030000.sql.gz";
    fs::write(d.join(name), plain_dump(1000)).unwrap();
    assert_eq!(code(&record(&w, &d, name, &[])), 0);
    // Changed after it was recorded: a pass is refused.
    fs::write(d.join(name), plain_dump(1001)).unwrap();
    let o = drill(&w, name, "pass", &["--mark-verified", s(&d)]);
    assert_eq!(code(&o), 2, "{}", stdout(&o));
    assert!(
        stderr(&o).contains("changed since it was recorded"),
        "{}",
        stderr(&o)
    );
    assert!(!d.join(format!("{name}.verified")).exists());
}

/// Point 9: a failed drill whose notes are a tool's raw stderr (line breaks,
/// a trailing newline) was refused, so the report kept showing the last pass.
#[test]
fn a_failed_drill_with_raw_stderr_is_recorded_as_failed() {
    let w = World::new();
    let d = dumps(&w);
    let name = "ssot_20260205_030000.sql.gz";
    fs::write(d.join(name), plain_dump(1000)).unwrap();
    assert_eq!(code(&record(&w, &d, name, &[])), 0);
    assert_eq!(code(&drill(&w, name, "pass", &[])), 0);
    let stderr_text = format!(
        "pg_restore: error: could not execute query\r\nERROR:  relation \"t\" already exists\n\x1b[31m{}\n",
        "x".repeat(5000)
    );
    let o = drill(&w, name, "fail", &["--notes", &stderr_text]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let status = fs::read_to_string(w.state.join("restore_drill.status")).unwrap();
    assert!(status.contains("last_result=fail\n"), "{status}");
    let notes = status
        .lines()
        .find(|l| l.starts_with("last_notes="))
        .unwrap();
    assert!(
        notes.contains("could not execute query\\r\\nERROR"),
        "{notes}"
    );
    assert!(notes.len() < 2200, "bounded: {} bytes", notes.len());
    let o = w.ssot(&["report", "--format", "json"]);
    let section = report_section(&o, "restore_drill");
    assert_eq!(section["status"], "DEGRADED", "{section:#}");
    assert!(
        section["details"].to_string().contains("FAILED"),
        "{section:#}"
    );
}

fn plan_keep_reasons(w: &World, d: &Path, now: &str, id: &str) -> (String, String) {
    let o = run_bounded(&[
        "--state",
        s(&w.state),
        "--now",
        now,
        "retention",
        "plan",
        "--dir",
        s(d),
        "--pattern",
        DUMP_PATTERN,
        "--max-age",
        "1d",
        "--min-verified",
        "1",
        "--format",
        "json",
    ]);
    let v = json(&o);
    let all: Vec<serde_json::Value> = v["keep"]
        .as_array()
        .unwrap()
        .iter()
        .chain(v["delete"].as_array().unwrap())
        .cloned()
        .collect();
    let d = all.iter().find(|d| d["id"] == id).unwrap();
    (d["reasons"].to_string(), v["warnings"].to_string())
}

/// Point 11: a `.verified` marker carries the checksum and an expiry; an
/// expired marker, or one whose artifact changed, no longer counts for
/// `min_verified`; the report says until when backups are verified.
#[test]
fn a_verified_marker_expires_and_follows_the_content() {
    let w = World::new();
    let d = dumps(&w);
    let old = "ssot_20260201_030000.sql.gz";
    fs::write(d.join(old), plain_dump(1000)).unwrap();
    fs::write(d.join("ssot_20260205_030000.sql.gz"), plain_dump(1000)).unwrap();
    assert_eq!(code(&record(&w, &d, old, &[])), 0);
    let o = drill(&w, old, "pass", &["--mark-verified", s(&d)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let marker = fs::read_to_string(d.join(format!("{old}.verified"))).unwrap();
    assert!(
        marker.contains("sha256=") && marker.contains("expires_at=2026-03-12T12:00:00Z"),
        "{marker}"
    );

    // Within 35 days, min_verified keeps it.
    let (reasons, _) = plan_keep_reasons(&w, &d, "2026-02-06T12:00:00Z", old);
    assert!(reasons.contains("min_verified 1"), "{reasons}");
    // After the expiry it counts for nothing.
    let (reasons, warnings) = plan_keep_reasons(&w, &d, "2026-03-13T12:00:00Z", old);
    assert!(!reasons.contains("min_verified"), "{reasons}");
    assert!(warnings.contains("expired"), "{warnings}");
    // Its content changed: the marker names another checksum.
    fs::write(d.join(old), plain_dump(999)).unwrap();
    let (reasons, warnings) = plan_keep_reasons(&w, &d, "2026-02-06T12:00:00Z", old);
    assert!(!reasons.contains("min_verified"), "{reasons}");
    assert!(warnings.contains("another checksum"), "{warnings}");
    // A hand-made marker proves nothing.
    fs::write(d.join(format!("{old}.verified")), "restore drill passed\n").unwrap();
    let (reasons, warnings) = plan_keep_reasons(&w, &d, "2026-02-06T12:00:00Z", old);
    assert!(!reasons.contains("min_verified"), "{reasons}");
    assert!(warnings.contains("proves nothing"), "{warnings}");

    let o = w.ssot(&["report", "--format", "json"]);
    let drills = json(&o)["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "restore_drill")
        .unwrap()
        .to_string();
    assert!(
        drills.contains(&format!("{old} (until 2026-03-12T12:00:00Z)")),
        "{drills}"
    );
}

/// Point 11: a `.verified` marker written by hand (or copied) with the
/// right checksum and a far expiry counted for `min_verified`: a marker now
/// counts only for a passed drill recorded in `restore_drill.status`, until
/// the record's expiry; a later failed drill takes it back; an untrusted
/// record keeps every marked backup.
#[test]
fn a_marker_counts_only_for_a_drill_ssot_recorded() {
    let w = World::new();
    let d = dumps(&w);
    let old = "ssot_20260201_030000.sql.gz";
    let new = "ssot_20260204_030000.sql.gz";
    fs::write(d.join(old), plain_dump(1000)).unwrap();
    fs::write(d.join(new), plain_dump(1001)).unwrap();
    for n in [old, new] {
        assert_eq!(code(&record(&w, &d, n, &[])), 0);
    }
    let at = "2026-02-06T12:00:00Z";
    // A forged marker for the older dump: its real checksum, expiry in 2099.
    let forged = ssot_core::retention::source::VerifiedMarker {
        sha256: ssot_core::evidence::sha256_hex(&fs::read(d.join(old)).unwrap()),
        verified_at: "2026-02-05T00:00:00Z".parse().unwrap(),
        expires_at: "2099-01-01T00:00:00Z".parse().unwrap(),
    };
    fs::write(d.join(format!("{old}.verified")), forged.render()).unwrap();
    let (reasons, warnings) = plan_keep_reasons(&w, &d, at, old);
    assert!(!reasons.contains("min_verified"), "{reasons}");
    assert!(
        warnings.contains("no restore drill is recorded"),
        "{warnings}"
    );

    // Nor once another backup's drill is recorded.
    let o = drill(&w, new, "pass", &["--mark-verified", s(&d)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let (reasons, _) = plan_keep_reasons(&w, &d, at, new);
    assert!(reasons.contains("min_verified 1"), "{reasons}");

    let (reasons, warnings) = plan_keep_reasons(&w, &d, at, old);
    assert!(!reasons.contains("min_verified"), "{reasons}");
    assert!(
        warnings.contains(&format!("no passed restore drill of {old} is recorded")),
        "{warnings}"
    );

    // The drilled backup swapped for other content and its marker rewritten
    // to match: the drill record names the content it restored.
    let drilled = fs::read(d.join(new)).unwrap();
    let marker_text = fs::read_to_string(d.join(format!("{new}.verified"))).unwrap();
    fs::write(d.join(new), b"not a backup at all\n").unwrap();
    let swapped = ssot_core::retention::source::VerifiedMarker {
        sha256: ssot_core::evidence::sha256_hex(b"not a backup at all\n"),
        verified_at: "2026-02-05T00:00:00Z".parse().unwrap(),
        expires_at: "2026-03-01T00:00:00Z".parse().unwrap(),
    };
    fs::write(d.join(format!("{new}.verified")), swapped.render()).unwrap();
    let (reasons, warnings) = plan_keep_reasons(&w, &d, at, new);
    assert!(!reasons.contains("min_verified"), "{reasons}");
    assert!(
        warnings.contains("not what its recorded drill restored"),
        "{warnings}"
    );
    fs::write(d.join(new), drilled).unwrap();
    fs::write(d.join(format!("{new}.verified")), marker_text).unwrap();

    // The marker's own expiry is capped by the record's.
    let marker = fs::read_to_string(d.join(format!("{new}.verified"))).unwrap();
    let far = marker
        .lines()
        .map(|l| {
            if l.starts_with("expires_at=") {
                "expires_at=2099-01-01T00:00:00Z"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    fs::write(d.join(format!("{new}.verified")), far + "\n").unwrap();
    let (reasons, warnings) = plan_keep_reasons(&w, &d, "2026-03-20T12:00:00Z", new);
    assert!(!reasons.contains("min_verified"), "{reasons}");
    assert!(
        warnings.contains("counted until 2026-03-12T12:00:00Z"),
        "{warnings}"
    );

    // A later failed drill of the same backup takes its verification back.
    assert_eq!(code(&drill(&w, new, "fail", &[])), 0);
    let (reasons, warnings) = plan_keep_reasons(&w, &d, at, new);
    assert!(!reasons.contains("min_verified"), "{reasons}");
    assert!(
        warnings.contains(&format!("no passed restore drill of {new} is recorded")),
        "{warnings}"
    );

    // A record naming a backup twice is not one ssot wrote: untrusted.
    let record_path = w.state.join("restore_drill.status");
    let text: String = fs::read_to_string(&record_path)
        .unwrap()
        .lines()
        .map(|l| {
            if l.starts_with("verified_artifacts=") {
                format!("verified_artifacts={new},{new}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    fs::write(&record_path, text).unwrap();
    let (_, warnings) = plan_keep_reasons(&w, &d, at, new);
    assert!(warnings.contains("twice"), "{warnings}");

    // An untrusted record: no marker can be checked, every marked backup is kept.
    fs::write(&record_path, "last_result=maybe\n").unwrap();
    let (reasons, warnings) = plan_keep_reasons(&w, &d, at, old);
    assert!(reasons.contains("restore_drill.status"), "{reasons}");
    assert!(warnings.contains("cannot be checked"), "{warnings}");
}

/// Point 12: `ssot verify` re-reads recorded backups against their checksums.
#[test]
fn verify_finds_a_backup_that_changed_or_vanished() {
    let w = World::new();
    let d = dumps(&w);
    for n in [
        "ssot_20260203_030000.sql.gz",
        "ssot_20260204_030000.sql.gz",
        "ssot_20260205_030000.sql.gz",
    ] {
        fs::write(d.join(n), plain_dump(1000)).unwrap();
        assert_eq!(code(&record(&w, &d, n, &[])), 0);
    }
    let o = w.ssot(&["verify", "--format", "json"]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert_eq!(json(&o)["failed"], 0);
    fs::write(d.join("ssot_20260204_030000.sql.gz"), plain_dump(1001)).unwrap();
    fs::remove_file(d.join("ssot_20260203_030000.sql.gz")).unwrap();
    let o = w.ssot(&["verify"]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    let text = stdout(&o);
    assert!(
        text.contains("ssot_20260204_030000.sql.gz")
            && text.contains("changed since it was recorded"),
        "{text}"
    );
    assert!(
        text.contains("ssot_20260203_030000.sql.gz") && text.contains("no longer at"),
        "{text}"
    );
    let status = fs::read_to_string(w.state.join("verify.status")).unwrap();
    assert!(
        status.contains("failed=2\n") && status.contains("result=fail\n"),
        "{status}"
    );
}

/// Point 13: the disk guard sized the next backup from the newest file in
/// the target — a 45-byte `.verified` marker. It sizes from the recent
/// backups that match the pattern, never from a marker or sidecar.
#[test]
fn the_disk_estimate_comes_from_recent_backups_not_markers() {
    let w = World::new();
    w.healthy();
    let d = dumps(&w);
    fs::write(d.join("ssot_20260204_030000.sql.gz"), vec![1u8; 300_000]).unwrap();
    fs::write(d.join("ssot_20260205_030000.sql.gz"), vec![1u8; 200_000]).unwrap();
    fs::write(d.join("ssot_20260205_030000.sql.gz.verified"), "x").unwrap();
    fs::write(d.join("notes.txt"), "x").unwrap();
    let o = w.ssot(&[
        "gate",
        "backup",
        "--target",
        s(&d),
        "--pgdata",
        s(&w.root),
        "--format",
        "json",
    ]);
    let v = json(&o);
    let checks = v["reasons"].to_string();
    assert!(checks.contains("after writing 293.0kB"), "{checks}");
    assert!(checks.contains("ssot_20260204_030000.sql.gz"), "{checks}");
}

/// Point 7: `gate restore --target T` allowed a target holding PGDATA when
/// PGDATA is a separate mount (the devices differ). Identities decide.
#[test]
fn a_restore_target_holding_a_separately_mounted_pgdata_is_denied() {
    let w = World::new();
    w.healthy();
    w.write_state(
        "contract.status",
        &format!("contract_status=PASS\nchecked_at={}\n", real_now()),
    );
    let site = w.path("site");
    let pgdata = site.join("pgdata");
    fs::create_dir_all(&pgdata).unwrap();
    let Some(_mounted) = mount(
        &["-t", "tmpfs", "-o", "size=8m,mode=0750", "tmpfs"],
        &pgdata,
    ) else {
        return;
    };
    fs::write(pgdata.join("PG_VERSION"), "15\n").unwrap();
    for (target, rule_text) in [(&site, "holds PGDATA"), (&pgdata, "is PGDATA")] {
        let o = w.ssot(&[
            "gate",
            "restore",
            "--target",
            s(target),
            "--pgdata",
            s(&pgdata),
            "--format",
            "json",
        ]);
        assert_eq!(code(&o), 1, "{}", stdout(&o));
        let why = denial(&json(&o), "target_outside_protected");
        assert!(why.contains(rule_text), "{why}");
    }
    assert!(pgdata.join("PG_VERSION").exists());
}

/// Point 8: the drill runbook ran `pg_ctl stop` and `rm -rf ${scratch}/data`
/// on whatever `--arg scratch` named. It works only in a directory it
/// created and marked; an unmarked one is refused before anything runs.
#[test]
fn a_drill_works_only_in_a_directory_it_created() {
    let w = World::new();
    let scratch = w.path("scratch");
    let victim = scratch.join("ssot-drill");
    fs::create_dir_all(victim.join("data")).unwrap();
    fs::write(victim.join("data/PG_VERSION"), "15\n").unwrap();
    let rb = w.path("scratch.rhai");
    fs::write(
        &rb,
        format!(
            "let work = drill_scratch({:?}, #{{}});\nprint(work);\n",
            s(&scratch)
        ),
    )
    .unwrap();
    let o = w.ssot(&["run", s(&rb)]);
    assert_eq!(code(&o), 125, "{}{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).contains("carries no .ssot-drill-scratch"),
        "{}",
        stderr(&o)
    );
    assert!(victim.join("data/PG_VERSION").exists());
    fs::write(&rb, format!("remove_drill_scratch({:?});\n", s(&victim))).unwrap();
    let o = w.ssot(&["run", s(&rb)]);
    assert_eq!(code(&o), 125, "{}{}", stdout(&o), stderr(&o));
    assert!(victim.join("data/PG_VERSION").exists());

    // A fresh scratch: created, marked, and removed whole.
    fs::remove_dir_all(&victim).unwrap();
    fs::write(
        &rb,
        format!(
            "let work = drill_scratch({:?}, #{{}});\nprint(work);\nremove_drill_scratch(work);\n",
            s(&scratch)
        ),
    )
    .unwrap();
    let o = w.ssot(&["run", s(&rb)]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("ssot-drill"));
    assert!(!victim.exists());
    // Refused around the state directory.
    fs::write(&rb, format!("drill_scratch({:?}, #{{}});\n", s(&w.state))).unwrap();
    let o = w.ssot(&["run", s(&rb)]);
    assert_eq!(code(&o), 125, "{}{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).contains("no place for a drill"),
        "{}",
        stderr(&o)
    );
}

/// Found by attack: a gzip of anything (a failed `pg_dump 2>&1 | gzip`),
/// random bytes named `.sql.gz`, and any file behind `file://` were recorded
/// as complete dumps.
#[test]
fn a_dump_that_is_not_pg_dumps_output_is_refused() {
    let w = World::new();
    let d = dumps(&w);
    fs::write(
        d.join("err.sql.gz"),
        gzip_of(b"pg_dump: error: connection failed\n"),
    )
    .unwrap();
    fs::write(
        d.join("rand.sql.gz"),
        (0..100_000u32)
            .map(|i| (i * 7919 % 251) as u8)
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    for name in ["err.sql.gz", "rand.sql.gz"] {
        let o = record(&w, &d, name, &[]);
        assert_eq!(code(&o), 2, "{name}: {}", stdout(&o));
        assert!(
            stderr(&o).contains("not a pg_dump archive or script"),
            "{name}: {}",
            stderr(&o)
        );
    }
    fs::write(d.join("empty.dump"), "").unwrap();
    let o = w.ssot(&[
        "evidence",
        "backup",
        "--artifact",
        "empty.dump",
        "--location",
        &format!("file://{}", d.display()),
    ]);
    assert_eq!(code(&o), 2, "{}", stdout(&o));
    assert!(stderr(&o).contains("is empty"), "{}", stderr(&o));
}

/// Found by attack: after retention deleted a recorded backup by policy,
/// `verify` reported it lost every day; `checked` counted only the whole ones.
#[test]
fn verify_forgets_what_retention_deleted_and_counts_what_it_read() {
    let w = World::new();
    let d = dumps(&w);
    for n in ["ssot_20260101_030000.sql.gz", "ssot_20260205_030000.sql.gz"] {
        fs::write(d.join(n), plain_dump(1000)).unwrap();
        assert_eq!(code(&record(&w, &d, n, &[])), 0);
    }
    let o = w.ssot(&[
        "retention",
        "apply",
        "--dir",
        s(&d),
        "--pattern",
        DUMP_PATTERN,
        "--keep-last",
        "1",
        "--confirm",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!d.join("ssot_20260101_030000.sql.gz").exists());
    let o = w.ssot(&["verify"]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    fs::write(d.join("ssot_20260205_030000.sql.gz"), plain_dump(999)).unwrap();
    let o = w.ssot(&["verify"]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    let status = fs::read_to_string(w.state.join("verify.status")).unwrap();
    assert!(
        status.contains("checked=1\n")
            && status.contains("ok=0\n")
            && status.contains("failed=1\n"),
        "{status}"
    );
}

/// Found by attack: removing a drill scratch that held a bind mount deleted
/// the mounted files. The walk never enters a mount point.
#[test]
fn removing_a_drill_scratch_never_enters_a_mount() {
    let w = World::new();
    let scratch = w.path("scratch");
    fs::create_dir_all(&scratch).unwrap();
    let rb = w.path("make.rhai");
    fs::write(
        &rb,
        format!("print(drill_scratch({:?}, #{{}}));\n", s(&scratch)),
    )
    .unwrap();
    let o = w.ssot(&["run", s(&rb)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let work = scratch.join("ssot-drill");
    fs::create_dir_all(work.join("data/sub")).unwrap();
    let victim = w.path("victim");
    fs::create_dir_all(&victim).unwrap();
    fs::write(victim.join("keep.me"), "precious").unwrap();
    let Some(mounted) = mount(&["--bind", s(&victim)], &work.join("data/sub")) else {
        return;
    };
    fs::write(&rb, format!("remove_drill_scratch({:?});\n", s(&work))).unwrap();
    let o = w.ssot(&["run", s(&rb)]);
    drop(mounted);
    assert_eq!(code(&o), 125, "{}{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("mount"), "{}", stderr(&o));
    assert_eq!(
        fs::read_to_string(victim.join("keep.me")).unwrap(),
        "precious"
    );
}

/// Found by attack: PGDATA reached through a bind mount escaped the restore
/// gate, in both directions (the target a bind mount of PGDATA's parent;
/// PGDATA given as a bind mount of a directory inside the target). The mount
/// table gives each path's place in its filesystem.
#[test]
fn a_restore_target_that_reaches_pgdata_through_a_bind_mount_is_denied() {
    let w = World::new();
    w.healthy();
    let site = w.path("site");
    let pgdata = site.join("pg/data");
    fs::create_dir_all(&pgdata).unwrap();
    fs::write(pgdata.join("PG_VERSION"), "15\n").unwrap();
    let view = w.path("view");
    let exposed = view.join("x");
    let alias = w.path("alias/data");
    fs::create_dir_all(&exposed).unwrap();
    fs::create_dir_all(&alias).unwrap();
    let mut mounted = Vec::new();
    for to in [&exposed, &alias] {
        let Some(m) = mount(&["--bind", s(&pgdata)], to) else {
            return;
        };
        mounted.push(m);
    }
    for (target, pg) in [(&view, &pgdata), (&site, &alias)] {
        let o = w.ssot(&[
            "gate",
            "restore",
            "--target",
            s(target),
            "--pgdata",
            s(pg),
            "--format",
            "json",
        ]);
        assert_eq!(
            code(&o),
            1,
            "{} / {}: {}",
            target.display(),
            pg.display(),
            stdout(&o)
        );
        let why = denial(&json(&o), "target_outside_protected");
        assert!(why.contains("mount"), "{why}");
    }
    drop(mounted);
    assert!(pgdata.join("PG_VERSION").exists());
}
