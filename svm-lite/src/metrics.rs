//! Batch metrics: error counts by kind, phase timings, and the optional balance record.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sdk_lite::TransactionError;

/// Runs an expression and returns its value with the time it took, in nanoseconds:
/// `let (value, ns) = measure_ns!(work());`. Agave's `measure_us!` pattern at nanosecond
/// resolution, because a transaction's phases here take well under a microsecond.
#[macro_export]
macro_rules! measure_ns {
    ($expression:expr) => {{
        let start = ::std::time::Instant::now();
        let value = $expression;
        let elapsed = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        (value, elapsed)
    }};
}

/// How many transactions failed, by reason. Shared by every worker (`&self` methods,
/// relaxed atomic adds: a counter costs one uncontended atomic instruction).
#[derive(Debug, Default)]
pub struct TransactionErrorMetrics {
    account_not_found: AtomicU64,
    invalid_account_for_fee: AtomicU64,
    insufficient_funds_for_fee: AtomicU64,
    insufficient_funds_for_rent: AtomicU64,
    blockhash_not_found: AtomicU64,
    already_processed: AtomicU64,
    program_account_not_found: AtomicU64,
    invalid_program_for_execution: AtomicU64,
    max_loaded_accounts_data_size_exceeded: AtomicU64,
    compute_budget: AtomicU64,
    instruction_error: AtomicU64,
    other: AtomicU64,
}

/// A snapshot of [`TransactionErrorMetrics`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErrorCounts {
    /// `AccountNotFound` (the fee payer).
    pub account_not_found: u64,
    /// `InvalidAccountForFee`.
    pub invalid_account_for_fee: u64,
    /// `InsufficientFundsForFee`.
    pub insufficient_funds_for_fee: u64,
    /// `InsufficientFundsForRent`.
    pub insufficient_funds_for_rent: u64,
    /// `BlockhashNotFound` (including unusable durable nonces).
    pub blockhash_not_found: u64,
    /// `AlreadyProcessed`.
    pub already_processed: u64,
    /// `ProgramAccountNotFound`.
    pub program_account_not_found: u64,
    /// `InvalidProgramForExecution`.
    pub invalid_program_for_execution: u64,
    /// `MaxLoadedAccountsDataSizeExceeded`.
    pub max_loaded_accounts_data_size_exceeded: u64,
    /// Malformed or duplicate compute budget instructions, or an invalid data-size limit.
    pub compute_budget: u64,
    /// An instruction failed while executing.
    pub instruction_error: u64,
    /// Anything else.
    pub other: u64,
}

impl TransactionErrorMetrics {
    /// Counts one failure.
    pub fn record(&self, error: &TransactionError) {
        let counter = match error {
            TransactionError::AccountNotFound => &self.account_not_found,
            TransactionError::InvalidAccountForFee => &self.invalid_account_for_fee,
            TransactionError::InsufficientFundsForFee => &self.insufficient_funds_for_fee,
            TransactionError::InsufficientFundsForRent { .. } => &self.insufficient_funds_for_rent,
            TransactionError::BlockhashNotFound => &self.blockhash_not_found,
            TransactionError::AlreadyProcessed => &self.already_processed,
            TransactionError::ProgramAccountNotFound => &self.program_account_not_found,
            TransactionError::InvalidProgramForExecution => &self.invalid_program_for_execution,
            TransactionError::MaxLoadedAccountsDataSizeExceeded => {
                &self.max_loaded_accounts_data_size_exceeded
            }
            TransactionError::DuplicateInstruction(_)
            | TransactionError::InvalidLoadedAccountsDataSizeLimit => &self.compute_budget,
            TransactionError::InstructionError(..) => &self.instruction_error,
            _ => &self.other,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The counts so far.
    pub fn snapshot(&self) -> ErrorCounts {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        ErrorCounts {
            account_not_found: read(&self.account_not_found),
            invalid_account_for_fee: read(&self.invalid_account_for_fee),
            insufficient_funds_for_fee: read(&self.insufficient_funds_for_fee),
            insufficient_funds_for_rent: read(&self.insufficient_funds_for_rent),
            blockhash_not_found: read(&self.blockhash_not_found),
            already_processed: read(&self.already_processed),
            program_account_not_found: read(&self.program_account_not_found),
            invalid_program_for_execution: read(&self.invalid_program_for_execution),
            max_loaded_accounts_data_size_exceeded: read(
                &self.max_loaded_accounts_data_size_exceeded,
            ),
            compute_budget: read(&self.compute_budget),
            instruction_error: read(&self.instruction_error),
            other: read(&self.other),
        }
    }
}

/// Where a batch's time went, summed over its transactions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExecutionTimings {
    /// Checking the budget, the fee, the nonce and the fee payer, and loading the
    /// accounts (one phase: timing them apart costs more clock reads than it tells).
    pub load_ns: u64,
    /// Running the instructions and the rent check.
    pub execute_ns: u64,
}

impl ExecutionTimings {
    /// All phases together.
    pub fn total(&self) -> Duration {
        Duration::from_nanos(self.load_ns.saturating_add(self.execute_ns))
    }
}

/// What a batch records beyond its results.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordingConfig {
    /// Record every processed transaction's account balances before and after.
    pub balances: bool,
    /// Record every executed transaction's log lines.
    pub logs: bool,
    /// Record when each transaction started (from the start of the batch) and how long
    /// it took: two clock reads per transaction, for traces.
    pub transaction_times: bool,
}

/// Per processed transaction: the lamports of each account key, before (as the batch saw
/// them) and after (as committed; a key not committed keeps its balance). `None` for a
/// transaction that was not processed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BalanceCollector {
    /// Balances before, in account-key order.
    pub pre_balances: Vec<Option<Vec<u64>>>,
    /// Balances after, in account-key order.
    pub post_balances: Vec<Option<Vec<u64>>>,
}
