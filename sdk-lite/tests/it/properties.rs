//! Property tests: `Message::new` against the instructions it compiles, and
//! `SanitizedTransaction::try_new` against a naive model of the sanitize rules.

use std::collections::{BTreeSet, HashMap};

use proptest::prelude::*;
use sdk_lite::{
    AccountMeta, CompiledInstruction, Hash, Instruction, MAX_TX_ACCOUNT_LOCKS, Message,
    MessageHeader, Pubkey, SanitizeError, SanitizedTransaction, Signature, Transaction,
};

// ---------------------------------------------------------------------------------------
// Property 1: compiling instructions.

/// Keys are drawn from a small pool so that instructions share keys and programs.
const POOL: usize = 10;

fn pool_key(index: usize) -> Pubkey {
    let mut bytes = [0xa5; 32];
    bytes[0] = index as u8;
    Pubkey::new_from_array(bytes)
}

#[derive(Debug, Clone)]
struct InstructionSpec {
    program: usize,
    accounts: Vec<(usize, bool, bool)>,
    data: Vec<u8>,
}

fn instruction_specs() -> impl Strategy<Value = (usize, Vec<InstructionSpec>)> {
    let spec = (
        0..POOL,
        prop::collection::vec((0..POOL, any::<bool>(), any::<bool>()), 0..6),
        prop::collection::vec(any::<u8>(), 0..4),
    )
        .prop_map(|(program, accounts, data)| InstructionSpec {
            program,
            accounts,
            data,
        });
    (0..POOL, prop::collection::vec(spec, 0..6))
}

/// Builds the instructions; a program that would be the payer is moved to the next pool
/// key (the fee payer may not be a program, so such a list could never sanitize).
fn build_instructions(payer: usize, specs: &[InstructionSpec]) -> Vec<Instruction> {
    specs
        .iter()
        .map(|spec| {
            let program = if spec.program == payer {
                (spec.program + 1) % POOL
            } else {
                spec.program
            };
            let accounts = spec
                .accounts
                .iter()
                .map(|&(key, is_signer, is_writable)| AccountMeta {
                    pubkey: pool_key(key),
                    is_signer,
                    is_writable,
                })
                .collect();
            Instruction::new_with_bytes(pool_key(program), &spec.data, accounts)
        })
        .collect()
}

/// Rank of a key's group in the legacy order.
fn group_rank(message: &Message, index: usize) -> u8 {
    match (message.is_signer(index), message.is_writable(index)) {
        (true, true) => 0,
        (true, false) => 1,
        (false, true) => 2,
        (false, false) => 3,
    }
}

proptest! {
    #[test]
    fn compiled_messages_sanitize_and_round_trip_their_instructions(
        (payer_index, specs) in instruction_specs(),
    ) {
        let payer = pool_key(payer_index);
        let instructions = build_instructions(payer_index, &specs);
        let message = Message::new(&instructions, Some(&payer), Hash::new_unique());
        let tx = SanitizedTransaction::try_new(
            Transaction::new_with_placeholder_signatures(message.clone()),
        );
        prop_assert!(tx.is_ok(), "{:?}", tx);
        let tx = tx.unwrap();

        // The payer is first, and is the fee payer.
        prop_assert_eq!(message.account_keys[0], payer);
        prop_assert_eq!(tx.fee_payer(), &payer);

        // Exactly the keys the instructions name, plus the payer.
        let expected_keys: BTreeSet<Pubkey> = instructions
            .iter()
            .flat_map(|ix| {
                std::iter::once(ix.program_id).chain(ix.accounts.iter().map(|m| m.pubkey))
            })
            .chain(std::iter::once(payer))
            .collect();
        let keys: BTreeSet<Pubkey> = message.account_keys.iter().copied().collect();
        prop_assert_eq!(keys, expected_keys);

        // Every instruction round-trips.
        prop_assert_eq!(message.instructions.len(), instructions.len());
        for (i, (ix, compiled)) in instructions.iter().zip(&message.instructions).enumerate() {
            prop_assert_eq!(message.program_id(i), Some(&ix.program_id));
            prop_assert_eq!(&compiled.data, &ix.data);
            prop_assert_eq!(compiled.accounts.len(), ix.accounts.len());
            for (meta, &index) in ix.accounts.iter().zip(&compiled.accounts) {
                let index = usize::from(index);
                prop_assert_eq!(message.account_keys[index], meta.pubkey);
                prop_assert!(!meta.is_signer || message.is_signer(index));
                prop_assert!(!meta.is_writable || message.is_writable(index));
            }
        }

        // Flags are exactly the union of what was asked (plus the payer's), groups come in
        // the legacy order, and sanitizing demotes exactly the programs.
        for (index, key) in message.account_keys.iter().enumerate() {
            let metas = || instructions.iter().flat_map(|ix| &ix.accounts).filter(|m| m.pubkey == *key);
            let is_payer = *key == payer;
            prop_assert_eq!(message.is_signer(index), is_payer || metas().any(|m| m.is_signer));
            prop_assert_eq!(message.is_writable(index), is_payer || metas().any(|m| m.is_writable));
            let is_program = instructions.iter().any(|ix| ix.program_id == *key);
            prop_assert_eq!(tx.is_writable(index), message.is_writable(index) && !is_program);
            if index > 0 {
                prop_assert!(group_rank(&message, index - 1) <= group_rank(&message, index));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Property 2: sanitizing raw messages against a naive model.

/// A raw, possibly malformed transaction: random header counts, keys (some repeated),
/// indices (mostly in range) and signature count (mostly right).
fn raw_transactions() -> impl Strategy<Value = Transaction> {
    let num_keys = prop_oneof![
        1 => Just(0usize),
        24 => 1usize..=6,
        1 => 14usize..=40,
        2 => 126usize..=130,
        1 => 255usize..=258,
    ];
    num_keys.prop_flat_map(|n| {
        // Largest index that is in range (0 when there are no keys).
        let last = (n.clamp(1, 256) - 1) as u8;
        let required = prop_oneof![
            1 => Just(0u8),
            10 => 1..=last.clamp(1, 3),
            1 => any::<u8>(),
        ];
        let readonly_signed = prop_oneof![8 => Just(0u8), 2 => 0..=2u8, 1 => any::<u8>()];
        let readonly_unsigned = prop_oneof![8 => 0..=1u8, 2 => 2..=3u8, 1 => any::<u8>()];
        let index = prop_oneof![20 => 0..=last, 1 => any::<u8>()];
        // Programs avoid the fee payer, except now and then.
        let program_index = prop_oneof![
            20 => (0..=last).prop_map(move |i| if last == 0 { 0 } else { 1 + i % last }),
            1 => any::<u8>(),
        ];
        let instruction = (program_index, prop::collection::vec(index, 0..4)).prop_map(
            |(program_id_index, accounts)| CompiledInstruction {
                program_id_index,
                accounts,
                data: vec![],
            },
        );
        (
            prop::collection::vec(any::<[u8; 32]>().prop_map(Pubkey::new_from_array), n),
            (required, readonly_signed, readonly_unsigned),
            prop::collection::vec(instruction, 0..4),
            prop_oneof![12 => Just(None), 1 => (0usize..4).prop_map(Some)],
            // Zero, one or two repeated keys (two, so that which repetition is reported
            // first is checked too).
            prop_oneof![
                8 => Just(vec![]),
                2 => prop::collection::vec((any::<usize>(), any::<usize>()), 1..=2),
            ],
        )
            .prop_map(
                |(
                    mut account_keys,
                    (required, ro_signed, ro_unsigned),
                    instructions,
                    signature_count,
                    duplicates,
                )| {
                    let len = account_keys.len();
                    for (from, to) in duplicates {
                        if len > 0 {
                            account_keys[to % len] = account_keys[from % len];
                        }
                    }
                    let signature_count = signature_count.unwrap_or(usize::from(required));
                    Transaction {
                        signatures: (0..signature_count).map(|_| Signature::default()).collect(),
                        message: Message {
                            header: MessageHeader {
                                num_required_signatures: required,
                                num_readonly_signed_accounts: ro_signed,
                                num_readonly_unsigned_accounts: ro_unsigned,
                            },
                            account_keys,
                            recent_blockhash: Hash::default(),
                            instructions,
                        },
                    }
                },
            )
    })
}

/// The sanitize rules written out plainly, in the documented order. On success, the
/// writability of every key.
fn model(tx: &Transaction) -> Result<Vec<bool>, SanitizeError> {
    let keys = &tx.message.account_keys;
    let n = keys.len();
    let header = tx.message.header;
    let required = header.num_required_signatures as usize;
    let ro_signed = header.num_readonly_signed_accounts as usize;
    let ro_unsigned = header.num_readonly_unsigned_accounts as usize;

    if n == 0 || required == 0 {
        return Err(SanitizeError::NoFeePayer {
            num_account_keys: n,
            num_required_signatures: header.num_required_signatures,
        });
    }
    if ro_signed >= required {
        return Err(SanitizeError::ReadonlyFeePayer {
            num_required_signatures: header.num_required_signatures,
            num_readonly_signed_accounts: header.num_readonly_signed_accounts,
        });
    }
    if required + ro_unsigned > n {
        return Err(SanitizeError::HeaderExceedsAccountKeys {
            num_required_signatures: header.num_required_signatures,
            num_readonly_unsigned_accounts: header.num_readonly_unsigned_accounts,
            num_account_keys: n,
        });
    }
    if n > 256 {
        return Err(SanitizeError::TooManyAccountKeys {
            num_account_keys: n,
        });
    }
    for (i, ix) in tx.message.instructions.iter().enumerate() {
        let program = ix.program_id_index as usize;
        if program >= n {
            return Err(SanitizeError::ProgramIdIndexOutOfBounds {
                instruction_index: i,
                program_id_index: ix.program_id_index,
                num_account_keys: n,
            });
        }
        if program == 0 {
            return Err(SanitizeError::FeePayerInvokedAsProgram {
                instruction_index: i,
            });
        }
        for &account in &ix.accounts {
            if account as usize >= n {
                return Err(SanitizeError::AccountIndexOutOfBounds {
                    instruction_index: i,
                    account_index: account,
                    num_account_keys: n,
                });
            }
        }
    }
    if tx.signatures.len() != required {
        return Err(SanitizeError::SignatureCountMismatch {
            expected: header.num_required_signatures,
            actual: tx.signatures.len(),
        });
    }
    if n > MAX_TX_ACCOUNT_LOCKS {
        return Err(SanitizeError::TooManyAccountLocks {
            num_account_keys: n,
            limit: MAX_TX_ACCOUNT_LOCKS,
        });
    }
    let mut first_seen = HashMap::new();
    for (i, key) in keys.iter().enumerate() {
        if let Some(&first) = first_seen.get(key) {
            return Err(SanitizeError::DuplicateAccountKey {
                key: *key,
                first_index: first,
                second_index: i,
            });
        }
        first_seen.insert(*key, i);
    }

    Ok((0..n)
        .map(|i| {
            let by_header = if i < required {
                i < required - ro_signed
            } else {
                i < n - ro_unsigned
            };
            let invoked = tx
                .message
                .instructions
                .iter()
                .any(|ix| ix.program_id_index as usize == i);
            by_header && !invoked
        })
        .collect())
}

proptest! {
    #[test]
    fn sanitize_agrees_with_the_naive_model(tx in raw_transactions()) {
        let expected = model(&tx);
        let actual = SanitizedTransaction::try_new(tx.clone());
        match (expected, actual) {
            (Err(expected), actual) => prop_assert_eq!(actual, Err(expected)),
            (Ok(_), Err(err)) => prop_assert!(false, "model accepts, try_new rejects: {err}"),
            (Ok(writable), Ok(sanitized)) => {
                let keys = &tx.message.account_keys;
                let expected_locks: Vec<(&Pubkey, bool)> = keys.iter().zip(writable.iter().copied()).collect();
                let locks: Vec<(&Pubkey, bool)> = sanitized.lock_requests().collect();
                prop_assert_eq!(&locks, &expected_locks);
                prop_assert_eq!(sanitized.lock_requests().len(), keys.len());
                prop_assert_eq!(
                    sanitized.num_write_locks(),
                    writable.iter().filter(|&&w| w).count()
                );
                for (i, &w) in writable.iter().enumerate() {
                    prop_assert_eq!(sanitized.is_writable(i), w);
                    prop_assert_eq!(
                        sanitized.is_signer(i),
                        i < usize::from(tx.message.header.num_required_signatures)
                    );
                }
                prop_assert!(writable[0], "the fee payer is always write-locked");
                prop_assert_eq!(sanitized.fee_payer(), &keys[0]);
            }
        }
    }
}
