//! A publisher on its own: writes an issuer's layout (a registry of C cards, its key
//! set, root anchor and list) to DIR, then serves DIR with `revocard::net::serve` until
//! interrupted. The load test of `scripts/bench-get.sh` runs it beside nginx serving
//! the same directory; `revocard serve` is the operator's way to do the same.
//!
//! ```text
//! cargo run --release --example publisher --features serve -- --dir DIR --listen ADDR [--cards C]
//! ```

use std::ops::ControlFlow;
use std::time::{SystemTime, UNIX_EPOCH};

use rand::SeedableRng;
use rand::rngs::StdRng;
use revocard::issue::*;
use revocard::net::serve::{ServeConfig, ServeEvent};
use revocard::registry::*;
use revocard::*;

const USAGE: &str = "usage: publisher --dir DIR --listen ADDR [--cards C]";

fn main() {
    if let Err(e) = run() {
        eprintln!("publisher: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut dir = None;
    let mut listen = None;
    let mut cards = 1000usize;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg} needs a value\n{USAGE}"));
        match arg.as_str() {
            "--dir" => dir = Some(std::path::PathBuf::from(value()?)),
            "--listen" => listen = Some(value()?.parse::<std::net::SocketAddr>()?),
            "--cards" => cards = value()?.parse()?,
            _ => return Err(format!("unknown argument `{arg}`\n{USAGE}").into()),
        }
    }
    let (Some(dir), Some(listen)) = (dir, listen) else {
        return Err(USAGE.into());
    };
    if !(1..=1_000_000).contains(&cards) {
        return Err("--cards must be from 1 to 1000000".into());
    }
    let now = UnixTime(SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs());
    let year = 365 * 24 * 3600;
    let mut rng = StdRng::seed_from_u64(1);
    let issuer = IssuerId::new("metro-police")?;
    let root = RootKey::generate(
        issuer.clone(),
        Validity::new(now.minus(year), now.plus(20 * year))?,
        &mut rng,
    )?;
    let key = IssuerKey::generate(
        issuer,
        Validity::new(now.minus(60), now.plus(10 * year))?,
        &mut rng,
    )?;
    let mut draft = KeySetDraft::first(root.public(), now.minus(60));
    draft.certify(key.public(), KeyUsage::CredentialsAndLists)?;
    let capacity = MIN_LIST_CAPACITY.max(u32::try_from(cards * 4)?.next_power_of_two());
    let mut registry = Registry::create(
        SqliteStore::open_in_memory()?,
        root.public(),
        &root.sign_key_set(&draft)?,
        &key,
        capacity,
        now,
        now.plus(24 * 3600),
    )?;
    let roster: Vec<HolderRequest> = (0..cards)
        .map(|i| {
            Ok(HolderRequest {
                kind: Kind::WarrantCard,
                holder: Holder::new(
                    format!("{:07}", 1_000_000 + i),
                    format!("Officer {i}"),
                    "Police Constable",
                    "Response",
                    PhotoDigest::of(format!("photo {i}").as_bytes()),
                )?,
                vetting: Vetting::new(PoliceVetting::Force(ForceVetting::Recruitment), None),
                validity: Validity::new(now.minus(60), now.plus(year))?,
            })
        })
        .collect::<Result<_, Box<dyn std::error::Error>>>()?;
    registry.issue_roster(
        &key,
        "northgate-print",
        &roster,
        &mut SoftwareCards::generate(cards, &mut rng),
        now,
        &mut rng,
        &mut Hooks {
            progress: Box::new(|_: Progress| ControlFlow::Continue(())),
            ..Hooks::default()
        },
    )?;
    let first = registry
        .store()
        .credentials(&CredentialFilter::All)?
        .first()
        .map(|c| c.serial)
        .ok_or("no card")?;
    registry.set_status(
        &key,
        first,
        Status::Revoked,
        RevocationReason::Lost,
        now,
        now.plus(24 * 3600),
    )?;
    let folder = registry.publish_to(&dir)?.issuer_dir;
    eprintln!("publisher: wrote {}", folder.display());
    let mut config = ServeConfig::new(&dir, listen);
    config.worker_threads = 2;
    config.on_event = Some(std::sync::Arc::new(|e: &ServeEvent| {
        eprintln!("publisher: {e:?}")
    }));
    eprintln!("publisher: serving {} on {listen}", dir.display());
    revocard::net::serve::serve(config)?;
    Ok(())
}
