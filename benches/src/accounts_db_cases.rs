//! The `accounts-db-lite` benchmark inputs: random-looking keys from a fixed seed, lock
//! batches shaped like Solana transactions, and genesis account lists.
//!
//! Keys are pseudo-random 32-byte strings (not counters), as real public keys are: a
//! duplicate check that compares keys, or a hash map that hashes them, then sees realistic
//! bytes. Every input is deterministic, so two runs time the same work.

use sdk_lite::{AccountSharedData, Pubkey};

/// A small deterministic generator (SplitMix64): enough to spread keys and pick indices,
/// without a `rand` dependency.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub const fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 pseudo-random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A pseudo-random index below `bound` (`bound > 0`; the slight modulo bias does not
    /// matter for picking benchmark inputs).
    pub fn below(&mut self, bound: usize) -> usize {
        (self.next_u64() % bound as u64) as usize
    }

    /// A key of 32 pseudo-random bytes.
    pub fn key(&mut self) -> Pubkey {
        let mut bytes = [0u8; 32];
        for chunk in bytes.chunks_exact_mut(8) {
            chunk.copy_from_slice(&self.next_u64().to_le_bytes());
        }
        Pubkey::new_from_array(bytes)
    }

    /// `n` distinct keys.
    pub fn distinct_keys(&mut self, n: usize) -> Vec<Pubkey> {
        let mut keys: Vec<Pubkey> = (0..n).map(|_| self.key()).collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        sorted.dedup();
        // 256 random bits per key: a collision would mean a broken generator.
        assert_eq!(sorted.len(), n, "random keys collided");
        keys.shrink_to_fit();
        keys
    }
}

/// The shape of the transactions of a lock batch.
#[derive(Debug, Clone, Copy)]
pub struct LockBatchShape {
    /// Transactions in the batch.
    pub transactions: usize,
    /// Writable accounts per transaction, fresh for each transaction (no two transactions
    /// of the batch write the same account, so every lock succeeds).
    pub writable: usize,
    /// Read-only accounts per transaction.
    pub readonly: usize,
    /// How many of the read-only accounts are the same for every transaction of the batch
    /// (programs, sysvars, a popular oracle); the others are fresh per transaction.
    pub shared_readonly: usize,
}

/// A lock batch: one `(key, is_writable)` list per transaction, writable keys first (the
/// order of a Solana message).
pub fn lock_batch(shape: LockBatchShape, rng: &mut SplitMix64) -> Vec<Vec<(Pubkey, bool)>> {
    assert!(shape.shared_readonly <= shape.readonly);
    let shared = rng.distinct_keys(shape.shared_readonly);
    let fresh_per_transaction = shape.writable + shape.readonly - shape.shared_readonly;
    let fresh = rng.distinct_keys(shape.transactions * fresh_per_transaction);
    fresh
        .chunks_exact(fresh_per_transaction)
        .map(|fresh| {
            let (writable, fresh_readonly) = fresh.split_at(shape.writable);
            writable
                .iter()
                .map(|key| (*key, true))
                .chain(shared.iter().map(|key| (*key, false)))
                .chain(fresh_readonly.iter().map(|key| (*key, false)))
                .collect()
        })
        .collect()
}

/// `n` accounts under distinct random keys, each with 1 lamport or more and `data_len`
/// bytes of data, owned by one program.
pub fn genesis_accounts(
    n: usize,
    data_len: usize,
    rng: &mut SplitMix64,
) -> Vec<(Pubkey, AccountSharedData)> {
    let owner = rng.key();
    rng.distinct_keys(n)
        .into_iter()
        .zip(1u64..)
        .map(|(key, lamports)| {
            let data = (0..data_len).map(|i| (i as u64 ^ lamports) as u8).collect();
            (key, AccountSharedData::new_data(lamports, data, &owner))
        })
        .collect()
}
