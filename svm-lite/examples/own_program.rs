//! Adding a built-in program: implement `svm_lite::Program` and register it. The runtime
//! loads the accounts, meters compute units, and checks the rules around the program (only
//! an account's owner may change its data, lamports balance, read-only accounts stay
//! unchanged), so a buggy program fails its transaction instead of corrupting state.
//!
//! `cargo run -p svm-lite --example own_program`

// An example prints what it shows.
#![allow(clippy::print_stdout)]

use std::collections::HashMap;
use std::sync::Arc;

use sdk_lite::{
    AccountMeta, AccountSharedData, Hash, Instruction, InstructionError, Message, Pubkey,
    ReadableAccount, SanitizedTransaction, Transaction, TransactionError, WritableAccount,
    system_program,
};
use svm_lite::{
    InstructionContext, ProcessedTransaction, ProcessingConfig, ProcessingEnvironment, Program,
    ProgramRegistry, Rent, TransactionCheck, load_and_execute_sanitized_transactions,
};

/// The program's id (a user picks their own).
const COUNTER_PROGRAM_ID: Pubkey = Pubkey::new_from_array([42; 32]);

/// A counter: instruction data `[0]` adds one to the u64 in account 0; `[1]` tries to
/// change an account it does not own (a bug the runtime catches).
struct CounterProgram;

impl Program for CounterProgram {
    fn execute(&self, context: &mut InstructionContext<'_>) -> Result<(), InstructionError> {
        context.consume_compute_units(50)?;
        match context.data() {
            [0] => {
                let account = context.account_mut(0)?;
                let data = account.data_as_mut_slice();
                let count = u64::from_le_bytes(
                    data.get(..8)
                        .ok_or(InstructionError::AccountDataTooSmall)?
                        .try_into()
                        .map_err(|_| InstructionError::InvalidAccountData)?,
                );
                data[..8].copy_from_slice(&(count + 1).to_le_bytes());
                Ok(())
            }
            [1] => {
                // Account 1 is owned by the system program: writing it breaks a rule.
                context.account_mut(1)?.data_as_mut_slice()[0] = 1;
                Ok(())
            }
            _ => Err(InstructionError::InvalidInstructionData),
        }
    }
}

fn transaction(payer: &Pubkey, accounts: &[Pubkey], data: u8) -> SanitizedTransaction {
    let instruction = Instruction::new_with_bytes(
        COUNTER_PROGRAM_ID,
        &[data],
        accounts
            .iter()
            .map(|key| AccountMeta::new(*key, false))
            .collect(),
    );
    let message = Message::new(&[instruction], Some(payer), Hash::default());
    SanitizedTransaction::try_new(Transaction::new_with_placeholder_signatures(message))
        .expect("a compiled message sanitizes")
}

fn main() {
    let mut programs = ProgramRegistry::with_builtins();
    programs.register(COUNTER_PROGRAM_ID, Arc::new(CounterProgram));

    let (payer, counter, victim) = (
        Pubkey::new_unique(),
        Pubkey::new_unique(),
        Pubkey::new_unique(),
    );
    let rent = Rent::default();
    let mut store: HashMap<Pubkey, AccountSharedData> = HashMap::from([
        (
            payer,
            AccountSharedData::new(10_000_000, 0, &system_program::ID),
        ),
        (
            counter,
            AccountSharedData::new(rent.minimum_balance(8), 8, &COUNTER_PROGRAM_ID),
        ),
        (
            victim,
            AccountSharedData::new(rent.minimum_balance(1), 1, &system_program::ID),
        ),
    ]);
    let environment = ProcessingEnvironment {
        slot: 1,
        blockhash: Hash::new_unique(),
        lamports_per_signature: 5_000,
        rent,
    };
    let batch = [
        transaction(&payer, &[counter], 0),
        transaction(&payer, &[counter], 0),
        transaction(&payer, &[counter, victim], 1),
    ];
    let checks = [
        Ok(TransactionCheck::RecentBlockhash),
        Ok(TransactionCheck::RecentBlockhash),
        Ok(TransactionCheck::RecentBlockhash),
    ];
    let output = load_and_execute_sanitized_transactions(
        &store,
        &programs,
        &batch,
        &checks,
        &environment,
        &ProcessingConfig::default(),
    )
    .expect("a map never fails a read");
    for (index, result) in output.results.iter().enumerate() {
        let processed = result.as_ref().expect("the payer can pay");
        if let ProcessedTransaction::Executed {
            status,
            units_consumed,
            ..
        } = processed
        {
            println!("transaction {index}: {status:?}, {units_consumed} compute units");
        }
        for (key, account) in processed.accounts() {
            store.insert(*key, account.clone());
        }
    }
    let count = u64::from_le_bytes(store[&counter].data()[..8].try_into().expect("8 bytes"));
    println!("counter: {count}");
    assert_eq!(count, 2);
    assert!(matches!(
        &output.results[2],
        Ok(ProcessedTransaction::Executed {
            status: Err(TransactionError::InstructionError(
                0,
                InstructionError::ExternalAccountDataModified
            )),
            ..
        })
    ));
    assert_eq!(
        store[&victim].data(),
        &[0],
        "the rule-breaking write was not committed"
    );
}
