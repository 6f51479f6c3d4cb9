//! Issue, encode, decode and verify one credential, beside the floor: a bare
//! `verify_strict` (and a bare sign) of the very same bytes in the same run.
//!
//! `cargo bench --bench credential`, then `python3 scripts/ratios.py` prints the ratios.

mod support;

use criterion::{Criterion, criterion_group, criterion_main};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use rand::{SeedableRng, rngs::StdRng};
use revocard::format::*;
use revocard::issue::*;
use revocard::*;
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(1);
    let now = UnixTime(1_800_000_000);
    let year = 365 * 24 * 3600;
    let signing = SigningKey::generate(&mut rng);
    let window = Validity::new(now.minus(year), now.plus(10 * year)).unwrap();
    let key = IssuerKey::from_secret_bytes(
        IssuerId::new("bench-police").unwrap(),
        window,
        &signing.to_bytes(),
    )
    .unwrap();
    let request = CredentialRequest {
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
        status_index: StatusIndex(99_998),
        print_batch: PrintBatchId(12),
        validity: Validity::new(now, now.plus(year)).unwrap(),
        card_key: Some(CardKey::generate(&mut rng).public()),
        supersedes: None,
    };
    let cred = key.issue(request.clone(), now, &mut rng).unwrap();
    let bytes = cred.bytes().to_vec();
    let mut trust = TrustStore::new();
    trust.add(key.public().clone()).unwrap();
    let verifier = Verifier::new(trust, VerifyOptions::default());
    // A status list with 1% of 131,072 indexes revoked and one breached batch: verify includes the status check.
    let mut list = IssuerStatusList::new(key.issuer().clone(), MIN_LIST_CAPACITY).unwrap();
    for index in (0..MIN_LIST_CAPACITY).step_by(100) {
        list.revoke(index + 1, RevocationReason::Unspecified, now)
            .unwrap();
    }
    list.revoke_scope(ScopeEntry {
        scope: Scope::PrintBatch(PrintBatchId(4242)),
        reason: RevocationReason::SupplierBreach,
        since: now,
    })
    .unwrap();
    verifier
        .install_list(&list.publish(&key, now, now.plus(3600)).unwrap().list, now)
        .unwrap();
    assert!(verifier.verify(&bytes, now).is_ok());

    // The floor: the exact message and signature the verifier checks.
    let mut message = CREDENTIAL_DOMAIN.to_vec();
    message.push(FORMAT_VERSION);
    message.extend_from_slice(&bytes[65..]);
    let signature = Signature::from_bytes(bytes[1..65].try_into().unwrap());
    let vk: VerifyingKey = signing.verifying_key();
    assert!(vk.verify_strict(&message, &signature).is_ok());

    let mut g = c.benchmark_group("credential");
    g.bench_function("floor_verify_strict", |b| {
        b.iter(|| vk.verify_strict(black_box(&message), black_box(&signature)))
    });
    g.bench_function("floor_sign", |b| {
        b.iter(|| signing.sign(black_box(&message)))
    });
    g.bench_function("verify", |b| {
        b.iter(|| verifier.verify(black_box(&bytes), now))
    });
    g.bench_function("decode", |b| {
        b.iter(|| UnverifiedCredential::from_bytes(black_box(&bytes)).map(|c| c.bytes().len()))
    });
    g.bench_function("encode", |b| {
        b.iter(|| black_box(cred.claims()).to_be_signed())
    });
    g.bench_function("issue", |b| {
        b.iter(|| key.issue(black_box(request.clone()), now, &mut rng))
    });
    g.finish();

    // Calibration: the floor against itself shows how noisy this run is.
    support::paired_ratio(
        "verify_strict / verify_strict (noise)",
        201,
        25,
        || {
            let _ = black_box(vk.verify_strict(black_box(&message), black_box(&signature)));
        },
        || {
            let _ = black_box(vk.verify_strict(black_box(&message), black_box(&signature)));
        },
    );
    support::paired_ratio(
        "verify / verify_strict",
        201,
        25,
        || {
            let _ = black_box(vk.verify_strict(black_box(&message), black_box(&signature)));
        },
        || {
            let _ = black_box(verifier.verify(black_box(&bytes), now));
        },
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).measurement_time(std::time::Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
