//! `backup.status`, `restore_drill.status` and `dr_drill.status` as typed,
//! validated records (written by [`crate::evidence`]): each is a serde
//! struct written and read by the [`record`] format, one layout per file.
//!
//! The keys are those ssot has always written: a backup's fields under a
//! prefix (`last_at`, `last_complete_artifact`: [prefixed fields](record)),
//! the recent backups as `recent.N_at` ([`record::joined`]), a drill's
//! verified artifacts as comma lists.

use chrono::{DateTime, Utc};
use serde::{de, Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};
use crate::evidence::{
    duration_of, no_breaks, validate_backup, BackupEvidence, BackupResult, DrDrillEvidence,
    DrOutcome, RestoreDrillEvidence,
};
use crate::statefile::{record, StateFile};

/// Reads one of `choices` (`"x" is not one of a, b, c` otherwise), as its index.
fn choice<'de, D: Deserializer<'de>>(
    d: D,
    choices: &[&str],
) -> std::result::Result<usize, D::Error> {
    let v = <&str>::deserialize(d)?;
    choices
        .iter()
        .position(|c| *c == v)
        .ok_or_else(|| de::Error::custom(format!("\"{v}\" is not one of {}", choices.join(", "))))
}

/// `yes`, `no` or `unknown` (`None`), always written.
mod yes_no_unknown {
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<bool>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match v {
            Some(true) => "yes",
            Some(false) => "no",
            None => "unknown",
        })
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        super::choice(d, &["yes", "no", "unknown"]).map(|i| [Some(true), Some(false), None][i])
    }
}

/// `pass` (true) or `fail` (false), if present.
mod pass_fail {
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<bool>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(p) => s.serialize_str(if *p { "pass" } else { "fail" }),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        super::choice(d, &["pass", "fail"]).map(|i| Some(i == 0))
    }
}

/// A [`BackupResult`] by its name: `complete`, `partial` or `failed`.
mod backup_result {
    use serde::{Deserializer, Serializer};

    use crate::evidence::BackupResult;

    pub fn serialize<S: Serializer>(v: &Option<BackupResult>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(r) => s.serialize_str(r.as_str()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<BackupResult>, D::Error> {
        const RESULTS: [BackupResult; 3] = [
            BackupResult::Complete,
            BackupResult::Partial,
            BackupResult::Failed,
        ];
        super::choice(d, &RESULTS.map(BackupResult::as_str)).map(|i| Some(RESULTS[i]))
    }
}

fn dump() -> String {
    "dump".into()
}

/// One backup as recorded under a prefix (`last_`, `last_complete_`) or
/// as a recent item (`recent.N_`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupAttempt {
    /// `<p>at`: when it finished.
    #[serde(with = "record::timestamp")]
    pub at: DateTime<Utc>,
    /// `<p>artifact`.
    pub artifact: String,
    /// `<p>location`.
    pub location: String,
    /// `<p>kind` (`dump` when absent).
    #[serde(default = "dump")]
    pub kind: String,
    /// `<p>separate_from_pgdata`: `yes`, `no` or `unknown` (`None`).
    #[serde(default, with = "yes_no_unknown")]
    pub separate_from_pgdata: Option<bool>,
    /// `<p>size_bytes`.
    #[serde(default)]
    pub size_bytes: Option<u64>,
    /// `<p>duration_seconds`.
    #[serde(default)]
    pub duration_seconds: Option<u64>,
    /// `<p>sha256`: the checksum measured when it was recorded.
    #[serde(default)]
    pub sha256: Option<String>,
}

impl BackupAttempt {
    /// The attempt `e` records.
    fn of(e: &BackupEvidence) -> Result<Self> {
        Ok(BackupAttempt {
            at: e.finished_at,
            artifact: e.artifact.clone(),
            location: e.location.clone(),
            kind: e.kind.to_string(),
            separate_from_pgdata: e.separate_from_pgdata,
            size_bytes: e.size_bytes,
            duration_seconds: duration_of(e.started_at, e.finished_at)?
                .and_then(|s| u64::try_from(s).ok()),
            sha256: e.sha256.clone(),
        })
    }
}

/// `backup.status`: the latest attempt and the newest complete backup,
/// written and read by the [`record`] format. A field that is `None` (an
/// empty `recent`) is not written: recording a failed backup leaves the
/// last complete one and the recent list as they are.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BackupStatusRecord {
    /// `last_*`: the latest attempt, whatever its result.
    #[serde(rename = "last_", default, skip_serializing_if = "Option::is_none")]
    pub last: Option<BackupAttempt>,
    /// `last_complete_*`: the newest complete backup.
    #[serde(
        rename = "last_complete_",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub last_complete: Option<BackupAttempt>,
    /// `recent.N_*`: the most recent complete backups, newest first (at
    /// most [`RECENT_KEPT`]): what `verify` re-checks and a drill may name.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        with = "record::joined"
    )]
    pub recent: Vec<BackupAttempt>,
    /// `last_result`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "backup_result"
    )]
    pub last_result: Option<BackupResult>,
    /// `last_recorded_by`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_recorded_by: Option<String>,
    /// `checked_at`: when the latest attempt was recorded.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "record::opt_timestamp"
    )]
    pub checked_at: Option<DateTime<Utc>>,
}

/// How many complete backups `backup.status` remembers.
pub const RECENT_KEPT: usize = 16;

impl BackupStatusRecord {
    /// Reads the record; every problem names file, line and key.
    pub fn from_file(f: &StateFile) -> Result<Self> {
        record::read(f)
    }
}

/// What a drill recorded of itself (`last_*`): the fields of
/// [`RestoreDrillRecord`] every drill replaces.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DrillRecorded {
    /// `last_drill_at`.
    #[serde(default, with = "record::opt_timestamp")]
    pub last_drill_at: Option<DateTime<Utc>>,
    /// `last_result`: `pass` (true) or `fail` (false).
    #[serde(rename = "last_result", default, with = "pass_fail")]
    pub last_passed: Option<bool>,
    /// `last_artifact`.
    #[serde(default)]
    pub last_artifact: Option<String>,
    /// `last_recorded_by`.
    #[serde(default)]
    pub last_recorded_by: Option<String>,
    /// `last_notes`.
    #[serde(default)]
    pub last_notes: Option<String>,
    /// `last_duration_seconds`.
    #[serde(default)]
    pub last_duration_seconds: Option<u64>,
}

/// The last passed drill (`last_pass_at`, `last_pass_artifact`).
#[derive(Serialize, Deserialize)]
struct Pass {
    #[serde(with = "record::timestamp")]
    at: DateTime<Utc>,
    artifact: String,
}

mod last_pass {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Pass;

    pub fn serialize<S: Serializer>(
        v: &Option<(DateTime<Utc>, String)>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        v.as_ref()
            .map(|(at, artifact)| Pass {
                at: *at,
                artifact: artifact.clone(),
            })
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<(DateTime<Utc>, String)>, D::Error> {
        Ok(Option::<Pass>::deserialize(d)?.map(|p| (p.at, p.artifact)))
    }
}

/// `verified_artifacts`: comma separated, empty names dropped.
mod artifacts {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[String], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.join(","))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        Ok(Option::<&str>::deserialize(d)?
            .map(|v| {
                v.split(',')
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default())
    }
}

/// `verified_until`: one time per artifact, comma separated; an empty or
/// unreadable one is `None` (drills recorded before expiries existed).
mod until_list {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[Option<DateTime<Utc>>], s: S) -> Result<S::Ok, S::Error> {
        let items: Vec<String> = v
            .iter()
            .map(|u| u.map(crate::time::timestamp).unwrap_or_default())
            .collect();
        s.serialize_str(&items.join(","))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<Option<DateTime<Utc>>>, D::Error> {
        Ok(Option::<&str>::deserialize(d)?
            .map(|v| {
                v.split(',')
                    .map(|t| crate::time::parse_timestamp(t).ok())
                    .collect()
            })
            .unwrap_or_default())
    }
}

/// `verified_sha256`: one SHA-256 per artifact, comma separated; anything
/// but 64 hex digits is `None`.
mod sha_list {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[Option<String>], s: S) -> Result<S::Ok, S::Error> {
        let items: Vec<&str> = v.iter().map(|h| h.as_deref().unwrap_or("")).collect();
        s.serialize_str(&items.join(","))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Option<String>>, D::Error> {
        Ok(Option::<&str>::deserialize(d)?
            .map(|v| {
                v.split(',')
                    .map(|h| {
                        (h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
                            .then(|| h.to_string())
                    })
                    .collect()
            })
            .unwrap_or_default())
    }
}

/// `restore_drill.status`: the latest drill and the last one that passed,
/// written and read by the [`record`] format. The latest drill's own keys
/// are [`DrillRecorded`] (inlined: read through `Deref`); a drill that
/// failed leaves `last_pass_*` as it was.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RestoreDrillRecord {
    /// The latest drill (`last_drill_at` ... `last_duration_seconds`).
    #[serde(rename = "", default)]
    pub drill: DrillRecorded,
    /// `last_pass_at` and `last_pass_artifact`.
    #[serde(
        rename = "last_pass_",
        default,
        skip_serializing_if = "Option::is_none",
        with = "last_pass"
    )]
    pub last_pass: Option<(DateTime<Utc>, String)>,
    /// `verified_artifacts`, newest first.
    #[serde(default, with = "artifacts")]
    pub verified_artifacts: Vec<String>,
    /// `verified_until`: for each of `verified_artifacts`, until when it
    /// counts as verified (`None` for drills recorded before expiries existed).
    #[serde(default, with = "until_list")]
    pub verified_until: Vec<Option<DateTime<Utc>>>,
    /// `verified_sha256`: for each of `verified_artifacts`, the SHA-256 of
    /// the content the drill restored (`None`: not recorded, or remote).
    #[serde(default, with = "sha_list")]
    pub verified_sha256: Vec<Option<String>>,
    /// `checked_at`: when the latest drill was recorded.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "record::opt_timestamp"
    )]
    pub checked_at: Option<DateTime<Utc>>,
}

impl std::ops::Deref for RestoreDrillRecord {
    type Target = DrillRecorded;
    fn deref(&self) -> &DrillRecorded {
        &self.drill
    }
}

impl RestoreDrillRecord {
    /// Reads the record; every problem names file, line and key.
    pub fn from_file(f: &StateFile) -> Result<Self> {
        let r: RestoreDrillRecord = record::read(f)?;
        r.validate(f)?;
        Ok(r)
    }

    /// One entry per backup: a list naming one twice is not one ssot wrote.
    /// `f` gives the line to name.
    pub fn validate(&self, f: &StateFile) -> Result<()> {
        let mut seen = std::collections::BTreeSet::new();
        if let Some(dup) = self
            .verified_artifacts
            .iter()
            .find(|a| !seen.insert(a.as_str()))
        {
            let line = f.entry("verified_artifacts").map_or(0, |(l, _)| l);
            return Err(f.invalid("verified_artifacts", line, format!("names {dup} twice")));
        }
        Ok(())
    }
}

fn unknown_scenario() -> String {
    "?".into()
}

/// `dr_drill.status`: the latest DR drill with its measured RTO and RPO,
/// written and read by the [`record`] format. The recorded RTO must equal
/// `restored_at − t0` when both times are there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrDrillRecord {
    /// `last_drill_at`.
    #[serde(with = "record::timestamp")]
    pub last_drill_at: DateTime<Utc>,
    /// `scenario` (`?` when absent).
    #[serde(default = "unknown_scenario")]
    pub scenario: String,
    /// `t0`: when the incident started.
    #[serde(default, with = "record::opt_timestamp")]
    pub t0: Option<DateTime<Utc>>,
    /// `restored_at`.
    #[serde(default, with = "record::opt_timestamp")]
    pub restored_at: Option<DateTime<Utc>>,
    /// `newest_data_before`.
    #[serde(default, with = "record::opt_timestamp")]
    pub newest_data_before: Option<DateTime<Utc>>,
    /// `newest_data_after`.
    #[serde(default, with = "record::opt_timestamp")]
    pub newest_data_after: Option<DateTime<Utc>>,
    /// `rto_seconds`: `restored_at − t0`.
    #[serde(default)]
    pub rto_seconds: Option<u64>,
    /// `rpo_seconds`: `newest_data_before − newest_data_after`, at least 0.
    #[serde(default)]
    pub rpo_seconds: Option<u64>,
    /// `rto_target_seconds`.
    #[serde(default)]
    pub rto_target_seconds: Option<u64>,
    /// `rpo_target_seconds`.
    #[serde(default)]
    pub rpo_target_seconds: Option<u64>,
    /// `result`: `pass` (true) or `fail` (false).
    #[serde(rename = "result", default, with = "pass_fail")]
    pub passed: Option<bool>,
    /// `recorded_by`.
    #[serde(default)]
    pub recorded_by: Option<String>,
    /// `checked_at`.
    #[serde(default, with = "record::opt_timestamp")]
    pub checked_at: Option<DateTime<Utc>>,
}

impl DrDrillRecord {
    /// Reads the record; every problem names file, line and key.
    pub fn from_file(f: &StateFile) -> Result<Self> {
        let r: DrDrillRecord = record::read(f)?;
        r.validate(f)?;
        Ok(r)
    }

    /// The recorded RTO must equal `restored_at − t0` when both times are
    /// there. `f` gives the line to name.
    pub fn validate(&self, f: &StateFile) -> Result<()> {
        if let (Some(t0), Some(restored), Some(rto), Some((line, _))) = (
            self.t0,
            self.restored_at,
            self.rto_seconds,
            f.entry("rto_seconds"),
        ) {
            let measured = (restored - t0).num_seconds();
            if measured != rto as i64 {
                return Err(f.invalid(
                    "rto_seconds",
                    line,
                    format!("says {rto}, but restored_at − t0 is {measured} seconds"),
                ));
            }
        }
        Ok(())
    }

    /// The record of a DR drill `e` with its outcome `o`, recorded at `now`.
    pub fn of(e: &DrDrillEvidence, o: &DrOutcome, now: DateTime<Utc>) -> Result<Self> {
        let secs = |what: &str, v: i64| {
            u64::try_from(v).map_err(|_| Error::EvidenceRefused(format!("{what} {v} is negative")))
        };
        Ok(DrDrillRecord {
            last_drill_at: e.restored_at,
            scenario: e.scenario.clone(),
            t0: Some(e.t0),
            restored_at: Some(e.restored_at),
            newest_data_before: Some(e.newest_data_before),
            newest_data_after: Some(e.newest_data_after),
            rto_seconds: Some(secs("rto_seconds", o.rto_seconds)?),
            rpo_seconds: Some(secs("rpo_seconds", o.rpo_seconds)?),
            rto_target_seconds: Some(secs("rto_target_seconds", o.rto_target_seconds)?),
            rpo_target_seconds: Some(secs("rpo_target_seconds", o.rpo_target_seconds)?),
            passed: Some(o.passed),
            recorded_by: Some(e.recorded_by.clone()),
            checked_at: Some(now),
        })
    }
}

/// Records a backup into `backup.status` (`last_*` for the latest attempt,
/// `last_complete_*` and `recent.1_*` for a complete one), after
/// [`validate_backup`].
pub fn write_backup(file: &mut StateFile, e: &BackupEvidence, now: DateTime<Utc>) -> Result<()> {
    validate_backup(e)?;
    let attempt = BackupAttempt::of(e)?;
    let complete = e.result == BackupResult::Complete;
    let mut rec = BackupStatusRecord {
        last: Some(attempt.clone()),
        last_complete: complete.then(|| attempt.clone()),
        recent: Vec::new(),
        last_result: Some(e.result),
        last_recorded_by: Some(e.recorded_by.clone()),
        checked_at: Some(now),
    };
    if complete {
        // The recent list as the file keeps it once this attempt is in.
        let mut probe = file.clone();
        record::write(&mut probe, &rec)?;
        let mut recent = BackupStatusRecord::from_file(&probe)
            .map(|r| r.recent)
            .unwrap_or_default();
        recent.retain(|b| !(b.artifact == e.artifact && b.location == e.location));
        recent.insert(0, attempt);
        recent.truncate(RECENT_KEPT);
        rec.recent = recent;
    }
    record::write(file, &rec)
}

/// Rewrites the `recent.N_*` keys of `backup.status`.
pub fn write_recent(file: &mut StateFile, recent: &[BackupAttempt]) -> Result<()> {
    file.remove_prefix("recent.");
    record::write(
        file,
        &BackupStatusRecord {
            recent: recent.to_vec(),
            ..BackupStatusRecord::default()
        },
    )
}

/// How many verified artifacts `restore_drill.status` remembers.
pub const VERIFIED_KEPT: usize = 20;

/// Records a restore drill into `restore_drill.status`.
pub fn write_restore_drill(
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
    let drill = DrillRecorded {
        last_drill_at: Some(e.finished_at),
        last_passed: Some(e.passed),
        last_artifact: Some(e.artifact.clone()),
        last_recorded_by: Some(e.recorded_by.clone()),
        last_notes: Some(e.notes.clone()),
        last_duration_seconds: duration_of(e.started_at, e.finished_at)?
            .and_then(|s| u64::try_from(s).ok()),
    };
    // Every drill replaces what an earlier one said of its artifact: a
    // failed drill takes a backup off the verified list (and so its
    // `.verified` marker stops counting). The list is read as the file
    // keeps it once this drill's own keys are in.
    let mut probe = file.clone();
    record::write(&mut probe, &drill)?;
    let mut verified: Vec<(String, Option<DateTime<Utc>>, Option<String>)> =
        RestoreDrillRecord::from_file(&probe)
            .map(|r| {
                r.verified_artifacts
                    .into_iter()
                    .zip(r.verified_until.into_iter().chain(std::iter::repeat(None)))
                    .zip(r.verified_sha256.into_iter().chain(std::iter::repeat(None)))
                    .filter(|((a, _), _)| *a != e.artifact)
                    .map(|((a, u), h)| (a, u, h))
                    .collect()
            })
            .unwrap_or_default();
    if e.passed {
        verified.insert(0, (e.artifact.clone(), e.verified_until, e.sha256.clone()));
        verified.truncate(VERIFIED_KEPT);
    }
    let rec = RestoreDrillRecord {
        drill,
        last_pass: e.passed.then(|| (e.finished_at, e.artifact.clone())),
        verified_artifacts: verified.iter().map(|v| v.0.clone()).collect(),
        verified_until: verified.iter().map(|v| v.1).collect(),
        verified_sha256: verified.iter().map(|v| v.2.clone()).collect(),
        checked_at: Some(now),
    };
    record::write(file, &rec)
}

/// `verify.status`: what the last `ssot verify` found. Written only (no
/// gate reads it): how many were checked, and each that failed.
#[derive(Debug, Serialize)]
struct VerifyStatusRecord<'a> {
    /// Checked (not `not_checked`).
    checked: usize,
    /// Whole.
    ok: usize,
    /// Not checked (a remote location).
    not_checked: usize,
    /// Failed: how many.
    failed: usize,
    /// Failed: each (`failed.<i>.artifact`, `failed.<i>.problem`).
    #[serde(rename = "failed")]
    failures: Vec<VerifyFailure<'a>>,
    /// `pass` or `fail`.
    result: &'static str,
    /// When.
    #[serde(serialize_with = "record::timestamp::serialize")]
    checked_at: DateTime<Utc>,
}

/// One artifact `ssot verify` found broken.
#[derive(Debug, Serialize)]
struct VerifyFailure<'a> {
    artifact: &'a str,
    problem: String,
}

/// Records what `ssot verify` found into `verify.status`: how many were
/// checked, and each that failed (`failed.<i>.artifact`, `failed.<i>.problem`).
pub fn write_verify(
    file: &mut StateFile,
    checks: &[crate::evidence::BackupCheck],
    now: DateTime<Utc>,
) -> Result<()> {
    let count = |r: &str| checks.iter().filter(|c| c.result == r).count();
    let failures: Vec<VerifyFailure<'_>> = checks
        .iter()
        .filter(|c| c.result == "failed")
        .map(|c| VerifyFailure {
            artifact: &c.artifact,
            problem: crate::evidence::sanitize_notes(c.problem.as_deref().unwrap_or("")),
        })
        .collect();
    let rec = VerifyStatusRecord {
        checked: checks.len() - count("not_checked"),
        ok: count("ok"),
        not_checked: count("not_checked"),
        failed: failures.len(),
        result: if failures.is_empty() { "pass" } else { "fail" },
        failures,
        checked_at: now,
    };
    record::write(file, &rec)
}

/// Records a DR drill into `dr_drill.status`.
pub fn write_dr_drill(
    file: &mut StateFile,
    e: &DrDrillEvidence,
    o: &DrOutcome,
    now: DateTime<Utc>,
) -> Result<()> {
    no_breaks("scenario", &e.scenario)?;
    no_breaks("recorded_by", &e.recorded_by)?;
    record::write(file, &DrDrillRecord::of(e, o, now)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::BackupKind;
    use crate::time::timestamp;

    fn t(s: &str) -> DateTime<Utc> {
        crate::time::parse_timestamp(s).unwrap()
    }

    /// The hand-written writer `verify.status` had before it was a record,
    /// kept here to pin that the record writes the same text.
    fn old_write_verify(
        file: &mut StateFile,
        checks: &[crate::evidence::BackupCheck],
        now: DateTime<Utc>,
    ) {
        file.remove_prefix("failed.");
        let failed: Vec<_> = checks.iter().filter(|c| c.result == "failed").collect();
        let n = |r: &str| checks.iter().filter(|c| c.result == r).count();
        file.set("checked", checks.len() - n("not_checked"))
            .unwrap();
        file.set("ok", n("ok")).unwrap();
        file.set("not_checked", n("not_checked")).unwrap();
        file.set("failed", failed.len()).unwrap();
        for (i, c) in failed.iter().enumerate() {
            file.set(&format!("failed.{}.artifact", i + 1), &c.artifact)
                .unwrap();
            file.set(
                &format!("failed.{}.problem", i + 1),
                crate::evidence::sanitize_notes(c.problem.as_deref().unwrap_or("")),
            )
            .unwrap();
        }
        file.set("result", if failed.is_empty() { "pass" } else { "fail" })
            .unwrap();
        file.set("checked_at", timestamp(now)).unwrap();
    }

    #[test]
    fn verify_status_is_written_as_the_hand_written_writer_wrote_it() {
        use crate::evidence::BackupCheck;
        let check = |artifact: &str, result: &'static str, problem: Option<&str>| BackupCheck {
            artifact: artifact.into(),
            location: format!("/b/{artifact}"),
            result,
            problem: problem.map(String::from),
        };
        let runs = [
            vec![
                check(
                    "a",
                    "failed",
                    Some("changed since it was recorded\nsecond line"),
                ),
                check("b", "ok", None),
                check("c", "failed", None),
                check("d", "not_checked", None),
            ],
            vec![check("a", "failed", Some("gone"))],
            vec![check("b", "ok", None)],
            vec![],
        ];
        let (mut old, mut new) = (
            StateFile::parse(b"# kept\nowner=ops\n", "verify.status").unwrap(),
            StateFile::parse(b"# kept\nowner=ops\n", "verify.status").unwrap(),
        );
        for (i, checks) in runs.iter().enumerate() {
            let now = t("2026-02-05T03:00:00Z") + chrono::Duration::hours(i as i64);
            old_write_verify(&mut old, checks, now);
            write_verify(&mut new, checks, now).unwrap();
            assert_eq!(new.render(), old.render(), "run {i}");
        }
        assert!(
            new.render().contains("failed=0\nresult=pass\n"),
            "{}",
            new.render()
        );
        assert!(!new.render().contains("failed.1"), "{}", new.render());
    }

    fn backup(artifact: &str, result: BackupResult, sha: Option<&str>) -> BackupEvidence {
        BackupEvidence {
            finished_at: t("2026-02-05T03:10:00Z"),
            started_at: Some(t("2026-02-05T03:00:00Z")),
            artifact: artifact.into(),
            location: "/b".into(),
            result,
            size_bytes: sha.map(|_| 4096),
            kind: BackupKind::Dump,
            recorded_by: "ops".into(),
            separate_from_pgdata: sha.map(|_| true),
            sha256: sha.map(String::from),
            format: None,
            warnings: Vec::new(),
        }
    }

    fn drill(artifact: &str, passed: bool, sha: Option<&str>) -> RestoreDrillEvidence {
        RestoreDrillEvidence {
            finished_at: t("2026-02-05T05:00:00Z"),
            started_at: Some(t("2026-02-05T04:59:00Z")),
            artifact: artifact.into(),
            passed,
            recorded_by: "ops".into(),
            notes: "ok".into(),
            verified_until: sha.map(|_| t("2026-03-05T05:00:00Z")),
            sha256: sha.map(String::from),
        }
    }

    fn now() -> DateTime<Utc> {
        t("2026-02-05T04:00:00Z")
    }

    /// What ssot 0.x wrote for a complete backup: the same keys and values;
    /// a fresh file now has each `*_sha256` right after its backup's other
    /// keys (0.x wrote both after the two backups).
    const BACKUP_COMPLETE: &str = "# kept\nowner=alex\nlast_at=2026-02-05T03:10:00Z\nlast_artifact=a.sql\nlast_location=/b\nlast_kind=dump\nlast_separate_from_pgdata=yes\nlast_size_bytes=4096\nlast_duration_seconds=600\nlast_sha256=ab\nlast_complete_at=2026-02-05T03:10:00Z\nlast_complete_artifact=a.sql\nlast_complete_location=/b\nlast_complete_kind=dump\nlast_complete_separate_from_pgdata=yes\nlast_complete_size_bytes=4096\nlast_complete_duration_seconds=600\nlast_complete_sha256=ab\nrecent.1_at=2026-02-05T03:10:00Z\nrecent.1_artifact=a.sql\nrecent.1_location=/b\nrecent.1_kind=dump\nrecent.1_separate_from_pgdata=yes\nrecent.1_size_bytes=4096\nrecent.1_duration_seconds=600\nrecent.1_sha256=ab\nlast_result=complete\nlast_recorded_by=ops\nchecked_at=2026-02-05T04:00:00Z\n";

    #[test]
    fn backups_are_recorded_in_the_old_layout() {
        let mut f = StateFile::parse(b"# kept\nowner=alex\n", "backup.status").unwrap();
        write_backup(
            &mut f,
            &backup("a.sql", BackupResult::Complete, Some("ab")),
            now(),
        )
        .unwrap();
        assert_eq!(f.render(), BACKUP_COMPLETE);
        // A failed attempt replaces last_* only (byte for byte what 0.x wrote).
        write_backup(&mut f, &backup("b.sql", BackupResult::Failed, None), now()).unwrap();
        assert_eq!(f.render(), "# kept\nowner=alex\nlast_at=2026-02-05T03:10:00Z\nlast_artifact=b.sql\nlast_location=/b\nlast_kind=dump\nlast_separate_from_pgdata=unknown\nlast_duration_seconds=600\nlast_complete_at=2026-02-05T03:10:00Z\nlast_complete_artifact=a.sql\nlast_complete_location=/b\nlast_complete_kind=dump\nlast_complete_separate_from_pgdata=yes\nlast_complete_size_bytes=4096\nlast_complete_duration_seconds=600\nlast_complete_sha256=ab\nrecent.1_at=2026-02-05T03:10:00Z\nrecent.1_artifact=a.sql\nrecent.1_location=/b\nrecent.1_kind=dump\nrecent.1_separate_from_pgdata=yes\nrecent.1_size_bytes=4096\nrecent.1_duration_seconds=600\nrecent.1_sha256=ab\nlast_result=failed\nlast_recorded_by=ops\nchecked_at=2026-02-05T04:00:00Z\n");
        write_backup(
            &mut f,
            &backup("c.sql", BackupResult::Complete, None),
            now(),
        )
        .unwrap();
        assert_eq!(f.render(), "# kept\nowner=alex\nlast_at=2026-02-05T03:10:00Z\nlast_artifact=c.sql\nlast_location=/b\nlast_kind=dump\nlast_separate_from_pgdata=unknown\nlast_duration_seconds=600\nlast_complete_at=2026-02-05T03:10:00Z\nlast_complete_artifact=c.sql\nlast_complete_location=/b\nlast_complete_kind=dump\nlast_complete_separate_from_pgdata=unknown\nlast_complete_duration_seconds=600\nlast_result=complete\nlast_recorded_by=ops\nchecked_at=2026-02-05T04:00:00Z\nrecent.1_at=2026-02-05T03:10:00Z\nrecent.1_artifact=c.sql\nrecent.1_location=/b\nrecent.1_kind=dump\nrecent.1_separate_from_pgdata=unknown\nrecent.1_duration_seconds=600\nrecent.2_at=2026-02-05T03:10:00Z\nrecent.2_artifact=a.sql\nrecent.2_location=/b\nrecent.2_kind=dump\nrecent.2_separate_from_pgdata=yes\nrecent.2_size_bytes=4096\nrecent.2_duration_seconds=600\nrecent.2_sha256=ab\n");
        let rec = BackupStatusRecord::from_file(&f).unwrap();
        assert_eq!(rec.recent.len(), 2);
        assert_eq!(rec.recent[1].sha256.as_deref(), Some("ab"));
        assert_eq!(rec.last_complete.as_ref().unwrap().artifact, "c.sql");
        // Retention drops one: the list is renumbered, the rest stays.
        write_recent(&mut f, &rec.recent[1..]).unwrap();
        let again = BackupStatusRecord::from_file(&f).unwrap();
        assert_eq!(again.recent, rec.recent[1..]);
        assert_eq!(again.last, rec.last);
        write_recent(&mut f, &[]).unwrap();
        assert!(!f.render().contains("recent."), "{}", f.render());
        let mut f = StateFile::new("backup.status");
        write_backup(&mut f, &backup("b.sql", BackupResult::Partial, None), now()).unwrap();
        assert_eq!(f.render(), "last_at=2026-02-05T03:10:00Z\nlast_artifact=b.sql\nlast_location=/b\nlast_kind=dump\nlast_separate_from_pgdata=unknown\nlast_duration_seconds=600\nlast_result=partial\nlast_recorded_by=ops\nchecked_at=2026-02-05T04:00:00Z\n");
    }

    /// A literal file in the layout 0.x wrote (both checksums after both
    /// backups) reads to the same record as the one written today.
    #[test]
    fn a_literal_old_backup_status_reads_to_the_same_record() {
        let old = "# kept\nowner=alex\nlast_at=2026-02-05T03:10:00Z\nlast_artifact=a.sql\nlast_location=/b\nlast_kind=dump\nlast_separate_from_pgdata=yes\nlast_size_bytes=4096\nlast_duration_seconds=600\nlast_complete_at=2026-02-05T03:10:00Z\nlast_complete_artifact=a.sql\nlast_complete_location=/b\nlast_complete_kind=dump\nlast_complete_separate_from_pgdata=yes\nlast_complete_size_bytes=4096\nlast_complete_duration_seconds=600\nlast_sha256=ab\nlast_complete_sha256=ab\nrecent.1_at=2026-02-05T03:10:00Z\nrecent.1_artifact=a.sql\nrecent.1_location=/b\nrecent.1_kind=dump\nrecent.1_separate_from_pgdata=yes\nrecent.1_size_bytes=4096\nrecent.1_duration_seconds=600\nrecent.1_sha256=ab\nlast_result=complete\nlast_recorded_by=ops\nchecked_at=2026-02-05T04:00:00Z\n";
        let f = StateFile::parse(old.as_bytes(), "backup.status").unwrap();
        let rec = BackupStatusRecord::from_file(&f).unwrap();
        let new = StateFile::parse(BACKUP_COMPLETE.as_bytes(), "backup.status").unwrap();
        assert_eq!(rec, BackupStatusRecord::from_file(&new).unwrap());
        let b = rec.last_complete.as_ref().unwrap();
        assert_eq!(
            (
                b.at,
                b.artifact.as_str(),
                b.separate_from_pgdata,
                b.size_bytes
            ),
            (t("2026-02-05T03:10:00Z"), "a.sql", Some(true), Some(4096))
        );
        assert_eq!(rec.last_result, Some(BackupResult::Complete));
        // Rewriting it keeps every line (the recent list, a family, moves
        // to the end, as 0.x's rewrite of it did) and reads the same.
        let mut again = f.clone();
        record::write(&mut again, &rec).unwrap();
        let sorted = |t: &str| {
            let mut l: Vec<String> = t.lines().map(String::from).collect();
            l.sort();
            l
        };
        assert_eq!(sorted(&again.render()), sorted(old));
        assert_eq!(BackupStatusRecord::from_file(&again).unwrap(), rec);
        // The seed's minimal file: no kind (a dump), no separation (unknown).
        let seed = "last_complete_at=2026-02-05T03:00:00Z\nlast_complete_artifact=d\nlast_complete_location=/b\n";
        let rec = BackupStatusRecord::from_file(
            &StateFile::parse(seed.as_bytes(), "backup.status").unwrap(),
        )
        .unwrap();
        let b = rec.last_complete.unwrap();
        assert_eq!(
            (b.kind.as_str(), b.separate_from_pgdata, rec.last),
            ("dump", None, None)
        );
    }

    #[test]
    fn backup_status_errors_name_file_line_and_key() {
        let cases: &[(&str, &str)] = &[
            ("last_complete_at=2026-02-05T03:00:00Z\nlast_complete_location=/b\n", "backup.status: missing key \"last_complete_artifact\""),
            ("last_at=2026-02-05T03:00:00Z\nlast_artifact=d\n", "backup.status: missing key \"last_location\""),
            ("last_at=yesterday\nlast_artifact=d\nlast_location=/b\n", "backup.status:1: key \"last_at\": \"yesterday\" is not"),
            ("last_complete_at=2026-02-05T03:00:00Z\nlast_complete_artifact=d\nlast_complete_location=/b\nlast_complete_size_bytes=lots\n", "backup.status:4: key \"last_complete_size_bytes\": invalid value \"lots\""),
            ("last_complete_at=2026-02-05T03:00:00Z\nlast_complete_artifact=d\nlast_complete_location=/b\nlast_complete_separate_from_pgdata=maybe\n", "backup.status:4: key \"last_complete_separate_from_pgdata\": \"maybe\" is not one of yes, no, unknown"),
            ("last_result=ok\n", "backup.status:1: key \"last_result\": \"ok\" is not one of complete, partial, failed"),
            ("recent.1_at=2026-02-05T03:00:00Z\nrecent.1_location=/b\n", "backup.status: missing key \"recent.1_artifact\""),
            ("recent.1_at=2026-02-05T03:00:00Z\nrecent.1_artifact=d\nrecent.1_location=/b\nrecent.1_duration_seconds=-1\n", "backup.status:4: key \"recent.1_duration_seconds\": invalid value \"-1\""),
            ("recent.2_at=2026-02-05T03:00:00Z\n", "backup.status:1: key \"recent.2_\": recent.1 is missing before it"),
            ("checked_at=now\n", "backup.status:1: key \"checked_at\": \"now\" is not"),
        ];
        let mut wrong = Vec::new();
        for (text, want) in cases {
            let f = StateFile::parse(text.as_bytes(), "backup.status").unwrap();
            match BackupStatusRecord::from_file(&f) {
                Err(e) if e.to_string().starts_with(want) => {}
                other => wrong.push(format!("{text:?}: {other:?}, want {want:?}")),
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn restore_drills_are_recorded_byte_for_byte_as_before() {
        let sha = "a".repeat(64);
        let mut f = StateFile::parse(b"# kept\nowner=alex\n", "restore_drill.status").unwrap();
        write_restore_drill(&mut f, &drill("a.sql", true, Some(&sha)), now()).unwrap();
        assert_eq!(f.render(), format!("# kept\nowner=alex\nlast_drill_at=2026-02-05T05:00:00Z\nlast_result=pass\nlast_artifact=a.sql\nlast_recorded_by=ops\nlast_notes=ok\nlast_duration_seconds=60\nlast_pass_at=2026-02-05T05:00:00Z\nlast_pass_artifact=a.sql\nverified_artifacts=a.sql\nverified_until=2026-03-05T05:00:00Z\nverified_sha256={sha}\nchecked_at=2026-02-05T04:00:00Z\n"));
        write_restore_drill(&mut f, &drill("b.sql", true, None), now()).unwrap();
        assert_eq!(f.render(), format!("# kept\nowner=alex\nlast_drill_at=2026-02-05T05:00:00Z\nlast_result=pass\nlast_artifact=b.sql\nlast_recorded_by=ops\nlast_notes=ok\nlast_duration_seconds=60\nlast_pass_at=2026-02-05T05:00:00Z\nlast_pass_artifact=b.sql\nverified_artifacts=b.sql,a.sql\nverified_until=,2026-03-05T05:00:00Z\nverified_sha256=,{sha}\nchecked_at=2026-02-05T04:00:00Z\n"));
        let rec = RestoreDrillRecord::from_file(&f).unwrap();
        assert_eq!(rec.verified_until, [None, Some(t("2026-03-05T05:00:00Z"))]);
        assert_eq!(rec.verified_sha256, [None, Some(sha.clone())]);
        assert_eq!(
            rec.last_pass,
            Some((t("2026-02-05T05:00:00Z"), "b.sql".into()))
        );
        write_restore_drill(&mut f, &drill("a.sql", false, None), now()).unwrap();
        assert_eq!(f.render(), "# kept\nowner=alex\nlast_drill_at=2026-02-05T05:00:00Z\nlast_result=fail\nlast_artifact=a.sql\nlast_recorded_by=ops\nlast_notes=ok\nlast_duration_seconds=60\nlast_pass_at=2026-02-05T05:00:00Z\nlast_pass_artifact=b.sql\nverified_artifacts=b.sql\nverified_until=\nverified_sha256=\nchecked_at=2026-02-05T04:00:00Z\n");
        let rec = RestoreDrillRecord::from_file(&f).unwrap();
        assert_eq!(
            (rec.last_passed, rec.last_artifact.as_deref()),
            (Some(false), Some("a.sql"))
        );
        let mut f = StateFile::new("restore_drill.status");
        write_restore_drill(&mut f, &drill("a.sql", false, None), now()).unwrap();
        assert_eq!(f.render(), "last_drill_at=2026-02-05T05:00:00Z\nlast_result=fail\nlast_artifact=a.sql\nlast_recorded_by=ops\nlast_notes=ok\nlast_duration_seconds=60\nverified_artifacts=\nverified_until=\nverified_sha256=\nchecked_at=2026-02-05T04:00:00Z\n");
        // A corrupt last_result does not cost the verified list: the drill
        // replaces it before the list is read.
        let mut f = StateFile::parse(
            b"last_result=maybe\nverified_artifacts=z.sql\n",
            "restore_drill.status",
        )
        .unwrap();
        write_restore_drill(&mut f, &drill("a.sql", true, None), now()).unwrap();
        assert_eq!(
            RestoreDrillRecord::from_file(&f)
                .unwrap()
                .verified_artifacts,
            ["a.sql", "z.sql"]
        );
    }

    #[test]
    fn restore_drill_errors_name_file_line_and_key() {
        let cases: &[(&str, &str)] = &[
            (
                "last_result=maybe\n",
                "restore_drill.status:1: key \"last_result\": \"maybe\" is not one of pass, fail",
            ),
            (
                "last_drill_at=x\n",
                "restore_drill.status:1: key \"last_drill_at\": \"x\" is not",
            ),
            (
                "last_pass_at=2026-02-05T05:00:00Z\n",
                "restore_drill.status: missing key \"last_pass_artifact\"",
            ),
            (
                "verified_artifacts=a,b,a\n",
                "restore_drill.status:1: key \"verified_artifacts\": names a twice",
            ),
            (
                "x=1\nlast_duration_seconds=soon\n",
                "restore_drill.status:2: key \"last_duration_seconds\": invalid value",
            ),
        ];
        for (text, want) in cases {
            let f = StateFile::parse(text.as_bytes(), "restore_drill.status").unwrap();
            let err = RestoreDrillRecord::from_file(&f).unwrap_err().to_string();
            assert!(err.starts_with(want), "{err:?} should start with {want:?}");
        }
        // Unreadable expiries and checksums are "not recorded", as before.
        let f = StateFile::parse(
            b"verified_artifacts=a,b\nverified_until=soon\nverified_sha256=xyz,\n",
            "restore_drill.status",
        )
        .unwrap();
        let r = RestoreDrillRecord::from_file(&f).unwrap();
        assert_eq!(
            (r.verified_until, r.verified_sha256),
            (vec![None], vec![None, None])
        );
    }

    fn dr() -> (DrDrillEvidence, DrOutcome) {
        let e = DrDrillEvidence {
            scenario: "loss".into(),
            t0: t("2026-01-20T10:00:00Z"),
            restored_at: t("2026-01-20T10:10:00Z"),
            newest_data_before: t("2026-01-20T09:59:00Z"),
            newest_data_after: t("2026-01-20T09:57:00Z"),
            recorded_by: "ops".into(),
        };
        let o = DrOutcome {
            rto_seconds: 600,
            rpo_seconds: 120,
            rto_target_seconds: 900,
            rpo_target_seconds: 300,
            passed: true,
        };
        (e, o)
    }

    #[test]
    fn dr_drills_are_recorded_byte_for_byte_as_before() {
        let (e, o) = dr();
        let mut f = StateFile::parse(b"# kept\nowner=alex\n", "dr_drill.status").unwrap();
        write_dr_drill(&mut f, &e, &o, now()).unwrap();
        assert_eq!(f.render(), "# kept\nowner=alex\nlast_drill_at=2026-01-20T10:10:00Z\nscenario=loss\nt0=2026-01-20T10:00:00Z\nrestored_at=2026-01-20T10:10:00Z\nnewest_data_before=2026-01-20T09:59:00Z\nnewest_data_after=2026-01-20T09:57:00Z\nrto_seconds=600\nrpo_seconds=120\nrto_target_seconds=900\nrpo_target_seconds=300\nresult=pass\nrecorded_by=ops\nchecked_at=2026-02-05T04:00:00Z\n");
        let rec = DrDrillRecord::from_file(&f).unwrap();
        assert_eq!(rec, DrDrillRecord::of(&e, &o, now()).unwrap());
        // The seed's minimal file.
        let f =
            StateFile::parse(b"last_drill_at=2026-01-20T10:10:00Z\n", "dr_drill.status").unwrap();
        let rec = DrDrillRecord::from_file(&f).unwrap();
        assert_eq!(
            (rec.scenario.as_str(), rec.rto_seconds, rec.passed),
            ("?", None, None)
        );
    }

    #[test]
    fn dr_drill_errors_name_file_line_and_key() {
        let base = "last_drill_at=2026-01-20T10:10:00Z\n";
        let cases: &[(&str, &str)] = &[
            ("scenario=x\n", "dr_drill.status: missing key \"last_drill_at\""),
            ("+t0=2026-01-20T10:00:00Z\nrestored_at=2026-01-20T10:10:00Z\nrto_seconds=60\n", "dr_drill.status:4: key \"rto_seconds\": says 60, but restored_at − t0 is 600 seconds"),
            ("+rto_seconds=-5\n", "dr_drill.status:2: key \"rto_seconds\": invalid value \"-5\""),
            ("+result=ok\n", "dr_drill.status:2: key \"result\": \"ok\" is not one of pass, fail"),
            ("+newest_data_after=then\n", "dr_drill.status:2: key \"newest_data_after\": \"then\" is not"),
        ];
        for (text, want) in cases {
            let text = match text.strip_prefix('+') {
                Some(rest) => format!("{base}{rest}"),
                None => text.to_string(),
            };
            let f = StateFile::parse(text.as_bytes(), "dr_drill.status").unwrap();
            let err = DrDrillRecord::from_file(&f).unwrap_err().to_string();
            assert!(err.starts_with(want), "{err:?} should start with {want:?}");
        }
    }
}
