//! [`Pubkey`]: the 32-byte address of an account or a program.

use std::{
    fmt,
    str::FromStr,
    sync::atomic::{AtomicU64, Ordering},
};

use crate::{
    base58::{fmt_base58, parse_base58},
    error::ParseBase58Error,
};

/// The address of an account or a program: 32 opaque bytes.
///
/// It is `Copy` and `Ord` so that it can key hash maps, B-trees and lock tables directly;
/// `Display`, `Debug` and `FromStr` use base58. Nothing here assumes the bytes are a
/// point on a curve: signatures are verified before the pipeline.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Pubkey([u8; 32]);

// Keys are copied into every lock request and usage queue: keep them exactly 32 bytes.
const _: () = assert!(size_of::<Pubkey>() == 32);

impl Pubkey {
    /// Wraps 32 bytes as a key.
    pub const fn new_from_array(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The key's bytes, by value.
    pub const fn to_bytes(self) -> [u8; 32] {
        self.0
    }

    /// The key's bytes, by reference.
    pub const fn as_array(&self) -> &[u8; 32] {
        &self.0
    }

    /// A key that differs from every other key made by this function in this process.
    ///
    /// For tests and examples only: the bytes are a process-wide counter, not a public
    /// key anyone holds a secret for. The counter starts at 1 and is written big-endian
    /// into the first 8 bytes, so a unique key is never the all-zero
    /// [`system_program::ID`](crate::system_program::ID), and keys made later sort after
    /// keys made earlier (which keeps [`Message::new`](crate::Message::new)'s key order
    /// predictable in tests).
    pub fn new_unique() -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(1);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut bytes = [0u8; 32];
        let (head, _) = bytes.split_at_mut(8);
        head.copy_from_slice(&n.to_be_bytes());
        Self(bytes)
    }
}

impl From<[u8; 32]> for Pubkey {
    fn from(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

impl AsRef<[u8]> for Pubkey {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for Pubkey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_base58(&self.0, f)
    }
}

impl fmt::Debug for Pubkey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_base58(&self.0, f)
    }
}

impl FromStr for Pubkey {
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
        let key = Pubkey::new_from_array([7; 32]);
        let text = key.to_string();
        assert_eq!(text.parse::<Pubkey>(), Ok(key));
        assert_eq!(format!("{key:?}"), text);
    }

    #[test]
    fn default_is_all_zeros_and_prints_as_ones() {
        assert_eq!(Pubkey::default().to_bytes(), [0; 32]);
        assert_eq!(
            Pubkey::default().to_string(),
            "11111111111111111111111111111111"
        );
    }

    #[test]
    fn new_unique_differs_and_sorts_in_creation_order() {
        let a = Pubkey::new_unique();
        let b = Pubkey::new_unique();
        assert_ne!(a, b);
        assert!(a < b);
        assert_ne!(a, Pubkey::default());
    }

    #[test]
    fn parse_rejects_wrong_length_and_bad_characters() {
        assert_eq!(
            "2".parse::<Pubkey>(),
            Err(ParseBase58Error::WrongLength { expected: 32 })
        );
        assert_eq!(
            "not base58: 0OIl".parse::<Pubkey>(),
            Err(ParseBase58Error::InvalidBase58)
        );
        // A valid 64-byte signature string is not a key.
        let sig = crate::Signature::new_from_array([9; 64]).to_string();
        assert_eq!(
            sig.parse::<Pubkey>(),
            Err(ParseBase58Error::WrongLength { expected: 32 })
        );
    }

    #[test]
    fn accessors_agree() {
        let bytes = [3; 32];
        let key = Pubkey::from(bytes);
        assert_eq!(key.as_array(), &bytes);
        assert_eq!(key.as_ref(), &bytes[..]);
        assert_eq!(key.to_bytes(), bytes);
        assert_eq!(key, Pubkey::new_from_array(bytes));
    }

    #[test]
    fn display_honours_width() {
        let key = Pubkey::default();
        assert_eq!(format!("{key:>34}"), format!("  {key}"));
    }
}
