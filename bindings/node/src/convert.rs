//! Small conversions shared by the binding files: serde names, money, tokens.

use napi_derive::napi;
use serde::Serialize;
use tracecard_core::Usd;
use tracecard_core::model::{OutcomeStatus, TokenUsage};

/// The serde (snake_case) name of a unit enum value.
pub fn serde_name<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(e) => e.to_string(),
    }
}

/// Money crosses the boundary as an exact decimal string (`"0.001234"`): the core
/// is exact to the nano-dollar and a JS number would not be.
pub fn usd(v: Usd) -> String {
    v.to_string()
}

/// Optional variant of [`usd`].
pub fn opt_usd(v: Option<Usd>) -> Option<String> {
    v.map(usd)
}

/// Token counts of one step, normalised: the input buckets are disjoint and
/// `output` includes `reasoning`.
#[napi(object)]
#[derive(Clone, Copy, Default)]
pub struct Tokens {
    /// Fresh input tokens (cache reads and writes excluded).
    pub input: f64,
    /// Output tokens, reasoning included.
    pub output: f64,
    /// Input tokens read from the prompt cache.
    pub cache_read: f64,
    /// Input tokens written to a 5-minute cache (or an untyped cache write).
    pub cache_write_5m: f64,
    /// Input tokens written to a 1-hour cache.
    pub cache_write_1h: f64,
    /// The reasoning part of `output`.
    pub reasoning: f64,
    /// Every input-side token (fresh + cache reads + cache writes).
    pub prompt_total: f64,
    /// Input side plus output.
    pub total: f64,
}

fn n(v: u64) -> f64 {
    v as f64
}

impl From<&TokenUsage> for Tokens {
    fn from(t: &TokenUsage) -> Self {
        Tokens {
            input: n(t.input),
            output: n(t.output),
            cache_read: n(t.cache_read),
            cache_write_5m: n(t.cache_write_5m),
            cache_write_1h: n(t.cache_write_1h),
            reasoning: n(t.reasoning),
            prompt_total: n(t.prompt_total()),
            total: n(t.total()),
        }
    }
}

/// An outcome status from its JS name.
pub fn outcome_from_str(s: &str) -> Option<OutcomeStatus> {
    match s.trim().to_ascii_lowercase().as_str() {
        "success" | "succeeded" | "pass" | "passed" => Some(OutcomeStatus::Success),
        "failure" | "failed" | "fail" => Some(OutcomeStatus::Failure),
        "unknown" => Some(OutcomeStatus::Unknown),
        _ => None,
    }
}

/// A serde value made ready for JS: every number under a key ending in `_usd`
/// (money) becomes an exact decimal string like `card.totalCostUsd`; with
/// `camel`, object keys are camelCased (`cost_usd` → `costUsd`) for the typed
/// report objects. Key casing is the only change; values are the core's.
pub fn to_js_value<T: Serialize>(v: &T, camel: bool) -> serde_json::Result<serde_json::Value> {
    Ok(js_value(serde_json::to_value(v)?, camel, false))
}

fn js_value(v: serde_json::Value, camel: bool, money: bool) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Number(n) if money => match n.as_f64().and_then(Usd::from_f64) {
            Some(u) => Value::String(usd(u)),
            None => Value::Number(n),
        },
        Value::Array(a) => Value::Array(a.into_iter().map(|x| js_value(x, camel, money)).collect()),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, x)| {
                    let money = k.ends_with("_usd");
                    let k = if camel { camel_case(&k) } else { k };
                    (k, js_value(x, camel, money))
                })
                .collect(),
        ),
        other => other,
    }
}

/// `snake_case` → `camelCase`.
pub fn camel_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut up = false;
    for c in s.chars() {
        if c == '_' && !out.is_empty() {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}
