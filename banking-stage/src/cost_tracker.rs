//! `CostTracker`: a block's running cost against its limits.

use ahash::AHashMap;
use sdk_lite::{Pubkey, TransactionError};
use thiserror::Error;

use crate::cost_model::TransactionCost;

/// A block's cost limit (the default: 60M units).
pub const MAX_BLOCK_UNITS: u64 = 60_000_000;
/// The cost one writable account may take in a block: a hot account cannot fill it.
pub const MAX_WRITABLE_ACCOUNT_UNITS: u64 = 12_000_000;
/// New account data a block may allocate (Solana: 100 MB).
pub const MAX_BLOCK_ACCOUNTS_DATA_SIZE_DELTA: u64 = 100_000_000;

/// Why a transaction does not fit in the block now (it may in the next one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum CostTrackerError {
    /// The block's cost limit.
    #[error("would exceed the block's cost limit")]
    WouldExceedBlockMaxLimit,
    /// One of its writable accounts' cost limit.
    #[error("would exceed a writable account's cost limit")]
    WouldExceedAccountMaxLimit,
    /// The block's new-account-data limit.
    #[error("would exceed the block's account data growth limit")]
    WouldExceedAccountDataBlockLimit,
}

impl From<CostTrackerError> for TransactionError {
    fn from(error: CostTrackerError) -> Self {
        match error {
            CostTrackerError::WouldExceedBlockMaxLimit => Self::WouldExceedMaxBlockCostLimit,
            CostTrackerError::WouldExceedAccountMaxLimit => Self::WouldExceedMaxAccountCostLimit,
            CostTrackerError::WouldExceedAccountDataBlockLimit => {
                Self::WouldExceedAccountDataBlockLimit
            }
        }
    }
}

/// The cost reserved in a block so far: in total, per writable account, and in new
/// account data. Reserve before executing ([`try_add`](Self::try_add)), then settle with
/// what execution used ([`update_execution_cost`](Self::update_execution_cost)) or give
/// it all back if the transaction was not committed ([`remove`](Self::remove)).
#[derive(Debug, Clone)]
pub struct CostTracker {
    block_cost_limit: u64,
    account_cost_limit: u64,
    account_data_size_limit: u64,
    block_cost: u64,
    cost_by_writable_account: AHashMap<Pubkey, u64>,
    allocated_accounts_data_size: u64,
    transaction_count: u64,
}

impl Default for CostTracker {
    fn default() -> Self {
        Self::new(
            MAX_BLOCK_UNITS,
            MAX_WRITABLE_ACCOUNT_UNITS,
            MAX_BLOCK_ACCOUNTS_DATA_SIZE_DELTA,
        )
    }
}

impl CostTracker {
    /// A tracker with the given limits.
    pub fn new(
        block_cost_limit: u64,
        account_cost_limit: u64,
        account_data_size_limit: u64,
    ) -> Self {
        Self {
            block_cost_limit,
            account_cost_limit,
            account_data_size_limit,
            block_cost: 0,
            cost_by_writable_account: AHashMap::new(),
            allocated_accounts_data_size: 0,
            transaction_count: 0,
        }
    }

    /// Whether `cost` fits now.
    ///
    /// # Errors
    /// The first limit it would break.
    pub fn would_fit(&self, cost: &TransactionCost) -> Result<(), CostTrackerError> {
        let units = cost.sum();
        if self.block_cost.saturating_add(units) > self.block_cost_limit {
            return Err(CostTrackerError::WouldExceedBlockMaxLimit);
        }
        for account in &cost.writable_accounts {
            let used = self
                .cost_by_writable_account
                .get(account)
                .copied()
                .unwrap_or(0);
            if used.saturating_add(units) > self.account_cost_limit {
                return Err(CostTrackerError::WouldExceedAccountMaxLimit);
            }
        }
        if self
            .allocated_accounts_data_size
            .saturating_add(cost.allocated_accounts_data_size)
            > self.account_data_size_limit
        {
            return Err(CostTrackerError::WouldExceedAccountDataBlockLimit);
        }
        Ok(())
    }

    /// Reserves `cost` if it fits; changes nothing if not.
    ///
    /// # Errors
    /// As [`would_fit`](Self::would_fit).
    pub fn try_add(&mut self, cost: &TransactionCost) -> Result<(), CostTrackerError> {
        self.would_fit(cost)?;
        let units = cost.sum();
        self.block_cost += units;
        for account in &cost.writable_accounts {
            *self.cost_by_writable_account.entry(*account).or_insert(0) += units;
        }
        self.allocated_accounts_data_size += cost.allocated_accounts_data_size;
        self.transaction_count += 1;
        Ok(())
    }

    /// Settles a reserved `cost` whose execution used `actual_units` compute units
    /// instead of the requested ones: the unused units go back to the block and to each
    /// writable account. (Using more than requested cannot happen: the meter stops it.)
    pub fn update_execution_cost(&mut self, cost: &TransactionCost, actual_units: u64) {
        let unused = cost.programs_execution_cost.saturating_sub(actual_units);
        self.give_back(cost, unused);
    }

    /// Gives back a reserved `cost` entirely (its transaction was not committed).
    pub fn remove(&mut self, cost: &TransactionCost) {
        self.give_back(cost, cost.sum());
        self.allocated_accounts_data_size = self
            .allocated_accounts_data_size
            .saturating_sub(cost.allocated_accounts_data_size);
        self.transaction_count = self.transaction_count.saturating_sub(1);
    }

    fn give_back(&mut self, cost: &TransactionCost, units: u64) {
        self.block_cost = self.block_cost.saturating_sub(units);
        for account in &cost.writable_accounts {
            if let Some(used) = self.cost_by_writable_account.get_mut(account) {
                *used = used.saturating_sub(units);
                if *used == 0 {
                    self.cost_by_writable_account.remove(account);
                }
            }
        }
    }

    /// The block's cost so far.
    pub fn block_cost(&self) -> u64 {
        self.block_cost
    }

    /// The cost charged to `account` so far.
    pub fn account_cost(&self, account: &Pubkey) -> u64 {
        self.cost_by_writable_account
            .get(account)
            .copied()
            .unwrap_or(0)
    }

    /// The largest cost charged to one writable account so far.
    pub fn max_account_cost(&self) -> u64 {
        self.cost_by_writable_account
            .values()
            .copied()
            .max()
            .unwrap_or(0)
    }

    /// The `n` writable accounts charged the most so far, most first (ties by key).
    pub fn top_accounts(&self, n: usize) -> Vec<(Pubkey, u64)> {
        let mut all: Vec<(Pubkey, u64)> = self
            .cost_by_writable_account
            .iter()
            .map(|(key, cost)| (*key, *cost))
            .collect();
        all.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        all.truncate(n);
        all
    }

    /// The per-writable-account cost limit.
    pub fn account_cost_limit(&self) -> u64 {
        self.account_cost_limit
    }

    /// The block's new-account-data limit.
    pub fn account_data_size_limit(&self) -> u64 {
        self.account_data_size_limit
    }

    /// New account data reserved so far.
    pub fn allocated_accounts_data_size(&self) -> u64 {
        self.allocated_accounts_data_size
    }

    /// Transactions reserved so far.
    pub fn transaction_count(&self) -> u64 {
        self.transaction_count
    }

    /// The block's cost limit.
    pub fn block_cost_limit(&self) -> u64 {
        self.block_cost_limit
    }
}
