//! The greedy scheduler's placement, caps, conflicts and completion.

use std::sync::Arc;

use crate::common::tx;
use banking_stage::{BufferedTransaction, GreedyScheduler, Scheduler, TransactionContainer};
use sdk_lite::Pubkey;

fn container(transactions: &[BufferedTransaction]) -> TransactionContainer<BufferedTransaction> {
    let mut container = TransactionContainer::with_capacity(1_000);
    for (index, transaction) in transactions.iter().enumerate() {
        container.insert(Arc::clone(transaction), 1_000 - index as u64);
    }
    container
}

const UNITS: u64 = 1_000;

#[test]
fn independent_transactions_spread_over_the_workers() {
    let transactions: Vec<_> = (0..8).map(|_| tx(&[Pubkey::new_unique()])).collect();
    let mut container = container(&transactions);
    let mut scheduler = GreedyScheduler::new(4, u64::MAX);
    let (work, summary) = scheduler.schedule(&mut container, 100, u64::MAX, &|_| UNITS);
    assert_eq!(summary.scheduled, 8);
    assert_eq!(work.len(), 4);
    assert!(work.iter().all(|batch| batch.transactions.len() == 2));
    assert!(container.is_empty());
}

#[test]
fn conflicting_transactions_queue_on_one_worker() {
    let hot = Pubkey::new_unique();
    let transactions: Vec<_> = (0..6).map(|_| tx(&[hot])).collect();
    let mut container = container(&transactions);
    let mut scheduler = GreedyScheduler::new(4, u64::MAX);
    let (work, summary) = scheduler.schedule(&mut container, 100, u64::MAX, &|_| UNITS);
    assert_eq!(summary.scheduled, 6);
    assert_eq!(
        work.len(),
        1,
        "all on the worker that holds the hot account"
    );
    // Best first within the batch.
    let priorities: Vec<u64> = work[0]
        .ids
        .iter()
        .map(|&(_, priority, _)| priority)
        .collect();
    assert!(priorities.windows(2).all(|pair| pair[0] > pair[1]));
}

#[test]
fn workers_at_their_cap_take_nothing_more() {
    let transactions: Vec<_> = (0..6).map(|_| tx(&[Pubkey::new_unique()])).collect();
    let mut container = container(&transactions);
    // Each worker may hold 2 transactions' worth of units.
    let mut scheduler = GreedyScheduler::new(2, 2 * UNITS);
    let (work, summary) = scheduler.schedule(&mut container, 100, u64::MAX, &|_| UNITS);
    assert_eq!(summary.scheduled, 4);
    assert_eq!(summary.unschedulable_threads, 2);
    assert_eq!(container.len(), 2, "put back");
    assert_eq!(scheduler.in_flight_units(0), 2 * UNITS);
    // Finishing one batch frees its worker.
    let mut work = work.into_iter();
    let first = work.next().unwrap();
    let freed = first.worker;
    scheduler.complete(first, &[], &mut container);
    assert_eq!(scheduler.in_flight_units(freed), 0);
    let (more, _) = scheduler.schedule(&mut container, 100, u64::MAX, &|_| UNITS);
    assert_eq!(
        more.iter()
            .map(|batch| batch.transactions.len())
            .sum::<usize>(),
        2
    );
    for batch in work.chain(more) {
        scheduler.complete(batch, &[], &mut container);
    }
    assert!(scheduler.is_idle());
    assert!(container.is_empty());
}

#[test]
fn a_transaction_held_on_two_workers_waits_and_retryables_return() {
    let (a, b) = (Pubkey::new_unique(), Pubkey::new_unique());
    // a and b go to different workers; then a transaction writing both cannot go anywhere.
    let first = vec![tx(&[a]), tx(&[b])];
    let mut container = container(&first);
    let mut scheduler = GreedyScheduler::new(2, u64::MAX);
    let (work, _) = scheduler.schedule(&mut container, 100, u64::MAX, &|_| UNITS);
    assert_eq!(work.len(), 2);
    container.insert(tx(&[a, b]), 1);
    let (none, summary) = scheduler.schedule(&mut container, 100, u64::MAX, &|_| UNITS);
    assert!(none.is_empty());
    assert_eq!(summary.unschedulable_conflicts, 1);
    assert_eq!(container.len(), 1);
    // The first batch reports its transaction retryable: it goes back into the container.
    let mut work = work.into_iter();
    scheduler.complete(work.next().unwrap(), &[0], &mut container);
    assert_eq!(container.len(), 2);
    scheduler.complete(work.next().unwrap(), &[], &mut container);
    let (rest, summary) = scheduler.schedule(&mut container, 100, u64::MAX, &|_| UNITS);
    assert_eq!(summary.scheduled, 2, "both fit once nothing is in flight");
    for batch in rest {
        scheduler.complete(batch, &[], &mut container);
    }
    assert!(scheduler.is_idle());
}
