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

use crate::prelude::*;
use core::fmt;

use sha2::Digest as _;

use crate::model::{IssuerId, KeyId, KeyUsage, RevocationReason, UnixTime, Validity};
use crate::verify::{IssuerPublicKey, KeySetError, TrustError, key_id_of};
use crate::wire::{self, DecodeError, WireObject};

/// An issuer's root public key with its window: what a door trusts. The same key
/// material and checks as a signing key's public half ([`IssuerPublicKey`]), in its
/// own type and its own anchor format, so that the two are never mistaken.
#[derive(Clone, PartialEq, Eq)]
pub struct RootPublicKey(IssuerPublicKey);

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
        IssuerPublicKey::from_parts(issuer, public_key, validity).map(Self)
    }

    /// The issuer.
    #[must_use]
    pub fn issuer(&self) -> &IssuerId {
        self.0.issuer()
    }
    /// The root's key id.
    #[must_use]
    pub fn key_id(&self) -> KeyId {
        self.0.key_id()
    }
    /// The window in which key sets it signs are accepted.
    #[must_use]
    pub fn validity(&self) -> Validity {
        self.0.validity()
    }
    /// The 32 bytes of the Ed25519 public key.
    #[must_use]
    pub fn public_key_bytes(&self) -> [u8; 32] {
        self.0.public_key_bytes()
    }

    /// Encodes the root anchor for distribution to door vendors.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        wire::encode_root_anchor(&self.0.anchor_fields())
    }

    /// Decodes a root anchor, checking that the key id matches the key and that the
    /// key is acceptable.
    ///
    /// # Errors
    /// [`DecodeError`] for malformed bytes, a mismatched id or an unacceptable key.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        IssuerPublicKey::from_anchor_fields(
            wire::decode_root_anchor(bytes)?,
            WireObject::RootAnchor,
        )
        .map(Self)
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
        if &fields.issuer != self.issuer() {
            return Err(KeySetError::NoRoot {
                issuer: fields.issuer.clone(),
            });
        }
        if fields.root_key_id != self.key_id() {
            return Err(KeySetError::WrongRoot {
                installed: self.key_id(),
                found: fields.root_key_id,
            });
        }
        let window = self.validity();
        if now.plus(skew_secs) < window.not_before || now.minus(skew_secs) > window.not_after {
            return Err(KeySetError::RootOutsideWindow {
                key_id: self.key_id(),
                not_before: window.not_before,
                not_after: window.not_after,
                now,
            });
        }
        self.0
            .verifying_key()
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
            .field("issuer", self.issuer())
            .field("key_id", &self.key_id())
            .field("validity", &self.validity())
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
}
