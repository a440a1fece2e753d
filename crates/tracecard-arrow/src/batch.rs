//! Compiling many sessions at once, in parallel (rayon), from paths or from
//! in-memory files: what `compile_many` in Python and the Spark and Ray jobs run.
//!
//! Files are grouped into sessions as the CLI groups them: a directory is walked
//! with [`import::discover`], in-memory files with [`import::group_inputs`] (a
//! Claude Code session's `subagents/` and `otel/` files go with their parent).
//! Files no importer recognises are skipped when they come from a directory walk
//! or an in-memory batch, and are an error when named explicitly. Cards come back
//! in path order, each file's sessions in file order.

use std::path::PathBuf;

use rayon::prelude::*;
use tracecard_core::import::{self, ContentOptions, Input};
use tracecard_core::{Compiler, InputRoot, TraceCard};

/// Compile every session under `paths` (files or directories), in parallel on the
/// current rayon pool. The first failure (in path order) is returned; its message
/// names the file.
pub fn compile_paths(
    paths: &[PathBuf],
    compiler: &Compiler<'_>,
    content: ContentOptions,
) -> Result<Vec<TraceCard>, tracecard_core::Error> {
    // each file with the argument it was found under: cards name files relative to it
    let mut files: Vec<(PathBuf, bool, InputRoot)> = Vec::new();
    for p in paths {
        let root = InputRoot::of(p);
        if p.is_dir() {
            files.extend(
                import::discover(p)?
                    .into_iter()
                    .map(|f| (f, false, root.clone())),
            );
        } else {
            files.push((p.clone(), true, root));
        }
    }
    let per_file: Vec<Result<Vec<TraceCard>, tracecard_core::Error>> = files
        .par_iter()
        .map(|(path, explicit, root)| {
            let format = import::detect(path)?;
            if format.is_none() && !explicit {
                return Ok(Vec::new());
            }
            let traces = import::load_under(root, path, format, content)?;
            traces.iter().map(|t| compiler.compile(t)).collect()
        })
        .collect();
    flatten(per_file)
}

/// Compile in-memory files (`(path, bytes)`, e.g. the rows of Spark's `binaryFile`
/// source or Ray's `read_binary_files`), grouped into sessions by
/// [`import::group_inputs`], in parallel on the current rayon pool. Files no
/// importer recognises are skipped. `path` names the file in messages and decides
/// the grouping and format detection; nothing is read from disk.
pub fn compile_files(
    files: Vec<(PathBuf, Vec<u8>)>,
    compiler: &Compiler<'_>,
    content: ContentOptions,
) -> Result<Vec<TraceCard>, tracecard_core::Error> {
    let inputs = import::group_inputs(
        files
            .into_iter()
            .map(|(p, b)| {
                let mut i = Input::from_bytes(p, b);
                i.content = content;
                i
            })
            .collect(),
    );
    let per_file: Vec<Result<Vec<TraceCard>, tracecard_core::Error>> = inputs
        .par_iter()
        .map(|input| {
            let body = input
                .bytes
                .strip_prefix(b"\xEF\xBB\xBF")
                .unwrap_or(&input.bytes);
            if body.iter().all(u8::is_ascii_whitespace) {
                // an empty file found by a walk is not a trace: skipped, as `discover` + `detect` do
                return Ok(Vec::new());
            }
            match import::load_input(input, None) {
                Ok(traces) => traces.iter().map(|t| compiler.compile(t)).collect(),
                Err(e) if e.kind() == tracecard_core::ErrorKind::UnknownFormat => Ok(Vec::new()),
                Err(e) => Err(e),
            }
        })
        .collect();
    flatten(per_file)
}

fn flatten(
    per_file: Vec<Result<Vec<TraceCard>, tracecard_core::Error>>,
) -> Result<Vec<TraceCard>, tracecard_core::Error> {
    let mut out = Vec::new();
    for r in per_file {
        out.extend(r?);
    }
    Ok(out)
}
