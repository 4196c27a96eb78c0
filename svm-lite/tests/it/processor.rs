//! The batch entry point: load, validate, execute, collect.

use std::collections::HashMap;

use proptest::prelude::*;
use sdk_lite::{
    AccountSharedData, Hash, Instruction, Message, Pubkey, ReadableAccount, SanitizedTransaction,
    Transaction, TransactionError, system_program,
};
use svm_lite::bench_program::{BENCH_PROGRAM_ID, BENCH_STATE_LEN};
use svm_lite::compute_budget::instruction as budget;
use svm_lite::system_program::instruction as system;
use svm_lite::{
    BenchInstruction, ProcessedTransaction, ProcessingEnvironment, ProcessingResult,
    ProgramRegistry, Rent, TransactionCheck, load_and_execute_sanitized_transactions,
};

const RICH: u64 = 1_000_000_000;
const FEE: u64 = 5_000;

type Store = HashMap<Pubkey, AccountSharedData>;

fn environment() -> ProcessingEnvironment {
    ProcessingEnvironment {
        slot: 1,
        blockhash: Hash::new_unique(),
        lamports_per_signature: FEE,
        rent: Rent::default(),
    }
}

fn tx(payer: &Pubkey, instructions: &[Instruction]) -> SanitizedTransaction {
    let message = Message::new(instructions, Some(payer), Hash::new_unique());
    SanitizedTransaction::try_new(Transaction::new_with_placeholder_signatures(message)).unwrap()
}

fn system_account(lamports: u64) -> AccountSharedData {
    AccountSharedData::new(lamports, 0, &system_program::ID)
}

fn process(store: &Store, transactions: &[SanitizedTransaction]) -> Vec<ProcessingResult> {
    let checks = vec![Ok(TransactionCheck::RecentBlockhash); transactions.len()];
    load_and_execute_sanitized_transactions(
        store,
        &ProgramRegistry::with_builtins(),
        transactions,
        &checks,
        &environment(),
        &svm_lite::ProcessingConfig::default(),
    )
    .expect("a map never fails")
    .results
}

/// Commits results into `store` the way a bank would.
fn commit(store: &mut Store, results: &[ProcessingResult]) {
    for processed in results.iter().flatten() {
        for (key, account) in processed.accounts() {
            if account.lamports() == 0 {
                store.remove(key);
            } else {
                store.insert(*key, account.clone());
            }
        }
    }
}

fn lamports(store: &Store, key: &Pubkey) -> u64 {
    store.get(key).map_or(0, |account| account.lamports())
}

#[test]
fn a_transfer_executes_and_charges_its_fee() {
    let (alice, bob) = (Pubkey::new_unique(), Pubkey::new_unique());
    let mut store = Store::from([(alice, system_account(RICH))]);
    let results = process(
        &store,
        &[tx(&alice, &[system::transfer(&alice, &bob, 1_000_000)])],
    );
    let Ok(ProcessedTransaction::Executed {
        status,
        fee,
        units_consumed,
        accounts,
        ..
    }) = &results[0]
    else {
        panic!("{results:?}");
    };
    assert_eq!(status, &Ok(()));
    assert_eq!(fee.total(), Some(FEE));
    assert!(*units_consumed > 0);
    assert_eq!(accounts.len(), 2, "the writable accounts: alice and bob");
    commit(&mut store, &results);
    assert_eq!(lamports(&store, &alice), RICH - 1_000_000 - FEE);
    assert_eq!(lamports(&store, &bob), 1_000_000);
}

#[test]
fn later_transactions_see_earlier_ones_and_failures_do_not_leak() {
    let (a, b, c) = (
        Pubkey::new_unique(),
        Pubkey::new_unique(),
        Pubkey::new_unique(),
    );
    let mut store = Store::from([(a, system_account(RICH))]);
    let results = process(
        &store,
        &[
            tx(&a, &[system::transfer(&a, &b, 10_000_000)]),
            // Fails: b cannot send more than it has; only b's fee is charged.
            tx(&b, &[system::transfer(&b, &c, 50_000_000)]),
            tx(&b, &[system::transfer(&b, &c, 2_000_000)]),
        ],
    );
    assert!(results[0].as_ref().unwrap().was_successful());
    let Ok(ProcessedTransaction::Executed {
        status: Err(_),
        accounts,
        ..
    }) = &results[1]
    else {
        panic!("{:?}", results[1]);
    };
    assert_eq!(
        accounts.len(),
        1,
        "a failure commits only the charged fee payer"
    );
    assert!(results[2].as_ref().unwrap().was_successful());
    commit(&mut store, &results);
    assert_eq!(lamports(&store, &b), 10_000_000 - FEE - FEE - 2_000_000);
    assert_eq!(lamports(&store, &c), 2_000_000);
}

#[test]
fn a_failing_instruction_commits_only_the_fee() {
    let payer = Pubkey::new_unique();
    let state = Pubkey::new_unique();
    let mut store = Store::from([
        (payer, system_account(RICH)),
        (
            state,
            AccountSharedData::new(RICH, BENCH_STATE_LEN, &BENCH_PROGRAM_ID),
        ),
    ]);
    let results = process(
        &store,
        &[tx(
            &payer,
            &[
                BenchInstruction::Write { value: 7 }.to_instruction(&state),
                BenchInstruction::Fail { code: 3 }.to_instruction(&state),
            ],
        )],
    );
    let Ok(ProcessedTransaction::Executed {
        status, accounts, ..
    }) = &results[0]
    else {
        panic!("{results:?}");
    };
    assert_eq!(
        status,
        &Err(TransactionError::InstructionError(
            1,
            sdk_lite::InstructionError::Custom(3)
        ))
    );
    assert_eq!(
        accounts.iter().map(|(key, _)| *key).collect::<Vec<_>>(),
        vec![payer]
    );
    commit(&mut store, &results);
    assert_eq!(
        &store[&state].data()[32..40],
        &[0; 8],
        "the write is rolled back"
    );
    assert_eq!(lamports(&store, &payer), RICH - FEE);
}

#[test]
fn an_invalid_fee_payer_is_not_processed() {
    let missing = Pubkey::new_unique();
    let results = process(&Store::new(), &[tx(&missing, &[])]);
    assert_eq!(results[0], Err(TransactionError::AccountNotFound));
    let poor = Pubkey::new_unique();
    let store = Store::from([(poor, system_account(FEE - 1))]);
    assert_eq!(
        process(&store, &[tx(&poor, &[])])[0],
        Err(TransactionError::InsufficientFundsForFee)
    );
}

#[test]
fn a_check_failure_from_the_caller_is_kept() {
    let payer = Pubkey::new_unique();
    let store = Store::from([(payer, system_account(RICH))]);
    let results = load_and_execute_sanitized_transactions(
        &store,
        &ProgramRegistry::with_builtins(),
        &[tx(&payer, &[])],
        &[Err(TransactionError::BlockhashNotFound)],
        &environment(),
        &svm_lite::ProcessingConfig::default(),
    )
    .unwrap()
    .results;
    assert_eq!(results[0], Err(TransactionError::BlockhashNotFound));
}

#[test]
fn unknown_and_non_builtin_programs_are_fees_only() {
    let payer = Pubkey::new_unique();
    let unknown = Pubkey::new_unique();
    let not_a_program = Pubkey::new_unique();
    let store = Store::from([
        (payer, system_account(RICH)),
        (not_a_program, system_account(RICH)),
    ]);
    let call = |program: Pubkey| Instruction::new_with_bytes(program, &[], vec![]);
    let results = process(
        &store,
        &[
            tx(&payer, &[call(unknown)]),
            tx(&payer, &[call(not_a_program)]),
        ],
    );
    for (result, expected) in results.iter().zip([
        TransactionError::ProgramAccountNotFound,
        TransactionError::InvalidProgramForExecution,
    ]) {
        let Ok(ProcessedTransaction::FeesOnly { error, fee, .. }) = result else {
            panic!("{result:?}");
        };
        assert_eq!(error, &expected);
        assert_eq!(fee.total(), Some(FEE));
    }
}

#[test]
fn the_loaded_data_limit_is_inclusive() {
    let payer = Pubkey::new_unique();
    let state = Pubkey::new_unique();
    let store = Store::from([
        (payer, system_account(RICH)),
        (
            state,
            AccountSharedData::new(RICH, 1_000, &BENCH_PROGRAM_ID),
        ),
    ]);
    let with_limit = |limit: u32| {
        tx(
            &payer,
            &[
                budget::set_loaded_accounts_data_size_limit(limit),
                BenchInstruction::Write { value: 1 }.to_instruction(&state),
            ],
        )
    };
    let results = process(&store, &[with_limit(1_000), with_limit(999)]);
    assert!(results[0].as_ref().unwrap().was_successful());
    let Ok(ProcessedTransaction::FeesOnly { error, .. }) = &results[1] else {
        panic!("{:?}", results[1]);
    };
    assert_eq!(error, &TransactionError::MaxLoadedAccountsDataSizeExceeded);
}

#[test]
fn a_new_account_below_the_rent_minimum_fails_the_transaction() {
    let (payer, fresh) = (Pubkey::new_unique(), Pubkey::new_unique());
    let store = Store::from([(payer, system_account(RICH))]);
    let results = process(
        &store,
        &[tx(&payer, &[system::transfer(&payer, &fresh, 1_000)])],
    );
    let Ok(ProcessedTransaction::Executed { status, .. }) = &results[0] else {
        panic!("{results:?}");
    };
    assert_eq!(
        status,
        &Err(TransactionError::InsufficientFundsForRent { account_index: 1 })
    );
}

/// Each result's execution status; every transaction must have been executed.
fn executed_statuses(results: &[ProcessingResult]) -> Vec<Result<(), TransactionError>> {
    results
        .iter()
        .map(|result| match result {
            Ok(ProcessedTransaction::Executed { status, .. }) => status.clone(),
            other => panic!("not executed: {other:?}"),
        })
        .collect()
}

/// Two 10 MiB allocations are the most one transaction may make (20 MiB, net); the third
/// instruction fails as soon as it returns, and nothing but the fee is committed.
#[test]
fn a_transaction_may_not_allocate_more_than_twenty_mebibytes() {
    let payer = Pubkey::new_unique();
    let fresh: Vec<Pubkey> = (0..3).map(|_| Pubkey::new_unique()).collect();
    let ten_mebibytes = sdk_lite::MAX_PERMITTED_DATA_LENGTH;
    let allocate = |count: usize| {
        let instructions: Vec<Instruction> = fresh[..count]
            .iter()
            .map(|key| system::allocate(key, ten_mebibytes))
            .collect();
        tx(&payer, &instructions)
    };
    let store = Store::from([(payer, system_account(RICH))]);
    let results = process(&store, &[allocate(2), allocate(3)]);
    let statuses = executed_statuses(&results);
    assert_eq!(statuses[0], Ok(()), "20 MiB is allowed");
    assert_eq!(
        statuses[1],
        Err(TransactionError::InstructionError(
            2,
            sdk_lite::InstructionError::MaxAccountsDataAllocationsExceeded
        ))
    );
    let Ok(ProcessedTransaction::Executed { accounts, .. }) = &results[1] else {
        unreachable!("matched above");
    };
    assert_eq!(
        accounts.iter().map(|(key, _)| *key).collect::<Vec<_>>(),
        vec![payer],
        "only the fee payer is committed"
    );
}

/// At most 64 instructions run (Agave's instruction trace limit); the 65th fails the
/// transaction, which is charged its fee like any failed one.
#[test]
fn the_sixty_fifth_instruction_fails_the_transaction() {
    let (payer, bob) = (Pubkey::new_unique(), Pubkey::new_unique());
    let mut store = Store::from([(payer, system_account(RICH)), (bob, system_account(RICH))]);
    let transfers = |count: u64| {
        let instructions: Vec<Instruction> = (0..count)
            .map(|_| system::transfer(&payer, &bob, 1))
            .collect();
        tx(&payer, &instructions)
    };
    let results = process(&store, &[transfers(64), transfers(65)]);
    let statuses = executed_statuses(&results);
    assert_eq!(statuses[0], Ok(()));
    assert_eq!(
        statuses[1],
        Err(TransactionError::InstructionError(
            64,
            sdk_lite::InstructionError::MaxInstructionTraceLengthExceeded
        ))
    );
    commit(&mut store, &results);
    assert_eq!(
        lamports(&store, &bob),
        RICH + 64,
        "only the first transaction moved lamports"
    );
    assert_eq!(lamports(&store, &payer), RICH - 64 - 2 * FEE);
}

proptest! {
    /// Random batches of random transactions (transfers of any size between funded and
    /// unfunded accounts, bench-program writes and work on a shared state account,
    /// requested failures, account creation, unknown programs, too-small budgets): the
    /// batch never panics, lamports plus fees are conserved, and the batch's result equals
    /// processing its transactions one at a time, committing in between.
    #[test]
    fn batches_conserve_lamports_and_equal_sequential_processing(
        operations in prop::collection::vec(
            (0usize..6, 0usize..5, 0usize..5, 0u64..3_000_000_000),
            1..12,
        )
    ) {
        let keys: Vec<Pubkey> = (0..5).map(|_| Pubkey::new_unique()).collect();
        let state = Pubkey::new_unique();
        let mut store: Store = keys[..3]
            .iter()
            .map(|key| (*key, system_account(RICH)))
            .collect();
        store.insert(state, AccountSharedData::new(RICH, BENCH_STATE_LEN, &BENCH_PROGRAM_ID));
        let transactions: Vec<SanitizedTransaction> = operations
            .iter()
            .map(|&(kind, from, to, amount)| {
                let (payer, other) = (&keys[from], &keys[to]);
                let instructions = match kind {
                    0 => vec![system::transfer(payer, other, amount)],
                    1 => vec![BenchInstruction::Write { value: amount }.to_instruction(&state)],
                    2 => vec![
                        BenchInstruction::Work { units: (amount % 5_000) as u32 }
                            .to_instruction(&state),
                        BenchInstruction::Fail { code: 1 }.to_instruction(&state),
                    ],
                    3 => vec![system::create_account(payer, other, amount, amount % 64, &BENCH_PROGRAM_ID)],
                    4 => vec![Instruction::new_with_bytes(Pubkey::new_unique(), &[], vec![])],
                    _ => vec![
                        budget::set_compute_unit_limit((amount % 400) as u32),
                        BenchInstruction::Work { units: 300 }.to_instruction(&state),
                    ],
                };
                tx(payer, &instructions)
            })
            .collect();
        let total_before: u64 = store.values().map(|account| account.lamports()).sum();

        let results = process(&store, &transactions);
        let mut sequential_store = store.clone();
        for (transaction, batch_result) in transactions.iter().zip(&results) {
            let alone = process(&sequential_store, std::slice::from_ref(transaction));
            prop_assert_eq!(&alone[0], batch_result);
            commit(&mut sequential_store, &alone);
        }
        commit(&mut store, &results);
        prop_assert_eq!(&store, &sequential_store);

        let fees: u64 = results.iter().flatten().map(|r| r.fee().total().unwrap()).sum();
        let total_after: u64 = store.values().map(|account| account.lamports()).sum();
        prop_assert_eq!(total_before, total_after + fees);
    }
}
