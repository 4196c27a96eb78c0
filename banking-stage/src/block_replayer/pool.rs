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

use super::contested_filter::{ContestedFilter, HashedShare, RequestHasher};
use super::handover::{Handover, InOrderReport, TakeOver};
use super::worker::{BlockContext, Failure, Item, TaskResult, panicked_handoff, run_handoff};
use super::{
    MAX_CACHED_USAGE_QUEUES, MIN_PARALLELISM, ReplayTask, Takeover, TransactionTiming,
    has_parallelism,
};
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

/// The fewest transactions a worker hashes for a block's filter (see `hash_on_workers`):
/// about 20 µs of reading and hashing on the benches' machines, several times what
/// handing a share to a spinning worker and back costs.
const MIN_TRANSACTIONS_PER_HASH_SHARE: usize = 128;

/// Transactions the scheduler looks at, at most, per task it may create in a bite. An
/// independent transaction (one that touches no contested account, see
/// `contested_filter.rs`) costs it a filter lookup per account (from the hashes the filter
/// kept, without reading the transaction) and a place in a handoff,
/// a small fraction of a task's creation, scheduling and descheduling, so a bite of a
/// block of mostly independent transactions covers many more of them.
const LOOKS_PER_NEW_TASK: usize = 16;

/// Fresh handoffs sent but not answered, per worker, at most, where the scheduler spins
/// (has a core of its own): enough queued that a worker does not idle while the scheduler
/// answers, few enough that handoff sizes follow what tasks turn out to cost. A scheduler
/// that shares cores sends everything at once instead: its wake-ups are too slow to keep a
/// short queue filled.
const MAX_HANDOFFS_IN_FLIGHT_PER_WORKER: usize = 4;

/// Most tasks a worker takes in one handoff (each with up to 15 followers; where threads
/// spin, the work target also bounds the transactions, followers included).
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

/// The scheduler thread's answer for a block.
#[derive(Debug)]
pub(super) struct Reply {
    /// `None` if the scheduler ran none of the block: it has less than
    /// [`MIN_PARALLELISM`] transactions per link of its longest conflict chain (the
    /// calling thread runs it in order), or the calling thread had claimed all of it, or
    /// failed. Otherwise the scheduler took over where the calling thread stopped and ran
    /// the rest: where and when it took over, and the rest's timings, in block order, or
    /// its first failure.
    pub(super) ran: Option<(Takeover, BlockOutcome)>,
    /// How long the scheduler thread was busy on the block (not waiting for answers or
    /// for the calling thread), its check included.
    pub(super) busy: Duration,
}

/// Transactions that join a task as its followers, at most (see [`Group`]).
const MAX_FOLLOWERS: usize = MAX_TASKS_PER_HANDOFF - 1;

/// A task and its followers: later transactions of the block whose every contested
/// account the task was the last to touch, at least as strongly (a write where they
/// write), and which depend on it (it writes one of them), while it had not been handed
/// out yet. Nothing between the task and a follower in block order touches the
/// follower's contested accounts except earlier followers of the same task (a task, or a
/// follower of another task, would have been the last to), so the follower may run right
/// after the task and those followers, in the same batch, under the task's locks: a
/// chain whose links pile up behind a busy account (the links run one per round trip to
/// the scheduler otherwise) catches up in groups.
struct Group {
    task: Task<ReplayTask>,
    /// Block indices, in order.
    followers: Vec<usize>,
}

/// What a handoff carries: groups of a task of the state machine and its followers, or
/// independent transactions, which need no task (their indices in the block).
enum Work {
    Scheduled(Vec<Group>),
    Independent(Vec<usize>),
}

impl Work {
    /// The block indices of the work's transactions, in order (a task's followers right
    /// after it).
    fn indices(&self) -> impl Iterator<Item = usize> + '_ {
        let (scheduled, independent) = match self {
            Self::Scheduled(groups) => (groups.as_slice(), &[][..]),
            Self::Independent(indices) => (&[][..], indices.as_slice()),
        };
        scheduled
            .iter()
            .flat_map(|group| {
                std::iter::once(group.task.payload().index).chain(group.followers.iter().copied())
            })
            .chain(independent.iter().copied())
    }

    /// The work's transactions with their block indices, in the same order.
    fn items<'a>(&'a self, context: &'a BlockContext) -> Vec<Item<'a>> {
        self.indices()
            .map(|index| (index, &context.transactions[index]))
            .collect()
    }
}

/// A worker's answers for one handoff: the work it was given, a result per transaction, and
/// the lane it came on.
struct Answers {
    urgent: bool,
    work: Work,
    results: Vec<TaskResult>,
}

/// What the scheduler thread sends a worker.
enum Assignment {
    /// Transactions to run.
    Run(Handoff),
    /// A share of the next block's lock requests to hash for its filter.
    Hash(HashShare),
}

/// A share of a block's lock requests for a worker to hash for the block's filter, before
/// the block has a bank (see `contested_filter.rs`): the block's `range`, answered on
/// `hashed` with the share's number.
struct HashShare {
    transactions: Arc<[BufferedTransaction]>,
    range: std::ops::Range<usize>,
    share: usize,
    hasher: RequestHasher,
    hashed: Sender<(usize, HashedShare)>,
}

impl HashShare {
    // Kept out of the worker's loop (and `hash_on_workers` out of `schedule_block`):
    // inlined there, they made the 2-core replay of 20 µs transactions about 10% slower,
    // where neither even runs (a code-layout effect, in interleaved `compare` runs).
    #[inline(never)]
    fn run(self) {
        let hashed = self.hasher.hash_share(&self.transactions[self.range]);
        // A scheduler that stopped waiting (it panicked) wants nothing more.
        let _ = self.hashed.send((self.share, hashed));
    }
}

/// Work for a worker, with the block it belongs to and the lane it travels on.
struct Handoff {
    context: Arc<BlockContext>,
    work: Work,
    urgent: bool,
}

/// The two channels handoffs travel on. A worker takes from `urgent` first: a link of a
/// conflict chain sent there overtakes every handoff already queued on `normal`.
#[derive(Debug)]
struct Lanes<T> {
    urgent: T,
    normal: T,
}

/// One block for the scheduler thread, sent before the block has a bank (where every
/// thread has a core, before the block's checks before execution): the scheduler checks
/// it, and if it takes over, creates a task per
/// transaction that needs one, in block order, and sends the outcome back on `outcome`.
struct BlockJob {
    transactions: Arc<[BufferedTransaction]>,
    /// The block's slot (salts its filter).
    slot: u64,
    /// How the calling thread and the scheduler share the block.
    handover: Arc<Handover>,
    /// Where the calling thread stopped running the block in order, with the block's
    /// bank; closed without a report if it failed.
    report: Receiver<InOrderReport>,
    outcome: Sender<Reply>,
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
        let (urgent, urgent_receiver) = unbounded::<Assignment>();
        let (normal, normal_receiver) = unbounded::<Assignment>();
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

    /// Starts checking the block of `transactions` at `slot`, shared with the calling
    /// thread by `handover`, whose calling thread says on `report` where it stopped
    /// running it in order: returns where the answer will come.
    pub(super) fn begin(
        &self,
        transactions: Arc<[BufferedTransaction]>,
        slot: u64,
        handover: Arc<Handover>,
        report: Receiver<InOrderReport>,
    ) -> Receiver<Reply> {
        let (outcome, outcome_receiver) = bounded(1);
        let job = BlockJob {
            transactions,
            slot,
            handover,
            report,
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
            // A thread that panicked lost its block (whose caller saw the outcome channel
            // close, or had already given the block up: one that failed its checks before
            // execution); there is nothing left to report it to.
            let _ = thread.join();
        }
    }
}

/// A replay worker: runs each handoff against its block's bank and answers for its tasks
/// together.
fn run_worker(
    worker: usize,
    programs: &ProgramRegistry,
    runnable: &Lanes<Receiver<Assignment>>,
    done: &Sender<Answers>,
    wait: SpinWait,
) {
    while let Some(assignment) = next_assignment(runnable, wait) {
        let Handoff {
            context,
            work,
            urgent,
        } = match assignment {
            Assignment::Run(handoff) => handoff,
            Assignment::Hash(share) => {
                // A share that panics (a broken invariant) is hashed again by the
                // scheduler thread, which sees its channel close without it.
                if catch_unwind(AssertUnwindSafe(|| share.run())).is_err() {
                    log::error!("replay worker {worker}: hashing a share of a block panicked");
                }
                continue;
            }
        };
        // Execution panics are caught inside; one anywhere else (a broken invariant in
        // the bank or the store) still answers for every transaction, so nothing waits
        // forever.
        let results = catch_unwind(AssertUnwindSafe(|| {
            #[cfg(test)]
            tests::maybe_panic_outside_execution(&work);
            run_handoff(worker, &context, programs, &work.items(&context))
        }))
        .unwrap_or_else(|_| {
            log::error!("replay worker {worker}: a handoff panicked outside execution");
            panicked_handoff(&context, work.indices())
        });
        // Let go of the block's bank before answering: once the block's last answer is
        // in, no worker holds its bank.
        drop(context);
        let answers = Answers {
            urgent,
            work,
            results,
        };
        if done.send(answers).is_err() {
            return;
        }
    }
}

/// The next assignment for a worker, urgent ones first; `None` once the scheduler is gone.
fn next_assignment(runnable: &Lanes<Receiver<Assignment>>, wait: SpinWait) -> Option<Assignment> {
    if !wait.spins() {
        // Nothing comes on the urgent lane then (see `ReadyTasks`).
        return runnable.normal.recv().ok();
    }
    let mut taken: Option<Option<Assignment>> = None;
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
        (ready / self.num_workers.max(1))
            .min(self.by_work())
            .clamp(1, MAX_TASKS_PER_HANDOFF)
    }

    /// Independent transactions per handoff when `unsent` of them may be left to send
    /// (the block's not yet looked at included): half a worker's share of them (so the
    /// block's last handoffs shrink, and end close together, as in guided
    /// self-scheduling), at least one, at most [`MAX_TASKS_PER_HANDOFF`]; where `paced`
    /// (the block has conflict chains, whose next links should not wait long for a
    /// worker), at most what the work target allows too.
    fn independent_size(&self, unsent: usize, paced: bool) -> usize {
        let guided = unsent / (2 * self.num_workers.max(1));
        let size = if paced {
            guided.min(self.by_work())
        } else {
            guided
        };
        size.clamp(1, MAX_TASKS_PER_HANDOFF)
    }

    /// Tasks whose measured time adds up to the work target (unbounded before the first
    /// answer: cheap until shown otherwise).
    fn by_work(&self) -> usize {
        if self.mean_task_ns > 0.0 {
            // Saturates to `usize::MAX` for an unbounded target.
            (self.work_target_ns / self.mean_task_ns) as usize
        } else {
            usize::MAX
        }
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
///
/// Independent transactions (no task: see `contested_filter.rs`) come last, after the
/// fresh tasks, in handoffs sized by [`HandoffSizing::independent_size`]: they order
/// nothing, so they fill whatever the tasks leave free.
#[derive(Debug, Default)]
struct ReadyTasks {
    fresh: VecDeque<Task<ReplayTask>>,
    /// Independent transactions looked at and not handed out, by block index.
    independent: VecDeque<usize>,
}

impl ReadyTasks {
    /// The next handoff of independent transactions, sized by `sizing` when `unlooked`
    /// transactions of the block are still to be looked at; `None` when there is none, or
    /// too few yet for a whole handoff while more may come.
    fn next_independent(
        &mut self,
        sizing: &HandoffSizing,
        unlooked: usize,
        paced: bool,
    ) -> Option<Vec<usize>> {
        let pending = self.independent.len();
        let size = sizing.independent_size(pending + unlooked, paced);
        if pending == 0 || (pending < size && unlooked > 0) {
            return None;
        }
        Some(self.independent.drain(..size.min(pending)).collect())
    }
}

/// The scheduler thread: one state machine and one usage-queue cache for its whole life,
/// one block at a time.
fn run_scheduler(
    num_workers: usize,
    jobs: &Receiver<Job>,
    runnable: &Lanes<Sender<Assignment>>,
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
/// blocks, and which accounts of the current block are contested.
#[derive(Debug, Default)]
struct TaskFactory {
    cache: UsageQueueCache,
    contested: ContestedFilter,
    /// Per contested account of the current block: the task (by block index) that touched
    /// it last, and whether that task writes it.
    last_toucher: AHashMap<Pubkey, (usize, bool)>,
    /// The lock requests of the task being created, kept: a filtered iterator does not
    /// know its length, and the task's lock contexts are allocated to the exact length.
    requests: Vec<(Pubkey, RequestedUsage)>,
}

impl TaskFactory {
    /// Gets ready for a block of `transactions` at `slot`: empties an oversized cache
    /// (between blocks no queue is in use) and learns which accounts the block contests,
    /// from its lock requests `hashed` in shares on the workers if they were, else
    /// reading the block here.
    fn begin_block(
        &mut self,
        transactions: &[BufferedTransaction],
        slot: u64,
        hashed: Option<&[HashedShare]>,
    ) {
        if self.cache.len() > MAX_CACHED_USAGE_QUEUES {
            self.cache.clear();
        }
        self.last_toucher.clear();
        match hashed {
            Some(shares) => self.contested.rebuild_from_hashed(shares),
            None => self.contested.rebuild(transactions, slot),
        }
    }

    /// Looks at the block's `index`-th transaction (transactions are looked at in block
    /// order): independent if it touches no contested account; a follower of a task in
    /// `open` (tasks not handed out yet, with their followers) if that task was the last to
    /// touch each of its contested accounts, at least as strongly, and writes one of them
    /// (see [`Group`]);
    /// otherwise a new task, with its contested accounts only, each resolved to its queue
    /// in the cache (creating the queues of accounts not seen before).
    fn create(
        &mut self,
        index: usize,
        transaction: &BufferedTransaction,
        open: &mut AHashMap<usize, Vec<usize>>,
    ) -> Created {
        #[cfg(test)]
        tests::maybe_panic_in_create(index);
        let contested = &self.contested;
        // From the hashes the filter kept: an independent transaction is not read again.
        if contested.is_independent(index) {
            return Created::Independent;
        }
        self.requests.extend(
            contested
                .contested_requests(index, transaction)
                .map(|(key, writable)| (*key, RequestedUsage::from_writable(writable))),
        );
        if let Some(followers) = self
            .task_to_follow()
            .and_then(|task| open.get_mut(&task))
            .filter(|followers| followers.len() < MAX_FOLLOWERS)
        {
            followers.push(index);
            self.requests.clear();
            return Created::Follower;
        }
        for &(key, usage) in &self.requests {
            self.last_toucher
                .insert(key, (index, usage == RequestedUsage::Writable));
        }
        open.insert(index, Vec::new());
        let cache = &mut self.cache;
        Created::Task(SchedulingStateMachine::create_task(
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
        ))
    }

    /// The task that was the last to touch every account of `requests` (the transaction
    /// being looked at), writing each that the transaction writes and at least one of
    /// them; `None` if there is no such single task. (A transaction that only reads what
    /// the task only reads does not depend on it: it may run beside it, and joining it
    /// would only put it behind.)
    fn task_to_follow(&self) -> Option<usize> {
        let mut task = None;
        let mut depends = false;
        for (key, usage) in &self.requests {
            let &(toucher, writes) = self.last_toucher.get(key)?;
            if task.is_some_and(|task| task != toucher)
                || (*usage == RequestedUsage::Writable && !writes)
            {
                return None;
            }
            task = Some(toucher);
            depends |= writes;
        }
        task.filter(|_| depends)
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

/// What became of a transaction the scheduler looked at.
enum Created {
    /// It touches no contested account: no task.
    Independent,
    /// It joined a task not handed out yet (see [`Group`]).
    Follower,
    /// A new task.
    Task(Task<ReplayTask>),
}

/// What the scheduler thread keeps while it runs one block.
struct BlockRun<'a> {
    /// The block, with its bank.
    context: Arc<BlockContext>,
    runnable: &'a Lanes<Sender<Assignment>>,
    wait: SpinWait,
    /// The first transaction the scheduler runs (the calling thread ran those before).
    from: usize,
    /// The timings of the block's transactions from `from` on.
    timings: Vec<Option<TransactionTiming>>,
    first_failure: Option<(usize, Failure)>,
    /// The block's transactions looked at so far (its first `looked_at`): each either
    /// became a task or waits in `ready.independent`.
    looked_at: usize,
    /// Transactions answered for.
    handled: usize,
    ready: ReadyTasks,
    /// Normal-lane handoffs sent and not answered (urgent ones are not limited: they are
    /// few, and holding one back would hold back a chain).
    in_flight: usize,
    max_in_flight: usize,
    /// Handoffs sent and not answered, on both lanes.
    out: usize,
    /// Tasks not handed out yet, by block index, with their followers.
    open: AHashMap<usize, Vec<usize>>,
    /// Whether a task of the block has had to wait for an account: the block has
    /// conflict chains, so independent transactions go in handoffs sized by the work
    /// target (a chain's next link should not wait long for a worker).
    paced: bool,
}

impl BlockRun<'_> {
    /// Deschedules the tasks of `answers` (which hands their accounts to the next tasks)
    /// and records the results.
    fn finish(
        &mut self,
        machine: &mut SchedulingStateMachine<ReplayTask>,
        sizing: &mut HandoffSizing,
        answers: Answers,
    ) {
        self.out -= 1;
        if !answers.urgent {
            self.in_flight -= 1;
        }
        if let Work::Scheduled(groups) = &answers.work {
            for group in groups {
                machine.deschedule_task(&group.task);
            }
        }
        for (index, result) in answers.work.indices().zip(answers.results) {
            self.handled += 1;
            match result {
                TaskResult::Ran(timing) => {
                    sizing.observe(timing.duration);
                    self.timings[index - self.from] = Some(timing);
                }
                TaskResult::Failed(error) => {
                    if self
                        .first_failure
                        .as_ref()
                        .is_none_or(|(first, _)| index < *first)
                    {
                        self.first_failure = Some((index, error));
                    }
                }
                TaskResult::Skipped => {}
            }
        }
    }

    /// Looks at the next bite of the block: creates and schedules up to `max_tasks` tasks,
    /// looking at [`LOOKS_PER_NEW_TASK`] transactions per task at most. Returns whether it
    /// looked at any.
    fn bite(
        &mut self,
        machine: &mut SchedulingStateMachine<ReplayTask>,
        factory: &mut TaskFactory,
        max_tasks: usize,
    ) -> bool {
        let transactions = &self.context.transactions;
        let end = transactions
            .len()
            .min(self.looked_at + max_tasks * LOOKS_PER_NEW_TASK);
        let mut new_tasks = 0;
        let began_at = self.looked_at;
        while self.looked_at < end && new_tasks < max_tasks {
            let index = self.looked_at;
            self.looked_at += 1;
            match factory.create(index, &transactions[index], &mut self.open) {
                Created::Task(task) => {
                    new_tasks += 1;
                    self.ready.fresh.extend(machine.schedule_task(task));
                }
                Created::Follower => {}
                Created::Independent => self.ready.independent.push_back(index),
            }
        }
        self.looked_at > began_at
    }

    fn send(&mut self, urgent: bool, work: Work) {
        let lane = if urgent {
            &self.runnable.urgent
        } else {
            &self.runnable.normal
        };
        lane.send(Assignment::Run(Handoff {
            context: Arc::clone(&self.context),
            work,
            urgent,
        }))
        .expect("invariant: the replay workers outlive the scheduler");
        self.out += 1;
        if !urgent {
            self.in_flight += 1;
        }
    }

    /// Takes the groups of one handoff: runnable tasks that had to wait for an account
    /// (`unblocked`, from the state machine) or fresh ones, each with its followers (none
    /// join it after this); at most `max_tasks` tasks and, where threads spin, about the
    /// work target's worth of transactions, followers included (at least one group).
    fn take_groups(
        &mut self,
        machine: &mut SchedulingStateMachine<ReplayTask>,
        sizing: &HandoffSizing,
        max_tasks: usize,
        unblocked: bool,
    ) -> Vec<Group> {
        // At least one group, however long a transaction has taken.
        let max_transactions = sizing.by_work().max(1);
        let mut groups = Vec::new();
        let mut transactions = 0;
        while groups.len() < max_tasks && transactions < max_transactions {
            let next = if unblocked {
                machine.schedule_next_unblocked_task()
            } else {
                self.ready.fresh.pop_front()
            };
            let Some(task) = next else {
                break;
            };
            let followers = self
                .open
                .remove(&task.payload().index)
                .expect("invariant: a task is open until it is handed out");
            transactions += 1 + followers.len();
            groups.push(Group { task, followers });
        }
        groups
    }

    /// Sends what is runnable: tasks that waited for an account first (where threads
    /// spin), then fresh tasks, then independent transactions, as many handoffs as the
    /// in-flight limit allows.
    fn hand_out(
        &mut self,
        machine: &mut SchedulingStateMachine<ReplayTask>,
        sizing: &HandoffSizing,
    ) {
        if self.wait.spins() {
            // Tasks that waited for an account, at once, on the urgent lane: a spinning
            // worker takes them within a task's time. A chain's link goes alone; many
            // unblocked together (the readers behind a write) are split like fresh ones.
            while machine.has_runnable_task() {
                self.paced = true;
                let count = machine.unblocked_task_queue_count();
                let groups = self.take_groups(machine, sizing, sizing.size(count), true);
                self.send(true, Work::Scheduled(groups));
            }
        } else {
            // Where threads share cores, each handoff may cost a wake-up: they travel
            // with the other runnable tasks, batched.
            while let Some(task) = machine.schedule_next_unblocked_task() {
                self.ready.fresh.push_back(task);
            }
        }
        let unlooked = self.context.transactions.len() - self.looked_at;
        while self.in_flight < self.max_in_flight {
            if !self.ready.fresh.is_empty() {
                let size = sizing.size(self.ready.fresh.len());
                let groups = self.take_groups(machine, sizing, size, false);
                self.send(false, Work::Scheduled(groups));
            } else if let Some(indices) = self.ready.next_independent(sizing, unlooked, self.paced)
            {
                self.send(false, Work::Independent(indices));
            } else {
                break;
            }
        }
    }
}

/// Hashes the lock requests of the block of `transactions` at `slot` for its filter in
/// shares of at least [`MIN_TRANSACTIONS_PER_HASH_SHARE`], one per worker and one on this
/// thread, where threads spin (each has a core: the workers idle between blocks, and a
/// share reaches a spinning worker at once). Returns the shares' lists in block order and
/// how long this thread waited for them, or `None` for a block too small to share.
///
/// Reading the block is most of building its filter (the transactions are in memory
/// another core wrote), and it comes before the block's first handoff: at 14 workers, a
/// 12,000-transaction block's 2 ms of it would be 2 ms of thirteen idle workers, less what
/// the calling thread's checks before execution hide.
#[inline(never)]
fn hash_on_workers(
    transactions: &Arc<[BufferedTransaction]>,
    slot: u64,
    num_workers: usize,
    runnable: &Lanes<Sender<Assignment>>,
    wait: SpinWait,
) -> Option<(Vec<HashedShare>, Duration)> {
    let shares = (num_workers + 1).min(transactions.len() / MIN_TRANSACTIONS_PER_HASH_SHARE);
    if shares < 2 {
        return None;
    }
    let hasher = RequestHasher::salted(slot);
    let range = |share: usize| {
        transactions.len() * share / shares..transactions.len() * (share + 1) / shares
    };
    let (sender, receiver) = unbounded();
    // Share 0 is this thread's; the others go out first, so they run meanwhile.
    for share in 1..shares {
        runnable
            .normal
            .send(Assignment::Hash(HashShare {
                transactions: Arc::clone(transactions),
                range: range(share),
                share,
                hasher,
                hashed: sender.clone(),
            }))
            .expect("invariant: the replay workers outlive the scheduler");
    }
    drop(sender);
    let mut hashed: Vec<Option<HashedShare>> = vec![None; shares];
    hashed[0] = Some(hasher.hash_share(&transactions[range(0)]));
    let wait_start = Instant::now();
    for _ in 1..shares {
        let answer = wait.recv(&receiver).ok();
        // `None`: every worker holding a share is gone (each logged why); the shares left
        // are hashed below.
        let Some((share, share_hashed)) = answer else {
            break;
        };
        hashed[share] = Some(share_hashed);
    }
    let waited = wait_start.elapsed();
    let shares = hashed
        .into_iter()
        .enumerate()
        .map(|(share, share_hashed)| {
            share_hashed.unwrap_or_else(|| hasher.hash_share(&transactions[range(share)]))
        })
        .collect();
    Some((shares, waited))
}

/// One block: learns which of its accounts are contested and whether it has enough
/// parallelism to run in parallel (else answers a [`Reply`] that ran nothing); then looks at its
/// transactions (a bite at a time, between looks at the workers' answers), creates a task
/// for each that touches a contested account and feeds it to the state machine (or adds
/// the transaction to a waiting task as a follower, see [`Group`]), sends runnable tasks
/// with their followers and independent transactions to the workers, and deschedules
/// finished tasks. Answers the timings in block order, or the first failure in block order.
fn schedule_block(
    machine: &mut SchedulingStateMachine<ReplayTask>,
    factory: &mut TaskFactory,
    sizing: &mut HandoffSizing,
    job: &BlockJob,
    runnable: &Lanes<Sender<Assignment>>,
    done: &Receiver<Answers>,
    wait: SpinWait,
) -> Reply {
    let transactions = &job.transactions;
    let began = Instant::now();
    let mut waited = Duration::ZERO;
    let declined = |waited: Duration| Reply {
        ran: None,
        busy: began.elapsed().saturating_sub(waited),
    };
    // Meanwhile the calling thread runs the block in order (`handover.rs`), once its
    // checks before execution are done if they are not yet.
    let hashed = wait
        .spins()
        .then(|| hash_on_workers(transactions, job.slot, sizing.num_workers, runnable, wait))
        .flatten();
    if let Some((_, waited_for_shares)) = &hashed {
        waited += *waited_for_shares;
    }
    factory.begin_block(
        transactions,
        job.slot,
        hashed.as_ref().map(|(shares, _)| shares.as_slice()),
    );
    if job.handover.stopped() {
        // The block failed its checks before execution meanwhile.
        return declined(waited);
    }
    let handover = &job.handover;
    if !has_parallelism(transactions, MIN_PARALLELISM, Some(&factory.contested)) {
        handover.keep_in_order();
        return declined(waited);
    }
    let TakeOver::From(from) = handover.take_over(transactions.len()) else {
        return declined(waited);
    };
    // Wait for the calling thread to finish what it claimed (a few microseconds of work),
    // or its checks before execution, which give the block its bank.
    let wait_start = Instant::now();
    // `None` as soon as the channel closes without a report (the calling thread failed).
    let report = wait.recv(&job.report).ok();
    waited += wait_start.elapsed();
    let context = match report {
        Some(InOrderReport { finished, context }) => {
            assert_eq!(
                finished, from,
                "invariant: the calling thread stops where its claims did"
            );
            context
        }
        // It failed (the block is rejected), or it is gone: nothing more runs.
        None => return declined(waited),
    };
    let takeover = Takeover {
        index: from,
        at: context.start.elapsed(),
    };
    let bite_size = if wait.spins() {
        NEW_TASKS_PER_TURN_SPINNING
    } else {
        NEW_TASKS_PER_TURN_SLEEPING
    };
    let mut run = BlockRun {
        context,
        runnable,
        wait,
        from,
        timings: vec![None; transactions.len() - from],
        first_failure: None,
        looked_at: from,
        handled: 0,
        ready: ReadyTasks::default(),
        in_flight: 0,
        // A scheduler that sleeps between answers (threads share cores) wakes up too late
        // for a short queue: then everything runnable is sent at once, as it comes.
        max_in_flight: if wait.spins() {
            MAX_HANDOFFS_IN_FLIGHT_PER_WORKER * sizing.num_workers
        } else {
            usize::MAX
        },
        out: 0,
        paced: false,
        open: AHashMap::default(),
    };
    while run.handled < transactions.len() - from {
        // Answers first (they unblock others), then a bite of the block (bounded, so
        // answers are not left waiting).
        let mut progressed = false;
        for answers in done.try_iter() {
            run.finish(machine, sizing, answers);
            progressed = true;
        }
        progressed |= run.bite(machine, factory, bite_size);
        run.hand_out(machine, sizing);
        if progressed {
            continue;
        }
        // Every transaction looked at, some still out: poll a while where cores allow,
        // then sleep until a worker answers.
        assert!(
            run.out > 0,
            "invariant: a block with transactions not answered for has work out"
        );
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
            run.finish(machine, sizing, answers);
            run.hand_out(machine, sizing);
        }
    }
    let busy = began.elapsed().saturating_sub(waited);
    assert!(
        machine.has_no_active_task() && run.open.is_empty(),
        "invariant: every task of the block was handed out and descheduled"
    );
    let outcome = match run.first_failure {
        Some(failure) => Err(failure),
        None => Ok(run
            .timings
            .into_iter()
            .map(|timing| timing.expect("invariant: every transaction ran when none failed"))
            .collect()),
    };
    Reply {
        ran: Some((takeover, outcome)),
        busy,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ahash::AHashSet;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use crate::block_replayer::BlockReplayer;
    use crate::sequential_replay::ReplayError;
    use crate::workload::{ConflictPattern, TransactionMix, Workload, WorkloadConfig};

    /// Held by each test that sets a panic hook below, for as long as it replays: the
    /// hooks fire on any block with the index they name, and unit tests run at once. No
    /// other unit test of this crate replays a block.
    static HOOKS: std::sync::Mutex<()> = std::sync::Mutex::new(());

    /// Every way a block can be split: the replay reaches the leader's hash whatever the
    /// takeover point, the pattern (shared accounts read and written, few hot accounts,
    /// Zipf chains that build followers), the mix, the number of workers and the waiting
    /// policy, and leaves no queue in use.
    #[test]
    fn every_takeover_point_pattern_and_policy_reaches_the_leaders_hash() {
        let _hooks = HOOKS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let patterns = [
            ConflictPattern::ReadWrite { shared: 2 },
            ConflictPattern::ReadWrite { shared: 16 },
            ConflictPattern::Uniform { accounts: 3 },
            ConflictPattern::HotSpot {
                percent: 50,
                hot_accounts: 2,
            },
            ConflictPattern::Zipf {
                accounts: 50,
                exponent: 1.1,
            },
        ];
        let programs = Arc::new(ProgramRegistry::with_builtins());
        for seed in 0..2 {
            for pattern in patterns {
                for mix in [TransactionMix::BENCH, TransactionMix::TRANSFERS] {
                    let workload = Workload::generate(&WorkloadConfig {
                        seed,
                        transactions: 300,
                        pattern,
                        mix,
                        bench_units: 100,
                        max_price: 10,
                    });
                    let block = workload.sequential_block(&programs);
                    for (workers, limit, wait) in [
                        (2, 0, SpinWait::never()),
                        (3, 0, SpinWait::spinning(Duration::from_micros(20))),
                        (2, 150, SpinWait::spinning(Duration::from_micros(20))),
                        (3, 150, SpinWait::never()),
                    ] {
                        let case =
                            format!("seed {seed}, {pattern}, {workers} workers, limit {limit}");
                        let mut replayer = BlockReplayer::new(workers, Arc::clone(&programs))
                            .with_wait(wait)
                            .with_claim_limit(limit);
                        let (bank, metrics) = replayer
                            .replay(&workload.genesis_bank(), &block)
                            .unwrap_or_else(|error| panic!("{case}: {error}"));
                        assert_eq!(bank.hash(), Some(block.bank_hash), "{case}");
                        let indices: Vec<usize> = metrics.timings.iter().map(|t| t.index).collect();
                        assert_eq!(
                            indices,
                            (0..block.transaction_count()).collect::<Vec<_>>(),
                            "{case}"
                        );
                        assert_eq!(replayer.usage_queues_in_use(), 0, "{case}");
                    }
                }
            }
        }
    }

    /// The block index whose handoff panics outside execution (`usize::MAX`: none).
    static PANIC_OUTSIDE_EXECUTION_AT: AtomicUsize = AtomicUsize::new(usize::MAX);

    pub(super) fn maybe_panic_outside_execution(work: &Work) {
        let at = PANIC_OUTSIDE_EXECUTION_AT.load(Ordering::Relaxed);
        if work.indices().any(|index| index == at) {
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
        seeded_transfer_block(11, transactions, pattern)
    }

    /// The same from the workload seeded with `seed`.
    fn seeded_transfer_block(
        seed: u64,
        transactions: usize,
        pattern: ConflictPattern,
    ) -> (Workload, Arc<ProgramRegistry>, crate::Block) {
        let workload = Workload::generate(&WorkloadConfig {
            seed,
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

    /// Replayers of 3 workers, one sleeping and one spinning (with its urgent lane), whose
    /// scheduler threads take over every parallel block from its first transaction.
    fn replayers(programs: &Arc<ProgramRegistry>) -> [BlockReplayer; 2] {
        [
            SpinWait::never(),
            SpinWait::spinning(Duration::from_micros(20)),
        ]
        .map(|wait| {
            BlockReplayer::new(3, Arc::clone(programs))
                .with_wait(wait)
                .with_claim_limit(0)
        })
    }

    /// Where threads spin, six workers hash seven shares of each block's lock requests
    /// for its filter, and every block still replays to the leader's hash: a request
    /// missing from the filter could leave a contested account unscheduled.
    #[test]
    fn blocks_whose_filter_the_workers_hash_reach_the_leaders_hash() {
        let _hooks = HOOKS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (seed, pattern) in [
            (1, ConflictPattern::Uniform { accounts: 40 }),
            (2, ConflictPattern::ReadWrite { shared: 8 }),
            (
                3,
                ConflictPattern::HotSpot {
                    percent: 50,
                    hot_accounts: 4,
                },
            ),
        ] {
            let (workload, programs, block) = seeded_transfer_block(seed, 1_000, pattern);
            let mut replayer = BlockReplayer::new(6, Arc::clone(&programs))
                .with_wait(SpinWait::spinning(Duration::from_micros(20)))
                .with_claim_limit(0);
            for _ in 0..2 {
                let (bank, metrics) = replayer.replay(&workload.genesis_bank(), &block).unwrap();
                assert_eq!(bank.hash(), Some(block.bank_hash), "{pattern}");
                assert!(!metrics.in_order, "{pattern}");
            }
            assert_eq!(replayer.usage_queues_in_use(), 0);
        }
    }

    /// A block that fails its checks before execution runs nothing, even where the
    /// scheduler takes blocks over before the calling thread's first claim, and the same
    /// replayer then replays the next block in parallel.
    #[test]
    fn a_block_rejected_before_execution_runs_nothing_and_the_next_replays() {
        let _hooks = HOOKS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (workload, programs, block) =
            transfer_block(3_000, ConflictPattern::Uniform { accounts: 60 });
        let mut duplicated = block.clone();
        let copy = Arc::clone(&duplicated.entries[0].transactions[0]);
        duplicated
            .entries
            .last_mut()
            .expect("invariant: the block has an entry")
            .transactions
            .push(copy);
        let mut wrong_parent = block.clone();
        wrong_parent.parent_hash = sdk_lite::Hash::new_unique();
        for mut replayer in replayers(&programs) {
            let parent = workload.genesis_bank();
            let state = parent.accounts().state_hash();
            for _ in 0..3 {
                for rejected in [&duplicated, &wrong_parent] {
                    let error = replayer.replay(&parent, rejected).unwrap_err();
                    assert!(
                        matches!(
                            error,
                            ReplayError::DuplicateSignature { .. }
                                | ReplayError::ParentMismatch { .. }
                        ),
                        "{error}"
                    );
                    assert_eq!(
                        parent.accounts().state_hash(),
                        state,
                        "nothing of a rejected block ran"
                    );
                }
            }
            let (bank, metrics) = replayer.replay(&parent, &block).unwrap();
            assert_eq!(bank.hash(), Some(block.bank_hash));
            assert!(!metrics.in_order);
            assert_eq!(replayer.usage_queues_in_use(), 0);
        }
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

    /// `block` with its `at`-th transaction replaced by one whose fee payer does not exist
    /// (it can never be committed); returns the block and that transaction's signature.
    fn with_unpayable(block: &crate::Block, at: usize) -> (crate::Block, sdk_lite::Signature) {
        let payer = Pubkey::new_unique();
        let message = sdk_lite::Message::new(
            &[svm_lite::system_program::instruction::transfer(
                &payer,
                &Pubkey::new_unique(),
                1,
            )],
            Some(&payer),
            crate::Bank::first_blockhash(),
        );
        let bad = Arc::new(
            sdk_lite::SanitizedTransaction::try_new(
                sdk_lite::Transaction::new_with_placeholder_signatures(message),
            )
            .expect("invariant: a well-formed transfer"),
        );
        let mut block = block.clone();
        let slot = block
            .entries
            .iter_mut()
            .flat_map(|entry| entry.transactions.iter_mut())
            .nth(at)
            .expect("invariant: the block is long enough");
        *slot = Arc::clone(&bad);
        (block, *bad.signature())
    }

    /// The accounts `block` contests (some transaction writes each, and more than one
    /// touches it), and every account its transactions write.
    fn contested_and_written(block: &crate::Block) -> [AHashSet<Pubkey>; 2] {
        let touched = crate::block_replayer::contested_filter::tests::touches(
            block.entries.iter().flat_map(|entry| &entry.transactions),
        );
        let keys = |keep: fn(usize, bool) -> bool| {
            touched
                .iter()
                .filter(|&(_, &(count, written))| keep(count, written))
                .map(|(key, _)| *key)
                .collect()
        };
        [
            keys(|count, written| count > 1 && written),
            keys(|_, written| written),
        ]
    }

    #[test]
    fn the_usage_queue_cache_holds_the_contested_accounts_seen_across_blocks() {
        let _hooks = HOOKS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let programs = Arc::new(ProgramRegistry::with_builtins());
        for mut replayer in replayers(&programs) {
            assert_eq!(
                replayer.cached_usage_queues(),
                0,
                "no thread before a block"
            );
            let [mut contested, mut written] = [AHashSet::new(), AHashSet::new()];
            for seed in 0..2 {
                let (workload, _, block) =
                    seeded_transfer_block(seed, 400, ConflictPattern::Uniform { accounts: 40 });
                let (_, metrics) = replayer.replay(&workload.genesis_bank(), &block).unwrap();
                assert!(!metrics.in_order);
                let [block_contested, block_written] = contested_and_written(&block);
                contested.extend(block_contested);
                written.extend(block_written);
                // Every account a block contested has its queue, kept across blocks; the
                // fee payers (each transaction's own, written and touched once) have none
                // (one may share its filter bits with contested accounts: then it has a
                // queue too).
                let cached = replayer.cached_usage_queues();
                assert!(
                    contested.len() <= cached && cached < written.len(),
                    "{} contested, {cached} cached, {} written",
                    contested.len(),
                    written.len()
                );
                assert_eq!(replayer.usage_queues_in_use(), 0);
            }
        }
    }

    #[test]
    fn the_scheduler_takes_over_where_the_calling_thread_stopped() {
        let _hooks = HOOKS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (workload, programs, block) =
            transfer_block(300, ConflictPattern::Uniform { accounts: 60 });
        for limit in [0, 1, 37, 299, 300] {
            for wait in [
                SpinWait::never(),
                SpinWait::spinning(Duration::from_micros(20)),
            ] {
                let mut replayer = BlockReplayer::new(3, Arc::clone(&programs))
                    .with_wait(wait)
                    .with_claim_limit(limit);
                let (bank, metrics) = replayer.replay(&workload.genesis_bank(), &block).unwrap();
                assert_eq!(bank.hash(), Some(block.bank_hash), "limit {limit}");
                let indices: Vec<usize> = metrics.timings.iter().map(|t| t.index).collect();
                assert_eq!(indices, (0..300).collect::<Vec<_>>(), "limit {limit}");
                if limit < 300 {
                    assert!(!metrics.in_order, "the scheduler took over at {limit}");
                }
                assert_eq!(replayer.usage_queues_in_use(), 0);
            }
        }
    }

    #[test]
    fn a_failure_on_either_side_of_the_takeover_is_the_one_reported() {
        let _hooks = HOOKS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (workload, programs, block) =
            transfer_block(300, ConflictPattern::Uniform { accounts: 60 });
        // The calling thread runs the first 20 before the scheduler takes over.
        for at in [3, 19, 20, 250] {
            let (bad_block, bad) = with_unpayable(&block, at);
            for replayer in replayers(&programs) {
                let mut replayer = replayer.with_claim_limit(20);
                match replayer.replay(&workload.genesis_bank(), &bad_block) {
                    Err(ReplayError::UncommittableTransaction { signature, .. }) => {
                        assert_eq!(signature, bad, "failure at {at}");
                    }
                    other => panic!("failure at {at}: {other:?}"),
                }
                assert_eq!(replayer.usage_queues_in_use(), 0);
                // The same replayer replays the good block after that.
                let (bank, _) = replayer.replay(&workload.genesis_bank(), &block).unwrap();
                assert_eq!(bank.hash(), Some(block.bank_hash));
            }
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

    /// The task `created` is; panics if it is none.
    fn task(created: Created) -> Task<ReplayTask> {
        match created {
            Created::Task(task) => task,
            Created::Follower => panic!("a follower, not a task"),
            Created::Independent => panic!("independent, not a task"),
        }
    }

    #[test]
    fn a_transaction_follows_the_open_task_that_last_touched_all_its_accounts() {
        use crate::block_replayer::contested_filter::tests::{numbered, transaction_of};
        on_scheduling_thread(|machine| {
            let program = numbered(0, 0);
            let [hot, other, third, config, a, b] =
                [1, 2, 3, 5, 6, 7].map(|kind| numbered(kind, 0));
            let payer = |i| numbered(4, i);
            let tx = |i, writes: &[Pubkey], reads: &[Pubkey]| {
                transaction_of(program, payer(i), writes, reads)
            };
            let block = [
                tx(0, &[hot], &[]),           // a task, handed out at once
                tx(1, &[hot], &[]),           // a task, blocked behind 0
                tx(2, &[hot], &[config]),     // follows 1 (`config` is not contested)
                tx(3, &[], &[hot]),           // follows 1: a read under 1's write
                tx(4, &[hot, other], &[]),    // a task: 1 never touched `other`
                tx(5, &[other], &[]),         // follows 4; then 4 is handed out
                tx(6, &[], &[other]),         // a task: 4 is gone
                tx(7, &[other], &[]),         // a task: 6 only reads `other`
                tx(8, &[hot], &[]),           // a task: 4, the last to touch `hot`, is gone
                tx(9, &[], &[config, other]), // follows 7
                tx(10, &[], &[other]),        // follows 7 too
                tx(11, &[third], &[]),        // a task, runnable; then handed out
                tx(12, &[], &[third]),        // a task, blocked behind 11
                tx(13, &[], &[third]),        // a task: it does not depend on 12
                tx(14, &[hot, third], &[]),   // a task: 8 and 13 last touched them
                tx(15, &[a], &[b]),           // a task, runnable; then handed out
                tx(16, &[a], &[b]),           // a task, blocked behind 15
                tx(17, &[a, b], &[]),         // a task: 16 only reads `b`
                tx(18, &[hot, other], &[]),   // a task: 14 and 7 last wrote them
            ];
            // A salt at which the filter tells this block's accounts apart exactly (a
            // block this small gets the smallest filter, where a false positive is
            // likely), so that what follows depends on the rules alone.
            let keys: Vec<Pubkey> = [program, hot, other, third, config, a, b]
                .into_iter()
                .chain((0..19).map(payer))
                .collect();
            let mut factory = TaskFactory::default();
            let exact = (1..1_000).find(|&salt| {
                factory.begin_block(&block, salt, None);
                keys.iter().all(|key| {
                    factory.contested.is_contested(key) == [hot, other, third, a, b].contains(key)
                })
            });
            assert!(exact.is_some(), "some salt tells the accounts apart");
            let mut open = AHashMap::default();
            let mut create = |index: usize, open: &mut AHashMap<usize, Vec<usize>>| match factory
                .create(index, &block[index], open)
            {
                Created::Task(task) => {
                    let runnable = machine.schedule_task(task);
                    format!("task{}", if runnable.is_some() { "" } else { ", blocked" })
                }
                Created::Follower => "follower".to_owned(),
                Created::Independent => "independent".to_owned(),
            };
            assert_eq!(create(0, &mut open), "task");
            open.remove(&0);
            assert_eq!(create(1, &mut open), "task, blocked");
            assert_eq!(create(2, &mut open), "follower");
            assert_eq!(create(3, &mut open), "follower");
            assert_eq!(create(4, &mut open), "task, blocked");
            assert_eq!(create(5, &mut open), "follower");
            let followers_of_4 = open.remove(&4).expect("4 is open");
            assert_eq!(create(6, &mut open), "task, blocked");
            assert_eq!(create(7, &mut open), "task, blocked");
            assert_eq!(create(8, &mut open), "task, blocked");
            assert_eq!(create(9, &mut open), "follower");
            assert_eq!(create(10, &mut open), "follower");
            assert_eq!(create(11, &mut open), "task");
            open.remove(&11);
            assert_eq!(create(12, &mut open), "task, blocked");
            assert_eq!(create(13, &mut open), "task, blocked");
            assert_eq!(create(14, &mut open), "task, blocked");
            assert_eq!(create(15, &mut open), "task");
            open.remove(&15);
            assert_eq!(create(16, &mut open), "task, blocked");
            assert_eq!(create(17, &mut open), "task, blocked");
            assert_eq!(create(18, &mut open), "task, blocked");
            assert_eq!(open[&1], [2, 3]);
            assert_eq!(followers_of_4, [5]);
            assert_eq!(open[&7], [9, 10]);
            assert!(open[&12].is_empty() && open[&13].is_empty());
        });
    }

    /// The workers' shares of a block's hashed lock requests, in block order, are the
    /// whole block's, request for request (so the filter built from them is the one built
    /// in one pass: `contested_filter.rs`'s property test); a block too small to share is
    /// left to the scheduler thread.
    #[test]
    fn workers_hash_shares_of_a_block_that_join_into_the_whole() {
        let programs = Arc::new(ProgramRegistry::with_builtins());
        let (urgent, urgent_receiver) = unbounded::<Assignment>();
        let (normal, normal_receiver) = unbounded::<Assignment>();
        let (done, _answers) = unbounded::<Answers>();
        let wait = SpinWait::spinning(Duration::from_micros(20));
        let workers: Vec<_> = (0..3)
            .map(|worker| {
                let lanes = Lanes {
                    urgent: urgent_receiver.clone(),
                    normal: normal_receiver.clone(),
                };
                let done = done.clone();
                let programs = Arc::clone(&programs);
                std::thread::spawn(move || run_worker(worker, &programs, &lanes, &done, wait))
            })
            .collect();
        let runnable = Lanes { urgent, normal };
        for count in [0, 255, 256, 383, 384, 1_001] {
            let block: Arc<[BufferedTransaction]> = crate::block_replayer::tests::transactions(
                3,
                count,
                ConflictPattern::Uniform { accounts: 50 },
            )
            .into();
            let whole = RequestHasher::salted(9).hash_share(&block);
            match hash_on_workers(&block, 9, 3, &runnable, wait) {
                None => assert!(count < 2 * MIN_TRANSACTIONS_PER_HASH_SHARE, "{count}"),
                Some((shares, _)) => {
                    assert_eq!(
                        shares.len(),
                        4.min(count / MIN_TRANSACTIONS_PER_HASH_SHARE),
                        "{count}"
                    );
                    assert!(
                        shares.iter().all(|share| share.transactions() > 0),
                        "{count}"
                    );
                    assert_eq!(HashedShare::concat(&shares), whole, "{count}");
                }
            }
        }
        drop(runnable);
        for worker in workers {
            worker.join().expect("a worker ends when the lanes close");
        }
    }

    /// Shares answered in any order are put back in block order: here a stand-in worker
    /// runs every share it is given only once it has them all, last first.
    #[test]
    fn shares_answered_out_of_order_are_joined_in_block_order() {
        let (urgent, _urgent_receiver) = unbounded::<Assignment>();
        let (normal, normal_receiver) = unbounded::<Assignment>();
        let runnable = Lanes { urgent, normal };
        let block: Arc<[BufferedTransaction]> = crate::block_replayer::tests::transactions(
            4,
            1_000,
            ConflictPattern::Uniform { accounts: 50 },
        )
        .into();
        // 1,000 transactions, 5 workers: six shares, five of them sent out.
        let sent = 5;
        let backwards = std::thread::spawn(move || {
            let mut shares: Vec<HashShare> = normal_receiver
                .iter()
                .take(sent)
                .map(|assignment| match assignment {
                    Assignment::Hash(share) => share,
                    Assignment::Run(_) => panic!("only shares are sent here"),
                })
                .collect();
            while let Some(share) = shares.pop() {
                share.run();
            }
        });
        let (shares, _) = hash_on_workers(&block, 5, 5, &runnable, SpinWait::never())
            .expect("a block of 1,000 transactions is shared");
        backwards
            .join()
            .expect("the stand-in worker ran every share");
        assert_eq!(shares.len(), sent + 1);
        assert_eq!(
            HashedShare::concat(&shares),
            RequestHasher::salted(5).hash_share(&block)
        );
    }

    #[test]
    fn a_task_takes_at_most_max_followers() {
        use crate::block_replayer::contested_filter::tests::{numbered, transaction_of};
        on_scheduling_thread(|machine| {
            let hot = numbered(1, 0);
            let block: Vec<BufferedTransaction> = (0..MAX_FOLLOWERS as u64 + 3)
                .map(|i| transaction_of(numbered(0, 0), numbered(2, i), &[hot], &[]))
                .collect();
            let mut factory = TaskFactory::default();
            factory.begin_block(&block, 1, None);
            let mut open = AHashMap::default();
            let first = task(factory.create(0, &block[0], &mut open));
            assert!(machine.schedule_task(first).is_some());
            open.remove(&0);
            let second = task(factory.create(1, &block[1], &mut open));
            assert!(machine.schedule_task(second).is_none());
            for (index, transaction) in block.iter().enumerate().take(MAX_FOLLOWERS + 2).skip(2) {
                assert!(matches!(
                    factory.create(index, transaction, &mut open),
                    Created::Follower
                ));
            }
            let next = MAX_FOLLOWERS + 2;
            assert!(
                matches!(
                    factory.create(next, &block[next], &mut open),
                    Created::Task(_)
                ),
                "the group is full"
            );
            assert_eq!(open[&1].len(), MAX_FOLLOWERS);
        });
    }

    /// Creates and schedules the tasks of the two-transaction `block`: the second must
    /// wait for the first (`why`), and run once the first is descheduled.
    fn assert_second_waits_for_first(
        machine: &mut SchedulingStateMachine<ReplayTask>,
        factory: &mut TaskFactory,
        block: &[BufferedTransaction],
        why: &str,
    ) {
        let mut open = AHashMap::default();
        let first = machine
            .schedule_task(task(factory.create(0, &block[0], &mut open)))
            .expect("the first task holds its accounts");
        // Handed out at once: the second cannot follow it.
        open.remove(&0);
        assert!(
            machine
                .schedule_task(task(factory.create(1, &block[1], &mut open)))
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
    fn only_contested_accounts_are_scheduled_and_independent_transactions_get_no_task() {
        use crate::block_replayer::contested_filter::tests::{numbered, transaction_of};
        on_scheduling_thread(|machine| {
            let program = numbered(0, 0);
            let hot = numbered(1, 0);
            let config = numbered(2, 0);
            let alone = numbered(3, 0);
            let payer = |i| numbered(4, i);
            // 0 writes `hot`; 1 reads `hot` and `config`, which nobody writes; 2 writes
            // `alone`, which nobody else touches, and reads `config`.
            let block = [
                transaction_of(program, payer(0), &[hot], &[]),
                transaction_of(program, payer(1), &[], &[hot, config]),
                transaction_of(program, payer(2), &[alone], &[config]),
            ];
            let mut factory = TaskFactory::default();
            factory.begin_block(&block, 1, None);
            assert_second_waits_for_first(
                machine,
                &mut factory,
                &block,
                "the reader of `hot` waits for its writer",
            );
            assert!(
                matches!(
                    factory.create(2, &block[2], &mut AHashMap::default()),
                    Created::Independent
                ),
                "2 contends for nothing: it needs no task"
            );
            let cached: Vec<&Pubkey> = factory.cache.keys().collect();
            assert_eq!(cached, [&hot], "only `hot` needs a queue");
        });
    }

    #[test]
    fn a_read_before_a_later_write_is_still_scheduled() {
        use crate::block_replayer::contested_filter::tests::transaction;
        on_scheduling_thread(|machine| {
            // 0 reads `later`, which 1 writes: the writer waits for the earlier reader (the
            // filter is of the whole block, not of the transactions created so far).
            let later = Pubkey::new_unique();
            let block = [
                transaction(Pubkey::new_unique(), &[], &[later]),
                transaction(Pubkey::new_unique(), &[later], &[]),
            ];
            let mut factory = TaskFactory::default();
            factory.begin_block(&block, 1, None);
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
