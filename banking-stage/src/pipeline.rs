//! `run_pipeline`: the leader's block-production loop: a scheduler thread, N consume
//! workers, and one slot after another.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use accounts_db_lite::{AccountLocks, Slot};
use crossbeam_channel::{Receiver, unbounded};
use sdk_lite::Transaction;
use svm_lite::ProgramRegistry;
use thiserror::Error;

use crate::bank::{Bank, BankError};
use crate::block::{Block, WorkingSlot};
use crate::consume_worker::{Consumer, TraceSink, run_consume_worker};
use crate::cost_tracker::{
    CostTracker, MAX_BLOCK_ACCOUNTS_DATA_SIZE_DELTA, MAX_BLOCK_UNITS, MAX_WRITABLE_ACCOUNT_UNITS,
};
use crate::greedy_scheduler::GreedyScheduler;
use crate::ledger::{Ledger, LedgerError};
use crate::metrics::{DropCounts, SlotMetrics, TOP_ACCOUNTS};
use crate::prio_graph_scheduler::PrioGraphScheduler;
use crate::scheduler::Scheduler;
use crate::scheduler_controller::SchedulerController;
use crate::trace::TraceSlice;
use scheduling_utils::CostPacer;

/// The most workers a pipeline may have (the thread-aware locks' limit).
pub const MAX_WORKERS: usize = 64;

/// Which scheduling policy the scheduler thread runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SchedulerKind {
    /// [`GreedyScheduler`].
    #[default]
    Greedy,
    /// [`PrioGraphScheduler`] with its default window and hot-account limit.
    PrioGraph,
}

/// A block's cost limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockLimits {
    /// Cost units per block.
    pub block_units: u64,
    /// Cost units per writable account per block.
    pub account_units: u64,
    /// New account data per block, in bytes.
    pub account_data_bytes: u64,
}

impl Default for BlockLimits {
    fn default() -> Self {
        Self {
            block_units: MAX_BLOCK_UNITS,
            account_units: MAX_WRITABLE_ACCOUNT_UNITS,
            account_data_bytes: MAX_BLOCK_ACCOUNTS_DATA_SIZE_DELTA,
        }
    }
}

impl BlockLimits {
    fn tracker(&self) -> CostTracker {
        CostTracker::new(
            self.block_units,
            self.account_units,
            self.account_data_bytes,
        )
    }
}

/// How the pipeline runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineConfig {
    /// Consume workers (1..=64).
    pub num_workers: usize,
    /// The scheduling policy.
    pub scheduler: SchedulerKind,
    /// A slot's time (Solana: 400 ms).
    pub slot_duration: Duration,
    /// Stop after this many slots even if transactions remain (`None`: run until the
    /// input is closed and everything buffered is done).
    pub max_slots: Option<u64>,
    /// Transactions the scheduler buffers at most.
    pub buffer_capacity: usize,
    /// Transactions one scheduling pass looks at, at most.
    pub max_scan_per_pass: usize,
    /// Estimated compute units in flight per worker, at most.
    pub max_in_flight_units_per_worker: u64,
    /// The block's cost limits.
    pub block_limits: BlockLimits,
    /// Block fill pacing: the block's units are released to the scheduler evenly over
    /// this long from the start of each slot, so that a valuable transaction arriving
    /// late still finds room (`None`: all at once).
    pub pacing: Option<Duration>,
    /// Record a trace: a slice per executed transaction and per commit, per worker
    /// ([`PipelineOutput::trace`]).
    pub trace: bool,
    /// Write each block to this ledger before its slot is committed to the (durable)
    /// store, so a restart resumes from the last committed slot ([`Ledger::open`]).
    pub ledger: Option<Arc<Ledger>>,
}

impl PipelineConfig {
    /// Checks that the settings let the pipeline make progress.
    ///
    /// # Errors
    /// The first setting that would not.
    pub fn validate(&self) -> Result<(), PipelineError> {
        let invalid = |setting, reason| Err(PipelineError::InvalidSetting { setting, reason });
        if !(1..=MAX_WORKERS).contains(&self.num_workers) {
            return Err(PipelineError::WorkerCount(self.num_workers));
        }
        if self.slot_duration.is_zero() {
            return invalid("slot_duration", "a slot needs some time");
        }
        if self.max_slots == Some(0) {
            return invalid("max_slots", "at least one slot");
        }
        if self.buffer_capacity == 0 {
            return invalid("buffer_capacity", "the buffer must hold a transaction");
        }
        if self.max_scan_per_pass == 0 {
            return invalid("max_scan_per_pass", "a pass must look at a transaction");
        }
        if self.max_in_flight_units_per_worker == 0 {
            return invalid(
                "max_in_flight_units_per_worker",
                "a worker must be allowed some work",
            );
        }
        if self.block_limits.block_units == 0 || self.block_limits.account_units == 0 {
            return invalid("block_limits", "a block must hold some units");
        }
        Ok(())
    }
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            num_workers: 4,
            scheduler: SchedulerKind::Greedy,
            slot_duration: Duration::from_millis(400),
            max_slots: None,
            buffer_capacity: 100_000,
            max_scan_per_pass: 1_000,
            max_in_flight_units_per_worker: 2_000_000,
            block_limits: BlockLimits::default(),
            pacing: None,
            trace: false,
            ledger: None,
        }
    }
}

/// Why the pipeline could not run.
#[derive(Debug, Error)]
pub enum PipelineError {
    /// The worker count is out of range.
    #[error("{0} workers: a pipeline has 1 to {MAX_WORKERS}")]
    WorkerCount(usize),
    /// A setting that would let nothing be scheduled.
    #[error("invalid pipeline setting {setting}: {reason}")]
    InvalidSetting {
        /// The [`PipelineConfig`] field.
        setting: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The scheduler was built for another number of workers.
    #[error("the scheduler schedules for {scheduler} workers, the pipeline has {pipeline}")]
    SchedulerWorkers {
        /// The scheduler's worker count.
        scheduler: usize,
        /// The configured worker count.
        pipeline: usize,
    },
    /// The parent bank is not frozen.
    #[error("the starting bank of slot {0} is not frozen")]
    ParentNotFrozen(Slot),
    /// A bank refused an operation.
    #[error(transparent)]
    Bank(#[from] BankError),
    /// The ledger could not take a block.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// What a run produced.
#[derive(Debug)]
pub struct PipelineOutput {
    /// The blocks, in slot order.
    pub blocks: Vec<Block>,
    /// Per-slot metrics, in slot order.
    pub slots: Vec<SlotMetrics>,
    /// The last frozen bank.
    pub last_bank: Arc<Bank>,
    /// Transactions still buffered when the run stopped.
    pub still_buffered: u64,
    /// Execution-level locks still held after the workers stopped (0 unless a bug).
    pub leftover_account_locks: usize,
    /// The schedule, if [`PipelineConfig::trace`] asked for it (time from the start of
    /// the run).
    pub trace: Vec<TraceSlice>,
}

impl PipelineOutput {
    /// Transactions received in all slots.
    pub fn received(&self) -> u64 {
        self.slots.iter().map(|slot| slot.received).sum()
    }

    /// Transactions committed in all slots.
    pub fn committed(&self) -> u64 {
        self.slots.iter().map(|slot| slot.committed).sum()
    }

    /// Drops by reason over all slots.
    pub fn dropped(&self) -> DropCounts {
        let mut total = DropCounts::default();
        for slot in &self.slots {
            total.merge(&slot.dropped);
        }
        total
    }
}

/// Runs the leader pipeline from the frozen bank `parent`: transactions arrive on `input`;
/// one slot after another, the scheduler thread (this thread) buffers and schedules them
/// onto `config.num_workers` consume workers, and each slot ends in a [`Block`]. Stops when
/// `input` is closed and drained, or after `config.max_slots` slots. `on_slot` sees each
/// slot's metrics as it ends (for progress reports).
///
/// # Errors
/// A bad configuration, or an unfrozen parent.
pub fn run_pipeline(
    parent: Arc<Bank>,
    programs: Arc<ProgramRegistry>,
    config: &PipelineConfig,
    input: Receiver<Transaction>,
    on_slot: impl FnMut(&SlotMetrics),
) -> Result<PipelineOutput, PipelineError> {
    // Before a scheduler is built for an invalid worker count.
    config.validate()?;
    let scheduler: Box<dyn Scheduler> = match config.scheduler {
        SchedulerKind::Greedy => Box::new(GreedyScheduler::new(
            config.num_workers,
            config.max_in_flight_units_per_worker,
        )),
        SchedulerKind::PrioGraph => Box::new(PrioGraphScheduler::new(
            config.num_workers,
            config.max_in_flight_units_per_worker,
        )),
    };
    run_pipeline_with_scheduler(parent, programs, config, scheduler, input, on_slot)
}

/// [`run_pipeline`] with a caller's own scheduling policy (`config.scheduler` is ignored).
/// `scheduler` must have been built for `config.num_workers` workers.
///
/// # Errors
/// A bad configuration, or an unfrozen parent.
pub fn run_pipeline_with_scheduler(
    parent: Arc<Bank>,
    programs: Arc<ProgramRegistry>,
    config: &PipelineConfig,
    scheduler: Box<dyn Scheduler>,
    input: Receiver<Transaction>,
    mut on_slot: impl FnMut(&SlotMetrics),
) -> Result<PipelineOutput, PipelineError> {
    config.validate()?;
    if scheduler.num_workers() != config.num_workers {
        return Err(PipelineError::SchedulerWorkers {
            scheduler: scheduler.num_workers(),
            pipeline: config.num_workers,
        });
    }
    if parent.hash().is_none() {
        return Err(PipelineError::ParentNotFrozen(parent.slot()));
    }
    let account_locks = Arc::new(Mutex::new(AccountLocks::default()));
    let trace = config.trace.then(|| Arc::new(TraceSink::new()));
    let mut consumer = Consumer::new(Arc::clone(&programs), Arc::clone(&account_locks));
    if let Some(trace) = &trace {
        consumer = consumer.with_trace(Arc::clone(trace));
    }
    let (finished_sender, finished_receiver) = unbounded();
    let mut worker_senders = Vec::with_capacity(config.num_workers);
    let mut worker_receivers = Vec::with_capacity(config.num_workers);
    for _ in 0..config.num_workers {
        let (sender, receiver) = unbounded();
        worker_senders.push(sender);
        worker_receivers.push(receiver);
    }
    let mut controller = SchedulerController::new(
        scheduler,
        config.buffer_capacity,
        input,
        worker_senders,
        finished_receiver,
        Arc::clone(&programs),
        config.block_limits.tracker(),
        config.max_scan_per_pass,
    );

    let result = std::thread::scope(|scope| {
        for (index, receiver) in worker_receivers.into_iter().enumerate() {
            let consumer = consumer.clone();
            let finished = finished_sender.clone();
            std::thread::Builder::new()
                .name(format!("consume-{index}"))
                .spawn_scoped(scope, move || {
                    run_consume_worker(&consumer, &receiver, &finished)
                })
                .expect("invariant: the OS can start a worker thread");
        }
        drop(finished_sender);
        let result = produce_slots(parent, &mut controller, config, &mut on_slot);
        // Closing the workers' channels ends their loops; the scope joins them.
        drop(controller);
        result
    });
    let (blocks, slots, last_bank, still_buffered) = result?;
    let leftover_account_locks = account_locks
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .len();
    Ok(PipelineOutput {
        blocks,
        slots,
        last_bank,
        still_buffered,
        leftover_account_locks,
        trace: trace.map(|sink| sink.take()).unwrap_or_default(),
    })
}

type Produced = (Vec<Block>, Vec<SlotMetrics>, Arc<Bank>, u64);

/// A slot's cost tracker, read once at its end.
struct LimitsUsed {
    block_cost: u64,
    block_cost_limit: u64,
    max_account_cost: u64,
    account_cost_limit: u64,
    top_accounts: Vec<(sdk_lite::Pubkey, u64)>,
    allocated_data: u64,
    allocated_data_limit: u64,
}

fn produce_slots(
    mut parent: Arc<Bank>,
    controller: &mut SchedulerController,
    config: &PipelineConfig,
    on_slot: &mut impl FnMut(&SlotMetrics),
) -> Result<Produced, PipelineError> {
    let mut blocks = Vec::new();
    let mut slots = Vec::new();
    loop {
        if config
            .max_slots
            .is_some_and(|max| slots.len() as u64 >= max)
            || (!slots.is_empty() && controller.is_done())
        {
            break;
        }
        let start = Instant::now();
        let bank = Arc::new(Bank::new_from_parent(&parent, parent.slot() + 1)?);
        let working = Arc::new(WorkingSlot::new(
            Arc::clone(&bank),
            config.block_limits.tracker(),
        ));
        let pacer = CostPacer::new(config.block_limits.block_units, start, config.pacing);
        let (activity, end_reason) =
            controller.run_slot(&working, start + config.slot_duration, &pacer);
        let bank_hash = bank.freeze();
        let block = Block {
            slot: bank.slot(),
            parent_hash: bank.parent_hash(),
            entries: working.take_entries(),
            bank_hash,
        };
        // The block is durable before its slot is (see `ledger`): every committed slot
        // has its block.
        if let Some(ledger) = &config.ledger {
            ledger.append_block(&block)?;
        }
        // A durable store makes the slot durable now (a no-op in memory).
        bank.persist()?;
        let limits_used = working.with_cost_tracker(|tracker| LimitsUsed {
            block_cost: tracker.block_cost(),
            block_cost_limit: tracker.block_cost_limit(),
            max_account_cost: tracker.max_account_cost(),
            account_cost_limit: tracker.account_cost_limit(),
            top_accounts: tracker.top_accounts(TOP_ACCOUNTS),
            allocated_data: tracker.allocated_accounts_data_size(),
            allocated_data_limit: tracker.account_data_size_limit(),
        });
        let metrics = SlotMetrics {
            slot: bank.slot(),
            received: activity.received,
            buffered: controller.waiting() as u64,
            scheduling: activity.scheduling,
            retried_account_in_use: activity.retried_account_in_use,
            retried_next_slot: activity.retried_next_slot,
            committed: activity.committed,
            succeeded: activity.succeeded,
            dropped: activity.dropped,
            compute_units: activity.compute_units,
            fees: bank.collected_fees(),
            block_cost: limits_used.block_cost,
            block_cost_limit: limits_used.block_cost_limit,
            max_account_cost: limits_used.max_account_cost,
            account_cost_limit: limits_used.account_cost_limit,
            top_accounts: limits_used.top_accounts,
            allocated_data: limits_used.allocated_data,
            allocated_data_limit: limits_used.allocated_data_limit,
            worker_busy: activity
                .worker_busy_ns
                .iter()
                .map(|&ns| Duration::from_nanos(ns))
                .collect(),
            elapsed: start.elapsed(),
            end_reason,
            bank_hash,
        };
        log::debug!(
            "slot {} ended ({end_reason}): {} committed, bank hash {bank_hash}",
            metrics.slot,
            metrics.committed
        );
        on_slot(&metrics);
        blocks.push(block);
        slots.push(metrics);
        parent = bank;
    }
    let still_buffered = controller.waiting() as u64;
    Ok((blocks, slots, parent, still_buffered))
}
