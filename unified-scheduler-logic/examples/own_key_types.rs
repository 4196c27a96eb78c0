//! A chain with its own key type, using the two scheduling crates directly.
//!
//! The first user's chain names accounts with 32-byte addresses that are `Clone` but not
//! `Copy` (they carry no `Copy` promise in its codebase), and locks at (account, asset)
//! granularity: a transfer of asset A from an account does not conflict with a transfer of
//! asset B from the same account. Neither crate needs more of a key than `Eq + Hash +
//! Clone`, so the composite key is used as it is.
//!
//! `cargo run -p unified-scheduler-logic --example own_key_types`

// An example prints what it shows.
#![allow(clippy::print_stdout)]

use std::collections::HashMap;

use scheduling_utils::{ThreadAwareAccountLocks, ThreadSet};
use unified_scheduler_logic::{Capability, RequestedUsage, SchedulingStateMachine, UsageQueue};

/// A 32-byte address: `Clone`, deliberately not `Copy`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Address([u8; 32]);

/// An asset id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Asset(u64);

/// What a lock is taken on: one asset's balance of one account.
type LockKey = (Address, Asset);

fn address(byte: u8) -> Address {
    Address([byte; 32])
}

/// A transfer of `asset` from `from` to `to`: writes both balances of that asset.
fn transfer(from: u8, to: u8, asset: u64) -> Vec<(LockKey, bool)> {
    vec![
        ((address(from), Asset(asset)), true),
        ((address(to), Asset(asset)), true),
    ]
}

fn main() {
    let transactions = [
        ("alice->bob TOS", transfer(1, 2, 0)),
        ("alice->carol USDT", transfer(1, 3, 7)),
        ("bob->dave TOS", transfer(2, 4, 0)),
    ];

    // The leader's placement: which of two workers may take each transaction.
    let mut locks: ThreadAwareAccountLocks<LockKey> = ThreadAwareAccountLocks::new(2);
    let mut placed = Vec::new();
    let mut next = 0;
    for (name, requests) in &transactions {
        let worker = locks
            .try_lock_accounts(
                requests.iter().map(|(key, writable)| (key, *writable)),
                ThreadSet::any(2),
                |candidates| {
                    // Round robin among the allowed workers.
                    let choice = if candidates.contains(next % 2) {
                        next % 2
                    } else {
                        (next + 1) % 2
                    };
                    next += 1;
                    choice
                },
            )
            .expect("each transaction fits on one worker");
        println!("leader: {name} -> worker {worker}");
        placed.push(worker);
    }
    assert_ne!(
        placed[0], placed[1],
        "different assets of one account: no conflict"
    );
    assert_eq!(
        placed[0], placed[2],
        "bob's TOS is held by worker {}",
        placed[0]
    );
    for ((_, requests), worker) in transactions.iter().zip(&placed) {
        locks.unlock_accounts(
            requests.iter().map(|(key, writable)| (key, *writable)),
            *worker,
        );
    }
    assert!(locks.is_empty());

    // A validator's replay: the FIFO state machine orders the same transactions.
    let mut usage_queues: HashMap<LockKey, UsageQueue<&str>> = HashMap::new();
    let mut loader = |key: LockKey| {
        usage_queues
            .entry(key)
            .or_insert_with(|| UsageQueue::new(Capability::FifoQueueing))
            .clone()
    };
    // SAFETY: this is the only state machine for `&str` payloads on this thread, and the
    // usage queues above are used by no other state machine.
    let mut machine = unsafe {
        SchedulingStateMachine::<&str>::exclusively_initialize_current_thread_for_scheduling(
            Capability::FifoQueueing,
            None,
        )
    };
    let mut runnable = Vec::new();
    for (id, (name, requests)) in transactions.iter().enumerate() {
        let task = SchedulingStateMachine::create_task(
            *name,
            id as u128,
            requests.iter().map(|(key, writable)| {
                let usage = if *writable {
                    RequestedUsage::Writable
                } else {
                    RequestedUsage::Readonly
                };
                (key.clone(), usage)
            }),
            &mut loader,
        );
        match machine.schedule_task(task) {
            Some(task) => {
                println!("replay: {} runs now", task.payload());
                runnable.push(task);
            }
            None => println!("replay: {name} waits for an earlier transaction"),
        }
    }
    let names: Vec<&str> = runnable.iter().map(|task| *task.payload()).collect();
    assert_eq!(names, ["alice->bob TOS", "alice->carol USDT"]);
    // When the first finishes, the waiting one is handed out.
    machine.deschedule_task(&runnable[0]);
    let unblocked = machine
        .schedule_next_unblocked_task()
        .expect("bob's TOS is free");
    println!("replay: {} runs after alice->bob TOS", unblocked.payload());
    assert_eq!(*unblocked.payload(), "bob->dave TOS");
    machine.deschedule_task(&runnable[1]);
    machine.deschedule_task(&unblocked);
    assert!(machine.has_no_active_task());
}
