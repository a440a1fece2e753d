//! The task scripts: how the workspace is generated for each task, what the stand-in
//! model does with what it obtained, and how the verifier judges the result.
//!
//! Rule for every script: whether a step *slot* exists depends only on the plan (the
//! seed); what was obtained decides only arguments, texts and whether a slot is
//! requested. So replays stay aligned with the baseline numbering.

use tracecard_core::StepId;

use crate::engine::{Agent, Call, Engine, Env, dep_patch};
use crate::rng::SplitMix64;
use crate::{Evidence, Role};

type Res = Option<Result<String, String>>;

fn ok(r: &Res) -> Option<&str> {
    match r {
        Some(Ok(t)) => Some(t.as_str()),
        _ => None,
    }
}

/// `cents` as `12,345.67`.
pub(crate) fn money(cents: u64) -> String {
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{grouped}.{:02}", cents % 100)
}

fn ev(kind: &str, passed: bool, message: String) -> Evidence {
    Evidence {
        verifier: format!("ops-check/{kind}"),
        passed,
        message,
    }
}

/// The planned tasks of a session.
#[derive(Debug, Clone)]
pub(crate) enum Task {
    Flag(Flag),
    Csv(Csv),
    Rename(Rename),
    Notes(Notes),
    Incident(Incident),
    Bump(Bump),
    Pool(Pool),
    Check(Check),
}

/// Number of task kinds.
pub(crate) const KINDS: u64 = 8;

impl Task {
    pub fn generate(kind: u64, rng: &mut SplitMix64, mistake: bool, env: &mut Env) -> Task {
        match kind {
            0 => Task::Flag(Flag::generate(rng, mistake, env)),
            1 => Task::Csv(Csv::generate(rng, mistake, env)),
            2 => Task::Rename(Rename::generate(rng, mistake, env)),
            3 => Task::Notes(Notes::generate(rng, mistake, env)),
            4 => Task::Incident(Incident::generate(rng, mistake, env)),
            5 => Task::Bump(Bump::generate(rng, mistake, env)),
            6 => Task::Pool(Pool::generate(rng, mistake, env)),
            _ => Task::Check(Check::generate(rng, mistake, env)),
        }
    }

    /// Run the task; returns the reply to the user (when produced) and its step.
    pub fn run(&self, e: &mut Engine, main: &mut Agent, sub_model: &'static str) -> Reply {
        match self {
            Task::Flag(t) => t.run(e, main, sub_model),
            Task::Csv(t) => t.run(e, main),
            Task::Rename(t) => t.run(e, main),
            Task::Notes(t) => t.run(e, main, sub_model),
            Task::Incident(t) => t.run(e, main, sub_model),
            Task::Bump(t) => t.run(e, main),
            Task::Pool(t) => t.run(e, main),
            Task::Check(t) => t.run(e, main),
        }
    }

    pub fn verify(&self, env: &Env, answer: Option<&str>) -> Evidence {
        match self {
            Task::Flag(t) => t.verify(env, answer),
            Task::Csv(t) => t.verify(env, answer),
            Task::Rename(t) => t.verify(env, answer),
            Task::Notes(t) => t.verify(env, answer),
            Task::Incident(t) => t.verify(env, answer),
            Task::Bump(t) => t.verify(env, answer),
            Task::Pool(t) => t.verify(env, answer),
            Task::Check(t) => t.verify(env, answer),
        }
    }

    /// Whether the plan contains a removable step (outside a mistake).
    pub fn has_waste(&self) -> bool {
        match self {
            Task::Flag(t) => t.explore_ls || t.explore_search || t.draft || t.recheck || t.tester,
            Task::Csv(t) => !t.irregular || t.readme || t.retry || t.explore_prev,
            Task::Rename(t) => t.draft.is_some(),
            Task::Notes(t) => t.draft || t.ignored_sub || t.explore_ls,
            Task::Incident(t) => t.deploy || t.retry || t.explore_metrics || t.wc,
            Task::Bump(_) => true,
            Task::Pool(t) => t.explore_dev || t.draft,
            Task::Check(t) => t.explore_prod || t.recheck,
        }
    }

    /// Add an exploratory (or draft) step to the plan; the workspace is unchanged.
    pub fn force_waste(&mut self) {
        match self {
            Task::Flag(t) => t.explore_search = true,
            Task::Csv(t) => t.explore_prev = true,
            Task::Rename(t) => t.draft = Some(0),
            Task::Notes(t) => t.ignored_sub = true,
            Task::Incident(t) => t.explore_metrics = true,
            Task::Bump(_) => {}
            Task::Pool(t) => t.explore_dev = true,
            Task::Check(t) => t.explore_prod = true,
        }
    }

    pub fn prompt(&self) -> String {
        match self {
            Task::Flag(t) => format!(
                "Add the `{h}` handler to the {s} service. If the `{f}` flag is on it belongs in `services/{s}/v2/`, otherwise in `services/{s}/v1/`; register it in that version's routes.txt as `POST /{s}/{h}`.",
                h = t.handler,
                s = t.svc,
                f = t.flag
            ),
            Task::Csv(t) => format!(
                "What was our total revenue for Q{} {}? The monthly exports are in `data/sales/`. Please also put the figure in `reports/q{}_{}_total.txt`.",
                t.q, t.year, t.q, t.year
            ),
            Task::Rename(t) => format!(
                "Rename `{}` to `{}` everywhere in the repo, and confirm that no references to the old name remain.",
                t.old, t.new
            ),
            Task::Notes(t) => format!(
                "Draft the release notes for v{} in `release-notes/v{}.md`, following our release docs. Cover everything merged since v{}.",
                t.ver, t.ver, t.prev
            ),
            Task::Incident(_) => "The API 5xx alert just fired. Find the root cause. If it's the latest deploy, roll back by setting `deploy/api/target` to the previous release; if not, leave the deploy alone and tell me what's wrong.".into(),
            Task::Bump(_) => "Bump serde_json to the newest 1.x release and make sure the tests still pass.".into(),
            Task::Pool(_) => "Raise DB_POOL_SIZE by 50% (round up) in both config/staging.env and config/prod.env, and tell me how many pool connections that makes across the two environments.".into(),
            Task::Check(t) => format!(
                "Quick one before I merge: is `{}` green on staging, and are there any pending migrations?",
                t.svc
            ),
        }
    }
}

/// A reply to the user: its text and step, when the model call ran.
pub(crate) struct Reply {
    pub text: Option<String>,
    pub step: Option<StepId>,
}

fn answer(e: &mut Engine, main: &mut Agent, text: String) -> Reply {
    let step = e.llm(main, &text, Role::Answer);
    Reply {
        text: step.map(|_| text),
        step,
    }
}

// ---------------------------------------------------------------------------------
// 1. A handler placed according to a feature flag (decision without quotation).

#[derive(Debug, Clone)]
pub(crate) struct Flag {
    flag: String,
    svc: String,
    handler: String,
    on: bool,
    explore_ls: bool,
    explore_search: bool,
    draft: bool,
    recheck: bool,
    tester: bool,
    mistake: bool,
}

impl Flag {
    fn generate(rng: &mut SplitMix64, mistake: bool, env: &mut Env) -> Flag {
        let (flag, svc) = *rng.pick(&[
            ("new_billing", "billing"),
            ("fast_checkout", "checkout"),
            ("smart_retry", "payments"),
            ("edge_cache", "search"),
        ]);
        let handler = *rng.pick(&["rounding", "refund_preview", "tax_lookup", "bulk_export"]);
        let on = mistake || rng.chance(70);
        let t = Flag {
            flag: flag.into(),
            svc: svc.into(),
            handler: handler.into(),
            on,
            explore_ls: rng.chance(50),
            explore_search: rng.chance(40),
            draft: rng.chance(35),
            recheck: !mistake && rng.chance(40),
            tester: rng.chance(50),
            mistake,
        };
        env.put(
            &format!("flags/{flag}.yaml"),
            format!(
                "# owner: team-{svc}\nenabled: {on}\nrollout_percent: {}\n",
                if on { 100 } else { 0 }
            ),
        );
        for v in ["v1", "v2"] {
            env.put(
                &format!("services/{svc}/{v}/routes.txt"),
                format!(
                    "GET /{svc}/summary -> summary::handle\nGET /{svc}/health -> health::handle\nPOST /{svc}/sync -> sync::handle\n"
                ),
            );
            env.put(
                &format!("services/{svc}/{v}/summary.rs"),
                "pub fn handle(req: Request) -> Response {\n    Response::ok(summary(req))\n}\n",
            );
        }
        env.put(&format!("tests/{svc}/v1/.keep"), "");
        env.put(&format!("tests/{svc}/v2/.keep"), "");
        t
    }

    fn run(&self, e: &mut Engine, main: &mut Agent, sub_model: &'static str) -> Reply {
        let flag_path = format!("flags/{}.yaml", self.flag);
        let decision = if self.on {
            Role::Decision
        } else {
            Role::CoincidentDefault
        };
        let m = e.llm(
            main,
            "Checking the rollout flag before deciding where the handler goes.",
            Role::Work,
        );
        let mut flag = None;
        if !self.mistake {
            flag = e.tool(
                main,
                m,
                Call::Shell(format!("cat {flag_path}")),
                true,
                decision,
            );
        }
        if self.explore_ls || self.mistake {
            e.tool(
                main,
                m,
                Call::Shell(format!("ls services/{}", self.svc)),
                true,
                Role::UnusedExplore,
            );
        }
        let v = version_from_flag(ok(&flag));
        if self.explore_search {
            let m = e.llm(main, "", Role::Work);
            e.tool(
                main,
                m,
                Call::Search(self.handler.clone()),
                true,
                Role::UnusedExplore,
            );
        }
        let dir = format!("services/{}/{v}", self.svc);
        let file = format!("{dir}/{}.rs", self.handler);
        if self.draft {
            let m = e.llm(main, "Sketching the handler first.", Role::Work);
            let draft = format!("// TODO: {} handler\n", self.handler);
            e.tool(
                main,
                m,
                Call::FsWrite(file.clone(), draft),
                true,
                Role::DeadStore,
            );
        }
        let m = e.llm(main, "", Role::Work);
        let body = format!(
            "//! POST /{s}/{h}\n\npub fn handle(req: Request) -> Response {{\n    let input = req.json()?;\n    Response::ok({h}(input))\n}}\n",
            s = self.svc,
            h = self.handler
        );
        e.tool(main, m, Call::FsWrite(file.clone(), body), true, Role::Work);
        let routes_path = format!("{dir}/routes.txt");
        let routes = e.tool(main, m, Call::FsRead(routes_path.clone()), true, Role::Work);
        let route = format!(
            "POST /{s}/{h} -> {h}::handle",
            s = self.svc,
            h = self.handler
        );
        // without the file the model guesses an anchor, which will not match
        let anchor = ok(&routes)
            .and_then(|r| r.lines().last())
            .unwrap_or("# routes")
            .to_owned();
        let m = e.llm(main, "", Role::Work);
        e.tool(
            main,
            m,
            Call::Patch(routes_path, anchor.clone(), format!("{anchor}\n{route}")),
            true,
            Role::Work,
        );
        if self.tester {
            let m = e.llm(main, "I'll have a sub-agent write the tests.", Role::Work);
            let task = format!(
                "Write unit tests for the new `{}` handler of the {} service. Tests go under tests/{}/v1/ or tests/{}/v2/, matching where the `{}` flag puts the handler.",
                self.handler, self.svc, self.svc, self.svc, self.flag
            );
            let (sid, mut c) = e.spawn(
                main,
                m,
                "test-writer",
                sub_model,
                &task,
                true,
                Role::SubagentUsed,
            );
            let cm = e.llm(&mut c, "", Role::Work);
            let cf = e.tool(
                &mut c,
                cm,
                Call::Shell(format!("cat {flag_path}")),
                true,
                if self.on {
                    Role::RereadOtherAgent
                } else {
                    Role::CoincidentDefault
                },
            );
            let cv = version_from_flag(ok(&cf));
            let cm = e.llm(&mut c, "", Role::Work);
            let test = format!(
                "use {s}::{h};\n\n#[test]\nfn {h}_accepts_valid_input() {{\n    assert!({h}::handle(Request::fixture(\"ok\")).is_ok());\n}}\n",
                s = self.svc,
                h = self.handler
            );
            e.tool(
                &mut c,
                cm,
                Call::FsWrite(
                    format!("tests/{}/{cv}/{}_test.rs", self.svc, self.handler),
                    test,
                ),
                true,
                Role::Work,
            );
            let text = "Added one test for the handler.".to_owned();
            let last = e.llm(&mut c, &text, Role::UnusedSubResult);
            e.join(main, sid, c, last.map(|_| text), last);
        }
        if self.recheck {
            let m = e.llm(
                main,
                "Double-checking the flag before I wrap up.",
                Role::Work,
            );
            e.tool(
                main,
                m,
                Call::Shell(format!("cat {flag_path}")),
                true,
                Role::RedundantRecheck,
            );
        }
        answer(
            e,
            main,
            format!(
                "Added the `{}` handler in {dir}/ and registered `POST /{}/{}` in its routes.txt.",
                self.handler, self.svc, self.handler
            ),
        )
    }

    fn verify(&self, env: &Env, answer: Option<&str>) -> Evidence {
        let ev_v = if self.on { "v2" } else { "v1" };
        let other = if self.on { "v1" } else { "v2" };
        let dir = format!("services/{}/{ev_v}", self.svc);
        let file = format!("{dir}/{}.rs", self.handler);
        let route = format!(
            "POST /{s}/{h} -> {h}::handle",
            s = self.svc,
            h = self.handler
        );
        let mut problems = Vec::new();
        if !env
            .files
            .get(&file)
            .is_some_and(|t| t.contains("pub fn handle"))
        {
            problems.push(format!("{file} is missing or incomplete"));
        }
        if env.files.contains_key(&format!(
            "services/{}/{other}/{}.rs",
            self.svc, self.handler
        )) {
            problems.push(format!("a handler was put under {other}/"));
        }
        if !env
            .files
            .get(&format!("{dir}/routes.txt"))
            .is_some_and(|t| t.contains(&route))
        {
            problems.push(format!("{dir}/routes.txt does not register the route"));
        }
        if self.tester
            && !env.files.contains_key(&format!(
                "tests/{}/{ev_v}/{}_test.rs",
                self.svc, self.handler
            ))
        {
            problems.push(format!("no test under tests/{}/{ev_v}/", self.svc));
        }
        if !answer.is_some_and(|a| a.contains(&format!("{dir}/"))) {
            problems.push("the reply does not say where the handler went".into());
        }
        if problems.is_empty() {
            ev("flag-feature", true, format!("handler and route in {dir}/"))
        } else {
            ev("flag-feature", false, problems.join("; "))
        }
    }
}

fn version_from_flag(flag: Option<&str>) -> &'static str {
    // the model's prior without the file: the stable version
    match flag {
        Some(t) if t.contains("enabled: true") => "v2",
        _ => "v1",
    }
}

// ---------------------------------------------------------------------------------
// 2. A quarterly total over monthly CSV exports (similar files, derived answer).

#[derive(Debug, Clone)]
pub(crate) struct Csv {
    year: u64,
    q: u64,
    months: Vec<u64>,
    irregular: bool,
    cents: u64,
    readme: bool,
    retry: bool,
    explore_prev: bool,
    mistake: bool,
}

impl Csv {
    fn name(year: u64, m: u64, irregular: bool, suffix: &str) -> String {
        if irregular {
            format!("sales_{year}_{m:02}_{suffix}.csv")
        } else {
            format!("{year}-{m:02}.csv")
        }
    }

    fn generate(rng: &mut SplitMix64, mistake: bool, env: &mut Env) -> Csv {
        let year = 2023 + rng.below(2);
        let q = rng.range(2, 4);
        let irregular = rng.chance(45);
        let months: Vec<u64> = (0..3).map(|i| (q - 1) * 3 + 1 + i).collect();
        let suffixes = ["final", "v2", "export", "fixed"];
        let mut cents = 0;
        let regions = ["emea", "amer", "apac"];
        let mut file_for = |rng: &mut SplitMix64, m: u64| -> (String, u64) {
            let suffix = *rng.pick(&suffixes[..]);
            let name = Csv::name(year, m, irregular, suffix);
            let rows = rng.range(6, 14);
            let mut text = String::from("order_id,region,amount_usd\n");
            let mut sum = 0;
            for r in 0..rows {
                let c = rng.range(1_500, 250_000);
                sum += c;
                text.push_str(&format!(
                    "A{}{:02}{:03},{},{}.{:02}\n",
                    year % 100,
                    m,
                    r + 1,
                    rng.pick(&regions),
                    c / 100,
                    c % 100
                ));
            }
            env.put(&format!("data/sales/{name}"), text);
            (name, sum)
        };
        for &m in &months {
            let (_, s) = file_for(rng, m);
            cents += s;
        }
        file_for(rng, months[0] - 1);
        env.put(
            "data/sales/README.md",
            "Monthly order exports from the shop database. One row per order; amounts in USD, tax included.\n",
        );
        Csv {
            year,
            q,
            months,
            irregular,
            cents,
            readme: rng.chance(30),
            retry: rng.chance(30),
            explore_prev: rng.chance(40),
            mistake,
        }
    }

    fn run(&self, e: &mut Engine, main: &mut Agent) -> Reply {
        let m = e.llm(main, "Let me see which exports are there.", Role::Work);
        let ls_role = if self.irregular {
            Role::Work
        } else {
            Role::UnusedExplore
        };
        let ls = e.tool(main, m, Call::Shell("ls data/sales".into()), true, ls_role);
        if self.readme {
            e.tool(
                main,
                m,
                Call::Shell("cat data/sales/README.md".into()),
                true,
                Role::UnusedExplore,
            );
        }
        let listing: Vec<String> = ok(&ls)
            .map(|t| t.lines().map(str::to_owned).collect())
            .unwrap_or_default();
        let find = |m: u64| -> String {
            let keys = [
                format!("{}-{m:02}", self.year),
                format!("{}_{m:02}", self.year),
            ];
            listing
                .iter()
                .find(|n| keys.iter().any(|k| n.contains(k.as_str())))
                .cloned()
                .unwrap_or_else(|| Csv::name(self.year, m, false, ""))
        };
        if self.retry {
            let m = e.llm(main, "", Role::Work);
            let bad = format!("data/sales/{}-{}.csv", self.year, self.months[0]);
            e.tool(main, m, Call::FsRead(bad), true, Role::FailedAttempt);
        }
        let m = e.llm(
            main,
            if self.retry {
                "Wrong file name; reading the three monthly exports."
            } else {
                ""
            },
            Role::Work,
        );
        let n_read = if self.mistake { 2 } else { 3 };
        let mut total = 0u64;
        let mut got = 0;
        for &mo in &self.months[..n_read] {
            let r = e.tool(
                main,
                m,
                Call::FsRead(format!("data/sales/{}", find(mo))),
                true,
                Role::SimilarNeeded,
            );
            if let Some(t) = ok(&r) {
                got += 1;
                total += csv_sum(t);
            }
        }
        if self.explore_prev {
            let prev = format!("data/sales/{}", find(self.months[0] - 1));
            e.tool(main, m, Call::FsRead(prev), true, Role::UnusedExplore);
        }
        let report = format!("reports/q{}_{}_total.txt", self.q, self.year);
        let m = e.llm(main, "", Role::Work);
        let figure = format!("{}.{:02}\n", total / 100, total % 100);
        e.tool(
            main,
            m,
            Call::FsWrite(report.clone(), figure),
            got > 0,
            Role::Work,
        );
        let text = if got == n_read {
            format!(
                "Q{} {} revenue came to ${} across the monthly exports; I wrote the figure to {report}.",
                self.q,
                self.year,
                money(total)
            )
        } else if got > 0 {
            format!(
                "I could only read {got} of the monthly exports, so ${} is a partial figure.",
                money(total)
            )
        } else {
            "I couldn't read the sales exports, so I have no total.".into()
        };
        answer(e, main, text)
    }

    fn verify(&self, env: &Env, answer: Option<&str>) -> Evidence {
        let report = format!("reports/q{}_{}_total.txt", self.q, self.year);
        let want = format!("{}.{:02}", self.cents / 100, self.cents % 100);
        let got = env.files.get(&report).map(|t| t.trim().to_owned());
        if got.as_deref() != Some(want.as_str()) {
            return ev(
                "csv-total",
                false,
                format!(
                    "{report} holds {} (expected {want})",
                    got.unwrap_or_else(|| "nothing".into())
                ),
            );
        }
        if !answer.is_some_and(|a| {
            a.contains(&format!("${}", money(self.cents))) && !a.contains("partial")
        }) {
            return ev(
                "csv-total",
                false,
                format!("the reply does not state the total ${}", money(self.cents)),
            );
        }
        ev(
            "csv-total",
            true,
            format!("Q{} {} total ${}", self.q, self.year, money(self.cents)),
        )
    }
}

fn csv_sum(text: &str) -> u64 {
    text.lines()
        .skip(1)
        .filter_map(|l| l.rsplit(',').next())
        .filter_map(|a| {
            let (d, c) = a.split_once('.')?;
            Some(d.parse::<u64>().ok()? * 100 + c.parse::<u64>().ok()?)
        })
        .sum()
}

// ---------------------------------------------------------------------------------
// 3. A rename with a leftover-reference check (empty result as verification).

#[derive(Debug, Clone)]
pub(crate) struct Rename {
    old: String,
    new: String,
    files: Vec<String>,
    test_leftover: Option<String>,
    draft: Option<usize>,
    mistake: bool,
}

impl Rename {
    fn generate(rng: &mut SplitMix64, mistake: bool, env: &mut Env) -> Rename {
        let (old, new, module) = *rng.pick(&[
            ("parse_cfg", "load_config", "config"),
            ("fetch_usr", "fetch_user", "users"),
            ("calc_tax", "compute_tax", "tax"),
            ("mk_invoice", "build_invoice", "invoice"),
        ]);
        let def = format!("src/{module}.rs");
        env.put(
            &def,
            format!(
                "//! {module} helpers.\n\n/// `{old}` is the single entry point; callers must not reimplement it.\npub fn {old}(input: &str) -> Result<Value, Error> {{\n    let v = decode(input)?;\n    Ok(normalise(v))\n}}\n"
            ),
        );
        let mut files = vec![def];
        let callers = [
            "src/main.rs",
            "src/api/handlers.rs",
            "src/jobs/nightly.rs",
            "src/cli.rs",
        ];
        let n = rng.range(1, 3) as usize;
        for c in &callers[..n] {
            env.put(
                c,
                format!(
                    "use crate::{module}::{old};\n\npub fn run(arg: &str) -> Result<(), Error> {{\n    let value = {old}(arg)?;\n    emit(value)\n}}\n"
                ),
            );
            files.push((*c).to_owned());
        }
        env.put(
            "src/lib.rs",
            format!("pub mod {module};\npub mod api;\npub mod jobs;\n"),
        );
        env.put("README.md", "# shop\n\nRun `cargo run -- --help`.\n");
        let test_leftover = (mistake || rng.chance(45)).then(|| {
            let t = format!("tests/{module}_it.rs");
            env.put(
                &t,
                format!(
                    "use shop::{module}::{old};\n\n#[test]\nfn roundtrip() {{\n    assert!({old}(\"{{}}\").is_ok());\n}}\n"
                ),
            );
            t
        });
        let draft = rng
            .chance(35)
            .then(|| rng.below(files.len() as u64) as usize);
        Rename {
            old: old.into(),
            new: new.into(),
            files,
            test_leftover,
            draft,
            mistake,
        }
    }

    fn run(&self, e: &mut Engine, main: &mut Agent) -> Reply {
        let m = e.llm(main, "Finding every use first.", Role::Work);
        let hits = e.tool(main, m, Call::Search(self.old.clone()), true, Role::Work);
        let found: Vec<&String> = self
            .files
            .iter()
            .filter(|f| ok(&hits).is_some_and(|h| h.contains(&format!("{f}:"))))
            .collect();
        let m = e.llm(main, "", Role::Work);
        let mut contents = Vec::new();
        for f in &self.files {
            let r = e.tool(
                main,
                m,
                Call::FsRead(f.clone()),
                found.contains(&f),
                Role::Work,
            );
            contents.push(ok(&r).map(str::to_owned));
        }
        let m = e.llm(main, "", Role::Work);
        let mut written = std::collections::BTreeSet::new();
        for (i, f) in self.files.iter().enumerate() {
            let Some(text) = &contents[i] else {
                e.tool(
                    main,
                    m,
                    Call::FsWrite(f.clone(), String::new()),
                    false,
                    Role::Work,
                );
                continue;
            };
            let (content, role) = if self.draft == Some(i) {
                (text.replacen(&self.old, &self.new, 1), Role::DeadStore)
            } else {
                (text.replace(&self.old, &self.new), Role::Work)
            };
            let r = e.tool(main, m, Call::FsWrite(f.clone(), content), true, role);
            if ok(&r).is_some() {
                written.insert(f.clone());
            }
        }
        if let Some(i) = self.draft {
            let f = &self.files[i];
            let m = e.llm(
                main,
                "The doc comment still uses the old name; rewriting that file in full.",
                Role::Work,
            );
            let want = contents[i].is_some();
            let content = contents[i]
                .clone()
                .unwrap_or_default()
                .replace(&self.old, &self.new);
            let r = e.tool(main, m, Call::FsWrite(f.clone(), content), want, Role::Work);
            if ok(&r).is_some() {
                written.insert(f.clone());
            }
        }
        if let (Some(t), false) = (&self.test_leftover, self.mistake) {
            let m = e.llm(main, "Now the rest of the repo, outside src/.", Role::Work);
            let g = e.tool(
                main,
                m,
                Call::Shell(format!("grep -rn {} .", self.old)),
                true,
                Role::Work,
            );
            let seen = ok(&g).is_some_and(|h| h.contains(t.as_str()));
            let m = e.llm(main, "", Role::Work);
            let r = e.tool(main, m, Call::FsRead(t.clone()), seen, Role::Work);
            let m = e.llm(main, "", Role::Work);
            let content = ok(&r).map(|c| c.replace(&self.old, &self.new));
            let w = e.tool(
                main,
                m,
                Call::FsWrite(t.clone(), content.clone().unwrap_or_default()),
                content.is_some(),
                Role::Work,
            );
            if ok(&w).is_some() {
                written.insert(t.clone());
            }
        }
        let m = e.llm(main, "Final check for leftovers.", Role::Work);
        let scope = if self.mistake { "src" } else { "." };
        let check = e.tool(
            main,
            m,
            Call::Shell(format!("grep -rn {} {scope}", self.old)),
            true,
            Role::EmptyCheck,
        );
        let n = written.len();
        let text = match ok(&check) {
            Some("") => format!(
                "Renamed `{}` to `{}` in {n} files. A search for the old name now comes back empty, so no references remain.",
                self.old, self.new
            ),
            Some(h) => format!(
                "Renamed `{}` to `{}` in {n} files, but {} reference(s) to the old name remain.",
                self.old,
                self.new,
                h.lines().count()
            ),
            None => format!(
                "Renamed `{}` to `{}` in {n} files; I haven't re-checked the repo for leftovers.",
                self.old, self.new
            ),
        };
        answer(e, main, text)
    }

    fn verify(&self, env: &Env, answer: Option<&str>) -> Evidence {
        let left: Vec<&String> = env
            .files
            .iter()
            .filter(|(_, t)| t.contains(&self.old))
            .map(|(p, _)| p)
            .collect();
        if !left.is_empty() {
            let l: Vec<&str> = left.iter().map(|s| s.as_str()).collect();
            return ev(
                "rename",
                false,
                format!("`{}` still appears in {}", self.old, l.join(", ")),
            );
        }
        if !env
            .files
            .get(&self.files[0])
            .is_some_and(|t| t.contains(&format!("pub fn {}(", self.new)))
        {
            return ev(
                "rename",
                false,
                format!("`{}` is not defined in {}", self.new, self.files[0]),
            );
        }
        if !answer.is_some_and(|a| a.contains("no references remain")) {
            return ev(
                "rename",
                false,
                "the reply does not confirm that no references remain".into(),
            );
        }
        ev(
            "rename",
            true,
            format!(
                "`{}` replaced by `{}` everywhere, confirmed",
                self.old, self.new
            ),
        )
    }
}

// ---------------------------------------------------------------------------------
// 4. Release notes whose format is chosen by a sub-agent's verdict.

#[derive(Debug, Clone)]
pub(crate) struct Notes {
    ver: String,
    prev: String,
    commits: Vec<(String, String)>,
    grouped: bool,
    draft: bool,
    ignored_sub: bool,
    explore_ls: bool,
    mistake: bool,
}

const COMMITS: &[(&str, &str)] = &[
    ("feat", "add CSV export to the reports page"),
    ("fix", "crash when the cart is empty"),
    ("feat", "support coupon stacking"),
    ("fix", "wrong VAT rounding for Swiss orders"),
    ("refactor", "split the checkout module"),
    ("perf", "cache product thumbnails"),
    ("fix", "stale session after password reset"),
    ("feat", "dark mode for the admin panel"),
];

fn paraphrase(subject: &str) -> String {
    let mut c = subject.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn section(kind: &str) -> &'static str {
    match kind {
        "feat" => "Added",
        "fix" => "Fixed",
        _ => "Changed",
    }
}

impl Notes {
    fn generate(rng: &mut SplitMix64, mistake: bool, env: &mut Env) -> Notes {
        let minor = rng.range(3, 9);
        let ver = format!("1.{minor}.0");
        let prev = format!("1.{}.{}", minor - 1, rng.below(3));
        let mut idx: Vec<usize> = (0..COMMITS.len()).collect();
        rng.shuffle(&mut idx);
        let k = rng.range(3, 5) as usize;
        let commits: Vec<(String, String)> = idx[..k]
            .iter()
            .map(|&i| (COMMITS[i].0.to_owned(), COMMITS[i].1.to_owned()))
            .collect();
        let mut log = String::new();
        for (i, (kind, s)) in commits.iter().enumerate() {
            log.push_str(&format!(
                "{:07x} {kind}: {s}\n",
                (rng.next_u64() >> 36) ^ i as u64
            ));
        }
        env.put(".git/log", log);
        let grouped = mistake || rng.chance(60);
        let rules = if grouped {
            "Release notes live in release-notes/ and use the Keep a Changelog layout: a `## [version] - date` title, then `### Added`, `### Changed` and `### Fixed` sections with one bullet per change."
        } else {
            "Release notes live in release-notes/: a `# version` title and one flat bullet list of changes, no sub-headings."
        };
        env.put(
            "docs/RELEASING.md",
            format!("# Releasing\n\n1. Tag the release.\n2. {rules}\n3. Announce in #releases.\n"),
        );
        env.put(
            "docs/ARCHITECTURE.md",
            "# Architecture\n\nThe shop is one binary with three modules.\n",
        );
        env.put(
            "CONTRIBUTING.md",
            "# Contributing\n\nOpen a PR; CI must be green.\n",
        );
        env.http.insert(
            format!("https://tracker.example.com/api/issues?milestone=v{ver}&state=open"),
            format!("[{{\"id\":412,\"title\":\"Flaky login test\",\"milestone\":\"v{ver}\",\"labels\":[\"test\"]}},{{\"id\":420,\"title\":\"Typo on the pricing page\",\"milestone\":\"v{ver}\",\"labels\":[\"docs\"]}}]"),
        );
        Notes {
            ver,
            prev,
            commits,
            grouped,
            draft: rng.chance(40),
            ignored_sub: rng.chance(35),
            explore_ls: rng.chance(50),
            mistake,
        }
    }

    fn render(&self, commits: &[(String, String)], grouped: bool) -> String {
        if grouped {
            let mut out = format!("## [{}] - 2025-06-30\n", self.ver);
            for sec in ["Added", "Changed", "Fixed"] {
                let items: Vec<String> = commits
                    .iter()
                    .filter(|(k, _)| section(k) == sec)
                    .map(|(_, s)| format!("- {}", paraphrase(s)))
                    .collect();
                if !items.is_empty() {
                    out.push_str(&format!("\n### {sec}\n{}\n", items.join("\n")));
                }
            }
            out
        } else {
            let mut out = format!("# {}\n\n", self.ver);
            for (_, s) in commits {
                out.push_str(&format!("- {}\n", paraphrase(s)));
            }
            out
        }
    }

    fn run(&self, e: &mut Engine, main: &mut Agent, sub_model: &'static str) -> Reply {
        let path = format!("release-notes/v{}.md", self.ver);
        let m = e.llm(
            main,
            "Collecting the commits since the last tag.",
            Role::Work,
        );
        let log = e.tool(
            main,
            m,
            Call::Shell(format!("git log --oneline v{}..HEAD", self.prev)),
            true,
            Role::Work,
        );
        let commits: Vec<(String, String)> = ok(&log)
            .map(|t| {
                t.lines()
                    .filter_map(|l| {
                        let (_, rest) = l.split_once(' ')?;
                        let (k, s) = rest.split_once(": ")?;
                        Some((k.to_owned(), s.to_owned()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        if self.draft {
            let m = e.llm(
                main,
                "A first draft while I check the conventions.",
                Role::Work,
            );
            let mut draft = format!("# v{} (draft)\n\n", self.ver);
            for (k, s) in &commits {
                draft.push_str(&format!("- {k}: {s}\n"));
            }
            e.tool(
                main,
                m,
                Call::FsWrite(path.clone(), draft),
                !commits.is_empty(),
                Role::DeadStore,
            );
        }
        let verdict_role = if self.grouped && !self.mistake {
            Role::SubagentUsed
        } else {
            Role::CoincidentDefault
        };
        let m = e.llm(
            main,
            "Asking a sub-agent how release notes are formatted here.",
            Role::Work,
        );
        let (sid, mut c) = e.spawn(
            main,
            m,
            "docs-scout",
            sub_model,
            "Read our release docs under docs/ and tell me, in one sentence, how release notes must be formatted.",
            true,
            verdict_role,
        );
        let cm = e.llm(&mut c, "", Role::Work);
        if self.explore_ls {
            e.tool(
                &mut c,
                cm,
                Call::Shell("ls docs".into()),
                true,
                Role::UnusedExplore,
            );
        }
        let read_role = if verdict_role == Role::SubagentUsed {
            Role::Decision
        } else {
            Role::CoincidentDefault
        };
        let doc = e.tool(
            &mut c,
            cm,
            Call::FsRead("docs/RELEASING.md".into()),
            true,
            read_role,
        );
        let verdict = match ok(&doc) {
            Some(t) if t.contains("Keep a Changelog") => {
                "They want the Keep a Changelog layout, with changes grouped by type under headings."
            }
            Some(_) => "A plain flat list of bullets under a title; no sections.",
            None => "I couldn't find any release docs.",
        }
        .to_owned();
        let last = e.llm(
            &mut c,
            &verdict,
            if verdict_role == Role::SubagentUsed {
                Role::Answer
            } else {
                Role::CoincidentDefault
            },
        );
        let verdict = e.join(main, sid, c, last.map(|_| verdict), last);
        if self.ignored_sub {
            let m = e.llm(
                main,
                "Also checking open issues on the milestone.",
                Role::Work,
            );
            let (sid, mut c) = e.spawn(
                main,
                m,
                "issue-scout",
                sub_model,
                &format!(
                    "List open issues on the v{} milestone and say whether any blocks the release.",
                    self.ver
                ),
                true,
                Role::IgnoredSubagent,
            );
            let cm = e.llm(&mut c, "", Role::Work);
            let url = format!(
                "https://tracker.example.com/api/issues?milestone=v{}&state=open",
                self.ver
            );
            e.tool(&mut c, cm, Call::Http(url), true, Role::IgnoredSubagent);
            let text =
                "Two open issues on the milestone (a flaky test and a docs typo); neither blocks."
                    .to_owned();
            let last = e.llm(&mut c, &text, Role::UnusedSubResult);
            e.join(main, sid, c, last.map(|_| text), last);
        }
        let grouped = !self.mistake && verdict.as_deref().is_some_and(|v| v.contains("grouped"));
        let m = e.llm(main, "", Role::Work);
        let notes = self.render(&commits, grouped);
        e.tool(
            main,
            m,
            Call::FsWrite(path.clone(), notes),
            !commits.is_empty(),
            Role::Work,
        );
        let text = if commits.is_empty() {
            "I couldn't read the commit history, so there are no notes yet.".to_owned()
        } else if grouped {
            format!(
                "Drafted {path} with {} entries, grouped by type as the release guide asks.",
                commits.len()
            )
        } else {
            format!("Drafted {path} with {} entries.", commits.len())
        };
        answer(e, main, text)
    }

    fn verify(&self, env: &Env, answer: Option<&str>) -> Evidence {
        let path = format!("release-notes/v{}.md", self.ver);
        let Some(text) = env.files.get(&path) else {
            return ev("release-notes", false, format!("{path} does not exist"));
        };
        if *text != self.render(&self.commits, self.grouped) {
            let layout = if self.grouped {
                "Keep a Changelog sections"
            } else {
                "a flat list"
            };
            return ev(
                "release-notes",
                false,
                format!(
                    "{path} does not list the {} changes as {layout}",
                    self.commits.len()
                ),
            );
        }
        if !answer.is_some_and(|a| a.contains(&path)) {
            return ev(
                "release-notes",
                false,
                "the reply does not point to the notes".into(),
            );
        }
        ev(
            "release-notes",
            true,
            format!("{path} complete and in the documented layout"),
        )
    }
}

// ---------------------------------------------------------------------------------
// 5. Incident triage (count as a check, compaction, re-read after compaction).

#[derive(Debug, Clone)]
pub(crate) struct Incident {
    deploy: bool,
    cur: String,
    prev: String,
    retry: bool,
    explore_metrics: bool,
    wc: bool,
    mistake: bool,
}

impl Incident {
    fn generate(rng: &mut SplitMix64, mistake: bool, env: &mut Env) -> Incident {
        let n = rng.range(4700, 4990);
        let cur = format!("v{n}");
        let prev = format!("v{}", n - rng.range(1, 6));
        let deploy = !mistake && rng.chance(60);
        env.kv.insert("deploy/api/current".into(), cur.clone());
        env.kv.insert("deploy/api/previous".into(), prev.clone());
        let mut log = String::new();
        let lines = rng.range(24, 40);
        for i in 0..lines {
            let (mm, ss) = (3 + i / 6, (i * 7) % 60);
            if deploy {
                log.push_str(&format!("14:{mm:02}:{ss:02} ERROR build={cur} panic: index out of bounds in checkout::apply_coupon\n"));
            } else {
                log.push_str(&format!("14:{mm:02}:{ss:02} ERROR build={cur} db: timed out acquiring a connection after 5000ms\n"));
            }
        }
        env.put("logs/api/error.log", log);
        let pool = if deploy {
            "14:00 pool stats: 18/100 in use\n14:10 pool stats: 21/100 in use\n".to_owned()
        } else {
            "14:00 pool stats: 97/100 in use\n14:02 FATAL: remaining connection slots are reserved\n14:10 pool stats: 100/100 in use\n".to_owned()
        };
        env.put("logs/db/pool.log", pool);
        env.http.insert(
            "https://metrics.internal/api/v1/alerts/api-5xx".into(),
            "{\"alert\":\"api-5xx\",\"state\":\"firing\",\"error_rate\":0.071,\"since\":\"14:03\"}"
                .into(),
        );
        Incident {
            deploy,
            cur,
            prev,
            retry: rng.chance(35),
            explore_metrics: rng.chance(45),
            wc: rng.chance(40),
            mistake,
        }
    }

    fn run(&self, e: &mut Engine, main: &mut Agent, sub_model: &'static str) -> Reply {
        let key = "deploy/api/current".to_owned();
        if self.retry {
            let m = e.llm(main, "Checking what's deployed.", Role::Work);
            e.tool(
                main,
                m,
                Call::KvGetFault(key.clone()),
                true,
                Role::FailedAttempt,
            );
        }
        let m = e.llm(
            main,
            if self.retry {
                "Retrying."
            } else {
                "Checking what's deployed."
            },
            Role::Work,
        );
        let needed = if self.deploy {
            Role::Work
        } else {
            Role::CoincidentDefault
        };
        let cur = e.tool(main, m, Call::KvGet(key.clone()), true, needed);
        if self.explore_metrics {
            e.tool(
                main,
                m,
                Call::Http("https://metrics.internal/api/v1/alerts/api-5xx".into()),
                true,
                Role::UnusedExplore,
            );
        }
        let cur = ok(&cur).map(str::to_owned);
        let m = e.llm(main, "Handing the log analysis to a sub-agent.", Role::Work);
        let task = match &cur {
            Some(v) => format!("Do the errors in logs/api/error.log come from a code fault in build {v}? Answer yes or no."),
            None => "Do the errors in logs/api/error.log come from a code fault in the deployed build? Answer yes or no.".into(),
        };
        let sub_role = if self.deploy {
            Role::SubagentUsed
        } else {
            Role::CoincidentDefault
        };
        let (sid, mut c) = e.spawn(main, m, "log-analyst", sub_model, &task, true, sub_role);
        let cm = e.llm(&mut c, "", Role::Work);
        let count_role = if self.deploy {
            Role::NumericCheck
        } else {
            Role::CoincidentDefault
        };
        let pat = cur.clone().unwrap_or_default();
        let count = e.tool(
            &mut c,
            cm,
            Call::Shell(format!("grep -c 'build={pat} panic' logs/api/error.log")),
            cur.is_some(),
            count_role,
        );
        if self.wc {
            e.tool(
                &mut c,
                cm,
                Call::Shell("wc -l logs/api/error.log".into()),
                true,
                Role::UnusedExplore,
            );
        }
        let verdict = match ok(&count).and_then(|t| t.trim().parse::<u64>().ok()) {
            Some(n) if n >= 10 => "Yes: nearly every recent error is a panic in the new build.",
            Some(_) => "No: the new build is not panicking; the errors are something else.",
            None => "I couldn't tell which build the errors come from.",
        }
        .to_owned();
        let last = e.llm(
            &mut c,
            &verdict,
            if self.deploy {
                Role::Answer
            } else {
                Role::CoincidentDefault
            },
        );
        let verdict = e.join(main, sid, c, last.map(|_| verdict), last);
        let m = e.llm(main, "", Role::Work);
        let pool = e.tool(
            main,
            m,
            Call::Shell("cat logs/db/pool.log".into()),
            true,
            if self.deploy {
                Role::UnusedExplore
            } else {
                Role::Work
            },
        );
        let build_fault = verdict.as_deref().is_some_and(|v| v.starts_with("Yes"));
        let db_fault = ok(&pool).is_some_and(|t| t.contains("connection slots are reserved"));
        let summary = format!(
            "Investigating the API 5xx alert. Log analysis: {}. Database pool: {}.",
            if build_fault {
                "the new build is faulty"
            } else if verdict.is_some() {
                "inconclusive or not the build"
            } else {
                "not done"
            },
            if db_fault { "exhausted" } else { "no finding" }
        );
        let kept = e.compact(main, &summary);
        // after the compaction only the summary is left
        let build_fault = kept && build_fault;
        let db_fault = kept && db_fault;
        let rollback = build_fault || self.mistake;
        let mut cur2 = None;
        let mut rolled = false;
        if self.deploy || self.mistake {
            let m = e.llm(
                main,
                "Rolling back; confirming the current and previous releases.",
                Role::Work,
            );
            cur2 = e.tool(
                main,
                m,
                Call::KvGet(key),
                rollback,
                Role::RereadAfterCompaction,
            );
            let prev = e.tool(
                main,
                m,
                Call::KvGet("deploy/api/previous".into()),
                rollback,
                Role::Work,
            );
            let m = e.llm(main, "", Role::Work);
            let p = ok(&prev).map(str::to_owned);
            let r = e.tool(
                main,
                m,
                Call::KvSet("deploy/api/target".into(), p.clone().unwrap_or_default()),
                rollback && p.is_some(),
                Role::Work,
            );
            rolled = ok(&r).is_some();
            if rolled {
                cur2 = cur2.map(|c| c.map(|v| format!("{v} -> {}", p.unwrap_or_default())));
            }
        }
        let text = if rolled {
            match ok(&cur2) {
                Some(v) => {
                    let (bad, good) = v.split_once(" -> ").unwrap_or((v, ""));
                    format!("Root cause: release {bad} panics in checkout::apply_coupon. I rolled back to {good}.")
                }
                None => "Root cause: the latest release panics in checkout; I rolled back to the previous one.".into(),
            }
        } else if db_fault {
            "It isn't the deploy: the database ran out of connections (the pool is exhausted). I left the deploy alone.".into()
        } else {
            "I couldn't pin down the root cause yet; the deploy is untouched.".into()
        };
        answer(e, main, text)
    }

    fn verify(&self, env: &Env, answer: Option<&str>) -> Evidence {
        let target = env.kv.get("deploy/api/target");
        if self.deploy {
            if target != Some(&self.prev) {
                return ev(
                    "incident",
                    false,
                    format!("deploy/api/target is not {}", self.prev),
                );
            }
            if !answer.is_some_and(|a| a.contains(&format!("release {} ", self.cur))) {
                return ev(
                    "incident",
                    false,
                    format!("the reply does not name release {} as the cause", self.cur),
                );
            }
            ev(
                "incident",
                true,
                format!("rolled back from {} to {}", self.cur, self.prev),
            )
        } else {
            if target.is_some() {
                return ev(
                    "incident",
                    false,
                    "the deploy was rolled back although the database was at fault".into(),
                );
            }
            if !answer.is_some_and(|a| a.contains("database ran out of connections")) {
                return ev(
                    "incident",
                    false,
                    "the reply does not identify the exhausted database pool".into(),
                );
            }
            ev(
                "incident",
                true,
                "database pool exhaustion identified; deploy untouched".into(),
            )
        }
    }
}

// ---------------------------------------------------------------------------------
// 6. A dependency bump (re-read after an external write, tests as a check).

#[derive(Debug, Clone)]
pub(crate) struct Bump {
    latest: u64,
    retry: bool,
    serde_min: Option<u64>,
    explore_lock: bool,
    mistake: bool,
}

const STALE_MEMORY: u64 = 117;

impl Bump {
    fn generate(rng: &mut SplitMix64, mistake: bool, env: &mut Env) -> Bump {
        let latest = rng.range(121, 140);
        let cur = latest - rng.range(3, 12);
        let serde = rng.range(190, 205);
        let needs = mistake || rng.chance(50);
        let serde_min = needs.then(|| serde + rng.range(3, 12));
        if let Some(min) = serde_min {
            env.serde_rule = Some((latest, min));
        }
        env.put(
            "Cargo.toml",
            format!(
                "[package]\nname = \"storefront\"\nversion = \"0.9.2\"\nedition = \"2021\"\n\n[dependencies]\nanyhow = \"1.0.86\"\nserde = \"1.0.{serde}\"\nserde_json = \"1.0.{cur}\"\ntokio = \"1.38.0\"\n"
            ),
        );
        env.put(
            "Cargo.lock",
            format!(
                "# This file is automatically @generated by Cargo.\nversion = 3\n\n[[package]]\nname = \"serde_json\"\nversion = \"1.0.{cur}\"\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.{serde}\"\n"
            ),
        );
        let mut versions = vec!["\"2.0.0-alpha.1\"".to_owned()];
        for v in (latest - 4..=latest).rev() {
            versions.push(format!("\"1.0.{v}\""));
        }
        env.http.insert(
            "https://index.crates.example/api/v1/crates/serde_json/versions".into(),
            format!(
                "{{\"crate\":\"serde_json\",\"versions\":[{}]}}",
                versions.join(",")
            ),
        );
        Bump {
            latest,
            retry: rng.chance(30),
            serde_min,
            explore_lock: rng.chance(40),
            mistake,
        }
    }

    fn run(&self, e: &mut Engine, main: &mut Agent) -> Reply {
        let url = "https://index.crates.example/api/v1/crates/serde_json/versions";
        if self.retry {
            let m = e.llm(main, "Looking up the published versions.", Role::Work);
            e.tool(
                main,
                m,
                Call::HttpFault(url.into()),
                true,
                Role::FailedAttempt,
            );
        }
        let m = e.llm(
            main,
            if self.retry {
                "The index timed out; trying again."
            } else {
                "Looking up the published versions."
            },
            Role::Work,
        );
        let reg = e.tool(main, m, Call::Http(url.into()), true, Role::Work);
        if self.explore_lock {
            e.tool(
                main,
                m,
                Call::FsRead("Cargo.lock".into()),
                true,
                Role::UnusedExplore,
            );
        }
        // newest stable 1.x; without the index the model falls back on what it remembers
        let v = ok(&reg)
            .map(|t| {
                t.split('"')
                    .filter_map(|s| s.strip_prefix("1.0.")?.parse::<u64>().ok())
                    .max()
                    .unwrap_or(STALE_MEMORY)
            })
            .unwrap_or(STALE_MEMORY);
        let m = e.llm(main, "", Role::Work);
        let first = e.tool(
            main,
            m,
            Call::Shell("cat Cargo.toml".into()),
            true,
            Role::UnusedExplore,
        );
        let mut toml = ok(&first).map(str::to_owned);
        let m = e.llm(main, "", Role::Work);
        e.tool(
            main,
            m,
            Call::Shell(format!("cargo add serde_json@1.0.{v}")),
            true,
            Role::Work,
        );
        let m = e.llm(main, "", Role::Work);
        let mut tests = e.tool(main, m, Call::Tests, true, Role::Work);
        let mut extra = String::new();
        if self.serde_min.is_some() && !self.mistake {
            let failed = matches!(tests, Some(Err(_)));
            let need: Option<u64> = match &tests {
                Some(Err(t)) => t
                    .split("serde = \"^1.0.")
                    .nth(1)
                    .and_then(|r| r.split('"').next())
                    .and_then(|n| n.parse().ok()),
                _ => None,
            };
            let m = e.llm(
                main,
                if failed {
                    "serde needs a newer patch release; editing Cargo.toml."
                } else {
                    ""
                },
                Role::Work,
            );
            let re = e.tool(
                main,
                m,
                Call::Shell("cat Cargo.toml".into()),
                failed,
                Role::RereadAfterWrite,
            );
            if let Some(t) = ok(&re) {
                toml = Some(t.to_owned());
            }
            let m = e.llm(main, "", Role::Work);
            let old = toml.as_deref().and_then(|t| dep_patch(t, "serde"));
            let (patch, want) = match (old, need) {
                (Some(o), Some(n)) => (
                    Call::Patch(
                        "Cargo.toml".into(),
                        format!("serde = \"1.0.{o}\""),
                        format!("serde = \"1.0.{n}\""),
                    ),
                    true,
                ),
                _ => (
                    Call::Patch("Cargo.toml".into(), String::new(), String::new()),
                    false,
                ),
            };
            let p = e.tool(main, m, patch, want, Role::Work);
            if let (Some(Ok(_)), Some(n)) = (&p, need) {
                extra = format!(" (serde raised to 1.0.{n}, which it requires)");
            }
            let m = e.llm(main, "", Role::Work);
            let again = e.tool(main, m, Call::Tests, true, Role::Work);
            if again.is_some() {
                tests = again;
            }
        }
        let text = match &tests {
            Some(Ok(_)) => {
                format!("serde_json is now at 1.0.{v}{extra}, and the test suite passes.")
            }
            Some(Err(t)) => format!(
                "I bumped serde_json to 1.0.{v}, but the build fails: {}",
                t.lines().next().unwrap_or_default()
            ),
            None => format!("I bumped serde_json to 1.0.{v}; I haven't run the tests."),
        };
        answer(e, main, text)
    }

    fn verify(&self, env: &Env, answer: Option<&str>) -> Evidence {
        let toml = env.files.get("Cargo.toml").cloned().unwrap_or_default();
        let json = dep_patch(&toml, "serde_json");
        if json != Some(self.latest) {
            return ev(
                "dep-bump",
                false,
                format!(
                    "serde_json is at {} (expected 1.0.{})",
                    json.map(|j| format!("1.0.{j}"))
                        .unwrap_or_else(|| "an unparsable version".into()),
                    self.latest
                ),
            );
        }
        if env.test_report().is_err() {
            return ev(
                "dep-bump",
                false,
                "the test suite fails on the final Cargo.toml".into(),
            );
        }
        if !answer.is_some_and(|a| a.contains("the test suite passes")) {
            return ev(
                "dep-bump",
                false,
                "the reply does not confirm that the tests pass".into(),
            );
        }
        ev(
            "dep-bump",
            true,
            format!("serde_json 1.0.{} with a passing test suite", self.latest),
        )
    }
}

// ---------------------------------------------------------------------------------
// 7. A pool-size change in two similar env files (similar but needed, derived total).

#[derive(Debug, Clone)]
pub(crate) struct Pool {
    staging: u64,
    prod: u64,
    explore_dev: bool,
    draft: bool,
    mistake: bool,
}

fn env_file(name: &str, pool: u64) -> String {
    format!(
        "# {name}\nAPP_ENV={name}\nDB_HOST=db.{name}.internal\nDB_POOL_SIZE={pool}\nDB_TIMEOUT_MS=5000\n"
    )
}

fn raise(v: u64, round_up: bool) -> u64 {
    if round_up {
        (v * 3).div_ceil(2)
    } else {
        v * 3 / 2
    }
}

impl Pool {
    fn generate(rng: &mut SplitMix64, mistake: bool, env: &mut Env) -> Pool {
        let mut staging = rng.range(8, 30);
        if mistake && staging.is_multiple_of(2) {
            staging += 1;
        }
        let prod = rng.range(20, 80);
        env.put("config/staging.env", env_file("staging", staging));
        env.put("config/prod.env", env_file("prod", prod));
        env.put("config/dev.env", env_file("dev", 5));
        Pool {
            staging,
            prod,
            explore_dev: rng.chance(40),
            draft: rng.chance(30),
            mistake,
        }
    }

    fn run(&self, e: &mut Engine, main: &mut Agent) -> Reply {
        let up = !self.mistake;
        let m = e.llm(main, "Reading both env files.", Role::Work);
        let s = e.tool(
            main,
            m,
            Call::FsRead("config/staging.env".into()),
            true,
            Role::SimilarNeeded,
        );
        let p = e.tool(
            main,
            m,
            Call::FsRead("config/prod.env".into()),
            true,
            Role::SimilarNeeded,
        );
        if self.explore_dev {
            e.tool(
                main,
                m,
                Call::FsRead("config/dev.env".into()),
                true,
                Role::UnusedExplore,
            );
        }
        let bump = |t: &str| -> (String, u64) {
            let mut n = 0;
            let out: Vec<String> = t
                .lines()
                .map(|l| {
                    match l
                        .strip_prefix("DB_POOL_SIZE=")
                        .and_then(|v| v.parse::<u64>().ok())
                    {
                        Some(v) => {
                            n = raise(v, up);
                            format!("DB_POOL_SIZE={n}")
                        }
                        None => l.to_owned(),
                    }
                })
                .collect();
            (out.join("\n") + "\n", n)
        };
        let s = ok(&s).map(bump);
        let p = ok(&p).map(bump);
        if self.draft {
            let m = e.llm(main, "", Role::Work);
            let draft = p
                .as_ref()
                .map(|(t, _)| {
                    t.lines()
                        .filter(|l| !l.starts_with("DB_TIMEOUT"))
                        .collect::<Vec<_>>()
                        .join("\n")
                        + "\n"
                })
                .unwrap_or_default();
            e.tool(
                main,
                m,
                Call::FsWrite("config/prod.env".into(), draft),
                p.is_some(),
                Role::DeadStore,
            );
        }
        let m = e.llm(main, "", Role::Work);
        let mut total = 0;
        let mut done = 0;
        for (path, v) in [("config/staging.env", &s), ("config/prod.env", &p)] {
            let (text, n) = v.clone().unwrap_or_default();
            let r = e.tool(
                main,
                m,
                Call::FsWrite(path.into(), text),
                v.is_some(),
                Role::Work,
            );
            if ok(&r).is_some() {
                total += n;
                done += 1;
            }
        }
        let text = if done == 2 {
            format!(
                "Both files are updated; that makes {total} pool connections across staging and prod."
            )
        } else {
            "I could only update one of the two env files.".into()
        };
        answer(e, main, text)
    }

    fn verify(&self, env: &Env, answer: Option<&str>) -> Evidence {
        let (s, p) = (raise(self.staging, true), raise(self.prod, true));
        for (name, want) in [("staging", s), ("prod", p)] {
            let path = format!("config/{name}.env");
            if env.files.get(&path) != Some(&env_file(name, want)) {
                return ev(
                    "pool-size",
                    false,
                    format!(
                        "{path} does not have DB_POOL_SIZE={want} with its other settings intact"
                    ),
                );
            }
        }
        if !answer.is_some_and(|a| a.contains(&format!("{} pool connections", s + p))) {
            return ev(
                "pool-size",
                false,
                format!("the reply does not give the total of {}", s + p),
            );
        }
        ev(
            "pool-size",
            true,
            format!("staging {s}, prod {p}, total {}", s + p),
        )
    }
}

// ---------------------------------------------------------------------------------
// 8. A yes/no status question (unquoted yes/no, empty listing as an answer).

#[derive(Debug, Clone)]
pub(crate) struct Check {
    svc: String,
    green: bool,
    pending: Vec<String>,
    explore_prod: bool,
    recheck: bool,
    mistake: bool,
}

impl Check {
    fn generate(rng: &mut SplitMix64, mistake: bool, env: &mut Env) -> Check {
        let svc = *rng.pick(&["payments", "inventory", "notifications", "search"]);
        let green = !mistake && rng.chance(75);
        let checks = |ok: bool| {
            if ok {
                "status=passing checks=14/14 last_run=09:41".to_owned()
            } else {
                "status=failing checks=11/14 failing=[db_migrate_smoke,ledger_balance,webhook_retry] last_run=09:41".to_owned()
            }
        };
        env.kv
            .insert(format!("health/staging/{svc}"), checks(green));
        env.kv.insert(format!("health/prod/{svc}"), checks(true));
        env.put("migrations/pending/.keep", "");
        env.put(
            "migrations/applied/0041_orders_currency.sql",
            "ALTER TABLE orders ADD COLUMN currency text;\n",
        );
        let mut pending = Vec::new();
        if rng.chance(30) {
            let name = "0042_add_sku_index.sql".to_owned();
            env.put(
                &format!("migrations/pending/{name}"),
                "CREATE INDEX orders_sku ON orders (sku);\n",
            );
            pending.push(name);
        }
        Check {
            svc: svc.into(),
            green,
            pending,
            explore_prod: rng.chance(40),
            recheck: !mistake && rng.chance(35),
            mistake,
        }
    }

    fn phrase_health(&self, status: Option<&str>) -> String {
        match status {
            Some(t) if t.starts_with("status=passing") => {
                format!("Yes, {} is green on staging", self.svc)
            }
            Some(_) => format!("No, {} is not green on staging", self.svc),
            None => "I couldn't confirm the staging health".into(),
        }
    }

    fn phrase_migrations(listing: Option<&str>) -> String {
        match listing {
            Some("") => "there are no pending migrations".into(),
            Some(t) => format!("{} migration(s) are still pending", t.lines().count()),
            None => "I couldn't check for pending migrations".into(),
        }
    }

    fn run(&self, e: &mut Engine, main: &mut Agent) -> Reply {
        let where_ = if self.mistake { "prod" } else { "staging" };
        let m = e.llm(main, "", Role::Work);
        let h = e.tool(
            main,
            m,
            Call::KvGet(format!("health/{where_}/{}", self.svc)),
            true,
            Role::Decision,
        );
        let role = if self.pending.is_empty() {
            Role::EmptyCheck
        } else {
            Role::Work
        };
        let l = e.tool(
            main,
            m,
            Call::Shell("ls migrations/pending/".into()),
            true,
            role,
        );
        if self.explore_prod {
            e.tool(
                main,
                m,
                Call::KvGet(format!("health/prod/{}", self.svc)),
                true,
                Role::UnusedExplore,
            );
        }
        if self.recheck {
            let m = e.llm(
                main,
                "Making sure the health status is current.",
                Role::Work,
            );
            e.tool(
                main,
                m,
                Call::KvGet(format!("health/staging/{}", self.svc)),
                true,
                Role::RedundantRecheck,
            );
        }
        let text = format!(
            "{}, and {}.",
            self.phrase_health(ok(&h)),
            Check::phrase_migrations(ok(&l))
        );
        answer(e, main, text)
    }

    fn verify(&self, _env: &Env, answer: Option<&str>) -> Evidence {
        let status = if self.green {
            "status=passing"
        } else {
            "status=failing"
        };
        let listing = self.pending.join("\n");
        let want = format!(
            "{}, and {}.",
            self.phrase_health(Some(status)),
            Check::phrase_migrations(Some(&listing))
        );
        if answer == Some(want.as_str()) {
            ev("status-check", true, format!("correct: {want}"))
        } else {
            ev(
                "status-check",
                false,
                format!("expected the answer: {want}"),
            )
        }
    }
}
