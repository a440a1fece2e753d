//! tracecard's verdicts against true replay of an agent the analysis was not
//! written for. Seeds 0..100 are the tuning seeds; the report seeds (10_000..)
//! are never looked at while changing the analysis (figures in BENCHMARKS.md).

use std::collections::BTreeSet;

use ops_agent::{ContentLevel, Status, run_with};
use tracecard_core::{OracleEvidence, Outcome, OutcomeStatus, Trace};
use tracecard_flagbench::{Report, ScriptedAgent, measure};

/// The ops agent at one content level.
struct Ops(ContentLevel);

impl ScriptedAgent for Ops {
    fn name(&self) -> &str {
        "ops-agent"
    }
    fn baseline(&self, seed: u64) -> Trace {
        run_with(seed, &BTreeSet::new(), self.0).trace
    }
    fn replay(&self, seed: u64, removed: &BTreeSet<u32>) -> Outcome {
        let o = run_with(seed, removed, self.0).outcome;
        Outcome {
            status: match o.status {
                Status::Success => OutcomeStatus::Success,
                Status::Failure => OutcomeStatus::Failure,
            },
            evidence: o
                .evidence
                .into_iter()
                .map(|e| OracleEvidence {
                    verifier: e.verifier,
                    passed: Some(e.passed),
                    message: Some(e.message),
                    score: None,
                    artifacts: Vec::new(),
                })
                .collect(),
            ..Outcome::default()
        }
    }
}

/// Seeds per run: enough for stable figures, small enough for a debug test run.
const SEEDS: u64 = 40;
/// The report seeds start here.
const REPORT: u64 = 10_000;

fn show(rep: &Report, label: &str) {
    eprintln!("{}", rep.summary(label));
    for m in rep.misses.iter().filter(|m| m.starts_with("FP")).take(15) {
        eprintln!("  {m}");
    }
}

fn dataflow_only(level: ContentLevel, label: &str, min_found: u32) {
    let rep = measure(&Ops(level), REPORT..REPORT + SEEDS, false, 0);
    show(&rep, label);
    assert!(
        rep.strict.tp >= min_found,
        "{}",
        rep.summary("real waste is found")
    );
    assert!(rep.strict.precision() >= 0.95, "{}", rep.summary(label));
    assert!(rep.jointly_valid_share() >= 0.95, "{}", rep.summary(label));
}

#[test]
fn dataflow_flags_hold_with_full_content() {
    dataflow_only(
        ContentLevel::Full,
        "ops agent, full content, dataflow only",
        30,
    );
}

#[test]
fn dataflow_flags_hold_with_partial_content() {
    dataflow_only(
        ContentLevel::Partial,
        "ops agent, partial content, dataflow only",
        5,
    );
}

/// With the agent as replayer, at the default budget (32) and at a tight one (12):
/// every flag is confirmed by replay and all of them can go together. At 12 this
/// is the target: joint recall ≥ 0.85 at a median ≤ 12 replays. Recall is
/// bounded by the steps the dataflow proves needed through strong evidence, which
/// the strategy does not spend replays on.
#[test]
fn replayed_flags_are_exact_and_jointly_removable() {
    for (budget, min_recall) in [(32, 0.92), (12, 0.85)] {
        let rep = measure(
            &Ops(ContentLevel::Full),
            REPORT..REPORT + SEEDS,
            true,
            budget,
        );
        show(
            &rep,
            &format!("ops agent, full content, replayed, budget {budget}"),
        );
        assert!(
            rep.strict.precision() >= 0.99,
            "{}",
            rep.summary("precision")
        );
        assert!(
            rep.joint.recall() >= min_recall,
            "{}",
            rep.summary("recall")
        );
        assert_eq!(rep.jointly_valid, rep.sessions, "{}", rep.summary("joint"));
        assert!(
            rep.replays.iter().all(|&r| r <= budget as u64),
            "{}",
            rep.summary("budget")
        );
        if budget == 12 {
            assert!(rep.median_replays() <= 12, "{}", rep.summary("median"));
        }
    }
}

/// A harness stricter than the agent's own verifier: it also fails any replay
/// that removes two steps or more.
struct NoPairs<'a>(tracecard_flagbench::AgentReplayer<'a, Ops>);

impl tracecard_core::Replayer for NoPairs<'_> {
    fn name(&self) -> &str {
        "no-pairs"
    }
    fn replay(
        &self,
        trace: &Trace,
        removed: &[tracecard_core::StepId],
    ) -> tracecard_core::Result<Outcome> {
        let mut out = self.0.replay(trace, removed)?;
        if removed.len() >= 2 {
            out.status = OutcomeStatus::Failure;
        }
        Ok(out)
    }
}

/// No replay is held back for a final joint check: with a budget too small to
/// test every dataflow flag, the flags no accepted replay covered become
/// `unproven`, so whatever stays flagged was confirmed by a replay that removed it
/// together with all the other flags (with the agent itself, and with a harness
/// that rejects the dataflow's flags as a group).
#[test]
fn a_spent_budget_leaves_only_replayed_flags() {
    let agent = Ops(ContentLevel::Full);
    let mut demoted = 0;
    for seed in REPORT..REPORT + 10 {
        let trace = agent.baseline(seed);
        let mk = || tracecard_flagbench::AgentReplayer {
            agent: &agent,
            seed,
        };
        let (plain, strict) = (mk(), NoPairs(mk()));
        let replayers: [(&dyn tracecard_core::Replayer, &str); 2] =
            [(&plain, "replay:ops-agent"), (&strict, "replay:no-pairs")];
        for ((replayer, name), budget) in replayers
            .into_iter()
            .flat_map(|r| [2, 3, 4].map(|b| (r, b)))
        {
            let card = tracecard_core::Compiler::new()
                .replayer(replayer)
                .replay_budget(budget)
                .compile(&trace)
                .unwrap();
            assert!(
                card.replays_used.is_some_and(|n| n <= budget as u64),
                "{seed}"
            );
            let flagged: BTreeSet<u32> = card
                .steps
                .iter()
                .filter(|s| s.redundant)
                .map(|s| s.id.0)
                .collect();
            for s in card.steps.iter().filter(|s| s.redundant) {
                assert_eq!(
                    s.confirmed_by.as_deref(),
                    Some(name),
                    "seed {seed} budget {budget} step {}",
                    s.id
                );
            }
            assert!(ops_agent::keeps_outcome(seed, &flagged), "{seed} {budget}");
            if name == "replay:no-pairs" {
                assert!(flagged.len() <= 1, "{seed} {budget} {flagged:?}");
            }
            demoted += card
                .steps
                .iter()
                .filter(|s| {
                    s.reason
                        .as_deref()
                        .is_some_and(|r| r.contains("replay budget ran out"))
                })
                .count();
        }
    }
    assert!(demoted > 0);
}

/// The `ops-agent replay` binary as a `tracecard-replay/1` command, end to end:
/// a session written to disk, loaded back, compiled with the command replayer.
#[test]
fn the_replay_command_confirms_flags_end_to_end() {
    let dir = std::env::temp_dir().join(format!("ops-agent-flags-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let seed = REPORT + 3;
    let session = run_with(seed, &BTreeSet::new(), ContentLevel::Full);
    let path = dir.join(format!("{}.jsonl", session.trace.session_id));
    std::fs::write(&path, session.to_jsonl()).unwrap();
    let traces = tracecard_core::load(&path, None).unwrap();
    let cmd = format!("{} replay", env!("CARGO_BIN_EXE_ops-agent"));
    let replayer = tracecard_core::CommandReplayer::new(cmd).with_name("ops-agent");
    let card = tracecard_core::Compiler::new()
        .replayer(&replayer)
        .replay_budget(16)
        .compile(&traces[0])
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        card.warnings.iter().all(|w| w.code != "replay_failed"),
        "{:?}",
        card.warnings
    );
    let used = card.replays_used.unwrap();
    assert!((2..=16).contains(&used), "{used}");
    let flagged: BTreeSet<u32> = card
        .steps
        .iter()
        .filter(|s| s.redundant)
        .map(|s| s.id.0)
        .collect();
    assert!(!flagged.is_empty());
    for s in card.steps.iter().filter(|s| s.redundant) {
        assert_eq!(s.confirmed_by.as_deref(), Some("replay:ops-agent"));
    }
    assert!(ops_agent::keeps_outcome(seed, &flagged), "{flagged:?}");
}

/// Tuning aid: `cargo test -p ops-agent --release --test flags -- --ignored tune --nocapture`.
#[test]
#[ignore = "tuning aid on the tuning seeds"]
fn tune() {
    for (level, name) in [
        (ContentLevel::Full, "full"),
        (ContentLevel::Partial, "partial"),
    ] {
        let rep = measure(&Ops(level), 0..100, false, 0);
        eprintln!("{}", rep.summary(&format!("tune {name} dataflow")));
        let mut kinds = std::collections::BTreeMap::<String, usize>::new();
        for m in &rep.misses {
            let key = m
                .split(": ")
                .nth(1)
                .unwrap_or("")
                .split('(')
                .next()
                .unwrap_or("")
                .to_owned();
            *kinds.entry(format!("{} {key}", &m[..2])).or_default() += 1;
        }
        for (k, n) in kinds {
            eprintln!("  {n:5} {k}");
        }
        for m in rep.misses.iter().filter(|m| m.starts_with("FP")).take(30) {
            eprintln!("  {m}");
        }
    }
    let budget = std::env::var("BUDGET")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(32);
    let rep = measure(&Ops(ContentLevel::Full), 0..100, true, budget);
    eprintln!("{}", rep.summary("tune full replayed"));
    let mut kinds = std::collections::BTreeMap::<String, usize>::new();
    for m in &rep.misses {
        let (head, reason) = m.split_once(": ").unwrap_or((m, ""));
        let head: Vec<&str> = head.split(' ').collect();
        let reason: String = reason.chars().take(24).collect();
        let key = format!("{} {} {}", head[0], head[5..].join(" "), reason);
        *kinds.entry(key).or_default() += 1;
    }
    for (k, n) in kinds {
        eprintln!("  {n:5} {k}");
    }
    eprintln!("replays: {:?}", rep.replays);
}

/// Tuning aid: why dataflow calls removable steps needed.
#[test]
#[ignore = "tuning aid on the tuning seeds"]
fn tune_needed() {
    use tracecard_core::analysis::Analysis;
    let mut why = std::collections::BTreeMap::<String, usize>::new();
    for seed in 0..30 {
        let trace = run_with(seed, &BTreeSet::new(), ContentLevel::Full).trace;
        let truth = ops_agent::strict_truth(seed);
        let a = Analysis::run(&trace, tracecard_core::PriceTable::bundled()).unwrap();
        for (i, s) in trace.steps.iter().enumerate() {
            if a.is_live(s.id) && truth[i] && s.kind != tracecard_core::StepKind::UserInput {
                let ex = a.explain(&trace, s.id).unwrap();
                let live = ex
                    .lines()
                    .find(|l| l.contains("live:"))
                    .unwrap_or("")
                    .to_owned();
                let sink = live.rsplit("OUTCOME").next().unwrap_or("").to_owned();
                let first = live
                    .split(" -> ")
                    .nth(1)
                    .unwrap_or("")
                    .split(':')
                    .next()
                    .unwrap_or("")
                    .to_owned();
                *why.entry(format!(
                    "{:?} {} | {} | {}",
                    s.kind,
                    s.tool.as_deref().unwrap_or(""),
                    first.split('[').nth(1).unwrap_or(""),
                    sink
                ))
                .or_default() += 1;
                if seed < 3 {
                    eprintln!("seed {seed} {ex}");
                }
            }
        }
    }
    for (k, n) in why {
        eprintln!("{n:5} {k}");
    }
}

/// Tuning aid: what the unproven steps are, and how many are truly removable.
#[test]
#[ignore = "tuning aid on the tuning seeds"]
fn tune_unproven() {
    use tracecard_core::analysis::Analysis;
    let mut by = std::collections::BTreeMap::<String, (usize, usize)>::new();
    for seed in 0..60 {
        let trace = run_with(seed, &BTreeSet::new(), ContentLevel::Full).trace;
        let truth = ops_agent::strict_truth(seed);
        let a = Analysis::run(&trace, tracecard_core::PriceTable::bundled()).unwrap();
        for (i, s) in trace.steps.iter().enumerate() {
            if a.finding(s.id).map(|f| f.verdict) != Some(tracecard_core::Verdict::Unproven) {
                continue;
            }
            let len = s.output.as_ref().map(|o| o.len).unwrap_or(0);
            let bucket = match len {
                0 => "0",
                1..=40 => "<=40",
                41..=200 => "<=200",
                _ => ">200",
            };
            let reason = a
                .finding(s.id)
                .and_then(|f| f.reason.clone())
                .unwrap_or_default();
            let r = reason
                .split(['(', ';'])
                .next()
                .unwrap_or("")
                .split(" step")
                .next()
                .unwrap_or("")
                .to_owned();
            let e = by
                .entry(format!(
                    "{:?} {} len{} | {}",
                    s.kind,
                    s.tool.as_deref().unwrap_or(""),
                    bucket,
                    r
                ))
                .or_default();
            e.0 += 1;
            e.1 += usize::from(truth[i]);
        }
    }
    for (k, (n, t)) in by {
        eprintln!("{n:5} {t:5} {k}");
    }
}

/// Tuning aid: one line per step of a tuning seed (`SEED`, default 0): dataflow
/// verdict, reason, and whether removing the step alone keeps the outcome.
#[test]
#[ignore = "tuning aid on the tuning seeds"]
fn tune_dump() {
    use tracecard_core::analysis::Analysis;
    let seed = std::env::var("SEED")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(0);
    let trace = run_with(seed, &BTreeSet::new(), ContentLevel::Full).trace;
    let truth = ops_agent::strict_truth(seed);
    let a = Analysis::run(&trace, tracecard_core::PriceTable::bundled()).unwrap();
    for (i, s) in trace.steps.iter().enumerate() {
        let f = a.finding(s.id).unwrap();
        let text = |c: &Option<tracecard_core::Content>| {
            c.as_ref()
                .and_then(|c| c.text.as_deref())
                .unwrap_or("")
                .chars()
                .take(70)
                .collect::<String>()
                .replace('\n', "⏎")
        };
        eprintln!(
            "{:3} {} {:?} {:10} p{:<4} {:9} | in {:70} | out {:70} | {}",
            s.id.0,
            if truth[i] { "R" } else { "." },
            s.kind,
            s.tool.as_deref().unwrap_or(""),
            s.parent.map(|p| p.0.to_string()).unwrap_or_default(),
            f.verdict.as_str(),
            text(&s.input),
            text(&s.output),
            f.reason.as_deref().unwrap_or("")
        );
    }
}

/// Tuning aid: how often `needed` steps are removable, by which evidence their
/// liveness rests on.
#[test]
#[ignore = "tuning aid on the tuning seeds"]
fn tune_prior() {
    use tracecard_core::analysis::{Analysis, Edge, Sink};
    use tracecard_core::{EvidenceLevel, StepKind, Verdict};
    let mut by = std::collections::BTreeMap::<String, (usize, usize)>::new();
    for seed in 0..100 {
        let trace = run_with(seed, &BTreeSet::new(), ContentLevel::Full).trace;
        let truth = ops_agent::strict_truth(seed);
        let a = Analysis::run(&trace, tracecard_core::PriceTable::bundled()).unwrap();
        let n = trace.steps.len();
        let reach = |keep: &dyn Fn(&Edge) -> bool| {
            let mut live = vec![false; n];
            let mut stack: Vec<usize> = a
                .edges
                .iter()
                .filter(|e| e.is_use() && e.consumer().is_none() && keep(e))
                .map(|e| e.producer().index())
                .collect();
            let mut into: Vec<Vec<usize>> = vec![Vec::new(); n];
            for e in a.edges.iter().filter(|e| e.is_use() && keep(e)) {
                if let Some(c) = e.consumer() {
                    into[c.index()].push(e.producer().index());
                }
            }
            while let Some(x) = stack.pop() {
                if !live[x] {
                    live[x] = true;
                    stack.extend(into[x].iter().copied());
                }
            }
            live
        };
        let no_art = reach(&|e| e.sink != Some(Sink::FinalArtifact));
        let no_rbr = reach(&|e| !e.detail.starts_with("read before rewriting"));
        let no_num = reach(&|e| !e.detail.starts_with("new numbers"));
        let no_content = reach(&|e| e.level != EvidenceLevel::Content);
        for (i, s) in trace.steps.iter().enumerate() {
            if matches!(s.kind, StepKind::UserInput | StepKind::Compaction) {
                continue;
            }
            if a.finding(s.id).map(|f| f.verdict) != Some(Verdict::Needed) {
                continue;
            }
            let sig = format!(
                "{:?} art{} rbr{} num{} content{}",
                s.kind,
                u8::from(!no_art[i]),
                u8::from(!no_rbr[i]),
                u8::from(!no_num[i]),
                u8::from(!no_content[i]),
            );
            let e = by.entry(sig).or_default();
            e.0 += 1;
            e.1 += usize::from(truth[i]);
        }
    }
    for (k, (n, t)) in by {
        eprintln!("{n:5} {t:5} {:.2} {k}", t as f64 / n as f64);
    }
}

#[test]
#[ignore = "debug"]
fn tune_one() {
    let seed: u64 = std::env::var("SEED")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(0);
    let budget = std::env::var("BUDGET")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(12);
    let rep = measure(&Ops(ContentLevel::Full), seed..seed + 1, true, budget);
    eprintln!("{}", rep.summary("one"));
    for m in &rep.misses {
        eprintln!("  {m}");
    }
}

/// Tuning aid: removal units of the replay candidates by features, and how often
/// removing the unit alone keeps the outcome.
#[test]
#[ignore = "tuning aid on the tuning seeds"]
fn tune_units() {
    use tracecard_core::analysis::Analysis;
    use tracecard_core::{StepId, StepKind};
    let mut by = std::collections::BTreeMap::<String, (usize, usize)>::new();
    for seed in 0..100 {
        let trace = run_with(seed, &BTreeSet::new(), ContentLevel::Full).trace;
        let a = Analysis::run(&trace, tracecard_core::PriceTable::bundled()).unwrap();
        let prior = a.replay_priors(&trace);
        let cands: Vec<StepId> = (0..prior.len())
            .filter(|&i| prior[i] > 0.0)
            .map(StepId::from_index)
            .collect();
        for u in a.removal_units(&cands) {
            let p = u.iter().map(|id| prior[id.index()]).fold(1.0f64, f64::min);
            if p >= 0.95 {
                continue;
            }
            let set: BTreeSet<u32> = u.iter().map(|s| s.0).collect();
            let ok = ops_agent::keeps_outcome(seed, &set);
            let tools: Vec<&tracecard_core::Step> = u
                .iter()
                .map(|id| trace.step(*id).unwrap())
                .filter(|s| s.kind != StepKind::LlmCall)
                .collect();
            let shape = if u
                .iter()
                .any(|id| trace.step(*id).unwrap().kind == StepKind::SubagentSpawn)
            {
                "subagent".to_string()
            } else {
                let t = tools
                    .iter()
                    .map(|s| {
                        let len = s.output.as_ref().map(|o| o.len).unwrap_or(0);
                        let reason = a
                            .finding(s.id)
                            .and_then(|f| f.reason.clone())
                            .unwrap_or_default();
                        let r = if reason.starts_with("used by") {
                            "used"
                        } else if reason.starts_with("delivered") {
                            "deliv"
                        } else if reason.is_empty() {
                            "needed"
                        } else {
                            "other"
                        };
                        format!(
                            "{}{}",
                            if len == 0 {
                                "0"
                            } else if len <= 40 {
                                "S"
                            } else if len <= 200 {
                                "M"
                            } else {
                                "L"
                            },
                            r
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(",");
                format!("n{} [{}]", u.len(), t)
            };
            let e = by.entry(format!("p{p:.2} {shape}")).or_default();
            e.0 += 1;
            e.1 += usize::from(ok);
        }
    }
    for (k, (n, t)) in by {
        eprintln!("{n:5} {t:5} {:.2} {k}", t as f64 / n as f64);
    }
}
