//! Why an issuer refused to sign, and why a software card could not answer.

use crate::issue::SignError;
use crate::model::{FieldError, KeyId, UnixTime};
use crate::verify::StatusError;
use crate::wire::DecodeError;

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
    /// The card public key is not a curve point, not canonically encoded, of small order
    /// (weak) or with a torsion component.
    #[error("the card public key is weak or invalid")]
    WeakCardKey,
    /// A field is invalid.
    #[error(transparent)]
    Field(#[from] FieldError),
    /// [`IssuerKey::sign_jws`](crate::issue::IssuerKey::sign_jws) was given bytes that
    /// are not a compact JWS signing input with a JSON-object header.
    #[error("not a JWS signing input ({len} bytes): refused to sign")]
    NotJwsSigningInput {
        /// How many bytes were given.
        len: usize,
    },
    /// The key is held outside the process (a token) and could not sign, or returned
    /// a signature that does not verify: nothing was issued.
    #[error(transparent)]
    Sign(#[from] SignError),
}

/// Why [`IssuerStatusList::publish`](crate::issue::IssuerStatusList::publish) signed
/// nothing. The working copy is unchanged: publishing again after the cause is
/// removed (the token is back) signs the same sequence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PublishListError {
    /// The list cannot be signed by this key, now (wrong issuer, outside the key's
    /// window, revokes its own signer, ...).
    #[error(transparent)]
    Status(#[from] StatusError),
    /// The key (a token) failed to sign, or returned a signature that does not verify.
    #[error(transparent)]
    Sign(#[from] SignError),
}

/// Why a card could not be assembled from a credential and a card key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CardError {
    /// The credential bytes do not decode.
    #[error("not a credential: {0}")]
    Malformed(#[from] DecodeError),
    /// The credential carries no card key: it cannot answer challenges.
    #[error("the credential carries no card key")]
    NoCardKey,
    /// The card key is not the one the credential names.
    #[error("the card key is not the one the credential names")]
    KeyMismatch,
    /// No card of this stock that reported its key holds the key the credential names
    /// (a key of another stock, never reported, or a card already personalised).
    #[error("no card in stock holds the key the credential names")]
    NotInStock,
}
