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

use std::collections::BTreeMap;

use crate::error::StatusError;
use crate::keys::IssuerKey;
use crate::model::{AuditHead, Claims, IssuerId, KeyId, PrintBatchId, UnixTime};
use crate::wire;

/// Fewest indexes a list covers: herd privacy, as in W3C Bitstring Status List (2^17).
pub const MIN_LIST_CAPACITY: u32 = 131_072;
/// Most indexes a list covers (2^22 = 4,194,304; a national scheme fits). Bounds
/// decoding memory: a table of capacity/4 bytes, and transient index sets of at most
/// 4 bytes an index.
pub const MAX_LIST_CAPACITY: u32 = 1 << 22;
/// Most scope entries a list carries. Each is one breach, key or cut-off: a handful
/// in a lifetime.
pub const MAX_SCOPE_ENTRIES: usize = 1024;

/// The status of one index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Status {
    /// In force.
    Valid,
    /// Temporarily not in force (a card reported lost, then found); reversible.
    Suspended,
    /// Permanently withdrawn.
    Revoked,
}

/// Why a credential (or a scope) was revoked. RFC 5280's reason codes are the reference;
/// the policing cases it lacks are added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum RevocationReason {
    /// No reason given (RFC 5280 `unspecified`).
    Unspecified,
    /// The card's own key is compromised (RFC 5280 `keyCompromise`).
    KeyCompromise,
    /// The issuer key that signed it is compromised (RFC 5280 `cACompromise`).
    IssuerKeyCompromise,
    /// Moved to another force or role (RFC 5280 `affiliationChanged`).
    AffiliationChanged,
    /// Replaced by a new credential (RFC 5280 `superseded`).
    Superseded,
    /// Left the service (RFC 5280 `cessationOfOperation`).
    LeftService,
    /// Access withdrawn, e.g. vetting withdrawn or dismissal (RFC 5280 `privilegeWithdrawn`).
    PrivilegeWithdrawn,
    /// A supplier that handled the card's data was breached.
    SupplierBreach,
    /// Reported lost.
    Lost,
    /// Reported stolen.
    Stolen,
}

impl RevocationReason {
    /// Every reason, in wire-code order.
    pub const ALL: [Self; 10] = [
        Self::Unspecified,
        Self::KeyCompromise,
        Self::IssuerKeyCompromise,
        Self::AffiliationChanged,
        Self::Superseded,
        Self::LeftService,
        Self::PrivilegeWithdrawn,
        Self::SupplierBreach,
        Self::Lost,
        Self::Stolen,
    ];
}

/// What a scope entry revokes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Scope {
    /// Every credential printed in this batch (the supplier that printed it was breached).
    PrintBatch(PrintBatchId),
    /// Every credential signed by this issuer key.
    IssuerKey(KeyId),
    /// Every credential of the issuer issued strictly before this time.
    IssuedBefore(UnixTime),
}

impl Scope {
    /// Whether this scope covers a credential with these claims.
    #[must_use]
    pub fn covers(&self, claims: &Claims) -> bool {
        self.covers_parts(claims.print_batch, claims.key_id, claims.issued_at)
    }

    /// Whether this scope covers a credential of this batch, key and issue time.
    #[must_use]
    pub fn covers_parts(&self, batch: PrintBatchId, key: KeyId, issued_at: UnixTime) -> bool {
        match *self {
            Self::PrintBatch(b) => batch == b,
            Self::IssuerKey(k) => key == k,
            Self::IssuedBefore(cutoff) => issued_at < cutoff,
        }
    }
}

/// One scope revocation: what, why, since when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ScopeEntry {
    /// What is revoked.
    pub scope: Scope,
    /// Why.
    pub reason: RevocationReason,
    /// When it was declared.
    pub since: UnixTime,
}

/// Which list entry revoked a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum RevokedBy {
    /// Its own status index is marked revoked (the reason stays with the issuer).
    Index,
    /// A scope entry covers it.
    Scope(ScopeEntry),
}

impl std::fmt::Display for RevokedBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Index => f.write_str("status index marked revoked"),
            Self::Scope(e) => {
                match e.scope {
                    Scope::PrintBatch(b) => write!(f, "print batch {}", b.0)?,
                    Scope::IssuerKey(k) => write!(f, "issuer key {k}")?,
                    Scope::IssuedBefore(t) => write!(f, "issued before {t}")?,
                }
                write!(f, ", {:?} since {}", e.reason, e.since)
            }
        }
    }
}

/// A list's answer for one credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusAnswer {
    /// Neither revoked nor suspended.
    Valid,
    /// Its index is suspended.
    Suspended,
    /// Revoked, and by what.
    Revoked(RevokedBy),
}

/// Two bits an index: 00 valid, 01 suspended, 10 revoked. One load answers a lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StatusTable {
    capacity: u32,
    words: Vec<u64>,
}

const SUSPENDED_BITS: u64 = 0b01;
const REVOKED_BITS: u64 = 0b10;

impl StatusTable {
    /// An all-valid table. `capacity` must already be checked against the limits.
    pub(crate) fn new(capacity: u32) -> Self {
        let words = usize::try_from(capacity.div_ceil(32)).unwrap_or(0);
        Self {
            capacity,
            words: vec![0; words],
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

    /// Sets an index; returns `false` (and changes nothing) if it is out of range.
    pub(crate) fn set(&mut self, index: u32, status: Status) -> bool {
        if index >= self.capacity {
            return false;
        }
        let Some(word) = usize::try_from(index / 32)
            .ok()
            .and_then(|w| self.words.get_mut(w))
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
        for (w, &word) in (0u32..).zip(&self.words) {
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
        for (w, &word) in (0u32..).zip(&self.words) {
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
        for (w, (&a, &b)) in (0u32..).zip(self.words.iter().zip(&next.words)) {
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

/// The issuer's working copy of its status list: statuses, reasons and scopes, and
/// what was last published so that the next publication can carry a delta.
#[derive(Debug, Clone)]
pub struct IssuerStatusList {
    issuer: IssuerId,
    table: StatusTable,
    reasons: BTreeMap<u32, (RevocationReason, UnixTime)>,
    scopes: Vec<ScopeEntry>,
    sequence: u64,
    published: Option<Published>,
}

#[derive(Debug, Clone)]
struct Published {
    table: StatusTable,
    scopes: usize,
    /// The state digest of the list last published (see `wire`).
    state: [u8; 32],
}

/// What one publication produced: the full signed list and, after the first, the
/// signed delta from the previous sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    /// The sequence number of the new list.
    pub sequence: u64,
    /// The full signed list.
    pub list: Vec<u8>,
    /// The signed delta from `sequence - 1` to `sequence`; `None` for the first list.
    pub delta: Option<Vec<u8>>,
}

impl IssuerStatusList {
    /// A new, all-valid list of `capacity` indexes, nothing published yet.
    ///
    /// # Errors
    /// [`StatusError::Capacity`] if `capacity` is outside
    /// [`MIN_LIST_CAPACITY`]`..=`[`MAX_LIST_CAPACITY`].
    pub fn new(issuer: IssuerId, capacity: u32) -> Result<Self, StatusError> {
        check_capacity(capacity)?;
        Ok(Self {
            issuer,
            table: StatusTable::new(capacity),
            reasons: BTreeMap::new(),
            scopes: Vec::new(),
            sequence: 0,
            published: None,
        })
    }

    /// Rebuilds the working copy from stored state (a registry), taking it as already
    /// published at `sequence` with state digest `state` (read it from that list with
    /// [`list_state_digest`]): the next publication is `sequence + 1` with a delta from
    /// `sequence`.
    ///
    /// # Errors
    /// [`StatusError`] if the capacity, an index or the number of scopes is out of range.
    pub fn restore(
        issuer: IssuerId,
        capacity: u32,
        sequence: u64,
        state: [u8; 32],
        statuses: impl IntoIterator<Item = (u32, Status, Option<(RevocationReason, UnixTime)>)>,
        scopes: Vec<ScopeEntry>,
    ) -> Result<Self, StatusError> {
        let mut list = Self::new(issuer, capacity)?;
        for (index, status, reason) in statuses {
            if !list.table.set(index, status) {
                return Err(StatusError::IndexOutOfRange { index, capacity });
            }
            if let (Status::Revoked, Some(reason)) = (status, reason) {
                list.reasons.insert(index, reason);
            }
        }
        if scopes.len() > MAX_SCOPE_ENTRIES {
            return Err(StatusError::TooManyScopes {
                max: MAX_SCOPE_ENTRIES,
            });
        }
        list.scopes = scopes;
        list.sequence = sequence;
        if sequence > 0 {
            list.published = Some(Published {
                table: list.table.clone(),
                scopes: list.scopes.len(),
                state,
            });
        }
        Ok(list)
    }

    /// The issuer.
    #[must_use]
    pub fn issuer(&self) -> &IssuerId {
        &self.issuer
    }

    /// How many indexes the list covers.
    #[must_use]
    pub fn capacity(&self) -> u32 {
        self.table.capacity()
    }

    /// The sequence number of the last publication (0 before the first).
    #[must_use]
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    /// The status of `index`, if in range.
    #[must_use]
    pub fn status(&self, index: u32) -> Option<Status> {
        self.table.get(index)
    }

    /// The reason and time of an individual revocation.
    #[must_use]
    pub fn reason(&self, index: u32) -> Option<(RevocationReason, UnixTime)> {
        self.reasons.get(&index).copied()
    }

    /// The scope entries in force.
    #[must_use]
    pub fn scopes(&self) -> &[ScopeEntry] {
        &self.scopes
    }

    /// Revokes one index, permanently. Revoking a revoked index keeps the first reason.
    ///
    /// # Errors
    /// [`StatusError::IndexOutOfRange`].
    pub fn revoke(
        &mut self,
        index: u32,
        reason: RevocationReason,
        at: UnixTime,
    ) -> Result<(), StatusError> {
        match self.table.get(index) {
            None => Err(StatusError::IndexOutOfRange {
                index,
                capacity: self.capacity(),
            }),
            Some(Status::Revoked) => Ok(()),
            Some(_) => {
                self.table.set(index, Status::Revoked);
                self.reasons.insert(index, (reason, at));
                Ok(())
            }
        }
    }

    /// Suspends one index (reversible).
    ///
    /// # Errors
    /// [`StatusError::IndexOutOfRange`]; [`StatusError::RevokedIsPermanent`] if revoked.
    pub fn suspend(&mut self, index: u32) -> Result<(), StatusError> {
        self.change_reversible(index, Status::Suspended)
    }

    /// Lifts a suspension.
    ///
    /// # Errors
    /// [`StatusError::IndexOutOfRange`]; [`StatusError::RevokedIsPermanent`] if revoked.
    pub fn reinstate(&mut self, index: u32) -> Result<(), StatusError> {
        self.change_reversible(index, Status::Valid)
    }

    fn change_reversible(&mut self, index: u32, to: Status) -> Result<(), StatusError> {
        match self.table.get(index) {
            None => Err(StatusError::IndexOutOfRange {
                index,
                capacity: self.capacity(),
            }),
            Some(Status::Revoked) => Err(StatusError::RevokedIsPermanent { index }),
            Some(_) => {
                self.table.set(index, to);
                Ok(())
            }
        }
    }

    /// Adds a scope revocation. Adding an entry with the same scope again is a no-op.
    ///
    /// # Errors
    /// [`StatusError::TooManyScopes`] past [`MAX_SCOPE_ENTRIES`].
    pub fn revoke_scope(&mut self, entry: ScopeEntry) -> Result<(), StatusError> {
        if self.scopes.iter().any(|e| e.scope == entry.scope) {
            return Ok(());
        }
        if self.scopes.len() >= MAX_SCOPE_ENTRIES {
            return Err(StatusError::TooManyScopes {
                max: MAX_SCOPE_ENTRIES,
            });
        }
        self.scopes.push(entry);
        Ok(())
    }

    /// Signs the next list (sequence + 1) and the delta from the previous one,
    /// committing to an empty audit log (see [`Self::publish_at`]).
    ///
    /// # Errors
    /// As [`Self::publish_at`].
    pub fn publish(
        &mut self,
        key: &IssuerKey,
        now: UnixTime,
        next_update: UnixTime,
    ) -> Result<Publication, StatusError> {
        self.publish_at(key, now, next_update, AuditHead::EMPTY)
    }

    /// Signs the next list (sequence + 1), committing to the issuer's audit log head
    /// `audit`, and the delta from the previous one. The delta names the state of the
    /// list it applies to; the list names its own state.
    ///
    /// # Errors
    /// [`StatusError::WrongIssuer`] if `key` signs for another issuer;
    /// [`StatusError::KeyNotValidNow`] outside the key's window;
    /// [`StatusError::NextUpdateInPast`] if `next_update < now`.
    pub fn publish_at(
        &mut self,
        key: &IssuerKey,
        now: UnixTime,
        next_update: UnixTime,
        audit: AuditHead,
    ) -> Result<Publication, StatusError> {
        if key.issuer() != &self.issuer {
            return Err(StatusError::WrongIssuer);
        }
        let window = key.validity();
        if now < window.not_before || now > window.not_after {
            return Err(StatusError::KeyNotValidNow {
                key_id: key.key_id(),
            });
        }
        if next_update < now {
            return Err(StatusError::NextUpdateInPast);
        }
        let sequence = self
            .sequence
            .checked_add(1)
            .ok_or(StatusError::SequenceExhausted)?;
        let header = wire::ListHeader {
            issuer: self.issuer.clone(),
            key_id: key.key_id(),
            issued_at: now,
            next_update,
            capacity: self.capacity(),
        };
        let revoked = self.table.indexes_with(Status::Revoked);
        let suspended = self.table.indexes_with(Status::Suspended);
        let (delta, state) = match &self.published {
            Some(published) => {
                let (revoked, suspended, reinstated) = published.table.diff(&self.table);
                let new_scopes = self.scopes.get(published.scopes..).unwrap_or(&[]);
                let body = wire::encode_delta(
                    &header,
                    self.sequence,
                    sequence,
                    &published.state,
                    &wire::DeltaSets {
                        revoked: &revoked,
                        suspended: &suspended,
                        reinstated: &reinstated,
                    },
                    new_scopes,
                );
                let state = wire::state_after(&body);
                (Some(sign_object(key, wire::DELTA_DOMAIN, &body)), state)
            }
            None => {
                let first = wire::encode_list(
                    &header,
                    sequence,
                    &[0; 32],
                    audit,
                    &revoked,
                    &suspended,
                    &self.scopes,
                );
                (None, wire::genesis_state(&first))
            }
        };
        let list = wire::encode_list(
            &header,
            sequence,
            &state,
            audit,
            &revoked,
            &suspended,
            &self.scopes,
        );
        let list = sign_object(key, wire::LIST_DOMAIN, &list);
        self.sequence = sequence;
        self.published = Some(Published {
            table: self.table.clone(),
            scopes: self.scopes.len(),
            state,
        });
        Ok(Publication {
            sequence,
            list,
            delta,
        })
    }
}

fn sign_object(key: &IssuerKey, domain: &[u8], body: &[u8]) -> Vec<u8> {
    wire::assemble_signed(
        wire::LIST_FORMAT_VERSION,
        &key.sign(domain, wire::LIST_FORMAT_VERSION, body),
        body,
    )
}

/// The state digest a signed list names, and the audit head it commits to, read
/// without checking its signature (for an issuer restoring its own stored list, or an
/// auditor comparing a list with the log).
///
/// # Errors
/// [`crate::DecodeError`] if the bytes are not a list.
pub fn list_state_digest(list: &[u8]) -> Result<([u8; 32], AuditHead), crate::error::DecodeError> {
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
        next.state = wire::state_after(delta.body);
        next.audit = None;
        Ok(next)
    }
}
