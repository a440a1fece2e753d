//! Round-trips on fuzzed input (issue 14): any bytes that import as a native trace
//! must survive native JSON -> parse unchanged, native JSONL -> parse as the same
//! trace up to `native::jsonl_normalised` (JSONL has no place for two whole-trace
//! fields, and reads a record written twice byte for byte once) and JSONL -> parse
//! -> JSONL byte for byte, and the card compiled from it must survive YAML and
//! JSON unchanged. Failing any is a crash (an `assert!`), like a panic in an
//! importer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracecard_core::import::{Input, load_input};
use tracecard_core::{Compiler, Format, TraceCard, native};

fuzz_target!(|data: &[u8]| {
    let path = std::path::Path::new("fuzz.input");
    let Ok(traces) = load_input(
        &Input::from_bytes(path, data.to_vec()),
        Some(Format::Native),
    ) else {
        return;
    };
    for t in &traces {
        // the trace: written and read back, both shapes
        let jsonl = native::to_jsonl(t).expect("a loaded trace serialises");
        let back = load_input(
            &Input::from_bytes(path, jsonl.clone().into_bytes()),
            Some(Format::Native),
        )
        .expect("written JSONL loads");
        assert_eq!(back.len(), 1, "written JSONL is one trace");
        assert_eq!(
            native::jsonl_normalised(&back[0]),
            native::jsonl_normalised(t),
            "native JSONL round-trip changed the trace"
        );
        let back = native::parse(path, &jsonl).expect("written JSONL parses");
        let again = native::to_jsonl(&back).expect("a parsed trace serialises");
        assert_eq!(again, jsonl, "native JSONL round-trip changed the trace");
        let json = native::to_json(t).expect("a loaded trace serialises");
        let back = native::parse(path, &json).expect("written JSON parses");
        assert_eq!(&back, t, "native JSON round-trip changed the trace");
        // the card: YAML and JSON
        let Ok(card) = Compiler::new().compile(t) else {
            continue;
        };
        let yaml = card.to_yaml().expect("a card serialises");
        let back = TraceCard::from_yaml(&yaml).expect("written YAML parses");
        assert_eq!(back, card, "card YAML round-trip changed the card");
        let json = card.to_json().expect("a card serialises");
        let back = TraceCard::from_json(&json).expect("written JSON parses");
        assert_eq!(back, card, "card JSON round-trip changed the card");
    }
});
