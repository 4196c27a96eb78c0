//! The baseline a chain typically starts with: split the block, in order, into batches in
//! which no two transactions conflict; run each batch with one task per transaction on a
//! pool of threads; wait for the whole batch; repeat.
//!
//! It makes the same checks before the block as this project's replayers and executes and
//! commits through the same `Bank` into the same concurrent account store. Each
//! transaction is its own `svm-lite` batch here (one task per transaction, the design's
//! usual shape), where the replayer batches what it hands a worker at once; a batch of one
//! transaction runs on the calling thread, without a handoff (what a careful implementation
//! of this design does).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ahash::AHashSet;
use banking_stage::{Bank, Block, BufferedTransaction, prepare_block};
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

/// Replays `block` on a child of the frozen `parent` with `workers` threads, batch by batch
/// with a barrier after each; returns the frozen bank.
///
/// # Errors
/// The first transaction that could not be committed.
pub fn replay_in_conflict_free_batches(
    parent: &Arc<Bank>,
    programs: &ProgramRegistry,
    block: &Block,
    workers: usize,
) -> Result<Arc<Bank>, TransactionError> {
    let transactions: Vec<BufferedTransaction> = block
        .entries
        .iter()
        .flat_map(|entry| entry.transactions.iter().cloned())
        .collect();
    // The same checks before execution as the replayers make.
    let bank = prepare_block(parent, block, &transactions)
        .map_err(|_| TransactionError::CommitCancelled)?;
    let batches = split_into_batches(&transactions);
    let failed = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (sender, receiver) = crossbeam_channel::unbounded::<(usize, usize)>();
        let (done_sender, done_receiver) = crossbeam_channel::unbounded::<()>();
        for _ in 0..workers.max(1) {
            let receiver = receiver.clone();
            let done = done_sender.clone();
            let (bank, batches, failed) = (&bank, &batches, &failed);
            scope.spawn(move || {
                for (batch, index) in receiver {
                    let batch_of_one = std::slice::from_ref(&batches[batch][index]);
                    let output =
                        bank.load_and_execute(programs, batch_of_one, &ProcessingConfig::default());
                    if output.results[0].is_err() || bank.commit(batch_of_one, &output).is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    let _ = done.send(());
                }
            });
        }
        drop(receiver);
        drop(done_sender);
        for (batch_index, batch) in batches.iter().enumerate() {
            if let [transaction] = batch.as_slice() {
                // A batch of one runs here: a handoff would only add a wake-up each way.
                let batch_of_one = std::slice::from_ref(transaction);
                let output =
                    bank.load_and_execute(programs, batch_of_one, &ProcessingConfig::default());
                if output.results[0].is_err() || bank.commit(batch_of_one, &output).is_err() {
                    failed.store(true, Ordering::Relaxed);
                }
                continue;
            }
            for index in 0..batch.len() {
                sender
                    .send((batch_index, index))
                    .expect("invariant: the pool outlives the batches");
            }
            // The barrier: the whole batch finishes before the next starts.
            for _ in 0..batch.len() {
                done_receiver
                    .recv()
                    .expect("invariant: the pool outlives the batches");
            }
        }
    });
    if failed.load(Ordering::Relaxed) {
        return Err(TransactionError::CommitCancelled);
    }
    bank.freeze();
    Ok(bank)
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
