//! `GreedyScheduler`: the central scheduler's simplest policy: best price first, each
//! transaction to the least-loaded worker that may take it.

use std::sync::Arc;

use scheduling_utils::{ThreadAwareAccountLocks, ThreadId, ThreadSet, TryLockError};
use sdk_lite::{Pubkey, SanitizedTransaction};

use crate::in_flight_tracker::InFlightTracker;
use crate::messages::{BufferedTransaction, ConsumeWork};
use crate::scheduler::{Scheduler, SchedulingSummary};
use crate::transaction_container::TransactionContainer;

/// Transactions per batch sent to a worker.
pub const MAX_BATCH_SIZE: usize = 64;

/// The greedy scheduler: scans the container best first; each transaction goes to the
/// worker that may take it (thread-aware locks) with the least work queued and in flight
/// (compute units, then transactions, then lowest id), unless that worker is at its
/// in-flight cap. Conflicting transactions land on the same worker, whose queue order
/// serializes them.
#[derive(Debug)]
pub struct GreedyScheduler {
    locks: ThreadAwareAccountLocks<Pubkey>,
    in_flight: InFlightTracker,
    max_in_flight_units_per_worker: u64,
}

/// A batch being filled during a pass.
#[derive(Debug, Default)]
struct PendingBatch {
    ids: Vec<(u64, u64, u64)>,
    transactions: Vec<BufferedTransaction>,
    units: u64,
}

impl GreedyScheduler {
    /// A scheduler for `num_workers` workers (1..=64), each given at most
    /// `max_in_flight_units_per_worker` estimated units at a time.
    ///
    /// # Panics
    /// If `num_workers` is not in `1..=64` (a configuration the caller validates).
    pub fn new(num_workers: usize, max_in_flight_units_per_worker: u64) -> Self {
        Self {
            locks: ThreadAwareAccountLocks::new(num_workers),
            in_flight: InFlightTracker::new(num_workers),
            max_in_flight_units_per_worker,
        }
    }

    /// Estimated units in flight on `worker`.
    pub fn in_flight_units(&self, worker: ThreadId) -> u64 {
        self.in_flight.units(worker)
    }

    /// Moves a pending batch to `ready`, counting it in flight.
    fn send(&mut self, worker: ThreadId, batch: &mut PendingBatch, ready: &mut Vec<ConsumeWork>) {
        let batch = std::mem::take(batch);
        let batch_id = self
            .in_flight
            .track_batch(worker, batch.units, batch.ids.len());
        ready.push(ConsumeWork {
            batch_id,
            worker,
            ids: batch.ids,
            transactions: batch.transactions,
        });
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
        let num_workers = self.locks.num_threads();
        let mut pending: Vec<PendingBatch> =
            (0..num_workers).map(|_| PendingBatch::default()).collect();
        let mut ready = Vec::new();
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
            let mut allowed = ThreadSet::none();
            for (worker, batch) in pending.iter().enumerate() {
                if self.in_flight.units(worker).saturating_add(batch.units)
                    < self.max_in_flight_units_per_worker
                {
                    allowed.insert(worker);
                }
            }
            let in_flight = &self.in_flight;
            let result =
                self.locks
                    .try_lock_accounts(transaction.lock_requests(), allowed, |candidates| {
                        select_thread(candidates, |worker| {
                            (
                                in_flight.units(worker) + pending[worker].units,
                                in_flight.transactions(worker) + pending[worker].ids.len(),
                            )
                        })
                    });
            match result {
                Ok(worker) => {
                    budget_left -= units;
                    let batch = &mut pending[worker];
                    batch.units = batch.units.saturating_add(units);
                    batch.ids.push((id, priority, units));
                    batch.transactions.push(transaction);
                    summary.scheduled += 1;
                    if batch.ids.len() == MAX_BATCH_SIZE {
                        self.send(worker, &mut pending[worker], &mut ready);
                    }
                }
                Err(TryLockError::MultipleConflicts) => {
                    summary.unschedulable_conflicts += 1;
                    put_back.push((id, priority, transaction));
                }
                Err(TryLockError::ThreadNotAllowed) => {
                    summary.unschedulable_threads += 1;
                    put_back.push((id, priority, transaction));
                }
            }
        }
        for (worker, batch) in pending.iter_mut().enumerate() {
            if !batch.ids.is_empty() {
                self.send(worker, batch, &mut ready);
            }
        }
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
        let worker = self.in_flight.complete_batch(work.batch_id);
        assert_eq!(
            worker, work.worker,
            "invariant: a batch comes back from the worker it was sent to"
        );
        for transaction in &work.transactions {
            self.locks
                .unlock_accounts(transaction.lock_requests(), worker);
        }
        requeue(&work, retryable, container)
    }

    fn is_idle(&self) -> bool {
        self.locks.is_empty() && self.in_flight.is_empty()
    }

    fn num_workers(&self) -> usize {
        self.locks.num_threads()
    }

    fn name(&self) -> &'static str {
        "greedy"
    }
}

/// Puts the `retryable` transactions of `work` (indexes into the batch) back into
/// `container` under their ids and priorities; returns what a full container dropped
/// (each the lowest-priority transaction at that moment).
pub(crate) fn requeue(
    work: &ConsumeWork,
    retryable: &[usize],
    container: &mut TransactionContainer<BufferedTransaction>,
) -> Vec<BufferedTransaction> {
    retryable
        .iter()
        .filter_map(|&index| {
            let (&(id, priority, _), transaction) =
                work.ids.get(index).zip(work.transactions.get(index))?;
            container.reinsert(id, Arc::clone(transaction), priority)
        })
        .collect()
}

/// Agave's `select_thread`: among `candidates`, the worker with the least load (as
/// `(units, transactions)`, compared in that order), ties to the lowest id.
pub fn select_thread(candidates: ThreadSet, load: impl Fn(ThreadId) -> (u64, usize)) -> ThreadId {
    candidates
        .contained_threads_iter()
        .min_by_key(|&worker| (load(worker), worker))
        .expect("invariant: the selector is called with a non-empty set")
}
