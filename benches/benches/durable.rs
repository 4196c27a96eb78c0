//! The durable store against the in-memory one: slot commit throughput with an `fsync` per
//! slot, the time to open (recover) a store of 1,000,000 accounts, load latency, and
//! compaction (its time, and opening a store before and after it).
//!
//! `cargo bench -p benches --bench durable`

use std::hint::black_box;
use std::path::PathBuf;

use accounts_db_lite::AccountsDb;
use accounts_db_lite::durable::OpenOptions;
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_main};
use sdk_lite::{AccountSharedData, Pubkey};

const ACCOUNTS_PER_SLOT: usize = 64;
const DATA_LEN: usize = 128;

fn key(index: u64) -> Pubkey {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&index.to_le_bytes());
    bytes[8] = 0xBE;
    Pubkey::new_from_array(bytes)
}

fn accounts(range: std::ops::Range<u64>, lamports: u64) -> Vec<(Pubkey, AccountSharedData)> {
    range
        .map(|index| {
            (
                key(index),
                AccountSharedData::new_data(
                    lamports + index,
                    vec![index as u8; DATA_LEN],
                    &Pubkey::default(),
                ),
            )
        })
        .collect()
}

fn directory(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bench-durable-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn commit(c: &mut Criterion) {
    let mut group = c.benchmark_group("slot_commit_64_accounts");
    group.throughput(Throughput::Elements(ACCOUNTS_PER_SLOT as u64));
    let genesis = || accounts(0..10_000, 1_000_000);
    let memory = AccountsDb::new_with_genesis(genesis()).expect("distinct keys");
    let dir = directory("commit");
    let (durable, _) = AccountsDb::open(&dir, genesis, OpenOptions::default()).expect("opens");
    for (name, store) in [("in_memory", &memory), ("durable_fsync", &durable)] {
        let mut slot = 0;
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| {
                slot += 1;
                let start = (slot * 37) % 9_000;
                store
                    .store(
                        slot,
                        &accounts(start..start + ACCOUNTS_PER_SLOT as u64, slot),
                    )
                    .expect("slots ascend");
                store.commit_slot(slot).expect("the disk takes it");
            });
        });
    }
    group.finish();
    drop(durable);
    let _ = std::fs::remove_dir_all(&dir);
}

fn open(c: &mut Criterion) {
    const ACCOUNTS: u64 = 1_000_000;
    let dir = directory("open");
    drop(
        AccountsDb::open(&dir, || accounts(0..ACCOUNTS, 1), OpenOptions::default())
            .expect("creates"),
    );
    let mut group = c.benchmark_group("open");
    group.sample_size(10);
    group.throughput(Throughput::Elements(ACCOUNTS));
    group.bench_function(BenchmarkId::new("recover", "1m_accounts"), |b| {
        b.iter_batched(
            || (),
            |()| {
                let (store, _) =
                    AccountsDb::open(&dir, Vec::new, OpenOptions::default()).expect("recovers");
                black_box(store.len())
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

fn load(c: &mut Criterion) {
    let genesis = || accounts(0..100_000, 1);
    let memory = AccountsDb::new_with_genesis(genesis()).expect("distinct keys");
    let dir = directory("load");
    let (durable, _) = AccountsDb::open(&dir, genesis, OpenOptions::default()).expect("opens");
    let mut group = c.benchmark_group("load");
    for (name, store) in [("in_memory", &memory), ("durable", &durable)] {
        let mut index = 0u64;
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| {
                index = (index + 7_919) % 100_000;
                black_box(store.load(&key(index)))
            });
        });
    }
    group.finish();
    drop(durable);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Compaction of a store of 100,000 live accounts after 100,000 overwrites spread over 200
/// slots (about half of the sealed records superseded), and opening the store before and
/// after compaction.
fn compaction(c: &mut Criterion) {
    const LIVE: u64 = 100_000;
    const SLOTS: u64 = 200;
    const PER_SLOT: u64 = 500;
    let options = OpenOptions {
        segment_bytes: 4 << 20,
        background_compaction: false,
        ..OpenOptions::default()
    };
    let dir = directory("compaction");
    let (store, _) = AccountsDb::open(&dir, || accounts(0..LIVE, 1), options).expect("creates");
    let mut slot = 0;
    let mut churn = |store: &AccountsDb| {
        for _ in 0..SLOTS {
            slot += 1;
            overwrite_slot(store, slot, PER_SLOT, LIVE);
        }
    };
    let mut group = c.benchmark_group("compaction");
    group.sample_size(10);
    group.bench_function(
        BenchmarkId::new("compact", "100k_live_100k_superseded"),
        |b| {
            b.iter_custom(|iterations| {
                let mut total = std::time::Duration::ZERO;
                for _ in 0..iterations {
                    churn(&store);
                    let start = std::time::Instant::now();
                    black_box(store.compact().expect("compacts").expect("work to do"));
                    total += start.elapsed();
                }
                total
            });
        },
    );
    churn(&store);
    drop(store);
    for (name, compact_first) in [("before_compaction", false), ("after_compaction", true)] {
        if compact_first {
            let (store, _) = AccountsDb::open(&dir, Vec::new, options).expect("recovers");
            store.compact().expect("compacts");
        }
        group.bench_function(BenchmarkId::new("open", name), |b| {
            b.iter(|| {
                let (store, _) = AccountsDb::open(&dir, Vec::new, options).expect("recovers");
                black_box(store.len())
            });
        });
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
    compaction_copy(options);
}

/// Commits `slot`: `count` accounts overwritten, a window of the first `keys` that moves
/// with the slot.
fn overwrite_slot(store: &AccountsDb, slot: u64, count: u64, keys: u64) {
    let first = (slot * count) % (keys - count);
    store
        .store(slot, &accounts(first..first + count, slot))
        .expect("slots ascend");
    store.commit_slot(slot).expect("the disk takes it");
}

/// What compaction reads and writes (bytes, not time: printed, not a criterion
/// measurement) over six rounds of 200 slots of 500 overwrites, each round followed by
/// compacting until nothing is worth it: `churn-all` overwrites each of 100,000 accounts
/// once a round; `hot-5k-of-200k` overwrites 5,000 of 200,000 (the other 195,000 stay live
/// in their segments, which compaction never copies).
#[allow(clippy::print_stdout)] // a report beside criterion's own output
fn compaction_copy(options: OpenOptions) {
    for (name, live, hot) in [
        ("churn-all", 100_000u64, 100_000u64),
        ("hot-5k-of-200k", 200_000, 5_000),
    ] {
        let dir = directory(&format!("compaction-copy-{name}"));
        let (store, _) = AccountsDb::open(&dir, || accounts(0..live, 1), options).expect("creates");
        let mut slot = 0u64;
        let (mut read, mut written) = (0u64, 0u64);
        let start = std::time::Instant::now();
        for _round in 0..6 {
            for _ in 0..200 {
                slot += 1;
                overwrite_slot(&store, slot, 500, hot);
            }
            while let Some(report) = store.compact().expect("compacts") {
                read += report.bytes_before;
                written += report.bytes_after;
            }
        }
        let stats = store.segment_stats().expect("a durable store");
        println!(
            "compaction copy, {name}: read {:.1} MB, wrote {:.1} MB over 6 rounds \
             ({:.2?} with the slots); store {:.1} MB in {} segments",
            read as f64 / 1e6,
            written as f64 / 1e6,
            start.elapsed(),
            stats.bytes as f64 / 1e6,
            stats.segments
        );
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// A slot commit of 64 accounts into a store of 100,000, alone and while another thread
/// compacts the store whenever a run of sealed segments is worth it (the segments the
/// commits superseded): what compaction costs the commits that run beside it.
fn commit_during_compaction(c: &mut Criterion) {
    const LIVE: u64 = 100_000;
    let options = OpenOptions {
        segment_bytes: 4 << 20,
        background_compaction: false,
        ..OpenOptions::default()
    };
    let dir = directory("commit-during-compaction");
    let (store, _) = AccountsDb::open(&dir, || accounts(0..LIVE, 1), options).expect("creates");
    let store = std::sync::Arc::new(store);
    let mut group = c.benchmark_group("slot_commit_64_accounts_of_100k");
    group.throughput(Throughput::Elements(ACCOUNTS_PER_SLOT as u64));
    let mut slot = 0;
    for compacting in [false, true] {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let compactor = compacting.then(|| {
            let (store, stop) = (std::sync::Arc::clone(&store), std::sync::Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut compactions = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    if store.compact().expect("compacts").is_some() {
                        compactions += 1;
                    } else {
                        std::thread::yield_now();
                    }
                }
                compactions
            })
        });
        let name = if compacting {
            "while_compacting"
        } else {
            "alone"
        };
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| {
                slot += 1;
                let start = (slot * 37) % (LIVE - ACCOUNTS_PER_SLOT as u64);
                store
                    .store(
                        slot,
                        &accounts(start..start + ACCOUNTS_PER_SLOT as u64, slot),
                    )
                    .expect("slots ascend");
                store.commit_slot(slot).expect("the disk takes it");
            });
        });
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(compactor) = compactor {
            assert!(
                compactor.join().expect("the compactor runs") > 0,
                "compactions ran beside the commits"
            );
        }
    }
    group.finish();
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

mod group {
    // The macro generates an undocumented `pub fn benches`.
    #![allow(missing_docs)]
    criterion::criterion_group!(
        benches,
        super::commit,
        super::open,
        super::load,
        super::compaction,
        super::commit_during_compaction
    );
}
criterion_main!(group::benches);
