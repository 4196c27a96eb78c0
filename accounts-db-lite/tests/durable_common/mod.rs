//! A deterministic chain of slots for the durable-store tests, and its in-memory reference.

#![allow(dead_code)] // each test file uses a different part

use std::path::PathBuf;

use accounts_db_lite::durable::OpenOptions;
use accounts_db_lite::{AccountsDb, Slot};
use sdk_lite::{AccountSharedData, Pubkey};

pub(crate) fn key(index: u64) -> Pubkey {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&index.to_le_bytes());
    bytes[31] = 0xD5;
    Pubkey::new_from_array(bytes)
}

pub(crate) fn genesis() -> Vec<(Pubkey, AccountSharedData)> {
    (0..40)
        .map(|index| {
            (
                key(index),
                AccountSharedData::new(1_000 + index, 8, &Pubkey::default()),
            )
        })
        .collect()
}

/// What slot `slot` writes: five accounts, one of them deleted every third slot.
pub(crate) fn writes(slot: Slot) -> Vec<(Pubkey, AccountSharedData)> {
    (0..5)
        .map(|offset| {
            let index = (slot * 7 + offset) % 50;
            let lamports = if offset == 0 && slot.is_multiple_of(3) {
                0
            } else {
                slot * 1_000 + offset
            };
            let account =
                AccountSharedData::new_data(lamports, vec![slot as u8; 16], &Pubkey::default());
            (key(index), account)
        })
        .collect()
}

/// An in-memory store fed genesis and slots 1..=`last`.
pub(crate) fn reference(last: Slot) -> AccountsDb {
    let store = AccountsDb::new_with_genesis(genesis()).unwrap();
    for slot in 1..=last {
        store.store(slot, &writes(slot)).unwrap();
    }
    store
}

/// A fresh directory under the system's temporary directory.
pub(crate) fn directory(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("accounts-db-durable-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

pub(crate) fn open(dir: &std::path::Path) -> AccountsDb {
    AccountsDb::open(dir, genesis, OpenOptions::default())
        .unwrap()
        .0
}

/// Segments of about four slots each, compacted in the background.
pub(crate) fn small_segments() -> OpenOptions {
    OpenOptions {
        segment_bytes: 2_048,
        ..OpenOptions::default()
    }
}

pub(crate) fn open_small(dir: &std::path::Path) -> AccountsDb {
    AccountsDb::open(dir, genesis, small_segments()).unwrap().0
}

/// Stores and commits slots `from..=to`.
pub(crate) fn commit_slots(store: &AccountsDb, from: Slot, to: Slot) {
    for slot in from..=to {
        store.store(slot, &writes(slot)).unwrap();
        store.commit_slot(slot).unwrap();
    }
}

pub(crate) fn assert_same(store: &AccountsDb, slot: Slot) {
    let reference = reference(slot);
    assert_eq!(store.slot(), slot);
    assert_eq!(
        store.state_hash(),
        reference.state_hash(),
        "state after slot {slot}"
    );
    assert_eq!(store.accounts_sorted(), reference.accounts_sorted());
}

/// Slots for the selective-compaction tests: `dense` slots each writing five accounts
/// never written again (segments that stay live), then `sparse` slots rewriting the same
/// five accounts (segments superseded by the next ones); the account `deleted` (one of the
/// first slot's) is deleted in the middle of the sparse slots.
pub(crate) fn dense_then_sparse(dense: u64, sparse: u64) -> Vec<Vec<(Pubkey, AccountSharedData)>> {
    let account = |slot: u64, lamports: u64| {
        AccountSharedData::new_data(lamports, vec![slot as u8; 64], &Pubkey::default())
    };
    let mut slots = Vec::new();
    for slot in 1..=dense {
        slots.push(
            (0..5)
                .map(|i| (key(1_000 + slot * 5 + i), account(slot, 10 + i)))
                .collect(),
        );
    }
    for slot in dense + 1..=dense + sparse {
        let mut writes: Vec<_> = (0..5)
            .map(|i| (key(900 + i), account(slot, slot * 10 + i)))
            .collect();
        if slot == dense + sparse / 2 {
            writes.push((deleted_key(), account(slot, 0)));
        }
        slots.push(writes);
    }
    slots
}

pub(crate) fn deleted_key() -> Pubkey {
    key(1_000 + 5)
}

pub(crate) fn commit_all(store: &AccountsDb, slots: &[Vec<(Pubkey, AccountSharedData)>]) {
    for (slot, writes) in (1u64..).zip(slots) {
        store.store(slot, writes).unwrap();
        store.commit_slot(slot).unwrap();
    }
}

pub(crate) fn assert_matches_reference(
    store: &AccountsDb,
    slots: &[Vec<(Pubkey, AccountSharedData)>],
) {
    let reference = AccountsDb::new_with_genesis(genesis()).unwrap();
    for (slot, writes) in (1u64..).zip(slots) {
        reference.store(slot, writes).unwrap();
    }
    assert_eq!(store.state_hash(), reference.state_hash());
    assert_eq!(store.accounts_sorted(), reference.accounts_sorted());
    assert!(store.load(&deleted_key()).is_none());
}
