//! Costcraft's patches and rules on the report: matched to steps by session id and
//! source_ref (by id where the source has no refs), content kept out.

use costcraft::{Patch, PatchKind, PatchSet, Policy, distill};
use tracecard_core::{Compiler, OutcomeStatus, Recorder, StepId, TokenUsage, Trace, Usd};
use tracecard_report::{Costcraft, Options, Session, render_with};

const SECRET: &str = "SECRET-VERIFIER-MESSAGE-91";

/// A small session with a duplicate read (a prune patch) in one task.
fn session(id: &str, task: &str) -> Trace {
    let mut rec = Recorder::new(id);
    rec.user_input("what is the port?");
    let call = rec.llm_call(
        "claude-sonnet-4-5",
        TokenUsage::from_exclusive(20_000, 0, 0, 0, 80),
        "read it",
    );
    let r1 = rec.tool_use(
        "read_file",
        r#"{"path":"cfg.toml"}"#,
        "port = 6432",
        Some(call),
    );
    rec.reads(r1, "cfg.toml");
    let call2 = rec.llm_call(
        "claude-sonnet-4-5",
        TokenUsage::from_exclusive(21_000, 0, 0, 0, 80),
        "read it again",
    );
    rec.consumes(call2, r1);
    let r2 = rec.tool_use(
        "read_file",
        r#"{"path":"cfg.toml"}"#,
        "port = 6432",
        Some(call2),
    );
    rec.reads(r2, "cfg.toml");
    let answer = rec.llm_call(
        "claude-sonnet-4-5",
        TokenUsage::from_exclusive(22_000, 0, 0, 0, 20),
        "The port is 6432.",
    );
    rec.consumes(answer, r1);
    let mut t = rec.finish(OutcomeStatus::Success, Some(answer), vec![]);
    t.metadata.insert("task_id".into(), task.into());
    t
}

fn data(html: &str) -> serde_json::Value {
    let open = "<script type=\"application/json\" id=\"tracecard-data\">";
    let start = html.find(open).unwrap() + open.len();
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end]).unwrap()
}

#[test]
fn distilled_patches_and_rules_land_on_their_steps() {
    let traces = [session("a", "t1"), session("b", "t2"), session("c", "t1")];
    let sessions: Vec<costcraft::Session> = traces
        .iter()
        .map(|t| costcraft::Session::compile(t.clone(), &Compiler::new()).unwrap())
        .collect();
    let policy = Policy {
        allow_backfire: costcraft::backfire::Guard::ALL.into_iter().collect(),
        min_savings_usd: Usd::ZERO,
        min_session_share: 0.0,
        ..Policy::default()
    };
    let d = distill(sessions, &policy).unwrap();
    assert!(
        d.patches
            .kept
            .iter()
            .any(|p| p.patch_kind == PatchKind::Prune),
        "{:?}",
        d.patches
    );
    let views: Vec<Session> = d
        .sessions
        .iter()
        .map(|s| Session {
            trace: Some(&s.trace),
            card: &s.card,
            analysis: s.analysis.as_ref(),
        })
        .collect();
    let cc = Costcraft {
        patches: Some(&d.patches),
        rules: Some(&d.rules),
    };
    let h = render_with(&views, &Options::default(), &cc);
    assert_eq!(
        h,
        render_with(&views, &Options::default(), &cc),
        "deterministic"
    );
    let v = data(&h);
    assert_eq!(
        v["costcraft"]["rules"].as_array().unwrap().len(),
        d.rules.rules.len()
    );
    assert_eq!(v["costcraft"]["patches_kept"], d.patches.kept.len());
    for (si, s) in d.sessions.iter().enumerate() {
        let sv = &v["sessions"][si];
        assert_eq!(sv["id"], s.card.session_id);
        let mine: Vec<(&Patch, bool)> = d
            .patches
            .kept
            .iter()
            .map(|p| (p, false))
            .chain(d.patches.refused.iter().map(|r| (&r.patch, true)))
            .filter(|(p, _)| p.session_id == s.card.session_id)
            .collect();
        let rows = sv["patches"].as_array().unwrap();
        assert_eq!(rows.len(), mine.len());
        for (row, (p, refused)) in rows.iter().zip(&mine) {
            assert_eq!(row[0], p.patch_kind.as_str());
            assert_eq!(row[1], p.target_step.0 - 1, "target index");
            assert_eq!(row[4], p.expected_savings_usd.to_string());
            assert_eq!(!row[7].is_null(), *refused);
        }
        // every evidence link of every rule naming this session is on its step
        let links = sv["rule_links"].as_array().unwrap();
        let want: usize = d
            .rules
            .rules
            .iter()
            .map(|r| {
                r.evidence
                    .supporting
                    .iter()
                    .chain(&r.evidence.counter_examples)
                    .filter(|l| l.session_id == s.card.session_id)
                    .count()
            })
            .sum();
        assert_eq!(links.len(), want);
        for (ri, r) in d.rules.rules.iter().enumerate() {
            for l in r
                .evidence
                .supporting
                .iter()
                .filter(|l| l.session_id == s.card.session_id)
            {
                assert!(
                    links
                        .iter()
                        .any(|x| x[0] == ri && x[1] == l.step.0 - 1 && x[2] == 0),
                    "{} {:?} in {links:?}",
                    r.id,
                    l
                );
            }
        }
        assert_eq!(sv["cc_unmatched"], 0);
    }
}

fn patch(kind: PatchKind, session: &str, target: u32, source_ref: Option<&str>) -> Patch {
    Patch {
        patch_kind: kind,
        session_id: session.into(),
        target_step: StepId(target),
        source_ref: source_ref.map(str::to_owned),
        steps: vec![StepId(target - 1), StepId(target)],
        counterfactual: Some("no path from /home/alice/x/cfg.toml to the outcome".into()),
        fix: (kind == PatchKind::Repair).then(|| format!("pytest said: {SECRET}")),
        verifier: (kind == PatchKind::Repair).then(|| "pytest".into()),
        claim: None,
        expected_savings_usd: Usd::from_nanos(1_500_000),
        session_cost_usd: Usd::from_nanos(9_000_000),
        evidence: vec![SECRET.into()],
        confirmed_by: Some("replay:harness".into()),
        quarantined: false,
    }
}

#[test]
fn matched_by_source_ref_then_id_and_content_stays_out() {
    let t = session("refs", "t1");
    let mut card = Compiler::new().compile(&t).unwrap();
    // the card's steps carry refs r1..rN, except step 2
    for (i, s) in card.steps.iter_mut().enumerate() {
        s.source_ref = (i != 1).then(|| format!("r{}", i + 1));
    }
    let set = PatchSet {
        kept: vec![
            // the ref wins over a stale id: target step 5, steps shifted with it
            patch(PatchKind::Prune, "refs", 3, Some("r5")),
            // no ref: by id
            patch(PatchKind::Prune, "refs", 2, None),
            // a ref this card lacks: not shown, counted
            patch(PatchKind::Prune, "refs", 4, Some("gone")),
            // another session: ignored
            patch(PatchKind::Prune, "other", 3, Some("r3")),
            patch(PatchKind::Repair, "refs", 6, Some("r6")),
        ],
        refused: Vec::new(),
    };
    let cc = Costcraft {
        patches: Some(&set),
        rules: None,
    };
    let view = [Session {
        trace: Some(&t),
        card: &card,
        analysis: None,
    }];
    let h = render_with(&view, &Options::default(), &cc);
    let v = data(&h);
    let rows = v["sessions"][0]["patches"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(rows[0][1], 4);
    assert_eq!(rows[0][2], serde_json::json!([3, 4]));
    assert_eq!(rows[1][1], 1);
    assert_eq!(rows[2][0], "repair");
    assert_eq!(rows[0][5], "replay:harness");
    assert_eq!(v["sessions"][0]["cc_unmatched"], 1);
    assert_eq!(v["costcraft"]["has_rules"], false);
    // no verifier message, no evidence lines, no absolute path
    assert!(!h.contains(SECRET), "the verifier's message leaks");
    assert!(!h.contains("/home/alice"));
    let shown = render_with(
        &view,
        &Options {
            include_content: true,
            title: None,
        },
        &cc,
    );
    assert!(shown.contains(SECRET), "--include-content shows the fix");
    // without costcraft input: empty lists, null block
    let plain = data(&tracecard_report::render(&view, &Options::default()));
    assert!(plain["costcraft"].is_null());
    assert!(
        plain["sessions"][0]["patches"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn patches_yaml_round_trips_and_is_checked() {
    let set = PatchSet {
        kept: vec![patch(PatchKind::Prune, "s", 3, Some("r3"))],
        refused: Vec::new(),
    };
    let text = format!(
        "schema_version: costcraft-patches/1\n{}",
        serde_json::to_string(&serde_json::json!({"kept": set.kept, "refused": []})).unwrap()
    );
    // JSON is YAML; the flattened PatchSet sits beside schema_version
    let text = text.replacen('{', "", 1);
    let text = text
        .trim_end_matches('}')
        .replace("\"kept\":", "kept: ")
        .replace(",\"refused\":[]", "\nrefused: []");
    let p = std::path::Path::new("patches.yaml");
    let back = tracecard_report::parse_patches(&text, p).unwrap();
    assert_eq!(back, set);
    let err = tracecard_report::parse_patches(
        "schema_version: costcraft-patches/9\nkept: []\nrefused: []\n",
        p,
    )
    .unwrap_err();
    assert!(err.contains("schema_version"), "{err}");
    assert!(tracecard_report::parse_patches("not: [a, patch", p).is_err());
}
