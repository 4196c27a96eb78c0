//! `replay_once`: replays one of `compare`'s blocks with one system, a given number of
//! times, for a profiler; `compare` measures wall time, this is for counting what a
//! replay does.
//!
//! ```text
//! cargo build --release -p benches --bin replay_once
//! valgrind --tool=callgrind target/release/replay_once --system replay --workload read-mostly --rounds 1
//! valgrind --tool=callgrind target/release/replay_once --system replay --workload read-mostly --rounds 2
//! ```
//!
//! The difference between the two runs' instruction counts is one replay of the block
//! (from a warm start: the replayer's threads and caches exist) plus the genesis bank it
//! starts from; the same two runs with `--dry-run` (genesis banks, no replay) give what to
//! subtract for the latter. Add `--separate-threads=yes` for a count per thread. Execution
//! costs other than 0 µs are calibrated by timing, which a profiler slows down: use 0 µs
//! under one.

// Printing the result is this program's job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use banking_stage::{BlockReplayer, replay_sequentially};
use benches::compare_blocks::{transactions_for, units_for_micros, workload, workloads};
use benches::conflict_free_batches::ConflictFreeBatchReplayer;
use clap::{Parser, ValueEnum};
use svm_lite::ProgramRegistry;

/// Which system replays the block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum System {
    /// One thread, the block's entries in order.
    Seq,
    /// Conflict-free batches on a thread pool.
    Cfb,
    /// This project's `BlockReplayer`.
    Replay,
}

/// Replays one of `compare`'s blocks with one system, `rounds` times from genesis.
#[derive(Debug, Parser)]
#[command(about)]
struct Args {
    /// The system that replays.
    #[arg(long, value_enum)]
    system: System,
    /// The workload, by `compare`'s name (no-conflict, hot-25%, ..., read-mostly,
    /// single-chain).
    #[arg(long)]
    workload: String,
    /// Bench-program work per transaction, in microseconds.
    #[arg(long, default_value_t = 0)]
    exec_us: u64,
    /// Workers (cfb and replay).
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Replays of the block, each from genesis.
    #[arg(long, default_value_t = 1)]
    rounds: usize,
    /// Scale the block size, as `compare --scale`.
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Build each round's genesis bank and replay nothing: the setup, to subtract.
    #[arg(long)]
    dry_run: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let Some(pattern) = workloads()
        .into_iter()
        .find_map(|(name, pattern)| (name == args.workload).then_some(pattern))
    else {
        let names: Vec<&str> = workloads().into_iter().map(|(name, _)| name).collect();
        eprintln!(
            "unknown workload {:?}: one of {}",
            args.workload,
            names.join(", ")
        );
        return ExitCode::FAILURE;
    };
    let programs = Arc::new(ProgramRegistry::with_builtins());
    let workload = workload(
        pattern,
        units_for_micros(args.exec_us),
        transactions_for(args.exec_us, args.scale),
    );
    let block = workload.sequential_block(&programs);
    let blocks = std::slice::from_ref(&block);
    let mut replayer = BlockReplayer::new(args.workers, Arc::clone(&programs));
    let mut batches = ConflictFreeBatchReplayer::new(args.workers, Arc::clone(&programs));
    let mut times = Vec::with_capacity(args.rounds);
    for _ in 0..args.rounds {
        let parent = workload.genesis_bank();
        if args.dry_run {
            continue;
        }
        let start = Instant::now();
        let hash = match args.system {
            System::Seq => replay_sequentially(parent, &programs, blocks)
                .map(|bank| bank.hash())
                .map_err(|error| error.to_string()),
            System::Cfb => batches
                .replay(&parent, &block)
                .map(|bank| bank.hash())
                .map_err(|error| error.to_string()),
            System::Replay => replayer
                .replay(&parent, &block)
                .map(|(bank, _)| bank.hash())
                .map_err(|error| error.to_string()),
        };
        times.push(start.elapsed());
        match hash {
            Ok(hash) if hash == Some(block.bank_hash) => {}
            Ok(hash) => {
                eprintln!("bank hash {hash:?} differs from the block's");
                return ExitCode::FAILURE;
            }
            Err(error) => {
                eprintln!("the block did not replay: {error}");
                return ExitCode::FAILURE;
            }
        }
    }
    if args.dry_run {
        println!("dry run: {} genesis banks, no replay", args.rounds);
        return ExitCode::SUCCESS;
    }
    times.sort_unstable();
    let median = times
        .get(times.len() / 2)
        .copied()
        .unwrap_or(Duration::ZERO);
    println!(
        "{:?} {} ({} transactions, {} us, {} workers): {} rounds, median {median:?}",
        args.system,
        args.workload,
        block.transaction_count(),
        args.exec_us,
        args.workers,
        args.rounds
    );
    ExitCode::SUCCESS
}
