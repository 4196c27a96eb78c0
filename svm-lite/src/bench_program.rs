//! The bench program: deterministic, metered work for realistic workloads (burn compute
//! units on a hash chain, write a value, or fail on request).

use sdk_lite::{
    AccountMeta, Instruction, InstructionError, Pubkey, ReadableAccount, WritableAccount,
};

use crate::instruction_context::InstructionContext;
use crate::program::Program;

/// The bench program's id.
pub const BENCH_PROGRAM_ID: Pubkey =
    Pubkey::new_from_array(*b"bench-program-lite-111111111111\x01");

/// Compute units one link of the hash chain costs (one blake3 of 32 bytes: roughly 100 ns
/// on current CPUs, so about 1 unit per nanosecond of work).
pub const UNITS_PER_HASH: u64 = 100;

/// Compute units per byte of input a `Work` instruction hashes (blake3 hashes about a
/// byte a nanosecond on current CPUs, as [`UNITS_PER_HASH`] assumes of a hash).
pub const UNITS_PER_INPUT_BYTE: u64 = 1;

/// Bytes of a bench state account: the chain's last hash (32), then the last value written
/// (`u64`, little-endian).
pub const BENCH_STATE_LEN: usize = 40;

/// The bench program's instructions. Account 0 is the state account: owned by the bench
/// program, writable, at least [`BENCH_STATE_LEN`] bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BenchInstruction {
    /// Consumes `units` compute units, hashing the state's hash `units / UNITS_PER_HASH`
    /// times and storing the result. The instruction's other accounts are inputs: when any
    /// of them holds data, the state's hash is first replaced by the hash of itself and
    /// their data (each distinct account once, the state itself not, at
    /// [`UNITS_PER_INPUT_BYTE`] more), so what the work reads shapes what it writes (and
    /// the order in which the writers and the readers of an account run shows in the
    /// result).
    Work {
        /// Compute units to burn.
        units: u32,
    },
    /// Stores `value`.
    Write {
        /// The value.
        value: u64,
    },
    /// Fails with `InstructionError::Custom(code)`.
    Fail {
        /// The error code.
        code: u32,
    },
}

impl BenchInstruction {
    /// Reads an instruction's data: a one-byte tag (0 work, 1 write, 2 fail), then the
    /// little-endian argument.
    pub fn decode(data: &[u8]) -> Option<Self> {
        let (&tag, rest) = data.split_first()?;
        match tag {
            0 => Some(Self::Work {
                units: u32::from_le_bytes(rest.try_into().ok()?),
            }),
            1 => Some(Self::Write {
                value: u64::from_le_bytes(rest.try_into().ok()?),
            }),
            2 => Some(Self::Fail {
                code: u32::from_le_bytes(rest.try_into().ok()?),
            }),
            _ => None,
        }
    }

    /// The instruction's data.
    pub fn encode(&self) -> Vec<u8> {
        let mut data = Vec::with_capacity(9);
        match self {
            Self::Work { units } => {
                data.push(0);
                data.extend_from_slice(&units.to_le_bytes());
            }
            Self::Write { value } => {
                data.push(1);
                data.extend_from_slice(&value.to_le_bytes());
            }
            Self::Fail { code } => {
                data.push(2);
                data.extend_from_slice(&code.to_le_bytes());
            }
        }
        data
    }

    /// This instruction on the state account `state`.
    pub fn to_instruction(&self, state: &Pubkey) -> Instruction {
        Instruction::new_with_bytes(
            BENCH_PROGRAM_ID,
            &self.encode(),
            vec![AccountMeta::new(*state, false)],
        )
    }
}

/// The bench program.
#[derive(Debug, Default, Clone, Copy)]
pub struct BenchProgram;

impl Program for BenchProgram {
    fn execute(&self, cx: &mut InstructionContext<'_>) -> Result<(), InstructionError> {
        let instruction =
            BenchInstruction::decode(cx.data()).ok_or(InstructionError::InvalidInstructionData)?;
        if let BenchInstruction::Fail { code } = instruction {
            return Err(InstructionError::Custom(code));
        }
        if cx.account(0)?.owner() != cx.program_id() {
            return Err(InstructionError::IncorrectProgramId);
        }
        if cx.account(0)?.data().len() < BENCH_STATE_LEN {
            return Err(InstructionError::AccountDataTooSmall);
        }
        match instruction {
            BenchInstruction::Work { units } => {
                cx.consume_compute_units(u64::from(units))?;
                cx.log(|| format!("bench: {units} units of work"));
                let mut state = [0u8; 32];
                state.copy_from_slice(&cx.account(0)?.data()[..32]);
                // The distinct input accounts holding data, in order: an account listed
                // twice (or the state listed again) is read once.
                let mut inputs: Vec<usize> = Vec::new();
                for index in 1..cx.num_accounts() {
                    let key = cx.key(index)?;
                    let seen = cx.key(0)? == key
                        || inputs
                            .iter()
                            .any(|&earlier| cx.key(earlier).is_ok_and(|other| other == key));
                    if !seen && !cx.account(index)?.data().is_empty() {
                        inputs.push(index);
                    }
                }
                if !inputs.is_empty() {
                    let mut bytes = 0u64;
                    for &index in &inputs {
                        bytes += cx.account(index)?.data().len() as u64;
                    }
                    cx.consume_compute_units(bytes.saturating_mul(UNITS_PER_INPUT_BYTE))?;
                    let mut hasher = blake3::Hasher::new();
                    hasher.update(&state);
                    for &index in &inputs {
                        hasher.update(cx.account(index)?.data());
                    }
                    state = *hasher.finalize().as_bytes();
                }
                for _ in 0..u64::from(units) / UNITS_PER_HASH {
                    state = *blake3::hash(&state).as_bytes();
                }
                cx.account_mut(0)?.data_as_mut_slice()[..32].copy_from_slice(&state);
            }
            BenchInstruction::Write { value } => {
                cx.consume_compute_units(UNITS_PER_HASH)?;
                cx.account_mut(0)?.data_as_mut_slice()[32..40]
                    .copy_from_slice(&value.to_le_bytes());
            }
            BenchInstruction::Fail { .. } => unreachable!("handled above"),
        }
        Ok(())
    }
}
