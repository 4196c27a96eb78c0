//! Scenario tests: one behaviour each, named after it, run in both modes (FIFO and priority
//! queueing) wherever the behaviour is the same. Small enough for Miri.
//!
//! Each test ends with no active task: in priority mode a usage queue and the tasks holding
//! it refer to each other, so a test that stopped half-way would leak them and Miri (which
//! runs these tests in CI) would report it.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Arc;

use unified_scheduler_logic::{
    Capability, OrderedTaskId,
    RequestedUsage::{self, Readonly, Writable},
    SchedulingStateMachine, Task, TaskInner, UsageQueue,
};

use crate::common::{Counts, Harness, both_modes};

both_modes!(new_machine_is_idle);
fn new_machine_is_idle(capability: Capability) {
    let h = Harness::new(capability);
    assert_eq!(h.sm.capability(), capability);
    assert_eq!(h.counts(), Counts::default());
    assert!(h.sm.has_no_active_task());
    assert!(h.sm.has_no_running_task());
    assert!(!h.sm.has_unblocked_task());
    assert!(!h.sm.has_runnable_task());
}

both_modes!(create_task_keeps_payload_id_and_lock_requests);
fn create_task_keeps_payload_id_and_lock_requests(capability: Capability) {
    let alice = UsageQueue::<String>::new(capability);
    let bob = UsageQueue::<String>::new(capability);
    let requests = [
        ("alice", RequestedUsage::from_writable(true)),
        ("bob", RequestedUsage::from_writable(false)),
    ];
    let task = SchedulingStateMachine::create_task(
        "alice pays bob".to_owned(),
        3,
        requests,
        &mut |address| match address {
            "alice" => alice.clone(),
            "bob" => bob.clone(),
            other => unreachable!("not requested: {other}"),
        },
    );
    assert_eq!(task.payload(), "alice pays bob");
    assert_eq!(task.task_id(), 3);
    let [first, second] = task.lock_contexts() else {
        panic!("two lock requests, in the order given");
    };
    assert_eq!(first.requested_usage(), Writable);
    assert!(first.usage_queue().ptr_eq(&alice));
    assert_eq!(second.requested_usage(), Readonly);
    assert!(second.usage_queue().ptr_eq(&bob));
    assert!(!first.usage_queue().ptr_eq(&bob));
    // The cache's handle plus the task's.
    assert_eq!(alice.handle_count(), 2);

    let clone = Arc::clone(&task);
    let task = TaskInner::try_into_payload(task).expect_err("another handle is alive");
    drop(clone);
    let payload = TaskInner::try_into_payload(task).expect("the last handle");
    assert_eq!(payload, "alice pays bob");
    assert_eq!((alice.handle_count(), bob.handle_count()), (1, 1));
}

both_modes!(non_conflicting_tasks_run_at_once);
fn non_conflicting_tasks_run_at_once(capability: Capability) {
    let mut h = Harness::new(capability);
    // Both read "config": reads do not conflict.
    let t1 = h.task(101, &[("alice", Writable), ("config", Readonly)]);
    let t2 = h.task(102, &[("bob", Writable), ("config", Readonly)]);

    assert_eq!(h.schedule(&t1), Some(101));
    #[rustfmt::skip]
    assert_eq!(h.counts(), Counts { total: 1, active: 1, running: 1, ..Counts::default() });
    assert_eq!(h.schedule(&t2), Some(102));
    #[rustfmt::skip]
    assert_eq!(h.counts(), Counts { total: 2, active: 2, running: 2, ..Counts::default() });
    assert!(!h.sm.has_no_active_task());
    assert!(!h.sm.has_no_running_task());
    assert_eq!((h.blocked(&t1), h.blocked(&t2)), (0, 0));

    h.sm.deschedule_task(&t1);
    #[rustfmt::skip]
    assert_eq!(h.counts(), Counts { total: 2, active: 1, running: 1, handled: 1, ..Counts::default() });
    h.sm.deschedule_task(&t2);
    #[rustfmt::skip]
    assert_eq!(h.counts(), Counts { total: 2, handled: 2, ..Counts::default() });
    assert!(h.sm.has_no_active_task());
    h.assert_all_queues_unused();
}

both_modes!(conflicting_tasks_run_one_after_another);
fn conflicting_tasks_run_one_after_another(capability: Capability) {
    let mut h = Harness::new(capability);
    let t1 = h.task(101, &[("payer", Writable)]);
    let t2 = h.task(102, &[("payer", Writable)]);
    let t3 = h.task(103, &[("payer", Writable)]);

    assert_eq!(h.schedule(&t1), Some(101));
    assert_eq!(h.schedule(&t2), None);
    #[rustfmt::skip]
    assert_eq!(h.counts(), Counts { total: 2, active: 2, running: 1, ..Counts::default() });
    assert_eq!(h.blocked(&t2), 1);
    assert!(!h.sm.has_unblocked_task());

    h.sm.deschedule_task(&t1);
    #[rustfmt::skip]
    assert_eq!(h.counts(), Counts { total: 2, active: 1, handled: 1, queued: 1, ..Counts::default() });
    assert_eq!(h.blocked(&t2), 0);
    assert!(h.sm.has_unblocked_task());
    assert!(h.sm.has_runnable_task());

    assert_eq!(h.next(), Some(102));
    #[rustfmt::skip]
    assert_eq!(h.counts(), Counts { total: 2, active: 1, running: 1, handled: 1, unblocked: 1, queued: 0 });
    // Nothing left to hand out: no effect on the counters.
    assert_eq!(h.next(), None);
    assert_eq!(h.counts().unblocked, 1);

    h.sm.deschedule_task(&t2);
    assert_eq!(h.schedule(&t3), Some(103));
    h.sm.deschedule_task(&t3);
    #[rustfmt::skip]
    assert_eq!(h.counts(), Counts { total: 3, handled: 3, unblocked: 1, ..Counts::default() });
    assert!(h.sm.has_no_active_task());
    h.assert_all_queues_unused();
}

both_modes!(existing_unblocked_task_then_new_task_waits_behind_it);
fn existing_unblocked_task_then_new_task_waits_behind_it(capability: Capability) {
    let mut h = Harness::new(capability);
    let t1 = h.task(101, &[("payer", Writable)]);
    let t2 = h.task(102, &[("payer", Writable)]);
    let t3 = h.task(103, &[("payer", Writable)]);

    assert_eq!(h.schedule(&t1), Some(101));
    assert_eq!(h.schedule(&t2), None);
    h.sm.deschedule_task(&t1);
    assert_eq!(h.counts().queued, 1);

    // t2 now holds "payer" (it is unblocked, not yet handed out): t3 waits behind it.
    assert_eq!(h.schedule(&t3), None);
    h.assert_queue("payer", Some(Writable), &[102], &[(103, Writable)]);
    assert_eq!(h.next(), Some(102));
    assert_eq!(h.next(), None);
    assert_eq!(h.counts().unblocked, 1);

    h.sm.deschedule_task(&t2);
    assert_eq!(h.next(), Some(103));
    h.sm.deschedule_task(&t3);
    #[rustfmt::skip]
    assert_eq!(h.counts(), Counts { total: 3, handled: 3, unblocked: 2, ..Counts::default() });
    h.assert_all_queues_unused();
}

both_modes!(readers_run_together);
fn readers_run_together(capability: Capability) {
    let mut h = Harness::new(capability);
    let t1 = h.task(101, &[("config", Readonly)]);
    let t2 = h.task(102, &[("config", Readonly)]);

    assert_eq!(h.schedule(&t1), Some(101));
    assert_eq!(h.schedule(&t2), Some(102));
    h.assert_queue("config", Some(Readonly), &[101, 102], &[]);
    #[rustfmt::skip]
    assert_eq!(h.counts(), Counts { total: 2, active: 2, running: 2, ..Counts::default() });

    h.sm.deschedule_task(&t1);
    h.assert_queue("config", Some(Readonly), &[102], &[]);
    assert_eq!(h.counts().queued, 0);
    h.sm.deschedule_task(&t2);
    #[rustfmt::skip]
    assert_eq!(h.counts(), Counts { total: 2, handled: 2, ..Counts::default() });
    h.assert_all_queues_unused();
}

both_modes!(several_readers_then_writer_waits_for_every_reader);
fn several_readers_then_writer_waits_for_every_reader(capability: Capability) {
    let mut h = Harness::new(capability);
    let r1 = h.task(101, &[("config", Readonly)]);
    let r2 = h.task(102, &[("config", Readonly)]);
    let r3 = h.task(103, &[("config", Readonly)]);
    let w = h.task(104, &[("config", Writable)]);

    for reader in [&r1, &r2, &r3] {
        assert!(h.schedule(reader).is_some());
    }
    assert_eq!(h.schedule(&w), None);
    h.assert_queue(
        "config",
        Some(Readonly),
        &[101, 102, 103],
        &[(104, Writable)],
    );

    h.sm.deschedule_task(&r2);
    assert_eq!(h.next(), None);
    h.sm.deschedule_task(&r1);
    assert_eq!(h.next(), None);
    assert_eq!(h.blocked(&w), 1);
    h.assert_queue("config", Some(Readonly), &[103], &[(104, Writable)]);

    h.sm.deschedule_task(&r3);
    h.assert_queue("config", Some(Writable), &[104], &[]);
    assert_eq!(h.next(), Some(104));
    h.sm.deschedule_task(&w);
    assert!(h.sm.has_no_active_task());
    h.assert_all_queues_unused();
}

both_modes!(readonly_then_writable_then_readonly_linearized);
fn readonly_then_writable_then_readonly_linearized(capability: Capability) {
    let mut h = Harness::new(capability);
    let r1 = h.task(101, &[("config", Readonly)]);
    let w2 = h.task(102, &[("config", Writable)]);
    let r3 = h.task(103, &[("config", Readonly)]);

    assert_eq!(h.schedule(&r1), Some(101));
    assert_eq!(h.schedule(&w2), None);
    // A reader never overtakes a waiting writer that comes before it.
    assert_eq!(h.schedule(&r3), None);
    h.assert_queue(
        "config",
        Some(Readonly),
        &[101],
        &[(102, Writable), (103, Readonly)],
    );
    assert_eq!(h.next(), None);

    h.sm.deschedule_task(&r1);
    assert_eq!(h.next(), Some(102));
    assert_eq!(h.next(), None);
    h.assert_queue("config", Some(Writable), &[102], &[(103, Readonly)]);

    h.sm.deschedule_task(&w2);
    assert_eq!(h.next(), Some(103));
    assert_eq!(h.next(), None);
    h.sm.deschedule_task(&r3);
    assert!(h.sm.has_no_active_task());
    h.assert_all_queues_unused();
}

both_modes!(writable_then_two_readonly_then_writable);
fn writable_then_two_readonly_then_writable(capability: Capability) {
    let mut h = Harness::new(capability);
    let w1 = h.task(101, &[("config", Writable)]);
    let r2 = h.task(102, &[("config", Readonly)]);
    let r3 = h.task(103, &[("config", Readonly)]);
    let w4 = h.task(104, &[("config", Writable)]);

    assert_eq!(h.schedule(&w1), Some(101));
    for task in [&r2, &r3, &w4] {
        assert_eq!(h.schedule(task), None);
    }
    h.assert_queue(
        "config",
        Some(Writable),
        &[101],
        &[(102, Readonly), (103, Readonly), (104, Writable)],
    );

    // Both readers are granted the address at once; the last writer waits for both.
    h.sm.deschedule_task(&w1);
    assert_eq!(h.counts().queued, 2);
    h.assert_queue("config", Some(Readonly), &[102, 103], &[(104, Writable)]);
    assert_eq!(h.next(), Some(102));
    assert_eq!(h.next(), Some(103));
    assert_eq!(h.next(), None);

    h.sm.deschedule_task(&r2);
    assert_eq!(h.next(), None);
    h.sm.deschedule_task(&r3);
    assert_eq!(h.next(), Some(104));
    h.sm.deschedule_task(&w4);
    #[rustfmt::skip]
    assert_eq!(h.counts(), Counts { total: 4, handled: 4, unblocked: 3, ..Counts::default() });
    h.assert_all_queues_unused();
}

both_modes!(gradual_locking);
fn gradual_locking(capability: Capability) {
    let mut h = Harness::new(capability);
    let t1 = h.task(101, &[("alice", Writable)]);
    let t2 = h.task(102, &[("bob", Writable), ("alice", Writable)]);
    let t3 = h.task(103, &[("bob", Readonly)]);

    assert_eq!(h.schedule(&t1), Some(101));
    assert_eq!(h.schedule(&t2), None);
    assert_eq!(h.blocked(&t2), 1);
    h.assert_queue("alice", Some(Writable), &[101], &[(102, Writable)]);
    // t2 waits for "alice" but already holds "bob", the address it could take.
    h.assert_queue("bob", Some(Writable), &[102], &[]);

    // So a later reader of "bob" waits for t2, although t2 is not running.
    assert_eq!(h.schedule(&t3), None);
    h.assert_queue("bob", Some(Writable), &[102], &[(103, Readonly)]);

    h.sm.deschedule_task(&t1);
    assert_eq!(h.blocked(&t2), 0);
    assert_eq!(h.next(), Some(102));
    assert_eq!(h.next(), None);
    h.sm.deschedule_task(&t2);
    assert_eq!(h.next(), Some(103));
    h.sm.deschedule_task(&t3);
    assert!(h.sm.has_no_active_task());
    h.assert_all_queues_unused();
}

both_modes!(waiting_line_order_follows_the_capability);
fn waiting_line_order_follows_the_capability(capability: Capability) {
    let mut h = Harness::new(capability);
    let first = h.task(1, &[("config", Writable)]);
    assert_eq!(h.schedule(&first), Some(1));
    let mut tasks: HashMap<OrderedTaskId, Task<()>> = HashMap::new();
    for (id, usage) in [
        (50, Writable),
        (20, Writable),
        (30, Readonly),
        (40, Readonly),
    ] {
        let task = h.task(id, &[("config", usage)]);
        assert_eq!(h.schedule(&task), None);
        tasks.insert(id, task);
    }

    // FIFO: arrival order. Priority: id order. Readers queued together run together.
    let (line, groups): (&[_], &[&[OrderedTaskId]]) = match capability {
        Capability::FifoQueueing => (
            &[
                (50, Writable),
                (20, Writable),
                (30, Readonly),
                (40, Readonly),
            ],
            &[&[50], &[20], &[30, 40]],
        ),
        Capability::PriorityQueueing => (
            &[
                (20, Writable),
                (30, Readonly),
                (40, Readonly),
                (50, Writable),
            ],
            &[&[20], &[30, 40], &[50]],
        ),
    };
    h.assert_queue("config", Some(Writable), &[1], line);

    h.sm.deschedule_task(&first);
    for group in groups {
        let handed_out: Vec<_> = std::iter::from_fn(|| h.next()).collect();
        assert_eq!(handed_out, *group);
        for id in handed_out {
            h.sm.deschedule_task(&tasks[&id]);
        }
    }
    assert!(h.sm.has_no_active_task());
    h.assert_all_queues_unused();
}

both_modes!(good_reinitialization);
fn good_reinitialization(capability: Capability) {
    let mut h = Harness::new(capability);
    let t1 = h.task(101, &[("payer", Writable)]);
    let t2 = h.task(102, &[("payer", Writable)]);
    assert_eq!(h.schedule(&t1), Some(101));
    assert_eq!(h.schedule(&t2), None);
    h.sm.deschedule_task(&t1);
    assert_eq!(h.next(), Some(102));
    h.sm.deschedule_task(&t2);
    #[rustfmt::skip]
    assert_eq!(h.counts(), Counts { total: 2, handled: 2, unblocked: 1, ..Counts::default() });

    h.sm.reinitialize();
    assert_eq!(h.counts(), Counts::default());
    h.assert_all_queues_unused();

    // The machine and the cached queues serve the next block.
    let t3 = h.task(103, &[("payer", Writable)]);
    let t4 = h.task(104, &[("payer", Readonly)]);
    assert_eq!(h.schedule(&t3), Some(103));
    assert_eq!(h.schedule(&t4), None);
    h.sm.deschedule_task(&t3);
    assert_eq!(h.next(), Some(104));
    h.sm.deschedule_task(&t4);
    #[rustfmt::skip]
    assert_eq!(h.counts(), Counts { total: 2, handled: 2, unblocked: 1, ..Counts::default() });
    h.sm.reinitialize();
    assert_eq!(h.counts(), Counts::default());
}

both_modes!(
    #[should_panic(expected = "reinitialize with 1 active tasks")]
    bad_reinitialization_with_a_running_task
);
fn bad_reinitialization_with_a_running_task(capability: Capability) {
    let mut h = Harness::new(capability);
    let task = h.task(3, &[("payer", Writable)]);
    assert_eq!(h.schedule(&task), Some(3));
    let reinitialized = catch_unwind(AssertUnwindSafe(|| h.sm.reinitialize()));
    // Deschedule only after the panic under test, so that no task is left in a usage queue
    // (a leak under Miri, see the module doc).
    h.sm.deschedule_task(&task);
    if let Err(panic) = reinitialized {
        resume_unwind(panic);
    }
}

both_modes!(
    #[should_panic(expected = "reinitialize with 1 active tasks")]
    bad_reinitialization_with_a_buffered_task
);
fn bad_reinitialization_with_a_buffered_task(capability: Capability) {
    let mut h = Harness::new(capability);
    let task = h.task(3, &[("payer", Writable)]);
    h.sm.buffer_task(task);
    let reinitialized = catch_unwind(AssertUnwindSafe(|| h.sm.reinitialize()));
    // The way out: drop what has not run.
    assert_eq!(h.sm.clear_and_reinitialize(), 1);
    if let Err(panic) = reinitialized {
        resume_unwind(panic);
    }
}

both_modes!(clear_and_reinitialize_drops_buffered_and_blocked_tasks);
fn clear_and_reinitialize_drops_buffered_and_blocked_tasks(capability: Capability) {
    let mut h = Harness::new(capability);
    let t1 = h.task(1, &[("alice", Writable)]);
    let t2 = h.task(2, &[("alice", Writable), ("bob", Writable)]);
    let t3 = h.task(3, &[("bob", Readonly)]);
    let t4 = h.task(4, &[("carol", Readonly)]);

    h.sm.buffer_task(Arc::clone(&t1));
    assert_eq!(h.schedule(&t2), None);
    assert!(
        h.sm.schedule_or_buffer_task(Arc::clone(&t3), true)
            .is_none()
    );
    assert!(
        h.sm.schedule_or_buffer_task(Arc::clone(&t4), true)
            .is_none()
    );
    #[rustfmt::skip]
    assert_eq!(h.counts(), Counts { total: 4, active: 4, queued: 2, ..Counts::default() });
    assert_eq!((h.blocked(&t2), h.blocked(&t3)), (1, 1));

    // Two buffered, two blocked behind them: all four are dropped.
    assert_eq!(h.sm.clear_and_reinitialize(), 4);
    assert_eq!(h.counts(), Counts::default());
    assert!(h.sm.has_no_active_task());
    h.assert_all_queues_unused();
    // The machine keeps no reference to the dropped tasks, nor they to the queues once gone.
    for task in [&t1, &t2, &t3, &t4] {
        assert_eq!(Arc::strong_count(task), 1);
    }
    drop((t1, t2, t3, t4));
    assert!(h.queue_handle_counts().iter().all(|&(_, count)| count == 1));

    let t5 = h.task(5, &[("alice", Writable), ("bob", Writable)]);
    assert_eq!(h.schedule(&t5), Some(5));
    h.sm.deschedule_task(&t5);
    // Nothing to drop: still fine.
    assert_eq!(h.sm.clear_and_reinitialize(), 0);
    assert_eq!(h.counts(), Counts::default());
}

both_modes!(
    #[should_panic(expected = "clear_and_reinitialize with 1 running tasks")]
    clear_and_reinitialize_with_a_running_task_panics
);
fn clear_and_reinitialize_with_a_running_task_panics(capability: Capability) {
    let mut h = Harness::new(capability);
    let running = h.task(1, &[("alice", Writable)]);
    let blocked = h.task(2, &[("alice", Writable)]);
    assert_eq!(h.schedule(&running), Some(1));
    assert_eq!(h.schedule(&blocked), None);
    let cleared = catch_unwind(AssertUnwindSafe(|| h.sm.clear_and_reinitialize()));
    // Clean up after the panic under test (see the module doc).
    h.sm.deschedule_task(&running);
    assert_eq!(h.sm.clear_and_reinitialize(), 1);
    if let Err(panic) = cleared {
        resume_unwind(panic);
    }
}

both_modes!(buffer_task_defers_a_runnable_task);
fn buffer_task_defers_a_runnable_task(capability: Capability) {
    let mut h = Harness::new(capability);
    let t1 = h.task(1, &[("alice", Writable)]);
    let t2 = h.task(2, &[("alice", Readonly)]);

    h.sm.buffer_task(Arc::clone(&t1));
    #[rustfmt::skip]
    assert_eq!(h.counts(), Counts { total: 1, active: 1, queued: 1, ..Counts::default() });
    assert!(h.sm.has_runnable_task());
    // A buffered task already holds its addresses ...
    assert_eq!(h.blocked(&t1), 0);
    h.assert_queue("alice", Some(Writable), &[1], &[]);
    // ... so a conflicting newcomer waits for it.
    assert_eq!(h.schedule(&t2), None);
    assert_eq!(h.blocked(&t2), 1);

    assert_eq!(h.next(), Some(1));
    #[rustfmt::skip]
    assert_eq!(h.counts(), Counts { total: 2, active: 2, running: 1, unblocked: 1, queued: 0, ..Counts::default() });
    h.sm.deschedule_task(&t1);
    assert_eq!(h.next(), Some(2));
    h.sm.deschedule_task(&t2);
    #[rustfmt::skip]
    assert_eq!(h.counts(), Counts { total: 2, handled: 2, unblocked: 2, ..Counts::default() });
    h.assert_all_queues_unused();
}

both_modes!(schedule_or_buffer_task_buffers_only_when_forced);
fn schedule_or_buffer_task_buffers_only_when_forced(capability: Capability) {
    let mut h = Harness::new(capability);
    let t1 = h.task(1, &[("alice", Writable)]);
    let t2 = h.task(2, &[("bob", Writable)]);
    let t3 = h.task(3, &[("alice", Writable)]);

    // Not forced: as `schedule_task`.
    let returned = h.sm.schedule_or_buffer_task(Arc::clone(&t1), false);
    assert_eq!(returned.map(|task| task.task_id()), Some(1));
    // Forced, runnable: goes to the unblocked queue.
    assert!(
        h.sm.schedule_or_buffer_task(Arc::clone(&t2), true)
            .is_none()
    );
    assert_eq!(h.counts().queued, 1);
    // Forced, blocked: waits like any blocked task, not in the unblocked queue yet.
    assert!(
        h.sm.schedule_or_buffer_task(Arc::clone(&t3), true)
            .is_none()
    );
    assert_eq!(h.blocked(&t3), 1);
    #[rustfmt::skip]
    assert_eq!(h.counts(), Counts { total: 3, active: 3, running: 1, queued: 1, ..Counts::default() });

    h.sm.deschedule_task(&t1);
    // Unblocking order: t2 (buffered earlier), then t3.
    assert_eq!(h.counts().queued, 2);
    assert_eq!(h.next(), Some(2));
    assert_eq!(h.next(), Some(3));
    h.sm.deschedule_task(&t3);
    h.sm.deschedule_task(&t2);
    #[rustfmt::skip]
    assert_eq!(h.counts(), Counts { total: 3, handled: 3, unblocked: 2, ..Counts::default() });
    h.assert_all_queues_unused();
}

both_modes!(max_running_task_count_caps_running_tasks);
fn max_running_task_count_caps_running_tasks(capability: Capability) {
    let mut h = Harness::with_max_running(capability, Some(2));
    let t1 = h.task(1, &[("alice", Writable)]);
    let t2 = h.task(2, &[("bob", Writable)]);
    let t3 = h.task(3, &[("carol", Writable)]);
    let t4 = h.task(4, &[("alice", Readonly)]);

    assert_eq!(h.schedule(&t1), Some(1));
    assert_eq!(h.schedule(&t2), Some(2));
    // Runnable, but both slots are taken: it waits in the unblocked queue, holding "carol".
    assert_eq!(h.schedule(&t3), None);
    assert_eq!(h.blocked(&t3), 0);
    h.assert_queue("carol", Some(Writable), &[3], &[]);
    assert_eq!(h.schedule(&t4), None);
    assert_eq!(h.blocked(&t4), 1);
    #[rustfmt::skip]
    assert_eq!(h.counts(), Counts { total: 4, active: 4, running: 2, queued: 1, ..Counts::default() });
    assert!(h.sm.has_unblocked_task());
    assert!(!h.sm.has_runnable_task());
    assert_eq!(h.next(), None);
    assert_eq!(h.counts().unblocked, 0);

    // A slot frees up, and t4 is unblocked behind t3.
    h.sm.deschedule_task(&t1);
    assert!(h.sm.has_runnable_task());
    assert_eq!(h.counts().queued, 2);
    assert_eq!(h.next(), Some(3));
    assert!(!h.sm.has_runnable_task());
    assert_eq!(h.next(), None);

    h.sm.deschedule_task(&t2);
    assert_eq!(h.next(), Some(4));
    #[rustfmt::skip]
    assert_eq!(h.counts(), Counts { total: 4, active: 2, running: 2, handled: 2, unblocked: 2, queued: 0 });
    h.sm.deschedule_task(&t3);
    h.sm.deschedule_task(&t4);
    assert!(h.sm.has_no_active_task());
    h.assert_all_queues_unused();
}

both_modes!(task_without_lock_requests_runs_at_once);
fn task_without_lock_requests_runs_at_once(capability: Capability) {
    let mut h = Harness::new(capability);
    let writer = h.task(1, &[("alice", Writable)]);
    let blocked = h.task(2, &[("alice", Writable)]);
    let empty = h.task(3, &[]);
    assert!(empty.lock_contexts().is_empty());

    assert_eq!(h.schedule(&writer), Some(1));
    assert_eq!(h.schedule(&blocked), None);
    // Nothing to wait for, even behind blocked tasks.
    assert_eq!(h.schedule(&empty), Some(3));
    assert_eq!(h.blocked(&empty), 0);
    h.sm.deschedule_task(&empty);
    assert_eq!(h.blocked(&blocked), 1);
    assert_eq!(h.next(), None);

    h.sm.deschedule_task(&writer);
    assert_eq!(h.next(), Some(2));
    h.sm.deschedule_task(&blocked);
    #[rustfmt::skip]
    assert_eq!(h.counts(), Counts { total: 3, handled: 3, unblocked: 1, ..Counts::default() });
    h.assert_all_queues_unused();
}

both_modes!(queues_are_unused_and_unreferenced_after_the_last_task);
fn queues_are_unused_and_unreferenced_after_the_last_task(capability: Capability) {
    let mut h = Harness::new(capability);
    let t1 = h.task(1, &[("alice", Writable), ("config", Readonly)]);
    let t2 = h.task(2, &[("alice", Readonly), ("config", Readonly)]);
    let t3 = h.task(3, &[("config", Writable)]);
    assert_eq!(h.schedule(&t1), Some(1));
    assert_eq!(h.schedule(&t2), None);
    assert_eq!(h.schedule(&t3), None);
    // The queue of "config": the cache's handle and one per task.
    assert!(h.queue_handle_counts().contains(&("config", 4)));

    h.sm.deschedule_task(&t1);
    assert_eq!(h.next(), Some(2));
    h.sm.deschedule_task(&t2);
    assert_eq!(h.next(), Some(3));
    h.sm.deschedule_task(&t3);
    h.assert_all_queues_unused();

    // The machine kept no handle to any task: the payload can be taken back.
    for task in [t1, t2, t3] {
        TaskInner::try_into_payload(task).expect("the caller's handle is the last one");
    }
    assert_eq!(
        h.queue_handle_counts(),
        [("alice", 1), ("config", 1)],
        "only the cache refers to the queues"
    );
}

both_modes!(
    #[should_panic(expected = "that is not running")]
    deschedule_with_no_running_task_panics
);
fn deschedule_with_no_running_task_panics(capability: Capability) {
    let mut h = Harness::new(capability);
    let never_scheduled = h.task(1, &[("alice", Writable)]);
    h.sm.deschedule_task(&never_scheduled);
}

both_modes!(
    #[should_panic(expected = "that is not running")]
    deschedule_of_a_task_never_scheduled_panics
);
fn deschedule_of_a_task_never_scheduled_panics(capability: Capability) {
    let mut h = Harness::new(capability);
    // Something must be running to get past the running count. It locks nothing, so that
    // the panic leaves no task in a usage queue (see the module doc).
    let running = h.task(1, &[]);
    assert_eq!(h.schedule(&running), Some(1));
    let never_scheduled = h.task(2, &[("alice", Writable)]);
    h.sm.deschedule_task(&never_scheduled);
}

both_modes!(
    #[should_panic(expected = "that is not running")]
    deschedule_twice_panics
);
fn deschedule_twice_panics(capability: Capability) {
    let mut h = Harness::new(capability);
    let other = h.task(1, &[]);
    let task = h.task(2, &[("alice", Writable)]);
    assert_eq!(h.schedule(&other), Some(1));
    assert_eq!(h.schedule(&task), Some(2));
    h.sm.deschedule_task(&task);
    h.sm.deschedule_task(&task);
}

// Checked in every build: in release, a duplicate would otherwise hang FIFO mode.
both_modes!(
    #[should_panic(expected = "an address is requested twice")]
    create_task_with_a_duplicate_address_panics
);
fn create_task_with_a_duplicate_address_panics(capability: Capability) {
    let mut h = Harness::new(capability);
    let _ = h.task(
        1,
        &[("alice", Writable), ("bob", Readonly), ("alice", Readonly)],
    );
}

#[test]
#[should_panic(expected = "minted twice")]
fn second_machine_on_one_thread_panics() {
    let _first = Harness::new(Capability::FifoQueueing);
    let _second = Harness::new(Capability::FifoQueueing);
}

/// A machine for another payload type may share the thread: each machine's tokens are
/// types tied to its payload type.
#[test]
fn machines_for_two_payload_types_share_a_thread() {
    // SAFETY: both machines (and their queues and tasks, none here) stay on this thread.
    let _bytes = unsafe {
        SchedulingStateMachine::<u8>::exclusively_initialize_current_thread_for_scheduling(
            Capability::FifoQueueing,
            None,
        )
    };
    // SAFETY: as above.
    let _words = unsafe {
        SchedulingStateMachine::<u64>::exclusively_initialize_current_thread_for_scheduling(
            Capability::FifoQueueing,
            None,
        )
    };
}

/// FIFO mode keeps only a reader count per address, so the usage queue alone could not tell
/// a second deschedule of a reader from the release of another reader (Agave's crate frees
/// the address under the other, still running, reader). The task's own phase catches it.
#[test]
#[should_panic(expected = "that is not running")]
fn fifo_deschedule_twice_of_a_shared_reader_panics() {
    let mut h = Harness::new(Capability::FifoQueueing);
    let reader = h.task(1, &[("config", Readonly)]);
    let other_reader = h.task(2, &[("config", Readonly)]);
    assert_eq!(h.schedule(&reader), Some(1));
    assert_eq!(h.schedule(&other_reader), Some(2));
    h.sm.deschedule_task(&reader);
    h.sm.deschedule_task(&reader);
}

both_modes!(
    #[should_panic(expected = "an address is requested twice")]
    create_task_with_a_duplicate_among_many_addresses_panics
);
fn create_task_with_a_duplicate_among_many_addresses_panics(capability: Capability) {
    // More addresses than the pairwise check covers, so the sorting path runs.
    const NAMES: [&str; 21] = [
        "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "a10", "a11", "a12", "a13",
        "a14", "a15", "a16", "a17", "a18", "a19", "a17",
    ];
    let mut h = Harness::new(capability);
    let requests: Vec<_> = NAMES.iter().map(|name| (*name, Writable)).collect();
    let _ = h.task(1, &requests);
}

both_modes!(zero_running_slots_is_taken_as_one);
fn zero_running_slots_is_taken_as_one(capability: Capability) {
    let mut h = Harness::with_max_running(capability, Some(0));
    let first = h.task(1, &[("alice", Writable)]);
    let second = h.task(2, &[("bob", Writable)]);
    assert_eq!(h.schedule(&first), Some(1), "one task may run");
    assert_eq!(h.schedule(&second), None, "the second waits for the slot");
    h.sm.deschedule_task(&first);
    let next =
        h.sm.schedule_next_unblocked_task()
            .expect("the slot is free again");
    assert_eq!(next.task_id(), 2);
    h.sm.deschedule_task(&next);
    assert!(h.sm.has_no_active_task());
}
