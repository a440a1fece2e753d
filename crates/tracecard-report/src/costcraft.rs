//! Costcraft's patches and rules on the report: which patches and rules cite each
//! step, matched by `session_id` + `source_ref` (by step id where the source has
//! no refs).

use std::collections::HashMap;
use std::path::Path;

use costcraft::distill::{Enforce, PATCHES_SCHEMA_VERSION, PatchFile};
use costcraft::{Action, Patch, PatchKind, PatchSet, Rule, RuleSet, RuleStatus};
use serde_json::{Value, json};
use tracecard_core::{StepId, TraceCard};

use crate::{hash8, strip_paths};

/// Costcraft output to show on the report: patches (`patches.yaml`, or
/// [`costcraft::Distillation::patches`]) and rules (`rules.yaml`). Either may be
/// absent.
#[derive(Clone, Copy, Default)]
pub struct Costcraft<'a> {
    /// Kept and refused patches.
    pub patches: Option<&'a PatchSet>,
    /// Distilled rules; their evidence links cite steps as support or
    /// counter-examples.
    pub rules: Option<&'a RuleSet>,
}

impl Costcraft<'_> {
    /// Nothing to show.
    pub fn is_empty(&self) -> bool {
        self.patches.is_none() && self.rules.is_none()
    }
}

/// Parse `patches.yaml` (as `tracecard distill` writes it); `path` names it in
/// errors.
pub fn parse_patches(text: &str, path: &Path) -> Result<PatchSet, String> {
    let f: PatchFile = serde_saphyr::from_str(text)
        .map_err(|e| format!("{}: not a patches.yaml: {e}", path.display()))?;
    if f.schema_version != PATCHES_SCHEMA_VERSION {
        return Err(format!(
            "{}: schema_version is {:?}, expected {PATCHES_SCHEMA_VERSION:?}",
            path.display(),
            f.schema_version
        ));
    }
    Ok(f.patches)
}

/// Read `patches.yaml`.
pub fn read_patches(path: &Path) -> Result<PatchSet, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse_patches(&text, path)
}

/// Read `rules.yaml`.
pub fn read_rules(path: &Path) -> Result<RuleSet, String> {
    RuleSet::read(path).map_err(|e| e.to_string())
}

/// How to find a session's steps by `source_ref` or id.
pub(crate) struct StepIndex {
    by_ref: HashMap<String, usize>,
    refs: Vec<Option<String>>,
    any_ref: bool,
}

impl StepIndex {
    pub(crate) fn new(card: &TraceCard) -> Self {
        let mut by_ref = HashMap::new();
        for (i, s) in card.steps.iter().enumerate() {
            if let Some(r) = &s.source_ref {
                by_ref.entry(r.clone()).or_insert(i);
            }
        }
        StepIndex {
            any_ref: !by_ref.is_empty(),
            by_ref,
            refs: card.steps.iter().map(|s| s.source_ref.clone()).collect(),
        }
    }

    /// The index of the step a link names: by `source_ref` when it has one (the
    /// step of that id when it carries the ref, else the first step carrying it),
    /// by id when the link or the source has no refs.
    pub(crate) fn find(&self, id: StepId, source_ref: Option<&str>) -> Option<usize> {
        let by_id = (id.0 as usize)
            .checked_sub(1)
            .filter(|&i| i < self.refs.len());
        match source_ref {
            Some(r) if self.any_ref => {
                if let Some(i) = by_id {
                    if self.refs[i].as_deref() == Some(r) {
                        return Some(i);
                    }
                }
                self.by_ref.get(r).copied()
            }
            _ => by_id,
        }
    }
}

fn action_name(a: Action) -> &'static str {
    match a {
        Action::Prune => "prune",
        Action::Repair => "repair",
        Action::Preserve => "preserve",
    }
}

fn status_name(s: RuleStatus) -> &'static str {
    match s {
        RuleStatus::Active => "active",
        RuleStatus::Quarantined => "quarantined",
        RuleStatus::HeldBack => "held_back",
    }
}

fn enforce_name(e: Enforce) -> &'static str {
    match e {
        Enforce::PreToolUse => "pre_tool_use",
        Enforce::Advice => "advice",
    }
}

fn kind_name(k: PatchKind) -> &'static str {
    k.as_str()
}

/// The text a patch shows: the counterfactual (prune), the claim (preserve), the
/// fix (repair, which quotes the verifier: hashed unless `content`).
fn patch_text(p: &Patch, content: bool) -> String {
    match p.patch_kind {
        PatchKind::Prune => p.counterfactual.as_deref().map(strip_paths),
        PatchKind::Preserve => p.claim.as_deref().map(strip_paths),
        PatchKind::Repair => p.fix.as_deref().map(|f| {
            if content {
                f.to_owned()
            } else {
                format!(
                    "fix what verifier {} reported (message #{})",
                    p.verifier.as_deref().unwrap_or("?"),
                    hash8(f)
                )
            }
        }),
    }
    .unwrap_or_default()
}

/// Per session: its patches as rows, matched to step indices.
/// `[kind, target index, [step indices], savings_f, savings, confirmed_by, text,
///   refusal code or null, refusal message or null, quarantined]`.
/// Returns the rows and how many patches of this session named no step of it.
pub(crate) fn session_patches(
    cc: &Costcraft<'_>,
    card: &TraceCard,
    index: &StepIndex,
    content: bool,
) -> (Vec<Value>, usize) {
    let Some(set) = cc.patches else {
        return (Vec::new(), 0);
    };
    let mut rows = Vec::new();
    let mut unmatched = 0usize;
    let all = set
        .kept
        .iter()
        .map(|p| (p, None))
        .chain(set.refused.iter().map(|r| (&r.patch, Some(&r.refusal))));
    for (p, refusal) in all {
        if p.session_id != card.session_id {
            continue;
        }
        let Some(target) = index.find(p.target_step, p.source_ref.as_deref()) else {
            unmatched += 1;
            continue;
        };
        // the other steps carry ids only: shift them as the target moved
        let shift = target as i64 + 1 - i64::from(p.target_step.0);
        let mut steps: Vec<usize> = p
            .steps
            .iter()
            .filter_map(|s| {
                let i = i64::from(s.0) + shift - 1;
                (i >= 0 && (i as usize) < card.steps.len()).then_some(i as usize)
            })
            .collect();
        if !steps.contains(&target) {
            steps.push(target);
        }
        steps.sort_unstable();
        steps.dedup();
        rows.push(json!([
            kind_name(p.patch_kind),
            target,
            steps,
            p.expected_savings_usd.to_f64(),
            p.expected_savings_usd.to_string(),
            p.confirmed_by,
            patch_text(p, content),
            refusal.map(|r| r.reason.as_str()),
            refusal.map(|r| strip_paths(&r.message)),
            p.quarantined,
        ]));
    }
    (rows, unmatched)
}

/// Per session: `[rule index, step index, 0 supporting | 1 counter-example]` for
/// every evidence link of every rule naming a step of it, and how many links
/// named this session but no step of it.
pub(crate) fn session_rule_links(
    cc: &Costcraft<'_>,
    card: &TraceCard,
    index: &StepIndex,
) -> (Vec<Value>, usize) {
    let Some(rules) = cc.rules else {
        return (Vec::new(), 0);
    };
    let mut out = Vec::new();
    let mut unmatched = 0usize;
    for (ri, r) in rules.rules.iter().enumerate() {
        let links = r
            .evidence
            .supporting
            .iter()
            .map(|l| (l, 0u8))
            .chain(r.evidence.counter_examples.iter().map(|l| (l, 1u8)));
        for (l, role) in links {
            if l.session_id != card.session_id {
                continue;
            }
            match index.find(l.step, l.source_ref.as_deref()) {
                Some(i) => out.push(json!([ri, i, role])),
                None => unmatched += 1,
            }
        }
    }
    (out, unmatched)
}

fn rule_json(r: &Rule, content: bool) -> Value {
    let confirmed: Vec<String> = r
        .confirmed_by
        .iter()
        .map(|(k, n)| format!("{k} ×{n}"))
        .collect();
    let fix = r.fix.as_deref().map(|f| {
        if content {
            f.to_owned()
        } else {
            format!("verifier message #{}", hash8(f))
        }
    });
    json!({
        "id": r.id,
        "action": action_name(r.action),
        "status": status_name(r.status),
        "enforce": enforce_name(r.enforce),
        "reason": strip_paths(&r.reason),
        "support": [r.support.sessions, r.support.tasks, r.support.steps],
        "counter": [r.counter_examples.steps, r.counter_examples.rate, r.counter_examples.unproven_steps],
        "savings": [r.savings.total_usd.to_f64(), r.savings.median_usd.to_f64()],
        "savings_s": [r.savings.total_usd.to_string(), r.savings.median_usd.to_string()],
        "transfer": r.transfer_score,
        "confirmed_by": confirmed.join(", "),
        "held_back": r.held_back,
        "fix": fix,
    })
}

/// The report-wide costcraft block, or null.
pub(crate) fn global_json(cc: &Costcraft<'_>, content: bool) -> Value {
    if cc.is_empty() {
        return Value::Null;
    }
    let rules: Vec<Value> = cc
        .rules
        .map(|r| r.rules.iter().map(|x| rule_json(x, content)).collect())
        .unwrap_or_default();
    let corpus = cc.rules.map(|r| {
        json!({
            "sessions": r.corpus.sessions,
            "tasks": r.corpus.tasks,
            "steps": r.corpus.steps,
            "replayed_sessions": r.corpus.replayed_sessions,
            "generated_by": r.generated_by,
        })
    });
    json!({
        "has_patches": cc.patches.is_some(),
        "has_rules": cc.rules.is_some(),
        "patches_kept": cc.patches.map_or(0, |p| p.kept.len()),
        "patches_refused": cc.patches.map_or(0, |p| p.refused.len()),
        "rules": rules,
        "corpus": corpus,
    })
}
