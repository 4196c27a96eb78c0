//! `AccountLocks` scenarios: the conflict matrix, partial unlocks, batches and the panics
//! of unlocking what is not held.

use accounts_db_lite::AccountLocks;
use sdk_lite::{Pubkey, TransactionError};

use crate::{accounts, key};

/// `(write count, read count)` of `key`.
fn counts(locks: &AccountLocks, key: &Pubkey) -> (u64, u64) {
    (locks.write_lock_count(key), locks.readonly_lock_count(key))
}

/// Holds `x` (writable or not), then tries a transaction that writes a fresh account and
/// then uses `x` as `requested_writable`. The conflicting key comes last, so a lock taken
/// eagerly on the fresh account before the conflict was found would show.
fn second_lock(held_writable: bool, requested_writable: bool) -> Result<(), TransactionError> {
    let (x, fresh) = (key(1), key(2));
    let mut locks = AccountLocks::default();
    locks
        .try_lock_accounts(accounts(&[(x, held_writable)]))
        .unwrap();
    let held = counts(&locks, &x);
    let result = locks.try_lock_accounts(accounts(&[(fresh, true), (x, requested_writable)]));
    match result {
        Ok(()) => {
            assert_eq!(counts(&locks, &fresh), (1, 0));
            assert_eq!(counts(&locks, &x), (0, 2), "only read-read shares");
        }
        Err(_) => {
            assert_eq!(counts(&locks, &fresh), (0, 0), "nothing locked on failure");
            assert_eq!(counts(&locks, &x), held, "nothing locked on failure");
        }
    }
    result
}

#[test]
fn write_after_write_is_in_use() {
    assert_eq!(second_lock(true, true), Err(TransactionError::AccountInUse));
}

#[test]
fn write_after_read_is_in_use() {
    assert_eq!(
        second_lock(false, true),
        Err(TransactionError::AccountInUse)
    );
}

#[test]
fn read_after_write_is_in_use() {
    assert_eq!(
        second_lock(true, false),
        Err(TransactionError::AccountInUse)
    );
}

#[test]
fn read_after_read_shares_the_lock() {
    assert_eq!(second_lock(false, false), Ok(()));
}

#[test]
fn failed_lock_takes_none_of_the_accounts_and_succeeds_once_released() {
    let (a, b, c, x) = (key(1), key(2), key(3), key(4));
    let mut locks = AccountLocks::default();
    let holder = [(x, true)];
    locks.try_lock_accounts(accounts(&holder)).unwrap();
    let tx = [(a, true), (b, false), (c, true), (x, false)];
    assert_eq!(
        locks.try_lock_accounts(accounts(&tx)),
        Err(TransactionError::AccountInUse)
    );
    for k in [a, b, c] {
        assert_eq!(counts(&locks, &k), (0, 0));
    }
    assert_eq!(counts(&locks, &x), (1, 0));

    locks.unlock_accounts(accounts(&holder));
    assert!(locks.is_empty());
    assert_eq!(locks.try_lock_accounts(accounts(&tx)), Ok(()));
    assert_eq!(counts(&locks, &a), (1, 0));
    assert_eq!(counts(&locks, &b), (0, 1));
    assert_eq!(counts(&locks, &x), (0, 1));
    locks.unlock_accounts(accounts(&tx));
    assert!(locks.is_empty());
}

#[test]
fn empty_lock_list_locks_nothing_and_always_succeeds() {
    let mut locks = AccountLocks::default();
    assert!(locks.is_empty());
    assert_eq!(locks.try_lock_accounts(accounts(&[])), Ok(()));
    locks
        .try_lock_accounts(accounts(&[(key(1), true)]))
        .unwrap();
    assert_eq!(locks.try_lock_accounts(accounts(&[])), Ok(()));
    locks.unlock_accounts(accounts(&[]));
    assert_eq!(counts(&locks, &key(1)), (1, 0));
}

#[test]
fn unlocking_one_of_two_readers_keeps_the_other_reader() {
    let (a, b, x) = (key(1), key(2), key(3));
    let mut locks = AccountLocks::default();
    let first = [(a, true), (x, false)];
    let second = [(x, false), (b, true)];
    locks.try_lock_accounts(accounts(&first)).unwrap();
    locks.try_lock_accounts(accounts(&second)).unwrap();
    assert_eq!(counts(&locks, &x), (0, 2));

    locks.unlock_accounts(accounts(&first));
    assert_eq!(counts(&locks, &x), (0, 1));
    assert_eq!(counts(&locks, &a), (0, 0));
    assert_eq!(counts(&locks, &b), (1, 0));
    // `a` is free; `x` still has a reader, so it can be read but not written; `b` is
    // still written.
    let write_x = [(x, true)];
    let read_b = [(b, false)];
    assert_eq!(
        locks.try_lock_accounts(accounts(&write_x)),
        Err(TransactionError::AccountInUse)
    );
    assert_eq!(
        locks.try_lock_accounts(accounts(&read_b)),
        Err(TransactionError::AccountInUse)
    );
    let write_a_read_x = [(a, true), (x, false)];
    assert_eq!(locks.try_lock_accounts(accounts(&write_a_read_x)), Ok(()));
    assert_eq!(counts(&locks, &x), (0, 2));

    locks.unlock_accounts(accounts(&second));
    locks.unlock_accounts(accounts(&write_a_read_x));
    assert!(locks.is_empty());
    assert_eq!(locks.try_lock_accounts(accounts(&write_x)), Ok(()));
}

#[test]
fn batch_with_two_writers_of_one_account_locks_both() {
    let (x, y) = (key(1), key(2));
    let mut locks = AccountLocks::default();
    let first = [(x, true)];
    let second = [(y, false), (x, true)];
    let results = locks.try_lock_transaction_batch([Ok(accounts(&first)), Ok(accounts(&second))]);
    assert_eq!(results, [Ok(()), Ok(())]);
    assert_eq!(counts(&locks, &x), (2, 0));
    assert_eq!(counts(&locks, &y), (0, 1));
    // Another transaction outside the batch cannot touch `x`.
    assert_eq!(
        locks.try_lock_accounts(accounts(&[(x, false)])),
        Err(TransactionError::AccountInUse)
    );

    locks.unlock_accounts(accounts(&first));
    assert_eq!(counts(&locks, &x), (1, 0));
    assert_eq!(
        locks.try_lock_accounts(accounts(&[(x, false)])),
        Err(TransactionError::AccountInUse)
    );
    locks.unlock_accounts(accounts(&second));
    assert!(locks.is_empty());
}

#[test]
fn batch_with_a_reader_and_a_writer_of_one_account_locks_both() {
    let x = key(1);
    let mut locks = AccountLocks::default();
    let reader = [(x, false)];
    let writer = [(x, true)];
    let results = locks.try_lock_transaction_batch([Ok(accounts(&reader)), Ok(accounts(&writer))]);
    assert_eq!(results, [Ok(()), Ok(())]);
    assert_eq!(counts(&locks, &x), (1, 1));
    locks.unlock_accounts(accounts(&writer));
    locks.unlock_accounts(accounts(&reader));
    assert!(locks.is_empty());
}

#[test]
fn batch_conflicting_with_an_earlier_batch_fails_only_the_conflicting_transactions() {
    let (x, y, z, w) = (key(1), key(2), key(3), key(4));
    let mut locks = AccountLocks::default();
    let earlier = [(x, true), (w, false)];
    assert_eq!(
        locks.try_lock_transaction_batch([Ok(accounts(&earlier))]),
        [Ok(())]
    );

    let writes_x = [(y, true), (x, true)];
    let writes_y = [(y, true)];
    let reads_x = [(z, false), (x, false)];
    let reads_z_and_w = [(z, false), (w, false)];
    let writes_w = [(w, true)];
    let results = locks.try_lock_transaction_batch([
        Ok(accounts(&writes_x)),
        Ok(accounts(&writes_y)),
        Ok(accounts(&reads_x)),
        Ok(accounts(&reads_z_and_w)),
        Ok(accounts(&writes_w)),
    ]);
    assert_eq!(
        results,
        [
            Err(TransactionError::AccountInUse),
            Ok(()),
            Err(TransactionError::AccountInUse),
            Ok(()),
            Err(TransactionError::AccountInUse),
        ]
    );
    // Only the successful transactions' locks were added.
    assert_eq!(counts(&locks, &x), (1, 0));
    assert_eq!(counts(&locks, &y), (1, 0));
    assert_eq!(counts(&locks, &z), (0, 1));
    assert_eq!(counts(&locks, &w), (0, 2));

    for tx in [&earlier[..], &writes_y, &reads_z_and_w] {
        locks.unlock_accounts(accounts(tx));
    }
    assert!(locks.is_empty());
}

#[test]
fn error_passed_into_a_batch_stays_and_locks_nothing() {
    let (x, y) = (key(1), key(2));
    let mut locks = AccountLocks::default();
    locks.try_lock_accounts(accounts(&[(x, true)])).unwrap();

    let validated = [(y, true)];
    let results = locks.try_lock_transaction_batch([
        Err(TransactionError::AccountLoadedTwice),
        Ok(accounts(&validated)),
        Err(TransactionError::TooManyAccountLocks),
    ]);
    // The errors come back as given, not replaced by the outcome of a lock attempt.
    assert_eq!(
        results,
        [
            Err(TransactionError::AccountLoadedTwice),
            Ok(()),
            Err(TransactionError::TooManyAccountLocks),
        ]
    );
    assert_eq!(counts(&locks, &y), (1, 0));
    assert_eq!(counts(&locks, &x), (1, 0));

    let only_errors = locks.try_lock_transaction_batch([
        Err::<std::iter::Empty<(&Pubkey, bool)>, _>(TransactionError::AccountInUse),
        Err(TransactionError::AccountLoadedTwice),
    ]);
    assert_eq!(
        only_errors,
        [
            Err(TransactionError::AccountInUse),
            Err(TransactionError::AccountLoadedTwice)
        ]
    );
    locks.unlock_accounts(accounts(&validated));
    locks.unlock_accounts(accounts(&[(x, true)]));
    assert!(locks.is_empty());
}

#[test]
fn empty_batch_returns_no_results() {
    let mut locks = AccountLocks::default();
    let results = locks.try_lock_transaction_batch(Vec::<
        Result<std::iter::Empty<(&Pubkey, bool)>, TransactionError>,
    >::new());
    assert!(results.is_empty());
    assert!(locks.is_empty());
}

#[test]
#[should_panic(expected = "unlock_accounts: no write lock on")]
fn unlocking_a_write_lock_that_is_not_held_panics() {
    AccountLocks::default().unlock_accounts(accounts(&[(key(1), true)]));
}

#[test]
#[should_panic(expected = "unlock_accounts: no read lock on")]
fn unlocking_a_read_lock_that_is_not_held_panics() {
    AccountLocks::default().unlock_accounts(accounts(&[(key(1), false)]));
}

#[test]
#[should_panic(expected = "unlock_accounts: no read lock on")]
fn unlocking_a_read_lock_on_a_write_locked_account_panics() {
    let mut locks = AccountLocks::default();
    locks
        .try_lock_accounts(accounts(&[(key(1), true)]))
        .unwrap();
    locks.unlock_accounts(accounts(&[(key(1), false)]));
}

#[test]
#[should_panic(expected = "unlock_accounts: no write lock on")]
fn unlocking_twice_panics() {
    let mut locks = AccountLocks::default();
    let tx = [(key(1), true)];
    locks.try_lock_accounts(accounts(&tx)).unwrap();
    locks.unlock_accounts(accounts(&tx));
    locks.unlock_accounts(accounts(&tx));
}
