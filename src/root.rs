//! The root of trust: an issuer's offline root key certifies and revokes its online
//! signing keys, in one signed [`KeySet`] at a time.
//!
//! A door is configured once with the issuer's [`RootPublicKey`] (the root anchor).
//! Signing keys reach it inside key sets, published beside the revocation lists: a new
//! key needs no visit to the door, and neither does the recovery from a stolen one.
//! A key set has a sequence that only grows at a verifier, and a key it revokes stays
//! revoked: a later set that names it as usable is refused.
//!
//! Signing stays separate from building, as in x509-cert's builder: a [`KeySetDraft`]
//! gives the exact bytes to sign ([`KeySetDraft::to_be_signed`]); whatever holds the
//! root (an HSM, an offline laptop, or [`RootKey`] in tests) signs them, and
//! [`KeySetDraft::assemble`] puts the signature in. The root's secret never needs to
//! be on the issuing machine.

use std::fmt;

use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use rand::CryptoRng;
use sha2::Digest as _;
use zeroize::Zeroizing;

use crate::error::{DecodeError, KeySetError, TrustError, WireObject};
use crate::keys::{IssuerPublicKey, key_id_of};
use crate::model::{IssuerId, KeyId, KeyUsage, UnixTime, Validity};
use crate::status::RevocationReason;
use crate::wire::{self, KeyEntryFields, KeySetFields};

/// An issuer's root key: kept offline, it signs only key sets.
pub struct RootKey {
    signing: SigningKey,
    public: RootPublicKey,
}

impl RootKey {
    /// Generates a root key from `rng`.
    ///
    /// # Errors
    /// [`TrustError::WeakKey`] in the (astronomically unlikely) case the key is weak.
    pub fn generate(
        issuer: IssuerId,
        validity: Validity,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<Self, TrustError> {
        Self::from_signing(issuer, validity, SigningKey::generate(rng))
    }

    /// Rebuilds a root key from its 32 secret bytes.
    ///
    /// # Errors
    /// [`TrustError::WeakKey`] if the derived public key is weak.
    pub fn from_secret_bytes(
        issuer: IssuerId,
        validity: Validity,
        secret: &[u8; 32],
    ) -> Result<Self, TrustError> {
        Self::from_signing(issuer, validity, SigningKey::from_bytes(secret))
    }

    fn from_signing(
        issuer: IssuerId,
        validity: Validity,
        signing: SigningKey,
    ) -> Result<Self, TrustError> {
        let public =
            RootPublicKey::from_parts(issuer, signing.verifying_key().as_bytes(), validity)?;
        Ok(Self { signing, public })
    }

    /// The 32 secret bytes, in a buffer that zeroizes itself.
    #[must_use]
    pub fn to_secret_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.signing.to_bytes())
    }

    /// The public half: the anchor a door is configured with.
    #[must_use]
    pub fn public(&self) -> &RootPublicKey {
        &self.public
    }

    /// Signs the bytes of a draft (its [`KeySetDraft::to_be_signed`]) and returns the
    /// signed key set.
    #[must_use]
    pub fn sign_key_set(&self, draft: &KeySetDraft) -> Vec<u8> {
        draft.assemble(&self.sign(&draft.to_be_signed()))
    }

    /// Signs a prepared message (what an HSM holding the root would do).
    #[must_use]
    pub fn sign(&self, to_be_signed: &[u8]) -> [u8; 64] {
        self.signing.sign(to_be_signed).to_bytes()
    }
}

impl fmt::Debug for RootKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RootKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// An issuer's root public key with its window: what a door trusts.
#[derive(Clone, PartialEq, Eq)]
pub struct RootPublicKey {
    issuer: IssuerId,
    key_id: KeyId,
    key: VerifyingKey,
    validity: Validity,
}

impl RootPublicKey {
    /// Builds a root public key from raw parts, refusing unacceptable keys.
    ///
    /// # Errors
    /// [`TrustError::WeakKey`] if the bytes are not an acceptable Ed25519 public key.
    pub fn from_parts(
        issuer: IssuerId,
        public_key: &[u8; 32],
        validity: Validity,
    ) -> Result<Self, TrustError> {
        // One check path for every public key: the same as a signing key's.
        let checked = IssuerPublicKey::from_parts(issuer, public_key, validity)?;
        Ok(Self {
            issuer: checked.issuer().clone(),
            key_id: checked.key_id(),
            key: *checked.verifying_key(),
            validity,
        })
    }

    /// The issuer.
    #[must_use]
    pub fn issuer(&self) -> &IssuerId {
        &self.issuer
    }
    /// The root's key id.
    #[must_use]
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }
    /// The window in which key sets it signs are accepted.
    #[must_use]
    pub fn validity(&self) -> Validity {
        self.validity
    }
    /// The 32 bytes of the Ed25519 public key.
    #[must_use]
    pub fn public_key_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Encodes the root anchor for distribution to door vendors.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        wire::encode_root_anchor(&wire::AnchorFields {
            issuer: self.issuer.clone(),
            key_id: self.key_id,
            public_key: self.key.to_bytes(),
            validity: self.validity,
        })
    }

    /// Decodes a root anchor, checking that the key id matches the key and that the
    /// key is acceptable.
    ///
    /// # Errors
    /// [`DecodeError`] for malformed bytes, a mismatched id or an unacceptable key.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let a = wire::decode_root_anchor(bytes)?;
        let malformed = DecodeError::Malformed {
            object: WireObject::RootAnchor,
        };
        if key_id_of(&a.public_key) != a.key_id {
            return Err(malformed);
        }
        Self::from_parts(a.issuer, &a.public_key, a.validity).map_err(|_| malformed)
    }

    /// Checks a signed key set against this root at `now` (allowing `skew_secs` for a
    /// set signed by a clock slightly ahead) and returns it.
    ///
    /// # Errors
    /// [`KeySetError`] naming why.
    pub fn verify_key_set(
        &self,
        bytes: &[u8],
        now: UnixTime,
        skew_secs: u64,
    ) -> Result<KeySet, KeySetError> {
        let parsed = wire::decode_key_set(bytes)?;
        let fields = &parsed.fields;
        if fields.issuer != self.issuer {
            return Err(KeySetError::NoRoot {
                issuer: fields.issuer.clone(),
            });
        }
        if fields.root_key_id != self.key_id {
            return Err(KeySetError::WrongRoot {
                installed: self.key_id,
                found: fields.root_key_id,
            });
        }
        let window = self.validity;
        if now.plus(skew_secs) < window.not_before || now.minus(skew_secs) > window.not_after {
            return Err(KeySetError::RootOutsideWindow {
                key_id: self.key_id,
                not_before: window.not_before,
                not_after: window.not_after,
                now,
            });
        }
        self.key
            .verify_strict(
                &wire::signed_message(
                    wire::KEY_SET_DOMAIN,
                    wire::KEY_SET_FORMAT_VERSION,
                    parsed.body,
                ),
                &ed25519_dalek::Signature::from_bytes(&parsed.signature),
            )
            .map_err(|_| KeySetError::BadSignature)?;
        if fields.issued_at > now.plus(skew_secs) {
            return Err(KeySetError::NotYetValid {
                issued_at: fields.issued_at,
                now,
            });
        }
        let mut entries = Vec::with_capacity(fields.entries.len());
        for e in &fields.entries {
            let bad = KeySetError::BadKey { key_id: e.key_id };
            if key_id_of(&e.public_key) != e.key_id {
                return Err(bad);
            }
            let key = IssuerPublicKey::from_parts(fields.issuer.clone(), &e.public_key, e.validity)
                .map_err(|_| bad)?;
            entries.push(KeyEntry {
                key,
                usage: e.usage,
                revoked: e.revoked,
            });
        }
        Ok(KeySet {
            issuer: fields.issuer.clone(),
            root_key_id: fields.root_key_id,
            sequence: fields.sequence,
            issued_at: fields.issued_at,
            entries,
            digest: sha2::Sha256::digest(bytes).into(),
        })
    }
}

impl fmt::Debug for RootPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RootPublicKey")
            .field("issuer", &self.issuer)
            .field("key_id", &self.key_id)
            .field("validity", &self.validity)
            .finish_non_exhaustive()
    }
}

/// One signing key as a key set names it: the key and its window, what it may sign,
/// and whether (since when, why) it is revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyEntry {
    /// The key, its issuer and its window.
    pub key: IssuerPublicKey,
    /// What it may sign.
    pub usage: KeyUsage,
    /// When and why it was revoked, if it was.
    pub revoked: Option<(UnixTime, RevocationReason)>,
}

/// A key set whose root signature was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySet {
    issuer: IssuerId,
    root_key_id: KeyId,
    sequence: u64,
    issued_at: UnixTime,
    entries: Vec<KeyEntry>,
    digest: [u8; 32],
}

impl KeySet {
    /// The issuer.
    #[must_use]
    pub fn issuer(&self) -> &IssuerId {
        &self.issuer
    }
    /// The root that signed it.
    #[must_use]
    pub fn root_key_id(&self) -> KeyId {
        self.root_key_id
    }
    /// Its sequence: it only grows.
    #[must_use]
    pub fn sequence(&self) -> u64 {
        self.sequence
    }
    /// When the root signed it.
    #[must_use]
    pub fn issued_at(&self) -> UnixTime {
        self.issued_at
    }
    /// Every key it names, sorted by key id.
    #[must_use]
    pub fn entries(&self) -> &[KeyEntry] {
        &self.entries
    }
    /// The entry for `key_id`.
    #[must_use]
    pub fn entry(&self, key_id: KeyId) -> Option<&KeyEntry> {
        self.entries.iter().find(|e| e.key.key_id() == key_id)
    }
    /// SHA-256 of the signed bytes: two sets with one sequence and different digests
    /// are an equivocation.
    #[must_use]
    pub fn digest(&self) -> [u8; 32] {
        self.digest
    }

    /// A draft of the next set: the same keys, sequence + 1, signed at `now`.
    #[must_use]
    pub fn draft_next(&self, now: UnixTime) -> KeySetDraft {
        KeySetDraft {
            fields: KeySetFields {
                issuer: self.issuer.clone(),
                root_key_id: self.root_key_id,
                sequence: self.sequence.saturating_add(1),
                issued_at: now,
                entries: self
                    .entries
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
}

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
                issuer: root.issuer.clone(),
                root_key_id: root.key_id,
                sequence: 1,
                issued_at: now,
                entries: Vec::new(),
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
