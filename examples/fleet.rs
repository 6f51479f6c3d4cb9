//! The fleet figure: from `declare` to every door denying, end to end on loopback.
//!
//! The publisher (`revocard::net::serve`) serves the published layout; N doors, each
//! a `DoorController` over its own verifier and feed (`revocard::net::feed`), start
//! from the issuer's root anchor alone and fetch the key set and the list; each admits
//! its sample old card once (a first tap: signature checked, credential cached). The
//! issuer declares the breach of a supplier that printed every card (47,000 by
//! default). For every door the example measures the time from `declare` returning to
//! the moment that door denies its sample card, tapped again after each update the
//! door applies (a repeat tap: everything but the signature re-checked against the
//! new state), and the bytes it received for that update; then the issuer reissues,
//! and every door's verifier must deny every sampled old card (full checks) and admit
//! a replacement.
//!
//! ```text
//! cargo run --release --example fleet --features serve,feed [-- --doors N] [--count C] [--poll SECS] [--json]
//! ```
//!
//! `--poll SECS` runs the same fleet with conditional polling instead of push. With
//! `--json` the last line is one JSON object: `doors`, `p50_ms`, `p99_ms`, `max_ms`,
//! `bytes_per_door`, `all_denied`, the publisher's resident memory before the doors and
//! with all of them connected (`serve_rss_*`), the CPU time each process used from the
//! layout being written to the last door denying (`doors_cpu_ms`, `serve_cpu_ms`, from
//! `/proc`) beside the floor's (`floor_cpu_ms`), and more. Timings are wall clock on
//! this machine unless named CPU.
//!
//! The publisher runs in a child process (this program again, started with
//! `--publisher-child`): 10,000 doors on loopback are 10,000 sockets on each side, and
//! one process would need both ends under its open-file limit; apart, each side's
//! memory is its own, so the publisher's memory per connected door is read from
//! `/proc/<pid>/status` alone. The doors are tokio tasks on two threads, each with its
//! own `Verifier` and `Feed`. Both processes raise their open-file limit to the hard
//! limit.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::ops::ControlFlow;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::SeedableRng;
use rand::rngs::StdRng;
use revocard::door::{DoorController, DoorId, DoorPolicy};
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
const START_LIMIT: Duration = Duration::from_secs(180);
/// Most doors: each is a socket here and one in the publisher, under the open-file
/// limit of each process (20,000 on the project's machines).
const MAX_DOORS: usize = 16_000;
/// File descriptors each process keeps beside its sockets to the doors (runtime,
/// registry, listener, files being served).
const FD_MARGIN: u64 = 256;
/// The argument that makes this program the publisher's child process.
const CHILD: &str = "--publisher-child";

const USAGE: &str = "\
usage: fleet [--doors N] [--count C] [--poll SECS] [--seed S] [--json]

  --doors N     door controllers, each with its own verifier and feed (default 1000, at most 16000)
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
    if !(1..=MAX_DOORS).contains(&args.doors) {
        return Err(format!("--doors must be from 1 to {MAX_DOORS}"));
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
    let mut child_args = std::env::args().skip(1);
    if child_args.next().as_deref() == Some(CHILD) {
        if let Err(e) = publisher_child(child_args.next(), child_args.next()) {
            eprintln!("fleet publisher: {e}");
            std::process::exit(2);
        }
        return;
    }
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

/// Raises this process's open-file limit to its hard limit and returns the limit now
/// in force (`None` where it cannot be read).
fn raise_fd_limit() -> Option<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let _ = setrlimit(
            Resource::Nofile,
            Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            },
        );
    }
    // `None` is unlimited.
    Some(getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX))
}

/// Refuses a fleet that cannot fit under this process's open-file limit, saying so
/// rather than timing out with doors that cannot connect.
fn check_fd_limit(doors: usize) -> Result<(), String> {
    let needed = doors as u64 + FD_MARGIN;
    match raise_fd_limit() {
        Some(limit) if limit < needed => Err(format!(
            "{doors} doors need {needed} open files in each process; the limit here is {limit} \
             (raise the hard limit: ulimit -Hn)"
        )),
        _ => Ok(()),
    }
}

/// CPU time (user and system, every thread) a process has used, in milliseconds
/// (Linux: `/proc/<pid>/stat`, fields 14 and 15, in clock ticks).
fn cpu_ms(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces: count fields after its closing parenthesis.
    let mut fields = stat
        .get(stat.rfind(')')? + 1..)?
        .split_whitespace()
        .skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    let ticks = rustix::param::clock_ticks_per_second() as f64;
    Some((user + system) as f64 * 1e3 / ticks)
}

/// Resident memory of a process in KiB (Linux: `VmRSS` of `/proc/<pid>/status`).
fn rss_kib(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The child: serves DIR for DOORS doors on a loopback port, prints `listening ADDR`,
/// and runs until its standard input closes (the parent is done or gone); then prints
/// `stats REQUESTS STREAMS_REFUSED CONNECTIONS_REFUSED`.
fn publisher_child(
    dir: Option<String>,
    doors: Option<String>,
) -> Result<(), Box<dyn std::error::Error>> {
    let (Some(dir), Some(doors)) = (dir, doors) else {
        return Err(format!("usage: fleet {CHILD} DIR DOORS").into());
    };
    let doors: usize = doors.parse()?;
    check_fd_limit(doors)?;
    let mut config = ServeConfig::new(&dir, "127.0.0.1:0".parse()?);
    config.max_connections = doors + 512;
    config.max_streams = doors + 64;
    config.worker_threads = 2;
    let server = revocard::net::serve::spawn(config)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening {}", server.local_addr())?;
    out.flush()?;
    let mut rest = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut rest);
    let stats = server.stats();
    server.shutdown();
    writeln!(
        out,
        "stats {} {} {}",
        stats.requests, stats.streams_refused, stats.connections_refused
    )?;
    out.flush()?;
    Ok(())
}

/// The publisher's process, seen from the parent.
struct Publisher {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    addr: String,
}

impl Publisher {
    fn start(dir: &std::path::Path, doors: usize) -> Result<Self, Box<dyn std::error::Error>> {
        let mut child = Command::new(std::env::current_exe()?)
            .arg(CHILD)
            .arg(dir)
            .arg(doors.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let stdin = child.stdin.take();
        let mut stdout = BufReader::new(child.stdout.take().ok_or("no pipe to the publisher")?);
        let mut line = String::new();
        stdout.read_line(&mut line)?;
        let addr = line
            .strip_prefix("listening ")
            .map(|a| a.trim().to_owned())
            .ok_or("the publisher did not start")?;
        Ok(Self {
            child,
            stdin,
            stdout,
            addr,
        })
    }

    fn rss_kib(&self) -> Option<u64> {
        rss_kib(&self.child.id().to_string())
    }

    fn cpu_ms(&self) -> Option<f64> {
        cpu_ms(&self.child.id().to_string())
    }

    /// Stops it and returns its counters (requests, streams refused, connections
    /// refused).
    fn stop(mut self) -> Result<[u64; 3], Box<dyn std::error::Error>> {
        drop(self.stdin.take());
        let mut line = String::new();
        self.stdout.read_line(&mut line)?;
        self.child.wait()?;
        let numbers: Vec<u64> = line
            .strip_prefix("stats ")
            .ok_or("the publisher did not report its counters")?
            .split_whitespace()
            .map(str::parse)
            .collect::<Result<_, _>>()?;
        Ok(numbers
            .try_into()
            .map_err(|_| "bad counters from the publisher")?)
    }
}

/// One door: its controller (over its own verifier), when it first denied the old card
/// it watches.
struct Door {
    verifier: Arc<Verifier>,
    controller: Arc<DoorController>,
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

    // The publisher, on loopback, in a process of its own.
    check_fd_limit(args.doors)?;
    let server = Publisher::start(&published, args.doors)?;
    let base = format!("http://{}", server.addr);
    // Its first scan is done before it listens; let it settle.
    std::thread::sleep(Duration::from_millis(200));
    let serve_rss_idle = server.rss_kib();

    // The doors: each configured once with the root anchor file, as shipped.
    let anchor = RootPublicKey::from_bytes(&std::fs::read(folder.join("anchor.rca"))?)?;
    let doors_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut doors = Vec::with_capacity(args.doors);
    let installed = Arc::new(AtomicU64::new(0));
    let entrance = DoorId::new("entrance")?;
    for i in 0..args.doors {
        let verifier = Arc::new(Verifier::new(TrustStore::new(), VerifyOptions::default()));
        verifier.add_root(anchor.clone())?;
        let controller = Arc::new(DoorController::new(
            Arc::clone(&verifier),
            vec![DoorPolicy::new(entrance.clone())],
        )?);
        let denied_at = Arc::new(OnceLock::new());
        let mut config = FeedConfig::new(base.clone(), issuer.clone());
        config.mode = match args.poll {
            Some(secs) => FeedMode::Poll(Duration::from_secs(secs)),
            None => FeedMode::Push,
        };
        let watched = samples[i % samples.len()].bytes.clone();
        let (c, d, n, door) = (
            Arc::clone(&controller),
            Arc::clone(&denied_at),
            Arc::clone(&installed),
            entrance.clone(),
        );
        // The card is tapped again after each update: a repeat tap, as at a door that
        // admitted it before the breach (its signature checked then, the rest now).
        config.on_event = Some(Arc::new(move |event: &FeedEvent| match event {
            FeedEvent::ListInstalled { .. } => {
                n.fetch_add(1, Ordering::Relaxed);
            }
            FeedEvent::DeltaApplied { .. }
                if d.get().is_none() && !c.tap(&door, &watched, None, now()).is_admitted() =>
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
            controller,
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
    let serve_rss_connected = server.rss_kib();
    let doors_rss = rss_kib("self");
    let admitted_before = doors
        .iter()
        .enumerate()
        .filter(|(i, d)| {
            d.controller
                .tap(&entrance, &samples[i % samples.len()].bytes, None, now())
                .is_admitted()
        })
        .count();
    // The publisher's memory per connected door: what it grew by from before the
    // first door to all of them connected (their fetches at start included).
    let serve_per_door = serve_rss_idle
        .zip(serve_rss_connected)
        .map(|(idle, connected)| {
            connected.saturating_sub(idle) as f64 * 1024.0 / args.doors as f64
        });
    say(format!(
        "{} doors started in {:.1} s from the anchor alone ({}); {admitted_before} admit their sample card. \
         Publisher resident memory {} KiB before the doors, {} KiB with them ({} B per door); \
         the doors' process {} KiB.",
        args.doors,
        waiting.elapsed().as_secs_f64(),
        match args.poll {
            Some(s) => format!("polling every {s} s"),
            None => "push".into(),
        },
        serve_rss_idle.map_or_else(|| "?".to_owned(), |v| v.to_string()),
        serve_rss_connected.map_or_else(|| "?".to_owned(), |v| v.to_string()),
        serve_per_door.map_or_else(|| "?".to_owned(), |v| format!("{v:.0}")),
        doors_rss.map_or_else(|| "?".to_owned(), |v| v.to_string()),
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
    let cpu_before = (cpu_ms("self"), server.cpu_ms());
    let t0 = Instant::now();
    registry.publish_to(&published)?;
    let written = t0.elapsed();
    let delta_bytes = declared.publication.delta.as_ref().map_or(0, Vec::len);
    let limit = Duration::from_secs(args.poll.map_or(30, |s| 2 * s + 30));
    while doors.iter().any(|d| d.denied_at.get().is_none()) && t0.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(5));
    }
    // CPU each process used from the layout being written to the last door denying
    // (the doors' process includes the writing and this loop).
    let used = |before: Option<f64>, after: Option<f64>| {
        before
            .zip(after)
            .map_or_else(|| "null".to_owned(), |(b, a)| format!("{:.0}", a - b))
    };
    let doors_cpu = used(cpu_before.0, cpu_ms("self"));
    let serve_cpu = used(cpu_before.1, server.cpu_ms());
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
    let (t, floor_cpu_before) = (Instant::now(), cpu_ms("self"));
    for _ in 0..args.doors {
        public.verify_strict(std::hint::black_box(&message), &signature)?;
    }
    let floor_ms = t.elapsed().as_secs_f64() * 1e3;
    // The same loop's CPU time: beside `doors_cpu_ms`, a ratio the machine's load
    // moves far less than wall clock.
    let floor_cpu = used(floor_cpu_before, cpu_ms("self"));
    let [requests, streams_refused, connections_refused] = server.stop()?;
    let kib = |v: Option<u64>| v.map_or_else(|| "null".to_owned(), |v| v.to_string());
    let mode = args
        .poll
        .map_or_else(|| "\"push\"".to_owned(), |s| format!("\"poll {s}s\""));
    let json = format!(
        "{{\"doors\":{},\"mode\":{mode},\"cards\":{},\"p50_ms\":{p50:.1},\"p99_ms\":{p99:.1},\"max_ms\":{max:.1},\
         \"bytes_per_door\":{bytes_per_door:.0},\"bytes_per_door_max\":{bytes_max},\"delta_bytes\":{delta_bytes},\
         \"doors_denied\":{denied},\"all_denied\":{all_denied},\"server_requests\":{requests},\
         \"streams_refused\":{streams_refused},\"connections_refused\":{connections_refused},\
         \"serve_rss_idle_kib\":{},\"serve_rss_kib\":{},\"serve_rss_per_door_bytes\":{},\
         \"doors_rss_kib\":{},\"doors_cpu_ms\":{doors_cpu},\"serve_cpu_ms\":{serve_cpu},\"floor_cpu_ms\":{floor_cpu},\
         \"floor_ms\":{floor_ms:.1},\"p99_over_floor\":{:.1}}}",
        args.doors,
        cards.len(),
        kib(serve_rss_idle),
        kib(serve_rss_connected),
        serve_per_door.map_or_else(|| "null".to_owned(), |v| format!("{v:.0}")),
        kib(doors_rss),
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
