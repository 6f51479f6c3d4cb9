//! Status lookup in a 1,000,000-index list, and publishing (encode + sign) and
//! installing (decode + verify + swap) lists of 100,000 and 1,000,000 indexes at 1% and
//! 36% revoked, beside a bare `verify_strict` and an X.509-CRL-style hash set lookup.
//!
//! `cargo bench --bench status`, then `python3 scripts/ratios.py`. Sizes print on stderr.

use std::collections::HashSet;
use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use ed25519_dalek::{Signer, SigningKey};
use rand::{RngExt, SeedableRng, rngs::StdRng};
use revocard::issue::*;
use revocard::*;

const NOW: UnixTime = UnixTime(1_800_000_000);

fn issuer_key(rng: &mut StdRng) -> IssuerKey {
    IssuerKey::generate(
        IssuerId::new("bench-police").unwrap(),
        Validity::new(NOW.minus(1000), NOW.plus(1_000_000)).unwrap(),
        rng,
    )
    .unwrap()
}

fn list_with(key: &IssuerKey, capacity: u32, percent: u32, rng: &mut StdRng) -> IssuerStatusList {
    let mut list = IssuerStatusList::new(key.issuer().clone(), capacity).unwrap();
    for index in 0..capacity {
        if rng.random_range(0..100) < percent {
            list.revoke(index, RevocationReason::Unspecified, NOW)
                .unwrap();
        }
    }
    list
}

fn verifier(key: &IssuerKey) -> Verifier {
    let v = Verifier::new(TrustStore::new(), VerifyOptions::default());
    v.add_key(key.public().clone()).unwrap();
    v
}

fn bench(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(3);
    let key = issuer_key(&mut rng);
    let floor_key = SigningKey::generate(&mut rng);
    let floor_msg = [7u8; 300];
    let floor_sig = floor_key.sign(&floor_msg);
    let floor_vk = floor_key.verifying_key();

    // Lookup: 1,000,000 indexes, 1% revoked, 2 scope entries in force.
    let mut list = list_with(&key, 1_000_000, 1, &mut rng);
    for scope in [
        Scope::PrintBatch(PrintBatchId(4242)),
        Scope::IssuedBefore(NOW.minus(500)),
    ] {
        list.revoke_scope(ScopeEntry {
            scope,
            reason: RevocationReason::SupplierBreach,
            since: NOW,
        })
        .unwrap();
    }
    let published = list.publish(&key, NOW, NOW.plus(3600)).unwrap();
    let v = verifier(&key);
    v.install_list(&published.list, NOW).unwrap();
    let held = v.list(key.issuer()).unwrap();
    let holder = Holder::new("1", "n", "r", "u", PhotoDigest([0; 32])).unwrap();
    let template = key
        .issue(
            CredentialRequest {
                kind: Kind::WarrantCard,
                holder,
                vetting: Vetting::new(PoliceVetting::Force(ForceVetting::Recruitment), None),
                status_index: StatusIndex(0),
                print_batch: PrintBatchId(1),
                validity: Validity::new(NOW, NOW.plus(1000)).unwrap(),
                card_key: None,
                supersedes: None,
            },
            NOW,
            &mut rng,
        )
        .unwrap();
    let probes: Vec<Claims> = (0..4096)
        .map(|_| {
            let mut claims = template.claims().clone();
            claims.status_index = StatusIndex(rng.random_range(0..1_000_000));
            claims
        })
        .collect();
    let serials: HashSet<[u8; 16]> = (0..10_000).map(|_| rng.random::<[u8; 16]>()).collect();
    let serial_probes: Vec<[u8; 16]> = (0..4096).map(|_| rng.random()).collect();

    let mut g = c.benchmark_group("status_lookup");
    g.bench_function("floor_verify_strict", |b| {
        b.iter(|| floor_vk.verify_strict(black_box(&floor_msg), &floor_sig))
    });
    let mut i = 0usize;
    g.bench_function("lookup_1m", |b| {
        b.iter(|| {
            i = (i + 1) & 4095;
            held.status_of(black_box(&probes[i]))
        })
    });
    let mut j = 0usize;
    g.bench_function("x509_crl_hashset_10k_serials", |b| {
        b.iter(|| {
            j = (j + 1) & 4095;
            serials.contains(black_box(&serial_probes[j]))
        })
    });
    g.finish();

    let mut g = c.benchmark_group("status_lists");
    g.sample_size(10);
    g.bench_function("floor_verify_strict", |b| {
        b.iter(|| floor_vk.verify_strict(black_box(&floor_msg), &floor_sig))
    });
    for capacity in [100_000u32, 1_000_000] {
        for percent in [1u32, 36] {
            // Lists start at MIN_LIST_CAPACITY; 100,000 is measured as a 131,072 list scaled back.
            let cap = capacity.max(MIN_LIST_CAPACITY);
            let mut list = list_with(&key, cap, percent, &mut rng);
            let p = list.clone().publish(&key, NOW, NOW.plus(3600)).unwrap();
            eprintln!(
                "size: capacity {cap}, {percent}% revoked: {} bytes ({:.0} per 100,000 indexes)",
                p.list.len(),
                p.list.len() as f64 * 100_000.0 / f64::from(cap)
            );
            g.bench_function(format!("publish_{cap}_{percent}pct"), |b| {
                b.iter(|| list.publish(&key, NOW, NOW.plus(3600)).unwrap().sequence)
            });
            g.bench_function(format!("install_{cap}_{percent}pct"), |b| {
                b.iter_batched(
                    || verifier(&key),
                    |v| v.install_list(black_box(&p.list), NOW).unwrap(),
                    BatchSize::LargeInput,
                )
            });
        }
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
