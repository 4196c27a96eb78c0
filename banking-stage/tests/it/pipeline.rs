//! End to end: the whole pipeline against a sequential replay, for every worker count and
//! conflict pattern; block limits; bad input; panics.

use std::sync::Arc;
use std::time::Duration;

use banking_stage::workload::{
    ConflictPattern, TransactionKind, TransactionMix, Workload, WorkloadConfig,
};
use banking_stage::{
    Bank, BankConfig, BlockLimits, DropReason, GreedyScheduler, PipelineConfig, PipelineError,
    PipelineOutput, SchedulerKind, TransactionCost, replay_sequentially, run_pipeline,
    run_pipeline_with_scheduler,
};
use sdk_lite::{ReadableAccount, SanitizedTransaction, Transaction};
use svm_lite::{ProgramRegistry, compute_budget_limits};

/// A frozen genesis bank for `workload`.
fn genesis(workload: &Workload) -> Arc<Bank> {
    let bank =
        Arc::new(Bank::new_genesis(workload.genesis.clone(), BankConfig::default()).unwrap());
    bank.freeze();
    bank
}

/// Runs `transactions` through a pipeline started from `parent`.
fn run(
    parent: Arc<Bank>,
    programs: &Arc<ProgramRegistry>,
    config: &PipelineConfig,
    transactions: &[Transaction],
) -> PipelineOutput {
    let (sender, receiver) = crossbeam_channel::unbounded();
    for transaction in transactions {
        sender.send(transaction.clone()).unwrap();
    }
    drop(sender);
    run_pipeline(parent, Arc::clone(programs), config, receiver, |_| {}).unwrap()
}

fn total_lamports(bank: &Bank) -> u64 {
    bank.accounts()
        .accounts_sorted()
        .iter()
        .map(|(_, account)| account.lamports())
        .sum()
}

/// Every invariant a finished run of all of `workload`'s transactions must keep.
fn check_run(workload: &Workload, programs: &Arc<ProgramRegistry>, output: &PipelineOutput) {
    check_run_of(workload, workload.transactions.len(), programs, output);
}

/// Every invariant a finished run of `submitted` transactions over `workload`'s genesis
/// must keep.
fn check_run_of(
    workload: &Workload,
    submitted: usize,
    programs: &Arc<ProgramRegistry>,
    output: &PipelineOutput,
) {
    let received = submitted as u64;
    assert_eq!(
        output.received(),
        received,
        "every transaction was received"
    );
    assert_eq!(
        output.committed() + output.dropped().total() + output.still_buffered,
        received,
        "every transaction is committed, dropped with a reason, or still buffered"
    );
    let recorded: usize = output
        .blocks
        .iter()
        .map(|block| block.transaction_count())
        .sum();
    assert_eq!(
        recorded as u64,
        output.committed(),
        "what was committed was recorded"
    );
    assert_eq!(
        output.leftover_account_locks, 0,
        "the execution locks are empty"
    );
    let fees: u64 = output.slots.iter().map(|slot| slot.fees).sum();
    assert_eq!(
        total_lamports(&output.last_bank) + fees,
        workload.genesis_lamports(),
        "lamports are conserved"
    );
    for (slot, block) in output.slots.iter().zip(&output.blocks) {
        assert_eq!(slot.bank_hash, block.bank_hash);
        assert!(slot.block_cost <= slot.block_cost_limit);
        // The scheduler's thread-aware locks never let two workers run conflicting
        // batches at once, so the workers' execution-level locks never refuse one (a
        // scheduler that ignored read locks would show here, not in the hashes: the
        // execution locks turn its mistakes into retries).
        assert_eq!(
            slot.retried_account_in_use, 0,
            "slot {}: no execution lock is refused",
            slot.slot
        );
    }
    // The reference: a fresh genesis, every block replayed in order on one thread.
    let replayed = replay_sequentially(genesis(workload), programs, &output.blocks)
        .expect("the sequential replay reaches every block's hash");
    assert_eq!(replayed.hash(), output.last_bank.hash());
    assert_eq!(
        replayed.accounts().state_hash(),
        output.last_bank.accounts().state_hash()
    );
}

fn small_workload(pattern: ConflictPattern, seed: u64) -> Workload {
    Workload::generate(&WorkloadConfig {
        seed,
        transactions: 600,
        pattern,
        mix: TransactionMix::default(),
        bench_units: 1_000,
        max_price: 1_000,
    })
}

/// Slots long enough that, on a loaded debug build, only a full block or the end of the
/// input ends them: the tests that count what a slot holds do not depend on the clock.
const LONG_SLOT: Duration = Duration::from_secs(60);

const SCHEDULERS: [SchedulerKind; 2] = [SchedulerKind::Greedy, SchedulerKind::PrioGraph];

#[test]
fn parallel_blocks_replay_sequentially_to_the_same_hash() {
    let programs = Arc::new(ProgramRegistry::with_builtins());
    for scheduler in SCHEDULERS {
        for pattern in ConflictPattern::all() {
            for workers in [1, 2, 4, 8] {
                let workload = small_workload(pattern, workers as u64);
                let config = PipelineConfig {
                    num_workers: workers,
                    scheduler,
                    slot_duration: LONG_SLOT,
                    // Small blocks, so that every run spans several slots and defers work.
                    block_limits: BlockLimits {
                        block_units: 400_000,
                        ..BlockLimits::default()
                    },
                    ..PipelineConfig::default()
                };
                let output = run(
                    genesis(&workload),
                    &programs,
                    &config,
                    &workload.transactions,
                );
                check_run(&workload, &programs, &output);
                let case = format!("{scheduler:?}, {pattern}, {workers} workers");
                assert!(output.blocks.len() > 1, "{case}: several slots");
                assert_eq!(output.still_buffered, 0, "the run drains its input");
                // Exactly the bad transactions are dropped (a copy of a good transaction
                // drops one of the pair), and exactly the failing ones fail.
                assert_eq!(
                    output.dropped().total(),
                    workload.bad_count() as u64,
                    "{case}: {}",
                    output.dropped()
                );
                let succeeded: u64 = output.slots.iter().map(|slot| slot.succeeded).sum();
                assert_eq!(
                    output.committed() - succeeded,
                    workload.count(TransactionKind::Failing) as u64,
                    "{case}"
                );
            }
        }
    }
}

#[test]
fn a_run_stopped_early_counts_what_is_still_buffered() {
    for scheduler in SCHEDULERS {
        a_run_stopped_early_counts_what_is_still_buffered_with(scheduler);
    }
}

fn a_run_stopped_early_counts_what_is_still_buffered_with(scheduler: SchedulerKind) {
    let programs = Arc::new(ProgramRegistry::with_builtins());
    let workload = small_workload(ConflictPattern::Chain, 7);
    let config = PipelineConfig {
        num_workers: 2,
        scheduler,
        slot_duration: LONG_SLOT,
        max_slots: Some(1),
        block_limits: BlockLimits {
            block_units: 100_000,
            ..BlockLimits::default()
        },
        ..PipelineConfig::default()
    };
    let output = run(
        genesis(&workload),
        &programs,
        &config,
        &workload.transactions,
    );
    assert_eq!(output.blocks.len(), 1);
    assert!(output.still_buffered > 0);
    check_run(&workload, &programs, &output);
}

/// The cost the block charges a transaction that uses all its requested units.
fn cost_of(transaction: &Transaction, programs: &ProgramRegistry) -> TransactionCost {
    let sanitized = SanitizedTransaction::try_new(transaction.clone()).unwrap();
    let limits = compute_budget_limits(&sanitized, |id| programs.is_builtin(id)).unwrap();
    TransactionCost::new(&sanitized, &limits)
}

#[test]
fn a_hot_account_fills_to_its_limit_while_others_still_run() {
    for scheduler in SCHEDULERS {
        hot_account_fills_to_its_limit(scheduler);
    }
}

fn hot_account_fills_to_its_limit(scheduler: SchedulerKind) {
    let programs = Arc::new(ProgramRegistry::with_builtins());
    // 60% of bench transactions write one hot account; the rest their own.
    let workload = Workload::generate(&WorkloadConfig {
        seed: 3,
        transactions: 400,
        pattern: ConflictPattern::HotSpot {
            percent: 60,
            hot_accounts: 1,
        },
        mix: TransactionMix::BENCH,
        bench_units: 10_000,
        max_price: 1_000,
    });
    let cost = cost_of(&workload.transactions[0], &programs).sum();
    let hot_fit = 20;
    let config = PipelineConfig {
        num_workers: 4,
        scheduler,
        slot_duration: LONG_SLOT,
        block_limits: BlockLimits {
            account_units: hot_fit * cost + cost / 2,
            ..BlockLimits::default()
        },
        ..PipelineConfig::default()
    };
    let output = run(
        genesis(&workload),
        &programs,
        &config,
        &workload.transactions,
    );
    check_run(&workload, &programs, &output);
    let hot_writes = |block: &banking_stage::Block| {
        let mut per_account = std::collections::HashMap::new();
        for entry in &block.entries {
            for transaction in &entry.transactions {
                for (key, writable) in transaction.lock_requests() {
                    if writable {
                        *per_account.entry(*key).or_insert(0u64) += 1;
                    }
                }
            }
        }
        per_account
    };
    let first = &output.blocks[0];
    let counts = hot_writes(first);
    let hottest = counts.values().copied().max().unwrap();
    assert_eq!(
        hottest, hot_fit,
        "the hot account is filled to its limit, not beyond"
    );
    let cold = workload.transactions.len() as u64 - workload_hot_count(&workload, &programs);
    assert_eq!(
        first.transaction_count() as u64,
        cold + hot_fit,
        "every cold transaction still ran in the first slot"
    );
    for slot in &output.slots {
        assert!(slot.max_account_cost <= config.block_limits.account_units);
    }
    assert!(output.slots[0].retried_next_slot > 0);
}

/// How many transactions of `workload` write its most-written account.
fn workload_hot_count(workload: &Workload, _programs: &ProgramRegistry) -> u64 {
    let mut per_account = std::collections::HashMap::new();
    for transaction in &workload.transactions {
        let sanitized = SanitizedTransaction::try_new(transaction.clone()).unwrap();
        for (key, writable) in sanitized.lock_requests() {
            if writable {
                *per_account.entry(*key).or_insert(0u64) += 1;
            }
        }
    }
    per_account.values().copied().max().unwrap()
}

#[test]
fn the_block_never_exceeds_its_limit() {
    for scheduler in SCHEDULERS {
        the_block_never_exceeds_its_limit_with(scheduler);
    }
}

fn the_block_never_exceeds_its_limit_with(scheduler: SchedulerKind) {
    let programs = Arc::new(ProgramRegistry::with_builtins());
    // Transfers and bench work use exactly the units they request, so what a block
    // reserved is what it holds (failing transactions would give unused units back).
    let workload = Workload::generate(&WorkloadConfig {
        seed: 11,
        transactions: 600,
        pattern: ConflictPattern::None,
        mix: TransactionMix {
            transfer: 1,
            bench: 1,
            nonce: 0,
            failing: 0,
            bad: 0,
        },
        bench_units: 1_000,
        max_price: 1_000,
    });
    let block_units = 250_000;
    let config = PipelineConfig {
        num_workers: 4,
        scheduler,
        slot_duration: LONG_SLOT,
        block_limits: BlockLimits {
            block_units,
            ..BlockLimits::default()
        },
        ..PipelineConfig::default()
    };
    let output = run(
        genesis(&workload),
        &programs,
        &config,
        &workload.transactions,
    );
    check_run(&workload, &programs, &output);
    for (block, slot) in output.blocks.iter().zip(&output.slots) {
        let requested: u64 = block
            .entries
            .iter()
            .flat_map(|entry| &entry.transactions)
            .map(|transaction| {
                let limits =
                    compute_budget_limits(transaction, |id| programs.is_builtin(id)).unwrap();
                TransactionCost::new(transaction, &limits).sum()
            })
            .sum();
        assert!(
            requested <= block_units,
            "slot {}: {requested} units requested in a block of {block_units}",
            block.slot
        );
        assert!(slot.block_cost <= block_units);
    }
    assert!(
        output.slots[..output.slots.len() - 1]
            .iter()
            .all(|slot| slot.end_reason == banking_stage::SlotEndReason::BlockFull)
    );
}

#[test]
fn bad_input_is_dropped_with_its_reason_and_changes_nothing() {
    for scheduler in SCHEDULERS {
        bad_input_is_dropped_with_its_reason_and_changes_nothing_with(scheduler);
    }
}

fn bad_input_is_dropped_with_its_reason_and_changes_nothing_with(scheduler: SchedulerKind) {
    use banking_stage::workload::BadKind;
    let programs = Arc::new(ProgramRegistry::with_builtins());
    let workload = Workload::generate(&WorkloadConfig {
        seed: 5,
        transactions: 300,
        pattern: ConflictPattern::Uniform { accounts: 8 },
        mix: TransactionMix {
            transfer: 1,
            bench: 0,
            nonce: 0,
            failing: 0,
            bad: 3,
        },
        bench_units: 1_000,
        max_price: 1_000,
    });
    let parent = genesis(&workload);
    let config = PipelineConfig {
        num_workers: 2,
        scheduler,
        ..PipelineConfig::default()
    };
    // First the good transactions alone, then everything: the second run may only drop.
    let good: Vec<Transaction> = workload
        .transactions
        .iter()
        .zip(&workload.kinds)
        .filter(|(_, kind)| !matches!(kind, TransactionKind::Bad(_)))
        .map(|(transaction, _)| transaction.clone())
        .collect();
    let first = run(parent, &programs, &config, &good);
    assert_eq!(first.committed(), good.len() as u64);
    let state_before = first.last_bank.accounts().state_hash();
    let second = run(
        Arc::clone(&first.last_bank),
        &programs,
        &config,
        &workload.transactions,
    );
    assert_eq!(second.committed(), 0);
    assert_eq!(second.dropped().total(), workload.transactions.len() as u64);
    assert_eq!(second.slots.iter().map(|slot| slot.fees).sum::<u64>(), 0);
    assert_eq!(
        second.last_bank.accounts().state_hash(),
        state_before,
        "state untouched"
    );
    let expected = |kinds: &[BadKind]| {
        workload
            .kinds
            .iter()
            .filter(|kind| matches!(kind, TransactionKind::Bad(bad) if kinds.contains(bad)))
            .count() as u64
    };
    let dropped = second.dropped();
    let malformed = expected(&[
        BadKind::Malformed,
        BadKind::Unsigned,
        BadKind::DuplicateAccount,
        BadKind::TooManyAccounts,
    ]);
    let unknown = expected(&[BadKind::UnknownProgram]);
    assert!(malformed > 0 && unknown > 0);
    // A copy is dropped for its original's reason (a copy of a malformed transaction is
    // malformed), so copies make the counts at least the kinds'.
    assert!(dropped.get(DropReason::Malformed) >= malformed);
    assert!(dropped.get(DropReason::UnknownProgram) >= unknown);
    assert_eq!(
        dropped.get(DropReason::AlreadyProcessed)
            + dropped.get(DropReason::Malformed)
            + dropped.get(DropReason::UnknownProgram),
        workload.transactions.len() as u64,
        "{dropped}"
    );
    assert!(dropped.get(DropReason::AlreadyProcessed) >= good.len() as u64);
}

#[test]
fn a_panicking_program_fails_its_batch_and_the_pipeline_goes_on() {
    for scheduler in SCHEDULERS {
        a_panicking_program_fails_its_batch_and_the_pipeline_goes_on_with(scheduler);
    }
}

fn a_panicking_program_fails_its_batch_and_the_pipeline_goes_on_with(scheduler: SchedulerKind) {
    let mut registry = ProgramRegistry::with_builtins();
    let buggy = sdk_lite::Pubkey::new_from_array([7; 32]);
    registry.register(buggy, Arc::new(crate::common::PanickingProgram));
    let programs = Arc::new(registry);
    let workload = small_workload(ConflictPattern::Uniform { accounts: 16 }, 9);
    let mut transactions = workload.transactions.clone();
    // Every 50th transaction calls the buggy program.
    let blockhash = Bank::first_blockhash();
    for index in (0..transactions.len()).step_by(50) {
        let payer = *transactions[index].message.account_keys.first().unwrap();
        let instruction = sdk_lite::Instruction::new_with_bytes(buggy, &[], vec![]);
        let message = sdk_lite::Message::new(&[instruction], Some(&payer), blockhash);
        transactions.push(Transaction::new_with_placeholder_signatures(message));
    }
    let config = PipelineConfig {
        num_workers: 3,
        scheduler,
        ..PipelineConfig::default()
    };
    let output = run(genesis(&workload), &programs, &config, &transactions);
    let panicked = output.dropped().get(DropReason::Panicked);
    assert!(
        panicked >= 12,
        "the buggy transactions are dropped ({panicked})"
    );
    assert!(output.committed() > 0, "the rest go on");
    assert_eq!(output.leftover_account_locks, 0);
    assert_eq!(
        output.committed() + output.dropped().total(),
        transactions.len() as u64
    );
    // No panicked transaction is in a block, the blocks replay, nothing leaks.
    check_run_of(&workload, transactions.len(), &programs, &output);
}

#[test]
fn worker_counts_outside_1_to_64_are_refused() {
    let programs = Arc::new(ProgramRegistry::with_builtins());
    let workload = small_workload(ConflictPattern::None, 1);
    for workers in [0, 65] {
        let (_sender, receiver) = crossbeam_channel::unbounded();
        let config = PipelineConfig {
            num_workers: workers,
            ..PipelineConfig::default()
        };
        let error = run_pipeline(
            genesis(&workload),
            Arc::clone(&programs),
            &config,
            receiver,
            |_| {},
        )
        .unwrap_err();
        assert!(matches!(error, PipelineError::WorkerCount(n) if n == workers));
    }
}

#[test]
fn an_unfrozen_parent_is_refused() {
    let programs = Arc::new(ProgramRegistry::with_builtins());
    let workload = small_workload(ConflictPattern::None, 1);
    let bank = Arc::new(Bank::new_genesis(workload.genesis, BankConfig::default()).unwrap());
    let (_sender, receiver) = crossbeam_channel::unbounded();
    let error =
        run_pipeline(bank, programs, &PipelineConfig::default(), receiver, |_| {}).unwrap_err();
    assert!(matches!(error, PipelineError::ParentNotFrozen(0)));
}

#[test]
fn slots_end_on_time_while_transactions_trickle_in() {
    for scheduler in SCHEDULERS {
        slots_end_on_time_while_transactions_trickle_in_with(scheduler);
    }
}

fn slots_end_on_time_while_transactions_trickle_in_with(scheduler: SchedulerKind) {
    let programs = Arc::new(ProgramRegistry::with_builtins());
    let workload = small_workload(ConflictPattern::None, 2);
    let parent = genesis(&workload);
    let (sender, receiver) = crossbeam_channel::unbounded();
    let (slot_ended, slot_ended_receiver) = crossbeam_channel::unbounded();
    // Half the transactions, then (once a slot has ended on its own, with the input still
    // open) the other half.
    let feeder = {
        let transactions = workload.transactions[..40].to_vec();
        std::thread::spawn(move || {
            for transaction in &transactions[..20] {
                sender.send(transaction.clone()).unwrap();
            }
            slot_ended_receiver
                .recv_timeout(Duration::from_secs(30))
                .expect("a slot ends on time");
            for transaction in &transactions[20..] {
                sender.send(transaction.clone()).unwrap();
            }
        })
    };
    let config = PipelineConfig {
        num_workers: 2,
        scheduler,
        slot_duration: Duration::from_millis(20),
        ..PipelineConfig::default()
    };
    let output = run_pipeline(parent, Arc::clone(&programs), &config, receiver, |_| {
        let _ = slot_ended.send(());
    })
    .unwrap();
    check_run_of(&workload, 40, &programs, &output);
    feeder.join().unwrap();
    assert!(output.blocks.len() >= 2, "{} slots", output.blocks.len());
    assert_eq!(
        output.slots[0].end_reason,
        banking_stage::SlotEndReason::Time,
        "the input was open, so only time could end the first slot"
    );
    assert_eq!(
        output.committed() + output.dropped().total(),
        40,
        "every transaction is accounted for"
    );
}

#[test]
fn transactions_sharing_a_signature_commit_once_whatever_the_workers() {
    // Different payers, so the copies do not conflict and could run on two workers at
    // once; the bank checks signatures before it commits them, so only the pipeline's
    // intake can stop the second.
    let programs = Arc::new(ProgramRegistry::with_builtins());
    let workload = Workload::generate(&WorkloadConfig {
        seed: 21,
        transactions: 400,
        pattern: ConflictPattern::None,
        mix: TransactionMix::BENCH,
        bench_units: 2_000,
        max_price: 1_000,
    });
    let mut transactions = workload.transactions.clone();
    let shared = transactions[0].signatures[0];
    for transaction in transactions.iter_mut().take(40) {
        transaction.signatures[0] = shared;
    }
    for scheduler in SCHEDULERS {
        let config = PipelineConfig {
            num_workers: 8,
            scheduler,
            slot_duration: LONG_SLOT,
            ..PipelineConfig::default()
        };
        let output = run(genesis(&workload), &programs, &config, &transactions);
        check_run_of(&workload, transactions.len(), &programs, &output);
        assert_eq!(output.dropped().get(DropReason::AlreadyProcessed), 39);
        assert_eq!(output.committed(), 400 - 39);
    }
}

#[test]
fn a_small_buffer_drops_the_cheapest_and_counts_them() {
    let programs = Arc::new(ProgramRegistry::with_builtins());
    let workload = Workload::generate(&WorkloadConfig {
        seed: 8,
        transactions: 500,
        pattern: ConflictPattern::Chain,
        mix: TransactionMix::TRANSFERS,
        bench_units: 1_000,
        max_price: 1_000,
    });
    for scheduler in SCHEDULERS {
        let config = PipelineConfig {
            num_workers: 2,
            scheduler,
            slot_duration: LONG_SLOT,
            buffer_capacity: 50,
            ..PipelineConfig::default()
        };
        let output = run(
            genesis(&workload),
            &programs,
            &config,
            &workload.transactions,
        );
        check_run(&workload, &programs, &output);
        let full = output.dropped().get(DropReason::BufferFull);
        assert!(full > 0, "{scheduler:?}: the buffer overflowed");
        assert_eq!(output.committed() + full, 500, "{scheduler:?}");
    }
}

#[test]
fn settings_that_would_stall_the_pipeline_are_refused() {
    let programs = Arc::new(ProgramRegistry::with_builtins());
    let workload = small_workload(ConflictPattern::None, 1);
    let broken = [
        PipelineConfig {
            slot_duration: Duration::ZERO,
            ..PipelineConfig::default()
        },
        PipelineConfig {
            max_slots: Some(0),
            ..PipelineConfig::default()
        },
        PipelineConfig {
            buffer_capacity: 0,
            ..PipelineConfig::default()
        },
        PipelineConfig {
            max_scan_per_pass: 0,
            ..PipelineConfig::default()
        },
        PipelineConfig {
            max_in_flight_units_per_worker: 0,
            ..PipelineConfig::default()
        },
    ];
    for config in broken {
        let (_sender, receiver) = crossbeam_channel::unbounded();
        let error = run_pipeline(
            genesis(&workload),
            Arc::clone(&programs),
            &config,
            receiver,
            |_| {},
        )
        .unwrap_err();
        assert!(
            matches!(error, PipelineError::InvalidSetting { .. }),
            "{error}"
        );
    }
    // A caller's scheduler built for another worker count.
    let (_sender, receiver) = crossbeam_channel::unbounded();
    let error = run_pipeline_with_scheduler(
        genesis(&workload),
        programs,
        &PipelineConfig::default(),
        Box::new(GreedyScheduler::new(3, u64::MAX)),
        receiver,
        |_| {},
    )
    .unwrap_err();
    assert!(matches!(
        error,
        PipelineError::SchedulerWorkers {
            scheduler: 3,
            pipeline: 4
        }
    ));
}

#[test]
fn a_pipeline_over_a_durable_store_persists_every_slot() {
    use accounts_db_lite::AccountsDb;
    use accounts_db_lite::durable::OpenOptions;

    let programs = Arc::new(ProgramRegistry::with_builtins());
    let workload = small_workload(
        ConflictPattern::Zipf {
            accounts: 50,
            exponent: 1.1,
        },
        31,
    );
    let dir = std::env::temp_dir().join(format!("pipeline-durable-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let genesis_accounts = || workload.genesis.clone();
    let (store, _) = AccountsDb::open(&dir, genesis_accounts, OpenOptions::default()).unwrap();
    let parent = Arc::new(Bank::new_genesis_with_store(store, BankConfig::default()).unwrap());
    parent.freeze();
    let config = PipelineConfig {
        num_workers: 3,
        slot_duration: Duration::from_secs(60),
        block_limits: BlockLimits {
            block_units: 400_000,
            ..BlockLimits::default()
        },
        ..PipelineConfig::default()
    };
    let output = run(parent, &programs, &config, &workload.transactions);
    check_run(&workload, &programs, &output);
    let last_slot = output.blocks.last().unwrap().slot;
    let state = output.last_bank.accounts().state_hash();
    drop(output);
    // Reopened: the last produced slot, and its state.
    let (store, recovered) = AccountsDb::open(&dir, Vec::new, OpenOptions::default()).unwrap();
    assert_eq!(store.slot(), last_slot);
    assert_eq!(store.state_hash(), state);
    assert_eq!(recovered.torn_tail, None);
    // A store with slots after genesis cannot start a new chain.
    assert!(Bank::new_genesis_with_store(store, BankConfig::default()).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}
