//! The bundled price table against every real fixture: a model call whose model
//! has no price must come with an `unknown_model` warning naming it, and only
//! models with no public list price (local models) may be unpriced at all.

use std::collections::BTreeSet;

use tracecard_core::{CostSource, PriceTable, StepKind, WarningCode};

/// Models in the fixtures that have no list price: self-hosted ones.
const NO_LIST_PRICE: &[&str] = &["ollama/gemma3"];

#[test]
fn every_fixture_model_is_priced_or_warned() {
    let Some(root) = super::fixtures::root() else {
        return;
    };
    let table = PriceTable::bundled();
    let compiler = tracecard_core::Compiler::new();
    let files = tracecard_core::import::discover(&root).unwrap();
    let mut sessions = 0usize;
    let mut models = BTreeSet::new();
    let mut unpriced = BTreeSet::new();
    for f in &files {
        let Some(fmt) = tracecard_core::import::detect(f).unwrap() else {
            continue;
        };
        let traces =
            tracecard_core::load(f, Some(fmt)).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        for t in &traces {
            sessions += 1;
            let card = compiler.compile(t).unwrap();
            for s in card.steps.iter().filter(|s| s.kind == StepKind::LlmCall) {
                let Some(m) = &s.model else { continue };
                models.insert(m.clone());
                if s.cost_source != CostSource::Unknown || s.tokens.is_empty() {
                    continue;
                }
                // tokens but no price: the card must say which model
                unpriced.insert(m.clone());
                assert!(
                    card.warnings
                        .iter()
                        .any(|w| w.code == WarningCode::UnknownModel
                            && w.message.contains(m.as_str())),
                    "{}: step {} ({m}) is unpriced without an unknown_model warning",
                    f.display(),
                    s.id
                );
            }
        }
    }
    assert!(
        sessions >= 50,
        "only {sessions} sessions found under {}",
        root.display()
    );
    let unexpected: Vec<_> = unpriced
        .iter()
        .filter(|m| !NO_LIST_PRICE.contains(&m.as_str()))
        .collect();
    assert!(
        unexpected.is_empty(),
        "models in the fixtures missing from the bundled table ({}): {unexpected:?}",
        table.name()
    );
    assert!(models.len() >= 20, "{models:?}");
}

/// The models current agents use by default resolve to an exact entry (not a
/// prefix guess), and Claude Code's family aliases name its current models.
#[test]
fn current_default_models_are_priced() {
    let table = PriceTable::bundled();
    for (model, id) in [
        // Claude Code 2.1.332's default and its aliases (latest_per_family)
        ("claude-opus-5-5", "claude-opus-5-5"),
        ("opus", "claude-opus-5-5"),
        ("sonnet", "claude-sonnet-5-5"),
        ("haiku", "claude-haiku-5-5"),
        ("fable", "claude-fable-5-2"),
        // Codex CLI sessions in the fixtures and the gpt-5.6 family of Codex 0.171
        ("gpt-5.3-codex", "gpt-5.3-codex"),
        ("gpt-5.6", "gpt-5.6"),
        ("gpt-5.6-sol", "gpt-5.6"),
        ("gpt-5.6-terra", "gpt-5.6-terra"),
        // OpenAI Agents SDK 0.24.0 get_default_model()
        ("gpt-5.6-luna", "gpt-5.6-luna"),
        // Google ADK 2.13.0 LlmAgent.DEFAULT_MODEL
        ("gemini-3.5-flash", "gemini-3.5-flash"),
    ] {
        let m = table
            .resolve(model, None)
            .unwrap_or_else(|| panic!("{model} is not in the bundled table"));
        assert_eq!(m.id, id, "{model}");
    }
}
