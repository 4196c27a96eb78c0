//! Parallel block replay with the unified scheduler: the same bank hashes as the leader
//! and as a sequential replay, for every worker count, pattern and scheduler; tampered
//! and invalid blocks are rejected.

use std::sync::Arc;
use std::time::Duration;

use banking_stage::workload::{ConflictPattern, TransactionMix, Workload, WorkloadConfig};
use banking_stage::{
    Bank, BankConfig, BankError, Block, BlockLimits, BlockReplayer, Chain, PipelineConfig,
    ReplayError, SchedulerKind, SpinWait, replay_sequentially, run_pipeline,
};
use sdk_lite::Hash;
use svm_lite::ProgramRegistry;

fn genesis(workload: &Workload) -> Arc<Bank> {
    let bank =
        Arc::new(Bank::new_genesis(workload.genesis.clone(), BankConfig::default()).unwrap());
    bank.freeze();
    bank
}

fn workload(pattern: ConflictPattern, seed: u64) -> Workload {
    Workload::generate(&WorkloadConfig {
        seed,
        transactions: 500,
        pattern,
        mix: TransactionMix::default(),
        bench_units: 1_000,
        max_price: 1_000,
    })
}

/// The leader's blocks for `workload` (several slots: small blocks).
fn produce(
    workload: &Workload,
    scheduler: SchedulerKind,
    programs: &Arc<ProgramRegistry>,
) -> Vec<Block> {
    let (sender, receiver) = crossbeam_channel::unbounded();
    for transaction in &workload.transactions {
        sender.send(transaction.clone()).unwrap();
    }
    drop(sender);
    let config = PipelineConfig {
        num_workers: 4,
        scheduler,
        slot_duration: Duration::from_secs(60),
        block_limits: BlockLimits {
            block_units: 300_000,
            ..BlockLimits::default()
        },
        ..PipelineConfig::default()
    };
    run_pipeline(
        genesis(workload),
        Arc::clone(programs),
        &config,
        receiver,
        |_| {},
    )
    .unwrap()
    .blocks
}

#[test]
fn parallel_replay_reaches_the_leaders_hashes() {
    let programs = Arc::new(ProgramRegistry::with_builtins());
    for scheduler in [SchedulerKind::Greedy, SchedulerKind::PrioGraph] {
        for pattern in ConflictPattern::all() {
            let workload = workload(pattern, 3);
            let produced = produce(&workload, scheduler, &programs);
            // Through a block file, as another node would receive them.
            let file = Chain {
                genesis: workload.genesis.clone(),
                config: BankConfig::default(),
                blocks: produced,
            }
            .to_bytes()
            .unwrap();
            let chain = Chain::from_bytes(&file).unwrap();
            assert_eq!(chain.genesis, workload.genesis);
            let blocks = chain.blocks;
            assert!(blocks.len() > 1);
            let leader = blocks.last().unwrap().bank_hash;
            let sequential = replay_sequentially(genesis(&workload), &programs, &blocks).unwrap();
            assert_eq!(sequential.hash(), Some(leader));
            for workers in [1, 2, 4, 8] {
                let mut replayer = BlockReplayer::new(workers, Arc::clone(&programs));
                let called = std::time::Instant::now();
                let (bank, metrics) = replayer
                    .replay_chain(genesis(&workload), &blocks)
                    .unwrap_or_else(|error| panic!("{scheduler:?} {pattern} {workers}: {error}"));
                let call = called.elapsed();
                assert_eq!(
                    bank.hash(),
                    Some(leader),
                    "{scheduler:?} {pattern} {workers}"
                );
                assert_eq!(metrics.len(), blocks.len());
                for (block, metrics) in blocks.iter().zip(&metrics) {
                    assert_eq!(metrics.transactions, block.transaction_count());
                    assert_eq!(metrics.timings.len(), block.transaction_count());
                    assert!(metrics.timings.iter().all(|timing| timing.worker < workers));
                    let indexes: Vec<usize> =
                        metrics.timings.iter().map(|timing| timing.index).collect();
                    assert_eq!(indexes, (0..block.transaction_count()).collect::<Vec<_>>());
                    // The critical path is at least the longest transaction; a block with
                    // conflicts on one account has a path longer than that.
                    let longest = metrics.timings.iter().map(|t| t.duration).max().unwrap();
                    assert!(metrics.critical_path(block) >= longest);
                    let transactions: Vec<_> = block
                        .entries
                        .iter()
                        .flat_map(|entry| entry.transactions.iter().cloned())
                        .collect();
                    let parallelism = banking_stage::available_parallelism(&transactions);
                    if pattern == ConflictPattern::Chain {
                        // Two chains here: transfers on one account, bench work on another.
                        assert!(parallelism < 3.0, "{parallelism}");
                    } else if pattern == ConflictPattern::None {
                        assert!(parallelism > 10.0, "{parallelism}");
                    }
                    // In order with one worker, and whenever the block has too little
                    // parallelism (which the scheduler thread checks on its contested
                    // accounts only); a small block may also end in order before the
                    // check does.
                    if workers == 1 || parallelism < banking_stage::MIN_PARALLELISM {
                        assert!(metrics.in_order, "{parallelism}");
                    }
                    if workers == 1 || metrics.transactions == 0 {
                        assert_eq!(metrics.scheduler_busy, Duration::ZERO);
                    } else {
                        assert!(metrics.scheduler_busy > Duration::ZERO);
                        // Its check may start before the block's wall time (beside the
                        // checks before execution), never before the call.
                        assert!(metrics.scheduler_busy <= call);
                    }
                    assert_eq!(metrics.in_order, metrics.takeover.is_none());
                    if let Some(takeover) = metrics.takeover {
                        // The calling thread ran the block up to the takeover, and had
                        // finished before the scheduler handed out the rest.
                        assert!(takeover.index < metrics.transactions);
                        assert!(takeover.at <= metrics.wall);
                        for timing in &metrics.timings {
                            if timing.index < takeover.index {
                                assert_eq!(timing.worker, 0);
                                assert!(timing.start + timing.duration <= takeover.at);
                            } else {
                                assert!(timing.start >= takeover.at, "{timing:?} {takeover:?}");
                            }
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn a_replayer_reused_across_chains_stays_correct() {
    let programs = Arc::new(ProgramRegistry::with_builtins());
    for wait in [
        SpinWait::spinning(Duration::from_micros(20)),
        SpinWait::never(),
    ] {
        let mut replayer = BlockReplayer::new(3, Arc::clone(&programs)).with_wait(wait);
        for seed in 0..3 {
            let workload = workload(
                ConflictPattern::Zipf {
                    accounts: 50,
                    exponent: 1.1,
                },
                seed,
            );
            let blocks = produce(&workload, SchedulerKind::Greedy, &programs);
            let (bank, _) = replayer.replay_chain(genesis(&workload), &blocks).unwrap();
            assert_eq!(bank.hash(), Some(blocks.last().unwrap().bank_hash));
            assert_eq!(replayer.usage_queues_in_use(), 0);
        }
    }
}

#[test]
fn a_changed_declared_hash_is_a_mismatch_naming_the_slot_and_both_hashes() {
    let programs = Arc::new(ProgramRegistry::with_builtins());
    let workload = workload(ConflictPattern::Uniform { accounts: 16 }, 4);
    let mut blocks = produce(&workload, SchedulerKind::Greedy, &programs);
    let real = blocks[0].bank_hash;
    blocks[0].bank_hash = Hash::new_unique();
    let declared = blocks[0].bank_hash;
    let slot = blocks[0].slot;
    let mut replayer = BlockReplayer::new(2, Arc::clone(&programs));
    match replayer.replay_chain(genesis(&workload), &blocks) {
        Err(ReplayError::HashMismatch {
            slot: at,
            declared: d,
            actual,
        }) => {
            assert_eq!((at, d, actual), (slot, declared, real));
            let message = ReplayError::HashMismatch {
                slot: at,
                declared: d,
                actual,
            }
            .to_string();
            assert!(message.contains(&declared.to_string()) && message.contains(&real.to_string()));
        }
        other => panic!("expected a hash mismatch, got {other:?}"),
    }
}

#[test]
fn a_changed_transaction_is_detected() {
    let programs = Arc::new(ProgramRegistry::with_builtins());
    let workload = workload(ConflictPattern::Uniform { accounts: 16 }, 5);
    let mut blocks = produce(&workload, SchedulerKind::Greedy, &programs);
    // Swap the first transaction of the first block for one the block did not hold
    // (the last block's last transaction): the state differs.
    let replacement = {
        let last = blocks.last().unwrap();
        let entry = last.entries.last().unwrap();
        Arc::clone(entry.transactions.last().unwrap())
    };
    blocks[0].entries[0].transactions[0] = replacement;
    let mut replayer = BlockReplayer::new(4, Arc::clone(&programs));
    let error = replayer
        .replay_chain(genesis(&workload), &blocks[..1])
        .unwrap_err();
    assert!(matches!(error, ReplayError::HashMismatch { .. }), "{error}");
}

#[test]
fn a_block_with_a_signature_twice_is_rejected_before_anything_runs() {
    let programs = Arc::new(ProgramRegistry::with_builtins());
    let workload = workload(ConflictPattern::None, 6);
    let mut blocks = produce(&workload, SchedulerKind::Greedy, &programs);
    let intact = blocks.clone();
    let copy = Arc::clone(&blocks[0].entries[0].transactions[0]);
    blocks[0]
        .entries
        .last_mut()
        .unwrap()
        .transactions
        .push(copy);
    let parent = genesis(&workload);
    let state_before = parent.accounts().state_hash();
    let mut replayer = BlockReplayer::new(2, Arc::clone(&programs));
    let error = replayer.replay(&parent, &blocks[0]).unwrap_err();
    assert!(
        matches!(error, ReplayError::DuplicateSignature { slot: 1, .. }),
        "{error}"
    );
    assert_eq!(
        parent.accounts().state_hash(),
        state_before,
        "the parent is untouched"
    );
    // The same for the sequential replayer.
    let error = replay_sequentially(Arc::clone(&parent), &programs, &blocks[..1]).unwrap_err();
    assert!(matches!(error, ReplayError::DuplicateSignature { .. }));
    assert_eq!(parent.accounts().state_hash(), state_before);
    // The scheduler thread, which had started checking the rejected block, dropped it: the
    // same replayer replays the intact chain to the leader's hashes.
    let (bank, _) = replayer
        .replay_chain(genesis(&workload), &intact)
        .expect("the intact chain replays after a rejected block");
    assert_eq!(bank.hash(), Some(intact.last().unwrap().bank_hash));
}

#[test]
fn a_block_replayed_twice_is_already_processed_and_changes_nothing() {
    let programs = Arc::new(ProgramRegistry::with_builtins());
    let workload = workload(ConflictPattern::None, 7);
    let blocks = produce(&workload, SchedulerKind::Greedy, &programs);
    let mut replayer = BlockReplayer::new(2, Arc::clone(&programs));
    let (bank, _) = replayer.replay(&genesis(&workload), &blocks[0]).unwrap();
    let state = bank.accounts().state_hash();
    // The same transactions again in the next slot: every one is already processed.
    let mut again = blocks[0].clone();
    again.slot = bank.slot() + 1;
    again.parent_hash = bank.hash().unwrap();
    let error = replayer.replay(&bank, &again).unwrap_err();
    assert!(
        matches!(&error, ReplayError::UncommittableTransaction { error, .. }
            if **error == sdk_lite::TransactionError::AlreadyProcessed),
        "{error}"
    );
    assert_eq!(
        bank.accounts().state_hash(),
        state,
        "rejected before anything ran"
    );
}

#[test]
fn a_block_on_the_wrong_parent_is_rejected() {
    let programs = Arc::new(ProgramRegistry::with_builtins());
    let workload = workload(ConflictPattern::None, 8);
    let blocks = produce(&workload, SchedulerKind::Greedy, &programs);
    let mut replayer = BlockReplayer::new(2, programs);
    // Block 2 straight on genesis.
    let error = replayer
        .replay(&genesis(&workload), &blocks[1])
        .unwrap_err();
    assert!(
        matches!(error, ReplayError::ParentMismatch { .. }),
        "{error}"
    );
    // The replayer goes on with the right parent.
    let (bank, _) = replayer
        .replay_chain(genesis(&workload), &blocks)
        .expect("the chain replays after a rejected block");
    assert_eq!(bank.hash(), Some(blocks.last().unwrap().bank_hash));
}

mod property {
    //! Random blocks: random accounts, reads and writes, failing and nonce transactions;
    //! a sequential leader makes the block, the parallel replay must reach its hash.

    use super::*;
    use proptest::prelude::*;

    /// The block a sequential leader makes of `workload`'s transactions in one slot: the
    /// ones it can commit, in order.
    fn pattern() -> impl Strategy<Value = ConflictPattern> {
        prop_oneof![
            Just(ConflictPattern::None),
            (1usize..20).prop_map(|accounts| ConflictPattern::Uniform { accounts }),
            (2usize..50).prop_map(|accounts| ConflictPattern::Zipf {
                accounts,
                exponent: 1.1
            }),
            (0u8..=100, 1usize..4).prop_map(|(percent, hot_accounts)| ConflictPattern::HotSpot {
                percent,
                hot_accounts
            }),
            Just(ConflictPattern::Chain),
            (1usize..8).prop_map(|shared| ConflictPattern::ReadMostly { shared }),
            (1usize..8).prop_map(|shared| ConflictPattern::ReadWrite { shared }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        #[test]
        fn parallel_replay_equals_sequential(
            seed in any::<u64>(),
            pattern in pattern(),
            weights in (0u32..5, 0u32..5, 0u32..3, 0u32..3, 0u32..2),
            transactions in 1usize..120,
            workers in 1usize..6,
            spin in any::<bool>(),
        ) {
            let (transfer, bench, nonce, failing, bad) = weights;
            let mix = TransactionMix { transfer: transfer + 1, bench, nonce, failing, bad };
            let workload = Workload::generate(&WorkloadConfig {
                seed,
                transactions,
                pattern,
                mix,
                bench_units: 300,
                max_price: 100,
            });
            let programs = Arc::new(ProgramRegistry::with_builtins());
            let block = workload.sequential_block(&programs);
            // Spinning forced on or off: the urgent lane is used only by spinning threads,
            // which this machine may have too few cores to choose by itself.
            let wait = if spin {
                SpinWait::spinning(Duration::from_micros(20))
            } else {
                SpinWait::never()
            };
            let mut replayer =
                BlockReplayer::new(workers, Arc::clone(&programs)).with_wait(wait);
            let (bank, metrics) = replayer.replay(&genesis(&workload), &block).unwrap();
            prop_assert_eq!(bank.hash(), Some(block.bank_hash));
            prop_assert_eq!(metrics.transactions, block.transaction_count());
            prop_assert_eq!(replayer.usage_queues_in_use(), 0);
        }
    }
}

/// A block holding `bad` in place of its `at`-th transaction (so it cannot be replayed),
/// as every replayer must report it: the first failure in block order.
fn block_with_uncommittable(
    blocks: &[Block],
    at: usize,
    bad: Arc<sdk_lite::SanitizedTransaction>,
) -> Block {
    let mut block = blocks[0].clone();
    let mut index = 0;
    for entry in &mut block.entries {
        for transaction in &mut entry.transactions {
            if index == at {
                *transaction = Arc::clone(&bad);
            }
            index += 1;
        }
    }
    block
}

/// A transaction whose fee payer does not exist: it can never be committed.
fn unpayable(recipient: &sdk_lite::Pubkey) -> Arc<sdk_lite::SanitizedTransaction> {
    let payer = sdk_lite::Pubkey::new_unique();
    let message = sdk_lite::Message::new(
        &[svm_lite::system_program::instruction::transfer(
            &payer, recipient, 1,
        )],
        Some(&payer),
        Bank::first_blockhash(),
    );
    Arc::new(
        sdk_lite::SanitizedTransaction::try_new(
            sdk_lite::Transaction::new_with_placeholder_signatures(message),
        )
        .unwrap(),
    )
}

#[test]
fn the_first_failure_in_block_order_is_reported_as_in_a_sequential_replay() {
    let programs = Arc::new(ProgramRegistry::with_builtins());
    let workload = workload(ConflictPattern::Uniform { accounts: 8 }, 12);
    let blocks = produce(&workload, SchedulerKind::Greedy, &programs);
    let count = blocks[0].transaction_count();
    // Two uncommittable transactions: one early, one at the very end.
    let early = unpayable(&sdk_lite::Pubkey::new_unique());
    let mut block = block_with_uncommittable(&blocks, 5, Arc::clone(&early));
    let late = unpayable(&sdk_lite::Pubkey::new_unique());
    block = block_with_uncommittable(std::slice::from_ref(&block), count - 1, late);
    let expected =
        match replay_sequentially(genesis(&workload), &programs, std::slice::from_ref(&block)) {
            Err(ReplayError::UncommittableTransaction { signature, .. }) => signature,
            other => panic!("sequential: {other:?}"),
        };
    assert_eq!(expected, *early.signature());
    for workers in [2, 4, 8] {
        for round in 0..6 {
            let wait = if round % 2 == 0 {
                SpinWait::never()
            } else {
                SpinWait::spinning(Duration::from_micros(20))
            };
            let mut replayer = BlockReplayer::new(workers, Arc::clone(&programs)).with_wait(wait);
            match replayer.replay(&genesis(&workload), &block) {
                Err(ReplayError::UncommittableTransaction { signature, .. }) => {
                    assert_eq!(signature, expected, "{workers} workers");
                }
                other => panic!("{workers} workers: {other:?}"),
            }
            assert_eq!(replayer.usage_queues_in_use(), 0);
        }
    }
}

#[test]
fn a_panicking_program_fails_the_block_instead_of_hanging_the_replay() {
    let workload = workload(ConflictPattern::None, 13);
    let blocks = produce(
        &workload,
        SchedulerKind::Greedy,
        &Arc::new(ProgramRegistry::with_builtins()),
    );
    // The replaying node's build of the bench program panics.
    let mut registry = ProgramRegistry::with_builtins();
    registry.register(
        svm_lite::bench_program::BENCH_PROGRAM_ID,
        Arc::new(crate::common::PanickingProgram),
    );
    let programs = Arc::new(registry);
    for (workers, wait) in [
        (1, SpinWait::never()),
        (2, SpinWait::never()),
        (4, SpinWait::never()),
        (2, SpinWait::spinning(Duration::from_micros(20))),
    ] {
        let mut replayer = BlockReplayer::new(workers, Arc::clone(&programs)).with_wait(wait);
        let parent = genesis(&workload);
        let state = parent.accounts().state_hash();
        let error = replayer.replay(&parent, &blocks[0]).unwrap_err();
        assert_eq!(parent.accounts().state_hash(), state, "undone: {error}");
        let ReplayError::ExecutionPanicked { slot: 1, signature } = error else {
            panic!("{workers} workers: {error}");
        };
        // The first bench transaction in block order, whichever path ran the block (in
        // order with one worker, in parallel otherwise).
        let first_bench = blocks[0]
            .entries
            .iter()
            .flat_map(|entry| &entry.transactions)
            .find(|transaction| {
                let message = transaction.message();
                (0..message.instructions.len()).any(|instruction| {
                    message.program_id(instruction)
                        == Some(&svm_lite::bench_program::BENCH_PROGRAM_ID)
                })
            })
            .unwrap();
        assert_eq!(signature, *first_bench.signature(), "{workers} workers");
        assert_eq!(replayer.usage_queues_in_use(), 0, "nothing is left waiting");
    }
    // The sequential replayer lets the panic through, after undoing the block. A
    // transaction that names no bench program (and no durable nonce, so that it can run
    // first) goes first, alone in its entry, so that it is committed when the first bench
    // transaction panics.
    let uses_bench = |transaction: &sdk_lite::SanitizedTransaction| {
        let message = transaction.message();
        (0..message.instructions.len()).any(|instruction| {
            message.program_id(instruction) == Some(&svm_lite::bench_program::BENCH_PROGRAM_ID)
        })
    };
    let all: Vec<_> = blocks[0]
        .entries
        .iter()
        .flat_map(|entry| entry.transactions.iter().cloned())
        .collect();
    let first = all
        .iter()
        .position(|transaction| {
            !uses_bench(transaction) && *transaction.recent_blockhash() == Bank::first_blockhash()
        })
        .expect("the block holds a plain transaction");
    let mut split = blocks[0].clone();
    split.entries = vec![
        banking_stage::Entry {
            transactions: vec![Arc::clone(&all[first])],
        },
        banking_stage::Entry {
            transactions: all
                .iter()
                .enumerate()
                .filter(|&(index, _)| index != first)
                .map(|(_, transaction)| Arc::clone(transaction))
                .collect(),
        },
    ];
    let parent = genesis(&workload);
    let state = parent.accounts().state_hash();
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        replay_sequentially(Arc::clone(&parent), &programs, std::slice::from_ref(&split))
    }));
    assert!(unwound.is_err(), "the program's panic reaches the caller");
    assert_eq!(
        parent.accounts().state_hash(),
        state,
        "and the block is undone"
    );
    let builtins = ProgramRegistry::with_builtins();
    let bank = replay_sequentially(Arc::clone(&parent), &builtins, &blocks).unwrap();
    assert_eq!(bank.hash(), Some(blocks.last().unwrap().bank_hash));
}

/// A block rejected after it started running is undone, by every replayer: the parent's
/// store and status cache are as before it, so the node is not wedged: the real block
/// replays on the same parent to the leader's hash, then its child too.
#[test]
fn a_block_rejected_while_running_is_undone_and_the_real_one_replays_on_the_same_parent() {
    let programs = Arc::new(ProgramRegistry::with_builtins());
    let workload = workload(ConflictPattern::Uniform { accounts: 8 }, 13);
    let blocks = produce(&workload, SchedulerKind::Greedy, &programs);
    assert!(blocks.len() >= 2, "the test needs a child block");
    let count = blocks[0].transaction_count();
    // Fails at its last transaction (after the rest ran), and, separately, a block that
    // runs whole but declares another hash.
    let failing = block_with_uncommittable(
        &blocks,
        count - 1,
        unpayable(&sdk_lite::Pubkey::new_unique()),
    );
    let mut mismatched = blocks[0].clone();
    mismatched.bank_hash = Hash::new_unique();
    let reference = replay_sequentially(genesis(&workload), &programs, &blocks).unwrap();
    for bad in [&failing, &mismatched] {
        for workers in [1, 2, 4] {
            let parent = genesis(&workload);
            let (accounts, state) = (
                parent.accounts().accounts_sorted(),
                parent.accounts().state_hash(),
            );
            let mut replayer = BlockReplayer::new(workers, Arc::clone(&programs));
            let error = replayer.replay(&parent, bad).unwrap_err();
            assert!(
                matches!(
                    error,
                    ReplayError::UncommittableTransaction { .. } | ReplayError::HashMismatch { .. }
                ),
                "{error}"
            );
            assert_eq!(
                parent.accounts().state_hash(),
                state,
                "{workers} workers: {error}"
            );
            assert_eq!(parent.accounts().accounts_sorted(), accounts);
            assert_eq!(parent.accounts().slot(), parent.slot());
            let (bank, _) = replayer
                .replay_chain(Arc::clone(&parent), &blocks)
                .expect("the real chain replays on the same parent");
            assert_eq!(bank.hash(), reference.hash(), "{workers} workers");
        }
        // The sequential replayer too.
        let parent = genesis(&workload);
        let state = parent.accounts().state_hash();
        replay_sequentially(Arc::clone(&parent), &programs, std::slice::from_ref(bad)).unwrap_err();
        assert_eq!(parent.accounts().state_hash(), state);
        let bank = replay_sequentially(Arc::clone(&parent), &programs, &blocks).unwrap();
        assert_eq!(bank.hash(), reference.hash());
    }
}

/// A second block for a slot whose block was accepted is refused before it runs, by every
/// replayer (there are no forks): the store keeps the accepted block's state. Before,
/// it ran on that state into the final slot, where its commits could not be undone.
#[test]
fn a_second_block_for_an_accepted_slot_is_refused_before_it_runs() {
    let programs = Arc::new(ProgramRegistry::with_builtins());
    let workload = workload(ConflictPattern::Uniform { accounts: 8 }, 14);
    let blocks = produce(&workload, SchedulerKind::Greedy, &programs);
    assert!(
        blocks.len() >= 2,
        "the test needs a second block's transactions"
    );
    let parent = genesis(&workload);
    // The next block's transactions (new signatures, runnable on the accepted state),
    // offered as another block for the first block's slot.
    let mut second = blocks[1].clone();
    second.slot = blocks[0].slot;
    second.parent_hash = blocks[0].parent_hash;
    for workers in [1, 2, 4] {
        let parent = genesis(&workload);
        let mut replayer = BlockReplayer::new(workers, Arc::clone(&programs));
        let (accepted, _) = replayer.replay(&parent, &blocks[0]).unwrap();
        let state = accepted.accounts().state_hash();
        let error = replayer.replay(&parent, &second).unwrap_err();
        assert!(
            matches!(error, ReplayError::Bank(BankError::ParentNotTip { .. })),
            "{workers} workers: {error}"
        );
        assert_eq!(accepted.accounts().state_hash(), state, "{workers} workers");
        let (bank, _) = replayer.replay(&accepted, &blocks[1]).unwrap();
        assert_eq!(bank.hash(), Some(blocks[1].bank_hash));
    }
    let accepted = replay_sequentially(Arc::clone(&parent), &programs, &blocks[..1]).unwrap();
    let state = accepted.accounts().state_hash();
    let error = replay_sequentially(
        Arc::clone(&parent),
        &programs,
        std::slice::from_ref(&second),
    )
    .unwrap_err();
    assert!(
        matches!(error, ReplayError::Bank(BankError::ParentNotTip { .. })),
        "{error}"
    );
    assert_eq!(accepted.accounts().state_hash(), state);
}
