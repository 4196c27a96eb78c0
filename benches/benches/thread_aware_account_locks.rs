//! `ThreadAwareAccountLocks`: try-lock plus unlock of one transaction over 4 worker threads,
//! for 10 and 100 accounts, all writes or half reads, against an empty table
//! (uncontended), a table that already holds the same accounts (contended), and one where
//! the accounts are held on two threads so the try fails (conflicting).
//!
//! `cargo bench -p benches --bench thread_aware_account_locks`. Agave's crate on the same
//! inputs: `cargo run --release --manifest-path benches/agave-compare/Cargo.toml`.

use std::hint::black_box;

use benches::lock_cases::{LockCase, NUM_THREADS, least_loaded, lock_cases};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_main};
use scheduling_utils::{ThreadAwareAccountLocks, ThreadSet};
use sdk_lite::Pubkey;

fn key(i: u64) -> Pubkey {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&i.to_le_bytes());
    bytes[31] = 0x5a;
    Pubkey::new_from_array(bytes)
}

/// A table holding the case's resident locks.
fn table_for(case: &LockCase<Pubkey>) -> ThreadAwareAccountLocks<Pubkey> {
    let mut table = ThreadAwareAccountLocks::new(NUM_THREADS);
    for (locks, thread) in &case.resident {
        let thread = *thread;
        let locked = table.try_lock_accounts(
            locks.iter().map(|(k, w)| (k, *w)),
            ThreadSet::only(thread),
            |_| thread,
        );
        assert_eq!(locked, Ok(thread), "resident locks of {}", case.name);
    }
    table
}

fn try_lock_and_unlock(c: &mut Criterion) {
    let load = [300u64, 100, 200, 400];
    let mut group = c.benchmark_group("thread_aware_account_locks/try_lock+unlock");
    for case in lock_cases(key) {
        let mut table = table_for(&case);
        group.throughput(Throughput::Elements(1));
        group.bench_function(BenchmarkId::from_parameter(&case.name), |b| {
            b.iter(|| {
                let locks = case.transaction.iter().map(|(k, w)| (k, *w));
                match table.try_lock_accounts(locks.clone(), ThreadSet::any(NUM_THREADS), |set| {
                    least_loaded(set.contained_threads_iter(), &load)
                }) {
                    Ok(thread) => table.unlock_accounts(locks, black_box(thread)),
                    Err(error) => {
                        assert!(!case.expect_lock, "{}: {error}", case.name);
                        black_box(error);
                    }
                }
            })
        });
    }
    group.finish();
}

// The macro generates an undocumented `pub fn benches`.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::try_lock_and_unlock);
}
criterion_main!(group::benches);
