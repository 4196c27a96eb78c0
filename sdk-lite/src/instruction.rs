//! Instructions: [`Instruction`] and [`AccountMeta`] as a client writes them, and
//! [`CompiledInstruction`] as a [`Message`](crate::Message) stores them.

use crate::Pubkey;

/// One account an [`Instruction`] uses, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AccountMeta {
    /// The account's key.
    pub pubkey: Pubkey,
    /// Whether the transaction must carry this key's signature.
    pub is_signer: bool,
    /// Whether the instruction may write the account (the transaction write-locks it).
    pub is_writable: bool,
}

impl AccountMeta {
    /// A writable account, signing if `is_signer`.
    pub const fn new(pubkey: Pubkey, is_signer: bool) -> Self {
        Self {
            pubkey,
            is_signer,
            is_writable: true,
        }
    }

    /// A read-only account, signing if `is_signer`.
    pub const fn new_readonly(pubkey: Pubkey, is_signer: bool) -> Self {
        Self {
            pubkey,
            is_signer,
            is_writable: false,
        }
    }
}

/// A call of one program, as a client writes it: keys by value.
///
/// [`Message::new`](crate::Message::new) compiles a list of these into one deduplicated
/// key list and [`CompiledInstruction`]s that index into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// The program to invoke.
    pub program_id: Pubkey,
    /// The accounts the program is given, in the order it expects them.
    pub accounts: Vec<AccountMeta>,
    /// The program's input, opaque here.
    pub data: Vec<u8>,
}

impl Instruction {
    /// An instruction invoking `program_id` with a copy of `data` (argument order as in
    /// Solana's `Instruction::new_with_bytes`).
    pub fn new_with_bytes(program_id: Pubkey, data: &[u8], accounts: Vec<AccountMeta>) -> Self {
        Self {
            program_id,
            accounts,
            data: data.to_vec(),
        }
    }
}

/// A call of one program, as a message stores it: keys as `u8` indices into the
/// message's `account_keys`.
///
/// The indices are unchecked until the enclosing transaction is sanitized; after that,
/// every index is known to be in range and the program id index is not 0.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CompiledInstruction {
    /// Index of the program id in the message's account keys.
    pub program_id_index: u8,
    /// Indices of the instruction's accounts in the message's account keys.
    pub accounts: Vec<u8>,
    /// The program's input, opaque here.
    pub data: Vec<u8>,
}
