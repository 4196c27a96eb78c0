//! `TransactionProcessingCallback`: the seam through which the processor reads accounts.
//! Another chain plugs its store in here.

use std::collections::HashMap;
use std::convert::Infallible;
use std::hash::BuildHasher;

use sdk_lite::{AccountSharedData, Pubkey};

/// Where the processor reads accounts from: the one thing it needs of a store.
///
/// This is the swap point for a chain's own account store (Agave:
/// `TransactionProcessingCallback`). The processor never writes through it: it returns the
/// accounts to commit, and the caller commits them. `Error` is the store's own failure (an
/// I/O error of a durable store, say); an in-memory store uses [`Infallible`].
///
/// ```
/// use std::collections::HashMap;
/// use sdk_lite::{AccountSharedData, Pubkey};
/// use svm_lite::TransactionProcessingCallback;
///
/// /// A chain's store, in a test: everything it holds, in a map.
/// struct MyStore(HashMap<Pubkey, AccountSharedData>);
///
/// impl TransactionProcessingCallback for MyStore {
///     type Error = std::convert::Infallible;
///     fn get_account(&self, key: &Pubkey) -> Result<Option<AccountSharedData>, Self::Error> {
///         Ok(self.0.get(key).cloned())
///     }
/// }
///
/// let key = Pubkey::new_unique();
/// let store = MyStore(HashMap::from([(key, AccountSharedData::new(10, 0, &Pubkey::default()))]));
/// assert_eq!(store.get_account(&key).unwrap().map(|a| sdk_lite::ReadableAccount::lamports(&a)), Some(10));
/// ```
pub trait TransactionProcessingCallback {
    /// Why a read failed.
    type Error: std::error::Error + Send + Sync + 'static;

    /// The account stored under `key`, if any. An account with 0 lamports may be returned;
    /// the processor treats it as absent.
    fn get_account(&self, key: &Pubkey) -> Result<Option<AccountSharedData>, Self::Error>;
}

/// A plain map is a store (tests, tools).
impl<S: BuildHasher> TransactionProcessingCallback for HashMap<Pubkey, AccountSharedData, S> {
    type Error = Infallible;

    fn get_account(&self, key: &Pubkey) -> Result<Option<AccountSharedData>, Infallible> {
        Ok(self.get(key).cloned())
    }
}
