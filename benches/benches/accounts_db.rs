//! `accounts-db-lite`: execution-level locks, the lock-list check, commits with the
//! incremental lattice hash, and concurrent loads.
//!
//! * `accounts_db/lock_batch`: `AccountLocks::try_lock_transaction_batch` then
//!   `unlock_accounts` of a 64-transaction batch of 10-account transactions (2 writable, 8
//!   read-only), with every key fresh, or with 4 of the 8 read-only keys shared by the whole
//!   batch; against the baseline of locking the same transactions one at a time
//!   (`try_lock_accounts`). Time per batch; throughput in transactions.
//! * `accounts_db/validate_account_locks`: the whole check of a list of 8 to 128 distinct
//!   keys (no duplicate, so every key is examined).
//! * `accounts_db/duplicates`: `has_duplicates_by_pairs` and `has_duplicates_by_hash_set`
//!   side by side from 4 to 128 distinct keys, to place `DUPLICATE_CHECK_HASH_SET_THRESHOLD`.
//!   The hash set is per thread and never shrinks, so it is grown to 128 keys first: that is
//!   its state in a validator once one full-size transaction went by. Under `cargo bench`
//!   the two are then timed again interleaved (`benches::paired_timing`, robust to drift on
//!   a shared machine) and a table of both medians, their ratio and the crossover is
//!   printed to stderr (when the filter selects this group).
//! * `accounts_db/store`: `AccountsDb::store` of a 64-transaction batch (3 written accounts
//!   each: 192 accounts of 100 or 1000 bytes) into a store of 10,000 accounts, the hash
//!   update included. The written accounts exist already (an update: the old value is
//!   hashed out). Two batches alternate, so every commit changes the accounts.
//! * `accounts_db/lt_hash`: the parts a store is made of: `LtHash::of_account` for 0, 100
//!   and 1000 bytes of data, `mix_in`, and `checksum` (the state digest).
//! * `accounts_db/recompute_lt_hash`: the hash of 10,000 accounts from scratch, the cost the
//!   incremental hash avoids on every slot.
//! * `accounts_db/load`: `AccountsDb::load` (and the drop of the returned account) over a
//!   store of 10,000 accounts, from 1 and 2 threads at once, of random keys from a
//!   pre-generated list, or of one key every thread loads (a hot account: a program, a
//!   sysvar). Each thread runs the same number of loads after a common start; the time
//!   reported is wall time per load, all threads together (perfect scaling halves it on 2
//!   threads), and thread start-up is not timed.
//!
//! `cargo bench -p benches --bench accounts_db`.

use std::cell::Cell;
use std::hint::black_box;
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use accounts_db_lite::{
    AccountLocks, AccountsDb, DUPLICATE_CHECK_HASH_SET_THRESHOLD, LtHash,
    has_duplicates_by_hash_set, has_duplicates_by_pairs, validate_account_locks,
};
use benches::accounts_db_cases::{LockBatchShape, SplitMix64, genesis_accounts, lock_batch};
use benches::paired_timing::paired_medians;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_main};
use sdk_lite::{
    AccountSharedData, MAX_TX_ACCOUNT_LOCKS, Pubkey, ReadableAccount, TransactionError,
};

/// Accounts in the store of the `store` and `load` groups.
const STORE_ACCOUNTS: usize = 10_000;
/// Transactions per batch in the `lock_batch` and `store` groups.
const BATCH_TRANSACTIONS: usize = 64;
/// Sizes of the `duplicates` group.
const DUPLICATE_SIZES: [usize; 9] = [4, 8, 16, 24, 32, 48, 64, 96, 128];

fn lock_batch_and_unlock(c: &mut Criterion) {
    let mut rng = SplitMix64::new(1);
    let mut group = c.benchmark_group("accounts_db/lock_batch");
    group.throughput(Throughput::Elements(BATCH_TRANSACTIONS as u64));
    for (name, shared_readonly) in [("64x10-fresh-reads", 0), ("64x10-4-shared-reads", 4)] {
        let shape = LockBatchShape {
            transactions: BATCH_TRANSACTIONS,
            writable: 2,
            readonly: 8,
            shared_readonly,
        };
        let batch = lock_batch(shape, &mut rng);
        // Reused across iterations, as a worker's locks are across batches: after the
        // first batch the maps have their capacity and lock/unlock allocate nothing.
        let mut locks = AccountLocks::default();
        let results = locks.try_lock_transaction_batch(batch.iter().map(|tx| Ok(pairs(tx))));
        assert!(results.iter().all(Result::is_ok), "{name}: the batch locks");
        unlock_locked(&mut locks, &batch, &results);
        assert!(locks.is_empty());

        group.bench_function(
            BenchmarkId::new("try_lock_transaction_batch+unlock", name),
            |b| {
                b.iter(|| {
                    let results = locks.try_lock_transaction_batch(
                        black_box(&batch).iter().map(|tx| Ok(pairs(tx))),
                    );
                    unlock_locked(&mut locks, &batch, &results);
                    results
                })
            },
        );
        // The baseline: the same transactions locked one at a time, all held, then all
        // unlocked (no conflict inside the batch, so both ways lock everything).
        group.bench_function(
            BenchmarkId::new("try_lock_accounts-each+unlock", name),
            |b| {
                b.iter(|| {
                    let mut locked = [false; BATCH_TRANSACTIONS];
                    for (tx, locked) in black_box(&batch).iter().zip(&mut locked) {
                        *locked = locks.try_lock_accounts(pairs(tx)).is_ok();
                    }
                    for (tx, locked) in batch.iter().zip(locked) {
                        if locked {
                            locks.unlock_accounts(pairs(tx));
                        }
                    }
                    locked
                })
            },
        );
        assert!(locks.is_empty());
    }
    group.finish();
}

fn pairs(tx: &[(Pubkey, bool)]) -> impl Iterator<Item = (&Pubkey, bool)> + Clone {
    tx.iter().map(|(key, writable)| (key, *writable))
}

fn unlock_locked(
    locks: &mut AccountLocks,
    batch: &[Vec<(Pubkey, bool)>],
    results: &[Result<(), TransactionError>],
) {
    for (tx, result) in batch.iter().zip(results) {
        if result.is_ok() {
            locks.unlock_accounts(pairs(tx));
        }
    }
}

fn validate(c: &mut Criterion) {
    let mut rng = SplitMix64::new(2);
    let mut group = c.benchmark_group("accounts_db/validate_account_locks");
    for n in [8, 32, 64, 128] {
        let keys = rng.distinct_keys(n);
        assert_eq!(validate_account_locks(&keys, MAX_TX_ACCOUNT_LOCKS), Ok(()));
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| validate_account_locks(black_box(&keys), MAX_TX_ACCOUNT_LOCKS))
        });
    }
    group.finish();
}

fn duplicates(c: &mut Criterion) {
    let mut rng = SplitMix64::new(3);
    let inputs: Vec<Vec<Pubkey>> = DUPLICATE_SIZES
        .iter()
        .map(|&n| rng.distinct_keys(n))
        .collect();
    // Grow this thread's set to the largest transaction first (it is cleared, never
    // shrunk): every size then sees the steady state, whatever order criterion runs in.
    assert!(!has_duplicates_by_hash_set(
        &rng.distinct_keys(MAX_TX_ACCOUNT_LOCKS)
    ));
    let mut group = c.benchmark_group("accounts_db/duplicates");
    // Set when criterion runs (not filters out) one of these benchmarks.
    let measured = Cell::new(false);
    for keys in &inputs {
        let n = keys.len();
        assert!(!has_duplicates_by_pairs(keys) && !has_duplicates_by_hash_set(keys));
        group.bench_function(BenchmarkId::new("pairs", n), |b| {
            measured.set(true);
            b.iter(|| has_duplicates_by_pairs(black_box(keys)))
        });
        group.bench_function(BenchmarkId::new("hash_set", n), |b| {
            measured.set(true);
            b.iter(|| has_duplicates_by_hash_set(black_box(keys)))
        });
    }
    group.finish();
    // Only under `cargo bench` (not `--test`, nor `cargo test --benches`), and only when
    // the filter selected this group.
    let args: Vec<String> = std::env::args().collect();
    let benchmarking =
        args.iter().any(|arg| arg == "--bench") && !args.iter().any(|arg| arg == "--test");
    if benchmarking && measured.get() {
        print_duplicates_crossover(&inputs);
    }
}

/// Times both methods again, interleaved, at every size and prints their medians, the
/// ratio, and the smallest size from which the hash set is faster at every size measured.
#[allow(clippy::print_stderr)] // The summary table is this function's output.
fn print_duplicates_crossover(inputs: &[Vec<Pubkey>]) {
    eprintln!("\naccounts_db/duplicates, interleaved (median ns per call over 101 rounds):");
    eprintln!(
        "{:>5} {:>10} {:>10} {:>16}",
        "keys", "pairs", "hash_set", "pairs/hash_set"
    );
    let mut hash_set_faster = Vec::new();
    for keys in inputs {
        let n = keys.len();
        // 20,000 keys checked per round and side, whatever the size (tens of µs to 1 ms).
        let iters = (20_000 / n) as u64;
        let medians = paired_medians(
            101,
            iters,
            || {
                black_box(has_duplicates_by_pairs(black_box(keys)));
            },
            || {
                black_box(has_duplicates_by_hash_set(black_box(keys)));
            },
        );
        eprintln!(
            "{n:>5} {:>10.1} {:>10.1} {:>16.2}",
            medians.a_ns,
            medians.b_ns,
            medians.ratio()
        );
        hash_set_faster.push((n, medians.ratio() > 1.0));
    }
    let crossover = hash_set_faster
        .iter()
        .rposition(|(_, faster)| !faster)
        .map_or(Some(hash_set_faster[0].0), |last_slower| {
            hash_set_faster.get(last_slower + 1).map(|(n, _)| *n)
        });
    match crossover {
        Some(n) => eprintln!(
            "hash set faster from {n} keys on (DUPLICATE_CHECK_HASH_SET_THRESHOLD is \
             {DUPLICATE_CHECK_HASH_SET_THRESHOLD})\n"
        ),
        None => eprintln!(
            "pairs faster at every size up to {} (DUPLICATE_CHECK_HASH_SET_THRESHOLD is \
             {DUPLICATE_CHECK_HASH_SET_THRESHOLD})\n",
            hash_set_faster[hash_set_faster.len() - 1].0
        ),
    }
}

fn store(c: &mut Criterion) {
    let mut group = c.benchmark_group("accounts_db/store");
    // Up to a millisecond per commit: fewer samples, so that 3 s of measurement suffice.
    group.sample_size(50);
    let written = BATCH_TRANSACTIONS * 3;
    group.throughput(Throughput::Elements(written as u64));
    for data_len in [100, 1000] {
        let mut rng = SplitMix64::new(4);
        let genesis = genesis_accounts(STORE_ACCOUNTS, 100, &mut rng);
        let db = AccountsDb::new_with_genesis(genesis.iter().cloned())
            .expect("genesis keys are distinct");
        // 192 distinct existing accounts, spread over the store.
        let targets: Vec<(Pubkey, AccountSharedData)> = (0..written)
            .map(|i| genesis[i * STORE_ACCOUNTS / written].clone())
            .collect();
        // Two new values per account, alternating: each commit replaces what the last one
        // wrote, so the old value is hashed out every time.
        let batches: [Vec<(Pubkey, AccountSharedData)>; 2] = [1u8, 2].map(|version| {
            targets
                .iter()
                .map(|(key, old)| {
                    let data = vec![version; data_len];
                    let lamports = old.lamports() + u64::from(version);
                    (
                        *key,
                        AccountSharedData::new_data(lamports, data, old.owner()),
                    )
                })
                .collect()
        });
        let mut slot = 0;
        db.store(slot, &batches[0]).expect("slots ascend");
        assert_eq!(db.lt_hash(), db.recompute_lt_hash());
        group.bench_function(
            BenchmarkId::new("64tx-192-updates", format!("{data_len}B")),
            |b| {
                b.iter(|| {
                    slot += 1;
                    db.store(slot, black_box(&batches[(slot % 2) as usize]))
                })
            },
        );
        assert_eq!(db.lt_hash(), db.recompute_lt_hash());
        assert_eq!(db.len(), STORE_ACCOUNTS);
    }
    group.finish();
}

fn lt_hash(c: &mut Criterion) {
    let mut rng = SplitMix64::new(5);
    let mut group = c.benchmark_group("accounts_db/lt_hash");
    for data_len in [0, 100, 1000] {
        let (key, account) = genesis_accounts(1, data_len, &mut rng).remove(0);
        group.throughput(Throughput::Bytes(data_len as u64));
        group.bench_function(
            BenchmarkId::new("of_account", format!("{data_len}B")),
            |b| b.iter(|| LtHash::of_account(black_box(&key), black_box(&account))),
        );
    }
    group.throughput(Throughput::Elements(1));
    let accounts = genesis_accounts(2, 100, &mut rng);
    let a = LtHash::of_account(&accounts[0].0, &accounts[0].1);
    let mut sum = LtHash::of_account(&accounts[1].0, &accounts[1].1);
    group.bench_function("mix_in", |b| b.iter(|| sum.mix_in(black_box(&a))));
    group.bench_function("checksum", |b| b.iter(|| black_box(&sum).checksum()));
    group.finish();
}

fn recompute(c: &mut Criterion) {
    let mut rng = SplitMix64::new(6);
    let db = AccountsDb::new_with_genesis(genesis_accounts(STORE_ACCOUNTS, 100, &mut rng))
        .expect("genesis keys are distinct");
    let mut group = c.benchmark_group("accounts_db/recompute_lt_hash");
    // Milliseconds per call: fewer samples.
    group.sample_size(10);
    group.throughput(Throughput::Elements(STORE_ACCOUNTS as u64));
    group.bench_function(BenchmarkId::from_parameter("10000-accounts"), |b| {
        b.iter(|| db.recompute_lt_hash())
    });
    group.finish();
}

fn load(c: &mut Criterion) {
    let mut rng = SplitMix64::new(7);
    let genesis = genesis_accounts(STORE_ACCOUNTS, 100, &mut rng);
    // Random keys, 512 KiB of them, read in order by each thread from its own offset.
    let random_keys: Vec<Pubkey> = (0..1 << 14)
        .map(|_| genesis[rng.below(STORE_ACCOUNTS)].0)
        .collect();
    let hot_key = vec![genesis[0].0; 1 << 14];
    let db = AccountsDb::new_with_genesis(genesis).expect("genesis keys are distinct");
    assert!(random_keys.iter().all(|key| db.load(key).is_some()));

    let mut group = c.benchmark_group("accounts_db/load");
    group.throughput(Throughput::Elements(1));
    for (name, keys) in [("random-key", &random_keys), ("same-key", &hot_key)] {
        for threads in [1, 2] {
            group.bench_function(BenchmarkId::new(name, format!("{threads}-threads")), |b| {
                b.iter_custom(|iters| load_from_threads(&db, keys, threads, iters))
            });
        }
    }
    group.finish();
}

/// `threads` threads each load `iters` keys of `keys` (from offsets spread over the list)
/// after a common start; returns the slowest thread's time divided by `threads`, so that
/// criterion reports wall time per load, all threads together.
fn load_from_threads(db: &AccountsDb, keys: &[Pubkey], threads: usize, iters: u64) -> Duration {
    assert!(keys.len().is_power_of_two());
    let mask = keys.len() - 1;
    let start_together = Barrier::new(threads);
    let slowest = thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|thread| {
                let start_together = &start_together;
                let offset = thread * keys.len() / threads;
                scope.spawn(move || {
                    start_together.wait();
                    let start = Instant::now();
                    for i in 0..iters as usize {
                        black_box(db.load(&keys[(offset + i) & mask]));
                    }
                    start.elapsed()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("a load thread does not panic"))
            .max()
            .expect("at least one thread")
    });
    slowest / threads as u32
}

// The macro generates an undocumented `pub fn benches`.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(
        benches,
        super::lock_batch_and_unlock,
        super::validate,
        super::duplicates,
        super::store,
        super::lt_hash,
        super::recompute,
        super::load
    );
}
criterion_main!(group::benches);
