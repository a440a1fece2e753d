//! Integration tests of tracecard-core (one test binary; one module per area).

mod chat_log;
mod codex;
mod fixtures;
mod inspect;
mod native;
mod openclaw;
mod openhands;
mod swe_agent;
