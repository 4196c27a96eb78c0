//! What a replay worker does with a handoff: runs its transactions (tasks of the state
//! machine, or independent transactions) against the block's bank and says, per
//! transaction, whether it ran.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sdk_lite::TransactionError;
use svm_lite::{ProcessingConfig, ProgramRegistry, RecordingConfig};

use super::TransactionTiming;
use crate::bank::Bank;
use crate::messages::BufferedTransaction;

/// A worker's result for one transaction of a handoff.
#[derive(Debug)]
pub(super) enum TaskResult {
    Ran(TransactionTiming),
    Failed(Failure),
    /// Not run: an earlier transaction failed, so the block is rejected anyway.
    Skipped,
}

/// Why a transaction of a block could not be replayed.
#[derive(Debug)]
pub(super) enum Failure {
    /// The bank refused it.
    Error(TransactionError),
    /// Its execution panicked (a program bug); nothing of it was committed.
    Panicked,
}

/// What one block's replay shares with every worker.
#[derive(Debug)]
pub(super) struct BlockContext {
    /// The block's bank (a child of its parent, not frozen yet).
    pub(super) bank: Arc<Bank>,
    /// The block's transactions, in block order (independent ones travel as indices).
    pub(super) transactions: Arc<[BufferedTransaction]>,
    /// The lowest index of a transaction that failed: later ones are skipped (the block is
    /// rejected anyway), earlier ones still run, so the error reported is the first in
    /// block order, as in a sequential replay.
    pub(super) failed_at: AtomicUsize,
    /// When the block's replay started (timings are measured from here).
    pub(super) start: Instant,
}

/// A transaction to run: its index in the block, and the transaction.
pub(super) type Item<'a> = (usize, &'a BufferedTransaction);

/// Runs a handoff's transactions as one `svm-lite` batch with one commit, in the order
/// given; returns one result per transaction, in order. The handoff's tasks were all
/// runnable at the same moment (and independent transactions conflict with nothing), so
/// none conflicts with another; a task's followers come right after it and may conflict
/// with it, which is why the order must be kept: the batch runs its transactions one
/// after another, each seeing what the earlier ones wrote. So running them together is
/// the same as running them one by one in that order, with one check, one account loader
/// and one commit for all instead of one each. A panic in execution falls back to one at
/// a time, in order, to name the transaction.
pub(super) fn run_handoff(
    worker: usize,
    context: &BlockContext,
    programs: &ProgramRegistry,
    items: &[Item<'_>],
) -> Vec<TaskResult> {
    if let [item] = items {
        return vec![run_one(worker, context, programs, *item)];
    }
    let BlockContext {
        bank,
        failed_at,
        start: block_start,
        ..
    } = context;
    let failed = failed_at.load(Ordering::Relaxed);
    let mut results: Vec<Option<TaskResult>> = items
        .iter()
        .map(|&(index, _)| (index > failed).then_some(TaskResult::Skipped))
        .collect();
    let run: Vec<usize> = (0..items.len()).filter(|&i| results[i].is_none()).collect();
    let finish = |results: Vec<Option<TaskResult>>| -> Vec<TaskResult> {
        results
            .into_iter()
            .map(|result| result.expect("invariant: every transaction of the handoff has a result"))
            .collect()
    };
    if run.is_empty() {
        return finish(results);
    }
    let batch: Vec<BufferedTransaction> = run.iter().map(|&i| Arc::clone(items[i].1)).collect();
    let config = ProcessingConfig {
        recording: RecordingConfig {
            transaction_times: true,
            ..RecordingConfig::default()
        },
        error_metrics: None,
    };
    let started = Instant::now();
    let Ok(output) = catch_unwind(AssertUnwindSafe(|| {
        bank.load_and_execute(programs, &batch, &config)
    })) else {
        // Nothing was committed: run them one at a time to find the one that panics.
        for &i in &run {
            results[i] = Some(run_one(worker, context, programs, items[i]));
        }
        return finish(results);
    };
    let fail = |index: usize, failure: Failure| {
        failed_at.fetch_min(index, Ordering::Relaxed);
        TaskResult::Failed(failure)
    };
    if let Err(error) = bank.commit(&batch, &output) {
        log::error!("replay commit refused: {error}");
        for &i in &run {
            let index = items[i].0;
            results[i] = Some(fail(
                index,
                Failure::Error(TransactionError::CommitCancelled),
            ));
        }
        return finish(results);
    }
    let times = output
        .transaction_times
        .unwrap_or_else(|| vec![(Duration::ZERO, Duration::ZERO); batch.len()]);
    // The batch's check and commit are shared work: spread them evenly.
    let executed: Duration = times.iter().map(|&(_, duration)| duration).sum();
    let shared = started.elapsed().saturating_sub(executed)
        / u32::try_from(times.len().max(1)).unwrap_or(u32::MAX);
    let base = started - *block_start;
    for ((&i, result), (begin, duration)) in run.iter().zip(&output.results).zip(times) {
        let index = items[i].0;
        results[i] = Some(match result {
            Ok(_) => TaskResult::Ran(TransactionTiming {
                index,
                worker,
                start: base + begin,
                duration: duration + shared,
            }),
            Err(error) => fail(index, Failure::Error(error.clone())),
        });
    }
    finish(results)
}

/// What a handoff whose worker panicked outside execution (a broken invariant in the
/// bank or the store) answers for the transactions at `indices`: every one failed, so the
/// scheduler still deschedules their tasks and the block fails instead of waiting forever.
pub(super) fn panicked_handoff(
    context: &BlockContext,
    indices: impl Iterator<Item = usize>,
) -> Vec<TaskResult> {
    indices
        .map(|index| {
            context.failed_at.fetch_min(index, Ordering::Relaxed);
            TaskResult::Failed(Failure::Panicked)
        })
        .collect()
}

/// Runs one transaction; a panic in it (a program bug) is caught and reported, so the
/// transaction is still answered for and nothing waits for it forever.
fn run_one(
    worker: usize,
    context: &BlockContext,
    programs: &ProgramRegistry,
    (index, transaction): Item<'_>,
) -> TaskResult {
    let BlockContext {
        bank,
        failed_at,
        start: block_start,
        ..
    } = context;
    if index > failed_at.load(Ordering::Relaxed) {
        return TaskResult::Skipped;
    }
    let fail = |failure: Failure| {
        failed_at.fetch_min(index, Ordering::Relaxed);
        TaskResult::Failed(failure)
    };
    let started = Instant::now();
    let batch = std::slice::from_ref(transaction);
    let output = match catch_unwind(AssertUnwindSafe(|| {
        bank.load_and_execute(programs, batch, &ProcessingConfig::default())
    })) {
        Ok(output) => output,
        Err(_) => {
            log::error!("replay of transaction {index} panicked");
            return fail(Failure::Panicked);
        }
    };
    match &output.results[0] {
        Err(error) => fail(Failure::Error(error.clone())),
        Ok(_) => match bank.commit(batch, &output) {
            Ok(_) => TaskResult::Ran(TransactionTiming {
                index,
                worker,
                start: started - *block_start,
                duration: started.elapsed(),
            }),
            Err(error) => {
                log::error!("replay commit refused: {error}");
                fail(Failure::Error(TransactionError::CommitCancelled))
            }
        },
    }
}
