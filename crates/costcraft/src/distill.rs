//! Distillation: patches of many sessions grouped by step signature into rules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tracecard_core::analysis::Analysis;
use tracecard_core::{StepId, Usd, Verdict};

use crate::backfire::{self, BackfireWarning};
use crate::error::{Error, Result, to_yaml};
use crate::patch::{self, PatchKind, PatchSet};
use crate::policy::Policy;
use crate::signature::{Match, ToolClasses};
use crate::{Session, prepare};

/// Version tag of `rules.yaml`.
pub const RULES_SCHEMA_VERSION: &str = "costcraft-rules/1";
/// Version tag of `patches.yaml`.
pub const PATCHES_SCHEMA_VERSION: &str = "costcraft-patches/1";

/// What a rule does.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Do not make the matching call (a guard may deny it).
    Prune,
    /// Fix what a verifier names before finishing.
    Repair,
    /// Keep doing this (a positive claim; quarantined).
    Preserve,
}

/// Whether a rule is in force.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RuleStatus {
    /// In SKILL.md; prune rules with `enforce: pre_tool_use` may be enforced.
    Active,
    /// Preserve rules: kept out of SKILL.md until an evaluation passes them.
    Quarantined,
    /// A prune rule without enough support or with too many counter-examples
    /// (`held_back` says which).
    HeldBack,
}

/// Where a rule can act.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Enforce {
    /// Decidable on a pending tool call: a guard may deny it.
    PreToolUse,
    /// Guidance in SKILL.md only.
    Advice,
}

/// One step of one session.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct StepRef {
    /// Session id.
    pub session_id: String,
    /// Card step id.
    pub step: StepId,
    /// The step's id in the original file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ref: Option<String>,
}

/// Where a rule's evidence is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Support {
    /// Distinct sessions.
    pub sessions: usize,
    /// Distinct tasks.
    pub tasks: usize,
    /// Steps.
    pub steps: usize,
}

/// Steps matching the rule that contradict it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CounterExamples {
    /// Distinct sessions with a contradicting step.
    pub sessions: usize,
    /// Contradicting steps (`needed` for prune rules, `redundant` for preserve).
    pub steps: usize,
    /// `steps / (steps + supporting steps)`.
    pub rate: f64,
    /// Matching steps that are `unproven` (neither support nor contradiction).
    #[serde(default)]
    pub unproven_steps: usize,
}

/// What a rule saves.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Savings {
    /// Sum over the supporting patches.
    pub total_usd: Usd,
    /// Median per supporting patch.
    pub median_usd: Usd,
}

/// The steps a rule rests on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Evidence {
    /// Every supporting step.
    pub supporting: Vec<StepRef>,
    /// Every counter-example step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub counter_examples: Vec<StepRef>,
}

/// One distilled rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Rule {
    /// Stable id: action, tool, pattern and a hash of the match.
    pub id: String,
    /// Prune, repair or preserve.
    pub action: Action,
    /// Active, quarantined or held back.
    pub status: RuleStatus,
    /// `pre_tool_use` (a guard may deny a matching call) or `advice`.
    pub enforce: Enforce,
    /// The machine-readable match (see docs/costcraft.md, "Matching").
    #[serde(rename = "match")]
    pub matcher: Match,
    /// In words, what the rule says.
    pub reason: String,
    /// Support.
    pub support: Support,
    /// Counter-examples.
    pub counter_examples: CounterExamples,
    /// Savings.
    pub savings: Savings,
    /// `tasks / (tasks + 1) × (1 − counter-example rate)`: how likely the rule is
    /// to hold on a task it was not learnt from.
    pub transfer_score: f64,
    /// How the supporting patches were confirmed (`replay:<name>`, `dataflow`,
    /// `oracle:<verifier>`, `outcome`) and how many each.
    pub confirmed_by: BTreeMap<String, usize>,
    /// Why a prune rule is held back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub held_back: Vec<String>,
    /// Repair rules: the verifier and its message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// Links to every supporting and counter-example step.
    pub evidence: Evidence,
}

/// The corpus a rule set was distilled from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Corpus {
    /// Sessions.
    pub sessions: usize,
    /// Distinct tasks.
    pub tasks: usize,
    /// Steps.
    pub steps: usize,
    /// Total cost.
    pub total_cost_usd: Usd,
    /// Sessions whose verdicts were tested by a replayer.
    pub replayed_sessions: usize,
    /// Outcome counts (`success`, `failure`, `unknown`).
    pub outcomes: BTreeMap<String, usize>,
}

/// `rules.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RuleSet {
    /// Always [`RULES_SCHEMA_VERSION`].
    pub schema_version: String,
    /// Tool and version that wrote it.
    pub generated_by: String,
    /// The corpus.
    pub corpus: Corpus,
    /// The thresholds used.
    pub policy: Policy,
    /// Tool classes learnt from the corpus (`read_only` feeds `intervening_tools`).
    pub tools: ToolClasses,
    /// Backfire guards that concern the corpus.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backfire: Vec<BackfireWarning>,
    /// The rules: active prune rules first (by savings), then the rest.
    pub rules: Vec<Rule>,
}

impl RuleSet {
    /// Serialise as YAML.
    pub fn to_yaml(&self) -> Result<String> {
        to_yaml(self, "rules")
    }

    /// Parse `rules.yaml` (`path` for messages).
    pub fn from_yaml(text: &str, path: &Path) -> Result<RuleSet> {
        let r: RuleSet = from_yaml_located(text, path)?;
        if r.schema_version != RULES_SCHEMA_VERSION {
            return Err(Error::parse(
                path,
                None,
                format!(
                    "schema_version is {:?}, expected {RULES_SCHEMA_VERSION:?}",
                    r.schema_version
                ),
            ));
        }
        Ok(r)
    }

    /// Read `rules.yaml`.
    pub fn read(path: &Path) -> Result<RuleSet> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        RuleSet::from_yaml(&text, path)
    }

    /// The JSON Schema of `rules.yaml` (committed as `schema/costcraft-rules.schema.json`).
    pub fn json_schema() -> String {
        let schema = schemars::schema_for!(RuleSet);
        let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// Deserialise YAML, reporting a failure with its 1-based line and the path of
/// the field (`rules[3].match.tool`): `serde_path_to_error` tracks the field,
/// serde-saphyr the position.
pub(crate) fn from_yaml_located<T: serde::de::DeserializeOwned>(
    text: &str,
    path: &Path,
) -> Result<T> {
    let mut field = None;
    let opts = serde_saphyr::options! { with_snippet: false };
    let r = serde_saphyr::with_deserializer_from_str_with_options(text, opts, |de| {
        serde_path_to_error::deserialize(de).map_err(|e| {
            let p = e.path().to_string();
            field = (p != ".").then_some(p);
            e.into_inner()
        })
    });
    r.map_err(|e| {
        let e = e.without_snippet();
        let line = e.location().map(|l| l.line()).filter(|&l| l > 0);
        let msg = match &field {
            Some(f) => format!("field {f}: {e}"),
            None => e.to_string(),
        };
        Error::parse(path, line, msg)
    })
}

/// `patches.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PatchFile {
    /// Always [`PATCHES_SCHEMA_VERSION`].
    pub schema_version: String,
    /// Kept and refused patches.
    #[serde(flatten)]
    pub patches: PatchSet,
}

/// Everything a distillation produces.
#[derive(Debug, Clone)]
pub struct Distillation {
    /// `rules.yaml`.
    pub rules: RuleSet,
    /// Every patch, kept or refused.
    pub patches: PatchSet,
    /// The sessions, with backfire warnings on their cards.
    pub sessions: Vec<Session>,
    /// Notes for REPORT.md (unmatched outcome lines…).
    pub notes: Vec<String>,
}

fn median(mut v: Vec<Usd>) -> Usd {
    if v.is_empty() {
        return Usd::ZERO;
    }
    v.sort();
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        Usd::from_nanos((v[n / 2 - 1].nanos() + v[n / 2].nanos()) / 2)
    }
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

fn rule_id(action: Action, m: &Match, extra: &str) -> String {
    let slug = match (&m.tool, m.kind) {
        (Some(t), _) => t
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect::<String>(),
        (None, k) => k.as_str().replace('_', "-"),
    };
    let h = tracecard_core::model::content_hash(&format!("{}{extra}", m.key()));
    let action = match action {
        Action::Prune => "prune",
        Action::Repair => "repair",
        Action::Preserve => "preserve",
    };
    format!(
        "{action}-{slug}-{}-{}",
        m.after.as_str().replace('_', "-"),
        &h[7..15]
    )
}

fn step_ref(s: &Session, id: StepId) -> StepRef {
    StepRef {
        session_id: s.card.session_id.clone(),
        step: id,
        source_ref: s.card.step(id).and_then(|c| c.source_ref.clone()),
    }
}

/// Distil `sessions` under `policy`: patches, then rules. Refuses with
/// [`Error::Backfire`] when a backfire guard holds and the policy does not allow it.
pub fn distill(mut sessions: Vec<Session>, policy: &Policy) -> Result<Distillation> {
    if sessions.is_empty() {
        return Err(Error::Input("no sessions to distil".into()));
    }
    let tools = prepare(&mut sessions);
    let warnings = backfire::check(&sessions, policy);
    backfire::annotate(&mut sessions, &warnings);
    let blocking: Vec<String> = warnings
        .iter()
        .filter(|w| w.holds && !w.allowed)
        .map(|w| {
            format!(
                "{} ({}; override with --allow-backfire {})",
                w.guard.as_str(),
                w.message,
                w.guard.as_str()
            )
        })
        .collect();
    if !blocking.is_empty() {
        return Err(Error::Backfire { guards: blocking });
    }

    // Patches.
    let mut all = PatchSet::default();
    let mut kept_by_session: Vec<Vec<patch::Patch>> = Vec::with_capacity(sessions.len());
    for s in &sessions {
        let rerun;
        let analysis = match &s.analysis {
            Some(a) => a,
            None => {
                rerun = Analysis::run(&s.trace, tracecard_core::PriceTable::bundled())?;
                &rerun
            }
        };
        let set = patch::patches(s, analysis, policy);
        kept_by_session.push(set.kept.clone());
        all.kept.extend(set.kept);
        all.refused.extend(set.refused);
    }

    // Index every signature once: key -> [(session, step index)].
    let mut by_key: BTreeMap<String, Vec<(usize, usize)>> = BTreeMap::new();
    for (si, s) in sessions.iter().enumerate() {
        for (i, sig) in s.sigs.iter().enumerate() {
            if let Some(m) = sig {
                by_key.entry(m.key()).or_default().push((si, i));
            }
        }
    }

    let mut rules = Vec::new();

    // Prune and repair groups by the target's signature.
    type Group = Vec<(usize, patch::Patch)>;
    let mut prune: BTreeMap<String, Group> = BTreeMap::new();
    let mut repair: BTreeMap<(String, String), Group> = BTreeMap::new();
    let mut preserve: BTreeMap<String, Vec<(usize, StepId)>> = BTreeMap::new();
    for (si, ps) in kept_by_session.iter().enumerate() {
        let s = &sessions[si];
        for p in ps {
            let Some(Some(sig)) = s.sigs.get(p.target_step.index()) else {
                continue;
            };
            match p.patch_kind {
                PatchKind::Prune => prune.entry(sig.key()).or_default().push((si, p.clone())),
                PatchKind::Repair => repair
                    .entry((p.verifier.clone().unwrap_or_default(), sig.key()))
                    .or_default()
                    .push((si, p.clone())),
                PatchKind::Preserve => {
                    for id in &p.steps {
                        if let Some(Some(m)) = s.sigs.get(id.index()) {
                            preserve.entry(m.key()).or_default().push((si, *id));
                        }
                    }
                }
            }
        }
    }

    let matching = |m: &Match| -> Vec<(usize, usize)> {
        match by_key.get(&m.key()) {
            Some(v) => v.clone(),
            None => Vec::new(),
        }
    };

    for group in prune.values() {
        let (si0, p0) = &group[0];
        let m = sessions[*si0].sigs[p0.target_step.index()]
            .clone()
            .unwrap_or_else(unreachable_match);
        let mut support_sessions = BTreeSet::new();
        let mut support_tasks = BTreeSet::new();
        let mut proven_tasks = BTreeSet::new();
        let mut supporting = Vec::new();
        let mut confirmed: BTreeMap<String, usize> = BTreeMap::new();
        let mut savings = Vec::new();
        let targets: BTreeSet<(usize, usize)> = group
            .iter()
            .map(|(si, p)| (*si, p.target_step.index()))
            .collect();
        for (si, p) in group {
            let s = &sessions[*si];
            support_sessions.insert(*si);
            support_tasks.insert(s.tasks[p.target_step.index()].clone());
            if !s.card.steps[p.target_step.index()].shown_only_by_replay() {
                proven_tasks.insert(s.tasks[p.target_step.index()].clone());
            }
            supporting.push(step_ref(s, p.target_step));
            *confirmed
                .entry(p.confirmed_by.clone().unwrap_or_default())
                .or_default() += 1;
            savings.push(p.expected_savings_usd);
        }
        let mut counter = Vec::new();
        let mut counter_sessions = BTreeSet::new();
        let mut unproven = 0;
        for (si, i) in matching(&m) {
            if targets.contains(&(si, i)) {
                continue;
            }
            let s = &sessions[si];
            match s.card.steps[i].verdict {
                Verdict::Needed => {
                    counter.push(step_ref(s, StepId::from_index(i)));
                    counter_sessions.insert(si);
                }
                Verdict::Unproven => unproven += 1,
                Verdict::Redundant => {}
            }
        }
        let rate = counter.len() as f64 / (counter.len() + supporting.len()).max(1) as f64;
        let tasks = support_tasks.len();
        let mut held = Vec::new();
        if tasks < policy.min_prune_tasks {
            held.push(format!(
                "support in {tasks} task(s); prune rules need {}",
                policy.min_prune_tasks
            ));
        }
        if unproven > 0 && proven_tasks.len() < policy.min_prune_tasks {
            held.push(format!(
                "{unproven} matching step(s) never tested, and the waste is proven by the dataflow in only {} task(s): elsewhere only a replay kept the outcome after the step's output reached a decision, which may have coincided with its default",
                proven_tasks.len(),
            ));
        }
        if rate > policy.max_counter_example_rate {
            held.push(format!(
                "{} counter-example step(s) ({:.1}%) where the same signature was needed; the cap is {:.1}%",
                counter.len(),
                rate * 100.0,
                policy.max_counter_example_rate * 100.0
            ));
        }
        let total: Usd = savings.iter().sum();
        let reason = format!(
            "Skip {}: proven waste in {} session(s) across {} task(s), saving ${} in all.",
            m.describe(),
            support_sessions.len(),
            tasks,
            total
        );
        rules.push(Rule {
            id: rule_id(Action::Prune, &m, ""),
            action: Action::Prune,
            status: if held.is_empty() {
                RuleStatus::Active
            } else {
                RuleStatus::HeldBack
            },
            enforce: if m.enforceable() {
                Enforce::PreToolUse
            } else {
                Enforce::Advice
            },
            reason,
            support: Support {
                sessions: support_sessions.len(),
                tasks,
                steps: supporting.len(),
            },
            counter_examples: CounterExamples {
                sessions: counter_sessions.len(),
                steps: counter.len(),
                rate: round4(rate),
                unproven_steps: unproven,
            },
            savings: Savings {
                total_usd: total,
                median_usd: median(savings),
            },
            transfer_score: round4(tasks as f64 / (tasks as f64 + 1.0) * (1.0 - rate)),
            confirmed_by: confirmed,
            held_back: held,
            fix: None,
            evidence: Evidence {
                supporting,
                counter_examples: counter,
            },
            matcher: m,
        });
    }

    for ((verifier, _), group) in &repair {
        let (si0, p0) = &group[0];
        let m = sessions[*si0].sigs[p0.target_step.index()]
            .clone()
            .unwrap_or_else(unreachable_match);
        let mut ss = BTreeSet::new();
        let mut ts = BTreeSet::new();
        let mut supporting = Vec::new();
        for (si, p) in group {
            let s = &sessions[*si];
            ss.insert(*si);
            ts.insert(s.tasks[p.target_step.index()].clone());
            supporting.push(step_ref(s, p.target_step));
        }
        let tasks = ts.len();
        rules.push(Rule {
            id: rule_id(Action::Repair, &m, verifier),
            action: Action::Repair,
            status: RuleStatus::Active,
            enforce: Enforce::Advice,
            reason: format!(
                "Before finishing, check what `{verifier}` checks: it failed after {} in {} session(s).",
                m.describe(),
                ss.len()
            ),
            support: Support {
                sessions: ss.len(),
                tasks,
                steps: supporting.len(),
            },
            counter_examples: CounterExamples::default(),
            savings: Savings::default(),
            transfer_score: round4(tasks as f64 / (tasks as f64 + 1.0)),
            confirmed_by: BTreeMap::from([(format!("oracle:{verifier}"), group.len())]),
            held_back: Vec::new(),
            fix: p0.fix.clone(),
            evidence: Evidence {
                supporting,
                counter_examples: Vec::new(),
            },
            matcher: m,
        });
    }

    let mut pres: Vec<Rule> = Vec::new();
    for steps in preserve.values() {
        let ss: BTreeSet<usize> = steps.iter().map(|(si, _)| *si).collect();
        if ss.len() < policy.min_preserve_sessions {
            continue;
        }
        let (si0, id0) = steps[0];
        let m = sessions[si0].sigs[id0.index()]
            .clone()
            .unwrap_or_else(unreachable_match);
        let ts: BTreeSet<&String> = steps
            .iter()
            .map(|(si, id)| &sessions[*si].tasks[id.index()])
            .collect();
        let mut counter = Vec::new();
        let mut cs = BTreeSet::new();
        for (si, i) in matching(&m) {
            if sessions[si].card.steps[i].verdict == Verdict::Redundant {
                counter.push(step_ref(&sessions[si], StepId::from_index(i)));
                cs.insert(si);
            }
        }
        let rate = counter.len() as f64 / (counter.len() + steps.len()).max(1) as f64;
        let tasks = ts.len();
        pres.push(Rule {
            id: rule_id(Action::Preserve, &m, ""),
            action: Action::Preserve,
            status: RuleStatus::Quarantined,
            enforce: Enforce::Advice,
            reason: format!(
                "Keep doing {}: load-bearing in {} successful session(s) (a positive claim; quarantined until a held-out evaluation passes it).",
                m.describe(),
                ss.len()
            ),
            support: Support {
                sessions: ss.len(),
                tasks,
                steps: steps.len(),
            },
            counter_examples: CounterExamples {
                sessions: cs.len(),
                steps: counter.len(),
                rate: round4(rate),
                unproven_steps: 0,
            },
            savings: Savings::default(),
            transfer_score: round4(tasks as f64 / (tasks as f64 + 1.0) * (1.0 - rate)),
            confirmed_by: BTreeMap::from([("outcome".to_string(), steps.len())]),
            held_back: Vec::new(),
            fix: None,
            evidence: Evidence {
                supporting: steps.iter().map(|(si, id)| step_ref(&sessions[*si], *id)).collect(),
                counter_examples: counter,
            },
            matcher: m,
        });
    }
    pres.sort_by(|a, b| {
        b.support
            .sessions
            .cmp(&a.support.sessions)
            .then_with(|| a.id.cmp(&b.id))
    });
    pres.truncate(25);
    rules.extend(pres);

    let order = |r: &Rule| match (r.action, r.status) {
        (Action::Prune, RuleStatus::Active) => 0,
        (Action::Repair, _) => 1,
        (Action::Prune, _) => 2,
        (Action::Preserve, _) => 3,
    };
    rules.sort_by(|a, b| {
        order(a)
            .cmp(&order(b))
            .then_with(|| b.savings.total_usd.cmp(&a.savings.total_usd))
            .then_with(|| a.id.cmp(&b.id))
    });

    let mut outcomes = BTreeMap::new();
    for s in &sessions {
        *outcomes
            .entry(patch::outcome_str(s.card.outcome).to_string())
            .or_insert(0) += 1;
    }
    let all_tasks: BTreeSet<&String> = sessions.iter().flat_map(|s| s.tasks.iter()).collect();
    let corpus = Corpus {
        sessions: sessions.len(),
        tasks: all_tasks.len(),
        steps: sessions.iter().map(|s| s.card.steps.len()).sum(),
        total_cost_usd: sessions.iter().map(|s| s.card.total_cost_usd).sum(),
        replayed_sessions: sessions
            .iter()
            .filter(|s| s.card.replays_used.is_some_and(|n| n > 0))
            .count(),
        outcomes,
    };
    let rules = RuleSet {
        schema_version: RULES_SCHEMA_VERSION.into(),
        generated_by: format!("costcraft {}", env!("CARGO_PKG_VERSION")),
        corpus,
        policy: policy.clone(),
        tools,
        backfire: warnings,
        rules,
    };
    Ok(Distillation {
        rules,
        patches: all,
        sessions,
        notes: Vec::new(),
    })
}

fn unreachable_match() -> Match {
    Match {
        kind: tracecard_core::StepKind::Other,
        tool: None,
        args: None,
        scope: crate::signature::Scope::Main,
        agent_type: None,
        after: crate::signature::After::Any,
        intervening_tools: Vec::new(),
        requested: Vec::new(),
    }
}

impl Distillation {
    /// `patches.yaml`.
    pub fn patches_yaml(&self) -> Result<String> {
        to_yaml(
            &PatchFile {
                schema_version: PATCHES_SCHEMA_VERSION.into(),
                patches: self.patches.clone(),
            },
            "patches",
        )
    }

    /// `SKILL.md`.
    pub fn skill_md(&self) -> String {
        crate::skill::render(&self.rules)
    }

    /// `REPORT.md`.
    pub fn report_md(&self) -> String {
        crate::skill::report(self)
    }

    /// Write `rules.yaml`, `<skill-name>/SKILL.md`, `patches.yaml` and `REPORT.md`
    /// into `dir` (created when missing).
    pub fn write(&self, dir: &Path) -> Result<()> {
        let skill_dir = dir.join(&self.rules.policy.skill_name);
        std::fs::create_dir_all(&skill_dir).map_err(|e| Error::io(&skill_dir, e))?;
        let files = [
            (dir.join("rules.yaml"), self.rules.to_yaml()?),
            (skill_dir.join("SKILL.md"), self.skill_md()),
            (dir.join("patches.yaml"), self.patches_yaml()?),
            (dir.join("REPORT.md"), self.report_md()),
        ];
        for (p, text) in files {
            std::fs::write(&p, text).map_err(|e| Error::io(&p, e))?;
        }
        Ok(())
    }
}
