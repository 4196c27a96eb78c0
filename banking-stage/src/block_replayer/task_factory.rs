//! How the scheduler thread turns a block's transactions into the state machine's tasks:
//! only a transaction that touches a contested account (`contested_filter.rs`) gets a
//! task, with its contested accounts only, each resolved to its usage queue in a cache kept
//! across blocks; a transaction that depends on a task not handed out yet, which was the
//! last to touch each of its contested accounts, joins that task as a follower (up to a
//! handoff's worth).

use std::sync::Arc;

use ahash::AHashMap;
use sdk_lite::Pubkey;
use unified_scheduler_logic::{
    Capability, RequestedUsage, SchedulingStateMachine, Task, UsageQueue,
};

use super::contested_filter::{ContestedFilter, HashedShare};
use super::handoff_sizing::MAX_TASKS_PER_HANDOFF;
use super::{MAX_CACHED_USAGE_QUEUES, ReplayTask};
use crate::messages::BufferedTransaction;

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
pub(super) struct Group {
    pub(super) task: Task<ReplayTask>,
    /// Block indices, in order.
    pub(super) followers: Vec<usize>,
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

/// Creates the replay's tasks, on the scheduler thread: the usage-queue cache, kept across
/// blocks, and which accounts of the current block are contested.
#[derive(Debug, Default)]
pub(super) struct TaskFactory {
    cache: UsageQueueCache,
    pub(super) contested: ContestedFilter,
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
    pub(super) fn begin_block(
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
    pub(super) fn create(
        &mut self,
        index: usize,
        transaction: &BufferedTransaction,
        open: &mut AHashMap<usize, Vec<usize>>,
    ) -> Created {
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
    pub(super) fn cache_report(&self) -> CacheReport {
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
pub(super) enum Created {
    /// It touches no contested account: no task.
    Independent,
    /// It joined a task not handed out yet (see [`Group`]).
    Follower,
    /// A new task.
    Task(Task<ReplayTask>),
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
