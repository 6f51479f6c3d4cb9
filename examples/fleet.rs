//! The fleet figure: from `declare` to every door denying, end to end on loopback.
//!
//! The publisher (`revocard::net::serve`) serves the published layout; N doors, each
//! with its own verifier and feed (`revocard::net::feed`), start from the issuer's root
//! anchor alone and fetch the key set and the list. The issuer declares the breach of
//! a supplier that printed every card (47,000 by default). For every door the example
//! measures the time from `declare` returning to the moment that door denies its
//! sample old card, and the bytes it received for that update; then the issuer
//! reissues, and every door must admit a replacement.
//!
//! ```text
//! cargo run --release --example fleet --features serve,feed [-- --doors N] [--count C] [--poll SECS] [--json]
//! ```
//!
//! `--poll SECS` runs the same fleet with conditional polling instead of push. With
//! `--json` the last line is one JSON object: `doors`, `p50_ms`, `p99_ms`, `max_ms`,
//! `bytes_per_door`, `all_denied` (and more). Timings are wall clock on this machine,
//! with the publisher and every door in this one process.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::SeedableRng;
use rand::rngs::StdRng;
use revocard::issue::*;
use revocard::net::feed::{Feed, FeedConfig, FeedEvent, FeedMode, StatsHandle};
use revocard::net::serve::ServeConfig;
use revocard::registry::*;
use revocard::*;

const ISSUER: &str = "metro-police";
const BREACHED: &str = "northgate-print";
const REPLACEMENT: &str = "eastgate-print";
const YEAR: u64 = 365 * 24 * 3600;
const LIST_LIFETIME: u64 = 3600;
/// Old cards sampled: door `i` watches sample `i % SAMPLES`; at the end every door is
/// checked against every sample.
const SAMPLES: usize = 16;
/// How long the doors may take to start (fetch key set and list, open the stream).
const START_LIMIT: Duration = Duration::from_secs(120);

const USAGE: &str = "\
usage: fleet [--doors N] [--count C] [--poll SECS] [--seed S] [--json]

  --doors N     door controllers, each with its own verifier and feed (default 1000, at most 4000)
  --count C     cards issued through the breached supplier (default 47000, at most 1000000)
  --poll SECS   doors poll latest.json every SECS seconds instead of taking pushes
  --seed S      seed of keys, serials and cards (default 1)
  --json        print one JSON line at the end";

struct Args {
    doors: usize,
    count: usize,
    poll: Option<u64>,
    seed: u64,
    json: bool,
}

fn parse_args() -> Result<Option<Args>, String> {
    let mut args = Args {
        doors: 1000,
        count: 47_000,
        poll: None,
        seed: 1,
        json: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut number = |name: &str| -> Result<u64, String> {
            let text = it.next().ok_or(format!("{name} needs a value"))?;
            text.parse()
                .map_err(|_| format!("{name}: `{text}` is not a whole number"))
        };
        match arg.as_str() {
            "--doors" => {
                args.doors = usize::try_from(number("--doors")?).map_err(|e| e.to_string())?
            }
            "--count" => {
                args.count = usize::try_from(number("--count")?).map_err(|e| e.to_string())?
            }
            "--poll" => args.poll = Some(number("--poll")?),
            "--seed" => args.seed = number("--seed")?,
            "--json" => args.json = true,
            "--help" | "-h" => return Ok(None),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    if !(1..=4000).contains(&args.doors) {
        return Err("--doors must be from 1 to 4000".into());
    }
    if !(SAMPLES..=1_000_000).contains(&args.count) {
        return Err(format!("--count must be from {SAMPLES} to 1000000"));
    }
    if args.poll == Some(0) || args.poll.is_some_and(|p| p > 3600) {
        return Err("--poll must be from 1 to 3600 seconds".into());
    }
    Ok(Some(args))
}

fn main() {
    match parse_args() {
        Ok(None) => println!("{USAGE}"),
        Ok(Some(args)) => {
            if let Err(e) = run(&args) {
                eprintln!("fleet: {e}");
                std::process::exit(2);
            }
        }
        Err(e) => {
            eprintln!("fleet: {e}");
            std::process::exit(1);
        }
    }
}

fn now() -> UnixTime {
    UnixTime(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    )
}

/// One door: its verifier, the old card it watches, when it first denied it.
struct Door {
    verifier: Arc<Verifier>,
    stats: StatsHandle,
    denied_at: Arc<OnceLock<Instant>>,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[allow(clippy::too_many_lines)]
fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let say = |line: String| {
        if !args.json {
            println!("{line}");
        }
    };
    let mut rng = StdRng::seed_from_u64(args.seed);
    let start = now();
    let issuer = IssuerId::new(ISSUER)?;
    let work = tempfile::tempdir()?;
    let published = work.path().join("published");
    std::fs::create_dir_all(&published)?;

    // The issuer: an offline root certifies one signing key; every card goes through
    // the supplier that will be breached.
    let root = RootKey::generate(
        issuer.clone(),
        Validity::new(start.minus(YEAR), start.plus(20 * YEAR))?,
        &mut rng,
    )?;
    let key = IssuerKey::generate(
        issuer.clone(),
        Validity::new(start.minus(60), start.plus(10 * YEAR))?,
        &mut rng,
    )?;
    let mut draft = KeySetDraft::first(root.public(), start.minus(60));
    draft.certify(key.public(), KeyUsage::CredentialsAndLists)?;
    let key_set = root.sign_key_set(&draft)?;
    let capacity = MIN_LIST_CAPACITY.max(u32::try_from(args.count * 4)?.next_power_of_two());
    let mut registry = Registry::create(
        SqliteStore::open(work.path().join("registry.sqlite"))?,
        root.public(),
        &key_set,
        &key,
        capacity,
        start,
        start.plus(LIST_LIFETIME),
    )?;
    let roster: Vec<HolderRequest> = (0..args.count)
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
                validity: Validity::new(start.minus(60), start.plus(3 * YEAR))?,
            })
        })
        .collect::<Result<_, Box<dyn std::error::Error>>>()?;
    let mut blank = SoftwareCards::generate(args.count, &mut rng);
    registry.issue_roster(
        &key,
        BREACHED,
        &roster,
        &mut blank,
        start,
        &mut rng,
        &mut Hooks {
            progress: Box::new(|_: Progress| ControlFlow::Continue(())),
            ..Hooks::default()
        },
    )?;
    let cards = registry.store().credentials(&CredentialFilter::All)?;
    let step = (cards.len() / SAMPLES).max(1);
    let samples: Vec<CredentialRecord> =
        cards.iter().step_by(step).take(SAMPLES).cloned().collect();
    let folder = registry.publish_to(&published)?.issuer_dir;
    say(format!(
        "Issued {} cards through {BREACHED}; published list {} to {}.",
        cards.len(),
        registry.latest_publication()?.map_or(0, |p| p.sequence),
        published.display()
    ));

    // The publisher, on loopback.
    let mut config = ServeConfig::new(&published, "127.0.0.1:0".parse()?);
    config.max_connections = args.doors + 512;
    config.max_streams = args.doors + 64;
    config.worker_threads = 2;
    let server = revocard::net::serve::spawn(config)?;
    let base = format!("http://{}", server.local_addr());

    // The doors: each configured once with the root anchor file, as shipped.
    let anchor = RootPublicKey::from_bytes(&std::fs::read(folder.join("anchor.rca"))?)?;
    let doors_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut doors = Vec::with_capacity(args.doors);
    let installed = Arc::new(AtomicU64::new(0));
    for i in 0..args.doors {
        let verifier = Arc::new(Verifier::new(TrustStore::new(), VerifyOptions::default()));
        verifier.add_root(anchor.clone())?;
        let denied_at = Arc::new(OnceLock::new());
        let mut config = FeedConfig::new(base.clone(), issuer.clone());
        config.mode = match args.poll {
            Some(secs) => FeedMode::Poll(Duration::from_secs(secs)),
            None => FeedMode::Push,
        };
        let watched = samples[i % samples.len()].bytes.clone();
        let (v, d, n) = (
            Arc::clone(&verifier),
            Arc::clone(&denied_at),
            Arc::clone(&installed),
        );
        config.on_event = Some(Arc::new(move |event: &FeedEvent| match event {
            FeedEvent::ListInstalled { .. } => {
                n.fetch_add(1, Ordering::Relaxed);
            }
            FeedEvent::DeltaApplied { .. }
                if d.get().is_none() && v.verify(&watched, now()).is_err() =>
            {
                let _ = d.set(Instant::now());
            }
            _ => {}
        }));
        let feed = Feed::new(config, Arc::clone(&verifier))?;
        let stats = feed.stats();
        let mut stopped = stopped.clone();
        doors_runtime.spawn(feed.run(async move {
            let _ = stopped.changed().await;
        }));
        doors.push(Door {
            verifier,
            stats,
            denied_at,
        });
    }
    let waiting = Instant::now();
    while installed.load(Ordering::Relaxed) < args.doors as u64
        || (args.poll.is_none() && doors.iter().any(|d| d.stats.get().connects == 0))
    {
        if waiting.elapsed() > START_LIMIT {
            return Err("the doors did not all start in time".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // Let the last streams settle (their first ping, their buffers).
    std::thread::sleep(Duration::from_millis(500));
    let admitted_before = doors
        .iter()
        .enumerate()
        .filter(|(i, d)| {
            d.verifier
                .verify(&samples[i % samples.len()].bytes, now())
                .is_ok()
        })
        .count();
    say(format!(
        "{} doors started in {:.1} s from the anchor alone ({}); {admitted_before} admit their sample card.",
        args.doors,
        waiting.elapsed().as_secs_f64(),
        match args.poll {
            Some(s) => format!("polling every {s} s"),
            None => "push".into(),
        }
    ));
    let bytes_before: Vec<u64> = doors.iter().map(|d| d.stats.get().bytes_received).collect();

    // The breach: one call, one signed list and delta, written to the layout.
    let plan = registry.plan(
        &Incident::Supplier {
            supplier: BREACHED.into(),
        },
        now(),
    )?;
    let declared = registry.declare(&plan, &key, REPLACEMENT, now(), now().plus(LIST_LIFETIME))?;
    let t0 = Instant::now();
    registry.publish_to(&published)?;
    let written = t0.elapsed();
    let delta_bytes = declared.publication.delta.as_ref().map_or(0, Vec::len);
    let limit = Duration::from_secs(args.poll.map_or(30, |s| 2 * s + 30));
    while doors.iter().any(|d| d.denied_at.get().is_none()) && t0.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut latencies: Vec<f64> = doors
        .iter()
        .filter_map(|d| d.denied_at.get())
        .map(|at| at.duration_since(t0).as_secs_f64() * 1e3)
        .collect();
    latencies.sort_by(f64::total_cmp);
    let denied = latencies.len();
    // Bytes each door received for the update (bodies and stream bytes).
    let update_bytes: Vec<u64> = doors
        .iter()
        .zip(&bytes_before)
        .map(|(d, before)| d.stats.get().bytes_received - before)
        .collect();
    let bytes_per_door = update_bytes.iter().sum::<u64>() as f64 / update_bytes.len().max(1) as f64;
    let bytes_max = update_bytes.iter().copied().max().unwrap_or(0);
    let (p50, p99, max) = (
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        latencies.last().copied().unwrap_or(f64::NAN),
    );
    say(format!(
        "Declared the breach of {BREACHED} ({} cards, delta {delta_bytes} B, layout written in {:.1} ms): \
         {denied} of {} doors deny their sample; p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms; \
         {bytes_per_door:.0} B per door (max {bytes_max}).",
        declared.revoked,
        written.as_secs_f64() * 1e3,
        args.doors
    ));

    // Reissue, then every door must deny every sampled old card and admit a new one.
    let mut replacement_cards = SoftwareCards::generate(args.count, &mut rng);
    let report = registry
        .resume(
            &key,
            &mut replacement_cards,
            now(),
            now().plus(LIST_LIFETIME),
            &mut rng,
            &mut Hooks {
                progress: Box::new(|_: Progress| ControlFlow::Continue(())),
                ..Hooks::default()
            },
        )?
        .ok_or("no reissue job was open")?;
    registry.publish_to(&published)?;
    let replacements = registry
        .store()
        .credentials(&CredentialFilter::PrintBatches(vec![report.batch]))?;
    let new_card = replacements.first().ok_or("no replacement issued")?;
    let at = now();
    let all_deny_old = doors.iter().all(|d| {
        samples
            .iter()
            .all(|s| d.verifier.verify(&s.bytes, at).is_err())
    });
    let all_admit_new = doors
        .iter()
        .all(|d| d.verifier.verify(&new_card.bytes, at).is_ok());
    let all_denied = denied == args.doors && all_deny_old && all_admit_new;
    say(format!(
        "Reissued {} cards through {REPLACEMENT}: every door denies all {} sampled old cards: {all_deny_old}; \
         admits a replacement: {all_admit_new}.",
        replacements.len(),
        samples.len()
    ));

    let _ = stop.send(true);
    drop(doors_runtime);
    // The floor, in the same run: every door's one signature check (bare
    // `verify_strict` of a delta-sized message), one after the other on one core.
    let signer = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let message = vec![0x42_u8; delta_bytes.max(1)];
    let signature = ed25519_dalek::Signer::sign(&signer, &message);
    let public = signer.verifying_key();
    let t = Instant::now();
    for _ in 0..args.doors {
        public.verify_strict(std::hint::black_box(&message), &signature)?;
    }
    let floor_ms = t.elapsed().as_secs_f64() * 1e3;
    let stats = server.stats();
    server.shutdown();
    let mode = args
        .poll
        .map_or_else(|| "\"push\"".to_owned(), |s| format!("\"poll {s}s\""));
    let json = format!(
        "{{\"doors\":{},\"mode\":{mode},\"cards\":{},\"p50_ms\":{p50:.1},\"p99_ms\":{p99:.1},\"max_ms\":{max:.1},\
         \"bytes_per_door\":{bytes_per_door:.0},\"bytes_per_door_max\":{bytes_max},\"delta_bytes\":{delta_bytes},\
         \"doors_denied\":{denied},\"all_denied\":{all_denied},\"server_requests\":{},\
         \"floor_ms\":{floor_ms:.1},\"p99_over_floor\":{:.1}}}",
        args.doors,
        cards.len(),
        stats.requests,
        p99 / floor_ms
    );
    if args.json {
        println!("{json}");
    }
    if all_denied {
        Ok(())
    } else {
        Err(format!("not every door denied the old cards and admitted a new one: {json}").into())
    }
}
