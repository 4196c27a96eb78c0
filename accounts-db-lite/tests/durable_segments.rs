//! The durable store's segments: rolling, compaction (on demand and in the background),
//! recovery around an interrupted compaction, damage in sealed segments, and the upgrade
//! of a version-1 directory.

mod durable_common;

use accounts_db_lite::AccountsDb;
use accounts_db_lite::OpenError;
use accounts_db_lite::durable::{DurableError, FORMAT_FILE, OpenOptions};
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

fn no_background() -> OpenOptions {
    OpenOptions {
        background_compaction: false,
        ..small_segments()
    }
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
    drop(store);
    let (store, recovered) = AccountsDb::open(&dir, genesis, no_background()).unwrap();
    assert_eq!(recovered.torn_tail, None);
    assert_same(&store, 40);
    assert_eq!(
        store.segment_stats().unwrap(),
        stats,
        "counts rebuilt at open"
    );
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
    assert_eq!(report.segments_replaced, before.segments - 1);
    assert!(report.bytes_after < report.bytes_before, "{report:?}");
    assert!(report.records_dropped > 0);
    let after = store.segment_stats().unwrap();
    assert_eq!(
        after.segments, 2,
        "one compacted segment and the active one"
    );
    assert_eq!(after.sealed_superseded, 0);
    assert_eq!(segment_files(&dir).len(), 2);
    // Nothing left to gain.
    assert_eq!(store.compact().unwrap(), None);
    // Commits go on on top of the compacted segment, and compact again.
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
    assert_eq!(segment_files(&dir).len(), 2);
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
    let dir = directory("upgrade");
    let store = open(&dir);
    commit_slots(&store, 1, 5);
    drop(store);
    std::fs::write(
        dir.join(FORMAT_FILE),
        "accounts-db-lite durable store\nversion 1\n",
    )
    .unwrap();
    let store = open(&dir);
    assert_same(&store, 5);
    assert!(
        std::fs::read_to_string(dir.join(FORMAT_FILE))
            .unwrap()
            .ends_with("version 2\n")
    );
    drop(store);
    std::fs::remove_dir_all(&dir).unwrap();
}
