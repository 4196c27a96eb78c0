//! `Message::new`: how high-level instructions compile into the legacy layout.

use sdk_lite::{
    AccountMeta, CompiledInstruction, Hash, Instruction, Message, MessageHeader, Pubkey,
    SanitizeError, SanitizedTransaction, Transaction,
};

use crate::sanitized;

/// `n` fresh keys in increasing order (see `Pubkey::new_unique`).
fn keys<const N: usize>() -> [Pubkey; N] {
    std::array::from_fn(|_| Pubkey::new_unique())
}

#[test]
fn payer_comes_first_as_a_writable_signer_even_when_it_sorts_last() {
    let [program, account, payer] = keys();
    let ix = Instruction::new_with_bytes(program, &[], vec![AccountMeta::new(account, false)]);
    let message = Message::new(&[ix], Some(&payer), Hash::default());
    assert_eq!(message.account_keys, vec![payer, account, program]);
    assert_eq!(message.fee_payer(), Some(&payer));
    assert!(message.is_signer(0) && message.is_writable(0));
}

#[test]
fn keys_are_grouped_writable_signers_readonly_signers_writable_then_readonly() {
    let [payer, ro_unsigned, w_unsigned, ro_signer, w_signer, program] = keys();
    let ix = Instruction::new_with_bytes(
        program,
        &[],
        vec![
            AccountMeta::new_readonly(ro_unsigned, false),
            AccountMeta::new(w_unsigned, false),
            AccountMeta::new_readonly(ro_signer, true),
            AccountMeta::new(w_signer, true),
        ],
    );
    let message = Message::new(&[ix], Some(&payer), Hash::default());
    assert_eq!(
        message.account_keys,
        vec![payer, w_signer, ro_signer, w_unsigned, ro_unsigned, program]
    );
    assert_eq!(
        message.header,
        MessageHeader {
            num_required_signatures: 3,
            num_readonly_signed_accounts: 1,
            num_readonly_unsigned_accounts: 2,
        }
    );
    let flags: Vec<_> = (0..6)
        .map(|i| (message.is_signer(i), message.is_writable(i)))
        .collect();
    assert_eq!(
        flags,
        vec![
            (true, true),
            (true, true),
            (true, false),
            (false, true),
            (false, false),
            (false, false),
        ]
    );
}

#[test]
fn a_key_used_twice_appears_once_with_the_union_of_its_flags() {
    let [payer, shared, program] = keys();
    let ixs = [
        Instruction::new_with_bytes(program, &[], vec![AccountMeta::new_readonly(shared, true)]),
        Instruction::new_with_bytes(program, &[], vec![AccountMeta::new(shared, false)]),
    ];
    let message = Message::new(&ixs, Some(&payer), Hash::default());
    assert_eq!(message.account_keys, vec![payer, shared, program]);
    assert!(message.is_signer(1) && message.is_writable(1));
    assert_eq!(message.instructions[0].accounts, vec![1]);
    assert_eq!(message.instructions[1].accounts, vec![1]);
}

#[test]
fn payer_listed_as_a_readonly_account_stays_a_single_writable_signer() {
    let [payer, program] = keys();
    let ix =
        Instruction::new_with_bytes(program, &[], vec![AccountMeta::new_readonly(payer, false)]);
    let message = Message::new(&[ix], Some(&payer), Hash::default());
    assert_eq!(message.account_keys, vec![payer, program]);
    assert_eq!(message.header.num_required_signatures, 1);
    assert!(message.is_writable(0));
    assert_eq!(message.instructions[0].accounts, vec![0]);
}

#[test]
fn program_id_is_a_readonly_non_signer_unless_also_used_as_an_account() {
    let [payer, plain_program, writable_program] = keys();
    let ixs = [
        Instruction::new_with_bytes(plain_program, &[], vec![]),
        Instruction::new_with_bytes(
            writable_program,
            &[],
            vec![AccountMeta::new(writable_program, false)],
        ),
    ];
    let message = Message::new(&ixs, Some(&payer), Hash::default());
    assert_eq!(
        message.account_keys,
        vec![payer, writable_program, plain_program]
    );
    assert!(!message.is_signer(2) && !message.is_writable(2));
    // The header still says writable; sanitizing demotes it (see the sanitize tests).
    assert!(message.is_writable(1));
    assert!(message.is_invoked_as_program(1) && message.is_invoked_as_program(2));
    assert!(!message.is_invoked_as_program(0));
}

#[test]
fn instructions_compile_to_indices_of_the_right_keys() {
    let [payer, a, b, program_1, program_2] = keys();
    let ixs = [
        Instruction::new_with_bytes(
            program_1,
            &[1, 2],
            vec![
                AccountMeta::new_readonly(b, false),
                AccountMeta::new(a, false),
            ],
        ),
        Instruction::new_with_bytes(program_2, &[3], vec![AccountMeta::new(payer, true)]),
    ];
    let message = Message::new(&ixs, Some(&payer), Hash::default());
    assert_eq!(
        message.account_keys,
        vec![payer, a, b, program_1, program_2]
    );
    assert_eq!(
        message.instructions,
        vec![
            CompiledInstruction {
                program_id_index: 3,
                accounts: vec![2, 1],
                data: vec![1, 2],
            },
            CompiledInstruction {
                program_id_index: 4,
                accounts: vec![0],
                data: vec![3],
            },
        ]
    );
    assert_eq!(message.program_id(0), Some(&program_1));
    assert_eq!(message.program_id(1), Some(&program_2));
    assert_eq!(message.program_id(2), None);
}

#[test]
fn without_a_payer_the_first_writable_signer_pays() {
    let [program, readonly_signer, signer] = keys();
    let ix = Instruction::new_with_bytes(
        program,
        &[],
        vec![
            AccountMeta::new_readonly(readonly_signer, true),
            AccountMeta::new(signer, true),
        ],
    );
    let message = Message::new(&[ix], None, Hash::default());
    assert_eq!(message.fee_payer(), Some(&signer));
    assert_eq!(message.account_keys, vec![signer, readonly_signer, program]);
}

#[test]
fn without_any_signer_there_is_no_fee_payer_and_no_sanitized_transaction() {
    let [program, account] = keys();
    let ix = Instruction::new_with_bytes(program, &[], vec![AccountMeta::new(account, false)]);
    let message = Message::new(&[ix], None, Hash::default());
    assert_eq!(message.fee_payer(), None);
    assert_eq!(
        SanitizedTransaction::try_new(Transaction::new_with_placeholder_signatures(message)),
        Err(SanitizeError::NoFeePayer {
            num_account_keys: 2,
            num_required_signatures: 0,
        })
    );
}

#[test]
fn recent_blockhash_is_kept() {
    let payer = Pubkey::new_unique();
    let blockhash = Hash::new_unique();
    let message = Message::new(&[], Some(&payer), blockhash);
    assert_eq!(message.recent_blockhash, blockhash);
    let tx = SanitizedTransaction::try_new(Transaction::new_with_placeholder_signatures(message))
        .unwrap();
    assert_eq!(tx.recent_blockhash(), &blockhash);
}

#[test]
fn placeholder_signatures_match_the_signer_count_and_differ() {
    let [payer, signer, program] = keys();
    let ix = Instruction::new_with_bytes(program, &[], vec![AccountMeta::new(signer, true)]);
    let tx = sanitized(&[ix], &payer);
    assert_eq!(tx.num_signatures(), 2);
    assert_ne!(tx.signatures()[0], tx.signatures()[1]);
    assert_eq!(tx.signature(), &tx.signatures()[0]);
}
