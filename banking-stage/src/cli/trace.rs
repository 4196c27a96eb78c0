//! Chrome trace-event JSON (the format Perfetto and chrome://tracing open): one track per
//! worker, one slice per transaction.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use banking_stage::{Chain, ReplayMetrics};

/// Writes the parallel replay's schedule: blocks one after the other on the time axis,
/// each transaction a slice on its worker's track, named by its index in the block and
/// carrying its slot, signature and accounts.
pub(crate) fn write_replay_trace(
    path: &Path,
    chain: &Chain,
    metrics: &[ReplayMetrics],
) -> std::io::Result<()> {
    let mut json = String::from("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n");
    let mut first = true;
    let mut offset = Duration::ZERO;
    let workers = metrics.first().map_or(0, |m| m.workers);
    for worker in 0..workers {
        separator(&mut json, &mut first);
        let _ = write!(
            json,
            "{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":{worker},\"args\":{{\"name\":\"worker {worker}\"}}}}"
        );
    }
    for (block, block_metrics) in chain.blocks.iter().zip(metrics) {
        let transactions: Vec<_> = block
            .entries
            .iter()
            .flat_map(|entry| &entry.transactions)
            .collect();
        for timing in &block_metrics.timings {
            let transaction = transactions[timing.index];
            let accounts: Vec<String> = transaction
                .lock_requests()
                .map(|(key, writable)| format!("\"{}{key}\"", if writable { "w:" } else { "r:" }))
                .collect();
            separator(&mut json, &mut first);
            let _ = write!(
                json,
                "{{\"name\":\"tx {}\",\"cat\":\"slot {}\",\"ph\":\"X\",\"pid\":1,\"tid\":{},\"ts\":{:.3},\"dur\":{:.3},\"args\":{{\"slot\":{},\"index\":{},\"signature\":\"{}\",\"accounts\":[{}]}}}}",
                timing.index,
                block.slot,
                timing.worker,
                micros(offset + timing.start),
                micros(timing.duration),
                block.slot,
                timing.index,
                transaction.signature(),
                accounts.join(",")
            );
        }
        offset += block_metrics.wall;
    }
    json.push_str("\n]}\n");
    let mut file = std::fs::File::create(path)?;
    file.write_all(json.as_bytes())
}

fn separator(json: &mut String, first: &mut bool) {
    if !*first {
        json.push_str(",\n");
    }
    *first = false;
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}
