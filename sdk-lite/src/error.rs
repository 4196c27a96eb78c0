//! The crate's error enums: parsing text, compiling and sanitizing messages, and the
//! transaction and instruction errors that the rest of the pipeline reports.

use thiserror::Error;

use crate::Pubkey;

/// Why base58 text did not parse as a [`Pubkey`], [`Hash`](crate::Hash) or
/// [`Signature`](crate::Signature).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseBase58Error {
    /// The text contains a character outside the base58 alphabet.
    #[error("invalid base58 text")]
    InvalidBase58,
    /// The text is valid base58 but does not decode to the type's byte length.
    #[error("base58 text does not decode to {expected} bytes")]
    WrongLength {
        /// The byte length of the type being parsed.
        expected: usize,
    },
}

/// Why [`Message::try_new`](crate::Message::try_new) could not compile instructions.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CompileError {
    /// The instructions reference more distinct keys than `u8` indices and header
    /// counts can describe (more than 256 keys, or more than 255 in one header count).
    #[error(
        "instructions reference {num_account_keys} distinct account keys, more than a message can index"
    )]
    TooManyAccountKeys {
        /// The number of distinct keys the instructions reference.
        num_account_keys: usize,
    },
}

/// Why a [`Transaction`](crate::Transaction) was rejected by
/// [`SanitizedTransaction::try_new`](crate::SanitizedTransaction::try_new).
///
/// The variants are listed in the order the rules are checked; the first failing rule is
/// reported.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SanitizeError {
    /// The message has no account keys or requires no signature, so it has no fee payer.
    #[error(
        "message has no fee payer ({num_account_keys} account keys, {num_required_signatures} required signatures)"
    )]
    NoFeePayer {
        /// Length of `account_keys`.
        num_account_keys: usize,
        /// `header.num_required_signatures`.
        num_required_signatures: u8,
    },
    /// Every signer is read-only, so the fee payer (the first signer) could not be debited.
    #[error(
        "fee payer would be read-only: {num_readonly_signed_accounts} of {num_required_signatures} signers are read-only"
    )]
    ReadonlyFeePayer {
        /// `header.num_required_signatures`.
        num_required_signatures: u8,
        /// `header.num_readonly_signed_accounts`.
        num_readonly_signed_accounts: u8,
    },
    /// The signed and read-only unsigned ranges of the header need more keys than exist.
    #[error(
        "header describes {num_required_signatures} signed and {num_readonly_unsigned_accounts} read-only unsigned accounts but the message has {num_account_keys} keys"
    )]
    HeaderExceedsAccountKeys {
        /// `header.num_required_signatures`.
        num_required_signatures: u8,
        /// `header.num_readonly_unsigned_accounts`.
        num_readonly_unsigned_accounts: u8,
        /// Length of `account_keys`.
        num_account_keys: usize,
    },
    /// More account keys than a `u8` index can reach.
    #[error("message has {num_account_keys} account keys, more than the 256 a u8 index can reach")]
    TooManyAccountKeys {
        /// Length of `account_keys`.
        num_account_keys: usize,
    },
    /// An instruction's program id index is past the end of the account keys.
    #[error(
        "instruction {instruction_index} has program id index {program_id_index} but the message has {num_account_keys} keys"
    )]
    ProgramIdIndexOutOfBounds {
        /// Position of the instruction in the message.
        instruction_index: usize,
        /// The offending index.
        program_id_index: u8,
        /// Length of `account_keys`.
        num_account_keys: usize,
    },
    /// An instruction invokes the fee payer (key 0) as its program.
    #[error("instruction {instruction_index} invokes the fee payer as its program")]
    FeePayerInvokedAsProgram {
        /// Position of the instruction in the message.
        instruction_index: usize,
    },
    /// An instruction's account index is past the end of the account keys.
    #[error(
        "instruction {instruction_index} has account index {account_index} but the message has {num_account_keys} keys"
    )]
    AccountIndexOutOfBounds {
        /// Position of the instruction in the message.
        instruction_index: usize,
        /// The offending index.
        account_index: u8,
        /// Length of `account_keys`.
        num_account_keys: usize,
    },
    /// The number of signatures differs from the header's required signature count.
    #[error("transaction has {actual} signatures but its message requires {expected}")]
    SignatureCountMismatch {
        /// `header.num_required_signatures`.
        expected: u8,
        /// Length of `signatures`.
        actual: usize,
    },
    /// More account keys than [`MAX_TX_ACCOUNT_LOCKS`](crate::MAX_TX_ACCOUNT_LOCKS).
    #[error("transaction locks {num_account_keys} accounts, more than the limit of {limit}")]
    TooManyAccountLocks {
        /// Length of `account_keys`.
        num_account_keys: usize,
        /// The limit that was exceeded.
        limit: usize,
    },
    /// The same key appears twice in the account keys.
    #[error("account key {key} appears at index {first_index} and again at index {second_index}")]
    DuplicateAccountKey {
        /// The repeated key.
        key: Pubkey,
        /// Its first position.
        first_index: usize,
        /// The position of its earliest repetition (the smallest such index over all keys).
        second_index: usize,
    },
}

/// Why a transaction failed or was not processed.
///
/// Produced across the pipeline: sanitizing, account locking, cost tracking, loading,
/// fee payment and execution. A transaction that failed during execution reports
/// [`TransactionError::InstructionError`] and still pays its fee.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TransactionError {
    /// An account the transaction locks is already locked by a running transaction.
    #[error("account in use")]
    AccountInUse,
    /// The transaction lists the same account key twice.
    #[error("account loaded twice")]
    AccountLoadedTwice,
    /// The transaction locks more than `MAX_TX_ACCOUNT_LOCKS` accounts.
    #[error("transaction locks too many accounts")]
    TooManyAccountLocks,
    /// A required account (the fee payer) does not exist.
    #[error("account not found")]
    AccountNotFound,
    /// An invoked program's account does not exist.
    #[error("program account not found")]
    ProgramAccountNotFound,
    /// The fee payer cannot pay the fee.
    #[error("insufficient funds for fee")]
    InsufficientFundsForFee,
    /// The fee payer account cannot be used to pay fees (not system-owned, or executable).
    #[error("account cannot be used to pay transaction fees")]
    InvalidAccountForFee,
    /// The recent blockhash is unknown or older than `MAX_PROCESSING_AGE`.
    #[error("blockhash not found")]
    BlockhashNotFound,
    /// A transaction with this signature was already committed.
    #[error("transaction has already been processed")]
    AlreadyProcessed,
    /// The instruction at the given index failed; the transaction's writes are rolled back.
    #[error("error processing instruction {0}: {1}")]
    InstructionError(u8, InstructionError),
    /// The transaction failed a sanitize rule other than the lock limit or duplicate keys.
    #[error("transaction failed to sanitize: {0}")]
    SanitizeFailure(SanitizeError),
    /// An invoked program account is not executable or not a known program.
    #[error("program may not be used for executing instructions")]
    InvalidProgramForExecution,
    /// The instruction at the given index may appear only once per transaction.
    #[error("instruction {0} is a duplicate of one that may appear only once")]
    DuplicateInstruction(u8),
    /// The transaction leaves the account at the given index below its rent-exempt minimum.
    #[error("transaction leaves account {account_index} with insufficient funds for rent")]
    InsufficientFundsForRent {
        /// Position of the account in the message's account keys.
        account_index: u8,
    },
    /// The loaded accounts' total data size exceeds the transaction's limit.
    #[error("transaction exceeded the maximum loaded accounts data size")]
    MaxLoadedAccountsDataSizeExceeded,
    /// The requested loaded-accounts data size limit is invalid (zero).
    #[error("requested loaded accounts data size limit is invalid")]
    InvalidLoadedAccountsDataSizeLimit,
    /// The transaction write-locks an account that may not be written.
    #[error("transaction write-locks an account that may not be written")]
    InvalidWritableAccount,
    /// The sum of lamports changed across the transaction.
    #[error("sum of account balances before and after the transaction do not match")]
    UnbalancedTransaction,
    /// Committing the transaction would exceed the block's cost limit.
    #[error("transaction would exceed the block cost limit")]
    WouldExceedMaxBlockCostLimit,
    /// Committing the transaction would exceed the cost limit of one writable account.
    #[error("transaction would exceed the per-account cost limit")]
    WouldExceedMaxAccountCostLimit,
    /// Committing the transaction would exceed the block's account data growth limit.
    #[error("transaction would exceed the block's account data limit")]
    WouldExceedAccountDataBlockLimit,
    /// Committing the transaction would exceed the block's vote cost limit.
    #[error("transaction would exceed the vote cost limit")]
    WouldExceedMaxVoteCostLimit,
    /// The transaction executed but its commit was cancelled (the slot ended).
    #[error("transaction commit was cancelled")]
    CommitCancelled,
}

impl From<SanitizeError> for TransactionError {
    /// Maps the two rules the runtime reports with dedicated errors (as Agave's
    /// `validate_account_locks` does) and wraps the rest.
    fn from(err: SanitizeError) -> Self {
        match err {
            SanitizeError::TooManyAccountLocks { .. } => Self::TooManyAccountLocks,
            SanitizeError::DuplicateAccountKey { .. } => Self::AccountLoadedTwice,
            other => Self::SanitizeFailure(other),
        }
    }
}

/// Why one instruction failed during execution.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InstructionError {
    /// A failure with no more specific variant.
    #[error("generic instruction error")]
    GenericError,
    /// An argument passed to the program was invalid.
    #[error("invalid program argument")]
    InvalidArgument,
    /// The instruction data could not be decoded.
    #[error("invalid instruction data")]
    InvalidInstructionData,
    /// An account's data is invalid for this program.
    #[error("invalid account data for instruction")]
    InvalidAccountData,
    /// An account's data is too small for the operation.
    #[error("account data too small for instruction")]
    AccountDataTooSmall,
    /// An account has too few lamports for the operation.
    #[error("insufficient funds for instruction")]
    InsufficientFunds,
    /// The account is not owned by, or is not, the expected program.
    #[error("incorrect program id for instruction")]
    IncorrectProgramId,
    /// A required signature is missing.
    #[error("missing required signature for instruction")]
    MissingRequiredSignature,
    /// The account was expected to be uninitialized but is initialized.
    #[error("instruction requires an uninitialized account")]
    AccountAlreadyInitialized,
    /// The account was expected to be initialized but is not.
    #[error("instruction requires an initialized account")]
    UninitializedAccount,
    /// The instruction changed the sum of lamports of its accounts.
    #[error("sum of account balances before and after instruction do not match")]
    UnbalancedInstruction,
    /// The instruction changed an account's owner without being allowed to.
    #[error("instruction illegally modified the program id of an account")]
    ModifiedProgramId,
    /// The instruction debited an account its program does not own.
    #[error("instruction spent from the balance of an account it does not own")]
    ExternalAccountLamportSpend,
    /// The instruction changed the data of an account its program does not own.
    #[error("instruction modified data of an account it does not own")]
    ExternalAccountDataModified,
    /// The instruction changed the lamports of a read-only account.
    #[error("instruction changed the balance of a read-only account")]
    ReadonlyLamportChange,
    /// The instruction changed the data of a read-only account.
    #[error("instruction modified data of a read-only account")]
    ReadonlyDataModified,
    /// The instruction changed an executable account or its executable flag.
    #[error("instruction changed executable account or flag")]
    ExecutableModified,
    /// The instruction was given fewer accounts than it needs.
    #[error("insufficient account keys for instruction")]
    NotEnoughAccountKeys,
    /// An account's data was resized beyond what is permitted.
    #[error("failed to reallocate account data")]
    InvalidRealloc,
    /// The instruction ran out of compute units.
    #[error("computational budget exceeded")]
    ComputationalBudgetExceeded,
    /// An arithmetic operation overflowed.
    #[error("arithmetic overflowed")]
    ArithmeticOverflow,
    /// The invoked program is not supported by this runtime.
    #[error("unsupported program id")]
    UnsupportedProgramId,
    /// An account is not owned by the program that requires it.
    #[error("invalid account owner")]
    InvalidAccountOwner,
    /// A program-specific error code.
    #[error("custom program error: {0:#x}")]
    Custom(u32),
    /// The transaction's instructions grew its accounts' data, net, by more than
    /// [`MAX_PERMITTED_ACCOUNTS_DATA_ALLOCATIONS_PER_TRANSACTION`](crate::MAX_PERMITTED_ACCOUNTS_DATA_ALLOCATIONS_PER_TRANSACTION).
    #[error("accounts data allocations exceeded the maximum allowed per transaction")]
    MaxAccountsDataAllocationsExceeded,
    /// The transaction has more instructions than
    /// [`MAX_INSTRUCTION_TRACE_LENGTH`](crate::MAX_INSTRUCTION_TRACE_LENGTH).
    #[error("max instruction trace length exceeded")]
    MaxInstructionTraceLengthExceeded,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_limit_and_duplicates_map_to_dedicated_transaction_errors() {
        let too_many = SanitizeError::TooManyAccountLocks {
            num_account_keys: 129,
            limit: 128,
        };
        assert_eq!(
            TransactionError::from(too_many),
            TransactionError::TooManyAccountLocks
        );
        let duplicate = SanitizeError::DuplicateAccountKey {
            key: Pubkey::default(),
            first_index: 0,
            second_index: 1,
        };
        assert_eq!(
            TransactionError::from(duplicate),
            TransactionError::AccountLoadedTwice
        );
        let other = SanitizeError::FeePayerInvokedAsProgram {
            instruction_index: 0,
        };
        assert_eq!(
            TransactionError::from(other.clone()),
            TransactionError::SanitizeFailure(other)
        );
    }

    #[test]
    fn messages_name_the_failure() {
        let err = TransactionError::InstructionError(2, InstructionError::Custom(0x10));
        assert_eq!(
            err.to_string(),
            "error processing instruction 2: custom program error: 0x10"
        );
    }
}
