//! Property tests: `AccountLocks` against a naive model.
//!
//! The model keeps a write count and a read count per account in a `BTreeMap` and decides
//! each lock attempt from the rules of the doc directly. A case is a random sequence of
//! single-transaction locks, batch locks (with errors passed in) and unlocks of held
//! transactions in random order; after every step each result and every account's counts
//! must agree with the model. At the end every held transaction is unlocked and the table
//! must be empty.

use std::collections::BTreeMap;

use accounts_db_lite::AccountLocks;
use proptest::prelude::*;
use proptest::sample::Index;
use sdk_lite::{Pubkey, TransactionError};

use crate::{accounts, key};

/// Accounts are drawn from `0..NUM_KEYS`, so that transactions meet often; one more key
/// that is never locked is checked too.
const NUM_KEYS: u64 = 6;

/// A validated lock list: distinct accounts, each writable or not.
type Tx = Vec<(Pubkey, bool)>;

#[derive(Debug, Clone)]
enum Op {
    Lock(Tx),
    /// `None` stands for a transaction that failed validation (an `Err` passed in).
    Batch(Vec<Option<Tx>>),
    /// Unlocks the held transaction at this index, if any is held.
    Unlock(Index),
}

fn tx() -> impl Strategy<Value = Tx> {
    prop::collection::btree_map(0..NUM_KEYS, any::<bool>(), 0..=4).prop_map(|map| {
        map.into_iter()
            .map(|(n, writable)| (key(n), writable))
            .collect()
    })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => tx().prop_map(Op::Lock),
        2 => prop::collection::vec(prop::option::weighted(0.85, tx()), 0..=4).prop_map(Op::Batch),
        4 => any::<Index>().prop_map(Op::Unlock),
    ]
}

/// `(writes, reads)` per account; absent means `(0, 0)`.
#[derive(Debug, Default)]
struct Model(BTreeMap<Pubkey, (u64, u64)>);

impl Model {
    fn counts(&self, key: &Pubkey) -> (u64, u64) {
        self.0.get(key).copied().unwrap_or((0, 0))
    }

    fn can_lock(&self, tx: &Tx) -> bool {
        tx.iter().all(|(key, writable)| {
            let (writes, reads) = self.counts(key);
            writes == 0 && (!writable || reads == 0)
        })
    }

    fn lock(&mut self, tx: &Tx) {
        for (key, writable) in tx {
            let entry = self.0.entry(*key).or_default();
            if *writable {
                entry.0 += 1;
            } else {
                entry.1 += 1;
            }
        }
    }

    fn unlock(&mut self, tx: &Tx) {
        for (key, writable) in tx {
            let entry = self
                .0
                .get_mut(key)
                .expect("the model holds what it unlocks");
            if *writable {
                entry.0 -= 1;
            } else {
                entry.1 -= 1;
            }
            if *entry == (0, 0) {
                self.0.remove(key);
            }
        }
    }
}

fn assert_agrees(locks: &AccountLocks, model: &Model, step: usize) {
    for n in 0..=NUM_KEYS {
        let k = key(n);
        assert_eq!(
            (locks.write_lock_count(&k), locks.readonly_lock_count(&k)),
            model.counts(&k),
            "counts of account {n} after step {step}"
        );
    }
    assert_eq!(locks.is_empty(), model.0.is_empty(), "after step {step}");
}

fn run(ops: Vec<Op>, final_unlock_order: Vec<Index>) {
    let mut locks = AccountLocks::default();
    let mut model = Model::default();
    let mut held: Vec<Tx> = Vec::new();
    for (step, op) in ops.into_iter().enumerate() {
        match op {
            Op::Lock(tx) => {
                let expected = model.can_lock(&tx);
                let result = locks.try_lock_accounts(accounts(&tx));
                if expected {
                    assert_eq!(result, Ok(()), "step {step}: {tx:?}");
                    model.lock(&tx);
                    held.push(tx);
                } else {
                    assert_eq!(result, Err(TransactionError::AccountInUse), "step {step}");
                }
            }
            Op::Batch(batch) => {
                // Every transaction is judged against the locks held before the batch.
                let expected: Vec<Result<(), TransactionError>> = batch
                    .iter()
                    .map(|tx| match tx {
                        None => Err(TransactionError::AccountLoadedTwice),
                        Some(tx) if model.can_lock(tx) => Ok(()),
                        Some(_) => Err(TransactionError::AccountInUse),
                    })
                    .collect();
                let results = locks.try_lock_transaction_batch(batch.iter().map(|tx| {
                    tx.as_ref()
                        .map(|tx| accounts(tx))
                        .ok_or(TransactionError::AccountLoadedTwice)
                }));
                assert_eq!(results, expected, "step {step}: {batch:?}");
                for (tx, result) in batch.into_iter().zip(expected) {
                    if let (Some(tx), Ok(())) = (tx, result) {
                        model.lock(&tx);
                        held.push(tx);
                    }
                }
            }
            Op::Unlock(index) => {
                if !held.is_empty() {
                    let tx = held.swap_remove(index.index(held.len()));
                    locks.unlock_accounts(accounts(&tx));
                    model.unlock(&tx);
                }
            }
        }
        assert_agrees(&locks, &model, step);
    }
    for index in final_unlock_order {
        if held.is_empty() {
            break;
        }
        let tx = held.swap_remove(index.index(held.len()));
        locks.unlock_accounts(accounts(&tx));
        model.unlock(&tx);
        assert_agrees(&locks, &model, usize::MAX);
    }
    for tx in held.drain(..) {
        locks.unlock_accounts(accounts(&tx));
        model.unlock(&tx);
    }
    assert!(model.0.is_empty());
    assert!(
        locks.is_empty(),
        "every lock released: the table must be empty"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn account_locks_agree_with_a_count_model(
        ops in prop::collection::vec(op(), 0..40),
        final_unlock_order in prop::collection::vec(any::<Index>(), 0..20),
    ) {
        run(ops, final_unlock_order);
    }
}
