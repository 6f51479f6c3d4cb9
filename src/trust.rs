//! The trust store: which issuer keys a verifier accepts, in which windows, and which
//! have been revoked. Holding several keys at once is how keys rotate.

use std::collections::HashMap;

use crate::error::TrustError;
use crate::keys::IssuerPublicKey;
use crate::model::{KeyId, UnixTime};

/// A trusted key and, if revoked, since when.
#[derive(Debug, Clone)]
pub struct TrustAnchor {
    key: IssuerPublicKey,
    revoked_at: Option<UnixTime>,
}

impl TrustAnchor {
    /// The public key.
    #[must_use]
    pub fn key(&self) -> &IssuerPublicKey {
        &self.key
    }

    /// When the key was revoked, if it was.
    #[must_use]
    pub fn revoked_at(&self) -> Option<UnixTime> {
        self.revoked_at
    }
}

/// Issuer keys a verifier trusts, by key id.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    anchors: HashMap<KeyId, TrustAnchor>,
}

impl TrustStore {
    /// An empty store: trusts nothing.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts `key`. Adding the same key again is a no-op (it keeps any revocation).
    ///
    /// # Errors
    /// [`TrustError::DuplicateKeyId`] if a different key has the same id.
    pub fn add(&mut self, key: IssuerPublicKey) -> Result<(), TrustError> {
        let key_id = key.key_id();
        if let Some(existing) = self.anchors.get(&key_id) {
            return if existing.key == key {
                Ok(())
            } else {
                Err(TrustError::DuplicateKeyId { key_id })
            };
        }
        self.anchors.insert(
            key_id,
            TrustAnchor {
                key,
                revoked_at: None,
            },
        );
        Ok(())
    }

    /// Marks a key revoked: every credential and list under it is denied from now on.
    /// Revocation is permanent; revoking again keeps the first time.
    ///
    /// # Errors
    /// [`TrustError::UnknownKey`] if the key is not in the store.
    pub fn revoke(&mut self, key_id: KeyId, at: UnixTime) -> Result<(), TrustError> {
        let anchor = self
            .anchors
            .get_mut(&key_id)
            .ok_or(TrustError::UnknownKey { key_id })?;
        anchor.revoked_at.get_or_insert(at);
        Ok(())
    }

    /// The anchor for `key_id`.
    #[must_use]
    pub fn get(&self, key_id: &KeyId) -> Option<&TrustAnchor> {
        self.anchors.get(key_id)
    }

    /// Every trusted key.
    pub fn iter(&self) -> impl Iterator<Item = &TrustAnchor> {
        self.anchors.values()
    }
}
