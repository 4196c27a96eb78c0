//! `SanitizedTransaction::try_new`: one test per rule (each builds the bad message and
//! checks the exact error), then what a sanitized transaction promises.

use sdk_lite::{
    AccountMeta, CompiledInstruction, Hash, Instruction, MAX_TX_ACCOUNT_LOCKS, Message,
    MessageHeader, Pubkey, SanitizeError, SanitizedTransaction, Signature, Transaction,
    TransactionError,
};

use crate::sanitized;

/// A valid transaction: keys `[payer, writable, readonly, program]`, one instruction
/// invoking `program` with `[writable, readonly]`, one signature.
fn valid() -> Transaction {
    let message = Message {
        header: MessageHeader {
            num_required_signatures: 1,
            num_readonly_signed_accounts: 0,
            num_readonly_unsigned_accounts: 2,
        },
        account_keys: (0..4).map(|_| Pubkey::new_unique()).collect(),
        recent_blockhash: Hash::new_unique(),
        instructions: vec![CompiledInstruction {
            program_id_index: 3,
            accounts: vec![1, 2],
            data: vec![7],
        }],
    };
    Transaction::new_with_placeholder_signatures(message)
}

/// `valid()` changed by `edit`, then sanitized.
fn sanitize_edited(
    edit: impl FnOnce(&mut Transaction),
) -> Result<SanitizedTransaction, SanitizeError> {
    let mut tx = valid();
    edit(&mut tx);
    SanitizedTransaction::try_new(tx)
}

/// `n` distinct keys behind one payer, with a program last: `n + 2` keys.
fn transaction_with_accounts(n: usize) -> Transaction {
    let payer = Pubkey::new_unique();
    let accounts = (0..n)
        .map(|_| AccountMeta::new(Pubkey::new_unique(), false))
        .collect();
    let ix = Instruction::new_with_bytes(Pubkey::new_unique(), &[], accounts);
    Transaction::new_with_placeholder_signatures(Message::new(&[ix], Some(&payer), Hash::default()))
}

#[test]
fn the_reference_transaction_is_valid() {
    assert!(sanitize_edited(|_| {}).is_ok());
}

#[test]
fn message_without_account_keys_has_no_fee_payer() {
    let result = sanitize_edited(|tx| {
        tx.message.account_keys.clear();
        tx.message.header.num_readonly_unsigned_accounts = 0;
        tx.message.instructions.clear();
    });
    assert_eq!(
        result,
        Err(SanitizeError::NoFeePayer {
            num_account_keys: 0,
            num_required_signatures: 1,
        })
    );
}

#[test]
fn message_requiring_no_signature_has_no_fee_payer() {
    let result = sanitize_edited(|tx| {
        tx.message.header.num_required_signatures = 0;
        tx.signatures.clear();
    });
    assert_eq!(
        result,
        Err(SanitizeError::NoFeePayer {
            num_account_keys: 4,
            num_required_signatures: 0,
        })
    );
}

#[test]
fn fee_payer_must_be_writable_signer() {
    let result = sanitize_edited(|tx| tx.message.header.num_readonly_signed_accounts = 1);
    assert_eq!(
        result,
        Err(SanitizeError::ReadonlyFeePayer {
            num_required_signatures: 1,
            num_readonly_signed_accounts: 1,
        })
    );
}

#[test]
fn signed_and_readonly_unsigned_ranges_must_fit_the_keys() {
    let result = sanitize_edited(|tx| tx.message.header.num_readonly_unsigned_accounts = 4);
    assert_eq!(
        result,
        Err(SanitizeError::HeaderExceedsAccountKeys {
            num_required_signatures: 1,
            num_readonly_unsigned_accounts: 4,
            num_account_keys: 4,
        })
    );
}

#[test]
fn more_keys_than_a_u8_index_reaches_are_rejected() {
    let result = sanitize_edited(|tx| {
        tx.message.account_keys = (0..257).map(|_| Pubkey::new_unique()).collect();
    });
    assert_eq!(
        result,
        Err(SanitizeError::TooManyAccountKeys {
            num_account_keys: 257
        })
    );
}

#[test]
fn program_id_index_must_be_in_range() {
    let result = sanitize_edited(|tx| {
        tx.message.instructions.push(CompiledInstruction {
            program_id_index: 4,
            accounts: vec![],
            data: vec![],
        });
    });
    assert_eq!(
        result,
        Err(SanitizeError::ProgramIdIndexOutOfBounds {
            instruction_index: 1,
            program_id_index: 4,
            num_account_keys: 4,
        })
    );
}

#[test]
fn fee_payer_cannot_be_invoked_as_a_program() {
    let result = sanitize_edited(|tx| tx.message.instructions[0].program_id_index = 0);
    assert_eq!(
        result,
        Err(SanitizeError::FeePayerInvokedAsProgram {
            instruction_index: 0
        })
    );
}

#[test]
fn instruction_account_index_must_be_in_range() {
    let result = sanitize_edited(|tx| tx.message.instructions[0].accounts.push(200));
    assert_eq!(
        result,
        Err(SanitizeError::AccountIndexOutOfBounds {
            instruction_index: 0,
            account_index: 200,
            num_account_keys: 4,
        })
    );
}

#[test]
fn signature_count_must_equal_required_signatures() {
    let too_many = sanitize_edited(|tx| tx.signatures.push(Signature::new_unique()));
    assert_eq!(
        too_many,
        Err(SanitizeError::SignatureCountMismatch {
            expected: 1,
            actual: 2,
        })
    );
    let too_few = sanitize_edited(|tx| tx.signatures.clear());
    assert_eq!(
        too_few,
        Err(SanitizeError::SignatureCountMismatch {
            expected: 1,
            actual: 0,
        })
    );
}

#[test]
fn more_keys_than_max_tx_account_locks_are_rejected() {
    let tx = transaction_with_accounts(MAX_TX_ACCOUNT_LOCKS - 1);
    let err = SanitizedTransaction::try_new(tx).unwrap_err();
    assert_eq!(
        err,
        SanitizeError::TooManyAccountLocks {
            num_account_keys: MAX_TX_ACCOUNT_LOCKS + 1,
            limit: MAX_TX_ACCOUNT_LOCKS,
        }
    );
    assert_eq!(
        TransactionError::from(err),
        TransactionError::TooManyAccountLocks
    );
}

#[test]
fn exactly_max_tx_account_locks_keys_are_accepted() {
    let tx = transaction_with_accounts(MAX_TX_ACCOUNT_LOCKS - 2);
    let tx = SanitizedTransaction::try_new(tx).unwrap();
    assert_eq!(tx.lock_requests().len(), MAX_TX_ACCOUNT_LOCKS);
}

#[test]
fn duplicate_account_key_is_rejected_as_loaded_twice() {
    let mut duplicated = Pubkey::default();
    let result = sanitize_edited(|tx| {
        duplicated = tx.message.account_keys[1];
        tx.message.account_keys[2] = duplicated;
    });
    let err = result.unwrap_err();
    assert_eq!(
        err,
        SanitizeError::DuplicateAccountKey {
            key: duplicated,
            first_index: 1,
            second_index: 2,
        }
    );
    assert_eq!(
        TransactionError::from(err),
        TransactionError::AccountLoadedTwice
    );
}

#[test]
fn duplicate_key_in_a_large_message_reports_the_earliest_repetition() {
    // Past the pairwise-scan threshold, so the sorting path runs.
    let result = sanitize_edited(|tx| {
        let mut keys: Vec<Pubkey> = (0..100).map(|_| Pubkey::new_unique()).collect();
        keys[90] = keys[10];
        keys[40] = keys[30];
        keys[99] = keys[30];
        tx.message.account_keys = keys;
    });
    assert!(matches!(
        result,
        Err(SanitizeError::DuplicateAccountKey {
            first_index: 30,
            second_index: 40,
            ..
        })
    ));
}

#[test]
fn other_rules_map_to_sanitize_failure() {
    let err = sanitize_edited(|tx| tx.message.instructions[0].program_id_index = 0).unwrap_err();
    assert_eq!(
        TransactionError::from(err.clone()),
        TransactionError::SanitizeFailure(err)
    );
}

#[test]
fn rules_are_checked_in_the_documented_order() {
    // Both an out-of-range account index (rule 5) and a duplicate key (rule 8): rule 5
    // is reported.
    let result = sanitize_edited(|tx| {
        tx.message.account_keys[2] = tx.message.account_keys[1];
        tx.message.instructions[0].accounts.push(9);
    });
    assert!(matches!(
        result,
        Err(SanitizeError::AccountIndexOutOfBounds { .. })
    ));
}

#[test]
fn program_id_is_demoted_to_readonly() {
    let payer = Pubkey::new_unique();
    let program = Pubkey::new_unique();
    // The program is also passed as a writable account, so the header marks it writable.
    let ix = Instruction::new_with_bytes(program, &[], vec![AccountMeta::new(program, false)]);
    let tx = sanitized(&[ix], &payer);
    let index = tx
        .account_keys()
        .iter()
        .position(|k| *k == program)
        .unwrap();
    assert!(tx.message().is_writable(index));
    assert!(!tx.is_writable(index));
    assert_eq!(
        tx.lock_requests().collect::<Vec<_>>(),
        vec![(&payer, true), (&program, false)]
    );
    assert_eq!(tx.num_write_locks(), 1);
}

#[test]
fn a_program_used_by_one_instruction_is_read_only_for_all() {
    let payer = Pubkey::new_unique();
    let token_program = Pubkey::new_unique();
    let other_program = Pubkey::new_unique();
    let ixs = [
        Instruction::new_with_bytes(token_program, &[], vec![]),
        // Another instruction asks to write the first program's account.
        Instruction::new_with_bytes(
            other_program,
            &[],
            vec![AccountMeta::new(token_program, false)],
        ),
    ];
    let tx = sanitized(&ixs, &payer);
    let locks: Vec<_> = tx.lock_requests().collect();
    assert!(locks.contains(&(&token_program, false)));
    assert!(
        locks
            .iter()
            .all(|&(key, writable)| writable == (*key == payer))
    );
}

#[test]
fn lock_requests_follow_account_key_order_one_per_key() {
    let payer = Pubkey::new_unique();
    let [a, b, c, program] = std::array::from_fn(|_| Pubkey::new_unique());
    let ix = Instruction::new_with_bytes(
        program,
        &[],
        vec![
            AccountMeta::new_readonly(c, false),
            AccountMeta::new(b, false),
            AccountMeta::new_readonly(a, true),
            AccountMeta::new(b, false),
        ],
    );
    let tx = sanitized(&[ix], &payer);
    let locks: Vec<_> = tx.lock_requests().collect();
    let keys: Vec<_> = locks.iter().map(|(key, _)| **key).collect();
    assert_eq!(keys, tx.account_keys());
    assert_eq!(
        locks,
        vec![
            (&payer, true),
            (&a, false),
            (&b, true),
            (&c, false),
            (&program, false),
        ]
    );
    let requests = tx.lock_requests();
    assert_eq!(requests.len(), 5);
    assert_eq!(requests.clone().count(), requests.count());
}

#[test]
fn sanitized_accessors_expose_the_transaction() {
    let tx = valid();
    let first_signature = tx.signatures[0];
    let keys = tx.message.account_keys.clone();
    let sanitized = SanitizedTransaction::try_from(tx.clone()).unwrap();

    assert_eq!(sanitized.fee_payer(), &keys[0]);
    assert_eq!(sanitized.signature(), &first_signature);
    assert_eq!(sanitized.signatures(), &[first_signature]);
    assert_eq!(sanitized.num_signatures(), 1);
    assert_eq!(sanitized.account_keys(), &keys[..]);
    assert_eq!(sanitized.recent_blockhash(), &tx.message.recent_blockhash);
    assert_eq!(sanitized.message(), &tx.message);
    assert!(sanitized.is_signer(0) && !sanitized.is_signer(1));
    assert_eq!(
        (0..4).map(|i| sanitized.is_writable(i)).collect::<Vec<_>>(),
        vec![true, true, false, false]
    );
    assert_eq!(sanitized.num_write_locks(), 2);
    let instructions: Vec<_> = sanitized.instructions_iter().collect();
    assert_eq!(instructions, vec![(&keys[3], &tx.message.instructions[0])]);
    assert_eq!(sanitized.into_transaction(), tx);
}
