//! `UsageQueue`: one address's state: who uses it now, and who waits for it, in order.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use crate::capability::Capability;
use crate::priority_blocked_queue::PriorityBlockedQueue;
use crate::short_counter::ShortCounter;
use crate::task::{OrderedTaskId, RequestedUsage, Task, TaskStateToken};
use crate::token_cell::{Token, TokenCell};

/// The scheduling state of one address, shared by every task that uses the address.
///
/// Created off the scheduler thread (by the loader passed to
/// [`create_task`](crate::SchedulingStateMachine::create_task)) and mutated only by the
/// scheduler thread. The caller must hand out the *same* queue for the same address for as
/// long as any task holding it is active, and create it with the state machine's
/// [`Capability`].
///
/// When the state machine has no active task, every queue it touched is back to its
/// freshly created state (unused, nobody waiting) and is referenced by no task, so a cache
/// of queues can be kept across blocks or pruned freely.
#[derive(Debug)]
pub struct UsageQueue<P>(pub(crate) Arc<TokenCell<UsageQueueInner<P>>>);

const _: () = assert!(size_of::<UsageQueue<()>>() == 8);

impl<P> Clone for UsageQueue<P> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<P> UsageQueue<P> {
    /// An unused queue for a state machine with `capability`. Its waiting line allocates
    /// when the first task waits (on the scheduler thread); see
    /// [`with_blocked_capacity`](Self::with_blocked_capacity) to allocate up front instead.
    pub fn new(capability: Capability) -> Self {
        Self::with_blocked_capacity(capability, 0)
    }

    /// An unused queue whose waiting line has room for `capacity` tasks before it
    /// allocates. A loader running off the scheduler thread can pay for the allocation
    /// there (Agave reserves 128 for every address; at 16 bytes a slot that is 2 KiB per
    /// cached address, so this crate leaves the choice to the caller).
    pub fn with_blocked_capacity(capability: Capability, capacity: usize) -> Self {
        Self(Arc::new(TokenCell::new(UsageQueueInner::new(
            capability, capacity,
        ))))
    }

    /// Whether `self` and `other` are the same queue.
    pub fn ptr_eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// How many handles to this queue exist (the cache's, plus one per lock request of a
    /// live task). A cache may drop a queue whose count is 1: no task refers to it.
    pub fn handle_count(&self) -> usize {
        Arc::strong_count(&self.0)
    }
}

/// The scheduler thread's proof of access to every usage queue.
pub(crate) type UsageQueueToken<P> = Token<UsageQueueInner<P>>;

/// A waiting (or, in a blocked task's lock context, requested) usage.
pub(crate) type UsageFromTask<P> = (RequestedUsage, Task<P>);

/// Who uses an address now, FIFO mode: only counts are needed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FifoUsage {
    Readonly(ShortCounter),
    Writable,
}

/// Who uses an address now, priority mode: the tasks themselves, so that a higher-priority
/// newcomer can take the address back from those that are not running yet.
#[derive(Debug)]
pub(crate) enum PriorityUsage<P> {
    Readonly(BTreeMap<OrderedTaskId, Task<P>>),
    Writable(Task<P>),
}

#[derive(Debug)]
pub(crate) enum UsageQueueInner<P> {
    Fifo {
        current: Option<FifoUsage>,
        blocked: VecDeque<UsageFromTask<P>>,
    },
    Priority {
        current: Option<PriorityUsage<P>>,
        blocked: PriorityBlockedQueue<P>,
    },
}

/// A snapshot of one address's state, for tests and diagnostics (see
/// [`SchedulingStateMachine::usage_queue_state`](crate::SchedulingStateMachine::usage_queue_state)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageQueueState {
    /// How the address is used now, if at all.
    pub current_usage: Option<RequestedUsage>,
    /// How many tasks hold it now (1 for a writer).
    pub current_holders: u32,
    /// The ids of the tasks holding it now (priority mode only; empty in FIFO mode, which
    /// keeps only a count), ascending.
    pub current_task_ids: Vec<OrderedTaskId>,
    /// The waiting tasks, in the order they will be granted the address.
    pub blocked: Vec<(OrderedTaskId, RequestedUsage)>,
}

impl<P> UsageQueueInner<P> {
    fn new(capability: Capability, capacity: usize) -> Self {
        match capability {
            Capability::FifoQueueing => Self::Fifo {
                current: None,
                blocked: VecDeque::with_capacity(capacity),
            },
            Capability::PriorityQueueing => Self::Priority {
                current: None,
                blocked: PriorityBlockedQueue::with_capacity(capacity),
            },
        }
    }

    pub(crate) fn capability(&self) -> Capability {
        match self {
            Self::Fifo { .. } => Capability::FifoQueueing,
            Self::Priority { .. } => Capability::PriorityQueueing,
        }
    }

    /// Whether `new_task` may try to take the address now, rearranging the queue first in
    /// priority mode.
    ///
    /// FIFO: only if nobody waits (a newcomer never overtakes a waiting task; in particular
    /// a reader never overtakes a waiting writer).
    ///
    /// Priority: the queue is rearranged *as if* `new_task` had arrived in id order:
    /// * a lower-priority writer holding the address that is not running yet (it still
    ///   waits for another address) loses it and waits again (*reblocking*);
    /// * a reader may join current readers unless a higher-priority writer waits;
    /// * a writer takes the address back from every lower-priority reader that is not
    ///   running yet; if readers remain (higher-priority ones, or running ones), it waits,
    ///   in id order among the waiting tasks.
    #[inline(always)]
    pub(crate) fn prepare_lock(
        &mut self,
        count_token: &mut TaskStateToken<P>,
        new_task: &Task<P>,
        requested_usage: RequestedUsage,
    ) -> bool {
        let (current, blocked) = match self {
            Self::Fifo { blocked, .. } => return blocked.is_empty(),
            Self::Priority { current, blocked } => (current, blocked),
        };
        match current {
            None => {
                assert!(
                    blocked.is_empty(),
                    "invariant: an unused address has no waiting task"
                );
                true
            }
            Some(PriorityUsage::Writable(holder)) => {
                if !new_task.is_higher_priority(holder) || !holder.try_reblock(count_token) {
                    return false;
                }
                let Some(PriorityUsage::Writable(reblocked)) = current.take() else {
                    unreachable!("matched as writable just above");
                };
                blocked.push(RequestedUsage::Writable, reblocked);
                true
            }
            Some(PriorityUsage::Readonly(readers)) => match requested_usage {
                RequestedUsage::Readonly => match blocked.peek() {
                    None => true,
                    Some(first) => {
                        assert_eq!(
                            first.usage,
                            RequestedUsage::Writable,
                            "invariant: behind readers, the first waiting task is a writer"
                        );
                        new_task.is_higher_priority(&first.task)
                    }
                },
                RequestedUsage::Writable => {
                    let reblocked = readers.extract_if(new_task.task_id().., |_, reader| {
                        reader.try_reblock(count_token)
                    });
                    for (_, reader) in reblocked {
                        blocked.push(RequestedUsage::Readonly, reader);
                    }
                    if readers.is_empty() {
                        *current = None;
                        true
                    } else {
                        false
                    }
                }
            },
        }
    }

    /// Takes the address for `task` if its current use allows it. Never looks at waiting
    /// tasks (that is [`prepare_lock`](Self::prepare_lock)'s job).
    #[inline(always)]
    pub(crate) fn try_lock(&mut self, task: &Task<P>, requested_usage: RequestedUsage) -> bool {
        match self {
            Self::Fifo { current, .. } => match (&mut *current, requested_usage) {
                (None, RequestedUsage::Readonly) => {
                    *current = Some(FifoUsage::Readonly(ShortCounter::one()));
                    true
                }
                (None, RequestedUsage::Writable) => {
                    *current = Some(FifoUsage::Writable);
                    true
                }
                (Some(FifoUsage::Readonly(readers)), RequestedUsage::Readonly) => {
                    readers.increment_self();
                    true
                }
                (Some(FifoUsage::Readonly(_)), RequestedUsage::Writable)
                | (Some(FifoUsage::Writable), _) => false,
            },
            Self::Priority { current, .. } => match (&mut *current, requested_usage) {
                (None, RequestedUsage::Readonly) => {
                    *current = Some(PriorityUsage::Readonly(BTreeMap::from([(
                        task.task_id(),
                        Arc::clone(task),
                    )])));
                    true
                }
                (None, RequestedUsage::Writable) => {
                    *current = Some(PriorityUsage::Writable(Arc::clone(task)));
                    true
                }
                (Some(PriorityUsage::Readonly(readers)), RequestedUsage::Readonly) => {
                    let previous = readers.insert(task.task_id(), Arc::clone(task));
                    assert!(
                        previous.is_none(),
                        "invariant: a task reads an address at most once"
                    );
                    true
                }
                (Some(PriorityUsage::Readonly(_)), RequestedUsage::Writable)
                | (Some(PriorityUsage::Writable(_)), _) => false,
            },
        }
    }

    /// Releases `task`'s use of the address. If the address became free, returns the first
    /// waiting usage, which the caller must then lock.
    #[inline(always)]
    #[must_use]
    pub(crate) fn unlock(
        &mut self,
        task: &Task<P>,
        requested_usage: RequestedUsage,
    ) -> Option<UsageFromTask<P>> {
        let now_free = match self {
            Self::Fifo { current, .. } => {
                let now_free = match (&mut *current, requested_usage) {
                    (Some(FifoUsage::Readonly(readers)), RequestedUsage::Readonly) => {
                        if readers.is_one() {
                            true
                        } else {
                            readers.decrement_self();
                            false
                        }
                    }
                    (Some(FifoUsage::Writable), RequestedUsage::Writable) => true,
                    _ => unlock_mismatch(),
                };
                if now_free {
                    *current = None;
                }
                now_free
            }
            Self::Priority { current, .. } => {
                let now_free = match (&mut *current, requested_usage) {
                    (Some(PriorityUsage::Readonly(readers)), RequestedUsage::Readonly) => {
                        assert!(
                            readers.remove(&task.task_id()).is_some(),
                            "invariant: only a current reader releases a read lock"
                        );
                        readers.is_empty()
                    }
                    (Some(PriorityUsage::Writable(writer)), RequestedUsage::Writable) => {
                        assert!(
                            Arc::ptr_eq(writer, task),
                            "invariant: only the current writer releases a write lock"
                        );
                        true
                    }
                    _ => unlock_mismatch(),
                };
                if now_free {
                    *current = None;
                }
                now_free
            }
        };
        if now_free { self.pop_blocked() } else { None }
    }

    /// Queues `task`'s usage behind the current one.
    #[inline(always)]
    pub(crate) fn push_blocked(&mut self, usage: RequestedUsage, task: Task<P>) {
        match self {
            Self::Fifo { current, blocked } => {
                debug_assert!(current.is_some() || !blocked.is_empty());
                blocked.push_back((usage, task));
            }
            Self::Priority { blocked, .. } => blocked.push(usage, task),
        }
    }

    /// After a reader was granted the address: the next waiting usage if it is a reader too
    /// (readers queued together are let in together).
    #[inline(always)]
    #[must_use]
    pub(crate) fn pop_lockable_readonly(&mut self) -> Option<UsageFromTask<P>> {
        let next_is_reader = match self {
            Self::Fifo { blocked, .. } => {
                matches!(blocked.front(), Some((RequestedUsage::Readonly, _)))
            }
            Self::Priority { blocked, .. } => {
                matches!(blocked.peek(), Some(first) if first.usage == RequestedUsage::Readonly)
            }
        };
        if next_is_reader {
            self.pop_blocked()
        } else {
            None
        }
    }

    #[inline(always)]
    fn pop_blocked(&mut self) -> Option<UsageFromTask<P>> {
        match self {
            Self::Fifo { blocked, .. } => blocked.pop_front(),
            Self::Priority { blocked, .. } => blocked.pop().map(|w| (w.usage, w.task)),
        }
    }

    pub(crate) fn state(&self) -> UsageQueueState {
        match self {
            Self::Fifo { current, blocked } => {
                let (current_usage, current_holders) = match current {
                    None => (None, 0),
                    Some(FifoUsage::Readonly(readers)) => {
                        (Some(RequestedUsage::Readonly), readers.current())
                    }
                    Some(FifoUsage::Writable) => (Some(RequestedUsage::Writable), 1),
                };
                UsageQueueState {
                    current_usage,
                    current_holders,
                    current_task_ids: Vec::new(),
                    blocked: blocked
                        .iter()
                        .map(|(usage, task)| (task.task_id(), *usage))
                        .collect(),
                }
            }
            Self::Priority { current, blocked } => {
                let (current_usage, current_task_ids) = match current {
                    None => (None, Vec::new()),
                    Some(PriorityUsage::Readonly(readers)) => (
                        Some(RequestedUsage::Readonly),
                        readers.keys().copied().collect(),
                    ),
                    Some(PriorityUsage::Writable(writer)) => {
                        (Some(RequestedUsage::Writable), vec![writer.task_id()])
                    }
                };
                let mut waiting: Vec<_> = blocked.iter().map(|w| (w.task_id, w.usage)).collect();
                waiting.sort_unstable_by_key(|&(task_id, _)| task_id);
                UsageQueueState {
                    current_usage,
                    current_holders: u32::try_from(current_task_ids.len())
                        .expect("fewer than 2^32 holders"),
                    current_task_ids,
                    blocked: waiting,
                }
            }
        }
    }
}

#[cold]
#[track_caller]
fn unlock_mismatch() -> ! {
    panic!(
        "unlock of a usage the address does not have (invariant: deschedule_task is called \
         once per scheduled task, with that task)"
    )
}
