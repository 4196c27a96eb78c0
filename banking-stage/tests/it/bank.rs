//! The bank: checks, commits, freezing, children.

use banking_stage::{Bank, BankConfig, BankError};
use sdk_lite::{
    AccountSharedData, Hash, Message, Pubkey, ReadableAccount, SanitizedTransaction, Transaction,
    TransactionError, system_program,
};
use svm_lite::system_program::instruction as system;
use svm_lite::{ProcessingConfig, ProgramRegistry};

const RICH: u64 = 1_000_000_000;

struct Chain {
    genesis: Bank,
    keys: Vec<Pubkey>,
    programs: ProgramRegistry,
}

fn chain(accounts: usize) -> Chain {
    let keys: Vec<Pubkey> = (0..accounts).map(|_| Pubkey::new_unique()).collect();
    let genesis = Bank::new_genesis(
        keys.iter()
            .map(|key| (*key, AccountSharedData::new(RICH, 0, &system_program::ID))),
        BankConfig::default(),
    )
    .unwrap();
    Chain {
        genesis,
        keys,
        programs: ProgramRegistry::with_builtins(),
    }
}

fn transfer(bank: &Bank, from: &Pubkey, to: &Pubkey, lamports: u64) -> SanitizedTransaction {
    transfer_with_blockhash(bank.last_blockhash(), from, to, lamports)
}

fn transfer_with_blockhash(
    blockhash: Hash,
    from: &Pubkey,
    to: &Pubkey,
    lamports: u64,
) -> SanitizedTransaction {
    let message = Message::new(
        &[system::transfer(from, to, lamports)],
        Some(from),
        blockhash,
    );
    SanitizedTransaction::try_new(Transaction::new_with_placeholder_signatures(message)).unwrap()
}

/// Runs and commits one batch; returns each transaction's outcome (`Ok(true)` succeeded,
/// `Ok(false)` committed but failed, `Err` not processed).
fn run(
    bank: &Bank,
    programs: &ProgramRegistry,
    batch: &[SanitizedTransaction],
) -> Vec<Result<bool, TransactionError>> {
    let output = bank.load_and_execute(programs, batch, &ProcessingConfig::default());
    bank.commit(batch, &output).unwrap();
    output
        .results
        .iter()
        .map(|r| r.as_ref().map(|p| p.was_successful()).map_err(Clone::clone))
        .collect()
}

fn total_lamports(bank: &Bank) -> u64 {
    bank.accounts()
        .accounts_sorted()
        .iter()
        .map(|(_, account)| account.lamports())
        .sum()
}

#[test]
fn a_committed_transfer_moves_lamports_and_collects_the_fee() {
    let c = chain(2);
    let before = total_lamports(&c.genesis);
    let tx = transfer(&c.genesis, &c.keys[0], &c.keys[1], 1_000_000);
    assert_eq!(run(&c.genesis, &c.programs, &[tx]), vec![Ok(true)]);
    assert_eq!(c.genesis.collected_fees(), 5_000);
    assert_eq!(c.genesis.transaction_count(), 1);
    assert_eq!(c.genesis.signature_count(), 1);
    assert_eq!(
        total_lamports(&c.genesis) + c.genesis.collected_fees(),
        before
    );
    assert_eq!(
        c.genesis.accounts().load(&c.keys[1]).unwrap().lamports(),
        RICH + 1_000_000
    );
}

#[test]
fn a_transaction_runs_once() {
    let c = chain(2);
    let tx = transfer(&c.genesis, &c.keys[0], &c.keys[1], 1_000_000);
    assert_eq!(
        run(&c.genesis, &c.programs, &[tx.clone(), tx.clone()]),
        vec![Ok(true), Err(TransactionError::AlreadyProcessed)],
        "listed twice in one batch"
    );
    assert_eq!(
        run(&c.genesis, &c.programs, std::slice::from_ref(&tx)),
        vec![Err(TransactionError::AlreadyProcessed)],
        "already committed in this slot"
    );
    c.genesis.freeze();
    let child = Bank::new_from_parent(&c.genesis, 1).unwrap();
    assert_eq!(
        run(&child, &c.programs, &[tx]),
        vec![Err(TransactionError::AlreadyProcessed)],
        "already committed by the parent"
    );
}

#[test]
fn only_recent_blockhashes_pass() {
    let c = chain(2);
    let unknown = transfer_with_blockhash(Hash::new_unique(), &c.keys[0], &c.keys[1], 1);
    assert_eq!(
        run(&c.genesis, &c.programs, &[unknown]),
        vec![Err(TransactionError::BlockhashNotFound)]
    );
    // Name the genesis bank's blockhash; it stays valid for 150 slots.
    let genesis_blockhash = c.genesis.blockhash();
    c.genesis.freeze();
    let mut bank = Bank::new_from_parent(&c.genesis, 1).unwrap();
    let early = transfer_with_blockhash(genesis_blockhash, &c.keys[0], &c.keys[1], 1_000_000);
    assert_eq!(run(&bank, &c.programs, &[early]), vec![Ok(true)]);
    for slot in 2..=151 {
        bank.freeze();
        bank = Bank::new_from_parent(&bank, slot).unwrap();
    }
    let late = transfer_with_blockhash(genesis_blockhash, &c.keys[0], &c.keys[1], 2_000_000);
    assert_eq!(
        run(&bank, &c.programs, &[late]),
        vec![Err(TransactionError::BlockhashNotFound)],
        "aged out after 150 slots"
    );
}

/// Slots may be skipped, so age counts banks: a child 1,000 slots after its parent still
/// accepts the parent's blockhash, so it must still remember the parent's signatures
/// (with the slot as the clock, it forgot them and ran the transfer twice).
#[test]
fn a_transaction_runs_once_across_skipped_slots() {
    let c = chain(2);
    let tx = transfer(&c.genesis, &c.keys[0], &c.keys[1], 1_000_000);
    assert_eq!(
        run(&c.genesis, &c.programs, std::slice::from_ref(&tx)),
        vec![Ok(true)]
    );
    c.genesis.freeze();
    let mut bank = Bank::new_from_parent(&c.genesis, 1_000).unwrap();
    assert_eq!(
        run(&bank, &c.programs, std::slice::from_ref(&tx)),
        vec![Err(TransactionError::AlreadyProcessed)],
        "the blockhash is still accepted, so the signature is still known"
    );
    // 150 registrations after the blockhash's, however many slots, it is refused instead.
    for slot in 1_001..1_149 {
        bank.freeze();
        bank = Bank::new_from_parent(&bank, slot).unwrap();
        assert_eq!(
            run(&bank, &c.programs, std::slice::from_ref(&tx)),
            vec![Err(TransactionError::AlreadyProcessed)],
            "slot {slot}"
        );
    }
    bank.freeze();
    bank = Bank::new_from_parent(&bank, 5_000).unwrap();
    assert_eq!(
        run(&bank, &c.programs, &[tx]),
        vec![Err(TransactionError::BlockhashNotFound)]
    );
    assert_eq!(
        bank.accounts().load(&c.keys[1]).unwrap().lamports(),
        RICH + 1_000_000,
        "moved once"
    );
}

/// `discard` undoes a bank: its transfer, its fee and its signature are gone, so a new
/// bank for the same slot runs the same transaction again; the discarded bank can be
/// neither a parent, nor persisted, nor discarded twice; a bank whose parent has a later
/// child may not discard (the store's open slot is the later one's); a persisted bank is
/// final.
#[test]
fn a_discarded_bank_leaves_the_parent_as_it_was() {
    let c = chain(2);
    c.genesis.freeze();
    let state = c.genesis.accounts().state_hash();
    let bank = Bank::new_from_parent(&c.genesis, 1).unwrap();
    let tx = transfer(&bank, &c.keys[0], &c.keys[1], 1_000_000);
    assert_eq!(
        run(&bank, &c.programs, std::slice::from_ref(&tx)),
        vec![Ok(true)]
    );
    bank.discard().unwrap();
    assert!(bank.is_discarded());
    assert_eq!(c.genesis.accounts().state_hash(), state);
    assert_eq!(
        c.genesis.accounts().load(&c.keys[1]).unwrap().lamports(),
        RICH
    );
    let batch = std::slice::from_ref(&tx);
    let output = bank.load_and_execute(&c.programs, batch, &Default::default());
    assert!(matches!(
        bank.commit(batch, &output),
        Err(BankError::Frozen { .. })
    ));
    bank.freeze();
    assert!(matches!(
        Bank::new_from_parent(&bank, 2),
        Err(BankError::Discarded { slot: 1 })
    ));
    assert!(matches!(
        bank.persist(),
        Err(BankError::Discarded { slot: 1 })
    ));
    assert!(matches!(
        bank.discard(),
        Err(BankError::Discarded { slot: 1 })
    ));

    // A bank left undiscarded, then retried: only the retry may discard, since the store's
    // open slot now holds its commits.
    let stale = Bank::new_from_parent(&c.genesis, 1).unwrap();
    let lost = transfer(&stale, &c.keys[0], &c.keys[1], 5);
    assert_eq!(
        run(&stale, &c.programs, std::slice::from_ref(&lost)),
        vec![Ok(true)]
    );
    let retry = Bank::new_from_parent(&c.genesis, 1).unwrap();
    let other = transfer(&retry, &c.keys[1], &c.keys[0], 7);
    assert_eq!(
        run(&retry, &c.programs, std::slice::from_ref(&other)),
        vec![Ok(true)]
    );
    assert!(matches!(
        stale.discard(),
        Err(BankError::Superseded { slot: 1 })
    ));
    retry.discard().unwrap();
    assert_eq!(
        c.genesis.accounts().state_hash(),
        state,
        "the open slot held both banks' commits: both are undone"
    );
    let again = Bank::new_from_parent(&c.genesis, 1).unwrap();
    assert_eq!(
        run(&again, &c.programs, std::slice::from_ref(&tx)),
        vec![Ok(true)],
        "not already processed"
    );
    again.freeze();
    again.persist().unwrap();
    assert!(
        matches!(again.discard(), Err(BankError::Store(_))),
        "a persisted bank is final"
    );
    assert_eq!(
        again.accounts().load(&c.keys[1]).unwrap().lamports(),
        RICH + 1_000_000
    );
}

#[test]
fn children_need_a_frozen_parent_and_a_later_slot() {
    let c = chain(1);
    assert!(matches!(
        Bank::new_from_parent(&c.genesis, 1),
        Err(BankError::ParentNotFrozen { slot: 0 })
    ));
    let hash = c.genesis.freeze();
    assert_eq!(c.genesis.freeze(), hash, "freezing is idempotent");
    assert!(matches!(
        Bank::new_from_parent(&c.genesis, 0),
        Err(BankError::SlotNotAfterParent { parent: 0, slot: 0 })
    ));
    let child = Bank::new_from_parent(&c.genesis, 3).unwrap();
    assert_eq!(child.parent_hash(), hash);
    assert_eq!(child.last_blockhash(), c.genesis.blockhash());
}

#[test]
fn a_frozen_bank_refuses_commits() {
    let c = chain(2);
    let tx = transfer(&c.genesis, &c.keys[0], &c.keys[1], 1_000_000);
    let output = c.genesis.load_and_execute(
        &c.programs,
        std::slice::from_ref(&tx),
        &ProcessingConfig::default(),
    );
    c.genesis.freeze();
    assert!(matches!(
        c.genesis.commit(&[tx], &output),
        Err(BankError::Frozen { slot: 0 })
    ));
    assert_eq!(c.genesis.transaction_count(), 0);
}

#[test]
fn the_bank_hash_is_deterministic_and_depends_on_what_was_committed() {
    // Two chains with the same genesis keys and the same transactions reach the same hash.
    let keys: Vec<Pubkey> = (0..3).map(|_| Pubkey::new_unique()).collect();
    let genesis = || {
        Bank::new_genesis(
            keys.iter()
                .map(|key| (*key, AccountSharedData::new(RICH, 0, &system_program::ID))),
            BankConfig::default(),
        )
        .unwrap()
    };
    let programs = ProgramRegistry::with_builtins();
    let (a, b, c) = (genesis(), genesis(), genesis());
    let batch = [
        transfer(&a, &keys[0], &keys[1], 1_000_000),
        transfer(&a, &keys[1], &keys[2], 2_000_000),
    ];
    run(&a, &programs, &batch);
    // Same transactions, one batch each: the same state and hash.
    run(&b, &programs, &batch[..1]);
    run(&b, &programs, &batch[1..]);
    // A different transaction: a different hash.
    run(
        &c,
        &programs,
        &[transfer(&c, &keys[0], &keys[2], 1_000_000)],
    );
    assert_eq!(a.freeze(), b.freeze());
    assert_ne!(a.freeze(), c.freeze());
}
