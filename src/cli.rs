//! Argument definitions (clap). Dispatch and the commands are in `commands`.

use std::ffi::OsString;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use ssot_core::evidence::BackupResult;
use ssot_core::gate::Operation;
use ssot_core::retention::{MaxDelete, ResticCompat, ResticDuration, RetentionPolicyPatch};
use ssot_core::units::{ByteSize, Span};
use ssot_core::DrillResult;

use crate::exit;

/// Keeps a single-instance PostgreSQL operationally safe and honest about itself.
///
/// Exit codes: 0 OK / allowed, 1 warning / denied / DEGRADED, 2 ERROR / could not
/// evaluate / DOWN, 3 no verdict (a usage or I/O error). `gate ... -- COMMAND` reserves
/// 124–127 (see `ssot gate --help`).
#[derive(Debug, Parser)]
#[command(name = "ssot", version, about, long_about, after_help = exit::TABLE)]
pub struct Cli {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: Cmd,
}

/// Options every evaluating command takes.
#[derive(Debug, Args)]
pub struct Common {
    /// Evaluate as of this time (RFC 3339, e.g. 2026-02-05T12:00:00Z) instead of the system clock.
    /// Read-only evaluations only: a gate and a retention apply that deletes use the real clock
    /// and refuse a time farther from it than gate.max_clock_skew.
    #[arg(long, global = true, value_name = "RFC3339", value_parser = parse_time)]
    pub now: Option<DateTime<Utc>>,
    /// State directory [default: config state_dir, /opt/ssot/state].
    #[arg(long, global = true, value_name = "DIR", env = "SSOT_STATE_DIR", value_parser = non_empty_path)]
    pub state: Option<PathBuf>,
    /// Configuration file [default: /opt/ssot/ssot.toml, else /etc/ssot/ssot.toml (the Debian package's), if present; none is fine].
    #[arg(long, global = true, value_name = "FILE", env = "SSOT_CONFIG", value_parser = non_empty_path)]
    pub config: Option<PathBuf>,
}

/// `--format` of every command but `report`.
#[derive(Debug, Args, Clone, Copy)]
pub struct Output {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// `--format` of `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormatArg {
    Text,
    Json,
    /// Prometheus text exposition format (node_exporter's textfile collector).
    Prometheus,
    /// Kubernetes ConfigMap manifest (the restore-drill marker for kube-state-metrics).
    Configmap,
}

fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    ssot_core::state::parse_timestamp(s)
}

fn non_empty_path(s: &str) -> Result<PathBuf, String> {
    if s.is_empty() {
        Err("must not be empty (an empty path would silently mean the current directory)".into())
    } else {
        Ok(PathBuf::from(s))
    }
}

/// `--pgdata`, one definition for every command that takes it (a command
/// whose use of it differs says so with `mut_args(help_of("pgdata", ...))`).
#[derive(Debug, Args, Clone, Default)]
pub struct PgdataArg {
    /// PostgreSQL data directory [default: $PGDATA, else config postgres.pgdata].
    #[arg(long, value_name = "DIR", env = "PGDATA")]
    pub pgdata: Option<PathBuf>,
}

/// `--dsn`, one definition for every command that takes it (a command
/// whose use of it differs says so with `mut_args(help_of("dsn", ...))`).
#[derive(Debug, Args, Clone, Default)]
pub struct DsnArg {
    /// PostgreSQL to probe live (libpq keyword/value string or URI, e.g.
    /// "host=/var/run/postgresql user=postgres dbname=postgres") [default: config postgres.dsn; none: no probe].
    #[arg(
        long,
        value_name = "CONNINFO",
        env = "SSOT_DSN",
        hide_env_values = true,
        value_parser = dsn_parser()
    )]
    pub dsn: Option<String>,
}

/// Gives the argument `id` this help, in place: a shared flag said the way
/// one command uses it (`mut_arg` would move it to the end of the
/// completions).
fn help_of(id: &'static str, help: &'static str) -> impl FnMut(clap::Arg) -> clap::Arg {
    move |a| if a.get_id() == id { a.help(help) } else { a }
}

/// `contract check --dsn`: what the probe stands in for.
const DSN_STANDS_IN: &str = "PostgreSQL to probe live (libpq keyword/value string or URI, e.g. \"host=/var/run/postgresql user=postgres dbname=postgres\") pg_settings, slots and backends stand in for --settings, --slots, --processes [default: config postgres.dsn]";

/// `report --dsn`: the section it feeds.
const DSN_FOR_REPORT: &str = "PostgreSQL to probe live (libpq keyword/value string or URI, e.g. \"host=/var/run/postgresql user=postgres dbname=postgres\") for the postgres section [default: config postgres.dsn; none: no section]";

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// WAL status.
    #[command(subcommand)]
    Wal(WalCmd),
    /// Decide whether an operation may run now (exit 0 allowed, 1 denied, 2 could not evaluate).
    ///
    /// With a command after `--`, ssot takes the operation lock and, only if the gate
    /// allows, replaces itself with the command (exec): the command runs with ssot's
    /// pid and holds the lock's descriptor, so the lock lives exactly as long as the
    /// command. The decision then goes to stderr so that stdout belongs to the command.
    #[command(after_help = exit::GATE_TABLE)]
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
    /// Re-read every recorded backup and compare it with the checksum recorded
    /// when it was taken, like `pgbackrest verify` or `restic check --read-data`;
    /// the findings go to verify.status (exit 0 all whole, 1 some gone, changed or broken).
    Verify(Output),
    /// Show the current state files (corrupt ones flagged) (exit 0).
    Status(Output),
    /// Configuration.
    #[command(subcommand)]
    Config(ConfigCmd),
    /// Run the built-in sandbox: no PostgreSQL and no configuration needed.
    Demo(DemoArgs),
    /// Run a Rhai runbook (exit: the runbook's `exit(n)`, 0 at its end; 124 an uncaught
    /// gate denial stopped it; 125 a script error, a limit or the timeout).
    #[command(after_help = exit::RUN_TABLE)]
    Run(RunArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    ///
    /// bash: `ssot completions bash > /etc/bash_completion.d/ssot`;
    /// zsh: `ssot completions zsh > "${fpath[1]}/_ssot"`.
    Completions(CompletionsArgs),
    /// Write the man pages (ssot.1 and one per subcommand, e.g. ssot-retention-plan.1).
    Man(ManArgs),
}

/// `ssot completions SHELL`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `ssot man [--dir DIR]`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write every page into DIR (e.g. /usr/local/share/man/man1); without it, ssot.1 goes to stdout.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum WalCmd {
    /// Measure pg_wal, evaluate and write wal.status (exit 0 OK, 1 GROWING/NEAR_LIMIT,
    /// 2 ERROR or the measurement failed, 3 the state directory cannot be written).
    Check(WalCheckArgs),
}

#[derive(Debug, Args)]
pub struct WalCheckArgs {
    #[command(flatten)]
    pub pgdata: PgdataArg,
    /// Replication slots: a JSON array, or `psql -AtF,` output of
    /// slot_name,active,wal_status,retained_bytes (`-` for stdin) [default: from --dsn].
    #[arg(long, value_name = "FILE")]
    pub slots: Option<PathBuf>,
    #[command(flatten)]
    pub dsn: DsnArg,
    #[command(flatten)]
    pub out: Output,
}

/// A time limit: a duration above zero (0 would end the command at once).
fn parse_time_limit(s: &str) -> Result<Span, String> {
    match parse_from_str::<Span>(s)? {
        z if z == Span::secs(0) => Err("a time limit must be above zero".into()),
        span => Ok(span),
    }
}

/// A DSN that is not UTF-8 is still probed (its bad bytes shown as U+FFFD,
/// so the probe fails and says where): a usage error here would leave the
/// last status standing until it went stale.
fn dsn_parser() -> impl clap::builder::TypedValueParser<Value = String> {
    clap::builder::OsStringValueParser::new().map(|s| s.to_string_lossy().into_owned())
}

#[derive(Debug, Args)]
pub struct GateArgs {
    /// snapshot, backup, restore or startup.
    #[arg(value_enum)]
    pub operation: OpArg,
    /// Directory the operation writes to [default: config gate.targets.<operation>].
    #[arg(long, value_name = "DIR")]
    pub target: Option<PathBuf>,
    #[command(flatten)]
    pub pgdata: PgdataArg,
    /// Expected size written, e.g. 2GB [default: size of the newest file in the target].
    #[arg(long, value_name = "SIZE", value_parser = parse_from_str::<ByteSize>)]
    pub estimate: Option<ByteSize>,
    #[command(flatten)]
    pub out: Output,
    /// With a COMMAND: end it if it runs longer than this, e.g. 2h (SIGTERM to
    /// its whole process group, SIGKILL 10s later); ssot then exits 128+the
    /// signal that ended it. ssot stays as the command's parent instead of
    /// becoming it, and forwards TERM, INT and HUP to its group.
    #[arg(long, value_name = "DURATION", value_parser = parse_time_limit, requires = "command")]
    pub time_limit: Option<Span>,
    /// Command to run under the operation lock if allowed (ssot execs it).
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum ContractCmd {
    /// Check every invariant; write contract.status and wal.settings
    /// (exit 0 none fails, 1 any fails, 3 an input cannot be read or parsed).
    Check(Box<ContractArgs>),
}

/// Inputs of the contract check; each a file or `-` for stdin (one at most).
#[derive(Debug, Args)]
#[command(mut_args(help_of("dsn", DSN_STANDS_IN)))]
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
    /// postgresql.auto.conf, read with its includes (from standard input,
    /// `-`, an include cannot be followed) [default on a host: the data
    /// directory's].
    #[arg(long, value_name = "FILE")]
    pub auto_conf: Option<PathBuf>,
    /// Replication slots (as for `wal check --slots`).
    #[arg(long, value_name = "FILE")]
    pub slots: Option<PathBuf>,
    /// /proc/mounts (for the filesystem-quota limitation).
    #[arg(long, value_name = "FILE")]
    pub mounts: Option<PathBuf>,
    /// postgresql.conf, read with its includes: the source of truth on a host
    /// [default on a host: the running server's config_file (with --dsn), else
    /// PGDATA/postgresql.conf].
    #[arg(long, value_name = "FILE")]
    pub postgresql_conf: Option<PathBuf>,
    #[command(flatten)]
    pub pgdata: PgdataArg,
    #[command(flatten)]
    pub dsn: DsnArg,
    #[command(flatten)]
    pub out: Output,
}

#[derive(Debug, Subcommand)]
pub enum StagesCmd {
    /// Report each stage claim as consistent or not with the evidence (exit 0 all consistent, 1 otherwise).
    Check(Output),
}

#[derive(Debug, Subcommand)]
pub enum EvidenceCmd {
    /// Record a backup into backup.status, read whole: size and SHA-256 measured, the
    /// format checked to its end (pg_restore, gzip, tar) (exit 0 recorded, 2 refused: a
    /// snapshot, an unknown kind, a missing, empty, truncated or implausibly small file,
    /// a size that does not match).
    Backup(Box<BackupArgs>),
    /// Record a restore drill into restore_drill.status (exit 0 recorded, 2 refused: a
    /// backup ssot did not record, or a pass for one whose content changed since).
    RestoreDrill(Box<RestoreDrillArgs>),
    /// Record a DR drill into dr_drill.status, with measured RTO and RPO
    /// (exit 0 within target, 1 missed a target, 2 refused).
    DrDrill(Box<DrDrillArgs>),
}

#[derive(Debug, Args)]
#[command(mut_args(help_of("pgdata", "PGDATA, to record whether the location is on another filesystem [default: $PGDATA, else config]")))]
pub struct BackupArgs {
    /// The backup's file (or directory) name inside its location.
    #[arg(long)]
    pub artifact: String,
    /// Where it was written: a local directory, or a URI [default: config gate.targets.backup].
    #[arg(long)]
    pub location: Option<String>,
    /// complete, partial or failed.
    #[arg(long, default_value = "complete", value_parser = parse_from_str::<BackupResult>)]
    pub result: BackupResult,
    /// When it started.
    #[arg(long, value_parser = parse_time)]
    pub started: Option<DateTime<Utc>>,
    /// When it finished [default: --now].
    #[arg(long, value_parser = parse_time)]
    pub finished: Option<DateTime<Utc>>,
    /// Its size; must match the file's [default: measured from the file].
    #[arg(long, value_parser = parse_from_str::<ByteSize>)]
    pub size: Option<ByteSize>,
    /// One of: dump (pg_dump), basebackup (pg_basebackup), pgbackrest, barman, wal-g,
    /// pg_probackup, restic, borg. A snapshot, by any name, is not a backup and is refused.
    #[arg(long, default_value = "dump")]
    pub kind: String,
    /// Who ran it [default: $USER, else "unknown"].
    #[arg(long)]
    pub by: Option<String>,
    #[command(flatten)]
    pub pgdata: PgdataArg,
}

#[derive(Debug, Args)]
pub struct RestoreDrillArgs {
    /// The backup artifact restored.
    #[arg(long)]
    pub artifact: String,
    /// pass or fail.
    #[arg(long, value_parser = PossibleValuesParser::new(["pass", "fail"]).try_map(|s| s.parse::<DrillResult>()))]
    pub result: DrillResult,
    /// When the drill started.
    #[arg(long, value_parser = parse_time)]
    pub started: Option<DateTime<Utc>>,
    /// When it finished [default: --now].
    #[arg(long, value_parser = parse_time)]
    pub finished: Option<DateTime<Utc>>,
    /// Who ran it [default: $USER, else "unknown"].
    #[arg(long)]
    pub by: Option<String>,
    /// Free text.
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
    #[arg(long, value_parser = parse_time)]
    pub t0: DateTime<Utc>,
    /// When the critical function was restored.
    #[arg(long, value_parser = parse_time)]
    pub restored_at: DateTime<Utc>,
    /// Newest data that existed before the incident.
    #[arg(long, value_parser = parse_time)]
    pub newest_before: DateTime<Utc>,
    /// Newest data present after the restore.
    #[arg(long, value_parser = parse_time)]
    pub newest_after: DateTime<Utc>,
    /// Who ran it [default: $USER, else "unknown"].
    #[arg(long)]
    pub by: Option<String>,
    #[command(flatten)]
    pub out: Output,
}

#[derive(Debug, Args)]
#[command(
    mut_args(help_of("pgdata", "PGDATA, for the disk guard on the backup and snapshot targets [default: $PGDATA, else config]")),
    mut_args(help_of("dsn", DSN_FOR_REPORT)),
)]
pub struct ReportArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormatArg::Text)]
    pub format: ReportFormatArg,
    /// Write the output here atomically instead of stdout (e.g. the textfile collector's ssot.prom).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub pgdata: PgdataArg,
    #[command(flatten)]
    pub dsn: DsnArg,
}

#[derive(Debug, Subcommand)]
pub enum RetentionCmd {
    /// Compute a plan: every artifact with keep/delete and its reasons
    /// (exit 0 clean, 1 warnings or refused, 3 the source cannot be read).
    Plan(Box<RetentionArgs>),
    /// Apply a plan. Deletes nothing without --confirm or --plan-hash
    /// (exit 0 applied or dry run, 1 refused, 3 failed: re-run to converge).
    Apply(Box<ApplyArgs>),
}

#[derive(Debug, Args)]
#[command(mut_args(help_of(
    "pgdata",
    "PGDATA, which an artifact root must never hold [default: $PGDATA, else config]"
)))]
pub struct RetentionArgs {
    /// A profile from the configuration ([retention.NAME]; seed: backups, snapshots).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Artifacts are the entries of DIR [default: the profile's root].
    #[arg(long, value_name = "DIR", conflicts_with = "catalog")]
    pub dir: Option<PathBuf>,
    /// strftime pattern of the creation time in entry names, e.g. ssot_%Y%m%d_%H%M%S.sql.gz.
    #[arg(long, value_name = "PATTERN", value_parser = parse_pattern)]
    pub pattern: Option<String>,
    /// JSON array of artifacts (`-` for stdin).
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,
    /// With --catalog: the directory where the artifact ids are entries (needed to apply).
    #[arg(long, value_name = "DIR", requires = "catalog")]
    pub root: Option<PathBuf>,
    /// With --catalog: its format, ssot (a JSON array of artifacts) or restic (`restic snapshots --json`; the plan ends with the `restic forget` commands to paste).
    #[arg(long, value_name = "FORMAT", default_value = "ssot", value_parser = parse_from_str::<ssot_core::retention::CatalogFormat>, requires = "catalog")]
    pub catalog_format: ssot_core::retention::CatalogFormat,
    #[command(flatten)]
    pub pgdata: PgdataArg,
    #[command(flatten)]
    pub policy: PolicyFlags,
    #[command(flatten)]
    pub out: Output,
}

fn parse_pattern(s: &str) -> Result<String, String> {
    ssot_core::retention::source::validate_pattern(s)
        .map(|()| s.to_string())
        .map_err(|e| e.to_string())
}

/// A `keep_*` count: an integer in -1..=4294967295.
fn parse_count(s: &str) -> Result<i64, String> {
    let n: i64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a whole number (-1 keeps every bucket)"))?;
    ssot_core::retention::check_count(n).map(|()| n)
}

/// `a,b` → the tags a and b (empty pieces are refused).
fn parse_tags(s: &str) -> Result<Vec<String>, String> {
    let tags: Vec<String> = s.split(',').map(|t| t.trim().to_string()).collect();
    if tags.iter().any(String::is_empty) {
        return Err(format!(
            "{s:?}: a tag list is TAG[,TAG...] with no empty tag"
        ));
    }
    Ok(tags)
}

/// Policy flags; each overrides the profile's key of the same name. One
/// flag per knob of [`ssot_core::retention_knobs!`], built by
/// `policy_flags!` below: the name, the help and the value name are the
/// declaration's, the parsing is the knob kind's.
#[derive(Debug, Clone, Default)]
pub struct PolicyFlags(RetentionPolicyPatch);

impl PolicyFlags {
    /// The flags given, as a patch over the profile's policy.
    pub fn patch(&self) -> RetentionPolicyPatch {
        self.0.clone()
    }
}

/// A knob's doc as clap's derive makes a help line of a doc comment: the
/// lines trimmed and joined, a final period dropped.
fn help_line(doc: &str) -> &str {
    match doc.strip_suffix('.') {
        Some(h) if !h.ends_with('.') => h,
        _ => doc,
    }
}

/// Renders the knobs as [`PolicyFlags`]' `clap::Args` and
/// `clap::FromArgMatches`; what a kind's flag parses is said once below.
macro_rules! policy_flags {
    ($( $(#[doc = $doc:literal])+ $name:ident : $kind:ident $vn:literal
        $(flag $flag:literal)? $(default $default:expr)? ; )*) => {
        impl clap::FromArgMatches for PolicyFlags {
            fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
                let mut m = m.clone();
                Self::from_arg_matches_mut(&mut m)
            }
            fn from_arg_matches_mut(m: &mut clap::ArgMatches) -> Result<Self, clap::Error> {
                Ok(PolicyFlags(RetentionPolicyPatch {
                    $( $name: policy_flags!(@get $kind m, stringify!($name)), )*
                }))
            }
            fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
                let mut m = m.clone();
                self.update_from_arg_matches_mut(&mut m)
            }
            fn update_from_arg_matches_mut(
                &mut self,
                m: &mut clap::ArgMatches,
            ) -> Result<(), clap::Error> {
                $(
                    if m.contains_id(stringify!($name)) {
                        self.0.$name = policy_flags!(@get $kind m, stringify!($name));
                    }
                )*
                Ok(())
            }
        }

        impl Args for PolicyFlags {
            fn group_id() -> Option<clap::Id> {
                Some(clap::Id::from("PolicyFlags"))
            }
            fn augment_args(cmd: clap::Command) -> clap::Command {
                let ids = [$( stringify!($name) ),*];
                let cmd = cmd.group(clap::ArgGroup::new("PolicyFlags").multiple(true).args(ids));
                $(
                    let arg = clap::Arg::new(stringify!($name))
                        .long(policy_flags!(@long $name $($flag)?))
                        .value_name($vn)
                        .help(help_line(concat!($($doc),+).trim()))
                        .required(false);
                    let cmd = cmd.arg(policy_flags!(@arg $kind arg));
                )*
                cmd
            }
            fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
                Self::augment_args(cmd)
            }
        }
    };
    (@long $name:ident $flag:literal) => { $flag };
    // The name with dashes, made once per command built (a few bytes).
    (@long $name:ident) => {
        &*Box::leak(stringify!($name).replace('_', "-").into_boxed_str())
    };
    // What each kind's flag parses, and how it is read back.
    (@arg count $a:ident) => {
        $a.allow_negative_numbers(true).value_parser(parse_count).action(clap::ArgAction::Set)
    };
    (@arg within $a:ident) => { policy_flags!(@parsed $a ResticDuration) };
    (@arg age $a:ident) => { policy_flags!(@parsed $a Span) };
    (@arg grace $a:ident) => { policy_flags!(@parsed $a Span) };
    (@arg size $a:ident) => { policy_flags!(@parsed $a ByteSize) };
    (@arg max_delete $a:ident) => { policy_flags!(@parsed $a MaxDelete) };
    (@arg compat $a:ident) => { policy_flags!(@parsed $a ResticCompat) };
    (@arg floor $a:ident) => {
        $a.value_parser(clap::value_parser!(u32)).action(clap::ArgAction::Set)
    };
    (@arg zone $a:ident) => {
        $a.value_parser(clap::value_parser!(String)).action(clap::ArgAction::Set)
    };
    (@arg tags $a:ident) => { $a.value_parser(parse_tags).action(clap::ArgAction::Append) };
    (@parsed $a:ident $t:ty) => {
        $a.value_parser(parse_from_str::<$t>).action(clap::ArgAction::Set)
    };
    (@get tags $m:ident, $id:expr) => {
        $m.remove_many::<Vec<String>>($id).map(|v| v.collect())
    };
    (@get $kind:ident $m:ident, $id:expr) => { $m.remove_one($id) };
}

ssot_core::retention_knobs!(policy_flags);

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub source: RetentionArgs,
    /// Apply the plan as computed now.
    #[arg(long, conflicts_with = "plan_hash")]
    pub confirm: bool,
    /// Apply only if the plan computed now has this hash (from a reviewed `retention plan`;
    /// a unique prefix of at least 12 hex digits is enough).
    #[arg(long, value_name = "HASH", value_parser = parse_plan_hash)]
    pub plan_hash: Option<String>,
}

fn parse_plan_hash(s: &str) -> Result<String, String> {
    ssot_core::retention::check_plan_hash_prefix(s)
        .map(|()| s.to_ascii_lowercase())
        .map_err(|e| e.to_string())
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

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The runbook (a .rhai file).
    #[arg(value_name = "RUNBOOK")]
    pub runbook: PathBuf,
    /// A value for the runbook, in its `args` map (repeatable).
    #[arg(long = "arg", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub args: Vec<(String, String)>,
    /// Compile the runbook without running it (exit 0, or 125 with the error's line and column).
    #[arg(long)]
    pub check: bool,
    /// Stop the runbook after this long, counted from the start (compiling included; checked
    /// between its operations).
    #[arg(long, value_name = "DURATION", default_value = "6h", value_parser = parse_from_str::<Span>)]
    pub timeout: Span,
    /// Stop any one command it runs after this long: SIGTERM to its whole process group, then
    /// SIGKILL.
    #[arg(long, value_name = "DURATION", default_value = "6h", value_parser = parse_from_str::<Span>)]
    pub command_timeout: Span,
    /// Let the runbook `import` modules from its own directory.
    #[arg(long)]
    pub allow_imports: bool,
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err("expected KEY=VALUE".into()),
    }
}

#[derive(Debug, Subcommand)]
pub enum ConfigCmd {
    /// Print the effective configuration (defaults + file) as TOML (exit 0, 3 a bad file).
    Show(Output),
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Build the sandbox here instead of a new temporary directory. The demo uses its own
    /// state directory (DIR/state) and configuration (DIR/ssot.toml): it takes no --state or --config.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    #[command(flatten)]
    pub out: Output,
}

/// True when `argv` is `ssot ... gate OP ... -- COMMAND...` with a command:
/// then even a usage error exits with a reserved code, never one the
/// command could have returned.
pub fn gate_command_given(argv: &[OsString]) -> bool {
    let first_word = argv
        .iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .position(|a| a == "gate");
    let dashdash = argv.iter().position(|a| a == "--");
    matches!((first_word, dashdash), (Some(_), Some(d)) if d + 1 < argv.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every subcommand path (`retention plan`) with its command.
    fn leaves(cmd: &clap::Command, path: String, out: &mut Vec<(String, clap::Command)>) {
        if cmd.get_subcommands().next().is_none() {
            out.push((path.clone(), cmd.clone()));
        }
        for sub in cmd.get_subcommands() {
            let p = format!("{path} {}", sub.get_name()).trim().to_string();
            leaves(sub, p, out);
        }
    }

    /// A command-line value of each kind.
    fn sample(kind: ssot_core::retention::KnobKind) -> &'static str {
        use ssot_core::retention::KnobKind as K;
        match kind {
            K::Count => "3",
            K::Within => "2d",
            K::Age | K::Grace => "7d",
            K::Tags => "a,b",
            K::Floor => "2",
            K::Size => "1GB",
            K::Zone => "Europe/Berlin",
            K::MaxDelete => "50%",
            K::Compat => "0.14",
        }
    }

    #[test]
    fn every_declared_retention_knob_is_a_flag_with_its_doc_that_sets_its_key() {
        use ssot_core::retention::KNOBS;
        let cmd = Cli::command();
        let plan = cmd
            .find_subcommand("retention")
            .and_then(|r| r.find_subcommand("plan"))
            .unwrap();
        for knob in KNOBS {
            let flag = knob.cli_flag();
            let arg = plan
                .get_arguments()
                .find(|a| a.get_long() == Some(flag.as_str()))
                .unwrap_or_else(|| panic!("no --{flag}"));
            assert_eq!(arg.get_help().unwrap().to_string(), help_line(knob.doc));
            assert_eq!(arg.get_value_names().unwrap(), [knob.value_name]);
            let argv = [
                "ssot",
                "retention",
                "plan",
                "--dir",
                "d",
                &format!("--{flag}"),
            ];
            let parsed = Cli::try_parse_from(argv.iter().copied().chain([sample(knob.kind)]))
                .unwrap_or_else(|e| panic!("--{flag}: {e}"));
            let Cmd::Retention(RetentionCmd::Plan(a)) = parsed.command else {
                panic!("not a plan")
            };
            let given = serde_json::to_value(a.policy.patch()).unwrap();
            let keys: Vec<&String> = given.as_object().unwrap().keys().collect();
            assert_eq!(keys, [knob.name], "--{flag}");
        }
        let group = plan
            .get_groups()
            .find(|g| g.get_id() == "PolicyFlags")
            .unwrap();
        assert_eq!(group.get_args().count(), KNOBS.len(), "one flag per knob");
    }

    #[test]
    fn pgdata_and_dsn_are_one_definition_said_per_command() {
        let mut cmd = Cli::command();
        cmd.build();
        let mut all = Vec::new();
        leaves(&cmd, String::new(), &mut all);
        let with = |id: &str| -> Vec<(String, clap::Arg)> {
            all.iter()
                .filter_map(|(p, c)| {
                    c.get_arguments()
                        .find(|a| a.get_id() == id)
                        .map(|a| (p.clone(), a.clone()))
                })
                .collect()
        };
        let pgdata = with("pgdata");
        let names: Vec<&str> = pgdata.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            names,
            [
                "wal check",
                "gate",
                "retention plan",
                "retention apply",
                "contract check",
                "evidence backup",
                "report"
            ]
        );
        for (path, a) in &pgdata {
            assert_eq!(a.get_long(), Some("pgdata"), "{path}");
            assert_eq!(a.get_env(), Some(std::ffi::OsStr::new("PGDATA")), "{path}");
            assert_eq!(a.get_value_names().unwrap(), ["DIR"], "{path}");
            let help = a.get_help().unwrap().to_string();
            assert!(
                help.contains("[default: $PGDATA, else config"),
                "{path}: {help}"
            );
        }
        let dsn = with("dsn");
        let names: Vec<&str> = dsn.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(names, ["wal check", "contract check", "report"]);
        for (path, a) in &dsn {
            assert_eq!(
                a.get_env(),
                Some(std::ffi::OsStr::new("SSOT_DSN")),
                "{path}"
            );
            assert!(a.is_hide_env_values_set(), "{path}");
            assert_eq!(a.get_value_names().unwrap(), ["CONNINFO"], "{path}");
            let help = a.get_help().unwrap().to_string();
            assert!(
                help.starts_with("PostgreSQL to probe live"),
                "{path}: {help}"
            );
            assert!(
                help.contains("[default: config postgres.dsn"),
                "{path}: {help}"
            );
        }
        // Each command's own wording reached its flag (`help_of` found it).
        let help = |list: &[(String, clap::Arg)], path: &str| {
            let (_, a) = list.iter().find(|(p, _)| p == path).unwrap();
            a.get_help().unwrap().to_string()
        };
        assert!(help(&pgdata, "report").starts_with("PGDATA, for the disk guard"));
        assert!(help(&pgdata, "evidence backup").starts_with("PGDATA, to record whether"));
        assert!(help(&pgdata, "retention apply").starts_with("PGDATA, which an artifact root"));
        assert!(help(&pgdata, "gate").starts_with("PostgreSQL data directory"));
        assert!(help(&dsn, "contract check").contains("stand in for --settings"));
        assert!(help(&dsn, "report").contains("for the postgres section"));
        assert!(help(&dsn, "wal check").ends_with("none: no probe]"));
    }
}
