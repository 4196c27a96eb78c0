//! Interleaved timing of two implementations of the same operation, for comparisons whose
//! absolute times drift on shared machines: A and B alternate in short rounds, and each
//! side's median over the rounds is reported with their ratio.
//!
//! [`paired_medians`] times a cheap operation repeated in a loop;
//! [`paired_medians_custom`] lets each side time one round itself, for an operation that
//! needs a fresh input every time (a whole workload run on fresh tasks): build the input,
//! time only the run with [`time_run`], drop the output afterwards.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// The medians of a paired run, in nanoseconds per operation.
#[derive(Debug, Clone, Copy)]
pub struct PairedMedians {
    /// Median of side A.
    pub a_ns: f64,
    /// Median of side B.
    pub b_ns: f64,
}

impl PairedMedians {
    /// `a / b`.
    pub fn ratio(&self) -> f64 {
        self.a_ns / self.b_ns
    }
}

/// Times `a` and `b` (each one operation per call) in `rounds` alternating rounds of
/// `iters_per_round` calls, after one warm-up round each, and returns their medians per
/// operation.
pub fn paired_medians(
    rounds: usize,
    iters_per_round: u64,
    mut a: impl FnMut(),
    mut b: impl FnMut(),
) -> PairedMedians {
    let time = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        for _ in 0..iters_per_round {
            f();
        }
        black_box(());
        start.elapsed()
    };
    paired_medians_custom(rounds, iters_per_round, || time(&mut a), || time(&mut b))
}

/// Alternates `a` and `b` for `rounds` rounds, after one warm-up round each, and returns
/// their medians per operation. Each call runs one round of `ops_per_round` operations and
/// returns the time that counts (so it may prepare its input and drop its output
/// untimed, see [`time_run`]).
pub fn paired_medians_custom(
    rounds: usize,
    ops_per_round: u64,
    mut a: impl FnMut() -> Duration,
    mut b: impl FnMut() -> Duration,
) -> PairedMedians {
    let per_op = |elapsed: Duration| elapsed.as_nanos() as f64 / ops_per_round as f64;
    a();
    b();
    let mut a_samples = Vec::with_capacity(rounds);
    let mut b_samples = Vec::with_capacity(rounds);
    for round in 0..rounds {
        // Alternate which side goes first, so neither always runs on a cache the other
        // warmed.
        if round.is_multiple_of(2) {
            a_samples.push(per_op(a()));
            b_samples.push(per_op(b()));
        } else {
            b_samples.push(per_op(b()));
            a_samples.push(per_op(a()));
        }
    }
    PairedMedians {
        a_ns: median(&mut a_samples),
        b_ns: median(&mut b_samples),
    }
}

/// Runs `run(input)` and returns how long it took, with its output, which the caller drops
/// after the clock stopped.
#[inline(always)]
pub fn time_run<I, O>(input: I, run: impl FnOnce(I) -> O) -> (Duration, O) {
    let input = black_box(input);
    let start = Instant::now();
    let output = run(input);
    let elapsed = start.elapsed();
    (elapsed, black_box(output))
}

fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    let mid = samples.len() / 2;
    if samples.len().is_multiple_of(2) {
        (samples[mid - 1] + samples[mid]) / 2.0
    } else {
        samples[mid]
    }
}
