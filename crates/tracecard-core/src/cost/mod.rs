//! The cost engine: a bundled, dated price table, model-name normalisation, a
//! LiteLLM-format override, and exact per-step pricing.
//!
//! Token counts reach this module already normalised (see
//! [`TokenUsage`]); per-source semantics are the importers' job.
//! A model the table does not know gives [`PriceLookup::Unknown`], which the card
//! shows as an explicit unknown cost with a warning, never as zero.

mod normalize;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::Deserialize;

pub use normalize::normalize_model;

use crate::money::{PerToken, Usd};
use crate::{Error, Result, TokenUsage};

/// Prices of one model tier, in femto-dollars per token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rates {
    /// Fresh input.
    pub input: PerToken,
    /// Output (reasoning included unless `reasoning` is set).
    pub output: PerToken,
    /// Cache reads.
    pub cache_read: PerToken,
    /// 5-minute (or untyped) cache writes.
    pub cache_write_5m: PerToken,
    /// 1-hour cache writes.
    pub cache_write_1h: PerToken,
    /// Reasoning tokens, when a model prices them apart from output.
    pub reasoning: Option<PerToken>,
}

/// The price of one model, possibly limited to a date range.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelPrice {
    /// Canonical (normalised) model id.
    pub id: String,
    /// Provider (`anthropic`, `openai`, `google`, `deepseek`, or LiteLLM's provider).
    pub provider: String,
    /// Other names this entry answers to (normalised).
    pub aliases: Vec<String>,
    /// Standard rates.
    pub rates: Rates,
    /// Long-context tier: `(prompt tokens above which it applies, rates)`.
    pub long_context: Option<(u64, Rates)>,
    /// First day (UTC) these prices apply.
    pub from: Option<Date>,
    /// First day (UTC) they no longer apply.
    pub until: Option<Date>,
    /// Which table the entry came from (`bundled 2026-11-24`, or the override file).
    pub origin: String,
}

/// The priced cost of some tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Priced {
    /// The cost, rounded to the nano-dollar.
    pub usd: Usd,
    /// The table entry used (`claude-sonnet-4-5`).
    pub model_id: String,
    /// `long_context` when the long-context tier applied.
    pub tier: Option<&'static str>,
    /// Which table the price came from.
    pub origin: String,
    /// True when the model name matched only by prefix (`gpt-4o-mini-2099` → `gpt-4o-mini`).
    pub approximate: bool,
}

/// Result of looking a model up.
#[derive(Debug, Clone, PartialEq)]
pub enum PriceLookup<'a> {
    /// Found, exactly or by normalisation.
    Exact(&'a ModelPrice),
    /// Found only by prefix; the price may be wrong.
    Prefix(&'a ModelPrice),
    /// Not in any table.
    Unknown,
}

/// A price table: the bundled one, a LiteLLM file, or an override layered on another.
#[derive(Debug, Clone, Default)]
pub struct PriceTable {
    entries: Vec<ModelPrice>,
    /// normalised name → indices of entries (several when dated)
    index: HashMap<String, Vec<usize>>,
    /// lower-cased raw name → indices (LiteLLM keys such as `bedrock/...` kept verbatim)
    raw_index: HashMap<String, Vec<usize>>,
    /// Tables consulted after this one.
    fallback: Option<Box<PriceTable>>,
    /// Description for cards (`bundled 2026-11-24`).
    name: String,
}

#[derive(Deserialize)]
struct BundledFile {
    as_of: String,
    models: Vec<BundledModel>,
}

#[derive(Deserialize)]
struct BundledRates {
    input: String,
    output: String,
    #[serde(default)]
    cache_read: Option<String>,
    #[serde(default)]
    cache_write_5m: Option<String>,
    #[serde(default)]
    cache_write_1h: Option<String>,
    #[serde(default)]
    reasoning: Option<String>,
}

#[derive(Deserialize)]
struct BundledModel {
    id: String,
    provider: String,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    from: Option<Date>,
    #[serde(default)]
    until: Option<Date>,
    #[serde(flatten)]
    rates: BundledRates,
    #[serde(default)]
    long_context: Option<BundledLong>,
}

#[derive(Deserialize)]
struct BundledLong {
    above_prompt_tokens: u64,
    #[serde(flatten)]
    rates: BundledRates,
}

fn rates_from(
    input: &str,
    output: &str,
    cache_read: Option<&str>,
    cache_write_5m: Option<&str>,
    cache_write_1h: Option<&str>,
    reasoning: Option<&str>,
    ctx: &str,
) -> std::result::Result<Rates, String> {
    let p = |field: &str, v: &str| {
        PerToken::from_per_million_str(v)
            .ok_or_else(|| format!("{ctx}: field `{field}` is not a price: {v:?} (a non-negative decimal, at most ${} per million tokens)", crate::money::MAX_PRICE_PER_MILLION_USD))
    };
    let input = p("input", input)?;
    // Providers without paid cache writes bill written tokens as input; reads default
    // to the input price (no discount) when the table gives none.
    let cache_write_5m = cache_write_5m
        .map(|v| p("cache_write_5m", v))
        .transpose()?
        .unwrap_or(input);
    Ok(Rates {
        input,
        output: p("output", output)?,
        cache_read: cache_read
            .map(|v| p("cache_read", v))
            .transpose()?
            .unwrap_or(input),
        cache_write_5m,
        cache_write_1h: cache_write_1h
            .map(|v| p("cache_write_1h", v))
            .transpose()?
            .unwrap_or(cache_write_5m),
        reasoning: reasoning.map(|v| p("reasoning", v)).transpose()?,
    })
}

const BUNDLED: &str = include_str!("../../data/prices.json");

/// Largest price file accepted (64 MiB; LiteLLM's full table is about 1 MiB).
pub const MAX_PRICE_FILE_BYTES: u64 = 64 << 20;

impl PriceTable {
    /// The bundled price table (parsed once).
    pub fn bundled() -> &'static PriceTable {
        static TABLE: OnceLock<PriceTable> = OnceLock::new();
        TABLE.get_or_init(|| PriceTable::from_bundled_json(BUNDLED, None).unwrap_or_default())
    }

    /// Date of the bundled table's prices.
    pub fn bundled_as_of() -> &'static str {
        static AS_OF: OnceLock<String> = OnceLock::new();
        AS_OF.get_or_init(|| {
            serde_json::from_str::<BundledFile>(BUNDLED)
                .map(|f| f.as_of)
                .unwrap_or_default()
        })
    }

    /// Description of the table (`bundled 2026-11-24`, or the override file).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Parse a table in tracecard's own format (see `data/prices.json`).
    pub fn from_bundled_json(text: &str, path: Option<&Path>) -> Result<PriceTable> {
        let err = |message: String| Error::Pricing {
            path: path.map(Path::to_path_buf),
            message,
            source: None,
        };
        let json_err = |e: serde_json::Error| Error::Pricing {
            path: path.map(Path::to_path_buf),
            message: format!("line {}: {e}", e.line()),
            source: Some(Box::new(e)),
        };
        let file: BundledFile = serde_json::from_str(text).map_err(json_err)?;
        let origin = match path {
            Some(p) => p.display().to_string(),
            None => format!("bundled {}", file.as_of),
        };
        let mut t = PriceTable {
            name: origin.clone(),
            ..PriceTable::default()
        };
        for m in file.models {
            let r = &m.rates;
            let rates = rates_from(
                &r.input,
                &r.output,
                r.cache_read.as_deref(),
                r.cache_write_5m.as_deref(),
                r.cache_write_1h.as_deref(),
                r.reasoning.as_deref(),
                &m.id,
            )
            .map_err(err)?;
            let long_context = match &m.long_context {
                Some(l) => Some((
                    l.above_prompt_tokens,
                    rates_from(
                        &l.rates.input,
                        &l.rates.output,
                        l.rates.cache_read.as_deref(),
                        l.rates.cache_write_5m.as_deref(),
                        l.rates.cache_write_1h.as_deref(),
                        l.rates.reasoning.as_deref(),
                        &m.id,
                    )
                    .map_err(err)?,
                )),
                None => None,
            };
            t.insert(ModelPrice {
                id: normalize_model(&m.id),
                provider: m.provider,
                aliases: m.aliases.iter().map(|a| normalize_model(a)).collect(),
                rates,
                long_context,
                from: m.from,
                until: m.until,
                origin: origin.clone(),
            });
        }
        Ok(t)
    }

    /// Load a LiteLLM `model_prices_and_context_window.json` (or a subset of it).
    ///
    /// Used fields: `input_cost_per_token`, `output_cost_per_token`,
    /// `cache_read_input_token_cost`, `cache_creation_input_token_cost`,
    /// `cache_creation_input_token_cost_above_1hr`, `output_cost_per_reasoning_token`,
    /// the `*_above_200k_tokens` (and `_above_128k_tokens`) variants, and
    /// `litellm_provider`. Entries without token prices (images, audio, `sample_spec`)
    /// are skipped.
    pub fn from_litellm_json(text: &str, path: Option<&Path>) -> Result<PriceTable> {
        let err = |message: String| Error::Pricing {
            path: path.map(Path::to_path_buf),
            message,
            source: None,
        };
        let json_err = |e: serde_json::Error| Error::Pricing {
            path: path.map(Path::to_path_buf),
            message: format!("line {}: {e}", e.line()),
            source: Some(Box::new(e)),
        };
        let root: serde_json::Value = serde_json::from_str(text).map_err(json_err)?;
        let obj = root
            .as_object()
            .ok_or_else(|| err("expected a JSON object keyed by model name".into()))?;
        let origin = path
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "litellm".into());
        let mut t = PriceTable {
            name: origin.clone(),
            ..PriceTable::default()
        };
        let mut keys: Vec<&String> = obj.keys().collect();
        keys.sort();
        for key in keys {
            if key == "sample_spec" {
                continue;
            }
            let v = &obj[key];
            let Some(entry) = v.as_object() else {
                return Err(err(format!("entry `{key}` is not an object")));
            };
            let num = |field: &str| -> std::result::Result<Option<PerToken>, String> {
                match entry.get(field) {
                    None | Some(serde_json::Value::Null) => Ok(None),
                    Some(serde_json::Value::Number(n)) => n
                        .as_f64()
                        .and_then(PerToken::from_per_token_f64)
                        .map(Some)
                        .ok_or_else(|| format!("entry `{key}` field `{field}`: not a price: {n} (at most ${} per million tokens)", crate::money::MAX_PRICE_PER_MILLION_USD)),
                    Some(other) => Err(format!(
                        "entry `{key}` field `{field}`: expected a number, got {other}"
                    )),
                }
            };
            let (Some(input), Some(output)) = (
                num("input_cost_per_token").map_err(err)?,
                num("output_cost_per_token").map_err(err)?,
            ) else {
                continue;
            };
            let cw5 = num("cache_creation_input_token_cost")
                .map_err(err)?
                .unwrap_or(input);
            let rates = Rates {
                input,
                output,
                cache_read: num("cache_read_input_token_cost")
                    .map_err(err)?
                    .unwrap_or(input),
                cache_write_5m: cw5,
                cache_write_1h: num("cache_creation_input_token_cost_above_1hr")
                    .map_err(err)?
                    .unwrap_or(cw5),
                reasoning: num("output_cost_per_reasoning_token").map_err(err)?,
            };
            let mut long_context = None;
            for (suffix, threshold) in [
                ("above_200k_tokens", 200_000u64),
                ("above_128k_tokens", 128_000),
            ] {
                if let Some(li) = num(&format!("input_cost_per_token_{suffix}")).map_err(err)? {
                    let lo = num(&format!("output_cost_per_token_{suffix}"))
                        .map_err(err)?
                        .unwrap_or(rates.output);
                    let lcw = num(&format!("cache_creation_input_token_cost_{suffix}"))
                        .map_err(err)?
                        .unwrap_or(li);
                    long_context = Some((
                        threshold,
                        Rates {
                            input: li,
                            output: lo,
                            cache_read: num(&format!("cache_read_input_token_cost_{suffix}"))
                                .map_err(err)?
                                .unwrap_or(li),
                            cache_write_5m: lcw,
                            cache_write_1h: lcw,
                            reasoning: rates.reasoning,
                        },
                    ));
                    break;
                }
            }
            let provider = entry
                .get("litellm_provider")
                .and_then(|p| p.as_str())
                .unwrap_or("unknown")
                .to_owned();
            let idx = t.entries.len();
            t.raw_index.entry(key.to_lowercase()).or_default().push(idx);
            t.insert(ModelPrice {
                id: normalize_model(key),
                provider,
                aliases: Vec::new(),
                rates,
                long_context,
                from: None,
                until: None,
                origin: origin.clone(),
            });
        }
        Ok(t)
    }

    /// Load a price file (a regular file of at most [`MAX_PRICE_FILE_BYTES`]),
    /// auto-detecting tracecard's own format (an object with a
    /// `models` array) or LiteLLM's (an object keyed by model name).
    pub fn load(path: &Path) -> Result<PriceTable> {
        let bytes = crate::import::read_regular(path, MAX_PRICE_FILE_BYTES, None)?;
        crate::import::check_json_budget(path, None, None, &bytes)?;
        let text = String::from_utf8(bytes).map_err(|e| Error::Pricing {
            path: Some(path.to_path_buf()),
            message: format!("invalid UTF-8 at byte {}", e.utf8_error().valid_up_to()),
            source: Some(Box::new(e)),
        })?;
        let is_own = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .is_some_and(|v| v.get("models").is_some_and(|m| m.is_array()));
        let t = if is_own {
            PriceTable::from_bundled_json(&text, Some(path))?
        } else {
            PriceTable::from_litellm_json(&text, Some(path))?
        };
        // A file that prices nothing (`{}`, `{"models":{}}`, only image models) would
        // be ignored without a word: say so instead.
        if t.is_empty() {
            return Err(Error::Pricing {
                path: Some(path.to_path_buf()),
                source: None,
                message: "no model with token prices in this file (expected tracecard's `{\"models\": [...]}` or LiteLLM's object keyed by model name)".into(),
            });
        }
        Ok(t)
    }

    /// `self` consulted first, then `fallback` for models `self` does not know.
    pub fn layered_over(mut self, fallback: PriceTable) -> PriceTable {
        self.name = format!("{} over {}", self.name, fallback.name);
        self.fallback = Some(Box::new(fallback));
        self
    }

    /// The bundled table with the file at `path` layered over it.
    pub fn bundled_with_override(path: &Path) -> Result<PriceTable> {
        Ok(PriceTable::load(path)?.layered_over(PriceTable::bundled().clone()))
    }

    fn insert(&mut self, m: ModelPrice) {
        let idx = self.entries.len();
        let mut names = vec![m.id.clone()];
        names.extend(m.aliases.iter().cloned());
        for n in names {
            let v = self.index.entry(n).or_default();
            if !v.contains(&idx) {
                v.push(idx);
            }
        }
        self.entries.push(m);
    }

    /// Number of entries (this layer only).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the table has no entry (this layer only).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn pick<'a>(&'a self, idxs: &[usize], at: Option<Timestamp>) -> Option<&'a ModelPrice> {
        let day = at.map(|t| t.to_zoned_datetime(jiff::tz::TimeZone::UTC).date());
        let in_range = |m: &ModelPrice| match day {
            Some(d) => m.from.is_none_or(|f| d >= f) && m.until.is_none_or(|u| d < u),
            // Undated usage: today's price (the entry with no `until`).
            None => m.until.is_none(),
        };
        idxs.iter()
            .map(|&i| &self.entries[i])
            .find(|m| in_range(m))
            .or_else(|| idxs.first().map(|&i| &self.entries[i]))
    }

    /// Look `model` up as of `at` (the step's time; `None` = today's price).
    pub fn lookup(&self, model: &str, at: Option<Timestamp>) -> PriceLookup<'_> {
        if let Some(idxs) = self.raw_index.get(&model.trim().to_lowercase()) {
            if let Some(m) = self.pick(idxs, at) {
                return PriceLookup::Exact(m);
            }
        }
        let norm = normalize_model(model);
        if let Some(m) = self.index.get(&norm).and_then(|idxs| self.pick(idxs, at)) {
            return PriceLookup::Exact(m);
        }
        if let Some(fb) = &self.fallback {
            if let r @ PriceLookup::Exact(_) = fb.lookup(model, at) {
                return r;
            }
        }
        // Longest known id that is a prefix of the name at a `-` boundary.
        let mut best: Option<(&str, &Vec<usize>)> = None;
        for (k, v) in &self.index {
            if norm.len() > k.len()
                && norm.starts_with(k.as_str())
                && norm.as_bytes()[k.len()] == b'-'
                && best.is_none_or(|(b, _)| k.len() > b.len())
            {
                best = Some((k, v));
            }
        }
        if let Some(m) = best.and_then(|(_, v)| self.pick(v, at)) {
            return PriceLookup::Prefix(m);
        }
        match &self.fallback {
            Some(fb) => fb.lookup(model, at),
            None => PriceLookup::Unknown,
        }
    }

    /// The entry `model` is priced as, as of `at` (`None` = today's price): an
    /// exact or normalised match, else the longest known id it extends at a `-`
    /// boundary. `None` when the model is unknown.
    pub fn resolve(&self, model: &str, at: Option<Timestamp>) -> Option<&ModelPrice> {
        match self.lookup(model, at) {
            PriceLookup::Exact(m) | PriceLookup::Prefix(m) => Some(m),
            PriceLookup::Unknown => None,
        }
    }

    /// Price `tokens` of `model` as of `at`. `None` when the model is unknown.
    pub fn price(&self, model: &str, tokens: &TokenUsage, at: Option<Timestamp>) -> Option<Priced> {
        let (m, approximate) = match self.lookup(model, at) {
            PriceLookup::Exact(m) => (m, false),
            PriceLookup::Prefix(m) => (m, true),
            PriceLookup::Unknown => return None,
        };
        let (rates, tier) = match m.long_context {
            Some((above, r)) if tokens.prompt_total() > above => (r, Some("long_context")),
            _ => (m.rates, None),
        };
        Some(Priced {
            usd: cost_of(&rates, tokens),
            model_id: m.id.clone(),
            tier,
            origin: m.origin.clone(),
            approximate,
        })
    }
}

/// Exact cost of `t` at `r`.
pub fn cost_of(r: &Rates, t: &TokenUsage) -> Usd {
    let (plain_out, reasoning_cost) = match r.reasoning {
        Some(p) => (
            t.output.saturating_sub(t.reasoning),
            p.cost_femtos(t.reasoning.min(t.output)),
        ),
        None => (t.output, 0),
    };
    let femtos = r.input.cost_femtos(t.input)
        + r.cache_read.cost_femtos(t.cache_read)
        + r.cache_write_5m.cost_femtos(t.cache_write_5m)
        + r.cache_write_1h.cost_femtos(t.cache_write_1h)
        + r.output.cost_femtos(plain_out)
        + reasoning_cost;
    Usd::from_femtos(femtos)
}

/// Convenience: where a price file came from, for messages.
pub fn describe(path: Option<&PathBuf>) -> String {
    path.map(|p| p.display().to_string())
        .unwrap_or_else(|| format!("bundled {}", PriceTable::bundled_as_of()))
}

#[cfg(test)]
mod tests;
