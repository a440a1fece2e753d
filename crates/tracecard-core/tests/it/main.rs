//! Integration tests of tracecard-core (one test binary; one module per area).

mod codex;
mod fixtures;
mod native;
