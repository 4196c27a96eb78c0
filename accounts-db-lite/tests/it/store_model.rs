//! Property tests: `AccountsDb` against a `BTreeMap` model.
//!
//! A case is a genesis list and a random sequence of commits: keys from a small set (so
//! that commits overwrite, delete and re-create the same accounts, and batches list a key
//! twice), random lamports with 0 frequent, random data, owner and executable flag, and
//! slots that mostly advance but sometimes go back (refused, nothing stored). After every
//! commit the store's accounts equal the model's, and the incremental hash equals
//! `recompute_lt_hash()`. A second property replays the same final state through two
//! different histories and compares the state hashes.

use std::collections::BTreeMap;

use accounts_db_lite::{AccountsDb, Slot, StoreError};
use proptest::prelude::*;
use sdk_lite::{AccountSharedData, Pubkey};

use crate::{account, key};

/// Accounts are drawn from `0..NUM_KEYS`.
const NUM_KEYS: u64 = 6;

type Batch = Vec<(Pubkey, AccountSharedData)>;

fn any_account() -> impl Strategy<Value = AccountSharedData> {
    (
        prop_oneof![1 => Just(0u64), 3 => 1u64..4, 1 => any::<u64>()],
        prop::collection::vec(any::<u8>(), 0..=8),
        0u64..2,
        any::<bool>(),
    )
        .prop_map(|(lamports, data, owner, executable)| {
            account(lamports, &data, key(100 + owner), executable)
        })
}

fn entry() -> impl Strategy<Value = (Pubkey, AccountSharedData)> {
    ((0..NUM_KEYS).prop_map(key), any_account())
}

fn batch() -> impl Strategy<Value = Batch> {
    prop::collection::vec(entry(), 0..=5)
}

/// A commit: a slot step (usually forward, sometimes back) and its batch.
fn commit() -> impl Strategy<Value = (i8, Batch)> {
    (prop_oneof![6 => 0i8..=2, 1 => -2i8..=-1], batch())
}

type Model = BTreeMap<Pubkey, AccountSharedData>;

fn apply(model: &mut Model, batch: &Batch) {
    for (pubkey, account) in batch {
        if sdk_lite::ReadableAccount::lamports(account) == 0 {
            model.remove(pubkey);
        } else {
            model.insert(*pubkey, account.clone());
        }
    }
}

fn assert_matches(db: &AccountsDb, model: &Model, step: usize) {
    let expected: Batch = model.iter().map(|(k, a)| (*k, a.clone())).collect();
    assert_eq!(
        db.accounts_sorted(),
        expected,
        "accounts after commit {step}"
    );
    assert_eq!(db.len(), model.len());
    for n in 0..NUM_KEYS {
        assert_eq!(db.load(&key(n)).as_ref(), model.get(&key(n)), "key {n}");
    }
    assert_eq!(
        db.lt_hash(),
        db.recompute_lt_hash(),
        "incremental hash after commit {step}"
    );
}

fn genesis(entries: &Batch) -> (AccountsDb, Model) {
    // Genesis takes each key once.
    let mut unique: BTreeMap<Pubkey, AccountSharedData> = BTreeMap::new();
    for (pubkey, account) in entries {
        unique.entry(*pubkey).or_insert_with(|| account.clone());
    }
    let db = AccountsDb::new_with_genesis(unique.clone()).unwrap();
    let mut model = Model::new();
    apply(&mut model, &unique.into_iter().collect());
    (db, model)
}

/// Commits every batch to a fresh store (slot `i + 1` for batch `i`) and returns it.
fn replay(genesis_entries: &Batch, batches: &[Batch]) -> AccountsDb {
    let (db, _) = genesis(genesis_entries);
    for (i, batch) in batches.iter().enumerate() {
        db.store(i as Slot + 1, batch).unwrap();
    }
    db
}

/// The same final accounts as `batches` leave on `genesis_entries`, reached differently:
/// every touched key first gets a junk value (or is deleted), then the final values are
/// stored in reverse key order, one key per slot.
fn other_history(
    genesis_entries: &Batch,
    batches: &[Batch],
    junk: &AccountSharedData,
) -> AccountsDb {
    let (_, mut final_state) = genesis(genesis_entries);
    for batch in batches {
        apply(&mut final_state, batch);
    }
    let (db, genesis_state) = genesis(genesis_entries);
    let touched: Vec<Pubkey> = final_state
        .keys()
        .chain(genesis_state.keys())
        .copied()
        .collect();
    let scramble: Batch = touched.iter().map(|k| (*k, junk.clone())).collect();
    db.store(1, &scramble).unwrap();
    let mut slot = 1;
    for k in touched.iter().rev() {
        slot += 1;
        let value = final_state.get(k).cloned().unwrap_or_default();
        db.store(slot, &[(*k, value)]).unwrap();
    }
    db
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn incremental_hash_equals_the_recomputed_hash_after_every_commit(
        genesis_entries in prop::collection::vec(entry(), 0..=4),
        commits in prop::collection::vec(commit(), 0..=10),
    ) {
        let (db, mut model) = genesis(&genesis_entries);
        assert_matches(&db, &model, 0);
        let mut slot: Slot = 0;
        for (step, (slot_step, batch)) in commits.into_iter().enumerate() {
            match slot.checked_add_signed(i64::from(slot_step)) {
                Some(target) if target >= slot => {
                    prop_assert_eq!(db.store(target, &batch), Ok(()));
                    slot = target;
                    apply(&mut model, &batch);
                }
                Some(target) => {
                    prop_assert_eq!(
                        db.store(target, &batch),
                        Err(StoreError::SlotOutOfOrder { slot: target, last_committed: slot })
                    );
                }
                // Before slot 0: not a slot.
                None => {}
            }
            prop_assert_eq!(db.slot(), slot);
            assert_matches(&db, &model, step + 1);
        }
    }

    #[test]
    fn different_histories_of_the_same_final_state_have_the_same_state_hash(
        genesis_entries in prop::collection::vec(entry(), 0..=4),
        batches in prop::collection::vec(batch(), 0..=6),
        junk in any_account(),
    ) {
        let db = replay(&genesis_entries, &batches);
        let other = other_history(&genesis_entries, &batches, &junk);
        prop_assert_eq!(db.accounts_sorted(), other.accounts_sorted());
        prop_assert_eq!(db.state_hash(), other.state_hash());
        prop_assert_eq!(db.lt_hash(), db.recompute_lt_hash());
        prop_assert_eq!(other.lt_hash(), other.recompute_lt_hash());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Discarding the open slot (any number of batches, overwriting, deleting and
    /// re-creating accounts, listing keys twice) puts the store back as the slots before
    /// it left it: the same accounts, state hash and slot; the slots before it stay final
    /// (a second discard is refused), and the store takes the slot again afterwards.
    #[test]
    fn discarding_the_open_slot_restores_the_store_the_slots_before_left(
        genesis_entries in prop::collection::vec(entry(), 0..=4),
        before in prop::collection::vec(batch(), 0..=3),
        open in prop::collection::vec(batch(), 1..=3),
        commit_before in any::<bool>(),
        again in batch(),
    ) {
        let (db, mut model) = genesis(&genesis_entries);
        for (i, batch) in before.iter().enumerate() {
            db.store(i as Slot + 1, batch).unwrap();
            apply(&mut model, batch);
        }
        let last_before = before.len() as Slot;
        if commit_before {
            db.commit_slot(last_before).unwrap();
        }
        let (accounts, hash) = (db.accounts_sorted(), db.state_hash());
        let open_slot = last_before + 1;
        for batch in &open {
            db.store(open_slot, batch).unwrap();
        }
        prop_assert_eq!(db.discard_slot(open_slot), Ok(()));
        prop_assert_eq!(db.accounts_sorted(), accounts);
        prop_assert_eq!(db.state_hash(), hash);
        prop_assert_eq!(db.slot(), last_before);
        assert_matches(&db, &model, open.len());
        let refused = matches!(db.discard_slot(last_before), Err(StoreError::SlotFinal { .. }));
        prop_assert!(refused, "the slot before the discarded one is final");
        // The slot can be replayed with other contents, and those can be committed.
        db.store(open_slot, &again).unwrap();
        apply(&mut model, &again);
        db.commit_slot(open_slot).unwrap();
        assert_matches(&db, &model, open.len() + 1);
        let refused = matches!(db.discard_slot(open_slot), Err(StoreError::SlotFinal { .. }));
        prop_assert!(refused, "a committed slot is final");
    }
}
