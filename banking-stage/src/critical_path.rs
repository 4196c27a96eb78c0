//! The critical path of a block: the longest chain of conflicting transactions, weighted
//! by how long each took. No schedule on any number of workers can finish sooner.

use std::time::Duration;

use ahash::AHashMap;
use sdk_lite::Pubkey;

/// Per account: the finish time (along its chain, in nanoseconds) of the last writer, and
/// the latest finish among the readers since.
#[derive(Default, Clone, Copy)]
struct AccountChain {
    last_write: u64,
    readers: u64,
}

/// The longest chain so far of transactions added in block order: a writer follows the
/// last writer and the readers since; a reader follows the last writer.
///
/// Each account is hashed once per transaction: its chain lives in a vector, and the map
/// gives its place there, so the second pass over a transaction's accounts (recording its
/// finish) reuses the places the first pass (finding when it can start) looked up. The
/// replayer's scheduler thread runs it on every block (along contested accounts only)
/// before the block's first task.
#[derive(Default)]
pub(crate) struct ChainTracker {
    places: AHashMap<Pubkey, usize>,
    chains: Vec<AccountChain>,
    /// The current transaction's accounts: their places, and whether it writes them.
    current: Vec<(usize, bool)>,
    longest: u64,
}

impl ChainTracker {
    /// A tracker with room for `accounts` accounts before it grows.
    pub(crate) fn with_capacity(accounts: usize) -> Self {
        Self {
            places: AHashMap::with_capacity(accounts),
            chains: Vec::with_capacity(accounts),
            ..Self::default()
        }
    }

    /// Adds the next transaction of the block, which takes `duration`; returns the length
    /// of the longest chain so far.
    pub(crate) fn add<'a>(
        &mut self,
        requests: impl Iterator<Item = (&'a Pubkey, bool)>,
        duration: Duration,
    ) -> Duration {
        self.current.clear();
        let mut ready = 0;
        for (key, writable) in requests {
            let next = self.chains.len();
            let place = *self.places.entry(*key).or_insert(next);
            if place == next {
                self.chains.push(AccountChain::default());
            }
            let chain = self.chains[place];
            ready = ready.max(if writable {
                chain.last_write.max(chain.readers)
            } else {
                chain.last_write
            });
            self.current.push((place, writable));
        }
        let finish = ready.saturating_add(u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX));
        for &(place, writable) in &self.current {
            let chain = &mut self.chains[place];
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
        Duration::from_nanos(self.longest)
    }
}

/// The critical path of transactions given in block order as their lock requests, with
/// `durations[i]` the time transaction `i` took.
pub(crate) fn critical_path<'a, I>(
    lock_requests: impl Iterator<Item = I>,
    durations: &[Duration],
) -> Duration
where
    I: Iterator<Item = (&'a Pubkey, bool)>,
{
    let mut tracker = ChainTracker::with_capacity(durations.len());
    lock_requests
        .zip(durations)
        .fold(Duration::ZERO, |_, (requests, duration)| {
            tracker.add(requests, *duration)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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

    /// The longest path through the conflict graph, directly: a transaction finishes its
    /// duration after the latest earlier transaction it conflicts with (both use an
    /// account, one of them writes it).
    fn naive_critical_path(requests: &[Vec<(Pubkey, bool)>], durations: &[Duration]) -> Duration {
        let conflict = |a: &[(Pubkey, bool)], b: &[(Pubkey, bool)]| {
            a.iter()
                .any(|(key, w)| b.iter().any(|(other, v)| key == other && (*w || *v)))
        };
        let mut finish: Vec<Duration> = Vec::with_capacity(requests.len());
        for (j, duration) in durations.iter().enumerate() {
            let ready = (0..j)
                .filter(|&i| conflict(&requests[i], &requests[j]))
                .map(|i| finish[i])
                .max()
                .unwrap_or(Duration::ZERO);
            finish.push(ready + *duration);
        }
        finish.into_iter().max().unwrap_or(Duration::ZERO)
    }

    proptest! {
        #[test]
        fn the_tracker_finds_the_longest_path_of_the_conflict_graph(
            block in prop::collection::vec(
                (prop::collection::vec((0usize..6, any::<bool>()), 0..4), 0u64..50),
                0..40,
            ),
        ) {
            let keys: Vec<Pubkey> = (0..6).map(|_| Pubkey::new_unique()).collect();
            // A transaction names an account once (a write where it asks for both).
            let requests: Vec<Vec<(Pubkey, bool)>> = block
                .iter()
                .map(|(accounts, _)| {
                    let mut merged: Vec<(Pubkey, bool)> = Vec::new();
                    for &(account, writable) in accounts {
                        match merged.iter_mut().find(|(key, _)| *key == keys[account]) {
                            Some((_, w)) => *w |= writable,
                            None => merged.push((keys[account], writable)),
                        }
                    }
                    merged
                })
                .collect();
            let durations: Vec<Duration> =
                block.iter().map(|&(_, micros)| Duration::from_micros(micros)).collect();
            prop_assert_eq!(
                critical_path(
                    requests.iter().map(|r| r.iter().map(|(key, w)| (key, *w))),
                    &durations,
                ),
                naive_critical_path(&requests, &durations)
            );
        }
    }
}
