//! `PrioGraphScheduler`: looks ahead over a window of the best transactions and keeps
//! priority order per account; parks transactions that pile up on one hot account.

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::sync::Arc;

use ahash::{AHashMap, AHashSet};
use scheduling_utils::TryLockError;
use sdk_lite::{Pubkey, SanitizedTransaction};

use crate::messages::{BufferedTransaction, ConsumeWork};
use crate::placement::{Placement, requeue};
use crate::prio_graph::PrioGraph;
use crate::scheduler::{Scheduler, SchedulingSummary};
use crate::transaction_container::{TransactionContainer, TransactionId};

/// Transactions in the look-ahead window (the default).
pub const DEFAULT_LOOK_AHEAD_WINDOW: usize = 256;

/// Unscheduled window entries that may write one *stuck* account at once; further
/// transactions writing it are parked (Firedancer's pack parks after 64 references to one
/// account).
pub const HOT_ACCOUNT_WINDOW_LIMIT: usize = 64;

/// The prio-graph scheduler.
///
/// Each pass takes the best transactions from the container into a look-ahead window
/// (a dependency graph, `prio_graph.rs`): a transaction depends on the higher-priority transactions that
/// conflict with it on any account. It then pops ready transactions best first and places
/// each, through the thread-aware locks, on the least-loaded worker that may take it
/// ([`select_thread`](crate::select_thread)); a placed transaction is released in the graph, so the ones behind
/// it on its accounts follow, in priority order, onto the same worker. One that cannot be
/// placed (its accounts are held on two workers, or every worker that could take it is at
/// its cap, or the pass's budget is spent) is never released, so every lower-priority
/// transaction that conflicts with it waits too (the priority guard): a cheap transaction
/// cannot overtake a valuable one on the account they share. Each pop refills the window
/// from the container, up to `max_scan` transactions taken per pass; what is left goes
/// back to the container with its priority.
///
/// **Hot accounts.** When one hot account's worker cannot take more (it is at its
/// in-flight cap), its first transaction in the window fails and, by the priority guard,
/// holds back every other transaction on that account. If they are many and well paid,
/// they fill the whole window: nothing else enters it, so transactions on other accounts
/// starve while idle workers wait, and every pass re-inserts and returns the same stuck
/// transactions. So the writable accounts of a transaction that could not be placed are
/// *stuck* until a batch that writes them comes back; while an account is stuck, at most
/// [`HOT_ACCOUNT_WINDOW_LIMIT`] unscheduled window entries may write it, and further
/// transactions writing it are *parked*, per account in priority order, outside the
/// container, so the scan goes on to other accounts. A stuck account's parked
/// transactions stay parked (its best ones wait in the container, returned from the
/// window); once it is free again, each pass moves its best parked transactions (up to a
/// window's worth) back into the container, where they compete by priority. A container
/// transaction that conflicts with a better parked one (on any account, whichever queue
/// that one waits in) is parked too, so no transaction overtakes a better one it
/// conflicts with and price order on every account is kept. An account that keeps up (its batches return) is never limited, and a stuck
/// one costs a pass about [`HOT_ACCOUNT_WINDOW_LIMIT`] window entries however long its
/// queue, leaving the rest of the window to other accounts. Measured (the
/// `parking_a_stuck_hot_account_lets_other_transactions_through` test): with 2,000
/// well-paid transactions on a stuck account and 100 cheap ones elsewhere, parking runs
/// all 100 cheap ones within 10 passes; without it, none.
#[derive(Debug)]
pub struct PrioGraphScheduler {
    placement: Placement,
    look_ahead_window: usize,
    hot_account_limit: usize,
    parked: AHashMap<Pubkey, BTreeMap<(u64, Reverse<TransactionId>), BufferedTransaction>>,
    parked_len: usize,
    /// Every account a parked transaction locks -> the parked transactions that lock it
    /// (and whether they write it): a transaction is parked too while a better one it
    /// conflicts with is parked, whatever queue that one waits in.
    parked_index: AHashMap<Pubkey, BTreeMap<(u64, Reverse<TransactionId>), bool>>,
    /// Writable accounts of transactions that could not be placed, until a batch that
    /// writes them returns: only these accounts' window share is limited.
    stuck: AHashSet<Pubkey>,
}

impl PrioGraphScheduler {
    /// A scheduler for `num_workers` workers (1..=64), each given at most
    /// `max_in_flight_units_per_worker` estimated units at a time, with the default window
    /// and hot-account limit.
    ///
    /// # Panics
    /// If `num_workers` is not in `1..=64` (a configuration the caller validates).
    pub fn new(num_workers: usize, max_in_flight_units_per_worker: u64) -> Self {
        Self::with_limits(
            num_workers,
            max_in_flight_units_per_worker,
            DEFAULT_LOOK_AHEAD_WINDOW,
            HOT_ACCOUNT_WINDOW_LIMIT,
        )
    }

    /// As [`new`](Self::new), with a look-ahead window of `look_ahead_window`
    /// transactions and at most `hot_account_limit` window entries writing one account
    /// per pass (`usize::MAX`: never park).
    pub fn with_limits(
        num_workers: usize,
        max_in_flight_units_per_worker: u64,
        look_ahead_window: usize,
        hot_account_limit: usize,
    ) -> Self {
        Self {
            placement: Placement::new(num_workers, max_in_flight_units_per_worker),
            look_ahead_window: look_ahead_window.max(1),
            hot_account_limit: hot_account_limit.max(1),
            parked: AHashMap::new(),
            parked_len: 0,
            parked_index: AHashMap::new(),
            stuck: AHashSet::new(),
        }
    }

    /// Moves each hot account's best parked transactions back into the container.
    fn unpark(&mut self, container: &mut TransactionContainer<BufferedTransaction>) {
        // An account stays stuck only while a worker holds it: once nothing in flight
        // locks it, no completion would ever free it, so it is free now.
        let locks = self.placement.locks();
        self.stuck.retain(|account| {
            locks.write_lock(account).is_some() || !locks.read_lock_threads(account).is_empty()
        });
        // Enough to fill the window; a stuck account's parked transactions stay parked
        // (its best ones are already in the container, returned from the last window).
        let limit = self.look_ahead_window;
        let stuck = &self.stuck;
        let index = &mut self.parked_index;
        let parked_len = &mut self.parked_len;
        self.parked.retain(|account, queue| {
            if stuck.contains(account) {
                return true;
            }
            for _ in 0..limit {
                if container.len() >= container.capacity() {
                    break;
                }
                let Some((key, transaction)) = queue.pop_last() else {
                    break;
                };
                *parked_len -= 1;
                unindex(index, key, &transaction);
                let (priority, Reverse(id)) = key;
                let dropped = container.reinsert(id, transaction, priority);
                debug_assert!(dropped.is_none(), "there was room");
            }
            !queue.is_empty()
        });
    }

    /// Takes a transaction popped from the container into the window and returns `true`,
    /// or parks it and returns `false` if one of its writable accounts already has its
    /// share of the window, or has parked transactions better than it (which must enter
    /// first).
    fn admit(
        &mut self,
        graph: &mut PrioGraph<BufferedTransaction>,
        window_writes: &mut AHashMap<Pubkey, usize>,
        (id, priority, transaction): (TransactionId, u64, BufferedTransaction),
    ) -> bool {
        let key_of_this = (priority, Reverse(id));
        let hot = transaction
            .lock_requests()
            .find(|&(key, writable)| {
                (writable
                    && self.stuck.contains(key)
                    && window_writes.get(key).copied().unwrap_or(0) >= self.hot_account_limit)
                    || self.parked_index.get(key).is_some_and(|parked| {
                        // A better parked transaction that conflicts with this one here
                        // must enter the window first.
                        parked
                            .range((
                                std::ops::Bound::Excluded(key_of_this),
                                std::ops::Bound::Unbounded,
                            ))
                            .any(|(_, parked_writes)| writable || *parked_writes)
                    })
            })
            .map(|(key, _)| *key);
        if let Some(key) = hot {
            for (account, writable) in transaction.lock_requests() {
                *self
                    .parked_index
                    .entry(*account)
                    .or_default()
                    .entry(key_of_this)
                    .or_insert(false) |= writable;
            }
            self.parked
                .entry(key)
                .or_default()
                .insert(key_of_this, transaction);
            self.parked_len += 1;
            return false;
        }
        for (key, writable) in transaction.lock_requests() {
            if writable {
                *window_writes.entry(*key).or_insert(0) += 1;
            }
        }
        let accounts = Arc::clone(&transaction);
        graph.insert(id, priority, transaction, accounts.lock_requests());
        true
    }

    /// Takes transactions from the container until one enters the window (or the window
    /// is full, or `max_scan` transactions were taken in this pass).
    fn refill(
        &mut self,
        container: &mut TransactionContainer<BufferedTransaction>,
        graph: &mut PrioGraph<BufferedTransaction>,
        window_writes: &mut AHashMap<Pubkey, usize>,
        scanned: &mut usize,
        max_scan: usize,
    ) {
        while graph.len() < self.look_ahead_window && *scanned < max_scan {
            let Some(entry) = container.pop_best() else {
                return;
            };
            *scanned += 1;
            if self.admit(graph, window_writes, entry) {
                return;
            }
        }
    }
}

/// Forgets a transaction that leaves the parked queues.
fn unindex(
    index: &mut AHashMap<Pubkey, BTreeMap<(u64, Reverse<TransactionId>), bool>>,
    key: (u64, Reverse<TransactionId>),
    transaction: &SanitizedTransaction,
) {
    for (account, _) in transaction.lock_requests() {
        if let Some(parked) = index.get_mut(account) {
            parked.remove(&key);
            if parked.is_empty() {
                index.remove(account);
            }
        }
    }
}

impl Scheduler for PrioGraphScheduler {
    fn schedule(
        &mut self,
        container: &mut TransactionContainer<BufferedTransaction>,
        max_scan: usize,
        budget: u64,
        units_of: &dyn Fn(&SanitizedTransaction) -> u64,
    ) -> (Vec<ConsumeWork>, SchedulingSummary) {
        let mut summary = SchedulingSummary::default();
        if budget == 0 {
            return (Vec::new(), summary);
        }
        self.unpark(container);
        let mut graph = PrioGraph::default();
        let mut window_writes: AHashMap<Pubkey, usize> = AHashMap::new();
        let mut unscheduled: Vec<(TransactionId, u64, BufferedTransaction)> = Vec::new();
        let mut scanned = 0;
        let mut budget_left = budget;
        while graph.len() < self.look_ahead_window && scanned < max_scan && !container.is_empty() {
            self.refill(
                container,
                &mut graph,
                &mut window_writes,
                &mut scanned,
                max_scan,
            );
        }
        // Rounds, as in Agave: pop every ready transaction, send the batches, refill the
        // window, and only then release what was scheduled, so a transaction and the ones
        // it unblocks go out in different batches (each batch is conflict-free).
        let mut budget_spent = false;
        while graph.has_ready() && !budget_spent {
            let mut scheduled_nodes = Vec::new();
            let mut popped = 0;
            while let Some((node, id, priority, transaction)) = graph.pop() {
                popped += 1;
                let units = units_of(&transaction);
                if units > budget_left {
                    // The pass's budget is spent: the rest waits for the next pass.
                    summary.unschedulable_budget += 1;
                    unscheduled.push((id, priority, transaction));
                    budget_spent = true;
                    break;
                }
                let result = self.placement.try_place(id, priority, &transaction, units);
                match result {
                    Ok(_) => {
                        scheduled_nodes.push(node);
                        // Scheduled: it no longer takes its accounts' share of the window.
                        for (key, writable) in transaction.lock_requests() {
                            if let (true, Some(count)) = (writable, window_writes.get_mut(key)) {
                                *count -= 1;
                            }
                        }
                        budget_left -= units;
                        summary.scheduled += 1;
                    }
                    Err(error) => {
                        match error {
                            TryLockError::MultipleConflicts => {
                                summary.unschedulable_conflicts += 1;
                            }
                            TryLockError::ThreadNotAllowed => summary.unschedulable_threads += 1,
                        }
                        // Never released: its conflicting followers stay behind it. Its
                        // writable accounts are stuck until a batch holding one returns.
                        for (key, writable) in transaction.lock_requests() {
                            if writable {
                                self.stuck.insert(*key);
                            }
                        }
                        unscheduled.push((id, priority, transaction));
                    }
                }
            }
            self.placement.flush();
            for _ in 0..popped {
                self.refill(
                    container,
                    &mut graph,
                    &mut window_writes,
                    &mut scanned,
                    max_scan,
                );
            }
            for node in scheduled_nodes {
                graph.release(node);
            }
        }
        let ready = self.placement.finish_pass();
        for (id, priority, transaction) in unscheduled.into_iter().chain(graph.drain()) {
            // Cannot drop anything: these were just taken out of the container.
            let dropped = container.reinsert(id, transaction, priority);
            debug_assert!(dropped.is_none());
        }
        (ready, summary)
    }

    fn complete(
        &mut self,
        work: ConsumeWork,
        retryable: &[usize],
        container: &mut TransactionContainer<BufferedTransaction>,
    ) -> Vec<BufferedTransaction> {
        self.placement.complete(&work);
        for transaction in &work.transactions {
            if !self.stuck.is_empty() {
                for (key, writable) in transaction.lock_requests() {
                    if writable {
                        self.stuck.remove(key);
                    }
                }
            }
        }
        requeue(&work, retryable, container)
    }

    fn is_idle(&self) -> bool {
        self.placement.is_idle()
    }

    fn held(&self) -> usize {
        self.parked_len
    }

    fn num_workers(&self) -> usize {
        self.placement.num_workers()
    }

    fn name(&self) -> &'static str {
        "prio-graph"
    }
}
