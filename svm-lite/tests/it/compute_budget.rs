//! Compute budget instructions → limits.

use sdk_lite::{Instruction, InstructionError, Pubkey, TransactionError, compute_budget as ids};
use svm_lite::compute_budget::{
    DEFAULT_INSTRUCTION_COMPUTE_UNIT_LIMIT, MAX_BUILTIN_ALLOCATION_COMPUTE_UNIT_LIMIT,
    MAX_COMPUTE_UNIT_LIMIT, MAX_LOADED_ACCOUNTS_DATA_SIZE_BYTES, instruction,
};
use svm_lite::{ComputeBudgetLimits, compute_budget_limits};

use crate::{program_instruction, transaction};

fn limits(instructions: &[Instruction]) -> Result<ComputeBudgetLimits, TransactionError> {
    compute_budget_limits(&transaction(instructions), |_| false)
}

#[test]
fn default_limit_is_per_instruction_by_kind() {
    let program = Pubkey::new_unique();
    let one = limits(&[program_instruction(program)]).unwrap();
    assert_eq!(
        one.compute_unit_limit,
        DEFAULT_INSTRUCTION_COMPUTE_UNIT_LIMIT
    );
    assert_eq!(one.compute_unit_price, 0);
    assert_eq!(
        one.loaded_accounts_data_size_limit,
        MAX_LOADED_ACCOUNTS_DATA_SIZE_BYTES
    );

    let with_budget_ix = limits(&[
        instruction::set_compute_unit_price(1),
        program_instruction(program),
    ])
    .unwrap();
    assert_eq!(
        with_budget_ix.compute_unit_limit,
        DEFAULT_INSTRUCTION_COMPUTE_UNIT_LIMIT + MAX_BUILTIN_ALLOCATION_COMPUTE_UNIT_LIMIT
    );

    let builtin = compute_budget_limits(&transaction(&[program_instruction(program)]), |id| {
        *id == program
    })
    .unwrap();
    assert_eq!(
        builtin.compute_unit_limit,
        MAX_BUILTIN_ALLOCATION_COMPUTE_UNIT_LIMIT
    );
}

#[test]
fn default_limit_is_capped_at_the_maximum() {
    let program = Pubkey::new_unique();
    let many: Vec<_> = (0..8).map(|_| program_instruction(program)).collect();
    assert_eq!(
        limits(&many).unwrap().compute_unit_limit,
        MAX_COMPUTE_UNIT_LIMIT
    );
}

#[test]
fn explicit_limit_and_price_are_used_and_capped() {
    let program = Pubkey::new_unique();
    let set = limits(&[
        instruction::set_compute_unit_limit(50_000),
        instruction::set_compute_unit_price(2_500),
        program_instruction(program),
    ])
    .unwrap();
    assert_eq!(set.compute_unit_limit, 50_000);
    assert_eq!(set.compute_unit_price, 2_500);
    assert_eq!(set.prioritization_fee(), 125); // 2,500 * 50,000 / 10^6

    let too_high = limits(&[instruction::set_compute_unit_limit(u32::MAX)]).unwrap();
    assert_eq!(too_high.compute_unit_limit, MAX_COMPUTE_UNIT_LIMIT);
}

#[test]
fn prioritization_fee_rounds_up_and_saturates() {
    let tiny = ComputeBudgetLimits {
        compute_unit_limit: 200_000,
        compute_unit_price: 1,
        loaded_accounts_data_size_limit: 1,
    };
    assert_eq!(tiny.prioritization_fee(), 1, "0.2 lamports rounds up to 1");
    let zero = ComputeBudgetLimits {
        compute_unit_price: 0,
        ..tiny
    };
    assert_eq!(zero.prioritization_fee(), 0);
    let huge = ComputeBudgetLimits {
        compute_unit_limit: u32::MAX,
        compute_unit_price: u64::MAX,
        loaded_accounts_data_size_limit: 1,
    };
    assert_eq!(huge.prioritization_fee(), u64::MAX);
}

#[test]
fn loaded_data_size_limit_is_used_capped_and_never_zero() {
    let set = limits(&[instruction::set_loaded_accounts_data_size_limit(1_000)]).unwrap();
    assert_eq!(set.loaded_accounts_data_size_limit, 1_000);
    let capped = limits(&[instruction::set_loaded_accounts_data_size_limit(u32::MAX)]).unwrap();
    assert_eq!(
        capped.loaded_accounts_data_size_limit,
        MAX_LOADED_ACCOUNTS_DATA_SIZE_BYTES
    );
    assert_eq!(
        limits(&[instruction::set_loaded_accounts_data_size_limit(0)]),
        Err(TransactionError::InvalidLoadedAccountsDataSizeLimit)
    );
}

#[test]
fn the_same_budget_instruction_twice_is_a_duplicate_at_the_second() {
    assert_eq!(
        limits(&[
            instruction::set_compute_unit_price(1),
            instruction::set_compute_unit_limit(10),
            instruction::set_compute_unit_price(2),
        ]),
        Err(TransactionError::DuplicateInstruction(2))
    );
}

#[test]
fn malformed_or_unknown_budget_instructions_are_invalid_data() {
    let raw = |data: &[u8]| Instruction::new_with_bytes(ids::ID, data, Vec::new());
    for data in [
        &[][..],
        &[2, 1, 0, 0][..],
        &[2, 1, 0, 0, 0, 0][..],
        &[3, 1][..],
        &[0][..],
        &[9, 0, 0, 0, 0][..],
    ] {
        assert_eq!(
            limits(&[program_instruction(Pubkey::new_unique()), raw(data)]),
            Err(TransactionError::InstructionError(
                1,
                InstructionError::InvalidInstructionData
            )),
            "{data:?}"
        );
    }
}
