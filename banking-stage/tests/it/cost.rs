//! The cost model and the block's cost tracker.

use banking_stage::{
    CostTracker, CostTrackerError, SIGNATURE_COST, TransactionCost, WRITE_LOCK_UNITS,
};
use sdk_lite::{
    AccountMeta, Hash, Instruction, Message, Pubkey, SanitizedTransaction, Transaction,
    TransactionError,
};
use svm_lite::compute_budget::instruction as budget;
use svm_lite::system_program::instruction as system;
use svm_lite::{ProgramRegistry, compute_budget_limits};

fn cost_of(payer: &Pubkey, instructions: &[Instruction]) -> TransactionCost {
    let message = Message::new(instructions, Some(payer), Hash::new_unique());
    let transaction =
        SanitizedTransaction::try_new(Transaction::new_with_placeholder_signatures(message))
            .unwrap();
    let programs = ProgramRegistry::with_builtins();
    let limits = compute_budget_limits(&transaction, |id| programs.is_builtin(id)).unwrap();
    TransactionCost::new(&transaction, &limits)
}

#[test]
fn a_transfer_costs_its_signature_write_locks_data_and_units() {
    let (from, to) = (Pubkey::new_unique(), Pubkey::new_unique());
    let cost = cost_of(&from, &[system::transfer(&from, &to, 5)]);
    assert_eq!(cost.signature_cost, SIGNATURE_COST);
    assert_eq!(cost.write_lock_cost, 2 * WRITE_LOCK_UNITS);
    assert_eq!(cost.data_bytes_cost, 12 / 4, "12 bytes of transfer data");
    assert_eq!(
        cost.programs_execution_cost, 3_000,
        "one built-in instruction"
    );
    assert_eq!(cost.writable_accounts.len(), 2);
    assert_eq!(cost.sum(), 720 + 600 + 3 + 3_000);
}

#[test]
fn requested_units_and_allocations_are_counted() {
    let (payer, fresh) = (Pubkey::new_unique(), Pubkey::new_unique());
    let cost = cost_of(
        &payer,
        &[
            budget::set_compute_unit_limit(50_000),
            system::create_account(&payer, &fresh, 1_000_000, 1_024, &Pubkey::new_unique()),
        ],
    );
    assert_eq!(cost.programs_execution_cost, 50_000);
    assert_eq!(cost.allocated_accounts_data_size, 1_024);
    assert_eq!(
        cost.signature_cost,
        2 * SIGNATURE_COST,
        "payer and new account sign"
    );
}

fn synthetic(units: u64, writable: &[Pubkey], allocated: u64) -> TransactionCost {
    TransactionCost {
        signature_cost: 0,
        write_lock_cost: 0,
        data_bytes_cost: 0,
        programs_execution_cost: units,
        allocated_accounts_data_size: allocated,
        writable_accounts: writable.to_vec(),
    }
}

#[test]
fn the_block_limit_is_inclusive_and_a_refusal_changes_nothing() {
    let mut tracker = CostTracker::new(100, 100, 100);
    let a = Pubkey::new_unique();
    assert_eq!(tracker.try_add(&synthetic(60, &[], 0)), Ok(()));
    assert_eq!(
        tracker.try_add(&synthetic(40, &[a], 0)),
        Ok(()),
        "exactly the limit"
    );
    assert_eq!(
        tracker.try_add(&synthetic(1, &[], 0)),
        Err(CostTrackerError::WouldExceedBlockMaxLimit)
    );
    assert_eq!(tracker.block_cost(), 100);
    assert_eq!(tracker.transaction_count(), 2);
}

#[test]
fn a_hot_account_fills_to_its_limit_while_others_still_fit() {
    let mut tracker = CostTracker::new(1_000, 100, 1_000);
    let (hot, cold) = (Pubkey::new_unique(), Pubkey::new_unique());
    for _ in 0..4 {
        assert_eq!(tracker.try_add(&synthetic(25, &[hot], 0)), Ok(()));
    }
    assert_eq!(
        tracker.try_add(&synthetic(25, &[hot], 0)),
        Err(CostTrackerError::WouldExceedAccountMaxLimit)
    );
    assert_eq!(tracker.account_cost(&hot), 100);
    assert_eq!(tracker.try_add(&synthetic(25, &[cold], 0)), Ok(()));
    assert_eq!(
        TransactionError::from(CostTrackerError::WouldExceedAccountMaxLimit),
        TransactionError::WouldExceedMaxAccountCostLimit
    );
}

#[test]
fn the_data_growth_limit_applies() {
    let mut tracker = CostTracker::new(1_000, 1_000, 100);
    assert_eq!(tracker.try_add(&synthetic(1, &[], 100)), Ok(()));
    assert_eq!(
        tracker.try_add(&synthetic(1, &[], 1)),
        Err(CostTrackerError::WouldExceedAccountDataBlockLimit)
    );
}

#[test]
fn unused_units_and_uncommitted_transactions_are_given_back() {
    let mut tracker = CostTracker::new(1_000, 1_000, 1_000);
    let account = Pubkey::new_unique();
    let cost = synthetic(200, &[account], 10);
    tracker.try_add(&cost).unwrap();
    tracker.update_execution_cost(&cost, 50);
    assert_eq!(tracker.block_cost(), 50);
    assert_eq!(tracker.account_cost(&account), 50);
    let other = synthetic(300, &[account], 20);
    tracker.try_add(&other).unwrap();
    tracker.remove(&other);
    assert_eq!(tracker.block_cost(), 50);
    assert_eq!(tracker.account_cost(&account), 50);
    assert_eq!(tracker.allocated_accounts_data_size(), 10);
    assert_eq!(tracker.transaction_count(), 1);
}

#[test]
fn real_instruction_data_counts_one_unit_per_four_bytes() {
    let payer = Pubkey::new_unique();
    let program = Pubkey::new_unique();
    let cost = cost_of(
        &payer,
        &[Instruction::new_with_bytes(
            program,
            &[0; 41],
            vec![AccountMeta::new(payer, true)],
        )],
    );
    assert_eq!(cost.data_bytes_cost, 10);
}
