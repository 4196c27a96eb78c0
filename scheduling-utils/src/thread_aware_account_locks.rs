//! `ThreadAwareAccountLocks`: which worker may take a transaction, given the locks that the
//! transactions already handed out hold.

use std::hash::{BuildHasher, Hash};

use crate::error::{ThreadCountError, TryLockError};
use crate::lock_table::{LockTable, Probe};
use crate::thread_set::{MAX_THREADS, ThreadId, ThreadSet};

/// How many locks one thread holds on one account. Overflow is a leak in the caller and
/// panics.
pub type LockCount = u32;

/// The scheduling-level lock table of a central scheduler.
///
/// For every account that some queued or running transaction uses, the table remembers
/// which threads hold it and how: a write lock is held by exactly one thread (any number of
/// times: several transactions queued on that thread may write the account), read locks by
/// any number of threads, each with its own count. A transaction can go to a thread that
/// can take *all* of its accounts:
///
/// | account is              | a writer may go to | a reader may go to |
/// |-------------------------|--------------------|--------------------|
/// | not locked              | any thread         | any thread         |
/// | write-locked by `T`     | only `T`           | only `T`           |
/// | read-locked by only `T` | only `T`           | any thread         |
/// | read-locked by several  | no thread          | any thread         |
///
/// Because a thread runs its queue in order, a transaction placed on the thread that already
/// holds its conflicting accounts needs no waiting at scheduling time: the conflict is
/// resolved by the order of that thread's queue.
///
/// `K` is the lock key: anything `Eq + Hash + Clone` (a chain whose key is a
/// (account, asset) pair uses the pair). `S` is the hasher, [`ahash`] by default.
///
/// # Contract
/// * [`try_lock_accounts`](Self::try_lock_accounts) either locks every account of the
///   transaction on one thread and returns it, or changes nothing.
/// * Every successful lock is undone by exactly one
///   [`unlock_accounts`](Self::unlock_accounts) with the same accounts and the returned
///   thread. Unlocking something that is not locked that way is a bug in the caller and
///   panics.
/// * An account has an entry only while some thread holds a lock on it: a table whose
///   transactions have all been unlocked is [empty](Self::is_empty).
///
/// # Cost
/// Per account: one hash and one probe to find the schedulable threads, none to lock (the
/// probe's result is kept), one hash and one probe to unlock. An entry is the key plus 16
/// bytes; per-thread read counts are kept outside the table, and only for the rare accounts
/// that several threads read at once.
#[derive(Debug, Clone)]
pub struct ThreadAwareAccountLocks<K, S = ahash::RandomState> {
    num_threads: usize,
    /// `ThreadSet::any(num_threads)`, computed once.
    all_threads: ThreadSet,
    /// One entry per locked account.
    locks: LockTable<AccountLocks<K>>,
    hasher: S,
    /// Per-thread read counts of the accounts that more than one thread reads, one row of
    /// `num_threads` counts per such account (see [`AccountLocks::counts`]).
    shared_reads: SharedReadCounts,
    /// Per key of the current `try_lock_accounts` call, from the check phase for the lock
    /// phase: its hash and where the probe ended (its entry, or the empty slot where it
    /// belongs). Kept here so that it allocates only while it grows.
    scratch: Vec<(u64, Probe)>,
}

/// The locks held on one account.
///
/// Invariants (checked by `assert!`s named after them):
/// * `holders` is never empty while the entry is in the table.
/// * `write_count > 0` implies `holders` is exactly one thread (the writer).
/// * With one holder, `counts` is the number of locks it holds, reads plus writes (so its
///   read count is `counts - write_count`). With several holders (all readers), `counts` is
///   the index of the account's row in [`SharedReadCounts`].
#[derive(Debug, Clone)]
struct AccountLocks<K> {
    key: K,
    holders: ThreadSet,
    write_count: LockCount,
    counts: u32,
}

impl<K> AccountLocks<K> {
    /// The threads on which a transaction that accesses this account may be scheduled.
    #[inline(always)]
    fn schedulable_threads(&self, writable: bool, all_threads: ThreadSet) -> ThreadSet {
        if writable {
            // A writer must be the sole holder's thread; with several readers, nobody.
            if self.holders.contains_at_most_one() {
                self.holders
            } else {
                ThreadSet::none()
            }
        } else if self.write_count > 0 {
            // A reader must join the writer's thread.
            self.holders
        } else {
            all_threads
        }
    }

    /// The threads holding a read lock on this account.
    fn read_holders(&self) -> ThreadSet {
        if !self.holders.contains_at_most_one() || self.counts > self.write_count {
            self.holders
        } else {
            ThreadSet::none()
        }
    }
}

/// Rows of per-thread read counts for accounts read by several threads at once.
///
/// Rows are reused through a free list, and a free row is all zeros, so after warm-up
/// sharing a read lock allocates nothing.
#[derive(Debug, Clone)]
struct SharedReadCounts {
    row_len: usize,
    counts: Vec<LockCount>,
    free_rows: Vec<u32>,
}

impl SharedReadCounts {
    fn new(row_len: usize) -> Self {
        Self {
            row_len,
            counts: Vec::new(),
            free_rows: Vec::new(),
        }
    }

    /// A zeroed row.
    fn allocate(&mut self) -> u32 {
        if let Some(row) = self.free_rows.pop() {
            return row;
        }
        let row = self.counts.len() / self.row_len;
        self.counts.resize(self.counts.len() + self.row_len, 0);
        u32::try_from(row).expect("invariant: fewer than 2^32 accounts are read-shared at once")
    }

    /// Returns `row` to the free list; the caller has zeroed it.
    fn free(&mut self, row: u32) {
        debug_assert!(self.row(row).iter().all(|&count| count == 0));
        self.free_rows.push(row);
    }

    fn row(&self, row: u32) -> &[LockCount] {
        let start = row as usize * self.row_len;
        &self.counts[start..start + self.row_len]
    }

    fn count_mut(&mut self, row: u32, thread_id: ThreadId) -> &mut LockCount {
        &mut self.counts[row as usize * self.row_len + thread_id]
    }

    fn in_use(&self) -> usize {
        self.counts.len() / self.row_len - self.free_rows.len()
    }
}

impl<K: Eq + Hash + Clone> ThreadAwareAccountLocks<K> {
    /// A table for `num_threads` worker threads, hashing with [`ahash`].
    ///
    /// # Panics
    /// If `num_threads` is not in `1..=MAX_THREADS`; use [`try_new`](Self::try_new) when the
    /// count comes from configuration.
    pub fn new(num_threads: usize) -> Self {
        Self::with_hasher(num_threads, ahash::RandomState::new())
    }

    /// A table for `num_threads` worker threads, or an error if `num_threads` is not in
    /// `1..=MAX_THREADS`.
    pub fn try_new(num_threads: usize) -> Result<Self, ThreadCountError> {
        Self::try_with_hasher(num_threads, ahash::RandomState::new())
    }
}

impl<K: Eq + Hash + Clone, S: BuildHasher> ThreadAwareAccountLocks<K, S> {
    /// A table for `num_threads` worker threads with the given hasher.
    ///
    /// # Panics
    /// If `num_threads` is not in `1..=MAX_THREADS`.
    pub fn with_hasher(num_threads: usize, hasher: S) -> Self {
        match Self::try_with_hasher(num_threads, hasher) {
            Ok(locks) => locks,
            Err(error) => panic!("ThreadAwareAccountLocks::with_hasher: {error}"),
        }
    }

    /// A table for `num_threads` worker threads with the given hasher, or an error if
    /// `num_threads` is not in `1..=MAX_THREADS`.
    pub fn try_with_hasher(num_threads: usize, hasher: S) -> Result<Self, ThreadCountError> {
        if !(1..=MAX_THREADS).contains(&num_threads) {
            return Err(ThreadCountError { num_threads });
        }
        Ok(Self {
            num_threads,
            all_threads: ThreadSet::any(num_threads),
            locks: LockTable::new(),
            hasher,
            shared_reads: SharedReadCounts::new(num_threads),
            scratch: Vec::new(),
        })
    }

    /// The number of worker threads.
    pub fn num_threads(&self) -> usize {
        self.num_threads
    }

    /// Locks `locks` (each `(account, is_writable)`) on one thread and returns it, or
    /// returns an error and changes nothing.
    ///
    /// The thread is chosen among the threads that can take every account (see the table
    /// on [`ThreadAwareAccountLocks`]) and are in `allowed_threads`, by `thread_selector`,
    /// which is called only when that set is non-empty.
    ///
    /// The accounts are examined in the iterator's order and the search stops at the first
    /// one that leaves no thread, so a caller that lists the writable accounts first (as a
    /// sanitized message does) finds conflicts soonest: a written account admits at most
    /// one thread, a read one usually all. Duplicate keys are allowed (each is locked once
    /// per occurrence).
    ///
    /// # Errors
    /// * [`TryLockError::MultipleConflicts`] if no thread can take all the accounts
    ///   (checked before `allowed_threads` is applied);
    /// * [`TryLockError::ThreadNotAllowed`] if some thread could, but none of them is in
    ///   `allowed_threads`.
    ///
    /// # Panics
    /// If `thread_selector` returns a thread outside the set it was given (a bug in the
    /// selector). The table is unchanged in that case.
    pub fn try_lock_accounts<'a>(
        &mut self,
        locks: impl Iterator<Item = (&'a K, bool)> + Clone,
        allowed_threads: ThreadSet,
        thread_selector: impl FnOnce(ThreadSet) -> ThreadId,
    ) -> Result<ThreadId, TryLockError>
    where
        K: 'a,
    {
        let schedulable_threads = self
            .reserve_and_intersect(locks.clone())
            .ok_or(TryLockError::MultipleConflicts)?
            & allowed_threads;
        if schedulable_threads.is_empty() {
            return Err(TryLockError::ThreadNotAllowed);
        }
        let thread_id = thread_selector(schedulable_threads);
        if !schedulable_threads.contains(thread_id) {
            panic!(
                "thread_selector returned thread {thread_id}, outside the schedulable set \
                 {schedulable_threads:?} it was given"
            );
        }
        self.lock_recorded(locks, thread_id);
        Ok(thread_id)
    }

    /// The threads that `try_lock_accounts(locks, allowed_threads, ..)` would choose among,
    /// without locking anything.
    ///
    /// # Errors
    /// As [`try_lock_accounts`](Self::try_lock_accounts).
    pub fn schedulable_threads<'a>(
        &self,
        locks: impl Iterator<Item = (&'a K, bool)>,
        allowed_threads: ThreadSet,
    ) -> Result<ThreadSet, TryLockError>
    where
        K: 'a,
    {
        let mut schedulable_threads = self.all_threads;
        for (key, writable) in locks {
            if let Some(entry) = self.find(key) {
                schedulable_threads &= entry.schedulable_threads(writable, self.all_threads);
                if schedulable_threads.is_empty() {
                    return Err(TryLockError::MultipleConflicts);
                }
            }
        }
        let schedulable_threads = schedulable_threads & allowed_threads;
        if schedulable_threads.is_empty() {
            Err(TryLockError::ThreadNotAllowed)
        } else {
            Ok(schedulable_threads)
        }
    }

    /// Releases the locks that a successful `try_lock_accounts(locks, ..)` took on
    /// `thread_id`. Accounts whose last lock this was leave the table.
    ///
    /// # Panics
    /// If one of the locks is not held by `thread_id` (unlocking twice, on the wrong thread,
    /// or a lock that was never taken). Locks before the offending one are released.
    pub fn unlock_accounts<'a>(
        &mut self,
        locks: impl Iterator<Item = (&'a K, bool)>,
        thread_id: ThreadId,
    ) where
        K: 'a,
    {
        for (key, writable) in locks {
            let hash = self.hasher.hash_one(key);
            let Probe::Occupied(slot) = self.locks.probe(hash, |entry| entry.key == *key) else {
                panic!(
                    "unlock_accounts: account is not locked at all (invariant: every unlock \
                     matches an earlier lock on thread {thread_id})"
                );
            };
            let entry = self.locks.get_mut(slot);
            if writable {
                release_write(entry, thread_id);
            } else {
                release_read(entry, thread_id, &mut self.shared_reads);
            }
            if entry.holders.is_empty() {
                self.locks.remove(slot);
            }
        }
    }

    /// Whether no account is locked.
    pub fn is_empty(&self) -> bool {
        self.locks.len() == 0
    }

    /// The number of accounts that hold at least one lock.
    pub fn num_locked_accounts(&self) -> usize {
        self.locks.len()
    }

    /// The thread holding the write lock on `key` and how many write locks it holds.
    pub fn write_lock(&self, key: &K) -> Option<(ThreadId, LockCount)> {
        let entry = self.find(key)?;
        let writer = entry.holders.only_one_contained()?;
        (entry.write_count > 0).then_some((writer, entry.write_count))
    }

    /// The threads holding a read lock on `key`.
    pub fn read_lock_threads(&self, key: &K) -> ThreadSet {
        self.find(key)
            .map_or(ThreadSet::none(), AccountLocks::read_holders)
    }

    /// How many read locks `thread_id` holds on `key`.
    pub fn read_lock_count(&self, key: &K, thread_id: ThreadId) -> LockCount {
        let Some(entry) = self.find(key) else {
            return 0;
        };
        if !entry.holders.contains(thread_id) {
            0
        } else if entry.holders.contains_at_most_one() {
            entry.counts - entry.write_count
        } else {
            self.shared_reads.row(entry.counts)[thread_id]
        }
    }

    fn find(&self, key: &K) -> Option<&AccountLocks<K>> {
        let hash = self.hasher.hash_one(key);
        self.locks.find(hash, |entry| entry.key == *key)
    }

    /// The check phase of `try_lock_accounts`: the threads that can take every account, or
    /// `None` if there is none. Changes no lock.
    ///
    /// Leaves, per key, its hash and probe result in `scratch`, so that the lock phase
    /// neither hashes nor probes again. Room for every key is reserved first: the lock
    /// phase's inserts then move no entry, and the recorded slots stay valid.
    #[inline(always)]
    fn reserve_and_intersect<'a>(
        &mut self,
        locks: impl Iterator<Item = (&'a K, bool)> + Clone,
    ) -> Option<ThreadSet>
    where
        K: 'a,
    {
        let num_keys = match locks.size_hint() {
            (lower, Some(upper)) if lower == upper => upper,
            _ => locks.clone().count(),
        };
        self.locks.reserve(num_keys);
        self.scratch.clear();
        let mut schedulable_threads = self.all_threads;
        for (index, (key, writable)) in locks.enumerate() {
            // Room was reserved for `num_keys` inserts; an iterator that yields more than
            // its exact size hint announced would outrun it (and the lock phase would skip
            // the extra keys). Nothing is changed yet, so stopping here is clean.
            assert!(
                index < num_keys,
                "try_lock_accounts: the lock iterator yielded more than the exact length its \
                 size_hint reported (invariant: size hints are truthful)"
            );
            let hash = self.hasher.hash_one(key);
            let probe = self.locks.probe(hash, |entry| entry.key == *key);
            self.scratch.push((hash, probe));
            if let Probe::Occupied(slot) = probe {
                let entry = self.locks.get(slot);
                schedulable_threads &= entry.schedulable_threads(writable, self.all_threads);
                if schedulable_threads.is_empty() {
                    return None;
                }
            }
        }
        Some(schedulable_threads)
    }

    /// The lock phase of `try_lock_accounts`: every account can be taken by `thread_id`,
    /// and `scratch` holds what the check phase found, key by key.
    #[inline(always)]
    fn lock_recorded<'a>(&mut self, locks: impl Iterator<Item = (&'a K, bool)>, thread_id: ThreadId)
    where
        K: 'a,
    {
        let Self {
            locks: table,
            shared_reads,
            scratch,
            ..
        } = self;
        for ((key, writable), &(hash, probe)) in locks.zip(scratch.iter()) {
            // The check phase's empty slot is still the right one unless an insert of this
            // phase filled it (a key listed twice, or a neighbour in the same probe run):
            // inserts only fill empty slots, so the run before it is unchanged.
            let probe = match probe {
                Probe::Vacant(slot) if !table.is_vacant(slot) => {
                    table.probe(hash, |entry| entry.key == *key)
                }
                probe => probe,
            };
            let slot = match probe {
                Probe::Occupied(slot) => slot,
                Probe::Vacant(slot) => {
                    table.insert_vacant(
                        slot,
                        hash,
                        AccountLocks {
                            key: key.clone(),
                            holders: ThreadSet::only(thread_id),
                            write_count: LockCount::from(writable),
                            counts: 1,
                        },
                    );
                    continue;
                }
            };
            let entry = table.get_mut(slot);
            if writable {
                acquire_write(entry, thread_id);
            } else {
                acquire_read(entry, thread_id, shared_reads);
            }
        }
    }
}

#[inline(always)]
fn increment(count: &mut LockCount) {
    *count = count
        .checked_add(1)
        .expect("invariant: fewer than 2^32 locks of one account on one thread (a leak?)");
}

#[inline(always)]
fn acquire_write<K>(entry: &mut AccountLocks<K>, thread_id: ThreadId) {
    assert_eq!(
        entry.holders,
        ThreadSet::only(thread_id),
        "invariant: an account is write-locked only on the thread that alone holds it"
    );
    increment(&mut entry.write_count);
    increment(&mut entry.counts);
}

fn acquire_read<K>(
    entry: &mut AccountLocks<K>,
    thread_id: ThreadId,
    shared: &mut SharedReadCounts,
) {
    match entry.holders.only_one_contained() {
        Some(holder) if holder == thread_id => increment(&mut entry.counts),
        Some(holder) => {
            // A second thread starts reading: move the counts out of the entry.
            assert_eq!(
                entry.write_count, 0,
                "invariant: a write-locked account is read only on the writer's thread"
            );
            let row = shared.allocate();
            *shared.count_mut(row, holder) = entry.counts;
            *shared.count_mut(row, thread_id) = 1;
            entry.holders.insert(thread_id);
            entry.counts = row;
        }
        None => {
            entry.holders.insert(thread_id);
            increment(shared.count_mut(entry.counts, thread_id));
        }
    }
}

#[inline(always)]
fn release_write<K>(entry: &mut AccountLocks<K>, thread_id: ThreadId) {
    assert!(
        entry.write_count > 0 && entry.holders == ThreadSet::only(thread_id),
        "unlock_accounts: write lock is not held by thread {thread_id} (invariant: every \
         unlock matches an earlier lock on the same thread)"
    );
    entry.write_count -= 1;
    entry.counts -= 1;
    if entry.counts == 0 {
        entry.holders = ThreadSet::none();
    }
}

fn release_read<K>(
    entry: &mut AccountLocks<K>,
    thread_id: ThreadId,
    shared: &mut SharedReadCounts,
) {
    assert!(
        entry.holders.contains(thread_id),
        "unlock_accounts: read lock is not held by thread {thread_id} (invariant: every \
         unlock matches an earlier lock on the same thread)"
    );
    if entry.holders.contains_at_most_one() {
        assert!(
            entry.counts > entry.write_count,
            "unlock_accounts: read lock is not held by thread {thread_id}, only a write lock \
             (invariant: every unlock matches an earlier lock on the same thread)"
        );
        entry.counts -= 1;
        if entry.counts == 0 {
            entry.holders = ThreadSet::none();
        }
        return;
    }
    let row = entry.counts;
    let count = shared.count_mut(row, thread_id);
    *count -= 1;
    if *count == 0 {
        entry.holders.remove(thread_id);
        if let Some(last_reader) = entry.holders.only_one_contained() {
            // Back to one holder: move its count into the entry and free the row.
            let last_count = shared.count_mut(row, last_reader);
            entry.counts = std::mem::take(last_count);
            shared.free(row);
        }
    }
}

/// Internal consistency checks for tests: recounts the table from scratch.
impl<K: Eq + Hash + Clone, S: BuildHasher> ThreadAwareAccountLocks<K, S> {
    /// Checks the table's internal invariants and panics, naming the broken one, if any
    /// fails. Costs O(locked accounts × threads); for tests and debugging.
    pub fn assert_consistent(&self) {
        self.locks.assert_consistent();
        let mut shared_rows_in_use = 0;
        for entry in self.locks.iter() {
            assert!(
                !entry.holders.is_empty(),
                "invariant: an entry exists only while some thread holds a lock"
            );
            assert!(
                (entry.holders - self.all_threads).is_empty(),
                "invariant: holders are threads of this table"
            );
            if entry.holders.num_threads() == 1 {
                assert!(
                    entry.counts >= entry.write_count && entry.counts > 0,
                    "invariant: a sole holder's count covers its write locks and is non-zero"
                );
            } else {
                assert_eq!(
                    entry.write_count, 0,
                    "invariant: an account read by several threads has no writer"
                );
                shared_rows_in_use += 1;
                let row = self.shared_reads.row(entry.counts);
                for (thread_id, &count) in row.iter().enumerate() {
                    assert_eq!(
                        count > 0,
                        entry.holders.contains(thread_id),
                        "invariant: a shared row counts exactly the holding threads"
                    );
                }
            }
        }
        assert_eq!(
            shared_rows_in_use,
            self.shared_reads.in_use(),
            "invariant: every shared read row in use belongs to exactly one entry"
        );
    }
}
