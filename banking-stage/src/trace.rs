//! Schedule traces: what ran where and when, written as Chrome trace-event JSON (the
//! format Perfetto and chrome://tracing open): one track per worker, one slice per
//! transaction.

use std::fmt::Write as _;
use std::time::Duration;

use accounts_db_lite::Slot;

use crate::block::Block;
use crate::block_replayer::ReplayMetrics;
use crate::messages::BufferedTransaction;

/// One slice of a trace: a worker busy with something from `start` for `duration`.
#[derive(Debug, Clone)]
pub struct TraceSlice {
    /// The worker's track.
    pub worker: usize,
    /// The slot it belonged to.
    pub slot: Slot,
    /// Start, from the trace's origin.
    pub start: Duration,
    /// How long.
    pub duration: Duration,
    /// What ran.
    pub what: TraceWhat,
}

/// What a [`TraceSlice`] shows.
#[derive(Debug, Clone)]
pub enum TraceWhat {
    /// A transaction's load and execution.
    Transaction {
        /// Its id: the position in the block for replay, the scheduler's transaction id
        /// for production.
        index: usize,
        /// The transaction (its signature and accounts go into the slice).
        transaction: BufferedTransaction,
        /// Whether it was committed.
        committed: bool,
    },
    /// A batch's commit into the bank (production).
    Commit {
        /// The batch.
        batch_id: u64,
        /// Transactions committed.
        transactions: usize,
    },
}

/// The slices of a parallel replay: blocks one after the other on the time axis.
pub fn replay_trace(blocks: &[Block], metrics: &[ReplayMetrics]) -> Vec<TraceSlice> {
    let mut slices = Vec::new();
    let mut offset = Duration::ZERO;
    for (block, block_metrics) in blocks.iter().zip(metrics) {
        let transactions: Vec<&BufferedTransaction> = block
            .entries
            .iter()
            .flat_map(|entry| &entry.transactions)
            .collect();
        for timing in &block_metrics.timings {
            slices.push(TraceSlice {
                worker: timing.worker,
                slot: block.slot,
                start: offset + timing.start,
                duration: timing.duration,
                what: TraceWhat::Transaction {
                    index: timing.index,
                    transaction: transactions[timing.index].clone(),
                    committed: true,
                },
            });
        }
        offset += block_metrics.wall;
    }
    slices
}

/// The Chrome trace-event JSON of `slices` with `workers` named tracks.
pub fn chrome_trace_json(slices: &[TraceSlice], workers: usize) -> String {
    let mut json = String::from("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n");
    let mut first = true;
    let mut separator = |json: &mut String| {
        if !first {
            json.push_str(",\n");
        }
        first = false;
    };
    for worker in 0..workers {
        separator(&mut json);
        let _ = write!(
            json,
            "{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":{worker},\
             \"args\":{{\"name\":\"worker {worker}\"}}}}"
        );
    }
    for slice in slices {
        separator(&mut json);
        let (name, args) = match &slice.what {
            TraceWhat::Transaction {
                index,
                transaction,
                committed,
            } => {
                // Keys and signatures are base58: no character needs escaping.
                let accounts: Vec<String> = transaction
                    .lock_requests()
                    .map(|(key, writable)| {
                        format!("\"{}{key}\"", if writable { "w:" } else { "r:" })
                    })
                    .collect();
                (
                    format!("tx {index}"),
                    format!(
                        "\"index\":{index},\"signature\":\"{}\",\"committed\":{committed},\
                         \"accounts\":[{}]",
                        transaction.signature(),
                        accounts.join(",")
                    ),
                )
            }
            TraceWhat::Commit {
                batch_id,
                transactions,
            } => (
                format!("commit batch {batch_id}"),
                format!("\"batch\":{batch_id},\"transactions\":{transactions}"),
            ),
        };
        let _ = write!(
            json,
            "{{\"name\":\"{name}\",\"cat\":\"slot {slot}\",\"ph\":\"X\",\"pid\":1,\"tid\":{worker},\
             \"ts\":{ts:.3},\"dur\":{dur:.3},\"args\":{{\"slot\":{slot},{args}}}}}",
            slot = slice.slot,
            worker = slice.worker,
            ts = slice.start.as_secs_f64() * 1e6,
            dur = slice.duration.as_secs_f64() * 1e6,
        );
    }
    json.push_str("\n]}\n");
    json
}
