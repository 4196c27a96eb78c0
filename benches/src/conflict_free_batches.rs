//! The baseline a chain typically starts with: split the block, in order, into batches in
//! which no two transactions conflict; run each batch with one task per transaction on a
//! pool of threads; wait for the whole batch; repeat.
//!
//! The pool lives across blocks and its threads wait the way the replayer's do (see
//! `SpinWait`), so that only the scheduling differs.
//!
//! It makes the same checks before the block as this project's replayers and executes and
//! commits through the same `Bank` into the same concurrent account store. Each
//! transaction is its own `svm-lite` batch here (one task per transaction, the design's
//! usual shape), where the replayer batches what it hands a worker at once; a batch of one
//! transaction runs on the calling thread, without a handoff (what a careful implementation
//! of this design does).

use std::sync::Arc;
use std::thread::JoinHandle;

use ahash::AHashSet;
use banking_stage::{Bank, Block, BufferedTransaction, SpinWait, prepare_block};
use crossbeam_channel::{Receiver, Sender};
use sdk_lite::{Pubkey, TransactionError};
use svm_lite::{ProcessingConfig, ProgramRegistry};

/// The block's transactions in order, split greedily into conflict-free batches: a
/// transaction starts a new batch when it writes an account the current batch touches, or
/// reads one it writes.
pub fn split_into_batches(transactions: &[BufferedTransaction]) -> Vec<Vec<BufferedTransaction>> {
    let mut batches = Vec::new();
    let mut batch: Vec<BufferedTransaction> = Vec::new();
    let mut written: AHashSet<Pubkey> = AHashSet::new();
    let mut read: AHashSet<Pubkey> = AHashSet::new();
    for transaction in transactions {
        let conflicts = transaction
            .lock_requests()
            .any(|(key, writable)| written.contains(key) || (writable && read.contains(key)));
        if conflicts {
            batches.push(std::mem::take(&mut batch));
            written.clear();
            read.clear();
        }
        for (key, writable) in transaction.lock_requests() {
            if writable {
                written.insert(*key);
            } else {
                read.insert(*key);
            }
        }
        batch.push(Arc::clone(transaction));
    }
    if !batch.is_empty() {
        batches.push(batch);
    }
    batches
}

/// Replays blocks in conflict-free batches on a pool of `workers` threads, kept across
/// blocks (as the replayer's own pool is). The calling thread splits the block, sends each
/// batch's transactions to the pool one task each, and waits for all of them (the barrier)
/// before the next batch; a batch of one runs on the calling thread.
#[derive(Debug)]
pub struct ConflictFreeBatchReplayer {
    programs: Arc<ProgramRegistry>,
    jobs: Option<Sender<Job>>,
    done: Receiver<bool>,
    threads: Vec<JoinHandle<()>>,
    wait: SpinWait,
}

/// One transaction for the pool, with the bank it runs against.
#[derive(Debug)]
struct Job {
    bank: Arc<Bank>,
    transaction: BufferedTransaction,
}

impl ConflictFreeBatchReplayer {
    /// Starts `workers` threads (at least one) running `programs`.
    pub fn new(workers: usize, programs: Arc<ProgramRegistry>) -> Self {
        // The same waiting policy as the replayer's: the pool and the calling thread are
        // busy at once.
        let wait = SpinWait::for_threads(workers.max(1) + 1);
        let (jobs, receiver) = crossbeam_channel::unbounded::<Job>();
        let (done_sender, done) = crossbeam_channel::unbounded::<bool>();
        let threads = (0..workers.max(1))
            .map(|_| {
                let receiver = receiver.clone();
                let done = done_sender.clone();
                let programs = Arc::clone(&programs);
                std::thread::spawn(move || {
                    while let Ok(Job { bank, transaction }) = wait.recv(&receiver) {
                        let committed = run_one(&bank, &programs, &transaction);
                        drop(bank);
                        if done.send(committed).is_err() {
                            return;
                        }
                    }
                })
            })
            .collect();
        Self {
            programs,
            jobs: Some(jobs),
            done,
            threads,
            wait,
        }
    }

    /// Replays `block` on a child of the frozen `parent`, batch by batch with a barrier
    /// after each; returns the frozen bank.
    ///
    /// # Errors
    /// [`TransactionError::CommitCancelled`] if the block fails the checks before
    /// execution or a transaction could not be committed.
    pub fn replay(
        &mut self,
        parent: &Arc<Bank>,
        block: &Block,
    ) -> Result<Arc<Bank>, TransactionError> {
        let transactions: Vec<BufferedTransaction> = block
            .entries
            .iter()
            .flat_map(|entry| entry.transactions.iter().cloned())
            .collect();
        // The same checks before execution as the replayers make.
        let bank = prepare_block(parent, block, &transactions)
            .map_err(|_| TransactionError::CommitCancelled)?;
        let jobs = self
            .jobs
            .as_ref()
            .expect("invariant: the job channel lives as long as the replayer");
        let mut all_committed = true;
        for batch in split_into_batches(&transactions) {
            if let [transaction] = batch.as_slice() {
                // A batch of one runs here: a handoff would only add a wake-up each way.
                all_committed &= run_one(&bank, &self.programs, transaction);
                continue;
            }
            let count = batch.len();
            for transaction in batch {
                jobs.send(Job {
                    bank: Arc::clone(&bank),
                    transaction,
                })
                .expect("invariant: the pool outlives the replayer's calls");
            }
            // The barrier: the whole batch finishes before the next starts.
            for _ in 0..count {
                all_committed &= self
                    .wait
                    .recv(&self.done)
                    .expect("invariant: the pool outlives the replayer's calls");
            }
        }
        if !all_committed {
            return Err(TransactionError::CommitCancelled);
        }
        bank.freeze();
        Ok(bank)
    }
}

impl Drop for ConflictFreeBatchReplayer {
    fn drop(&mut self) {
        drop(self.jobs.take());
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// Runs one transaction as its own `svm-lite` batch and commits it; whether it committed
/// (a panic is a failure, so the barrier never waits for an answer that cannot come).
fn run_one(bank: &Bank, programs: &ProgramRegistry, transaction: &BufferedTransaction) -> bool {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let batch_of_one = std::slice::from_ref(transaction);
        let output = bank.load_and_execute(programs, batch_of_one, &ProcessingConfig::default());
        output.results[0].is_ok() && bank.commit(batch_of_one, &output).is_ok()
    }))
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sdk_lite::{AccountMeta, Hash, Instruction, Message, SanitizedTransaction, Transaction};

    fn tx(writes: &[Pubkey], reads: &[Pubkey]) -> BufferedTransaction {
        let payer = Pubkey::new_unique();
        let mut metas: Vec<AccountMeta> =
            writes.iter().map(|k| AccountMeta::new(*k, false)).collect();
        metas.extend(reads.iter().map(|k| AccountMeta::new_readonly(*k, false)));
        let instruction = Instruction::new_with_bytes(Pubkey::new_unique(), &[], metas);
        let message = Message::new(&[instruction], Some(&payer), Hash::default());
        Arc::new(
            SanitizedTransaction::try_new(Transaction::new_with_placeholder_signatures(message))
                .unwrap(),
        )
    }

    #[test]
    fn batches_break_at_each_conflict_and_keep_the_order() {
        let (a, b, c) = (
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            Pubkey::new_unique(),
        );
        let transactions = vec![
            tx(&[a], &[]),
            tx(&[b], &[c]),
            tx(&[], &[c]), // reads c: no conflict with a reader
            tx(&[a], &[]), // writes a again: new batch
            tx(&[c], &[]), // writes c, read in... the new batch only holds a: same batch
            tx(&[], &[c]), // reads c, written in this batch: new batch
        ];
        let sizes: Vec<usize> = split_into_batches(&transactions)
            .iter()
            .map(Vec::len)
            .collect();
        assert_eq!(sizes, vec![3, 2, 1]);
        let flattened: Vec<_> = split_into_batches(&transactions)
            .into_iter()
            .flatten()
            .collect();
        assert!(
            flattened
                .iter()
                .zip(&transactions)
                .all(|(x, y)| Arc::ptr_eq(x, y))
        );
    }
}
