//! Sizes of signed lists and deltas, whole objects (version, signature, header, sets),
//! for BENCHMARKS.md: the smallest delta (one revocation), the delta and list of a
//! supplier breach (one scope entry), and lists with 1% of their indexes revoked.
//!
//! `cargo run --release --example wire_sizes`
//!
//! Fixed inputs (seeded RNG, fixed time, issuer `example-police`, next update one hour
//! after issue), so the figures are the same on every run of the same format.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use revocard::issue::*;
use revocard::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let now = UnixTime(1_800_000_000);
    let mut rng = StdRng::seed_from_u64(12);
    let issuer = IssuerId::new("example-police")?;
    let key = IssuerKey::generate(
        issuer,
        Validity::new(now, now.plus(86_400 * 365))?,
        &mut rng,
    )?;
    let next = now.plus(3600);
    let fresh = |capacity| IssuerStatusList::new(key.issuer().clone(), capacity);

    // One revocation: sequence 1 -> 2, one index of 131,072.
    let mut list = fresh(MIN_LIST_CAPACITY)?;
    list.publish(&key, now, next)?;
    list.revoke(40_321, RevocationReason::Lost, now)?;
    let one = list.publish(&key, now, next)?;
    let one_delta = one.delta.as_ref().map_or(0, Vec::len);

    // A supplier breach: one scope entry revoking print batch 1.
    let mut list = fresh(MIN_LIST_CAPACITY)?;
    list.publish(&key, now, next)?;
    list.revoke_scope(ScopeEntry {
        scope: Scope::PrintBatch(PrintBatchId(1)),
        reason: RevocationReason::SupplierBreach,
        since: now,
    })?;
    let breach = list.publish(&key, now, next)?;

    println!("object | bytes");
    println!("--- | ---");
    println!(
        "empty list, 131,072 indexes | {}",
        fresh(MIN_LIST_CAPACITY)?
            .publish(&key, now, next)?
            .list
            .len()
    );
    println!("delta, one revocation | {one_delta}");
    println!("list after that revocation | {}", one.list.len());
    println!(
        "delta, a supplier breach (one scope entry) | {}",
        breach.delta.as_ref().map_or(0, Vec::len)
    );
    println!("list after that breach | {}", breach.list.len());
    for capacity in [MIN_LIST_CAPACITY, 1_000_000] {
        let mut list = fresh(capacity)?;
        let mut revoked = 0;
        for index in 0..capacity {
            if rng.random_range(0..100u32) == 0 {
                list.revoke(index, RevocationReason::Unspecified, now)?;
                revoked += 1;
            }
        }
        let p = list.publish(&key, now, next)?;
        let per = p.list.len() as f64 * 100_000.0 / f64::from(capacity);
        println!(
            "list, {revoked} of {capacity} revoked (1%) | {} ({per:.0} per 100,000 indexes)",
            p.list.len()
        );
    }
    Ok(())
}
