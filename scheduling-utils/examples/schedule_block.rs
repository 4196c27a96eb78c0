//! A central scheduler and four workers on a virtual clock: transactions with priorities
//! and costs arrive, the scheduler places each on a worker with `ThreadAwareAccountLocks`
//! (conflicting transactions queue on the same worker), paces the block's budget with
//! `CostPacer`, and workers finish their queues in order, releasing the locks.
//!
//! Deterministic (seeded), single-threaded: the workers are simulated so that the printed
//! schedule is reproducible. It checks, as it goes, that no two running transactions
//! conflict, and at the end that every lock was released.
//!
//! `cargo run --release -p scheduling-utils --example schedule_block`
#![allow(clippy::print_stdout)] // Printing the schedule is this program's purpose.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use scheduling_utils::{CostPacer, ThreadAwareAccountLocks, ThreadSet, TryLockError};

const NUM_WORKERS: usize = 4;
const NUM_TRANSACTIONS: usize = 2_000;
const NUM_ACCOUNTS: u32 = 400;
/// Accounts 0..HOT_ACCOUNTS are written by a quarter of all transactions.
const HOT_ACCOUNTS: u32 = 4;
/// A worker is not given more than this many queued compute units.
const MAX_QUEUED_UNITS_PER_WORKER: u64 = 400_000;
const BLOCK_UNITS: u64 = 48_000_000;
/// The block's budget is released over this much virtual time (480,000 units per
/// millisecond: a little more than four workers execute).
const FILL_TIME: Duration = Duration::from_millis(100);
/// Virtual time per compute unit (1 unit = 10 ns of execution).
const NANOS_PER_UNIT: u64 = 10;

#[derive(Debug, Clone)]
struct Transaction {
    id: usize,
    priority: u64,
    units: u64,
    /// `(account, is_writable)`.
    accounts: Vec<(u32, bool)>,
}

struct Worker {
    queue: VecDeque<Transaction>,
    queued_units: u64,
    /// When the transaction at the front of the queue finishes (virtual nanoseconds).
    busy_until: u64,
    executed: usize,
}

fn main() {
    let mut rng = XorShift(0x5eed_1234_abcd_0001);
    let mut pending: Vec<Transaction> = (0..NUM_TRANSACTIONS)
        .map(|id| random_transaction(id, &mut rng))
        .collect();
    // Highest priority first; the scheduler always scans in this order.
    pending.sort_by(|a, b| b.priority.cmp(&a.priority).then(a.id.cmp(&b.id)));
    let sequential_units: u64 = pending.iter().map(|tx| tx.units).sum();

    let mut locks = ThreadAwareAccountLocks::<u32>::new(NUM_WORKERS);
    let mut workers: Vec<Worker> = (0..NUM_WORKERS)
        .map(|_| Worker {
            queue: VecDeque::new(),
            queued_units: 0,
            busy_until: 0,
            executed: 0,
        })
        .collect();
    let start = Instant::now();
    let pacer = CostPacer::new(BLOCK_UNITS, start, Some(FILL_TIME));
    let (mut scheduled_units, mut now) = (0u64, 0u64);
    let (mut conflicts, mut not_allowed, mut paced_out, mut passes) = (0usize, 0usize, 0usize, 0);

    while !pending.is_empty() || workers.iter().any(|w| !w.queue.is_empty()) {
        passes += 1;
        // One scheduling pass over the pending transactions, best first.
        let mut allowed = ThreadSet::none();
        for (thread, worker) in workers.iter().enumerate() {
            if worker.queued_units < MAX_QUEUED_UNITS_PER_WORKER {
                allowed.insert(thread);
            }
        }
        let mut budget =
            pacer.scheduling_budget(start + Duration::from_nanos(now), scheduled_units);
        let mut still_pending = Vec::with_capacity(pending.len());
        let mut pending_iter = pending.drain(..);
        for tx in pending_iter.by_ref() {
            if tx.units > budget {
                // The pacer has released no more for now: end the pass.
                paced_out += 1;
                still_pending.push(tx);
                break;
            }
            let result = locks.try_lock_accounts(
                tx.accounts
                    .iter()
                    .map(|(account, writable)| (account, *writable)),
                allowed,
                |candidates| least_queued(candidates, &workers),
            );
            match result {
                Ok(thread) => {
                    budget -= tx.units;
                    scheduled_units += tx.units;
                    let worker = &mut workers[thread];
                    if worker.queue.is_empty() {
                        worker.busy_until = now + tx.units * NANOS_PER_UNIT;
                    }
                    worker.queued_units += tx.units;
                    if worker.queued_units >= MAX_QUEUED_UNITS_PER_WORKER {
                        allowed.remove(thread);
                    }
                    worker.queue.push_back(tx);
                }
                Err(TryLockError::MultipleConflicts) => {
                    conflicts += 1;
                    still_pending.push(tx);
                }
                Err(TryLockError::ThreadNotAllowed) => {
                    not_allowed += 1;
                    still_pending.push(tx);
                }
            }
        }
        still_pending.extend(pending_iter);
        pending = still_pending;

        // Advance the clock to the next completion (or, if every worker is idle because
        // the pacer holds the budget back, by one millisecond).
        let Some(next) = workers
            .iter()
            .filter(|w| !w.queue.is_empty())
            .map(|w| w.busy_until)
            .min()
        else {
            now += 1_000_000;
            continue;
        };
        now = next;
        assert_running_set_is_conflict_free(&workers);
        for (thread, worker) in workers.iter_mut().enumerate() {
            if worker.queue.is_empty() || worker.busy_until != now {
                continue;
            }
            let done = worker.queue.pop_front().expect("checked non-empty");
            worker.queued_units -= done.units;
            worker.executed += 1;
            locks.unlock_accounts(done.accounts.iter().map(|(a, w)| (a, *w)), thread);
            if let Some(next) = worker.queue.front() {
                worker.busy_until = now + next.units * NANOS_PER_UNIT;
            }
        }
    }

    assert!(
        locks.is_empty(),
        "every lock is released once all work is done"
    );
    let makespan_units = now / NANOS_PER_UNIT;
    println!(
        "scheduled {NUM_TRANSACTIONS} transactions over {NUM_ACCOUNTS} accounts ({HOT_ACCOUNTS} hot) on {NUM_WORKERS} workers"
    );
    println!("  scheduling passes:            {passes}");
    println!("  tries refused, conflicts:     {conflicts}");
    println!("  tries refused, workers full:  {not_allowed}");
    println!("  passes cut short by pacing:   {paced_out}");
    for (thread, worker) in workers.iter().enumerate() {
        println!("  worker {thread} executed:          {}", worker.executed);
    }
    println!("  sequential time (units):      {sequential_units}");
    println!(
        "  parallel makespan (units):    {makespan_units}  ({:.2}x faster; ideal {NUM_WORKERS}x)",
        sequential_units as f64 / makespan_units as f64
    );
    println!("  lock table empty at the end:  {}", locks.is_empty());
}

/// The allowed worker with the fewest queued units, ties to the lowest id (Agave's
/// `select_thread`, by units).
fn least_queued(candidates: ThreadSet, workers: &[Worker]) -> usize {
    candidates
        .contained_threads_iter()
        .min_by_key(|&thread| (workers[thread].queued_units, thread))
        .expect("the selector is only called with a non-empty set")
}

/// The transactions at the front of the queues run at the same time: none may write an
/// account that another one uses.
fn assert_running_set_is_conflict_free(workers: &[Worker]) {
    let running: Vec<&Transaction> = workers.iter().filter_map(|w| w.queue.front()).collect();
    for (i, a) in running.iter().enumerate() {
        for b in &running[i + 1..] {
            for (account, a_writes) in &a.accounts {
                for (other, b_writes) in &b.accounts {
                    assert!(
                        account != other || !(*a_writes || *b_writes),
                        "transactions {} and {} run at once and conflict on account {account}",
                        a.id,
                        b.id
                    );
                }
            }
        }
    }
}

fn random_transaction(id: usize, rng: &mut XorShift) -> Transaction {
    let mut accounts: Vec<(u32, bool)> = Vec::new();
    let mut add = |account: u32, writable: bool| {
        if !accounts.iter().any(|(a, _)| *a == account) {
            accounts.push((account, writable));
        }
    };
    // A fee payer, always written.
    add(HOT_ACCOUNTS + rng.below(NUM_ACCOUNTS - HOT_ACCOUNTS), true);
    if rng.below(4) == 0 {
        add(rng.below(HOT_ACCOUNTS), true);
    }
    for _ in 0..rng.below(6) {
        let writable = rng.below(3) == 0;
        add(
            HOT_ACCOUNTS + rng.below(NUM_ACCOUNTS - HOT_ACCOUNTS),
            writable,
        );
    }
    Transaction {
        id,
        priority: u64::from(rng.below(1_000_000)),
        units: 1_000 + u64::from(rng.below(20_000)),
        accounts,
    }
}

/// A tiny deterministic generator, so the example needs no dependency.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, bound: u32) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % u64::from(bound)) as u32
    }
}
