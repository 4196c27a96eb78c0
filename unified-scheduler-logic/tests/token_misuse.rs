//! Misuse of `TokenCell` that breaks the contract of `Token::assume_exclusive_mutating_thread`
//! (two threads borrowing one cell) and that Miri must reject as a data race.
//!
//! Ignored in normal runs: the behaviour is undefined, so nothing can be asserted about it
//! natively. `.ci/run` runs it under Miri with `--ignored` and fails if Miri accepts it:
//! that is the evidence that Miri would catch a real violation of the token discipline in
//! the crate's other tests.

use std::sync::Arc;
use std::thread;

use unified_scheduler_logic::{Token, TokenCell};

#[test]
#[ignore = "deliberately unsound: run under Miri, which must report a data race (see .ci/run)"]
fn two_threads_borrowing_one_cell_is_a_data_race() {
    let cell = Arc::new(TokenCell::new(0u64));
    let shared = Arc::clone(&cell);
    let other_thread = thread::spawn(move || {
        // SAFETY: deliberately violated: the main thread borrows the same cell with its own
        // token, unsynchronized. This is the misuse Miri must flag.
        let mut token = unsafe { Token::<u64>::assume_exclusive_mutating_thread() };
        shared.with_borrow_mut(&mut token, |value| *value += 1);
    });
    // SAFETY: deliberately violated, as above.
    let mut token = unsafe { Token::<u64>::assume_exclusive_mutating_thread() };
    cell.with_borrow_mut(&mut token, |value| *value += 1);
    other_thread
        .join()
        .expect("the other thread does not panic");
}
