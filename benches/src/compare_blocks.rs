//! The blocks the `compare` program measures, shared with `replay_once` (which replays one
//! of them under a profiler): the workloads by name, the block sizes, and the calibration
//! of the bench program's work.

use std::time::Instant;

use banking_stage::workload::{ConflictPattern, TransactionMix, Workload, WorkloadConfig};
use svm_lite::bench_program::UNITS_PER_HASH;

/// The workloads, by the names `compare` prints.
pub fn workloads() -> Vec<(&'static str, ConflictPattern)> {
    let hot = |percent| ConflictPattern::HotSpot {
        percent,
        hot_accounts: 4,
    };
    vec![
        ("no-conflict", ConflictPattern::None),
        ("hot-25%", hot(25)),
        ("hot-50%", hot(50)),
        ("hot-75%", hot(75)),
        ("hot-100%", hot(100)),
        (
            "zipf-1.1",
            ConflictPattern::Zipf {
                accounts: 1_000,
                exponent: 1.1,
            },
        ),
        ("read-mostly", ConflictPattern::ReadMostly { shared: 16 }),
        ("single-chain", ConflictPattern::Chain),
    ]
}

/// Bench-program units that take about `micros` on this machine (calibrated by timing the
/// program's hash loop).
pub fn units_for_micros(micros: u64) -> u32 {
    if micros == 0 {
        return 0;
    }
    let rounds = 200_000u32;
    let start = Instant::now();
    let mut state = [7u8; 32];
    for _ in 0..rounds {
        state = *blake3::hash(&state).as_bytes();
    }
    std::hint::black_box(state);
    let ns_per_hash = start.elapsed().as_nanos() as f64 / f64::from(rounds);
    let hashes = (micros as f64 * 1_000.0 / ns_per_hash).round();
    (hashes as u64 * UNITS_PER_HASH).min(u64::from(u32::MAX)) as u32
}

/// Transactions in a block whose transactions do `micros` of work: 12,000 at 0 µs, 6,000
/// under 10 µs, 3,000 from 10 µs, times `scale` (at least 100).
pub fn transactions_for(micros: u64, scale: f64) -> usize {
    let base = match micros {
        0 => 12_000.0,
        1..=9 => 6_000.0,
        _ => 3_000.0,
    };
    ((base * scale) as usize).max(100)
}

/// The seeded workload of `transactions` bench-program transactions of `units` each, in
/// `pattern`.
pub fn workload(pattern: ConflictPattern, units: u32, transactions: usize) -> Workload {
    Workload::generate(&WorkloadConfig {
        seed: 7,
        transactions,
        pattern,
        mix: TransactionMix::BENCH,
        bench_units: units,
        max_price: 1_000,
    })
}
