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
