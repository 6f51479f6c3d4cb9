//! Statuses, scope revocations and the issuer's side of the status list.
//!
//! Every credential has a status index. The issuer keeps one [`Status`] per index
//! (valid, suspended, revoked) in an [`IssuerStatusList`], plus scope entries that
//! revoke many credentials at once (a print batch, an issuer key, everything issued
//! before a time). Publishing signs a full list and the delta from the previous one.
//!
//! # Privacy: what travels
//!
//! The published list carries, per index, only two bits (valid, suspended, revoked):
//! never a reason, because a reason next to an index can say "dismissed" or
//! "stolen" about an identifiable officer (W3C Bitstring Status List refused reasons
//! for the same reason). Indexes are handed out at random and a list covers at least
//! [`MIN_LIST_CAPACITY`] of them (herd privacy). Scope entries do carry their reason:
//! they concern a batch, a key or a date, never one person, and a door operator who
//! sees "revoked: print batch 7, supplier breach" knows what to do. The issuer's
//! registry keeps a reason for every individual revocation.

use crate::model::{
    AuditHead, Claims, IssuerId, KeyId, MAX_LIST_CAPACITY, MAX_SCOPE_ENTRIES, MIN_LIST_CAPACITY,
    RevokedBy, Scope, ScopeEntry, Status, StatusAnswer, UnixTime,
};
use crate::prelude::*;
use crate::verify::StatusError;
use crate::wire::{self};

/// Two bits an index: 00 valid, 01 suspended, 10 revoked. One load answers a lookup.
///
/// The words are shared between clones and copied on the first write
/// (`Arc::make_mut`): a delta that changes no index (a scope entry: a supplier's
/// breach, a revoked key) leaves the next list on the same table, so a door applies
/// it without copying or allocating its table (64 KiB for 262,144 indexes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StatusTable {
    capacity: u32,
    /// An `Arc<Vec>` rather than an `Arc<[u64]>`: a new table stays the allocator's
    /// zeroed pages (an `Arc<[u64]>` from a `Vec` copies them in).
    words: Arc<Vec<u64>>,
}

const SUSPENDED_BITS: u64 = 0b01;
const REVOKED_BITS: u64 = 0b10;

impl StatusTable {
    /// An all-valid table. `capacity` must already be checked against the limits.
    pub(crate) fn new(capacity: u32) -> Self {
        let words = usize::try_from(capacity.div_ceil(32)).unwrap_or(0);
        Self {
            capacity,
            words: Arc::new(vec![0; words]),
        }
    }

    pub(crate) fn capacity(&self) -> u32 {
        self.capacity
    }

    #[inline]
    pub(crate) fn get(&self, index: u32) -> Option<Status> {
        if index >= self.capacity {
            return None;
        }
        let word = self.words.get(usize::try_from(index / 32).ok()?)?;
        Some(match (word >> ((index % 32) * 2)) & 0b11 {
            0 => Status::Valid,
            SUSPENDED_BITS => Status::Suspended,
            _ => Status::Revoked,
        })
    }

    /// The table as bytes: each word little-endian, so byte `j` holds indexes `4j` to
    /// `4j + 3`, two bits each, lowest first (a saved state's encoding).
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        self.words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    /// A table from [`Self::to_bytes`]: exactly the length `capacity` takes, and no
    /// index holding the unused pattern `11` (one encoding per table). `capacity` must
    /// already be checked against the limits.
    pub(crate) fn from_bytes(capacity: u32, bytes: &[u8]) -> Option<Self> {
        let words = usize::try_from(capacity.div_ceil(32)).ok()?;
        if bytes.len() != words.checked_mul(8)? {
            return None;
        }
        let (chunks, rest) = bytes.as_chunks::<8>();
        if !rest.is_empty() {
            return None;
        }
        let words: Vec<u64> = chunks.iter().map(|c| u64::from_le_bytes(*c)).collect();
        const LOW_BITS: u64 = 0x5555_5555_5555_5555;
        if words.iter().any(|w| w & (w >> 1) & LOW_BITS != 0) {
            return None;
        }
        // Indexes past the capacity (a capacity not a multiple of 32) stay valid.
        let tail = capacity % 32;
        if tail != 0
            && let Some(last) = words.last()
            && last >> (tail * 2) != 0
        {
            return None;
        }
        Some(Self {
            capacity,
            words: Arc::new(words),
        })
    }

    /// Sets an index; returns `false` (and changes nothing) if it is out of range.
    pub(crate) fn set(&mut self, index: u32, status: Status) -> bool {
        if index >= self.capacity {
            return false;
        }
        let Some(word) = usize::try_from(index / 32)
            .ok()
            .and_then(|w| Arc::make_mut(&mut self.words).get_mut(w))
        else {
            return false;
        };
        let shift = (index % 32) * 2;
        let bits = match status {
            Status::Valid => 0,
            Status::Suspended => SUSPENDED_BITS,
            Status::Revoked => REVOKED_BITS,
        };
        *word = (*word & !(0b11 << shift)) | (bits << shift);
        true
    }

    /// The sorted indexes holding `status` (suspended or revoked).
    pub(crate) fn indexes_with(&self, status: Status) -> Vec<u32> {
        let pattern = match status {
            Status::Valid => return Vec::new(),
            Status::Suspended => SUSPENDED_BITS,
            Status::Revoked => REVOKED_BITS,
        };
        let mut out = Vec::new();
        for (w, &word) in (0u32..).zip(self.words.iter()) {
            if word == 0 {
                continue;
            }
            for slot in 0..32u32 {
                if (word >> (slot * 2)) & 0b11 == pattern {
                    out.push(w * 32 + slot);
                }
            }
        }
        out
    }

    /// The first index revoked in `self` that is not revoked in `later` (revocation is
    /// permanent, so a later list that lifts one is inconsistent).
    pub(crate) fn first_lifted_revocation(&self, later: &Self) -> Option<u32> {
        const REVOKED_MASK: u64 = 0xAAAA_AAAA_AAAA_AAAA;
        for (w, &word) in (0u32..).zip(self.words.iter()) {
            let revoked = word & REVOKED_MASK;
            if revoked == 0 {
                continue;
            }
            let kept = later
                .words
                .get(usize::try_from(w).ok()?)
                .map_or(0, |l| l & REVOKED_MASK);
            let lifted = revoked & !kept;
            if lifted != 0 {
                return Some(w * 32 + lifted.trailing_zeros() / 2);
            }
        }
        None
    }

    /// The changes that turn `self` into `next`: (revoked, suspended, reinstated).
    pub(crate) fn diff(&self, next: &Self) -> (Vec<u32>, Vec<u32>, Vec<u32>) {
        let (mut revoked, mut suspended, mut reinstated) = (Vec::new(), Vec::new(), Vec::new());
        for (w, (&a, &b)) in (0u32..).zip(self.words.iter().zip(next.words.iter())) {
            if a == b {
                continue;
            }
            for slot in 0..32u32 {
                let shift = slot * 2;
                let (old, new) = ((a >> shift) & 0b11, (b >> shift) & 0b11);
                if old != new {
                    let index = w * 32 + slot;
                    match new {
                        0 => reinstated.push(index),
                        SUSPENDED_BITS => suspended.push(index),
                        _ => revoked.push(index),
                    }
                }
            }
        }
        (revoked, suspended, reinstated)
    }
}

/// The state digest a signed list names, and the audit head it commits to, read
/// without checking its signature (for an issuer restoring its own stored list, or an
/// auditor comparing a list with the log).
///
/// # Errors
/// [`crate::DecodeError`] if the bytes are not a list.
pub fn list_state_digest(list: &[u8]) -> Result<([u8; 32], AuditHead), crate::wire::DecodeError> {
    let parsed = wire::decode_list(list)?;
    Ok((parsed.state, parsed.audit))
}

pub(crate) fn check_capacity(capacity: u32) -> Result<(), StatusError> {
    if (MIN_LIST_CAPACITY..=MAX_LIST_CAPACITY).contains(&capacity) {
        Ok(())
    } else {
        Err(StatusError::Capacity {
            capacity,
            min: MIN_LIST_CAPACITY,
            max: MAX_LIST_CAPACITY,
        })
    }
}

/// A revocation list whose signature a verifier has checked (or that it built by
/// applying checked deltas). Answers status lookups in constant time.
///
/// Two lists are equal when their content is: issuer, signer, sequence, times,
/// statuses, scopes and state digest. The audit head a full list carried is not
/// content (a list rebuilt from deltas has none) and is not compared.
#[derive(Debug, Clone)]
pub struct RevocationList {
    pub(crate) issuer: IssuerId,
    pub(crate) key_id: KeyId,
    pub(crate) sequence: u64,
    pub(crate) issued_at: UnixTime,
    pub(crate) next_update: UnixTime,
    pub(crate) table: StatusTable,
    pub(crate) scopes: Vec<ScopeEntry>,
    /// The state digest: the issuer's name for exactly this content and history.
    pub(crate) state: [u8; 32],
    /// The audit head the last full list committed to (`None` once a delta applied).
    pub(crate) audit: Option<AuditHead>,
}

impl PartialEq for RevocationList {
    fn eq(&self, other: &Self) -> bool {
        self.issuer == other.issuer
            && self.key_id == other.key_id
            && self.sequence == other.sequence
            && self.issued_at == other.issued_at
            && self.next_update == other.next_update
            && self.table == other.table
            && self.scopes == other.scopes
            && self.state == other.state
    }
}

impl Eq for RevocationList {}

impl RevocationList {
    /// The issuer.
    #[must_use]
    pub fn issuer(&self) -> &IssuerId {
        &self.issuer
    }
    /// The key that signed the list (or its latest delta).
    #[must_use]
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }
    /// The sequence number; it only grows.
    #[must_use]
    pub fn sequence(&self) -> u64 {
        self.sequence
    }
    /// When it was signed.
    #[must_use]
    pub fn issued_at(&self) -> UnixTime {
        self.issued_at
    }
    /// When the issuer promises the next list.
    #[must_use]
    pub fn next_update(&self) -> UnixTime {
        self.next_update
    }
    /// How many indexes it covers.
    #[must_use]
    pub fn capacity(&self) -> u32 {
        self.table.capacity()
    }
    /// Scope entries in force.
    #[must_use]
    pub fn scopes(&self) -> &[ScopeEntry] {
        &self.scopes
    }
    /// The state digest (what a delta must name to apply to this list).
    #[must_use]
    pub fn state_digest(&self) -> [u8; 32] {
        self.state
    }
    /// The issuer's audit log head that the full list committed to; `None` if the list
    /// was advanced by a delta since (deltas carry no audit head).
    #[must_use]
    pub fn audit_head(&self) -> Option<AuditHead> {
        self.audit
    }
    /// Whether a scope entry revokes the issuer key `key_id`.
    #[must_use]
    pub fn revokes_key(&self, key_id: KeyId) -> Option<&ScopeEntry> {
        self.scopes
            .iter()
            .find(|e| e.scope == Scope::IssuerKey(key_id))
    }
    /// The status of one index (`None` out of range).
    #[must_use]
    pub fn status_at(&self, index: u32) -> Option<Status> {
        self.table.get(index)
    }

    /// The answer for a credential: scope entries first (they name a reason), then its index.
    /// `None` if its index is outside the list (the verifier denies that).
    #[must_use]
    #[inline]
    pub fn status_of(&self, claims: &Claims) -> Option<StatusAnswer> {
        if let Some(entry) = self.scopes.iter().find(|e| e.scope.covers(claims)) {
            return Some(StatusAnswer::Revoked(RevokedBy::Scope(*entry)));
        }
        Some(match self.table.get(claims.status_index.0)? {
            Status::Valid => StatusAnswer::Valid,
            Status::Suspended => StatusAnswer::Suspended,
            Status::Revoked => StatusAnswer::Revoked(RevokedBy::Index),
        })
    }

    /// Applies a checked delta's changes. All-or-nothing: on error `self` is unchanged.
    pub(crate) fn apply(
        &self,
        delta: &wire::ParsedDelta,
        sets: &wire::StatusSets,
    ) -> Result<Self, StatusError> {
        let mut next = self.clone();
        let capacity = self.capacity();
        // Each change is checked against the table as already changed, so an index
        // named in two sets of one delta is refused rather than overwritten.
        let check = |index: u32, allowed: &[Status], to: Status, table: &StatusTable| match table
            .get(index)
        {
            None => Err(StatusError::IndexOutOfRange { index, capacity }),
            Some(held) if allowed.contains(&held) => Ok(()),
            Some(held) => Err(StatusError::InconsistentDelta { index, held, to }),
        };
        for &index in &sets.revoked {
            check(
                index,
                &[Status::Valid, Status::Suspended],
                Status::Revoked,
                &next.table,
            )?;
            next.table.set(index, Status::Revoked);
        }
        for &index in &sets.suspended {
            check(index, &[Status::Valid], Status::Suspended, &next.table)?;
            next.table.set(index, Status::Suspended);
        }
        for &index in &sets.reinstated {
            check(index, &[Status::Suspended], Status::Valid, &next.table)?;
            next.table.set(index, Status::Valid);
        }
        for entry in &delta.scopes {
            // A scope already in force stays as first declared.
            if next.scopes.iter().any(|e| e.scope == entry.scope) {
                continue;
            }
            if next.scopes.len() >= MAX_SCOPE_ENTRIES {
                return Err(StatusError::TooManyScopes {
                    max: MAX_SCOPE_ENTRIES,
                });
            }
            next.scopes.push(*entry);
        }
        next.sequence = delta.to_sequence;
        next.issued_at = delta.header.issued_at;
        next.next_update = delta.header.next_update;
        next.key_id = delta.header.key_id;
        next.state = wire::state_after(&self.state, delta.body);
        next.audit = None;
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copied_table_shares_its_words_until_one_copy_is_written() {
        let held = StatusTable::new(MIN_LIST_CAPACITY);
        let mut next = held.clone();
        assert!(Arc::ptr_eq(&held.words, &next.words));
        assert!(next.set(5, Status::Revoked));
        // The write copied: the held table (a snapshot a tap may be reading) is unchanged.
        assert!(!Arc::ptr_eq(&held.words, &next.words));
        assert_eq!(held.get(5), Some(Status::Valid));
        assert_eq!(next.get(5), Some(Status::Revoked));
        assert_ne!(held, next);
        // A table no one else holds is written in place.
        let words = Arc::as_ptr(&next.words);
        assert!(next.set(6, Status::Suspended));
        assert_eq!(Arc::as_ptr(&next.words), words);
        assert_eq!(next.get(6), Some(Status::Suspended));
        // Out of range changes nothing and copies nothing.
        let shared = next.clone();
        assert!(!next.set(MIN_LIST_CAPACITY, Status::Revoked));
        assert!(Arc::ptr_eq(&shared.words, &next.words));
    }
}
