//! An embedder's whole day with `ssot-core`, through `ssot_core::Ssot`:
//! measure WAL and gate a backup over a state directory, plan retention over
//! a catalog, print the single view of truth. The same calls, with the same
//! words and exit codes, are what the `ssot` CLI makes.
//!
//! Run with `cargo run --example embed`. It works in a temporary directory:
//! a PGDATA whose pg_wal holds three (sparse) segments, an empty backup
//! directory and a state directory, all on the same real filesystem.

use std::fs::{self, File};

use chrono::{DateTime, TimeDelta, Utc};
use ssot_core::config::Config;
use ssot_core::gate::Operation;
use ssot_core::retention::{Artifact, RetentionPolicyPatch};
use ssot_core::{
    Catalog, GateRequest, Outcome, ReportRequest, RetentionRequest, Ssot, WalCheckRequest,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let pg_wal = dir.path().join("pgdata/pg_wal");
    fs::create_dir_all(&pg_wal)?;
    for i in 1..=3 {
        File::create(pg_wal.join(format!("00000001000000000000000{i}")))?.set_len(16 << 20)?;
    }
    let dumps = dir.path().join("dumps");
    fs::create_dir_all(&dumps)?;

    // The seed defaults, pointed at this directory. (A tool would usually
    // call `Ssot::open(None, None)`: /opt/ssot/ssot.toml if present.)
    let mut config = Config {
        state_dir: dir.path().join("state").display().to_string(),
        ..Config::default()
    };
    config.postgres.pgdata = dir.path().join("pgdata").display().to_string();
    config
        .gate
        .targets
        .insert(Operation::Backup, dumps.display().to_string());
    let ssot = Ssot::new(config);
    let now = ssot.now();

    // 1. Every minute: measure pg_wal and record wal.status.
    let wal = ssot.check_wal(&WalCheckRequest::default(), now)?;
    print!("$ ssot wal check   (exit {})\n{wal}\n", wal.exit_code());

    // 2. Before the nightly dump: the backup gate. Here the backup directory
    //    shares PGDATA's filesystem, so the disk guard denies, and says why.
    //    A gate authorises work: it is decided at the real time (`None`; a
    //    time given there is only checked against the clock).
    let decision = ssot.gate(&GateRequest::new(Operation::Backup), None)?;
    print!(
        "$ ssot gate backup   (exit {})\n{decision}\n",
        decision.exit_code()
    );

    // 3. Retention over a catalog your tool keeps: ten nightly dumps, keep 3
    //    daily; the newest verified one is kept by the min_verified floor.
    let night = |d: i64| -> DateTime<Utc> { now - TimeDelta::days(d) };
    let catalog: Vec<Artifact> = (0..10)
        .map(|d| Artifact {
            verified: d == 4,
            size_bytes: Some(300 << 20),
            ..Artifact::new(format!("ssot_night_{d}.sql.gz"), night(d))
        })
        .collect();
    let request = RetentionRequest {
        catalog: Some(Catalog::Artifacts(catalog)),
        policy: RetentionPolicyPatch {
            keep_daily: Some(3),
            min_verified: Some(1),
            ..RetentionPolicyPatch::default()
        },
        ..RetentionRequest::default()
    };
    let planned = ssot.plan_retention(&request, now)?;
    print!(
        "$ ssot retention plan --catalog ... --keep-daily 3 --min-verified 1   (exit {})\n{planned}\n",
        planned.exit_code()
    );

    // 4. The single view of truth over everything recorded above.
    let report = ssot.report(&ReportRequest::default(), now);
    print!("$ ssot report   (exit {})\n{report}", report.exit_code());
    Ok(())
}
