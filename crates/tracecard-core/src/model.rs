//! The trace model: one agent session as an ordered list of [`Step`]s plus its
//! [`Outcome`].
//!
//! Every importer lands here, and so does the native format written by the
//! [`Recorder`](crate::Recorder). Token counts are stored **normalised** (see
//! [`TokenUsage`]): importers convert each source's own semantics once, so the cost
//! engine and the analysis never need to know where a trace came from.

use std::collections::BTreeMap;

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::input_root::InputRoot;
use crate::money::Usd;
pub use crate::warning_code::WarningCode;

/// 1-based position of a step in a trace, in execution order. Stable across the
/// trace, its card and its analysis.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(transparent)]
pub struct StepId(pub u32);

impl StepId {
    /// Zero-based index into [`Trace::steps`].
    pub fn index(self) -> usize {
        (self.0 as usize).saturating_sub(1)
    }

    /// The id of the step at zero-based `index`.
    pub fn from_index(index: usize) -> Self {
        StepId(u32::try_from(index + 1).unwrap_or(u32::MAX))
    }
}

impl std::fmt::Display for StepId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

/// What a step is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// One model request/response (the unit that is billed).
    LlmCall,
    /// One tool execution (its result is the step's output).
    ToolUse,
    /// The spawn of a sub-agent; the sub-agent's own steps name it as `parent`.
    SubagentSpawn,
    /// Input from the user (a prompt, a follow-up). Never flagged redundant.
    UserInput,
    /// A context compaction / summarisation boundary.
    Compaction,
    /// Anything else worth keeping in order (retrieval, embeddings, a hook).
    Other,
}

impl StepKind {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::LlmCall => "llm_call",
            StepKind::ToolUse => "tool_use",
            StepKind::SubagentSpawn => "subagent_spawn",
            StepKind::UserInput => "user_input",
            StepKind::Compaction => "compaction",
            StepKind::Other => "other",
        }
    }
}

/// Whether a step succeeded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Completed normally (the default).
    #[default]
    Ok,
    /// Failed: a tool error, an API error, an interrupted call.
    Error,
    /// Not run: the tool call was refused by a permission rule, a hook or the user
    /// (the reason is in `error`).
    Denied,
}

/// Largest token count one step may carry in any one field: 10^10, ten thousand
/// times the largest context window. A larger count is a corrupt file: importers
/// reject it with an [`Error::Parse`](crate::Error::Parse) naming the field, and
/// [`Trace::validate`] rejects it in recorded traces. With it, no token sum and no
/// step cost (prices are capped too, see [`crate::money::MAX_PRICE_PER_MILLION_USD`])
/// can overflow.
pub const MAX_TOKENS: u64 = 10_000_000_000;

/// Token counts of one step, **normalised**: the four input buckets are disjoint
/// and `output` includes `reasoning`.
///
/// | field | meaning |
/// |---|---|
/// | `input` | fresh (uncached) input tokens |
/// | `cache_read` | input tokens served from the prompt cache |
/// | `cache_write_5m` / `cache_write_1h` | input tokens written to the cache (Anthropic TTLs; other providers' writes count as 5m) |
/// | `output` | all generated tokens, reasoning included |
/// | `reasoning` | of `output`, the reasoning/thinking part (informational unless a model prices it apart) |
///
/// Sources that count input inclusively (OpenAI, OTel GenAI) are converted with
/// [`TokenUsage::from_inclusive`]; Anthropic-style sources with
/// [`TokenUsage::from_exclusive`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct TokenUsage {
    /// Fresh input tokens.
    #[serde(skip_serializing_if = "is_zero")]
    pub input: u64,
    /// Output tokens, reasoning included.
    #[serde(skip_serializing_if = "is_zero")]
    pub output: u64,
    /// Input tokens read from the prompt cache.
    #[serde(skip_serializing_if = "is_zero")]
    pub cache_read: u64,
    /// Input tokens written to a 5-minute cache (or an untyped cache write).
    #[serde(skip_serializing_if = "is_zero")]
    pub cache_write_5m: u64,
    /// Input tokens written to a 1-hour cache.
    #[serde(skip_serializing_if = "is_zero")]
    pub cache_write_1h: u64,
    /// The reasoning part of `output`.
    #[serde(skip_serializing_if = "is_zero")]
    pub reasoning: u64,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

impl TokenUsage {
    /// From Anthropic-style counts, where `input` excludes cache reads and writes and
    /// `output` already includes thinking.
    pub fn from_exclusive(
        input: u64,
        cache_read: u64,
        cache_write_5m: u64,
        cache_write_1h: u64,
        output: u64,
    ) -> Self {
        TokenUsage {
            input,
            output,
            cache_read,
            cache_write_5m,
            cache_write_1h,
            reasoning: 0,
        }
    }

    /// From OpenAI-style counts, where `input_total` includes cached (and, for
    /// litellm-normalised Anthropic, cache-write) tokens and `output` includes
    /// `reasoning`. Inconsistent sources (cached > input) saturate at zero fresh input
    /// rather than going negative.
    pub fn from_inclusive(
        input_total: u64,
        cache_read: u64,
        cache_write: u64,
        output: u64,
        reasoning: u64,
    ) -> Self {
        TokenUsage {
            input: input_total
                .saturating_sub(cache_read)
                .saturating_sub(cache_write),
            output,
            cache_read,
            cache_write_5m: cache_write,
            cache_write_1h: 0,
            reasoning,
        }
    }

    /// All input-side tokens (the prompt size the model saw).
    pub fn prompt_total(&self) -> u64 {
        self.input
            .saturating_add(self.cache_read)
            .saturating_add(self.cache_write_5m)
            .saturating_add(self.cache_write_1h)
    }

    /// Every token, input side plus output.
    pub fn total(&self) -> u64 {
        self.prompt_total().saturating_add(self.output)
    }

    /// The first count above [`MAX_TOKENS`], as `(field, value)`. Importers reject
    /// such a step (a corrupt or hostile file), so sums and costs never overflow.
    pub fn over_limit(&self) -> Option<(&'static str, u64)> {
        [
            ("input", self.input),
            ("output", self.output),
            ("cache_read", self.cache_read),
            ("cache_write_5m", self.cache_write_5m),
            ("cache_write_1h", self.cache_write_1h),
            ("reasoning", self.reasoning),
        ]
        .into_iter()
        .find(|(_, v)| *v > MAX_TOKENS)
    }

    /// True when every count is zero.
    pub fn is_empty(&self) -> bool {
        self.total() == 0 && self.reasoning == 0
    }

    /// Field-wise sum (saturating).
    pub fn add(&self, o: &TokenUsage) -> TokenUsage {
        TokenUsage {
            input: self.input.saturating_add(o.input),
            output: self.output.saturating_add(o.output),
            cache_read: self.cache_read.saturating_add(o.cache_read),
            cache_write_5m: self.cache_write_5m.saturating_add(o.cache_write_5m),
            cache_write_1h: self.cache_write_1h.saturating_add(o.cache_write_1h),
            reasoning: self.reasoning.saturating_add(o.reasoning),
        }
    }
}

/// A piece of content (a tool result, a model answer, tool arguments), kept in full
/// or only as a hash and length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Content {
    /// The text, when the source carried it and the caller kept it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// `sha256:` + the first 16 bytes of the SHA-256 of the text, hex.
    pub hash: String,
    /// Length of the text in bytes.
    pub len: u64,
}

impl Content {
    /// Keep `text` in full (with its hash and length).
    pub fn full(text: impl Into<String>) -> Self {
        let text = text.into();
        Content {
            hash: content_hash(&text),
            len: text.len() as u64,
            text: Some(text),
        }
    }

    /// Keep only the hash and length of `text`.
    pub fn hashed(text: &str) -> Self {
        Content {
            hash: content_hash(text),
            len: text.len() as u64,
            text: None,
        }
    }

    /// A drop of the text, keeping hash and length.
    pub fn without_text(&self) -> Self {
        Content {
            text: None,
            hash: self.hash.clone(),
            len: self.len,
        }
    }
}

/// `sha256:` + 32 hex digits of the SHA-256 of `text`.
pub fn content_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let mut s = String::with_capacity(7 + 32);
    s.push_str("sha256:");
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in &digest[..16] {
        s.push(HEX[usize::from(b >> 4)] as char);
        s.push(HEX[usize::from(b & 15)] as char);
    }
    s
}

/// The ids that tie a step to others: the explicit dataflow evidence a source gives.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Links {
    /// The tool-call id (`toolu_…`, `call_…`) of a tool step, or of the tool call an
    /// LLM call issued when it issued exactly one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// Tool-call ids an LLM call requested in its response.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<String>,
    /// Steps whose output this step demonstrably **used**: a tool step consumes the
    /// model call that wrote its arguments; a sub-agent spawn consumes the sub-agent
    /// step that produced its result; explicit recorder references. Strong evidence.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub consumes: Vec<StepId>,
    /// Steps whose output was newly **delivered** into this step's input without
    /// proof of use: the tool results (and sub-agent results) sent to the next model
    /// call, a user message. Presence in context is not evidence of use; the
    /// analysis looks for content evidence on these edges.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<StepId>,
    /// Artifacts (files, tables, URLs…) this step read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reads: Vec<String>,
    /// Artifacts this step wrote.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub writes: Vec<String>,
}

impl Links {
    /// True when nothing is set.
    pub fn is_empty(&self) -> bool {
        *self == Links::default()
    }
}

/// One step of a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Step {
    /// Position in the trace (1-based, execution order; 0 = not yet assigned).
    #[serde(default)]
    pub id: StepId,
    /// What the step is.
    pub kind: StepKind,
    /// The step that spawned the sub-agent this step belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<StepId>,
    /// Tool name, for tool steps and sub-agent spawns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// Model name as the source wrote it, for LLM calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Provider (`anthropic`, `openai`, …) when the source names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Name of the agent that ran the step (sub-agent type, agent span name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// When the step started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub started_at: Option<Timestamp>,
    /// When the step ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub ended_at: Option<Timestamp>,
    /// Normalised token counts.
    #[serde(default, skip_serializing_if = "TokenUsage::is_empty")]
    pub tokens: TokenUsage,
    /// Cost the source itself reported for this step, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_cost_usd: Option<Usd>,
    /// Ok or error.
    #[serde(default, skip_serializing_if = "is_ok")]
    pub status: StepStatus,
    /// Error message when `status` is `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Dataflow links to other steps and artifacts.
    #[serde(default, skip_serializing_if = "Links::is_empty")]
    pub links: Links,
    /// What the step was given: tool arguments, or the new input of a model call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Content>,
    /// What the step produced: the tool result, or the model's response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Content>,
    /// The step's id in the original file (span id, `toolu_…` id, message uuid, line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ref: Option<String>,
    /// Source-specific notes (`output_tokens_underreported`, `stop_reason`, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

fn is_ok(s: &StepStatus) -> bool {
    *s == StepStatus::Ok
}

impl Step {
    /// A new step of `kind` with everything else empty; `id` is set by
    /// [`Trace::push`].
    pub fn new(kind: StepKind) -> Self {
        Step {
            id: StepId(0),
            kind,
            parent: None,
            tool: None,
            model: None,
            provider: None,
            agent: None,
            started_at: None,
            ended_at: None,
            tokens: TokenUsage::default(),
            reported_cost_usd: None,
            status: StepStatus::Ok,
            error: None,
            links: Links::default(),
            input: None,
            output: None,
            source_ref: None,
            attributes: BTreeMap::new(),
        }
    }

    /// Duration in milliseconds, when both ends are known.
    pub fn duration_ms(&self) -> Option<i64> {
        let (s, e) = (self.started_at?, self.ended_at?);
        Some(e.as_millisecond() - s.as_millisecond())
    }
}

/// Keys of [`Step::attributes`] that tracecard's importers write. Each is written
/// under one name whatever the source calls it (a mini-swe-agent `returncode` and a
/// Codex `exit_code` are both [`attr::EXIT_CODE`]).
pub mod attr {
    /// Exit code of a shell command a tool ran (an integer as text).
    pub const EXIT_CODE: &str = "exit_code";
    /// The OpenHands action of the step (`run`, `read`, `finish`, ...).
    pub const ACTION: &str = "action";
    /// `true` when the provider ran the tool itself (Codex web search).
    pub const SERVER_SIDE: &str = "server_side";
    /// The line of the source file a tool output came from (Codex).
    pub const OUTPUT_LINE: &str = "output_line";
    /// The provider's request id of a model call (Claude Code).
    pub const REQUEST_ID: &str = "request_id";
    /// Why the model stopped (`end_turn`, `tool_use`, `max_tokens`, ...).
    pub const STOP_REASON: &str = "stop_reason";
    /// The sub-agent type a `Task` call spawned (Claude Code).
    pub const SUBAGENT_TYPE: &str = "subagent_type";
    /// What triggered a context compaction (`auto`, `manual`).
    pub const TRIGGER: &str = "trigger";
    /// Tokens in the context before a compaction.
    pub const PRE_TOKENS: &str = "pre_tokens";
}

/// How a session ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeStatus {
    /// The task was accomplished (by a verifier's word or the source's success flag).
    Success,
    /// The task failed.
    Failure,
    /// Nothing in the source says.
    #[default]
    Unknown,
}

impl OutcomeStatus {
    /// Stable snake_case name (`success`, `failure`, `unknown`).
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeStatus::Success => "success",
            OutcomeStatus::Failure => "failure",
            OutcomeStatus::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for OutcomeStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses `success`, `failure`, `unknown` and the synonyms harnesses use
/// (`succeeded`, `pass`, `passed`; `failed`, `fail`), case-insensitively. Every
/// binding parses outcomes through this, so they accept the same words.
///
/// ```
/// use tracecard_core::OutcomeStatus;
/// assert_eq!("Passed".parse::<OutcomeStatus>().unwrap(), OutcomeStatus::Success);
/// assert!("maybe".parse::<OutcomeStatus>().is_err());
/// ```
impl std::str::FromStr for OutcomeStatus {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "success" | "succeeded" | "pass" | "passed" => Ok(OutcomeStatus::Success),
            "failure" | "failed" | "fail" => Ok(OutcomeStatus::Failure),
            "unknown" => Ok(OutcomeStatus::Unknown),
            other => Err(crate::Error::validation(
                "outcome",
                format!("outcome must be 'success', 'failure' or 'unknown', not {other:?}"),
            )),
        }
    }
}

/// One verifier's verdict on the session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OracleEvidence {
    /// Who judged (`swebench`, `inspect:match`, `pytest`, a user verifier).
    pub verifier: String,
    /// Whether the verifier passed the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passed: Option<bool>,
    /// The verifier's message (failing test names, an explanation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// A numeric score, when the verifier gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// Artifacts the verifier examined (files of a patch, tests run); these are
    /// outcome sinks for the dataflow analysis.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<String>,
}

/// The session's outcome.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Outcome {
    /// Success, failure or unknown.
    pub status: OutcomeStatus,
    /// The step whose output is the session's final answer, if identified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_step: Option<StepId>,
    /// The final answer, hashed or in full.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<Content>,
    /// Verifier verdicts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<OracleEvidence>,
    /// Free-form reason from the source (`exit_status: submitted`, `task_complete`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A problem that did not stop the import or compilation: something skipped,
/// guessed or unpriced. Nothing is silently dropped; it is reported here.
///
/// Reading a warning back, a former synonym of a code reads as the code, and a
/// code this version does not know becomes [`WarningCode::Other`] with the code
/// kept at the head of the message (a trace from a newer tracecard still loads).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Warning {
    /// Stable machine-readable code (`unknown_model`, `truncated_line`, …).
    pub code: WarningCode,
    /// Human-readable explanation.
    pub message: String,
    /// The file it concerns (on a card, named as the card's `source.files` are:
    /// relative to the parent of the input argument).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The 1-based line it concerns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

impl<'de> Deserialize<'de> for Warning {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            code: String,
            message: String,
            #[serde(default)]
            file: Option<String>,
            #[serde(default)]
            line: Option<u64>,
        }
        let r = Raw::deserialize(d)?;
        let (code, message) = match WarningCode::from_name(&r.code) {
            Some(c) => (c, r.message),
            None => (WarningCode::Other, format!("{}: {}", r.code, r.message)),
        };
        Ok(Warning {
            code,
            message,
            file: r.file,
            line: r.line,
        })
    }
}

impl Warning {
    /// A warning without location.
    pub fn new(code: WarningCode, message: impl Into<String>) -> Self {
        Warning {
            code,
            message: message.into(),
            file: None,
            line: None,
        }
    }

    /// A warning at `file:line`.
    pub fn at(
        code: WarningCode,
        message: impl Into<String>,
        file: impl Into<String>,
        line: Option<u64>,
    ) -> Self {
        Warning {
            code,
            message: message.into(),
            file: Some(file.into()),
            line,
        }
    }
}

/// Where a trace came from.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct Source {
    /// Importer that produced the trace (`native`, `claude_code`, `otlp`, …).
    pub format: String,
    /// The file(s) read, as the loader opened them (a card names them relative to
    /// [`Source::root`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// How the source counts tokens, in words (documented per importer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_semantics: Option<String>,
    /// Whether the source carried prompt/tool content (`full`), only sizes or hashes
    /// (`hashed`), or nothing (`none`). The analysis is conservative without content.
    #[serde(default)]
    pub content: ContentCapture,
    /// The input argument the files were found under, set by the loaders (never
    /// serialised): the compiler names the card's files relative to it (see
    /// [`InputRoot`]). `None` (a trace built in memory or read back from JSON)
    /// takes the first file as the argument.
    #[serde(skip)]
    #[schemars(skip)]
    pub root: Option<InputRoot>,
}

/// Two sources are equal when what they record is: the loader's [`Source::root`]
/// is how the files were named, not what the trace holds.
impl PartialEq for Source {
    fn eq(&self, other: &Self) -> bool {
        self.format == other.format
            && self.files == other.files
            && self.token_semantics == other.token_semantics
            && self.content == other.content
    }
}

impl Eq for Source {}

/// How much content a source carried.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContentCapture {
    /// Tool results and model outputs are present.
    #[default]
    Full,
    /// Only hashes/lengths (or redacted text) are present.
    Hashed,
    /// No content at all.
    None,
}

/// One agent session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Trace {
    /// Session id (from the source, or derived from the file name).
    pub session_id: String,
    /// Provenance.
    #[serde(default)]
    pub source: Source,
    /// When the session started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub started_at: Option<Timestamp>,
    /// Steps in execution order; `steps[i].id == i + 1`.
    #[serde(default)]
    pub steps: Vec<Step>,
    /// How the session ended.
    #[serde(default)]
    pub outcome: Outcome,
    /// Session-level cost reported by the source (SWE-agent `instance_cost`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_cost_usd: Option<Usd>,
    /// Session-level token totals reported by the source, when they are all it has
    /// (SWE-agent `tokens_sent`); per-step tokens are then an apportionment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_tokens: Option<TokenUsage>,
    /// What was skipped, guessed or unpriced while importing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
    /// Free-form session metadata (cwd, agent version, model provider…).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

impl Trace {
    /// An empty trace for `session_id` from `format`.
    pub fn new(session_id: impl Into<String>, format: impl Into<String>) -> Self {
        Trace {
            session_id: session_id.into(),
            source: Source {
                format: format.into(),
                ..Source::default()
            },
            started_at: None,
            steps: Vec::new(),
            outcome: Outcome::default(),
            reported_cost_usd: None,
            reported_tokens: None,
            warnings: Vec::new(),
            metadata: BTreeMap::new(),
        }
    }

    /// Append `step`, assigning it the next id; returns that id.
    pub fn push(&mut self, mut step: Step) -> StepId {
        let id = StepId::from_index(self.steps.len());
        step.id = id;
        self.steps.push(step);
        id
    }

    /// The step with `id`.
    pub fn step(&self, id: StepId) -> Option<&Step> {
        self.steps.get(id.index()).filter(|s| s.id == id)
    }

    /// Mutable access to the step with `id`.
    pub fn step_mut(&mut self, id: StepId) -> Option<&mut Step> {
        self.steps.get_mut(id.index()).filter(|s| s.id == id)
    }

    /// Record a warning.
    pub fn warn(&mut self, w: Warning) {
        self.warnings.push(w);
    }

    /// Sum of every step's tokens.
    pub fn total_tokens(&self) -> TokenUsage {
        self.steps
            .iter()
            .fold(TokenUsage::default(), |acc, s| acc.add(&s.tokens))
    }

    /// Check the structural invariants every consumer relies on: ids are 1..=n in
    /// order, parents and `consumes` point to earlier-or-existing steps, the final
    /// step exists.
    pub fn validate(&self) -> crate::Result<()> {
        let n = self.steps.len();
        for (i, s) in self.steps.iter().enumerate() {
            if let Some((field, v)) = s.tokens.over_limit() {
                return Err(crate::Error::validation(
                    format!("trace {} step {}", self.session_id, s.id),
                    format!("tokens.{field} = {v} is above the limit of {MAX_TOKENS} tokens"),
                ));
            }
            if s.id != StepId::from_index(i) {
                return Err(crate::Error::validation(
                    format!("trace {}", self.session_id),
                    format!(
                        "step at position {} has id {} (ids must be 1..=n in order)",
                        i + 1,
                        s.id
                    ),
                ));
            }
            if let Some(p) = s.parent {
                if p.0 == 0 || p.index() >= n || p == s.id {
                    return Err(crate::Error::validation(
                        format!("trace {} step {}", self.session_id, s.id),
                        format!("parent {p} does not exist"),
                    ));
                }
            }
            for (field, ids) in [
                ("consumes", &s.links.consumes),
                ("context", &s.links.context),
            ] {
                for c in ids {
                    if c.0 == 0 || c.index() >= n || *c == s.id {
                        return Err(crate::Error::validation(
                            format!("trace {} step {}", self.session_id, s.id),
                            format!("links.{field} names step {c}, which does not exist"),
                        ));
                    }
                }
            }
        }
        if let Some(f) = self.outcome.final_step {
            if f.0 == 0 || f.index() >= n {
                return Err(crate::Error::validation(
                    format!("trace {}", self.session_id),
                    format!("outcome.final_step {f} does not exist"),
                ));
            }
        }
        Ok(())
    }

    /// Drop all content text (keep hashes and lengths): what a card or a shared trace
    /// should carry by default.
    pub fn redact(&mut self) {
        for s in &mut self.steps {
            if let Some(c) = &mut s.input {
                c.text = None;
            }
            if let Some(c) = &mut s.output {
                c.text = None;
            }
        }
        if let Some(a) = &mut self.outcome.answer {
            a.text = None;
        }
    }

    /// The trace without the steps in `removed`: ids are renumbered, links to removed
    /// steps dropped. Used by counterfactual replayers that want a concrete trace.
    pub fn without(&self, removed: &[StepId]) -> Trace {
        let removed: std::collections::HashSet<StepId> = removed.iter().copied().collect();
        let mut map = vec![None; self.steps.len()];
        let mut next = 0usize;
        for (i, s) in self.steps.iter().enumerate() {
            if !removed.contains(&s.id) {
                map[i] = Some(StepId::from_index(next));
                next += 1;
            }
        }
        let remap = |id: StepId| map.get(id.index()).copied().flatten();
        let mut out = self.clone();
        out.steps = self
            .steps
            .iter()
            .filter(|s| !removed.contains(&s.id))
            .map(|s| {
                let mut s = s.clone();
                s.id = remap(s.id).unwrap_or(s.id);
                s.parent = s.parent.and_then(remap);
                s.links.consumes = s.links.consumes.iter().filter_map(|c| remap(*c)).collect();
                s.links.context = s.links.context.iter().filter_map(|c| remap(*c)).collect();
                s
            })
            .collect();
        out.outcome.final_step = self.outcome.final_step.and_then(remap);
        out
    }
}
