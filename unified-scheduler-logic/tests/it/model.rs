//! A driver that runs a random schedule against the state machine, side by side with a
//! naive reference model, and checks the machine after every step.
//!
//! # The model
//! The model never keeps waiting lines. It recomputes, from scratch after every step, which
//! active task holds which of its addresses, from one rule per address `X` (an *order key*
//! is the arrival sequence in FIFO mode and the task id in priority mode):
//!
//! * **FIFO**: a task holds `X` iff every earlier active requester of `X` reads it and so
//!   does the task (or there is no earlier requester). This is "granted in arrival order,
//!   readers together".
//! * **Priority**: the same rule in id order, except for *pinned* tasks: a task that holds
//!   all its addresses (its blocked count reached 0: it is runnable, buffered or running)
//!   is never reblocked, so it keeps its addresses whatever its id. A non-pinned task holds
//!   `X` iff it is compatible with the pinned holders of `X` and every non-pinned requester
//!   of `X` with a smaller id reads it and so does the task. A task that holds everything
//!   becomes pinned, for good.
//!
//! The machine must then agree with the model exactly: each task's blocked count is the
//! number of its addresses it does not hold, each queue's holders and waiting line are the
//! model's (waiting line in arrival order, resp. id order), and the unblocked queue is the
//! model's: tasks join it when they become pinned (at arrival, if buffered or no running
//! slot is free; on a deschedule, in the order the machine walks the descheduled task's
//! addresses, readers granted together in grant order).
//!
//! # Checks that do not need the model
//! After every step, besides the model: no two running tasks conflict; each task's blocked
//! count is the number of queues whose waiting line holds it; a task with count 0 never
//! gets a higher one; the counters add up (`total = handled + active`, `active = running +
//! queued + blocked`, `running <= cap`) and the `has_*` predicates agree with them; with no
//! active task every queue is unused. When a task starts running, the *order* rule (see
//! [`Driver::start`]). At the end of a block, every task ran exactly once (or was dropped by
//! `clear_and_reinitialize`), the machine holds no task, and only the cache holds the queues.

use std::collections::VecDeque;
use std::sync::Arc;

use unified_scheduler_logic::{
    Capability, OrderedTaskId, RequestedUsage, SchedulingStateMachine, Task, UsageQueue,
    UsageQueueState,
};

/// How many addresses the random tasks draw from.
pub(crate) const ADDRESSES: usize = 6;

/// One random task: its lock requests (distinct addresses) and how it is scheduled.
#[derive(Debug, Clone)]
pub(crate) struct TaskSpec {
    pub(crate) requests: Vec<(u8, RequestedUsage)>,
    pub(crate) force_buffering: bool,
    /// The random high part of the id in priority mode (the arrival sequence is the low
    /// part, which keeps ids distinct).
    pub(crate) priority: u16,
}

/// One step of a random schedule.
#[derive(Debug, Clone)]
pub(crate) enum Op {
    /// Create and schedule (or buffer) a task.
    Schedule(TaskSpec),
    /// `schedule_next_unblocked_task`.
    TakeNext,
    /// Deschedule the running task at this index (modulo the number running; nothing if
    /// none runs).
    Deschedule(usize),
}

/// How a block ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Finish {
    /// Run everything left to completion, then `reinitialize`.
    Drain,
    /// Deschedule the running tasks, then `clear_and_reinitialize` drops the rest.
    Clear,
}

/// How task ids relate to arrival.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ids {
    /// Id = arrival sequence.
    Ascending,
    /// Random high part, arrival sequence as low part.
    Random,
}

/// A random run: blocks of steps on one machine, reinitialized between blocks, with the same
/// usage-queue cache throughout.
#[derive(Debug, Clone)]
pub(crate) struct Case {
    pub(crate) max_running: Option<usize>,
    pub(crate) blocks: Vec<(Vec<Op>, Finish)>,
}

/// At most this many tasks per block (later `Schedule` steps are skipped).
pub(crate) const MAX_TASKS_PER_BLOCK: usize = 40;

/// What the machine did at one step, for comparing two runs (see
/// `priority_with_ascending_ids_behaves_as_fifo`): the task handed out, if any, the counters,
/// and the queues' states without holder ids (FIFO mode does not keep them).
pub(crate) type TraceEntry = (Option<OrderedTaskId>, [u32; 6], Vec<UsageQueueState>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Scheduled, not handed out yet (blocked, or unblocked and queued).
    Waiting,
    Running,
    Done,
    /// Dropped by `clear_and_reinitialize`.
    Dropped,
}

#[derive(Debug)]
struct Tracked {
    task: Task<usize>,
    id: OrderedTaskId,
    requests: Vec<(u8, RequestedUsage)>,
    arrived_at: usize,
    /// The first step after which the machine reported a blocked count of 0.
    pinned_at: Option<usize>,
    phase: Phase,
    /// Model: which of `requests` the task holds.
    held: Vec<bool>,
    /// Model: holds everything (is never reblocked again).
    pinned: bool,
    /// The account values the task saw when it started (see `Driver::execute`).
    observed: Vec<u64>,
}

impl Tracked {
    fn is_active(&self) -> bool {
        matches!(self.phase, Phase::Waiting | Phase::Running)
    }

    fn conflicts_with(&self, other: &Self) -> bool {
        self.requests.iter().any(|&(address, usage)| {
            other.requests.iter().any(|&(other_address, other_usage)| {
                address == other_address
                    && (usage == RequestedUsage::Writable
                        || other_usage == RequestedUsage::Writable)
            })
        })
    }
}

/// The machine under test, the model, and the bookkeeping for the checks.
#[derive(Debug)]
pub(crate) struct Driver {
    sm: SchedulingStateMachine<usize>,
    capability: Capability,
    ids: Ids,
    max_running: Option<usize>,
    queues: Vec<UsageQueue<usize>>,
    /// This block's tasks, in arrival order (the payload is the index).
    tasks: Vec<Tracked>,
    /// Indices of running tasks, in start order.
    running: Vec<usize>,
    /// Model of the unblocked queue.
    unblocked_queue: VecDeque<usize>,
    handed_out_by_next: u32,
    step: usize,
    /// Account values, changed by the tasks as they start (see `execute`).
    ledger: [u64; ADDRESSES],
    ledger_at_block_start: [u64; ADDRESSES],
    trace: Vec<TraceEntry>,
}

impl Driver {
    /// Creates the machine: call on a thread that has no state machine yet.
    pub(crate) fn new(capability: Capability, ids: Ids, max_running: Option<usize>) -> Self {
        // SAFETY: the machine, its usage queues and its tasks are created and used on this
        // thread only (the property tests run each case on a fresh thread).
        let sm = unsafe {
            SchedulingStateMachine::exclusively_initialize_current_thread_for_scheduling(
                capability,
                max_running,
            )
        };
        Self {
            sm,
            capability,
            ids,
            max_running,
            queues: (0..ADDRESSES)
                .map(|_| UsageQueue::new(capability))
                .collect(),
            tasks: Vec::new(),
            running: Vec::new(),
            unblocked_queue: VecDeque::new(),
            handed_out_by_next: 0,
            step: 0,
            ledger: [0; ADDRESSES],
            ledger_at_block_start: [0; ADDRESSES],
            trace: Vec::new(),
        }
    }

    /// Runs `case` on a fresh machine; returns the trace.
    pub(crate) fn run(capability: Capability, ids: Ids, case: &Case) -> Vec<TraceEntry> {
        let mut driver = Self::new(capability, ids, case.max_running);
        for (ops, finish) in &case.blocks {
            for op in ops {
                driver.apply(op);
            }
            driver.finish(*finish);
        }
        driver.trace
    }

    fn apply(&mut self, op: &Op) {
        match op {
            Op::Schedule(spec) => {
                if self.tasks.len() < MAX_TASKS_PER_BLOCK {
                    self.schedule(spec);
                }
            }
            Op::TakeNext => self.take_next(),
            Op::Deschedule(index) => {
                if !self.running.is_empty() {
                    let index = *index % self.running.len();
                    self.deschedule(index);
                }
            }
        }
    }

    fn slot_free(&self) -> bool {
        self.max_running.is_none_or(|max| self.running.len() < max)
    }

    fn schedule(&mut self, spec: &TaskSpec) {
        let index = self.tasks.len();
        let id = match self.ids {
            Ids::Ascending => index as OrderedTaskId,
            Ids::Random => (OrderedTaskId::from(spec.priority) << 32) | index as OrderedTaskId,
        };
        let queues = &self.queues;
        let task = SchedulingStateMachine::create_task(
            index,
            id,
            spec.requests.iter().copied(),
            &mut |address: u8| queues[usize::from(address)].clone(),
        );
        self.tasks.push(Tracked {
            task: Arc::clone(&task),
            id,
            requests: spec.requests.clone(),
            arrived_at: self.step,
            pinned_at: None,
            phase: Phase::Waiting,
            held: vec![false; spec.requests.len()],
            pinned: false,
            observed: Vec::new(),
        });
        let slot_free = self.slot_free();
        let returned = self.sm.schedule_or_buffer_task(task, spec.force_buffering);

        let before: Vec<Vec<bool>> = self.tasks.iter().map(|t| t.held.clone()).collect();
        let newly_pinned = self.recompute_model();
        assert!(
            newly_pinned.iter().all(|&pinned| pinned == index),
            "model: a schedule only pins the newcomer"
        );
        if self.capability == Capability::FifoQueueing {
            for (task, before) in self.tasks[..index].iter().zip(&before) {
                assert_eq!(&task.held, before, "model: FIFO arrivals take nothing away");
            }
        }
        let runs_now = self.tasks[index].pinned && !spec.force_buffering && slot_free;
        match returned {
            Some(returned) => {
                assert!(
                    runs_now,
                    "step {}: task {id} returned, not runnable",
                    self.step
                );
                assert_eq!(*returned.payload(), index);
                self.start(index);
            }
            None => {
                assert!(!runs_now, "step {}: task {id} not returned", self.step);
                if self.tasks[index].pinned {
                    self.unblocked_queue.push_back(index);
                }
            }
        }
        self.end_step(runs_now.then_some(id));
    }

    fn take_next(&mut self) {
        let expected = if self.slot_free() {
            self.unblocked_queue.front().copied()
        } else {
            None
        };
        let returned = self.sm.schedule_next_unblocked_task();
        let returned = returned.map(|task| *task.payload());
        assert_eq!(
            returned.map(|index| self.tasks[index].id),
            expected.map(|index| self.tasks[index].id),
            "step {}: schedule_next_unblocked_task",
            self.step
        );
        if let Some(index) = returned {
            self.unblocked_queue.pop_front();
            self.handed_out_by_next += 1;
            self.start(index);
        }
        self.end_step(returned.map(|index| self.tasks[index].id));
    }

    fn deschedule(&mut self, running_index: usize) {
        let index = self.running.remove(running_index);
        let task = Arc::clone(&self.tasks[index].task);
        self.sm.deschedule_task(&task);
        self.tasks[index].phase = Phase::Done;

        let before: Vec<Vec<bool>> = self.tasks.iter().map(|t| t.held.clone()).collect();
        let newly_pinned = self.recompute_model();
        // The machine walks the descheduled task's addresses in request order; on each
        // freed one it grants the first waiting usage (and the readers right behind a
        // reader). A task joins the unblocked queue at its last grant.
        let position_in_walk = |address: u8| {
            self.tasks[index]
                .requests
                .iter()
                .position(|&(a, _)| a == address)
        };
        let mut order: Vec<((usize, u128), usize)> = newly_pinned
            .iter()
            .map(|&pinned| {
                let tracked = &self.tasks[pinned];
                let last_grant = tracked
                    .requests
                    .iter()
                    .zip(tracked.held.iter().zip(&before[pinned]))
                    .filter(|(_, (now, then))| **now && !**then)
                    .map(|(&(address, _), _)| {
                        position_in_walk(address).unwrap_or_else(|| {
                            panic!("model: only the descheduled task's addresses are granted")
                        })
                    })
                    .max()
                    .expect("model: a newly pinned task was granted something");
                ((last_grant, self.order_key(pinned)), pinned)
            })
            .collect();
        order.sort_unstable();
        self.unblocked_queue
            .extend(order.into_iter().map(|(_, pinned)| pinned));
        for (task, before) in self.tasks.iter().zip(&before) {
            if task.is_active() {
                assert!(
                    task.held
                        .iter()
                        .zip(before)
                        .all(|(now, then)| *now || !*then),
                    "model: a deschedule takes nothing away"
                );
            }
        }
        self.end_step(None);
    }

    /// A task is handed out: the order rule, then its effect on the ledger.
    ///
    /// The order rule, for two conflicting tasks `S` and `T` (a shared address that one of
    /// them writes), where `T` starts running while `S` has not started yet:
    /// * FIFO: `S` arrived after `T`. (Conflicting tasks run in arrival order, so the
    ///   outcome is that of running the tasks one by one in arrival order.)
    /// * Priority: `S` arrived after `T`, or has a larger id, or arrived when `T` already
    ///   held all its addresses (was pinned: it then could not be reblocked). That is,
    ///   among tasks that could still be reordered when both were present, the smaller id
    ///   runs first: the machine behaves as if tasks had arrived in id order, except that a
    ///   task holding everything keeps it.
    fn start(&mut self, index: usize) {
        let step = self.step;
        let task = &self.tasks[index];
        assert_eq!(task.phase, Phase::Waiting, "a task runs exactly once");
        let pinned_at = task.pinned_at.unwrap_or(step);
        for (other_index, other) in self.tasks.iter().enumerate() {
            if other_index == index || other.phase != Phase::Waiting || !other.conflicts_with(task)
            {
                continue;
            }
            let overtaken = match self.capability {
                Capability::FifoQueueing => other.arrived_at < task.arrived_at,
                Capability::PriorityQueueing => other.id < task.id && other.arrived_at <= pinned_at,
            };
            assert!(
                !overtaken,
                "step {step}: task {} starts before the conflicting task {} ({:?} mode)",
                task.id, other.id, self.capability
            );
        }
        let task = &mut self.tasks[index];
        task.phase = Phase::Running;
        task.pinned_at = Some(pinned_at);
        self.running.push(index);
        self.execute(index);
    }

    /// The task's effect: it observes the value of each of its addresses, and sets each
    /// address it writes to a hash of the old value and its id. Conflicting tasks never run
    /// at the same time, so applying the effect when the task starts is as good as anywhere
    /// in its run.
    fn execute(&mut self, index: usize) {
        let task = &mut self.tasks[index];
        execute(
            &mut self.ledger,
            task.id,
            &task.requests,
            &mut task.observed,
        );
    }

    fn order_key(&self, index: usize) -> u128 {
        match self.capability {
            Capability::FifoQueueing => index as u128,
            Capability::PriorityQueueing => self.tasks[index].id,
        }
    }

    /// Recomputes which active task holds which address (see the module doc) and pins the
    /// tasks that hold everything. Returns the newly pinned tasks.
    fn recompute_model(&mut self) -> Vec<usize> {
        let mut newly_pinned = Vec::new();
        loop {
            let mut held: Vec<Vec<bool>> = self
                .tasks
                .iter()
                .map(|t| vec![false; t.held.len()])
                .collect();
            for address in 0..ADDRESSES as u8 {
                // (order key, task index, position in its requests, usage)
                let mut requesters: Vec<(u128, usize, usize, RequestedUsage)> = self
                    .tasks
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| t.is_active())
                    .flat_map(|(index, t)| {
                        t.requests
                            .iter()
                            .enumerate()
                            .filter(move |(_, (a, _))| *a == address)
                            .map(move |(position, &(_, usage))| (index, position, usage))
                    })
                    .map(|(index, position, usage)| (self.order_key(index), index, position, usage))
                    .collect();
                requesters.sort_unstable_by_key(|&(key, ..)| key);

                let pinned_exempt = self.capability == Capability::PriorityQueueing;
                let (mut pinned_any, mut pinned_all_read) = (false, true);
                if pinned_exempt {
                    for &(_, index, position, usage) in &requesters {
                        if self.tasks[index].pinned {
                            assert!(
                                !pinned_any
                                    || (pinned_all_read && usage == RequestedUsage::Readonly),
                                "model: pinned tasks conflict on address {address}"
                            );
                            pinned_any = true;
                            pinned_all_read &= usage == RequestedUsage::Readonly;
                            held[index][position] = true;
                        }
                    }
                }
                let (mut earlier_any, mut earlier_all_read) = (false, true);
                for &(_, index, position, usage) in &requesters {
                    if pinned_exempt && self.tasks[index].pinned {
                        continue;
                    }
                    let reads = usage == RequestedUsage::Readonly;
                    let pinned_ok = !pinned_any || (pinned_all_read && reads);
                    let earlier_ok = !earlier_any || (earlier_all_read && reads);
                    held[index][position] = pinned_ok && earlier_ok;
                    earlier_any = true;
                    earlier_all_read &= reads;
                }
            }
            let mut changed = false;
            for (index, (task, held)) in self.tasks.iter_mut().zip(held).enumerate() {
                task.held = held;
                if task.is_active() && !task.pinned && task.held.iter().all(|&h| h) {
                    task.pinned = true;
                    newly_pinned.push(index);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        newly_pinned
    }

    /// All the checks of one step (see the module doc), then the step counter.
    fn end_step(&mut self, handed_out: Option<OrderedTaskId>) {
        let step = self.step;
        let running_count = self.running.len();

        // No two running tasks conflict.
        for (i, &a) in self.running.iter().enumerate() {
            for &b in &self.running[i + 1..] {
                assert!(
                    !self.tasks[a].conflicts_with(&self.tasks[b]),
                    "step {step}: running tasks {} and {} conflict",
                    self.tasks[a].id,
                    self.tasks[b].id
                );
            }
        }

        // Queues: the model's holders and waiting line.
        let states: Vec<UsageQueueState> = self
            .queues
            .iter()
            .map(|queue| self.sm.usage_queue_state(queue))
            .collect();
        for (address, state) in states.iter().enumerate() {
            let address = address as u8;
            let mut holders = Vec::new();
            let mut waiting = Vec::new();
            for (index, task) in self.tasks.iter().enumerate() {
                if !task.is_active() {
                    continue;
                }
                for (position, &(a, usage)) in task.requests.iter().enumerate() {
                    if a == address {
                        if task.held[position] {
                            holders.push((task.id, usage));
                        } else {
                            waiting.push((self.order_key(index), task.id, usage));
                        }
                    }
                }
            }
            holders.sort_unstable_by_key(|&(id, _)| id);
            waiting.sort_unstable_by_key(|&(key, ..)| key);
            let current_usage = if holders.is_empty() {
                None
            } else if holders
                .iter()
                .any(|&(_, usage)| usage == RequestedUsage::Writable)
            {
                Some(RequestedUsage::Writable)
            } else {
                Some(RequestedUsage::Readonly)
            };
            let expected = UsageQueueState {
                current_usage,
                current_holders: holders.len() as u32,
                current_task_ids: match self.capability {
                    Capability::FifoQueueing => Vec::new(),
                    Capability::PriorityQueueing => holders.iter().map(|&(id, _)| id).collect(),
                },
                blocked: waiting.iter().map(|&(_, id, usage)| (id, usage)).collect(),
            };
            assert_eq!(
                *state, expected,
                "step {step}: state of address {address} (left: machine, right: model)"
            );
        }

        // Tasks: blocked counts against the model and against the queues' waiting lines.
        let mut blocked_tasks = 0;
        let mut unblocked_not_running = 0;
        for index in 0..self.tasks.len() {
            let task = &self.tasks[index];
            if !task.is_active() {
                continue;
            }
            let count = self.sm.blocked_usage_count(&task.task);
            let not_held = task.held.iter().filter(|&&h| !h).count() as u32;
            assert_eq!(
                count, not_held,
                "step {step}: blocked count of task {} (left: machine, right: model)",
                task.id
            );
            let waiting_in = states
                .iter()
                .filter(|state| state.blocked.iter().any(|&(id, _)| id == task.id))
                .count() as u32;
            assert_eq!(
                count, waiting_in,
                "step {step}: blocked count of task {} vs. queues it waits in",
                task.id
            );
            match (count, task.pinned_at, task.phase) {
                (0, _, Phase::Running) => {}
                (0, _, _) => unblocked_not_running += 1,
                (_, None, Phase::Waiting) => blocked_tasks += 1,
                _ => panic!(
                    "step {step}: task {} has count {count} after holding everything at step \
                     {:?} ({:?})",
                    task.id, task.pinned_at, task.phase
                ),
            }
            if count == 0 && task.pinned_at.is_none() {
                self.tasks[index].pinned_at = Some(step);
            }
        }

        // Counters and predicates.
        let sm = &self.sm;
        let done = self.tasks.iter().filter(|t| t.phase == Phase::Done).count() as u32;
        let total = self.tasks.len() as u32;
        let active = total - done;
        let queued = self.unblocked_queue.len();
        assert_eq!(queued, unblocked_not_running);
        let counters = [
            sm.total_task_count(),
            sm.active_task_count(),
            sm.running_task_count(),
            sm.handled_task_count(),
            sm.unblocked_task_count(),
            sm.unblocked_task_queue_count() as u32,
        ];
        let expected = [
            total,
            active,
            running_count as u32,
            done,
            self.handed_out_by_next,
            queued as u32,
        ];
        assert_eq!(
            counters, expected,
            "step {step}: [total, active, running, handled, unblocked, queued]"
        );
        assert_eq!(active as usize, running_count + queued + blocked_tasks);
        assert!(self.max_running.is_none_or(|max| running_count <= max));
        assert_eq!(sm.has_no_active_task(), active == 0);
        assert_eq!(sm.has_no_running_task(), running_count == 0);
        assert_eq!(sm.has_unblocked_task(), queued > 0);
        assert_eq!(sm.has_runnable_task(), queued > 0 && self.slot_free());
        if active == 0 {
            let unused = UsageQueueState {
                current_usage: None,
                current_holders: 0,
                current_task_ids: Vec::new(),
                blocked: Vec::new(),
            };
            assert!(states.iter().all(|state| *state == unused));
        }

        let anonymous = states
            .into_iter()
            .map(|state| UsageQueueState {
                current_task_ids: Vec::new(),
                ..state
            })
            .collect();
        self.trace.push((handed_out, counters, anonymous));
        self.step += 1;
    }

    /// Ends the block (see [`Finish`]), checks the end-of-block invariants and reinitializes
    /// for the next block.
    fn finish(&mut self, finish: Finish) {
        match finish {
            Finish::Drain => {
                while !self.sm.has_no_active_task() {
                    if self.sm.has_runnable_task() {
                        self.take_next();
                    } else {
                        assert!(
                            !self.running.is_empty(),
                            "deadlock: active tasks, none runnable, none running"
                        );
                        self.deschedule(self.running.len() - 1);
                    }
                }
                self.sm.reinitialize();
            }
            Finish::Clear => {
                while !self.running.is_empty() {
                    self.deschedule(0);
                }
                let left = self.tasks.iter().filter(|t| t.is_active()).count();
                assert_eq!(self.sm.clear_and_reinitialize(), left);
                for task in &mut self.tasks {
                    if task.is_active() {
                        task.phase = Phase::Dropped;
                    }
                }
            }
        }
        assert!(self.sm.has_no_active_task());
        assert_eq!(
            [
                self.sm.total_task_count(),
                self.sm.handled_task_count(),
                self.sm.unblocked_task_count()
            ],
            [0, 0, 0],
            "counters after reinitialization"
        );
        for queue in &self.queues {
            let state = self.sm.usage_queue_state(queue);
            assert_eq!(state.current_usage, None);
            assert!(state.blocked.is_empty());
        }
        if finish == Finish::Drain {
            assert!(self.tasks.iter().all(|t| t.phase == Phase::Done));
        }
        if self.capability == Capability::FifoQueueing {
            self.check_sequential_equivalence();
        }

        // The machine keeps no task; once the tasks are gone, only the cache holds a queue.
        for task in self.tasks.drain(..) {
            assert_eq!(
                Arc::strong_count(&task.task),
                1,
                "the machine keeps no task"
            );
        }
        for queue in &self.queues {
            assert_eq!(queue.handle_count(), 1, "only the cache holds a queue");
        }
        self.running.clear();
        self.unblocked_queue.clear();
        self.handed_out_by_next = 0;
        self.ledger_at_block_start = self.ledger;
    }

    /// FIFO mode: running the tasks that ran, one by one in arrival order, gives every task
    /// the same observations and the ledger the same final values. (The tasks dropped by
    /// `clear_and_reinitialize` are left out: in FIFO mode no task that ran conflicts with a
    /// dropped task that arrived before it.)
    fn check_sequential_equivalence(&self) {
        let mut ledger = self.ledger_at_block_start;
        for task in &self.tasks {
            if task.phase != Phase::Done {
                continue;
            }
            let mut observed = Vec::new();
            execute(&mut ledger, task.id, &task.requests, &mut observed);
            assert_eq!(
                task.observed, observed,
                "task {} saw other values than in sequential execution",
                task.id
            );
        }
        assert_eq!(
            self.ledger, ledger,
            "final values differ from sequential execution"
        );
    }
}

/// A task's effect on `ledger`: records the value of each requested address in `observed`,
/// then replaces each written one with a hash of its old value and `id`.
fn execute(
    ledger: &mut [u64; ADDRESSES],
    id: OrderedTaskId,
    requests: &[(u8, RequestedUsage)],
    observed: &mut Vec<u64>,
) {
    observed.extend(
        requests
            .iter()
            .map(|&(address, _)| ledger[usize::from(address)]),
    );
    for &(address, usage) in requests {
        if usage == RequestedUsage::Writable {
            let value = &mut ledger[usize::from(address)];
            *value = (*value ^ id as u64)
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                .rotate_left(29)
                .wrapping_add(1);
        }
    }
}
