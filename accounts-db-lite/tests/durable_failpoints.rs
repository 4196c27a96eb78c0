//! Every write, fsync and rename of the durable store fails in turn; after each, the store
//! reopens to exactly the state of the last committed slot. One test function: the
//! failpoints are process-wide.

mod durable_common;

use accounts_db_lite::AccountsDb;
use accounts_db_lite::durable::{self, FAILPOINTS, OpenOptions};
use durable_common::*;

#[test]
fn a_failure_at_any_point_loses_nothing_committed() {
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
            continue;
        }
        // The failure at slot 3, then a crash: the reopened store is at slot 2.
        let dir = directory(&format!("fp-crash-{failpoint}"));
        let store = open(&dir);
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
        let store = open(&dir);
        commit_slots(&store, 1, 2);
        store.store(3, &writes(3)).unwrap();
        durable::arm(failpoint);
        assert!(store.commit_slot(3).is_err(), "{failpoint}");
        durable::disarm_all();
        commit_slots(&store, 4, 5);
        drop(store);
        assert_same(&open(&dir), 5);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
