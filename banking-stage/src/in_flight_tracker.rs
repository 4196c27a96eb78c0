//! `InFlightTracker`: the work each worker holds, as the scheduler sees it.

use ahash::AHashMap;
use scheduling_utils::ThreadId;

/// Units and transactions sent to each worker and not yet returned, per batch, so that a
/// returned batch gives back exactly what it took.
#[derive(Debug)]
pub struct InFlightTracker {
    units: Vec<u64>,
    transactions: Vec<usize>,
    /// batch id -> (worker, units, transactions)
    batches: AHashMap<u64, (ThreadId, u64, usize)>,
    next_batch_id: u64,
}

impl InFlightTracker {
    /// A tracker for `num_workers` workers with nothing in flight.
    pub fn new(num_workers: usize) -> Self {
        Self {
            units: vec![0; num_workers],
            transactions: vec![0; num_workers],
            batches: AHashMap::new(),
            next_batch_id: 0,
        }
    }

    /// Records a batch of `transactions` worth `units` sent to `worker`; returns its id.
    pub fn track_batch(&mut self, worker: ThreadId, units: u64, transactions: usize) -> u64 {
        let batch_id = self.next_batch_id;
        self.next_batch_id += 1;
        self.units[worker] = self.units[worker].saturating_add(units);
        self.transactions[worker] += transactions;
        self.batches.insert(batch_id, (worker, units, transactions));
        batch_id
    }

    /// Forgets batch `batch_id`, which came back; returns its worker.
    ///
    /// # Panics
    /// If the batch is not in flight (invariant: each batch completes once).
    pub fn complete_batch(&mut self, batch_id: u64) -> ThreadId {
        let (worker, units, transactions) = self
            .batches
            .remove(&batch_id)
            .expect("invariant: a completed batch was in flight, and completes once");
        self.units[worker] -= units;
        self.transactions[worker] -= transactions;
        worker
    }

    /// Estimated units in flight on `worker`.
    pub fn units(&self, worker: ThreadId) -> u64 {
        self.units[worker]
    }

    /// Transactions in flight on `worker`.
    pub fn transactions(&self, worker: ThreadId) -> usize {
        self.transactions[worker]
    }

    /// Batches in flight on all workers.
    pub fn num_batches(&self) -> usize {
        self.batches.len()
    }

    /// Whether nothing is in flight.
    pub fn is_empty(&self) -> bool {
        self.batches.is_empty()
    }
}
