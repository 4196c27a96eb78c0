//! `RollbackAccounts`: what a failed transaction still commits: the fee payer charged its
//! fee and, for a durable-nonce transaction, the advanced nonce.

use sdk_lite::{AccountSharedData, Pubkey, ReadableAccount, WritableAccount};

/// An account with its address.
pub type KeyedAccount = (Pubkey, AccountSharedData);

/// The accounts a transaction commits if it fails after loading: the fee is charged and a
/// nonce is advanced even then (otherwise a failing transaction could be replayed for free
/// until its blockhash expires). At most two accounts, so no vector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RollbackAccounts {
    /// An ordinary transaction: the fee payer, after the fee was deducted.
    FeePayerOnly {
        /// The fee payer with the fee deducted.
        fee_payer: KeyedAccount,
    },
    /// A durable-nonce transaction whose nonce account also pays the fee.
    SameNonceAndFeePayer {
        /// The account with the fee deducted and the nonce advanced.
        nonce: KeyedAccount,
    },
    /// A durable-nonce transaction with a separate fee payer.
    SeparateNonceAndFeePayer {
        /// The advanced nonce account.
        nonce: KeyedAccount,
        /// The fee payer with the fee deducted.
        fee_payer: KeyedAccount,
    },
}

impl RollbackAccounts {
    /// The rollback state from the fee payer (fee already deducted) and, for a
    /// durable-nonce transaction, the nonce account (already advanced). When the nonce
    /// account is the fee payer, the result carries the fee payer's lamports and the
    /// advanced nonce's data.
    pub fn new(fee_payer: KeyedAccount, nonce: Option<KeyedAccount>) -> Self {
        match nonce {
            None => Self::FeePayerOnly { fee_payer },
            Some((nonce_key, nonce_account)) if nonce_key == fee_payer.0 => {
                let (key, mut account) = fee_payer;
                account.set_data_from_slice(nonce_account.data());
                Self::SameNonceAndFeePayer {
                    nonce: (key, account),
                }
            }
            Some(nonce) => Self::SeparateNonceAndFeePayer { nonce, fee_payer },
        }
    }

    /// The accounts to commit, fee payer first when it is separate.
    pub fn iter(&self) -> impl Iterator<Item = &KeyedAccount> {
        let (first, second) = match self {
            Self::FeePayerOnly { fee_payer } => (fee_payer, None),
            Self::SameNonceAndFeePayer { nonce } => (nonce, None),
            Self::SeparateNonceAndFeePayer { nonce, fee_payer } => (fee_payer, Some(nonce)),
        };
        std::iter::once(first).chain(second)
    }

    /// How many accounts: 1 or 2.
    pub fn count(&self) -> usize {
        match self {
            Self::FeePayerOnly { .. } | Self::SameNonceAndFeePayer { .. } => 1,
            Self::SeparateNonceAndFeePayer { .. } => 2,
        }
    }

    /// The bytes of account data they hold.
    pub fn data_size(&self) -> usize {
        self.iter().map(|(_, account)| account.data().len()).sum()
    }

    /// The fee payer's address.
    pub fn fee_payer_address(&self) -> &Pubkey {
        match self {
            Self::FeePayerOnly { fee_payer } | Self::SeparateNonceAndFeePayer { fee_payer, .. } => {
                &fee_payer.0
            }
            Self::SameNonceAndFeePayer { nonce } => &nonce.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyed(lamports: u64, data: &[u8]) -> KeyedAccount {
        (
            Pubkey::new_unique(),
            AccountSharedData::new_data(lamports, data.to_vec(), &Pubkey::default()),
        )
    }

    #[test]
    fn fee_payer_only() {
        let payer = keyed(95, b"");
        let rollback = RollbackAccounts::new(payer.clone(), None);
        assert_eq!(rollback.count(), 1);
        assert_eq!(rollback.iter().collect::<Vec<_>>(), vec![&payer]);
        assert_eq!(rollback.fee_payer_address(), &payer.0);
        assert_eq!(rollback.data_size(), 0);
    }

    #[test]
    fn nonce_that_pays_carries_payer_lamports_and_nonce_data() {
        let (key, payer) = keyed(95, b"old nonce");
        let advanced = AccountSharedData::new_data(100, b"new nonce".to_vec(), &Pubkey::default());
        let rollback = RollbackAccounts::new((key, payer), Some((key, advanced)));
        let RollbackAccounts::SameNonceAndFeePayer { nonce } = &rollback else {
            panic!("expected the merged variant, got {rollback:?}");
        };
        assert_eq!(nonce.1.lamports(), 95);
        assert_eq!(nonce.1.data(), b"new nonce");
        assert_eq!(rollback.count(), 1);
        assert_eq!(rollback.data_size(), 9);
    }

    #[test]
    fn separate_nonce_and_fee_payer() {
        let payer = keyed(95, b"");
        let nonce = keyed(1_000, b"nonce state");
        let rollback = RollbackAccounts::new(payer.clone(), Some(nonce.clone()));
        assert_eq!(rollback.count(), 2);
        assert_eq!(rollback.iter().collect::<Vec<_>>(), vec![&payer, &nonce]);
        assert_eq!(rollback.data_size(), 11);
        assert_eq!(rollback.fee_payer_address(), &payer.0);
    }
}
