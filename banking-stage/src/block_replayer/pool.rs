//! The replayer's threads: a scheduler thread that owns the FIFO state machine and the
//! usage-queue cache and creates each block's tasks, and `N` workers. They start with the
//! first block the replayer runs in parallel and live until the replayer is dropped, so a
//! block pays for no thread start (a node replays a block every 400 ms; starting 15 threads
//! costs a fair share of a small block).

use std::any::Any;
use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ahash::AHashMap;
use crossbeam_channel::{Receiver, Sender, TryRecvError, bounded, unbounded};
use sdk_lite::Pubkey;
use svm_lite::ProgramRegistry;
use unified_scheduler_logic::{
    Capability, RequestedUsage, SchedulingStateMachine, Task, UsageQueue,
};

use super::worker::{BlockContext, Failure, TaskResult, panicked_handoff, run_handoff};
use super::written_filter::WrittenFilter;
use super::{MAX_CACHED_USAGE_QUEUES, ReplayTask, TransactionTiming};
use crate::messages::BufferedTransaction;
use crate::spin_wait::SpinWait;

/// New tasks the scheduler creates at most between two looks at the workers' answers,
/// where threads spin. Creating and scheduling a task costs about 0.9 µs, so a bite
/// keeps an answer (which may release a conflict chain's next link) waiting 7 µs at most,
/// under the time of a cheap task on a spinning worker.
const NEW_TASKS_PER_TURN_SPINNING: usize = 8;

/// The same where threads share cores and sleep: there an answer already waited for a
/// wake-up (tens of microseconds), and larger bites make larger handoffs, each of which
/// may cost a wake-up.
const NEW_TASKS_PER_TURN_SLEEPING: usize = 32;

/// Fresh handoffs sent but not answered, per worker, at most, where the scheduler spins
/// (has a core of its own): enough queued that a worker does not idle while the scheduler
/// answers, few enough that handoff sizes follow what tasks turn out to cost. A scheduler
/// that shares cores sends everything at once instead: its wake-ups are too slow to keep a
/// short queue filled.
const MAX_HANDOFFS_IN_FLIGHT_PER_WORKER: usize = 4;

/// Most tasks a worker takes in one handoff.
pub const MAX_TASKS_PER_HANDOFF: usize = 16;

/// The work a handoff aims to carry where threads spin, in nanoseconds of its tasks'
/// measured times: enough that its fixed cost (a send each way) is small beside it, little
/// enough that a task's successor on a busy account, which waits for the whole handoff's
/// answer, does not wait long, and that the block's last handoffs end close together.
const HANDOFF_WORK_TARGET_NS: f64 = 12_000.0;

/// Weight of the newest task time in the running mean.
const TASK_TIME_SMOOTHING: f64 = 1.0 / 32.0;

/// What a block's replay returns: the timings in block order, or its first failure.
pub(super) type BlockOutcome = Result<Vec<TransactionTiming>, (usize, Failure)>;

/// A worker's answers for one handoff, and the lane it came on.
struct Answers {
    urgent: bool,
    tasks: Vec<(Task<ReplayTask>, TaskResult)>,
}

/// Tasks for a worker, with the block they belong to and the lane they travel on.
struct Handoff {
    context: Arc<BlockContext>,
    tasks: Vec<Task<ReplayTask>>,
    urgent: bool,
}

/// The two channels handoffs travel on. A worker takes from `urgent` first: a link of a
/// conflict chain sent there overtakes every handoff already queued on `normal`.
#[derive(Debug)]
struct Lanes<T> {
    urgent: T,
    normal: T,
}

/// One block for the scheduler thread: it creates a task per transaction, in block order,
/// and sends the outcome back on `outcome`.
struct BlockJob {
    context: Arc<BlockContext>,
    transactions: Arc<[BufferedTransaction]>,
    outcome: Sender<BlockOutcome>,
}

/// What the scheduler thread is asked to do.
enum Job {
    /// Replay a block.
    Block(BlockJob),
    /// Report on the usage-queue cache (between blocks: jobs run one at a time).
    Inspect(Sender<CacheReport>),
}

/// The usage-queue cache between two blocks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct CacheReport {
    /// Usage queues cached.
    pub(super) cached: usize,
    /// Cached queues that something besides the cache still refers to (a task); 0
    /// between blocks, when every task was descheduled and dropped.
    pub(super) in_use: usize,
}

/// The scheduler thread's usage queues, one per account seen, kept across blocks (an
/// account's queue is created once), emptied between blocks once it holds more than
/// [`MAX_CACHED_USAGE_QUEUES`]. A plain map: only the scheduler thread touches it.
type UsageQueueCache = AHashMap<Pubkey, UsageQueue<ReplayTask>>;

/// The scheduler thread and the workers.
#[derive(Debug)]
pub(super) struct ReplayPool {
    jobs: Option<Sender<Job>>,
    threads: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for BlockJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockJob").finish_non_exhaustive()
    }
}

impl ReplayPool {
    /// Starts the scheduler thread and `num_workers` workers running `programs`, waiting
    /// for work by `wait`.
    pub(super) fn start(
        num_workers: usize,
        programs: &Arc<ProgramRegistry>,
        wait: SpinWait,
    ) -> Self {
        let (jobs, job_receiver) = unbounded::<Job>();
        let (urgent, urgent_receiver) = unbounded::<Handoff>();
        let (normal, normal_receiver) = unbounded::<Handoff>();
        let runnable = Lanes { urgent, normal };
        let runnable_receiver = Lanes {
            urgent: urgent_receiver,
            normal: normal_receiver,
        };
        let (done, done_receiver) = unbounded::<Answers>();
        let mut threads = Vec::with_capacity(num_workers + 1);
        for worker in 0..num_workers {
            let runnable = Lanes {
                urgent: runnable_receiver.urgent.clone(),
                normal: runnable_receiver.normal.clone(),
            };
            let done = done.clone();
            let programs = Arc::clone(programs);
            threads.push(
                std::thread::Builder::new()
                    .name(format!("replay-{worker}"))
                    .spawn(move || run_worker(worker, &programs, &runnable, &done, wait))
                    .expect("invariant: the OS can start a replay worker"),
            );
        }
        drop(done);
        drop(runnable_receiver);
        threads.push(
            std::thread::Builder::new()
                .name("replay-scheduler".to_owned())
                .spawn(move || {
                    run_scheduler(num_workers, &job_receiver, &runnable, &done_receiver, wait);
                })
                .expect("invariant: the OS can start the replay scheduler thread"),
        );
        Self {
            jobs: Some(jobs),
            threads,
        }
    }

    /// Starts a block of `transactions` (in block order): returns where its outcome will
    /// come.
    pub(super) fn begin(
        &self,
        context: Arc<BlockContext>,
        transactions: Arc<[BufferedTransaction]>,
    ) -> Receiver<BlockOutcome> {
        let (outcome, outcome_receiver) = bounded(1);
        let job = BlockJob {
            context,
            transactions,
            outcome,
        };
        // A scheduler that died leaves the job unanswered: the caller sees the outcome
        // channel close and asks for the panic (`into_panic`).
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send(Job::Block(job));
        }
        outcome_receiver
    }

    /// The usage-queue cache, as the scheduler thread sees it between blocks; `None` if
    /// that thread died.
    pub(super) fn inspect_cache(&self) -> Option<CacheReport> {
        let (report, report_receiver) = bounded(1);
        self.jobs.as_ref()?.send(Job::Inspect(report)).ok()?;
        report_receiver.recv().ok()
    }

    /// Stops the threads and returns the panic that stopped one of them (for a block
    /// whose outcome never came).
    pub(super) fn into_panic(mut self) -> Box<dyn Any + Send> {
        drop(self.jobs.take());
        let mut panic = None;
        for thread in self.threads.drain(..) {
            if let Err(payload) = thread.join() {
                panic.get_or_insert(payload);
            }
        }
        panic.unwrap_or_else(|| Box::new("a replay thread stopped without an answer"))
    }
}

impl Drop for ReplayPool {
    fn drop(&mut self) {
        // Closing the job channel ends the scheduler, whose runnable channel closing ends
        // the workers.
        drop(self.jobs.take());
        for thread in self.threads.drain(..) {
            // A thread that panicked already lost its block (whose caller saw the outcome
            // channel close); there is nothing left to report it to.
            let _ = thread.join();
        }
    }
}

/// A replay worker: runs each handoff against its block's bank and answers for its tasks
/// together.
fn run_worker(
    worker: usize,
    programs: &ProgramRegistry,
    runnable: &Lanes<Receiver<Handoff>>,
    done: &Sender<Answers>,
    wait: SpinWait,
) {
    while let Some(Handoff {
        context,
        tasks,
        urgent,
    }) = next_handoff(runnable, wait)
    {
        // Execution panics are caught inside; one anywhere else (a broken invariant in
        // the bank or the store) still answers for every task, so nothing waits forever.
        let results = catch_unwind(AssertUnwindSafe(|| {
            #[cfg(test)]
            tests::maybe_panic_outside_execution(&tasks);
            run_handoff(worker, &context, programs, &tasks)
        }))
        .unwrap_or_else(|_| {
            log::error!("replay worker {worker}: a handoff panicked outside execution");
            panicked_handoff(&context, &tasks)
        });
        // Let go of the block's bank before answering: once the block's last answer is
        // in, no worker holds its bank.
        drop(context);
        let answers = Answers {
            urgent,
            tasks: tasks.into_iter().zip(results).collect(),
        };
        if done.send(answers).is_err() {
            return;
        }
    }
}

/// The next handoff for a worker, urgent ones first; `None` once the scheduler is gone.
fn next_handoff(runnable: &Lanes<Receiver<Handoff>>, wait: SpinWait) -> Option<Handoff> {
    if !wait.spins() {
        // Nothing comes on the urgent lane then (see `ReadyTasks`).
        return runnable.normal.recv().ok();
    }
    let mut taken: Option<Option<Handoff>> = None;
    let mut take = || {
        for lane in [&runnable.urgent, &runnable.normal] {
            match lane.try_recv() {
                Ok(handoff) => taken = Some(Some(handoff)),
                Err(TryRecvError::Disconnected) => taken = Some(None),
                Err(TryRecvError::Empty) => continue,
            }
            return true;
        }
        false
    };
    if wait.poll_until(&mut take) {
        return taken.flatten();
    }
    crossbeam_channel::select_biased! {
        recv(runnable.urgent) -> handoff => handoff.ok(),
        recv(runnable.normal) -> handoff => handoff.ok(),
    }
}

/// Sizes handoffs from what tasks have cost so far (see [`HANDOFF_WORK_TARGET_NS`]).
#[derive(Debug)]
struct HandoffSizing {
    num_workers: usize,
    /// The work a handoff aims at, in nanoseconds: [`HANDOFF_WORK_TARGET_NS`] where threads
    /// spin; unbounded where they sleep, since there every handoff may cost a wake-up each
    /// way, worth amortizing over as many tasks as a worker's share allows.
    work_target_ns: f64,
    /// Running mean of a task's measured time; 0 until the first answer (cheap until
    /// shown otherwise: the first handoffs are the largest).
    mean_task_ns: f64,
}

impl HandoffSizing {
    fn observe(&mut self, duration: Duration) {
        let nanos = duration.as_nanos() as f64;
        self.mean_task_ns = if self.mean_task_ns == 0.0 {
            nanos
        } else {
            self.mean_task_ns + (nanos - self.mean_task_ns) * TASK_TIME_SMOOTHING
        };
    }

    /// Tasks per handoff when `ready` tasks are runnable: a share per worker, at least one,
    /// at most what the work target and [`MAX_TASKS_PER_HANDOFF`] allow.
    fn size(&self, ready: usize) -> usize {
        let by_work = if self.mean_task_ns > 0.0 {
            // Saturates to `usize::MAX` for an unbounded target.
            (self.work_target_ns / self.mean_task_ns) as usize
        } else {
            MAX_TASKS_PER_HANDOFF
        };
        (ready / self.num_workers.max(1))
            .min(by_work)
            .clamp(1, MAX_TASKS_PER_HANDOFF)
    }
}

/// Runnable tasks not handed out yet.
///
/// A task that had to wait for an account is a link of a conflict chain, the chain that
/// bounds the block's replay time: where threads have cores of their own (they spin, so a
/// handoff costs no wake-up), it is sent at once on the urgent lane, alone when it is the
/// only one (so the next link waits for nothing else), split among the workers when many
/// were unblocked together. Tasks runnable as soon as they arrive (`fresh`) fill
/// the workers around the chains on the normal lane, in handoffs sized by
/// [`HandoffSizing`], a few per worker at a time (the rest wait here, so handoff sizes
/// follow what tasks turn out to cost).
#[derive(Debug, Default)]
struct ReadyTasks {
    fresh: VecDeque<Task<ReplayTask>>,
}

impl ReadyTasks {
    /// The next fresh handoff, sized by `sizing`.
    fn next_fresh(&mut self, sizing: &HandoffSizing) -> Option<Vec<Task<ReplayTask>>> {
        if self.fresh.is_empty() {
            return None;
        }
        let size = sizing.size(self.fresh.len());
        Some(self.fresh.drain(..size.min(self.fresh.len())).collect())
    }
}

/// The scheduler thread: one state machine and one usage-queue cache for its whole life,
/// one block at a time.
fn run_scheduler(
    num_workers: usize,
    jobs: &Receiver<Job>,
    runnable: &Lanes<Sender<Handoff>>,
    done: &Receiver<Answers>,
    wait: SpinWait,
) {
    // SAFETY: this thread creates no other state machine for `ReplayTask`, for its whole
    // life, and every usage queue its tasks hold comes from `factory` below: created on this
    // thread, kept only here, and locked and unlocked by this thread's machine only. The
    // workers carry tasks and never touch their queues' state; a task dropped elsewhere (by
    // a worker once this thread is gone) only lowers reference counts, which needs no
    // token, and so does the cache report (`Job::Inspect` reads reference counts). If this
    // thread panics mid-block, its machine and its queues unwind with it, and the replayer
    // starts a new thread, with a new cache, for its next block. So no other machine's
    // token ever meets these queues.
    let mut machine = unsafe {
        SchedulingStateMachine::<ReplayTask>::exclusively_initialize_current_thread_for_scheduling(
            Capability::FifoQueueing,
            // Every task whose accounts are free may run: the state machine still holds
            // back conflicting ones.
            None,
        )
    };
    let mut sizing = HandoffSizing {
        num_workers,
        work_target_ns: if wait.spins() {
            HANDOFF_WORK_TARGET_NS
        } else {
            f64::INFINITY
        },
        mean_task_ns: 0.0,
    };
    let mut factory = TaskFactory::default();
    for job in jobs {
        match job {
            Job::Block(job) => {
                let outcome = schedule_block(
                    &mut machine,
                    &mut factory,
                    &mut sizing,
                    &job,
                    runnable,
                    done,
                    wait,
                );
                machine.reinitialize();
                // The caller may have unwound meanwhile; nobody waits then.
                let _ = job.outcome.send(outcome);
            }
            Job::Inspect(report) => {
                let _ = report.send(factory.cache_report());
            }
        }
    }
}

/// Creates the replay's tasks, on the scheduler thread: the usage-queue cache, kept across
/// blocks, and which accounts the current block writes.
#[derive(Debug, Default)]
struct TaskFactory {
    cache: UsageQueueCache,
    written: WrittenFilter,
    /// The lock requests of the task being created, kept: a filtered iterator does not
    /// know its length, and the task's lock contexts are allocated to the exact length.
    requests: Vec<(Pubkey, RequestedUsage)>,
}

impl TaskFactory {
    /// Gets ready for a block of `transactions` at `slot`: empties an oversized cache
    /// (between blocks no queue is in use) and learns which accounts the block writes.
    fn begin_block(&mut self, transactions: &[BufferedTransaction], slot: u64) {
        if self.cache.len() > MAX_CACHED_USAGE_QUEUES {
            self.cache.clear();
        }
        self.written.rebuild(transactions, slot);
    }

    /// Creates the task of the block's `index`-th transaction, resolving its accounts to
    /// their queues in the cache (creating the queues of accounts not seen before). A read
    /// of an account no transaction of the block writes is left out: it orders nothing.
    fn create(&mut self, index: usize, transaction: &BufferedTransaction) -> Task<ReplayTask> {
        #[cfg(test)]
        tests::maybe_panic_in_create(index);
        let written = &self.written;
        self.requests.extend(
            transaction
                .lock_requests()
                .filter(|&(key, writable)| writable || written.may_be_written(key))
                .map(|(key, writable)| (*key, RequestedUsage::from_writable(writable))),
        );
        let cache = &mut self.cache;
        SchedulingStateMachine::create_task(
            ReplayTask {
                index,
                transaction: Arc::clone(transaction),
            },
            index as u128,
            self.requests.drain(..),
            &mut |key| {
                cache
                    .entry(key)
                    .or_insert_with(|| UsageQueue::new(Capability::FifoQueueing))
                    .clone()
            },
        )
    }

    /// The cache, between blocks.
    fn cache_report(&self) -> CacheReport {
        CacheReport {
            cached: self.cache.len(),
            in_use: self
                .cache
                .values()
                .filter(|queue| queue.handle_count() > 1)
                .count(),
        }
    }
}

/// One block: creates its tasks (a bite at a time, between looks at the workers' answers)
/// and feeds them to the state machine, sends runnable ones to the workers, and
/// deschedules finished ones. Returns the timings in block order, or the first failure in
/// block order.
fn schedule_block(
    machine: &mut SchedulingStateMachine<ReplayTask>,
    factory: &mut TaskFactory,
    sizing: &mut HandoffSizing,
    job: &BlockJob,
    runnable: &Lanes<Sender<Handoff>>,
    done: &Receiver<Answers>,
    wait: SpinWait,
) -> BlockOutcome {
    let transactions = &job.transactions;
    let began = Instant::now();
    factory.begin_block(transactions, job.context.bank.slot());
    let mut waited = Duration::ZERO;
    let mut timings: Vec<Option<TransactionTiming>> = vec![None; transactions.len()];
    let mut first_failure: Option<(usize, Failure)> = None;
    // Tasks created (and scheduled) so far: the block's first `created` transactions.
    let mut created = 0;
    let mut handled = 0;
    let bite_size = if wait.spins() {
        NEW_TASKS_PER_TURN_SPINNING
    } else {
        NEW_TASKS_PER_TURN_SLEEPING
    };
    let mut ready = ReadyTasks::default();
    // A scheduler that sleeps between answers (threads share cores) wakes up too late for a
    // short queue: then every runnable task is sent at once, as it comes.
    let max_in_flight = if wait.spins() {
        MAX_HANDOFFS_IN_FLIGHT_PER_WORKER * sizing.num_workers
    } else {
        usize::MAX
    };
    // Normal-lane handoffs sent and not answered (urgent ones are not limited: they are
    // few, and holding one back would hold back a chain).
    let mut in_flight = 0;
    let mut finish = |machine: &mut SchedulingStateMachine<ReplayTask>,
                      sizing: &mut HandoffSizing,
                      answers: Answers,
                      handled: &mut usize,
                      in_flight: &mut usize| {
        if !answers.urgent {
            *in_flight -= 1;
        }
        for (task, result) in answers.tasks {
            machine.deschedule_task(&task);
            *handled += 1;
            let index = task.payload().index;
            match result {
                TaskResult::Ran(timing) => {
                    sizing.observe(timing.duration);
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
    let hand_out = |machine: &mut SchedulingStateMachine<ReplayTask>,
                    sizing: &HandoffSizing,
                    ready: &mut ReadyTasks,
                    in_flight: &mut usize| {
        let send = |urgent: bool, tasks: Vec<Task<ReplayTask>>| {
            let lane = if urgent {
                &runnable.urgent
            } else {
                &runnable.normal
            };
            lane.send(Handoff {
                context: Arc::clone(&job.context),
                tasks,
                urgent,
            })
            .expect("invariant: the replay workers outlive the scheduler");
        };
        if wait.spins() {
            // Tasks that waited for an account, at once, on the urgent lane: a spinning
            // worker takes them within a task's time. A chain's link goes alone; many
            // unblocked together (the readers behind a write) are split like fresh ones.
            while machine.has_runnable_task() {
                let count = machine.unblocked_task_queue_count();
                let size = sizing.size(count);
                let tasks: Vec<Task<ReplayTask>> =
                    std::iter::from_fn(|| machine.schedule_next_unblocked_task())
                        .take(size)
                        .collect();
                send(true, tasks);
            }
        } else {
            // Where threads share cores, each handoff may cost a wake-up: they travel
            // with the other runnable tasks, batched.
            while let Some(task) = machine.schedule_next_unblocked_task() {
                ready.fresh.push_back(task);
            }
        }
        while *in_flight < max_in_flight {
            let Some(tasks) = ready.next_fresh(sizing) else {
                break;
            };
            send(false, tasks);
            *in_flight += 1;
        }
    };
    while created < transactions.len() || handled < created {
        // Answers first (they unblock others), then a bite of new tasks (bounded, so
        // answers are not left waiting).
        let mut progressed = false;
        for answers in done.try_iter() {
            finish(machine, sizing, answers, &mut handled, &mut in_flight);
            progressed = true;
        }
        let bite = transactions.len().min(created + bite_size);
        for (index, transaction) in transactions[created..bite].iter().enumerate() {
            let task = factory.create(created + index, transaction);
            ready.fresh.extend(machine.schedule_task(task));
            progressed = true;
        }
        created = bite;
        hand_out(machine, sizing, &mut ready, &mut in_flight);
        if progressed || handled == created {
            continue;
        }
        // Every task created, some still out: poll a while where cores allow, then sleep
        // until a worker answers.
        let wait_start = Instant::now();
        let answers = if wait.poll_until(|| !done.is_empty()) {
            done.try_recv().ok()
        } else {
            Some(
                done.recv()
                    .expect("invariant: the replay workers outlive the scheduler"),
            )
        };
        waited += wait_start.elapsed();
        if let Some(answers) = answers {
            finish(machine, sizing, answers, &mut handled, &mut in_flight);
            hand_out(machine, sizing, &mut ready, &mut in_flight);
        }
    }
    job.context.scheduler_busy_ns.store(
        u64::try_from(began.elapsed().saturating_sub(waited).as_nanos()).unwrap_or(u64::MAX),
        std::sync::atomic::Ordering::Relaxed,
    );
    assert!(
        machine.has_no_active_task(),
        "invariant: every task of the block was descheduled"
    );
    if let Some(failure) = first_failure {
        return Err(failure);
    }
    Ok(timings
        .into_iter()
        .map(|timing| timing.expect("invariant: every task ran when none failed"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use crate::block_replayer::BlockReplayer;
    use crate::sequential_replay::ReplayError;
    use crate::workload::{ConflictPattern, TransactionMix, Workload, WorkloadConfig};

    /// Held by each test that sets a panic hook below, for as long as it replays: the
    /// hooks fire on any block with the index they name, and unit tests run at once. No
    /// other unit test of this crate replays a block.
    static HOOKS: std::sync::Mutex<()> = std::sync::Mutex::new(());

    /// The block index whose handoff panics outside execution (`usize::MAX`: none).
    static PANIC_OUTSIDE_EXECUTION_AT: AtomicUsize = AtomicUsize::new(usize::MAX);

    pub(super) fn maybe_panic_outside_execution(tasks: &[Task<ReplayTask>]) {
        let at = PANIC_OUTSIDE_EXECUTION_AT.load(Ordering::Relaxed);
        if tasks.iter().any(|task| task.payload().index == at) {
            panic!("a broken invariant outside execution (injected by a test)");
        }
    }

    /// The block index whose task creation panics on the scheduler thread (`usize::MAX`:
    /// none).
    static PANIC_IN_CREATE_AT: AtomicUsize = AtomicUsize::new(usize::MAX);

    pub(super) fn maybe_panic_in_create(index: usize) {
        if index == PANIC_IN_CREATE_AT.load(Ordering::Relaxed) {
            panic!("a broken invariant in task creation (injected by a test)");
        }
    }

    /// A block of `transactions` seeded transfers over `pattern`, and its programs.
    fn transfer_block(
        transactions: usize,
        pattern: ConflictPattern,
    ) -> (Workload, Arc<ProgramRegistry>, crate::Block) {
        let workload = Workload::generate(&WorkloadConfig {
            seed: 11,
            transactions,
            pattern,
            mix: TransactionMix::TRANSFERS,
            bench_units: 100,
            max_price: 10,
        });
        let programs = Arc::new(ProgramRegistry::with_builtins());
        let block = workload.sequential_block(&programs);
        (workload, programs, block)
    }

    /// Replayers of 3 workers, one sleeping and one spinning (with its urgent lane).
    fn replayers(programs: &Arc<ProgramRegistry>) -> [BlockReplayer; 2] {
        [
            SpinWait::never(),
            SpinWait::spinning(Duration::from_micros(20)),
        ]
        .map(|wait| BlockReplayer::new(3, Arc::clone(programs)).with_wait(wait))
    }

    #[test]
    fn a_scheduler_panic_mid_block_reaches_the_caller_and_the_replayer_goes_on() {
        let _hooks = HOOKS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (workload, programs, block) =
            transfer_block(2_000, ConflictPattern::Uniform { accounts: 50 });
        for mut replayer in replayers(&programs) {
            replayer.replay(&workload.genesis_bank(), &block).unwrap();
            assert!(replayer.cached_usage_queues() > 0);
            // Mid-block: tasks created before it are out with the workers.
            PANIC_IN_CREATE_AT.store(1_500, Ordering::Relaxed);
            let panicked = catch_unwind(AssertUnwindSafe(|| {
                replayer.replay(&workload.genesis_bank(), &block)
            }));
            PANIC_IN_CREATE_AT.store(usize::MAX, Ordering::Relaxed);
            assert!(
                panicked.is_err(),
                "the scheduler's panic reaches the caller"
            );
            assert_eq!(replayer.cached_usage_queues(), 0, "the cache went with it");
            // A new scheduler thread, with a new cache, replays the block after that.
            let (bank, _) = replayer.replay(&workload.genesis_bank(), &block).unwrap();
            assert_eq!(bank.hash(), Some(block.bank_hash));
        }
    }

    #[test]
    fn a_worker_panic_outside_execution_fails_the_block_and_the_replayer_goes_on() {
        let _hooks = HOOKS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (workload, programs, block) = transfer_block(200, ConflictPattern::None);
        for mut replayer in replayers(&programs) {
            PANIC_OUTSIDE_EXECUTION_AT.store(17, Ordering::Relaxed);
            let error = replayer
                .replay(&workload.genesis_bank(), &block)
                .unwrap_err();
            PANIC_OUTSIDE_EXECUTION_AT.store(usize::MAX, Ordering::Relaxed);
            assert!(
                matches!(error, ReplayError::ExecutionPanicked { slot: 1, .. }),
                "{error}"
            );
            assert_eq!(replayer.usage_queues_in_use(), 0);
            // The same replayer (and its threads) replays the block after that.
            let (bank, _) = replayer.replay(&workload.genesis_bank(), &block).unwrap();
            assert_eq!(bank.hash(), Some(block.bank_hash));
        }
    }

    /// Runs `test` with a fresh FIFO state machine, on a thread of its own (a state
    /// machine takes its thread's scheduling token).
    fn on_scheduling_thread(
        test: impl FnOnce(&mut SchedulingStateMachine<ReplayTask>) + Send + 'static,
    ) {
        std::thread::spawn(|| {
            // SAFETY: the only state machine for `ReplayTask` on this new thread, and the
            // only user of the usage queues of the tasks `test` gives it (from a factory
            // of its own).
            let mut machine = unsafe {
                SchedulingStateMachine::<ReplayTask>::exclusively_initialize_current_thread_for_scheduling(
                    Capability::FifoQueueing,
                    None,
                )
            };
            test(&mut machine);
        })
        .join()
        .expect("the scheduling thread ran");
    }

    /// Creates and schedules the tasks of the two-transaction `block`: the second must
    /// wait for the first (`why`), and run once the first is descheduled.
    fn assert_second_waits_for_first(
        machine: &mut SchedulingStateMachine<ReplayTask>,
        factory: &mut TaskFactory,
        block: &[BufferedTransaction],
        why: &str,
    ) {
        let first = machine
            .schedule_task(factory.create(0, &block[0]))
            .expect("the first task holds its accounts");
        assert!(
            machine
                .schedule_task(factory.create(1, &block[1]))
                .is_none(),
            "{why}"
        );
        machine.deschedule_task(&first);
        let second = machine
            .schedule_next_unblocked_task()
            .expect("the second task runs once the first is done");
        machine.deschedule_task(&second);
        assert!(machine.has_no_active_task());
    }

    #[test]
    fn reads_of_accounts_the_block_never_writes_are_not_scheduled() {
        use crate::block_replayer::written_filter::tests::transaction;
        on_scheduling_thread(|machine| {
            let hot = Pubkey::new_unique();
            let writer = transaction(Pubkey::new_unique(), &[hot], &[]);
            let mut factory = TaskFactory::default();
            factory.begin_block(std::slice::from_ref(&writer), 1);
            // An account the filter tells apart (about one in 70 is not).
            let config = std::iter::repeat_with(Pubkey::new_unique)
                .find(|key| !factory.written.may_be_written(key))
                .expect("invariant: most keys are not in a one-key filter");
            // 0 writes `hot`; 1 reads `hot` and `config`, which nobody writes.
            let block = [
                writer,
                transaction(Pubkey::new_unique(), &[], &[hot, config]),
            ];
            factory.begin_block(&block, 1);
            assert!(!factory.written.may_be_written(&config));
            assert_second_waits_for_first(
                machine,
                &mut factory,
                &block,
                "the reader of `hot` waits for its writer",
            );
            assert!(factory.cache.contains_key(&hot));
            assert!(
                !factory.cache.contains_key(&config),
                "`config` needs no queue"
            );
        });
    }

    #[test]
    fn a_read_before_a_later_write_is_still_scheduled() {
        use crate::block_replayer::written_filter::tests::transaction;
        on_scheduling_thread(|machine| {
            // 0 reads `later`, which 1 writes: the writer waits for the earlier reader (the
            // filter is of the whole block, not of the transactions created so far).
            let later = Pubkey::new_unique();
            let block = [
                transaction(Pubkey::new_unique(), &[], &[later]),
                transaction(Pubkey::new_unique(), &[later], &[]),
            ];
            let mut factory = TaskFactory::default();
            factory.begin_block(&block, 1);
            assert_second_waits_for_first(
                machine,
                &mut factory,
                &block,
                "the writer of `later` waits for its earlier reader",
            );
        });
    }

    #[test]
    fn handoffs_shrink_as_tasks_get_expensive() {
        let mut sizing = HandoffSizing {
            num_workers: 2,
            work_target_ns: HANDOFF_WORK_TARGET_NS,
            mean_task_ns: 0.0,
        };
        // Unknown cost: a worker's share, up to the cap.
        assert_eq!(sizing.size(100), MAX_TASKS_PER_HANDOFF);
        assert_eq!(sizing.size(6), 3);
        assert_eq!(sizing.size(1), 1);
        sizing.observe(Duration::from_micros(2));
        assert_eq!(sizing.size(100), 6);
        for _ in 0..500 {
            sizing.observe(Duration::from_micros(20));
        }
        assert_eq!(sizing.size(100), 1, "a 20 us task goes alone");
    }

    #[test]
    fn sleeping_threads_take_a_full_share_whatever_tasks_cost() {
        let mut sizing = HandoffSizing {
            num_workers: 2,
            work_target_ns: f64::INFINITY,
            mean_task_ns: 0.0,
        };
        sizing.observe(Duration::from_micros(20));
        assert_eq!(sizing.size(100), MAX_TASKS_PER_HANDOFF);
        assert_eq!(sizing.size(6), 3);
    }
}
