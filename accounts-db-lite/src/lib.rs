//! The account layer: where workers load accounts from and commit them to, the locks they
//! hold while they do, and a hash of the whole state that every node can compare.
//!
//! # What it holds
//! * [`AccountsDb`]: the store. Any number of threads [`load`](AccountsDb::load) at once
//!   (a sharded concurrent map, `dashmap`); [`store`](AccountsDb::store) commits a batch
//!   for a slot, one commit at a time, slots in ascending order on one chain. An account
//!   stored with 0 lamports is deleted. Genesis is a list of accounts. The newest slot
//!   stays open until [`commit_slot`](AccountsDb::commit_slot) makes it final (or a later
//!   slot is stored): [`discard_slot`](AccountsDb::discard_slot) undoes it, accounts,
//!   state hash and unwritten log records, for a block rejected halfway through its
//!   replay. (There are no forks: one open slot at a time.)
//! * [`LtHash`]: the *lattice hash* of the state. Every account maps to a 1024-lane vector
//!   of `u16`s (blake3's extendable output over the account's fields); the state's hash is
//!   the lane-wise wrapping sum over all accounts. Storing an account subtracts its old
//!   vector and adds the new one, so a slot's hash costs O(accounts changed), not O(all
//!   accounts), and it does not depend on the order accounts were written in: a parallel
//!   replay that commits in a different order than the leader still reaches the same hash.
//!   [`LtHash::checksum`] turns the vector into the 32-byte state digest.
//!   [`AccountsDb::recompute_lt_hash`] is the slow reference (from scratch, sorted by key)
//!   the tests hold the incremental value to.
//! * [`AccountLocks`]: the execution-level locks, the second of the two locking stages: a
//!   worker locks a batch's accounts right before executing it and unlocks right after
//!   committing. [`AccountLocks::try_lock_transaction_batch`] checks every transaction
//!   against the locks held before the call only, so conflicts *inside* a batch are
//!   accepted (SIMD-83): the batch runs in order on one worker.
//! * [`validate_account_locks`]: the lock-list check before any lock is taken: at most
//!   `MAX_TX_ACCOUNT_LOCKS` keys, no key twice.
//! * [`durable`]: the durable backend behind the same store. [`AccountsDb::open`] recovers
//!   a directory (or starts it from a genesis); [`store`](AccountsDb::store) also buffers
//!   records in an append-only log, and [`AccountsDb::commit_slot`] makes a slot durable:
//!   its records, `fsync`, a commit record with the state hash, `fsync`. At open, what
//!   follows the last complete commit (a crash mid-slot) is discarded and reported; damage
//!   before it is a typed error naming the file and offset. Segments roll at a size, and
//!   [`durable::compact`] (on a background thread by default, or
//!   [`AccountsDb::compact`]) rewrites the sealed ones without what later records
//!   superseded. The module doc has the format, the recovery rules and why a crash during
//!   a compaction loses nothing; failpoints (the `failpoints` feature) and a SIGKILL test
//!   check that a failure at any point loses nothing committed.
//!
//! # Guarantees
//! * A load returns an account exactly as one commit left it (never torn).
//! * A commit is atomic for the pipeline: transactions load only accounts they hold locks
//!   on, and a batch commits only accounts it holds write locks on (see [`AccountsDb`] for
//!   what a reader without locks may observe).
//! * After each commit, `lt_hash()` equals the hash recomputed from scratch.
//! * Lock counts never go negative; an unlock without a lock is a bug and panics.
//! * A durable store reopens to exactly the state of its last committed slot: never a
//!   half-applied slot, never an older one (a commit that failed leaves its accounts for
//!   the next commit to write).
//!
//! # Costs
//! A load is one shard read-lock and an `Arc` clone. A commit hashes each account it writes
//! twice (the old and the final value, 2 KiB of blake3 output each; an account several of
//! the batch's entries write is still hashed twice, since the versions in between would
//! cancel; done before the commit lock is taken, so concurrent committers hash in
//! parallel) and then applies the batch under the lock. `cargo bench -p benches --bench accounts_db` measures loads, commits and
//! locks.
//!
//! # What it does not know
//! Transactions' semantics, banks, fees, scheduling: it stores accounts and counts locks.
//! It depends only on `sdk-lite`.

mod account_locks;
mod accounts_db;
pub mod durable;
mod error;
mod lt_hash;
mod validate;

pub use account_locks::AccountLocks;
pub use accounts_db::{AccountsDb, Slot};
pub use error::{OpenError, StoreError};
pub use lt_hash::{LT_HASH_LANES, LtHash};
pub use validate::{
    DUPLICATE_CHECK_HASH_SET_THRESHOLD, has_duplicates_by_hash_set, has_duplicates_by_pairs,
    validate_account_locks,
};
