//! Where a transaction meets state: loading its accounts through a swappable source,
//! charging its fee, running it under a compute budget, and deciding what a failure still
//! commits.
//!
//! # What it holds today
//! * [`TransactionProcessingCallback`]: **the seam**. The processor reads accounts only
//!   through this trait, so a chain plugs its own store in by implementing one method. It
//!   never writes through it: it hands back the accounts to commit.
//! * [`AccountLoader`]: the batch-local cache in front of the source. Transactions of a
//!   batch run in order; each key is read from the store at most once per batch, and a
//!   transaction sees what the earlier ones committed: all writable accounts of a success,
//!   only the [`RollbackAccounts`] of a failure. An account with 0 lamports is absent.
//! * [`compute_budget_limits`]: the compute budget instructions (unit limit, unit price,
//!   loaded-data limit) parsed into [`ComputeBudgetLimits`], with Solana's defaults and
//!   maxima (200,000 units per instruction of a program that is not built in, 3,000 per
//!   built-in one, 1,400,000 per transaction, 64 MiB of loaded data).
//! * [`FeeDetails`]: lamports per signature times signatures, plus the prioritization fee
//!   (`ceil(unit price x unit limit / 10^6)`), with checked arithmetic.
//! * [`RollbackAccounts`]: what a transaction that fails after loading still commits: the
//!   fee payer charged its fee, and an advanced durable nonce, in one of three shapes.
//!
//! Still to come (its issue is open): durable-nonce verification, fee-payer validation,
//! the three-state `TransactionLoadResult`, the instruction context and its runtime rules,
//! the built-in programs (system, compute budget, bench), sysvars, the batch entry point
//! and its metrics.
//!
//! # Invariants
//! * The processor never writes to the store; what it returns is what the caller commits.
//! * Arithmetic on lamports and fees is checked: overflow is an error, never a wrap.
//! * Nothing here depends on `accounts-db-lite`: the store is behind the callback.
//!
//! # What it does not know
//! Scheduling, threads, locks, banks and slots: a batch arrives with its accounts already
//! locked by the caller, and runs on the caller's thread.

mod account_loader;
mod callback;
pub mod compute_budget;
mod fee;
mod rollback_accounts;

pub use account_loader::AccountLoader;
pub use callback::TransactionProcessingCallback;
pub use compute_budget::{ComputeBudgetLimits, compute_budget_limits};
pub use fee::FeeDetails;
pub use rollback_accounts::{KeyedAccount, RollbackAccounts};
