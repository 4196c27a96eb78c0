//! The building blocks of a central transaction scheduler: which worker thread may take a
//! transaction, and how much of a block's budget may be scheduled by now.
//!
//! # The problem
//! A leader runs one scheduler thread and `N` worker threads. The scheduler hands each
//! transaction to one worker's queue; a worker runs its queue in order. Two transactions
//! *conflict* when they use the same account and at least one of them writes it; conflicting
//! transactions must not run at the same time. The scheduler does not wait for a conflicting
//! transaction to finish: it puts the newcomer **on the same thread** as the transactions it
//! conflicts with, where the queue's order serializes them. So the question for each
//! transaction is: *which threads may take it, given the locks held by the transactions
//! already queued or running?*
//!
//! # The algorithm
//! [`ThreadAwareAccountLocks`] keeps, per locked account, the set of threads holding it
//! ([`ThreadSet`], one `u64`), the write-lock count (a write lock is held by one thread
//! only) and per-thread lock counts. For a transaction it intersects, over its accounts,
//! the threads that may access each account:
//!
//! | account is              | a writer may go to | a reader may go to |
//! |-------------------------|--------------------|--------------------|
//! | not locked              | any thread         | any thread         |
//! | write-locked by `T`     | only `T`           | only `T`           |
//! | read-locked by only `T` | only `T`           | any thread         |
//! | read-locked by several  | no thread          | any thread         |
//!
//! If the intersection is empty the transaction conflicts with work on several threads
//! ([`TryLockError::MultipleConflicts`]); otherwise it is narrowed to the threads the caller
//! allows (for instance, those not already full: [`TryLockError::ThreadNotAllowed`] if none
//! is left), a caller-supplied selector picks one (least queued work, in Agave's
//! `select_thread`), and every account is locked on it. A failed attempt changes nothing.
//! When the worker is done, the scheduler unlocks the same accounts on the same thread.
//!
//! This is the first of two locking stages. The second, taken by the worker right before
//! execution, is an ordinary read/write lock per account (`accounts-db-lite`'s
//! `AccountLocks`); this one only decides placement, so it is never contended: one thread
//! owns it.
//!
//! [`CostPacer`] is the other half of scheduling a block: it releases the block's compute
//! budget linearly over a fill time, so that a valuable transaction arriving late still
//! finds room.
//!
//! # Invariants
//! * An account is write-locked by at most one thread, and then read only by that thread.
//! * An account is in the table only while some thread holds a lock on it: after every lock
//!   has been released, the table is empty (no slow leak of entries).
//! * `try_lock_accounts` is all or nothing.
//! * Misuse that would corrupt the table (unlocking what was not locked, a selector that
//!   returns a thread outside the set it was given) panics with a message naming the broken
//!   invariant. Nothing else panics, except constructors given a thread count outside
//!   `1..=64` (use `try_new` when the count is input).
//!
//! # Costs
//! Per account of a transaction: one hash and one table probe to find its threads; the
//! lock step reuses that probe's result (no second hash, no second probe, unless the key
//! was absent and a neighbour took its slot meanwhile); one hash and one probe to unlock.
//! The table is open addressing with linear probing over a dense slot array at a load
//! factor of at most one half, and removal shifts the probe run back instead of leaving
//! tombstones (`lock_table.rs` says why it beats `hashbrown` here). A slot is the key plus
//! 32 bytes: a hash tag, the holding threads and two counts (Agave's entry is the key plus
//! about 280, because it keeps 64 read counters inline). The per-thread read counts of the
//! rare accounts that several threads read at once live in a separate, reused array.
//! Nothing allocates once the table has grown to its working size.
//!
//! Measured against Agave's `agave-scheduling-utils` 4.2.2 on the same inputs, interleaved
//! in one process (`cargo run --release --manifest-path benches/agave-compare/Cargo.toml`):
//! try-lock plus unlock of a 10-account transaction over 4 threads takes about 0.45x of
//! Agave's time when the accounts are free and about 0.55x when they are already held;
//! failing on a conflict costs the same. `cargo bench -p benches` has the criterion
//! version.
//!
//! # What this crate does not know
//! Transactions, banks, channels and threads: it is a data structure the scheduler thread
//! owns. The key type `K` needs only `Eq + Hash + Clone`, so a chain whose lock key is not
//! Solana's `Pubkey` (TOS: a 32-byte compressed point, `Clone` but not `Copy`, or a composite
//! (account, asset) key) uses it unchanged. It depends on no other crate of this project.
//!
//! # Example
//! ```
//! use scheduling_utils::{ThreadAwareAccountLocks, ThreadSet, TryLockError};
//!
//! let mut locks = ThreadAwareAccountLocks::<&str>::new(4);
//! let all = ThreadSet::any(4);
//! let lowest = |set: ThreadSet| set.contained_threads_iter().next().unwrap();
//!
//! // Alice pays Bob: Alice and Bob are written.
//! let pay = [(&"alice", true), (&"bob", true)];
//! let t = locks.try_lock_accounts(pay.iter().copied(), all, lowest).unwrap();
//! assert_eq!(t, 0);
//!
//! // Carol pays Bob: Bob is held by thread 0, so this must queue behind it there.
//! let pay2 = [(&"carol", true), (&"bob", true)];
//! assert_eq!(locks.try_lock_accounts(pay2.iter().copied(), all, lowest), Ok(0));
//!
//! // Dave pays Erin: no conflict; thread 0 is busy, so the caller allows only 1..4.
//! let pay3 = [(&"dave", true), (&"erin", true)];
//! let not_busy = all - ThreadSet::only(0);
//! assert_eq!(locks.try_lock_accounts(pay3.iter().copied(), not_busy, lowest), Ok(1));
//!
//! // Bob pays Dave: Bob is on thread 0, Dave on thread 1. No thread can take both.
//! let pay4 = [(&"bob", true), (&"dave", true)];
//! assert_eq!(
//!     locks.try_lock_accounts(pay4.iter().copied(), all, lowest),
//!     Err(TryLockError::MultipleConflicts)
//! );
//!
//! for (tx, thread) in [(&pay[..], 0), (&pay2[..], 0), (&pay3[..], 1)] {
//!     locks.unlock_accounts(tx.iter().copied(), thread);
//! }
//! assert!(locks.is_empty());
//! ```

mod cost_pacer;
mod error;
mod lock_table;
mod thread_aware_account_locks;
mod thread_set;

pub use cost_pacer::CostPacer;
pub use error::{ThreadCountError, TryLockError};
pub use thread_aware_account_locks::{LockCount, ThreadAwareAccountLocks};
pub use thread_set::{ContainedThreads, MAX_THREADS, ThreadId, ThreadSet};
