//! `BlockhashQueue`: the recent blockhashes a transaction may name.

use std::collections::VecDeque;

use sdk_lite::{Hash, MAX_PROCESSING_AGE};

/// The blockhashes of the last [`MAX_PROCESSING_AGE`] slots, newest last. A transaction
/// whose recent blockhash is here is young enough to run; any other must be a durable-nonce
/// transaction.
///
/// Age is counted in registrations (one per bank), not in slots: a chain that skips slots
/// keeps a blockhash for [`MAX_PROCESSING_AGE`] banks, however many slots they span.
/// [`registered`](Self::registered) is that clock, for what must be remembered exactly as
/// long as a blockhash is (the [`StatusCache`](crate::StatusCache)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockhashQueue {
    hashes: VecDeque<Hash>,
    registered: u64,
}

impl BlockhashQueue {
    /// Appends `blockhash`, forgetting the oldest beyond the age limit.
    pub fn register(&mut self, blockhash: Hash) {
        self.hashes.push_back(blockhash);
        self.registered += 1;
        while self.hashes.len() > MAX_PROCESSING_AGE {
            self.hashes.pop_front();
        }
    }

    /// How many blockhashes were ever registered: the queue's clock. A blockhash
    /// registered when this read `r` is in the queue until it reads
    /// `r + MAX_PROCESSING_AGE`.
    pub fn registered(&self) -> u64 {
        self.registered
    }

    /// Whether `blockhash` is recent enough.
    pub fn contains(&self, blockhash: &Hash) -> bool {
        self.hashes.contains(blockhash)
    }

    /// The newest blockhash, if any.
    pub fn last(&self) -> Option<&Hash> {
        self.hashes.back()
    }

    /// How many blockhashes are remembered.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Whether no blockhash is remembered.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_exactly_the_last_max_processing_age_hashes() {
        let mut queue = BlockhashQueue::default();
        let hashes: Vec<Hash> = (0..MAX_PROCESSING_AGE + 1)
            .map(|_| Hash::new_unique())
            .collect();
        for hash in &hashes {
            queue.register(*hash);
        }
        assert_eq!(queue.len(), MAX_PROCESSING_AGE);
        assert_eq!(queue.registered(), MAX_PROCESSING_AGE as u64 + 1);
        assert!(!queue.contains(&hashes[0]), "the oldest aged out");
        assert!(queue.contains(&hashes[1]));
        assert_eq!(queue.last(), hashes.last());
    }
}
