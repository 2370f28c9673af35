//! The state directory's files: symlinks, FIFOs, devices, huge files,
//! hostile counts and corrupt typed fields (points 2, 5 and 12).

use std::fs;
use std::os::unix::fs::symlink;

use super::*;

fn mkfifo(path: &Path) {
    nix::unistd::mkfifo(path, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
}

// ---- point 2: symlinks in the state directory are never written through ----

/// Point 2: `operation.lock -> victim` and `retention apply --confirm`: the
/// victim used to be overwritten with the lock's holder text.
#[test]
fn a_symlinked_operation_lock_is_not_written_through() {
    let w = World::new();
    let v = victim(&w.root);
    symlink(&v, w.state.join("operation.lock")).unwrap();
    let dumps = w.path("dumps");
    fs::create_dir(&dumps).unwrap();
    fs::write(dumps.join("old"), "x").unwrap();
    let o = w.ssot(&[
        "retention",
        "apply",
        "--dir",
        s(&dumps),
        "--max-age",
        "1d",
        "--confirm",
    ]);
    assert_victim_intact(&v);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("operation.lock: is a symbolic link"),
        "{}",
        stderr(&o)
    );
    assert!(
        dumps.join("old").exists(),
        "nothing is deleted without the lock"
    );
}

/// Point 2: a symlinked `gate.log` used to get the decision appended to its target.
#[test]
fn a_symlinked_gate_log_is_not_appended_to() {
    let w = World::new();
    w.healthy();
    let v = victim(&w.root);
    symlink(&v, w.state.join("gate.log")).unwrap();
    let o = w.ssot(&["gate", "startup"]);
    assert_victim_intact(&v);
    assert_eq!(
        code(&o),
        2,
        "the decision cannot be recorded: could not evaluate"
    );
    assert!(
        stderr(&o).contains("gate.log: is a symbolic link"),
        "{}",
        stderr(&o)
    );
}

/// Point 2: the state lock is taken on the state directory's own file, never through a link.
#[test]
fn a_symlinked_state_lock_is_refused() {
    let w = World::new();
    let v = victim(&w.root);
    symlink(&v, w.state.join(".ssot.lock")).unwrap();
    let pgdata = w.path("pgdata");
    fs::create_dir_all(pgdata.join("pg_wal")).unwrap();
    let o = w.ssot(&["wal", "check", "--pgdata", s(&pgdata)]);
    assert_victim_intact(&v);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    assert!(
        stderr(&o).contains(".ssot.lock: is a symbolic link"),
        "{}",
        stderr(&o)
    );
}

/// Point 2: a symlinked record is corrupt, so the gate denies — even when
/// the link points at a perfectly good status.
#[test]
fn a_symlinked_record_is_corrupt_and_denies() {
    let w = World::new();
    w.healthy();
    let elsewhere = w.path("good.status");
    fs::rename(w.state.join("wal.status"), &elsewhere).unwrap();
    symlink(&elsewhere, w.state.join("wal.status")).unwrap();
    let (c, d) = w.gate_json("startup");
    assert_eq!(c, 1);
    assert_eq!(denied_rules(&d), ["wal_status_corrupt"]);
    assert!(denial(&d, "wal_status_corrupt").contains("is a symbolic link"));
}

/// Point 2: `wal check` replaces a symlinked `wal.status` with its own file;
/// the link's target is untouched.
#[test]
fn wal_check_replaces_a_symlinked_status_instead_of_writing_through() {
    let w = World::new();
    let v = victim(&w.root);
    symlink(&v, w.state.join("wal.status")).unwrap();
    let pgdata = w.path("pgdata");
    fs::create_dir_all(pgdata.join("pg_wal")).unwrap();
    w.ssot(&["wal", "check", "--pgdata", s(&pgdata)]);
    assert_victim_intact(&v);
    assert!(fs::symlink_metadata(w.state.join("wal.status"))
        .unwrap()
        .is_file());
}

/// Point 2: ssot's own files in an artifact root (its journal and lock) are
/// never written through a symlink either.
#[test]
fn a_symlinked_retention_journal_or_lock_is_not_written_through() {
    for name in [".ssot-retention.journal", ".ssot-retention.lock"] {
        let w = World::new();
        let v = victim(&w.root);
        let dumps = w.path("dumps");
        fs::create_dir(&dumps).unwrap();
        fs::write(dumps.join("old"), "x").unwrap();
        symlink(&v, dumps.join(name)).unwrap();
        let o = w.ssot(&[
            "retention",
            "apply",
            "--dir",
            s(&dumps),
            "--keep-last",
            "0",
            "--max-age",
            "0",
            "--confirm",
        ]);
        assert_victim_intact(&v);
        assert_eq!(code(&o), 3, "{name}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!("{name}: is a symbolic link")),
            "{}",
            stderr(&o)
        );
        assert!(dumps.join("old").exists(), "{name}: nothing is deleted");
    }
}

/// Point 19: a dangling symlink as the state directory says so (it used to say "File exists").
#[test]
fn a_dangling_state_directory_symlink_is_named() {
    let w = World::new();
    let link = w.path("state-link");
    symlink(w.path("nowhere"), &link).unwrap();
    let pgdata = w.path("pgdata");
    fs::create_dir_all(pgdata.join("pg_wal")).unwrap();
    let o = run_bounded(&[
        "wal",
        "check",
        "--pgdata",
        s(&pgdata),
        "--state",
        s(&link),
        "--now",
        NOW,
    ]);
    assert_eq!(code(&o), 3);
    assert!(
        stderr(&o).contains("is a symbolic link to")
            && stderr(&o).contains("nowhere, which does not exist"),
        "{}",
        stderr(&o)
    );
}

// ---- point 5: no hang, no unbounded read ----

/// Point 5: a FIFO as `wal.status` used to hang `gate`, `wal check`, `status` and `report`.
#[test]
fn a_fifo_wal_status_hangs_nothing() {
    let w = World::new();
    w.healthy();
    fs::remove_file(w.state.join("wal.status")).unwrap();
    mkfifo(&w.state.join("wal.status"));
    let (c, d) = w.gate_json("startup");
    assert_eq!(c, 1);
    assert!(denial(&d, "wal_status_corrupt").contains("is a FIFO, not a regular file"));
    let pgdata = w.path("pgdata");
    fs::create_dir_all(pgdata.join("pg_wal")).unwrap();
    let o = w.ssot(&["wal", "check", "--pgdata", s(&pgdata)]);
    assert!(code(&o) <= 2, "{}", stderr(&o));
    // wal check replaced the FIFO with its own record.
    assert!(fs::symlink_metadata(w.state.join("wal.status"))
        .unwrap()
        .is_file());
    fs::remove_file(w.state.join("wal.status")).unwrap();
    mkfifo(&w.state.join("wal.status"));
    let o = w.ssot(&["status"]);
    assert_eq!(code(&o), 0);
    assert!(
        stdout(&o).contains("wal.status: REFUSED: is a FIFO"),
        "{}",
        stdout(&o)
    );
    let o = w.ssot(&["report"]);
    assert_eq!(code(&o), 2, "WAL state unknown is DOWN");
    assert!(stdout(&o).contains("is a FIFO"), "{}", stdout(&o));
}

/// Point 5: FIFOs as `contract.status`, `operation.lock` and `.ssot.lock`.
#[test]
fn fifo_contract_status_and_locks_hang_nothing() {
    let w = World::new();
    w.healthy();
    fs::remove_file(w.state.join("contract.status")).unwrap();
    mkfifo(&w.state.join("contract.status"));
    let (c, d) = w.gate_json("startup");
    assert_eq!(c, 1);
    assert!(denial(&d, "contract_status_corrupt").contains("is a FIFO"));

    let w = World::new();
    w.healthy();
    mkfifo(&w.state.join("operation.lock"));
    let (c, d) = w.gate_json("startup");
    assert_eq!(c, 1);
    assert!(denial(&d, "operation_lock").contains("operation.lock: is a FIFO"));
    let o = w.ssot(&["gate", "startup", "--", "true"]);
    assert_eq!(code(&o), 124, "denied: {}", stderr(&o));

    let w = World::new();
    mkfifo(&w.state.join(".ssot.lock"));
    let pgdata = w.path("pgdata");
    fs::create_dir_all(pgdata.join("pg_wal")).unwrap();
    let o = w.ssot(&["wal", "check", "--pgdata", s(&pgdata)]);
    assert_eq!(code(&o), 3);
    assert!(
        stderr(&o).contains(".ssot.lock: is a FIFO"),
        "{}",
        stderr(&o)
    );
}

/// Point 5: `wal.status -> /dev/zero` used to be read until memory ran out.
#[test]
fn a_state_file_linked_to_dev_zero_is_refused_at_once() {
    let w = World::new();
    w.healthy();
    fs::remove_file(w.state.join("wal.status")).unwrap();
    symlink("/dev/zero", w.state.join("wal.status")).unwrap();
    let (c, d) = w.gate_json("startup");
    assert_eq!(c, 1);
    assert!(denial(&d, "wal_status_corrupt").contains("symbolic link"));
}

/// Point 5: a regular file far larger than any record ssot writes is
/// refused without being read: a clear "too large" denial.
#[test]
fn an_oversized_record_is_a_clear_too_large_denial() {
    let w = World::new();
    w.healthy();
    let f = fs::OpenOptions::new()
        .append(true)
        .open(w.state.join("wal.status"))
        .unwrap();
    f.set_len(8 << 30).unwrap(); // sparse: 8 GiB of apparent size, no disk used
    let (c, d) = w.gate_json("startup");
    assert_eq!(c, 1);
    let m = denial(&d, "wal_status_corrupt");
    assert!(m.contains("is larger than 1MiB"), "{m}");
}

/// Point 5: `reason_count=18446744073709551615` used to hang the gate and
/// `wal check` (the count drove a loop) while holding the state lock.
#[test]
fn a_hostile_reason_count_drives_no_loop() {
    let w = World::new();
    w.healthy();
    w.write_state(
        "wal.status",
        &format!(
            "wal_status=OK\nchecked_at={now}\nreason_count=18446744073709551615\n",
            now = real_now()
        ),
    );
    let (c, d) = w.gate_json("startup");
    assert_eq!(c, 1);
    let m = denial(&d, "wal_status_corrupt");
    assert!(
        m.contains("reason_count") && m.contains("holds 0 reason line(s)"),
        "{m}"
    );
    let pgdata = w.path("pgdata");
    fs::create_dir_all(pgdata.join("pg_wal")).unwrap();
    let o = w.ssot(&["wal", "check", "--pgdata", s(&pgdata)]);
    assert!(code(&o) <= 2, "{}", stderr(&o));
    assert!(
        stdout(&o).contains("previous status not usable"),
        "{}",
        stdout(&o)
    );
}

/// Point 5: the key=value codec parses in linear time (duplicate-key
/// detection was quadratic: 123k keys took 35 s in a debug build). 400k
/// keys, 4 MB, parse well within the hang limit only if parsing is linear.
#[test]
fn the_state_file_codec_is_linear_in_the_number_of_keys() {
    let mut text = format!("wal_status=OK\nchecked_at={NOW}\n");
    for i in 0..400_000u64 {
        text.push_str(&format!("k{i}=v\n"));
    }
    let parsed = within_hang_limit("parsing 400k keys", move || {
        ssot_core::statefile::StateFile::parse(text.as_bytes(), "wal.status")
    });
    let f = parsed.unwrap();
    assert_eq!(f.get("k399999"), Some("v"));
    assert_eq!(f.keys().count(), 400_002);
}

/// Point 5: through the CLI, a record of many keys (under the size limit)
/// is answered at once.
#[test]
fn a_state_file_of_many_keys_is_answered() {
    let w = World::new();
    w.healthy();
    let mut text = format!("wal_status=OK\nchecked_at={now}\n", now = real_now());
    let mut i = 0u64;
    while text.len() < 1_000_000 {
        text.push_str(&format!("k{i}=\n"));
        i += 1;
    }
    w.write_state("wal.status", &text);
    let (c, d) = w.gate_json("startup");
    assert_eq!(c, 0, "{d:#}");
}

// ---- point 12: every typed field is validated on read ----

/// Point 12: `wal_size=banana wal_used_pct=-5` used to be ALLOWED, and the
/// report said "volume -5% used".
#[test]
fn corrupt_typed_fields_in_wal_status_deny() {
    let w = World::new();
    w.healthy();
    w.write_state(
        "wal.status",
        &format!(
            "wal_status=OK\nchecked_at={now}\nwal_size=banana\nwal_used_pct=-5\n",
            now = real_now()
        ),
    );
    let (c, d) = w.gate_json("startup");
    assert_eq!(c, 1);
    let m = denial(&d, "wal_status_corrupt");
    assert!(
        m.contains("key \"wal_size\": invalid value \"banana\""),
        "{m}"
    );
    let o = w.ssot(&["report"]);
    assert_eq!(code(&o), 2);
    assert!(!stdout(&o).contains("-5%"), "{}", stdout(&o));
    assert!(stdout(&o).contains("banana"), "{}", stdout(&o));
    let o = w.ssot(&["status"]);
    assert!(stdout(&o).contains("CORRUPT"), "{}", stdout(&o));

    w.write_state(
        "wal.status",
        &format!(
            "wal_status=OK\nchecked_at={now}\nwal_used_pct=-5\n",
            now = real_now()
        ),
    );
    let (_, d) = w.gate_json("startup");
    assert!(denial(&d, "wal_status_corrupt").contains("outside the range 0 to 100"));
}

/// Point 12: a status that contradicts its own rules is corrupt, not OK.
#[test]
fn a_status_that_contradicts_its_rules_denies() {
    let w = World::new();
    w.healthy();
    w.write_state(
        "wal.status",
        &format!(
            "wal_status=OK\nchecked_at={now}\nactive_rules=volume_used_error\n",
            now = real_now()
        ),
    );
    let (_, d) = w.gate_json("startup");
    assert!(denial(&d, "wal_status_corrupt")
        .contains("the active rules make the status ERROR, but wal_status says OK"));
    w.write_state(
        "contract.status",
        &format!(
            "contract_status=PASS\nchecked_at={now}\ninvariant.sts.single_instance=fail\n",
            now = real_now()
        ),
    );
    w.write_state(
        "wal.status",
        &format!("wal_status=OK\nchecked_at={now}\n", now = real_now()),
    );
    let (_, d) = w.gate_json("startup");
    assert!(denial(&d, "contract_status_corrupt")
        .contains("says PASS, but what it lists makes it FAIL"));
}

/// Found by attack on the record format (issue 21): a key with a trailing
/// dot (`wal_status.=OK`) is another tool's key, as it was before; it was
/// read as `wal_status` itself, the last line winning, so a hand-edited or
/// stale line overrode the status ssot wrote and the gate allowed over ERROR.
/// And a key below a list-valued field (`failed.note`) denied every gate.
#[test]
fn a_trailing_dot_key_is_not_read_as_the_key() {
    let w = World::new();
    w.healthy();
    let now = real_now();
    w.write_state(
        "wal.status",
        &format!("wal_status=ERROR\nchecked_at={now}\nwal_status.=OK\n"),
    );
    let (c, d) = w.gate_json("startup");
    assert_eq!(c, 1, "{d:#}");
    assert_eq!(denied_rules(&d), ["wal_status_ok"], "{d:#}");

    w.healthy();
    w.write_state(
        "contract.status",
        &format!("contract_status=FAIL\nchecked_at={now}\ncontract_status.=PASS\n"),
    );
    let (c, d) = w.gate_json("startup");
    assert_eq!(c, 1, "{d:#}");
    assert_eq!(denied_rules(&d), ["contract_pass"], "{d:#}");

    // `invariant.` names an invariant (with an empty id), as it always did:
    // a failing one under a PASS is corrupt.
    w.write_state(
        "contract.status",
        &format!("contract_status=PASS\nchecked_at={now}\ninvariant.=fail\n"),
    );
    let (c, d) = w.gate_json("startup");
    assert_eq!(c, 1, "{d:#}");
    assert!(
        denial(&d, "contract_status_corrupt").contains("makes it FAIL"),
        "{d:#}"
    );

    // Other tools' keys below a list-valued key (`failed.note`) are theirs,
    // as before: not a "missing key \"failed\"" that denied every gate.
    w.write_state(
        "wal.status",
        &format!("wal_status=OK\nchecked_at={now}\nactive_rules.note=x\n"),
    );
    w.write_state(
        "contract.status",
        &format!("contract_status=PASS\nchecked_at={now}\nfailed.note=x\nunknown.by=me\n"),
    );
    let (c, d) = w.gate_json("startup");
    assert_eq!(c, 0, "{d:#}");
}

/// `retention.status` with other tools' keys under a `warning.` family
/// (`tool.warning.x`, `owner.warning.`, `backups.warning.1.x`,
/// `backups.warning.0`): the serde reader called the file corrupt and the
/// report DEGRADED; such keys were always another tool's. Its own
/// `warning.N` lines still read, in the order of N.
#[test]
fn other_tools_keys_under_a_retention_warning_family_are_theirs() {
    let w = World::new();
    w.healthy();
    let at = real_now();
    w.write_state(
        "retention.status",
        &format!(
            "backups.applied_at={at}\nbackups.kept=3\nbackups.warning.2=second\nbackups.warning.1=first\n\
             backups.warning.1.x=3\nbackups.warning.0=zero\nbackups.warning.note=x\n\
             tool.warning.x=1\nowner.warning.=y\n"
        ),
    );
    let o = w.ssot(&["report", "--format", "json"]);
    let r = json(&o);
    let text = r.to_string();
    assert!(!text.contains("corrupt"), "{r:#}");
    assert!(!text.contains("a warning key"), "{r:#}");
    let f = ssot_core::statefile::StateFile::parse(
        std::fs::read(w.state.join("retention.status"))
            .unwrap()
            .as_slice(),
        "retention.status",
    )
    .unwrap();
    let rec = ssot_core::state::RetentionStatusRecord::from_file(&f).unwrap();
    assert_eq!(
        rec.profiles["backups"].warnings,
        ["zero", "first", "second"]
    );
    assert_eq!(rec.profiles["backups"].kept, Some(3));
}

/// Point 12: the evidence records are validated too: a bad size is corrupt,
/// not silently dropped.
#[test]
fn corrupt_evidence_fields_degrade_the_report() {
    let w = World::new();
    w.healthy();
    w.write_state(
        "backup.status",
        "last_complete_at=2026-02-05T03:00:00Z\nlast_complete_artifact=d.sql.gz\nlast_complete_location=/b\nlast_complete_separate_from_pgdata=yes\nlast_complete_size_bytes=lots\n",
    );
    let o = w.ssot(&["report", "--format", "json"]);
    let r = json(&o);
    let backup = r["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "backup")
        .unwrap();
    assert_eq!(backup["status"], "DEGRADED");
    assert!(
        backup["summary"]
            .as_str()
            .unwrap()
            .contains("key \"last_complete_size_bytes\": invalid value \"lots\""),
        "{backup:#}"
    );
}

/// Found by attack: a rotation cut short by a crash leaves a gap in the
/// chain (`gate.log.1` missing), and the report stopped reading at the gap;
/// a lowered `gate.log_generations` left the old generations forever.
#[test]
fn a_gap_in_the_gate_log_chain_hides_nothing_and_old_generations_go() {
    let w = World::new();
    w.healthy();
    for _ in 0..3 {
        let (c, _) = w.gate_json("startup");
        assert_eq!(c, 0);
    }
    let lines = fs::read_to_string(w.state.join("gate.log")).unwrap();
    assert_eq!(lines.lines().count(), 3);
    // gate.log.1 lost mid-rotation; .2 and .5 hold three decisions each.
    fs::write(w.state.join("gate.log.2"), &lines).unwrap();
    fs::write(w.state.join("gate.log.5"), &lines).unwrap();
    let cfg = w.path("ssot.toml");
    fs::write(
        &cfg,
        "[gate]\nlog_max_bytes = \"64kB\"\nlog_generations = 3\n",
    )
    .unwrap();
    let report = |w: &World| {
        let o = run_bounded(&[
            "--state",
            s(&w.state),
            "--config",
            s(&cfg),
            "report",
            "--format",
            "json",
        ]);
        section_summary(&json(&o), "gates")
    };
    let summary = report(&w);
    assert!(summary.contains("9 allowed"), "{summary}");
    // A full gate.log rotates: generations beyond the 3 configured go.
    let mut big = String::new();
    while big.len() < 64 * 1024 {
        big.push_str(&lines);
    }
    fs::write(w.state.join("gate.log"), &big).unwrap();
    let o = run_bounded(&[
        "--state",
        s(&w.state),
        "--config",
        s(&cfg),
        "gate",
        "startup",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        !w.state.join("gate.log.5").exists(),
        "an old generation stayed"
    );
    assert!(w.state.join("gate.log.1").exists() && w.state.join("gate.log.3").exists());
}

/// Issue 21: `backup.status` and `restore_drill.status` are read by the
/// record format (prefixed `last_*`, joined `recent.N_*`). A file as ssot
/// wrote it reads; a hostile item number (too big for any integer, 0, a
/// gap, the dotted `recent.1.at`) or half a passed drill is corrupt, named
/// by file, line and key, and degrades its section: never a panic, a hang
/// or a silently shorter list.
#[test]
fn hostile_recent_items_and_half_prefixed_records_are_corrupt_and_named() {
    let item = |n: &str, at: &str, artifact: &str| {
        format!(
            "recent.{n}_at={at}\nrecent.{n}_artifact={artifact}\nrecent.{n}_location=/b\nrecent.{n}_kind=dump\nrecent.{n}_separate_from_pgdata=yes\n"
        )
    };
    let head = "last_at=2026-02-05T03:00:00Z\nlast_artifact=d2.sql.gz\nlast_location=/b\nlast_kind=dump\nlast_separate_from_pgdata=yes\nlast_complete_at=2026-02-05T03:00:00Z\nlast_complete_artifact=d2.sql.gz\nlast_complete_location=/b\nlast_complete_kind=dump\nlast_complete_separate_from_pgdata=yes\nlast_result=complete\nchecked_at=2026-02-05T03:00:00Z\n";
    let one = item("1", "2026-02-05T03:00:00Z", "d2.sql.gz");
    let two = item("2", "2026-02-04T03:00:00Z", "d1.sql.gz");
    let summary = |w: &World| {
        let o = w.ssot(&["report", "--format", "json"]);
        report_section(&o, "backup")["summary"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let w = World::new();
    w.healthy();
    w.write_state("backup.status", &format!("{head}{one}{two}"));
    let fine = summary(&w);
    assert!(!fine.contains("corrupt"), "{fine}");
    let path = w.state.join("backup.status");
    let path = path.display();
    // Line 13 is the first `recent` line, line 18 the first of the second item.
    for (text, want) in [
        (
            format!(
                "{head}{one}{}",
                item("99999999999999999999", "2026-02-04T03:00:00Z", "d1.sql.gz")
            ),
            format!(
                "{path}:18: key \"recent.99999999999999999999_\": a recent key is recent.N_<field>"
            ),
        ),
        (
            format!(
                "{head}{one}{}",
                item("3", "2026-02-04T03:00:00Z", "d1.sql.gz")
            ),
            format!("{path}:18: key \"recent.3_\": recent.2 is missing before it"),
        ),
        (
            format!(
                "{head}{}{one}",
                item("0", "2026-02-04T03:00:00Z", "d1.sql.gz")
            ),
            format!("{path}:13: key \"recent.0_\": a recent key is recent.N_<field>"),
        ),
        (
            format!("{head}{one}recent.2.at=2026-02-04T03:00:00Z\n"),
            format!("{path}:18: key \"recent.2.at_\": a recent key is recent.N_<field>"),
        ),
        (
            format!("{head}recent.1_artifact=d2.sql.gz\n"),
            format!("{path}: missing key \"recent.1_at\""),
        ),
    ] {
        w.write_state("backup.status", &text);
        let got = summary(&w);
        assert!(
            got.contains("corrupt") && got.contains(&want),
            "{text}\n{got}\nwant {want}"
        );
    }
    // A passed drill is its time and its artifact: half of it is corrupt.
    w.write_state(
        "restore_drill.status",
        "last_drill_at=2026-02-05T04:00:00Z\nlast_result=pass\nlast_artifact=d2.sql.gz\nlast_pass_artifact=d2.sql.gz\n",
    );
    let o = w.ssot(&["report", "--format", "json"]);
    let drill = report_section(&o, "restore_drill")["summary"]
        .as_str()
        .unwrap()
        .to_string();
    let want = format!(
        "{}: missing key \"last_pass_at\"",
        w.state.join("restore_drill.status").display()
    );
    assert!(drill.contains(&want), "{drill}\nwant {want}");
}
