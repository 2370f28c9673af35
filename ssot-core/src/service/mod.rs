//! Whole operations: gather facts through the ports, evaluate, record.
//!
//! This is what the CLI, the Python module and the Rhai engine call, so that
//! none of them repeats a step. Each function takes the ports ([`Host`]) and
//! an explicit `now`; the policy decisions themselves are made by the pure
//! evaluators in [`crate::wal`] and [`crate::gate`].
//!
//! Order of use, as in the seed's runbook: [`check_wal`] on a schedule
//! (writes `wal.status`), then [`gate()`] before each snapshot/backup/restore
//! (reads it, appends to `gate.log`).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::api::GateRequest;
use crate::config::Config;
use crate::disk::{DiskFacts, ProtectedVolume, TargetFacts};
use crate::error::{Error, Result};
use crate::gate::{self, Decision};
use crate::ports::{ArtifactRoot, Filesystem, Held, PathKind, StateStore, VolumeProbe, WalScanner};
use crate::state::{self, StateInput, WalStatusRecord};
use crate::statefile::StateFile;
use crate::units::ByteSize;
use crate::wal::{self, ReplicationSlot, WalFacts, WalReport, WalSettings};

mod contract;
mod retention;
pub use contract::{
    contract_check, record_backup, record_contract, record_dr_drill, record_restore_drill,
    recorded_backup, report, stage_check, still_whole, verify_backups, STATE_FILES,
};
pub use retention::{
    protected_lineages, retention_apply, retention_plan, ApplyOutcome, ProtectedPaths,
    RetentionSource,
};

/// The ports an operation uses.
#[derive(Clone, Copy)]
pub struct Host<'a> {
    /// Measures pg_wal.
    pub wal: &'a dyn WalScanner,
    /// Reads volume sizes and device ids.
    pub volumes: &'a dyn VolumeProbe,
    /// Probes target directories.
    pub fs: &'a dyn Filesystem,
    /// The state directory.
    pub state: &'a dyn StateStore,
    /// Artifact roots (retention).
    pub artifacts: &'a dyn ArtifactRoot,
}

/// The outcome of [`crate::Ssot::check_wal`].
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[must_use]
pub struct WalCheck {
    /// The report, as written to `wal.status`.
    #[serde(flatten)]
    pub report: WalReport,
    /// pg_wal as resolved (through a symlink, if any).
    pub pg_wal: Option<PathBuf>,
    /// Where the declared WAL settings came from.
    pub settings_source: String,
    /// Things an operator should know that did not change the status.
    pub notes: Vec<String>,
    /// What `pg_ls_waldir()` counted, when the server was probed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pg_ls_waldir: Option<crate::inputs::WalDir>,
}

impl WalCheck {
    /// True when pg_wal could not be measured.
    pub fn measurement_failed(&self) -> bool {
        self.report.wal_size.is_none()
    }
}

/// Extra facts for [`check_wal`] that the host cannot discover by itself.
#[derive(Debug, Clone, Default)]
pub struct WalCheckInput {
    /// Replication slots (from `pg_replication_slots`), if read.
    pub slots: Vec<ReplicationSlot>,
    /// A live probe of the server, if one was asked for.
    pub live: Option<crate::wal::LiveWalFacts>,
    /// `pg_ls_waldir()` from that probe.
    pub waldir: Option<crate::inputs::WalDir>,
    /// True when the slots were given (a file), not read by the probe.
    pub slots_given: bool,
    /// Why the given slots could not be read, if they could not: the
    /// measurement fails (ERROR, recorded).
    pub slots_error: Option<String>,
}

/// Resolves the declared WAL settings: `wal.settings` if present (written by
/// `ssot contract check` from the source of truth), else the configured contract.
fn declared_settings(host: &Host, cfg: &Config) -> Result<(WalSettings, String)> {
    let defaults = cfg.contract.wal_settings();
    let input = host.state.read(state::WAL_SETTINGS);
    match input.parse() {
        Ok(None) => Ok((defaults, "configuration (contract section)".into())),
        Ok(Some(f)) => {
            let s = state::parse_wal_settings(&f, &defaults)?;
            Ok((s, input.path().to_string()))
        }
        Err(e) => Err(e),
    }
}

/// The other volumes the cluster writes: PGDATA's own and each
/// tablespace's, one per device, leaving out pg_wal's device (its volume is
/// [`WalFacts::volume`]). Any that cannot be measured fails the measurement.
fn watched_volumes(
    host: &Host,
    pgdata: &Path,
    pg_wal: &Path,
) -> Result<Vec<crate::wal::WatchedVolume>> {
    let mut seen = vec![host.volumes.device(pg_wal)?];
    let mut out = Vec::new();
    let mut candidates = vec![(
        "pgdata".to_string(),
        format!("PGDATA {}", pgdata.display()),
        pgdata.to_path_buf(),
    )];
    for (oid, dir) in host.wal.tablespaces(pgdata)? {
        candidates.push((
            format!("tablespace_{oid}"),
            format!("tablespace {oid} ({})", dir.display()),
            dir,
        ));
    }
    for (key, holds, dir) in candidates {
        let dev = host.volumes.device(&dir)?;
        if seen.contains(&dev) {
            continue;
        }
        seen.push(dev);
        out.push(crate::wal::WatchedVolume {
            key,
            holds,
            volume: host.volumes.volume(&dir)?,
        });
    }
    Ok(out)
}

/// Measures pg_wal, evaluates the WAL status and records it.
///
/// Under the state lock: reads the previous `wal.status` (hysteresis) and
/// `wal.history` (growth rate), scans pg_wal and its volume, evaluates, and
/// writes `wal.status`, `wal.history` and — if the measurement succeeded —
/// `wal.last_check`. A failed measurement is recorded as `ERROR`, never skipped.
/// `Err` only when the state directory itself cannot be locked or written.
pub fn check_wal(
    host: &Host,
    cfg: &Config,
    pgdata: &Path,
    input: &WalCheckInput,
    now: DateTime<Utc>,
) -> Result<WalCheck> {
    let lock = host.state.lock()?;
    let mut notes = Vec::new();

    let prev_input = host.state.read(state::WAL_STATUS);
    let mut status_file = StateFile::new(prev_input.path());
    let mut previous = None;
    match prev_input.parse() {
        Ok(Some(f)) => {
            match WalStatusRecord::from_file(&f) {
                Ok(r) => previous = Some(r.previous()),
                Err(e) => notes.push(format!(
                    "previous status not usable ({e}); hysteresis starts afresh"
                )),
            }
            status_file = f;
        }
        Ok(None) => {}
        Err(e) => notes.push(format!(
            "previous {} not usable ({e}); it is rewritten and hysteresis starts afresh",
            prev_input.path()
        )),
    }

    let history_input = host.state.read(state::WAL_HISTORY);
    let history = state::parse_wal_history(&history_input).unwrap_or_else(|e| {
        notes.push(format!(
            "growth history discarded ({e}); growth is judged from new samples"
        ));
        Vec::new()
    });

    // A probe that answered is remembered; one that did not is described by
    // the last that did (its slots, dated), so the slot that filled the disk
    // is still named after the server went down.
    let mut live = input.live.clone();
    let mut slots = input.slots.clone();
    let mut probe_record = None;
    match live.as_mut() {
        // Slots given as a file are not the server's: nothing is remembered.
        Some(l) if l.unreachable.is_none() && !input.slots_given => {
            let last = wal::LastProbe {
                probed_at: now,
                server: l.server.clone(),
                pgdata: Some(pgdata.display().to_string()),
                slots: input.slots.clone(),
                archiver: l.archiver.clone(),
            };
            probe_record = serde_json::to_string(&last).ok().map(|t| t + "\n");
        }
        Some(l) if l.unreachable.is_some() => {
            let saved = host.state.read(state::WAL_PROBE);
            match &saved {
                StateInput::Missing { .. } | StateInput::Present { .. } => {}
                other => notes.push(format!(
                    "{} is not usable ({}): no earlier slots or archiver are shown",
                    other.path(),
                    match other {
                        StateInput::Unreadable { error, .. } => error.to_string(),
                        StateInput::Invalid { problem, .. } => problem.to_string(),
                        _ => String::new(),
                    }
                )),
            }
            if let StateInput::Present { content, .. } = &saved {
                let this_pgdata = pgdata.display().to_string();
                match serde_json::from_slice::<wal::LastProbe>(content) {
                    Ok(last)
                        if last.server == l.server
                            && last.probed_at <= now
                            && last.pgdata.as_deref().is_none_or(|p| p == this_pgdata) =>
                    {
                        if !input.slots_given {
                            slots = last.slots;
                            l.slots_seen_at = Some(last.probed_at);
                        }
                        if l.archiver.is_none() && last.archiver.is_some() {
                            l.archiver = last.archiver;
                            l.archiver_seen_at = Some(last.probed_at);
                        }
                    }
                    Ok(_) => {}
                    Err(e) => notes.push(format!(
                        "{} is not usable ({e}): no earlier slots or archiver are shown",
                        saved.path()
                    )),
                }
            }
        }
        _ => {}
    }
    let slots_error = input.slots_error.clone();
    let measured = declared_settings(host, cfg).and_then(|(settings, source)| {
        if let Some(e) = slots_error {
            return Err(Error::Request(format!(
                "the replication slots given could not be read: {e}"
            )));
        }
        let scan = host.wal.scan(pgdata)?;
        let volume = host.volumes.volume(&scan.dir)?;
        let volumes = watched_volumes(host, pgdata, &scan.dir)?;
        Ok((settings, source, scan, volume, volumes))
    });
    let (report, pg_wal, settings_source) = match measured {
        Ok((mut settings, source, scan, volume, volumes)) => {
            if let Some(l) = live.as_ref().filter(|l| l.unreachable.is_none()) {
                if let Some(rt) = l
                    .wal_segment_size
                    .filter(|rt| *rt != settings.wal_segment_size.bytes())
                {
                    notes.push(format!(
                        "the server's wal_segment_size is {}, the declared one {} ({source}): the server's is used; fix the declaration",
                        crate::num::human_bytes(rt),
                        settings.wal_segment_size
                    ));
                    settings.wal_segment_size = crate::units::ByteSize::from_bytes(rt);
                }
                if l.in_recovery {
                    notes.push(format!(
                        "{} is a standby (pg_is_in_recovery()): not the single instance the contract declares; its pg_wal follows the primary's",
                        l.server
                    ));
                }
            }
            if scan.vanished > 0 {
                notes.push(format!(
                    "{} file(s) vanished during the scan (recycled by a checkpoint) and were skipped",
                    scan.vanished
                ));
            }
            let facts = WalFacts {
                wal_bytes: scan.wal_bytes,
                segment_count: scan.segment_count,
                ready_count: scan.ready_count,
                volume,
                volumes,
                settings,
                slots,
                history: history.clone(),
                previous,
                live,
            };
            (wal::evaluate(&facts, &cfg.wal, now), Some(scan.dir), source)
        }
        Err(e) => (
            wal::measurement_failed(
                &e.to_string(),
                &cfg.wal,
                cfg.contract.wal_settings().soft_limit(),
                now,
            ),
            None,
            "unknown".into(),
        ),
    };

    // A status that cannot be written as it is (a value the file cannot
    // hold) must not leave the previous one standing: record the failure.
    let report = match state::write_wal_status(&mut status_file, &report) {
        Ok(()) => report,
        Err(e) => {
            let failed = wal::measurement_failed(
                &format!("the status could not be recorded: {e}"),
                &cfg.wal,
                report.soft_limit_bytes,
                now,
            );
            status_file = StateFile::new(prev_input.path());
            state::write_wal_status(&mut status_file, &failed)?;
            failed
        }
    };
    let status = status_file.render();
    let history = state::render_wal_history(&wal::next_history(&history, &report, &cfg.wal));
    let checked = format!("{}\n", state::timestamp(now));
    let mut files = vec![
        (state::WAL_STATUS, status.as_bytes()),
        (state::WAL_HISTORY, history.as_bytes()),
    ];
    if report.wal_size.is_some() {
        files.push((state::WAL_LAST_CHECK, checked.as_bytes()));
    }
    if let Some(p) = &probe_record {
        files.push((state::WAL_PROBE, p.as_bytes()));
    }
    host.state.write_atomic_all(&lock, &files)?;
    if let (Some(d), Some(scanned)) = (input.waldir, report.wal_size) {
        notes.push(format!(
            "pg_ls_waldir() counts {} in {} segment(s); the scan {}",
            crate::num::human_bytes(d.bytes),
            d.segments,
            crate::num::human_bytes(scanned)
        ));
    }
    Ok(WalCheck {
        report,
        pg_wal,
        settings_source,
        notes,
        pg_ls_waldir: input.waldir,
    })
}

fn target_facts(host: &Host, path: &Path) -> TargetFacts {
    let mut t = TargetFacts {
        path: path.display().to_string(),
        ..TargetFacts::default()
    };
    match host.fs.kind(path) {
        Ok(None) => return t,
        Ok(Some(kind)) => {
            t.exists = true;
            t.is_dir = kind == PathKind::Directory;
        }
        Err(e) => {
            t.exists = true;
            t.probe_error = Some(e.to_string());
            return t;
        }
    }
    if !t.is_dir {
        return t;
    }
    t.write_error = host.fs.probe_write(path).err().map(|e| e.to_string());
    match (host.volumes.device(path), host.volumes.volume(path)) {
        (Ok(d), Ok(v)) => {
            t.device = Some(d);
            t.volume = Some(v);
        }
        (Err(e), _) | (_, Err(e)) => t.probe_error = Some(e.to_string()),
    }
    t
}

pub(crate) fn protected_volumes(host: &Host, pgdata: Option<&Path>) -> Vec<ProtectedVolume> {
    let Some(pgdata) = pgdata else {
        return Vec::new();
    };
    let probe = |label: &str, path: &Path| {
        let (device, error) = match host.volumes.device(path) {
            Ok(d) => (Some(d), None),
            Err(e) => (None, Some(e.to_string())),
        };
        ProtectedVolume {
            label: label.into(),
            path: path.display().to_string(),
            device,
            error,
        }
    };
    let mut out = vec![probe("PGDATA", pgdata)];
    let pg_wal = pgdata.join("pg_wal");
    if let Ok(resolved) = host.wal.resolve(pgdata) {
        let v = probe("pg_wal", &resolved);
        if v.device != out[0].device {
            out.push(v);
        }
    } else if host.fs.kind(&pg_wal).ok().flatten().is_some() {
        out.push(probe("pg_wal", &pg_wal));
    }
    out
}

/// Disk-guard facts for `target`: what it is, its volume, the SSOT volumes it
/// must differ from, and the estimate (given, else the newest file in it).
pub(crate) fn disk_facts(
    host: &Host,
    target: &Path,
    pgdata: Option<&Path>,
    estimate: Option<ByteSize>,
    pattern: Option<&str>,
) -> DiskFacts {
    let t = target_facts(host, target);
    let (estimated_bytes, estimate_source) = match estimate {
        Some(b) => (b.bytes(), "given estimate".to_string()),
        None if t.is_dir => {
            // The state directory or PGDATA inside the target is never a backup.
            let state_file = host.state.location(state::WAL_STATUS);
            let paths = retention::ProtectedPaths {
                state_dir: Path::new(&state_file).parent().map(Path::to_path_buf),
                pgdata: pgdata.map(Path::to_path_buf),
                config_file: None,
            };
            let protected = retention::protected(host, &paths).unwrap_or_default();
            let listed = host
                .artifacts
                .resolve(target)
                .and_then(|r| host.artifacts.open(&r))
                .and_then(|open| open.list())
                .map(|mut entries| {
                    entries.retain(|e| {
                        e.file_id.is_none_or(|id| {
                            crate::retention::guard::is_protected(id, &protected).is_none()
                        })
                    });
                    entries
                });
            match listed.map(|entries| crate::disk::estimate_from_entries(&entries, pattern)) {
                Ok(Some((name, n))) => (
                    n,
                    format!(
                        "the largest of the {} newest backups in the target, {name}",
                        crate::disk::ESTIMATE_FROM
                    ),
                ),
                Ok(None) => (0, "no earlier backup in the target to size from".into()),
                Err(e) => (0, format!("nothing: {e}")),
            }
        }
        None => (0, String::new()),
    };
    DiskFacts {
        target: t,
        protected: protected_volumes(host, pgdata),
        estimated_bytes,
        estimate_source,
        target_lineage: None,
        protected_paths: Vec::new(),
    }
}

/// The name pattern of the backups written to `target` for `op`: the
/// pattern of the retention profile whose root is `target`, else of the
/// profile named for the operation (`backups`, `snapshots`).
pub(crate) fn target_pattern<'c>(
    cfg: &'c Config,
    target: &Path,
    op: crate::gate::Operation,
) -> Option<&'c str> {
    let profiles = &cfg.retention.0;
    profiles
        .values()
        .find(|p| p.root.as_deref().map(Path::new) == Some(target))
        .or_else(|| match op {
            crate::gate::Operation::Backup => profiles.get("backups"),
            crate::gate::Operation::Snapshot => profiles.get("snapshots"),
            _ => None,
        })
        .and_then(|p| p.pattern.as_deref())
}

/// Gathers the facts for `req`, with the lock state given by the caller.
fn gate_facts(
    host: &Host,
    cfg: &Config,
    req: &GateRequest,
    lock: gate::LockFacts,
    liveness: Option<gate::LivenessFacts>,
) -> gate::GateFacts {
    let op = req.operation;
    let target = req
        .target
        .clone()
        .or_else(|| cfg.gate.targets.get(&op).map(PathBuf::from));
    let disk = if op.writes_target() {
        target.map(|t| {
            let pattern = target_pattern(cfg, &t, op);
            let mut facts = disk_facts(host, &t, req.pgdata.as_deref(), req.estimate, pattern);
            let state_file = host.state.location(state::WAL_STATUS);
            let paths = retention::ProtectedPaths {
                state_dir: Path::new(&state_file).parent().map(Path::to_path_buf),
                pgdata: req.pgdata.clone(),
                config_file: None,
            };
            match (
                host.artifacts.lineage(&t),
                retention::protected(host, &paths),
            ) {
                (Ok(l), Ok(p)) => {
                    facts.target_lineage = Some(l);
                    facts.protected_paths = p;
                }
                (Err(e), _) | (_, Err(e)) => {
                    facts.target.probe_error = Some(format!(
                        "cannot prove it is apart from PGDATA, pg_wal and the state directory: {e}"
                    ))
                }
            }
            facts
        })
    } else {
        None
    };
    gate::GateFacts {
        wal_status: host.state.read(state::WAL_STATUS),
        contract_status: op
            .needs_contract()
            .then(|| host.state.read(state::CONTRACT_STATUS)),
        disk,
        lock,
        liveness,
    }
}

/// The decision with its target as the real path (symlinks, `..` and a
/// relative spelling resolved), so the log and the report name the
/// directory itself, however it was given.
fn with_real_target(host: &Host, mut decision: Decision) -> Decision {
    if let Some(t) = &decision.target {
        if let Ok(real) = host.artifacts.resolve(Path::new(t)) {
            decision.target = Some(real.display().to_string());
        }
    }
    decision
}

fn record(host: &Host, cfg: &Config, decision: &Decision) -> Result<()> {
    let lock = host.state.lock()?;
    host.state.rotate(
        &lock,
        state::GATE_LOG,
        cfg.gate.log_max_bytes.bytes(),
        cfg.gate.log_generations,
    )?;
    host.state
        .append_line(&lock, state::GATE_LOG, &state::GateLog::line(decision))
}

/// Decides whether `req.operation` may proceed now and appends the decision
/// to `gate.log`. `Err` means the decision could not be recorded — callers
/// must treat that as a denial.
pub fn gate(
    host: &Host,
    cfg: &Config,
    req: &GateRequest,
    liveness: Option<gate::LivenessFacts>,
    now: DateTime<Utc>,
) -> Result<Decision> {
    gate_with(
        host,
        cfg,
        req,
        host.state.operation_lock_state(),
        liveness,
        now,
    )
}

/// [`gate()`] with the lock facts given: a caller that holds the operation
/// lock itself re-decides with the lock counted as free (it is its own).
pub fn gate_with(
    host: &Host,
    cfg: &Config,
    req: &GateRequest,
    lock: gate::LockFacts,
    liveness: Option<gate::LivenessFacts>,
    now: DateTime<Utc>,
) -> Result<Decision> {
    let facts = gate_facts(host, cfg, req, lock, liveness);
    let decision = with_real_target(
        host,
        gate::evaluate(req.operation, &facts, &cfg.gate_policy(), now),
    );
    record(host, cfg, &decision)?;
    Ok(decision)
}

/// Like [`gate()`], but first takes the operation lock and, when allowed,
/// returns it so the caller runs the operation while holding it. A busy lock
/// is a denial (the holder is named), not an error.
pub fn gate_and_hold(
    host: &Host,
    cfg: &Config,
    req: &GateRequest,
    holder: &str,
    liveness: Option<gate::LivenessFacts>,
    now: DateTime<Utc>,
) -> Result<(Decision, Option<Held>)> {
    let (lock_facts, held) = match host.state.try_operation_lock(holder) {
        Ok(h) => (gate::LockFacts::default(), Some(h)),
        Err(Error::Locked { path, holder }) => (
            gate::LockFacts {
                held_by: Some(holder.unwrap_or_else(|| format!("{} is locked", path.display()))),
                error: None,
            },
            None,
        ),
        Err(e) => (
            gate::LockFacts {
                held_by: None,
                error: Some(e.to_string()),
            },
            None,
        ),
    };
    let facts = gate_facts(host, cfg, req, lock_facts, liveness);
    let decision = with_real_target(
        host,
        gate::evaluate(req.operation, &facts, &cfg.gate_policy(), now),
    );
    record(host, cfg, &decision)?;
    let held = if decision.allowed { held } else { None };
    Ok((decision, held))
}

/// Reads every known state file for `ssot status`: `(name, input)` pairs
/// (the growth history, an internal cache, is left out).
pub fn read_state(host: &Host) -> Vec<(&'static str, StateInput)> {
    STATE_FILES
        .into_iter()
        .filter(|n| *n != state::WAL_HISTORY)
        .map(|n| (n, host.state.read(n)))
        .collect()
}
