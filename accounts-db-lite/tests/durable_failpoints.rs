//! Every write, fsync and rename of the durable store fails in turn (creating a store,
//! committing a slot, rolling to a new segment, compacting); after each, the store reopens
//! to exactly the state of the last committed slot, and a run that goes on loses nothing.
//! One test function: the failpoints are process-wide.

mod durable_common;

use accounts_db_lite::AccountsDb;
use accounts_db_lite::durable::{self, FAILPOINTS, OpenOptions};
use durable_common::*;

/// Every commit rolls to a new segment first, so the roll's failpoints are reached too.
fn roll_every_commit() -> OpenOptions {
    OpenOptions {
        segment_bytes: 1,
        background_compaction: false,
        ..OpenOptions::default()
    }
}

fn open_with(dir: &std::path::Path, options: OpenOptions) -> AccountsDb {
    AccountsDb::open(dir, genesis, options).unwrap().0
}

#[test]
fn a_failure_at_any_point_loses_nothing_committed() {
    let mut reached = 0;
    for &failpoint in &FAILPOINTS {
        if failpoint.starts_with("format.") {
            // Creating a store fails; retried without the failure, it starts fresh.
            let dir = directory(&format!("fp-{failpoint}"));
            durable::arm(failpoint);
            assert!(
                AccountsDb::open(&dir, genesis, OpenOptions::default()).is_err(),
                "{failpoint}"
            );
            durable::disarm_all();
            assert_same(&open(&dir), 0);
            std::fs::remove_dir_all(&dir).unwrap();
            // The first merge moves the store to format version 3 first: failing there,
            // the merge fails and nothing changes; retried, it goes through.
            merge_fails_at(failpoint, true);
            reached += 1;
            continue;
        }
        if failpoint.starts_with("compact.") {
            compaction_fails_at(failpoint);
            reached += 1;
            continue;
        }
        // The failure at slot 3, then a crash: the reopened store is at slot 2.
        let dir = directory(&format!("fp-crash-{failpoint}"));
        let store = open_with(&dir, roll_every_commit());
        commit_slots(&store, 1, 2);
        store.store(3, &writes(3)).unwrap();
        durable::arm(failpoint);
        assert!(store.commit_slot(3).is_err(), "{failpoint}");
        durable::disarm_all();
        drop(store);
        assert_same(&open(&dir), 2);
        std::fs::remove_dir_all(&dir).unwrap();

        // The failure at slot 3, then the run goes on: slot 3's accounts are written with
        // slot 4's commit, and the reopened store is at slot 5.
        let dir = directory(&format!("fp-continue-{failpoint}"));
        let store = open_with(&dir, roll_every_commit());
        commit_slots(&store, 1, 2);
        store.store(3, &writes(3)).unwrap();
        durable::arm(failpoint);
        assert!(store.commit_slot(3).is_err(), "{failpoint}");
        durable::disarm_all();
        commit_slots(&store, 4, 5);
        drop(store);
        assert_same(&open(&dir), 5);
        std::fs::remove_dir_all(&dir).unwrap();
        reached += 1;
    }
    assert_eq!(reached, FAILPOINTS.len());
}

/// A compaction that fails at `failpoint`: the store keeps working, a crash right after
/// loses nothing, and a later compaction succeeds.
fn compaction_fails_at(failpoint: &'static str) {
    let options = OpenOptions {
        background_compaction: false,
        ..small_segments()
    };
    // Then a crash.
    let dir = directory(&format!("fp-crash-{failpoint}"));
    let store = open_with(&dir, options);
    commit_slots(&store, 1, 20);
    durable::arm(failpoint);
    assert!(store.compact().is_err(), "{failpoint}");
    durable::disarm_all();
    drop(store);
    assert_same(&open(&dir), 20);
    std::fs::remove_dir_all(&dir).unwrap();

    // Then the run goes on, and compacts again.
    let dir = directory(&format!("fp-continue-{failpoint}"));
    let store = open_with(&dir, options);
    commit_slots(&store, 1, 20);
    durable::arm(failpoint);
    assert!(store.compact().is_err(), "{failpoint}");
    durable::disarm_all();
    commit_slots(&store, 21, 25);
    store.compact().unwrap();
    assert_same(&store, 25);
    drop(store);
    assert_same(&open(&dir), 25);
    std::fs::remove_dir_all(&dir).unwrap();

    // (Nothing to do on the retry if the failure came after the rename: the merge had
    // happened.)
    merge_fails_at(failpoint, false);
}

/// A merge (the sparse segments after dense ones, one of whose accounts the merged
/// segments delete) that fails at `failpoint`, then a crash: the reopened store is the
/// same, and the merge retried succeeds (and, if `retry_merges`, still had work to do).
fn merge_fails_at(failpoint: &'static str, retry_merges: bool) {
    let options = OpenOptions {
        background_compaction: false,
        ..small_segments()
    };
    let dir = directory(&format!("fp-merge-{failpoint}"));
    let slots = dense_then_sparse(12, 40);
    let store = open_with(&dir, options);
    commit_all(&store, &slots);
    durable::arm(failpoint);
    assert!(store.compact().is_err(), "{failpoint}");
    durable::disarm_all();
    drop(store);
    let store = open_with(&dir, options);
    assert_matches_reference(&store, &slots);
    let retried = store.compact().unwrap();
    if retry_merges {
        retried.expect("the merge, retried");
    }
    assert_matches_reference(&store, &slots);
    drop(store);
    assert_matches_reference(&open_with(&dir, options), &slots);
    std::fs::remove_dir_all(&dir).unwrap();
}
