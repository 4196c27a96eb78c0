//! The errors of this crate: small `Copy` values, cheap to return on the scheduler's hot path.

use thiserror::Error;

use crate::thread_set::MAX_THREADS;

/// Why [`try_lock_accounts`](crate::ThreadAwareAccountLocks::try_lock_accounts) could not
/// lock a transaction's accounts. Neither is a failure of the transaction: it can be tried
/// again once some locks are released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Error)]
pub enum TryLockError {
    /// No thread can take all of the accounts: they are held by different threads (or a
    /// writer meets readers on several threads).
    #[error("the accounts are locked on threads that exclude each other")]
    MultipleConflicts,
    /// Some thread could take all of the accounts, but none of those threads is allowed.
    #[error("the threads that could take the accounts are not allowed")]
    ThreadNotAllowed,
}

/// A thread count outside `1..=MAX_THREADS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Error)]
#[error("num_threads must be in 1..={max}, got {num_threads}", max = MAX_THREADS)]
pub struct ThreadCountError {
    /// The rejected count.
    pub num_threads: usize,
}
