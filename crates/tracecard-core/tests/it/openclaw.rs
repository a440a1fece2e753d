//! OpenClaw session JSONL importer. No public fixture exists: the sample below was
//! written for this test from the format description (FORMATS.md §7 and the pi-agent
//! session layout: `session` header, `message` lines with `user` / `assistant` /
//! `toolResult` roles, `toolCall` content blocks, `usage.cost.total`).

use tracecard_core::import::{Input, load_input};
use tracecard_core::{Compiler, Format, StepKind, StepStatus, TokenUsage, Trace};

const SESSION: &str = r#"{"type":"session","version":3,"id":"7f3c2a10-5b1e-4c9a-9d7e-2e0c4f8b6a31","timestamp":"2026-03-02T09:14:05.120Z","cwd":"/home/dev/shop-api"}
{"type":"model_change","id":"e1","parentId":null,"timestamp":"2026-03-02T09:14:05.130Z","provider":"anthropic","modelId":"claude-sonnet-4-5"}
{"type":"thinking_level_change","id":"e2","parentId":"e1","timestamp":"2026-03-02T09:14:05.131Z","thinkingLevel":"low"}
{"type":"custom","id":"e3","parentId":"e2","timestamp":"2026-03-02T09:14:05.140Z","customType":"openclaw:bootstrap","data":{"workspace":"shop-api"}}
{"type":"message","id":"m1","parentId":"e3","timestamp":"2026-03-02T09:14:11.002Z","message":{"role":"user","content":[{"type":"text","text":"Why does GET /orders return 500 in staging?"}],"timestamp":1772442851002}}
{"type":"message","id":"m2","parentId":"m1","timestamp":"2026-03-02T09:14:16.480Z","message":{"role":"assistant","content":[{"type":"thinking","thinking":"Check the route and the staging log."},{"type":"text","text":"Let me look at the route and the log."},{"type":"toolCall","id":"toolu_01A","name":"read","arguments":{"path":"src/routes/orders.ts"}},{"type":"toolCall","id":"toolu_01B","name":"bash","arguments":{"command":"cat logs/staging.log"}}],"api":"anthropic-messages","provider":"anthropic","model":"claude-sonnet-4-5","usage":{"input":2150,"output":180,"cacheRead":0,"cacheWrite":4800,"totalTokens":7130,"cost":{"input":0.00645,"output":0.0027,"cacheRead":0,"cacheWrite":0.018,"total":0.02715}},"stopReason":"toolUse","timestamp":1772442856480}}
{"type":"message","id":"m3","parentId":"m2","timestamp":"2026-03-02T09:14:16.530Z","message":{"role":"toolResult","toolCallId":"toolu_01A","toolName":"read","content":[{"type":"text","text":"export async function listOrders(req, res) {\n  const rows = await db.query(`SELECT * FROM orders WHERE shop = ${req.query.shop}`);\n  res.json(rows);\n}"}],"isError":false,"timestamp":1772442856530}}
{"type":"message","id":"m4","parentId":"m3","timestamp":"2026-03-02T09:14:16.610Z","message":{"role":"toolResult","toolCallId":"toolu_01B","toolName":"bash","content":[{"type":"text","text":"error: column \"undefined\" does not exist at listOrders (src/routes/orders.ts:2)"}],"isError":false,"timestamp":1772442856610}}
{"type":"message","id":"m5","parentId":"m4","timestamp":"2026-03-02T09:14:24.900Z","message":{"role":"assistant","content":[{"type":"toolCall","id":"toolu_01C","name":"edit","arguments":{"path":"src/routes/orders.ts","oldText":"WHERE shop = ${req.query.shop}`);","newText":"WHERE shop = $1`, [req.query.shop ?? req.user.shop]);"}}],"api":"anthropic-messages","provider":"anthropic","model":"claude-sonnet-4-5","usage":{"input":640,"output":210,"cacheRead":4800,"cacheWrite":1900,"totalTokens":7550,"cost":{"input":0.00192,"output":0.00315,"cacheRead":0.00144,"cacheWrite":0.007125,"total":0.013635}},"stopReason":"toolUse","timestamp":1772442864900}}
{"type":"message","id":"m6","parentId":"m5","timestamp":"2026-03-02T09:14:24.950Z","message":{"role":"toolResult","toolCallId":"toolu_01C","toolName":"edit","content":[{"type":"text","text":"Edited src/routes/orders.ts (1 replacement)"}],"isError":false,"timestamp":1772442864950}}
{"type":"message","id":"m7","parentId":"m6","timestamp":"2026-03-02T09:14:29.300Z","message":{"role":"assistant","content":[{"type":"toolCall","id":"toolu_01D","name":"task","arguments":{"description":"run tests","prompt":"Run npm test in /home/dev/shop-api and report failures."}}],"api":"anthropic-messages","provider":"anthropic","model":"claude-sonnet-4-5","usage":{"input":120,"output":95,"cacheRead":6700,"cacheWrite":260,"totalTokens":7175,"cost":{"input":0.00036,"output":0.001425,"cacheRead":0.00201,"cacheWrite":0.000975,"total":0.00477}},"stopReason":"toolUse","timestamp":1772442869300}}
{"type":"message","id":"m8","parentId":"m7","timestamp":"2026-03-02T09:15:02.010Z","message":{"role":"toolResult","toolCallId":"toolu_01D","toolName":"task","content":[{"type":"text","text":"All 48 tests passed (session agent:main:subagent:4be1)."}],"isError":false,"timestamp":1772442902010}}
{"type":"message","id":"m9","parentId":"m8","timestamp":"2026-03-02T09:15:06.700Z","message":{"role":"assistant","content":[{"type":"text","text":"The 500 came from an unquoted, interpolated shop id in the SQL of listOrders. I switched it to a bound parameter; the test suite passes."}],"api":"anthropic-messages","provider":"anthropic","model":"claude-sonnet-4-5","usage":{"input":85,"output":140,"cacheRead":6960,"cacheWrite":150,"totalTokens":7335,"cost":{"input":0.000255,"output":0.0021,"cacheRead":0.002088,"cacheWrite":0.0005625,"total":0.0050055}},"stopReason":"stop","timestamp":1772442906700}}
"#;

fn imp(bytes: &[u8]) -> tracecard_core::Result<Vec<Trace>> {
    load_input(
        &Input::from_bytes("7f3c2a10.jsonl", bytes.to_vec()),
        Some(Format::OpenClaw),
    )
}

use crate::fixtures::count;

#[test]
fn sample_session() {
    // auto-detected
    let t = &load_input(
        &Input::from_bytes("s.jsonl", SESSION.as_bytes().to_vec()),
        None,
    )
    .unwrap()[0];
    assert_eq!(t.source.format, "openclaw");
    t.validate().unwrap();
    assert_eq!(t.session_id, "7f3c2a10-5b1e-4c9a-9d7e-2e0c4f8b6a31");
    assert_eq!(
        t.metadata.get("cwd").map(String::as_str),
        Some("/home/dev/shop-api")
    );
    // user, llm, read, bash, llm, edit, llm, task (spawn), llm
    assert_eq!(t.steps.len(), 9);
    assert_eq!(count(t, StepKind::LlmCall), 4);
    assert_eq!(count(t, StepKind::ToolUse), 3);
    assert_eq!(count(t, StepKind::SubagentSpawn), 1);
    assert_eq!(count(t, StepKind::UserInput), 1);
    assert_eq!(t.steps[1].links.requests, ["toolu_01A", "toolu_01B"]);
    assert_eq!(t.steps[2].links.reads, ["src/routes/orders.ts"]);
    assert_eq!(t.steps[3].links.reads, ["logs/staging.log"]);
    assert_eq!(t.steps[5].links.reads, ["src/routes/orders.ts"]);
    assert_eq!(t.steps[5].links.writes, ["src/routes/orders.ts"]);
    assert_eq!(t.steps[4].links.context, [t.steps[2].id, t.steps[3].id]);
    assert_eq!(t.steps[1].links.context, [t.steps[0].id]);
    assert!(
        t.steps
            .iter()
            .filter(|s| s.kind != StepKind::LlmCall && s.kind != StepKind::UserInput)
            .all(|s| s.status == StepStatus::Ok && s.links.consumes.len() == 1)
    );
    assert_eq!(t.steps[7].tool.as_deref(), Some("task"));
    assert_eq!(
        t.total_tokens(),
        TokenUsage {
            input: 2995,
            output: 625,
            cache_read: 18_460,
            cache_write_5m: 7110,
            ..TokenUsage::default()
        }
    );
    assert_eq!(t.outcome.final_step, Some(t.steps[8].id));
    assert!(crate::fixtures::answer_text(t).starts_with("The 500 came from"));
    assert_eq!(t.outcome.reason.as_deref(), Some("stopReason stop"));
    // reconciliation with the harness's usage.cost.total (sum 0.0505605)
    let card = Compiler::new().compile(t).unwrap();
    let reported = card.reported_cost_usd.unwrap();
    eprintln!(
        "openclaw sample: computed ${} reported ${}",
        card.total_cost_usd, reported
    );
    assert_eq!(reported.to_string(), "0.0505605");
    assert_eq!(card.total_cost_usd, reported);
    assert_eq!(
        card.steps[1].reported_cost_usd.unwrap().to_string(),
        "0.02715"
    );
}

#[test]
fn malformed_input() {
    assert!(imp(b"").is_err());
    assert!(imp(b"{\"type\":\"session\",\"id\":\"\xff\"}\n").is_err());
    assert!(imp("[".repeat(100_000).as_bytes()).is_err());
    let head = r#"{"type":"session","version":3,"id":"s","timestamp":"2026-03-02T09:14:05.120Z"}"#;
    let bad = format!(
        "{head}\n{}\n",
        r#"{"type":"message","id":"m","message":{"role":"assistant","content":[],"usage":{"input":"lots"}}}"#
    );
    let e = imp(bad.as_bytes()).unwrap_err().to_string();
    assert!(e.contains(":2") && e.contains("message.usage.input"), "{e}");
    let bad = format!(
        "{head}\n{}\n",
        r#"{"type":"message","id":"m","message":"hi"}"#
    );
    assert!(imp(bad.as_bytes()).is_err());
    let bad = format!(
        "{head}\n{}\n",
        r#"{"type":"message","timestamp":"later","message":{"role":"user"}}"#
    );
    assert!(imp(bad.as_bytes()).is_err());
    // unknown types, roles and blocks, orphan results, truncated tail: warnings
    let text = format!(
        "{head}\n{}\n{}\n{}\n{}\n{}",
        r#"{"type":"hologram","id":"x"}"#,
        r#"{"type":"message","id":"a","message":{"role":"narrator","content":"x"}}"#,
        r#"{"type":"message","id":"b","message":{"role":"assistant","content":[{"type":"video"},{"type":"toolCall","id":"c9","name":"bash","arguments":{"command":"ls"}}]}}"#,
        r#"{"type":"message","id":"c","message":{"role":"toolResult","toolCallId":"zz","content":"?"}}"#,
        r#"{"type":"message","id":"d","mess"#
    );
    let t = &imp(text.as_bytes()).unwrap()[0];
    let codes: Vec<_> = t.warnings.iter().map(|w| w.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "truncated_line",
            "unknown_record",
            "unknown_record",
            "unknown_record",
            "orphan_tool_output"
        ]
    );
    // the bash call never got a result
    assert_eq!(t.steps[1].status, StepStatus::Error);
}
