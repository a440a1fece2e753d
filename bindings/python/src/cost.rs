//! `PriceTable`: the bundled, dated price table or a user price file.

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyAny;
use tracecard_core::PriceTable;

use crate::errors::PyErrWrap;
use crate::model::PyTokenUsage;
use crate::money::opt_usd_to_py;

/// A price table. `PriceTable.bundled()` is the one cards use by default;
/// `PriceTable.load(path)` reads LiteLLM's `model_prices_and_context_window.json` or
/// tracecard's own format; `PriceTable.with_override(path)` layers a file over the
/// bundled table (what `compile(prices=path)` does).
#[pyclass(name = "PriceTable", module = "tracecard._tracecard", frozen)]
pub struct PyPriceTable {
    pub inner: Arc<PriceTable>,
}

#[pymethods]
impl PyPriceTable {
    /// The bundled table.
    #[staticmethod]
    fn bundled() -> Self {
        PyPriceTable {
            inner: Arc::new(PriceTable::bundled().clone()),
        }
    }

    /// Date of the bundled table's prices.
    #[staticmethod]
    fn bundled_as_of() -> &'static str {
        PriceTable::bundled_as_of()
    }

    /// Only the prices in the file at `path` (format auto-detected).
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        py.detach(|| PriceTable::load(&path))
            .map(|t| PyPriceTable { inner: Arc::new(t) })
            .map_err(|e| PyErrWrap(e).into())
    }

    /// The file at `path` layered over the bundled table.
    #[staticmethod]
    fn with_override(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        py.detach(|| PriceTable::bundled_with_override(&path))
            .map(|t| PyPriceTable { inner: Arc::new(t) })
            .map_err(|e| PyErrWrap(e).into())
    }

    /// A table from LiteLLM-format JSON text.
    #[staticmethod]
    fn from_litellm_json(text: &str) -> PyResult<Self> {
        PriceTable::from_litellm_json(text, None)
            .map(|t| PyPriceTable { inner: Arc::new(t) })
            .map_err(|e| PyErrWrap(e).into())
    }

    /// A table from tracecard-format JSON text (`{"as_of": ..., "models": [...]}`).
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        PriceTable::from_bundled_json(text, None)
            .map(|t| PyPriceTable { inner: Arc::new(t) })
            .map_err(|e| PyErrWrap(e).into())
    }

    /// Description written on cards (`bundled 2026-11-24`, a file name).
    #[getter]
    fn name(&self) -> &str {
        self.inner.name()
    }

    /// The exact cost of `tokens` on `model` (today's price), `None` when unknown.
    fn cost<'py>(
        &self,
        py: Python<'py>,
        model: &str,
        tokens: &PyTokenUsage,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        opt_usd_to_py(
            py,
            self.inner.price(model, &tokens.inner, None).map(|p| p.usd),
        )
    }

    /// The table entry `model` is priced as, `None` when unknown.
    fn priced_as(&self, model: &str) -> Option<String> {
        self.inner.resolve(model, None).map(|m| m.id.clone())
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "<PriceTable {} ({} entries)>",
            self.inner.name(),
            self.inner.len()
        )
    }
}

/// A price table argument: the bundled table (no copy) or a shared one.
pub enum Prices {
    Bundled,
    Table(Arc<PriceTable>),
}

impl Prices {
    pub fn get(&self) -> &PriceTable {
        match self {
            Prices::Bundled => PriceTable::bundled(),
            Prices::Table(t) => t,
        }
    }
}

/// The `prices=` argument of `compile`: `None` (bundled), a path (layered over the
/// bundled table, like the CLI's `--prices`), or a `PriceTable`.
pub fn prices_arg(py: Python<'_>, prices: Option<&Bound<'_, PyAny>>) -> PyResult<Prices> {
    let Some(p) = prices.filter(|p| !p.is_none()) else {
        return Ok(Prices::Bundled);
    };
    if let Ok(t) = p.cast::<PyPriceTable>() {
        return Ok(Prices::Table(Arc::clone(&t.get().inner)));
    }
    let path: PathBuf = p.extract().map_err(|_| {
        pyo3::exceptions::PyTypeError::new_err(
            "prices must be a path (str or os.PathLike) or a tracecard.PriceTable",
        )
    })?;
    py.detach(|| PriceTable::bundled_with_override(&path))
        .map(|t| Prices::Table(Arc::new(t)))
        .map_err(|e| PyErrWrap(e).into())
}
