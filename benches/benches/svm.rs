//! `svm-lite`: load + execute + collect of simple transfers and of bench-program
//! transactions, against a `HashMap` account source.
//!
//! `cargo bench -p benches --bench svm`

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_main};
use sdk_lite::{
    AccountSharedData, Hash, Instruction, Message, Pubkey, SanitizedTransaction, Transaction,
    TransactionError, system_program,
};
use svm_lite::bench_program::{BENCH_PROGRAM_ID, BENCH_STATE_LEN};
use svm_lite::system_program::instruction as system;
use svm_lite::{
    BenchInstruction, ProcessingEnvironment, ProgramRegistry, Rent, TransactionCheck,
    load_and_execute_sanitized_transactions,
};

type Store = HashMap<Pubkey, AccountSharedData>;
/// A workload builder: the store and the transactions of `n` transactions.
type Workload = fn(usize) -> (Store, Vec<SanitizedTransaction>);

fn tx(payer: &Pubkey, instructions: &[Instruction]) -> SanitizedTransaction {
    let message = Message::new(instructions, Some(payer), Hash::new_unique());
    SanitizedTransaction::try_new(Transaction::new_with_placeholder_signatures(message))
        .expect("compiled messages sanitize")
}

fn environment() -> ProcessingEnvironment {
    ProcessingEnvironment {
        slot: 1,
        blockhash: Hash::new_unique(),
        lamports_per_signature: 5_000,
        rent: Rent::default(),
    }
}

/// `n` transfers from `n` funded payers to `n` funded receivers.
fn transfers(n: usize) -> (Store, Vec<SanitizedTransaction>) {
    let mut store = Store::new();
    let mut transactions = Vec::with_capacity(n);
    for _ in 0..n {
        let (from, to) = (Pubkey::new_unique(), Pubkey::new_unique());
        store.insert(
            from,
            AccountSharedData::new(1_000_000_000, 0, &system_program::ID),
        );
        store.insert(
            to,
            AccountSharedData::new(1_000_000_000, 0, &system_program::ID),
        );
        transactions.push(tx(&from, &[system::transfer(&from, &to, 1_000)]));
    }
    (store, transactions)
}

/// `n` transactions, each writing 9 bench state accounts (10 accounts with the payer) with
/// no hashing work, so the cost is loading, the runtime checks and collecting.
fn bench_writes(n: usize, reuse: bool) -> (Store, Vec<SanitizedTransaction>) {
    let mut store = Store::new();
    let shared: Vec<Pubkey> = (0..9).map(|_| Pubkey::new_unique()).collect();
    let mut transactions = Vec::with_capacity(n);
    for _ in 0..n {
        let payer = Pubkey::new_unique();
        store.insert(
            payer,
            AccountSharedData::new(1_000_000_000, 0, &system_program::ID),
        );
        let states: Vec<Pubkey> = if reuse {
            shared.clone()
        } else {
            (0..9).map(|_| Pubkey::new_unique()).collect()
        };
        let instructions: Vec<Instruction> = states
            .iter()
            .map(|state| {
                store.insert(
                    *state,
                    AccountSharedData::new(1_000_000_000, BENCH_STATE_LEN, &BENCH_PROGRAM_ID),
                );
                BenchInstruction::Write { value: 7 }.to_instruction(state)
            })
            .collect();
        transactions.push(tx(&payer, &instructions));
    }
    (store, transactions)
}

fn process(c: &mut Criterion) {
    let programs = ProgramRegistry::with_builtins();
    let environment = environment();
    let mut group = c.benchmark_group("svm/load_execute_collect");
    let cases: [(&str, Workload, usize); 4] = [
        ("transfer/1", transfers, 1),
        ("transfer/64", transfers, 64),
        ("bench-10-accounts/64", |n| bench_writes(n, false), 64),
        ("bench-10-accounts-reused/64", |n| bench_writes(n, true), 64),
    ];
    for (name, build, n) in cases {
        let (store, transactions) = build(n);
        let checks: Vec<Result<TransactionCheck, TransactionError>> =
            vec![Ok(TransactionCheck::RecentBlockhash); n];
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| {
                let results = load_and_execute_sanitized_transactions(
                    &store,
                    &programs,
                    &transactions,
                    &checks,
                    &environment,
                    &svm_lite::ProcessingConfig::default(),
                )
                .expect("a map never fails")
                .results;
                assert!(
                    results
                        .iter()
                        .all(|r| r.as_ref().is_ok_and(|p| p.was_successful()))
                );
                black_box(results)
            })
        });
    }
    group.finish();
}

// The macro generates an undocumented `pub fn benches`.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::process);
}
criterion_main!(group::benches);
