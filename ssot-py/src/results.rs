//! The result classes: immutable wrappers of the core's results. Their
//! attributes are the fields of the result's JSON, served from the core's
//! JSON Schema (`schema.rs`): typed (aware UTC datetimes, the str enums of
//! `ssot.enums`, nested objects as records) and documented by the core's
//! doc comments. What a class defines here is only what the JSON does not
//! hold or holds differently (kept as the API always gave it): computed
//! attributes, methods, and a few compatible shapes. Each result also gives
//! `to_dict()`/`to_json()` (the CLI's JSON, by serde), `__str__` (the CLI's
//! text), `exit_code` and `outcome` (the core's `Outcome`).

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::Value;
use ssot_core::contract::{ContractReport as CoreContractReport, InvariantStatus};
use ssot_core::gate::Decision as CoreDecision;
use ssot_core::report::Report as CoreReport;
use ssot_core::retention::{Action, RetentionPlan as CorePlan};
use ssot_core::wal::WalReport as CoreWalReport;
use ssot_core::{exit, Outcome};

use crate::{convert, pick};

fn value_error(e: impl std::fmt::Display) -> PyErr {
    pyo3::exceptions::PyValueError::new_err(e.to_string())
}
use crate::schema::{self, Class, Model, Ty};

/// A result class: the struct wrapping the core's result, its own methods,
/// and the ones every result shares — `exit_code` and `outcome` (the core's
/// `Outcome`), `to_dict()`/`to_json()` (the CLI's JSON) and `__str__` (the
/// CLI's text).
macro_rules! result_class {
    ($(#[$doc:meta])* $name:ident, $pyname:literal, $inner:ty; $($methods:tt)*) => {
        $(#[$doc])*
        #[pyclass(frozen, module = "ssot", name = $pyname)]
        pub struct $name(pub $inner, Cache);

        impl From<$inner> for $name {
            fn from(v: $inner) -> Self {
                $name(v, Cache::default())
            }
        }

        impl Served for $name {
            fn json(&self) -> &Arc<Value> {
                // Serialized once, when the first attribute is read (the
                // result is immutable).
                self.1
                    .json
                    .get_or_init(|| Arc::new(serde_json::to_value(&self.0).unwrap_or(Value::Null)))
            }
        }

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

/// A result's JSON, made when first needed.
#[derive(Default)]
pub struct Cache {
    json: OnceLock<Arc<Value>>,
}

/// A result class whose attributes come from its JSON.
trait Served {
    /// The CLI's JSON.
    fn json(&self) -> &Arc<Value>;
}

/// The JSON at `path` of a result of class `T`.
fn result_node<T>(obj: &Bound<'_, PyAny>, path: &[String]) -> PyResult<schema::Node>
where
    T: pyo3::PyClass<Frozen = pyo3::pyclass::boolean_struct::True> + Served + Sync,
{
    let root = schema::Node::new(Arc::clone(obj.cast::<T>()?.get().json()));
    Ok(root.pick(|v| schema::at(v, path)))
}

/// A record of `name` made from a core value's JSON.
fn record_of<'py, S: serde::Serialize>(
    py: Python<'py>,
    name: &str,
    v: &S,
) -> PyResult<Bound<'py, PyAny>> {
    let json = serde_json::to_value(v)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
    schema::record_owned(py, name, json)
}

// -------------------------------------------------------------- results ---

result_class! {
    /// A WAL status from the pure evaluator.
    WalReport, "WalReport", CoreWalReport;
    fn __repr__(&self) -> String {
        let rules: Vec<&str> = self.0.reasons.iter().map(|r| r.rule.as_str()).collect();
        format!("<WalReport {} [{}]>", self.0.status, rules.join(", "))
    }
}

result_class! {
    /// A WAL check: the report as recorded in `wal.status`, with where pg_wal is.
    WalCheck, "WalCheck", ssot_core::WalCheck;
    /// The report.
    #[getter]
    fn report(&self) -> WalReport {
        WalReport::from(self.0.report.clone())
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
    /// The checks that failed.
    #[getter]
    fn denials<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        self.0.denials().map(|c| record_of(py, "Check", c)).collect()
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
        let kwargs = PyDict::new(py);
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
    fn decisions<'py>(slf: &Bound<'py, Self>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        Self::items(slf, None)
    }
    /// The artifacts kept.
    #[getter]
    fn keep<'py>(slf: &Bound<'py, Self>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        Self::items(slf, Some(Action::Keep))
    }
    /// The artifacts to delete.
    #[getter]
    fn delete<'py>(slf: &Bound<'py, Self>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        Self::items(slf, Some(Action::Delete))
    }
    // The plan's JSON holds every artifact: these few are read directly,
    // not through it (a plan of 100k artifacts).
    /// sha256 of the decisions (group, id, action), hex.
    #[getter]
    fn plan_hash(&self) -> String {
        self.plan().plan_hash.clone()
    }
    /// Set when the plan must not be applied (e.g. over `max_delete`).
    #[getter]
    fn refused(&self) -> Option<String> {
        self.plan().refused.clone()
    }
    /// Things a person should look at before applying.
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.plan().warnings.clone()
    }
    /// The evaluation time.
    #[getter]
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
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

    /// The decisions with `action` (all without one), as records read from
    /// the plan itself: a plan of 100k artifacts is not serialized to give
    /// them, and each attribute read serializes one field.
    fn items<'py>(
        slf: &Bound<'py, Self>,
        action: Option<Action>,
    ) -> PyResult<Vec<Bound<'py, PyAny>>> {
        static DECISIONS: schema::ItemReader = schema::ItemReader {
            field: |owner, i, name| {
                pick::field(RetentionPlan::decision(owner, i)?, name).map_err(value_error)
            },
            whole: |owner, i| {
                serde_json::to_value(RetentionPlan::decision(owner, i)?).map_err(value_error)
            },
        };
        let owner = slf.as_any();
        slf.get()
            .plan()
            .decisions
            .iter()
            .enumerate()
            .filter(|(_, d)| action.is_none_or(|a| d.action == a))
            .map(|(i, _)| schema::record_item(owner, "ArtifactDecision", i, &DECISIONS))
            .collect()
    }

    fn decision<'a>(
        owner: &'a Bound<'_, PyAny>,
        i: usize,
    ) -> PyResult<&'a ssot_core::retention::ArtifactDecision> {
        let plan = owner.cast::<RetentionPlan>()?.get();
        plan.plan()
            .decisions
            .get(i)
            .ok_or_else(|| pyo3::exceptions::PyIndexError::new_err(i))
    }
}

result_class! {
    /// What `apply_retention` did (or would do, in a dry run).
    ApplyOutcome, "ApplyOutcome", ssot_core::ApplyOutcome;
    /// The plan that was (or would be) applied.
    #[getter]
    fn plan(&self) -> RetentionPlan {
        RetentionPlan::from(ssot_core::RetentionPlanned {
            profile: self.0.profile.clone(),
            plan: self.0.plan.clone(),
            commands: Vec::new(),
        })
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
    /// The ids of the failed invariants.
    #[getter]
    fn failed(&self) -> Vec<String> {
        self.0
            .with_status(InvariantStatus::Fail)
            .map(|i| i.id.to_string())
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
    fn checks<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        self.0 .0.iter().map(|c| record_of(py, "StageCheck", c)).collect()
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

// ------------------------------------------------------------- classes ---

/// One result class: its schema (`None`: its JSON is not a result schema
/// ssot declares, e.g. the configuration), the nested objects whose fields
/// it also gives at the top (as it always did), and the stub lines of the
/// members it defines itself (their docstrings are read from the class).
struct Spec {
    name: &'static str,
    /// Adds the class, with its schema's attributes, to the module.
    install: Installer,
    schema: Option<fn() -> Value>,
    flatten: &'static [&'static str],
    own: &'static [&'static str],
    to_dict: &'static str,
}

fn schema_value<T: schemars_free::Schema>() -> Value {
    T::value()
}

/// The schema of a core type, as JSON (a private shim so that this crate
/// names no schemars type).
mod schemars_free {
    /// A core type with a JSON Schema.
    pub trait Schema {
        /// Its schema.
        fn value() -> serde_json::Value;
    }
    macro_rules! with_schema {
        ($($t:ty),*) => {$(
            impl Schema for $t {
                fn value() -> serde_json::Value {
                    ssot_core::schema::schema_of::<$t>().to_value()
                }
            }
        )*};
    }
    with_schema!(
        ssot_core::wal::WalReport,
        ssot_core::WalCheck,
        ssot_core::gate::Decision,
        ssot_core::RetentionPlanned,
        ssot_core::ApplyOutcome,
        ssot_core::contract::ContractReport,
        ssot_core::StageChecks,
        ssot_core::BackupRecorded,
        ssot_core::VerifyOutcome,
        ssot_core::RestoreDrillRecorded,
        ssot_core::DrDrillRecorded,
        ssot_core::report::Report
    );
}

/// Adds a result class to the module (see [`install_one`]).
type Installer = fn(&Bound<'_, PyModule>, &mut Model, &Spec) -> PyResult<Class>;

const DICT: &str = "Dict[str, Any]";

/// Every result class, in the stub's order.
const SPECS: &[Spec] = &[
    Spec { name: "WalReport", install: install_one::<WalReport>, schema: Some(schema_value::<CoreWalReport>), flatten: &[], own: &[], to_dict: DICT },
    Spec {
        name: "WalCheck",
        install: install_one::<WalCheck>,
        schema: Some(schema_value::<ssot_core::WalCheck>),
        flatten: &[],
        own: &["@property\ndef report(self) -> WalReport", "@property\ndef measurement_failed(self) -> bool"],
        to_dict: DICT,
    },
    Spec {
        name: "Decision",
        install: install_one::<Decision>,
        schema: Some(schema_value::<CoreDecision>),
        flatten: &[],
        own: &["@property\ndef denials(self) -> List[Check]", "def raise_if_denied(self) -> None", "def __bool__(self) -> bool"],
        to_dict: DICT,
    },
    Spec {
        name: "RetentionPlan",
        install: install_one::<RetentionPlan>,
        schema: Some(schema_value::<ssot_core::RetentionPlanned>),
        flatten: &[],
        own: &[
            "@property\ndef profile(self) -> str",
            "@property\ndef decisions(self) -> List[ArtifactDecision]",
            "@property\ndef keep(self) -> List[ArtifactDecision]",
            "@property\ndef delete(self) -> List[ArtifactDecision]",
            "@property\ndef plan_hash(self) -> str",
            "@property\ndef refused(self) -> Optional[str]",
            "@property\ndef warnings(self) -> List[str]",
            "@property\ndef now(self) -> datetime",
            "@property\ndef summary(self) -> Dict[str, int]",
        ],
        to_dict: DICT,
    },
    Spec {
        name: "ApplyOutcome",
        install: install_one::<ApplyOutcome>,
        schema: Some(schema_value::<ssot_core::ApplyOutcome>),
        flatten: &[],
        own: &["@property\ndef plan(self) -> RetentionPlan"],
        to_dict: DICT,
    },
    Spec {
        name: "ContractReport",
        install: install_one::<ContractReport>,
        schema: Some(schema_value::<CoreContractReport>),
        flatten: &[],
        own: &["@property\ndef failed(self) -> List[str]"],
        to_dict: DICT,
    },
    Spec {
        name: "StageChecks",
        install: install_one::<StageChecks>,
        schema: Some(schema_value::<ssot_core::StageChecks>),
        flatten: &[],
        own: &["@property\ndef checks(self) -> List[StageCheck]", "@property\ndef consistent(self) -> bool", "def __len__(self) -> int"],
        to_dict: "List[Dict[str, Any]]",
    },
    Spec {
        name: "BackupRecorded",
        install: install_one::<BackupRecorded>,
        schema: Some(schema_value::<ssot_core::BackupRecorded>),
        flatten: &["evidence"],
        own: &[],
        to_dict: DICT,
    },
    Spec {
        name: "VerifyOutcome",
        install: install_one::<VerifyOutcome>,
        schema: Some(schema_value::<ssot_core::VerifyOutcome>),
        flatten: &[],
        own: &["@property\ndef checks(\n    self,\n) -> List[Tuple[str, str, VerifyResult, Optional[str]]]"],
        to_dict: DICT,
    },
    Spec {
        name: "RestoreDrillRecorded",
        install: install_one::<RestoreDrillRecorded>,
        schema: Some(schema_value::<ssot_core::RestoreDrillRecorded>),
        flatten: &["evidence"],
        own: &[],
        to_dict: DICT,
    },
    Spec {
        name: "DrDrillRecorded",
        install: install_one::<DrDrillRecorded>,
        schema: Some(schema_value::<ssot_core::DrDrillRecorded>),
        flatten: &[],
        own: &["@property\ndef scenario(self) -> str"],
        to_dict: DICT,
    },
    Spec {
        name: "Report",
        install: install_one::<Report>,
        schema: Some(schema_value::<CoreReport>),
        flatten: &[],
        own: &["def to_prometheus(self) -> str"],
        to_dict: DICT,
    },
    Spec {
        name: "Status",
        install: install_one::<Status>,
        schema: None,
        flatten: &[],
        own: &["@property\ndef state_dir(self) -> str", "@property\ndef files(self) -> Dict[str, Dict[str, Any]]"],
        to_dict: DICT,
    },
    Spec {
        name: "Config",
        install: install_one::<Config>,
        schema: None,
        flatten: &[],
        own: &["@property\ndef origin(self) -> str", "@property\ndef state_dir(self) -> str", "def to_toml(self) -> str"],
        to_dict: DICT,
    },
];

/// The name a stub line defines (`def NAME(`).
fn member_name(stub: &str) -> &str {
    stub.split("def ")
        .nth(1)
        .and_then(|s| s.split('(').next())
        .unwrap_or("")
}

/// Gives the class `T` (named `spec.name`) one property per field of its
/// schema that it does not define itself.
fn install_one<T>(m: &Bound<'_, PyModule>, model: &mut Model, spec: &Spec) -> PyResult<Class>
where
    T: pyo3::PyClass<Frozen = pyo3::pyclass::boolean_struct::True> + Served + Sync,
{
    let py = m.py();
    let cls = py.get_type::<T>();
    let mut own: Vec<String> = spec
        .own
        .iter()
        .map(|s| member_name(s).to_string())
        .collect();
    own.extend(["exit_code", "outcome", "to_dict", "to_json"].map(String::from));
    let skip: Vec<&str> = own.iter().map(String::as_str).collect();
    let mut class = match spec.schema {
        Some(s) => model.result(&s(), &skip, spec.flatten),
        None => Class::default(),
    };
    class.name = spec.name.to_string();
    for f in &mut class.fields {
        if schema::PATHS.contains(&(spec.name, f.name.as_str())) {
            f.ty = match &f.ty {
                Ty::Opt(_) => Ty::Opt(Box::new(Ty::Path)),
                _ => Ty::Path,
            };
        }
        cls.setattr(f.name.as_str(), schema::attr(py, f, result_node::<T>)?)?;
    }
    m.add_class::<T>()?;
    Ok(class)
}

/// The stub of every result and record class (`_result_stubs()`), made by [`install`].
static STUBS: pyo3::sync::PyOnceLock<String> = pyo3::sync::PyOnceLock::new();

/// Adds every result class to the module, with the attributes of its
/// schema, then the record classes those attributes use, and renders their
/// stubs.
pub fn install(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let enums: BTreeSet<String> = py
        .import("ssot.enums")?
        .getattr("__all__")?
        .extract::<Vec<String>>()?
        .into_iter()
        .collect();
    let mut model = Model::new(enums);
    let mut classes = Vec::new();
    for spec in SPECS {
        let class = (spec.install)(m, &mut model, spec)?;
        classes.push(class);
    }
    // The records the results' own members give (not reached through a field).
    for (name, schema) in [
        (
            "ArtifactDecision",
            schema_value::<ssot_core::RetentionPlanned>(),
        ),
        ("StageCheck", schema_value::<ssot_core::StageChecks>()),
        ("Check", schema_value::<CoreDecision>()),
    ] {
        if !model.records.contains_key(name) {
            model.whole(&serde_json::json!({"$ref": format!("#/$defs/{name}"), "$defs": schema.get("$defs")}));
        }
    }
    schema::install(m, &model)?;
    let _ = STUBS.set(py, stubs(m, &model, &classes)?);
    Ok(())
}

/// The stubs of the result and record classes, as `_ssot.pyi` holds them.
fn stubs(m: &Bound<'_, PyModule>, model: &Model, classes: &[Class]) -> PyResult<String> {
    let mut out = String::new();
    for class in model.records.values() {
        out.push_str(&schema::record_stub(class));
        out.push('\n');
    }
    for (spec, class) in SPECS.iter().zip(classes) {
        let cls = m.getattr(spec.name)?;
        let doc: String = cls.getattr("__doc__")?.extract().unwrap_or_default();
        out.push_str(&format!(
            "@final\nclass {}:\n{}",
            spec.name,
            schema::doc_lines(&doc, 4)
        ));
        for f in &class.fields {
            out.push_str(&schema::property_stub(f));
        }
        for own in spec.own {
            let name = member_name(own);
            let lines: Vec<String> = own.lines().map(|l| format!("    {l}")).collect();
            if name.starts_with("__") {
                out.push_str(&format!("{}: ...\n", lines.join("\n")));
                continue;
            }
            let doc: String = cls
                .getattr(name)?
                .getattr("__doc__")?
                .extract()
                .unwrap_or_default();
            out.push_str(&format!(
                "{}:\n{}",
                lines.join("\n"),
                schema::doc_lines(&doc, 8)
            ));
        }
        out.push_str(&format!(
            "    @property\n    def exit_code(self) -> int:\n        \"\"\"The CLI's exit code for this result.\"\"\"\n    @property\n    def outcome(self) -> Outcome:\n        \"\"\"The exit code's name (`Outcome.OK`, `Outcome.WARNING`, ...).\"\"\"\n    def to_dict(self) -> {}:\n        \"\"\"The CLI's JSON, as Python values.\"\"\"\n    def to_json(self) -> str:\n        \"\"\"The CLI's JSON.\"\"\"\n\n",
            spec.to_dict
        ));
    }
    Ok(out)
}

/// The stubs of the result and record classes, rendered from the schema
/// (`ssot-py/stubgen.py` writes them into `_ssot.pyi`; a test compares).
#[pyfunction]
pub fn _result_stubs(py: Python<'_>) -> String {
    STUBS.get(py).cloned().unwrap_or_default()
}

/// The JSON Schema of each result class that has one, by class name.
#[pyfunction]
pub fn _result_schemas(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    let d = PyDict::new(py);
    for spec in SPECS {
        if let Some(s) = spec.schema {
            d.set_item(spec.name, convert::to_py(py, &s())?)?;
        }
    }
    Ok(d.into_any())
}
