//! The Rust side of the C ABI figure (`ffi/bench/abi_ratio.sh`): writes one issuer's
//! anchor, key set, list and a credential into a folder, and times
//! `Verifier::verify` on that credential, the call the C program times through
//! `revocard_verifier_verify`.
//!
//! `cargo run --release -p revocard-ffi --example abi_timing -- fixtures DIR`
//! `cargo run --release -p revocard-ffi --example abi_timing -- time DIR [BATCHES] [PER_BATCH]`
//!
//! `time` prints one line, `rust_ns_per_verify N`: the fastest batch's mean.

use std::error::Error;
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use rand::SeedableRng as _;
use rand::rngs::StdRng;
use revocard::issue::{
    CardKey, CredentialRequest, IssuerKey, IssuerStatusList, KeySetDraft, RootKey,
};
use revocard::*;

/// The time the fixtures are made at and verified at.
const T: u64 = 1_800_000_000;

fn fixtures(dir: &Path) -> Result<(), Box<dyn Error>> {
    std::fs::create_dir_all(dir)?;
    let mut rng = StdRng::seed_from_u64(5);
    let now = UnixTime(T);
    let issuer = IssuerId::new("timing-police")?;
    let window = Validity::new(UnixTime(T - 86_400), UnixTime(T + 10 * 365 * 86_400))?;
    let root = RootKey::generate(issuer.clone(), window, &mut rng)?;
    let key = IssuerKey::generate(issuer.clone(), window, &mut rng)?;
    let mut draft = KeySetDraft::first(root.public(), now);
    draft.certify(key.public(), KeyUsage::CredentialsAndLists)?;
    let mut statuses = IssuerStatusList::new(issuer, MIN_LIST_CAPACITY)?;
    let list = statuses.publish(&key, now, now.plus(30 * 86_400))?;
    let credential = key.issue(
        CredentialRequest {
            kind: Kind::WarrantCard,
            holder: Holder::new(
                "123456",
                "A. Officer",
                "Sergeant",
                "Response",
                PhotoDigest::of(b"jpeg"),
            )?,
            vetting: "MV".parse()?,
            status_index: StatusIndex(42),
            print_batch: PrintBatchId(1),
            validity: Validity::new(now, now.plus(365 * 86_400))?,
            card_key: Some(CardKey::generate(&mut rng).public()),
            supersedes: None,
        },
        now,
        &mut rng,
    )?;
    std::fs::write(dir.join("anchor.rca"), root.public().to_bytes())?;
    std::fs::write(dir.join("keyset.rks"), root.sign_key_set(&draft)?)?;
    std::fs::write(dir.join("list.rcl"), &list.list)?;
    std::fs::write(dir.join("credential.bin"), credential.bytes())?;
    Ok(())
}

fn time(dir: &Path, batches: usize, per_batch: usize) -> Result<(), Box<dyn Error>> {
    let now = UnixTime(T);
    let root = RootPublicKey::from_bytes(&std::fs::read(dir.join("anchor.rca"))?)?;
    let mut trust = TrustStore::new();
    trust.add_root(root)?;
    let verifier = Arc::new(Verifier::new(trust, VerifyOptions::default()));
    verifier.install_key_set(&std::fs::read(dir.join("keyset.rks"))?, now)?;
    verifier.install_list(&std::fs::read(dir.join("list.rcl"))?, now)?;
    let credential = std::fs::read(dir.join("credential.bin"))?;
    verifier.verify(&credential, now)?;
    for _ in 0..per_batch {
        black_box(verifier.verify(black_box(&credential), now).is_ok());
    }
    let mut best = f64::INFINITY;
    for _ in 0..batches {
        let start = Instant::now();
        for _ in 0..per_batch {
            black_box(verifier.verify(black_box(&credential), now).is_ok());
        }
        best = best.min(start.elapsed().as_nanos() as f64 / per_batch as f64);
    }
    println!("rust_ns_per_verify {best:.0}");
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: abi_timing fixtures DIR | time DIR [BATCHES] [PER_BATCH]";
    let dir = Path::new(args.get(2).ok_or(usage)?);
    let number =
        |i: usize, default: usize| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(default);
    match args.get(1).map(String::as_str) {
        Some("fixtures") => fixtures(dir),
        Some("time") => time(dir, number(3, 30), number(4, 500)),
        _ => Err(usage.into()),
    }
}
