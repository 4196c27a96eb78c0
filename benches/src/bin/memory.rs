//! `memory`: bytes per queued transaction in each scheduler, and the peak resident memory
//! of a 100,000-transaction pipeline run, measured with a counting allocator (not
//! estimated from type sizes).
//!
//! `cargo run --release -p benches --bin memory`

// Printing the table is this program's job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use banking_stage::workload::{Workload, WorkloadConfig};
use banking_stage::{
    Bank, BankConfig, BufferedTransaction, PipelineConfig, PrioGraphScheduler, Scheduler,
    TransactionContainer, run_pipeline,
};
use scheduling_utils::{ThreadAwareAccountLocks, ThreadSet};
use sdk_lite::{
    AccountMeta, Hash, Instruction, Message, Pubkey, SanitizedTransaction, Transaction,
};
use svm_lite::ProgramRegistry;
use unified_scheduler_logic::{Capability, RequestedUsage, SchedulingStateMachine, UsageQueue};

/// The system allocator, counting the bytes currently allocated.
struct Counting;

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s guarantees hold; the counter only observes sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded from our caller, who upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        ALLOCATED.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded from our caller: `ptr` came from this allocator with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATED.fetch_add(new_size, Ordering::Relaxed);
        ALLOCATED.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded from our caller, who upholds `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocated() -> usize {
    ALLOCATED.load(Ordering::Relaxed)
}

const N: usize = 10_000;

/// `n` transactions from distinct payers, each writing one account of `accounts(i)` and
/// reading one shared program: 3 lock requests each.
fn transactions(n: usize, account: impl Fn(usize) -> Pubkey) -> Vec<BufferedTransaction> {
    let program = Pubkey::new_unique();
    (0..n)
        .map(|index| {
            let payer = Pubkey::new_unique();
            let instruction = Instruction::new_with_bytes(
                program,
                &[0; 8],
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

fn per_transaction(before: usize, after: usize) -> f64 {
    after.saturating_sub(before) as f64 / N as f64
}

fn main() {
    println!("bytes per transaction, measured with a counting allocator over {N} transactions");
    println!(
        "(each transaction: 3 lock requests: its payer and one account written, one program read)"
    );

    let before = allocated();
    let shared = Pubkey::new_unique();
    let unique = transactions(N, |_| Pubkey::new_unique());
    println!(
        "{:<58} {:>8.0}",
        "a sanitized transaction (Arc, keys, instruction, signature)",
        per_transaction(before, allocated())
    );
    let hot = transactions(N, |_| shared);

    // The central scheduler's buffer.
    let before = allocated();
    let mut container = TransactionContainer::with_capacity(N);
    for (index, transaction) in unique.iter().enumerate() {
        container.insert(Arc::clone(transaction), index as u64);
    }
    println!(
        "{:<58} {:>8.0}",
        "either scheduler: buffered in the container",
        per_transaction(before, allocated())
    );
    drop(container);

    // The thread-aware lock table, per transaction in flight.
    let before = allocated();
    let mut locks: ThreadAwareAccountLocks<Pubkey> = ThreadAwareAccountLocks::new(4);
    for transaction in &unique {
        locks
            .try_lock_accounts(transaction.lock_requests(), ThreadSet::any(4), |set| {
                set.contained_threads_iter().next().unwrap_or(0)
            })
            .expect("no conflicts");
    }
    println!(
        "{:<58} {:>8.0}",
        "either scheduler: in flight (thread-aware lock entries)",
        per_transaction(before, allocated())
    );
    drop(locks);

    // A prio-graph pass over the whole buffer with no worker able to take anything: the
    // window, the graph's edges and the parked queues at their largest.
    let mut container = TransactionContainer::with_capacity(N);
    for (index, transaction) in hot.iter().enumerate() {
        container.insert(Arc::clone(transaction), index as u64);
    }
    let mut scheduler = PrioGraphScheduler::new(1, 1);
    let before = allocated();
    let _ = scheduler.schedule(&mut container, N, u64::MAX, &|_| 1_000);
    let _ = scheduler.schedule(&mut container, N, u64::MAX, &|_| 1_000);
    println!(
        "{:<58} {:>8.0}",
        "prio-graph: parked behind a stuck hot account",
        per_transaction(before, allocated())
    );
    drop(scheduler);
    drop(container);

    // The unified scheduler: a task, its lock contexts and its usage queues' entries.
    let cache: std::collections::HashMap<Pubkey, UsageQueue<usize>> = unique
        .iter()
        .chain(&hot)
        .flat_map(|transaction| transaction.lock_requests().map(|(key, _)| *key))
        .map(|key| (key, UsageQueue::new(Capability::FifoQueueing)))
        .collect();
    let mut loader = |key: Pubkey| cache[&key].clone();
    // SAFETY: the only state machine of this thread for `usize` payloads, and the only
    // user of these usage queues.
    let mut machine = unsafe {
        SchedulingStateMachine::<usize>::exclusively_initialize_current_thread_for_scheduling(
            Capability::FifoQueueing,
            None,
        )
    };
    let requests = |transaction: &BufferedTransaction| {
        transaction
            .lock_requests()
            .map(|(key, writable)| {
                (
                    *key,
                    if writable {
                        RequestedUsage::Writable
                    } else {
                        RequestedUsage::Readonly
                    },
                )
            })
            .collect::<Vec<_>>()
    };
    let before = allocated();
    let tasks: Vec<_> = hot
        .iter()
        .enumerate()
        .map(|(index, transaction)| {
            SchedulingStateMachine::create_task(
                index,
                index as u128,
                requests(transaction),
                &mut loader,
            )
        })
        .collect();
    let created = allocated();
    println!(
        "{:<58} {:>8.0}",
        "unified scheduler: a task with its lock contexts",
        per_transaction(before, created)
    );
    let mut running = Vec::new();
    for task in tasks {
        running.extend(machine.schedule_task(task));
    }
    println!(
        "{:<58} {:>8.0}",
        "unified scheduler: waiting in a usage queue (a chain)",
        per_transaction(created, allocated())
    );
    for task in running {
        machine.deschedule_task(&task);
    }
    while let Some(task) = machine.schedule_next_unblocked_task() {
        machine.deschedule_task(&task);
    }

    // The peak resident memory of a 100,000-transaction run.
    let workload = Workload::generate(&WorkloadConfig {
        transactions: 100_000,
        ..WorkloadConfig::default()
    });
    let genesis = Arc::new(
        Bank::new_genesis(workload.genesis.clone(), BankConfig::default()).expect("distinct keys"),
    );
    genesis.freeze();
    let (sender, receiver) = crossbeam_channel::unbounded();
    for transaction in workload.transactions {
        sender.send(transaction).expect("receiver alive");
    }
    drop(sender);
    let output = run_pipeline(
        genesis,
        Arc::new(ProgramRegistry::with_builtins()),
        &PipelineConfig {
            num_workers: 4,
            slot_duration: Duration::from_millis(400),
            ..PipelineConfig::default()
        },
        receiver,
        |_| {},
    )
    .expect("a valid configuration");
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status
        .lines()
        .find(|line| line.starts_with("VmHWM"))
        .unwrap_or("VmHWM: unknown (no /proc)");
    println!(
        "100,000-transaction pipeline run (default mix, 4 workers, {} slots, {} committed): peak resident {}",
        output.slots.len(),
        output.committed(),
        peak.trim_start_matches("VmHWM:").trim()
    );
}
