//! Accounts as the executor uses them: load a clone, write it, keep the original for
//! rollback.

use sdk_lite::{
    AccountSharedData, InstructionError, Pubkey, ReadableAccount, WritableAccount, system_program,
};

/// A transfer written against the traits only, as an executor would.
fn transfer(
    from: &mut impl WritableAccount,
    to: &mut impl WritableAccount,
    lamports: u64,
) -> Result<(), InstructionError> {
    from.checked_sub_lamports(lamports)?;
    to.checked_add_lamports(lamports)
}

#[test]
fn loaded_clone_can_be_written_while_the_rollback_copy_stays_intact() {
    let owner = Pubkey::new_unique();
    let stored = AccountSharedData::new_data(100, vec![1; 64], &owner);

    let mut loaded = stored.clone();
    let rollback = stored.clone();
    assert!(loaded.data_is_shared_with(&stored) && rollback.data_is_shared_with(&stored));

    loaded.data_as_mut_slice()[0] = 2;
    loaded.set_lamports(50);
    loaded.set_owner(system_program::ID);

    assert_eq!(rollback, stored);
    assert!(
        rollback.data_is_shared_with(&stored),
        "untouched clones keep sharing"
    );
    assert!(!loaded.data_is_shared_with(&stored));
    assert_eq!(loaded.data()[0], 2);
    assert_eq!(loaded.lamports(), 50);
    assert_eq!(loaded.owner(), &system_program::ID);
    assert_eq!(stored.data()[0], 1);
    assert_eq!(stored.lamports(), 100);
    assert_eq!(stored.owner(), &owner);
}

#[test]
fn a_write_copies_the_data_once() {
    let stored = AccountSharedData::new(1, 16, &Pubkey::new_unique());
    let mut loaded = stored.clone();
    loaded.data_as_mut_slice()[0] = 1;
    let after_first_write = loaded.data().as_ptr();
    loaded.data_as_mut_slice()[1] = 1;
    loaded.resize(8, 0);
    assert_eq!(loaded.data().as_ptr(), after_first_write);
}

#[test]
fn lamport_changes_do_not_touch_shared_data() {
    let stored = AccountSharedData::new(10, 8, &Pubkey::new_unique());
    let mut from = stored.clone();
    let mut to = AccountSharedData::new(0, 0, &system_program::ID);
    transfer(&mut from, &mut to, 4).unwrap();
    assert_eq!((from.lamports(), to.lamports()), (6, 4));
    assert!(from.data_is_shared_with(&stored));
}

#[test]
fn failed_transfer_reports_insufficient_funds() {
    let mut from = AccountSharedData::new(3, 0, &system_program::ID);
    let mut to = AccountSharedData::default();
    assert_eq!(
        transfer(&mut from, &mut to, 4),
        Err(InstructionError::InsufficientFunds)
    );
    assert_eq!((from.lamports(), to.lamports()), (3, 0));
}

#[test]
fn default_account_is_empty_and_system_owned() {
    let account = AccountSharedData::default();
    assert_eq!(account.lamports(), 0);
    assert!(account.data().is_empty());
    assert_eq!(account.owner(), &system_program::ID);
    assert!(!account.executable());
}
