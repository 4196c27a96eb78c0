//! The sanitize rules: the checks that turn a [`Transaction`] into a
//! [`SanitizedTransaction`](crate::SanitizedTransaction), in the order the crate docs list.

use crate::{MAX_TX_ACCOUNT_LOCKS, Message, Pubkey, SanitizeError, Transaction};

/// A `u8` index reaches keys `0..=255`.
const MAX_ADDRESSABLE_KEYS: usize = u8::MAX as usize + 1;

/// Up to this many keys, a pairwise scan finds duplicates faster than sorting: no setup,
/// and typical transactions have a handful of keys. Agave scans pairwise for all sizes.
const PAIRWISE_DUPLICATE_SCAN_MAX: usize = 16;

/// Checks every sanitize rule; the first failure is returned.
pub(crate) fn sanitize(tx: &Transaction) -> Result<(), SanitizeError> {
    let Transaction {
        signatures,
        message,
    } = tx;
    let Message {
        header,
        account_keys,
        recent_blockhash: _,
        instructions,
    } = message;
    let num_account_keys = account_keys.len();
    let num_signed = usize::from(header.num_required_signatures);

    // 1. The fee payer is the first key, and it must sign.
    if num_account_keys == 0 || num_signed == 0 {
        return Err(SanitizeError::NoFeePayer {
            num_account_keys,
            num_required_signatures: header.num_required_signatures,
        });
    }
    // 2. The read-only signers are the last signers, so the fee payer is writable iff at
    //    least one signer is.
    if header.num_readonly_signed_accounts >= header.num_required_signatures {
        return Err(SanitizeError::ReadonlyFeePayer {
            num_required_signatures: header.num_required_signatures,
            num_readonly_signed_accounts: header.num_readonly_signed_accounts,
        });
    }
    // 3. The signed range (at the front) and the read-only unsigned range (at the back)
    //    must not overlap.
    if num_signed + usize::from(header.num_readonly_unsigned_accounts) > num_account_keys {
        return Err(SanitizeError::HeaderExceedsAccountKeys {
            num_required_signatures: header.num_required_signatures,
            num_readonly_unsigned_accounts: header.num_readonly_unsigned_accounts,
            num_account_keys,
        });
    }
    // 4. Keys no `u8` index can reach are meaningless.
    if num_account_keys > MAX_ADDRESSABLE_KEYS {
        return Err(SanitizeError::TooManyAccountKeys { num_account_keys });
    }
    // 5. Every index an instruction holds is in range; downstream code indexes without
    //    checks.
    for (instruction_index, ix) in instructions.iter().enumerate() {
        if usize::from(ix.program_id_index) >= num_account_keys {
            return Err(SanitizeError::ProgramIdIndexOutOfBounds {
                instruction_index,
                program_id_index: ix.program_id_index,
                num_account_keys,
            });
        }
        // The fee payer is debited before execution; letting it be a program would let
        // a transaction pay with an executable account.
        if ix.program_id_index == 0 {
            return Err(SanitizeError::FeePayerInvokedAsProgram { instruction_index });
        }
        if let Some(&account_index) = ix
            .accounts
            .iter()
            .find(|&&index| usize::from(index) >= num_account_keys)
        {
            return Err(SanitizeError::AccountIndexOutOfBounds {
                instruction_index,
                account_index,
                num_account_keys,
            });
        }
    }
    // 6. One signature per required signer: sigverify checked them pairwise, and the
    //    first one is the transaction's id.
    if signatures.len() != num_signed {
        return Err(SanitizeError::SignatureCountMismatch {
            expected: header.num_required_signatures,
            actual: signatures.len(),
        });
    }
    // 7. The runtime's lock limit (Agave's `validate_account_locks`).
    if num_account_keys > MAX_TX_ACCOUNT_LOCKS {
        return Err(SanitizeError::TooManyAccountLocks {
            num_account_keys,
            limit: MAX_TX_ACCOUNT_LOCKS,
        });
    }
    // 8. A key listed twice would be locked twice (a self-deadlock in a lock table, a
    //    double entry in a usage queue) and loaded as two diverging copies.
    if let Some((first_index, second_index)) = find_duplicate(account_keys) {
        return Err(SanitizeError::DuplicateAccountKey {
            key: account_keys[first_index],
            first_index,
            second_index,
        });
    }
    Ok(())
}

/// The first repeated key: `(i, j)` with `keys[i] == keys[j]`, `i < j`, `j` as small as
/// possible and `i` the key's first position. The answer does not depend on which
/// algorithm found it, so the error is deterministic.
fn find_duplicate(keys: &[Pubkey]) -> Option<(usize, usize)> {
    if keys.len() <= PAIRWISE_DUPLICATE_SCAN_MAX || keys.len() > MAX_TX_ACCOUNT_LOCKS {
        return find_duplicate_pairwise(keys);
    }
    // Sort positions by (key, position) in a stack buffer: no allocation on this path.
    let mut buf = [0u8; MAX_TX_ACCOUNT_LOCKS];
    let order = &mut buf[..keys.len()];
    for (slot, position) in order.iter_mut().zip(0u8..) {
        *slot = position;
    }
    order.sort_unstable_by_key(|&position| (&keys[usize::from(position)], position));
    // Equal keys are now adjacent, each run in position order. The smallest second
    // element of any pair is the second occurrence of some key, and its predecessor is
    // that key's first occurrence.
    order
        .windows(2)
        .map(|pair| (usize::from(pair[0]), usize::from(pair[1])))
        .filter(|&(first, second)| keys[first] == keys[second])
        .min_by_key(|&(_, second)| second)
}

/// O(n²) and allocation-free: for each position, look for the key before it.
fn find_duplicate_pairwise(keys: &[Pubkey]) -> Option<(usize, usize)> {
    keys.iter().enumerate().skip(1).find_map(|(second, key)| {
        keys[..second]
            .iter()
            .position(|earlier| earlier == key)
            .map(|first| (first, second))
    })
}

// The sort buffer above holds positions as `u8`.
const _: () = assert!(MAX_TX_ACCOUNT_LOCKS <= MAX_ADDRESSABLE_KEYS);

#[cfg(test)]
mod tests {
    use super::*;

    fn keys_with_duplicates(len: usize, pairs: &[(usize, usize)]) -> Vec<Pubkey> {
        let mut keys: Vec<Pubkey> = (0..len).map(|_| Pubkey::new_unique()).collect();
        for &(from, to) in pairs {
            keys[to] = keys[from];
        }
        keys
    }

    #[test]
    fn both_duplicate_scans_agree_on_the_first_repetition() {
        for len in [2, 5, 16, 17, 64, 128] {
            let cases: [&[(usize, usize)]; 4] = [
                &[],
                &[(0, len - 1)],
                &[(len / 2, len - 1), (0, 1)],
                &[(0, len / 2), (0, len - 1)],
            ];
            for pairs in cases {
                let keys = keys_with_duplicates(len, pairs);
                let expected = find_duplicate_pairwise(&keys);
                assert_eq!(find_duplicate(&keys), expected, "len {len} pairs {pairs:?}");
            }
        }
    }

    #[test]
    fn first_repetition_is_reported_with_the_first_occurrence() {
        // Key A at 0, 3, 9; key B at 2, 5: B's repetition (5) comes before A's second (9)
        // but after A's first repetition (3).
        let mut keys: Vec<Pubkey> = (0..20).map(|_| Pubkey::new_unique()).collect();
        keys[3] = keys[0];
        keys[9] = keys[0];
        keys[5] = keys[2];
        assert_eq!(find_duplicate(&keys), Some((0, 3)));
        assert_eq!(find_duplicate_pairwise(&keys), Some((0, 3)));
    }
}
