//! Build a [`Trace`] step by step from a live agent.
//!
//! The Python and Node packages wrap this same recorder, so a trace recorded in any
//! language is the same native trace.

use jiff::Timestamp;

use crate::model::{
    Content, ContentCapture, OracleEvidence, OutcomeStatus, Step, StepId, StepKind, StepStatus,
    TokenUsage, Trace,
};
use crate::money::Usd;

/// Records one session.
///
/// Steps get ids in the order they are *started*. While a sub-agent is open
/// ([`Recorder::begin_subagent`] … [`Recorder::end_subagent`]) new steps name it as
/// their parent.
#[derive(Debug, Clone)]
pub struct Recorder {
    trace: Trace,
    keep_content: bool,
    open_subagents: Vec<StepId>,
}

impl Recorder {
    /// A recorder for session `session_id`, keeping content (needed for content
    /// evidence; cards never show it).
    pub fn new(session_id: impl Into<String>) -> Self {
        let mut trace = Trace::new(session_id, "native");
        trace.started_at = Some(Timestamp::now());
        Recorder {
            trace,
            keep_content: true,
            open_subagents: Vec::new(),
        }
    }

    /// Keep only hashes and lengths of content (privacy); the analysis then relies on
    /// ids and artifacts only.
    pub fn hash_content_only(mut self) -> Self {
        self.keep_content = false;
        self.trace.source.content = ContentCapture::Hashed;
        self
    }

    fn content(&self, text: &str) -> Content {
        if self.keep_content {
            Content::full(text)
        } else {
            Content::hashed(text)
        }
    }

    /// Start a step of `kind` now; returns its id.
    pub fn begin(&mut self, kind: StepKind) -> StepId {
        let mut s = Step::new(kind);
        s.started_at = Some(Timestamp::now());
        s.parent = self.open_subagents.last().copied();
        self.trace.push(s)
    }

    /// Mark step `id` finished now.
    pub fn end(&mut self, id: StepId) {
        if let Some(s) = self.trace.step_mut(id) {
            s.ended_at = Some(Timestamp::now());
        }
    }

    /// Mutable access to a recorded step (to set anything the helpers do not).
    pub fn step_mut(&mut self, id: StepId) -> Option<&mut Step> {
        self.trace.step_mut(id)
    }

    /// Start a model call on `model` now (finish it with the setters and
    /// [`Recorder::end`]); returns its id.
    pub fn begin_llm_call(&mut self, model: &str) -> StepId {
        let id = self.begin(StepKind::LlmCall);
        self.set_model(id, model);
        id
    }

    /// Start a call of tool `tool` now, requested by model call `requested_by`
    /// (which this step then consumes); returns its id.
    pub fn begin_tool_use(&mut self, tool: &str, requested_by: Option<StepId>) -> StepId {
        let id = self.begin(StepKind::ToolUse);
        if let Some(s) = self.trace.step_mut(id) {
            s.tool = Some(tool.to_owned());
            if let Some(r) = requested_by {
                s.links.consumes.push(r);
            }
        }
        id
    }

    /// Set the model of step `id` (as the provider reported it, e.g. a dated snapshot).
    pub fn set_model(&mut self, id: StepId, model: &str) {
        if let Some(s) = self.trace.step_mut(id) {
            s.model = Some(model.to_owned());
        }
    }

    /// Set (or clear) the provider of step `id` (`anthropic`, `openai`, ...).
    pub fn set_provider(&mut self, id: StepId, provider: Option<&str>) {
        if let Some(s) = self.trace.step_mut(id) {
            s.provider = provider.map(str::to_owned);
        }
    }

    /// Set the token counts of step `id`.
    pub fn set_tokens(&mut self, id: StepId, tokens: TokenUsage) {
        if let Some(s) = self.trace.step_mut(id) {
            s.tokens = tokens;
        }
    }

    /// Set (or clear) the tool-call id step `id` answers (the id the model's
    /// request carried).
    pub fn set_tool_call_id(&mut self, id: StepId, tool_call_id: Option<&str>) {
        if let Some(s) = self.trace.step_mut(id) {
            s.links.tool_call_id = tool_call_id.map(str::to_owned);
        }
    }

    /// Model call `id` requested the tool calls with these ids.
    pub fn requests<I, S>(&mut self, id: StepId, tool_call_ids: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        if let Some(s) = self.trace.step_mut(id) {
            s.links
                .requests
                .extend(tool_call_ids.into_iter().map(Into::into));
        }
    }

    /// Set a free-form attribute on step `id` (see [`crate::model::attr`] for the
    /// keys tracecard itself uses).
    pub fn set_attribute(&mut self, id: StepId, key: &str, value: &str) {
        if let Some(s) = self.trace.step_mut(id) {
            s.attributes.insert(key.to_owned(), value.to_owned());
        }
    }

    /// Record a user message.
    pub fn user_input(&mut self, text: &str) -> StepId {
        let id = self.begin(StepKind::UserInput);
        let c = self.content(text);
        if let Some(s) = self.trace.step_mut(id) {
            s.output = Some(c);
            s.ended_at = s.started_at;
        }
        id
    }

    /// Record a finished model call with its tokens and response text.
    pub fn llm_call(&mut self, model: &str, tokens: TokenUsage, output: &str) -> StepId {
        let id = self.begin(StepKind::LlmCall);
        let c = self.content(output);
        if let Some(s) = self.trace.step_mut(id) {
            s.model = Some(model.to_owned());
            s.tokens = tokens;
            s.output = Some(c);
            s.ended_at = Some(Timestamp::now());
        }
        id
    }

    /// Record a finished tool call: name, arguments, result, and the model call that
    /// requested it (which this step then consumes).
    pub fn tool_use(
        &mut self,
        tool: &str,
        arguments: &str,
        result: &str,
        requested_by: Option<StepId>,
    ) -> StepId {
        let id = self.begin(StepKind::ToolUse);
        let (i, o) = (self.content(arguments), self.content(result));
        if let Some(s) = self.trace.step_mut(id) {
            s.tool = Some(tool.to_owned());
            s.input = Some(i);
            s.output = Some(o);
            s.ended_at = Some(Timestamp::now());
            if let Some(r) = requested_by {
                s.links.consumes.push(r);
            }
        }
        id
    }

    /// Open a sub-agent spawned by tool `tool` (e.g. `Task`); following steps are
    /// its children until [`Recorder::end_subagent`].
    pub fn begin_subagent(
        &mut self,
        tool: &str,
        agent: &str,
        requested_by: Option<StepId>,
    ) -> StepId {
        let id = self.begin(StepKind::SubagentSpawn);
        if let Some(s) = self.trace.step_mut(id) {
            s.tool = Some(tool.to_owned());
            s.agent = Some(agent.to_owned());
            if let Some(r) = requested_by {
                s.links.consumes.push(r);
            }
        }
        self.open_subagents.push(id);
        id
    }

    /// Close sub-agent `id` with the result it returned to its parent. `result_from`
    /// is the sub-agent step that produced the result (usually its last model call).
    pub fn end_subagent(&mut self, id: StepId, result: &str, result_from: Option<StepId>) {
        self.open_subagents.retain(|o| *o != id);
        let c = self.content(result);
        if let Some(s) = self.trace.step_mut(id) {
            s.output = Some(c);
            s.ended_at = Some(Timestamp::now());
            if let Some(r) = result_from {
                s.links.consumes.push(r);
            }
        }
    }

    /// Whether content text is kept in full (`false` after
    /// [`Recorder::hash_content_only`]).
    pub fn keeps_content(&self) -> bool {
        self.keep_content
    }

    /// Set what step `id` was given (tool arguments, the new input of a model call),
    /// kept in full or hashed as the recorder is configured. For recorders that
    /// fill a step while it runs (the bindings' context managers).
    pub fn set_input(&mut self, id: StepId, text: &str) {
        let c = self.content(text);
        if let Some(s) = self.trace.step_mut(id) {
            s.input = Some(c);
        }
    }

    /// Set what step `id` produced (the tool result, the model's response).
    pub fn set_output(&mut self, id: StepId, text: &str) {
        let c = self.content(text);
        if let Some(s) = self.trace.step_mut(id) {
            s.output = Some(c);
        }
    }

    /// Step `consumer` used the output of step `producer` (explicit reference).
    pub fn consumes(&mut self, consumer: StepId, producer: StepId) {
        if let Some(s) = self.trace.step_mut(consumer) {
            if !s.links.consumes.contains(&producer) {
                s.links.consumes.push(producer);
            }
        }
    }

    /// The output of step `producer` was delivered into the input of step `consumer`
    /// (a tool result sent to the next model call) without proof that it was used;
    /// the analysis looks for content evidence on these edges.
    pub fn in_context(&mut self, consumer: StepId, producer: StepId) {
        if let Some(s) = self.trace.step_mut(consumer)
            && !s.links.context.contains(&producer)
        {
            s.links.context.push(producer);
        }
    }

    /// Step `id` read artifact `name` (a file path, a table, a URL).
    pub fn reads(&mut self, id: StepId, name: &str) {
        if let Some(s) = self.trace.step_mut(id) {
            s.links.reads.push(name.to_owned());
        }
    }

    /// Step `id` wrote artifact `name`.
    pub fn writes(&mut self, id: StepId, name: &str) {
        if let Some(s) = self.trace.step_mut(id) {
            s.links.writes.push(name.to_owned());
        }
    }

    /// Mark step `id` failed with `message`.
    pub fn error(&mut self, id: StepId, message: &str) {
        if let Some(s) = self.trace.step_mut(id) {
            s.status = StepStatus::Error;
            s.error = Some(message.to_owned());
        }
    }

    /// Mark step `id` denied with `reason`: a guard, hook or permission rule refused
    /// the call, so it never ran (status [`StepStatus::Denied`]; the reason is its
    /// `error`). The agent usually got `reason` as the tool's error result.
    pub fn deny(&mut self, id: StepId, reason: &str) {
        if let Some(s) = self.trace.step_mut(id) {
            s.status = StepStatus::Denied;
            s.error = Some(reason.to_owned());
        }
    }

    /// Set session metadata `key` to `value` (e.g. `costcraft.active_rules`: the
    /// rules a guard enforced during the run).
    pub fn set_metadata(&mut self, key: &str, value: &str) {
        self.trace.metadata.insert(key.to_owned(), value.to_owned());
    }

    /// Set the cost the harness itself computed for step `id`.
    pub fn reported_cost(&mut self, id: StepId, usd: Usd) {
        if let Some(s) = self.trace.step_mut(id) {
            s.reported_cost_usd = Some(usd);
        }
    }

    /// The trace so far.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// The step [`Recorder::finish`] takes as holding the final answer when none is
    /// given: the last successful top-level model call, else the last model call.
    pub fn default_final_step(&self) -> Option<StepId> {
        let t = &self.trace;
        let llm = |s: &&Step| s.kind == StepKind::LlmCall;
        t.steps
            .iter()
            .rev()
            .filter(llm)
            .find(|s| s.parent.is_none() && s.status == StepStatus::Ok)
            .or_else(|| t.steps.iter().rev().find(llm))
            .map(|s| s.id)
    }

    /// Finish: set the outcome, the step holding the final answer, and any verifier
    /// evidence; return the trace. `final_step: None` picks
    /// [`Recorder::default_final_step`], the same for every binding.
    pub fn finish(
        mut self,
        status: OutcomeStatus,
        final_step: Option<StepId>,
        evidence: Vec<OracleEvidence>,
    ) -> Trace {
        let final_step = final_step.or_else(|| self.default_final_step());
        self.trace.outcome.status = status;
        self.trace.outcome.final_step = final_step;
        self.trace.outcome.answer = final_step
            .and_then(|f| self.trace.step(f))
            .and_then(|s| s.output.clone());
        self.trace.outcome.evidence = evidence;
        self.trace
    }
}
