//! `replay_sequentially`: the reference replayer: one thread runs a chain of blocks entry by
//! entry, in order, and checks each bank hash.

use std::sync::Arc;

use accounts_db_lite::Slot;
use sdk_lite::{Hash, Signature, TransactionError};
use svm_lite::{ProcessingConfig, ProgramRegistry};
use thiserror::Error;

use crate::bank::{Bank, BankError};
use crate::block::Block;
use crate::block_replayer::first_duplicate_signature;
use crate::messages::BufferedTransaction;

/// Why a chain of blocks did not replay to the declared state.
#[derive(Debug, Error)]
pub enum ReplayError {
    /// The block does not build on the bank it is replayed on.
    #[error("block of slot {slot} names parent hash {declared}, but its parent's hash is {actual}")]
    ParentMismatch {
        /// The block's slot.
        slot: Slot,
        /// The parent hash the block names.
        declared: Hash,
        /// The parent bank's hash.
        actual: Hash,
    },
    /// A transaction of the block could not be committed (a leader never records such a
    /// transaction, so the block is invalid).
    #[error("slot {slot}: transaction {signature} cannot be in a block: {error}")]
    UncommittableTransaction {
        /// The block's slot.
        slot: Slot,
        /// The transaction's first signature.
        signature: Signature,
        /// Why it cannot be committed.
        error: Box<TransactionError>,
    },
    /// The block lists a signature twice (a leader never does: the second could not be
    /// committed). Found before anything runs.
    #[error("slot {slot}: signature {signature} appears twice in the block")]
    DuplicateSignature {
        /// The block's slot.
        slot: Slot,
        /// The repeated signature.
        signature: Signature,
    },
    /// A transaction's execution panicked (a program bug): the block cannot be replayed
    /// here; nothing of that transaction was committed.
    #[error("slot {slot}: executing transaction {signature} panicked")]
    ExecutionPanicked {
        /// The block's slot.
        slot: Slot,
        /// The transaction's first signature.
        signature: Signature,
    },
    /// The replayed bank hash differs from the block's.
    #[error("slot {slot}: replayed bank hash {actual} differs from the block's {declared}")]
    HashMismatch {
        /// The block's slot.
        slot: Slot,
        /// The hash the block declares.
        declared: Hash,
        /// The hash replay computed.
        actual: Hash,
    },
    /// A block was rejected after it started running, and undoing it failed too, so the
    /// store may still hold part of it (see [`Bank::discard`]'s errors).
    #[error("block of slot {slot} was rejected ({rejected}) and could not be undone: {cause}")]
    NotUndone {
        /// The block's slot.
        slot: Slot,
        /// Why the block was rejected.
        rejected: Box<ReplayError>,
        /// Why it could not be undone.
        cause: BankError,
    },
    /// A bank refused an operation (an unfrozen parent, a slot out of order).
    #[error(transparent)]
    Bank(#[from] BankError),
}

/// Replays `blocks` in order on one thread, starting from the frozen bank `parent`: each
/// block's entries run in order, each entry as one batch, exactly as the leader recorded
/// them. Returns the last bank.
///
/// # Errors
/// The first block that does not build on its parent, lists a signature twice, holds a
/// transaction that cannot be committed, or freezes to a different hash than it declares.
/// What can be found before executing (parent, duplicate or already-processed
/// signatures) rejects the block before anything of it runs; a block rejected during
/// execution, by its hash or by a failure to persist it is undone ([`Bank::discard`]; on
/// a panic too, before it unwinds): the store and the status cache are as its parent left
/// them, so another block can be replayed on that parent. The blocks before it stay
/// accepted (and persisted); to replay another block in place of a rejected one, replay
/// one block per call.
pub fn replay_sequentially(
    parent: Arc<Bank>,
    programs: &ProgramRegistry,
    blocks: &[Block],
) -> Result<Arc<Bank>, ReplayError> {
    let mut parent = parent;
    for block in blocks {
        let transactions: Vec<BufferedTransaction> = block
            .entries
            .iter()
            .flat_map(|entry| entry.transactions.iter().cloned())
            .collect();
        let bank = prepare_block(&parent, block, &transactions)?;
        {
            let _discard_on_panic = DiscardOnPanic(&bank);
            if let Err(error) = run_block(&bank, programs, block) {
                return Err(reject_block(&bank, error));
            }
            if let Err(error) = bank.persist() {
                return Err(reject_block(&bank, error.into()));
            }
        }
        parent = bank;
    }
    Ok(parent)
}

/// Runs `block`'s entries in order on `bank` and checks the hash it freezes to.
fn run_block(bank: &Bank, programs: &ProgramRegistry, block: &Block) -> Result<(), ReplayError> {
    for entry in &block.entries {
        let output =
            bank.load_and_execute(programs, &entry.transactions, &ProcessingConfig::default());
        for (transaction, result) in entry.transactions.iter().zip(&output.results) {
            if let Err(error) = result {
                return Err(ReplayError::UncommittableTransaction {
                    slot: block.slot,
                    signature: *transaction.signature(),
                    error: Box::new(error.clone()),
                });
            }
        }
        bank.commit(&entry.transactions, &output)?;
    }
    let actual = bank.freeze();
    if actual != block.bank_hash {
        return Err(ReplayError::HashMismatch {
            slot: block.slot,
            declared: block.bank_hash,
            actual,
        });
    }
    Ok(())
}

/// Discards the bank of a block being replayed if the thread unwinds before the block is
/// accepted: a panic (a program's, or a broken invariant re-raised from another thread)
/// must not leave the block half applied either.
pub(crate) struct DiscardOnPanic<'a>(pub(crate) &'a Bank);

impl Drop for DiscardOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking()
            && !self.0.is_discarded()
            && let Err(error) = self.0.discard()
        {
            log::error!(
                "slot {}: a panic ended its replay, and its commits could not be undone: {error}",
                self.0.slot()
            );
        }
    }
}

/// Undoes what a rejected block committed ([`Bank::discard`]) and returns why it was
/// rejected. Both replayers end a block that failed after it started running here.
pub(crate) fn reject_block(bank: &Bank, error: ReplayError) -> ReplayError {
    match bank.discard() {
        Ok(()) => error,
        // Nothing made the bank's slot final (it is persisted only once accepted): a
        // caller's misuse of the banks, or a durable log that failed mid-commit.
        Err(cause) => ReplayError::NotUndone {
            slot: bank.slot(),
            rejected: Box::new(error),
            cause,
        },
    }
}

/// The checks a block needs before anything of it runs, then its bank: the block builds on
/// `parent`, lists no signature twice, and holds no signature already committed.
/// `transactions` are the block's transactions in order. Both replayers start here; a
/// caller building its own replayer can too.
///
/// # Errors
/// [`ReplayError::ParentMismatch`], [`ReplayError::DuplicateSignature`],
/// [`ReplayError::UncommittableTransaction`] (already processed), or the bank's error.
pub fn prepare_block(
    parent: &Arc<Bank>,
    block: &Block,
    transactions: &[BufferedTransaction],
) -> Result<Arc<Bank>, ReplayError> {
    let parent_hash = parent.hash().ok_or(BankError::ParentNotFrozen {
        slot: parent.slot(),
    })?;
    if parent_hash != block.parent_hash {
        return Err(ReplayError::ParentMismatch {
            slot: block.slot,
            declared: block.parent_hash,
            actual: parent_hash,
        });
    }
    if let Some(duplicate) = first_duplicate_signature(transactions) {
        return Err(ReplayError::DuplicateSignature {
            slot: block.slot,
            signature: *duplicate.signature(),
        });
    }
    let bank = Arc::new(Bank::new_from_parent(parent, block.slot)?);
    for (transaction, check) in transactions
        .iter()
        .zip(bank.check_transactions(transactions))
    {
        if let Err(error) = check {
            return Err(ReplayError::UncommittableTransaction {
                slot: block.slot,
                signature: *transaction.signature(),
                error: Box::new(error),
            });
        }
    }
    Ok(bank)
}
