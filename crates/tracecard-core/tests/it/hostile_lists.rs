//! Hostile input, part 2 (issue 14): JSON-list formats never count a record twice
//! or drop one without a word; null token counts are unknown, not $0; header-only
//! sessions, big first records, UTF-16, encrypted archives and JSONL errors get a
//! clear answer. Every input is a real fixture (read in place) changed in memory
//! and written to a temporary file.

use std::path::PathBuf;

use serde_json::Value;
use tracecard_core::{Compiler, ErrorKind, Format, Trace, import};

use crate::fixtures;

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tracecard-hostile2-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// The fixture `rel` as JSON, changed by `f`, loaded back from a file of the same
/// name in the folder `case` (names matter: some formats read the model from them)
/// as the fixture's format (re-serialising sorts the keys, which detection reads).
fn load_changed(rel: &str, case: &str, f: impl FnOnce(&mut Value)) -> Option<Vec<Trace>> {
    let p = fixtures::path(rel)?;
    let mut v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    f(&mut v);
    let dir = tmp(case);
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join(p.file_name().unwrap());
    std::fs::write(&out, serde_json::to_vec(&v).unwrap()).unwrap();
    let format = import::detect(&p).unwrap();
    let t = import::load(&out, format).unwrap_or_else(|e| panic!("{case} {rel}: {e}"));
    std::fs::remove_dir_all(&dir).unwrap();
    Some(t)
}

fn codes(t: &Trace) -> Vec<&str> {
    t.warnings.iter().map(|w| w.code.as_str()).collect()
}

fn warning<'t>(t: &'t Trace, code: &str) -> Option<&'t str> {
    t.warnings
        .iter()
        .find(|w| w.code == code)
        .map(|w| w.message.as_str())
}

fn steps(ts: &[Trace]) -> usize {
    ts.iter().map(|t| t.steps.len()).sum()
}

fn cost(ts: &[Trace]) -> Vec<tracecard_core::Usd> {
    let c = Compiler::new();
    ts.iter()
        .map(|t| c.compile(t).unwrap().total_cost_usd)
        .collect()
}

/// Where a fixture keeps the list a test changes.
type ListIn = fn(&mut Value) -> &mut Value;

/// Insert a copy of `list[i]` right after it.
fn dup_at(list: &mut Value, i: usize) {
    let a = list.as_array_mut().unwrap();
    let x = a[i].clone();
    a.insert(i + 1, x);
}

// ------------------------------------------------------------ duplicates in lists

#[test]
fn a_record_repeated_in_a_json_list_is_counted_once_with_a_warning() {
    // (fixture, where the list is, which element) — formats whose records have ids
    // or their own timestamps: the copy is dropped
    let cases: &[(&str, ListIn, usize)] = &[
        ("openhands/basic.json", |v| v, 3),
        (
            "langfuse/vercel-aisdk-2025-11-17.trace.json",
            |v| &mut v["observations"],
            1,
        ),
        (
            "inspect/2025-05-12T20-28-26-04-00_security-guide.json",
            |v| &mut v["samples"][0]["events"],
            7,
        ),
        (
            "inspect/2025-05-12T20-28-26-04-00_security-guide.json",
            |v| &mut v["samples"],
            1,
        ),
        (
            "inspect/log_tool_call_error.json",
            |v| &mut v["samples"][0]["messages"],
            5,
        ),
        (
            "mini-swe-agent/pvlib__pvlib-python-1606.deepseek-reasoner.traj.json",
            |v| &mut v["messages"],
            2,
        ),
    ];
    for &(rel, list, i) in cases {
        let Some(base) = fixtures::load(rel) else {
            return;
        };
        let twice = load_changed(rel, "dup", |v| dup_at(list(v), i)).unwrap();
        assert_eq!(
            steps(&twice),
            steps(&base),
            "{rel}: a repeated record was counted"
        );
        assert_eq!(
            twice.len(),
            base.len(),
            "{rel}: a repeated sample became a session"
        );
        assert_eq!(cost(&twice), cost(&base), "{rel}");
        let w = twice
            .iter()
            .find_map(|t| warning(t, "duplicate_record"))
            .unwrap_or_else(|| panic!("{rel}: no duplicate_record warning"));
        assert!(w.contains("counted once"), "{rel}: {w}");
    }
}

#[test]
fn a_same_id_record_with_other_content_keeps_the_first_and_says_so() {
    let rel = "openhands/basic.json";
    let Some(base) = fixtures::load(rel) else {
        return;
    };
    let t = load_changed(rel, "near-dup", |v| {
        dup_at(v, 3);
        v[4]["timestamp"] = "2025-02-01T00:20:00.000000".into();
    })
    .unwrap();
    assert_eq!(steps(&t), steps(&base));
    let w = warning(&t[0], "duplicate_record").unwrap();
    assert!(w.contains("by id, with different content"), "{w}");
}

#[test]
fn an_exact_repeat_without_id_or_time_is_kept_but_named() {
    // SWE-agent trajectory steps carry neither: a repeat might be real
    let rel = "swe-agent/swe-agent__test-repo-i1.gpt4.traj";
    let Some(base) = fixtures::load(rel) else {
        return;
    };
    let t = load_changed(rel, "dup-traj", |v| dup_at(&mut v["trajectory"], 2)).unwrap();
    assert!(steps(&t) > steps(&base));
    let w = warning(&t[0], "duplicate_record").unwrap();
    assert!(w.contains("trajectory[3] equals trajectory[2]"), "{w}");
}

// ------------------------------------------------------------ null token counts

#[test]
fn openhands_null_token_counts_are_unknown_not_zero() {
    let rel = "openhands/basic.json";
    let Some(base) = fixtures::load(rel) else {
        return;
    };
    let t = load_changed(rel, "null-usage", |v| {
        for e in v.as_array_mut().unwrap() {
            if let Some(u) = e.pointer_mut("/tool_call_metadata/model_response/usage") {
                u["prompt_tokens"] = Value::Null;
                u["completion_tokens"] = Value::Null;
            }
        }
    })
    .unwrap();
    assert_eq!(steps(&t), steps(&base));
    let w = warning(&t[0], "no_usage").expect("a no_usage warning");
    assert!(
        w.contains("usage.prompt_tokens") && w.contains("unknown"),
        "{w}"
    );
    let card = Compiler::new().compile(&t[0]).unwrap();
    let base_card = Compiler::new().compile(&base[0]).unwrap();
    assert!(
        card.unpriced_steps > base_card.unpriced_steps,
        "null counts priced: {} unpriced steps",
        card.unpriced_steps
    );
    assert!(card.total_cost_usd < base_card.total_cost_usd);
    let llm = |c: &tracecard_core::TraceCard| {
        c.steps
            .iter()
            .filter(|s| s.kind == tracecard_core::StepKind::LlmCall && s.cost_usd.is_none())
            .count()
    };
    assert!(llm(&card) > llm(&base_card));
}

#[test]
fn swe_agent_null_token_total_is_unknown_not_a_lower_cost() {
    let rel = "swe-agent/swe-agent__test-repo-i1.gpt4.traj";
    let Some(_) = fixtures::load(rel) else {
        return;
    };
    let t = load_changed(rel, "null-sent", |v| {
        v["info"]["model_stats"]["tokens_sent"] = Value::Null;
    })
    .unwrap();
    let w = warning(&t[0], "no_usage").expect("a no_usage warning");
    assert!(w.contains("tokens_sent"), "{w}");
    assert!(t[0].steps.iter().all(|s| s.tokens.is_empty()));
    assert!(
        t[0].reported_cost_usd.is_some(),
        "the reported cost is kept"
    );
}

// ------------------------------------------------------- records lost silently

#[test]
fn inspect_messages_with_an_unknown_role_are_counted_in_a_warning() {
    let rel = "inspect/log_tool_call_error.json";
    let Some(base) = fixtures::load(rel) else {
        return;
    };
    let t = load_changed(rel, "role-inspect", |v| {
        for m in v["samples"][0]["messages"].as_array_mut().unwrap() {
            m["role"] = "x".into();
        }
    })
    .unwrap();
    let n = base[0].steps.len();
    assert_eq!(t[0].steps.len(), 0);
    let w = warning(&t[0], "skipped_records").expect("skipped_records");
    assert!(w.starts_with(&format!("{n} message(s)")), "{w}");
    assert!(
        codes(&t[0]).contains(&"empty_session"),
        "{:?}",
        codes(&t[0])
    );
}

#[test]
fn swe_agent_steps_without_action_and_odd_history_roles_are_counted() {
    let rel = "swe-agent/swe-agent__test-repo-i1.gpt4.traj";
    let Some(base) = fixtures::load(rel) else {
        return;
    };
    let t = load_changed(rel, "noaction", |v| {
        v["trajectory"][1]["action"] = Value::Null;
        v["trajectory"][3]["action"] = Value::Null;
    })
    .unwrap();
    assert_eq!(t[0].steps.len(), base[0].steps.len() - 2);
    let w = warning(&t[0], "skipped_records").unwrap();
    assert!(
        w.starts_with("2 of 5 trajectory steps have no action"),
        "{w}"
    );

    let t = load_changed(rel, "role", |v| {
        v["history"][2]["role"] = "x".into();
    })
    .unwrap();
    let w = warning(&t[0], "skipped_records").unwrap();
    assert!(w.contains("history[2] (x)"), "{w}");

    let t = load_changed(rel, "nohistory", |v| {
        v.as_object_mut().unwrap().remove("history");
    })
    .unwrap();
    assert!(
        warning(&t[0], "history_mismatch").is_some_and(|w| w.contains("no history")),
        "{:?}",
        t[0].warnings
    );
}

#[test]
fn header_only_sessions_say_they_are_empty() {
    // native JSONL: the session record of a real-looking trace, nothing else
    let native = tmp("header.jsonl");
    std::fs::write(
        &native,
        "{\"record\":\"session\",\"version\":1,\"session_id\":\"h-1\"}\n",
    )
    .unwrap();
    let openclaw = tmp("header-oc.jsonl");
    std::fs::write(
        &openclaw,
        "{\"type\":\"session\",\"version\":3,\"id\":\"7f3c2a10\",\"timestamp\":\"2026-03-02T09:14:05.120Z\",\"cwd\":\"/home/dev/shop-api\"}\n",
    )
    .unwrap();
    for p in [&native, &openclaw] {
        let t = import::load(p, None).unwrap();
        assert_eq!(t[0].steps.len(), 0);
        let w = warning(&t[0], "empty_session")
            .unwrap_or_else(|| panic!("{}: {:?}", p.display(), t[0].warnings));
        assert!(w.contains("no steps"), "{w}");
    }
    // an Inspect sample stripped of its messages
    let rel = "inspect/log_tool_call_error.json";
    if let Some(t) = load_changed(rel, "nomsg", |v| {
        v["samples"][0]["messages"] = Value::Array(vec![]);
    }) {
        assert!(
            codes(&t[0]).contains(&"empty_session"),
            "{:?}",
            codes(&t[0])
        );
    }
}

// ----------------------------------------------------- detection and encodings

#[test]
fn a_claude_code_file_whose_first_record_is_over_64_kib_is_detected() {
    let Some(p) = fixtures::path("claude-code/spotter/short.jsonl") else {
        return;
    };
    let text = std::fs::read_to_string(&p).unwrap();
    let (first, rest) = text.split_once('\n').unwrap();
    assert!(
        first.starts_with(r#"{"type":"file-history-snapshot""#),
        "{first}"
    );
    // backups of many files: the record alone is longer than the detection head
    // (the record's own key order is kept: the type comes first)
    let backups: Vec<String> = (0..800)
        .map(|i| {
            format!(
                r#""src/module_{i:04}/handlers/very_long_file_name_{i}.py":{{"backupFileName":"{i:016x}@v1","version":1,"backupTime":"2026-02-10T21:11:56.906Z"}}"#
            )
        })
        .collect();
    let first = first.replacen(
        r#""trackedFileBackups":{}"#,
        &format!(r#""trackedFileBackups":{{{}}}"#, backups.join(",")),
        1,
    );
    assert!(first.len() > 64 * 1024);
    let out = tmp("big-first.jsonl");
    std::fs::write(&out, format!("{first}\n{rest}")).unwrap();
    assert_eq!(import::detect(&out).unwrap(), Some(Format::ClaudeCode));
    let a = import::load(&p, None).unwrap();
    let b = import::load(&out, None).unwrap();
    assert_eq!(steps(&a), steps(&b));
}

#[test]
fn utf16_input_is_a_typed_error_naming_the_encoding() {
    let Some(p) = fixtures::path("openhands/basic_interactions.json") else {
        return;
    };
    let text = std::fs::read_to_string(&p).unwrap();
    for (name, bom, be) in [
        ("le.json", [0xFF, 0xFE], false),
        ("be.json", [0xFE, 0xFF], true),
    ] {
        let mut b = bom.to_vec();
        for u in text.encode_utf16() {
            b.extend_from_slice(&if be { u.to_be_bytes() } else { u.to_le_bytes() });
        }
        let out = tmp(name);
        std::fs::write(&out, b).unwrap();
        let e = import::load(&out, None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Parse, "{e}");
        let m = e.to_string();
        assert!(
            m.contains(name) && m.contains(if be { "UTF-16BE" } else { "UTF-16LE" }),
            "{m}"
        );
    }
}

// ------------------------------------------------------------ archives

/// `bytes` (a ZIP) with the "encrypted" flag set on the entry `name`, in its local
/// header and its central-directory header.
fn mark_encrypted(bytes: &mut [u8], name: &str) {
    let n = name.as_bytes();
    let mut marked = 0;
    for i in 0..bytes.len().saturating_sub(46) {
        let (sig, flags, name_at) = match &bytes[i..i + 4] {
            [0x50, 0x4b, 0x03, 0x04] => (i, i + 6, i + 30),
            [0x50, 0x4b, 0x01, 0x02] => (i, i + 8, i + 46),
            _ => continue,
        };
        let len_at = if name_at == sig + 30 {
            sig + 26
        } else {
            sig + 28
        };
        let len = u16::from_le_bytes([bytes[len_at], bytes[len_at + 1]]) as usize;
        if len == n.len() && bytes.get(name_at..name_at + len) == Some(n) {
            bytes[flags] |= 1;
            marked += 1;
        }
    }
    assert_eq!(marked, 2, "entry {name} not found twice");
}

#[test]
fn an_encrypted_eval_entry_is_named_as_encrypted() {
    let Some(p) = fixtures::path("inspect/log_read_sample.eval") else {
        return;
    };
    for entry in ["samples/1_epoch_1.json", "header.json"] {
        let mut b = std::fs::read(&p).unwrap();
        mark_encrypted(&mut b, entry);
        let out = tmp("enc.eval");
        std::fs::write(&out, &b).unwrap();
        let e = import::load(&out, None).unwrap_err();
        let m = e.to_string();
        assert!(m.contains("enc.eval") && m.contains(entry), "{m}");
        assert!(m.contains("encrypted"), "{m}");
        assert!(!m.contains("missing"), "{m}");
    }
}

#[test]
fn zip_errors_use_plain_words_not_the_zip_crates_record_names() {
    let Some(p) = fixtures::path("inspect/log_read_sample.eval") else {
        return;
    };
    let b = std::fs::read(&p).unwrap();
    let internal = [
        "EOCD",
        "CDFH",
        "ZipError",
        "InvalidArchive",
        "Zip64",
        "extra field",
    ];
    // cut anywhere in the central directory, and inside the compressed data
    for cut in [b.len() - 10, b.len() - 200, b.len() / 2, 40] {
        let out = tmp("cut.eval");
        std::fs::write(&out, &b[..cut]).unwrap();
        let Err(e) = import::load(&out, Some(Format::Inspect)) else {
            continue;
        };
        let m = e.to_string();
        assert!(m.contains("cut.eval"), "{m}");
        assert!(!internal.iter().any(|w| m.contains(w)), "cut at {cut}: {m}");
    }
}

// ------------------------------------------------------------ JSONL errors

#[test]
fn a_jsonl_error_names_one_line_the_files() {
    // a real OpenClaw-style session whose 3rd line is cut inside a string (a later
    // line follows, so it is not a partial write)
    let lines = [
        r#"{"type":"session","version":3,"id":"7f3c2a10","timestamp":"2026-03-02T09:14:05.120Z","cwd":"/home/dev/shop-api"}"#,
        r#"{"type":"model_change","id":"e1","parentId":null,"timestamp":"2026-03-02T09:14:05.130Z","provider":"anthropic","modelId":"claude-sonnet-4-5"}"#,
        r#"{"type":"message","id":"m1","parentId":"e1","timestamp":"2026-03-02T09:14:11.002Z","message":{"role":"user","content":[{"type":"text","text":"Why does GET /orders"#,
        r#"{"type":"message","id":"m9","parentId":"m1","timestamp":"2026-03-02T09:14:16.480Z","message":{"role":"user","content":"again"}}"#,
    ];
    let out = tmp("broken.jsonl");
    std::fs::write(&out, lines.join("\n") + "\n").unwrap();
    let e = import::load(&out, None).unwrap_err();
    let m = e.to_string();
    assert!(m.starts_with(&format!("{}:3: ", out.display())), "{m}");
    assert!(!m.contains("line 1"), "two line numbers: {m}");
    assert!(m.contains("column"), "{m}");

    // whole-file JSON: the file's line, once
    let out = tmp("broken.json");
    std::fs::write(
        &out,
        "[\n {\"id\": 0, \"source\": \"user\",\n  \"action\": \"message\" \n",
    )
    .unwrap();
    let e = import::load(&out, Some(Format::OpenHands)).unwrap_err();
    let m = e.to_string();
    assert!(!m.contains(" at line "), "{m}");
}

// ------------------------------------------------------------ machine paths

#[test]
fn a_card_of_an_absolute_path_carries_no_machine_path() {
    // a real OpenHands log with a cut last event (a warning that names the file)
    let Some(p) = fixtures::path("openhands/resolver-output.v0-legacy.jsonl") else {
        return;
    };
    let text = std::fs::read_to_string(&p).unwrap();
    let dir = std::fs::canonicalize(tmp("x").parent().unwrap()).unwrap();
    let out = dir.join("abs-cut.jsonl");
    std::fs::write(&out, format!("{text}{{\"instance_id\": \"cut")).unwrap();
    assert!(out.is_absolute());
    let ts = import::load(&out, None).unwrap();
    let card = Compiler::new().compile(&ts[0]).unwrap();
    assert_eq!(card.source.files, ["abs-cut.jsonl"]);
    assert!(card.warnings.iter().any(|w| w.code == "truncated_line"));
    let yaml = card.to_yaml().unwrap();
    assert!(!yaml.contains(&*dir.to_string_lossy()), "{yaml}");
    // the trace itself keeps the real path (a replayer needs it)
    assert_eq!(ts[0].source.files, [out.display().to_string()]);
}
