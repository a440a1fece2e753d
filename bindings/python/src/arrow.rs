//! Arrow out of Python: `compile_many`, `compile_files`, `session_key`,
//! `TraceCard.to_arrow()` and the `Tables` / `ArrowTable` classes.
//!
//! Tables leave through the Arrow PyCapsule interface: `ArrowTable` has
//! `__arrow_c_stream__`, which hands an `ArrowArrayStream` (arrow-rs
//! `ffi_stream`) to pyarrow, polars or DuckDB without copying the buffers. The
//! tables themselves are built by `tracecard-arrow`; this file converts arguments,
//! releases the GIL around the work, and maps errors.

use std::path::PathBuf;

use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{RecordBatch, RecordBatchIterator};
use pyo3::prelude::*;
use pyo3::types::{PyAny, PyCapsule};
use tracecard_arrow::Tables;
use tracecard_core::import::ContentOptions;
use tracecard_core::{Compiler, TraceCard};

use crate::cost::prices_arg;
use crate::errors::PyErrWrap;

/// One Arrow table (a single record batch). Read it with `pyarrow.table(t)`,
/// `polars.DataFrame(t)` or `duckdb.sql("select * from t")`: they take it through
/// `__arrow_c_stream__`, without copying.
#[pyclass(name = "ArrowTable", module = "tracecard._tracecard", frozen)]
pub struct PyArrowTable {
    batch: RecordBatch,
    name: &'static str,
}

#[pymethods]
impl PyArrowTable {
    /// The Arrow PyCapsule stream protocol: a capsule named `arrow_array_stream`
    /// holding one stream of this table's batch. `requested_schema` is ignored (the
    /// protocol allows it): the schema is the committed one.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema;
        let batch = self.batch.clone();
        let reader = RecordBatchIterator::new([Ok(batch)], self.batch.schema());
        let stream = FFI_ArrowArrayStream::new(Box::new(reader));
        // the consumer reads the stream at the capsule's pointer: the boxed value
        PyCapsule::new_with_value(py, stream, c"arrow_array_stream")
    }

    /// `steps` or `sessions`.
    #[getter]
    fn name(&self) -> &'static str {
        self.name
    }

    /// Number of rows.
    #[getter]
    fn num_rows(&self) -> usize {
        self.batch.num_rows()
    }

    /// Column names, in schema order.
    #[getter]
    fn column_names(&self) -> Vec<String> {
        self.batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    fn __len__(&self) -> usize {
        self.batch.num_rows()
    }

    fn __repr__(&self) -> String {
        format!(
            "ArrowTable({}, {} rows, {} columns)",
            self.name,
            self.batch.num_rows(),
            self.batch.num_columns()
        )
    }
}

/// The `steps` and `sessions` tables of some cards.
#[pyclass(name = "Tables", module = "tracecard._tracecard", frozen)]
pub struct PyTables {
    inner: Tables,
}

impl PyTables {
    fn from_cards(py: Python<'_>, cards: &[TraceCard]) -> PyResult<PyTables> {
        py.detach(|| Tables::from_cards(cards))
            .map(|inner| PyTables { inner })
            .map_err(arrow_err)
    }
}

#[pymethods]
impl PyTables {
    /// One row per step.
    #[getter]
    fn steps(&self) -> PyArrowTable {
        PyArrowTable {
            batch: self.inner.steps.clone(),
            name: "steps",
        }
    }

    /// One row per session.
    #[getter]
    fn sessions(&self) -> PyArrowTable {
        PyArrowTable {
            batch: self.inner.sessions.clone(),
            name: "sessions",
        }
    }

    /// Write `steps.parquet` and `sessions.parquet` (zstd) into `dir`, as
    /// `tracecard compile --format parquet -o DIR` does.
    fn write_parquet(&self, py: Python<'_>, dir: PathBuf) -> PyResult<()> {
        py.detach(|| self.inner.write_parquet(&dir))
            .map_err(arrow_err)
    }

    fn __repr__(&self) -> String {
        format!(
            "Tables(steps: {} rows, sessions: {} rows)",
            self.inner.steps.num_rows(),
            self.inner.sessions.num_rows()
        )
    }
}

/// `tracecard_arrow` errors as the core's, so they reach Python as the usual
/// classes: `IoError` for files, `SerializeError` for Arrow/Parquet, and
/// `ValidationError` for a count that does not fit a column.
fn arrow_err(e: tracecard_arrow::Error) -> PyErr {
    use tracecard_arrow::{Error as A, ErrorKind as K};
    let core = match (e.kind(), e) {
        (K::Io, A::Io { path, source }) => tracecard_core::Error::io(path, source),
        (K::Overflow, e) => tracecard_core::Error::validation("table", e.to_string()),
        (K::Arrow | K::Parquet | K::Io, e) => tracecard_core::Error::serialize("arrow table", e),
    };
    PyErrWrap(core).into()
}

/// Run `f` on a rayon pool of `threads` threads (`None`: the global pool, one
/// thread per core).
fn on_pool<T: Send>(threads: Option<usize>, f: impl FnOnce() -> T + Send) -> PyResult<T> {
    match threads {
        None => Ok(f()),
        Some(0) => Err(pyo3::exceptions::PyValueError::new_err(
            "threads must be at least 1 (or None for one per core)",
        )),
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .map(|pool| pool.install(f))
            .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string())),
    }
}

/// Compile every session under `paths` (files or directories, walked as the CLI
/// walks them) in parallel, with the GIL released, and return the `steps` and
/// `sessions` tables. Rows come in path order. The first file that fails raises
/// its error (naming the file).
#[pyfunction]
#[pyo3(signature = (paths, threads=None, *, prices=None, analyze=true))]
pub fn compile_many(
    py: Python<'_>,
    paths: Vec<PathBuf>,
    threads: Option<usize>,
    prices: Option<&Bound<'_, PyAny>>,
    analyze: bool,
) -> PyResult<PyTables> {
    let table = prices_arg(py, prices)?;
    let cards = py.detach(|| {
        on_pool(threads, || {
            let c = Compiler::new().prices(table.get()).analyze(analyze);
            tracecard_arrow::batch::compile_paths(&paths, &c, content(analyze))
        })
    })?;
    let cards = cards.map_err(|e| PyErr::from(PyErrWrap(e)))?;
    PyTables::from_cards(py, &cards)
}

/// Compile in-memory files, `[(path, bytes), ...]` (the rows of Spark's
/// `binaryFile` source or Ray's `read_binary_files`), grouped into sessions as on
/// disk: a Claude Code session's `<session>/subagents/` and `<session>/otel/` files
/// go with `<session>.jsonl` when it is in the same call (see `session_key`).
/// Files no importer recognises are skipped. Nothing is read from disk.
#[pyfunction]
#[pyo3(signature = (files, threads=None, *, prices=None, analyze=true))]
pub fn compile_files(
    py: Python<'_>,
    files: Vec<(PathBuf, Vec<u8>)>,
    threads: Option<usize>,
    prices: Option<&Bound<'_, PyAny>>,
    analyze: bool,
) -> PyResult<PyTables> {
    let table = prices_arg(py, prices)?;
    let cards = py.detach(|| {
        on_pool(threads, || {
            let c = Compiler::new().prices(table.get()).analyze(analyze);
            tracecard_arrow::batch::compile_files(files, &c, content(analyze))
        })
    })?;
    let cards = cards.map_err(|e| PyErr::from(PyErrWrap(e)))?;
    PyTables::from_cards(py, &cards)
}

fn content(analyze: bool) -> ContentOptions {
    ContentOptions {
        skip: !analyze,
        max_bytes: None,
    }
}

/// The file `path` is compiled with: `<session>.jsonl` for a Claude Code
/// `<session>/subagents/*` or `<session>/otel/*` file, else `path` itself. Engine
/// jobs partition by it so a session's files reach one worker.
#[pyfunction]
pub fn session_key(path: PathBuf) -> String {
    tracecard_core::import::session_key(&path)
        .display()
        .to_string()
}

/// `card.to_arrow()`: this one card as `Tables`.
pub fn card_tables(py: Python<'_>, card: &TraceCard) -> PyResult<PyTables> {
    PyTables::from_cards(py, std::slice::from_ref(card))
}
