//! ssot keeps exactly what `restic forget` keeps.
//!
//! The data was made with Debian 12's restic 0.14, so the policies run with
//! `restic_compat = "0.14"`. Each case is also planned with today's semantics
//! (the default): it may keep more, and only ever the oldest artifact of a
//! bucket rule that had counts left, with the reason "oldest …".
//!
//! One deliberate difference: restic counts snapshots dated after `now`; ssot
//! sets them aside (kept, counted toward no rule or floor: a wrong clock or a
//! future name must never take the slot of a real backup). Cases whose
//! timeline has such artifacts are checked for that instead: each future
//! artifact kept as "dated in the future", the rest planned exactly as the
//! timeline without them.
//!
//! The data in `tests/retention/restic/*.json` was produced by real restic
//! (the version is recorded in each file) with `scripts/restic-oracle`;
//! `scripts/restic-oracle --check utc-year-edges` regenerates one timeline and
//! compares, which CI does when restic is installed.

use std::fs;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::Value;
use ssot_core::retention::{
    plan, Action, Artifact, ResticCompat, RetentionPlan, RetentionPolicy, RetentionReason,
};

/// The timeline of a comparison file as artifacts.
fn snapshots(doc: &Value) -> Vec<Artifact> {
    doc["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let t: DateTime<Utc> = DateTime::parse_from_rfc3339(s["created_at"].as_str().unwrap())
                .unwrap()
                .with_timezone(&Utc);
            Artifact::new(s["id"].as_str().unwrap(), t)
        })
        .collect()
}

/// A case's policy, in the file's time zone, with the semantics of the
/// restic version that produced it.
fn policy_of(doc: &Value, case: &Value) -> RetentionPolicy {
    let mut policy: RetentionPolicy = serde_json::from_value(case["policy"].clone()).unwrap();
    policy.timezone = doc["timezone"].as_str().unwrap().to_string();
    let version = doc["restic"].as_str().unwrap();
    policy.restic_compat = if version.starts_with("restic 0.14") {
        ResticCompat::V0_14
    } else {
        ResticCompat::Current
    };
    policy
}

/// With future-dated snapshots in the timeline: they are kept as such and
/// the rest is planned as if they were absent (then `true`).
fn future_dated_set_apart(
    name: &str,
    case: &Value,
    artifacts: &[Artifact],
    policy: &RetentionPolicy,
    now: DateTime<Utc>,
    p: &RetentionPlan,
) -> bool {
    let skew = ssot_core::retention::ALLOWED_SKEW.to_delta();
    let (future, present): (Vec<Artifact>, Vec<Artifact>) = artifacts
        .iter()
        .cloned()
        .partition(|a| a.created_at > now + skew);
    if future.is_empty() {
        return false;
    }
    let without = plan(&present, policy, now).unwrap();
    for a in &future {
        let d = p.decisions.iter().find(|d| d.id == a.id).unwrap();
        assert_eq!(d.action, Action::Keep, "{name} {}", a.id);
        assert_eq!(d.reasons, [RetentionReason::FutureDated], "{name} {}", a.id);
    }
    let rest: Vec<_> = p
        .decisions
        .iter()
        .filter(|d| !future.iter().any(|a| a.id == d.id))
        .map(|d| (&d.id, d.action, &d.reasons))
        .collect();
    let alone: Vec<_> = without
        .decisions
        .iter()
        .map(|d| (&d.id, d.action, &d.reasons))
        .collect();
    assert_eq!(rest, alone, "{name} {}", case["restic_args"]);
    true
}

/// Today's semantics keep a superset of 0.14's: how many more (at most one,
/// the oldest, kept only as "oldest …").
fn extra_keeps_today(
    name: &str,
    case: &Value,
    artifacts: &[Artifact],
    policy: &RetentionPolicy,
    now: DateTime<Utc>,
    p: &RetentionPlan,
) -> usize {
    // Today's semantics keep a superset: the 0.14 keeps plus, at most,
    // the oldest artifact, kept only as "oldest …".
    let today = plan(
        artifacts,
        &RetentionPolicy {
            restic_compat: ResticCompat::Current,
            ..policy.clone()
        },
        now,
    )
    .unwrap();
    let extra: Vec<_> = today
        .with_action(Action::Keep)
        .filter(|d| {
            p.decisions
                .iter()
                .any(|o| o.id == d.id && o.action == Action::Delete)
        })
        .collect();
    assert!(p
        .with_action(Action::Keep)
        .all(|k| today.with_action(Action::Keep).any(|d| d.id == k.id)));
    assert!(extra.len() <= 1, "{name}: today keeps {} more", extra.len());
    for d in &extra {
        assert!(
            d.reasons
                .iter()
                .all(|r| matches!(r, RetentionReason::Oldest(_))),
            "{name} {}: {:?}",
            case["restic_args"],
            d.reasons
        );
    }
    extra.len()
}

#[test]
fn kept_sets_equal_restic_forget() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/retention/restic");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut compared = 0;
    let mut mismatches = Vec::new();
    let mut keep_more_today = 0;
    let mut set_apart = 0;
    for path in &files {
        let doc: Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
        let name = path.file_name().unwrap().to_string_lossy();
        assert!(
            doc["restic"].as_str().unwrap().starts_with("restic "),
            "{name}"
        );
        let artifacts = snapshots(&doc);
        for case in doc["cases"].as_array().unwrap() {
            let policy = policy_of(&doc, case);
            let now: DateTime<Utc> = case["now"].as_str().unwrap().parse().unwrap();
            let p = plan(&artifacts, &policy, now).unwrap();
            if future_dated_set_apart(&name, case, &artifacts, &policy, now, &p) {
                set_apart += 1;
                continue;
            }
            keep_more_today += extra_keeps_today(&name, case, &artifacts, &policy, now, &p);
            let mut ours: Vec<&str> = p.with_action(Action::Keep).map(|d| d.id.as_str()).collect();
            ours.sort();
            let theirs: Vec<&str> = case["keep"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            compared += 1;
            if ours != theirs {
                let only_ours: Vec<_> = ours.iter().filter(|x| !theirs.contains(x)).collect();
                let only_theirs: Vec<_> = theirs.iter().filter(|x| !ours.contains(x)).collect();
                mismatches.push(format!(
                    "{name} {}: ssot also keeps {only_ours:?}, restic also keeps {only_theirs:?}",
                    case["restic_args"]
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {compared} cases differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    eprintln!(
        "{compared} policy × timeline cases equal restic's kept sets; today's semantics keep the oldest in {keep_more_today} of them; {set_apart} cases with future-dated snapshots set them apart"
    );
    assert!(
        set_apart > 0,
        "no timeline exercises future-dated snapshots"
    );
    assert!(
        files.len() >= 6,
        "restic comparison data missing in {}",
        dir.display()
    );
    assert!(compared + set_apart >= 120 && compared >= 80);
}
