//! [`Transaction`]: signatures plus a message, as received and before any check.

use crate::{Message, Signature};

/// Signatures plus a message, unchecked.
///
/// Fields are public so that tests can build malformed transactions; the pipeline only
/// accepts the checked form, [`SanitizedTransaction`](crate::SanitizedTransaction).
/// Signatures are verified before the pipeline (a non-goal here): nothing in this
/// project checks them against the keys.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Transaction {
    /// One signature per required signer, in the order of the message's signing keys.
    pub signatures: Vec<Signature>,
    /// What was signed.
    pub message: Message,
}

impl Transaction {
    /// A transaction carrying `num_required_signatures` distinct placeholder signatures
    /// ([`Signature::new_unique`]), for tests, benchmarks and workload generators.
    ///
    /// The placeholders sign nothing; they only give the transaction the right signature
    /// count and a distinct first signature (its id).
    pub fn new_with_placeholder_signatures(message: Message) -> Self {
        let signatures = (0..message.header.num_required_signatures)
            .map(|_| Signature::new_unique())
            .collect();
        Self {
            signatures,
            message,
        }
    }
}
