//! The runtime rules `execute_instruction` enforces on a program's result.

use sdk_lite::{AccountSharedData, InstructionError, Pubkey, ReadableAccount, WritableAccount};
use svm_lite::{
    ComputeMeter, InstructionAccount, InstructionContext, Program, execute_instruction,
};

/// A program made of a function.
struct FnProgram(fn(&mut InstructionContext<'_>) -> Result<(), InstructionError>);

impl Program for FnProgram {
    fn execute(&self, context: &mut InstructionContext<'_>) -> Result<(), InstructionError> {
        (self.0)(context)
    }
}

const PROGRAM: Pubkey = Pubkey::new_from_array([9; 32]);

/// Accounts 0 and 1 are owned by `PROGRAM` (100 lamports, data [1, 2]), account 2 by
/// another program (100 lamports, data [3]). Account 1 is read-only in the instruction.
fn run(
    body: fn(&mut InstructionContext<'_>) -> Result<(), InstructionError>,
) -> (
    Result<(), InstructionError>,
    Vec<AccountSharedData>,
    ComputeMeter,
) {
    let keys = [
        Pubkey::new_unique(),
        Pubkey::new_unique(),
        Pubkey::new_unique(),
    ];
    let mut accounts = vec![
        AccountSharedData::new_data(100, vec![1, 2], &PROGRAM),
        AccountSharedData::new_data(100, vec![1, 2], &PROGRAM),
        AccountSharedData::new_data(100, vec![3], &Pubkey::new_unique()),
    ];
    let instruction_accounts = [
        InstructionAccount {
            index_in_transaction: 0,
            is_signer: true,
            is_writable: true,
        },
        InstructionAccount {
            index_in_transaction: 1,
            is_signer: false,
            is_writable: false,
        },
        InstructionAccount {
            index_in_transaction: 2,
            is_signer: false,
            is_writable: true,
        },
    ];
    let mut meter = ComputeMeter::new(1_000);
    let result = execute_instruction(
        &FnProgram(body),
        &svm_lite::Invocation {
            program_id: PROGRAM,
            data: &[],
            accounts: &instruction_accounts,
        },
        &keys,
        &mut accounts,
        &mut meter,
        &crate::environment(),
        None,
    );
    (result, accounts, meter)
}

#[test]
fn moving_lamports_out_of_an_owned_account_is_allowed() {
    let (result, accounts, _) = run(|cx| {
        cx.account_mut(0)?.set_lamports(60);
        cx.account_mut(2)?.set_lamports(140);
        Ok(())
    });
    assert_eq!(result, Ok(()));
    assert_eq!(accounts[2].lamports(), 140);
}

#[test]
fn debiting_an_account_owned_by_another_program_fails() {
    let (result, ..) = run(|cx| {
        cx.account_mut(2)?.set_lamports(60);
        cx.account_mut(0)?.set_lamports(140);
        Ok(())
    });
    assert_eq!(result, Err(InstructionError::ExternalAccountLamportSpend));
}

#[test]
fn changing_a_read_only_account_fails() {
    let (result, ..) = run(|cx| {
        cx.account_mut(1)?.set_lamports(110);
        cx.account_mut(0)?.set_lamports(90);
        Ok(())
    });
    assert_eq!(result, Err(InstructionError::ReadonlyLamportChange));
    let (result, ..) = run(|cx| {
        cx.account_mut(1)?.data_as_mut_slice()[0] = 7;
        Ok(())
    });
    assert_eq!(result, Err(InstructionError::ReadonlyDataModified));
}

#[test]
fn only_the_owner_changes_data() {
    let (result, accounts, _) = run(|cx| {
        cx.account_mut(0)?.set_data_from_slice(&[5, 6, 7]);
        Ok(())
    });
    assert_eq!(result, Ok(()));
    assert_eq!(accounts[0].data(), &[5, 6, 7]);
    let (result, ..) = run(|cx| {
        cx.account_mut(2)?.data_as_mut_slice()[0] = 4;
        Ok(())
    });
    assert_eq!(result, Err(InstructionError::ExternalAccountDataModified));
}

#[test]
fn creating_lamports_is_unbalanced() {
    let (result, ..) = run(|cx| {
        cx.account_mut(0)?.set_lamports(101);
        Ok(())
    });
    assert_eq!(result, Err(InstructionError::UnbalancedInstruction));
}

#[test]
fn the_owner_may_reassign_only_an_empty_or_zeroed_account() {
    let (result, ..) = run(|cx| {
        let account = cx.account_mut(0)?;
        account.set_data_from_slice(&[0, 0]);
        account.set_owner(Pubkey::new_unique());
        Ok(())
    });
    assert_eq!(result, Ok(()));
    let (result, ..) = run(|cx| {
        cx.account_mut(0)?.set_owner(Pubkey::new_unique());
        Ok(())
    });
    assert_eq!(
        result,
        Err(InstructionError::ModifiedProgramId),
        "data is not zeroed"
    );
    let (result, ..) = run(|cx| {
        let account = cx.account_mut(2)?;
        account.set_data_from_slice(&[]);
        account.set_owner(Pubkey::new_unique());
        Ok(())
    });
    assert_eq!(
        result,
        Err(InstructionError::ModifiedProgramId),
        "not the owner"
    );
}

#[test]
fn the_executable_flag_never_changes() {
    let (result, ..) = run(|cx| {
        cx.account_mut(0)?.set_executable(true);
        Ok(())
    });
    assert_eq!(result, Err(InstructionError::ExecutableModified));
}

#[test]
fn compute_is_metered_and_running_out_takes_everything() {
    let (result, _, meter) = run(|cx| cx.consume_compute_units(400));
    assert_eq!(result, Ok(()));
    assert_eq!(meter.remaining(), 600);
    let (result, _, meter) = run(|cx| cx.consume_compute_units(1_001));
    assert_eq!(result, Err(InstructionError::ComputationalBudgetExceeded));
    assert_eq!(meter.remaining(), 0);
}

#[test]
fn asking_for_an_account_the_instruction_does_not_list_fails() {
    let (result, ..) = run(|cx| cx.account(3).map(|_| ()));
    assert_eq!(result, Err(InstructionError::NotEnoughAccountKeys));
    let (result, ..) = run(|cx| {
        assert!(cx.is_signer(0)?);
        assert!(!cx.is_writable(1)?);
        assert_eq!(cx.num_accounts(), 3);
        cx.key(5).map(|_| ())
    });
    assert_eq!(result, Err(InstructionError::NotEnoughAccountKeys));
}

#[test]
fn a_program_error_is_returned_as_is() {
    let (result, ..) = run(|_| Err(InstructionError::Custom(42)));
    assert_eq!(result, Err(InstructionError::Custom(42)));
}
