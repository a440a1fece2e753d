//! `SKILL.md` (an Agent Skill by the open spec) and `REPORT.md`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::distill::{Action, Distillation, Enforce, Rule, RuleSet, RuleStatus};

/// Longest skill name (Agent Skills spec).
pub const MAX_NAME: usize = 64;
/// Longest description (Agent Skills spec).
pub const MAX_DESCRIPTION: usize = 1024;
/// SKILL.md bodies stay under this many lines.
pub const MAX_BODY_LINES: usize = 500;

/// Check a skill name: 1–64 chars of `a-z0-9-`, no leading, trailing or double
/// hyphen.
pub fn validate_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_NAME {
        return Err(format!(
            "name must be 1-{MAX_NAME} characters, got {}",
            name.len()
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(format!("name {name:?} may only hold a-z, 0-9 and '-'"));
    }
    if name.starts_with('-') || name.ends_with('-') || name.contains("--") {
        return Err(format!(
            "name {name:?} must not start or end with '-' or contain '--'"
        ));
    }
    Ok(())
}

/// Check a SKILL.md text against the spec: front matter with `name` (valid, equal
/// to `dir_name`) and `description` (1–1024 chars), and a body under 500 lines.
pub fn validate_skill_md(text: &str, dir_name: &str) -> Result<(), String> {
    let rest = text
        .strip_prefix("---\n")
        .ok_or("SKILL.md must start with '---' front matter")?;
    let end = rest
        .find("\n---\n")
        .ok_or("front matter is not closed by '---'")?;
    let (front, body) = (&rest[..end], &rest[end + 5..]);
    let fm: BTreeMap<String, serde_json::Value> =
        serde_saphyr::from_str(front).map_err(|e| format!("front matter is not YAML: {e}"))?;
    let name = fm
        .get("name")
        .and_then(|v| v.as_str())
        .ok_or("front matter has no string `name`")?;
    validate_name(name)?;
    if name != dir_name {
        return Err(format!(
            "name {name:?} differs from its directory {dir_name:?}"
        ));
    }
    let desc = fm
        .get("description")
        .and_then(|v| v.as_str())
        .ok_or("front matter has no string `description`")?;
    let n = desc.chars().count();
    if n == 0 || n > MAX_DESCRIPTION {
        return Err(format!(
            "description must be 1-{MAX_DESCRIPTION} characters, got {n}"
        ));
    }
    for k in fm.keys() {
        if ![
            "name",
            "description",
            "license",
            "compatibility",
            "metadata",
            "allowed-tools",
        ]
        .contains(&k.as_str())
        {
            return Err(format!("unknown front-matter field `{k}`"));
        }
    }
    let lines = body.lines().count();
    if lines >= MAX_BODY_LINES {
        return Err(format!(
            "body has {lines} lines, the limit is {MAX_BODY_LINES}"
        ));
    }
    Ok(())
}

fn provenance(r: &Rule) -> String {
    let confirmed = r
        .confirmed_by
        .iter()
        .map(|(k, v)| format!("{k} ×{v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let example = r
        .evidence
        .supporting
        .first()
        .map(|s| {
            format!(
                "; e.g. {} step {}{}",
                s.session_id,
                s.step,
                s.source_ref
                    .as_deref()
                    .map(|x| format!(" (`{x}`)"))
                    .unwrap_or_default()
            )
        })
        .unwrap_or_default();
    format!(
        "_Provenance: `{}`: {} session(s), {} task(s), {} counter-example(s), confirmed by {confirmed}{example}._",
        r.id, r.support.sessions, r.support.tasks, r.counter_examples.steps
    )
}

fn yaml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// Render SKILL.md for `rules`: active prune rules (stop rules, cost control),
/// repair checks, and — only with `include_quarantined` — preserve rules.
pub fn render(rules: &RuleSet) -> String {
    let p = &rules.policy;
    let active = |a: Action| {
        rules
            .rules
            .iter()
            .filter(move |r| r.action == a && r.status == RuleStatus::Active)
    };
    let stops: Vec<&Rule> = active(Action::Prune)
        .filter(|r| r.enforce == Enforce::PreToolUse)
        .take(60)
        .collect();
    let advice: Vec<&Rule> = active(Action::Prune)
        .filter(|r| r.enforce == Enforce::Advice)
        .take(40)
        .collect();
    let repairs: Vec<&Rule> = active(Action::Repair).take(40).collect();
    let keep: Vec<&Rule> = if p.include_quarantined {
        rules
            .rules
            .iter()
            .filter(|r| r.action == Action::Preserve)
            .take(25)
            .collect()
    } else {
        Vec::new()
    };
    let mut tools: Vec<&str> = stops
        .iter()
        .chain(&advice)
        .filter_map(|r| r.matcher.tool.as_deref())
        .collect();
    tools.sort();
    tools.dedup();
    let mut desc = format!(
        "Cost-control rules distilled by tracecard from {} agent sessions over {} tasks: {} stop rule(s) for tool calls proven wasteful, {} cost-control note(s) and {} check(s) before finishing, each with its evidence.",
        rules.corpus.sessions,
        rules.corpus.tasks,
        stops.len(),
        advice.len(),
        repairs.len()
    );
    if tools.is_empty() {
        desc.push_str(" Use when running similar agent tasks, to avoid repeated or unused tool calls without changing the outcome.");
    } else {
        desc.push_str(&format!(
            " Use when an agent works with tools such as {} and should avoid repeated or unused calls without changing the outcome.",
            tools.iter().take(8).copied().collect::<Vec<_>>().join(", ")
        ));
    }
    if desc.chars().count() > MAX_DESCRIPTION {
        desc = desc.chars().take(MAX_DESCRIPTION - 1).collect::<String>() + "…";
    }

    let mut s = String::new();
    let _ = writeln!(
        s,
        "---\nname: {}\ndescription: {}\n---\n",
        p.skill_name,
        yaml_str(&desc)
    );
    let _ = writeln!(s, "# Cost rules\n");
    let _ = writeln!(
        s,
        "Distilled from {} session(s) ({} task(s), ${} in all). Each rule was proven on the sessions' own evidence: a prune by a counterfactual (a replay, or the dataflow when no replayer ran), a check by a verifier's failure. Rules lean to prune: removing a step defended by a counterfactual transfers across tasks; positive claims about why a session succeeded do not, so those are kept out of this file until an evaluation passes them.\n",
        rules.corpus.sessions, rules.corpus.tasks, rules.corpus.total_cost_usd
    );
    let _ = writeln!(s, "## Stop rules\n");
    if stops.is_empty() {
        let _ = writeln!(s, "No stop rule has enough support yet.\n");
    }
    for r in &stops {
        let _ = writeln!(
            s,
            "- **Do not** make this call: {}. It saved ${} per occurrence (median). {}\n  {}",
            r.matcher.describe(),
            r.savings.median_usd,
            if r.matcher.after == crate::signature::After::RepeatOfSuccess {
                "Use the earlier result already in your context."
            } else {
                "Its result never changed the outcome."
            },
            provenance(r)
        );
    }
    if !advice.is_empty() {
        let _ = writeln!(s, "\n## Cost control\n");
        for r in &advice {
            let _ = writeln!(
                s,
                "- Avoid a {}: it was waste (median ${}).\n  {}",
                r.matcher.describe(),
                r.savings.median_usd,
                provenance(r)
            );
        }
    }
    if !repairs.is_empty() {
        let _ = writeln!(s, "\n## Checks before finishing\n");
        for r in &repairs {
            let _ = writeln!(
                s,
                "- {} {}\n  {}",
                r.reason,
                r.fix.as_deref().unwrap_or(""),
                provenance(r)
            );
        }
    }
    if !keep.is_empty() {
        let _ = writeln!(
            s,
            "\n## What to keep doing (quarantined: not yet passed by a held-out evaluation)\n"
        );
        for r in &keep {
            let _ = writeln!(s, "- {}\n  {}", r.reason, provenance(r));
        }
    }
    s
}

/// Render REPORT.md: what was kept, refused and why.
pub fn report(d: &Distillation) -> String {
    let r = &d.rules;
    let mut s = String::new();
    let _ = writeln!(s, "# Distillation report\n");
    let _ = writeln!(
        s,
        "{} session(s), {} task(s), {} step(s), ${} in all; outcomes: {}; {} session(s) replayed.\n",
        r.corpus.sessions,
        r.corpus.tasks,
        r.corpus.steps,
        r.corpus.total_cost_usd,
        r.corpus
            .outcomes
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", "),
        r.corpus.replayed_sessions
    );
    for n in &d.notes {
        let _ = writeln!(s, "- note: {n}");
    }
    if !r.backfire.is_empty() {
        let _ = writeln!(s, "\n## Backfire guards\n");
        for w in &r.backfire {
            let _ = writeln!(
                s,
                "- `{}`: {}{} — {}",
                w.guard.as_str(),
                if w.holds { "holds" } else { "warning" },
                if w.allowed { " (allowed)" } else { "" },
                w.message
            );
        }
    }
    let _ = writeln!(s, "\n## Patches\n");
    let mut kept: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &d.patches.kept {
        *kept.entry(p.patch_kind.as_str()).or_default() += 1;
    }
    let mut refused: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for p in &d.patches.refused {
        *refused
            .entry((p.patch.patch_kind.as_str(), p.refusal.reason.as_str()))
            .or_default() += 1;
    }
    let _ = writeln!(
        s,
        "| kind | kept | refused (reason × count) |\n|---|---|---|"
    );
    for k in ["prune", "repair", "preserve"] {
        let why = refused
            .iter()
            .filter(|((kk, _), _)| *kk == k)
            .map(|((_, r), n)| format!("{r} ×{n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            s,
            "| {k} | {} | {} |",
            kept.get(k).copied().unwrap_or(0),
            why
        );
    }
    let _ = writeln!(s, "\n## Rules\n");
    let _ = writeln!(
        s,
        "| id | action | status | enforce | sessions | tasks | counter-ex. | savings | transfer |\n|---|---|---|---|---|---|---|---|---|"
    );
    for x in &r.rules {
        let _ = writeln!(
            s,
            "| `{}` | {:?} | {:?} | {:?} | {} | {} | {} | ${} | {} |",
            x.id,
            x.action,
            x.status,
            x.enforce,
            x.support.sessions,
            x.support.tasks,
            x.counter_examples.steps,
            x.savings.total_usd,
            x.transfer_score
        );
    }
    let held: Vec<&Rule> = r.rules.iter().filter(|x| !x.held_back.is_empty()).collect();
    if !held.is_empty() {
        let _ = writeln!(s, "\n## Held back\n");
        for x in held {
            let _ = writeln!(s, "- `{}`: {}", x.id, x.held_back.join("; "));
        }
    }
    s
}
