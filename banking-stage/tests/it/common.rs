//! Helpers shared by the integration tests.

use std::sync::Arc;

use banking_stage::BufferedTransaction;
use sdk_lite::{
    AccountMeta, Hash, Instruction, Message, Pubkey, SanitizedTransaction, Transaction,
};

/// A transaction from a fresh payer that writes `writes` (through a program nobody has:
/// for schedulers, which never run it).
pub(crate) fn tx(writes: &[Pubkey]) -> BufferedTransaction {
    let payer = Pubkey::new_unique();
    let instruction = Instruction::new_with_bytes(
        Pubkey::new_unique(),
        &[],
        writes
            .iter()
            .map(|key| AccountMeta::new(*key, false))
            .collect(),
    );
    let message = Message::new(&[instruction], Some(&payer), Hash::new_unique());
    Arc::new(
        SanitizedTransaction::try_new(Transaction::new_with_placeholder_signatures(message))
            .unwrap(),
    )
}

/// A program with a bug: it panics.
pub(crate) struct PanickingProgram;

impl svm_lite::Program for PanickingProgram {
    fn execute(
        &self,
        _context: &mut svm_lite::InstructionContext<'_>,
    ) -> Result<(), sdk_lite::InstructionError> {
        panic!("a program bug (on purpose, in a test)");
    }
}
