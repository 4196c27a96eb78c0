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

mod group {
    // The macro generates an undocumented `pub fn benches`.
    #![allow(missing_docs)]
    criterion::criterion_group!(benches, super::replay);
}
criterion_main!(group::benches);
