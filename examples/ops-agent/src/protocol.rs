//! The `tracecard-replay/1` command protocol: one JSON request on stdin, one JSON
//! result on stdout.
//!
//! Request: `{"protocol": "tracecard-replay/1", "session_id": "ops-42", "trace_path":
//! "/abs/ops-42.jsonl", "format": "native", "remove": [{"step": 7, ...}]}`. Only
//! `step` of each removal is used (the other fields describe the step and are
//! ignored). The seed comes from `session_id` (`ops-<seed>`), or else from the
//! session record of `trace_path`.
//!
//! Result: `{"status": "success" | "failure", "evidence": [{"verifier", "passed",
//! "message"}]}`.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::{Evidence, Status, run, seed_from_session_id};

/// The protocol name this binary speaks.
pub const PROTOCOL: &str = "tracecard-replay/1";

/// One replay request.
#[derive(Debug, Clone, Deserialize)]
pub struct Request {
    /// Must be [`PROTOCOL`].
    pub protocol: String,
    /// `ops-<seed>`.
    #[serde(default)]
    pub session_id: Option<String>,
    /// The trace file the request is about (used when `session_id` is absent).
    #[serde(default)]
    pub trace_path: Option<String>,
    /// Trace format (informational; `native`).
    #[serde(default)]
    pub format: Option<String>,
    /// Steps to skip.
    #[serde(default)]
    pub remove: Vec<Removal>,
}

/// One step to skip.
#[derive(Debug, Clone, Deserialize)]
pub struct Removal {
    /// 1-based step id in the baseline trace.
    pub step: u32,
}

/// The replay's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Response {
    /// `success` or `failure`.
    pub status: Status,
    /// One entry per task.
    pub evidence: Vec<Evidence>,
}

fn seed_of(req: &Request) -> Result<u64, String> {
    if let Some(id) = &req.session_id {
        return seed_from_session_id(id)
            .ok_or_else(|| format!("session_id {id:?} is not of the form ops-<seed>"));
    }
    let path = req
        .trace_path
        .as_deref()
        .ok_or("the request names neither session_id nor trace_path")?;
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let first = text.lines().next().unwrap_or_default();
    let v: serde_json::Value =
        serde_json::from_str(first).map_err(|e| format!("{path}: first line: {e}"))?;
    let id = v
        .get("session_id")
        .and_then(|s| s.as_str())
        .ok_or_else(|| format!("{path}: no session_id in the session record"))?;
    seed_from_session_id(id).ok_or_else(|| format!("{path}: session_id {id:?} is not ops-<seed>"))
}

/// Handle one request text; `Err` is a message for stderr (bad request).
pub fn handle(request: &str) -> Result<String, String> {
    let req: Request =
        serde_json::from_str(request.trim()).map_err(|e| format!("bad request: {e}"))?;
    if req.protocol != PROTOCOL {
        return Err(format!(
            "unsupported protocol {:?} (expected {PROTOCOL})",
            req.protocol
        ));
    }
    if let Some(f) = &req.format {
        if f != "native" {
            return Err(format!("unsupported trace format {f:?} (expected native)"));
        }
    }
    let seed = seed_of(&req)?;
    let removed: BTreeSet<u32> = req.remove.iter().map(|r| r.step).collect();
    if removed.contains(&0) {
        return Err("step ids are 1-based; got 0".into());
    }
    let s = run(seed, &removed);
    let resp = Response {
        status: s.outcome.status,
        evidence: s.outcome.evidence,
    };
    serde_json::to_string(&resp).map_err(|e| e.to_string())
}
