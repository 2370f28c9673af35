//! The result classes: immutable wrappers of the core's results. Each gives
//! typed attributes, `to_dict()`/`to_json()` (the CLI's JSON, by serde),
//! `__str__` (the CLI's text, the core's `Display`), `exit_code` and
//! `outcome` (the core's `Outcome`). Items (checks, decisions, invariants,
//! sections) are plain immutable records.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use pyo3::prelude::*;
use ssot_core::contract::{ContractReport as CoreContractReport, InvariantStatus};
use ssot_core::gate::Decision as CoreDecision;
use ssot_core::report::Report as CoreReport;
use ssot_core::retention::{Action, RetentionPlan as CorePlan};
use ssot_core::wal::WalReport as CoreWalReport;
use ssot_core::{exit, Outcome};

use crate::convert;

/// A result class: the struct wrapping the core's result, its own methods,
/// and the ones every result shares — `exit_code` and `outcome` (the core's
/// `Outcome`), `to_dict()`/`to_json()` (the CLI's JSON) and `__str__` (the
/// CLI's text).
macro_rules! result_class {
    ($(#[$doc:meta])* $name:ident, $pyname:literal, $inner:ty; $($methods:tt)*) => {
        $(#[$doc])*
        #[pyclass(frozen, module = "ssot", name = $pyname)]
        pub struct $name(pub $inner);

        #[pymethods]
        impl $name {
            $($methods)*

            /// The CLI's exit code for this result.
            #[getter]
            fn exit_code(&self) -> u8 {
                self.0.exit_code()
            }
            /// The exit code's name (`Outcome.OK`, `Outcome.WARNING`, ...).
            #[getter]
            fn outcome<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                convert::member(py, "Outcome", exit::name(self.0.exit_code()))
            }
            /// The CLI's JSON, as Python values.
            fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                convert::to_py(py, &self.0)
            }
            /// The CLI's JSON.
            fn to_json(&self) -> String {
                ssot_core::json(&self.0)
            }
            /// The CLI's text.
            fn __str__(&self) -> String {
                self.0.to_string()
            }
        }
    };
}

// ---------------------------------------------------------------- items ---

/// One check of a gate decision.
#[pyclass(frozen, skip_from_py_object, module = "ssot", name = "Check")]
#[derive(Clone)]
pub struct Check {
    /// Stable rule id (`wal_status_fresh`, `separate_filesystem`, ...).
    #[pyo3(get)]
    rule: String,
    /// Whether it passed.
    #[pyo3(get)]
    passed: bool,
    /// What was found.
    #[pyo3(get)]
    message: String,
}

#[pymethods]
impl Check {
    fn __repr__(&self) -> String {
        format!(
            "<Check {} {}: {}>",
            if self.passed { "ok" } else { "DENY" },
            self.rule,
            self.message
        )
    }
}

/// One reason of a WAL status.
#[pyclass(frozen, skip_from_py_object, module = "ssot", name = "WalReason")]
#[derive(Clone)]
pub struct WalReason {
    /// Stable rule id (`wal_over_soft_limit`, `volume_used_near`, ...).
    #[pyo3(get)]
    rule: String,
    level: &'static str,
    /// One sentence naming value and threshold.
    #[pyo3(get)]
    message: String,
    /// True when hysteresis holds it.
    #[pyo3(get)]
    held: bool,
}

#[pymethods]
impl WalReason {
    /// The level it asserts: a `WalStatus`.
    #[getter]
    fn level<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::member(py, "WalStatus", self.level)
    }
    fn __repr__(&self) -> String {
        format!("<WalReason {} {}: {}>", self.level, self.rule, self.message)
    }
}

/// One artifact of a retention plan, with every reason.
#[pyclass(
    frozen,
    skip_from_py_object,
    module = "ssot",
    name = "ArtifactDecision"
)]
#[derive(Clone)]
pub struct ArtifactDecision {
    /// The artifact id.
    #[pyo3(get)]
    id: String,
    /// Its group.
    #[pyo3(get)]
    group: String,
    action: &'static str,
    /// Every reason, as the CLI prints them.
    #[pyo3(get)]
    reasons: Vec<String>,
    /// Creation time.
    #[pyo3(get)]
    created_at: DateTime<Utc>,
    /// Size, when known.
    #[pyo3(get)]
    size_bytes: Option<u64>,
    state: &'static str,
}

#[pymethods]
impl ArtifactDecision {
    /// `Action.KEEP` or `Action.DELETE`.
    #[getter]
    fn action<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::member(py, "Action", self.action)
    }
    /// Whether it is whole: an `ArtifactState`.
    #[getter]
    fn state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::member(py, "ArtifactState", self.state)
    }
    fn __repr__(&self) -> String {
        format!(
            "<ArtifactDecision {} {}: {}>",
            self.action,
            self.id,
            self.reasons.join("; ")
        )
    }
}

/// One invariant of the architecture contract.
#[pyclass(frozen, skip_from_py_object, module = "ssot", name = "Invariant")]
#[derive(Clone)]
pub struct Invariant {
    /// Stable id (`sts.max_wal_size`, `processes.no_archiver`, ...).
    #[pyo3(get)]
    id: String,
    status: &'static str,
    /// What was found.
    #[pyo3(get)]
    message: String,
    /// The facts it rests on.
    #[pyo3(get)]
    evidence: Vec<String>,
}

#[pymethods]
impl Invariant {
    /// An `InvariantStatus`: pass, fail, unknown or not applicable.
    #[getter]
    fn status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::member(py, "InvariantStatus", self.status)
    }
    fn __repr__(&self) -> String {
        format!("<Invariant {} {}>", self.id, self.status)
    }
}

/// One declared limitation.
#[pyclass(frozen, skip_from_py_object, module = "ssot", name = "Limitation")]
#[derive(Clone)]
pub struct Limitation {
    /// `pitr`, `wal_archive`, `offsite_backup`, ...
    #[pyo3(get)]
    name: String,
    status: &'static str,
    /// Explanation.
    #[pyo3(get)]
    message: String,
    /// Facts consulted.
    #[pyo3(get)]
    evidence: Vec<String>,
}

#[pymethods]
impl Limitation {
    /// A `LimitationStatus`: off (confirmed), on (contradicted) or unverified.
    #[getter]
    fn status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::member(py, "LimitationStatus", self.status)
    }
    fn __repr__(&self) -> String {
        format!("<Limitation {} {}>", self.name, self.status)
    }
}

/// One stage claim checked against the evidence.
#[pyclass(frozen, skip_from_py_object, module = "ssot", name = "StageCheck")]
#[derive(Clone)]
pub struct StageCheck {
    /// Stage id.
    #[pyo3(get)]
    id: String,
    /// Title.
    #[pyo3(get)]
    title: String,
    claimed: &'static str,
    /// Whether the evidence backs the claim.
    #[pyo3(get)]
    consistent: bool,
    /// Criteria met, each with the fact that decides it.
    #[pyo3(get)]
    met: Vec<String>,
    /// Criteria not met.
    #[pyo3(get)]
    missing: Vec<String>,
    /// One line.
    #[pyo3(get)]
    message: String,
}

#[pymethods]
impl StageCheck {
    /// The claimed status: a `Claim`.
    #[getter]
    fn claimed<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::member(py, "Claim", self.claimed)
    }
    fn __repr__(&self) -> String {
        format!(
            "<StageCheck {} {}: {}>",
            self.id,
            if self.consistent {
                "consistent"
            } else {
                "INCONSISTENT"
            },
            self.message
        )
    }
}

/// One section of the report.
#[pyclass(frozen, skip_from_py_object, module = "ssot", name = "Section")]
#[derive(Clone)]
pub struct Section {
    /// `wal`, `disk`, `gates`, `retention`, `backup`, ...
    #[pyo3(get)]
    name: String,
    status: &'static str,
    /// One line.
    #[pyo3(get)]
    summary: String,
    /// What to do about it, when it is not OK and ssot knows.
    #[pyo3(get)]
    action: Option<String>,
    /// Supporting lines.
    #[pyo3(get)]
    details: Vec<String>,
}

#[pymethods]
impl Section {
    /// A `Verdict`: OK, DEGRADED or DOWN.
    #[getter]
    fn status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::member(py, "Verdict", self.status)
    }
    fn __repr__(&self) -> String {
        format!("<Section {} {}: {}>", self.name, self.status, self.summary)
    }
}

// -------------------------------------------------------------- results ---

result_class! {
    /// A WAL status from the pure evaluator.
    WalReport, "WalReport", CoreWalReport;
    /// The status: a `WalStatus`.
    #[getter]
    fn status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::member(py, "WalStatus", self.0.status.as_str())
    }
    /// Every reason, worst first.
    #[getter]
    fn reasons(&self) -> Vec<WalReason> {
        wal_reasons(&self.0)
    }
    /// The evaluation time.
    #[getter]
    fn checked_at(&self) -> DateTime<Utc> {
        self.0.checked_at
    }
    /// Bytes in pg_wal; `None` when the measurement failed.
    #[getter]
    fn wal_size(&self) -> Option<u64> {
        self.0.wal_size
    }
    /// WAL segment files in pg_wal.
    #[getter]
    fn segment_count(&self) -> Option<u64> {
        self.0.segment_count
    }
    /// Used % of the volume holding pg_wal.
    #[getter]
    fn wal_used_pct(&self) -> Option<f64> {
        self.0.wal_used_pct
    }
    /// Predicted seconds until the volume reaches its error threshold.
    #[getter]
    fn seconds_to_error(&self) -> Option<f64> {
        self.0.seconds_to_error
    }
    fn __repr__(&self) -> String {
        let rules: Vec<&str> = self.0.reasons.iter().map(|r| r.rule.as_str()).collect();
        format!("<WalReport {} [{}]>", self.0.status, rules.join(", "))
    }
}

fn wal_reasons(r: &CoreWalReport) -> Vec<WalReason> {
    r.reasons
        .iter()
        .map(|x| WalReason {
            rule: x.rule.to_string(),
            level: x.level.as_str(),
            message: x.message.clone(),
            held: x.held,
        })
        .collect()
}

result_class! {
    /// A WAL check: the report as recorded in `wal.status`, with where pg_wal is.
    WalCheck, "WalCheck", ssot_core::WalCheck;
    /// The status: a `WalStatus`.
    #[getter]
    fn status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::member(py, "WalStatus", self.0.report.status.as_str())
    }
    /// The report.
    #[getter]
    fn report(&self) -> WalReport {
        WalReport(self.0.report.clone())
    }
    /// Every reason, worst first.
    #[getter]
    fn reasons(&self) -> Vec<WalReason> {
        wal_reasons(&self.0.report)
    }
    /// pg_wal as resolved (through a symlink, if any).
    #[getter]
    fn pg_wal(&self) -> Option<PathBuf> {
        self.0.pg_wal.clone()
    }
    /// Where the declared WAL settings came from.
    #[getter]
    fn settings_source(&self) -> String {
        self.0.settings_source.clone()
    }
    /// Things to know that did not change the status.
    #[getter]
    fn notes(&self) -> Vec<String> {
        self.0.notes.clone()
    }
    /// True when pg_wal could not be measured.
    #[getter]
    fn measurement_failed(&self) -> bool {
        self.0.measurement_failed()
    }
    fn __repr__(&self) -> String {
        format!("<WalCheck {}>", self.0.report.status)
    }
}

result_class! {
    /// A gate's decision, with every check.
    Decision, "Decision", CoreDecision;
    /// The operation decided: an `Operation`.
    #[getter]
    fn operation<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::member(py, "Operation", self.0.operation.as_str())
    }
    /// True only when every check passed.
    #[getter]
    fn allowed(&self) -> bool {
        self.0.allowed
    }
    /// When it was decided.
    #[getter]
    fn decided_at(&self) -> DateTime<Utc> {
        self.0.decided_at
    }
    /// Every check, failed ones first.
    #[getter]
    fn reasons(&self) -> Vec<Check> {
        self.0.reasons.iter().map(check).collect()
    }
    /// The checks that failed.
    #[getter]
    fn denials(&self) -> Vec<Check> {
        self.0.denials().map(check).collect()
    }
    /// Raises `ssot.GateDenied` (with this decision) unless allowed.
    pub(crate) fn raise_if_denied(slf: &Bound<'_, Self>) -> PyResult<()> {
        let d = &slf.get().0;
        if d.allowed {
            return Ok(());
        }
        let py = slf.py();
        let why: Vec<String> = d
            .denials()
            .map(|c| format!("{}: {}", c.rule, c.message))
            .collect();
        let message = format!("gate {} DENIED: {}", d.operation, why.join("; "));
        let cls = py.import("ssot.errors")?.getattr("GateDenied")?;
        let kwargs = pyo3::types::PyDict::new(py);
        kwargs.set_item("decision", slf)?;
        Err(PyErr::from_value(cls.call((message,), Some(&kwargs))?))
    }
    fn __bool__(&self) -> bool {
        self.0.allowed
    }
    fn __repr__(&self) -> String {
        let failed: Vec<&str> = self.0.denials().map(|c| c.rule.as_str()).collect();
        if failed.is_empty() {
            format!("<Decision {} ALLOWED>", self.0.operation)
        } else {
            format!(
                "<Decision {} DENIED: {}>",
                self.0.operation,
                failed.join(", ")
            )
        }
    }
}

fn check(c: &ssot_core::check::Check) -> Check {
    Check {
        rule: c.rule.to_string(),
        passed: c.passed,
        message: c.message.clone(),
    }
}

result_class! {
    /// A retention plan: every artifact with keep/delete and its reasons.
    RetentionPlan, "RetentionPlan", ssot_core::RetentionPlanned;
    /// The profile planned for (`default` without one).
    #[getter]
    fn profile(&self) -> String {
        self.0.profile.clone()
    }
    /// Every artifact, by group, newest first.
    #[getter]
    fn decisions(&self) -> Vec<ArtifactDecision> {
        self.items(None)
    }
    /// The artifacts kept.
    #[getter]
    fn keep(&self) -> Vec<ArtifactDecision> {
        self.items(Some(Action::Keep))
    }
    /// The artifacts to delete.
    #[getter]
    fn delete(&self) -> Vec<ArtifactDecision> {
        self.items(Some(Action::Delete))
    }
    /// Applying needs exactly this hash (or a 12-digit prefix of it).
    #[getter]
    fn plan_hash(&self) -> String {
        self.plan().plan_hash.clone()
    }
    /// Why the plan may not be applied, if it may not.
    #[getter]
    fn refused(&self) -> Option<String> {
        self.plan().refused.clone()
    }
    /// Warnings (a refusal is one of them).
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.plan().warnings.clone()
    }
    /// As of.
    #[getter]
    fn now(&self) -> DateTime<Utc> {
        self.plan().now
    }
    /// Totals: total, kept, deleted, kept_bytes, freed_bytes, verified_kept, groups.
    #[getter]
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_py(py, &self.plan().summary)
    }
    fn __repr__(&self) -> String {
        let s = &self.plan().summary;
        format!(
            "<RetentionPlan {}: keep {}, delete {}{}, hash {}>",
            self.0.profile,
            s.kept,
            s.deleted,
            if self.plan().refused.is_some() {
                " (REFUSED)"
            } else {
                ""
            },
            &self.plan().plan_hash[..12]
        )
    }
}

impl RetentionPlan {
    fn plan(&self) -> &CorePlan {
        &self.0.plan
    }

    fn items(&self, action: Option<Action>) -> Vec<ArtifactDecision> {
        self.plan()
            .decisions
            .iter()
            .filter(|d| action.is_none_or(|a| d.action == a))
            .map(|d| ArtifactDecision {
                id: d.id.clone(),
                group: d.group.to_string(),
                action: d.action.as_str(),
                reasons: d.reasons.iter().map(|r| r.to_string()).collect(),
                created_at: d.created_at,
                size_bytes: d.size_bytes,
                state: d.state.as_str(),
            })
            .collect()
    }
}

result_class! {
    /// What `apply_retention` did (or would do, in a dry run).
    ApplyOutcome, "ApplyOutcome", ssot_core::ApplyOutcome;
    /// The plan that was (or would be) applied.
    #[getter]
    fn plan(&self) -> RetentionPlan {
        RetentionPlan(ssot_core::RetentionPlanned {
            profile: self.0.profile.clone(),
            plan: self.0.plan.clone(),
        })
    }
    /// True when deletions were carried out.
    #[getter]
    fn applied(&self) -> bool {
        self.0.applied
    }
    /// True when nothing was deleted because no confirmation was given.
    #[getter]
    fn dry_run(&self) -> bool {
        self.0.dry_run
    }
    /// Why nothing was deleted, if it was refused.
    #[getter]
    fn refused(&self) -> Option<String> {
        self.0.refused.clone()
    }
    /// Ids deleted, oldest first.
    #[getter]
    fn deleted(&self) -> Vec<String> {
        self.0.deleted.clone()
    }
    /// Leftovers of an interrupted earlier run, finished first.
    #[getter]
    fn recovered(&self) -> Vec<String> {
        self.0.recovered.clone()
    }
    /// The reviewed plan hash this run continued or found already applied.
    #[getter]
    fn resumed(&self) -> Option<String> {
        self.0.resumed.clone()
    }
    fn __repr__(&self) -> String {
        let what = if self.0.dry_run {
            "dry run".to_string()
        } else if let Some(r) = &self.0.refused {
            format!("REFUSED: {r}")
        } else {
            format!("deleted {}", self.0.deleted.len())
        };
        format!("<ApplyOutcome {}: {what}>", self.0.profile)
    }
}

result_class! {
    /// The architecture contract checked.
    ContractReport, "ContractReport", CoreContractReport;
    /// The contract's status: a `ContractStatus`.
    #[getter]
    fn status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::member(py, "ContractStatus", self.0.status.as_str())
    }
    /// When it was checked.
    #[getter]
    fn checked_at(&self) -> DateTime<Utc> {
        self.0.checked_at
    }
    /// The deployment checked: `Deployment.HOST` or `Deployment.KUBERNETES`.
    #[getter]
    fn deployment<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::member(py, "Deployment", self.0.deployment.as_str())
    }
    /// Every invariant.
    #[getter]
    fn invariants(&self) -> Vec<Invariant> {
        self.0
            .invariants
            .iter()
            .map(|i| Invariant {
                id: i.id.clone(),
                status: i.status.as_str(),
                message: i.message.clone(),
                evidence: i.evidence.clone(),
            })
            .collect()
    }
    /// The ids of the failed invariants.
    #[getter]
    fn failed(&self) -> Vec<String> {
        self.0
            .with_status(InvariantStatus::Fail)
            .map(|i| i.id.clone())
            .collect()
    }
    /// Every declared limitation.
    #[getter]
    fn limitations(&self) -> Vec<Limitation> {
        self.0
            .limitations
            .iter()
            .map(|l| Limitation {
                name: l.name.clone(),
                status: l.status.as_str(),
                message: l.message.clone(),
                evidence: l.evidence.clone(),
            })
            .collect()
    }
    fn __repr__(&self) -> String {
        format!(
            "<ContractReport {}: failed [{}]>",
            self.0.status.as_str(),
            self.failed().join(", ")
        )
    }
}

result_class! {
    /// Every stage claim checked.
    StageChecks, "StageChecks", ssot_core::StageChecks;
    /// One per stage.
    #[getter]
    fn checks(&self) -> Vec<StageCheck> {
        self.0
             .0
            .iter()
            .map(|c| StageCheck {
                id: c.id.clone(),
                title: c.title.clone(),
                claimed: c.claimed.as_str(),
                consistent: c.consistent,
                met: c.met.clone(),
                missing: c.missing.clone(),
                message: c.message.clone(),
            })
            .collect()
    }
    /// True when every claim is backed.
    #[getter]
    fn consistent(&self) -> bool {
        self.0 .0.iter().all(|c| c.consistent)
    }
    fn __len__(&self) -> usize {
        self.0 .0.len()
    }
    fn __repr__(&self) -> String {
        let bad = self.0 .0.iter().filter(|c| !c.consistent).count();
        format!(
            "<StageChecks {} of {} consistent>",
            self.0 .0.len() - bad,
            self.0 .0.len()
        )
    }
}

result_class! {
    /// A backup recorded in `backup.status`.
    BackupRecorded, "BackupRecorded", ssot_core::BackupRecorded;
    /// The artifact.
    #[getter]
    fn artifact(&self) -> String {
        self.0.evidence.artifact.clone()
    }
    /// The location, resolved.
    #[getter]
    fn location(&self) -> String {
        self.0.evidence.location.clone()
    }
    /// How it ended: a `BackupResult`.
    #[getter]
    fn result<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::member(py, "BackupResult", self.0.evidence.result.as_str())
    }
    /// The size, measured.
    #[getter]
    fn size_bytes(&self) -> Option<u64> {
        self.0.evidence.size_bytes
    }
    /// Whether it is on another filesystem than PGDATA (`None`: unknown).
    #[getter]
    fn separate_from_pgdata(&self) -> Option<bool> {
        self.0.evidence.separate_from_pgdata
    }
    /// When it finished.
    #[getter]
    fn finished_at(&self) -> DateTime<Utc> {
        self.0.evidence.finished_at
    }
    /// The state file it was recorded in.
    #[getter]
    fn state_file(&self) -> String {
        self.0.state_file.clone()
    }
    /// SHA-256 of its content, measured when recorded (local backups).
    #[getter]
    fn sha256(&self) -> Option<String> {
        self.0.evidence.sha256.clone()
    }
    /// What was worth saying but did not refuse it.
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.0.evidence.warnings.clone()
    }
    fn __repr__(&self) -> String {
        format!(
            "<BackupRecorded {} {}>",
            self.0.evidence.artifact,
            self.0.evidence.result.as_str()
        )
    }
}

result_class! {
    /// What `verify` found: each recorded backup re-read against its checksum.
    VerifyOutcome, "VerifyOutcome", ssot_core::VerifyOutcome;
    /// One `(artifact, location, result, problem)` per recorded backup;
    /// `result` is a `VerifyResult`.
    #[getter]
    #[allow(clippy::type_complexity)]
    fn checks<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<Vec<(String, String, Bound<'py, PyAny>, Option<String>)>> {
        self.0
            .checks
            .iter()
            .map(|c| {
                Ok((
                    c.artifact.clone(),
                    c.location.clone(),
                    convert::member(py, "VerifyResult", c.result)?,
                    c.problem.clone(),
                ))
            })
            .collect()
    }
    /// How many failed.
    #[getter]
    fn failed(&self) -> usize {
        self.0.failed
    }
    /// Where the findings were recorded.
    #[getter]
    fn state_file(&self) -> String {
        self.0.state_file.clone()
    }
    fn __repr__(&self) -> String {
        format!(
            "<VerifyOutcome {} checked, {} failed>",
            self.0.checks.len(),
            self.0.failed
        )
    }
}

result_class! {
    /// A restore drill recorded in `restore_drill.status`.
    RestoreDrillRecorded, "RestoreDrillRecorded", ssot_core::RestoreDrillRecorded;
    /// The artifact restored.
    #[getter]
    fn artifact(&self) -> String {
        self.0.evidence.artifact.clone()
    }
    /// Whether it passed.
    #[getter]
    fn passed(&self) -> bool {
        self.0.evidence.passed
    }
    /// The `.verified` marker written, if any.
    #[getter]
    fn marked_verified(&self) -> Option<PathBuf> {
        self.0.marked_verified.clone()
    }
    fn __repr__(&self) -> String {
        format!(
            "<RestoreDrillRecorded {} {}>",
            self.0.evidence.artifact,
            self.0.result.as_str()
        )
    }
}

result_class! {
    /// A DR drill recorded in `dr_drill.status`, with measured RTO and RPO.
    DrDrillRecorded, "DrDrillRecorded", ssot_core::DrDrillRecorded;
    /// What was simulated.
    #[getter]
    fn scenario(&self) -> String {
        self.0.scenario.clone()
    }
    /// Measured RTO, seconds.
    #[getter]
    fn rto_seconds(&self) -> i64 {
        self.0.outcome.rto_seconds
    }
    /// Measured RPO, seconds.
    #[getter]
    fn rpo_seconds(&self) -> i64 {
        self.0.outcome.rpo_seconds
    }
    /// Both within target.
    #[getter]
    fn passed(&self) -> bool {
        self.0.outcome.passed
    }
    fn __repr__(&self) -> String {
        format!(
            "<DrDrillRecorded {}: {}>",
            self.0.scenario,
            if self.0.outcome.passed {
                "PASS"
            } else {
                "FAIL"
            }
        )
    }
}

result_class! {
    /// The single view of truth.
    Report, "Report", CoreReport;
    /// The worst section's status: a `Verdict`.
    #[getter]
    fn verdict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::member(py, "Verdict", self.0.verdict.as_str())
    }
    /// The first line for 3 a.m.: what is wrong and what to do
    /// (`OK: nothing to do ...` when all is well).
    #[getter]
    fn headline(&self) -> &str {
        &self.0.headline
    }
    /// When it was built.
    #[getter]
    fn generated_at(&self) -> DateTime<Utc> {
        self.0.generated_at
    }
    /// Every section, in a fixed order.
    #[getter]
    fn sections(&self) -> Vec<Section> {
        self.0
            .sections
            .iter()
            .map(|s| Section {
                name: s.name.to_string(),
                status: s.status.as_str(),
                summary: s.summary.clone(),
                action: s.action.clone(),
                details: s.details.clone(),
            })
            .collect()
    }
    /// The Prometheus text exposition (node_exporter's textfile collector).
    fn to_prometheus(&self) -> String {
        ssot_core::report::render::prometheus(&self.0)
    }
    fn __repr__(&self) -> String {
        let bad: Vec<String> = self
            .0
            .sections
            .iter()
            .filter(|s| s.status != ssot_core::report::Verdict::Ok)
            .map(|s| format!("{} {}", s.name, s.status.as_str()))
            .collect();
        format!("<Report {}: {}>", self.0.verdict.as_str(), bad.join(", "))
    }
}

result_class! {
    /// The state files as they are.
    Status, "Status", ssot_core::StatusView;
    /// The state directory.
    #[getter]
    fn state_dir(&self) -> String {
        self.0.state_dir.clone()
    }
    /// Each state file: `{"state": "present", "path": ..., "values": {...}}`, or missing, corrupt, ...
    #[getter]
    fn files<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_py(py, &self.0)?.get_item("files")
    }
    fn __repr__(&self) -> String {
        format!("<Status {}>", self.0.state_dir)
    }
}

result_class! {
    /// The effective configuration.
    Config, "Config", ssot_core::ConfigView;
    /// Where it came from.
    #[getter]
    fn origin(&self) -> String {
        self.0.origin.clone()
    }
    /// The state directory it names.
    #[getter]
    fn state_dir(&self) -> String {
        self.0.config.state_dir.clone()
    }
    /// As `ssot.toml` text.
    fn to_toml(&self) -> String {
        self.0.config.to_toml()
    }
    fn __repr__(&self) -> String {
        format!("<Config {}>", self.0.origin)
    }
}
