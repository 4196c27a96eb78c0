//! `AccountLocks`: the execution-level read/write locks a worker takes right before it runs
//! a batch, and releases right after it commits.

use ahash::AHashMap;
use sdk_lite::{Pubkey, TransactionError};

/// Per-account lock counts: how many running transactions write, and read, each account.
///
/// This is the second of the two locking stages (the first, `scheduling-utils`'
/// thread-aware locks, decides placement on the scheduler thread). It is the one that
/// guarantees safety: a transaction runs only while it holds every account it uses, so no
/// two running transactions conflict, whatever the scheduler did. A caller shares it
/// between workers behind a mutex; each call is short (one hash-map operation per key).
///
/// Counts rather than flags, because a batch may hold conflicting transactions on purpose
/// (see [`try_lock_transaction_batch`](Self::try_lock_transaction_batch)).
#[derive(Debug, Default)]
pub struct AccountLocks {
    write_locks: AHashMap<Pubkey, u64>,
    readonly_locks: AHashMap<Pubkey, u64>,
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
    /// A count that reaches zero removes its entry.
    ///
    /// # Panics
    /// If a lock is not held: unlocking what was not locked is a bug in the caller.
    pub fn unlock_accounts<'a>(&mut self, keys: impl Iterator<Item = (&'a Pubkey, bool)>) {
        for (key, writable) in keys {
            let (locks, kind) = if writable {
                (&mut self.write_locks, "write")
            } else {
                (&mut self.readonly_locks, "read")
            };
            let Some(count) = locks.get_mut(key) else {
                panic!(
                    "unlock_accounts: no {kind} lock on {key} (invariant: every unlock \
                     matches a lock)"
                );
            };
            *count -= 1;
            if *count == 0 {
                locks.remove(key);
            }
        }
    }

    /// How many transactions hold a write lock on `key`.
    pub fn write_lock_count(&self, key: &Pubkey) -> u64 {
        self.write_locks.get(key).copied().unwrap_or(0)
    }

    /// How many transactions hold a read lock on `key`.
    pub fn readonly_lock_count(&self, key: &Pubkey) -> u64 {
        self.readonly_locks.get(key).copied().unwrap_or(0)
    }

    /// Whether no lock is held.
    pub fn is_empty(&self) -> bool {
        self.write_locks.is_empty() && self.readonly_locks.is_empty()
    }

    fn check<'a>(
        &self,
        keys: impl Iterator<Item = (&'a Pubkey, bool)>,
    ) -> Result<(), TransactionError> {
        for (key, writable) in keys {
            let in_use = self.write_locks.contains_key(key)
                || (writable && self.readonly_locks.contains_key(key));
            if in_use {
                return Err(TransactionError::AccountInUse);
            }
        }
        Ok(())
    }

    fn lock<'a>(&mut self, keys: impl Iterator<Item = (&'a Pubkey, bool)>) {
        for (key, writable) in keys {
            let locks = if writable {
                &mut self.write_locks
            } else {
                &mut self.readonly_locks
            };
            *locks.entry(*key).or_insert(0) += 1;
        }
    }
}
