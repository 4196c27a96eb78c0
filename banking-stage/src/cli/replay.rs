//! `replay FILE`: replays a block file (or a ledger directory) from its genesis, in
//! parallel with the unified scheduler and sequentially, and prints per block the time,
//! the speed-up, the efficiency against the lower bound, the scheduler thread's busy share
//! (`sched`: near 1, the scheduler limits the replay) and the hash check.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use banking_stage::{Bank, BlockReplayer, Chain, ReplayMetrics, replay_sequentially};
use svm_lite::ProgramRegistry;

/// `replay`'s settings.
#[derive(Debug, clap::Args)]
pub(crate) struct ReplayArgs {
    /// The block file, or a ledger directory (`--ledger`): its chain from genesis.
    file: PathBuf,
    /// Replay workers (1..=64).
    #[arg(long, default_value_t = 4, value_parser = crate::parse_workers)]
    workers: usize,
    /// Replay sequentially only (one thread, entries in order).
    #[arg(long)]
    sequential: bool,
    /// Write a Chrome trace-event JSON of the parallel replay (open it in Perfetto or
    /// chrome://tracing): one track per worker, one slice per transaction.
    #[arg(long, conflicts_with = "sequential")]
    trace: Option<PathBuf>,
}

pub(crate) fn replay(args: &ReplayArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let chain = if args.file.is_dir() {
        banking_stage::Ledger::read_chain(&args.file)?
    } else {
        Chain::read_from(&args.file)?
    };
    let programs = Arc::new(ProgramRegistry::with_builtins());
    let genesis = || -> Result<Arc<Bank>, banking_stage::BankError> {
        let bank = Arc::new(Bank::new_genesis(chain.genesis.clone(), chain.config)?);
        bank.freeze();
        Ok(bank)
    };
    let transactions: usize = chain
        .blocks
        .iter()
        .map(|block| block.transaction_count())
        .sum();
    out!(
        "{}: {} blocks, {} transactions, {} genesis accounts",
        args.file.display(),
        chain.blocks.len(),
        transactions,
        chain.genesis.len()
    );

    // Sequential, block by block: the reference and the baseline time.
    let mut sequential_times = Vec::with_capacity(chain.blocks.len());
    let mut bank = genesis()?;
    for block in &chain.blocks {
        let start = Instant::now();
        match replay_sequentially(Arc::clone(&bank), &programs, std::slice::from_ref(block)) {
            Ok(next) => bank = next,
            Err(error) => {
                out!("sequential replay FAILED: {error}");
                return Ok(ExitCode::FAILURE);
            }
        }
        sequential_times.push(start.elapsed());
    }
    if args.sequential {
        for (block, time) in chain.blocks.iter().zip(&sequential_times) {
            out!(
                "slot {:>5}: {:>6} transactions in {:>8.2} ms sequentially, hash {}",
                block.slot,
                block.transaction_count(),
                time.as_secs_f64() * 1e3,
                block.bank_hash
            );
        }
        out!("all {} block hashes match", chain.blocks.len());
        return Ok(ExitCode::SUCCESS);
    }

    let mut replayer = BlockReplayer::new(args.workers, Arc::clone(&programs));
    let mut bank = genesis()?;
    let mut all_metrics: Vec<ReplayMetrics> = Vec::with_capacity(chain.blocks.len());
    out!(
        "{:>5} {:>7} {:>10} {:>10} {:>8} {:>10} {:>10} {:>6} {:>6}  hash",
        "slot",
        "txs",
        "seq ms",
        "par ms",
        "speed-up",
        "bound ms",
        "efficiency",
        "sched",
        "serial"
    );
    for (block, sequential) in chain.blocks.iter().zip(&sequential_times) {
        let (next, metrics) = match replayer.replay(&bank, block) {
            Ok(result) => result,
            Err(error) => {
                out!("parallel replay FAILED: {error}");
                return Ok(ExitCode::FAILURE);
            }
        };
        out!(
            "{:>5} {:>7} {:>10.2} {:>10.2} {:>7.2}x {:>10.2} {:>10.2} {:>6.2} {:>6.2}  matches {}",
            block.slot,
            metrics.transactions,
            sequential.as_secs_f64() * 1e3,
            metrics.wall.as_secs_f64() * 1e3,
            sequential.as_secs_f64() / metrics.wall.as_secs_f64().max(1e-9),
            metrics.lower_bound(block).as_secs_f64() * 1e3,
            metrics.efficiency(block),
            metrics.scheduler_busy.as_secs_f64() / metrics.wall.as_secs_f64().max(1e-9),
            // The share of the block's wall time before the scheduler took it over (all of
            // it for a block replayed in order): the calling thread alone ran it then.
            metrics
                .takeover
                .map_or(metrics.wall, |takeover| takeover.at)
                .as_secs_f64()
                / metrics.wall.as_secs_f64().max(1e-9),
            block.bank_hash
        );
        all_metrics.push(metrics);
        bank = next;
    }
    let sequential: f64 = sequential_times.iter().map(|time| time.as_secs_f64()).sum();
    let parallel: f64 = all_metrics.iter().map(|m| m.wall.as_secs_f64()).sum();
    let bound: f64 = all_metrics
        .iter()
        .zip(&chain.blocks)
        .map(|(metrics, block)| metrics.lower_bound(block).as_secs_f64())
        .sum();
    out!(
        "total: {} workers, sequential {:.1} ms, parallel {:.1} ms ({:.2}x), lower bound {:.1} ms, \
         efficiency {:.2}; every bank hash matches the file's",
        args.workers,
        sequential * 1e3,
        parallel * 1e3,
        sequential / parallel.max(1e-9),
        bound * 1e3,
        bound / parallel.max(1e-9)
    );
    if let Some(path) = &args.trace {
        let slices = banking_stage::replay_trace(&chain.blocks, &all_metrics);
        super::trace::write_trace(path, &slices, args.workers)?;
        out!("trace: {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
