//! SWE-agent `.traj` importer: run totals apportioned to calls, demos, v1 function calling.

use tracecard_core::import::{Input, load_input};
use tracecard_core::{Compiler, Format, OutcomeStatus, StepKind, TokenUsage, Trace};

use crate::fixtures::load;

use crate::fixtures::count;

fn rw(t: &Trace) -> (usize, usize) {
    (
        t.steps.iter().filter(|s| !s.links.reads.is_empty()).count(),
        t.steps
            .iter()
            .filter(|s| !s.links.writes.is_empty())
            .count(),
    )
}

struct Facts {
    file: &'static str,
    steps: usize,
    sent: u64,
    received: u64,
    reported: &'static str,
    computed: &'static str,
    model: Option<&'static str>,
    reads_writes: (usize, usize),
}

const FACTS: &[Facts] = &[
    Facts {
        file: "swe-agent/pydicom__pydicom-1458.gpt4.traj",
        steps: 12,
        sent: 122_612,
        received: 1_369,
        reported: "1.26719",
        computed: "1.26719",
        model: Some("gpt-4-1106-preview"),
        reads_writes: (6, 6),
    },
    Facts {
        file: "swe-agent/swe-agent__test-repo-i1.gpt4.traj",
        steps: 5,
        sent: 52_861,
        received: 326,
        reported: "0.53839",
        computed: "0.53839",
        model: Some("gpt-4-1106-preview"),
        reads_writes: (2, 1),
    },
    Facts {
        file: "swe-agent/marshmallow-1867.function_calling_replace.demo.traj",
        steps: 11,
        sent: 0,
        received: 0,
        reported: "0",
        computed: "0",
        model: Some("gpt-4o"),
        reads_writes: (4, 4),
    },
    Facts {
        file: "swe-agent/ctf-crypto-katy.demo.traj",
        steps: 18,
        sent: 0,
        received: 0,
        reported: "0",
        computed: "0",
        model: None,
        reads_writes: (5, 8),
    },
];

#[test]
fn every_fixture_matches_hand_counts() {
    for f in FACTS {
        let Some(t) = load(f.file) else { return };
        let t = &t[0];
        t.validate().unwrap();
        assert_eq!(t.source.format, "swe_agent", "{}", f.file);
        assert_eq!(count(t, StepKind::LlmCall), f.steps, "{}", f.file);
        assert_eq!(count(t, StepKind::ToolUse), f.steps, "{}", f.file);
        assert_eq!(count(t, StepKind::UserInput), 1, "{}", f.file);
        // apportioned tokens sum to the run totals exactly
        assert_eq!(
            t.total_tokens(),
            TokenUsage {
                input: f.sent,
                output: f.received,
                ..TokenUsage::default()
            },
            "{}",
            f.file
        );
        assert_eq!(
            t.reported_tokens,
            Some(TokenUsage {
                input: f.sent,
                output: f.received,
                ..TokenUsage::default()
            })
        );
        if f.sent > 0 {
            assert!(t.warnings.iter().any(|w| w.code == "apportioned_tokens"));
            // prompts grow: later calls get larger shares
            let llm: Vec<_> = t
                .steps
                .iter()
                .filter(|s| s.kind == StepKind::LlmCall)
                .collect();
            assert!(llm.last().unwrap().tokens.input > llm[0].tokens.input);
        }
        for s in t.steps.iter().filter(|s| s.kind == StepKind::LlmCall) {
            assert_eq!(s.model.as_deref(), f.model, "{}", f.file);
        }
        // step i's tool consumes call i; call i+1 gets tool i's observation
        let consumes: usize = t.steps.iter().map(|s| s.links.consumes.len()).sum();
        let context: usize = t.steps.iter().map(|s| s.links.context.len()).sum();
        assert_eq!((consumes, context), (f.steps, f.steps), "{}", f.file); // context: task + (steps-1) observations
        assert_eq!(rw(t), f.reads_writes, "{}", f.file);
        assert_eq!(t.outcome.reason.as_deref(), Some("submitted"));
        assert_eq!(t.outcome.status, OutcomeStatus::Unknown);
        assert!(t.outcome.answer.is_some());
        assert_eq!(
            t.outcome.final_step,
            t.steps
                .iter()
                .rev()
                .find(|s| s.kind == StepKind::LlmCall)
                .map(|s| s.id)
        );
        let card = Compiler::new().compile(t).unwrap();
        let reported = card.reported_cost_usd.unwrap();
        eprintln!(
            "{}: computed ${} reported ${}",
            f.file, card.total_cost_usd, reported
        );
        assert_eq!(reported.to_string(), f.reported);
        assert_eq!(card.total_cost_usd.to_string(), f.computed);
        assert_eq!(card.unpriced_steps, 0, "{}", f.file);
    }
}

#[test]
fn gpt4_shortcut_is_explained_by_the_reported_cost() {
    // Reported $1.26719 = 122612 × $10/M + 1369 × $30/M: gpt-4-1106-preview prices, which is what
    // SWE-agent 0.x's `gpt4` shortcut meant. Plain gpt-4 ($30/$60) would give $3.7605.
    let Some(t) = load("swe-agent/pydicom__pydicom-1458.gpt4.traj") else {
        return;
    };
    let mut t = t[0].clone();
    assert!(t.warnings.iter().any(|w| w.code == "model_guessed"));
    let card = Compiler::new().compile(&t).unwrap();
    assert_eq!(card.steps[1].priced_as.as_deref(), Some("gpt-4-turbo"));
    for s in &mut t.steps {
        if s.model.is_some() {
            s.model = Some("gpt-4".into());
        }
    }
    let card = Compiler::new().compile(&t).unwrap();
    assert_eq!(card.total_cost_usd.to_string(), "3.7605");
}

#[test]
fn function_calling_history_gives_tool_call_ids() {
    let Some(t) = load("swe-agent/marshmallow-1867.function_calling_replace.demo.traj") else {
        return;
    };
    let t = &t[0];
    let tools: Vec<_> = t
        .steps
        .iter()
        .filter(|s| s.kind == StepKind::ToolUse)
        .collect();
    assert!(tools.iter().all(|s| {
        s.links
            .tool_call_id
            .as_deref()
            .is_some_and(|i| i.starts_with("call_"))
    }));
    assert_eq!(
        tools[0].links.tool_call_id.as_deref(),
        Some("call_cyI71DYnRdoLHWwtZgIaW2wr")
    );
    assert_eq!(tools[0].tool.as_deref(), Some("create"));
    assert_eq!(tools[0].links.writes, ["reproduce.py"]);
    let requests: usize = t.steps.iter().map(|s| s.links.requests.len()).sum();
    assert_eq!(requests, 11);
    assert_eq!(t.metadata.get("api_calls").map(String::as_str), Some("11"));
}

fn imp(bytes: &[u8]) -> tracecard_core::Result<Vec<Trace>> {
    load_input(
        &Input::from_bytes("x.traj", bytes.to_vec()),
        Some(Format::SweAgent),
    )
}

#[test]
fn malformed_input() {
    assert!(imp(b"").is_err());
    assert!(imp(b"{\"trajectory\":[],\"x\":\"\xff\"}").is_err());
    assert!(imp("[".repeat(100_000).as_bytes()).is_err());
    assert!(imp(b"{\"trajectory\": [").is_err());
    assert!(imp(b"[]").is_err());
    let e = imp(br#"{"trajectory":{}}"#).unwrap_err().to_string();
    assert!(e.contains("trajectory"), "{e}");
    let e = imp(br#"{"trajectory":[],"info":{"model_stats":{"tokens_sent":"many"}}}"#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("tokens_sent"), "{e}");
    let e = imp(br#"{"trajectory":[{"action":3}]}"#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("trajectory[0].action"), "{e}");
    // unknown extras are ignored; a mismatch is a warning
    let t = imp(br#"{"trajectory":[{"action":"ls","observation":"a","response":"r"}],"history":[],"info":{"model_stats":{"api_calls":3,"instance_cost":0.5,"tokens_sent":10,"tokens_received":2}},"new_field":1}"#).unwrap();
    let codes: Vec<_> = t[0].warnings.iter().map(|w| w.code.as_str()).collect();
    // an empty history beside a trajectory is said too
    assert_eq!(
        codes,
        [
            "unknown_model",
            "api_calls_mismatch",
            "history_mismatch",
            "apportioned_tokens"
        ]
    );
    let card = Compiler::new().compile(&t[0]).unwrap();
    assert_eq!(card.reported_cost_usd.unwrap().to_string(), "0.5");
}

#[test]
fn edit_paths_match_the_paths_the_model_wrote() {
    let Some(t) = load("swe-agent/pydicom__pydicom-1458.gpt4.traj") else {
        return;
    };
    let t = &t[0];
    let written: std::collections::BTreeSet<_> = t
        .steps
        .iter()
        .flat_map(|s| s.links.writes.iter().cloned())
        .collect();
    let read: std::collections::BTreeSet<_> = t
        .steps
        .iter()
        .flat_map(|s| s.links.reads.iter().cloned())
        .collect();
    // `create reproduce_bug.py`, `open pydicom/pixel_data_handlers/numpy_handler.py 293`, and the edits of both
    // (state.open_file made relative to state.working_dir /pydicom__pydicom)
    assert_eq!(
        written.into_iter().collect::<Vec<_>>(),
        [
            "pydicom/pixel_data_handlers/numpy_handler.py",
            "reproduce_bug.py"
        ]
    );
    assert_eq!(
        read.into_iter().collect::<Vec<_>>(),
        [
            "pydicom/pixel_data_handlers/numpy_handler.py",
            "reproduce_bug.py"
        ]
    );
}
