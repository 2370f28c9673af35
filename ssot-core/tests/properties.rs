//! Properties over random inputs: no panic on any input, determinism, and
//! the status always being the worst reason.

use chrono::{DateTime, TimeDelta, Utc};
use proptest::prelude::*;
use ssot_core::gate::{self, GateFacts, GatePolicy, LockFacts, Operation};
use ssot_core::state::StateInput;
use ssot_core::statefile::StateFile;
use ssot_core::units::ByteSize;
use ssot_core::wal::{
    evaluate, Level, PreviousStatus, ReplicationSlot, SlotWalStatus, VolumeStats, WalFacts,
    WalPolicy, WalRule, WalSample,
};

fn now() -> DateTime<Utc> {
    "2026-02-05T12:00:00Z".parse().unwrap()
}

fn any_u64() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0u64), Just(u64::MAX), 0u64..(1 << 45), any::<u64>()]
}

fn facts() -> impl Strategy<Value = WalFacts> {
    let sample = (-3600i64..3600, any_u64(), any_u64()).prop_map(|(s, w, u)| WalSample {
        volumes: Default::default(),
        at: now() + TimeDelta::seconds(s),
        wal_bytes: w,
        volume_used_bytes: u,
    });
    let slot = (any::<bool>(), 0usize..5, proptest::option::of(any_u64())).prop_map(|(a, s, r)| {
        ReplicationSlot {
            name: "s".into(),
            active: a,
            wal_status: [
                None,
                Some(SlotWalStatus::Reserved),
                Some(SlotWalStatus::Extended),
                Some(SlotWalStatus::Unreserved),
                Some(SlotWalStatus::Lost),
            ][s],
            retained_bytes: r,
            safe_wal_size: None,
        }
    });
    (
        any_u64(),
        any_u64(),
        any_u64(),
        any_u64(),
        any_u64(),
        proptest::collection::vec(sample, 0..8),
        proptest::collection::vec(slot, 0..3),
        any_u64(),
        any::<bool>(),
    )
        .prop_map(
            |(w, segs, ready, total, avail, history, slots, keep, prev)| {
                let mut f = WalFacts::new(
                    w,
                    segs,
                    VolumeStats {
                        total_bytes: total,
                        available_bytes: avail,
                        free_bytes: None,
                    },
                );
                f.ready_count = ready;
                f.history = history;
                f.slots = slots;
                f.settings.wal_keep_size = ByteSize::from_bytes(keep);
                f.previous = prev.then(|| PreviousStatus {
                    status: Level::NearLimit,
                    active_rules: vec![WalRule::VolumeUsedNear, WalRule::TimeToNear],
                });
                f
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn wal_evaluation_never_panics_and_is_consistent(f in facts()) {
        let policy = WalPolicy::default();
        let a = evaluate(&f, &policy, now());
        let b = evaluate(&f, &policy, now());
        prop_assert_eq!(&a, &b, "deterministic");
        let worst = a.reasons.iter().map(|r| r.level).max().unwrap_or(Level::Ok);
        prop_assert_eq!(a.status, worst);
        if let Some(p) = a.measures.wal_used_pct {
            prop_assert!((0.0..=100.0).contains(&p), "pct {}", p);
        }
        prop_assert!(a.reasons.windows(2).all(|w| w[0].level >= w[1].level), "worst first");
        // The JSON every surface prints says the same as the value.
        let j = serde_json::to_value(&a).unwrap();
        prop_assert_eq!(j["status"].as_str(), Some(a.status.as_str()));
        let rules: Vec<&str> = j["reasons"].as_array().unwrap().iter().map(|r| r["rule"].as_str().unwrap()).collect();
        let want: Vec<&str> = a.reasons.iter().map(|r| r.rule.as_str()).collect();
        prop_assert_eq!(rules, want);
    }

    #[test]
    fn statefile_parse_never_panics_and_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(f) = StateFile::parse(&bytes, "x") {
            let again = StateFile::parse(f.render().as_bytes(), "x").unwrap();
            prop_assert_eq!(again.pairs().collect::<Vec<_>>(), f.pairs().collect::<Vec<_>>());
        }
    }

    #[test]
    fn statefile_of_text_lines_never_panics(lines in proptest::collection::vec("[ -~]{0,30}", 0..12)) {
        let text = lines.join("\n");
        if let Ok(f) = StateFile::parse(text.as_bytes(), "x") {
            prop_assert_eq!(StateFile::parse(f.render().as_bytes(), "x").unwrap().render(), f.render());
        }
    }

    #[test]
    fn gate_never_panics_on_any_bytes(
        content in proptest::collection::vec(any::<u8>(), 0..200),
        op in 0usize..4,
    ) {
        let facts = GateFacts {
            wal_status: StateInput::Present { path: "wal.status".into(), content: content.clone() },
            contract_status: Some(StateInput::Present { path: "contract.status".into(), content }),
            disk: None,
            lock: LockFacts::default(),
            liveness: None,
        };
        let d = gate::evaluate(Operation::ALL[op], &facts, &GatePolicy::default(), now());
        prop_assert!(!d.reasons.is_empty());
        prop_assert!(!d.allowed, "garbage never allows (and no target is known)");
    }

    /// The startup gate against the README's table, written independently of
    /// the code: allowed exactly when wal.status says OK and is at most
    /// 10min old and at most 1min in the future, contract.status says PASS
    /// and is at most 25h old and at most 1min in the future, and no
    /// operation holds the lock; and each way it fails is named by its rule.
    #[test]
    fn startup_gate_follows_the_documented_rules(
        wal in prop_oneof![Just("OK"), Just("GROWING"), Just("NEAR_LIMIT"), Just("ERROR")],
        wal_age in -300i64..1200,
        verdict in prop_oneof![Just("PASS"), Just("FAIL"), Just("UNKNOWN")],
        contract_age in -300i64..(26 * 3600),
        held in any::<bool>(),
    ) {
        let at = |age: i64| ssot_core::state::timestamp(now() - TimeDelta::seconds(age));
        let facts = GateFacts {
            wal_status: StateInput::Present {
                path: "wal.status".into(),
                content: format!("wal_status={wal}\nchecked_at={}\n", at(wal_age)).into_bytes(),
            },
            contract_status: Some(StateInput::Present {
                path: "contract.status".into(),
                content: format!("contract_status={verdict}\nchecked_at={}\n", at(contract_age)).into_bytes(),
            }),
            disk: None,
            lock: LockFacts { held_by: held.then(|| "backup by pid 1".into()), error: None },
            liveness: None,
        };
        let d = gate::evaluate(Operation::Startup, &facts, &GatePolicy::default(), now());
        let failed: Vec<&str> = d.denials().map(|c| c.rule.as_str()).collect();
        let wal_fresh = (-60..=600).contains(&wal_age);
        let contract_fresh = (-60..=25 * 3600).contains(&contract_age);
        let expect_allowed = wal == "OK" && wal_fresh && verdict == "PASS" && contract_fresh && !held;
        prop_assert_eq!(d.allowed, expect_allowed, "{}", d);
        prop_assert_eq!(failed.contains(&"wal_status_stale"), wal_age > 600);
        prop_assert_eq!(failed.contains(&"wal_status_future_dated"), wal_age < -60);
        prop_assert_eq!(failed.contains(&"wal_status_ok"), wal != "OK");
        prop_assert_eq!(failed.contains(&"contract_status_stale"), contract_age > 25 * 3600);
        prop_assert_eq!(failed.contains(&"contract_status_future_dated"), contract_age < -60);
        prop_assert_eq!(failed.contains(&"contract_pass"), verdict != "PASS");
        prop_assert_eq!(failed.contains(&"operation_lock"), held);
    }
}
