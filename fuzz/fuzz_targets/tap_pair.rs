//! A door's first-tap signature check (`verify::pair::verify_strict_pair`, exposed to
//! cargo-fuzz builds as `revocard::fuzzing::verify_strict_pair_bytes`) against two
//! ed25519-dalek `verify_strict` calls: for any two keys, messages and signatures, the
//! two answers must be exactly `verify_strict`'s.
//!
//! Each key is raw bytes, or made from a scalar `a` as `aB`, `aB + T` (a torsion
//! component, `T` of order 2, 4 or 8) or `T` alone (small order). Each signature is raw
//! bytes, or made with a scalar key and a nonce `r`: honest (`R = rB`, `S = r + k a`),
//! with `R = rB + T`, with `R` of small order, with `S + l`, signed by the other key or
//! over another message, and then optionally with one byte XORed, so that structured,
//! nearly valid signatures reach the equation.
#![no_main]

use arbitrary::Arbitrary;
use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT as B, EIGHT_TORSION};
use curve25519_dalek::scalar::Scalar;
use libfuzzer_sys::fuzz_target;
use sha2::{Digest as _, Sha512};

#[derive(Arbitrary, Debug)]
enum KeyIn {
    Raw([u8; 32]),
    Honest([u8; 32]),
    Torsion([u8; 32], u8),
    SmallOrder(u8),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Make {
    Honest,
    TorsionR(u8),
    SmallOrderR(u8),
    SPlusL,
    OtherKey,
    OtherMessage,
}

#[derive(Arbitrary, Debug)]
enum SigIn {
    Raw([u8; 64]),
    Made {
        how: Make,
        nonce: [u8; 32],
        tweak: Option<(u8, u8)>,
    },
}

#[derive(Arbitrary, Debug)]
struct Input {
    issuer: KeyIn,
    card: KeyIn,
    first: SigIn,
    second: SigIn,
    m1: Vec<u8>,
    m2: Vec<u8>,
}

/// A key's bytes and the scalar that signs for it.
fn key(k: &KeyIn) -> ([u8; 32], Scalar) {
    match *k {
        KeyIn::Raw(bytes) => (bytes, Scalar::from_bytes_mod_order(bytes)),
        KeyIn::Honest(seed) => {
            let a = Scalar::from_bytes_mod_order(seed);
            ((B * a).compress().0, a)
        }
        KeyIn::Torsion(seed, t) => {
            let a = Scalar::from_bytes_mod_order(seed);
            ((B * a + EIGHT_TORSION[usize::from(t % 8)]).compress().0, a)
        }
        KeyIn::SmallOrder(t) => (EIGHT_TORSION[usize::from(t % 8)].compress().0, Scalar::ZERO),
    }
}

/// The order `l`, little-endian.
const L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

fn sign(s: &SigIn, key: ([u8; 32], Scalar), other: Scalar, message: &[u8]) -> [u8; 64] {
    let (how, nonce, tweak) = match *s {
        SigIn::Raw(bytes) => return bytes,
        SigIn::Made { how, nonce, tweak } => (how, nonce, tweak),
    };
    let r = Scalar::from_bytes_mod_order(nonce);
    let (r_bytes, r) = match how {
        Make::TorsionR(t) => ((B * r + EIGHT_TORSION[usize::from(t % 8)]).compress().0, r),
        Make::SmallOrderR(t) => (EIGHT_TORSION[usize::from(t % 8)].compress().0, Scalar::ZERO),
        _ => ((B * r).compress().0, r),
    };
    let mut signed = message.to_vec();
    if let Make::OtherMessage = how {
        signed.push(0);
    }
    let k = Scalar::from_bytes_mod_order_wide(
        &Sha512::new()
            .chain_update(r_bytes)
            .chain_update(key.0)
            .chain_update(&signed)
            .finalize()
            .into(),
    );
    let secret = if let Make::OtherKey = how { other } else { key.1 };
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(&r_bytes);
    sig[32..].copy_from_slice((r + k * secret).as_bytes());
    if let Make::SPlusL = how {
        let mut carry = 0u16;
        for (byte, l) in sig[32..].iter_mut().zip(L) {
            let sum = u16::from(*byte) + u16::from(l) + carry;
            *byte = sum as u8;
            carry = sum >> 8;
        }
    }
    if let Some((at, xor)) = tweak {
        sig[usize::from(at % 64)] ^= xor;
    }
    sig
}

fn strict(key: &[u8; 32], message: &[u8], sig: &[u8; 64]) -> bool {
    ed25519_dalek::VerifyingKey::from_bytes(key)
        .is_ok_and(|k| k.verify_strict(message, &ed25519_dalek::Signature::from_bytes(sig)).is_ok())
}

fuzz_target!(|input: Input| {
    let issuer = key(&input.issuer);
    let card = key(&input.card);
    let s1 = sign(&input.first, issuer, card.1, &input.m1);
    let s2 = sign(&input.second, card, issuer.1, &input.m2);
    let expected = [strict(&issuer.0, &input.m1, &s1), strict(&card.0, &input.m2, &s2)];
    match revocard::fuzzing::verify_strict_pair_bytes(&issuer.0, (&input.m1, &s1), &card.0, (&input.m2, &s2)) {
        Some(answers) => assert_eq!(answers, expected, "{input:?}"),
        None => assert!(
            (ed25519_dalek::VerifyingKey::from_bytes(&issuer.0).is_err() && !expected[0])
                || (ed25519_dalek::VerifyingKey::from_bytes(&card.0).is_err() && !expected[1])
        ),
    }
});
