//! Property tests: card round-trips and money invariants; joint validity,
//! monotonicity and determinism of the redundancy analysis.

use proptest::prelude::*;
use tracecard_core::analysis::Analysis;
use tracecard_core::{
    Compiler, Content, ContentCapture, OracleEvidence, OutcomeStatus, PriceTable, Step, StepId,
    StepKind, StepStatus, TokenUsage, Trace, TraceCard,
};
use tracecard_core::{Replayer, Verdict};

const MODELS: &[&str] = &[
    "claude-sonnet-4-5",
    "gpt-4.1-mini",
    "gemini-2.5-pro",
    "deepseek-chat",
    "no-such-model",
];
const TOOLS: &[&str] = &["read_file", "write_file", "grep", "bash", "Task"];
const WORDS: &[&str] = &[
    "the",
    "file",
    "config/prod.toml",
    "pool_size",
    "6432",
    "ledger-db-primary",
    "fetchUser",
    "src/main.rs",
    "TODO",
    "total_42",
    "answer",
    "yes",
    "no",
    "null",
    "x: 1",
    "- item",
    "\"quoted\"",
    "é€",
];
const FILES: &[&str] = &["a.txt", "b.txt", "src/lib.rs"];

#[derive(Debug, Clone)]
struct StepSpec {
    kind: u8,
    model: usize,
    tool: usize,
    tokens: (u64, u64, u64, u64, u64),
    words_out: Vec<usize>,
    words_in: Vec<usize>,
    consumes: Vec<usize>,
    context: Vec<usize>,
    reads: Vec<usize>,
    writes: Vec<usize>,
    error: bool,
    reported: Option<u32>,
    nest: bool,
}

fn step_spec() -> impl Strategy<Value = StepSpec> {
    (
        (0u8..10, 0..MODELS.len(), 0..TOOLS.len()),
        (
            0u64..300_000,
            0u64..5_000,
            0u64..100_000,
            0u64..20_000,
            0u64..2_000,
        ),
        (
            prop::collection::vec(0..WORDS.len(), 0..6),
            prop::collection::vec(0..WORDS.len(), 0..4),
        ),
        (
            prop::collection::vec(0usize..64, 0..3),
            prop::collection::vec(0usize..64, 0..3),
        ),
        (
            prop::collection::vec(0..FILES.len(), 0..2),
            prop::collection::vec(0..FILES.len(), 0..2),
        ),
        (
            any::<bool>(),
            prop::option::of(0u32..50_000),
            prop::bool::weighted(0.2),
        ),
    )
        .prop_map(
            |(
                (kind, model, tool),
                tokens,
                (words_out, words_in),
                (consumes, context),
                (reads, writes),
                (error, reported, nest),
            )| StepSpec {
                kind,
                model,
                tool,
                tokens,
                words_out,
                words_in,
                consumes,
                context,
                reads,
                writes,
                error,
                reported,
                nest,
            },
        )
}

fn text(ws: &[usize]) -> String {
    ws.iter().map(|w| WORDS[*w]).collect::<Vec<_>>().join(" ")
}

fn build(specs: &[StepSpec], final_last: bool, content: bool) -> Trace {
    let mut t = Trace::new("prop", "native");
    t.source.content = if content {
        ContentCapture::Full
    } else {
        ContentCapture::None
    };
    let mut open_spawn: Option<StepId> = None;
    for (i, sp) in specs.iter().enumerate() {
        let kind = match sp.kind {
            0..=3 => StepKind::LlmCall,
            4..=7 => StepKind::ToolUse,
            8 => StepKind::SubagentSpawn,
            _ => StepKind::UserInput,
        };
        let mut s = Step::new(kind);
        if sp.nest {
            s.parent = open_spawn;
        } else {
            open_spawn = None;
        }
        match kind {
            StepKind::LlmCall => {
                s.model = Some(MODELS[sp.model].into());
                let (a, b, c, d, e) = sp.tokens;
                s.tokens = TokenUsage::from_exclusive(a, c, d, 0, b + e);
            }
            _ => s.tool = Some(TOOLS[sp.tool].into()),
        }
        s.reported_cost_usd = sp
            .reported
            .map(|r| tracecard_core::Usd::from_nanos(i64::from(r) * 1000));
        if content {
            s.output = Some(Content::full(text(&sp.words_out)));
            s.input = Some(Content::full(text(&sp.words_in)));
        } else {
            s.output = Some(Content::hashed(&text(&sp.words_out)));
        }
        if i > 0 {
            s.links.consumes = sp
                .consumes
                .iter()
                .map(|c| StepId::from_index(c % i))
                .collect();
            s.links.context = sp
                .context
                .iter()
                .map(|c| StepId::from_index(c % i))
                .collect();
        }
        if kind == StepKind::ToolUse {
            s.links.reads = sp.reads.iter().map(|f| FILES[*f].to_string()).collect();
            s.links.writes = sp.writes.iter().map(|f| FILES[*f].to_string()).collect();
        }
        if sp.error {
            s.status = StepStatus::Error;
        }
        let id = t.push(s);
        if kind == StepKind::SubagentSpawn {
            open_spawn = Some(id);
        }
    }
    if final_last && !t.steps.is_empty() {
        t.outcome.final_step = Some(StepId::from_index(t.steps.len() - 1));
    }
    t.outcome.status = OutcomeStatus::Success;
    t.outcome.evidence.push(OracleEvidence {
        verifier: "prop".into(),
        passed: Some(true),
        message: Some("checked pool_size".into()),
        score: Some(0.75),
        artifacts: vec![],
    });
    t
}

fn trace_strategy() -> impl Strategy<Value = Trace> {
    (
        prop::collection::vec(step_spec(), 0..40),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(s, f, c)| build(&s, f, c))
}

fn dump(t: &Trace, a: &Analysis) -> String {
    let mut out = format!(
        "final={:?} content={:?}\n",
        t.outcome.final_step, t.source.content
    );
    for s in &t.steps {
        out.push_str(&format!(
            "{} {:?} p={:?} live={} cons={:?} ctx={:?} r={:?} w={:?} st={:?} in={:?} out={:?} v={:?}\n",
            s.id, s.kind, s.parent, a.is_live(s.id), s.links.consumes, s.links.context, s.links.reads, s.links.writes, s.status,
            s.input.as_ref().and_then(|c| c.text.clone()), s.output.as_ref().and_then(|c| c.text.clone()),
            a.finding(s.id).map(|f| (f.verdict, f.reason.clone()))
        ));
    }
    for e in &a.edges {
        out.push_str(&format!(
            "  {} -> {:?} {:?} {}\n",
            e.producer(),
            e.consumer(),
            e.level,
            e.detail
        ));
    }
    out
}

fn live_set(t: &Trace) -> Vec<bool> {
    let a = Analysis::run(t, PriceTable::bundled()).expect("analysis");
    t.steps.iter().map(|s| a.is_live(s.id)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn card_round_trips_through_yaml_and_json(t in trace_strategy()) {
        let card = Compiler::new().compile(&t).unwrap();
        let yaml = card.to_yaml().unwrap();
        prop_assert_eq!(&TraceCard::from_yaml(&yaml).unwrap(), &card, "{}", yaml);
        prop_assert_eq!(&TraceCard::from_json(&card.to_json().unwrap()).unwrap(), &card);
    }

    #[test]
    fn total_is_the_sum_of_steps_and_never_negative(t in trace_strategy()) {
        let card = Compiler::new().compile(&t).unwrap();
        let sum: tracecard_core::Usd = card.steps.iter().filter_map(|s| s.cost_usd).sum();
        prop_assert_eq!(card.total_cost_usd, sum);
        prop_assert!(!card.total_cost_usd.is_negative());
        for s in &card.steps {
            prop_assert!(s.cost_usd.is_none_or(|c| !c.is_negative()));
            prop_assert!(s.carried_context_cost_usd.is_none_or(|c| !c.is_negative()));
            prop_assert!(s.subtree_cost_usd.is_none_or(|c| c >= s.cost_usd.unwrap_or_default()));
            prop_assert_eq!(s.cost_usd.is_none(), s.cost_source == tracecard_core::CostSource::Unknown);
        }
        prop_assert_eq!(card.unpriced_steps as usize, card.steps.iter().filter(|s| s.cost_usd.is_none()).count());
    }

    #[test]
    fn flags_are_jointly_valid(t in trace_strategy()) {
        let a = Analysis::run(&t, PriceTable::bundled()).unwrap();
        // every producer (by evidence of use) of a live step, and of the outcome, is live
        for e in a.edges.iter().filter(|e| e.is_use()) {
            let consumer_live = e.consumer().is_none_or(|c| a.is_live(c));
            if consumer_live {
                prop_assert!(a.is_live(e.producer()), "edge {:?} into a live consumer from a flagged step", e);
            }
        }
        // no redundant step feeds a step that stays (needed or unproven)
        let red = |id: StepId| a.finding(id).is_some_and(|f| f.verdict == Verdict::Redundant);
        // (a dead store's write receipt may still have been delivered: its effect is gone)
        for e in &a.edges {
            let dead_store = a.finding(e.producer()).and_then(|f| f.reason.as_deref()).is_some_and(|r| r.starts_with("overwritten by step"));
            if red(e.producer()) && (e.is_use() || !dead_store) {
                prop_assert!(e.consumer().is_some_and(red), "edge {:?} from a redundant step into a kept one\n{}", e, dump(&t, &a));
            }
        }
        for (id, f) in a.findings() {
            prop_assert_eq!(f.verdict == Verdict::Needed, a.is_live(id));
            prop_assert_eq!(f.reason.is_some(), f.verdict != Verdict::Needed);
        }
        // every ancestor of the outcome survives the joint removal, and the built-in
        // replayer agrees the outcome survives it
        let flagged: Vec<StepId> = t.steps.iter().filter(|s| red(s.id)).map(|s| s.id).collect();
        let mut ancestors = vec![false; t.steps.len()];
        let mut stack: Vec<StepId> = a.edges.iter().filter(|e| e.consumer().is_none()).map(|e| e.producer()).collect();
        while let Some(x) = stack.pop() {
            if !std::mem::replace(&mut ancestors[x.index()], true) {
                stack.extend(a.edges.iter().filter(|e| e.is_use() && e.consumer() == Some(x)).map(|e| e.producer()));
            }
        }
        for id in &flagged {
            prop_assert!(!ancestors[id.index()], "flagged step {} is an ancestor of the outcome\n{}", id, dump(&t, &a));
        }
        let replayed = tracecard_core::DataflowReplayer.replay(&t, &flagged).unwrap();
        prop_assert!(tracecard_core::analysis::same_outcome(&t.outcome, &replayed));
    }

    #[test]
    fn adding_a_consumer_edge_never_flags_a_step(t in trace_strategy(), p in 0usize..40, c in 1usize..40) {
        prop_assume!(t.steps.len() >= 2);
        let c = 1 + c % (t.steps.len() - 1);
        let p = p % c;
        let before = Analysis::run(&t, PriceTable::bundled()).unwrap();
        let mut t2 = t.clone();
        t2.steps[c].links.consumes.push(StepId::from_index(p));
        let after = Analysis::run(&t2, PriceTable::bundled()).unwrap();
        for s in &t.steps {
            let red = |a: &Analysis, id: StepId| a.finding(id).is_some_and(|f| f.verdict == Verdict::Redundant);
            let (was, is) = (red(&before, s.id), red(&after, s.id));
            // the one exception: a duplicate whose original is now kept
            let dup_of_kept = after.duplicate_of(s.id).is_some_and(|o| !red(&after, o));
            prop_assert!(was || !is || dup_of_kept, "step {} became redundant\n{}", s.id, dump(&t2, &after));
        }
    }

    #[test]
    fn adding_a_consumer_edge_never_makes_a_step_redundant(t in trace_strategy(), p in 0usize..40, c in 1usize..40) {
        prop_assume!(t.steps.len() >= 2);
        let c = 1 + c % (t.steps.len() - 1);
        let p = p % c;
        let before = live_set(&t);
        let mut t2 = t.clone();
        t2.steps[c].links.consumes.push(StepId::from_index(p));
        let after = live_set(&t2);
        for i in 0..before.len() {
            prop_assert!(!before[i] || after[i], "step {} became redundant", i + 1);
        }
    }

    #[test]
    fn analysis_is_deterministic(t in trace_strategy()) {
        let a = Compiler::new().compile(&t).unwrap().to_yaml().unwrap();
        let b = Compiler::new().compile(&t.clone()).unwrap().to_yaml().unwrap();
        prop_assert_eq!(a, b);
    }
}
