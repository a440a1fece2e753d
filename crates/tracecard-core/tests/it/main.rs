//! Integration tests of tracecard-core (one test binary; one module per area).

mod analysis;
mod claude_code;
mod fixtures;
mod langfuse;
mod native;
mod otlp;
mod props;
