//! A deterministic scheduling state machine that sorts transactions into an order in which
//! they can run in parallel: per-address FIFO queues for replay, per-address priority queues
//! for block production.
//!
//! # The one type and its protocol
//! [`SchedulingStateMachine`] takes tasks (transactions) in and hands back those that may
//! run now; tasks it hands back never conflict with each other or with anything still
//! running (a write to an address excludes every other use of it). When the caller reports
//! a task done with [`deschedule_task`](SchedulingStateMachine::deschedule_task), the
//! tasks waiting for its addresses move up, and those that now hold everything come out of
//! [`schedule_next_unblocked_task`](SchedulingStateMachine::schedule_next_unblocked_task).
//!
//! ```
//! use std::collections::HashMap;
//! use unified_scheduler_logic::{Capability, RequestedUsage::*, SchedulingStateMachine, UsageQueue};
//!
//! // SAFETY: this thread is the only one that schedules these tasks.
//! let mut scheduler = unsafe {
//!     SchedulingStateMachine::exclusively_initialize_current_thread_for_scheduling(
//!         Capability::FifoQueueing,
//!         None,
//!     )
//! };
//! let mut queues = HashMap::new();
//! let mut loader = |address: &'static str| {
//!     queues.entry(address).or_insert_with(|| UsageQueue::new(Capability::FifoQueueing)).clone()
//! };
//! let pay = SchedulingStateMachine::create_task("alice pays bob", 0, [("alice", Writable), ("bob", Writable)], &mut loader);
//! let read = SchedulingStateMachine::create_task("carol reads bob", 1, [("carol", Writable), ("bob", Readonly)], &mut loader);
//!
//! let running = scheduler.schedule_task(pay).expect("nothing else uses alice or bob");
//! assert!(scheduler.schedule_task(read).is_none(), "bob is being written");
//! scheduler.deschedule_task(&running);
//! let next = scheduler.schedule_next_unblocked_task().expect("bob is free now");
//! assert_eq!(*next.payload(), "carol reads bob");
//! scheduler.deschedule_task(&next);
//! assert!(scheduler.has_no_active_task());
//! ```
//!
//! # The algorithm
//! Every address has a [`UsageQueue`]: its *current usage* (unused, read by `n` tasks, or
//! written by one) and the usages *waiting* for it.
//!
//! **Scheduling** a task walks its addresses once. An address it can use now (FIFO: nobody
//! waits and the current usage is compatible) is taken immediately, even if another of the
//! task's addresses is not: locks are taken *gradually*, so a task never retries and never
//! holds up the walk. On every other address the task joins the waiting line, and the
//! number of such addresses becomes its *blocked count*. A task with blocked count 0 is
//! runnable.
//!
//! **Descheduling** a task walks its addresses once more and releases each. An address
//! that becomes free (its writer left, or its last reader) is granted at once to the first
//! waiting usage, whose task's blocked count drops by one; if that usage reads, the readers
//! queued right behind it are granted too. A task whose count reaches 0 joins the unblocked
//! queue, in the order of unblocking.
//!
//! So the grant order per address is the arrival order (FIFO mode), a reader never
//! overtakes a waiting writer, and the result equals running the tasks one by one in
//! arrival order: exactly what replay needs. There is no retry loop anywhere, which is what
//! keeps the cost linear.
//!
//! **Priority mode** ([`Capability::PriorityQueueing`]) orders each address's waiting line
//! by task id instead (smaller first), and lets a newcomer rearrange the address *as if it
//! had arrived in id order*: it takes the address from lower-priority holders that are not
//! running yet (they wait again: *reblocking*; a task that holds all its addresses may be
//! running and keeps them). Done on every address of every newcomer, this keeps the
//! invariant of FIFO mode with "arrival" read as "id order", so nothing can deadlock.
//!
//! # Invariants
//! * No two running tasks conflict on an address.
//! * A task's blocked count equals the number of usage queues in which it waits.
//! * FIFO mode: each address is granted in arrival order; priority mode: in ascending id
//!   among tasks not yet running.
//! * With no active task, every usage queue is unused and empty and no task references it,
//!   so queues can be cached across blocks, and [`reinitialize`] needs no cleanup.
//! * The number of running tasks never exceeds `max_running_task_count`.
//!
//! # Costs
//! On the scheduler thread, per address of a task: a pointer chase to the queue and a few
//! word-sized loads and stores, for scheduling and again for descheduling; no hashing (the
//! address → queue lookup happened in [`create_task`](SchedulingStateMachine::create_task),
//! which any thread may call), no system call, no lock; in FIFO mode no atomic operation unless
//! the task must wait (one `Arc` clone). Priority mode keeps the holders themselves, so it
//! clones the task's `Arc` per address and the first reader of an address allocates its
//! reader map. The FIFO waiting line is a `VecDeque`; the priority one
//! appends ascending ids in O(1) and falls back to a binary heap for the rest.
//!
//! Measured against Agave's `solana-unified-scheduler-logic` 4.2.2 on the same workloads,
//! interleaved in one process (`cargo run --release --manifest-path
//! benches/agave-compare/Cargo.toml unified-scheduler`): schedule plus deschedule of a
//! 10-account task takes about 0.25-0.35x of Agave's time in FIFO mode and 0.3-0.45x in
//! priority mode; a 10,000-task chain on 10 accounts 0.2x (FIFO) and 0.12-0.3x (priority).
//!
//! **Keep the payload small.** A long chain of blocked tasks is bound by memory traffic,
//! not by this code: each task is touched a few times while it waits. With the transaction
//! inline in the task (392 bytes, as Agave's tasks carry it), the FIFO 10-account chain
//! rises to 0.8-1.0x of Agave's. Use `P = Arc<Transaction>` (or a `Box`, or an index) for
//! large transactions.
//!
//! # `TokenCell`
//! The state of a usage queue is shared (every task using the address holds an `Arc` to
//! it, and tasks cross threads) yet only ever mutated by the scheduler thread. Instead of a
//! lock, each queue is a [`TokenCell`]: an `UnsafeCell` that can be borrowed only with the
//! scheduler thread's zero-sized [`Token`], minted once by the `unsafe` constructor whose
//! caller promises that no other thread borrows the same cells. The borrow checker then
//! proves the rest (see [`TokenCell`]'s soundness argument); Miri checks it in CI.
//!
//! # What it does not know
//! Banks, slots, accounts, transactions, threads, channels: the payload `P` is opaque and
//! the address type `K` is anything the caller's loader accepts. It depends on no other
//! crate of this project. That is what makes it deterministic and testable in isolation;
//! the replay stage wraps it with threads and channels.
//!
//! [`reinitialize`]: SchedulingStateMachine::reinitialize

mod capability;
mod priority_blocked_queue;
mod short_counter;
mod state_machine;
mod task;
mod token_cell;
mod usage_queue;

pub use capability::Capability;
pub use short_counter::ShortCounter;
pub use state_machine::SchedulingStateMachine;
pub use task::{LockContext, OrderedTaskId, RequestedUsage, Task, TaskInner};
pub use token_cell::{Token, TokenCell};
pub use usage_queue::{UsageQueue, UsageQueueState};
