//! `gate`: may a snapshot, backup, restore or startup proceed now?
//!
//! Gathers the gate's facts (`wal.status`, `contract.status`, the target's
//! disk and its distance from PGDATA, pg_wal and the state directory, the
//! operation lock, the server's liveness), decides with
//! [`crate::gate::evaluate`] and appends the decision to `gate.log`. The
//! disk facts are shared with the report ([`disk_facts`]).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::{retention, Ports, Ssot};
use crate::config::Config;
use crate::decision::{Decision, Operation};
use crate::disk::{DiskFacts, ProtectedVolume, TargetFacts};
use crate::error::{Error, Result};
use crate::gate;
use crate::inputs;
use crate::ports::{Held, PathKind};
use crate::request::GateRequest;
use crate::state;
use crate::units::ByteSize;

impl Ssot {
    /// The liveness probe a data operation's gate makes when a DSN is
    /// configured: `SELECT 1`, bounded by the client's timeouts (5s to
    /// connect, 20s in all). Startup is judged without it (the server is
    /// not running then).
    fn liveness(&self, op: Operation) -> Option<crate::gate::LivenessFacts> {
        if !op.writes_target() {
            return None;
        }
        let dsn = self.dsn(None)?;
        let server = inputs::mask_dsn(dsn);
        let error = match self.ports.db.query_value(dsn, "SELECT 1") {
            Ok(v) if v.trim() == "1" => None,
            Ok(v) => Some(format!("answered {:?} to SELECT 1", v.trim())),
            Err(e) => Some(inputs::redact(&e.to_string(), dsn)),
        };
        Some(crate::gate::LivenessFacts { server, error })
    }

    fn gate_request(&self, req: &GateRequest) -> GateRequest {
        GateRequest {
            pgdata: Some(self.pgdata(req.pgdata.as_deref())),
            ..req.clone()
        }
    }

    /// Decides whether `req.operation` may proceed now and appends the
    /// decision to `gate.log`. The decision authorises work, so it is made at
    /// the real time ([`Ssot::authorizing_now`]; `given` is only checked
    /// against it). `Err` means no decision could be recorded: treat it as a
    /// denial ([`crate::exit::gate_failed`]).
    pub fn gate(&self, req: &GateRequest, given: Option<DateTime<Utc>>) -> Result<Decision> {
        let now = self.authorizing_now(&format!("gate {}", req.operation), given)?;
        let liveness = self.liveness(req.operation);
        gate(
            &self.ports,
            &self.config,
            &self.gate_request(req),
            liveness,
            now,
        )
    }

    /// Decides again, at the real time, whether `req.operation` may go on,
    /// for a caller that already holds its operation lock (from
    /// [`Ssot::gate_and_hold`]) and is about to start a command under it: an
    /// allowed decision does not stay allowed while WAL, disk or the
    /// contract turn bad. The same checks, the lock counted as the caller's;
    /// the decision goes to `gate.log`. Denied: do not run the command.
    pub fn recheck(&self, req: &GateRequest) -> Result<Decision> {
        gate_with(
            &self.ports,
            &self.config,
            &self.gate_request(req),
            crate::gate::LockFacts::default(),
            self.liveness(req.operation),
            self.now(),
        )
    }

    /// Like [`Ssot::gate`], but first takes the operation lock (naming
    /// `command` as its holder) and, when allowed, returns it: run the
    /// operation while holding it (the CLI execs the command with it, see
    /// [`crate::host::exec_holding`]; other surfaces run it with
    /// [`crate::host::run_holding`]). A busy lock is a denial, not an error.
    pub fn gate_and_hold(
        &self,
        req: &GateRequest,
        command: &[String],
        given: Option<DateTime<Utc>>,
    ) -> Result<(Decision, Option<Held>)> {
        let now = self.authorizing_now(&format!("gate {}", req.operation), given)?;
        let holder = format!(
            "{} by pid {} since {}: {}",
            req.operation,
            std::process::id(),
            state::timestamp(now),
            command.join(" ")
        );
        gate_and_hold(
            &self.ports,
            &self.config,
            &self.gate_request(req),
            &holder,
            self.liveness(req.operation),
            now,
        )
    }

    /// Names `pid` (a gated command ssot runs as a child, in its own
    /// process group) as the holder of the operation `lock`, so that a
    /// second gate names the process that really holds it.
    pub fn hand_lock_to(
        &self,
        lock: &Held,
        operation: Operation,
        pid: u32,
        command: &[String],
    ) -> Result<()> {
        let holder = format!(
            "{operation} by pid {pid} since {}: {}",
            state::timestamp(self.now()),
            command.join(" ")
        );
        self.ports.state.update_operation_lock(lock, &holder)
    }
}

fn target_facts(ports: &Ports, path: &Path) -> TargetFacts {
    let mut t = TargetFacts {
        path: path.display().to_string(),
        ..TargetFacts::default()
    };
    match ports.fs.kind(path) {
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
    t.write_error = ports.fs.probe_write(path).err().map(|e| e.to_string());
    match (ports.volumes.device(path), ports.volumes.volume(path)) {
        (Ok(d), Ok(v)) => {
            t.device = Some(d);
            t.volume = Some(v);
        }
        (Err(e), _) | (_, Err(e)) => t.probe_error = Some(e.to_string()),
    }
    t
}

pub(crate) fn protected_volumes(ports: &Ports, pgdata: Option<&Path>) -> Vec<ProtectedVolume> {
    let Some(pgdata) = pgdata else {
        return Vec::new();
    };
    let probe = |label: &str, path: &Path| {
        let (device, error) = match ports.volumes.device(path) {
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
    if let Ok(resolved) = ports.wal.resolve(pgdata) {
        let v = probe("pg_wal", &resolved);
        if v.device != out[0].device {
            out.push(v);
        }
    } else if ports.fs.kind(&pg_wal).ok().flatten().is_some() {
        out.push(probe("pg_wal", &pg_wal));
    }
    out
}

/// Disk-guard facts for `target`: what it is, its volume, the SSOT volumes it
/// must differ from, and the estimate (given, else the newest file in it).
pub(crate) fn disk_facts(
    ports: &Ports,
    target: &Path,
    pgdata: Option<&Path>,
    estimate: Option<ByteSize>,
    pattern: Option<&str>,
) -> DiskFacts {
    let t = target_facts(ports, target);
    let (estimated_bytes, estimate_source) = match estimate {
        Some(b) => (b.bytes(), "given estimate".to_string()),
        None if t.is_dir => {
            // The state directory or PGDATA inside the target is never a backup.
            let state_file = ports.state.location(state::WAL_STATUS);
            let paths = retention::ProtectedPaths {
                state_dir: Path::new(&state_file).parent().map(Path::to_path_buf),
                pgdata: pgdata.map(Path::to_path_buf),
                config_file: None,
            };
            let protected = retention::protected(ports, &paths).unwrap_or_default();
            let listed = ports
                .artifacts
                .resolve(target)
                .and_then(|r| ports.artifacts.open(&r))
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
        protected: protected_volumes(ports, pgdata),
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
    ports: &Ports,
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
            let mut facts = disk_facts(ports, &t, req.pgdata.as_deref(), req.estimate, pattern);
            let state_file = ports.state.location(state::WAL_STATUS);
            let paths = retention::ProtectedPaths {
                state_dir: Path::new(&state_file).parent().map(Path::to_path_buf),
                pgdata: req.pgdata.clone(),
                config_file: None,
            };
            match (
                ports.artifacts.lineage(&t),
                retention::protected(ports, &paths),
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
        wal_status: ports.state.read(state::WAL_STATUS),
        contract_status: op
            .needs_contract()
            .then(|| ports.state.read(state::CONTRACT_STATUS)),
        disk,
        lock,
        liveness,
    }
}

/// The decision with its target as the real path (symlinks, `..` and a
/// relative spelling resolved), so the log and the report name the
/// directory itself, however it was given.
fn with_real_target(ports: &Ports, mut decision: Decision) -> Decision {
    if let Some(t) = &decision.target {
        if let Ok(real) = ports.artifacts.resolve(Path::new(t)) {
            decision.target = Some(real.display().to_string());
        }
    }
    decision
}

fn record(ports: &Ports, cfg: &Config, decision: &Decision) -> Result<()> {
    let lock = ports.state.lock()?;
    ports.state.rotate(
        &lock,
        state::GATE_LOG,
        cfg.gate.log_max_bytes.bytes(),
        cfg.gate.log_generations,
    )?;
    ports
        .state
        .append_line(&lock, state::GATE_LOG, &state::GateLog::line(decision))
}

/// Decides whether `req.operation` may proceed now and appends the decision
/// to `gate.log`. `Err` means the decision could not be recorded — callers
/// must treat that as a denial.
pub fn gate(
    ports: &Ports,
    cfg: &Config,
    req: &GateRequest,
    liveness: Option<gate::LivenessFacts>,
    now: DateTime<Utc>,
) -> Result<Decision> {
    gate_with(
        ports,
        cfg,
        req,
        ports.state.operation_lock_state(),
        liveness,
        now,
    )
}

/// [`gate()`] with the lock facts given: a caller that holds the operation
/// lock itself re-decides with the lock counted as free (it is its own).
pub fn gate_with(
    ports: &Ports,
    cfg: &Config,
    req: &GateRequest,
    lock: gate::LockFacts,
    liveness: Option<gate::LivenessFacts>,
    now: DateTime<Utc>,
) -> Result<Decision> {
    let facts = gate_facts(ports, cfg, req, lock, liveness);
    let decision = with_real_target(
        ports,
        gate::evaluate(req.operation, &facts, &cfg.gate_policy(), now),
    );
    record(ports, cfg, &decision)?;
    Ok(decision)
}

/// Like [`gate()`], but first takes the operation lock and, when allowed,
/// returns it so the caller runs the operation while holding it. A busy lock
/// is a denial (the holder is named), not an error.
pub fn gate_and_hold(
    ports: &Ports,
    cfg: &Config,
    req: &GateRequest,
    holder: &str,
    liveness: Option<gate::LivenessFacts>,
    now: DateTime<Utc>,
) -> Result<(Decision, Option<Held>)> {
    let (lock_facts, held) = match ports.state.try_operation_lock(holder) {
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
    let facts = gate_facts(ports, cfg, req, lock_facts, liveness);
    let decision = with_real_target(
        ports,
        gate::evaluate(req.operation, &facts, &cfg.gate_policy(), now),
    );
    record(ports, cfg, &decision)?;
    let held = if decision.allowed { held } else { None };
    Ok((decision, held))
}
