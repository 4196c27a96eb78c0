//! `compare`: this project's replayer and pipeline against the baselines a user would pick
//! instead, on the same blocks, in one process, in one table.
//!
//! `cargo run --release -p benches --bin compare -- --help`
//!
//! Systems, each replaying the same block from the same genesis:
//! * `seq`: one thread runs the block in order (`replay_sequentially`: `svm-lite` batches);
//! * `cfb`: conflict-free batches on a thread pool with a barrier after each
//!   (`benches::conflict_free_batches`), the design a chain typically starts with;
//! * `replay`: this project's `BlockReplayer` (per-account FIFO on the unified scheduler);
//! * `pipeline`: this project's leader pipeline producing a block from the same
//!   transactions (greedy scheduler), for its throughput.
//!
//! Every run's bank hash is checked against the block's. Times are medians of interleaved
//! rounds (each round runs every system once), so drift on a shared machine hits all
//! systems alike.

// Printing the table is this program's job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use banking_stage::workload::Workload;
use banking_stage::{
    BlockLimits, BlockReplayer, PipelineConfig, SchedulerKind, replay_sequentially, run_pipeline,
};
use benches::compare_blocks::{transactions_for, units_for_micros, workload, workloads};
use benches::conflict_free_batches::ConflictFreeBatchReplayer;
use clap::Parser;
use svm_lite::ProgramRegistry;

/// Runs the comparison table.
#[derive(Debug, Parser)]
/// This project's replayer and pipeline against the baselines a user would pick instead
/// (sequential, conflict-free batches), on the same blocks, in one table.
#[command(about)]
struct Args {
    /// Worker counts to compare at.
    #[arg(long, value_delimiter = ',', default_value = "2")]
    workers: Vec<usize>,
    /// Execution costs per transaction, in microseconds of bench-program work.
    #[arg(long, value_delimiter = ',', default_value = "0,5,20")]
    exec_us: Vec<u64>,
    /// Rounds per measurement (the median is reported).
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Scale the block sizes (1.0: 12,000 / 6,000 / 3,000 transactions at 0 / 5 / 20 us).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Only these workloads (names as printed), comma-separated.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn main() {
    let args = Args::parse();
    let programs = Arc::new(ProgramRegistry::with_builtins());
    println!(
        "machine: {} logical CPUs; rounds: {}; times are medians",
        std::thread::available_parallelism().map_or(0, usize::from),
        args.rounds
    );
    println!(
        "{:<13} {:>5} {:>7} {:>6} {:>10} {:>10} {:>10} {:>10} {:>8} {:>8} {:>6} {:>6} {:>6} {:>6}",
        "workload",
        "exec",
        "txs",
        "workers",
        "seq tx/s",
        "cfb tx/s",
        "replay",
        "pipeline",
        "vs seq",
        "vs cfb",
        "effic.",
        "sched",
        "serial",
        "hashes"
    );
    for &micros in &args.exec_us {
        let units = units_for_micros(micros);
        let transactions = transactions_for(micros, args.scale);
        for (name, pattern) in workloads() {
            if !args.only.is_empty() && !args.only.iter().any(|only| only == name) {
                continue;
            }
            let workload = workload(pattern, units, transactions);
            let block = workload.sequential_block(&programs);
            let count = block.transaction_count();
            for &workers in &args.workers {
                let row = measure(&args, &programs, &workload, &block, workers);
                let tps = |time: Duration| count as f64 / time.as_secs_f64().max(1e-9);
                println!(
                    "{:<13} {:>4}us {:>7} {:>6} {:>10.0} {:>10.0} {:>10.0} {:>10.0} {:>7.2}x {:>7.2}x {:>6.2} {:>6.2} {:>6.2} {:>6}",
                    name,
                    micros,
                    count,
                    workers,
                    tps(row.sequential),
                    tps(row.conflict_free),
                    tps(row.replay),
                    row.pipeline_tps,
                    row.sequential.as_secs_f64() / row.replay.as_secs_f64(),
                    row.conflict_free.as_secs_f64() / row.replay.as_secs_f64(),
                    row.efficiency,
                    row.scheduler_share,
                    row.serial_share,
                    if row.hashes_match { "ok" } else { "DIFFER" }
                );
            }
        }
    }
}

struct Row {
    sequential: Duration,
    conflict_free: Duration,
    replay: Duration,
    pipeline_tps: f64,
    efficiency: f64,
    /// The replay's scheduler thread busy time over its wall time (median).
    scheduler_share: f64,
    /// The share of the replay's wall time before its scheduler thread took the block
    /// over, when the calling thread alone runs it (median; 1.0 for a block replayed in
    /// order).
    serial_share: f64,
    hashes_match: bool,
}

fn measure(
    args: &Args,
    programs: &Arc<ProgramRegistry>,
    workload: &Workload,
    block: &banking_stage::Block,
    workers: usize,
) -> Row {
    let blocks = std::slice::from_ref(block);
    let mut replayer = BlockReplayer::new(workers, Arc::clone(programs));
    let mut batches = ConflictFreeBatchReplayer::new(workers, Arc::clone(programs));
    let (mut sequential, mut conflict_free, mut replay) = (Vec::new(), Vec::new(), Vec::new());
    let (mut efficiency, mut scheduler_share, mut serial_share) =
        (Vec::new(), Vec::new(), Vec::new());
    let mut hashes_match = true;
    for _ in 0..args.rounds.max(1) {
        let parent = workload.genesis_bank();
        let start = Instant::now();
        let bank = replay_sequentially(parent, programs, blocks).expect("the block replays");
        sequential.push(start.elapsed());
        hashes_match &= bank.hash() == Some(block.bank_hash);

        let parent = workload.genesis_bank();
        let start = Instant::now();
        let bank = batches.replay(&parent, block).expect("the block replays");
        conflict_free.push(start.elapsed());
        hashes_match &= bank.hash() == Some(block.bank_hash);

        let parent = workload.genesis_bank();
        let start = Instant::now();
        let (bank, metrics) = replayer.replay(&parent, block).expect("the block replays");
        replay.push(start.elapsed());
        efficiency.push(metrics.efficiency(block));
        scheduler_share
            .push(metrics.scheduler_busy.as_secs_f64() / metrics.wall.as_secs_f64().max(1e-9));
        let serial = metrics
            .takeover
            .map_or(metrics.wall, |takeover| takeover.at);
        serial_share.push(serial.as_secs_f64() / metrics.wall.as_secs_f64().max(1e-9));
        hashes_match &= bank.hash() == Some(block.bank_hash);
    }
    efficiency.sort_by(f64::total_cmp);
    scheduler_share.sort_by(f64::total_cmp);
    serial_share.sort_by(f64::total_cmp);
    Row {
        sequential: median(sequential),
        conflict_free: median(conflict_free),
        replay: median(replay),
        pipeline_tps: pipeline_tps(programs, workload, workers),
        efficiency: efficiency[efficiency.len() / 2],
        scheduler_share: scheduler_share[scheduler_share.len() / 2],
        serial_share: serial_share[serial_share.len() / 2],
        hashes_match,
    }
}

/// The leader pipeline's committed transactions per second on the workload (one run;
/// limits raised so one block can hold everything).
fn pipeline_tps(programs: &Arc<ProgramRegistry>, workload: &Workload, workers: usize) -> f64 {
    let (sender, receiver) = crossbeam_channel::unbounded();
    for transaction in &workload.transactions {
        sender.send(transaction.clone()).expect("receiver is alive");
    }
    drop(sender);
    let config = PipelineConfig {
        num_workers: workers,
        scheduler: SchedulerKind::Greedy,
        slot_duration: Duration::from_secs(600),
        block_limits: BlockLimits {
            block_units: u64::MAX / 4,
            account_units: u64::MAX / 4,
            account_data_bytes: u64::MAX / 4,
        },
        ..PipelineConfig::default()
    };
    let start = Instant::now();
    let output = run_pipeline(
        workload.genesis_bank(),
        Arc::clone(programs),
        &config,
        receiver,
        |_| {},
    )
    .expect("a valid configuration");
    output.committed() as f64 / start.elapsed().as_secs_f64().max(1e-9)
}
