//! `Recorder` and `StepHandle`: record an agent session step by step (mirrors
//! `tracecard_core::Recorder`).
//!
//! ```js
//! const rec = new Recorder('demo')
//! const call = rec.llmCall('gpt-4.1-mini')
//! call.setTokens({ input: 606, output: 22 })
//! call.setOutput('read_file(config/prod.toml)')
//! call.end()
//! const t = rec.toolUse('read_file', { arguments: { path: 'config/prod.toml' }, requestedBy: call })
//! t.reads('config/prod.toml')
//! t.setResult(text)
//! t.end()
//! const trace = rec.finish({ outcome: 'success' })
//! ```
//!
//! JS has no `with` block: a step starts when its handle is created and ends with
//! `end()` (or `fail(error)`, which marks it failed and ends it).

use std::sync::{Arc, Mutex};

use napi::Env;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use tracecard_core::Recorder as CoreRecorder;
use tracecard_core::model::{
    OracleEvidence, Step, StepId, StepKind, StepStatus, TokenUsage, Trace as CoreTrace,
};

use crate::convert::outcome_from_str;
use crate::errors::{CoreResultExt, Props, RECORDER_FINISHED, invalid_arg, js_error};
use crate::model::{Trace, save};

enum State {
    Recording(Box<CoreRecorder>),
    Finished(Arc<CoreTrace>),
}

type Shared = Arc<Mutex<State>>;

fn finished_error(env: &Env) -> napi::Error {
    js_error(
        env,
        RECORDER_FINISHED,
        "the recorder is finished: start a new Recorder to record more steps".into(),
        Props::default(),
    )
}

fn with<R>(env: &Env, state: &Shared, f: impl FnOnce(&mut CoreRecorder) -> R) -> Result<R> {
    let mut g = state
        .lock()
        .map_err(|_| invalid_arg(env, "the recorder's lock is poisoned"))?;
    match &mut *g {
        State::Recording(r) => Ok(f(r)),
        State::Finished(_) => Err(finished_error(env)),
    }
}

fn on_step(env: &Env, state: &Shared, id: StepId, f: impl FnOnce(&mut Step)) -> Result<()> {
    with(env, state, |r| {
        if let Some(s) = r.step_mut(id) {
            f(s)
        }
    })
}

/// A step reference: a step id or a {@link StepHandle}.
pub type StepRef<'a> = Either<u32, &'a StepHandle>;

fn step_ref(r: &StepRef<'_>) -> StepId {
    match r {
        Either::A(i) => StepId(*i),
        Either::B(h) => h.id,
    }
}

/// Options of {@link Recorder} (constructor).
#[napi(object)]
pub struct RecorderOptions {
    /// `false` keeps only hashes and lengths of inputs and outputs (default `true`).
    pub keep_content: Option<bool>,
}

/// Options of {@link Recorder.llmCall}.
#[napi(object)]
pub struct LlmCallOptions {
    /// The new input given to the model (what this call adds to the conversation).
    pub input: Option<String>,
    /// The provider (`openai`, `anthropic`, ...).
    pub provider: Option<String>,
}

/// Options of {@link Recorder.toolUse}.
#[napi(object, object_to_js = false)]
pub struct ToolUseOptions<'a> {
    /// The tool's arguments: a string, or any JSON-able value (stored as JSON).
    #[napi(ts_type = "string | unknown")]
    pub arguments: Option<serde_json::Value>,
    /// The model call that asked for this tool use; this step then consumes it.
    #[napi(ts_type = "number | StepHandle")]
    pub requested_by: Option<StepRef<'a>>,
    /// The provider's tool-call id.
    pub tool_call_id: Option<String>,
}

/// Options of {@link Recorder.subagent}.
#[napi(object, object_to_js = false)]
pub struct SubagentOptions<'a> {
    /// The model call that spawned the sub-agent.
    #[napi(ts_type = "number | StepHandle")]
    pub requested_by: Option<StepRef<'a>>,
}

/// Options of {@link Recorder.finish}.
#[napi(object, object_to_js = false)]
pub struct FinishOptions<'a> {
    /// `success` (default), `failure` or `unknown`.
    pub outcome: Option<String>,
    /// Verifier verdicts: `{verifier, passed, message?, score?, artifacts?}`.
    #[napi(
        ts_type = "Array<{ verifier: string; passed?: boolean; message?: string; score?: number; artifacts?: string[] }>"
    )]
    pub evidence: Option<Vec<serde_json::Value>>,
    /// The step holding the final answer; by default the last successful top-level
    /// model call.
    #[napi(ts_type = "number | StepHandle")]
    pub final_step: Option<StepRef<'a>>,
}

/// Token counts for {@link StepHandle.setTokens}. Anthropic-style (exclusive) by
/// default: `input` excludes cache reads and writes. Give `inputTotal` instead of
/// `input` for OpenAI/OTel-style counts, where the input total includes cached
/// tokens.
#[napi(object)]
#[derive(Default)]
pub struct TokenCounts {
    /// Fresh input tokens (exclusive of cache reads and writes).
    pub input: Option<f64>,
    /// Every input token, cached included (OpenAI style); overrides `input`.
    pub input_total: Option<f64>,
    /// Output tokens, reasoning included.
    pub output: Option<f64>,
    /// Input tokens read from the prompt cache.
    pub cache_read: Option<f64>,
    /// Input tokens written to a 5-minute cache.
    pub cache_write_5m: Option<f64>,
    /// Input tokens written to a 1-hour cache.
    pub cache_write_1h: Option<f64>,
    /// The reasoning part of `output`.
    pub reasoning: Option<f64>,
}

fn count(env: &Env, name: &str, v: Option<f64>) -> Result<u64> {
    let v = v.unwrap_or(0.0);
    if !(v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= 9_007_199_254_740_991.0) {
        return Err(invalid_arg(
            env,
            format!("tokens.{name} must be a non-negative integer, got {v}"),
        ));
    }
    Ok(v as u64)
}

impl TokenCounts {
    pub(crate) fn usage(&self, env: &Env) -> Result<TokenUsage> {
        let output = count(env, "output", self.output)?;
        let cache_read = count(env, "cacheRead", self.cache_read)?;
        let w5 = count(env, "cacheWrite5m", self.cache_write_5m)?;
        let w1 = count(env, "cacheWrite1h", self.cache_write_1h)?;
        let reasoning = count(env, "reasoning", self.reasoning)?;
        Ok(match self.input_total {
            Some(total) => {
                let total = count(env, "inputTotal", Some(total))?;
                let mut t =
                    TokenUsage::from_inclusive(total, cache_read, w5 + w1, output, reasoning);
                // Keep the 1-hour bucket apart when both were given.
                if w1 > 0 {
                    t.cache_write_5m = w5;
                    t.cache_write_1h = w1;
                }
                t
            }
            None => {
                let input = count(env, "input", self.input)?;
                let mut t = TokenUsage::from_exclusive(input, cache_read, w5, w1, output);
                t.reasoning = reasoning;
                t
            }
        })
    }
}

/// Records one agent session step by step; `finish()` returns the {@link Trace}.
#[napi]
pub struct Recorder {
    session_id: String,
    state: Shared,
}

#[napi]
impl Recorder {
    /// A recorder for session `sessionId`.
    #[napi(catch_unwind, constructor)]
    pub fn new(env: Env, session_id: String, options: Option<RecorderOptions>) -> Result<Self> {
        crate::panic::guard(&env, || {
            let mut r = CoreRecorder::new(session_id.clone());
            if options.and_then(|o| o.keep_content) == Some(false) {
                r = r.hash_content_only();
            }
            Ok(Recorder {
                session_id,
                state: Arc::new(Mutex::new(State::Recording(Box::new(r)))),
            })
        })
    }

    pub(crate) fn snapshot(&self, env: &Env) -> Result<Arc<CoreTrace>> {
        let g = self
            .state
            .lock()
            .map_err(|_| invalid_arg(env, "the recorder's lock is poisoned"))?;
        Ok(match &*g {
            State::Recording(r) => Arc::new(r.trace().clone()),
            State::Finished(t) => Arc::clone(t),
        })
    }

    fn handle(&self, id: StepId, kind: StepKind) -> StepHandle {
        StepHandle {
            state: Arc::clone(&self.state),
            id,
            kind,
            result: Mutex::new((None, None)),
        }
    }

    /// The session id.
    #[napi(catch_unwind, getter)]
    pub fn session_id(&self) -> String {
        self.session_id.clone()
    }

    /// The trace recorded so far (a snapshot), or the finished trace.
    #[napi(catch_unwind, getter)]
    pub fn trace(&self, env: Env) -> Result<Trace> {
        Ok(Trace {
            inner: self.snapshot(&env)?,
        })
    }

    /// Whether `finish()` was called.
    #[napi(catch_unwind, getter)]
    pub fn finished(&self) -> bool {
        matches!(self.state.lock().as_deref(), Ok(State::Finished(_)))
    }

    /// Number of steps recorded.
    #[napi(catch_unwind, getter)]
    pub fn length(&self, env: Env) -> Result<u32> {
        Ok(u32::try_from(self.snapshot(&env)?.steps.len()).unwrap_or(u32::MAX))
    }

    /// Record a user message; returns its step id.
    #[napi(catch_unwind)]
    pub fn user_input(&self, env: Env, text: String) -> Result<u32> {
        with(&env, &self.state, |r| r.user_input(&text).0)
    }

    /// Start a model call. Set its tokens and response on the handle, then `end()` it.
    #[napi(catch_unwind)]
    pub fn llm_call(
        &self,
        env: Env,
        model: String,
        options: Option<LlmCallOptions>,
    ) -> Result<StepHandle> {
        let id = with(&env, &self.state, |r| {
            let id = r.begin(StepKind::LlmCall);
            if let Some(i) = options.as_ref().and_then(|o| o.input.as_deref()) {
                r.set_input(id, i);
            }
            if let Some(s) = r.step_mut(id) {
                s.model = Some(model);
                s.provider = options.and_then(|o| o.provider);
            }
            id
        })?;
        Ok(self.handle(id, StepKind::LlmCall))
    }

    /// Start a tool use. `requestedBy` is the model call that asked for it.
    #[napi(catch_unwind)]
    pub fn tool_use(
        &self,
        env: Env,
        tool: String,
        options: Option<ToolUseOptions<'_>>,
    ) -> Result<StepHandle> {
        let (args, by, call_id) = match options {
            None => (None, None, None),
            Some(o) => (
                o.arguments.map(|a| match a {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                }),
                o.requested_by.as_ref().map(step_ref),
                o.tool_call_id,
            ),
        };
        let id = with(&env, &self.state, |r| {
            let id = r.begin(StepKind::ToolUse);
            if let Some(a) = &args {
                r.set_input(id, a);
            }
            if let Some(s) = r.step_mut(id) {
                s.tool = Some(tool);
                s.links.tool_call_id = call_id;
                if let Some(b) = by {
                    s.links.consumes.push(b);
                }
            }
            id
        })?;
        Ok(self.handle(id, StepKind::ToolUse))
    }

    /// Open a sub-agent spawned by tool `tool`: steps started until its `end()` are
    /// its children. Set what it returns with `setResult`.
    #[napi(catch_unwind)]
    pub fn subagent(
        &self,
        env: Env,
        tool: String,
        agent: String,
        options: Option<SubagentOptions<'_>>,
    ) -> Result<StepHandle> {
        let by = options.and_then(|o| o.requested_by.as_ref().map(step_ref));
        let id = with(&env, &self.state, |r| r.begin_subagent(&tool, &agent, by))?;
        Ok(self.handle(id, StepKind::SubagentSpawn))
    }

    /// Step `consumer` used the output of step `producer`.
    #[napi(
        catch_unwind,
        ts_args_type = "consumer: number | StepHandle, producer: number | StepHandle"
    )]
    pub fn consumes(&self, env: Env, consumer: StepRef<'_>, producer: StepRef<'_>) -> Result<()> {
        let (c, p) = (step_ref(&consumer), step_ref(&producer));
        with(&env, &self.state, |r| r.consumes(c, p))
    }

    /// The output of `producer` was delivered into the input of `consumer` (a tool
    /// result sent to the next model call), with no proof that it was used.
    #[napi(
        catch_unwind,
        ts_args_type = "consumer: number | StepHandle, producer: number | StepHandle"
    )]
    pub fn in_context(&self, env: Env, consumer: StepRef<'_>, producer: StepRef<'_>) -> Result<()> {
        let (c, p) = (step_ref(&consumer), step_ref(&producer));
        with(&env, &self.state, |r| r.in_context(c, p))
    }

    /// Step `step` read artifact `name` (a file, a table, a URL).
    #[napi(catch_unwind, ts_args_type = "step: number | StepHandle, name: string")]
    pub fn reads(&self, env: Env, step: StepRef<'_>, name: String) -> Result<()> {
        let id = step_ref(&step);
        with(&env, &self.state, |r| r.reads(id, &name))
    }

    /// Step `step` wrote artifact `name`.
    #[napi(catch_unwind, ts_args_type = "step: number | StepHandle, name: string")]
    pub fn writes(&self, env: Env, step: StepRef<'_>, name: String) -> Result<()> {
        let id = step_ref(&step);
        with(&env, &self.state, |r| r.writes(id, &name))
    }

    /// Mark step `step` failed.
    #[napi(
        catch_unwind,
        ts_args_type = "step: number | StepHandle, message: string"
    )]
    pub fn error(&self, env: Env, step: StepRef<'_>, message: String) -> Result<()> {
        let id = step_ref(&step);
        with(&env, &self.state, |r| r.error(id, &message))
    }

    /// The cost the harness itself computed for `step` (a decimal string, or a
    /// number taken at its shortest decimal form).
    #[napi(
        catch_unwind,
        ts_args_type = "step: number | StepHandle, usd: string | number"
    )]
    pub fn reported_cost(
        &self,
        env: Env,
        step: StepRef<'_>,
        usd: Either<String, f64>,
    ) -> Result<()> {
        let id = step_ref(&step);
        let usd = usd_arg(&env, usd)?;
        with(&env, &self.state, |r| r.reported_cost(id, usd))
    }

    /// Finish the session and return its {@link Trace}.
    #[napi(catch_unwind)]
    pub fn finish(&self, env: Env, options: Option<FinishOptions<'_>>) -> Result<Trace> {
        let (outcome, evidence, final_step) = match options {
            None => (None, None, None),
            Some(o) => (o.outcome, o.evidence, o.final_step.as_ref().map(step_ref)),
        };
        let status = match outcome.as_deref() {
            None => tracecard_core::model::OutcomeStatus::Success,
            Some(s) => outcome_from_str(s).ok_or_else(|| {
                invalid_arg(
                    &env,
                    format!("outcome must be 'success', 'failure' or 'unknown', not {s:?}"),
                )
            })?,
        };
        let evidence = evidence
            .unwrap_or_default()
            .into_iter()
            .map(|e| {
                serde_json::from_value::<OracleEvidence>(e).map_err(|err| {
                    invalid_arg(
                        &env,
                        format!("evidence must look like {{verifier: string, passed: boolean, ...}}: {err}"),
                    )
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut g = self
            .state
            .lock()
            .map_err(|_| invalid_arg(&env, "the recorder's lock is poisoned"))?;
        let placeholder = State::Finished(Arc::new(CoreTrace::new("", "")));
        let rec = match std::mem::replace(&mut *g, placeholder) {
            State::Recording(r) => r,
            State::Finished(t) => {
                *g = State::Finished(t);
                return Err(finished_error(&env));
            }
        };
        let final_step = final_step.or_else(|| default_final_step(rec.trace()));
        let trace = Arc::new(rec.finish(status, final_step, evidence));
        *g = State::Finished(Arc::clone(&trace));
        Ok(Trace { inner: trace })
    }

    /// Write the trace (finished, or so far) as native JSONL to `path`.
    #[napi(catch_unwind)]
    pub fn save(&self, env: Env, path: String) -> Result<()> {
        let t = self.snapshot(&env)?;
        save(&t, &path).js(&env)
    }
}

fn usd_arg(env: &Env, v: Either<String, f64>) -> Result<tracecard_core::Usd> {
    match v {
        Either::A(s) => s
            .trim()
            .parse::<tracecard_core::Usd>()
            .map_err(|e| invalid_arg(env, format!("not a dollar amount: {s:?} ({e})"))),
        Either::B(f) => tracecard_core::Usd::from_f64(f)
            .ok_or_else(|| invalid_arg(env, "a dollar amount must be finite")),
    }
}

/// The last successful top-level model call (else the last model call).
fn default_final_step(t: &CoreTrace) -> Option<StepId> {
    let llm = |s: &&Step| s.kind == StepKind::LlmCall;
    t.steps
        .iter()
        .rev()
        .filter(llm)
        .find(|s| s.parent.is_none() && s.status == StepStatus::Ok)
        .or_else(|| t.steps.iter().rev().find(llm))
        .map(|s| s.id)
}

/// Options of {@link StepHandle.setResult}.
#[napi(object, object_to_js = false)]
pub struct ResultOptions<'a> {
    /// Sub-agents: the sub-agent step that produced the result (usually its last
    /// model call).
    #[napi(ts_type = "number | StepHandle")]
    pub from: Option<StepRef<'a>>,
}

/// A step being recorded (a model call, a tool use or a sub-agent), returned by
/// {@link Recorder.llmCall}, {@link Recorder.toolUse} and {@link Recorder.subagent}.
#[napi]
pub struct StepHandle {
    state: Shared,
    id: StepId,
    kind: StepKind,
    /// Sub-agents: (result text, step that produced it), recorded at `end()`.
    result: Mutex<(Option<String>, Option<StepId>)>,
}

#[napi]
impl StepHandle {
    /// The step id.
    #[napi(catch_unwind, getter)]
    pub fn id(&self) -> u32 {
        self.id.0
    }

    /// `llm_call`, `tool_use` or `subagent_spawn`.
    #[napi(catch_unwind, getter)]
    pub fn kind(&self) -> String {
        self.kind.as_str().to_owned()
    }

    /// What the step was given (tool arguments, the new model input).
    #[napi(catch_unwind)]
    pub fn set_input(&self, env: Env, text: String) -> Result<()> {
        let id = self.id;
        with(&env, &self.state, |r| r.set_input(id, &text))
    }

    /// What the step produced (the tool result, the model's response).
    #[napi(catch_unwind)]
    pub fn set_output(&self, env: Env, text: String) -> Result<()> {
        let id = self.id;
        with(&env, &self.state, |r| r.set_output(id, &text))
    }

    /// Tool uses: the tool's result (same as `setOutput`). Sub-agents: what the
    /// sub-agent returns to its parent, and (`options.from`) the sub-agent step that
    /// produced it; recorded at `end()`.
    #[napi(catch_unwind)]
    pub fn set_result(
        &self,
        env: Env,
        text: String,
        options: Option<ResultOptions<'_>>,
    ) -> Result<()> {
        let from = options.and_then(|o| o.from.as_ref().map(step_ref));
        if self.kind == StepKind::SubagentSpawn {
            let mut g = self
                .result
                .lock()
                .map_err(|_| invalid_arg(&env, "the step's lock is poisoned"))?;
            *g = (Some(text), from);
            return Ok(());
        }
        let id = self.id;
        with(&env, &self.state, |r| {
            r.set_output(id, &text);
            if let Some(f) = from {
                r.consumes(id, f);
            }
        })
    }

    /// Model calls: the token counts the provider reported.
    #[napi(catch_unwind)]
    pub fn set_tokens(&self, env: Env, tokens: TokenCounts) -> Result<()> {
        let t = tokens.usage(&env)?;
        on_step(&env, &self.state, self.id, |s| s.tokens = t)
    }

    /// Model calls: the model name as the provider reported it (a dated snapshot).
    #[napi(catch_unwind)]
    pub fn set_model(&self, env: Env, model: String) -> Result<()> {
        on_step(&env, &self.state, self.id, |s| s.model = Some(model))
    }

    /// Model calls: the tool-call ids this response requested.
    #[napi(catch_unwind)]
    pub fn requests(&self, env: Env, tool_call_ids: Vec<String>) -> Result<()> {
        on_step(&env, &self.state, self.id, |s| {
            s.links.requests.extend(tool_call_ids)
        })
    }

    /// This step read artifact `name`.
    #[napi(catch_unwind)]
    pub fn reads(&self, env: Env, name: String) -> Result<()> {
        let id = self.id;
        with(&env, &self.state, |r| r.reads(id, &name))
    }

    /// This step wrote artifact `name`.
    #[napi(catch_unwind)]
    pub fn writes(&self, env: Env, name: String) -> Result<()> {
        let id = self.id;
        with(&env, &self.state, |r| r.writes(id, &name))
    }

    /// This step used the output of `producer`.
    #[napi(catch_unwind, ts_args_type = "producer: number | StepHandle")]
    pub fn consumes(&self, env: Env, producer: StepRef<'_>) -> Result<()> {
        let (id, p) = (self.id, step_ref(&producer));
        with(&env, &self.state, |r| r.consumes(id, p))
    }

    /// The output of `producer` was delivered into this step's input (a tool result
    /// in the next model call's context), with no proof that it was used.
    #[napi(catch_unwind, ts_args_type = "producer: number | StepHandle")]
    pub fn in_context(&self, env: Env, producer: StepRef<'_>) -> Result<()> {
        let (id, p) = (self.id, step_ref(&producer));
        with(&env, &self.state, |r| r.in_context(id, p))
    }

    /// Mark the step failed.
    #[napi(catch_unwind)]
    pub fn error(&self, env: Env, message: String) -> Result<()> {
        let id = self.id;
        with(&env, &self.state, |r| r.error(id, &message))
    }

    /// The cost the harness computed for this step (decimal string or number).
    #[napi(catch_unwind, ts_args_type = "usd: string | number")]
    pub fn reported_cost(&self, env: Env, usd: Either<String, f64>) -> Result<()> {
        let usd = usd_arg(&env, usd)?;
        let id = self.id;
        with(&env, &self.state, |r| r.reported_cost(id, usd))
    }

    /// Set a free-form attribute on the step.
    #[napi(catch_unwind)]
    pub fn set_attribute(&self, env: Env, key: String, value: String) -> Result<()> {
        on_step(&env, &self.state, self.id, |s| {
            s.attributes.insert(key, value);
        })
    }

    /// End the step now.
    #[napi(catch_unwind)]
    pub fn end(&self, env: Env) -> Result<()> {
        let (result, from) = match self.result.lock() {
            Ok(g) => g.clone(),
            Err(_) => (None, None),
        };
        let (id, kind) = (self.id, self.kind);
        with(&env, &self.state, |r| match kind {
            StepKind::SubagentSpawn => r.end_subagent(id, result.as_deref().unwrap_or(""), from),
            _ => r.end(id),
        })
    }

    /// Mark the step failed with `error` (an `Error`'s `name: message`, or its text)
    /// and end it: what a `catch` block around the step should call.
    #[napi(catch_unwind, ts_args_type = "error: unknown")]
    pub fn fail(&self, env: Env, error: Unknown<'_>) -> Result<()> {
        let msg = error_text(&error);
        let id = self.id;
        with(&env, &self.state, |r| r.error(id, &msg))?;
        self.end(env)
    }
}

fn error_text(v: &Unknown<'_>) -> String {
    use napi::JsValue;
    let text = |u: &Unknown<'_>| {
        u.coerce_to_string()
            .and_then(|s| s.into_utf8())
            .and_then(|s| s.into_owned())
            .unwrap_or_else(|_| "error".into())
    };
    if let Ok(true) = v.is_error() {
        if let Ok(obj) = v.coerce_to_object() {
            let name: Option<String> = obj.get_named_property::<String>("name").ok();
            let message: Option<String> = obj.get_named_property::<String>("message").ok();
            if let (Some(n), Some(m)) = (name, message) {
                return format!("{n}: {m}");
            }
        }
    }
    text(v)
}
