//! Blocks for the comparisons: a workload run by a sequential leader into one block.

use std::sync::Arc;

use banking_stage::workload::Workload;
use banking_stage::{Bank, BankConfig, Block, BufferedTransaction, Entry};
use sdk_lite::SanitizedTransaction;
use svm_lite::{ProcessingConfig, ProgramRegistry};

/// A frozen genesis bank for `workload`.
pub fn genesis(workload: &Workload) -> Arc<Bank> {
    let bank = Arc::new(
        Bank::new_genesis(workload.genesis.clone(), BankConfig::default())
            .expect("generated genesis keys are distinct"),
    );
    bank.freeze();
    bank
}

/// The block a sequential leader makes of `workload`'s transactions in slot 1: every one
/// it can commit, in order, as one entry.
pub fn sequential_block(workload: &Workload, programs: &ProgramRegistry) -> Block {
    let parent = genesis(workload);
    let bank = Bank::new_from_parent(&parent, 1).expect("slot 1 follows genesis");
    let transactions: Vec<BufferedTransaction> = workload
        .transactions
        .iter()
        .filter_map(|transaction| SanitizedTransaction::try_new(transaction.clone()).ok())
        .filter(|transaction| {
            transaction
                .instructions_iter()
                .all(|(program, _)| programs.get(program).is_some())
        })
        .map(Arc::new)
        .collect();
    let output = bank.load_and_execute(programs, &transactions, &ProcessingConfig::default());
    bank.commit(&transactions, &output)
        .expect("a fresh bank takes the commit");
    let committed = transactions
        .iter()
        .zip(&output.results)
        .filter(|(_, result)| result.is_ok())
        .map(|(transaction, _)| Arc::clone(transaction))
        .collect();
    Block {
        slot: 1,
        parent_hash: parent.hash().expect("genesis is frozen"),
        entries: vec![Entry {
            transactions: committed,
        }],
        bank_hash: bank.freeze(),
    }
}
