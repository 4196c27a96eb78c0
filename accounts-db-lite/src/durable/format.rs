//! The directory's `FORMAT` file: what the directory is and which version wrote it.

use std::path::Path;

use super::DurableError;
use super::failpoint::check;
use super::record::ChecksumKey;

/// The file naming the directory's format.
pub const FORMAT_FILE: &str = "FORMAT";
/// The newest format version this code reads and writes. Version 2 added numbered
/// segments, compaction's base records and keyed checksums (the key on the `FORMAT` file's
/// third line); a version-1 directory (one segment, no base record, plain checksums) is a
/// valid version-2 one without a key and is read as such. Version 3 added merge records
/// (the output of a compaction of sealed segments that are not the oldest, a record kind
/// code reading version 2 does not know); a version-2 directory is a valid version-3 one.
///
/// A store says the oldest version that reads it: it stays at version 2 (readable by code
/// that reads only version 2, so a node can go back to such a release) until its first
/// merge record is about to be written, when its `FORMAT` file is moved to version 3.
pub const FORMAT_VERSION: u32 = 3;

/// The version of a store without merge records.
pub(crate) const WITHOUT_MERGES: u32 = 2;
const HEADER: &str = "accounts-db-lite durable store\n";

/// What a directory's `FORMAT` file says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Format {
    /// The version that wrote it.
    pub version: u32,
    /// The key of its checksums (version 2 stores created by version-2 code).
    pub checksum_key: ChecksumKey,
}

/// Reads the directory's format, or `None` for a directory without one (new).
pub(crate) fn read(dir: &Path) -> Result<Option<Format>, DurableError> {
    let path = dir.join(FORMAT_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(DurableError::Io {
                operation: "read",
                path,
                source,
            });
        }
    };
    let not_a_store = || DurableError::NotAStore(dir.to_path_buf());
    let mut lines = text.strip_prefix(HEADER).ok_or_else(not_a_store)?.lines();
    let version = lines
        .next()
        .and_then(|line| line.trim().strip_prefix("version "))
        .and_then(|number| number.parse::<u32>().ok())
        .ok_or_else(not_a_store)?;
    if version > FORMAT_VERSION {
        return Err(DurableError::NewerFormat {
            path: dir.to_path_buf(),
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    let checksum_key = match lines.next().map(str::trim) {
        None | Some("") => None,
        Some(line) => Some(
            line.strip_prefix("checksum-key ")
                .and_then(parse_key)
                .ok_or_else(not_a_store)?,
        ),
    };
    Ok(Some(Format {
        version,
        checksum_key,
    }))
}

fn parse_key(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    let mut key = [0u8; 32];
    for (index, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * index..2 * index + 2)?, 16).ok()?;
    }
    Some(key)
}

/// A fresh checksum key: from the OS's random source, or, where it cannot be read, from
/// what differs between any two stores (time, process, directory).
pub(crate) fn new_checksum_key(dir: &Path) -> [u8; 32] {
    let mut key = [0u8; 32];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut random| std::io::Read::read_exact(&mut random, &mut key))
        .is_ok()
    {
        return key;
    }
    let mut hasher = blake3::Hasher::new();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    hasher.update(&now.as_nanos().to_le_bytes());
    hasher.update(&std::process::id().to_le_bytes());
    hasher.update(dir.as_os_str().as_encoded_bytes());
    *hasher.finalize().as_bytes()
}

/// Writes the `FORMAT` file, saying `version`, through a temporary file renamed into place,
/// so a crash leaves either no `FORMAT` (a new directory) or a whole one.
pub(crate) fn write(
    dir: &Path,
    checksum_key: &ChecksumKey,
    version: u32,
) -> Result<(), DurableError> {
    let path = dir.join(FORMAT_FILE);
    let temporary = dir.join("FORMAT.partial");
    let io = |operation, path: &Path| {
        let path = path.to_path_buf();
        move |source| DurableError::Io {
            operation,
            path,
            source,
        }
    };
    check("format.write").map_err(io("write", &temporary))?;
    {
        use std::io::Write as _;
        let mut file = std::fs::File::create(&temporary).map_err(io("write", &temporary))?;
        let mut text = format!("{HEADER}version {version}\n");
        if let Some(key) = checksum_key {
            text.push_str("checksum-key ");
            for byte in key {
                text.push_str(&format!("{byte:02x}"));
            }
            text.push('\n');
        }
        file.write_all(text.as_bytes())
            .map_err(io("write", &temporary))?;
        // The content is durable before the name points at it.
        file.sync_all().map_err(io("fsync", &temporary))?;
    }
    check("format.rename").map_err(io("rename", &path))?;
    std::fs::rename(&temporary, &path).map_err(io("rename", &path))?;
    // The rename itself is made durable with the directory.
    std::fs::File::open(dir)
        .and_then(|directory| directory.sync_all())
        .map_err(io("fsync", dir))?;
    Ok(())
}
