//! `banking-stage`: the greedy scheduler alone (workers that answer at once) on 16K
//! transactions, and the whole pipeline's throughput on the default workload.
//!
//! `cargo bench -p benches --bench banking_stage`

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use banking_stage::workload::{Workload, WorkloadConfig};
use banking_stage::{
    Bank, BankConfig, BufferedTransaction, GreedyScheduler, PipelineConfig, Scheduler,
    TransactionContainer, run_pipeline,
};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_main};
use sdk_lite::{
    AccountMeta, Hash, Instruction, Message, Pubkey, SanitizedTransaction, Transaction,
};
use svm_lite::ProgramRegistry;

const TRANSACTIONS: usize = 16 * 1024;
const WORKERS: usize = 4;
/// Estimated units per transaction: with the pipeline's default in-flight cap (2M units
/// per worker), a worker takes 2,000 transactions before the cap holds it back.
const UNITS: u64 = 1_000;

/// `n` transactions from distinct payers; each writes `account(i)`.
fn transactions(n: usize, account: impl Fn(usize) -> Pubkey) -> Vec<BufferedTransaction> {
    (0..n)
        .map(|index| {
            let payer = Pubkey::new_unique();
            let instruction = Instruction::new_with_bytes(
                Pubkey::new_unique(),
                &[],
                vec![AccountMeta::new(account(index), false)],
            );
            let message = Message::new(&[instruction], Some(&payer), Hash::default());
            Arc::new(
                SanitizedTransaction::try_new(Transaction::new_with_placeholder_signatures(
                    message,
                ))
                .expect("compiled messages sanitize"),
            )
        })
        .collect()
}

/// Schedules everything in `container`, completing every batch as soon as it is sent
/// (workers that answer at once). Returns the number of passes.
fn drain(
    scheduler: &mut GreedyScheduler,
    container: &mut TransactionContainer<BufferedTransaction>,
) -> usize {
    let mut passes = 0;
    while !container.is_empty() {
        let (batches, _) = scheduler.schedule(container, 1_000, &|_| UNITS);
        passes += 1;
        for batch in batches {
            scheduler.complete(batch, &[], container);
        }
    }
    passes
}

fn greedy_scheduler(c: &mut Criterion) {
    let mut group = c.benchmark_group("greedy_scheduler_16k");
    group.throughput(Throughput::Elements(TRANSACTIONS as u64));
    let shared = Pubkey::new_unique();
    let cases: [(&str, Vec<BufferedTransaction>); 2] = [
        (
            "no_conflicts",
            transactions(TRANSACTIONS, |_| Pubkey::new_unique()),
        ),
        ("all_conflicting", transactions(TRANSACTIONS, |_| shared)),
    ];
    for (name, transactions) in &cases {
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter_batched(
                || {
                    let mut container = TransactionContainer::with_capacity(TRANSACTIONS);
                    for (index, transaction) in transactions.iter().enumerate() {
                        container.insert(Arc::clone(transaction), (index % 97) as u64);
                    }
                    (GreedyScheduler::new(WORKERS, 2_000_000), container)
                },
                |(mut scheduler, mut container)| black_box(drain(&mut scheduler, &mut container)),
                BatchSize::LargeInput,
            );
        });
    }
    group.finish();
}

fn pipeline(c: &mut Criterion) {
    let workload_config = WorkloadConfig::default();
    let workload = Workload::generate(&workload_config);
    let programs = Arc::new(ProgramRegistry::with_builtins());
    let mut group = c.benchmark_group("pipeline_default_workload");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(15));
    group.throughput(Throughput::Elements(workload.transactions.len() as u64));
    for workers in [1, 2] {
        let config = PipelineConfig {
            num_workers: workers,
            ..PipelineConfig::default()
        };
        group.bench_function(BenchmarkId::new("workers", workers), |b| {
            b.iter_batched(
                || {
                    let genesis = Arc::new(
                        Bank::new_genesis(workload.genesis.clone(), BankConfig::default())
                            .expect("generated genesis keys are distinct"),
                    );
                    genesis.freeze();
                    let (sender, receiver) = crossbeam_channel::unbounded();
                    for transaction in &workload.transactions {
                        sender.send(transaction.clone()).expect("receiver is alive");
                    }
                    (genesis, receiver)
                },
                |(genesis, receiver)| {
                    let output =
                        run_pipeline(genesis, Arc::clone(&programs), &config, receiver, |_| {})
                            .expect("a valid configuration");
                    black_box(output.committed())
                },
                BatchSize::PerIteration,
            );
        });
    }
    group.finish();
}

mod group {
    // The macro generates an undocumented `pub fn benches`.
    #![allow(missing_docs)]
    criterion::criterion_group!(benches, super::greedy_scheduler, super::pipeline);
}
criterion_main!(group::benches);
