//! What the scheduler thread does with one block: builds the block's filter, checks that the
//! block has enough parallelism, takes it over from the calling thread, then feeds its
//! transactions to the state machine a bite at a time, between looks at the workers'
//! answers, and hands runnable work out.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ahash::AHashMap;
use crossbeam_channel::{Receiver, Sender};
use unified_scheduler_logic::{SchedulingStateMachine, Task};

use super::handoff_sizing::HandoffSizing;
use super::handover::{InOrderReport, TakeOver};
use super::hash_shares::hash_on_workers;
use super::pool::{Answers, Assignment, BlockJob, Handoff, Lanes, Reply, Work};
use super::task_factory::{Created, Group, TaskFactory};
use super::worker::{BlockContext, Failure, TaskResult};
use super::{MIN_PARALLELISM, ReplayTask, Takeover, TransactionTiming, has_parallelism};
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
            #[cfg(test)]
            super::pool::tests::maybe_panic_in_create(index);
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

/// One block: learns which of its accounts are contested and whether it has enough
/// parallelism to run in parallel (else answers a [`Reply`] that ran nothing); then looks at its
/// transactions (a bite at a time, between looks at the workers' answers), creates a task
/// for each that touches a contested account and feeds it to the state machine (or adds
/// the transaction to a waiting task as a follower, see [`Group`]), sends runnable tasks
/// with their followers and independent transactions to the workers, and deschedules
/// finished tasks. Answers the timings in block order, or the first failure in block order.
pub(super) fn schedule_block(
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
    // A test relies on the filter being built before the check for a stopped handover
    // (`a_scheduler_panic_while_checking_a_rejected_block_surfaces_with_it`).
    #[cfg(test)]
    super::pool::tests::maybe_panic_in_filter(job.slot);
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
