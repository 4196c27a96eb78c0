//! `validate_account_locks` and the two duplicate finders: the limit, error precedence,
//! duplicates on both sides of `DUPLICATE_CHECK_HASH_SET_THRESHOLD`, the reused per-thread
//! set, and both finders against a naive model on random inputs.

use std::collections::BTreeSet;

use accounts_db_lite::{
    DUPLICATE_CHECK_HASH_SET_THRESHOLD, has_duplicates_by_hash_set, has_duplicates_by_pairs,
    validate_account_locks,
};
use proptest::prelude::*;
use proptest::sample::Index;
use sdk_lite::{MAX_TX_ACCOUNT_LOCKS, Pubkey, TransactionError};

use crate::key;

/// `n` distinct keys.
fn distinct(n: usize) -> Vec<Pubkey> {
    (0..n as u64).map(key).collect()
}

/// Whether `keys` names a key twice, the obvious way.
fn naive_has_duplicates(keys: &[Pubkey]) -> bool {
    keys.iter().collect::<BTreeSet<_>>().len() < keys.len()
}

/// Asserts that both finders and `validate_account_locks` (under the default limit) agree
/// that `keys` has a duplicate or not.
fn assert_duplicates(keys: &[Pubkey], expected: bool, what: &str) {
    assert_eq!(has_duplicates_by_pairs(keys), expected, "pairs: {what}");
    assert_eq!(
        has_duplicates_by_hash_set(keys),
        expected,
        "hash set: {what}"
    );
    let expected_result = if expected {
        Err(TransactionError::AccountLoadedTwice)
    } else {
        Ok(())
    };
    assert_eq!(
        validate_account_locks(keys, MAX_TX_ACCOUNT_LOCKS),
        expected_result,
        "validate: {what}"
    );
}

#[test]
fn the_limits_are_the_documented_constants() {
    assert_eq!(MAX_TX_ACCOUNT_LOCKS, 128);
    assert_eq!(DUPLICATE_CHECK_HASH_SET_THRESHOLD, 32);
}

#[test]
fn exactly_at_the_default_limit_is_ok_and_one_over_is_too_many() {
    assert_eq!(
        validate_account_locks(&distinct(MAX_TX_ACCOUNT_LOCKS), MAX_TX_ACCOUNT_LOCKS),
        Ok(())
    );
    assert_eq!(
        validate_account_locks(&distinct(MAX_TX_ACCOUNT_LOCKS + 1), MAX_TX_ACCOUNT_LOCKS),
        Err(TransactionError::TooManyAccountLocks)
    );
}

#[test]
fn exactly_at_a_custom_limit_is_ok_and_one_over_is_too_many() {
    for limit in [0, 1, 4, 31, 32, 33] {
        assert_eq!(
            validate_account_locks(&distinct(limit), limit),
            Ok(()),
            "limit {limit}"
        );
        assert_eq!(
            validate_account_locks(&distinct(limit + 1), limit),
            Err(TransactionError::TooManyAccountLocks),
            "limit {limit}"
        );
    }
    // A limit above the default is honoured too.
    assert_eq!(validate_account_locks(&distinct(200), 200), Ok(()));
}

#[test]
fn too_many_account_locks_is_reported_before_a_duplicate() {
    let mut keys = distinct(MAX_TX_ACCOUNT_LOCKS + 1);
    keys[1] = keys[0];
    assert_eq!(
        validate_account_locks(&keys, MAX_TX_ACCOUNT_LOCKS),
        Err(TransactionError::TooManyAccountLocks)
    );
    let small = [key(1), key(1), key(2)];
    assert_eq!(
        validate_account_locks(&small, 2),
        Err(TransactionError::TooManyAccountLocks)
    );
    assert_eq!(
        validate_account_locks(&small, 3),
        Err(TransactionError::AccountLoadedTwice)
    );
}

#[test]
fn empty_and_single_key_lists_have_no_duplicates() {
    assert_duplicates(&[], false, "empty");
    assert_duplicates(&[key(0)], false, "one key");
    assert_duplicates(&[Pubkey::default()], false, "the zero key");
}

#[test]
fn duplicates_are_found_on_both_sides_of_the_threshold_wherever_they_are() {
    let threshold = DUPLICATE_CHECK_HASH_SET_THRESHOLD;
    for n in [
        2,
        3,
        threshold - 1,
        threshold,
        threshold + 1,
        MAX_TX_ACCOUNT_LOCKS,
    ] {
        assert_duplicates(&distinct(n), false, &format!("{n} distinct keys"));
        let mid = n / 2;
        // (copied from, copied to): the duplicate at the start, middle and end, far apart
        // and next to each other.
        let placements = [
            ("start", 0, 1),
            ("middle", mid - 1, mid),
            ("end", n - 2, n - 1),
            ("first and last", 0, n - 1),
            ("last copied to first", n - 1, 0),
            ("middle and end", mid, n - 1),
        ];
        for (where_, from, to) in placements {
            if from == to {
                continue;
            }
            let mut keys = distinct(n);
            keys[to] = keys[from];
            assert_duplicates(&keys, true, &format!("{n} keys, duplicate at {where_}"));
        }
        // Every key the same.
        assert_duplicates(&vec![key(7); n], true, &format!("{n} equal keys"));
    }
}

#[test]
fn keys_differing_in_one_byte_are_not_duplicates() {
    // Differences in the last byte only, on both sides of the threshold.
    for n in [2, 31, 32, 33, 128] {
        let keys: Vec<Pubkey> = (0..n)
            .map(|i| {
                let mut bytes = [0x55; 32];
                bytes[31] = i as u8;
                Pubkey::new_from_array(bytes)
            })
            .collect();
        assert_duplicates(
            &keys,
            false,
            &format!("{n} keys differing in the last byte"),
        );
    }
}

#[test]
fn hash_set_method_is_right_when_called_repeatedly_on_one_thread() {
    let keys = distinct(64);
    // A duplicate found after two keys: the call returns early, leaving keys in the set.
    let mut early = keys.clone();
    early[1] = early[0];
    let mut late = keys.clone();
    late[63] = late[62];

    assert!(has_duplicates_by_hash_set(&early));
    assert!(
        !has_duplicates_by_hash_set(&keys),
        "left over from the early return"
    );
    assert!(
        !has_duplicates_by_hash_set(&keys),
        "left over from a full pass"
    );
    assert!(has_duplicates_by_hash_set(&late));
    assert!(
        !has_duplicates_by_hash_set(&keys[..1]),
        "after a larger call"
    );
    assert!(!has_duplicates_by_hash_set(&keys[32..]));
    assert!(!has_duplicates_by_hash_set(&[]));
    assert!(has_duplicates_by_hash_set(&early[..2]));
    assert!(!has_duplicates_by_hash_set(&[keys[0]]));
    // Many rounds, alternating, through `validate_account_locks` as well.
    for round in 0..100 {
        let list = if round % 2 == 0 { &keys } else { &late };
        let expected = round % 2 == 1;
        assert_eq!(has_duplicates_by_hash_set(list), expected, "round {round}");
        assert_eq!(
            validate_account_locks(list, MAX_TX_ACCOUNT_LOCKS).is_err(),
            expected,
            "round {round}"
        );
    }
}

#[test]
fn hash_set_method_is_right_on_several_threads_at_once() {
    std::thread::scope(|scope| {
        for thread in 0..4u64 {
            scope.spawn(move || {
                let keys: Vec<Pubkey> = (0..40).map(|i| key(thread * 1000 + i)).collect();
                let mut with_duplicate = keys.clone();
                with_duplicate[thread as usize] = with_duplicate[39];
                for round in 0..200 {
                    assert!(!has_duplicates_by_hash_set(&keys), "round {round}");
                    assert!(has_duplicates_by_hash_set(&with_duplicate), "round {round}");
                }
            });
        }
    });
}

/// A shuffled list of `0..=140` distinct keys, with one key possibly copied over another:
/// `(keys, whether a duplicate was made)`.
fn distinct_with_optional_duplicate() -> impl Strategy<Value = (Vec<Pubkey>, bool)> {
    (0usize..=140)
        .prop_flat_map(|n| {
            (
                Just(distinct(n)).prop_shuffle(),
                any::<Option<(Index, Index)>>(),
            )
        })
        .prop_map(|(mut keys, copy)| {
            let mut duplicated = false;
            if let (false, Some((from, to))) = (keys.is_empty(), copy) {
                let (from, to) = (from.index(keys.len()), to.index(keys.len()));
                if from != to {
                    keys[to] = keys[from];
                    duplicated = true;
                }
            }
            (keys, duplicated)
        })
}

/// A list of up to 160 keys drawn from a pool of 1 to 300, so that duplicates are common
/// but not certain.
fn keys_from_a_pool() -> impl Strategy<Value = Vec<Pubkey>> {
    (1u64..=300).prop_flat_map(|pool| prop::collection::vec((0..pool).prop_map(key), 0..=160))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn both_finders_agree_with_a_naive_model(keys in keys_from_a_pool()) {
        let expected = naive_has_duplicates(&keys);
        prop_assert_eq!(has_duplicates_by_pairs(&keys), expected);
        prop_assert_eq!(has_duplicates_by_hash_set(&keys), expected);
        let expected_result = if keys.len() > MAX_TX_ACCOUNT_LOCKS {
            Err(TransactionError::TooManyAccountLocks)
        } else if expected {
            Err(TransactionError::AccountLoadedTwice)
        } else {
            Ok(())
        };
        prop_assert_eq!(validate_account_locks(&keys, MAX_TX_ACCOUNT_LOCKS), expected_result);
    }

    #[test]
    fn both_finders_find_exactly_the_planted_duplicate(
        (keys, duplicated) in distinct_with_optional_duplicate(),
    ) {
        prop_assert_eq!(has_duplicates_by_pairs(&keys), duplicated);
        prop_assert_eq!(has_duplicates_by_hash_set(&keys), duplicated);
        let expected_result = if keys.len() > MAX_TX_ACCOUNT_LOCKS {
            Err(TransactionError::TooManyAccountLocks)
        } else if duplicated {
            Err(TransactionError::AccountLoadedTwice)
        } else {
            Ok(())
        };
        prop_assert_eq!(validate_account_locks(&keys, MAX_TX_ACCOUNT_LOCKS), expected_result);
    }
}
