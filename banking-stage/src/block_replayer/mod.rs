//! `BlockReplayer`: replays blocks in parallel with `unified-scheduler-logic`'s FIFO state
//! machine, to exactly the state a sequential replay reaches.
//!
//! `mod.rs` holds the replayer and its in-order path; `pool.rs` the scheduler thread and
//! the workers (kept across blocks); `worker.rs` what a worker does with a handoff;
//! `written_filter.rs` which accounts a block may write (reads of the others are not
//! scheduled).

mod pool;
mod worker;
mod written_filter;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};

use ahash::AHashSet;
use sdk_lite::{SanitizedTransaction, TransactionError};
use svm_lite::{ProcessingConfig, ProgramRegistry, RecordingConfig};

use crate::bank::Bank;
use crate::block::Block;
use crate::critical_path::{ChainTracker, critical_path};
use crate::messages::BufferedTransaction;
use crate::pipeline::MAX_WORKERS;
use crate::sequential_replay::ReplayError;
use crate::spin_wait::SpinWait;
use pool::{BlockOutcome, ReplayPool};
use worker::{BlockContext, Failure};

pub use pool::MAX_TASKS_PER_HANDOFF;

/// Below this available parallelism (transactions per link of the longest conflict
/// chain), a block is replayed in order on the calling thread: handing each link of a
/// chain from thread to thread costs two wake-ups and gains nothing.
pub const MIN_PARALLELISM: f64 = 1.5;

/// Usage queues kept across blocks at most; past it, the cache is cleared between blocks.
pub const MAX_CACHED_USAGE_QUEUES: usize = 1 << 20;

/// What a replay task carries: the transaction and its index in the block.
#[derive(Debug)]
pub struct ReplayTask {
    /// Position in the block's serial order.
    pub index: usize,
    /// The transaction.
    pub transaction: BufferedTransaction,
}

/// When one transaction ran, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransactionTiming {
    /// Position in the block.
    pub index: usize,
    /// The worker that ran it.
    pub worker: usize,
    /// Start, from the beginning of the block's replay.
    pub start: Duration,
    /// How long it took (load, execute, commit).
    pub duration: Duration,
}

/// What replaying one block took. The analysis (critical path, lower bound, efficiency)
/// is computed on demand from the timings and the block, so the replay does not pay for
/// it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayMetrics {
    /// The block's slot.
    pub slot: accounts_db_lite::Slot,
    /// Transactions replayed.
    pub transactions: usize,
    /// Workers used.
    pub workers: usize,
    /// Whether the block ran in order on the calling thread (one worker, or too little
    /// parallelism: see [`MIN_PARALLELISM`]).
    pub in_order: bool,
    /// Wall time of the block's replay (from the first task to the frozen bank).
    pub wall: Duration,
    /// Per transaction, in block order: when it ran, where, and how long it took (its
    /// checks, execution and commit).
    pub timings: Vec<TransactionTiming>,
    /// How long the scheduler thread was busy on the block (filtering the block's
    /// accounts, creating tasks, scheduling, handing out, descheduling; not waiting): near
    /// `wall`, the scheduler is what limits the replay. Zero for a block replayed in order.
    pub scheduler_busy: Duration,
}

impl ReplayMetrics {
    /// The sum of every transaction's own time.
    pub fn total_work(&self) -> Duration {
        self.timings.iter().map(|timing| timing.duration).sum()
    }

    /// The longest chain of conflicting transactions of `block` (the block these metrics
    /// are of), weighted by their measured times: no schedule can be faster.
    pub fn critical_path(&self, block: &Block) -> Duration {
        let durations: Vec<Duration> = self.timings.iter().map(|timing| timing.duration).collect();
        critical_path(
            block
                .entries
                .iter()
                .flat_map(|entry| &entry.transactions)
                .map(|transaction| transaction.lock_requests()),
            &durations,
        )
    }

    /// The lower bound on the wall time: `max(total work / workers, critical path)`.
    pub fn lower_bound(&self, block: &Block) -> Duration {
        let spread = self.total_work() / u32::try_from(self.workers.max(1)).unwrap_or(u32::MAX);
        spread.max(self.critical_path(block))
    }

    /// How close the replay came to the lower bound: `lower bound / wall time` (1.0 is a
    /// perfect schedule with free scheduling).
    pub fn efficiency(&self, block: &Block) -> f64 {
        let wall = self.wall.as_secs_f64();
        if wall == 0.0 {
            return 1.0;
        }
        self.lower_bound(block).as_secs_f64() / wall
    }
}

/// Replays blocks on `num_workers` threads with a FIFO
/// [`SchedulingStateMachine`](unified_scheduler_logic::SchedulingStateMachine).
///
/// A block whose longest conflict chain leaves less than [`MIN_PARALLELISM`] transactions
/// per link (a single chain), and every block when there is one worker, is instead replayed
/// in order on the calling thread, entry by entry: the state machine would only hand each
/// transaction from thread to thread.
///
/// Per block: the calling thread checks what can be checked before anything runs (the
/// parent hash, no signature twice, every transaction's age and status-cache check) and
/// hands the block's transactions to the scheduler thread. That thread owns the state
/// machine and the usage-queue cache: it creates a task per transaction (resolving each
/// account to its usage queue), a bite at a time between looks at the workers' answers.
/// A read of an account that no transaction of the block writes (a program, a shared
/// configuration account) orders nothing, so it is left out of the task: a filter of the
/// block's writable accounts, built before its first task, tells them apart (see
/// `written_filter.rs`; it may keep such a read, never drops a needed one).
/// Tasks that hold all their accounts go to the workers in handoffs of a share per worker
/// (at most [`MAX_TASKS_PER_HANDOFF`], and, where threads spin, about 12 µs of what tasks
/// have cost so far); a task that had to wait for an account, a link of a conflict chain,
/// goes ahead of the others on an urgent lane where threads have cores of their own. A
/// worker runs a handoff's tasks against the bank as one batch (they were runnable
/// together, so none conflicts with another: load, execute, commit) and sends them back;
/// the scheduler deschedules them, which hands their accounts to the next tasks in block
/// order. The state machine's FIFO order per account makes the result equal to running
/// the block in order.
///
/// Tasks are created on the scheduler thread, not beside it: a task holds a reference to
/// each of its accounts' queues, so a creating thread of its own would write the
/// reference counts of busy accounts' queues while the scheduler writes their state, the
/// same cache lines, and it would be one more busy thread. On two cores the scheduler
/// thread costs less per task creating its own (`replay_scheduler` bench, in
/// `docs/PERFORMANCE.md`).
///
/// The scheduler thread and the workers start with the first block replayed in parallel
/// and stop when the replayer is dropped. They wait for work with a
/// [`SpinWait`](crate::SpinWait): polling for up to 50 µs where the machine has a core for
/// each busy thread (the workers and the scheduler), sleeping at once otherwise.
///
/// The usage-queue cache is reused across blocks (an account's queue is created once) and
/// cleared between blocks when it holds more than [`MAX_CACHED_USAGE_QUEUES`]. Only the
/// scheduler thread touches it, which is what makes sharing its queues with that thread's
/// state machine sound.
#[derive(Debug)]
pub struct BlockReplayer {
    num_workers: usize,
    programs: Arc<ProgramRegistry>,
    /// The scheduler thread and the workers, from the first parallel block on.
    pool: Option<ReplayPool>,
    /// How they wait; `None`: [`SpinWait::for_threads`] on this machine.
    wait: Option<SpinWait>,
    /// The scheduler thread's busy time on the last block replayed in parallel.
    last_scheduler_busy: Duration,
}

impl BlockReplayer {
    /// A replayer with `num_workers` workers (clamped to 1..=64) running `programs`.
    pub fn new(num_workers: usize, programs: Arc<ProgramRegistry>) -> Self {
        Self {
            num_workers: num_workers.clamp(1, MAX_WORKERS),
            programs,
            pool: None,
            wait: None,
            last_scheduler_busy: Duration::ZERO,
        }
    }

    /// The same replayer with its threads waiting by `wait` instead of the policy chosen
    /// for this machine (which spins only with a core per busy thread). Tests use it to
    /// run the spinning path (and its urgent lane) on small machines.
    #[must_use]
    pub fn with_wait(mut self, wait: SpinWait) -> Self {
        self.wait = Some(wait);
        self
    }

    /// Workers used.
    pub fn num_workers(&self) -> usize {
        self.num_workers
    }

    /// Usage queues in the scheduler thread's cache (0 before the first block replayed in
    /// parallel). Asks that thread, between blocks.
    pub fn cached_usage_queues(&self) -> usize {
        self.cache_report().cached
    }

    /// Cached usage queues that something besides the cache still refers to (a task).
    /// Between blocks this is 0: every task was descheduled and dropped.
    pub fn usage_queues_in_use(&self) -> usize {
        self.cache_report().in_use
    }

    fn cache_report(&self) -> pool::CacheReport {
        self.pool
            .as_ref()
            .and_then(ReplayPool::inspect_cache)
            .unwrap_or_default()
    }

    /// Replays `blocks` in order from the frozen bank `parent`; returns the last bank and
    /// each block's metrics.
    ///
    /// # Errors
    /// The first block that does not replay to its declared hash (see
    /// [`replay`](Self::replay)).
    pub fn replay_chain(
        &mut self,
        parent: Arc<Bank>,
        blocks: &[Block],
    ) -> Result<(Arc<Bank>, Vec<ReplayMetrics>), ReplayError> {
        let mut parent = parent;
        let mut metrics = Vec::with_capacity(blocks.len());
        for block in blocks {
            let (bank, block_metrics) = self.replay(&parent, block)?;
            metrics.push(block_metrics);
            parent = bank;
        }
        Ok((parent, metrics))
    }

    /// Replays one block on a child of the frozen bank `parent` and checks its hash.
    ///
    /// # Errors
    /// * [`ReplayError::ParentMismatch`]: the block does not build on `parent`;
    /// * [`ReplayError::DuplicateSignature`] or [`ReplayError::UncommittableTransaction`]
    ///   found by the checks before execution (already processed, blockhash too old): the
    ///   block is rejected and nothing of it has run;
    /// * [`ReplayError::UncommittableTransaction`] found while executing (an invalid
    ///   durable nonce): the block is rejected; banks share one store (no forks yet), so
    ///   the block's transactions that ran before stay applied;
    /// * [`ReplayError::HashMismatch`]: the replayed bank hash differs from the block's.
    pub fn replay(
        &mut self,
        parent: &Arc<Bank>,
        block: &Block,
    ) -> Result<(Arc<Bank>, ReplayMetrics), ReplayError> {
        let transactions: Arc<[BufferedTransaction]> = block
            .entries
            .iter()
            .flat_map(|entry| entry.transactions.iter().cloned())
            .collect();
        let bank = crate::sequential_replay::prepare_block(parent, block, &transactions)?;
        let start = Instant::now();
        let in_order = self.num_workers == 1 || !has_parallelism(&transactions, MIN_PARALLELISM);
        self.last_scheduler_busy = Duration::ZERO;
        let outcome = if in_order {
            self.execute_in_order(&bank, block, start)
        } else {
            self.execute(&bank, &transactions, start)
        };
        let timings = match outcome {
            Ok(timings) => timings,
            Err((index, failure)) => {
                let signature = *transactions[index].signature();
                return Err(match failure {
                    Failure::Error(error) => ReplayError::UncommittableTransaction {
                        slot: block.slot,
                        signature,
                        error: Box::new(error),
                    },
                    Failure::Panicked => ReplayError::ExecutionPanicked {
                        slot: block.slot,
                        signature,
                    },
                });
            }
        };
        let actual = bank.freeze();
        let wall = start.elapsed();
        if actual != block.bank_hash {
            return Err(ReplayError::HashMismatch {
                slot: block.slot,
                declared: block.bank_hash,
                actual,
            });
        }
        bank.persist()?;
        let metrics = ReplayMetrics {
            slot: block.slot,
            transactions: transactions.len(),
            workers: self.num_workers,
            in_order,
            wall,
            timings,
            scheduler_busy: self.last_scheduler_busy,
        };
        Ok((bank, metrics))
    }

    /// Runs the block's entries in order on this thread, each as one batch (no handoffs:
    /// for one worker, or a block that is one long chain); returns the timings, or the
    /// first transaction that could not be committed.
    fn execute_in_order(&self, bank: &Arc<Bank>, block: &Block, start: Instant) -> BlockOutcome {
        let config = ProcessingConfig {
            recording: RecordingConfig {
                transaction_times: true,
                ..RecordingConfig::default()
            },
            error_metrics: None,
        };
        let mut timings = Vec::with_capacity(block.transaction_count());
        for entry in &block.entries {
            if entry.transactions.is_empty() {
                continue;
            }
            let entry_start = Instant::now();
            let output = match catch_unwind(AssertUnwindSafe(|| {
                bank.load_and_execute(&self.programs, &entry.transactions, &config)
            })) {
                Ok(output) => output,
                Err(_) => {
                    // Nothing of the entry was committed: run it one transaction at a
                    // time to name the one that panics, as the parallel path does.
                    return Err(self.find_panicking(bank, &entry.transactions, timings.len()));
                }
            };
            if let Some((offset, error)) = output
                .results
                .iter()
                .enumerate()
                .find_map(|(offset, result)| result.as_ref().err().map(|e| (offset, e)))
            {
                return Err((timings.len() + offset, Failure::Error(error.clone())));
            }
            if bank.commit(&entry.transactions, &output).is_err() {
                return Err((
                    timings.len(),
                    Failure::Error(TransactionError::CommitCancelled),
                ));
            }
            let times = output
                .transaction_times
                .expect("invariant: asked for transaction times");
            // The entry's checks and commit are shared work: spread them evenly, so a
            // transaction's time means the same as on the parallel path (checks,
            // execution, commit).
            let executed: Duration = times.iter().map(|&(_, duration)| duration).sum();
            let shared = entry_start.elapsed().saturating_sub(executed)
                / u32::try_from(times.len()).unwrap_or(u32::MAX);
            let mut at = entry_start - start;
            for (_, duration) in times {
                let duration = duration + shared;
                timings.push(TransactionTiming {
                    index: timings.len(),
                    worker: 0,
                    start: at,
                    duration,
                });
                at += duration;
            }
        }
        Ok(timings)
    }

    /// Runs `transactions` (an entry whose batch panicked; the first is the block's
    /// `first_index`-th) one at a time, committing each, and returns the first that fails
    /// or panics.
    fn find_panicking(
        &self,
        bank: &Bank,
        transactions: &[BufferedTransaction],
        first_index: usize,
    ) -> (usize, Failure) {
        for (offset, transaction) in transactions.iter().enumerate() {
            let batch = std::slice::from_ref(transaction);
            let Ok(output) = catch_unwind(AssertUnwindSafe(|| {
                bank.load_and_execute(&self.programs, batch, &ProcessingConfig::default())
            })) else {
                return (first_index + offset, Failure::Panicked);
            };
            if let Err(error) = &output.results[0] {
                return (first_index + offset, Failure::Error(error.clone()));
            }
            if bank.commit(batch, &output).is_err() {
                return (
                    first_index + offset,
                    Failure::Error(TransactionError::CommitCancelled),
                );
            }
        }
        // The entry panicked as a batch but none of its transactions alone: report the
        // first (the block is rejected either way).
        (first_index, Failure::Panicked)
    }

    /// Runs the block's transactions in parallel on the pool (started on first use);
    /// returns their timings, or the first (in block order) that could not be committed.
    fn execute(
        &mut self,
        bank: &Arc<Bank>,
        transactions: &Arc<[BufferedTransaction]>,
        start: Instant,
    ) -> BlockOutcome {
        if transactions.is_empty() {
            return Ok(Vec::new());
        }
        let num_workers = self.num_workers;
        let programs = &self.programs;
        // Busy at once: the workers and the scheduler (this thread waits for the outcome).
        let wait = self
            .wait
            .unwrap_or_else(|| SpinWait::for_threads(num_workers + 1));
        let pool = self
            .pool
            .get_or_insert_with(|| ReplayPool::start(num_workers, programs, wait));
        let context = Arc::new(BlockContext {
            bank: Arc::clone(bank),
            failed_at: AtomicUsize::new(usize::MAX),
            start,
            scheduler_busy_ns: std::sync::atomic::AtomicU64::new(0),
        });
        let outcome = pool.begin(Arc::clone(&context), Arc::clone(transactions));
        match outcome.recv() {
            Ok(outcome) => {
                self.last_scheduler_busy = Duration::from_nanos(
                    context
                        .scheduler_busy_ns
                        .load(std::sync::atomic::Ordering::Relaxed),
                );
                outcome
            }
            Err(_) => {
                // The scheduler thread died (a broken invariant): report its panic here.
                let pool = self
                    .pool
                    .take()
                    .expect("invariant: the pool that took the block is still here");
                // Its usage-queue cache went with it: a later block starts a new scheduler
                // thread with fresh queues.
                std::panic::resume_unwind(pool.into_panic())
            }
        }
    }
}

/// How many transactions the block holds per link of its longest chain of conflicting
/// transactions (counting each transaction as one unit of time): 1.0 for a single chain,
/// the transaction count for a block without conflicts.
pub fn available_parallelism(transactions: &[BufferedTransaction]) -> f64 {
    if transactions.is_empty() {
        return 1.0;
    }
    let unit = vec![Duration::from_nanos(1); transactions.len()];
    let longest = critical_path(
        transactions
            .iter()
            .map(|transaction| transaction.lock_requests()),
        &unit,
    );
    transactions.len() as f64 / longest.as_nanos().max(1) as f64
}

/// Whether `available_parallelism(transactions) >= min`, deciding as soon as the rest of
/// the block cannot change the answer (each transaction lengthens the longest chain by one
/// link at most): a block without conflicts is settled after `1 - 1 / min` of it (a third,
/// for 1.5), a single chain once it is longer than `len / min` links (two thirds). This
/// runs before every block, on the calling thread, ahead of its first task.
fn has_parallelism(transactions: &[BufferedTransaction], min: f64) -> bool {
    // The longest chain the block may have and still offer `min` transactions per link.
    let max_links = (transactions.len() as f64 / min.max(f64::MIN_POSITIVE)).floor();
    let mut tracker = ChainTracker::with_capacity(transactions.len());
    for (added, transaction) in transactions.iter().enumerate() {
        let links = tracker.add(transaction.lock_requests(), Duration::from_nanos(1));
        let links = links.as_nanos() as f64;
        if links > max_links {
            return false;
        }
        let remaining = (transactions.len() - added - 1) as f64;
        if links + remaining <= max_links {
            return true;
        }
    }
    // Only an empty block gets here (`available_parallelism` calls it 1.0).
    1.0 >= min
}

/// Signatures of `transactions` that appear more than once.
pub(crate) fn first_duplicate_signature(
    transactions: &[BufferedTransaction],
) -> Option<&SanitizedTransaction> {
    let mut seen = AHashSet::with_capacity(transactions.len());
    transactions
        .iter()
        .find(|transaction| !seen.insert(*transaction.signature()))
        .map(|transaction| transaction.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::{ConflictPattern, TransactionMix, Workload, WorkloadConfig};
    use proptest::prelude::*;

    fn transactions(seed: u64, count: usize, pattern: ConflictPattern) -> Vec<BufferedTransaction> {
        Workload::generate(&WorkloadConfig {
            seed,
            transactions: count,
            pattern,
            mix: TransactionMix::BENCH,
            bench_units: 0,
            max_price: 100,
        })
        .transactions
        .into_iter()
        .map(|transaction| {
            Arc::new(
                SanitizedTransaction::try_new(transaction)
                    .expect("invariant: the workload's transactions are well formed"),
            )
        })
        .collect()
    }

    proptest! {
        /// The early-stopping check answers as the full computation does.
        #[test]
        fn has_parallelism_agrees_with_available_parallelism(
            seed in any::<u64>(),
            count in 0usize..80,
            accounts in 1usize..24,
            min in prop_oneof![Just(1.0), Just(1.5), Just(2.0), Just(3.0), Just(7.5)],
        ) {
            for pattern in [
                ConflictPattern::Uniform { accounts },
                ConflictPattern::None,
                ConflictPattern::Chain,
                ConflictPattern::ReadMostly { shared: accounts },
                ConflictPattern::ReadWrite { shared: accounts },
            ] {
                let block = transactions(seed, count, pattern);
                prop_assert_eq!(
                    has_parallelism(&block, min),
                    available_parallelism(&block) >= min,
                    "{} transactions, pattern {:?}, min {}", block.len(), pattern, min
                );
            }
        }
    }
}
