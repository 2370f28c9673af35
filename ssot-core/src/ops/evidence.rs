//! Evidence: backups recorded after they are checked to be real, restore
//! and DR drills, and `verify`, which re-reads what was recorded.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::gate::protected_volumes;
use super::results::{BackupRecorded, DrDrillRecorded, RestoreDrillRecorded, VerifyOutcome};
use super::retention::protected_lineages;
use super::{Ports, Ssot, DRILL_MARKER};
use crate::config::Config;
use crate::decision::Operation;
use crate::error::{Error, Result};
use crate::evidence::{self, BackupEvidence, DrDrillEvidence, DrOutcome, RestoreDrillEvidence};
use crate::ports::PathKind;
use crate::request::{BackupRequest, DrDrillRequest, DrillResult, RestoreDrillRequest};
use crate::retention;
use crate::state::{self, BackupAttempt, BackupStatusRecord};
use crate::statefile::StateFile;

/// Reads `name` for an update: its current content (kept keys survive) or a fresh file.
pub(super) fn for_update(ports: &Ports, name: &str) -> Result<StateFile> {
    let input = ports.state.read(name);
    match input.parse() {
        Ok(Some(f)) => Ok(f),
        Ok(None) => Ok(StateFile::new(input.path())),
        Err(e) => Err(Error::NotOverwritten {
            path: input.path().into(),
            source: Box::new(e),
        }),
    }
}

/// Records a backup, after checking it is real.
///
/// For a local location (a path, not a `scheme://` URI) the location is
/// resolved, and a backup recorded as complete must be there: a regular file
/// or a directory named `artifact` in it. It is read whole: its size and
/// SHA-256 are measured (a given size must match), its format is checked to
/// its end (see [`crate::ports::Filesystem::inspect_backup`]), and an empty,
/// broken or implausibly small one is refused ([`evidence::judge_backup`]).
/// Whether it lies on another filesystem than every protected volume (PGDATA,
/// pg_wal, the state directory) is checked. A remote location is recorded as
/// given, its filesystem unknown. Refusals are [`Error::EvidenceRefused`].
pub fn record_backup(
    ports: &Ports,
    cfg: &Config,
    mut e: BackupEvidence,
    pgdata: Option<&Path>,
    now: DateTime<Utc>,
) -> Result<BackupEvidence> {
    evidence::validate_backup(&e)?;
    crate::retention::validate_id(&e.artifact)
        .map_err(|m| Error::EvidenceRefused(format!("the artifact: {m}")))?;
    let complete = e.result == crate::evidence::BackupResult::Complete;
    let earlier = {
        let input = ports.state.read(state::BACKUP_STATUS);
        match input.parse() {
            Ok(Some(f)) => crate::state::BackupStatusRecord::from_file(&f)
                .map(|r| r.recent)
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    };
    // `file://` names a local path: checked like one.
    if let Some(local) = e.location.strip_prefix("file://") {
        e.location = local.to_string();
    }
    if !e.location.contains("://") {
        let dir = match ports.artifacts.resolve(Path::new(&e.location)) {
            Ok(d) => d,
            Err(err) if complete => {
                return Err(Error::EvidenceRefused(format!(
                    "the backup location {} cannot be used: {err}",
                    e.location
                )))
            }
            Err(_) => PathBuf::from(&e.location),
        };
        e.location = dir.display().to_string();
        let path = dir.join(&e.artifact);
        match ports.fs.inspect_backup(&path)? {
            None if complete => {
                return Err(Error::EvidenceRefused(format!(
                "backup {} is not at its location {}: a complete backup must exist to be recorded",
                e.artifact, e.location
            )))
            }
            None => {}
            Some(i) if i.kind == PathKind::Other && complete => {
                return Err(Error::EvidenceRefused(format!(
                    "{} is not a regular file or a directory (a symbolic link or a special file): record the backup itself",
                    path.display()
                )));
            }
            Some(i) if i.kind == PathKind::Other => {}
            Some(i) => {
                if let Some(claimed) = e.size_bytes.filter(|c| *c != i.size_bytes) {
                    return Err(Error::EvidenceRefused(format!(
                        "{} holds {} bytes, not the {claimed} given",
                        path.display(),
                        i.size_bytes
                    )));
                }
                if complete {
                    let sizes: Vec<u64> = earlier
                        .iter()
                        .filter(|b| b.kind == e.kind && b.artifact != e.artifact)
                        .filter_map(|b| b.size_bytes)
                        .take(5)
                        .collect();
                    let shown = path.display().to_string();
                    e.warnings.extend(evidence::judge_backup(
                        &shown,
                        &e.kind,
                        &i,
                        &sizes,
                        &cfg.evidence,
                    )?);
                }
                e.size_bytes = Some(i.size_bytes);
                e.sha256 = Some(i.sha256.clone());
                e.format = Some(match &i.checked_by {
                    Some(how) => format!("{} ({how})", i.format),
                    None => i.format.clone(),
                });
            }
        }
        if e.separate_from_pgdata.is_none() {
            e.separate_from_pgdata = separate_from_protected(ports, &dir, pgdata, &mut e.warnings);
        }
    }
    let lock = ports.state.lock()?;
    let mut f = for_update(ports, state::BACKUP_STATUS)?;
    state::write_backup(&mut f, &e, now)?;
    ports
        .state
        .write_atomic(&lock, state::BACKUP_STATUS, f.render().as_bytes())?;
    Ok(e)
}

/// Whether `dir` lies on another filesystem than every protected volume
/// (PGDATA, pg_wal, the state directory): `Some(false)` naming the shared
/// one in a warning, `None` when a device cannot be read.
fn separate_from_protected(
    ports: &Ports,
    dir: &Path,
    pgdata: Option<&Path>,
    warnings: &mut Vec<String>,
) -> Option<bool> {
    let pgdata = pgdata?;
    let here = ports.volumes.device(dir).ok()?;
    let mut volumes = protected_volumes(ports, Some(pgdata));
    let state_file = ports.state.location(state::BACKUP_STATUS);
    if let Some(state_dir) = Path::new(&state_file).parent() {
        volumes.push(crate::disk::ProtectedVolume {
            label: "the state directory".into(),
            path: state_dir.display().to_string(),
            device: ports.volumes.device(state_dir).ok(),
            error: None,
        });
    }
    let mut unknown = false;
    for v in &volumes {
        match v.device {
            Some(d) if d == here => {
                warnings.push(format!(
                    "the backup lies on the same filesystem as {} {}: it is not a copy off the SSOT volumes",
                    v.label, v.path
                ));
                return Some(false);
            }
            Some(_) => {}
            None => unknown = true,
        }
    }
    (!unknown).then_some(true)
}

/// The complete backup named `artifact` that `evidence backup` recorded
/// (the newest such record), or a refusal naming it.
pub fn recorded_backup(ports: &Ports, artifact: &str) -> Result<BackupAttempt> {
    let rec = recorded_backups(ports).map_err(|e| match e {
        Error::EvidenceRefused(why) => Error::EvidenceRefused(format!(
            "{artifact} is not a complete backup ssot recorded: {why}"
        )),
        other => other,
    })?;
    rec.recent
        .into_iter()
        .chain(rec.last_complete)
        .find(|b| b.artifact == artifact)
        .ok_or_else(|| {
            Error::EvidenceRefused(format!(
                "{artifact} is not a complete backup ssot recorded: a drill names a backup that `evidence backup` recorded"
            ))
        })
}

fn recorded_backups(ports: &Ports) -> Result<BackupStatusRecord> {
    let input = ports.state.read(state::BACKUP_STATUS);
    match input.parse()? {
        Some(f) => BackupStatusRecord::from_file(&f),
        None => Err(Error::EvidenceRefused(format!(
            "no backup is recorded ({} is missing): record one with `evidence backup`",
            input.path()
        ))),
    }
}

/// Why a recorded backup is no longer what was recorded, if it is not:
/// gone, not a file or directory any more, or holding other content than its
/// recorded checksum. `Ok(Ok(Some(sha)))` for a local backup that is whole,
/// `Ok(Ok(None))` for a remote one (it cannot be read here).
fn recheck(
    ports: &Ports,
    b: &BackupAttempt,
) -> Result<std::result::Result<Option<String>, String>> {
    if b.location.contains("://") {
        return Ok(Ok(None));
    }
    let Some(want) = &b.sha256 else {
        return Ok(Err(format!(
            "{} was recorded without a checksum: record it again with `evidence backup`",
            b.artifact
        )));
    };
    let path = Path::new(&b.location).join(&b.artifact);
    Ok(match ports.fs.inspect_backup(&path)? {
        None => Err(format!("{} is no longer at {}", b.artifact, b.location)),
        Some(i) if i.kind == PathKind::Other => Err(format!(
            "{} is no longer a regular file or directory",
            path.display()
        )),
        Some(i) if i.sha256 != *want => Err(format!(
            "{}'s content changed since it was recorded (sha256 {} now, {} recorded)",
            path.display(),
            &i.sha256[..i.sha256.len().min(16)],
            &want[..want.len().min(16)]
        )),
        Some(i) => match i.problem {
            Some(p) => Err(format!(
                "{} is no longer a whole {}: {p}",
                path.display(),
                i.format
            )),
            None => Ok(Some(i.sha256)),
        },
    })
}

/// The checksum of a recorded backup that is still whole (`None` for a
/// remote one), or a refusal saying what changed.
pub fn still_whole(ports: &Ports, b: &BackupAttempt) -> Result<Option<String>> {
    recheck(ports, b)?.map_err(Error::EvidenceRefused)
}

/// Re-reads every recorded complete backup and compares it with its
/// recorded checksum (like `pgbackrest verify` or `restic check`), and
/// records what was found in `verify.status`.
pub fn verify_backups(ports: &Ports, now: DateTime<Utc>) -> Result<Vec<evidence::BackupCheck>> {
    let rec = recorded_backups(ports)?;
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for b in rec.recent.iter().chain(rec.last_complete.iter()) {
        if !seen.insert((b.location.clone(), b.artifact.clone())) {
            continue;
        }
        let (result, problem) = match recheck(ports, b)? {
            Ok(Some(_)) => ("ok", None),
            Ok(None) => (
                "not_checked",
                Some("a remote location: not readable here".to_string()),
            ),
            Err(p) => ("failed", Some(p)),
        };
        out.push(evidence::BackupCheck {
            artifact: b.artifact.clone(),
            location: b.location.clone(),
            result,
            problem,
        });
    }
    let lock = ports.state.lock()?;
    let mut f = for_update(ports, state::VERIFY_STATUS)?;
    state::write_verify(&mut f, &out, now)?;
    ports
        .state
        .write_atomic(&lock, state::VERIFY_STATUS, f.render().as_bytes())?;
    Ok(out)
}

/// Records a restore drill.
pub fn record_restore_drill(
    ports: &Ports,
    e: &RestoreDrillEvidence,
    now: DateTime<Utc>,
) -> Result<()> {
    let lock = ports.state.lock()?;
    let mut f = for_update(ports, state::RESTORE_DRILL_STATUS)?;
    state::write_restore_drill(&mut f, e, now)?;
    ports
        .state
        .write_atomic(&lock, state::RESTORE_DRILL_STATUS, f.render().as_bytes())
}

/// Records a DR drill with its measured RTO/RPO.
pub fn record_dr_drill(
    ports: &Ports,
    cfg: &Config,
    e: &DrDrillEvidence,
    now: DateTime<Utc>,
) -> Result<DrOutcome> {
    let o = evidence::dr_outcome(e, &cfg.evidence)?;
    let lock = ports.state.lock()?;
    let mut f = for_update(ports, state::DR_DRILL_STATUS)?;
    state::write_dr_drill(&mut f, e, &o, now)?;
    ports
        .state
        .write_atomic(&lock, state::DR_DRILL_STATUS, f.render().as_bytes())?;
    Ok(o)
}

impl Ssot {
    /// Records a backup in `backup.status`, after checking it is real (see
    /// [`BackupRecorded`]). A refusal is [`Error::EvidenceRefused`].
    pub fn record_backup(&self, req: &BackupRequest, now: DateTime<Utc>) -> Result<BackupRecorded> {
        let location = req
            .location
            .clone()
            .or_else(|| self.config.gate.targets.get(&Operation::Backup).cloned())
            .ok_or(Error::NotGiven {
                field: "location",
                message: "no backup location: none given and no gate.targets.backup configured"
                    .into(),
            })?;
        let e = BackupEvidence {
            finished_at: req.finished.unwrap_or(now),
            started_at: req.started,
            artifact: req.artifact.clone(),
            location,
            result: req.result,
            size_bytes: req.size.map(|b| b.bytes()),
            kind: crate::evidence::check_kind(&req.kind)?,
            recorded_by: recorded_by(&req.by),
            separate_from_pgdata: None,
            sha256: None,
            format: None,
            warnings: Vec::new(),
        };
        let pgdata = self.pgdata(req.pgdata.as_deref());
        let evidence = record_backup(&self.ports, &self.config, e, Some(&pgdata), now)?;
        Ok(BackupRecorded {
            evidence,
            state_file: self.ports.state.location(state::BACKUP_STATUS),
        })
    }

    /// Records a restore drill in `restore_drill.status`. The drill must
    /// name a backup `evidence backup` recorded; a pass also needs that backup
    /// still at its location with the checksum recorded then. On a pass with
    /// `mark_verified` (the backup's own location), writes its `.verified`
    /// sidecar there: the checksum and an expiry (`evidence.verified_for`).
    /// Notes are sanitised ([`crate::evidence::sanitize_notes`]), so a failed
    /// drill with any tool output is recorded as failed.
    pub fn record_restore_drill(
        &self,
        req: &RestoreDrillRequest,
        now: DateTime<Utc>,
    ) -> Result<RestoreDrillRecorded> {
        let passed = req.result == DrillResult::Pass;
        let finished = req.finished.unwrap_or(now);
        if req.mark_verified.is_some() {
            retention::source::marker_name(&req.artifact, retention::source::Marker::Verified)?;
        }
        let backup = recorded_backup(&self.ports, &req.artifact)?;
        let checksum = if passed {
            still_whole(&self.ports, &backup)?
        } else {
            None
        };
        let until = passed.then(|| crate::num::plus(finished, self.config.evidence.verified_for));
        let e = RestoreDrillEvidence {
            finished_at: finished,
            started_at: req.started,
            artifact: req.artifact.clone(),
            passed,
            recorded_by: recorded_by(&req.by),
            notes: crate::evidence::sanitize_notes(&req.notes),
            verified_until: until,
            sha256: checksum.clone(),
        };
        let marker = match (&req.mark_verified, passed) {
            (Some(_), true) if checksum.is_none() => {
                return Err(Error::EvidenceRefused(format!(
                    "{} lies at a remote location: a .verified marker is written only next to a local backup",
                    backup.artifact
                )))
            }
            (Some(dir), true) => {
                let given = self.ports.artifacts.resolve(dir)?;
                if given.display().to_string() != backup.location {
                    return Err(Error::EvidenceRefused(format!(
                        "--mark-verified {} is not where {} was recorded ({}): a marker is written only next to the backup it names",
                        dir.display(),
                        backup.artifact,
                        backup.location
                    )));
                }
                Some(given.join(retention::source::marker_name(
                    &req.artifact,
                    retention::source::Marker::Verified,
                )?))
            }
            _ => None,
        };
        record_restore_drill(&self.ports, &e, now)?;
        if let (Some(path), Some(until)) = (&marker, until) {
            let text = retention::source::VerifiedMarker {
                sha256: checksum.clone().unwrap_or_default(),
                verified_at: e.finished_at,
                expires_at: until,
            }
            .render();
            self.ports.fs.write_file(path, text.as_bytes())?;
        }
        Ok(RestoreDrillRecorded {
            evidence: e,
            result: req.result,
            marked_verified: marker,
        })
    }

    /// Creates the directory a restore drill's throwaway cluster lives in:
    /// `<scratch>/ssot-drill`, carrying the marker [`DRILL_MARKER`] that ssot
    /// writes, owned by `owner` when given (the user the cluster runs as).
    /// Refused when `scratch` is, holds or lies inside PGDATA, pg_wal or the
    /// state directory, and when `ssot-drill` exists without the marker (a
    /// marked one, left by a drill that was killed, is removed first).
    pub fn drill_scratch(
        &self,
        scratch: &Path,
        pgdata: Option<&Path>,
        owner: Option<&str>,
    ) -> Result<PathBuf> {
        let parent = self.ports.artifacts.resolve(scratch)?;
        let protected = protected_lineages(&self.ports, &self.protected(pgdata))?;
        let lineage = self.ports.artifacts.lineage(&parent)?;
        if let Some(why) = crate::disk::overlap(&lineage, &protected) {
            return Err(Error::UnsafeFile {
                path: parent,
                problem: format!("is no place for a drill: {why}"),
            });
        }
        let dir = parent.join("ssot-drill");
        let content = format!(
            "a restore drill's scratch, created by ssot (pid {}) at {}\n",
            std::process::id(),
            state::timestamp(self.ports.clock.now())
        );
        self.ports
            .artifacts
            .prepare_scratch(&dir, DRILL_MARKER, &content, owner)?;
        Ok(dir)
    }

    /// Removes a directory [`Ssot::drill_scratch`] created, with the cluster
    /// in it; refused for any directory that does not carry [`DRILL_MARKER`].
    pub fn remove_drill_scratch(&self, dir: &Path) -> Result<()> {
        self.ports.artifacts.remove_scratch(dir, DRILL_MARKER)
    }

    /// Re-reads every recorded complete backup and compares it with the
    /// checksum recorded when it was taken (like `pgbackrest verify` or
    /// `restic check --read-data`); records the findings in `verify.status`.
    pub fn verify(&self, now: DateTime<Utc>) -> Result<VerifyOutcome> {
        let checks = verify_backups(&self.ports, now)?;
        Ok(VerifyOutcome {
            failed: checks.iter().filter(|c| c.result == "failed").count(),
            checks,
            state_file: self.ports.state.location(state::VERIFY_STATUS),
        })
    }

    /// Records a DR drill in `dr_drill.status` with its measured RTO and RPO.
    pub fn record_dr_drill(
        &self,
        req: &DrDrillRequest,
        now: DateTime<Utc>,
    ) -> Result<DrDrillRecorded> {
        let e = DrDrillEvidence {
            scenario: req.scenario.clone(),
            t0: req.t0,
            restored_at: req.restored_at,
            newest_data_before: req.newest_before,
            newest_data_after: req.newest_after,
            recorded_by: recorded_by(&req.by),
        };
        let outcome = record_dr_drill(&self.ports, &self.config, &e, now)?;
        Ok(DrDrillRecorded {
            scenario: e.scenario,
            outcome,
            rto_target: self.config.evidence.rto_target,
            rpo_target: self.config.evidence.rpo_target,
        })
    }
}

fn recorded_by(by: &Option<String>) -> String {
    by.clone()
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| "unknown".into())
}
