//! Evidence: backups, restore drills and DR drills as recorded facts
//! (seed: STAGE 8 restore drill, "restore as a fact, not a possibility";
//! seed 004 DR plan: RTO 15 min, RPO 5 min, quarterly drills).
//!
//! `ssot evidence ...` records into `backup.status`, `restore_drill.status`
//! and `dr_drill.status` through the `record_*` functions here; the report
//! judges them with the `*_section` functions. Both are pure.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::time::timestamp;
use crate::units::Span;

/// Limits and targets for evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvidencePolicy {
    /// The RPO backups are held to: the oldest acceptable newest complete backup.
    pub backup_max_age: Span,
    /// Oldest acceptable passed restore drill.
    pub restore_drill_max_age: Span,
    /// Oldest acceptable DR drill.
    pub dr_drill_max_age: Span,
    /// DR target: incident start to service restored (seed 004: 15 min).
    pub rto_target: Span,
    /// DR target: data lost, newest before the incident minus newest after restore (seed 004: 5 min).
    pub rpo_target: Span,
}

impl Default for EvidencePolicy {
    fn default() -> Self {
        EvidencePolicy {
            backup_max_age: Span::hours(25),
            restore_drill_max_age: Span::days(31),
            dr_drill_max_age: Span::days(92),
            rto_target: Span::mins(15),
            rpo_target: Span::mins(5),
        }
    }
}

/// How a backup ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackupResult {
    /// Whole and usable.
    Complete,
    /// Interrupted.
    Partial,
    /// Failed.
    Failed,
}

impl BackupResult {
    /// `complete`, `partial`, `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            BackupResult::Complete => "complete",
            BackupResult::Partial => "partial",
            BackupResult::Failed => "failed",
        }
    }
}

impl std::str::FromStr for BackupResult {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "complete" | "ok" | "pass" => Ok(BackupResult::Complete),
            "partial" => Ok(BackupResult::Partial),
            "failed" | "fail" => Ok(BackupResult::Failed),
            other => Err(Error::InvalidName {
                what: "backup result",
                value: other.into(),
                message: "expected complete, partial or failed".into(),
            }),
        }
    }
}

/// A backup that ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupEvidence {
    /// When it finished.
    pub finished_at: DateTime<Utc>,
    /// When it started, if known.
    pub started_at: Option<DateTime<Utc>>,
    /// The artifact (file name or id).
    pub artifact: String,
    /// Where it was written (directory or URI).
    pub location: String,
    /// Outcome.
    pub result: BackupResult,
    /// Size, if known.
    pub size_bytes: Option<u64>,
    /// `dump` (pg_dump), `basebackup`, ...
    pub kind: String,
    /// Who ran it.
    pub recorded_by: String,
    /// Whether the location was on a different filesystem from PGDATA, if checked.
    pub separate_from_pgdata: Option<bool>,
}

pub(crate) fn no_breaks(field: &str, v: &str) -> Result<()> {
    if v.contains(['\n', '\r', '\0']) {
        return Err(Error::EvidenceRefused(format!(
            "{field} must not contain a line break"
        )));
    }
    Ok(())
}

pub(crate) fn duration_of(start: Option<DateTime<Utc>>, end: DateTime<Utc>) -> Result<Option<i64>> {
    match start {
        None => Ok(None),
        Some(s) if s > end => Err(Error::EvidenceRefused(format!(
            "started_at {} is after finished_at {}",
            timestamp(s),
            timestamp(end)
        ))),
        Some(s) => Ok(Some(
            (crate::time::whole_seconds(end) - crate::time::whole_seconds(s)).num_seconds(),
        )),
    }
}

/// Checks a backup's claims that need no I/O: a snapshot is not a backup
/// (seed STAGE 7), fields are single lines, it did not finish before it started.
pub fn validate_backup(e: &BackupEvidence) -> Result<()> {
    if e.kind.eq_ignore_ascii_case("snapshot") {
        return Err(Error::EvidenceRefused(
            "a snapshot is not a backup (seed STAGE 7: it is a storage fact, not a copy of the data); record backups only".into(),
        ));
    }
    for (f, v) in [
        ("artifact", &e.artifact),
        ("location", &e.location),
        ("kind", &e.kind),
        ("recorded_by", &e.recorded_by),
    ] {
        no_breaks(f, v)?;
    }
    duration_of(e.started_at, e.finished_at).map(drop)
}

/// A restore drill that ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestoreDrillEvidence {
    /// When it finished.
    pub finished_at: DateTime<Utc>,
    /// When it started, if known.
    pub started_at: Option<DateTime<Utc>>,
    /// The backup artifact restored.
    pub artifact: String,
    /// Whether the restored database came up and checked out.
    pub passed: bool,
    /// Who ran it.
    pub recorded_by: String,
    /// Free text.
    pub notes: String,
}

/// A DR drill: an incident simulated at `t0` and recovered from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DrDrillEvidence {
    /// What was simulated ("loss of the primary DB instance").
    pub scenario: String,
    /// T0: when the incident started.
    pub t0: DateTime<Utc>,
    /// When the critical function was restored.
    pub restored_at: DateTime<Utc>,
    /// Newest data that existed before the incident.
    pub newest_data_before: DateTime<Utc>,
    /// Newest data present after the restore.
    pub newest_data_after: DateTime<Utc>,
    /// Who ran it.
    pub recorded_by: String,
}

/// Measured RTO/RPO against the targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DrOutcome {
    /// `restored_at − t0`, seconds.
    pub rto_seconds: i64,
    /// `newest_data_before − newest_data_after`, seconds (0 when nothing was lost).
    pub rpo_seconds: i64,
    /// RTO target, seconds.
    pub rto_target_seconds: i64,
    /// RPO target, seconds.
    pub rpo_target_seconds: i64,
    /// Both within target.
    pub passed: bool,
}

/// Computes a DR drill's RTO and RPO; errors on impossible times.
pub fn dr_outcome(e: &DrDrillEvidence, policy: &EvidencePolicy) -> Result<DrOutcome> {
    if e.restored_at < e.t0 {
        return Err(Error::EvidenceRefused(format!(
            "restored_at {} is before the incident start t0 {}",
            timestamp(e.restored_at),
            timestamp(e.t0)
        )));
    }
    // From the times as `dr_drill.status` keeps them (whole seconds), so the
    // record's RTO and RPO agree with its own times when read back.
    let s = crate::time::whole_seconds;
    let rto = (s(e.restored_at) - s(e.t0)).num_seconds();
    let rpo = (s(e.newest_data_before) - s(e.newest_data_after))
        .num_seconds()
        .max(0);
    let (rto_t, rpo_t) = (
        policy.rto_target.as_secs() as i64,
        policy.rpo_target.as_secs() as i64,
    );
    Ok(DrOutcome {
        rto_seconds: rto,
        rpo_seconds: rpo,
        rto_target_seconds: rto_t,
        rpo_target_seconds: rpo_t,
        passed: rto <= rto_t && rpo <= rpo_t,
    })
}
