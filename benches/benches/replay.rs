//! Block replay: a 10,000-transaction block (transfers; bench-program transactions) on the
//! parallel replayer with 2 workers against the sequential replayer, in one process.
//!
//! `cargo bench -p benches --bench replay`

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use banking_stage::workload::{ConflictPattern, TransactionMix, Workload, WorkloadConfig};
use banking_stage::{
    Bank, BankConfig, Block, BlockReplayer, PipelineConfig, replay_sequentially, run_pipeline,
};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_main};
use svm_lite::ProgramRegistry;

const TRANSACTIONS: usize = 10_000;

fn genesis(workload: &Workload) -> Arc<Bank> {
    let bank = Arc::new(
        Bank::new_genesis(workload.genesis.clone(), BankConfig::default())
            .expect("generated genesis keys are distinct"),
    );
    bank.freeze();
    bank
}

/// One block holding all of `workload`'s transactions (a long slot, the default limits).
fn block(workload: &Workload, programs: &Arc<ProgramRegistry>) -> Block {
    let (sender, receiver) = crossbeam_channel::unbounded();
    for transaction in &workload.transactions {
        sender.send(transaction.clone()).expect("receiver is alive");
    }
    drop(sender);
    let config = PipelineConfig {
        num_workers: 2,
        slot_duration: Duration::from_secs(600),
        max_slots: Some(1),
        ..PipelineConfig::default()
    };
    let output = run_pipeline(
        genesis(workload),
        Arc::clone(programs),
        &config,
        receiver,
        |_| {},
    )
    .expect("a valid configuration");
    assert_eq!(
        output.blocks[0].transaction_count(),
        TRANSACTIONS,
        "one block holds all"
    );
    output.blocks.into_iter().next().expect("one block")
}

fn replay(c: &mut Criterion) {
    let programs = Arc::new(ProgramRegistry::with_builtins());
    let mut group = c.benchmark_group("replay_10k");
    group.sample_size(10);
    group.throughput(Throughput::Elements(TRANSACTIONS as u64));
    for (name, mix) in [
        ("transfers", TransactionMix::TRANSFERS),
        ("bench_2000_units", TransactionMix::BENCH),
    ] {
        let workload = Workload::generate(&WorkloadConfig {
            transactions: TRANSACTIONS,
            pattern: ConflictPattern::Zipf {
                accounts: 1_000,
                exponent: 1.1,
            },
            mix,
            bench_units: 2_000,
            ..WorkloadConfig::default()
        });
        let block = block(&workload, &programs);
        let blocks = std::slice::from_ref(&block);
        group.bench_function(BenchmarkId::new(name, "sequential"), |b| {
            b.iter_batched(
                || genesis(&workload),
                |parent| {
                    black_box(replay_sequentially(parent, &programs, blocks).expect("replays"))
                },
                BatchSize::PerIteration,
            );
        });
        let mut replayer = BlockReplayer::new(2, Arc::clone(&programs));
        group.bench_function(BenchmarkId::new(name, "parallel_2_workers"), |b| {
            b.iter_batched(
                || genesis(&workload),
                |parent| black_box(replayer.replay(&parent, &block).expect("replays")),
                BatchSize::PerIteration,
            );
        });
    }
    group.finish();
}

/// The replay scheduler's own cost per task, with workers that answer at once: the
/// 10,000-transaction block's tasks (their real account sets) all scheduled into a FIFO
/// state machine on one thread (those behind a hot account wait), then every handed-out
/// task descheduled at once, which hands out the next. Task creation is timed
/// too (it runs on the replayer's calling thread); execution and channels are not.
fn scheduler_per_task(c: &mut Criterion) {
    use unified_scheduler_logic::{Capability, RequestedUsage, SchedulingStateMachine, UsageQueue};

    let programs = Arc::new(ProgramRegistry::with_builtins());
    let workload = Workload::generate(&WorkloadConfig {
        transactions: TRANSACTIONS,
        pattern: ConflictPattern::Zipf {
            accounts: 1_000,
            exponent: 1.1,
        },
        mix: TransactionMix::TRANSFERS,
        ..WorkloadConfig::default()
    });
    let block = block(&workload, &programs);
    let transactions: Vec<_> = block
        .entries
        .iter()
        .flat_map(|entry| entry.transactions.iter().cloned())
        .collect();
    let mut cache: std::collections::HashMap<sdk_lite::Pubkey, UsageQueue<usize>> =
        std::collections::HashMap::new();
    // SAFETY: the only state machine for `usize` payloads on this thread, and the only
    // user of the cache's usage queues.
    let mut machine = unsafe {
        SchedulingStateMachine::<usize>::exclusively_initialize_current_thread_for_scheduling(
            Capability::FifoQueueing,
            None,
        )
    };
    let mut group = c.benchmark_group("replay_scheduler");
    group.throughput(Throughput::Elements(TRANSACTIONS as u64));
    group.bench_function("zipf_transfers_per_task", |b| {
        b.iter(|| {
            let mut loader = |key: sdk_lite::Pubkey| {
                cache
                    .entry(key)
                    .or_insert_with(|| UsageQueue::new(Capability::FifoQueueing))
                    .clone()
            };
            let mut running = Vec::new();
            for (index, transaction) in transactions.iter().enumerate() {
                let task = SchedulingStateMachine::create_task(
                    index,
                    index as u128,
                    transaction.lock_requests().map(|(key, writable)| {
                        let usage = if writable {
                            RequestedUsage::Writable
                        } else {
                            RequestedUsage::Readonly
                        };
                        (*key, usage)
                    }),
                    &mut loader,
                );
                running.extend(machine.schedule_task(task));
            }
            // Then the workers answer at once: every handed-out task finishes, which
            // hands out the ones waiting behind it (the hot accounts' queues).
            while let Some(task) = running.pop() {
                machine.deschedule_task(&task);
                while let Some(next) = machine.schedule_next_unblocked_task() {
                    running.push(next);
                }
            }
            assert!(machine.has_no_active_task());
        });
    });
    group.finish();
}

mod group {
    // The macro generates an undocumented `pub fn benches`.
    #![allow(missing_docs)]
    criterion::criterion_group!(benches, super::replay, super::scheduler_per_task);
}
criterion_main!(group::benches);
