//! Swapping the account store: `svm-lite` reads accounts through one trait,
//! `TransactionProcessingCallback`, and never writes; the caller commits what it returns.
//! Here the store is a user's own map behind a lock, with its own error type (a store that
//! can refuse a read, as a durable one might).
//!
//! `cargo run -p svm-lite --example own_account_source`

// An example prints what it shows.
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::sync::RwLock;

use sdk_lite::{
    AccountSharedData, Hash, Message, Pubkey, ReadableAccount, SanitizedTransaction, Transaction,
    system_program,
};
use svm_lite::system_program::instruction as system;
use svm_lite::{
    ProcessingConfig, ProcessingEnvironment, ProgramRegistry, Rent, TransactionCheck,
    TransactionProcessingCallback, load_and_execute_sanitized_transactions,
};

/// The user's store: an ordered map, and a set of keys it refuses to serve.
struct MyStore {
    accounts: RwLock<BTreeMap<Pubkey, AccountSharedData>>,
    quarantined: Vec<Pubkey>,
}

/// The store's own failure.
#[derive(Debug, thiserror::Error)]
#[error("account {0} is quarantined")]
struct Quarantined(Pubkey);

impl TransactionProcessingCallback for MyStore {
    type Error = Quarantined;

    fn get_account(&self, key: &Pubkey) -> Result<Option<AccountSharedData>, Quarantined> {
        if self.quarantined.contains(key) {
            return Err(Quarantined(*key));
        }
        Ok(self
            .accounts
            .read()
            .expect("no writer panics in this example")
            .get(key)
            .cloned())
    }
}

impl MyStore {
    /// Commits what the processor returned, in order.
    fn commit(&self, accounts: &[(Pubkey, AccountSharedData)]) {
        let mut map = self
            .accounts
            .write()
            .expect("no writer panics in this example");
        for (key, account) in accounts {
            map.insert(*key, account.clone());
        }
    }

    fn lamports(&self, key: &Pubkey) -> u64 {
        self.get_account(key)
            .ok()
            .flatten()
            .map_or(0, |account| account.lamports())
    }
}

fn transfer(from: &Pubkey, to: &Pubkey, lamports: u64) -> SanitizedTransaction {
    let message = Message::new(
        &[system::transfer(from, to, lamports)],
        Some(from),
        Hash::default(),
    );
    SanitizedTransaction::try_new(Transaction::new_with_placeholder_signatures(message))
        .expect("a compiled message sanitizes")
}

fn main() {
    let (alice, bob, mallory) = (
        Pubkey::new_unique(),
        Pubkey::new_unique(),
        Pubkey::new_unique(),
    );
    let store = MyStore {
        accounts: RwLock::new(BTreeMap::from([
            (
                alice,
                AccountSharedData::new(10_000_000, 0, &system_program::ID),
            ),
            (
                mallory,
                AccountSharedData::new(10_000_000, 0, &system_program::ID),
            ),
        ])),
        quarantined: vec![mallory],
    };
    let environment = ProcessingEnvironment {
        slot: 1,
        blockhash: Hash::new_unique(),
        lamports_per_signature: 5_000,
        rent: Rent::default(),
    };
    let programs = ProgramRegistry::with_builtins();

    let batch = [transfer(&alice, &bob, 1_000_000)];
    let output = load_and_execute_sanitized_transactions(
        &store,
        &programs,
        &batch,
        &[Ok(TransactionCheck::RecentBlockhash)],
        &environment,
        &ProcessingConfig::default(),
    )
    .expect("alice and bob are not quarantined");
    for result in &output.results {
        let processed = result.as_ref().expect("alice can pay");
        store.commit(processed.accounts());
    }
    println!(
        "after the transfer: alice {} lamports, bob {} lamports",
        store.lamports(&alice),
        store.lamports(&bob)
    );
    assert_eq!(store.lamports(&bob), 1_000_000);
    assert_eq!(store.lamports(&alice), 10_000_000 - 1_000_000 - 5_000);

    // The store's own error comes back typed; nothing is half-committed.
    let error = load_and_execute_sanitized_transactions(
        &store,
        &programs,
        &[transfer(&mallory, &bob, 1)],
        &[Ok(TransactionCheck::RecentBlockhash)],
        &environment,
        &ProcessingConfig::default(),
    )
    .expect_err("the store refuses mallory's account");
    println!("a refused read: {error}");
    assert_eq!(store.lamports(&bob), 1_000_000);
}
