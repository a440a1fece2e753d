//! Counterfactual replay through any harness: the `tracecard-replay/1` command
//! protocol.
//!
//! A [`CommandReplayer`] runs a shell command once per replay. The command gets one
//! JSON request on stdin (which session, which file it was read from, which steps to
//! remove) and answers with one JSON outcome on stdout. Anything that can re-run an
//! agent or a verifier — a Python script, a container, a CI job wrapper — becomes a
//! [`Replayer`] without linking against tracecard.
//!
//! The protocol is specified in `docs/replay-protocol.md`; in short:
//!
//! - request (stdin, then closed):
//!   `{"protocol": "tracecard-replay/1", "session_id": "…", "trace_path": "/abs/path" | null,
//!   "format": "native", "remove": [{"step": 7, "source_ref": "toolu_01" | null,
//!   "source_ids": ["toolu_01"], "kind": "tool_use", "name": "read_file" | null}]}`
//!   (`"remove": []` asks for the baseline);
//! - response (stdout, exit status 0):
//!   `{"status": "success" | "failure" | "unknown", "evidence": [{"verifier": "…",
//!   "passed": true, "message": "…"}]}`;
//! - a non-zero exit, a death by signal, a stdout that is not one such object, or a
//!   time-out is an [`Error::Replay`] naming the command, what happened and the tail
//!   of its stderr.
//!
//! Each run starts in its own process group. On a time-out the whole group is killed;
//! when the command exits, whatever it left running in its group is killed too, so a
//! replay never outlives its answer.

use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::analysis::Replayer;
use crate::model::{OracleEvidence, Outcome, OutcomeStatus, Step, StepId, Trace};
use crate::{Error, Result};

/// The protocol name sent in every request (`"protocol"`).
pub const PROTOCOL: &str = "tracecard-replay/1";

/// Default time-out of one replay run.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// Most stdout kept from one run (16 MiB); more is an error.
const MAX_STDOUT: usize = 16 << 20;
/// How much of the end of stderr is kept for error messages.
const STDERR_TAIL: usize = 2048;
/// How long to wait for the output pipes to close once the process group is gone.
const DRAIN_GRACE: Duration = Duration::from_secs(2);
/// Longest replayer name derived from the command.
const MAX_NAME: usize = 60;

/// A [`Replayer`] that runs a shell command speaking `tracecard-replay/1`.
///
/// ```no_run
/// use std::time::Duration;
/// use tracecard_core::{Compiler, CommandReplayer};
///
/// let replayer = CommandReplayer::new("python3 harness/replay.py --suite smoke")
///     .timeout(Duration::from_secs(120));
/// assert_eq!(tracecard_core::Replayer::name(&replayer), "python3 replay.py --suite smoke");
/// # let trace = tracecard_core::Trace::new("s", "native");
/// let card = Compiler::new().replayer(&replayer).compile(&trace)?;
/// # Ok::<(), tracecard_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct CommandReplayer {
    command: String,
    name: String,
    timeout: Duration,
}

impl CommandReplayer {
    /// A replayer running `command` through `sh -c` for every replay, with the
    /// default time-out of 300 s.
    ///
    /// Its [name](Replayer::name) (recorded on cards as the replayer that confirmed a
    /// flag) is the command made short and readable: whitespace collapsed, every word
    /// containing a `/` reduced to its last path component (quotes around the word
    /// dropped), at most 60 characters
    /// (`/opt/h/bin/replay --suite smoke` → `replay --suite smoke`). Use
    /// [`CommandReplayer::with_name`] to choose another.
    pub fn new(command: impl Into<String>) -> Self {
        let command = command.into();
        CommandReplayer {
            name: short_name(&command),
            command,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Kill a run (its whole process group) and fail the replay when it has not
    /// answered within `timeout`.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Use `name` as the replayer's name instead of the one derived from the command.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The command, as given.
    pub fn command(&self) -> &str {
        &self.command
    }

    /// The time-out of one run.
    pub fn timeout_duration(&self) -> Duration {
        self.timeout
    }

    /// The JSON request this replayer writes to the command's stdin for a replay of
    /// `trace` without `removed` (exactly the bytes sent, without the final newline).
    pub fn request(&self, trace: &Trace, removed: &[StepId]) -> Result<String> {
        let remove = removed
            .iter()
            .map(|&id| {
                trace
                    .step(id)
                    .map(RemoveEntry::of)
                    .ok_or_else(|| self.fail(format!("step {id} does not exist in the trace")))
            })
            .collect::<Result<Vec<_>>>()?;
        // Canonical when the file still exists (no `..`, symlinks resolved), else
        // made absolute against the current directory.
        let trace_path = trace.source.files.first().map(|f| {
            std::fs::canonicalize(f)
                .or_else(|_| std::path::absolute(Path::new(f)))
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_else(|_| f.clone())
        });
        let req = Request {
            protocol: PROTOCOL,
            session_id: &trace.session_id,
            trace_path,
            format: &trace.source.format,
            remove,
        };
        serde_json::to_string(&req).map_err(|e| Error::serialize("replay request", e))
    }

    fn fail(&self, message: String) -> Error {
        Error::replay(self.name.clone(), message)
    }

    /// A failure caused by an I/O error, kept as the source.
    fn fail_io(&self, message: String, e: std::io::Error) -> Error {
        Error::Replay {
            replayer: self.name.clone(),
            message,
            source: Some(Box::new(e)),
        }
    }

    /// Run the command once with `request` on stdin; the parsed outcome.
    fn run(&self, request: String) -> Result<Outcome> {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(&self.command)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .map_err(|e| {
                self.fail_io(format!("`{}` could not be started: {e}", self.command), e)
            })?;
        let pgid = child.id();

        let mut stdin = child.stdin.take();
        let writer = thread::spawn(move || {
            if let Some(mut w) = stdin.take() {
                // A command that exits without reading its request closes the pipe:
                // EPIPE here is not a failure by itself (its exit status says).
                let _ = w.write_all(request.as_bytes());
                let _ = w.write_all(b"\n");
            }
        });
        let (out_tx, out_rx) = mpsc::channel();
        let mut stdout = child.stdout.take();
        thread::spawn(move || {
            let _ = out_tx.send(stdout.as_mut().map(read_capped).unwrap_or_default());
        });
        let (err_tx, err_rx) = mpsc::channel();
        let mut stderr = child.stderr.take();
        thread::spawn(move || {
            let _ = err_tx.send(stderr.as_mut().map(read_tail).unwrap_or_default());
        });

        let deadline = Instant::now() + self.timeout;
        let waited = wait_until(&mut child, deadline);
        // Whatever is left of the group (everything, on a time-out) goes now.
        kill_group(pgid);
        let status = match waited {
            Ok(Some(status)) => Some(status),
            Ok(None) => {
                let _ = child.wait();
                None
            }
            Err(e) => {
                let _ = child.wait();
                return Err(self.fail_io(format!("`{}`: waiting failed: {e}", self.command), e));
            }
        };
        // The writer is not joined: it ends when the pipe is read or closed, and a
        // process that escaped the group must not be able to block the replay.
        drop(writer);
        let stdout = out_rx.recv_timeout(DRAIN_GRACE).ok();
        let stderr = err_rx.recv_timeout(DRAIN_GRACE).ok();
        let tail = stderr.map(|s| stderr_tail(&s)).unwrap_or_default();

        let Some(status) = status else {
            return Err(self.fail(format!(
                "`{}` timed out after {} s (its process group was killed){tail}",
                self.command,
                fmt_secs(self.timeout)
            )));
        };
        if !status.success() {
            return Err(self.fail(format!(
                "`{}` {}{tail}",
                self.command,
                describe_exit(status)
            )));
        }
        let Some((stdout, complete)) = stdout else {
            return Err(self.fail(format!(
                "`{}` exited but its stdout stayed open (a process outside its process group holds it){tail}",
                self.command
            )));
        };
        if !complete {
            return Err(self.fail(format!(
                "`{}` wrote more than {} MiB to stdout{tail}",
                self.command,
                MAX_STDOUT >> 20
            )));
        }
        let resp: Response = serde_json::from_slice(&stdout).map_err(|e| {
            self.fail(format!(
                "`{}` did not print one `{PROTOCOL}` JSON response on stdout: {e}{}{tail}",
                self.command,
                excerpt(&stdout)
            ))
        })?;
        Ok(resp.into_outcome())
    }
}

impl Replayer for CommandReplayer {
    fn name(&self) -> &str {
        &self.name
    }

    fn replay(&self, trace: &Trace, removed: &[StepId]) -> Result<Outcome> {
        let request = self.request(trace, removed)?;
        self.run(request)
    }
}

#[derive(Serialize)]
struct Request<'a> {
    protocol: &'static str,
    session_id: &'a str,
    trace_path: Option<String>,
    format: &'a str,
    remove: Vec<RemoveEntry<'a>>,
}

#[derive(Serialize)]
struct RemoveEntry<'a> {
    step: u32,
    source_ref: Option<&'a str>,
    source_ids: Vec<&'a str>,
    kind: &'static str,
    name: Option<&'a str>,
}

impl<'a> RemoveEntry<'a> {
    fn of(s: &'a Step) -> Self {
        RemoveEntry {
            step: s.id.0,
            source_ref: s.source_ref.as_deref(),
            source_ids: source_ids(s),
            kind: s.kind.as_str(),
            name: s.tool.as_deref().or(s.model.as_deref()),
        }
    }
}

/// Every id of `step` in its source: `source_ref`, `links.tool_call_id`, then the
/// values of id-like attributes (`id`, `uuid`, `*_id`, `*_uuid`, e.g. Claude Code's
/// `request_id`), distinct and non-empty, in that order.
fn source_ids(step: &Step) -> Vec<&str> {
    let attrs = step
        .attributes
        .iter()
        .filter(|(k, _)| {
            k.as_str() == "id" || k.as_str() == "uuid" || k.ends_with("_id") || k.ends_with("_uuid")
        })
        .map(|(_, v)| v.as_str());
    let mut out: Vec<&str> = Vec::new();
    for id in step
        .source_ref
        .as_deref()
        .into_iter()
        .chain(step.links.tool_call_id.as_deref())
        .chain(attrs)
    {
        if !id.is_empty() && !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

#[derive(Deserialize)]
struct Response {
    status: OutcomeStatus,
    #[serde(default)]
    evidence: Option<Vec<ResponseEvidence>>,
}

#[derive(Deserialize)]
struct ResponseEvidence {
    verifier: String,
    #[serde(default)]
    passed: Option<bool>,
    #[serde(default)]
    message: Option<String>,
}

impl Response {
    fn into_outcome(self) -> Outcome {
        Outcome {
            status: self.status,
            evidence: self
                .evidence
                .unwrap_or_default()
                .into_iter()
                .map(|e| OracleEvidence {
                    verifier: e.verifier,
                    passed: e.passed,
                    message: e.message,
                    score: None,
                    artifacts: Vec::new(),
                })
                .collect(),
            ..Outcome::default()
        }
    }
}

/// Poll `child` until it exits (`Some`) or `deadline` passes (`None`).
fn wait_until(child: &mut Child, deadline: Instant) -> std::io::Result<Option<ExitStatus>> {
    let mut pause = Duration::from_millis(2);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// SIGKILL every process of group `pgid` (POSIX `kill -s KILL -- -PGID`, run by `sh`
/// since the core forbids `unsafe`). A group that is already gone is fine.
fn kill_group(pgid: u32) {
    let _ = Command::new("sh")
        .arg("-c")
        .arg(format!("kill -s KILL -- -{pgid} 2>/dev/null"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Read everything; keep at most [`MAX_STDOUT`] bytes. `false` when there was more.
fn read_capped(r: &mut impl Read) -> (Vec<u8>, bool) {
    let mut kept = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    let mut complete = true;
    loop {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if kept.len() + n > MAX_STDOUT {
                    complete = false;
                } else {
                    kept.extend_from_slice(&buf[..n]);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    (kept, complete)
}

/// Read everything; keep the last [`STDERR_TAIL`] bytes.
fn read_tail(r: &mut impl Read) -> Vec<u8> {
    let mut tail = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                tail.extend_from_slice(&buf[..n]);
                if tail.len() > 2 * STDERR_TAIL {
                    tail.drain(..tail.len() - STDERR_TAIL);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    if tail.len() > STDERR_TAIL {
        tail.drain(..tail.len() - STDERR_TAIL);
    }
    tail
}

/// `"; stderr: …"` with the (lossy UTF-8, trimmed) tail, or nothing when empty.
fn stderr_tail(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    if text.is_empty() {
        String::new()
    } else {
        format!("; stderr (last {STDERR_TAIL} bytes at most):\n{text}")
    }
}

/// A short excerpt of a bad stdout for the error message.
fn excerpt(stdout: &[u8]) -> String {
    let text = String::from_utf8_lossy(stdout);
    let text = text.trim();
    if text.is_empty() {
        return " (stdout was empty)".into();
    }
    let cut: String = text.chars().take(200).collect();
    let more = if cut.len() < text.len() { "…" } else { "" };
    format!(" (stdout began: {cut:?}{more})")
}

fn describe_exit(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(sig)) => format!("was killed by signal {sig}"),
        (None, None) => format!("failed ({status})"),
    }
}

fn fmt_secs(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        d.as_secs().to_string()
    } else {
        format!("{:.3}", d.as_secs_f64())
            .trim_end_matches('0')
            .to_string()
    }
}

/// The readable name of `command` (see [`CommandReplayer::new`]).
fn short_name(command: &str) -> String {
    let words: Vec<&str> = command
        .split_whitespace()
        .map(|w| {
            let bare = w.trim_matches(|c| c == '\'' || c == '"');
            match bare.trim_end_matches('/').rsplit_once('/') {
                Some((_, base)) if !base.is_empty() => base,
                _ => w,
            }
        })
        .collect();
    let joined = words.join(" ");
    if joined.chars().count() <= MAX_NAME {
        if joined.is_empty() {
            "command".into()
        } else {
            joined
        }
    } else {
        let mut s: String = joined.chars().take(MAX_NAME - 1).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_short_and_readable() {
        assert_eq!(
            short_name("/opt/h/bin/replay   --suite smoke"),
            "replay --suite smoke"
        );
        assert_eq!(short_name("python3 harness/replay.py"), "python3 replay.py");
        assert_eq!(short_name("./run.sh"), "run.sh");
        assert_eq!(short_name("sh '/tmp/x y/h.sh'"), "sh x h.sh");
        assert_eq!(short_name("sh '/tmp/dir/h.sh'"), "sh h.sh");
        assert_eq!(short_name("  "), "command");
        let long = "x".repeat(100);
        assert_eq!(short_name(&long).chars().count(), MAX_NAME);
    }

    #[test]
    fn seconds_are_printed_plainly() {
        assert_eq!(fmt_secs(Duration::from_secs(300)), "300");
        assert_eq!(fmt_secs(Duration::from_millis(1500)), "1.5");
    }
}
