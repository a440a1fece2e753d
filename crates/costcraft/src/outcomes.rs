//! `--outcomes FILE`: one JSONL line per session,
//! `{"session_id": "...", "status": "success" | "failure", "evidence": [{"verifier", "passed", "message"}]}`.

use std::path::Path;

use serde::{Deserialize, Serialize};
use tracecard_core::{OracleEvidence, OutcomeStatus, Trace};

use crate::error::{Error, Result};

/// One verifier verdict of an outcomes line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceRecord {
    /// Who judged.
    pub verifier: String,
    /// Whether it passed.
    pub passed: bool,
    /// Its message.
    #[serde(default)]
    pub message: Option<String>,
}

/// Status of an outcomes line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    /// The task was accomplished.
    Success,
    /// It was not.
    Failure,
}

/// One line of an outcomes file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomeRecord {
    /// The session it judges.
    pub session_id: String,
    /// Success or failure.
    pub status: RecordStatus,
    /// Verifier verdicts.
    #[serde(default)]
    pub evidence: Vec<EvidenceRecord>,
    /// 1-based line in the file it came from (not read from JSON).
    #[serde(skip)]
    pub line: u64,
}

/// Parse an outcomes JSONL text (`path` is only used in messages). Blank lines
/// are skipped; any other bad line is an error naming its line.
pub fn parse_outcomes(text: &str, path: &Path) -> Result<Vec<OutcomeRecord>> {
    let mut out = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let line = i as u64 + 1;
        let l = l.trim();
        if l.is_empty() {
            continue;
        }
        let mut r: OutcomeRecord =
            serde_json::from_str(l).map_err(|e| Error::parse(path, Some(line), e.to_string()))?;
        if r.session_id.is_empty() {
            return Err(Error::parse(path, Some(line), "session_id is empty"));
        }
        r.line = line;
        out.push(r);
    }
    Ok(out)
}

/// Read and parse an outcomes file.
pub fn read_outcomes(path: &Path) -> Result<Vec<OutcomeRecord>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse_outcomes(&text, path)
}

/// What [`apply_outcomes`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutcomesReport {
    /// Sessions whose outcome was set.
    pub applied: Vec<String>,
    /// Lines naming no loaded session: `(line, session_id)`.
    pub unmatched: Vec<(u64, String)>,
}

/// Set the outcome of every trace named in `records`: the status (a changed
/// status replaces the source's `reason` with the outcomes line), and the
/// evidence (replacing any earlier verdict of the same verifier). Lines naming no
/// trace are returned in [`OutcomesReport::unmatched`], never silently ignored.
pub fn apply_outcomes(traces: &mut [Trace], records: &[OutcomeRecord]) -> OutcomesReport {
    let mut report = OutcomesReport::default();
    for r in records {
        let mut hit = false;
        for t in traces.iter_mut().filter(|t| t.session_id == r.session_id) {
            hit = true;
            let status = match r.status {
                RecordStatus::Success => OutcomeStatus::Success,
                RecordStatus::Failure => OutcomeStatus::Failure,
            };
            // The source's reason no longer explains an overridden status.
            if t.outcome.status != status {
                t.outcome.reason = Some(format!("set by the outcomes file (line {})", r.line));
            }
            t.outcome.status = status;
            for ev in &r.evidence {
                t.outcome.evidence.retain(|e| e.verifier != ev.verifier);
                t.outcome.evidence.push(OracleEvidence {
                    verifier: ev.verifier.clone(),
                    passed: Some(ev.passed),
                    message: ev.message.clone(),
                    score: None,
                    artifacts: Vec::new(),
                });
            }
        }
        if hit {
            report.applied.push(r.session_id.clone());
        } else {
            report.unmatched.push((r.line, r.session_id.clone()));
        }
    }
    report
}
