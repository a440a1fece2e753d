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
