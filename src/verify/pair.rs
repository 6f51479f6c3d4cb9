//! A door's first tap: the credential's signature and the card's response, checked
//! with exactly the answers of two `verify_strict` calls, each answer its own.
//!
//! `verify_strict(A, M, (R, S))` refuses `S >= l`, an `R` that does not decompress,
//! an `R` or an `A` of small order, and otherwise recomputes `R' = [S]B + [k](-A)` with
//! `k = H(R || A || M) mod l` (curve25519-dalek's `vartime_double_scalar_mul_basepoint`)
//! and compares `R'`'s canonical encoding with the bytes of `R`.
//! [`verify_strict_pair`] computes the same `R'` for each signature, the same way, and
//! compares the same bytes; what it leaves out or shares:
//!
//! - `R` is never decompressed. Once `R'` is computed, "`R` decompresses, is not of
//!   small order, and `R'` encodes to its bytes" holds exactly when "`R'` encodes to the
//!   bytes of `R`, and those bytes (then a canonical encoding) are not one of a point of
//!   small order", which `batch::r_is_acceptable` answers from the bytes (a unit test
//!   there derives its table of the small-order encodings from the group itself).
//! - The two `R'` are encoded with one field inversion (`compress_batch`).
//!
//! Why not both equations in one multiscalar multiplication, as a batch does: a random
//! linear combination `z1 E1 + z2 E2` of the two equations (`E_i = R_i - [S_i]B +
//! [k_i]A_i`) answers for their prime-order parts but not for their torsion parts: a
//! point's torsion component lives in a cyclic group of order 8, so one resulting point
//! holds 3 bits of torsion where the two equations hold 6, and some pair of non-zero
//! torsion components cancels for every choice of `z`. `verify_strict` refuses an `R`
//! with a torsion component that the key's holder balanced in the cofactored equation;
//! a combined check would admit some of them (see `batch.rs` for the batch's one such
//! difference). Telling them apart costs a scalar multiplication by `l` per signature,
//! as much as a second equation. So each signature gets its own equation.
//!
//! **The exact route to about 1.5x, and why it is not taken here.** Halving the
//! scalars (T. Pornin, "Optimized lattice basis reduction in dimension 2, and fast
//! Schnorr and EdDSA signature verification", 2020) keeps `verify_strict`'s answers
//! exactly: with `k` the integer in `[0, l)`, find by a reduction in dimension 2 an odd
//! `v` and a `u` with `u = v k mod 8l`, both below about 2^128, and check
//! `[v]R + [u]A - [v S mod l]B = 0` (with `R` decompressed, its bytes checked as now).
//! That point is `[v](R - R')`; `v` is odd and below `l`, so prime to the group's
//! order `8l`, and it is the identity exactly when `R = R'`, torsion included (the
//! reduction is modulo `8l`, not `l`, so `[u]A = [v k]A` for a key with a torsion
//! component too). Split `v S mod l` into two halves on `B` and `[2^128]B`, and one
//! chain of about 128 doublings replaces 253 (not measured here: it cannot be built on
//! this crate's curve library, below). curve25519-dalek's public API cannot run it: its multiscalar
//! multiplications (`VartimeMultiscalarMul`, `VartimePrecomputedMultiscalarMul`) run
//! all 256 doublings whatever the scalars' length, the one chain that skips leading
//! zeros (`vartime_double_scalar_mul_basepoint`) has room for a single variable point,
//! and a doubling is not public. Building the chain needs either such an API upstream
//! or a second curve implementation under the door's decision (crrl, the paper's
//! own, is a research library whose Ed25519 check is cofactored); neither is taken.
//!
//! Not done either: tables of multiples of the issuer key made once per key. Width-8
//! windows (curve25519-dalek's `VartimeEdwardsPrecomputation`, about 20 KB a key)
//! saved about 1% of the credential's half (see BENCHMARKS.md, "Tap (issue 23)"): that
//! precomputed multiplication still runs all 256 doublings, which are most of the cost.
//! A fixed-base table of `-A` (`EdwardsBasepointTable`, radix 16, 30,920 bytes a key
//! with the key; `[S]B + [k](-A)` as `mul_base(S)` plus the table's `mul_base(k)`, 4
//! doublings each, the same point as the chain since both compute integer multiples)
//! saved nothing measurable on x86-64 with AVX2: curve25519-dalek runs the double-base
//! chain on its AVX2 backend, its fixed-base tables only serially, and the two cost
//! the same (pair with the table / pair on the chain 0.97x to 1.01x). On the serial
//! backend (no AVX2, an ARM door) it was 0.79x, about 0.37x of a verification a first
//! tap (BENCHMARKS.md, "Tap: a fixed-base table per issuer key").

use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest as _, Sha512};

use crate::verify::batch::r_is_acceptable;

/// One signed message: the message, and the signature over it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Signed<'a> {
    pub(crate) message: &'a [u8],
    pub(crate) signature: &'a Signature,
}

/// `k = H(R || A || M) mod l`, over the key's bytes as given (as `verify_strict` hashes
/// them, canonical or not).
fn challenge(key: &VerifyingKey, signed: Signed<'_>) -> Scalar {
    let digest = Sha512::new()
        .chain_update(signed.signature.r_bytes())
        .chain_update(key.as_bytes())
        .chain_update(signed.message)
        .finalize();
    let mut wide = [0u8; 64];
    wide.copy_from_slice(digest.as_slice());
    Scalar::from_bytes_mod_order_wide(&wide)
}

/// `S`, if canonical (`S < l`) and `R`'s bytes acceptable (not a non-canonical `y`,
/// not a point of small order): `verify_strict`'s checks before its equation, on the
/// signature's side.
fn canonical_s(signature: &Signature) -> Option<Scalar> {
    if !r_is_acceptable(signature.r_bytes()) {
        return None;
    }
    Option::from(Scalar::from_canonical_bytes(*signature.s_bytes()))
}

/// `R' = [S]B + [k](-A)` as `verify_strict` computes it (the point negated, not the
/// scalar: `[l - k]A` is `[k](-A)` only for `A` of order `l`), or `None` where
/// `verify_strict` refuses before its equation.
fn expected_r(key: &VerifyingKey, signed: Signed<'_>) -> Option<EdwardsPoint> {
    let point = key.to_edwards();
    if point.is_small_order() {
        return None;
    }
    let s = canonical_s(signed.signature)?;
    let k = challenge(key, signed);
    Some(EdwardsPoint::vartime_double_scalar_mul_basepoint(
        &k, &-point, &s,
    ))
}

/// Whether `R'` encodes to the bytes of the signature's `R`.
fn matches(expected: [u8; 32], signed: Signed<'_>) -> bool {
    &expected == signed.signature.r_bytes()
}

/// The answers `[first_key.verify_strict(first).is_ok(),
/// second_key.verify_strict(second).is_ok()]` would give, for any keys and any bytes:
/// each signature is decided on its own (see the module docs), so a bad one never makes
/// the other fail, and no fallback is needed to name the bad one.
pub(crate) fn verify_strict_pair(
    first_key: &VerifyingKey,
    first: Signed<'_>,
    second_key: &VerifyingKey,
    second: Signed<'_>,
) -> [bool; 2] {
    match (expected_r(first_key, first), expected_r(second_key, second)) {
        (Some(r1), Some(r2)) => {
            let [c1, c2] = EdwardsPoint::compress_batch(&[r1, r2]);
            [matches(c1.0, first), matches(c2.0, second)]
        }
        (Some(r1), None) => [matches(r1.compress().0, first), false],
        (None, Some(r2)) => [false, matches(r2.compress().0, second)],
        (None, None) => [false, false],
    }
}

/// [`verify_strict_pair`] on raw bytes, for the differential fuzz target and the
/// property tests below.
#[cfg(any(fuzzing, test))]
pub(crate) mod fuzzing {
    use super::*;

    /// What the door decides for a credential signed under `issuer` and a response
    /// signed under `card`: `[verify_strict, verify_strict]` by [`verify_strict_pair`].
    /// Also checks that the pair in the other order answers the same, swapped. `None`
    /// if a key does not decompress (the trust store and the door refuse such keys
    /// before any signature check).
    #[must_use]
    #[cfg_attr(not(fuzzing), allow(unreachable_pub))] // public only for cargo-fuzz
    pub fn verify_strict_pair_bytes(
        issuer: &[u8; 32],
        first: (&[u8], &[u8; 64]),
        card: &[u8; 32],
        second: (&[u8], &[u8; 64]),
    ) -> Option<[bool; 2]> {
        let issuer = VerifyingKey::from_bytes(issuer).ok()?;
        let card = VerifyingKey::from_bytes(card).ok()?;
        let (s1, s2) = (
            Signature::from_bytes(first.1),
            Signature::from_bytes(second.1),
        );
        let first = Signed {
            message: first.0,
            signature: &s1,
        };
        let second = Signed {
            message: second.0,
            signature: &s2,
        };
        let answers = verify_strict_pair(&issuer, first, &card, second);
        let swapped = verify_strict_pair(&card, second, &issuer, first);
        assert_eq!(swapped, [answers[1], answers[0]]);
        Some(answers)
    }
}

/// Keys and signatures made from raw curve material (shared with `tests/properties.rs`).
#[cfg(test)]
#[path = "../../tests/common/raw_signatures.rs"]
mod raw_signatures;

#[cfg(test)]
mod tests {
    use super::raw_signatures::*;
    use super::*;
    use curve25519_dalek::constants::EIGHT_TORSION;
    use proptest::prelude::*;

    /// Two `verify_strict` calls: the answers the pair must give.
    fn strict(key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
        VerifyingKey::from_bytes(key).is_ok_and(|k| {
            k.verify_strict(message, &Signature::from_bytes(signature))
                .is_ok()
        })
    }

    // The pair's answers, where both keys decompress (a key that does not is refused
    // before any check: by the trust store for an issuer, by the door for a card); with
    // the halves swapped, the answers swap (checked inside).
    use super::fuzzing::verify_strict_pair_bytes as pair;

    /// Signs `message` under `key` as `spec` says, and checks that the pair answers as
    /// two `verify_strict` calls, with the credential and response in either role.
    fn agree(
        issuer: &RawKey,
        first: (SigSpec, [u8; 32], &[u8]),
        card: &RawKey,
        second: (SigSpec, [u8; 32], &[u8]),
    ) -> Result<[bool; 2], TestCaseError> {
        agree_signed_by(issuer, issuer, first, card, card, second)
    }

    /// [`agree`], with each signature made by `signer` (the wrong key, if not the key).
    fn agree_signed_by(
        issuer: &RawKey,
        signer1: &RawKey,
        first: (SigSpec, [u8; 32], &[u8]),
        card: &RawKey,
        signer2: &RawKey,
        second: (SigSpec, [u8; 32], &[u8]),
    ) -> Result<[bool; 2], TestCaseError> {
        let s1 = sign_raw(signer1, first.0, first.1, first.2);
        let s2 = sign_raw(signer2, second.0, second.1, second.2);
        let expected = [
            strict(&issuer.bytes, first.2, &s1),
            strict(&card.bytes, second.2, &s2),
        ];
        if let Some(answers) = pair(&issuer.bytes, (first.2, &s1), &card.bytes, (second.2, &s2)) {
            prop_assert_eq!(
                answers,
                expected,
                "{:?} under {:02x?}, {:?} under {:02x?}",
                first.0,
                issuer.bytes,
                second.0,
                card.bytes
            );
        } else {
            // A key that does not decompress: verify_strict refuses everything under it.
            prop_assert!(
                (VerifyingKey::from_bytes(&issuer.bytes).is_err() && !expected[0])
                    || (VerifyingKey::from_bytes(&card.bytes).is_err() && !expected[1])
            );
        }
        Ok(expected)
    }

    /// A key as key generation makes it (`seed` not 0: the scalar 0 makes the identity).
    fn honest(seed: u8) -> RawKey {
        assert_ne!(seed, 0);
        KeySpec::Honest([seed; 32]).make()
    }

    #[test]
    fn every_kind_of_signature_gets_verify_strict_s_answer() {
        let message: &[u8] = b"revocard/v1/credential\0 some claims";
        let response: &[u8] = b"a challenge and a credential digest";
        let mut keys = vec![honest(1), honest(2)];
        for t in 0..8 {
            keys.push(KeySpec::SmallOrder(t).make());
            if t > 0 {
                keys.push(KeySpec::Torsion([t as u8 + 3; 32], t).make());
            }
        }
        for y in [0u8, 1, 18] {
            keys.push(KeySpec::NonCanonical(y, false).make());
            keys.push(KeySpec::NonCanonical(y, true).make());
        }
        let mut specs = vec![
            SigSpec::Honest,
            SigSpec::SPlusL,
            SigSpec::OtherMessage(3, 1),
        ];
        specs.extend((1..8).map(SigSpec::TorsionR));
        specs.extend((0..8).map(SigSpec::SmallOrderR));
        specs.extend((0..NONCANONICAL_SMALL_R.len()).map(SigSpec::NonCanonicalR));
        let (mut accepted, mut refused) = (0, 0);
        for (i, issuer) in keys.iter().enumerate() {
            let card = &keys[(i * 7 + 3) % keys.len()];
            for (j, &spec) in specs.iter().enumerate() {
                let other = specs[(j * 5 + i) % specs.len()];
                let nonce = [(i as u8 ^ (j as u8).rotate_left(4)) | 0x80; 32];
                let answers = agree(
                    issuer,
                    (spec, nonce, message),
                    card,
                    (other, [7; 32], response),
                )
                .unwrap();
                for a in answers {
                    if a {
                        accepted += 1;
                    } else {
                        refused += 1;
                    }
                }
            }
        }
        // Both answers occur, so the comparison is not vacuous.
        assert!(accepted >= 10 && refused >= 500, "{accepted} / {refused}");
    }

    /// The cases where a batch and `verify_strict` part (see `batch.rs`): an `R` with a
    /// torsion component made with the secret, under a key of order `l`. The pair
    /// refuses every one, whatever the other signature.
    #[test]
    fn a_torsion_r_made_with_the_secret_is_refused_as_verify_strict_refuses_it() {
        let issuer = honest(9);
        let card = honest(10);
        for t in 1..8 {
            // Nonce 0 would make R the identity (small order).
            for nonce in 1u8..16 {
                let answers = agree(
                    &issuer,
                    (SigSpec::TorsionR(t), [nonce; 32], b"claims"),
                    &card,
                    (SigSpec::TorsionR(8 - t), [nonce ^ 0x55; 32], b"response"),
                )
                .unwrap();
                assert_eq!(answers, [false, false], "t = {t}, nonce = {nonce}");
                let answers = agree(
                    &issuer,
                    (SigSpec::Honest, [nonce; 32], b"claims"),
                    &card,
                    (SigSpec::TorsionR(t), [nonce ^ 0x55; 32], b"response"),
                )
                .unwrap();
                assert_eq!(answers, [true, false], "t = {t}, nonce = {nonce}");
            }
        }
        // A key with a torsion component: verify_strict accepts exactly the signatures
        // whose R balances the torsion (R = rB - kT), and so does the pair.
        let torsion = KeySpec::Torsion([11; 32], 4).make();
        let (mut accepted, mut refused) = (0, 0);
        for nonce in 1u8..64 {
            let [ok, _] = agree(
                &torsion,
                (SigSpec::Honest, [nonce; 32], b"claims"),
                &card,
                (SigSpec::Honest, [nonce; 32], b"response"),
            )
            .unwrap();
            if ok {
                accepted += 1;
            } else {
                refused += 1;
            }
        }
        assert!(accepted > 0 && refused > 0, "{accepted} / {refused}");
        assert!(EIGHT_TORSION[4].is_small_order());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// On any mixture of keys (honest, with a torsion component, of small order,
        /// non-canonical) and signatures (honest, torsion `R`, small-order and
        /// non-canonical `R`, `S + l`, another message), the pair answers as two
        /// `verify_strict` calls.
        /// Each signature is made by its own key or, when `wrong` says so, by the
        /// other key or a third one.
        #[test]
        fn the_pair_answers_as_two_verify_strict_calls(
            issuer in key_spec(),
            card in key_spec(),
            third in key_spec(),
            wrong in (0u8..4, 0u8..4),
            first in (sig_spec(), any::<[u8; 32]>(), proptest::collection::vec(any::<u8>(), 1..200)),
            second in (sig_spec(), any::<[u8; 32]>(), proptest::collection::vec(any::<u8>(), 1..80)),
        ) {
            let (issuer, card, third) = (issuer.make(), card.make(), third.make());
            let signer1 = match wrong.0 { 2 => &card, 3 => &third, _ => &issuer };
            let signer2 = match wrong.1 { 2 => &issuer, 3 => &third, _ => &card };
            agree_signed_by(
                &issuer,
                signer1,
                (first.0, first.1, &first.2),
                &card,
                signer2,
                (second.0, second.1, &second.2),
            )?;
        }

        /// A signature with random bytes for `R` and `S` (mostly not points, not
        /// canonical) under honest keys.
        #[test]
        fn random_signature_bytes_are_refused_as_verify_strict_refuses_them(
            seeds in (1u8.., 1u8..),
            r in any::<[u8; 32]>(),
            s in any::<[u8; 32]>(),
            message in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let issuer = honest(seeds.0);
            let card = honest(seeds.1);
            let mut sig = [0u8; 64];
            sig[..32].copy_from_slice(&r);
            sig[32..].copy_from_slice(&s);
            let good = sign_raw(&card, SigSpec::Honest, [7; 32], &message);
            let expected = [strict(&issuer.bytes, &message, &sig), strict(&card.bytes, &message, &good)];
            prop_assert_eq!(expected, [false, true]);
            prop_assert_eq!(pair(&issuer.bytes, (&message, &sig), &card.bytes, (&message, &good)), Some(expected));
        }
    }
}
