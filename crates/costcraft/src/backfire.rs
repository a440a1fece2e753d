//! Backfire guards: the seed's "when this backfires", computed from the corpus.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tracecard_core::{StepKind, Warning};

use crate::Session;
use crate::policy::Policy;

/// One backfire guard.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Guard {
    /// Sessions too short for prune analysis to mean anything.
    ShortSessions,
    /// Tool wall time dominates: cutting tokens does not cut time.
    LatencyBound,
    /// Sub-agents of one type on similar tasks follow diverging plans.
    StochasticSubagents,
    /// No outcome evidence to test prunes against.
    NoOracle,
}

impl Guard {
    /// Every guard.
    pub const ALL: [Guard; 4] = [
        Guard::ShortSessions,
        Guard::LatencyBound,
        Guard::StochasticSubagents,
        Guard::NoOracle,
    ];

    /// Stable kebab-case name (`--allow-backfire` value).
    pub fn as_str(self) -> &'static str {
        match self {
            Guard::ShortSessions => "short-sessions",
            Guard::LatencyBound => "latency-bound",
            Guard::StochasticSubagents => "stochastic-subagents",
            Guard::NoOracle => "no-oracle",
        }
    }

    /// Parse a kebab-case name.
    pub fn parse(s: &str) -> Option<Guard> {
        Guard::ALL.into_iter().find(|g| g.as_str() == s)
    }

    /// Warning code put on cards (`backfire_short_sessions`, …).
    pub fn code(self) -> tracecard_core::model::WarningCode {
        use tracecard_core::model::WarningCode;
        match self {
            Guard::ShortSessions => WarningCode::BackfireShortSessions,
            Guard::LatencyBound => WarningCode::BackfireLatencyBound,
            Guard::StochasticSubagents => WarningCode::BackfireStochasticSubagents,
            Guard::NoOracle => WarningCode::BackfireNoOracle,
        }
    }
}

/// A guard's finding on the corpus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BackfireWarning {
    /// Which guard.
    pub guard: Guard,
    /// Whether it holds for the corpus as a whole (then distillation refuses
    /// unless the guard is allowed).
    pub holds: bool,
    /// Whether the policy allowed it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allowed: bool,
    /// What was measured.
    pub message: String,
    /// The sessions it concerns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sessions: Vec<String>,
}

/// Evaluate the four guards over `sessions`. A guard that concerns no session is
/// not reported.
pub fn check(sessions: &[Session], policy: &Policy) -> Vec<BackfireWarning> {
    let mut out = Vec::new();
    let n = sessions.len().max(1);
    let mut push = |guard: Guard, holds: bool, message: String, sessions: Vec<String>| {
        if !sessions.is_empty() || holds {
            out.push(BackfireWarning {
                guard,
                holds,
                allowed: policy.allow_backfire.contains(&guard),
                message,
                sessions,
            });
        }
    };

    // Short sessions: holds when the median session is short.
    let mut lens: Vec<usize> = sessions.iter().map(|s| s.card.steps.len()).collect();
    lens.sort_unstable();
    let median = lens.get(lens.len() / 2).copied().unwrap_or(0);
    let short: Vec<String> = sessions
        .iter()
        .filter(|s| s.card.steps.len() < policy.min_steps)
        .map(|s| s.card.session_id.clone())
        .collect();
    push(
        Guard::ShortSessions,
        median < policy.min_steps,
        format!(
            "{} of {} session(s) have fewer than {} steps (median {median}): prune arguments collapse to removing the cheapest step",
            short.len(),
            sessions.len(),
            policy.min_steps
        ),
        short,
    );

    // Latency-bound: tool wall time over the share of step wall time.
    let (mut tool_ms, mut all_ms) = (0i64, 0i64);
    let mut latency = Vec::new();
    for s in sessions {
        let (mut t, mut a) = (0i64, 0i64);
        for st in &s.card.steps {
            let d = st.duration_ms.unwrap_or(0).max(0);
            a += d;
            if matches!(st.kind, StepKind::ToolUse) {
                t += d;
            }
        }
        tool_ms += t;
        all_ms += a;
        if a > 0 && (t as f64 / a as f64) > policy.max_tool_time_share {
            latency.push(s.card.session_id.clone());
        }
    }
    let share = if all_ms > 0 {
        tool_ms as f64 / all_ms as f64
    } else {
        0.0
    };
    push(
        Guard::LatencyBound,
        share > policy.max_tool_time_share,
        format!(
            "tools take {:.0}% of step wall time over the corpus ({} session(s) above {:.0}%): pruning model calls saves money, not time",
            share * 100.0,
            latency.len(),
            policy.max_tool_time_share * 100.0
        ),
        latency,
    );

    // Stochastic sub-agents: same type, same task shape, diverging tool plans.
    type Plans = BTreeMap<(String, String), Vec<(String, BTreeSet<String>)>>;
    let mut plans: Plans = BTreeMap::new();
    for s in sessions {
        for (i, st) in s.trace.steps.iter().enumerate() {
            if st.kind != StepKind::SubagentSpawn {
                continue;
            }
            let kind = st.agent.clone().unwrap_or_default();
            let shape = s.sigs[i]
                .as_ref()
                .and_then(|m| m.args.as_ref())
                .map(|a| serde_json::to_string(a).unwrap_or_default())
                .unwrap_or_default();
            let plan: BTreeSet<String> = s
                .trace
                .steps
                .iter()
                .filter(|c| c.parent == Some(st.id) && c.kind == StepKind::ToolUse)
                .filter_map(|c| c.tool.clone())
                .collect();
            plans
                .entry((kind, shape))
                .or_default()
                .push((s.card.session_id.clone(), plan));
        }
    }
    let mut diverging_types = BTreeSet::new();
    let mut diverging_sessions = BTreeSet::new();
    for ((kind, _), ps) in &plans {
        for (i, (sa, a)) in ps.iter().enumerate() {
            for (sb, b) in &ps[i + 1..] {
                let inter = a.intersection(b).count();
                let union = a.union(b).count();
                if union > 0 && (inter as f64 / union as f64) < 0.5 {
                    diverging_types.insert(kind.clone());
                    diverging_sessions.insert(sa.clone());
                    diverging_sessions.insert(sb.clone());
                }
            }
        }
    }
    push(
        Guard::StochasticSubagents,
        !diverging_types.is_empty(),
        format!(
            "sub-agents of type(s) [{}] follow diverging tool plans on similar tasks: a prune learnt on one plan may remove a load-bearing step of another",
            diverging_types.into_iter().collect::<Vec<_>>().join(", ")
        ),
        diverging_sessions.into_iter().collect(),
    );

    // No oracle: sessions without any outcome evidence.
    let blind: Vec<String> = sessions
        .iter()
        .filter(|s| s.card.oracle.is_empty())
        .map(|s| s.card.session_id.clone())
        .collect();
    push(
        Guard::NoOracle,
        blind.len() * 2 > n,
        format!(
            "{} of {} session(s) carry no verifier evidence (pass --outcomes FILE): prune rules could not be tested against an oracle",
            blind.len(),
            sessions.len()
        ),
        blind,
    );
    out
}

/// Put each warning on the cards of the sessions it concerns (code
/// `backfire_<guard>`).
pub fn annotate(sessions: &mut [Session], warnings: &[BackfireWarning]) {
    for w in warnings {
        for s in sessions.iter_mut() {
            if w.sessions.contains(&s.card.session_id) {
                s.card
                    .warnings
                    .push(Warning::new(w.guard.code(), w.message.clone()));
            }
        }
    }
}
