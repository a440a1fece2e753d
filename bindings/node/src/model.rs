//! `Trace` and its steps: read-only views of the core model.

use std::sync::Arc;

use napi::Env;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use tracecard_core::model::{Step, StepId, Trace as CoreTrace};

use crate::card::TraceCard;
use crate::convert::{Tokens, opt_usd, serde_name};
use crate::errors::CoreResultExt;
use crate::replay::{CompileOptions, compile_async, compile_sync};

/// One step of a trace (a plain object; read-only copy).
#[napi(object)]
pub struct TraceStep {
    /// Step id: its index in `trace.steps`.
    pub id: u32,
    /// `llm_call`, `tool_use`, `subagent_spawn`, `user_input`, `compaction` or `other`.
    pub kind: String,
    /// The sub-agent step this step runs under.
    pub parent: Option<u32>,
    /// Tool name (tool uses and sub-agent spawns).
    pub tool: Option<String>,
    /// Model name (model calls).
    pub model: Option<String>,
    /// Provider, when the source says.
    pub provider: Option<String>,
    /// Sub-agent name.
    pub agent: Option<String>,
    /// Token counts.
    pub tokens: Tokens,
    /// `ok` or `error`.
    pub status: String,
    /// The error message of a failed step.
    pub error: Option<String>,
    /// The step's input text (tool arguments, new model input), if kept.
    pub input: Option<String>,
    /// The step's output text (tool result, model response), if kept.
    pub output: Option<String>,
    /// Artifacts read (files, tables, URLs).
    pub reads: Vec<String>,
    /// Artifacts written.
    pub writes: Vec<String>,
    /// Steps whose output this step demonstrably used.
    pub consumes: Vec<u32>,
    /// Steps whose output was delivered into this step's input.
    pub context: Vec<u32>,
    /// The tool-call id linking a tool use to the model call that requested it.
    pub tool_call_id: Option<String>,
    /// Start time (RFC 3339), when known.
    pub started_at: Option<String>,
    /// End time (RFC 3339), when known.
    pub ended_at: Option<String>,
    /// Duration in milliseconds, when both times are known.
    pub duration_ms: Option<i64>,
    /// The cost the source itself reported, as an exact decimal string.
    pub reported_cost_usd: Option<String>,
    /// Where the step came from in the source (a span id, a line).
    pub source_ref: Option<String>,
}

fn ids(v: &[StepId]) -> Vec<u32> {
    v.iter().map(|i| i.0).collect()
}

impl From<&Step> for TraceStep {
    fn from(s: &Step) -> Self {
        TraceStep {
            id: s.id.0,
            kind: s.kind.as_str().to_owned(),
            parent: s.parent.map(|p| p.0),
            tool: s.tool.clone(),
            model: s.model.clone(),
            provider: s.provider.clone(),
            agent: s.agent.clone(),
            tokens: Tokens::from(&s.tokens),
            status: serde_name(&s.status),
            error: s.error.clone(),
            input: s.input.as_ref().and_then(|c| c.text.clone()),
            output: s.output.as_ref().and_then(|c| c.text.clone()),
            reads: s.links.reads.clone(),
            writes: s.links.writes.clone(),
            consumes: ids(&s.links.consumes),
            context: ids(&s.links.context),
            tool_call_id: s.links.tool_call_id.clone(),
            started_at: s.started_at.map(|t| t.to_string()),
            ended_at: s.ended_at.map(|t| t.to_string()),
            duration_ms: s.duration_ms(),
            reported_cost_usd: opt_usd(s.reported_cost_usd),
            source_ref: s.source_ref.clone(),
        }
    }
}

/// One agent session (immutable). Get one from {@link load}, {@link loads} or
/// {@link Recorder.finish}; compile it into a {@link TraceCard}.
#[napi]
pub struct Trace {
    pub(crate) inner: Arc<CoreTrace>,
}

impl Trace {
    /// Wrap a core trace.
    pub fn new(t: CoreTrace) -> Self {
        Trace { inner: Arc::new(t) }
    }
}

#[napi]
impl Trace {
    /// The session id.
    #[napi(catch_unwind, getter)]
    pub fn session_id(&self) -> String {
        self.inner.session_id.clone()
    }

    /// The importer that produced the trace (`native`, `claude_code`, `otlp`, ...).
    #[napi(catch_unwind, getter)]
    pub fn format(&self) -> String {
        self.inner.source.format.clone()
    }

    /// The files the trace was read from.
    #[napi(catch_unwind, getter)]
    pub fn files(&self) -> Vec<String> {
        self.inner.source.files.clone()
    }

    /// `success`, `failure` or `unknown`.
    #[napi(catch_unwind, getter)]
    pub fn outcome(&self) -> String {
        serde_name(&self.inner.outcome.status)
    }

    /// Why the outcome is what it is, when the source says.
    #[napi(catch_unwind, getter)]
    pub fn outcome_reason(&self) -> Option<String> {
        self.inner.outcome.reason.clone()
    }

    /// The step holding the final answer.
    #[napi(catch_unwind, getter)]
    pub fn final_step(&self) -> Option<u32> {
        self.inner.outcome.final_step.map(|s| s.0)
    }

    /// Number of steps.
    #[napi(catch_unwind, getter)]
    pub fn length(&self) -> u32 {
        u32::try_from(self.inner.steps.len()).unwrap_or(u32::MAX)
    }

    /// Every step, in order (a fresh copy on each access).
    #[napi(catch_unwind, getter)]
    pub fn steps(&self) -> Vec<TraceStep> {
        self.inner.steps.iter().map(TraceStep::from).collect()
    }

    /// One step by id, `null` when there is none.
    #[napi(catch_unwind)]
    pub fn step(&self, id: u32) -> Option<TraceStep> {
        self.inner.step(StepId(id)).map(TraceStep::from)
    }

    /// Sum of every step's tokens.
    #[napi(catch_unwind, getter)]
    pub fn total_tokens(&self) -> Tokens {
        Tokens::from(&self.inner.total_tokens())
    }

    /// The cost the source itself reported for the session (exact decimal string).
    #[napi(catch_unwind, getter)]
    pub fn reported_cost_usd(&self) -> Option<String> {
        opt_usd(self.inner.reported_cost_usd)
    }

    /// Importer warnings (data, never thrown): `{code, message, step?, ...}` objects.
    #[napi(
        catch_unwind,
        getter,
        ts_return_type = "Array<Record<string, unknown>>"
    )]
    pub fn warnings(&self) -> serde_json::Value {
        serde_json::to_value(&self.inner.warnings).unwrap_or_default()
    }

    /// Compile into a {@link TraceCard} on the calling thread: price every step, give
    /// each a verdict (`needed`, `redundant`, `unproven`), and test flagged and
    /// unproven steps with `options.replayer` when given.
    ///
    /// A function replayer is called synchronously on this thread and must not
    /// return a Promise (use {@link Trace.compileAsync} for that). An exception it
    /// throws is rethrown from `compile` unchanged.
    #[napi(catch_unwind, ts_args_type = "options?: CompileOptions")]
    pub fn compile(&self, env: Env, options: Option<CompileOptions>) -> Result<TraceCard> {
        compile_sync(&env, Arc::clone(&self.inner), options.unwrap_or_default())
    }

    /// Like {@link Trace.compile}, but the analysis runs on the libuv thread pool and
    /// the result is a Promise. A function replayer may return a Promise; one that
    /// throws (or rejects) rejects this Promise with the very same value.
    #[napi(
        catch_unwind,
        ts_args_type = "options?: CompileOptions",
        ts_return_type = "Promise<TraceCard>"
    )]
    pub fn compile_async<'env>(
        &self,
        env: &'env Env,
        options: Option<CompileOptions>,
    ) -> Result<Unknown<'env>> {
        compile_async(env, Arc::clone(&self.inner), options.unwrap_or_default())
    }

    /// This trace without the steps in `removed` (ids renumbered, links dropped).
    #[napi(catch_unwind)]
    pub fn without(&self, removed: Vec<u32>) -> Trace {
        let removed: Vec<StepId> = removed.into_iter().map(StepId).collect();
        Trace::new(self.inner.without(&removed))
    }

    /// Check the structural invariants; throws `TRACECARD_VALIDATION`.
    #[napi(catch_unwind)]
    pub fn validate(&self, env: Env) -> Result<()> {
        self.inner.validate().js(&env)
    }

    /// A copy with every content text dropped (hashes and lengths kept).
    #[napi(catch_unwind)]
    pub fn redacted(&self) -> Trace {
        let mut t = (*self.inner).clone();
        t.redact();
        Trace::new(t)
    }

    /// The native format as one JSON document.
    #[napi(catch_unwind)]
    pub fn to_json(&self, env: Env) -> Result<String> {
        tracecard_core::native::to_json(&self.inner).js(&env)
    }

    /// The native format as JSONL records (what {@link Trace.save} writes).
    #[napi(catch_unwind)]
    pub fn to_jsonl(&self, env: Env) -> Result<String> {
        tracecard_core::native::to_jsonl(&self.inner).js(&env)
    }

    /// Write the trace as native JSONL to `path`.
    #[napi(catch_unwind)]
    pub fn save(&self, env: Env, path: String) -> Result<()> {
        save(&self.inner, &path).js(&env)
    }
}

/// Write `trace` as native JSONL to `path` (the core serialises; this only writes).
pub fn save(trace: &CoreTrace, path: &str) -> tracecard_core::Result<()> {
    let text = tracecard_core::native::to_jsonl(trace)?;
    std::fs::write(path, text).map_err(|e| tracecard_core::Error::io(path, e))
}
