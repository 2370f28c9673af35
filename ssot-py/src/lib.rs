//! `ssot._ssot`: the Python extension of ssot, over `ssot_core::Ssot`.
//!
//! Thin by rule: every function converts its arguments into a core request
//! (through serde, `convert`), calls the core with the GIL released, and
//! wraps the result (`results`); errors map to Python exceptions in one
//! place (`errors`). The Python package `ssot` (in `python/ssot/`)
//! re-exports this module and defines the exception classes.

mod api;
mod convert;
mod errors;
mod results;

use pyo3::prelude::*;

#[pymodule]
fn _ssot(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<api::Ssot>()?;
    m.add_class::<api::Hold>()?;
    m.add_class::<api::CommandResult>()?;
    m.add_function(wrap_pyfunction!(api::evaluate_wal, m)?)?;
    m.add_function(wrap_pyfunction!(api::evaluate_gate, m)?)?;
    m.add_function(wrap_pyfunction!(api::plan_retention, m)?)?;
    m.add_function(wrap_pyfunction!(api::gate, m)?)?;
    m.add_function(wrap_pyfunction!(api::evaluate_contract, m)?)?;
    m.add_function(wrap_pyfunction!(api::build_report, m)?)?;
    m.add_function(wrap_pyfunction!(errors::_raise_core_error, m)?)?;
    m.add_class::<results::WalReport>()?;
    m.add_class::<results::WalReason>()?;
    m.add_class::<results::WalCheck>()?;
    m.add_class::<results::Decision>()?;
    m.add_class::<results::Check>()?;
    m.add_class::<results::RetentionPlan>()?;
    m.add_class::<results::ArtifactDecision>()?;
    m.add_class::<results::ApplyOutcome>()?;
    m.add_class::<results::ContractReport>()?;
    m.add_class::<results::Invariant>()?;
    m.add_class::<results::Limitation>()?;
    m.add_class::<results::StageChecks>()?;
    m.add_class::<results::StageCheck>()?;
    m.add_class::<results::BackupRecorded>()?;
    m.add_class::<results::RestoreDrillRecorded>()?;
    m.add_class::<results::VerifyOutcome>()?;
    m.add_class::<results::DrDrillRecorded>()?;
    m.add_class::<results::Report>()?;
    m.add_class::<results::Section>()?;
    m.add_class::<results::Status>()?;
    m.add_class::<results::Config>()?;
    Ok(())
}
