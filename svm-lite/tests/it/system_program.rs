//! The system program, run through `execute_instruction` so the runtime rules apply too.

use sdk_lite::{AccountSharedData, InstructionError, Pubkey, ReadableAccount, system_program};
use svm_lite::system_program::instruction;
use svm_lite::{
    ComputeMeter, InstructionAccount, SystemError, SystemInstruction, SystemProgram,
    execute_instruction,
};

/// Runs a system instruction over `accounts` (signer and writable flags as given).
fn run(
    data: &[u8],
    accounts: &mut [AccountSharedData],
    flags: &[(bool, bool)],
) -> Result<(), InstructionError> {
    let keys: Vec<Pubkey> = accounts.iter().map(|_| Pubkey::new_unique()).collect();
    let instruction_accounts: Vec<InstructionAccount> = flags
        .iter()
        .enumerate()
        .map(|(index, &(is_signer, is_writable))| InstructionAccount {
            index_in_transaction: index,
            is_signer,
            is_writable,
        })
        .collect();
    execute_instruction(
        &SystemProgram,
        &svm_lite::Invocation {
            program_id: system_program::ID,
            data,
            accounts: &instruction_accounts,
        },
        &keys,
        accounts,
        &mut ComputeMeter::new(10_000),
        &crate::environment(),
        None,
    )
}

fn system(lamports: u64) -> AccountSharedData {
    AccountSharedData::new(lamports, 0, &system_program::ID)
}

const SIGNER: (bool, bool) = (true, true);
const WRITABLE: (bool, bool) = (false, true);

#[test]
fn encoding_round_trips_and_matches_the_builders() {
    let owner = Pubkey::new_unique();
    for instruction in [
        SystemInstruction::CreateAccount {
            lamports: 1,
            space: 2,
            owner,
        },
        SystemInstruction::Assign { owner },
        SystemInstruction::Transfer { lamports: 7 },
        SystemInstruction::Allocate { space: 9 },
    ] {
        assert_eq!(
            SystemInstruction::decode(&instruction.encode()),
            Some(instruction)
        );
    }
    let (a, b) = (Pubkey::new_unique(), Pubkey::new_unique());
    assert_eq!(
        instruction::transfer(&a, &b, 7).data,
        SystemInstruction::Transfer { lamports: 7 }.encode()
    );
    assert_eq!(SystemInstruction::decode(&[2, 0, 0, 0, 1]), None, "short");
    assert_eq!(
        SystemInstruction::decode(&[99, 0, 0, 0]),
        None,
        "unknown tag"
    );
}

#[test]
fn transfer_moves_lamports() {
    let mut accounts = [system(100), system(5)];
    let data = SystemInstruction::Transfer { lamports: 60 }.encode();
    assert_eq!(run(&data, &mut accounts, &[SIGNER, WRITABLE]), Ok(()));
    assert_eq!(accounts[0].lamports(), 40);
    assert_eq!(accounts[1].lamports(), 65);
}

#[test]
fn transfer_needs_funds_and_a_signature() {
    let data = SystemInstruction::Transfer { lamports: 101 }.encode();
    assert_eq!(
        run(&data, &mut [system(100), system(0)], &[SIGNER, WRITABLE]),
        Err(SystemError::ResultWithNegativeLamports.into())
    );
    let data = SystemInstruction::Transfer { lamports: 1 }.encode();
    assert_eq!(
        run(&data, &mut [system(100), system(0)], &[WRITABLE, WRITABLE]),
        Err(InstructionError::MissingRequiredSignature)
    );
}

#[test]
fn transfer_from_an_account_with_data_or_another_owner_fails() {
    let data = SystemInstruction::Transfer { lamports: 1 }.encode();
    let with_data = AccountSharedData::new(100, 1, &system_program::ID);
    assert_eq!(
        run(&data, &mut [with_data, system(0)], &[SIGNER, WRITABLE]),
        Err(InstructionError::InvalidArgument)
    );
    let foreign = AccountSharedData::new(100, 0, &Pubkey::new_unique());
    assert_eq!(
        run(&data, &mut [foreign, system(0)], &[SIGNER, WRITABLE]),
        Err(InstructionError::ExternalAccountLamportSpend),
        "the runtime rule stops the system program from debiting what it does not own"
    );
}

#[test]
fn create_account_funds_sizes_and_assigns() {
    let owner = Pubkey::new_unique();
    let mut accounts = [system(1_000), AccountSharedData::default()];
    let data = SystemInstruction::CreateAccount {
        lamports: 300,
        space: 16,
        owner,
    }
    .encode();
    assert_eq!(run(&data, &mut accounts, &[SIGNER, SIGNER]), Ok(()));
    assert_eq!(accounts[0].lamports(), 700);
    assert_eq!(accounts[1].lamports(), 300);
    assert_eq!(accounts[1].data(), &[0; 16]);
    assert_eq!(accounts[1].owner(), &owner);
}

#[test]
fn create_account_refuses_an_existing_account_and_needs_both_signatures() {
    let data = SystemInstruction::CreateAccount {
        lamports: 1,
        space: 0,
        owner: Pubkey::new_unique(),
    }
    .encode();
    assert_eq!(
        run(&data, &mut [system(1_000), system(1)], &[SIGNER, SIGNER]),
        Err(SystemError::AccountAlreadyInUse.into())
    );
    assert_eq!(
        run(
            &data,
            &mut [system(1_000), AccountSharedData::default()],
            &[SIGNER, WRITABLE]
        ),
        Err(InstructionError::MissingRequiredSignature)
    );
    let too_big = SystemInstruction::CreateAccount {
        lamports: 1,
        space: 10 * 1024 * 1024 + 1,
        owner: Pubkey::new_unique(),
    }
    .encode();
    assert_eq!(
        run(
            &too_big,
            &mut [system(1_000), AccountSharedData::default()],
            &[SIGNER, SIGNER]
        ),
        Err(SystemError::InvalidAccountDataLength.into())
    );
}

#[test]
fn assign_and_allocate() {
    let owner = Pubkey::new_unique();
    let mut accounts = [system(10)];
    assert_eq!(
        run(
            &SystemInstruction::Allocate { space: 4 }.encode(),
            &mut accounts,
            &[SIGNER]
        ),
        Ok(())
    );
    assert_eq!(accounts[0].data(), &[0; 4]);
    assert_eq!(
        run(
            &SystemInstruction::Assign { owner }.encode(),
            &mut accounts,
            &[SIGNER]
        ),
        Ok(())
    );
    assert_eq!(accounts[0].owner(), &owner);
    assert_eq!(
        run(
            &SystemInstruction::Allocate { space: 4 }.encode(),
            &mut [system(10)],
            &[WRITABLE]
        ),
        Err(InstructionError::MissingRequiredSignature)
    );
}

#[test]
fn garbage_data_is_invalid() {
    assert_eq!(
        run(&[1, 2, 3], &mut [system(10)], &[SIGNER]),
        Err(InstructionError::InvalidInstructionData)
    );
}
