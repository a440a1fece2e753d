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

/// The JSON block of a report.
fn data(html: &str) -> serde_json::Value {
    let open = "<script type=\"application/json\" id=\"tracecard-data\">";
    let start = html.find(open).unwrap() + open.len();
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end]).unwrap()
}

#[test]
fn patches_and_rules_from_files_or_distilled_here() {
    let dir = std::env::temp_dir().join(format!("tracecard-report-cc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let o = tracecard(&[
        "distill".as_ref(),
        examples().as_os_str(),
        "-o".as_ref(),
        dir.as_os_str(),
        "--allow-backfire".as_ref(),
        "all".as_ref(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let patches = dir.join("patches.yaml");
    let rules = dir.join("rules.yaml");
    let o = tracecard(&[
        "report".as_ref(),
        examples().as_os_str(),
        "--patches".as_ref(),
        patches.as_os_str(),
        "--rules".as_ref(),
        rules.as_os_str(),
        "-o".as_ref(),
        "-".as_ref(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let from_files = data(&String::from_utf8_lossy(&o.stdout));
    let rule_count = std::fs::read_to_string(&rules)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("- id: "))
        .count();
    assert!(rule_count > 0);
    assert_eq!(
        from_files["costcraft"]["rules"].as_array().unwrap().len(),
        rule_count
    );
    let kept = std::fs::read_to_string(&patches)
        .unwrap()
        .split("\nrefused:")
        .next()
        .unwrap()
        .matches("- patch_kind: ")
        .count();
    let shown: usize = from_files["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s["patches"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p[7].is_null())
                .count()
        })
        .sum();
    assert_eq!(shown, kept, "every kept patch is on a step");
    assert!(
        from_files["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["cc_unmatched"] == 0)
    );
    // --distill computes the same patches and rules in-process
    let o = tracecard(&[
        "report".as_ref(),
        examples().as_os_str(),
        "--distill".as_ref(),
        "-o".as_ref(),
        "-".as_ref(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let here = data(&String::from_utf8_lossy(&o.stdout));
    assert_eq!(here["costcraft"]["rules"], from_files["costcraft"]["rules"]);
    for (a, b) in here["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .zip(from_files["sessions"].as_array().unwrap())
    {
        assert_eq!(a["patches"], b["patches"], "{}", a["id"]);
        assert_eq!(a["rule_links"], b["rule_links"], "{}", a["id"]);
    }
    // bad inputs are usage errors
    let o = tracecard(&[
        "report".as_ref(),
        examples().as_os_str(),
        "--patches".as_ref(),
        rules.as_os_str(),
        "-o".as_ref(),
        "-".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let o = tracecard(&[
        "report".as_ref(),
        examples().as_os_str(),
        "--distill".as_ref(),
        "--no-analysis".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).ok();
}

#[cfg(unix)]
#[test]
fn replayer_confirms_the_verdicts_shown() {
    let one = examples().join("config-question.jsonl");
    let run = |cmd: &str| {
        tracecard(&[
            "report".as_ref(),
            one.as_os_str(),
            "--replayer".as_ref(),
            cmd.as_ref(),
            "--replay-timeout".as_ref(),
            "5".as_ref(),
            "-o".as_ref(),
            "-".as_ref(),
        ])
    };
    let o = run("cat > /dev/null; echo '{\"status\": \"success\"}'");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let d = data(&String::from_utf8_lossy(&o.stdout));
    let strings = d["strings"].as_array().unwrap();
    let confirmed: Vec<&str> = d["sessions"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r[12].as_i64().filter(|&i| i >= 0))
        .filter_map(|i| strings[i as usize].as_str())
        .collect();
    assert!(
        confirmed.iter().any(|c| c.starts_with("replay:")),
        "{confirmed:?}"
    );
    assert!(d["sessions"][0]["replays_used"].as_u64().unwrap() > 0);
    // a failing replayer: exit 3, the report is still written
    let o = run("echo 'harness broke' >&2; exit 4");
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("<!DOCTYPE html>"));
    assert!(String::from_utf8_lossy(&o.stderr).contains("replay failed"));
}
