//! Integration tests of `scheduling-utils`: one binary, one module per area.
//!
//! * `seed_scenarios`: the worked examples of the design notes, one named test each.
//! * `schedulable_table`: the schedulable-thread table of the crate doc, row by row.
//! * `edge_cases`: thread-count limits, empty and repeated keys, error precedence, generic
//!   keys, and the documented panics of misuse.
//! * `model`: property tests of `ThreadAwareAccountLocks` against a naive model.
//! * `cost_pacer`: property tests of `CostPacer` against exact arithmetic.

mod cost_pacer;
mod edge_cases;
mod model;
mod schedulable_table;
mod seed_scenarios;

use std::hash::{BuildHasher, Hash};

use scheduling_utils::{LockCount, ThreadAwareAccountLocks, ThreadId, ThreadSet, TryLockError};

/// A transaction's account list as `try_lock_accounts` and `unlock_accounts` take it.
fn accounts<K>(tx: &[(K, bool)]) -> impl Iterator<Item = (&K, bool)> + Clone {
    tx.iter().map(|(key, writable)| (key, *writable))
}

/// A selector that takes the lowest thread of the set.
fn lowest(set: ThreadSet) -> ThreadId {
    set.contained_threads_iter()
        .next()
        .expect("the selector is only called with a non-empty set")
}

/// A selector that takes `thread_id`, whatever it is given.
fn pick(thread_id: ThreadId) -> impl FnOnce(ThreadSet) -> ThreadId {
    move |_| thread_id
}

/// A selector that must not be called.
fn never_called(set: ThreadSet) -> ThreadId {
    panic!("the selector must not be called on failure (was given {set:?})")
}

/// Agave's `select_thread`: the thread of the set with the least queued work, the lowest on
/// a tie.
fn least_work(work: &[u64]) -> impl FnOnce(ThreadSet) -> ThreadId + '_ {
    move |set| {
        set.contained_threads_iter()
            .min_by_key(|&thread_id| (work[thread_id], thread_id))
            .expect("the selector is only called with a non-empty set")
    }
}

/// `try_lock_accounts(tx, allowed, selector)`, returning also the set the selector was
/// given (`None` if it was not called).
fn try_lock_recorded<K: Eq + Hash + Clone, S: BuildHasher>(
    locks: &mut ThreadAwareAccountLocks<K, S>,
    tx: &[(K, bool)],
    allowed: ThreadSet,
    selector: impl FnOnce(ThreadSet) -> ThreadId,
) -> (Result<ThreadId, TryLockError>, Option<ThreadSet>) {
    let mut given = None;
    let result = locks.try_lock_accounts(accounts(tx), allowed, |set| {
        given = Some(set);
        selector(set)
    });
    (result, given)
}

/// Locks `tx` on exactly `thread_id` (which must be schedulable), for setting up a state.
fn lock_on<K: Eq + Hash + Clone, S: BuildHasher>(
    locks: &mut ThreadAwareAccountLocks<K, S>,
    tx: &[(K, bool)],
    thread_id: ThreadId,
) {
    let result = locks.try_lock_accounts(accounts(tx), ThreadSet::only(thread_id), lowest);
    assert_eq!(
        result,
        Ok(thread_id),
        "setting up a lock on thread {thread_id}"
    );
}

/// Everything the public queries say about one key.
#[derive(Debug, Clone, PartialEq, Eq)]
struct KeyState {
    write_lock: Option<(ThreadId, LockCount)>,
    read_lock_threads: ThreadSet,
    /// `read_lock_count` of every thread of the table.
    read_lock_counts: Vec<LockCount>,
}

/// Everything the public queries say about a table, for a given list of keys.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Snapshot {
    keys: Vec<KeyState>,
    num_locked_accounts: usize,
    is_empty: bool,
}

fn key_state<K: Eq + Hash + Clone, S: BuildHasher>(
    locks: &ThreadAwareAccountLocks<K, S>,
    key: &K,
) -> KeyState {
    KeyState {
        write_lock: locks.write_lock(key),
        read_lock_threads: locks.read_lock_threads(key),
        read_lock_counts: (0..locks.num_threads())
            .map(|thread_id| locks.read_lock_count(key, thread_id))
            .collect(),
    }
}

fn snapshot<'a, K: Eq + Hash + Clone + 'a, S: BuildHasher>(
    locks: &ThreadAwareAccountLocks<K, S>,
    keys: impl IntoIterator<Item = &'a K>,
) -> Snapshot {
    Snapshot {
        keys: keys.into_iter().map(|key| key_state(locks, key)).collect(),
        num_locked_accounts: locks.num_locked_accounts(),
        is_empty: locks.is_empty(),
    }
}

/// The state of a key that no thread holds.
fn unlocked_state(num_threads: usize) -> KeyState {
    KeyState {
        write_lock: None,
        read_lock_threads: ThreadSet::none(),
        read_lock_counts: vec![0; num_threads],
    }
}

/// A set from a list of threads.
fn threads(ids: &[ThreadId]) -> ThreadSet {
    let mut set = ThreadSet::none();
    for &thread_id in ids {
        set.insert(thread_id);
    }
    set
}

/// A hasher under which every key collides: every probe of the lock table walks the same
/// chain, and every removal leaves a tombstone among live entries.
#[derive(Debug, Clone, Copy, Default)]
struct Colliding;

impl BuildHasher for Colliding {
    type Hasher = CollidingHasher;

    fn build_hasher(&self) -> CollidingHasher {
        CollidingHasher
    }
}

/// The hasher of [`Colliding`]: every key hashes to the same value.
#[derive(Debug, Clone, Copy)]
struct CollidingHasher;

impl std::hash::Hasher for CollidingHasher {
    fn finish(&self) -> u64 {
        0x5555_5555_5555_5555
    }

    fn write(&mut self, _bytes: &[u8]) {}
}
