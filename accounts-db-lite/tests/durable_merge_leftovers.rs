//! A merge whose run starts at an earlier merge's output, when that earlier merge could not
//! remove the segments it replaced: a crash part-way through the second merge's removals
//! must not bring those segments back as live ones. One test function: it arms
//! failpoints, which are process-wide.

mod durable_common;

use accounts_db_lite::AccountsDb;
use accounts_db_lite::durable::{self, OpenOptions};
use durable_common::*;

/// The segment files' numbers, ascending.
fn segment_numbers(dir: &std::path::Path) -> Vec<u64> {
    let mut numbers: Vec<u64> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|entry| {
            let name = entry.unwrap().file_name().into_string().unwrap();
            name.strip_prefix("segment-")?
                .strip_suffix(".log")?
                .parse()
                .ok()
        })
        .collect();
    numbers.sort_unstable();
    numbers
}

fn segment_path(dir: &std::path::Path, number: u64) -> std::path::PathBuf {
    dir.join(format!("segment-{number:06}.log"))
}

#[test]
fn leftovers_of_a_merge_merged_again_stay_replaced_after_a_crash() {
    let dir = directory("merge-of-merge");
    let options = OpenOptions {
        background_compaction: false,
        ..small_segments()
    };
    let slots = dense_then_sparse(12, 60);
    let (store, _) = AccountsDb::open(&dir, genesis, options).unwrap();
    commit_all(&store, &slots[..52]);
    let before_first = segment_numbers(&dir);
    // The first merge, whose removals fail: its replaced segments stay as leftovers.
    durable::arm("compact.remove");
    assert!(store.compact().is_err());
    durable::disarm_all();
    assert_eq!(segment_numbers(&dir), before_first, "nothing was removed");
    for (slot, writes) in (53u64..).zip(&slots[52..]) {
        store.store(slot, writes).unwrap();
        store.commit_slot(slot).unwrap();
    }
    // The second merge starts at the first one's output (the first merge's output is the
    // newest segment of its run, which the next run of superseded segments starts at);
    // its removals fail too, so nothing is removed.
    durable::arm("compact.remove");
    assert!(store.compact().is_err());
    durable::disarm_all();
    let live = store.segment_stats().unwrap().segments;
    drop(store);
    // Which files are live: what recovery keeps (opened on a copy).
    let on_disk = segment_numbers(&dir);
    let copy = directory("merge-of-merge-copy");
    std::fs::create_dir_all(&copy).unwrap();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() != "LOCK" {
            std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
        }
    }
    drop(AccountsDb::open(&copy, genesis, options).unwrap());
    let kept = segment_numbers(&copy);
    std::fs::remove_dir_all(&copy).unwrap();
    assert_eq!(kept.len(), live);
    let replaced: Vec<u64> = on_disk
        .iter()
        .copied()
        .filter(|number| !kept.contains(number))
        .collect();
    assert!(replaced.len() >= 2, "{on_disk:?} kept {kept:?}");
    // A crash part-way through the second merge's removals: whichever of the replaced
    // files are gone (every prefix and every suffix of them in order, and each one alone,
    // the first merge's output among them), the reopened store is the same, and no
    // replaced file is live again.
    let snapshot: Vec<(u64, Vec<u8>)> = on_disk
        .iter()
        .map(|&number| (number, std::fs::read(segment_path(&dir, number)).unwrap()))
        .collect();
    let mut cases: Vec<Vec<u64>> = (0..=replaced.len())
        .map(|count| replaced[..count].to_vec())
        .collect();
    cases.extend((1..replaced.len()).map(|from| replaced[from..].to_vec()));
    cases.extend(replaced.iter().map(|&number| vec![number]));
    for removed in cases {
        for (number, bytes) in &snapshot {
            std::fs::write(segment_path(&dir, *number), bytes).unwrap();
        }
        for &number in &removed {
            std::fs::remove_file(segment_path(&dir, number)).unwrap();
        }
        let (store, _) = AccountsDb::open(&dir, genesis, options).unwrap();
        assert_matches_reference(&store, &slots);
        assert_eq!(
            store.segment_stats().unwrap().segments,
            live,
            "removed before the crash: {removed:?}"
        );
        drop(store);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
