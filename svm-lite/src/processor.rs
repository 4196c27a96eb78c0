//! The batch entry point: load, validate, execute and collect a batch of transactions, in
//! order, against one account source.

use std::borrow::Borrow;

use sdk_lite::{
    AccountSharedData, InstructionError, MAX_INSTRUCTION_TRACE_LENGTH,
    MAX_PERMITTED_ACCOUNTS_DATA_ALLOCATIONS_PER_TRANSACTION, Pubkey, ReadableAccount,
    SanitizedTransaction, TransactionError, WritableAccount, system_program,
};

use crate::account_loader::AccountLoader;
use crate::callback::TransactionProcessingCallback;
use crate::compute_budget::{ComputeBudgetLimits, compute_budget_limits};
use crate::environment::ProcessingEnvironment;
use crate::fee::FeeDetails;
use crate::fee_payer::{RentState, validate_fee_payer};
use crate::instruction_context::{
    ComputeMeter, InstructionAccount, Invocation, execute_instruction,
};
use crate::measure_ns;
use crate::metrics::{
    BalanceCollector, ExecutionTimings, RecordingConfig, TransactionErrorMetrics,
};
use crate::nonce_state::{NonceState, durable_nonce_from_blockhash};
use crate::program::ProgramRegistry;
use crate::rollback_accounts::{KeyedAccount, RollbackAccounts};
use crate::system_program::SystemInstruction;

/// A transaction that was processed: it pays its fee, whatever else happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcessedTransaction {
    /// Loaded and executed: `status` says whether its instructions succeeded. On success
    /// `accounts` are all its writable accounts after execution; on failure they are its
    /// rollback accounts (the fee payer charged).
    Executed {
        /// `Ok`, or the first failing instruction's error.
        status: Result<(), TransactionError>,
        /// Compute units its instructions consumed.
        units_consumed: u64,
        /// The fee it paid.
        fee: FeeDetails,
        /// What to commit, in account-key order.
        accounts: Vec<KeyedAccount>,
        /// Its log lines, if the batch records logs.
        log_messages: Option<Vec<String>>,
    },
    /// The fee payer was valid but loading failed: only the fee is charged.
    FeesOnly {
        /// Why loading failed.
        error: TransactionError,
        /// The fee it paid.
        fee: FeeDetails,
        /// What to commit: the fee payer charged.
        accounts: Vec<KeyedAccount>,
    },
}

impl ProcessedTransaction {
    /// The accounts to commit.
    pub fn accounts(&self) -> &[KeyedAccount] {
        match self {
            Self::Executed { accounts, .. } | Self::FeesOnly { accounts, .. } => accounts,
        }
    }

    /// The fee paid.
    pub fn fee(&self) -> FeeDetails {
        match self {
            Self::Executed { fee, .. } | Self::FeesOnly { fee, .. } => *fee,
        }
    }

    /// Whether the transaction's instructions ran and succeeded.
    pub fn was_successful(&self) -> bool {
        matches!(self, Self::Executed { status: Ok(()), .. })
    }
}

/// Per transaction: processed (fee charged, maybe executed), or not processed at all with
/// the reason (nothing is committed then).
pub type ProcessingResult = Result<ProcessedTransaction, TransactionError>;

/// A transaction whose fee payer, nonce and accounts all loaded: ready to execute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedTransaction {
    /// Every account of the transaction, in account-key order (the keys are the
    /// transaction's; the fee payer is already charged; an account that does not exist
    /// yet is empty).
    pub accounts: Vec<AccountSharedData>,
    /// Per instruction, the index of its program among `accounts`.
    pub program_indices: Vec<usize>,
    /// The fee it pays.
    pub fee_details: FeeDetails,
    /// What it commits if it fails.
    pub rollback_accounts: RollbackAccounts,
    /// Its compute budget.
    pub compute_budget: ComputeBudgetLimits,
    /// Bytes of account data it loaded.
    pub loaded_accounts_data_size: u64,
}

/// A transaction that can pay (fee payer and nonce are fine) but failed to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeesOnlyTransaction {
    /// Why loading failed.
    pub load_error: TransactionError,
    /// The fee it pays anyway.
    pub fee_details: FeeDetails,
    /// What it commits: the fee payer charged (and an advanced nonce).
    pub rollback_accounts: RollbackAccounts,
}

/// The three outcomes of loading a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransactionLoadResult {
    /// Ready to execute.
    Loaded(LoadedTransaction),
    /// Loading failed after the fee payer was validated: the fee is still charged.
    FeesOnly(FeesOnlyTransaction),
    /// The transaction cannot even pay (or the caller rejected it): nothing is committed.
    NotLoaded(TransactionError),
}

/// Options of a batch: what to record, and where to count errors.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessingConfig<'a> {
    /// What to record beyond the results.
    pub recording: RecordingConfig,
    /// Counters to add this batch's failures to (shared by workers), if any.
    pub error_metrics: Option<&'a TransactionErrorMetrics>,
}

/// What a batch returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchOutput {
    /// One result per transaction, in order.
    pub results: Vec<ProcessingResult>,
    /// Where the time went.
    pub timings: ExecutionTimings,
    /// Balances before and after, if [`RecordingConfig::balances`] asked for them.
    pub balances: Option<BalanceCollector>,
    /// Per transaction, `(start from the batch's start, duration)`, if
    /// [`RecordingConfig::transaction_times`] asked for them.
    pub transaction_times: Option<Vec<(std::time::Duration, std::time::Duration)>>,
}

/// How the caller accepted a transaction's age (the bank's check, before the batch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionCheck {
    /// Its recent blockhash is one of the recent ones.
    RecentBlockhash,
    /// Its recent blockhash is not recent, so it must be a durable-nonce transaction: its
    /// first instruction advances a nonce account, signed by the nonce's authority, whose
    /// stored durable nonce is the transaction's recent blockhash. The processor verifies
    /// this again against the batch's current view (an earlier transaction of the batch
    /// may have advanced the same nonce), and a failure is `BlockhashNotFound`.
    DurableNonce,
}

/// Processes `transactions` in order: each sees the accounts as the earlier ones of the
/// batch left them. `check_results` carries the caller's verdict per transaction (age,
/// already processed): an `Err` is not processed; [`TransactionCheck::DurableNonce`]
/// makes the processor verify the nonce, and commit its advance even if the transaction
/// fails.
///
/// Nothing is written to `callback`: the caller commits each result's
/// [`accounts`](ProcessedTransaction::accounts), in order.
///
/// # Errors
/// The account source's error, if reading it failed (the whole batch is abandoned: no
/// result can be trusted without the accounts it read).
///
/// # Panics
/// If `check_results` and `transactions` differ in length (a caller bug).
///
/// `transactions` may be owned or shared (`Arc<SanitizedTransaction>`): a pipeline that
/// hands the same transaction from thread to thread need not copy it to run it.
pub fn load_and_execute_sanitized_transactions<CB, T>(
    callback: &CB,
    programs: &ProgramRegistry,
    transactions: &[T],
    check_results: &[Result<TransactionCheck, TransactionError>],
    environment: &ProcessingEnvironment,
    config: &ProcessingConfig<'_>,
) -> Result<BatchOutput, CB::Error>
where
    CB: TransactionProcessingCallback,
    T: Borrow<SanitizedTransaction>,
{
    assert_eq!(
        transactions.len(),
        check_results.len(),
        "invariant: one check result per transaction"
    );
    let capacity = transactions
        .iter()
        .map(|tx| tx.borrow().account_keys().len())
        .sum();
    let mut loader = AccountLoader::with_capacity(callback, capacity);
    let mut results = Vec::with_capacity(transactions.len());
    let mut timings = ExecutionTimings::default();
    let mut balances = config.recording.balances.then(BalanceCollector::default);
    let batch_start = std::time::Instant::now();
    let mut transaction_times = config
        .recording
        .transaction_times
        .then(|| Vec::with_capacity(transactions.len()));
    for (transaction, check) in transactions.iter().zip(check_results) {
        let transaction: &SanitizedTransaction = transaction.borrow();
        let pre_balances = match &balances {
            Some(_) => Some(current_balances(&mut loader, transaction)?),
            None => None,
        };
        let started = transaction_times
            .as_ref()
            .map(|_| std::time::Instant::now());
        let result = process_one(
            &mut loader,
            programs,
            transaction,
            check,
            environment,
            config.recording.logs,
            &mut timings,
        )?;
        if let (Some(times), Some(started)) = (&mut transaction_times, started) {
            times.push((started - batch_start, started.elapsed()));
        }
        if let Some(metrics) = config.error_metrics {
            match &result {
                Err(error)
                | Ok(ProcessedTransaction::FeesOnly { error, .. })
                | Ok(ProcessedTransaction::Executed {
                    status: Err(error), ..
                }) => metrics.record(error),
                Ok(ProcessedTransaction::Executed { status: Ok(()), .. }) => {}
            }
        }
        if let (Some(balances), Some(pre)) = (&mut balances, pre_balances) {
            record_balances(balances, transaction, &result, pre);
        }
        // Later transactions see what this one commits: all its writable accounts if it
        // succeeded, only its rollback accounts (the charged fee payer, an advanced
        // nonce) if not.
        if let Ok(processed) = &result {
            loader.update_with_committed_accounts(
                processed
                    .accounts()
                    .iter()
                    .map(|(key, account)| (key, account)),
            );
        }
        results.push(result);
    }
    Ok(BatchOutput {
        results,
        timings,
        balances,
        transaction_times,
    })
}

/// The batch's current view of each of the transaction's account balances.
fn current_balances<CB: TransactionProcessingCallback>(
    loader: &mut AccountLoader<'_, CB>,
    transaction: &SanitizedTransaction,
) -> Result<Vec<u64>, CB::Error> {
    transaction
        .account_keys()
        .iter()
        .map(|key| {
            Ok(loader
                .load_account(key)?
                .map_or(0, |account| account.lamports()))
        })
        .collect()
}

fn record_balances(
    balances: &mut BalanceCollector,
    transaction: &SanitizedTransaction,
    result: &ProcessingResult,
    pre: Vec<u64>,
) {
    let Ok(processed) = result else {
        balances.pre_balances.push(None);
        balances.post_balances.push(None);
        return;
    };
    let mut post = pre.clone();
    for (key, account) in processed.accounts() {
        if let Some(index) = transaction.account_keys().iter().position(|k| k == key) {
            post[index] = account.lamports();
        }
    }
    balances.pre_balances.push(Some(pre));
    balances.post_balances.push(Some(post));
}

/// Loads one transaction against the batch's view: the caller's check, the compute
/// budget, the fee, the durable nonce, the fee payer (charged), then every account (the
/// loaded-data limit, programs that must be built in).
///
/// # Errors
/// The account source's error, if reading it failed.
pub fn load_transaction<CB: TransactionProcessingCallback>(
    loader: &mut AccountLoader<'_, CB>,
    programs: &ProgramRegistry,
    transaction: &SanitizedTransaction,
    check: &Result<TransactionCheck, TransactionError>,
    environment: &ProcessingEnvironment,
) -> Result<TransactionLoadResult, CB::Error> {
    load_transaction_timed(
        loader,
        programs,
        transaction,
        check,
        environment,
        &mut ExecutionTimings::default(),
    )
}

fn load_transaction_timed<CB: TransactionProcessingCallback>(
    loader: &mut AccountLoader<'_, CB>,
    programs: &ProgramRegistry,
    transaction: &SanitizedTransaction,
    check: &Result<TransactionCheck, TransactionError>,
    environment: &ProcessingEnvironment,
    timings: &mut ExecutionTimings,
) -> Result<TransactionLoadResult, CB::Error> {
    let check = match check {
        Ok(check) => *check,
        Err(error) => return Ok(TransactionLoadResult::NotLoaded(error.clone())),
    };
    let (result, load_ns) = measure_ns!(load_checked(
        loader,
        programs,
        transaction,
        check,
        environment
    ));
    timings.load_ns = timings.load_ns.saturating_add(load_ns);
    result
}

/// `load_transaction` once the caller's check passed.
fn load_checked<CB: TransactionProcessingCallback>(
    loader: &mut AccountLoader<'_, CB>,
    programs: &ProgramRegistry,
    transaction: &SanitizedTransaction,
    check: TransactionCheck,
    environment: &ProcessingEnvironment,
) -> Result<TransactionLoadResult, CB::Error> {
    let validated = validate(loader, programs, transaction, check, environment)?;
    let (compute_budget, fee_details, fee_payer_key, charged, advanced_nonce) = match validated {
        Ok(validated) => validated,
        Err(error) => return Ok(TransactionLoadResult::NotLoaded(error)),
    };
    let rollback_accounts = RollbackAccounts::new((fee_payer_key, charged.clone()), advanced_nonce);
    let loaded = load_accounts(loader, programs, transaction, &compute_budget, &charged)?;
    Ok(match loaded {
        Ok((accounts, loaded_accounts_data_size)) => {
            TransactionLoadResult::Loaded(LoadedTransaction {
                accounts,
                program_indices: transaction
                    .message()
                    .instructions
                    .iter()
                    .map(|instruction| usize::from(instruction.program_id_index))
                    .collect(),
                fee_details,
                rollback_accounts,
                compute_budget,
                loaded_accounts_data_size,
            })
        }
        Err(load_error) => TransactionLoadResult::FeesOnly(FeesOnlyTransaction {
            load_error,
            fee_details,
            rollback_accounts,
        }),
    })
}

/// One transaction: the outer `Result` is the source's failure, the inner one the
/// transaction's.
fn process_one<CB: TransactionProcessingCallback>(
    loader: &mut AccountLoader<'_, CB>,
    programs: &ProgramRegistry,
    transaction: &SanitizedTransaction,
    check: &Result<TransactionCheck, TransactionError>,
    environment: &ProcessingEnvironment,
    record_logs: bool,
    timings: &mut ExecutionTimings,
) -> Result<ProcessingResult, CB::Error> {
    let loaded =
        match load_transaction_timed(loader, programs, transaction, check, environment, timings)? {
            TransactionLoadResult::NotLoaded(error) => return Ok(Err(error)),
            TransactionLoadResult::FeesOnly(fees_only) => {
                return Ok(Ok(ProcessedTransaction::FeesOnly {
                    error: fees_only.load_error,
                    fee: fees_only.fee_details,
                    accounts: fees_only.rollback_accounts.iter().cloned().collect(),
                }));
            }
            TransactionLoadResult::Loaded(loaded) => loaded,
        };
    let LoadedTransaction {
        accounts,
        program_indices,
        fee_details: fee,
        rollback_accounts,
        compute_budget,
        loaded_accounts_data_size: _,
    } = loaded;
    let ((status, units_consumed, accounts, log_messages), execute_ns) = measure_ns!(execute(
        programs,
        transaction,
        accounts,
        &program_indices,
        &compute_budget,
        environment,
        record_logs
    ));
    timings.execute_ns = timings.execute_ns.saturating_add(execute_ns);
    let accounts = match status {
        Ok(()) => transaction
            .account_keys()
            .iter()
            .zip(accounts)
            .enumerate()
            .filter(|(index, _)| transaction.is_writable(*index))
            .map(|(_, (key, account))| (*key, account))
            .collect(),
        Err(_) => rollback_accounts.iter().cloned().collect(),
    };
    Ok(Ok(ProcessedTransaction::Executed {
        status,
        units_consumed,
        fee,
        accounts,
        log_messages,
    }))
}

/// What validation yields: limits, fee, the fee payer (key and charged account) and the
/// advanced nonce of a durable transaction.
type Validated = (
    ComputeBudgetLimits,
    FeeDetails,
    Pubkey,
    AccountSharedData,
    Option<KeyedAccount>,
);

/// The checks before loading: compute budget, fee, durable nonce, fee payer.
fn validate<CB: TransactionProcessingCallback>(
    loader: &mut AccountLoader<'_, CB>,
    programs: &ProgramRegistry,
    transaction: &SanitizedTransaction,
    check: TransactionCheck,
    environment: &ProcessingEnvironment,
) -> Result<Result<Validated, TransactionError>, CB::Error> {
    let limits = match compute_budget_limits(transaction, |id| programs.is_builtin(id)) {
        Ok(limits) => limits,
        Err(error) => return Ok(Err(error)),
    };
    let Some(fee) = FeeDetails::new(transaction, &limits, environment.lamports_per_signature)
    else {
        return Ok(Err(TransactionError::InsufficientFundsForFee));
    };
    let fee_total = fee.total().unwrap_or(u64::MAX);
    let advanced_nonce = match check {
        TransactionCheck::RecentBlockhash => None,
        TransactionCheck::DurableNonce => {
            match verify_and_advance_nonce(loader, transaction, environment)? {
                Some(advanced) => Some(advanced),
                None => return Ok(Err(TransactionError::BlockhashNotFound)),
            }
        }
    };
    let fee_payer_key = *transaction.fee_payer();
    let fee_payer = loader.load_account(&fee_payer_key)?;
    Ok(
        validate_fee_payer(fee_payer.as_ref(), fee_total, &environment.rent)
            .map(|charged| (limits, fee, fee_payer_key, charged, advanced_nonce)),
    )
}

/// For a durable-nonce transaction: the nonce account as advanced now, if the transaction
/// may use it (see [`TransactionCheck::DurableNonce`]); `None` if not.
fn verify_and_advance_nonce<CB: TransactionProcessingCallback>(
    loader: &mut AccountLoader<'_, CB>,
    transaction: &SanitizedTransaction,
    environment: &ProcessingEnvironment,
) -> Result<Option<KeyedAccount>, CB::Error> {
    let Some((program_id, first)) = transaction.instructions_iter().next() else {
        return Ok(None);
    };
    let advances = *program_id == system_program::ID
        && SystemInstruction::decode(&first.data) == Some(SystemInstruction::AdvanceNonceAccount);
    let (Some(&nonce_index), Some(&authority_index)) =
        (first.accounts.first(), first.accounts.get(1))
    else {
        return Ok(None);
    };
    let (nonce_index, authority_index) = (usize::from(nonce_index), usize::from(authority_index));
    if !advances || !transaction.is_writable(nonce_index) || !transaction.is_signer(authority_index)
    {
        return Ok(None);
    }
    let nonce_key = transaction.account_keys()[nonce_index];
    let Some(mut nonce_account) = loader.load_account(&nonce_key)? else {
        return Ok(None);
    };
    if *nonce_account.owner() != system_program::ID {
        return Ok(None);
    }
    let Some(NonceState::Initialized {
        authority,
        durable_nonce,
        ..
    }) = NonceState::from_data(nonce_account.data())
    else {
        return Ok(None);
    };
    let next = durable_nonce_from_blockhash(&environment.blockhash);
    if durable_nonce != *transaction.recent_blockhash()
        || authority != transaction.account_keys()[authority_index]
        || next == durable_nonce
    {
        return Ok(None);
    }
    let advanced = NonceState::Initialized {
        authority,
        durable_nonce: next,
        lamports_per_signature: environment.lamports_per_signature,
    };
    nonce_account.set_data_from_slice(&advanced.to_data());
    Ok(Some((nonce_key, nonce_account)))
}

/// A transaction's accounts, in key order, and the bytes of data they hold.
type LoadedAccounts = (Vec<AccountSharedData>, u64);

/// Loads every account of the transaction (the fee payer as charged; an absent account
/// as empty), checking programs and the loaded-data limit.
fn load_accounts<CB: TransactionProcessingCallback>(
    loader: &mut AccountLoader<'_, CB>,
    programs: &ProgramRegistry,
    transaction: &SanitizedTransaction,
    limits: &ComputeBudgetLimits,
    charged_fee_payer: &AccountSharedData,
) -> Result<Result<LoadedAccounts, TransactionError>, CB::Error> {
    let mut accounts = Vec::with_capacity(transaction.account_keys().len());
    let mut loaded_bytes: u64 = 0;
    for (index, key) in transaction.account_keys().iter().enumerate() {
        let account = if index == 0 {
            charged_fee_payer.clone()
        } else {
            loader.load_account(key)?.unwrap_or_default()
        };
        loaded_bytes = loaded_bytes.saturating_add(account.data().len() as u64);
        if loaded_bytes > u64::from(limits.loaded_accounts_data_size_limit) {
            return Ok(Err(TransactionError::MaxLoadedAccountsDataSizeExceeded));
        }
        accounts.push(account);
    }
    for (program_id, _) in transaction.instructions_iter() {
        if !programs.is_builtin(program_id) {
            let exists = loader.load_account(program_id)?.is_some();
            return Ok(Err(if exists {
                TransactionError::InvalidProgramForExecution
            } else {
                TransactionError::ProgramAccountNotFound
            }));
        }
    }
    Ok(Ok((accounts, loaded_bytes)))
}

/// Runs every instruction in order under one compute meter, then checks that no writable
/// account was left below the rent-exempt minimum without being emptied. Returns the
/// status, the units consumed, the accounts as execution left them, and the logs.
fn execute(
    programs: &ProgramRegistry,
    transaction: &SanitizedTransaction,
    mut accounts: Vec<AccountSharedData>,
    program_indices: &[usize],
    compute_budget: &ComputeBudgetLimits,
    environment: &ProcessingEnvironment,
    record_logs: bool,
) -> (
    Result<(), TransactionError>,
    u64,
    Vec<AccountSharedData>,
    Option<Vec<String>>,
) {
    let rent = &environment.rent;
    let keys: &[Pubkey] = transaction.account_keys();
    let before: Vec<RentState> = accounts
        .iter()
        .map(|account| RentState::of(account.lamports(), account.data().len(), rent))
        .collect();
    let limit = u64::from(compute_budget.compute_unit_limit);
    let mut meter = ComputeMeter::new(limit);
    let mut logs = record_logs.then(Vec::new);
    let mut status = Ok(());
    // What the transaction's data may grow to, net, whatever its instructions resize.
    let data_limit = total_data_len(&accounts)
        .saturating_add(MAX_PERMITTED_ACCOUNTS_DATA_ALLOCATIONS_PER_TRANSACTION);
    let instructions = transaction.message().instructions.iter();
    for (index, (instruction, &program_index)) in instructions.zip(program_indices).enumerate() {
        let instruction_index = u8::try_from(index).unwrap_or(u8::MAX);
        if index >= MAX_INSTRUCTION_TRACE_LENGTH {
            status = Err(TransactionError::InstructionError(
                instruction_index,
                InstructionError::MaxInstructionTraceLengthExceeded,
            ));
            break;
        }
        let program_id = keys[program_index];
        let Some(program) = programs.get(&program_id) else {
            status = Err(TransactionError::InvalidProgramForExecution);
            break;
        };
        if let Some(logs) = logs.as_mut() {
            logs.push(format!("Program {program_id} invoke"));
        }
        let instruction_accounts: Vec<InstructionAccount> = instruction
            .accounts
            .iter()
            .map(|&at| {
                let at = usize::from(at);
                InstructionAccount {
                    index_in_transaction: at,
                    is_signer: transaction.is_signer(at),
                    is_writable: transaction.is_writable(at),
                }
            })
            .collect();
        let result = execute_instruction(
            program.as_ref(),
            &Invocation {
                program_id,
                data: &instruction.data,
                accounts: &instruction_accounts,
            },
            keys,
            &mut accounts,
            &mut meter,
            environment,
            logs.as_mut(),
        )
        .and_then(|()| {
            // Checked per instruction, as Agave checks per resize, so a transaction's
            // allocations stop one instruction past the limit, not at its end.
            if total_data_len(&accounts) > data_limit {
                Err(InstructionError::MaxAccountsDataAllocationsExceeded)
            } else {
                Ok(())
            }
        });
        if let Some(logs) = logs.as_mut() {
            logs.push(match &result {
                Ok(()) => format!("Program {program_id} success"),
                Err(error) => format!("Program {program_id} failed: {error}"),
            });
        }
        if let Err(error) = result {
            status = Err(TransactionError::InstructionError(instruction_index, error));
            break;
        }
    }
    if status.is_ok() {
        for (index, (account, before)) in accounts.iter().zip(&before).enumerate() {
            let after = RentState::of(account.lamports(), account.data().len(), rent);
            if transaction.is_writable(index) && !before.may_become(after) {
                status = Err(TransactionError::InsufficientFundsForRent {
                    account_index: u8::try_from(index).unwrap_or(u8::MAX),
                });
                break;
            }
        }
    }
    let units_consumed = limit - meter.remaining();
    (status, units_consumed, accounts, logs)
}

/// The bytes of data the transaction's accounts hold, together.
fn total_data_len(accounts: &[AccountSharedData]) -> u64 {
    accounts
        .iter()
        .map(|account| account.data().len() as u64)
        .sum()
}
