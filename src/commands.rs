//! The commands: each parses nothing and decides nothing; it gathers inputs,
//! calls `ssot_core::service`, and renders. An `Err` is a failure that gave
//! no verdict (exit 3, or 125 with a gated command).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use ssot_core::config::{Config, DEFAULT_CONFIG_FILE};
use ssot_core::contract::ContractVerdict;
use ssot_core::contract::{ContractInputs, Sourced};
use ssot_core::evidence::{BackupEvidence, DrDrillEvidence, RestoreDrillEvidence};
use ssot_core::gate::Operation;
use ssot_core::host::{
    self, DirStateStore, ExecFailure, FsArtifactRoot, FsWalScanner, StatvfsVolumes, StdFilesystem,
};
use ssot_core::inputs as cin;
use ssot_core::ports::StateStore;
use ssot_core::report::render as report_render;
use ssot_core::retention::{Artifact, RetentionPolicy};
use ssot_core::service::{self, GateRequest, Host, ProtectedPaths, WalCheckInput};
use ssot_core::service::{ApplyMode, RetentionSource};
use ssot_core::wal::Level;

use crate::cli::*;
use crate::{demo, exit, render};

/// The loaded configuration and where it came from.
pub struct Loaded {
    pub config: Config,
    pub origin: String,
    /// The file read, if any.
    pub file: Option<PathBuf>,
}

pub fn load_config(path: Option<&Path>) -> Result<Loaded, String> {
    let (path, required) = match path {
        Some(p) => (p.to_path_buf(), true),
        None => (PathBuf::from(DEFAULT_CONFIG_FILE), false),
    };
    match host::read_config(&path, required).map_err(|e| e.to_string())? {
        Some(text) => {
            let origin = path.display().to_string();
            let config = Config::from_toml_str(&text, &origin).map_err(|e| e.to_string())?;
            Ok(Loaded {
                config,
                origin: format!("built-in defaults + {origin}"),
                file: Some(path),
            })
        }
        None => Ok(Loaded {
            config: Config::default(),
            origin: "built-in defaults (no configuration file)".into(),
            file: None,
        }),
    }
}

pub fn now_or_clock(now: Option<DateTime<Utc>>) -> DateTime<Utc> {
    use ssot_core::ports::Clock;
    now.unwrap_or_else(|| ssot_core::host::SystemClock.now())
}

fn read_input(path: &Path) -> Result<String, String> {
    host::read_input(path, host::INPUT_MAX).map_err(|e| e.to_string())
}

/// Everything a command needs: the configuration, the ports and the time.
pub struct Ctx<'a> {
    pub cfg: &'a Config,
    /// Where the configuration came from.
    pub origin: &'a str,
    /// The configuration file read, if any.
    pub config_file: Option<&'a Path>,
    pub store: &'a DirStateStore,
    pub host: Host<'a>,
    pub now: DateTime<Utc>,
}

impl Ctx<'_> {
    /// `--pgdata` (or `$PGDATA`), else the configured PGDATA.
    fn pgdata(&self, p: Option<PathBuf>) -> PathBuf {
        p.unwrap_or_else(|| PathBuf::from(&self.cfg.postgres.pgdata))
    }
}

/// Runs the parsed command; returns the exit code.
pub fn run(cli: Cli, flags: GivenFlags) -> Result<u8, String> {
    let Common { now, state, config } = cli.common;
    if let Cmd::Demo(args) = cli.command {
        if flags.state || flags.config {
            return Err(
                "ssot demo builds its own state directory (DIR/state) and configuration (DIR/ssot.toml): it takes no --state or --config".into(),
            );
        }
        return demo::run(args.dir, now_or_clock(now), args.out.format);
    }
    let loaded = load_config(config.as_deref())?;
    let cfg = &loaded.config;
    let state_dir = state.unwrap_or_else(|| PathBuf::from(&cfg.state_dir));
    let store = DirStateStore::new(&state_dir);
    let ctx = Ctx {
        cfg,
        origin: &loaded.origin,
        config_file: loaded.file.as_deref(),
        store: &store,
        host: Host {
            wal: &FsWalScanner,
            volumes: &StatvfsVolumes,
            fs: &StdFilesystem,
            state: &store,
            artifacts: &FsArtifactRoot,
        },
        now: now_or_clock(now),
    };
    match cli.command {
        Cmd::Wal(WalCmd::Check(args)) => wal_check(&ctx, args),
        Cmd::Gate(args) => gate(&ctx, args),
        Cmd::Retention(RetentionCmd::Plan(args)) => retention_plan(&ctx, &args),
        Cmd::Retention(RetentionCmd::Apply(args)) => retention_apply(&ctx, &args),
        Cmd::Contract(ContractCmd::Check(args)) => contract_check(&ctx, &args),
        Cmd::Stages(StagesCmd::Check(out)) => stages_check(&ctx, out.format),
        Cmd::Evidence(EvidenceCmd::Backup(a)) => evidence_backup(&ctx, &a),
        Cmd::Evidence(EvidenceCmd::RestoreDrill(a)) => evidence_restore_drill(&ctx, &a),
        Cmd::Evidence(EvidenceCmd::DrDrill(a)) => evidence_dr_drill(&ctx, &a),
        Cmd::Report(a) => report(&ctx, a),
        Cmd::Status(out) => status(&ctx, out.format),
        Cmd::Config(ConfigCmd::Show(out)) => config_show(&ctx, out.format),
        Cmd::Demo(_) => unreachable!("handled above"),
    }
}

/// Which global flags were given on the command line (not from the environment).
#[derive(Debug, Default, Clone, Copy)]
pub struct GivenFlags {
    pub state: bool,
    pub config: bool,
}

fn wal_check(ctx: &Ctx, args: WalCheckArgs) -> Result<u8, String> {
    let pgdata = ctx.pgdata(args.pgdata);
    let mut input = WalCheckInput::default();
    if let Some(p) = &args.slots {
        let text = read_input(p)?;
        input.slots =
            cin::parse_slots(&text, &p.display().to_string()).map_err(|e| e.to_string())?;
    }
    let check = service::check_wal(&ctx.host, ctx.cfg, &pgdata, &input, ctx.now)
        .map_err(|e| e.to_string())?;
    match args.out.format {
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

fn gate(ctx: &Ctx, args: GateArgs) -> Result<u8, String> {
    let req = GateRequest {
        operation: args.operation.into(),
        target: args.target,
        pgdata: Some(ctx.pgdata(args.pgdata)),
        estimate: args.estimate,
    };
    let with_command = !args.command.is_empty();
    let outcome = if with_command {
        let holder = format!(
            "{} by pid {} since {}: {}",
            req.operation,
            std::process::id(),
            ssot_core::state::timestamp(ctx.now),
            args.command.join(" ")
        );
        service::gate_and_hold(&ctx.host, ctx.cfg, &req, &holder, ctx.now)
    } else {
        service::gate(&ctx.host, ctx.cfg, &req, ctx.now).map(|d| (d, None))
    };
    let (decision, held) = match outcome {
        Ok(x) => x,
        Err(e) => {
            eprintln!(
                "ssot: gate {} could not be evaluated, denying: {e}",
                req.operation
            );
            return Ok(if with_command {
                exit::GATE_NO_VERDICT
            } else {
                2
            });
        }
    };
    let rendered = match args.out.format {
        Format::Json => format!("{}\n", render::json(&decision)),
        Format::Text => render::decision(&decision),
    };
    if !with_command {
        print!("{rendered}");
        return Ok(if decision.allowed { 0 } else { 1 });
    }
    // stdout belongs to the command (e.g. pg_dump > file).
    eprint!("{rendered}");
    let Some(lock) = held else {
        return Ok(exit::GATE_DENIED);
    };
    // Becomes the command; returns only if it cannot be executed.
    match host::exec_holding(lock, &args.command) {
        ExecFailure::NotFound(m) => {
            eprintln!("ssot: the gate allowed, but the command was not found: {m}");
            Ok(exit::NOT_FOUND)
        }
        ExecFailure::CannotExecute(m) => {
            eprintln!("ssot: the gate allowed, but the command cannot be executed: {m}");
            Ok(exit::CANNOT_EXECUTE)
        }
        ExecFailure::Lock(e) => {
            eprintln!("ssot: the command was not run: {e}");
            Ok(exit::GATE_NO_VERDICT)
        }
    }
}

/// The paths an artifact root must never hold.
fn protected(ctx: &Ctx, pgdata: Option<PathBuf>) -> ProtectedPaths {
    ProtectedPaths {
        state_dir: Some(ctx.store.dir().to_path_buf()),
        pgdata: Some(ctx.pgdata(pgdata)),
        config_file: ctx.config_file.map(Path::to_path_buf),
    }
}

fn retention_plan(ctx: &Ctx, args: &RetentionArgs) -> Result<u8, String> {
    let (source, policy, profile) = retention_inputs(ctx.cfg, args)?;
    let paths = protected(ctx, args.pgdata.clone());
    let planned = service::retention_plan(&ctx.host, &source, &policy, &paths, ctx.now)
        .map_err(|e| e.to_string())?;
    match args.out.format {
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

fn retention_apply(ctx: &Ctx, args: &ApplyArgs) -> Result<u8, String> {
    let (source, policy, profile) = retention_inputs(ctx.cfg, &args.source)?;
    let mode = match (args.confirm, args.plan_hash.clone()) {
        (true, _) => ApplyMode::Confirm,
        (false, Some(h)) => ApplyMode::PlanHash(h),
        (false, None) => ApplyMode::DryRun,
    };
    let paths = protected(ctx, args.source.pgdata.clone());
    let outcome = service::retention_apply(
        &ctx.host, &source, &policy, &paths, &profile, &mode, ctx.now,
    )
    .map_err(|e| e.to_string())?;
    match args.source.out.format {
        Format::Json => println!("{}", render::json(&outcome)),
        Format::Text => print!("{}", render::retention_apply(&outcome, &profile)),
    }
    Ok(if outcome.refused.is_some() { 1 } else { 0 })
}

fn contract_check(ctx: &Ctx, args: &ContractArgs) -> Result<u8, String> {
    let inputs = contract_inputs(ctx.cfg, args, ctx.store)?;
    let report =
        service::contract_check(&ctx.host, ctx.cfg, &inputs, ctx.now).map_err(|e| e.to_string())?;
    match args.out.format {
        Format::Json => println!("{}", render::json(&report)),
        Format::Text => print!("{}", render::contract(&report)),
    }
    Ok(match report.status {
        ContractVerdict::Fail => 1,
        _ => 0,
    })
}

fn stages_check(ctx: &Ctx, format: Format) -> Result<u8, String> {
    let checks = service::stage_check(&ctx.host, ctx.cfg, ctx.now);
    match format {
        Format::Json => println!("{}", render::json(&checks)),
        Format::Text => print!("{}", render::stages(&checks)),
    }
    Ok(if checks.iter().all(|c| c.consistent) {
        0
    } else {
        1
    })
}

/// `--by`, else `$USER`, else "unknown".
fn by(given: &Option<String>) -> String {
    given
        .clone()
        .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
        .unwrap_or_else(|| "unknown".into())
}

/// Evidence refused by the core is a verdict (exit 2); other errors give none.
fn evidence_result<T>(r: ssot_core::Result<T>) -> Result<Result<T, u8>, String> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(e @ ssot_core::Error::EvidenceRefused(_)) => {
            eprintln!("ssot: {e}");
            Ok(Err(2))
        }
        Err(e) => Err(e.to_string()),
    }
}

fn evidence_backup(ctx: &Ctx, a: &BackupArgs) -> Result<u8, String> {
    let location = a
        .location
        .clone()
        .or_else(|| ctx.cfg.gate.targets.get(&Operation::Backup).cloned())
        .ok_or("give --location (no gate.targets.backup configured)")?;
    let e = BackupEvidence {
        finished_at: a.finished.unwrap_or(ctx.now),
        started_at: a.started,
        artifact: a.artifact.clone(),
        location,
        result: a.result,
        size_bytes: a.size.map(|b| b.bytes()),
        kind: a.kind.clone(),
        recorded_by: by(&a.by),
        separate_from_pgdata: None,
    };
    let pgdata = ctx.pgdata(a.pgdata.clone());
    let e = match evidence_result(service::record_backup(&ctx.host, e, Some(&pgdata), ctx.now))? {
        Ok(e) => e,
        Err(code) => return Ok(code),
    };
    println!(
        "recorded backup {} ({}, {}) at {} in {}; location {}; on another filesystem than PGDATA: {}",
        e.artifact,
        e.result.as_str(),
        e.size_bytes
            .map(ssot_core::num::human_bytes)
            .unwrap_or_else(|| "size unknown".into()),
        ssot_core::state::timestamp(e.finished_at),
        ctx.store.location(ssot_core::state::BACKUP_STATUS),
        e.location,
        e.separate_from_pgdata
            .map(|b| if b { "yes" } else { "NO" })
            .unwrap_or("unknown")
    );
    Ok(0)
}

fn evidence_restore_drill(ctx: &Ctx, a: &RestoreDrillArgs) -> Result<u8, String> {
    let e = RestoreDrillEvidence {
        finished_at: a.finished.unwrap_or(ctx.now),
        started_at: a.started,
        artifact: a.artifact.clone(),
        passed: a.result == "pass",
        recorded_by: by(&a.by),
        notes: a.notes.clone(),
    };
    if let Err(code) = evidence_result(service::record_restore_drill(&ctx.host, &e, ctx.now))? {
        return Ok(code);
    }
    if let (true, Some(dir)) = (e.passed, &a.mark_verified) {
        ssot_core::retention::validate_id(&a.artifact).map_err(|e| e.to_string())?;
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

fn evidence_dr_drill(ctx: &Ctx, a: &DrDrillArgs) -> Result<u8, String> {
    let e = DrDrillEvidence {
        scenario: a.scenario.clone(),
        t0: a.t0,
        restored_at: a.restored_at,
        newest_data_before: a.newest_before,
        newest_data_after: a.newest_after,
        recorded_by: by(&a.by),
    };
    let o = match evidence_result(service::record_dr_drill(&ctx.host, ctx.cfg, &e, ctx.now))? {
        Ok(o) => o,
        Err(code) => return Ok(code),
    };
    match a.out.format {
        Format::Json => println!("{}", render::json(&o)),
        Format::Text => println!(
            "DR drill \"{}\": RTO {} (target {}), RPO {} (target {}): {}",
            e.scenario,
            ssot_core::num::human_secs(o.rto_seconds as f64),
            ctx.cfg.evidence.rto_target,
            ssot_core::num::human_secs(o.rpo_seconds as f64),
            ctx.cfg.evidence.rpo_target,
            if o.passed { "PASS" } else { "FAIL" }
        ),
    }
    Ok(if o.passed { 0 } else { 1 })
}

fn report(ctx: &Ctx, a: ReportArgs) -> Result<u8, String> {
    let pgdata = ctx.pgdata(a.pgdata.clone());
    let r = service::report(&ctx.host, ctx.cfg, Some(&pgdata), ctx.now);
    let out = match a.format {
        ReportFormat::Text => report_render::text(&r),
        ReportFormat::Json => format!("{}\n", render::json(&r)),
        ReportFormat::Prometheus => report_render::prometheus(&r),
        ReportFormat::Configmap => report_render::configmap(
            &r,
            &ctx.cfg.report.configmap_name,
            &ctx.cfg.report.configmap_namespace,
        ),
    };
    match &a.output {
        Some(path) => {
            ssot_core::host::write_file_atomic(path, out.as_bytes()).map_err(|e| e.to_string())?
        }
        None => print!("{out}"),
    }
    Ok(r.verdict.exit_code())
}

fn status(ctx: &Ctx, format: Format) -> Result<u8, String> {
    let files = service::read_state(&ctx.host);
    match format {
        Format::Json => println!("{}", render::json(&render::status_json(&files, ctx.now))),
        Format::Text => print!("{}", render::status_text(ctx.store, &files, ctx.now)),
    }
    Ok(0)
}

fn config_show(ctx: &Ctx, format: Format) -> Result<u8, String> {
    match format {
        Format::Json => println!("{}", render::json(ctx.cfg)),
        Format::Text => {
            println!("# effective configuration: {}", ctx.origin);
            print!("{}", ctx.cfg.to_toml());
        }
    }
    Ok(0)
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
            ssot_core::state::StateInput::Invalid { path, problem } => {
                return Err(format!("{path} {problem}"))
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
            cin::parse_slots(&t, &o).map_err(|e| e.to_string())?,
            o,
        ));
    }
    if let Some((t, o)) = read(&a.mounts)? {
        i.mounts = Some(Sourced::new(cin::parse_mounts(&t), o));
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
