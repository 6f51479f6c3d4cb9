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
//! Keys and revocations are held per issuer (issuer id and key id): one issuer's root
//! can neither certify nor revoke a key of another issuer, whatever public key its set
//! names. Revocation is permanent and remembered even after the key leaves a set: no
//! later key set, and no pinning, trusts that key for that issuer again. A key set
//! never removes a pinned key; it may revoke one.

use alloc::collections::BTreeMap;

use crate::prelude::*;

use crate::model::{IssuerId, KeyId, KeyUsage, UnixTime};
use crate::verify::{
    IssuerPublicKey, KeySet, KeySetError, ListUpdate, RootPublicKey, StateError, StatePart,
    TrustError,
};
use crate::wire::{KeyRecord, RootRecord};

/// A remembered revocation as a saved state holds it: key, issuer, since when.
type RevokedRecord = (KeyId, IssuerId, UnixTime);

/// Most signing keys a store trusts at once, and most revocations it remembers. A
/// key set names at most [`crate::format::MAX_KEY_SET_ENTRIES`] keys per issuer.
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
    anchors: BTreeMap<(KeyId, IssuerId), TrustAnchor>,
    roots: BTreeMap<IssuerId, RootState>,
    revoked: BTreeMap<(KeyId, IssuerId), UnixTime>,
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
        let slot = (key_id, key.issuer().clone());
        if self.revoked.contains_key(&slot) {
            return Err(TrustError::Revoked { key_id });
        }
        if let Some(existing) = self.anchors.get(&slot) {
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
            slot,
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
        let slot = |key_id: KeyId| (key_id, issuer.clone());
        let mut newly_revoked = 0usize;
        for entry in set.entries() {
            let key_id = entry.key.key_id();
            let revoked = self.revoked.contains_key(&slot(key_id));
            if entry.revoked.is_none() && revoked {
                return Err(KeySetError::RevocationLifted { key_id });
            }
            if entry.revoked.is_some() && !revoked {
                newly_revoked += 1;
            }
            if let Some(held) = self.anchors.get(&slot(key_id))
                && held.key.public_key_bytes() != entry.key.public_key_bytes()
            {
                return Err(TrustError::DuplicateKeyId { key_id }.into());
            }
        }
        let kept = self
            .anchors
            .iter()
            .filter(|((k, i), a)| !(a.certified && i == issuer) && set.entry(*k).is_none())
            .count();
        if kept + set.entries().len() > MAX_TRUSTED_KEYS
            || self.revoked.len() + newly_revoked > MAX_TRUSTED_KEYS
        {
            return Err(TrustError::TooManyKeys {
                max: MAX_TRUSTED_KEYS,
            }
            .into());
        }
        // The issuer's certified keys become the set's; pinned keys stay pinned.
        self.anchors
            .retain(|(_, i), a| !(a.certified && i == issuer));
        for entry in set.entries() {
            let key_id = entry.key.key_id();
            let revoked_at = match entry.revoked {
                Some((at, _)) => Some(*self.revoked.entry(slot(key_id)).or_insert(at)),
                None => None,
            };
            match self.anchors.get_mut(&slot(key_id)) {
                Some(pinned) => {
                    if revoked_at.is_some() {
                        pinned.revoked_at = revoked_at;
                    }
                }
                None => {
                    self.anchors.insert(
                        slot(key_id),
                        TrustAnchor {
                            key: entry.key.clone(),
                            usage: entry.usage,
                            certified: true,
                            revoked_at,
                        },
                    );
                }
            }
        }
        if let Some(state) = self.roots.get_mut(issuer) {
            state.key_set = Some((set.sequence(), set.digest()));
        }
        Ok(update)
    }

    /// Marks a key revoked, for every issuer that holds it: every credential, list and
    /// delta under it is denied from now on. Revocation is permanent; revoking again
    /// keeps the first time.
    ///
    /// # Errors
    /// [`TrustError::UnknownKey`] if the key is not in the store;
    /// [`TrustError::TooManyKeys`] past [`MAX_TRUSTED_KEYS`] remembered revocations.
    pub fn revoke(&mut self, key_id: KeyId, at: UnixTime) -> Result<(), TrustError> {
        let slots: Vec<(KeyId, IssuerId)> = self
            .with_id(key_id)
            .map(|(i, _)| (key_id, i.clone()))
            .collect();
        if slots.is_empty() {
            return Err(TrustError::UnknownKey { key_id });
        }
        let new = slots
            .iter()
            .filter(|s| !self.revoked.contains_key(s))
            .count();
        if self.revoked.len() + new > MAX_TRUSTED_KEYS {
            return Err(TrustError::TooManyKeys {
                max: MAX_TRUSTED_KEYS,
            });
        }
        for slot in slots {
            let first = *self.revoked.entry(slot.clone()).or_insert(at);
            if let Some(anchor) = self.anchors.get_mut(&slot) {
                anchor.revoked_at = Some(first);
            }
        }
        Ok(())
    }

    /// Remembers `issuer`'s key `key_id` as revoked though the store no longer holds it
    /// (a key set dropped it): no later key set and no pinning trusts it again, and a
    /// list it signed decides nothing. Revoking again keeps the first time.
    ///
    /// # Errors
    /// [`TrustError::TooManyKeys`] past [`MAX_TRUSTED_KEYS`] remembered revocations.
    pub(crate) fn revoke_retired(
        &mut self,
        key_id: KeyId,
        issuer: IssuerId,
        at: UnixTime,
    ) -> Result<(), TrustError> {
        let slot = (key_id, issuer);
        if !self.revoked.contains_key(&slot) && self.revoked.len() >= MAX_TRUSTED_KEYS {
            return Err(TrustError::TooManyKeys {
                max: MAX_TRUSTED_KEYS,
            });
        }
        self.revoked.entry(slot).or_insert(at);
        Ok(())
    }

    /// Whether `issuer`'s key `key_id` may hold a list whatever the time: trusted for
    /// lists and never revoked (its window is checked where the time is known). The
    /// rule a verifier prunes lists by, and a saved state is checked against.
    pub(crate) fn may_hold_lists(&self, issuer: &IssuerId, key_id: &KeyId) -> bool {
        self.get(issuer, key_id).is_some_and(|anchor| {
            anchor.revoked_at().is_none() && anchor.usage().allows(KeyUsage::Lists)
        }) && !self.is_revoked(issuer, key_id)
    }

    /// Whether `issuer`'s key `key_id` was ever revoked in this store.
    #[must_use]
    pub fn is_revoked(&self, issuer: &IssuerId, key_id: &KeyId) -> bool {
        self.revoked
            .range((*key_id, IssuerId::least())..)
            .take_while(|((k, _), _)| k == key_id)
            .any(|((_, i), _)| i == issuer)
    }

    /// The anchor for `issuer`'s key `key_id`.
    #[must_use]
    pub fn get(&self, issuer: &IssuerId, key_id: &KeyId) -> Option<&TrustAnchor> {
        // A range from the least issuer id: no allocation on the verification path.
        self.with_id(*key_id)
            .find(|(i, _)| *i == issuer)
            .map(|(_, a)| a)
    }

    /// Every anchor with id `key_id`, with its issuer (one, but for a key two issuers
    /// both named).
    fn with_id(&self, key_id: KeyId) -> impl Iterator<Item = (&IssuerId, &TrustAnchor)> {
        self.anchors
            .range((key_id, IssuerId::least())..)
            .take_while(move |((k, _), _)| *k == key_id)
            .map(|((_, i), a)| (i, a))
    }

    /// An anchor with id `key_id` held for any issuer (to tell "unknown" from "another
    /// issuer's").
    pub(crate) fn any_with_id(&self, key_id: &KeyId) -> Option<&TrustAnchor> {
        self.with_id(*key_id).map(|(_, a)| a).next()
    }

    /// Every trusted key.
    pub fn iter(&self) -> impl Iterator<Item = &TrustAnchor> {
        self.anchors.values()
    }

    /// The store as a saved state's records: roots, keys and remembered revocations.
    pub(crate) fn to_records(&self) -> (Vec<RootRecord>, Vec<KeyRecord>, Vec<RevokedRecord>) {
        let roots = self
            .roots
            .values()
            .map(|r| RootRecord {
                anchor: r.root.to_bytes(),
                key_set: r.key_set,
            })
            .collect();
        let keys = self
            .anchors
            .values()
            .map(|a| KeyRecord {
                anchor: a.key.to_bytes(),
                usage: a.usage,
                certified: a.certified,
                revoked_at: a.revoked_at,
            })
            .collect();
        let revoked = self
            .revoked
            .iter()
            .map(|((k, i), at)| (*k, i.clone(), *at))
            .collect();
        (roots, keys, revoked)
    }

    /// A store from a saved state's records, refusing what no store could hold: a key
    /// or root that is not acceptable, one named twice, a certified key with no key set
    /// applied under its issuer's root, a revoked key not remembered as revoked (or the
    /// reverse), more than [`MAX_TRUSTED_KEYS`] of anything.
    pub(crate) fn from_records(
        roots: Vec<RootRecord>,
        keys: Vec<KeyRecord>,
        revoked: Vec<RevokedRecord>,
    ) -> Result<Self, StateError> {
        let too_many = |part, count| StateError::TooMany {
            part,
            count,
            max: MAX_TRUSTED_KEYS,
        };
        for (part, count) in [
            (StatePart::Roots, roots.len()),
            (StatePart::Keys, keys.len()),
            (StatePart::Revocations, revoked.len()),
        ] {
            if count > MAX_TRUSTED_KEYS {
                return Err(too_many(part, count));
            }
        }
        let mut store = Self::new();
        for record in roots {
            let root = RootPublicKey::from_bytes(&record.anchor)?;
            let issuer = root.issuer().clone();
            if store.roots.contains_key(&issuer) {
                return Err(StateError::Duplicate {
                    part: StatePart::Roots,
                });
            }
            store.roots.insert(
                issuer,
                RootState {
                    root,
                    key_set: record.key_set,
                },
            );
        }
        for (key_id, issuer, at) in revoked {
            if store.revoked.insert((key_id, issuer), at).is_some() {
                return Err(StateError::Duplicate {
                    part: StatePart::Revocations,
                });
            }
        }
        for record in keys {
            let key = IssuerPublicKey::from_bytes(&record.anchor)?;
            let slot = (key.key_id(), key.issuer().clone());
            let inconsistent = |part| StateError::Inconsistent { part };
            if record.certified
                && store
                    .roots
                    .get(key.issuer())
                    .is_none_or(|r| r.key_set.is_none())
            {
                return Err(inconsistent(StatePart::Keys));
            }
            if store.revoked.get(&slot).copied() != record.revoked_at {
                return Err(inconsistent(StatePart::Revocations));
            }
            if store.anchors.contains_key(&slot) {
                return Err(StateError::Duplicate {
                    part: StatePart::Keys,
                });
            }
            store.anchors.insert(
                slot,
                TrustAnchor {
                    key,
                    usage: record.usage,
                    certified: record.certified,
                    revoked_at: record.revoked_at,
                },
            );
        }
        Ok(store)
    }
}
