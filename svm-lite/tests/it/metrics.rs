//! Batch metrics: error counters, timings, balances.

use std::collections::HashMap;

use sdk_lite::{
    AccountSharedData, Hash, Message, Pubkey, SanitizedTransaction, Transaction, TransactionError,
    system_program,
};
use svm_lite::system_program::instruction as system;
use svm_lite::{
    ProcessingConfig, ProgramRegistry, RecordingConfig, TransactionCheck, TransactionErrorMetrics,
    load_and_execute_sanitized_transactions, measure_ns,
};

fn tx(payer: &Pubkey, instructions: &[sdk_lite::Instruction]) -> SanitizedTransaction {
    let message = Message::new(instructions, Some(payer), Hash::new_unique());
    SanitizedTransaction::try_new(Transaction::new_with_placeholder_signatures(message)).unwrap()
}

#[test]
fn a_batch_counts_its_failures_by_kind_and_records_balances() {
    let (rich, poor, missing, to) = (
        Pubkey::new_unique(),
        Pubkey::new_unique(),
        Pubkey::new_unique(),
        Pubkey::new_unique(),
    );
    let store: HashMap<Pubkey, AccountSharedData> = HashMap::from([
        (
            rich,
            AccountSharedData::new(1_000_000_000, 0, &system_program::ID),
        ),
        (poor, AccountSharedData::new(1, 0, &system_program::ID)),
    ]);
    let transactions = [
        tx(&rich, &[system::transfer(&rich, &to, 2_000_000)]),
        tx(&poor, &[]),
        tx(&missing, &[]),
        tx(&rich, &[system::transfer(&rich, &to, u64::MAX)]),
        tx(&rich, &[]),
    ];
    let checks = [
        Ok(TransactionCheck::RecentBlockhash),
        Ok(TransactionCheck::RecentBlockhash),
        Ok(TransactionCheck::RecentBlockhash),
        Ok(TransactionCheck::RecentBlockhash),
        Err(TransactionError::AlreadyProcessed),
    ];
    let metrics = TransactionErrorMetrics::default();
    let output = load_and_execute_sanitized_transactions(
        &store,
        &ProgramRegistry::with_builtins(),
        &transactions,
        &checks,
        &crate::environment(),
        &ProcessingConfig {
            recording: RecordingConfig {
                balances: true,
                logs: false,
                transaction_times: true,
            },
            error_metrics: Some(&metrics),
        },
    )
    .unwrap();
    let counts = metrics.snapshot();
    assert_eq!(counts.insufficient_funds_for_fee, 1);
    assert_eq!(counts.account_not_found, 1);
    assert_eq!(counts.instruction_error, 1);
    assert_eq!(counts.already_processed, 1);
    assert_eq!(counts.other, 0);
    assert!(output.timings.total().as_nanos() > 0);

    let times = output.transaction_times.as_ref().expect("recorded");
    assert_eq!(times.len(), 5, "one (start, duration) per transaction");
    assert!(
        times
            .windows(2)
            .all(|pair| pair[1].0 >= pair[0].0 + pair[0].1),
        "transactions run one after the other: {times:?}"
    );
    let balances = output.balances.expect("recorded");
    assert_eq!(balances.pre_balances.len(), 5);
    let (pre, post) = (
        balances.pre_balances[0].as_ref().unwrap(),
        balances.post_balances[0].as_ref().unwrap(),
    );
    assert_eq!(pre, &vec![1_000_000_000, 0, 0]);
    assert_eq!(post, &vec![1_000_000_000 - 2_000_000 - 5_000, 2_000_000, 0]);
    assert_eq!(balances.pre_balances[1..3], [None, None], "not processed");
    assert_eq!(
        balances.post_balances[3].as_ref().unwrap()[0],
        1_000_000_000 - 2_000_000 - 2 * 5_000,
        "a failure still pays its fee"
    );
}

#[test]
fn nothing_is_recorded_unless_asked() {
    let payer = Pubkey::new_unique();
    let store: HashMap<Pubkey, AccountSharedData> = HashMap::from([(
        payer,
        AccountSharedData::new(1_000_000_000, 0, &system_program::ID),
    )]);
    let output = load_and_execute_sanitized_transactions(
        &store,
        &ProgramRegistry::with_builtins(),
        &[tx(&payer, &[])],
        &[Ok(TransactionCheck::RecentBlockhash)],
        &crate::environment(),
        &ProcessingConfig::default(),
    )
    .unwrap();
    assert_eq!(output.balances, None);
    assert_eq!(output.transaction_times, None, "not asked for");
}

#[test]
fn measure_ns_returns_the_value_and_a_duration() {
    let (value, ns) = measure_ns!((0..1_000u64).sum::<u64>());
    assert_eq!(value, 499_500);
    assert!(ns < 1_000_000_000);
}
