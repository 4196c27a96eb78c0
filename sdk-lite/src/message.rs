//! [`Message`] and [`MessageHeader`]: Solana's legacy message layout, and
//! [`Message::new`], which compiles [`Instruction`]s into it.

use std::collections::BTreeMap;

use crate::{CompileError, CompiledInstruction, Hash, Instruction, Pubkey};

/// How the account keys of a [`Message`] divide into signed/unsigned and
/// writable/read-only ranges.
///
/// Keys are ordered: writable signers, read-only signers, writable non-signers, read-only
/// non-signers. The header gives the boundaries:
///
/// ```text
/// | writable signers | readonly signers | writable unsigned | readonly unsigned |
/// |<----- num_required_signatures ----->|                   |
///                    |<- ro signed ---->|                   |<- ro unsigned -->|
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MessageHeader {
    /// Number of leading keys that must sign; the first of them pays the fee.
    pub num_required_signatures: u8,
    /// How many of the signing keys (the last ones of that range) are read-only.
    pub num_readonly_signed_accounts: u8,
    /// How many of the non-signing keys (the last keys of the message) are read-only.
    pub num_readonly_unsigned_accounts: u8,
}

/// A transaction's content: the keys it touches, a recent blockhash and the instructions.
///
/// Fields are public, as in Solana's legacy message, so that tests can build malformed
/// messages; nothing here is validated until
/// [`SanitizedTransaction::try_new`](crate::SanitizedTransaction::try_new). The methods
/// below therefore never panic on a malformed message: out-of-range indices answer
/// `false` or `None`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    /// Signed/writable ranges of `account_keys`.
    pub header: MessageHeader,
    /// Every key the transaction touches (programs included), each once, in header order.
    pub account_keys: Vec<Pubkey>,
    /// The blockhash the transaction was built against; bounds its lifetime.
    pub recent_blockhash: Hash,
    /// The instructions, executed in order.
    pub instructions: Vec<CompiledInstruction>,
}

/// What compilation learns about one key from all instructions.
#[derive(Debug, Clone, Copy, Default)]
struct KeyFlags {
    is_signer: bool,
    is_writable: bool,
}

impl Message {
    /// Compiles `instructions` into a message, like Solana's legacy `Message::new`.
    ///
    /// - Keys are deduplicated; a key that is a signer (or writable) in any instruction
    ///   is a signer (or writable) everywhere.
    /// - `payer`, if given, comes first as a writable signer; then writable signers,
    ///   read-only signers, writable non-signers, read-only non-signers, each group in
    ///   key order (so the result does not depend on hash-map iteration).
    /// - A program id is a read-only non-signer unless an instruction also passes it as
    ///   a signer or writable account.
    ///
    /// Without a payer, the first writable signer becomes the fee payer; with no writable
    /// signer at all, the message has no valid fee payer and will not sanitize.
    ///
    /// # Panics
    /// If the instructions reference more distinct keys than a message can index (more
    /// than 256, or more than 255 in one header count). Such a message could never be
    /// sanitized; use [`Message::try_new`] where the instructions come from outside.
    pub fn new(
        instructions: &[Instruction],
        payer: Option<&Pubkey>,
        recent_blockhash: Hash,
    ) -> Self {
        match Self::try_new(instructions, payer, recent_blockhash) {
            Ok(message) => message,
            Err(err) => panic!("Message::new: {err}"),
        }
    }

    /// [`Message::new`], returning an error instead of panicking when the instructions
    /// reference more keys than a message can index.
    pub fn try_new(
        instructions: &[Instruction],
        payer: Option<&Pubkey>,
        recent_blockhash: Hash,
    ) -> Result<Self, CompileError> {
        // A B-tree, not a hash map: the key order inside each group must be
        // deterministic, since it decides the message bytes and thus every node's result.
        let mut flags = BTreeMap::<Pubkey, KeyFlags>::new();
        for ix in instructions {
            flags.entry(ix.program_id).or_default();
            for meta in &ix.accounts {
                let key = flags.entry(meta.pubkey).or_default();
                key.is_signer |= meta.is_signer;
                key.is_writable |= meta.is_writable;
            }
        }
        if let Some(payer) = payer {
            flags.remove(payer);
        }

        let group = |signer: bool, writable: bool| {
            flags
                .iter()
                .filter(move |(_, f)| f.is_signer == signer && f.is_writable == writable)
                .map(|(key, _)| *key)
        };
        let num_payer = usize::from(payer.is_some());
        let writable_signers = num_payer + group(true, true).count();
        let readonly_signers = group(true, false).count();
        let readonly_unsigned = group(false, false).count();
        let account_keys: Vec<Pubkey> = payer
            .copied()
            .into_iter()
            .chain(group(true, true))
            .chain(group(true, false))
            .chain(group(false, true))
            .chain(group(false, false))
            .collect();

        let num_account_keys = account_keys.len();
        let overflow = || CompileError::TooManyAccountKeys { num_account_keys };
        let to_u8 = |n: usize| u8::try_from(n).map_err(|_| overflow());
        if num_account_keys > usize::from(u8::MAX) + 1 {
            return Err(overflow());
        }
        let header = MessageHeader {
            num_required_signatures: to_u8(writable_signers + readonly_signers)?,
            num_readonly_signed_accounts: to_u8(readonly_signers)?,
            num_readonly_unsigned_accounts: to_u8(readonly_unsigned)?,
        };

        let index_of: BTreeMap<&Pubkey, u8> = account_keys
            .iter()
            .enumerate()
            .map(|(i, key)| to_u8(i).map(|i| (key, i)))
            .collect::<Result<_, _>>()?;
        // Every key an instruction names was inserted into `flags` above, so the lookup
        // cannot miss; `get` with a fallback error keeps this panic-free regardless.
        let index = |key: &Pubkey| index_of.get(key).copied().ok_or_else(overflow);
        let instructions = instructions
            .iter()
            .map(|ix| {
                Ok(CompiledInstruction {
                    program_id_index: index(&ix.program_id)?,
                    accounts: ix
                        .accounts
                        .iter()
                        .map(|meta| index(&meta.pubkey))
                        .collect::<Result<_, _>>()?,
                    data: ix.data.clone(),
                })
            })
            .collect::<Result<_, _>>()?;

        Ok(Self {
            header,
            account_keys,
            recent_blockhash,
            instructions,
        })
    }

    /// Whether key `index` must sign: it is among the first `num_required_signatures`
    /// keys. Out of range: `false`.
    pub fn is_signer(&self, index: usize) -> bool {
        index < self.account_keys.len() && index < usize::from(self.header.num_required_signatures)
    }

    /// Whether the header marks key `index` writable (Solana's legacy rule):
    /// `index < num_required_signatures - num_readonly_signed_accounts`, or
    /// `num_required_signatures <= index < len - num_readonly_unsigned_accounts`.
    /// Out of range: `false`.
    ///
    /// This is the header's answer only; a sanitized transaction also demotes keys
    /// invoked as programs, see
    /// [`SanitizedTransaction::is_writable`](crate::SanitizedTransaction::is_writable).
    pub fn is_writable(&self, index: usize) -> bool {
        let len = self.account_keys.len();
        let signed = usize::from(self.header.num_required_signatures);
        if index >= len {
            false
        } else if index < signed {
            // Saturating: an unsanitized header may claim more read-only signers than
            // signers.
            index < signed.saturating_sub(usize::from(self.header.num_readonly_signed_accounts))
        } else {
            index < len.saturating_sub(usize::from(self.header.num_readonly_unsigned_accounts))
        }
    }

    /// The fee payer: the first key, if the message requires any signature.
    pub fn fee_payer(&self) -> Option<&Pubkey> {
        if self.header.num_required_signatures > 0 {
            self.account_keys.first()
        } else {
            None
        }
    }

    /// The program id of instruction `instruction_index`, if both indices are in range.
    pub fn program_id(&self, instruction_index: usize) -> Option<&Pubkey> {
        let ix = self.instructions.get(instruction_index)?;
        self.account_keys.get(usize::from(ix.program_id_index))
    }

    /// Whether any instruction invokes key `key_index` as its program.
    pub fn is_invoked_as_program(&self, key_index: usize) -> bool {
        u8::try_from(key_index).is_ok_and(|key_index| {
            self.instructions
                .iter()
                .any(|ix| ix.program_id_index == key_index)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AccountMeta;

    #[test]
    fn payer_only_message() {
        let payer = Pubkey::new_unique();
        let message = Message::new(&[], Some(&payer), Hash::default());
        assert_eq!(message.account_keys, vec![payer]);
        assert_eq!(
            message.header,
            MessageHeader {
                num_required_signatures: 1,
                num_readonly_signed_accounts: 0,
                num_readonly_unsigned_accounts: 0,
            }
        );
        assert_eq!(message.fee_payer(), Some(&payer));
        assert!(message.is_signer(0) && message.is_writable(0));
    }

    #[test]
    fn out_of_range_queries_answer_false_or_none() {
        let message = Message {
            header: MessageHeader {
                num_required_signatures: 5,
                num_readonly_signed_accounts: 9,
                num_readonly_unsigned_accounts: 9,
            },
            account_keys: vec![Pubkey::new_unique()],
            recent_blockhash: Hash::default(),
            instructions: vec![CompiledInstruction {
                program_id_index: 7,
                accounts: vec![],
                data: vec![],
            }],
        };
        assert!(!message.is_signer(1));
        assert!(!message.is_writable(0));
        assert!(!message.is_writable(1));
        assert_eq!(message.program_id(0), None);
        assert_eq!(message.program_id(1), None);
        assert!(!message.is_invoked_as_program(300));
        assert!(message.is_invoked_as_program(7));
    }

    #[test]
    fn try_new_rejects_more_keys_than_an_index_can_reach() {
        let program = Pubkey::new_unique();
        let accounts = (0..256)
            .map(|_| AccountMeta::new(Pubkey::new_unique(), false))
            .collect();
        let ix = Instruction::new_with_bytes(program, &[], accounts);
        let payer = Pubkey::new_unique();
        assert_eq!(
            Message::try_new(&[ix], Some(&payer), Hash::default()),
            Err(CompileError::TooManyAccountKeys {
                num_account_keys: 258
            })
        );
    }

    #[test]
    fn try_new_rejects_a_header_count_over_255() {
        let payer = Pubkey::new_unique();
        // 256 keys whose program is one of the signers: 256 signers, one too many.
        let signers: Vec<AccountMeta> = (0..255)
            .map(|_| AccountMeta::new(Pubkey::new_unique(), true))
            .collect();
        let ix = Instruction::new_with_bytes(signers[0].pubkey, &[], signers);
        assert_eq!(
            Message::try_new(&[ix], Some(&payer), Hash::default()),
            Err(CompileError::TooManyAccountKeys {
                num_account_keys: 256
            })
        );
    }

    #[test]
    #[should_panic(expected = "more than a message can index")]
    fn new_panics_where_try_new_errs() {
        let accounts = (0..300)
            .map(|_| AccountMeta::new(Pubkey::new_unique(), false))
            .collect();
        let ix = Instruction::new_with_bytes(Pubkey::new_unique(), &[], accounts);
        let _ = Message::new(&[ix], None, Hash::default());
    }
}
