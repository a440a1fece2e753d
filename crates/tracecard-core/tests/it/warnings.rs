//! The warning codes: `docs/warnings.md` lists every one, and the card schema
//! names them.

use tracecard_core::WarningCode;

#[test]
fn docs_table_lists_every_code_with_its_description() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/warnings.md");
    let Ok(doc) = std::fs::read_to_string(path) else {
        // outside the repository (a packaged crate): nothing to check
        return;
    };
    let rows: Vec<String> = doc
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(str::to_owned)
        .collect();
    let want: Vec<String> = WarningCode::ALL
        .iter()
        .map(|c| format!("| `{}` | {} |", c.as_str(), c.description()))
        .collect();
    assert_eq!(
        rows, want,
        "docs/warnings.md is stale: regenerate its table from `tracecard warnings`"
    );
}

#[test]
fn card_schema_enumerates_the_codes() {
    let schema: serde_json::Value =
        serde_json::from_str(&tracecard_core::TraceCard::json_schema()).unwrap();
    let text = schema.to_string();
    for c in WarningCode::ALL {
        assert!(text.contains(&format!("\"{}\"", c.as_str())), "{c}");
    }
}

#[test]
fn native_warning_records_read_synonyms_and_unknown_codes() {
    let text = concat!(
        r#"{"record":"session","version":1,"session_id":"s"}"#,
        "\n",
        r#"{"record":"warning","code":"orphan_tool_result","message":"m"}"#,
        "\n",
        r#"{"record":"warning","code":"harness_special","message":"m2","line":3}"#,
        "\n",
    );
    let t = tracecard_core::native::parse(std::path::Path::new("w.jsonl"), text).unwrap();
    assert_eq!(t.warnings[0].code, WarningCode::OrphanToolOutput);
    assert_eq!(t.warnings[1].code, WarningCode::Other);
    assert_eq!(t.warnings[1].message, "harness_special: m2");
    assert_eq!(t.warnings[1].line, Some(3));
    // written back as the one code
    let out = tracecard_core::native::to_jsonl(&t).unwrap();
    assert!(out.contains(r#""code":"orphan_tool_output""#), "{out}");
}
