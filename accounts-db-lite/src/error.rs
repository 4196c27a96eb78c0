//! The errors of the account store.

use sdk_lite::Pubkey;
use thiserror::Error;

use crate::accounts_db::Slot;

/// Why the store refused a write.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StoreError {
    /// Slots are committed in order on one chain: a batch for an earlier slot than the last
    /// committed one is refused, and nothing of it is stored.
    #[error("slot {slot} is before the last committed slot {last_committed}")]
    SlotOutOfOrder {
        /// The refused slot.
        slot: Slot,
        /// The last slot committed.
        last_committed: Slot,
    },
    /// Only the open slot (the newest stored, not yet committed) can be discarded.
    #[error("slot {slot} cannot be discarded: slot {last_final} is final")]
    SlotFinal {
        /// The slot asked to be discarded.
        slot: Slot,
        /// The newest slot that is final (committed, or followed by a later slot).
        last_final: Slot,
    },
    /// A failed commit left the durable log unable to cut its file back: the slot may be on
    /// disk, so it is not undone in memory either.
    #[error("slot {slot} cannot be discarded: the durable log failed while committing it")]
    LogPoisoned {
        /// The slot asked to be discarded.
        slot: Slot,
    },
    /// The genesis list names an account twice.
    #[error("genesis lists account {0} twice")]
    DuplicateGenesisAccount(Pubkey),
    /// An account's data is larger than any account may hold
    /// ([`MAX_PERMITTED_DATA_LENGTH`](sdk_lite::MAX_PERMITTED_DATA_LENGTH)); nothing of
    /// the batch is stored.
    #[error("account {key} holds {len} bytes of data, more than the {limit} an account may hold")]
    DataTooLarge {
        /// The account.
        key: Pubkey,
        /// Its data length.
        len: usize,
        /// The limit.
        limit: u64,
    },
}

/// Why [`AccountsDb::open`](crate::AccountsDb::open) failed.
#[derive(Debug, Error)]
pub enum OpenError {
    /// The durable backend refused.
    #[error(transparent)]
    Durable(#[from] crate::durable::DurableError),
    /// The genesis (for a new store) or the recovered accounts are invalid.
    #[error(transparent)]
    Store(#[from] StoreError),
}
