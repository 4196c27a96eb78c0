//! Block replay: a 10,000-transaction block (transfers; bench-program transactions) on the
//! parallel replayer with 2 workers against the sequential replayer, in one process; and
//! the replay scheduler's own cost per task (`replay_scheduler`), alone and beside the
//! thread creating its tasks.
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

/// A transaction's accounts as the unified scheduler's lock requests.
fn usage_requests(
    transaction: &sdk_lite::SanitizedTransaction,
) -> impl Iterator<Item = (sdk_lite::Pubkey, unified_scheduler_logic::RequestedUsage)> + '_ {
    transaction.lock_requests().map(|(key, writable)| {
        (
            *key,
            unified_scheduler_logic::RequestedUsage::from_writable(writable),
        )
    })
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
/// too (the replayer's scheduler thread creates its tasks); execution and channels are not.
fn scheduler_per_task(c: &mut Criterion) {
    use unified_scheduler_logic::{Capability, SchedulingStateMachine, UsageQueue};

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
                    usage_requests(transaction),
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

/// The replay scheduler's cost per task (schedule, deschedule, drop) on a read-mostly block
/// (each transaction writes its own accounts and reads four of 16 shared ones and the
/// program), measured on the scheduler thread only, in three settings. A created task
/// holds a reference to each of its accounts' usage queues, so a thread creating tasks
/// beside the scheduler writes the reference counts of the shared queues while the
/// scheduler writes their state: the same cache lines. `creator_done_first` creates every
/// task before the scheduler starts; `creator_concurrent` sends each from another thread
/// as it is created (the replayer's earlier design); `scheduler_creates` creates them on
/// the scheduler thread, creation included in its time (the replayer's design now, for
/// the transactions that get a task: the replayer itself gives none to a read-mostly
/// block's transactions, which touch no contested account, and locks only contested
/// accounts; this bench locks every account, to measure a task's cost).
fn scheduler_beside_creator(c: &mut Criterion) {
    use std::time::Instant;
    use unified_scheduler_logic::{Capability, SchedulingStateMachine, UsageQueue};

    let programs = Arc::new(ProgramRegistry::with_builtins());
    let workload = Workload::generate(&WorkloadConfig {
        transactions: TRANSACTIONS,
        pattern: ConflictPattern::ReadMostly { shared: 16 },
        mix: TransactionMix::BENCH,
        bench_units: 0,
        ..WorkloadConfig::default()
    });
    let transactions: Vec<_> = workload
        .sequential_block(&programs)
        .entries
        .iter()
        .flat_map(|entry| entry.transactions.iter().cloned())
        .collect();
    let transactions = &transactions;
    // Creates the block's tasks, resolving queues through a cache as the replayer does,
    // and hands each to `send`.
    let create_all = |send: &mut dyn FnMut(unified_scheduler_logic::Task<usize>)| {
        let cache: dashmap::DashMap<sdk_lite::Pubkey, UsageQueue<usize>, ahash::RandomState> =
            dashmap::DashMap::default();
        let mut loader = |key: sdk_lite::Pubkey| {
            cache
                .entry(key)
                .or_insert_with(|| UsageQueue::new(Capability::FifoQueueing))
                .clone()
        };
        for (index, transaction) in transactions.iter().enumerate() {
            send(SchedulingStateMachine::create_task(
                index,
                index as u128,
                usage_requests(transaction),
                &mut loader,
            ));
        }
    };
    // The scheduler thread: its busy time (schedule, deschedule, drop) over every task.
    let schedule_all = |tasks: crossbeam_channel::Receiver<
        unified_scheduler_logic::Task<usize>,
    >| {
        std::thread::spawn(move || {
            // SAFETY: the only state machine for `usize` payloads on this new thread, and
            // the only user of the usage queues of its tasks (their cache is dropped by
            // the creator; the tasks are all descheduled here).
            let mut machine = unsafe {
                SchedulingStateMachine::<usize>::exclusively_initialize_current_thread_for_scheduling(
                    Capability::FifoQueueing,
                    None,
                )
            };
            let mut busy = Duration::ZERO;
            for task in tasks {
                let start = Instant::now();
                let task = machine
                    .schedule_task(task)
                    .expect("invariant: read-mostly tasks conflict with none in flight");
                machine.deschedule_task(&task);
                drop(task);
                busy += start.elapsed();
            }
            busy
        })
    };
    let mut group = c.benchmark_group("replay_scheduler");
    group.sample_size(20);
    group.throughput(Throughput::Elements(TRANSACTIONS as u64));
    group.bench_function("read_mostly_busy_creator_done_first", |b| {
        b.iter_custom(|iterations| {
            let mut busy = Duration::ZERO;
            for _ in 0..iterations {
                let (sender, receiver) = crossbeam_channel::unbounded();
                create_all(&mut |task| sender.send(task).expect("receiver is alive"));
                drop(sender);
                busy += schedule_all(receiver)
                    .join()
                    .expect("the scheduler thread ran");
            }
            busy
        });
    });
    group.bench_function("read_mostly_busy_creator_concurrent", |b| {
        b.iter_custom(|iterations| {
            let mut busy = Duration::ZERO;
            for _ in 0..iterations {
                let (sender, receiver) = crossbeam_channel::unbounded();
                let scheduler = schedule_all(receiver);
                create_all(&mut |task| sender.send(task).expect("scheduler is alive"));
                drop(sender);
                busy += scheduler.join().expect("the scheduler thread ran");
            }
            busy
        });
    });
    // The scheduler thread creating its own tasks, as the replayer's does: creation (each
    // account resolved through a plain map only this thread touches), schedule,
    // deschedule and drop, all on one thread.
    group.bench_function("read_mostly_busy_scheduler_creates", |b| {
        b.iter_custom(|iterations| {
            std::thread::scope(|scope| {
                scope
                    .spawn(|| {
                        // SAFETY: the only state machine for `usize` payloads on this new
                        // thread, and the only user of its tasks' usage queues.
                        let mut machine = unsafe {
                            SchedulingStateMachine::<usize>::exclusively_initialize_current_thread_for_scheduling(
                                Capability::FifoQueueing,
                                None,
                            )
                        };
                        let start = Instant::now();
                        for _ in 0..iterations {
                            let mut cache: ahash::AHashMap<sdk_lite::Pubkey, UsageQueue<usize>> =
                                ahash::AHashMap::default();
                            for (index, transaction) in transactions.iter().enumerate() {
                                let task = SchedulingStateMachine::create_task(
                                    index,
                                    index as u128,
                                    usage_requests(transaction),
                                    &mut |key| {
                                        cache
                                            .entry(key)
                                            .or_insert_with(|| {
                                                UsageQueue::new(Capability::FifoQueueing)
                                            })
                                            .clone()
                                    },
                                );
                                let task = machine.schedule_task(task).expect(
                                    "invariant: read-mostly tasks conflict with none in flight",
                                );
                                machine.deschedule_task(&task);
                            }
                        }
                        start.elapsed()
                    })
                    .join()
                    .expect("the scheduler thread ran")
            })
        });
    });
    group.finish();
}

mod group {
    // The macro generates an undocumented `pub fn benches`.
    #![allow(missing_docs)]
    criterion::criterion_group!(
        benches,
        super::replay,
        super::scheduler_per_task,
        super::scheduler_beside_creator
    );
}
criterion_main!(group::benches);
