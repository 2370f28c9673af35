//! `retention.status`: the last apply of each retention profile.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::timestamp;
use crate::error::Result;
use crate::statefile::StateFile;

/// What one profile's last apply recorded (`<profile>.<field>` keys).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RetentionRun {
    /// `applied_at`.
    pub applied_at: Option<DateTime<Utc>>,
    /// `root`.
    pub root: Option<String>,
    /// `plan_hash`: the hash applied (the reviewed one when `--plan-hash` was given).
    pub plan_hash: Option<String>,
    /// `kept`.
    pub kept: Option<u64>,
    /// `deleted`.
    pub deleted: Option<u64>,
    /// `kept_bytes`.
    pub kept_bytes: Option<u64>,
    /// `freed_bytes`.
    pub freed_bytes: Option<u64>,
    /// `verified_kept`.
    pub verified_kept: Option<u64>,
    /// `warning.N`, in the order of N.
    pub warnings: Vec<String>,
}

/// The fields of a run, as key suffixes.
const FIELDS: [&str; 11] = [
    "applied_at",
    "root",
    "plan_hash",
    "computed_plan_hash",
    "kept",
    "deleted",
    "kept_bytes",
    "freed_bytes",
    "verified_kept",
    "deleted_ids",
    "warning_count",
];

/// `retention.status`, every field typed and checked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RetentionStatusRecord {
    /// Runs by profile name.
    pub profiles: BTreeMap<String, RetentionRun>,
}

impl RetentionStatusRecord {
    /// Reads the record; every problem names file, line and key.
    pub fn from_file(f: &StateFile) -> Result<Self> {
        let mut profiles: BTreeMap<String, RetentionRun> = BTreeMap::new();
        let mut warnings: BTreeMap<String, Vec<(u64, String)>> = BTreeMap::new();
        for (key, value) in f.pairs() {
            if let Some((profile, n)) = key
                .rsplit_once(".warning.")
                .and_then(|(p, n)| n.parse::<u64>().ok().map(|n| (p, n)))
            {
                warnings
                    .entry(profile.to_string())
                    .or_default()
                    .push((n, value.to_string()));
                continue;
            }
            let Some((profile, field)) = FIELDS
                .iter()
                .find_map(|fld| key.strip_suffix(&format!(".{fld}")).map(|p| (p, *fld)))
            else {
                continue; // a key ssot does not own: kept, not interpreted
            };
            let run = profiles.entry(profile.to_string()).or_default();
            let u = |k: &str| f.parse_optional::<u64>(k);
            match field {
                "applied_at" => run.applied_at = f.parse_time(key)?,
                "root" => run.root = Some(value.to_string()),
                "plan_hash" => run.plan_hash = Some(value.to_string()),
                "kept" => run.kept = u(key)?,
                "deleted" => run.deleted = u(key)?,
                "kept_bytes" => run.kept_bytes = u(key)?,
                "freed_bytes" => run.freed_bytes = u(key)?,
                "verified_kept" => run.verified_kept = u(key)?,
                "warning_count" => {
                    u(key)?;
                }
                _ => {}
            }
        }
        for (profile, mut list) in warnings {
            list.sort_by_key(|(n, _)| *n);
            profiles.entry(profile).or_default().warnings =
                list.into_iter().map(|(_, w)| w).collect();
        }
        Ok(RetentionStatusRecord { profiles })
    }
}

/// What a finished apply writes for its profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionRunWrite<'a> {
    /// The profile.
    pub profile: &'a str,
    /// The resolved root.
    pub root: &'a str,
    /// The hash the user applied (the reviewed one with `--plan-hash`).
    pub plan_hash: &'a str,
    /// The hash of the plan this run computed and carried out.
    pub computed_plan_hash: &'a str,
    /// Totals of the plan.
    pub summary: &'a crate::retention::Summary,
    /// Ids deleted by this run.
    pub deleted_ids: &'a [String],
    /// The plan's warnings.
    pub warnings: &'a [String],
}

/// Writes one profile's run into `retention.status`, replacing that
/// profile's keys and keeping everything else. Values are single lines.
pub fn write_retention_run(
    f: &mut StateFile,
    w: &RetentionRunWrite,
    now: DateTime<Utc>,
) -> Result<()> {
    let k = |key: &str| format!("{}.{key}", w.profile);
    let line = |s: &str| s.replace(['\n', '\r', '\0'], " ");
    f.set(&k("applied_at"), timestamp(now))?;
    f.set(&k("root"), line(w.root))?;
    f.set(&k("plan_hash"), w.plan_hash)?;
    f.set(&k("computed_plan_hash"), w.computed_plan_hash)?;
    f.set(&k("kept"), w.summary.kept)?;
    f.set(&k("deleted"), w.summary.deleted)?;
    f.set(&k("kept_bytes"), w.summary.kept_bytes)?;
    f.set(&k("freed_bytes"), w.summary.freed_bytes)?;
    f.set(&k("verified_kept"), w.summary.verified_kept)?;
    f.set(
        &k("deleted_ids"),
        line(
            &w.deleted_ids
                .iter()
                .map(|id| id.escape_debug().to_string())
                .collect::<Vec<_>>()
                .join(","),
        ),
    )?;
    f.remove_prefix(&k("warning."));
    f.set(&k("warning_count"), w.warnings.len())?;
    for (i, warning) in w.warnings.iter().enumerate() {
        f.set(&k(&format!("warning.{}", i + 1)), line(warning))?;
    }
    Ok(())
}
