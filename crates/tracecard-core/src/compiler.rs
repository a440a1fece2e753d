//! The pipeline from a [`Trace`] to a [`TraceCard`]: price every step, run the
//! redundancy analysis, confirm it by counterfactual replay when a replayer is
//! given, and total it all. The card type itself lives in [`crate::card`]; the
//! analysis returns its results as data ([`Analysis`]), which this module copies
//! onto the card.

use std::collections::BTreeMap;

use crate::Result;
use crate::analysis::{self, Analysis, Replayer, Verdict};
use crate::card::{
    CARD_SCHEMA_VERSION, CardSource, CardStep, CostSource, Rollups, TraceCard, rollups,
};
use crate::cost::PriceTable;
use crate::input_root::InputRoot;
use crate::model::{StepKind, Trace, Warning, WarningCode};
use crate::money::Usd;

/// Compiles traces into cards: prices every step, runs the redundancy analysis and,
/// when a replayer is given, confirms its flags by counterfactual replay.
pub struct Compiler<'a> {
    prices: &'a PriceTable,
    analyze: bool,
    replayer: Option<&'a dyn Replayer>,
    replay_budget: usize,
}

impl Default for Compiler<'static> {
    fn default() -> Self {
        Compiler::new()
    }
}

impl Compiler<'static> {
    /// A compiler with the bundled prices, analysis on, and the built-in dataflow
    /// replayer.
    pub fn new() -> Self {
        Compiler {
            prices: PriceTable::bundled(),
            analyze: true,
            replayer: None,
            replay_budget: analysis::DEFAULT_REPLAY_BUDGET,
        }
    }
}

impl<'a> Compiler<'a> {
    /// Use `prices` instead of the bundled table.
    pub fn prices<'b>(self, prices: &'b PriceTable) -> Compiler<'b>
    where
        'a: 'b,
    {
        Compiler {
            prices,
            analyze: self.analyze,
            replayer: self.replayer,
            replay_budget: self.replay_budget,
        }
    }

    /// Turn the redundancy analysis off (every step `verdict: needed`).
    pub fn analyze(mut self, on: bool) -> Self {
        self.analyze = on;
        self
    }

    /// Confirm flags with `replayer` (in addition to the built-in dataflow replay).
    pub fn replayer<'b>(self, replayer: &'b dyn Replayer) -> Compiler<'b>
    where
        'a: 'b,
    {
        Compiler {
            prices: self.prices,
            analyze: self.analyze,
            replayer: Some(replayer),
            replay_budget: self.replay_budget,
        }
    }

    /// Replays per session the replayer may run (the baseline included; default
    /// [`analysis::DEFAULT_REPLAY_BUDGET`]).
    pub fn replay_budget(mut self, budget: usize) -> Self {
        self.replay_budget = budget;
        self
    }

    /// Compile `trace` into a card.
    pub fn compile(&self, trace: &Trace) -> Result<TraceCard> {
        self.compile_with_analysis(trace).map(|(card, _)| card)
    }

    /// Compile `trace` into a card, and return the analysis it rests on (`None`
    /// when the analysis is off): the evidence edges, removal units and findings,
    /// after any replay, for consumers such as costcraft that need more than the
    /// card.
    pub fn compile_with_analysis(&self, trace: &Trace) -> Result<(TraceCard, Option<Analysis>)> {
        trace.validate()?;
        let mut warnings = trace.warnings.clone();
        let mut steps = Vec::with_capacity(trace.steps.len());
        let mut unknown_models: BTreeMap<String, u64> = BTreeMap::new();
        let mut approx_models: BTreeMap<String, String> = BTreeMap::new();
        let mut no_usage = 0u64;
        for s in &trace.steps {
            let at = s.started_at.or(s.ended_at).or(trace.started_at);
            let priced = match (&s.model, s.tokens.is_empty()) {
                (Some(m), false) => self.prices.price(m, &s.tokens, at),
                _ => None,
            };
            if let (Some(p), Some(m)) = (&priced, &s.model) {
                if p.approximate {
                    approx_models.insert(m.clone(), p.model_id.clone());
                }
            }
            let billable = matches!(s.kind, StepKind::LlmCall) || !s.tokens.is_empty();
            let (cost, source) = match (&priced, s.reported_cost_usd) {
                (Some(p), _) => (Some(p.usd), CostSource::Computed),
                (None, Some(r)) => (Some(r), CostSource::Reported),
                (None, None) if !billable => (Some(Usd::ZERO), CostSource::Free),
                (None, None) => {
                    match &s.model {
                        Some(m) if !s.tokens.is_empty() => {
                            *unknown_models.entry(m.clone()).or_default() += 1
                        }
                        _ => no_usage += 1,
                    }
                    (None, CostSource::Unknown)
                }
            };
            steps.push(CardStep {
                id: s.id,
                kind: s.kind,
                parent: s.parent,
                tool: s.tool.clone(),
                model: s.model.clone(),
                agent: s.agent.clone(),
                cost_usd: cost,
                cost_source: source,
                reported_cost_usd: s.reported_cost_usd,
                priced_as: priced.as_ref().map(|p| match p.tier {
                    Some(t) => format!("{}@{t}", p.model_id),
                    None => p.model_id.clone(),
                }),
                tokens: s.tokens,
                duration_ms: s.duration_ms(),
                status: s.status,
                subtree_cost_usd: None,
                carried_context_cost_usd: None,
                wasted_cost_usd: None,
                verdict: Verdict::Needed,
                redundant: false,
                reason: None,
                evidence: None,
                confirmed_by: None,
                source_ref: s.source_ref.clone(),
            });
        }
        for (m, n) in &unknown_models {
            warnings.push(Warning::new(
                WarningCode::UnknownModel,
                format!("model `{m}` is not in the price table ({}); {n} step(s) have an unknown cost (pass --prices FILE)", self.prices.name()),
            ));
        }
        for (m, id) in &approx_models {
            warnings.push(Warning::new(
                WarningCode::ApproximatePrice,
                format!("model `{m}` priced as `{id}` (prefix match)"),
            ));
        }
        if no_usage > 0 {
            warnings.push(Warning::new(
                WarningCode::NoUsage,
                format!("{no_usage} model call(s) carry no token usage and no reported cost; their cost is unknown"),
            ));
        }

        // Sub-agent subtree costs: children come after their spawn, so one reverse pass
        // accumulates each subtree into its parent.
        let mut subtree: Vec<Usd> = steps
            .iter()
            .map(|s| s.cost_usd.unwrap_or(Usd::ZERO))
            .collect();
        for i in (0..steps.len()).rev() {
            if let Some(p) = steps[i].parent {
                let add = subtree[i];
                subtree[p.index()] += add;
            }
        }
        for (i, s) in steps.iter_mut().enumerate() {
            if s.kind == StepKind::SubagentSpawn {
                s.subtree_cost_usd = Some(subtree[i]);
            }
        }

        let total: Usd = steps.iter().filter_map(|s| s.cost_usd).sum();
        let unpriced = steps.iter().filter(|s| s.cost_usd.is_none()).count() as u64;
        let step_reported: Vec<Usd> = trace
            .steps
            .iter()
            .filter_map(|s| s.reported_cost_usd)
            .collect();
        let reported = trace
            .reported_cost_usd
            .or_else(|| (!step_reported.is_empty()).then(|| step_reported.iter().sum()));
        let mut card = TraceCard {
            schema_version: CARD_SCHEMA_VERSION.into(),
            session_id: trace.session_id.clone(),
            source: CardSource {
                format: trace.source.format.clone(),
                files: trace.source.files.clone(),
                content: trace.source.content,
            },
            outcome: trace.outcome.status,
            outcome_reason: trace.outcome.reason.clone(),
            oracle: trace.outcome.evidence.clone(),
            total_cost_usd: total,
            unpriced_steps: unpriced,
            reported_cost_usd: reported,
            cost_delta_usd: reported.map(|r| total - r),
            prices: self.prices.name().to_owned(),
            tokens: trace.total_tokens(),
            redundant_cost_usd: Usd::ZERO,
            wasted_cost_usd: Usd::ZERO,
            unproven_cost_usd: Usd::ZERO,
            replays_used: None,
            rollups: Rollups::default(),
            steps,
            warnings,
        };
        let analysis = if self.analyze {
            let mut analysis = Analysis::run(trace, self.prices)?;
            if !analysis.content_checked {
                card.warnings.push(Warning::new(
                    WarningCode::NoContent,
                    "the source carries no tool or model content: redundancy is judged from ids, artifacts and structure only, and delivered outputs are left unproven",
                ));
            }
            if let Some(r) = self.replayer {
                let costs: Vec<Usd> = card
                    .steps
                    .iter()
                    .zip(&analysis.carried)
                    .map(|(s, c)| s.cost_usd.unwrap_or_default() + *c)
                    .collect();
                let report = analysis.confirm(trace, r, self.replay_budget, &costs)?;
                card.replays_used = Some(report.replays_used as u64);
                card.warnings.extend(report.warnings);
            }
            apply_findings(&analysis, &mut card);
            Some(analysis)
        } else {
            None
        };
        card.redundant_cost_usd = card
            .steps
            .iter()
            .filter(|s| s.redundant)
            .filter_map(|s| s.cost_usd)
            .sum();
        for st in card.steps.iter_mut() {
            st.wasted_cost_usd = st.redundant.then(|| {
                st.cost_usd.unwrap_or_default() + st.carried_context_cost_usd.unwrap_or_default()
            });
        }
        card.wasted_cost_usd = card.steps.iter().filter_map(|s| s.wasted_cost_usd).sum();
        card.unproven_cost_usd = card
            .steps
            .iter()
            .filter(|s| s.verdict == Verdict::Unproven)
            .map(|s| {
                s.cost_usd.unwrap_or_default() + s.carried_context_cost_usd.unwrap_or_default()
            })
            .sum();
        card.rollups = rollups(&card);
        strip_machine_paths(&mut card, trace);
        Ok((card, analysis))
    }
}

/// Cards carry no path of the machine that made them, so identical inputs on two
/// machines give identical cards: every file name on the card (sources, warnings,
/// and the paths warning messages quote) is named relative to the parent of the
/// input argument the loader found it under ([`Source::root`](crate::Source::root));
/// a trace without one (built in memory, read back from JSON) takes its first file
/// as the argument.
fn strip_machine_paths(card: &mut TraceCard, trace: &Trace) {
    let root = match &trace.source.root {
        Some(r) => r.clone(),
        None => match card.source.files.first() {
            Some(f) => InputRoot::file(std::path::Path::new(f)),
            None => InputRoot::file(std::path::Path::new("")),
        },
    };
    root.rewrite(&mut card.source.files, card.warnings.iter_mut());
}

/// Copy the analysis's attributed costs and findings onto the card's steps.
fn apply_findings(analysis: &Analysis, card: &mut TraceCard) {
    for (i, s) in card.steps.iter_mut().enumerate() {
        let carried = analysis.carried[i];
        s.carried_context_cost_usd = (carried != Usd::ZERO).then_some(carried);
        let f = &analysis.findings[i];
        s.verdict = f.verdict;
        s.redundant = f.verdict == Verdict::Redundant;
        s.reason = f.reason.clone();
        s.evidence = f.evidence;
        s.confirmed_by = f.confirmed_by.clone();
    }
}
