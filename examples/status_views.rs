//! The standard status views of a registry, for the interop test (`interop/`) and for
//! the sizes in BENCHMARKS.md.
//!
//! ```text
//! cargo run --example status_views --features standards -- --out DIR [--base-url URL] [--cards N]
//! cargo run --release --example status_views --features standards -- --sizes
//! ```
//!
//! With `--out`: a registry (in memory) of at least 131,072 indexes issues `N` cards
//! (default 3,000) through two suppliers; one card is suspended, the first supplier is
//! breached (its batch revoked by one scope entry, the suspended card among them), a
//! few of the second supplier's cards are revoked individually and two suspended. The
//! layout is written to DIR with the standard views beside the native files
//! (`revocard::net::write_layout_with_standards`), then a `Verifier` that trusts only
//! the root reads the published native files, and DIR/expected.json records its answer
//! for EVERY index (`statuses`: one character an index, 0 valid, 1 revoked, 2
//! suspended, as the IETF values), the URLs, and the status references
//! (`ietf_status_claim`, `w3c_credential_status`) of a sample of cards.
//!
//! With `--sizes`: the sizes of the native list and the standard views for the breach
//! of 47,000 cards and for 1% random revocations of 1,000,000 indexes (markdown).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use revocard::issue::*;
use revocard::net::layout::{Latest, issuer_dir_name};
use revocard::net::standards::{
    IndexStatuses, StatusUrls, StatusViews, ViewTimes, ietf_status_claim, w3c_credential_status,
};
use revocard::registry::*;
use revocard::*;
use serde_json::json;

const ISSUER: &str = "metro-police";
const BREACHED: &str = "northgate-print";
const OTHER: &str = "southbank-print";
const REPLACEMENT: &str = "eastside-print";
const YEAR: u64 = 365 * 24 * 3600;
const LIST_LIFETIME: u64 = 3600;
const T0: UnixTime = UnixTime(1_760_000_000);

type Error = Box<dyn std::error::Error>;

fn main() {
    if let Err(e) = run() {
        eprintln!("status_views: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let mut out = None;
    let mut base_url = "https://status.example-police.uk/revocard".to_owned();
    let mut cards = 3000usize;
    let mut sizes = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--out" => out = Some(PathBuf::from(args.next().ok_or("--out DIR")?)),
            "--base-url" => base_url = args.next().ok_or("--base-url URL")?,
            "--cards" => cards = args.next().ok_or("--cards N")?.parse()?,
            "--sizes" => sizes = true,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if sizes {
        return print_sizes();
    }
    let out = out.ok_or("give --out DIR or --sizes")?;
    publish_scenario(&out, &base_url, cards)
}

fn holders(count: usize, first: usize) -> Result<Vec<HolderRequest>, Error> {
    (first..first + count)
        .map(|i| {
            Ok(HolderRequest {
                kind: if i % 3 == 0 {
                    Kind::StaffPass
                } else {
                    Kind::WarrantCard
                },
                holder: Holder::new(
                    format!("{:06}", 100_000 + i),
                    format!("Officer {i}"),
                    "Police Constable",
                    "Response",
                    PhotoDigest::of(format!("photo-{i}").as_bytes()),
                )?,
                vetting: Vetting::new(PoliceVetting::Force(ForceVetting::Recruitment), None),
                validity: Validity::new(T0, T0.plus(3 * YEAR))?,
            })
        })
        .collect()
}

fn publish_scenario(out: &Path, base_url: &str, cards: usize) -> Result<(), Error> {
    let mut rng = StdRng::seed_from_u64(14);
    let issuer = IssuerId::new(ISSUER)?;
    let root = RootKey::generate(
        issuer.clone(),
        Validity::new(T0, T0.plus(20 * YEAR))?,
        &mut rng,
    )?;
    let key = IssuerKey::generate(
        issuer.clone(),
        Validity::new(T0, T0.plus(10 * YEAR))?,
        &mut rng,
    )?;
    let mut draft = KeySetDraft::first(root.public(), T0);
    draft.certify(key.public(), KeyUsage::CredentialsAndLists)?;
    let key_set = root.sign_key_set(&draft)?;
    let mut registry = Registry::create(
        SqliteStore::open_in_memory()?,
        root.public(),
        &key_set,
        &key,
        MIN_LIST_CAPACITY,
        T0,
        T0.plus(LIST_LIFETIME),
    )?;
    let breached_count = cards * 2 / 3;
    let mut now = T0.plus(60);
    for (supplier, roster) in [
        (BREACHED, holders(breached_count, 0)?),
        (OTHER, holders(cards - breached_count, breached_count)?),
    ] {
        let mut stock = SoftwareCards::generate(roster.len(), &mut rng);
        registry.issue_roster(
            &key,
            supplier,
            &roster,
            &mut stock,
            now,
            &mut rng,
            &mut Hooks::default(),
        )?;
        now = now.plus(60);
    }
    let by_supplier = |registry: &Registry<SqliteStore>,
                       supplier: &str|
     -> Result<Vec<CredentialRecord>, Error> {
        let batches: Vec<PrintBatchId> = registry
            .store()
            .batches()?
            .into_iter()
            .filter(|b| b.supplier == supplier)
            .map(|b| b.id)
            .collect();
        Ok(registry
            .store()
            .credentials(&CredentialFilter::PrintBatches(batches))?)
    };
    let breached = by_supplier(&registry, BREACHED)?;
    let other = by_supplier(&registry, OTHER)?;
    // A card of the breached batch suspended before the breach: revoked after it.
    let first_breached = breached.first().ok_or("no breached cards")?;
    registry.set_status(
        &key,
        first_breached.serial,
        Status::Suspended,
        RevocationReason::Lost,
        now,
        now.plus(LIST_LIFETIME),
    )?;
    now = now.plus(60);
    // The breach: the supplier's batch revoked by one scope entry.
    let incident = Incident::Supplier {
        supplier: BREACHED.to_owned(),
    };
    let plan = registry.plan(&incident, now)?;
    registry.declare(&plan, &key, REPLACEMENT, now, now.plus(LIST_LIFETIME))?;
    now = now.plus(60);
    // A few individual revocations and two suspensions at the other supplier.
    let reasons = [
        RevocationReason::Lost,
        RevocationReason::Stolen,
        RevocationReason::LeftService,
        RevocationReason::PrivilegeWithdrawn,
        RevocationReason::KeyCompromise,
    ];
    for (record, reason) in other.iter().take(reasons.len()).zip(reasons) {
        registry.set_status(
            &key,
            record.serial,
            Status::Revoked,
            reason,
            now,
            now.plus(LIST_LIFETIME),
        )?;
        now = now.plus(1);
    }
    for record in other.iter().skip(reasons.len()).take(2) {
        registry.set_status(
            &key,
            record.serial,
            Status::Suspended,
            RevocationReason::Lost,
            now,
            now.plus(LIST_LIFETIME),
        )?;
        now = now.plus(1);
    }
    let report = registry.publish_to_with_standards(out, base_url, &key)?;
    println!(
        "wrote {} files into {}",
        report.written.len(),
        report.issuer_dir.display()
    );

    // revocard's own answer, as a door reads the published native files, trusting only
    // the root.
    let issuer_dir = out.join(issuer_dir_name(&issuer));
    let latest = Latest::from_json(&std::fs::read(issuer_dir.join("latest.json"))?)?;
    let anchor = RootPublicKey::from_bytes(&std::fs::read(issuer_dir.join(&latest.anchor.path))?)?;
    let verifier = Verifier::new(TrustStore::new(), VerifyOptions::default());
    verifier.add_root(anchor)?;
    verifier.install_key_set(&std::fs::read(issuer_dir.join(&latest.key_set.path))?, now)?;
    verifier.install_list(&std::fs::read(issuer_dir.join(&latest.list.path))?, now)?;
    let list = verifier.list(&issuer).ok_or("no list installed")?;
    let mut claims_at = HashMap::new();
    for record in registry.store().credentials(&CredentialFilter::All)? {
        let claims = UnverifiedCredential::from_bytes(&record.bytes)?
            .unverified_claims()
            .clone();
        claims_at.insert(record.status_index.0, claims);
    }
    let mut statuses = String::with_capacity(list.capacity() as usize);
    let mut counts = [0usize; 3];
    for index in 0..list.capacity() {
        let answer = match claims_at.get(&index) {
            Some(claims) => match list.status_of(claims).ok_or("index outside the list")? {
                StatusAnswer::Valid => 0,
                StatusAnswer::Revoked(_) => 1,
                StatusAnswer::Suspended => 2,
            },
            None => match list.status_at(index).ok_or("index outside the list")? {
                Status::Valid => 0,
                Status::Revoked => 1,
                Status::Suspended => 2,
            },
        };
        counts[answer] += 1;
        statuses.push(char::from(b'0' + answer as u8));
    }
    // The status references of a sample of cards: the suspended-then-breached card,
    // a breached card, the individually revoked and suspended ones, and valid ones.
    let urls = StatusUrls::new(base_url, &issuer)?;
    let sample: Vec<_> = std::iter::once(first_breached)
        .chain(breached.iter().skip(1).take(2))
        .chain(other.iter().take(reasons.len() + 4))
        .map(|r| {
            json!({
                "index": r.status_index.0,
                "status": ietf_status_claim(&urls, r.status_index),
                "credentialStatus": w3c_credential_status(&urls, r.status_index),
            })
        })
        .collect();
    let expected = json!({
        "issuer": ISSUER,
        "issuer_dir": issuer_dir_name(&issuer),
        "issuer_url": urls.issuer(),
        "ietf_url": urls.ietf(),
        "w3c_revocation_url": urls.w3c(revocard::net::standards::W3cPurpose::Revocation),
        "w3c_suspension_url": urls.w3c(revocard::net::standards::W3cPurpose::Suspension),
        "jwks_url": urls.jwks(),
        "key_id": key.key_id().to_string(),
        "list_sequence": latest.list.sequence,
        "published_at": latest.published_at,
        "next_update": latest.next_update,
        "ttl": revocard::net::standards::DEFAULT_VIEW_TTL_SECS,
        "capacity": list.capacity(),
        "counts": {"valid": counts[0], "revoked": counts[1], "suspended": counts[2]},
        "statuses": statuses,
        "references": sample,
    });
    std::fs::write(
        out.join("expected.json"),
        serde_json::to_vec_pretty(&expected)?,
    )?;
    println!(
        "{} indexes: {} valid, {} revoked, {} suspended; expected.json written",
        list.capacity(),
        counts[0],
        counts[1],
        counts[2]
    );
    Ok(())
}

/// A uniformly random subset of exactly `count` indexes of `0..universe` (selection
/// sampling, Knuth's Algorithm S), as the registry's random index allocation spreads them.
fn random_set(rng: &mut StdRng, universe: u32, count: u32) -> Vec<u32> {
    let mut out = Vec::with_capacity(count as usize);
    let mut needed = count;
    for index in 0..universe {
        if needed > 0 && rng.random_range(0..universe - index) < needed {
            out.push(index);
            needed -= 1;
        }
    }
    out
}

fn print_sizes() -> Result<(), Error> {
    let mut rng = StdRng::seed_from_u64(14);
    let issuer = IssuerId::new(ISSUER)?;
    let key = IssuerKey::generate(
        issuer.clone(),
        Validity::new(T0, T0.plus(10 * YEAR))?,
        &mut rng,
    )?;
    let urls = StatusUrls::new("https://status.example-police.uk/revocard", &issuer)?;
    let times = ViewTimes::new(T0, T0.plus(LIST_LIFETIME));
    println!(
        "| case | indexes | native list | IETF token | W3C revocation | W3C suspension | W3C both |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    // The breach of 47,000: the native list carries one scope entry; the standard views
    // carry the bits of the 47,000 random status indexes it covers (the registry's
    // capacity for 47,000 cards, as examples/reissue_batch.rs sizes it: 262,144).
    let capacity = 262_144;
    let mut native = IssuerStatusList::new(issuer.clone(), capacity)?;
    native.revoke_scope(ScopeEntry {
        scope: Scope::PrintBatch(PrintBatchId(1)),
        reason: RevocationReason::SupplierBreach,
        since: T0,
    })?;
    let mut standard = IndexStatuses::new(capacity)?;
    for i in random_set(&mut rng, capacity, 47_000) {
        standard.set(i, Status::Revoked)?;
    }
    row(
        "breach of 47,000 (one scope entry)",
        &mut native,
        &standard,
        times,
        &urls,
        &key,
    )?;
    // 1% random revocations of 1,000,000 indexes, individually in all three.
    let capacity = 1_000_000;
    let mut native = IssuerStatusList::new(issuer, capacity)?;
    let mut standard = IndexStatuses::new(capacity)?;
    for i in random_set(&mut rng, capacity, capacity / 100) {
        native.revoke(i, RevocationReason::Unspecified, T0)?;
        standard.set(i, Status::Revoked)?;
    }
    row(
        "1% random of 1,000,000",
        &mut native,
        &standard,
        times,
        &urls,
        &key,
    )?;
    Ok(())
}

fn row(
    case: &str,
    native: &mut IssuerStatusList,
    standard: &IndexStatuses,
    times: ViewTimes,
    urls: &StatusUrls,
    key: &IssuerKey,
) -> Result<(), Error> {
    let list = native
        .publish(key, times.issued_at, times.next_update)?
        .list;
    let views = StatusViews::make(standard, times, urls, key)?;
    let (r, s) = (views.w3c_revocation.len(), views.w3c_suspension.len());
    println!(
        "| {case} | {} | {} B | {} B | {r} B | {s} B | {} B |",
        standard.capacity(),
        list.len(),
        views.ietf.len(),
        r + s
    );
    Ok(())
}
