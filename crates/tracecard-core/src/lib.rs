//! # tracecard-core
//!
//! Where did an agent session's money go, which steps were wasted, and which
//! reusable rules are safe to distil from that?
//!
//! - [`import`] reads real agent traces (Claude Code, OTLP/OTel GenAI, OpenInference,
//!   Langfuse, Codex, chat logs, SWE-agent, OpenHands, Inspect, OpenClaw, and the
//!   native format) into one [`Trace`] model.
//! - [`cost`] prices every step exactly from a bundled, dated price table (or a
//!   LiteLLM price file).
//! - [`analysis`] decides, by dataflow over ids, artifacts and content, which steps
//!   never reached the outcome, and confirms it by counterfactual replay.
//! - [`replay`] confirms the flags through any harness: [`CommandReplayer`] runs a
//!   command speaking the `tracecard-replay/1` protocol (Unix).
//! - [`Compiler`] turns a trace into a [`TraceCard`]: the compact YAML/JSON summary.
//!
//! ```
//! use tracecard_core::{Recorder, Compiler, TokenUsage, OutcomeStatus};
//!
//! let mut rec = Recorder::new("demo");
//! let call = rec.llm_call("claude-sonnet-4-5", TokenUsage::from_exclusive(1200, 0, 0, 0, 80), "read the config");
//! let read = rec.tool_use("read_file", r#"{"path":"cfg.toml"}"#, "port = 6432", Some(call));
//! rec.reads(read, "cfg.toml");
//! let answer = rec.llm_call("claude-sonnet-4-5", TokenUsage::from_exclusive(1300, 0, 0, 0, 20), "The port is 6432.");
//! rec.consumes(answer, read);
//! let trace = rec.finish(OutcomeStatus::Success, Some(answer), vec![]);
//! let card = Compiler::new().compile(&trace).unwrap();
//! assert_eq!(card.steps.len(), 3);
//! // 1200 × $3/M + 80 × $15/M + 1300 × $3/M + 20 × $15/M
//! assert_eq!(card.total_cost_usd.to_string(), "0.009");
//! ```
#![forbid(unsafe_code)]

// The README snippets are doc tests (run by `cargo test --doc`).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct CrateReadme;

#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct RepositoryReadme;

pub mod analysis;
pub mod card;
pub mod compiler;
pub mod cost;
mod error;
pub mod import;
pub mod input_root;
pub mod model;
pub mod money;
pub mod native;
pub mod recorder;
#[cfg(unix)]
pub mod replay;
mod warning_code;

pub use analysis::{DataflowReplayer, EvidenceLevel, Replayer, Verdict};
pub use card::{CARD_SCHEMA_VERSION, CardStep, CostSource, TraceCard};
pub use compiler::Compiler;
pub use cost::PriceTable;
pub use error::{BoxError, Error, ErrorKind, Result};
pub use import::{Format, load, load_one};
pub use input_root::InputRoot;
pub use model::{
    Content, ContentCapture, Links, OracleEvidence, Outcome, OutcomeStatus, Source, Step, StepId,
    StepKind, StepStatus, TokenUsage, Trace, Warning, WarningCode,
};
pub use money::Usd;
pub use recorder::Recorder;
#[cfg(unix)]
pub use replay::CommandReplayer;
