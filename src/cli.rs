//! Argument parsing and dispatch.

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};
use ssot_core::config::{Config, DEFAULT_CONFIG_FILE};
use ssot_core::contract::inputs as cin;
use ssot_core::contract::{ContractInputs, Sourced};
use ssot_core::evidence::{BackupEvidence, BackupResult, DrDrillEvidence, RestoreDrillEvidence};
use ssot_core::gate::Operation;
use ssot_core::host::{DirStateStore, FsArtifactRoot, FsWalScanner, StatvfsVolumes, StdFilesystem};
use ssot_core::ports::StateStore;
use ssot_core::report::render as report_render;
use ssot_core::retention::{Artifact, MaxDelete, ResticDuration, RetentionPolicy};
use ssot_core::service::{self, GateRequest, Host, WalCheckInput};
use ssot_core::service::{ApplyMode, RetentionSource};
use ssot_core::state::ContractVerdict;
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
    /// Prometheus text exposition format (`ssot report` only).
    Prometheus,
    /// Kubernetes ConfigMap manifest (`ssot report` only).
    Configmap,
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
    /// The architecture contract.
    #[command(subcommand)]
    Contract(ContractCmd),
    /// The stage registry.
    #[command(subcommand)]
    Stages(StagesCmd),
    /// Record evidence: backups, restore drills, DR drills.
    #[command(subcommand)]
    Evidence(EvidenceCmd),
    /// The single view of truth over the state directory (exit 0 OK, 1 DEGRADED, 2 DOWN).
    Report(ReportArgs),
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
pub enum ContractCmd {
    /// Check every invariant; write contract.status and wal.settings
    /// (exit 0 none fails, 1 any fails, 2 an input cannot be read).
    Check(Box<ContractArgs>),
}

/// Inputs of the contract check; each a file or `-` for stdin (one at most).
#[derive(Debug, Args)]
pub struct ContractArgs {
    /// `kubectl get sts NAME -o json` (the source of truth).
    #[arg(long, value_name = "FILE")]
    pub statefulset: Option<PathBuf>,
    /// `psql -AtF',' -c "select name,setting,unit from pg_settings"` output, or JSON.
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
    /// `ps -eo args` or `ps aux` output from the PostgreSQL container.
    #[arg(long, value_name = "FILE")]
    pub processes: Option<PathBuf>,
    /// `kubectl get pvc -o json`.
    #[arg(long, value_name = "FILE")]
    pub pvcs: Option<PathBuf>,
    /// active_pvc.list [default: the state directory's, if present].
    #[arg(long, value_name = "FILE")]
    pub active_pvcs: Option<PathBuf>,
    /// postgresql.auto.conf.
    #[arg(long, value_name = "FILE")]
    pub auto_conf: Option<PathBuf>,
    /// Replication slots (as for `wal check --slots`).
    #[arg(long, value_name = "FILE")]
    pub slots: Option<PathBuf>,
    /// /proc/mounts (for the filesystem-quota limitation).
    #[arg(long, value_name = "FILE")]
    pub mounts: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum StagesCmd {
    /// Report each stage claim as consistent or not with the evidence (exit 0 all consistent, 1 otherwise).
    Check,
}

#[derive(Debug, Subcommand)]
pub enum EvidenceCmd {
    /// Record a backup into backup.status.
    Backup(Box<BackupArgs>),
    /// Record a restore drill into restore_drill.status.
    RestoreDrill(Box<RestoreDrillArgs>),
    /// Record a DR drill into dr_drill.status, with measured RTO and RPO.
    DrDrill(Box<DrDrillArgs>),
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The backup file or id.
    #[arg(long)]
    pub artifact: String,
    /// Where it was written (directory or URI) [default: config gate.targets.backup].
    #[arg(long)]
    pub location: Option<String>,
    /// complete, partial or failed.
    #[arg(long, default_value = "complete", value_parser = parse_from_str::<BackupResult>)]
    pub result: BackupResult,
    /// When it started.
    #[arg(long, value_parser = parse_now)]
    pub started: Option<DateTime<Utc>>,
    /// When it finished [default: --now].
    #[arg(long, value_parser = parse_now)]
    pub finished: Option<DateTime<Utc>>,
    /// Its size [default: the artifact's size in a local location].
    #[arg(long, value_parser = parse_from_str::<ByteSize>)]
    pub size: Option<ByteSize>,
    /// dump (pg_dump), basebackup, ... (a snapshot is not a backup and is refused).
    #[arg(long, default_value = "dump")]
    pub kind: String,
    /// Who ran it [default: $USER].
    #[arg(long, env = "USER", default_value = "unknown")]
    pub by: String,
    /// PGDATA, to record whether the location is on another filesystem [default: $PGDATA, else config].
    #[arg(long, value_name = "DIR", env = "PGDATA")]
    pub pgdata: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RestoreDrillArgs {
    /// The backup artifact restored.
    #[arg(long)]
    pub artifact: String,
    /// pass or fail.
    #[arg(long, value_parser = ["pass", "fail"])]
    pub result: String,
    #[arg(long, value_parser = parse_now)]
    pub started: Option<DateTime<Utc>>,
    /// [default: --now]
    #[arg(long, value_parser = parse_now)]
    pub finished: Option<DateTime<Utc>>,
    #[arg(long, env = "USER", default_value = "unknown")]
    pub by: String,
    #[arg(long, default_value = "")]
    pub notes: String,
    /// On pass, create the retention marker DIR/ARTIFACT.verified.
    #[arg(long, value_name = "DIR")]
    pub mark_verified: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DrDrillArgs {
    /// What was simulated.
    #[arg(long)]
    pub scenario: String,
    /// T0: when the incident started.
    #[arg(long, value_parser = parse_now)]
    pub t0: DateTime<Utc>,
    /// When the critical function was restored.
    #[arg(long, value_parser = parse_now)]
    pub restored_at: DateTime<Utc>,
    /// Newest data that existed before the incident.
    #[arg(long, value_parser = parse_now)]
    pub newest_before: DateTime<Utc>,
    /// Newest data present after the restore.
    #[arg(long, value_parser = parse_now)]
    pub newest_after: DateTime<Utc>,
    #[arg(long, env = "USER", default_value = "unknown")]
    pub by: String,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Write the output here atomically instead of stdout (e.g. the textfile collector's ssot.prom).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// PGDATA, for the disk guard on the backup and snapshot targets [default: $PGDATA, else config].
    #[arg(long, value_name = "DIR", env = "PGDATA")]
    pub pgdata: Option<PathBuf>,
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
    if matches!(format, Format::Prometheus | Format::Configmap)
        && !matches!(cli.command, Cmd::Report(_))
    {
        return Err(format!("--format {format:?} is only for `ssot report`").to_lowercase());
    }

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
                _ => print!("{}", render::wal_check(&check)),
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
                _ => render::decision(&decision),
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
                _ => print!("{}", render::retention_plan(&planned.plan, &profile)),
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
                _ => print!("{}", render::retention_apply(&outcome, &profile)),
            }
            Ok(if outcome.refused.is_some() { 1 } else { 0 })
        }
        Cmd::Contract(ContractCmd::Check(args)) => {
            let inputs = contract_inputs(cfg, &args, &store)?;
            let report =
                service::contract_check(&host, cfg, &inputs, now).map_err(|e| e.to_string())?;
            match format {
                Format::Json => println!("{}", render::json(&report)),
                _ => print!("{}", render::contract(&report)),
            }
            Ok(match report.status {
                ContractVerdict::Fail => 1,
                _ => 0,
            })
        }
        Cmd::Stages(StagesCmd::Check) => {
            let checks = service::stage_check(&host, cfg, now);
            match format {
                Format::Json => println!("{}", render::json(&checks)),
                _ => print!("{}", render::stages(&checks)),
            }
            Ok(if checks.iter().all(|c| c.consistent) {
                0
            } else {
                1
            })
        }
        Cmd::Evidence(EvidenceCmd::Backup(a)) => {
            let location = a
                .location
                .clone()
                .or_else(|| cfg.gate.targets.get(&Operation::Backup).cloned())
                .ok_or("give --location (no gate.targets.backup configured)")?;
            let size = a.size.map(|b| b.bytes()).or_else(|| {
                std::fs::metadata(Path::new(&location).join(&a.artifact))
                    .ok()
                    .filter(|m| m.is_file())
                    .map(|m| m.len())
            });
            let e = BackupEvidence {
                finished_at: a.finished.unwrap_or(now),
                started_at: a.started,
                artifact: a.artifact.clone(),
                location,
                result: a.result,
                size_bytes: size,
                kind: a.kind.clone(),
                recorded_by: a.by.clone(),
                separate_from_pgdata: None,
            };
            let pgdata = pgdata_or_config(a.pgdata.clone());
            let e =
                service::record_backup(&host, e, Some(&pgdata), now).map_err(|e| e.to_string())?;
            println!(
                "recorded backup {} ({}) at {} in {}; on another filesystem than PGDATA: {}",
                e.artifact,
                e.result.as_str(),
                ssot_core::state::timestamp(e.finished_at),
                store.location(ssot_core::state::BACKUP_STATUS),
                e.separate_from_pgdata
                    .map(|b| if b { "yes" } else { "NO" })
                    .unwrap_or("unknown")
            );
            Ok(0)
        }
        Cmd::Evidence(EvidenceCmd::RestoreDrill(a)) => {
            let e = RestoreDrillEvidence {
                finished_at: a.finished.unwrap_or(now),
                started_at: a.started,
                artifact: a.artifact.clone(),
                passed: a.result == "pass",
                recorded_by: a.by.clone(),
                notes: a.notes.clone(),
            };
            service::record_restore_drill(&host, &e, now).map_err(|e| e.to_string())?;
            if let (true, Some(dir)) = (e.passed, &a.mark_verified) {
                ssot_core::retention::validate_id(&a.artifact)?;
                let marker = dir.join(format!("{}.verified", a.artifact));
                ssot_core::host::write_file_atomic(
                    &marker,
                    format!(
                        "restore drill passed at {}\n",
                        ssot_core::state::timestamp(e.finished_at)
                    )
                    .as_bytes(),
                )
                .map_err(|e| e.to_string())?;
                println!("marked {} verified for retention", marker.display());
            }
            println!("recorded restore drill of {}: {}", e.artifact, a.result);
            Ok(0)
        }
        Cmd::Evidence(EvidenceCmd::DrDrill(a)) => {
            let e = DrDrillEvidence {
                scenario: a.scenario.clone(),
                t0: a.t0,
                restored_at: a.restored_at,
                newest_data_before: a.newest_before,
                newest_data_after: a.newest_after,
                recorded_by: a.by.clone(),
            };
            let o = service::record_dr_drill(&host, cfg, &e, now).map_err(|e| e.to_string())?;
            match format {
                Format::Json => println!("{}", render::json(&o)),
                _ => println!(
                    "DR drill \"{}\": RTO {} (target {}), RPO {} (target {}): {}",
                    e.scenario,
                    ssot_core::num::human_secs(o.rto_seconds as f64),
                    cfg.evidence.rto_target,
                    ssot_core::num::human_secs(o.rpo_seconds as f64),
                    cfg.evidence.rpo_target,
                    if o.passed { "PASS" } else { "FAIL" }
                ),
            }
            Ok(if o.passed { 0 } else { 1 })
        }
        Cmd::Report(a) => {
            let pgdata = pgdata_or_config(a.pgdata.clone());
            let r = service::report(&host, cfg, Some(&pgdata), now);
            let out = match format {
                Format::Text => report_render::text(&r),
                Format::Json => format!("{}\n", render::json(&r)),
                Format::Prometheus => report_render::prometheus(&r),
                Format::Configmap => report_render::configmap(
                    &r,
                    &cfg.report.configmap_name,
                    &cfg.report.configmap_namespace,
                ),
            };
            match &a.output {
                Some(path) => ssot_core::host::write_file_atomic(path, out.as_bytes())
                    .map_err(|e| e.to_string())?,
                None => print!("{out}"),
            }
            Ok(r.verdict.exit_code())
        }
        Cmd::Status => {
            let files = service::read_state(&host);
            match format {
                Format::Json => println!("{}", render::json(&render::status_json(&files, now))),
                _ => print!("{}", render::status_text(&store, &files, now)),
            }
            Ok(0)
        }
        Cmd::Config(ConfigCmd::Show) => {
            match format {
                Format::Json => println!("{}", render::json(cfg)),
                _ => {
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

/// Reads the contract inputs named on the command line.
fn contract_inputs(
    cfg: &Config,
    a: &ContractArgs,
    store: &DirStateStore,
) -> Result<ContractInputs, String> {
    let stdin_uses = [
        &a.statefulset,
        &a.settings,
        &a.processes,
        &a.pvcs,
        &a.active_pvcs,
        &a.auto_conf,
        &a.slots,
        &a.mounts,
    ]
    .iter()
    .filter(|p| p.as_deref() == Some(Path::new("-")))
    .count();
    if stdin_uses > 1 {
        return Err("only one input can be read from stdin (-)".into());
    }
    let read = |p: &Option<PathBuf>| -> Result<Option<(String, String)>, String> {
        p.as_ref()
            .map(|p| read_input(p).map(|t| (t, p.display().to_string())))
            .transpose()
    };
    let mut i = ContractInputs::default();
    if let Some((t, o)) = read(&a.statefulset)? {
        i.statefulset = Some(Sourced::new(
            cin::parse_statefulset(&t, &o, &cfg.contract.statefulset).map_err(|e| e.to_string())?,
            o,
        ));
    }
    if let Some((t, o)) = read(&a.settings)? {
        i.settings = Some(Sourced::new(
            cin::parse_pg_settings(&t, &o).map_err(|e| e.to_string())?,
            o,
        ));
    }
    if let Some((t, o)) = read(&a.processes)? {
        i.processes = Some(Sourced::new(cin::parse_processes(&t), o));
    }
    if let Some((t, o)) = read(&a.pvcs)? {
        i.pvcs = Some(Sourced::new(
            cin::parse_pvcs(&t, &o).map_err(|e| e.to_string())?,
            o,
        ));
    }
    let active = match &a.active_pvcs {
        Some(p) => read(&Some(p.clone()))?,
        None => match store.read(ssot_core::state::ACTIVE_PVC_LIST) {
            ssot_core::state::StateInput::Present { path, content } => {
                Some((String::from_utf8_lossy(&content).to_string(), path))
            }
            ssot_core::state::StateInput::Unreadable { path, error } => {
                return Err(format!("cannot read {path}: {error}"))
            }
            ssot_core::state::StateInput::Missing { .. } => None,
        },
    };
    if let Some((t, o)) = active {
        i.active_pvcs = Some(Sourced::new(cin::parse_active_pvcs(&t), o));
    }
    if let Some((t, o)) = read(&a.auto_conf)? {
        i.auto_conf = Some(Sourced::new(
            cin::parse_auto_conf(&t, &o).map_err(|e| e.to_string())?,
            o,
        ));
    }
    if let Some((t, o)) = read(&a.slots)? {
        i.slots = Some(Sourced::new(
            ReplicationSlot::parse_list(&t, &o).map_err(|e| e.to_string())?,
            o,
        ));
    }
    if let Some((t, o)) = read(&a.mounts)? {
        let mounts = t
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (f.len() >= 4).then(|| (f[1].to_string(), f[3].to_string()))
            })
            .collect();
        i.mounts = Some(Sourced::new(mounts, o));
    }
    if let ssot_core::state::StateInput::Present { path, content } =
        store.read(ssot_core::state::BACKUP_STATUS)
    {
        if let Ok(f) = ssot_core::statefile::StateFile::parse(&content, &path) {
            if let Some(loc) = f.get("last_complete_location").or(f.get("last_location")) {
                i.backup_location = Some(Sourced::new(loc.to_string(), path));
            }
        }
    }
    i.backup_target = cfg.gate.targets.get(&Operation::Backup).cloned();
    Ok(i)
}
