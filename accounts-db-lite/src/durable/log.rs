//! `DurableLog`: the segments, the commit protocol, rolling, and recovery.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use ahash::AHashMap;
use sdk_lite::{AccountSharedData, Hash, Pubkey, ReadableAccount};

use super::DurableError;
use super::failpoint::check;
use super::format;
use super::record::{self, ChecksumKey, DecodeError, Record};
use super::segments::{self, io};

/// The file a store's process holds locked while it has the store open.
const LOCK_FILE: &str = "LOCK";

/// How long `open` waits for a store's lock before reporting it held.
const LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_millis(500);

/// The default size at which the active segment is sealed and a new one started.
pub const DEFAULT_SEGMENT_BYTES: u64 = 64 << 20;

/// How to open a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenOptions {
    /// On corruption before the last complete commit, recover to the last good commit
    /// before the damage (losing what follows) instead of failing.
    pub truncate_to_last_good_commit: bool,
    /// A commit that finds the active segment this large (in bytes) first seals it and
    /// starts a new one. Sealed segments are what compaction rewrites.
    pub segment_bytes: u64,
    /// Compact on a background thread whenever a run of sealed segments is worth rewriting
    /// (at least half of each one's account records superseded by later ones, or small:
    /// see [`compact`](super::compact)).
    pub background_compaction: bool,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            truncate_to_last_good_commit: false,
            segment_bytes: DEFAULT_SEGMENT_BYTES,
            background_compaction: true,
        }
    }
}

/// What followed the last complete commit at open: discarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TornTail {
    /// Where it started (the end of the last complete commit record, in the segment that
    /// held the damage).
    pub offset: u64,
    /// Its length.
    pub bytes: u64,
}

/// What open recovered.
#[derive(Debug, Clone, PartialEq)]
pub struct Recovered {
    /// The accounts as of the last complete commit.
    pub accounts: Vec<(Pubkey, AccountSharedData)>,
    /// The last committed slot and its state hash (`None` for a new store).
    pub last_commit: Option<(u64, Hash)>,
    /// The torn tail discarded, if any.
    pub torn_tail: Option<TornTail>,
    /// The offset of the corruption skipped by
    /// [`OpenOptions::truncate_to_last_good_commit`], if any.
    pub truncated_corruption: Option<u64>,
    /// Files of an interrupted compaction removed at open (an unfinished output, or
    /// segments a finished one replaced).
    pub compaction_leftovers_removed: usize,
}

/// The store's segments at a moment, for reports and compaction triggers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SegmentStats {
    /// Live segment files, the active one included.
    pub segments: usize,
    /// Their committed bytes.
    pub bytes: u64,
    /// Account records in sealed segments.
    pub sealed_records: u64,
    /// Of those, records a later record of the same account superseded.
    pub sealed_superseded: u64,
}

/// What the log knows of one key's records on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct KeyRecords {
    /// The segment holding the latest record.
    pub(super) latest: u64,
    /// Records of the key in live segments, the latest included.
    pub(super) count: u32,
    /// Whether the latest record deletes the account (0 lamports).
    pub(super) deleted: bool,
}

impl KeyRecords {
    /// A deletion that is the key's only record deletes nothing: compaction drops it (and
    /// counts it as superseded, so that it is worth dropping).
    pub(super) fn is_dead(&self) -> bool {
        self.deleted && self.count == 1
    }
}

/// The durable log of one store.
#[derive(Debug)]
pub struct DurableLog {
    pub(super) dir: PathBuf,
    options: OpenOptions,
    /// The segment appended to.
    active: u64,
    path: PathBuf,
    file: File,
    /// The end of the last complete commit record in the active segment: where the next
    /// write goes.
    end: u64,
    /// Records of slots not yet committed (kept across a failed commit, so the next one
    /// writes them too), and their keys.
    pending: Vec<u8>,
    /// (key, whether the record deletes it)
    pending_keys: Vec<(Pubkey, bool)>,
    /// The newest slot with pending records, and where its records start in `pending` and
    /// `pending_keys` (so that slot can be discarded without the ones before it).
    pending_slot: Option<(u64, usize, usize)>,
    /// A failed commit could not restore the file's end: no more writes.
    poisoned: bool,
    /// The last slot made durable.
    last_committed: Option<u64>,
    /// Sealed segments (below `active`), ascending.
    pub(super) sealed: Vec<u64>,
    /// Per key with a committed record on disk: where its latest record is, and how many
    /// it has.
    pub(super) index: AHashMap<Pubkey, KeyRecords>,
    /// Per live segment: committed account records, and how many a later record
    /// superseded.
    pub(super) records: AHashMap<u64, u64>,
    pub(super) superseded: AHashMap<u64, u64>,
    /// Committed bytes per sealed segment.
    pub(super) sealed_bytes: AHashMap<u64, u64>,
    /// Segments a compaction replaced but could not remove (ignored by recovery).
    pub(super) leftovers: Vec<u64>,
    /// A compaction is running.
    pub(super) compacting: bool,
    /// Held locked for the life of the log (see `open`); released when dropped.
    _lock: File,
    /// The key of this store's checksums.
    pub(super) checksum_key: ChecksumKey,
    /// The version its `FORMAT` file says.
    pub(super) format_version: u32,
}

impl DurableLog {
    /// Opens (or creates) the store in `dir` and recovers its state.
    ///
    /// # Errors
    /// I/O, a directory that is not a store or is newer, corruption before the last
    /// commit (unless `options` truncates it).
    pub fn open(dir: &Path, options: OpenOptions) -> Result<(Self, Recovered), DurableError> {
        if !dir.exists() {
            std::fs::create_dir_all(dir).map_err(io("create", dir))?;
            // The directory's own entry is durable before anything in it counts on it.
            if let Some(parent) = dir.parent().filter(|parent| !parent.as_os_str().is_empty()) {
                segments::sync_dir(parent)?;
            }
        }
        // One process at a time: a second opener would take the first one's unfinished
        // slot for a torn tail and cut it.
        let lock_path = dir.join(LOCK_FILE);
        let lock = File::create(&lock_path).map_err(io("create", &lock_path))?;
        // Tried for a short while: a process that forks (to run another program) shares
        // this process's open files until the child starts that program, so a lock just
        // released here may stay held for that instant.
        let deadline = std::time::Instant::now() + LOCK_PATIENCE;
        loop {
            match lock.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(DurableError::Locked(dir.to_path_buf()));
                }
                Err(std::fs::TryLockError::Error(source)) => {
                    return Err(DurableError::Io {
                        operation: "lock",
                        path: lock_path,
                        source,
                    });
                }
            }
        }
        let format = format::read(dir)?;
        let (numbers, unfinished) = segments::list(dir)?;
        if format.is_some() && numbers.is_empty() {
            // The format says a store lives here; its log cannot be silently recreated.
            return Err(DurableError::MissingSegment(segments::path(dir, 0)));
        }
        if format.is_none() {
            // A new store writes its `FORMAT` file before its first record, so a log with
            // records and no `FORMAT` lost the file, and with it the checksum key: a fresh
            // key would read every record as damage, a torn tail, and discard the log.
            for &number in &numbers {
                let path = segments::path(dir, number);
                let length = std::fs::metadata(&path).map_err(io("stat", &path))?.len();
                if length > 0 {
                    return Err(DurableError::MissingFormat(dir.to_path_buf()));
                }
            }
        }
        let mut removed = 0;
        for path in unfinished {
            std::fs::remove_file(&path).map_err(io("remove", &path))?;
            removed += 1;
        }
        // A new store draws its checksum key; an older one keeps what it has.
        let checksum_key = match format {
            Some(format) => format.checksum_key,
            None => Some(format::new_checksum_key(dir)),
        };
        // Segments a finished compaction replaced but had not removed yet. The newest
        // segment written by a compaction of the oldest segments replaces every segment
        // below it; one written by a merge, the segments from the one it names up to it.
        let mut live = numbers;
        let heads: Vec<(u64, Option<Record>)> = live
            .iter()
            .map(|&number| (number, compaction_head(dir, number, &checksum_key)))
            .collect();
        let newest_base = heads
            .iter()
            .rposition(|(_, head)| matches!(head, Some(Record::Base { .. })));
        let merges: Vec<(u64, u64)> = heads
            .iter()
            .filter_map(|&(number, ref head)| match head {
                Some(Record::Merged { first_replaced }) => Some((*first_replaced, number)),
                _ => None,
            })
            .collect();
        let replaced: Vec<u64> = live
            .iter()
            .enumerate()
            .filter(|&(position, &number)| {
                newest_base.is_some_and(|base| position < base)
                    || merges
                        .iter()
                        .any(|&(first, merged)| first <= number && number < merged)
            })
            .map(|(_, &number)| number)
            .collect();
        for &number in &replaced {
            let path = segments::path(dir, number);
            std::fs::remove_file(&path).map_err(io("remove", &path))?;
            removed += 1;
        }
        live.retain(|number| !replaced.contains(number));
        if live.is_empty() {
            let path = segments::path(dir, 0);
            File::create(&path).map_err(io("create", &path))?;
            live.push(0);
        }
        // The segments' directory entries (a creation, removals) must be durable before
        // anything committed counts on them; cheap, so done on every open.
        segments::sync_dir(dir)?;
        let format_version = format.map_or(format::WITHOUT_MERGES, |format| {
            format.version.max(format::WITHOUT_MERGES)
        });
        if format.is_none_or(|format| format.version < format_version) {
            // Last for a new store: a directory with a FORMAT file always has its log.
            // A version-1 store is upgraded before this code may write what it cannot
            // read. (Version 3 waits for the first merge record: see `FORMAT_VERSION`.)
            format::write(dir, &checksum_key, format_version)?;
        }
        let scan = scan(dir, &live, options, &checksum_key)?;
        if let Some(offset) = scan.truncated_corruption
            && scan.last_commit.is_none()
        {
            // Truncating would leave no commit at all: the store would silently start over
            // from its genesis.
            return Err(DurableError::Corrupted {
                path: segments::path(dir, live[scan.last_live]),
                offset,
                reason: "damage before the first commit: nothing to recover to",
            });
        }
        // Segments after the one that ended the scan hold nothing committed (or, asked to
        // truncate, what follows the damage): gone, durably, before anything is written.
        let later = &live[scan.last_live + 1..];
        for &number in later {
            let path = segments::path(dir, number);
            std::fs::remove_file(&path).map_err(io("remove", &path))?;
        }
        if !later.is_empty() {
            segments::sync_dir(dir)?;
        }
        live.truncate(scan.last_live + 1);
        let active = *live.last().expect("invariant: at least one live segment");
        let path = segments::path(dir, active);
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io("open", &path))?;
        let length = file.metadata().map_err(io("stat", &path))?.len();
        if scan.end < length {
            if scan.torn_tail.is_some() {
                log::warn!(
                    "{}: discarding a torn tail of {} bytes at offset {}",
                    path.display(),
                    length - scan.end,
                    scan.end
                );
            }
            file.set_len(scan.end).map_err(io("truncate", &path))?;
            file.sync_data().map_err(io("fsync", &path))?;
        }
        file.seek(SeekFrom::Start(scan.end))
            .map_err(io("seek", &path))?;
        let last_commit = scan.last_commit;
        let mut accounts: Vec<(Pubkey, AccountSharedData)> = scan.accounts.into_iter().collect();
        accounts.sort_unstable_by_key(|(key, _)| *key);
        let sealed: Vec<u64> = live[..live.len() - 1].to_vec();
        let mut superseded: AHashMap<u64, u64> = AHashMap::new();
        let mut latest: AHashMap<u64, u64> = AHashMap::new();
        for records in scan.index.values() {
            // A dead deletion's record is as good as superseded.
            if !records.is_dead() {
                *latest.entry(records.latest).or_default() += 1;
            }
        }
        for (&segment, &count) in &scan.records {
            superseded.insert(
                segment,
                count.saturating_sub(latest.get(&segment).copied().unwrap_or(0)),
            );
        }
        Ok((
            Self {
                dir: dir.to_path_buf(),
                options,
                active,
                path,
                file,
                end: scan.end,
                pending: Vec::new(),
                pending_keys: Vec::new(),
                pending_slot: None,
                poisoned: false,
                last_committed: last_commit.map(|(slot, _)| slot),
                sealed_bytes: sealed
                    .iter()
                    .map(|&number| (number, scan.bytes.get(&number).copied().unwrap_or(0)))
                    .collect(),
                sealed,
                index: scan.index,
                records: scan.records,
                superseded,
                leftovers: Vec::new(),
                compacting: false,
                _lock: lock,
                checksum_key,
                format_version,
            },
            Recovered {
                accounts,
                last_commit,
                torn_tail: scan.torn_tail,
                truncated_corruption: scan.truncated_corruption,
                compaction_leftovers_removed: removed,
            },
        ))
    }

    /// Buffers `accounts`, written in `slot`, for the next commit.
    pub fn append(&mut self, slot: u64, accounts: &[(Pubkey, AccountSharedData)]) {
        if self
            .pending_slot
            .is_none_or(|(pending, _, _)| pending != slot)
        {
            self.pending_slot = Some((slot, self.pending.len(), self.pending_keys.len()));
        }
        for (key, account) in accounts {
            record::encode_account(&mut self.pending, &self.checksum_key, key, slot, account);
            self.pending_keys.push((*key, account.lamports() == 0));
        }
    }

    /// Whether a failed commit could not cut the file back: the log refuses every later
    /// commit, and the failed one's records may be on disk.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    /// Drops the buffered records of `slot` if it is the newest slot buffered (a slot
    /// the store discarded); records of earlier slots a failed commit left stay buffered.
    pub fn discard(&mut self, slot: u64) {
        if let Some((pending, bytes, keys)) = self.pending_slot
            && pending == slot
        {
            self.pending.truncate(bytes);
            self.pending_keys.truncate(keys);
            self.pending_slot = None;
        }
    }

    /// Makes every buffered record durable, then a commit record for `slot` with
    /// `state_hash`: records, fsync, commit record, fsync. A commit that finds the active
    /// segment full seals it and starts the next one first.
    ///
    /// # Errors
    /// I/O. The file is cut back to the previous commit and the buffered records are kept,
    /// so the next commit writes them too; if the file cannot be cut back, the log refuses
    /// every later commit.
    pub fn commit(&mut self, slot: u64, state_hash: &Hash) -> Result<(), DurableError> {
        if let Some(last) = self.last_committed.filter(|&last| slot <= last) {
            return Err(DurableError::SlotOutOfOrder { slot, last });
        }
        if self.poisoned {
            return Err(DurableError::Io {
                operation: "commit (after an unrecoverable write failure)",
                path: self.path.clone(),
                source: std::io::Error::other("the log is poisoned"),
            });
        }
        if self.end >= self.options.segment_bytes.max(1) {
            self.roll()?;
        }
        let mut commit = Vec::with_capacity(64);
        record::encode_commit(&mut commit, &self.checksum_key, slot, state_hash);
        match self.write_commit(&commit) {
            Ok(()) => {
                self.end += (self.pending.len() + commit.len()) as u64;
                self.pending.clear();
                self.pending_slot = None;
                let active = self.active;
                *self.records.entry(active).or_default() += self.pending_keys.len() as u64;
                for (key, deleted) in self.pending_keys.drain(..) {
                    let entry = self.index.entry(key).or_insert(KeyRecords {
                        latest: active,
                        count: 0,
                        deleted,
                    });
                    if entry.count > 0 && !entry.is_dead() {
                        // (A dead deletion was counted superseded already.)
                        *self.superseded.entry(entry.latest).or_default() += 1;
                    }
                    *entry = KeyRecords {
                        latest: active,
                        count: entry.count.saturating_add(1),
                        deleted,
                    };
                    if entry.is_dead() {
                        *self.superseded.entry(active).or_default() += 1;
                    }
                }
                self.last_committed = Some(slot);
                Ok(())
            }
            Err(error) => {
                // Cut back to the last commit, durably: a commit reported failed must not
                // reappear after a power loss.
                let restored = self
                    .file
                    .set_len(self.end)
                    .and_then(|()| self.file.sync_data())
                    .and_then(|()| self.file.seek(SeekFrom::Start(self.end)).map(|_| ()));
                if restored.is_err() {
                    self.poisoned = true;
                }
                Err(error)
            }
        }
    }

    fn write_commit(&mut self, commit: &[u8]) -> Result<(), DurableError> {
        let path = &self.path;
        check("records.write").map_err(io("write", path))?;
        self.file
            .write_all(&self.pending)
            .map_err(io("write", path))?;
        check("records.fsync").map_err(io("fsync", path))?;
        self.file.sync_data().map_err(io("fsync", path))?;
        check("commit.write").map_err(io("write", path))?;
        self.file.write_all(commit).map_err(io("write", path))?;
        check("commit.fsync").map_err(io("fsync", path))?;
        self.file.sync_data().map_err(io("fsync", path))?;
        Ok(())
    }

    /// Seals the active segment (it ends with a commit record) and starts the next one.
    fn roll(&mut self) -> Result<(), DurableError> {
        let next = self.active + 1;
        let path = segments::path(&self.dir, next);
        check("segment.create").map_err(io("create", &path))?;
        // An empty file a failed roll could not remove is reused; one with records in it
        // is not this log's to overwrite.
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io("create", &path))?;
        if file.metadata().map_err(io("stat", &path))?.len() != 0 {
            return Err(DurableError::Io {
                operation: "create",
                path,
                source: std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "the next segment already holds records",
                ),
            });
        }
        // Its directory entry is durable before a commit in it is acknowledged.
        if let Err(error) = check("segment.dir-fsync")
            .map_err(io("fsync", &self.dir))
            .and_then(|()| segments::sync_dir(&self.dir))
        {
            drop(file);
            let _ = std::fs::remove_file(&path);
            return Err(error);
        }
        log::debug!("sealed segment {} at {} bytes", self.active, self.end);
        self.sealed.push(self.active);
        self.sealed_bytes.insert(self.active, self.end);
        self.active = next;
        self.path = path;
        self.file = file;
        self.end = 0;
        Ok(())
    }

    /// Bytes of committed records in the live segments.
    pub fn committed_bytes(&self) -> u64 {
        self.sealed_bytes.values().sum::<u64>() + self.end
    }

    /// The segments now.
    pub fn stats(&self) -> SegmentStats {
        let sum = |map: &AHashMap<u64, u64>| -> u64 {
            self.sealed
                .iter()
                .map(|number| map.get(number).copied().unwrap_or(0))
                .sum()
        };
        SegmentStats {
            segments: self.sealed.len() + 1,
            bytes: self.committed_bytes(),
            sealed_records: sum(&self.records),
            sealed_superseded: sum(&self.superseded),
        }
    }

    /// Whether a compaction would pay (a run of sealed segments is worth rewriting, see
    /// [`compact`](super::compact), or an earlier compaction left files behind) and none
    /// is running.
    pub fn wants_compaction(&self) -> bool {
        !self.compacting && (!self.leftovers.is_empty() || super::compaction::plan(self).is_some())
    }

    /// The size at which the active segment is sealed.
    pub(super) fn segment_bytes(&self) -> u64 {
        self.options.segment_bytes.max(1)
    }

    /// Whether the store compacts in the background.
    pub fn background_compaction(&self) -> bool {
        self.options.background_compaction
    }
}

/// Segment `number`'s first record if it is a base or merge record (the segment was
/// written by compaction); `None` otherwise.
fn compaction_head(dir: &Path, number: u64, key: &ChecksumKey) -> Option<Record> {
    let mut head = [0u8; record::FRAME_HEADER + 8 + record::CHECKSUM_LEN];
    let mut file = File::open(segments::path(dir, number)).ok()?;
    file.read_exact(&mut head).ok()?;
    match record::decode(&head, key) {
        Ok((record @ (Record::Base { .. } | Record::Merged { .. }), _)) => Some(record),
        _ => None,
    }
}

struct Scan {
    accounts: AHashMap<Pubkey, AccountSharedData>,
    last_commit: Option<(u64, Hash)>,
    /// Index into the live segments of the last one holding anything committed (or the
    /// damage), and the end of its last complete commit record.
    last_live: usize,
    end: u64,
    torn_tail: Option<TornTail>,
    truncated_corruption: Option<u64>,
    index: AHashMap<Pubkey, KeyRecords>,
    /// Committed account records and bytes per segment.
    records: AHashMap<u64, u64>,
    bytes: AHashMap<u64, u64>,
}

/// Reads the live segments in order as one log: applies each commit's records, and stops
/// at the end, at a torn tail, or at damage (corruption if a complete commit record
/// follows it, in the same segment or a later one).
fn scan(
    dir: &Path,
    live: &[u64],
    options: OpenOptions,
    key: &ChecksumKey,
) -> Result<Scan, DurableError> {
    let mut result = Scan {
        accounts: AHashMap::new(),
        last_commit: None,
        last_live: 0,
        end: 0,
        torn_tail: None,
        truncated_corruption: None,
        index: AHashMap::new(),
        records: AHashMap::new(),
        bytes: AHashMap::new(),
    };
    let mut pending: Vec<(Pubkey, AccountSharedData)> = Vec::new();
    for (position, &number) in live.iter().enumerate() {
        let path = segments::path(dir, number);
        let mut bytes = Vec::new();
        File::open(&path)
            .and_then(|mut file| file.read_to_end(&mut bytes))
            .map_err(io("read", &path))?;
        result.last_live = position;
        result.end = 0;
        let mut offset = 0;
        let mut committed_records = 0u64;
        while offset < bytes.len() {
            let damage = match record::decode(&bytes[offset..], key) {
                Ok((Record::Account { key, account, .. }, used)) => {
                    pending.push((key, account));
                    offset += used;
                    continue;
                }
                Ok((Record::Base { .. }, used)) if offset == 0 && position == 0 => {
                    offset += used;
                    continue;
                }
                Ok((Record::Base { .. }, _)) => "a base record after the first segment's start",
                Ok((Record::Merged { .. }, used)) if offset == 0 => {
                    offset += used;
                    continue;
                }
                Ok((Record::Merged { .. }, _)) => "a merge record after a segment's start",
                Ok((Record::Commit { slot, state_hash }, used)) => {
                    if result.last_commit.is_some_and(|(last, _)| slot <= last) {
                        return Err(DurableError::Corrupted {
                            path,
                            offset: offset as u64,
                            reason: "commit slots out of order",
                        });
                    }
                    committed_records += pending.len() as u64;
                    for (key, account) in pending.drain(..) {
                        let deleted = account.lamports() == 0;
                        let entry = result.index.entry(key).or_insert(KeyRecords {
                            latest: number,
                            count: 0,
                            deleted,
                        });
                        *entry = KeyRecords {
                            latest: number,
                            count: entry.count.saturating_add(1),
                            deleted,
                        };
                        if deleted {
                            result.accounts.remove(&key);
                        } else {
                            result.accounts.insert(key, account);
                        }
                    }
                    offset += used;
                    result.end = offset as u64;
                    result.last_commit = Some((slot, state_hash));
                    continue;
                }
                Err(DecodeError::Incomplete) => "record runs past the end of the file",
                Err(DecodeError::Damaged(reason)) => reason,
            };
            // A crash leaves a prefix of what was written, so a complete commit after the
            // damage (searched byte by byte, since a length field may be what is damaged)
            // means the damage is corruption. Account data cannot fake that commit:
            // checksums are keyed with the store's secret. Two more shapes a crash cannot
            // leave. Damage in a sealed segment (any but the last: it ended with a commit
            // made durable before the next segment was created, so later segments need
            // not be read). And no commit verified yet, with a whole commit-shaped record
            // after the damage and more bytes after that: the records before a commit are
            // made durable before it is written, and a commit cut short is the last thing
            // in the file, so nothing verifying means the key is wrong (a `FORMAT` file
            // from another store) or the log is damaged.
            let sealed = position + 1 < live.len();
            let damage = if sealed || commit_follows(&bytes, offset + 1, key) {
                damage
            } else if result.last_commit.is_none() && unverified_commit_before_more(&bytes, offset)
            {
                "no commit verifies under the store's checksum key (is its FORMAT file its own?)"
            } else {
                // Damage (or a record cut short) with no commit after it: a write the
                // crash cut short.
                result.torn_tail = Some(TornTail {
                    offset: result.end,
                    bytes: bytes.len() as u64 - result.end,
                });
                result.records.insert(number, committed_records);
                result.bytes.insert(number, result.end);
                return Ok(result);
            };
            if options.truncate_to_last_good_commit {
                log::warn!(
                    "{}: corruption at offset {offset} ({damage}); recovering to the last good commit",
                    path.display()
                );
                result.truncated_corruption = Some(offset as u64);
            } else {
                return Err(DurableError::Corrupted {
                    path,
                    offset: offset as u64,
                    reason: damage,
                });
            }
            result.records.insert(number, committed_records);
            result.bytes.insert(number, result.end);
            return Ok(result);
        }
        if !pending.is_empty() {
            // Records with no commit after them at the end of a segment: a torn tail in the
            // newest segment, corruption in a sealed one (which ended with a commit made
            // durable before the next segment was created).
            let sealed = position + 1 < live.len();
            if sealed && !options.truncate_to_last_good_commit {
                return Err(DurableError::Corrupted {
                    path,
                    offset: result.end,
                    reason: "uncommitted records at the end of a sealed segment",
                });
            }
            if sealed {
                result.truncated_corruption = Some(result.end);
            } else {
                result.torn_tail = Some(TornTail {
                    offset: result.end,
                    bytes: bytes.len() as u64 - result.end,
                });
            }
            result.records.insert(number, committed_records);
            result.bytes.insert(number, result.end);
            return Ok(result);
        }
        result.records.insert(number, committed_records);
        result.bytes.insert(number, result.end);
    }
    Ok(result)
}

/// Whether a whole commit-shaped record (its frame's magic, kind and length, and room for
/// its payload and checksum, which need not verify) starts at or after `from` and is
/// followed by more bytes.
fn unverified_commit_before_more(bytes: &[u8], from: usize) -> bool {
    let magic = record::MAGIC.to_le_bytes();
    let length = (record::COMMIT_PAYLOAD as u32).to_le_bytes();
    let whole = record::FRAME_HEADER + record::COMMIT_PAYLOAD + record::CHECKSUM_LEN;
    (from..bytes.len().saturating_sub(whole)).any(|at| {
        bytes[at..at + 4] == magic
            && bytes[at + 4] == record::KIND_COMMIT
            && bytes[at + 5..at + 9] == length
    })
}

/// Whether a complete, valid commit record starts anywhere at or after `from`.
fn commit_follows(bytes: &[u8], from: usize, key: &ChecksumKey) -> bool {
    let magic = record::MAGIC.to_le_bytes();
    (from..bytes.len().saturating_sub(record::FRAME_HEADER - 1)).any(|at| {
        // Only a commit-shaped frame is worth a checksum: a hostile file of record marks
        // claiming huge payloads costs nothing here.
        bytes[at..at + 4] == magic
            && bytes[at + 4] == record::KIND_COMMIT
            && bytes[at + 5..at + 9] == (record::COMMIT_PAYLOAD as u32).to_le_bytes()
            && matches!(
                record::decode(&bytes[at..], key),
                Ok((Record::Commit { .. }, _))
            )
    })
}
