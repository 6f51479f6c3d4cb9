//! Signed credentials: round trips, tampering, keys, time windows, hostile bytes.

mod common;

use common::*;
use revocard::format::*;
use revocard::issue::*;
use revocard::*;

fn full_request(rng: &mut rand::rngs::StdRng) -> CredentialRequest {
    CredentialRequest {
        kind: Kind::StaffPass,
        holder: Holder::new(
            "NP-77",
            "Zoë Ødegård-Smith",
            "Senior Analyst",
            "Digital Forensics",
            PhotoDigest([9; 32]),
        )
        .unwrap(),
        vetting: Vetting::new(
            PoliceVetting::NonPolice(Nppv::Level2Abbreviated),
            Some(NationalSecurity::Esc),
        ),
        status_index: StatusIndex(CAPACITY - 1),
        print_batch: PrintBatchId(123_456),
        validity: Validity::new(NOW, NOW.plus(YEAR)).unwrap(),
        card_key: Some(CardKey::generate(rng).public()),
        supersedes: Some(Serial([0xAB; 16])),
    }
}

#[test]
fn every_field_round_trips_through_bytes_and_text() {
    let mut rng = rng(1);
    let key = issuer_key(&mut rng);
    let verifier = verifier_for(&key);
    let ladders = [
        PoliceVetting::Force(ForceVetting::Recruitment),
        PoliceVetting::Force(ForceVetting::Management),
        PoliceVetting::NonPolice(Nppv::Level1),
        PoliceVetting::NonPolice(Nppv::Level2Abbreviated),
        PoliceVetting::NonPolice(Nppv::Level2),
        PoliceVetting::NonPolice(Nppv::Level3),
    ];
    let nationals = [
        None,
        Some(NationalSecurity::Ctc),
        Some(NationalSecurity::Sc),
        Some(NationalSecurity::Esc),
        Some(NationalSecurity::Dv),
    ];
    let mut requests = vec![request(1), full_request(&mut rng)];
    for (i, police) in ladders.iter().enumerate() {
        for (j, national) in nationals.iter().enumerate() {
            let mut r = request(u32::try_from(i * 10 + j).unwrap());
            r.vetting = Vetting::new(*police, *national);
            r.kind = if j % 2 == 0 {
                Kind::WarrantCard
            } else {
                Kind::StaffPass
            };
            requests.push(r);
        }
    }
    for req in requests {
        let cred = key.issue(req.clone(), NOW, &mut rng).unwrap();
        let claims = cred.claims();
        assert_eq!(claims.kind, req.kind);
        assert_eq!(claims.holder, req.holder);
        assert_eq!(claims.vetting, req.vetting);
        assert_eq!(claims.status_index, req.status_index);
        assert_eq!(claims.print_batch, req.print_batch);
        assert_eq!(claims.validity, req.validity);
        assert_eq!(claims.card_key, req.card_key);
        assert_eq!(claims.supersedes, req.supersedes);
        assert_eq!(claims.issued_at, NOW);
        assert_eq!(claims.key_id, key.key_id());
        assert_eq!(&claims.issuer, key.issuer());

        let decoded = UnverifiedCredential::from_bytes(cred.bytes()).unwrap();
        assert_eq!(decoded.unverified_claims(), claims);
        let verified = verifier.verify(cred.bytes(), NOW).unwrap();
        assert_eq!(verified.claims(), claims);

        let text = cred.to_text();
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        let bytes = credential_bytes_from_text(&text).unwrap();
        assert_eq!(bytes, cred.bytes());
        assert_eq!(verifier.verify(&bytes, NOW).unwrap().claims(), claims);
    }
}

#[test]
fn serials_are_random_and_distinct() {
    let mut rng = rng(2);
    let key = issuer_key(&mut rng);
    let a = key.issue(request(1), NOW, &mut rng).unwrap();
    let b = key.issue(request(1), NOW, &mut rng).unwrap();
    assert_ne!(a.serial(), b.serial());
    assert_ne!(a.bytes(), b.bytes());
    assert_eq!(Serial::from_hex(&a.serial().to_hex()).unwrap(), a.serial());
}

#[test]
fn every_single_byte_change_is_denied() {
    let mut rng = rng(3);
    let key = issuer_key(&mut rng);
    let verifier = verifier_for(&key);
    let cred = key.issue(full_request(&mut rng), NOW, &mut rng).unwrap();
    let bytes = cred.bytes().to_vec();
    assert!(verifier.verify(&bytes, NOW).is_ok());
    for pos in 0..bytes.len() {
        for flip in [0x01u8, 0x80, 0xFF] {
            let mut tampered = bytes.clone();
            tampered[pos] ^= flip;
            let result = verifier.verify(&tampered, NOW);
            assert!(result.is_err(), "byte {pos} ^ {flip:#x} was accepted");
        }
    }
}

#[test]
fn changed_claims_are_denied_as_bad_signature_not_as_a_claim_fact() {
    let mut rng = rng(4);
    let key = issuer_key(&mut rng);
    let verifier = verifier_for(&key);
    let cred = key.issue(request(5), NOW, &mut rng).unwrap();
    // Promote the holder: find the rank text and change one letter.
    let mut bytes = cred.bytes().to_vec();
    let at = bytes.windows(6).position(|w| w == b"Police").unwrap();
    bytes[at] = b'Q';
    assert_eq!(verifier.verify(&bytes, NOW), Err(Denial::BadSignature));
}

#[test]
fn unknown_revoked_and_out_of_window_keys_are_denied() {
    let mut rng = rng(5);
    let key = issuer_key(&mut rng);
    let other = issuer_key(&mut rng);
    let cred = key.issue(request(1), NOW, &mut rng).unwrap();

    let stranger = verifier_for(&other);
    assert_eq!(
        stranger.verify(cred.bytes(), NOW),
        Err(Denial::UnknownKey {
            key_id: key.key_id()
        })
    );

    let revoked = verifier_for(&key);
    revoked.revoke_key(key.key_id(), NOW.minus(10)).unwrap();
    assert_eq!(
        revoked.verify(cred.bytes(), NOW),
        Err(Denial::KeyRevoked {
            key_id: key.key_id(),
            revoked_at: NOW.minus(10)
        })
    );

    // A short-lived key: credentials are denied once the key's window has passed.
    let window = Validity::new(NOW.minus(100), NOW.plus(100)).unwrap();
    let short = IssuerKey::generate(issuer_id(), window, &mut rng).unwrap();
    let mut req = request(2);
    req.validity = Validity::new(NOW.minus(100), NOW.plus(100)).unwrap();
    let cred = short.issue(req, NOW, &mut rng).unwrap();
    let v = Verifier::new(
        TrustStore::new(),
        VerifyOptions::default().with_clock_skew(0),
    );
    v.add_key(short.public().clone()).unwrap();
    let list = IssuerStatusList::new(issuer_id(), CAPACITY)
        .unwrap()
        .publish(&short, NOW, NOW.plus(YEAR))
        .unwrap();
    v.install_list(&list.list, NOW).unwrap();
    assert!(v.verify(cred.bytes(), NOW).is_ok());
    assert!(matches!(
        v.verify(cred.bytes(), NOW.plus(101)),
        Err(Denial::KeyOutsideWindow { .. })
    ));
    assert!(matches!(
        v.verify(cred.bytes(), NOW.minus(101)),
        Err(Denial::KeyOutsideWindow { .. })
    ));
}

#[test]
fn a_key_trusted_for_another_issuer_is_denied() {
    let mut rng = rng(6);
    let key = issuer_key(&mut rng);
    let cred = key.issue(request(1), NOW, &mut rng).unwrap();
    let mut trust = TrustStore::new();
    let theirs = IssuerId::new("other-force").unwrap();
    let public = IssuerPublicKey::from_bytes(&key.public().to_bytes()).unwrap();
    assert_eq!(&public, key.public());
    // The same key bytes, but trusted for another issuer: claims naming test-police are refused.
    let key_bytes = key.public().public_key_bytes();
    trust
        .add(IssuerPublicKey::from_parts(theirs.clone(), &key_bytes, key.validity()).unwrap())
        .unwrap();
    let v = Verifier::new(trust, VerifyOptions::default());
    assert_eq!(
        v.verify(cred.bytes(), NOW),
        Err(Denial::IssuerMismatch {
            key_id: key.key_id(),
            claimed: issuer_id(),
            trusted: theirs
        })
    );
}

#[test]
fn issuing_refuses_outside_the_key_window() {
    let mut rng = rng(7);
    let key = issuer_key(&mut rng);
    assert!(matches!(
        key.issue(request(1), NOW.plus(11 * YEAR), &mut rng),
        Err(IssueError::KeyNotValidNow { .. })
    ));
    let mut req = request(1);
    req.validity = Validity::new(NOW, NOW.plus(20 * YEAR)).unwrap();
    assert!(matches!(
        key.issue(req, NOW, &mut rng),
        Err(IssueError::OutlivesKey { .. })
    ));
}

#[test]
fn validity_boundaries_honour_the_skew_exactly() {
    let mut rng = rng(8);
    let key = issuer_key(&mut rng);
    let mut req = request(1);
    let (nb, na) = (NOW.plus(1000), NOW.plus(2000));
    req.validity = Validity::new(nb, na).unwrap();
    let cred = key.issue(req, NOW, &mut rng).unwrap();
    for skew in [0u64, 1, 60, 300] {
        let v = verifier_with(
            &key,
            VerifyOptions::default()
                .with_clock_skew(skew)
                .with_status_grace(10 * YEAR),
        );
        let too_early = nb.minus(skew + 1);
        assert_eq!(
            v.verify(cred.bytes(), too_early),
            Err(Denial::NotYetValid {
                not_before: nb,
                now: too_early,
                skew_secs: skew
            })
        );
        assert!(
            v.verify(cred.bytes(), nb.minus(skew)).is_ok(),
            "skew {skew}: first second"
        );
        assert!(
            v.verify(cred.bytes(), na.plus(skew)).is_ok(),
            "skew {skew}: last second"
        );
        let too_late = na.plus(skew + 1);
        assert_eq!(
            v.verify(cred.bytes(), too_late),
            Err(Denial::Expired {
                not_after: na,
                now: too_late,
                skew_secs: skew
            })
        );
    }
}

#[test]
fn hostile_bytes_give_their_own_typed_errors() {
    let mut rng = rng(9);
    let key = issuer_key(&mut rng);
    let cred = key.issue(request(3), NOW, &mut rng).unwrap();
    let bytes = cred.bytes();
    let obj = WireObject::Credential;

    let mut trailing = bytes.to_vec();
    trailing.push(0);
    assert!(matches!(
        UnverifiedCredential::from_bytes(&trailing),
        Err(DecodeError::TrailingBytes {
            object: WireObject::Credential,
            remaining: 1,
            ..
        })
    ));

    for cut in 0..bytes.len() {
        let err = UnverifiedCredential::from_bytes(&bytes[..cut]).unwrap_err();
        assert_eq!(err, DecodeError::Truncated { object: obj }, "cut at {cut}");
    }

    let mut version = bytes.to_vec();
    version[0] = 2;
    assert_eq!(
        UnverifiedCredential::from_bytes(&version).unwrap_err(),
        DecodeError::UnknownVersion {
            object: obj,
            version: 2,
            supported: FORMAT_VERSION
        }
    );

    let huge = vec![FORMAT_VERSION; MAX_CREDENTIAL_BYTES + 1];
    assert_eq!(
        UnverifiedCredential::from_bytes(&huge).unwrap_err(),
        DecodeError::TooLarge {
            object: obj,
            len: MAX_CREDENTIAL_BYTES + 1,
            max: MAX_CREDENTIAL_BYTES
        }
    );

    // An over-long name: rewrite the length prefix (u64, big-endian) in front of the name.
    let name = cred.claims().holder.name().as_bytes();
    let at = bytes.windows(name.len()).position(|w| w == name).unwrap();
    let long_name = "N".repeat(MAX_NAME_LEN + 1);
    let mut long = bytes[..at - 8].to_vec();
    long.extend_from_slice(&(long_name.len() as u64).to_be_bytes());
    long.extend_from_slice(long_name.as_bytes());
    long.extend_from_slice(&bytes[at + name.len()..]);
    assert_eq!(
        UnverifiedCredential::from_bytes(&long).unwrap_err(),
        DecodeError::FieldTooLong {
            object: obj,
            field: Field::Name,
            len: MAX_NAME_LEN + 1,
            max: MAX_NAME_LEN
        }
    );

    // A length prefix claiming gigabytes is refused before anything is allocated.
    let mut absurd = bytes[..at - 8].to_vec();
    absurd.extend_from_slice(&(1u64 << 40).to_be_bytes());
    absurd.extend_from_slice(&bytes[at..]);
    assert!(matches!(
        UnverifiedCredential::from_bytes(&absurd).unwrap_err(),
        DecodeError::TooLarge { .. } | DecodeError::Truncated { .. }
    ));

    // Text form: not base64, and over-long text.
    assert_eq!(
        credential_bytes_from_text("not*base64!"),
        Err(DecodeError::NotBase64)
    );
    let long_text = "A".repeat(MAX_CREDENTIAL_TEXT_LEN + 1);
    assert!(matches!(
        credential_bytes_from_text(&long_text),
        Err(DecodeError::TooLarge { .. })
    ));
}

#[test]
fn a_signature_under_another_domain_does_not_verify() {
    use ed25519_dalek::{Signer, SigningKey};
    let mut rng = rng(10);
    let signing = SigningKey::generate(&mut rng);
    let key = IssuerKey::from_secret_bytes(
        issuer_id(),
        Validity::new(NOW.minus(YEAR), NOW.plus(10 * YEAR)).unwrap(),
        &signing.to_bytes(),
    )
    .unwrap();
    let verifier = verifier_for(&key);
    let cred = key.issue(request(1), NOW, &mut rng).unwrap();
    let bytes = cred.bytes();
    let body = &bytes[65..];

    // Re-sign the very same claims under the right domain: accepted (the test's model of the format is right).
    let mut msg = CREDENTIAL_DOMAIN.to_vec();
    msg.push(FORMAT_VERSION);
    msg.extend_from_slice(body);
    let mut resigned = bytes.to_vec();
    resigned[1..65].copy_from_slice(&signing.sign(&msg).to_bytes());
    assert!(verifier.verify(&resigned, NOW).is_ok());

    // Under other domains (another object, another version, none): denied.
    for domain in [
        &b"revocard/v1/revocation-list\0"[..],
        b"revocard/v2/credential\0",
        b"",
    ] {
        let mut msg = domain.to_vec();
        msg.push(FORMAT_VERSION);
        msg.extend_from_slice(body);
        let mut forged = bytes.to_vec();
        forged[1..65].copy_from_slice(&signing.sign(&msg).to_bytes());
        assert_eq!(verifier.verify(&forged, NOW), Err(Denial::BadSignature));
    }
}

#[test]
fn debug_never_prints_secret_key_bytes() {
    let mut rng = rng(11);
    let key = issuer_key(&mut rng);
    let secret = key.to_secret_bytes().unwrap();
    let debug = format!("{key:?} {:?} {:#?}", key.public(), key);
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    let decimal = format!("{:?}", &secret[..]);
    assert!(!debug.contains(&hex), "{debug}");
    assert!(!debug.contains(&decimal[1..decimal.len() - 1]), "{debug}");
    assert!(debug.contains(&key.key_id().to_string()));

    let card = CardKey::from_secret_bytes(&[7u8; 32]);
    let debug = format!("{card:?}");
    assert!(!debug.contains("7, 7, 7"), "{debug}");
    assert!(!debug.contains("0707070707"), "{debug}");
}

#[test]
fn weak_keys_are_refused() {
    // The identity point (small order) as a public key.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    assert!(matches!(
        IssuerPublicKey::from_parts(issuer_id(), &identity, Validity::new(NOW, NOW).unwrap()),
        Err(TrustError::WeakKey { .. })
    ));
    let mut rng = rng(12);
    let key = issuer_key(&mut rng);
    let mut req = request(1);
    req.card_key = Some(CardPublicKey(identity));
    assert_eq!(
        key.issue(req, NOW, &mut rng).unwrap_err(),
        IssueError::WeakCardKey
    );
}

#[test]
fn holder_fields_are_bounded() {
    let photo = PhotoDigest([0; 32]);
    assert!(matches!(
        Holder::new("1".repeat(MAX_PAY_NUMBER_LEN + 1), "n", "r", "u", photo),
        Err(FieldError::TooLong {
            field: Field::PayNumber,
            ..
        })
    ));
    assert!(matches!(
        Holder::new("", "n", "r", "u", photo),
        Err(FieldError::Invalid {
            field: Field::PayNumber
        })
    ));
    assert!(matches!(
        Holder::new("1", "bad\nname", "r", "u", photo),
        Err(FieldError::Invalid { field: Field::Name })
    ));
    assert!(
        Holder::new(
            "1",
            "n".repeat(MAX_NAME_LEN),
            "r".repeat(MAX_RANK_LEN),
            "u".repeat(MAX_UNIT_LEN),
            photo
        )
        .is_ok()
    );
    assert!(IssuerId::new("has space").is_err());
    assert!(IssuerId::new("x".repeat(MAX_ISSUER_ID_LEN + 1)).is_err());
}
