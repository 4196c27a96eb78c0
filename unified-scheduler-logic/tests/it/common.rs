//! Helpers for the scenario tests: a state machine with its usage-queue cache, named
//! addresses, and assertions on counters and per-address state.

use std::collections::HashMap;
use std::sync::Arc;

use unified_scheduler_logic::{
    Capability, OrderedTaskId, RequestedUsage, SchedulingStateMachine, Task, UsageQueue,
    UsageQueueState,
};

/// Generates `mod $name { fn fifo(); fn priority(); }`: two `#[test]`s that run the scenario
/// function `$name(capability: Capability)` in each mode. Attributes (`should_panic`, ...)
/// apply to both.
///
/// One test per mode, rather than one test looping over both, because a thread can mint the
/// state machine's tokens only once, and libtest runs each test on its own thread.
macro_rules! both_modes {
    ($(#[$attribute:meta])* $name:ident) => {
        mod $name {
            #[test]
            $(#[$attribute])*
            fn fifo() {
                super::$name(unified_scheduler_logic::Capability::FifoQueueing);
            }

            #[test]
            $(#[$attribute])*
            fn priority() {
                super::$name(unified_scheduler_logic::Capability::PriorityQueueing);
            }
        }
    };
}
pub(crate) use both_modes;

/// A state machine for payload `()`, and the usage-queue cache its loader fills (addresses
/// are names).
#[derive(Debug)]
pub(crate) struct Harness {
    pub(crate) sm: SchedulingStateMachine<()>,
    capability: Capability,
    max_running: Option<usize>,
    queues: HashMap<&'static str, UsageQueue<()>>,
}

/// The machine's counters, read together so that one `assert_eq!` shows them all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Counts {
    pub(crate) total: u32,
    pub(crate) active: u32,
    pub(crate) running: u32,
    pub(crate) handled: u32,
    /// `unblocked_task_count()`: tasks handed out by `schedule_next_unblocked_task`.
    pub(crate) unblocked: u32,
    /// `unblocked_task_queue_count()`: tasks holding every address, not handed out yet.
    pub(crate) queued: usize,
}

impl Harness {
    /// A machine with no running-task cap.
    pub(crate) fn new(capability: Capability) -> Self {
        Self::with_max_running(capability, None)
    }

    /// A machine that hands out at most `max_running` tasks at once.
    pub(crate) fn with_max_running(capability: Capability, max_running: Option<usize>) -> Self {
        // SAFETY: the machine, its usage queues and its tasks are used by this test's thread
        // only (libtest runs each test on a fresh thread, which has no token yet).
        let sm = unsafe {
            SchedulingStateMachine::exclusively_initialize_current_thread_for_scheduling(
                capability,
                max_running,
            )
        };
        Self {
            sm,
            capability,
            max_running,
            queues: HashMap::new(),
        }
    }

    /// Creates task `id` with `requests`, resolving each address through the cache.
    pub(crate) fn task(
        &mut self,
        id: OrderedTaskId,
        requests: &[(&'static str, RequestedUsage)],
    ) -> Task<()> {
        let capability = self.capability;
        let queues = &mut self.queues;
        SchedulingStateMachine::create_task((), id, requests.iter().copied(), &mut |address| {
            queues
                .entry(address)
                .or_insert_with(|| UsageQueue::new(capability))
                .clone()
        })
    }

    /// The cached queue of `address`.
    #[track_caller]
    pub(crate) fn queue(&self, address: &str) -> UsageQueue<()> {
        self.queues
            .get(address)
            .unwrap_or_else(|| panic!("no task has requested {address:?}"))
            .clone()
    }

    /// `schedule_task`, returning the id of the task if it may run now.
    pub(crate) fn schedule(&mut self, task: &Task<()>) -> Option<OrderedTaskId> {
        let returned = self.sm.schedule_task(Arc::clone(task));
        returned.map(|returned| {
            assert!(
                Arc::ptr_eq(&returned, task),
                "returns the task it was given"
            );
            returned.task_id()
        })
    }

    /// `schedule_next_unblocked_task`, returning the id of the task handed out.
    pub(crate) fn next(&mut self) -> Option<OrderedTaskId> {
        self.sm
            .schedule_next_unblocked_task()
            .map(|task| task.task_id())
    }

    /// How many addresses `task` still waits for.
    pub(crate) fn blocked(&mut self, task: &Task<()>) -> u32 {
        self.sm.blocked_usage_count(task)
    }

    /// The machine's counters; asserts on the way that the `has_*` predicates agree with them.
    #[track_caller]
    pub(crate) fn counts(&self) -> Counts {
        let sm = &self.sm;
        let counts = Counts {
            total: sm.total_task_count(),
            active: sm.active_task_count(),
            running: sm.running_task_count(),
            handled: sm.handled_task_count(),
            unblocked: sm.unblocked_task_count(),
            queued: sm.unblocked_task_queue_count(),
        };
        let slot_free = self
            .max_running
            .is_none_or(|max| (counts.running as usize) < max);
        assert_eq!(sm.has_no_active_task(), counts.active == 0, "{counts:?}");
        assert_eq!(sm.has_no_running_task(), counts.running == 0, "{counts:?}");
        assert_eq!(sm.has_unblocked_task(), counts.queued > 0, "{counts:?}");
        assert_eq!(
            sm.has_runnable_task(),
            counts.queued > 0 && slot_free,
            "{counts:?}"
        );
        assert_eq!(counts.total, counts.handled + counts.active, "{counts:?}");
        assert!(counts.running as usize + counts.queued <= counts.active as usize);
        counts
    }

    /// A snapshot of `address`'s state.
    #[track_caller]
    pub(crate) fn state(&mut self, address: &str) -> UsageQueueState {
        let queue = self.queue(address);
        self.sm.usage_queue_state(&queue)
    }

    /// Asserts `address`'s state: its current usage, its holders' ids (checked as ids in
    /// priority mode, as a count in FIFO mode, which keeps only counts) and its waiting line
    /// in grant order.
    #[track_caller]
    pub(crate) fn assert_queue(
        &mut self,
        address: &str,
        current_usage: Option<RequestedUsage>,
        holders: &[OrderedTaskId],
        blocked: &[(OrderedTaskId, RequestedUsage)],
    ) {
        let expected = UsageQueueState {
            current_usage,
            current_holders: u32::try_from(holders.len()).expect("few holders"),
            current_task_ids: match self.capability {
                Capability::FifoQueueing => Vec::new(),
                Capability::PriorityQueueing => holders.to_vec(),
            },
            blocked: blocked.to_vec(),
        };
        assert_eq!(self.state(address), expected, "state of {address:?}");
    }

    /// Asserts that every queue the loader created is back to its fresh state.
    #[track_caller]
    pub(crate) fn assert_all_queues_unused(&mut self) {
        let mut addresses: Vec<_> = self.queues.keys().copied().collect();
        addresses.sort_unstable();
        for address in addresses {
            self.assert_queue(address, None, &[], &[]);
        }
    }

    /// Handles to each cached queue (1 = only the cache refers to it).
    pub(crate) fn queue_handle_counts(&self) -> Vec<(&'static str, usize)> {
        let mut counts: Vec<_> = self
            .queues
            .iter()
            .map(|(address, queue)| (*address, queue.handle_count()))
            .collect();
        counts.sort_unstable();
        counts
    }
}
