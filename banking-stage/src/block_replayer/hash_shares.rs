//! Where every thread has a core, the idle workers help build a block's filter
//! (`contested_filter.rs`): the scheduler thread splits the block's lock requests into
//! shares, one per worker and one for itself, and joins the hashed lists in block order.
//! The filter built from them is the one built in one pass, bit for bit.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Sender, unbounded};

use super::contested_filter::{HashedShare, RequestHasher};
use super::pool::{Assignment, Lanes};
use crate::messages::BufferedTransaction;
use crate::spin_wait::SpinWait;

/// The fewest transactions a worker hashes for a block's filter (see `hash_on_workers`):
/// about 20 µs of reading and hashing on the benches' machines, several times what
/// handing a share to a spinning worker and back costs.
const MIN_TRANSACTIONS_PER_HASH_SHARE: usize = 128;

/// A share of a block's lock requests for a worker to hash for the block's filter, before
/// the block has a bank (see `contested_filter.rs`): the block's `range`, answered on
/// `hashed` with the share's number.
pub(super) struct HashShare {
    transactions: Arc<[BufferedTransaction]>,
    range: std::ops::Range<usize>,
    share: usize,
    hasher: RequestHasher,
    hashed: Sender<(usize, HashedShare)>,
}

impl HashShare {
    // Kept out of the worker's loop (`run_worker`, in `pool.rs`; and `hash_on_workers` out
    // of `schedule_block`, in `block_run.rs`):
    // inlined there, they made the 2-core replay of 20 µs transactions about 10% slower,
    // where neither even runs (a code-layout effect, in interleaved `compare` runs).
    #[inline(never)]
    pub(super) fn run(self) {
        let hashed = self.hasher.hash_share(&self.transactions[self.range]);
        // A scheduler that stopped waiting (it panicked) wants nothing more.
        let _ = self.hashed.send((self.share, hashed));
    }
}

/// Hashes the lock requests of the block of `transactions` at `slot` for its filter in
/// shares of at least [`MIN_TRANSACTIONS_PER_HASH_SHARE`], one per worker and one on this
/// thread, where threads spin (each has a core: the workers idle between blocks, and a
/// share reaches a spinning worker at once). Returns the shares' lists in block order and
/// how long this thread waited for them, or `None` for a block too small to share.
///
/// Reading the block is most of building its filter (the transactions are in memory
/// another core wrote), and it comes before the block's first handoff: at 14 workers, a
/// 12,000-transaction block's 2 ms of it would be 2 ms of thirteen idle workers, less what
/// the calling thread's checks before execution hide.
#[inline(never)]
pub(super) fn hash_on_workers(
    transactions: &Arc<[BufferedTransaction]>,
    slot: u64,
    num_workers: usize,
    runnable: &Lanes<Sender<Assignment>>,
    wait: SpinWait,
) -> Option<(Vec<HashedShare>, Duration)> {
    let shares = (num_workers + 1).min(transactions.len() / MIN_TRANSACTIONS_PER_HASH_SHARE);
    if shares < 2 {
        return None;
    }
    let hasher = RequestHasher::salted(slot);
    let range = |share: usize| {
        transactions.len() * share / shares..transactions.len() * (share + 1) / shares
    };
    let (sender, receiver) = unbounded();
    // Share 0 is this thread's; the others go out first, so they run meanwhile.
    for share in 1..shares {
        runnable
            .normal
            .send(Assignment::Hash(HashShare {
                transactions: Arc::clone(transactions),
                range: range(share),
                share,
                hasher,
                hashed: sender.clone(),
            }))
            .expect("invariant: the replay workers outlive the scheduler");
    }
    drop(sender);
    let mut hashed: Vec<Option<HashedShare>> = vec![None; shares];
    hashed[0] = Some(hasher.hash_share(&transactions[range(0)]));
    let wait_start = Instant::now();
    for _ in 1..shares {
        let answer = wait.recv(&receiver).ok();
        // `None`: every worker holding a share is gone (each logged why); the shares left
        // are hashed below.
        let Some((share, share_hashed)) = answer else {
            break;
        };
        hashed[share] = Some(share_hashed);
    }
    let waited = wait_start.elapsed();
    let shares = hashed
        .into_iter()
        .enumerate()
        .map(|(share, share_hashed)| {
            share_hashed.unwrap_or_else(|| hasher.hash_share(&transactions[range(share)]))
        })
        .collect();
    Some((shares, waited))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossbeam_channel::unbounded;
    use svm_lite::ProgramRegistry;

    use crate::block_replayer::pool::{Answers, run_worker};
    use crate::workload::ConflictPattern;

    /// The workers' shares of a block's hashed lock requests, in block order, are the
    /// whole block's, request for request (so the filter built from them is the one built
    /// in one pass: `contested_filter.rs`'s property test); a block too small to share is
    /// left to the scheduler thread.
    #[test]
    fn workers_hash_shares_of_a_block_that_join_into_the_whole() {
        let programs = Arc::new(ProgramRegistry::with_builtins());
        let (urgent, urgent_receiver) = unbounded::<Assignment>();
        let (normal, normal_receiver) = unbounded::<Assignment>();
        let (done, _answers) = unbounded::<Answers>();
        let wait = SpinWait::spinning(Duration::from_micros(20));
        let workers: Vec<_> = (0..3)
            .map(|worker| {
                let lanes = Lanes {
                    urgent: urgent_receiver.clone(),
                    normal: normal_receiver.clone(),
                };
                let done = done.clone();
                let programs = Arc::clone(&programs);
                std::thread::spawn(move || run_worker(worker, &programs, &lanes, &done, wait))
            })
            .collect();
        let runnable = Lanes { urgent, normal };
        for count in [0, 255, 256, 383, 384, 1_001] {
            let block: Arc<[BufferedTransaction]> = crate::block_replayer::tests::transactions(
                3,
                count,
                ConflictPattern::Uniform { accounts: 50 },
            )
            .into();
            let whole = RequestHasher::salted(9).hash_share(&block);
            match hash_on_workers(&block, 9, 3, &runnable, wait) {
                None => assert!(count < 2 * MIN_TRANSACTIONS_PER_HASH_SHARE, "{count}"),
                Some((shares, _)) => {
                    assert_eq!(
                        shares.len(),
                        4.min(count / MIN_TRANSACTIONS_PER_HASH_SHARE),
                        "{count}"
                    );
                    assert!(
                        shares.iter().all(|share| share.transactions() > 0),
                        "{count}"
                    );
                    assert_eq!(HashedShare::concat(&shares), whole, "{count}");
                }
            }
        }
        drop(runnable);
        for worker in workers {
            worker.join().expect("a worker ends when the lanes close");
        }
    }

    /// Shares answered in any order are put back in block order: here a stand-in worker
    /// runs every share it is given only once it has them all, last first.
    #[test]
    fn shares_answered_out_of_order_are_joined_in_block_order() {
        let (urgent, _urgent_receiver) = unbounded::<Assignment>();
        let (normal, normal_receiver) = unbounded::<Assignment>();
        let runnable = Lanes { urgent, normal };
        let block: Arc<[BufferedTransaction]> = crate::block_replayer::tests::transactions(
            4,
            1_000,
            ConflictPattern::Uniform { accounts: 50 },
        )
        .into();
        // 1,000 transactions, 5 workers: six shares, five of them sent out.
        let sent = 5;
        let backwards = std::thread::spawn(move || {
            let mut shares: Vec<HashShare> = normal_receiver
                .iter()
                .take(sent)
                .map(|assignment| match assignment {
                    Assignment::Hash(share) => share,
                    Assignment::Run(_) => panic!("only shares are sent here"),
                })
                .collect();
            while let Some(share) = shares.pop() {
                share.run();
            }
        });
        let (shares, _) = hash_on_workers(&block, 5, 5, &runnable, SpinWait::never())
            .expect("a block of 1,000 transactions is shared");
        backwards
            .join()
            .expect("the stand-in worker ran every share");
        assert_eq!(shares.len(), sent + 1);
        assert_eq!(
            HashedShare::concat(&shares),
            RequestHasher::salted(5).hash_share(&block)
        );
    }
}
