//! `GreedyScheduler`: the central scheduler's simplest policy: best price first, each
//! transaction to the least-loaded worker that may take it.

use std::sync::Arc;

use scheduling_utils::{ThreadAwareAccountLocks, ThreadId, ThreadSet};
use sdk_lite::{Pubkey, SanitizedTransaction};

use crate::transaction_container::{TransactionContainer, TransactionId};

/// Transactions per batch sent to a worker.
pub const MAX_BATCH_SIZE: usize = 64;

/// A buffered transaction: shared, so that the worker and the scheduler hold the same one.
pub type BufferedTransaction = Arc<SanitizedTransaction>;

/// A batch for one worker.
#[derive(Debug, Clone)]
pub struct ConsumeWork {
    /// The worker it goes to.
    pub worker: ThreadId,
    /// Each transaction's id in the container, priority and estimated compute units.
    pub ids: Vec<(TransactionId, u64, u64)>,
    /// The transactions, in the order the worker must run them.
    pub transactions: Vec<BufferedTransaction>,
}

/// What one scheduling pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SchedulingSummary {
    /// Transactions handed to workers.
    pub scheduled: usize,
    /// Transactions left in the container because their accounts are held on several
    /// workers.
    pub unschedulable_conflicts: usize,
    /// Transactions left in the container because every worker that could take them is at
    /// its in-flight cap.
    pub unschedulable_threads: usize,
}

/// The greedy scheduler: scans the container best first; each transaction goes to the
/// worker that may take it (thread-aware locks) with the least work queued and in flight
/// (compute units, then transactions, then lowest id), unless that worker is at its
/// in-flight cap. Conflicting transactions land on the same worker, whose queue order
/// serializes them.
#[derive(Debug)]
pub struct GreedyScheduler {
    locks: ThreadAwareAccountLocks<Pubkey>,
    in_flight_units: Vec<u64>,
    in_flight_transactions: Vec<usize>,
    max_in_flight_units_per_worker: u64,
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
            in_flight_units: vec![0; num_workers],
            in_flight_transactions: vec![0; num_workers],
            max_in_flight_units_per_worker,
        }
    }

    /// One pass: takes up to `max_scan` transactions from `container`, best first, and
    /// returns the batches to send. Transactions that cannot be scheduled now go back into
    /// the container with their priority. `units_of` estimates a transaction's compute
    /// units.
    pub fn schedule(
        &mut self,
        container: &mut TransactionContainer<BufferedTransaction>,
        max_scan: usize,
        units_of: impl Fn(&SanitizedTransaction) -> u64,
    ) -> (Vec<ConsumeWork>, SchedulingSummary) {
        let num_workers = self.in_flight_units.len();
        let mut batches: Vec<ConsumeWork> = (0..num_workers)
            .map(|worker| ConsumeWork {
                worker,
                ids: Vec::new(),
                transactions: Vec::new(),
            })
            .collect();
        let mut batch_units = vec![0u64; num_workers];
        let mut ready = Vec::new();
        let mut put_back = Vec::new();
        let mut summary = SchedulingSummary::default();
        for _ in 0..max_scan {
            let Some((id, priority, transaction)) = container.pop_best() else {
                break;
            };
            let units = units_of(&transaction);
            let mut allowed = ThreadSet::none();
            for (worker, (in_flight, queued)) in
                self.in_flight_units.iter().zip(&batch_units).enumerate()
            {
                if in_flight.saturating_add(*queued) < self.max_in_flight_units_per_worker {
                    allowed.insert(worker);
                }
            }
            let in_flight_units = &self.in_flight_units;
            let in_flight_transactions = &self.in_flight_transactions;
            let result =
                self.locks
                    .try_lock_accounts(transaction.lock_requests(), allowed, |candidates| {
                        select_thread(candidates, |worker| {
                            (
                                in_flight_units[worker] + batch_units[worker],
                                in_flight_transactions[worker] + batches[worker].ids.len(),
                            )
                        })
                    });
            match result {
                Ok(worker) => {
                    batch_units[worker] = batch_units[worker].saturating_add(units);
                    let batch = &mut batches[worker];
                    batch.ids.push((id, priority, units));
                    batch.transactions.push(transaction);
                    summary.scheduled += 1;
                    if batch.ids.len() == MAX_BATCH_SIZE {
                        self.send(&mut batches[worker], &mut batch_units[worker], &mut ready);
                    }
                }
                Err(scheduling_utils::TryLockError::MultipleConflicts) => {
                    summary.unschedulable_conflicts += 1;
                    put_back.push((id, priority, transaction));
                }
                Err(scheduling_utils::TryLockError::ThreadNotAllowed) => {
                    summary.unschedulable_threads += 1;
                    put_back.push((id, priority, transaction));
                }
            }
        }
        for worker in 0..num_workers {
            if !batches[worker].ids.is_empty() {
                self.send(&mut batches[worker], &mut batch_units[worker], &mut ready);
            }
        }
        for (id, priority, transaction) in put_back {
            // Cannot drop anything: these were just taken out of the container.
            let dropped = container.reinsert(id, transaction, priority);
            debug_assert!(dropped.is_none());
        }
        (ready, summary)
    }

    /// Moves a batch to `ready`, counting it in flight.
    fn send(&mut self, batch: &mut ConsumeWork, units: &mut u64, ready: &mut Vec<ConsumeWork>) {
        self.in_flight_units[batch.worker] =
            self.in_flight_units[batch.worker].saturating_add(*units);
        self.in_flight_transactions[batch.worker] += batch.ids.len();
        *units = 0;
        ready.push(ConsumeWork {
            worker: batch.worker,
            ids: std::mem::take(&mut batch.ids),
            transactions: std::mem::take(&mut batch.transactions),
        });
    }

    /// A worker finished `work`: unlocks exactly what was sent, and puts the
    /// `retryable` transactions (indexes into the batch) back into the container.
    pub fn complete(
        &mut self,
        work: ConsumeWork,
        retryable: &[usize],
        container: &mut TransactionContainer<BufferedTransaction>,
    ) {
        let worker = work.worker;
        for (transaction, &(_, _, units)) in work.transactions.iter().zip(&work.ids) {
            self.locks
                .unlock_accounts(transaction.lock_requests(), worker);
            self.in_flight_units[worker] = self.in_flight_units[worker].saturating_sub(units);
        }
        self.in_flight_transactions[worker] =
            self.in_flight_transactions[worker].saturating_sub(work.ids.len());
        for &index in retryable {
            if let (Some(&(id, priority, _)), Some(transaction)) =
                (work.ids.get(index), work.transactions.get(index))
            {
                container.reinsert(id, Arc::clone(transaction), priority);
            }
        }
    }

    /// Whether nothing is in flight and no lock is held.
    pub fn is_idle(&self) -> bool {
        self.locks.is_empty() && self.in_flight_transactions.iter().all(|&count| count == 0)
    }

    /// Estimated units in flight on `worker`.
    pub fn in_flight_units(&self, worker: ThreadId) -> u64 {
        self.in_flight_units[worker]
    }
}

/// Agave's `select_thread`: among `candidates`, the worker with the least load (as
/// `(units, transactions)`, compared in that order), ties to the lowest id.
pub fn select_thread(candidates: ThreadSet, load: impl Fn(ThreadId) -> (u64, usize)) -> ThreadId {
    candidates
        .contained_threads_iter()
        .min_by_key(|&worker| (load(worker), worker))
        .expect("invariant: the selector is called with a non-empty set")
}
