//! The ssot API in Rhai: one `#[export_module]` per concern. Each function
//! converts its arguments to a core request (`rhai::serde`), calls the core
//! and wraps the result. Functions that act on the host reach it through the
//! engine's tag (`HostRef`), so the modules hold no state of their own.

use std::rc::Rc;

use rhai::plugin::*;
use rhai::{Array, Dynamic, EvalAltResult, Map, NativeCallContext, Position};
use ssot_core::Ssot;

use crate::host::{Host, HostRef, Level};
use crate::types::*;

/// Programs that perform a gated data operation: reachable only through an
/// allowed decision (`decision.run(...)`), never through `run(...)`.
pub const GATED_PROGRAMS: [&str; 6] = [
    "pg_dump",
    "pg_dumpall",
    "pg_basebackup",
    "pg_restore",
    "pg_ctl",
    "postgres",
];

type Res<T> = Result<T, Box<EvalAltResult>>;

/// The runbook's host, from the engine's tag.
pub fn host(ctx: &NativeCallContext) -> Res<Rc<Host>> {
    ctx.tag()
        .and_then(|t| t.read_lock::<HostRef>().map(|h| h.0.clone()))
        .ok_or_else(|| err("this engine has no ssot host (build it with ssot_rhai::engine)"))
}

/// Removes `key` from `opts`.
fn take(opts: &mut Map, key: &str) -> Option<Dynamic> {
    opts.remove(key).filter(|v| !v.is_unit())
}

/// `now` from the options, else the runbook's time.
fn now_of(host: &Host, opts: &mut Map) -> Res<chrono::DateTime<chrono::Utc>> {
    match take(opts, "now") {
        Some(v) => time_of(&v),
        None => Ok(host.now()),
    }
}

/// Another `Ssot` for a call with `options.state_dir` (taken out of `opts`);
/// `None`: the runbook's.
fn other_ssot(host: &Host, opts: &mut Map) -> Res<Option<Ssot>> {
    match take(opts, "state_dir") {
        None => Ok(None),
        Some(dir) => {
            let dir: String = from_script(&dir, "state_dir")?;
            Ok(Some(
                Ssot::with_state_dir(host.ssot.config().clone(), dir)
                    .with_source(host.ssot.source().clone()),
            ))
        }
    }
}

/// The request of a call: `now` and `state_dir` taken out of the options,
/// the rest deserialized as `R`.
fn call<R: serde::de::DeserializeOwned>(
    host: &Host,
    options: Map,
    what: &str,
) -> Res<(R, chrono::DateTime<chrono::Utc>, Option<Ssot>)> {
    let mut opts = options;
    let now = now_of(host, &mut opts)?;
    let other = other_ssot(host, &mut opts)?;
    let req: R = from_script(&opts.into(), what)?;
    Ok((req, now, other))
}

/// Stops the runbook with `code` (not catchable).
pub struct Exit(pub i64);

impl Clone for Exit {
    fn clone(&self) -> Self {
        Exit(self.0)
    }
}

#[export_module]
pub mod time_api {
    use chrono::TimeDelta;

    /// The current time (or `--now`).
    #[rhai_fn(return_raw)]
    pub fn now(ctx: NativeCallContext) -> Res<Time> {
        Ok(Time(host(&ctx)?.now()))
    }
    /// An RFC 3339 time: `parse_time("2026-02-05T12:00:00Z")`.
    #[rhai_fn(return_raw)]
    pub fn parse_time(text: &str) -> Res<Time> {
        ssot_core::state::parse_timestamp(text)
            .map(Time)
            .map_err(err)
    }
    /// A duration in PostgreSQL's units: `duration("7d")`, `duration("90s")`.
    #[rhai_fn(return_raw)]
    pub fn duration(text: &str) -> Res<Duration> {
        text.parse::<ssot_core::units::Span>()
            .map(Duration)
            .map_err(core_err)
    }
    /// The time in strftime `pattern`, in UTC: `now().format("%Y%m%d_%H%M%S")`.
    #[rhai_fn(global, return_raw)]
    pub fn format(t: &mut Time, pattern: &str) -> Res<String> {
        use std::fmt::Write;
        let mut out = String::new();
        write!(out, "{}", t.0.format(pattern))
            .map_err(|_| err(format!("invalid strftime pattern \"{pattern}\"")))?;
        Ok(out)
    }
    #[rhai_fn(global, name = "to_string", name = "to_debug")]
    pub fn time_text(t: &mut Time) -> String {
        ssot_core::state::timestamp(t.0)
    }
    #[rhai_fn(global, name = "to_string", name = "to_debug")]
    pub fn duration_text(d: &mut Duration) -> String {
        d.0.to_string()
    }
    /// Whole seconds of a duration.
    #[rhai_fn(global, get = "seconds")]
    pub fn seconds(d: &mut Duration) -> i64 {
        i64::try_from(d.0.as_secs()).unwrap_or(i64::MAX)
    }
    #[rhai_fn(global, name = "+", return_raw)]
    pub fn add(t: Time, d: Duration) -> Res<Time> {
        t.0.checked_add_signed(d.0.to_delta())
            .map(Time)
            .ok_or_else(|| err("time out of range"))
    }
    #[rhai_fn(global, name = "-", return_raw)]
    pub fn sub(t: Time, d: Duration) -> Res<Time> {
        t.0.checked_sub_signed(d.0.to_delta())
            .map(Time)
            .ok_or_else(|| err("time out of range"))
    }
    /// The duration from `b` to `a` (`a` later).
    #[rhai_fn(global, name = "-", return_raw)]
    pub fn between(a: Time, b: Time) -> Res<Duration> {
        let d: TimeDelta = a.0 - b.0;
        let secs = u64::try_from(d.num_seconds())
            .map_err(|_| err("the first time is earlier than the second"))?;
        ssot_core::units::Span::try_secs(secs)
            .map(Duration)
            .map_err(core_err)
    }
    #[rhai_fn(global, name = "==")]
    pub fn eq(a: Time, b: Time) -> bool {
        a == b
    }
    #[rhai_fn(global, name = "!=")]
    pub fn ne(a: Time, b: Time) -> bool {
        a != b
    }
    #[rhai_fn(global, name = "<")]
    pub fn lt(a: Time, b: Time) -> bool {
        a < b
    }
    #[rhai_fn(global, name = "<=")]
    pub fn le(a: Time, b: Time) -> bool {
        a <= b
    }
    #[rhai_fn(global, name = ">")]
    pub fn gt(a: Time, b: Time) -> bool {
        a > b
    }
    #[rhai_fn(global, name = ">=")]
    pub fn ge(a: Time, b: Time) -> bool {
        a >= b
    }
}

#[export_module]
pub mod result_api {
    /// A field of the result (the CLI's JSON field names).
    #[rhai_fn(global, index_get, return_raw)]
    pub fn field(r: &mut SsotResult, name: &str) -> Res<Dynamic> {
        r.field(name)
    }
    #[rhai_fn(global, get = "exit_code")]
    pub fn exit_code(r: &mut SsotResult) -> i64 {
        r.exit_code
    }
    #[rhai_fn(global)]
    pub fn to_map(r: &mut SsotResult) -> Dynamic {
        r.to_map()
    }
    #[rhai_fn(global)]
    pub fn to_json(r: &mut SsotResult) -> String {
        r.to_json()
    }
    #[rhai_fn(global, name = "to_string", name = "to_debug")]
    pub fn text(r: &mut SsotResult) -> String {
        r.text()
    }
}

#[export_module]
pub mod wal_api {
    /// Measures pg_wal and records `wal.status` (options: `pgdata`, `slots`, `now`, `state_dir`).
    #[rhai_fn(name = "check_wal", return_raw)]
    pub fn check_wal_with(ctx: NativeCallContext, options: Map) -> Res<SsotResult> {
        let host = host(&ctx)?;
        let (req, now, other) = call::<ssot_core::WalCheckRequest>(&host, options, "check_wal")?;
        let s = other.as_ref().unwrap_or(&host.ssot);
        SsotResult::new("WalCheck", &s.check_wal(&req, now).map_err(core_err)?)
    }
    #[rhai_fn(name = "check_wal", return_raw)]
    pub fn check_wal(ctx: NativeCallContext) -> Res<SsotResult> {
        check_wal_with(ctx, Map::new())
    }
    /// The WAL status of one sample (pure): `evaluate_wal(facts, policy, now)`.
    #[rhai_fn(return_raw)]
    pub fn evaluate_wal(sample: Map, policy: Map, now: Dynamic) -> Res<SsotResult> {
        let facts: ssot_core::wal::WalFacts = from_script(&sample.into(), "sample")?;
        let policy: ssot_core::wal::WalPolicy = from_script(&policy.into(), "policy")?;
        let r = ssot_core::wal::evaluate(&facts, &policy, time_of(&now)?);
        SsotResult::new("WalReport", &r)
    }
}

#[export_module]
pub mod gate_api {
    /// Decides whether `operation` may run now and, when allowed, takes the
    /// operation lock for the runbook. A denial stops the runbook (exit 124)
    /// unless the script catches it: `try { gate(...) } catch (d) { ... }`.
    #[rhai_fn(name = "gate", return_raw)]
    pub fn gate_with(ctx: NativeCallContext, operation: &str, options: Map) -> Res<Decision> {
        let host = host(&ctx)?;
        let op: ssot_core::gate::Operation = operation.parse().map_err(core_err)?;
        let mut opts = options;
        opts.insert("operation".into(), op.as_str().into());
        let (req, now, other) = call::<ssot_core::GateRequest>(&host, opts, "gate")?;
        let s = other.as_ref().unwrap_or(&host.ssot);
        let holder = format!("runbook gate {operation}");
        let (decision, held) = s.gate_and_hold(&req, &[holder], now).map_err(core_err)?;
        let d = Decision::new(decision, held)?;
        host.log(
            Level::Info,
            &format!(
                "gate {operation}: {}",
                if d.decision.allowed {
                    "ALLOWED (operation lock held)".to_string()
                } else {
                    let why: Vec<&str> = d.decision.denials().map(|c| c.rule.as_str()).collect();
                    format!("DENIED ({})", why.join(", "))
                }
            ),
        );
        if d.decision.allowed {
            Ok(d)
        } else {
            Err(Box::new(EvalAltResult::ErrorRuntime(
                Dynamic::from(d),
                Position::NONE,
            )))
        }
    }
    #[rhai_fn(name = "gate", return_raw)]
    pub fn gate(ctx: NativeCallContext, operation: &str) -> Res<Decision> {
        gate_with(ctx, operation, Map::new())
    }
    /// A gate decision from facts (pure; never throws, takes no lock).
    #[rhai_fn(return_raw)]
    pub fn evaluate_gate(operation: &str, facts: Map, policy: Map, now: Dynamic) -> Res<Decision> {
        let op: ssot_core::gate::Operation = operation.parse().map_err(core_err)?;
        let facts: ssot_core::gate::GateFacts = from_script(&facts.into(), "facts")?;
        let policy: ssot_core::gate::GatePolicy = from_script(&policy.into(), "policy")?;
        Decision::new(
            ssot_core::gate::evaluate(op, &facts, &policy, time_of(&now)?),
            None,
        )
    }
    #[rhai_fn(global, index_get, return_raw)]
    pub fn field(d: &mut Decision, name: &str) -> Res<Dynamic> {
        d.result.field(name)
    }
    /// True while the decision holds the operation lock.
    #[rhai_fn(global, get = "held")]
    pub fn held(d: &mut Decision) -> bool {
        d.holds_lock()
    }
    #[rhai_fn(global, get = "exit_code")]
    pub fn exit_code(d: &mut Decision) -> i64 {
        d.result.exit_code
    }
    /// Releases the operation lock (idempotent).
    #[rhai_fn(global)]
    pub fn release(d: &mut Decision) {
        d.lock.borrow_mut().take();
    }
    /// Runs `program args...` under the operation lock: only from an allowed
    /// decision that still holds it. Returns `#{code, stdout, stderr, duration}`.
    #[rhai_fn(global, name = "run", return_raw)]
    pub fn run_gated(
        ctx: NativeCallContext,
        d: &mut Decision,
        program: &str,
        args: Array,
    ) -> Res<Map> {
        let host = host(&ctx)?;
        let op = d.decision.operation;
        if !d.decision.allowed {
            return Err(err(format!("gate {op} was DENIED: {program} is not run")));
        }
        if !d.holds_lock() {
            return Err(err(format!(
                "gate {op}'s operation lock was released: decide again before running {program}"
            )));
        }
        crate::api::execute(&host, program, args, Some(&op.to_string()))
    }
    #[rhai_fn(global)]
    pub fn to_map(d: &mut Decision) -> Dynamic {
        d.result.to_map()
    }
    #[rhai_fn(global)]
    pub fn to_json(d: &mut Decision) -> String {
        d.result.to_json()
    }
    #[rhai_fn(global, name = "to_string", name = "to_debug")]
    pub fn text(d: &mut Decision) -> String {
        d.result.text()
    }
}

#[export_module]
pub mod retention_api {
    /// A plan over artifacts (pure): `plan_retention(artifacts, policy, now)`.
    #[rhai_fn(name = "plan_retention", return_raw)]
    pub fn plan_pure(artifacts: Array, policy: Map, now: Dynamic) -> Res<SsotResult> {
        let artifacts: Vec<ssot_core::retention::Artifact> =
            from_script(&artifacts.into(), "artifacts")?;
        let policy: ssot_core::retention::RetentionPolicy = from_script(&policy.into(), "policy")?;
        let plan =
            ssot_core::retention::plan(&artifacts, &policy, time_of(&now)?).map_err(core_err)?;
        SsotResult::new(
            "RetentionPlan",
            &ssot_core::RetentionPlanned {
                profile: "default".into(),
                plan,
            },
        )
    }
    /// A plan over a directory or profile (options: `profile`, `dir`,
    /// `pattern`, `catalog`, `root`, `pgdata`, `policy`, `now`).
    #[rhai_fn(name = "plan_retention", return_raw)]
    pub fn plan(ctx: NativeCallContext, options: Map) -> Res<SsotResult> {
        let host = host(&ctx)?;
        let (req, now, other) =
            call::<ssot_core::RetentionRequest>(&host, options, "plan_retention")?;
        let s = other.as_ref().unwrap_or(&host.ssot);
        SsotResult::new(
            "RetentionPlan",
            &s.plan_retention(&req, now).map_err(core_err)?,
        )
    }
    /// Applies a plan (options as `plan_retention`, plus `plan_hash` — apply
    /// exactly the reviewed plan — or `confirm: true`; neither is a dry run).
    #[rhai_fn(return_raw)]
    pub fn apply_retention(ctx: NativeCallContext, options: Map) -> Res<SsotResult> {
        let host = host(&ctx)?;
        let mut opts = options;
        let hash = take(&mut opts, "plan_hash");
        let confirm = take(&mut opts, "confirm")
            .map(|c| {
                c.as_bool()
                    .map_err(|t| err(format!("confirm is a bool, not {t}")))
            })
            .transpose()?
            .unwrap_or(false);
        let mode = match (hash, confirm) {
            (Some(_), true) => return Err(err("give plan_hash or confirm: true, not both")),
            (Some(h), false) => ssot_core::ApplyMode::PlanHash(from_script(&h, "plan_hash")?),
            (None, true) => ssot_core::ApplyMode::Confirm,
            (None, false) => ssot_core::ApplyMode::DryRun,
        };
        let (req, now, other) =
            call::<ssot_core::RetentionRequest>(&host, opts, "apply_retention")?;
        let s = other.as_ref().unwrap_or(&host.ssot);
        let o = s.apply_retention(&req, &mode, now).map_err(core_err)?;
        host.log(
            Level::Info,
            &format!(
                "apply_retention ({}): {}",
                o.profile,
                if o.dry_run {
                    "dry run".to_string()
                } else if let Some(r) = &o.refused {
                    format!("REFUSED: {r}")
                } else {
                    format!("deleted {}", o.deleted.len())
                }
            ),
        );
        SsotResult::new("ApplyOutcome", &o)
    }
}

#[export_module]
pub mod contract_api {
    /// Checks the contract (options: `statefulset`, `settings`, `processes`,
    /// `pvcs`, `active_pvcs`, `auto_conf`, `slots`, `mounts` — each a path or
    /// `#{text, origin}` —, `now`).
    #[rhai_fn(return_raw)]
    pub fn check_contract(ctx: NativeCallContext, options: Map) -> Res<SsotResult> {
        let host = host(&ctx)?;
        let (req, now, other) =
            call::<ssot_core::ContractRequest>(&host, options, "check_contract")?;
        let s = other.as_ref().unwrap_or(&host.ssot);
        SsotResult::new(
            "ContractReport",
            &s.check_contract(&req, now).map_err(core_err)?,
        )
    }
    /// Every stage claim against the state directory.
    #[rhai_fn(return_raw)]
    pub fn check_stages(ctx: NativeCallContext) -> Res<SsotResult> {
        let host = host(&ctx)?;
        SsotResult::new("StageChecks", &host.ssot.check_stages(host.now()))
    }
    /// The contract over inputs given as text (pure): `inputs` maps field
    /// names to `#{text, origin}`; `extras` may give `backup_location`,
    /// `backup_target`.
    #[rhai_fn(return_raw)]
    pub fn evaluate_contract(
        inputs: Map,
        config: Map,
        now: Dynamic,
        extras: Map,
    ) -> Res<SsotResult> {
        let req: ssot_core::ContractRequest = from_script(&inputs.into(), "inputs")?;
        let cfg: ssot_core::config::ContractConfig = from_script(&config.into(), "config")?;
        let mut c = ssot_core::parse_contract_inputs(&req, &cfg).map_err(core_err)?;
        if let Some(l) = extras.get("backup_location").filter(|v| !v.is_unit()) {
            c.backup_location = Some(ssot_core::contract::Sourced::new(
                from_script::<String>(l, "backup_location")?,
                "backup.status",
            ));
        }
        if let Some(t) = extras.get("backup_target").filter(|v| !v.is_unit()) {
            c.backup_target = Some(from_script(t, "backup_target")?);
        }
        let r = ssot_core::contract::evaluate(&c, &cfg, time_of(&now)?);
        SsotResult::new("ContractReport", &r)
    }
}

/// Records evidence through `f` and logs what was recorded.
fn record<
    R: serde::de::DeserializeOwned,
    T: serde::Serialize + std::fmt::Display + ssot_core::Outcome,
>(
    ctx: &NativeCallContext,
    options: Map,
    what: &'static str,
    kind: &'static str,
    f: impl Fn(&Ssot, &R, chrono::DateTime<chrono::Utc>) -> ssot_core::Result<T>,
) -> Res<SsotResult> {
    let host = host(ctx)?;
    let (req, now, other) = call::<R>(&host, options, what)?;
    let r = f(other.as_ref().unwrap_or(&host.ssot), &req, now).map_err(core_err)?;
    host.log(Level::Info, r.to_string().trim_end());
    SsotResult::new(kind, &r)
}

#[export_module]
pub mod evidence_api {
    /// Records a backup (options: `artifact`, `location`, `result`, `started`,
    /// `finished`, `size`, `kind`, `by`, `pgdata`). Refused evidence is an error.
    #[rhai_fn(return_raw)]
    pub fn record_backup(ctx: NativeCallContext, options: Map) -> Res<SsotResult> {
        crate::api::record(
            &ctx,
            options,
            "record_backup",
            "BackupRecorded",
            Ssot::record_backup,
        )
    }
    /// Records a restore drill (options: `artifact`, `result` pass/fail,
    /// `started`, `finished`, `by`, `notes`, `mark_verified`).
    #[rhai_fn(return_raw)]
    pub fn record_restore_drill(ctx: NativeCallContext, options: Map) -> Res<SsotResult> {
        crate::api::record(
            &ctx,
            options,
            "record_restore_drill",
            "RestoreDrillRecorded",
            Ssot::record_restore_drill,
        )
    }
    /// Records a DR drill (options: `scenario`, `t0`, `restored_at`,
    /// `newest_before`, `newest_after`, `by`).
    #[rhai_fn(return_raw)]
    pub fn record_dr_drill(ctx: NativeCallContext, options: Map) -> Res<SsotResult> {
        crate::api::record(
            &ctx,
            options,
            "record_dr_drill",
            "DrDrillRecorded",
            Ssot::record_dr_drill,
        )
    }
}

#[export_module]
pub mod report_api {
    /// The single view of truth (options: `pgdata`, `now`).
    #[rhai_fn(name = "report", return_raw)]
    pub fn report_with(ctx: NativeCallContext, options: Map) -> Res<SsotResult> {
        let host = host(&ctx)?;
        let (req, now, other) = call::<ssot_core::ReportRequest>(&host, options, "report")?;
        let s = other.as_ref().unwrap_or(&host.ssot);
        SsotResult::new("Report", &s.report(&req, now))
    }
    #[rhai_fn(name = "report", return_raw)]
    pub fn report(ctx: NativeCallContext) -> Res<SsotResult> {
        report_with(ctx, Map::new())
    }
    /// The effective configuration (its fields as in `ssot config show --format json`).
    #[rhai_fn(return_raw)]
    pub fn config(ctx: NativeCallContext) -> Res<SsotResult> {
        let host = host(&ctx)?;
        SsotResult::new("Config", &host.ssot.effective_config())
    }
    /// The state files as they are.
    #[rhai_fn(return_raw)]
    pub fn status(ctx: NativeCallContext) -> Res<SsotResult> {
        let host = host(&ctx)?;
        SsotResult::new("Status", &host.ssot.status(host.now()))
    }
    /// The report over state file contents (pure): `files` maps names to
    /// contents, `gate_log` is text or `()`, `config` is `ssot.toml` text.
    #[rhai_fn(return_raw)]
    pub fn build_report(
        files: Map,
        gate_log: Dynamic,
        config: &str,
        now: Dynamic,
    ) -> Res<SsotResult> {
        let files: std::collections::BTreeMap<String, String> =
            from_script(&files.into(), "files")?;
        let gate_log: Option<String> = from_script(&gate_log, "gate_log")?;
        let cfg = ssot_core::config::Config::from_toml_str(config, "config").map_err(core_err)?;
        let r = ssot_core::report_from_files(&files, gate_log.as_deref(), &cfg, time_of(&now)?);
        SsotResult::new("Report", &r)
    }
}

/// Runs `program`, logging it (and the gate it runs under).
pub fn execute(host: &Host, program: &str, args: Array, gate: Option<&str>) -> Res<Map> {
    let args: Vec<String> = args
        .iter()
        .map(|a| match a.read_lock::<rhai::ImmutableString>() {
            Some(s) => s.to_string(),
            None => plain(a).to_string(),
        })
        .collect();
    let under = gate
        .map(|g| format!(" (under gate {g})"))
        .unwrap_or_default();
    host.log(
        Level::Info,
        &format!("run {program} {}{under}", args.join(" ")),
    );
    let out = crate::host::run_command(program, &args, host.command_timeout, host.max_output)
        .map_err(|e| {
            host.log(Level::Error, &e);
            err(e)
        })?;
    host.log(
        Level::Info,
        &format!("{program} exited {} after {:.1}s", out.code, out.duration),
    );
    let mut m = Map::new();
    m.insert("code".into(), out.code.into());
    m.insert("stdout".into(), out.stdout.into());
    m.insert("stderr".into(), out.stderr.into());
    m.insert("duration".into(), out.duration.into());
    Ok(m)
}

#[export_module]
pub mod host_api {
    /// Runs a program (no shell) with a timeout: `#{code, stdout, stderr,
    /// duration}`. Programs that perform a gated operation (`pg_dump`,
    /// `pg_restore`, `pg_ctl`, ...) are refused here: run them with
    /// `gate(...).run(...)`.
    #[rhai_fn(return_raw)]
    pub fn run(ctx: NativeCallContext, program: &str, args: Array) -> Res<Map> {
        let host = host(&ctx)?;
        let base = std::path::Path::new(program)
            .file_name()
            .map(|b| b.to_string_lossy().into_owned())
            .unwrap_or_default();
        if GATED_PROGRAMS.contains(&base.as_str()) {
            return Err(err(format!(
                "{program} performs a gated operation: run it with gate(OPERATION, options).run(\"{program}\", args)"
            )));
        }
        crate::api::execute(&host, program, args, None)
    }

    #[rhai_fn(return_raw)]
    pub fn log_info(ctx: NativeCallContext, message: &str) -> Res<()> {
        host(&ctx)?.log(Level::Info, message);
        Ok(())
    }
    #[rhai_fn(return_raw)]
    pub fn log_warn(ctx: NativeCallContext, message: &str) -> Res<()> {
        host(&ctx)?.log(Level::Warn, message);
        Ok(())
    }
    #[rhai_fn(return_raw)]
    pub fn log_error(ctx: NativeCallContext, message: &str) -> Res<()> {
        host(&ctx)?.log(Level::Error, message);
        Ok(())
    }
    /// Ends the runbook with `code` (0–123; 124–127 are ssot's own).
    #[rhai_fn(return_raw)]
    pub fn exit(code: i64) -> Res<()> {
        if !(0..=123).contains(&code) {
            return Err(err(format!(
                "exit({code}): a runbook exits 0–123 (124–127 are reserved for ssot)"
            )));
        }
        Err(Box::new(EvalAltResult::ErrorTerminated(
            Dynamic::from(Exit(code)),
            Position::NONE,
        )))
    }
}
