//! Writing the native format to disk (the core serialises; this only writes).

use std::path::Path;

use tracecard_core::{Error, Result, Trace};

/// Write `trace` as native JSONL to `path`.
pub fn save(trace: &Trace, path: &Path) -> Result<()> {
    let text = tracecard_core::native::to_jsonl(trace)?;
    std::fs::write(path, text).map_err(|e| Error::io(path, e))
}
