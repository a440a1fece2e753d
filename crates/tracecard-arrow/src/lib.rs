//! # tracecard-arrow
//!
//! TraceCards as two Arrow tables, for the tools a data team already runs (Spark,
//! Ray, DuckDB, polars, pandas) and the Parquet lake they keep:
//!
//! - **`steps`**: one row per step of every card ([`steps_schema`]);
//! - **`sessions`**: one row per card ([`sessions_schema`]).
//!
//! Money columns are `decimal128(20, 9)`: the card's exact nano-dollars, never a
//! float. Integer columns are `int64` (Spark has no unsigned types). Rows come in
//! the order of the cards given, steps in execution order, so the same cards give
//! byte-identical Parquet files.
//!
//! This crate sits beside `tracecard-core` so the core stays free of arrow-rs; the
//! CLI (`compile --format parquet`) and the Python package use it.
//!
//! ```
//! use tracecard_core::{Compiler, OutcomeStatus, Recorder, TokenUsage};
//!
//! let mut rec = Recorder::new("demo");
//! rec.llm_call("claude-sonnet-4-5", TokenUsage::from_exclusive(1200, 0, 0, 0, 80), "hi");
//! let card = Compiler::new().compile(&rec.finish(OutcomeStatus::Success, None, vec![])).unwrap();
//! let tables = tracecard_arrow::Tables::from_cards(std::slice::from_ref(&card)).unwrap();
//! assert_eq!(tables.steps.num_rows(), 1);
//! assert_eq!(tables.sessions.num_rows(), 1);
//! ```
#![forbid(unsafe_code)]

pub mod batch;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use arrow_array::builder::{BooleanBuilder, Decimal128Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use tracecard_core::{TraceCard, Usd, Verdict};

/// Precision of the money columns: any `i64` count of nano-dollars fits.
pub const MONEY_PRECISION: u8 = 20;
/// Scale of the money columns: nano-dollars, the card's unit.
pub const MONEY_SCALE: i8 = 9;
/// File name of the steps table in a `--format parquet` output directory.
pub const STEPS_FILE: &str = "steps.parquet";
/// File name of the sessions table in a `--format parquet` output directory.
pub const SESSIONS_FILE: &str = "sessions.parquet";

/// Everything that can go wrong here. [`Error::kind`] is stable.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Building a record batch failed (a bug: the builders follow the schema).
    #[error("cannot build the {table} table: {source}")]
    Arrow {
        /// `steps` or `sessions`.
        table: &'static str,
        /// The arrow-rs error.
        source: arrow_schema::ArrowError,
    },
    /// Writing or reading a Parquet file failed.
    #[error("{path}: {source}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// The parquet-rs error.
        source: parquet::errors::ParquetError,
    },
    /// A file or directory could not be created or opened.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A count on a card does not fit the table's `int64` column.
    #[error("session {session}: field {field} = {value} does not fit in int64")]
    Overflow {
        /// The card's session id.
        session: String,
        /// The column.
        field: &'static str,
        /// The value.
        value: u64,
    },
}

/// Stable classification of an [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// [`Error::Arrow`].
    Arrow,
    /// [`Error::Parquet`].
    Parquet,
    /// [`Error::Io`].
    Io,
    /// [`Error::Overflow`].
    Overflow,
}

impl ErrorKind {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Arrow => "arrow",
            ErrorKind::Parquet => "parquet",
            ErrorKind::Io => "io",
            ErrorKind::Overflow => "overflow",
        }
    }
}

impl Error {
    /// The stable kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Arrow { .. } => ErrorKind::Arrow,
            Error::Parquet { .. } => ErrorKind::Parquet,
            Error::Io { .. } => ErrorKind::Io,
            Error::Overflow { .. } => ErrorKind::Overflow,
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

fn money() -> DataType {
    DataType::Decimal128(MONEY_PRECISION, MONEY_SCALE)
}

fn utf8(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Utf8, nullable)
}

fn int(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Int64, nullable)
}

fn usd(name: &str, nullable: bool) -> Field {
    Field::new(name, money(), nullable)
}

/// Token columns, in both tables, in this order.
const TOKEN_COLUMNS: [&str; 6] = [
    "tokens_input",
    "tokens_output",
    "tokens_cache_read",
    "tokens_cache_write_5m",
    "tokens_cache_write_1h",
    "tokens_reasoning",
];

/// The schema of the `steps` table (committed as `schema/steps.arrow.txt`).
pub fn steps_schema() -> SchemaRef {
    static S: OnceLock<SchemaRef> = OnceLock::new();
    S.get_or_init(|| {
        let mut f = vec![
            utf8("session_id", false),
            utf8("source_file", true),
            int("step_id", false),
            int("parent_id", true),
            utf8("kind", false),
            utf8("tool", true),
            utf8("model", true),
            utf8("agent", true),
            utf8("status", false),
        ];
        f.extend(TOKEN_COLUMNS.iter().map(|c| int(c, false)));
        f.extend([
            usd("cost_usd", true),
            utf8("cost_source", false),
            usd("reported_cost_usd", true),
            utf8("priced_as", true),
            usd("carried_context_cost_usd", true),
            usd("wasted_cost_usd", true),
            usd("subtree_cost_usd", true),
            utf8("verdict", false),
            Field::new("redundant", DataType::Boolean, false),
            utf8("reason", true),
            utf8("evidence", true),
            utf8("confirmed_by", true),
            utf8("source_ref", true),
            int("duration_ms", true),
        ]);
        Arc::new(Schema::new(f))
    })
    .clone()
}

/// The schema of the `sessions` table (committed as `schema/sessions.arrow.txt`).
pub fn sessions_schema() -> SchemaRef {
    static S: OnceLock<SchemaRef> = OnceLock::new();
    S.get_or_init(|| {
        let mut f = vec![
            utf8("session_id", false),
            utf8("source_file", true),
            utf8("format", false),
            utf8("content", false),
            utf8("outcome", false),
            utf8("outcome_reason", true),
            int("steps", false),
            int("redundant_steps", false),
            int("unproven_steps", false),
            int("unpriced_steps", false),
            usd("total_cost_usd", false),
            usd("reported_cost_usd", true),
            usd("cost_delta_usd", true),
            usd("redundant_cost_usd", false),
            usd("wasted_cost_usd", false),
            usd("unproven_cost_usd", false),
        ];
        f.extend(TOKEN_COLUMNS.iter().map(|c| int(c, false)));
        f.extend([
            int("warnings", false),
            int("replays_used", true),
            utf8("prices", false),
            utf8("schema_version", false),
        ]);
        Arc::new(Schema::new(f))
    })
    .clone()
}

/// A schema as text, one `name: type [not null]` line per field: the form the
/// committed schema files and their test compare.
pub fn schema_text(schema: &Schema) -> String {
    let mut s = String::new();
    for f in schema.fields() {
        s.push_str(f.name());
        s.push_str(": ");
        s.push_str(&f.data_type().to_string());
        if !f.is_nullable() {
            s.push_str(" not null");
        }
        s.push('\n');
    }
    s
}

/// The `steps` and `sessions` tables of some cards.
#[derive(Debug, Clone)]
pub struct Tables {
    /// One row per step.
    pub steps: RecordBatch,
    /// One row per card.
    pub sessions: RecordBatch,
}

impl Tables {
    /// Both tables of `cards`, rows in the order given.
    pub fn from_cards(cards: &[TraceCard]) -> Result<Tables> {
        Ok(Tables {
            steps: steps_batch(cards)?,
            sessions: sessions_batch(cards)?,
        })
    }

    /// Write `steps.parquet` and `sessions.parquet` (zstd) into `dir`, creating it.
    pub fn write_parquet(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        write_parquet_file(&dir.join(STEPS_FILE), &self.steps)?;
        write_parquet_file(&dir.join(SESSIONS_FILE), &self.sessions)
    }
}

/// Write one batch to `path` as Parquet, zstd-compressed (level 3).
pub fn write_parquet_file(path: &Path, batch: &RecordBatch) -> Result<()> {
    let err = |source| Error::Parquet {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::create(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let level = ZstdLevel::try_new(3).map_err(err)?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(level))
        .build();
    let mut w = ArrowWriter::try_new(file, batch.schema(), Some(props)).map_err(err)?;
    w.write(batch).map_err(err)?;
    w.close().map_err(err)?;
    Ok(())
}

/// The base name of the card's first source file (never a directory path: cards
/// and tables carry no machine paths).
fn source_file(card: &TraceCard) -> Option<String> {
    card.source.files.first().map(|f| {
        Path::new(f)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| f.clone())
    })
}

/// A serde unit-variant name (`snake_case`), for enums without `as_str`.
fn variant<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

fn nanos(u: Usd) -> i128 {
    i128::from(u.nanos())
}

fn money_builder(cap: usize, table: &'static str) -> Result<Decimal128Builder> {
    Decimal128Builder::with_capacity(cap)
        .with_precision_and_scale(MONEY_PRECISION, MONEY_SCALE)
        .map_err(|source| Error::Arrow { table, source })
}

fn count(card: &TraceCard, field: &'static str, value: u64) -> Result<i64> {
    i64::try_from(value).map_err(|_| Error::Overflow {
        session: card.session_id.clone(),
        field,
        value,
    })
}

fn tokens(t: &tracecard_core::TokenUsage) -> [u64; 6] {
    [
        t.input,
        t.output,
        t.cache_read,
        t.cache_write_5m,
        t.cache_write_1h,
        t.reasoning,
    ]
}

/// The `steps` table of `cards` (see [`steps_schema`]).
pub fn steps_batch(cards: &[TraceCard]) -> Result<RecordBatch> {
    const T: &str = "steps";
    let n: usize = cards.iter().map(|c| c.steps.len()).sum();
    let s = || StringBuilder::with_capacity(n, n * 8);
    let (mut session, mut file, mut kind, mut tool, mut model, mut agent, mut status) =
        (s(), s(), s(), s(), s(), s(), s());
    let (mut cost_source, mut priced_as, mut verdict, mut reason, mut evidence) =
        (s(), s(), s(), s(), s());
    let (mut confirmed_by, mut source_ref) = (s(), s());
    let mut step_id = Int64Builder::with_capacity(n);
    let mut parent = Int64Builder::with_capacity(n);
    let mut duration = Int64Builder::with_capacity(n);
    let mut toks: Vec<Int64Builder> = (0..6).map(|_| Int64Builder::with_capacity(n)).collect();
    let mut cost = money_builder(n, T)?;
    let mut reported = money_builder(n, T)?;
    let mut carried = money_builder(n, T)?;
    let mut wasted = money_builder(n, T)?;
    let mut subtree = money_builder(n, T)?;
    let mut redundant = BooleanBuilder::with_capacity(n);
    for c in cards {
        let src = source_file(c);
        for st in &c.steps {
            session.append_value(&c.session_id);
            file.append_option(src.as_deref());
            step_id.append_value(i64::from(st.id.0));
            parent.append_option(st.parent.map(|p| i64::from(p.0)));
            kind.append_value(st.kind.as_str());
            tool.append_option(st.tool.as_deref());
            model.append_option(st.model.as_deref());
            agent.append_option(st.agent.as_deref());
            status.append_value(variant(&st.status));
            for (b, (v, name)) in toks
                .iter_mut()
                .zip(tokens(&st.tokens).into_iter().zip(TOKEN_COLUMNS))
            {
                b.append_value(count(c, name, v)?);
            }
            cost.append_option(st.cost_usd.map(nanos));
            cost_source.append_value(variant(&st.cost_source));
            reported.append_option(st.reported_cost_usd.map(nanos));
            priced_as.append_option(st.priced_as.as_deref());
            carried.append_option(st.carried_context_cost_usd.map(nanos));
            wasted.append_option(st.wasted_cost_usd.map(nanos));
            subtree.append_option(st.subtree_cost_usd.map(nanos));
            verdict.append_value(st.verdict.as_str());
            redundant.append_value(st.redundant);
            reason.append_option(st.reason.as_deref());
            evidence.append_option(st.evidence.map(|e| e.as_str()));
            confirmed_by.append_option(st.confirmed_by.as_deref());
            source_ref.append_option(st.source_ref.as_deref());
            duration.append_option(st.duration_ms);
        }
    }
    let mut cols: Vec<ArrayRef> = vec![
        Arc::new(session.finish()),
        Arc::new(file.finish()),
        Arc::new(step_id.finish()),
        Arc::new(parent.finish()),
        Arc::new(kind.finish()),
        Arc::new(tool.finish()),
        Arc::new(model.finish()),
        Arc::new(agent.finish()),
        Arc::new(status.finish()),
    ];
    cols.extend(toks.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    cols.extend([
        Arc::new(cost.finish()) as ArrayRef,
        Arc::new(cost_source.finish()),
        Arc::new(reported.finish()),
        Arc::new(priced_as.finish()),
        Arc::new(carried.finish()),
        Arc::new(wasted.finish()),
        Arc::new(subtree.finish()),
        Arc::new(verdict.finish()),
        Arc::new(redundant.finish()),
        Arc::new(reason.finish()),
        Arc::new(evidence.finish()),
        Arc::new(confirmed_by.finish()),
        Arc::new(source_ref.finish()),
        Arc::new(duration.finish()),
    ]);
    RecordBatch::try_new(steps_schema(), cols).map_err(|source| Error::Arrow { table: T, source })
}

/// The `sessions` table of `cards` (see [`sessions_schema`]).
pub fn sessions_batch(cards: &[TraceCard]) -> Result<RecordBatch> {
    const T: &str = "sessions";
    let n = cards.len();
    let s = || StringBuilder::with_capacity(n, n * 16);
    let (mut session, mut file, mut format, mut content, mut outcome, mut reason) =
        (s(), s(), s(), s(), s(), s());
    let (mut prices, mut version) = (s(), s());
    let i = || Int64Builder::with_capacity(n);
    let (mut steps, mut redundant, mut unproven, mut unpriced, mut warnings, mut replays) =
        (i(), i(), i(), i(), i(), i());
    let mut toks: Vec<Int64Builder> = (0..6).map(|_| i()).collect();
    let mut total = money_builder(n, T)?;
    let mut reported = money_builder(n, T)?;
    let mut delta = money_builder(n, T)?;
    let mut red_cost = money_builder(n, T)?;
    let mut wasted = money_builder(n, T)?;
    let mut unproven_cost = money_builder(n, T)?;
    for c in cards {
        session.append_value(&c.session_id);
        file.append_option(source_file(c));
        format.append_value(&c.source.format);
        content.append_value(variant(&c.source.content));
        outcome.append_value(c.outcome.as_str());
        reason.append_option(c.outcome_reason.as_deref());
        steps.append_value(count(c, "steps", c.steps.len() as u64)?);
        let red = c.steps.iter().filter(|s| s.redundant).count() as u64;
        redundant.append_value(count(c, "redundant_steps", red)?);
        let unp = c
            .steps
            .iter()
            .filter(|s| s.verdict == Verdict::Unproven)
            .count() as u64;
        unproven.append_value(count(c, "unproven_steps", unp)?);
        unpriced.append_value(count(c, "unpriced_steps", c.unpriced_steps)?);
        total.append_value(nanos(c.total_cost_usd));
        reported.append_option(c.reported_cost_usd.map(nanos));
        delta.append_option(c.cost_delta_usd.map(nanos));
        red_cost.append_value(nanos(c.redundant_cost_usd));
        wasted.append_value(nanos(c.wasted_cost_usd));
        unproven_cost.append_value(nanos(c.unproven_cost_usd));
        for (b, (v, name)) in toks
            .iter_mut()
            .zip(tokens(&c.tokens).into_iter().zip(TOKEN_COLUMNS))
        {
            b.append_value(count(c, name, v)?);
        }
        warnings.append_value(count(c, "warnings", c.warnings.len() as u64)?);
        match c.replays_used {
            Some(r) => replays.append_value(count(c, "replays_used", r)?),
            None => replays.append_null(),
        }
        prices.append_value(&c.prices);
        version.append_value(&c.schema_version);
    }
    let mut cols: Vec<ArrayRef> = vec![
        Arc::new(session.finish()),
        Arc::new(file.finish()),
        Arc::new(format.finish()),
        Arc::new(content.finish()),
        Arc::new(outcome.finish()),
        Arc::new(reason.finish()),
        Arc::new(steps.finish()),
        Arc::new(redundant.finish()),
        Arc::new(unproven.finish()),
        Arc::new(unpriced.finish()),
        Arc::new(total.finish()),
        Arc::new(reported.finish()),
        Arc::new(delta.finish()),
        Arc::new(red_cost.finish()),
        Arc::new(wasted.finish()),
        Arc::new(unproven_cost.finish()),
    ];
    cols.extend(toks.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    cols.extend([
        Arc::new(warnings.finish()) as ArrayRef,
        Arc::new(replays.finish()),
        Arc::new(prices.finish()),
        Arc::new(version.finish()),
    ]);
    RecordBatch::try_new(sessions_schema(), cols)
        .map_err(|source| Error::Arrow { table: T, source })
}
