//! A deterministic agent for file and table tasks, with an LLM stand-in, tools and
//! sub-agents, recorded with [`tracecard_core::Recorder`].
//!
//! Its point is **true counterfactual replay**: [`run`] takes a set of step ids to
//! skip and re-executes the whole session without them — a skipped model call
//! issues nothing, a skipped tool has no effect and returns nothing, a skipped
//! sub-agent never runs — and every later decision uses only what the agent actually
//! obtained. The outcome is then judged by a verifier over the answer and the files.
//! [`AgentReplayer`] plugs that into the compiler as a [`Replayer`].
//!
//! Each session follows a plan drawn from a seed, with realistic waste mixed in
//! (a decoy read, a repeated read, a draft overwritten before use, a sub-agent whose
//! result is ignored, a failed command retried) and realistic hard cases (a sum whose
//! inputs never appear verbatim in the answer, a sub-agent whose result is used).

use std::collections::{BTreeMap, BTreeSet};

use tracecard_core::{
    OracleEvidence, Outcome, OutcomeStatus, Recorder, Replayer, Result, StepId, TokenUsage, Trace,
};

/// A tiny deterministic PRNG (SplitMix64), so sessions are reproducible everywhere.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeded generator.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

/// What the user asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskKind {
    /// Look up the production (and maybe staging) database settings.
    ConfigLookup,
    /// Sum a column of one region's sales table and write a report.
    TableSum,
    /// Fix the failing function of a small module.
    FixCode,
}

/// One generated task: files, question, and the plan's waste switches.
#[derive(Debug, Clone)]
pub struct Task {
    /// Seed it was generated from.
    pub seed: u64,
    /// Kind of task.
    pub kind: TaskKind,
    /// The initial files.
    pub files: BTreeMap<String, String>,
    /// The user's question.
    pub question: String,
    /// Values the verifier expects in the answer.
    pub expected: Vec<String>,
    /// Files the verifier expects, with their content.
    pub expected_files: BTreeMap<String, String>,
    /// The table region (TableSum).
    pub target: String,
    waste: Waste,
}

#[derive(Debug, Clone, Default)]
struct Waste {
    list_first: bool,
    decoy: bool,
    duplicate: bool,
    subagent: bool,
    subagent_used: bool,
    draft: bool,
    failed_retry: bool,
    restate: bool,
}

impl Task {
    /// Generate the task of `seed`.
    pub fn generate(seed: u64) -> Task {
        let mut r = Rng::new(seed);
        let kind = match r.below(3) {
            0 => TaskKind::ConfigLookup,
            1 => TaskKind::TableSum,
            _ => TaskKind::FixCode,
        };
        let waste = Waste {
            list_first: r.chance(0.6),
            decoy: r.chance(0.5),
            duplicate: r.chance(0.35),
            subagent: r.chance(0.4),
            subagent_used: r.chance(0.5),
            draft: r.chance(0.4),
            failed_retry: r.chance(0.4),
            restate: r.chance(0.5),
        };
        let mut files = BTreeMap::new();
        let mut expected = Vec::new();
        let mut expected_files = BTreeMap::new();
        let question;
        let mut target_region = String::new();
        match kind {
            TaskKind::ConfigLookup => {
                // half the repositories call it `production.toml`: only a listing tells
                let prod_name = if waste.list_first && r.chance(0.5) {
                    "production"
                } else {
                    "prod"
                };
                for env in ["dev", "staging", prod_name] {
                    let host = format!("db-{env}-{}.internal", 100 + r.below(900));
                    let pool = 4 + r.below(60);
                    files.insert(
                        format!("config/{env}.toml"),
                        format!(
                            "[database]\nhost = \"{host}\"\nport = {}\npool_size = {pool}\n",
                            5000 + r.below(4000)
                        ),
                    );
                }
                let prod = files[&format!("config/{prod_name}.toml")].clone();
                expected.push(field(&prod, "host"));
                expected.push(format!("pool_size {}", field(&prod, "pool_size")));
                if waste.subagent && waste.subagent_used {
                    expected.push(field(&files["config/staging.toml"], "host"));
                    question = "Which database host and pool size does production use, and which host does staging use?".into();
                } else {
                    question = "Which database host and pool size does production use?".into();
                }
            }
            TaskKind::TableSum => {
                let regions = ["north", "south", "east", "west"];
                let target = regions[r.below(4) as usize];
                target_region = target.to_owned();
                for reg in regions {
                    let rows: Vec<u64> = (0..3 + r.below(4)).map(|_| 10 + r.below(990)).collect();
                    let mut csv = String::from("order_id,amount\n");
                    for (i, a) in rows.iter().enumerate() {
                        csv.push_str(&format!(
                            "{reg}-{:04},{a}\n",
                            1000 + i as u64 * 7 + r.below(7)
                        ));
                    }
                    if reg == target {
                        let total: u64 = rows.iter().sum();
                        expected.push(total.to_string());
                        expected_files.insert(
                            "report.txt".into(),
                            format!("region={target} total={total}\n"),
                        );
                    }
                    files.insert(format!("data/sales_{reg}.csv"), csv);
                }
                question = format!(
                    "What is the total amount of the {target} sales table? Write it to report.txt."
                );
            }
            TaskKind::FixCode => {
                let ops = [("add", "+", "-"), ("mul", "*", "+"), ("sub", "-", "+")];
                let (name, good, bad) = ops[r.below(3) as usize];
                let other = ops
                    .iter()
                    .find(|o| o.0 != name)
                    .map(|o| o.0)
                    .unwrap_or("add");
                let module = format!(
                    "def {other}_checked(a, b):\n    return a\n\ndef {name}(a, b):\n    return a {bad} b\n"
                );
                files.insert("calc.py".into(), module.clone());
                files.insert("tests/test_calc.py".into(), format!("from calc import {name}\n\ndef test_{name}():\n    assert {name}(7, 3) == {}\n", apply(good, 7, 3)));
                expected_files.insert(
                    "calc.py".into(),
                    module.replace(&format!("a {bad} b"), &format!("a {good} b")),
                );
                expected.push(format!("test_{name}"));
                expected.push("now passes".into());
                question = "The test suite fails. Fix calc.py.".into();
            }
        }
        Task {
            seed,
            kind,
            files,
            question,
            expected,
            expected_files,
            target: target_region,
            waste,
        }
    }
}

fn apply(op: &str, a: i64, b: i64) -> i64 {
    match op {
        "+" => a + b,
        "-" => a - b,
        _ => a * b,
    }
}

fn field(toml: &str, key: &str) -> String {
    toml.lines()
        .find_map(|l| l.strip_prefix(&format!("{key} = ")))
        .map(|v| v.trim_matches('"').to_owned())
        .unwrap_or_default()
}

/// The result of one run.
#[derive(Debug, Clone)]
pub struct Run {
    /// The recorded trace (steps that were skipped are absent).
    pub trace: Trace,
    /// The verifier's judgement.
    pub outcome: Outcome,
}

/// Session state: the files, what the agent knows, and the step counter that maps
/// planned steps to the ids of the original trace.
struct Session<'a> {
    task: &'a Task,
    fs: BTreeMap<String, String>,
    rec: Recorder,
    skip: &'a BTreeSet<u32>,
    next: u32,
    /// what the agent has seen, by key (`file:<path>`, `listing:<dir>`, `tests`, `summary`)
    seen: BTreeMap<String, String>,
    last_call: Option<StepId>,
    pending_context: Vec<StepId>,
    model: &'static str,
}

impl Session<'_> {
    /// Take the next planned step number; `true` when it runs.
    fn take(&mut self) -> bool {
        self.next += 1;
        !self.skip.contains(&self.next)
    }

    fn llm(&mut self, text: &str, prompt_chars: usize, requests: usize) -> Option<StepId> {
        if !self.take() {
            self.last_call = None;
            return None;
        }
        let tokens = TokenUsage::from_exclusive(
            40 + prompt_chars as u64 / 8,
            prompt_chars as u64 / 5,
            0,
            0,
            20 + text.len() as u64 / 4,
        );
        let id = self.rec.llm_call(self.model, tokens, text);
        for c in std::mem::take(&mut self.pending_context) {
            if let Some(s) = self.rec.step_mut(id) {
                s.links.context.push(c);
            }
        }
        if let Some(s) = self.rec.step_mut(id) {
            s.links.requests = (0..requests)
                .map(|k| format!("call_{}_{k}", id.0))
                .collect();
        }
        self.last_call = Some(id);
        Some(id)
    }

    /// A tool call issued by the last model call; it only happens when that call
    /// happened. `exec` performs it on the files and returns (result, reads, writes, ok).
    fn tool(
        &mut self,
        tool: &str,
        args: &str,
        exec: impl FnOnce(&mut BTreeMap<String, String>) -> (String, Vec<String>, Vec<String>, bool),
    ) -> Option<String> {
        let runs = self.take();
        let caller = self.last_call?;
        if !runs {
            return None;
        }
        let (out, reads, writes, ok) = exec(&mut self.fs);
        let id = self.rec.tool_use(tool, args, &out, Some(caller));
        for r in reads {
            self.rec.reads(id, &r);
        }
        for w in writes {
            self.rec.writes(id, &w);
        }
        if !ok {
            self.rec.error(id, "command failed");
        }
        self.pending_context.push(id);
        Some(out)
    }

    fn read(&mut self, path: &str) -> Option<String> {
        let p = path.to_owned();
        let out = self.tool(
            "read_file",
            &format!("{{\"path\":\"{p}\"}}"),
            |fs| match fs.get(&p) {
                Some(c) => (c.clone(), vec![p.clone()], vec![], true),
                None => (format!("error: {p}: no such file"), vec![], vec![], false),
            },
        )?;
        if !out.starts_with("error:") {
            self.seen.insert(format!("file:{path}"), out.clone());
        }
        Some(out)
    }

    fn write(&mut self, path: &str, content: &str) {
        let (p, c) = (path.to_owned(), content.to_owned());
        let args = format!("{{\"path\":\"{p}\",\"content\":{:?}}}", c);
        self.tool("write_file", &args, |fs| {
            fs.insert(p.clone(), c.clone());
            (
                format!("wrote {} bytes to {p}", c.len()),
                vec![],
                vec![p.clone()],
                true,
            )
        });
    }

    fn list(&mut self, dir: &str) {
        let d = dir.to_owned();
        if let Some(out) = self.tool("list_dir", &format!("{{\"path\":\"{d}\"}}"), |fs| {
            let names: Vec<String> = fs
                .keys()
                .filter(|k| k.starts_with(&format!("{d}/")))
                .cloned()
                .collect();
            (names.join("\n"), vec![], vec![], true)
        }) {
            self.seen.insert(format!("listing:{dir}"), out);
        }
    }

    fn run_tests(&mut self, cmd: &str) -> Option<String> {
        let c = cmd.to_owned();
        let out = self.tool("run_tests", &format!("{{\"command\":\"{c}\"}}"), |fs| {
            if c.contains("--wrong-flag") {
                return (
                    "error: unrecognized arguments: --wrong-flag".into(),
                    vec![],
                    vec![],
                    false,
                );
            }
            let (ok, msg) = verify_tests(fs);
            (
                msg,
                vec!["calc.py".into(), "tests/test_calc.py".into()],
                vec![],
                ok,
            )
        })?;
        if !out.starts_with("error:") {
            self.seen.insert("tests".into(), out.clone());
        }
        Some(out)
    }
}

/// Run the tests of the FixCode task on `fs`: (passed, pytest-like output).
fn verify_tests(fs: &BTreeMap<String, String>) -> (bool, String) {
    let test = fs.get("tests/test_calc.py").cloned().unwrap_or_default();
    let calc = fs.get("calc.py").cloned().unwrap_or_default();
    let name = test
        .lines()
        .find_map(|l| l.strip_prefix("from calc import "))
        .unwrap_or("add")
        .trim()
        .to_owned();
    let want: i64 = test
        .rsplit("== ")
        .next()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    let op = calc
        .split(&format!("def {name}(a, b):\n    return a "))
        .nth(1)
        .and_then(|s| s.chars().next())
        .map(|c| c.to_string())
        .unwrap_or_default();
    let got = apply(&op, 7, 3);
    if !op.is_empty() && got == want {
        (true, "1 passed in 0.01s".into())
    } else {
        (
            false,
            format!(
                "FAILED tests/test_calc.py::test_{name} - assert {got} == {want}\n1 failed in 0.02s"
            ),
        )
    }
}

/// Run `task`, skipping the planned steps whose ids are in `skip` (ids of the
/// original, unskipped trace).
pub fn run(task: &Task, skip: &BTreeSet<u32>) -> Run {
    let model = match task.kind {
        TaskKind::ConfigLookup => "claude-sonnet-4-5",
        TaskKind::TableSum => "gpt-4.1-mini",
        TaskKind::FixCode => "claude-haiku-4-5",
    };
    let mut s = Session {
        task,
        fs: task.files.clone(),
        rec: Recorder::new(format!("agent-{}", task.seed)),
        skip,
        next: 0,
        seen: BTreeMap::new(),
        last_call: None,
        pending_context: Vec::new(),
        model,
    };
    let w = task.waste.clone();
    if s.take() {
        let id = s.rec.user_input(&task.question);
        s.pending_context.push(id);
    }
    let answer = match task.kind {
        TaskKind::ConfigLookup => config_lookup(&mut s, &w),
        TaskKind::TableSum => table_sum(&mut s, &w),
        TaskKind::FixCode => fix_code(&mut s, &w),
    };
    let final_step = answer.as_ref().and_then(|(id, _)| *id);
    let text = answer.map(|(_, t)| t).unwrap_or_default();
    let outcome = judge(task, &text, &s.fs);
    let mut trace = s
        .rec
        .finish(outcome.status, final_step, outcome.evidence.clone());
    trace.outcome = Outcome {
        final_step,
        ..outcome.clone()
    };
    if let Some(f) = final_step {
        trace.outcome.answer = trace.step(f).and_then(|st| st.output.clone());
    }
    trace.started_at = None;
    for st in &mut trace.steps {
        st.started_at = None;
        st.ended_at = None;
    }
    Run { trace, outcome }
}

fn judge(task: &Task, answer: &str, fs: &BTreeMap<String, String>) -> Outcome {
    let missing: Vec<&String> = task
        .expected
        .iter()
        .filter(|e| !answer.contains(e.as_str()))
        .collect();
    let bad_files: Vec<&String> = task
        .expected_files
        .iter()
        .filter(|(p, c)| fs.get(*p) != Some(c))
        .map(|(p, _)| p)
        .collect();
    let passed = missing.is_empty() && bad_files.is_empty();
    Outcome {
        status: if passed {
            OutcomeStatus::Success
        } else {
            OutcomeStatus::Failure
        },
        evidence: vec![OracleEvidence {
            verifier: "example-agent-verifier".into(),
            passed: Some(passed),
            message: (!passed).then(|| format!("missing {missing:?}, wrong files {bad_files:?}")),
            score: None,
            artifacts: task.expected_files.keys().cloned().collect(),
        }],
        ..Outcome::default()
    }
}

fn config_lookup(s: &mut Session<'_>, w: &Waste) -> Option<(Option<StepId>, String)> {
    if w.list_first {
        s.llm(
            "Let me see which configs exist. list_dir({\"path\":\"config\"})",
            600,
            1,
        );
        s.list("config");
    }
    if w.decoy {
        s.llm(
            "I'll start with the dev config. read_file({\"path\":\"config/dev.toml\"})",
            700,
            1,
        );
        s.read("config/dev.toml");
    }
    // the production file as the listing names it, else the usual name
    let prod_path = s
        .seen
        .get("listing:config")
        .and_then(|l| l.lines().find(|n| n.contains("prod")).map(str::to_owned))
        .unwrap_or_else(|| "config/prod.toml".into());
    s.llm(
        &format!("Now the production config. read_file({{\"path\":\"{prod_path}\"}})"),
        800,
        1,
    );
    s.read(&prod_path);
    if w.duplicate {
        s.llm(
            &format!("Let me double-check it. read_file({{\"path\":\"{prod_path}\"}})"),
            900,
            1,
        );
        s.read(&prod_path);
    }
    if w.subagent {
        let spawn_call = s.llm(
            "Task({\"agent\":\"summariser\",\"prompt\":\"Summarise config/staging.toml\"})",
            950,
            1,
        );
        let spawn = match (s.take(), spawn_call) {
            (true, Some(c)) => Some(s.rec.begin_subagent("Task", "summariser", Some(c))),
            _ => {
                // the sub-agent never runs: its three planned steps are skipped too
                s.next += 3;
                None
            }
        };
        if let Some(sp) = spawn {
            if let Some(st) = s.rec.step_mut(sp) {
                st.input = Some(tracecard_core::Content::full(
                    "Summarise config/staging.toml",
                ));
            }
            let outer_last = s.last_call;
            let outer_ctx = std::mem::take(&mut s.pending_context);
            s.llm("read_file({\"path\":\"config/staging.toml\"})", 300, 1);
            s.read("config/staging.toml");
            let summary = match s.seen.get("file:config/staging.toml") {
                Some(c) => format!(
                    "staging uses host {} with pool_size {}",
                    field(c, "host"),
                    field(c, "pool_size")
                ),
                None => "I could not read the staging config.".into(),
            };
            let last = s.llm(&summary, 500, 0);
            s.rec
                .end_subagent(sp, if last.is_some() { &summary } else { "" }, last);
            if last.is_some() {
                s.seen.insert("summary".into(), summary);
            }
            s.last_call = outer_last;
            s.pending_context = outer_ctx;
            s.pending_context.push(sp);
        }
    }
    let prod = s.seen.get(&format!("file:{prod_path}")).cloned();
    let mut text = match &prod {
        Some(c) => format!(
            "Production uses host {} with pool_size {}.",
            field(c, "host"),
            field(c, "pool_size")
        ),
        None => "I could not read the production config.".into(),
    };
    if w.subagent && w.subagent_used {
        match s.seen.get("summary") {
            Some(sum) => text.push_str(&format!(
                " Staging: {}.",
                sum.split(" with")
                    .next()
                    .unwrap_or("")
                    .trim_start_matches("staging uses ")
            )),
            None => text.push_str(" Staging: unknown."),
        }
    }
    let id = s.llm(&text, 1200, 0)?;
    Some((Some(id), text))
}

fn table_sum(s: &mut Session<'_>, w: &Waste) -> Option<(Option<StepId>, String)> {
    let target = s.task.target.clone();
    s.llm("list_dir({\"path\":\"data\"})", 500, 1);
    s.list("data");
    let path = s
        .seen
        .get("listing:data")
        .and_then(|l| l.lines().find(|n| n.contains(&target)).map(str::to_owned))
        .unwrap_or_else(|| "data/sales.csv".into());
    if w.decoy {
        let other = if target == "north" {
            "data/sales_south.csv"
        } else {
            "data/sales_north.csv"
        };
        s.llm(&format!("read_file({{\"path\":\"{other}\"}})"), 700, 1);
        s.read(other);
    }
    s.llm(&format!("read_file({{\"path\":\"{path}\"}})"), 800, 1);
    s.read(&path);
    let amounts: Vec<u64> = s
        .seen
        .get(&format!("file:{path}"))
        .map(|c| {
            c.lines()
                .skip(1)
                .filter_map(|l| l.rsplit(',').next()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    let total: u64 = amounts.iter().sum();
    if w.draft {
        s.llm(
            "write_file({\"path\":\"report.txt\",\"content\":\"region=? total=TBD\"})",
            900,
            1,
        );
        s.write("report.txt", "region=? total=TBD\n");
    }
    let listing: Vec<String> = amounts.iter().map(u64::to_string).collect();
    let report = format!("region={target} total={total}\n");
    let thought = if w.restate {
        format!("The amounts are {}; ", listing.join(" + "))
    } else {
        String::new()
    };
    s.llm(
        &format!("{thought}write_file({{\"path\":\"report.txt\",\"content\":{report:?}}})"),
        1000,
        1,
    );
    s.write("report.txt", &report);
    let text = format!("The {target} total is {total}; written to report.txt.");
    let id = s.llm(&text, 1100, 0)?;
    Some((Some(id), text))
}

fn fix_code(s: &mut Session<'_>, w: &Waste) -> Option<(Option<StepId>, String)> {
    if w.failed_retry {
        s.llm("run_tests({\"command\":\"pytest --wrong-flag\"})", 500, 1);
        s.run_tests("pytest --wrong-flag");
    }
    s.llm("run_tests({\"command\":\"pytest -q\"})", 550, 1);
    s.run_tests("pytest -q");
    let failing = s
        .seen
        .get("tests")
        .and_then(|t| t.split("::").nth(1))
        .and_then(|t| t.split_whitespace().next())
        .map(str::to_owned);
    let name = failing
        .as_deref()
        .and_then(|f| f.strip_prefix("test_"))
        .map(str::to_owned);
    s.llm(
        &format!(
            "{} fails. read_file({{\"path\":\"calc.py\"}})",
            failing.as_deref().unwrap_or("Something")
        ),
        700,
        1,
    );
    s.read("calc.py");
    let fixed = match (s.seen.get("file:calc.py"), &name) {
        (Some(src), Some(n)) => {
            let line = src
                .lines()
                .skip_while(|l| !l.starts_with(&format!("def {n}(")))
                .nth(1)
                .unwrap_or("")
                .to_owned();
            let good = match n.as_str() {
                "add" => "+",
                "mul" => "*",
                _ => "-",
            };
            let new_line = format!("    return a {good} b");
            Some(src.replace(&line, &new_line))
        }
        _ => None,
    };
    let src = s.seen.get("file:calc.py").cloned().unwrap_or_default();
    if w.draft {
        s.llm(
            "write_file({\"path\":\"calc.py\",\"content\":\"# TODO\"})",
            800,
            1,
        );
        s.write("calc.py", &format!("# TODO fix\n{src}"));
    }
    // without the failing test or the source there is no real fix: it writes what it has
    let f = fixed.unwrap_or(src);
    s.llm(
        &format!("write_file({{\"path\":\"calc.py\",\"content\":{f:?}}})"),
        900,
        1,
    );
    s.write("calc.py", &f);
    s.llm("run_tests({\"command\":\"pytest -q\"})", 950, 1);
    s.run_tests("pytest -q");
    let text = match (&failing, s.seen.get("tests")) {
        (Some(f), Some(t)) if t.contains("passed") => {
            format!("Fixed {f}: calc.py now passes ({})", t.trim())
        }
        (Some(f), _) => format!("Tried to fix {f}."),
        _ => "Could not find the failing test.".into(),
    };
    let id = s.llm(&text, 1000, 0)?;
    Some((Some(id), text))
}

/// A [`Replayer`] that really re-runs the agent without the removed steps.
#[derive(Debug, Clone)]
pub struct AgentReplayer {
    /// The task the trace came from.
    pub task: Task,
}

impl Replayer for AgentReplayer {
    fn name(&self) -> &str {
        "example-agent"
    }

    fn replay(&self, _trace: &Trace, removed: &[StepId]) -> Result<Outcome> {
        let skip: BTreeSet<u32> = removed.iter().map(|s| s.0).collect();
        Ok(run(&self.task, &skip).outcome)
    }
}

/// Per-step ground truth by true replay: `truth[i]` is true when removing step
/// `i + 1` alone leaves the outcome unchanged. User inputs are `None`.
pub fn true_redundancy(task: &Task, trace: &Trace) -> Vec<Option<bool>> {
    let base = run(task, &BTreeSet::new()).outcome;
    trace
        .steps
        .iter()
        .map(|st| {
            (st.kind != tracecard_core::StepKind::UserInput).then(|| {
                let out = run(task, &BTreeSet::from([st.id.0])).outcome;
                tracecard_core::analysis::same_outcome(&base, &out)
            })
        })
        .collect()
}
