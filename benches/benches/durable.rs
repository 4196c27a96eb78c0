//! The durable store against the in-memory one: slot commit throughput with an `fsync` per
//! slot, the time to open (recover) a store of 1,000,000 accounts, and load latency.
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

mod group {
    // The macro generates an undocumented `pub fn benches`.
    #![allow(missing_docs)]
    criterion::criterion_group!(benches, super::commit, super::open, super::load);
}
criterion_main!(group::benches);
