//! Block files: a chain of blocks with its genesis, in one versioned, checksummed file.
//!
//! # Layout
//! ```text
//! offset  size  field
//!      0     8  magic "PXBLOCKS"
//!      8     4  format version, u32 little-endian (this code writes and reads 1)
//!     12     8  payload length, u64 little-endian
//!     20    32  blake3 of the payload
//!     52     …  payload: a `ChainFile` in postcard (serde) encoding
//! ```
//! postcard has one encoding per value (varint integers, length-prefixed sequences, no
//! maps, no padding), so the same chain always gives the same bytes. Reading checks, in
//! order: the magic, the version, the length against the bytes present (truncation), the
//! checksum (corruption), the decoding, and that every transaction sanitizes; each
//! failure is its own [`BlockFileError`], never a panic.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

use sdk_lite::{
    AccountSharedData, CompiledInstruction, Hash, Message, MessageHeader, Pubkey, ReadableAccount,
    SanitizeError, SanitizedTransaction, Signature, Transaction, WritableAccount,
};
use serde::{Deserialize, Serialize};
use svm_lite::Rent;
use thiserror::Error;

use crate::bank::BankConfig;
use crate::block::{Block, Entry};

/// The first bytes of every block file.
pub const BLOCK_FILE_MAGIC: [u8; 8] = *b"PXBLOCKS";
/// The format version this code writes and reads.
pub const BLOCK_FILE_VERSION: u32 = 1;
const HEADER_LEN: usize = 8 + 4 + 8 + 32;
/// The largest payload a block file may declare (4 GiB): a bound on what a hostile or
/// damaged file can make the reader allocate.
pub const MAX_BLOCK_FILE_PAYLOAD: u64 = 4 << 30;

/// A chain as a file holds it: the genesis, the chain parameters and the blocks.
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    /// The genesis accounts.
    pub genesis: Vec<(Pubkey, AccountSharedData)>,
    /// The parameters every bank of the chain shares.
    pub config: BankConfig,
    /// The blocks, in slot order.
    pub blocks: Vec<Block>,
}

/// Why a block file could not be read or written.
#[derive(Debug, Error)]
pub enum BlockFileError {
    /// Reading or writing the file failed.
    #[error("block file I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The file does not start with the block-file magic.
    #[error("not a block file (its first bytes are not {:?})", String::from_utf8_lossy(&BLOCK_FILE_MAGIC))]
    NotABlockFile,
    /// The file was written by another format version.
    #[error("block file format version {found}; this program reads version {supported}")]
    UnsupportedVersion {
        /// The file's version.
        found: u32,
        /// The version this program reads.
        supported: u32,
    },
    /// The file is shorter than its header says.
    #[error("block file truncated: {expected} payload bytes declared, {actual} present")]
    Truncated {
        /// Payload bytes declared.
        expected: u64,
        /// Payload bytes present.
        actual: u64,
    },
    /// The file declares (or holds) more than [`MAX_BLOCK_FILE_PAYLOAD`] bytes of payload.
    #[error("block file payload of {bytes} bytes exceeds the limit of {limit}")]
    TooLarge {
        /// The payload's size.
        bytes: u64,
        /// The limit.
        limit: u64,
    },
    /// The file holds more bytes than its header declares.
    #[error("block file has {extra} bytes after its declared payload")]
    TrailingBytes {
        /// The extra bytes.
        extra: u64,
    },
    /// The payload does not match its checksum.
    #[error("block file corrupted: payload checksum {actual} differs from the header's {expected}")]
    ChecksumMismatch {
        /// The checksum in the header.
        expected: Hash,
        /// The checksum of the payload read.
        actual: Hash,
    },
    /// The payload passed its checksum but does not decode (written by a buggy writer).
    #[error("block file payload does not decode: {0}")]
    Decode(#[from] postcard::Error),
    /// A transaction in the file does not sanitize.
    #[error("block of slot {slot}, transaction {index}: {error}")]
    InvalidTransaction {
        /// The block's slot.
        slot: u64,
        /// The transaction's position in the block.
        index: usize,
        /// Why it does not sanitize.
        error: SanitizeError,
    },
    /// A signature field is not a whole number of 64-byte signatures.
    #[error("block of slot {slot}, transaction {index}: signature bytes are not 64-byte aligned")]
    BadSignatureBytes {
        /// The block's slot.
        slot: u64,
        /// The transaction's position in the block.
        index: usize,
    },
}

#[derive(Serialize, Deserialize)]
struct ChainFile {
    lamports_per_signature: u64,
    rent_lamports_per_byte_year: u64,
    rent_exemption_threshold_years: u64,
    genesis: Vec<AccountRecord>,
    blocks: Vec<BlockRecord>,
}

#[derive(Serialize, Deserialize)]
struct AccountRecord {
    key: [u8; 32],
    lamports: u64,
    owner: [u8; 32],
    executable: bool,
    data: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct BlockRecord {
    slot: u64,
    parent_hash: [u8; 32],
    bank_hash: [u8; 32],
    entries: Vec<Vec<TransactionRecord>>,
}

#[derive(Serialize, Deserialize)]
struct TransactionRecord {
    /// The signatures, 64 bytes each, concatenated.
    signatures: Vec<u8>,
    header: [u8; 3],
    account_keys: Vec<[u8; 32]>,
    recent_blockhash: [u8; 32],
    instructions: Vec<InstructionRecord>,
}

#[derive(Serialize, Deserialize)]
struct InstructionRecord {
    program_id_index: u8,
    accounts: Vec<u8>,
    data: Vec<u8>,
}

impl Chain {
    /// The file's bytes for this chain.
    ///
    /// # Errors
    /// Only if the encoder fails (it does not for these types; the error is kept typed).
    pub fn to_bytes(&self) -> Result<Vec<u8>, BlockFileError> {
        let file = ChainFile {
            lamports_per_signature: self.config.lamports_per_signature,
            rent_lamports_per_byte_year: self.config.rent.lamports_per_byte_year,
            rent_exemption_threshold_years: self.config.rent.exemption_threshold_years,
            genesis: self
                .genesis
                .iter()
                .map(|(key, account)| AccountRecord {
                    key: key.to_bytes(),
                    lamports: account.lamports(),
                    owner: account.owner().to_bytes(),
                    executable: account.executable(),
                    data: account.data().to_vec(),
                })
                .collect(),
            blocks: self.blocks.iter().map(block_record).collect(),
        };
        let payload = postcard::to_stdvec(&file)?;
        let mut bytes = Vec::with_capacity(HEADER_LEN + payload.len());
        bytes.extend_from_slice(&BLOCK_FILE_MAGIC);
        bytes.extend_from_slice(&BLOCK_FILE_VERSION.to_le_bytes());
        bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        bytes.extend_from_slice(blake3::hash(&payload).as_bytes());
        bytes.extend_from_slice(&payload);
        Ok(bytes)
    }

    /// Reads a chain from a file's bytes.
    ///
    /// # Errors
    /// See [`BlockFileError`]: each check has its own variant.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlockFileError> {
        if bytes.len() < BLOCK_FILE_MAGIC.len() || bytes[..8] != BLOCK_FILE_MAGIC {
            return Err(BlockFileError::NotABlockFile);
        }
        let header_field = |range: std::ops::Range<usize>| {
            bytes.get(range).ok_or(BlockFileError::Truncated {
                expected: HEADER_LEN as u64,
                actual: bytes.len() as u64,
            })
        };
        let version = u32::from_le_bytes(
            header_field(8..12)?
                .try_into()
                .expect("invariant: a 4-byte range"),
        );
        if version != BLOCK_FILE_VERSION {
            return Err(BlockFileError::UnsupportedVersion {
                found: version,
                supported: BLOCK_FILE_VERSION,
            });
        }
        let declared = u64::from_le_bytes(
            header_field(12..20)?
                .try_into()
                .expect("invariant: an 8-byte range"),
        );
        if declared > MAX_BLOCK_FILE_PAYLOAD {
            return Err(BlockFileError::TooLarge {
                bytes: declared,
                limit: MAX_BLOCK_FILE_PAYLOAD,
            });
        }
        let checksum: [u8; 32] = header_field(20..52)?
            .try_into()
            .expect("invariant: a 32-byte range");
        let present = (bytes.len() - HEADER_LEN) as u64;
        if present < declared {
            return Err(BlockFileError::Truncated {
                expected: declared,
                actual: present,
            });
        }
        if present > declared {
            return Err(BlockFileError::TrailingBytes {
                extra: present - declared,
            });
        }
        let payload = &bytes[HEADER_LEN..];
        let actual = *blake3::hash(payload).as_bytes();
        if actual != checksum {
            return Err(BlockFileError::ChecksumMismatch {
                expected: Hash::new_from_array(checksum),
                actual: Hash::new_from_array(actual),
            });
        }
        let file: ChainFile = postcard::from_bytes(payload)?;
        let genesis = file
            .genesis
            .into_iter()
            .map(|record| {
                let mut account = AccountSharedData::new_data(
                    record.lamports,
                    record.data,
                    &Pubkey::new_from_array(record.owner),
                );
                account.set_executable(record.executable);
                (Pubkey::new_from_array(record.key), account)
            })
            .collect();
        let blocks = file
            .blocks
            .into_iter()
            .map(block_from_record)
            .collect::<Result<_, _>>()?;
        Ok(Self {
            genesis,
            config: BankConfig {
                lamports_per_signature: file.lamports_per_signature,
                rent: Rent {
                    lamports_per_byte_year: file.rent_lamports_per_byte_year,
                    exemption_threshold_years: file.rent_exemption_threshold_years,
                },
            },
            blocks,
        })
    }

    /// Writes the chain to `path` durably: through a temporary file (`path` with the
    /// extension `partial`), fsync'd, renamed into place, and the directory fsync'd, so
    /// after a crash `path` is either the whole file or absent (or its old content).
    ///
    /// # Errors
    /// I/O errors.
    pub fn write_to(&self, path: &Path) -> Result<(), BlockFileError> {
        let bytes = self.to_bytes()?;
        let temporary = path.with_extension("partial");
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)?;
        let directory = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::File::open(directory)?.sync_all()?;
        Ok(())
    }

    /// Reads a chain from `path`.
    ///
    /// # Errors
    /// I/O errors, and every [`BlockFileError`] of [`from_bytes`](Self::from_bytes).
    pub fn read_from(path: &Path) -> Result<Self, BlockFileError> {
        let mut file = std::fs::File::open(path)?;
        let size = file.metadata()?.len();
        let limit = MAX_BLOCK_FILE_PAYLOAD + HEADER_LEN as u64;
        if size > limit {
            return Err(BlockFileError::TooLarge { bytes: size, limit });
        }
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        file.read_to_end(&mut bytes)?;
        Self::from_bytes(&bytes)
    }
}

fn block_record(block: &Block) -> BlockRecord {
    BlockRecord {
        slot: block.slot,
        parent_hash: block.parent_hash.to_bytes(),
        bank_hash: block.bank_hash.to_bytes(),
        entries: block
            .entries
            .iter()
            .map(|entry| {
                entry
                    .transactions
                    .iter()
                    .map(|transaction| transaction_record(transaction))
                    .collect()
            })
            .collect(),
    }
}

fn transaction_record(transaction: &SanitizedTransaction) -> TransactionRecord {
    let message = transaction.message();
    TransactionRecord {
        signatures: transaction
            .signatures()
            .iter()
            .flat_map(|signature| signature.to_bytes())
            .collect(),
        header: [
            message.header.num_required_signatures,
            message.header.num_readonly_signed_accounts,
            message.header.num_readonly_unsigned_accounts,
        ],
        account_keys: message
            .account_keys
            .iter()
            .map(|key| key.to_bytes())
            .collect(),
        recent_blockhash: message.recent_blockhash.to_bytes(),
        instructions: message
            .instructions
            .iter()
            .map(|instruction| InstructionRecord {
                program_id_index: instruction.program_id_index,
                accounts: instruction.accounts.clone(),
                data: instruction.data.clone(),
            })
            .collect(),
    }
}

fn block_from_record(record: BlockRecord) -> Result<Block, BlockFileError> {
    let slot = record.slot;
    let mut index = 0;
    let mut entries = Vec::with_capacity(record.entries.len());
    for entry in record.entries {
        let mut transactions = Vec::with_capacity(entry.len());
        for transaction in entry {
            if transaction.signatures.len() % 64 != 0 {
                return Err(BlockFileError::BadSignatureBytes { slot, index });
            }
            let signatures = transaction
                .signatures
                .chunks_exact(64)
                .map(|bytes| {
                    Signature::new_from_array(bytes.try_into().expect("invariant: 64-byte chunks"))
                })
                .collect();
            let [required, readonly_signed, readonly_unsigned] = transaction.header;
            let message = Message {
                header: MessageHeader {
                    num_required_signatures: required,
                    num_readonly_signed_accounts: readonly_signed,
                    num_readonly_unsigned_accounts: readonly_unsigned,
                },
                account_keys: transaction
                    .account_keys
                    .into_iter()
                    .map(Pubkey::new_from_array)
                    .collect(),
                recent_blockhash: Hash::new_from_array(transaction.recent_blockhash),
                instructions: transaction
                    .instructions
                    .into_iter()
                    .map(|instruction| CompiledInstruction {
                        program_id_index: instruction.program_id_index,
                        accounts: instruction.accounts,
                        data: instruction.data,
                    })
                    .collect(),
            };
            let sanitized = SanitizedTransaction::try_new(Transaction {
                signatures,
                message,
            })
            .map_err(|error| BlockFileError::InvalidTransaction {
                slot,
                index,
                error,
            })?;
            transactions.push(Arc::new(sanitized));
            index += 1;
        }
        entries.push(Entry { transactions });
    }
    Ok(Block {
        slot,
        parent_hash: Hash::new_from_array(record.parent_hash),
        entries,
        bank_hash: Hash::new_from_array(record.bank_hash),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::{ConflictPattern, Workload, WorkloadConfig};

    /// A small real chain: genesis and blocks from the pipeline.
    fn chain() -> Chain {
        let workload = Workload::generate(&WorkloadConfig {
            transactions: 200,
            pattern: ConflictPattern::Uniform { accounts: 8 },
            bench_units: 500,
            ..WorkloadConfig::default()
        });
        let genesis = Arc::new(
            crate::Bank::new_genesis(workload.genesis.clone(), BankConfig::default()).unwrap(),
        );
        genesis.freeze();
        let (sender, receiver) = crossbeam_channel::unbounded();
        for transaction in workload.transactions {
            sender.send(transaction).unwrap();
        }
        drop(sender);
        let output = crate::run_pipeline(
            genesis,
            Arc::new(svm_lite::ProgramRegistry::with_builtins()),
            &crate::PipelineConfig {
                num_workers: 2,
                slot_duration: std::time::Duration::from_secs(60),
                block_limits: crate::BlockLimits {
                    block_units: 200_000,
                    ..crate::BlockLimits::default()
                },
                ..crate::PipelineConfig::default()
            },
            receiver,
            |_| {},
        )
        .unwrap();
        Chain {
            genesis: workload.genesis,
            config: BankConfig::default(),
            blocks: output.blocks,
        }
    }

    #[test]
    fn a_chain_round_trips_and_encodes_deterministically() {
        let chain = chain();
        assert!(chain.blocks.len() > 1);
        let bytes = chain.to_bytes().unwrap();
        assert_eq!(bytes, chain.to_bytes().unwrap(), "one encoding per chain");
        let read = Chain::from_bytes(&bytes).unwrap();
        assert_eq!(read, chain);
    }

    #[test]
    fn every_bad_file_is_its_own_error() {
        let bytes = chain().to_bytes().unwrap();
        assert!(matches!(
            Chain::from_bytes(b"not a block file at all"),
            Err(BlockFileError::NotABlockFile)
        ));
        let mut newer = bytes.clone();
        newer[8..12].copy_from_slice(&2u32.to_le_bytes());
        assert!(matches!(
            Chain::from_bytes(&newer),
            Err(BlockFileError::UnsupportedVersion {
                found: 2,
                supported: 1
            })
        ));
        for cut in [
            10,
            HEADER_LEN - 1,
            HEADER_LEN,
            bytes.len() / 2,
            bytes.len() - 1,
        ] {
            assert!(
                matches!(
                    Chain::from_bytes(&bytes[..cut]),
                    Err(BlockFileError::Truncated { .. })
                ),
                "cut at {cut}"
            );
        }
        let mut huge = bytes.clone();
        huge[12..20].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(
            Chain::from_bytes(&huge),
            Err(BlockFileError::TooLarge { .. })
        ));
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(
            Chain::from_bytes(&longer),
            Err(BlockFileError::TrailingBytes { extra: 1 })
        ));
        for position in [HEADER_LEN, HEADER_LEN + 100, bytes.len() - 1] {
            let mut flipped = bytes.clone();
            flipped[position] ^= 0x40;
            assert!(
                matches!(
                    Chain::from_bytes(&flipped),
                    Err(BlockFileError::ChecksumMismatch { .. })
                ),
                "flip at {position}"
            );
        }
    }

    #[test]
    fn a_file_written_and_read_back_from_disk_is_the_same_chain() {
        let chain = chain();
        let directory = std::env::temp_dir().join(format!("block-file-{}", std::process::id()));
        std::fs::create_dir_all(&directory).unwrap();
        let path = directory.join("chain.blocks");
        chain.write_to(&path).unwrap();
        assert_eq!(Chain::read_from(&path).unwrap(), chain);
        assert!(matches!(
            Chain::read_from(&directory.join("missing")),
            Err(BlockFileError::Io(_))
        ));
        std::fs::remove_dir_all(&directory).unwrap();
    }

    proptest::proptest! {
        /// Random bytes, and random bytes behind a valid header, never panic.
        #[test]
        fn random_bytes_are_an_error_not_a_panic(
            noise in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
            with_header in proptest::prelude::any::<bool>(),
        ) {
            let bytes = if with_header {
                let mut bytes = Vec::new();
                bytes.extend_from_slice(&BLOCK_FILE_MAGIC);
                bytes.extend_from_slice(&BLOCK_FILE_VERSION.to_le_bytes());
                bytes.extend_from_slice(&(noise.len() as u64).to_le_bytes());
                bytes.extend_from_slice(blake3::hash(&noise).as_bytes());
                bytes.extend_from_slice(&noise);
                bytes
            } else {
                noise
            };
            let _ = Chain::from_bytes(&bytes);
        }
    }
}
