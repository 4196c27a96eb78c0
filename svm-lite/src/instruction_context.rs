//! `InstructionContext`: what a program sees while it runs one instruction, and the runtime
//! rules checked when it returns.

use sdk_lite::{
    AccountSharedData, InstructionError, MAX_PERMITTED_DATA_LENGTH, Pubkey, ReadableAccount,
};

use crate::environment::ProcessingEnvironment;
use crate::program::Program;

/// Compute units left to a transaction; every instruction draws from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComputeMeter {
    remaining: u64,
}

impl ComputeMeter {
    /// A meter holding `limit` units.
    pub fn new(limit: u64) -> Self {
        Self { remaining: limit }
    }

    /// Units left.
    pub fn remaining(&self) -> u64 {
        self.remaining
    }

    /// Takes `units`, or fails with `ComputationalBudgetExceeded` (and takes what was left,
    /// as Agave does: a transaction that ran out has used its whole budget).
    pub fn consume(&mut self, units: u64) -> Result<(), InstructionError> {
        match self.remaining.checked_sub(units) {
            Some(left) => {
                self.remaining = left;
                Ok(())
            }
            None => {
                self.remaining = 0;
                Err(InstructionError::ComputationalBudgetExceeded)
            }
        }
    }
}

/// One account of an instruction: where it is in the transaction and how the instruction
/// may use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstructionAccount {
    /// Index into the transaction's accounts.
    pub index_in_transaction: usize,
    /// Whether the transaction signs for it.
    pub is_signer: bool,
    /// Whether the transaction write-locks it.
    pub is_writable: bool,
}

/// A program's view of one instruction: its data, its accounts (by position in the
/// instruction), and the compute meter.
///
/// Accounts can be changed freely through [`account_mut`](Self::account_mut); the rules
/// are checked when the program returns (see [`execute_instruction`]), so a program cannot
/// forget one.
#[derive(Debug)]
pub struct InstructionContext<'a> {
    program_id: Pubkey,
    data: &'a [u8],
    keys: &'a [Pubkey],
    accounts: &'a mut [AccountSharedData],
    instruction_accounts: &'a [InstructionAccount],
    meter: &'a mut ComputeMeter,
    environment: &'a ProcessingEnvironment,
    /// Where log lines go, if the batch records them.
    logs: Option<&'a mut Vec<String>>,
}

impl InstructionContext<'_> {
    /// The batch's environment: slot, current blockhash, fee rate, rent (the lite
    /// sysvars).
    pub fn environment(&self) -> &ProcessingEnvironment {
        self.environment
    }

    /// Adds a line to the transaction's log, if the batch records logs. The message is
    /// built only then, so logging costs nothing when recording is off.
    pub fn log(&mut self, message: impl FnOnce() -> String) {
        if let Some(logs) = self.logs.as_deref_mut() {
            logs.push(message());
        }
    }

    /// The id of the program running.
    pub fn program_id(&self) -> &Pubkey {
        &self.program_id
    }

    /// The instruction's data.
    pub fn data(&self) -> &[u8] {
        self.data
    }

    /// How many accounts the instruction lists.
    pub fn num_accounts(&self) -> usize {
        self.instruction_accounts.len()
    }

    /// The address of the instruction's `index`-th account.
    ///
    /// # Errors
    /// `NotEnoughAccountKeys` if the instruction lists fewer accounts.
    pub fn key(&self, index: usize) -> Result<&Pubkey, InstructionError> {
        Ok(&self.keys[self.instruction_account(index)?.index_in_transaction])
    }

    /// The instruction's `index`-th account.
    ///
    /// # Errors
    /// `NotEnoughAccountKeys` if the instruction lists fewer accounts.
    pub fn account(&self, index: usize) -> Result<&AccountSharedData, InstructionError> {
        Ok(&self.accounts[self.instruction_account(index)?.index_in_transaction])
    }

    /// The instruction's `index`-th account, to change. The change stands only if it keeps
    /// the runtime rules (checked when the program returns).
    ///
    /// # Errors
    /// `NotEnoughAccountKeys` if the instruction lists fewer accounts.
    pub fn account_mut(
        &mut self,
        index: usize,
    ) -> Result<&mut AccountSharedData, InstructionError> {
        let at = self.instruction_account(index)?.index_in_transaction;
        Ok(&mut self.accounts[at])
    }

    /// Whether the transaction signs for the `index`-th account.
    ///
    /// # Errors
    /// `NotEnoughAccountKeys` if the instruction lists fewer accounts.
    pub fn is_signer(&self, index: usize) -> Result<bool, InstructionError> {
        Ok(self.instruction_account(index)?.is_signer)
    }

    /// Whether the `index`-th account is writable.
    ///
    /// # Errors
    /// `NotEnoughAccountKeys` if the instruction lists fewer accounts.
    pub fn is_writable(&self, index: usize) -> Result<bool, InstructionError> {
        Ok(self.instruction_account(index)?.is_writable)
    }

    /// Charges `units` of compute.
    ///
    /// # Errors
    /// `ComputationalBudgetExceeded` if the transaction's budget runs out.
    pub fn consume_compute_units(&mut self, units: u64) -> Result<(), InstructionError> {
        self.meter.consume(units)
    }

    fn instruction_account(&self, index: usize) -> Result<&InstructionAccount, InstructionError> {
        self.instruction_accounts
            .get(index)
            .ok_or(InstructionError::NotEnoughAccountKeys)
    }
}

/// One instruction to run: which program, its data, and its accounts.
#[derive(Debug, Clone, Copy)]
pub struct Invocation<'a> {
    /// The program's id.
    pub program_id: Pubkey,
    /// The instruction's data.
    pub data: &'a [u8],
    /// The instruction's accounts, in its order.
    pub accounts: &'a [InstructionAccount],
}

/// An account as it was before the instruction, for the checks after it.
struct Before {
    index_in_transaction: usize,
    is_writable: bool,
    account: AccountSharedData,
}

/// Runs `program` on one instruction and enforces the runtime rules on its result:
///
/// * a read-only account is unchanged (`ReadonlyLamportChange`, `ReadonlyDataModified`);
/// * only the account's owner (the program, as the account was before) may take lamports
///   from it (`ExternalAccountLamportSpend`) or change its data
///   (`ExternalAccountDataModified`); anyone may credit a writable account;
/// * only the owner may assign a new owner, and only to an account whose data is empty or
///   all zeros (`ModifiedProgramId`);
/// * the executable flag never changes (`ExecutableModified`: there is no deployment here);
/// * data stays within `MAX_PERMITTED_DATA_LENGTH` (`InvalidRealloc`);
/// * the instruction's accounts hold the same lamports in total before and after
///   (`UnbalancedInstruction`).
///
/// On error, the accounts may hold the program's partial writes: the caller discards the
/// transaction's accounts (and commits only its rollback accounts).
///
/// # Errors
/// The program's error, or the first broken rule.
pub fn execute_instruction(
    program: &dyn Program,
    invocation: &Invocation<'_>,
    keys: &[Pubkey],
    accounts: &mut [AccountSharedData],
    meter: &mut ComputeMeter,
    environment: &ProcessingEnvironment,
    logs: Option<&mut Vec<String>>,
) -> Result<(), InstructionError> {
    let Invocation {
        program_id,
        data,
        accounts: instruction_accounts,
    } = *invocation;
    // Each transaction account once, even if the instruction lists it twice.
    let mut before: Vec<Before> = Vec::with_capacity(instruction_accounts.len());
    for account in instruction_accounts {
        if let Some(seen) = before
            .iter_mut()
            .find(|seen| seen.index_in_transaction == account.index_in_transaction)
        {
            seen.is_writable |= account.is_writable;
            continue;
        }
        let Some(state) = accounts.get(account.index_in_transaction) else {
            return Err(InstructionError::NotEnoughAccountKeys);
        };
        before.push(Before {
            index_in_transaction: account.index_in_transaction,
            is_writable: account.is_writable,
            account: state.clone(),
        });
    }
    program.execute(&mut InstructionContext {
        program_id,
        data,
        keys,
        accounts,
        instruction_accounts,
        meter,
        environment,
        logs,
    })?;
    let mut lamports_before: u128 = 0;
    let mut lamports_after: u128 = 0;
    for pre in &before {
        let post = &accounts[pre.index_in_transaction];
        verify_account(&program_id, pre, post)?;
        lamports_before += u128::from(pre.account.lamports());
        lamports_after += u128::from(post.lamports());
    }
    if lamports_before != lamports_after {
        return Err(InstructionError::UnbalancedInstruction);
    }
    Ok(())
}

fn verify_account(
    program_id: &Pubkey,
    pre: &Before,
    post: &AccountSharedData,
) -> Result<(), InstructionError> {
    let owned = pre.account.owner() == program_id;
    let data_changed = !post.data_is_shared_with(&pre.account) && post.data() != pre.account.data();
    if post.owner() != pre.account.owner()
        && (!pre.is_writable || !owned || post.data().iter().any(|&byte| byte != 0))
    {
        return Err(InstructionError::ModifiedProgramId);
    }
    if post.lamports() != pre.account.lamports() {
        if !pre.is_writable {
            return Err(InstructionError::ReadonlyLamportChange);
        }
        if post.lamports() < pre.account.lamports() && !owned {
            return Err(InstructionError::ExternalAccountLamportSpend);
        }
    }
    if data_changed {
        if !pre.is_writable {
            return Err(InstructionError::ReadonlyDataModified);
        }
        if !owned {
            return Err(InstructionError::ExternalAccountDataModified);
        }
        if post.data().len() as u64 > MAX_PERMITTED_DATA_LENGTH {
            return Err(InstructionError::InvalidRealloc);
        }
    }
    if post.executable() != pre.account.executable() {
        return Err(InstructionError::ExecutableModified);
    }
    Ok(())
}
