//! `PriorityBlockedQueue`: the tasks waiting for one address in priority mode, handed out
//! smallest task id first.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use crate::task::{OrderedTaskId, RequestedUsage, Task};

/// A waiting usage: the task, how it wants the address, and its id (cached, so that
/// ordering does not chase the task's pointer).
#[derive(Debug)]
pub(crate) struct Waiting<P> {
    pub(crate) task_id: OrderedTaskId,
    pub(crate) usage: RequestedUsage,
    pub(crate) task: Task<P>,
}

/// Reversed order on ids, so that `BinaryHeap` (a max-heap) pops the smallest id.
impl<P> Ord for Waiting<P> {
    fn cmp(&self, other: &Self) -> Ordering {
        other.task_id.cmp(&self.task_id)
    }
}

impl<P> PartialOrd for Waiting<P> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<P> PartialEq for Waiting<P> {
    fn eq(&self, other: &Self) -> bool {
        self.task_id == other.task_id
    }
}

impl<P> Eq for Waiting<P> {}

/// Waiting usages ordered by task id.
///
/// Agave keeps these in a `BTreeMap`. The common arrival pattern, though, is ascending ids
/// (tasks created in priority order, or a replay-like stream), and the other one is a task
/// that takes the address from lower-priority holders (reblocking) and re-queues them. So
/// this keeps two parts: `run`, a `VecDeque` of ascending ids that takes every arrival
/// larger than its back in O(1), and `others`, a binary heap for the rest. The smallest id
/// is at the front of one of them.
#[derive(Debug)]
pub(crate) struct PriorityBlockedQueue<P> {
    run: VecDeque<Waiting<P>>,
    others: BinaryHeap<Waiting<P>>,
}

impl<P> PriorityBlockedQueue<P> {
    /// Room for `capacity` waiting usages in the ascending run (the common case) before it
    /// allocates.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            run: VecDeque::with_capacity(capacity),
            others: BinaryHeap::new(),
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.run.len() + self.others.len()
    }

    #[inline(always)]
    pub(crate) fn is_empty(&self) -> bool {
        self.run.is_empty() && self.others.is_empty()
    }

    #[inline(always)]
    pub(crate) fn push(&mut self, usage: RequestedUsage, task: Task<P>) {
        let waiting = Waiting {
            task_id: task.task_id(),
            usage,
            task,
        };
        match self.run.back() {
            Some(back) if back.task_id >= waiting.task_id => self.others.push(waiting),
            _ => self.run.push_back(waiting),
        }
    }

    /// Whether the smallest id is at the front of `run` (else at the top of `others`).
    #[inline(always)]
    fn first_is_in_run(&self) -> Option<bool> {
        match (self.run.front(), self.others.peek()) {
            (None, None) => None,
            (Some(_), None) => Some(true),
            (None, Some(_)) => Some(false),
            (Some(run), Some(other)) => Some(run.task_id < other.task_id),
        }
    }

    #[inline(always)]
    pub(crate) fn peek(&self) -> Option<&Waiting<P>> {
        match self.first_is_in_run()? {
            true => self.run.front(),
            false => self.others.peek(),
        }
    }

    #[inline(always)]
    pub(crate) fn pop(&mut self) -> Option<Waiting<P>> {
        if self.others.is_empty() {
            // The common case (nothing arrived out of order): no comparison needed.
            return self.run.pop_front();
        }
        match self.first_is_in_run()? {
            true => self.run.pop_front(),
            false => self.others.pop(),
        }
    }

    /// Every waiting usage, in no particular order (for inspection).
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Waiting<P>> {
        self.run.iter().chain(self.others.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::TaskInner;
    use proptest::prelude::*;
    use std::sync::Arc;

    fn task(id: OrderedTaskId) -> Task<()> {
        Arc::new(TaskInner::new((), id, Box::new([])))
    }

    proptest! {
        /// Any interleaving of pushes and pops hands out the smallest id first, like a
        /// sorted set.
        #[test]
        #[cfg_attr(miri, ignore)]
        fn pops_in_ascending_id_order(ops in prop::collection::vec(prop::option::of(0u32..200), 0..300)) {
            let mut queue = PriorityBlockedQueue::with_capacity(0);
            let mut model = std::collections::BTreeSet::new();
            for op in ops {
                match op {
                    Some(id) if model.insert(id) => queue.push(RequestedUsage::Readonly, task(id.into())),
                    Some(_) => {}
                    None => {
                        let expected = model.pop_first();
                        prop_assert_eq!(queue.peek().map(|w| w.task_id), expected.map(u128::from));
                        prop_assert_eq!(queue.pop().map(|w| w.task_id), expected.map(u128::from));
                    }
                }
                prop_assert_eq!(queue.len(), model.len());
                prop_assert_eq!(queue.is_empty(), model.is_empty());
            }
        }
    }
}
