//! The consume workers: each takes batches from its own channel, runs them against the
//! slot's bank and reports back.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use accounts_db_lite::AccountLocks;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError};
use sdk_lite::TransactionError;
use svm_lite::{
    ProcessedTransaction, ProcessingConfig, ProgramRegistry, RecordingConfig, compute_budget_limits,
};

use crate::block::{Entry, WorkingSlot};
use crate::cost_model::TransactionCost;
use crate::messages::{
    BufferedTransaction, ConsumeWork, DropReason, FinishedConsumeWork, RetryReason,
    TransactionOutcome,
};
use crate::trace::{TraceSlice, TraceWhat};

/// A batch and the slot it is for.
#[derive(Debug)]
pub struct ConsumeRequest {
    /// The batch.
    pub work: ConsumeWork,
    /// The slot whose bank it runs against.
    pub slot: Arc<WorkingSlot>,
}

/// How many empty polls a worker spins through before it sleeps on its channel.
const SPIN_POLLS: u32 = 256;
/// How long an idle worker sleeps between checks (it wakes at once when work arrives).
const IDLE_SLEEP: Duration = Duration::from_millis(50);

/// What runs a batch: the programs and the execution-level account locks all workers
/// share. Shared by reference; it holds no per-worker state.
#[derive(Debug, Clone)]
pub struct Consumer {
    programs: Arc<ProgramRegistry>,
    account_locks: Arc<Mutex<AccountLocks>>,
    trace: Option<Arc<TraceSink>>,
}

/// Where workers put their trace slices, with the trace's time origin.
#[derive(Debug)]
pub struct TraceSink {
    origin: Instant,
    slices: Mutex<Vec<TraceSlice>>,
}

impl TraceSink {
    /// An empty trace whose time starts now.
    pub fn new() -> Self {
        Self {
            origin: Instant::now(),
            slices: Mutex::new(Vec::new()),
        }
    }

    /// Takes the slices recorded so far.
    pub fn take(&self) -> Vec<TraceSlice> {
        std::mem::take(&mut *self.slices.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// One slice per executed transaction of a committed batch, then one for the commit.
    fn record_batch(
        &self,
        work: &ConsumeWork,
        slot: accounts_db_lite::Slot,
        runnable: &[usize],
        output: &svm_lite::BatchOutput,
        execution_start: Instant,
        commit_start: Instant,
    ) {
        let Some(times) = &output.transaction_times else {
            return;
        };
        let base = execution_start.saturating_duration_since(self.origin);
        let mut slices: Vec<TraceSlice> = runnable
            .iter()
            .zip(times)
            .zip(&output.results)
            .map(|((&index, &(start, duration)), result)| TraceSlice {
                worker: work.worker,
                slot,
                start: base + start,
                duration,
                what: TraceWhat::Transaction {
                    index: usize::try_from(work.ids[index].0).unwrap_or(usize::MAX),
                    transaction: Arc::clone(&work.transactions[index]),
                    committed: result.is_ok(),
                },
            })
            .collect();
        slices.push(TraceSlice {
            worker: work.worker,
            slot,
            start: commit_start.saturating_duration_since(self.origin),
            duration: commit_start.elapsed(),
            what: TraceWhat::Commit {
                batch_id: work.batch_id,
                transactions: output
                    .results
                    .iter()
                    .filter(|result| result.is_ok())
                    .count(),
            },
        });
        self.slices
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(slices);
    }
}

impl Default for TraceSink {
    fn default() -> Self {
        Self::new()
    }
}

impl Consumer {
    /// A consumer running `programs`, locking through `account_locks`.
    pub fn new(programs: Arc<ProgramRegistry>, account_locks: Arc<Mutex<AccountLocks>>) -> Self {
        Self {
            programs,
            account_locks,
            trace: None,
        }
    }

    /// This consumer, recording a slice per executed transaction (and per commit) into
    /// `trace`.
    pub fn with_trace(mut self, trace: Arc<TraceSink>) -> Self {
        self.trace = Some(trace);
        self
    }

    /// The execution-level locks (empty whenever no batch is running).
    pub fn account_locks(&self) -> &Arc<Mutex<AccountLocks>> {
        &self.account_locks
    }

    /// Runs `work` against `slot`: reserves each transaction's cost, locks its accounts,
    /// loads and executes the locked ones, commits and records them, settles the costs
    /// with the units used and releases the locks. Returns one outcome per transaction.
    ///
    /// A panic while executing (a program bug) fails the locked transactions with
    /// [`DropReason::Panicked`]; nothing of them is committed, and their locks and cost
    /// reservations are released.
    pub fn consume(&self, slot: &WorkingSlot, work: &ConsumeWork) -> Vec<TransactionOutcome> {
        let mut outcomes = vec![None; work.transactions.len()];
        self.consume_into(slot, work, &mut outcomes);
        outcomes
            .into_iter()
            .map(|outcome| {
                outcome.expect("invariant: every transaction of a batch gets an outcome")
            })
            .collect()
    }

    /// [`consume`](Self::consume), writing each outcome into `outcomes` (one slot per
    /// transaction, `None` on entry) as soon as it is known, so that a caller that
    /// catches a panic still knows which transactions were committed.
    pub fn consume_into(
        &self,
        slot: &WorkingSlot,
        work: &ConsumeWork,
        outcomes: &mut [Option<TransactionOutcome>],
    ) {
        let transactions = &work.transactions;
        assert_eq!(
            outcomes.len(),
            transactions.len(),
            "invariant: one outcome slot per transaction"
        );
        let mut reservation = Reservation {
            slot,
            account_locks: &self.account_locks,
            transactions,
            costs: vec![None; transactions.len()],
            locked: vec![false; transactions.len()],
        };

        // 1. Reserve each transaction's cost in the block.
        slot.with_cost_tracker(|tracker| {
            for (index, transaction) in transactions.iter().enumerate() {
                let limits = match compute_budget_limits(transaction, |program| {
                    self.programs.is_builtin(program)
                }) {
                    Ok(limits) => limits,
                    Err(_) => {
                        outcomes[index] = Some(TransactionOutcome::Dropped(
                            DropReason::InvalidComputeBudget,
                        ));
                        continue;
                    }
                };
                let cost = TransactionCost::new(transaction, &limits);
                match tracker.try_add(&cost) {
                    Ok(()) => reservation.costs[index] = Some(cost),
                    Err(error) => {
                        outcomes[index] =
                            Some(TransactionOutcome::Retry(RetryReason::CostLimit(error)));
                    }
                }
            }
        });

        // 2. Take the execution-level locks of the transactions that fit.
        let lock_results = self
            .account_locks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .try_lock_transaction_batch(transactions.iter().enumerate().map(
                |(index, transaction)| match reservation.costs[index] {
                    Some(_) => Ok(transaction.lock_requests()),
                    None => Err(TransactionError::CommitCancelled),
                },
            ));
        for (index, result) in lock_results.into_iter().enumerate() {
            if reservation.costs[index].is_none() {
                continue;
            }
            match result {
                Ok(()) => reservation.locked[index] = true,
                Err(error) => {
                    outcomes[index] = Some(match error {
                        TransactionError::AccountInUse => {
                            TransactionOutcome::Retry(RetryReason::AccountInUse)
                        }
                        other => TransactionOutcome::Dropped(DropReason::from_error(&other)),
                    });
                    reservation.release_cost(index);
                }
            }
        }

        // 3. Load, execute, commit and record the locked transactions.
        let runnable: Vec<usize> = (0..transactions.len())
            .filter(|&index| reservation.locked[index])
            .collect();
        if !runnable.is_empty() {
            let batch: Vec<BufferedTransaction> = runnable
                .iter()
                .map(|&index| Arc::clone(&transactions[index]))
                .collect();
            let bank = slot.bank();
            let processing = ProcessingConfig {
                recording: RecordingConfig {
                    transaction_times: self.trace.is_some(),
                    ..RecordingConfig::default()
                },
                error_metrics: None,
            };
            let execution_start = Instant::now();
            let executed = catch_unwind(AssertUnwindSafe(|| {
                bank.load_and_execute(&self.programs, &batch, &processing)
            }));
            let commit_start = Instant::now();
            match executed {
                Err(_) => {
                    log::error!(
                        "batch {} on worker {}: execution panicked; its {} transactions \
                         are dropped",
                        work.batch_id,
                        work.worker,
                        batch.len()
                    );
                    for &index in &runnable {
                        outcomes[index] = Some(TransactionOutcome::Dropped(DropReason::Panicked));
                    }
                }
                Ok(output) => match bank.commit(&batch, &output) {
                    Err(error) => {
                        // Nothing was stored: the transactions can run in the next slot.
                        log::warn!("batch {}: commit refused: {error}", work.batch_id);
                        for &index in &runnable {
                            outcomes[index] =
                                Some(TransactionOutcome::Retry(RetryReason::SlotEnded));
                        }
                    }
                    Ok(_) => {
                        if let Some(trace) = &self.trace {
                            trace.record_batch(
                                work,
                                bank.slot(),
                                &runnable,
                                &output,
                                execution_start,
                                commit_start,
                            );
                        }
                        let mut committed = Vec::with_capacity(batch.len());
                        let mut settled = Vec::with_capacity(batch.len());
                        for ((&index, transaction), result) in
                            runnable.iter().zip(batch).zip(&output.results)
                        {
                            outcomes[index] = Some(match result {
                                Ok(processed) => {
                                    let units = units_consumed(processed);
                                    settled.push((index, units));
                                    committed.push(transaction);
                                    TransactionOutcome::Committed {
                                        succeeded: processed.was_successful(),
                                        units,
                                    }
                                }
                                Err(error) => {
                                    TransactionOutcome::Dropped(DropReason::from_error(error))
                                }
                            });
                        }
                        // One lock of the cost tracker for the whole batch.
                        reservation.settle_costs(&settled);
                        // Recorded before the locks go (the reservation's drop, below).
                        slot.record(Entry {
                            transactions: committed,
                        });
                    }
                },
            }
        }
        // 4. The reservation's drop releases the locks and any unsettled cost.
        drop(reservation);
    }
}

fn units_consumed(processed: &ProcessedTransaction) -> u64 {
    match processed {
        ProcessedTransaction::Executed { units_consumed, .. } => *units_consumed,
        ProcessedTransaction::FeesOnly { .. } => 0,
    }
}

/// A batch's cost reservations and account locks. Dropping it (also while unwinding from
/// a panic) gives back every unsettled cost and releases every lock, so a failing batch
/// cannot leak either.
struct Reservation<'a> {
    slot: &'a WorkingSlot,
    account_locks: &'a Mutex<AccountLocks>,
    transactions: &'a [BufferedTransaction],
    /// Reserved and not yet settled.
    costs: Vec<Option<TransactionCost>>,
    /// Holding its execution-level locks.
    locked: Vec<bool>,
}

impl Reservation<'_> {
    fn release_cost(&mut self, index: usize) {
        if let Some(cost) = self.costs[index].take() {
            self.slot.with_cost_tracker(|tracker| tracker.remove(&cost));
        }
    }

    /// Settles the reserved costs of the committed transactions `(index, units used)`.
    fn settle_costs(&mut self, settled: &[(usize, u64)]) {
        let costs: Vec<(TransactionCost, u64)> = settled
            .iter()
            .filter_map(|&(index, units)| self.costs[index].take().map(|cost| (cost, units)))
            .collect();
        if costs.is_empty() {
            return;
        }
        self.slot.with_cost_tracker(|tracker| {
            for (cost, units) in &costs {
                tracker.update_execution_cost(cost, *units);
            }
        });
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        let unsettled: Vec<TransactionCost> =
            self.costs.iter_mut().filter_map(Option::take).collect();
        if !unsettled.is_empty() {
            self.slot.with_cost_tracker(|tracker| {
                for cost in &unsettled {
                    tracker.remove(cost);
                }
            });
        }
        let mut locks = self
            .account_locks
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for (transaction, locked) in self.transactions.iter().zip(&mut self.locked) {
            if std::mem::take(locked) {
                locks.unlock_accounts(transaction.lock_requests());
            }
        }
    }
}

/// A consume worker's loop: takes batches from `requests` until the channel closes, runs
/// each with `consumer` and sends the result to `finished`. Idle, it spins briefly, then
/// sleeps on the channel. Returns the nanoseconds it spent busy.
pub fn run_consume_worker(
    consumer: &Consumer,
    requests: &Receiver<ConsumeRequest>,
    finished: &Sender<FinishedConsumeWork>,
) -> u64 {
    let mut busy_ns = 0u64;
    let mut empty_polls = 0u32;
    loop {
        let request = match requests.try_recv() {
            Ok(request) => request,
            Err(TryRecvError::Disconnected) => return busy_ns,
            Err(TryRecvError::Empty) if empty_polls < SPIN_POLLS => {
                empty_polls += 1;
                std::hint::spin_loop();
                continue;
            }
            Err(TryRecvError::Empty) => match requests.recv_timeout(IDLE_SLEEP) {
                Ok(request) => request,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return busy_ns,
            },
        };
        empty_polls = 0;
        let start = Instant::now();
        let outcomes = match catch_unwind(AssertUnwindSafe(|| {
            consumer.consume(&request.slot, &request.work)
        })) {
            Ok(outcomes) => outcomes,
            Err(_) => {
                // A bug outside execution: the reservation guard has released what the
                // batch held; the batch is reported failed so the scheduler unlocks too.
                log::error!(
                    "worker {}: batch {} panicked outside execution",
                    request.work.worker,
                    request.work.batch_id
                );
                vec![
                    TransactionOutcome::Dropped(DropReason::Panicked);
                    request.work.transactions.len()
                ]
            }
        };
        let batch_ns = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        busy_ns = busy_ns.saturating_add(batch_ns);
        let message = FinishedConsumeWork {
            work: request.work,
            outcomes,
            busy_ns: batch_ns,
        };
        if finished.send(message).is_err() {
            // The scheduler is gone: nobody needs more work done.
            return busy_ns;
        }
    }
}
