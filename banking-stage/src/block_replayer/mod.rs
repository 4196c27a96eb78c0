//! `BlockReplayer`: replays blocks in parallel with `unified-scheduler-logic`'s FIFO state
//! machine, to exactly the state a sequential replay reaches.
//!
//! `mod.rs` holds the replayer and its in-order path; `handover.rs` how the calling thread
//! and the scheduler thread share a block; `pool.rs` the scheduler thread and the workers
//! (kept across blocks) and what travels between them; `block_run.rs` what the scheduler
//! thread does with one block; `task_factory.rs` how it turns transactions into tasks and
//! followers; `handoff_sizing.rs` how much work one handoff carries; `hash_shares.rs` how
//! idle workers help build a block's filter; `worker.rs` what a worker does with a
//! handoff; `contested_filter.rs` which accounts two transactions of a block may contend
//! for (the others are not scheduled, and a transaction that touches none needs no task).

mod block_run;
mod contested_filter;
mod handoff_sizing;
mod handover;
mod hash_shares;
mod pool;
mod task_factory;
mod worker;

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
use crate::sequential_replay::{DiscardOnPanic, ReplayError, reject_block};
use crate::spin_wait::SpinWait;
use handover::{Claim, Handover, InOrderReport};
use pool::{BlockOutcome, ReplayPool, Reply};
use worker::{BlockContext, Failure};

pub use handoff_sizing::MAX_TASKS_PER_HANDOFF;

/// Below this available parallelism (transactions per link of the longest conflict
/// chain), a block is replayed in order on the calling thread: handing each link of a
/// chain from thread to thread costs two wake-ups and gains nothing.
pub const MIN_PARALLELISM: f64 = 1.5;

/// Usage queues kept across blocks at most; past it, the cache is cleared between blocks.
pub const MAX_CACHED_USAGE_QUEUES: usize = 1 << 20;

/// The work the calling thread claims at a time while the scheduler checks a block (see
/// `handover.rs`), by what its transactions have cost so far (one transaction at first):
/// about what a scheduler taking over waits for (at 14 workers, under 1% of a
/// 3,000-transaction block of 20 µs transactions), and enough that each claim,
/// a batch of its own with its own commit, carries several cheap transactions (a block
/// that stays in order runs its first few hundred transactions this way while the
/// scheduler checks it).
const UNDECIDED_CHUNK_WORK: Duration = Duration::from_micros(40);

/// A block the scheduler thread is checking: how it and the calling thread share the
/// block, where the calling thread reports, and where the scheduler answers. If the block
/// fails its checks before execution, the calling thread stops the handover and closes
/// the report channel, so the scheduler runs nothing of the block, and awaits its answer.
#[derive(Debug)]
struct Checking {
    handover: Arc<Handover>,
    report: crossbeam_channel::Sender<InOrderReport>,
    reply: crossbeam_channel::Receiver<Reply>,
}

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
    /// The worker that ran it; 0 also for the calling thread, which runs a block replayed
    /// in order and the first transactions of a parallel block (while the scheduler thread
    /// checks it).
    pub worker: usize,
    /// Start, from the beginning of the block's replay.
    pub start: Duration,
    /// How long it took (load, execute, commit).
    pub duration: Duration,
}

/// Where the scheduler thread took a parallel block over from the calling thread, which
/// had run the block in order until then (see [`BlockReplayer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Takeover {
    /// The first transaction the scheduler ran: the calling thread ran those before it.
    pub index: usize,
    /// When, from the block's start, the scheduler had its check done and the calling
    /// thread's transactions finished, and began handing out the rest. Until then the
    /// calling thread alone runs the block, so at many workers this is the replay's serial
    /// prefix.
    pub at: Duration,
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
    /// Whether the whole block ran in order on the calling thread: with one worker, for a
    /// block with too little parallelism (see [`MIN_PARALLELISM`]), or for one that the
    /// calling thread had claimed to its end before the scheduler thread's check was
    /// done.
    pub in_order: bool,
    /// Wall time of the block's replay (from the first task to the frozen bank).
    pub wall: Duration,
    /// Per transaction, in block order: when it ran, where, and how long it took (its
    /// checks, execution and commit).
    pub timings: Vec<TransactionTiming>,
    /// Where and when the scheduler thread took the block over from the calling thread;
    /// `None` when the block ran in order (`in_order`).
    pub takeover: Option<Takeover>,
    /// How long the scheduler thread was busy on the block (filtering the block's
    /// accounts, checking its parallelism, creating tasks, scheduling, handing out,
    /// descheduling; not waiting): near `wall`, the scheduler may be what limits the
    /// replay. For a block replayed in order, the check that chose it; zero with one
    /// worker or for a block without transactions (no check, no scheduler thread). Where
    /// every thread has a core, the check starts before `wall` does, beside the block's
    /// checks before execution.
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
/// parent hash, no signature twice, every transaction's age and status-cache check),
/// hands the block's transactions to the scheduler thread, which starts checking the
/// block's parallelism (where every thread has a core, it does so before those checks,
/// beside them), and starts running the block in order, a few transactions at a time,
/// while the scheduler's check goes on (see `handover.rs`):
/// a block found to have too little parallelism stays with the calling thread, which runs
/// the rest entry by entry (so the check costs a single chain nothing); otherwise the
/// scheduler takes over from the first transaction the calling thread has not claimed.
/// The scheduler thread owns the state machine and the usage-queue cache. Before the
/// block's first task it learns which accounts the block *contests*: written by one of its transactions and touched by
/// another. Only those can order two transactions; a program every transaction invokes, a
/// configuration account nobody writes, a fee payer or an account that one transaction
/// alone touches order nothing (a filter tells them apart, see `contested_filter.rs`: it
/// may call such an account contested, never the other way round). Then, a bite at a
/// time between looks at the workers' answers, it creates a task for each transaction
/// that touches a contested account, with those accounts only (resolving each to its usage
/// queue); a transaction that touches none is *independent*: it commutes with every
/// other transaction of the block, so it gets no task and is handed out as it is. A
/// transaction whose every contested account was last touched by one task not handed out
/// yet (a link of a chain that is waiting for its turn) joins that task as a follower
/// instead of becoming a task of its own: it runs right after the task, in the same
/// batch, under the task's locks, so that a chain that has fallen behind catches up
/// several links per round trip to the scheduler thread (see `Group` in `task_factory.rs`).
///
/// Tasks that hold all their accounts go to the workers in handoffs of a share per worker
/// (at most [`MAX_TASKS_PER_HANDOFF`] tasks with their followers, and, where threads
/// spin, about 12 µs of what transactions have cost so far, followers included); a task that had to wait for an account, a link of a conflict chain,
/// goes ahead of the others on an urgent lane where threads have cores of their own.
/// Independent transactions fill in after the tasks, in handoffs that shrink towards the
/// block's end (and keep to the 12 µs where the block has chains). A worker runs a
/// handoff against the bank as one batch (its transactions were runnable together, so
/// none conflicts with another: load, execute, commit) and sends it back; the scheduler
/// deschedules the tasks, which hands their accounts to the next tasks in block order.
/// The state machine's FIFO order per contested account makes the result equal to
/// running the block in order. A block without conflicts touches the state machine only
/// for the few transactions the filter wrongly takes for contested (about one in 300):
/// its scheduler thread otherwise only reads the block's accounts once, to build the
/// filter (where threads spin, only its share of them: the idle workers read the rest),
/// keeping each lock request's hash (checking a third of the block's parallelism
/// and looking at each transaction then read those hashes, not the transactions), and
/// hands the block out.
///
/// Tasks are created on the scheduler thread, not beside it: a task holds a reference to
/// each of its accounts' queues, so a creating thread of its own would write the
/// reference counts of busy accounts' queues while the scheduler writes their state, the
/// same cache lines, and it would be one more busy thread. On two cores the scheduler
/// thread costs less per task creating its own (`replay_scheduler` bench, in
/// `docs/PERFORMANCE.md`).
///
/// The scheduler thread and the workers start with the first block (with more than one
/// worker) and stop when the replayer is dropped. They wait for work with a
/// [`crate::SpinWait`]: polling for up to 50 µs where the machine has a core for
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
    /// The scheduler thread and the workers, from the first block on (with more than one
    /// worker).
    pool: Option<ReplayPool>,
    /// How they wait; `None`: [`SpinWait::for_threads`] on this machine.
    wait: Option<SpinWait>,
    /// Transactions the calling thread claims at most before the scheduler's verdict
    /// (unlimited but in tests, which pin where the scheduler takes over).
    claim_limit: usize,
}

impl BlockReplayer {
    /// A replayer with `num_workers` workers (clamped to 1..=64) running `programs`.
    pub fn new(num_workers: usize, programs: Arc<ProgramRegistry>) -> Self {
        Self {
            num_workers: num_workers.clamp(1, MAX_WORKERS),
            programs,
            pool: None,
            wait: None,
            claim_limit: usize::MAX,
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

    /// The same replayer with its calling thread claiming at most `limit` transactions of
    /// a block before the scheduler's verdict (then waiting for it), so that a test knows
    /// where the scheduler takes over.
    #[cfg(test)]
    pub(crate) fn with_claim_limit(mut self, limit: usize) -> Self {
        self.claim_limit = limit;
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

    fn cache_report(&self) -> task_factory::CacheReport {
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
    ///   durable nonce), or [`ReplayError::ExecutionPanicked`];
    /// * [`ReplayError::HashMismatch`]: the replayed bank hash differs from the block's.
    ///
    /// A block rejected once it started running, or that could not be persisted, is
    /// undone ([`Bank::discard`]; on a panic too, before it unwinds): the store and the
    /// status cache are as `parent` left them, so another block can be replayed on it.
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
        let parallel = self.num_workers > 1 && !transactions.is_empty();
        // Where every thread has a core, the scheduler thread starts checking the block
        // (its contested accounts, its parallelism) while this thread makes the checks
        // before execution: the workers would otherwise idle through the check. Where
        // threads share cores, it starts after them: there the overlap gains nothing
        // measurable (this thread runs the block in order during the check anyway), and
        // the two passes over the block at once cost a block replayed in order 2-3%.
        let early = parallel && self.wait_policy().spins();
        let checking = early.then(|| self.begin_check(&transactions, block.slot));
        let bank = match crate::sequential_replay::prepare_block(parent, block, &transactions) {
            Ok(bank) => bank,
            Err(error) => {
                if let Some(Checking {
                    handover,
                    report,
                    reply,
                }) = checking
                {
                    // The scheduler runs nothing of the block: it is told to stop (it
                    // looks once it has built the block's filter, and then skips the
                    // rest), and its report channel closes without a report (before the
                    // wait below: a scheduler that took over meanwhile waits on that
                    // channel). So it answers at most a filter build later. Waiting for
                    // that makes a panic on its thread while it checked this block (a
                    // broken invariant) surface here, with this block, rather than with
                    // the next block after that one ran in order.
                    handover.stop();
                    drop(report);
                    self.scheduler_reply(&reply);
                }
                return Err(error);
            }
        };
        // From here on the block changes the store: however this call ends short of
        // accepting it, the block is undone, a panic included.
        let discard_on_panic = DiscardOnPanic(&bank);
        let checking =
            checking.or_else(|| parallel.then(|| self.begin_check(&transactions, block.slot)));
        let start = Instant::now();
        let (takeover, outcome, scheduler_busy) = match checking {
            None => (
                None,
                self.execute_in_order(&bank, block, start),
                Duration::ZERO,
            ),
            Some(checking) => self.execute(&bank, block, &transactions, checking, start),
        };
        let timings = match outcome {
            Ok(timings) => timings,
            Err((index, failure)) => {
                let signature = *transactions[index].signature();
                let error = match failure {
                    Failure::Error(error) => ReplayError::UncommittableTransaction {
                        slot: block.slot,
                        signature,
                        error: Box::new(error),
                    },
                    Failure::Panicked => ReplayError::ExecutionPanicked {
                        slot: block.slot,
                        signature,
                    },
                };
                return Err(reject_block(&bank, error));
            }
        };
        let actual = bank.freeze();
        let wall = start.elapsed();
        if actual != block.bank_hash {
            let error = ReplayError::HashMismatch {
                slot: block.slot,
                declared: block.bank_hash,
                actual,
            };
            return Err(reject_block(&bank, error));
        }
        if let Err(error) = bank.persist() {
            return Err(reject_block(&bank, error.into()));
        }
        drop(discard_on_panic);
        let metrics = ReplayMetrics {
            slot: block.slot,
            transactions: transactions.len(),
            workers: self.num_workers,
            in_order: takeover.is_none(),
            takeover,
            wall,
            timings,
            scheduler_busy,
        };
        Ok((bank, metrics))
    }

    /// Runs the block's entries in order on this thread, each as one batch (no handoffs:
    /// for one worker); returns the timings, or the first transaction that could not be
    /// committed.
    fn execute_in_order(&self, bank: &Arc<Bank>, block: &Block, start: Instant) -> BlockOutcome {
        let mut timings = Vec::with_capacity(block.transaction_count());
        for entry in &block.entries {
            if !entry.transactions.is_empty() {
                let first = timings.len();
                timings.extend(self.run_in_order(bank, &entry.transactions, first, start)?);
            }
        }
        Ok(timings)
    }

    /// Runs `transactions`, the block's from its `first_index`-th on, in order on this
    /// thread as one batch; returns their timings, or the first that could not be
    /// committed (then none of the batch was).
    fn run_in_order(
        &self,
        bank: &Arc<Bank>,
        transactions: &[BufferedTransaction],
        first_index: usize,
        start: Instant,
    ) -> BlockOutcome {
        let config = ProcessingConfig {
            recording: RecordingConfig {
                transaction_times: true,
                ..RecordingConfig::default()
            },
            error_metrics: None,
        };
        let batch_start = Instant::now();
        let output = match catch_unwind(AssertUnwindSafe(|| {
            bank.load_and_execute(&self.programs, transactions, &config)
        })) {
            Ok(output) => output,
            Err(_) => {
                // Nothing of the batch was committed: run it one transaction at a time to
                // name the one that panics, as the parallel path does.
                return Err(self.find_panicking(bank, transactions, first_index));
            }
        };
        if let Some((offset, error)) = output
            .results
            .iter()
            .enumerate()
            .find_map(|(offset, result)| result.as_ref().err().map(|e| (offset, e)))
        {
            return Err((first_index + offset, Failure::Error(error.clone())));
        }
        if bank.commit(transactions, &output).is_err() {
            return Err((
                first_index,
                Failure::Error(TransactionError::CommitCancelled),
            ));
        }
        let times = output
            .transaction_times
            .expect("invariant: asked for transaction times");
        // The batch's checks and commit are shared work: spread them evenly, so a
        // transaction's time means the same as on the parallel path (checks, execution,
        // commit).
        let executed: Duration = times.iter().map(|&(_, duration)| duration).sum();
        let shared = batch_start.elapsed().saturating_sub(executed)
            / u32::try_from(times.len()).unwrap_or(u32::MAX);
        let mut at = batch_start - start;
        Ok(times
            .into_iter()
            .enumerate()
            .map(|(offset, (_, duration))| {
                let duration = duration + shared;
                let timing = TransactionTiming {
                    index: first_index + offset,
                    worker: 0,
                    start: at,
                    duration,
                };
                at += duration;
                timing
            })
            .collect())
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

    /// How the replayer's threads wait: as set by [`with_wait`](Self::with_wait), else
    /// spinning only where the machine has a core for each busy thread (the workers and the
    /// scheduler; this thread runs the block's first transactions while the scheduler
    /// checks it, then waits for the outcome).
    fn wait_policy(&self) -> SpinWait {
        self.wait
            .unwrap_or_else(|| SpinWait::for_threads(self.num_workers + 1))
    }

    /// Hands the block of `transactions` at `slot` to the pool (started on first use), whose
    /// scheduler thread starts checking it.
    fn begin_check(&mut self, transactions: &Arc<[BufferedTransaction]>, slot: u64) -> Checking {
        let num_workers = self.num_workers;
        let programs = &self.programs;
        let wait = self.wait_policy();
        let pool = self
            .pool
            .get_or_insert_with(|| ReplayPool::start(num_workers, programs, wait));
        let handover = Arc::new(Handover::default());
        let (report, report_receiver) = crossbeam_channel::bounded(1);
        let reply = pool.begin(
            Arc::clone(transactions),
            slot,
            Arc::clone(&handover),
            report_receiver,
        );
        Checking {
            handover,
            report,
            reply,
        }
    }

    /// Replays the block, which the scheduler thread is `checking`, with the pool: runs it
    /// in order here from its first transaction while the check goes on, then either goes
    /// on to its end (too little parallelism) or stops where the scheduler takes over (see
    /// `handover.rs`). Returns where the scheduler took over (`None`: it ran in order),
    /// the timings or the first failure, and the scheduler thread's busy time.
    fn execute(
        &mut self,
        bank: &Arc<Bank>,
        block: &Block,
        transactions: &Arc<[BufferedTransaction]>,
        checking: Checking,
        start: Instant,
    ) -> (Option<Takeover>, BlockOutcome, Duration) {
        let Checking {
            handover,
            report,
            reply,
        } = checking;
        let (mine, finished) = self.run_until_handover(bank, block, &handover, start);
        if mine.is_ok() {
            // The scheduler waits for this only if it took over; it holds one report.
            let _ = report.send(InOrderReport {
                finished,
                context: Arc::new(BlockContext {
                    bank: Arc::clone(bank),
                    transactions: Arc::clone(transactions),
                    failed_at: AtomicUsize::new(usize::MAX),
                    start,
                }),
            });
        }
        // A failure closes the channel without a report: nothing more of the block runs.
        drop(report);
        let reply = self.scheduler_reply(&reply);
        match reply.ran {
            None => (None, mine, reply.busy),
            Some((takeover, outcome)) => {
                let outcome = mine.and_then(|mut timings| {
                    timings.extend(outcome?);
                    Ok(timings)
                });
                (Some(takeover), outcome, reply.busy)
            }
        }
    }

    /// The scheduler thread's answer on `reply`; if that thread died instead (a broken
    /// invariant), resumes its panic here.
    fn scheduler_reply(&mut self, reply: &crossbeam_channel::Receiver<Reply>) -> Reply {
        match reply.recv() {
            Ok(reply) => reply,
            Err(_) => {
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

    /// Runs the block in order on this thread from its first transaction until the
    /// scheduler takes over (or to its end): a few transactions at a time while the
    /// scheduler's verdict is out, entry by entry once the block is this thread's. Returns
    /// the timings of the transactions it ran or its first failure, and how many it ran.
    fn run_until_handover(
        &self,
        bank: &Arc<Bank>,
        block: &Block,
        handover: &Handover,
        start: Instant,
    ) -> (BlockOutcome, usize) {
        let mut timings: Vec<TransactionTiming> = Vec::with_capacity(block.transaction_count());
        let mut whole_block = false;
        let mut waiting_since: Option<Instant> = None;
        let mut entry_start = 0;
        for entry in &block.entries {
            let entry_end = entry_start + entry.transactions.len();
            let mut next = entry_start;
            while next < entry_end {
                let to = if whole_block {
                    entry_end
                } else {
                    let to = entry_end
                        .min(next + undecided_chunk(&timings))
                        .min(self.claim_limit.max(next));
                    match handover.claim(next, to) {
                        Claim::Granted => to,
                        Claim::WholeBlock => {
                            whole_block = true;
                            entry_end
                        }
                        Claim::TakenOver => return (Ok(timings), next),
                    }
                };
                if to == next {
                    // At the claim limit (tests only): wait for the verdict, failing the
                    // test instead of hanging if the scheduler thread never gives one.
                    let waiting = waiting_since.get_or_insert_with(Instant::now);
                    assert!(
                        waiting.elapsed() < Duration::from_secs(60),
                        "invariant (tests): the scheduler thread gives a verdict"
                    );
                    std::thread::yield_now();
                    continue;
                }
                let chunk = &entry.transactions[next - entry_start..to - entry_start];
                match self.run_in_order(bank, chunk, next, start) {
                    Ok(chunk_timings) => timings.extend(chunk_timings),
                    Err(failure) => {
                        handover.stop();
                        return (Err(failure), next);
                    }
                }
                next = to;
            }
            entry_start = entry_end;
        }
        let finished = timings.len();
        (Ok(timings), finished)
    }
}

/// Transactions the calling thread claims at a time while the scheduler's verdict is out:
/// about [`UNDECIDED_CHUNK_WORK`] of them by what they have cost so far (one at first), so
/// that a scheduler taking over waits about that long (a claim with an unusually slow
/// transaction in it makes it wait longer).
fn undecided_chunk(timings: &[TransactionTiming]) -> usize {
    let Some(last) = timings.len().checked_sub(1) else {
        return 1;
    };
    let elapsed = timings[last].start + timings[last].duration - timings[0].start;
    let mean = elapsed / u32::try_from(timings.len()).unwrap_or(u32::MAX);
    let chunk = UNDECIDED_CHUNK_WORK.as_nanos() / mean.as_nanos().max(1);
    usize::try_from(chunk)
        .unwrap_or(usize::MAX)
        .clamp(1, MAX_TASKS_PER_HANDOFF)
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
/// for 1.5), a single chain once it is longer than `len / min` links (two thirds).
///
/// With the block's `filter` (`contested_filter.rs`), only the accounts it says may be
/// contested are followed: an account that no transaction writes, or that one
/// transaction alone touches, links no two transactions, so leaving it out changes no
/// chain. This runs before every block on the scheduler thread, after the filter: the
/// accounts it follows are then the few that conflicts run through, and an independent
/// transaction costs a filter lookup per account, from the hashes the filter kept,
/// without reading the transaction again. Without a filter, every account is followed.
fn has_parallelism(
    transactions: &[BufferedTransaction],
    min: f64,
    filter: Option<&contested_filter::ContestedFilter>,
) -> bool {
    // The longest chain the block may have and still offer `min` transactions per link.
    let max_links = (transactions.len() as f64 / min.max(f64::MIN_POSITIVE)).floor();
    assert!(
        filter.is_none_or(|filter| filter.transactions() == transactions.len()),
        "invariant: the filter is the block's"
    );
    let mut tracker = ChainTracker::default();
    let unit = Duration::from_nanos(1);
    for (added, transaction) in transactions.iter().enumerate() {
        let links = match filter {
            None => tracker.add(transaction.lock_requests(), unit),
            Some(filter) if filter.is_independent(added) => tracker.add(std::iter::empty(), unit),
            Some(filter) => tracker.add(filter.contested_requests(added, transaction), unit),
        };
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

    /// `count` seeded bench transactions over `pattern`, sanitized.
    pub(in crate::block_replayer) fn transactions(
        seed: u64,
        count: usize,
        pattern: ConflictPattern,
    ) -> Vec<BufferedTransaction> {
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
        /// The early-stopping check answers as the full computation does, following every
        /// account or only the contested ones.
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
                let expected = available_parallelism(&block) >= min;
                prop_assert_eq!(
                    has_parallelism(&block, min, None),
                    expected,
                    "every account: {} transactions, pattern {:?}, min {}", block.len(), pattern, min
                );
                // Following only the contested accounts changes no chain.
                let mut filter = contested_filter::ContestedFilter::default();
                filter.rebuild(&block, seed);
                prop_assert_eq!(
                    has_parallelism(&block, min, Some(&filter)),
                    expected,
                    "contested accounts: {} transactions, pattern {:?}, min {}", block.len(), pattern, min
                );
            }
        }
    }
}
