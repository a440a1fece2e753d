//! Integration tests of tracecard-core (one test binary; one module per area).

mod fixtures;
mod langfuse;
mod native;
mod otlp;
