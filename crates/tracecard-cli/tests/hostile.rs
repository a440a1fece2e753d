//! The CLI on hostile input (issue 14): no panic, no hang, no silent overwrite or skip.

use std::path::PathBuf;
use std::process::{Command, Output};

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "tracecard-cli-hostile-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tracecard"))
        .args(args)
        .output()
        .unwrap()
}

fn native(id: &str, tokens: u64) -> String {
    format!(
        "{{\"record\":\"session\",\"version\":1,\"session_id\":\"{id}\"}}\n\
         {{\"record\":\"step\",\"kind\":\"llm_call\",\"model\":\"gpt-4.1-mini\",\"tokens\":{{\"input\":{tokens},\"output\":1}}}}\n"
    )
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn one_session_id_in_two_files_gives_two_cards_not_one_overwritten() {
    let d = dir("dup");
    std::fs::write(d.join("a.jsonl"), native("same", 10)).unwrap();
    std::fs::write(d.join("b.jsonl"), native("same", 20)).unwrap();
    let out = d.join("cards/");
    let (a, b) = (d.join("a.jsonl"), d.join("b.jsonl"));
    let o = run(&[
        "compile".as_ref(),
        a.as_os_str(),
        b.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut names: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["same-2.card.yaml", "same.card.yaml"]);
    assert!(
        stderr(&o).contains("appears more than once"),
        "{}",
        stderr(&o)
    );
}

#[cfg(unix)]
#[test]
fn symlinks_and_fifos_in_a_walked_directory_are_noted() {
    let d = dir("links");
    std::fs::write(d.join("a.jsonl"), native("s1", 10)).unwrap();
    std::os::unix::fs::symlink(&d, d.join("loop")).unwrap();
    assert!(
        Command::new("mkfifo")
            .arg(d.join("pipe.jsonl"))
            .status()
            .unwrap()
            .success()
    );
    let o = run(&["compile".as_ref(), d.as_os_str(), "--summary".as_ref()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("skipped symlink") && e.contains("loop"), "{e}");
    assert!(
        e.contains("pipe.jsonl") && e.contains("not a regular file"),
        "{e}"
    );
}

#[cfg(unix)]
#[test]
fn fifo_and_dev_zero_named_explicitly_fail_fast_with_the_file_named() {
    let d = dir("fifo");
    let fifo = d.join("pipe.jsonl");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    for args in [
        vec!["compile".as_ref(), fifo.as_os_str()],
        vec!["query".as_ref(), "unread-tools".as_ref(), fifo.as_os_str()],
        vec!["compile".as_ref(), "/dev/zero".as_ref()],
        vec![
            "price".as_ref(),
            "gpt-4.1-mini".as_ref(),
            "--prices".as_ref(),
            "/dev/zero".as_ref(),
        ],
    ] {
        let o = run(&args);
        let e = stderr(&o);
        assert!(!o.status.success(), "{args:?}");
        assert_ne!(o.status.code(), Some(101), "panic: {e}");
        assert!(e.contains("pipe.jsonl") || e.contains("/dev/zero"), "{e}");
        assert!(e.contains("regular file"), "{e}");
    }
}

#[test]
fn price_of_ten_billion_is_refused_not_printed_negative() {
    let d = dir("price");
    let p = d.join("p.json");
    std::fs::write(
        &p,
        r#"{"m": {"input_cost_per_token": 10000, "output_cost_per_token": 1}}"#,
    )
    .unwrap();
    let o = run(&[
        "price".as_ref(),
        "m".as_ref(),
        "--prices".as_ref(),
        p.as_os_str(),
    ]);
    assert!(!o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(!out.contains('-'), "{out}");
    assert!(stderr(&o).contains("per million"), "{}", stderr(&o));
}

#[test]
fn query_unread_tools_reads_on_past_a_bad_file_and_names_skipped_lines() {
    let d = dir("query");
    let good = native("good-session", 10);
    std::fs::write(d.join("a-good.jsonl"), &good).unwrap();
    // a record broken in the middle of the file: an error, not the end of the walk
    std::fs::write(
        d.join("b-broken.jsonl"),
        format!("{good}{{\"record\":\"step\",\"kind\":\n{}", native("x", 1)),
    )
    .unwrap();
    // a session still being written: its last line is cut
    std::fs::write(
        d.join("c-running.jsonl"),
        format!(
            "{}{{\"record\":\"step\",\"kind\":\"llm_c",
            native("running", 5)
        ),
    )
    .unwrap();
    let o = run(&["query".as_ref(), "unread-tools".as_ref(), d.as_os_str()]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(e.contains("b-broken.jsonl:3"), "{e}");
    assert!(
        e.contains("c-running.jsonl:3") && e.contains("truncated_line"),
        "{e}"
    );
    assert!(e.contains("1 file(s) could not be read"), "{e}");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("unread tool call(s)"), "{out}");
}

#[test]
fn cards_of_an_absolute_input_path_carry_no_machine_path() {
    let d = dir("abs");
    // a Claude Code file cut mid-line (a warning naming the file) and a native trace
    std::fs::write(d.join("n.jsonl"), native("abs-session", 10)).unwrap();
    let cut = format!("{}{{\"record\":\"step\"", native("abs-cut", 3));
    std::fs::write(d.join("cut.jsonl"), cut).unwrap();
    let d = std::fs::canonicalize(&d).unwrap();
    let os = |s: &str| std::ffi::OsString::from(s);
    for args in [
        vec![os("compile"), d.join("n.jsonl").into_os_string()],
        vec![os("compile"), d.join("cut.jsonl").into_os_string()],
        vec![os("compile"), d.clone().into_os_string()],
        vec![
            os("compile"),
            d.clone().into_os_string(),
            os("--format"),
            os("json"),
        ],
    ] {
        let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        let o = run(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            out.contains("cut.jsonl") || out.contains("n.jsonl"),
            "{out}"
        );
        assert!(
            !out.contains(&*d.to_string_lossy()),
            "absolute path in the card: {out}"
        );
    }
}
