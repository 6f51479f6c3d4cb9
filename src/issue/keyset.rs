//! Preparing a key set for the root to sign.

use crate::model::{KeyId, KeyUsage, RevocationReason, UnixTime};
use crate::verify::{IssuerPublicKey, KeySet, KeySetError, RootPublicKey, TrustError};
use crate::wire::{self, DecodeError, KeyEntryFields, KeySetFields};

/// A key set being prepared: certify and revoke keys, then have the root sign
/// [`Self::to_be_signed`] and [`Self::assemble`] the result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySetDraft {
    fields: KeySetFields,
}

impl KeySetDraft {
    /// The first key set of an issuer (sequence 1), empty.
    #[must_use]
    pub fn first(root: &RootPublicKey, now: UnixTime) -> Self {
        Self {
            fields: KeySetFields {
                issuer: root.issuer().clone(),
                root_key_id: root.key_id(),
                sequence: 1,
                issued_at: now,
                entries: Vec::new(),
            },
        }
    }

    /// A draft of the set after `set`: the same keys, sequence + 1, signed at `now`.
    #[must_use]
    pub fn next_after(set: &KeySet, now: UnixTime) -> Self {
        Self {
            fields: KeySetFields {
                issuer: set.issuer().clone(),
                root_key_id: set.root_key_id(),
                sequence: set.sequence().saturating_add(1),
                issued_at: now,
                entries: set
                    .entries()
                    .iter()
                    .map(|e| KeyEntryFields {
                        key_id: e.key.key_id(),
                        public_key: e.key.public_key_bytes(),
                        usage: e.usage,
                        validity: e.key.validity(),
                        revoked: e.revoked,
                    })
                    .collect(),
            },
        }
    }

    /// The sequence the set will have.
    #[must_use]
    pub fn sequence(&self) -> u64 {
        self.fields.sequence
    }

    /// Certifies `key` for `usage` within its own window. Certifying a key already in
    /// the draft updates its usage and window.
    ///
    /// # Errors
    /// [`KeySetError::NoRoot`] if the key is another issuer's;
    /// [`KeySetError::RevocationLifted`] if the draft has it revoked;
    /// [`KeySetError::Malformed`] past [`wire::MAX_KEY_SET_ENTRIES`].
    pub fn certify(&mut self, key: &IssuerPublicKey, usage: KeyUsage) -> Result<(), KeySetError> {
        if key.issuer() != &self.fields.issuer {
            return Err(KeySetError::NoRoot {
                issuer: key.issuer().clone(),
            });
        }
        let entry = KeyEntryFields {
            key_id: key.key_id(),
            public_key: key.public_key_bytes(),
            usage,
            validity: key.validity(),
            revoked: None,
        };
        let entries = &mut self.fields.entries;
        match entries.binary_search_by(|e| e.key_id.0.cmp(&entry.key_id.0)) {
            Ok(at) => {
                let held = entries.get_mut(at).ok_or(KeySetError::BadKey {
                    key_id: entry.key_id,
                })?;
                if held.revoked.is_some() {
                    return Err(KeySetError::RevocationLifted {
                        key_id: entry.key_id,
                    });
                }
                if held.public_key != entry.public_key {
                    return Err(KeySetError::BadKey {
                        key_id: entry.key_id,
                    });
                }
                *held = entry;
            }
            Err(at) => {
                if entries.len() >= wire::MAX_KEY_SET_ENTRIES {
                    return Err(KeySetError::Malformed(DecodeError::TooManyKeys {
                        count: entries.len() + 1,
                        max: wire::MAX_KEY_SET_ENTRIES,
                    }));
                }
                entries.insert(at, entry);
            }
        }
        Ok(())
    }

    /// Revokes a key the draft names. Revoking again keeps the first time and reason.
    ///
    /// # Errors
    /// [`KeySetError::Trust`] with [`TrustError::UnknownKey`] if the draft does not name it.
    pub fn revoke(
        &mut self,
        key_id: KeyId,
        at: UnixTime,
        reason: RevocationReason,
    ) -> Result<(), KeySetError> {
        let entry = self
            .fields
            .entries
            .iter_mut()
            .find(|e| e.key_id == key_id)
            .ok_or(TrustError::UnknownKey { key_id })?;
        entry.revoked.get_or_insert((at, reason));
        Ok(())
    }

    /// Leaves out keys whose window ended before `now`: nothing they signed is valid
    /// any more, so a door loses nothing by forgetting them.
    pub fn drop_expired(&mut self, now: UnixTime) {
        self.fields.entries.retain(|e| e.validity.not_after >= now);
    }

    /// The exact message the root signs: domain, version and the set's body.
    #[must_use]
    pub fn to_be_signed(&self) -> Vec<u8> {
        wire::signed_message(
            wire::KEY_SET_DOMAIN,
            wire::KEY_SET_FORMAT_VERSION,
            &wire::encode_key_set(&self.fields),
        )
    }

    /// The signed key set, given the root's signature over [`Self::to_be_signed`].
    #[must_use]
    pub fn assemble(&self, signature: &[u8; 64]) -> Vec<u8> {
        wire::assemble_signed(
            wire::KEY_SET_FORMAT_VERSION,
            signature,
            &wire::encode_key_set(&self.fields),
        )
    }
}
