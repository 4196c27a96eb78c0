//! The messages between the scheduler thread and the workers, and what happened to each
//! transaction.

use std::fmt;
use std::sync::Arc;

use scheduling_utils::ThreadId;
use sdk_lite::{SanitizedTransaction, TransactionError};

use crate::cost_tracker::CostTrackerError;
use crate::transaction_container::TransactionId;

/// A buffered transaction: shared, so that the worker and the scheduler hold the same one.
pub type BufferedTransaction = Arc<SanitizedTransaction>;

/// A batch the scheduler sends to one worker.
#[derive(Debug, Clone)]
pub struct ConsumeWork {
    /// Unique per scheduler: names the batch in the in-flight tracker.
    pub batch_id: u64,
    /// The worker it goes to.
    pub worker: ThreadId,
    /// Each transaction's id in the container, priority and estimated compute units.
    pub ids: Vec<(TransactionId, u64, u64)>,
    /// The transactions, in the order the worker must run them.
    pub transactions: Vec<BufferedTransaction>,
}

/// A worker's answer: the batch it was given, and what happened to each transaction.
#[derive(Debug)]
pub struct FinishedConsumeWork {
    /// The batch, returned so the scheduler can unlock exactly what it locked.
    pub work: ConsumeWork,
    /// One outcome per transaction of `work`, in order.
    pub outcomes: Vec<TransactionOutcome>,
    /// Nanoseconds the worker spent on the batch.
    pub busy_ns: u64,
}

impl FinishedConsumeWork {
    /// Indexes (into the batch) of the transactions to schedule again now.
    pub fn retryable_indexes(&self) -> Vec<usize> {
        self.outcomes
            .iter()
            .enumerate()
            .filter(|(_, outcome)| {
                matches!(
                    outcome,
                    TransactionOutcome::Retry(RetryReason::AccountInUse)
                )
            })
            .map(|(index, _)| index)
            .collect()
    }
}

/// What happened to one transaction of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionOutcome {
    /// Committed into the bank and recorded: executed (successfully or not), or fees-only.
    Committed {
        /// Whether its instructions succeeded.
        succeeded: bool,
        /// Compute units it used.
        units: u64,
    },
    /// Not run; the scheduler keeps it and tries again.
    Retry(RetryReason),
    /// Not run and never will be.
    Dropped(DropReason),
}

/// Why a transaction waits for another try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryReason {
    /// An account it needs is locked by a batch on another worker: try again at once.
    AccountInUse,
    /// It does not fit in this block's cost limits: try again in the next slot.
    CostLimit(CostTrackerError),
    /// The slot's bank no longer takes commits (nothing of it was stored): try again in
    /// the next slot.
    SlotEnded,
}

/// Why a transaction was dropped. Every transaction the pipeline receives ends committed,
/// dropped for one of these reasons, or still buffered when the run stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DropReason {
    /// It failed sanitization: malformed, unsigned, an account listed twice, too many
    /// accounts.
    Malformed,
    /// It calls a program this node does not have.
    UnknownProgram,
    /// Its compute-budget instructions are invalid.
    InvalidComputeBudget,
    /// It costs more than an empty block allows (it could never fit).
    TooExpensive,
    /// The buffer was full of better-paying transactions.
    BufferFull,
    /// Its signature was already committed (or it repeats one in its batch).
    AlreadyProcessed,
    /// Its blockhash is too old and it is not a valid durable-nonce transaction.
    BlockhashExpired,
    /// Its fee payer cannot pay (missing, not a system account, or too poor).
    FeePayerCannotPay,
    /// Another load error (a missing or non-executable program account, data limits).
    LoadFailed,
    /// Its execution panicked (a program bug); nothing of it was committed.
    Panicked,
}

impl DropReason {
    /// Every reason, in display order.
    pub const ALL: [Self; 10] = [
        Self::Malformed,
        Self::UnknownProgram,
        Self::InvalidComputeBudget,
        Self::TooExpensive,
        Self::BufferFull,
        Self::AlreadyProcessed,
        Self::BlockhashExpired,
        Self::FeePayerCannotPay,
        Self::LoadFailed,
        Self::Panicked,
    ];

    /// A short label for reports.
    pub fn label(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::UnknownProgram => "unknown-program",
            Self::InvalidComputeBudget => "invalid-compute-budget",
            Self::TooExpensive => "too-expensive",
            Self::BufferFull => "buffer-full",
            Self::AlreadyProcessed => "already-processed",
            Self::BlockhashExpired => "blockhash-expired",
            Self::FeePayerCannotPay => "fee-payer",
            Self::LoadFailed => "load-failed",
            Self::Panicked => "panicked",
        }
    }

    /// The reason for a transaction the bank refused to process with `error`.
    pub fn from_error(error: &TransactionError) -> Self {
        match error {
            TransactionError::AlreadyProcessed => Self::AlreadyProcessed,
            TransactionError::BlockhashNotFound => Self::BlockhashExpired,
            TransactionError::AccountNotFound
            | TransactionError::InsufficientFundsForFee
            | TransactionError::InvalidAccountForFee => Self::FeePayerCannotPay,
            TransactionError::SanitizeFailure(_)
            | TransactionError::AccountLoadedTwice
            | TransactionError::TooManyAccountLocks => Self::Malformed,
            TransactionError::DuplicateInstruction(_)
            | TransactionError::InvalidLoadedAccountsDataSizeLimit => Self::InvalidComputeBudget,
            _ => Self::LoadFailed,
        }
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}
