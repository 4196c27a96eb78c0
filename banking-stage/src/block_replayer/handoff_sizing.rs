//! How many tasks the scheduler thread puts in one handoff, from what tasks have cost so
//! far: large enough that a handoff's fixed cost (a send each way, maybe a wake-up) is
//! small beside its work, small enough that the block's last handoffs end close together
//! and that a conflict chain's next link does not wait long behind a handoff.

use std::time::Duration;

use crate::spin_wait::SpinWait;

/// Most tasks a worker takes in one handoff (each with up to 15 followers; where threads
/// spin, the work target also bounds the transactions, followers included).
pub const MAX_TASKS_PER_HANDOFF: usize = 16;

/// The work a handoff aims to carry where threads spin, in nanoseconds of its tasks'
/// measured times: enough that its fixed cost (a send each way) is small beside it, little
/// enough that a task's successor on a busy account, which waits for the whole handoff's
/// answer, does not wait long, and that the block's last handoffs end close together.
const HANDOFF_WORK_TARGET_NS: f64 = 12_000.0;

/// Weight of the newest task time in the running mean.
const TASK_TIME_SMOOTHING: f64 = 1.0 / 32.0;

/// Sizes handoffs from what tasks have cost so far (see [`HANDOFF_WORK_TARGET_NS`]).
#[derive(Debug)]
pub(super) struct HandoffSizing {
    pub(super) num_workers: usize,
    /// The work a handoff aims at, in nanoseconds: [`HANDOFF_WORK_TARGET_NS`] where threads
    /// spin; unbounded where they sleep, since there every handoff may cost a wake-up each
    /// way, worth amortizing over as many tasks as a worker's share allows.
    work_target_ns: f64,
    /// Running mean of a task's measured time; 0 until the first answer (cheap until
    /// shown otherwise: the first handoffs are the largest).
    mean_task_ns: f64,
}

impl HandoffSizing {
    /// Sizing for `num_workers` workers that wait for work by `wait`.
    pub(super) fn new(num_workers: usize, wait: SpinWait) -> Self {
        Self {
            num_workers,
            work_target_ns: if wait.spins() {
                HANDOFF_WORK_TARGET_NS
            } else {
                f64::INFINITY
            },
            mean_task_ns: 0.0,
        }
    }

    pub(super) fn observe(&mut self, duration: Duration) {
        let nanos = duration.as_nanos() as f64;
        self.mean_task_ns = if self.mean_task_ns == 0.0 {
            nanos
        } else {
            self.mean_task_ns + (nanos - self.mean_task_ns) * TASK_TIME_SMOOTHING
        };
    }

    /// Tasks per handoff when `ready` tasks are runnable: a share per worker, at least one,
    /// at most what the work target and [`MAX_TASKS_PER_HANDOFF`] allow.
    pub(super) fn size(&self, ready: usize) -> usize {
        (ready / self.num_workers.max(1))
            .min(self.by_work())
            .clamp(1, MAX_TASKS_PER_HANDOFF)
    }

    /// Independent transactions per handoff when `unsent` of them may be left to send
    /// (the block's not yet looked at included): half a worker's share of them (so the
    /// block's last handoffs shrink, and end close together, as in guided
    /// self-scheduling), at least one, at most [`MAX_TASKS_PER_HANDOFF`]; where `paced`
    /// (the block has conflict chains, whose next links should not wait long for a
    /// worker), at most what the work target allows too.
    pub(super) fn independent_size(&self, unsent: usize, paced: bool) -> usize {
        let guided = unsent / (2 * self.num_workers.max(1));
        let size = if paced {
            guided.min(self.by_work())
        } else {
            guided
        };
        size.clamp(1, MAX_TASKS_PER_HANDOFF)
    }

    /// Tasks whose measured time adds up to the work target (unbounded before the first
    /// answer: cheap until shown otherwise).
    pub(super) fn by_work(&self) -> usize {
        if self.mean_task_ns > 0.0 {
            // Saturates to `usize::MAX` for an unbounded target.
            (self.work_target_ns / self.mean_task_ns) as usize
        } else {
            usize::MAX
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handoffs_shrink_as_tasks_get_expensive() {
        let mut sizing = HandoffSizing::new(2, SpinWait::spinning(Duration::from_micros(20)));
        // Unknown cost: a worker's share, up to the cap.
        assert_eq!(sizing.size(100), MAX_TASKS_PER_HANDOFF);
        assert_eq!(sizing.size(6), 3);
        assert_eq!(sizing.size(1), 1);
        sizing.observe(Duration::from_micros(2));
        assert_eq!(sizing.size(100), 6);
        for _ in 0..500 {
            sizing.observe(Duration::from_micros(20));
        }
        assert_eq!(sizing.size(100), 1, "a 20 us task goes alone");
    }

    #[test]
    fn sleeping_threads_take_a_full_share_whatever_tasks_cost() {
        let mut sizing = HandoffSizing::new(2, SpinWait::never());
        sizing.observe(Duration::from_micros(20));
        assert_eq!(sizing.size(100), MAX_TASKS_PER_HANDOFF);
        assert_eq!(sizing.size(6), 3);
    }
}
