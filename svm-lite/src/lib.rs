//! Where a transaction meets state: loading its accounts through a swappable source,
//! charging its fee, running it under a compute budget, and deciding what a failure still
//! commits.
//!
//! # What it holds
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
//! * [`validate_fee_payer`]: the first check: the fee payer exists, is a system account
//!   (plain, or an initialized nonce that keeps its rent-exempt minimum), can pay, and is
//!   not left below the rent-exempt minimum unless emptied ([`RentState`], [`Rent`]).
//! * [`NonceState`]: a durable-nonce account's data, in Solana's 80-byte layout.
//! * [`RollbackAccounts`]: what a transaction that fails after loading still commits: the
//!   fee payer charged its fee, and an advanced durable nonce, in one of three shapes.
//! * [`Program`] and [`ProgramRegistry`]: built-in programs, **the other seam**: a chain
//!   registers its native programs here.
//! * [`execute_instruction`] and [`InstructionContext`]: a program changes accounts
//!   freely; when it returns, the runtime rules are enforced (only the owner debits or
//!   rewrites an account, read-only accounts do not change, owners change only on empty
//!   accounts, lamports balance), and compute units are metered ([`ComputeMeter`]).
//!
//! * [`SystemProgram`]: create account, assign, transfer, allocate (Solana's wire layout
//!   and error codes).
//! * [`BenchProgram`]: metered, deterministic work for benchmarks: burn compute units on a
//!   blake3 hash chain stored in an account it owns, write a value, or fail on request.
//!
//! * [`load_and_execute_sanitized_transactions`]: **the batch entry point**. Per
//!   transaction, in order: the caller's check result, the compute budget, the fee, the
//!   fee payer (charged first), every account (loaded-data limit, programs must be built
//!   in), then each instruction under one compute meter and the rent check. The result is
//!   not processed (nothing to commit), fees-only (loading failed: the charged fee payer),
//!   or executed (all writable accounts on success, the rollback accounts on failure).
//!   [`ProgramRegistry::with_builtins`] holds the system, compute-budget and bench
//!   programs.
//!
//! * Durable nonces: [`NonceState`], [`durable_nonce_from_blockhash`] (prefixed blake3, so
//!   a nonce value is never a blockhash), the system program's nonce instructions, and the
//!   processor's [`TransactionCheck::DurableNonce`] path: the nonce is verified against the
//!   batch's view (so it cannot be used twice in a batch), and its advance is committed
//!   even when the transaction fails (all three [`RollbackAccounts`] shapes).
//!
//! * [`load_transaction`] and [`TransactionLoadResult`]: the three outcomes of loading
//!   (`Loaded` with accounts, program indices, fee, rollback accounts, budget and data size;
//!   `FeesOnly`; `NotLoaded`), which the batch entry point executes or settles.
//! * Metrics: [`TransactionErrorMetrics`] (atomic counters per error kind, shared by
//!   workers), [`ExecutionTimings`] per phase with [`measure_ns!`], and, when
//!   [`RecordingConfig`] asks, a [`BalanceCollector`] and per-transaction logs.
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
pub mod bench_program;
mod callback;
pub mod compute_budget;
mod environment;
mod fee;
mod fee_payer;
mod instruction_context;
mod metrics;
mod nonce_state;
mod processor;
mod program;
mod rent;
mod rollback_accounts;
pub mod system_program;

pub use account_loader::AccountLoader;
pub use bench_program::{BenchInstruction, BenchProgram};
pub use callback::TransactionProcessingCallback;
pub use compute_budget::{ComputeBudgetLimits, compute_budget_limits};
pub use environment::ProcessingEnvironment;
pub use fee::FeeDetails;
pub use fee_payer::{RentState, validate_fee_payer};
pub use instruction_context::{
    ComputeMeter, InstructionAccount, InstructionContext, Invocation, execute_instruction,
};
pub use metrics::{
    BalanceCollector, ErrorCounts, ExecutionTimings, RecordingConfig, TransactionErrorMetrics,
};
pub use nonce_state::{NONCE_ACCOUNT_LENGTH, NonceState, durable_nonce_from_blockhash};
pub use processor::{
    BatchOutput, FeesOnlyTransaction, LoadedTransaction, ProcessedTransaction, ProcessingConfig,
    ProcessingResult, TransactionCheck, TransactionLoadResult,
    load_and_execute_sanitized_transactions, load_transaction,
};
pub use program::{Program, ProgramRegistry};
pub use rent::{ACCOUNT_STORAGE_OVERHEAD, Rent};
pub use rollback_accounts::{KeyedAccount, RollbackAccounts};
pub use system_program::{SystemError, SystemInstruction, SystemProgram};
