//! `AccountLocks`: the execution-level read/write locks a worker takes right before it runs
//! a batch, and releases right after it commits.

use std::collections::hash_map::Entry;

use ahash::AHashMap;
use sdk_lite::{Pubkey, TransactionError};

/// Per-account lock counts: how many running transactions write, and read, each account.
///
/// This is the second of the two locking stages (the first, `scheduling-utils`'
/// thread-aware locks, decides placement on the scheduler thread). It is the one that
/// guarantees safety: a transaction runs only while it holds every account it uses, so no
/// two running transactions conflict, whatever the scheduler did. A caller shares it
/// between workers behind a mutex; each call is short (one hash-map operation per key and
/// step).
///
/// Counts rather than flags, because a batch may hold conflicting transactions on purpose
/// (see [`try_lock_transaction_batch`](Self::try_lock_transaction_batch)).
#[derive(Debug, Default)]
pub struct AccountLocks {
    /// One entry per locked account, holding both counts, so that checking, locking and
    /// unlocking a key each cost one lookup.
    locks: AHashMap<Pubkey, LockCounts>,
}

#[derive(Debug, Default, Clone, Copy)]
struct LockCounts {
    write: u64,
    readonly: u64,
}

impl AccountLocks {
    /// Locks one transaction's accounts (`(key, is_writable)`), or none of them.
    ///
    /// # Errors
    /// [`TransactionError::AccountInUse`] if a written account is locked at all, or a read
    /// account is write-locked. Nothing is locked then.
    pub fn try_lock_accounts<'a>(
        &mut self,
        keys: impl Iterator<Item = (&'a Pubkey, bool)> + Clone,
    ) -> Result<(), TransactionError> {
        self.check(keys.clone())?;
        self.lock(keys);
        Ok(())
    }

    /// Locks a batch: each transaction is checked against the locks held *before* this
    /// call only, so two transactions of the batch that conflict with each other both
    /// succeed (SIMD-83: the batch runs in order on one worker, which serializes them; a
    /// write lock then has count 2). Returns one result per transaction, in order; an `Err`
    /// given in stays as it is (a transaction that failed validation), and one that
    /// conflicts with the earlier locks gets [`TransactionError::AccountInUse`].
    pub fn try_lock_transaction_batch<'a, I>(
        &mut self,
        transactions: impl IntoIterator<Item = Result<I, TransactionError>>,
    ) -> Vec<Result<(), TransactionError>>
    where
        I: Iterator<Item = (&'a Pubkey, bool)> + Clone,
    {
        // Check all first, so no transaction of the batch sees another's locks.
        let checked: Vec<Result<I, TransactionError>> = transactions
            .into_iter()
            .map(|keys| {
                let keys = keys?;
                self.check(keys.clone()).map(|()| keys)
            })
            .collect();
        checked
            .into_iter()
            .map(|keys| keys.map(|keys| self.lock(keys)))
            .collect()
    }

    /// Releases one transaction's locks (the same `(key, is_writable)` list it locked).
    /// An account whose counts both reach zero leaves the table.
    ///
    /// # Panics
    /// If a lock is not held: unlocking what was not locked is a bug in the caller. Keys
    /// before the offending one are already released then.
    pub fn unlock_accounts<'a>(&mut self, keys: impl Iterator<Item = (&'a Pubkey, bool)>) {
        for (key, writable) in keys {
            let kind = if writable { "write" } else { "read" };
            let Entry::Occupied(mut entry) = self.locks.entry(*key) else {
                panic!(
                    "unlock_accounts: no {kind} lock on {key} (invariant: every unlock \
                     matches a lock)"
                );
            };
            let counts = entry.get_mut();
            let count = if writable {
                &mut counts.write
            } else {
                &mut counts.readonly
            };
            let Some(decremented) = count.checked_sub(1) else {
                panic!(
                    "unlock_accounts: no {kind} lock on {key} (invariant: every unlock \
                     matches a lock)"
                );
            };
            *count = decremented;
            if counts.write == 0 && counts.readonly == 0 {
                entry.remove();
            }
        }
    }

    /// How many transactions hold a write lock on `key`.
    pub fn write_lock_count(&self, key: &Pubkey) -> u64 {
        self.locks.get(key).map_or(0, |counts| counts.write)
    }

    /// How many transactions hold a read lock on `key`.
    pub fn readonly_lock_count(&self, key: &Pubkey) -> u64 {
        self.locks.get(key).map_or(0, |counts| counts.readonly)
    }

    /// How many accounts are locked (read or write).
    pub fn len(&self) -> usize {
        self.locks.len()
    }

    /// Whether no lock is held.
    pub fn is_empty(&self) -> bool {
        self.locks.is_empty()
    }

    fn check<'a>(
        &self,
        keys: impl Iterator<Item = (&'a Pubkey, bool)>,
    ) -> Result<(), TransactionError> {
        for (key, writable) in keys {
            if let Some(counts) = self.locks.get(key) {
                // An entry exists only while some count is non-zero: a writer conflicts
                // with any of them, a reader only with a writer.
                if writable || counts.write > 0 {
                    return Err(TransactionError::AccountInUse);
                }
            }
        }
        Ok(())
    }

    fn lock<'a>(&mut self, keys: impl Iterator<Item = (&'a Pubkey, bool)>) {
        for (key, writable) in keys {
            let counts = self.locks.entry(*key).or_default();
            if writable {
                counts.write += 1;
            } else {
                counts.readonly += 1;
            }
        }
    }
}
