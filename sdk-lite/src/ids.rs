//! Well-known program ids, as `ID` constants in one module per program (Solana's layout).

/// The system program: creates accounts, transfers lamports, assigns owners.
pub mod system_program {
    use crate::Pubkey;

    /// The system program's id: all-zero bytes, base58 `11111111111111111111111111111111`.
    /// Accounts it owns are the ones that can pay fees.
    pub const ID: Pubkey = Pubkey::new_from_array([0; 32]);
}

/// The compute budget program: instructions that set a transaction's compute unit limit,
/// price and loaded-data limit. It is never executed; the runtime reads its instructions.
pub mod compute_budget {
    use crate::Pubkey;

    /// The compute budget program's id, base58
    /// `ComputeBudget111111111111111111111111111111`. Written as bytes so that it stays a
    /// `const`; a test checks the base58.
    pub const ID: Pubkey = Pubkey::new_from_array([
        3, 6, 70, 111, 229, 33, 23, 50, 255, 236, 173, 186, 114, 195, 155, 231, 188, 140, 229, 187,
        197, 247, 18, 107, 44, 67, 155, 58, 64, 0, 0, 0,
    ]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_match_their_base58_names() {
        assert_eq!(
            system_program::ID.to_string(),
            "11111111111111111111111111111111"
        );
        assert_eq!(
            compute_budget::ID.to_string(),
            "ComputeBudget111111111111111111111111111111"
        );
        assert_eq!(
            "ComputeBudget111111111111111111111111111111".parse(),
            Ok(compute_budget::ID)
        );
    }
}
