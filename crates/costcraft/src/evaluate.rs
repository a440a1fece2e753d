//! Held-out evaluation: pair baseline and treated runs of the same tasks and
//! report regressions, recoveries, the median cost change with a bootstrap
//! interval, cost per successful task and, when the treated runs say which rules
//! were active ([`ACTIVE_RULES_KEY`]), the per-lane ablation.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tracecard_core::{Compiler, OutcomeStatus, Trace, TraceCard, Usd};

use crate::distill::Action;
use crate::error::Error;

/// Trace metadata key naming the rules active in a treated run: rule ids of
/// `rules.yaml`, comma- or whitespace-separated, or a JSON array of strings. An
/// empty value means no rule was active. A rule's lane (prune, repair, preserve)
/// is read from its id's prefix (`prune-…`, `repair-…`, `preserve-…`).
pub const ACTIVE_RULES_KEY: &str = "costcraft.active_rules";

/// The rule ids of a trace's [`ACTIVE_RULES_KEY`] metadata (`None` when absent).
pub fn active_rules(metadata: &BTreeMap<String, String>) -> Option<Vec<String>> {
    let v = metadata.get(ACTIVE_RULES_KEY)?.trim();
    if v.starts_with('[') {
        if let Ok(ids) = serde_json::from_str::<Vec<String>>(v) {
            return Some(ids);
        }
    }
    Some(
        v.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|x| !x.is_empty())
            .map(str::to_owned)
            .collect(),
    )
}

/// One line of a `tracecard guard --log` file, as [`read_guard_log`] reads it
/// (other fields are ignored).
#[derive(Debug, Clone, Deserialize)]
struct GuardLogLine {
    session_id: String,
    active_rules: Vec<String>,
    #[serde(default)]
    dry_run: bool,
}

/// The rules active per session, from `tracecard guard --log` files: session id →
/// the union of the `active_rules` of its lines. A session whose lines were all
/// written under `--dry-run` ran with no rule able to deny: its set is empty (the
/// `no rules` lane). Blank lines are skipped; any other bad line (not JSON, no
/// `session_id`, no `active_rules`, as written by a guard before they were
/// logged) is a parse error naming the file, the line and the field.
pub fn read_guard_log(path: &Path) -> crate::Result<BTreeMap<String, BTreeSet<String>>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (i, l) in text.lines().enumerate() {
        let line = Some(i as u64 + 1);
        let l = l.trim();
        if l.is_empty() {
            continue;
        }
        let mut de = serde_json::Deserializer::from_str(l);
        let r: GuardLogLine = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let field = e.path().to_string();
            let msg = e.into_inner().to_string();
            if field == "." {
                Error::parse(path, line, msg)
            } else {
                Error::parse(path, line, format!("field {field}: {msg}"))
            }
        })?;
        if r.session_id.is_empty() {
            return Err(Error::parse(path, line, "field session_id: empty"));
        }
        let set = out.entry(r.session_id).or_default();
        if !r.dry_run {
            set.extend(r.active_rules);
        }
    }
    Ok(out)
}

/// Set [`ACTIVE_RULES_KEY`] on every trace from guard logs ([`read_guard_log`],
/// merged): a session with log lines gets their rules (a JSON array, sorted), a
/// session without any gets an empty value (it ran without the guard: the `no
/// rules` lane). Traces that already carry the key keep it. Returns how many
/// traces had log lines.
pub fn attach_guard_logs(traces: &mut [Trace], logs: &BTreeMap<String, BTreeSet<String>>) -> usize {
    let mut hit = 0;
    for t in traces.iter_mut() {
        if t.metadata.contains_key(ACTIVE_RULES_KEY) {
            continue;
        }
        let ids: Vec<&String> = match logs.get(&t.session_id) {
            Some(ids) => {
                hit += 1;
                ids.iter().collect()
            }
            None => Vec::new(),
        };
        let v = serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into());
        t.metadata.insert(ACTIVE_RULES_KEY.into(), v);
    }
    hit
}

/// The action of a rule id, from its prefix.
pub fn rule_action(id: &str) -> Option<Action> {
    [
        ("prune-", Action::Prune),
        ("repair-", Action::Repair),
        ("preserve-", Action::Preserve),
    ]
    .into_iter()
    .find_map(|(p, a)| id.starts_with(p).then_some(a))
}

/// One compiled run: its task key, card and (treated runs) active rules.
#[derive(Debug, Clone)]
pub struct Run {
    /// [`task_key`].
    pub task: String,
    /// The card.
    pub card: TraceCard,
    /// The trace's [`ACTIVE_RULES_KEY`], when present.
    pub active_rules: Option<Vec<String>>,
}

impl Run {
    /// A run from a trace and its card.
    pub fn new(trace: &Trace, card: TraceCard) -> Run {
        Run {
            task: task_key(&card, Some(&trace.metadata)),
            active_rules: active_rules(&trace.metadata),
            card,
        }
    }

    /// Compile `trace` and keep what evaluation needs.
    pub fn compile(trace: Trace, compiler: &Compiler) -> crate::Result<Run> {
        let card = compiler.compile(&trace)?;
        Ok(Run::new(&trace, card))
    }

    /// The actions of the active rules (`None` without the metadata).
    fn actions(&self) -> Option<BTreeSet<Action>> {
        self.active_rules
            .as_ref()
            .map(|ids| ids.iter().filter_map(|i| rule_action(i)).collect())
    }
}

/// One lane of the ablation: the treated runs whose active rules cover exactly
/// `actions`, evaluated against the baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Lane {
    /// `all rules`, `without prune`, `without preserve`, `without repair`, `no
    /// rules`, or the actions joined by `+`.
    pub lane: String,
    /// The actions with at least one active rule in these runs.
    pub actions: Vec<Action>,
    /// Distinct active rule ids over these runs.
    pub rules: usize,
    /// Paired tasks.
    pub pairs: usize,
    /// Tasks of the lane without a baseline run.
    pub unpaired: usize,
    /// Success in the baseline, not in the lane.
    pub regressions: usize,
    /// Not in the baseline, success in the lane.
    pub recoveries: usize,
    /// Median per-pair cost change.
    pub median_cost_change_usd: Usd,
    /// Its 95% bootstrap interval.
    pub median_cost_change_ci_usd: [Usd; 2],
    /// The lane's paired runs.
    pub treated: Arm,
}

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
    /// Per-lane ablation, when the treated runs carry [`ACTIVE_RULES_KEY`]; then
    /// the figures above are those of the `all rules` lane (and the runs without
    /// the key).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ablation: Vec<Lane>,
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

/// Evaluate `(task key, card)` lists of a baseline and a treated run (no
/// ablation: see [`evaluate_runs`]).
pub fn evaluate(baseline: &[(String, TraceCard)], treated: &[(String, TraceCard)]) -> Evaluation {
    let runs = |v: &[(String, TraceCard)]| -> Vec<Run> {
        v.iter()
            .map(|(k, c)| Run {
                task: k.clone(),
                card: c.clone(),
                active_rules: None,
            })
            .collect()
    };
    evaluate_runs(&runs(baseline), &runs(treated))
}

fn lane_name(actions: &BTreeSet<Action>, all: &BTreeSet<Action>) -> String {
    let name = |a: &Action| match a {
        Action::Prune => "prune",
        Action::Repair => "repair",
        Action::Preserve => "preserve",
    };
    if actions.is_empty() {
        return "no rules".into();
    }
    if actions == all {
        return "all rules".into();
    }
    let missing: Vec<&Action> = all.difference(actions).collect();
    if actions.is_subset(all) && missing.len() == 1 {
        return format!("without {}", name(missing[0]));
    }
    actions.iter().map(name).collect::<Vec<_>>().join("+")
}

/// Evaluate a baseline against treated runs. When treated runs carry
/// [`ACTIVE_RULES_KEY`], they are grouped into lanes by the actions of their
/// active rules (the union over all treated runs is `all rules`); each lane is
/// paired with the baseline in [`Evaluation::ablation`], and the main figures use
/// the `all rules` lane plus the runs without the key.
pub fn evaluate_runs(baseline: &[Run], treated: &[Run]) -> Evaluation {
    let b: Vec<(String, TraceCard)> = baseline
        .iter()
        .map(|r| (r.task.clone(), r.card.clone()))
        .collect();
    let all: BTreeSet<Action> = treated.iter().filter_map(Run::actions).flatten().collect();
    let mut lanes: BTreeMap<BTreeSet<Action>, Vec<&Run>> = BTreeMap::new();
    for r in treated {
        if let Some(a) = r.actions() {
            lanes.entry(a).or_default().push(r);
        }
    }
    let main: Vec<(String, TraceCard)> = treated
        .iter()
        .filter(|r| r.actions().is_none_or(|a| lanes.len() <= 1 || a == all))
        .map(|r| (r.task.clone(), r.card.clone()))
        .collect();
    let mut e = evaluate_pairs(&b, &main);
    if !lanes.is_empty() {
        e.ablation = lanes
            .iter()
            .map(|(actions, runs)| {
                let t: Vec<(String, TraceCard)> = runs
                    .iter()
                    .map(|r| (r.task.clone(), r.card.clone()))
                    .collect();
                let le = evaluate_pairs(&b, &t);
                let rules: BTreeSet<&String> = runs
                    .iter()
                    .filter_map(|r| r.active_rules.as_ref())
                    .flatten()
                    .collect();
                let lane_tasks: BTreeSet<&String> = runs.iter().map(|r| &r.task).collect();
                Lane {
                    lane: lane_name(actions, &all),
                    actions: actions.iter().copied().collect(),
                    rules: rules.len(),
                    pairs: le.pairs.len(),
                    unpaired: lane_tasks
                        .iter()
                        .filter(|k| !b.iter().any(|(bk, _)| bk == **k))
                        .count(),
                    regressions: le.regressions,
                    recoveries: le.recoveries,
                    median_cost_change_usd: le.median_cost_change_usd,
                    median_cost_change_ci_usd: le.median_cost_change_ci_usd,
                    treated: le.treated,
                }
            })
            .collect();
        // `all rules`, then the `without …` lanes, then the others
        e.ablation.sort_by_key(|l| {
            (
                l.lane != "all rules",
                !l.lane.starts_with("without"),
                l.lane.clone(),
            )
        });
    }
    e
}

fn evaluate_pairs(baseline: &[(String, TraceCard)], treated: &[(String, TraceCard)]) -> Evaluation {
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
        ablation: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_rules_parse_both_forms() {
        let mut m = BTreeMap::new();
        assert_eq!(active_rules(&m), None);
        m.insert(
            ACTIVE_RULES_KEY.into(),
            "prune-a, repair-b  preserve-c".into(),
        );
        assert_eq!(
            active_rules(&m).unwrap(),
            ["prune-a", "repair-b", "preserve-c"]
        );
        m.insert(ACTIVE_RULES_KEY.into(), r#"["prune-a","x"]"#.into());
        assert_eq!(active_rules(&m).unwrap(), ["prune-a", "x"]);
        m.insert(ACTIVE_RULES_KEY.into(), " ".into());
        assert_eq!(active_rules(&m).unwrap(), Vec::<String>::new());
        assert_eq!(rule_action("preserve-x"), Some(Action::Preserve));
        assert_eq!(rule_action("x"), None);
    }

    #[test]
    fn guard_log_lines_union_dry_run_and_field_errors() {
        let dir = std::env::temp_dir().join(format!("costcraft-guard-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("guard.jsonl");
        std::fs::write(
            &p,
            concat!(
                r#"{"session_id":"a","decision":"allow","active_rules":["prune-x"],"dry_run":false}"#,
                "\n\n",
                r#"{"session_id":"a","decision":"deny","active_rules":["prune-y","prune-x"],"dry_run":false,"future":1}"#,
                "\n",
                r#"{"session_id":"b","decision":"would_deny","active_rules":["prune-x"],"dry_run":true}"#,
                "\n",
            ),
        )
        .unwrap();
        let logs = read_guard_log(&p).unwrap();
        assert_eq!(logs["a"].iter().collect::<Vec<_>>(), ["prune-x", "prune-y"]);
        assert!(logs["b"].is_empty(), "dry run: no rule could deny");
        let mut traces: Vec<Trace> = ["a", "b", "c"]
            .iter()
            .map(|id| {
                let mut t = Trace::new(*id, "test");
                t.metadata.insert("x".into(), "y".into());
                t
            })
            .collect();
        assert_eq!(attach_guard_logs(&mut traces, &logs), 2);
        let got: Vec<Option<Vec<String>>> =
            traces.iter().map(|t| active_rules(&t.metadata)).collect();
        assert_eq!(
            got,
            [
                Some(vec!["prune-x".to_string(), "prune-y".to_string()]),
                Some(vec![]),
                Some(vec![])
            ]
        );
        // a line of an older guard (no active_rules), a wrong type: file, line, field
        std::fs::write(
            &p,
            "{\"session_id\":\"a\",\"active_rules\":[]}\n{\"session_id\":\"a\",\"decision\":\"allow\"}\n",
        )
        .unwrap();
        let e = read_guard_log(&p).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Parse);
        let m = e.to_string();
        assert!(m.starts_with(&format!("{}:2: ", p.display())), "{m}");
        assert!(m.contains("active_rules"), "{m}");
        std::fs::write(&p, "{\"session_id\":\"a\",\"active_rules\":[1]}\n").unwrap();
        let m = read_guard_log(&p).unwrap_err().to_string();
        assert!(m.contains(":1: field active_rules[0]: invalid type"), "{m}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn lane_names() {
        use Action::*;
        let all: BTreeSet<Action> = [Prune, Repair, Preserve].into();
        let s = |v: &[Action]| v.iter().copied().collect::<BTreeSet<_>>();
        assert_eq!(lane_name(&all, &all), "all rules");
        assert_eq!(lane_name(&s(&[Repair, Preserve]), &all), "without prune");
        assert_eq!(lane_name(&s(&[Prune, Repair]), &all), "without preserve");
        assert_eq!(lane_name(&s(&[]), &all), "no rules");
        assert_eq!(lane_name(&s(&[Prune]), &all), "prune");
    }
}
