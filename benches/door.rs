//! A door controller's figures beside the floor, a bare `verify_strict` of the same
//! credential bytes, in the same run:
//!
//! - `verify`: one credential, status included, no cache;
//! - `tap`: a full tap of a card not yet cached at a door requiring holder binding
//!   (credential and challenge-response, both signatures checked together by
//!   `verify::pair`, each with exactly `verify_strict`'s answer);
//! - `cached_tap`: a repeat tap at the same door (the response checked, the
//!   credential re-checked without its signature);
//! - `batch_verify`: an audit of 1,024 credentials, per credential.
//!
//! Issuing a challenge and the card's signing of its answer are the door's and the
//! card's work before the tap; they run untimed (challenge issuance is measured
//! separately).
//!
//! `cargo bench --bench door`, then `python3 scripts/ratios.py`.

mod support;

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use rand::{SeedableRng, rngs::StdRng};
use revocard::door::*;
use revocard::format::*;
use revocard::issue::*;
use revocard::*;

const NOW: UnixTime = UnixTime(1_800_000_000);
const AUDIT: usize = 1024;

struct Fixture {
    key: IssuerKey,
    verifier: Arc<Verifier>,
    rng: StdRng,
}

fn request(index: u32, card_key: Option<CardPublicKey>) -> CredentialRequest {
    CredentialRequest {
        kind: Kind::WarrantCard,
        holder: Holder::new(
            "123456",
            "Alexandra Example-Officer",
            "Detective Sergeant",
            "Major Crime Team",
            PhotoDigest([3; 32]),
        )
        .unwrap(),
        vetting: Vetting::new(
            PoliceVetting::Force(ForceVetting::Management),
            Some(NationalSecurity::Sc),
        ),
        status_index: StatusIndex(index),
        print_batch: PrintBatchId(12),
        validity: Validity::new(NOW, NOW.plus(365 * 24 * 3600)).unwrap(),
        card_key,
        supersedes: None,
    }
}

/// The credential bench's set-up: one issuer, a 131,072-index list with 1% revoked and
/// one scope entry, so every verification includes the status check.
fn fixture() -> Fixture {
    let mut rng = StdRng::seed_from_u64(1);
    let year = 365 * 24 * 3600;
    let signing = SigningKey::generate(&mut rng);
    let key = IssuerKey::from_secret_bytes(
        IssuerId::new("bench-police").unwrap(),
        Validity::new(NOW.minus(year), NOW.plus(10 * year)).unwrap(),
        &signing.to_bytes(),
    )
    .unwrap();
    let verifier = Arc::new(Verifier::new(TrustStore::new(), VerifyOptions::default()));
    verifier.add_key(key.public().clone()).unwrap();
    let mut list = IssuerStatusList::new(key.issuer().clone(), MIN_LIST_CAPACITY).unwrap();
    for index in (0..MIN_LIST_CAPACITY).step_by(100) {
        list.revoke(index + 1, RevocationReason::Unspecified, NOW)
            .unwrap();
    }
    list.revoke_scope(ScopeEntry {
        scope: Scope::PrintBatch(PrintBatchId(4242)),
        reason: RevocationReason::SupplierBreach,
        since: NOW,
    })
    .unwrap();
    verifier
        .install_list(&list.publish(&key, NOW, NOW.plus(3600)).unwrap().list, NOW)
        .unwrap();
    Fixture { key, verifier, rng }
}

fn card(f: &mut Fixture, index: u32) -> Card {
    let card_key = CardKey::generate(&mut f.rng);
    let cred = f
        .key
        .issue(request(index, Some(card_key.public())), NOW, &mut f.rng)
        .unwrap();
    Card::new(cred.into_bytes(), card_key).unwrap()
}

/// The floor: the exact message and signature the verifier checks for `bytes`.
fn floor_of(key: &IssuerKey, bytes: &[u8]) -> (VerifyingKey, Vec<u8>, Signature) {
    let mut message = CREDENTIAL_DOMAIN.to_vec();
    message.push(FORMAT_VERSION);
    message.extend_from_slice(&bytes[65..]);
    let signature = Signature::from_bytes(bytes[1..65].try_into().unwrap());
    let vk = VerifyingKey::from_bytes(&key.public().public_key_bytes()).unwrap();
    assert!(vk.verify_strict(&message, &signature).is_ok());
    (vk, message, signature)
}

fn bench(c: &mut Criterion) {
    let mut f = fixture();
    let custody = DoorId::new("custody").unwrap();
    let front = DoorId::new("front-gate").unwrap();
    let policies = || {
        vec![
            DoorPolicy::new(front.clone()),
            DoorPolicy::new(custody.clone())
                .admit_only(&[Kind::WarrantCard])
                .require_vetting(VettingRequirement::force(ForceVetting::Management))
                .require_holder_binding(),
        ]
    };
    // Two cards tapped alternately at a controller caching one credential: every tap
    // misses the cache (and pays the insertion and eviction a first tap pays).
    let fresh = DoorController::new(f.verifier.clone(), policies())
        .unwrap()
        .with_cache_capacity(1);
    let pair = [card(&mut f, 99_998), card(&mut f, 99_997)];
    // A controller that has seen `regular` before.
    let warm = DoorController::new(f.verifier.clone(), policies()).unwrap();
    let regular = card(&mut f, 99_996);
    let challenge = warm.challenge(&custody, NOW, &mut f.rng).unwrap();
    assert!(
        warm.tap(
            &custody,
            regular.credential(),
            Some(&regular.respond(&challenge)),
            NOW
        )
        .is_admitted()
    );

    let bytes = regular.credential().to_vec();
    let (vk, message, signature) = floor_of(&f.key, &bytes);
    assert!(f.verifier.verify(&bytes, NOW).is_ok());

    // Yardsticks for the first tap's two signatures, bare ed25519-dalek on the same
    // bytes: the card's response to a challenge, its key as the credential carries it.
    let challenge = warm.challenge(&custody, NOW, &mut f.rng).unwrap();
    let answer = regular.respond(&challenge);
    let mut answer_message = CHALLENGE_RESPONSE_DOMAIN.to_vec();
    answer_message.push(FORMAT_VERSION);
    answer_message.extend_from_slice(&challenge.to_bytes()[1..]);
    answer_message.extend_from_slice(&<sha2::Sha256 as sha2::Digest>::digest(&bytes));
    let answer_signature = Signature::from_bytes(answer[1..65].try_into().unwrap());
    let card_key_bytes = regular.public_key().0;
    let card_key = VerifyingKey::from_bytes(&card_key_bytes).unwrap();
    assert!(
        card_key
            .verify_strict(&answer_message, &answer_signature)
            .is_ok()
    );

    // An audit: 1,024 distinct credentials under the same key.
    let audit_cards: Vec<Vec<u8>> = (0..AUDIT as u32)
        .map(|i| {
            f.key
                .issue(request(2 * i, None), NOW, &mut f.rng)
                .unwrap()
                .into_bytes()
        })
        .collect();
    let audit: Vec<&[u8]> = audit_cards.iter().map(Vec::as_slice).collect();
    let audit_floor: Vec<(Vec<u8>, Signature)> = audit
        .iter()
        .map(|b| {
            let (_, m, s) = floor_of(&f.key, b);
            (m, s)
        })
        .collect();
    assert!(
        f.verifier
            .verify_batch(&audit, NOW)
            .iter()
            .all(Result::is_ok)
    );
    let audit_messages: Vec<&[u8]> = audit_floor.iter().map(|(m, _)| m.as_slice()).collect();
    let audit_signatures: Vec<Signature> = audit_floor.iter().map(|(_, s)| *s).collect();
    let audit_keys = vec![vk; AUDIT];

    // Prepared taps: (card index, response). Challenges are issued just before.
    let mut rng = StdRng::seed_from_u64(2);
    let mut turn = 0usize;
    let mut prepare_fresh = |n: usize| -> Vec<(usize, Vec<u8>)> {
        (0..n)
            .map(|_| {
                turn += 1;
                let which = turn % 2;
                let challenge = fresh.challenge(&custody, NOW, &mut rng).unwrap();
                (which, pair[which].respond(&challenge))
            })
            .collect()
    };
    let mut rng2 = StdRng::seed_from_u64(3);
    let mut prepare_warm = |n: usize| -> Vec<Vec<u8>> {
        (0..n)
            .map(|_| regular.respond(&warm.challenge(&custody, NOW, &mut rng2).unwrap()))
            .collect()
    };

    let mut g = c.benchmark_group("door");
    g.bench_function("floor_verify_strict", |b| {
        b.iter(|| vk.verify_strict(black_box(&message), black_box(&signature)))
    });
    g.bench_function("verify", |b| {
        b.iter(|| f.verifier.verify(black_box(&bytes), NOW))
    });
    g.bench_function("tap", |b| {
        b.iter_batched(
            || prepare_fresh(1).pop().unwrap(),
            |(which, response)| {
                let d = fresh.tap(&custody, pair[which].credential(), Some(&response), NOW);
                assert!(d.is_admitted() && !d.from_cache());
                d
            },
            BatchSize::NumIterations(25),
        )
    });
    g.bench_function("cached_tap", |b| {
        b.iter_batched(
            || prepare_warm(1).pop().unwrap(),
            |response| {
                let d = warm.tap(&custody, regular.credential(), Some(&response), NOW);
                assert!(d.is_admitted() && d.from_cache());
                d
            },
            BatchSize::NumIterations(25),
        )
    });
    g.bench_function("cached_tap_no_binding", |b| {
        b.iter(|| warm.tap(&front, black_box(regular.credential()), None, NOW))
    });
    g.bench_function("challenge", |b| {
        let mut rng = StdRng::seed_from_u64(4);
        let controller = DoorController::new(f.verifier.clone(), policies()).unwrap();
        b.iter(|| controller.challenge(&custody, NOW, &mut rng))
    });
    g.bench_function("batch_verify_1024", |b| {
        b.iter(|| f.verifier.verify_batch(black_box(&audit), NOW))
    });
    g.bench_function("floor_batch_1024", |b| {
        b.iter(|| ed25519_dalek::verify_batch(&audit_messages, &audit_signatures, &audit_keys))
    });
    g.bench_function("floor_batch_256", |b| {
        b.iter(|| {
            ed25519_dalek::verify_batch(
                &audit_messages[..256],
                &audit_signatures[..256],
                &audit_keys[..256],
            )
        })
    });
    g.finish();

    let floor = || {
        let _ = black_box(vk.verify_strict(black_box(&message), black_box(&signature)));
    };
    support::paired_ratio(
        "verify_strict / verify_strict (noise)",
        201,
        25,
        floor,
        floor,
    );
    support::paired_ratio("verify / verify_strict", 201, 25, floor, || {
        let _ = black_box(f.verifier.verify(black_box(&bytes), NOW));
    });
    support::paired_ratio_with_setup(
        "tap (first, with challenge-response) / verify_strict",
        201,
        25,
        floor,
        &mut prepare_fresh,
        |(which, response)| {
            let d = fresh.tap(&custody, pair[which].credential(), Some(&response), NOW);
            assert!(d.is_admitted() && !d.from_cache());
        },
    );
    support::paired_ratio_with_setup(
        "cached tap (with challenge-response) / verify_strict",
        201,
        25,
        floor,
        &mut prepare_warm,
        |response| {
            let d = warm.tap(&custody, regular.credential(), Some(&response), NOW);
            assert!(d.is_admitted() && d.from_cache());
        },
    );
    // What a first tap's two signatures cost done with bare ed25519-dalek, each with
    // the card key's decompression (and weak-key check) a first tap pays: two
    // `verify_strict` calls (exact), and `verify_batch` of two (what a first tap used
    // before issue 23; it admits some torsion R that verify_strict refuses).
    support::paired_ratio(
        "two verify_strict (credential, response) + card key / verify_strict",
        201,
        25,
        floor,
        || {
            let card = VerifyingKey::from_bytes(black_box(&card_key_bytes)).unwrap();
            let _ = black_box(
                !card.is_weak()
                    && vk.verify_strict(black_box(&message), &signature).is_ok()
                    && card
                        .verify_strict(black_box(&answer_message), &answer_signature)
                        .is_ok(),
            );
        },
    );
    support::paired_ratio(
        "bare verify_batch of two + card key / verify_strict",
        201,
        25,
        floor,
        || {
            let card = VerifyingKey::from_bytes(black_box(&card_key_bytes)).unwrap();
            let _ = black_box(
                !card.is_weak()
                    && ed25519_dalek::verify_batch(
                        &[message.as_slice(), answer_message.as_slice()],
                        &[signature, answer_signature],
                        &[vk, card],
                    )
                    .is_ok(),
            );
        },
    );
    support::paired_ratio(
        "cached tap (no binding) / verify_strict",
        201,
        25,
        floor,
        || {
            let _ = black_box(warm.tap(&front, black_box(regular.credential()), None, NOW));
        },
    );
    // Per credential: 1,024 verify_strict against one batch of 1,024.
    support::paired_ratio(
        "batch_verify (1,024, per credential) / verify_strict",
        31,
        1,
        || {
            for (m, s) in &audit_floor {
                let _ = black_box(vk.verify_strict(black_box(m), black_box(s)));
            }
        },
        || {
            let _ = black_box(f.verifier.verify_batch(black_box(&audit), NOW));
        },
    );
    // What verify_batch adds to the bare batch: decoding, pre-checks, status.
    support::paired_ratio(
        "batch_verify (1,024) / bare ed25519-dalek verify_batch (1,024)",
        31,
        1,
        || {
            let _ = black_box(ed25519_dalek::verify_batch(
                &audit_messages,
                &audit_signatures,
                &audit_keys,
            ));
        },
        || {
            let _ = black_box(f.verifier.verify_batch(black_box(&audit), NOW));
        },
    );
    support::paired_ratio(
        "bare ed25519-dalek verify_batch (1,024, per signature) / verify_strict",
        31,
        1,
        || {
            for (m, s) in &audit_floor {
                let _ = black_box(vk.verify_strict(black_box(m), black_box(s)));
            }
        },
        || {
            let _ = black_box(ed25519_dalek::verify_batch(
                &audit_messages,
                &audit_signatures,
                &audit_keys,
            ));
        },
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
