//! Fees from signatures and the compute budget.

use sdk_lite::{AccountMeta, DEFAULT_LAMPORTS_PER_SIGNATURE, Instruction, Pubkey};
use svm_lite::{ComputeBudgetLimits, FeeDetails};

use crate::transaction;

fn limits(price: u64, units: u32) -> ComputeBudgetLimits {
    ComputeBudgetLimits {
        compute_unit_limit: units,
        compute_unit_price: price,
        loaded_accounts_data_size_limit: 1,
    }
}

#[test]
fn signature_fee_counts_every_signature() {
    let second_signer = Pubkey::new_unique();
    let ix = Instruction::new_with_bytes(
        Pubkey::new_unique(),
        &[],
        vec![AccountMeta::new(second_signer, true)],
    );
    let tx = transaction(&[ix]);
    assert_eq!(tx.num_signatures(), 2);
    let fee = FeeDetails::new(&tx, &limits(0, 0), DEFAULT_LAMPORTS_PER_SIGNATURE).unwrap();
    assert_eq!(fee.signature_fee, 2 * DEFAULT_LAMPORTS_PER_SIGNATURE);
    assert_eq!(fee.prioritization_fee, 0);
    assert_eq!(fee.total(), Some(10_000));
}

#[test]
fn prioritization_fee_is_added() {
    let tx = transaction(&[]);
    let fee = FeeDetails::new(&tx, &limits(1_000_000, 300), 5_000).unwrap();
    assert_eq!(fee.prioritization_fee, 300);
    assert_eq!(fee.total(), Some(5_300));
}

#[test]
fn overflowing_fees_are_refused() {
    let tx = transaction(&[]);
    assert_eq!(
        FeeDetails::new(&tx, &limits(0, 0), u64::MAX),
        Some(FeeDetails {
            signature_fee: u64::MAX,
            prioritization_fee: 0,
        })
    );
    assert_eq!(FeeDetails::new(&tx, &limits(u64::MAX, u32::MAX), 1), None);
}
