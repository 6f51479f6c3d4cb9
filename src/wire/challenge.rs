//! A door's challenge as a card receives it.

use crate::prelude::*;
use sha2::Digest as _;

use crate::model::{DoorId, UnixTime};
use crate::wire::{self, CHALLENGE_NONCE_LEN, ChallengeFields, DecodeError};

/// The SHA-256 digest of credential bytes: the cache key, and what a response binds.
pub(crate) fn credential_digest(bytes: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(bytes).into()
}

/// A door's challenge to a card: a fresh random nonce, the door, and its lifetime.
/// Not signed: the door that issued it remembers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    fields: ChallengeFields,
}

impl Challenge {
    /// The decoded fields.
    pub(crate) fn fields(&self) -> &ChallengeFields {
        &self.fields
    }

    pub(crate) fn new(fields: ChallengeFields) -> Self {
        Self { fields }
    }

    /// The door that issued it.
    #[must_use]
    pub fn door(&self) -> &DoorId {
        &self.fields.door
    }

    /// The random nonce.
    #[must_use]
    pub fn nonce(&self) -> &[u8; CHALLENGE_NONCE_LEN] {
        &self.fields.nonce
    }

    /// When it was issued.
    #[must_use]
    pub fn issued_at(&self) -> UnixTime {
        self.fields.issued_at
    }

    /// The last second in which a response is accepted.
    #[must_use]
    pub fn expires_at(&self) -> UnixTime {
        self.fields.expires_at
    }

    /// The encoded challenge, to send to the card (NFC, BLE, a QR code on a screen).
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        wire::encode_challenge(&self.fields)
    }

    /// Decodes a challenge, as a card or wallet receives it.
    ///
    /// # Errors
    /// [`DecodeError`] for bytes over [`wire::MAX_CHALLENGE_BYTES`], truncated, with
    /// an unknown version, trailing bytes, an invalid door id or an inverted lifetime.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        wire::decode_challenge(bytes).map(Self::new)
    }
}
