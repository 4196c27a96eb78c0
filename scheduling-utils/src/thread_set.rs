//! `ThreadSet`: a set of worker threads packed into one `u64`.

use std::fmt;
use std::ops::{BitAnd, BitAndAssign, BitOr, BitOrAssign, Sub, SubAssign};

/// The most worker threads a [`ThreadSet`] (and so a
/// [`ThreadAwareAccountLocks`](crate::ThreadAwareAccountLocks)) can describe: one per bit of
/// a `u64`.
pub const MAX_THREADS: usize = u64::BITS as usize;

/// Index of a worker thread, `0..MAX_THREADS`.
pub type ThreadId = usize;

/// A set of worker threads, one bit per thread (bit `t` set means thread `t` is in the set).
///
/// Every operation is one or two instructions on a `u64`, which is why the lock table can
/// afford to intersect one of these per account of every transaction it looks at.
///
/// Constructors that take a thread id or a thread count panic when it is out of range
/// (`>= MAX_THREADS`, resp. `> MAX_THREADS`): such a value is a bug in the caller, not input.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ThreadSet(u64);

impl ThreadSet {
    /// The empty set.
    #[inline(always)]
    pub const fn none() -> Self {
        Self(0)
    }

    /// The set of the first `num_threads` threads, `{0, .., num_threads - 1}`.
    ///
    /// `any(MAX_THREADS)` is the full set (no shift overflow); `any(0)` is empty.
    ///
    /// # Panics
    /// If `num_threads > MAX_THREADS`.
    #[inline(always)]
    pub const fn any(num_threads: usize) -> Self {
        assert!(
            num_threads <= MAX_THREADS,
            "ThreadSet::any: num_threads must be <= MAX_THREADS (64)"
        );
        if num_threads == MAX_THREADS {
            Self(u64::MAX)
        } else {
            Self((1u64 << num_threads) - 1)
        }
    }

    /// The set holding only `thread_id`.
    ///
    /// # Panics
    /// If `thread_id >= MAX_THREADS`.
    #[inline(always)]
    pub const fn only(thread_id: ThreadId) -> Self {
        assert!(
            thread_id < MAX_THREADS,
            "ThreadSet::only: thread_id must be < MAX_THREADS (64)"
        );
        Self(1u64 << thread_id)
    }

    /// The set whose members are the set bits of `bits`.
    #[inline(always)]
    pub const fn from_bits(bits: u64) -> Self {
        Self(bits)
    }

    /// The raw bits of the set.
    #[inline(always)]
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// Number of threads in the set.
    #[inline(always)]
    pub const fn num_threads(self) -> u32 {
        self.0.count_ones()
    }

    /// Whether the set holds no thread or one. Cheaper than `num_threads() <= 1` on CPUs
    /// without a population-count instruction (the x86-64 baseline).
    #[inline(always)]
    pub const fn contains_at_most_one(self) -> bool {
        self.0 & self.0.wrapping_sub(1) == 0
    }

    /// The thread, if the set holds exactly one.
    #[inline(always)]
    pub const fn only_one_contained(self) -> Option<ThreadId> {
        if self.0 != 0 && self.contains_at_most_one() {
            Some(self.0.trailing_zeros() as ThreadId)
        } else {
            None
        }
    }

    /// Whether the set is empty.
    #[inline(always)]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether `thread_id` is in the set. Ids `>= MAX_THREADS` are never contained.
    #[inline(always)]
    pub const fn contains(self, thread_id: ThreadId) -> bool {
        thread_id < MAX_THREADS && self.0 & (1u64 << thread_id) != 0
    }

    /// Adds `thread_id` to the set.
    ///
    /// # Panics
    /// If `thread_id >= MAX_THREADS`.
    #[inline(always)]
    pub fn insert(&mut self, thread_id: ThreadId) {
        self.0 |= Self::only(thread_id).0;
    }

    /// Removes `thread_id` from the set (no-op if absent).
    ///
    /// # Panics
    /// If `thread_id >= MAX_THREADS`.
    #[inline(always)]
    pub fn remove(&mut self, thread_id: ThreadId) {
        self.0 &= !Self::only(thread_id).0;
    }

    /// The threads in the set, in ascending order.
    #[inline(always)]
    pub fn contained_threads_iter(self) -> ContainedThreads {
        ContainedThreads(self.0)
    }
}

/// Iterator over the threads of a [`ThreadSet`], ascending. Made by
/// [`ThreadSet::contained_threads_iter`].
#[derive(Debug, Clone)]
pub struct ContainedThreads(u64);

impl Iterator for ContainedThreads {
    type Item = ThreadId;

    #[inline(always)]
    fn next(&mut self) -> Option<ThreadId> {
        if self.0 == 0 {
            return None;
        }
        let thread_id = self.0.trailing_zeros() as ThreadId;
        // Clear the lowest set bit.
        self.0 &= self.0 - 1;
        Some(thread_id)
    }

    #[inline(always)]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.0.count_ones() as usize;
        (n, Some(n))
    }
}

impl ExactSizeIterator for ContainedThreads {}
impl std::iter::FusedIterator for ContainedThreads {}

impl BitAnd for ThreadSet {
    type Output = Self;
    #[inline(always)]
    fn bitand(self, rhs: Self) -> Self {
        Self(self.0 & rhs.0)
    }
}

impl BitAndAssign for ThreadSet {
    #[inline(always)]
    fn bitand_assign(&mut self, rhs: Self) {
        self.0 &= rhs.0;
    }
}

impl BitOr for ThreadSet {
    type Output = Self;
    #[inline(always)]
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl BitOrAssign for ThreadSet {
    #[inline(always)]
    fn bitor_assign(&mut self, rhs: Self) {
        self.0 |= rhs.0;
    }
}

/// Set difference: the threads of `self` that are not in `rhs`.
impl Sub for ThreadSet {
    type Output = Self;
    #[inline(always)]
    fn sub(self, rhs: Self) -> Self {
        Self(self.0 & !rhs.0)
    }
}

impl SubAssign for ThreadSet {
    #[inline(always)]
    fn sub_assign(&mut self, rhs: Self) {
        self.0 &= !rhs.0;
    }
}

/// Prints the members, e.g. `ThreadSet{0, 3, 63}`, rather than 64 binary digits.
impl fmt::Debug for ThreadSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ThreadSet")?;
        f.debug_set()
            .entries(self.contained_threads_iter())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_covers_exactly_the_first_n_threads() {
        assert!(ThreadSet::any(0).is_empty());
        assert_eq!(ThreadSet::any(1), ThreadSet::only(0));
        assert_eq!(ThreadSet::any(4).bits(), 0b1111);
        assert_eq!(ThreadSet::any(63).bits(), u64::MAX >> 1);
        assert_eq!(ThreadSet::any(MAX_THREADS).bits(), u64::MAX);
        assert_eq!(ThreadSet::any(MAX_THREADS).num_threads(), 64);
    }

    #[test]
    #[should_panic(expected = "num_threads must be <= MAX_THREADS")]
    fn any_rejects_more_than_max_threads() {
        let _ = ThreadSet::any(MAX_THREADS + 1);
    }

    #[test]
    #[should_panic(expected = "thread_id must be < MAX_THREADS")]
    fn only_rejects_thread_64() {
        let _ = ThreadSet::only(MAX_THREADS);
    }

    #[test]
    fn bit_63_is_a_normal_member() {
        let mut set = ThreadSet::only(63);
        assert_eq!(set.bits(), 1 << 63);
        assert!(set.contains(63));
        assert!(!set.contains(62));
        assert_eq!(set.only_one_contained(), Some(63));
        assert_eq!(set.contained_threads_iter().collect::<Vec<_>>(), vec![63]);
        set.insert(0);
        assert_eq!(set.only_one_contained(), None);
        assert_eq!(
            set.contained_threads_iter().collect::<Vec<_>>(),
            vec![0, 63]
        );
        set.remove(63);
        assert_eq!(set, ThreadSet::only(0));
    }

    #[test]
    fn contains_at_most_one_counts_zero_and_one() {
        assert!(ThreadSet::none().contains_at_most_one());
        assert!(ThreadSet::only(0).contains_at_most_one());
        assert!(ThreadSet::only(63).contains_at_most_one());
        assert!(!ThreadSet::from_bits(0b11).contains_at_most_one());
        assert!(!ThreadSet::any(MAX_THREADS).contains_at_most_one());
    }

    #[test]
    fn only_one_contained_needs_exactly_one() {
        assert_eq!(ThreadSet::none().only_one_contained(), None);
        assert_eq!(ThreadSet::only(5).only_one_contained(), Some(5));
        assert_eq!(ThreadSet::any(2).only_one_contained(), None);
    }

    #[test]
    fn contains_is_false_out_of_range() {
        assert!(!ThreadSet::any(MAX_THREADS).contains(MAX_THREADS));
        assert!(!ThreadSet::any(MAX_THREADS).contains(usize::MAX));
    }

    #[test]
    fn insert_and_remove_are_idempotent() {
        let mut set = ThreadSet::none();
        set.insert(3);
        set.insert(3);
        assert_eq!(set.num_threads(), 1);
        set.remove(3);
        set.remove(3);
        assert!(set.is_empty());
    }

    #[test]
    fn iterates_ascending_with_exact_size() {
        let set = ThreadSet::from_bits(0b1010_0101);
        let iter = set.contained_threads_iter();
        assert_eq!(iter.len(), 4);
        assert_eq!(iter.collect::<Vec<_>>(), vec![0, 2, 5, 7]);
        assert_eq!(ThreadSet::none().contained_threads_iter().next(), None);
    }

    #[test]
    fn set_algebra() {
        let a = ThreadSet::from_bits(0b1100);
        let b = ThreadSet::from_bits(0b1010);
        assert_eq!((a & b).bits(), 0b1000);
        assert_eq!((a | b).bits(), 0b1110);
        assert_eq!((a - b).bits(), 0b0100);
        let mut c = a;
        c &= b;
        assert_eq!(c.bits(), 0b1000);
        c |= ThreadSet::only(0);
        assert_eq!(c.bits(), 0b1001);
        c -= ThreadSet::only(3);
        assert_eq!(c.bits(), 0b0001);
    }

    #[test]
    fn debug_lists_members() {
        assert_eq!(format!("{:?}", ThreadSet::none()), "ThreadSet{}");
        assert_eq!(
            format!("{:?}", ThreadSet::from_bits((1 << 63) | 0b1001)),
            "ThreadSet{0, 3, 63}"
        );
    }
}
