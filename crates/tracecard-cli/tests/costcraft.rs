//! `tracecard distill`, `check-rules`, `evaluate` and `compile --outcomes /
//! --backfire` through the built binary, on the bundled example traces and on
//! generated ops-agent sessions.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/traces")
}

fn tracecard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tracecard"))
        .args(args)
        .output()
        .unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A fresh scratch directory under the target dir.
fn scratch(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("costcraft-cli-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Write ops-agent sessions `seeds` (baseline, or with each session's steps
/// chosen by `removed` skipped) as native JSONL into `dir`.
fn gen_ops(
    dir: &Path,
    seeds: std::ops::Range<u64>,
    removed: impl Fn(&ops_agent::Session) -> BTreeSet<u32>,
) {
    std::fs::create_dir_all(dir).unwrap();
    for seed in seeds {
        let base = ops_agent::run(seed, &BTreeSet::new());
        let r = removed(&base);
        let sess = if r.is_empty() {
            base
        } else {
            ops_agent::run(seed, &r)
        };
        std::fs::write(
            dir.join(format!("{}.jsonl", ops_agent::session_id(seed))),
            sess.to_jsonl(),
        )
        .unwrap();
    }
}

fn assert_outputs(dir: &Path, skill: &str) -> costcraft::RuleSet {
    for f in ["rules.yaml", "patches.yaml", "REPORT.md"] {
        assert!(dir.join(f).is_file(), "{f} missing in {}", dir.display());
    }
    let md = std::fs::read_to_string(dir.join(skill).join("SKILL.md")).unwrap();
    costcraft::skill::validate_skill_md(&md, skill).unwrap();
    assert!(md.lines().count() < 500);
    costcraft::RuleSet::read(&dir.join("rules.yaml")).unwrap()
}

#[test]
fn distill_examples_writes_valid_outputs() {
    let out = scratch("examples");
    let o = tracecard(&[
        "distill",
        s(&examples()),
        "-o",
        s(&out),
        "--allow-backfire",
        "all",
        "--skill-name",
        "example-rules",
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("6 session(s)"), "{stderr}");
    let rules = assert_outputs(&out, "example-rules");
    assert_eq!(rules.schema_version, costcraft::RULES_SCHEMA_VERSION);
    assert_eq!(rules.corpus.sessions, 6);
    assert!(!rules.rules.is_empty());
    // every rule links its evidence back to a session of the corpus
    for r in &rules.rules {
        for e in r.evidence.supporting.iter() {
            assert!(
                examples().join(format!("{}.jsonl", e.session_id)).is_file(),
                "{}",
                e.session_id
            );
        }
    }
}

#[test]
fn distill_refuses_on_backfire_with_exit_1() {
    // two six-step sessions: the short-sessions guard holds
    let out = scratch("backfire");
    let a = examples().join("agent-7.jsonl");
    let b = examples().join("config-question.jsonl");
    let o = tracecard(&["distill", s(&a), s(&b), "-o", s(&out)]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("short-sessions"), "{stderr}");
    assert!(!out.join("rules.yaml").exists());
    // overridden, it distils
    let o = tracecard(&[
        "distill",
        s(&a),
        s(&b),
        "-o",
        s(&out),
        "--allow-backfire",
        "short-sessions",
        "--allow-backfire",
        "no-oracle",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_outputs(&out, "cost-rules");
    // an unknown guard is a usage error
    let o = tracecard(&["distill", s(&a), "-o", s(&out), "--allow-backfire", "nope"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn distill_ops_agent_then_check_rules_and_evaluate() {
    let root = scratch("ops");
    let train = root.join("train");
    gen_ops(&train, 1..41, |_| BTreeSet::new());
    let out = root.join("out");
    let o = tracecard(&[
        "distill",
        s(&train),
        "-o",
        s(&out),
        "--allow-backfire",
        "latency-bound",
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    let rules = assert_outputs(&out, "cost-rules");
    assert_eq!(rules.corpus.sessions, 40);
    let active_prune = rules
        .rules
        .iter()
        .filter(|r| {
            r.action == costcraft::Action::Prune && r.status == costcraft::RuleStatus::Active
        })
        .count();
    assert!(active_prune >= 1, "no active prune rule:\n{stderr}");
    let patches = std::fs::read_to_string(out.join("patches.yaml")).unwrap();
    assert!(patches.contains("patch_kind: prune"));
    assert!(patches.contains("confirmed_by: dataflow"));

    // --require-replay without a replayer refuses every prune
    let strict = root.join("strict");
    let o = tracecard(&[
        "distill",
        s(&train),
        "-o",
        s(&strict),
        "--allow-backfire",
        "all",
        "--require-replay",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let patches = std::fs::read_to_string(strict.join("patches.yaml")).unwrap();
    assert!(patches.contains("prune_not_replayed"));
    let rules = costcraft::RuleSet::read(&strict.join("rules.yaml")).unwrap();
    assert!(
        rules
            .rules
            .iter()
            .all(|r| r.action != costcraft::Action::Prune)
    );

    // check-rules on held-out sessions
    let held = root.join("held");
    gen_ops(&held, 100..110, |_| BTreeSet::new());
    let rules_yaml = out.join("rules.yaml");
    let o = tracecard(&["check-rules", s(&rules_yaml), s(&held), "--json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["sessions"], 10);
    assert_eq!(
        report["rules"].as_array().unwrap().len(),
        costcraft::RuleSet::read(&rules_yaml).unwrap().rules.len()
    );
    let o = tracecard(&["check-rules", s(&rules_yaml), s(&held)]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("10 session(s) checked"));
    // a missing rules file is an error
    let o = tracecard(&["check-rules", s(&root.join("none.yaml")), s(&held)]);
    assert_eq!(o.status.code(), Some(2));

    // evaluate: the treated runs skip the designed-removable steps (cheaper, same
    // outcome); one successful session also loses a load-bearing step.
    let baseline = root.join("baseline");
    let treated = root.join("treated");
    gen_ops(&baseline, 100..110, |_| BTreeSet::new());
    let broken = (100..110)
        .find(|&seed| {
            ops_agent::run(seed, &BTreeSet::new()).outcome.status == ops_agent::Status::Success
        })
        .unwrap();
    gen_ops(&treated, 100..110, |base| {
        let mut r: BTreeSet<u32> = base
            .roles
            .iter()
            .enumerate()
            .filter(|(_, role)| role.removable())
            .map(|(i, _)| i as u32 + 1)
            .collect();
        if base.seed == broken {
            let needed = (1..=base.trace.steps.len() as u32)
                .find(|&id| !ops_agent::keeps_outcome(base.seed, &BTreeSet::from([id])))
                .unwrap();
            r.insert(needed);
        }
        r
    });
    let o = tracecard(&[
        "evaluate",
        "--baseline",
        s(&baseline),
        "--treated",
        s(&treated),
        "--json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let e: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(e["pairs"].as_array().unwrap().len(), 10);
    assert_eq!(e["regressions"], 1, "{e}");
    assert_eq!(e["recoveries"], 0);
    let med: f64 = e["median_cost_change_usd"].as_f64().unwrap();
    assert!(med < 0.0, "treated runs are cheaper: {e}");
    let o = tracecard(&[
        "evaluate",
        "--baseline",
        s(&baseline),
        "--treated",
        s(&treated),
    ]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("regressions: 1"), "{text}");
}

#[test]
fn evaluate_ablation_by_active_rules() {
    // two treated lanes of the same tasks: every rule active (the designed-waste
    // steps skipped), and no prune rule active (nothing skipped)
    let root = scratch("ablation");
    let (baseline, treated) = (root.join("baseline"), root.join("treated"));
    gen_ops(&baseline, 200..208, |_| BTreeSet::new());
    std::fs::create_dir_all(&treated).unwrap();
    for seed in 200..208u64 {
        let base = ops_agent::run(seed, &BTreeSet::new());
        let removable: BTreeSet<u32> = base
            .roles
            .iter()
            .enumerate()
            .filter(|(_, r)| r.removable())
            .map(|(i, _)| i as u32 + 1)
            .collect();
        for (lane, removed, rules) in [
            ("all", removable, "prune-x-1,repair-y-2,preserve-z-3"),
            ("noprune", BTreeSet::new(), "repair-y-2,preserve-z-3"),
        ] {
            let mut run = ops_agent::run(seed, &removed);
            let sid = ops_agent::session_id(seed);
            run.trace.metadata.insert("task_id".into(), sid.clone());
            run.trace
                .metadata
                .insert(costcraft::evaluate::ACTIVE_RULES_KEY.into(), rules.into());
            run.trace.session_id = format!("{sid}-{lane}");
            std::fs::write(treated.join(format!("{sid}-{lane}.jsonl")), run.to_jsonl()).unwrap();
        }
    }
    let o = tracecard(&[
        "evaluate",
        "--baseline",
        s(&baseline),
        "--treated",
        s(&treated),
        "--json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let e: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let lanes = e["ablation"].as_array().unwrap();
    let names: Vec<&str> = lanes.iter().map(|l| l["lane"].as_str().unwrap()).collect();
    assert_eq!(names, ["all rules", "without prune"]);
    assert_eq!(lanes[0]["pairs"], 8);
    assert!(
        lanes[0]["median_cost_change_usd"].as_f64().unwrap() < 0.0,
        "{e}"
    );
    assert_eq!(
        lanes[1]["median_cost_change_usd"].as_f64().unwrap(),
        0.0,
        "{e}"
    );
    assert_eq!(lanes[1]["regressions"], 0);
    // the headline figures are the all-rules lane's
    assert_eq!(e["pairs"].as_array().unwrap().len(), 8);
    assert_eq!(
        e["median_cost_change_usd"],
        lanes[0]["median_cost_change_usd"]
    );
    let o = tracecard(&[
        "evaluate",
        "--baseline",
        s(&baseline),
        "--treated",
        s(&treated),
    ]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("ablation") && text.contains("without prune"),
        "{text}"
    );
}

#[test]
fn compile_outcomes_and_backfire() {
    let dir = scratch("compile");
    let outcomes = dir.join("outcomes.jsonl");
    std::fs::write(
        &outcomes,
        r#"{"session_id": "agent-7", "status": "failure", "evidence": [{"verifier": "pytest", "passed": false, "message": "test_x failed"}]}
"#,
    )
    .unwrap();
    let f = examples().join("agent-7.jsonl");
    let plain = tracecard(&["compile", s(&f), "--format", "json"]);
    assert_eq!(plain.status.code(), Some(0));
    let o = tracecard(&[
        "compile",
        s(&f),
        "--format",
        "json",
        "--outcomes",
        s(&outcomes),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let card: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(card["outcome"], "failure");
    let pytest = card["oracle"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["verifier"] == "pytest")
        .expect("the outcomes file's verdict is on the card");
    assert_eq!(pytest["passed"], false);

    // a line naming no loaded session: reported, exit 1, the card still written
    std::fs::write(
        &outcomes,
        "{\"session_id\": \"agent-7\", \"status\": \"success\"}\n{\"session_id\": \"ghost\", \"status\": \"success\"}\n",
    )
    .unwrap();
    let o = tracecard(&["compile", s(&f), "--outcomes", s(&outcomes)]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(":2:") && stderr.contains("ghost"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("session_id: agent-7"));
    // a malformed line is a fatal error naming its line
    std::fs::write(
        &outcomes,
        "{\"session_id\": \"agent-7\", \"status\": \"maybe\"}\n",
    )
    .unwrap();
    let o = tracecard(&["compile", s(&f), "--outcomes", s(&outcomes)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains(":1"));

    // --backfire puts the guards' warnings on the cards; without it nothing changes
    let plain = tracecard(&["compile", s(&examples()), "--format", "json"]);
    assert!(!String::from_utf8_lossy(&plain.stdout).contains("backfire_"));
    let o = tracecard(&["compile", s(&examples()), "--format", "json", "--backfire"]);
    assert_eq!(o.status.code(), Some(0));
    let cards: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let short: Vec<&str> = cards
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["warnings"]
                .as_array()
                .is_some_and(|w| w.iter().any(|w| w["code"] == "backfire_short_sessions"))
        })
        .map(|c| c["session_id"].as_str().unwrap())
        .collect();
    assert_eq!(short, ["agent-7", "config-question"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("backfire guard short-sessions"));
}
