//! `StatusCache`: which transaction signatures were already committed, so that none runs
//! twice.

use std::collections::BTreeMap;

use ahash::AHashSet;

use sdk_lite::{MAX_PROCESSING_AGE, Signature};

/// The signatures committed while the blockhashes they could name are still accepted.
///
/// A signature must be remembered exactly as long as a copy of its transaction could
/// still pass the age check: after that the copy is refused by its age (and a
/// durable-nonce transaction cannot repeat, because its nonce advanced). Age is the
/// [`BlockhashQueue`](crate::BlockhashQueue)'s clock (`registered`, one tick per bank),
/// not the slot: with slots as the clock, a chain that skipped slots would forget a
/// signature while its blockhash was still accepted, and the same transaction would run
/// again.
///
/// A transaction committed when the clock read `r` named a blockhash registered at `r` or
/// before, which the queue keeps until the clock reads `r + MAX_PROCESSING_AGE`; so its
/// signature is kept until then.
#[derive(Debug, Clone, Default)]
pub struct StatusCache {
    committed: AHashSet<Signature>,
    /// The same signatures by the clock reading they were committed at, so that pruning
    /// touches only what it forgets.
    by_age: BTreeMap<u64, Vec<Signature>>,
}

impl StatusCache {
    /// Whether `signature` was committed.
    pub fn contains(&self, signature: &Signature) -> bool {
        self.committed.contains(signature)
    }

    /// Records `signature` as committed by a bank whose blockhash queue's clock
    /// ([`BlockhashQueue::registered`](crate::BlockhashQueue::registered)) reads
    /// `registered`.
    pub fn insert(&mut self, signature: Signature, registered: u64) {
        if self.committed.insert(signature) {
            self.by_age.entry(registered).or_default().push(signature);
        }
    }

    /// Forgets the signatures no transaction can repeat once the clock reads
    /// `registered`: those committed at `registered - MAX_PROCESSING_AGE` or before.
    pub fn prune(&mut self, registered: u64) {
        let oldest_kept = (registered + 1).saturating_sub(MAX_PROCESSING_AGE as u64);
        let kept = self.by_age.split_off(&oldest_kept);
        for signature in std::mem::replace(&mut self.by_age, kept)
            .into_values()
            .flatten()
        {
            self.committed.remove(&signature);
        }
    }

    /// Forgets the signatures recorded at `registered` (a discarded bank's: on one chain,
    /// no other bank commits at its clock reading).
    pub fn forget(&mut self, registered: u64) {
        for signature in self.by_age.remove(&registered).into_iter().flatten() {
            self.committed.remove(&signature);
        }
    }

    /// How many signatures are remembered.
    pub fn len(&self) -> usize {
        self.committed.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.committed.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use sdk_lite::Hash;

    use super::*;
    use crate::BlockhashQueue;

    #[test]
    fn remembers_and_prunes_by_age() {
        let mut cache = StatusCache::default();
        let (old, new) = (Signature::new_unique(), Signature::new_unique());
        cache.insert(old, 1);
        cache.insert(new, 200);
        assert!(cache.contains(&old) && cache.contains(&new));
        cache.prune(200);
        assert!(!cache.contains(&old));
        assert!(cache.contains(&new));
        assert_eq!(cache.len(), 1);
    }

    /// The cache's promise, against the queue itself: a signature is remembered for as
    /// long as the newest blockhash its bank could have offered is accepted, and forgotten
    /// on the first registration after which none is.
    #[test]
    fn keeps_a_signature_exactly_while_its_blockhash_is_accepted() {
        let mut queue = BlockhashQueue::default();
        let mut cache = StatusCache::default();
        for _ in 0..10 {
            queue.register(Hash::new_unique());
        }
        let newest = *queue.last().expect("registered above");
        let signature = Signature::new_unique();
        cache.insert(signature, queue.registered());
        loop {
            queue.register(Hash::new_unique());
            cache.prune(queue.registered());
            assert_eq!(
                cache.contains(&signature),
                queue.contains(&newest),
                "after {} registrations",
                queue.registered()
            );
            if !queue.contains(&newest) {
                break;
            }
        }
        assert!(cache.is_empty());
    }

    #[test]
    fn a_signature_committed_twice_is_remembered_once() {
        let mut cache = StatusCache::default();
        let signature = Signature::new_unique();
        cache.insert(signature, 3);
        cache.insert(signature, 4);
        assert_eq!(cache.len(), 1);
        cache.prune(3 + MAX_PROCESSING_AGE as u64);
        assert!(cache.is_empty());
    }
}
