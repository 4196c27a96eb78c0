//! `SchedulingStateMachine`: takes tasks in, hands runnable ones out, and releases their
//! addresses when they are done.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::capability::Capability;
use crate::short_counter::ShortCounter;
use crate::task::{LockContext, OrderedTaskId, RequestedUsage, Task, TaskInner, TaskStateToken};
use crate::usage_queue::{UsageQueue, UsageQueueState, UsageQueueToken};

/// The scheduler: owned by one thread, it decides when each task may run.
///
/// Protocol: [`create_task`](Self::create_task) (any thread) →
/// [`schedule_task`](Self::schedule_task) (returns the task if it can run now, else keeps
/// it) → the caller runs returned tasks → [`deschedule_task`](Self::deschedule_task) when one
/// is done → [`schedule_next_unblocked_task`](Self::schedule_next_unblocked_task) until it
/// returns `None` → ...
///
/// Task states: *blocked* (waits for at least one address), *unblocked* (holds every
/// address, waits in the unblocked queue for a running slot or because it was buffered),
/// *running* (handed to the caller, not descheduled yet). *Active* = any of the three.
#[derive(Debug)]
pub struct SchedulingStateMachine<P: 'static> {
    capability: Capability,
    /// Tasks that hold all their addresses but were not handed out yet, in unblocking order.
    unblocked_task_queue: VecDeque<Task<P>>,
    active_task_count: ShortCounter,
    running_task_count: ShortCounter,
    max_running_task_count: u32,
    handled_task_count: ShortCounter,
    unblocked_task_count: ShortCounter,
    total_task_count: ShortCounter,
    task_state_token: TaskStateToken<P>,
    usage_queue_token: UsageQueueToken<P>,
}

impl<P: 'static> SchedulingStateMachine<P> {
    /// Creates the state machine of the current thread.
    ///
    /// `max_running_task_count` bounds the tasks handed out and not yet descheduled (say,
    /// the number of workers); tasks beyond it wait in the unblocked queue. `None`: no
    /// bound. `Some(0)` is taken as 1: a machine that may run nothing would never hand out a
    /// task, and the caller would wait forever.
    ///
    /// # Safety
    /// Mints this thread's tokens for usage queues and task counts of payload type `P` (see
    /// [`TokenCell`](crate::TokenCell)): the caller guarantees that the usage queues and
    /// tasks given to this state machine are used by no other state machine (on any thread)
    /// while this one may use them. A usage-queue cache shared by two state machines at once
    /// breaks this.
    ///
    /// # Panics
    /// If this thread already created a state machine for the same payload type `P` (reuse
    /// it with [`reinitialize`](Self::reinitialize)). Machines for different payload types
    /// may share a thread: their tokens are different types.
    #[must_use]
    pub unsafe fn exclusively_initialize_current_thread_for_scheduling(
        capability: Capability,
        max_running_task_count: Option<usize>,
    ) -> Self {
        let max_running_task_count = max_running_task_count.map_or(u32::MAX, |max| {
            u32::try_from(max).unwrap_or(u32::MAX).max(1)
        });
        Self {
            capability,
            unblocked_task_queue: VecDeque::with_capacity(1024),
            active_task_count: ShortCounter::zero(),
            running_task_count: ShortCounter::zero(),
            max_running_task_count,
            handled_task_count: ShortCounter::zero(),
            unblocked_task_count: ShortCounter::zero(),
            total_task_count: ShortCounter::zero(),
            // SAFETY: forwarded to this function's caller (see `# Safety` above).
            task_state_token: unsafe { TaskStateToken::<P>::assume_exclusive_mutating_thread() },
            // SAFETY: as above.
            usage_queue_token: unsafe { UsageQueueToken::assume_exclusive_mutating_thread() },
        }
    }

    /// Creates a task: `payload` with its id and its lock requests, each address resolved to
    /// its usage queue by `usage_queue_loader`.
    ///
    /// Callable on any thread (it only reads `Arc`s); this is how address lookups stay off
    /// the scheduler thread.
    ///
    /// The lock requests must already be validated: **no address twice** (a transaction
    /// that lists an account twice is rejected before scheduling, `AccountLoadedTwice`).
    /// A duplicate would corrupt the machine (in FIFO mode the task would wait for itself
    /// forever), so it is checked here, in every build: this runs off the scheduler thread,
    /// and costs a few comparisons per address. The loader must return the same queue for
    /// the same address, made with the state machine's [`Capability`].
    ///
    /// # Panics
    /// If two lock requests resolve to the same usage queue.
    pub fn create_task<K>(
        payload: P,
        task_id: OrderedTaskId,
        lock_requests: impl IntoIterator<Item = (K, RequestedUsage)>,
        usage_queue_loader: &mut impl FnMut(K) -> UsageQueue<P>,
    ) -> Task<P> {
        let lock_contexts: Box<[LockContext<P>]> = lock_requests
            .into_iter()
            .map(|(address, requested_usage)| LockContext {
                usage_queue: usage_queue_loader(address),
                requested_usage,
            })
            .collect();
        assert_no_duplicate_queues(&lock_contexts);
        Arc::new(TaskInner::new(payload, task_id, lock_contexts))
    }

    /// The machine's capability.
    pub fn capability(&self) -> Capability {
        self.capability
    }

    /// Takes `task` in and returns it if it may run now: it got every address and a
    /// running slot is free. Otherwise keeps it (blocked, or unblocked and waiting for a
    /// slot) until [`schedule_next_unblocked_task`](Self::schedule_next_unblocked_task)
    /// returns it.
    #[must_use]
    pub fn schedule_task(&mut self, task: Task<P>) -> Option<Task<P>> {
        self.schedule_or_buffer_task(task, false)
    }

    /// Takes `task` in and never returns it directly: even if it could run now it goes to
    /// the unblocked queue. (Lets a caller keep the machine's order while it is not ready to
    /// run anything.)
    pub fn buffer_task(&mut self, task: Task<P>) {
        let returned = self.schedule_or_buffer_task(task, true);
        debug_assert!(returned.is_none());
    }

    /// [`schedule_task`](Self::schedule_task) if `force_buffering` is false,
    /// [`buffer_task`](Self::buffer_task) if it is true.
    #[must_use]
    pub fn schedule_or_buffer_task(
        &mut self,
        task: Task<P>,
        force_buffering: bool,
    ) -> Option<Task<P>> {
        task.activate(&mut self.task_state_token);
        self.total_task_count.increment_self();
        self.active_task_count.increment_self();
        let task = self.try_lock_usage_queues(task)?;
        if force_buffering || !self.has_free_running_slot() {
            self.unblocked_task_queue.push_back(task);
            None
        } else {
            self.running_task_count.increment_self();
            task.mark_running(&mut self.task_state_token);
            Some(task)
        }
    }

    /// The next unblocked task (in unblocking order), if a running slot is free.
    #[must_use]
    pub fn schedule_next_unblocked_task(&mut self) -> Option<Task<P>> {
        if !self.has_free_running_slot() {
            return None;
        }
        let task = self.unblocked_task_queue.pop_front()?;
        self.running_task_count.increment_self();
        self.unblocked_task_count.increment_self();
        task.mark_running(&mut self.task_state_token);
        Some(task)
    }

    /// Marks a running `task` done and releases its addresses, which may unblock tasks
    /// waiting for them (collect those with
    /// [`schedule_next_unblocked_task`](Self::schedule_next_unblocked_task)).
    ///
    /// Call exactly once per task this machine handed out, with that task.
    ///
    /// # Panics
    /// If the task is not running: descheduled twice, never handed out, blocked, or waiting
    /// in the unblocked queue. The machine is unchanged then.
    pub fn deschedule_task(&mut self, task: &Task<P>) {
        task.mark_descheduled(&mut self.task_state_token);
        self.running_task_count.decrement_self();
        self.active_task_count.decrement_self();
        self.handled_task_count.increment_self();
        self.unlock_usage_queues(task);
    }

    /// Locks each of `task`'s addresses that it can get now and queues it on the others.
    /// Returns the task if it got all of them.
    #[inline(always)]
    fn try_lock_usage_queues(&mut self, task: Task<P>) -> Option<Task<P>> {
        let mut blocked_usage_count = ShortCounter::zero();
        for context in task.lock_contexts() {
            context
                .usage_queue
                .0
                .with_borrow_mut(&mut self.usage_queue_token, |queue| {
                    debug_assert_eq!(queue.capability(), self.capability);
                    let usage = context.requested_usage;
                    let locked = queue.prepare_lock(&mut self.task_state_token, &task, usage)
                        && queue.try_lock(&task, usage);
                    if !locked {
                        blocked_usage_count.increment_self();
                        queue.push_blocked(usage, Arc::clone(&task));
                    }
                });
        }
        if blocked_usage_count.is_zero() {
            Some(task)
        } else {
            task.set_blocked_usage_count(&mut self.task_state_token, blocked_usage_count);
            None
        }
    }

    #[inline(always)]
    fn unlock_usage_queues(&mut self, task: &Task<P>) {
        for context in task.lock_contexts() {
            context
                .usage_queue
                .0
                .with_borrow_mut(&mut self.usage_queue_token, |queue| {
                    let mut next = queue.unlock(task, context.requested_usage);
                    while let Some((usage, waiting_task)) = next {
                        let locked = queue.try_lock(&waiting_task, usage);
                        assert!(
                            locked,
                            "invariant: the first waiting usage can lock a freed address"
                        );
                        if let Some(unblocked) =
                            waiting_task.try_unblock(&mut self.task_state_token)
                        {
                            self.unblocked_task_queue.push_back(unblocked);
                        }
                        // Readers waiting right behind a reader are let in together.
                        next = match usage {
                            RequestedUsage::Readonly => queue.pop_lockable_readonly(),
                            RequestedUsage::Writable => None,
                        };
                    }
                });
        }
    }

    fn has_free_running_slot(&self) -> bool {
        self.running_task_count.current() < self.max_running_task_count
    }

    /// Whether no task is running.
    pub fn has_no_running_task(&self) -> bool {
        self.running_task_count.is_zero()
    }

    /// Whether no task is active (blocked, unblocked or running).
    pub fn has_no_active_task(&self) -> bool {
        self.active_task_count.is_zero()
    }

    /// Whether some task holds all its addresses and waits to be handed out.
    pub fn has_unblocked_task(&self) -> bool {
        !self.unblocked_task_queue.is_empty()
    }

    /// Whether [`schedule_next_unblocked_task`](Self::schedule_next_unblocked_task) would
    /// return a task now.
    pub fn has_runnable_task(&self) -> bool {
        self.has_unblocked_task() && self.has_free_running_slot()
    }

    /// How many tasks wait in the unblocked queue.
    pub fn unblocked_task_queue_count(&self) -> usize {
        self.unblocked_task_queue.len()
    }

    /// Tasks taken in since the last (re)initialization.
    pub fn total_task_count(&self) -> u32 {
        self.total_task_count.current()
    }

    /// Tasks taken in and not descheduled yet.
    pub fn active_task_count(&self) -> u32 {
        self.active_task_count.current()
    }

    /// Tasks handed out and not descheduled yet.
    pub fn running_task_count(&self) -> u32 {
        self.running_task_count.current()
    }

    /// Tasks descheduled since the last (re)initialization.
    pub fn handled_task_count(&self) -> u32 {
        self.handled_task_count.current()
    }

    /// Tasks handed out by `schedule_next_unblocked_task` (rather than directly by
    /// `schedule_task`) since the last (re)initialization.
    pub fn unblocked_task_count(&self) -> u32 {
        self.unblocked_task_count.current()
    }

    /// A snapshot of `usage_queue`'s state (for tests and diagnostics; allocates).
    pub fn usage_queue_state(&mut self, usage_queue: &UsageQueue<P>) -> UsageQueueState {
        usage_queue
            .0
            .with_borrow_mut(&mut self.usage_queue_token, |queue| queue.state())
    }

    /// How many addresses `task` still waits for (0 once it holds them all).
    pub fn blocked_usage_count(&mut self, task: &Task<P>) -> u32 {
        task.blocked_usage_count(&mut self.task_state_token)
    }

    /// Resets the counters for the next block, keeping the machine (and its tokens).
    ///
    /// # Panics
    /// If a task is still active: its usage queues would be left locked.
    pub fn reinitialize(&mut self) {
        assert!(
            self.has_no_active_task(),
            "reinitialize with {} active tasks (invariant: every task is descheduled first)",
            self.active_task_count.current()
        );
        assert!(self.unblocked_task_queue.is_empty());
        // Destructured without `..`, so a new field cannot be forgotten here.
        let Self {
            capability: _,
            unblocked_task_queue: _,
            active_task_count: _,
            running_task_count: _,
            max_running_task_count: _,
            handled_task_count,
            unblocked_task_count,
            total_task_count,
            task_state_token: _,
            usage_queue_token: _,
        } = self;
        handled_task_count.reset_to_zero();
        unblocked_task_count.reset_to_zero();
        total_task_count.reset_to_zero();
    }

    /// Drops every task that has not run yet (as if each ran and was descheduled at once,
    /// which unblocks the tasks behind it), then [`reinitialize`](Self::reinitialize)s.
    /// Returns how many tasks were dropped.
    ///
    /// # Panics
    /// If a task is running: it still holds its addresses, so tasks behind it stay active.
    pub fn clear_and_reinitialize(&mut self) -> usize {
        assert!(
            self.has_no_running_task(),
            "clear_and_reinitialize with {} running tasks (invariant: deschedule them first)",
            self.running_task_count.current()
        );
        let mut dropped = 0;
        while let Some(task) = self.unblocked_task_queue.pop_front() {
            self.running_task_count.increment_self();
            task.mark_running(&mut self.task_state_token);
            self.deschedule_task(&task);
            dropped += 1;
        }
        self.reinitialize();
        dropped
    }
}

/// Panics if two lock contexts share a usage queue: pairwise for short lists (no
/// allocation), by sorting the queues' addresses for long ones.
fn assert_no_duplicate_queues<P>(lock_contexts: &[LockContext<P>]) {
    const PAIRWISE_UP_TO: usize = 16;
    let queue = |context: &LockContext<P>| Arc::as_ptr(&context.usage_queue.0).cast::<()>();
    let duplicate = if lock_contexts.len() <= PAIRWISE_UP_TO {
        lock_contexts.iter().enumerate().any(|(i, context)| {
            lock_contexts[i + 1..]
                .iter()
                .any(|other| queue(other) == queue(context))
        })
    } else {
        let mut queues: Vec<*const ()> = lock_contexts.iter().map(queue).collect();
        queues.sort_unstable();
        queues.windows(2).any(|pair| pair[0] == pair[1])
    };
    assert!(
        !duplicate,
        "create_task: an address is requested twice (invariant: lock requests are validated, \
         no AccountLoadedTwice)"
    );
}
