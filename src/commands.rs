//! The commands, as a conversion table: flags → a request, `Ssot` → a
//! result, the result → stdout in the chosen format, its outcome → the exit
//! code. Nothing is decided here. An `Err` is a failure that gave no verdict
//! (exit 3, or 125 with a gated command), its message with the CLI's hints.

use std::io::Write;

use serde::Serialize;
use ssot_core::host::{self, ExecFailure};
use ssot_core::ports::Held;
use ssot_core::{
    exit, json, write_json, ApplyMode, BackupRequest, Catalog, ContractRequest, DrDrillRequest,
    Error, GateRequest, Input, Outcome, ReportFormat, ReportRequest, RestoreDrillRequest,
    RetentionRequest, Ssot, WalCheckRequest,
};

use crate::cli::*;
use crate::demo;

/// Prints `result` as text or JSON, streamed through one buffer, and returns
/// its exit code; a result that could not be written is no verdict.
fn show<T: Serialize + std::fmt::Display + Outcome>(result: &T, format: Format) -> u8 {
    let written = write_stdout(|out| match format {
        Format::Json => write_json(out, result),
        Format::Text => write!(out, "{result}"),
    });
    written.map_or_else(|c| c, |()| result.exit_code())
}

/// Writes `text` to stdout (see [`write_stdout`]).
fn emit(text: &str) -> Result<(), u8> {
    write_stdout(|out| out.write_all(text.as_bytes()))
}

/// Writes to stdout through one buffer. A stdout that is closed or failing
/// (a reader that went away: EPIPE) is said once on stderr and is no verdict
/// — never a panic, as `print!` would.
fn write_stdout(
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<(), u8> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    write(&mut out).and_then(|()| out.flush()).map_err(|e| {
        eprintln!("ssot: error: the result could not be written to stdout: {e}");
        exit::NO_VERDICT
    })
}

/// A core error with the CLI's flag hints. Core messages name request
/// fields; only here are they spelt as flags.
pub fn hint(e: &Error) -> String {
    match e {
        Error::NotGiven {
            field: "location", ..
        } => "give --location (no gate.targets.backup configured)".into(),
        Error::NotGiven { field: "dir", .. } => {
            "give --dir DIR, --catalog FILE, or a --profile with a root".into()
        }
        Error::NotGiven { field, message } => {
            format!("{message} (--{})", field.replace('_', "-"))
        }
        // The core names the request field `now`; the CLI's option is `--now`.
        Error::ClockRefused { .. } => format!("--{e}"),
        other => other.to_string(),
    }
}

/// Evidence refused by the core is a verdict (exit 2); other errors give none.
fn recorded<T: Serialize + std::fmt::Display + Outcome>(
    r: ssot_core::Result<T>,
    format: Format,
) -> Result<u8, String> {
    match r {
        Ok(v) => Ok(show(&v, format)),
        Err(e @ Error::EvidenceRefused(_)) => {
            eprintln!("ssot: {e}");
            Ok(e.exit_code())
        }
        Err(e) => Err(hint(&e)),
    }
}

/// Runs the parsed command; returns the exit code.
pub fn run(cli: Cli, flags: GivenFlags) -> Result<u8, String> {
    if let Some(done) = generated(&cli.command) {
        return done;
    }
    let Common { now, state, config } = cli.common;
    if let Cmd::Demo(args) = cli.command {
        if flags.state || flags.config {
            return Err(
                "ssot demo builds its own state directory (DIR/state) and configuration (DIR/ssot.toml): it takes no --state or --config".into(),
            );
        }
        return demo::run(args.dir, now, args.out.format);
    }
    if let Cmd::Run(a) = &cli.command {
        if a.check {
            return Ok(match ssot_rhai::check_file(&a.runbook) {
                Ok(()) => exit::OK,
                Err(e) => {
                    eprintln!("ssot: error: {e}");
                    ssot_rhai::exit::SCRIPT_ERROR
                }
            });
        }
    }
    let env = host::Environment::from_process();
    let ssot = Ssot::open_in(&env, config.as_deref(), state.as_deref()).map_err(|e| hint(&e))?;
    if let Cmd::Run(a) = cli.command {
        return Ok(run_runbook(ssot, now, a));
    }
    // Decisions that authorise work (gates, an apply that deletes) take the
    // given time only to check it against the real clock: `given`.
    let given = now;
    let now = now.unwrap_or_else(|| ssot.now());
    let e = |e: Error| hint(&e);
    match cli.command {
        Cmd::Wal(WalCmd::Check(a)) => {
            let req = WalCheckRequest {
                pgdata: a.pgdata.pgdata,
                slots: a.slots.map(Input::Path),
                dsn: a.dsn.dsn,
            };
            Ok(show(&ssot.check_wal(&req, now).map_err(e)?, a.out.format))
        }
        Cmd::Gate(a) => gate(&ssot, a, given),
        Cmd::Retention(RetentionCmd::Plan(a)) => retention_plan(&ssot, &a, now, given),
        Cmd::Retention(RetentionCmd::Apply(a)) => retention_apply(&ssot, &a, given),
        Cmd::Contract(ContractCmd::Check(a)) => {
            let req = ContractRequest {
                statefulset: a.statefulset.map(Input::Path),
                settings: a.settings.map(Input::Path),
                processes: a.processes.map(Input::Path),
                pvcs: a.pvcs.map(Input::Path),
                active_pvcs: a.active_pvcs.map(Input::Path),
                auto_conf: a.auto_conf.map(|p| Input::Path(absolute(p))),
                slots: a.slots.map(Input::Path),
                mounts: a.mounts.map(Input::Path),
                // Absolute, so the directory holding it (PostgreSQL's data
                // directory when it sets none) is a real path.
                postgresql_conf: a.postgresql_conf.map(|p| Input::Path(absolute(p))),
                dsn: a.dsn.dsn,
                pgdata: a.pgdata.pgdata.map(absolute),
            };
            Ok(show(
                &ssot.check_contract(&req, now).map_err(e)?,
                a.out.format,
            ))
        }
        Cmd::Stages(StagesCmd::Check(out)) => Ok(show(&ssot.check_stages(now), out.format)),
        Cmd::Evidence(cmd) => evidence(&ssot, cmd, now),
        Cmd::Verify(out) => Ok(show(&ssot.verify(now).map_err(e)?, out.format)),
        Cmd::Report(a) => report(&ssot, a, now),
        // Answered before the configuration is read; here only for completeness.
        c @ (Cmd::Completions(_) | Cmd::Man(_)) => generated(&c).unwrap_or(Ok(exit::NO_VERDICT)),
        Cmd::Status(out) => Ok(show(&ssot.status(now), out.format)),
        Cmd::Config(ConfigCmd::Show(out)) => Ok(show(&ssot.effective_config(), out.format)),
        Cmd::Demo(_) | Cmd::Run(_) => unreachable!("handled above"),
    }
}

/// `retention plan`, with the hint to apply exactly this plan.
fn retention_plan(
    ssot: &Ssot,
    a: &RetentionArgs,
    now: chrono::DateTime<chrono::Utc>,
    given: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<u8, String> {
    let e = |e: Error| hint(&e);
    let req = retention_request(a);
    let planned = ssot.plan_retention(&req, now).map_err(e)?;
    let code = show(&planned, a.out.format);
    let p = &planned.plan;
    let mut code = code;
    if code != exit::NO_VERDICT
        && a.out.format == Format::Text
        && p.refused.is_none()
        && p.summary.deleted > 0
        && req.catalog_format.is_native()
    {
        let hint = format!(
            "to apply exactly this plan: `ssot retention apply` with the same arguments{} and --plan-hash {}\n",
            without_now(given),
            p.plan_hash
        );
        code = emit(&hint).map_or_else(|c| c, |()| code);
    }
    // The process ends next: a plan of a million artifacts is not
    // worth freeing piece by piece (the kernel takes it back whole).
    std::mem::forget(planned);
    Ok(code)
}

/// `retention apply`: the mode chosen by the core from the flags.
fn retention_apply(
    ssot: &Ssot,
    a: &ApplyArgs,
    given: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<u8, String> {
    let e = |e: Error| hint(&e);
    let mode = ApplyMode::from_options(a.confirm, a.plan_hash.clone()).map_err(e)?;
    let req = retention_request(&a.source);
    if !req.catalog_format.is_native() {
        return retention_apply_through_tool(ssot, a, &req, &mode, given);
    }
    let outcome = ssot.apply_retention(&req, &mode, given).map_err(e)?;
    let code = show(&outcome, a.source.out.format);
    if code != exit::NO_VERDICT && a.source.out.format == Format::Text && outcome.dry_run {
        let hint = format!(
            "To apply, re-run with the same arguments{} and --plan-hash {} (or --confirm)\n",
            without_now(given),
            outcome.plan.plan_hash
        );
        return Ok(emit(&hint).map_or_else(|c| c, |()| code));
    }
    Ok(code)
}

/// `retention apply` over a tool's listing: the core decides and holds the
/// operation lock; here the tool's commands run (no shell), one after the
/// other, stopping at the first that fails. Exit 0 applied or dry run, 1
/// refused (nothing ran), 3 a command failed or could not run (list again
/// and plan: what it deleted is gone from the new listing).
fn retention_apply_through_tool(
    ssot: &Ssot,
    a: &ApplyArgs,
    req: &RetentionRequest,
    mode: &ApplyMode,
    given: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<u8, String> {
    let tool = ssot
        .hold_tool_retention(req, mode, given)
        .map_err(|e| hint(&e))?;
    let mut outcome = tool.outcome;
    let format = a.source.out.format;
    if let Some(lock) = &tool.lock {
        // stdout is ssot's result (text or JSON): the tool's output goes to stderr.
        let opts = host::RunOptions {
            capture: true,
            ..host::RunOptions::default()
        };
        for argv in &tool.commands {
            let ran = host::run_holding(Some(lock), argv, &opts);
            if let Ok(done) = &ran {
                let mut err = std::io::stderr().lock();
                let _ = err.write_all(&done.stdout);
                let _ = err.write_all(&done.stderr);
            }
            let failed = match ran {
                Ok(done) if done.code == Some(0) => None,
                Ok(done) => Some(match (done.code, done.signal) {
                    (Some(c), _) => format!("exited with {c}"),
                    (None, Some(sig)) => format!("was ended by signal {sig}"),
                    (None, None) => "ended without an exit status".to_string(),
                }),
                Err(f) => Some(format!("could not run: {f}")),
            };
            if let Some(why) = failed {
                eprintln!(
                    "ssot: {} {} {why}; what it deleted is gone from the tool's next listing: list again and plan",
                    argv[0],
                    argv.get(1).map(String::as_str).unwrap_or_default()
                );
                return Ok(exit::NO_VERDICT);
            }
        }
        // Every command succeeded: what the plan deletes is deleted.
        let mut gone: Vec<_> = outcome
            .plan
            .decisions
            .iter()
            .filter(|d| d.action == ssot_core::retention::Action::Delete)
            .map(|d| (d.created_at, d.id.clone()))
            .collect();
        gone.sort();
        outcome.deleted = gone.into_iter().map(|(_, id)| id).collect();
        outcome.applied = true;
    }
    let code = show(&outcome, format);
    if code != exit::NO_VERDICT && format == Format::Text && outcome.dry_run {
        let hint = format!(
            "To run the {} commands under the operation lock, re-run with the same arguments{} and --plan-hash {}\n",
            req.catalog_format,
            without_now(given),
            outcome.plan.plan_hash
        );
        return Ok(emit(&hint).map_or_else(|c| c, |()| code));
    }
    Ok(code)
}

/// `evidence backup`, `evidence restore-drill`, `evidence dr-drill`.
fn evidence(
    ssot: &Ssot,
    cmd: EvidenceCmd,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<u8, String> {
    match cmd {
        EvidenceCmd::Backup(a) => {
            let req = BackupRequest {
                artifact: a.artifact,
                location: a.location,
                result: a.result,
                started: a.started,
                finished: a.finished,
                size: a.size,
                kind: a.kind,
                by: by(a.by),
                pgdata: a.pgdata.pgdata,
            };
            recorded(ssot.record_backup(&req, now), Format::Text)
        }
        EvidenceCmd::RestoreDrill(a) => {
            let req = RestoreDrillRequest {
                artifact: a.artifact,
                result: a.result,
                started: a.started,
                finished: a.finished,
                by: by(a.by),
                notes: a.notes,
                mark_verified: a.mark_verified,
            };
            recorded(ssot.record_restore_drill(&req, now), Format::Text)
        }
        EvidenceCmd::DrDrill(a) => {
            let req = DrDrillRequest {
                scenario: a.scenario,
                t0: a.t0,
                restored_at: a.restored_at,
                newest_before: a.newest_before,
                newest_after: a.newest_after,
                by: by(a.by),
            };
            recorded(ssot.record_dr_drill(&req, now), a.out.format)
        }
    }
}

/// `report`: rendered in the chosen format, to stdout or a file.
fn report(ssot: &Ssot, a: ReportArgs, now: chrono::DateTime<chrono::Utc>) -> Result<u8, String> {
    let e = |e: Error| hint(&e);
    let req = ReportRequest {
        pgdata: a.pgdata.pgdata,
        dsn: a.dsn.dsn,
    };
    let r = ssot.report(&req, now);
    let format = match a.format {
        ReportFormatArg::Text => ReportFormat::Text,
        ReportFormatArg::Json => ReportFormat::Json,
        ReportFormatArg::Prometheus => ReportFormat::Prometheus,
        ReportFormatArg::Configmap => ReportFormat::Configmap,
    };
    let out = ssot.render_report(&r, format);
    match &a.output {
        Some(path) => ssot.write_output(path, &out).map_err(e)?,
        None => {
            if let Err(c) = emit(&out) {
                return Ok(c);
            }
        }
    }
    Ok(r.exit_code())
}

/// An apply that deletes runs at the real time: the hint after a plan made
/// with `--now` says to leave it out.
fn without_now(given: Option<chrono::DateTime<chrono::Utc>>) -> &'static str {
    if given.is_some() {
        " (but without --now: an apply that deletes runs at the real time)"
    } else {
        ""
    }
}

/// Which global flags were given on the command line (not from the environment).
#[derive(Debug, Default, Clone, Copy)]
pub struct GivenFlags {
    pub state: bool,
    pub config: bool,
}

/// `--by`, else `$USER`.
fn by(given: Option<String>) -> Option<String> {
    given.or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
}

fn retention_request(a: &RetentionArgs) -> RetentionRequest {
    RetentionRequest {
        profile: a.profile.clone(),
        dir: a.dir.clone(),
        pattern: a.pattern.clone(),
        catalog: a.catalog.clone().map(|p| Catalog::Input(Input::Path(p))),
        catalog_format: a.catalog_format,
        root: a.root.clone(),
        pgdata: a.pgdata.pgdata.clone(),
        policy: a.policy.patch(),
    }
}

fn gate(
    ssot: &Ssot,
    a: GateArgs,
    given: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<u8, String> {
    let req = GateRequest {
        operation: a.operation.into(),
        target: a.target,
        pgdata: a.pgdata.pgdata,
        estimate: a.estimate,
    };
    let with_command = !a.command.is_empty();
    let outcome = if with_command {
        ssot.gate_and_hold(&req, &a.command, given)
    } else {
        ssot.gate(&req, given).map(|d| (d, None))
    };
    let (decision, held) = match outcome {
        Ok(x) => x,
        // A usage error, not a verdict: no decision was made or recorded.
        Err(e @ Error::ClockRefused { .. }) => return Err(hint(&e)),
        Err(e) => {
            eprintln!(
                "ssot: gate {} could not be evaluated, denying: {}",
                req.operation,
                hint(&e)
            );
            return Ok(exit::gate_failed(with_command));
        }
    };
    let rendered = match a.out.format {
        Format::Json => format!("{}\n", json(&decision)),
        Format::Text => decision.to_string(),
    };
    if !with_command {
        // A decision that could not be shown is no verdict: it does not allow.
        return Ok(
            emit(&rendered).map_or_else(|_| exit::gate_failed(false), |()| decision.exit_code())
        );
    }
    // stdout belongs to the command (e.g. pg_dump > file).
    eprint!("{rendered}");
    let Some(lock) = held else {
        return Ok(exit::GATE_DENIED);
    };
    let failure = match a.time_limit {
        // Becomes the command; returns only if it cannot be executed.
        None => host::exec_holding(lock, &a.command),
        Some(limit) => match run_limited(ssot, req.operation, &lock, &a.command, limit) {
            Ok(code) => return Ok(code),
            Err(f) => f,
        },
    };
    match &failure {
        ExecFailure::NotFound(m) => {
            eprintln!("ssot: the gate allowed, but the command was not found: {m}")
        }
        ExecFailure::CannotExecute(m) => {
            eprintln!("ssot: the gate allowed, but the command cannot be executed: {m}")
        }
        ExecFailure::Lock(e) => eprintln!("ssot: the command was not run: {e}"),
        ExecFailure::Output(m) => eprintln!("ssot: the command was not run: {m}"),
    }
    Ok(failure.exit_code())
}

/// `path` made absolute against the working directory (lexically: no
/// symlink is resolved); `-` (stdin) and what cannot be made absolute stay.
fn absolute(path: std::path::PathBuf) -> std::path::PathBuf {
    if path.as_os_str() == "-" {
        return path;
    }
    std::path::absolute(&path).unwrap_or(path)
}

/// SIGTERM on Linux: what a time limit sends first.
const SIGTERM: i32 = 15;

/// `gate OP --time-limit D -- COMMAND`: the command as a child holding the
/// lock, ended with its process group once it runs past `limit`.
fn run_limited(
    ssot: &Ssot,
    operation: ssot_core::decision::Operation,
    lock: &Held,
    argv: &[String],
    limit: ssot_core::units::Span,
) -> Result<u8, ExecFailure> {
    let opts = host::RunOptions {
        timeout: Some(limit.as_duration()),
        capture: false,
        inherit_stdin: true,
        ..host::RunOptions::default()
    };
    let done = host::run_holding_then(Some(lock), argv, &opts, |pid| {
        // The lock names the process that holds it, not this parent.
        if let Err(e) = ssot.hand_lock_to(lock, operation, pid, argv) {
            eprintln!("ssot: warning: the operation lock still names ssot's pid: {e}");
        }
    })?;
    let by_signal = |sig: i32| u8::try_from(128 + sig).unwrap_or(u8::MAX);
    if let Some(sig) = done.forwarded {
        // Asked to stop: end by the same signal, as the command's parent would.
        host::reraise(sig);
        return Ok(by_signal(sig));
    }
    if done.timed_out {
        eprintln!(
            "ssot: {} ran past its time limit of {limit} and was ended with its process group",
            argv[0]
        );
        return Ok(by_signal(done.signal.unwrap_or(SIGTERM)));
    }
    Ok(match (done.code, done.signal) {
        (Some(c), _) => u8::try_from(c).unwrap_or(u8::MAX),
        (None, Some(sig)) => by_signal(sig),
        (None, None) => exit::GATE_NO_VERDICT,
    })
}

/// `ssot run`: the runbook over `ssot`, logging to stderr (output lines to
/// stdout), each line as it comes: nothing is kept.
fn run_runbook(ssot: Ssot, now: Option<chrono::DateTime<chrono::Utc>>, a: RunArgs) -> u8 {
    let mut host = ssot_rhai::Host::new(
        ssot,
        now,
        Box::new(|level, msg| match level {
            ssot_rhai::Level::Output => {
                let _ = emit(&format!("{msg}\n")); // said on stderr if it fails
            }
            other => eprintln!("ssot run: {}: {msg}", other.as_str()),
        }),
    );
    host.command_timeout = std::time::Duration::from_secs(a.command_timeout.as_secs());
    let limits = ssot_rhai::Limits {
        timeout: std::time::Duration::from_secs(a.timeout.as_secs()),
        allow_imports: a.allow_imports,
        ..ssot_rhai::Limits::default()
    };
    let ran = ssot_rhai::run_file(&a.runbook, host, &limits, a.args.into_iter().collect());
    // The runbook's locks end with it (they are in the host and the engine).
    drop(ran.host);
    match &ran.ending {
        ssot_rhai::Ending::Exit(_) => {}
        ssot_rhai::Ending::Denied(text) => eprint!("{text}"),
        ssot_rhai::Ending::Error(e) => eprintln!("ssot: error: {e}"),
        // Asked to stop while a command ran: the command got the signal and
        // ended; now ssot ends by it too, as if it had not been in between.
        ssot_rhai::Ending::Signal(sig) => host::reraise(*sig),
    }
    ran.ending.exit_code()
}

/// `ssot completions` and `ssot man`: from the flag definitions alone, no
/// configuration or state read. `None` for every other command.
fn generated(command: &Cmd) -> Option<Result<u8, String>> {
    let cmd = <Cli as clap::CommandFactory>::command();
    let text = match command {
        Cmd::Completions(a) => {
            let mut out = Vec::new();
            let mut cmd = cmd;
            clap_complete::generate(a.shell, &mut cmd, "ssot", &mut out);
            out
        }
        Cmd::Man(a) => match &a.dir {
            Some(dir) => {
                return Some(
                    std::fs::create_dir_all(dir)
                        .and_then(|()| clap_mangen::generate_to(cmd, dir))
                        .map(|()| exit::OK)
                        .map_err(|err| {
                            format!("write the man pages into {}: {err}", dir.display())
                        }),
                )
            }
            None => {
                let mut out = Vec::new();
                if let Err(err) = clap_mangen::Man::new(cmd).render(&mut out) {
                    return Some(Err(format!("render the man page: {err}")));
                }
                out
            }
        },
        _ => return None,
    };
    Some(Ok(
        emit(&String::from_utf8_lossy(&text)).map_or_else(|c| c, |()| exit::OK)
    ))
}
