//! [`Ssot`]: the one entry point every surface calls.
//!
//! An `Ssot` owns the effective [`Config`] and the [`Ports`] through which
//! facts come in. It has one method per operation the CLI offers; each takes
//! a request (see [`request`]) and `now`, and returns a result that
//! serializes to the JSON the CLI prints, renders itself as the CLI's text
//! (`Display`) and knows its exit code ([`Outcome`]). The CLI, the Python
//! module and the Rhai engine only convert their inputs into requests and
//! print what comes back.

mod outcome;
mod pure;
pub mod request;
mod results;
mod text;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

pub use outcome::{exit, json, write_json, Outcome};
pub use pure::{parse_contract_inputs, report_from_files};
pub use request::{
    ApplyMode, BackupRequest, Catalog, ContractRequest, DrDrillRequest, DrillResult, GateRequest,
    InlineText, Input, ReportFormat, ReportRequest, RestoreDrillRequest, RetentionRequest,
    WalCheckRequest,
};
pub use results::{
    BackupRecorded, ConfigView, DrDrillRecorded, RestoreDrillRecorded, RetentionPlanned,
    StageChecks, StatusView, VerifyOutcome,
};
pub use text::Brief;

use crate::config::{Config, ConfigSource};
use crate::contract::{ContractInputs, ContractReport, Sourced};
use crate::decision::{Decision, Operation};
use crate::error::{Error, Result};
use crate::evidence::{BackupEvidence, DrDrillEvidence, RestoreDrillEvidence};
use crate::inputs::{self, LiveFacts};
use crate::ports::{
    ArtifactRoot, Clock, Database, Filesystem, Held, StateStore, VolumeProbe, WalScanner,
};
use crate::report::{self, Report};
use crate::retention::{self, Artifact, RetentionPolicy};
use crate::service::{self, Host, ProtectedPaths, RetentionSource, WalCheckInput};
pub use crate::service::{ApplyOutcome, WalCheck};
use crate::state::{self, load_record, BackupStatusRecord, StateInput};

/// The marker file ssot writes into a drill's scratch directory (see
/// [`Ssot::drill_scratch`]).
pub const DRILL_MARKER: &str = ".ssot-drill-scratch";

/// The ports an [`Ssot`] gathers facts through, owned. [`Ports::standard`]
/// is the real host; tests and the demo put fakes in any slot.
pub struct Ports {
    /// Measures pg_wal.
    pub wal: Box<dyn WalScanner + Send + Sync>,
    /// Reads volume sizes and device ids.
    pub volumes: Box<dyn VolumeProbe + Send + Sync>,
    /// Probes targets, reads inputs, writes outputs.
    pub fs: Box<dyn Filesystem + Send + Sync>,
    /// The state directory.
    pub state: Box<dyn StateStore + Send + Sync>,
    /// Artifact roots (retention).
    pub artifacts: Box<dyn ArtifactRoot + Send + Sync>,
    /// The wall clock, for callers that do not give `now` ([`Ssot::now`]).
    pub clock: Box<dyn Clock + Send + Sync>,
    /// The live PostgreSQL server, when a probe is asked for.
    pub db: Box<dyn Database + Send + Sync>,
}

impl Ports {
    /// The real host: std, nix and fs2 over the state directory `state_dir`.
    #[cfg(feature = "host")]
    #[cfg_attr(docsrs, doc(cfg(feature = "host")))]
    pub fn standard(state_dir: &Path) -> Ports {
        use crate::host;
        Ports {
            wal: Box::new(host::FsWalScanner),
            volumes: Box::new(host::StatvfsVolumes),
            fs: Box::new(host::StdFilesystem),
            state: Box::new(host::DirStateStore::new(state_dir)),
            artifacts: Box::new(host::FsArtifactRoot),
            clock: Box::new(host::SystemClock),
            db: Box::new(host::PsqlClient::default()),
        }
    }

    fn host(&self) -> Host<'_> {
        Host {
            wal: &*self.wal,
            volumes: &*self.volumes,
            fs: &*self.fs,
            state: &*self.state,
            artifacts: &*self.artifacts,
        }
    }
}

impl std::fmt::Debug for Ports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ports")
    }
}

/// ssot: the effective configuration and the ports, with one method per operation.
///
/// ```no_run
/// use ssot_core::{GateRequest, Outcome, Ssot};
/// use ssot_core::gate::Operation;
///
/// let ssot = Ssot::open(None, None)?; // /opt/ssot/ssot.toml if present, else the seed defaults
/// let decision = ssot.gate(&GateRequest::new(Operation::Backup), None)?; // at the real time
/// print!("{decision}");
/// std::process::exit(decision.exit_code().into());
/// # Ok::<(), ssot_core::Error>(())
/// ```
#[derive(Debug)]
pub struct Ssot {
    config: Config,
    source: ConfigSource,
    state_dir: PathBuf,
    ports: Ports,
}

impl Ssot {
    /// The real host over the configuration's state directory.
    #[cfg(feature = "host")]
    #[cfg_attr(docsrs, doc(cfg(feature = "host")))]
    pub fn new(config: Config) -> Ssot {
        let dir = PathBuf::from(&config.state_dir);
        Ssot::with_state_dir(config, dir)
    }

    /// The real host over `state_dir` instead of the configuration's.
    #[cfg(feature = "host")]
    #[cfg_attr(docsrs, doc(cfg(feature = "host")))]
    pub fn with_state_dir(config: Config, state_dir: impl Into<PathBuf>) -> Ssot {
        let state_dir = state_dir.into();
        Ssot {
            ports: Ports::standard(&state_dir),
            config,
            source: ConfigSource::defaults(),
            state_dir,
        }
    }

    /// Loads the configuration ([`Config::load`]: `config_file`, else
    /// `/opt/ssot/ssot.toml` or `/etc/ssot/ssot.toml` if present, else the
    /// seed defaults) and opens
    /// the real host over `state_dir` (else the configuration's).
    #[cfg(feature = "host")]
    #[cfg_attr(docsrs, doc(cfg(feature = "host")))]
    pub fn open(config_file: Option<&Path>, state_dir: Option<&Path>) -> Result<Ssot> {
        let (config, source) = Config::load(config_file)?;
        let dir = state_dir
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(&config.state_dir));
        Ok(Ssot::with_state_dir(config, dir).with_source(source))
    }

    /// [`Ssot::open`] as every surface opens it: the configuration file and
    /// state directory given, else those of `env` (`SSOT_CONFIG`,
    /// `SSOT_STATE_DIR`), else the defaults; then [`Ssot::in_environment`].
    #[cfg(feature = "host")]
    #[cfg_attr(docsrs, doc(cfg(feature = "host")))]
    pub fn open_in(
        env: &crate::host::Environment,
        config_file: Option<&Path>,
        state_dir: Option<&Path>,
    ) -> Result<Ssot> {
        let (config, source) = Config::load(config_file.or(env.config.as_deref()))?;
        Ok(Ssot::in_environment(config, source, env, state_dir))
    }

    /// The real host over a configuration already loaded, in `env`: `PGDATA`
    /// and `SSOT_DSN` replace the configuration's `postgres.pgdata` and
    /// `postgres.dsn` (a request's own `pgdata`/`dsn` still wins); the state
    /// directory is `state_dir`, else `SSOT_STATE_DIR`, else the configuration's.
    #[cfg(feature = "host")]
    #[cfg_attr(docsrs, doc(cfg(feature = "host")))]
    pub fn in_environment(
        mut config: Config,
        mut source: ConfigSource,
        env: &crate::host::Environment,
        state_dir: Option<&Path>,
    ) -> Ssot {
        let mut from_env = Vec::new();
        if let Some(p) = &env.pgdata {
            config.postgres.pgdata = p.display().to_string();
            from_env.push("PGDATA");
        }
        if let Some(d) = &env.dsn {
            config.postgres.dsn = Some(d.clone());
            from_env.push("SSOT_DSN");
        }
        if !from_env.is_empty() {
            source.origin = format!(
                "{} + {} from the environment",
                source.origin,
                from_env.join(", ")
            );
        }
        let dir = state_dir
            .or(env.state_dir.as_deref())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(&config.state_dir));
        Ssot::with_state_dir(config, dir).with_source(source)
    }

    /// Any ports (fakes, a sandbox); the state directory is the configuration's.
    pub fn with_host(config: Config, ports: Ports) -> Ssot {
        Ssot {
            state_dir: PathBuf::from(&config.state_dir),
            config,
            source: ConfigSource::defaults(),
            ports,
        }
    }

    /// Records where the configuration came from (shown by `config show`;
    /// a configuration file is protected from retention).
    pub fn with_source(mut self, source: ConfigSource) -> Ssot {
        self.source = source;
        self
    }

    /// The effective configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Where the configuration came from.
    pub fn source(&self) -> &ConfigSource {
        &self.source
    }

    /// The state directory.
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// The time by the ports' clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.ports.clock.now()
    }

    fn host(&self) -> Host<'_> {
        self.ports.host()
    }

    fn pgdata(&self, given: Option<&Path>) -> PathBuf {
        given
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(&self.config.postgres.pgdata))
    }

    /// Reads an input: a file through the ports, or inline text. Returns the
    /// text and its origin for messages.
    fn read(&self, input: &Input) -> Result<(String, String)> {
        self.read_max(input, u64::MAX)
    }

    /// [`Self::read`], a file bounded to `max` bytes (and always to the
    /// general input limit).
    fn read_max(&self, input: &Input, max: u64) -> Result<(String, String)> {
        match input {
            Input::Path(p) => Ok((
                self.ports.fs.read_input_max(p, max)?,
                p.display().to_string(),
            )),
            Input::Text(t) => Ok((t.text.clone(), t.origin.clone())),
        }
    }

    /// The server to probe: the request's, else the configuration's.
    fn dsn<'a>(&'a self, given: Option<&'a str>) -> Option<&'a str> {
        given
            .or(self.config.postgres.dsn.as_deref())
            .filter(|d| !d.trim().is_empty())
    }

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

    /// Probes the server `dsn` (see [`crate::inputs::LIVE_QUERY`]): what it
    /// saw, or why it could not, with the server's name (password masked).
    pub fn probe(&self, dsn: &str) -> (String, std::result::Result<LiveFacts, String>) {
        let server = inputs::mask_dsn(dsn);
        let facts = self
            .ports
            .db
            .query_value(dsn, inputs::LIVE_QUERY)
            .and_then(|text| inputs::parse_live(&text, &server))
            .map_err(|e| inputs::redact(&e.to_string(), dsn));
        (server, facts)
    }

    /// Measures pg_wal, evaluates the WAL status and records it (`wal.status`,
    /// `wal.history`, `wal.last_check`). A failed measurement is an `ERROR`
    /// result, not an `Err`; `Err` means the state directory could not be
    /// locked or written (slots that cannot be read fail the measurement).
    pub fn check_wal(&self, req: &WalCheckRequest, now: DateTime<Utc>) -> Result<WalCheck> {
        let mut input = WalCheckInput::default();
        if let Some(i) = &req.slots {
            // Slots that cannot be read are a failed measurement (recorded,
            // ERROR), never a reason to leave the previous status standing.
            match self
                .read(i)
                .and_then(|(text, origin)| inputs::parse_slots(&text, &origin))
            {
                Ok(slots) => input.slots = slots,
                Err(e) => input.slots_error = Some(e.to_string()),
            }
            input.slots_given = true;
        }
        if let Some(dsn) = self.dsn(req.dsn.as_deref()) {
            let (server, probed) = self.probe(dsn);
            input.live = Some(match probed {
                Ok(l) => {
                    if req.slots.is_none() {
                        input.slots = l.slots.clone();
                    }
                    input.waldir = Some(l.waldir);
                    crate::wal::LiveWalFacts {
                        server,
                        unreachable: None,
                        archiver: Some(l.archiver),
                        slots_seen_at: None,
                        archiver_seen_at: None,
                        in_recovery: l.in_recovery,
                        wal_segment_size: l
                            .settings
                            .get("wal_segment_size")
                            .and_then(|r| {
                                crate::contract::guc::parse_setting_row(
                                    "wal_segment_size",
                                    &r.setting,
                                    r.unit.as_deref(),
                                )
                                .ok()
                            })
                            .and_then(|v| v.bytes()),
                    }
                }
                Err(why) => crate::wal::LiveWalFacts {
                    server,
                    unreachable: Some(why),
                    archiver: None,
                    slots_seen_at: None,
                    archiver_seen_at: None,
                    in_recovery: false,
                    wal_segment_size: None,
                },
            });
        }
        let pgdata = self.pgdata(req.pgdata.as_deref());
        service::check_wal(&self.host(), &self.config, &pgdata, &input, now)
    }

    fn gate_request(&self, req: &GateRequest) -> GateRequest {
        GateRequest {
            pgdata: Some(self.pgdata(req.pgdata.as_deref())),
            ..req.clone()
        }
    }

    /// The time a decision that authorises work is made at: always the real
    /// clock (the ports' [`Clock`]). A caller may say what time it believes
    /// it is (`given`, the CLI's `--now`); a time farther from the real clock
    /// than `gate.max_clock_skew` is refused ([`Error::ClockRefused`]), never
    /// used: a chosen time must not make stale state fresh or future-dated
    /// state current.
    pub fn authorizing_now(
        &self,
        operation: &str,
        given: Option<DateTime<Utc>>,
    ) -> Result<DateTime<Utc>> {
        let real = self.now();
        match given {
            Some(g) if (g - real).abs() > self.config.gate.max_clock_skew.to_delta() => {
                Err(Error::ClockRefused {
                    operation: operation.to_string(),
                    given: g,
                    real,
                    max_skew: self.config.gate.max_clock_skew,
                })
            }
            _ => Ok(real),
        }
    }

    /// Decides whether `req.operation` may proceed now and appends the
    /// decision to `gate.log`. The decision authorises work, so it is made at
    /// the real time ([`Ssot::authorizing_now`]; `given` is only checked
    /// against it). `Err` means no decision could be recorded: treat it as a
    /// denial ([`exit::gate_failed`]).
    pub fn gate(&self, req: &GateRequest, given: Option<DateTime<Utc>>) -> Result<Decision> {
        let now = self.authorizing_now(&format!("gate {}", req.operation), given)?;
        let liveness = self.liveness(req.operation);
        service::gate(
            &self.host(),
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
        service::gate_with(
            &self.host(),
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
        service::gate_and_hold(
            &self.host(),
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

    /// The paths an artifact root must never hold.
    fn protected(&self, pgdata: Option<&Path>) -> ProtectedPaths {
        ProtectedPaths {
            state_dir: Some(self.state_dir.clone()),
            pgdata: Some(self.pgdata(pgdata)),
            config_file: self.source.file.clone(),
        }
    }

    /// Resolves source, policy and profile name: the profile's root, pattern
    /// and policy, with the request's keys on top.
    fn retention_inputs(
        &self,
        req: &RetentionRequest,
    ) -> Result<(RetentionSource, RetentionPolicy, String)> {
        let profile =
            match &req.profile {
                Some(name) => Some(self.config.retention.0.get(name).ok_or_else(|| {
                    Error::UnknownProfile {
                        name: name.clone(),
                        known: self.config.retention.0.keys().cloned().collect(),
                    }
                })?),
                None => None,
            };
        let base = profile.map(|p| p.policy.clone()).unwrap_or_default();
        let policy = req.policy.apply_to(&base);
        policy.tz()?;
        if let Some(p) = &req.pattern {
            retention::source::validate_pattern(p)?;
        }
        let source = match (&req.catalog, &req.dir) {
            (Some(_), Some(_)) => {
                return Err(Error::Request("give a dir or a catalog, not both".into()))
            }
            (Some(catalog), None) => {
                let artifacts = match catalog {
                    Catalog::Artifacts(a) => a.clone(),
                    Catalog::Input(i) => {
                        let (text, origin) = self.read(i)?;
                        serde_json::from_str::<Vec<Artifact>>(&text).map_err(|e| {
                            Error::InputFile {
                                origin,
                                line: Some(e.line()),
                                column: Some(e.column()),
                                message: format!("not a JSON array of artifacts: {e}"),
                            }
                        })?
                    }
                };
                RetentionSource::Catalog {
                    artifacts,
                    root: req.root.clone(),
                }
            }
            (None, dir) => {
                if req.root.is_some() {
                    return Err(Error::Request(
                        "a root goes with a catalog (a dir is its own root)".into(),
                    ));
                }
                let root = dir
                    .clone()
                    .or_else(|| profile.and_then(|p| p.root.clone()).map(PathBuf::from))
                    .ok_or(Error::NotGiven {
                        field: "dir",
                        message: "no artifacts to plan over: give a dir, a catalog, or a profile with a root".into(),
                    })?;
                let pattern = req
                    .pattern
                    .clone()
                    .or_else(|| profile.and_then(|p| p.pattern.clone()));
                RetentionSource::Dir { root, pattern }
            }
        };
        let name = req.profile.clone().unwrap_or_else(|| "default".into());
        Ok((source, policy, name))
    }

    /// Lists the artifacts and plans. Reads only. A root that holds, or lies
    /// in, the state directory, PGDATA, pg_wal or the configuration file is
    /// refused before it is listed.
    pub fn plan_retention(
        &self,
        req: &RetentionRequest,
        now: DateTime<Utc>,
    ) -> Result<RetentionPlanned> {
        let (source, policy, profile) = self.retention_inputs(req)?;
        let paths = self.protected(req.pgdata.as_deref());
        let plan = service::retention_plan(&self.host(), &source, &policy, &paths, now)?;
        Ok(RetentionPlanned { profile, plan })
    }

    /// Plans and, when `mode` allows, deletes (see [`ApplyMode`]). Under the
    /// operation lock and the root's lock, each deletion journalled first:
    /// killed at any moment and run again, it ends where an uninterrupted
    /// run would.
    ///
    /// A dry run reads only and is evaluated at `given` (else the clock);
    /// an apply that deletes authorises work and runs at the real time
    /// ([`Ssot::authorizing_now`]).
    pub fn apply_retention(
        &self,
        req: &RetentionRequest,
        mode: &ApplyMode,
        given: Option<DateTime<Utc>>,
    ) -> Result<ApplyOutcome> {
        let now = match mode {
            ApplyMode::DryRun => given.unwrap_or_else(|| self.now()),
            _ => self.authorizing_now("retention apply", given)?,
        };
        let mode = match mode {
            ApplyMode::PlanHash(h) => {
                retention::check_plan_hash_prefix(h)?;
                ApplyMode::PlanHash(h.to_ascii_lowercase())
            }
            m => m.clone(),
        };
        let (source, policy, profile) = self.retention_inputs(req)?;
        let paths = self.protected(req.pgdata.as_deref());
        service::retention_apply(&self.host(), &source, &policy, &paths, &profile, &mode, now)
    }

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
            texts.active_pvcs = match self.ports.state.read(state::ACTIVE_PVC_LIST) {
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
            };
        }
        let mut c = parse_contract_inputs(&texts, &self.config.contract)?;
        if let Some(dsn) = self.dsn(req.dsn.as_deref()) {
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
            Ok(inputs) => service::contract_check(&self.host(), &self.config, &inputs, now),
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
                service::record_contract(&self.host(), &report, now)?;
                Ok(report)
            }
        }
    }

    /// Checks every stage claim against the state directory.
    pub fn check_stages(&self, now: DateTime<Utc>) -> StageChecks {
        StageChecks(service::stage_check(&self.host(), &self.config, now))
    }

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
        let evidence = service::record_backup(&self.host(), &self.config, e, Some(&pgdata), now)?;
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
        let backup = service::recorded_backup(&self.host(), &req.artifact)?;
        let checksum = if passed {
            service::still_whole(&self.host(), &backup)?
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
        service::record_restore_drill(&self.host(), &e, now)?;
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
        let protected = service::protected_lineages(&self.host(), &self.protected(pgdata))?;
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
        let checks = service::verify_backups(&self.host(), now)?;
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
        let outcome = service::record_dr_drill(&self.host(), &self.config, &e, now)?;
        Ok(DrDrillRecorded {
            scenario: e.scenario,
            outcome,
            rto_target: self.config.evidence.rto_target,
            rpo_target: self.config.evidence.rpo_target,
        })
    }

    /// The single view of truth over the state directory, with the disk
    /// guard on the configured backup and snapshot targets.
    pub fn report(&self, req: &ReportRequest, now: DateTime<Utc>) -> Report {
        let pgdata = self.pgdata(req.pgdata.as_deref());
        let live = self.dsn(req.dsn.as_deref()).map(|dsn| self.probe(dsn));
        service::report(&self.host(), &self.config, Some(&pgdata), live, now)
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

    /// Writes `contents` to `path` atomically (e.g. the textfile collector's `ssot.prom`).
    pub fn write_output(&self, path: &Path, contents: &str) -> Result<()> {
        self.ports.fs.write_file(path, contents.as_bytes())
    }

    /// The state files as they are (corrupt ones flagged).
    pub fn status(&self, now: DateTime<Utc>) -> StatusView {
        StatusView {
            state_dir: self.state_dir.display().to_string(),
            now,
            files: service::read_state(&self.host()),
        }
    }

    /// The effective configuration and where it came from. A configured
    /// `postgres.dsn` is shown as [`inputs::mask_dsn`] shows it: the server,
    /// never a secret.
    pub fn effective_config(&self) -> ConfigView {
        let mut config = self.config.clone();
        config.postgres.dsn = config.postgres.dsn.as_deref().map(inputs::mask_dsn);
        ConfigView {
            origin: self.source.origin.clone(),
            config,
        }
    }
}

fn recorded_by(by: &Option<String>) -> String {
    by.clone()
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| "unknown".into())
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
