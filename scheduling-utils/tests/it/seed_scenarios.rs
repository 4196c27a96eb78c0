//! The worked examples of the design notes, one test each: seed 001's "Example Scenarios",
//! seed 002's "Examples: Relationship in Action" and seed 004's "State Changes: Before and
//! After". Each checks the set the selector was given, the result, and the table's state
//! through the public queries.

use scheduling_utils::{ThreadAwareAccountLocks, ThreadSet, TryLockError};

use crate::{
    KeyState, accounts, key_state, least_work, lock_on, lowest, never_called, pick, snapshot,
    threads, try_lock_recorded, unlocked_state,
};

type Locks = ThreadAwareAccountLocks<&'static str>;

// ---------------------------------------------------------------------------------------
// Seed 001: Example Scenarios (4 worker threads).

/// Seed 001, Scenario 1: no conflicts, load balancing.
#[test]
fn unlocked_accounts_go_to_the_least_loaded_of_all_threads() {
    let mut locks = Locks::new(4);
    let tx = [("A", true), ("B", false)];
    assert_eq!(
        locks.schedulable_threads(accounts(&tx), ThreadSet::any(4)),
        Ok(ThreadSet::any(4))
    );

    // Thread 2 has the least queued work.
    let work = [50, 30, 10, 40];
    let (result, given) = try_lock_recorded(&mut locks, &tx, ThreadSet::any(4), least_work(&work));
    assert_eq!(
        given,
        Some(ThreadSet::any(4)),
        "every thread can take both accounts"
    );
    assert_eq!(result, Ok(2));

    assert_eq!(locks.write_lock(&"A"), Some((2, 1)));
    assert_eq!(locks.read_lock_threads(&"A"), ThreadSet::none());
    assert_eq!(locks.write_lock(&"B"), None);
    assert_eq!(locks.read_lock_threads(&"B"), ThreadSet::only(2));
    assert_eq!(locks.read_lock_count(&"B", 2), 1);
    assert_eq!(locks.num_locked_accounts(), 2);
    locks.assert_consistent();

    locks.unlock_accounts(accounts(&tx), 2);
    assert!(locks.is_empty());
}

/// Seed 001, Scenario 2: write conflict.
#[test]
fn writer_of_a_write_locked_account_goes_to_the_writer_thread() {
    let mut locks = Locks::new(4);
    let tx = [("X", true)];
    lock_on(&mut locks, &tx, 1);

    // Thread 1 is the busiest, but it is the only option.
    let work = [0, 1_000, 0, 0];
    let (result, given) = try_lock_recorded(&mut locks, &tx, ThreadSet::any(4), least_work(&work));
    assert_eq!(given, Some(ThreadSet::only(1)));
    assert_eq!(result, Ok(1));
    assert_eq!(
        locks.write_lock(&"X"),
        Some((1, 2)),
        "lock count incremented on thread 1"
    );
    assert_eq!(locks.num_locked_accounts(), 1);
    locks.assert_consistent();
}

/// Seed 001, Scenario 3: multiple conflicts.
#[test]
fn writes_to_accounts_held_by_two_threads_are_multiple_conflicts() {
    let mut locks = Locks::new(4);
    lock_on(&mut locks, &[("Y", true)], 1);
    lock_on(&mut locks, &[("Z", true)], 2);
    let before = snapshot(&locks, &["Y", "Z"]);

    let tx = [("Y", true), ("Z", true)];
    assert_eq!(
        locks.schedulable_threads(accounts(&tx), ThreadSet::any(4)),
        Err(TryLockError::MultipleConflicts)
    );
    assert_eq!(
        locks.try_lock_accounts(accounts(&tx), ThreadSet::any(4), never_called),
        Err(TryLockError::MultipleConflicts)
    );
    assert_eq!(
        snapshot(&locks, &["Y", "Z"]),
        before,
        "a failed attempt changes nothing"
    );
    assert_eq!(locks.write_lock(&"Y"), Some((1, 1)));
    assert_eq!(locks.write_lock(&"Z"), Some((2, 1)));
    locks.assert_consistent();
}

/// Seed 001, Scenario 4: capacity constraint.
#[test]
fn threads_at_capacity_are_not_offered_to_the_selector() {
    let mut locks = Locks::new(4);
    let tx = [("A", true)];
    assert_eq!(
        locks.schedulable_threads(accounts(&tx), ThreadSet::any(4)),
        Ok(ThreadSet::any(4)),
        "A is schedulable on every thread"
    );

    // Threads 0 and 1 are full (and idle otherwise); of 2 and 3, thread 3 has less work.
    let at_capacity = threads(&[0, 1]);
    let allowed = ThreadSet::any(4) - at_capacity;
    let work = [0, 0, 20, 10];
    let (result, given) = try_lock_recorded(&mut locks, &tx, allowed, least_work(&work));
    assert_eq!(given, Some(threads(&[2, 3])));
    assert_eq!(result, Ok(3));
    assert_eq!(locks.write_lock(&"A"), Some((3, 1)));
    locks.assert_consistent();
}

// ---------------------------------------------------------------------------------------
// Seed 002: Examples: Relationship in Action (8 worker threads, so that thread 5 exists).

/// Seed 002, Example 1: thread reusing its own locks.
#[test]
fn thread_holding_every_account_reuses_its_locks() {
    let mut locks = Locks::new(8);
    let tx = [("X", true), ("Y", false)];
    lock_on(&mut locks, &tx, 2);
    assert_eq!(locks.write_lock(&"X"), Some((2, 1)));
    assert_eq!(locks.read_lock_count(&"Y", 2), 1);

    // X alone: only thread 2; Y alone: any thread; together: only thread 2.
    let all = ThreadSet::any(8);
    assert_eq!(
        locks.schedulable_threads(accounts(&[("X", true)]), all),
        Ok(ThreadSet::only(2))
    );
    assert_eq!(
        locks.schedulable_threads(accounts(&[("Y", false)]), all),
        Ok(all)
    );

    let (result, given) = try_lock_recorded(&mut locks, &tx, all, lowest);
    assert_eq!(given, Some(ThreadSet::only(2)));
    assert_eq!(result, Ok(2));
    assert_eq!(locks.write_lock(&"X"), Some((2, 2)), "X's lock count is 2");
    assert_eq!(locks.read_lock_threads(&"Y"), ThreadSet::only(2));
    assert_eq!(
        locks.read_lock_count(&"Y", 2),
        2,
        "Y's count on thread 2 is 2"
    );
    assert_eq!(locks.num_locked_accounts(), 2);
    locks.assert_consistent();
}

/// Seed 002, Example 2: multiple threads sharing read locks.
#[test]
fn readers_on_several_threads_admit_a_reader_on_any_thread() {
    let mut locks = Locks::new(8);
    let read_y = [("Y", false)];
    lock_on(&mut locks, &read_y, 1);
    lock_on(&mut locks, &read_y, 3);
    assert_eq!(locks.read_lock_threads(&"Y"), threads(&[1, 3]));

    let all = ThreadSet::any(8);
    let (result, given) = try_lock_recorded(&mut locks, &read_y, all, pick(5));
    assert_eq!(given, Some(all), "any thread can take another reader");
    assert_eq!(result, Ok(5));

    assert_eq!(
        key_state(&locks, &"Y"),
        KeyState {
            write_lock: None,
            read_lock_threads: threads(&[1, 3, 5]),
            read_lock_counts: vec![0, 1, 0, 1, 0, 1, 0, 0],
        }
    );
    // A writer of Y meets readers on several threads: no thread can take it.
    assert_eq!(
        locks.schedulable_threads(accounts(&[("Y", true)]), all),
        Err(TryLockError::MultipleConflicts)
    );
    locks.assert_consistent();
}

/// Seed 002, Example 3: exclusive write relationship (counts 1 -> 2 -> 3).
#[test]
fn writers_of_one_account_batch_on_the_writer_thread() {
    let mut locks = Locks::new(8);
    let write_x = [("X", true)];
    lock_on(&mut locks, &write_x, 1);
    assert_eq!(locks.write_lock(&"X"), Some((1, 1)));

    for expected_count in [2, 3] {
        let (result, given) = try_lock_recorded(&mut locks, &write_x, ThreadSet::any(8), |_| 1);
        assert_eq!(given, Some(ThreadSet::only(1)));
        assert_eq!(result, Ok(1));
        assert_eq!(locks.write_lock(&"X"), Some((1, expected_count)));
        locks.assert_consistent();
    }
    for expected in [Some((1, 2)), Some((1, 1)), None] {
        locks.unlock_accounts(accounts(&write_x), 1);
        assert_eq!(locks.write_lock(&"X"), expected);
    }
    assert!(locks.is_empty());
}

/// Seed 002, Example 4: cross-account relationship.
#[test]
fn accounts_pinned_to_different_threads_are_multiple_conflicts() {
    let mut locks = Locks::new(8);
    lock_on(&mut locks, &[("A", true), ("B", false)], 2);
    lock_on(&mut locks, &[("B", false), ("C", true)], 3);
    let keys = ["A", "B", "C"];
    let before = snapshot(&locks, &keys);

    let all = ThreadSet::any(8);
    assert_eq!(
        locks.schedulable_threads(accounts(&[("A", true)]), all),
        Ok(ThreadSet::only(2))
    );
    assert_eq!(
        locks.schedulable_threads(accounts(&[("B", false)]), all),
        Ok(all)
    );
    assert_eq!(
        locks.schedulable_threads(accounts(&[("C", true)]), all),
        Ok(ThreadSet::only(3))
    );

    let tx = [("A", true), ("B", false), ("C", true)];
    assert_eq!(
        locks.schedulable_threads(accounts(&tx), all),
        Err(TryLockError::MultipleConflicts)
    );
    assert_eq!(
        locks.try_lock_accounts(accounts(&tx), all, never_called),
        Err(TryLockError::MultipleConflicts)
    );
    assert_eq!(snapshot(&locks, &keys), before);
    locks.assert_consistent();

    // Once thread 3 releases C, thread 2 can take the whole transaction.
    locks.unlock_accounts(accounts(&[("B", false), ("C", true)]), 3);
    let (result, given) = try_lock_recorded(&mut locks, &tx, all, lowest);
    assert_eq!(given, Some(ThreadSet::only(2)));
    assert_eq!(result, Ok(2));
}

// ---------------------------------------------------------------------------------------
// Seed 004: State Changes: Before and After (4 worker threads).

/// Seed 004, Example 1: locking a write account (first lock).
#[test]
fn first_write_lock_creates_an_entry_pinned_to_its_thread() {
    let mut locks = Locks::new(4);
    assert_eq!(key_state(&locks, &"X"), unlocked_state(4));
    assert!(locks.is_empty());

    lock_on(&mut locks, &[("X", true)], 2);
    assert_eq!(
        key_state(&locks, &"X"),
        KeyState {
            write_lock: Some((2, 1)),
            read_lock_threads: ThreadSet::none(),
            read_lock_counts: vec![0; 4],
        }
    );
    assert_eq!(locks.num_locked_accounts(), 1);

    // Only thread 2 can take a transaction that uses X, reading or writing.
    for writable in [true, false] {
        assert_eq!(
            locks.schedulable_threads(accounts(&[("X", writable)]), ThreadSet::any(4)),
            Ok(ThreadSet::only(2))
        );
    }
    locks.assert_consistent();
}

/// Seed 004, Example 2: locking a read account (first lock).
///
/// The seed says no thread may write Y "until all read locks are released"; like Agave's
/// `schedulable_threads`, the crate lets a writer join the *sole* reader's thread, whose
/// queue orders the two. Only readers on several threads exclude every writer (Example 4).
#[test]
fn first_read_lock_admits_readers_anywhere_and_writers_only_on_its_thread() {
    let mut locks = Locks::new(4);
    assert_eq!(key_state(&locks, &"Y"), unlocked_state(4));

    lock_on(&mut locks, &[("Y", false)], 1);
    assert_eq!(
        key_state(&locks, &"Y"),
        KeyState {
            write_lock: None,
            read_lock_threads: ThreadSet::only(1),
            read_lock_counts: vec![0, 1, 0, 0],
        }
    );
    assert_eq!(
        locks.schedulable_threads(accounts(&[("Y", false)]), ThreadSet::any(4)),
        Ok(ThreadSet::any(4))
    );
    assert_eq!(
        locks.schedulable_threads(accounts(&[("Y", true)]), ThreadSet::any(4)),
        Ok(ThreadSet::only(1))
    );
    locks.assert_consistent();
}

/// Seed 004, Example 3: multiple transactions on the same thread (write lock).
#[test]
fn two_writers_on_one_thread_count_down_and_the_entry_leaves() {
    let mut locks = Locks::new(4);
    let write_x = [("X", true)];
    lock_on(&mut locks, &write_x, 2);
    assert_eq!(locks.write_lock(&"X"), Some((2, 1)));

    let (result, given) = try_lock_recorded(&mut locks, &write_x, ThreadSet::any(4), pick(2));
    assert_eq!(given, Some(ThreadSet::only(2)));
    assert_eq!(result, Ok(2));
    assert_eq!(
        locks.write_lock(&"X"),
        Some((2, 2)),
        "both transactions use X"
    );

    // Transaction 1 completes.
    locks.unlock_accounts(accounts(&write_x), 2);
    assert_eq!(locks.write_lock(&"X"), Some((2, 1)));
    assert_eq!(locks.num_locked_accounts(), 1);
    locks.assert_consistent();

    // Transaction 2 completes: the entry is removed.
    locks.unlock_accounts(accounts(&write_x), 2);
    assert_eq!(key_state(&locks, &"X"), unlocked_state(4));
    assert_eq!(locks.num_locked_accounts(), 0);
    assert!(locks.is_empty());
    locks.assert_consistent();
}

/// Seed 004, Example 4: multiple threads reading the same account.
#[test]
fn second_reader_thread_joins_the_read_set_and_excludes_writers() {
    let mut locks = Locks::new(4);
    let read_y = [("Y", false)];
    lock_on(&mut locks, &read_y, 1);

    let (result, given) = try_lock_recorded(&mut locks, &read_y, ThreadSet::any(4), pick(3));
    assert_eq!(given, Some(ThreadSet::any(4)));
    assert_eq!(result, Ok(3));
    assert_eq!(
        key_state(&locks, &"Y"),
        KeyState {
            write_lock: None,
            read_lock_threads: threads(&[1, 3]),
            read_lock_counts: vec![0, 1, 0, 1],
        }
    );

    // Both threads read in parallel; no thread can write.
    assert_eq!(
        locks.schedulable_threads(accounts(&read_y), ThreadSet::any(4)),
        Ok(ThreadSet::any(4))
    );
    assert_eq!(
        locks.try_lock_accounts(accounts(&[("Y", true)]), ThreadSet::any(4), never_called),
        Err(TryLockError::MultipleConflicts)
    );
    locks.assert_consistent();

    // Until all read locks are released: after both, Y is gone.
    locks.unlock_accounts(accounts(&read_y), 1);
    locks.unlock_accounts(accounts(&read_y), 3);
    assert!(locks.is_empty());
}
