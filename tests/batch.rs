//! Batch verification gives, credential by credential, the answers of one-by-one
//! `verify`: on good, revoked, tampered and malformed credentials, and on signatures
//! crafted with ed25519-dalek and curve25519-dalek directly that a bare batch would
//! accept and `verify_strict` refuses (small-order R, non-canonical R, S + l, weak keys).

mod common;

use common::*;
use curve25519_dalek::edwards::CompressedEdwardsY;
use curve25519_dalek::scalar::Scalar;
use revocard::*;
use sha2::{Digest, Sha512};

/// The secret scalar of an issuer key, as RFC 8032 derives it from the seed.
fn secret_scalar(key: &IssuerKey) -> Scalar {
    let h = Sha512::digest(key.to_secret_bytes().as_slice());
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
