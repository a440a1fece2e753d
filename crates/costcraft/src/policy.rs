//! Thresholds and switches of patch validation and distillation.

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tracecard_core::Usd;

use crate::backfire::Guard;

/// Every threshold of validation and distillation (recorded in `rules.yaml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Policy {
    /// A prune must save at least this much (own + carried-context cost).
    pub min_savings_usd: Usd,
    /// ... and at least this share of its session's cost (0.01 = 1%).
    pub min_session_share: f64,
    /// Refuse prunes confirmed by dataflow only (no counterfactual replay).
    pub require_replay: bool,
    /// A prune rule becomes active only with support in at least this many tasks.
    pub min_prune_tasks: usize,
    /// ... and with at most this share of matching steps `needed` elsewhere.
    pub max_counter_example_rate: f64,
    /// Preserve rules need support in at least this many sessions to be listed.
    pub min_preserve_sessions: usize,
    /// Backfire guard: sessions with fewer steps are short.
    pub min_steps: usize,
    /// Backfire guard: a session is latency-bound when tool wall time is above this
    /// share of its step wall time.
    pub max_tool_time_share: f64,
    /// Backfire guards allowed to hold without refusing to distil.
    pub allow_backfire: BTreeSet<Guard>,
    /// Put quarantined rules in SKILL.md too.
    pub include_quarantined: bool,
    /// Name of the skill (its directory and front-matter `name`).
    pub skill_name: String,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            min_savings_usd: Usd::from_nanos(1_000_000),
            min_session_share: 0.01,
            require_replay: false,
            min_prune_tasks: 2,
            max_counter_example_rate: 0.1,
            min_preserve_sessions: 2,
            min_steps: 10,
            max_tool_time_share: 0.5,
            allow_backfire: BTreeSet::new(),
            include_quarantined: false,
            skill_name: "cost-rules".into(),
        }
    }
}
