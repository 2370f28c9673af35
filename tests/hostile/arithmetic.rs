//! Absurd durations and sizes (points 7 and 11): rejected at parse with the
//! key's name and the accepted range, or computed without overflow — never a panic.

use std::fs;

use super::*;

fn no_panic(o: &Output) {
    assert_ne!(o.status.code(), Some(101), "panicked: {}", stderr(o));
}

/// Point 7: `--max-age`, `--recovery-window` and `--partial-grace` of
/// `100000000d` used to panic ("DateTime - TimeDelta overflowed").
#[test]
fn absurd_duration_flags_are_rejected_with_the_range() {
    let w = World::new();
    let dir = w.path("dumps");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("a"), "x").unwrap();
    for flag in ["--max-age", "--recovery-window", "--partial-grace"] {
        let o = w.ssot(&["retention", "plan", "--dir", s(&dir), flag, "100000000d"]);
        no_panic(&o);
        assert_eq!(code(&o), 3, "{flag}");
        let e = stderr(&o);
        assert!(e.contains(flag), "{flag}: {e}");
        assert!(e.contains("from 0 to 36500d (100 years)"), "{flag}: {e}");
    }
    // The longest accepted window works, at both ends of the calendar.
    for now in ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"] {
        let o = run_bounded(&[
            "--now",
            now,
            "--state",
            s(&w.state),
            "retention",
            "plan",
            "--dir",
            s(&dir),
            "--max-age",
            "36500d",
            "--recovery-window",
            "36500d",
        ]);
        no_panic(&o);
        assert!(code(&o) <= 1, "{now}: {}", stderr(&o));
    }
}

/// Point 7: restic durations have no limit in restic; a huge one keeps
/// everything instead of overflowing.
#[test]
fn a_huge_keep_within_keeps_everything() {
    let w = World::new();
    let dir = w.path("dumps");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("a"), "x").unwrap();
    let o = w.ssot(&[
        "retention",
        "plan",
        "--dir",
        s(&dir),
        "--keep-within",
        "4000000000y",
        "--format",
        "json",
    ]);
    no_panic(&o);
    assert_eq!(code(&o), 1, "a future-dated file warns: {}", stderr(&o));
    assert_eq!(json(&o)["summary"]["kept"], 1);
}

/// Point 7: `[wal] growth_window` and `[report] recent_window` of
/// `100000000d` used to panic; they are configuration errors naming the key.
#[test]
fn absurd_configured_durations_are_rejected_naming_the_key() {
    let w = World::new();
    for (section, key) in [
        ("wal", "growth_window"),
        ("report", "recent_window"),
        ("gate", "wal_max_age"),
        ("evidence", "backup_max_age"),
    ] {
        let cfg = w.path("ssot.toml");
        fs::write(&cfg, format!("[{section}]\n{key} = \"100000000d\"\n")).unwrap();
        for cmd in [
            &["report"][..],
            &["wal", "check", "--pgdata", "/nonexistent"],
            &["config", "show"],
        ] {
            let mut args = vec!["--config", s(&cfg)];
            args.extend(cmd);
            let o = w.ssot(&args);
            no_panic(&o);
            assert_eq!(code(&o), 3, "{key} with {cmd:?}");
            let e = stderr(&o);
            assert!(
                e.contains(key) && e.contains("from 0 to 36500d"),
                "{key}: {e}"
            );
        }
        // An integer number of seconds overflowing the microsecond count, too.
        fs::write(&cfg, format!("[{section}]\n{key} = 18446744073709551615\n")).unwrap();
        let o = w.ssot(&["--config", s(&cfg), "config", "show"]);
        no_panic(&o);
        assert_eq!(code(&o), 3, "{key}: {}", stderr(&o));
    }
}

/// Point 11: two artifacts of 2^63 bytes used to fit a 1GB budget ("keep 2 (0B)").
#[test]
fn byte_sums_never_wrap() {
    let w = World::new();
    let catalog = w.path("catalog.json");
    let big = 1u64 << 63;
    fs::write(
        &catalog,
        format!(
            r#"[{{"id":"a","created_at":"2026-01-01T00:00:00Z","size_bytes":{big}}},
                {{"id":"b","created_at":"2026-01-02T00:00:00Z","size_bytes":{big}}}]"#
        ),
    )
    .unwrap();
    let o = w.ssot(&[
        "retention",
        "plan",
        "--catalog",
        s(&catalog),
        "--max-total-size",
        "1GB",
        "--min-keep",
        "1",
        "--format",
        "json",
    ]);
    no_panic(&o);
    let v = json(&o);
    assert_eq!(v["summary"]["kept"], 1, "{v:#}");
    assert_eq!(v["summary"]["deleted"], 1);
    assert_eq!(v["summary"]["kept_bytes"], big);
    assert_eq!(v["summary"]["freed_bytes"], big);
    assert!(v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w.as_str().unwrap().contains("still over the 1GB budget")));
    // Sums beyond u64 saturate instead of wrapping.
    fs::write(
        &catalog,
        format!(
            r#"[{{"id":"a","created_at":"2026-01-01T00:00:00Z","size_bytes":{m}}},
                {{"id":"b","created_at":"2026-01-02T00:00:00Z","size_bytes":{m}}}]"#,
            m = u64::MAX
        ),
    )
    .unwrap();
    let o = w.ssot(&[
        "retention",
        "plan",
        "--catalog",
        s(&catalog),
        "--format",
        "json",
    ]);
    no_panic(&o);
    assert_eq!(json(&o)["summary"]["kept_bytes"], u64::MAX);
}
