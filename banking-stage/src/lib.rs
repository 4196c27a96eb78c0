//! The leader's block-production pipeline and the validator's block replay: banks over
//! the account store, a central scheduler thread, N consume workers, slots that end in
//! blocks, block files, a parallel replayer on `unified-scheduler-logic`, and the
//! sequential replayer that is the reference for both.
//!
//! # The algorithm
//! Transactions arrive on a channel. The scheduler thread ([`run_pipeline`]) screens each
//! one ([`screen`]: sanitized, every program known, valid compute-budget instructions, a
//! cost an empty block could hold) and buffers it in a bounded [`TransactionContainer`],
//! best compute-unit price first (full, it drops the lowest).
//!
//! Then, until the slot ends, it runs scheduling passes. A [`Scheduler`] takes up to
//! `max_scan_per_pass` transactions best first and asks `scheduling-utils`' thread-aware
//! locks for a worker that may take each one: a transaction whose accounts one worker
//! already holds must go to that worker (its queue order serializes them); a free one goes
//! to the least-loaded worker ([`select_thread`]: units queued plus in flight, then
//! transactions, then lowest id), leaving out workers at their in-flight cap; one that
//! would need two workers waits. Two policies implement the trait:
//! * [`GreedyScheduler`] places each transaction as it comes; a cheap transaction may
//!   overtake a blocked valuable one on the account they share.
//! * [`PrioGraphScheduler`] looks ahead over a window (256) of the best transactions as a
//!   dependency graph and keeps priority order per account: a transaction it cannot place
//!   holds back every lower-priority transaction that conflicts with it (the priority
//!   guard). It parks transactions that pile up behind a stuck hot account, so they cannot
//!   fill the window and starve the other accounts (see its doc for the design).
//!
//! Batches of up to [`MAX_BATCH_SIZE`] go to per-worker channels as [`ConsumeWork`]; an
//! [`InFlightTracker`] counts each worker's units and transactions. Block fill can be
//! paced ([`PipelineConfig::pacing`], `scheduling-utils`' `CostPacer`): each pass may
//! schedule only what the pacer has released so far, so a valuable transaction that
//! arrives late in the slot still finds room. The scheduler also keeps at most one
//! transaction per signature in the pipeline: the bank's already-processed check runs
//! before the commit, so two copies on two workers could otherwise both pass it.
//!
//! A consume worker ([`Consumer::consume`]) reserves each transaction's cost in the block
//! ([`CostTracker`]: 60M units per block, 12M per writable account, 100 MB of new data),
//! takes the execution-level [`AccountLocks`](accounts_db_lite::AccountLocks) for the
//! batch, loads and executes it with `svm-lite`, commits it into the slot's [`Bank`],
//! settles the cost with the units used, records the committed transactions as one
//! [`Entry`], releases the locks and answers with a [`FinishedConsumeWork`]: one
//! [`TransactionOutcome`] per transaction. The scheduler unlocks exactly what the batch
//! held, puts `AccountInUse` transactions straight back, keeps cost-limited ones for the
//! next slot, and counts drops by [`DropReason`].
//!
//! A slot ends at its deadline (400 ms), when a transaction does not fit in the block's
//! cost limit, or when no transaction is left; the scheduler then waits for every batch in
//! flight, the bank freezes, and a [`Block`] (slot, parent hash, entries, bank hash) comes
//! out with its [`SlotMetrics`], whose `Display` is the leader's slot report (outcomes,
//! drop reasons, each limit's use, worker idle share, the hottest accounts, why the slot
//! ended). The next slot's bank builds on it.
//!
//! # Ledger
//! With a [`Ledger`] ([`PipelineConfig::ledger`], the program's `--ledger DIR`), each block
//! is made durable as its own file before its bank commits the slot to the durable account
//! store; [`Ledger::open`] reopens both and [`Bank::resume`] rebuilds the last frozen bank
//! (blockhashes, status cache, bank hash checked against the last block), so production
//! continues from the last committed slot after a crash.
//!
//! # Replay
//! [`BlockReplayer`] replays a block on `N` workers: the calling thread checks what needs
//! no execution (parent hash, no signature twice, nothing already processed, blockhashes
//! recent or durable nonces), hands the block to a scheduler thread (where every thread has
//! a core, before those checks, so that both run at once) and starts running it in order
//! while that thread checks it. The scheduler thread learns which accounts the block contests (written by one of
//! its transactions and touched by another; the others order nothing) and measures the
//! block's longest conflict chain along them: a block with less than
//! [`MIN_PARALLELISM`] transactions per link stays with the calling thread, which runs it
//! to the end; otherwise the scheduler takes over where the calling thread stopped. It
//! creates a task for each transaction that touches a contested account, with those
//! accounts only (each resolved to its usage queue through a cache kept across blocks,
//! which only that thread touches), and feeds it to the FIFO `SchedulingStateMachine` it
//! owns; a transaction that touches none is independent and gets no task, and one whose
//! contested accounts were all last touched by a task still waiting joins that task (it
//! runs right after it, in the same batch). Runnable tasks, then independent
//! transactions, go to channels all workers read, in handoffs of a share per worker (at
//! most [`MAX_TASKS_PER_HANDOFF`] tasks with their followers, and, where threads have
//! cores to spin on, about 12 µs of measured work), a task that had to wait for an
//! account first; a worker runs a handoff (its tasks mutually conflict-free, each task's
//! followers right after it) in order as one `svm-lite` batch with one commit, and sends
//! it back; descheduling its tasks hands their accounts to the next tasks in block order.
//! The scheduler thread and the workers are started with the first
//! block and kept until the replayer is dropped; they wait with a [`SpinWait`]. With one
//! worker every block runs in order on the calling thread. The bank hash must equal the
//! block's ([`ReplayError::HashMismatch`] names the slot and both hashes). Per block,
//! [`ReplayMetrics`] gives the wall time, the total work, the critical path (the longest
//! chain of conflicting transactions weighted by their measured times) and the
//! efficiency against `max(total work / workers, critical path)`. [`replay_sequentially`]
//! runs the entries in order on one thread. [`Chain`] reads and writes block files
//! (versioned, checksummed, postcard-encoded, a typed [`BlockFileError`] for each way a
//! file can be bad), and [`chrome_trace_json`] turns a replay's or a production run's
//! schedule into a trace Perfetto opens.
//!
//! # Invariants
//! * **The entries are a serial order.** A worker records an entry before it releases the
//!   entry's locks, so two conflicting transactions are recorded in the order they ran;
//!   non-conflicting ones commute. [`replay_sequentially`] therefore reaches the leader's
//!   bank hash, for any number of workers and any timing.
//! * **Lamports are conserved:** the sum over all accounts plus every bank's collected
//!   fees never changes.
//! * **Every transaction is accounted for:** committed, dropped with a reason, or still
//!   buffered when the run stops.
//! * **Nothing leaks:** after every batch, the worker has released its locks and its
//!   unsettled cost reservations (a guard does it, even when execution panics); after
//!   every slot, the scheduler's locks are empty.
//! * **A transaction is committed at most once:** its signature enters the status cache
//!   in the commit, and the bank's check refuses one already there.
//! * **A frozen bank accepts no commit:** the scheduler drains in-flight work before it
//!   freezes, and [`Bank::freeze`] waits for commits in progress.
//!
//! # Costs
//! The scheduler thread does O(accounts) hash-table work per transaction per pass (the
//! prio-graph adds the graph's edges and a heap, O(accounts + log window)); a worker takes
//! a few short mutexes per batch (the cost tracker twice, the execution locks twice, the
//! recorder once) besides the store's own, so contention stays per batch, not per
//! transaction. Measured (`cargo bench -p benches
//! --bench banking_stage`, 16K transactions, 4 workers answering at once): about 2.3M
//! transactions per second for the greedy scheduler and about 1M for the prio-graph
//! scheduler on this project's 2-core machines.
//!
//! # Seams
//! [`Scheduler`] is the policy seam ([`run_pipeline_with_scheduler`] runs a caller's own);
//! the programs are `svm-lite`'s `ProgramRegistry`; the store is `accounts-db-lite`'s.

mod bank;
mod block;
mod block_file;
mod block_replayer;
mod blockhash_queue;
mod consume_worker;
mod cost_model;
mod cost_tracker;
mod critical_path;
mod greedy_scheduler;
mod in_flight_tracker;
mod ledger;
mod messages;
mod metrics;
mod pipeline;
mod placement;
mod prio_graph;
mod prio_graph_scheduler;
mod scheduler;
mod scheduler_controller;
mod sequential_replay;
mod spin_wait;
mod status_cache;
mod trace;
mod transaction_container;
pub mod workload;

pub use bank::{Bank, BankConfig, BankError, CommitSummary};
pub use block::{Block, Entry, WorkingSlot};
pub use block_file::{
    BLOCK_FILE_MAGIC, BLOCK_FILE_VERSION, BlockFileError, Chain, MAX_BLOCK_FILE_PAYLOAD,
};
pub use block_replayer::{
    BlockReplayer, MAX_CACHED_USAGE_QUEUES, MAX_TASKS_PER_HANDOFF, MIN_PARALLELISM, ReplayMetrics,
    ReplayTask, Takeover, TransactionTiming, available_parallelism,
};
pub use blockhash_queue::BlockhashQueue;
pub use consume_worker::{ConsumeRequest, Consumer, TraceSink, run_consume_worker};
pub use cost_model::{
    INSTRUCTION_DATA_BYTES_PER_UNIT, SIGNATURE_COST, TransactionCost, WRITE_LOCK_UNITS,
};
pub use cost_tracker::{
    CostTracker, CostTrackerError, MAX_BLOCK_ACCOUNTS_DATA_SIZE_DELTA, MAX_BLOCK_UNITS,
    MAX_WRITABLE_ACCOUNT_UNITS,
};
pub use greedy_scheduler::GreedyScheduler;
pub use in_flight_tracker::InFlightTracker;
pub use ledger::{Ledger, LedgerError};
pub use messages::{
    BufferedTransaction, ConsumeWork, DropReason, FinishedConsumeWork, RetryReason,
    TransactionOutcome,
};
pub use metrics::{DropCounts, SchedulingTotals, SlotEndReason, SlotMetrics, TOP_ACCOUNTS};
pub use pipeline::{
    BlockLimits, MAX_WORKERS, PipelineConfig, PipelineError, PipelineOutput, SchedulerKind,
    run_pipeline, run_pipeline_with_scheduler,
};
pub use placement::{MAX_BATCH_SIZE, select_thread};
pub use prio_graph_scheduler::{
    DEFAULT_LOOK_AHEAD_WINDOW, HOT_ACCOUNT_WINDOW_LIMIT, PrioGraphScheduler,
};
pub use scheduler::{Scheduler, SchedulingSummary};
pub use scheduler_controller::screen;
pub use sequential_replay::{ReplayError, prepare_block, replay_sequentially};
pub use spin_wait::{SPIN_BUDGET, SpinWait};
pub use status_cache::StatusCache;
pub use trace::{TraceSlice, TraceWhat, chrome_trace_json, replay_trace};
pub use transaction_container::{Inserted, TransactionContainer, TransactionId};
