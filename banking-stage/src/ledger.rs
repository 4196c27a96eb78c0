//! `Ledger`: a directory holding a chain's durable account store and its blocks, from
//! which a node restarts where it stopped.
//!
//! # Layout
//! ```text
//! DIR/genesis.chain              a block file with the genesis and the chain parameters
//! DIR/accounts/                  the durable account store (accounts-db-lite)
//! DIR/blocks/slot-0000000001.block   one block file per slot (no genesis, one block)
//! ```
//!
//! # Order of writes
//! A slot's block file is made durable ([`Chain::write_to`]: written to a temporary name,
//! fsync'd, renamed, the directory fsync'd) *before* the store commits the slot. So every slot the store
//! has committed has its block on disk. A crash between the two leaves a block file past
//! the store's last slot: at open it is removed (the slot never happened), as is a
//! temporary file a crash left.
//!
//! # Resuming
//! [`Ledger::open`] reopens the store (its own recovery: torn tails, checksums, state
//! hash) and reads the blocks up to its slot; [`Bank::resume`] rebuilds the last frozen
//! bank from them and checks that the store's state gives the last block's bank hash.
//! Producing continues from that bank; [`Ledger::chain`] gives the whole chain from
//! genesis, for a replay that verifies every block.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use accounts_db_lite::durable::{DurableError, OpenOptions};
use accounts_db_lite::{AccountsDb, OpenError};
use sdk_lite::{AccountSharedData, Pubkey};
use thiserror::Error;

use crate::bank::{Bank, BankConfig, BankError};
use crate::block::Block;
use crate::block_file::{BlockFileError, Chain};

const GENESIS_FILE: &str = "genesis.chain";
const ACCOUNTS_DIR: &str = "accounts";
const BLOCKS_DIR: &str = "blocks";
const BLOCK_PREFIX: &str = "slot-";
const BLOCK_SUFFIX: &str = ".block";
/// What `Chain::write_to` names its temporary file (`slot-N.block` → `slot-N.partial`).
const PARTIAL_SUFFIX: &str = ".partial";

/// Why a ledger could not be opened or written.
#[derive(Debug, Error)]
pub enum LedgerError {
    /// A file operation failed.
    #[error("{operation} {path}: {source}")]
    Io {
        /// What was being done.
        operation: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The account store could not be opened.
    #[error("account store: {0}")]
    Store(#[from] OpenError),
    /// A block file (or the genesis file) is bad.
    #[error("{path}: {source}")]
    BlockFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: BlockFileError,
    },
    /// The store and the blocks do not belong together, or the store could not commit.
    #[error(transparent)]
    Bank(#[from] BankError),
    /// A block file names a slot other than its file name's, or a slot is missing.
    #[error("{path}: {reason}")]
    Inconsistent {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The ledger's genesis is not the one this run was asked to start from.
    #[error("{0} holds another chain (its genesis differs from this run's)")]
    OtherChain(PathBuf),
    /// The blocks go further than the account store by more than the one slot a crash can
    /// leave: the store was lost, or replaced by an older copy. Nothing was changed.
    #[error(
        "{path}: the account store is at slot {store_slot} but blocks go up to slot {last_block}: \
         the store was lost or is older than the blocks"
    )]
    StoreBehindBlocks {
        /// The ledger.
        path: PathBuf,
        /// The store's last committed slot.
        store_slot: u64,
        /// The last block's slot.
        last_block: u64,
    },
}

fn io(operation: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> LedgerError {
    let path = path.to_path_buf();
    move |source| LedgerError::Io {
        operation,
        path,
        source,
    }
}

/// A chain's ledger directory (see the module doc).
#[derive(Debug)]
pub struct Ledger {
    dir: PathBuf,
    config: BankConfig,
    genesis: Vec<(Pubkey, AccountSharedData)>,
}

/// Two ledgers are the same ledger when they are the same directory.
impl PartialEq for Ledger {
    fn eq(&self, other: &Self) -> bool {
        self.dir == other.dir
    }
}

impl Eq for Ledger {}

impl Ledger {
    /// Opens the ledger in `dir`, creating it from `genesis` and `config` if it is new,
    /// and returns it with the frozen bank to build on: genesis for a new ledger, the last
    /// committed slot's bank for an existing one.
    ///
    /// # Errors
    /// I/O; a store that does not open (see `AccountsDb::open`); a bad block file; blocks
    /// and store that do not agree ([`BankError::Resume`]); a ledger of another chain.
    pub fn open(
        dir: &Path,
        genesis: Vec<(Pubkey, AccountSharedData)>,
        config: BankConfig,
    ) -> Result<(Self, Arc<Bank>), LedgerError> {
        let blocks_dir = dir.join(BLOCKS_DIR);
        std::fs::create_dir_all(&blocks_dir).map_err(io("create", &blocks_dir))?;
        let genesis_path = dir.join(GENESIS_FILE);
        let (genesis, config) = if genesis_path.exists() {
            let chain =
                Chain::read_from(&genesis_path).map_err(|source| LedgerError::BlockFile {
                    path: genesis_path.clone(),
                    source,
                })?;
            if chain.genesis != genesis || chain.config != config {
                return Err(LedgerError::OtherChain(dir.to_path_buf()));
            }
            (chain.genesis, chain.config)
        } else {
            let chain = Chain {
                genesis,
                config,
                blocks: Vec::new(),
            };
            write_chain(&genesis_path, &chain)?;
            (chain.genesis, chain.config)
        };
        // Checked before the store is opened (which would create a missing one at
        // genesis): a crash leaves at most one block past the store's last slot.
        let accounts_dir = dir.join(ACCOUNTS_DIR);
        let blocks_on_disk = block_slots(&blocks_dir)?;
        if !accounts_dir.exists()
            && let Some(&last_block) = blocks_on_disk.last()
        {
            return Err(LedgerError::StoreBehindBlocks {
                path: dir.to_path_buf(),
                store_slot: 0,
                last_block,
            });
        }
        let (accounts, recovered) =
            AccountsDb::open(&accounts_dir, || genesis.clone(), OpenOptions::default())?;
        let store_slot = accounts.slot();
        if blocks_on_disk
            .iter()
            .filter(|&&slot| slot > store_slot)
            .count()
            > 1
        {
            return Err(LedgerError::StoreBehindBlocks {
                path: dir.to_path_buf(),
                store_slot,
                last_block: blocks_on_disk.last().copied().unwrap_or(0),
            });
        }
        if let Some(tail) = recovered.torn_tail {
            log::warn!(
                "{}: the account store discarded {} bytes of an unfinished slot",
                dir.display(),
                tail.bytes
            );
        }
        let ledger = Self {
            dir: dir.to_path_buf(),
            config,
            genesis,
        };
        let blocks = ledger.read_blocks(Some(accounts.slot()))?;
        let bank = Bank::resume(accounts, config, &blocks)?;
        Ok((ledger, Arc::new(bank)))
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Makes `block` durable as its slot's block file (before its bank commits the slot
    /// to the store: see the module doc).
    ///
    /// # Errors
    /// I/O.
    pub fn append_block(&self, block: &Block) -> Result<(), LedgerError> {
        let chain = Chain {
            genesis: Vec::new(),
            config: self.config,
            blocks: vec![block.clone()],
        };
        write_chain(&block_path(&self.dir, block.slot), &chain)
    }

    /// The whole chain: genesis, parameters, and every block, for a replay from genesis.
    ///
    /// # Errors
    /// I/O or a bad block file.
    pub fn chain(&self) -> Result<Chain, LedgerError> {
        Ok(Chain {
            genesis: self.genesis.clone(),
            config: self.config,
            blocks: self.read_blocks(None)?,
        })
    }

    /// The chain in the ledger directory `dir` (genesis, parameters, every block), read
    /// without opening its account store or changing anything: what `replay` verifies.
    ///
    /// # Errors
    /// I/O, or a missing or bad genesis or block file.
    pub fn read_chain(dir: &Path) -> Result<Chain, LedgerError> {
        let genesis_path = dir.join(GENESIS_FILE);
        let chain = Chain::read_from(&genesis_path).map_err(|source| LedgerError::BlockFile {
            path: genesis_path,
            source,
        })?;
        let ledger = Self {
            dir: dir.to_path_buf(),
            config: chain.config,
            genesis: chain.genesis,
        };
        ledger.chain()
    }

    /// Reads the block files in slot order. With `up_to`, block files past that slot (a
    /// slot whose block was written but whose accounts were never committed) and
    /// temporary files are removed first.
    fn read_blocks(&self, up_to: Option<u64>) -> Result<Vec<Block>, LedgerError> {
        let blocks_dir = self.dir.join(BLOCKS_DIR);
        let mut removed = false;
        if up_to.is_some() {
            let entries = std::fs::read_dir(&blocks_dir).map_err(io("list", &blocks_dir))?;
            for entry in entries {
                let entry = entry.map_err(io("list", &blocks_dir))?;
                if entry
                    .file_name()
                    .to_str()
                    .is_some_and(|name| name.ends_with(PARTIAL_SUFFIX))
                {
                    let path = entry.path();
                    std::fs::remove_file(&path).map_err(io("remove", &path))?;
                    removed = true;
                }
            }
        }
        let mut slots = block_slots(&blocks_dir)?;
        if let Some(last) = up_to {
            for &slot in slots.iter().filter(|&&slot| slot > last) {
                log::warn!(
                    "{}: slot {slot} was never committed to the store; dropping its block",
                    self.dir.display()
                );
                let path = block_path(&self.dir, slot);
                std::fs::remove_file(&path).map_err(io("remove", &path))?;
                removed = true;
            }
            slots.retain(|&slot| slot <= last);
        }
        if removed {
            sync_dir(&blocks_dir)?;
        }
        let mut blocks = Vec::with_capacity(slots.len());
        for slot in slots {
            let path = block_path(&self.dir, slot);
            let chain = Chain::read_from(&path).map_err(|source| LedgerError::BlockFile {
                path: path.clone(),
                source,
            })?;
            let [block] = <[Block; 1]>::try_from(chain.blocks).map_err(|blocks| {
                LedgerError::Inconsistent {
                    path: path.clone(),
                    reason: format!("holds {} blocks instead of one", blocks.len()),
                }
            })?;
            if block.slot != slot {
                return Err(LedgerError::Inconsistent {
                    path,
                    reason: format!("holds the block of slot {}", block.slot),
                });
            }
            blocks.push(block);
        }
        Ok(blocks)
    }
}

/// The slots of the block files in `blocks_dir`, ascending.
fn block_slots(blocks_dir: &Path) -> Result<Vec<u64>, LedgerError> {
    let mut slots = Vec::new();
    let entries = std::fs::read_dir(blocks_dir).map_err(io("list", blocks_dir))?;
    for entry in entries {
        let entry = entry.map_err(io("list", blocks_dir))?;
        let Some(slot) = entry.file_name().to_str().and_then(|name| {
            name.strip_prefix(BLOCK_PREFIX)
                .and_then(|rest| rest.strip_suffix(BLOCK_SUFFIX))
                .and_then(|digits| digits.parse::<u64>().ok())
        }) else {
            continue;
        };
        slots.push(slot);
    }
    slots.sort_unstable();
    Ok(slots)
}

fn block_path(dir: &Path, slot: u64) -> PathBuf {
    dir.join(BLOCKS_DIR)
        .join(format!("{BLOCK_PREFIX}{slot:010}{BLOCK_SUFFIX}"))
}

/// [`Chain::write_to`] (durable: temporary file, fsync, rename, directory fsync), its
/// error naming the file.
fn write_chain(path: &Path, chain: &Chain) -> Result<(), LedgerError> {
    chain
        .write_to(path)
        .map_err(|source| LedgerError::BlockFile {
            path: path.to_path_buf(),
            source,
        })
}

fn sync_dir(dir: &Path) -> Result<(), LedgerError> {
    std::fs::File::open(dir)
        .and_then(|directory| directory.sync_all())
        .map_err(io("fsync", dir))
}

/// A durable store error, as a ledger error (for callers that commit through a bank).
impl From<DurableError> for LedgerError {
    fn from(error: DurableError) -> Self {
        Self::Bank(BankError::Durable(error))
    }
}
