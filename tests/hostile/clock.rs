//! The clock a caller chooses never authorises an action (issue "Gates that
//! hold on every surface", first point): `--now` made stale state fresh and
//! future-dated state current for a gate that then ran its command, and for
//! an apply that then deleted. A decision that authorises work uses the real
//! clock; a given time farther from it than `gate.max_clock_skew` is a usage
//! error naming the option. Read-only evaluations keep `--now`.

use std::fs;

use chrono::{TimeDelta, Utc};

use super::*;

fn at(offset: TimeDelta) -> String {
    (Utc::now() + offset)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// `ssot --state <state> ARGS`, exactly as given (no `--now` added).
fn raw(w: &World, args: &[&str]) -> Output {
    let mut all = vec!["--state", s(&w.state)];
    all.extend(args);
    run_bounded(&all)
}

fn state_dated(w: &World, when: &str) {
    w.write_state("wal.status", &format!("wal_status=OK\nchecked_at={when}\n"));
    w.write_state(
        "contract.status",
        &format!("contract_status=PASS\nchecked_at={when}\n"),
    );
}

/// The issue's own reproduction: a 5-hour-old status, and `--now` set to
/// two minutes after it. The gate used to call it fresh and run the command.
#[test]
fn a_chosen_time_never_makes_stale_state_fresh() {
    let w = World::new();
    state_dated(&w, &at(-TimeDelta::hours(5)));
    let ran = w.path("ran");
    let touch = ["--", "touch", s(&ran)];

    let mut args = vec!["gate", "startup"];
    args.extend(touch);
    let o = raw(&w, &args);
    assert_eq!(code(&o), 124, "stale without --now: {}", stderr(&o));
    assert!(stderr(&o).contains("wal_status_stale"), "{}", stderr(&o));

    let chosen = at(-TimeDelta::hours(5) + TimeDelta::minutes(2));
    let mut args = vec!["--now", chosen.as_str(), "gate", "startup"];
    args.extend(touch);
    let o = raw(&w, &args);
    assert_eq!(
        code(&o),
        125,
        "a usage error with a command: {}",
        stderr(&o)
    );
    assert!(!ran.exists(), "the command ran under a chosen clock");
    let err = stderr(&o);
    assert!(
        err.contains("--now") && err.contains("real clock") && err.contains("gate.max_clock_skew"),
        "the error names the option and why: {err}"
    );

    // Without a command too: no decision is made at the chosen time.
    let o = raw(&w, &["--now", chosen.as_str(), "gate", "startup"]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
}

/// A status dated 2100 and `--now 2100-…` used to be "current".
#[test]
fn a_chosen_time_never_makes_future_state_current() {
    let w = World::new();
    state_dated(&w, "2100-01-01T00:00:00Z");
    let ran = w.path("ran");
    let o = raw(
        &w,
        &[
            "--now",
            "2100-01-01T00:01:00Z",
            "gate",
            "startup",
            "--",
            "touch",
            s(&ran),
        ],
    );
    assert_eq!(code(&o), 125, "{}", stderr(&o));
    assert!(!ran.exists());
    // At the real time it is future-dated, and denies.
    let o = raw(&w, &["gate", "startup", "--format", "json"]);
    assert_eq!(code(&o), 1);
    assert!(denied_rules(&json(&o)).contains(&"wal_status_future_dated".to_string()));
}

/// A time within `gate.max_clock_skew` of the real clock is accepted, and the
/// decision (and `gate.log`) carries the real time, not the given one.
#[test]
fn a_time_within_the_skew_is_accepted_and_the_log_has_the_real_time() {
    let w = World::new();
    w.healthy();
    let given = at(TimeDelta::seconds(-30));
    let before = Utc::now();
    let o = raw(
        &w,
        &[
            "--now",
            given.as_str(),
            "gate",
            "startup",
            "--format",
            "json",
        ],
    );
    let after = Utc::now();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let log = fs::read_to_string(w.state.join("gate.log")).unwrap();
    let line: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    let decided: chrono::DateTime<Utc> = line["decided_at"].as_str().unwrap().parse().unwrap();
    assert!(
        before <= decided && decided <= after,
        "gate.log records the real decision time {decided}, not the given {given}"
    );
}

/// `retention apply --confirm` or `--plan-hash` deletes: the real clock. A
/// chosen time is refused and nothing is deleted; the dry run keeps `--now`.
#[test]
fn an_apply_that_deletes_uses_the_real_clock() {
    let w = World::new();
    let dir = w.path("dumps");
    fs::create_dir(&dir).unwrap();
    for d in 1..=5 {
        fs::write(dir.join(format!("ssot_2026010{d}_030000.sql.gz")), "x").unwrap();
    }
    let policy = [
        "retention",
        "apply",
        "--dir",
        s(&dir),
        "--pattern",
        "ssot_%Y%m%d_%H%M%S.sql.gz",
        "--keep-last",
        "1",
        "--max-age",
        "30d",
    ];
    let far = "2030-01-01T00:00:00Z";
    let mut dry = vec!["--now", far];
    dry.extend(policy);
    dry.extend(["--format", "json"]);
    let o = raw(&w, &dry);
    assert_eq!(code(&o), 0, "a dry run evaluates at --now: {}", stderr(&o));
    let hash = json(&o)["plan"]["plan_hash"].as_str().unwrap().to_string();
    for mode in [vec!["--confirm"], vec!["--plan-hash", hash.as_str()]] {
        let mut args = vec!["--now", far];
        args.extend(policy);
        args.extend(mode.iter().copied());
        let o = raw(&w, &args);
        assert_eq!(code(&o), 3, "{mode:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("--now"), "{}", stderr(&o));
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 5, "{mode:?} deleted");
    }
}

/// Read-only evaluations keep `--now`, far from the real clock as it may be.
#[test]
fn read_only_evaluations_keep_now() {
    let w = World::new();
    w.healthy();
    for args in [
        &["report", "--format", "json"][..],
        &["status"],
        &["stages", "check"],
        &["retention", "plan", "--dir", s(&w.state)],
    ] {
        let mut all = vec!["--now", "2030-01-01T00:00:00Z"];
        all.extend(args);
        let o = raw(&w, &all);
        assert!(code(&o) <= 2, "{args:?}: {}", stderr(&o));
    }
}

/// Rhai: `gate(op, #{now: ...})` and `ssot run --now` decided at the chosen
/// time and ran the command through `decision.run`.
#[test]
fn a_runbook_cannot_choose_the_clock_of_a_gate() {
    let w = World::new();
    state_dated(&w, &at(-TimeDelta::hours(5)));
    let ran = w.path("ran");
    let chosen = at(-TimeDelta::hours(5) + TimeDelta::minutes(2));
    let rb = w.path("rb.rhai");
    fs::write(
        &rb,
        format!(
            "let d = gate(\"startup\", #{{ now: \"{chosen}\" }});\nd.run(\"touch\", [\"{}\"]);\n",
            ran.display()
        ),
    )
    .unwrap();
    let o = raw(&w, &["run", s(&rb)]);
    assert_eq!(code(&o), 125, "{}", stderr(&o));
    assert!(stderr(&o).contains("real clock"), "{}", stderr(&o));
    assert!(!ran.exists(), "the runbook's gate allowed at a chosen time");

    fs::write(
        &rb,
        format!(
            "let d = gate(\"startup\");\nd.run(\"touch\", [\"{}\"]);\n",
            ran.display()
        ),
    )
    .unwrap();
    let o = raw(&w, &["--now", chosen.as_str(), "run", s(&rb)]);
    assert_eq!(code(&o), 125, "{}", stderr(&o));
    assert!(!ran.exists(), "`ssot run --now` chose the gate's clock");
}
