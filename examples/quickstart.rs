//! Issue a warrant card, verify it, change one byte and show the denial.
//!
//! `cargo run --release --example quickstart [-- --json]` (`-- --help`)

use clap::Parser;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::rngs::SysRng;
use revocard::issue::*;
use revocard::*;

/// Writes a line to stdout; if the reader went away (`| head`), stops quietly.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut stdout = std::io::stdout().lock();
        if writeln!(stdout, $($arg)*).and_then(|()| stdout.flush()).is_err() {
            std::process::exit(0);
        }
    }};
}

/// One warrant card: issue it, verify it, change one byte, revoke it.
#[derive(Parser, Debug)]
#[command(
    name = "quickstart",
    about = "One warrant card: issue it, verify it, change one byte and see the denial, revoke it",
    after_help = "Run through cargo, options after its -- separator:\n  cargo run --release --example quickstart -- --json"
)]
struct Args {
    /// Print one line of JSON instead of the story
    #[arg(long)]
    json: bool,
}

fn main() {
    let args = Args::parse();
    if let Err(e) = run(args.json) {
        eprintln!("quickstart: {e}");
        std::process::exit(1);
    }
}

fn run(json: bool) -> Result<(), Box<dyn std::error::Error>> {
    // The core never reads a clock or an RNG by itself: the edge (here) passes them in.
    let now = UnixTime(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs(),
    );
    let mut rng = StdRng::try_from_rng(&mut SysRng)?;
    let year = 365 * 24 * 3600;

    let issuer = IssuerId::new("example-police")?;
    let key = IssuerKey::generate(issuer, Validity::new(now, now.plus(5 * year))?, &mut rng)?;
    let holder = Holder::new(
        "204518",
        "Sam Example",
        "Police Sergeant",
        "Roads Policing",
        PhotoDigest::of(b"photo.jpg"),
    )?;
    let card = key.issue(
        CredentialRequest {
            kind: Kind::WarrantCard,
            holder,
            vetting: Vetting::new(PoliceVetting::Force(ForceVetting::Management), None),
            status_index: StatusIndex(4_242),
            print_batch: PrintBatchId(1),
            validity: Validity::new(now, now.plus(year))?,
            card_key: Some(CardKey::generate(&mut rng).public()),
            supersedes: None,
        },
        now,
        &mut rng,
    )?;

    let mut trust = TrustStore::new();
    trust.add(key.public().clone())?;
    let verifier = Verifier::new(trust, VerifyOptions::default());
    // Every verifier holds the issuer's current signed status list (fail closed without one).
    let mut statuses = IssuerStatusList::new(key.issuer().clone(), MIN_LIST_CAPACITY)?;
    verifier.install_list(&statuses.publish(&key, now, now.plus(3600))?.list, now)?;

    let accepted = verifier.verify(card.bytes(), now)?;
    let mut tampered = card.bytes().to_vec();
    // Someone edits the rank on the chip: one byte of "Sergeant" becomes "Sergeanu".
    let position = tampered
        .windows(8)
        .position(|w| w == b"Sergeant")
        .unwrap_or(0)
        + 7;
    tampered[position] ^= 0x01;
    let denial = verifier.verify(&tampered, now).err();

    // Reported stolen: revoke its status index and push the signed delta.
    statuses.revoke(4_242, RevocationReason::Stolen, now)?;
    let publication = statuses.publish(&key, now, now.plus(3600))?;
    let delta = publication.delta.unwrap_or_default();
    verifier.apply_delta(&delta, now)?;
    let after_revocation = verifier.verify(card.bytes(), now).err();

    if json {
        let line = serde_json::json!({
            "bytes": card.bytes().len(),
            "text_chars": card.to_text().len(),
            "accepted": true,
            "tampered_denied": denial.is_some(),
            "denial": denial.as_ref().map(ToString::to_string),
            "delta_bytes": delta.len(),
            "revoked_denied": after_revocation.is_some(),
        });
        outln!("{line}");
        return Ok(());
    }
    let c = accepted.claims();
    outln!(
        "Issued a {} for {} ({}, {}), serial {}, signed by key {}.",
        match c.kind {
            Kind::WarrantCard => "warrant card",
            Kind::StaffPass => "staff pass",
        },
        c.holder.name(),
        c.holder.rank(),
        c.vetting,
        c.serial,
        c.key_id
    );
    outln!(
        "It encodes to {} bytes ({} characters as a QR text).",
        card.bytes().len(),
        card.to_text().len()
    );
    outln!("The verifier accepted it.");
    match denial {
        Some(reason) => outln!(
            "Changing byte {position} of {}: denied ({reason}).",
            card.bytes().len()
        ),
        None => outln!("Changing byte {position}: ACCEPTED, which must never happen."),
    }
    match after_revocation {
        Some(reason) => outln!(
            "Reported stolen: a {}-byte signed delta later, the card is denied ({reason}).",
            delta.len()
        ),
        None => outln!("Reported stolen, but still ACCEPTED, which must never happen."),
    }
    Ok(())
}
