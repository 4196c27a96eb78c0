//! Property tests: `ThreadAwareAccountLocks` against a naive model.
//!
//! The model keeps, per account and per thread, a read count and a write count in plain
//! maps, and computes the schedulable threads from the table's rules directly. A case is a
//! random sequence of lock attempts (random accounts, flags, allowed sets and selector
//! choices) and unlocks of held transactions; after every step the try result, the set the
//! selector was given, every query for every account and thread, a few probe
//! `schedulable_threads` calls and `assert_consistent` must agree with the model, and a
//! failed attempt must leave every query's answer as it was. At the end the remaining
//! transactions are unlocked in a random order and the table must be empty.
//!
//! The same cases run under the default hasher and under a hasher for which every key
//! collides, which drives the table's probe chains and tombstones through the
//! placeholder-then-remove path of failed attempts.

use std::collections::BTreeMap;
use std::hash::BuildHasher;

use proptest::prelude::*;
use scheduling_utils::{LockCount, ThreadAwareAccountLocks, ThreadId, ThreadSet, TryLockError};

use crate::{Colliding, KeyState, Snapshot, accounts, key_state, snapshot, unlocked_state};

/// Accounts are drawn from `0..NUM_KEYS`, so that transactions meet often.
const NUM_KEYS: u8 = 8;

/// The keys every step checks: the pool, plus one that is never locked.
const CHECKED_KEYS: [u8; NUM_KEYS as usize + 1] = [0, 1, 2, 3, 4, 5, 6, 7, 8];

type Tx = Vec<(u8, bool)>;

/// Per thread: (read locks, write locks).
type Counts = Vec<(LockCount, LockCount)>;

/// The lock table as the crate doc describes it, computed the slow way.
#[derive(Debug, Clone)]
struct Model {
    num_threads: usize,
    /// Only accounts that some thread holds.
    counts: BTreeMap<u8, Counts>,
}

impl Model {
    fn new(num_threads: usize) -> Self {
        Self {
            num_threads,
            counts: BTreeMap::new(),
        }
    }

    fn all(&self) -> ThreadSet {
        ThreadSet::any(self.num_threads)
    }

    fn threads_where(&self, key: u8, holds: impl Fn((LockCount, LockCount)) -> bool) -> ThreadSet {
        let mut set = ThreadSet::none();
        if let Some(counts) = self.counts.get(&key) {
            for (thread_id, &count) in counts.iter().enumerate() {
                if holds(count) {
                    set.insert(thread_id);
                }
            }
        }
        set
    }

    fn holders(&self, key: u8) -> ThreadSet {
        self.threads_where(key, |(reads, writes)| reads + writes > 0)
    }

    fn writers(&self, key: u8) -> ThreadSet {
        self.threads_where(key, |(_, writes)| writes > 0)
    }

    fn readers(&self, key: u8) -> ThreadSet {
        self.threads_where(key, |(reads, _)| reads > 0)
    }

    /// The table of the crate doc, one account.
    fn schedulable_for(&self, key: u8, writable: bool) -> ThreadSet {
        let holders = self.holders(key);
        let writers = self.writers(key);
        if holders.is_empty() {
            self.all()
        } else if writable {
            if holders.num_threads() == 1 {
                holders
            } else {
                ThreadSet::none()
            }
        } else if !writers.is_empty() {
            writers
        } else {
            self.all()
        }
    }

    fn schedulable(
        &self,
        tx: &[(u8, bool)],
        allowed: ThreadSet,
    ) -> Result<ThreadSet, TryLockError> {
        let mut set = self.all();
        for &(key, writable) in tx {
            set &= self.schedulable_for(key, writable);
        }
        if set.is_empty() {
            Err(TryLockError::MultipleConflicts)
        } else if (set & allowed).is_empty() {
            Err(TryLockError::ThreadNotAllowed)
        } else {
            Ok(set & allowed)
        }
    }

    fn lock(&mut self, tx: &[(u8, bool)], thread_id: ThreadId) {
        for &(key, writable) in tx {
            let counts = self
                .counts
                .entry(key)
                .or_insert_with(|| vec![(0, 0); self.num_threads]);
            if writable {
                counts[thread_id].1 += 1;
            } else {
                counts[thread_id].0 += 1;
            }
        }
    }

    fn unlock(&mut self, tx: &[(u8, bool)], thread_id: ThreadId) {
        for &(key, writable) in tx {
            let counts = self
                .counts
                .get_mut(&key)
                .expect("model: unlock of a held lock");
            let count = if writable {
                &mut counts[thread_id].1
            } else {
                &mut counts[thread_id].0
            };
            *count = count.checked_sub(1).expect("model: unlock of a held lock");
            if counts.iter().all(|&(reads, writes)| reads + writes == 0) {
                self.counts.remove(&key);
            }
        }
    }

    fn key_state(&self, key: u8) -> KeyState {
        let writers = self.writers(key);
        let write_lock = writers
            .only_one_contained()
            .map(|thread_id| (thread_id, self.counts[&key][thread_id].1));
        assert!(
            writers.num_threads() <= 1,
            "model: at most one writer thread per account"
        );
        KeyState {
            write_lock,
            read_lock_threads: self.readers(key),
            read_lock_counts: (0..self.num_threads)
                .map(|thread_id| {
                    self.counts
                        .get(&key)
                        .map_or(0, |counts| counts[thread_id].0)
                })
                .collect(),
        }
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            keys: CHECKED_KEYS
                .iter()
                .map(|&key| self.key_state(key))
                .collect(),
            num_locked_accounts: self.counts.len(),
            is_empty: self.counts.is_empty(),
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    /// Try to lock `tx`; the selector takes member `pick % len` of the set it is given.
    TryLock { tx: Tx, allowed: u64, pick: usize },
    /// Unlock held transaction `index % held`, if any is held.
    Unlock { index: usize },
}

#[derive(Debug, Clone)]
struct Case {
    num_threads: usize,
    ops: Vec<Op>,
    /// Transactions (and allowed sets) whose `schedulable_threads` every step checks.
    probes: Vec<(Tx, u64)>,
    /// The order in which the transactions still held at the end are unlocked.
    final_unlocks: Vec<usize>,
}

fn tx_strategy() -> impl Strategy<Value = Tx> {
    prop::collection::vec((0..NUM_KEYS, any::<bool>()), 0..=4)
}

fn allowed_strategy() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => Just(u64::MAX),
        2 => any::<u64>(),
        1 => Just(0u64),
        1 => (0..64u32).prop_map(|thread_id| 1u64 << thread_id),
        2 => (0..6u32).prop_map(|thread_id| 1u64 << thread_id),
        1 => (0..6u32).prop_map(|thread_id| !(1u64 << thread_id)),
    ]
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (tx_strategy(), allowed_strategy(), any::<usize>())
            .prop_map(|(tx, allowed, pick)| Op::TryLock { tx, allowed, pick }),
        2 => any::<usize>().prop_map(|index| Op::Unlock { index }),
    ]
}

fn case_strategy() -> impl Strategy<Value = Case> {
    (
        prop_oneof![5 => 1..=6usize, 1 => Just(64usize)],
        prop::collection::vec(op_strategy(), 0..=64),
        prop::collection::vec((tx_strategy(), allowed_strategy()), 3),
        prop::collection::vec(any::<usize>(), 1..=16),
    )
        .prop_map(|(num_threads, ops, probes, final_unlocks)| Case {
            num_threads,
            ops,
            probes,
            final_unlocks,
        })
}

/// Every query, the probes and the internal invariants agree with the model.
fn check_state<S: BuildHasher>(
    locks: &ThreadAwareAccountLocks<u8, S>,
    model: &Model,
    probes: &[(Tx, u64)],
    step: &str,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        snapshot(locks, &CHECKED_KEYS),
        model.snapshot(),
        "after {}",
        step
    );
    for (tx, allowed) in probes {
        let allowed = ThreadSet::from_bits(*allowed);
        prop_assert_eq!(
            locks.schedulable_threads(accounts(tx), allowed),
            model.schedulable(tx, allowed),
            "probe {:?} allowed {:?} after {}",
            tx,
            allowed,
            step
        );
    }
    locks.assert_consistent();
    Ok(())
}

fn run_case<S: BuildHasher>(
    mut locks: ThreadAwareAccountLocks<u8, S>,
    case: &Case,
) -> Result<(), TestCaseError> {
    let mut model = Model::new(case.num_threads);
    let mut held: Vec<(Tx, ThreadId)> = Vec::new();
    check_state(&locks, &model, &case.probes, "construction")?;

    for (step, op) in case.ops.iter().enumerate() {
        match op {
            Op::TryLock { tx, allowed, pick } => {
                let allowed = ThreadSet::from_bits(*allowed);
                let expected = model.schedulable(tx, allowed);
                prop_assert_eq!(
                    locks.schedulable_threads(accounts(tx), allowed),
                    expected,
                    "query for {:?} at step {}",
                    tx,
                    step
                );
                let before = snapshot(&locks, &CHECKED_KEYS);
                let mut given = None;
                let result = locks.try_lock_accounts(accounts(tx), allowed, |set| {
                    given = Some(set);
                    set.contained_threads_iter()
                        .nth(pick % set.num_threads() as usize)
                        .expect("pick % len is a member")
                });
                prop_assert_eq!(given.ok_or(()), expected.map_err(|_| ()), "step {}", step);
                match expected {
                    Ok(set) => {
                        let chosen = set
                            .contained_threads_iter()
                            .nth(pick % set.num_threads() as usize);
                        prop_assert_eq!(result.ok(), chosen, "step {}", step);
                        let thread_id = result.expect("checked above");
                        model.lock(tx, thread_id);
                        held.push((tx.clone(), thread_id));
                    }
                    Err(error) => {
                        prop_assert_eq!(result, Err(error), "step {}", step);
                        prop_assert_eq!(
                            snapshot(&locks, &CHECKED_KEYS),
                            before,
                            "a failed attempt changed the table at step {}",
                            step
                        );
                    }
                }
            }
            Op::Unlock { index } => {
                if held.is_empty() {
                    continue;
                }
                let (tx, thread_id) = held.remove(index % held.len());
                locks.unlock_accounts(accounts(&tx), thread_id);
                model.unlock(&tx, thread_id);
            }
        }
        check_state(
            &locks,
            &model,
            &case.probes,
            &format!("step {step}: {op:?}"),
        )?;
    }

    for index in case.final_unlocks.iter().cycle() {
        if held.is_empty() {
            break;
        }
        let (tx, thread_id) = held.remove(index % held.len());
        locks.unlock_accounts(accounts(&tx), thread_id);
        model.unlock(&tx, thread_id);
        check_state(&locks, &model, &case.probes, "a final unlock")?;
    }
    prop_assert!(locks.is_empty());
    prop_assert_eq!(locks.num_locked_accounts(), 0);
    for key in CHECKED_KEYS {
        prop_assert_eq!(key_state(&locks, &key), unlocked_state(case.num_threads));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn lock_table_matches_the_model(case in case_strategy()) {
        run_case(ThreadAwareAccountLocks::<u8>::new(case.num_threads), &case)?;
    }

    #[test]
    fn lock_table_matches_the_model_when_every_key_collides(case in case_strategy()) {
        let locks = ThreadAwareAccountLocks::<u8, _>::with_hasher(case.num_threads, Colliding);
        run_case(locks, &case)?;
    }
}
