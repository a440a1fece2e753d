//! Hostile input (issue 14): no panic, abort, hang or runaway memory; typed errors
//! that name the file (and line); nothing counted twice or dropped without a word.
//! Inputs are generated here; fixtures are read in place.

use std::path::PathBuf;

use tracecard_core::{ErrorKind, OutcomeStatus, Recorder, TokenUsage, import, native};

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tracecard-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn write(name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let p = tmp(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// A native JSON trace whose byte 4096 falls inside a multi-byte character
/// (for one of the four paddings).
fn native_json_with_multibyte_at(pad: usize) -> String {
    let mut rec = Recorder::new("mb-session");
    let text = format!("{}{}", "a".repeat(pad), "é€😀".repeat(2000));
    rec.user_input(&text);
    let c = rec.llm_call(
        "gpt-4.1-mini",
        TokenUsage::from_inclusive(10, 0, 0, 2, 0),
        "ok",
    );
    let t = rec.finish(OutcomeStatus::Success, Some(c), vec![]);
    native::to_json(&t).unwrap()
}

#[test]
fn detection_head_split_inside_a_multibyte_char_does_not_panic() {
    let mut hit = false;
    for pad in 0..4 {
        let text = native_json_with_multibyte_at(pad);
        hit |= !text.is_char_boundary(4096);
        let p = write(&format!("mb-{pad}.json"), &text);
        assert_eq!(
            import::detect(&p).unwrap(),
            Some(tracecard_core::Format::Native)
        );
        let traces = import::load(&p, None).unwrap();
        assert_eq!(traces[0].session_id, "mb-session");
    }
    assert!(hit, "no padding put byte 4096 inside a character");
}

#[test]
fn unknown_object_split_inside_a_multibyte_char_is_a_typed_error_naming_the_file() {
    // Starts with `{`, byte 4096 inside `€`, recognised by no importer.
    let body = format!("{{\"x\":\"{}{}\"}}", "b".repeat(4089), "€".repeat(100));
    assert!(!body.is_char_boundary(4096));
    let p = write("unknown-mb.json", &body);
    let e = import::load(&p, None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnknownFormat);
    let msg = e.to_string();
    assert!(msg.contains("unknown-mb.json"), "{msg}");
    assert!(
        !msg.contains("bbbbbbbb"),
        "the message dumps the content: {msg}"
    );
}

// ------------------------------------------------------------ 2. extreme numbers

fn load_as(
    name: &str,
    bytes: &str,
    f: tracecard_core::Format,
) -> tracecard_core::Result<Vec<tracecard_core::Trace>> {
    import::load_input(
        &import::Input::from_bytes(name, bytes.as_bytes().to_vec()),
        Some(f),
    )
}

const CC_USER: &str = r#"{"type":"user","uuid":"u1","parentUuid":null,"sessionId":"s","timestamp":"2025-01-01T00:00:00Z","message":{"role":"user","content":"hi"}}"#;

fn cc_assistant(input: &str, cache_read: &str) -> String {
    format!(
        r#"{{"type":"assistant","uuid":"a1","parentUuid":"u1","sessionId":"s","timestamp":"2025-01-01T00:00:01Z","message":{{"id":"msg_1","model":"claude-sonnet-4-20250514","content":[{{"type":"text","text":"hello"}}],"usage":{{"input_tokens":{input},"cache_creation_input_tokens":5,"cache_read_input_tokens":{cache_read},"output_tokens":2}}}}}}"#
    )
}

#[test]
fn token_counts_near_u64_max_are_parse_errors_naming_file_line_and_field() {
    let max = u64::MAX.to_string();
    let text = format!("{CC_USER}\n{}\n", cc_assistant(&max, &max));
    let e = load_as("huge.jsonl", &text, tracecard_core::Format::ClaudeCode).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Parse, "{e}");
    assert_eq!(e.line(), Some(2), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("huge.jsonl") && msg.contains("input_tokens"),
        "{msg}"
    );
    // at the limit is fine, and sums of limit-sized counts do not overflow
    let lim = tracecard_core::model::MAX_TOKENS.to_string();
    let text = format!("{CC_USER}\n{}\n", cc_assistant(&lim, &lim));
    let t = load_as("big.jsonl", &text, tracecard_core::Format::ClaudeCode).unwrap();
    let card = tracecard_core::Compiler::new().compile(&t[0]).unwrap();
    assert!(card.total_cost_usd > tracecard_core::Usd::ZERO);
    assert!(card.total_cost_usd < tracecard_core::Usd::from_nanos(i64::MAX));
}

#[test]
fn token_sums_saturate_and_recorded_traces_over_the_limit_are_rejected() {
    let u = TokenUsage::from_exclusive(u64::MAX, u64::MAX, u64::MAX, u64::MAX, u64::MAX);
    assert_eq!(u.prompt_total(), u64::MAX);
    assert_eq!(u.total(), u64::MAX);
    assert!(!u.is_empty());
    let mut rec = Recorder::new("rec");
    rec.user_input("hi");
    let c = rec.llm_call("gpt-4.1-mini", u, "x");
    let t = rec.finish(OutcomeStatus::Success, Some(c), vec![]);
    let e = tracecard_core::Compiler::new().compile(&t).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
    assert!(e.to_string().contains("tokens.input"), "{e}");
}

#[test]
fn otlp_token_attribute_near_u64_max_is_a_parse_error() {
    let span = format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[]}},"scopeSpans":[{{"scope":{{"name":"x"}},"spans":[{{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","parentSpanId":"","name":"chat gpt-4.1-mini","kind":3,"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000001000000000","attributes":[{{"key":"gen_ai.operation.name","value":{{"stringValue":"chat"}}}},{{"key":"gen_ai.request.model","value":{{"stringValue":"gpt-4.1-mini"}}}},{{"key":"gen_ai.usage.input_tokens","value":{{"intValue":"{}"}}}},{{"key":"gen_ai.usage.output_tokens","value":{{"intValue":"3"}}}}]}}]}}]}}]}}"#,
        u64::MAX
    );
    let e = load_as("otel.json", &span, tracecard_core::Format::Otlp).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Parse, "{e}");
    assert!(
        e.to_string().contains("otel.json") && e.to_string().contains("tokens.input"),
        "{e}"
    );
}

#[test]
fn absurd_money_strings_and_amounts_are_typed_errors_not_zero() {
    // native: reported cost as an exponent string
    let text = "{\"record\":\"session\",\"version\":1,\"session_id\":\"s\"}\n{\"record\":\"outcome\",\"status\":\"success\",\"reported_cost_usd\":\"1e2147483647\"}\n";
    let e = load_as("money.jsonl", text, tracecard_core::Format::Native).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Parse, "{e}");
    assert_eq!(e.line(), Some(2), "{e}");
    // OpenClaw: a reported cost no Usd holds is an error naming the field
    let session =
        r#"{"type":"session","version":3,"id":"s","timestamp":"2026-03-02T09:14:05.120Z"}"#;
    for cost in ["1e300", "\"1e999\""] {
        let msg = format!(
            r#"{{"type":"message","id":"m2","timestamp":"2026-03-02T09:14:16.480Z","message":{{"role":"assistant","content":[{{"type":"text","text":"ok"}}],"model":"claude-sonnet-4-5","usage":{{"input":1,"output":1,"cost":{{"total":{cost}}}}}}}}}"#
        );
        let e = load_as(
            "claw.jsonl",
            &format!("{session}\n{msg}\n"),
            tracecard_core::Format::OpenClaw,
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Parse, "{e}");
        assert!(e.to_string().contains("cost.total"), "{e}");
        assert_eq!(e.line(), Some(2), "{e}");
    }
}

#[test]
fn absurd_prices_are_pricing_errors_and_never_print_negative() {
    let p = write(
        "prices.json",
        r#"{"m": {"input_cost_per_token": 10000, "output_cost_per_token": 1e-06}}"#,
    );
    let e = tracecard_core::PriceTable::bundled_with_override(&p).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Pricing, "{e}");
    assert!(
        e.to_string().contains("prices.json") && e.to_string().contains("per million"),
        "{e}"
    );
    assert_eq!(
        tracecard_core::money::PerToken(10_000_000_000 * 1_000_000_000).per_million(),
        "10000000000"
    );
}

// ------------------------------------------------- 3. bounded materialisation

/// An `.eval` whose one sample is `{"id":1,"epoch":1,"events":[0,0,0,…]}`, `mb` MB
/// decompressed (deflate makes it tiny on disk).
fn eval_with_zero_array(mb: usize) -> Vec<u8> {
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let o = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(false);
        z.start_file("header.json", o).unwrap();
        z.write_all(br#"{"version":2,"status":"success","eval":{"task":"t","model":"openai/gpt-4.1-mini"}}"#)
            .unwrap();
        z.start_file("samples/1_epoch_1.json", o).unwrap();
        z.write_all(br#"{"id":1,"epoch":1,"events":[0"#).unwrap();
        let chunk = ",0".repeat(512 * 1024);
        for _ in 0..mb {
            z.write_all(chunk.as_bytes()).unwrap();
        }
        z.write_all(b"]}").unwrap();
        z.finish().unwrap();
    }
    buf.into_inner()
}

#[test]
fn eval_sample_of_dense_zeros_is_refused_not_an_allocation_abort() {
    // 250 MB decompressed (under the 256 MiB per-entry cap): used to ask for 4 GiB.
    let bytes = eval_with_zero_array(250);
    assert!(bytes.len() < 2 << 20, "{}", bytes.len());
    let p = write("zeros.eval", &bytes);
    let e = import::load(&p, None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Parse, "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("zeros.eval")
            && msg.contains("samples/1_epoch_1.json")
            && msg.contains("JSON values"),
        "{msg}"
    );
}

#[test]
fn dense_whole_file_json_is_refused_before_parsing() {
    let mut text = String::from(r#"{"trajectory":[0"#);
    text.push_str(&",0".repeat(10_000_000));
    text.push_str("]}");
    let p = write("dense.traj", &text);
    let e = import::load(&p, Some(tracecard_core::Format::SweAgent)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Parse, "{e}");
    assert!(
        e.to_string().contains("dense.traj") && e.to_string().contains("JSON values"),
        "{e}"
    );
}

// ------------------------------------- 4. non-regular files, size and line caps

/// Run `f` on another thread; fail (instead of hanging the suite) after 20 s.
fn within_20s<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(std::time::Duration::from_secs(20))
        .expect("hung: no answer within 20 s")
}

#[cfg(unix)]
#[test]
fn fifo_as_input_is_refused_without_blocking() {
    let p = tmp("pipe.jsonl");
    let _ = std::fs::remove_file(&p);
    let ok = std::process::Command::new("mkfifo")
        .arg(&p)
        .status()
        .unwrap();
    assert!(ok.success());
    let q = p.clone();
    let (e1, e2) = within_20s(move || {
        (
            import::load(&q, None).unwrap_err(),
            import::detect(&q).unwrap_err(),
        )
    });
    for e in [e1, e2] {
        assert_eq!(e.kind(), ErrorKind::Io, "{e}");
        assert!(
            e.to_string().contains("pipe.jsonl") && e.to_string().contains("FIFO"),
            "{e}"
        );
    }
    let q = p.clone();
    let e = within_20s(move || tracecard_core::PriceTable::bundled_with_override(&q).unwrap_err());
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    std::fs::remove_file(&p).unwrap();
}

#[cfg(unix)]
#[test]
fn dev_zero_and_dev_null_as_input_or_prices_are_refused() {
    for dev in ["/dev/zero", "/dev/null"] {
        let e = within_20s(move || import::load(std::path::Path::new(dev), None).unwrap_err());
        assert_eq!(e.kind(), ErrorKind::Io, "{e}");
        assert!(
            e.to_string().contains(dev) && e.to_string().contains("character device"),
            "{e}"
        );
        let e = within_20s(move || {
            tracecard_core::PriceTable::bundled_with_override(std::path::Path::new(dev))
                .unwrap_err()
        });
        assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    }
}

#[test]
fn file_above_the_size_limit_is_refused_without_reading_it() {
    let p = tmp("huge.jsonl");
    let f = std::fs::File::create(&p).unwrap();
    f.set_len(import::MAX_INPUT_BYTES + 1).unwrap(); // sparse: no disk, no memory
    let e = import::load(&p, None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Parse, "{e}");
    assert!(
        e.to_string().contains("huge.jsonl") && e.to_string().contains("limit"),
        "{e}"
    );
    std::fs::remove_file(&p).unwrap();
}

#[test]
fn jsonl_line_above_the_line_limit_is_an_error_naming_the_line() {
    let big = format!(
        r#"{{"type":"user","uuid":"u2","parentUuid":"a1","sessionId":"s","timestamp":"2025-01-01T00:00:02Z","message":{{"role":"user","content":"{}"}}}}"#,
        "x".repeat(import::MAX_LINE_BYTES)
    );
    let text = format!("{CC_USER}\n{}\n{big}\n", cc_assistant("10", "0"));
    let e = load_as("long.jsonl", &text, tracecard_core::Format::ClaudeCode).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Parse, "{e}");
    assert_eq!(e.line(), Some(3), "{e}");
    // native JSONL too
    let text = format!(
        "{{\"record\":\"session\",\"version\":1,\"session_id\":\"s\"}}\n{{\"record\":\"warning\",\"code\":\"x\",\"message\":\"{}\"}}\n",
        "y".repeat(import::MAX_LINE_BYTES)
    );
    let e = load_as("long-native.jsonl", &text, tracecard_core::Format::Native).unwrap_err();
    assert_eq!(e.line(), Some(2), "{e}");
}

// ------------------------------------------ 5. nothing counted twice or dropped silently

fn has(t: &tracecard_core::Trace, code: &str) -> bool {
    t.warnings.iter().any(|w| w.code == code)
}

#[test]
fn duplicated_jsonl_records_are_counted_once_with_a_warning() {
    // native: a recorder's step line appended twice
    let mut rec = Recorder::new("dup");
    rec.user_input("hi");
    let c = rec.llm_call(
        "gpt-4.1-mini",
        TokenUsage::from_inclusive(1000, 0, 0, 100, 0),
        "ok",
    );
    let t = rec.finish(OutcomeStatus::Success, Some(c), vec![]);
    let once = native::to_jsonl(&t).unwrap();
    let lines: Vec<&str> = once.lines().collect();
    let mut twice: Vec<&str> = lines.clone();
    twice.insert(3, lines[2]);
    let twice = twice.join("\n") + "\n";
    let a = load_as("n.jsonl", &once, tracecard_core::Format::Native).unwrap();
    let b = load_as("n.jsonl", &twice, tracecard_core::Format::Native).unwrap();
    assert_eq!(a[0].steps.len(), b[0].steps.len());
    assert!(has(&b[0], "duplicate_record"));
    let cost = |t: &tracecard_core::Trace| {
        tracecard_core::Compiler::new()
            .compile(t)
            .unwrap()
            .total_cost_usd
    };
    assert_eq!(cost(&a[0]), cost(&b[0]));

    // Claude Code, OpenClaw: the same record twice
    let cc = format!("{CC_USER}\n{}\n", cc_assistant("10", "0"));
    let cc2 = format!("{CC_USER}\n{0}\n{0}\n", cc_assistant("10", "0"));
    let a = load_as("c.jsonl", &cc, tracecard_core::Format::ClaudeCode).unwrap();
    let b = load_as("c.jsonl", &cc2, tracecard_core::Format::ClaudeCode).unwrap();
    assert_eq!(a[0].steps.len(), b[0].steps.len());
    assert!(has(&b[0], "duplicate_record"));

    let session =
        r#"{"type":"session","version":3,"id":"s","timestamp":"2026-03-02T09:14:05.120Z"}"#;
    let msg = r#"{"type":"message","id":"m2","timestamp":"2026-03-02T09:14:16.480Z","message":{"role":"assistant","content":[{"type":"text","text":"ok"}],"model":"claude-sonnet-4-5","usage":{"input":100,"output":10,"cost":{"total":0.5}}}}"#;
    let a = load_as(
        "o.jsonl",
        &format!("{session}\n{msg}\n"),
        tracecard_core::Format::OpenClaw,
    )
    .unwrap();
    let b = load_as(
        "o.jsonl",
        &format!("{session}\n{msg}\r\n{msg}\n"),
        tracecard_core::Format::OpenClaw,
    )
    .unwrap();
    assert_eq!(a[0].steps.len(), b[0].steps.len());
    assert_eq!(cost(&a[0]), cost(&b[0]));
    assert!(has(&b[0], "duplicate_record"));
}

/// The `duplicate_record` warnings of `t` (message, line).
fn duplicate_warnings(t: &tracecard_core::Trace) -> Vec<(String, Option<u64>)> {
    t.warnings
        .iter()
        .filter(|w| w.code == "duplicate_record")
        .map(|w| (w.message.clone(), w.line))
        .collect()
}

/// `line` written again by another writer: the same JSON with its keys sorted
/// (serde_json's map is ordered) and a space after each separator.
fn reserialised(line: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    let sorted = v.to_string();
    assert_ne!(sorted, line, "the copy must differ byte for byte");
    sorted.replacen("\":", "\": ", 1)
}

#[test]
fn openclaw_records_repeated_by_id_in_other_bytes_are_counted_once_and_conflicts_named() {
    let session =
        r#"{"type":"session","version":3,"id":"s","timestamp":"2026-03-02T09:14:05.120Z"}"#;
    let msg = r#"{"type":"message","id":"m2","timestamp":"2026-03-02T09:14:16.480Z","message":{"role":"assistant","content":[{"type":"text","text":"ok"}],"model":"claude-sonnet-4-5","usage":{"input":100,"output":10,"cost":{"total":0.5}}}}"#;
    let load = |text: String| {
        load_as("o.jsonl", &text, tracecard_core::Format::OpenClaw)
            .unwrap()
            .remove(0)
    };
    let cost = |t: &tracecard_core::Trace| {
        tracecard_core::Compiler::new()
            .compile(t)
            .unwrap()
            .total_cost_usd
    };
    let once = load(format!("{session}\n{msg}\n"));
    // same meaning, other bytes
    let again = load(format!("{session}\n{msg}\n{}\n", reserialised(msg)));
    assert_eq!(again.steps.len(), once.steps.len());
    assert_eq!(cost(&again), cost(&once));
    let w = duplicate_warnings(&again);
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].1, Some(3));
    assert!(
        w[0].0.contains("line 3 repeats the record of line 2"),
        "{}",
        w[0].0
    );
    assert!(w[0].0.contains("\"m2\""), "{}", w[0].0);
    // same id, different usage: the first is kept and the conflict named
    let conflict = msg.replace("\"input\":100", "\"input\":9000");
    let both = load(format!("{session}\n{msg}\n{conflict}\n"));
    assert_eq!(both.steps.len(), once.steps.len());
    assert_eq!(cost(&both), cost(&once));
    let w = duplicate_warnings(&both);
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].1, Some(3));
    assert!(
        w[0].0.contains("different content")
            && w[0].0.contains("\"m2\"")
            && w[0].0.contains("line 2"),
        "{}",
        w[0].0
    );
}

#[test]
fn claude_code_records_repeated_by_uuid_in_other_bytes_are_counted_once_and_conflicts_named() {
    // a real transcript (read in place), every user and assistant record written
    // twice, the second time by another serialiser
    let Some(path) = crate::fixtures::path("claude-code/spotter/short.jsonl") else {
        return;
    };
    let text = std::fs::read_to_string(&path).unwrap();
    let original = tracecard_core::load(&path, None).unwrap().remove(0);
    let card = |t: &tracecard_core::Trace| tracecard_core::Compiler::new().compile(t).unwrap();
    let load = |text: &str| {
        load_as("short.jsonl", text, tracecard_core::Format::ClaudeCode)
            .unwrap()
            .remove(0)
    };
    let kind = |l: &str| {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        let t = v["type"].as_str().unwrap_or("").to_string();
        (
            t,
            v.get("uuid").is_some(),
            v.pointer("/message/usage").is_some(),
        )
    };
    let mut doubled = String::new();
    let mut copies = Vec::new();
    let mut line_no = 0u64;
    for l in text.lines() {
        line_no += 1;
        doubled.push_str(l);
        doubled.push('\n');
        let (t, has_uuid, _) = kind(l);
        if has_uuid && (t == "user" || t == "assistant") {
            line_no += 1;
            doubled.push_str(&reserialised(l));
            doubled.push('\n');
            copies.push(line_no);
        }
    }
    assert!(copies.len() >= 4, "{copies:?}");
    let again = load(&doubled);
    assert_eq!(again.steps.len(), original.steps.len());
    assert_eq!(card(&again).total_cost_usd, card(&original).total_cost_usd);
    assert_eq!(card(&again).steps.len(), card(&original).steps.len());
    let w = duplicate_warnings(&again);
    assert_eq!(w.iter().map(|w| w.1.unwrap()).collect::<Vec<_>>(), copies);
    assert!(
        w.iter()
            .all(|w| w.0.contains("written differently; counted once")),
        "{w:?}"
    );

    // the first assistant record with usage, again with other usage: the first is
    // kept, the conflict named with its line and uuid
    let first = text
        .lines()
        .find(|l| kind(l) == ("assistant".into(), true, true))
        .unwrap();
    let uuid = serde_json::from_str::<serde_json::Value>(first).unwrap()["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let mut v: serde_json::Value = serde_json::from_str(first).unwrap();
    v["message"]["usage"]["output_tokens"] = serde_json::json!(123_456);
    let conflicting = format!("{text}{v}\n");
    let last = conflicting.lines().count() as u64;
    let both = load(&conflicting);
    assert_eq!(both.steps.len(), original.steps.len());
    assert_eq!(card(&both).total_cost_usd, card(&original).total_cost_usd);
    let w = duplicate_warnings(&both);
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].1, Some(last));
    assert!(
        w[0].0.contains("different content") && w[0].0.contains(&uuid),
        "{}",
        w[0].0
    );
}

#[test]
fn a_price_file_that_prices_nothing_is_an_error() {
    for (name, text) in [
        ("empty-models.json", r#"{"models":{}}"#),
        ("empty.json", "{}"),
    ] {
        let p = write(name, text);
        let e = tracecard_core::PriceTable::bundled_with_override(&p).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Pricing, "{e}");
        assert!(
            e.to_string().contains(name) && e.to_string().contains("no model"),
            "{e}"
        );
    }
}

#[test]
fn eval_entries_with_dot_dot_are_not_samples() {
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let o = zip::write::SimpleFileOptions::default();
        z.start_file("header.json", o).unwrap();
        z.write_all(br#"{"version":2,"status":"success","eval":{"task":"t"}}"#)
            .unwrap();
        let sample = br#"{"id":1,"epoch":1,"events":[{"event":"model","output":{"usage":{"input_tokens":1,"output_tokens":1,"total_tokens":2}}}]}"#;
        z.start_file("samples/1_epoch_1.json", o).unwrap();
        z.write_all(sample).unwrap();
        z.start_file("samples/../../etc/2_epoch_1.json", o).unwrap();
        z.write_all(sample).unwrap();
        z.finish().unwrap();
    }
    let t = import::load_input(
        &import::Input::from_bytes("dots.eval", buf.into_inner()),
        Some(tracecard_core::Format::Inspect),
    )
    .unwrap();
    assert_eq!(t.len(), 1);
    let w = t[0]
        .warnings
        .iter()
        .find(|w| w.code == "suspicious_entry")
        .expect("a warning");
    assert!(w.message.contains("../../etc"), "{}", w.message);
}

// ------------------------------------------- 6./7. partial writes, BOM, empty input

#[test]
fn a_last_line_cut_inside_a_character_or_a_number_keeps_the_complete_records() {
    let full = format!("{CC_USER}\n{}\n", cc_assistant("10", "0"));
    let tail_str = r#"{"type":"user","uuid":"u2","parentUuid":"a1","sessionId":"s","timestamp":"2025-01-01T00:00:02Z","message":{"role":"user","content":"déjà"#;
    let cut_char = &tail_str.as_bytes()[..tail_str.len() - 1]; // inside `à`
    let mut bytes = full.as_bytes().to_vec();
    bytes.extend_from_slice(cut_char);
    let t = import::load_input(
        &import::Input::from_bytes("cut.jsonl", bytes),
        Some(tracecard_core::Format::ClaudeCode),
    )
    .unwrap();
    assert!(has(&t[0], "truncated_line"));
    for cut in ["-", "1.", "1e", "1e-"] {
        let text = format!(
            "{full}{{\"type\":\"assistant\",\"uuid\":\"a2\",\"parentUuid\":\"a1\",\"sessionId\":\"s\",\"message\":{{\"usage\":{{\"input_tokens\":{cut}"
        );
        let t = load_as("cutnum.jsonl", &text, tracecard_core::Format::ClaudeCode).unwrap();
        assert!(has(&t[0], "truncated_line"), "{cut}");
        let native = format!(
            "{{\"record\":\"session\",\"version\":1,\"session_id\":\"s\"}}\n{{\"record\":\"outcome\",\"status\":\"success\",\"reported_cost_usd\":{cut}"
        );
        let t = load_as(
            "cutnum-native.jsonl",
            &native,
            tracecard_core::Format::Native,
        )
        .unwrap();
        assert!(has(&t[0], "truncated_line"), "{cut}");
    }
    // a bad number in the middle of the file is still an error naming the line
    let text = format!("{CC_USER}\n{{\"x\":1e}}\n{}\n", cc_assistant("10", "0"));
    let e = load_as("mid.jsonl", &text, tracecard_core::Format::ClaudeCode).unwrap_err();
    assert_eq!(e.line(), Some(2), "{e}");
}

#[test]
fn a_byte_order_mark_is_ignored_by_detection_and_parsing() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(format!("{CC_USER}\n{}\n", cc_assistant("10", "0")).as_bytes());
    let p = write("bom.jsonl", &bytes);
    assert_eq!(
        import::detect(&p).unwrap(),
        Some(tracecard_core::Format::ClaudeCode)
    );
    let t = import::load(&p, None).unwrap();
    assert_eq!(t[0].session_id, "s");
}

#[test]
fn an_empty_file_says_empty_not_unknown_format() {
    for (name, bytes) in [("e1.jsonl", &b""[..]), ("e2.json", b"\xEF\xBB\xBF \n\n")] {
        let p = write(name, bytes);
        let e = import::load(&p, None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Parse, "{e}");
        assert!(
            e.to_string().contains(name) && e.to_string().contains("empty"),
            "{e}"
        );
    }
}
