//! Accounts: the [`ReadableAccount`] / [`WritableAccount`] traits and
//! [`AccountSharedData`], whose data is shared between clones until one of them writes.

use std::{fmt, sync::Arc};

use crate::{InstructionError, Pubkey};

/// Read access to an account's fields.
pub trait ReadableAccount {
    /// The account's balance, in lamports.
    fn lamports(&self) -> u64;
    /// The account's data.
    fn data(&self) -> &[u8];
    /// The program that owns the account (the only one allowed to change its data or
    /// debit it).
    fn owner(&self) -> &Pubkey;
    /// Whether the account holds a program that instructions may invoke.
    fn executable(&self) -> bool;
}

/// Write access to an account's fields.
///
/// Bounds that depend on the transaction (the data size limit
/// [`MAX_PERMITTED_DATA_LENGTH`](crate::MAX_PERMITTED_DATA_LENGTH), who may change the
/// owner, read-only accounts) are enforced by the executor, not here: these are the raw
/// setters it uses once it has decided a change is allowed.
pub trait WritableAccount: ReadableAccount {
    /// Sets the balance.
    fn set_lamports(&mut self, lamports: u64);

    /// Adds `lamports` to the balance, failing with
    /// [`InstructionError::ArithmeticOverflow`] (and changing nothing) if it would
    /// overflow.
    fn checked_add_lamports(&mut self, lamports: u64) -> Result<(), InstructionError> {
        let new = self
            .lamports()
            .checked_add(lamports)
            .ok_or(InstructionError::ArithmeticOverflow)?;
        self.set_lamports(new);
        Ok(())
    }

    /// Subtracts `lamports` from the balance, failing with
    /// [`InstructionError::InsufficientFunds`] (and changing nothing) if the balance is
    /// smaller.
    fn checked_sub_lamports(&mut self, lamports: u64) -> Result<(), InstructionError> {
        let new = self
            .lamports()
            .checked_sub(lamports)
            .ok_or(InstructionError::InsufficientFunds)?;
        self.set_lamports(new);
        Ok(())
    }

    /// The data, mutably. For a shared account this copies the data first, even if the
    /// caller then only reads it: use [`ReadableAccount::data`] to read.
    fn data_as_mut_slice(&mut self) -> &mut [u8];

    /// Replaces the data with a copy of `data` (the length may change).
    fn set_data_from_slice(&mut self, data: &[u8]);

    /// Resizes the data to `new_len` bytes, filling new bytes with `value`.
    fn resize(&mut self, new_len: usize, value: u8);

    /// Sets the owning program.
    fn set_owner(&mut self, owner: Pubkey);

    /// Sets the executable flag.
    fn set_executable(&mut self, executable: bool);
}

/// An account whose data is shared between clones until one of them writes.
///
/// Loading an account for a transaction, keeping a rollback copy of it and handing it
/// back to a store are all clones; with the data behind an [`Arc`], each is a reference
/// count bump instead of a copy of up to
/// [`MAX_PERMITTED_DATA_LENGTH`](crate::MAX_PERMITTED_DATA_LENGTH) bytes.
///
/// **Copy-on-write rule:** every write to the data goes through [`Arc::make_mut`] (or
/// replaces the buffer outright when the old bytes are not needed), so a write copies the
/// data only if another clone still shares it, and never changes what another clone
/// sees. [`AccountSharedData::data_is_shared_with`] makes the sharing observable in tests.
///
/// Equality compares values (lamports, data bytes, owner, executable), not buffers.
/// `Debug` prints the data length rather than the data.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AccountSharedData {
    lamports: u64,
    data: Arc<Vec<u8>>,
    owner: Pubkey,
    executable: bool,
}

// Accounts are cloned on every load: keep the clone a 56-byte copy plus one refcount bump.
const _: () = assert!(size_of::<AccountSharedData>() == 56);

impl AccountSharedData {
    /// An account with `space` zeroed bytes of data, owned by `owner`, not executable.
    pub fn new(lamports: u64, space: usize, owner: &Pubkey) -> Self {
        Self::new_data(lamports, vec![0; space], owner)
    }

    /// An account holding `data` (moved in, not copied), owned by `owner`, not executable.
    pub fn new_data(lamports: u64, data: Vec<u8>, owner: &Pubkey) -> Self {
        Self {
            lamports,
            data: Arc::new(data),
            owner: *owner,
            executable: false,
        }
    }

    /// Replaces the data with `data`, moving it in: no copy, whether or not the old data
    /// was shared (other clones keep the old data).
    pub fn set_data(&mut self, data: Vec<u8>) {
        self.data = Arc::new(data);
    }

    /// Whether `self` and `other` currently share one data buffer (a clone that neither
    /// has written since). A write to either one ends the sharing.
    pub fn data_is_shared_with(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.data, &other.data)
    }
}

impl ReadableAccount for AccountSharedData {
    fn lamports(&self) -> u64 {
        self.lamports
    }

    fn data(&self) -> &[u8] {
        &self.data
    }

    fn owner(&self) -> &Pubkey {
        &self.owner
    }

    fn executable(&self) -> bool {
        self.executable
    }
}

impl WritableAccount for AccountSharedData {
    fn set_lamports(&mut self, lamports: u64) {
        self.lamports = lamports;
    }

    fn data_as_mut_slice(&mut self) -> &mut [u8] {
        Arc::make_mut(&mut self.data).as_mut_slice()
    }

    fn set_data_from_slice(&mut self, data: &[u8]) {
        match Arc::get_mut(&mut self.data) {
            // Sole owner: reuse the allocation.
            Some(own) => {
                own.clear();
                own.extend_from_slice(data);
            }
            // Shared: `make_mut` would copy the old bytes only to overwrite them.
            None => self.data = Arc::new(data.to_vec()),
        }
    }

    fn resize(&mut self, new_len: usize, value: u8) {
        match Arc::get_mut(&mut self.data) {
            Some(own) => own.resize(new_len, value),
            // Shared: copy only the bytes that survive the resize.
            None => {
                let kept = self.data.get(..new_len).unwrap_or(&self.data);
                let mut data = Vec::with_capacity(new_len);
                data.extend_from_slice(kept);
                data.resize(new_len, value);
                self.data = Arc::new(data);
            }
        }
    }

    fn set_owner(&mut self, owner: Pubkey) {
        self.owner = owner;
    }

    fn set_executable(&mut self, executable: bool) {
        self.executable = executable;
    }
}

impl fmt::Debug for AccountSharedData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            lamports,
            data,
            owner,
            executable,
        } = self;
        f.debug_struct("AccountSharedData")
            .field("lamports", lamports)
            .field("data_len", &data.len())
            .field("owner", owner)
            .field("executable", executable)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> AccountSharedData {
        AccountSharedData::new_data(10, vec![1, 2, 3], &Pubkey::new_unique())
    }

    #[test]
    fn new_zeroes_data() {
        let owner = Pubkey::new_unique();
        let account = AccountSharedData::new(7, 4, &owner);
        assert_eq!(account.lamports(), 7);
        assert_eq!(account.data(), &[0, 0, 0, 0]);
        assert_eq!(account.owner(), &owner);
        assert!(!account.executable());
    }

    #[test]
    fn clone_shares_data_until_a_write() {
        let original = account();
        let mut copy = original.clone();
        assert!(copy.data_is_shared_with(&original));

        copy.data_as_mut_slice()[0] = 9;

        assert!(!copy.data_is_shared_with(&original));
        assert_eq!(original.data(), &[1, 2, 3]);
        assert_eq!(copy.data(), &[9, 2, 3]);
    }

    #[test]
    fn every_data_write_leaves_other_clones_unchanged() {
        let writes: [fn(&mut AccountSharedData); 4] = [
            |a| a.data_as_mut_slice()[1] = 0,
            |a| a.set_data_from_slice(&[4, 5]),
            |a| a.resize(5, 0xaa),
            |a| a.set_data(vec![]),
        ];
        for write in writes {
            let original = account();
            let mut copy = original.clone();
            write(&mut copy);
            assert_eq!(original.data(), &[1, 2, 3]);
            assert!(!copy.data_is_shared_with(&original));
        }
    }

    #[test]
    fn writes_to_an_unshared_account_do_not_reallocate() {
        let mut account = account();
        let before = account.data().as_ptr();
        account.data_as_mut_slice()[0] = 5;
        account.set_data_from_slice(&[6, 7]);
        account.resize(1, 0);
        assert_eq!(account.data().as_ptr(), before);
        assert_eq!(account.data(), &[6]);
    }

    #[test]
    fn resize_of_a_shared_account_keeps_the_prefix_and_fills() {
        let original = account();
        let mut grown = original.clone();
        grown.resize(5, 0xff);
        assert_eq!(grown.data(), &[1, 2, 3, 0xff, 0xff]);
        let mut shrunk = original.clone();
        shrunk.resize(2, 0xff);
        assert_eq!(shrunk.data(), &[1, 2]);
        assert_eq!(original.data(), &[1, 2, 3]);
    }

    #[test]
    fn checked_lamport_arithmetic_fails_without_changing_the_balance() {
        let mut account = account();
        assert_eq!(
            account.checked_sub_lamports(11),
            Err(InstructionError::InsufficientFunds)
        );
        assert_eq!(account.lamports(), 10);
        account.set_lamports(u64::MAX - 1);
        assert_eq!(
            account.checked_add_lamports(2),
            Err(InstructionError::ArithmeticOverflow)
        );
        assert_eq!(account.lamports(), u64::MAX - 1);
        assert_eq!(account.checked_add_lamports(1), Ok(()));
        assert_eq!(account.checked_sub_lamports(u64::MAX), Ok(()));
        assert_eq!(account.lamports(), 0);
    }

    #[test]
    fn equality_is_by_value_not_by_buffer() {
        let owner = Pubkey::new_unique();
        let a = AccountSharedData::new_data(1, vec![1], &owner);
        let b = AccountSharedData::new_data(1, vec![1], &owner);
        assert!(!a.data_is_shared_with(&b));
        assert_eq!(a, b);
        let mut c = b.clone();
        c.set_executable(true);
        assert_ne!(b, c);
    }

    #[test]
    fn debug_prints_data_length_not_data() {
        let account = AccountSharedData::new(1, 1000, &Pubkey::default());
        let text = format!("{account:?}");
        assert!(text.contains("data_len: 1000"), "{text}");
        assert!(text.len() < 200, "{text}");
    }
}
