//! `SchedulingStateMachine` (`unified-scheduler-logic`) in FIFO and priority mode, on the
//! workloads of `benches::usl_cases`: schedule + deschedule of 10- or 100-account tasks one
//! at a time (pair), chains of tasks writing the same 1 or 10 accounts, and a mix of
//! 2-write + 2-read tasks over 50 accounts. Each iteration is one run of the whole workload
//! on fresh tasks, built before the clock starts and dropped after it stops; the time is
//! per run, and criterion's throughput line gives tasks (pairs) per second.
//!
//! `cargo bench -p benches --bench unified_scheduler_logic`. Agave's crate on the same
//! workloads: `cargo run --release --manifest-path benches/agave-compare/Cargo.toml`.

use std::collections::HashMap;

use benches::usl_cases::{
    Mode, RunInput, UslCase, Workload, assert_completed, ours_tasks, run_to_completion, usl_cases,
};
use criterion::measurement::WallTime;
use criterion::{BatchSize, BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput};
use sdk_lite::Pubkey;
use unified_scheduler_logic::{SchedulingStateMachine, UsageQueue};

fn key(i: u64) -> Pubkey {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&i.to_le_bytes());
    bytes[31] = 0xa5;
    Pubkey::new_from_array(bytes)
}

fn fifo(c: &mut Criterion) {
    bench_mode(c, Mode::Fifo);
}

fn priority(c: &mut Criterion) {
    bench_mode(c, Mode::Priority);
}

/// The cases of `mode`, on one state machine.
///
/// A thread can create only one state machine (its tokens are minted once per thread), so
/// each mode runs on a thread of its own (see `main`).
fn bench_mode(c: &mut Criterion, mode: Mode) {
    // SAFETY: this thread was spawned for this mode and creates no other machine; the
    // machine and every task and usage queue of these benches are used on this thread only.
    let mut machine = unsafe {
        SchedulingStateMachine::<()>::exclusively_initialize_current_thread_for_scheduling(
            mode.capability(),
            None,
        )
    };
    let cases = usl_cases(key);
    for workload in [Workload::Pair, Workload::Chain, Workload::Mix] {
        let selected: Vec<&UslCase<Pubkey>> = cases
            .iter()
            .filter(|case| case.mode == mode && case.workload == workload)
            .collect();
        let Some(first) = selected.first() else {
            continue;
        };
        // Case names are `{mode}/{workload}/{parameters}`: the group is the first two.
        let (group_name, _) = split_name(&first.name);
        let mut group = c.benchmark_group(format!("unified_scheduler_logic/{group_name}"));
        if workload != Workload::Pair {
            // A run of a whole workload takes milliseconds: fewer samples.
            group.sample_size(20);
        }
        // One run of fresh tasks per iteration.
        group.sampling_mode(SamplingMode::Flat);
        for case in selected {
            group.throughput(Throughput::Elements(case.ops_per_run()));
            let (_, parameters) = split_name(&case.name);
            bench_case(
                &mut group,
                BenchmarkId::from_parameter(parameters),
                case,
                &mut machine,
            );
        }
        group.finish();
    }
}

/// `("{mode}/{workload}", "{parameters}")`.
fn split_name(name: &str) -> (&str, &str) {
    let second_slash = name
        .match_indices('/')
        .nth(1)
        .map(|(index, _)| index)
        .expect("case names are {mode}/{workload}/{parameters}");
    (&name[..second_slash], &name[second_slash + 1..])
}

fn bench_case(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: BenchmarkId,
    case: &UslCase<Pubkey>,
    machine: &mut SchedulingStateMachine<()>,
) {
    machine.reinitialize();
    // Usage queues are cached across iterations, as a validator caches them across blocks.
    let mut queues: HashMap<Pubkey, UsageQueue<()>> = HashMap::new();
    let expected_tasks = case.tasks.len();
    group.bench_function(id, |b| {
        b.iter_batched(
            || RunInput::new(ours_tasks(case, &mut queues, |_| ())),
            |mut input| {
                run_to_completion(machine, case.workload, &mut input);
                assert_completed(machine, &input, expected_tasks);
                // Returned, so that criterion drops the tasks after the clock stops.
                input
            },
            BatchSize::PerIteration,
        )
    });
}

// The macro generates undocumented `pub fn`s.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(fifo, super::fifo);
    criterion::criterion_group!(priority, super::priority);
}

/// `criterion_main!`, except that each group runs on a thread of its own (one state machine
/// per thread).
fn main() {
    for group in [group::fifo as fn(), group::priority] {
        std::thread::spawn(group)
            .join()
            .expect("the benchmark thread does not panic");
    }
    Criterion::default().configure_from_args().final_summary();
}
