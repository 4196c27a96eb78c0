//! Priority mode's reblocking: a newcomer of higher priority (smaller id) takes an address
//! from lower-priority holders that are still blocked elsewhere, as if it had arrived first;
//! holders that hold everything (runnable, buffered or running) keep it.
//!
//! Every test starts with task 100 running and writing "blocker"; the tasks that also write
//! "blocker" are thereby kept blocked, so that they can hold other addresses without being
//! runnable.

use unified_scheduler_logic::{
    Capability,
    RequestedUsage::{Readonly, Writable},
    Task,
};

use crate::common::Harness;

/// A priority-mode machine with task 100 running, writing "blocker".
fn setup() -> (Harness, Task<()>) {
    setup_with(Capability::PriorityQueueing)
}

fn setup_with(capability: Capability) -> (Harness, Task<()>) {
    let mut h = Harness::new(capability);
    let blocker = h.task(100, &[("blocker", Writable)]);
    assert_eq!(h.schedule(&blocker), Some(100));
    (h, blocker)
}

#[track_caller]
fn assert_done(h: &mut Harness) {
    assert!(h.sm.has_no_active_task());
    h.assert_all_queues_unused();
}

#[test]
fn lower_write_then_higher_write_reblocks_a_blocked_holder() {
    let (mut h, blocker) = setup();
    let low = h.task(102, &[("blocker", Writable), ("x", Writable)]);
    let high = h.task(10, &[("blocker", Writable), ("x", Writable)]);

    assert_eq!(h.schedule(&low), None);
    h.assert_queue("x", Some(Writable), &[102], &[]);
    assert_eq!(h.blocked(&low), 1);

    assert_eq!(h.schedule(&high), None);
    h.assert_queue("x", Some(Writable), &[10], &[(102, Writable)]);
    // "blocker" is held by a running task: nobody can take it; the waiting line is in id
    // order.
    h.assert_queue(
        "blocker",
        Some(Writable),
        &[100],
        &[(10, Writable), (102, Writable)],
    );
    assert_eq!((h.blocked(&high), h.blocked(&low)), (1, 2));

    h.sm.deschedule_task(&blocker);
    assert_eq!(h.next(), Some(10));
    assert_eq!(h.next(), None);
    h.sm.deschedule_task(&high);
    assert_eq!(h.next(), Some(102));
    h.sm.deschedule_task(&low);
    assert_done(&mut h);
}

#[test]
fn lower_write_then_higher_write_keeps_a_runnable_holder() {
    let (mut h, blocker) = setup();
    let low = h.task(102, &[("x", Writable)]);
    let high = h.task(10, &[("x", Writable)]);

    // Holds everything, waits only to be handed out: it cannot be reblocked.
    h.sm.buffer_task(low.clone());
    assert_eq!(h.blocked(&low), 0);
    assert_eq!(h.schedule(&high), None);
    h.assert_queue("x", Some(Writable), &[102], &[(10, Writable)]);
    assert_eq!((h.blocked(&high), h.blocked(&low)), (1, 0));

    assert_eq!(h.next(), Some(102));
    assert_eq!(h.next(), None);
    h.sm.deschedule_task(&low);
    assert_eq!(h.next(), Some(10));
    h.sm.deschedule_task(&high);
    h.sm.deschedule_task(&blocker);
    assert_done(&mut h);
}

#[test]
fn lower_write_then_higher_write_keeps_a_running_holder() {
    let (mut h, blocker) = setup();
    let low = h.task(102, &[("x", Writable)]);
    let high = h.task(10, &[("x", Writable)]);

    assert_eq!(h.schedule(&low), Some(102));
    assert_eq!(h.schedule(&high), None);
    h.assert_queue("x", Some(Writable), &[102], &[(10, Writable)]);
    assert_eq!((h.blocked(&high), h.blocked(&low)), (1, 0));

    h.sm.deschedule_task(&low);
    assert_eq!(h.next(), Some(10));
    h.sm.deschedule_task(&high);
    h.sm.deschedule_task(&blocker);
    assert_done(&mut h);
}

#[test]
fn lower_write_then_higher_read_reblocks_a_blocked_holder() {
    let (mut h, blocker) = setup();
    let low = h.task(102, &[("blocker", Writable), ("x", Writable)]);
    let high = h.task(10, &[("blocker", Writable), ("x", Readonly)]);

    assert_eq!(h.schedule(&low), None);
    assert_eq!(h.schedule(&high), None);
    h.assert_queue("x", Some(Readonly), &[10], &[(102, Writable)]);
    assert_eq!((h.blocked(&high), h.blocked(&low)), (1, 2));

    // A reader of higher priority than the waiting writer joins the current reader and,
    // holding everything it needs, runs at once ...
    let higher_reader = h.task(5, &[("x", Readonly)]);
    assert_eq!(h.schedule(&higher_reader), Some(5));
    // ... one of lower priority waits behind the writer.
    let lower_reader = h.task(200, &[("x", Readonly)]);
    assert_eq!(h.schedule(&lower_reader), None);
    h.assert_queue(
        "x",
        Some(Readonly),
        &[5, 10],
        &[(102, Writable), (200, Readonly)],
    );

    h.sm.deschedule_task(&higher_reader);
    h.sm.deschedule_task(&blocker);
    assert_eq!(h.next(), Some(10));
    assert_eq!(h.next(), None);
    h.sm.deschedule_task(&high);
    assert_eq!(h.next(), Some(102));
    assert_eq!(h.next(), None);
    h.sm.deschedule_task(&low);
    assert_eq!(h.next(), Some(200));
    h.sm.deschedule_task(&lower_reader);
    assert_done(&mut h);
}

#[test]
fn lower_read_then_higher_read_joins_ahead_of_a_waiting_lower_writer() {
    let (mut h, blocker) = setup();
    let low_reader = h.task(102, &[("blocker", Writable), ("x", Readonly)]);
    let low_writer = h.task(103, &[("blocker", Writable), ("x", Writable)]);
    let high_reader = h.task(10, &[("blocker", Writable), ("x", Readonly)]);

    assert_eq!(h.schedule(&low_reader), None);
    // A writer of lower priority than the reader does not reblock it.
    assert_eq!(h.schedule(&low_writer), None);
    h.assert_queue("x", Some(Readonly), &[102], &[(103, Writable)]);
    // Nobody is reblocked; the higher reader joins, overtaking the waiting writer.
    assert_eq!(h.schedule(&high_reader), None);
    h.assert_queue("x", Some(Readonly), &[10, 102], &[(103, Writable)]);
    assert_eq!(
        [
            h.blocked(&high_reader),
            h.blocked(&low_reader),
            h.blocked(&low_writer)
        ],
        [1, 1, 2]
    );

    h.sm.deschedule_task(&blocker);
    assert_eq!(h.next(), Some(10));
    assert_eq!(h.next(), None);
    h.sm.deschedule_task(&high_reader);
    assert_eq!(h.next(), Some(102));
    assert_eq!(h.next(), None);
    h.sm.deschedule_task(&low_reader);
    assert_eq!(h.next(), Some(103));
    h.sm.deschedule_task(&low_writer);
    assert_done(&mut h);
}

#[test]
fn lower_read_then_higher_write_reblocks_every_blocked_reader() {
    let (mut h, blocker) = setup();
    let r1 = h.task(102, &[("blocker", Writable), ("x", Readonly)]);
    let r2 = h.task(103, &[("blocker", Writable), ("x", Readonly)]);
    let writer = h.task(10, &[("blocker", Writable), ("x", Writable)]);

    assert_eq!(h.schedule(&r1), None);
    assert_eq!(h.schedule(&r2), None);
    h.assert_queue("x", Some(Readonly), &[102, 103], &[]);
    assert_eq!(h.schedule(&writer), None);
    h.assert_queue(
        "x",
        Some(Writable),
        &[10],
        &[(102, Readonly), (103, Readonly)],
    );
    assert_eq!(
        [h.blocked(&writer), h.blocked(&r1), h.blocked(&r2)],
        [1, 2, 2]
    );

    h.sm.deschedule_task(&blocker);
    assert_eq!(h.next(), Some(10));
    h.sm.deschedule_task(&writer);
    // Both readers get "x" back at once; 102 also gets "blocker".
    h.assert_queue("x", Some(Readonly), &[102, 103], &[]);
    assert_eq!([h.blocked(&r1), h.blocked(&r2)], [0, 1]);
    assert_eq!(h.next(), Some(102));
    assert_eq!(h.next(), None);
    h.sm.deschedule_task(&r1);
    assert_eq!(h.next(), Some(103));
    h.sm.deschedule_task(&r2);
    assert_done(&mut h);
}

#[test]
fn lower_read_then_higher_write_waits_for_running_readers() {
    let (mut h, blocker) = setup();
    let running_reader = h.task(150, &[("x", Readonly)]);
    let blocked_reader = h.task(160, &[("blocker", Writable), ("x", Readonly)]);
    let higher_blocked_reader = h.task(5, &[("blocker", Writable), ("x", Readonly)]);
    let writer = h.task(10, &[("x", Writable)]);

    assert_eq!(h.schedule(&running_reader), Some(150));
    assert_eq!(h.schedule(&blocked_reader), None);
    assert_eq!(h.schedule(&higher_blocked_reader), None);
    h.assert_queue("x", Some(Readonly), &[5, 150, 160], &[]);

    // 160 (lower, blocked) is reblocked; 150 (running) and 5 (higher priority) keep "x",
    // and the writer waits first in line.
    assert_eq!(h.schedule(&writer), None);
    h.assert_queue(
        "x",
        Some(Readonly),
        &[5, 150],
        &[(10, Writable), (160, Readonly)],
    );
    assert_eq!(
        [
            h.blocked(&writer),
            h.blocked(&blocked_reader),
            h.blocked(&higher_blocked_reader)
        ],
        [1, 2, 1]
    );

    h.sm.deschedule_task(&blocker);
    assert_eq!(h.next(), Some(5));
    h.sm.deschedule_task(&higher_blocked_reader);
    // "blocker" goes to 160, which still waits for "x" behind the writer.
    assert_eq!(h.blocked(&blocked_reader), 1);
    assert_eq!(h.next(), None);
    h.sm.deschedule_task(&running_reader);
    assert_eq!(h.next(), Some(10));
    assert_eq!(h.next(), None);
    h.sm.deschedule_task(&writer);
    assert_eq!(h.next(), Some(160));
    h.sm.deschedule_task(&blocked_reader);
    assert_done(&mut h);
}

#[test]
fn higher_write_takes_every_address_of_a_blocked_lower_task_and_runs() {
    let (mut h, blocker) = setup();
    let low = h.task(
        102,
        &[("blocker", Writable), ("x", Writable), ("y", Readonly)],
    );
    // Requests in the other order, and writes what `low` reads.
    let high = h.task(10, &[("y", Writable), ("x", Writable)]);

    assert_eq!(h.schedule(&low), None);
    assert_eq!(h.blocked(&low), 1);
    assert_eq!(h.schedule(&high), Some(10));
    assert_eq!(h.blocked(&low), 3);
    h.assert_queue("x", Some(Writable), &[10], &[(102, Writable)]);
    h.assert_queue("y", Some(Writable), &[10], &[(102, Readonly)]);

    h.sm.deschedule_task(&high);
    assert_eq!(h.blocked(&low), 1);
    assert_eq!(h.next(), None);
    h.sm.deschedule_task(&blocker);
    assert_eq!(h.next(), Some(102));
    h.sm.deschedule_task(&low);
    assert_done(&mut h);
}

#[test]
fn fifo_mode_never_reblocks() {
    // The arrivals of `lower_write_then_higher_write_reblocks_a_blocked_holder`, in FIFO
    // mode: ids are ignored and the first to arrive keeps its place.
    let (mut h, blocker) = setup_with(Capability::FifoQueueing);
    let low = h.task(102, &[("blocker", Writable), ("x", Writable)]);
    let high = h.task(10, &[("blocker", Writable), ("x", Writable)]);

    assert_eq!(h.schedule(&low), None);
    assert_eq!(h.schedule(&high), None);
    h.assert_queue("x", Some(Writable), &[102], &[(10, Writable)]);
    h.assert_queue(
        "blocker",
        Some(Writable),
        &[100],
        &[(102, Writable), (10, Writable)],
    );
    assert_eq!((h.blocked(&high), h.blocked(&low)), (2, 1));

    h.sm.deschedule_task(&blocker);
    assert_eq!(h.next(), Some(102));
    h.sm.deschedule_task(&low);
    assert_eq!(h.next(), Some(10));
    h.sm.deschedule_task(&high);
    assert_done(&mut h);
}

#[test]
#[should_panic(expected = "share a task id")]
fn priority_tasks_sharing_an_id_panic() {
    let (mut h, blocker) = setup();
    let same_id = h.task(100, &[("blocker", Writable)]);
    let scheduled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        h.sm.schedule_task(same_id.clone())
    }));
    // Clean up after the panic under test, so that no task is left in a usage queue (a leak
    // under Miri): the panic came before the newcomer queued anywhere.
    h.sm.deschedule_task(&blocker);
    assert!(h.sm.has_no_running_task());
    h.assert_all_queues_unused();
    if let Err(panic) = scheduled {
        std::panic::resume_unwind(panic);
    }
}
