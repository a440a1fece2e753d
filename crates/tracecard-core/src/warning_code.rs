//! [`WarningCode`]: every warning code tracecard emits, in one enum.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

macro_rules! warning_codes {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal $(| $alias:literal)* => $desc:literal, )*) => {
        /// The stable, machine-readable code of a [`Warning`](crate::Warning).
        ///
        /// Written in cards and traces as a snake_case string ([`WarningCode::as_str`]);
        /// the names never change once released. Codes that used to be spelled
        /// several ways (`orphan_tool_result`, `orphan_observation`, …) are read back
        /// as the one code. `tracecard warnings` and `docs/warnings.md` list them all.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
        #[serde(rename_all = "snake_case")]
        #[non_exhaustive]
        pub enum WarningCode {
            $(
                $(#[$doc])*
                #[doc = $desc]
                $(#[serde(alias = $alias)])*
                $variant,
            )*
        }

        impl WarningCode {
            /// Every code, in alphabetical order.
            pub const ALL: &'static [WarningCode] = &[$(WarningCode::$variant),*];

            /// The stable snake_case name.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(WarningCode::$variant => $name,)*
                }
            }

            /// One line saying what the warning means.
            pub const fn description(self) -> &'static str {
                match self {
                    $(WarningCode::$variant => $desc,)*
                }
            }

            /// The code named `name` (its name or a former synonym), `None` when unknown.
            pub fn from_name(name: &str) -> Option<WarningCode> {
                match name {
                    $($name $(| $alias)* => Some(WarningCode::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

warning_codes! {
    ApiCallsMismatch = "api_calls_mismatch" => "The run's API-call count differs from the steps in the file (retries or format errors are not recorded).",
    ApportionedTokens = "apportioned_tokens" => "The source stores only run totals: per-call tokens were apportioned from the text each call saw.",
    ApproximatePrice = "approximate_price" => "A model was priced as a known model it extends (prefix match), not by an exact entry.",
    BackfireLatencyBound = "backfire_latency_bound" => "costcraft: tool wall time dominates the session, so cutting tokens does not cut time.",
    BackfireNoOracle = "backfire_no_oracle" => "costcraft: no outcome evidence to test prunes against.",
    BackfireShortSessions = "backfire_short_sessions" => "costcraft: sessions too short for prune analysis to mean anything.",
    BackfireStochasticSubagents = "backfire_stochastic_subagents" => "costcraft: sub-agents of one type on similar tasks follow diverging plans.",
    BadMetadata = "bad_metadata" => "A record's metadata is not valid JSON; the attributes in it were ignored.",
    ChildBeforeParent = "child_before_parent" => "A span starts before the sub-agent spawn that would contain it; it is not nested.",
    CompactionUnmatched = "compaction_unmatched" => "A compaction agent matches no compaction boundary record; a compaction step was added for it.",
    ContentTruncated = "content_truncated" => "Content longer than --max-content keeps only its first bytes; hashes and lengths are of the whole text.",
    CostCountMismatch = "cost_count_mismatch" => "The number of cost entries differs from the number of model calls.",
    DeniedToolCalls = "denied_tool_calls" => "Tool calls were denied (by the user, a hook or the configuration) and did not run.",
    DuplicateRecord = "duplicate_record" => "A record repeats an earlier one (the same line, or the same id or content in a list): counted once, or kept and named when nothing tells a repeat from a double write.",
    DuplicateSpanId = "duplicate_span_id" => "A span id appears more than once in the file.",
    EmptySession = "empty_session" => "The session holds no steps (a header or metadata only): its card is empty.",
    GenerationWithoutUsage = "generation_without_usage" => "A generation record has no usage or cost: treated as a lifecycle record, not a billed call.",
    HistoryMismatch = "history_mismatch" => "The message history and the trajectory disagree on the number of model calls; prompt sizes are estimated.",
    MirroredLlmSpan = "mirrored_llm_span" => "An LLM span nested in another LLM span mirrors the same request; it is not counted.",
    MissingParent = "missing_parent" => "Spans name a parent that is not in the file; they are treated as roots.",
    MissingResponse = "missing_response" => "The source counts more model calls than it records responses; the last call is recorded as failed.",
    ModelGuessed = "model_guessed" => "The source does not name its model; it was inferred from the file or run-directory name.",
    NewerFormat = "newer_format" => "The native trace was written by a newer format version; unknown fields may be ignored.",
    NoContent = "no_content" => "The source carries no tool or model content: redundancy is judged from ids, artifacts and structure only.",
    NoEvents = "no_events" => "An Inspect sample has no events: steps were rebuilt from messages, without usage or timing.",
    NoSamples = "no_samples" => "An Inspect log holds no samples (nothing to import).",
    NoUsage = "no_usage" | "missing_usage" | "no_tokens" => "Model calls carry no token usage (and no reported cost): their cost is unknown.",
    OrphanToolOutput = "orphan_tool_output" | "orphan_tool_result" | "orphan_observation" => "A tool result or observation matches no tool call; it was skipped or kept unlinked.",
    /// Not emitted by tracecard: a code in a native trace that this version does
    /// not know (a newer tracecard, or a harness's own code); the original code
    /// leads the message.
    Other = "other" => "A warning code this version does not know (from a newer tracecard or a harness); the message names it.",
    OutputTokensCorrected = "output_tokens_corrected" => "Sub-agent final calls took their output tokens from the Task result (the transcript held a streaming snapshot).",
    OutputTokensUnderreported = "output_tokens_underreported" => "A call's output token count is far below the length of its output (a streaming snapshot).",
    ReplayFailed = "replay_failed" => "The counterfactual replayer failed; the dataflow verdicts are kept.",
    ReplayRejected = "replay_rejected" => "A replay showed that removing a flagged step changes the outcome; the step is needed.",
    SidechainUnmatched = "sidechain_unmatched" => "A sidechain matches no Task call; its steps are kept at top level.",
    SkippedRecords = "skipped_records" => "Records that carry no step were skipped (counted by type).",
    SubagentFileUnreadable = "subagent_file_unreadable" => "A sub-agent transcript could not be read and was skipped.",
    SubagentUnlinked = "subagent_unlinked" => "No Task/Agent call links to a sub-agent; its steps are kept at top level.",
    SuspiciousEntry = "suspicious_entry" => "Archive entries with `..` or nested folders were skipped.",
    SynthesizedSubagentCall = "synthesized_subagent_call" => "Sub-agent final calls missing from the transcript were added from the Task result's usage.",
    TaskNotificationUnmatched = "task_notification_unmatched" => "A background task notification matches no sub-agent or background command of the session.",
    TelemetryJoined = "telemetry_joined" => "The session's own OpenTelemetry export was joined: reported costs and timings come from it.",
    TooDeep = "too_deep" => "Sub-agent nesting is deeper than the limit; the inner events were skipped.",
    TruncatedLine = "truncated_line" => "The last line is incomplete (the session may still be running); it was skipped.",
    UnknownModel = "unknown_model" => "A model is not in the price table: its steps have an unknown cost (pass a price file).",
    UnknownRecord = "unknown_record" | "unknown_record_type" => "A record of an unknown type was skipped.",
    UsageMismatch = "usage_mismatch" => "Two usage figures for the same call disagree; the one named in the message was kept.",
    UsageSemanticsGuessed = "usage_semantics_guessed" => "The source does not settle whether input tokens include cached tokens; the semantics were guessed.",
    UsageWithoutRequest = "usage_without_request" => "A usage record comes before any request it could belong to.",
}

impl std::fmt::Display for WarningCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for WarningCode {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        WarningCode::from_name(s).ok_or_else(|| {
            crate::Error::validation("warning code", format!("no warning code named {s:?}"))
        })
    }
}

impl PartialEq<str> for WarningCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for WarningCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::WarningCode;

    #[test]
    fn names_are_sorted_unique_snake_case_and_round_trip() {
        let names: Vec<_> = WarningCode::ALL.iter().map(|c| c.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted, "keep ALL sorted and unique");
        for c in WarningCode::ALL {
            let s = c.as_str();
            assert!(
                s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{s}"
            );
            assert_eq!(serde_json::to_string(c).unwrap(), format!("\"{s}\""));
            assert_eq!(
                serde_json::from_str::<WarningCode>(&format!("\"{s}\"")).unwrap(),
                *c
            );
            assert_eq!(s.parse::<WarningCode>().unwrap(), *c);
            assert!(!c.description().is_empty());
        }
    }

    #[test]
    fn former_synonyms_read_as_one_code() {
        for (old, new) in [
            ("orphan_tool_result", WarningCode::OrphanToolOutput),
            ("orphan_observation", WarningCode::OrphanToolOutput),
            ("unknown_record_type", WarningCode::UnknownRecord),
            ("missing_usage", WarningCode::NoUsage),
            ("no_tokens", WarningCode::NoUsage),
        ] {
            assert_eq!(
                serde_json::from_str::<WarningCode>(&format!("\"{old}\"")).unwrap(),
                new
            );
            assert_eq!(WarningCode::from_name(old), Some(new));
        }
    }
}
