//! Base58 text form shared by [`Pubkey`](crate::Pubkey), [`Hash`](crate::Hash) and
//! [`Signature`](crate::Signature): formatting and parsing of fixed-size byte arrays.

use std::fmt;

use crate::error::ParseBase58Error;

/// The longest value formatted here is a 64-byte signature, which is at most 88 base58
/// characters; a stack buffer of this size keeps `Display` and `Debug` allocation-free.
const MAX_ENCODED_LEN: usize = 96;

/// Writes `bytes` (at most 64 of them) to `f` as base58, honouring width and alignment.
pub(crate) fn fmt_base58(bytes: &[u8], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let mut buf = [0u8; MAX_ENCODED_LEN];
    let len = bs58::encode(bytes)
        .onto(&mut buf[..])
        .map_err(|_| fmt::Error)?;
    // The base58 alphabet is ASCII, so this cannot fail; mapping the error keeps the
    // function panic-free anyway.
    let text = buf
        .get(..len)
        .and_then(|encoded| std::str::from_utf8(encoded).ok())
        .ok_or(fmt::Error)?;
    f.pad(text)
}

/// Parses base58 text that must decode to exactly `N` bytes.
///
/// Decoding goes straight into an `N`-byte array: an over-long input fails as soon as it
/// would overflow the array, so hostile input costs no allocation.
pub(crate) fn parse_base58<const N: usize>(text: &str) -> Result<[u8; N], ParseBase58Error> {
    let mut bytes = [0u8; N];
    match bs58::decode(text).onto(&mut bytes) {
        Ok(len) if len == N => Ok(bytes),
        Ok(_) | Err(bs58::decode::Error::BufferTooSmall) => {
            Err(ParseBase58Error::WrongLength { expected: N })
        }
        Err(_) => Err(ParseBase58Error::InvalidBase58),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_inputs_are_wrong_length() {
        assert_eq!(
            parse_base58::<32>(""),
            Err(ParseBase58Error::WrongLength { expected: 32 })
        );
        assert_eq!(
            parse_base58::<32>("2"),
            Err(ParseBase58Error::WrongLength { expected: 32 })
        );
        let too_long = "1".repeat(33);
        assert_eq!(
            parse_base58::<32>(&too_long),
            Err(ParseBase58Error::WrongLength { expected: 32 })
        );
    }

    #[test]
    fn characters_outside_the_alphabet_are_invalid() {
        // `0`, `O`, `I` and `l` are excluded from base58 to avoid look-alikes.
        for text in ["0", "O", "I", "l", "é"] {
            assert_eq!(
                parse_base58::<32>(text),
                Err(ParseBase58Error::InvalidBase58)
            );
        }
    }
}
