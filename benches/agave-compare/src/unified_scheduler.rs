//! `SchedulingStateMachine`: this project's (`unified-scheduler-logic`) against Agave's
//! (`solana-unified-scheduler-logic` 4.2.2) on the workloads of `benches::usl_cases`,
//! interleaved in one process.
//!
//! Both sides run the same driver code (`benches::usl_cases`), through a thin
//! `SchedulerUnderTest` implementation each, and use the same addresses (Solana `Pubkey`s),
//! cached usage queues, and task ids. Agave's tasks wrap real `RuntimeTransaction`s whose
//! account keys are the task's addresses, writable ones first (so Agave locks exactly the
//! addresses ours does, in the same order). Ours carry a `()` payload (a caller may keep the
//! transaction behind a pointer); every case runs a second time with an opaque payload as
//! large as Agave's inline `RuntimeTransaction` ([`AgaveSizedPayload`]), so that a task of
//! either side takes as much memory: a run touches every task, a chain or a mix several
//! times, and a larger task means a larger working set. Each round is one run of the
//! workload on fresh tasks (a task is scheduled once), built before the clock starts and
//! dropped after it stops; usage queues are cached across rounds.
//!
//! Each case runs on a thread of its own: both crates mint their scheduler-thread tokens
//! once per thread.
//!
//! Before timing, every case runs once on each side and the order in which tasks were
//! descheduled must be the same: the two machines make the same decisions.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use benches::paired_timing::{PairedMedians, paired_medians_custom, time_run};
use benches::usl_cases::{
    Mode, RunInput, SchedulerUnderTest, TaskSpec, UslCase, assert_completed, ours_tasks,
    run_to_completion, usl_cases,
};
use solana_hash::Hash;
use solana_message::{Message, SimpleAddressLoader};
use solana_pubkey::Pubkey;
use solana_runtime_transaction::runtime_transaction::RuntimeTransaction;
use solana_transaction::Transaction;
use solana_transaction::sanitized::{MessageHash, SanitizedTransaction};
use solana_transaction::versioned::VersionedTransaction;
use solana_unified_scheduler_logic as agave;
use unified_scheduler_logic::{SchedulingStateMachine, UsageQueue};

/// A payload for this project's tasks as large as the transaction inside Agave's
/// `TaskInner`.
type AgaveSizedPayload = [u8; size_of::<RuntimeTransaction<SanitizedTransaction>>()];

/// Rounds per case (each round: one run of the workload on fresh tasks).
const ROUNDS: usize = 21;

/// Runs the cases whose name contains `filter` (all if `section` contains it) and prints
/// the table.
pub(crate) fn run(section: &str, filter: &str) {
    let cases: Vec<UslCase<Pubkey>> = usl_cases(key)
        .into_iter()
        .filter(|case| section.contains(filter) || case.name.contains(filter))
        .collect();
    if cases.is_empty() {
        return;
    }

    println!(
        "\nSchedulingStateMachine: unified-scheduler-logic vs solana-unified-scheduler-logic 4.2.2"
    );
    println!(
        "one run of the whole workload on fresh tasks per round, median over {ROUNDS} rounds of \
         ns per task (pair: per schedule_task + deschedule_task)"
    );
    println!(
        "payload: what our tasks carry besides the scheduling state (Agave's carry a \
         RuntimeTransaction, {} B inline)\n",
        size_of::<AgaveSizedPayload>()
    );
    println!(
        "{:<52} {:>8} {:>10} {:>10} {:>10}",
        "case", "payload", "ours", "agave", "ours/agave"
    );
    for case in &cases {
        print_row(case, "()", || compare(case, |_| ()));
        print_row(
            case,
            &format!("{} B", size_of::<AgaveSizedPayload>()),
            || compare(case, |_| [0; size_of::<AgaveSizedPayload>()]),
        );
    }
}

/// Runs `compare` on a fresh thread (both crates mint their tokens once per thread) and
/// prints its row.
fn print_row(
    case: &UslCase<Pubkey>,
    payload: &str,
    compare: impl FnOnce() -> PairedMedians + Send,
) {
    let medians = std::thread::scope(|scope| {
        scope
            .spawn(compare)
            .join()
            .expect("the comparison thread does not panic")
    });
    println!(
        "{:<52} {:>8} {:>10.1} {:>10.1} {:>10.2}",
        case.name,
        payload,
        medians.a_ns,
        medians.b_ns,
        medians.ratio()
    );
}

fn key(i: u64) -> Pubkey {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&i.to_le_bytes());
    bytes[31] = 0xa5;
    Pubkey::new_from_array(bytes)
}

/// Agave's state machine, behind the drivers' interface.
struct AgaveMachine(agave::SchedulingStateMachine);

impl SchedulerUnderTest for AgaveMachine {
    type Task = agave::Task;

    #[inline(always)]
    fn schedule(&mut self, task: agave::Task) -> Option<agave::Task> {
        // `schedule_task` is `#[cfg(any(test, doc))]` in 4.2.2; this is what it calls.
        self.0.schedule_or_buffer_task(task, false)
    }

    #[inline(always)]
    fn deschedule(&mut self, task: &agave::Task) {
        self.0.deschedule_task(task);
    }

    #[inline(always)]
    fn next_unblocked(&mut self) -> Option<agave::Task> {
        self.0.schedule_next_unblocked_task()
    }

    fn has_no_active_task(&self) -> bool {
        self.0.has_no_active_task()
    }

    fn reinitialize(&mut self) {
        self.0.reinitialize();
    }

    fn task_id(task: &agave::Task) -> u128 {
        task.task_id()
    }
}

/// A transaction whose account keys are exactly `spec`'s addresses, in order, with the same
/// writability: the first is the (writable, signing) fee payer, the other writable ones
/// follow, then the read-only ones; no instruction, so no program id joins the keys.
fn agave_transaction(spec: &TaskSpec<Pubkey>) -> RuntimeTransaction<SanitizedTransaction> {
    let writable = spec.locks.iter().take_while(|(_, w)| *w).count();
    assert!(writable >= 1, "the fee payer is writable");
    assert!(
        spec.locks[writable..].iter().all(|(_, w)| !*w),
        "writable addresses come first"
    );
    let readonly = u8::try_from(spec.locks.len() - writable).expect("fewer than 256 accounts");
    let message = Message::new_with_compiled_instructions(
        1,
        0,
        readonly,
        spec.locks.iter().map(|(address, _)| *address).collect(),
        Hash::default(),
        vec![],
    );
    RuntimeTransaction::try_create(
        VersionedTransaction::from(Transaction::new_unsigned(message)),
        MessageHash::Compute,
        Some(false),
        SimpleAddressLoader::Disabled,
        &HashSet::new(),
        true,
    )
    .expect("a sanitizable transaction")
}

fn agave_tasks(
    case: &UslCase<Pubkey>,
    queues: &mut HashMap<Pubkey, agave::UsageQueue>,
) -> Vec<agave::Task> {
    let capability = match case.mode {
        Mode::Fifo => agave::Capability::FifoQueueing,
        Mode::Priority => agave::Capability::PriorityQueueing,
    };
    let mut loader = |address: Pubkey| {
        queues
            .entry(address)
            .or_insert_with(|| agave::UsageQueue::new(&capability))
            .clone()
    };
    case.tasks
        .iter()
        .map(|spec| {
            agave::SchedulingStateMachine::create_task(
                agave_transaction(spec),
                spec.task_id,
                &mut loader,
            )
        })
        .collect()
}

/// Agave locks a task's account keys with their writability: they must be the spec's.
fn assert_same_locks(case: &UslCase<Pubkey>, tasks: &[agave::Task]) {
    for (spec, task) in case.tasks.iter().zip(tasks) {
        let message = task.transaction().message();
        let locks: Vec<(Pubkey, bool)> = message
            .account_keys()
            .iter()
            .enumerate()
            .map(|(index, address)| (*address, message.is_writable(index)))
            .collect();
        assert_eq!(
            locks, spec.locks,
            "{}: Agave's task locks the spec's accounts",
            case.name
        );
    }
}

/// Runs `case` once on `machine` (untimed) and returns the ids in descheduling order.
fn deschedule_order<S: SchedulerUnderTest>(
    machine: &mut S,
    case: &UslCase<Pubkey>,
    tasks: Vec<S::Task>,
) -> Vec<u128> {
    let mut input = RunInput::new(tasks);
    run_to_completion(machine, case.workload, &mut input);
    assert_completed(machine, &input, case.tasks.len());
    machine.reinitialize();
    input.done().iter().map(S::task_id).collect()
}

/// One round: fresh tasks in, the run timed, the tasks dropped.
fn timed_run<S: SchedulerUnderTest>(
    machine: &mut S,
    case: &UslCase<Pubkey>,
    tasks: Vec<S::Task>,
) -> Duration {
    machine.reinitialize();
    let (elapsed, input) = time_run(RunInput::new(tasks), |mut input| {
        run_to_completion(machine, case.workload, &mut input);
        input
    });
    assert_completed(machine, &input, case.tasks.len());
    drop(input);
    elapsed
}

/// Times `case` on both machines, on the current (fresh) thread; our tasks carry
/// `payload(spec)`.
fn compare<P: 'static>(
    case: &UslCase<Pubkey>,
    payload: impl Fn(&TaskSpec<Pubkey>) -> P + Copy,
) -> PairedMedians {
    // SAFETY: this thread was spawned for this case and holds no token yet; the machine,
    // its tasks and its usage queues are used on this thread only and dropped with it.
    let mut ours = unsafe {
        SchedulingStateMachine::<P>::exclusively_initialize_current_thread_for_scheduling(
            case.mode.capability(),
            None,
        )
    };
    // SAFETY: as above, for Agave's machine (its tokens are distinct types from ours).
    let mut theirs = AgaveMachine(unsafe {
        agave::SchedulingStateMachine::exclusively_initialize_current_thread_for_scheduling(
            None, None,
        )
    });
    let mut our_queues: HashMap<Pubkey, UsageQueue<P>> = HashMap::new();
    let mut their_queues: HashMap<Pubkey, agave::UsageQueue> = HashMap::new();

    let their_tasks = agave_tasks(case, &mut their_queues);
    assert_same_locks(case, &their_tasks);

    let our_order = deschedule_order(&mut ours, case, ours_tasks(case, &mut our_queues, payload));
    let their_order = deschedule_order(&mut theirs, case, their_tasks);
    assert!(
        our_order == their_order,
        "{}: both machines deschedule the tasks in the same order",
        case.name
    );
    paired_medians_custom(
        ROUNDS,
        case.ops_per_run(),
        || {
            let tasks = ours_tasks(case, &mut our_queues, payload);
            timed_run(&mut ours, case, tasks)
        },
        || {
            let tasks = agave_tasks(case, &mut their_queues);
            timed_run(&mut theirs, case, tasks)
        },
    )
}
