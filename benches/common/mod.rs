//! The artifacts and the policy the retention benchmarks plan over.

use chrono::{DateTime, Duration, Utc};
use ssot_core::retention::{Artifact, ArtifactState, RetentionPolicy};

/// `n` artifacts over `groups` groups, one every 7 minutes going back from
/// `t0`; sizes 1–64 MiB, every 50th verified, every 1000th partial, every
/// 10th of the rest a differential whose parent is the artifact before it.
pub fn catalog(n: usize, groups: usize, t0: DateTime<Utc>) -> Vec<Artifact> {
    (0..n)
        .map(|i| {
            let mut a = Artifact::new(format!("bk_{i:08}"), t0 - Duration::minutes(7 * i as i64));
            a.size_bytes = Some((1 + (i as u64 * 7919) % 64) << 20);
            a.group = Some(format!("db{:04}", i % groups));
            a.verified = i % 50 == 7;
            if i % 1000 == 3 {
                a.state = ArtifactState::Partial;
            } else if i % 10 == 1 && i > groups {
                a.parent = Some(format!("bk_{:08}", i + groups));
            }
            a
        })
        .collect()
}

/// keep_last 5, keep_daily 7, keep_weekly 4, keep_monthly 12, min_keep 3,
/// min_verified 1 and a per-group budget of 2GB (PostgreSQL units: 2 GiB).
pub fn gfs_policy() -> RetentionPolicy {
    serde_json::from_value(serde_json::json!({
        "keep_last": 5, "keep_daily": 7, "keep_weekly": 4, "keep_monthly": 12,
        "min_keep": 3, "min_verified": 1, "max_total_size": "2GB"
    }))
    .unwrap()
}
