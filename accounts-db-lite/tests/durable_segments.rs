//! The durable store's segments: rolling, compaction (on demand and in the background),
//! recovery around an interrupted compaction, damage in sealed segments, and the upgrade
//! of a version-1 directory.

mod durable_common;

use accounts_db_lite::AccountsDb;
use accounts_db_lite::OpenError;
use accounts_db_lite::durable::{DurableError, FORMAT_FILE, FORMAT_VERSION, OpenOptions};
use durable_common::*;

fn segment_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with("segment-"))
        })
        .collect();
    files.sort();
    files
}

/// Every segment file with its bytes.
fn segment_contents(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    segment_files(dir)
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect()
}

fn no_background() -> OpenOptions {
    OpenOptions {
        background_compaction: false,
        ..small_segments()
    }
}

/// Drops `store` and reopens `dir` (without background compaction): the per-segment counts
/// rebuilt at open must be those `store` kept in memory (`context` names the case).
fn reopen_with_the_same_counts(
    dir: &std::path::Path,
    store: AccountsDb,
    context: &str,
) -> (AccountsDb, accounts_db_lite::durable::Recovered) {
    let in_memory = store.segment_stats().unwrap();
    drop(store);
    let (store, recovered) = AccountsDb::open(dir, genesis, no_background()).unwrap();
    assert_eq!(
        store.segment_stats().unwrap(),
        in_memory,
        "{context}: the counts kept in memory are the counts rebuilt at open"
    );
    (store, recovered)
}

#[test]
fn segments_roll_and_reopen_to_the_same_state() {
    let dir = directory("roll");
    let (store, _) = AccountsDb::open(&dir, genesis, no_background()).unwrap();
    commit_slots(&store, 1, 40);
    let stats = store.segment_stats().unwrap();
    assert!(stats.segments >= 8, "{stats:?}");
    assert_eq!(segment_files(&dir).len(), stats.segments);
    assert!(stats.sealed_superseded > 0);
    let (store, recovered) = reopen_with_the_same_counts(&dir, store, "rolled segments");
    assert_eq!(recovered.torn_tail, None);
    assert_same(&store, 40);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn compaction_drops_superseded_records_and_loses_nothing() {
    let dir = directory("compact");
    let (store, _) = AccountsDb::open(&dir, genesis, no_background()).unwrap();
    commit_slots(&store, 1, 40);
    let before = store.segment_stats().unwrap();
    let report = store
        .compact()
        .unwrap()
        .expect("superseded records to drop");
    assert!(report.segments_replaced >= 2, "{report:?}");
    assert!(report.bytes_after < report.bytes_before, "{report:?}");
    assert!(report.records_dropped > 0);
    // Compacting until nothing is left to gain leaves no sealed segment half superseded.
    let mut rounds = 0;
    while store.compact().unwrap().is_some() {
        rounds += 1;
        assert!(rounds < 10, "compaction converges");
    }
    let after = store.segment_stats().unwrap();
    assert!(after.segments < before.segments, "{before:?} -> {after:?}");
    assert!(after.bytes < before.bytes, "{before:?} -> {after:?}");
    assert!(
        after.sealed_superseded * 2 < after.sealed_records.max(1),
        "{after:?}"
    );
    assert_eq!(segment_files(&dir).len(), after.segments);
    assert_same(&store, 40);
    // Commits go on on top of the compacted segments, and compact again.
    commit_slots(&store, 41, 80);
    assert!(store.compact().unwrap().is_some());
    drop(store);
    let (store, recovered) = AccountsDb::open(&dir, genesis, no_background()).unwrap();
    assert_eq!(recovered.compaction_leftovers_removed, 0);
    assert_same(&store, 80);
    commit_slots(&store, 81, 85);
    drop(store);
    assert_same(&open(&dir), 85);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn compaction_leaves_live_segments_alone_and_keeps_deletions_it_cannot_drop() {
    let dir = directory("selective");
    let slots = dense_then_sparse(12, 40);
    let (store, _) = AccountsDb::open(&dir, genesis, no_background()).unwrap();
    commit_all(&store, &slots);
    let files_before = segment_contents(&dir);
    let before = store.segment_stats().unwrap();
    let report = store
        .compact()
        .unwrap()
        .expect("sparse segments to rewrite");
    // Only the sparse run was read: the dense segments (genesis and the first slots, the
    // oldest) are still there, byte for byte, and the deletion of an account they hold
    // was kept (it would otherwise bring the account back at the next open).
    assert!(report.segments_replaced >= 2, "{report:?}");
    assert!(
        report.segments_replaced < before.segments - 1,
        "{report:?} of {before:?}"
    );
    let untouched: Vec<&std::path::PathBuf> = files_before
        .iter()
        .filter(|(path, bytes)| std::fs::read(path).is_ok_and(|now| &now == bytes))
        .map(|(path, _)| path)
        .collect();
    // The dense slots fill the first few segments; those, the newest sealed segment (it
    // holds the live versions) and the active one were not rewritten.
    assert!(untouched.len() >= 4, "{untouched:?}");
    assert_eq!(untouched.len() + report.segments_replaced, before.segments);
    let (oldest, oldest_bytes) = &files_before[0];
    assert_eq!(
        &std::fs::read(oldest).unwrap(),
        oldest_bytes,
        "the oldest segment is untouched"
    );
    assert_matches_reference(&store, &slots);
    drop(store);
    let (store, recovered) = AccountsDb::open(&dir, genesis, no_background()).unwrap();
    assert_eq!(recovered.compaction_leftovers_removed, 0);
    assert_matches_reference(&store, &slots);
    // Later commits and compactions (merges of merges, and eventually the oldest
    // segments) keep the state.
    let more = dense_then_sparse(12, 120);
    for (slot, writes) in (1u64..).zip(&more).skip(slots.len()) {
        store.store(slot, writes).unwrap();
        store.commit_slot(slot).unwrap();
        if slot % 10 == 0 {
            store.compact().unwrap();
        }
    }
    drop(store);
    let store = AccountsDb::open(&dir, genesis, no_background()).unwrap().0;
    assert_matches_reference(&store, &more);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn leftovers_of_an_interrupted_merge_are_removed_at_open_and_nothing_else() {
    let dir = directory("merge-leftovers");
    let slots = dense_then_sparse(12, 40);
    let (store, _) = AccountsDb::open(&dir, genesis, no_background()).unwrap();
    commit_all(&store, &slots);
    let before = segment_contents(&dir);
    let report = store.compact().unwrap().unwrap();
    let after = segment_files(&dir);
    drop(store);
    // Put back what the merge removed, as a crash between the rename and the removals
    // would leave it.
    let mut restored = 0;
    for (path, bytes) in &before {
        if !path.exists() {
            std::fs::write(path, bytes).unwrap();
            restored += 1;
        }
    }
    assert_eq!(restored, report.segments_replaced - 1);
    let (store, recovered) = AccountsDb::open(&dir, genesis, no_background()).unwrap();
    assert_eq!(recovered.compaction_leftovers_removed, restored);
    assert_eq!(segment_files(&dir), after);
    assert_matches_reference(&store, &slots);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn background_compaction_keeps_the_files_small() {
    let dir = directory("background");
    let store = open_small(&dir);
    commit_slots(&store, 1, 300);
    // The compaction thread runs behind the commits: wait for it to catch up.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut stats = store.segment_stats().unwrap();
    while stats.sealed_superseded * 2 >= stats.sealed_records.max(1)
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(10));
        stats = store.segment_stats().unwrap();
    }
    // 300 slots of about 500 bytes each were written; what stays is about the live
    // accounts (50 keys) plus the active segment.
    assert!(stats.bytes < 300 * 500 / 4, "{stats:?}");
    assert!(
        stats.sealed_superseded * 2 < stats.sealed_records.max(1),
        "{stats:?}"
    );
    drop(store);
    assert_same(&open(&dir), 300);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn leftovers_of_an_interrupted_compaction_are_removed_at_open() {
    let dir = directory("leftovers");
    let (store, _) = AccountsDb::open(&dir, genesis, no_background()).unwrap();
    commit_slots(&store, 1, 40);
    let files = segment_files(&dir);
    // Keep copies of the first segments, as a crash between the rename and the removals
    // would leave them.
    let copies: Vec<(std::path::PathBuf, Vec<u8>)> = files[..3]
        .iter()
        .map(|path| (path.clone(), std::fs::read(path).unwrap()))
        .collect();
    store.compact().unwrap().unwrap();
    let compacted = segment_files(&dir).len();
    drop(store);
    for (path, bytes) in &copies {
        std::fs::write(path, bytes).unwrap();
    }
    // And an unfinished output of a later compaction.
    let unfinished = dir.join("segment-000099.log.compacting");
    std::fs::write(&unfinished, b"half a segment").unwrap();
    let (store, recovered) = AccountsDb::open(&dir, genesis, no_background()).unwrap();
    assert_eq!(recovered.compaction_leftovers_removed, 4);
    assert!(!unfinished.exists());
    assert_eq!(segment_files(&dir).len(), compacted);
    assert_same(&store, 40);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn damage_in_a_sealed_segment_is_corruption_naming_it() {
    for cut_short in [false, true] {
        let dir = directory(&format!("sealed-damage-{cut_short}"));
        let (store, _) = AccountsDb::open(&dir, genesis, no_background()).unwrap();
        commit_slots(&store, 1, 30);
        drop(store);
        let sealed = segment_files(&dir)[2].clone();
        let mut bytes = std::fs::read(&sealed).unwrap();
        if cut_short {
            bytes.truncate(bytes.len() - 10);
        } else {
            bytes[40] ^= 0x08;
        }
        std::fs::write(&sealed, &bytes).unwrap();
        match AccountsDb::open(&dir, genesis, no_background()) {
            Err(OpenError::Durable(DurableError::Corrupted { path, .. })) => {
                assert_eq!(path, sealed, "cut short: {cut_short}");
            }
            other => panic!("cut short {cut_short}: {:?}", other.map(|(_, r)| r)),
        }
        // Asked to, it recovers to the last commit before the damage and drops the rest.
        let (store, recovered) = AccountsDb::open(
            &dir,
            genesis,
            OpenOptions {
                truncate_to_last_good_commit: true,
                ..no_background()
            },
        )
        .unwrap();
        assert!(recovered.truncated_corruption.is_some());
        let slot = store.slot();
        assert!(slot < 30);
        assert_same(&store, slot);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn a_version_1_directory_is_read_and_upgraded() {
    // A version-1 store as its code left it after creating it: the FORMAT file and one
    // empty segment (its checksums are plain blake3: no key).
    let dir = directory("upgrade");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(FORMAT_FILE),
        "accounts-db-lite durable store\nversion 1\n",
    )
    .unwrap();
    std::fs::write(dir.join("segment-000000.log"), b"").unwrap();
    let store = open(&dir);
    commit_slots(&store, 1, 5);
    drop(store);
    let format = std::fs::read_to_string(dir.join(FORMAT_FILE)).unwrap();
    assert!(
        format.ends_with("version 2\n"),
        "upgraded, keeping plain checksums: {format}"
    );
    assert_same(&open(&dir), 5);
    // A new store's checksums are keyed: the key is in its FORMAT file.
    let fresh = directory("upgrade-fresh");
    drop(open(&fresh));
    let format = std::fs::read_to_string(fresh.join(FORMAT_FILE)).unwrap();
    assert!(format.contains("version 2\nchecksum-key "), "{format}");
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&fresh).unwrap();
}

#[test]
fn a_second_open_of_an_open_store_is_refused() {
    let dir = directory("locked");
    let store = open(&dir);
    assert!(matches!(
        AccountsDb::open(&dir, genesis, OpenOptions::default()),
        Err(OpenError::Durable(DurableError::Locked(_)))
    ));
    drop(store);
    assert_same(&open(&dir), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_account_too_large_for_any_account_is_refused_before_anything_is_stored() {
    let dir = directory("too-large");
    let store = open(&dir);
    let mut batch = writes(1);
    batch.push((
        key(99),
        sdk_lite::AccountSharedData::new_data(
            1,
            vec![0; sdk_lite::MAX_PERMITTED_DATA_LENGTH as usize + 1],
            &sdk_lite::Pubkey::default(),
        ),
    ));
    assert!(matches!(
        store.store(1, &batch),
        Err(accounts_db_lite::StoreError::DataTooLarge { .. })
    ));
    store.commit_slot(1).unwrap();
    drop(store);
    // Nothing of the refused batch was stored: slot 1 committed no accounts.
    let store = open(&dir);
    assert_eq!(store.state_hash(), reference(0).state_hash());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The bytes of a valid commit record for `slot`, as account data may hold them.
fn forged_commit(slot: u64) -> Vec<u8> {
    let mut payload = slot.to_le_bytes().to_vec();
    payload.extend_from_slice(&[7; 32]);
    let mut hasher = blake3::Hasher::new();
    hasher.update(&[2]);
    hasher.update(&(payload.len() as u32).to_le_bytes());
    hasher.update(&payload);
    let mut frame = 0xACC0_1D5B_u32.to_le_bytes().to_vec();
    frame.push(2);
    frame.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    frame.extend_from_slice(&payload);
    frame.extend_from_slice(&hasher.finalize().as_bytes()[..8]);
    frame
}

#[test]
fn a_commit_record_inside_account_data_does_not_turn_a_torn_write_into_corruption() {
    let dir = directory("forged");
    let store = open(&dir);
    commit_slots(&store, 1, 1);
    let before = std::fs::metadata(segment_files(&dir)[0].clone())
        .unwrap()
        .len();
    let mut data = vec![1u8; 64];
    data.extend_from_slice(&forged_commit(1_000));
    data.extend_from_slice(&[2u8; 64]);
    let account = sdk_lite::AccountSharedData::new_data(5, data, &sdk_lite::Pubkey::default());
    store.store(2, &[(key(3), account)]).unwrap();
    store.commit_slot(2).unwrap();
    drop(store);
    // The crash cut slot 2's record after the forged frame (and before its commit).
    let segment = segment_files(&dir)[0].clone();
    let bytes = std::fs::read(&segment).unwrap();
    let cut = before as usize + 9 + 81 + 64 + 62 + 20;
    std::fs::write(&segment, &bytes[..cut]).unwrap();
    let (store, recovered) = AccountsDb::open(&dir, genesis, OpenOptions::default()).unwrap();
    assert!(recovered.torn_tail.is_some());
    assert_same(&store, 1);
    drop(store);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn truncating_damage_before_the_first_commit_is_refused_not_a_new_genesis() {
    let dir = directory("damage-first");
    let store = open(&dir);
    commit_slots(&store, 1, 3);
    drop(store);
    let segment = segment_files(&dir)[0].clone();
    let mut bytes = std::fs::read(&segment).unwrap();
    bytes[20] ^= 0x01; // inside genesis's first account record
    std::fs::write(&segment, &bytes).unwrap();
    let truncate = OpenOptions {
        truncate_to_last_good_commit: true,
        ..OpenOptions::default()
    };
    assert!(matches!(
        AccountsDb::open(&dir, genesis, truncate),
        Err(OpenError::Durable(DurableError::Corrupted { .. }))
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A lost `FORMAT` file takes the checksum key with it: opening must refuse the store,
/// touch none of its files, and open it again once the file is back (before, a fresh key
/// read every record as a torn tail and the log was discarded: a silent new genesis).
#[test]
fn a_log_without_its_format_file_is_refused_and_left_as_it_was() {
    for (name, options) in [("one", OpenOptions::default()), ("many", no_background())] {
        let dir = directory(&format!("format-lost-{name}"));
        let (store, _) = AccountsDb::open(&dir, genesis, options).unwrap();
        commit_slots(&store, 1, 30);
        drop(store);
        let format = std::fs::read(dir.join(FORMAT_FILE)).unwrap();
        std::fs::remove_file(dir.join(FORMAT_FILE)).unwrap();
        let before = segment_contents(&dir);
        assert!(matches!(
            AccountsDb::open(&dir, genesis, options),
            Err(OpenError::Durable(DurableError::MissingFormat(_)))
        ));
        assert_eq!(segment_contents(&dir), before, "{name}: nothing touched");
        assert!(
            !dir.join(FORMAT_FILE).exists(),
            "{name}: no new key written"
        );
        std::fs::write(dir.join(FORMAT_FILE), format).unwrap();
        let (store, _) = AccountsDb::open(&dir, genesis, options).unwrap();
        assert_same(&store, 30);
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// A `FORMAT` file with another key (another store's, or one that lost its key line) makes
/// no record verify: that is refused as corruption, with or without the truncation
/// option, in a one-segment log as in a many-segment one, and the log is left alone.
#[test]
fn a_format_file_with_the_wrong_key_is_refused_not_a_new_genesis() {
    let other = directory("format-other");
    drop(open(&other));
    let other_format = std::fs::read(other.join(FORMAT_FILE)).unwrap();
    let keyless = b"accounts-db-lite durable store\nversion 2\n".to_vec();
    for (name, options) in [("one", OpenOptions::default()), ("many", no_background())] {
        for (kind, wrong) in [("other", &other_format), ("keyless", &keyless)] {
            let dir = directory(&format!("format-wrong-{name}-{kind}"));
            let (store, _) = AccountsDb::open(&dir, genesis, options).unwrap();
            commit_slots(&store, 1, 30);
            drop(store);
            let format = std::fs::read(dir.join(FORMAT_FILE)).unwrap();
            std::fs::write(dir.join(FORMAT_FILE), wrong).unwrap();
            let before = segment_contents(&dir);
            for truncate_to_last_good_commit in [false, true] {
                let result = AccountsDb::open(
                    &dir,
                    genesis,
                    OpenOptions {
                        truncate_to_last_good_commit,
                        ..options
                    },
                );
                assert!(
                    matches!(
                        result,
                        Err(OpenError::Durable(DurableError::Corrupted { .. }))
                    ),
                    "{name}, {kind}, truncate {truncate_to_last_good_commit}: {:?}",
                    result.map(|(_, recovered)| recovered)
                );
                assert_eq!(segment_contents(&dir), before, "{name}, {kind}: untouched");
            }
            std::fs::write(dir.join(FORMAT_FILE), format).unwrap();
            let (store, _) = AccountsDb::open(&dir, genesis, options).unwrap();
            assert_same(&store, 30);
            drop(store);
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
    std::fs::remove_dir_all(&other).unwrap();
}

/// A discarded slot's records are never written: the slot stored again with its real
/// contents and committed, the store reopens to exactly that (and the discarded
/// accounts, which no other slot writes, are nowhere).
#[test]
fn a_discarded_slot_leaves_nothing_in_the_log() {
    let dir = directory("discarded");
    let store = open(&dir);
    commit_slots(&store, 1, 3);
    let stray = sdk_lite::AccountSharedData::new_data(9, vec![7; 32], &sdk_lite::Pubkey::default());
    store.store(4, &[(key(77), stray.clone())]).unwrap();
    store.store(4, &writes(4)).unwrap();
    store.store(4, &[(key(78), stray)]).unwrap();
    store.discard_slot(4).unwrap();
    assert_same(&store, 3);
    commit_slots(&store, 4, 5);
    assert_same(&store, 5);
    drop(store);
    let store = open(&dir);
    assert_same(&store, 5);
    assert!(store.load(&key(77)).is_none() && store.load(&key(78)).is_none());
    drop(store);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_small_segment_is_not_rewritten_for_each_record_a_commit_supersedes() {
    let dir = directory("amplification");
    let options = OpenOptions {
        segment_bytes: 64 << 10,
        background_compaction: false,
        ..OpenOptions::default()
    };
    let (store, _) = AccountsDb::open(&dir, genesis, options).unwrap();
    let account = |slot: u64, lamports: u64| {
        sdk_lite::AccountSharedData::new_data(
            lamports,
            vec![slot as u8; 64],
            &sdk_lite::Pubkey::default(),
        )
    };
    // Thirty cold accounts in one slot, then hot churn until segments roll and compact:
    // the cold accounts end up in a small compacted segment.
    let mut slot = 1;
    let cold: Vec<_> = (0..30)
        .map(|i| (key(5_000 + i), account(slot, 7 + i)))
        .collect();
    store.store(slot, &cold).unwrap();
    store.commit_slot(slot).unwrap();
    for _ in 0..3_000 {
        slot += 1;
        let hot: Vec<_> = (0..5)
            .map(|i| (key(900 + i), account(slot, slot * 10 + i)))
            .collect();
        store.store(slot, &hot).unwrap();
        store.commit_slot(slot).unwrap();
    }
    while store.compact().unwrap().is_some() {}
    // Then each commit supersedes one cold record: a compaction pays only once half of
    // the segment's records are superseded, not at every commit.
    let (mut compactions, mut written) = (0, 0);
    for i in 0..30 {
        slot += 1;
        store
            .store(slot, &[(key(5_000 + i), account(slot, 99))])
            .unwrap();
        store.commit_slot(slot).unwrap();
        if let Some(report) = store.compact().unwrap() {
            compactions += 1;
            written += report.bytes_after;
        }
    }
    assert!(
        compactions <= 3,
        "{compactions} compactions for 30 one-account commits"
    );
    assert!(written < 30 * 150, "{written} bytes written");
    drop(store);
    let (store, _) = AccountsDb::open(&dir, genesis, options).unwrap();
    assert_eq!(store.slot(), slot);
    assert_eq!(
        sdk_lite::ReadableAccount::lamports(&store.load(&key(5_029)).unwrap()),
        99
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_merge_drops_a_deletion_whose_account_lived_only_in_the_merged_segments() {
    let dir = directory("merge-drops-deletion");
    let mut slots = dense_then_sparse(12, 40);
    // An account created and deleted within the sparse slots: once they are merged, its
    // deletion deletes nothing (unlike `deleted_key`'s, whose account the dense segments
    // still hold).
    let short_lived = key(4_242);
    let account = |lamports| {
        sdk_lite::AccountSharedData::new_data(lamports, vec![1; 64], &sdk_lite::Pubkey::default())
    };
    slots[12 + 4].push((short_lived, account(5)));
    slots[12 + 24].push((short_lived, account(0)));
    let (store, _) = AccountsDb::open(&dir, genesis, no_background()).unwrap();
    commit_all(&store, &slots);
    let report = store
        .compact()
        .unwrap()
        .expect("sparse segments to rewrite");
    assert_eq!(
        report.records_kept, 1,
        "only the deletion of an account an older segment holds is kept: {report:?}"
    );
    assert_matches_reference(&store, &slots);
    assert!(store.load(&short_lived).is_none());
    let (store, _) = reopen_with_the_same_counts(&dir, store, "a dropped deletion");
    assert_matches_reference(&store, &slots);
    assert!(store.load(&short_lived).is_none());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn commits_racing_compactions_keep_the_state_and_the_counts() {
    for round in 0..4 {
        let dir = directory(&format!("racing-{round}"));
        let (store, _) = AccountsDb::open(&dir, genesis, no_background()).unwrap();
        let store = std::sync::Arc::new(store);
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let compactor = {
            let (store, stop) = (std::sync::Arc::clone(&store), std::sync::Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut compactions = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    if store.compact().unwrap().is_some() {
                        compactions += 1;
                    }
                }
                compactions
            })
        };
        commit_slots(&store, 1, 400);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(
            compactor.join().unwrap() > 0,
            "compactions ran beside the commits"
        );
        assert_same(&store, 400);
        let store = std::sync::Arc::into_inner(store).expect("the racing threads are done");
        let (store, recovered) =
            reopen_with_the_same_counts(&dir, store, &format!("round {round} of races"));
        assert_eq!(recovered.compaction_leftovers_removed, 0);
        assert_same(&store, 400);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn a_store_says_version_3_only_once_it_holds_a_merge_record() {
    let dir = directory("format-version");
    let format = |dir: &std::path::Path| std::fs::read_to_string(dir.join(FORMAT_FILE)).unwrap();
    let slots = dense_then_sparse(12, 40);
    let (store, _) = AccountsDb::open(&dir, genesis, no_background()).unwrap();
    // Readable by code that reads version 2 as long as no merge record exists.
    assert!(format(&dir).contains("version 2\n"), "{}", format(&dir));
    commit_all(&store, &slots);
    assert!(format(&dir).contains("version 2\n"));
    store
        .compact()
        .unwrap()
        .expect("a merge of the sparse segments");
    assert!(
        format(&dir).contains(&format!("version {FORMAT_VERSION}\n")),
        "{}",
        format(&dir)
    );
    drop(store);
    let (store, _) = AccountsDb::open(&dir, genesis, no_background()).unwrap();
    assert_matches_reference(&store, &slots);
    assert!(format(&dir).contains(&format!("version {FORMAT_VERSION}\n")));
    std::fs::remove_dir_all(&dir).unwrap();
}
