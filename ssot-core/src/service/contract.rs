//! Contract check, evidence recording, stage check and the report as whole operations.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::{disk_facts, Host};
use crate::config::Config;
use crate::contract::{self, ContractInputs, ContractReport};
use crate::error::{Error, Result};
use crate::evidence::{self, BackupEvidence, DrDrillEvidence, DrOutcome, RestoreDrillEvidence};
use crate::gate::Operation;
use crate::ports::PathKind;
use crate::report::{self, Report, ReportFacts};
use crate::stages::{self, Criterion, StageCheck, StageFacts};
use crate::state::{self, BackupAttempt, BackupStatusRecord, StateInput};
use crate::statefile::StateFile;

/// Every state file the report and the stage check read.
pub const STATE_FILES: [&str; 10] = [
    state::WAL_STATUS,
    state::WAL_LAST_CHECK,
    state::WAL_SETTINGS,
    state::CONTRACT_STATUS,
    state::RETENTION_STATUS,
    state::BACKUP_STATUS,
    state::RESTORE_DRILL_STATUS,
    state::DR_DRILL_STATUS,
    state::ACTIVE_PVC_LIST,
    state::WAL_HISTORY,
];

/// Reads `name` for an update: its current content (kept keys survive) or a fresh file.
fn for_update(host: &Host, name: &str) -> Result<StateFile> {
    let input = host.state.read(name);
    match input.parse() {
        Ok(Some(f)) => Ok(f),
        Ok(None) => Ok(StateFile::new(input.path())),
        Err(e) => Err(Error::NotOverwritten {
            path: input.path().into(),
            source: Box::new(e),
        }),
    }
}

/// Evaluates the contract and records it: `contract.status` always, and
/// `wal.settings` when the StatefulSet (the source of truth) was given.
pub fn contract_check(
    host: &Host,
    cfg: &Config,
    inputs: &ContractInputs,
    now: DateTime<Utc>,
) -> Result<ContractReport> {
    let report = contract::evaluate(inputs, &cfg.contract, now);
    record_contract(host, &report, now)?;
    Ok(report)
}

/// Records a contract report: `contract.status` always, and `wal.settings`
/// when the report carries the declared WAL settings.
pub fn record_contract(host: &Host, report: &ContractReport, now: DateTime<Utc>) -> Result<()> {
    let lock = host.state.lock()?;
    let mut f = for_update(host, state::CONTRACT_STATUS)?;
    state::write_contract_status(&mut f, report)?;
    host.state
        .write_atomic(&lock, state::CONTRACT_STATUS, f.render().as_bytes())?;
    if let Some(wal) = &report.declared_wal {
        let mut w = for_update(host, state::WAL_SETTINGS)?;
        state::write_wal_settings(&mut w, wal, now)?;
        host.state
            .write_atomic(&lock, state::WAL_SETTINGS, w.render().as_bytes())?;
    }
    Ok(())
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
    host: &Host,
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
        let input = host.state.read(state::BACKUP_STATUS);
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
        let dir = match host.artifacts.resolve(Path::new(&e.location)) {
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
        match host.fs.inspect_backup(&path)? {
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
            e.separate_from_pgdata = separate_from_protected(host, &dir, pgdata, &mut e.warnings);
        }
    }
    let lock = host.state.lock()?;
    let mut f = for_update(host, state::BACKUP_STATUS)?;
    state::write_backup(&mut f, &e, now)?;
    host.state
        .write_atomic(&lock, state::BACKUP_STATUS, f.render().as_bytes())?;
    Ok(e)
}

/// Whether `dir` lies on another filesystem than every protected volume
/// (PGDATA, pg_wal, the state directory): `Some(false)` naming the shared
/// one in a warning, `None` when a device cannot be read.
fn separate_from_protected(
    host: &Host,
    dir: &Path,
    pgdata: Option<&Path>,
    warnings: &mut Vec<String>,
) -> Option<bool> {
    let pgdata = pgdata?;
    let here = host.volumes.device(dir).ok()?;
    let mut volumes = super::protected_volumes(host, Some(pgdata));
    let state_file = host.state.location(state::BACKUP_STATUS);
    if let Some(state_dir) = Path::new(&state_file).parent() {
        volumes.push(crate::disk::ProtectedVolume {
            label: "the state directory".into(),
            path: state_dir.display().to_string(),
            device: host.volumes.device(state_dir).ok(),
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
pub fn recorded_backup(host: &Host, artifact: &str) -> Result<BackupAttempt> {
    let rec = recorded_backups(host).map_err(|e| match e {
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

fn recorded_backups(host: &Host) -> Result<BackupStatusRecord> {
    let input = host.state.read(state::BACKUP_STATUS);
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
fn recheck(host: &Host, b: &BackupAttempt) -> Result<std::result::Result<Option<String>, String>> {
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
    Ok(match host.fs.inspect_backup(&path)? {
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
pub fn still_whole(host: &Host, b: &BackupAttempt) -> Result<Option<String>> {
    recheck(host, b)?.map_err(Error::EvidenceRefused)
}

/// Re-reads every recorded complete backup and compares it with its
/// recorded checksum (like `pgbackrest verify` or `restic check`), and
/// records what was found in `verify.status`.
pub fn verify_backups(host: &Host, now: DateTime<Utc>) -> Result<Vec<evidence::BackupCheck>> {
    let rec = recorded_backups(host)?;
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for b in rec.recent.iter().chain(rec.last_complete.iter()) {
        if !seen.insert((b.location.clone(), b.artifact.clone())) {
            continue;
        }
        let (result, problem) = match recheck(host, b)? {
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
    let lock = host.state.lock()?;
    let mut f = for_update(host, state::VERIFY_STATUS)?;
    state::write_verify(&mut f, &out, now)?;
    host.state
        .write_atomic(&lock, state::VERIFY_STATUS, f.render().as_bytes())?;
    Ok(out)
}

/// Records a restore drill.
pub fn record_restore_drill(
    host: &Host,
    e: &RestoreDrillEvidence,
    now: DateTime<Utc>,
) -> Result<()> {
    let lock = host.state.lock()?;
    let mut f = for_update(host, state::RESTORE_DRILL_STATUS)?;
    state::write_restore_drill(&mut f, e, now)?;
    host.state
        .write_atomic(&lock, state::RESTORE_DRILL_STATUS, f.render().as_bytes())
}

/// Records a DR drill with its measured RTO/RPO.
pub fn record_dr_drill(
    host: &Host,
    cfg: &Config,
    e: &DrDrillEvidence,
    now: DateTime<Utc>,
) -> Result<DrOutcome> {
    let o = evidence::dr_outcome(e, &cfg.evidence)?;
    let lock = host.state.lock()?;
    let mut f = for_update(host, state::DR_DRILL_STATUS)?;
    state::write_dr_drill(&mut f, e, &o, now)?;
    host.state
        .write_atomic(&lock, state::DR_DRILL_STATUS, f.render().as_bytes())?;
    Ok(o)
}

fn read_files(host: &Host) -> BTreeMap<String, StateInput> {
    STATE_FILES
        .iter()
        .map(|n| (n.to_string(), host.state.read(n)))
        .collect()
}

fn files_exist(host: &Host, cfg: &Config) -> BTreeMap<String, bool> {
    cfg.stages
        .iter()
        .filter_map(|s| s.parsed_criteria().ok())
        .flatten()
        .filter_map(|c| match c {
            Criterion::File(p) => Some(p),
            _ => None,
        })
        .map(|p| {
            let exists = host.fs.kind(Path::new(&p)).ok().flatten().is_some();
            (p, exists)
        })
        .collect()
}

/// Checks every stage claim against the state directory.
pub fn stage_check(host: &Host, cfg: &Config, now: DateTime<Utc>) -> Vec<StageCheck> {
    let files = read_files(host);
    let (gate_log, _) = host.state.read_tail(state::GATE_LOG, state::GATE_LOG_TAIL);
    let exist = files_exist(host, cfg);
    let freshness = cfg.freshness();
    let facts = StageFacts {
        files: &files,
        gate_log: Some(&gate_log),
        files_exist: &exist,
        freshness: &freshness,
    };
    stages::check(&cfg.stages, &facts, now)
}

/// Builds the single view of truth over the state directory (and the disk
/// guard on the configured backup and snapshot targets).
pub fn report(
    host: &Host,
    cfg: &Config,
    pgdata: Option<&Path>,
    live: Option<(
        String,
        std::result::Result<crate::inputs::LiveFacts, String>,
    )>,
    now: DateTime<Utc>,
) -> Report {
    let disks = [Operation::Backup, Operation::Snapshot]
        .into_iter()
        .filter_map(|op| {
            cfg.gate.targets.get(&op).map(|t| {
                let target = PathBuf::from(t);
                let pattern = super::target_pattern(cfg, &target, op);
                (op, disk_facts(host, &target, pgdata, None, pattern))
            })
        })
        .collect();
    let (gate_log, gate_log_truncated) =
        host.state.read_tail(state::GATE_LOG, state::GATE_LOG_TAIL);
    let facts = ReportFacts {
        files: read_files(host),
        gate_log: Some(gate_log),
        gate_log_truncated,
        disks,
        files_exist: files_exist(host, cfg),
        live,
    };
    // The configured targets as real paths, as the gates record theirs.
    let mut policy = cfg.report_policy();
    for t in policy.targets.values_mut() {
        if let Ok(real) = host.artifacts.resolve(Path::new(t.as_str())) {
            *t = real.display().to_string();
        }
    }
    report::build(&facts, &policy, now)
}
