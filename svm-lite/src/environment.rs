//! `ProcessingEnvironment`: what every transaction of a batch is processed under (the
//! lite sysvars).

use sdk_lite::Hash;

use crate::rent::Rent;

/// What every transaction of a batch is processed under, and what programs may read
/// (Agave's sysvars: clock, rent, recent blockhashes, in lite form).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessingEnvironment {
    /// The slot being built or replayed (the clock).
    pub slot: u64,
    /// The blockhash of the slot being built or replayed; a durable nonce advanced now
    /// stores [`durable_nonce_from_blockhash`](crate::durable_nonce_from_blockhash) of it.
    pub blockhash: Hash,
    /// The fee per signature.
    pub lamports_per_signature: u64,
    /// The rent parameters.
    pub rent: Rent,
}
