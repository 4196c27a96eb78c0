//! Durable nonces: the processor's verification and advance, the rollback shapes, and the
//! system program's nonce instructions.

use std::collections::HashMap;

use sdk_lite::{
    AccountSharedData, Hash, Instruction, InstructionError, Message, Pubkey, ReadableAccount,
    SanitizedTransaction, Transaction, TransactionError, system_program,
};
use svm_lite::system_program::instruction as system;
use svm_lite::{
    NONCE_ACCOUNT_LENGTH, NonceState, ProcessedTransaction, ProcessingEnvironment,
    ProcessingResult, ProgramRegistry, Rent, SystemError, TransactionCheck,
    durable_nonce_from_blockhash, load_and_execute_sanitized_transactions,
};

const RICH: u64 = 1_000_000_000;
const FEE: u64 = 5_000;

type Store = HashMap<Pubkey, AccountSharedData>;

/// A store with a funded payer and a nonce account (authority `authority`) whose durable
/// nonce is `stored`, plus the environment of a later slot.
struct Fixture {
    store: Store,
    environment: ProcessingEnvironment,
    payer: Pubkey,
    nonce: Pubkey,
    authority: Pubkey,
    stored: Hash,
}

fn fixture() -> Fixture {
    let (payer, nonce, authority) = (
        Pubkey::new_unique(),
        Pubkey::new_unique(),
        Pubkey::new_unique(),
    );
    let stored = durable_nonce_from_blockhash(&Hash::new_unique());
    let state = NonceState::Initialized {
        authority,
        durable_nonce: stored,
        lamports_per_signature: FEE,
    };
    let store = Store::from([
        (payer, AccountSharedData::new(RICH, 0, &system_program::ID)),
        (
            nonce,
            AccountSharedData::new_data(RICH, state.to_data().to_vec(), &system_program::ID),
        ),
    ]);
    Fixture {
        store,
        environment: ProcessingEnvironment {
            slot: 1,
            blockhash: Hash::new_unique(),
            lamports_per_signature: FEE,
            rent: Rent::default(),
        },
        payer,
        nonce,
        authority,
        stored,
    }
}

fn tx(payer: &Pubkey, blockhash: Hash, instructions: &[Instruction]) -> SanitizedTransaction {
    let message = Message::new(instructions, Some(payer), blockhash);
    SanitizedTransaction::try_new(Transaction::new_with_placeholder_signatures(message)).unwrap()
}

fn process(
    f: &Fixture,
    transactions: &[SanitizedTransaction],
    check: TransactionCheck,
) -> Vec<ProcessingResult> {
    load_and_execute_sanitized_transactions(
        &f.store,
        &ProgramRegistry::with_builtins(),
        transactions,
        &vec![Ok(check); transactions.len()],
        &f.environment,
        &svm_lite::ProcessingConfig::default(),
    )
    .unwrap()
    .results
}

fn commit(store: &mut Store, results: &[ProcessingResult]) {
    for processed in results.iter().flatten() {
        for (key, account) in processed.accounts() {
            store.insert(*key, account.clone());
        }
    }
}

fn stored_nonce(store: &Store, key: &Pubkey) -> Hash {
    match NonceState::from_data(store[key].data()) {
        Some(NonceState::Initialized { durable_nonce, .. }) => durable_nonce,
        other => panic!("not an initialized nonce: {other:?}"),
    }
}

/// A durable transaction from `f.payer`: advance, then a transfer of `amount`.
fn durable_transfer(f: &Fixture, amount: u64) -> SanitizedTransaction {
    let to = Pubkey::new_unique();
    tx(
        &f.payer,
        f.stored,
        &[
            system::advance_nonce_account(&f.nonce, &f.authority),
            system::transfer(&f.payer, &to, amount),
        ],
    )
}

#[test]
fn a_valid_durable_transaction_runs_and_advances_the_nonce() {
    let mut f = fixture();
    let results = process(
        &f,
        &[durable_transfer(&f, 1_000_000)],
        TransactionCheck::DurableNonce,
    );
    assert!(results[0].as_ref().unwrap().was_successful(), "{results:?}");
    commit(&mut f.store, &results);
    assert_eq!(
        stored_nonce(&f.store, &f.nonce),
        durable_nonce_from_blockhash(&f.environment.blockhash)
    );
}

#[test]
fn a_wrong_hash_authority_or_order_is_blockhash_not_found() {
    let f = fixture();
    let impostor = Pubkey::new_unique();
    let to = Pubkey::new_unique();
    let cases = [
        tx(
            &f.payer,
            Hash::new_unique(),
            &[system::advance_nonce_account(&f.nonce, &f.authority)],
        ),
        tx(
            &f.payer,
            f.stored,
            &[system::advance_nonce_account(&f.nonce, &impostor)],
        ),
        tx(
            &f.payer,
            f.stored,
            &[
                system::transfer(&f.payer, &to, 1_000_000),
                system::advance_nonce_account(&f.nonce, &f.authority),
            ],
        ),
        tx(
            &f.payer,
            f.stored,
            &[system::transfer(&f.payer, &to, 1_000_000)],
        ),
    ];
    for (case, result) in process(&f, &cases, TransactionCheck::DurableNonce)
        .iter()
        .enumerate()
    {
        assert_eq!(
            result,
            &Err(TransactionError::BlockhashNotFound),
            "case {case}"
        );
    }
}

#[test]
fn a_nonce_cannot_be_used_twice_in_one_batch() {
    let f = fixture();
    let results = process(
        &f,
        &[
            durable_transfer(&f, 1_000_000),
            durable_transfer(&f, 2_000_000),
        ],
        TransactionCheck::DurableNonce,
    );
    assert!(results[0].as_ref().unwrap().was_successful());
    assert_eq!(results[1], Err(TransactionError::BlockhashNotFound));
}

#[test]
fn a_failing_durable_transaction_commits_the_fee_and_the_advance() {
    let mut f = fixture();
    let results = process(
        &f,
        &[durable_transfer(&f, RICH * 2)],
        TransactionCheck::DurableNonce,
    );
    let Ok(ProcessedTransaction::Executed {
        status: Err(_),
        accounts,
        ..
    }) = &results[0]
    else {
        panic!("{results:?}");
    };
    let committed: Vec<Pubkey> = accounts.iter().map(|(key, _)| *key).collect();
    assert_eq!(
        committed,
        vec![f.payer, f.nonce],
        "separate fee payer and nonce"
    );
    commit(&mut f.store, &results);
    assert_eq!(
        f.store[&f.payer].lamports(),
        RICH - 2 * FEE,
        "payer and authority sign"
    );
    assert_eq!(f.store[&f.nonce].lamports(), RICH);
    assert_eq!(
        stored_nonce(&f.store, &f.nonce),
        durable_nonce_from_blockhash(&f.environment.blockhash)
    );
}

#[test]
fn a_nonce_that_pays_its_own_failing_transaction_commits_once_merged() {
    let mut f = fixture();
    // The nonce account is the fee payer; its authority signs the advance.
    let to = Pubkey::new_unique();
    let failing = tx(
        &f.nonce,
        f.stored,
        &[
            system::advance_nonce_account(&f.nonce, &f.authority),
            system::transfer(&f.authority, &to, 1),
        ],
    );
    let results = process(&f, &[failing], TransactionCheck::DurableNonce);
    let Ok(ProcessedTransaction::Executed {
        status: Err(_),
        accounts,
        ..
    }) = &results[0]
    else {
        panic!("{results:?}");
    };
    assert_eq!(accounts.len(), 1);
    commit(&mut f.store, &results);
    assert_eq!(
        f.store[&f.nonce].lamports(),
        RICH - 2 * FEE,
        "two signatures"
    );
    assert_eq!(
        stored_nonce(&f.store, &f.nonce),
        durable_nonce_from_blockhash(&f.environment.blockhash)
    );
}

#[test]
fn a_durable_transaction_that_fails_to_load_still_advances() {
    let mut f = fixture();
    let unknown = Instruction::new_with_bytes(Pubkey::new_unique(), &[], vec![]);
    let results = process(
        &f,
        &[tx(
            &f.payer,
            f.stored,
            &[
                system::advance_nonce_account(&f.nonce, &f.authority),
                unknown,
            ],
        )],
        TransactionCheck::DurableNonce,
    );
    let Ok(ProcessedTransaction::FeesOnly {
        error, accounts, ..
    }) = &results[0]
    else {
        panic!("{results:?}");
    };
    assert_eq!(error, &TransactionError::ProgramAccountNotFound);
    assert_eq!(accounts.len(), 2);
    commit(&mut f.store, &results);
    assert_ne!(stored_nonce(&f.store, &f.nonce), f.stored);
}

#[test]
fn nonce_accounts_are_created_advanced_withdrawn_and_reauthorized_by_the_system_program() {
    let mut f = fixture();
    let (fresh, new_authority) = (Pubkey::new_unique(), Pubkey::new_unique());
    // Withdrawals go to the (rich) payer: a new account would be left below the rent
    // minimum.
    let to = f.payer;
    let minimum = f.environment.rent.minimum_balance(NONCE_ACCOUNT_LENGTH);
    let recent = Hash::new_unique();
    let run = |f: &Fixture, instructions: &[Instruction]| {
        process(
            f,
            &[tx(&f.payer, recent, instructions)],
            TransactionCheck::RecentBlockhash,
        )
    };

    let created = run(
        &f,
        &system::create_nonce_account(&f.payer, &fresh, &f.authority, minimum + 1_000),
    );
    assert!(created[0].as_ref().unwrap().was_successful(), "{created:?}");
    commit(&mut f.store, &created);
    assert_eq!(
        stored_nonce(&f.store, &fresh),
        durable_nonce_from_blockhash(&f.environment.blockhash)
    );

    // Advancing again within the same blockhash is refused.
    let again = run(&f, &[system::advance_nonce_account(&fresh, &f.authority)]);
    let Ok(ProcessedTransaction::Executed { status, .. }) = &again[0] else {
        panic!()
    };
    assert_eq!(
        status,
        &Err(TransactionError::InstructionError(
            0,
            SystemError::NonceBlockhashNotExpired.into()
        ))
    );

    // Withdrawing below the rent-exempt minimum is refused; down to it is fine.
    let too_much = run(
        &f,
        &[system::withdraw_nonce_account(
            &fresh,
            &f.authority,
            &to,
            1_001,
        )],
    );
    let Ok(ProcessedTransaction::Executed { status, .. }) = &too_much[0] else {
        panic!()
    };
    assert_eq!(
        status,
        &Err(TransactionError::InstructionError(
            0,
            InstructionError::InsufficientFunds
        ))
    );
    let some = run(
        &f,
        &[system::withdraw_nonce_account(
            &fresh,
            &f.authority,
            &to,
            1_000,
        )],
    );
    assert!(some[0].as_ref().unwrap().was_successful(), "{some:?}");

    // Re-authorizing needs the current authority.
    let wrong = run(
        &f,
        &[system::authorize_nonce_account(
            &fresh,
            &new_authority,
            &new_authority,
        )],
    );
    let Ok(ProcessedTransaction::Executed { status, .. }) = &wrong[0] else {
        panic!()
    };
    assert_eq!(
        status,
        &Err(TransactionError::InstructionError(
            0,
            InstructionError::MissingRequiredSignature
        ))
    );
    let handed = run(
        &f,
        &[system::authorize_nonce_account(
            &fresh,
            &f.authority,
            &new_authority,
        )],
    );
    assert!(handed[0].as_ref().unwrap().was_successful(), "{handed:?}");
    commit(&mut f.store, &handed);
    let Some(NonceState::Initialized { authority, .. }) =
        NonceState::from_data(f.store[&fresh].data())
    else {
        panic!()
    };
    assert_eq!(authority, new_authority);
}
