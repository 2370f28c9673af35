//! Argument parsing and dispatch.

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};
use ssot_core::config::{Config, DEFAULT_CONFIG_FILE};
use ssot_core::gate::Operation;
use ssot_core::host::{DirStateStore, FsArtifactRoot, FsWalScanner, StatvfsVolumes, StdFilesystem};
use ssot_core::retention::{Artifact, MaxDelete, ResticDuration, RetentionPolicy};
use ssot_core::service::{self, GateRequest, Host, WalCheckInput};
use ssot_core::service::{ApplyMode, RetentionSource};
use ssot_core::units::{ByteSize, Span};
use ssot_core::wal::{Level, ReplicationSlot};

use crate::{demo, render};

/// Keeps a single-instance PostgreSQL operationally safe and honest about itself.
///
/// Exit codes: 0 OK / allowed, 1 degraded / denied, 2 error / could not evaluate.
#[derive(Debug, Parser)]
#[command(name = "ssot", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: Cmd,
}

/// Options every evaluating command takes.
#[derive(Debug, Args)]
pub struct Common {
    /// Evaluate as of this time (RFC 3339) instead of the system clock.
    #[arg(long, global = true, value_name = "RFC3339", value_parser = parse_now)]
    pub now: Option<DateTime<Utc>>,
    /// State directory [default: config state_dir, /opt/ssot/state].
    #[arg(long, global = true, value_name = "DIR", env = "SSOT_STATE_DIR")]
    pub state: Option<PathBuf>,
    /// Configuration file [default: /opt/ssot/ssot.toml if present; none is fine].
    #[arg(long, global = true, value_name = "FILE", env = "SSOT_CONFIG")]
    pub config: Option<PathBuf>,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

fn parse_now(s: &str) -> Result<DateTime<Utc>, String> {
    ssot_core::state::parse_timestamp(s)
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// WAL status.
    #[command(subcommand)]
    Wal(WalCmd),
    /// Decide whether an operation may run now (exit 0 allowed, 1 denied, 2 could not evaluate).
    ///
    /// With a command after `--`, ssot holds the operation lock, runs the
    /// command only if allowed, and exits with the command's status; the
    /// decision then goes to stderr so stdout belongs to the command.
    Gate(GateArgs),
    /// Retention of backups, snapshots and cache layers (dry-run unless asked).
    #[command(subcommand)]
    Retention(RetentionCmd),
    /// Show the current state files.
    Status,
    /// Configuration.
    #[command(subcommand)]
    Config(ConfigCmd),
    /// Run the built-in sandbox: no PostgreSQL and no configuration needed.
    Demo(DemoArgs),
}

#[derive(Debug, Subcommand)]
pub enum WalCmd {
    /// Measure pg_wal, evaluate and write wal.status (exit 0 OK, 1 GROWING/NEAR_LIMIT, 2 ERROR).
    Check(WalCheckArgs),
}

#[derive(Debug, Args)]
pub struct WalCheckArgs {
    /// PostgreSQL data directory [default: $PGDATA, else config postgres.pgdata].
    #[arg(long, value_name = "DIR", env = "PGDATA")]
    pub pgdata: Option<PathBuf>,
    /// Replication slots: a JSON array, or `psql -AtF,` output of
    /// slot_name,active,wal_status,retained_bytes (`-` for stdin).
    #[arg(long, value_name = "FILE")]
    pub slots: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct GateArgs {
    /// snapshot, backup, restore or startup.
    #[arg(value_enum)]
    pub operation: OpArg,
    /// Directory the operation writes to [default: config gate.targets.<operation>].
    #[arg(long, value_name = "DIR")]
    pub target: Option<PathBuf>,
    /// PostgreSQL data directory [default: $PGDATA, else config postgres.pgdata].
    #[arg(long, value_name = "DIR", env = "PGDATA")]
    pub pgdata: Option<PathBuf>,
    /// Expected size written, e.g. 2GB [default: size of the newest file in the target].
    #[arg(long, value_name = "SIZE", value_parser = parse_from_str::<ByteSize>)]
    pub estimate: Option<ByteSize>,
    /// Command to run under the operation lock if allowed.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum RetentionCmd {
    /// Compute a plan: every artifact with keep/delete and its reasons
    /// (exit 0 clean, 1 warnings or refused, 2 error).
    Plan(Box<RetentionArgs>),
    /// Apply a plan. Deletes nothing without --confirm or --plan-hash
    /// (exit 0 applied or dry run, 1 refused, 2 error).
    Apply(Box<ApplyArgs>),
}

#[derive(Debug, Args)]
pub struct RetentionArgs {
    /// A profile from the configuration ([retention.NAME]; seed: backups, snapshots).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Artifacts are the entries of DIR [default: the profile's root].
    #[arg(long, value_name = "DIR", conflicts_with = "catalog")]
    pub dir: Option<PathBuf>,
    /// strftime pattern of the creation time in entry names, e.g. ssot_%Y%m%d_%H%M%S.sql.gz.
    #[arg(long, value_name = "PATTERN")]
    pub pattern: Option<String>,
    /// JSON array of artifacts (`-` for stdin).
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,
    /// With --catalog: the directory where the artifact ids are entries (needed to apply).
    #[arg(long, value_name = "DIR", requires = "catalog")]
    pub root: Option<PathBuf>,
    #[command(flatten)]
    pub policy: PolicyFlags,
}

/// Policy flags; each overrides the profile's key of the same name.
#[derive(Debug, Args, Default)]
pub struct PolicyFlags {
    #[arg(long, value_name = "N")]
    pub keep_last: Option<u32>,
    #[arg(long, value_name = "N")]
    pub keep_hourly: Option<u32>,
    #[arg(long, value_name = "N")]
    pub keep_daily: Option<u32>,
    #[arg(long, value_name = "N")]
    pub keep_weekly: Option<u32>,
    #[arg(long, value_name = "N")]
    pub keep_monthly: Option<u32>,
    #[arg(long, value_name = "N")]
    pub keep_yearly: Option<u32>,
    /// restic duration, e.g. 2d12h or 1y5m7d2h.
    #[arg(long, value_name = "DURATION", value_parser = parse_from_str::<ResticDuration>)]
    pub keep_within: Option<ResticDuration>,
    #[arg(long, value_name = "DURATION", value_parser = parse_from_str::<ResticDuration>)]
    pub keep_within_hourly: Option<ResticDuration>,
    #[arg(long, value_name = "DURATION", value_parser = parse_from_str::<ResticDuration>)]
    pub keep_within_daily: Option<ResticDuration>,
    #[arg(long, value_name = "DURATION", value_parser = parse_from_str::<ResticDuration>)]
    pub keep_within_weekly: Option<ResticDuration>,
    #[arg(long, value_name = "DURATION", value_parser = parse_from_str::<ResticDuration>)]
    pub keep_within_monthly: Option<ResticDuration>,
    #[arg(long, value_name = "DURATION", value_parser = parse_from_str::<ResticDuration>)]
    pub keep_within_yearly: Option<ResticDuration>,
    /// Delete complete artifacts older than now − AGE (e.g. 7d).
    #[arg(long, value_name = "AGE", value_parser = parse_from_str::<Span>)]
    pub max_age: Option<Span>,
    /// Barman: keep all within now − WINDOW plus the newest one before it.
    #[arg(long, value_name = "WINDOW", value_parser = parse_from_str::<Span>)]
    pub recovery_window: Option<Span>,
    #[arg(long, value_name = "N")]
    pub min_keep: Option<u32>,
    #[arg(long, value_name = "N")]
    pub min_verified: Option<u32>,
    /// Per-group size budget, e.g. 50GB.
    #[arg(long, value_name = "SIZE", value_parser = parse_from_str::<ByteSize>)]
    pub max_total_size: Option<ByteSize>,
    #[arg(long, value_name = "AGE", value_parser = parse_from_str::<Span>)]
    pub partial_grace: Option<Span>,
    /// IANA time zone for bucket boundaries and names.
    #[arg(long, value_name = "TZ")]
    pub timezone: Option<String>,
    /// Refuse a plan that deletes more than N or N%.
    #[arg(long, value_name = "N|N%", value_parser = parse_from_str::<MaxDelete>)]
    pub max_delete: Option<MaxDelete>,
}

impl PolicyFlags {
    fn apply_to(&self, p: &mut RetentionPolicy) {
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = self.$f.clone() { p.$f = v; } )* };
        }
        macro_rules! set_opt {
            ($($f:ident),*) => { $( if let Some(v) = self.$f.clone() { p.$f = Some(v); } )* };
        }
        set!(
            keep_last,
            keep_hourly,
            keep_daily,
            keep_weekly,
            keep_monthly,
            keep_yearly,
            min_keep,
            min_verified,
            partial_grace,
            timezone
        );
        set_opt!(
            keep_within,
            keep_within_hourly,
            keep_within_daily,
            keep_within_weekly,
            keep_within_monthly,
            keep_within_yearly,
            max_age,
            recovery_window,
            max_total_size,
            max_delete
        );
    }
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub source: RetentionArgs,
    /// Apply the plan as computed now.
    #[arg(long, conflicts_with = "plan_hash")]
    pub confirm: bool,
    /// Apply only if the plan computed now has this hash (from a reviewed `retention plan`).
    #[arg(long, value_name = "HASH")]
    pub plan_hash: Option<String>,
}

fn parse_from_str<T: std::str::FromStr>(s: &str) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    s.parse().map_err(|e: T::Err| e.to_string())
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OpArg {
    Snapshot,
    Backup,
    Restore,
    Startup,
}

impl From<OpArg> for Operation {
    fn from(o: OpArg) -> Self {
        match o {
            OpArg::Snapshot => Operation::Snapshot,
            OpArg::Backup => Operation::Backup,
            OpArg::Restore => Operation::Restore,
            OpArg::Startup => Operation::Startup,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ConfigCmd {
    /// Print the effective configuration (defaults + file) as TOML.
    Show,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Build the sandbox here instead of a new temporary directory.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// The loaded configuration and where it came from.
pub struct Loaded {
    pub config: Config,
    pub origin: String,
}

pub fn load_config(path: Option<&Path>) -> Result<Loaded, String> {
    let (path, required) = match path {
        Some(p) => (p.to_path_buf(), true),
        None => (PathBuf::from(DEFAULT_CONFIG_FILE), false),
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let origin = path.display().to_string();
            let config = Config::from_toml_str(&text, &origin).map_err(|e| e.to_string())?;
            Ok(Loaded {
                config,
                origin: format!("built-in defaults + {origin}"),
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => Ok(Loaded {
            config: Config::default(),
            origin: "built-in defaults (no configuration file)".into(),
        }),
        Err(e) => Err(format!("cannot read configuration {}: {e}", path.display())),
    }
}

pub fn now_or_clock(now: Option<DateTime<Utc>>) -> DateTime<Utc> {
    use ssot_core::ports::Clock;
    now.unwrap_or_else(|| ssot_core::host::SystemClock.now())
}

fn read_input(path: &Path) -> Result<String, String> {
    if path == Path::new("-") {
        std::io::read_to_string(std::io::stdin()).map_err(|e| format!("cannot read stdin: {e}"))
    } else {
        std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    }
}

/// Runs the parsed command; returns the exit code.
pub fn run(cli: Cli) -> Result<u8, String> {
    let Common {
        now,
        state,
        config,
        format,
    } = cli.common;
    let loaded = load_config(config.as_deref())?;
    let cfg = &loaded.config;
    let state_dir = state.unwrap_or_else(|| PathBuf::from(&cfg.state_dir));
    let store = DirStateStore::new(&state_dir);
    let host = Host {
        wal: &FsWalScanner,
        volumes: &StatvfsVolumes,
        fs: &StdFilesystem,
        state: &store,
        artifacts: &FsArtifactRoot,
    };
    let now = now_or_clock(now);
    let pgdata_or_config =
        |p: Option<PathBuf>| p.unwrap_or_else(|| PathBuf::from(&cfg.postgres.pgdata));

    match cli.command {
        Cmd::Wal(WalCmd::Check(args)) => {
            let pgdata = pgdata_or_config(args.pgdata);
            let mut input = WalCheckInput::default();
            if let Some(p) = &args.slots {
                let text = read_input(p)?;
                input.slots = ReplicationSlot::parse_list(&text, &p.display().to_string())
                    .map_err(|e| e.to_string())?;
            }
            let check =
                service::check_wal(&host, cfg, &pgdata, &input, now).map_err(|e| e.to_string())?;
            match format {
                Format::Json => println!("{}", render::json(&check)),
                Format::Text => print!("{}", render::wal_check(&check)),
            }
            Ok(if check.measurement_failed() {
                2
            } else {
                match check.report.status {
                    Level::Ok => 0,
                    Level::Growing | Level::NearLimit => 1,
                    Level::Error => 2,
                }
            })
        }
        Cmd::Gate(args) => {
            let req = GateRequest {
                operation: args.operation.into(),
                target: args.target,
                pgdata: Some(pgdata_or_config(args.pgdata)),
                estimate: args.estimate,
            };
            let outcome = if args.command.is_empty() {
                service::gate(&host, cfg, &req, now).map(|d| (d, None))
            } else {
                let holder = format!(
                    "{} by pid {} since {}: {}",
                    req.operation,
                    std::process::id(),
                    ssot_core::state::timestamp(now),
                    args.command.join(" ")
                );
                service::gate_and_hold(&host, cfg, &req, &holder, now)
            };
            let (decision, held) = match outcome {
                Ok(x) => x,
                Err(e) => {
                    eprintln!(
                        "ssot: gate {} could not be evaluated, denying: {e}",
                        req.operation
                    );
                    return Ok(2);
                }
            };
            let rendered = match format {
                Format::Json => format!("{}\n", render::json(&decision)),
                Format::Text => render::decision(&decision),
            };
            if args.command.is_empty() {
                print!("{rendered}");
                return Ok(if decision.allowed { 0 } else { 1 });
            }
            // stdout belongs to the command (e.g. pg_dump > file).
            eprint!("{rendered}");
            let Some(_held) = held else {
                return Ok(1);
            };
            let status = Command::new(&args.command[0])
                .args(&args.command[1..])
                .status()
                .map_err(|e| format!("cannot run {}: {e}", args.command[0]))?;
            Ok(status.code().map(|c| c.clamp(0, 255) as u8).unwrap_or(2))
        }
        Cmd::Retention(RetentionCmd::Plan(args)) => {
            let (source, policy, profile) = retention_inputs(cfg, &args)?;
            let planned =
                service::retention_plan(&host, &source, &policy, now).map_err(|e| e.to_string())?;
            match format {
                Format::Json => println!("{}", render::json(&planned.plan)),
                Format::Text => print!("{}", render::retention_plan(&planned.plan, &profile)),
            }
            Ok(
                if planned.plan.refused.is_some() || !planned.plan.warnings.is_empty() {
                    1
                } else {
                    0
                },
            )
        }
        Cmd::Retention(RetentionCmd::Apply(args)) => {
            let (source, policy, profile) = retention_inputs(cfg, &args.source)?;
            let mode = match (args.confirm, args.plan_hash) {
                (true, _) => ApplyMode::Confirm,
                (false, Some(h)) => ApplyMode::PlanHash(h),
                (false, None) => ApplyMode::DryRun,
            };
            let outcome = service::retention_apply(&host, &source, &policy, &profile, &mode, now)
                .map_err(|e| e.to_string())?;
            match format {
                Format::Json => println!("{}", render::json(&outcome)),
                Format::Text => print!("{}", render::retention_apply(&outcome, &profile)),
            }
            Ok(if outcome.refused.is_some() { 1 } else { 0 })
        }
        Cmd::Status => {
            let files = service::read_state(&host);
            match format {
                Format::Json => println!("{}", render::json(&render::status_json(&files, now))),
                Format::Text => print!("{}", render::status_text(&store, &files, now)),
            }
            Ok(0)
        }
        Cmd::Config(ConfigCmd::Show) => {
            match format {
                Format::Json => println!("{}", render::json(cfg)),
                Format::Text => {
                    println!("# effective configuration: {}", loaded.origin);
                    print!("{}", cfg.to_toml());
                }
            }
            Ok(0)
        }
        Cmd::Demo(args) => demo::run(args.dir, now, format),
    }
}

/// Resolves source, policy and profile name from the profile and the flags.
fn retention_inputs(
    cfg: &Config,
    args: &RetentionArgs,
) -> Result<(RetentionSource, RetentionPolicy, String), String> {
    let profile = match &args.profile {
        Some(name) => Some(cfg.retention.0.get(name).ok_or_else(|| {
            let known: Vec<&str> = cfg.retention.0.keys().map(String::as_str).collect();
            format!(
                "no retention profile \"{name}\" (configured: {})",
                known.join(", ")
            )
        })?),
        None => None,
    };
    let mut policy = profile.map(|p| p.policy.clone()).unwrap_or_default();
    args.policy.apply_to(&mut policy);
    policy.tz().map_err(|e| e.to_string())?;
    let source = if let Some(catalog) = &args.catalog {
        let text = read_input(catalog)?;
        let artifacts: Vec<Artifact> = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a JSON array of artifacts: {e}", catalog.display()))?;
        RetentionSource::Catalog {
            artifacts,
            root: args.root.clone(),
        }
    } else {
        let root = args
            .dir
            .clone()
            .or_else(|| profile.and_then(|p| p.root.clone()).map(PathBuf::from))
            .ok_or("give --dir DIR, --catalog FILE, or a --profile with a root")?;
        let pattern = args
            .pattern
            .clone()
            .or_else(|| profile.and_then(|p| p.pattern.clone()));
        RetentionSource::Dir { root, pattern }
    };
    let name = args.profile.clone().unwrap_or_else(|| "default".into());
    Ok((source, policy, name))
}
