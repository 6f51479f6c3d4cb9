//! The trust store: which issuer keys a verifier accepts, for what, in which windows,
//! and which have been revoked.
//!
//! Keys arrive two ways. The recommended one: install an issuer's root
//! ([`TrustStore::add_root`]) once, then the root-signed [`KeySet`]s published beside
//! the lists ([`TrustStore::apply_key_set`]); rotation and the recovery from a stolen
//! signing key then need no visit to the door. A signing key can also be pinned
//! directly ([`TrustStore::add`]), as a small deployment or a test would; a pinned key
//! is trusted for credentials and lists, and only a local [`TrustStore::revoke`]
//! removes it.
//!
//! Revocation is permanent and remembered by key id even after the key leaves a set:
//! no later key set, and no pinning, trusts that key again.

use alloc::collections::BTreeMap;

use crate::model::{IssuerId, KeyId, KeyUsage, UnixTime};
use crate::verify::{IssuerPublicKey, KeySet, KeySetError, ListUpdate, RootPublicKey, TrustError};

/// Most signing keys a store trusts at once, and most revocations it remembers. A
/// key set names at most [`crate::MAX_KEY_SET_ENTRIES`] keys per issuer.
pub const MAX_TRUSTED_KEYS: usize = 1024;

/// A trusted key: what it may sign, whether it came from a root, and if revoked, since when.
#[derive(Debug, Clone)]
pub struct TrustAnchor {
    key: IssuerPublicKey,
    usage: KeyUsage,
    certified: bool,
    revoked_at: Option<UnixTime>,
}

impl TrustAnchor {
    /// The public key.
    #[must_use]
    pub fn key(&self) -> &IssuerPublicKey {
        &self.key
    }

    /// What it may sign.
    #[must_use]
    pub fn usage(&self) -> KeyUsage {
        self.usage
    }

    /// Whether the key came from a root-signed key set (rather than being pinned).
    #[must_use]
    pub fn is_certified(&self) -> bool {
        self.certified
    }

    /// When the key was revoked, if it was.
    #[must_use]
    pub fn revoked_at(&self) -> Option<UnixTime> {
        self.revoked_at
    }
}

/// An issuer's root and the key set last applied under it.
#[derive(Debug, Clone)]
struct RootState {
    root: RootPublicKey,
    key_set: Option<(u64, [u8; 32])>,
}

/// Issuer roots and keys a verifier trusts.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    anchors: BTreeMap<KeyId, TrustAnchor>,
    roots: BTreeMap<IssuerId, RootState>,
    revoked: BTreeMap<KeyId, UnixTime>,
}

impl TrustStore {
    /// An empty store: trusts nothing.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Pins a signing key, trusted for credentials and lists. Adding the same key
    /// again is a no-op.
    ///
    /// # Errors
    /// [`TrustError::DuplicateKeyId`] if a different key has the same id;
    /// [`TrustError::Revoked`] if the key was revoked; [`TrustError::TooManyKeys`].
    pub fn add(&mut self, key: IssuerPublicKey) -> Result<(), TrustError> {
        let key_id = key.key_id();
        if self.revoked.contains_key(&key_id) {
            return Err(TrustError::Revoked { key_id });
        }
        if let Some(existing) = self.anchors.get(&key_id) {
            return if existing.key == key {
                Ok(())
            } else {
                Err(TrustError::DuplicateKeyId { key_id })
            };
        }
        if self.anchors.len() >= MAX_TRUSTED_KEYS {
            return Err(TrustError::TooManyKeys {
                max: MAX_TRUSTED_KEYS,
            });
        }
        self.anchors.insert(
            key_id,
            TrustAnchor {
                key,
                usage: KeyUsage::CredentialsAndLists,
                certified: false,
                revoked_at: None,
            },
        );
        Ok(())
    }

    /// Installs an issuer's root. Installing the same root again is a no-op.
    ///
    /// # Errors
    /// [`TrustError::DuplicateRoot`] if another root is installed for the issuer.
    pub fn add_root(&mut self, root: RootPublicKey) -> Result<(), TrustError> {
        match self.roots.get(root.issuer()) {
            Some(held) if held.root == root => Ok(()),
            Some(_) => Err(TrustError::DuplicateRoot {
                issuer: root.issuer().clone(),
            }),
            None => {
                self.roots.insert(
                    root.issuer().clone(),
                    RootState {
                        root,
                        key_set: None,
                    },
                );
                Ok(())
            }
        }
    }

    /// The root installed for `issuer`.
    #[must_use]
    pub fn root(&self, issuer: &IssuerId) -> Option<&RootPublicKey> {
        self.roots.get(issuer).map(|r| &r.root)
    }

    /// The sequence of the key set last applied for `issuer`.
    #[must_use]
    pub fn key_set_sequence(&self, issuer: &IssuerId) -> Option<u64> {
        self.roots
            .get(issuer)
            .and_then(|r| r.key_set.map(|(sequence, _)| sequence))
    }

    /// Applies a key set checked by [`RootPublicKey::verify_key_set`]: the issuer's
    /// certified keys become exactly those the set names (pinned keys stay), with their
    /// usage and windows, and every key it revokes is revoked for good. All or nothing.
    ///
    /// # Errors
    /// [`KeySetError::NoRoot`] / [`KeySetError::WrongRoot`] if the set is not under the
    /// installed root; [`KeySetError::Rollback`] for an older set;
    /// [`KeySetError::Conflict`] for another set with the sequence held;
    /// [`KeySetError::RevocationLifted`] if it names a revoked key as usable;
    /// [`KeySetError::Trust`] for an id clash or past [`MAX_TRUSTED_KEYS`].
    pub fn apply_key_set(&mut self, set: &KeySet) -> Result<ListUpdate, KeySetError> {
        let issuer = set.issuer();
        let state = self.roots.get(issuer).ok_or_else(|| KeySetError::NoRoot {
            issuer: issuer.clone(),
        })?;
        if state.root.key_id() != set.root_key_id() {
            return Err(KeySetError::WrongRoot {
                installed: state.root.key_id(),
                found: set.root_key_id(),
            });
        }
        let update = match state.key_set {
            None => ListUpdate::Installed {
                sequence: set.sequence(),
            },
            Some((held, _)) if held > set.sequence() => {
                return Err(KeySetError::Rollback {
                    held,
                    offered: set.sequence(),
                });
            }
            Some((held, digest)) if held == set.sequence() => {
                return if digest == set.digest() {
                    Ok(ListUpdate::Unchanged { sequence: held })
                } else {
                    Err(KeySetError::Conflict { sequence: held })
                };
            }
            Some((held, _)) => ListUpdate::Advanced {
                from: held,
                to: set.sequence(),
            },
        };
        // Check everything before changing anything.
        let mut newly_revoked = 0usize;
        for entry in set.entries() {
            let key_id = entry.key.key_id();
            if entry.revoked.is_none() && self.revoked.contains_key(&key_id) {
                return Err(KeySetError::RevocationLifted { key_id });
            }
            if entry.revoked.is_some() && !self.revoked.contains_key(&key_id) {
                newly_revoked += 1;
            }
            if let Some(held) = self.anchors.get(&key_id)
                && held.key.public_key_bytes() != entry.key.public_key_bytes()
            {
                return Err(TrustError::DuplicateKeyId { key_id }.into());
            }
        }
        let kept = self
            .anchors
            .values()
            .filter(|a| !(a.certified && a.key.issuer() == issuer))
            .filter(|a| set.entry(a.key.key_id()).is_none())
            .count();
        if kept + set.entries().len() > MAX_TRUSTED_KEYS
            || self.revoked.len() + newly_revoked > MAX_TRUSTED_KEYS
        {
            return Err(TrustError::TooManyKeys {
                max: MAX_TRUSTED_KEYS,
            }
            .into());
        }
        self.anchors
            .retain(|_, a| !(a.certified && a.key.issuer() == issuer));
        for entry in set.entries() {
            let key_id = entry.key.key_id();
            let revoked_at = match entry.revoked {
                Some((at, _)) => Some(*self.revoked.entry(key_id).or_insert(at)),
                None => None,
            };
            self.anchors.insert(
                key_id,
                TrustAnchor {
                    key: entry.key.clone(),
                    usage: entry.usage,
                    certified: true,
                    revoked_at,
                },
            );
        }
        if let Some(state) = self.roots.get_mut(issuer) {
            state.key_set = Some((set.sequence(), set.digest()));
        }
        Ok(update)
    }

    /// Marks a key revoked: every credential, list and delta under it is denied from
    /// now on. Revocation is permanent; revoking again keeps the first time.
    ///
    /// # Errors
    /// [`TrustError::UnknownKey`] if the key is not in the store;
    /// [`TrustError::TooManyKeys`] past [`MAX_TRUSTED_KEYS`] remembered revocations.
    pub fn revoke(&mut self, key_id: KeyId, at: UnixTime) -> Result<(), TrustError> {
        let anchor = self
            .anchors
            .get_mut(&key_id)
            .ok_or(TrustError::UnknownKey { key_id })?;
        if !self.revoked.contains_key(&key_id) && self.revoked.len() >= MAX_TRUSTED_KEYS {
            return Err(TrustError::TooManyKeys {
                max: MAX_TRUSTED_KEYS,
            });
        }
        let first = *self.revoked.entry(key_id).or_insert(at);
        anchor.revoked_at = Some(first);
        Ok(())
    }

    /// Whether `key_id` was ever revoked in this store.
    #[must_use]
    pub fn is_revoked(&self, key_id: &KeyId) -> bool {
        self.revoked.contains_key(key_id)
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
