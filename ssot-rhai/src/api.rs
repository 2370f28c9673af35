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

/// The time a call was given: `now` from the options, else the runbook's
/// `--now`; `None` when neither (the clock is read where it is needed).
fn given_now(host: &Host, opts: &mut Map) -> Res<Option<chrono::DateTime<chrono::Utc>>> {
    match take(opts, "now") {
        Some(v) => time_of(&v).map(Some),
        None => Ok(host.now),
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

/// A call's request, with `now` and `state_dir` taken out of its options.
struct Call<R> {
    req: R,
    /// The time given (`now`, else `--now`), if any.
    given: Option<chrono::DateTime<chrono::Utc>>,
    other: Option<Ssot>,
}

impl<R> Call<R> {
    /// The `Ssot` the call acts on.
    fn ssot<'a>(&'a self, host: &'a Host) -> &'a Ssot {
        self.other.as_ref().unwrap_or(&host.ssot)
    }
    /// The time of a read-only evaluation: the given one, else the clock.
    fn now(&self, host: &Host) -> chrono::DateTime<chrono::Utc> {
        self.given.unwrap_or_else(|| self.ssot(host).now())
    }
}

/// The request of a call: `now` and `state_dir` taken out of the options,
/// the rest deserialized as `R`.
fn call<R: serde::de::DeserializeOwned>(host: &Host, options: Map, what: &str) -> Res<Call<R>> {
    let mut opts = options;
    let given = given_now(host, &mut opts)?;
    let other = other_ssot(host, &mut opts)?;
    let req: R = from_script(&opts.into(), what)?;
    Ok(Call { req, given, other })
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
            .map_err(|e| core_err(e.into()))
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
            .map_err(|e| core_err(e.into()))
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
        let c = call::<ssot_core::WalCheckRequest>(&host, options, "check_wal")?;
        let r = c.ssot(&host).check_wal(&c.req, c.now(&host));
        SsotResult::new("WalCheck", &r.map_err(core_err)?)
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
        // The checks a configuration's `[wal]` gets (a NaN or 1000%
        // threshold judged a full volume OK: found by attack).
        policy.validate().map_err(core_err)?;
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
        if opts.contains_key("operation") {
            return Err(err(format!(
                "gate({operation:?}, options): the operation is the first argument, not an option"
            )));
        }
        opts.insert("operation".into(), op.as_str().into());
        let c = call::<ssot_core::GateRequest>(&host, opts, "gate")?;
        let holder = format!("runbook gate {operation}");
        // The decision authorises work: the real clock; a given time is only checked.
        let (decision, held) = c
            .ssot(&host)
            .gate_and_hold(&c.req, &[holder], c.given)
            .map_err(core_err)?;
        let mut d = Decision::new(decision, held)?;
        d.origin = Some((Rc::new(c.req), c.other.map(Rc::new)));
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
        policy.disk.validate().map_err(core_err)?;
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
    /// decision that still holds it. The command inherits the lock (it holds
    /// it as long as it and anything it forks run, even if `ssot run` dies),
    /// runs in its own process group, gets the signals `ssot run` gets, and
    /// its whole group ends at the command timeout. Returns `#{code, signal,
    /// stdout, stderr, truncated, duration}`.
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
        // An allowed decision does not stay allowed: decide again, at the
        // real time, before each command (WAL may have gone bad meanwhile).
        if let Some((req, other)) = &d.origin {
            let s = other.as_deref().unwrap_or(&host.ssot);
            let again = s.recheck(req).map_err(core_err)?;
            if !again.allowed {
                d.lock.borrow_mut().take();
                let why: Vec<&str> = again.denials().map(|c| c.rule.as_str()).collect();
                host.log(
                    Level::Info,
                    &format!(
                        "gate {op}: DENIED before {program} ({}); the lock is released",
                        why.join(", ")
                    ),
                );
                return Err(Box::new(EvalAltResult::ErrorRuntime(
                    Dynamic::from(Decision::new(again, None)?),
                    Position::NONE,
                )));
            }
        }
        let lock = d.lock.borrow();
        let Some(held) = lock.as_ref() else {
            return Err(err(format!("gate {op}'s operation lock was released")));
        };
        crate::api::execute(&host, &argv(program, &args)?, Some((op.as_str(), held)))
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
                commands: Vec::new(),
            },
        )
    }
    /// A plan over a directory or profile (options: `profile`, `dir`,
    /// `pattern`, `catalog`, `root`, `pgdata`, `policy`, `now`).
    ///
    /// `policy` is a map of these keys, each overriding the profile's
    /// (`apply_retention` takes the same; the retention knobs' declaration):
    ///
    #[doc = ssot_core::retention_knobs!(ssot_core::retention_knobs_table)]
    #[rhai_fn(name = "plan_retention", return_raw)]
    pub fn plan(ctx: NativeCallContext, options: Map) -> Res<SsotResult> {
        let host = host(&ctx)?;
        let c = call::<ssot_core::RetentionRequest>(&host, options, "plan_retention")?;
        let r = c.ssot(&host).plan_retention(&c.req, c.now(&host));
        SsotResult::new("RetentionPlan", &r.map_err(core_err)?)
    }
    /// Applies a plan (options as `plan_retention`, plus `plan_hash` — apply
    /// exactly the reviewed plan — or `confirm: true`; neither is a dry run).
    #[rhai_fn(return_raw)]
    pub fn apply_retention(ctx: NativeCallContext, options: Map) -> Res<SsotResult> {
        let host = host(&ctx)?;
        let mut opts = options;
        let hash = take(&mut opts, "plan_hash")
            .map(|h| from_script::<String>(&h, "plan_hash"))
            .transpose()?;
        let confirm = take(&mut opts, "confirm")
            .map(|c| {
                c.as_bool()
                    .map_err(|t| err(format!("confirm is a bool, not {t}")))
            })
            .transpose()?
            .unwrap_or(false);
        let mode = ssot_core::ApplyMode::from_options(confirm, hash).map_err(core_err)?;
        let c = call::<ssot_core::RetentionRequest>(&host, opts, "apply_retention")?;
        // An apply that deletes uses the real clock; a given time is only checked.
        let o = c
            .ssot(&host)
            .apply_retention(&c.req, &mode, c.given)
            .map_err(core_err)?;
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
    /// `pvcs`, `active_pvcs`, `auto_conf`, `slots`, `mounts`,
    /// `postgresql_conf` — each a path or `#{text, origin}` —, `dsn`,
    /// `pgdata`, `now`).
    #[rhai_fn(return_raw)]
    pub fn check_contract(ctx: NativeCallContext, options: Map) -> Res<SsotResult> {
        let host = host(&ctx)?;
        let c = call::<ssot_core::ContractRequest>(&host, options, "check_contract")?;
        let r = c.ssot(&host).check_contract(&c.req, c.now(&host));
        SsotResult::new("ContractReport", &r.map_err(core_err)?)
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
    let c = call::<R>(&host, options, what)?;
    let r = f(c.ssot(&host), &c.req, c.now(&host)).map_err(core_err)?;
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
    /// Re-reads every recorded backup and compares it with its recorded
    /// checksum; the findings go to `verify.status` (`failed` counts them).
    #[rhai_fn(return_raw)]
    pub fn verify(ctx: NativeCallContext) -> Res<SsotResult> {
        let host = host(&ctx)?;
        let r = host.ssot.verify(host.now()).map_err(core_err)?;
        host.log(Level::Info, r.to_string().trim_end());
        SsotResult::new("VerifyOutcome", &r)
    }
    /// Creates `<scratch>/ssot-drill` for a drill's throwaway cluster, with
    /// ssot's marker in it (options: `owner`, the user the cluster runs as;
    /// `pgdata`). Refused inside or around PGDATA, pg_wal or the state
    /// directory, and for an existing directory without the marker.
    #[rhai_fn(return_raw)]
    pub fn drill_scratch(ctx: NativeCallContext, scratch: &str, options: Map) -> Res<String> {
        let host = host(&ctx)?;
        let owner: Option<String> = match options.get("owner") {
            None => None,
            Some(v) => from_script(v, "owner")?,
        };
        let pgdata: Option<std::path::PathBuf> = match options.get("pgdata") {
            None => None,
            Some(v) => from_script(v, "pgdata")?,
        };
        let dir = host
            .ssot
            .drill_scratch(
                std::path::Path::new(scratch),
                pgdata.as_deref(),
                owner.as_deref(),
            )
            .map_err(core_err)?;
        Ok(dir.display().to_string())
    }
    /// Removes a directory `drill_scratch` created, with its cluster; refused
    /// for any directory without ssot's marker.
    #[rhai_fn(return_raw)]
    pub fn remove_drill_scratch(ctx: NativeCallContext, dir: &str) -> Res<()> {
        let host = host(&ctx)?;
        host.ssot
            .remove_drill_scratch(std::path::Path::new(dir))
            .map_err(core_err)
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
        let c = call::<ssot_core::ReportRequest>(&host, options, "report")?;
        SsotResult::new("Report", &c.ssot(&host).report(&c.req, c.now(&host)))
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

/// Stops the runbook because `ssot run` was asked to stop (a signal it
/// forwarded to the running command); not catchable.
#[derive(Clone)]
pub struct Interrupted(pub i32);

/// `program` and its arguments as strings.
fn argv(program: &str, args: &Array) -> Res<Vec<String>> {
    let mut argv = vec![program.to_string()];
    for a in args {
        argv.push(match a.read_lock::<rhai::ImmutableString>() {
            Some(s) => s.to_string(),
            None => plain(a)?.to_string(),
        });
    }
    Ok(argv)
}

/// Runs `argv`, logging it (and the gate it runs under, with its lock).
pub fn execute(
    host: &Host,
    argv: &[String],
    gate: Option<(&str, &ssot_core::ports::Held)>,
) -> Res<Map> {
    let program = argv.first().map(String::as_str).unwrap_or_default();
    let under = gate
        .map(|(g, _)| format!(" (under gate {g})"))
        .unwrap_or_default();
    host.log(Level::Info, &format!("run {}{under}", argv.join(" ")));
    let out = host.run(gate.map(|(_, l)| l), argv).map_err(|e| {
        let m = format!("cannot run {program}: {e}");
        host.log(Level::Error, &m);
        err(m)
    })?;
    if let Some(sig) = out.forwarded {
        host.log(
            Level::Error,
            &format!("ssot run received signal {sig}, forwarded it to {program}, and stops"),
        );
        return Err(Box::new(EvalAltResult::ErrorTerminated(
            Dynamic::from(Interrupted(sig)),
            Position::NONE,
        )));
    }
    if out.timed_out {
        let m = format!(
            "{program} did not finish within its time ({:.1}s: --command-timeout, or what was left of the runbook's --timeout) and was killed, with its whole process group",
            out.duration.as_secs_f64()
        );
        host.log(Level::Error, &m);
        return Err(err(m));
    }
    host.log(
        Level::Info,
        &format!(
            "{program} {} after {:.1}s",
            match (out.code, out.signal) {
                (Some(c), _) => format!("exited {c}"),
                (None, Some(s)) => format!("was killed by signal {s}"),
                _ => "ended".into(),
            },
            out.duration.as_secs_f64()
        ),
    );
    if out.truncated() {
        host.log(
            Level::Warn,
            &format!(
                "the output of {program} was cut at {} bytes per stream (truncated: true)",
                host.max_output
            ),
        );
    }
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let mut m = Map::new();
    m.insert("code".into(), out.code.map_or(-1, i64::from).into());
    m.insert(
        "signal".into(),
        out.signal.map_or(Dynamic::UNIT, |s| i64::from(s).into()),
    );
    m.insert("stdout".into(), text(&out.stdout).into());
    m.insert("stderr".into(), text(&out.stderr).into());
    m.insert("truncated".into(), out.truncated().into());
    m.insert("duration".into(), out.duration.as_secs_f64().into());
    Ok(m)
}

#[export_module]
pub mod host_api {
    /// Runs a program (no shell) with a timeout: `#{code, signal, stdout,
    /// stderr, truncated, duration}`. A command that names a gated program
    /// in any word ([`ssot_core::gated`]: `pg_dump`, `pg_restore`, `pg_ctl`,
    /// ..., also through `sh -c`, `env`, `runuser`, `su -c`) is refused here:
    /// run it with `gate(OPERATION, options).run(...)`.
    #[rhai_fn(return_raw)]
    pub fn run(ctx: NativeCallContext, program: &str, args: Array) -> Res<Map> {
        let host = host(&ctx)?;
        let argv = crate::api::argv(program, &args)?;
        if let Some(g) = ssot_core::gated::gated_program(&argv) {
            return Err(err(format!(
                "run({program}, ...) performs a gated operation: {g}; run it under a gate: \
                 let d = gate(OPERATION, options); d.run(\"{program}\", args)"
            )));
        }
        crate::api::execute(&host, &argv, None)
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

/// Whether two values are equal, arrays and maps compared element by
/// element with at most `left` more levels of nesting, anything else by the
/// engine's own `==` (different types without one are not equal).
fn values_equal(ctx: &NativeCallContext, x: &Dynamic, y: &Dynamic, left: usize) -> Res<bool> {
    if let (Some(a), Some(b)) = (x.read_lock::<Array>(), y.read_lock::<Array>()) {
        return arrays_equal(ctx, &a, &b, left);
    }
    if let (Some(a), Some(b)) = (x.read_lock::<Map>(), y.read_lock::<Map>()) {
        return maps_equal(ctx, &a, &b, left);
    }
    let (mut x, mut y) = (x.clone(), y.clone());
    let same_type = x.type_id() == y.type_id();
    match ctx.call_native_fn_raw("==", true, &mut [&mut x, &mut y]) {
        Ok(v) => Ok(v.as_bool().unwrap_or(false)),
        Err(e) if matches!(*e, EvalAltResult::ErrorFunctionNotFound(ref f, ..) if f.starts_with("==")) => {
            if same_type {
                Err(e)
            } else {
                Ok(false)
            }
        }
        Err(e) => Err(e),
    }
}

fn arrays_equal(ctx: &NativeCallContext, a: &Array, b: &Array, left: usize) -> Res<bool> {
    let left = left.checked_sub(1).ok_or_else(too_deep)?;
    if a.len() != b.len() {
        return Ok(false);
    }
    for (x, y) in a.iter().zip(b) {
        if !values_equal(ctx, x, y, left)? {
            return Ok(false);
        }
    }
    Ok(true)
}

fn maps_equal(ctx: &NativeCallContext, a: &Map, b: &Map, left: usize) -> Res<bool> {
    let left = left.checked_sub(1).ok_or_else(too_deep)?;
    if a.len() != b.len() {
        return Ok(false);
    }
    for (k, x) in a {
        match b.get(k) {
            Some(y) if values_equal(ctx, x, y, left)? => {}
            _ => return Ok(false),
        }
    }
    Ok(true)
}

/// `f` over the array `a` (moved into a `Dynamic` and back) once its depth is checked.
fn array_checked<R>(a: &mut Array, f: impl FnOnce(&Dynamic) -> Res<R>) -> Res<R> {
    let d = Dynamic::from_array(std::mem::take(a));
    let r = check_depth(&d).and_then(|()| f(&d));
    *a = d.into_array().unwrap_or_default();
    r
}

/// `f` over the map `m`, likewise.
fn map_checked<R>(m: &mut Map, f: impl FnOnce(&Dynamic) -> Res<R>) -> Res<R> {
    let d = Dynamic::from_map(std::mem::take(m));
    let r = check_depth(&d).and_then(|()| f(&d));
    *m = d.try_cast::<Map>().unwrap_or_default();
    r
}

/// Replacements of the standard functions that would otherwise lose an
/// error or overflow the stack: callbacks that swallow their errors (`sort`
/// and `dedup` comparers: a gate denial raised there ends the run as it
/// would anywhere), and the recursive printing, comparing and JSON of
/// arrays and maps (bounded by [`MAX_DEPTH`]: deeper is a script error).
#[export_module]
pub mod strict_api {
    use std::cmp::Ordering;

    use rhai::FnPtr;

    /// Sorts with `comparer` (`|a, b| ...` returning an int or a bool); an
    /// error in the comparer (a gate denial) is passed on, not swallowed.
    #[rhai_fn(name = "sort", name = "sort_by", return_raw)]
    pub fn sort_by(ctx: NativeCallContext, array: &mut Array, comparer: FnPtr) -> Res<()> {
        if array.len() <= 1 {
            return Ok(());
        }
        let mut failed: Option<Box<EvalAltResult>> = None;
        let sorted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            array.sort_by(|x, y| {
                if failed.is_some() {
                    return Ordering::Equal;
                }
                match comparer.call_raw(&ctx, None, [x.clone(), y.clone()]) {
                    Ok(v) => match v
                        .as_int()
                        .or_else(|_| v.as_bool().map(|b| if b { -1 } else { 1 }))
                    {
                        Ok(n) => n.cmp(&0),
                        Err(_) => x.type_id().cmp(&y.type_id()),
                    },
                    Err(e) => {
                        failed = Some(e);
                        Ordering::Equal
                    }
                }
            });
        }));
        if let Some(e) = failed {
            return Err(e);
        }
        sorted.map_err(|_| err("the sort comparer is not a total order"))
    }

    /// Removes consecutive elements `comparer` calls equal; an error in the
    /// comparer is passed on, not swallowed.
    #[rhai_fn(name = "dedup", return_raw)]
    pub fn dedup_by(ctx: NativeCallContext, array: &mut Array, comparer: FnPtr) -> Res<()> {
        let mut failed: Option<Box<EvalAltResult>> = None;
        array.dedup_by(|x, y| {
            if failed.is_some() {
                return false;
            }
            match comparer.call_raw(&ctx, None, [y.clone(), x.clone()]) {
                Ok(v) => v.as_bool().unwrap_or(false),
                Err(e) => {
                    failed = Some(e);
                    false
                }
            }
        });
        failed.map_or(Ok(()), Err)
    }

    #[rhai_fn(global, name = "to_string", name = "print", return_raw, pure)]
    pub fn array_text(ctx: NativeCallContext, a: &mut Array) -> Res<String> {
        array_checked(a, |d| {
            Ok(ctx.engine().map_type_name(&d.to_string()).to_string())
        })
    }
    #[rhai_fn(global, name = "to_debug", name = "debug", return_raw, pure)]
    pub fn array_debug(ctx: NativeCallContext, a: &mut Array) -> Res<String> {
        array_checked(a, |d| {
            Ok(ctx.engine().map_type_name(&format!("{d:?}")).to_string())
        })
    }
    #[rhai_fn(global, name = "to_string", name = "print", return_raw, pure)]
    pub fn map_text(ctx: NativeCallContext, m: &mut Map) -> Res<String> {
        map_checked(m, |d| {
            Ok(ctx.engine().map_type_name(&d.to_string()).to_string())
        })
    }
    #[rhai_fn(global, name = "to_debug", name = "debug", return_raw, pure)]
    pub fn map_debug(ctx: NativeCallContext, m: &mut Map) -> Res<String> {
        map_checked(m, |d| {
            Ok(ctx.engine().map_type_name(&format!("{d:?}")).to_string())
        })
    }
    /// The map as JSON (times and durations as the CLI writes them).
    #[rhai_fn(global, name = "to_json", return_raw, pure)]
    pub fn map_json(m: &mut Map) -> Res<String> {
        map_checked(m, |d| {
            let v: serde_json::Value = from_script(d, "to_json")?;
            Ok(v.to_string())
        })
    }

    #[rhai_fn(global, name = "==", return_raw, pure)]
    pub fn array_eq(ctx: NativeCallContext, a: &mut Array, b: Array) -> Res<bool> {
        arrays_equal(&ctx, a, &b, MAX_DEPTH)
    }
    #[rhai_fn(global, name = "!=", return_raw, pure)]
    pub fn array_ne(ctx: NativeCallContext, a: &mut Array, b: Array) -> Res<bool> {
        arrays_equal(&ctx, a, &b, MAX_DEPTH).map(|e| !e)
    }
    #[rhai_fn(global, name = "==", return_raw, pure)]
    pub fn map_eq(ctx: NativeCallContext, a: &mut Map, b: Map) -> Res<bool> {
        maps_equal(&ctx, a, &b, MAX_DEPTH)
    }
    #[rhai_fn(global, name = "!=", return_raw, pure)]
    pub fn map_ne(ctx: NativeCallContext, a: &mut Map, b: Map) -> Res<bool> {
        maps_equal(&ctx, a, &b, MAX_DEPTH).map(|e| !e)
    }
}

#[cfg(test)]
mod tests {
    /// The table in `plan_retention(options)`'s docs, as rendered there.
    const POLICY_KEYS: &str = ssot_core::retention_knobs!(ssot_core::retention_knobs_table);

    #[test]
    fn the_policy_option_docs_list_every_retention_knob() {
        let rows: Vec<&str> = POLICY_KEYS.lines().skip(2).collect();
        assert_eq!(
            rows.len(),
            ssot_core::retention::KNOBS.len(),
            "{POLICY_KEYS}"
        );
        for (row, knob) in rows.iter().zip(ssot_core::retention::KNOBS) {
            assert_eq!(*row, format!("| `{}` | {} |", knob.name, knob.doc));
        }
    }
}
