//! Typed errors, one enum per boundary: building values ([`FieldError`]), decoding
//! untrusted bytes ([`DecodeError`]), issuing ([`IssueError`]), managing trust
//! ([`TrustError`]) and verifying ([`Denial`]). Variants carry facts, never secrets and
//! never free-form strings.

use crate::model::{Field, IssuerId, KeyId, UnixTime};

/// A value that does not fit the model's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FieldError {
    /// A text field is longer than its limit.
    #[error("{field} is {len} bytes, more than the limit of {max}")]
    TooLong {
        /// Which field.
        field: Field,
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A field's content is not acceptable (empty where required, control characters,
    /// inverted window, not hex, weak key).
    #[error("{field} is not valid")]
    Invalid {
        /// Which field.
        field: Field,
    },
}

/// Which wire object a decode error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WireObject {
    /// Credential bytes.
    Credential,
    /// The base64url text form of a credential (QR code).
    CredentialText,
    /// A signed revocation list.
    RevocationList,
    /// A signed revocation list delta.
    Delta,
    /// An issuer's public key as published to verifiers.
    TrustAnchor,
    /// A door's challenge.
    Challenge,
    /// A card's response to a challenge.
    ChallengeResponse,
}

impl std::fmt::Display for WireObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Credential => "credential",
            Self::CredentialText => "credential text",
            Self::RevocationList => "revocation list",
            Self::Delta => "revocation delta",
            Self::TrustAnchor => "trust anchor",
            Self::Challenge => "challenge",
            Self::ChallengeResponse => "challenge response",
        })
    }
}

/// Untrusted bytes that are not a well-formed object. Decoding never panics and never
/// allocates beyond the object's size limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input is larger than the object's limit; nothing was decoded.
    #[error("{object} is {len} bytes, more than the limit of {max}")]
    TooLarge {
        /// What was being decoded.
        object: WireObject,
        /// Input length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The input ends before the object does.
    #[error("{object} is truncated")]
    Truncated {
        /// What was being decoded.
        object: WireObject,
    },
    /// The format version byte is not one this build reads.
    #[error("{object} has format version {version}, this build reads version {supported}")]
    UnknownVersion {
        /// What was being decoded.
        object: WireObject,
        /// The version found.
        version: u8,
        /// The version supported.
        supported: u8,
    },
    /// Bytes remain after a complete object.
    #[error("{object} has {remaining} bytes after the {decoded} that form it")]
    TrailingBytes {
        /// What was being decoded.
        object: WireObject,
        /// Bytes that formed the object.
        decoded: usize,
        /// Bytes left over.
        remaining: usize,
    },
    /// A field is longer than its limit.
    #[error("{object}: {field} is {len} bytes, more than the limit of {max}")]
    FieldTooLong {
        /// What was being decoded.
        object: WireObject,
        /// Which field.
        field: Field,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A field holds a value the model refuses (empty, control characters, inverted window).
    #[error("{object}: {field} is not valid")]
    InvalidField {
        /// What was being decoded.
        object: WireObject,
        /// Which field.
        field: Field,
    },
    /// The bytes do not follow the format: an unknown enum tag, a bad boolean or option
    /// tag, text that is not UTF-8, a key that is not a curve point.
    #[error("{object} is malformed")]
    Malformed {
        /// What was being decoded.
        object: WireObject,
    },
    /// The text form is not base64url without padding.
    #[error("credential text is not base64url")]
    NotBase64,
}

impl DecodeError {
    pub(crate) fn from_field(object: WireObject, err: FieldError) -> Self {
        match err {
            FieldError::TooLong { field, len, max } => Self::FieldTooLong {
                object,
                field,
                len,
                max,
            },
            FieldError::Invalid { field } => Self::InvalidField { object, field },
        }
    }
}

/// Why an issuer refused to sign.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IssueError {
    /// The issuing key is outside its validity window at `now`.
    #[error("key {key_id} may sign from {not_before} to {not_after}, not at {now}")]
    KeyNotValidNow {
        /// The key.
        key_id: KeyId,
        /// Start of its window.
        not_before: UnixTime,
        /// End of its window.
        not_after: UnixTime,
        /// The time given.
        now: UnixTime,
    },
    /// The credential would outlive (or predate) its key.
    #[error("credential validity must lie within the window of key {key_id}")]
    OutlivesKey {
        /// The key.
        key_id: KeyId,
    },
    /// The card public key is weak or not a curve point.
    #[error("the card public key is weak or invalid")]
    WeakCardKey,
    /// A field is invalid.
    #[error(transparent)]
    Field(#[from] FieldError),
}

/// Why a key could not be loaded or trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    /// The public key is weak (small order) or not a curve point.
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
}
