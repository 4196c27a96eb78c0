//! `Task`: a payload (a transaction) with its order, its per-address lock requests and the
//! number of addresses it still waits for.

use std::marker::PhantomData;
use std::sync::Arc;

use crate::short_counter::ShortCounter;
use crate::token_cell::{Token, TokenCell};
use crate::usage_queue::UsageQueue;

/// A task's place in the order: smaller ids go first. In FIFO mode (replay) it is the index
/// of the transaction in the block; in priority mode (production) it encodes the priority,
/// highest priority as the smallest id (the caller decides how: e.g. `(u64::MAX - fee per
/// unit) << 64 | arrival sequence`). Two live tasks never share an id.
pub type OrderedTaskId = u128;

/// How a task wants to use an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestedUsage {
    /// Read the account: any number of readers may hold it at once.
    Readonly,
    /// Write the account: the writer holds it alone.
    Writable,
}

impl RequestedUsage {
    /// `Writable` if `is_writable`, else `Readonly`: the shape of a lock request list such as
    /// `(key, is_writable)`.
    pub const fn from_writable(is_writable: bool) -> Self {
        if is_writable {
            Self::Writable
        } else {
            Self::Readonly
        }
    }
}

/// One lock request of a task: the address's queue and how the task uses it.
#[derive(Debug)]
pub struct LockContext<P> {
    pub(crate) usage_queue: UsageQueue<P>,
    pub(crate) requested_usage: RequestedUsage,
}

const _: () = assert!(size_of::<LockContext<()>>() == 16);

impl<P> LockContext<P> {
    /// How the task uses this address.
    pub fn requested_usage(&self) -> RequestedUsage {
        self.requested_usage
    }

    /// The address's queue.
    pub fn usage_queue(&self) -> &UsageQueue<P> {
        &self.usage_queue
    }
}

/// A schedulable unit: an `Arc`, so the scheduler, the usage queues it waits in and the
/// worker running it share one allocation. Created by
/// [`SchedulingStateMachine::create_task`](crate::SchedulingStateMachine::create_task).
pub type Task<P> = Arc<TaskInner<P>>;

const _: () = assert!(size_of::<Task<()>>() == 8);

/// The fields of a [`Task`].
#[derive(Debug)]
pub struct TaskInner<P> {
    payload: P,
    task_id: OrderedTaskId,
    lock_contexts: Box<[LockContext<P>]>,
    /// Where the task is in its life and how many addresses it still waits for. Only the
    /// scheduler thread touches it, through its [`TaskStateToken`].
    state: TokenCell<TaskState<P>>,
}

/// The mutable part of a task, owned by the scheduler thread.
#[derive(Debug)]
pub(crate) struct TaskState<P> {
    /// How many of its addresses the task still waits for; 0 once it holds them all.
    blocked_usage_count: ShortCounter,
    phase: Phase,
    /// Ties the token type to the payload type, so that state machines for different
    /// payloads on one thread have different tokens.
    _payload: PhantomData<fn() -> P>,
}

/// A task's life: each step happens once, in this order. Tracked so that misuse (scheduling
/// a task twice, descheduling one that is not running) panics instead of corrupting the
/// usage queues, which counts alone could not always detect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Created,
    /// Taken in by `schedule_or_buffer_task`: blocked, or unblocked and not handed out.
    Active,
    /// Handed out to the caller.
    Running,
    Descheduled,
}

/// The scheduler thread's proof of access to every task's state.
pub(crate) type TaskStateToken<P> = Token<TaskState<P>>;

impl<P> TaskInner<P> {
    pub(crate) fn new(
        payload: P,
        task_id: OrderedTaskId,
        lock_contexts: Box<[LockContext<P>]>,
    ) -> Self {
        Self {
            payload,
            task_id,
            lock_contexts,
            state: TokenCell::new(TaskState {
                blocked_usage_count: ShortCounter::zero(),
                phase: Phase::Created,
                _payload: PhantomData,
            }),
        }
    }

    /// The payload (the transaction).
    pub fn payload(&self) -> &P {
        &self.payload
    }

    /// The task's place in the order.
    pub fn task_id(&self) -> OrderedTaskId {
        self.task_id
    }

    /// Whether `self` goes before `other` (a smaller id).
    ///
    /// # Panics
    /// If both have the same id: two live tasks never do.
    pub fn is_higher_priority(&self, other: &Self) -> bool {
        assert_ne!(
            self.task_id, other.task_id,
            "two tasks compared share a task id (invariant: ids are unique)"
        );
        self.task_id < other.task_id
    }

    /// The task's lock requests, in the order given to `create_task`.
    pub fn lock_contexts(&self) -> &[LockContext<P>] {
        &self.lock_contexts
    }

    /// The payload, if this is the last reference to the task (after it was descheduled).
    pub fn try_into_payload(task: Task<P>) -> Result<P, Task<P>> {
        Arc::try_unwrap(task).map(|inner| inner.payload)
    }

    /// The task is taken in by the state machine.
    ///
    /// # Panics
    /// If it was taken in before.
    #[inline(always)]
    pub(crate) fn activate(&self, token: &mut TaskStateToken<P>) {
        self.state.with_borrow_mut(token, |state| {
            assert_eq!(
                state.phase,
                Phase::Created,
                "schedule of task {} that was scheduled before (invariant: a task is \
                 scheduled once)",
                self.task_id
            );
            state.phase = Phase::Active;
        });
    }

    /// The task is handed out to run.
    #[inline(always)]
    pub(crate) fn mark_running(&self, token: &mut TaskStateToken<P>) {
        self.state.with_borrow_mut(token, |state| {
            debug_assert_eq!(state.phase, Phase::Active);
            debug_assert!(state.blocked_usage_count.is_zero());
            state.phase = Phase::Running;
        });
    }

    /// The task is done.
    ///
    /// # Panics
    /// If it is not running (descheduled twice, never handed out, or from another machine).
    #[inline(always)]
    pub(crate) fn mark_descheduled(&self, token: &mut TaskStateToken<P>) {
        self.state.with_borrow_mut(token, |state| {
            assert_eq!(
                state.phase,
                Phase::Running,
                "deschedule of task {} that is not running (invariant: deschedule_task is \
                 called once per task handed out)",
                self.task_id
            );
            state.phase = Phase::Descheduled;
        });
    }

    pub(crate) fn set_blocked_usage_count(
        &self,
        token: &mut TaskStateToken<P>,
        count: ShortCounter,
    ) {
        self.state
            .with_borrow_mut(token, |state| state.blocked_usage_count = count);
    }

    /// One of the task's addresses was granted: returns the task if that was the last one
    /// it waited for (it is now runnable).
    #[must_use]
    #[inline(always)]
    pub(crate) fn try_unblock(self: Task<P>, token: &mut TaskStateToken<P>) -> Option<Task<P>> {
        let unblocked = self.state.with_borrow_mut(token, |state| {
            state.blocked_usage_count.decrement_self().is_zero()
        });
        unblocked.then_some(self)
    }

    /// Takes a granted address back from the task (priority mode), if the task still waits
    /// for some other address; a task that holds everything may be running and keeps it.
    #[must_use]
    pub(crate) fn try_reblock(&self, token: &mut TaskStateToken<P>) -> bool {
        self.state.with_borrow_mut(token, |state| {
            if state.blocked_usage_count.is_zero() {
                false
            } else {
                state.blocked_usage_count.increment_self();
                true
            }
        })
    }

    /// How many addresses the task still waits for.
    pub(crate) fn blocked_usage_count(&self, token: &mut TaskStateToken<P>) -> u32 {
        self.state
            .with_borrow_mut(token, |state| state.blocked_usage_count.current())
    }
}
