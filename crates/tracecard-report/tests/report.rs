//! The report is one self-contained, deterministic, content-free HTML file.

use tracecard_core::analysis::Analysis;
use tracecard_core::{Compiler, OutcomeStatus, PriceTable, Recorder, TokenUsage, Trace, TraceCard};
use tracecard_report::{Options, Session, render};

const HOSTILE: &str = "</script><script>alert(1)</script>";
const SECRET: &str = "SECRET-PROMPT-TEXT-7f3a";

/// A generated session of about `n` steps: model calls, tools (one with a hostile
/// name), duplicate reads (redundant), sub-agents, absolute artifact paths, and
/// content that must never reach the report. Times are fixed (deterministic).
pub fn session(id: &str, n: usize) -> Trace {
    let mut rec = Recorder::new(id);
    rec.user_input(&format!("{SECRET} please fix the build"));
    let mut last = None;
    let mut i = 0usize;
    while rec.trace().steps.len() + 4 < n {
        i += 1;
        let call = rec.llm_call(
            "claude-sonnet-4-5",
            TokenUsage::from_exclusive(200 + (i as u64 % 7) * 50, 0, 5000 + i as u64 * 10, 0, 40),
            &format!("{SECRET} thinking about item_{i}"),
        );
        if let Some(prev) = last {
            rec.consumes(call, prev);
        }
        let tool = if i % 10 == 3 { HOSTILE } else { "read_file" };
        let path = format!("/home/alice/project/src/file_{}.rs", i % 40);
        let t = rec.tool_use(
            tool,
            &format!("{{\"path\":\"{path}\"}}"),
            &format!("{SECRET} value_{i} = {i}"),
            Some(call),
        );
        rec.reads(t, &path);
        if i.is_multiple_of(9) {
            // the same read again: a duplicate
            let d = rec.tool_use(
                tool,
                &format!("{{\"path\":\"{path}\"}}"),
                &format!("{SECRET} value_{i} = {i}"),
                Some(call),
            );
            rec.reads(d, &path);
        }
        if i.is_multiple_of(25) {
            let sp = rec.begin_subagent("Task", "Explore", Some(call));
            let c = rec.llm_call(
                "claude-haiku-4-5",
                TokenUsage::from_exclusive(900, 0, 0, 0, 60),
                &format!("found thing_{i}"),
            );
            rec.end_subagent(sp, &format!("found thing_{i}"), Some(c));
        }
        let w = rec.tool_use(
            "write_file",
            &format!("{{\"path\":\"{path}\"}}"),
            "ok",
            Some(call),
        );
        rec.writes(w, &path);
        last = Some(t);
    }
    let answer = rec.llm_call(
        "claude-sonnet-4-5",
        TokenUsage::from_exclusive(300, 0, 0, 0, 90),
        "done",
    );
    let mut trace = rec.finish(OutcomeStatus::Success, Some(answer), vec![]);
    trace.source.files = vec![format!("/home/alice/.claude/projects/{id}.jsonl")];
    let t0 = 1_790_000_000_000i64;
    trace.started_at = Some(jiff::Timestamp::from_millisecond(t0).unwrap());
    for (k, s) in trace.steps.iter_mut().enumerate() {
        let start = t0 + k as i64 * 1500;
        s.started_at = Some(jiff::Timestamp::from_millisecond(start).unwrap());
        s.ended_at =
            Some(jiff::Timestamp::from_millisecond(start + 400 + (k as i64 % 5) * 300).unwrap());
    }
    trace
}

fn build(traces: &[Trace]) -> Vec<(TraceCard, Analysis)> {
    traces
        .iter()
        .map(|t| {
            (
                Compiler::new().compile(t).unwrap(),
                Analysis::run(t, PriceTable::bundled()).unwrap(),
            )
        })
        .collect()
}

fn html(traces: &[Trace], opts: &Options) -> String {
    let built = build(traces);
    let sessions: Vec<Session> = traces
        .iter()
        .zip(&built)
        .map(|(trace, (card, a))| Session {
            trace: Some(trace),
            card,
            analysis: Some(a),
        })
        .collect();
    render(&sessions, opts)
}

/// The JSON block, unescaped by a JSON parser (as the browser's JSON.parse does).
fn data(html: &str) -> serde_json::Value {
    let open = "<script type=\"application/json\" id=\"tracecard-data\">";
    let start = html.find(open).unwrap() + open.len();
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end]).unwrap()
}

#[test]
fn self_contained_and_safe() {
    let t = session("hostile-session </script><!--", 300);
    let h = html(std::slice::from_ref(&t), &Options::default());
    let lower = h.to_ascii_lowercase();
    // exactly two script elements (data + code), no external resources
    assert_eq!(lower.matches("<script").count(), 2, "script tags");
    assert_eq!(lower.matches("</script").count(), 2, "script closers");
    for bad in [
        "src=\"http",
        "src='http",
        "href=\"http",
        "href='http",
        "src=\"//",
        "href=\"//",
        "<link",
        "@import",
        "url(http",
        "<iframe",
        "<object",
        "<embed",
    ] {
        assert!(!lower.contains(bad), "found {bad}");
    }
    assert!(
        !lower.contains("http://") && !lower.contains("https://"),
        "a URL in the page"
    );
    assert!(h.contains("Content-Security-Policy"));
    // the hostile tool name and session id survive as data, never as markup
    assert!(!h.contains("<script>alert(1)"));
    let d = data(&h);
    let strings: Vec<&str> = d["strings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(strings.contains(&HOSTILE), "the tool name is kept as data");
    assert_eq!(d["sessions"][0]["id"], "hostile-session </script><!--");
    assert!(h.contains("<title>tracecard report: hostile-session &lt;/script&gt;&lt;!--</title>"));
    // no trace content, no absolute paths
    assert!(!h.contains(SECRET), "trace content leaked");
    assert!(!h.contains("/home/alice"), "absolute path leaked");
    assert!(!h.contains("value_1"), "content token leaked");
    // file names keep their last path component only
    assert_eq!(d["sessions"][0]["files"][0], "script><!--.jsonl");
    // with --include-content, evidence may quote content (tokens, artifact names)
    let c = html(
        std::slice::from_ref(&t),
        &Options {
            include_content: true,
            title: None,
        },
    );
    assert!(c.contains("/home/alice/project/src/"));
}

#[test]
fn verdicts_and_totals_match_the_card() {
    let t = session("totals", 400);
    let built = build(std::slice::from_ref(&t));
    let card = &built[0].0;
    let h = html(std::slice::from_ref(&t), &Options::default());
    let d = data(&h);
    let s = &d["sessions"][0];
    assert_eq!(s["total"], card.total_cost_usd.to_string());
    let steps = s["steps"].as_array().unwrap();
    assert_eq!(steps.len(), card.steps.len());
    let redundant = card.steps.iter().filter(|s| s.redundant).count();
    assert!(redundant > 0, "the generator makes duplicates");
    assert_eq!(steps.iter().filter(|r| r[9] == 1).count(), redundant);
    assert_eq!(s["counts"][1], redundant);
    assert!(s["lanes"].as_array().unwrap().len() > 1, "sub-agent lanes");
    assert_eq!(s["timed"], true);
    // a card alone (no trace, no analysis): by order, no edges, same totals
    let alone = render(
        &[Session {
            trace: None,
            card,
            analysis: None,
        }],
        &Options::default(),
    );
    let d = data(&alone);
    assert_eq!(d["sessions"][0]["timed"], false);
    assert_eq!(d["sessions"][0]["total"], card.total_cost_usd.to_string());
    assert!(d["sessions"][0]["edges"].as_array().unwrap().is_empty());
}

#[test]
fn deterministic_and_small() {
    let t = session("big", 2000);
    assert!(t.steps.len() >= 1990);
    let started = std::time::Instant::now();
    let a = html(std::slice::from_ref(&t), &Options::default());
    let took = started.elapsed();
    let b = html(std::slice::from_ref(&t), &Options::default());
    assert_eq!(a, b, "same input, same bytes");
    assert!(
        a.len() < 5 * 1024 * 1024,
        "{} bytes for 2,000 steps",
        a.len()
    );
    eprintln!("2,000 steps: {} KB, built in {took:?}", a.len() / 1024);
    // several sessions: one file with an overview
    let two = html(
        &[session("one", 50), session("two", 80)],
        &Options::default(),
    );
    assert_eq!(data(&two)["sessions"].as_array().unwrap().len(), 2);
}

#[test]
fn many_sequential_subagents_share_a_lane() {
    // 4,000 steps: 50 sequential `Explore` runs, more than MAX_LANES
    let t = session("lanes", 4000);
    let d = data(&html(std::slice::from_ref(&t), &Options::default()));
    let lanes = d["sessions"][0]["lanes"].as_array().unwrap();
    assert_eq!(lanes.len(), 2, "{lanes:?}");
    assert_eq!(lanes[0][0], "main");
    assert!(
        lanes[1][0].as_str().unwrap().starts_with("Explore ×"),
        "{lanes:?}"
    );
    // a few sub-agents keep a lane each
    let d = data(&html(&[session("few", 200)], &Options::default()));
    let lanes = d["sessions"][0]["lanes"].as_array().unwrap();
    assert_eq!(lanes.len(), 3, "{lanes:?}");
    assert_eq!(lanes[1][0], "Explore (step 78)");
}

/// Writes the generated reports the browser test loads (`scripts/report-browser-test`)
/// when `TRACECARD_REPORT_OUT` names a folder.
#[test]
fn browser_fixtures() {
    let Some(dir) = std::env::var_os("TRACECARD_REPORT_OUT") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    let big = session("generated-10000", 10_000);
    std::fs::write(
        dir.join("big.html"),
        html(std::slice::from_ref(&big), &Options::default()),
    )
    .unwrap();
    let hostile = session("hostile </script><img src=x onerror=alert(1)>", 200);
    std::fs::write(
        dir.join("hostile.html"),
        html(std::slice::from_ref(&hostile), &Options::default()),
    )
    .unwrap();
}
