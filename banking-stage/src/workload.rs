//! A seeded, deterministic workload: a genesis of funded accounts, and a stream of
//! transactions of several kinds whose accounts follow a conflict pattern.
//!
//! The same [`WorkloadConfig`] always gives the same genesis and the same transactions
//! (keys, signatures and amounts come from a SplitMix64 stream seeded by
//! [`WorkloadConfig::seed`]; no global counter or clock is read), so a run can be
//! reproduced from its command line.
//!
//! Every transaction has its own fee payer, so conflicts come only from the pattern:
//! * [`ConflictPattern::None`]: each transaction writes its own target account;
//! * [`ConflictPattern::Uniform`]: targets drawn uniformly from `accounts` accounts;
//! * [`ConflictPattern::Zipf`]: targets drawn from `accounts` accounts with probability
//!   proportional to `1 / rank^exponent`;
//! * [`ConflictPattern::HotSpot`]: `percent`% of the transactions write one of
//!   `hot_accounts` hot accounts, the rest their own;
//! * [`ConflictPattern::Chain`]: every transaction writes the same account;
//! * [`ConflictPattern::ReadMostly`]: each transaction writes its own account and reads
//!   four of `shared` accounts that every transaction reads;
//! * [`ConflictPattern::ReadWrite`]: each transaction reads four of `shared` accounts, and
//!   one bench transaction in four writes one of them (what the bench program reads shapes
//!   what it writes, so the order of a shared account's readers and writers shows in the
//!   state).

use std::fmt;
use std::str::FromStr;

use sdk_lite::{
    AccountMeta, AccountSharedData, Hash, Instruction, Message, Pubkey, Signature, Transaction,
    WritableAccount, system_program,
};
use svm_lite::bench_program::{
    BENCH_PROGRAM_ID, BENCH_STATE_LEN, UNITS_PER_HASH, UNITS_PER_INPUT_BYTE,
};
use svm_lite::compute_budget::COMPUTE_BUDGET_PROGRAM_COMPUTE_UNITS;
use svm_lite::compute_budget::instruction as compute_budget_instruction;
use svm_lite::system_program::SYSTEM_PROGRAM_COMPUTE_UNITS;
use svm_lite::system_program::instruction as system_instruction;
use svm_lite::{BenchInstruction, NonceState, Rent};

/// Lamports each fee payer starts with.
pub const PAYER_LAMPORTS: u64 = 1_000_000_000;
/// Lamports a transfer moves: above the rent-exempt minimum of an empty account, so a
/// transfer may create its target.
pub const TRANSFER_LAMPORTS: u64 = 1_000_000;
/// Accounts each read-mostly or read-write transaction reads.
pub const READS_PER_TRANSACTION: usize = 4;

/// Which accounts the transactions write (and read).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ConflictPattern {
    /// No two transactions share an account.
    None,
    /// Targets drawn uniformly from `accounts` accounts.
    Uniform {
        /// How many accounts.
        accounts: usize,
    },
    /// Targets drawn from `accounts` accounts, Zipf-distributed with `exponent`.
    Zipf {
        /// How many accounts.
        accounts: usize,
        /// The exponent (1.1 is typical of real chains).
        exponent: f64,
    },
    /// `percent`% of the transactions write one of `hot_accounts`; the rest their own.
    HotSpot {
        /// Share of hot transactions, 0..=100.
        percent: u8,
        /// How many hot accounts.
        hot_accounts: usize,
    },
    /// Every transaction writes one account.
    Chain,
    /// Each transaction writes its own account and reads [`READS_PER_TRANSACTION`] of
    /// `shared` accounts.
    ReadMostly {
        /// How many shared read accounts.
        shared: usize,
    },
    /// Each transaction reads [`READS_PER_TRANSACTION`] of `shared` accounts; one bench
    /// transaction in four writes one of them (a random one), the others their own
    /// account. The bench program mixes what it reads into what it writes, so a read
    /// that ran on the wrong side of a write changes the state.
    ReadWrite {
        /// How many shared accounts.
        shared: usize,
    },
}

impl ConflictPattern {
    /// One of each pattern, with typical parameters (for tests and sweeps).
    pub fn all() -> [Self; 7] {
        [
            Self::None,
            Self::Uniform { accounts: 64 },
            Self::Zipf {
                accounts: 1_000,
                exponent: 1.1,
            },
            Self::HotSpot {
                percent: 50,
                hot_accounts: 4,
            },
            Self::Chain,
            Self::ReadMostly { shared: 16 },
            Self::ReadWrite { shared: 16 },
        ]
    }
}

impl fmt::Display for ConflictPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => write!(f, "none"),
            Self::Uniform { accounts } => write!(f, "uniform:{accounts}"),
            Self::Zipf { accounts, exponent } => write!(f, "zipf:{accounts}:{exponent}"),
            Self::HotSpot {
                percent,
                hot_accounts,
            } => write!(f, "hotspot:{percent}:{hot_accounts}"),
            Self::Chain => write!(f, "chain"),
            Self::ReadMostly { shared } => write!(f, "read-mostly:{shared}"),
            Self::ReadWrite { shared } => write!(f, "read-write:{shared}"),
        }
    }
}

/// The most accounts a parsed pattern may name (the generator keeps a table per account).
pub const MAX_PATTERN_ACCOUNTS: usize = 1 << 24;

/// A pattern that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid conflict pattern {0:?}: expected none, uniform[:N], zipf[:N[:S]], \
     hotspot[:PERCENT[:N]], chain, read-mostly[:N] or read-write[:N], with N from 1 to 2^24"
)]
pub struct ParsePatternError(String);

impl FromStr for ConflictPattern {
    type Err = ParsePatternError;

    /// Parses the [`Display`](fmt::Display) form; omitted parameters take the values of
    /// [`ConflictPattern::all`].
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || ParsePatternError(text.to_owned());
        let mut parts = text.split(':');
        let name = parts.next().unwrap_or_default();
        let args: Vec<&str> = parts.collect();
        let count = |index: usize, default: usize| -> Result<usize, ParsePatternError> {
            match args.get(index) {
                None => Ok(default),
                Some(arg) => arg
                    .parse()
                    .ok()
                    .filter(|&n| (1..=MAX_PATTERN_ACCOUNTS).contains(&n))
                    .ok_or_else(error),
            }
        };
        let pattern = match name {
            "none" if args.is_empty() => Self::None,
            "chain" if args.is_empty() => Self::Chain,
            "uniform" if args.len() <= 1 => Self::Uniform {
                accounts: count(0, 64)?,
            },
            "zipf" if args.len() <= 2 => Self::Zipf {
                accounts: count(0, 1_000)?,
                exponent: match args.get(1) {
                    None => 1.1,
                    Some(arg) => arg
                        .parse::<f64>()
                        .ok()
                        .filter(|s| s.is_finite() && *s >= 0.0)
                        .ok_or_else(error)?,
                },
            },
            "hotspot" if args.len() <= 2 => Self::HotSpot {
                percent: match args.first() {
                    None => 50,
                    Some(arg) => arg.parse().ok().filter(|&p| p <= 100).ok_or_else(error)?,
                },
                hot_accounts: count(1, 4)?,
            },
            "read-mostly" if args.len() <= 1 => Self::ReadMostly {
                shared: count(0, 16)?,
            },
            "read-write" if args.len() <= 1 => Self::ReadWrite {
                shared: count(0, 16)?,
            },
            _ => return Err(error()),
        };
        Ok(pattern)
    }
}

/// Relative weights of the transaction kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransactionMix {
    /// System transfers.
    pub transfer: u32,
    /// Bench-program work ([`WorkloadConfig::bench_units`] compute units each), then a
    /// write of a random value to the same state account.
    pub bench: u32,
    /// Durable-nonce transactions (advance a nonce, then transfer).
    pub nonce: u32,
    /// Transactions that fail on purpose (their fee is charged).
    pub failing: u32,
    /// Transactions the pipeline must drop: malformed, unsigned, duplicate account, too
    /// many accounts, unknown program, or already processed.
    pub bad: u32,
}

impl TransactionMix {
    /// Only transfers.
    pub const TRANSFERS: Self = Self {
        transfer: 1,
        bench: 0,
        nonce: 0,
        failing: 0,
        bad: 0,
    };
    /// Only bench-program work.
    pub const BENCH: Self = Self {
        transfer: 0,
        bench: 1,
        nonce: 0,
        failing: 0,
        bad: 0,
    };

    /// The sum of the weights (in u64: five u32 weights cannot overflow it).
    fn total(&self) -> u64 {
        [
            self.transfer,
            self.bench,
            self.nonce,
            self.failing,
            self.bad,
        ]
        .into_iter()
        .map(u64::from)
        .sum()
    }
}

impl Default for TransactionMix {
    /// 50% transfers, 30% bench work, 5% nonce, 10% failing, 5% bad.
    fn default() -> Self {
        Self {
            transfer: 50,
            bench: 30,
            nonce: 5,
            failing: 10,
            bad: 5,
        }
    }
}

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadConfig {
    /// The seed: the same config gives the same workload.
    pub seed: u64,
    /// Transactions to generate.
    pub transactions: usize,
    /// Which accounts they touch.
    pub pattern: ConflictPattern,
    /// The kinds' weights.
    pub mix: TransactionMix,
    /// Compute units of work per bench transaction (100 units per hash).
    pub bench_units: u32,
    /// Compute-unit prices are drawn from `0..=max_price` micro-lamports.
    pub max_price: u64,
}

impl Default for WorkloadConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            transactions: 20_000,
            pattern: ConflictPattern::Zipf {
                accounts: 1_000,
                exponent: 1.1,
            },
            mix: TransactionMix::default(),
            bench_units: 20_000,
            max_price: 10_000,
        }
    }
}

/// The kind of a generated transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransactionKind {
    /// A transfer.
    Transfer,
    /// Bench-program work.
    Bench,
    /// A durable-nonce transfer.
    Nonce,
    /// Fails on purpose; committed with its fee.
    Failing,
    /// Must be dropped before it runs.
    Bad(BadKind),
}

/// The ways a [`TransactionKind::Bad`] transaction is bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BadKind {
    /// An instruction names a program index past the account keys.
    Malformed,
    /// No signature at all.
    Unsigned,
    /// An account key listed twice.
    DuplicateAccount,
    /// More accounts than a transaction may lock.
    TooManyAccounts,
    /// Calls a program nobody has.
    UnknownProgram,
    /// An exact copy of an earlier transaction.
    AlreadyProcessed,
}

const BAD_KINDS: [BadKind; 6] = [
    BadKind::Malformed,
    BadKind::Unsigned,
    BadKind::DuplicateAccount,
    BadKind::TooManyAccounts,
    BadKind::UnknownProgram,
    BadKind::AlreadyProcessed,
];

/// A generated workload.
#[derive(Debug, Clone)]
pub struct Workload {
    /// The genesis accounts.
    pub genesis: Vec<(Pubkey, AccountSharedData)>,
    /// The transactions, in arrival order.
    pub transactions: Vec<Transaction>,
    /// Each transaction's kind.
    pub kinds: Vec<TransactionKind>,
}

impl Workload {
    /// Generates the workload `config` describes; its transactions name
    /// [`Bank::first_blockhash`](crate::Bank::first_blockhash) unless they use a durable
    /// nonce, so they are valid in the first 150 banks of a chain started from
    /// [`genesis`](Self::genesis).
    pub fn generate(config: &WorkloadConfig) -> Self {
        Generator::new(config, crate::Bank::first_blockhash()).run()
    }

    /// A frozen genesis bank over [`genesis`](Self::genesis), with the default chain
    /// parameters.
    pub fn genesis_bank(&self) -> std::sync::Arc<crate::Bank> {
        let bank = std::sync::Arc::new(
            crate::Bank::new_genesis(self.genesis.clone(), crate::BankConfig::default())
                .expect("invariant: a generated genesis lists each key once"),
        );
        bank.freeze();
        bank
    }

    /// The block a sequential leader makes of the transactions in slot 1 over
    /// [`genesis_bank`](Self::genesis_bank): every one that sanitizes, names only programs
    /// of `programs` and can be committed, in order, as one entry. A fixture for replay
    /// tests and comparisons (the pipeline makes blocks of many entries).
    pub fn sequential_block(&self, programs: &svm_lite::ProgramRegistry) -> crate::Block {
        let parent = self.genesis_bank();
        let bank = crate::Bank::new_from_parent(&parent, 1)
            .expect("invariant: slot 1 follows the frozen genesis");
        let transactions: Vec<crate::BufferedTransaction> = self
            .transactions
            .iter()
            .filter_map(|transaction| {
                sdk_lite::SanitizedTransaction::try_new(transaction.clone()).ok()
            })
            .filter(|transaction| {
                transaction
                    .instructions_iter()
                    .all(|(program, _)| programs.get(program).is_some())
            })
            .map(std::sync::Arc::new)
            .collect();
        let output = bank.load_and_execute(
            programs,
            &transactions,
            &svm_lite::ProcessingConfig::default(),
        );
        bank.commit(&transactions, &output)
            .expect("invariant: a fresh in-memory bank takes the commit");
        let committed = transactions
            .iter()
            .zip(&output.results)
            .filter(|(_, result)| result.is_ok())
            .map(|(transaction, _)| std::sync::Arc::clone(transaction))
            .collect();
        crate::Block {
            slot: 1,
            parent_hash: parent.hash().expect("invariant: genesis is frozen"),
            entries: vec![crate::Entry {
                transactions: committed,
            }],
            bank_hash: bank.freeze(),
        }
    }

    /// The total lamports of the genesis.
    pub fn genesis_lamports(&self) -> u64 {
        self.genesis
            .iter()
            .map(|(_, account)| sdk_lite::ReadableAccount::lamports(account))
            .sum()
    }

    /// How many transactions of `kind` it holds.
    pub fn count(&self, kind: TransactionKind) -> usize {
        self.kinds.iter().filter(|&&k| k == kind).count()
    }

    /// How many transactions the pipeline must drop.
    pub fn bad_count(&self) -> usize {
        self.kinds
            .iter()
            .filter(|kind| matches!(kind, TransactionKind::Bad(_)))
            .count()
    }
}

/// SplitMix64: tiny, fast, and fixed forever (a dependency's generator could change its
/// stream in a minor release and silently change every recorded workload).
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..bound` (bound > 0); the modulo bias is below 2^-40 for our bounds.
    fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        for chunk in out.chunks_mut(8) {
            let word = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        out
    }
}

/// A key derived from the seed, a role and an index: stable and collision-free in
/// practice.
fn derive_key(seed: u64, role: &str, index: u64) -> Pubkey {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&seed.to_le_bytes());
    hasher.update(role.as_bytes());
    hasher.update(&index.to_le_bytes());
    Pubkey::new_from_array(*hasher.finalize().as_bytes())
}

struct Generator<'a> {
    config: &'a WorkloadConfig,
    rng: SplitMix64,
    blockhash: Hash,
    zipf_cdf: Vec<f64>,
    genesis: Vec<(Pubkey, AccountSharedData)>,
    /// Indexes of the bench states created so far (each once).
    states: ahash::AHashSet<u64>,
    transactions: Vec<Transaction>,
    kinds: Vec<TransactionKind>,
    nonces: u64,
}

impl<'a> Generator<'a> {
    fn new(config: &'a WorkloadConfig, blockhash: Hash) -> Self {
        let zipf_cdf = match config.pattern {
            ConflictPattern::Zipf { accounts, exponent } => {
                let mut total = 0.0;
                let mut cdf: Vec<f64> = (1..=accounts.max(1))
                    .map(|rank| {
                        total += 1.0 / (rank as f64).powf(exponent);
                        total
                    })
                    .collect();
                for value in &mut cdf {
                    *value /= total;
                }
                cdf
            }
            _ => Vec::new(),
        };
        let mut generator = Self {
            config,
            rng: SplitMix64(config.seed),
            blockhash,
            zipf_cdf,
            genesis: Vec::new(),
            states: ahash::AHashSet::new(),
            transactions: Vec::with_capacity(config.transactions),
            kinds: Vec::with_capacity(config.transactions),
            nonces: 0,
        };
        match config.pattern {
            ConflictPattern::ReadMostly { shared } => {
                let rent = Rent::default().minimum_balance(0);
                for index in 0..shared as u64 {
                    let key = derive_key(config.seed, "shared", index);
                    generator
                        .genesis
                        .push((key, AccountSharedData::new(rent, 0, &system_program::ID)));
                }
            }
            ConflictPattern::ReadWrite { shared } => {
                // Bench states: the bench program writes them, and reads what they hold.
                let rent = Rent::default().minimum_balance(BENCH_STATE_LEN);
                for index in 0..shared as u64 {
                    let key = derive_key(config.seed, "shared", index);
                    let mut account =
                        AccountSharedData::new(rent, BENCH_STATE_LEN, &BENCH_PROGRAM_ID);
                    // Distinct contents, so that which one a transaction read shows.
                    account.data_as_mut_slice()[..8].copy_from_slice(&index.to_le_bytes());
                    generator.genesis.push((key, account));
                }
            }
            _ => {}
        }
        generator
    }

    fn run(mut self) -> Workload {
        let total_weight = self.config.mix.total().max(1);
        for index in 0..self.config.transactions as u64 {
            let payer = derive_key(self.config.seed, "payer", index);
            self.genesis.push((
                payer,
                AccountSharedData::new(PAYER_LAMPORTS, 0, &system_program::ID),
            ));
            let pick = self.rng.below(total_weight);
            let kind = self.kind(pick);
            let transaction = self.transaction(index, &payer, kind);
            self.transactions.push(transaction);
            self.kinds.push(kind);
        }
        Workload {
            genesis: self.genesis,
            transactions: self.transactions,
            kinds: self.kinds,
        }
    }

    /// The kind for `pick` in `0..total weight`: the weights laid end to end.
    fn kind(&mut self, pick: u64) -> TransactionKind {
        let mix = self.config.mix;
        let bands = [
            (mix.transfer, TransactionKind::Transfer),
            (mix.bench, TransactionKind::Bench),
            (mix.nonce, TransactionKind::Nonce),
            (mix.failing, TransactionKind::Failing),
        ];
        let mut start = 0u64;
        for (weight, kind) in bands {
            start += u64::from(weight);
            if pick < start {
                return kind;
            }
        }
        if mix.bad == 0 {
            return TransactionKind::Transfer;
        }
        TransactionKind::Bad(BAD_KINDS[self.rng.below(BAD_KINDS.len() as u64) as usize])
    }

    /// The index of the account transaction `index` writes.
    fn target_index(&mut self, index: u64) -> u64 {
        match self.config.pattern {
            ConflictPattern::None
            | ConflictPattern::ReadMostly { .. }
            | ConflictPattern::ReadWrite { .. } => index,
            ConflictPattern::Uniform { accounts } => self.rng.below(accounts.max(1) as u64),
            ConflictPattern::Zipf { .. } => {
                let u = self.rng.unit();
                self.zipf_cdf.partition_point(|&p| p < u) as u64
            }
            ConflictPattern::HotSpot {
                percent,
                hot_accounts,
            } => {
                if self.rng.below(100) < u64::from(percent) {
                    self.rng.below(hot_accounts.max(1) as u64)
                } else {
                    // Past the hot ones: each cold transaction its own account.
                    hot_accounts as u64 + index
                }
            }
            ConflictPattern::Chain => 0,
        }
    }

    /// The read-only accounts transaction `index` reads.
    fn reads(&mut self) -> Vec<AccountMeta> {
        let (ConflictPattern::ReadMostly { shared } | ConflictPattern::ReadWrite { shared }) =
            self.config.pattern
        else {
            return Vec::new();
        };
        let mut picked: Vec<u64> = Vec::with_capacity(READS_PER_TRANSACTION);
        while picked.len() < READS_PER_TRANSACTION.min(shared) {
            let candidate = self.rng.below(shared as u64);
            if !picked.contains(&candidate) {
                picked.push(candidate);
            }
        }
        picked
            .into_iter()
            .map(|i| AccountMeta::new_readonly(derive_key(self.config.seed, "shared", i), false))
            .collect()
    }

    /// The bench state account at `index`, created in genesis on first use.
    fn state(&mut self, index: u64) -> Pubkey {
        let key = derive_key(self.config.seed, "state", index);
        if self.states.insert(index) {
            let lamports = Rent::default().minimum_balance(BENCH_STATE_LEN);
            self.genesis.push((
                key,
                AccountSharedData::new(lamports, BENCH_STATE_LEN, &BENCH_PROGRAM_ID),
            ));
        }
        key
    }

    /// The two compute-budget instructions: a limit of `units` plus what the two
    /// themselves cost, and a random price.
    fn budget(&mut self, units: u32) -> [Instruction; 2] {
        let price = self.rng.below(self.config.max_price.saturating_add(1));
        let own_cost = 2 * COMPUTE_BUDGET_PROGRAM_COMPUTE_UNITS as u32;
        [
            compute_budget_instruction::set_compute_unit_limit(units.saturating_add(own_cost)),
            compute_budget_instruction::set_compute_unit_price(price),
        ]
    }

    fn sign(&mut self, message: Message) -> Transaction {
        let signatures = (0..message.header.num_required_signatures)
            .map(|_| Signature::from(self.rng.bytes::<64>()))
            .collect();
        Transaction {
            signatures,
            message,
        }
    }

    fn transaction(&mut self, index: u64, payer: &Pubkey, kind: TransactionKind) -> Transaction {
        // Transfers and the nonce advance cost the system program's units each; bench
        // work its units plus one write.
        let transfer_units = SYSTEM_PROGRAM_COMPUTE_UNITS as u32;
        match kind {
            TransactionKind::Transfer => {
                let target_index = self.target_index(index);
                let target = derive_key(self.config.seed, "target", target_index);
                let mut transfer = system_instruction::transfer(payer, &target, TRANSFER_LAMPORTS);
                transfer.accounts.extend(self.reads());
                let [limit, price] = self.budget(transfer_units);
                let message = Message::new(&[limit, price, transfer], Some(payer), self.blockhash);
                self.sign(message)
            }
            TransactionKind::Bench => {
                let target_index = self.target_index(index);
                let state = match self.config.pattern {
                    // One in four writes a shared account the others read.
                    ConflictPattern::ReadWrite { shared }
                        if shared > 0 && self.rng.below(4) == 0 =>
                    {
                        derive_key(self.config.seed, "shared", self.rng.below(shared as u64))
                    }
                    _ => self.state(target_index),
                };
                let units = self.config.bench_units;
                let mut work = BenchInstruction::Work { units }.to_instruction(&state);
                work.accounts.extend(self.reads());
                // Then a random value: the last writer wins, so the state depends on the
                // order conflicting transactions ran in (work alone would commute).
                let value = self.rng.next_u64();
                let write = BenchInstruction::Write { value }.to_instruction(&state);
                // The work hashes the shared accounts it reads when they hold data (the
                // read-write pattern's bench states), at a unit per byte.
                let input_units = match self.config.pattern {
                    ConflictPattern::ReadWrite { .. } => {
                        (READS_PER_TRANSACTION * BENCH_STATE_LEN) as u64 * UNITS_PER_INPUT_BYTE
                    }
                    _ => 0,
                };
                let [limit, price] = self.budget(
                    units
                        .saturating_add(UNITS_PER_HASH as u32)
                        .saturating_add(u32::try_from(input_units).unwrap_or(u32::MAX)),
                );
                let message =
                    Message::new(&[limit, price, work, write], Some(payer), self.blockhash);
                self.sign(message)
            }
            TransactionKind::Nonce => {
                let nonce = derive_key(self.config.seed, "nonce", self.nonces);
                self.nonces += 1;
                let durable_nonce = Hash::new_from_array(self.rng.bytes::<32>());
                let state = NonceState::Initialized {
                    authority: *payer,
                    durable_nonce,
                    lamports_per_signature: sdk_lite::DEFAULT_LAMPORTS_PER_SIGNATURE,
                };
                let lamports = Rent::default().minimum_balance(svm_lite::NONCE_ACCOUNT_LENGTH);
                self.genesis.push((
                    nonce,
                    AccountSharedData::new_data(
                        lamports,
                        state.to_data().to_vec(),
                        &system_program::ID,
                    ),
                ));
                let target_index = self.target_index(index);
                let target = derive_key(self.config.seed, "target", target_index);
                let advance = system_instruction::advance_nonce_account(&nonce, payer);
                let mut transfer = system_instruction::transfer(payer, &target, TRANSFER_LAMPORTS);
                transfer.accounts.extend(self.reads());
                let [limit, price] = self.budget(2 * transfer_units);
                // The advance must come first: it is what makes the nonce valid.
                let message = Message::new(
                    &[advance, limit, price, transfer],
                    Some(payer),
                    durable_nonce,
                );
                self.sign(message)
            }
            TransactionKind::Failing => {
                let target_index = self.target_index(index);
                let state = self.state(target_index);
                let fail = BenchInstruction::Fail { code: 7 }.to_instruction(&state);
                let [limit, price] = self.budget(transfer_units);
                let message = Message::new(&[limit, price, fail], Some(payer), self.blockhash);
                self.sign(message)
            }
            TransactionKind::Bad(bad) => self.bad(index, payer, bad),
        }
    }

    fn bad(&mut self, index: u64, payer: &Pubkey, bad: BadKind) -> Transaction {
        let target = derive_key(self.config.seed, "bad-target", index);
        let transfer = system_instruction::transfer(payer, &target, TRANSFER_LAMPORTS);
        match bad {
            BadKind::Malformed => {
                let mut message = Message::new(&[transfer], Some(payer), self.blockhash);
                message.instructions[0].program_id_index = u8::MAX;
                self.sign(message)
            }
            BadKind::Unsigned => {
                let mut message = Message::new(&[transfer], Some(payer), self.blockhash);
                message.header.num_required_signatures = 0;
                self.sign(message)
            }
            BadKind::DuplicateAccount => {
                let mut message = Message::new(&[transfer], Some(payer), self.blockhash);
                let duplicate = message.account_keys[1];
                message.account_keys.push(duplicate);
                message.header.num_readonly_unsigned_accounts += 1;
                self.sign(message)
            }
            BadKind::TooManyAccounts => {
                let mut transfer = transfer;
                transfer
                    .accounts
                    .extend((0..sdk_lite::MAX_TX_ACCOUNT_LOCKS as u64).map(|i| {
                        AccountMeta::new_readonly(derive_key(self.config.seed, "many", i), false)
                    }));
                let message = Message::new(&[transfer], Some(payer), self.blockhash);
                self.sign(message)
            }
            BadKind::UnknownProgram => {
                let unknown = Instruction::new_with_bytes(
                    derive_key(self.config.seed, "unknown-program", 0),
                    &[1, 2, 3],
                    vec![AccountMeta::new(target, false)],
                );
                let message = Message::new(&[unknown], Some(payer), self.blockhash);
                self.sign(message)
            }
            BadKind::AlreadyProcessed => match self.transactions.iter().rev().find(|_| true) {
                // A copy of the previous transaction: the second of the two to run is
                // refused (if the previous one is itself dropped, this copy may commit in
                // its place; tests count outcomes, not kinds, for that reason).
                Some(previous) => previous.clone(),
                None => {
                    let mut message = Message::new(&[transfer], Some(payer), self.blockhash);
                    message.instructions[0].program_id_index = u8::MAX;
                    self.sign(message)
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pattern: ConflictPattern) -> WorkloadConfig {
        WorkloadConfig {
            transactions: 2_000,
            pattern,
            ..WorkloadConfig::default()
        }
    }

    #[test]
    fn the_same_config_gives_the_same_workload() {
        let a = Workload::generate(&config(ConflictPattern::None));
        let b = Workload::generate(&config(ConflictPattern::None));
        assert_eq!(a.transactions, b.transactions);
        assert_eq!(a.genesis, b.genesis);
        let other = Workload::generate(&WorkloadConfig {
            seed: 43,
            ..config(ConflictPattern::None)
        });
        assert_ne!(a.transactions, other.transactions);
    }

    #[test]
    fn patterns_round_trip_through_text() {
        for pattern in ConflictPattern::all() {
            assert_eq!(pattern.to_string().parse::<ConflictPattern>(), Ok(pattern));
        }
        assert_eq!(
            "hotspot".parse(),
            Ok(ConflictPattern::HotSpot {
                percent: 50,
                hot_accounts: 4
            })
        );
        for bad in [
            "",
            "zipf:0",
            "hotspot:101",
            "chain:3",
            "uniform:x",
            "zipf:10:-1",
        ] {
            assert!(bad.parse::<ConflictPattern>().is_err(), "{bad:?}");
        }
    }

    /// Writes per account, most written first.
    fn write_counts(workload: &Workload) -> Vec<usize> {
        let mut counts = ahash::AHashMap::new();
        for transaction in &workload.transactions {
            let Ok(sanitized) = sdk_lite::SanitizedTransaction::try_new(transaction.clone()) else {
                continue;
            };
            for (key, writable) in sanitized.lock_requests() {
                if writable {
                    *counts.entry(*key).or_insert(0) += 1;
                }
            }
        }
        let mut counts: Vec<usize> = counts.into_values().collect();
        counts.sort_unstable_by(|a, b| b.cmp(a));
        counts
    }

    #[test]
    fn patterns_shape_the_conflicts() {
        let only = |pattern| {
            Workload::generate(&WorkloadConfig {
                mix: TransactionMix::TRANSFERS,
                ..config(pattern)
            })
        };
        assert_eq!(write_counts(&only(ConflictPattern::None))[0], 1);
        assert_eq!(write_counts(&only(ConflictPattern::Chain))[0], 2_000);
        let zipf = write_counts(&only(ConflictPattern::Zipf {
            accounts: 1_000,
            exponent: 1.1,
        }));
        // Zipf(1.1) over 1,000 accounts: the top account draws about 1/H(1000, 1.1) of
        // the transactions, roughly 19%.
        assert!((250..500).contains(&zipf[0]), "{}", zipf[0]);
        let hot = write_counts(&only(ConflictPattern::HotSpot {
            percent: 40,
            hot_accounts: 2,
        }));
        let hot_total = hot[0] + hot[1];
        assert!((700..900).contains(&hot_total), "{hot_total}");
        assert_eq!(hot[2], 1, "cold transactions write their own accounts");
    }

    #[test]
    fn read_write_bench_transactions_write_a_shared_account_one_time_in_four() {
        let shared = 8;
        let workload = Workload::generate(&WorkloadConfig {
            mix: TransactionMix::BENCH,
            ..config(ConflictPattern::ReadWrite { shared })
        });
        let shared_keys: Vec<Pubkey> = (0..shared as u64)
            .map(|index| derive_key(WorkloadConfig::default().seed, "shared", index))
            .collect();
        let writers = workload
            .transactions
            .iter()
            .filter(|transaction| {
                let message = &transaction.message;
                message
                    .account_keys
                    .iter()
                    .enumerate()
                    .any(|(index, key)| shared_keys.contains(key) && message.is_writable(index))
            })
            .count();
        assert!((400..600).contains(&writers), "{writers} of 2,000");
        // No shared account at all: nobody reads or writes one, and nothing panics.
        let none = Workload::generate(&config(ConflictPattern::ReadWrite { shared: 0 }));
        assert_eq!(none.transactions.len(), 2_000);
    }

    #[test]
    fn the_mix_is_respected() {
        let workload = Workload::generate(&config(ConflictPattern::None));
        let share = |kind| workload.count(kind) as f64 / 2_000.0;
        assert!((0.45..0.55).contains(&share(TransactionKind::Transfer)));
        assert!((0.25..0.35).contains(&share(TransactionKind::Bench)));
        assert!((0.07..0.13).contains(&share(TransactionKind::Failing)));
        assert!((0.03..0.07).contains(&(workload.bad_count() as f64 / 2_000.0)));
    }
}
