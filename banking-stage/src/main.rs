//! `banking-stage`: runs the whole block-production pipeline on a generated workload,
//! prints a per-slot table and totals, and verifies the blocks by replaying them
//! sequentially from genesis (exit code 1 if the bank hashes differ).
//!
//! `cargo run --release -p banking-stage -- --help` lists the flags; with none, it runs
//! the embedded default: 20,000 mixed transactions over Zipf(1.1)-distributed accounts on
//! 4 workers. `produce --out FILE` also writes the blocks to a block file; `replay FILE
//! --workers N [--sequential] [--trace TRACE.json]` replays one.

// Printing the report is this program's job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

/// `println!` that ends the program quietly when its output is gone (a closed pipe, as
/// in `banking-stage | head`), instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout(), $($arg)*).is_err() {
            // 128 + SIGPIPE: what a shell reports for a program a closed pipe stopped.
            std::process::exit(141);
        }
    }};
}

mod cli;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use banking_stage::workload::{ConflictPattern, TransactionMix, Workload, WorkloadConfig};
use banking_stage::{
    Bank, BankConfig, Chain, Ledger, PipelineConfig, PipelineOutput, SchedulerKind, SlotMetrics,
    replay_sequentially, run_pipeline,
};
use clap::{Parser, Subcommand, ValueEnum};
use sdk_lite::ReadableAccount;
use svm_lite::ProgramRegistry;

/// Runs the parallel block-production pipeline on a seeded workload and checks its blocks
/// against a sequential replay; writes blocks to a file and replays block files in
/// parallel.
#[derive(Debug, Parser)]
#[command(version, about, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Without a subcommand: produce and verify (the default run).
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Produce blocks and write them, with their genesis, to a block file.
    Produce {
        #[command(flatten)]
        run: RunArgs,
        /// The block file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Replay a block file from its genesis, in parallel (and sequentially, to compare).
    Replay(cli::replay::ReplayArgs),
}

/// The production run's settings.
#[derive(Debug, clap::Args)]
struct RunArgs {
    /// Consume workers (1..=64).
    #[arg(long, default_value_t = 4, value_parser = parse_workers)]
    workers: usize,
    /// The scheduling policy.
    #[arg(long, value_enum, default_value_t = SchedulerArg::Greedy)]
    scheduler: SchedulerArg,
    /// Conflict pattern: none, uniform[:N], zipf[:N[:S]], hotspot[:PERCENT[:N]], chain,
    /// read-mostly[:N], read-write[:N].
    #[arg(long, default_value = "zipf:1000:1.1")]
    pattern: ConflictPattern,
    /// Transactions to generate (1..=10,000,000).
    #[arg(long, default_value_t = 20_000, value_parser = parse_transactions)]
    transactions: usize,
    /// Weights of transfer,bench,nonce,failing,bad transactions.
    #[arg(long, default_value = "50,30,5,10,5", value_parser = parse_mix)]
    mix: TransactionMix,
    /// Compute units of work per bench transaction (100 per hash; about 20 us per 20,000).
    #[arg(long, default_value_t = 20_000)]
    bench_units: u32,
    /// The workload's seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Stop after this many slots (default: when every transaction is done).
    #[arg(long)]
    slots: Option<u64>,
    /// A slot's length in milliseconds.
    #[arg(long, default_value_t = 400)]
    slot_ms: u64,
    /// Block fill pacing: release the block's units evenly over this many milliseconds of
    /// each slot (default: all at once).
    #[arg(long)]
    pace_ms: Option<u64>,
    /// Print the leader's report after each slot (outcomes, drop reasons, limits, worker
    /// idle share, the hottest accounts, why the slot ended).
    #[arg(long)]
    report: bool,
    /// Write a Chrome trace-event JSON of the production run (open it in Perfetto or
    /// chrome://tracing): one track per worker, one slice per transaction and per commit.
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Skip the sequential replay check.
    #[arg(long)]
    no_verify: bool,
    /// Persist the account store and the blocks in this ledger directory; a later run
    /// with the same directory (and the same workload flags) resumes from its last
    /// committed slot
    #[arg(long)]
    ledger: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum SchedulerArg {
    /// Best price first, each transaction to the least-loaded worker that may take it.
    Greedy,
    /// A look-ahead window that keeps priority order per account, with hot-account
    /// parking.
    PrioGraph,
}

fn parse_workers(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(workers) if (1..=banking_stage::MAX_WORKERS).contains(&workers) => Ok(workers),
        _ => Err(format!(
            "{text:?}: expected a number of workers from 1 to {}",
            banking_stage::MAX_WORKERS
        )),
    }
}

/// The most transactions one run generates: they are all built before the run starts
/// (about a kilobyte each), so a mistyped count should be refused, not allocated.
const MAX_TRANSACTIONS: usize = 10_000_000;

fn parse_transactions(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(count) if (1..=MAX_TRANSACTIONS).contains(&count) => Ok(count),
        _ => Err(format!(
            "{text:?}: expected a number of transactions from 1 to {MAX_TRANSACTIONS}"
        )),
    }
}

fn parse_mix(text: &str) -> Result<TransactionMix, String> {
    let weights: Vec<u32> = text
        .split(',')
        .map(|part| part.trim().parse::<u32>())
        .collect::<Result<_, _>>()
        .map_err(|error| format!("{text:?}: {error}"))?;
    let [transfer, bench, nonce, failing, bad] = weights[..] else {
        return Err(format!(
            "{text:?}: expected five weights: transfer,bench,nonce,failing,bad"
        ));
    };
    if weights.iter().all(|&w| w == 0) {
        return Err("at least one weight must be positive".to_owned());
    }
    Ok(TransactionMix {
        transfer,
        bench,
        nonce,
        failing,
        bad,
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        None => run(&cli.run, None),
        Some(Command::Produce { run: args, out }) => run(args, Some(out)),
        Some(Command::Replay(args)) => cli::replay::replay(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &RunArgs, out: Option<&PathBuf>) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let workload_config = WorkloadConfig {
        seed: args.seed,
        transactions: args.transactions,
        pattern: args.pattern,
        mix: args.mix,
        bench_units: args.bench_units,
        ..WorkloadConfig::default()
    };
    let config = PipelineConfig {
        num_workers: args.workers,
        scheduler: match args.scheduler {
            SchedulerArg::Greedy => SchedulerKind::Greedy,
            SchedulerArg::PrioGraph => SchedulerKind::PrioGraph,
        },
        pacing: args.pace_ms.map(Duration::from_millis),
        trace: args.trace.is_some(),
        slot_duration: Duration::from_millis(args.slot_ms),
        max_slots: args.slots,
        ..PipelineConfig::default()
    };
    out!(
        "workload: {} transactions, pattern {}, mix {}/{}/{}/{}/{} (transfer/bench/nonce/failing/bad), \
         {} units per bench, seed {}",
        args.transactions,
        args.pattern,
        args.mix.transfer,
        args.mix.bench,
        args.mix.nonce,
        args.mix.failing,
        args.mix.bad,
        args.bench_units,
        args.seed
    );
    let workload = Workload::generate(&workload_config);
    let programs = Arc::new(ProgramRegistry::with_builtins());
    let (genesis, ledger) = match &args.ledger {
        None => {
            let genesis = Arc::new(Bank::new_genesis(
                workload.genesis.clone(),
                BankConfig::default(),
            )?);
            genesis.freeze();
            (genesis, None)
        }
        Some(dir) => {
            let (ledger, bank) =
                Ledger::open(dir, workload.genesis.clone(), BankConfig::default())?;
            if bank.slot() == 0 {
                out!("ledger: {} (new)", dir.display());
            } else {
                out!(
                    "ledger: {}: resumed at slot {} (bank hash {})",
                    dir.display(),
                    bank.slot(),
                    bank.hash().unwrap_or_default()
                );
            }
            (bank, Some(Arc::new(ledger)))
        }
    };
    let config = PipelineConfig {
        ledger: ledger.clone(),
        ..config
    };
    // What the accounts hold at the start (a resumed chain's earlier fees are gone).
    // Summed wide: a store's balances together may exceed a u64.
    let start_lamports: u128 = genesis
        .accounts()
        .accounts_sorted()
        .iter()
        .map(|(_, account)| u128::from(account.lamports()))
        .sum();
    out!(
        "pipeline: {} workers, {:?} scheduler, {} ms slots, block limit {} units",
        config.num_workers,
        config.scheduler,
        config.slot_duration.as_millis(),
        config.block_limits.block_units
    );

    let (sender, receiver) = crossbeam_channel::unbounded();
    for transaction in workload.transactions.iter().cloned() {
        sender.send(transaction)?;
    }
    drop(sender);

    let progress = progress_bar(args.transactions as u64);
    print_header();
    let start = Instant::now();
    let output = run_pipeline(
        Arc::clone(&genesis),
        Arc::clone(&programs),
        &config,
        receiver,
        |slot| {
            progress.suspend(|| {
                print_slot(slot);
                if args.report {
                    out!("{slot}");
                }
            });
            progress.inc(slot.committed + slot.dropped.total());
        },
    )?;
    let elapsed = start.elapsed();
    progress.finish_and_clear();
    print_totals(&output, elapsed, start_lamports);
    let not_received = args.transactions as u64 - output.received();
    if not_received > 0 {
        out!(
            "not received: {not_received} transactions were still on the input channel when the run stopped"
        );
    }

    if output.leftover_account_locks != 0 {
        out!(
            "LOCK LEAK: {} accounts still locked",
            output.leftover_account_locks
        );
        return Ok(ExitCode::FAILURE);
    }
    if let Some(path) = &args.trace {
        cli::trace::write_trace(path, &output.trace, config.num_workers)?;
        out!("trace: {} slices to {}", output.trace.len(), path.display());
    }
    if let Some(path) = out {
        let chain = Chain {
            genesis: workload.genesis.clone(),
            config: BankConfig::default(),
            blocks: output.blocks.clone(),
        };
        chain.write_to(path)?;
        out!(
            "wrote {} blocks ({} transactions) to {}",
            chain.blocks.len(),
            output.committed(),
            path.display()
        );
    }
    if args.no_verify {
        return Ok(ExitCode::SUCCESS);
    }
    let replay_start = Instant::now();
    let fresh = Arc::new(Bank::new_genesis(workload.genesis, BankConfig::default())?);
    fresh.freeze();
    let leader_hash = output.last_bank.hash().unwrap_or_default();
    // With a ledger, the whole chain from genesis (earlier runs' blocks too).
    let blocks = match &ledger {
        Some(ledger) => ledger.chain()?.blocks,
        None => output.blocks.clone(),
    };
    match replay_sequentially(fresh, &programs, &blocks) {
        Ok(bank) => {
            let replayed = bank.hash().unwrap_or_default();
            out!(
                "verify: sequential replay of {} blocks in {:.1} ms gives bank hash {replayed}: {}",
                blocks.len(),
                replay_start.elapsed().as_secs_f64() * 1e3,
                if replayed == leader_hash {
                    "matches"
                } else {
                    "MISMATCH"
                }
            );
            Ok(if replayed == leader_hash {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Err(error) => {
            out!("verify: sequential replay FAILED: {error}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn progress_bar(total: u64) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{elapsed_precise} [{bar:40}] {pos}/{len} transactions done",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

fn print_header() {
    out!(
        "{:>5} {:>7} {:>7} {:>6} {:>7} {:>7} {:>8} {:>6} {:>6} {:>6} {:>7}  {:<15} bank hash",
        "slot",
        "recv",
        "commit",
        "fail",
        "dropped",
        "retry",
        "CU(M)",
        "block%",
        "acct%",
        "busy%",
        "ms",
        "ended by",
    );
}

fn print_slot(slot: &SlotMetrics) {
    let busy: Duration = slot.worker_busy.iter().sum();
    let capacity = slot.elapsed.as_secs_f64() * slot.worker_busy.len() as f64;
    let percent = |part: u64, whole: u64| {
        if whole == 0 {
            0.0
        } else {
            100.0 * part as f64 / whole as f64
        }
    };
    let hash = slot.bank_hash.to_string();
    out!(
        "{:>5} {:>7} {:>7} {:>6} {:>7} {:>7} {:>8.2} {:>6.1} {:>6.1} {:>6.1} {:>7.1}  {:<15} {}",
        slot.slot,
        slot.received,
        slot.committed,
        slot.committed - slot.succeeded,
        slot.dropped.total(),
        slot.retried_account_in_use + slot.retried_next_slot,
        slot.compute_units as f64 / 1e6,
        percent(slot.block_cost, slot.block_cost_limit),
        percent(
            slot.max_account_cost,
            banking_stage::MAX_WRITABLE_ACCOUNT_UNITS
        ),
        if capacity > 0.0 {
            100.0 * busy.as_secs_f64() / capacity
        } else {
            0.0
        },
        slot.elapsed.as_secs_f64() * 1e3,
        slot.end_reason.to_string(),
        &hash[..hash.len().min(12)]
    );
}

fn print_totals(output: &PipelineOutput, elapsed: Duration, start_lamports: u128) {
    let committed = output.committed();
    let succeeded: u64 = output.slots.iter().map(|slot| slot.succeeded).sum();
    let units: u64 = output.slots.iter().map(|slot| slot.compute_units).sum();
    let seconds = elapsed.as_secs_f64().max(1e-9);
    out!(
        "totals: {} received, {committed} committed ({succeeded} succeeded, {} failed), \
         {} dropped, {} still buffered, in {} slots and {:.1} ms",
        output.received(),
        committed - succeeded,
        output.dropped().total(),
        output.still_buffered,
        output.slots.len(),
        seconds * 1e3
    );
    out!("dropped by reason: {}", output.dropped());
    out!(
        "throughput: {:.0} committed transactions/s, {:.1} M compute units/s",
        committed as f64 / seconds,
        units as f64 / seconds / 1e6
    );
    let accounts: u128 = output
        .last_bank
        .accounts()
        .accounts_sorted()
        .iter()
        .map(|(_, account)| u128::from(account.lamports()))
        .sum();
    let fees: u128 = output.slots.iter().map(|slot| u128::from(slot.fees)).sum();
    out!(
        "lamports: {} in accounts + {fees} in fees = {} (at the start {start_lamports}): {}",
        accounts,
        accounts + fees,
        if accounts + fees == start_lamports {
            "conserved"
        } else {
            "NOT CONSERVED"
        }
    );
}
