//! `GreedyScheduler`: the central scheduler's simplest policy: best price first, each
//! transaction to the least-loaded worker that may take it.

use scheduling_utils::{ThreadId, TryLockError};
use sdk_lite::SanitizedTransaction;

use crate::messages::{BufferedTransaction, ConsumeWork};
use crate::placement::{Placement, requeue};
use crate::scheduler::{Scheduler, SchedulingSummary};
use crate::transaction_container::TransactionContainer;

/// The greedy scheduler: scans the container best first; each transaction goes to the
/// worker that may take it (thread-aware locks) with the least work queued and in flight
/// (compute units, then transactions, then lowest id), unless that worker is at its
/// in-flight cap. Conflicting transactions land on the same worker, whose queue order
/// serializes them.
#[derive(Debug)]
pub struct GreedyScheduler {
    placement: Placement,
}

impl GreedyScheduler {
    /// A scheduler for `num_workers` workers (1..=64), each given at most
    /// `max_in_flight_units_per_worker` estimated units at a time.
    ///
    /// # Panics
    /// If `num_workers` is not in `1..=64` (a configuration the caller validates).
    pub fn new(num_workers: usize, max_in_flight_units_per_worker: u64) -> Self {
        Self {
            placement: Placement::new(num_workers, max_in_flight_units_per_worker),
        }
    }

    /// Estimated units in flight on `worker`.
    pub fn in_flight_units(&self, worker: ThreadId) -> u64 {
        self.placement.in_flight_units(worker)
    }
}

impl Scheduler for GreedyScheduler {
    fn schedule(
        &mut self,
        container: &mut TransactionContainer<BufferedTransaction>,
        max_scan: usize,
        budget: u64,
        units_of: &dyn Fn(&SanitizedTransaction) -> u64,
    ) -> (Vec<ConsumeWork>, SchedulingSummary) {
        let mut put_back = Vec::new();
        let mut summary = SchedulingSummary::default();
        let mut budget_left = budget;
        for _ in 0..max_scan {
            let Some((id, priority, transaction)) = container.pop_best() else {
                break;
            };
            let units = units_of(&transaction);
            if units > budget_left {
                // The pass's budget is spent: the rest waits for the next pass.
                summary.unschedulable_budget += 1;
                put_back.push((id, priority, transaction));
                break;
            }
            match self.placement.try_place(id, priority, &transaction, units) {
                Ok(_) => {
                    budget_left -= units;
                    summary.scheduled += 1;
                }
                Err(error) => {
                    match error {
                        TryLockError::MultipleConflicts => summary.unschedulable_conflicts += 1,
                        TryLockError::ThreadNotAllowed => summary.unschedulable_threads += 1,
                    }
                    put_back.push((id, priority, transaction));
                }
            }
        }
        let ready = self.placement.finish_pass();
        for (id, priority, transaction) in put_back {
            // Cannot drop anything: these were just taken out of the container.
            let dropped = container.reinsert(id, transaction, priority);
            debug_assert!(dropped.is_none());
        }
        (ready, summary)
    }

    fn complete(
        &mut self,
        work: ConsumeWork,
        retryable: &[usize],
        container: &mut TransactionContainer<BufferedTransaction>,
    ) -> Vec<BufferedTransaction> {
        self.placement.complete(&work);
        requeue(&work, retryable, container)
    }

    fn is_idle(&self) -> bool {
        self.placement.is_idle()
    }

    fn num_workers(&self) -> usize {
        self.placement.num_workers()
    }

    fn name(&self) -> &'static str {
        "greedy"
    }
}
