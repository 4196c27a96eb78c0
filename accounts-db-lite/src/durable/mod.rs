//! The durable backend: an append-only log of account records and slot commit records in
//! a versioned directory, from which the store is rebuilt at open.
//!
//! # Layout
//! ```text
//! DIR/FORMAT                 "accounts-db-lite durable store\nversion 2\nchecksum-key <hex>\n"
//! DIR/LOCK                   held locked by the process that has the store open
//! DIR/segment-000000.log     sealed segments: records, each segment ending with a commit
//! DIR/segment-000001.log
//! DIR/segment-000002.log     the active segment, appended to
//! ```
//! A record is `magic (u32) | kind (u8) | payload length (u32) | payload | checksum (the
//! first 8 bytes of blake3, keyed with the store's checksum key, over kind, length and
//! payload)`, all little-endian. The key is drawn at random when the store is created, so
//! account data (which any transaction can fill) cannot hold bytes that recovery would
//! take for a record; a version-1 store keeps its plain blake3 checksums. An account
//! record carries the key, the slot that wrote it, lamports, owner, the executable flag
//! and the data; a commit record carries a slot and the state hash after it; a base or a
//! merge record (only ever the first record of a segment written by compaction) names the
//! first segment that segment replaces. A store says format version 2 until a compaction
//! is about to write its first merge record, and version 3 from then on (see
//! [`FORMAT_VERSION`]).
//!
//! # Commit protocol
//! A slot's account records are written, then made durable (`fsync`), then the slot's
//! commit record is written and made durable. So a commit record on disk always follows
//! every record of its slot on disk. A commit that finds the active segment at
//! [`OpenOptions::segment_bytes`] first seals it (it ends with a commit record) and creates
//! the next segment, whose directory entry is made durable before anything is written to
//! it.
//!
//! # Recovery
//! At open, unfinished compaction outputs are removed, and so are the segments a finished
//! compaction replaced but had not removed yet: every segment numbered below the newest
//! one that starts with a base record, and those from the segment a merge record names up
//! to the segment it heads. The remaining segments are read in order as one log: account
//! records are held until the next commit record, which applies them (last write wins; a
//! zero-lamport record deletes). What follows the last complete commit record is a *torn
//! tail* (a crash mid-slot): it is discarded and reported, and the file is truncated
//! there, never half applied. A record that fails its checksum or does not parse *before*
//! the last complete commit record (in its segment or a later one) is corruption: opening
//! fails naming the file and offset, unless the caller asks to truncate to the last good
//! commit. The recovered accounts' lattice hash must equal the last commit record's state
//! hash, or opening fails.
//!
//! A crash leaves a prefix of what was written, so damage at the very end with no commit
//! after it is taken for a cut-short write, even when it is a whole record with a bad
//! checksum (a flipped byte in the last commit record drops that slot); damage anywhere
//! before a complete commit record is corruption.
//!
//! # Compaction
//! See [`compact`]: a run of consecutive sealed segments that are at least half superseded
//! (or small) is rewritten as one holding only the records no later record superseded, so
//! the mostly live segments (the bulk of a large store) are never copied; on a background
//! thread whenever such a run exists ([`OpenOptions::background_compaction`]), without
//! blocking loads (served from memory) and holding the commit lock only briefly; a crash at
//! any point of it loses nothing.

pub(crate) mod compaction;
pub(crate) mod failpoint;
mod format;
mod log;
mod record;
mod segments;

pub use compaction::{CompactionReport, compact};
pub use failpoint::FAILPOINTS;
#[cfg(feature = "failpoints")]
pub use failpoint::{arm, disarm_all};
pub use format::{FORMAT_FILE, FORMAT_VERSION};
pub use log::{DEFAULT_SEGMENT_BYTES, DurableLog, OpenOptions, Recovered, SegmentStats, TornTail};

use std::path::PathBuf;

use thiserror::Error;

/// Why the durable store could not be opened or written.
#[derive(Debug, Error)]
pub enum DurableError {
    /// A file operation failed.
    #[error("{operation} {path}: {source}")]
    Io {
        /// What was being done.
        operation: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The directory holds something that is not this store.
    #[error("{0} is not an accounts-db-lite durable store (its FORMAT file does not say so)")]
    NotAStore(PathBuf),
    /// The directory was written by a newer format.
    #[error("{path} is format version {found}; this program reads version {supported} and older")]
    NewerFormat {
        /// The directory.
        path: PathBuf,
        /// Its version.
        found: u32,
        /// The newest version this program reads.
        supported: u32,
    },
    /// A record before the last complete commit is damaged.
    #[error("corrupted record in {path} at offset {offset}: {reason}")]
    Corrupted {
        /// The segment file.
        path: PathBuf,
        /// Where the damaged record starts.
        offset: u64,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The directory has a `FORMAT` file but no log: the log was lost, and recreating it
    /// would silently start the chain over.
    #[error("{0} is missing: the store's log was lost")]
    MissingSegment(PathBuf),
    /// The directory holds a log but no `FORMAT` file: the file, and with it the key of
    /// the log's checksums, was lost. Opening would find no record readable and start the
    /// chain over, so the store is refused instead; restore the `FORMAT` file.
    #[error("{0} holds a log but no FORMAT file (which holds the key of its checksums)")]
    MissingFormat(PathBuf),
    /// Another process (or another open in this one) has the store open.
    #[error("{0} is open elsewhere (its LOCK file is held)")]
    Locked(PathBuf),
    /// A slot was committed after a later one (or twice).
    #[error("slot {slot} cannot be committed after slot {last}")]
    SlotOutOfOrder {
        /// The refused slot.
        slot: u64,
        /// The last slot committed.
        last: u64,
    },
    /// The recovered accounts do not hash to the state hash of the last commit.
    #[error(
        "recovered state hash {actual} differs from the last commit's {expected} (slot {slot})"
    )]
    StateHashMismatch {
        /// The last committed slot.
        slot: u64,
        /// The commit record's state hash.
        expected: sdk_lite::Hash,
        /// The recovered accounts' state hash.
        actual: sdk_lite::Hash,
    },
}
