//! `backup.status`, `restore_drill.status` and `dr_drill.status` as typed,
//! validated records (written by [`crate::evidence`]).

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::evidence::{
    duration_of, no_breaks, validate_backup, BackupEvidence, BackupResult, DrDrillEvidence,
    DrOutcome, RestoreDrillEvidence,
};
use crate::statefile::StateFile;
use crate::time::timestamp;

fn required<'a>(f: &'a StateFile, key: &str) -> Result<&'a str> {
    f.get(key).ok_or_else(|| Error::MissingKey {
        path: f.path().into(),
        key: key.into(),
    })
}

/// One backup as recorded under a prefix (`last`, `last_complete`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupAttempt {
    /// `<p>_at`: when it finished.
    pub at: DateTime<Utc>,
    /// `<p>_artifact`.
    pub artifact: String,
    /// `<p>_location`.
    pub location: String,
    /// `<p>_kind`.
    pub kind: String,
    /// `<p>_separate_from_pgdata`: `yes`, `no` or `unknown` (`None`).
    pub separate_from_pgdata: Option<bool>,
    /// `<p>_size_bytes`.
    pub size_bytes: Option<u64>,
    /// `<p>_duration_seconds`.
    pub duration_seconds: Option<u64>,
    /// `<p>_sha256`: the checksum measured when it was recorded.
    pub sha256: Option<String>,
}

impl BackupAttempt {
    fn read(f: &StateFile, p: &str) -> Result<Option<Self>> {
        let Some(at) = f.parse_time(&format!("{p}_at"))? else {
            return Ok(None);
        };
        let sep = f.parse_choice(
            &format!("{p}_separate_from_pgdata"),
            &["yes", "no", "unknown"],
        )?;
        Ok(Some(BackupAttempt {
            at,
            artifact: required(f, &format!("{p}_artifact"))?.to_string(),
            location: required(f, &format!("{p}_location"))?.to_string(),
            kind: f.get(&format!("{p}_kind")).unwrap_or("dump").to_string(),
            separate_from_pgdata: match sep {
                Some("yes") => Some(true),
                Some("no") => Some(false),
                _ => None,
            },
            size_bytes: f.parse_optional(&format!("{p}_size_bytes"))?,
            duration_seconds: f.parse_optional(&format!("{p}_duration_seconds"))?,
            sha256: f.get(&format!("{p}_sha256")).map(String::from),
        }))
    }
}

/// `backup.status`: the latest attempt and the newest complete backup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupStatusRecord {
    /// `last_*`: the latest attempt, whatever its result.
    pub last: Option<BackupAttempt>,
    /// `last_complete_*`: the newest complete backup.
    pub last_complete: Option<BackupAttempt>,
    /// `last_result`.
    pub last_result: Option<BackupResult>,
    /// `recent.<i>.*`: the most recent complete backups, newest first (at
    /// most [`RECENT_KEPT`]): what `verify` re-checks and a drill may name.
    pub recent: Vec<BackupAttempt>,
}

/// How many complete backups `backup.status` remembers.
pub const RECENT_KEPT: usize = 16;

impl BackupStatusRecord {
    /// Reads the record; every problem names file, line and key.
    pub fn from_file(f: &StateFile) -> Result<Self> {
        let last_result = match f.parse_choice("last_result", &["complete", "partial", "failed"])? {
            Some(r) => Some(r.parse::<BackupResult>()?),
            None => None,
        };
        Ok(BackupStatusRecord {
            last: BackupAttempt::read(f, "last")?,
            last_complete: BackupAttempt::read(f, "last_complete")?,
            last_result,
            recent: (1..=RECENT_KEPT)
                .map_while(|i| BackupAttempt::read(f, &format!("recent.{i}")).transpose())
                .collect::<Result<Vec<_>>>()?,
        })
    }
}

/// `restore_drill.status`: the latest drill and the last one that passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreDrillRecord {
    /// `last_drill_at`.
    pub last_drill_at: Option<DateTime<Utc>>,
    /// `last_result`: `pass` (true) or `fail` (false).
    pub last_passed: Option<bool>,
    /// `last_artifact`.
    pub last_artifact: Option<String>,
    /// `last_pass_at` and `last_pass_artifact`.
    pub last_pass: Option<(DateTime<Utc>, String)>,
    /// `verified_artifacts`, newest first.
    pub verified_artifacts: Vec<String>,
    /// `verified_until`: for each of `verified_artifacts`, until when it
    /// counts as verified (`None` for drills recorded before expiries existed).
    pub verified_until: Vec<Option<DateTime<Utc>>>,
    /// `verified_sha256`: for each of `verified_artifacts`, the SHA-256 of
    /// the content the drill restored (`None`: not recorded, or remote).
    pub verified_sha256: Vec<Option<String>>,
}

impl RestoreDrillRecord {
    /// Reads the record; every problem names file, line and key.
    pub fn from_file(f: &StateFile) -> Result<Self> {
        let last_pass = match f.parse_time("last_pass_at")? {
            Some(at) => Some((at, required(f, "last_pass_artifact")?.to_string())),
            None => None,
        };
        Ok(RestoreDrillRecord {
            last_drill_at: f.parse_time("last_drill_at")?,
            last_passed: f
                .parse_choice("last_result", &["pass", "fail"])?
                .map(|r| r == "pass"),
            last_artifact: f.get("last_artifact").map(String::from),
            last_pass,
            verified_artifacts: f
                .get("verified_artifacts")
                .map(|v| {
                    v.split(',')
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default(),
            verified_until: f
                .get("verified_until")
                .map(|v| {
                    v.split(',')
                        .map(|t| crate::time::parse_timestamp(t).ok())
                        .collect()
                })
                .unwrap_or_default(),
            verified_sha256: f
                .get("verified_sha256")
                .map(|v| {
                    v.split(',')
                        .map(|h| {
                            (h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
                                .then(|| h.to_string())
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
        .and_then(|r| {
            // One entry per backup: a list naming one twice is not one ssot wrote.
            let mut seen = std::collections::BTreeSet::new();
            if let Some(dup) = r
                .verified_artifacts
                .iter()
                .find(|a| !seen.insert(a.as_str()))
            {
                let line = f.entry("verified_artifacts").map_or(0, |(l, _)| l);
                return Err(f.invalid("verified_artifacts", line, format!("names {dup} twice")));
            }
            Ok(r)
        })
    }
}

/// `dr_drill.status`: the latest DR drill with its measured RTO and RPO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrDrillRecord {
    /// `last_drill_at`.
    pub last_drill_at: DateTime<Utc>,
    /// `scenario`.
    pub scenario: String,
    /// `rto_seconds`: `restored_at − t0`.
    pub rto_seconds: Option<u64>,
    /// `rpo_seconds`: `newest_data_before − newest_data_after`, at least 0.
    pub rpo_seconds: Option<u64>,
    /// `result`: `pass` (true) or `fail` (false).
    pub passed: Option<bool>,
}

impl DrDrillRecord {
    /// Reads the record; every problem names file, line and key. The
    /// recorded RTO must equal `restored_at − t0` when both times are there.
    pub fn from_file(f: &StateFile) -> Result<Self> {
        let rto_seconds: Option<u64> = f.parse_optional("rto_seconds")?;
        if let (Some(t0), Some(restored), Some(rto), Some((line, _))) = (
            f.parse_time("t0")?,
            f.parse_time("restored_at")?,
            rto_seconds,
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
        f.parse_time("newest_data_before")?;
        f.parse_time("newest_data_after")?;
        Ok(DrDrillRecord {
            last_drill_at: f.require_time("last_drill_at")?,
            scenario: f.get("scenario").unwrap_or("?").to_string(),
            rto_seconds,
            rpo_seconds: f.parse_optional("rpo_seconds")?,
            passed: f
                .parse_choice("result", &["pass", "fail"])?
                .map(|r| r == "pass"),
        })
    }
}

/// Records a backup into `backup.status` (`last_*` for the latest attempt,
/// `last_complete_*` for the newest complete one), after [`validate_backup`].
pub fn write_backup(file: &mut StateFile, e: &BackupEvidence, now: DateTime<Utc>) -> Result<()> {
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
        file.set(&format!("{p}_kind"), e.kind)?;
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
    for p in prefixes {
        match &e.sha256 {
            Some(h) => file.set(&format!("{p}_sha256"), h)?,
            None => file.remove(&format!("{p}_sha256")),
        }
    }
    if e.result == BackupResult::Complete {
        let mut recent = BackupStatusRecord::from_file(file)
            .map(|r| r.recent)
            .unwrap_or_default();
        recent.retain(|b| !(b.artifact == e.artifact && b.location == e.location));
        recent.insert(
            0,
            BackupAttempt {
                at: e.finished_at,
                artifact: e.artifact.clone(),
                location: e.location.clone(),
                kind: e.kind.to_string(),
                separate_from_pgdata: e.separate_from_pgdata,
                size_bytes: e.size_bytes,
                duration_seconds: secs.and_then(|s| u64::try_from(s).ok()),
                sha256: e.sha256.clone(),
            },
        );
        recent.truncate(RECENT_KEPT);
        write_recent(file, &recent)?;
    }
    file.set("last_result", e.result.as_str())?;
    file.set("last_recorded_by", &e.recorded_by)?;
    file.set("checked_at", timestamp(now))
}

/// Rewrites the `recent.<i>.*` keys of `backup.status`.
pub fn write_recent(file: &mut StateFile, recent: &[BackupAttempt]) -> Result<()> {
    file.remove_prefix("recent.");
    for (i, b) in recent.iter().enumerate() {
        let p = format!("recent.{}", i + 1);
        file.set(&format!("{p}_at"), timestamp(b.at))?;
        file.set(&format!("{p}_artifact"), &b.artifact)?;
        file.set(&format!("{p}_location"), &b.location)?;
        file.set(&format!("{p}_kind"), &b.kind)?;
        file.set(
            &format!("{p}_separate_from_pgdata"),
            match b.separate_from_pgdata {
                Some(true) => "yes",
                Some(false) => "no",
                None => "unknown",
            },
        )?;
        if let Some(n) = b.size_bytes {
            file.set(&format!("{p}_size_bytes"), n)?;
        }
        if let Some(n) = b.duration_seconds {
            file.set(&format!("{p}_duration_seconds"), n)?;
        }
        if let Some(h) = &b.sha256 {
            file.set(&format!("{p}_sha256"), h)?;
        }
    }
    Ok(())
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
    // Every drill replaces what an earlier one said of its artifact: a
    // failed drill takes a backup off the verified list (and so its
    // `.verified` marker stops counting).
    let old = RestoreDrillRecord::from_file(file).ok();
    let mut verified: Vec<(String, String, String)> = old
        .map(|r| {
            r.verified_artifacts
                .into_iter()
                .zip(r.verified_until.into_iter().chain(std::iter::repeat(None)))
                .zip(r.verified_sha256.into_iter().chain(std::iter::repeat(None)))
                .filter(|((a, _), _)| *a != e.artifact)
                .map(|((a, u), h)| {
                    (
                        a,
                        u.map(timestamp).unwrap_or_default(),
                        h.unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    if e.passed {
        file.set("last_pass_at", timestamp(e.finished_at))?;
        file.set("last_pass_artifact", &e.artifact)?;
        verified.insert(
            0,
            (
                e.artifact.clone(),
                e.verified_until.map(timestamp).unwrap_or_default(),
                e.sha256.clone().unwrap_or_default(),
            ),
        );
        verified.truncate(VERIFIED_KEPT);
    }
    let artifacts: Vec<&str> = verified.iter().map(|v| v.0.as_str()).collect();
    let until: Vec<&str> = verified.iter().map(|v| v.1.as_str()).collect();
    let sums: Vec<&str> = verified.iter().map(|v| v.2.as_str()).collect();
    file.set("verified_artifacts", artifacts.join(","))?;
    file.set("verified_until", until.join(","))?;
    file.set("verified_sha256", sums.join(","))?;
    file.set("checked_at", timestamp(now))
}

/// Records what `ssot verify` found into `verify.status`: how many were
/// checked, and each that failed (`failed.<i>.artifact`, `failed.<i>.problem`).
pub fn write_verify(
    file: &mut StateFile,
    checks: &[crate::evidence::BackupCheck],
    now: DateTime<Utc>,
) -> Result<()> {
    file.remove_prefix("failed.");
    let failed: Vec<_> = checks.iter().filter(|c| c.result == "failed").collect();
    file.set(
        "checked",
        checks.iter().filter(|c| c.result != "not_checked").count(),
    )?;
    file.set("ok", checks.iter().filter(|c| c.result == "ok").count())?;
    file.set(
        "not_checked",
        checks.iter().filter(|c| c.result == "not_checked").count(),
    )?;
    file.set("failed", failed.len())?;
    for (i, c) in failed.iter().enumerate() {
        file.set(&format!("failed.{}.artifact", i + 1), &c.artifact)?;
        file.set(
            &format!("failed.{}.problem", i + 1),
            crate::evidence::sanitize_notes(c.problem.as_deref().unwrap_or("")),
        )?;
    }
    file.set("result", if failed.is_empty() { "pass" } else { "fail" })?;
    file.set("checked_at", timestamp(now))
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
