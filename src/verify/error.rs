//! Typed errors, one enum per boundary: building values ([`FieldError`]), decoding
//! untrusted bytes ([`DecodeError`]), issuing ([`IssueError`]), managing trust
//! ([`TrustError`]), verifying ([`Denial`]) and deciding at a door ([`DoorDenial`]).
//! Variants carry facts, never secrets and never free-form strings.

use crate::model::{IssuerId, KeyId, RevokedBy, Serial, UnixTime};
use crate::prelude::*;
use crate::wire::{DecodeError, StatePart};

/// Why a key could not be loaded or trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    /// The public key is not a curve point, not canonically encoded, of small order
    /// (weak) or with a torsion component.
    #[error("key {key_id} is weak or not a valid Ed25519 public key")]
    WeakKey {
        /// The key's id.
        key_id: KeyId,
    },
    /// The key's validity window is inverted.
    #[error("key {key_id} has an inverted validity window")]
    InvertedWindow {
        /// The key's id.
        key_id: KeyId,
    },
    /// A different key with the same id is already trusted.
    #[error("another key with id {key_id} is already trusted")]
    DuplicateKeyId {
        /// The id.
        key_id: KeyId,
    },
    /// The key is not in the trust store.
    #[error("key {key_id} is not trusted")]
    UnknownKey {
        /// The id.
        key_id: KeyId,
    },
    /// The key was revoked: revocation is permanent, so it cannot be trusted again.
    #[error("key {key_id} was revoked and cannot be trusted again")]
    Revoked {
        /// The id.
        key_id: KeyId,
    },
    /// A different root is already installed for this issuer.
    #[error("another root key is already installed for issuer {issuer}")]
    DuplicateRoot {
        /// The issuer.
        issuer: IssuerId,
    },
    /// The store would hold more keys, or remember more revocations, than allowed.
    #[error("a trust store holds at most {max} keys and {max} revocations")]
    TooManyKeys {
        /// The limit.
        max: usize,
    },
}

/// Why a verifier (or a registry) refused a key set. It keeps the keys it had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeySetError {
    /// The bytes are not a key set.
    #[error("malformed: {0}")]
    Malformed(#[from] DecodeError),
    /// No root is installed for the key set's issuer.
    #[error("no root key installed for issuer {issuer}")]
    NoRoot {
        /// The issuer.
        issuer: IssuerId,
    },
    /// The key set names another root than the one installed.
    #[error("key set is signed for root {found}, the installed root is {installed}")]
    WrongRoot {
        /// The root installed.
        installed: KeyId,
        /// The root the set names.
        found: KeyId,
    },
    /// The root's signature does not verify.
    #[error("bad root signature")]
    BadSignature,
    /// The root is outside its validity window.
    #[error("root key {key_id} is valid from {not_before} to {not_after}, not at {now}")]
    RootOutsideWindow {
        /// The root.
        key_id: KeyId,
        /// Start of its window.
        not_before: UnixTime,
        /// End of its window.
        not_after: UnixTime,
        /// The time given.
        now: UnixTime,
    },
    /// Signed in the future, beyond the clock skew.
    #[error("issued at {issued_at}, after now ({now}) plus skew")]
    NotYetValid {
        /// When it claims to be signed.
        issued_at: UnixTime,
        /// The time given.
        now: UnixTime,
    },
    /// Older than the key set held.
    #[error("rollback refused: holding key set {held}, offered {offered}")]
    Rollback {
        /// Sequence held.
        held: u64,
        /// Sequence offered.
        offered: u64,
    },
    /// A different key set with the sequence already held.
    #[error("a different key set with sequence {sequence} is already held")]
    Conflict {
        /// The sequence.
        sequence: u64,
    },
    /// The set names as usable a key that was revoked: revocation is permanent.
    #[error("the key set lifts the revocation of key {key_id}")]
    RevocationLifted {
        /// The key.
        key_id: KeyId,
    },
    /// A key in the set is not acceptable (weak, torsion, not a point, or its id does
    /// not match its bytes).
    #[error("key {key_id} in the set is not an acceptable Ed25519 public key")]
    BadKey {
        /// The key.
        key_id: KeyId,
    },
    /// The keys conflict with what the store holds (an id already used by another key).
    #[error(transparent)]
    Trust(#[from] TrustError),
}

/// Why a verifier refused a credential: every denial names a reason an operator can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Denial {
    /// The bytes are not a credential.
    #[error("not a credential: {0}")]
    Malformed(#[from] DecodeError),
    /// No trusted key has this id.
    #[error("unknown issuer key {key_id}")]
    UnknownKey {
        /// The id in the credential.
        key_id: KeyId,
    },
    /// The key is trusted for another issuer than the credential names.
    #[error("key {key_id} belongs to issuer {trusted}, not {claimed}")]
    IssuerMismatch {
        /// The key.
        key_id: KeyId,
        /// Issuer named by the credential.
        claimed: IssuerId,
        /// Issuer the key is trusted for.
        trusted: IssuerId,
    },
    /// The issuer key has been revoked.
    #[error("issuer key {key_id} was revoked at {revoked_at}")]
    KeyRevoked {
        /// The key.
        key_id: KeyId,
        /// When it was revoked.
        revoked_at: UnixTime,
    },
    /// `now` (or the credential's issue time) is outside the key's window.
    #[error("issuer key {key_id} is valid from {not_before} to {not_after}, not at {at}")]
    KeyOutsideWindow {
        /// The key.
        key_id: KeyId,
        /// Start of the key's window.
        not_before: UnixTime,
        /// End of the key's window.
        not_after: UnixTime,
        /// The time that fell outside.
        at: UnixTime,
    },
    /// The key is certified for something else (lists, not credentials, or the reverse).
    #[error("issuer key {key_id} is certified for {certified} only")]
    WrongKeyUsage {
        /// The key.
        key_id: KeyId,
        /// What it is certified for.
        certified: crate::model::KeyUsage,
    },
    /// The signature does not verify (strict Ed25519).
    #[error("bad signature")]
    BadSignature,
    /// The credential is not valid yet, even allowing for clock skew.
    #[error("not valid before {not_before} (now {now}, skew {skew_secs}s)")]
    NotYetValid {
        /// Start of validity.
        not_before: UnixTime,
        /// The time given.
        now: UnixTime,
        /// The allowance used.
        skew_secs: u64,
    },
    /// The credential has expired, even allowing for clock skew.
    #[error("expired at {not_after} (now {now}, skew {skew_secs}s)")]
    Expired {
        /// End of validity.
        not_after: UnixTime,
        /// The time given.
        now: UnixTime,
        /// The allowance used.
        skew_secs: u64,
    },
    /// The verifier holds no status list for the credential's issuer (fail closed).
    #[error("no status list held for issuer {issuer}")]
    NoStatusList {
        /// The issuer.
        issuer: IssuerId,
    },
    /// The list held for the issuer is out of force: the key that signed it may no
    /// longer sign lists (revoked, no longer certified by the key set in force, or
    /// outside its window), so it decides nothing (fail closed) until a list from a
    /// usable key arrives.
    #[error(
        "status list {sequence} is out of force: its signer {key_id} may no longer sign lists ({because})"
    )]
    ListSignerUnusable {
        /// The list's sequence.
        sequence: u64,
        /// The key that signed it.
        key_id: KeyId,
        /// Why that key may not sign lists now.
        because: Box<Denial>,
    },
    /// The status list is past its next update plus the grace period (fail closed).
    #[error(
        "status list {sequence} is stale: next update was due at {next_update}, grace {grace_secs}s, now {now}"
    )]
    StatusStale {
        /// The list's sequence.
        sequence: u64,
        /// When the next list was due.
        next_update: UnixTime,
        /// The grace allowed.
        grace_secs: u64,
        /// The time given.
        now: UnixTime,
    },
    /// The credential's status index lies outside its issuer's list (fail closed).
    #[error("status index {index} is outside the list of {capacity}")]
    StatusIndexOutOfRange {
        /// The index.
        index: u32,
        /// The list's capacity.
        capacity: u32,
    },
    /// The credential is revoked.
    #[error("revoked: {by}")]
    Revoked {
        /// The credential.
        serial: Serial,
        /// Which entry revoked it.
        by: RevokedBy,
    },
    /// The credential is suspended.
    #[error("suspended")]
    Suspended {
        /// The credential.
        serial: Serial,
    },
}

/// Why the issuer's status list refused a change or a publication, or why a delta
/// could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatusError {
    /// The list capacity is outside the allowed range.
    #[error("a list covers {min} to {max} indexes, not {capacity}")]
    Capacity {
        /// Requested capacity.
        capacity: u32,
        /// Smallest allowed (herd privacy).
        min: u32,
        /// Largest allowed (memory bound).
        max: u32,
    },
    /// A status index outside the list.
    #[error("status index {index} is outside the list of {capacity}")]
    IndexOutOfRange {
        /// The index.
        index: u32,
        /// The list's capacity.
        capacity: u32,
    },
    /// Revocation is permanent: a revoked index cannot be suspended or reinstated.
    #[error("status index {index} is revoked, which is permanent")]
    RevokedIsPermanent {
        /// The index.
        index: u32,
    },
    /// More scope entries than a list may carry.
    #[error("a list carries at most {max} scope entries")]
    TooManyScopes {
        /// The limit.
        max: usize,
    },
    /// The key signs for another issuer than the list's.
    #[error("the key signs for another issuer")]
    WrongIssuer,
    /// The key is outside its window.
    #[error("key {key_id} may not sign now")]
    KeyNotValidNow {
        /// The key.
        key_id: KeyId,
    },
    /// `next_update` lies before `now`.
    #[error("next update lies in the past")]
    NextUpdateInPast,
    /// The list's scope entries revoke the key asked to sign it: sign with another key.
    #[error("the list revokes key {key_id}, which may therefore not sign it")]
    SignerRevoked {
        /// The key.
        key_id: KeyId,
    },
    /// The sequence number cannot grow further.
    #[error("sequence number exhausted")]
    SequenceExhausted,
    /// A delta changes an index from a status that does not allow that change (it was
    /// made against another list).
    #[error("delta moves index {index} from {held:?} to {to:?}, which is not allowed")]
    InconsistentDelta {
        /// The index.
        index: u32,
        /// Its status in the held list.
        held: crate::model::Status,
        /// The status the delta gives it.
        to: crate::model::Status,
    },
}

/// Why a verifier refused a revocation list or delta. It keeps its previous list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ListError {
    /// The bytes are not a list or delta.
    #[error("malformed: {0}")]
    Malformed(#[from] DecodeError),
    /// The signing key is unknown, revoked, outside its window or another issuer's.
    #[error("untrusted signer: {0}")]
    Untrusted(Denial),
    /// The signature does not verify.
    #[error("bad signature")]
    BadSignature,
    /// Signed in the future, beyond the clock skew.
    #[error("issued at {issued_at}, after now ({now}) plus skew")]
    NotYetValid {
        /// When it claims to be signed.
        issued_at: UnixTime,
        /// The time given.
        now: UnixTime,
    },
    /// Older than the list held: a rollback.
    #[error("rollback refused: holding sequence {held}, offered {offered}")]
    Rollback {
        /// Sequence held.
        held: u64,
        /// Sequence offered.
        offered: u64,
    },
    /// A different list with the sequence already held: the issuer equivocated or the
    /// list was forged with a stolen key.
    #[error("a different list with sequence {sequence} is already held")]
    Conflict {
        /// The sequence.
        sequence: u64,
    },
    /// The delta starts after the sequence held: fetch a full list.
    #[error("gap: holding sequence {held}, delta starts at {from}; fetch a full list")]
    Gap {
        /// Sequence held.
        held: u64,
        /// Where the delta starts.
        from: u64,
    },
    /// The delta was made from another list than the one held at its start sequence
    /// (another branch): fetch a full list.
    #[error("the delta from sequence {sequence} was made from another list than the one held")]
    Branch {
        /// The sequence it starts from.
        sequence: u64,
    },
    /// A delta arrived for an issuer whose list is not held: fetch a full list.
    #[error("no list held for issuer {issuer}; fetch a full list")]
    NoBaseList {
        /// The issuer.
        issuer: IssuerId,
    },
    /// The delta covers another number of indexes than the list held.
    #[error("delta covers {offered} indexes, the list held {held}")]
    CapacityMismatch {
        /// Capacity held.
        held: u32,
        /// Capacity in the delta.
        offered: u32,
    },
    /// The delta's changes do not fit the list held, or a newer list lifts a revocation.
    #[error(transparent)]
    Inconsistent(#[from] StatusError),
    /// A newer list lacks a scope entry the list held has in force (scopes are permanent).
    #[error("the new list drops the scope entry {scope:?}")]
    ScopeDropped {
        /// The scope it drops.
        scope: crate::model::Scope,
    },
}

impl Denial {
    /// A stable, machine-readable code for this reason (snake case), for logs and
    /// events. Codes are never reused for another reason.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed_credential",
            Self::UnknownKey { .. } => "unknown_key",
            Self::IssuerMismatch { .. } => "issuer_mismatch",
            Self::KeyRevoked { .. } => "key_revoked",
            Self::KeyOutsideWindow { .. } => "key_outside_window",
            Self::WrongKeyUsage { .. } => "wrong_key_usage",
            Self::BadSignature => "bad_signature",
            Self::NotYetValid { .. } => "not_yet_valid",
            Self::Expired { .. } => "expired",
            Self::NoStatusList { .. } => "no_status_list",
            Self::ListSignerUnusable { .. } => "list_signer_unusable",
            Self::StatusStale { .. } => "status_stale",
            Self::StatusIndexOutOfRange { .. } => "status_index_out_of_range",
            Self::Revoked { .. } => "revoked",
            Self::Suspended { .. } => "suspended",
        }
    }
}

/// Why a saved verifier state was refused: the door should start again from its root
/// (and relearn from the publications). Nothing of it was used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The bytes are not a saved state (or a key inside is not acceptable).
    #[error("not a saved verifier state: {0}")]
    Malformed(#[from] DecodeError),
    /// The digest does not match: the file was truncated or corrupted.
    #[error("the saved verifier state is truncated or corrupted (digest mismatch)")]
    Corrupted,
    /// A part holds more entries than a state may.
    #[error("the saved state holds {count} {part}, more than {max}")]
    TooMany {
        /// Which part.
        part: StatePart,
        /// How many it holds.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A part names the same thing twice.
    #[error("the saved state names one of its {part} twice")]
    Duplicate {
        /// Which part.
        part: StatePart,
    },
    /// A part contradicts the rest (a list whose signer is not trusted for lists, a
    /// revoked key not remembered as revoked, a list above its floor, a bad table...):
    /// no verifier could have reached it.
    #[error("the saved state's {part} contradict the rest")]
    Inconsistent {
        /// Which part.
        part: StatePart,
    },
}
