//! The system program: creates accounts, moves lamports, assigns owners, allocates data,
//! and manages durable-nonce accounts.

use sdk_lite::{
    AccountMeta, Instruction, InstructionError, MAX_PERMITTED_DATA_LENGTH, Pubkey, ReadableAccount,
    WritableAccount, system_program,
};

use crate::instruction_context::InstructionContext;
use crate::nonce_state::{NONCE_ACCOUNT_LENGTH, NonceState, durable_nonce_from_blockhash};
use crate::program::Program;

/// Compute units a system instruction costs (Agave's system program charges 150).
pub const SYSTEM_PROGRAM_COMPUTE_UNITS: u64 = 150;

/// The system program's errors, as `InstructionError::Custom` codes (Solana's numbering).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum SystemError {
    /// The account to create already exists (has lamports, data or another owner).
    AccountAlreadyInUse = 0,
    /// The source does not hold the lamports to move.
    ResultWithNegativeLamports = 1,
    /// Space beyond `MAX_PERMITTED_DATA_LENGTH`.
    InvalidAccountDataLength = 3,
    /// The nonce was already advanced with the current blockhash.
    NonceBlockhashNotExpired = 7,
}

impl From<SystemError> for InstructionError {
    fn from(error: SystemError) -> Self {
        InstructionError::Custom(error as u32)
    }
}

/// The system program's instructions, in Solana's wire layout: a little-endian `u32` tag,
/// then the fields (`u64`s little-endian, keys as 32 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemInstruction {
    /// Creates account 1, funded by account 0 (both sign): `lamports`, `space` zeroed bytes,
    /// owned by `owner`.
    CreateAccount {
        /// Lamports moved into the new account.
        lamports: u64,
        /// Bytes of data it gets.
        space: u64,
        /// Its owner.
        owner: Pubkey,
    },
    /// Gives account 0 (signing, empty or zeroed) a new owner.
    Assign {
        /// The new owner.
        owner: Pubkey,
    },
    /// Moves `lamports` from account 0 (signing, system-owned, no data) to account 1.
    Transfer {
        /// Lamports to move.
        lamports: u64,
    },
    /// Gives account 0 (signing, system-owned, no data yet) `space` zeroed bytes.
    Allocate {
        /// Bytes of data.
        space: u64,
    },
    /// Advances nonce account 0 to the durable nonce of the current blockhash; account 1,
    /// the nonce's authority, signs. (Solana also lists the recent-blockhashes sysvar; here
    /// the blockhash comes from the environment.)
    AdvanceNonceAccount,
    /// Withdraws `lamports` from nonce account 0 to account 1; account 2, the authority,
    /// signs. What stays must keep the account rent-exempt, unless everything is withdrawn
    /// (then the nonce must not have been advanced in this slot).
    WithdrawNonceAccount {
        /// Lamports to withdraw.
        lamports: u64,
    },
    /// Initializes nonce account 0 (system-owned, 80 zeroed bytes, rent-exempt) with
    /// `authority` and the current durable nonce.
    InitializeNonceAccount {
        /// Who may advance, withdraw and re-authorize.
        authority: Pubkey,
    },
    /// Hands nonce account 0 to a new authority; account 1, the current one, signs.
    AuthorizeNonceAccount {
        /// The new authority.
        authority: Pubkey,
    },
}

const CREATE_ACCOUNT: u32 = 0;
const ASSIGN: u32 = 1;
const TRANSFER: u32 = 2;
const ADVANCE_NONCE_ACCOUNT: u32 = 4;
const WITHDRAW_NONCE_ACCOUNT: u32 = 5;
const INITIALIZE_NONCE_ACCOUNT: u32 = 6;
const AUTHORIZE_NONCE_ACCOUNT: u32 = 7;
const ALLOCATE: u32 = 8;

impl SystemInstruction {
    /// Reads an instruction's data, or `None` if it is not a (supported) system
    /// instruction.
    pub fn decode(data: &[u8]) -> Option<Self> {
        let (tag, rest) = data.split_first_chunk::<4>()?;
        match (u32::from_le_bytes(*tag), rest.len()) {
            (CREATE_ACCOUNT, 48) => Some(Self::CreateAccount {
                lamports: read_u64(rest, 0),
                space: read_u64(rest, 8),
                owner: read_key(rest, 16),
            }),
            (ASSIGN, 32) => Some(Self::Assign {
                owner: read_key(rest, 0),
            }),
            (TRANSFER, 8) => Some(Self::Transfer {
                lamports: read_u64(rest, 0),
            }),
            (ALLOCATE, 8) => Some(Self::Allocate {
                space: read_u64(rest, 0),
            }),
            (ADVANCE_NONCE_ACCOUNT, 0) => Some(Self::AdvanceNonceAccount),
            (WITHDRAW_NONCE_ACCOUNT, 8) => Some(Self::WithdrawNonceAccount {
                lamports: read_u64(rest, 0),
            }),
            (INITIALIZE_NONCE_ACCOUNT, 32) => Some(Self::InitializeNonceAccount {
                authority: read_key(rest, 0),
            }),
            (AUTHORIZE_NONCE_ACCOUNT, 32) => Some(Self::AuthorizeNonceAccount {
                authority: read_key(rest, 0),
            }),
            _ => None,
        }
    }

    /// The instruction's data.
    pub fn encode(&self) -> Vec<u8> {
        let mut data = Vec::with_capacity(52);
        match self {
            Self::CreateAccount {
                lamports,
                space,
                owner,
            } => {
                data.extend_from_slice(&CREATE_ACCOUNT.to_le_bytes());
                data.extend_from_slice(&lamports.to_le_bytes());
                data.extend_from_slice(&space.to_le_bytes());
                data.extend_from_slice(owner.as_ref());
            }
            Self::Assign { owner } => {
                data.extend_from_slice(&ASSIGN.to_le_bytes());
                data.extend_from_slice(owner.as_ref());
            }
            Self::Transfer { lamports } => {
                data.extend_from_slice(&TRANSFER.to_le_bytes());
                data.extend_from_slice(&lamports.to_le_bytes());
            }
            Self::Allocate { space } => {
                data.extend_from_slice(&ALLOCATE.to_le_bytes());
                data.extend_from_slice(&space.to_le_bytes());
            }
            Self::AdvanceNonceAccount => {
                data.extend_from_slice(&ADVANCE_NONCE_ACCOUNT.to_le_bytes());
            }
            Self::WithdrawNonceAccount { lamports } => {
                data.extend_from_slice(&WITHDRAW_NONCE_ACCOUNT.to_le_bytes());
                data.extend_from_slice(&lamports.to_le_bytes());
            }
            Self::InitializeNonceAccount { authority } => {
                data.extend_from_slice(&INITIALIZE_NONCE_ACCOUNT.to_le_bytes());
                data.extend_from_slice(authority.as_ref());
            }
            Self::AuthorizeNonceAccount { authority } => {
                data.extend_from_slice(&AUTHORIZE_NONCE_ACCOUNT.to_le_bytes());
                data.extend_from_slice(authority.as_ref());
            }
        }
        data
    }
}

fn read_u64(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

fn read_key(bytes: &[u8], at: usize) -> Pubkey {
    let mut key = [0u8; 32];
    key.copy_from_slice(&bytes[at..at + 32]);
    Pubkey::new_from_array(key)
}

/// Instruction builders (for clients and tests).
pub mod instruction {
    use super::*;

    /// Moves `lamports` from `from` to `to`.
    pub fn transfer(from: &Pubkey, to: &Pubkey, lamports: u64) -> Instruction {
        Instruction::new_with_bytes(
            system_program::ID,
            &SystemInstruction::Transfer { lamports }.encode(),
            vec![AccountMeta::new(*from, true), AccountMeta::new(*to, false)],
        )
    }

    /// Creates `to` with `lamports`, `space` bytes and `owner`, funded by `from`.
    pub fn create_account(
        from: &Pubkey,
        to: &Pubkey,
        lamports: u64,
        space: u64,
        owner: &Pubkey,
    ) -> Instruction {
        Instruction::new_with_bytes(
            system_program::ID,
            &SystemInstruction::CreateAccount {
                lamports,
                space,
                owner: *owner,
            }
            .encode(),
            vec![AccountMeta::new(*from, true), AccountMeta::new(*to, true)],
        )
    }

    /// Gives `account` the owner `owner`.
    pub fn assign(account: &Pubkey, owner: &Pubkey) -> Instruction {
        Instruction::new_with_bytes(
            system_program::ID,
            &SystemInstruction::Assign { owner: *owner }.encode(),
            vec![AccountMeta::new(*account, true)],
        )
    }

    /// Gives `account` `space` zeroed bytes.
    pub fn allocate(account: &Pubkey, space: u64) -> Instruction {
        Instruction::new_with_bytes(
            system_program::ID,
            &SystemInstruction::Allocate { space }.encode(),
            vec![AccountMeta::new(*account, true)],
        )
    }

    /// Advances `nonce`, signed by `authority`: the first instruction of a durable
    /// transaction.
    pub fn advance_nonce_account(nonce: &Pubkey, authority: &Pubkey) -> Instruction {
        Instruction::new_with_bytes(
            system_program::ID,
            &SystemInstruction::AdvanceNonceAccount.encode(),
            vec![
                AccountMeta::new(*nonce, false),
                AccountMeta::new_readonly(*authority, true),
            ],
        )
    }

    /// Withdraws `lamports` from `nonce` to `to`, signed by `authority`.
    pub fn withdraw_nonce_account(
        nonce: &Pubkey,
        authority: &Pubkey,
        to: &Pubkey,
        lamports: u64,
    ) -> Instruction {
        Instruction::new_with_bytes(
            system_program::ID,
            &SystemInstruction::WithdrawNonceAccount { lamports }.encode(),
            vec![
                AccountMeta::new(*nonce, false),
                AccountMeta::new(*to, false),
                AccountMeta::new_readonly(*authority, true),
            ],
        )
    }

    /// Creates `nonce` (funded by `from`) and initializes it with `authority`.
    pub fn create_nonce_account(
        from: &Pubkey,
        nonce: &Pubkey,
        authority: &Pubkey,
        lamports: u64,
    ) -> [Instruction; 2] {
        [
            create_account(
                from,
                nonce,
                lamports,
                NONCE_ACCOUNT_LENGTH as u64,
                &system_program::ID,
            ),
            Instruction::new_with_bytes(
                system_program::ID,
                &SystemInstruction::InitializeNonceAccount {
                    authority: *authority,
                }
                .encode(),
                vec![AccountMeta::new(*nonce, false)],
            ),
        ]
    }

    /// Hands `nonce` from `authority` to `new_authority`.
    pub fn authorize_nonce_account(
        nonce: &Pubkey,
        authority: &Pubkey,
        new_authority: &Pubkey,
    ) -> Instruction {
        Instruction::new_with_bytes(
            system_program::ID,
            &SystemInstruction::AuthorizeNonceAccount {
                authority: *new_authority,
            }
            .encode(),
            vec![
                AccountMeta::new(*nonce, false),
                AccountMeta::new_readonly(*authority, true),
            ],
        )
    }
}

/// The system program.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemProgram;

impl Program for SystemProgram {
    fn execute(&self, cx: &mut InstructionContext<'_>) -> Result<(), InstructionError> {
        cx.consume_compute_units(SYSTEM_PROGRAM_COMPUTE_UNITS)?;
        let instruction =
            SystemInstruction::decode(cx.data()).ok_or(InstructionError::InvalidInstructionData)?;
        match instruction {
            SystemInstruction::Transfer { lamports } => transfer(cx, 0, 1, lamports),
            SystemInstruction::CreateAccount {
                lamports,
                space,
                owner,
            } => {
                require_signer(cx, 1)?;
                let to = cx.account(1)?;
                if to.lamports() > 0 || !to.data().is_empty() || *to.owner() != system_program::ID {
                    return Err(SystemError::AccountAlreadyInUse.into());
                }
                transfer(cx, 0, 1, lamports)?;
                allocate(cx, 1, space)?;
                cx.account_mut(1)?.set_owner(owner);
                Ok(())
            }
            SystemInstruction::Assign { owner } => {
                require_signer(cx, 0)?;
                if *cx.account(0)?.owner() != owner {
                    cx.account_mut(0)?.set_owner(owner);
                }
                Ok(())
            }
            SystemInstruction::Allocate { space } => allocate(cx, 0, space),
            SystemInstruction::AdvanceNonceAccount => advance_nonce(cx),
            SystemInstruction::WithdrawNonceAccount { lamports } => withdraw_nonce(cx, lamports),
            SystemInstruction::InitializeNonceAccount { authority } => {
                initialize_nonce(cx, authority)
            }
            SystemInstruction::AuthorizeNonceAccount { authority } => {
                let (current, durable_nonce, lamports_per_signature) = initialized_nonce(cx)?;
                require_authority(cx, 1, &current)?;
                write_nonce(
                    cx,
                    NonceState::Initialized {
                        authority,
                        durable_nonce,
                        lamports_per_signature,
                    },
                )
            }
        }
    }
}

/// Nonce account 0's state, which must be initialized.
fn initialized_nonce(
    cx: &InstructionContext<'_>,
) -> Result<(Pubkey, sdk_lite::Hash, u64), InstructionError> {
    match NonceState::from_data(cx.account(0)?.data()) {
        Some(NonceState::Initialized {
            authority,
            durable_nonce,
            lamports_per_signature,
        }) => Ok((authority, durable_nonce, lamports_per_signature)),
        _ => Err(InstructionError::InvalidAccountData),
    }
}

/// Account `index` must be `authority` and sign.
fn require_authority(
    cx: &InstructionContext<'_>,
    index: usize,
    authority: &Pubkey,
) -> Result<(), InstructionError> {
    if cx.key(index)? != authority || !cx.is_signer(index)? {
        return Err(InstructionError::MissingRequiredSignature);
    }
    Ok(())
}

fn write_nonce(cx: &mut InstructionContext<'_>, state: NonceState) -> Result<(), InstructionError> {
    cx.account_mut(0)?.set_data_from_slice(&state.to_data());
    Ok(())
}

fn advance_nonce(cx: &mut InstructionContext<'_>) -> Result<(), InstructionError> {
    let (authority, durable_nonce, _) = initialized_nonce(cx)?;
    require_authority(cx, 1, &authority)?;
    let next = durable_nonce_from_blockhash(&cx.environment().blockhash);
    if next == durable_nonce {
        return Err(SystemError::NonceBlockhashNotExpired.into());
    }
    let lamports_per_signature = cx.environment().lamports_per_signature;
    write_nonce(
        cx,
        NonceState::Initialized {
            authority,
            durable_nonce: next,
            lamports_per_signature,
        },
    )
}

fn withdraw_nonce(cx: &mut InstructionContext<'_>, lamports: u64) -> Result<(), InstructionError> {
    let balance = cx.account(0)?.lamports();
    let state =
        NonceState::from_data(cx.account(0)?.data()).ok_or(InstructionError::InvalidAccountData)?;
    match state {
        // An uninitialized nonce account is its own authority.
        NonceState::Uninitialized => {
            let own_key = *cx.key(0)?;
            require_authority(cx, 0, &own_key)?;
        }
        NonceState::Initialized {
            authority,
            durable_nonce,
            ..
        } => {
            require_authority(cx, 2, &authority)?;
            if lamports == balance {
                // Closing: only once the nonce can no longer be used in this slot.
                if durable_nonce == durable_nonce_from_blockhash(&cx.environment().blockhash) {
                    return Err(SystemError::NonceBlockhashNotExpired.into());
                }
                write_nonce(cx, NonceState::Uninitialized)?;
            } else {
                let minimum = cx.environment().rent.minimum_balance(NONCE_ACCOUNT_LENGTH);
                if balance
                    .checked_sub(lamports)
                    .is_none_or(|left| left < minimum)
                {
                    return Err(InstructionError::InsufficientFunds);
                }
            }
        }
    }
    let left = balance
        .checked_sub(lamports)
        .ok_or(InstructionError::InsufficientFunds)?;
    cx.account_mut(0)?.set_lamports(left);
    cx.account_mut(1)?.checked_add_lamports(lamports)?;
    Ok(())
}

fn initialize_nonce(
    cx: &mut InstructionContext<'_>,
    authority: Pubkey,
) -> Result<(), InstructionError> {
    if NonceState::from_data(cx.account(0)?.data()) != Some(NonceState::Uninitialized) {
        return Err(InstructionError::InvalidAccountData);
    }
    let minimum = cx.environment().rent.minimum_balance(NONCE_ACCOUNT_LENGTH);
    if cx.account(0)?.lamports() < minimum {
        return Err(InstructionError::InsufficientFunds);
    }
    let state = NonceState::Initialized {
        authority,
        durable_nonce: durable_nonce_from_blockhash(&cx.environment().blockhash),
        lamports_per_signature: cx.environment().lamports_per_signature,
    };
    write_nonce(cx, state)
}

fn require_signer(cx: &InstructionContext<'_>, index: usize) -> Result<(), InstructionError> {
    if cx.is_signer(index)? {
        Ok(())
    } else {
        Err(InstructionError::MissingRequiredSignature)
    }
}

fn transfer(
    cx: &mut InstructionContext<'_>,
    from: usize,
    to: usize,
    lamports: u64,
) -> Result<(), InstructionError> {
    require_signer(cx, from)?;
    if !cx.account(from)?.data().is_empty() {
        // A system transfer may only move lamports out of a plain account.
        return Err(InstructionError::InvalidArgument);
    }
    let from_lamports = cx.account(from)?.lamports();
    let left = from_lamports
        .checked_sub(lamports)
        .ok_or(SystemError::ResultWithNegativeLamports)?;
    cx.account_mut(from)?.set_lamports(left);
    cx.account_mut(to)?.checked_add_lamports(lamports)?;
    Ok(())
}

fn allocate(
    cx: &mut InstructionContext<'_>,
    index: usize,
    space: u64,
) -> Result<(), InstructionError> {
    require_signer(cx, index)?;
    let account = cx.account(index)?;
    if !account.data().is_empty() || *account.owner() != system_program::ID {
        return Err(SystemError::AccountAlreadyInUse.into());
    }
    if space > MAX_PERMITTED_DATA_LENGTH {
        return Err(SystemError::InvalidAccountDataLength.into());
    }
    let space = usize::try_from(space).map_err(|_| SystemError::InvalidAccountDataLength)?;
    cx.account_mut(index)?.resize(space, 0);
    Ok(())
}
