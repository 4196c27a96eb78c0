//! The replayer's threads: a scheduler thread that owns the FIFO state machine and the
//! usage-queue cache and creates each block's tasks, and `N` workers. They start with the
//! first block the replayer runs in parallel and live until the replayer is dropped, so a
//! block pays for no thread start (a node replays a block every 400 ms; starting 15 threads
//! costs a fair share of a small block).
//!
//! This file holds the threads' loops and what travels between them; what the scheduler
//! thread does with one block is in `block_run.rs`, how it turns transactions into tasks in
//! `task_factory.rs`, how it sizes handoffs in `handoff_sizing.rs`, and how the workers
//! help build a block's filter in `hash_shares.rs`.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, TryRecvError, bounded, unbounded};
use svm_lite::ProgramRegistry;
use unified_scheduler_logic::{Capability, SchedulingStateMachine};

use super::block_run::schedule_block;
use super::handoff_sizing::HandoffSizing;
use super::handover::{Handover, InOrderReport};
use super::hash_shares::HashShare;
use super::task_factory::{CacheReport, Group, TaskFactory};
use super::worker::{BlockContext, Failure, Item, TaskResult, panicked_handoff, run_handoff};
use super::{ReplayTask, Takeover, TransactionTiming};
use crate::messages::BufferedTransaction;
use crate::spin_wait::SpinWait;

/// What a block's replay returns: the timings in block order, or its first failure.
pub(super) type BlockOutcome = Result<Vec<TransactionTiming>, (usize, Failure)>;

/// The scheduler thread's answer for a block.
#[derive(Debug)]
pub(super) struct Reply {
    /// `None` if the scheduler ran none of the block: it has less than
    /// [`MIN_PARALLELISM`](super::MIN_PARALLELISM) transactions per link of its longest conflict chain (the
    /// calling thread runs it in order), or the calling thread had claimed all of it, or
    /// failed. Otherwise the scheduler took over where the calling thread stopped and ran
    /// the rest: where and when it took over, and the rest's timings, in block order, or
    /// its first failure.
    pub(super) ran: Option<(Takeover, BlockOutcome)>,
    /// How long the scheduler thread was busy on the block (not waiting for answers or
    /// for the calling thread), its check included.
    pub(super) busy: Duration,
}

/// What a handoff carries: groups of a task of the state machine and its followers, or
/// independent transactions, which need no task (their indices in the block).
pub(super) enum Work {
    Scheduled(Vec<Group>),
    Independent(Vec<usize>),
}

impl Work {
    /// The block indices of the work's transactions, in order (a task's followers right
    /// after it).
    pub(super) fn indices(&self) -> impl Iterator<Item = usize> + '_ {
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
pub(super) struct Answers {
    pub(super) urgent: bool,
    pub(super) work: Work,
    pub(super) results: Vec<TaskResult>,
}

/// What the scheduler thread sends a worker.
pub(super) enum Assignment {
    /// Transactions to run.
    Run(Handoff),
    /// A share of the next block's lock requests to hash for its filter.
    Hash(HashShare),
}

/// Work for a worker, with the block it belongs to and the lane it travels on.
pub(super) struct Handoff {
    pub(super) context: Arc<BlockContext>,
    pub(super) work: Work,
    pub(super) urgent: bool,
}

/// The two channels handoffs travel on. A worker takes from `urgent` first: a link of a
/// conflict chain sent there overtakes every handoff already queued on `normal`.
#[derive(Debug)]
pub(super) struct Lanes<T> {
    pub(super) urgent: T,
    pub(super) normal: T,
}

/// One block for the scheduler thread, sent before the block has a bank (where every
/// thread has a core, before the block's checks before execution): the scheduler checks
/// it, and if it takes over, creates a task per
/// transaction that needs one, in block order, and sends the outcome back on `outcome`.
pub(super) struct BlockJob {
    pub(super) transactions: Arc<[BufferedTransaction]>,
    /// The block's slot (salts its filter).
    pub(super) slot: u64,
    /// How the calling thread and the scheduler share the block.
    pub(super) handover: Arc<Handover>,
    /// Where the calling thread stopped running the block in order, with the block's
    /// bank; closed without a report if it failed.
    pub(super) report: Receiver<InOrderReport>,
    outcome: Sender<Reply>,
}

impl std::fmt::Debug for BlockJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockJob").finish_non_exhaustive()
    }
}

/// What the scheduler thread is asked to do.
enum Job {
    /// Replay a block.
    Block(BlockJob),
    /// Report on the usage-queue cache (between blocks: jobs run one at a time).
    Inspect(Sender<CacheReport>),
}

/// The scheduler thread and the workers.
#[derive(Debug)]
pub(super) struct ReplayPool {
    jobs: Option<Sender<Job>>,
    threads: Vec<JoinHandle<()>>,
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
            // A thread that panicked lost its block, whose caller saw the outcome channel
            // close; there is nothing left to report it to.
            let _ = thread.join();
        }
    }
}

/// A replay worker: runs each handoff against its block's bank and answers for its tasks
/// together.
pub(super) fn run_worker(
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
        // Nothing comes on the urgent lane then (see `ReadyTasks` in `block_run.rs`).
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
    let mut sizing = HandoffSizing::new(num_workers, wait);
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use ahash::AHashSet;
    use sdk_lite::Pubkey;
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
    use std::time::Duration;

    use crate::block_replayer::BlockReplayer;
    use crate::sequential_replay::ReplayError;
    use crate::workload::{ConflictPattern, TransactionMix, Workload, WorkloadConfig};

    /// Held by each test that replays a block, for as long as it replays: the panic hooks
    /// below fire on any block with the index or slot they name (they are called from the
    /// replay's threads only, not from the parts that other unit tests drive directly),
    /// and unit tests run at once.
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

    pub(in crate::block_replayer) fn maybe_panic_in_create(index: usize) {
        if index == PANIC_IN_CREATE_AT.load(Ordering::Relaxed) {
            panic!("a broken invariant in task creation (injected by a test)");
        }
    }

    /// The slot whose filter panics on the scheduler thread (`u64::MAX`: none).
    static PANIC_IN_FILTER_AT_SLOT: AtomicU64 = AtomicU64::new(u64::MAX);

    pub(in crate::block_replayer) fn maybe_panic_in_filter(slot: u64) {
        if slot == PANIC_IN_FILTER_AT_SLOT.load(Ordering::Relaxed) {
            panic!("a broken invariant in a block's filter (injected by a test)");
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

    /// Where the scheduler checks a block beside its checks before execution (threads
    /// spin), a panic on the scheduler thread while it checks a block that then fails
    /// those checks reaches the caller with that block: not with the next one, after that
    /// one ran in order.
    #[test]
    fn a_scheduler_panic_while_checking_a_rejected_block_surfaces_with_it() {
        let _hooks = HOOKS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (workload, programs, block) =
            transfer_block(2_000, ConflictPattern::Uniform { accounts: 50 });
        let mut wrong_parent = block.clone();
        wrong_parent.parent_hash = sdk_lite::Hash::new_unique();
        let mut replayer = BlockReplayer::new(3, Arc::clone(&programs))
            .with_wait(SpinWait::spinning(Duration::from_micros(20)))
            .with_claim_limit(0);
        let parent = workload.genesis_bank();
        let state = parent.accounts().state_hash();
        PANIC_IN_FILTER_AT_SLOT.store(block.slot, Ordering::Relaxed);
        let panicked = catch_unwind(AssertUnwindSafe(|| replayer.replay(&parent, &wrong_parent)));
        PANIC_IN_FILTER_AT_SLOT.store(u64::MAX, Ordering::Relaxed);
        assert!(
            panicked.is_err(),
            "the scheduler's panic reaches the caller with the rejected block"
        );
        assert_eq!(parent.accounts().state_hash(), state, "nothing of it ran");
        // A new scheduler thread takes the next block over.
        let (bank, metrics) = replayer.replay(&parent, &block).unwrap();
        assert_eq!(bank.hash(), Some(block.bank_hash));
        assert!(!metrics.in_order);
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
}
