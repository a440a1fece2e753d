//! Langfuse trace exports (`fixtures/langfuse`).

use crate::fixtures::load;
use crate::otlp::dump;

#[test]
fn dump_all() {
    for e in std::fs::read_dir(crate::fixtures::root().unwrap().join("langfuse")).unwrap() {
        let p = e.unwrap().path();
        let rel = format!("langfuse/{}", p.file_name().unwrap().to_string_lossy());
        eprintln!("=== {rel}");
        for t in load(&rel).unwrap() { dump(&t); }
    }
}
