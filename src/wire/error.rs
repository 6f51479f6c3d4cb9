//! Why untrusted bytes are not a well-formed object.

use crate::model::{Field, FieldError};

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
    /// An issuer's root public key as installed at a door.
    RootAnchor,
    /// A root-signed set of an issuer's signing keys.
    KeySet,
    /// A door's saved verifier state.
    VerifierState,
}

impl core::fmt::Display for WireObject {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Credential => "credential",
            Self::CredentialText => "credential text",
            Self::RevocationList => "revocation list",
            Self::Delta => "revocation delta",
            Self::TrustAnchor => "trust anchor",
            Self::Challenge => "challenge",
            Self::ChallengeResponse => "challenge response",
            Self::RootAnchor => "root anchor",
            Self::KeySet => "key set",
            Self::VerifierState => "verifier state",
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
    /// A status set inside a revocation list or delta is malformed.
    #[error("{object}: status set: {source}")]
    StatusSet {
        /// What was being decoded.
        object: WireObject,
        /// Why.
        source: crate::wire::CodecError,
    },
    /// One index appears in two status sets of the same list or delta.
    #[error("{object}: index {index} is in two status sets")]
    OverlappingSets {
        /// What was being decoded.
        object: WireObject,
        /// The index.
        index: u32,
    },
    /// The list's capacity is outside the allowed range.
    #[error("{object}: capacity {capacity} is outside {min}..={max}")]
    Capacity {
        /// What was being decoded.
        object: WireObject,
        /// Capacity found.
        capacity: u32,
        /// Smallest allowed.
        min: u32,
        /// Largest allowed.
        max: u32,
    },
    /// More scope entries than allowed.
    #[error("{object}: {count} scope entries, more than {max}")]
    TooManyScopes {
        /// What was being decoded.
        object: WireObject,
        /// Entries found.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A key set naming more signing keys than allowed.
    #[error("key set: {count} keys, more than {max}")]
    TooManyKeys {
        /// Keys found.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// An integer of a list or delta header that is not a minimal varint fitting its
    /// type: one value has one encoding, so the signed bytes are canonical.
    #[error("{object}: the varint at byte {offset} is not minimal or overflows")]
    BadVarint {
        /// What was being decoded.
        object: WireObject,
        /// Offset of its first byte in the object.
        offset: usize,
    },
    /// A delta whose end sequence does not follow its start.
    #[error("delta from {from} to {to} does not move forward")]
    DeltaNotForward {
        /// Start sequence.
        from: u64,
        /// End sequence.
        to: u64,
    },
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
