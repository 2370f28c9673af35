//! Properties of retention plans over thousands of random catalogs and policies.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, TimeDelta, Utc};
use proptest::prelude::*;
use ssot_core::retention::{
    plan, Action, Artifact, ArtifactState, MaxDelete, ResticDuration, RetentionPolicy,
};
use ssot_core::units::{ByteSize, Span};

fn now() -> DateTime<Utc> {
    "2026-11-23T12:00:00Z".parse().unwrap()
}

fn catalog() -> impl Strategy<Value = Vec<Artifact>> {
    proptest::collection::vec(
        (
            -48i64..(24 * 400),                    // hours ago (some in the future)
            0u64..2000,                            // size MB
            0usize..10,                            // state (mostly complete)
            any::<bool>(),                         // verified
            0usize..12,                            // pinned (rarely)
            0usize..3,                             // group
            proptest::option::of(0usize..40),      // parent index (only earlier ones, so no cycles)
            proptest::option::of(0i64..(24 * 30)), // last used, hours ago
        ),
        0..40,
    )
    .prop_map(|rows| {
        rows.iter()
            .enumerate()
            .map(|(i, (h, mb, st, verified, pin, g, parent, used))| {
                let mut a = Artifact::new(
                    format!("a{i:02}"),
                    now() - TimeDelta::hours(*h) - TimeDelta::seconds(i as i64),
                );
                a.size_bytes = Some(mb << 20);
                a.state = match st {
                    0 => ArtifactState::Partial,
                    1 => ArtifactState::Failed,
                    _ => ArtifactState::Complete,
                };
                a.verified = *verified;
                a.pinned = *pin == 0;
                a.group = (*g > 0).then(|| format!("g{g}"));
                a.parent = parent.filter(|p| *p < i).map(|p| format!("a{p:02}"));
                a.last_used_at = used.map(|u| now() - TimeDelta::hours(u));
                a
            })
            .collect()
    })
}

fn policy() -> impl Strategy<Value = RetentionPolicy> {
    let dur = || {
        proptest::option::of(
            (0u32..2, 0u32..4, 0u32..20, 0u32..48).prop_map(|(y, m, d, h)| ResticDuration {
                years: y,
                months: m,
                days: d,
                hours: h,
            }),
        )
    };
    (
        // Counts from -1 (every bucket) up.
        (-1i64..4, -1i64..6, -1i64..8, -1i64..5, -1i64..4, -1i64..3),
        (dur(), dur(), dur()),
        (
            proptest::option::of(1u64..30),
            proptest::option::of(1u64..30),
        ),
        (0u32..4, 0u32..3),
        proptest::option::of(1u64..20_000),
        proptest::option::of(prop_oneof![
            (0u64..20).prop_map(MaxDelete::Count),
            // Whole percents: the oracle below compares exactly.
            (0u32..=100).prop_map(|p| MaxDelete::Percent(p.into()))
        ]),
        prop_oneof![Just("UTC"), Just("Europe/Berlin"), Just("America/New_York")],
    )
        .prop_map(
            |(
                (last, hourly, daily, weekly, monthly, yearly),
                (within, wd, ww),
                (age, window),
                (min_keep, min_verified),
                budget,
                max_delete,
                tz,
            )| {
                RetentionPolicy {
                    keep_last: last,
                    keep_hourly: hourly,
                    keep_daily: daily,
                    keep_weekly: weekly,
                    keep_monthly: monthly,
                    keep_yearly: yearly,
                    keep_within: within,
                    keep_within_daily: wd,
                    keep_within_weekly: ww,
                    max_age: age.map(Span::days),
                    recovery_window: window.map(Span::days),
                    min_keep,
                    min_verified,
                    max_total_size: budget.map(ByteSize::mib),
                    max_delete,
                    timezone: tz.into(),
                    ..RetentionPolicy::default()
                }
            },
        )
}

fn group(a: &Artifact) -> String {
    a.group.clone().unwrap_or_else(|| "default".into())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn floors_hold_and_plans_are_deterministic_and_idempotent(arts in catalog(), policy in policy(), seed in any::<u64>()) {
        let p = plan(&arts, &policy, now()).unwrap();
        let action: HashMap<&str, Action> = p.decisions.iter().map(|d| (d.id.as_str(), d.action)).collect();
        prop_assert_eq!(action.len(), arts.len(), "every artifact has a decision");

        // Never delete pinned.
        for a in arts.iter().filter(|a| a.pinned) {
            prop_assert_eq!(action[a.id.as_str()], Action::Keep, "pinned {} deleted", a.id);
        }
        // Per group: the newest min_keep complete and newest min_verified verified stay.
        let mut by_group: BTreeMap<String, Vec<&Artifact>> = BTreeMap::new();
        for a in &arts {
            by_group.entry(group(a)).or_default().push(a);
        }
        for members in by_group.values_mut() {
            members.sort_by(|x, y| (std::cmp::Reverse(x.created_at), &x.id).cmp(&(std::cmp::Reverse(y.created_at), &y.id)));
            let complete: Vec<&&Artifact> = members.iter().filter(|a| a.state == ArtifactState::Complete).collect();
            for a in complete.iter().take(policy.min_keep as usize) {
                prop_assert_eq!(action[a.id.as_str()], Action::Keep, "min_keep {} deleted", a.id);
            }
            for a in complete.iter().filter(|a| a.verified).take(policy.min_verified as usize) {
                prop_assert_eq!(action[a.id.as_str()], Action::Keep, "min_verified {} deleted", a.id);
            }
        }
        // Never a dangling child: the parent of every kept artifact is kept.
        for a in &arts {
            if let (Action::Keep, Some(parent)) = (action[a.id.as_str()], &a.parent) {
                prop_assert_eq!(action[parent.as_str()], Action::Keep, "{} kept but its parent {} deleted", a.id, parent);
            }
        }
        // Every decision has at least one reason.
        prop_assert!(p.decisions.iter().all(|d| !d.reasons.is_empty()));

        // Deterministic: the order of the input does not matter.
        let mut shuffled = arts.clone();
        let n = shuffled.len();
        if n > 1 {
            let mut s = seed;
            for i in (1..n).rev() {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                shuffled.swap(i, (s >> 33) as usize % (i + 1));
            }
        }
        let q = plan(&shuffled, &policy, now()).unwrap();
        prop_assert_eq!(&q.decisions, &p.decisions);
        prop_assert_eq!(&q.plan_hash, &p.plan_hash);

        // Idempotent: applying the plan and planning again deletes nothing more.
        if p.refused.is_none() {
            let remaining: Vec<Artifact> = arts.iter().filter(|a| action[a.id.as_str()] == Action::Keep).cloned().collect();
            let again = plan(&remaining, &policy, now()).unwrap();
            let more: Vec<&str> = again.with_action(Action::Delete).map(|d| d.id.as_str()).collect();
            prop_assert!(more.is_empty(), "second plan deletes {:?}", more);
        }

        // max_delete, as the README states it: a plan that deletes more than
        // N, or more than P% of all the artifacts, is refused; and refused as
        // a whole, not truncated: its decisions are exactly those of the same
        // policy without the limit.
        if let Some(m) = policy.max_delete {
            let deleted = p.decisions.iter().filter(|d| d.action == Action::Delete).count() as u64;
            let over = match m {
                MaxDelete::Count(n) => deleted > n,
                MaxDelete::Percent(pc) => deleted * 100 > (pc as u64) * arts.len() as u64,
            };
            prop_assert_eq!(p.refused.is_some(), over, "{} deleted of {}, max_delete {}", deleted, arts.len(), m);
            let unlimited = plan(&arts, &RetentionPolicy { max_delete: None, ..policy.clone() }, now()).unwrap();
            prop_assert_eq!(&unlimited.decisions, &p.decisions, "refused as a whole, never truncated");
            prop_assert!(unlimited.refused.is_none());
        }
    }
}
