//! Argument parsing and dispatch.

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};
use ssot_core::config::{Config, DEFAULT_CONFIG_FILE};
use ssot_core::gate::Operation;
use ssot_core::host::{DirStateStore, FsWalScanner, StatvfsVolumes, StdFilesystem};
use ssot_core::service::{self, GateRequest, Host, WalCheckInput};
use ssot_core::units::ByteSize;
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
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub estimate: Option<ByteSize>,
    /// Command to run under the operation lock if allowed.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
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

fn parse_size(s: &str) -> Result<ByteSize, String> {
    ByteSize::parse(s).map_err(|e| e.to_string())
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
