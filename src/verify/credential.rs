//! The three states of a credential: issued ([`Credential`], what an issuer holds),
//! decoded but unchecked ([`UnverifiedCredential`]), and checked
//! ([`VerifiedCredential`], which only the verifier can make).

use crate::model::{Claims, Serial};
use crate::prelude::*;
use crate::wire::{self, DecodeError, ParsedCredential};

/// Credential bytes decoded but not checked: nothing in it may be trusted until a
/// verifier turns it into a [`VerifiedCredential`].
#[derive(Debug)]
pub struct UnverifiedCredential<'a> {
    pub(crate) parsed: ParsedCredential<'a>,
    pub(crate) bytes: &'a [u8],
}

impl<'a> UnverifiedCredential<'a> {
    /// Decodes credential bytes.
    ///
    /// # Errors
    /// [`DecodeError`] for bytes over [`wire::MAX_CREDENTIAL_BYTES`], truncated, with an
    /// unknown version, trailing bytes, an over-long or invalid field.
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        Ok(Self {
            parsed: wire::decode_credential(bytes)?,
            bytes,
        })
    }

    /// The claims as they claim to be. Unchecked: use only to decide which verifier to
    /// ask, never to decide anything about the holder.
    #[must_use]
    pub fn unverified_claims(&self) -> &Claims {
        &self.parsed.claims
    }

    /// The bytes this was decoded from.
    #[must_use]
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

impl core::fmt::Debug for ParsedCredential<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ParsedCredential")
            .field("serial", &self.claims.serial)
            .finish_non_exhaustive()
    }
}

/// Decodes the text form of a credential into bytes; pass them to a verifier.
///
/// # Errors
/// [`DecodeError::TooLarge`] over [`wire::MAX_CREDENTIAL_TEXT_LEN`];
/// [`DecodeError::NotBase64`] if not base64url.
pub fn credential_bytes_from_text(text: &str) -> Result<Vec<u8>, DecodeError> {
    wire::from_text(text)
}

/// The text form of a credential's bytes (unpadded base64url), as a QR code carries
/// it: the inverse of [`credential_bytes_from_text`].
#[must_use]
pub fn credential_text(bytes: &[u8]) -> String {
    wire::to_text(bytes)
}

/// A credential whose signature, key, validity (and, with a status list, status) a
/// verifier has checked. Only the verifier constructs one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCredential {
    claims: Claims,
}

impl VerifiedCredential {
    pub(crate) fn new(claims: Claims) -> Self {
        Self { claims }
    }

    /// The checked claims.
    #[must_use]
    pub fn claims(&self) -> &Claims {
        &self.claims
    }

    /// The serial.
    #[must_use]
    pub fn serial(&self) -> Serial {
        self.claims.serial
    }
}
