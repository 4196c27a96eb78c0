//! `load_transaction`'s three outcomes, and recorded logs.

use std::collections::HashMap;

use sdk_lite::{
    AccountSharedData, Hash, Instruction, Message, Pubkey, SanitizedTransaction, Transaction,
    TransactionError, system_program,
};
use svm_lite::bench_program::{BENCH_PROGRAM_ID, BENCH_STATE_LEN};
use svm_lite::system_program::instruction as system;
use svm_lite::{
    AccountLoader, BenchInstruction, ProcessedTransaction, ProcessingConfig, ProgramRegistry,
    RecordingConfig, RollbackAccounts, TransactionCheck, TransactionLoadResult,
    load_and_execute_sanitized_transactions, load_transaction,
};

type Store = HashMap<Pubkey, AccountSharedData>;

fn tx(payer: &Pubkey, instructions: &[Instruction]) -> SanitizedTransaction {
    let message = Message::new(instructions, Some(payer), Hash::new_unique());
    SanitizedTransaction::try_new(Transaction::new_with_placeholder_signatures(message)).unwrap()
}

fn setup() -> (Store, Pubkey, Pubkey) {
    let (payer, state) = (Pubkey::new_unique(), Pubkey::new_unique());
    let store = Store::from([
        (
            payer,
            AccountSharedData::new(1_000_000_000, 0, &system_program::ID),
        ),
        (
            state,
            AccountSharedData::new(1_000_000_000, BENCH_STATE_LEN, &BENCH_PROGRAM_ID),
        ),
    ]);
    (store, payer, state)
}

fn load(
    store: &Store,
    transaction: &SanitizedTransaction,
    check: Result<TransactionCheck, TransactionError>,
) -> TransactionLoadResult {
    let mut loader = AccountLoader::with_capacity(store, 8);
    load_transaction(
        &mut loader,
        &ProgramRegistry::with_builtins(),
        transaction,
        &check,
        &crate::environment(),
    )
    .unwrap()
}

#[test]
fn a_good_transaction_loads_with_its_program_indices_and_data_size() {
    let (store, payer, state) = setup();
    let transaction = tx(
        &payer,
        &[BenchInstruction::Write { value: 1 }.to_instruction(&state)],
    );
    let TransactionLoadResult::Loaded(loaded) =
        load(&store, &transaction, Ok(TransactionCheck::RecentBlockhash))
    else {
        panic!("not loaded");
    };
    assert_eq!(loaded.accounts.len(), transaction.account_keys().len());
    assert_eq!(loaded.loaded_accounts_data_size, BENCH_STATE_LEN as u64);
    assert_eq!(loaded.program_indices.len(), 1);
    assert_eq!(
        transaction.account_keys()[loaded.program_indices[0]],
        BENCH_PROGRAM_ID
    );
    assert_eq!(loaded.fee_details.total(), Some(5_000));
    assert!(matches!(
        loaded.rollback_accounts,
        RollbackAccounts::FeePayerOnly { .. }
    ));
}

#[test]
fn a_load_failure_after_the_fee_payer_is_fees_only_and_before_it_not_loaded() {
    let (store, payer, _) = setup();
    let unknown = Instruction::new_with_bytes(Pubkey::new_unique(), &[], vec![]);
    let TransactionLoadResult::FeesOnly(fees_only) = load(
        &store,
        &tx(&payer, &[unknown]),
        Ok(TransactionCheck::RecentBlockhash),
    ) else {
        panic!("expected fees-only");
    };
    assert_eq!(
        fees_only.load_error,
        TransactionError::ProgramAccountNotFound
    );
    assert_eq!(fees_only.rollback_accounts.count(), 1);

    assert_eq!(
        load(
            &store,
            &tx(&Pubkey::new_unique(), &[]),
            Ok(TransactionCheck::RecentBlockhash)
        ),
        TransactionLoadResult::NotLoaded(TransactionError::AccountNotFound)
    );
    assert_eq!(
        load(
            &store,
            &tx(&payer, &[]),
            Err(TransactionError::AlreadyProcessed)
        ),
        TransactionLoadResult::NotLoaded(TransactionError::AlreadyProcessed)
    );
}

#[test]
fn logs_are_recorded_only_when_asked() {
    let (store, payer, state) = setup();
    let transactions = [tx(
        &payer,
        &[
            BenchInstruction::Work { units: 300 }.to_instruction(&state),
            system::transfer(&payer, &Pubkey::new_unique(), u64::MAX),
        ],
    )];
    let run = |logs: bool| {
        load_and_execute_sanitized_transactions(
            &store,
            &ProgramRegistry::with_builtins(),
            &transactions,
            &[Ok(TransactionCheck::RecentBlockhash)],
            &crate::environment(),
            &ProcessingConfig {
                recording: RecordingConfig {
                    balances: false,
                    logs,
                    transaction_times: false,
                },
                error_metrics: None,
            },
        )
        .unwrap()
        .results
    };
    let Ok(ProcessedTransaction::Executed {
        log_messages: Some(logs),
        ..
    }) = &run(true)[0]
    else {
        panic!("logs recorded");
    };
    assert_eq!(logs[0], format!("Program {BENCH_PROGRAM_ID} invoke"));
    assert_eq!(logs[1], "bench: 300 units of work");
    assert_eq!(logs[2], format!("Program {BENCH_PROGRAM_ID} success"));
    assert!(
        logs[4].starts_with(&format!("Program {} failed", system_program::ID)),
        "{logs:?}"
    );
    let Ok(ProcessedTransaction::Executed {
        log_messages: None, ..
    }) = &run(false)[0]
    else {
        panic!("no logs");
    };
}
