//! Segment files: their names, listing a directory's, and making directory changes durable.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::DurableError;

const PREFIX: &str = "segment-";
const SUFFIX: &str = ".log";
/// A segment being written by compaction; renamed over its final name when complete.
const COMPACTING: &str = ".compacting";

/// The path of segment `number` in `dir`.
pub(crate) fn path(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("{PREFIX}{number:06}{SUFFIX}"))
}

/// The path compaction writes segment `number` to before renaming it into place.
pub(crate) fn compacting_path(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("{PREFIX}{number:06}{SUFFIX}{COMPACTING}"))
}

/// The segment numbers in `dir`, ascending, and the unfinished compaction outputs found.
pub(crate) fn list(dir: &Path) -> Result<(Vec<u64>, Vec<PathBuf>), DurableError> {
    let mut numbers = Vec::new();
    let mut unfinished = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(io("list", dir))?;
    for entry in entries {
        let entry = entry.map_err(io("list", dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        if name.ends_with(COMPACTING) && name.starts_with(PREFIX) {
            unfinished.push(entry.path());
            continue;
        }
        if let Some(number) = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.strip_suffix(SUFFIX))
            .and_then(|digits| digits.parse::<u64>().ok())
        {
            numbers.push(number);
        }
    }
    numbers.sort_unstable();
    Ok((numbers, unfinished))
}

/// Makes the directory's entries (creations, renames, removals) durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), DurableError> {
    File::open(dir)
        .and_then(|directory| directory.sync_all())
        .map_err(io("fsync", dir))
}

/// Maps an I/O error to [`DurableError::Io`] naming the operation and the file.
pub(crate) fn io(
    operation: &'static str,
    path: &Path,
) -> impl FnOnce(std::io::Error) -> DurableError {
    let path = path.to_path_buf();
    move |source| DurableError::Io {
        operation,
        path,
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_by_number_and_unfinished_outputs_are_told_apart() {
        let dir = std::env::temp_dir().join(format!("segments-list-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for number in [10, 2, 0] {
            std::fs::write(path(&dir, number), b"").unwrap();
        }
        std::fs::write(compacting_path(&dir, 2), b"").unwrap();
        std::fs::write(dir.join("FORMAT"), b"").unwrap();
        std::fs::write(dir.join("segment-x.log"), b"").unwrap();
        let (numbers, unfinished) = list(&dir).unwrap();
        assert_eq!(numbers, vec![0, 2, 10]);
        assert_eq!(unfinished, vec![compacting_path(&dir, 2)]);
        assert!(path(&dir, 7).ends_with("segment-000007.log"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
