//! Rule monitoring: where each rule would fire in new traces, and whether the cost
//! it targets shrank against the distillation baseline.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tracecard_core::{StepId, Usd, Verdict};

use crate::Session;
use crate::distill::{RuleSet, RuleStatus};
use crate::signature::signatures;

/// One place a rule would have fired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Firing {
    /// Session id.
    pub session_id: String,
    /// Card step id.
    pub step: StepId,
    /// The step's id in the original file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ref: Option<String>,
    /// The step's verdict in the new trace.
    pub verdict: Verdict,
    /// The step's own + carried-context cost.
    pub cost_usd: Usd,
}

/// What one rule did on the new traces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RuleCheck {
    /// Rule id.
    pub id: String,
    /// Its status in rules.yaml.
    pub status: RuleStatus,
    /// Every matching step.
    pub fired: Vec<Firing>,
    /// Matching steps that were `needed` in the new traces (the rule would have
    /// removed a load-bearing step).
    pub fired_on_needed: usize,
    /// Targeted cost per session in the distillation corpus (rule savings / sessions).
    pub baseline_per_session_usd: Usd,
    /// Targeted cost per session now (own + carried cost of matching steps / sessions).
    pub now_per_session_usd: Usd,
    /// `now < baseline`.
    pub shrank: bool,
}

/// The monitoring report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CheckReport {
    /// Sessions checked.
    pub sessions: usize,
    /// One entry per rule, in rules.yaml order.
    pub rules: Vec<RuleCheck>,
}

/// Check every rule of `rules` against `sessions`. Signatures are computed with the
/// rule set's own tool classes, exactly as a guard would.
pub fn check(rules: &RuleSet, sessions: &[Session]) -> CheckReport {
    let sigs: Vec<_> = sessions
        .iter()
        .map(|s| signatures(&s.trace, &rules.tools))
        .collect();
    let n_new = sessions.len().max(1) as i64;
    let n_old = rules.corpus.sessions.max(1) as i64;
    let out = rules
        .rules
        .iter()
        .map(|r| {
            let mut fired = Vec::new();
            for (s, ss) in sessions.iter().zip(&sigs) {
                for (i, sig) in ss.iter().enumerate() {
                    let Some(sig) = sig else { continue };
                    if !r.matcher.accepts(sig) {
                        continue;
                    }
                    let c = &s.card.steps[i];
                    fired.push(Firing {
                        session_id: s.card.session_id.clone(),
                        step: c.id,
                        source_ref: c.source_ref.clone(),
                        verdict: c.verdict,
                        cost_usd: c.cost_usd.unwrap_or_default()
                            + c.carried_context_cost_usd.unwrap_or_default(),
                    });
                }
            }
            let now: Usd = fired.iter().map(|f| f.cost_usd).sum();
            let baseline = Usd::from_nanos(r.savings.total_usd.nanos() / n_old);
            let now = Usd::from_nanos(now.nanos() / n_new);
            RuleCheck {
                id: r.id.clone(),
                status: r.status,
                fired_on_needed: fired
                    .iter()
                    .filter(|f| f.verdict == Verdict::Needed)
                    .count(),
                fired,
                baseline_per_session_usd: baseline,
                now_per_session_usd: now,
                shrank: now < baseline,
            }
        })
        .collect();
    CheckReport {
        sessions: sessions.len(),
        rules: out,
    }
}
