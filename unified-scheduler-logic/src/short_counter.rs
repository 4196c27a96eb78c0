//! `ShortCounter`: a `u32` count whose overflow and underflow are bugs, and panic as such.

/// A small non-negative count (the state machine's task counts, a reader count, a task's
/// blocked-usage count).
///
/// `u32` rather than `usize` keeps the hot structures small; a state machine is
/// reinitialized every block, long before 2^32 of anything. Going below zero or above
/// `u32::MAX` means the bookkeeping is broken, so it panics instead of wrapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct ShortCounter(u32);

impl ShortCounter {
    /// 0.
    pub const fn zero() -> Self {
        Self(0)
    }

    /// 1.
    pub const fn one() -> Self {
        Self(1)
    }

    /// Whether the count is 0.
    #[inline(always)]
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Whether the count is 1.
    #[inline(always)]
    pub const fn is_one(self) -> bool {
        self.0 == 1
    }

    /// The count.
    #[inline(always)]
    pub const fn current(self) -> u32 {
        self.0
    }

    /// The count plus one.
    ///
    /// # Panics
    /// On overflow (a count past `u32::MAX` is a bookkeeping bug).
    #[inline(always)]
    #[must_use]
    pub fn increment(self) -> Self {
        match self.0.checked_add(1) {
            Some(count) => Self(count),
            None => panic!("ShortCounter overflow (invariant: counts stay below 2^32)"),
        }
    }

    /// The count minus one.
    ///
    /// # Panics
    /// On underflow (decrementing 0 is a bookkeeping bug).
    #[inline(always)]
    #[must_use]
    pub fn decrement(self) -> Self {
        match self.0.checked_sub(1) {
            Some(count) => Self(count),
            None => panic!("ShortCounter underflow (invariant: never decremented below 0)"),
        }
    }

    /// Adds one in place. Panics as [`increment`](Self::increment).
    #[inline(always)]
    pub fn increment_self(&mut self) -> &mut Self {
        *self = self.increment();
        self
    }

    /// Subtracts one in place. Panics as [`decrement`](Self::decrement).
    #[inline(always)]
    pub fn decrement_self(&mut self) -> &mut Self {
        *self = self.decrement();
        self
    }

    /// Raises the count to `other` if `other` is larger.
    pub fn max_self(&mut self, other: Self) -> &mut Self {
        self.0 = self.0.max(other.0);
        self
    }

    /// Sets the count to 0.
    pub fn reset_to_zero(&mut self) -> &mut Self {
        self.0 = 0;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_up_and_down() {
        let mut counter = ShortCounter::zero();
        assert!(counter.is_zero());
        counter.increment_self().increment_self();
        assert_eq!(counter.current(), 2);
        counter.decrement_self();
        assert!(counter.is_one());
        counter.max_self(ShortCounter(5));
        assert_eq!(counter.current(), 5);
        counter.reset_to_zero();
        assert!(counter.is_zero());
    }

    #[test]
    #[should_panic(expected = "ShortCounter underflow")]
    fn underflow_panics() {
        let _ = ShortCounter::zero().decrement();
    }

    #[test]
    #[should_panic(expected = "ShortCounter overflow")]
    fn overflow_panics() {
        let _ = ShortCounter(u32::MAX).increment();
    }
}
