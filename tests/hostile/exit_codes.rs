//! Exit codes that cannot be mistaken for one another (point 18): 0–2 are
//! verdicts, 3 is "no verdict", and with a gated COMMAND ssot's own outcomes
//! use the reserved 124–127 so the command's 1 or 2 stays the command's.

use std::fs;

use super::*;

/// Point 18: `report` exited 2 for DOWN and for an I/O error alike.
#[test]
fn an_io_error_is_not_a_verdict() {
    let w = World::new();
    let o = w.ssot(&["report", "--output", "/nonexistent/x.prom"]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    assert!(stderr(&o).starts_with("ssot: error: "), "{}", stderr(&o));
    let o = w.ssot(&["report"]);
    assert_eq!(code(&o), 2, "an empty state directory is DOWN: a verdict");
}

/// Point 18: usage errors, clap's included, exit 3 with ssot's prefix.
#[test]
fn usage_errors_exit_3_with_the_ssot_prefix() {
    for args in [
        &["gate", "teleport"][..],
        &["--now", "yesterday", "status"],
        &["wal", "check", "--format", "prometheus"],
        &["retention", "plan", "--keep-daily", "x"],
        &["no-such-command"],
    ] {
        let o = run_bounded(args);
        assert_eq!(code(&o), 3, "{args:?}");
        assert!(
            stderr(&o).starts_with("ssot: error: "),
            "{args:?}: {}",
            stderr(&o)
        );
    }
    let o = run_bounded(&["--help"]);
    assert_eq!(code(&o), 0);
    assert!(
        stdout(&o).contains("Exit codes:"),
        "the help has the exit-code table"
    );
}

/// Point 18: with a COMMAND, the command's own 1 and 2 come back unchanged,
/// and ssot's outcomes use reserved codes.
#[test]
fn a_gated_commands_status_is_its_own() {
    let w = World::new();
    w.healthy();
    for n in [0, 1, 2, 3, 42] {
        let o = w.ssot(&["gate", "startup", "--", "sh", "-c", &format!("exit {n}")]);
        assert_eq!(code(&o), n, "{}", stderr(&o));
    }
    let o = w.ssot(&["gate", "startup", "--", "/nonexistent/pg_dump"]);
    assert_eq!(code(&o), 127, "not found: {}", stderr(&o));
    let not_exec = w.path("not-executable");
    fs::write(&not_exec, "#!/bin/sh\n").unwrap();
    let o = w.ssot(&["gate", "startup", "--", s(&not_exec)]);
    assert_eq!(code(&o), 126, "cannot execute: {}", stderr(&o));

    // Denied: 124, and the command does not run.
    w.write_state(
        "wal.status",
        &format!("wal_status=ERROR\nchecked_at={}\n", real_now()),
    );
    let ran = w.path("ran");
    let o = w.ssot(&["gate", "startup", "--", "touch", s(&ran)]);
    assert_eq!(code(&o), 124, "{}", stderr(&o));
    assert!(!ran.exists());
    assert!(
        stderr(&o).contains("gate startup: DENIED"),
        "the decision goes to stderr"
    );

    // Could not evaluate (the decision cannot be recorded): 125.
    let broken = w.path("state-is-a-file");
    fs::write(&broken, "").unwrap();
    let o = run_bounded(&[
        "--state",
        s(&broken),
        "gate",
        "startup",
        "--",
        "touch",
        s(&ran),
    ]);
    assert_eq!(code(&o), 125, "{}", stderr(&o));
    assert!(!ran.exists());

    // A usage error with a command is reserved too, never the command's 3.
    let o = run_bounded(&["gate", "teleport", "--", "true"]);
    assert_eq!(code(&o), 125, "{}", stderr(&o));
}

/// A reader that went away (`ssot … | head -1`): what could not be shown is
/// no verdict (3; a gate's decision: 2, it does not allow) said on stderr —
/// never a panic (`print!` panicked on EPIPE, exit 101).
#[test]
fn a_closed_stdout_is_no_verdict_never_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    fs::create_dir(&dir).unwrap();
    for d in 1..=20 {
        fs::write(dir.join(format!("ssot_202601{d:02}_030000.sql.gz")), b"x").unwrap();
    }
    let state = tmp.path().join("state");
    let closed = || {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader); // every write to stdout fails with EPIPE
        std::process::Stdio::from(writer)
    };
    let plan = [
        "retention",
        "plan",
        "--dir",
        s(&dir),
        "--pattern",
        "ssot_%Y%m%d_%H%M%S.sql.gz",
        "--keep-last",
        "3",
    ];
    let apply: Vec<&str> = ["retention", "apply"]
        .into_iter()
        .chain(plan[2..].iter().copied())
        .collect();
    let cases: [(&[&str], i32); 5] = [
        (&plan, 3),
        (&apply, 3),
        (&["status"], 3),
        (&["report"], 3),
        (&["gate", "backup"], 2),
    ];
    for (args, want) in cases {
        let now: &[&str] = if authorises(args) {
            &[]
        } else {
            &["--now", "2026-01-21T00:00:00Z"]
        };
        let o = ssot()
            .args(["--state", s(&state)])
            .args(now)
            .args(args)
            .stdout(closed())
            .output()
            .unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(want), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(
            err.contains("could not be written to stdout"),
            "{args:?}: {err}"
        );
    }
}
