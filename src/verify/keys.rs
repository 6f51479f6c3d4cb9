//! Issuer keys (which sign credentials and status lists) and card keys (which answer
//! a door's challenge). Secrets live in private fields, never print through `Debug`,
//! and are zeroized on drop (ed25519-dalek's `SigningKey` zeroizes itself).

use crate::prelude::*;
use core::fmt;

use ed25519_dalek::VerifyingKey;
use sha2::Digest as _;

use crate::model::{CardPublicKey, Field, FieldError, IssuerId, KeyId, Validity};
use crate::verify::TrustError;
use crate::wire::{self, DecodeError};

/// Domain prefix of a key id digest.
const KEY_ID_DOMAIN: &[u8] = b"revocard/v1/key-id\0";

/// The id of an Ed25519 public key: the first 8 bytes of SHA-256 over a domain prefix and the key.
#[must_use]
pub fn key_id_of(public_key: &[u8; 32]) -> KeyId {
    let digest = sha2::Sha256::new()
        .chain_update(KEY_ID_DOMAIN)
        .chain_update(public_key)
        .finalize();
    let mut id = [0u8; 8];
    id.copy_from_slice(digest.get(..8).unwrap_or(&[0u8; 8]));
    KeyId(id)
}

/// The one check every Ed25519 public key passes before this crate uses it: trust
/// anchors ([`IssuerPublicKey::from_parts`], [`IssuerPublicKey::from_bytes`]), issuer
/// keys derived from a secret, card keys at issue and at a door ([`check_card_key`]).
///
/// Decompresses the key and refuses bytes that are not a point, a non-canonical
/// encoding (`y >= p`, or the sign bit set on `x = 0`), a point of small order (a
/// "weak" key: the identity-like keys under which one signature verifies every
/// message), and a point with a torsion component (`aB + T`, `T` of order 2, 4 or 8:
/// not weak, but ed25519-dalek's cofactorless batch equation reduces the key's
/// coefficient mod `l`, so a batch and `verify_strict` disagree on signatures its
/// holder makes; see `batch.rs`). What it accepts is exactly the canonical encoding of a
/// point of order `l`, which is every key derived from a secret, so one point has one
/// encoding and one key id.
///
/// The torsion check is a scalar multiplication by `l`: about 0.7 of a `verify_strict`.
pub(crate) fn acceptable_public_key(bytes: &[u8; 32]) -> Option<VerifyingKey> {
    let key = VerifyingKey::from_bytes(bytes).ok()?;
    let point = key.to_edwards();
    let canonical = point.compress().as_bytes() == bytes;
    (canonical && !key.is_weak() && point.is_torsion_free()).then_some(key)
}

/// Decompresses a card public key, refusing what [`acceptable_public_key`] refuses:
/// the check a card key passes before it is signed into a credential
/// ([`CheckedCardKey::check`]).
pub(crate) fn check_card_key(key: &CardPublicKey) -> Result<VerifyingKey, FieldError> {
    acceptable_public_key(&key.0).ok_or(FieldError::Invalid {
        field: Field::CardKey,
    })
}

/// A card public key that passed the issuer's check: the canonical encoding of a point
/// of prime order `l`, as every key a chip derives from its secret is (the check every
/// trusted key passes too: it refuses a non-point, a non-canonical encoding, a point of
/// small order and a point with a torsion component).
///
/// [`Self::check`] is the only way to make one, so whatever holds a `CheckedCardKey`
/// holds a key that was checked. The check costs about 0.7 of a verification (a scalar
/// multiplication by `l`): a blank-card list is checked once, when it is received from
/// its supplier, long before any breach, and the registry's bulk work (issue, reissue)
/// takes only checked keys and signs them without checking again.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CheckedCardKey(CardPublicKey);

impl CheckedCardKey {
    /// Checks `key`.
    ///
    /// # Errors
    /// [`FieldError::Invalid`] (field [`Field::CardKey`]) if the bytes are not a point,
    /// not its canonical encoding, of small order, or a point with a torsion component.
    pub fn check(key: CardPublicKey) -> Result<Self, FieldError> {
        check_card_key(&key).map(|_| Self(key))
    }

    /// The key, as stored and signed into a credential.
    #[must_use]
    pub fn key(self) -> CardPublicKey {
        self.0
    }
}

impl From<CheckedCardKey> for CardPublicKey {
    fn from(checked: CheckedCardKey) -> Self {
        checked.0
    }
}

impl fmt::Debug for CheckedCardKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CheckedCardKey").field(&self.0).finish()
    }
}

/// The key's text form ([`CardPublicKey`]'s).
impl fmt::Display for CheckedCardKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Decompresses a card public key at a door, refusing a non-point and a weak key. The
/// torsion and canonicity checks of [`check_card_key`] are left to the issuer, which
/// made them before signing the key into the credential: they cost a scalar
/// multiplication (about 0.7x of a verification) on every first tap. Under a key that
/// slipped past a faulty issuer a response still gets exactly `verify_strict`'s answer
/// (its holder's honest responses pass only when the torsion term vanishes), and no one
/// else's passes (see `ARCHITECTURE.md`).
pub(crate) fn door_card_key(key: &CardPublicKey) -> Result<VerifyingKey, FieldError> {
    let invalid = FieldError::Invalid {
        field: Field::CardKey,
    };
    let vk = VerifyingKey::from_bytes(&key.0).map_err(|_| invalid)?;
    if vk.is_weak() {
        return Err(invalid);
    }
    Ok(vk)
}

/// The public half of an issuer key, as published to verifiers (a trust anchor).
#[derive(Clone, PartialEq, Eq)]
pub struct IssuerPublicKey {
    issuer: IssuerId,
    key_id: KeyId,
    key: VerifyingKey,
    validity: Validity,
}

impl IssuerPublicKey {
    /// The issuer the key signs for.
    #[must_use]
    pub fn issuer(&self) -> &IssuerId {
        &self.issuer
    }
    /// The key's id.
    #[must_use]
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }
    /// The window in which the key is trusted.
    #[must_use]
    pub fn validity(&self) -> Validity {
        self.validity
    }
    /// The 32 bytes of the Ed25519 public key.
    #[must_use]
    pub fn public_key_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }
    pub(crate) fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// Builds a public key from raw parts, refusing every key that is not the canonical
    /// encoding of a point of prime order `l`.
    ///
    /// # Errors
    /// [`TrustError::WeakKey`] if the bytes are not a point, not its canonical encoding,
    /// of small order, or a point with a torsion component (`aB + T`, `T` of order 2, 4
    /// or 8), under which batch and single verification would disagree.
    pub fn from_parts(
        issuer: IssuerId,
        public_key: &[u8; 32],
        validity: Validity,
    ) -> Result<Self, TrustError> {
        let key_id = key_id_of(public_key);
        let key = acceptable_public_key(public_key).ok_or(TrustError::WeakKey { key_id })?;
        Ok(Self {
            issuer,
            key_id,
            key,
            validity,
        })
    }

    /// Encodes the anchor for publication.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        wire::encode_trust_anchor(&self.anchor_fields())
    }

    /// Decodes a published anchor, checking that the key id matches the key and that the
    /// key is one [`Self::from_parts`] accepts.
    ///
    /// # Errors
    /// [`DecodeError`] for malformed bytes, a key id that does not match, or a key
    /// [`Self::from_parts`] refuses.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::from_anchor_fields(
            wire::decode_trust_anchor(bytes)?,
            crate::wire::WireObject::TrustAnchor,
        )
    }

    /// The fields an anchor of this key carries (a signing key's or a root's).
    pub(crate) fn anchor_fields(&self) -> wire::AnchorFields {
        wire::AnchorFields {
            issuer: self.issuer.clone(),
            key_id: self.key_id,
            public_key: self.key.to_bytes(),
            validity: self.validity,
        }
    }

    /// A key from decoded anchor fields: the id must be the key's, and the key one
    /// [`Self::from_parts`] accepts; anything else is `object` malformed.
    pub(crate) fn from_anchor_fields(
        a: wire::AnchorFields,
        object: crate::wire::WireObject,
    ) -> Result<Self, DecodeError> {
        let malformed = DecodeError::Malformed { object };
        if key_id_of(&a.public_key) != a.key_id {
            return Err(malformed);
        }
        Self::from_parts(a.issuer, &a.public_key, a.validity).map_err(|_| malformed)
    }
}

impl fmt::Debug for IssuerPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuerPublicKey")
            .field("issuer", &self.issuer)
            .field("key_id", &self.key_id)
            .field("validity", &self.validity)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
    use curve25519_dalek::scalar::Scalar;

    /// `p = 2^255 - 19`, little-endian.
    const FIELD_PRIME: [u8; 32] = {
        let mut p = [0xff; 32];
        p[0] = 0xed;
        p[31] = 0x7f;
        p
    };

    #[test]
    fn only_canonical_encodings_of_points_of_order_l_are_acceptable() {
        let good = ED25519_BASEPOINT_POINT * Scalar::from(0x1234_5678_9abc_def0u64);
        assert!(acceptable_public_key(&good.compress().0).is_some());
        // Every key derived from a secret.
        for seed in 0u8..16 {
            let key = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]).verifying_key();
            assert!(acceptable_public_key(key.as_bytes()).is_some());
        }
        // Small order (the identity included), and torsion components of order 2, 4, 8.
        for (i, t) in EIGHT_TORSION.iter().enumerate() {
            assert!(acceptable_public_key(&t.compress().0).is_none(), "T[{i}]");
            if i != 0 {
                let with_torsion = (good + t).compress().0;
                assert!(!VerifyingKey::from_bytes(&with_torsion).unwrap().is_weak());
                assert!(
                    acceptable_public_key(&with_torsion).is_none(),
                    "aB + T[{i}]"
                );
            }
        }
        // Every non-canonical encoding: y + p for y < 19 (y + p < 2^255), either sign,
        // and the sign bit set on x = 0 (y = 1 and y = p - 1).
        for y in 0u8..19 {
            for sign in [0u8, 0x80] {
                let mut bytes = FIELD_PRIME;
                bytes[0] += y;
                bytes[31] |= sign;
                assert!(acceptable_public_key(&bytes).is_none(), "y = p + {y}");
            }
        }
        let mut negative_identity = [0u8; 32];
        negative_identity[0] = 1;
        negative_identity[31] = 0x80;
        let mut negative_order_two = FIELD_PRIME;
        negative_order_two[0] -= 1;
        negative_order_two[31] |= 0x80;
        for bytes in [negative_identity, negative_order_two] {
            assert!(VerifyingKey::from_bytes(&bytes).is_ok());
            assert!(acceptable_public_key(&bytes).is_none());
        }
        // Not a point (y = 2 is not on the curve).
        let mut two = [0u8; 32];
        two[0] = 2;
        assert!(VerifyingKey::from_bytes(&two).is_err());
        assert!(acceptable_public_key(&two).is_none());
    }
}
