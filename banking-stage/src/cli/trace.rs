//! Writes traces to files.

use std::path::Path;

use banking_stage::{TraceSlice, chrome_trace_json};

/// Writes `slices` as Chrome trace-event JSON with `workers` tracks.
pub(crate) fn write_trace(
    path: &Path,
    slices: &[TraceSlice],
    workers: usize,
) -> std::io::Result<()> {
    std::fs::write(path, chrome_trace_json(slices, workers))
}
