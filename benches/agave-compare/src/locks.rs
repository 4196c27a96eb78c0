//! `ThreadAwareAccountLocks`: this project's (`scheduling-utils`) against Agave's
//! (`agave-scheduling-utils` 4.2.2) on the same lock cases, interleaved in one process.
//!
//! Both sides use Solana's `Pubkey` as the key and the same thread selector, and both
//! run try-lock followed by unlock of one transaction per operation.

use agave_scheduling_utils::thread_aware_account_locks as agave;
use benches::lock_cases::{LockCase, NUM_THREADS, least_loaded, lock_cases};
use benches::paired_timing::paired_medians;
use solana_pubkey::Pubkey;
use std::hint::black_box;

const ROUNDS: usize = 41;

/// Runs the lock cases whose name contains `filter` (all if `section` matches it) and
/// prints the table.
pub(crate) fn run(section: &str, filter: &str) {
    let cases = lock_cases(|i| {
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&i.to_le_bytes());
        bytes[31] = 0x5a;
        Pubkey::new_from_array(bytes)
    });
    let load = [300u64, 100, 200, 400];
    let selected: Vec<&LockCase<Pubkey>> = cases
        .iter()
        .filter(|case| section.contains(filter) || case.name.contains(filter))
        .collect();
    if selected.is_empty() {
        return;
    }

    println!("ThreadAwareAccountLocks: try_lock_accounts + unlock_accounts, {NUM_THREADS} threads");
    println!("{} rounds interleaved, median ns per transaction\n", ROUNDS);
    println!(
        "{:<36} {:>10} {:>10} {:>8}",
        "case", "ours", "agave", "ours/agave"
    );
    for case in selected {
        let iters = if case.transaction.len() > 50 {
            2_000
        } else {
            20_000
        };
        let mut ours = ours_table(case);
        let mut theirs = agave_table(case);
        let medians = paired_medians(
            ROUNDS,
            iters,
            || ours_op(&mut ours, case, &load),
            || agave_op(&mut theirs, case, &load),
        );
        println!(
            "{:<36} {:>10.1} {:>10.1} {:>8.2}",
            case.name,
            medians.a_ns,
            medians.b_ns,
            medians.ratio()
        );
    }
}

fn ours_table(case: &LockCase<Pubkey>) -> scheduling_utils::ThreadAwareAccountLocks<Pubkey> {
    let mut table = scheduling_utils::ThreadAwareAccountLocks::new(NUM_THREADS);
    for (locks, thread) in &case.resident {
        let thread = *thread;
        let got = table.try_lock_accounts(
            locks.iter().map(|(k, w)| (k, *w)),
            scheduling_utils::ThreadSet::only(thread),
            |_| thread,
        );
        assert_eq!(got, Ok(thread), "resident locks of {}", case.name);
    }
    table
}

fn ours_op(
    table: &mut scheduling_utils::ThreadAwareAccountLocks<Pubkey>,
    case: &LockCase<Pubkey>,
    load: &[u64; NUM_THREADS],
) {
    let locks = case.transaction.iter().map(|(k, w)| (k, *w));
    let result = table.try_lock_accounts(
        locks.clone(),
        scheduling_utils::ThreadSet::any(NUM_THREADS),
        |set| least_loaded(set.contained_threads_iter(), load),
    );
    match result {
        Ok(thread) => table.unlock_accounts(locks, black_box(thread)),
        Err(_) => assert!(!case.expect_lock),
    }
}

fn agave_table(case: &LockCase<Pubkey>) -> agave::ThreadAwareAccountLocks {
    let mut table = agave::ThreadAwareAccountLocks::new(NUM_THREADS);
    for (locks, thread) in &case.resident {
        let thread = *thread;
        let got = table.try_lock_accounts(
            locks.iter().filter(|(_, w)| *w).map(|(k, _)| k),
            locks.iter().filter(|(_, w)| !*w).map(|(k, _)| k),
            agave::ThreadSet::only(thread),
            |_| thread,
        );
        assert_eq!(got, Ok(thread), "resident locks of {}", case.name);
    }
    table
}

fn agave_op(
    table: &mut agave::ThreadAwareAccountLocks,
    case: &LockCase<Pubkey>,
    load: &[u64; NUM_THREADS],
) {
    let writes = case.transaction.iter().filter(|(_, w)| *w).map(|(k, _)| k);
    let reads = case.transaction.iter().filter(|(_, w)| !*w).map(|(k, _)| k);
    let result = table.try_lock_accounts(
        writes.clone(),
        reads.clone(),
        agave::ThreadSet::any(NUM_THREADS),
        |set| least_loaded(set.contained_threads_iter(), load),
    );
    match result {
        Ok(thread) => table.unlock_accounts(writes, reads, black_box(thread)),
        Err(_) => assert!(!case.expect_lock),
    }
}
