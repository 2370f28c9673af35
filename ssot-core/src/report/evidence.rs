//! The report's evidence sections: backups, restore drills, DR drills.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::metrics::{known, one, Declared, MetricDecl};
use super::{Section, SectionFacts, SectionId, Verdict};
use crate::evidence::{BackupResult, EvidencePolicy};
use crate::num::{human_bytes, human_secs, ser_num};
use crate::state::{
    load_trusted, timestamp, BackupStatusRecord, DrDrillRecord, Freshness, Record,
    RestoreDrillRecord, StateInput, Trust, Untrusted,
};

/// How a record's date compares with the limit it is judged by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Recency {
    /// Within the limit.
    Fresh,
    /// Older than the limit.
    TooOld,
    /// Dated after the report (clock skew).
    FutureDated,
}

impl Recency {
    fn of(dated: Option<&Untrusted>) -> Self {
        match dated {
            None => Recency::Fresh,
            Some(Untrusted::FutureDated { .. }) => Recency::FutureDated,
            Some(_) => Recency::TooOld,
        }
    }
}

/// What the `backup` section read from `backup.status`: the newest
/// complete backup and the latest attempt's result.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BackupSectionFacts {
    /// When the newest complete backup finished.
    pub last_complete_at: Option<DateTime<Utc>>,
    /// How long before the report that was, in seconds (negative: dated in the future).
    pub age_seconds: Option<i64>,
    /// Its artifact.
    pub artifact: Option<String>,
    /// Its kind.
    pub kind: Option<String>,
    /// Where it is.
    pub location: Option<String>,
    /// Its size.
    pub size_bytes: Option<u64>,
    /// Whether it is on another filesystem than PGDATA, pg_wal and the
    /// state directory (`None`: unknown).
    pub separate_from_pgdata: Option<bool>,
    /// How the latest attempt ended.
    pub last_result: Option<BackupResult>,
    /// When the latest attempt, whatever its result, finished.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The record's date against the backup RPO (`None`: no record).
    pub recency: Option<Recency>,
    /// The backup RPO: how old the newest complete backup may be, in seconds.
    #[serde(serialize_with = "ser_num")]
    pub max_age_seconds: f64,
}

impl BackupSectionFacts {
    fn read(&mut self, rec: &BackupStatusRecord, dated: Option<&Untrusted>, now: DateTime<Utc>) {
        self.last_result = rec.last_result;
        self.last_attempt_at = rec.last.as_ref().map(|l| l.at);
        self.recency = Some(Recency::of(dated));
        if let Some(b) = &rec.last_complete {
            self.last_complete_at = Some(b.at);
            self.age_seconds = Some((now - b.at).num_seconds());
            self.artifact = Some(b.artifact.clone());
            self.kind = Some(b.kind.to_string());
            self.location = Some(b.location.clone());
            self.size_bytes = b.size_bytes;
            self.separate_from_pgdata = b.separate_from_pgdata;
        }
    }
}

const BACKUP_METRICS: &[MetricDecl<BackupSectionFacts>] = &[
    MetricDecl::gauge(
        "backup_last_complete_size_bytes",
        "Size of the newest complete backup",
        &[],
        "When the newest complete backup's size was recorded.",
        |f| known(f.size_bytes.map(|v| v as f64)),
    ),
    MetricDecl::gauge(
        "backup_last_complete_timestamp_seconds",
        "Time of the newest complete backup",
        &[],
        "When `backup.status` records a complete backup.",
        |f| known(f.last_complete_at.map(|t| t.timestamp() as f64)),
    ),
    MetricDecl::gauge(
        "backup_age_seconds",
        "Age of the newest complete backup",
        &[],
        "When `backup.status` records a complete backup (0 when dated in the future).",
        |f| known(f.age_seconds.map(|a| a.max(0) as f64)),
    ),
    MetricDecl::gauge(
        "backup_max_age_seconds",
        "The backup RPO: how old the newest complete backup may be (evidence.backup_max_age)",
        &[],
        "Always: the configured limit.",
        |f| one(f.max_age_seconds),
    ),
];

impl Declared for BackupSectionFacts {
    const METRICS: &'static [MetricDecl<Self>] = BACKUP_METRICS;
}

/// What the `restore_drill` section read from `restore_drill.status`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RestoreDrillSectionFacts {
    /// When the last passed drill ran.
    pub last_pass_at: Option<DateTime<Utc>>,
    /// The artifact it restored.
    pub last_pass_artifact: Option<String>,
    /// How long before the report it ran, in seconds.
    pub last_pass_age_seconds: Option<i64>,
    /// The record's date against its limit (`None`: no record).
    pub recency: Option<Recency>,
    /// When the latest drill ran, whatever its result.
    pub last_drill_at: Option<DateTime<Utc>>,
    /// Whether the latest drill passed.
    pub last_passed: Option<bool>,
    /// The artifact the latest drill restored.
    pub last_artifact: Option<String>,
    /// Artifacts verified by a drill, newest first.
    pub verified: Vec<VerifiedArtifact>,
    /// How old the last passed drill may be, in seconds.
    #[serde(serialize_with = "ser_num")]
    pub max_age_seconds: f64,
}

/// An artifact a restore drill verified.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VerifiedArtifact {
    /// The artifact.
    pub artifact: String,
    /// Until when it counts as verified (`None`: no expiry recorded).
    pub until: Option<DateTime<Utc>>,
    /// Whether that is past.
    pub expired: bool,
}

impl RestoreDrillSectionFacts {
    fn read(&mut self, rec: &RestoreDrillRecord, dated: Option<&Untrusted>, now: DateTime<Utc>) {
        self.last_pass_at = rec.last_pass.as_ref().map(|(at, _)| *at);
        self.last_pass_age_seconds = self.last_pass_at.map(|at| (now - at).num_seconds());
        self.recency = Some(Recency::of(dated));
        self.last_pass_artifact = rec.last_pass.as_ref().map(|(_, a)| a.clone());
        self.last_drill_at = rec.last_drill_at;
        self.last_passed = rec.last_passed;
        self.last_artifact = rec.last_artifact.clone();
        self.verified = rec
            .verified_artifacts
            .iter()
            .zip(rec.verified_until.iter().chain(std::iter::repeat(&None)))
            .map(|(a, until)| VerifiedArtifact {
                artifact: a.clone(),
                until: *until,
                expired: until.is_some_and(|u| u <= now),
            })
            .collect();
    }
}

const RESTORE_DRILL_METRICS: &[MetricDecl<RestoreDrillSectionFacts>] = &[
    MetricDecl::gauge(
        "restore_drill_last_pass_timestamp_seconds",
        "Time of the last passed restore drill",
        &[],
        "When a restore drill has passed.",
        |f| known(f.last_pass_at.map(|t| t.timestamp() as f64)),
    ),
    MetricDecl::gauge(
        "restore_drill_max_age_seconds",
        "How old the last passed restore drill may be (evidence.restore_drill_max_age)",
        &[],
        "Always: the configured limit.",
        |f| one(f.max_age_seconds),
    ),
];

impl Declared for RestoreDrillSectionFacts {
    const METRICS: &'static [MetricDecl<Self>] = RESTORE_DRILL_METRICS;
}

/// What the `dr_drill` section read from `dr_drill.status`, and the targets.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DrDrillSectionFacts {
    /// The last drill's scenario.
    pub scenario: Option<String>,
    /// When it ran.
    pub last_drill_at: Option<DateTime<Utc>>,
    /// How long before the report that was, in seconds.
    pub age_seconds: Option<i64>,
    /// Its measured RTO.
    pub rto_seconds: Option<u64>,
    /// Its measured RPO.
    pub rpo_seconds: Option<u64>,
    /// Its recorded result.
    pub passed: Option<bool>,
    /// Whether the measured RTO and RPO meet the targets.
    pub met: Option<bool>,
    /// The record's date against its limit (`None`: no record).
    pub recency: Option<Recency>,
    /// How old the last drill may be, in seconds.
    #[serde(serialize_with = "ser_num")]
    pub max_age_seconds: f64,
    /// The RTO a drill must meet, in seconds.
    #[serde(serialize_with = "ser_num")]
    pub rto_target_seconds: f64,
    /// The RPO a drill must meet, in seconds.
    #[serde(serialize_with = "ser_num")]
    pub rpo_target_seconds: f64,
}

impl DrDrillSectionFacts {
    fn read(
        &mut self,
        rec: &DrDrillRecord,
        dated: Option<&Untrusted>,
        policy: &EvidencePolicy,
        now: DateTime<Utc>,
    ) {
        self.recency = Some(Recency::of(dated));
        self.met = Some(
            rec.rto_seconds
                .is_some_and(|v| v <= policy.rto_target.as_secs())
                && rec
                    .rpo_seconds
                    .is_some_and(|v| v <= policy.rpo_target.as_secs()),
        );
        self.scenario = Some(rec.scenario.clone());
        self.last_drill_at = Some(rec.last_drill_at);
        self.age_seconds = Some((now - rec.last_drill_at).num_seconds());
        self.rto_seconds = rec.rto_seconds;
        self.rpo_seconds = rec.rpo_seconds;
        self.passed = rec.passed;
    }
}

const DR_DRILL_METRICS: &[MetricDecl<DrDrillSectionFacts>] = &[
    MetricDecl::gauge(
        "dr_drill_rto_seconds",
        "Measured RTO of the last DR drill",
        &[],
        "When the last DR drill measured it.",
        |f| known(f.rto_seconds.map(|v| v as f64)),
    ),
    MetricDecl::gauge(
        "dr_drill_rpo_seconds",
        "Measured RPO of the last DR drill",
        &[],
        "When the last DR drill measured it.",
        |f| known(f.rpo_seconds.map(|v| v as f64)),
    ),
    MetricDecl::gauge(
        "dr_drill_last_timestamp_seconds",
        "Time of the last DR drill",
        &[],
        "When a DR drill is recorded.",
        |f| known(f.last_drill_at.map(|t| t.timestamp() as f64)),
    ),
    MetricDecl::gauge(
        "dr_drill_max_age_seconds",
        "How old the last DR drill may be (evidence.dr_drill_max_age)",
        &[],
        "Always: the configured limit.",
        |f| one(f.max_age_seconds),
    ),
    MetricDecl::gauge(
        "dr_drill_rto_target_seconds",
        "The RTO a DR drill must meet (evidence.rto_target)",
        &[],
        "Always: the configured target.",
        |f| one(f.rto_target_seconds),
    ),
    MetricDecl::gauge(
        "dr_drill_rpo_target_seconds",
        "The RPO a DR drill must meet (evidence.rpo_target)",
        &[],
        "Always: the configured target.",
        |f| one(f.rpo_target_seconds),
    ),
];

impl Declared for DrDrillSectionFacts {
    const METRICS: &'static [MetricDecl<Self>] = DR_DRILL_METRICS;
}

/// How each evidence file is written again: the action when it is missing,
/// stale or unreadable.
const RECORD: [(SectionId, &str); 3] = [
    (SectionId::Backup, "take a backup through the gate (`ssot gate backup -- COMMAND`) and record it with `ssot evidence backup`"),
    (SectionId::RestoreDrill, "restore the newest backup into a scratch instance (the restore_drill.rhai runbook does it) and record it with `ssot evidence restore-drill`"),
    (SectionId::DrDrill, "run a DR drill and record it with `ssot evidence dr-drill`"),
];

fn record_action(name: SectionId) -> String {
    RECORD
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("", |(_, a)| a)
        .to_string()
}

/// What a report section can show of an evidence record: the record (fresh
/// or not) and why it is not fresh; a DEGRADED section when the file is
/// unreadable, refused or corrupt; `None` when it is absent.
enum Loaded<R> {
    Record(R, Option<Untrusted>),
    Absent,
    Broken(Box<Section>),
}

fn load<R: Record>(
    input: &StateInput,
    name: SectionId,
    freshness: &Freshness,
    now: DateTime<Utc>,
) -> Loaded<R> {
    match load_trusted::<R>(input, freshness, now) {
        Trust::Fresh { record, .. } | Trust::Undated(record) => Loaded::Record(record, None),
        Trust::Dated { record, why } => Loaded::Record(record, Some(why)),
        Trust::Absent(Untrusted::Missing(_)) => Loaded::Absent,
        // Evidence is recorded into the file (earlier keys kept): one that
        // cannot be read is refused by the next record, so the action says
        // to repair it first (found by attack).
        Trust::Absent(u) => {
            let summary = match &u {
                Untrusted::Corrupt(e) => format!("corrupt: {e}"),
                other => other.to_string(),
            };
            Loaded::Broken(Box::new(
                Section::new(name, Verdict::Degraded, summary).with_action(super::repair_then(
                    &u,
                    &record_action(name),
                    false,
                )),
            ))
        }
    }
}

/// The backup section: the newest complete backup's age against the backup
/// RPO (`freshness.backup`), on a filesystem known to be separate from PGDATA.
pub fn backup_section(input: &StateInput, freshness: &Freshness, now: DateTime<Utc>) -> Section {
    let mut f = BackupSectionFacts {
        max_age_seconds: freshness.backup.as_secs_f64(),
        ..BackupSectionFacts::default()
    };
    let s = match load::<BackupStatusRecord>(input, SectionId::Backup, freshness, now) {
        Loaded::Record(rec, dated) => {
            f.read(&rec, dated.as_ref(), now);
            backup_words(&f, freshness)
        }
        Loaded::Absent => Section::new(SectionId::Backup, Verdict::Degraded, "no backup recorded (ssot evidence backup ...): data loss on a failure of the database volume would be total")
            .with_action(record_action(SectionId::Backup)),
        Loaded::Broken(s) => *s,
    };
    s.with_facts(SectionFacts::Backup(f))
}

/// The backup section's words, from its facts.
fn backup_words(f: &BackupSectionFacts, freshness: &Freshness) -> Section {
    let (Some(at), Some(artifact), Some(age)) = (f.last_complete_at, &f.artifact, f.age_seconds)
    else {
        let last = f.last_result.map(BackupResult::as_str).unwrap_or("?");
        return Section::new(
            SectionId::Backup,
            Verdict::Degraded,
            format!("no complete backup recorded (last attempt: {last})"),
        )
        .with_action(record_action(SectionId::Backup));
    };
    let mut s = match f.recency {
        Some(Recency::FutureDated) => Section::new(
            SectionId::Backup,
            Verdict::Degraded,
            format!(
                "newest complete backup {artifact} is dated in the future ({})",
                timestamp(at)
            ),
        )
        .with_action(
            "check the clock (timedatectl; NTP) of the host that recorded it, then take a backup",
        ),
        Some(Recency::TooOld) => Section::new(
            SectionId::Backup,
            Verdict::Degraded,
            format!(
                "newest complete backup {artifact} is {} old, more than the backup RPO {}",
                human_secs(age as f64),
                freshness.backup
            ),
        )
        .with_action(record_action(SectionId::Backup)),
        Some(Recency::Fresh) | None => Section::new(
            SectionId::Backup,
            Verdict::Ok,
            format!(
                "newest complete backup {artifact} is {} old (backup RPO {})",
                human_secs(age.max(0) as f64),
                freshness.backup
            ),
        ),
    };
    if let (Some(r), Some(last_at)) = (f.last_result, f.last_attempt_at) {
        if r != BackupResult::Complete {
            s.raise(
                Verdict::Degraded,
                &format!(
                    "the latest backup attempt ended {} at {}",
                    r.as_str(),
                    timestamp(last_at)
                ),
                Some("find why the latest backup failed (its job's log) and run it again".into()),
            );
        }
    }
    match f.separate_from_pgdata {
        Some(true) => {}
        Some(false) => s.raise(
            Verdict::Degraded,
            "the newest complete backup is on the same filesystem as PGDATA, pg_wal or the state directory",
            Some("point gate.targets.backup at another volume and take a backup there: a backup on PGDATA's volume dies with it".into()),
        ),
        None => s.raise(
            Verdict::Degraded,
            "the newest complete backup's filesystem is unknown: it is not proven to be off the SSOT volume",
            Some("record backups with PGDATA known (`ssot evidence backup --pgdata DIR`, or postgres.pgdata set) so that their filesystem is checked".into()),
        ),
    }
    s.details.push(format!(
        "location {}",
        f.location.as_deref().unwrap_or_default()
    ));
    if let Some(bytes) = f.size_bytes {
        s.details.push(format!("size {}", human_bytes(bytes)));
    }
    s
}

/// The restore-drill section: the last passed drill's age and the newest verified backup.
pub fn restore_drill_section(
    input: &StateInput,
    freshness: &Freshness,
    now: DateTime<Utc>,
) -> Section {
    let mut f = RestoreDrillSectionFacts {
        max_age_seconds: freshness.restore_drill.as_secs_f64(),
        ..RestoreDrillSectionFacts::default()
    };
    let s = match load::<RestoreDrillRecord>(input, SectionId::RestoreDrill, freshness, now) {
        Loaded::Record(rec, dated) => {
            f.read(&rec, dated.as_ref(), now);
            restore_drill_words(&f, freshness)
        }
        Loaded::Absent => Section::new(
            SectionId::RestoreDrill,
            Verdict::Degraded,
            "no restore drill recorded: recoverability is not proven",
        )
        .with_action(record_action(SectionId::RestoreDrill)),
        Loaded::Broken(s) => *s,
    };
    s.with_facts(SectionFacts::RestoreDrill(f))
}

/// The restore-drill section's words, from its facts.
fn restore_drill_words(f: &RestoreDrillSectionFacts, freshness: &Freshness) -> Section {
    let last_pass = (
        f.last_pass_at,
        &f.last_pass_artifact,
        f.last_pass_age_seconds,
    );
    let mut s = match last_pass {
        (Some(at), Some(artifact), Some(age)) => match f.recency {
            Some(Recency::FutureDated) => Section::new(
                SectionId::RestoreDrill,
                Verdict::Degraded,
                format!(
                    "last passed drill ({artifact}) is dated in the future ({})",
                    timestamp(at)
                ),
            )
            .with_action("check the clock (timedatectl; NTP) of the host that recorded it, then run a restore drill"),
            Some(Recency::TooOld) => Section::new(
                SectionId::RestoreDrill,
                Verdict::Degraded,
                format!(
                    "last passed drill ({artifact}) is {} old, more than {}",
                    human_secs(age as f64),
                    freshness.restore_drill
                ),
            )
            .with_action(record_action(SectionId::RestoreDrill)),
            Some(Recency::Fresh) | None => Section::new(SectionId::RestoreDrill, Verdict::Ok, format!("last passed drill restored {artifact} {} ago; newest verified backup {artifact}", human_secs(age.max(0) as f64))),
        },
        _ => Section::new(
            SectionId::RestoreDrill,
            Verdict::Degraded,
            "no restore drill has passed",
        )
        .with_action(record_action(SectionId::RestoreDrill)),
    };
    if f.last_passed == Some(false) {
        let problem = format!(
            "the latest drill FAILED at {} ({})",
            f.last_drill_at.map(timestamp).unwrap_or_else(|| "?".into()),
            f.last_artifact.as_deref().unwrap_or("?")
        );
        s.raise(
            Verdict::Degraded,
            &problem,
            Some("find why the latest restore drill failed before relying on that backup, then run the drill again".into()),
        );
        // Failures first.
        if let Some(p) = s.details.pop() {
            s.details.insert(0, p);
        }
    }
    if !f.verified.is_empty() {
        let each: Vec<String> = f
            .verified
            .iter()
            .map(|v| match (v.until, v.expired) {
                (Some(u), false) => format!("{} (until {})", v.artifact, timestamp(u)),
                (Some(u), true) => format!("{} (expired {})", v.artifact, timestamp(u)),
                (None, _) => format!("{} (no expiry recorded)", v.artifact),
            })
            .collect();
        s.details.push(format!(
            "verified artifacts, newest first: {}",
            each.join(", ")
        ));
    }
    s
}

/// The DR-drill section: measured RTO/RPO against the targets. Without any
/// drill it is informational: the architecture declares no SLA/RPO/RTO.
pub fn dr_drill_section(
    input: &StateInput,
    freshness: &Freshness,
    policy: &EvidencePolicy,
    now: DateTime<Utc>,
) -> Section {
    let mut f = DrDrillSectionFacts {
        max_age_seconds: freshness.dr_drill.as_secs_f64(),
        rto_target_seconds: policy.rto_target.as_secs_f64(),
        rpo_target_seconds: policy.rpo_target.as_secs_f64(),
        ..DrDrillSectionFacts::default()
    };
    let s = match load::<DrDrillRecord>(input, SectionId::DrDrill, freshness, now) {
        Loaded::Record(rec, dated) => {
            f.read(&rec, dated.as_ref(), policy, now);
            dr_drill_words(&f, freshness, policy)
        }
        Loaded::Absent => Section::new(
            SectionId::DrDrill,
            Verdict::Ok,
            format!("no DR drill recorded: RTO/RPO unmeasured (targets RTO {}, RPO {}; no SLA is declared)", policy.rto_target, policy.rpo_target),
        ),
        Loaded::Broken(s) => *s,
    };
    s.with_facts(SectionFacts::DrDrill(f))
}

/// The DR-drill section's words, from its facts.
fn dr_drill_words(
    f: &DrDrillSectionFacts,
    freshness: &Freshness,
    policy: &EvidencePolicy,
) -> Section {
    let (rto, rpo) = (f.rto_seconds, f.rpo_seconds);
    let figures = format!(
        "RTO {} (target {}), RPO {} (target {})",
        rto.map(|v| human_secs(v as f64))
            .unwrap_or_else(|| "?".into()),
        policy.rto_target,
        rpo.map(|v| human_secs(v as f64))
            .unwrap_or_else(|| "?".into()),
        policy.rpo_target
    );
    let scenario = f.scenario.as_deref().unwrap_or_default();
    let last_drill_at = f.last_drill_at.map(timestamp).unwrap_or_default();
    let age = f.age_seconds.unwrap_or_default();
    if f.met != Some(true) {
        Section::new(
            SectionId::DrDrill,
            Verdict::Degraded,
            format!("DR drill \"{scenario}\" missed its targets: {figures}"),
        )
        .with_action("shorten the recovery path (or revisit evidence.rto_target and rpo_target), then run the DR drill again")
    } else if f.recency == Some(Recency::FutureDated) {
        Section::new(
            SectionId::DrDrill,
            Verdict::Degraded,
            format!("last DR drill is dated in the future ({last_drill_at}); it met {figures}"),
        )
        .with_action(
            "check the clock (timedatectl; NTP) of the host that recorded it, then run a DR drill",
        )
    } else if f.recency == Some(Recency::TooOld) {
        Section::new(
            SectionId::DrDrill,
            Verdict::Degraded,
            format!(
                "last DR drill is {} old, more than {}; it met {figures}",
                human_secs(age as f64),
                freshness.dr_drill
            ),
        )
        .with_action(record_action(SectionId::DrDrill))
    } else {
        Section::new(
            SectionId::DrDrill,
            Verdict::Ok,
            format!("DR drill \"{scenario}\" met its targets: {figures}"),
        )
    }
}
