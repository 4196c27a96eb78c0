//! `Handover`: how the calling thread and the scheduler thread share a block.
//!
//! The scheduler thread checks a block (builds its filter of contested accounts and
//! measures its longest conflict chain) while the block starts on the calling thread, in
//! order. Where every thread has a core, the check starts even earlier, as soon as the
//! calling thread has the block, beside that thread's checks before execution (its
//! parent, its signatures, each transaction's age and status-cache entry), so that the
//! idle workers wait less for it. The check's verdict decides who runs the rest:
//! * too little parallelism: the calling thread keeps the whole block, and from then on
//!   runs it entry by entry, as a block replayed in order always has been; the check
//!   cost it nothing, since it ran beside it;
//! * enough: the scheduler takes over from the first transaction the calling thread has
//!   not claimed, once that thread has finished the ones it has (it claims a few at a
//!   time while the verdict is out, so that it is never long to wait for).
//!
//! So a single chain pays nothing for the check, and a parallel block has its first few
//! transactions run while it is checked instead of waiting for the check (none, where an
//! early check took less time than the checks before execution: the scheduler then takes
//! over before the first claim).
//!
//! The whole protocol is one atomic word: the number of transactions the calling thread
//! has claimed, and a flag for each verdict and for a calling thread that stopped on a
//! failure (in the checks before execution, or in its part of the block). Claiming is a
//! compare-and-swap that fails once a flag is set; the verdicts are `fetch_or`s, whose
//! result tells the scheduler how far the calling thread got. The
//! calling thread reports where it stopped on a channel (`InOrderReport`), which a
//! scheduler that took over waits on, and which hands it the block's bank.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::worker::BlockContext;

/// The scheduler runs the rest of the block.
const TAKEN_OVER: u64 = 1 << 63;
/// The calling thread runs the whole block.
const KEPT_IN_ORDER: u64 = 1 << 62;
/// The calling thread stopped on a failure: nothing more of the block runs.
const STOPPED: u64 = 1 << 61;
/// The claimed count's bits.
const CLAIMED: u64 = STOPPED - 1;

/// What the calling thread may do next (see [`Handover::claim`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Claim {
    /// Run the transactions asked for; ask again after them.
    Granted,
    /// The block is the calling thread's: run all of it, no need to ask again.
    WholeBlock,
    /// The scheduler took over: stop here.
    TakenOver,
}

/// Where the calling thread stopped, having run the block's first `finished` transactions
/// without a failure, and what the rest of the block runs against (its bank exists only
/// once the block's checks before execution have passed). A calling thread that failed
/// (in those checks, or in its part of the block) sends no report but closes the channel:
/// nothing more of the block runs.
#[derive(Debug)]
pub(super) struct InOrderReport {
    pub(super) finished: usize,
    pub(super) context: Arc<BlockContext>,
}

/// What the scheduler found when it took over (see [`Handover::take_over`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TakeOver {
    /// The calling thread claimed the block's first `claimed` transactions: the scheduler
    /// runs the rest once they are done.
    From(usize),
    /// Nothing is left to the scheduler: the calling thread claimed the whole block, or
    /// stopped on a failure.
    Nothing,
}

/// One block's split between the calling thread and the scheduler (see the module docs).
#[derive(Debug, Default)]
pub(super) struct Handover {
    state: AtomicU64,
}

impl Handover {
    /// The calling thread, having run the block's first `from` transactions, asks to run
    /// up to `to` (exclusive).
    pub(super) fn claim(&self, from: usize, to: usize) -> Claim {
        let expected = from as u64;
        match self
            .state
            .compare_exchange(expected, to as u64, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => Claim::Granted,
            Err(state) if state & KEPT_IN_ORDER != 0 => Claim::WholeBlock,
            Err(state) if state & TAKEN_OVER != 0 => Claim::TakenOver,
            Err(state) => unreachable!(
                "invariant: only the calling thread claims or stops ({state:#x}, from {from})"
            ),
        }
    }

    /// The calling thread stopped on a failure: the scheduler must not take over.
    pub(super) fn stop(&self) {
        self.state.fetch_or(STOPPED, Ordering::AcqRel);
    }

    /// Whether the calling thread stopped on a failure (the scheduler may skip its check).
    pub(super) fn stopped(&self) -> bool {
        self.state.load(Ordering::Acquire) & STOPPED != 0
    }

    /// The scheduler's verdict: the block runs in order on the calling thread.
    pub(super) fn keep_in_order(&self) {
        self.state.fetch_or(KEPT_IN_ORDER, Ordering::AcqRel);
    }

    /// The scheduler's verdict: it runs the rest of a block of `len` transactions.
    pub(super) fn take_over(&self, len: usize) -> TakeOver {
        let state = self.state.fetch_or(TAKEN_OVER, Ordering::AcqRel);
        let claimed = (state & CLAIMED) as usize;
        if state & STOPPED != 0 || claimed >= len {
            TakeOver::Nothing
        } else {
            TakeOver::From(claimed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_calling_thread_runs_until_the_scheduler_takes_over() {
        let handover = Handover::default();
        assert_eq!(handover.claim(0, 1), Claim::Granted);
        assert_eq!(handover.claim(1, 3), Claim::Granted);
        assert_eq!(handover.take_over(10), TakeOver::From(3));
        assert_eq!(handover.claim(3, 4), Claim::TakenOver);
    }

    #[test]
    fn a_block_kept_in_order_is_the_calling_threads_to_the_end() {
        let handover = Handover::default();
        assert_eq!(handover.claim(0, 2), Claim::Granted);
        handover.keep_in_order();
        assert_eq!(handover.claim(2, 3), Claim::WholeBlock);
    }

    #[test]
    fn nothing_is_left_to_take_over_after_the_whole_block_or_a_failure() {
        let handover = Handover::default();
        assert_eq!(handover.claim(0, 5), Claim::Granted);
        assert_eq!(handover.take_over(5), TakeOver::Nothing);

        let handover = Handover::default();
        assert_eq!(handover.claim(0, 2), Claim::Granted);
        handover.stop();
        assert_eq!(handover.take_over(5), TakeOver::Nothing);
    }

    #[test]
    fn the_scheduler_may_take_over_before_the_first_claim() {
        let handover = Handover::default();
        assert_eq!(handover.take_over(5), TakeOver::From(0));
        assert_eq!(handover.claim(0, 1), Claim::TakenOver);
    }
}
