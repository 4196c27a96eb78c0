//! Protocol limits shared by the pipeline, each with the Solana/Agave constant it copies.

/// Most accounts one transaction may lock (its account keys, after sanitizing).
///
/// Agave's `MAX_TX_ACCOUNT_LOCKS` (`solana-transaction`, `sanitized.rs`): 128, "the
/// minimum number of accounts needed for the Neon EVM implementation". It also lets a
/// sanitized transaction keep its writability in one `u128` bitmap.
pub const MAX_TX_ACCOUNT_LOCKS: usize = 128;

/// Oldest recent blockhash, in slots (one blockhash per slot), that a leader accepts.
///
/// Agave's `MAX_PROCESSING_AGE` (`solana-clock`): half of `MAX_RECENT_BLOCKHASHES`
/// (300 = 120 s × 160 ticks/s ÷ 64 ticks/slot), leaving the other half as margin for
/// transactions in flight.
pub const MAX_PROCESSING_AGE: usize = 150;

/// Largest data an account may hold, in bytes: 10 MiB.
///
/// Agave's `MAX_PERMITTED_DATA_LENGTH` (`solana-system-interface`). A resize past it is
/// [`InstructionError::InvalidRealloc`](crate::InstructionError::InvalidRealloc).
pub const MAX_PERMITTED_DATA_LENGTH: u64 = 10 * 1024 * 1024;

/// Most a transaction may grow its accounts' data by, net, over all its instructions:
/// 20 MiB. Checked after each instruction, so a hostile transaction cannot make a node
/// allocate more than this plus one instruction's growth (the system program's
/// `Allocate` is at most [`MAX_PERMITTED_DATA_LENGTH`]) before it fails.
/// A growth past it is
/// [`InstructionError::MaxAccountsDataAllocationsExceeded`](crate::InstructionError::MaxAccountsDataAllocationsExceeded).
///
/// Agave's `MAX_PERMITTED_ACCOUNTS_DATA_ALLOCATIONS_PER_TRANSACTION`
/// (`solana-system-interface`).
pub const MAX_PERMITTED_ACCOUNTS_DATA_ALLOCATIONS_PER_TRANSACTION: u64 =
    2 * MAX_PERMITTED_DATA_LENGTH;

/// Fee charged per signature, in lamports.
///
/// The default `lamports_per_signature` of Agave's `FeeStructure`
/// (`solana-fee-structure`), which is also mainnet's base fee.
pub const DEFAULT_LAMPORTS_PER_SIGNATURE: u64 = 5000;

/// Most instructions (top-level and nested invocations together) one transaction may
/// record in its trace.
///
/// Agave's `MAX_INSTRUCTION_TRACE_LENGTH` (`solana-transaction-context`). There are no
/// nested invocations here, so it bounds a transaction's instructions: the one past it
/// fails with
/// [`InstructionError::MaxInstructionTraceLengthExceeded`](crate::InstructionError::MaxInstructionTraceLengthExceeded)
/// (and the fee is charged, as for any failed execution).
pub const MAX_INSTRUCTION_TRACE_LENGTH: usize = 64;
