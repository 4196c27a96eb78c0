//! Integration tests of `accounts-db-lite`: one binary, one module per area.
//!
//! * `account_locks`: `AccountLocks` scenarios: the conflict matrix, partial unlocks,
//!   batches (conflicts inside a batch, conflicts with earlier locks, errors passed in) and
//!   the panics of unlocking what is not held.
//! * `locks_model`: property tests of `AccountLocks` against a naive count model.
//! * `validate`: `validate_account_locks` at the limit, error precedence, duplicates on
//!   both sides of `DUPLICATE_CHECK_HASH_SET_THRESHOLD`, and the two duplicate finders
//!   against each other and a naive model.
//! * `store`: `AccountsDb` scenarios: genesis, round trips, deletion, slot order, keys
//!   listed twice in a batch, order independence and sensitivity of the state hash.
//! * `store_model`: property tests of `AccountsDb` against a `BTreeMap` model, with the
//!   incremental hash held to `recompute_lt_hash` after every commit.
//! * `concurrency`: threads: readers never see a torn account while writers commit, and
//!   the pipeline's lock-load-store-unlock protocol conserves lamports.

mod account_locks;
mod concurrency;
mod locks_model;
mod store;
mod store_model;
mod validate;

use sdk_lite::{AccountSharedData, Pubkey, ReadableAccount, WritableAccount};

/// A deterministic key: `n` big-endian in the first 8 bytes and `0xad` in the last byte,
/// so it never equals a `Pubkey::new_unique()` key or the all-zero system program.
fn key(n: u64) -> Pubkey {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&n.to_be_bytes());
    bytes[31] = 0xad;
    Pubkey::new_from_array(bytes)
}

/// A transaction's lock list as `try_lock_accounts` and `unlock_accounts` take it.
fn accounts(tx: &[(Pubkey, bool)]) -> impl Iterator<Item = (&Pubkey, bool)> + Clone {
    tx.iter().map(|(key, writable)| (key, *writable))
}

/// An account with every field given.
fn account(lamports: u64, data: &[u8], owner: Pubkey, executable: bool) -> AccountSharedData {
    let mut account = AccountSharedData::new_data(lamports, data.to_vec(), &owner);
    account.set_executable(executable);
    account
}

/// An account whose every field is derived from `lamports` (see [`assert_consistent`]),
/// so that a reader can tell a whole account from a mix of two. 0 lamports gives the
/// default account, which a store deletes.
fn consistent_account(lamports: u64) -> AccountSharedData {
    if lamports == 0 {
        return AccountSharedData::default();
    }
    let repeats = 1 + (lamports % 4) as usize;
    account(
        lamports,
        &lamports.to_le_bytes().repeat(repeats),
        key(lamports),
        lamports % 2 == 1,
    )
}

/// Panics unless `account` is exactly `consistent_account(account.lamports())`.
fn assert_consistent(account: &AccountSharedData) {
    let lamports = account.lamports();
    let expected = consistent_account(lamports);
    assert!(
        account.data() == expected.data()
            && account.owner() == expected.owner()
            && account.executable() == expected.executable(),
        "torn account: {account:?} (data {:?}), expected {expected:?}",
        account.data()
    );
}

/// SplitMix64: a small deterministic generator for the threads of the concurrency tests
/// (proptest drives the property tests).
#[derive(Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (`n > 0`; the slight bias is irrelevant here).
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Two different values in `0..n` (`n >= 2`).
    fn pair_below(&mut self, n: u64) -> (u64, u64) {
        let a = self.below(n);
        let b = (a + 1 + self.below(n - 1)) % n;
        (a, b)
    }
}
