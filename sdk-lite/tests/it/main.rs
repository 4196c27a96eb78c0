//! Integration tests of `sdk-lite`: one binary, one module per area.

mod account;
mod message_compile;
mod properties;
mod sanitize;

use sdk_lite::{Hash, Instruction, Message, Pubkey, SanitizedTransaction, Transaction};

/// Compiles `instructions` with `payer` and sanitizes the result with placeholder
/// signatures.
fn sanitized(instructions: &[Instruction], payer: &Pubkey) -> SanitizedTransaction {
    let message = Message::new(instructions, Some(payer), Hash::new_unique());
    SanitizedTransaction::try_new(Transaction::new_with_placeholder_signatures(message))
        .expect("a compiled message sanitizes")
}
