//! `Bank`: one slot's view of the chain: checks transactions, runs batches through
//! `svm-lite` against the account store, commits them, and freezes into a bank hash.

use std::borrow::Borrow;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};

use accounts_db_lite::{AccountsDb, Slot, StoreError};
use sdk_lite::{
    AccountSharedData, DEFAULT_LAMPORTS_PER_SIGNATURE, Hash, Pubkey, SanitizedTransaction,
    TransactionError,
};
use svm_lite::{
    BatchOutput, ProcessingConfig, ProcessingEnvironment, ProgramRegistry, Rent, TransactionCheck,
    TransactionProcessingCallback, load_and_execute_sanitized_transactions,
};
use thiserror::Error;

use crate::blockhash_queue::BlockhashQueue;
use crate::status_cache::StatusCache;

/// Chain parameters every bank of a chain shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BankConfig {
    /// The fee per signature.
    pub lamports_per_signature: u64,
    /// The rent parameters.
    pub rent: Rent,
}

impl Default for BankConfig {
    fn default() -> Self {
        Self {
            lamports_per_signature: DEFAULT_LAMPORTS_PER_SIGNATURE,
            rent: Rent::default(),
        }
    }
}

/// Why a bank refused an operation.
#[derive(Debug, Error)]
pub enum BankError {
    /// A child bank needs a frozen parent.
    #[error("parent bank of slot {slot} is not frozen")]
    ParentNotFrozen {
        /// The parent's slot.
        slot: Slot,
    },
    /// A child's slot must come after its parent's.
    #[error("slot {slot} does not come after its parent's slot {parent}")]
    SlotNotAfterParent {
        /// The parent's slot.
        parent: Slot,
        /// The refused slot.
        slot: Slot,
    },
    /// The bank is frozen: nothing more can be committed to it.
    #[error("bank of slot {slot} is frozen")]
    Frozen {
        /// The bank's slot.
        slot: Slot,
    },
    /// The account store refused the commit.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The durable store could not make a slot durable.
    #[error(transparent)]
    Durable(#[from] accounts_db_lite::durable::DurableError),
    /// The bank's commits were undone ([`Bank::discard`]): it cannot be a parent, be
    /// persisted or be discarded again.
    #[error("bank of slot {slot} was discarded")]
    Discarded {
        /// The bank's slot.
        slot: Slot,
    },
    /// The store has a final slot after the parent (a child of it was accepted): the
    /// store no longer holds the parent's state, and there are no forks.
    #[error("bank of slot {parent} is not the store's tip: slot {final_slot} is final after it")]
    ParentNotTip {
        /// The parent's slot.
        parent: Slot,
        /// The store's newest final slot.
        final_slot: Slot,
    },
    /// The bank's parent has a later child: only the newest child of a parent may be
    /// discarded.
    #[error("bank of slot {slot} was superseded by a later child of its parent")]
    Superseded {
        /// The bank's slot.
        slot: Slot,
    },
    /// A resumed store and the blocks it is resumed with do not agree.
    #[error("cannot resume at slot {slot}: {reason}")]
    Resume {
        /// The store's last committed slot.
        slot: Slot,
        /// What does not agree.
        reason: String,
    },
}

/// What a commit did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitSummary {
    /// Transactions committed (executed, successfully or not, or fees-only).
    pub committed: usize,
    /// Of those, the ones whose instructions succeeded.
    pub succeeded: usize,
    /// Fees collected.
    pub fees: u64,
}

/// One slot's bank.
///
/// Many workers may check, execute and commit against one bank at once (commits take a
/// shared lock, the store serializes the writes); [`freeze`](Self::freeze) takes the lock
/// exclusively, so it waits for commits in progress, and refuses every later one. Child
/// banks build on a frozen parent and share its store and status cache: no forks.
#[derive(Debug)]
pub struct Bank {
    slot: Slot,
    parent_hash: Hash,
    blockhash: Hash,
    config: BankConfig,
    accounts: Arc<AccountsDb>,
    /// The blockhashes of this bank's ancestors (not its own): what its transactions may
    /// name.
    blockhash_queue: BlockhashQueue,
    status_cache: Arc<Mutex<StatusCache>>,
    signature_count: AtomicU64,
    collected_fees: AtomicU64,
    transaction_count: AtomicU64,
    /// Held shared by commits, exclusively by `freeze`; `true` once frozen.
    frozen: RwLock<bool>,
    hash: OnceLock<Hash>,
    /// Its commits were undone ([`Bank::discard`]): it may not be a parent or persisted.
    discarded: AtomicBool,
    /// How many children were made of this bank.
    children: Arc<AtomicU64>,
    /// The parent's `children` and this bank's number among them: a bank whose parent had
    /// a child after it (a retry of its slot) may not discard, since the store's open slot
    /// is then that sibling's.
    sibling: Option<(Arc<AtomicU64>, u64)>,
}

impl Bank {
    /// The genesis bank (slot 0) over `accounts`.
    ///
    /// # Errors
    /// The store's error for an invalid genesis (a key listed twice).
    pub fn new_genesis(
        accounts: impl IntoIterator<Item = (Pubkey, AccountSharedData)>,
        config: BankConfig,
    ) -> Result<Self, BankError> {
        Self::new_genesis_with_store(AccountsDb::new_with_genesis(accounts)?, config)
    }

    /// The genesis bank (slot 0) over a store the caller built: a durable one
    /// ([`AccountsDb::open`] on a new directory), say. The store must be at slot 0.
    ///
    /// # Errors
    /// [`BankError::SlotNotAfterParent`] if the store has committed slots after genesis
    /// (resuming a chain needs the banks' own state too, which is not persisted yet).
    pub fn new_genesis_with_store(
        accounts: AccountsDb,
        config: BankConfig,
    ) -> Result<Self, BankError> {
        if accounts.slot() != 0 {
            return Err(BankError::SlotNotAfterParent {
                parent: accounts.slot(),
                slot: 0,
            });
        }
        let accounts = Arc::new(accounts);
        let mut blockhash_queue = BlockhashQueue::default();
        let genesis_blockhash = Self::first_blockhash();
        blockhash_queue.register(genesis_blockhash);
        Ok(Self::new(
            0,
            Hash::default(),
            derive_blockhash(&genesis_blockhash, 0),
            config,
            accounts,
            blockhash_queue,
            Arc::new(Mutex::new(StatusCache::default())),
        ))
    }

    /// The frozen bank of the store's last committed slot, rebuilt for a restart from the
    /// store (a durable one, reopened) and the chain's blocks up to that slot, in order.
    ///
    /// What a bank keeps besides the accounts is derived from the blocks: the blockhash
    /// chain (each slot's blockhash derives from its parent's), the blockhash queue, the
    /// status cache (the signatures of the last `MAX_PROCESSING_AGE` banks), and the bank
    /// hash, which is recomputed from the store's state hash and must equal the last
    /// block's: a store and blocks that do not belong together are refused.
    ///
    /// # Errors
    /// [`BankError::Resume`]: no block for a store past genesis, a last block whose slot
    /// is not the store's, blocks that do not chain (a parent hash that is not the previous
    /// block's bank hash, slots not ascending), or a recomputed bank hash that differs.
    pub fn resume(
        accounts: AccountsDb,
        config: BankConfig,
        blocks: &[crate::block::Block],
    ) -> Result<Self, BankError> {
        let slot = accounts.slot();
        let refuse = |reason: String| BankError::Resume { slot, reason };
        if slot == 0 {
            if !blocks.is_empty() {
                return Err(refuse(format!(
                    "the store is at genesis but {} blocks were given",
                    blocks.len()
                )));
            }
            let bank = Self::new_genesis_with_store(accounts, config)?;
            bank.freeze();
            return Ok(bank);
        }
        let Some(last) = blocks.last() else {
            return Err(refuse("no blocks were given".to_owned()));
        };
        if last.slot != slot {
            return Err(refuse(format!("the last block is of slot {}", last.slot)));
        }
        for pair in blocks.windows(2) {
            if pair[1].slot <= pair[0].slot || pair[1].parent_hash != pair[0].bank_hash {
                return Err(refuse(format!(
                    "block {} does not build on block {}",
                    pair[1].slot, pair[0].slot
                )));
            }
        }
        // The blockhash chain, as `new_genesis_with_store` and `new_from_parent` build it.
        // Each block's signatures are remembered at its bank's queue clock, as its commits
        // recorded them.
        let mut blockhash_queue = BlockhashQueue::default();
        let first = Self::first_blockhash();
        blockhash_queue.register(first);
        let mut blockhash = derive_blockhash(&first, 0);
        let mut status_cache = StatusCache::default();
        let mut signature_count = 0u64;
        for block in blocks {
            blockhash_queue.register(blockhash);
            blockhash = derive_blockhash(&blockhash, block.slot);
            let transactions = block.entries.iter().flat_map(|entry| &entry.transactions);
            for transaction in transactions {
                status_cache.insert(*transaction.signature(), blockhash_queue.registered());
                if block.slot == slot {
                    signature_count += transaction.num_signatures() as u64;
                }
            }
        }
        status_cache.prune(blockhash_queue.registered());
        let bank = Self::new(
            slot,
            last.parent_hash,
            blockhash,
            config,
            Arc::new(accounts),
            blockhash_queue,
            Arc::new(Mutex::new(status_cache)),
        );
        bank.signature_count
            .store(signature_count, Ordering::Relaxed);
        bank.transaction_count
            .store(last.transaction_count() as u64, Ordering::Relaxed);
        let hash = bank.freeze();
        if hash != last.bank_hash {
            return Err(refuse(format!(
                "the store's state gives bank hash {hash}, the last block says {}",
                last.bank_hash
            )));
        }
        Ok(bank)
    }

    /// A child of the frozen `parent` for `slot`.
    ///
    /// # Errors
    /// If the parent is not frozen or was discarded, if `slot` does not come after it, or
    /// if the store has a final slot after it ([`BankError::ParentNotTip`]: a child of it
    /// was accepted, so another block for its child's slot is refused before it runs).
    pub fn new_from_parent(parent: &Bank, slot: Slot) -> Result<Self, BankError> {
        if parent.is_discarded() {
            return Err(BankError::Discarded { slot: parent.slot });
        }
        let final_slot = parent.accounts.final_slot();
        if final_slot > parent.slot {
            // The store holds a final slot after the parent (a child of it was accepted):
            // its state is no longer the parent's, and there are no forks.
            return Err(BankError::ParentNotTip {
                parent: parent.slot,
                final_slot,
            });
        }
        let Some(parent_hash) = parent.hash() else {
            return Err(BankError::ParentNotFrozen { slot: parent.slot });
        };
        if slot <= parent.slot {
            return Err(BankError::SlotNotAfterParent {
                parent: parent.slot,
                slot,
            });
        }
        let mut blockhash_queue = parent.blockhash_queue.clone();
        blockhash_queue.register(parent.blockhash);
        parent
            .status_cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .prune(blockhash_queue.registered());
        let mut child = Self::new(
            slot,
            parent_hash,
            derive_blockhash(&parent.blockhash, slot),
            parent.config,
            Arc::clone(&parent.accounts),
            blockhash_queue,
            Arc::clone(&parent.status_cache),
        );
        let number = parent.children.fetch_add(1, Ordering::AcqRel) + 1;
        child.sibling = Some((Arc::clone(&parent.children), number));
        Ok(child)
    }

    fn new(
        slot: Slot,
        parent_hash: Hash,
        blockhash: Hash,
        config: BankConfig,
        accounts: Arc<AccountsDb>,
        blockhash_queue: BlockhashQueue,
        status_cache: Arc<Mutex<StatusCache>>,
    ) -> Self {
        Self {
            slot,
            parent_hash,
            blockhash,
            config,
            accounts,
            blockhash_queue,
            status_cache,
            signature_count: AtomicU64::new(0),
            collected_fees: AtomicU64::new(0),
            transaction_count: AtomicU64::new(0),
            frozen: RwLock::new(false),
            discarded: AtomicBool::new(false),
            hash: OnceLock::new(),
            children: Arc::new(AtomicU64::new(0)),
            sibling: None,
        }
    }

    /// The blockhash every chain's first transactions name (the "parent" blockhash of
    /// genesis). Fixed, so that a workload can be built before its genesis bank exists;
    /// it stays valid for 150 banks.
    pub fn first_blockhash() -> Hash {
        derive_blockhash(&Hash::default(), 0)
    }

    /// The bank's slot.
    pub fn slot(&self) -> Slot {
        self.slot
    }

    /// The parent's bank hash (the default hash for genesis).
    pub fn parent_hash(&self) -> Hash {
        self.parent_hash
    }

    /// This slot's blockhash: `blake3("BLOCKHASH" || parent's blockhash || slot)`. (A real
    /// chain takes it from its proof of history; here it only needs to be deterministic
    /// and unique per slot.)
    pub fn blockhash(&self) -> Hash {
        self.blockhash
    }

    /// The newest blockhash a transaction of this slot may name (the parent's).
    pub fn last_blockhash(&self) -> Hash {
        *self
            .blockhash_queue
            .last()
            .expect("invariant: every bank's queue holds its parent's blockhash")
    }

    /// The account store.
    pub fn accounts(&self) -> &Arc<AccountsDb> {
        &self.accounts
    }

    /// Fees collected in this slot.
    pub fn collected_fees(&self) -> u64 {
        self.collected_fees.load(Ordering::Relaxed)
    }

    /// Transactions committed in this slot.
    pub fn transaction_count(&self) -> u64 {
        self.transaction_count.load(Ordering::Relaxed)
    }

    /// Signatures of the transactions committed in this slot.
    pub fn signature_count(&self) -> u64 {
        self.signature_count.load(Ordering::Relaxed)
    }

    /// The environment a batch of this slot runs under.
    pub fn processing_environment(&self) -> ProcessingEnvironment {
        ProcessingEnvironment {
            slot: self.slot,
            blockhash: self.blockhash,
            lamports_per_signature: self.config.lamports_per_signature,
            rent: self.config.rent,
        }
    }

    /// The bank's checks, per transaction: already committed (or listed twice in this
    /// batch) is `AlreadyProcessed`; a recent blockhash passes; any other blockhash must be
    /// a durable nonce (which the processor then verifies).
    pub fn check_transactions<T: Borrow<SanitizedTransaction>>(
        &self,
        transactions: &[T],
    ) -> Vec<Result<TransactionCheck, TransactionError>> {
        let status_cache = self
            .status_cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut seen = ahash::AHashSet::with_capacity(transactions.len());
        transactions
            .iter()
            .map(|transaction| {
                let transaction = transaction.borrow();
                let signature = transaction.signature();
                if status_cache.contains(signature) || !seen.insert(*signature) {
                    Err(TransactionError::AlreadyProcessed)
                } else if self
                    .blockhash_queue
                    .contains(transaction.recent_blockhash())
                {
                    Ok(TransactionCheck::RecentBlockhash)
                } else {
                    Ok(TransactionCheck::DurableNonce)
                }
            })
            .collect()
    }

    /// Checks and runs a batch against the bank's current state (nothing is committed).
    pub fn load_and_execute<T: Borrow<SanitizedTransaction>>(
        &self,
        programs: &ProgramRegistry,
        transactions: &[T],
        config: &ProcessingConfig<'_>,
    ) -> BatchOutput {
        let checks = self.check_transactions(transactions);
        match load_and_execute_sanitized_transactions(
            self,
            programs,
            transactions,
            &checks,
            &self.processing_environment(),
            config,
        ) {
            Ok(output) => output,
            Err(never) => match never {},
        }
    }

    /// Commits a batch's results: the accounts, in order, the fees and the signatures.
    ///
    /// # Errors
    /// [`BankError::Frozen`] once the bank is frozen; the store's error.
    pub fn commit<T: Borrow<SanitizedTransaction>>(
        &self,
        transactions: &[T],
        output: &BatchOutput,
    ) -> Result<CommitSummary, BankError> {
        let frozen = self.frozen.read().unwrap_or_else(PoisonError::into_inner);
        if *frozen {
            return Err(BankError::Frozen { slot: self.slot });
        }
        let mut summary = CommitSummary::default();
        let mut writes = Vec::new();
        let mut signatures = 0u64;
        for (transaction, result) in transactions.iter().zip(&output.results) {
            let Ok(processed) = result else { continue };
            let transaction = transaction.borrow();
            writes.extend(processed.accounts().iter().cloned());
            summary.committed += 1;
            summary.succeeded += usize::from(processed.was_successful());
            summary.fees = summary
                .fees
                .saturating_add(processed.fee().total().unwrap_or(0));
            signatures += transaction.num_signatures() as u64;
        }
        self.accounts.store(self.slot, &writes)?;
        {
            let mut status_cache = self
                .status_cache
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            for (transaction, result) in transactions.iter().zip(&output.results) {
                if result.is_ok() {
                    status_cache.insert(
                        *transaction.borrow().signature(),
                        self.blockhash_queue.registered(),
                    );
                }
            }
        }
        self.collected_fees
            .fetch_add(summary.fees, Ordering::Relaxed);
        self.signature_count
            .fetch_add(signatures, Ordering::Relaxed);
        self.transaction_count
            .fetch_add(summary.committed as u64, Ordering::Relaxed);
        Ok(summary)
    }

    /// Freezes the bank (waiting for commits in progress) and returns its hash:
    /// `blake3(parent hash || state hash || signature count || blockhash)`. Idempotent.
    pub fn freeze(&self) -> Hash {
        let mut frozen = self.frozen.write().unwrap_or_else(PoisonError::into_inner);
        *frozen = true;
        *self.hash.get_or_init(|| {
            let mut hasher = blake3::Hasher::new();
            hasher.update(self.parent_hash.as_ref());
            hasher.update(self.accounts.state_hash().as_ref());
            hasher.update(&self.signature_count().to_le_bytes());
            hasher.update(self.blockhash.as_ref());
            Hash::new_from_array(*hasher.finalize().as_bytes())
        })
    }

    /// Makes the frozen bank's slot durable in its store ([`AccountsDb::commit_slot`]);
    /// nothing to do for an in-memory store.
    ///
    /// # Errors
    /// [`BankError::Durable`]; [`BankError::ParentNotFrozen`] (naming this bank) if the
    /// bank is not frozen yet.
    pub fn persist(&self) -> Result<(), BankError> {
        if self.is_discarded() {
            return Err(BankError::Discarded { slot: self.slot });
        }
        if self.hash().is_none() {
            return Err(BankError::ParentNotFrozen { slot: self.slot });
        }
        self.accounts.commit_slot(self.slot)?;
        Ok(())
    }

    /// Undoes everything this bank committed, for a block rejected after some of it ran:
    /// the store's accounts, state hash and slot go back to what the parent left
    /// ([`AccountsDb::discard_slot`]) and the status cache forgets the signatures this bank
    /// committed, so another block can be replayed on the same parent. The bank takes no
    /// more commits (it waits for those in flight) and cannot be a parent or be persisted.
    ///
    /// # Errors
    /// [`BankError::Store`] (`SlotFinal`) if the bank was persisted or a later slot was
    /// stored; [`BankError::Discarded`] if it was discarded already;
    /// [`BankError::Superseded`] if its parent has a later child (whose commits the store's
    /// open slot now holds). Nothing changes then.
    pub fn discard(&self) -> Result<(), BankError> {
        let mut frozen = self.frozen.write().unwrap_or_else(PoisonError::into_inner);
        if self.is_discarded() {
            return Err(BankError::Discarded { slot: self.slot });
        }
        if let Some((children, number)) = &self.sibling
            && children.load(Ordering::Acquire) != *number
        {
            return Err(BankError::Superseded { slot: self.slot });
        }
        self.accounts.discard_slot(self.slot)?;
        *frozen = true;
        self.discarded.store(true, Ordering::Release);
        self.status_cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .forget(self.blockhash_queue.registered());
        Ok(())
    }

    /// Whether [`discard`](Self::discard) undid this bank's commits.
    pub fn is_discarded(&self) -> bool {
        self.discarded.load(Ordering::Acquire)
    }

    /// The bank hash, once frozen.
    pub fn hash(&self) -> Option<Hash> {
        self.hash.get().copied()
    }
}

/// The svm reads accounts straight from the store.
impl TransactionProcessingCallback for Bank {
    type Error = std::convert::Infallible;

    fn get_account(&self, key: &Pubkey) -> Result<Option<AccountSharedData>, Self::Error> {
        Ok(self.accounts.load(key))
    }
}

fn derive_blockhash(parent_blockhash: &Hash, slot: Slot) -> Hash {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"BLOCKHASH");
    hasher.update(parent_blockhash.as_ref());
    hasher.update(&slot.to_le_bytes());
    Hash::new_from_array(*hasher.finalize().as_bytes())
}
