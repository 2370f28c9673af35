//! The retention planner, rule by rule, and the seed scenarios.

use chrono::{DateTime, TimeDelta, Utc};
use ssot_core::retention::{
    plan, Action, Artifact, ArtifactState, MaxDelete, RetentionPlan, RetentionPolicy,
};
use ssot_core::units::{ByteSize, Span};

fn now() -> DateTime<Utc> {
    "2026-11-23T12:00:00Z".parse().unwrap()
}

fn at(hours_ago: i64) -> DateTime<Utc> {
    now() - TimeDelta::hours(hours_ago)
}

fn art(id: &str, hours_ago: i64) -> Artifact {
    Artifact::new(id, at(hours_ago))
}

fn daily(n: i64) -> Vec<Artifact> {
    (0..n)
        .map(|d| art(&format!("d{d:02}"), d * 24 + 9))
        .collect()
}

fn kept(p: &RetentionPlan) -> Vec<&str> {
    let mut v: Vec<&str> = p.with_action(Action::Keep).map(|d| d.id.as_str()).collect();
    v.sort();
    v
}

fn deleted(p: &RetentionPlan) -> Vec<&str> {
    let mut v: Vec<&str> = p
        .with_action(Action::Delete)
        .map(|d| d.id.as_str())
        .collect();
    v.sort();
    v
}

fn reasons(p: &RetentionPlan, id: &str) -> Vec<String> {
    p.decisions
        .iter()
        .find(|d| d.id == id)
        .unwrap()
        .reasons
        .iter()
        .map(|r| r.to_string())
        .collect()
}

#[test]
fn restic_reasons_name_their_bucket() {
    let arts = daily(10);
    let p = plan(
        &arts,
        &RetentionPolicy {
            keep_daily: 3,
            keep_weekly: 2,
            keep_last: 1,
            ..Default::default()
        },
        now(),
    )
    .unwrap();
    // 2026-11-23 is a Monday (ISO week 48); d00 is 2026-11-23T03:00.
    assert_eq!(
        reasons(&p, "d00"),
        [
            "last 1/1",
            "daily 2026-11-23",
            "weekly 2026-W48",
            "last_good_copy"
        ]
    );
    assert_eq!(reasons(&p, "d01"), ["daily 2026-11-22", "weekly 2026-W47"]);
    assert_eq!(kept(&p), ["d00", "d01", "d02"]);
    assert!(reasons(&p, "d05")[0]
        .starts_with("not kept by any rule (keep_last 1, keep_daily 3, keep_weekly 2)"));
}

#[test]
fn max_age_is_relative_to_now_and_inclusive() {
    let arts = vec![
        Artifact::new("exact", now() - TimeDelta::days(7)),
        Artifact::new("older", now() - TimeDelta::days(7) - TimeDelta::seconds(1)),
        Artifact::new("young", now() - TimeDelta::days(1)),
    ];
    let p = plan(
        &arts,
        &RetentionPolicy {
            max_age: Some(Span::days(7)),
            ..Default::default()
        },
        now(),
    )
    .unwrap();
    assert_eq!(kept(&p), ["exact", "young"]);
    assert_eq!(reasons(&p, "older"), ["older than max_age 7d"]);
    assert_eq!(
        reasons(&p, "young"),
        ["younger than max_age 7d", "last_good_copy"]
    );
}

#[test]
fn recovery_window_keeps_the_newest_artifact_before_it() {
    let arts = daily(10);
    let p = plan(
        &arts,
        &RetentionPolicy {
            recovery_window: Some(Span::days(3)),
            ..Default::default()
        },
        now(),
    )
    .unwrap();
    // d00..d02 are inside 3 days (09h, 33h, 57h ago); d03 (81h) is the newest before the window.
    assert_eq!(kept(&p), ["d00", "d01", "d02", "d03"]);
    assert!(reasons(&p, "d03")[0].starts_with("newest before recovery_window 3d"));
}

#[test]
fn min_keep_saves_the_newest_when_backups_stopped() {
    // Backups stopped three weeks ago: max_age alone would delete all of them.
    let arts: Vec<Artifact> = (0..5)
        .map(|d| art(&format!("old{d}"), (21 + d) * 24))
        .collect();
    let only_age = RetentionPolicy {
        max_age: Some(Span::days(7)),
        ..Default::default()
    };
    // The last good copy is a floor no policy turns off.
    let p = plan(&arts, &only_age, now()).unwrap();
    assert_eq!(kept(&p), ["old0"]);
    assert_eq!(reasons(&p, "old0"), ["last_good_copy"]);
    let p = plan(
        &arts,
        &RetentionPolicy {
            min_keep: 2,
            ..only_age
        },
        now(),
    )
    .unwrap();
    assert_eq!(kept(&p), ["old0", "old1"]);
    assert_eq!(reasons(&p, "old0"), ["last_good_copy", "min_keep 2"]);
}

#[test]
fn min_verified_keeps_the_newest_verified_and_warns_when_short() {
    let mut arts = daily(12);
    arts[9].verified = true; // 9 days old
    arts[11].verified = true;
    let policy = RetentionPolicy {
        max_age: Some(Span::days(7)),
        min_verified: 1,
        ..Default::default()
    };
    let p = plan(&arts, &policy, now()).unwrap();
    assert!(kept(&p).contains(&"d09"));
    assert!(
        !kept(&p).contains(&"d11"),
        "only the newest verified one is protected"
    );
    assert_eq!(reasons(&p, "d09"), ["min_verified 1"]);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let p = plan(
        &arts,
        &RetentionPolicy {
            min_verified: 3,
            ..policy
        },
        now(),
    )
    .unwrap();
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("only 2 verified artifact(s) would remain, min_verified is 3")),
        "{:?}",
        p.warnings
    );
}

#[test]
fn pinned_always_stays_even_when_failed() {
    let mut arts = daily(5);
    arts[4].pinned = true;
    arts[3].state = ArtifactState::Failed;
    arts[3].pinned = true;
    let p = plan(
        &arts,
        &RetentionPolicy {
            keep_last: 1,
            ..Default::default()
        },
        now(),
    )
    .unwrap();
    assert_eq!(kept(&p), ["d00", "d03", "d04"]);
    assert_eq!(reasons(&p, "d04"), ["pinned"]);
}

#[test]
fn parents_of_kept_artifacts_stay_transitively_and_across_groups() {
    let mut full = art("full", 200);
    full.group = Some("fulls".into());
    let mut diff1 = art("diff1", 100);
    diff1.parent = Some("full".into());
    let mut diff2 = art("diff2", 10);
    diff2.parent = Some("diff1".into());
    let p = plan(
        &[full, diff1, diff2],
        &RetentionPolicy {
            keep_last: 1,
            ..Default::default()
        },
        now(),
    )
    .unwrap();
    assert_eq!(
        kept(&p),
        ["diff1", "diff2", "full"],
        "a chain is kept whole"
    );
    assert_eq!(reasons(&p, "diff1"), ["parent of diff2"]);
    assert_eq!(
        reasons(&p, "full"),
        ["last 1/1", "last_good_copy", "parent of diff1"]
    );
}

#[test]
fn partial_and_failed_never_count_and_expire_after_grace() {
    let mut arts = daily(3);
    let mut fresh = art("fresh.partial", 2);
    fresh.state = ArtifactState::Partial;
    let mut stale = art("stale.partial", 30);
    stale.state = ArtifactState::Partial;
    let mut failed = art("failed", 1);
    failed.state = ArtifactState::Failed;
    arts.extend([fresh, stale, failed]);
    let policy = RetentionPolicy {
        keep_last: 2,
        min_keep: 2,
        ..Default::default()
    };
    let p = plan(&arts, &policy, now()).unwrap();
    // keep_last and min_keep count complete artifacts only: d00 and d01, not the newer partial/failed.
    assert_eq!(kept(&p), ["d00", "d01", "failed", "fresh.partial"]);
    assert_eq!(
        reasons(&p, "fresh.partial"),
        ["partial, within partial_grace 1d"]
    );
    assert_eq!(
        reasons(&p, "stale.partial"),
        ["partial, older than partial_grace 1d"]
    );
    assert_eq!(reasons(&p, "failed"), ["failed, within partial_grace 1d"]);
}

fn sized(id: &str, hours_ago: i64, mb: u64) -> Artifact {
    let mut a = art(id, hours_ago);
    a.size_bytes = Some(mb << 20);
    a
}

#[test]
fn size_budget_evicts_oldest_first_and_never_a_needed_parent() {
    // Seed 003 snapshot cache: a base layer, layers on it, a budget.
    let base = sized("base", 100, 400);
    let mut l1 = sized("l1", 50, 200);
    l1.parent = Some("base".into());
    let mut l2 = sized("l2", 40, 200);
    l2.parent = Some("l1".into());
    let lone = sized("lone", 90, 300);
    let fresh = sized("fresh", 1, 100);
    let arts = vec![base, l1, l2, lone, fresh];
    let policy = RetentionPolicy {
        max_total_size: Some(ByteSize::mib(900)),
        ..Default::default()
    };
    let p = plan(&arts, &policy, now()).unwrap();
    // 1200MB kept by "no rule"; oldest evictable first: base is needed by l1 → skip; lone (90h) goes.
    assert_eq!(deleted(&p), ["lone"]);
    assert!(reasons(&p, "lone")[0]
        .starts_with("over size budget 900MB: group held 1.2GB, evicted oldest first"));
    let p = plan(
        &arts,
        &RetentionPolicy {
            max_total_size: Some(ByteSize::mib(500)),
            ..Default::default()
        },
        now(),
    )
    .unwrap();
    // Then l2 (leaf, 40h), then l1, then base — the chain unwinds leaf first.
    assert_eq!(deleted(&p), ["l1", "l2", "lone"]);
    assert_eq!(kept(&p), ["base", "fresh"]);
    assert_eq!(p.summary.kept_bytes, 500 << 20);
}

#[test]
fn size_budget_uses_least_recently_used_when_known() {
    // a is the newest (the last good copy, which no budget takes).
    let mut a = sized("a", 5, 100);
    a.last_used_at = Some(at(1));
    let mut b = sized("b", 10, 100);
    b.last_used_at = Some(at(48));
    let c = sized("c", 20, 100); // never used: its creation time counts
    let p = plan(
        &[a, b, c],
        &RetentionPolicy {
            max_total_size: Some(ByteSize::mib(200)),
            ..Default::default()
        },
        now(),
    )
    .unwrap();
    assert_eq!(deleted(&p), ["b"]);
    assert!(reasons(&p, "b")[0].contains("least recently used first"));
}

#[test]
fn a_parent_kept_only_for_an_evicted_child_goes_with_it() {
    let base = sized("base", 100, 100);
    let mut child = sized("child", 50, 100);
    child.parent = Some("base".into());
    let keep = sized("keep", 1, 100);
    let policy = RetentionPolicy {
        keep_last: 1,
        keep_within: Some("3d".parse().unwrap()),
        max_total_size: Some(ByteSize::mib(150)),
        ..Default::default()
    };
    let p = plan(&[base, child, keep], &policy, now()).unwrap();
    // base (100h) is outside 3d of the newest and kept only as child's parent.
    assert_eq!(deleted(&p), ["base", "child"]);
    assert_eq!(
        reasons(&p, "base"),
        [
            "not kept by any rule (keep_last 1, keep_within 3d)",
            "only kept as the parent of child, which was evicted"
        ]
    );
    assert_eq!(
        p.summary.kept_bytes,
        100 << 20,
        "the cascade frees base's bytes too"
    );
}

#[test]
fn budget_that_cannot_be_met_warns_instead_of_breaking_a_floor() {
    let mut a = sized("a", 10, 500);
    a.pinned = true;
    let b = sized("b", 5, 500);
    let p = plan(
        &[a, b],
        &RetentionPolicy {
            max_total_size: Some(ByteSize::mib(100)),
            min_keep: 1,
            ..Default::default()
        },
        now(),
    )
    .unwrap();
    assert_eq!(kept(&p), ["a", "b"]);
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("still over the 100MB budget")),
        "{:?}",
        p.warnings
    );
    let unknown = art("u", 1);
    let p = plan(
        &[unknown],
        &RetentionPolicy {
            max_total_size: Some(ByteSize::mib(1)),
            ..Default::default()
        },
        now(),
    )
    .unwrap();
    assert!(p.warnings.iter().any(|w| w.contains("no known size")));
}

#[test]
fn max_delete_refuses_the_whole_plan() {
    let arts = daily(10);
    let policy = RetentionPolicy {
        keep_last: 2,
        max_delete: Some(MaxDelete::Count(7)),
        ..Default::default()
    };
    let p = plan(&arts, &policy, now()).unwrap();
    assert_eq!(p.summary.deleted, 8);
    assert!(p
        .refused
        .as_deref()
        .unwrap()
        .contains("deletes 8 of 10 artifacts, more than max_delete 7"));
    assert_eq!(
        deleted(&p).len(),
        8,
        "the plan is shown whole, not truncated"
    );
    let ok = plan(
        &arts,
        &RetentionPolicy {
            max_delete: Some(MaxDelete::Count(8)),
            ..policy.clone()
        },
        now(),
    )
    .unwrap();
    assert!(ok.refused.is_none());
    let pct = plan(
        &arts,
        &RetentionPolicy {
            max_delete: Some("79%".parse().unwrap()),
            ..policy.clone()
        },
        now(),
    )
    .unwrap();
    assert!(pct.refused.is_some(), "8 of 10 is more than 79%");
    let pct = plan(
        &arts,
        &RetentionPolicy {
            max_delete: Some("80%".parse().unwrap()),
            ..policy
        },
        now(),
    )
    .unwrap();
    assert!(pct.refused.is_none());
}

#[test]
fn groups_are_planned_separately() {
    let mut arts = daily(4);
    for a in &mut arts[2..] {
        a.group = Some("other".into());
    }
    let p = plan(
        &arts,
        &RetentionPolicy {
            keep_last: 1,
            ..Default::default()
        },
        now(),
    )
    .unwrap();
    assert_eq!(kept(&p), ["d00", "d02"]);
    assert_eq!(p.summary.groups, 2);
}

#[test]
fn no_rule_keeps_everything() {
    let p = plan(&daily(3), &RetentionPolicy::default(), now()).unwrap();
    assert_eq!(kept(&p).len(), 3);
    assert_eq!(
        reasons(&p, "d00"),
        ["no retention rule: everything is kept", "last_good_copy"]
    );
    assert_eq!(
        reasons(&p, "d01"),
        ["no retention rule: everything is kept"]
    );
}

#[test]
fn bad_input_is_an_error_not_a_guess() {
    let policy = RetentionPolicy {
        keep_last: 1,
        ..Default::default()
    };
    let err = |arts: &[Artifact]| plan(arts, &policy, now()).unwrap_err().to_string();
    assert!(err(&[art("a", 1), art("a", 2)]).contains("appears twice"));
    for bad in ["../etc", "a/b", "..", "", "x\0y", "line\nbreak"] {
        match plan(&[art(bad, 1)], &policy, now()) {
            Err(ssot_core::Error::Artifact { id, .. }) => assert_eq!(id, bad),
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    let mut a = art("a", 1);
    a.parent = Some("b".into());
    let mut b = art("b", 2);
    b.parent = Some("a".into());
    assert!(matches!(
        plan(&[a, b], &policy, now()),
        Err(ssot_core::Error::ParentCycle { .. })
    ));
    let bad_tz = RetentionPolicy {
        timezone: "Mars/Olympus".into(),
        ..Default::default()
    };
    assert!(plan(&daily(1), &bad_tz, now())
        .unwrap_err()
        .to_string()
        .contains("Mars/Olympus"));
}

#[test]
fn dangling_children_and_future_artifacts_are_reported() {
    let mut child = art("child", 1);
    child.parent = Some("gone".into());
    let future = Artifact::new("future", now() + TimeDelta::hours(2));
    let p = plan(
        &[child, future],
        &RetentionPolicy {
            keep_last: 5,
            ..Default::default()
        },
        now(),
    )
    .unwrap();
    let w = p.warnings.join("\n");
    assert!(
        w.contains("child's parent gone is not among the artifacts"),
        "{w}"
    );
    assert!(w.contains("future is dated 2h in the future"), "{w}");
}

#[test]
fn plan_hash_is_stable_and_tracks_decisions() {
    let arts = daily(8);
    let policy = RetentionPolicy {
        keep_daily: 3,
        ..Default::default()
    };
    let a = plan(&arts, &policy, now()).unwrap();
    let mut rev = arts.clone();
    rev.reverse();
    let b = plan(&rev, &policy, now()).unwrap();
    assert_eq!(a.plan_hash, b.plan_hash);
    assert_eq!(a.decisions, b.decisions);
    let c = plan(
        &arts,
        &RetentionPolicy {
            keep_daily: 4,
            ..Default::default()
        },
        now(),
    )
    .unwrap();
    assert_ne!(a.plan_hash, c.plan_hash);
    assert_eq!(a.plan_hash.len(), 64);
}

#[test]
fn time_zone_shifts_day_buckets() {
    // 23:30 UTC and 00:30 UTC the next day are one day in Asia/Tokyo (+9).
    let arts = vec![
        Artifact::new("late", "2026-11-20T23:30:00Z".parse().unwrap()),
        Artifact::new("early", "2026-11-21T00:30:00Z".parse().unwrap()),
    ];
    let utc = plan(
        &arts,
        &RetentionPolicy {
            keep_daily: 5,
            ..Default::default()
        },
        now(),
    )
    .unwrap();
    assert_eq!(kept(&utc), ["early", "late"]);
    let tokyo = plan(
        &arts,
        &RetentionPolicy {
            keep_daily: 5,
            timezone: "Asia/Tokyo".into(),
            ..Default::default()
        },
        now(),
    )
    .unwrap();
    assert_eq!(
        reasons(&tokyo, "early"),
        ["daily 2026-11-21", "last_good_copy"]
    );
    // One Tokyo day: today's restic keeps the oldest too, its bucket already
    // kept but counts left; 0.14 keeps the newest only.
    assert_eq!(reasons(&tokyo, "late"), ["oldest daily 2026-11-21"]);
    let tokyo_014 = plan(
        &arts,
        &RetentionPolicy {
            keep_daily: 5,
            timezone: "Asia/Tokyo".into(),
            restic_compat: ssot_core::retention::ResticCompat::V0_14,
            ..Default::default()
        },
        now(),
    )
    .unwrap();
    assert_eq!(kept(&tokyo_014), ["early"]);
}

#[test]
fn serialized_plan_has_the_documented_shape() {
    let p = plan(
        &daily(3),
        &RetentionPolicy {
            keep_last: 1,
            ..Default::default()
        },
        now(),
    )
    .unwrap();
    let v = serde_json::to_value(&p).unwrap();
    assert_eq!(v["keep"][0]["id"], "d00");
    assert!(v["keep"][0]["reasons"].is_array());
    assert_eq!(v["delete"].as_array().unwrap().len(), 2);
    assert!(v["warnings"].is_array());
    assert_eq!(v["summary"]["kept"], 1);
    assert_eq!(v["plan_hash"].as_str().unwrap().len(), 64);
}
