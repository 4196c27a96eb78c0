//! Fees: a charge per signature plus the prioritization fee.

use sdk_lite::SanitizedTransaction;

use crate::compute_budget::ComputeBudgetLimits;

/// What a transaction pays, in lamports, split by reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FeeDetails {
    /// `lamports_per_signature` times the number of signatures.
    pub signature_fee: u64,
    /// The compute unit price times the compute unit limit (rounded up to a lamport).
    pub prioritization_fee: u64,
}

impl FeeDetails {
    /// The fee for `transaction` under `limits`, charging `lamports_per_signature` per
    /// signature. `None` if the total overflows `u64` (the transaction cannot pay it).
    pub fn new(
        transaction: &SanitizedTransaction,
        limits: &ComputeBudgetLimits,
        lamports_per_signature: u64,
    ) -> Option<Self> {
        let signatures = u64::try_from(transaction.num_signatures()).ok()?;
        let details = Self {
            signature_fee: lamports_per_signature.checked_mul(signatures)?,
            prioritization_fee: limits.prioritization_fee(),
        };
        details.total().map(|_| details)
    }

    /// The whole fee, or `None` on overflow.
    pub fn total(&self) -> Option<u64> {
        self.signature_fee.checked_add(self.prioritization_fee)
    }
}
