//! `WrittenFilter`: which accounts some transaction of a block may write, so that the reads
//! of accounts no transaction writes skip the scheduler.
//!
//! Two transactions conflict only on an account that at least one of them writes. An
//! account that no transaction of the block writes (a program every transaction invokes,
//! a configuration account every transaction reads) orders nothing: a read of it needs no
//! usage queue, no lock and no unlock. A leader streaming transactions cannot know that,
//! but a replayer holds the whole block before its first task, so it can: for a
//! read-mostly block (each transaction writes its fee payer and its own account and reads
//! four shared accounts and two programs, the bench program and the compute-budget one)
//! that is six of its eight lock requests.
//!
//! The filter is a Bloom filter: two bits per key, both taken from one 64-bit hash, set
//! for every writable key of the block before the block's first task is created (one hash
//! and two stores per writable key: about 0.2 ms for a 12,000-transaction block, 0.3% of
//! its replay on two cores, where a set of the exact keys would cost a hash-map insert
//! each). It can answer "may be written" for an account nobody writes (both its bits set
//! by written keys: about one account in 70 at 32 bits per transaction and two writable
//! keys per transaction); that read is then scheduled as before, which is always correct.
//! It never answers "not written" for an account some transaction writes.
//!
//! The hash is salted per block (with the slot), so an unlucky collision (the program
//! every transaction invokes sharing its bits with some fee payer's) is unlikely to repeat
//! in the next block, while a block filters the same way on every replay.

use sdk_lite::Pubkey;

use crate::messages::BufferedTransaction;

/// Filter bits per transaction: with two writable keys per transaction, 16 bits per key,
/// so that with two bits per key about one key in 70 that nobody writes finds both its
/// bits set: (1 - e^(-2/16))^2.
const BITS_PER_TRANSACTION: usize = 32;

/// The smallest filter (one cache line's worth of words is not worth going below).
const MIN_BITS: usize = 512;

/// The largest filter, 2 MiB of bits: a block holds far fewer transactions than this
/// allows for (only the false-positive rate grows past it).
const MAX_BITS: usize = 1 << 24;

/// Which accounts some transaction of one block may write (see the module docs).
#[derive(Debug, Clone, Default)]
pub(super) struct WrittenFilter {
    words: Vec<u64>,
    /// log2 of the number of bits; 0 for an empty filter (before the first block).
    bits_log2: u32,
    /// The block's salt, mixed into every key's hash.
    salt: u64,
}

impl WrittenFilter {
    /// Makes the filter that of `transactions`' writable accounts, hashed with `salt` (the
    /// block's slot), reusing its memory.
    pub(super) fn rebuild(&mut self, transactions: &[BufferedTransaction], salt: u64) {
        let bits = transactions
            .len()
            .saturating_mul(BITS_PER_TRANSACTION)
            .next_power_of_two()
            .clamp(MIN_BITS, MAX_BITS);
        self.bits_log2 = bits.trailing_zeros();
        self.salt = salt;
        self.words.clear();
        self.words.resize(bits / 64, 0);
        for transaction in transactions {
            for (key, writable) in transaction.lock_requests() {
                if writable {
                    for bit in self.bits(key) {
                        self.words[bit / 64] |= 1 << (bit % 64);
                    }
                }
            }
        }
    }

    /// Whether some transaction of the block may write `key`: `false` only for an account
    /// none writes.
    pub(super) fn may_be_written(&self, key: &Pubkey) -> bool {
        if self.words.is_empty() {
            return true;
        }
        self.bits(key)
            .iter()
            .all(|&bit| self.words[bit / 64] & (1 << (bit % 64)) != 0)
    }

    /// The key's two bits. Starting from the salt, each of the key's four 8-byte words is
    /// folded in by xor, an odd multiply and a rotation (each step a bijection of the
    /// running value and of the word, so keys that differ in one word never fold alike,
    /// and which keys do fold alike depends on the salt), then the result is mixed by
    /// MurmurHash3's 64-bit finalizer (so that it reaches every bit); the first bit is
    /// the top `bits_log2` bits of the result, the second the next `bits_log2` (for
    /// filters of up to 2^24 bits, 48 of the 64). A couple of dozen instructions: the
    /// filter hashes every writable key of the block and every read the block's tasks
    /// request. Keys chosen to collide only cost the filter its use, never the replay its
    /// correctness.
    fn bits(&self, key: &Pubkey) -> [usize; 2] {
        const ODD: u64 = 0x9E37_79B9_7F4A_7C15;
        let bytes = key.as_array();
        let mut folded = self.salt;
        for word in bytes.chunks_exact(8) {
            let word = u64::from_le_bytes(
                word.try_into()
                    .expect("invariant: chunks_exact(8) yields 8 bytes"),
            );
            folded = (folded ^ word).wrapping_mul(ODD).rotate_left(29);
        }
        let mut hash = folded;
        hash ^= hash >> 33;
        hash = hash.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
        hash ^= hash >> 33;
        hash = hash.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
        hash ^= hash >> 33;
        // `bits_log2` is 9 to 24 here (`MIN_BITS`, `MAX_BITS`): both shifts are below 64.
        let mask = (1u64 << self.bits_log2) - 1;
        [
            (hash >> (64 - self.bits_log2)) as usize,
            ((hash >> (64 - 2 * self.bits_log2)) & mask) as usize,
        ]
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::sync::Arc;

    use proptest::prelude::*;
    use sdk_lite::{AccountMeta, Hash, Instruction, Message, SanitizedTransaction, Transaction};

    /// A transaction paid by `payer` whose one instruction writes `writes` and reads
    /// `reads` (a key in both is written).
    pub(in crate::block_replayer) fn transaction(
        payer: Pubkey,
        writes: &[Pubkey],
        reads: &[Pubkey],
    ) -> BufferedTransaction {
        let accounts = writes
            .iter()
            .map(|&key| AccountMeta::new(key, false))
            .chain(
                reads
                    .iter()
                    .map(|&key| AccountMeta::new_readonly(key, false)),
            )
            .collect();
        let instruction = Instruction::new_with_bytes(Pubkey::new_unique(), &[], accounts);
        let message = Message::new(&[instruction], Some(&payer), Hash::default());
        Arc::new(
            SanitizedTransaction::try_new(Transaction::new_with_placeholder_signatures(message))
                .expect("invariant: a well-formed test transaction"),
        )
    }

    fn key(byte: u8, at: usize) -> Pubkey {
        let mut bytes = [0u8; 32];
        bytes[at] = byte;
        Pubkey::new_from_array(bytes)
    }

    #[test]
    fn an_empty_filter_says_every_account_may_be_written() {
        assert!(WrittenFilter::default().may_be_written(&Pubkey::new_unique()));
    }

    /// A key made of `kind` and `index` (fixed, unlike `Pubkey::new_unique`'s counter,
    /// whose values depend on the order tests run in).
    fn numbered(kind: u8, index: u64) -> Pubkey {
        let mut bytes = [kind; 32];
        bytes[8..16].copy_from_slice(&index.to_le_bytes());
        Pubkey::new_from_array(bytes)
    }

    #[test]
    fn accounts_only_read_are_told_apart_from_accounts_written() {
        let payers: Vec<Pubkey> = (0..200).map(|i| numbered(1, i)).collect();
        let written: Vec<Pubkey> = (0..200).map(|i| numbered(2, i)).collect();
        let shared: Vec<Pubkey> = (0..16).map(|i| numbered(3, i)).collect();
        let block: Vec<BufferedTransaction> = (0..200)
            .map(|i| transaction(payers[i], &[written[i]], &shared[i % 13..i % 13 + 4]))
            .collect();
        let mut filter = WrittenFilter::default();
        filter.rebuild(&block, 1);
        for key in payers.iter().chain(&written) {
            assert!(filter.may_be_written(key), "{key} is written");
        }
        // About one false positive in 70 is expected: 15 of 16 leaves a margin.
        let read_only = shared
            .iter()
            .filter(|key| !filter.may_be_written(key))
            .count();
        assert!(
            read_only >= 15,
            "{read_only} of 16 read-only accounts told apart"
        );
        // Rebuilt for a block that writes the shared accounts: they are written now.
        let block: Vec<BufferedTransaction> = shared
            .iter()
            .map(|&key| transaction(numbered(4, 0), &[key], &[]))
            .collect();
        filter.rebuild(&block, 2);
        for key in &shared {
            assert!(
                filter.may_be_written(key),
                "{key} is written by the new block"
            );
        }
    }

    #[test]
    fn keys_that_differ_in_any_one_byte_get_different_bits() {
        // Keys that differ only in one byte (here: the same byte at each position) must
        // not all share their bits, or a block of such keys would filter nothing; and a
        // key's second bit must not follow from its first.
        let mut filter = WrittenFilter::default();
        filter.rebuild(&[transaction(key(1, 0), &[], &[])], 0);
        for at in 0..32 {
            for which in 0..2 {
                let bits: std::collections::HashSet<usize> = (1..=64)
                    .map(|byte| filter.bits(&key(byte, at))[which])
                    .collect();
                assert!(bits.len() >= 50, "byte {at}, bit {which}: {}", bits.len());
            }
            let pairs: std::collections::HashSet<[usize; 2]> =
                (1..=64).map(|byte| filter.bits(&key(byte, at))).collect();
            assert_eq!(pairs.len(), 64, "byte {at}: the pairs differ");
        }
    }

    #[test]
    fn the_salt_changes_a_keys_bits() {
        let key = key(7, 3);
        let mut filter = WrittenFilter::default();
        filter.rebuild(&[transaction(key, &[], &[])], 0);
        let unsalted = filter.bits(&key);
        filter.rebuild(&[transaction(key, &[], &[])], 1);
        assert_ne!(filter.bits(&key), unsalted);
    }

    proptest! {
        /// No false negatives: every writable account of the block may be written,
        /// whatever the keys.
        #[test]
        fn every_written_account_may_be_written(
            keys in prop::collection::vec(any::<[u8; 32]>(), 1..40),
            shape in prop::collection::vec((any::<prop::sample::Index>(), any::<bool>()), 1..120),
            salt in any::<u64>(),
        ) {
            let keys: Vec<Pubkey> = keys.into_iter().map(Pubkey::new_from_array).collect();
            // Transactions of up to four (payer, write, read, read) keys from the pool.
            let block: Vec<BufferedTransaction> = shape
                .chunks(4)
                .map(|chunk| {
                    let pick = |i: usize| keys[chunk[i % chunk.len()].0.index(keys.len())];
                    let payer = pick(0);
                    let writes: Vec<Pubkey> = (1..chunk.len())
                        .filter(|&i| chunk[i].1)
                        .map(pick)
                        .collect();
                    let reads: Vec<Pubkey> = (1..chunk.len())
                        .filter(|&i| !chunk[i].1)
                        .map(pick)
                        .collect();
                    transaction(payer, &writes, &reads)
                })
                .collect();
            let mut filter = WrittenFilter::default();
            filter.rebuild(&block, salt);
            for transaction in &block {
                for (key, writable) in transaction.lock_requests() {
                    if writable {
                        prop_assert!(filter.may_be_written(key));
                    }
                }
            }
        }
    }
}
