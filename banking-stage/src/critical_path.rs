//! The critical path of a block: the longest chain of conflicting transactions, weighted
//! by how long each took. No schedule on any number of workers can finish sooner.

use std::time::Duration;

use ahash::AHashMap;
use sdk_lite::Pubkey;

/// Per account: the finish time (along its chain) of the last writer, and the latest
/// finish among the readers since.
#[derive(Default, Clone, Copy)]
struct AccountChain {
    last_write: Duration,
    readers: Duration,
}

/// The longest chain so far of transactions added in block order: a writer follows the
/// last writer and the readers since; a reader follows the last writer.
#[derive(Default)]
pub(crate) struct ChainTracker {
    chains: AHashMap<Pubkey, AccountChain>,
    longest: Duration,
}

impl ChainTracker {
    /// Adds the next transaction of the block, which takes `duration`; returns the length
    /// of the longest chain so far.
    pub(crate) fn add<'a>(
        &mut self,
        requests: impl Iterator<Item = (&'a Pubkey, bool)> + Clone,
        duration: Duration,
    ) -> Duration {
        let ready = requests
            .clone()
            .map(|(key, writable)| {
                let chain = self.chains.get(key).copied().unwrap_or_default();
                if writable {
                    chain.last_write.max(chain.readers)
                } else {
                    chain.last_write
                }
            })
            .max()
            .unwrap_or(Duration::ZERO);
        let finish = ready + duration;
        for (key, writable) in requests {
            let chain = self.chains.entry(*key).or_default();
            if writable {
                *chain = AccountChain {
                    last_write: finish,
                    readers: finish,
                };
            } else {
                chain.readers = chain.readers.max(finish);
            }
        }
        self.longest = self.longest.max(finish);
        self.longest
    }
}

/// The critical path of transactions given in block order as their lock requests, with
/// `durations[i]` the time transaction `i` took.
pub(crate) fn critical_path<'a, I>(
    lock_requests: impl Iterator<Item = I>,
    durations: &[Duration],
) -> Duration
where
    I: Iterator<Item = (&'a Pubkey, bool)> + Clone,
{
    let mut tracker = ChainTracker::default();
    lock_requests
        .zip(durations)
        .fold(Duration::ZERO, |_, (requests, duration)| {
            tracker.add(requests, *duration)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn independent_transactions_take_the_longest_one() {
        let keys: Vec<Pubkey> = (0..3).map(|_| Pubkey::new_unique()).collect();
        let requests: Vec<Vec<(&Pubkey, bool)>> = keys.iter().map(|k| vec![(k, true)]).collect();
        let path = critical_path(
            requests.iter().map(|r| r.iter().copied()),
            &[ms(3), ms(5), ms(2)],
        );
        assert_eq!(path, ms(5));
    }

    #[test]
    fn a_chain_adds_up_and_readers_run_side_by_side() {
        let a = Pubkey::new_unique();
        let requests = [
            vec![(&a, true)],  // 0..2
            vec![(&a, false)], // 2..5
            vec![(&a, false)], // 2..4
            vec![(&a, true)],  // after both readers: 5..6
        ];
        let path = critical_path(
            requests.iter().map(|r| r.iter().copied()),
            &[ms(2), ms(3), ms(2), ms(1)],
        );
        assert_eq!(path, ms(6));
    }

    #[test]
    fn a_transaction_waits_for_the_latest_of_its_accounts() {
        let (a, b) = (Pubkey::new_unique(), Pubkey::new_unique());
        let requests = [
            vec![(&a, true)],             // 0..4
            vec![(&b, true)],             // 0..1
            vec![(&a, true), (&b, true)], // 4..5
        ];
        let path = critical_path(
            requests.iter().map(|r| r.iter().copied()),
            &[ms(4), ms(1), ms(1)],
        );
        assert_eq!(path, ms(5));
    }
}
