//! `AccountsDb`: the account store: concurrent loads, serialized batch commits, and the
//! incremental state hash.

use std::sync::{Arc, Mutex};

use dashmap::DashMap;
use log::debug;
use sdk_lite::{AccountSharedData, Hash, Pubkey, ReadableAccount};

use std::path::Path;

use crate::durable::compaction::BackgroundCompactor;
use crate::durable::{
    CompactionReport, DurableError, DurableLog, OpenOptions, Recovered, SegmentStats,
};
use crate::error::{OpenError, StoreError};
use crate::lt_hash::LtHash;

/// A slot number: slots are committed in ascending order.
pub type Slot = u64;

/// The account store of one chain (no forks).
///
/// * [`load`](Self::load) may be called from any number of threads at once; it never
///   blocks on a commit except for the instant a commit replaces the same account, and it
///   returns a whole account (clones share the data, see `AccountSharedData`).
/// * [`store`](Self::store) commits a batch; commits are serialized (one at a time) and
///   each updates the state hash by the accounts it changed.
/// * The newest slot stored stays *open* until [`commit_slot`](Self::commit_slot) makes
///   it final (or a later slot is stored): [`discard_slot`](Self::discard_slot) undoes
///   every store of an open slot, so a block rejected halfway through its replay leaves
///   the store as its parent left it. (The store keeps, for that, each account the open
///   slot changed as it was before: one map entry per account written, under the commit
///   lock.)
///
/// # What a load sees
/// Each account is replaced as a whole: a load returns the account as one commit left it,
/// never a mix of two. A batch is *not* applied atomically across accounts for readers
/// that take no locks: a reader may see the new value of one account and the old value of
/// another while the batch is being applied. The pipeline never observes that, because a
/// transaction loads only accounts it holds execution-level locks on
/// ([`AccountLocks`](crate::AccountLocks)), and a batch commits only accounts its own
/// transactions hold write locks on, until after the commit returns. So for the pipeline
/// a transaction's commit is atomic. (Tested under threads.)
///
/// # Swapping the backend
/// Callers use only the methods below. The in-memory map serves every load; a store
/// opened with [`open`](Self::open) also writes every commit to a durable backend
/// (append-only segments, crash recovery, compaction: see [`durable`](crate::durable))
/// behind the same methods.
#[derive(Debug)]
pub struct AccountsDb {
    accounts: DashMap<Pubkey, AccountSharedData, ahash::RandomState>,
    /// Held for the whole of a commit: commits are serialized, and the hash always
    /// matches the accounts once a commit returns.
    committed: Mutex<CommitState>,
    /// The durable backend, if the store was opened on a directory.
    durable: Option<Durable>,
}

/// The durable backend: the log, shared with its compaction thread.
#[derive(Debug)]
struct Durable {
    log: Arc<Mutex<DurableLog>>,
    compactor: Option<BackgroundCompactor>,
}

impl Durable {
    fn new(log: DurableLog) -> Self {
        let background = log.background_compaction();
        let log = Arc::new(Mutex::new(log));
        let compactor = background.then(|| BackgroundCompactor::start(Arc::clone(&log)));
        Self { log, compactor }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, DurableLog> {
        self.log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[derive(Debug)]
struct CommitState {
    slot: Slot,
    lt_hash: LtHash,
    /// The last slot made final by [`AccountsDb::commit_slot`] (or recovered, or genesis).
    final_slot: Slot,
    /// How to undo the open slot's stores, if it stored anything.
    open: Option<OpenSlot>,
}

impl CommitState {
    /// Makes `slot` and every slot before it final; returns what the open slot kept, if
    /// that slot is now final (to be dropped outside the lock).
    fn finalize(&mut self, slot: Slot) -> Option<OpenSlot> {
        self.final_slot = self.final_slot.max(slot);
        if self.open.as_ref().is_some_and(|open| open.slot <= slot) {
            self.open.take()
        } else {
            None
        }
    }
}

/// What the open slot's stores replaced: enough to put the store back as it was.
#[derive(Debug)]
struct OpenSlot {
    slot: Slot,
    /// The store's slot and hash before the slot's first store.
    slot_before: Slot,
    lt_hash_before: LtHash,
    /// Each account the slot changed, as it was before its first change (`None`: absent).
    previous: ahash::AHashMap<Pubkey, Option<AccountSharedData>>,
}

impl AccountsDb {
    /// A store holding `accounts` at slot 0 (accounts with 0 lamports are left out).
    ///
    /// # Errors
    /// [`StoreError::DuplicateGenesisAccount`] if an account is listed twice.
    pub fn new_with_genesis(
        accounts: impl IntoIterator<Item = (Pubkey, AccountSharedData)>,
    ) -> Result<Self, StoreError> {
        let map = DashMap::with_hasher(ahash::RandomState::new());
        let mut listed = ahash::AHashSet::new();
        let mut lt_hash = LtHash::identity();
        for (pubkey, account) in accounts {
            // Checked before zero-lamport entries are skipped: listing a key twice is an
            // error whatever the entries hold.
            if !listed.insert(pubkey) {
                return Err(StoreError::DuplicateGenesisAccount(pubkey));
            }
            check_data_len(&pubkey, &account)?;
            if account.lamports() == 0 {
                continue;
            }
            lt_hash.mix_in(&LtHash::of_account(&pubkey, &account));
            map.insert(pubkey, account);
        }
        debug!("genesis: {} accounts", map.len());
        Ok(Self {
            accounts: map,
            committed: Mutex::new(CommitState {
                slot: 0,
                lt_hash,
                final_slot: 0,
                open: None,
            }),
            durable: None,
        })
    }

    /// Opens the durable store in `dir`: recovers the state of its last committed slot, or,
    /// for a new directory, stores `genesis()` and commits it as slot 0. Later
    /// [`store`](Self::store) calls are buffered in the log, and
    /// [`commit_slot`](Self::commit_slot) makes a slot durable.
    ///
    /// # Errors
    /// [`OpenError::Durable`]: I/O, a directory that is not a store or is newer,
    /// corruption before the last commit, or recovered accounts that do not match the last
    /// commit's state hash. [`OpenError::Store`]: a genesis that lists a key twice.
    pub fn open(
        dir: &Path,
        genesis: impl FnOnce() -> Vec<(Pubkey, AccountSharedData)>,
        options: OpenOptions,
    ) -> Result<(Self, Recovered), OpenError> {
        let (mut log, recovered) = DurableLog::open(dir, options)?;
        let Some((slot, expected)) = recovered.last_commit else {
            let genesis = genesis();
            let mut store = Self::new_with_genesis(genesis.iter().cloned())?;
            log.append(0, &genesis);
            log.commit(0, &store.state_hash())?;
            store.durable = Some(Durable::new(log));
            return Ok((store, recovered));
        };
        let mut store = Self::new_with_genesis(recovered.accounts.iter().cloned())?;
        {
            let mut committed = store.commit_state();
            committed.slot = slot;
            committed.final_slot = slot;
        }
        let actual = store.state_hash();
        if actual != expected {
            return Err(DurableError::StateHashMismatch {
                slot,
                expected,
                actual,
            }
            .into());
        }
        store.durable = Some(Durable::new(log));
        Ok((store, recovered))
    }

    /// Makes everything stored up to now final as slot `slot`: no longer
    /// [discardable](Self::discard_slot), and, with the durable backend, durable.
    ///
    /// # Errors
    /// [`DurableError::SlotOutOfOrder`] for a slot before the last one stored or not after
    /// the last one committed; the backend's I/O error, after which the slot is not durable
    /// (a reopen recovers the previous one), the next successful commit includes its
    /// accounts, and it can still be discarded.
    pub fn commit_slot(&self, slot: Slot) -> Result<(), DurableError> {
        let mut committed = self.commit_state();
        let Some(durable) = &self.durable else {
            // Nothing to write: the slot (and any before it) is final.
            let finished = committed.finalize(slot);
            drop(committed);
            drop(finished);
            return Ok(());
        };
        if slot < committed.slot {
            // Later slots' accounts are stored: they cannot be made durable as `slot`.
            return Err(DurableError::SlotOutOfOrder {
                slot,
                last: committed.slot,
            });
        }
        let state_hash = committed.lt_hash.checksum();
        let mut log = durable.lock();
        log.commit(slot, &state_hash)?;
        let finished = committed.finalize(slot);
        drop(committed);
        if log.wants_compaction()
            && let Some(compactor) = &durable.compactor
        {
            compactor.wake();
        }
        drop(log);
        // What the slot replaced is released outside both locks.
        drop(finished);
        Ok(())
    }

    /// Compacts the durable backend now, on this thread: the run of sealed segments most
    /// worth rewriting (see [`durable::compact`](crate::durable::compact); call again while
    /// it returns `Some` to compact every such run); `Ok(None)` for an in-memory store or
    /// when there is nothing to gain. Loads and commits go on meanwhile.
    ///
    /// # Errors
    /// The backend's I/O error or a damaged sealed segment; the store stays as it was
    /// (or, for a failure to remove replaced files, compacted, with the files removed at
    /// the next open).
    pub fn compact(&self) -> Result<Option<CompactionReport>, DurableError> {
        let Some(durable) = &self.durable else {
            return Ok(None);
        };
        let report = crate::durable::compact(&durable.log);
        // Commits made meanwhile did not wake the background thread (a compaction was
        // running): if they left work, hand it over now.
        if durable.lock().wants_compaction()
            && let Some(compactor) = &durable.compactor
        {
            compactor.wake();
        }
        report
    }

    /// The durable backend's segments (`None` for an in-memory store).
    pub fn segment_stats(&self) -> Option<SegmentStats> {
        self.durable.as_ref().map(|durable| durable.lock().stats())
    }

    /// Whether the store has a durable backend.
    pub fn is_durable(&self) -> bool {
        self.durable.is_some()
    }

    /// The account stored under `pubkey`, if any (an account with 0 lamports is absent).
    pub fn load(&self, pubkey: &Pubkey) -> Option<AccountSharedData> {
        self.accounts.get(pubkey).map(|entry| entry.value().clone())
    }

    /// Commits `accounts` in `slot`, in order (a key listed twice ends as its last entry).
    /// An account with 0 lamports is deleted. The state hash moves by the changed accounts
    /// only.
    ///
    /// # Errors
    /// [`StoreError::SlotOutOfOrder`] if `slot` is before the last committed slot; nothing
    /// is stored then.
    pub fn store(
        &self,
        slot: Slot,
        accounts: &[(Pubkey, AccountSharedData)],
    ) -> Result<(), StoreError> {
        // The hashing happens before the commit lock is taken, so that workers committing
        // at once hash in parallel: the batch's whole effect on the state hash is summed
        // into one `delta`, assuming the accounts it replaces are the ones loaded now.
        // Under the lock those are re-checked (cheaply, by identity) and the rare one that
        // another commit changed in between is corrected.
        //
        // Only each key's final entry is hashed: an earlier entry of the same key (one
        // transaction of the batch writing what a later one overwrites) would be mixed in
        // and then out again, which cancels. A batch that is a chain of writes to one
        // account hashes it twice, not twice per transaction.
        let mut last_entry: ahash::AHashMap<Pubkey, usize> =
            ahash::AHashMap::with_capacity(accounts.len());
        for (position, (pubkey, account)) in accounts.iter().enumerate() {
            // Refused before anything is stored: this pass only indexes the batch.
            check_data_len(pubkey, account)?;
            last_entry.insert(*pubkey, position);
        }
        let mut delta = LtHash::identity();
        let mut replaced: ahash::AHashMap<Pubkey, Option<AccountSharedData>> =
            ahash::AHashMap::with_capacity(last_entry.len());
        for (pubkey, &position) in &last_entry {
            let stored = self.load(pubkey);
            if let Some(old) = &stored {
                delta.mix_out(&LtHash::of_account(pubkey, old));
            }
            delta.mix_in(&LtHash::of_account(pubkey, &accounts[position].1));
            replaced.insert(*pubkey, stored);
        }
        // The entries that end the batch, in batch order (all of them, and no copy, when
        // no key repeats: the usual case).
        let finals: std::borrow::Cow<'_, [(Pubkey, AccountSharedData)]> =
            if last_entry.len() == accounts.len() {
                std::borrow::Cow::Borrowed(accounts)
            } else {
                accounts
                    .iter()
                    .enumerate()
                    .filter(|(position, (pubkey, _))| last_entry[pubkey] == *position)
                    .map(|(_, entry)| entry.clone())
                    .collect()
            };

        // A slot that becomes final here (a later one is stored) releases what it kept
        // after the lock is released: declared before the guard, dropped after it.
        let mut _released = None;
        let mut committed = self
            .committed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if slot < committed.slot {
            return Err(StoreError::SlotOutOfOrder {
                slot,
                last_committed: committed.slot,
            });
        }
        if slot > committed.final_slot
            && committed.open.as_ref().is_none_or(|open| open.slot != slot)
        {
            // The first store of a slot: every slot before it is final from now on.
            committed.final_slot = committed.final_slot.max(committed.slot);
            _released = committed.open.take();
            committed.open = Some(OpenSlot {
                slot,
                slot_before: committed.slot,
                lt_hash_before: committed.lt_hash.clone(),
                previous: ahash::AHashMap::with_capacity(replaced.len()),
            });
        }
        // (A store into a final slot, as into genesis, is not undoable: nothing is kept.)
        let mut open = committed.open.as_mut().filter(|open| open.slot == slot);
        for (pubkey, assumed) in &replaced {
            let current = self.load(pubkey);
            if !same_account(current.as_ref(), assumed.as_ref()) {
                // Another commit changed it since: take out what is really replaced.
                if let Some(assumed) = assumed {
                    delta.mix_in(&LtHash::of_account(pubkey, assumed));
                }
                if let Some(current) = &current {
                    delta.mix_out(&LtHash::of_account(pubkey, current));
                }
            }
            if let Some(open) = open.as_mut() {
                open.previous.entry(*pubkey).or_insert(current);
            }
        }
        for (pubkey, account) in finals.iter() {
            if account.lamports() == 0 {
                self.accounts.remove(pubkey);
            } else {
                self.accounts.insert(*pubkey, account.clone());
            }
        }
        if let Some(durable) = &self.durable {
            durable.lock().append(slot, &finals);
        }
        committed.lt_hash.mix_in(&delta);
        committed.slot = slot;
        debug!("slot {slot}: stored {} accounts", accounts.len());
        Ok(())
    }

    /// Undoes every [`store`](Self::store) of `slot`, the open slot: each account it
    /// changed goes back to what it was, and the state hash and [`slot`](Self::slot) to
    /// what they were before its first store; with the durable backend, its records are
    /// dropped unwritten. A slot that stored nothing is discarded as it is. Call it when no
    /// store of `slot` is in flight (a rejected block's replay has ended).
    ///
    /// # Errors
    /// [`StoreError::SlotFinal`] if `slot` was made final by
    /// [`commit_slot`](Self::commit_slot) (or recovered), or a later slot was stored
    /// (which made it final); [`StoreError::LogPoisoned`] if a failed commit left the
    /// durable log unable to cut its file back (the slot may be on disk). Nothing changes
    /// then.
    pub fn discard_slot(&self, slot: Slot) -> Result<(), StoreError> {
        let mut committed = self.commit_state();
        if let Some(durable) = &self.durable
            && durable.lock().is_poisoned()
        {
            return Err(StoreError::LogPoisoned { slot });
        }
        let newest = committed.open.as_ref().map(|open| open.slot);
        if slot <= committed.final_slot || newest.is_some_and(|newest| newest > slot) {
            return Err(StoreError::SlotFinal {
                slot,
                last_final: committed.final_slot.max(newest.unwrap_or(0)),
            });
        }
        let Some(open) = committed.open.take_if(|open| open.slot == slot) else {
            return Ok(());
        };
        for (pubkey, previous) in &open.previous {
            match previous {
                Some(account) => {
                    self.accounts.insert(*pubkey, account.clone());
                }
                None => {
                    self.accounts.remove(pubkey);
                }
            }
        }
        committed.lt_hash = open.lt_hash_before;
        committed.slot = open.slot_before;
        if let Some(durable) = &self.durable {
            durable.lock().discard(slot);
        }
        debug!(
            "slot {slot}: discarded {} accounts' changes",
            open.previous.len()
        );
        Ok(())
    }

    /// The newest final slot: made final by [`commit_slot`](Self::commit_slot), recovered,
    /// genesis, or followed by a later slot's store. A slot at or before it can no longer
    /// be discarded, so nothing should be stored in it again (a second block for it).
    pub fn final_slot(&self) -> Slot {
        self.commit_state().final_slot
    }

    /// The last slot committed (0 after genesis).
    pub fn slot(&self) -> Slot {
        self.commit_state().slot
    }

    /// The lattice hash of every account, as of the last commit.
    pub fn lt_hash(&self) -> LtHash {
        self.commit_state().lt_hash.clone()
    }

    /// The 32-byte state digest: the checksum of [`lt_hash`](Self::lt_hash).
    pub fn state_hash(&self) -> Hash {
        self.commit_state().lt_hash.checksum()
    }

    /// The number of accounts stored.
    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    /// Whether no account is stored.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    /// Every account, sorted by key (a deterministic order; copies the index).
    pub fn accounts_sorted(&self) -> Vec<(Pubkey, AccountSharedData)> {
        let mut all: Vec<_> = self
            .accounts
            .iter()
            .map(|entry| (*entry.key(), entry.value().clone()))
            .collect();
        all.sort_unstable_by_key(|(pubkey, _)| *pubkey);
        all
    }

    /// The lattice hash recomputed from scratch over every account, sorted by key: the slow
    /// reference the incremental hash must equal. O(all accounts).
    pub fn recompute_lt_hash(&self) -> LtHash {
        let mut lt_hash = LtHash::identity();
        for (pubkey, account) in self.accounts_sorted() {
            lt_hash.mix_in(&LtHash::of_account(&pubkey, &account));
        }
        lt_hash
    }

    fn commit_state(&self) -> std::sync::MutexGuard<'_, CommitState> {
        // A panic while committing leaves the hash possibly out of step with the map; the
        // map itself is always whole, so reads go on (and tests compare with the reference).
        self.committed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Whether `a` and `b` are the same stored value: same fields and the same data buffer (a
/// commit always installs a new value, so an unchanged account shares its buffer).
fn same_account(a: Option<&AccountSharedData>, b: Option<&AccountSharedData>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            a.data_is_shared_with(b)
                && a.lamports() == b.lamports()
                && a.owner() == b.owner()
                && a.executable() == b.executable()
        }
        _ => false,
    }
}

/// Refuses an account whose data no account may hold (it could not be written to, or read
/// back from, the durable backend either).
fn check_data_len(key: &Pubkey, account: &AccountSharedData) -> Result<(), StoreError> {
    let len = account.data().len();
    if len as u64 > sdk_lite::MAX_PERMITTED_DATA_LENGTH {
        return Err(StoreError::DataTooLarge {
            key: *key,
            len,
            limit: sdk_lite::MAX_PERMITTED_DATA_LENGTH,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::durable::OpenOptions;
    use crate::durable::compaction::test_hooks;

    fn key(index: u64) -> Pubkey {
        let mut bytes = [0xB7; 32];
        bytes[..8].copy_from_slice(&index.to_le_bytes());
        Pubkey::new_from_array(bytes)
    }

    /// Slot `slot` overwrites five of 50 accounts, and is made durable.
    fn commit(store: &AccountsDb, slot: Slot) {
        let writes: Vec<(Pubkey, AccountSharedData)> = (0..5)
            .map(|offset| {
                let account = AccountSharedData::new_data(
                    slot * 1_000 + offset,
                    vec![slot as u8; 16],
                    &Pubkey::default(),
                );
                (key((slot * 7 + offset) % 50), account)
            })
            .collect();
        store
            .store(slot, &writes)
            .expect("slots are stored in order");
        store
            .commit_slot(slot)
            .expect("slots are committed in order");
    }

    fn wants_compaction(store: &AccountsDb) -> bool {
        store
            .durable
            .as_ref()
            .expect("a durable store")
            .lock()
            .wants_compaction()
    }

    /// The compaction thread decides there is no more work, then a commit makes a run
    /// worth compacting and wakes it, before the thread looks for a wake-up: the thread
    /// takes that wake-up there, and it must count as work, or the thread would sleep with
    /// work left and no commit to come.
    #[test]
    fn a_wake_up_taken_while_deciding_to_stop_is_not_lost() {
        let dir =
            std::env::temp_dir().join(format!("accounts-db-lost-wake-up-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (paused, on_pause) = mpsc::channel::<()>();
        let (resume, on_resume) = mpsc::channel::<()>();
        let mut fired = false;
        *test_hooks::AFTER_CHECK
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some(Box::new(move |wants_more| {
                if !wants_more && !fired {
                    fired = true;
                    let _ = paused.send(());
                    // Until the test has committed (or given up: the sender dropped).
                    let _ = on_resume.recv();
                }
            }));
        let options = OpenOptions {
            segment_bytes: 2_048,
            background_compaction: true,
            ..OpenOptions::default()
        };
        let genesis = || {
            (0..50)
                .map(|index| (key(index), AccountSharedData::new(1, 8, &Pubkey::default())))
                .collect()
        };
        let (store, _) = AccountsDb::open(&dir, genesis, options).expect("a fresh directory");
        for slot in 1..=60 {
            commit(&store, slot);
        }
        // The thread caught up and stopped, between its check and its look for a wake-up.
        on_pause
            .recv_timeout(Duration::from_secs(30))
            .expect("the compaction thread catches up");
        for slot in 61..=120 {
            commit(&store, slot);
        }
        assert!(
            wants_compaction(&store),
            "the new commits made a run worth compacting (else this test shows nothing)"
        );
        resume.send(()).expect("the hook waits");
        let deadline = Instant::now() + Duration::from_secs(30);
        while wants_compaction(&store) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(
            !wants_compaction(&store),
            "the wake-up taken after the check was treated as work"
        );
        drop(store);
        *test_hooks::AFTER_CHECK
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
