//! `AccountLoader`: a batch-local cache in front of the account source, so that each
//! account is read from the store at most once per batch and later transactions of the
//! batch see the writes of earlier ones.

use ahash::AHashMap;
use sdk_lite::{AccountSharedData, Pubkey, ReadableAccount};

use crate::callback::TransactionProcessingCallback;
use crate::rollback_accounts::RollbackAccounts;

/// The batch's view of the accounts: what the store held at the start, overlaid with what
/// the batch's transactions committed so far.
///
/// Each key is read through the callback at most once (the cache remembers absent accounts
/// too). An account with 0 lamports is absent. After each transaction the cache takes its
/// results: every writable account if it succeeded, only its [`RollbackAccounts`] if it
/// failed after loading, nothing if it was not loaded.
#[derive(Debug)]
pub struct AccountLoader<'a, CB: TransactionProcessingCallback> {
    callback: &'a CB,
    /// `None`: read, and absent.
    cache: AHashMap<Pubkey, Option<AccountSharedData>>,
    reads_from_source: u64,
}

impl<'a, CB: TransactionProcessingCallback> AccountLoader<'a, CB> {
    /// A loader for a batch whose transactions name `capacity` account keys in all (the
    /// sum over transactions), so that the cache does not grow while the batch runs.
    pub fn with_capacity(callback: &'a CB, capacity: usize) -> Self {
        Self {
            callback,
            cache: AHashMap::with_capacity(capacity),
            reads_from_source: 0,
        }
    }

    /// The batch's current view of `key`.
    ///
    /// # Errors
    /// The source's error if it had to be read and failed (nothing is cached then).
    pub fn load_account(&mut self, key: &Pubkey) -> Result<Option<AccountSharedData>, CB::Error> {
        if let Some(cached) = self.cache.get(key) {
            return Ok(cached.clone());
        }
        let loaded = self
            .callback
            .get_account(key)?
            .filter(|account| account.lamports() > 0);
        self.reads_from_source += 1;
        self.cache.insert(*key, loaded.clone());
        Ok(loaded)
    }

    /// Takes the accounts a transaction commits into the batch's view: all its writable
    /// accounts if it succeeded, its rollback accounts if it failed after loading.
    pub fn update_with_committed_accounts<'b>(
        &mut self,
        writable_accounts: impl IntoIterator<Item = (&'b Pubkey, &'b AccountSharedData)>,
    ) {
        for (key, account) in writable_accounts {
            self.put(key, account);
        }
    }

    /// Takes a failed transaction's rollback accounts (fee charged, nonce advanced) into
    /// the batch's view; nothing else it wrote is visible to later transactions.
    pub fn update_for_failed_transaction(&mut self, rollback: &RollbackAccounts) {
        self.update_with_committed_accounts(rollback.iter().map(|(key, account)| (key, account)));
    }

    /// How many times the source was read (each key at most once per batch).
    pub fn reads_from_source(&self) -> u64 {
        self.reads_from_source
    }

    fn put(&mut self, key: &Pubkey, account: &AccountSharedData) {
        let view = (account.lamports() > 0).then(|| account.clone());
        self.cache.insert(*key, view);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sdk_lite::WritableAccount;
    use std::cell::Cell;
    use std::convert::Infallible;

    /// A source that counts its reads.
    struct Counting {
        accounts: std::collections::HashMap<Pubkey, AccountSharedData>,
        reads: Cell<u64>,
    }

    impl TransactionProcessingCallback for Counting {
        type Error = Infallible;
        fn get_account(&self, key: &Pubkey) -> Result<Option<AccountSharedData>, Infallible> {
            self.reads.set(self.reads.get() + 1);
            Ok(self.accounts.get(key).cloned())
        }
    }

    fn source(entries: &[(Pubkey, u64)]) -> Counting {
        Counting {
            accounts: entries
                .iter()
                .map(|(key, lamports)| {
                    (
                        *key,
                        AccountSharedData::new(*lamports, 0, &Pubkey::default()),
                    )
                })
                .collect(),
            reads: Cell::new(0),
        }
    }

    #[test]
    fn each_key_is_read_from_the_source_once_even_when_absent() {
        let present = Pubkey::new_unique();
        let absent = Pubkey::new_unique();
        let store = source(&[(present, 5)]);
        let mut loader = AccountLoader::with_capacity(&store, 2);
        for _ in 0..3 {
            assert_eq!(
                loader.load_account(&present).unwrap().map(|a| a.lamports()),
                Some(5)
            );
            assert_eq!(loader.load_account(&absent).unwrap(), None);
        }
        assert_eq!(store.reads.get(), 2);
        assert_eq!(loader.reads_from_source(), 2);
    }

    #[test]
    fn zero_lamport_accounts_are_absent() {
        let key = Pubkey::new_unique();
        let store = source(&[(key, 0)]);
        let mut loader = AccountLoader::with_capacity(&store, 1);
        assert_eq!(loader.load_account(&key).unwrap(), None);
    }

    #[test]
    fn later_transactions_see_successful_writes_and_only_rollbacks_of_failures() {
        let a = Pubkey::new_unique();
        let b = Pubkey::new_unique();
        let store = source(&[(a, 100), (b, 0)]);
        let mut loader = AccountLoader::with_capacity(&store, 2);
        let mut a_after = loader.load_account(&a).unwrap().unwrap();
        a_after.set_lamports(60);
        let b_after = AccountSharedData::new(40, 0, &Pubkey::default());
        loader.update_with_committed_accounts([(&a, &a_after), (&b, &b_after)]);
        assert_eq!(
            loader.load_account(&b).unwrap().map(|x| x.lamports()),
            Some(40)
        );

        // A failed transaction: a paid a fee of 5; its other writes must not show.
        let mut charged = a_after.clone();
        charged.set_lamports(55);
        loader.update_for_failed_transaction(&RollbackAccounts::new((a, charged), None));
        assert_eq!(
            loader.load_account(&a).unwrap().map(|x| x.lamports()),
            Some(55)
        );
        assert_eq!(
            loader.load_account(&b).unwrap().map(|x| x.lamports()),
            Some(40)
        );

        // Emptied by a later success: absent again.
        let emptied = AccountSharedData::new(0, 0, &Pubkey::default());
        loader.update_with_committed_accounts([(&b, &emptied)]);
        assert_eq!(loader.load_account(&b).unwrap(), None);
        assert_eq!(
            store.reads.get(),
            1,
            "b was never read: a success wrote it first"
        );
    }
}
