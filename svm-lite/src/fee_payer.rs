//! Fee-payer validation: the first check a transaction meets, before any other account is
//! loaded.

use sdk_lite::{
    AccountSharedData, ReadableAccount, TransactionError, WritableAccount, system_program,
};

use crate::nonce_state::NonceState;
use crate::rent::Rent;

/// Checks that `fee_payer` (as loaded; `None` if absent) may pay `fee`, and returns it with
/// the fee deducted.
///
/// The fee payer must exist, be owned by the system program and hold either no data (a
/// plain system account) or an initialized nonce (a nonce account, which must also keep
/// its rent-exempt minimum). After the fee it may be empty (it is then deleted), or still
/// rent-exempt; a rent-exempt account may not become a non-empty account below the
/// minimum.
///
/// # Errors
/// [`TransactionError::AccountNotFound`], [`TransactionError::InvalidAccountForFee`],
/// [`TransactionError::InsufficientFundsForFee`], or
/// [`TransactionError::InsufficientFundsForRent`] (account index 0, the fee payer).
pub fn validate_fee_payer(
    fee_payer: Option<&AccountSharedData>,
    fee: u64,
    rent: &Rent,
) -> Result<AccountSharedData, TransactionError> {
    let account = fee_payer.ok_or(TransactionError::AccountNotFound)?;
    if *account.owner() != system_program::ID {
        return Err(TransactionError::InvalidAccountForFee);
    }
    let keep = if account.data().is_empty() {
        0
    } else if matches!(
        NonceState::from_data(account.data()),
        Some(NonceState::Initialized { .. })
    ) {
        rent.minimum_balance(account.data().len())
    } else {
        return Err(TransactionError::InvalidAccountForFee);
    };
    let lamports_after = account
        .lamports()
        .checked_sub(keep)
        .and_then(|spendable| spendable.checked_sub(fee))
        .and_then(|left| left.checked_add(keep))
        .ok_or(TransactionError::InsufficientFundsForFee)?;
    let data_len = account.data().len();
    let before = RentState::of(account.lamports(), data_len, rent);
    let after = RentState::of(lamports_after, data_len, rent);
    if !before.may_become(after) {
        return Err(TransactionError::InsufficientFundsForRent { account_index: 0 });
    }
    let mut charged = account.clone();
    charged.set_lamports(lamports_after);
    Ok(charged)
}

/// Where an account stands with respect to rent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RentState {
    /// No lamports: the account does not exist.
    Uninitialized,
    /// Some lamports, below the minimum for its size.
    RentPaying {
        /// Its lamports.
        lamports: u64,
        /// Its data size.
        data_len: usize,
    },
    /// At or above the minimum for its size.
    RentExempt,
}

impl RentState {
    /// The state of an account holding `lamports` and `data_len` bytes.
    pub fn of(lamports: u64, data_len: usize, rent: &Rent) -> Self {
        if lamports == 0 {
            Self::Uninitialized
        } else if rent.is_exempt(lamports, data_len) {
            Self::RentExempt
        } else {
            Self::RentPaying { lamports, data_len }
        }
    }

    /// Whether a transaction may take an account from `self` to `after`: it may always
    /// empty it or leave it exempt; a rent-paying account may only stay so, at the same
    /// size and with no more lamports (Solana's rule, so no new rent-paying account ever
    /// appears).
    pub fn may_become(self, after: Self) -> bool {
        match after {
            Self::Uninitialized | Self::RentExempt => true,
            Self::RentPaying {
                lamports: after_lamports,
                data_len: after_len,
            } => matches!(
                self,
                Self::RentPaying { lamports, data_len }
                    if data_len == after_len && after_lamports <= lamports
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sdk_lite::{Hash, Pubkey};

    const FEE: u64 = 5_000;

    fn system(lamports: u64) -> AccountSharedData {
        AccountSharedData::new(lamports, 0, &system_program::ID)
    }

    fn nonce(lamports: u64) -> AccountSharedData {
        let state = NonceState::Initialized {
            authority: Pubkey::new_unique(),
            durable_nonce: Hash::new_unique(),
            lamports_per_signature: FEE,
        };
        AccountSharedData::new_data(lamports, state.to_data().to_vec(), &system_program::ID)
    }

    #[test]
    fn a_missing_fee_payer_is_not_found() {
        assert_eq!(
            validate_fee_payer(None, FEE, &Rent::default()),
            Err(TransactionError::AccountNotFound)
        );
    }

    #[test]
    fn a_fee_payer_not_owned_by_the_system_program_is_invalid() {
        let foreign = AccountSharedData::new(10_000_000, 0, &Pubkey::new_unique());
        assert_eq!(
            validate_fee_payer(Some(&foreign), FEE, &Rent::default()),
            Err(TransactionError::InvalidAccountForFee)
        );
        let with_data = AccountSharedData::new(10_000_000, 3, &system_program::ID);
        assert_eq!(
            validate_fee_payer(Some(&with_data), FEE, &Rent::default()),
            Err(TransactionError::InvalidAccountForFee)
        );
    }

    #[test]
    fn exactly_enough_empties_the_account_and_one_lamport_short_fails() {
        let charged = validate_fee_payer(Some(&system(FEE)), FEE, &Rent::default()).unwrap();
        assert_eq!(charged.lamports(), 0);
        assert_eq!(
            validate_fee_payer(Some(&system(FEE - 1)), FEE, &Rent::default()),
            Err(TransactionError::InsufficientFundsForFee)
        );
    }

    #[test]
    fn an_exempt_payer_may_not_drop_below_the_minimum_without_emptying() {
        let rent = Rent::default();
        let minimum = rent.minimum_balance(0);
        assert_eq!(
            validate_fee_payer(Some(&system(minimum)), FEE, &rent),
            Err(TransactionError::InsufficientFundsForRent { account_index: 0 })
        );
        let rich = validate_fee_payer(Some(&system(minimum + FEE)), FEE, &rent).unwrap();
        assert_eq!(rich.lamports(), minimum);
        // Already below the minimum: may pay, and stay below, with fewer lamports.
        let poor = validate_fee_payer(Some(&system(minimum - 1)), FEE, &rent).unwrap();
        assert_eq!(poor.lamports(), minimum - 1 - FEE);
    }

    #[test]
    fn a_nonce_account_pays_only_above_its_rent_exempt_minimum() {
        let rent = Rent::default();
        let minimum = rent.minimum_balance(80);
        let charged = validate_fee_payer(Some(&nonce(minimum + FEE)), FEE, &rent).unwrap();
        assert_eq!(charged.lamports(), minimum);
        assert_eq!(charged.data().len(), 80, "the nonce data is kept");
        assert_eq!(
            validate_fee_payer(Some(&nonce(minimum + FEE - 1)), FEE, &rent),
            Err(TransactionError::InsufficientFundsForFee)
        );
    }

    #[test]
    fn rent_state_transitions() {
        let paying = |lamports| RentState::RentPaying {
            lamports,
            data_len: 0,
        };
        assert!(RentState::RentExempt.may_become(RentState::Uninitialized));
        assert!(RentState::RentExempt.may_become(RentState::RentExempt));
        assert!(!RentState::RentExempt.may_become(paying(5)));
        assert!(!RentState::Uninitialized.may_become(paying(5)));
        assert!(paying(10).may_become(paying(5)));
        assert!(!paying(5).may_become(paying(10)));
        assert!(!paying(5).may_become(RentState::RentPaying {
            lamports: 5,
            data_len: 1
        }));
    }
}
