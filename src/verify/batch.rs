//! Batch verification: an audit of many credentials, checked in ed25519-dalek batches.
//! (A door's first tap no longer uses a batch: `pair.rs` checks its two signatures with
//! exactly `verify_strict`'s answers.)
//!
//! `ed25519_dalek::verify_batch` checks one random linear combination of the
//! verification equations. With `k_i = H(R_i || A_i || M_i)` and
//! `E_i = R_i + k_i A_i - S_i B`, it passes when `sum z_i E_i` is the identity, for
//! 128-bit `z_i` drawn from a hash of the whole batch; the coefficients of `B` and of
//! each `A_i` are reduced mod `l`, those of the `R_i` are the `z_i` themselves. It
//! answers only for the whole batch, and it skips checks that `verify_strict` makes:
//!
//! - A weak (small-order) key, and a key with a torsion component (`A = aB + T`, `T`
//!   of order 2, 4 or 8). The latter is not weak, but an honest signature under it
//!   leaves `(k mod l) T` in `verify_strict` and `(z k mod l) T` in the batch, and the
//!   reduction mod `l` makes the two vanish independently: of 128 honest signatures
//!   under one such key, 9 were denied one by one and passed a batch. Neither key gets
//!   here: `keys::acceptable_public_key` refuses both wherever a key enters the crate
//!   (trust anchors, issuer keys, card keys at issue and at a door), so every key in a
//!   batch is the canonical encoding of a point of order `l`.
//!   `VerifierState::verify_batch` refuses a weak key again, as a second line.
//! - A small-order `R`, and (in the equation) a non-canonical encoding of `R`: refused
//!   by byte checks in [`signature_is_canonical`]. A non-canonical `S` (`S >= l`) is
//!   refused there too, though the batch would refuse it as well.
//!
//! An item that fails a pre-check is denied as [`Denial::BadSignature`], exactly as
//! `verify_strict` would deny it. When a batch fails, its items are checked one by one
//! with `verify_strict` to name each bad one.
//!
//! One difference remains, and only the holder of a secret key can reach it. With
//! every `A_i` and `B` of order `l`, `E_i` is a part of order dividing `l` plus `T_i`,
//! the torsion component of `R_i`. `verify_strict` wants each `E_i` to be the identity
//! (and compares encodings); the batch wants `sum z_i E_i` to be. They part exactly on
//! a signature whose `R` is not of small order but has a torsion component, and whose
//! other part balances: `[8]S B = [8]R + [8]k A`, a valid *cofactored* Ed25519
//! signature. `verify_strict` refuses it; a batch whose other items are good accepts
//! it when `sum z_i T_i` is the identity, with probability `1/m` for `m` the largest
//! order (2, 4 or 8) among the batch's `T_i`. (The `z_i` are fixed by the batch's
//! contents, so whoever makes such signatures and knows the whole batch can try nonces
//! until it passes.) Without the secret key such a signature is a forgery against
//! cofactored verification, which is as hard as against `verify_strict`; it cannot be
//! bent out of an honest signature either, since a changed `R` changes `k`.
//! ed25519-dalek's signer never makes one (its `R` is `rB`). So it carries only claims,
//! or a challenge answer, that the key's holder signed and could have presented with
//! an honest signature: an audit ([`Verifier::verify_batch`]) may call such a
//! credential good while [`Verifier::verify`] denies it. (A door's first tap used a
//! batch of two, with the same difference, until `pair.rs` replaced it.) Refusing
//! it would need `[l]R` per signature, a scalar multiplication of about 0.7 of a
//! `verify_strict`, twice what a signature costs in a batch of 1,024. See
//! `ARCHITECTURE.md`.

use ed25519_dalek::{Signature, VerifyingKey};

/// Most signatures checked in one ed25519-dalek batch. A batch that fails is re-checked
/// one by one, so a forged credential in an audit costs at most this many single
/// verifications (about 40 ms). Per signature, a batch of 1,024 costs about 13% less
/// than four of 256 and little more than a larger one (see `BENCHMARKS.md`).
pub const MAX_BATCH_CHUNK: usize = 1024;

/// The order `l` of the Ed25519 base point, little-endian.
const GROUP_ORDER: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// The field prime `p = 2^255 - 19`, little-endian.
const FIELD_PRIME: [u8; 32] = [
    0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
];

/// The canonical `y` coordinates (sign bit cleared) of the eight points of small order:
/// 1 (the identity), `p - 1` (order 2), 0 (the two points of order 4) and the two `y`
/// values of the four points of order 8. The same list as libsodium's
/// `ge25519_has_small_order`; a unit test derives it independently.
const SMALL_ORDER_Y: [[u8; 32]; 5] = [
    [0; 32],
    [
        1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0,
    ],
    [
        0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ],
    [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ],
    [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ],
];

/// `a < b` for little-endian 256-bit numbers.
fn less_than(a: &[u8; 32], b: &[u8; 32]) -> bool {
    for (x, y) in a.iter().rev().zip(b.iter().rev()) {
        if x != y {
            return x < y;
        }
    }
    false
}

/// Whether `R` (the first half of a signature) is a canonical encoding of a point that
/// is not of small order, as far as the bytes tell. A `y` that is not on the curve is
/// left to the equation, which refuses it in both modes.
pub(crate) fn r_is_acceptable(r: &[u8; 32]) -> bool {
    let mut y = *r;
    y[31] &= 0x7f;
    less_than(&y, &FIELD_PRIME) && !SMALL_ORDER_Y.contains(&y)
}

/// The signature half of `verify_strict`'s checks before its equation, and what its
/// byte comparison refuses: `S < l`, and `R` a canonical encoding of a point not of
/// small order. For a key whose weakness is checked apart.
pub(crate) fn signature_is_canonical(signature: &Signature) -> bool {
    less_than(signature.s_bytes(), &GROUP_ORDER) && r_is_acceptable(signature.r_bytes())
}

/// Whether a signature under `key` may join a batch: everything `verify_strict`
/// refuses before its equation (weak key, small-order `R`, non-canonical `S`) and what
/// its byte comparison refuses (non-canonical `R`). An item that fails is denied
/// without a batch; one that passes, under a key `keys::acceptable_public_key`
/// accepted, gets the same answer from the batch as from `verify_strict` (see the
/// module docs for the one exception, a torsion `R` made with the secret key).
/// `verify_batch` makes the same two checks, with each key's weakness checked once.
#[cfg(test)]
pub(crate) fn passes_strict_prechecks(key: &VerifyingKey, signature: &Signature) -> bool {
    !key.is_weak() && signature_is_canonical(signature)
}

/// Proof that an ed25519-dalek batch holding a credential's signature verified (its
/// items having passed `verify_strict`'s pre-checks). Only [`verify_together`] makes
/// one; [`VerifierState::accept`] takes it in place of checking the signature again.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BatchVerified(());

/// Checks every (message, signature, key) triple in one batch. Only items that passed
/// `verify_strict`'s pre-checks (a key not weak, [`signature_is_canonical`]) may be
/// given. A proof only if every signature is good.
pub(crate) fn verify_together(
    messages: &[&[u8]],
    signatures: &[Signature],
    keys: &[VerifyingKey],
) -> Option<BatchVerified> {
    ed25519_dalek::verify_batch(messages, signatures, keys)
        .ok()
        .map(|()| BatchVerified(()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
    use curve25519_dalek::scalar::Scalar;
    use std::collections::BTreeSet;

    /// The torsion subgroup, found without trusting the table above: `l * Q` for a
    /// point `Q` with a torsion component of order 8, and its multiples.
    fn torsion_points() -> Vec<EdwardsPoint> {
        for seed in 0u8..=255 {
            let mut bytes = [seed; 32];
            bytes[31] &= 0x7f;
            let Some(q) = CompressedEdwardsY(bytes).decompress() else {
                continue;
            };
            // (l - 1) * Q + Q = l * Q, computed on the integer l - 1.
            let t = q * (-Scalar::ONE) + q;
            let points: Vec<EdwardsPoint> = (0u64..8).map(|k| t * Scalar::from(k)).collect();
            let distinct: BTreeSet<[u8; 32]> = points.iter().map(|p| p.compress().0).collect();
            if distinct.len() == 8 {
                return points;
            }
        }
        unreachable!("some small seed gives a point with an order-8 component")
    }

    #[test]
    fn small_order_table_is_exactly_the_torsion_subgroup() {
        let torsion = torsion_points();
        let ys: BTreeSet<[u8; 32]> = torsion
            .iter()
            .map(|p| {
                assert!(p.is_small_order());
                let mut y = p.compress().0;
                y[31] &= 0x7f;
                y
            })
            .collect();
        let table: BTreeSet<[u8; 32]> = SMALL_ORDER_Y.iter().copied().collect();
        assert_eq!(ys, table);
        for y in SMALL_ORDER_Y {
            for sign in [0u8, 0x80] {
                let mut r = y;
                r[31] |= sign;
                assert!(!r_is_acceptable(&r));
                if let Some(p) = CompressedEdwardsY(r).decompress() {
                    assert!(p.is_small_order());
                }
            }
        }
    }

    #[test]
    fn prechecks_match_verify_strict_on_r_and_s() {
        use curve25519_dalek::constants::ED25519_BASEPOINT_POINT as B;
        // Ordinary points pass.
        for k in 1u64..200 {
            let r = (B * Scalar::from(k)).compress().0;
            assert!(r_is_acceptable(&r), "k = {k}");
        }
        // Every non-canonical y (y + p for y < 19) is refused, with either sign.
        for y in 0u8..19 {
            let mut r = FIELD_PRIME;
            r[0] = r[0].wrapping_add(y);
            assert!(!r_is_acceptable(&r));
            r[31] |= 0x80;
            assert!(!r_is_acceptable(&r));
        }
        // S: l - 1 is canonical, l and l + 1 and 2^255 - 1 are not.
        let mut l_minus_1 = GROUP_ORDER;
        l_minus_1[0] -= 1;
        assert!(less_than(&l_minus_1, &GROUP_ORDER));
        assert!(!less_than(&GROUP_ORDER, &GROUP_ORDER));
        let mut l_plus_1 = GROUP_ORDER;
        l_plus_1[0] += 1;
        assert!(!less_than(&l_plus_1, &GROUP_ORDER));
        assert!(!less_than(&[0xff; 32], &GROUP_ORDER));
        assert_eq!(
            Option::<Scalar>::from(Scalar::from_canonical_bytes(l_minus_1)).is_some(),
            less_than(&l_minus_1, &GROUP_ORDER)
        );
        assert!(Option::<Scalar>::from(Scalar::from_canonical_bytes(GROUP_ORDER)).is_none());
    }

    #[test]
    fn a_weak_key_never_joins_a_batch() {
        // The identity as a public key, and the "signature" (R = identity, S = 0) that
        // satisfies the cofactorless equation for every message under it.
        let identity = CompressedEdwardsY([
            1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0,
        ]);
        let weak = VerifyingKey::from_bytes(identity.as_bytes()).unwrap();
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(identity.as_bytes());
        let sig = Signature::from_bytes(&sig);
        let msg: &[u8] = b"anything at all";
        assert!(
            verify_together(&[msg], &[sig], &[weak]).is_some(),
            "the bare batch accepts it: this is why the pre-check exists"
        );
        assert!(weak.verify_strict(msg, &sig).is_err());
        assert!(!passes_strict_prechecks(&weak, &sig));
    }
}
