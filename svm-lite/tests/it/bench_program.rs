//! The bench program.

use sdk_lite::{AccountSharedData, InstructionError, Pubkey, ReadableAccount};
use svm_lite::bench_program::{
    BENCH_PROGRAM_ID, BENCH_STATE_LEN, UNITS_PER_HASH, UNITS_PER_INPUT_BYTE,
};
use svm_lite::{
    BenchInstruction, BenchProgram, ComputeMeter, InstructionAccount, execute_instruction,
};

/// Runs `instruction` on `accounts` (listed by `instruction_accounts`) with `budget`
/// compute units; returns its result and the units it used.
fn execute(
    instruction: BenchInstruction,
    accounts: &mut [AccountSharedData],
    instruction_accounts: &[InstructionAccount],
    budget: u64,
) -> (Result<(), InstructionError>, u64) {
    let mut meter = ComputeMeter::new(budget);
    let keys: Vec<Pubkey> = accounts.iter().map(|_| Pubkey::new_unique()).collect();
    let data = instruction.encode();
    let result = execute_instruction(
        &BenchProgram,
        &svm_lite::Invocation {
            program_id: BENCH_PROGRAM_ID,
            data: &data,
            accounts: instruction_accounts,
        },
        &keys,
        accounts,
        &mut meter,
        &crate::environment(),
        None,
    );
    (result, budget - meter.remaining())
}

/// The instruction's accounts: the transaction's first `count`, the first writable.
fn listed(count: usize) -> Vec<InstructionAccount> {
    (0..count)
        .map(|index| InstructionAccount {
            index_in_transaction: index,
            is_signer: false,
            is_writable: index == 0,
        })
        .collect()
}

fn run(
    instruction: BenchInstruction,
    state: &mut AccountSharedData,
    budget: u64,
) -> (Result<(), InstructionError>, u64) {
    let mut accounts = [state.clone()];
    let (result, used) = execute(instruction, &mut accounts, &listed(1), budget);
    if result.is_ok() {
        *state = accounts[0].clone();
    }
    (result, used)
}

fn state() -> AccountSharedData {
    AccountSharedData::new(1_000_000, BENCH_STATE_LEN, &BENCH_PROGRAM_ID)
}

#[test]
fn encoding_round_trips() {
    for instruction in [
        BenchInstruction::Work { units: 12_345 },
        BenchInstruction::Write { value: u64::MAX },
        BenchInstruction::Fail { code: 7 },
    ] {
        assert_eq!(
            BenchInstruction::decode(&instruction.encode()),
            Some(instruction)
        );
    }
    assert_eq!(BenchInstruction::decode(&[0, 1]), None);
    assert_eq!(BenchInstruction::decode(&[3, 0, 0, 0, 0]), None);
}

#[test]
fn work_burns_the_units_on_a_hash_chain() {
    let mut account = state();
    let (result, used) = run(
        BenchInstruction::Work { units: 1_000 },
        &mut account,
        10_000,
    );
    assert_eq!(result, Ok(()));
    assert_eq!(used, 1_000);
    let mut expected = [0u8; 32];
    for _ in 0..1_000 / UNITS_PER_HASH {
        expected = *blake3::hash(&expected).as_bytes();
    }
    assert_eq!(&account.data()[..32], &expected);
}

#[test]
fn write_stores_the_value() {
    let mut account = state();
    assert_eq!(
        run(BenchInstruction::Write { value: 42 }, &mut account, 1_000).0,
        Ok(())
    );
    assert_eq!(&account.data()[32..40], &42u64.to_le_bytes());
}

#[test]
fn failures_on_request_and_on_bad_accounts() {
    assert_eq!(
        run(BenchInstruction::Fail { code: 9 }, &mut state(), 1_000).0,
        Err(InstructionError::Custom(9))
    );
    let mut foreign = AccountSharedData::new(1, BENCH_STATE_LEN, &Pubkey::new_unique());
    assert_eq!(
        run(BenchInstruction::Write { value: 1 }, &mut foreign, 1_000).0,
        Err(InstructionError::IncorrectProgramId)
    );
    let mut small = AccountSharedData::new(1, BENCH_STATE_LEN - 1, &BENCH_PROGRAM_ID);
    assert_eq!(
        run(BenchInstruction::Write { value: 1 }, &mut small, 1_000).0,
        Err(InstructionError::AccountDataTooSmall)
    );
    assert_eq!(
        run(BenchInstruction::Work { units: 5_000 }, &mut state(), 4_999).0,
        Err(InstructionError::ComputationalBudgetExceeded)
    );
}

/// Work (no units of its own) on `state` with `inputs` as the instruction's other
/// (read-only) accounts, `repeat` listing the first input a second time; returns the
/// state's hash after it and the units it used.
fn work_with_inputs(
    state: &AccountSharedData,
    inputs: &[AccountSharedData],
    repeat: bool,
) -> ([u8; 32], u64) {
    let mut accounts: Vec<AccountSharedData> = std::iter::once(state.clone())
        .chain(inputs.iter().cloned())
        .collect();
    let mut instruction_accounts = listed(accounts.len());
    if repeat {
        instruction_accounts.push(instruction_accounts[1]);
    }
    let (result, used) = execute(
        BenchInstruction::Work { units: 0 },
        &mut accounts,
        &instruction_accounts,
        10_000,
    );
    result.expect("work on a valid state succeeds");
    let state = accounts[0].data()[..32]
        .try_into()
        .expect("invariant: a state holds a 32-byte hash");
    (state, used)
}

#[test]
fn work_mixes_in_what_its_other_accounts_hold() {
    let empty = AccountSharedData::new(1, 0, &Pubkey::new_unique());
    let mut input = state();
    // Accounts without data are not inputs: the state stays as it was, at no cost.
    assert_eq!(
        work_with_inputs(&state(), std::slice::from_ref(&empty), false),
        ([0u8; 32], 0)
    );
    let mut expected = blake3::Hasher::new();
    expected.update(&[0u8; 32]);
    expected.update(input.data());
    let expected = (
        *expected.finalize().as_bytes(),
        BENCH_STATE_LEN as u64 * UNITS_PER_INPUT_BYTE,
    );
    assert_eq!(
        work_with_inputs(&state(), &[input.clone(), empty], false),
        expected
    );
    // An input listed twice is read, and paid for, once.
    assert_eq!(
        work_with_inputs(&state(), std::slice::from_ref(&input), true),
        expected
    );
    // What an input holds shows in the result: a reader that runs after the input's
    // writer computes another state than one that runs before it.
    let (before, _) = work_with_inputs(&state(), std::slice::from_ref(&input), false);
    run(BenchInstruction::Write { value: 9 }, &mut input, 1_000)
        .0
        .expect("the write succeeds");
    assert_ne!(
        work_with_inputs(&state(), std::slice::from_ref(&input), false).0,
        before
    );
}
