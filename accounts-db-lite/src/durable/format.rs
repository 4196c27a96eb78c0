//! The directory's `FORMAT` file: what the directory is and which version wrote it.

use std::path::Path;

use super::DurableError;
use super::failpoint::check;

/// The file naming the directory's format.
pub const FORMAT_FILE: &str = "FORMAT";
/// The format version this code writes (and the newest it reads). Version 2 added
/// numbered segments and compaction's base records; a version-1 directory (one segment,
/// no base record) is a valid version-2 one and is read as such.
pub const FORMAT_VERSION: u32 = 2;
const HEADER: &str = "accounts-db-lite durable store\n";

/// Reads the directory's format version, or `None` for a directory without one (new).
pub(crate) fn read(dir: &Path) -> Result<Option<u32>, DurableError> {
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
    let version = text
        .strip_prefix(HEADER)
        .and_then(|rest| rest.trim().strip_prefix("version "))
        .and_then(|number| number.parse::<u32>().ok())
        .ok_or_else(|| DurableError::NotAStore(dir.to_path_buf()))?;
    if version > FORMAT_VERSION {
        return Err(DurableError::NewerFormat {
            path: dir.to_path_buf(),
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    Ok(Some(version))
}

/// Writes the `FORMAT` file through a temporary file renamed into place, so a crash
/// leaves either no `FORMAT` (a new directory) or a whole one.
pub(crate) fn write(dir: &Path) -> Result<(), DurableError> {
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
        file.write_all(format!("{HEADER}version {FORMAT_VERSION}\n").as_bytes())
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
