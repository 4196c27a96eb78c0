//! `DurableLog`: the append-only segment, its commit protocol and its recovery.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use ahash::AHashMap;
use sdk_lite::{AccountSharedData, Hash, Pubkey, ReadableAccount};

use super::DurableError;
use super::failpoint::check;
use super::format;
use super::record::{self, DecodeError, Record};

const SEGMENT: &str = "segment-000000.log";

/// How to open a store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenOptions {
    /// On corruption before the last complete commit, recover to the last good commit
    /// before the damage (losing what follows) instead of failing.
    pub truncate_to_last_good_commit: bool,
}

/// What followed the last complete commit at open: discarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TornTail {
    /// Where it started (the end of the last complete commit record).
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
}

/// The durable log of one store.
#[derive(Debug)]
pub struct DurableLog {
    path: PathBuf,
    file: File,
    /// The end of the last complete commit record: where the next write goes.
    end: u64,
    /// Records of slots not yet committed (kept across a failed commit, so the next one
    /// writes them too).
    pending: Vec<u8>,
    /// A failed commit could not restore the file's end: no more writes.
    poisoned: bool,
    /// The last slot made durable.
    last_committed: Option<u64>,
}

fn io(operation: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> DurableError {
    let path = path.to_path_buf();
    move |source| DurableError::Io {
        operation,
        path,
        source,
    }
}

impl DurableLog {
    /// Opens (or creates) the store in `dir` and recovers its state.
    ///
    /// # Errors
    /// I/O, a directory that is not a store or is newer, corruption before the last
    /// commit (unless `options` truncates it).
    pub fn open(dir: &Path, options: OpenOptions) -> Result<(Self, Recovered), DurableError> {
        std::fs::create_dir_all(dir).map_err(io("create", dir))?;
        let had_format = format::read(dir)?.is_some();
        let path = dir.join(SEGMENT);
        if had_format && !path.exists() {
            // The format says a store lives here; its log cannot be silently recreated.
            return Err(DurableError::MissingSegment(path));
        }
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io("open", &path))?;
        // The segment's directory entry must be durable before anything committed in it
        // counts on it; cheap, so done on every open (a crash may have come between a
        // creation and its directory fsync).
        File::open(dir)
            .and_then(|directory| directory.sync_all())
            .map_err(io("fsync", dir))?;
        if !had_format {
            // Last: a directory with a FORMAT file always has its log.
            format::write(dir)?;
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io("read", &path))?;
        let scan = scan(&bytes, &path, options)?;
        let end = scan.end as u64;
        let torn_tail =
            (end < bytes.len() as u64 && scan.truncated_corruption.is_none()).then(|| TornTail {
                offset: end,
                bytes: bytes.len() as u64 - end,
            });
        if end < bytes.len() as u64 {
            if let Some(tail) = &torn_tail {
                log::warn!(
                    "{}: discarding a torn tail of {} bytes at offset {}",
                    path.display(),
                    tail.bytes,
                    tail.offset
                );
            }
            file.set_len(end).map_err(io("truncate", &path))?;
            file.sync_data().map_err(io("fsync", &path))?;
        }
        file.seek(SeekFrom::Start(end)).map_err(io("seek", &path))?;
        let last_commit = scan.last_commit;
        let mut accounts: Vec<(Pubkey, AccountSharedData)> = scan.accounts.into_iter().collect();
        accounts.sort_unstable_by_key(|(key, _)| *key);
        Ok((
            Self {
                path,
                file,
                end,
                pending: Vec::new(),
                poisoned: false,
                last_committed: last_commit.map(|(slot, _)| slot),
            },
            Recovered {
                accounts,
                last_commit,
                torn_tail,
                truncated_corruption: scan.truncated_corruption,
            },
        ))
    }

    /// Buffers `accounts`, written in `slot`, for the next commit.
    pub fn append(&mut self, slot: u64, accounts: &[(Pubkey, AccountSharedData)]) {
        for (key, account) in accounts {
            record::encode_account(&mut self.pending, key, slot, account);
        }
    }

    /// Makes every buffered record durable, then a commit record for `slot` with
    /// `state_hash`: records, fsync, commit record, fsync.
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
        let mut commit = Vec::with_capacity(64);
        record::encode_commit(&mut commit, slot, state_hash);
        match self.write_commit(&commit) {
            Ok(()) => {
                self.end += (self.pending.len() + commit.len()) as u64;
                self.pending.clear();
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

    /// Bytes of committed records in the segment.
    pub fn committed_bytes(&self) -> u64 {
        self.end
    }
}

struct Scan {
    accounts: AHashMap<Pubkey, AccountSharedData>,
    last_commit: Option<(u64, Hash)>,
    /// The end of the last complete commit record.
    end: usize,
    truncated_corruption: Option<u64>,
}

/// Reads the log: applies each commit's records, stops at the end, at a torn tail, or at
/// damage (corruption if a complete commit record follows it).
fn scan(bytes: &[u8], path: &Path, options: OpenOptions) -> Result<Scan, DurableError> {
    let mut accounts: AHashMap<Pubkey, AccountSharedData> = AHashMap::new();
    let mut pending: Vec<(Pubkey, AccountSharedData)> = Vec::new();
    let mut last_commit = None;
    let mut end = 0;
    let mut offset = 0;
    let mut truncated_corruption = None;
    while offset < bytes.len() {
        match record::decode(&bytes[offset..]) {
            Ok((Record::Account { key, account, .. }, used)) => {
                pending.push((key, account));
                offset += used;
            }
            Ok((Record::Commit { slot, state_hash }, used)) => {
                if last_commit.is_some_and(|(last, _)| slot <= last) {
                    return Err(DurableError::Corrupted {
                        path: path.to_path_buf(),
                        offset: offset as u64,
                        reason: "commit slots out of order",
                    });
                }
                for (key, account) in pending.drain(..) {
                    if account.lamports() == 0 {
                        accounts.remove(&key);
                    } else {
                        accounts.insert(key, account);
                    }
                }
                offset += used;
                end = offset;
                last_commit = Some((slot, state_hash));
            }
            Err(error) => {
                let reason = match error {
                    DecodeError::Incomplete => "record runs past the end of the file",
                    DecodeError::Damaged(reason) => reason,
                };
                if !commit_follows(bytes, offset + 1) {
                    // Damage (or a record cut short) with no commit after it: a write the
                    // crash cut short. A crash leaves a prefix of what was written, so a
                    // complete commit after the damage means the damage is corruption.
                    break;
                }
                if !options.truncate_to_last_good_commit {
                    return Err(DurableError::Corrupted {
                        path: path.to_path_buf(),
                        offset: offset as u64,
                        reason,
                    });
                }
                log::warn!(
                    "{}: corruption at offset {offset} ({reason}); recovering to the last good commit",
                    path.display()
                );
                truncated_corruption = Some(offset as u64);
                break;
            }
        }
    }
    Ok(Scan {
        accounts,
        last_commit,
        end,
        truncated_corruption,
    })
}

/// Whether a complete, valid commit record starts anywhere at or after `from`.
fn commit_follows(bytes: &[u8], from: usize) -> bool {
    let magic = record::MAGIC.to_le_bytes();
    (from..bytes.len().saturating_sub(record::FRAME_HEADER - 1)).any(|at| {
        // Only a commit-shaped frame is worth a checksum: a hostile file of record marks
        // claiming huge payloads costs nothing here.
        bytes[at..at + 4] == magic
            && bytes[at + 4] == record::KIND_COMMIT
            && bytes[at + 5..at + 9] == (record::COMMIT_PAYLOAD as u32).to_le_bytes()
            && matches!(record::decode(&bytes[at..]), Ok((Record::Commit { .. }, _)))
    })
}
