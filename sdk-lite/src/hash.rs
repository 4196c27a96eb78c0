//! [`Hash`](struct@Hash): a 32-byte digest (blockhashes, bank hashes), without a hash function.

use std::{
    fmt,
    str::FromStr,
    sync::atomic::{AtomicU64, Ordering},
};

use crate::{
    base58::{fmt_base58, parse_base58},
    error::ParseBase58Error,
};

/// A 32-byte digest: a transaction's recent blockhash, a bank hash.
///
/// This crate only carries the bytes; the crate that hashes state picks the function.
/// [`Default`] is all zeros. `Display`, `Debug` and `FromStr` use base58.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash([u8; 32]);

const _: () = assert!(size_of::<Hash>() == 32);

impl Hash {
    /// Wraps 32 bytes as a hash.
    pub const fn new_from_array(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The hash's bytes, by value.
    pub const fn to_bytes(self) -> [u8; 32] {
        self.0
    }

    /// The hash's bytes, by reference.
    pub const fn as_array(&self) -> &[u8; 32] {
        &self.0
    }

    /// A hash that differs from every other hash made by this function in this process.
    ///
    /// For tests and examples (a fresh "recent blockhash"): the bytes are a process-wide
    /// counter starting at 1, written big-endian into the first 8 bytes, so a unique hash
    /// is never the all-zero default.
    pub fn new_unique() -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(1);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut bytes = [0u8; 32];
        let (head, _) = bytes.split_at_mut(8);
        head.copy_from_slice(&n.to_be_bytes());
        Self(bytes)
    }
}

impl From<[u8; 32]> for Hash {
    fn from(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

impl AsRef<[u8]> for Hash {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_base58(&self.0, f)
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_base58(&self.0, f)
    }
}

impl FromStr for Hash {
    type Err = ParseBase58Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_base58(s).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base58_round_trips() {
        let hash = Hash::new_from_array([200; 32]);
        let text = hash.to_string();
        assert_eq!(text.parse::<Hash>(), Ok(hash));
        assert_eq!(format!("{hash:?}"), text);
    }

    #[test]
    fn default_is_all_zeros() {
        assert_eq!(Hash::default().to_bytes(), [0; 32]);
        assert_eq!(Hash::default().as_array(), &[0; 32]);
    }

    #[test]
    fn new_unique_differs() {
        let a = Hash::new_unique();
        let b = Hash::new_unique();
        assert_ne!(a, b);
        assert_ne!(a, Hash::default());
    }

    #[test]
    fn parse_rejects_wrong_length() {
        assert_eq!(
            "3".parse::<Hash>(),
            Err(ParseBase58Error::WrongLength { expected: 32 })
        );
    }
}
