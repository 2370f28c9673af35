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
use crate::num::{human_bytes, human_secs};
use crate::report::{Metric, Section, Verdict};
use crate::state::{
    load_record, timestamp, BackupStatusRecord, DrDrillRecord, RestoreDrillRecord, StateInput,
    Untrusted,
};
use crate::statefile::StateFile;
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
            other => Err(Error::Input(format!(
                "backup result \"{other}\" is not complete, partial or failed"
            ))),
        }
    }
}

/// A backup that ran.
#[derive(Debug, Clone, PartialEq, Eq)]
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

fn no_breaks(field: &str, v: &str) -> Result<()> {
    if v.contains(['\n', '\r', '\0']) {
        return Err(Error::EvidenceRefused(format!(
            "{field} must not contain a line break"
        )));
    }
    Ok(())
}

fn duration_of(start: Option<DateTime<Utc>>, end: DateTime<Utc>) -> Result<Option<i64>> {
    match start {
        None => Ok(None),
        Some(s) if s > end => Err(Error::EvidenceRefused(format!(
            "started_at {} is after finished_at {}",
            timestamp(s),
            timestamp(end)
        ))),
        Some(s) => Ok(Some((end - s).num_seconds())),
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

/// Records a backup into `backup.status` (`last_*` for the latest attempt,
/// `last_complete_*` for the newest complete one), after [`validate_backup`].
pub fn record_backup(file: &mut StateFile, e: &BackupEvidence, now: DateTime<Utc>) -> Result<()> {
    validate_backup(e)?;
    let secs = duration_of(e.started_at, e.finished_at)?;
    let sep = e
        .separate_from_pgdata
        .map(|b| if b { "yes" } else { "no" })
        .unwrap_or("unknown");
    let prefixes: &[&str] = if e.result == BackupResult::Complete {
        &["last", "last_complete"]
    } else {
        &["last"]
    };
    for p in prefixes {
        file.set(&format!("{p}_at"), timestamp(e.finished_at))?;
        file.set(&format!("{p}_artifact"), &e.artifact)?;
        file.set(&format!("{p}_location"), &e.location)?;
        file.set(&format!("{p}_kind"), &e.kind)?;
        file.set(&format!("{p}_separate_from_pgdata"), sep)?;
        match e.size_bytes {
            Some(b) => file.set(&format!("{p}_size_bytes"), b)?,
            None => file.remove(&format!("{p}_size_bytes")),
        }
        match secs {
            Some(s) => file.set(&format!("{p}_duration_seconds"), s)?,
            None => file.remove(&format!("{p}_duration_seconds")),
        }
    }
    file.set("last_result", e.result.as_str())?;
    file.set("last_recorded_by", &e.recorded_by)?;
    file.set("checked_at", timestamp(now))
}

/// A restore drill that ran.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// How many verified artifacts `restore_drill.status` remembers.
pub const VERIFIED_KEPT: usize = 20;

/// Records a restore drill into `restore_drill.status`.
pub fn record_restore_drill(
    file: &mut StateFile,
    e: &RestoreDrillEvidence,
    now: DateTime<Utc>,
) -> Result<()> {
    for (f, v) in [
        ("artifact", &e.artifact),
        ("recorded_by", &e.recorded_by),
        ("notes", &e.notes),
    ] {
        no_breaks(f, v)?;
    }
    if e.artifact.contains(',') {
        return Err(Error::EvidenceRefused(
            "the artifact name must not contain a comma".into(),
        ));
    }
    let secs = duration_of(e.started_at, e.finished_at)?;
    file.set("last_drill_at", timestamp(e.finished_at))?;
    file.set("last_result", if e.passed { "pass" } else { "fail" })?;
    file.set("last_artifact", &e.artifact)?;
    file.set("last_recorded_by", &e.recorded_by)?;
    file.set("last_notes", &e.notes)?;
    match secs {
        Some(s) => file.set("last_duration_seconds", s)?,
        None => file.remove("last_duration_seconds"),
    }
    if e.passed {
        file.set("last_pass_at", timestamp(e.finished_at))?;
        file.set("last_pass_artifact", &e.artifact)?;
        let mut verified: Vec<String> = file
            .get("verified_artifacts")
            .map(|v| {
                v.split(',')
                    .filter(|s| !s.is_empty() && *s != e.artifact)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        verified.insert(0, e.artifact.clone());
        verified.truncate(VERIFIED_KEPT);
        file.set("verified_artifacts", verified.join(","))?;
    }
    file.set("checked_at", timestamp(now))
}

/// A DR drill: an incident simulated at `t0` and recovered from.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    let rto = (e.restored_at - e.t0).num_seconds();
    let rpo = (e.newest_data_before - e.newest_data_after)
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

/// Records a DR drill into `dr_drill.status`.
pub fn record_dr_drill(
    file: &mut StateFile,
    e: &DrDrillEvidence,
    o: &DrOutcome,
    now: DateTime<Utc>,
) -> Result<()> {
    no_breaks("scenario", &e.scenario)?;
    no_breaks("recorded_by", &e.recorded_by)?;
    file.set("last_drill_at", timestamp(e.restored_at))?;
    file.set("scenario", &e.scenario)?;
    file.set("t0", timestamp(e.t0))?;
    file.set("restored_at", timestamp(e.restored_at))?;
    file.set("newest_data_before", timestamp(e.newest_data_before))?;
    file.set("newest_data_after", timestamp(e.newest_data_after))?;
    file.set("rto_seconds", o.rto_seconds)?;
    file.set("rpo_seconds", o.rpo_seconds)?;
    file.set("rto_target_seconds", o.rto_target_seconds)?;
    file.set("rpo_target_seconds", o.rpo_target_seconds)?;
    file.set("result", if o.passed { "pass" } else { "fail" })?;
    file.set("recorded_by", &e.recorded_by)?;
    file.set("checked_at", timestamp(now))
}

/// Loads a typed evidence record for a report section: `Ok(None)` when the
/// file is absent, a DEGRADED section when it cannot be trusted.
fn load<R>(
    input: &StateInput,
    name: &str,
    parse: impl FnOnce(&StateFile) -> Result<R>,
) -> std::result::Result<Option<R>, Section> {
    match load_record(input, parse) {
        Ok(r) => Ok(Some(r)),
        Err(Untrusted::Missing(_)) => Ok(None),
        Err(Untrusted::Corrupt(e)) => Err(Section::new(
            name,
            Verdict::Degraded,
            format!("corrupt: {e}"),
        )),
        Err(u) => Err(Section::new(name, Verdict::Degraded, u.to_string())),
    }
}

/// The backup section: the newest complete backup's age against
/// `backup_max_age`, on a filesystem known to be separate from PGDATA.
pub fn backup_section(input: &StateInput, policy: &EvidencePolicy, now: DateTime<Utc>) -> Section {
    let rec = match load(input, "backup", BackupStatusRecord::from_file) {
        Ok(Some(r)) => r,
        Ok(None) => return Section::new("backup", Verdict::Degraded, "no backup recorded (ssot evidence backup ...): data loss on a PVC failure would be total"),
        Err(s) => return s,
    };
    let Some(b) = rec.last_complete else {
        let last = rec.last_result.map(BackupResult::as_str).unwrap_or("?");
        return Section::new(
            "backup",
            Verdict::Degraded,
            format!("no complete backup recorded (last attempt: {last})"),
        );
    };
    let age = (now - b.at).num_seconds();
    let artifact = &b.artifact;
    let mut s = if age < 0 {
        Section::new(
            "backup",
            Verdict::Degraded,
            format!(
                "newest complete backup {artifact} is dated in the future ({})",
                timestamp(b.at)
            ),
        )
    } else if age > policy.backup_max_age.as_secs() as i64 {
        Section::new(
            "backup",
            Verdict::Degraded,
            format!(
                "newest complete backup {artifact} is {} old, more than the backup RPO {}",
                human_secs(age as f64),
                policy.backup_max_age
            ),
        )
    } else {
        Section::new(
            "backup",
            Verdict::Ok,
            format!(
                "newest complete backup {artifact} is {} old (backup RPO {})",
                human_secs(age as f64),
                policy.backup_max_age
            ),
        )
    };
    if let (Some(r), Some(last)) = (rec.last_result, &rec.last) {
        if r != BackupResult::Complete {
            s.details.push(format!(
                "the latest attempt ended {} at {}",
                r.as_str(),
                timestamp(last.at)
            ));
            if s.status == Verdict::Ok {
                s.status = Verdict::Degraded;
                s.summary = format!("{}; but the latest attempt failed", s.summary);
            }
        }
    }
    match b.separate_from_pgdata {
        Some(true) => {}
        Some(false) => {
            s.status = Verdict::Degraded;
            s.details
                .push("the newest complete backup is on the same filesystem as PGDATA".into());
        }
        None => {
            s.status = Verdict::Degraded;
            s.details.push(
                "the newest complete backup's filesystem is unknown: it is not proven to be off the SSOT volume".into(),
            );
        }
    }
    s.details.push(format!("location {}", b.location));
    if let Some(bytes) = b.size_bytes {
        s.details.push(format!("size {}", human_bytes(bytes)));
        s.metrics.push(Metric::new(
            "backup_last_complete_size_bytes",
            "Size of the newest complete backup",
            bytes as f64,
        ));
    }
    s.metrics.push(Metric::new(
        "backup_last_complete_timestamp_seconds",
        "Time of the newest complete backup",
        b.at.timestamp() as f64,
    ));
    s.metrics.push(Metric::new(
        "backup_age_seconds",
        "Age of the newest complete backup",
        age.max(0) as f64,
    ));
    s
}

/// The restore-drill section: the last passed drill's age and the newest verified backup.
pub fn restore_drill_section(
    input: &StateInput,
    policy: &EvidencePolicy,
    now: DateTime<Utc>,
) -> Section {
    let rec = match load(input, "restore_drill", RestoreDrillRecord::from_file) {
        Ok(Some(r)) => r,
        Ok(None) => {
            return Section::new(
                "restore_drill",
                Verdict::Degraded,
                "no restore drill recorded: recoverability is not proven",
            )
        }
        Err(s) => return s,
    };
    let mut s = match &rec.last_pass {
        None => Section::new(
            "restore_drill",
            Verdict::Degraded,
            "no restore drill has passed",
        ),
        Some((at, artifact)) => {
            let age = (now - *at).num_seconds();
            let mut s = if age > policy.restore_drill_max_age.as_secs() as i64 {
                Section::new(
                    "restore_drill",
                    Verdict::Degraded,
                    format!(
                        "last passed drill ({artifact}) is {} old, more than {}",
                        human_secs(age as f64),
                        policy.restore_drill_max_age
                    ),
                )
            } else {
                Section::new("restore_drill", Verdict::Ok, format!("last passed drill restored {artifact} {} ago; newest verified backup {artifact}", human_secs(age.max(0) as f64)))
            };
            s.metrics.push(Metric::new(
                "restore_drill_last_pass_timestamp_seconds",
                "Time of the last passed restore drill",
                at.timestamp() as f64,
            ));
            s
        }
    };
    if rec.last_passed == Some(false) {
        s.status = Verdict::Degraded;
        s.details.insert(
            0,
            format!(
                "the latest drill FAILED at {} ({})",
                rec.last_drill_at
                    .map(timestamp)
                    .unwrap_or_else(|| "?".into()),
                rec.last_artifact.as_deref().unwrap_or("?")
            ),
        );
    }
    if !rec.verified_artifacts.is_empty() {
        s.details.push(format!(
            "verified artifacts, newest first: {}",
            rec.verified_artifacts.join(",")
        ));
    }
    s
}

/// The DR-drill section: measured RTO/RPO against the targets. Without any
/// drill it is informational: the architecture declares no SLA/RPO/RTO.
pub fn dr_drill_section(
    input: &StateInput,
    policy: &EvidencePolicy,
    now: DateTime<Utc>,
) -> Section {
    let rec = match load(input, "dr_drill", DrDrillRecord::from_file) {
        Ok(Some(r)) => r,
        Ok(None) => {
            return Section::new(
                "dr_drill",
                Verdict::Ok,
                format!("no DR drill recorded: RTO/RPO unmeasured (targets RTO {}, RPO {}; no SLA is declared)", policy.rto_target, policy.rpo_target),
            )
        }
        Err(s) => return s,
    };
    let (rto, rpo) = (rec.rto_seconds, rec.rpo_seconds);
    let figures = format!(
        "RTO {} (target {}), RPO {} (target {})",
        rto.map(|v| human_secs(v as f64))
            .unwrap_or_else(|| "?".into()),
        policy.rto_target,
        rpo.map(|v| human_secs(v as f64))
            .unwrap_or_else(|| "?".into()),
        policy.rpo_target
    );
    let met = rto.is_some_and(|v| v <= policy.rto_target.as_secs())
        && rpo.is_some_and(|v| v <= policy.rpo_target.as_secs());
    let age = (now - rec.last_drill_at).num_seconds();
    let scenario = &rec.scenario;
    let mut s = if !met {
        Section::new(
            "dr_drill",
            Verdict::Degraded,
            format!("DR drill \"{scenario}\" missed its targets: {figures}"),
        )
    } else if age > policy.dr_drill_max_age.as_secs() as i64 {
        Section::new(
            "dr_drill",
            Verdict::Degraded,
            format!(
                "last DR drill is {} old, more than {}; it met {figures}",
                human_secs(age as f64),
                policy.dr_drill_max_age
            ),
        )
    } else {
        Section::new(
            "dr_drill",
            Verdict::Ok,
            format!("DR drill \"{scenario}\" met its targets: {figures}"),
        )
    };
    if let Some(v) = rto {
        s.metrics.push(Metric::new(
            "dr_drill_rto_seconds",
            "Measured RTO of the last DR drill",
            v as f64,
        ));
    }
    if let Some(v) = rpo {
        s.metrics.push(Metric::new(
            "dr_drill_rpo_seconds",
            "Measured RPO of the last DR drill",
            v as f64,
        ));
    }
    s.metrics.push(Metric::new(
        "dr_drill_last_timestamp_seconds",
        "Time of the last DR drill",
        rec.last_drill_at.timestamp() as f64,
    ));
    s
}
