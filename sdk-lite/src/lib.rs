//! The shared vocabulary of the parallel-execution crates: keys, hashes, accounts,
//! messages, sanitized transactions, their errors and the protocol limits.
//!
//! Every other crate of the workspace speaks in these types, so this crate is small,
//! dependency-light (`bs58` for text, `thiserror` for errors) and knows nothing about
//! scheduling, threads, banks, stores or execution. It is modelled on the parts of
//! Solana's SDK that Agave's transaction pipeline touches, cut down to what this project
//! needs.
//!
//! # What it holds
//! - [`Pubkey`], [`Hash`](struct@Hash), [`Signature`]: fixed-size byte arrays that print and parse as
//!   base58, the text form every Solana-family engineer reads. Each has a `new_unique()`
//!   for tests and examples.
//! - [`ReadableAccount`] / [`WritableAccount`] and the one account type,
//!   [`AccountSharedData`] (see *Copy-on-write accounts* below).
//! - [`Instruction`] / [`AccountMeta`] (what a client writes), [`CompiledInstruction`],
//!   [`MessageHeader`] and [`Message`] (the legacy wire layout: one key list indexed by
//!   `u8`), and [`Message::new`], which compiles the former into the latter.
//! - [`Transaction`] (signatures plus message, unchecked) and [`SanitizedTransaction`],
//!   the only form the scheduler, the account locks and the executor accept.
//! - The error enums [`SanitizeError`], [`TransactionError`], [`InstructionError`] and the
//!   limits ([`MAX_TX_ACCOUNT_LOCKS`], ...), and the well-known program ids
//!   ([`system_program::ID`], [`compute_budget::ID`]).
//!
//! # Sanitizing: the one gate
//! A [`SanitizedTransaction`] can only be built by [`SanitizedTransaction::try_new`], so
//! holding one *is* the proof that the message is well formed. Downstream code indexes
//! account keys without bounds checks, takes the fee payer without an `Option`, and hands
//! [`SanitizedTransaction::lock_requests`] straight to the lock table. The rules, checked
//! in this order (the first failure is returned, each with its own [`SanitizeError`]
//! variant naming the offending count, index or key):
//!
//! 1. there is a fee payer: at least one account key and `num_required_signatures > 0`;
//! 2. the fee payer is writable: `num_readonly_signed_accounts < num_required_signatures`;
//! 3. the signed range and the read-only unsigned range fit in the key list:
//!    `num_required_signatures + num_readonly_unsigned_accounts <= account_keys.len()`;
//! 4. at most 256 account keys (a `u8` index must reach every key);
//! 5. for every instruction, in order: its program id index is in range, is not 0 (the fee
//!    payer cannot be a program), and every account index is in range;
//! 6. exactly `num_required_signatures` signatures;
//! 7. at most [`MAX_TX_ACCOUNT_LOCKS`] account keys (→
//!    [`TransactionError::TooManyAccountLocks`]);
//! 8. no account key appears twice (→ [`TransactionError::AccountLoadedTwice`]).
//!
//! After these checks the writability of every key is computed once, into a bitmap: the
//! header's legacy rule, except that a key invoked as a program by any instruction is
//! *demoted* to read-only, as Agave does. So a scheduler never write-locks a program, and
//! two transactions calling the same program do not conflict on it.
//!
//! # Copy-on-write accounts
//! [`AccountSharedData`] keeps its data in an `Arc<Vec<u8>>`. Cloning an account (to load
//! it for a transaction, to keep a rollback copy, to hand it to a store) is a reference
//! count bump, not a copy of the data. Every write to the data goes through
//! `Arc::make_mut` (or replaces the buffer outright), so a write copies the bytes only if
//! another clone still shares them, and leaves every other clone unchanged. Lamports,
//! owner and the executable flag live inline and are copied with the clone.
//!
//! # Non-goals
//! - **Signature verification.** Signatures are checked before the pipeline (sigverify);
//!   [`Signature`] is an opaque 64-byte value here and [`Transaction`] carries
//!   placeholders in tests.
//! - **A hash function.** [`Hash`](struct@Hash) is 32 bytes; the crate that computes bank hashes picks
//!   the function.
//! - **Wire format and serialization**, versioned (v0) messages, address lookup tables,
//!   durable nonces, rent epochs: none of these change how transactions are scheduled.
//! - **Execution semantics.** The error enums name the failures other crates report; what
//!   causes them is decided there.
//!
//! # Example
//! ```
//! use sdk_lite::{
//!     AccountMeta, Hash, Instruction, Message, Pubkey, SanitizedTransaction, Transaction,
//! };
//!
//! let payer = Pubkey::new_unique();
//! let to = Pubkey::new_unique();
//! let program = Pubkey::new_unique();
//! let ix = Instruction::new_with_bytes(program, &[1, 2, 3], vec![AccountMeta::new(to, false)]);
//! let message = Message::new(&[ix], Some(&payer), Hash::new_unique());
//! let tx = SanitizedTransaction::try_new(Transaction::new_with_placeholder_signatures(message))
//!     .expect("a compiled message sanitizes");
//!
//! assert_eq!(tx.fee_payer(), &payer);
//! let locks: Vec<_> = tx.lock_requests().collect();
//! // Payer and `to` are write-locked; the program is only read.
//! assert_eq!(locks, vec![(&payer, true), (&to, true), (&program, false)]);
//! ```

mod account;
mod base58;
mod error;
mod hash;
mod ids;
mod instruction;
mod limits;
mod message;
mod pubkey;
mod sanitize;
mod sanitized_transaction;
mod signature;
mod transaction;

pub use account::{AccountSharedData, ReadableAccount, WritableAccount};
pub use error::{
    CompileError, InstructionError, ParseBase58Error, SanitizeError, TransactionError,
};
pub use hash::Hash;
pub use ids::{compute_budget, system_program};
pub use instruction::{AccountMeta, CompiledInstruction, Instruction};
pub use limits::{
    DEFAULT_LAMPORTS_PER_SIGNATURE, MAX_INSTRUCTION_TRACE_LENGTH,
    MAX_PERMITTED_ACCOUNTS_DATA_ALLOCATIONS_PER_TRANSACTION, MAX_PERMITTED_DATA_LENGTH,
    MAX_PROCESSING_AGE, MAX_TX_ACCOUNT_LOCKS,
};
pub use message::{Message, MessageHeader};
pub use pubkey::Pubkey;
pub use sanitized_transaction::{LockRequests, SanitizedTransaction};
pub use signature::Signature;
pub use transaction::Transaction;
