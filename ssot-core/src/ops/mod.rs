//! [`Ssot`]: the one entry point every surface calls, and the one layer of
//! operations behind it.
//!
//! An `Ssot` owns the effective [`Config`] and the [`Ports`] through which
//! facts come in. It has one method per operation the CLI offers; each takes
//! a request (see [`crate::request`]) and `now`, and returns a result that
//! serializes to the JSON the CLI prints, renders itself as the CLI's text
//! (`Display`) and knows its exit code ([`Outcome`]). The CLI, the Python
//! module and the Rhai engine only convert their inputs into requests and
//! print what comes back.
//!
//! One file per operation, each gathering its own facts through the ports,
//! handing them to the pure evaluator and recording the result:
//! `wal_check.rs` (`wal check`), `gate.rs` (`gate`, and the disk facts the
//! report shares), `contract.rs` (`contract check`), `evidence.rs` (backups,
//! drills, `verify`), `retention.rs` (plan and apply, whose protocol is the
//! pure state machine [`crate::retention::apply`]) and `report.rs` (the
//! report, the stage check, `status`). Results that are no core type are in
//! `results.rs`, exit codes in `outcome.rs`, the text renderings in
//! `text.rs`, the operations over texts instead of files in `pure.rs`.

mod contract;
mod evidence;
mod gate;
mod outcome;
mod pure;
mod report;
mod results;
mod retention;
mod text;
mod wal_check;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

pub use crate::request::{
    ApplyMode, BackupRequest, Catalog, ContractRequest, DrDrillRequest, DrillResult, GateRequest,
    InlineText, Input, ReportFormat, ReportRequest, RestoreDrillRequest, RetentionRequest,
    WalCheckRequest,
};
pub use outcome::{exit, json, write_json, Outcome};
pub use pure::{parse_contract_inputs, report_from_files};
pub use results::{
    BackupRecorded, ConfigView, DrDrillRecorded, RestoreDrillRecorded, RetentionPlanned,
    StageChecks, StatusView, VerifyOutcome,
};
pub use retention::{ApplyOutcome, ToolApply};
pub use text::Brief;
pub use wal_check::WalCheck;

use crate::config::{Config, ConfigSource};
use crate::error::{Error, Result};
use crate::inputs::{self, LiveFacts};
use crate::ports::{
    ArtifactRoot, Clock, Database, Filesystem, StateStore, VolumeProbe, WalScanner,
};

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

    /// Writes `contents` to `path` atomically (e.g. the textfile collector's `ssot.prom`).
    pub fn write_output(&self, path: &Path, contents: &str) -> Result<()> {
        self.ports.fs.write_file(path, contents.as_bytes())
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
