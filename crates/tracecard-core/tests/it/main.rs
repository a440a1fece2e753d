//! Integration tests of tracecard-core (one test binary; one module per area).

mod claude_code;
mod fixtures;
mod native;
mod props;
