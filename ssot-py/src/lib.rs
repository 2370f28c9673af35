//! `ssot._ssot`: the Python extension of ssot, over `ssot_core::Ssot`.
//!
//! Thin by rule: every function converts its arguments into a core request
//! (through serde, `convert`), calls the core with the GIL released, and
//! wraps the result (`results`); errors map to Python exceptions in one
//! place (`errors`). The Python package `ssot` (in `python/ssot/`)
//! re-exports this module and defines the exception classes.

mod api;
mod convert;
mod depy;
mod errors;
mod pick;
mod results;
mod schema;

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
    m.add_function(wrap_pyfunction!(results::_result_stubs, m)?)?;
    m.add_function(wrap_pyfunction!(results::_result_schemas, m)?)?;
    results::install(m)?;
    Ok(())
}
