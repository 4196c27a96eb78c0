//! The cost model: what a transaction costs a block, before it runs.

use sdk_lite::{Pubkey, SanitizedTransaction, system_program};
use svm_lite::{ComputeBudgetLimits, SystemInstruction};

/// Cost units per signature (Solana's weight).
pub const SIGNATURE_COST: u64 = 720;
/// Cost units per write-locked account.
pub const WRITE_LOCK_UNITS: u64 = 300;
/// Instruction data bytes per cost unit.
pub const INSTRUCTION_DATA_BYTES_PER_UNIT: u64 = 4;

/// A transaction's cost, by source, and the accounts it is charged to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionCost {
    /// `SIGNATURE_COST` per signature.
    pub signature_cost: u64,
    /// `WRITE_LOCK_UNITS` per writable account.
    pub write_lock_cost: u64,
    /// One unit per `INSTRUCTION_DATA_BYTES_PER_UNIT` bytes of instruction data.
    pub data_bytes_cost: u64,
    /// The compute units it requested (replaced by what it used, after execution).
    pub programs_execution_cost: u64,
    /// Bytes of new account data its system instructions allocate.
    pub allocated_accounts_data_size: u64,
    /// The accounts it write-locks: each is charged the whole cost.
    pub writable_accounts: Vec<Pubkey>,
}

impl TransactionCost {
    /// The cost of `transaction` running under `limits`.
    pub fn new(transaction: &SanitizedTransaction, limits: &ComputeBudgetLimits) -> Self {
        let writable_accounts: Vec<Pubkey> = transaction
            .lock_requests()
            .filter(|(_, writable)| *writable)
            .map(|(key, _)| *key)
            .collect();
        let data_bytes: u64 = transaction
            .instructions_iter()
            .map(|(_, instruction)| instruction.data.len() as u64)
            .sum();
        let allocated_accounts_data_size = transaction
            .instructions_iter()
            .filter(|(program_id, _)| **program_id == system_program::ID)
            .filter_map(
                |(_, instruction)| match SystemInstruction::decode(&instruction.data) {
                    Some(SystemInstruction::CreateAccount { space, .. })
                    | Some(SystemInstruction::Allocate { space }) => Some(space),
                    _ => None,
                },
            )
            .fold(0u64, u64::saturating_add);
        Self {
            signature_cost: SIGNATURE_COST.saturating_mul(transaction.num_signatures() as u64),
            write_lock_cost: WRITE_LOCK_UNITS.saturating_mul(writable_accounts.len() as u64),
            data_bytes_cost: data_bytes / INSTRUCTION_DATA_BYTES_PER_UNIT,
            programs_execution_cost: u64::from(limits.compute_unit_limit),
            allocated_accounts_data_size,
            writable_accounts,
        }
    }

    /// All cost units together.
    pub fn sum(&self) -> u64 {
        self.signature_cost
            .saturating_add(self.write_lock_cost)
            .saturating_add(self.data_bytes_cost)
            .saturating_add(self.programs_execution_cost)
    }
}
