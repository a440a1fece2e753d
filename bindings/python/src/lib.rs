//! `tracecard._tracecard`: the native module of the `tracecard` Python package.
//!
//! Thin bindings over `tracecard-core`, one file per core module: each method
//! converts its arguments, calls the core once (with the GIL released when the call
//! is heavy) and maps errors in `errors.rs`. Every class is `frozen` (immutable, or
//! behind a lock for the recorder). Python-only conveniences (the OTel exporter)
//! live in `python/tracecard/`.

mod analysis;
mod arrow;
mod card;
mod convert;
mod cost;
mod costcraft;
mod errors;
mod import;
mod model;
mod money;
mod native;
mod recorder;
mod report;

use pyo3::prelude::*;

#[pymodule(gil_used = false)]
pub mod _tracecard {
    use pyo3::prelude::*;

    #[pymodule_export]
    use crate::arrow::{PyArrowTable, PyTables, compile_files, compile_many, session_key};
    #[pymodule_export]
    use crate::card::{PyCardStep, PyTraceCard};
    #[pymodule_export]
    use crate::cost::PyPriceTable;
    #[pymodule_export]
    use crate::costcraft::{
        PyDecision, PyDistillation, PyGuard, costcraft_check_rules, costcraft_distill,
        costcraft_evaluate,
    };
    #[pymodule_export]
    use crate::import::{detect, discover, formats, load, load_all, loads, loads_all};
    #[pymodule_export]
    use crate::model::warning_codes;
    #[pymodule_export]
    use crate::model::{PyStep, PyTokenUsage, PyTrace};
    #[pymodule_export]
    use crate::recorder::{LlmCall, PyRecorder, StepHandle, Subagent, ToolUse};
    #[pymodule_export]
    use crate::report::report;

    /// Panics on purpose: what the panic guard of `tracecard/__init__.py` turns into
    /// `InternalError` (its test, `tests/test_hostile.py`). Not public API.
    #[pyfunction]
    fn _panic_for_tests(message: &str) -> PyResult<()> {
        panic!("{message}")
    }

    /// Test hook: while `on`, every constructor (`#[new]`) panics before its body,
    /// to check that each one turns the panic into `InternalError`. Not public API.
    #[pyfunction]
    fn _panic_in_constructors_for_tests(on: bool) {
        crate::errors::PANIC_IN_CONSTRUCTORS.store(on, std::sync::atomic::Ordering::Relaxed);
    }

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        super::init_module(m)
    }
}

fn init_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add(
        "CARD_SCHEMA_VERSION",
        tracecard_core::card::CARD_SCHEMA_VERSION,
    )?;
    // `WarningCode`: `typing.Literal[...]` of every code, built from the core's list.
    let codes = pyo3::types::PyTuple::new(
        py,
        tracecard_core::WarningCode::ALL.iter().map(|c| c.as_str()),
    )?;
    let literal = py.import("typing")?.getattr("Literal")?.get_item(codes)?;
    m.add("WarningCode", literal)?;
    let ex = errors::exceptions(py)?;
    for (name, class) in [
        ("TracecardError", &ex.tracecard),
        ("ParseError", &ex.parse),
        ("UnknownFormatError", &ex.unknown_format),
        ("PricingError", &ex.pricing),
        ("ValidationError", &ex.validation),
        ("ReplayError", &ex.replay),
        ("SerializeError", &ex.serialize),
        ("IoError", &ex.io),
        ("NotFoundError", &ex.not_found),
        ("MultipleSessionsError", &ex.multiple_sessions),
        ("CostcraftError", &ex.costcraft),
        ("BackfireError", &ex.backfire),
        ("InternalError", &ex.internal),
    ] {
        m.add(name, class.bind(py))?;
    }
    Ok(())
}
