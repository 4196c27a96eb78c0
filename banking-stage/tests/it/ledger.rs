//! The ledger: a run stopped after a slot resumes from the last committed slot with the
//! banks' state rebuilt (blockhashes, the status cache, the bank hash), blocks past the
//! store's slot are dropped, and a store and blocks that do not belong together are
//! refused.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use banking_stage::workload::{ConflictPattern, TransactionMix, Workload, WorkloadConfig};
use banking_stage::{
    Bank, BankConfig, BankError, BlockLimits, DropReason, Ledger, LedgerError, PipelineConfig,
    PipelineOutput, replay_sequentially, run_pipeline,
};
use sdk_lite::Transaction;
use svm_lite::ProgramRegistry;

fn directory(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ledger-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn workload() -> Workload {
    Workload::generate(&WorkloadConfig {
        seed: 5,
        transactions: 600,
        pattern: ConflictPattern::Zipf {
            accounts: 50,
            exponent: 1.1,
        },
        mix: TransactionMix::default(),
        bench_units: 1_000,
        max_price: 1_000,
    })
}

/// Runs the pipeline from `parent` over `transactions` for at most `slots` slots of small
/// blocks, writing to `ledger`.
fn produce(
    parent: Arc<Bank>,
    ledger: &Arc<Ledger>,
    transactions: &[Transaction],
    slots: Option<u64>,
) -> PipelineOutput {
    let (sender, receiver) = crossbeam_channel::unbounded();
    for transaction in transactions {
        sender.send(transaction.clone()).unwrap();
    }
    drop(sender);
    let config = PipelineConfig {
        num_workers: 3,
        slot_duration: Duration::from_secs(60),
        max_slots: slots,
        block_limits: BlockLimits {
            block_units: 400_000,
            ..BlockLimits::default()
        },
        ledger: Some(Arc::clone(ledger)),
        ..PipelineConfig::default()
    };
    run_pipeline(
        parent,
        Arc::new(ProgramRegistry::with_builtins()),
        &config,
        receiver,
        |_| {},
    )
    .unwrap()
}

#[test]
fn a_stopped_run_resumes_from_its_last_committed_slot() {
    let dir = directory("resume");
    let workload = workload();
    let (ledger, genesis) =
        Ledger::open(&dir, workload.genesis.clone(), BankConfig::default()).unwrap();
    assert_eq!(genesis.slot(), 0);
    let ledger = Arc::new(ledger);
    let first = produce(genesis, &ledger, &workload.transactions, Some(2));
    assert_eq!(first.blocks.len(), 2);
    assert!(first.still_buffered > 0, "work is left for the next run");
    let committed_first = first.committed();
    drop((first.last_bank, ledger));

    // Restart: the bank of slot 2, rebuilt.
    let (ledger, resumed) =
        Ledger::open(&dir, workload.genesis.clone(), BankConfig::default()).unwrap();
    assert_eq!(resumed.slot(), 2);
    assert_eq!(resumed.hash(), Some(first.blocks[1].bank_hash));
    let ledger = Arc::new(ledger);
    // Everything again: what the first run committed is already processed.
    let second = produce(resumed, &ledger, &workload.transactions, None);
    assert_eq!(second.blocks[0].slot, 3);
    assert_eq!(second.blocks[0].parent_hash, first.blocks[1].bank_hash);
    assert!(
        second.dropped().get(DropReason::AlreadyProcessed) >= committed_first,
        "{} already processed, {committed_first} committed before",
        second.dropped().get(DropReason::AlreadyProcessed)
    );
    assert_eq!(second.still_buffered, 0);

    // The ledger's chain replays from genesis to the last bank.
    let chain = ledger.chain().unwrap();
    assert_eq!(chain.blocks.len(), 2 + second.blocks.len());
    let fresh = Arc::new(Bank::new_genesis(chain.genesis.clone(), chain.config).unwrap());
    fresh.freeze();
    let programs = ProgramRegistry::with_builtins();
    let replayed = replay_sequentially(fresh, &programs, &chain.blocks).unwrap();
    assert_eq!(replayed.hash(), second.last_bank.hash());
    assert_eq!(
        Ledger::read_chain(&dir).unwrap().blocks,
        chain.blocks,
        "read without opening the store"
    );
    drop((second.last_bank, ledger));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_block_the_store_never_committed_is_dropped_and_bad_ledgers_are_refused() {
    let dir = directory("refused");
    let workload = workload();
    let (ledger, genesis) =
        Ledger::open(&dir, workload.genesis.clone(), BankConfig::default()).unwrap();
    let ledger = Arc::new(ledger);
    let output = produce(genesis, &ledger, &workload.transactions, Some(2));
    drop((output.last_bank, ledger));
    let blocks = dir.join("blocks");
    let slot = |n: u64| blocks.join(format!("slot-{n:010}.block"));

    // A crash after slot 3's block was written, before its accounts were committed.
    std::fs::copy(slot(2), slot(3)).unwrap();
    std::fs::write(blocks.join("slot-0000000004.partial"), b"half").unwrap();
    let (ledger, bank) =
        Ledger::open(&dir, workload.genesis.clone(), BankConfig::default()).unwrap();
    assert_eq!(bank.slot(), 2);
    assert!(!slot(3).exists());
    assert!(!blocks.join("slot-0000000004.partial").exists());
    drop((ledger, bank));

    // The account store lost (or blocks from a later run beside an older store): refused,
    // and nothing is changed.
    let accounts = dir.join("accounts");
    let moved = dir.join("accounts-moved");
    std::fs::rename(&accounts, &moved).unwrap();
    assert!(matches!(
        Ledger::open(&dir, workload.genesis.clone(), BankConfig::default()),
        Err(LedgerError::StoreBehindBlocks {
            store_slot: 0,
            last_block: 2,
            ..
        })
    ));
    assert!(!accounts.exists() && slot(2).exists());
    std::fs::rename(&moved, &accounts).unwrap();
    std::fs::copy(slot(2), slot(3)).unwrap();
    std::fs::copy(slot(2), slot(4)).unwrap();
    assert!(matches!(
        Ledger::open(&dir, workload.genesis.clone(), BankConfig::default()),
        Err(LedgerError::StoreBehindBlocks {
            store_slot: 2,
            last_block: 4,
            ..
        })
    ));
    std::fs::remove_file(slot(3)).unwrap();
    std::fs::remove_file(slot(4)).unwrap();

    // Another chain's genesis.
    let mut other = workload.genesis.clone();
    other.pop();
    assert!(matches!(
        Ledger::open(&dir, other, BankConfig::default()),
        Err(LedgerError::OtherChain(_))
    ));

    // The last committed slot's block lost.
    let saved = std::fs::read(slot(2)).unwrap();
    std::fs::remove_file(slot(2)).unwrap();
    assert!(matches!(
        Ledger::open(&dir, workload.genesis.clone(), BankConfig::default()),
        Err(LedgerError::Bank(BankError::Resume { slot: 2, .. }))
    ));

    // Slot 1's block in slot 2's place: the store's state does not give its hash.
    std::fs::copy(slot(1), slot(2)).unwrap();
    assert!(matches!(
        Ledger::open(&dir, workload.genesis.clone(), BankConfig::default()),
        Err(LedgerError::Inconsistent { .. })
    ));
    std::fs::write(slot(2), saved).unwrap();
    assert!(Ledger::open(&dir, workload.genesis.clone(), BankConfig::default()).is_ok());
    std::fs::remove_dir_all(&dir).unwrap();
}
