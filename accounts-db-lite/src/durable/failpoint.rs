//! Failpoints: named places where a test can make a write, an fsync, a rename or a removal
//! fail, to check that a failure at any point loses nothing committed. Compiled in only
//! with the `failpoints` feature; without it every check is a constant `Ok`.

/// The names of every failpoint: creating a store, then a commit (rolling to a new
/// segment first when the active one is full), then a compaction.
pub const FAILPOINTS: [&str; 12] = [
    "format.write",
    "format.rename",
    "segment.create",
    "segment.dir-fsync",
    "records.write",
    "records.fsync",
    "commit.write",
    "commit.fsync",
    "compact.write",
    "compact.fsync",
    "compact.rename",
    "compact.remove",
];

#[cfg(feature = "failpoints")]
static ARMED: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());

/// Makes failpoint `name` fail every time it is reached, until [`disarm_all`].
#[cfg(feature = "failpoints")]
pub fn arm(name: &'static str) {
    ARMED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(name);
}

/// Disarms every failpoint.
#[cfg(feature = "failpoints")]
pub fn disarm_all() {
    ARMED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clear();
}

/// `Err` if failpoint `name` is armed.
#[cfg(feature = "failpoints")]
pub(crate) fn check(name: &'static str) -> std::io::Result<()> {
    let armed = ARMED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .contains(&name);
    if armed {
        return Err(std::io::Error::other(format!("failpoint {name}")));
    }
    Ok(())
}

/// Always `Ok` without the `failpoints` feature.
#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub(crate) fn check(_name: &'static str) -> std::io::Result<()> {
    Ok(())
}
