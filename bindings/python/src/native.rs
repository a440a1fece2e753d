//! Writing the native format to disk: the core's `native::save`.

pub use tracecard_core::native::save;
