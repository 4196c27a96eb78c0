//! `NonceState`: the data of a durable-nonce account, in Solana's 80-byte layout.

use sdk_lite::{Hash, Pubkey};

/// The durable nonce a nonce account stores when advanced during the slot whose blockhash
/// is `blockhash`: `blake3("DURABLE_NONCE" || blockhash)`. Hashing with a prefix, rather
/// than storing the blockhash itself, keeps every durable nonce different from every
/// blockhash, so a durable transaction can never also pass as a recent-blockhash one (and
/// run twice).
pub fn durable_nonce_from_blockhash(blockhash: &Hash) -> Hash {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"DURABLE_NONCE");
    hasher.update(blockhash.as_ref());
    Hash::new_from_array(*hasher.finalize().as_bytes())
}

/// Bytes of a nonce account's data.
pub const NONCE_ACCOUNT_LENGTH: usize = 80;

/// The state a nonce account holds.
///
/// Layout (little-endian, Solana's `nonce::state::Versions::Current`): `u32` version (1),
/// `u32` state (0 uninitialized, 1 initialized), then for an initialized nonce the
/// authority (32 bytes), the durable nonce (32 bytes) and the lamports per signature in
/// force when it was stored (`u64`); zeros otherwise. 80 zero bytes (a freshly allocated
/// account, Solana's legacy version 0) read as uninitialized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceState {
    /// Created but not initialized: cannot be used.
    Uninitialized,
    /// Usable: a transaction whose recent blockhash is `durable_nonce`, and whose first
    /// instruction advances this nonce signed by `authority`, may run.
    Initialized {
        /// Who may advance, withdraw from or re-authorize the nonce.
        authority: Pubkey,
        /// The value a transaction must carry as its recent blockhash.
        durable_nonce: Hash,
        /// The fee rate when the nonce was stored.
        lamports_per_signature: u64,
    },
}

const CURRENT_VERSION: u32 = 1;
const UNINITIALIZED: u32 = 0;
const INITIALIZED: u32 = 1;

impl NonceState {
    /// Reads a nonce account's data, or `None` if it is not a nonce (wrong length, version
    /// or state tag).
    pub fn from_data(data: &[u8]) -> Option<Self> {
        let data: &[u8; NONCE_ACCOUNT_LENGTH] = data.try_into().ok()?;
        let word =
            |at: usize| u32::from_le_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]);
        if word(0) != CURRENT_VERSION {
            return data
                .iter()
                .all(|&byte| byte == 0)
                .then_some(Self::Uninitialized);
        }
        match word(4) {
            UNINITIALIZED => Some(Self::Uninitialized),
            INITIALIZED => {
                let mut authority = [0u8; 32];
                authority.copy_from_slice(&data[8..40]);
                let mut durable_nonce = [0u8; 32];
                durable_nonce.copy_from_slice(&data[40..72]);
                let mut fee = [0u8; 8];
                fee.copy_from_slice(&data[72..80]);
                Some(Self::Initialized {
                    authority: Pubkey::new_from_array(authority),
                    durable_nonce: Hash::new_from_array(durable_nonce),
                    lamports_per_signature: u64::from_le_bytes(fee),
                })
            }
            _ => None,
        }
    }

    /// The account data for this state.
    pub fn to_data(&self) -> [u8; NONCE_ACCOUNT_LENGTH] {
        let mut data = [0u8; NONCE_ACCOUNT_LENGTH];
        data[0..4].copy_from_slice(&CURRENT_VERSION.to_le_bytes());
        if let Self::Initialized {
            authority,
            durable_nonce,
            lamports_per_signature,
        } = self
        {
            data[4..8].copy_from_slice(&INITIALIZED.to_le_bytes());
            data[8..40].copy_from_slice(authority.as_ref());
            data[40..72].copy_from_slice(durable_nonce.as_ref());
            data[72..80].copy_from_slice(&lamports_per_signature.to_le_bytes());
        }
        data
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for state in [
            NonceState::Uninitialized,
            NonceState::Initialized {
                authority: Pubkey::new_unique(),
                durable_nonce: Hash::new_unique(),
                lamports_per_signature: 5_000,
            },
        ] {
            assert_eq!(NonceState::from_data(&state.to_data()), Some(state));
        }
    }

    #[test]
    fn other_data_is_not_a_nonce() {
        assert_eq!(NonceState::from_data(&[]), None);
        assert_eq!(NonceState::from_data(&[0; 79]), None);
        assert_eq!(
            NonceState::from_data(&[0; 80]),
            Some(NonceState::Uninitialized),
            "freshly allocated"
        );
        let mut legacy_initialized = [0; 80];
        legacy_initialized[4] = 1;
        assert_eq!(
            NonceState::from_data(&legacy_initialized),
            None,
            "version 0, initialized"
        );
        let mut bad_state = NonceState::Uninitialized.to_data();
        bad_state[4] = 7;
        assert_eq!(NonceState::from_data(&bad_state), None);
    }
}
