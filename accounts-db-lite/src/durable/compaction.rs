//! Compaction (Agave's clean and shrink in one step): a run of consecutive sealed segments
//! worth rewriting is rewritten as one segment holding only their records that no later
//! record superseded, and the old files are removed.
//!
//! # Which segments
//! A sealed segment is worth rewriting when at least half of its account records were
//! superseded by later records, or when it is small (under a quarter of
//! [`OpenOptions::segment_bytes`](super::OpenOptions::segment_bytes): what earlier
//! compactions of sparse segments leave, packed together here). A compaction takes the run
//! of consecutive such segments that drops the most records, provided it pays for its
//! copy: it drops at least half of the run's records, or packs at least two small segments
//! into one. So the segments that are mostly live (the bulk of a large store) are never
//! copied, and what a compaction writes is at most what it drops plus the small segments,
//! not the whole store.
//!
//! A run that starts at the oldest sealed segment is written with a *base* record: its
//! output replaces every segment below it. Any other run is written with a *merge* record
//! naming its first segment. Either way, a deletion is dropped when every record of its
//! account is in the run (the log counts each account's records on disk), and kept when
//! an older segment outside the run may still hold the account. A deletion that is its
//! account's only record deletes nothing: it counts as superseded, so that segments
//! holding such deletions become worth rewriting and the deletions do not pile up.
//!
//! # Protocol
//! 1. Under the log's lock, briefly: pick the run `s0 < … < sk` (the active segment is
//!    never in it) and mark a compaction as running. For a merge in a store still at
//!    format version 2, move its `FORMAT` file to version 3 first, durably.
//! 2. Without the lock: read them, keep each account's last record among them.
//! 3. Under the lock, in chunks: keep a record only if the log's index still names its
//!    segment as holding the account's latest record, and not a deletion all of whose
//!    account's records are in the run.
//! 4. Without the lock: write `segment-sk.log.compacting`: a base or merge record naming
//!    `s0` (or, when `s0` is itself a merge's output, the first segment that merge
//!    replaced, so that its leftovers stay named), the kept records, and the commit record
//!    of `sk` (its slot and state hash);
//!    fsync it; rename it over `segment-sk.log`; fsync the directory; remove the files
//!    earlier compactions left behind, then `s0 … s(k-1)`; fsync the directory.
//! 5. Under the lock: the segment list and counts follow, and the accounts whose latest
//!    record was in the run point at the output; then, a chunk at a time, the other
//!    accounts of the run lose its records from their counts (a count too high meanwhile
//!    only keeps a deletion longer).
//!
//! # Why a crash loses nothing
//! Until the rename, the old segments are intact and an unfinished `.compacting` file is
//! removed at open. From the rename on, `segment-sk.log` starts with a base or merge
//! record, and recovery removes the segments it replaced (for a base, every segment below
//! it; for a merge, those from `s0` up to it); it holds each account's latest record among
//! `s0 … sk` (or a later segment holds a later one), so replaying it in their place gives
//! the same accounts. Every replaced segment stays named by a head that survives (a merge
//! whose run starts at an earlier merge's output names what that one replaced, and the
//! files earlier compactions left behind are removed before the run's own), so recovery
//! never reads one, which matters: it may hold an account whose deletion was dropped.
//! Commits go on during a compaction (they append to the active segment, numbered above
//! `sk`); a record a commit supersedes after step 3 is kept, which costs bytes, not
//! correctness.
//!
//! Loads never touch the files (the store serves them from memory), and commits wait for
//! the lock only during steps 1, 3 (per chunk) and 5 (per chunk after the switch).

use std::io::{Read, Write};
use std::sync::Mutex;

use ahash::AHashMap;
use sdk_lite::{AccountSharedData, Hash, Pubkey, ReadableAccount};

use super::DurableError;
use super::failpoint::check;
use super::format::{self, FORMAT_VERSION};
use super::log::DurableLog;
use super::record::{self, ChecksumKey, Record};
use super::segments::{self, io};

/// Keys checked against the index per hold of the lock.
const KEYS_PER_LOCK: usize = 4096;

/// What one compaction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompactionReport {
    /// Sealed segments replaced by one.
    pub segments_replaced: usize,
    /// Their bytes before.
    pub bytes_before: u64,
    /// The new segment's bytes.
    pub bytes_after: u64,
    /// Account records kept.
    pub records_kept: u64,
    /// Account records dropped (superseded, or deletions with nothing left to delete).
    pub records_dropped: u64,
}

/// Compacts the run of sealed segments of `log` most worth rewriting (see the module doc).
/// `Ok(None)` when there is nothing to gain (no run worth rewriting, no files an earlier
/// compaction left behind) or a compaction is already running. Call it again while it
/// returns `Some` to compact every run worth it; a call that only removed an earlier
/// compaction's leftover files reports 0 segments replaced.
///
/// # Errors
/// I/O or a damaged sealed segment. Before the rename nothing changed; after it, the
/// error is about removing replaced files, which recovery ignores and removes later.
pub fn compact(log: &Mutex<DurableLog>) -> Result<Option<CompactionReport>, DurableError> {
    let lock = || {
        log.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    };
    let (dir, plan, leftovers, key, format_version) = {
        let mut log = lock();
        if log.compacting {
            return Ok(None);
        }
        let plan = plan(&log);
        if plan.is_none() && log.leftovers.is_empty() {
            return Ok(None);
        }
        log.compacting = true;
        (
            log.dir.clone(),
            plan,
            log.leftovers.clone(),
            log.checksum_key,
            log.format_version,
        )
    };
    let result = match plan {
        Some(plan) => {
            // A merge record needs format version 3, durably, before it exists.
            if !plan.oldest && format_version < FORMAT_VERSION {
                if let Err(error) = format::write(&dir, &key, FORMAT_VERSION) {
                    lock().compacting = false;
                    return Err(error);
                }
                lock().format_version = FORMAT_VERSION;
            }
            rewrite(log, &dir, &plan, &leftovers, &key)
        }
        None => remove_leftovers(log, &dir, &leftovers),
    };
    lock().compacting = false;
    result.map(Some)
}

/// The sealed segments one compaction rewrites: consecutive, ascending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) segments: Vec<u64>,
    /// Whether the run starts at the oldest sealed segment (a base: deletions dropped).
    pub(crate) oldest: bool,
}

/// Sealed segment `number`'s account records, how many a later record superseded, and
/// whether it is small (under a quarter of the segment size).
fn segment_counts(log: &DurableLog, number: u64) -> (u64, u64, bool) {
    let records = log.records.get(&number).copied().unwrap_or(0);
    let superseded = log.superseded.get(&number).copied().unwrap_or(0);
    let bytes = log.sealed_bytes.get(&number).copied().unwrap_or(0);
    (records, superseded, bytes < log.segment_bytes() / 4)
}

/// Whether sealed segment `number` is worth rewriting: at least half of its records
/// superseded, or small.
fn worth_rewriting(log: &DurableLog, number: u64) -> bool {
    let (records, superseded, small) = segment_counts(log, number);
    superseded * 2 >= records || small
}

/// The run of consecutive sealed segments worth rewriting that drops the most records
/// (then the longest, then the oldest); `None` when no run pays for its copy. A run pays
/// when it drops at least half of its records, or packs at least two small segments into
/// one: never for a single superseded record in a small segment, which every commit to one
/// of its accounts would otherwise rewrite.
pub(crate) fn plan(log: &DurableLog) -> Option<Plan> {
    let mut best: Option<(u64, usize, usize, usize)> = None; // superseded, length, start, end
    let mut start = 0;
    while start < log.sealed.len() {
        if !worth_rewriting(log, log.sealed[start]) {
            start += 1;
            continue;
        }
        let mut end = start;
        while end + 1 < log.sealed.len() && worth_rewriting(log, log.sealed[end + 1]) {
            end += 1;
        }
        let (mut records, mut superseded, mut small) = (0u64, 0u64, 0usize);
        for &number in &log.sealed[start..=end] {
            let (segment_records, segment_superseded, segment_small) = segment_counts(log, number);
            records += segment_records;
            superseded += segment_superseded;
            small += usize::from(segment_small);
        }
        let length = end - start + 1;
        let pays = (superseded > 0 && superseded * 2 >= records) || small >= 2;
        if pays
            && best.is_none_or(|(best_superseded, best_length, _, _)| {
                (superseded, length) > (best_superseded, best_length)
            })
        {
            best = Some((superseded, length, start, end));
        }
        start = end + 1;
    }
    best.map(|(_, _, start, end)| Plan {
        segments: log.sealed[start..=end].to_vec(),
        oldest: start == 0,
    })
}

/// Removes the segments an earlier compaction replaced but could not remove, when there is
/// nothing to rewrite. The directory is synced first: that makes the rename that replaced
/// them durable, if the earlier compaction's own sync failed.
fn remove_leftovers(
    log: &Mutex<DurableLog>,
    dir: &std::path::Path,
    leftovers: &[u64],
) -> Result<CompactionReport, DurableError> {
    segments::sync_dir(dir)?;
    let (not_removed, remove_error) = remove_segments(dir, leftovers);
    let synced = segments::sync_dir(dir);
    log.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .leftovers = not_removed;
    if let Some(error) = remove_error {
        return Err(error);
    }
    synced?;
    Ok(CompactionReport {
        segments_replaced: 0,
        bytes_before: 0,
        bytes_after: 0,
        records_kept: 0,
        records_dropped: 0,
    })
}

/// Removes segment files `numbers`; returns those that could not be removed and the first
/// error.
fn remove_segments(dir: &std::path::Path, numbers: &[u64]) -> (Vec<u64>, Option<DurableError>) {
    let mut not_removed = Vec::new();
    let mut first_error = None;
    for &number in numbers {
        let path = segments::path(dir, number);
        if let Err(error) = check("compact.remove")
            .and_then(|()| std::fs::remove_file(&path))
            .map_err(io("remove", &path))
        {
            not_removed.push(number);
            first_error.get_or_insert(error);
        }
    }
    (not_removed, first_error)
}

/// One account's records in a compaction's run: the last one, where it is, and how many.
struct RunRecords {
    key: Pubkey,
    segment: u64,
    slot: u64,
    account: AccountSharedData,
    count: u32,
}

/// Steps 2 to 5 of the protocol.
fn rewrite(
    log: &Mutex<DurableLog>,
    dir: &std::path::Path,
    plan: &Plan,
    leftovers: &[u64],
    key: &ChecksumKey,
) -> Result<CompactionReport, DurableError> {
    let segments = plan.segments.as_slice();
    let lock = || {
        log.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    };
    let last = *segments
        .last()
        .expect("invariant: planned with a sealed segment");
    // Step 2: each account's last record among the segments and its number of records
    // there, in first-seen order.
    let mut position: AHashMap<Pubkey, usize> = AHashMap::new();
    let mut runs: Vec<RunRecords> = Vec::new();
    let mut records_before = 0u64;
    let mut bytes_before = 0u64;
    let mut last_commit: Option<(u64, Hash)> = None;
    // The first segment the output replaces (see the merge record below).
    let mut covers_from = segments[0];
    for &number in segments {
        let path = segments::path(dir, number);
        let mut bytes = Vec::new();
        std::fs::File::open(&path)
            .and_then(|mut file| file.read_to_end(&mut bytes))
            .map_err(io("read", &path))?;
        bytes_before += bytes.len() as u64;
        let mut offset = 0;
        while offset < bytes.len() {
            let (decoded, used) =
                record::decode(&bytes[offset..], key).map_err(|error| DurableError::Corrupted {
                    path: path.clone(),
                    offset: offset as u64,
                    reason: match error {
                        record::DecodeError::Incomplete => "sealed segment cut short",
                        record::DecodeError::Damaged(reason) => reason,
                    },
                })?;
            match decoded {
                Record::Account { key, slot, account } => {
                    records_before += 1;
                    match position.entry(key) {
                        std::collections::hash_map::Entry::Occupied(earlier) => {
                            let run = &mut runs[*earlier.get()];
                            run.segment = number;
                            run.slot = slot;
                            run.account = account;
                            run.count += 1;
                        }
                        std::collections::hash_map::Entry::Vacant(first) => {
                            first.insert(runs.len());
                            runs.push(RunRecords {
                                key,
                                segment: number,
                                slot,
                                account,
                                count: 1,
                            });
                        }
                    }
                }
                Record::Commit { slot, state_hash } => last_commit = Some((slot, state_hash)),
                Record::Merged { first_replaced } if offset == 0 => {
                    // The run starts at an earlier merge's output: the new output covers
                    // what that one replaced too, so that its leftovers (if any are still
                    // here) are named by a head that survives.
                    if number == segments[0] {
                        covers_from = covers_from.min(first_replaced);
                    }
                }
                Record::Base { .. } if offset == 0 => {}
                Record::Base { .. } | Record::Merged { .. } => {
                    return Err(DurableError::Corrupted {
                        path: path.clone(),
                        offset: offset as u64,
                        reason: "a compaction record after a segment's start",
                    });
                }
            }
            offset += used;
        }
    }
    let (commit_slot, state_hash) = last_commit.ok_or_else(|| DurableError::Corrupted {
        path: segments::path(dir, last),
        offset: 0,
        reason: "sealed segments without a commit record",
    })?;
    // Step 3: what no later record superseded, less the deletions with nothing left to
    // delete (every record of the account is in the run: always so for a base).
    let mut kept: Vec<(Pubkey, u64, AccountSharedData)> = Vec::new();
    // Accounts whose latest record is in the run (kept or dropped), and the others.
    let mut latest_in_run: Vec<&RunRecords> = Vec::new();
    let mut superseded_before: Vec<&RunRecords> = Vec::new();
    drop(position);
    for chunk in runs.chunks(KEYS_PER_LOCK) {
        let log = lock();
        for run in chunk {
            let Some(on_disk) = log.index.get(&run.key) else {
                continue;
            };
            if on_disk.latest != run.segment {
                superseded_before.push(run);
                continue;
            }
            latest_in_run.push(run);
            let deletes_nothing = run.account.lamports() == 0 && on_disk.count == run.count;
            if !deletes_nothing {
                kept.push((run.key, run.slot, run.account.clone()));
            }
        }
    }
    // Step 4: the new segment, then the switch.
    let mut out = Vec::new();
    if plan.oldest {
        record::encode_base(&mut out, key, segments[0]);
    } else {
        record::encode_merged(&mut out, key, covers_from);
    }
    for (account_key, slot, account) in &kept {
        record::encode_account(&mut out, key, account_key, *slot, account);
    }
    record::encode_commit(&mut out, key, commit_slot, &state_hash);
    let partial = segments::compacting_path(dir, last);
    let written = check("compact.write")
        .and_then(|()| {
            let mut file = std::fs::File::create(&partial)?;
            file.write_all(&out)?;
            check("compact.fsync")?;
            file.sync_all()
        })
        .map_err(io("write", &partial));
    if let Err(error) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(error);
    }
    let final_path = segments::path(dir, last);
    if let Err(error) = check("compact.rename")
        .and_then(|()| std::fs::rename(&partial, &final_path))
        .map_err(io("rename", &final_path))
    {
        let _ = std::fs::remove_file(&partial);
        return Err(error);
    }
    // From here the compaction has happened, whatever follows; the old files go only once
    // the rename is durable (until then they are what recovery reads if it is lost).
    let synced = segments::sync_dir(dir);
    // Earlier leftovers first: a crash part-way through then leaves only files this
    // output's own head names.
    let replaced: Vec<u64> = leftovers
        .iter()
        .chain(&segments[..segments.len() - 1])
        .copied()
        .collect();
    let (not_removed, remove_error) = if synced.is_ok() {
        remove_segments(dir, &replaced)
    } else {
        (replaced.clone(), None)
    };
    let removal_synced = segments::sync_dir(dir);
    // Step 5.
    let kept_keys: ahash::AHashSet<Pubkey> = kept.iter().map(|(key, _, _)| *key).collect();
    let mut superseded_since: Vec<&RunRecords> = Vec::new();
    {
        let mut log = lock();
        // The output takes the place of the run's last segment: the list stays ascending.
        log.sealed
            .retain(|number| *number == last || !segments.contains(number));
        for number in segments {
            log.records.remove(number);
            log.superseded.remove(number);
            log.sealed_bytes.remove(number);
        }
        log.sealed_bytes.insert(last, out.len() as u64);
        log.records.insert(last, kept.len() as u64);
        // The accounts whose latest record is still in the run switch to the output here;
        // the rest only lose the run's records from their counts, below, a chunk at a time
        // (until then a count is too high, which only keeps a deletion longer).
        let mut superseded_in_output = 0;
        for &run in &latest_in_run {
            let key = &run.key;
            let Some(mut on_disk) = log.index.get(key).copied() else {
                continue;
            };
            if !segments.contains(&on_disk.latest) {
                // A commit since step 3 wrote the account again.
                superseded_since.push(run);
                continue;
            }
            on_disk.count = on_disk
                .count
                .saturating_sub(run.count)
                .saturating_add(u32::from(kept_keys.contains(key)));
            if on_disk.count == 0 {
                // Its only records were in the run, and none was kept (a deletion with
                // nothing to delete).
                log.index.remove(key);
                continue;
            }
            on_disk.latest = last;
            if on_disk.is_dead() {
                superseded_in_output += 1;
            }
            log.index.insert(*key, on_disk);
        }
        log.superseded.insert(last, superseded_in_output);
        log.leftovers = not_removed;
    }
    for chunk in superseded_before
        .chunks(KEYS_PER_LOCK)
        .chain(superseded_since.chunks(KEYS_PER_LOCK))
    {
        let mut log = lock();
        for run in chunk {
            // Only an account a commit wrote again since step 3 can have a kept record.
            let kept_here = !superseded_since.is_empty() && kept_keys.contains(&run.key);
            let Some(on_disk) = log.index.get_mut(&run.key) else {
                continue;
            };
            let was_dead = on_disk.is_dead();
            on_disk.count = on_disk
                .count
                .saturating_sub(run.count)
                .saturating_add(u32::from(kept_here))
                .max(1);
            // A deletion whose older records went with the run now deletes nothing: it is
            // as good as superseded.
            let newly_dead = on_disk.is_dead() && !was_dead;
            let segment = on_disk.latest;
            if newly_dead {
                *log.superseded.entry(segment).or_default() += 1;
            }
            if kept_here {
                // The output's record of it was superseded by a commit since step 3.
                *log.superseded.entry(last).or_default() += 1;
            }
        }
    }
    let report = CompactionReport {
        segments_replaced: segments.len(),
        bytes_before,
        bytes_after: out.len() as u64,
        records_kept: kept.len() as u64,
        records_dropped: records_before - kept.len() as u64,
    };
    log::info!(
        "compacted {} segments: {} -> {} bytes, {} records kept, {} dropped",
        report.segments_replaced,
        report.bytes_before,
        report.bytes_after,
        report.records_kept,
        report.records_dropped
    );
    synced?;
    if let Some(error) = remove_error {
        return Err(error);
    }
    removal_synced?;
    Ok(report)
}

/// Test-only: a hook the compaction thread calls between deciding whether more work is
/// left and looking for a wake-up, where a commit's wake-up could be lost.
#[cfg(test)]
pub(crate) mod test_hooks {
    use std::sync::Mutex;

    /// The hook, called with whether more compaction was wanted. Only the unit test that
    /// sets it opens a store compacting in the background in this crate's unit tests.
    #[allow(clippy::type_complexity)]
    pub(crate) static AFTER_CHECK: Mutex<Option<Box<dyn FnMut(bool) + Send>>> = Mutex::new(None);

    pub(super) fn after_check(wants_more: bool) {
        if let Some(hook) = AFTER_CHECK
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_mut()
        {
            hook(wants_more);
        }
    }
}

/// A thread that compacts a log when woken, until dropped.
#[derive(Debug)]
pub(crate) struct BackgroundCompactor {
    wake: Option<std::sync::mpsc::SyncSender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BackgroundCompactor {
    /// Starts the thread for `log`.
    pub(crate) fn start(log: std::sync::Arc<Mutex<DurableLog>>) -> Self {
        // One pending wake-up is enough: once woken, the thread compacts run after run
        // while any is worth it.
        let (wake, woken) = std::sync::mpsc::sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("accounts-compaction".to_owned())
            .spawn(move || {
                while woken.recv().is_ok() {
                    // One run per compaction: go on while another is worth rewriting. Each
                    // one drops records or packs segments, so this ends once commits stop
                    // (and no later commit may come to wake the thread again); a failure
                    // waits for the next wake-up, so a failing disk is not retried in a
                    // loop.
                    loop {
                        match compact(&log) {
                            Ok(Some(_)) => {}
                            Ok(None) => break,
                            Err(error) => {
                                log::error!("background compaction failed: {error}");
                                break;
                            }
                        }
                        let wants_more = log
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .wants_compaction();
                        #[cfg(test)]
                        test_hooks::after_check(wants_more);
                        // A wake-up that came meanwhile is work too: a commit may have made a
                        // run worth it after the check above.
                        let woken_meanwhile = match woken.try_recv() {
                            Ok(()) => true,
                            Err(std::sync::mpsc::TryRecvError::Empty) => false,
                            // The store was dropped.
                            Err(std::sync::mpsc::TryRecvError::Disconnected) => return,
                        };
                        if !wants_more && !woken_meanwhile {
                            break;
                        }
                    }
                }
            })
            .expect("invariant: the OS can start the compaction thread");
        Self {
            wake: Some(wake),
            thread: Some(thread),
        }
    }

    /// Asks for a compaction (does nothing if one is already asked for).
    pub(crate) fn wake(&self) {
        if let Some(wake) = &self.wake {
            let _ = wake.try_send(());
        }
    }
}

impl Drop for BackgroundCompactor {
    fn drop(&mut self) {
        // Closing the channel ends the thread after the compaction it may be running.
        drop(self.wake.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
