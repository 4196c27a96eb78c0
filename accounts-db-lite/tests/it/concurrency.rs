//! Threads: loads racing commits, and the pipeline's lock, load, store, unlock protocol.
//!
//! Every account these tests store is `consistent_account(lamports)`: its data, owner and
//! executable flag are derived from its lamports, so a reader can tell a whole account
//! from a mix of two commits. Threads start together at a barrier and stop on a flag set
//! once the writers have done a fixed amount of work: nothing waits on a sleep. Assertions
//! are made after the thread has released its execution locks, so that a failure cannot
//! leave the other threads spinning on a lock; a retry loop that runs past `DEADLINE`
//! panics instead of hanging.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use accounts_db_lite::{AccountLocks, AccountsDb};
use sdk_lite::{AccountSharedData, Pubkey, ReadableAccount, TransactionError};

use crate::{SplitMix64, accounts, assert_consistent, consistent_account, key};

/// How long a lock may be retried before the test calls it a livelock.
const DEADLINE: Duration = Duration::from_secs(10);

/// Joins `writers`, then raises `stop` whatever they returned (so that readers end even if
/// a writer panicked), then re-raises the first writer panic.
fn join_writers_then_stop(writers: Vec<thread::ScopedJoinHandle<'_, ()>>, stop: &AtomicBool) {
    let results: Vec<_> = writers.into_iter().map(|h| h.join()).collect();
    stop.store(true, Ordering::Release);
    for result in results {
        if let Err(panic) = result {
            std::panic::resume_unwind(panic);
        }
    }
}

#[test]
fn readers_never_see_a_torn_account_while_writers_commit() {
    const NUM_KEYS: u64 = 8;
    const WRITERS: u64 = 2;
    const READERS: u64 = 2;
    const COMMITS_PER_WRITER: u64 = 600;

    let db =
        AccountsDb::new_with_genesis((0..NUM_KEYS).map(|n| (key(n), consistent_account(n + 1))))
            .unwrap();
    let stop = AtomicBool::new(false);
    let start = Barrier::new((WRITERS + READERS) as usize);
    let reads = AtomicU64::new(0);

    thread::scope(|scope| {
        for reader in 0..READERS {
            let (db, stop, start, reads) = (&db, &stop, &start, &reads);
            scope.spawn(move || {
                let mut rng = SplitMix64(0xdead_0000 + reader);
                start.wait();
                let mut count = 0u64;
                while !stop.load(Ordering::Acquire) {
                    let loaded = db
                        .load(&key(rng.below(NUM_KEYS)))
                        .expect("no commit deletes an account");
                    assert_consistent(&loaded);
                    count += 1;
                    if count.is_multiple_of(128) {
                        // A whole-store scan sees whole accounts too.
                        let all = db.accounts_sorted();
                        assert_eq!(all.len(), NUM_KEYS as usize);
                        all.iter()
                            .for_each(|(_, account)| assert_consistent(account));
                    }
                }
                reads.fetch_add(count, Ordering::Relaxed);
            });
        }
        let writers = (0..WRITERS)
            .map(|writer| {
                let (db, start) = (&db, &start);
                scope.spawn(move || {
                    let mut rng = SplitMix64(0xbeef_0000 + writer);
                    start.wait();
                    for i in 0..COMMITS_PER_WRITER {
                        // Batches of 1 to 3 entries on keys both writers use, sometimes the
                        // same key twice; lamports unique per write, never 0.
                        let batch: Vec<(Pubkey, AccountSharedData)> = (0..1 + rng.below(3))
                            .map(|j| {
                                let lamports = (writer + 1) << 40 | i << 4 | j;
                                (key(rng.below(NUM_KEYS)), consistent_account(lamports))
                            })
                            .collect();
                        db.store(1, &batch).unwrap();
                    }
                })
            })
            .collect();
        join_writers_then_stop(writers, &stop);
    });

    assert!(reads.load(Ordering::Relaxed) > 0, "the readers ran");
    // Writers committed the same keys at once without execution locks: the hash must
    // still have followed every replacement.
    assert_eq!(db.lt_hash(), db.recompute_lt_hash());
    for (_, account) in db.accounts_sorted() {
        assert_consistent(&account);
    }
}

/// Takes the locks of `tx` on the shared table, retrying while any is in use.
fn lock_retrying(locks: &Mutex<AccountLocks>, tx: &[(Pubkey, bool)]) {
    let deadline = Instant::now() + DEADLINE;
    loop {
        match locks.lock().unwrap().try_lock_accounts(accounts(tx)) {
            Ok(()) => return,
            Err(TransactionError::AccountInUse) => {}
            Err(other) => panic!("unexpected lock error {other:?}"),
        }
        assert!(
            Instant::now() < deadline,
            "livelock: {tx:?} never became free"
        );
        thread::yield_now();
    }
}

fn unlock(locks: &Mutex<AccountLocks>, tx: &[(Pubkey, bool)]) {
    locks.lock().unwrap().unlock_accounts(accounts(tx));
}

/// The account as a transaction sees it: an absent account is the default (0 lamports).
fn load_or_default(db: &AccountsDb, pubkey: &Pubkey) -> AccountSharedData {
    db.load(pubkey).unwrap_or_default()
}

/// Whether two loads of one account under a lock saw the very same stored value (equal,
/// and the same data buffer: no commit happened in between).
fn same_commit(a: &Option<AccountSharedData>, b: &Option<AccountSharedData>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b && a.data_is_shared_with(b),
        (None, None) => true,
        _ => false,
    }
}

#[test]
fn pipeline_transfers_under_account_locks_conserve_lamports() {
    const NUM_ACCOUNTS: u64 = 8;
    const INITIAL: u64 = 1000;
    const WRITERS: u64 = 4;
    const READERS: u64 = 2;
    const TRANSFERS_PER_WRITER: u64 = 400;
    const AUDITS: u64 = 25;
    const TOTAL: u64 = NUM_ACCOUNTS * INITIAL;

    let db = AccountsDb::new_with_genesis(
        (0..NUM_ACCOUNTS).map(|n| (key(n), consistent_account(INITIAL))),
    )
    .unwrap();
    let locks = Mutex::new(AccountLocks::default());
    let stop = AtomicBool::new(false);
    // Set by the auditor while it wants every account: writers take no new locks then, so
    // the auditor's read locks on all accounts are eventually granted.
    let audit_wanted = AtomicBool::new(false);
    let start = Barrier::new((WRITERS + READERS + 1) as usize);
    let pair_reads = AtomicU64::new(0);
    let transfers_done = AtomicU64::new(0);

    thread::scope(|scope| {
        // Readers: read-lock a random pair, load it twice; nothing may change while the
        // read locks are held.
        for reader in 0..READERS {
            let (db, locks, stop, start, pair_reads) = (&db, &locks, &stop, &start, &pair_reads);
            scope.spawn(move || {
                let mut rng = SplitMix64(0xfeed_0000 + reader);
                start.wait();
                while !stop.load(Ordering::Acquire) {
                    let (a, b) = rng.pair_below(NUM_ACCOUNTS);
                    let tx = [(key(a), false), (key(b), false)];
                    lock_retrying(locks, &tx);
                    let first = (db.load(&key(a)), db.load(&key(b)));
                    thread::yield_now();
                    let second = (db.load(&key(a)), db.load(&key(b)));
                    unlock(locks, &tx);
                    assert!(
                        same_commit(&first.0, &second.0) && same_commit(&first.1, &second.1),
                        "a read-locked account changed: {first:?} then {second:?}"
                    );
                    for account in [&first.0, &first.1].into_iter().flatten() {
                        assert_consistent(account);
                    }
                    pair_reads.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        // The auditor: read-lock every account, so no transfer is in flight, and count.
        // Audits are spread over the run by the writers' progress.
        {
            let (db, locks, stop, start, audit_wanted, transfers_done) =
                (&db, &locks, &stop, &start, &audit_wanted, &transfers_done);
            scope.spawn(move || {
                let all: Vec<(Pubkey, bool)> = (0..NUM_ACCOUNTS).map(|n| (key(n), false)).collect();
                start.wait();
                for audit in 1..=AUDITS {
                    let due = audit * WRITERS * TRANSFERS_PER_WRITER / (AUDITS + 1);
                    let deadline = Instant::now() + DEADLINE;
                    while transfers_done.load(Ordering::Acquire) < due {
                        if stop.load(Ordering::Acquire) {
                            return; // A writer failed: its panic is the report.
                        }
                        assert!(Instant::now() < deadline, "the writers stopped");
                        thread::yield_now();
                    }
                    audit_wanted.store(true, Ordering::Release);
                    lock_retrying(locks, &all);
                    audit_wanted.store(false, Ordering::Release);
                    let total: u64 = all
                        .iter()
                        .map(|(k, _)| load_or_default(db, k).lamports())
                        .sum();
                    unlock(locks, &all);
                    assert_eq!(total, TOTAL, "audit {audit} saw a transfer half-committed");
                }
            });
        }
        let writers = (0..WRITERS)
            .map(|writer| {
                let (db, locks, start, audit_wanted, transfers_done) =
                    (&db, &locks, &start, &audit_wanted, &transfers_done);
                scope.spawn(move || {
                    let mut rng = SplitMix64(0xcafe_0000 + writer);
                    start.wait();
                    for _ in 0..TRANSFERS_PER_WRITER {
                        let deadline = Instant::now() + DEADLINE;
                        while audit_wanted.load(Ordering::Acquire) {
                            assert!(Instant::now() < deadline, "the auditor never finished");
                            thread::yield_now();
                        }
                        let (a, b) = rng.pair_below(NUM_ACCOUNTS);
                        let (ka, kb) = (key(a), key(b));
                        let tx = [(ka, true), (kb, true)];
                        lock_retrying(locks, &tx);
                        let from = load_or_default(db, &ka).lamports();
                        let to = load_or_default(db, &kb).lamports();
                        // Sometimes the whole balance, which deletes the account.
                        let amount = if rng.below(8) == 0 {
                            from
                        } else {
                            rng.below(from + 1)
                        };
                        let new_from = consistent_account(from - amount);
                        let new_to = consistent_account(to.checked_add(amount).unwrap());
                        let stored = db.store(1, &[(ka, new_from.clone()), (kb, new_to.clone())]);
                        // Still write-locked: nobody else can have changed them.
                        let reloaded = (load_or_default(db, &ka), load_or_default(db, &kb));
                        unlock(locks, &tx);
                        assert_eq!(stored, Ok(()));
                        assert_eq!(reloaded, (new_from, new_to));
                        transfers_done.fetch_add(1, Ordering::Release);
                    }
                })
            })
            .collect();
        join_writers_then_stop(writers, &stop);
    });

    assert!(pair_reads.load(Ordering::Relaxed) > 0, "the readers ran");
    let final_accounts = db.accounts_sorted();
    let total: u64 = final_accounts.iter().map(|(_, a)| a.lamports()).sum();
    assert_eq!(total, TOTAL);
    final_accounts
        .iter()
        .for_each(|(_, account)| assert_consistent(account));
    assert_eq!(db.lt_hash(), db.recompute_lt_hash());
    assert!(locks.lock().unwrap().is_empty(), "every lock was released");
}
