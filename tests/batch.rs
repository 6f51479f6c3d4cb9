//! Batch verification gives, credential by credential, the answers of one-by-one
//! `verify`: on good, revoked, tampered and malformed credentials, and on signatures
//! crafted with ed25519-dalek and curve25519-dalek directly that a bare batch would
//! accept and `verify_strict` refuses (small-order R, non-canonical R, S + l, weak keys).
//! Keys with a torsion component, under which the two disagree, are refused wherever a
//! public key enters the crate.

mod common;

use common::*;
use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;
use revocard::door::*;
use revocard::format::*;
use revocard::issue::*;
use revocard::*;
use sha2::{Digest, Sha512};

/// The secret scalar of an issuer key, as RFC 8032 derives it from the seed.
fn secret_scalar(key: &IssuerKey) -> Scalar {
    let h = Sha512::digest(key.to_secret_bytes().unwrap().as_slice());
    let mut a = [0u8; 32];
    a.copy_from_slice(&h[..32]);
    a[0] &= 248;
    a[31] &= 127;
    a[31] |= 64;
    Scalar::from_bytes_mod_order(a)
}

/// The message a credential signature covers.
fn message(bytes: &[u8]) -> Vec<u8> {
    let mut m = CREDENTIAL_DOMAIN.to_vec();
    m.push(FORMAT_VERSION);
    m.extend_from_slice(&bytes[65..]);
    m
}

/// Re-signs credential bytes with a chosen R encoding and nonce scalar r (R must be
/// r*B plus whatever torsion the test wants): S = r + H(R || A || M) * a.
fn resign_with_r(key: &IssuerKey, bytes: &[u8], r_bytes: [u8; 32], r: Scalar) -> Vec<u8> {
    let a = secret_scalar(key);
    let mut h = Sha512::new();
    h.update(r_bytes);
    h.update(key.public().public_key_bytes());
    h.update(message(bytes));
    let k = Scalar::from_bytes_mod_order_wide(&h.finalize().into());
    let s = r + k * a;
    let mut out = bytes.to_vec();
    out[1..33].copy_from_slice(&r_bytes);
    out[33..65].copy_from_slice(s.as_bytes());
    out
}

/// Adds l to the S half of a signature (still < 2^256: S < l < 2^253).
fn s_plus_l(bytes: &[u8]) -> Vec<u8> {
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut out = bytes.to_vec();
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = u16::from(out[33 + i]) + u16::from(L[i]) + carry;
        out[33 + i] = sum as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0);
    out
}

fn identity_encoding() -> [u8; 32] {
    let mut y = [0u8; 32];
    y[0] = 1;
    y
}

fn assert_agree(verifier: &Verifier, items: &[&[u8]]) -> Vec<Result<VerifiedCredential, Denial>> {
    let batch = verifier.verify_batch(items, NOW);
    let single: Vec<_> = items.iter().map(|b| verifier.verify(b, NOW)).collect();
    assert_eq!(batch, single);
    batch
}

#[test]
fn crafted_signatures_a_bare_batch_would_accept_are_refused_like_verify_strict() {
    let mut rng = rng(1);
    let key = issuer_key(&mut rng);
    let verifier = verifier_for(&key);
    let good = key.issue(request(1), NOW, &mut rng).unwrap();
    let bytes = good.bytes();

    // Small-order R: R = identity, r = 0, so S = H(R || A || M) * a satisfies the
    // cofactorless equation. verify_strict refuses R of small order.
    let small_r = resign_with_r(&key, bytes, identity_encoding(), Scalar::ZERO);
    // The same point, encoded non-canonically (y = p + 1) and as "negative zero".
    let mut p_plus_1 = [0xffu8; 32];
    p_plus_1[0] = 0xee;
    p_plus_1[31] = 0x7f;
    let noncanonical_r = resign_with_r(&key, bytes, p_plus_1, Scalar::ZERO);
    let mut negative_zero = identity_encoding();
    negative_zero[31] |= 0x80;
    let negative_zero_r = resign_with_r(&key, bytes, negative_zero, Scalar::ZERO);
    // A genuine signature, re-made with our own nonce: must pass in both modes, which
    // shows that the crafting is right.
    let r = Scalar::from(123_456_789u64);
    let r_point = curve25519_dalek::constants::ED25519_BASEPOINT_POINT * r;
    let remade = resign_with_r(&key, bytes, r_point.compress().0, r);
    // R = the point of order 2 (y = p - 1), r = 0: the equation leaves that point
    // over, so a bare batch accepts with probability 1/2 (when its random weight is
    // even); verify_strict refuses R of small order.
    let t2 = CompressedEdwardsY({
        let mut y = [0xffu8; 32];
        y[0] = 0xec;
        y[31] = 0x7f;
        y
    });
    let order_two_r = resign_with_r(&key, bytes, t2.0, Scalar::ZERO);
    // S + l: the same point, a non-canonical scalar.
    let malleable_s = s_plus_l(bytes);

    let mut signing_only = [0u8; 64];
    signing_only.copy_from_slice(&small_r[1..65]);
    let bare = ed25519_dalek::verify_batch(
        &[message(&small_r).as_slice()],
        &[ed25519_dalek::Signature::from_bytes(&signing_only)],
        &[ed25519_dalek::VerifyingKey::from_bytes(&key.public().public_key_bytes()).unwrap()],
    );
    assert!(
        bare.is_ok(),
        "a bare batch accepts a small-order R: the case is real"
    );

    let items: Vec<&[u8]> = vec![
        bytes,
        &small_r,
        &noncanonical_r,
        &negative_zero_r,
        &remade,
        &order_two_r,
        &malleable_s,
    ];
    let answers = assert_agree(&verifier, &items);
    assert!(answers[0].is_ok());
    assert!(answers[4].is_ok(), "a correctly re-made signature passes");
    for (i, answer) in answers.iter().enumerate() {
        if i != 0 && i != 4 {
            assert_eq!(answer, &Err(Denial::BadSignature), "item {i}");
        }
    }
    // Alone, each bad one too (a batch of one).
    for item in &items {
        assert_agree(&verifier, &[item]);
    }
}

#[test]
fn a_credential_under_a_weak_key_is_refused_in_both_modes() {
    let mut rng = rng(2);
    let key = issuer_key(&mut rng);
    let verifier = verifier_for(&key);
    // The identity point as an issuer key: (R = identity, S = 0) verifies every
    // message under it in the cofactorless equation. No store will trust it.
    let weak = identity_encoding();
    assert!(matches!(
        IssuerPublicKey::from_parts(issuer_id(), &weak, key.validity()),
        Err(TrustError::WeakKey { .. })
    ));
    // A credential claiming that key's id, "signed" under it.
    let mut claims = key
        .issue(request(2), NOW, &mut rng)
        .unwrap()
        .claims()
        .clone();
    claims.key_id = key_id_of(&weak);
    let mut bytes = vec![FORMAT_VERSION];
    bytes.extend_from_slice(&identity_encoding());
    bytes.extend_from_slice(&[0u8; 32]);
    bytes.extend_from_slice(&claims.to_be_signed());
    let weak_vk = ed25519_dalek::VerifyingKey::from_bytes(&weak).unwrap();
    let sig = ed25519_dalek::Signature::from_bytes(bytes[1..65].try_into().unwrap());
    assert!(ed25519_dalek::verify_batch(&[message(&bytes).as_slice()], &[sig], &[weak_vk]).is_ok());
    assert!(weak_vk.verify_strict(&message(&bytes), &sig).is_err());

    let answers = assert_agree(&verifier, &[&bytes]);
    assert_eq!(
        answers[0],
        Err(Denial::UnknownKey {
            key_id: key_id_of(&weak)
        })
    );
}

#[test]
fn a_mix_of_good_and_bad_gets_each_answer_right_across_chunks() {
    let mut rng = rng(3);
    let key = issuer_key(&mut rng);
    let mut list = IssuerStatusList::new(issuer_id(), CAPACITY).unwrap();
    let mut trust = TrustStore::new();
    trust.add(key.public().clone()).unwrap();
    let verifier = Verifier::new(trust, VerifyOptions::default());
    let other = issuer_key(&mut rng);

    let n = 2 * MAX_BATCH_CHUNK + 37;
    let mut items: Vec<Vec<u8>> = Vec::new();
    for i in 0..n as u32 {
        let card = key.issue(request(i), NOW, &mut rng).unwrap();
        let mut bytes = card.into_bytes();
        match i % 53 {
            // One letter of the name changed: bad signature.
            5 => {
                let at = bytes.windows(7).position(|w| w == b"Officer").unwrap();
                bytes[at + 1] ^= 1;
            }
            11 => bytes = s_plus_l(&bytes),
            17 => bytes = resign_with_r(&key, &bytes, identity_encoding(), Scalar::ZERO),
            23 => bytes.push(0),
            29 => bytes = other.issue(request(i), NOW, &mut rng).unwrap().into_bytes(),
            31 => list.revoke(i, RevocationReason::Stolen, NOW).unwrap(),
            37 => list.suspend(i).unwrap(),
            _ => {}
        }
        items.push(bytes);
    }
    let publication = list.publish(&key, NOW.minus(60), NOW.plus(YEAR)).unwrap();
    verifier.install_list(&publication.list, NOW).unwrap();
    let refs: Vec<&[u8]> = items.iter().map(Vec::as_slice).collect();
    let answers = assert_agree(&verifier, &refs);
    let count = |f: fn(&Result<VerifiedCredential, Denial>) -> bool| {
        answers.iter().filter(|a| f(a)).count()
    };
    assert!(count(|a| a.is_ok()) > n * 8 / 10);
    assert!(count(|a| a == &Err(Denial::BadSignature)) >= 3 * (n / 53));
    assert!(count(|a| matches!(a, Err(Denial::Revoked { .. }))) >= n / 53);
    assert!(count(|a| matches!(a, Err(Denial::Suspended { .. }))) >= n / 53);
    assert!(count(|a| matches!(a, Err(Denial::UnknownKey { .. }))) >= n / 53);
    assert!(count(|a| matches!(a, Err(Denial::Malformed(_)))) >= n / 53);

    // All good: one batch per chunk, and still the same answers.
    let good: Vec<&[u8]> = refs
        .iter()
        .zip(&answers)
        .filter(|(_, a)| a.is_ok())
        .map(|(b, _)| *b)
        .collect();
    assert!(assert_agree(&verifier, &good).iter().all(Result::is_ok));
    assert!(verifier.verify_batch(&[], NOW).is_empty());
}

#[test]
fn a_stale_list_or_a_revoked_key_denies_a_whole_batch_like_one_by_one() {
    let mut rng = rng(4);
    let key = issuer_key(&mut rng);
    let verifier = verifier_with(&key, VerifyOptions::default());
    let cards: Vec<Vec<u8>> = (0..8)
        .map(|i| key.issue(request(i), NOW, &mut rng).unwrap().into_bytes())
        .collect();
    let refs: Vec<&[u8]> = cards.iter().map(Vec::as_slice).collect();
    let later = NOW.plus(2 * YEAR);
    let batch = verifier.verify_batch(&refs, later);
    let single: Vec<_> = refs.iter().map(|b| verifier.verify(b, later)).collect();
    assert_eq!(batch, single);
    assert!(
        batch
            .iter()
            .all(|a| matches!(a, Err(Denial::Expired { .. })))
    );
    verifier.revoke_key(key.key_id(), NOW).unwrap();
    let batch = assert_agree(&verifier, &refs);
    assert!(
        batch
            .iter()
            .all(|a| matches!(a, Err(Denial::KeyRevoked { .. })))
    );
}

/// The order (1, 2, 4 or 8) of a point of the torsion subgroup.
fn small_order(t: &EdwardsPoint) -> u64 {
    (1..=8u64)
        .find(|k| (t * Scalar::from(*k)).is_identity())
        .expect("a point of the torsion subgroup")
}

/// A point of exactly `order` (2, 4 or 8).
fn torsion_point(order: u64) -> EdwardsPoint {
    EIGHT_TORSION
        .iter()
        .copied()
        .find(|t| small_order(t) == order)
        .expect("the torsion subgroup is cyclic of order 8")
}

/// An encoded trust anchor with another public key (and that key's id) spliced in.
fn anchor_with_key(anchor: &[u8], old: [u8; 32], new: [u8; 32]) -> Vec<u8> {
    let mut out = anchor.to_vec();
    let at = out.windows(32).position(|w| w == old).unwrap();
    out[at..at + 32].copy_from_slice(&new);
    let old_id = key_id_of(&old).0;
    let at = out.windows(8).position(|w| w == old_id).unwrap();
    out[at..at + 8].copy_from_slice(&key_id_of(&new).0);
    out
}

/// `aB + T` with `T` of order 2, 4 and 8 in turn: not of small order, so ed25519-dalek's
/// `is_weak` passes it, but a batch and `verify_strict` disagree under it. Refused as a
/// trust anchor (raw and encoded), as a card key at issue, and as a card key at a door.
#[test]
fn keys_with_a_torsion_component_are_refused_wherever_they_enter() {
    let mut rng = rng(5);
    let key = issuer_key(&mut rng);
    let window = key.validity();
    let anchor = key.public().to_bytes();
    let own = key.public().public_key_bytes();
    let a = secret_scalar(&key);

    // Control: the splicing is right, so a torsion-free key spliced in decodes.
    let other = (ED25519_BASEPOINT_POINT * (a + Scalar::ONE)).compress().0;
    let spliced = anchor_with_key(&anchor, own, other);
    assert_eq!(
        IssuerPublicKey::from_bytes(&spliced)
            .unwrap()
            .public_key_bytes(),
        other
    );

    // A door that requires holder binding, and a verifier trusting the issuer.
    let verifier = std::sync::Arc::new(verifier_for(&key));
    let gate = DoorId::new("custody").unwrap();
    let doors = DoorController::new(
        verifier,
        vec![DoorPolicy::new(gate.clone()).require_holder_binding()],
    )
    .unwrap();

    for order in [2, 4, 8] {
        let t = torsion_point(order);
        let point = ED25519_BASEPOINT_POINT * a + t;
        assert!(!point.is_small_order() && !point.is_torsion_free());
        let bytes = point.compress().0;
        assert!(
            !ed25519_dalek::VerifyingKey::from_bytes(&bytes)
                .unwrap()
                .is_weak(),
            "ed25519-dalek alone calls it strong"
        );

        // As a trust anchor, from raw parts and encoded.
        assert_eq!(
            IssuerPublicKey::from_parts(issuer_id(), &bytes, window).unwrap_err(),
            TrustError::WeakKey {
                key_id: key_id_of(&bytes)
            },
            "order {order}"
        );
        assert!(
            matches!(
                IssuerPublicKey::from_bytes(&anchor_with_key(&anchor, own, bytes)),
                Err(DecodeError::Malformed {
                    object: WireObject::TrustAnchor
                })
            ),
            "order {order}"
        );

        // As a card key at issue.
        let mut req = request(order as u32);
        req.card_key = Some(CardPublicKey(bytes));
        assert_eq!(
            key.issue(req, NOW, &mut rng).unwrap_err(),
            IssueError::WeakCardKey,
            "order {order}"
        );

        // As a card key at a door, in a credential a faulty issuer signed by hand: the
        // door leaves the torsion check to the issuer (it would cost 0.7x of a
        // verification per first tap), and a response not made with that card key is
        // still refused.
        let mut claims = key
            .issue(request(10 + order as u32), NOW, &mut rng)
            .unwrap()
            .claims()
            .clone();
        claims.card_key = Some(CardPublicKey(bytes));
        let body = claims.to_be_signed();
        let mut cred = vec![FORMAT_VERSION];
        cred.extend_from_slice(&[0u8; 64]);
        cred.extend_from_slice(&body);
        let r = Scalar::from(order + 1000);
        let r_point = (ED25519_BASEPOINT_POINT * r).compress().0;
        let cred = resign_with_r(&key, &cred, r_point, r);
        assert!(doors.verifier().verify(&cred, NOW).is_ok());
        let challenge = doors.challenge(&gate, NOW, &mut rng).unwrap();
        let response = CardKey::generate(&mut rng).respond(&challenge, &cred);
        let decision = doors.tap(&gate, &cred, Some(&response), NOW);
        assert_eq!(
            decision.outcome().err(),
            Some(&DoorDenial::BadResponseSignature),
            "order {order}"
        );
    }
}

/// The one difference left between a batch and `verify` (see `ARCHITECTURE.md` and
/// `batch.rs`): a signature whose `R` carries a torsion component (here of order 2),
/// made with the issuer's secret, is refused by `verify` and accepted by a batch whose
/// weight cancels the torsion, about one batch in two. What it admits is exactly the
/// claims the key's holder signed.
#[test]
fn a_torsion_r_made_with_the_secret_key_is_the_one_difference_left() {
    let mut rng = rng(6);
    let key = issuer_key(&mut rng);
    let verifier = verifier_for(&key);
    let good = key.issue(request(1), NOW, &mut rng).unwrap();
    let t = torsion_point(2);
    let (mut accepted, mut refused) = (0, 0);
    for nonce in 1u64..=64 {
        let r = Scalar::from(nonce);
        let r_point = (ED25519_BASEPOINT_POINT * r + t).compress().0;
        let bytes = resign_with_r(&key, good.bytes(), r_point, r);
        assert_eq!(verifier.verify(&bytes, NOW), Err(Denial::BadSignature));
        match &verifier.verify_batch(&[&bytes], NOW)[0] {
            Ok(verified) => {
                assert_eq!(verified.claims(), good.claims());
                accepted += 1;
            }
            Err(denial) => {
                assert_eq!(denial, &Denial::BadSignature);
                refused += 1;
            }
        }
    }
    assert!(
        accepted > 10 && refused > 10,
        "{accepted} accepted, {refused} refused"
    );
}
