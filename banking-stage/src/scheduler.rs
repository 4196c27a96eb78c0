//! The `Scheduler` trait: the policy the scheduler thread runs, behind one seam.

use sdk_lite::SanitizedTransaction;

use crate::messages::{BufferedTransaction, ConsumeWork};
use crate::transaction_container::TransactionContainer;

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
    /// Transactions left in the container because the pass's compute budget was spent
    /// (block fill pacing).
    pub unschedulable_budget: usize,
}

/// A scheduling policy: decides which buffered transactions go to which worker, and keeps
/// the scheduler-side account locks so that conflicting transactions never run on two
/// workers at once.
///
/// The scheduler thread calls [`schedule`](Self::schedule) whenever it has buffered
/// transactions and [`complete`](Self::complete) for every batch a worker returns; one
/// implementation is [`GreedyScheduler`](crate::GreedyScheduler).
pub trait Scheduler: Send + std::fmt::Debug {
    /// One pass: takes up to `max_scan` transactions from `container`, best first, and
    /// returns the batches to send, worth at most `budget` estimated units in all (0:
    /// schedule nothing). Transactions it does not schedule go back into the container
    /// with their priority (or stay [`held`](Self::held)). `units_of` estimates a
    /// transaction's compute units.
    fn schedule(
        &mut self,
        container: &mut TransactionContainer<BufferedTransaction>,
        max_scan: usize,
        budget: u64,
        units_of: &dyn Fn(&SanitizedTransaction) -> u64,
    ) -> (Vec<ConsumeWork>, SchedulingSummary);

    /// A worker finished `work`: releases exactly what the batch held and puts the
    /// `retryable` transactions (indexes into the batch) back into `container`. Returns
    /// the transactions a full container dropped doing so (each the lowest-priority one
    /// at that moment).
    fn complete(
        &mut self,
        work: ConsumeWork,
        retryable: &[usize],
        container: &mut TransactionContainer<BufferedTransaction>,
    ) -> Vec<BufferedTransaction>;

    /// Whether nothing is in flight and no lock is held.
    fn is_idle(&self) -> bool;

    /// Transactions the scheduler keeps outside the container between passes (for
    /// example parked behind a hot account). They count as buffered.
    fn held(&self) -> usize {
        0
    }

    /// The number of workers it schedules for.
    fn num_workers(&self) -> usize;

    /// The policy's name, for reports.
    fn name(&self) -> &'static str;
}
