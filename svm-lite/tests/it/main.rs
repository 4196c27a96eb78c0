//! Integration tests of `svm-lite`.

mod bench_program;
mod compute_budget;
mod fee;
mod load_result;
mod metrics;
mod nonce;
mod processor;
mod runtime_rules;
mod system_program;

use sdk_lite::{
    AccountMeta, Hash, Instruction, Message, Pubkey, SanitizedTransaction, Transaction,
};

/// A sanitized transaction paid by a fresh key, with `instructions`.
fn transaction(instructions: &[Instruction]) -> SanitizedTransaction {
    let payer = Pubkey::new_unique();
    let message = Message::new(instructions, Some(&payer), Hash::new_unique());
    SanitizedTransaction::try_new(Transaction::new_with_placeholder_signatures(message))
        .expect("compiled messages sanitize")
}

/// An instruction of a program that is not built in.
fn program_instruction(program: Pubkey) -> Instruction {
    Instruction::new_with_bytes(
        program,
        &[7],
        vec![AccountMeta::new(Pubkey::new_unique(), false)],
    )
}

/// An environment for running instructions directly.
fn environment() -> svm_lite::ProcessingEnvironment {
    svm_lite::ProcessingEnvironment {
        slot: 1,
        blockhash: Hash::new_unique(),
        lamports_per_signature: 5_000,
        rent: svm_lite::Rent::default(),
    }
}
