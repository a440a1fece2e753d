//! `PriceTable`: the bundled, dated price table or a user price file, and the
//! `prices` argument of `compile`, `report` and costcraft.

use std::path::Path;
use std::sync::Arc;

use napi::Env;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use tracecard_core::PriceTable as CorePriceTable;

use crate::convert::opt_usd;
use crate::errors::CoreResultExt;
use crate::recorder::TokenCounts;

/// A price table. `PriceTable.bundled()` is what cards use by default;
/// `PriceTable.load(path)` reads LiteLLM's `model_prices_and_context_window.json` or
/// tracecard's own format; `PriceTable.withOverride(path)` layers a file over the
/// bundled table (what `compile({prices: path})` does). Pass one as `prices` to
/// {@link Trace.compile}, {@link report} or costcraft to reuse it without reading
/// the file again.
#[napi]
pub struct PriceTable {
    pub(crate) inner: Arc<CorePriceTable>,
}

impl PriceTable {
    fn new(t: CorePriceTable) -> Self {
        PriceTable { inner: Arc::new(t) }
    }
}

#[napi]
impl PriceTable {
    /// The bundled table.
    #[napi(catch_unwind, factory, configurable)]
    pub fn bundled() -> PriceTable {
        PriceTable::new(CorePriceTable::bundled().clone())
    }

    /// The date of the bundled table's prices (`2026-11-24`).
    #[napi(catch_unwind, configurable)]
    pub fn bundled_as_of() -> String {
        CorePriceTable::bundled_as_of().to_owned()
    }

    /// Only the prices in the file at `path` (LiteLLM or tracecard format,
    /// auto-detected). Throws `TRACECARD_IO` or `TRACECARD_PRICING` (with `path`).
    #[napi(catch_unwind, factory, configurable)]
    pub fn load(env: Env, path: String) -> Result<PriceTable> {
        CorePriceTable::load(Path::new(&path))
            .map(PriceTable::new)
            .js(&env)
    }

    /// The file at `path` layered over the bundled table.
    #[napi(catch_unwind, factory, configurable)]
    pub fn with_override(env: Env, path: String) -> Result<PriceTable> {
        CorePriceTable::bundled_with_override(Path::new(&path))
            .map(PriceTable::new)
            .js(&env)
    }

    /// A table from LiteLLM-format JSON text.
    #[napi(catch_unwind, factory, configurable)]
    pub fn from_litellm_json(env: Env, text: String) -> Result<PriceTable> {
        CorePriceTable::from_litellm_json(&text, None)
            .map(PriceTable::new)
            .js(&env)
    }

    /// A table from tracecard-format JSON text (`{"as_of": ..., "models": [...]}`).
    #[napi(catch_unwind, factory, configurable)]
    pub fn from_json(env: Env, text: String) -> Result<PriceTable> {
        CorePriceTable::from_bundled_json(&text, None)
            .map(PriceTable::new)
            .js(&env)
    }

    /// Description written on cards (`bundled 2026-11-24`, a file name).
    #[napi(catch_unwind, getter)]
    pub fn name(&self) -> String {
        self.inner.name().to_owned()
    }

    /// Number of entries.
    #[napi(catch_unwind, getter)]
    pub fn length(&self) -> u32 {
        u32::try_from(self.inner.len()).unwrap_or(u32::MAX)
    }

    /// The exact cost (decimal string) of `tokens` on `model` at today's price,
    /// `null` when the model is not in the table.
    #[napi(catch_unwind)]
    pub fn cost(&self, env: Env, model: String, tokens: TokenCounts) -> Result<Option<String>> {
        let usage = tokens.usage(&env)?;
        Ok(opt_usd(
            self.inner.price(&model, &usage, None).map(|p| p.usd),
        ))
    }

    /// The table entry `model` is priced as, `null` when unknown.
    #[napi(catch_unwind)]
    pub fn priced_as(&self, model: String) -> Option<String> {
        self.inner.resolve(&model, None).map(|m| m.id.clone())
    }
}

/// A `prices` argument: a path (layered over the bundled table, like the CLI's
/// `--prices`) or a {@link PriceTable}.
pub type PricesArg<'a> = Either<String, &'a PriceTable>;

/// A price table argument: the bundled table (no copy) or a shared one.
pub enum Prices {
    /// The bundled table.
    Bundled,
    /// A loaded table.
    Table(Arc<CorePriceTable>),
}

impl Prices {
    /// The table.
    pub fn get(&self) -> &CorePriceTable {
        match self {
            Prices::Bundled => CorePriceTable::bundled(),
            Prices::Table(t) => t,
        }
    }
}

/// Resolve a `prices` argument.
pub fn prices_arg(env: &Env, prices: Option<&PricesArg<'_>>) -> Result<Prices> {
    match prices {
        None => Ok(Prices::Bundled),
        Some(Either::B(t)) => Ok(Prices::Table(Arc::clone(&t.inner))),
        Some(Either::A(p)) => CorePriceTable::bundled_with_override(Path::new(p))
            .map(|t| Prices::Table(Arc::new(t)))
            .js(env),
    }
}
