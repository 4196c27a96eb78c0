//! `AccountsDb` scenarios: genesis, round trips, deletion by zero lamports, slot order, a
//! key listed twice in one batch, and the state hash: order independent, and moved by any
//! change to any account.

use accounts_db_lite::{AccountsDb, LtHash, StoreError};
use sdk_lite::{AccountSharedData, Hash, Pubkey, ReadableAccount, WritableAccount};

use crate::{account, key};

/// A commit's entries.
type Batch = Vec<(Pubkey, AccountSharedData)>;

fn owner() -> Pubkey {
    key(1_000_000)
}

/// A plain account: `lamports`, `data`, the common owner, not executable.
fn plain(lamports: u64, data: &[u8]) -> AccountSharedData {
    account(lamports, data, owner(), false)
}

/// The lattice hash of `accounts` summed by hand (the zero-lamport ones are the identity).
fn sum_of(accounts: &[(Pubkey, AccountSharedData)]) -> LtHash {
    let mut sum = LtHash::identity();
    for (pubkey, account) in accounts {
        sum.mix_in(&LtHash::of_account(pubkey, account));
    }
    sum
}

/// The incremental hash equals the reference, and the state hash is its checksum.
fn assert_hash_is_consistent(db: &AccountsDb) {
    let lt_hash = db.lt_hash();
    assert_eq!(lt_hash, db.recompute_lt_hash(), "incremental vs recomputed");
    assert_eq!(db.state_hash(), lt_hash.checksum());
}

fn genesis() -> AccountsDb {
    AccountsDb::new_with_genesis([
        (key(1), plain(10, b"one")),
        (key(2), plain(20, b"two")),
        (key(3), plain(30, b"")),
    ])
    .unwrap()
}

#[test]
fn genesis_leaves_out_zero_lamport_accounts() {
    let db = AccountsDb::new_with_genesis([
        (key(1), plain(10, b"one")),
        (key(2), plain(0, b"no lamports")),
        (key(3), plain(30, b"three")),
    ])
    .unwrap();
    assert_eq!(db.len(), 2);
    assert!(!db.is_empty());
    assert_eq!(db.slot(), 0);
    assert_eq!(db.load(&key(1)), Some(plain(10, b"one")));
    assert_eq!(db.load(&key(2)), None);
    assert_eq!(db.load(&key(3)), Some(plain(30, b"three")));
    assert_eq!(
        db.accounts_sorted(),
        [(key(1), plain(10, b"one")), (key(3), plain(30, b"three"))]
    );
    assert_eq!(
        db.lt_hash(),
        sum_of(&[(key(1), plain(10, b"one")), (key(3), plain(30, b"three"))])
    );
    assert_hash_is_consistent(&db);
}

#[test]
fn empty_genesis_has_the_identity_hash() {
    let db = AccountsDb::new_with_genesis([]).unwrap();
    assert!(db.is_empty());
    assert_eq!(db.len(), 0);
    assert_eq!(db.lt_hash(), LtHash::identity());
    assert_eq!(db.state_hash(), LtHash::identity().checksum());
    assert_hash_is_consistent(&db);
    // Only zero-lamport accounts: the same as empty.
    let zeros = AccountsDb::new_with_genesis([(key(1), plain(0, b"x"))]).unwrap();
    assert!(zeros.is_empty());
    assert_eq!(zeros.state_hash(), db.state_hash());
}

#[test]
fn genesis_listing_a_key_twice_is_refused() {
    let result = AccountsDb::new_with_genesis([
        (key(1), plain(10, b"")),
        (key(2), plain(20, b"")),
        (key(1), plain(10, b"")),
    ]);
    assert_eq!(
        result.err(),
        Some(StoreError::DuplicateGenesisAccount(key(1)))
    );
}

#[test]
fn genesis_listing_a_key_twice_is_refused_even_when_one_entry_has_zero_lamports() {
    for entries in [
        [(key(1), plain(5, b"")), (key(1), plain(0, b""))],
        [(key(1), plain(0, b"")), (key(1), plain(5, b""))],
        [(key(1), plain(0, b"")), (key(1), plain(0, b""))],
    ] {
        assert_eq!(
            AccountsDb::new_with_genesis(entries.clone()).err(),
            Some(StoreError::DuplicateGenesisAccount(key(1))),
            "{entries:?}"
        );
    }
}

#[test]
fn stored_account_loads_back_whole_and_shares_its_data() {
    let db = genesis();
    let stored = account(77, b"some data", key(42), true);
    db.store(1, &[(key(9), stored.clone())]).unwrap();
    let loaded = db.load(&key(9)).expect("stored");
    assert_eq!(loaded, stored);
    assert_eq!(loaded.lamports(), 77);
    assert_eq!(loaded.data(), b"some data");
    assert_eq!(loaded.owner(), &key(42));
    assert!(loaded.executable());
    // A load is an `Arc` clone, not a copy of the data.
    assert!(loaded.data_is_shared_with(&stored));
    assert!(db.load(&key(9)).unwrap().data_is_shared_with(&loaded));
    // Writing to a loaded copy does not change the store.
    let mut copy = loaded.clone();
    copy.data_as_mut_slice()[0] = b'S';
    copy.set_lamports(1);
    assert_eq!(db.load(&key(9)), Some(stored));
    assert_eq!(db.len(), 4);
    assert_eq!(db.slot(), 1);
    assert_hash_is_consistent(&db);
}

#[test]
fn storing_over_an_account_replaces_it() {
    let db = genesis();
    db.store(1, &[(key(2), plain(21, b"two, again"))]).unwrap();
    assert_eq!(db.load(&key(2)), Some(plain(21, b"two, again")));
    assert_eq!(db.len(), 3);
    assert_hash_is_consistent(&db);
}

#[test]
fn storing_zero_lamports_deletes_the_account() {
    let db = genesis();
    db.store(1, &[(key(2), plain(0, b"two"))]).unwrap();
    assert_eq!(db.load(&key(2)), None);
    assert_eq!(db.len(), 2);
    assert_hash_is_consistent(&db);
    let without =
        AccountsDb::new_with_genesis([(key(1), plain(10, b"one")), (key(3), plain(30, b""))])
            .unwrap();
    assert_eq!(db.state_hash(), without.state_hash());

    // Deleting an absent account changes nothing; re-creating it restores the hash.
    let before = db.state_hash();
    db.store(2, &[(key(2), plain(0, b"")), (key(99), plain(0, b"x"))])
        .unwrap();
    assert_eq!(db.state_hash(), before);
    assert_eq!(db.len(), 2);
    db.store(3, &[(key(2), plain(20, b"two"))]).unwrap();
    assert_eq!(db.state_hash(), genesis().state_hash());
    assert_hash_is_consistent(&db);

    // Deleting everything gives the empty state.
    db.store(
        4,
        &[
            (key(1), plain(0, b"")),
            (key(2), plain(0, b"")),
            (key(3), plain(0, b"")),
        ],
    )
    .unwrap();
    assert!(db.is_empty());
    assert_eq!(db.lt_hash(), LtHash::identity());
}

#[test]
fn earlier_slot_is_refused_and_stores_nothing() {
    let db = genesis();
    db.store(5, &[(key(1), plain(11, b""))]).unwrap();
    assert_eq!(db.slot(), 5);
    let hash = db.state_hash();
    let result = db.store(4, &[(key(1), plain(12, b"")), (key(8), plain(8, b""))]);
    assert_eq!(
        result,
        Err(StoreError::SlotOutOfOrder {
            slot: 4,
            last_committed: 5
        })
    );
    assert_eq!(db.slot(), 5);
    assert_eq!(db.load(&key(1)), Some(plain(11, b"")));
    assert_eq!(db.load(&key(8)), None);
    assert_eq!(db.state_hash(), hash);
    assert_hash_is_consistent(&db);
    assert_eq!(
        db.store(0, &[]),
        Err(StoreError::SlotOutOfOrder {
            slot: 0,
            last_committed: 5
        })
    );
}

#[test]
fn same_slot_twice_and_later_slots_are_accepted() {
    let db = genesis();
    // Slot 0 is genesis' slot: committing in it again is allowed.
    db.store(0, &[(key(1), plain(1, b""))]).unwrap();
    db.store(3, &[(key(1), plain(2, b""))]).unwrap();
    db.store(3, &[(key(2), plain(3, b""))]).unwrap();
    assert_eq!(db.slot(), 3);
    // An empty batch still advances the slot.
    db.store(9, &[]).unwrap();
    assert_eq!(db.slot(), 9);
    db.store(u64::MAX, &[(key(3), plain(4, b""))]).unwrap();
    assert_eq!(db.slot(), u64::MAX);
    assert_eq!(db.load(&key(1)), Some(plain(2, b"")));
    assert_eq!(db.load(&key(2)), Some(plain(3, b"")));
    assert_eq!(db.load(&key(3)), Some(plain(4, b"")));
    assert_hash_is_consistent(&db);
}

#[test]
fn key_listed_twice_in_a_batch_ends_as_its_last_entry() {
    let last = plain(13, b"last");
    let cases: [(&str, Batch, Option<AccountSharedData>); 6] = [
        (
            "existing key, two values",
            vec![
                (key(1), plain(12, b"first")),
                (key(2), plain(22, b"")),
                (key(1), last.clone()),
            ],
            Some(last.clone()),
        ),
        (
            "new key, two values",
            vec![(key(7), plain(70, b"a")), (key(7), last.clone())],
            Some(last.clone()),
        ),
        (
            "deleted, then re-created",
            vec![(key(1), plain(0, b"")), (key(1), last.clone())],
            Some(last.clone()),
        ),
        (
            "changed, then deleted",
            vec![(key(1), plain(14, b"x")), (key(1), plain(0, b""))],
            None,
        ),
        (
            "the same value three times",
            vec![
                (key(3), last.clone()),
                (key(3), last.clone()),
                (key(3), last.clone()),
            ],
            Some(last.clone()),
        ),
        (
            "changed, then back to the genesis value",
            vec![(key(1), plain(15, b"x")), (key(1), plain(10, b"one"))],
            Some(plain(10, b"one")),
        ),
    ];
    for (what, batch, expected) in cases {
        let db = genesis();
        let touched = batch[0].0;
        db.store(1, &batch).unwrap();
        assert_eq!(db.load(&touched), expected, "{what}");
        assert_hash_is_consistent(&db);
        // The same as storing only the last entry of each key.
        let reference = genesis();
        let mut last_entries: Batch = Vec::new();
        for (pubkey, account) in batch.iter().rev() {
            if !last_entries.iter().any(|(seen, _)| seen == pubkey) {
                last_entries.push((*pubkey, account.clone()));
            }
        }
        reference.store(1, &last_entries).unwrap();
        assert_eq!(db.state_hash(), reference.state_hash(), "{what}");
        assert_eq!(db.accounts_sorted(), reference.accounts_sorted(), "{what}");
    }
}

#[test]
fn batch_listing_the_stored_value_itself_then_a_new_one_keeps_the_hash_right() {
    // The first entry is the loaded account (its data buffer is shared with the stored
    // one), so the commit's "unchanged since hashed" check sees the same buffer.
    let db = genesis();
    let loaded = db.load(&key(1)).unwrap();
    let mut changed = loaded.clone();
    changed.set_lamports(11);
    assert!(changed.data_is_shared_with(&loaded));
    db.store(1, &[(key(1), loaded.clone()), (key(1), changed.clone())])
        .unwrap();
    assert_eq!(db.load(&key(1)), Some(changed.clone()));
    assert_hash_is_consistent(&db);
    // And back, sharing the buffer all along.
    db.store(2, &[(key(1), changed), (key(1), loaded)]).unwrap();
    assert_eq!(db.state_hash(), genesis().state_hash());
    assert_hash_is_consistent(&db);
}

#[test]
fn key_listed_twice_whose_first_entry_shares_the_stored_data_keeps_the_hash_right() {
    // The first entry differs from the stored account in one field but shares its data
    // buffer; the second entry must mix out the first entry's hash, not the stored one's.
    type Change = fn(&mut AccountSharedData);
    let changes: [(&str, Change); 3] = [
        ("lamports", |a| a.set_lamports(11)),
        ("owner", |a| a.set_owner(key(77))),
        ("executable", |a| a.set_executable(true)),
    ];
    for (what, change) in changes {
        let db = genesis();
        let stored = db.load(&key(1)).unwrap();
        let mut first = stored.clone();
        change(&mut first);
        assert!(first.data_is_shared_with(&stored));
        db.store(1, &[(key(1), first), (key(1), plain(99, b"last"))])
            .unwrap();
        assert_eq!(db.load(&key(1)), Some(plain(99, b"last")), "{what}");
        assert_eq!(db.lt_hash(), db.recompute_lt_hash(), "{what}");
    }
}

#[test]
fn same_final_accounts_in_different_orders_give_the_same_state_hash() {
    let a = genesis();
    let b = genesis();
    // `a`: each account once, in key order, in one slot.
    a.store(
        1,
        &[
            (key(1), plain(100, b"final one")),
            (key(2), plain(0, b"")),
            (key(4), account(40, b"four", key(5), true)),
        ],
    )
    .unwrap();
    // `b`: reverse order, over several slots, through intermediate values, deleting and
    // re-creating.
    b.store(1, &[(key(4), plain(1, b"tmp")), (key(1), plain(0, b""))])
        .unwrap();
    b.store(2, &[(key(2), plain(999, b"tmp"))]).unwrap();
    b.store(
        2,
        &[
            (key(4), account(40, b"four", key(5), true)),
            (key(2), plain(0, b"")),
        ],
    )
    .unwrap();
    b.store(
        7,
        &[(key(1), plain(5, b"")), (key(1), plain(100, b"final one"))],
    )
    .unwrap();
    assert_eq!(a.accounts_sorted(), b.accounts_sorted());
    assert_eq!(a.lt_hash(), b.lt_hash());
    assert_eq!(a.state_hash(), b.state_hash());
    assert_hash_is_consistent(&a);
    assert_hash_is_consistent(&b);
    // A store built from genesis with the final accounts agrees too.
    let direct = AccountsDb::new_with_genesis(a.accounts_sorted().into_iter().rev()).unwrap();
    assert_eq!(direct.state_hash(), a.state_hash());
}

#[test]
fn state_hash_changes_when_any_account_changes() {
    let base = account(50, &[1, 2, 3], key(60), false);
    let changes: [(&str, AccountSharedData); 8] = [
        ("lamports", account(51, &[1, 2, 3], key(60), false)),
        ("data byte", account(50, &[1, 2, 4], key(60), false)),
        ("data longer", account(50, &[1, 2, 3, 0], key(60), false)),
        ("data shorter", account(50, &[1, 2], key(60), false)),
        ("data empty", account(50, &[], key(60), false)),
        ("owner", account(50, &[1, 2, 3], key(61), false)),
        ("executable", account(50, &[1, 2, 3], key(60), true)),
        ("deleted", account(0, &[1, 2, 3], key(60), false)),
    ];
    let db =
        AccountsDb::new_with_genesis([(key(1), base.clone()), (key(2), plain(5, b""))]).unwrap();
    let original = db.state_hash();
    let mut seen: Vec<Hash> = vec![original];
    let mut slot = 0;
    for (what, changed) in changes {
        slot += 1;
        db.store(slot, &[(key(1), changed)]).unwrap();
        let hash = db.state_hash();
        assert!(
            !seen.contains(&hash),
            "changing the {what} must move the hash"
        );
        seen.push(hash);
        assert_hash_is_consistent(&db);
        slot += 1;
        db.store(slot, &[(key(1), base.clone())]).unwrap();
        assert_eq!(db.state_hash(), original, "restoring after {what}");
    }
    // The same value under another key, and a new account, are changes too.
    db.store(slot + 1, &[(key(1), plain(0, b"")), (key(3), base.clone())])
        .unwrap();
    assert!(
        !seen.contains(&db.state_hash()),
        "moving an account to another key"
    );
    seen.push(db.state_hash());
    db.store(slot + 1, &[(key(4), plain(1, b""))]).unwrap();
    assert!(!seen.contains(&db.state_hash()), "a new account");
    assert_hash_is_consistent(&db);
}

#[test]
fn storing_an_equal_value_in_a_new_buffer_leaves_the_hash() {
    let db = genesis();
    let before = db.state_hash();
    db.store(1, &[(key(1), plain(10, b"one")), (key(3), plain(30, b""))])
        .unwrap();
    assert_eq!(db.state_hash(), before);
    assert_hash_is_consistent(&db);
}
