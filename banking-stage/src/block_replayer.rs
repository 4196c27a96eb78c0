//! `BlockReplayer`: replays blocks in parallel with `unified-scheduler-logic`'s FIFO state
//! machine, to exactly the state a sequential replay reaches.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ahash::AHashSet;
use crossbeam_channel::{Receiver, Sender, TryRecvError, unbounded};
use dashmap::DashMap;
use sdk_lite::{Pubkey, SanitizedTransaction, TransactionError};
use svm_lite::{ProcessingConfig, ProgramRegistry, RecordingConfig};
use unified_scheduler_logic::{
    Capability, RequestedUsage, SchedulingStateMachine, Task, UsageQueue,
};

use crate::bank::Bank;
use crate::block::Block;
use crate::critical_path::critical_path;
use crate::messages::BufferedTransaction;
use crate::pipeline::MAX_WORKERS;
use crate::sequential_replay::ReplayError;

/// Below this available parallelism (transactions per link of the longest conflict
/// chain), a block is replayed in order on the calling thread: handing each link of a
/// chain from thread to thread costs two wake-ups and gains nothing.
pub const MIN_PARALLELISM: f64 = 1.5;

/// New tasks the scheduler takes in at most between two looks at the workers' answers.
const NEW_TASKS_PER_TURN: usize = 256;

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

/// Replays blocks on `num_workers` threads with a FIFO [`SchedulingStateMachine`].
///
/// A block whose longest conflict chain leaves less than [`MIN_PARALLELISM`] transactions
/// per link (a single chain), and every block when there is one worker, is instead replayed
/// in order on the calling thread, entry by entry: the state machine would only hand each
/// transaction from thread to thread.
///
/// Per block: the calling thread checks what can be checked before anything runs (the
/// parent hash, no signature twice, every transaction's age and status-cache check), then
/// creates a task per transaction (resolving each account to its usage queue through a
/// shared [`DashMap`], off the scheduler thread) and streams them to a scheduler thread.
/// That thread owns the state machine: a task that holds all its accounts goes on a
/// channel read by every worker (several at a time when many are runnable); a worker runs
/// a handoff's tasks against the bank as one batch (they were runnable together, so none
/// conflicts with another: load, execute, commit) and sends them back; the scheduler
/// deschedules them, which hands their accounts to the next tasks in block order. The state
/// machine's FIFO order per account makes the result equal to running the block in order.
///
/// The usage-queue cache is reused across blocks (an account's queue is created once) and
/// cleared between blocks when it holds more than [`MAX_CACHED_USAGE_QUEUES`]. Replay
/// takes `&mut self`: one block at a time, which is what makes sharing the cache's queues
/// with each block's state machine sound.
#[derive(Debug)]
pub struct BlockReplayer {
    num_workers: usize,
    programs: Arc<ProgramRegistry>,
    usage_queues: DashMap<Pubkey, UsageQueue<ReplayTask>>,
}

impl BlockReplayer {
    /// A replayer with `num_workers` workers (clamped to 1..=64) running `programs`.
    pub fn new(num_workers: usize, programs: Arc<ProgramRegistry>) -> Self {
        Self {
            num_workers: num_workers.clamp(1, MAX_WORKERS),
            programs,
            usage_queues: DashMap::new(),
        }
    }

    /// Workers used.
    pub fn num_workers(&self) -> usize {
        self.num_workers
    }

    /// Usage queues in the cache.
    pub fn cached_usage_queues(&self) -> usize {
        self.usage_queues.len()
    }

    /// Cached usage queues that something besides the cache still refers to (a task, a
    /// state machine). Between blocks this is 0: every task was descheduled and dropped.
    pub fn usage_queues_in_use(&self) -> usize {
        self.usage_queues
            .iter()
            .filter(|entry| entry.value().handle_count() > 1)
            .count()
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
        let transactions: Vec<BufferedTransaction> = block
            .entries
            .iter()
            .flat_map(|entry| entry.transactions.iter().cloned())
            .collect();
        let bank = crate::sequential_replay::prepare_block(parent, block, &transactions)?;
        if self.usage_queues.len() > MAX_CACHED_USAGE_QUEUES {
            self.usage_queues.clear();
        }
        let start = Instant::now();
        let in_order =
            self.num_workers == 1 || available_parallelism(&transactions) < MIN_PARALLELISM;
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
        };
        Ok((bank, metrics))
    }

    /// Runs the block's entries in order on this thread, each as one batch (no handoffs:
    /// for one worker, or a block that is one long chain); returns the timings, or the
    /// first transaction that could not be committed.
    fn execute_in_order(
        &self,
        bank: &Arc<Bank>,
        block: &Block,
        start: Instant,
    ) -> Result<Vec<TransactionTiming>, (usize, Failure)> {
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
                Err(_) => return Err((timings.len(), Failure::Panicked)),
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

    /// Runs the block's transactions in parallel; returns their timings, or the first
    /// (in block order) that could not be committed.
    fn execute(
        &self,
        bank: &Arc<Bank>,
        transactions: &[BufferedTransaction],
        start: Instant,
    ) -> Result<Vec<TransactionTiming>, (usize, Failure)> {
        if transactions.is_empty() {
            return Ok(Vec::new());
        }
        let (task_sender, task_receiver) = unbounded::<Task<ReplayTask>>();
        let (runnable_sender, runnable_receiver) = unbounded::<Vec<Task<ReplayTask>>>();
        let (done_sender, done_receiver) = unbounded::<Vec<(Task<ReplayTask>, TaskResult)>>();
        // The lowest index of a transaction that failed: later ones are skipped (the block
        // is rejected anyway), earlier ones still run, so the error reported is the first
        // in block order, as in a sequential replay.
        let failed_at = AtomicUsize::new(usize::MAX);
        let num_workers = self.num_workers;
        std::thread::scope(|scope| {
            let scheduler = std::thread::Builder::new()
                .name("replay-scheduler".to_owned())
                .spawn_scoped(scope, move || {
                    run_scheduler(
                        num_workers,
                        &task_receiver,
                        &runnable_sender,
                        &done_receiver,
                    )
                })
                .expect("invariant: the OS can start the replay scheduler thread");
            for worker in 0..num_workers {
                let runnable = runnable_receiver.clone();
                let done = done_sender.clone();
                let failed_at = &failed_at;
                std::thread::Builder::new()
                    .name(format!("replay-{worker}"))
                    .spawn_scoped(scope, move || {
                        run_worker(
                            worker,
                            bank,
                            &self.programs,
                            &runnable,
                            &done,
                            failed_at,
                            start,
                        );
                    })
                    .expect("invariant: the OS can start a replay worker");
            }
            drop(runnable_receiver);
            drop(done_sender);
            // Task creation, off the scheduler thread: the usage-queue lookups happen here.
            let mut loader = |key: Pubkey| {
                // A read-locked shard first: most accounts were seen before (and the
                // program ids every transaction names would otherwise serialize here).
                if let Some(queue) = self.usage_queues.get(&key) {
                    return queue.clone();
                }
                self.usage_queues
                    .entry(key)
                    .or_insert_with(|| UsageQueue::new(Capability::FifoQueueing))
                    .clone()
            };
            for (index, transaction) in transactions.iter().enumerate() {
                let requests = transaction.lock_requests().map(|(key, writable)| {
                    let usage = if writable {
                        RequestedUsage::Writable
                    } else {
                        RequestedUsage::Readonly
                    };
                    (*key, usage)
                });
                let task = SchedulingStateMachine::create_task(
                    ReplayTask {
                        index,
                        transaction: Arc::clone(transaction),
                    },
                    index as u128,
                    requests,
                    &mut loader,
                );
                if task_sender.send(task).is_err() {
                    break;
                }
            }
            drop(task_sender);
            scheduler
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }
}

/// A worker's result for one task.
#[derive(Debug)]
enum TaskResult {
    Ran(TransactionTiming),
    Failed(Failure),
    /// Not run: an earlier task failed, so the block is rejected anyway.
    Skipped,
}

/// Why a transaction of a block could not be replayed.
#[derive(Debug)]
enum Failure {
    /// The bank refused it.
    Error(TransactionError),
    /// Its execution panicked (a program bug); nothing of it was committed.
    Panicked,
}

/// The scheduler thread: feeds the state machine tasks as they are created, sends runnable
/// ones to the workers, and deschedules finished ones. Returns the timings in block order,
/// or the first failure in block order.
///
/// Tasks travel in small batches both ways: when many are runnable, a worker takes up to
/// [`MAX_TASKS_PER_HANDOFF`] at once and answers for them together, which divides the
/// channel operations and thread wake-ups per task; when few are (a chain), each goes
/// alone, so nothing waits behind a batch.
///
/// It runs until the task channel is closed and every task it received is answered, so a
/// panic on the thread creating tasks cannot leave it waiting.
fn run_scheduler(
    num_workers: usize,
    tasks: &Receiver<Task<ReplayTask>>,
    runnable: &Sender<Vec<Task<ReplayTask>>>,
    done: &Receiver<Vec<(Task<ReplayTask>, TaskResult)>>,
) -> Result<Vec<TransactionTiming>, (usize, Failure)> {
    // SAFETY: this thread was spawned for this block and creates no other machine for
    // `ReplayTask`; the usage queues it receives come from the replayer's cache, which
    // `BlockReplayer::replay` (taking `&mut self`) lends to one block, hence to one state
    // machine, at a time; every task is descheduled before this function returns, so no
    // queue is left referenced by this machine when the next block's machine takes it.
    let mut machine = unsafe {
        SchedulingStateMachine::<ReplayTask>::exclusively_initialize_current_thread_for_scheduling(
            Capability::FifoQueueing,
            // Every task whose accounts are free may run: the workers keep a queue and
            // rarely sleep, and the state machine still holds back conflicting ones.
            None,
        )
    };
    let mut timings: Vec<Option<TransactionTiming>> = Vec::new();
    let mut first_failure: Option<(usize, Failure)> = None;
    let mut received = 0;
    let mut handled = 0;
    let mut tasks_open = true;
    let mut ready: Vec<Task<ReplayTask>> = Vec::new();
    let mut finish = |machine: &mut SchedulingStateMachine<ReplayTask>,
                      answers: Vec<(Task<ReplayTask>, TaskResult)>,
                      handled: &mut usize| {
        for (task, result) in answers {
            machine.deschedule_task(&task);
            *handled += 1;
            let index = task.payload().index;
            match result {
                TaskResult::Ran(timing) => {
                    if timings.len() <= index {
                        timings.resize(index + 1, None);
                    }
                    timings[index] = Some(timing);
                }
                TaskResult::Failed(error) => {
                    if first_failure
                        .as_ref()
                        .is_none_or(|(first, _)| index < *first)
                    {
                        first_failure = Some((index, error));
                    }
                }
                TaskResult::Skipped => {}
            }
        }
    };
    while tasks_open || handled < received {
        // Take everything waiting without blocking: answers first (they unblock others),
        // then new tasks (a bounded bite, so answers are not left waiting).
        let mut progressed = false;
        for answers in done.try_iter() {
            finish(&mut machine, answers, &mut handled);
            progressed = true;
        }
        if tasks_open {
            for _ in 0..NEW_TASKS_PER_TURN {
                match tasks.try_recv() {
                    Ok(task) => {
                        progressed = true;
                        received += 1;
                        ready.extend(machine.schedule_task(task));
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        tasks_open = false;
                        break;
                    }
                }
            }
        }
        while let Some(task) = machine.schedule_next_unblocked_task() {
            ready.push(task);
        }
        hand_out(runnable, &mut ready, num_workers);
        if progressed || (!tasks_open && handled == received) {
            continue;
        }
        // Nothing waiting: sleep until a worker answers or a task arrives.
        if tasks_open {
            crossbeam_channel::select! {
                recv(done) -> answers => match answers {
                    Ok(answers) => finish(&mut machine, answers, &mut handled),
                    Err(_) => panic!("invariant: the replay workers outlive the block's scheduler"),
                },
                recv(tasks) -> task => match task {
                    Ok(task) => {
                        received += 1;
                        ready.extend(machine.schedule_task(task));
                    }
                    Err(_) => tasks_open = false,
                },
            }
        } else {
            match done.recv() {
                Ok(answers) => finish(&mut machine, answers, &mut handled),
                Err(_) => panic!("invariant: the replay workers outlive the block's scheduler"),
            }
        }
        while let Some(task) = machine.schedule_next_unblocked_task() {
            ready.push(task);
        }
        hand_out(runnable, &mut ready, num_workers);
    }
    assert!(
        machine.has_no_active_task(),
        "invariant: every task of the block was descheduled"
    );
    if let Some(failure) = first_failure {
        return Err(failure);
    }
    timings.resize(received, None);
    Ok(timings
        .into_iter()
        .map(|timing| timing.expect("invariant: every task ran when none failed"))
        .collect())
}

/// Most tasks a worker takes in one handoff.
pub const MAX_TASKS_PER_HANDOFF: usize = 16;

/// Sends the `ready` tasks to the workers in batches of `ready / workers` (at least 1, at
/// most [`MAX_TASKS_PER_HANDOFF`]), so that every worker gets a share.
fn hand_out(
    runnable: &Sender<Vec<Task<ReplayTask>>>,
    ready: &mut Vec<Task<ReplayTask>>,
    num_workers: usize,
) {
    if ready.is_empty() {
        return;
    }
    let size = (ready.len() / num_workers.max(1)).clamp(1, MAX_TASKS_PER_HANDOFF);
    let mut tasks = std::mem::take(ready).into_iter().peekable();
    while tasks.peek().is_some() {
        let batch: Vec<Task<ReplayTask>> = tasks.by_ref().take(size).collect();
        runnable
            .send(batch)
            .expect("invariant: the replay workers outlive the block's scheduler");
    }
}

/// A replay worker: runs each handoff (see [`run_handoff`]) against the bank and
/// commits it; answers for a handoff's tasks together.
fn run_worker(
    worker: usize,
    bank: &Bank,
    programs: &ProgramRegistry,
    runnable: &Receiver<Vec<Task<ReplayTask>>>,
    done: &Sender<Vec<(Task<ReplayTask>, TaskResult)>>,
    failed_at: &AtomicUsize,
    block_start: Instant,
) {
    for tasks in runnable {
        let answers = run_handoff(worker, bank, programs, tasks, failed_at, block_start);
        if done.send(answers).is_err() {
            return;
        }
    }
}

/// Runs a handoff's tasks as one `svm-lite` batch with one commit. They were all runnable
/// at the same moment, so no two of them conflict: running them together is the same as
/// running them one by one, with one check, one account loader and one commit for all
/// instead of one each. A panic falls back to one at a time, to name the transaction.
fn run_handoff(
    worker: usize,
    bank: &Bank,
    programs: &ProgramRegistry,
    tasks: Vec<Task<ReplayTask>>,
    failed_at: &AtomicUsize,
    block_start: Instant,
) -> Vec<(Task<ReplayTask>, TaskResult)> {
    if tasks.len() == 1 {
        return tasks
            .into_iter()
            .map(|task| {
                let result = run_task(worker, bank, programs, &task, failed_at, block_start);
                (task, result)
            })
            .collect();
    }
    let failed = failed_at.load(Ordering::Relaxed);
    let (run, skipped): (Vec<_>, Vec<_>) = tasks
        .into_iter()
        .partition(|task| task.payload().index <= failed);
    let mut answers: Vec<(Task<ReplayTask>, TaskResult)> = skipped
        .into_iter()
        .map(|task| (task, TaskResult::Skipped))
        .collect();
    if run.is_empty() {
        return answers;
    }
    let batch: Vec<BufferedTransaction> = run
        .iter()
        .map(|task| Arc::clone(&task.payload().transaction))
        .collect();
    let config = ProcessingConfig {
        recording: RecordingConfig {
            transaction_times: true,
            ..RecordingConfig::default()
        },
        error_metrics: None,
    };
    let started = Instant::now();
    let Ok(output) = catch_unwind(AssertUnwindSafe(|| {
        bank.load_and_execute(programs, &batch, &config)
    })) else {
        // Nothing was committed: run them one at a time to find the one that panics.
        answers.extend(run.into_iter().map(|task| {
            let result = run_task(worker, bank, programs, &task, failed_at, block_start);
            (task, result)
        }));
        return answers;
    };
    let fail = |index: usize, failure: Failure| {
        failed_at.fetch_min(index, Ordering::Relaxed);
        TaskResult::Failed(failure)
    };
    if let Err(error) = bank.commit(&batch, &output) {
        log::error!("replay commit refused: {error}");
        answers.extend(run.into_iter().map(|task| {
            let index = task.payload().index;
            (
                task,
                fail(index, Failure::Error(TransactionError::CommitCancelled)),
            )
        }));
        return answers;
    }
    let times = output
        .transaction_times
        .unwrap_or_else(|| vec![(Duration::ZERO, Duration::ZERO); batch.len()]);
    // The batch's check and commit are shared work: spread them evenly.
    let executed: Duration = times.iter().map(|&(_, duration)| duration).sum();
    let shared = started.elapsed().saturating_sub(executed)
        / u32::try_from(times.len().max(1)).unwrap_or(u32::MAX);
    let base = started - block_start;
    for ((task, result), (begin, duration)) in run.into_iter().zip(&output.results).zip(times) {
        let index = task.payload().index;
        let answer = match result {
            Ok(_) => TaskResult::Ran(TransactionTiming {
                index,
                worker,
                start: base + begin,
                duration: duration + shared,
            }),
            Err(error) => fail(index, Failure::Error(error.clone())),
        };
        answers.push((task, answer));
    }
    answers
}

/// Runs one task's transaction; a panic in it (a program bug) is caught and reported, so
/// the task still goes back to the scheduler and nothing waits for it forever.
fn run_task(
    worker: usize,
    bank: &Bank,
    programs: &ProgramRegistry,
    task: &Task<ReplayTask>,
    failed_at: &AtomicUsize,
    block_start: Instant,
) -> TaskResult {
    let index = task.payload().index;
    if index > failed_at.load(Ordering::Relaxed) {
        return TaskResult::Skipped;
    }
    let fail = |failure: Failure| {
        failed_at.fetch_min(index, Ordering::Relaxed);
        TaskResult::Failed(failure)
    };
    let started = Instant::now();
    let batch = std::slice::from_ref(&task.payload().transaction);
    let output = match catch_unwind(AssertUnwindSafe(|| {
        bank.load_and_execute(programs, batch, &ProcessingConfig::default())
    })) {
        Ok(output) => output,
        Err(_) => {
            log::error!("replay of transaction {index} panicked");
            return fail(Failure::Panicked);
        }
    };
    match &output.results[0] {
        Err(error) => fail(Failure::Error(error.clone())),
        Ok(_) => match bank.commit(batch, &output) {
            Ok(_) => TaskResult::Ran(TransactionTiming {
                index,
                worker,
                start: started - block_start,
                duration: started.elapsed(),
            }),
            Err(error) => {
                log::error!("replay commit refused: {error}");
                fail(Failure::Error(TransactionError::CommitCancelled))
            }
        },
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
