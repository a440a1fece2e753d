//! # guard-study
//!
//! The transfer study of issue 17, on the scripted ops agent with true replay:
//! distil `rules.yaml` from sessions of one set of task kinds (**train**), then run
//! *other* sessions with the guard enforcing the rules — the same task kinds with
//! new data (**seen kinds**), and sessions with task kinds the rules never saw
//! (**unseen kinds**) — and count denies, regressions, savings.
//!
//! "Enforcing" means the agent really runs without the denied calls: the guard
//! decides online, from the state of the replayed session before each call
//! ([`costcraft::guard::SessionState`]); a deny re-runs the session with that call
//! removed (`ops_agent::run(seed, &removed)`), and the walk goes on from the same
//! prefix until no call is denied. A removed call is a call that never ran.
//!
//! Lanes: no rules; prune rules (what `tracecard guard` enforces: active
//! `pre_tool_use` prune rules); all prune rules (held-back ones too); and a
//! similarity baseline that denies any call whose canonical input is ≥ 0.8 similar
//! (character-bigram Dice) to an earlier call of the same tool anywhere in the
//! session — what argument-similarity clustering amounts to.

use std::collections::{BTreeSet, HashMap};

use costcraft::guard::{Guard, GuardOptions, Pending, SessionState, trace_context};
use costcraft::signature::canonical_input;
use costcraft::{Policy, RuleSet, Session};
use serde::Serialize;
use serde_json::Value;
use tracecard_core::{Compiler, OutcomeStatus, Replayer, StepId, StepKind, Trace, Usd};

/// The task kinds (verifier names without `ops-check/`) the rules are learnt on.
pub const SEEN_KINDS: &[&str] = &[
    "flag-feature",
    "csv-total",
    "rename",
    "release-notes",
    "incident",
];

/// First seed of the evaluation sessions (the training seeds start at 0).
pub const EVAL_SEED_START: u64 = 100_000;

/// The task kinds of a session (from its verifier evidence).
pub fn kinds(trace: &Trace) -> Vec<String> {
    trace
        .outcome
        .evidence
        .iter()
        .filter_map(|e| e.verifier.strip_prefix("ops-check/").map(str::to_string))
        .collect()
}

/// Whether every task kind of the session is in [`SEEN_KINDS`].
pub fn only_seen(trace: &Trace) -> bool {
    kinds(trace)
        .iter()
        .all(|k| SEEN_KINDS.contains(&k.as_str()))
}

/// The first `n` seeds from `start` whose baseline session satisfies `pred`.
pub fn pick_seeds(start: u64, n: usize, pred: impl Fn(&Trace) -> bool) -> Vec<u64> {
    let mut out = Vec::with_capacity(n);
    let mut seed = start;
    while out.len() < n {
        if pred(&ops_agent::run(seed, &BTreeSet::new()).trace) {
            out.push(seed);
        }
        seed += 1;
    }
    out
}

/// True counterfactual replay of ops-agent sessions, in process.
pub struct OpsReplayer;

impl Replayer for OpsReplayer {
    fn name(&self) -> &str {
        "ops-agent"
    }

    fn replay(
        &self,
        trace: &Trace,
        removed: &[StepId],
    ) -> tracecard_core::Result<tracecard_core::Outcome> {
        let seed = ops_agent::seed_from_session_id(&trace.session_id).ok_or_else(|| {
            tracecard_core::Error::Replay {
                replayer: "ops-agent".into(),
                message: format!("{} is not an ops-<seed> session", trace.session_id),
                source: None,
            }
        })?;
        let removed: BTreeSet<u32> = removed.iter().map(|s| s.0).collect();
        Ok(ops_agent::run(seed, &removed).trace.outcome)
    }
}

/// Distil rules from the baseline sessions of `seeds`, verdicts confirmed by true
/// replay. Backfire guards are allowed (reported in `rules.yaml`).
pub fn distil(seeds: &[u64]) -> RuleSet {
    let r = OpsReplayer;
    let sessions: Vec<Session> = seeds
        .iter()
        .map(|&seed| {
            let trace = ops_agent::run(seed, &BTreeSet::new()).trace;
            Session::compile(trace, &Compiler::new().replayer(&r)).expect("an ops session compiles")
        })
        .collect();
    let policy = Policy {
        allow_backfire: costcraft::backfire::Guard::ALL.into_iter().collect(),
        ..Policy::default()
    };
    costcraft::distill(sessions, &policy)
        .expect("distillation of ops sessions")
        .rules
}

/// A lane of the study.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Lane {
    /// No guard.
    NoRules,
    /// Active `pre_tool_use` prune rules (what `tracecard guard` enforces).
    PruneRules,
    /// Every `pre_tool_use` prune rule, held-back ones included.
    AllRules,
    /// Deny any call ≥ 0.8 similar to an earlier call of the same tool.
    Similarity,
}

impl Lane {
    /// Every lane, in table order.
    pub const ALL: [Lane; 4] = [
        Lane::NoRules,
        Lane::PruneRules,
        Lane::AllRules,
        Lane::Similarity,
    ];

    /// Name in the table.
    pub fn as_str(self) -> &'static str {
        match self {
            Lane::NoRules => "no rules",
            Lane::PruneRules => "prune rules (what `tracecard guard` enforces)",
            Lane::AllRules => "all prune rules (held back, repeat_after_change too)",
            Lane::Similarity => "similarity ≥ 0.8 baseline",
        }
    }
}

/// What decides a pending call in a lane.
pub enum Decider<'a> {
    /// Allow everything.
    Nothing,
    /// A costcraft guard.
    Guard(&'a Guard),
    /// The similarity baseline with this threshold.
    Similarity(f64),
}

/// Character-bigram Dice similarity of two strings (1.0 when equal).
pub fn similarity(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    let bigrams = |s: &str| -> HashMap<(char, char), usize> {
        let cs: Vec<char> = s.chars().collect();
        let mut m = HashMap::new();
        for w in cs.windows(2) {
            *m.entry((w[0], w[1])).or_insert(0) += 1;
        }
        m
    };
    let (x, y) = (bigrams(a), bigrams(b));
    let (nx, ny): (usize, usize) = (x.values().sum(), y.values().sum());
    if nx + ny == 0 {
        return 0.0;
    }
    let common: usize = x
        .iter()
        .map(|(k, c)| (*c).min(y.get(k).copied().unwrap_or(0)))
        .sum();
    2.0 * common as f64 / (nx + ny) as f64
}

/// One session run under a lane.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    /// Seed.
    pub seed: u64,
    /// The baseline passed its verifier.
    pub baseline_ok: bool,
    /// The guarded run passed.
    pub treated_ok: bool,
    /// The verifier's verdicts differ from the baseline's.
    pub outcome_changed: bool,
    /// Denied calls: (baseline step id, rule id or `similarity`).
    pub denied: Vec<(u32, String)>,
    /// Baseline cost.
    pub baseline_cost: Usd,
    /// Guarded cost.
    pub treated_cost: Usd,
}

fn cost(trace: &Trace) -> Usd {
    Compiler::new()
        .analyze(false)
        .compile(trace)
        .expect("an ops trace compiles")
        .total_cost_usd
}

/// Run session `seed` with `decider` enforcing online; returns the final run and
/// the denied step ids with the rule that denied each.
pub fn guarded_run(seed: u64, decider: &Decider<'_>) -> (ops_agent::Session, Vec<(u32, String)>) {
    let mut removed: BTreeSet<u32> = BTreeSet::new();
    let mut denied: Vec<(u32, String)> = Vec::new();
    loop {
        let run = ops_agent::run(seed, &removed);
        match first_deny(&run.trace, &removed, decider) {
            Some((id, rule)) => {
                removed.insert(id);
                denied.push((id, rule));
            }
            None => return (run, denied),
        }
    }
}

/// Walk `trace` in order with the decider; the first call it denies.
fn first_deny(
    trace: &Trace,
    removed: &BTreeSet<u32>,
    decider: &Decider<'_>,
) -> Option<(u32, String)> {
    let classes = match decider {
        Decider::Guard(g) => g.classes().clone(),
        _ => Default::default(),
    };
    let mut state = SessionState::new();
    state.start(costcraft::guard::MAIN);
    let mut earlier: Vec<(String, String)> = Vec::new();
    for step in &trace.steps {
        let ran = !step.attributes.contains_key("replay") && !removed.contains(&step.id.0);
        if ran && matches!(step.kind, StepKind::ToolUse | StepKind::SubagentSpawn) {
            let tool = step.tool.clone().unwrap_or_default();
            let (canon, value) = canonical_input(step);
            match decider {
                Decider::Nothing => {}
                Decider::Guard(g) => {
                    let input = value.unwrap_or(Value::Null);
                    let ctx = trace_context(step.parent);
                    let agent_type = step
                        .parent
                        .and_then(|p| trace.step(p))
                        .and_then(|s| s.agent.clone());
                    let d = g.decide(
                        &state,
                        &Pending {
                            tool: &tool,
                            input: &input,
                            context: &ctx,
                            agent_type: agent_type.as_deref(),
                        },
                    );
                    if !d.allowed {
                        return Some((step.id.0, d.rule_id.unwrap_or_default()));
                    }
                }
                Decider::Similarity(th) => {
                    if earlier
                        .iter()
                        .any(|(t, c)| *t == tool && similarity(c, &canon) >= *th)
                    {
                        return Some((step.id.0, "similarity".into()));
                    }
                }
            }
            earlier.push((tool, canon));
        }
        if ran {
            state.apply_step(step, &classes);
        }
    }
    None
}

/// Run `seed` under `decider` and compare with its baseline.
pub fn run_one(seed: u64, decider: &Decider<'_>) -> Run {
    let base = ops_agent::run(seed, &BTreeSet::new());
    let (treated, denied) = guarded_run(seed, decider);
    let ok = |s: &ops_agent::Session| s.trace.outcome.status == OutcomeStatus::Success;
    Run {
        seed,
        baseline_ok: ok(&base),
        treated_ok: ok(&treated),
        outcome_changed: !treated.outcome.same_as(&base.outcome),
        denied,
        baseline_cost: cost(&base.trace),
        treated_cost: cost(&treated.trace),
    }
}

/// One row of the table: a lane on a split.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// `seen kinds` or `unseen kinds`.
    pub split: String,
    /// The lane.
    pub lane: Lane,
    /// Sessions.
    pub sessions: usize,
    /// Denied calls.
    pub denies: usize,
    /// Sessions that passed and now fail.
    pub regressions: usize,
    /// Sessions whose verifier verdicts changed at all.
    pub outcome_changed: usize,
    /// Baseline cost − guarded cost, summed.
    pub saved_usd: Usd,
    /// Saved as a share of the baseline cost.
    pub saved_share: f64,
    /// Median per-session cost change (guarded − baseline).
    pub median_cost_change_usd: Usd,
    /// Baseline successes.
    pub baseline_successes: usize,
    /// Guarded successes.
    pub successes: usize,
    /// Baseline cost per successful session.
    pub baseline_cost_per_success_usd: Option<Usd>,
    /// Guarded cost per successful session.
    pub cost_per_success_usd: Option<Usd>,
}

fn row(split: &str, lane: Lane, runs: &[Run]) -> Row {
    let base: Usd = runs.iter().map(|r| r.baseline_cost).sum();
    let treated: Usd = runs.iter().map(|r| r.treated_cost).sum();
    let mut deltas: Vec<i64> = runs
        .iter()
        .map(|r| (r.treated_cost - r.baseline_cost).nanos())
        .collect();
    deltas.sort_unstable();
    let med = if deltas.is_empty() {
        0
    } else if deltas.len() % 2 == 1 {
        deltas[deltas.len() / 2]
    } else {
        (deltas[deltas.len() / 2 - 1] + deltas[deltas.len() / 2]) / 2
    };
    let bs = runs.iter().filter(|r| r.baseline_ok).count();
    let ts = runs.iter().filter(|r| r.treated_ok).count();
    let per = |total: Usd, n: usize| (n > 0).then(|| Usd::from_nanos(total.nanos() / n as i64));
    Row {
        split: split.into(),
        lane,
        sessions: runs.len(),
        denies: runs.iter().map(|r| r.denied.len()).sum(),
        regressions: runs
            .iter()
            .filter(|r| r.baseline_ok && !r.treated_ok)
            .count(),
        outcome_changed: runs.iter().filter(|r| r.outcome_changed).count(),
        saved_usd: base - treated,
        saved_share: if base.nanos() > 0 {
            (base - treated).nanos() as f64 / base.nanos() as f64
        } else {
            0.0
        },
        median_cost_change_usd: Usd::from_nanos(med),
        baseline_successes: bs,
        successes: ts,
        baseline_cost_per_success_usd: per(base, bs),
        cost_per_success_usd: per(treated, ts),
    }
}

/// Sizes of the study.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Config {
    /// Training sessions (seen kinds only, seeds from 0).
    pub train: usize,
    /// Evaluation sessions per split (seeds from [`EVAL_SEED_START`]).
    pub eval: usize,
}

/// Denied calls of one run: (baseline step id, rule id).
pub type Denied = Vec<(u32, String)>;

/// A regression of the prune-rule lane: (split, seed, denied calls).
pub type Regression = (String, u64, Denied);

/// One rule enforced alone on one split.
#[derive(Debug, Clone, Serialize)]
pub struct RuleRow {
    /// Rule id.
    pub id: String,
    /// Its status in rules.yaml.
    pub status: String,
    /// Its `after` pattern.
    pub after: String,
    /// Split.
    pub split: String,
    /// Denied calls.
    pub denies: usize,
    /// Sessions that passed and now fail.
    pub regressions: usize,
    /// USD saved.
    pub saved_usd: Usd,
}

/// The whole study.
#[derive(Debug, Clone, Serialize)]
pub struct Study {
    /// Sizes.
    pub config: Config,
    /// Training seeds.
    pub train_seeds: Vec<u64>,
    /// Evaluation seeds, seen kinds.
    pub seen_seeds: Vec<u64>,
    /// Evaluation seeds, with at least one unseen kind.
    pub unseen_seeds: Vec<u64>,
    /// Rules: (id, status) of every prune rule that may deny in a lane.
    pub rules: Vec<(String, String)>,
    /// Table rows.
    pub rows: Vec<Row>,
    /// Regressions of the prune-rule lane: (split, seed, denied calls).
    pub prune_regressions: Vec<Regression>,
}

impl Study {
    /// The row of `lane` on `split`.
    pub fn row(&self, split: &str, lane: Lane) -> &Row {
        self.rows
            .iter()
            .find(|r| r.split == split && r.lane == lane)
            .expect("every lane runs on every split")
    }
}

/// Run the study.
pub fn study(cfg: Config) -> Study {
    let train_seeds = pick_seeds(0, cfg.train, only_seen);
    let rules = distil(&train_seeds);
    let seen_seeds = pick_seeds(EVAL_SEED_START, cfg.eval, only_seen);
    let unseen_seeds = pick_seeds(EVAL_SEED_START, cfg.eval, |t| !only_seen(t));
    let prune = Guard::new(&rules, &GuardOptions::default());
    let all = Guard::new(
        &rules,
        &GuardOptions {
            include_held_back: true,
            repeat_after_change: true,
            ..GuardOptions::default()
        },
    );
    let mut rows = Vec::new();
    let mut prune_regressions = Vec::new();
    for (split, seeds) in [("seen kinds", &seen_seeds), ("unseen kinds", &unseen_seeds)] {
        for lane in Lane::ALL {
            let decider = match lane {
                Lane::NoRules => Decider::Nothing,
                Lane::PruneRules => Decider::Guard(&prune),
                Lane::AllRules => Decider::Guard(&all),
                Lane::Similarity => Decider::Similarity(0.8),
            };
            let runs: Vec<Run> = seeds.iter().map(|&s| run_one(s, &decider)).collect();
            if lane == Lane::PruneRules {
                for r in runs.iter().filter(|r| r.baseline_ok && !r.treated_ok) {
                    prune_regressions.push((split.to_string(), r.seed, r.denied.clone()));
                }
            }
            rows.push(row(split, lane, &runs));
        }
    }
    Study {
        config: cfg,
        train_seeds,
        seen_seeds,
        unseen_seeds,
        rules: all
            .rules()
            .iter()
            .map(|r| {
                (
                    r.id.clone(),
                    serde_json::to_value(r.status)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                )
            })
            .collect(),
        rows,
        prune_regressions,
    }
}

/// The study as a Markdown table (the shape of BENCHMARKS.md).
pub fn render(s: &Study) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "Rules distilled from {} ops-agent sessions (seeds {}…{}, task kinds {}), true replay.\n\
         Prune rules that may deny: {} active, {} held back.\n\n",
        s.train_seeds.len(),
        s.train_seeds.first().copied().unwrap_or(0),
        s.train_seeds.last().copied().unwrap_or(0),
        SEEN_KINDS.join(", "),
        s.rules.iter().filter(|r| r.1 == "active").count(),
        s.rules.iter().filter(|r| r.1 == "held_back").count(),
    ));
    out.push_str("| split | lane | sessions | denies | regressions | outcome changed | USD saved | saved | median cost change | cost/success (baseline → guarded) |\n");
    out.push_str("|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
    let usd = |u: Option<Usd>| {
        u.map(|u| format!("${:.4}", u.to_f64()))
            .unwrap_or("–".into())
    };
    for r in &s.rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} ({:.1}%) | {} | ${:.4} | {:.1}% | ${:.4} | {} → {} |\n",
            r.split,
            r.lane.as_str(),
            r.sessions,
            r.denies,
            r.regressions,
            100.0 * r.regressions as f64 / r.sessions.max(1) as f64,
            r.outcome_changed,
            r.saved_usd.to_f64(),
            100.0 * r.saved_share,
            r.median_cost_change_usd.to_f64(),
            usd(r.baseline_cost_per_success_usd),
            usd(r.cost_per_success_usd),
        ));
    }
    if !s.prune_regressions.is_empty() {
        out.push_str("\nRegressions of the prune-rule lane:\n");
        for (split, seed, denied) in &s.prune_regressions {
            out.push_str(&format!("- {split}: ops-{seed}, denied {denied:?}\n"));
        }
    }
    out
}

/// Per prune rule that may deny in the all-rules lane, enforced alone.
pub fn per_rule(s: &Study, rules: &RuleSet) -> Vec<RuleRow> {
    let mut out = Vec::new();
    let opts = GuardOptions {
        include_held_back: true,
        repeat_after_change: true,
        ..GuardOptions::default()
    };
    for r in rules
        .rules
        .iter()
        .filter(|r| costcraft::guard::may_deny(r, &opts))
    {
        let mut one = rules.clone();
        one.rules = vec![r.clone()];
        one.rules[0].status = costcraft::RuleStatus::Active;
        let g = Guard::new(&one, &opts);
        for (split, seeds) in [
            ("seen kinds", &s.seen_seeds),
            ("unseen kinds", &s.unseen_seeds),
        ] {
            let runs: Vec<Run> = seeds
                .iter()
                .map(|&x| run_one(x, &Decider::Guard(&g)))
                .collect();
            let row = row(split, Lane::PruneRules, &runs);
            out.push(RuleRow {
                id: r.id.clone(),
                status: format!("{:?}", r.status),
                after: r.matcher.after.as_str().to_string(),
                split: split.to_string(),
                denies: row.denies,
                regressions: row.regressions,
                saved_usd: row.saved_usd,
            });
        }
    }
    out
}

/// The waste categories of the ceiling (ops-agent design roles of removable
/// steps), in table order.
pub const CATEGORIES: &[(ops_agent::Role, &str)] = &[
    (
        ops_agent::Role::RedundantRecheck,
        "duplicate read (nothing changed)",
    ),
    (ops_agent::Role::UnusedExplore, "unused read / search / ls"),
    (ops_agent::Role::IgnoredSubagent, "ignored sub-agent"),
    (ops_agent::Role::DeadStore, "dead store (write overwritten)"),
    (ops_agent::Role::FailedAttempt, "failed attempt (retried)"),
    (
        ops_agent::Role::CoincidentDefault,
        "decision input equal to the default",
    ),
];

/// One category of the ceiling on one split.
#[derive(Debug, Clone, Serialize)]
pub struct CeilingRow {
    /// Category name ([`CATEGORIES`]), or `all` for the joint figures.
    pub category: String,
    /// Tool calls / spawns of the category in the jointly removable sets.
    pub calls: usize,
    /// Saved by removing the category's calls of the joint sets (true replay).
    pub saved_usd: Usd,
    /// The part of them whose prefix-causal signature no needed call shares.
    pub catchable_calls: usize,
    /// Saved by removing only the catchable ones (true replay).
    pub catchable_saved_usd: Usd,
    /// Calls of the category the enforced guard denied (its prune-rule lane).
    pub enforced_denies: usize,
    /// Saved by removing only those (true replay).
    pub enforced_saved_usd: Usd,
}

/// The savings ceiling of a guard on one split.
#[derive(Debug, Clone, Serialize)]
pub struct Ceiling {
    /// `seen kinds` or `unseen kinds`.
    pub split: String,
    /// Sessions.
    pub sessions: usize,
    /// Baseline cost.
    pub baseline_usd: Usd,
    /// Saved by removing every step whose role is removable, model calls too
    /// (greedy joint set kept only while the outcome is unchanged).
    pub any_step_saved_usd: Usd,
    /// Per category, then `all`: tool calls and spawns only (what a `PreToolUse`
    /// guard can deny).
    pub rows: Vec<CeilingRow>,
}

/// The greedy jointly removable subset of `cands` (in id order): a step joins
/// while the session's outcome stays the baseline's (true replay).
fn joint(seed: u64, cands: &[u32]) -> BTreeSet<u32> {
    let all: BTreeSet<u32> = cands.iter().copied().collect();
    if ops_agent::keeps_outcome(seed, &all) {
        return all;
    }
    let mut j = BTreeSet::new();
    for &c in cands {
        j.insert(c);
        if !ops_agent::keeps_outcome(seed, &j) {
            j.remove(&c);
        }
    }
    j
}

/// How much of a split's cost a `PreToolUse` guard could save at most, and how
/// much of that a prefix-causal rule at the signature resolution of
/// [`costcraft::signature::signatures`] could catch at all: a removable call is
/// catchable when no call of the split with the same signature is needed
/// (removing it alone changes the outcome) — an oracle over the split itself, so
/// an upper bound for rules learnt elsewhere. `guard`: what the enforced rules
/// deny of each category.
pub fn ceiling(split: &str, seeds: &[u64], guard: &Guard) -> Ceiling {
    struct S {
        seed: u64,
        base: Usd,
        joint: BTreeSet<u32>,
        needed: BTreeSet<u32>,
        denied: BTreeSet<u32>,
        roles: Vec<ops_agent::Role>,
        sigs: Vec<Option<String>>,
    }
    let classes = guard.classes();
    let mut sessions = Vec::new();
    let mut any_saved = Usd::ZERO;
    for &seed in seeds {
        let base = ops_agent::run(seed, &BTreeSet::new());
        let c = cost(&base.trace);
        let removable = |s: &tracecard_core::Step| base.roles[s.id.index()].removable();
        let any: Vec<u32> = base
            .trace
            .steps
            .iter()
            .filter(|s| removable(s))
            .map(|s| s.id.0)
            .collect();
        let any = joint(seed, &any);
        any_saved += c - cost(&ops_agent::run(seed, &any).trace);
        let calls: Vec<u32> = base
            .trace
            .steps
            .iter()
            .filter(|s| {
                matches!(s.kind, StepKind::ToolUse | StepKind::SubagentSpawn) && removable(s)
            })
            .map(|s| s.id.0)
            .collect();
        let sigs = costcraft::signature::signatures(&base.trace, classes)
            .into_iter()
            .map(|m| {
                m.filter(|m| m.enforceable()).map(|mut m| {
                    m.intervening_tools.clear();
                    m.key()
                })
            })
            .collect();
        let needed = base
            .trace
            .steps
            .iter()
            .filter(|s| matches!(s.kind, StepKind::ToolUse | StepKind::SubagentSpawn))
            .map(|s| s.id.0)
            .filter(|&id| !ops_agent::keeps_outcome(seed, &BTreeSet::from([id])))
            .collect();
        let denied = guarded_run(seed, &Decider::Guard(guard))
            .1
            .into_iter()
            .map(|d| d.0)
            .collect();
        sessions.push(S {
            seed,
            base: c,
            needed,
            denied,
            joint: joint(seed, &calls),
            roles: base.roles,
            sigs,
        });
    }
    // signatures of needed calls anywhere in the split
    let mut needed: BTreeSet<&String> = BTreeSet::new();
    for s in &sessions {
        for (i, k) in s.sigs.iter().enumerate() {
            if let Some(k) = k {
                if s.needed.contains(&(i as u32 + 1)) {
                    needed.insert(k);
                }
            }
        }
    }
    let saved = |pick: &dyn Fn(&S, u32) -> bool, enforced: bool| -> (usize, Usd) {
        let mut n = 0;
        let mut usd = Usd::ZERO;
        for s in &sessions {
            let from = if enforced { &s.denied } else { &s.joint };
            let r: BTreeSet<u32> = from.iter().copied().filter(|&id| pick(s, id)).collect();
            n += r.len();
            if !r.is_empty() {
                usd += s.base - cost(&ops_agent::run(s.seed, &r).trace);
            }
        }
        (n, usd)
    };
    let catchable = |s: &S, id: u32| {
        s.sigs[id as usize - 1]
            .as_ref()
            .is_some_and(|k| !needed.contains(k))
    };
    let mut rows = Vec::new();
    for (role, name) in CATEGORIES
        .iter()
        .map(|(r, n)| (Some(*r), *n))
        .chain([(None, "all (any role)")])
    {
        let in_cat = |s: &S, id: u32| role.is_none_or(|r| s.roles[id as usize - 1] == r);
        let (calls, saved_usd) = saved(&|s, id| in_cat(s, id), false);
        let (catchable_calls, catchable_saved_usd) =
            saved(&|s, id| in_cat(s, id) && catchable(s, id), false);
        let (enforced_denies, enforced_saved_usd) = saved(&|s, id| in_cat(s, id), true);
        rows.push(CeilingRow {
            category: name.to_string(),
            calls,
            saved_usd,
            catchable_calls,
            catchable_saved_usd,
            enforced_denies,
            enforced_saved_usd,
        });
    }
    Ceiling {
        split: split.to_string(),
        sessions: sessions.len(),
        baseline_usd: sessions.iter().map(|s| s.base).sum(),
        any_step_saved_usd: any_saved,
        rows,
    }
}

/// The ceilings as a Markdown table.
pub fn render_ceiling(cs: &[Ceiling]) -> String {
    let mut out = String::from(
        "| split | category | calls | saved (true replay) | share | prefix-causal catchable calls | catchable saved | share | enforced denies | enforced saved | share |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for c in cs {
        let pct = |u: Usd| 100.0 * u.nanos() as f64 / c.baseline_usd.nanos().max(1) as f64;
        out.push_str(&format!(
            "| {} | any removable step, model calls too | – | ${:.4} | {:.1}% | – | – | – | – | – | – |\n",
            c.split,
            c.any_step_saved_usd.to_f64(),
            pct(c.any_step_saved_usd)
        ));
        for r in &c.rows {
            out.push_str(&format!(
                "| {} | {} | {} | ${:.4} | {:.1}% | {} | ${:.4} | {:.1}% | {} | ${:.4} | {:.1}% |\n",
                c.split,
                r.category,
                r.calls,
                r.saved_usd.to_f64(),
                pct(r.saved_usd),
                r.catchable_calls,
                r.catchable_saved_usd.to_f64(),
                pct(r.catchable_saved_usd),
                r.enforced_denies,
                r.enforced_saved_usd.to_f64(),
                pct(r.enforced_saved_usd)
            ));
        }
    }
    out
}
