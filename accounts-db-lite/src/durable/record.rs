//! Record encoding: framing, checksums, and the two payloads.

use sdk_lite::{AccountSharedData, Hash, Pubkey, ReadableAccount, WritableAccount};

/// The first bytes of every record: a resynchronization mark, so damage can be told from
/// a torn tail (a valid record found after a damaged one means the damage is not at the
/// end).
pub(crate) const MAGIC: u32 = 0xACC0_1D5B;
pub(crate) const KIND_ACCOUNT: u8 = 1;
pub(crate) const KIND_COMMIT: u8 = 2;
pub(crate) const KIND_BASE: u8 = 3;
pub(crate) const KIND_MERGED: u8 = 4;
/// magic, kind, length
pub(crate) const FRAME_HEADER: usize = 4 + 1 + 4;
/// A commit record's payload: slot and state hash.
pub(crate) const COMMIT_PAYLOAD: usize = 8 + 32;
pub(crate) const CHECKSUM_LEN: usize = 8;
/// The largest payload a record may declare (an account's data is at most 10 MiB in
/// Solana; this leaves room).
pub(crate) const MAX_PAYLOAD: usize = 16 << 20;

/// A decoded record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Record {
    Account {
        key: Pubkey,
        slot: u64,
        account: AccountSharedData,
    },
    Commit {
        slot: u64,
        state_hash: Hash,
    },
    /// The first record of a segment written by a compaction of the oldest sealed
    /// segments: the segment holds the live records of every segment numbered from
    /// `first_replaced` up to its own number, and every segment numbered below it is a
    /// leftover if it still exists (deletions were dropped: nothing older is left for them
    /// to delete).
    Base {
        first_replaced: u64,
    },
    /// The first record of a segment written by a compaction of sealed segments that are
    /// not the oldest: the segment holds the latest record of each account among the
    /// segments numbered from `first_replaced` up to its own number (deletions included,
    /// but for accounts with no record in an older segment), which are leftovers if they
    /// still exist; segments below `first_replaced` are not replaced. (Format version 3.)
    Merged {
        first_replaced: u64,
    },
}

/// The key a store's checksums are computed with: blake3 keyed with a secret the store
/// drew when it was created (in its `FORMAT` file), so that account data, which any
/// transaction can fill, cannot hold a frame recovery would accept as a record (a commit
/// record that would turn a torn write into "corruption"). `None`: a version-1 store's
/// plain blake3.
pub(crate) type ChecksumKey = Option<[u8; 32]>;

fn checksum(key: &ChecksumKey, kind: u8, payload: &[u8]) -> [u8; CHECKSUM_LEN] {
    let mut hasher = match key {
        Some(key) => blake3::Hasher::new_keyed(key),
        None => blake3::Hasher::new(),
    };
    hasher.update(&[kind]);
    hasher.update(&(payload.len() as u32).to_le_bytes());
    hasher.update(payload);
    let mut out = [0u8; CHECKSUM_LEN];
    out.copy_from_slice(&hasher.finalize().as_bytes()[..CHECKSUM_LEN]);
    out
}

fn frame(out: &mut Vec<u8>, key: &ChecksumKey, kind: u8, payload: &[u8]) {
    out.extend_from_slice(&MAGIC.to_le_bytes());
    out.push(kind);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&checksum(key, kind, payload));
}

/// Appends an account record to `out`.
pub(crate) fn encode_account(
    out: &mut Vec<u8>,
    checksum_key: &ChecksumKey,
    key: &Pubkey,
    slot: u64,
    account: &AccountSharedData,
) {
    let mut payload = Vec::with_capacity(32 + 8 + 8 + 32 + 1 + account.data().len());
    payload.extend_from_slice(key.as_array());
    payload.extend_from_slice(&slot.to_le_bytes());
    payload.extend_from_slice(&account.lamports().to_le_bytes());
    payload.extend_from_slice(account.owner().as_array());
    payload.push(u8::from(account.executable()));
    payload.extend_from_slice(account.data());
    frame(out, checksum_key, KIND_ACCOUNT, &payload);
}

/// Appends a commit record to `out`.
pub(crate) fn encode_commit(out: &mut Vec<u8>, key: &ChecksumKey, slot: u64, state_hash: &Hash) {
    let mut payload = Vec::with_capacity(40);
    payload.extend_from_slice(&slot.to_le_bytes());
    payload.extend_from_slice(state_hash.as_array());
    frame(out, key, KIND_COMMIT, &payload);
}

/// Appends a base record (see [`Record::Base`]) to `out`.
pub(crate) fn encode_base(out: &mut Vec<u8>, key: &ChecksumKey, first_replaced: u64) {
    frame(out, key, KIND_BASE, &first_replaced.to_le_bytes());
}

/// Appends a merge record (see [`Record::Merged`]) to `out`.
pub(crate) fn encode_merged(out: &mut Vec<u8>, key: &ChecksumKey, first_replaced: u64) {
    frame(out, key, KIND_MERGED, &first_replaced.to_le_bytes());
}

/// Why a record could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecodeError {
    /// The bytes end inside the record.
    Incomplete,
    /// The record is damaged (what is wrong with it).
    Damaged(&'static str),
}

/// Reads the record at the start of `bytes`: the record and its length in bytes.
pub(crate) fn decode(bytes: &[u8], key: &ChecksumKey) -> Result<(Record, usize), DecodeError> {
    if bytes.len() < FRAME_HEADER {
        return Err(DecodeError::Incomplete);
    }
    let word =
        |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    if word(0) != MAGIC {
        return Err(DecodeError::Damaged("no record mark"));
    }
    let kind = bytes[4];
    let length = word(5) as usize;
    if length > MAX_PAYLOAD {
        return Err(DecodeError::Damaged("implausible length"));
    }
    let total = FRAME_HEADER + length + CHECKSUM_LEN;
    if bytes.len() < total {
        return Err(DecodeError::Incomplete);
    }
    let payload = &bytes[FRAME_HEADER..FRAME_HEADER + length];
    if bytes[FRAME_HEADER + length..total] != checksum(key, kind, payload) {
        return Err(DecodeError::Damaged("checksum mismatch"));
    }
    let array32 = |at: usize| -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(&payload[at..at + 32]);
        out
    };
    let u64_at = |at: usize| {
        let mut out = [0u8; 8];
        out.copy_from_slice(&payload[at..at + 8]);
        u64::from_le_bytes(out)
    };
    let record = match kind {
        KIND_ACCOUNT => {
            if payload.len() < 81 {
                return Err(DecodeError::Damaged("short account record"));
            }
            let mut account = AccountSharedData::new_data(
                u64_at(40),
                payload[81..].to_vec(),
                &Pubkey::new_from_array(array32(48)),
            );
            account.set_executable(payload[80] != 0);
            Record::Account {
                key: Pubkey::new_from_array(array32(0)),
                slot: u64_at(32),
                account,
            }
        }
        KIND_COMMIT => {
            if payload.len() != COMMIT_PAYLOAD {
                return Err(DecodeError::Damaged("bad commit record"));
            }
            Record::Commit {
                slot: u64_at(0),
                state_hash: Hash::new_from_array(array32(8)),
            }
        }
        KIND_BASE | KIND_MERGED => {
            if payload.len() != 8 {
                return Err(DecodeError::Damaged("bad base record"));
            }
            let first_replaced = u64_at(0);
            if kind == KIND_BASE {
                Record::Base { first_replaced }
            } else {
                Record::Merged { first_replaced }
            }
        }
        _ => return Err(DecodeError::Damaged("unknown record kind")),
    };
    Ok((record, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: ChecksumKey = Some([9; 32]);

    #[test]
    fn records_round_trip() {
        let key = Pubkey::new_unique();
        let mut account = AccountSharedData::new_data(7, vec![1, 2, 3], &Pubkey::new_unique());
        account.set_executable(true);
        let mut bytes = Vec::new();
        encode_account(&mut bytes, &KEY, &key, 9, &account);
        let hash = Hash::new_unique();
        encode_commit(&mut bytes, &KEY, 9, &hash);
        let mut base = Vec::new();
        encode_base(&mut base, &KEY, 4);
        assert_eq!(
            decode(&base, &KEY).unwrap(),
            (Record::Base { first_replaced: 4 }, base.len())
        );
        let mut merged = Vec::new();
        encode_merged(&mut merged, &KEY, 6);
        assert_eq!(
            decode(&merged, &KEY).unwrap(),
            (Record::Merged { first_replaced: 6 }, merged.len())
        );
        let (first, used) = decode(&bytes, &KEY).unwrap();
        assert_eq!(
            first,
            Record::Account {
                key,
                slot: 9,
                account
            }
        );
        let (second, rest) = decode(&bytes[used..], &KEY).unwrap();
        assert_eq!(
            second,
            Record::Commit {
                slot: 9,
                state_hash: hash
            }
        );
        assert_eq!(used + rest, bytes.len());
    }

    #[test]
    fn every_prefix_is_incomplete_and_every_flip_is_refused() {
        let mut bytes = Vec::new();
        encode_commit(&mut bytes, &KEY, 3, &Hash::new_unique());
        for cut in 0..bytes.len() {
            assert_eq!(
                decode(&bytes[..cut], &KEY).unwrap_err(),
                DecodeError::Incomplete,
                "cut {cut}"
            );
        }
        for at in 0..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[at] ^= 0x10;
            assert!(decode(&flipped, &KEY).is_err(), "flip at {at}");
        }
    }

    #[test]
    fn a_frame_checksummed_with_another_key_is_refused() {
        let mut bytes = Vec::new();
        encode_commit(&mut bytes, &None, 3, &Hash::new_unique());
        assert_eq!(
            decode(&bytes, &KEY).unwrap_err(),
            DecodeError::Damaged("checksum mismatch")
        );
        assert!(decode(&bytes, &None).is_ok());
    }
}
