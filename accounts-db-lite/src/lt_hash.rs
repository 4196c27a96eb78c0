//! `LtHash`: the lattice hash of a set of accounts, order-independent and updatable one
//! account at a time.

use sdk_lite::{AccountSharedData, Hash, Pubkey, ReadableAccount};

/// Lanes in a lattice hash: 1024 `u16`s, 2 KiB (Agave's size).
pub const LT_HASH_LANES: usize = 1024;

/// A lattice hash: a vector of `u16` lanes, combined lane-wise with wrapping addition.
///
/// Each account maps to a pseudo-random vector (blake3's extendable output over the
/// account's fields); the hash of a set of accounts is the lane-wise sum of their vectors.
/// Addition is commutative and invertible, so the set's hash does not depend on the order
/// accounts were added, and replacing an account costs one subtraction and one addition,
/// not a pass over every account. Finding a different set with the same sum is the
/// short-integer-solution problem on a lattice of this dimension, believed hard (this is
/// the construction behind Agave's accounts lattice hash).
///
/// An account with 0 lamports is absent: its vector is the identity (all zeros).
#[derive(Clone, PartialEq, Eq)]
pub struct LtHash(pub [u16; LT_HASH_LANES]);

impl LtHash {
    /// The hash of the empty set.
    pub const fn identity() -> Self {
        Self([0; LT_HASH_LANES])
    }

    /// The vector of one account stored under `pubkey` (the identity if it has 0
    /// lamports). Hashes, in order: lamports, data length and data, executable, owner,
    /// pubkey; each field has a fixed size or a length prefix, so no two accounts share an
    /// input.
    pub fn of_account(pubkey: &Pubkey, account: &AccountSharedData) -> Self {
        if account.lamports() == 0 {
            return Self::identity();
        }
        let mut hasher = blake3::Hasher::new();
        hasher.update(&account.lamports().to_le_bytes());
        hasher.update(&(account.data().len() as u64).to_le_bytes());
        hasher.update(account.data());
        hasher.update(&[u8::from(account.executable())]);
        hasher.update(account.owner().as_ref());
        hasher.update(pubkey.as_ref());
        let mut bytes = [0u8; LT_HASH_LANES * 2];
        hasher.finalize_xof().fill(&mut bytes);
        let mut lanes = [0u16; LT_HASH_LANES];
        for (lane, pair) in lanes.iter_mut().zip(bytes.chunks_exact(2)) {
            *lane = u16::from_le_bytes([pair[0], pair[1]]);
        }
        Self(lanes)
    }

    /// Adds `other` into `self` (set union with a disjoint set).
    pub fn mix_in(&mut self, other: &Self) {
        for (lane, add) in self.0.iter_mut().zip(other.0.iter()) {
            *lane = lane.wrapping_add(*add);
        }
    }

    /// Takes `other` out of `self` (removes a member).
    pub fn mix_out(&mut self, other: &Self) {
        for (lane, sub) in self.0.iter_mut().zip(other.0.iter()) {
            *lane = lane.wrapping_sub(*sub);
        }
    }

    /// A 32-byte digest of the lanes (blake3 of their little-endian bytes): the state hash
    /// a bank hash commits to.
    pub fn checksum(&self) -> Hash {
        let mut bytes = [0u8; LT_HASH_LANES * 2];
        for (pair, lane) in bytes.chunks_exact_mut(2).zip(&self.0) {
            pair.copy_from_slice(&lane.to_le_bytes());
        }
        Hash::new_from_array(*blake3::hash(&bytes).as_bytes())
    }
}

impl Default for LtHash {
    fn default() -> Self {
        Self::identity()
    }
}

/// Prints the checksum, not 1024 lanes.
impl std::fmt::Debug for LtHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LtHash(checksum {})", self.checksum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(lamports: u64, data: &[u8]) -> AccountSharedData {
        AccountSharedData::new_data(lamports, data.to_vec(), &Pubkey::new_unique())
    }

    #[test]
    fn mixing_in_and_out_is_an_inverse() {
        let key = Pubkey::new_unique();
        let a = LtHash::of_account(&key, &account(5, b"abc"));
        let mut sum = LtHash::identity();
        sum.mix_in(&a);
        assert_ne!(sum, LtHash::identity());
        sum.mix_out(&a);
        assert_eq!(sum, LtHash::identity());
    }

    #[test]
    fn order_does_not_matter() {
        let hashes: Vec<LtHash> = (0..5)
            .map(|i| LtHash::of_account(&Pubkey::new_unique(), &account(i + 1, &[i as u8])))
            .collect();
        let mut forward = LtHash::identity();
        hashes.iter().for_each(|h| forward.mix_in(h));
        let mut backward = LtHash::identity();
        hashes.iter().rev().for_each(|h| backward.mix_in(h));
        assert_eq!(forward.checksum(), backward.checksum());
    }

    #[test]
    fn zero_lamports_is_the_identity() {
        assert_eq!(
            LtHash::of_account(&Pubkey::new_unique(), &account(0, b"data")),
            LtHash::identity()
        );
    }

    #[test]
    fn every_field_changes_the_hash() {
        let key = Pubkey::new_unique();
        let owner = Pubkey::new_unique();
        let base = AccountSharedData::new_data(7, vec![1, 2], &owner);
        let h = LtHash::of_account(&key, &base);
        let mut lamports = base.clone();
        sdk_lite::WritableAccount::set_lamports(&mut lamports, 8);
        let mut data = base.clone();
        sdk_lite::WritableAccount::set_data_from_slice(&mut data, &[1, 3]);
        let mut executable = base.clone();
        sdk_lite::WritableAccount::set_executable(&mut executable, true);
        let mut owned = base.clone();
        sdk_lite::WritableAccount::set_owner(&mut owned, Pubkey::new_unique());
        for changed in [lamports, data, executable, owned] {
            assert_ne!(LtHash::of_account(&key, &changed), h);
        }
        assert_ne!(LtHash::of_account(&Pubkey::new_unique(), &base), h);
    }
}
