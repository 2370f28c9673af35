//! `ssot.Ssot` and the module-level functions: each converts its arguments
//! into a core request, calls `ssot_core` with the GIL released, and wraps
//! the result. No rule is decided here.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use serde::de::DeserializeOwned;
use ssot_core::config::{Config as CoreConfig, ConfigSource};
use ssot_core::gate::{GateFacts, GatePolicy, Operation};
use ssot_core::retention::{Artifact, RetentionPolicy, RetentionPolicyPatch};
use ssot_core::units::ByteSize;
use ssot_core::wal::{PreviousStatus, WalFacts, WalPolicy};
use ssot_core::{
    ApplyMode, BackupRequest, Catalog, ContractRequest, DrDrillRequest, GateRequest, Input,
    ReportFormat, ReportRequest, RestoreDrillRequest, RetentionRequest, WalCheckRequest,
};

use crate::convert::{from_py, now_or, path, plain, time};
use crate::errors::{self, OrPy};
use crate::results::*;

/// A request built from keyword arguments: the given (non-`None`) ones as a
/// dict, deserialized by serde with the request's own defaults.
fn request<T: DeserializeOwned>(
    py: Python<'_>,
    what: &str,
    fields: &[(&str, Option<&Bound<'_, PyAny>>)],
) -> PyResult<T> {
    let d = PyDict::new(py);
    for (k, v) in fields {
        if let Some(v) = v.filter(|v| !v.is_none()) {
            d.set_item(*k, v)?;
        }
    }
    from_py(&d, what)
}

/// An input for the core to read: a path (`str`, `os.PathLike`), inline text
/// (`{"text": ..., "origin": ...}`), or a JSON value given as Python data
/// (a `kubectl ... -o json` document already parsed), passed as its JSON.
fn input(field: &str, v: &Bound<'_, PyAny>) -> PyResult<Input> {
    if v.is_instance_of::<PyString>()
        || v.is_instance(&v.py().import("os")?.getattr("PathLike")?)?
    {
        return Ok(Input::Path(path(v)?));
    }
    if let Ok(d) = v.cast::<PyDict>() {
        if d.contains("text")? && d.len() <= 2 && (d.len() == 1 || d.contains("origin")?) {
            return from_py(v, field);
        }
    }
    if v.is_instance_of::<PyDict>() || v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>()
    {
        let value: serde_json::Value = from_py(v, field)?;
        return Ok(Input::text(value.to_string(), field));
    }
    Err(PyTypeError::new_err(format!(
        "{field}: give a path, {{\"text\": ..., \"origin\": ...}}, or the parsed JSON (dict or list)"
    )))
}

fn opt_input(field: &str, v: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Input>> {
    match v {
        Some(v) if !v.is_none() => input(field, v).map(Some),
        _ => Ok(None),
    }
}

/// A retention request from Python's shapes: `source` is a directory (`str`
/// or path), a catalog (a list of artifacts), or a whole request dict (the
/// CLI's field names); keyword arguments and `policy` go on top.
#[allow(clippy::too_many_arguments)]
fn retention_request(
    source: Option<&Bound<'_, PyAny>>,
    policy: Option<&Bound<'_, PyAny>>,
    profile: Option<String>,
    root: Option<&Bound<'_, PyAny>>,
    pattern: Option<String>,
    pgdata: Option<&Bound<'_, PyAny>>,
) -> PyResult<RetentionRequest> {
    let mut req = RetentionRequest::default();
    if let Some(s) = source.filter(|s| !s.is_none()) {
        if s.is_instance_of::<PyDict>() {
            req = from_py(s, "retention request")?;
        } else if s.is_instance_of::<PyList>() || s.is_instance_of::<PyTuple>() {
            req.catalog = Some(Catalog::Artifacts(from_py::<Vec<Artifact>>(s, "catalog")?));
        } else {
            req.dir = Some(path(s)?);
        }
    }
    if let Some(p) = policy.filter(|p| !p.is_none()) {
        req.policy = from_py::<RetentionPolicyPatch>(p, "policy")?;
    }
    if profile.is_some() {
        req.profile = profile;
    }
    if let Some(r) = root.filter(|r| !r.is_none()) {
        req.root = Some(path(r)?);
    }
    if pattern.is_some() {
        req.pattern = pattern;
    }
    if let Some(p) = pgdata.filter(|p| !p.is_none()) {
        req.pgdata = Some(path(p)?);
    }
    Ok(req)
}

/// The configuration from `None` (the default file if present, else the
/// seed defaults), a path, a TOML string or a dict.
fn load_config(config: Option<&Bound<'_, PyAny>>) -> PyResult<(CoreConfig, ConfigSource)> {
    let Some(c) = config.filter(|c| !c.is_none()) else {
        return CoreConfig::load(None).or_py();
    };
    let from_text = |text: &str, origin: &str| -> PyResult<(CoreConfig, ConfigSource)> {
        let cfg = CoreConfig::from_toml_str(text, origin).or_py()?;
        Ok((
            cfg,
            ConfigSource {
                file: None,
                origin: format!("built-in defaults + {origin}"),
            },
        ))
    };
    if c.is_instance_of::<PyDict>() {
        let value: toml::Value = from_py(c, "config")?;
        let text =
            toml::to_string(&value).map_err(|e| errors::bad_request("config", &e.to_string()))?;
        return from_text(&text, "a dict");
    }
    if c.is_instance_of::<PyString>() {
        let s: String = c.extract()?;
        // TOML text has a `key = value` or a line break (or is empty); a path has neither.
        if s.trim().is_empty() || s.contains('=') || s.contains('\n') {
            return from_text(&s, "a TOML string");
        }
    }
    let p = path(c)?;
    CoreConfig::load(Some(&p)).or_py()
}

/// A size: bytes as an int, or PostgreSQL's spelling (`2GB`) parsed by the core.
fn size(v: &Bound<'_, PyAny>) -> PyResult<ByteSize> {
    if v.is_instance_of::<PyString>() {
        return ByteSize::parse(&v.extract::<String>()?)
            .map_err(ssot_core::Error::from)
            .or_py();
    }
    from_py(v, "size")
}

fn gate_request(
    operation: &str,
    target: Option<&Bound<'_, PyAny>>,
    pgdata: Option<&Bound<'_, PyAny>>,
    estimate: Option<&Bound<'_, PyAny>>,
) -> PyResult<GateRequest> {
    Ok(GateRequest {
        operation: crate::api::operation(operation)?,
        target: target.filter(|t| !t.is_none()).map(path).transpose()?,
        pgdata: pgdata.filter(|p| !p.is_none()).map(path).transpose()?,
        estimate: estimate.filter(|e| !e.is_none()).map(size).transpose()?,
    })
}

fn operation(op: &str) -> PyResult<Operation> {
    op.parse::<Operation>().or_py()
}

/// ssot over a state directory: the effective configuration and the real host.
#[pyclass(frozen, module = "ssot", name = "Ssot")]
pub struct Ssot(ssot_core::Ssot);

#[pymethods]
impl Ssot {
    #[new]
    #[pyo3(signature = (config=None, *, state_dir=None))]
    fn new(
        config: Option<&Bound<'_, PyAny>>,
        state_dir: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        // The environment exactly as the CLI reads it: SSOT_CONFIG and
        // SSOT_STATE_DIR when no config or state_dir is given, PGDATA and
        // SSOT_DSN over the configuration's.
        let env = ssot_core::host::Environment::from_process();
        let dir = state_dir.filter(|d| !d.is_none()).map(path).transpose()?;
        let ssot = match config.filter(|c| !c.is_none()) {
            None => ssot_core::Ssot::open_in(&env, None, dir.as_deref()).or_py()?,
            Some(c) => {
                let (cfg, source) = load_config(Some(c))?;
                ssot_core::Ssot::in_environment(cfg, source, &env, dir.as_deref())
            }
        };
        Ok(Ssot(ssot))
    }

    /// The state directory.
    #[getter]
    fn state_dir(&self) -> PathBuf {
        self.0.state_dir().to_path_buf()
    }

    /// The current time, as ssot sees it.
    fn now(&self) -> DateTime<Utc> {
        self.0.now()
    }

    /// Measures pg_wal (and, with a DSN, probes the server), evaluates the
    /// WAL status against the previous one and records it in `wal.status`:
    /// `ssot wal check`. `slots` is a path, inline text or the parsed JSON of
    /// the replication slots.
    #[pyo3(signature = (pgdata=None, *, slots=None, dsn=None, now=None))]
    fn check_wal(
        &self,
        py: Python<'_>,
        pgdata: Option<&Bound<'_, PyAny>>,
        slots: Option<&Bound<'_, PyAny>>,
        dsn: Option<String>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<WalCheck> {
        let slots = match slots {
            Some(s) if s.is_instance_of::<PyTuple>() && s.len()? == 0 => None,
            other => opt_input("slots", other)?,
        };
        let req = WalCheckRequest {
            pgdata: pgdata.filter(|p| !p.is_none()).map(path).transpose()?,
            slots,
            dsn,
        };
        let now = now_or(now, || self.0.now())?;
        py.detach(|| self.0.check_wal(&req, now))
            .or_py()
            .map(WalCheck::from)
    }

    /// Decides whether `operation` (snapshot, backup, restore, startup) may
    /// run now, failing closed with every reason: `ssot gate OP`. It decides
    /// at the real time; `now` is only checked against the clock
    /// (`ClockRefusedError` beyond `gate.max_clock_skew`). Takes no lock: see
    /// `hold`.
    #[pyo3(signature = (operation, *, target=None, pgdata=None, estimate=None, now=None))]
    fn gate(
        &self,
        py: Python<'_>,
        operation: &str,
        target: Option<&Bound<'_, PyAny>>,
        pgdata: Option<&Bound<'_, PyAny>>,
        estimate: Option<&Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Decision> {
        let req = gate_request(operation, target, pgdata, estimate)?;
        // A decision that authorises work: the real clock, `now` only checked.
        let given = now.filter(|n| !n.is_none()).map(time).transpose()?;
        py.detach(|| self.0.gate(&req, given))
            .or_py()
            .map(Decision::from)
    }

    /// Like `gate`, but first takes the operation lock (naming `holder`) and,
    /// when allowed, keeps it in the returned `Hold` until it is released
    /// (or the `with` block ends): no other gated operation runs meanwhile.
    /// A denial raises `GateDenied` (with the decision), so no code meant to
    /// run under the lock runs; `raise_on_deny=False` returns the denied
    /// `Hold` instead (whose `with` block still raises).
    #[pyo3(signature = (operation, *, holder, target=None, pgdata=None, estimate=None, now=None, raise_on_deny=true))]
    #[allow(clippy::too_many_arguments)]
    fn hold(
        slf: &Bound<'_, Self>,
        py: Python<'_>,
        operation: &str,
        holder: &str,
        target: Option<&Bound<'_, PyAny>>,
        pgdata: Option<&Bound<'_, PyAny>>,
        estimate: Option<&Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
        raise_on_deny: bool,
    ) -> PyResult<Hold> {
        let req = gate_request(operation, target, pgdata, estimate)?;
        let given = now.filter(|n| !n.is_none()).map(time).transpose()?;
        let command = vec![holder.to_string()];
        let ssot = &slf.get().0;
        let (decision, held) = py
            .detach(|| ssot.gate_and_hold(&req, &command, given))
            .or_py()?;
        if !decision.allowed && raise_on_deny {
            return Err(gate_denied(py, decision)?);
        }
        Ok(Hold {
            decision,
            held: std::sync::Mutex::new(held),
            ssot: slf.clone().unbind(),
            req,
        })
    }

    /// Writes `text` to `path` atomically (temp file, fsync, rename), as
    /// `ssot report --output` does.
    fn write_output(&self, path: &Bound<'_, PyAny>, text: &str) -> PyResult<()> {
        self.0.write_output(&self::path(path)?, text).or_py()
    }

    /// Plans retention without deleting anything: every artifact with keep or
    /// delete and its reasons, and the hash to apply exactly this plan.
    /// `source` is a directory, a list of artifacts (a catalog) or a
    /// `RetentionSource` dict; `policy` overrides the profile's keys.
    #[pyo3(signature = (source=None, policy=None, *, profile=None, root=None, pattern=None, pgdata=None, now=None))]
    #[allow(clippy::too_many_arguments)]
    fn plan_retention(
        &self,
        py: Python<'_>,
        source: Option<&Bound<'_, PyAny>>,
        policy: Option<&Bound<'_, PyAny>>,
        profile: Option<String>,
        root: Option<&Bound<'_, PyAny>>,
        pattern: Option<String>,
        pgdata: Option<&Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<RetentionPlan> {
        let req = retention_request(source, policy, profile, root, pattern, pgdata)?;
        let now = now_or(now, || self.0.now())?;
        py.detach(|| self.0.plan_retention(&req, now))
            .or_py()
            .map(RetentionPlan::from)
    }

    /// Applies a retention plan: with `plan_hash`, exactly the reviewed plan
    /// (refused if the plan changed); with `confirm=True`, the plan as it is
    /// now; with neither, a dry run. A plan deleting more than `max_delete`
    /// is refused; an interrupted run is finished by the next one.
    #[pyo3(signature = (source=None, policy=None, *, plan_hash=None, confirm=false, profile=None, root=None, pattern=None, pgdata=None, now=None))]
    #[allow(clippy::too_many_arguments)]
    fn apply_retention(
        &self,
        py: Python<'_>,
        source: Option<&Bound<'_, PyAny>>,
        policy: Option<&Bound<'_, PyAny>>,
        plan_hash: Option<String>,
        confirm: bool,
        profile: Option<String>,
        root: Option<&Bound<'_, PyAny>>,
        pattern: Option<String>,
        pgdata: Option<&Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<ApplyOutcome> {
        let mode = ApplyMode::from_options(confirm, plan_hash).or_py()?;
        let req = retention_request(source, policy, profile, root, pattern, pgdata)?;
        // A dry run is evaluated at `now`; an apply that deletes uses the real clock.
        let given = now.filter(|n| !n.is_none()).map(time).transpose()?;
        py.detach(|| self.0.apply_retention(&req, &mode, given))
            .or_py()
            .map(ApplyOutcome::from)
    }

    /// Checks the architecture contract against its source of truth (the
    /// StatefulSet on Kubernetes, `postgresql.conf` on a host) and the
    /// running server, and records it in `contract.status`: `ssot contract
    /// check`. Each input is a path, inline text or parsed JSON; what is not
    /// given is read from the host or the live probe, or is UNKNOWN.
    #[pyo3(signature = (*, statefulset=None, settings=None, processes=None, pvcs=None, active_pvcs=None, auto_conf=None, slots=None, mounts=None, postgresql_conf=None, dsn=None, pgdata=None, now=None))]
    #[allow(clippy::too_many_arguments)]
    fn check_contract(
        &self,
        py: Python<'_>,
        statefulset: Option<&Bound<'_, PyAny>>,
        settings: Option<&Bound<'_, PyAny>>,
        processes: Option<&Bound<'_, PyAny>>,
        pvcs: Option<&Bound<'_, PyAny>>,
        active_pvcs: Option<&Bound<'_, PyAny>>,
        auto_conf: Option<&Bound<'_, PyAny>>,
        slots: Option<&Bound<'_, PyAny>>,
        mounts: Option<&Bound<'_, PyAny>>,
        postgresql_conf: Option<&Bound<'_, PyAny>>,
        dsn: Option<String>,
        pgdata: Option<PathBuf>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<ContractReport> {
        let req = ContractRequest {
            statefulset: opt_input("statefulset", statefulset)?,
            settings: opt_input("settings", settings)?,
            processes: opt_input("processes", processes)?,
            pvcs: opt_input("pvcs", pvcs)?,
            active_pvcs: opt_input("active_pvcs", active_pvcs)?,
            auto_conf: opt_input("auto_conf", auto_conf)?,
            slots: opt_input("slots", slots)?,
            mounts: opt_input("mounts", mounts)?,
            postgresql_conf: opt_input("postgresql_conf", postgresql_conf)?,
            dsn,
            pgdata,
        };
        let now = now_or(now, || self.0.now())?;
        py.detach(|| self.0.check_contract(&req, now))
            .or_py()
            .map(ContractReport::from)
    }

    /// Checks every stage's claimed status against the evidence in the
    /// state directory: `ssot stages check`.
    #[pyo3(signature = (now=None))]
    fn check_stages(
        &self,
        py: Python<'_>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<StageChecks> {
        let now = now_or(now, || self.0.now())?;
        Ok(StageChecks::from(py.detach(|| self.0.check_stages(now))))
    }

    /// Records a backup that ran in `backup.status`, after checking it is
    /// what it claims (there, whole, not a snapshot, of a plausible size):
    /// `ssot evidence backup`. Refused evidence raises `EvidenceRefused`.
    #[pyo3(signature = (artifact, *, location=None, result=None, started=None, finished=None, size=None, kind=None, by=None, pgdata=None, now=None))]
    #[allow(clippy::too_many_arguments)]
    fn record_backup(
        &self,
        py: Python<'_>,
        artifact: &Bound<'_, PyAny>,
        location: Option<&Bound<'_, PyAny>>,
        result: Option<&Bound<'_, PyAny>>,
        started: Option<&Bound<'_, PyAny>>,
        finished: Option<&Bound<'_, PyAny>>,
        size: Option<&Bound<'_, PyAny>>,
        kind: Option<&Bound<'_, PyAny>>,
        by: Option<&Bound<'_, PyAny>>,
        pgdata: Option<&Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<BackupRecorded> {
        let size = size.filter(|v| !v.is_none()).map(self::size).transpose()?;
        let size = size.map(|b| b.bytes().into_pyobject(py)).transpose()?;
        let req: BackupRequest = request(
            py,
            "record_backup",
            &[
                ("artifact", Some(artifact)),
                ("location", location),
                ("result", result),
                ("started", started),
                ("finished", finished),
                ("size", size.as_ref().map(|b| b.as_any())),
                ("kind", kind),
                ("by", by),
                ("pgdata", pgdata),
            ],
        )?;
        let now = now_or(now, || self.0.now())?;
        py.detach(|| self.0.record_backup(&req, now))
            .or_py()
            .map(BackupRecorded::from)
    }

    /// Records a restore drill of a recorded backup (`result`: `pass` or
    /// `fail`) in `restore_drill.status`; `mark_verified` writes the
    /// artifact's `.verified` marker in that directory when it passed.
    #[pyo3(signature = (artifact, result, *, started=None, finished=None, by=None, notes=None, mark_verified=None, now=None))]
    #[allow(clippy::too_many_arguments)]
    fn record_restore_drill(
        &self,
        py: Python<'_>,
        artifact: &Bound<'_, PyAny>,
        result: &Bound<'_, PyAny>,
        started: Option<&Bound<'_, PyAny>>,
        finished: Option<&Bound<'_, PyAny>>,
        by: Option<&Bound<'_, PyAny>>,
        notes: Option<&Bound<'_, PyAny>>,
        mark_verified: Option<&Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<RestoreDrillRecorded> {
        let req: RestoreDrillRequest = request(
            py,
            "record_restore_drill",
            &[
                ("artifact", Some(artifact)),
                ("result", Some(result)),
                ("started", started),
                ("finished", finished),
                ("by", by),
                ("notes", notes),
                ("mark_verified", mark_verified),
            ],
        )?;
        let now = now_or(now, || self.0.now())?;
        py.detach(|| self.0.record_restore_drill(&req, now))
            .or_py()
            .map(RestoreDrillRecorded::from)
    }

    /// Records a disaster-recovery drill in `dr_drill.status`, with the RTO
    /// (`t0` to `restored_at`) and RPO (`newest_before` minus
    /// `newest_after`) measured against the configured targets.
    #[pyo3(signature = (scenario, *, t0, restored_at, newest_before, newest_after, by=None, now=None))]
    #[allow(clippy::too_many_arguments)]
    fn record_dr_drill(
        &self,
        py: Python<'_>,
        scenario: &Bound<'_, PyAny>,
        t0: &Bound<'_, PyAny>,
        restored_at: &Bound<'_, PyAny>,
        newest_before: &Bound<'_, PyAny>,
        newest_after: &Bound<'_, PyAny>,
        by: Option<&Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<DrDrillRecorded> {
        let req: DrDrillRequest = request(
            py,
            "record_dr_drill",
            &[
                ("scenario", Some(scenario)),
                ("t0", Some(t0)),
                ("restored_at", Some(restored_at)),
                ("newest_before", Some(newest_before)),
                ("newest_after", Some(newest_after)),
                ("by", by),
            ],
        )?;
        let now = now_or(now, || self.0.now())?;
        py.detach(|| self.0.record_dr_drill(&req, now))
            .or_py()
            .map(DrDrillRecorded::from)
    }

    /// The single view of truth over the state directory (and, with a DSN,
    /// the live server): `ssot report`.
    #[pyo3(signature = (now=None, *, pgdata=None, dsn=None))]
    fn report(
        &self,
        py: Python<'_>,
        now: Option<&Bound<'_, PyAny>>,
        pgdata: Option<&Bound<'_, PyAny>>,
        dsn: Option<String>,
    ) -> PyResult<Report> {
        let req = ReportRequest {
            pgdata: pgdata.filter(|p| !p.is_none()).map(path).transpose()?,
            dsn,
        };
        let now = now_or(now, || self.0.now())?;
        Ok(Report::from(py.detach(|| self.0.report(&req, now))))
    }

    /// The report as `text`, `json`, `prometheus` or `configmap` (named by the configuration).
    fn render_report(
        &self,
        report: &Bound<'_, Report>,
        format: &Bound<'_, PyAny>,
    ) -> PyResult<String> {
        let format: ReportFormat = from_py(format, "format")?;
        Ok(self.0.render_report(&report.get().0, format))
    }

    /// Re-reads every recorded backup and compares it with the checksum
    /// recorded when it was taken; records the findings in `verify.status`.
    #[pyo3(signature = (*, now=None))]
    fn verify(&self, py: Python<'_>, now: Option<&Bound<'_, PyAny>>) -> PyResult<VerifyOutcome> {
        let now = now_or(now, || self.0.now())?;
        Ok(VerifyOutcome::from(
            py.detach(|| self.0.verify(now)).or_py()?,
        ))
    }

    /// Every state file as it is (present, missing, corrupt, ...) with its
    /// values: `ssot status`.
    #[pyo3(signature = (now=None))]
    fn status(&self, py: Python<'_>, now: Option<&Bound<'_, PyAny>>) -> PyResult<Status> {
        let now = now_or(now, || self.0.now())?;
        Ok(Status::from(py.detach(|| self.0.status(now))))
    }

    /// The effective configuration and where it came from: `ssot config show`.
    fn config(&self) -> Config {
        Config::from(self.0.effective_config())
    }

    fn __repr__(&self) -> String {
        format!(
            "<Ssot state_dir={} config={}>",
            self.0.state_dir().display(),
            self.0.effective_config().origin
        )
    }
}

/// The WAL status of one sample, with no state directory (pure).
#[pyfunction]
#[pyo3(signature = (facts, policy=None, *, now, previous=None))]
pub fn evaluate_wal(
    py: Python<'_>,
    facts: &Bound<'_, PyAny>,
    policy: Option<&Bound<'_, PyAny>>,
    now: &Bound<'_, PyAny>,
    previous: Option<&Bound<'_, PyAny>>,
) -> PyResult<WalReport> {
    let mut facts: WalFacts = from_py(facts, "facts")?;
    let policy: WalPolicy = match policy.filter(|p| !p.is_none()) {
        Some(p) => from_py(p, "policy")?,
        None => WalPolicy::default(),
    };
    // The checks a configuration's `[wal]` gets: a NaN or out-of-range
    // threshold judged a full volume OK (found by attack).
    policy.validate().or_py()?;
    if let Some(p) = previous.filter(|p| !p.is_none()) {
        facts.previous = Some(match p.cast::<WalReport>() {
            Ok(r) => r.get().0.as_previous(),
            Err(_) => from_py::<PreviousStatus>(p, "previous")?,
        });
    }
    let now = time(now)?;
    Ok(WalReport::from(
        py.detach(|| ssot_core::wal::evaluate(&facts, &policy, now)),
    ))
}

/// A gate decision from facts, with no state directory (pure).
#[pyfunction]
#[pyo3(signature = (operation, facts, policy=None, *, now))]
pub fn evaluate_gate(
    operation: &str,
    facts: &Bound<'_, PyAny>,
    policy: Option<&Bound<'_, PyAny>>,
    now: &Bound<'_, PyAny>,
) -> PyResult<Decision> {
    let facts: GateFacts = from_py(facts, "facts")?;
    let policy: GatePolicy = match policy.filter(|p| !p.is_none()) {
        Some(p) => from_py(p, "policy")?,
        None => GatePolicy::default(),
    };
    // As a configuration's `[gate.disk]` is checked.
    policy.disk.validate().or_py()?;
    Ok(Decision::from(ssot_core::gate::evaluate(
        crate::api::operation(operation)?,
        &facts,
        &policy,
        time(now)?,
    )))
}

/// A retention plan over artifacts, with no directory (pure).
#[pyfunction]
#[pyo3(signature = (artifacts, policy=None, *, now))]
pub fn plan_retention(
    py: Python<'_>,
    artifacts: &Bound<'_, PyAny>,
    policy: Option<&Bound<'_, PyAny>>,
    now: &Bound<'_, PyAny>,
) -> PyResult<RetentionPlan> {
    let artifacts: Vec<Artifact> = from_py(artifacts, "artifacts")?;
    let policy: RetentionPolicy = match policy.filter(|p| !p.is_none()) {
        Some(p) => from_py(p, "policy")?,
        None => RetentionPolicy::default(),
    };
    let now = time(now)?;
    let plan = py
        .detach(|| ssot_core::retention::plan(&artifacts, &policy, now))
        .or_py()?;
    Ok(RetentionPlan::from(ssot_core::RetentionPlanned {
        profile: "default".into(),
        plan,
        commands: Vec::new(),
    }))
}

/// `Ssot(config, state_dir=state_dir).gate(...)`.
#[pyfunction]
#[pyo3(signature = (operation, *, state_dir, config=None, target=None, pgdata=None, estimate=None, now=None))]
#[allow(clippy::too_many_arguments)]
pub fn gate(
    py: Python<'_>,
    operation: &str,
    state_dir: &Bound<'_, PyAny>,
    config: Option<&Bound<'_, PyAny>>,
    target: Option<&Bound<'_, PyAny>>,
    pgdata: Option<&Bound<'_, PyAny>>,
    estimate: Option<&Bound<'_, PyAny>>,
    now: Option<&Bound<'_, PyAny>>,
) -> PyResult<Decision> {
    let ssot = Ssot::new(config, Some(state_dir))?;
    ssot.gate(py, operation, target, pgdata, estimate, now)
}

/// The architecture contract over inputs given as text (pure: nothing is
/// read or written). `inputs` maps the request's field names (`statefulset`,
/// `settings`, ...) to text or `{"text": ..., "origin": ...}`.
#[pyfunction]
#[pyo3(signature = (inputs, config=None, *, now, backup_location=None, backup_target=None))]
pub fn evaluate_contract(
    inputs: &Bound<'_, PyDict>,
    config: Option<&Bound<'_, PyAny>>,
    now: &Bound<'_, PyAny>,
    backup_location: Option<String>,
    backup_target: Option<String>,
) -> PyResult<ContractReport> {
    let texts = PyDict::new(inputs.py());
    // Over a copy of its items: making a value plain runs the caller's code
    // (`to_dict`, `__fspath__`), which may change `inputs`, and pyo3 panics
    // when a dict it walks changes size (found by attack).
    for item in inputs.items().iter() {
        let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
        let field: String = k.extract()?;
        // A string is an input's text, except for the fields that are not inputs.
        if v.is_instance_of::<PyString>() && !matches!(field.as_str(), "pgdata" | "dsn") {
            let d = PyDict::new(inputs.py());
            d.set_item("text", v)?;
            d.set_item("origin", &field)?;
            texts.set_item(&field, d)?;
        } else {
            texts.set_item(&field, plain(&v)?)?;
        }
    }
    let req: ContractRequest = from_py(&texts, "inputs")?;
    let cfg: ssot_core::config::ContractConfig = match config.filter(|c| !c.is_none()) {
        Some(c) => from_py(c, "config")?,
        None => Default::default(),
    };
    let mut inputs = ssot_core::parse_contract_inputs(&req, &cfg).or_py()?;
    inputs.backup_location =
        backup_location.map(|l| ssot_core::contract::Sourced::new(l, "backup.status"));
    inputs.backup_target = backup_target;
    Ok(ContractReport::from(ssot_core::contract::evaluate(
        &inputs,
        &cfg,
        time(now)?,
    )))
}

/// The single view of truth over state file contents (pure): `files` maps
/// state file names to their content; `config` is `ssot.toml` text or a dict.
#[pyfunction]
#[pyo3(signature = (files, *, gate_log=None, config=None, now))]
pub fn build_report(
    files: &Bound<'_, PyAny>,
    gate_log: Option<String>,
    config: Option<&Bound<'_, PyAny>>,
    now: &Bound<'_, PyAny>,
) -> PyResult<Report> {
    let files: std::collections::BTreeMap<String, String> = from_py(files, "files")?;
    let cfg = match config.filter(|c| !c.is_none()) {
        None => CoreConfig::default(),
        Some(c) => load_config(Some(c))?.0,
    };
    Ok(Report::from(ssot_core::report_from_files(
        &files,
        gate_log.as_deref(),
        &cfg,
        time(now)?,
    )))
}

/// `GateDenied` carrying `decision`.
fn gate_denied(py: Python<'_>, decision: ssot_core::gate::Decision) -> PyResult<PyErr> {
    let d = Bound::new(py, Decision::from(decision))?;
    Ok(match Decision::raise_if_denied(&d) {
        Err(e) => e,
        Ok(()) => pyo3::exceptions::PyRuntimeError::new_err("an allowed decision is not a denial"),
    })
}

/// A gate decision and, when it allowed, the operation lock, held until
/// `release()` or the end of a `with` block. Entering a denied `Hold`
/// raises `GateDenied`: the body never runs without the lock.
#[pyclass(frozen, module = "ssot", name = "Hold")]
pub struct Hold {
    decision: ssot_core::gate::Decision,
    held: std::sync::Mutex<Option<ssot_core::ports::Held>>,
    /// The `Ssot` that decided, and what was asked: each `run` decides again.
    ssot: Py<Ssot>,
    req: GateRequest,
}

#[pymethods]
impl Hold {
    /// The decision.
    #[getter]
    fn decision(&self) -> Decision {
        Decision::from(self.decision.clone())
    }
    /// True while the lock is held (only ever after an allowed decision).
    #[getter]
    fn held(&self) -> bool {
        self.held.lock().map(|h| h.is_some()).unwrap_or(false)
    }
    /// Releases the lock (idempotent). A command started by `run` that is
    /// still running (in the background) keeps it until it ends.
    fn release(&self) {
        if let Ok(mut h) = self.held.lock() {
            h.take();
        }
    }
    /// Decides again at the real time (a denial releases the lock and raises
    /// `GateDenied`), then runs `argv` (no shell) under the lock: the command inherits the lock
    /// (it holds it as long as it and anything it forks run, even if this
    /// Python process dies), runs in its own process group, receives the
    /// SIGTERM/SIGINT/SIGHUP this process receives meanwhile (which is then
    /// raised here too, once the command has ended), and its whole group is
    /// ended at `timeout` (seconds). Output is captured (at most `max_output`
    /// bytes a stream) unless `capture=False`; `stdout=PATH` sends stdout to
    /// that file instead (created 0600: `pg_dump > PATH` without a shell).
    #[pyo3(signature = (argv, *, timeout=None, capture=true, stdout=None, max_output=16777216))]
    fn run(
        &self,
        py: Python<'_>,
        argv: Vec<String>,
        timeout: Option<f64>,
        capture: bool,
        stdout: Option<&Bound<'_, PyAny>>,
        max_output: usize,
    ) -> PyResult<CommandResult> {
        let op = self.decision.operation;
        if !self.decision.allowed {
            return Err(gate_denied(py, self.decision.clone())?);
        }
        let timeout = match timeout {
            Some(t) if !(t.is_finite() && t > 0.0) => {
                return Err(PyValueError::new_err(format!(
                    "timeout must be a positive number of seconds, not {t}"
                )))
            }
            t => t.map(std::time::Duration::from_secs_f64),
        };
        let opts = ssot_core::host::RunOptions {
            timeout,
            capture,
            stdout_file: stdout.filter(|p| !p.is_none()).map(path).transpose()?,
            max_output,
            ..ssot_core::host::RunOptions::default()
        };
        // An allowed decision does not stay allowed: decide again, at the
        // real time, before the command (WAL may have gone bad meanwhile).
        if self.held() {
            let ssot = &self.ssot.get().0;
            let again = py.detach(|| ssot.recheck(&self.req)).or_py()?;
            if !again.allowed {
                self.release();
                return Err(gate_denied(py, again)?);
            }
        }
        let finished = py.detach(|| {
            let held = self.held.lock().unwrap_or_else(|p| p.into_inner());
            match held.as_ref() {
                None => Ok(None),
                Some(lock) => ssot_core::host::run_holding(Some(lock), &argv, &opts).map(Some),
            }
        });
        let finished = match finished {
            Ok(Some(f)) => f,
            Ok(None) => {
                return Err(errors::bad_request(
                    "run",
                    &format!(
                    "gate {op}'s operation lock was released: hold again before running a command"
                ),
                ))
            }
            Err(e) => return Err(errors::bad_request("run", &format!("the command {e}"))),
        };
        if let Some(sig) = finished.forwarded {
            // This process was asked to stop while the command ran: the
            // command got the signal; now this process gets it, as it would
            // have without ssot in between (KeyboardInterrupt for SIGINT).
            ssot_core::host::reraise(sig);
            py.check_signals()?;
        }
        Ok(CommandResult(finished))
    }
    fn __enter__(slf: Py<Self>, py: Python<'_>) -> PyResult<Py<Self>> {
        let d = &slf.get().decision;
        if !d.allowed {
            return Err(gate_denied(py, d.clone())?);
        }
        Ok(slf)
    }
    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, _exc: &Bound<'_, PyTuple>) -> bool {
        self.release();
        false
    }
    fn __repr__(&self) -> String {
        format!(
            "<Hold {} {}{}>",
            self.decision.operation,
            if self.decision.allowed {
                "ALLOWED"
            } else {
                "DENIED"
            },
            if self.held() { ", lock held" } else { "" }
        )
    }
}

/// How a command run by `Hold.run` ended.
#[pyclass(frozen, module = "ssot", name = "CommandResult")]
pub struct CommandResult(ssot_core::host::Finished);

#[pymethods]
impl CommandResult {
    /// Its exit code, or `None` when a signal ended it.
    #[getter]
    fn code(&self) -> Option<i32> {
        self.0.code
    }
    /// The signal that ended it, if one did.
    #[getter]
    fn signal(&self) -> Option<i32> {
        self.0.signal
    }
    /// Its standard output (empty unless captured).
    #[getter]
    fn stdout<'py>(&self, py: Python<'py>) -> Bound<'py, pyo3::types::PyBytes> {
        pyo3::types::PyBytes::new(py, &self.0.stdout)
    }
    /// Its standard error (empty unless captured).
    #[getter]
    fn stderr<'py>(&self, py: Python<'py>) -> Bound<'py, pyo3::types::PyBytes> {
        pyo3::types::PyBytes::new(py, &self.0.stderr)
    }
    /// True when stdout or stderr was cut at `max_output`.
    #[getter]
    fn truncated(&self) -> bool {
        self.0.truncated()
    }
    /// True when the timeout ended it and its process group.
    #[getter]
    fn timed_out(&self) -> bool {
        self.0.timed_out
    }
    /// Seconds it ran.
    #[getter]
    fn duration(&self) -> f64 {
        self.0.duration.as_secs_f64()
    }
    /// True when it exited 0.
    fn __bool__(&self) -> bool {
        self.0.code == Some(0)
    }
    fn __repr__(&self) -> String {
        match (self.0.code, self.0.signal) {
            (Some(c), _) => format!("<CommandResult exited {c}>"),
            (None, Some(s)) => format!("<CommandResult killed by signal {s}>"),
            _ => "<CommandResult>".into(),
        }
    }
}
