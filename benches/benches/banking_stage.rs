//! `banking-stage`: the schedulers alone (workers that answer at once) on 16K transactions
//! (unique accounts, one shared account, Zipf 1.1), and the whole pipeline's throughput
//! on the default workload.
//!
//! `cargo bench -p benches --bench banking_stage`

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use banking_stage::workload::{Workload, WorkloadConfig};
use banking_stage::{
    Bank, BankConfig, BufferedTransaction, DEFAULT_LOOK_AHEAD_WINDOW, GreedyScheduler,
    PipelineConfig, PrioGraphScheduler, Scheduler, SchedulerKind, TransactionContainer,
    run_pipeline,
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
    scheduler: &mut dyn Scheduler,
    container: &mut TransactionContainer<BufferedTransaction>,
) -> usize {
    let mut passes = 0;
    while !container.is_empty() || scheduler.held() > 0 {
        let (batches, _) = scheduler.schedule(container, 1_000, u64::MAX, &|_| UNITS);
        passes += 1;
        for batch in batches {
            scheduler.complete(batch, &[], container);
        }
    }
    passes
}

/// Zipf(1.1) ranks over 1,000 accounts, from a fixed linear congruential stream.
fn zipf_accounts(n: usize) -> Vec<Pubkey> {
    let accounts: Vec<Pubkey> = (0..1_000).map(|_| Pubkey::new_unique()).collect();
    let mut total = 0.0;
    let cdf: Vec<f64> = (1..=accounts.len())
        .map(|rank| {
            total += 1.0 / (rank as f64).powf(1.1);
            total
        })
        .collect();
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let u = (state >> 11) as f64 / (1u64 << 53) as f64 * total;
            accounts[cdf.partition_point(|&p| p < u).min(accounts.len() - 1)]
        })
        .collect()
}

type MakeScheduler = fn() -> Box<dyn Scheduler>;

fn schedulers(c: &mut Criterion) {
    let mut group = c.benchmark_group("scheduler_16k");
    group.throughput(Throughput::Elements(TRANSACTIONS as u64));
    let shared = Pubkey::new_unique();
    let zipf = zipf_accounts(TRANSACTIONS);
    let cases: [(&str, Vec<BufferedTransaction>); 3] = [
        (
            "unique",
            transactions(TRANSACTIONS, |_| Pubkey::new_unique()),
        ),
        ("one_shared", transactions(TRANSACTIONS, |_| shared)),
        ("zipf_1.1", transactions(TRANSACTIONS, |index| zipf[index])),
    ];
    let policies: [(&str, MakeScheduler); 3] = [
        ("greedy", || {
            Box::new(GreedyScheduler::new(WORKERS, 2_000_000))
        }),
        ("prio_graph", || {
            Box::new(PrioGraphScheduler::new(WORKERS, 2_000_000))
        }),
        // Without hot-account parking: what parking saves on one shared account.
        ("prio_graph_no_parking", || {
            Box::new(PrioGraphScheduler::with_limits(
                WORKERS,
                2_000_000,
                DEFAULT_LOOK_AHEAD_WINDOW,
                usize::MAX,
            ))
        }),
    ];
    for (case, transactions) in &cases {
        for (policy, make) in &policies {
            group.bench_function(BenchmarkId::new(*policy, case), |b| {
                b.iter_batched(
                    || {
                        let mut container = TransactionContainer::with_capacity(TRANSACTIONS);
                        for (index, transaction) in transactions.iter().enumerate() {
                            container.insert(Arc::clone(transaction), (index % 97) as u64);
                        }
                        (make(), container)
                    },
                    |(mut scheduler, mut container)| {
                        black_box(drain(scheduler.as_mut(), &mut container))
                    },
                    BatchSize::LargeInput,
                );
            });
        }
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
    for (name, scheduler, workers) in [
        ("greedy", SchedulerKind::Greedy, 1),
        ("greedy", SchedulerKind::Greedy, 2),
        ("prio_graph", SchedulerKind::PrioGraph, 2),
    ] {
        let config = PipelineConfig {
            num_workers: workers,
            scheduler,
            ..PipelineConfig::default()
        };
        group.bench_function(BenchmarkId::new(name, format!("{workers}_workers")), |b| {
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
    criterion::criterion_group!(benches, super::schedulers, super::pipeline);
}
criterion_main!(group::benches);
