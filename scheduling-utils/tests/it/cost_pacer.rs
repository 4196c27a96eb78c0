//! Property tests of `CostPacer` (the unit tests check fixed points of one 48M/400ms ramp):
//! the release equals the exact `u128` floor of the linear ramp for any budget, fill time and
//! moment; it is monotone; and a scheduler loop that spends only what the pacer allows never
//! overspends, yet fills the block by the fill time.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use scheduling_utils::CostPacer;

/// Fill times up to about 17 minutes, down to one nanosecond.
const MAX_FILL_NANOS: u64 = 1_000_000_000_000;

fn expected_release(budget: u64, fill_nanos: u64, elapsed_nanos: u64) -> u64 {
    if elapsed_nanos >= fill_nanos {
        budget
    } else {
        let released = u128::from(budget) * u128::from(elapsed_nanos) / u128::from(fill_nanos);
        u64::try_from(released).expect("below the budget")
    }
}

proptest! {
    #[test]
    fn release_is_the_floor_of_the_linear_ramp(
        budget in prop_oneof![any::<u64>(), 0..100_000_000u64],
        fill_nanos in prop_oneof![1..=1_000u64, 1..=MAX_FILL_NANOS],
        elapsed_permille in 0..=1_500u64,
        consumed in any::<u64>(),
    ) {
        let start = Instant::now();
        let pacer = CostPacer::new(budget, start, Some(Duration::from_nanos(fill_nanos)));
        let elapsed_nanos = u64::try_from(
            u128::from(fill_nanos) * u128::from(elapsed_permille) / 1_000,
        )
        .expect("at most 1.5 fill times");
        let now = start + Duration::from_nanos(elapsed_nanos);
        let expected = expected_release(budget, fill_nanos, elapsed_nanos);
        prop_assert_eq!(pacer.released(now), expected);
        prop_assert_eq!(pacer.scheduling_budget(now, consumed), expected.saturating_sub(consumed));
        prop_assert_eq!(pacer.budget(), budget);
    }

    #[test]
    fn release_is_monotone_and_reaches_the_budget_at_the_fill_time(
        budget in any::<u64>(),
        fill_nanos in 1..=MAX_FILL_NANOS,
        mut moments in prop::collection::vec(0..=MAX_FILL_NANOS * 2, 1..32),
    ) {
        let start = Instant::now();
        let pacer = CostPacer::new(budget, start, Some(Duration::from_nanos(fill_nanos)));
        moments.sort_unstable();
        let mut previous = 0;
        for elapsed in moments {
            let released = pacer.released(start + Duration::from_nanos(elapsed));
            prop_assert!(released >= previous, "went down at {} ns", elapsed);
            prop_assert!(released <= budget);
            previous = released;
        }
        prop_assert_eq!(pacer.released(start + Duration::from_nanos(fill_nanos)), budget);
        if budget > 0 {
            let just_before = start + Duration::from_nanos(fill_nanos - 1);
            prop_assert!(pacer.released(just_before) < budget, "released all before the fill time");
        }
    }

    /// A scheduler that, on each pass, schedules queued transactions in order while their
    /// cost fits in `scheduling_budget(now, consumed)`: it never spends more than has been
    /// released, and once the fill time has passed it has scheduled everything that fits in
    /// the block.
    #[test]
    fn a_paced_scheduler_never_overspends_and_fills_the_block(
        costs in prop::collection::vec(1..=2_000_000u64, 1..200),
        pass_micros in prop::collection::vec(1..=20_000u64, 1..100),
    ) {
        const BUDGET: u64 = 48_000_000;
        let fill = Duration::from_millis(400);
        let start = Instant::now();
        let pacer = CostPacer::new(BUDGET, start, Some(fill));

        let mut queue = costs.iter().copied().peekable();
        let mut consumed = 0u64;
        let mut now = start;
        let passes = pass_micros
            .iter()
            .map(|&micros| Duration::from_micros(micros))
            .chain(std::iter::once(fill));
        for step in passes {
            now += step;
            let mut room = pacer.scheduling_budget(now, consumed);
            while let Some(&cost) = queue.peek() {
                if cost > room {
                    break;
                }
                queue.next();
                consumed += cost;
                room -= cost;
            }
            prop_assert!(consumed <= pacer.released(now), "overspent at {:?}", now - start);
        }
        // After the fill time the whole budget is released: the scheduler stopped only at a
        // transaction that does not fit in what is left of the block, or ran out of them.
        prop_assert!(now - start >= fill);
        match queue.peek() {
            None => prop_assert_eq!(consumed, costs.iter().sum::<u64>()),
            Some(&cost) => prop_assert!(consumed + cost > BUDGET),
        }
    }
}
