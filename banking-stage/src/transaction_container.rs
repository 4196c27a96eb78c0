//! `TransactionContainer`: the scheduler's bounded buffer of waiting transactions, best
//! priority first.

use std::cmp::Reverse;
use std::collections::BTreeMap;

/// Identifies a transaction in the container; assigned in arrival order.
pub type TransactionId = u64;

/// A bounded priority buffer. Priority is the compute-unit price; among equal priorities
/// the earlier arrival goes first. When full, inserting drops the lowest-priority
/// transaction (the newcomer itself if it is the lowest).
#[derive(Debug)]
pub struct TransactionContainer<T> {
    capacity: usize,
    next_id: TransactionId,
    /// Ordered by (priority, reversed arrival), so the last entry is the best one.
    by_priority: BTreeMap<Key, T>,
}

/// (priority, reversed arrival): the largest key is the best transaction.
type Key = (u64, Reverse<TransactionId>);

/// What [`TransactionContainer::insert`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Inserted<T> {
    /// Buffered under this id.
    Buffered(TransactionId),
    /// Buffered under this id; the container was full, and this lower-priority
    /// transaction was dropped to make room.
    BufferedDropping(TransactionId, T),
    /// Not buffered: the container is full of transactions at least as valuable.
    Dropped(T),
}

impl<T> TransactionContainer<T> {
    /// An empty container holding at most `capacity` transactions (at least 1).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            next_id: 0,
            by_priority: BTreeMap::new(),
        }
    }

    /// Buffers `transaction` with `priority`, dropping the lowest if full.
    pub fn insert(&mut self, transaction: T, priority: u64) -> Inserted<T> {
        let id = self.next_id;
        self.next_id += 1;
        match self.insert_keyed((priority, Reverse(id)), transaction) {
            Ok(None) => Inserted::Buffered(id),
            Ok(Some(dropped)) => Inserted::BufferedDropping(id, dropped),
            Err(rejected) => Inserted::Dropped(rejected),
        }
    }

    /// Puts back a transaction taken out earlier under its id and priority, so it keeps
    /// its place. Returns whatever was dropped to make room (possibly itself).
    pub fn reinsert(&mut self, id: TransactionId, transaction: T, priority: u64) -> Option<T> {
        match self.insert_keyed((priority, Reverse(id)), transaction) {
            Ok(dropped) => dropped,
            Err(rejected) => Some(rejected),
        }
    }

    /// Inserts under `key`: `Ok` with the entry dropped to make room, if any, or `Err`
    /// with the transaction itself if it is the lowest of a full container.
    fn insert_keyed(&mut self, key: Key, transaction: T) -> Result<Option<T>, T> {
        if self.by_priority.len() < self.capacity {
            self.by_priority.insert(key, transaction);
            return Ok(None);
        }
        let lowest = *self
            .by_priority
            .keys()
            .next()
            .expect("invariant: a full container is not empty");
        if key <= lowest {
            return Err(transaction);
        }
        let dropped = self.by_priority.remove(&lowest);
        self.by_priority.insert(key, transaction);
        Ok(dropped)
    }

    /// Takes out the best transaction: `(id, priority, transaction)`.
    pub fn pop_best(&mut self) -> Option<(TransactionId, u64, T)> {
        let ((priority, Reverse(id)), transaction) = self.by_priority.pop_last()?;
        Some((id, priority, transaction))
    }

    /// How many transactions wait.
    pub fn len(&self) -> usize {
        self.by_priority.len()
    }

    /// Whether none waits.
    pub fn is_empty(&self) -> bool {
        self.by_priority.is_empty()
    }

    /// The most it holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn pops_best_priority_then_earliest_arrival() {
        let mut container = TransactionContainer::with_capacity(10);
        for (name, priority) in [("a", 5), ("b", 9), ("c", 5), ("d", 1)] {
            container.insert(name, priority);
        }
        let order: Vec<&str> =
            std::iter::from_fn(|| container.pop_best().map(|(_, _, t)| t)).collect();
        assert_eq!(order, vec!["b", "a", "c", "d"]);
    }

    #[test]
    fn a_full_container_drops_the_lowest() {
        let mut container = TransactionContainer::with_capacity(2);
        assert_eq!(container.insert("a", 5), Inserted::Buffered(0));
        assert_eq!(container.insert("b", 7), Inserted::Buffered(1));
        assert_eq!(container.insert("c", 1), Inserted::Dropped("c"));
        assert_eq!(container.insert("d", 6), Inserted::BufferedDropping(3, "a"));
        assert_eq!(
            container.insert("e", 6),
            Inserted::Dropped("e"),
            "ties go to the earlier"
        );
        assert_eq!(container.len(), 2);
    }

    #[test]
    fn a_reinserted_transaction_keeps_its_place() {
        let mut container = TransactionContainer::with_capacity(4);
        container.insert("first", 5);
        container.insert("second", 5);
        let (id, priority, first) = container.pop_best().unwrap();
        assert_eq!(first, "first");
        assert_eq!(container.reinsert(id, first, priority), None);
        assert_eq!(container.pop_best().map(|(_, _, t)| t), Some("first"));
    }

    proptest! {
        /// The container always holds the `capacity` best transactions seen (by priority,
        /// then arrival), and pops them in that order.
        #[test]
        fn keeps_the_best_and_pops_in_order(
            priorities in prop::collection::vec(0u64..20, 0..60),
            capacity in 1usize..10,
        ) {
            let mut container = TransactionContainer::with_capacity(capacity);
            for (arrival, priority) in priorities.iter().enumerate() {
                container.insert(arrival, *priority);
            }
            let mut expected: Vec<(u64, usize)> =
                priorities.iter().enumerate().map(|(a, p)| (*p, a)).collect();
            expected.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
            expected.truncate(capacity);
            let popped: Vec<(u64, usize)> =
                std::iter::from_fn(|| container.pop_best().map(|(_, p, a)| (p, a))).collect();
            prop_assert_eq!(popped, expected);
        }
    }
}
