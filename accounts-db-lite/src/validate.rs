//! `validate_account_locks`: a transaction's lock list is within the limit and names no
//! account twice.

use std::cell::RefCell;

use ahash::AHashSet;
use sdk_lite::{Pubkey, TransactionError};

/// From this many keys on, duplicates are found with a hash set instead of comparing every
/// pair. `cargo bench -p benches --bench accounts_db` (the `duplicates` group) measures
/// both methods at each size, and interleaved at the sizes near the crossover: on the
/// 2-core development machines the hash set starts to win at 26-28 keys (pairs/hash set
/// time: 0.19 at 4 keys, 0.82-1.08 at 24, 1.01-1.07 at 28, 1.0-1.4 at 32, 5 at 128). 32
/// is within noise of the optimum and matches Agave.
pub const DUPLICATE_CHECK_HASH_SET_THRESHOLD: usize = 32;

/// Checks a transaction's account keys before locking: at most `limit` of them
/// (`MAX_TX_ACCOUNT_LOCKS`, 128, by default), no key twice.
///
/// # Errors
/// [`TransactionError::TooManyAccountLocks`] above the limit (checked first),
/// [`TransactionError::AccountLoadedTwice`] on a duplicate key.
pub fn validate_account_locks(keys: &[Pubkey], limit: usize) -> Result<(), TransactionError> {
    if keys.len() > limit {
        return Err(TransactionError::TooManyAccountLocks);
    }
    let duplicate = if keys.len() < DUPLICATE_CHECK_HASH_SET_THRESHOLD {
        has_duplicates_by_pairs(keys)
    } else {
        has_duplicates_by_hash_set(keys)
    };
    if duplicate {
        Err(TransactionError::AccountLoadedTwice)
    } else {
        Ok(())
    }
}

/// Duplicate detection by comparing every pair: no allocation, O(n²) comparisons, fastest
/// for short lists.
pub fn has_duplicates_by_pairs(keys: &[Pubkey]) -> bool {
    keys.iter()
        .enumerate()
        .any(|(i, key)| keys[i + 1..].contains(key))
}

/// Duplicate detection with a hash set, reused per thread (cleared, never freed, so it
/// allocates only while it grows): O(n).
pub fn has_duplicates_by_hash_set(keys: &[Pubkey]) -> bool {
    thread_local! {
        static SEEN: RefCell<AHashSet<Pubkey>> = RefCell::new(AHashSet::new());
    }
    SEEN.with_borrow_mut(|seen| {
        seen.clear();
        !keys.iter().all(|key| seen.insert(*key))
    })
}
