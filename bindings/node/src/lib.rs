//! `tracecard` for Node: the native addon of the npm package (napi-rs v3).
//!
//! Thin bindings over `tracecard-core`, one file per core module: each function
//! converts its arguments, calls the core once and maps errors in `errors.rs`.
//! Classes are immutable views (`Trace`, `TraceCard`) except `Recorder`, which
//! keeps the core recorder behind a lock. Money crosses as exact decimal strings.

mod card;
mod convert;
mod costcraft_api;
mod errors;
mod guard;
mod import;
mod model;
mod panic;
mod prices;
mod recorder;
mod replay;
mod report;

use napi_derive::napi;

/// The package version (the Cargo workspace version).
#[napi]
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The card schema version this build writes.
#[napi]
pub const CARD_SCHEMA_VERSION: &str = tracecard_core::card::CARD_SCHEMA_VERSION;

/// A dollar amount (an exact decimal string such as `card.totalCostUsd`) as a
/// `number`, rounded to the nearest double. Throws `TRACECARD_INVALID_ARG` when
/// `usd` is not a decimal amount.
#[napi(catch_unwind)]
pub fn usd_to_number(env: napi::Env, usd: String) -> napi::Result<f64> {
    usd.trim()
        .parse::<tracecard_core::Usd>()
        .map(|u| u.to_f64())
        .map_err(|e| errors::invalid_arg(&env, format!("not a dollar amount: {usd:?} ({e})")))
}
