//! Embedding `ssot-core` in another Rust tool: evaluate a WAL sample and a
//! backup gate from literal facts, with no I/O at all.
//!
//! Run with `cargo run --example embed`.

use ssot_core::disk::{DiskFacts, ProtectedVolume, TargetFacts};
use ssot_core::gate::{self, GateFacts, GatePolicy, LockFacts, Operation};
use ssot_core::state::{self, StateInput};
use ssot_core::statefile::StateFile;
use ssot_core::wal::{self, VolumeStats, WalFacts, WalPolicy};

const GIB: u64 = 1 << 30;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let now = "2026-02-05T12:00:00Z".parse()?;

    // What your tool measured: 5GB of WAL on a 100GB volume that is 40% used.
    let facts = WalFacts::new(
        5 * GIB,
        320,
        VolumeStats {
            total_bytes: 100 * GIB,
            available_bytes: 60 * GIB,
        },
    );
    let report = wal::evaluate(&facts, &WalPolicy::default(), now);
    println!("WAL status: {}", report.status);
    for r in &report.reasons {
        println!("  {} {}: {}", r.level, r.rule, r.message);
    }

    // Record it the way `ssot wal check` does, as a key=value wal.status ...
    let mut file = StateFile::new("wal.status");
    state::write_wal_status(&mut file, &report)?;

    // ... and ask the backup gate, giving it that file and the target's facts.
    let facts = GateFacts {
        wal_status: StateInput::Present {
            path: "wal.status".into(),
            content: file.render().into_bytes(),
        },
        contract_status: None,
        disk: Some(DiskFacts {
            target: TargetFacts {
                path: "/opt/ssot-backup/dumps".into(),
                exists: true,
                is_dir: true,
                device: Some(2),
                volume: Some(VolumeStats {
                    total_bytes: 500 * GIB,
                    available_bytes: 400 * GIB,
                }),
                ..TargetFacts::default()
            },
            protected: vec![ProtectedVolume {
                label: "PGDATA".into(),
                path: "/var/lib/postgresql/data".into(),
                device: Some(1),
                error: None,
            }],
            estimated_bytes: 2 * GIB,
            estimate_source: "last night's dump".into(),
        }),
        lock: LockFacts::default(),
    };
    let decision = gate::evaluate(Operation::Backup, &facts, &GatePolicy::default(), now);
    println!("backup allowed: {}", decision.allowed);
    for c in decision.denials() {
        println!("  denied by {}: {}", c.rule, c.message);
    }
    println!("{}", serde_json::to_string_pretty(&decision)?);
    Ok(())
}
