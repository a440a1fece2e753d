//! Card paths (issue 14, item 5): every path a card carries is the file's path
//! relative to the parent of the input argument it was found under, so the same
//! tree compiled by an absolute path, a relative one, `../x/logs`, `.` or `./logs/`,
//! on any machine, gives byte-identical cards with no absolute path in them.
//! Real Claude Code transcripts (one with a `subagents/` folder) are copied from the
//! fixtures into a temp dir by the test.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const SESSION: &str = "fa812bfe-b295-4cca-9c2f-fdf01028cb46";

/// `$TRACECARD_FIXTURES/claude-code/spotter`, else the shared fixtures; missing
/// fails under CI.
fn spotter() -> Option<PathBuf> {
    let root = std::env::var_os("TRACECARD_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures")
        })
        .join("claude-code/spotter");
    if root.is_dir() {
        return Some(root);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "fixtures missing under CI: {}",
        root.display()
    );
    eprintln!("skipped: no fixtures at {}", root.display());
    None
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::write(&target, std::fs::read(e.path()).unwrap()).unwrap();
        }
    }
}

/// A "machine": `<tmp>/<name>/a/b/logs/proj/{short.jsonl, SESSION.jsonl,
/// SESSION/subagents/*, sub/tool_heavy.jsonl}` and an empty `a/c`. Returns `a`.
fn machine(fx: &Path, name: &str) -> PathBuf {
    let top = std::env::temp_dir().join(format!(
        "tracecard-card-paths-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&top);
    let a = top.join("a");
    let proj = a.join("b/logs/proj");
    std::fs::create_dir_all(proj.join("sub")).unwrap();
    std::fs::create_dir_all(a.join("c")).unwrap();
    for f in ["short.jsonl", &format!("{SESSION}.jsonl")] {
        std::fs::copy(fx.join(f), proj.join(f)).unwrap();
    }
    std::fs::copy(
        fx.join("tool_heavy.jsonl"),
        proj.join("sub/tool_heavy.jsonl"),
    )
    .unwrap();
    copy_dir(&fx.join(SESSION), &proj.join(SESSION));
    // canonical, so that the "no absolute path" checks see the path the CLI sees
    std::fs::canonicalize(&a).unwrap()
}

fn run(cwd: &Path, args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_tracecard"))
        .current_dir(cwd)
        .args(args)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{args:?} in {}: {}",
        cwd.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// Every output file of `dir`, by name.
fn files_of(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn cards(json: &str) -> Vec<Value> {
    match serde_json::from_str(json).unwrap() {
        Value::Array(a) => a,
        one => vec![one],
    }
}

fn files(card: &Value) -> Vec<String> {
    card["source"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_owned())
        .collect()
}

fn session_files(session: &str, prefix: &str) -> Vec<String> {
    let mut v = vec![format!("{prefix}{session}.jsonl")];
    for a in ["agent-a93ccab", "agent-aa84377", "agent-acompact-70d8e7"] {
        v.push(format!("{prefix}{session}/subagents/{a}.jsonl"));
    }
    v
}

#[test]
fn every_form_of_the_input_argument_gives_the_same_cards_on_any_machine() {
    let Some(fx) = spotter() else { return };
    let m1 = machine(&fx, "m1");
    let m2 = machine(&fx, "second-machine");
    let b = m1.join("b");
    let abs = b.join("logs");
    let abs = abs.to_str().unwrap();
    // (cwd, argument): all name the same folder
    let forms: Vec<(PathBuf, &str)> = vec![
        (m1.clone(), abs),
        (b.clone(), "logs"),
        (m1.join("c"), "../b/logs"),
        (b.join("logs"), "."),
        (b.clone(), "./logs/"),
        (m2.join("b"), "logs"),
    ];
    let mut json = Vec::new();
    let mut dirs = Vec::new();
    for (i, (cwd, arg)) in forms.iter().enumerate() {
        json.push(run(cwd, &["compile", arg, "--format", "json"]));
        let out = m1.parent().unwrap().join(format!("out-{i}"));
        let _ = std::fs::remove_dir_all(&out);
        let o = format!("{}/", out.display());
        run(cwd, &["compile", arg, "-o", &o]);
        dirs.push(files_of(&out));
        std::fs::remove_dir_all(&out).unwrap();
    }
    for (i, (cwd, arg)) in forms.iter().enumerate().skip(1) {
        assert!(
            json[i] == json[0],
            "`compile {arg}` in {} differs from `compile {abs}`",
            cwd.display()
        );
        assert_eq!(dirs[i], dirs[0], "-o dir/ of `compile {arg}`");
    }
    assert_eq!(dirs[0].len(), 3, "{:?}", dirs[0].iter().map(|d| &d.0));
    let cs = cards(&json[0]);
    let mut all: Vec<Vec<String>> = cs.iter().map(files).collect();
    all.sort();
    assert_eq!(
        all,
        [
            session_files(SESSION, "logs/proj/"),
            vec!["logs/proj/short.jsonl".to_owned()],
            vec!["logs/proj/sub/tool_heavy.jsonl".to_owned()],
        ]
    );
    // warnings name the same paths
    for c in &cs {
        for w in c["warnings"].as_array().unwrap() {
            if let Some(f) = w["file"].as_str() {
                assert!(files(c).iter().any(|x| x == f), "{f} not among {c:?}");
            }
        }
    }
    // nothing of either machine anywhere: cards, summary, cost
    for (cwd, arg) in &forms {
        let summary = run(cwd, &["compile", arg, "--summary"]);
        let cost = run(cwd, &["cost", arg, "--json"]);
        for (what, out) in [("json", &json[0]), ("summary", &summary), ("cost", &cost)] {
            for m in [&m1, &m2] {
                let top = m.parent().unwrap().to_string_lossy().into_owned();
                assert!(!out.contains(&top), "{what} of `{arg}` names {top}");
            }
        }
    }
    for m in [&m1, &m2] {
        std::fs::remove_dir_all(m.parent().unwrap()).unwrap();
    }
}

#[test]
fn a_file_argument_names_the_file_and_its_subagent_companions() {
    let Some(fx) = spotter() else { return };
    let m = machine(&fx, "file");
    let logs = m.join("b/logs");
    let file = logs.join(format!("proj/{SESSION}.jsonl"));
    let by_abs = run(&m, &["compile", file.to_str().unwrap(), "--format", "json"]);
    let rel = format!("proj/{SESSION}.jsonl");
    let by_rel = run(&logs, &["compile", &rel, "--format", "json"]);
    assert!(
        by_abs == by_rel,
        "absolute and relative file argument differ"
    );
    let c = &cards(&by_abs)[0];
    assert_eq!(files(c), session_files(SESSION, ""));
    let top = m.parent().unwrap().to_string_lossy().into_owned();
    assert!(!by_abs.contains(&top), "{by_abs}");
    // a file in a sub-folder, named by its folder: the folder's name leads
    let sub = run(&logs, &["compile", "proj/sub", "--format", "json"]);
    assert_eq!(files(&cards(&sub)[0]), ["sub/tool_heavy.jsonl"]);
    // several arguments: each file relative to its own argument's parent
    let both = run(
        &logs,
        &[
            "compile",
            "proj/short.jsonl",
            "proj/sub",
            "--format",
            "json",
        ],
    );
    let mut names: Vec<Vec<String>> = cards(&both).iter().map(files).collect();
    names.sort();
    assert_eq!(
        names,
        [
            vec!["short.jsonl".to_owned()],
            vec!["sub/tool_heavy.jsonl".to_owned()]
        ]
    );
    std::fs::remove_dir_all(m.parent().unwrap()).unwrap();
}
