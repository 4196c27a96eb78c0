//! `SlotMetrics`: what the pipeline did in one leader slot.

use std::fmt;
use std::time::Duration;

use accounts_db_lite::Slot;
use sdk_lite::{Hash, Pubkey};

use crate::messages::DropReason;
use crate::scheduler::SchedulingSummary;

/// Dropped transactions by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DropCounts([u64; DropReason::ALL.len()]);

impl DropCounts {
    /// Counts one drop.
    pub fn add(&mut self, reason: DropReason, count: u64) {
        self.0[reason as usize] += count;
    }

    /// Drops for `reason`.
    pub fn get(&self, reason: DropReason) -> u64 {
        self.0[reason as usize]
    }

    /// All drops.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    /// `(reason, count)` for every reason with a non-zero count.
    pub fn iter(&self) -> impl Iterator<Item = (DropReason, u64)> + '_ {
        DropReason::ALL
            .into_iter()
            .map(|reason| (reason, self.get(reason)))
            .filter(|&(_, count)| count > 0)
    }

    /// Adds `other`'s counts.
    pub fn merge(&mut self, other: &Self) {
        for (mine, theirs) in self.0.iter_mut().zip(other.0) {
            *mine += theirs;
        }
    }
}

impl fmt::Display for DropCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (reason, count) in self.iter() {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            write!(f, "{reason} {count}")?;
        }
        if first {
            f.write_str("none")?;
        }
        Ok(())
    }
}

/// Why a leader slot ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotEndReason {
    /// Its time ran out.
    Time,
    /// A transaction did not fit in the block's cost limit.
    BlockFull,
    /// Nothing was left to schedule in this slot (what waits was deferred to the next
    /// slot by the block's limits) and no more input will come.
    NothingToSchedule,
}

impl fmt::Display for SlotEndReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Time => "time",
            Self::BlockFull => "block full",
            Self::NothingToSchedule => "nothing to do",
        })
    }
}

/// How many of the most-charged writable accounts a slot's metrics keep.
pub const TOP_ACCOUNTS: usize = 5;

/// What the pipeline did in one slot. Its [`Display`](fmt::Display) is the leader's slot
/// report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotMetrics {
    /// The slot.
    pub slot: Slot,
    /// Transactions that arrived during the slot.
    pub received: u64,
    /// Transactions buffered when the slot ended (waiting for a later slot).
    pub buffered: u64,
    /// Scheduling passes' totals.
    pub scheduling: SchedulingTotals,
    /// Transactions sent back for another try because an account was in use.
    pub retried_account_in_use: u64,
    /// Transactions deferred to the next slot (the block's cost limits, or a commit the
    /// bank refused).
    pub retried_next_slot: u64,
    /// Transactions committed (successfully or not).
    pub committed: u64,
    /// Of those, the ones whose instructions succeeded.
    pub succeeded: u64,
    /// Dropped transactions by reason.
    pub dropped: DropCounts,
    /// Compute units the committed transactions used.
    pub compute_units: u64,
    /// Fees the bank collected.
    pub fees: u64,
    /// The block's cost at the end, against its limit.
    pub block_cost: u64,
    /// The block's cost limit.
    pub block_cost_limit: u64,
    /// The largest cost charged to one writable account.
    pub max_account_cost: u64,
    /// The per-writable-account cost limit.
    pub account_cost_limit: u64,
    /// The writable accounts charged the most (at most [`TOP_ACCOUNTS`]), most first.
    pub top_accounts: Vec<(Pubkey, u64)>,
    /// New account data allocated.
    pub allocated_data: u64,
    /// The block's new-account-data limit.
    pub allocated_data_limit: u64,
    /// Time the workers spent on batches, per worker.
    pub worker_busy: Vec<Duration>,
    /// The slot's wall time.
    pub elapsed: Duration,
    /// Why the slot ended.
    pub end_reason: SlotEndReason,
    /// The frozen bank's hash.
    pub bank_hash: Hash,
}

/// The sum of a slot's scheduling passes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SchedulingTotals {
    /// Passes run.
    pub passes: u64,
    /// Transactions handed to workers.
    pub scheduled: u64,
    /// Left in the buffer: accounts held on several workers.
    pub unschedulable_conflicts: u64,
    /// Left in the buffer: every allowed worker at its in-flight cap.
    pub unschedulable_threads: u64,
    /// Left in the buffer: the pass's paced budget was spent.
    pub unschedulable_budget: u64,
}

impl SchedulingTotals {
    /// Adds one pass.
    pub fn add(&mut self, summary: &SchedulingSummary) {
        self.passes += 1;
        self.scheduled += summary.scheduled as u64;
        self.unschedulable_conflicts += summary.unschedulable_conflicts as u64;
        self.unschedulable_threads += summary.unschedulable_threads as u64;
        self.unschedulable_budget += summary.unschedulable_budget as u64;
    }
}

impl SlotMetrics {
    /// The share of the slot each worker spent idle (0.0 to 1.0).
    pub fn worker_idle_shares(&self) -> Vec<f64> {
        let elapsed = self.elapsed.as_secs_f64();
        self.worker_busy
            .iter()
            .map(|busy| {
                if elapsed > 0.0 {
                    (1.0 - busy.as_secs_f64() / elapsed).clamp(0.0, 1.0)
                } else {
                    0.0
                }
            })
            .collect()
    }
}

/// `part` of `whole`, in percent.
fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

impl fmt::Display for SlotMetrics {
    /// The leader's slot report: outcomes, drop reasons, use of each limit, worker idle
    /// share, the hottest accounts and why the slot ended.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "slot {} ({:.1} ms, ended by {}): bank hash {}",
            self.slot,
            self.elapsed.as_secs_f64() * 1e3,
            self.end_reason,
            self.bank_hash
        )?;
        writeln!(
            f,
            "  outcomes: {} received, {} committed ({} succeeded, {} failed), {} dropped, \
             {} retried at once, {} deferred to the next slot, {} still buffered",
            self.received,
            self.committed,
            self.succeeded,
            self.committed - self.succeeded,
            self.dropped.total(),
            self.retried_account_in_use,
            self.retried_next_slot,
            self.buffered
        )?;
        writeln!(f, "  dropped: {}", self.dropped)?;
        writeln!(
            f,
            "  scheduling: {} passes, {} scheduled; left waiting: {} on conflicts, {} on \
             worker caps, {} on the paced budget",
            self.scheduling.passes,
            self.scheduling.scheduled,
            self.scheduling.unschedulable_conflicts,
            self.scheduling.unschedulable_threads,
            self.scheduling.unschedulable_budget
        )?;
        writeln!(
            f,
            "  limits: block {} of {} units ({:.1}%), busiest account {} of {} ({:.1}%), \
             new data {} of {} bytes ({:.1}%); {} compute units executed",
            self.block_cost,
            self.block_cost_limit,
            percent(self.block_cost, self.block_cost_limit),
            self.max_account_cost,
            self.account_cost_limit,
            percent(self.max_account_cost, self.account_cost_limit),
            self.allocated_data,
            self.allocated_data_limit,
            percent(self.allocated_data, self.allocated_data_limit),
            self.compute_units
        )?;
        let idle: Vec<String> = self
            .worker_idle_shares()
            .iter()
            .map(|share| format!("{:.0}%", share * 100.0))
            .collect();
        writeln!(f, "  worker idle share: {}", idle.join(" "))?;
        write!(f, "  hottest writable accounts:")?;
        if self.top_accounts.is_empty() {
            write!(f, " none")?;
        }
        for (account, units) in &self.top_accounts {
            write!(
                f,
                "\n    {account} {units} units ({:.1}% of its limit)",
                percent(*units, self.account_cost_limit)
            )?;
        }
        Ok(())
    }
}
