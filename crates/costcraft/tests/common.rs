//! Shared test helpers: an in-process ops-agent replayer and snapshot files.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use costcraft::Session;
use tracecard_core::{Compiler, Outcome, Replayer, StepId, Trace};

/// True counterfactual replay of ops-agent sessions, in process.
pub struct OpsReplayer;

impl Replayer for OpsReplayer {
    fn name(&self) -> &str {
        "ops-agent"
    }

    fn replay(&self, trace: &Trace, removed: &[StepId]) -> tracecard_core::Result<Outcome> {
        let seed =
            ops_agent::seed_from_session_id(&trace.session_id).expect("an ops-<seed> session");
        let removed: BTreeSet<u32> = removed.iter().map(|s| s.0).collect();
        Ok(ops_agent::run(seed, &removed).trace.outcome)
    }
}

/// Sessions `seeds`, compiled with the ops-agent replayer (budget 32).
pub fn ops_sessions(seeds: std::ops::Range<u64>, replay: bool) -> Vec<Session> {
    let r = OpsReplayer;
    seeds
        .map(|seed| {
            let trace = ops_agent::run(seed, &BTreeSet::new()).trace;
            let c = Compiler::new();
            if replay {
                Session::compile(trace, &c.replayer(&r)).unwrap()
            } else {
                Session::compile(trace, &c).unwrap()
            }
        })
        .collect()
}

/// Compare `text` with `tests/snapshots/<name>`; `UPDATE_SNAPSHOTS=1` rewrites it.
pub fn snapshot(name: &str, text: &str) {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() || !p.exists() {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&p).unwrap();
    assert!(
        want == text,
        "snapshot {name} differs (UPDATE_SNAPSHOTS=1 to accept):\n--- want\n{}\n--- got\n{}",
        &want[..want.len().min(3000)],
        &text[..text.len().min(3000)]
    );
}
