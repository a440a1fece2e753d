//! The `steps` and `sessions` tables on the shared real-trace fixtures: committed
//! schemas, Parquet round trip, determinism, exact money, and in-memory grouping
//! (what the Spark and Ray jobs use) equal to compiling from disk.

use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{Decimal128Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use tracecard_arrow::batch::{compile_files, compile_paths};
use tracecard_arrow::{Tables, schema_text, sessions_schema, steps_schema};
use tracecard_core::import::ContentOptions;
use tracecard_core::{Compiler, TraceCard};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `$TRACECARD_FIXTURES`, else `<workspace>/../shared/fixtures`; missing fails under CI.
fn fixtures() -> Option<PathBuf> {
    let root = std::env::var_os("TRACECARD_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/fixtures"));
    if root.is_dir() {
        return Some(root);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("fixtures not found at {} (CI=true)", root.display());
    }
    eprintln!("skipping: fixtures not found at {}", root.display());
    None
}

fn cards(root: &Path) -> Vec<TraceCard> {
    compile_paths(
        &[root.to_path_buf()],
        &Compiler::new(),
        ContentOptions::default(),
    )
    .expect("the fixtures compile")
}

fn read_parquet(path: &Path) -> RecordBatch {
    let f = std::fs::File::open(path).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(f)
        .unwrap()
        .with_batch_size(1 << 20)
        .build()
        .unwrap();
    let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    arrow_select_concat(&batches)
}

fn arrow_select_concat(batches: &[RecordBatch]) -> RecordBatch {
    assert_eq!(batches.len(), 1, "one batch per file at this size");
    batches[0].clone()
}

#[test]
fn committed_schemas_match() {
    for (file, schema) in [
        ("schema/steps.arrow.txt", steps_schema()),
        ("schema/sessions.arrow.txt", sessions_schema()),
    ] {
        let committed = std::fs::read_to_string(repo().join(file)).unwrap();
        assert_eq!(
            committed,
            schema_text(&schema),
            "{file} is stale: regenerate it with `tracecard schema --table steps|sessions`"
        );
    }
}

#[test]
fn parquet_round_trip_on_the_fixtures() {
    let Some(root) = fixtures() else { return };
    let cards = cards(&root);
    assert!(cards.len() >= 60, "{} sessions", cards.len());
    let tables = Tables::from_cards(&cards).unwrap();
    let n_steps: usize = cards.iter().map(|c| c.steps.len()).sum();
    assert_eq!(tables.steps.num_rows(), n_steps);
    assert_eq!(tables.sessions.num_rows(), cards.len());

    let dir = std::env::temp_dir().join(format!("tracecard-arrow-rt-{}", std::process::id()));
    tables.write_parquet(&dir).unwrap();
    let steps = read_parquet(&dir.join("steps.parquet"));
    let sessions = read_parquet(&dir.join("sessions.parquet"));
    assert_eq!(steps, tables.steps);
    assert_eq!(sessions, tables.sessions);
    // zstd on every column chunk
    let f = std::fs::File::open(dir.join("steps.parquet")).unwrap();
    let meta = ParquetRecordBatchReaderBuilder::try_new(f)
        .unwrap()
        .metadata()
        .clone();
    for rg in meta.row_groups() {
        for c in rg.columns() {
            assert!(matches!(
                c.compression(),
                parquet::basic::Compression::ZSTD(_)
            ));
        }
    }
    // same cards, same bytes
    let first = std::fs::read(dir.join("steps.parquet")).unwrap();
    Tables::from_cards(&cards)
        .unwrap()
        .write_parquet(&dir)
        .unwrap();
    assert_eq!(first, std::fs::read(dir.join("steps.parquet")).unwrap());
    std::fs::remove_dir_all(&dir).unwrap();

    // exact money: each session's total is the card's, to the nano-dollar, and
    // equals the sum of its steps' cost_usd column
    let total = sessions
        .column_by_name("total_cost_usd")
        .unwrap()
        .as_primitive::<Decimal128Type>();
    let cost = steps
        .column_by_name("cost_usd")
        .unwrap()
        .as_primitive::<Decimal128Type>();
    let nsteps = sessions
        .column_by_name("steps")
        .unwrap()
        .as_primitive::<Int64Type>();
    let mut at = 0usize;
    for (i, c) in cards.iter().enumerate() {
        assert_eq!(total.value(i), i128::from(c.total_cost_usd.nanos()));
        let n = nsteps.value(i) as usize;
        let sum: i128 = (at..at + n)
            .filter(|&j| cost.is_valid(j))
            .map(|j| cost.value(j))
            .sum();
        assert_eq!(sum, total.value(i), "session {}", c.session_id);
        at += n;
    }
    assert_eq!(at, steps.num_rows());
    // the verdicts of the cards are in the table
    let redundant = steps.column_by_name("redundant").unwrap().as_boolean();
    let flagged: usize = cards
        .iter()
        .flat_map(|c| &c.steps)
        .filter(|s| s.redundant)
        .count();
    assert!(flagged > 0);
    assert_eq!(redundant.true_count(), flagged);
    // no machine paths: source_file is a base name
    let files = sessions
        .column_by_name("source_file")
        .unwrap()
        .as_string::<i32>();
    for f in files.iter().flatten() {
        assert!(!f.contains('/'), "{f}");
    }
}

/// Every regular file under `root`, as an engine's binary-file source sees it.
fn all_files(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let b = std::fs::read(&p).unwrap();
                out.push((p, b));
            }
        }
    }
    out
}

#[test]
fn in_memory_groups_equal_compiling_from_disk() {
    let Some(root) = fixtures() else { return };
    let from_disk = Tables::from_cards(&cards(&root)).unwrap();
    let mut files = all_files(&root);
    files.reverse(); // order of arrival does not matter
    let in_memory = compile_files(files, &Compiler::new(), ContentOptions::default()).unwrap();
    let in_memory = Tables::from_cards(&in_memory).unwrap();
    assert_eq!(in_memory.sessions, from_disk.sessions);
    assert_eq!(in_memory.steps, from_disk.steps);
}

#[test]
fn subagent_files_stay_with_their_parent() {
    let Some(root) = fixtures() else { return };
    let dir = root.join("claude-code/spotter");
    let parent = dir.join("fa812bfe-b295-4cca-9c2f-fdf01028cb46.jsonl");
    let subs = dir.join("fa812bfe-b295-4cca-9c2f-fdf01028cb46/subagents");
    let mut files = vec![(parent.clone(), std::fs::read(&parent).unwrap())];
    let sub_files: Vec<PathBuf> = std::fs::read_dir(&subs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(sub_files.len(), 3);
    for p in &sub_files {
        files.push((p.clone(), std::fs::read(p).unwrap()));
    }
    let c = Compiler::new();
    let together = compile_files(files.clone(), &c, ContentOptions::default()).unwrap();
    assert_eq!(
        together.len(),
        1,
        "the sub-agent files are part of one session"
    );
    let on_disk =
        compile_paths(std::slice::from_ref(&parent), &c, ContentOptions::default()).unwrap();
    assert_eq!(together, on_disk);
    // without its sub-agent files the parent has fewer steps (they really are read)
    let alone = compile_files(vec![files[0].clone()], &c, ContentOptions::default()).unwrap();
    assert!(alone[0].steps.len() < together[0].steps.len());
    // and a sub-agent file without its parent is a session of its own
    let orphan = compile_files(vec![files[1].clone()], &c, ContentOptions::default()).unwrap();
    assert_eq!(orphan.len(), 1);
    assert_eq!(
        tracecard_core::import::session_key(&files[1].0),
        parent,
        "the key of a sub-agent file is its parent session file"
    );
}

#[test]
fn empty_and_unknown_files_are_skipped_in_memory() {
    let files = vec![
        (PathBuf::from("a/README.md"), b"# notes\n".to_vec()),
        (PathBuf::from("a/empty.jsonl"), Vec::new()),
    ];
    let cards = compile_files(files, &Compiler::new(), ContentOptions::default()).unwrap();
    assert!(cards.is_empty());
    // a file that claims a format and is broken is an error naming it
    let bad = vec![(
        PathBuf::from("b/s.jsonl"),
        b"{\"parentUuid\":null,\"sessionId\":\"x\",\"type\":\"user\"}\n{not json\n".to_vec(),
    )];
    let e = compile_files(bad, &Compiler::new(), ContentOptions::default()).unwrap_err();
    assert!(e.to_string().contains("b/s.jsonl"), "{e}");
}
