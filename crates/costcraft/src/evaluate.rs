//! Held-out evaluation: pair baseline and treated runs of the same tasks and
//! report regressions, recoveries, the median cost change with a bootstrap
//! interval, and cost per successful task.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tracecard_core::{OutcomeStatus, TraceCard, Usd};

/// One baseline/treated pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Pair {
    /// The task key (`task_id` metadata, else the session id).
    pub task: String,
    /// Baseline session.
    pub baseline: String,
    /// Treated session.
    pub treated: String,
    /// Baseline outcome.
    pub baseline_outcome: OutcomeStatus,
    /// Treated outcome.
    pub treated_outcome: OutcomeStatus,
    /// Treated − baseline cost.
    pub cost_change_usd: Usd,
}

/// Totals of one arm.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Arm {
    /// Sessions.
    pub sessions: usize,
    /// Successful sessions.
    pub successes: usize,
    /// Total cost.
    pub total_cost_usd: Usd,
    /// Total cost / successes (absent without a success).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_per_success_usd: Option<Usd>,
}

/// The evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Evaluation {
    /// Paired tasks.
    pub pairs: Vec<Pair>,
    /// Tasks only in the baseline or only in the treated set.
    pub unpaired: Vec<String>,
    /// Pairs where the baseline succeeded and the treated run did not.
    pub regressions: usize,
    /// Pairs where the baseline did not succeed and the treated run did.
    pub recoveries: usize,
    /// Median per-pair cost change.
    pub median_cost_change_usd: Usd,
    /// 95% bootstrap interval of the median cost change (1,000 resamples, fixed seed).
    pub median_cost_change_ci_usd: [Usd; 2],
    /// Baseline arm (paired sessions).
    pub baseline: Arm,
    /// Treated arm (paired sessions).
    pub treated: Arm,
}

/// The task key a session is paired by: metadata `task_id`, else its session id.
pub fn task_key(card: &TraceCard, trace_metadata: Option<&BTreeMap<String, String>>) -> String {
    trace_metadata
        .and_then(|m| m.get("task_id").cloned())
        .unwrap_or_else(|| card.session_id.clone())
}

fn median_nanos(v: &mut [i64]) -> i64 {
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2
    }
}

/// Evaluate `(task key, card)` lists of a baseline and a treated run.
pub fn evaluate(baseline: &[(String, TraceCard)], treated: &[(String, TraceCard)]) -> Evaluation {
    let b: BTreeMap<&String, &TraceCard> = baseline.iter().map(|(k, c)| (k, c)).collect();
    let t: BTreeMap<&String, &TraceCard> = treated.iter().map(|(k, c)| (k, c)).collect();
    let mut pairs = Vec::new();
    let mut unpaired = Vec::new();
    for (k, bc) in &b {
        match t.get(k) {
            Some(tc) => pairs.push(Pair {
                task: (*k).clone(),
                baseline: bc.session_id.clone(),
                treated: tc.session_id.clone(),
                baseline_outcome: bc.outcome,
                treated_outcome: tc.outcome,
                cost_change_usd: tc.total_cost_usd - bc.total_cost_usd,
            }),
            None => unpaired.push((*k).clone()),
        }
    }
    unpaired.extend(
        t.keys()
            .filter(|k| !b.contains_key(*k))
            .map(|k| (*k).clone()),
    );
    let ok = |s: OutcomeStatus| s == OutcomeStatus::Success;
    let regressions = pairs
        .iter()
        .filter(|p| ok(p.baseline_outcome) && !ok(p.treated_outcome))
        .count();
    let recoveries = pairs
        .iter()
        .filter(|p| !ok(p.baseline_outcome) && ok(p.treated_outcome))
        .count();
    let deltas: Vec<i64> = pairs.iter().map(|p| p.cost_change_usd.nanos()).collect();
    let med = median_nanos(&mut deltas.clone());
    // Bootstrap with a fixed SplitMix64 seed: deterministic output.
    let mut state: u64 = 0x0c05_7c4a_f700_0001;
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut meds = Vec::with_capacity(1000);
    if !deltas.is_empty() {
        let mut sample = vec![0i64; deltas.len()];
        for _ in 0..1000 {
            for x in sample.iter_mut() {
                *x = deltas[(next() % deltas.len() as u64) as usize];
            }
            meds.push(median_nanos(&mut sample));
        }
        meds.sort_unstable();
    }
    let ci = if meds.is_empty() {
        [Usd::ZERO, Usd::ZERO]
    } else {
        [Usd::from_nanos(meds[25]), Usd::from_nanos(meds[974])]
    };
    let arm = |treated_side: bool| {
        let mut a = Arm::default();
        for p in &pairs {
            let (c, o) = if treated_side {
                (t[&p.task], p.treated_outcome)
            } else {
                (b[&p.task], p.baseline_outcome)
            };
            a.sessions += 1;
            a.successes += usize::from(ok(o));
            a.total_cost_usd += c.total_cost_usd;
        }
        a.cost_per_success_usd = (a.successes > 0)
            .then(|| Usd::from_nanos(a.total_cost_usd.nanos() / a.successes as i64));
        a
    };
    let baseline_arm = arm(false);
    let treated_arm = arm(true);
    Evaluation {
        pairs,
        unpaired,
        regressions,
        recoveries,
        median_cost_change_usd: Usd::from_nanos(med),
        median_cost_change_ci_usd: ci,
        baseline: baseline_arm,
        treated: treated_arm,
    }
}
