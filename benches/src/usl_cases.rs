//! The scheduling-state-machine workloads (`unified-scheduler-logic`): the tasks of each
//! case, and the drivers that feed them to a state machine, shared by the criterion bench
//! and by `benches/agave-compare` so that this project's machine and Agave's make exactly
//! the same calls in the same order.
//!
//! Every case runs in FIFO mode (replay) and in priority mode (block production):
//!
//! * **pair**: `schedule_task` (which must hand the task back) then `deschedule_task`, of
//!   one task writing 10 or 100 addresses, then of the next task, which writes the same
//!   addresses, and so on: the addresses are reused, the tasks are not (a task is scheduled
//!   once). One operation = one pair.
//! * **chain**: every task writes the same 1 or 10 addresses. All are scheduled (the first
//!   runs, the rest block), then the chain is drained: deschedule the running task, take the
//!   next unblocked one, repeat. One operation = one task.
//! * **mix**: tasks over a pool of 50 addresses, each writing 2 and reading 2 distinct ones
//!   (a fixed pseudo-random choice), all scheduled in order; then the driver deschedules the
//!   running tasks in the order they started and collects the unblocked ones, until every
//!   task is done. One operation = one task.
//!
//! Task ids are the arrival index (ascending), in priority mode too, except in the cases
//! named `descending-ids` (each newcomer outranks everything before it) and
//! `shuffled-ids` (a fixed pseudo-random permutation, so newcomers take addresses back from
//! tasks that are not running yet: *reblocking*).
//!
//! A task's lock requests list its writable addresses first: the order of a Solana
//! message's account keys, in which Agave's `create_task` requests them.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

use unified_scheduler_logic::{
    Capability, OrderedTaskId, RequestedUsage, SchedulingStateMachine, Task, UsageQueue,
};

/// Tasks in a run of the 10-account pair case.
pub const PAIR_TASKS_SMALL: usize = 2_000;
/// Tasks in a run of the 100-account pair case.
pub const PAIR_TASKS_LARGE: usize = 500;
/// Tasks in each FIFO chain and in each mix.
pub const CHAIN_TASKS: usize = 10_000;
/// Tasks in the priority chains that match the figure for Agave (a 1,000-task
/// chain); the 10,000-task priority chains run as well.
pub const SHORT_CHAIN_TASKS: usize = 1_000;
/// Addresses the mix draws from.
pub const MIX_ADDRESSES: usize = 50;

/// How the state machine orders waiting tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `Capability::FifoQueueing`.
    Fifo,
    /// `Capability::PriorityQueueing`.
    Priority,
}

impl Mode {
    /// This project's capability for the mode.
    pub fn capability(self) -> Capability {
        match self {
            Self::Fifo => Capability::FifoQueueing,
            Self::Priority => Capability::PriorityQueueing,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Fifo => "fifo",
            Self::Priority => "priority",
        }
    }
}

/// The shape of a case (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// Schedule + deschedule of one task at a time, every task writing the same addresses.
    Pair,
    /// Tasks all writing the same addresses: one runs at a time.
    Chain,
    /// Tasks over a small pool of addresses, 2 writes + 2 reads each.
    Mix,
}

/// One task of a case.
#[derive(Debug, Clone)]
pub struct TaskSpec<K> {
    /// Its id (smaller goes first in priority mode).
    pub task_id: OrderedTaskId,
    /// `(address, is_writable)`, writable addresses first, no address twice.
    pub locks: Vec<(K, bool)>,
}

/// One benchmark case.
#[derive(Debug, Clone)]
pub struct UslCase<K> {
    /// Stable name, e.g. `fifo/chain/10000-tasks/10-accounts`.
    pub name: String,
    /// FIFO or priority.
    pub mode: Mode,
    /// Pair, chain or mix.
    pub workload: Workload,
    /// The tasks, in arrival order.
    pub tasks: Vec<TaskSpec<K>>,
}

impl<K> UslCase<K> {
    /// Operations in one run of the case: its number of tasks.
    pub fn ops_per_run(&self) -> u64 {
        self.tasks.len() as u64
    }
}

/// How a case's task ids are assigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ids {
    Ascending,
    Descending,
    Shuffled,
}

/// All cases, in both modes. `key(i)` makes the `i`-th distinct address.
pub fn usl_cases<K: Clone>(mut key: impl FnMut(u64) -> K) -> Vec<UslCase<K>> {
    let mut next_key = 0u64;
    let mut fresh_keys = |n: usize| -> Vec<K> {
        (0..n)
            .map(|_| {
                next_key += 1;
                key(next_key)
            })
            .collect()
    };
    let mut cases = Vec::new();
    for mode in [Mode::Fifo, Mode::Priority] {
        for (accounts, tasks) in [(10usize, PAIR_TASKS_SMALL), (100, PAIR_TASKS_LARGE)] {
            let locks: Vec<(K, bool)> = fresh_keys(accounts)
                .into_iter()
                .map(|k| (k, true))
                .collect();
            cases.push(UslCase {
                name: format!("{}/pair/{accounts}-accounts", mode.name()),
                mode,
                workload: Workload::Pair,
                tasks: task_ids(tasks, Ids::Ascending)
                    .into_iter()
                    .map(|task_id| TaskSpec {
                        task_id,
                        locks: locks.clone(),
                    })
                    .collect(),
            });
        }
        let chains: &[(usize, Ids)] = match mode {
            Mode::Fifo => &[(CHAIN_TASKS, Ids::Ascending)],
            Mode::Priority => &[
                (SHORT_CHAIN_TASKS, Ids::Ascending),
                (CHAIN_TASKS, Ids::Ascending),
                (SHORT_CHAIN_TASKS, Ids::Descending),
            ],
        };
        for &(tasks, ids) in chains {
            for accounts in [1usize, 10] {
                if ids == Ids::Descending && accounts == 1 {
                    continue;
                }
                let keys = fresh_keys(accounts);
                let locks: Vec<(K, bool)> = keys.into_iter().map(|k| (k, true)).collect();
                let task_ids = task_ids(tasks, ids);
                cases.push(UslCase {
                    name: format!(
                        "{}/chain/{tasks}-tasks/{accounts}-account{}{}",
                        mode.name(),
                        if accounts == 1 { "" } else { "s" },
                        ids_suffix(ids),
                    ),
                    mode,
                    workload: Workload::Chain,
                    tasks: task_ids
                        .into_iter()
                        .map(|task_id| TaskSpec {
                            task_id,
                            locks: locks.clone(),
                        })
                        .collect(),
                });
            }
        }
        let mixes: &[Ids] = match mode {
            Mode::Fifo => &[Ids::Ascending],
            Mode::Priority => &[Ids::Ascending, Ids::Shuffled],
        };
        for &ids in mixes {
            let pool = fresh_keys(MIX_ADDRESSES);
            cases.push(UslCase {
                name: format!(
                    "{}/mix/{CHAIN_TASKS}-tasks/{MIX_ADDRESSES}-accounts{}",
                    mode.name(),
                    ids_suffix(ids)
                ),
                mode,
                workload: Workload::Mix,
                tasks: mix_tasks(&pool, task_ids(CHAIN_TASKS, ids)),
            });
        }
    }
    cases
}

fn ids_suffix(ids: Ids) -> &'static str {
    match ids {
        Ids::Ascending => "",
        Ids::Descending => "/descending-ids",
        Ids::Shuffled => "/shuffled-ids",
    }
}

fn task_ids(n: usize, ids: Ids) -> Vec<OrderedTaskId> {
    let mut task_ids: Vec<OrderedTaskId> = (0..n as OrderedTaskId).collect();
    match ids {
        Ids::Ascending => {}
        Ids::Descending => task_ids.reverse(),
        Ids::Shuffled => {
            // Fisher-Yates with a fixed seed.
            let mut rng = SplitMix64(0x05ee_d1d5);
            for i in (1..n).rev() {
                task_ids.swap(i, rng.below(i + 1));
            }
        }
    }
    task_ids
}

/// One task per id: 2 writes + 2 reads over 4 distinct addresses of `pool`, chosen by a
/// fixed-seed generator.
fn mix_tasks<K: Clone>(pool: &[K], task_ids: Vec<OrderedTaskId>) -> Vec<TaskSpec<K>> {
    let mut rng = SplitMix64(0x0123_4567_89ab_cdef);
    task_ids
        .into_iter()
        .map(|task_id| {
            let mut picked: Vec<usize> = Vec::with_capacity(4);
            while picked.len() < 4 {
                let index = rng.below(pool.len());
                if !picked.contains(&index) {
                    picked.push(index);
                }
            }
            let locks = picked
                .iter()
                .enumerate()
                .map(|(n, &index)| (pool[index].clone(), n < 2))
                .collect();
            TaskSpec { task_id, locks }
        })
        .collect()
}

/// A small deterministic generator (SplitMix64): the same workload on every machine.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform enough in `0..n` for a workload (`n` is tiny next to 2^64).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The calls the drivers make, implemented by this project's state machine (below) and by
/// a wrapper of Agave's in `benches/agave-compare`, so that both run the same driver code.
pub trait SchedulerUnderTest {
    /// The machine's task handle.
    type Task;
    /// `schedule_task` (Agave: `schedule_or_buffer_task(task, false)`).
    fn schedule(&mut self, task: Self::Task) -> Option<Self::Task>;
    /// `deschedule_task`.
    fn deschedule(&mut self, task: &Self::Task);
    /// `schedule_next_unblocked_task`.
    fn next_unblocked(&mut self) -> Option<Self::Task>;
    /// `has_no_active_task`.
    fn has_no_active_task(&self) -> bool;
    /// `reinitialize`.
    fn reinitialize(&mut self);
    /// The task's id.
    fn task_id(task: &Self::Task) -> OrderedTaskId;
}

/// The input of one run: fresh tasks, plus room for the driver's bookkeeping,
/// allocated up front so that the timed run neither allocates nor frees it.
#[derive(Debug)]
pub struct RunInput<T> {
    tasks: Vec<T>,
    running: VecDeque<T>,
    done: Vec<T>,
}

impl<T> RunInput<T> {
    /// Room for `tasks.len()` tasks in every list.
    pub fn new(tasks: Vec<T>) -> Self {
        let n = tasks.len();
        Self {
            tasks,
            running: VecDeque::with_capacity(n),
            done: Vec::with_capacity(n),
        }
    }

    /// After a run: the tasks in the order they were descheduled.
    pub fn done(&self) -> &[T] {
        &self.done
    }
}

/// Runs a case to completion on `input`. The tasks end up in [`RunInput::done`] (so that
/// they are dropped by the caller, outside the timed region).
///
/// # Panics
/// If a pair's task is not handed back at once, or a chain does not run strictly one task
/// at a time.
#[inline(always)]
pub fn run_to_completion<S: SchedulerUnderTest>(
    scheduler: &mut S,
    workload: Workload,
    input: &mut RunInput<S::Task>,
) {
    match workload {
        Workload::Pair => run_pairs(scheduler, input),
        Workload::Chain => run_chain(scheduler, input),
        Workload::Mix => run_mix(scheduler, input),
    }
}

#[inline(always)]
fn run_pairs<S: SchedulerUnderTest>(scheduler: &mut S, input: &mut RunInput<S::Task>) {
    for task in input.tasks.drain(..) {
        let task = scheduler
            .schedule(task)
            .expect("pair: no other task is active");
        scheduler.deschedule(&task);
        input.done.push(task);
    }
}

#[inline(always)]
fn run_chain<S: SchedulerUnderTest>(scheduler: &mut S, input: &mut RunInput<S::Task>) {
    let mut tasks = input.tasks.drain(..);
    let first = tasks.next().expect("a chain has tasks");
    let mut running = scheduler
        .schedule(first)
        .expect("chain: the first task runs at once");
    for task in tasks {
        assert!(
            scheduler.schedule(task).is_none(),
            "chain: every later task waits"
        );
    }
    loop {
        scheduler.deschedule(&running);
        input.done.push(running);
        match scheduler.next_unblocked() {
            Some(next) => running = next,
            None => break,
        }
    }
}

#[inline(always)]
fn run_mix<S: SchedulerUnderTest>(scheduler: &mut S, input: &mut RunInput<S::Task>) {
    for task in input.tasks.drain(..) {
        if let Some(task) = scheduler.schedule(task) {
            input.running.push_back(task);
        }
    }
    while let Some(task) = input.running.pop_front() {
        scheduler.deschedule(&task);
        input.done.push(task);
        while let Some(next) = scheduler.next_unblocked() {
            input.running.push_back(next);
        }
    }
}

/// Checks a finished run (outside the timed region): every task was descheduled once and
/// the machine is idle.
///
/// # Panics
/// If not.
pub fn assert_completed<S: SchedulerUnderTest>(
    scheduler: &S,
    input: &RunInput<S::Task>,
    expected_tasks: usize,
) {
    assert!(
        input.tasks.is_empty() && input.running.is_empty(),
        "every task was scheduled and nothing is left running"
    );
    assert_eq!(input.done.len(), expected_tasks, "every task ran once");
    assert!(scheduler.has_no_active_task(), "the machine is idle");
}

impl<P: 'static> SchedulerUnderTest for SchedulingStateMachine<P> {
    type Task = Task<P>;

    #[inline(always)]
    fn schedule(&mut self, task: Task<P>) -> Option<Task<P>> {
        self.schedule_task(task)
    }

    #[inline(always)]
    fn deschedule(&mut self, task: &Task<P>) {
        self.deschedule_task(task);
    }

    #[inline(always)]
    fn next_unblocked(&mut self) -> Option<Task<P>> {
        self.schedule_next_unblocked_task()
    }

    fn has_no_active_task(&self) -> bool {
        SchedulingStateMachine::has_no_active_task(self)
    }

    fn reinitialize(&mut self) {
        SchedulingStateMachine::reinitialize(self);
    }

    fn task_id(task: &Task<P>) -> OrderedTaskId {
        task.task_id()
    }
}

/// This project's tasks for `case`, with the usage queues cached in `queues` (created on
/// first use with the case's capability), each carrying `payload(spec)`.
pub fn ours_tasks<P: 'static, K: Clone + Eq + Hash>(
    case: &UslCase<K>,
    queues: &mut HashMap<K, UsageQueue<P>>,
    mut payload: impl FnMut(&TaskSpec<K>) -> P,
) -> Vec<Task<P>> {
    let capability = case.mode.capability();
    let mut loader = |address: K| {
        queues
            .entry(address)
            .or_insert_with(|| UsageQueue::new(capability))
            .clone()
    };
    case.tasks
        .iter()
        .map(|spec| {
            SchedulingStateMachine::create_task(
                payload(spec),
                spec.task_id,
                spec.locks.iter().map(|(address, writable)| {
                    (address.clone(), RequestedUsage::from_writable(*writable))
                }),
                &mut loader,
            )
        })
        .collect()
}
