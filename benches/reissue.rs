//! Revoke + reissue N cards on a registry file, persisted, new list published, beside
//! its floor measured in the same run: N Ed25519 key generations plus N signatures,
//! single-threaded (the cost of issuing the replacements with nothing else done). The
//! replacements' card keys are made on the new supplier's chips beforehand and reach
//! the registry as a list of public keys, checked when the list is received (before
//! the breach, outside the time measured), so the reissue only signs.
//!
//! `cargo bench --bench reissue` runs criterion at 1,000 cards, then the scaling table
//! (1,000 to 200,000 cards, one run each beside its own floor), printed as `scale:` lines.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use ed25519_dalek::{Signer, SigningKey};
use rand::{SeedableRng, rngs::StdRng};
use revocard::issue::*;
use revocard::registry::*;
use revocard::*;

const NOW: UnixTime = UnixTime(1_800_000_000);
const YEAR: u64 = 365 * 24 * 3600;

fn roster(n: u32) -> Vec<HolderRequest> {
    (0..n)
        .map(|i| HolderRequest {
            kind: if i % 3 == 0 {
                Kind::StaffPass
            } else {
                Kind::WarrantCard
            },
            holder: Holder::new(
                format!("{:07}", i),
                format!("Officer {i}"),
                "Police Constable",
                "Response",
                PhotoDigest([1; 32]),
            )
            .unwrap(),
            vetting: Vetting::new(PoliceVetting::Force(ForceVetting::Recruitment), None),
            validity: Validity::new(NOW.minus(60), NOW.plus(YEAR)).unwrap(),
        })
        .collect()
}

/// A registry file with `n` cards issued through the supplier about to be breached.
fn prepared(n: u32, rng: &mut StdRng) -> (tempfile::TempDir, Registry<SqliteStore>, IssuerKey) {
    let dir = tempfile::tempdir().unwrap();
    let key = IssuerKey::generate(
        IssuerId::new("bench-police").unwrap(),
        Validity::new(NOW.minus(YEAR), NOW.plus(10 * YEAR)).unwrap(),
        rng,
    )
    .unwrap();
    let capacity = MIN_LIST_CAPACITY.max((n * 4).next_power_of_two());
    let store = SqliteStore::open(dir.path().join("r.sqlite")).unwrap();
    let root = RootKey::generate(
        key.issuer().clone(),
        Validity::new(NOW.minus(3600), NOW.plus(20 * 365 * 86_400)).unwrap(),
        rng,
    )
    .unwrap();
    let mut draft = KeySetDraft::first(root.public(), NOW);
    draft
        .certify(key.public(), KeyUsage::CredentialsAndLists)
        .unwrap();
    let key_set = root.sign_key_set(&draft).unwrap();
    let mut reg = Registry::create(
        store,
        root.public(),
        &key_set,
        &key,
        capacity,
        NOW,
        NOW.plus(3600),
    )
    .unwrap();
    reg.issue_roster(
        &key,
        "northgate-print",
        &roster(n),
        &mut SoftwareCards::generate(n as usize, rng),
        NOW,
        rng,
        &mut Hooks::default(),
    )
    .unwrap();
    (dir, reg, key)
}

/// The replacement supplier's list of `n` blank cards' public keys, made on their
/// chips beforehand (software cards here) and checked when received, outside the time
/// measured (as a supplier's list arrives before any breach).
fn supplier_list(n: u32, rng: &mut StdRng) -> BlankCardList {
    let mut stock = SoftwareCards::generate(n as usize, rng);
    BlankCardList::check(std::iter::from_fn(|| stock.report())).unwrap()
}

/// Breach declared -> every replacement committed and the final list published.
fn revoke_and_reissue(
    reg: &mut Registry<SqliteStore>,
    key: &IssuerKey,
    n: u32,
    rng: &mut StdRng,
) -> Duration {
    let incident = Incident::Supplier {
        supplier: "northgate-print".into(),
    };
    let mut cards = supplier_list(n, rng);
    let t = Instant::now();
    let report = reg
        .execute(
            &incident,
            key,
            "southbank-print",
            &mut cards,
            NOW.plus(10),
            NOW.plus(3600),
            rng,
            &mut Hooks::default(),
        )
        .unwrap()
        .unwrap();
    let elapsed = t.elapsed();
    assert!(report.finished);
    elapsed
}

fn floor(n: u32, rng: &mut StdRng) -> Duration {
    let message = [0x5au8; 320];
    let t = Instant::now();
    for _ in 0..n {
        let k = SigningKey::generate(rng);
        black_box(k.sign(black_box(&message)));
    }
    t.elapsed()
}

fn bench(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(5);
    let mut g = c.benchmark_group("reissue_1000");
    g.sample_size(10);
    g.bench_function("floor_keygen_sign", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| floor(1000, &mut rng)).sum())
    });
    g.bench_function("revoke_reissue_publish", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let (_dir, mut reg, key) = prepared(1000, &mut rng);
                    revoke_and_reissue(&mut reg, &key, 1000, &mut rng)
                })
                .sum()
        })
    });
    g.finish();

    let sizes: Vec<u32> = std::env::var("REISSUE_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1_000, 10_000, 47_000, 200_000]);
    println!("scale: cards | revoke+reissue+publish | floor (keygen+sign, 1 core) | ratio");
    for n in sizes {
        let (_dir, mut reg, key) = prepared(n, &mut rng);
        let f = floor(n, &mut rng);
        let r = revoke_and_reissue(&mut reg, &key, n, &mut rng);
        println!(
            "scale: {n} | {:.0} ms | {:.0} ms | {:.2}x",
            r.as_secs_f64() * 1e3,
            f.as_secs_f64() * 1e3,
            r.as_secs_f64() / f.as_secs_f64()
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
