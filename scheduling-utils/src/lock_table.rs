//! `LockTable`: the open-addressing hash table behind `ThreadAwareAccountLocks`.
//!
//! Why not `hashbrown`: every lock of a fresh account is an insert and every last unlock a
//! removal, so the table's insert and remove are the scheduler's hot path. In a throwaway
//! measurement made while designing it (10 32-byte keys inserted, then removed, ahash, one
//! process), `hashbrown::HashTable` took about 270 ns and this table about 165 ns; the
//! lock table's own numbers are in `benches/agave-compare`. At a load factor of at most one
//! half, linear probing
//! over one array of slots (an 8-byte hash tag next to each entry) almost always finds its
//! slot in the first one or two,
//! and removal by backward shifting leaves no tombstones to clean up later.
//!
//! Layout: one array of slots; a slot's `tag` is 0 when it is empty, otherwise the key's
//! hash with its lowest bit forced to 1 (so it is never 0), next to the entry itself. A key's *home* slot comes
//! from the top bits of its tag times an odd constant, so a weak user hasher whose low
//! bits do not vary still spreads keys over the table.
//!
//! Index stability, which `ThreadAwareAccountLocks` relies on: an insert never moves
//! another entry, and neither does growth that was reserved beforehand. Only
//! [`LockTable::remove`] (backward shift) and growth move entries.

/// The most occupied slots per slot: one half. Linear probing stays short below that.
const MAX_LOAD_NUMERATOR: usize = 1;
const MAX_LOAD_DENOMINATOR: usize = 2;
const MIN_SLOTS: usize = 16;

/// Where a key is, or where it would be inserted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Probe {
    /// The key is in this slot.
    Occupied(usize),
    /// The key is absent; this empty slot is where it belongs.
    Vacant(usize),
}

#[derive(Debug, Clone)]
struct Slot<V> {
    /// 0: empty. Otherwise the entry's hash with the lowest bit set.
    tag: u64,
    value: Option<V>,
}

#[derive(Debug, Clone)]
pub(crate) struct LockTable<V> {
    slots: Box<[Slot<V>]>,
    /// `slots.len() - 1`; the length is a power of two.
    mask: usize,
    /// `64 - log2(slots.len())`: shift that turns a mixed tag into a home slot.
    shift: u32,
    len: usize,
}

impl<V> LockTable<V> {
    pub(crate) fn new() -> Self {
        Self::with_slots(MIN_SLOTS)
    }

    fn with_slots(num_slots: usize) -> Self {
        debug_assert!(num_slots.is_power_of_two() && num_slots >= MIN_SLOTS);
        Self {
            slots: std::iter::repeat_with(|| Slot {
                tag: 0,
                value: None,
            })
            .take(num_slots)
            .collect(),
            mask: num_slots - 1,
            shift: u64::BITS - num_slots.trailing_zeros(),
            len: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline(always)]
    fn tag(hash: u64) -> u64 {
        hash | 1
    }

    #[inline(always)]
    fn home(&self, tag: u64) -> usize {
        // Fibonacci hashing: the top bits of the product depend on every bit of the tag.
        (tag.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// Makes room for `additional` more entries without growing, growing now if needed.
    /// Growing moves entries: indices obtained before this call are invalid after it.
    #[inline(always)]
    pub(crate) fn reserve(&mut self, additional: usize) {
        let needed = self.len.saturating_add(additional);
        if needed.saturating_mul(MAX_LOAD_DENOMINATOR)
            > self.slots.len().saturating_mul(MAX_LOAD_NUMERATOR)
        {
            self.grow(needed);
        }
    }

    #[cold]
    fn grow(&mut self, needed: usize) {
        let num_slots = needed
            .saturating_mul(MAX_LOAD_DENOMINATOR)
            .div_ceil(MAX_LOAD_NUMERATOR)
            .max(MIN_SLOTS)
            .checked_next_power_of_two()
            .expect("invariant: the lock table's size fits in usize");
        let old = std::mem::replace(self, Self::with_slots(num_slots));
        for Slot { tag, value } in old.slots {
            if value.is_some() {
                let mut slot = self.home(tag);
                while self.slots[slot].tag != 0 {
                    slot = (slot + 1) & self.mask;
                }
                self.slots[slot] = Slot { tag, value };
                self.len += 1;
            }
        }
    }

    /// Finds the key with this `hash` for which `eq` holds, or the slot where it belongs.
    #[inline(always)]
    pub(crate) fn probe(&self, hash: u64, mut eq: impl FnMut(&V) -> bool) -> Probe {
        debug_assert!(
            self.len < self.slots.len(),
            "invariant: an empty slot ends every probe"
        );
        let tag = Self::tag(hash);
        let mut index = self.home(tag);
        loop {
            let slot = &self.slots[index];
            if slot.tag == 0 {
                return Probe::Vacant(index);
            }
            if slot.tag == tag
                && let Some(value) = &slot.value
                && eq(value)
            {
                return Probe::Occupied(index);
            }
            index = (index + 1) & self.mask;
        }
    }

    /// The entry for the key with this `hash` for which `eq` holds.
    #[inline(always)]
    pub(crate) fn find(&self, hash: u64, eq: impl FnMut(&V) -> bool) -> Option<&V> {
        match self.probe(hash, eq) {
            Probe::Occupied(index) => self.slots[index].value.as_ref(),
            Probe::Vacant(_) => None,
        }
    }

    /// Whether `index` is an empty slot.
    #[inline(always)]
    pub(crate) fn is_vacant(&self, index: usize) -> bool {
        self.slots[index].tag == 0
    }

    /// Puts `value` into slot `index`, which a [`Probe::Vacant`] for `hash` returned with
    /// no removal from the table since (inserts are fine: a slot they filled is no longer
    /// vacant, and the caller probes again). Requires room (see
    /// [`reserve`](Self::reserve)).
    #[inline(always)]
    pub(crate) fn insert_vacant(&mut self, index: usize, hash: u64, value: V) {
        let slot = &mut self.slots[index];
        debug_assert_eq!(slot.tag, 0, "invariant: insert only into a vacant slot");
        *slot = Slot {
            tag: Self::tag(hash),
            value: Some(value),
        };
        self.len += 1;
        // Keep an empty slot to end every probe even if the caller skipped `reserve`.
        if self.len * MAX_LOAD_DENOMINATOR > self.slots.len() * MAX_LOAD_NUMERATOR {
            self.grow(self.len);
        }
    }

    /// The entry in occupied slot `index`.
    ///
    /// # Panics
    /// If the slot is empty: the caller's index is stale.
    #[inline(always)]
    pub(crate) fn get(&self, index: usize) -> &V {
        self.slots[index]
            .value
            .as_ref()
            .expect("invariant: a recorded slot is still occupied")
    }

    /// The entry in occupied slot `index`, mutably.
    ///
    /// # Panics
    /// If the slot is empty: the caller's index is stale.
    #[inline(always)]
    pub(crate) fn get_mut(&mut self, index: usize) -> &mut V {
        self.slots[index]
            .value
            .as_mut()
            .expect("invariant: a recorded slot is still occupied")
    }

    /// Removes the entry in occupied slot `hole`, shifting later entries of its probe run back
    /// so that no tombstone is left. Moves entries: other indices are invalid afterwards.
    #[inline(always)]
    pub(crate) fn remove(&mut self, mut hole: usize) -> V {
        let removed = self.slots[hole]
            .value
            .take()
            .expect("invariant: remove only an occupied slot");
        self.len -= 1;
        let mut next = hole;
        loop {
            next = (next + 1) & self.mask;
            let tag = self.slots[next].tag;
            if tag == 0 {
                break;
            }
            // The entry at `next` may fill the hole unless its home lies strictly after the
            // hole (cyclically), in `(hole, next]`: then it would end up before its home.
            let from_home = next.wrapping_sub(self.home(tag)) & self.mask;
            let from_hole = next.wrapping_sub(hole) & self.mask;
            if from_home >= from_hole {
                let value = self.slots[next].value.take();
                self.slots[hole] = Slot { tag, value };
                hole = next;
            }
        }
        self.slots[hole].tag = 0;
        removed
    }

    /// Checks the table's structure and panics, naming the broken invariant: `len` counts
    /// the occupied slots, tags and values agree, and every entry is reachable from its home
    /// slot without crossing an empty one. O(slots × probe length); for tests.
    pub(crate) fn assert_consistent(&self) {
        let mut occupied = 0;
        for (index, slot) in self.slots.iter().enumerate() {
            assert_eq!(
                slot.tag == 0,
                slot.value.is_none(),
                "invariant: a slot has a tag exactly when it has a value"
            );
            if slot.tag == 0 {
                continue;
            }
            occupied += 1;
            let mut at = self.home(slot.tag);
            while at != index {
                assert_ne!(
                    self.slots[at].tag, 0,
                    "invariant: no empty slot between an entry's home and the entry"
                );
                at = (at + 1) & self.mask;
            }
        }
        assert_eq!(
            occupied, self.len,
            "invariant: len counts the occupied slots"
        );
        assert!(
            self.len * MAX_LOAD_DENOMINATOR <= self.slots.len() * MAX_LOAD_NUMERATOR,
            "invariant: the load factor stays at most one half"
        );
    }

    /// Every entry, in slot order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &V> {
        self.slots.iter().filter_map(|slot| slot.value.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    /// Applies `ops` (key, insert-or-remove) to the table and to a `HashMap`, hashing with
    /// `hash`, and checks that they agree after every step.
    fn check_against_map(ops: &[(u16, bool)], hash: impl Fn(u16) -> u64) {
        let mut table = LockTable::<(u16, u32)>::new();
        let mut model = HashMap::<u16, u32>::new();
        for (step, &(key, insert)) in ops.iter().enumerate() {
            let h = hash(key);
            if insert {
                table.reserve(1);
                match table.probe(h, |(k, _)| *k == key) {
                    Probe::Occupied(slot) => table.get_mut(slot).1 += 1,
                    Probe::Vacant(slot) => table.insert_vacant(slot, h, (key, 1)),
                }
                *model.entry(key).or_default() += 1;
            } else {
                match table.probe(h, |(k, _)| *k == key) {
                    Probe::Occupied(slot) => {
                        assert_eq!(table.remove(slot), (key, model.remove(&key).unwrap()));
                    }
                    Probe::Vacant(_) => assert!(!model.contains_key(&key), "step {step}"),
                }
            }
            assert_eq!(table.len(), model.len(), "step {step}");
            for (&k, &v) in &model {
                assert_eq!(
                    table.find(hash(k), |(x, _)| *x == k),
                    Some(&(k, v)),
                    "step {step}"
                );
            }
            assert_eq!(table.iter().count(), model.len());
            table.assert_consistent();
        }
    }

    proptest! {
        #[test]
        fn agrees_with_a_hash_map(ops in prop::collection::vec((0u16..64, any::<bool>()), 0..400)) {
            check_against_map(&ops, |k| u64::from(k).wrapping_mul(0xff51_afd7_ed55_8ccd));
        }

        /// Few distinct hashes: long probe runs that wrap around the end of the array, so
        /// backward shifting is exercised across the wrap.
        #[test]
        fn agrees_with_a_hash_map_under_collisions(
            ops in prop::collection::vec((0u16..40, any::<bool>()), 0..400)
        ) {
            check_against_map(&ops, |k| u64::from(k % 3));
        }
    }

    #[test]
    fn grows_and_keeps_every_entry() {
        let mut table = LockTable::<u64>::new();
        for key in 0..10_000u64 {
            table.reserve(1);
            let Probe::Vacant(slot) = table.probe(key, |v| *v == key) else {
                panic!("{key} inserted twice");
            };
            table.insert_vacant(slot, key, key);
        }
        assert_eq!(table.len(), 10_000);
        assert!(table.slots.len() >= 20_000);
        for key in 0..10_000u64 {
            assert_eq!(table.find(key, |v| *v == key), Some(&key));
        }
    }

    #[test]
    fn insert_does_not_move_other_entries() {
        let mut table = LockTable::<u64>::new();
        table.reserve(7);
        let mut slots = Vec::new();
        for key in 0..7u64 {
            let Probe::Vacant(slot) = table.probe(key % 2, |v| *v == key) else {
                panic!("absent");
            };
            table.insert_vacant(slot, key % 2, key);
            slots.push(slot);
        }
        for (key, slot) in slots.into_iter().enumerate() {
            assert_eq!(*table.get_mut(slot), key as u64);
        }
    }
}
