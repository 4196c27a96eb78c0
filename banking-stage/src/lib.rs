//! The block-production pipeline: banks over the account store, and (to come) the central
//! scheduler, the workers, the cost tracker and the program that runs them.
//!
//! # What it holds today
//! * [`Bank`]: one slot. It implements `svm-lite`'s account callback over
//!   `accounts-db-lite`'s store, checks transactions before execution (already committed
//!   or listed twice: `AlreadyProcessed`; a blockhash from the last 150 slots, else a
//!   durable nonce the processor verifies), runs batches through `svm-lite`, commits them
//!   (accounts in order, fees collected, signatures into the status cache), and freezes
//!   into a bank hash over the parent hash, the state hash, the signature count and the
//!   slot's blockhash. A child bank builds on a frozen parent; banks share one store and
//!   one status cache (no forks).
//! * [`BlockhashQueue`] and [`StatusCache`]: the age and replay checks' memory.
//!
//! # Invariants
//! * Lamports are conserved: the sum over all accounts plus every bank's collected fees
//!   never changes.
//! * A transaction is committed at most once: its signature enters the status cache in
//!   the commit, and the check refuses a signature already there or repeated in a batch.
//! * A frozen bank accepts no commit: [`Bank::freeze`] waits for commits in progress.
//!
//! # What it does not know yet
//! Threads, channels, scheduling and block limits: the scheduler thread, the workers, the
//! cost model and the command-line program are the rest of this crate's issue.

mod bank;
mod blockhash_queue;
mod status_cache;

pub use bank::{Bank, BankConfig, BankError, CommitSummary};
pub use blockhash_queue::BlockhashQueue;
pub use status_cache::StatusCache;
