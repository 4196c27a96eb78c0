//! The durable store: recovery to the last committed slot, torn tails, corruption,
//! formats, and a process killed with SIGKILL at random moments.

mod durable_common;

use accounts_db_lite::durable::{DurableError, FORMAT_FILE, FORMAT_VERSION, OpenOptions};
use accounts_db_lite::{AccountsDb, OpenError};
use durable_common::*;

fn segment(dir: &std::path::Path) -> std::path::PathBuf {
    dir.join("segment-000000.log")
}

#[test]
fn committed_slots_survive_a_reopen() {
    let dir = directory("reopen");
    let store = open(&dir);
    assert!(store.is_durable());
    assert_same(&store, 0);
    commit_slots(&store, 1, 12);
    drop(store);
    let store = open(&dir);
    assert_same(&store, 12);
    // And the pipeline goes on from there.
    commit_slots(&store, 13, 20);
    drop(store);
    assert_same(&open(&dir), 20);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_slot_not_committed_is_a_torn_tail_cut_anywhere() {
    let dir = directory("torn");
    let store = open(&dir);
    commit_slots(&store, 1, 5);
    let committed = std::fs::metadata(segment(&dir)).unwrap().len();
    // Slot 6 is written and committed; the file is then cut at every point of slot 6.
    commit_slots(&store, 6, 6);
    drop(store);
    let full = std::fs::read(segment(&dir)).unwrap();
    for cut in committed as usize + 1..full.len() {
        std::fs::write(segment(&dir), &full[..cut]).unwrap();
        let (store, recovered) = AccountsDb::open(&dir, genesis, OpenOptions::default()).unwrap();
        assert_same(&store, 5);
        let tail = recovered.torn_tail.expect("the cut slot is reported");
        assert_eq!(
            (tail.offset, tail.bytes),
            (committed, (cut as u64) - committed),
            "cut {cut}"
        );
        drop(store);
        // Recovery truncated the tail: the file ends at the last commit again.
        assert_eq!(std::fs::metadata(segment(&dir)).unwrap().len(), committed);
    }
    std::fs::write(segment(&dir), &full).unwrap();
    assert_same(&open(&dir), 6);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_flipped_byte_before_the_last_commit_is_corruption() {
    let dir = directory("flip");
    let store = open(&dir);
    commit_slots(&store, 1, 3);
    let after_three = std::fs::metadata(segment(&dir)).unwrap().len() as usize;
    commit_slots(&store, 4, 8);
    drop(store);
    let full = std::fs::read(segment(&dir)).unwrap();
    // A byte inside slot 4's records.
    let at = after_three + 20;
    let mut damaged = full.clone();
    damaged[at] ^= 0x40;
    std::fs::write(segment(&dir), &damaged).unwrap();
    match AccountsDb::open(&dir, genesis, OpenOptions::default()) {
        Err(OpenError::Durable(DurableError::Corrupted { path, offset, .. })) => {
            assert_eq!(path, segment(&dir));
            assert_eq!(
                offset as usize, after_three,
                "the damaged record starts after slot 3"
            );
        }
        other => panic!("expected corruption, got {other:?}"),
    }
    // A length field that now points past the end of the file is damage too, not a torn
    // tail: a complete commit follows it.
    let mut damaged = full.clone();
    damaged[after_three + 7] ^= 0x01;
    std::fs::write(segment(&dir), &damaged).unwrap();
    assert!(matches!(
        AccountsDb::open(&dir, genesis, OpenOptions::default()),
        Err(OpenError::Durable(DurableError::Corrupted { offset, .. })) if offset as usize == after_three
    ));
    assert_eq!(
        std::fs::read(segment(&dir)).unwrap(),
        damaged,
        "nothing was cut"
    );
    std::fs::write(segment(&dir), {
        let mut damaged = full.clone();
        damaged[at] ^= 0x40;
        damaged
    })
    .unwrap();
    // Asked to, it recovers to the last good commit before the damage.
    let (store, recovered) = AccountsDb::open(
        &dir,
        genesis,
        OpenOptions {
            truncate_to_last_good_commit: true,
            ..OpenOptions::default()
        },
    )
    .unwrap();
    assert_eq!(recovered.truncated_corruption, Some(after_three as u64));
    assert_same(&store, 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn slots_commit_in_order_only() {
    let dir = directory("order");
    let store = open(&dir);
    commit_slots(&store, 1, 2);
    store.store(5, &writes(5)).unwrap();
    assert!(matches!(
        store.commit_slot(3),
        Err(DurableError::SlotOutOfOrder { slot: 3, last: 5 })
    ));
    store.commit_slot(5).unwrap();
    assert!(matches!(
        store.commit_slot(5),
        Err(DurableError::SlotOutOfOrder { slot: 5, last: 5 })
    ));
    drop(store);
    let store = open(&dir);
    assert_eq!(store.slot(), 5);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_lost_log_is_an_error_not_a_new_chain() {
    let dir = directory("lost");
    let store = open(&dir);
    commit_slots(&store, 1, 3);
    drop(store);
    std::fs::remove_file(segment(&dir)).unwrap();
    assert!(matches!(
        AccountsDb::open(&dir, genesis, OpenOptions::default()),
        Err(OpenError::Durable(DurableError::MissingSegment(_)))
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn foreign_and_newer_directories_are_refused() {
    let dir = directory("format");
    drop(open(&dir));
    std::fs::write(
        dir.join(FORMAT_FILE),
        "accounts-db-lite durable store\nversion 9\n",
    )
    .unwrap();
    assert!(matches!(
        AccountsDb::open(&dir, genesis, OpenOptions::default()),
        Err(OpenError::Durable(DurableError::NewerFormat {
            found: 9,
            supported: FORMAT_VERSION,
            ..
        }))
    ));
    std::fs::write(dir.join(FORMAT_FILE), "something else").unwrap();
    assert!(matches!(
        AccountsDb::open(&dir, genesis, OpenOptions::default()),
        Err(OpenError::Durable(DurableError::NotAStore(_)))
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The child's side of the crash test: commits slots forever from where the store is.
#[test]
#[ignore = "run by crash_test_sigkill as a child process"]
fn crash_child() {
    let Ok(dir) = std::env::var("DURABLE_CRASH_DIR") else {
        return;
    };
    // Small segments: the kills land in rolls and background compactions too.
    let store = open_small(std::path::Path::new(&dir));
    let mut slot = store.slot();
    let mut out = std::io::stdout();
    loop {
        slot += 1;
        commit_slots(&store, slot, slot);
        // Acknowledged: the parent holds recovery to at least this slot.
        use std::io::Write as _;
        let _ = writeln!(out, "committed {slot}");
        let _ = out.flush();
    }
}

#[test]
fn a_process_killed_at_random_moments_keeps_every_committed_slot() {
    let dir = directory("sigkill");
    drop(open(&dir));
    let mut last = 0;
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut kills = 0;
    // The reference advances with the recovered slot instead of being rebuilt each time.
    let reference = AccountsDb::new_with_genesis(genesis()).unwrap();
    while kills < 50 && std::time::Instant::now() < deadline {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["crash_child", "--exact", "--ignored", "--nocapture"])
            .env("DURABLE_CRASH_DIR", &dir)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(std::time::Duration::from_millis(5 + seed % 40));
        child.kill().unwrap(); // SIGKILL on Unix
        let output = child.wait_with_output().unwrap();
        let acknowledged = String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| line.strip_prefix("committed ")?.parse::<u64>().ok())
            .max()
            .unwrap_or(last);
        kills += 1;
        let (store, _) = AccountsDb::open(&dir, genesis, OpenOptions::default())
            .unwrap_or_else(|error| panic!("after kill {kills}: {error}"));
        let slot = store.slot();
        assert!(
            slot >= acknowledged,
            "kill {kills}: slot {acknowledged} was acknowledged, but the store recovered {slot}"
        );
        for next in last + 1..=slot {
            reference.store(next, &writes(next)).unwrap();
        }
        assert_eq!(
            store.state_hash(),
            reference.state_hash(),
            "kill {kills}, slot {slot}"
        );
        last = slot;
    }
    assert!(kills >= 10, "only {kills} kills in time");
    assert!(last > 0, "the child committed something");
    std::fs::remove_dir_all(&dir).unwrap();
}
