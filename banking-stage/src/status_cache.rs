//! `StatusCache`: which transaction signatures were already committed, so that none runs
//! twice.

use ahash::AHashMap;

use accounts_db_lite::Slot;
use sdk_lite::{MAX_PROCESSING_AGE, Signature};

/// The signatures committed in recent slots, with the slot of each.
///
/// Only recent ones matter: a transaction older than the blockhash age limit is refused by
/// its age, and a durable-nonce transaction cannot repeat because its nonce advanced. So
/// entries older than [`MAX_PROCESSING_AGE`] slots are pruned.
#[derive(Debug, Clone, Default)]
pub struct StatusCache {
    committed: AHashMap<Signature, Slot>,
}

impl StatusCache {
    /// Whether `signature` was committed.
    pub fn contains(&self, signature: &Signature) -> bool {
        self.committed.contains_key(signature)
    }

    /// Records `signature` as committed in `slot`.
    pub fn insert(&mut self, signature: Signature, slot: Slot) {
        self.committed.insert(signature, slot);
    }

    /// Forgets signatures committed more than `MAX_PROCESSING_AGE` slots before `slot`.
    pub fn prune(&mut self, slot: Slot) {
        let horizon = slot.saturating_sub(MAX_PROCESSING_AGE as Slot);
        self.committed.retain(|_, committed| *committed >= horizon);
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
    use super::*;

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
}
