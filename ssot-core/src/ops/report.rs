//! The single view of truth (`report`), the stage check and `status`:
//! every state file read, the disk guard on the configured targets, a live
//! probe when a server is named; [`crate::report::build`] and
//! [`crate::stages::check`] decide.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::gate::{disk_facts, target_pattern};
use super::results::{StageChecks, StatusView};
use super::{outcome, Ports, Ssot};
use crate::config::Config;
use crate::decision::Operation;
use crate::report::{self, Report, ReportFacts};
use crate::request::{ReportFormat, ReportRequest};
use crate::stages::{self, Criterion, StageCheck, StageFacts};
use crate::state::{self, StateInput};

impl Ssot {
    /// Checks every stage claim against the state directory.
    pub fn check_stages(&self, now: DateTime<Utc>) -> StageChecks {
        StageChecks(stage_check(&self.ports, &self.config, now))
    }

    /// The single view of truth over the state directory, with the disk
    /// guard on the configured backup and snapshot targets.
    pub fn report(&self, req: &ReportRequest, now: DateTime<Utc>) -> Report {
        let pgdata = self.pgdata(req.pgdata.as_deref());
        let live = self.dsn(req.dsn.as_deref()).map(|dsn| self.probe(dsn));
        report(&self.ports, &self.config, Some(&pgdata), live, now)
    }

    /// `report` in `format` (the ConfigMap named by the configuration).
    pub fn render_report(&self, r: &Report, format: ReportFormat) -> String {
        match format {
            ReportFormat::Text => report::render::text(r),
            ReportFormat::Json => format!("{}\n", outcome::json(r)),
            ReportFormat::Prometheus => report::render::prometheus(r),
            ReportFormat::Configmap => report::render::configmap(
                r,
                &self.config.report.configmap_name,
                &self.config.report.configmap_namespace,
            ),
        }
    }

    /// The state files as they are (corrupt ones flagged).
    pub fn status(&self, now: DateTime<Utc>) -> StatusView {
        StatusView {
            state_dir: self.state_dir.display().to_string(),
            now,
            files: read_state(&self.ports),
        }
    }
}

/// Reads every known state file for `ssot status`: `(name, input)` pairs
/// (the growth history, an internal cache, is left out).
pub fn read_state(ports: &Ports) -> Vec<(&'static str, StateInput)> {
    STATE_FILES
        .into_iter()
        .filter(|n| *n != state::WAL_HISTORY)
        .map(|n| (n, ports.state.read(n)))
        .collect()
}

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

fn read_files(ports: &Ports) -> BTreeMap<String, StateInput> {
    STATE_FILES
        .iter()
        .map(|n| (n.to_string(), ports.state.read(n)))
        .collect()
}

fn files_exist(ports: &Ports, cfg: &Config) -> BTreeMap<String, bool> {
    cfg.stages
        .iter()
        .filter_map(|s| s.parsed_criteria().ok())
        .flatten()
        .filter_map(|c| match c {
            Criterion::File(p) => Some(p),
            _ => None,
        })
        .map(|p| {
            let exists = ports.fs.kind(Path::new(&p)).ok().flatten().is_some();
            (p, exists)
        })
        .collect()
}

/// Checks every stage claim against the state directory.
pub fn stage_check(ports: &Ports, cfg: &Config, now: DateTime<Utc>) -> Vec<StageCheck> {
    let files = read_files(ports);
    let (gate_log, _) = ports.state.read_tail(state::GATE_LOG, state::GATE_LOG_TAIL);
    let exist = files_exist(ports, cfg);
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
    ports: &Ports,
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
                let pattern = target_pattern(cfg, &target, op);
                (op, disk_facts(ports, &target, pgdata, None, pattern))
            })
        })
        .collect();
    let (gate_log, gate_log_truncated) =
        ports.state.read_tail(state::GATE_LOG, state::GATE_LOG_TAIL);
    let facts = ReportFacts {
        files: read_files(ports),
        gate_log: Some(gate_log),
        gate_log_truncated,
        disks,
        files_exist: files_exist(ports, cfg),
        live,
    };
    // The configured targets as real paths, as the gates record theirs.
    let mut policy = cfg.report_policy();
    for t in policy.targets.values_mut() {
        if let Ok(real) = ports.artifacts.resolve(Path::new(t.as_str())) {
            *t = real.display().to_string();
        }
    }
    report::build(&facts, &policy, now)
}
