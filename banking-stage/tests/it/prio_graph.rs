//! The prio-graph scheduler's scenarios: order, batching, spreading, the priority guard,
//! the scan limit, the budget, and hot-account parking.

use std::sync::Arc;

use crate::common::tx;
use banking_stage::{
    BufferedTransaction, ConsumeWork, DEFAULT_LOOK_AHEAD_WINDOW, GreedyScheduler, MAX_BATCH_SIZE,
    PrioGraphScheduler, Scheduler, SchedulingSummary, TransactionContainer,
};
use sdk_lite::{Pubkey, Signature};

const UNITS: u64 = 1_000;

fn pass(
    scheduler: &mut dyn Scheduler,
    container: &mut TransactionContainer<BufferedTransaction>,
) -> (Vec<ConsumeWork>, SchedulingSummary) {
    scheduler.schedule(container, 1_000, u64::MAX, &|_| UNITS)
}

fn signatures(batch: &ConsumeWork) -> Vec<Signature> {
    batch
        .transactions
        .iter()
        .map(|transaction| *transaction.signature())
        .collect()
}

fn complete_all(
    scheduler: &mut dyn Scheduler,
    work: Vec<ConsumeWork>,
    container: &mut TransactionContainer<BufferedTransaction>,
) {
    for batch in work {
        assert!(scheduler.complete(batch, &[], container).is_empty());
    }
}

#[test]
fn no_conflicts_on_one_worker_go_in_priority_order() {
    let transactions: Vec<_> = (0..4).map(|_| tx(&[Pubkey::new_unique()])).collect();
    let mut container = TransactionContainer::with_capacity(100);
    for (transaction, priority) in transactions.iter().zip([3, 9, 1, 5]) {
        container.insert(Arc::clone(transaction), priority);
    }
    let mut scheduler = PrioGraphScheduler::new(1, u64::MAX);
    let (work, summary) = pass(&mut scheduler, &mut container);
    assert_eq!(summary.scheduled, 4);
    assert_eq!(work.len(), 1);
    let expected: Vec<Signature> = [1, 3, 0, 2]
        .iter()
        .map(|&i| *transactions[i].signature())
        .collect();
    assert_eq!(signatures(&work[0]), expected);
}

#[test]
fn a_conflict_on_one_worker_makes_two_batches() {
    let account = Pubkey::new_unique();
    let (first, second) = (tx(&[account]), tx(&[account]));
    let mut container = TransactionContainer::with_capacity(100);
    container.insert(Arc::clone(&second), 1);
    container.insert(Arc::clone(&first), 2);
    let mut scheduler = PrioGraphScheduler::new(1, u64::MAX);
    let (work, summary) = pass(&mut scheduler, &mut container);
    assert_eq!(summary.scheduled, 2);
    assert_eq!(work.len(), 2, "each batch is conflict-free");
    assert_eq!(signatures(&work[0]), vec![*first.signature()]);
    assert_eq!(signatures(&work[1]), vec![*second.signature()]);
}

#[test]
fn many_independent_transactions_fill_batches_of_64() {
    let mut container = TransactionContainer::with_capacity(1_000);
    for index in 0..4 * MAX_BATCH_SIZE {
        container.insert(tx(&[Pubkey::new_unique()]), index as u64);
    }
    let mut scheduler = PrioGraphScheduler::new(1, u64::MAX);
    let (work, summary) = pass(&mut scheduler, &mut container);
    assert_eq!(summary.scheduled, 256);
    assert_eq!(
        work.iter().map(|batch| batch.ids.len()).collect::<Vec<_>>(),
        vec![64; 4]
    );
}

#[test]
fn independent_transactions_spread_over_the_workers() {
    let mut container = TransactionContainer::with_capacity(100);
    for index in 0..8 {
        container.insert(tx(&[Pubkey::new_unique()]), index);
    }
    let mut scheduler = PrioGraphScheduler::new(4, u64::MAX);
    let (work, _) = pass(&mut scheduler, &mut container);
    let mut per_worker = [0; 4];
    for batch in &work {
        per_worker[batch.worker] += batch.ids.len();
    }
    assert_eq!(per_worker, [2; 4]);
}

/// The priority guard: a transaction that conflicts across workers holds back its
/// lower-priority followers until the blocking batch completes. The greedy scheduler lets
/// the follower overtake.
#[test]
fn the_priority_guard_holds_followers_behind_a_blocked_transaction() {
    let (x, y) = (Pubkey::new_unique(), Pubkey::new_unique());
    let run = |scheduler: &mut dyn Scheduler| {
        let mut container = TransactionContainer::with_capacity(100);
        // Two holders, on two workers.
        container.insert(tx(&[x]), 100);
        container.insert(tx(&[y]), 99);
        let (holders, _) = pass(scheduler, &mut container);
        assert_eq!(holders.len(), 2);
        assert_ne!(holders[0].worker, holders[1].worker);
        let blocked = tx(&[x, y]);
        let follower = tx(&[x]);
        container.insert(Arc::clone(&blocked), 10);
        container.insert(Arc::clone(&follower), 5);
        let (work, summary) = pass(scheduler, &mut container);
        (holders, work, summary, container, blocked, follower)
    };

    let mut prio_graph = PrioGraphScheduler::new(2, u64::MAX);
    let (holders, work, summary, mut container, blocked, follower) = run(&mut prio_graph);
    assert!(
        work.is_empty(),
        "the follower waits behind the blocked transaction"
    );
    assert_eq!(summary.unschedulable_conflicts, 1);
    assert_eq!(container.len(), 2);
    complete_all(&mut prio_graph, holders, &mut container);
    let (work, _) = pass(&mut prio_graph, &mut container);
    let order: Vec<Signature> = work.iter().flat_map(signatures).collect();
    assert_eq!(order, vec![*blocked.signature(), *follower.signature()]);

    let mut greedy = GreedyScheduler::new(2, u64::MAX);
    let (_, work, summary, _, _, follower) = run(&mut greedy);
    assert_eq!(summary.unschedulable_conflicts, 1);
    assert_eq!(
        work.iter().flat_map(signatures).collect::<Vec<_>>(),
        vec![*follower.signature()],
        "greedy lets the cheaper follower overtake"
    );
}

#[test]
fn a_pass_takes_at_most_max_scan_transactions() {
    let mut container = TransactionContainer::with_capacity(5_000);
    for index in 0..2_000 {
        container.insert(tx(&[Pubkey::new_unique()]), index);
    }
    let mut scheduler = PrioGraphScheduler::new(4, u64::MAX);
    let (_, summary) = scheduler.schedule(&mut container, 300, u64::MAX, &|_| UNITS);
    assert_eq!(summary.scheduled, 300);
    assert_eq!(container.len(), 1_700);
}

#[test]
fn a_zero_budget_schedules_nothing_and_a_small_one_a_little() {
    for scheduler in [
        &mut PrioGraphScheduler::new(2, u64::MAX) as &mut dyn Scheduler,
        &mut GreedyScheduler::new(2, u64::MAX),
    ] {
        let mut container = TransactionContainer::with_capacity(100);
        for index in 0..10 {
            container.insert(tx(&[Pubkey::new_unique()]), index);
        }
        let (work, summary) = scheduler.schedule(&mut container, 1_000, 0, &|_| UNITS);
        assert!(work.is_empty());
        assert_eq!(summary.scheduled, 0);
        assert_eq!(container.len(), 10);
        let (_, summary) = scheduler.schedule(&mut container, 1_000, 3 * UNITS, &|_| UNITS);
        assert_eq!(summary.scheduled, 3, "{}", scheduler.name());
        assert_eq!(summary.unschedulable_budget, 1);
        assert_eq!(container.len(), 7);
    }
}

/// One hot account whose worker is at its cap, many well-paid transactions on it, and a
/// few cheap ones elsewhere: parking lets the cheap ones through; without it the window
/// is full of the stuck hot transactions and they starve.
#[test]
fn parking_a_stuck_hot_account_lets_other_transactions_through() {
    let hot = Pubkey::new_unique();
    let hot_transactions: Vec<_> = (0..2_000).map(|_| tx(&[hot])).collect();
    let cold_transactions: Vec<_> = (0..100).map(|_| tx(&[Pubkey::new_unique()])).collect();
    let fill = |container: &mut TransactionContainer<BufferedTransaction>| {
        for (index, transaction) in hot_transactions.iter().enumerate() {
            container.insert(Arc::clone(transaction), 1_000_000 - index as u64);
        }
        for transaction in &cold_transactions {
            container.insert(Arc::clone(transaction), 1);
        }
    };
    // A worker may hold 64 transactions' worth: the hot worker fills up at once.
    let cap = MAX_BATCH_SIZE as u64 * UNITS;
    let cold_scheduled = |scheduler: &mut PrioGraphScheduler| {
        let mut container = TransactionContainer::with_capacity(10_000);
        fill(&mut container);
        let mut cold = 0;
        let mut in_flight = Vec::new();
        for _ in 0..10 {
            let (work, _) = pass(scheduler, &mut container);
            for batch in work {
                cold += batch
                    .transactions
                    .iter()
                    .filter(|transaction| !transaction.lock_requests().any(|(k, _)| *k == hot))
                    .count();
                // The cold workers answer; the hot one never does.
                if batch
                    .transactions
                    .iter()
                    .any(|t| t.lock_requests().any(|(k, _)| *k == hot))
                {
                    in_flight.push(batch);
                } else {
                    assert!(scheduler.complete(batch, &[], &mut container).is_empty());
                }
            }
        }
        (cold, scheduler.held(), container, in_flight)
    };

    let mut parking = PrioGraphScheduler::new(4, cap);
    let (cold, held, mut container, in_flight) = cold_scheduled(&mut parking);
    assert_eq!(cold, 100, "every cold transaction ran");
    assert!(held > 0, "the hot account's queue is parked");
    assert_eq!(held + container.len() + 64, 2_000, "nothing lost");

    let mut no_parking =
        PrioGraphScheduler::with_limits(4, cap, DEFAULT_LOOK_AHEAD_WINDOW, usize::MAX);
    let (cold, held, _, _) = cold_scheduled(&mut no_parking);
    assert_eq!(
        cold, 0,
        "without parking the stuck hot transactions fill the window"
    );
    assert_eq!(held, 0);

    // Once the hot worker answers, the hot account's transactions run in price order.
    complete_all(&mut parking, in_flight, &mut container);
    let mut order = Vec::new();
    while !container.is_empty() || parking.held() > 0 {
        let (work, _) = pass(&mut parking, &mut container);
        order.extend(work.iter().flat_map(signatures));
        complete_all(&mut parking, work, &mut container);
    }
    let expected: Vec<Signature> = hot_transactions[64..]
        .iter()
        .map(|transaction| *transaction.signature())
        .collect();
    assert_eq!(
        order, expected,
        "parking keeps price order on the hot account"
    );
}

mod end_to_end {
    //! Price order on a hot account, and local fee markets, through the whole pipeline.

    use std::sync::Arc;
    use std::time::Duration;

    use banking_stage::{
        Bank, BankConfig, Block, BlockLimits, PipelineConfig, SchedulerKind, replay_sequentially,
        run_pipeline,
    };
    use sdk_lite::{AccountMeta, AccountSharedData, Message, Pubkey, Transaction, system_program};
    use svm_lite::bench_program::{BENCH_PROGRAM_ID, BENCH_STATE_LEN};
    use svm_lite::compute_budget::instruction as budget;
    use svm_lite::{BenchInstruction, ProgramRegistry, Rent};

    struct Chain {
        genesis: Vec<(Pubkey, AccountSharedData)>,
        transactions: Vec<Transaction>,
        prices: std::collections::HashMap<sdk_lite::Signature, u64>,
    }

    /// A bench transaction from a fresh payer writing `writes`, paying `price`.
    fn add(chain: &mut Chain, writes: &[Pubkey], price: u64) {
        let payer = Pubkey::new_unique();
        chain.genesis.push((
            payer,
            AccountSharedData::new(1_000_000_000, 0, &system_program::ID),
        ));
        let mut write = BenchInstruction::Write { value: price }.to_instruction(&writes[0]);
        write
            .accounts
            .extend(writes[1..].iter().map(|key| AccountMeta::new(*key, false)));
        let message = Message::new(
            &[
                // Exactly what it uses (the write's 100 and the two budget instructions'
                // 150 each), so the block is charged what was reserved.
                budget::set_compute_unit_limit(400),
                budget::set_compute_unit_price(price),
                write,
            ],
            Some(&payer),
            Bank::first_blockhash(),
        );
        let transaction = Transaction::new_with_placeholder_signatures(message);
        chain.prices.insert(transaction.signatures[0], price);
        chain.transactions.push(transaction);
    }

    fn state() -> (Pubkey, AccountSharedData) {
        let lamports = Rent::default().minimum_balance(BENCH_STATE_LEN);
        (
            Pubkey::new_unique(),
            AccountSharedData::new(lamports, BENCH_STATE_LEN, &BENCH_PROGRAM_ID),
        )
    }

    fn run(chain: &Chain, scheduler: SchedulerKind, limits: BlockLimits) -> Vec<Block> {
        let programs = Arc::new(ProgramRegistry::with_builtins());
        let genesis = || {
            let bank =
                Arc::new(Bank::new_genesis(chain.genesis.clone(), BankConfig::default()).unwrap());
            bank.freeze();
            bank
        };
        let (sender, receiver) = crossbeam_channel::unbounded();
        for transaction in &chain.transactions {
            sender.send(transaction.clone()).unwrap();
        }
        drop(sender);
        let config = PipelineConfig {
            num_workers: 4,
            scheduler,
            slot_duration: Duration::from_secs(60),
            block_limits: limits,
            ..PipelineConfig::default()
        };
        let output =
            run_pipeline(genesis(), Arc::clone(&programs), &config, receiver, |_| {}).unwrap();
        replay_sequentially(genesis(), &programs, &output.blocks).unwrap();
        output.blocks
    }

    /// The prices of the transactions that wrote `account`, in committed order.
    fn committed_prices(chain: &Chain, blocks: &[Block], account: &Pubkey) -> Vec<u64> {
        blocks
            .iter()
            .flat_map(|block| &block.entries)
            .flat_map(|entry| &entry.transactions)
            .filter(|transaction| {
                transaction
                    .lock_requests()
                    .any(|(key, writable)| writable && key == account)
            })
            .map(|transaction| chain.prices[transaction.signature()])
            .collect()
    }

    #[test]
    fn the_committed_order_on_a_hot_account_follows_price() {
        let mut chain = Chain {
            genesis: Vec::new(),
            transactions: Vec::new(),
            prices: Default::default(),
        };
        let (hot, hot_account) = state();
        let (other, other_account) = state();
        chain.genesis.push((hot, hot_account));
        chain.genesis.push((other, other_account));
        // Distinct prices, arriving shuffled. By price: the hot account, the other one,
        // both, the hot account, ... so that the two accounts sit on two workers when a
        // transaction needs both.
        for index in 0..300u64 {
            let price = 1 + (index * 7_919) % 300;
            match (300 - price) % 3 {
                0 => add(&mut chain, &[hot], price),
                1 => add(&mut chain, &[other], price),
                _ => add(&mut chain, &[hot, other], price),
            }
        }
        let prio_graph = committed_prices(
            &chain,
            &run(&chain, SchedulerKind::PrioGraph, BlockLimits::default()),
            &hot,
        );
        assert_eq!(prio_graph.len(), 200);
        assert!(
            prio_graph.windows(2).all(|pair| pair[0] > pair[1]),
            "prio-graph: strictly by price on the hot account: {prio_graph:?}"
        );
        let greedy = committed_prices(
            &chain,
            &run(&chain, SchedulerKind::Greedy, BlockLimits::default()),
            &hot,
        );
        assert_eq!(greedy.len(), 200);
        assert!(
            greedy.windows(2).any(|pair| pair[0] < pair[1]),
            "greedy lets a cheaper transaction overtake a blocked one: {greedy:?}"
        );
    }

    #[test]
    fn a_capped_hot_account_does_not_stop_a_cheap_transaction_elsewhere() {
        let mut chain = Chain {
            genesis: Vec::new(),
            transactions: Vec::new(),
            prices: Default::default(),
        };
        let (hot, hot_account) = state();
        let (quiet, quiet_account) = state();
        chain.genesis.push((hot, hot_account));
        chain.genesis.push((quiet, quiet_account));
        for index in 0..200 {
            add(&mut chain, &[hot], 1_000_000 - index);
        }
        add(&mut chain, &[quiet], 0);
        // The per-account limit admits 20 of the hot transactions per block.
        let sanitized =
            sdk_lite::SanitizedTransaction::try_new(chain.transactions[0].clone()).unwrap();
        let programs = ProgramRegistry::with_builtins();
        let limits =
            svm_lite::compute_budget_limits(&sanitized, |id| programs.is_builtin(id)).unwrap();
        let cost = banking_stage::TransactionCost::new(&sanitized, &limits).sum();
        let limits = BlockLimits {
            account_units: 20 * cost + cost / 2,
            ..BlockLimits::default()
        };
        for scheduler in [SchedulerKind::Greedy, SchedulerKind::PrioGraph] {
            let blocks = run(&chain, scheduler, limits);
            let first = &blocks[0];
            assert_eq!(
                committed_prices(&chain, std::slice::from_ref(first), &hot).len(),
                20
            );
            assert_eq!(
                committed_prices(&chain, std::slice::from_ref(first), &quiet),
                vec![0],
                "{scheduler:?}: the cheapest transaction still ran in the first block"
            );
        }
    }

    /// Pacing: the block's units are released over the slot, so a valuable transaction
    /// that arrives after the cheap flood still finds room in the same block; without
    /// pacing the flood fills the block at once.
    #[test]
    fn pacing_leaves_room_for_a_late_valuable_transaction() {
        let mut chain = Chain {
            genesis: Vec::new(),
            transactions: Vec::new(),
            prices: Default::default(),
        };
        for index in 0..201 {
            let (key, account) = state();
            chain.genesis.push((key, account));
            add(
                &mut chain,
                &[key],
                if index == 200 { 1_000_000 } else { 1 + index },
            );
        }
        let late = chain.transactions.pop().unwrap();
        let late_signature = late.signatures[0];
        let sanitized = sdk_lite::SanitizedTransaction::try_new(late.clone()).unwrap();
        let programs = Arc::new(ProgramRegistry::with_builtins());
        let limits =
            svm_lite::compute_budget_limits(&sanitized, |id| programs.is_builtin(id)).unwrap();
        let cost = banking_stage::TransactionCost::new(&sanitized, &limits).sum();
        let block_of = |pacing: Option<Duration>| {
            let genesis =
                Arc::new(Bank::new_genesis(chain.genesis.clone(), BankConfig::default()).unwrap());
            genesis.freeze();
            let (sender, receiver) = crossbeam_channel::unbounded();
            let flood = chain.transactions.clone();
            let late = late.clone();
            let feeder = std::thread::spawn(move || {
                for transaction in flood {
                    sender.send(transaction).unwrap();
                }
                std::thread::sleep(Duration::from_millis(300));
                // The run may be over (one slot, already full): then nobody listens.
                let _ = sender.send(late);
            });
            let config = PipelineConfig {
                num_workers: 2,
                scheduler: SchedulerKind::PrioGraph,
                slot_duration: Duration::from_millis(1_500),
                max_slots: Some(1),
                pacing,
                block_limits: BlockLimits {
                    block_units: 50 * cost + cost / 2,
                    ..BlockLimits::default()
                },
                ..PipelineConfig::default()
            };
            let output =
                run_pipeline(genesis, Arc::clone(&programs), &config, receiver, |_| {}).unwrap();
            feeder.join().unwrap();
            output.blocks[0]
                .entries
                .iter()
                .flat_map(|entry| &entry.transactions)
                .any(|transaction| *transaction.signature() == late_signature)
        };
        assert!(
            block_of(Some(Duration::from_millis(1_200))),
            "paced: room in the first block"
        );
        assert!(!block_of(None), "unpaced: the flood filled the first block");
    }
}

/// Parked transactions are never stranded: an account stays stuck only while something in
/// flight holds it, so its parked queue comes back even if every transaction that could
/// have freed it is gone from the buffer.
#[test]
fn parked_transactions_come_back_when_nothing_holds_their_account() {
    let (a, b, c) = (
        Pubkey::new_unique(),
        Pubkey::new_unique(),
        Pubkey::new_unique(),
    );
    let mut scheduler = PrioGraphScheduler::new(2, u64::MAX);
    let mut container = TransactionContainer::with_capacity(1_000);
    container.insert(tx(&[b]), 1_000);
    container.insert(tx(&[c]), 999);
    let (holders, _) = pass(&mut scheduler, &mut container);
    assert_eq!(holders.len(), 2, "b and c on two workers");
    // X needs a, b and c: it cannot go, so a, b and c are stuck, and the a-writers behind
    // it fill their share of the window; the rest are parked.
    container.insert(tx(&[a, b, c]), 500);
    for index in 0..400 {
        container.insert(tx(&[a]), 400 - index);
    }
    let (none, _) = pass(&mut scheduler, &mut container);
    assert!(none.is_empty());
    let parked = scheduler.held();
    assert!(parked > 0, "some a-writers are parked");
    // Everything buffered disappears (evicted by better arrivals, say), and b and c return.
    while container.pop_best().is_some() {}
    complete_all(&mut scheduler, holders, &mut container);
    let mut scheduled = 0;
    for _ in 0..10 {
        let (work, summary) = pass(&mut scheduler, &mut container);
        scheduled += summary.scheduled;
        complete_all(&mut scheduler, work, &mut container);
    }
    assert_eq!(scheduled, parked, "every parked transaction was scheduled");
    assert_eq!(scheduler.held(), 0);
    assert!(scheduler.is_idle());
}
