//! Integration tests of tracecard-core (one test binary; one module per area).

mod analysis;
mod chat_log;
mod claude_code;
mod claude_code_e2e;
mod claude_code_e2e_guard;
mod claude_code_otel;
mod codex;
mod errors;
mod fixtures;
mod hostile;
mod hostile_lists;
mod inspect;
mod langfuse;
mod native;
mod openclaw;
mod openhands;
mod otlp;
mod prices_fixtures;
mod props;
mod recorder_parity;
#[cfg(unix)]
mod replay_command;
mod swe_agent;
mod warnings;
