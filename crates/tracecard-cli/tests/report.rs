//! `tracecard report`: one HTML file from the command line.

use std::path::PathBuf;
use std::process::Command;

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/traces")
}

fn tracecard(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tracecard"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn report_of_a_directory_is_one_self_contained_file() {
    let dir = std::env::temp_dir().join(format!("tracecard-report-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("report.html");
    let o = tracecard(&[
        "report".as_ref(),
        examples().as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    for id in ["config-question", "fix-test", "todo-audit", "agent-3"] {
        assert!(html.contains(&format!("\"id\":\"{id}\"")), "{id} missing");
    }
    assert!(!html.contains("https://") && !html.contains("http://"));
    // the examples' absolute location is not in the file
    let abs = examples().canonicalize().unwrap();
    assert!(!html.contains(abs.to_str().unwrap()));
    // same input, same bytes; `-o -` writes the same page to stdout
    let o2 = tracecard(&[
        "report".as_ref(),
        examples().as_os_str(),
        "-o".as_ref(),
        "-".as_ref(),
    ]);
    assert_eq!(o2.status.code(), Some(0));
    assert_eq!(o2.stdout, html.as_bytes());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn an_unreadable_file_is_reported_and_the_rest_still_goes_in() {
    let dir = std::env::temp_dir().join(format!("tracecard-report-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.jsonl");
    std::fs::write(&bad, "{\"not\": \"a trace\"\n").unwrap();
    let good = examples().join("fix-test.jsonl");
    let o = tracecard(&[
        "report".as_ref(),
        good.as_os_str(),
        bad.as_os_str(),
        "-o".as_ref(),
        "-".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("\"id\":\"fix-test\""));
    assert!(String::from_utf8_lossy(&o.stderr).contains("error:"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn report_of_nothing_fails() {
    let o = tracecard(&[
        "report".as_ref(),
        "/nonexistent/trace.jsonl".as_ref(),
        "-o".as_ref(),
        "-".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
}
