//! `Rent`: the balance an account must keep to exist, by its data size.

/// Bytes charged for every account on top of its data (Solana's account storage overhead).
pub const ACCOUNT_STORAGE_OVERHEAD: u64 = 128;

/// Rent parameters. An account is *rent-exempt* (allowed to exist) when it holds at least
/// [`minimum_balance`](Self::minimum_balance) for its size; an account with no lamports
/// does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rent {
    /// Lamports per byte per year (Solana: 3,480).
    pub lamports_per_byte_year: u64,
    /// Years of rent an exempt account must hold (Solana: 2).
    pub exemption_threshold_years: u64,
}

impl Default for Rent {
    /// Solana's parameters: 3,480 lamports per byte-year, 2 years.
    fn default() -> Self {
        Self {
            lamports_per_byte_year: 3_480,
            exemption_threshold_years: 2,
        }
    }
}

impl Rent {
    /// The least an account with `data_len` bytes must hold: (overhead + size) x rate x
    /// years. Saturates at `u64::MAX` (no account can hold that much, so it is never
    /// exempt).
    pub fn minimum_balance(&self, data_len: usize) -> u64 {
        let bytes = u64::try_from(data_len)
            .unwrap_or(u64::MAX)
            .saturating_add(ACCOUNT_STORAGE_OVERHEAD);
        bytes
            .saturating_mul(self.lamports_per_byte_year)
            .saturating_mul(self.exemption_threshold_years)
    }

    /// Whether `lamports` keep an account of `data_len` bytes alive.
    pub fn is_exempt(&self, lamports: u64, data_len: usize) -> bool {
        lamports >= self.minimum_balance(data_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solana_defaults() {
        let rent = Rent::default();
        assert_eq!(rent.minimum_balance(0), 890_880);
        assert_eq!(rent.minimum_balance(80), 1_447_680);
        assert!(rent.is_exempt(890_880, 0));
        assert!(!rent.is_exempt(890_879, 0));
    }

    #[test]
    fn huge_sizes_saturate() {
        assert_eq!(Rent::default().minimum_balance(usize::MAX), u64::MAX);
    }
}
