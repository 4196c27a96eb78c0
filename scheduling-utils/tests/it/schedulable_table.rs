//! The schedulable-thread table of the crate doc, row by row, for 2, 4 and 64 threads:
//!
//! | account is              | a writer may go to | a reader may go to |
//! |-------------------------|--------------------|--------------------|
//! | not locked              | any thread         | any thread         |
//! | write-locked by `T`     | only `T`           | only `T`           |
//! | read-locked by only `T` | only `T`           | any thread         |
//! | read-locked by several  | no thread          | any thread         |
//!
//! Each row is checked three ways: the `schedulable_threads` query, the set a selector is
//! given by `try_lock_accounts`, and `try_lock_accounts` with each single thread allowed.

use scheduling_utils::{ThreadAwareAccountLocks, ThreadId, ThreadSet, TryLockError};

use crate::{accounts, lock_on, lowest, never_called, snapshot, threads, try_lock_recorded};

type Locks = ThreadAwareAccountLocks<u32>;

/// A transaction's accounts, in the tables of cases.
type Tx<'a> = &'a [(u32, bool)];

/// The account every row is about.
const KEY: u32 = 7;

/// How the account is held before the probe.
#[derive(Debug, Clone)]
enum Held {
    Unlocked,
    /// Write-locked by the thread, `writes` times, and also read by it `reads` times.
    Write {
        thread_id: ThreadId,
        writes: usize,
        reads: usize,
    },
    /// Read-locked by the one thread, `reads` times.
    ReadBySole {
        thread_id: ThreadId,
        reads: usize,
    },
    /// Read-locked by each listed thread, with the listed count.
    ReadBySeveral(Vec<(ThreadId, usize)>),
}

impl Held {
    fn build(&self, num_threads: usize) -> Locks {
        let mut locks = Locks::new(num_threads);
        match *self {
            Held::Unlocked => {}
            Held::Write {
                thread_id,
                writes,
                reads,
            } => {
                for _ in 0..writes {
                    lock_on(&mut locks, &[(KEY, true)], thread_id);
                }
                for _ in 0..reads {
                    lock_on(&mut locks, &[(KEY, false)], thread_id);
                }
            }
            Held::ReadBySole { thread_id, reads } => {
                for _ in 0..reads {
                    lock_on(&mut locks, &[(KEY, false)], thread_id);
                }
            }
            Held::ReadBySeveral(ref readers) => {
                for &(thread_id, reads) in readers {
                    for _ in 0..reads {
                        lock_on(&mut locks, &[(KEY, false)], thread_id);
                    }
                }
            }
        }
        locks.assert_consistent();
        locks
    }

    /// The table's answer: (a writer may go to, a reader may go to).
    fn expected(&self, num_threads: usize) -> (ThreadSet, ThreadSet) {
        let any = ThreadSet::any(num_threads);
        match *self {
            Held::Unlocked => (any, any),
            Held::Write { thread_id, .. } => {
                (ThreadSet::only(thread_id), ThreadSet::only(thread_id))
            }
            Held::ReadBySole { thread_id, .. } => (ThreadSet::only(thread_id), any),
            Held::ReadBySeveral(_) => (ThreadSet::none(), any),
        }
    }
}

/// Every row, in several shapes, for a table of `num_threads` threads.
fn rows(num_threads: usize) -> Vec<Held> {
    let last = num_threads - 1;
    let mut rows = vec![Held::Unlocked];
    for thread_id in [0, last] {
        rows.extend([
            Held::Write {
                thread_id,
                writes: 1,
                reads: 0,
            },
            Held::Write {
                thread_id,
                writes: 3,
                reads: 2,
            },
            Held::ReadBySole {
                thread_id,
                reads: 1,
            },
            Held::ReadBySole {
                thread_id,
                reads: 4,
            },
        ]);
    }
    rows.push(Held::ReadBySeveral(vec![(0, 1), (last, 1)]));
    if num_threads > 2 {
        rows.push(Held::ReadBySeveral(vec![(0, 2), (1, 1), (last, 3)]));
        rows.push(Held::ReadBySeveral(
            (0..num_threads).map(|thread_id| (thread_id, 1)).collect(),
        ));
    }
    rows
}

/// The query's and `try_lock_accounts`'s answer for `expected`, with `allowed` applied.
fn expected_result(expected: ThreadSet, allowed: ThreadSet) -> Result<ThreadSet, TryLockError> {
    if expected.is_empty() {
        Err(TryLockError::MultipleConflicts)
    } else if (expected & allowed).is_empty() {
        Err(TryLockError::ThreadNotAllowed)
    } else {
        Ok(expected & allowed)
    }
}

fn check_row(num_threads: usize, held: &Held) {
    let all = ThreadSet::any(num_threads);
    let (writer, reader) = held.expected(num_threads);
    for (writable, expected) in [(true, writer), (false, reader)] {
        let context = format!("{held:?} on {num_threads} threads, writable: {writable}");
        let tx = [(KEY, writable)];
        let mut locks = held.build(num_threads);
        let before = snapshot(&locks, &[KEY]);

        // The query.
        assert_eq!(
            locks.schedulable_threads(accounts(&tx), all),
            expected_result(expected, all),
            "{context}"
        );

        // The set the selector is given; the lock is taken and released again.
        let (result, given) = try_lock_recorded(&mut locks, &tx, all, lowest);
        match expected_result(expected, all) {
            Ok(set) => {
                assert_eq!(given, Some(set), "{context}");
                assert_eq!(result, Ok(lowest(set)), "{context}");
                locks.assert_consistent();
                locks.unlock_accounts(accounts(&tx), lowest(set));
            }
            Err(error) => {
                assert_eq!(given, None, "{context}");
                assert_eq!(result, Err(error), "{context}");
            }
        }
        assert_eq!(snapshot(&locks, &[KEY]), before, "{context}");

        // One thread allowed at a time.
        for thread_id in 0..num_threads {
            let allowed = ThreadSet::only(thread_id);
            let expected_one = expected_result(expected, allowed).map(|_| thread_id);
            let result = if expected_one.is_ok() {
                locks.try_lock_accounts(accounts(&tx), allowed, |set| {
                    assert_eq!(set, allowed, "{context}");
                    thread_id
                })
            } else {
                locks.try_lock_accounts(accounts(&tx), allowed, never_called)
            };
            assert_eq!(result, expected_one, "{context}, allowed: {thread_id}");
            assert_eq!(
                locks.schedulable_threads(accounts(&tx), allowed).is_ok(),
                result.is_ok(),
                "{context}, allowed: {thread_id}"
            );
            if result.is_ok() {
                locks.assert_consistent();
                locks.unlock_accounts(accounts(&tx), thread_id);
            }
            assert_eq!(snapshot(&locks, &[KEY]), before, "{context}");
        }
    }
}

#[test]
fn every_row_of_the_table_holds_for_2_4_and_64_threads() {
    for num_threads in [2, 4, 64] {
        for held in rows(num_threads) {
            check_row(num_threads, &held);
        }
    }
}

#[test]
fn a_single_thread_table_takes_everything_on_thread_0() {
    for held in [
        Held::Unlocked,
        Held::Write {
            thread_id: 0,
            writes: 2,
            reads: 1,
        },
        Held::ReadBySole {
            thread_id: 0,
            reads: 3,
        },
    ] {
        check_row(1, &held);
    }
}

/// A transaction's threads are the intersection of its accounts' rows.
#[test]
fn a_transaction_gets_the_intersection_of_its_accounts_rows() {
    let mut locks = Locks::new(4);
    // 1: write-locked by 2. 2: read by 1 only. 3: read by 0 and 3. 4: not locked.
    lock_on(&mut locks, &[(1, true)], 2);
    lock_on(&mut locks, &[(2, false)], 1);
    lock_on(&mut locks, &[(3, false)], 0);
    lock_on(&mut locks, &[(3, false)], 3);
    let all = ThreadSet::any(4);
    let cases: [(Tx<'_>, Result<ThreadSet, TryLockError>); 8] = [
        (&[(4, true), (2, false), (3, false)], Ok(all)),
        (
            &[(1, false), (2, false), (3, false)],
            Ok(ThreadSet::only(2)),
        ),
        (&[(1, true), (4, true)], Ok(ThreadSet::only(2))),
        (&[(2, true), (4, false)], Ok(ThreadSet::only(1))),
        (
            &[(1, true), (2, true)],
            Err(TryLockError::MultipleConflicts),
        ),
        (&[(3, true)], Err(TryLockError::MultipleConflicts)),
        (
            &[(2, true), (3, true)],
            Err(TryLockError::MultipleConflicts),
        ),
        (&[(4, true), (4, false), (2, false)], Ok(all)),
    ];
    let before = snapshot(&locks, &[1, 2, 3, 4]);
    for (tx, expected) in cases {
        assert_eq!(
            locks.schedulable_threads(accounts(tx), all),
            expected,
            "{tx:?}"
        );
        let (result, given) = try_lock_recorded(&mut locks, tx, all, lowest);
        assert_eq!(given.ok_or(()), expected.map_err(|_| ()), "{tx:?}");
        assert_eq!(result, expected.map(lowest), "{tx:?}");
        if let Ok(thread_id) = result {
            locks.unlock_accounts(accounts(tx), thread_id);
        }
        assert_eq!(snapshot(&locks, &[1, 2, 3, 4]), before, "{tx:?}");
    }
    // A writer of 2 (read by 1 only) and a reader of 3 could go to thread 1, which the
    // caller does not allow.
    assert_eq!(
        locks.schedulable_threads(accounts(&[(2, true), (3, false)]), threads(&[0, 3])),
        Err(TryLockError::ThreadNotAllowed)
    );
    locks.assert_consistent();
}
