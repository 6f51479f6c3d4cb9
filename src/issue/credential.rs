//! An issued credential: its bytes and the claims they carry.

use crate::model::{Claims, Serial};
use crate::wire;

/// An issued credential: its encoded bytes and the claims they carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    bytes: Vec<u8>,
    claims: Claims,
}

impl Credential {
    pub(crate) fn new(bytes: Vec<u8>, claims: Claims) -> Self {
        Self { bytes, claims }
    }

    /// The encoded credential (what goes on the card's chip or in the wallet).
    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The encoded credential, by value.
    #[must_use]
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// The text form (base64url, no padding) for a QR code.
    #[must_use]
    pub fn to_text(&self) -> String {
        wire::to_text(&self.bytes)
    }

    /// The claims as issued.
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
