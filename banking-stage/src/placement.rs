//! `Placement`: what both scheduling policies share: the thread-aware locks, the in-flight
//! tracker, each worker's cap, and the batches a pass fills and sends.

use std::sync::Arc;

use scheduling_utils::{ThreadAwareAccountLocks, ThreadId, ThreadSet, TryLockError};
use sdk_lite::Pubkey;

use crate::in_flight_tracker::InFlightTracker;
use crate::messages::{BufferedTransaction, ConsumeWork};
use crate::transaction_container::{TransactionContainer, TransactionId};

/// Transactions per batch sent to a worker.
pub const MAX_BATCH_SIZE: usize = 64;

/// A batch being filled during a pass.
#[derive(Debug, Default)]
struct PendingBatch {
    ids: Vec<(TransactionId, u64, u64)>,
    transactions: Vec<BufferedTransaction>,
    units: u64,
}

/// Places transactions on workers: locks their accounts on the least-loaded worker that
/// may take them, fills that worker's batch, and sends a batch when it is full or when the
/// policy flushes.
#[derive(Debug)]
pub(crate) struct Placement {
    locks: ThreadAwareAccountLocks<Pubkey>,
    in_flight: InFlightTracker,
    max_in_flight_units_per_worker: u64,
    /// One per worker; all empty between passes.
    pending: Vec<PendingBatch>,
    /// Batches sent during the current pass.
    ready: Vec<ConsumeWork>,
}

impl Placement {
    /// For `num_workers` workers (1..=64), each given at most
    /// `max_in_flight_units_per_worker` estimated units at a time.
    ///
    /// # Panics
    /// If `num_workers` is not in `1..=64` (a configuration the caller validates).
    pub(crate) fn new(num_workers: usize, max_in_flight_units_per_worker: u64) -> Self {
        Self {
            locks: ThreadAwareAccountLocks::new(num_workers),
            in_flight: InFlightTracker::new(num_workers),
            max_in_flight_units_per_worker,
            pending: (0..num_workers).map(|_| PendingBatch::default()).collect(),
            ready: Vec::new(),
        }
    }

    /// Locks `transaction`'s accounts on the least-loaded worker that may take it (units
    /// queued plus in flight, then transactions, then lowest id), leaving out the workers
    /// at their cap, and adds it to that worker's batch. Changes nothing on an error.
    pub(crate) fn try_place(
        &mut self,
        id: TransactionId,
        priority: u64,
        transaction: &BufferedTransaction,
        units: u64,
    ) -> Result<ThreadId, TryLockError> {
        let mut allowed = ThreadSet::none();
        for (worker, batch) in self.pending.iter().enumerate() {
            if self.in_flight.units(worker).saturating_add(batch.units)
                < self.max_in_flight_units_per_worker
            {
                allowed.insert(worker);
            }
        }
        let (in_flight, pending) = (&self.in_flight, &self.pending);
        let worker =
            self.locks
                .try_lock_accounts(transaction.lock_requests(), allowed, |candidates| {
                    select_thread(candidates, |worker| {
                        (
                            in_flight.units(worker) + pending[worker].units,
                            in_flight.transactions(worker) + pending[worker].ids.len(),
                        )
                    })
                })?;
        let batch = &mut self.pending[worker];
        batch.units = batch.units.saturating_add(units);
        batch.ids.push((id, priority, units));
        batch.transactions.push(Arc::clone(transaction));
        if batch.ids.len() == MAX_BATCH_SIZE {
            self.send(worker);
        }
        Ok(worker)
    }

    /// Sends every batch being filled.
    pub(crate) fn flush(&mut self) {
        for worker in 0..self.pending.len() {
            if !self.pending[worker].ids.is_empty() {
                self.send(worker);
            }
        }
    }

    /// Sends every batch being filled and returns the pass's batches.
    pub(crate) fn finish_pass(&mut self) -> Vec<ConsumeWork> {
        self.flush();
        std::mem::take(&mut self.ready)
    }

    /// Moves `worker`'s pending batch to the pass's batches, counting it in flight.
    fn send(&mut self, worker: ThreadId) {
        let batch = std::mem::take(&mut self.pending[worker]);
        let batch_id = self
            .in_flight
            .track_batch(worker, batch.units, batch.ids.len());
        self.ready.push(ConsumeWork {
            batch_id,
            worker,
            ids: batch.ids,
            transactions: batch.transactions,
        });
    }

    /// A worker returned `work`: forgets it in flight and unlocks exactly what it held.
    ///
    /// # Panics
    /// If the batch was not in flight, or comes back from another worker (both broken
    /// invariants of the scheduler thread).
    pub(crate) fn complete(&mut self, work: &ConsumeWork) {
        let worker = self.in_flight.complete_batch(work.batch_id);
        assert_eq!(
            worker, work.worker,
            "invariant: a batch comes back from the worker it was sent to"
        );
        for transaction in &work.transactions {
            self.locks
                .unlock_accounts(transaction.lock_requests(), worker);
        }
    }

    /// The thread-aware locks (for queries).
    pub(crate) fn locks(&self) -> &ThreadAwareAccountLocks<Pubkey> {
        &self.locks
    }

    /// Estimated units in flight on `worker`.
    pub(crate) fn in_flight_units(&self, worker: ThreadId) -> u64 {
        self.in_flight.units(worker)
    }

    /// Whether nothing is in flight and no lock is held.
    pub(crate) fn is_idle(&self) -> bool {
        self.locks.is_empty() && self.in_flight.is_empty()
    }

    /// Workers placed on.
    pub(crate) fn num_workers(&self) -> usize {
        self.locks.num_threads()
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
