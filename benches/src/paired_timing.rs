//! Interleaved timing of two implementations of the same operation, for comparisons whose
//! absolute times drift on shared machines: A and B alternate in short rounds, and each
//! side's median over the rounds is reported with their ratio.

use std::hint::black_box;
use std::time::Instant;

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
        start.elapsed().as_nanos() as f64 / iters_per_round as f64
    };
    time(&mut a);
    time(&mut b);
    let mut a_samples = Vec::with_capacity(rounds);
    let mut b_samples = Vec::with_capacity(rounds);
    for round in 0..rounds {
        // Alternate which side goes first, so neither always runs on a cache the other
        // warmed.
        if round.is_multiple_of(2) {
            a_samples.push(time(&mut a));
            b_samples.push(time(&mut b));
        } else {
            b_samples.push(time(&mut b));
            a_samples.push(time(&mut a));
        }
    }
    PairedMedians {
        a_ns: median(&mut a_samples),
        b_ns: median(&mut b_samples),
    }
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
