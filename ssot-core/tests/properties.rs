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
    WalPolicy, WalSample,
};

fn now() -> DateTime<Utc> {
    "2026-02-05T12:00:00Z".parse().unwrap()
}

fn any_u64() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0u64), Just(u64::MAX), 0u64..(1 << 45), any::<u64>()]
}

fn facts() -> impl Strategy<Value = WalFacts> {
    let sample = (-3600i64..3600, any_u64(), any_u64()).prop_map(|(s, w, u)| WalSample {
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
                    },
                );
                f.ready_count = ready;
                f.history = history;
                f.slots = slots;
                f.settings.wal_keep_size = ByteSize::from_bytes(keep);
                f.previous = prev.then(|| PreviousStatus {
                    status: Level::NearLimit,
                    active_rules: vec!["volume_used_near".into(), "time_to_near".into()],
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
        if let Some(p) = a.wal_used_pct {
            prop_assert!((0.0..=100.0).contains(&p), "pct {}", p);
        }
        prop_assert!(a.reasons.windows(2).all(|w| w[0].level >= w[1].level), "worst first");
        prop_assert!(serde_json::to_string(&a).is_ok());
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
    fn gate_never_panics_and_allows_only_when_every_check_passes(
        content in proptest::collection::vec(any::<u8>(), 0..200),
        status in prop_oneof![Just("OK"), Just("ERROR"), Just("ok"), Just("")],
        offset in -100_000i64..100_000,
        op in 0usize..4,
        held in any::<bool>(),
        raw in any::<bool>(),
    ) {
        let content = if raw {
            content
        } else {
            format!("wal_status={status}\nchecked_at={}\n", ssot_core::state::timestamp(now() + TimeDelta::seconds(offset))).into_bytes()
        };
        let facts = GateFacts {
            wal_status: StateInput::Present { path: "wal.status".into(), content: content.clone() },
            contract_status: Some(StateInput::Present { path: "contract.status".into(), content }),
            disk: None,
            lock: LockFacts { held_by: held.then(|| "x".into()), error: None },
        };
        let d = gate::evaluate(Operation::ALL[op], &facts, &GatePolicy::default(), now());
        prop_assert_eq!(d.allowed, d.reasons.iter().all(|c| c.passed));
        prop_assert!(!d.reasons.is_empty());
        if held { prop_assert!(!d.allowed); }
        if Operation::ALL[op].writes_target() { prop_assert!(!d.allowed, "no target known"); }
    }
}
