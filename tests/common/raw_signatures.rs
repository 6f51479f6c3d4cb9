//! Signatures made from raw curve material, for the properties that hold the crate's
//! signature checks to `verify_strict`'s answers: keys with and without torsion
//! components, of small order, non-canonically encoded; signatures honest, with a
//! torsion component in `R` (made with the secret), with a small-order or
//! non-canonical `R`, with `S + l`, over another message.
//!
//! Shared by `tests/properties.rs` (through `common`) and by the unit tests of
//! `src/verify/pair.rs` (through a `#[path]` module), so it uses only proptest,
//! curve25519-dalek and sha2.
#![allow(dead_code, unreachable_pub)]

use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT as B, EIGHT_TORSION};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use proptest::prelude::*;
use sha2::{Digest as _, Sha512};

/// The 32 bytes offered as an issuer public key, made from raw curve material.
#[derive(Debug, Clone, Copy)]
pub enum KeySpec {
    /// `aB`, as key generation makes it.
    Honest([u8; 32]),
    /// `aB + T` with `T = EIGHT_TORSION[t]`, `t` in 1..8: a torsion component of order
    /// 8, 4 or 2. Not of small order, so not "weak".
    Torsion([u8; 32], usize),
    /// `EIGHT_TORSION[t]` alone, `t` in 0..8: the identity or a point of order 2, 4, 8.
    SmallOrder(usize),
    /// `y + p` for a `y` below 19 (with the sign bit given): every non-canonical `y`.
    NonCanonical(u8, bool),
}

/// A key's bytes, and the scalar its holder signs with (0 where no one knows one).
pub struct RawKey {
    pub bytes: [u8; 32],
    pub secret: Scalar,
}

/// The field prime `p = 2^255 - 19`, little-endian.
pub const FIELD_PRIME: [u8; 32] = {
    let mut p = [0xff; 32];
    p[0] = 0xed;
    p[31] = 0x7f;
    p
};

impl KeySpec {
    pub fn make(self) -> RawKey {
        match self {
            Self::Honest(seed) => {
                let secret = Scalar::from_bytes_mod_order(seed);
                RawKey {
                    bytes: (B * secret).compress().0,
                    secret,
                }
            }
            Self::Torsion(seed, t) => {
                let secret = Scalar::from_bytes_mod_order(seed);
                RawKey {
                    bytes: (B * secret + EIGHT_TORSION[t]).compress().0,
                    secret,
                }
            }
            Self::SmallOrder(t) => RawKey {
                bytes: EIGHT_TORSION[t].compress().0,
                secret: Scalar::ZERO,
            },
            Self::NonCanonical(y, negative) => {
                let mut bytes = FIELD_PRIME;
                bytes[0] += y;
                if negative {
                    bytes[31] |= 0x80;
                }
                RawKey {
                    bytes,
                    secret: Scalar::ZERO,
                }
            }
        }
    }
}

/// Non-canonical encodings of points of small order, as an `R`: `y = 1 + p` (the
/// identity, both signs), the identity and the point of order 2 with the sign bit set
/// on `x = 0`, and `y = p` (the points of order 4, both signs).
pub const NONCANONICAL_SMALL_R: [[u8; 32]; 6] = {
    let mut one_plus_p = FIELD_PRIME;
    one_plus_p[0] = 0xee;
    let mut one_plus_p_negative = one_plus_p;
    one_plus_p_negative[31] = 0xff;
    let mut negative_identity = [0u8; 32];
    negative_identity[0] = 1;
    negative_identity[31] = 0x80;
    let mut negative_order_two = FIELD_PRIME;
    negative_order_two[0] = 0xec;
    negative_order_two[31] = 0xff;
    let mut p_negative = FIELD_PRIME;
    p_negative[31] = 0xff;
    [
        one_plus_p,
        one_plus_p_negative,
        negative_identity,
        negative_order_two,
        FIELD_PRIME,
        p_negative,
    ]
};

/// How a credential's signature is made, with the key's scalar `a` and a nonce `r`.
#[derive(Debug, Clone, Copy)]
pub enum SigSpec {
    /// `R = rB`, `S = r + k a`.
    Honest,
    /// `R = rB + EIGHT_TORSION[t]`, `t` in 1..8, `S = r + k a`: made with the secret,
    /// its `R` carries a torsion component.
    TorsionR(usize),
    /// `R = EIGHT_TORSION[t]` (small order), `S = k a`.
    SmallOrderR(usize),
    /// `R = NONCANONICAL_SMALL_R[i]`, `S = k a`.
    NonCanonicalR(usize),
    /// An honest signature with `l` added to `S`.
    SPlusL,
    /// An honest signature over the message with one bit flipped (at the index modulo
    /// the message length).
    OtherMessage(usize, u8),
}

pub fn key_spec() -> impl Strategy<Value = KeySpec> {
    prop_oneof![
        3 => any::<[u8; 32]>().prop_map(KeySpec::Honest),
        3 => (any::<[u8; 32]>(), 1usize..8).prop_map(|(seed, t)| KeySpec::Torsion(seed, t)),
        1 => (0usize..8).prop_map(KeySpec::SmallOrder),
        1 => (0u8..19, any::<bool>()).prop_map(|(y, neg)| KeySpec::NonCanonical(y, neg)),
    ]
}

pub fn sig_spec() -> impl Strategy<Value = SigSpec> {
    prop_oneof![
        5 => Just(SigSpec::Honest),
        3 => (1usize..8).prop_map(SigSpec::TorsionR),
        1 => (0usize..8).prop_map(SigSpec::SmallOrderR),
        1 => (0..NONCANONICAL_SMALL_R.len()).prop_map(SigSpec::NonCanonicalR),
        1 => Just(SigSpec::SPlusL),
        1 => (any::<usize>(), 0u8..8).prop_map(|(at, bit)| SigSpec::OtherMessage(at, bit)),
    ]
}

/// `k = H(R || A || M)`.
pub fn challenge_scalar(r: &[u8], a: &[u8; 32], message: &[u8]) -> Scalar {
    let mut h = Sha512::new();
    h.update(r);
    h.update(a);
    h.update(message);
    Scalar::from_bytes_mod_order_wide(&h.finalize().into())
}

/// The order `l` of the base point, little-endian.
pub const GROUP_ORDER: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

pub fn sign_raw(key: &RawKey, spec: SigSpec, nonce: [u8; 32], message: &[u8]) -> [u8; 64] {
    let r = Scalar::from_bytes_mod_order(nonce);
    let (r_bytes, r) = match spec {
        SigSpec::Honest | SigSpec::SPlusL | SigSpec::OtherMessage(..) => ((B * r).compress().0, r),
        SigSpec::TorsionR(t) => ((B * r + EIGHT_TORSION[t]).compress().0, r),
        SigSpec::SmallOrderR(t) => (EIGHT_TORSION[t].compress().0, Scalar::ZERO),
        SigSpec::NonCanonicalR(i) => (NONCANONICAL_SMALL_R[i], Scalar::ZERO),
    };
    let mut signed = message.to_vec();
    if let SigSpec::OtherMessage(at, bit) = spec {
        let len = signed.len();
        signed[at % len] ^= 1 << bit;
    }
    let s = r + challenge_scalar(&r_bytes, &key.bytes, &signed) * key.secret;
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(&r_bytes);
    sig[32..].copy_from_slice(s.as_bytes());
    if let SigSpec::SPlusL = spec {
        let mut carry = 0u16;
        for (byte, l) in sig[32..].iter_mut().zip(GROUP_ORDER) {
            let sum = u16::from(*byte) + u16::from(l) + carry;
            *byte = sum as u8;
            carry = sum >> 8;
        }
        assert_eq!(carry, 0);
    }
    sig
}

pub fn decompress(bytes: &[u8]) -> Option<EdwardsPoint> {
    CompressedEdwardsY(bytes.try_into().ok()?).decompress()
}
