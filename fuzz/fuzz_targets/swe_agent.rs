//! Fuzz the `swe_agent` importer: any bytes give traces or a typed error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracecard_core::Format;
use tracecard_core::import::{load_input, Input};

fuzz_target!(|data: &[u8]| {
    let format = Format::parse("swe_agent").expect("format exists");
    if let Ok(traces) = load_input(&Input::from_bytes("fuzz.input", data.to_vec()), Some(format)) {
        for t in &traces {
            let _ = tracecard_core::Compiler::new().compile(t);
        }
    }
});
