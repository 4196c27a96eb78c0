//! Compute budget instructions parsed into the limits a transaction runs under.

use sdk_lite::{InstructionError, Pubkey, SanitizedTransaction, TransactionError, compute_budget};

use crate::instruction_context::InstructionContext;
use crate::program::Program;

/// Compute units granted per instruction of a program that is not built in, when the
/// transaction sets no limit (Solana's default).
pub const DEFAULT_INSTRUCTION_COMPUTE_UNIT_LIMIT: u32 = 200_000;
/// Compute units granted per instruction of a built-in program, when the transaction sets
/// no limit.
pub const MAX_BUILTIN_ALLOCATION_COMPUTE_UNIT_LIMIT: u32 = 3_000;
/// The most compute units a transaction may use.
pub const MAX_COMPUTE_UNIT_LIMIT: u32 = 1_400_000;
/// Loaded account data a transaction may use when it sets no limit (and the most it may
/// ask for): 64 MiB.
pub const MAX_LOADED_ACCOUNTS_DATA_SIZE_BYTES: u32 = 64 * 1024 * 1024;
/// Micro-lamports per lamport: the unit of the compute unit price.
pub const MICRO_LAMPORTS_PER_LAMPORT: u64 = 1_000_000;

/// The compute budget program's instructions, by their first data byte (Solana's layout:
/// a one-byte tag, then a little-endian argument).
const SET_COMPUTE_UNIT_LIMIT: u8 = 2;
const SET_COMPUTE_UNIT_PRICE: u8 = 3;
const SET_LOADED_ACCOUNTS_DATA_SIZE_LIMIT: u8 = 4;

/// The limits a transaction runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComputeBudgetLimits {
    /// Compute units the transaction may consume (and pays for, at the unit price).
    pub compute_unit_limit: u32,
    /// Micro-lamports per compute unit: the priority the transaction bids.
    pub compute_unit_price: u64,
    /// Bytes of account data the transaction may load.
    pub loaded_accounts_data_size_limit: u32,
}

impl ComputeBudgetLimits {
    /// The prioritization fee: `ceil(price * limit / 1,000,000)` lamports. Never
    /// overflows: at most `u64::MAX * u32::MAX / 10^6`, computed in `u128` and saturated.
    pub fn prioritization_fee(&self) -> u64 {
        let micro_lamports =
            u128::from(self.compute_unit_price) * u128::from(self.compute_unit_limit);
        let lamports = micro_lamports.div_ceil(u128::from(MICRO_LAMPORTS_PER_LAMPORT));
        u64::try_from(lamports).unwrap_or(u64::MAX)
    }
}

/// Reads a transaction's compute budget instructions into limits.
///
/// `is_builtin` says which programs are built in (they get 3,000 default units per
/// instruction instead of 200,000).
///
/// # Errors
/// * [`TransactionError::DuplicateInstruction`] if one kind of budget instruction appears
///   twice (the index of the second);
/// * [`TransactionError::InstructionError`] with `InvalidInstructionData` for a budget
///   instruction that is malformed or unknown (including Solana's request-heap-frame, tag
///   1: built-in programs have no heap to size);
/// * [`TransactionError::InvalidLoadedAccountsDataSizeLimit`] for a data-size limit of 0.
pub fn compute_budget_limits(
    transaction: &SanitizedTransaction,
    is_builtin: impl Fn(&Pubkey) -> bool,
) -> Result<ComputeBudgetLimits, TransactionError> {
    let mut unit_limit: Option<u32> = None;
    let mut unit_price: Option<u64> = None;
    let mut data_size_limit: Option<u32> = None;
    let mut default_units: u32 = 0;
    for (index, (program_id, instruction)) in transaction.instructions_iter().enumerate() {
        let index = u8::try_from(index).unwrap_or(u8::MAX);
        let builtin = *program_id == compute_budget::ID || is_builtin(program_id);
        default_units = default_units.saturating_add(if builtin {
            MAX_BUILTIN_ALLOCATION_COMPUTE_UNIT_LIMIT
        } else {
            DEFAULT_INSTRUCTION_COMPUTE_UNIT_LIMIT
        });
        if *program_id != compute_budget::ID {
            continue;
        }
        let invalid =
            TransactionError::InstructionError(index, InstructionError::InvalidInstructionData);
        let data = &instruction.data;
        match data.first() {
            Some(&SET_COMPUTE_UNIT_LIMIT) => {
                let value = u32::from_le_bytes(argument(data).ok_or(invalid)?);
                set_once(&mut unit_limit, value, index)?;
            }
            Some(&SET_COMPUTE_UNIT_PRICE) => {
                let value = u64::from_le_bytes(argument(data).ok_or(invalid)?);
                set_once(&mut unit_price, value, index)?;
            }
            Some(&SET_LOADED_ACCOUNTS_DATA_SIZE_LIMIT) => {
                let value = u32::from_le_bytes(argument(data).ok_or(invalid)?);
                set_once(&mut data_size_limit, value, index)?;
            }
            _ => return Err(invalid),
        }
    }
    let loaded_accounts_data_size_limit = match data_size_limit {
        Some(0) => return Err(TransactionError::InvalidLoadedAccountsDataSizeLimit),
        Some(limit) => limit.min(MAX_LOADED_ACCOUNTS_DATA_SIZE_BYTES),
        None => MAX_LOADED_ACCOUNTS_DATA_SIZE_BYTES,
    };
    Ok(ComputeBudgetLimits {
        compute_unit_limit: unit_limit
            .unwrap_or(default_units)
            .min(MAX_COMPUTE_UNIT_LIMIT),
        compute_unit_price: unit_price.unwrap_or(0),
        loaded_accounts_data_size_limit,
    })
}

/// The instruction's argument: exactly `N` bytes after the tag.
fn argument<const N: usize>(data: &[u8]) -> Option<[u8; N]> {
    data.get(1..)?.try_into().ok()
}

fn set_once<T>(slot: &mut Option<T>, value: T, index: u8) -> Result<(), TransactionError> {
    if slot.is_some() {
        return Err(TransactionError::DuplicateInstruction(index));
    }
    *slot = Some(value);
    Ok(())
}

/// Compute units a compute budget instruction costs when it runs.
pub const COMPUTE_BUDGET_PROGRAM_COMPUTE_UNITS: u64 = 150;

/// The compute budget program at execution time: its instructions were already read by
/// [`compute_budget_limits`] before the transaction ran, so running one only costs units.
#[derive(Debug, Default, Clone, Copy)]
pub struct ComputeBudgetProgram;

impl Program for ComputeBudgetProgram {
    fn execute(&self, context: &mut InstructionContext<'_>) -> Result<(), InstructionError> {
        context.consume_compute_units(COMPUTE_BUDGET_PROGRAM_COMPUTE_UNITS)
    }
}

/// Builders for compute budget instructions (for clients and tests).
pub mod instruction {
    use sdk_lite::{Instruction, compute_budget};

    /// Sets the transaction's compute unit limit.
    pub fn set_compute_unit_limit(units: u32) -> Instruction {
        with_argument(super::SET_COMPUTE_UNIT_LIMIT, &units.to_le_bytes())
    }

    /// Sets the transaction's compute unit price, in micro-lamports per unit.
    pub fn set_compute_unit_price(micro_lamports: u64) -> Instruction {
        with_argument(super::SET_COMPUTE_UNIT_PRICE, &micro_lamports.to_le_bytes())
    }

    /// Sets the most account data the transaction may load, in bytes.
    pub fn set_loaded_accounts_data_size_limit(bytes: u32) -> Instruction {
        with_argument(
            super::SET_LOADED_ACCOUNTS_DATA_SIZE_LIMIT,
            &bytes.to_le_bytes(),
        )
    }

    fn with_argument(tag: u8, argument: &[u8]) -> Instruction {
        let mut data = Vec::with_capacity(1 + argument.len());
        data.push(tag);
        data.extend_from_slice(argument);
        Instruction::new_with_bytes(compute_budget::ID, &data, Vec::new())
    }
}
