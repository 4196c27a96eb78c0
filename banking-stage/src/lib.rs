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
//! * [`TransactionCost`] and [`CostTracker`]: a transaction's cost from its signatures (720
//!   each), write locks (300 each), instruction data (1 per 4 bytes) and requested compute
//!   units, and a block's running cost against its limits (60M per block, 12M per
//!   writable account, 100 MB of new account data), reserved before execution and
//!   settled with the units actually used.
//! * [`TransactionContainer`]: the scheduler's bounded buffer, best compute-unit price
//!   first (ties: earliest arrival); full, it drops the lowest.
//! * [`GreedyScheduler`]: one scheduling pass over the container, best first: each
//!   transaction goes, through `scheduling-utils`' thread-aware locks, to the
//!   least-loaded worker that may take it ([`select_thread`]: units queued plus in flight,
//!   then transactions, then lowest id), skipping workers at their in-flight cap, in
//!   batches of up to [`MAX_BATCH_SIZE`]; what cannot go now returns to the container.
//!   [`GreedyScheduler::complete`] unlocks exactly what a batch held and re-queues its
//!   retryable transactions.
//!
//! # Invariants
//! * Lamports are conserved: the sum over all accounts plus every bank's collected fees
//!   never changes.
//! * A transaction is committed at most once: its signature enters the status cache in
//!   the commit, and the check refuses a signature already there or repeated in a batch.
//! * A frozen bank accepts no commit: [`Bank::freeze`] waits for commits in progress.
//!
//! # What it does not know yet
//! Threads and channels: the scheduler thread and its messages, the workers, the slot
//! loop and the command-line program are the rest of this crate's issue.

mod bank;
mod blockhash_queue;
mod cost_model;
mod cost_tracker;
mod greedy_scheduler;
mod status_cache;
mod transaction_container;

pub use bank::{Bank, BankConfig, BankError, CommitSummary};
pub use blockhash_queue::BlockhashQueue;
pub use cost_model::{
    INSTRUCTION_DATA_BYTES_PER_UNIT, SIGNATURE_COST, TransactionCost, WRITE_LOCK_UNITS,
};
pub use cost_tracker::{
    CostTracker, CostTrackerError, MAX_BLOCK_ACCOUNTS_DATA_SIZE_DELTA, MAX_BLOCK_UNITS,
    MAX_WRITABLE_ACCOUNT_UNITS,
};
pub use greedy_scheduler::{
    BufferedTransaction, ConsumeWork, GreedyScheduler, MAX_BATCH_SIZE, SchedulingSummary,
    select_thread,
};
pub use status_cache::StatusCache;
pub use transaction_container::{Inserted, TransactionContainer, TransactionId};
