//! The lock-table benchmark inputs: one transaction's account locks, tried and released
//! over 4 worker threads, against a table that is either empty or already holds locks on
//! the same accounts.

/// Worker threads in every lock case.
pub const NUM_THREADS: usize = 4;

/// How the benchmarked transaction's accounts are already held when it is tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contention {
    /// No other lock is held: every account is inserted, then removed again.
    Uncontended,
    /// Every account is already held by queued transactions: the writable ones write-locked
    /// on thread 1, the read-only ones read by threads 1, 2 and 3. The transaction goes to
    /// thread 1 and only moves lock counts.
    Contended,
    /// As `Contended`, plus the transaction's last writable account is write-locked on
    /// thread 2: no thread can take it (`MultipleConflicts`), found on the last account.
    Conflicting,
}

/// Which of the transaction's accounts it writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mix {
    /// Every account is writable.
    AllWrites,
    /// The first half of the accounts is writable, the second half read-only: the order
    /// of a Solana message (writable keys before read-only ones).
    HalfReads,
}

/// One benchmark input.
#[derive(Debug, Clone)]
pub struct LockCase<K> {
    /// Stable name, e.g. `10-accounts/all-writes/uncontended`.
    pub name: String,
    /// The transaction to try-lock and unlock: `(account, is_writable)`.
    pub transaction: Vec<(K, bool)>,
    /// Locks taken once before timing and held throughout: `(locks, thread)`.
    pub resident: Vec<(Vec<(K, bool)>, usize)>,
    /// Whether the try is expected to succeed (on thread 1 when contended).
    pub expect_lock: bool,
}

/// All cases: 10 and 100 accounts × both mixes × every contention level.
/// `key(i)` makes the `i`-th distinct key.
pub fn lock_cases<K: Clone>(mut key: impl FnMut(u64) -> K) -> Vec<LockCase<K>> {
    let mut cases = Vec::new();
    let mut next_key = 0u64;
    for num_accounts in [10usize, 100] {
        for mix in [Mix::AllWrites, Mix::HalfReads] {
            for contention in [
                Contention::Uncontended,
                Contention::Contended,
                Contention::Conflicting,
            ] {
                let transaction: Vec<(K, bool)> = (0..num_accounts)
                    .map(|i| {
                        next_key += 1;
                        let writable = match mix {
                            Mix::AllWrites => true,
                            Mix::HalfReads => i < num_accounts / 2,
                        };
                        (key(next_key), writable)
                    })
                    .collect();
                let mut resident = Vec::new();
                if contention != Contention::Uncontended {
                    let writes: Vec<(K, bool)> =
                        transaction.iter().filter(|(_, w)| *w).cloned().collect();
                    let reads: Vec<(K, bool)> =
                        transaction.iter().filter(|(_, w)| !*w).cloned().collect();
                    resident.push((writes, 1));
                    if !reads.is_empty() {
                        for thread in 1..=3 {
                            resident.push((reads.clone(), thread));
                        }
                    }
                }
                if contention == Contention::Conflicting {
                    // Move the last writable account's write lock to thread 2.
                    let (writes, _) = &mut resident[0];
                    let last = writes
                        .pop()
                        .expect("every case writes at least one account");
                    resident.push((vec![last], 2));
                }
                let mix_name = match mix {
                    Mix::AllWrites => "all-writes",
                    Mix::HalfReads => "half-reads",
                };
                let contention_name = match contention {
                    Contention::Uncontended => "uncontended",
                    Contention::Contended => "contended",
                    Contention::Conflicting => "conflicting",
                };
                cases.push(LockCase {
                    name: format!("{num_accounts}-accounts/{mix_name}/{contention_name}"),
                    transaction,
                    resident,
                    expect_lock: contention != Contention::Conflicting,
                });
            }
        }
    }
    cases
}

/// A stand-in for the banking stage's `select_thread`: among `threads`, the one with the
/// least queued work (`load`), ties to the lowest id. Both sides of a comparison feed it
/// their own `ThreadSet::contained_threads_iter()`.
#[inline(always)]
pub fn least_loaded(threads: impl Iterator<Item = usize>, load: &[u64; NUM_THREADS]) -> usize {
    threads
        .min_by_key(|&thread| (load[thread], thread))
        .expect("the selector is called with a non-empty set")
}
