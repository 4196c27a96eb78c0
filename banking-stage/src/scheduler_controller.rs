//! `SchedulerController`: the scheduler thread's loop: intake, scheduling passes, worker
//! answers, and the end of each slot.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ahash::AHashMap;
use crossbeam_channel::{Receiver, Select, Sender, TryRecvError};
use scheduling_utils::CostPacer;
use sdk_lite::{SanitizedTransaction, Signature, Transaction};
use svm_lite::{ProgramRegistry, compute_budget_limits};

use crate::block::WorkingSlot;
use crate::consume_worker::ConsumeRequest;
use crate::cost_model::TransactionCost;
use crate::cost_tracker::{CostTracker, CostTrackerError};
use crate::messages::{
    BufferedTransaction, ConsumeWork, DropReason, FinishedConsumeWork, RetryReason,
    TransactionOutcome,
};
use crate::metrics::{DropCounts, SchedulingTotals, SlotEndReason};
use crate::scheduler::Scheduler;
use crate::transaction_container::{Inserted, TransactionContainer, TransactionId};

/// Most transactions taken off the input channel between two scheduling passes, so a flood
/// of arrivals cannot starve the workers.
const MAX_RECEIVE_PER_ITERATION: usize = 4_096;
/// The longest the scheduler sleeps waiting for an event (so it notices a closed input,
/// its deadline and pacing releases).
const MAX_WAIT: Duration = Duration::from_millis(5);

/// What the controller did during one slot (the pipeline adds the bank's side).
#[derive(Debug, Default)]
pub(crate) struct SlotActivity {
    pub(crate) received: u64,
    pub(crate) scheduling: SchedulingTotals,
    pub(crate) retried_account_in_use: u64,
    pub(crate) retried_next_slot: u64,
    pub(crate) committed: u64,
    pub(crate) succeeded: u64,
    pub(crate) compute_units: u64,
    pub(crate) dropped: DropCounts,
    pub(crate) worker_busy_ns: Vec<u64>,
}

/// The scheduler thread's state across slots.
#[derive(Debug)]
pub(crate) struct SchedulerController {
    scheduler: Box<dyn Scheduler>,
    container: TransactionContainer<BufferedTransaction>,
    /// Transactions that did not fit in this slot's block: back at the next slot.
    deferred: Vec<(TransactionId, u64, BufferedTransaction)>,
    /// The signature of every transaction in the pipeline (buffered, held, deferred or in
    /// flight), with its estimated units (computed once, at intake). Two transactions
    /// with one signature are never in flight at once, so the bank's already-processed
    /// check, which runs before the commit, cannot let both through on two workers.
    signatures: AHashMap<Signature, u64>,
    input: Receiver<Transaction>,
    input_closed: bool,
    workers: Vec<Sender<ConsumeRequest>>,
    finished: Receiver<FinishedConsumeWork>,
    programs: Arc<ProgramRegistry>,
    /// Limits of an empty block: a transaction over them can never be included.
    empty_block: CostTracker,
    max_scan: usize,
    /// Batches sent and not yet returned (counted here, not trusted to the policy, so a
    /// custom scheduler cannot make the end-of-slot drain wait forever).
    outstanding_batches: usize,
    /// Estimated units of the batches sent and not yet returned.
    in_flight_units: u64,
}

impl SchedulerController {
    #[allow(clippy::too_many_arguments)] // one constructor, called once, by the pipeline
    pub(crate) fn new(
        scheduler: Box<dyn Scheduler>,
        buffer_capacity: usize,
        input: Receiver<Transaction>,
        workers: Vec<Sender<ConsumeRequest>>,
        finished: Receiver<FinishedConsumeWork>,
        programs: Arc<ProgramRegistry>,
        empty_block: CostTracker,
        max_scan: usize,
    ) -> Self {
        Self {
            scheduler,
            container: TransactionContainer::with_capacity(buffer_capacity),
            deferred: Vec::new(),
            signatures: AHashMap::new(),
            input,
            input_closed: false,
            workers,
            finished,
            programs,
            empty_block,
            max_scan,
            outstanding_batches: 0,
            in_flight_units: 0,
        }
    }

    /// Whether the run is over: no more input, nothing buffered, held or deferred.
    pub(crate) fn is_done(&self) -> bool {
        self.input_closed && self.waiting() == 0
    }

    /// Transactions still waiting (buffered, held by the scheduler, or deferred).
    pub(crate) fn waiting(&self) -> usize {
        self.container.len() + self.scheduler.held() + self.deferred.len()
    }

    /// Whether the scheduler has transactions to look at (in the container or held).
    fn has_buffered(&self) -> bool {
        !self.container.is_empty() || self.scheduler.held() > 0
    }

    /// Runs the scheduler for one slot until `deadline`, a full block, or the end of the
    /// input; then waits for every batch in flight. Returns what it did and why it ended.
    pub(crate) fn run_slot(
        &mut self,
        slot: &Arc<WorkingSlot>,
        deadline: Instant,
        pacer: &CostPacer,
    ) -> (SlotActivity, SlotEndReason) {
        let mut activity = SlotActivity {
            worker_busy_ns: vec![0; self.workers.len()],
            ..SlotActivity::default()
        };
        for (id, priority, transaction) in std::mem::take(&mut self.deferred) {
            if let Some(dropped) = self.container.reinsert(id, transaction, priority) {
                self.drop_transaction(&dropped, DropReason::BufferFull, &mut activity);
            }
        }
        let mut block_full = false;
        let end_reason = loop {
            self.receive_transactions(&mut activity);
            while let Ok(finished) = self.finished.try_recv() {
                block_full |= self.handle_finished(finished, &mut activity);
            }
            if block_full {
                break SlotEndReason::BlockFull;
            }
            if Instant::now() >= deadline {
                break SlotEndReason::Time;
            }
            if self.input_closed && !self.has_buffered() && self.outstanding_batches == 0 {
                break SlotEndReason::NothingToSchedule;
            }
            if self.has_buffered() {
                let (sent_any, budget_spent) = self.schedule_pass(slot, pacer, &mut activity);
                if sent_any {
                    continue;
                }
                // The best transaction does not fit in what is left of the block, nothing
                // is in flight (so the estimate is exact) and pacing releases no more:
                // the block is full.
                if budget_spent
                    && self.outstanding_batches == 0
                    && pacer.released(Instant::now()) >= pacer.budget()
                {
                    break SlotEndReason::BlockFull;
                }
            }
            // Nothing to do until a worker answers or a transaction arrives.
            self.wait_for_event(deadline, &mut activity, &mut block_full);
        };
        // Drain: every batch in flight comes back before the bank freezes.
        while self.outstanding_batches > 0 {
            match self.finished.recv() {
                Ok(finished) => {
                    self.handle_finished(finished, &mut activity);
                }
                Err(_) => panic!("invariant: the workers outlive the scheduler thread"),
            }
        }
        (activity, end_reason)
    }

    /// One scheduling pass under the pacer's budget; sends its batches. Returns whether
    /// it sent any, and whether the budget stopped it.
    fn schedule_pass(
        &mut self,
        slot: &Arc<WorkingSlot>,
        pacer: &CostPacer,
        activity: &mut SlotActivity,
    ) -> (bool, bool) {
        let programs = &self.programs;
        let estimates = &self.signatures;
        let units_of = |transaction: &SanitizedTransaction| {
            estimates
                .get(transaction.signature())
                .copied()
                .unwrap_or_else(|| estimated_units(transaction, programs))
        };
        // Conservative: a batch in flight may already be reserved in the tracker.
        let consumed = slot
            .with_cost_tracker(|tracker| tracker.block_cost())
            .saturating_add(self.in_flight_units);
        let budget = pacer.scheduling_budget(Instant::now(), consumed);
        let (batches, summary) =
            self.scheduler
                .schedule(&mut self.container, self.max_scan, budget, &units_of);
        activity.scheduling.add(&summary);
        let sent_any = !batches.is_empty();
        for work in batches {
            self.in_flight_units += batch_units(&work);
            self.outstanding_batches += 1;
            let worker = work.worker;
            let request = ConsumeRequest {
                work,
                slot: Arc::clone(slot),
            };
            if let Err(unsent) = self.workers[worker].send(request) {
                // The worker is gone (its thread ended): treat the batch as returned
                // untouched, so its locks are released and its transactions retried.
                log::error!("worker {worker} is gone; its batch is rescheduled");
                let work = unsent.into_inner().work;
                self.in_flight_units -= batch_units(&work);
                self.outstanding_batches -= 1;
                let all: Vec<usize> = (0..work.transactions.len()).collect();
                for dropped in self.scheduler.complete(work, &all, &mut self.container) {
                    self.drop_transaction(&dropped, DropReason::BufferFull, activity);
                }
            }
        }
        (sent_any, summary.unschedulable_budget > 0)
    }

    /// Blocks until a worker answers, a transaction arrives, or `deadline` (at most
    /// [`MAX_WAIT`]).
    fn wait_for_event(
        &mut self,
        deadline: Instant,
        activity: &mut SlotActivity,
        block_full: &mut bool,
    ) {
        let timeout = deadline
            .saturating_duration_since(Instant::now())
            .min(MAX_WAIT);
        let mut select = Select::new();
        let finished_index = select.recv(&self.finished);
        let input_index = (!self.input_closed).then(|| select.recv(&self.input));
        let Ok(operation) = select.select_timeout(timeout) else {
            return;
        };
        let index = operation.index();
        if index == finished_index {
            if let Ok(finished) = operation.recv(&self.finished) {
                *block_full |= self.handle_finished(finished, activity);
            }
        } else if Some(index) == input_index {
            match operation.recv(&self.input) {
                Ok(transaction) => {
                    activity.received += 1;
                    self.intake(transaction, activity);
                }
                Err(_) => self.input_closed = true,
            }
        }
    }

    /// Takes what waits on the input channel (bounded per call).
    fn receive_transactions(&mut self, activity: &mut SlotActivity) {
        for _ in 0..MAX_RECEIVE_PER_ITERATION {
            match self.input.try_recv() {
                Ok(transaction) => {
                    activity.received += 1;
                    self.intake(transaction, activity);
                }
                Err(TryRecvError::Empty) => return,
                Err(TryRecvError::Disconnected) => {
                    self.input_closed = true;
                    return;
                }
            }
        }
    }

    /// Screens and buffers one arriving transaction, or drops it with its reason.
    fn intake(&mut self, transaction: Transaction, activity: &mut SlotActivity) {
        let (transaction, priority, units) =
            match screen_with_cost(transaction, &self.programs, &self.empty_block) {
                Ok(screened) => screened,
                Err(reason) => {
                    activity.dropped.add(reason, 1);
                    return;
                }
            };
        match self.signatures.entry(*transaction.signature()) {
            std::collections::hash_map::Entry::Occupied(_) => {
                // The same signature is already in the pipeline: at most one can commit.
                activity.dropped.add(DropReason::AlreadyProcessed, 1);
                return;
            }
            std::collections::hash_map::Entry::Vacant(entry) => {
                entry.insert(units);
            }
        }
        match self.container.insert(Arc::new(transaction), priority) {
            Inserted::Buffered(_) => {}
            Inserted::BufferedDropping(_, dropped) | Inserted::Dropped(dropped) => {
                self.drop_transaction(&dropped, DropReason::BufferFull, activity);
            }
        }
    }

    /// Counts a transaction that leaves the pipeline without being committed.
    fn drop_transaction(
        &mut self,
        transaction: &SanitizedTransaction,
        reason: DropReason,
        activity: &mut SlotActivity,
    ) {
        self.signatures.remove(transaction.signature());
        activity.dropped.add(reason, 1);
    }

    /// Handles a worker's answer; returns whether the block is full.
    fn handle_finished(
        &mut self,
        finished: FinishedConsumeWork,
        activity: &mut SlotActivity,
    ) -> bool {
        let FinishedConsumeWork {
            work,
            outcomes,
            busy_ns,
        } = finished;
        activity.worker_busy_ns[work.worker] += busy_ns;
        self.in_flight_units -= batch_units(&work);
        self.outstanding_batches -= 1;
        let mut retry_now = Vec::new();
        let mut block_full = false;
        for (index, (outcome, transaction)) in outcomes.iter().zip(&work.transactions).enumerate() {
            match *outcome {
                TransactionOutcome::Committed { succeeded, units } => {
                    self.signatures.remove(transaction.signature());
                    activity.committed += 1;
                    activity.succeeded += u64::from(succeeded);
                    activity.compute_units += units;
                }
                TransactionOutcome::Retry(RetryReason::AccountInUse) => {
                    activity.retried_account_in_use += 1;
                    retry_now.push(index);
                }
                TransactionOutcome::Retry(
                    reason @ (RetryReason::CostLimit(_) | RetryReason::SlotEnded),
                ) => {
                    activity.retried_next_slot += 1;
                    block_full |= reason
                        == RetryReason::CostLimit(CostTrackerError::WouldExceedBlockMaxLimit);
                    let (id, priority, _) = work.ids[index];
                    self.deferred.push((id, priority, Arc::clone(transaction)));
                }
                TransactionOutcome::Dropped(reason) => {
                    self.drop_transaction(transaction, reason, activity);
                }
            }
        }
        for dropped in self
            .scheduler
            .complete(work, &retry_now, &mut self.container)
        {
            self.drop_transaction(&dropped, DropReason::BufferFull, activity);
        }
        block_full
    }
}

/// The intake checks: sanitizes `transaction` and returns it with its priority (its
/// compute-unit price), or the reason to drop it: malformed, a program this node does not
/// have, invalid compute-budget instructions, or a cost no block could hold.
///
/// # Errors
/// The [`DropReason`] of a transaction that must not be buffered.
pub fn screen(
    transaction: Transaction,
    programs: &ProgramRegistry,
    empty_block: &CostTracker,
) -> Result<(SanitizedTransaction, u64), DropReason> {
    screen_with_cost(transaction, programs, empty_block)
        .map(|(transaction, priority, _)| (transaction, priority))
}

/// [`screen`], also returning the transaction's estimated cost in units.
fn screen_with_cost(
    transaction: Transaction,
    programs: &ProgramRegistry,
    empty_block: &CostTracker,
) -> Result<(SanitizedTransaction, u64, u64), DropReason> {
    let transaction =
        SanitizedTransaction::try_new(transaction).map_err(|_| DropReason::Malformed)?;
    if transaction
        .instructions_iter()
        .any(|(program_id, _)| programs.get(program_id).is_none())
    {
        return Err(DropReason::UnknownProgram);
    }
    let limits = compute_budget_limits(&transaction, |program| programs.is_builtin(program))
        .map_err(|_| DropReason::InvalidComputeBudget)?;
    let cost = TransactionCost::new(&transaction, &limits);
    empty_block
        .would_fit(&cost)
        .map_err(|_| DropReason::TooExpensive)?;
    Ok((transaction, limits.compute_unit_price, cost.sum()))
}

/// The estimated units of a batch (as the scheduler counted them when it sent it).
fn batch_units(work: &ConsumeWork) -> u64 {
    work.ids.iter().map(|&(_, _, units)| units).sum()
}

/// The scheduler's estimate of a transaction's cost: what the cost model would reserve.
pub(crate) fn estimated_units(
    transaction: &SanitizedTransaction,
    programs: &ProgramRegistry,
) -> u64 {
    compute_budget_limits(transaction, |program| programs.is_builtin(program))
        .map(|limits| TransactionCost::new(transaction, &limits).sum())
        .unwrap_or(0)
}
