//! [`Signature`]: an opaque 64-byte transaction signature.

use std::{
    fmt,
    str::FromStr,
    sync::atomic::{AtomicU64, Ordering},
};

use crate::{
    base58::{fmt_base58, parse_base58},
    error::ParseBase58Error,
};

/// A 64-byte signature, opaque here.
///
/// Signatures are verified before the pipeline (a non-goal of this project), so this type
/// only carries the bytes: the first one identifies a transaction (status cache, logs).
/// `Display`, `Debug` and `FromStr` use base58; [`Default`] is all zeros.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Signature([u8; 64]);

const _: () = assert!(size_of::<Signature>() == 64);

impl Signature {
    /// Wraps 64 bytes as a signature.
    pub const fn new_from_array(bytes: [u8; 64]) -> Self {
        Self(bytes)
    }

    /// The signature's bytes, by value.
    pub const fn to_bytes(self) -> [u8; 64] {
        self.0
    }

    /// The signature's bytes, by reference.
    pub const fn as_array(&self) -> &[u8; 64] {
        &self.0
    }

    /// A signature that differs from every other one made by this function in this
    /// process.
    ///
    /// For tests and examples (placeholder signatures, distinct transaction ids): the
    /// bytes are a process-wide counter starting at 1, written big-endian into the first
    /// 8 bytes. It signs nothing.
    pub fn new_unique() -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(1);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut bytes = [0u8; 64];
        let (head, _) = bytes.split_at_mut(8);
        head.copy_from_slice(&n.to_be_bytes());
        Self(bytes)
    }
}

// `[u8; 64]` has no `Default` (std stops at 32), so this one is written out.
impl Default for Signature {
    fn default() -> Self {
        Self([0; 64])
    }
}

impl From<[u8; 64]> for Signature {
    fn from(bytes: [u8; 64]) -> Self {
        Self(bytes)
    }
}

impl AsRef<[u8]> for Signature {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_base58(&self.0, f)
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_base58(&self.0, f)
    }
}

impl FromStr for Signature {
    type Err = ParseBase58Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_base58(s).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base58_round_trips_at_full_length() {
        // All 0xff bytes give the longest encoding (88 characters): the formatting buffer
        // must hold it.
        let sig = Signature::new_from_array([0xff; 64]);
        let text = sig.to_string();
        assert_eq!(text.len(), 88);
        assert_eq!(text.parse::<Signature>(), Ok(sig));
        assert_eq!(format!("{sig:?}"), text);
    }

    #[test]
    fn default_is_all_zeros() {
        assert_eq!(Signature::default().to_bytes(), [0; 64]);
    }

    #[test]
    fn new_unique_differs() {
        let a = Signature::new_unique();
        let b = Signature::new_unique();
        assert_ne!(a, b);
        assert_ne!(a, Signature::default());
    }

    #[test]
    fn parse_rejects_a_pubkey_string() {
        let key = crate::Pubkey::new_from_array([5; 32]).to_string();
        assert_eq!(
            key.parse::<Signature>(),
            Err(ParseBase58Error::WrongLength { expected: 64 })
        );
    }
}
