//! `CostPacer`: a block's compute budget released to the scheduler linearly over a fill time.

use std::time::{Duration, Instant};

/// Releases a block's compute budget to the scheduler over time, so that the block does not
/// fill up with whatever arrived first.
///
/// A leader that schedules greedily fills its block in the first milliseconds of the slot; a
/// high-priority transaction that arrives later finds no room. The pacer releases
/// `budget * elapsed / fill_time` units by `start + elapsed` and everything from
/// `start + fill_time` on; the scheduler asks for
/// [`scheduling_budget`](Self::scheduling_budget) before each pass and schedules at most
/// that much more.
///
/// Without a fill time the whole budget is available at once (no pacing). The release is
/// exact integer arithmetic on nanoseconds (no per-millisecond rounding), monotone in time,
/// and never exceeds `budget`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CostPacer {
    budget: u64,
    start: Instant,
    fill_time: Option<Duration>,
}

impl CostPacer {
    /// A pacer that releases `budget` compute units over `fill_time` from `start` (all at
    /// once if `fill_time` is `None` or zero).
    pub fn new(budget: u64, start: Instant, fill_time: Option<Duration>) -> Self {
        Self {
            budget,
            start,
            fill_time,
        }
    }

    /// The whole budget.
    pub fn budget(&self) -> u64 {
        self.budget
    }

    /// The units released by `now`: 0 at (or before) `start`, rising linearly to `budget` at
    /// `start + fill_time`.
    pub fn released(&self, now: Instant) -> u64 {
        let Some(fill_time) = self.fill_time else {
            return self.budget;
        };
        let elapsed = now.saturating_duration_since(self.start);
        if elapsed >= fill_time {
            return self.budget;
        }
        // elapsed < fill_time, so the quotient is < budget and fits in a u64. The product
        // fits in a u128 unless the fill time is centuries long; then release all.
        let Some(scaled) = u128::from(self.budget).checked_mul(elapsed.as_nanos()) else {
            return self.budget;
        };
        let released = scaled / fill_time.as_nanos().max(1);
        u64::try_from(released).unwrap_or(self.budget)
    }

    /// How many more units may be scheduled at `now`, when `consumed` units (scheduled or
    /// executed so far in this block) are already spent: `released(now) - consumed`, or 0.
    pub fn scheduling_budget(&self, now: Instant, consumed: u64) -> u64 {
        self.released(now).saturating_sub(consumed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUDGET: u64 = 48_000_000;
    const FILL: Duration = Duration::from_millis(400);

    fn pacer() -> (CostPacer, Instant) {
        let start = Instant::now();
        (CostPacer::new(BUDGET, start, Some(FILL)), start)
    }

    #[test]
    fn nothing_is_released_at_start() {
        let (pacer, start) = pacer();
        assert_eq!(pacer.released(start), 0);
        assert_eq!(pacer.scheduling_budget(start, 0), 0);
    }

    #[test]
    fn release_ramps_linearly() {
        let (pacer, start) = pacer();
        assert_eq!(pacer.released(start + FILL / 4), BUDGET / 4);
        assert_eq!(pacer.released(start + FILL / 2), BUDGET / 2);
        assert_eq!(
            pacer.released(start + Duration::from_millis(1)),
            BUDGET / 400
        );
        assert_eq!(
            pacer.released(start + Duration::from_millis(399)),
            BUDGET / 400 * 399
        );
    }

    #[test]
    fn release_is_monotone_and_capped() {
        let (pacer, start) = pacer();
        let mut previous = 0;
        for micros in (0..=500_000).step_by(997) {
            let released = pacer.released(start + Duration::from_micros(micros));
            assert!(released >= previous, "release went down at {micros} us");
            assert!(released <= BUDGET);
            previous = released;
        }
        assert_eq!(previous, BUDGET);
    }

    #[test]
    fn everything_is_released_at_and_after_fill_time() {
        let (pacer, start) = pacer();
        assert_eq!(pacer.released(start + FILL), BUDGET);
        assert_eq!(pacer.released(start + FILL * 10), BUDGET);
    }

    #[test]
    fn consumed_units_are_subtracted_and_saturate() {
        let (pacer, start) = pacer();
        let half = start + FILL / 2;
        assert_eq!(
            pacer.scheduling_budget(half, 1_000_000),
            BUDGET / 2 - 1_000_000
        );
        assert_eq!(pacer.scheduling_budget(half, BUDGET / 2), 0);
        assert_eq!(pacer.scheduling_budget(half, BUDGET), 0);
    }

    #[test]
    fn a_time_before_start_releases_nothing() {
        let now = Instant::now();
        let pacer = CostPacer::new(BUDGET, now + Duration::from_secs(1), Some(FILL));
        assert_eq!(pacer.released(now), 0);
    }

    #[test]
    fn no_fill_time_or_zero_fill_time_releases_all_at_once() {
        let start = Instant::now();
        assert_eq!(CostPacer::new(BUDGET, start, None).released(start), BUDGET);
        assert_eq!(
            CostPacer::new(BUDGET, start, Some(Duration::ZERO)).released(start),
            BUDGET
        );
    }

    #[test]
    fn huge_budgets_do_not_overflow() {
        let start = Instant::now();
        let fill = Duration::from_secs(3600);
        let pacer = CostPacer::new(u64::MAX, start, Some(fill));
        assert_eq!(pacer.released(start + fill / 2), u64::MAX / 2);
        assert_eq!(pacer.released(start + fill), u64::MAX);
    }
}
