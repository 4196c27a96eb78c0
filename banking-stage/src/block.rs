//! `Entry`, `Block` and `WorkingSlot`: what a leader slot records, and the state its
//! workers share while it runs.

use std::sync::{Arc, Mutex, PoisonError};

use accounts_db_lite::Slot;
use sdk_lite::Hash;

use crate::bank::Bank;
use crate::cost_tracker::CostTracker;
use crate::messages::BufferedTransaction;

/// Transactions committed together, in the order they ran. The entries of a block, in
/// order, are a serial order of the block: replaying them one after the other gives the
/// leader's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The transactions, in execution order.
    pub transactions: Vec<BufferedTransaction>,
}

/// A produced block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Its slot.
    pub slot: Slot,
    /// The parent bank's hash.
    pub parent_hash: Hash,
    /// What was committed, in a serial order.
    pub entries: Vec<Entry>,
    /// The frozen bank's hash.
    pub bank_hash: Hash,
}

impl Block {
    /// Transactions in the block.
    pub fn transaction_count(&self) -> usize {
        self.entries
            .iter()
            .map(|entry| entry.transactions.len())
            .sum()
    }
}

/// The state a leader slot's workers share: the bank, the block's cost tracker, and the
/// recorder (the single list of entries).
#[derive(Debug)]
pub struct WorkingSlot {
    bank: Arc<Bank>,
    cost_tracker: Mutex<CostTracker>,
    entries: Mutex<Vec<Entry>>,
}

impl WorkingSlot {
    /// A slot over `bank` whose block is limited by `cost_tracker`.
    pub fn new(bank: Arc<Bank>, cost_tracker: CostTracker) -> Self {
        Self {
            bank,
            cost_tracker: Mutex::new(cost_tracker),
            entries: Mutex::new(Vec::new()),
        }
    }

    /// The slot's bank.
    pub fn bank(&self) -> &Arc<Bank> {
        &self.bank
    }

    /// Runs `f` on the cost tracker. (A panic elsewhere cannot leave the tracker half
    /// updated: every update is a few arithmetic steps, so a poisoned lock is recovered.)
    pub fn with_cost_tracker<R>(&self, f: impl FnOnce(&mut CostTracker) -> R) -> R {
        f(&mut self
            .cost_tracker
            .lock()
            .unwrap_or_else(PoisonError::into_inner))
    }

    /// Appends an entry. Called while the entry's account locks are held, so that any two
    /// conflicting transactions are recorded in the order they ran.
    pub fn record(&self, entry: Entry) {
        if entry.transactions.is_empty() {
            return;
        }
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(entry);
    }

    /// Takes the recorded entries (at the end of the slot).
    pub fn take_entries(&self) -> Vec<Entry> {
        std::mem::take(&mut *self.entries.lock().unwrap_or_else(PoisonError::into_inner))
    }
}
