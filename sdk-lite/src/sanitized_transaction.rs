//! [`SanitizedTransaction`]: a transaction that passed every sanitize rule, with its
//! write locks precomputed, and [`LockRequests`], the iterator schedulers lock with.

use std::iter::FusedIterator;

use crate::{
    CompiledInstruction, Hash, MAX_TX_ACCOUNT_LOCKS, Message, Pubkey, SanitizeError, Signature,
    Transaction, sanitize::sanitize,
};

/// A transaction that passed every sanitize rule (see the crate docs), so that every
/// index in it is in range, it has a writable signing fee payer, at most
/// [`MAX_TX_ACCOUNT_LOCKS`] keys and no duplicate key.
///
/// The only constructor is [`SanitizedTransaction::try_new`] (or `TryFrom`), and the
/// fields are private, so the invariants hold for the value's whole life: accessors index
/// without checks and return no `Option`.
///
/// Writability is computed once, at construction: the header's rule
/// ([`Message::is_writable`]), except that a key invoked as a program by any instruction
/// is demoted to read-only, as in Agave. Schedulers and lock tables read it through
/// [`SanitizedTransaction::lock_requests`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SanitizedTransaction {
    transaction: Transaction,
    /// Bit `i` is set iff account key `i` is write-locked. One `u128` suffices because
    /// sanitizing caps the keys at `MAX_TX_ACCOUNT_LOCKS` (asserted below).
    writable: u128,
}

const _: () = assert!(MAX_TX_ACCOUNT_LOCKS <= u128::BITS as usize);

/// The bitmap bit of key `index`; 0 past the bitmap (unreachable after sanitizing).
fn bit(index: usize) -> u128 {
    u32::try_from(index)
        .ok()
        .and_then(|shift| 1u128.checked_shl(shift))
        .unwrap_or(0)
}

impl SanitizedTransaction {
    /// Checks every sanitize rule and precomputes the write locks; the first rule that
    /// fails is returned (convert it with `TransactionError::from` to report it).
    pub fn try_new(transaction: Transaction) -> Result<Self, SanitizeError> {
        sanitize(&transaction)?;
        let message = &transaction.message;
        let mut writable = (0..message.account_keys.len())
            .filter(|&index| message.is_writable(index))
            .fold(0u128, |bits, index| bits | bit(index));
        // Demote programs: a program's account is only read while it runs, and
        // write-locking it would serialise every transaction that calls it.
        for ix in &message.instructions {
            writable &= !bit(usize::from(ix.program_id_index));
        }
        Ok(Self {
            transaction,
            writable,
        })
    }

    /// The message.
    pub fn message(&self) -> &Message {
        &self.transaction.message
    }

    /// The first signature: the transaction's id.
    pub fn signature(&self) -> &Signature {
        // Sanitized: exactly `num_required_signatures` (> 0) signatures.
        &self.transaction.signatures[0]
    }

    /// All signatures, one per signing key.
    pub fn signatures(&self) -> &[Signature] {
        &self.transaction.signatures
    }

    /// The fee payer: the first account key, a writable signer.
    pub fn fee_payer(&self) -> &Pubkey {
        // Sanitized: at least one key.
        &self.transaction.message.account_keys[0]
    }

    /// The account keys, in message order (the order of [`Self::lock_requests`]).
    pub fn account_keys(&self) -> &[Pubkey] {
        &self.transaction.message.account_keys
    }

    /// The blockhash the transaction was built against.
    pub fn recent_blockhash(&self) -> &Hash {
        &self.transaction.message.recent_blockhash
    }

    /// Whether key `index` is write-locked: writable by the header and not invoked as a
    /// program. Out of range: `false`.
    pub fn is_writable(&self, index: usize) -> bool {
        self.writable & bit(index) != 0
    }

    /// Whether key `index` signs. Out of range: `false`.
    pub fn is_signer(&self, index: usize) -> bool {
        self.transaction.message.is_signer(index)
    }

    /// The number of signatures (the fee is charged per signature).
    pub fn num_signatures(&self) -> usize {
        self.transaction.signatures.len()
    }

    /// The number of write-locked keys.
    pub fn num_write_locks(&self) -> usize {
        self.writable.count_ones() as usize
    }

    /// Each instruction with its program id, in execution order.
    pub fn instructions_iter(
        &self,
    ) -> impl ExactSizeIterator<Item = (&Pubkey, &CompiledInstruction)> + Clone {
        let keys = self.account_keys();
        self.transaction
            .message
            .instructions
            .iter()
            // Sanitized: every program id index is in range.
            .map(move |ix| (&keys[usize::from(ix.program_id_index)], ix))
    }

    /// What to lock: every account key once, in account-key order, with whether to lock
    /// it for writing.
    ///
    /// This is what schedulers and lock tables consume: keys are distinct (so no lock is
    /// requested twice) and programs are read-locked.
    pub fn lock_requests(&self) -> LockRequests<'_> {
        LockRequests {
            keys: self.account_keys().iter(),
            writable: self.writable,
        }
    }

    /// Gives back the transaction.
    pub fn into_transaction(self) -> Transaction {
        self.transaction
    }
}

impl TryFrom<Transaction> for SanitizedTransaction {
    type Error = SanitizeError;

    fn try_from(transaction: Transaction) -> Result<Self, Self::Error> {
        Self::try_new(transaction)
    }
}

/// Iterator over a [`SanitizedTransaction`]'s lock requests: `(key, is_writable)` for
/// every account key, in account-key order. Cheap to clone (a slice iterator and a
/// bitmap), so a scheduler can walk it once to check and again to lock.
#[derive(Debug, Clone)]
pub struct LockRequests<'a> {
    keys: std::slice::Iter<'a, Pubkey>,
    /// Write bits of the keys still to be yielded, the next key's bit lowest.
    writable: u128,
}

impl<'a> Iterator for LockRequests<'a> {
    type Item = (&'a Pubkey, bool);

    fn next(&mut self) -> Option<Self::Item> {
        let key = self.keys.next()?;
        let is_writable = self.writable & 1 != 0;
        self.writable >>= 1;
        Some((key, is_writable))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.keys.size_hint()
    }
}

impl DoubleEndedIterator for LockRequests<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let key = self.keys.next_back()?;
        // The key just taken from the back sits right after the ones still remaining.
        let is_writable = self.writable & bit(self.keys.len()) != 0;
        Some((key, is_writable))
    }
}

impl ExactSizeIterator for LockRequests<'_> {}

impl FusedIterator for LockRequests<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AccountMeta, Instruction};

    fn sanitized(instructions: &[Instruction], payer: &Pubkey) -> SanitizedTransaction {
        let message = Message::new(instructions, Some(payer), Hash::new_unique());
        SanitizedTransaction::try_new(Transaction::new_with_placeholder_signatures(message))
            .expect("compiled messages sanitize")
    }

    #[test]
    fn lock_requests_walk_both_ends_consistently() {
        let payer = Pubkey::new_unique();
        let program = Pubkey::new_unique();
        let accounts = (0..7)
            .map(|i| {
                let key = Pubkey::new_unique();
                if i % 2 == 0 {
                    AccountMeta::new(key, false)
                } else {
                    AccountMeta::new_readonly(key, false)
                }
            })
            .collect();
        let tx = sanitized(
            &[Instruction::new_with_bytes(program, &[], accounts)],
            &payer,
        );
        let forward: Vec<_> = tx.lock_requests().collect();
        let mut backward: Vec<_> = tx.lock_requests().rev().collect();
        backward.reverse();
        assert_eq!(forward, backward);

        let mut mixed = tx.lock_requests();
        let first = mixed.next();
        let last = mixed.next_back();
        assert_eq!(first, forward.first().copied());
        assert_eq!(last, forward.last().copied());
        assert_eq!(mixed.len(), forward.len() - 2);
        assert_eq!(mixed.collect::<Vec<_>>(), forward[1..forward.len() - 1]);
    }

    #[test]
    fn out_of_range_indices_are_neither_writable_nor_signers() {
        let payer = Pubkey::new_unique();
        let tx = sanitized(&[], &payer);
        assert!(tx.is_writable(0) && tx.is_signer(0));
        for index in [1, 127, 128, usize::MAX] {
            assert!(!tx.is_writable(index));
            assert!(!tx.is_signer(index));
        }
    }

    #[test]
    fn full_bitmap_of_128_keys() {
        let payer = Pubkey::new_unique();
        let program = Pubkey::new_unique();
        let accounts = (0..126)
            .map(|_| AccountMeta::new(Pubkey::new_unique(), false))
            .collect();
        let tx = sanitized(
            &[Instruction::new_with_bytes(program, &[], accounts)],
            &payer,
        );
        assert_eq!(tx.account_keys().len(), MAX_TX_ACCOUNT_LOCKS);
        assert_eq!(tx.num_write_locks(), 127);
        assert!(tx.is_writable(126));
        assert!(!tx.is_writable(127), "the program is last and read-only");
        assert_eq!(tx.lock_requests().next_back(), Some((&program, false)));
    }
}
