//! Edge cases of `ThreadAwareAccountLocks`: the thread-count limits, empty and repeated
//! account lists, which error wins, what the selector is given, all-or-nothing failure,
//! reentrant locks, key types other than `Pubkey`, and the documented panics of misuse.

use std::panic::{AssertUnwindSafe, catch_unwind};

use scheduling_utils::{
    LockCount, MAX_THREADS, ThreadAwareAccountLocks, ThreadCountError, ThreadId, ThreadSet,
    TryLockError,
};

use crate::{
    Colliding, KeyState, accounts, key_state, lock_on, lowest, never_called, pick, snapshot,
    threads, try_lock_recorded, unlocked_state,
};

type Locks = ThreadAwareAccountLocks<u32>;

/// A transaction's accounts, in the tables of cases.
type Tx<'a> = &'a [(u32, bool)];

// ---------------------------------------------------------------------------------------
// Thread counts.

#[test]
fn sixty_four_threads_reach_thread_63() {
    let mut locks = Locks::new(MAX_THREADS);
    assert_eq!(locks.num_threads(), 64);
    let all = ThreadSet::any(64);
    assert_eq!(all.bits(), u64::MAX);

    // An unlocked account: the selector is given all 64 threads.
    let (result, given) = try_lock_recorded(&mut locks, &[(1, true)], all, pick(63));
    assert_eq!(given, Some(all));
    assert_eq!(result, Ok(63));
    assert_eq!(locks.write_lock(&1), Some((63, 1)));
    assert_eq!(
        locks.schedulable_threads(accounts(&[(1, false)]), all),
        Ok(ThreadSet::only(63))
    );

    // Readers on threads 0 and 63 share account 2.
    lock_on(&mut locks, &[(2, false)], 0);
    lock_on(&mut locks, &[(2, false)], 63);
    lock_on(&mut locks, &[(2, false)], 63);
    let mut expected_counts = vec![0; 64];
    expected_counts[0] = 1;
    expected_counts[63] = 2;
    assert_eq!(
        key_state(&locks, &2),
        KeyState {
            write_lock: None,
            read_lock_threads: threads(&[0, 63]),
            read_lock_counts: expected_counts,
        }
    );
    assert_eq!(
        locks.try_lock_accounts(accounts(&[(2, true)]), all, never_called),
        Err(TryLockError::MultipleConflicts)
    );
    locks.assert_consistent();

    // Thread 0 leaves: thread 63 is the sole reader and may take a writer of 1 and 2.
    locks.unlock_accounts(accounts(&[(2, false)]), 0);
    let tx = [(1, true), (2, true)];
    let (result, given) = try_lock_recorded(&mut locks, &tx, all, lowest);
    assert_eq!(given, Some(ThreadSet::only(63)));
    assert_eq!(result, Ok(63));
    assert_eq!(locks.write_lock(&2), Some((63, 1)));
    assert_eq!(locks.read_lock_count(&2, 63), 2);
    locks.assert_consistent();

    locks.unlock_accounts(accounts(&tx), 63);
    locks.unlock_accounts(accounts(&[(1, true)]), 63);
    locks.unlock_accounts(accounts(&[(2, false)]), 63);
    locks.unlock_accounts(accounts(&[(2, false)]), 63);
    assert!(locks.is_empty());
    locks.assert_consistent();
}

#[test]
fn a_single_thread_takes_everything_and_never_meets_multiple_conflicts() {
    let mut locks = Locks::new(1);
    let only = ThreadSet::only(0);
    let txs: [&[(u32, bool)]; 4] = [
        &[(1, true), (2, false)],
        &[(2, true), (1, false)],
        &[(1, true), (2, true)],
        &[(2, false), (3, false)],
    ];
    for tx in txs {
        let (result, given) = try_lock_recorded(&mut locks, tx, ThreadSet::any(64), lowest);
        assert_eq!(given, Some(only), "{tx:?}");
        assert_eq!(result, Ok(0), "{tx:?}");
        locks.assert_consistent();
    }
    assert_eq!(locks.write_lock(&1), Some((0, 2)));
    assert_eq!(locks.write_lock(&2), Some((0, 2)));
    assert_eq!(locks.read_lock_count(&2, 0), 2);
    assert_eq!(locks.read_lock_threads(&3), only);

    // Thread 0 full: the one thing that can fail.
    assert_eq!(
        locks.try_lock_accounts(accounts(&[(1, true)]), ThreadSet::none(), never_called),
        Err(TryLockError::ThreadNotAllowed)
    );
    for tx in txs {
        locks.unlock_accounts(accounts(tx), 0);
    }
    assert!(locks.is_empty());
}

#[test]
fn try_new_rejects_0_and_65_threads() {
    for num_threads in [0, MAX_THREADS + 1, usize::MAX] {
        let error = Locks::try_new(num_threads).expect_err("out of range");
        assert_eq!(error, ThreadCountError { num_threads });
        assert_eq!(
            ThreadAwareAccountLocks::<u32, _>::try_with_hasher(num_threads, Colliding)
                .expect_err("out of range"),
            error
        );
    }
    assert_eq!(
        ThreadCountError { num_threads: 65 }.to_string(),
        "num_threads must be in 1..=64, got 65"
    );
    for num_threads in [1, 2, 63, 64] {
        let locks = Locks::try_new(num_threads).expect("in range");
        assert_eq!(locks.num_threads(), num_threads);
        assert!(locks.is_empty());
    }
}

#[test]
#[should_panic(expected = "num_threads must be in 1..=64, got 0")]
fn new_panics_on_0_threads() {
    let _ = Locks::new(0);
}

#[test]
#[should_panic(expected = "num_threads must be in 1..=64, got 65")]
fn with_hasher_panics_on_65_threads() {
    let _ = ThreadAwareAccountLocks::<u32, _>::with_hasher(65, Colliding);
}

// ---------------------------------------------------------------------------------------
// Empty transactions, error precedence, and what the selector sees.

#[test]
fn an_empty_account_list_goes_to_a_selected_thread_and_locks_nothing() {
    let mut locks = Locks::new(4);
    lock_on(&mut locks, &[(1, true)], 1);
    let before = snapshot(&locks, &[1]);
    let empty: [(u32, bool); 0] = [];

    let allowed = threads(&[2, 3]);
    assert_eq!(
        locks.schedulable_threads(accounts(&empty), allowed),
        Ok(allowed)
    );
    let (result, given) = try_lock_recorded(&mut locks, &empty, allowed, pick(3));
    assert_eq!(
        given,
        Some(allowed),
        "every allowed thread can take no accounts"
    );
    assert_eq!(result, Ok(3));
    assert_eq!(snapshot(&locks, &[1]), before);
    locks.unlock_accounts(accounts(&empty), 3);
    assert_eq!(snapshot(&locks, &[1]), before);

    // No thread allowed: the one way an empty list fails.
    assert_eq!(
        locks.schedulable_threads(accounts(&empty), ThreadSet::none()),
        Err(TryLockError::ThreadNotAllowed)
    );
    assert_eq!(
        locks.try_lock_accounts(accounts(&empty), ThreadSet::none(), never_called),
        Err(TryLockError::ThreadNotAllowed)
    );
    // Allowed threads beyond the table's count are not threads of the table.
    assert_eq!(
        locks.try_lock_accounts(accounts(&empty), threads(&[4, 63]), never_called),
        Err(TryLockError::ThreadNotAllowed)
    );
    assert_eq!(snapshot(&locks, &[1]), before);
    locks.assert_consistent();
}

#[test]
fn multiple_conflicts_is_reported_before_thread_not_allowed() {
    let mut locks = Locks::new(4);
    lock_on(&mut locks, &[(1, true)], 0);
    lock_on(&mut locks, &[(2, true)], 1);
    let tx = [(1, true), (2, true)];
    for allowed in [ThreadSet::none(), ThreadSet::only(2), ThreadSet::any(4)] {
        assert_eq!(
            locks.schedulable_threads(accounts(&tx), allowed),
            Err(TryLockError::MultipleConflicts),
            "{allowed:?}"
        );
        assert_eq!(
            locks.try_lock_accounts(accounts(&tx), allowed, never_called),
            Err(TryLockError::MultipleConflicts),
            "{allowed:?}"
        );
    }
    // A transaction that one thread could take is ThreadNotAllowed when that thread is not
    // allowed, whatever else is.
    assert_eq!(
        locks.try_lock_accounts(accounts(&[(1, true)]), threads(&[1, 2, 3]), never_called),
        Err(TryLockError::ThreadNotAllowed)
    );
    locks.assert_consistent();
}

#[test]
fn the_selector_is_given_exactly_the_schedulable_threads_that_are_allowed() {
    let mut locks = Locks::new(6);
    // Account 1 is read by 2 and 4 (readers go anywhere); account 2 is read by 3 only.
    lock_on(&mut locks, &[(1, false)], 2);
    lock_on(&mut locks, &[(1, false)], 4);
    lock_on(&mut locks, &[(2, false)], 3);
    let all = ThreadSet::any(6);
    let cases: [(Tx<'_>, ThreadSet, ThreadSet); 6] = [
        (&[(1, false)], all, all),
        (&[(1, false)], threads(&[0, 5]), threads(&[0, 5])),
        (&[(1, false)], ThreadSet::any(64), all),
        (&[(1, false), (2, true)], all, ThreadSet::only(3)),
        (
            &[(2, false), (9, true)],
            threads(&[1, 3, 5, 40]),
            threads(&[1, 3, 5]),
        ),
        (
            &[(9, true)],
            ThreadSet::from_bits(!0b10),
            all - ThreadSet::only(1),
        ),
    ];
    for (tx, allowed, expected) in cases {
        assert_eq!(
            locks.schedulable_threads(accounts(tx), allowed),
            Ok(expected)
        );
        let (result, given) = try_lock_recorded(&mut locks, tx, allowed, lowest);
        assert_eq!(given, Some(expected), "{tx:?} allowed {allowed:?}");
        assert_eq!(result, Ok(lowest(expected)));
        locks.unlock_accounts(accounts(tx), lowest(expected));
    }
    locks.assert_consistent();
}

#[test]
fn a_failed_attempt_leaves_the_table_unchanged() {
    let mut locks = Locks::new(4);
    lock_on(&mut locks, &[(1, true), (2, false)], 0);
    lock_on(&mut locks, &[(3, false)], 1);
    lock_on(&mut locks, &[(3, false)], 2);
    lock_on(&mut locks, &[(4, true)], 3);
    // Keys 10..14 are not locked: the failing attempts meet them before (and after) the
    // conflict, so their check-phase entries must disappear again.
    let keys: Vec<u32> = vec![1, 2, 3, 4, 10, 11, 12, 13];
    let before = snapshot(&locks, &keys);
    assert_eq!(before.num_locked_accounts, 4);

    let failing: [(Tx<'_>, ThreadSet, TryLockError); 7] = [
        // Fails at the first account.
        (
            &[(3, true), (10, true)],
            ThreadSet::any(4),
            TryLockError::MultipleConflicts,
        ),
        // Fails at the last account, after three new ones.
        (
            &[(10, true), (11, false), (12, true), (1, true), (4, false)],
            ThreadSet::any(4),
            TryLockError::MultipleConflicts,
        ),
        // A new account listed twice, then a conflict.
        (
            &[(10, true), (10, false), (2, false), (3, true)],
            ThreadSet::any(4),
            TryLockError::MultipleConflicts,
        ),
        // Everything checks out, but the thread is not allowed.
        (
            &[(10, true), (11, true), (12, false), (13, false), (1, false)],
            threads(&[1, 2, 3]),
            TryLockError::ThreadNotAllowed,
        ),
        // Only new accounts, nothing allowed.
        (
            &[(10, true), (11, false), (10, true)],
            ThreadSet::none(),
            TryLockError::ThreadNotAllowed,
        ),
        // Readers of 3 on two threads meet a writer of 3 in the same transaction.
        (
            &[(13, false), (3, false), (3, true)],
            ThreadSet::any(4),
            TryLockError::MultipleConflicts,
        ),
        // Conflict and nothing allowed: MultipleConflicts.
        (
            &[(11, true), (1, true), (4, true)],
            ThreadSet::none(),
            TryLockError::MultipleConflicts,
        ),
    ];
    for (tx, allowed, error) in failing {
        assert_eq!(
            locks.schedulable_threads(accounts(tx), allowed),
            Err(error),
            "{tx:?}"
        );
        assert_eq!(
            locks.try_lock_accounts(accounts(tx), allowed, never_called),
            Err(error),
            "{tx:?}"
        );
        assert_eq!(snapshot(&locks, &keys), before, "{tx:?}");
        locks.assert_consistent();
    }

    // The table still works: the new accounts lock and unlock normally.
    let tx = [(10, true), (11, false), (1, false)];
    assert_eq!(
        locks.try_lock_accounts(accounts(&tx), ThreadSet::any(4), lowest),
        Ok(0)
    );
    assert_eq!(locks.num_locked_accounts(), 6);
    locks.unlock_accounts(accounts(&tx), 0);
    assert_eq!(snapshot(&locks, &keys), before);
    locks.assert_consistent();
}

// ---------------------------------------------------------------------------------------
// Reentrant locks.

#[test]
fn three_writers_of_one_account_share_its_thread() {
    let mut locks = Locks::new(4);
    let tx = [(1, true)];
    for count in 1..=3 {
        let (result, given) = try_lock_recorded(&mut locks, &tx, ThreadSet::any(4), pick(2));
        let expected_given = if count == 1 {
            ThreadSet::any(4)
        } else {
            ThreadSet::only(2)
        };
        assert_eq!(given, Some(expected_given));
        assert_eq!(result, Ok(2));
        assert_eq!(locks.write_lock(&1), Some((2, count)));
        assert_eq!(locks.read_lock_threads(&1), ThreadSet::none());
    }
    for count in [2, 1] {
        locks.unlock_accounts(accounts(&tx), 2);
        assert_eq!(locks.write_lock(&1), Some((2, count)));
    }
    locks.unlock_accounts(accounts(&tx), 2);
    assert!(locks.is_empty());
}

#[test]
fn one_thread_may_read_and_write_the_same_account() {
    let mut locks = Locks::new(4);
    lock_on(&mut locks, &[(1, false)], 1);
    lock_on(&mut locks, &[(1, false)], 1);
    // The sole reader's thread takes a writer.
    lock_on(&mut locks, &[(1, true)], 1);
    assert_eq!(
        key_state(&locks, &1),
        KeyState {
            write_lock: Some((1, 1)),
            read_lock_threads: ThreadSet::only(1),
            read_lock_counts: vec![0, 2, 0, 0],
        }
    );
    // Now readers, too, must join thread 1.
    assert_eq!(
        locks.schedulable_threads(accounts(&[(1, false)]), ThreadSet::any(4)),
        Ok(ThreadSet::only(1))
    );
    locks.assert_consistent();

    // The writer leaves first: the account is read by thread 1 only again.
    locks.unlock_accounts(accounts(&[(1, true)]), 1);
    assert_eq!(locks.write_lock(&1), None);
    assert_eq!(locks.read_lock_count(&1, 1), 2);
    assert_eq!(
        locks.schedulable_threads(accounts(&[(1, false)]), ThreadSet::any(4)),
        Ok(ThreadSet::any(4))
    );
    // The readers leave, with a writer in between.
    locks.unlock_accounts(accounts(&[(1, false)]), 1);
    lock_on(&mut locks, &[(1, true)], 1);
    locks.unlock_accounts(accounts(&[(1, false)]), 1);
    assert_eq!(
        key_state(&locks, &1),
        KeyState {
            write_lock: Some((1, 1)),
            read_lock_threads: ThreadSet::none(),
            read_lock_counts: vec![0; 4],
        }
    );
    locks.unlock_accounts(accounts(&[(1, true)]), 1);
    assert!(locks.is_empty());
    locks.assert_consistent();
}

#[test]
fn a_transaction_may_list_the_same_account_twice() {
    let mut locks = Locks::new(4);
    let all = ThreadSet::any(4);
    // (transaction, `write_lock` afterwards, `read_lock_count` afterwards)
    type WriteLock = Option<(ThreadId, LockCount)>;
    let cases: [(Tx<'_>, WriteLock, LockCount); 4] = [
        (&[(1, true), (1, true)], Some((2, 2)), 0),
        (&[(1, false), (1, true)], Some((2, 1)), 1),
        (&[(1, true), (1, false)], Some((2, 1)), 1),
        (&[(1, false), (1, false)], None, 2),
    ];
    for (tx, write_lock, reads) in cases {
        let (result, given) = try_lock_recorded(&mut locks, tx, all, pick(2));
        assert_eq!(given, Some(all), "{tx:?}");
        assert_eq!(result, Ok(2), "{tx:?}");
        assert_eq!(locks.write_lock(&1), write_lock, "{tx:?}");
        assert_eq!(locks.read_lock_count(&1, 2), reads, "{tx:?}");
        assert_eq!(locks.num_locked_accounts(), 1, "{tx:?}");
        locks.assert_consistent();
        locks.unlock_accounts(accounts(tx), 2);
        assert!(locks.is_empty(), "{tx:?}");
    }

    // Twice on a shared read: the thread's count rises by two.
    lock_on(&mut locks, &[(1, false)], 0);
    lock_on(&mut locks, &[(1, false)], 3);
    let tx = [(1, false), (1, false)];
    assert_eq!(locks.try_lock_accounts(accounts(&tx), all, pick(3)), Ok(3));
    assert_eq!(locks.read_lock_count(&1, 3), 3);
    assert_eq!(locks.read_lock_count(&1, 0), 1);
    // And on a thread that did not read it yet.
    assert_eq!(locks.try_lock_accounts(accounts(&tx), all, pick(1)), Ok(1));
    assert_eq!(locks.read_lock_threads(&1), threads(&[0, 1, 3]));
    assert_eq!(locks.read_lock_count(&1, 1), 2);
    locks.assert_consistent();
    locks.unlock_accounts(accounts(&tx), 1);
    locks.unlock_accounts(accounts(&tx), 3);
    locks.unlock_accounts(accounts(&[(1, false)]), 0);
    assert_eq!(locks.read_lock_threads(&1), ThreadSet::only(3));
    locks.unlock_accounts(accounts(&[(1, false)]), 3);
    assert!(locks.is_empty());
    locks.assert_consistent();
}

#[test]
fn when_one_reader_thread_remains_a_writer_may_join_it() {
    let mut locks = Locks::new(4);
    let read = [(1, false)];
    let write = [(1, true)];
    lock_on(&mut locks, &read, 0);
    lock_on(&mut locks, &read, 1);
    lock_on(&mut locks, &read, 2);
    lock_on(&mut locks, &read, 2);
    assert_eq!(locks.read_lock_threads(&1), threads(&[0, 1, 2]));

    let writer_threads =
        |locks: &Locks| locks.schedulable_threads(accounts(&write), ThreadSet::any(4));
    assert_eq!(writer_threads(&locks), Err(TryLockError::MultipleConflicts));

    locks.unlock_accounts(accounts(&read), 0);
    assert_eq!(locks.read_lock_threads(&1), threads(&[1, 2]));
    assert_eq!(writer_threads(&locks), Err(TryLockError::MultipleConflicts));
    locks.assert_consistent();

    locks.unlock_accounts(accounts(&read), 1);
    assert_eq!(locks.read_lock_threads(&1), ThreadSet::only(2));
    assert_eq!(
        locks.read_lock_count(&1, 2),
        2,
        "the last reader keeps its count"
    );
    assert_eq!(writer_threads(&locks), Ok(ThreadSet::only(2)));
    locks.assert_consistent();

    let (result, given) = try_lock_recorded(&mut locks, &write, ThreadSet::any(4), lowest);
    assert_eq!(given, Some(ThreadSet::only(2)));
    assert_eq!(result, Ok(2));
    assert_eq!(locks.write_lock(&1), Some((2, 1)));
    locks.unlock_accounts(accounts(&write), 2);

    // A thread that starts reading again makes a fresh shared set.
    lock_on(&mut locks, &read, 0);
    assert_eq!(locks.read_lock_threads(&1), threads(&[0, 2]));
    assert_eq!(writer_threads(&locks), Err(TryLockError::MultipleConflicts));
    locks.unlock_accounts(accounts(&read), 2);
    locks.unlock_accounts(accounts(&read), 2);
    assert_eq!(writer_threads(&locks), Ok(ThreadSet::only(0)));
    locks.unlock_accounts(accounts(&read), 0);
    assert_eq!(writer_threads(&locks), Ok(ThreadSet::any(4)));
    assert!(locks.is_empty());
    locks.assert_consistent();
}

// ---------------------------------------------------------------------------------------
// Key types.

#[test]
fn a_composite_account_asset_key_is_a_key() {
    // (account, asset): the same account with two assets is two keys.
    let mut locks = ThreadAwareAccountLocks::<(u64, u32)>::new(4);
    lock_on(&mut locks, &[((7, 0), true)], 1);
    assert_eq!(
        locks.try_lock_accounts(accounts(&[((7, 1), true)]), ThreadSet::any(4), pick(2)),
        Ok(2)
    );
    assert_eq!(
        locks.try_lock_accounts(
            accounts(&[((7, 0), true), ((7, 1), true)]),
            ThreadSet::any(4),
            never_called
        ),
        Err(TryLockError::MultipleConflicts)
    );
    assert_eq!(locks.write_lock(&(7, 0)), Some((1, 1)));
    assert_eq!(locks.write_lock(&(7, 1)), Some((2, 1)));
    assert_eq!(locks.write_lock(&(8, 0)), None);
    assert_eq!(locks.num_locked_accounts(), 2);
    locks.unlock_accounts(accounts(&[((7, 0), true)]), 1);
    locks.unlock_accounts(accounts(&[((7, 1), true)]), 2);
    assert!(locks.is_empty());
}

/// A 32-byte compressed point, `Clone` but not `Copy`, like TOS's lock key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct CompressedPoint(Vec<u8>);

#[test]
fn a_key_that_is_clone_but_not_copy_is_a_key() {
    let alice = CompressedPoint(vec![1; 32]);
    let bob = CompressedPoint(vec![2; 32]);
    let mut locks = ThreadAwareAccountLocks::<CompressedPoint>::new(2);
    let pay = [(alice.clone(), true), (bob.clone(), false)];
    assert_eq!(
        locks.try_lock_accounts(accounts(&pay), ThreadSet::any(2), pick(1)),
        Ok(1)
    );
    // The table owns its own copies of the keys: the caller's may go away.
    drop(pay);
    assert_eq!(locks.write_lock(&alice), Some((1, 1)));
    assert_eq!(locks.read_lock_threads(&bob), ThreadSet::only(1));
    let key_state_bob = key_state(&locks, &bob);
    assert_eq!(key_state_bob.read_lock_counts, vec![0, 1]);
    locks.unlock_accounts(accounts(&[(alice, true), (bob, false)]), 1);
    assert!(locks.is_empty());
}

#[test]
fn string_keys_work_too() {
    let mut locks = ThreadAwareAccountLocks::<String>::new(3);
    let tx = [("alice".to_owned(), true), ("bob".to_owned(), true)];
    assert_eq!(
        locks.try_lock_accounts(accounts(&tx), ThreadSet::any(3), lowest),
        Ok(0)
    );
    assert_eq!(locks.write_lock(&"bob".to_owned()), Some((0, 1)));
    locks.unlock_accounts(accounts(&tx), 0);
    assert_eq!(key_state(&locks, &"bob".to_owned()), unlocked_state(3));
    assert!(locks.is_empty());
}

#[test]
fn a_hasher_under_which_every_key_collides_still_gives_right_answers() {
    let mut locks = ThreadAwareAccountLocks::<u32, _>::with_hasher(4, Colliding);
    for key in 0..20 {
        lock_on(&mut locks, &[(key, key % 2 == 0)], (key % 4) as ThreadId);
    }
    for key in 0..20 {
        let thread_id = (key % 4) as ThreadId;
        if key % 2 == 0 {
            assert_eq!(locks.write_lock(&key), Some((thread_id, 1)));
        } else {
            assert_eq!(locks.read_lock_threads(&key), ThreadSet::only(thread_id));
        }
    }
    // Failed attempts with many new keys among the colliding ones.
    let tx: Vec<(u32, bool)> = (100..130)
        .map(|key| (key, true))
        .chain([(0, true), (1, true)])
        .collect();
    let keys: Vec<u32> = (0..20).chain(100..130).collect();
    let before = snapshot(&locks, &keys);
    assert_eq!(
        locks.try_lock_accounts(accounts(&tx), ThreadSet::any(4), never_called),
        Err(TryLockError::MultipleConflicts)
    );
    assert_eq!(snapshot(&locks, &keys), before);
    locks.assert_consistent();
    for key in 0..20 {
        locks.unlock_accounts(accounts(&[(key, key % 2 == 0)]), (key % 4) as ThreadId);
    }
    assert!(locks.is_empty());
}

// ---------------------------------------------------------------------------------------
// Misuse: the documented panics.

#[test]
#[should_panic(expected = "unlock_accounts: account is not locked at all")]
fn unlocking_a_never_locked_account_panics() {
    let mut locks = Locks::new(4);
    locks.unlock_accounts(accounts(&[(1, false)]), 0);
}

#[test]
#[should_panic(expected = "unlock_accounts: write lock is not held by thread 3")]
fn unlocking_a_write_lock_on_the_wrong_thread_panics() {
    let mut locks = Locks::new(4);
    lock_on(&mut locks, &[(1, true)], 2);
    locks.unlock_accounts(accounts(&[(1, true)]), 3);
}

#[test]
#[should_panic(expected = "unlock_accounts: read lock is not held by thread 0")]
fn unlocking_a_read_lock_on_the_wrong_thread_panics() {
    let mut locks = Locks::new(4);
    lock_on(&mut locks, &[(1, false)], 1);
    lock_on(&mut locks, &[(1, false)], 2);
    locks.unlock_accounts(accounts(&[(1, false)]), 0);
}

#[test]
#[should_panic(expected = "unlock_accounts: read lock is not held by thread 2, only a write lock")]
fn unlocking_a_write_lock_as_a_read_lock_panics() {
    let mut locks = Locks::new(4);
    lock_on(&mut locks, &[(1, true)], 2);
    locks.unlock_accounts(accounts(&[(1, false)]), 2);
}

#[test]
#[should_panic(expected = "unlock_accounts: write lock is not held by thread 2")]
fn unlocking_a_read_lock_as_a_write_lock_panics() {
    let mut locks = Locks::new(4);
    lock_on(&mut locks, &[(1, false)], 2);
    locks.unlock_accounts(accounts(&[(1, true)]), 2);
}

#[test]
#[should_panic(expected = "unlock_accounts: account is not locked at all")]
fn unlocking_twice_panics() {
    let mut locks = Locks::new(4);
    lock_on(&mut locks, &[(1, true)], 2);
    locks.unlock_accounts(accounts(&[(1, true)]), 2);
    locks.unlock_accounts(accounts(&[(1, true)]), 2);
}

#[test]
fn a_failed_unlock_releases_the_locks_before_the_offending_one() {
    let mut locks = Locks::new(4);
    lock_on(&mut locks, &[(1, true), (2, false)], 2);
    let result = catch_unwind(AssertUnwindSafe(|| {
        locks.unlock_accounts(accounts(&[(1, true), (3, false), (2, false)]), 2);
    }));
    assert!(result.is_err());
    assert_eq!(locks.write_lock(&1), None, "released before the panic");
    assert_eq!(
        locks.read_lock_threads(&2),
        ThreadSet::only(2),
        "not reached"
    );
    assert_eq!(locks.num_locked_accounts(), 1);
    locks.assert_consistent();
}

#[test]
#[should_panic(expected = "thread_selector returned thread 3, outside the schedulable set")]
fn a_selector_returning_a_thread_outside_the_set_panics() {
    let mut locks = Locks::new(4);
    lock_on(&mut locks, &[(1, true)], 2);
    let _ = locks.try_lock_accounts(accounts(&[(1, false)]), ThreadSet::any(4), pick(3));
}

#[test]
fn after_a_selector_out_of_the_set_panic_the_table_is_unchanged() {
    let mut locks = Locks::new(4);
    lock_on(&mut locks, &[(1, true)], 2);
    let keys = [1, 2, 3];
    let before = snapshot(&locks, &keys);
    let bad_picks: [(Tx<'_>, ThreadSet, ThreadId); 3] = [
        // Outside the schedulable set.
        (&[(2, true), (1, false), (3, false)], ThreadSet::any(4), 0),
        // Schedulable but not allowed.
        (&[(2, true), (3, true)], threads(&[0, 1]), 3),
        // Not a thread of the table.
        (&[(3, false)], ThreadSet::any(4), 9),
    ];
    for (tx, allowed, bad) in bad_picks {
        let result = catch_unwind(AssertUnwindSafe(|| {
            locks.try_lock_accounts(accounts(tx), allowed, pick(bad))
        }));
        assert!(result.is_err(), "{tx:?} on {bad} must panic");
        assert_eq!(snapshot(&locks, &keys), before, "{tx:?}");
        locks.assert_consistent();
    }
    locks.unlock_accounts(accounts(&[(1, true)]), 2);
    assert!(locks.is_empty());
}

/// A selector is caller code, and may panic on its own (an `unwrap` on the caller's
/// per-thread state, say). The check phase has already inserted a holder-less entry for
/// every new account when the selector runs; unwinding must remove them, so that the failed
/// attempt changes nothing and the table can become empty again.
#[test]
fn after_a_panicking_selector_the_table_is_unchanged() {
    let mut locks = Locks::new(4);
    lock_on(&mut locks, &[(1, true)], 2);
    let keys = [1, 2, 3];
    let before = snapshot(&locks, &keys);
    let result = catch_unwind(AssertUnwindSafe(|| {
        locks.try_lock_accounts(
            accounts(&[(2, true), (3, false)]),
            ThreadSet::any(4),
            |_| -> ThreadId { panic!("the caller's selector failed") },
        )
    }));
    assert!(result.is_err());
    assert_eq!(snapshot(&locks, &keys), before);
    locks.assert_consistent();
}

#[test]
#[should_panic(expected = "unlock_accounts: read lock is not held by thread 3")]
fn unlocking_a_sole_readers_lock_on_another_thread_panics() {
    let mut locks = Locks::new(4);
    lock_on(&mut locks, &[(1, false)], 1);
    locks.unlock_accounts(accounts(&[(1, false)]), 3);
}

/// An iterator whose size hint claims fewer items than it yields.
#[derive(Clone)]
struct UnderstatedLength<'a>(std::slice::Iter<'a, (u32, bool)>);

impl<'a> Iterator for UnderstatedLength<'a> {
    type Item = (&'a u32, bool);
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(key, writable)| (key, *writable))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.0.len().saturating_sub(1);
        (n, Some(n))
    }
}

/// A lying exact size hint would let keys go unlocked; it is refused before anything
/// changes.
#[test]
fn an_iterator_longer_than_its_exact_size_hint_is_refused_unchanged() {
    let mut locks = Locks::new(4);
    let accounts = [(1u32, true), (2, true), (3, false)];
    let result = catch_unwind(AssertUnwindSafe(|| {
        locks.try_lock_accounts(
            UnderstatedLength(accounts.iter()),
            ThreadSet::any(4),
            |set| set.contained_threads_iter().next().unwrap(),
        )
    }));
    let message = result.expect_err("must panic");
    let message = message
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| message.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    assert!(message.contains("size hints are truthful"), "{message}");
    assert!(locks.is_empty());
    locks.assert_consistent();
}
