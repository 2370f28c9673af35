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
use crate::state::{self, StateInput};
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
    let lock = host.state.lock()?;
    let mut f = for_update(host, state::CONTRACT_STATUS)?;
    state::write_contract_status(&mut f, &report)?;
    host.state
        .write_atomic(&lock, state::CONTRACT_STATUS, f.render().as_bytes())?;
    if let Some(wal) = &report.declared_wal {
        let mut w = for_update(host, state::WAL_SETTINGS)?;
        state::write_wal_settings(&mut w, wal, now)?;
        host.state
            .write_atomic(&lock, state::WAL_SETTINGS, w.render().as_bytes())?;
    }
    Ok(report)
}

/// Records a backup, after checking it is real.
///
/// For a local location (a path, not a `scheme://` URI) the location is
/// resolved, and a backup recorded as complete must be there: a regular file
/// or a directory named `artifact` in it; its size is measured (a given size
/// must match) and whether it lies on another filesystem than `pgdata` is
/// checked (unknown when PGDATA cannot be probed). A remote location is
/// recorded as given, its filesystem unknown. Refusals are
/// [`Error::EvidenceRefused`].
pub fn record_backup(
    host: &Host,
    mut e: BackupEvidence,
    pgdata: Option<&Path>,
    now: DateTime<Utc>,
) -> Result<BackupEvidence> {
    evidence::validate_backup(&e)?;
    crate::retention::validate_id(&e.artifact)
        .map_err(|m| Error::EvidenceRefused(format!("the artifact: {m}")))?;
    let complete = e.result == crate::evidence::BackupResult::Complete;
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
        match host.fs.entry_size(&path)? {
            None if complete => {
                return Err(Error::EvidenceRefused(format!(
                    "backup {} is not at its location {}: a complete backup must exist to be recorded",
                    e.artifact, e.location
                )))
            }
            None => {}
            Some((PathKind::Other, _)) if complete => {
                return Err(Error::EvidenceRefused(format!(
                    "{} is not a regular file or a directory (a symbolic link or a special file): record the backup itself",
                    path.display()
                )))
            }
            Some((_, measured)) => {
                if let Some(claimed) = e.size_bytes.filter(|c| *c != measured) {
                    return Err(Error::EvidenceRefused(format!(
                        "{} holds {measured} bytes, not the {claimed} given",
                        path.display()
                    )));
                }
                e.size_bytes = Some(measured);
            }
        }
        if e.separate_from_pgdata.is_none() {
            if let Some(pg) = pgdata {
                if let (Ok(a), Ok(b)) = (host.volumes.device(&dir), host.volumes.device(pg)) {
                    e.separate_from_pgdata = Some(a != b);
                }
            }
        }
    }
    let lock = host.state.lock()?;
    let mut f = for_update(host, state::BACKUP_STATUS)?;
    state::write_backup(&mut f, &e, now)?;
    host.state
        .write_atomic(&lock, state::BACKUP_STATUS, f.render().as_bytes())?;
    Ok(e)
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
            cfg.gate
                .targets
                .get(&op)
                .map(|t| (op, disk_facts(host, &PathBuf::from(t), pgdata, None)))
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
    report::build(&facts, &cfg.report_policy(), now)
}
