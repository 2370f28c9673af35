//! `contract check`: read the contract inputs (given, from the state
//! directory, from a live server, from the files PostgreSQL reads), evaluate
//! the architecture contract and record `contract.status` (and
//! `wal.settings` from the source of truth).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::evidence::for_update;
use super::{parse_contract_inputs, Ports, Ssot};
use crate::config::Config;
use crate::contract::{self, ContractInputs, ContractReport, Sourced};
use crate::decision::Operation;
use crate::error::{Error, Result};
use crate::inputs;
use crate::request::{ContractRequest, Input};
use crate::state::{self, load_record, BackupStatusRecord, StateInput};

impl Ssot {
    /// Reads the contract inputs (`active_pvc.list` defaults to the state
    /// directory's) and parses them ([`parse_contract_inputs`]); the backup
    /// location comes from `backup.status`, the backup target from the
    /// configuration.
    fn contract_inputs(&self, req: &ContractRequest) -> Result<ContractInputs> {
        let stdin: Vec<&str> = req
            .inputs()
            .into_iter()
            .filter(|(_, i)| i.is_some_and(Input::is_stdin))
            .map(|(name, _)| name)
            .collect();
        if stdin.len() > 1 {
            return Err(Error::Request(format!(
                "only one input can be read from standard input (-), not {}",
                stdin.join(" and ")
            )));
        }
        // Each input is small (a StatefulSet, pg_settings, ps, PVCs):
        // bounded well below the general input limit.
        let read = |i: &Option<Input>| -> Result<Option<Input>> {
            i.as_ref()
                .map(|i| {
                    self.read_max(i, CONTRACT_INPUT_MAX)
                        .map(|(text, origin)| Input::text(text, origin))
                })
                .transpose()
        };
        // postgresql.conf given as a file is read below, with its includes.
        let file = |i: &Option<Input>| match i {
            Some(Input::Path(p)) if !Input::Path(p.clone()).is_stdin() => Some(p.clone()),
            _ => None,
        };
        // postgresql.auto.conf given as a file, likewise, with its includes.
        let auto_path = file(&req.auto_conf);
        let conf_path = file(&req.postgresql_conf);
        let mut texts = ContractRequest {
            dsn: None,
            pgdata: Some(self.pgdata(req.pgdata.as_deref())),
            postgresql_conf: if conf_path.is_some() {
                None
            } else {
                read(&req.postgresql_conf)?
            },
            statefulset: read(&req.statefulset)?,
            settings: read(&req.settings)?,
            processes: read(&req.processes)?,
            pvcs: read(&req.pvcs)?,
            active_pvcs: read(&req.active_pvcs)?,
            auto_conf: if auto_path.is_some() {
                None
            } else {
                read(&req.auto_conf)?
            },
            slots: read(&req.slots)?,
            mounts: read(&req.mounts)?,
        };
        if texts.active_pvcs.is_none() {
            texts.active_pvcs = self.recorded_active_pvcs()?;
        }
        let mut c = parse_contract_inputs(&texts, &self.config.contract)?;
        if let Some(dsn) = self.dsn(req.dsn.as_deref()) {
            self.add_live(&mut c, dsn);
        }
        if let Some(path) = auto_path {
            c.auto_conf = Some(self.auto_conf(&path)?);
        }
        self.host_configuration(&mut c, conf_path)?;
        self.resolve_data_dirs(&mut c);
        c.pg_version = self.pg_version(c.pgdata.as_deref());
        let backups = self.ports.state.read(state::BACKUP_STATUS);
        if let Ok(rec) = load_record(&backups, BackupStatusRecord::from_file) {
            if let Some(b) = rec.last_complete.or(rec.last) {
                c.backup_location = Some(Sourced::new(b.location, backups.path()));
            }
        }
        c.backup_target = self.config.gate.targets.get(&Operation::Backup).cloned();
        Ok(c)
    }

    /// `active_pvc.list` from the state directory, when there is one.
    fn recorded_active_pvcs(&self) -> Result<Option<Input>> {
        Ok(match self.ports.state.read(state::ACTIVE_PVC_LIST) {
            StateInput::Present { path, content } => {
                Some(Input::text(String::from_utf8_lossy(&content), path))
            }
            StateInput::Unreadable { path, error } => {
                return Err(Error::Unreadable { path, error })
            }
            StateInput::Invalid { path, problem } => {
                return Err(Error::UnsafeFile {
                    path: path.into(),
                    problem,
                })
            }
            StateInput::Missing { .. } => None,
        })
    }

    /// Probes the server `dsn`: what it answered fills the inputs not given
    /// (pg_settings, the slots, the processes), and the probe itself is an input.
    fn add_live(&self, c: &mut ContractInputs, dsn: &str) {
        let (server, probed) = self.probe(dsn);
        if let Ok(l) = &probed {
            if c.settings.is_none() {
                c.settings = Some(Sourced::new(
                    l.settings.clone(),
                    format!("pg_settings ({server})"),
                ));
            }
            if c.slots.is_none() {
                c.slots = Some(Sourced::new(
                    l.slots.clone(),
                    format!("pg_replication_slots ({server})"),
                ));
            }
            if c.processes.is_none() {
                c.processes = Some(Sourced::new(
                    l.processes(),
                    format!("pg_stat_activity ({server})"),
                ));
            }
        }
        c.live = Some(Sourced::new(probed, server));
    }

    /// `postgresql.conf` (with its includes) from `given`, and on a host the
    /// files PostgreSQL itself reads when they were not given: the
    /// configuration the running server names (`config_file`), else
    /// PGDATA's; and the data directory's `postgresql.auto.conf`.
    fn host_configuration(&self, c: &mut ContractInputs, given: Option<PathBuf>) -> Result<()> {
        let deployment = self
            .config
            .contract
            .deployment
            .resolve(c.statefulset.is_some());
        let host = deployment == crate::contract::Deployment::Host;
        let running = |name: &str| -> Option<PathBuf> {
            match c.live.as_ref().map(|l| &l.value) {
                Some(Ok(l)) => l
                    .settings
                    .get(name)
                    .map(|r| PathBuf::from(&r.setting))
                    .filter(|p| p.is_absolute()),
                _ => None,
            }
        };
        let pgdata = c.pgdata.as_ref().map(PathBuf::from);
        let exists = |p: &Path| -> Result<bool> {
            Ok(self.ports.fs.kind(p)? == Some(crate::ports::PathKind::File))
        };
        let conf_path = match given {
            Some(p) => Some(p),
            None if host && c.conf.is_none() => match running("config_file")
                .or_else(|| self.config.postgres.config_file.as_ref().map(PathBuf::from))
            {
                Some(p) => Some(p),
                None => match pgdata.as_ref().map(|d| d.join("postgresql.conf")) {
                    Some(p) if exists(&p)? => Some(p),
                    _ => None,
                },
            },
            None => None,
        };
        if let Some(path) = conf_path {
            let conf = inputs::read_postgresql_conf(&path, &PortConfFiles(&*self.ports.fs))?;
            c.conf = Some(Sourced::new(conf, path.display().to_string()));
        }
        if host && c.auto_conf.is_none() {
            if let Some(path) = running("data_directory")
                .or(pgdata)
                .map(|d| d.join("postgresql.auto.conf"))
            {
                // Absent is fine; anything there is read (a FIFO or a
                // directory is refused by name, never taken as absent).
                if self.ports.fs.kind(&path)?.is_some() {
                    c.auto_conf = Some(self.auto_conf(&path)?);
                }
            }
        }
        Ok(())
    }

    /// PostgreSQL's major version from `PGDATA/PG_VERSION` (a regular file
    /// of a few bytes), if it can be read.
    fn pg_version(&self, pgdata: Option<&str>) -> Option<Sourced<u32>> {
        let path = Path::new(pgdata?).join("PG_VERSION");
        if self.ports.fs.kind(&path).ok()?? != crate::ports::PathKind::File
            || self.ports.fs.size_followed(&path).ok()?? > 64
        {
            return None;
        }
        let text = self.ports.fs.read_input(&path).ok()?;
        let major = text.trim().parse().ok()?;
        Some(Sourced::new(major, path.display().to_string()))
    }

    /// The data directories the host's volume invariant compares, resolved
    /// through symbolic links (a path that cannot be resolved is compared
    /// as written).
    fn resolve_data_dirs(&self, c: &mut ContractInputs) {
        let mut named: Vec<String> = c.pgdata.iter().cloned().collect();
        if let Some(conf) = &c.conf {
            match conf.value.settings.get("data_directory") {
                Some(l) => named.push(l.value.clone()),
                None => named.extend(
                    Path::new(&conf.origin)
                        .parent()
                        .map(|p| p.display().to_string()),
                ),
            }
        }
        if let Some(s) = &c.settings {
            named.extend(s.value.get("data_directory").map(|r| r.setting.clone()));
        }
        for p in named {
            let written = crate::contract::written_dir(&p).to_string();
            if !Path::new(&written).is_absolute() {
                continue;
            }
            if let Ok(real) = self.ports.artifacts.resolve(Path::new(&written)) {
                c.real_dirs.insert(written, real.display().to_string());
            }
        }
    }

    /// `postgresql.auto.conf` read as PostgreSQL reads it: its includes too.
    fn auto_conf(
        &self,
        path: &Path,
    ) -> Result<Sourced<std::collections::BTreeMap<String, inputs::ConfLine>>> {
        let origin = path.display().to_string();
        let conf = inputs::read_postgresql_conf(path, &PortConfFiles(&*self.ports.fs))?;
        Ok(Sourced::new(
            inputs::auto_conf_lines(&conf, &origin),
            origin,
        ))
    }

    /// Checks the architecture contract against the inputs given and records
    /// `contract.status` (and `wal.settings` when the StatefulSet was given).
    pub fn check_contract(
        &self,
        req: &ContractRequest,
        now: DateTime<Utc>,
    ) -> Result<ContractReport> {
        match self.contract_inputs(req) {
            Ok(inputs) => contract_check(&self.ports, &self.config, &inputs, now),
            // A caller's mistake: nothing was checked, nothing is recorded.
            Err(e @ (Error::Request(_) | Error::NotGiven { .. })) => Err(e),
            // Inputs that cannot be read: recorded as a FAIL naming them, so
            // an earlier PASS does not stand for what can no longer be read.
            Err(e) => {
                let report = crate::contract::unreadable_inputs(
                    &e.to_string(),
                    req.statefulset.is_some(),
                    &self.config.contract,
                    now,
                );
                record_contract(&self.ports, &report, now)?;
                Ok(report)
            }
        }
    }
}

/// Evaluates the contract and records it: `contract.status` always, and
/// `wal.settings` when the StatefulSet (the source of truth) was given.
pub fn contract_check(
    ports: &Ports,
    cfg: &Config,
    inputs: &ContractInputs,
    now: DateTime<Utc>,
) -> Result<ContractReport> {
    let report = contract::evaluate(inputs, &cfg.contract, now);
    record_contract(ports, &report, now)?;
    Ok(report)
}

/// Records a contract report: `contract.status` always, and `wal.settings`
/// when the report carries the declared WAL settings.
pub fn record_contract(ports: &Ports, report: &ContractReport, now: DateTime<Utc>) -> Result<()> {
    let lock = ports.state.lock()?;
    let mut f = for_update(ports, state::CONTRACT_STATUS)?;
    state::write_contract_status(&mut f, report)?;
    ports
        .state
        .write_atomic(&lock, state::CONTRACT_STATUS, f.render().as_bytes())?;
    if let Some(wal) = &report.declared_wal {
        let mut w = for_update(ports, state::WAL_SETTINGS)?;
        state::write_wal_settings(&mut w, wal, now)?;
        ports
            .state
            .write_atomic(&lock, state::WAL_SETTINGS, w.render().as_bytes())?;
    }
    Ok(())
}

/// The largest configuration file read (`postgresql.conf` and its includes).
const CONF_FILE_MAX: u64 = 16 << 20;

/// The configuration files PostgreSQL includes, read through the ports.
/// The most a contract input given as a file is read: 64 MiB (a
/// `kubectl get pvc -o json` of thousands of claims is a few MiB).
const CONTRACT_INPUT_MAX: u64 = 64 << 20;

struct PortConfFiles<'a>(&'a dyn crate::ports::Filesystem);

impl inputs::ConfFiles for PortConfFiles<'_> {
    fn read(&self, path: &Path) -> Result<Option<String>> {
        match self.0.kind(path)? {
            None => Ok(None),
            Some(crate::ports::PathKind::File) => {
                // Refused before it is read: a configuration file is small.
                // Followed through a symlink, as PostgreSQL opens it.
                if let Some(size) = self.0.size_followed(path)? {
                    if size > CONF_FILE_MAX {
                        return Err(Error::input(
                            path.display().to_string(),
                            format!(
                                "is {size} bytes, more than the {} MiB a configuration file is read up to",
                                CONF_FILE_MAX >> 20
                            ),
                        ));
                    }
                }
                // Any bytes in a comment, as PostgreSQL takes them; a value
                // that is not UTF-8 reads with U+FFFD and then matches nothing.
                let bytes = self.0.read_input_bytes(path)?;
                Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
            }
            // A FIFO would block the read forever; a directory is no file.
            Some(_) => Err(Error::input(
                path.display().to_string(),
                "is not a regular file",
            )),
        }
    }

    fn dir(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        self.0.conf_dir(dir)
    }
}
