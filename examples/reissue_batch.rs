//! The day the card printer is breached: issue a force's cards through one supplier,
//! declare that supplier breached, revoke and publish at once, reissue every card
//! through another supplier, and check the result with a verifier that sees only the
//! published artifacts and a door that requires each card to sign its challenge.
//!
//! ```text
//! cargo run --release --example reissue_batch -- [--count N] [--db PATH] [--seed S] [--json]
//! cargo run --release --example reissue_batch -- --help
//! ```
//!
//! `--db postgres://user@host/db` keeps it on a PostgreSQL server instead (built with
//! `--features postgres`; key files then go in the current folder, named after the
//! database). `--db PATH` keeps the registry in that SQLite file, with the issuer's signing key
//! beside it in `PATH.issuer-key` and the root that certified it in `PATH.root-key`
//! (both secret, mode 0600; a deployment keeps the root offline). Running again on the
//! same file resumes an unfinished run, or re-checks a finished one; the run's
//! `--count` and `--seed` are recorded in the registry (an audit annotation) and
//! other values are refused. Ctrl-C stops after the chunk in flight and says how to
//! resume; a second Ctrl-C stops at once (the registry is still consistent). Without
//! `--db` everything lives in a temporary folder that is deleted when the run ends,
//! Ctrl-C included, and no manifest file is written.
//!
//! `--hsm pkcs11:token=office;object=signing` keeps the issuer's signing key in a
//! PKCS#11 token (built with `--features pkcs11`): opened if the token holds it, else
//! generated there (never extractable); `--root-hsm URI` does the same for the root.
//! The module comes from `--pkcs11-module PATH` or `REVOCARD_PKCS11_MODULE`, the PIN
//! from the file `REVOCARD_PIN_FILE` names or from `REVOCARD_PIN` (never from argv).
//! No key file is written for a key in a token. With `--hsm`, `--compare-software`
//! first runs the same breach with a software key in a temporary folder, then the
//! token run, and prints (with `--json`) one more line with both reissue times and
//! their ratio, measured in the same process. A token key signs fresh registries only
//! (the example does not resume a `--db` run with a token; the `revocard` command does).
//!
//! The roster is synthetic and deterministic from `--seed`; keys, serials, status
//! indexes and the software cards' keys come from the operating system's RNG.
//! Exit status: 0 done, 1 failed, 2 bad arguments, 130 interrupted.

use std::io::Write as _;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::{StdRng, SysRng};
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;
use revocard::door::{DoorController, DoorId, DoorPolicy};
use revocard::issue::*;
use revocard::registry::*;
use revocard::*;

const BREACHED: &str = "northgate-print";
const REPLACEMENT: &str = "southbank-print";
const ISSUER: &str = "metro-police";
const YEAR: u64 = 365 * 24 * 3600;
const LIST_LIFETIME: u64 = 3600;
/// Replacement cards (and old cards) tapped at a door that requires holder binding.
const DOOR_SAMPLE: usize = 1000;
/// Most cards a run can hold: its status list gets four indexes a card (room for the
/// replacements, and random indexes that say nothing about who or when), and no list
/// holds more than `MAX_LIST_CAPACITY` (2^22) indexes.
const MAX_COUNT: u32 = MAX_LIST_CAPACITY / 4;
/// The subject of the annotation recording a run's parameters in its registry.
const PARAMETERS: &str = "reissue_batch parameters";
/// Exit status after Ctrl-C (128 + SIGINT, as shells report it).
const INTERRUPTED: i32 = 130;

/// The day a card printer is breached, on a registry of your own.
#[derive(Parser, Debug)]
#[command(
    name = "reissue_batch",
    about = "The day a card printer is breached: issue, revoke, publish and reissue a force's cards, then check them as doors would",
    after_help = "Run through cargo, options after its -- separator:\n  cargo run --release --example reissue_batch -- --count 1000\n\nExit status: 0 done, 1 failed, 2 bad arguments, 130 interrupted (Ctrl-C)."
)]
struct Args {
    /// Cards in the force's roster (1 to 1048576, a quarter of the largest status list)
    #[arg(long, value_name = "N", default_value_t = 47_000,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_COUNT)))]
    count: u32,
    /// Keep the registry in this SQLite file, and the issuer's and root's SECRET keys
    /// beside it (PATH.issuer-key, PATH.root-key, mode 0600); run the same command again
    /// to resume. Without it, a temporary folder is used and deleted at the end
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,
    /// Seed of the synthetic roster (names, ranks, vetting)
    #[arg(long, value_name = "S", default_value_t = 1)]
    seed: u64,
    /// Print one line of JSON figures at the end instead of the summary
    #[arg(long)]
    json: bool,
    /// Keep the issuer's signing key in this PKCS#11 token key (opened, or generated
    /// there if absent): pkcs11:token=LABEL;object=LABEL. Needs --features pkcs11
    #[arg(long, value_name = "URI")]
    hsm: Option<String>,
    /// Keep the root in this PKCS#11 token key (opened, or generated there if absent)
    #[arg(long, value_name = "URI")]
    root_hsm: Option<String>,
    /// The PKCS#11 module (the HSM vendor's library); default: $REVOCARD_PKCS11_MODULE
    #[arg(long, value_name = "PATH")]
    pkcs11_module: Option<PathBuf>,
    /// With --hsm: first run the same breach with a software key (temporary folder),
    /// and report both reissue times and their ratio
    #[arg(long)]
    compare_software: bool,
}

impl Args {
    /// The flags that define the roster, as recorded in the registry and as typed.
    fn parameters(&self) -> String {
        format!("--count {} --seed {}", self.count, self.seed)
    }

    /// The command that runs (or resumes) this run.
    fn command(&self) -> String {
        let db = self
            .db
            .as_ref()
            .map(|p| format!(" --db {}", p.display()))
            .unwrap_or_default();
        format!(
            "cargo run --release --example reissue_batch --{db} {}",
            self.parameters()
        )
    }
}

/// The reissue time of the last run in this process (for `--compare-software`).
static LAST_REISSUE_MS: std::sync::Mutex<Option<f64>> = std::sync::Mutex::new(None);
/// The software run's reissue time, when `--compare-software` made one.
static SOFTWARE_REISSUE_MS: std::sync::Mutex<Option<(f64, f64)>> = std::sync::Mutex::new(None);

/// Runs the breach with a software key in a temporary folder first (same process,
/// same roster), keeping its reissue time; returns the arguments of the token run.
fn compare_software(args: Args) -> Args {
    let software = Args {
        db: None,
        hsm: None,
        root_hsm: None,
        compare_software: false,
        ..Args::parse_from(["reissue_batch"])
    };
    let software = Args {
        count: args.count,
        seed: args.seed,
        json: args.json,
        ..software
    };
    match run(&software) {
        Ok(Ended::Done) => {}
        Ok(Ended::Interrupted) => std::process::exit(INTERRUPTED),
        Err(e) => {
            eprintln!("reissue_batch: the software run failed: {e}");
            std::process::exit(1);
        }
    }
    let ms = LAST_REISSUE_MS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    let floor = LAST_FLOOR_MS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    if let (Some(ms), Some(floor)) = (ms, floor) {
        *SOFTWARE_REISSUE_MS
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some((ms, floor));
    }
    args
}

/// The floor of the last run in this process.
static LAST_FLOOR_MS: std::sync::Mutex<Option<f64>> = std::sync::Mutex::new(None);

/// Where the issuer's or the root's key lives in this run.
enum KeyPlace {
    /// A key file beside the registry.
    File,
    /// A PKCS#11 token key.
    #[cfg(feature = "pkcs11")]
    Token(TokenKey),
}

/// Opens the token key `uri` names, or generates it there if the token has none.
#[cfg(feature = "pkcs11")]
#[path = "support/token_pin.rs"]
mod token_pin;

#[cfg(feature = "pkcs11")]
fn token_key(args: &Args, uri: &str) -> Result<KeyPlace, Box<dyn std::error::Error>> {
    let uri: Pkcs11Uri = uri.parse()?;
    let module = args
        .pkcs11_module
        .clone()
        .or_else(|| std::env::var_os("REVOCARD_PKCS11_MODULE").map(PathBuf::from))
        .or_else(|| uri.module_path().map(Path::to_path_buf))
        .ok_or("no PKCS#11 module: give --pkcs11-module PATH or set REVOCARD_PKCS11_MODULE")?;
    let module = Pkcs11Module::load(&module)?;
    let pin = token_pin::from_env(uri.token().unwrap_or("?"))?;
    match TokenKey::open(&module, &uri, &pin) {
        Ok(key) => Ok(KeyPlace::Token(key)),
        Err(HsmError::NoObject { .. }) => Ok(KeyPlace::Token(TokenKey::generate(
            &module,
            &uri,
            &pin,
            KeyPolicy::default(),
        )?)),
        Err(e) => Err(e.into()),
    }
}

#[cfg(not(feature = "pkcs11"))]
fn token_key(_args: &Args, _uri: &str) -> Result<KeyPlace, Box<dyn std::error::Error>> {
    Err("this build has no PKCS#11 support: build the example with --features pkcs11".into())
}

fn place(args: &Args, uri: Option<&String>) -> Result<KeyPlace, Box<dyn std::error::Error>> {
    match uri {
        Some(uri) => token_key(args, uri),
        None => Ok(KeyPlace::File),
    }
}

/// Set by the first Ctrl-C: bulk work stops after the chunk in flight.
static STOP: AtomicBool = AtomicBool::new(false);
/// The temporary folder of a run without `--db`, removed by a second Ctrl-C.
static TEMP: OnceLock<PathBuf> = OnceLock::new();

fn stopping() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// How a run ended, when it did not fail.
enum Ended {
    Done,
    Interrupted,
}

fn main() {
    let mut args = Args::parse();
    if args.compare_software && args.hsm.is_some() {
        args = compare_software(args);
    }
    let handler = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            // The second Ctrl-C: stop now. Every commit is atomic, so a registry kept
            // with --db is consistent; a temporary one is removed with its keys.
            if let Some(temp) = TEMP.get() {
                let _ = std::fs::remove_dir_all(temp);
            }
            eprintln!("\nreissue_batch: stopped at once");
            std::process::exit(INTERRUPTED);
        }
        eprintln!(
            "\nreissue_batch: stopping after the chunk in flight (Ctrl-C again to stop at once)"
        );
    });
    if let Err(e) = handler {
        eprintln!("reissue_batch: cannot catch Ctrl-C: {e}");
        std::process::exit(1);
    }
    match run(&args) {
        Ok(Ended::Done) => {}
        Ok(Ended::Interrupted) => std::process::exit(INTERRUPTED),
        // The reader of our output went away (`| head`): stop quietly, not with a panic.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) => {}
        Err(e) => {
            eprintln!("reissue_batch: {e}");
            std::process::exit(1);
        }
    }
}

/// Writes one line to stdout, returning the error (a closed pipe) rather than panicking.
fn out(line: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")?;
    stdout.flush()
}

fn now() -> UnixTime {
    UnixTime(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    )
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// CPU time this process has used so far, every thread (user + system), in
/// milliseconds, from `/proc/self/stat` (Linux; 10 ms ticks); `None` elsewhere. Beside
/// the wall-clock figures: on a machine shared with other work, the CPU a phase used
/// moves far less than the time it took.
fn cpu_ms() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 * 10.0)
}

/// CPU milliseconds used since `start` (a [`cpu_ms`] reading).
fn cpu_since(start: Option<f64>) -> Option<f64> {
    Some(cpu_ms()? - start?)
}

/// The issuer key, kept beside the registry so a resumed run signs with the same key.
/// 32 secret bytes that zeroize themselves.
type Secret = zeroize::Zeroizing<[u8; 32]>;

/// Reads a secret key file (`hex not_before not_after`), or with `create` makes one.
/// Without `create` a missing file is an error: a registry never signs with a key it
/// has not certified, and a fresh key would be such a key.
fn key_file(
    path: &Path,
    rng: &mut StdRng,
    window: Validity,
    create: bool,
) -> Result<(Secret, Validity), Box<dyn std::error::Error>> {
    if let Ok(text) = std::fs::read_to_string(path) {
        let mut parts = text.split_whitespace();
        let secret = parts.next().ok_or("empty key file")?;
        let nb: u64 = parts.next().ok_or("key file lacks its window")?.parse()?;
        let na: u64 = parts.next().ok_or("key file lacks its window")?.parse()?;
        let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = u8::from_str_radix(secret.get(2 * i..2 * i + 2).ok_or("bad key file")?, 16)?;
        }
        return Ok((bytes, Validity::new(UnixTime(nb), UnixTime(na))?));
    }
    if !create {
        return Err(format!(
            "{} is missing: this registry signs only with the keys its root certified. \
             Restore the key file, or certify a new key under the root.",
            path.display()
        )
        .into());
    }
    let mut secret = zeroize::Zeroizing::new([0u8; 32]);
    rand::Rng::fill_bytes(rng, secret.as_mut_slice());
    let hex: zeroize::Zeroizing<String> =
        zeroize::Zeroizing::new(secret.iter().map(|b| format!("{b:02x}")).collect());
    let tmp = path.with_extension("key.tmp");
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(&tmp)?;
        writeln!(
            f,
            "{} {} {}",
            hex.as_str(),
            window.not_before.0,
            window.not_after.0
        )?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    Ok((secret, window))
}

/// A synthetic roster with the mix of a large force: about 60% sworn officers, the
/// rest police staff and contractors; vetting by role.
fn roster(count: usize, seed: u64, now: UnixTime) -> Vec<HolderRequest> {
    const FIRST: [&str; 16] = [
        "Amelia", "Oliver", "Priya", "James", "Fatima", "Thomas", "Grace", "Mohammed", "Sophie",
        "Daniel", "Aisha", "William", "Chloe", "Kwame", "Hannah", "Liam",
    ];
    const LAST: [&str; 16] = [
        "Smith", "Khan", "Jones", "Patel", "Williams", "Brown", "Taylor", "Okafor", "Davies",
        "Evans", "Wilson", "Ahmed", "Thomas", "Roberts", "Nowak", "Walker",
    ];
    const OFFICER_RANKS: [(&str, u32); 7] = [
        ("Police Constable", 700),
        ("Detective Constable", 120),
        ("Sergeant", 110),
        ("Inspector", 40),
        ("Chief Inspector", 15),
        ("Superintendent", 10),
        ("Chief Superintendent", 5),
    ];
    const STAFF_GRADES: [&str; 5] = ["Band A", "Band B", "Band C", "Band D", "PCSO"];
    const UNITS: [&str; 8] = [
        "Response",
        "Neighbourhood",
        "CID",
        "Roads Policing",
        "Custody",
        "Counter Terrorism",
        "Digital Forensics",
        "Professional Standards",
    ];
    let mut rng = StdRng::seed_from_u64(seed);
    (0..count)
        .map(|i| {
            let name = format!(
                "{} {}",
                FIRST[rng.random_range(0..16)],
                LAST[rng.random_range(0..16)]
            );
            let unit = UNITS[rng.random_range(0..UNITS.len())];
            let roll = rng.random_range(0..100u32);
            let (kind, rank, police) = if roll < 60 {
                let mut pick = rng.random_range(0..1000u32);
                let mut rank = OFFICER_RANKS[0].0;
                for (r, weight) in OFFICER_RANKS {
                    if pick < weight {
                        rank = r;
                        break;
                    }
                    pick -= weight;
                }
                let senior = !matches!(rank, "Police Constable" | "Detective Constable");
                let level = if senior {
                    ForceVetting::Management
                } else {
                    ForceVetting::Recruitment
                };
                (
                    Kind::WarrantCard,
                    rank.to_owned(),
                    PoliceVetting::Force(level),
                )
            } else if roll < 90 {
                let grade = STAFF_GRADES[rng.random_range(0..STAFF_GRADES.len())];
                let level = if rng.random_range(0..4) == 0 {
                    ForceVetting::Management
                } else {
                    ForceVetting::Recruitment
                };
                (
                    Kind::StaffPass,
                    grade.to_owned(),
                    PoliceVetting::Force(level),
                )
            } else {
                let level = [
                    Nppv::Level1,
                    Nppv::Level2Abbreviated,
                    Nppv::Level2,
                    Nppv::Level3,
                ][rng.random_range(0..4)];
                (
                    Kind::StaffPass,
                    "Contractor".to_owned(),
                    PoliceVetting::NonPolice(level),
                )
            };
            let national = match (unit, rng.random_range(0..20u32)) {
                ("Counter Terrorism", 0..=9) => Some(NationalSecurity::Dv),
                ("Counter Terrorism", _) => Some(NationalSecurity::Sc),
                (_, 0) => Some(NationalSecurity::Sc),
                (_, 1) => Some(NationalSecurity::Ctc),
                _ => None,
            };
            let photo = PhotoDigest::of(format!("photo-{seed}-{i}").as_bytes());
            HolderRequest {
                kind,
                holder: Holder::new(format!("{:07}", 1_000_000 + i), name, rank, unit, photo)
                    .unwrap_or_else(|e| panic!("synthetic holder {i}: {e}")),
                vetting: Vetting::new(police, national),
                validity: Validity::new(now.minus(60), now.plus(5 * YEAR))
                    .unwrap_or_else(|e| panic!("{e}")),
            }
        })
        .collect()
}

fn bar(total: usize, what: &'static str) -> ProgressBar {
    let pb = ProgressBar::new(total as u64).with_message(what);
    pb.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} ({per_sec}, {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb
}

fn run(args: &Args) -> Result<Ended, Box<dyn std::error::Error>> {
    let temp;
    let db = match &args.db {
        Some(p) => p.clone(),
        None => {
            temp = tempfile::tempdir()?;
            let _ = TEMP.set(temp.path().to_path_buf());
            temp.path().join("registry.sqlite")
        }
    };
    let say = |line: String| -> std::io::Result<()> { if args.json { Ok(()) } else { out(&line) } };
    // Said on Ctrl-C: what was kept, and how to go on.
    let interrupted = |what: String| -> Result<Ended, Box<dyn std::error::Error>> {
        if args.db.is_some() {
            eprintln!(
                "reissue_batch: interrupted: {what}. Every commit is atomic; to resume, run the same command again:\n  {}",
                args.command()
            );
        } else {
            eprintln!(
                "reissue_batch: interrupted: {what}. Without --db the registry and its keys were in a temporary folder, now deleted; to keep a run you can resume, give --db PATH:\n  cargo run --release --example reissue_batch -- --db registry.sqlite {}",
                args.parameters()
            );
        }
        Ok(Ended::Interrupted)
    };
    // `--db postgres://...` names a server: the key files and manifests then go in the
    // current folder, named after the database (never the password).
    let db_text = db.to_string_lossy().into_owned();
    let store = AnyStore::open(&db_text)?;
    let db = if AnyStore::is_postgres_url(&db_text) {
        PathBuf::from(format!(
            "registry-{}",
            store
                .location()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        ))
    } else {
        db
    };
    let key_path = PathBuf::from(format!("{}.issuer-key", db.display()));
    let start = now();
    let mut os_rng = StdRng::try_from_rng(&mut SysRng)?;
    let fresh_store = store.meta()?.is_none();
    let issuer = IssuerId::new(ISSUER)?;
    // The token's own signing floor is timed after the reissue on the same key.
    #[cfg(feature = "pkcs11")]
    let mut token_for_floor: Option<TokenKey> = None;
    let key = match place(args, args.hsm.as_ref())? {
        KeyPlace::File => {
            let (secret, window) = key_file(
                &key_path,
                &mut os_rng,
                Validity::new(start.minus(YEAR), start.plus(10 * YEAR))?,
                fresh_store,
            )?;
            IssuerKey::from_secret_bytes(issuer.clone(), window, &secret)?
        }
        #[cfg(feature = "pkcs11")]
        KeyPlace::Token(token) => {
            if !fresh_store {
                return Err("a token key signs fresh registries only in this example: give a new --db (the revocard command resumes with a token)".into());
            }
            let window = Validity::new(start.minus(YEAR), start.plus(10 * YEAR))?;
            token_for_floor = Some(token.clone());
            IssuerKey::from_signer(issuer.clone(), window, token)?
        }
    };
    let capacity = MIN_LIST_CAPACITY.max((args.count * 4).next_power_of_two());
    let mut registry = if fresh_store {
        // The root certifies the signing key once; a deployment keeps the root offline
        // (an HSM, a laptop in a safe) and brings it out only to sign key sets.
        let root_window = Validity::new(start.minus(YEAR), start.plus(20 * YEAR))?;
        let root = match place(args, args.root_hsm.as_ref())? {
            KeyPlace::File => {
                let root_path = PathBuf::from(format!("{}.root-key", db.display()));
                let (root_secret, root_window) =
                    key_file(&root_path, &mut os_rng, root_window, true)?;
                RootKey::from_secret_bytes(issuer, root_window, &root_secret)?
            }
            #[cfg(feature = "pkcs11")]
            KeyPlace::Token(token) => RootKey::from_signer(issuer, root_window, token)?,
        };
        let mut draft = KeySetDraft::first(root.public(), start);
        draft.certify(key.public(), KeyUsage::CredentialsAndLists)?;
        let key_set = root.sign_key_set(&draft)?;
        Registry::create(
            store,
            root.public(),
            &key_set,
            &key,
            capacity,
            start,
            start.plus(LIST_LIFETIME),
        )?
    } else {
        Registry::open(store)?
    };
    // The flags that define the roster are recorded in the registry: resuming with
    // others would finish a different story (holders without cards, or two rosters).
    let recorded = registry.annotations(PARAMETERS)?.pop().map(|(_, p)| p);
    match recorded {
        Some(p) if p == args.parameters() => {}
        Some(p) => {
            return Err(format!(
                "{} was started with {p}, not {}: run it with those to resume or re-check it, or give another --db to start afresh",
                db.display(),
                args.parameters()
            )
            .into());
        }
        None if registry.store().batches()?.is_empty() => {
            registry.annotate(PARAMETERS, &args.parameters(), start)?;
        }
        None => {
            return Err(format!(
                "{} records no reissue_batch parameters (another tool or an older build made it): give another --db to start afresh",
                db.display()
            )
            .into());
        }
    }
    say(format!(
        "Registry {} ({}), issuer {}, status list of {} indexes.",
        if args.db.is_some() {
            db.display().to_string()
        } else {
            "in a temporary folder".to_owned()
        },
        if fresh_store { "new" } else { "resumed" },
        registry.meta().issuer,
        registry.meta().capacity
    ))?;

    // 1. The force's cards, printed by the supplier that will be breached.
    let roster = roster(args.count as usize, args.seed, start);
    let jobs = registry.store().jobs()?;
    let roster_done = jobs
        .iter()
        .any(|j| matches!(j.kind, JobKind::Issue { .. }) && j.finished_at.is_some());
    let (mut issue_ms, mut issue_list_check_ms, mut issue_cpu_ms) = (None, None, None);
    // Software cards stand in for the chips: each makes its own key and reports only
    // the public half; the supplier's list of them is checked when the office receives
    // it (before the work that signs them); the registry binds each key into the
    // credential it signs.
    let mut breached_stock = SoftwareCards::new();
    if !roster_done {
        breached_stock.add(roster.len(), &mut os_rng);
        let t = Instant::now();
        let mut breached_list =
            BlankCardList::check(std::iter::from_fn(|| breached_stock.report()))?;
        issue_list_check_ms = Some(ms(t.elapsed()));
        let pb = bar(roster.len(), "issuing");
        let t = Instant::now();
        let cpu = cpu_ms();
        let mut hooks = Hooks {
            progress: Box::new(|p: Progress| {
                pb.set_position(p.done as u64);
                if stopping() {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            }),
            ..Hooks::default()
        };
        let report = registry.issue_roster(
            &key,
            BREACHED,
            &roster,
            &mut breached_list,
            now(),
            &mut os_rng,
            &mut hooks,
        );
        drop(hooks);
        pb.finish_and_clear();
        let report = report?;
        if !report.finished {
            return interrupted(format!(
                "{} of {} cards issued",
                report.in_batch,
                roster.len()
            ));
        }
        issue_ms = Some(ms(t.elapsed()));
        issue_cpu_ms = cpu_since(cpu);
        say(format!(
            "Issued {} cards through {BREACHED} into print batch {} ({} this run).",
            report.in_batch,
            report.batch.map_or(0, |b| b.0),
            report.issued_now
        ))?;
    }
    let roster_batch = registry
        .store()
        .jobs()?
        .iter()
        .find_map(|j| match j.kind {
            JobKind::Issue { batch } => Some(batch),
            _ => None,
        })
        .ok_or("no roster batch")?;

    // 2. The breach.
    let incident = Incident::Supplier {
        supplier: BREACHED.to_owned(),
    };
    let handled = registry
        .store()
        .jobs()?
        .into_iter()
        .find(|j| matches!(&j.kind, JobKind::Reissue { incident: i, .. } if *i == incident));
    let (mut revoke_publish_ms, mut reissue_ms, mut affected) = (None, None, None);
    let (mut reissue_list_check_ms, mut reissue_cpu_ms) = (None, None);
    // Replacements committed by this run (the floor is measured for as many).
    let mut reissued_now = 0u64;
    // The replacement supplier's blank cards, enrolled before the breach: their keys
    // are made on their chips, and the supplier's list of them is received and checked,
    // outside the registry and outside the time measured (timed on its own).
    let mut replacement_stock = SoftwareCards::new();
    if handled.is_none() {
        if stopping() {
            return interrupted("before the breach was declared".to_owned());
        }
        // The dry run an operator reads before declaring.
        let plan = registry.plan(&incident, now())?;
        affected = Some(plan.affected.len() as u64);
        say(format!(
            "Plan for the breach of {BREACHED}: {} cards affected ({}); by vetting: {}.",
            plan.affected.len(),
            plan.by_kind
                .iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect::<Vec<_>>()
                .join(", "),
            plan.by_vetting
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect::<Vec<_>>()
                .join(", "),
        ))?;
        replacement_stock.add(plan.reissue.len(), &mut os_rng);
        let t = Instant::now();
        let mut replacement_list =
            BlankCardList::check(std::iter::from_fn(|| replacement_stock.report()))?;
        reissue_list_check_ms = Some(ms(t.elapsed()));
        // Declared: from here to the signed revocation committed and published.
        let breach = Instant::now();
        let cpu = cpu_ms();
        let declared_at = now();
        let declared = registry.declare(
            &plan,
            &key,
            REPLACEMENT,
            declared_at,
            declared_at.plus(LIST_LIFETIME),
        )?;
        revoke_publish_ms = Some(ms(breach.elapsed()));
        say(format!(
            "Revocation published as list {} ({} scope entry, {} bytes; delta {} bytes) {:.1} ms after the breach was declared.",
            declared.publication.sequence,
            plan.scopes.len(),
            declared.publication.list.len(),
            declared.publication.delta.as_ref().map_or(0, Vec::len),
            revoke_publish_ms.unwrap_or(0.0)
        ))?;
        let report = reissue(
            &mut registry,
            &key,
            &incident,
            &mut replacement_list,
            &mut os_rng,
        )?;
        if !report.finished {
            return interrupted(format!(
                "the breach is declared and published; {} of {} replacements committed",
                report.reissued,
                plan.reissue.len()
            ));
        }
        reissue_ms = Some(ms(breach.elapsed()));
        reissue_cpu_ms = cpu_since(cpu);
        reissued_now = report.reissued;
        say(format!(
            "Reissued {} cards through {REPLACEMENT} into print batch {}.",
            report.reissued, report.batch.0
        ))?;
    } else if let Some(job) = handled.as_ref().filter(|j| j.finished_at.is_none()) {
        let JobKind::Reissue {
            affected: todo,
            batch,
            ..
        } = &job.kind
        else {
            return Err("not a reissue job".into());
        };
        let before = registry
            .store()
            .credentials(&CredentialFilter::PrintBatches(vec![*batch]))?
            .len();
        replacement_stock.add(
            usize::try_from(todo.count())?.saturating_sub(before),
            &mut os_rng,
        );
        let t = Instant::now();
        let mut replacement_list =
            BlankCardList::check(std::iter::from_fn(|| replacement_stock.report()))?;
        reissue_list_check_ms = Some(ms(t.elapsed()));
        let t = Instant::now();
        let cpu = cpu_ms();
        let report = reissue(
            &mut registry,
            &key,
            &incident,
            &mut replacement_list,
            &mut os_rng,
        )?;
        if !report.finished {
            return interrupted(format!(
                "{} of {} replacements committed",
                report.reissued,
                todo.count()
            ));
        }
        reissue_ms = Some(ms(t.elapsed()));
        reissue_cpu_ms = cpu_since(cpu);
        reissued_now = report.reissued.saturating_sub(before as u64);
        say(format!(
            "Resumed: {reissued_now} replacements this run, {} in batch {} in all.",
            report.reissued, report.batch.0
        ))?;
    } else {
        say("This registry's breach was already handled; re-checking it.".to_owned())?;
    }
    if stopping() {
        return interrupted("the reissue is complete; the checks were not run".to_owned());
    }
    let job = registry
        .store()
        .jobs()?
        .into_iter()
        .find(|j| matches!(&j.kind, JobKind::Reissue { incident: i, .. } if *i == incident))
        .ok_or("no reissue job")?;
    let JobKind::Reissue {
        batch: new_batch,
        affected: job_affected,
        revoked_in,
        ..
    } = &job.kind
    else {
        return Err("not a reissue job".into());
    };
    let affected = affected.unwrap_or(job_affected.count());

    // 3. The new supplier's manifest: printed fields and chip public keys only. Kept
    // beside the registry with --db; a temporary run shows its first rows instead.
    let manifest = registry.manifest(*new_batch)?;
    let manifest_csv = manifest.to_csv();
    let manifest_path = args
        .db
        .as_ref()
        .map(|_| db.with_extension("southbank-manifest.csv"));
    if let Some(path) = &manifest_path {
        std::fs::write(path, &manifest_csv)?;
        std::fs::write(path.with_extension("json"), manifest.to_json())?;
    }

    // 4. A verifier that sees only what was published.
    // The list a door held before the breach, and the one that carried the revocation.
    let before_breach = registry
        .store()
        .publication(revoked_in - 1)?
        .ok_or("no list before the breach")?;
    let breach_publication = registry
        .store()
        .publication(*revoked_in)?
        .ok_or("no breach publication")?;
    let delta = breach_publication.delta.clone().ok_or("no breach delta")?;
    let final_list = registry.latest_publication()?.ok_or("no final list")?;
    // The door is configured with the issuer's root alone; signing keys come with the
    // published key set.
    let anchor = registry.root().to_bytes();
    let verifier = std::sync::Arc::new(Verifier::new(TrustStore::new(), VerifyOptions::default()));
    verifier.add_root(RootPublicKey::from_bytes(&anchor)?)?;
    let check_time = now();
    verifier.install_key_set(&registry.key_set_bytes()?, check_time)?;
    verifier.install_list(&before_breach.list, check_time)?;
    verifier.apply_delta(&delta, check_time)?;
    verifier.install_list(&final_list.list, check_time)?;

    let old: Vec<CredentialRecord> = registry
        .store()
        .credentials(&CredentialFilter::PrintBatches(vec![roster_batch]))?;
    let new: Vec<CredentialRecord> = registry
        .store()
        .credentials(&CredentialFilter::PrintBatches(vec![*new_batch]))?;
    let pb = bar(old.len() + new.len(), "verifying");
    let old_rejected = old
        .par_iter()
        .filter(|r| {
            pb.inc(1);
            matches!(
                verifier.verify(&r.bytes, check_time),
                Err(Denial::Revoked { .. })
            )
        })
        .count();
    let new_accepted = new
        .par_iter()
        .filter(|r| {
            pb.inc(1);
            verifier.verify(&r.bytes, check_time).is_ok()
        })
        .count();
    pb.finish_and_clear();

    // A door that requires holder binding: each card must sign the door's fresh
    // challenge with the key made on its chip. The replacements' cards (personalised
    // from this run's stock) open it; the old cards do not; a copy of a new card's
    // credential bytes without its chip does not either.
    let door_id = DoorId::new("custody-suite")?;
    let door = DoorController::new(
        verifier.clone(),
        vec![DoorPolicy::new(door_id.clone()).require_holder_binding()],
    )?;
    let tap = |card: &Card, rng: &mut StdRng| -> Result<bool, Box<dyn std::error::Error>> {
        let challenge = door.challenge(&door_id, check_time, rng)?;
        let response = card.respond(&challenge);
        Ok(door
            .tap(&door_id, card.credential(), Some(&response), check_time)
            .is_admitted())
    };
    let personalised = |stock: &mut SoftwareCards, records: &[CredentialRecord]| -> Vec<Card> {
        records
            .iter()
            .filter_map(|r| stock.personalise(r.bytes.clone()).ok())
            .take(DOOR_SAMPLE)
            .collect()
    };
    let new_cards = personalised(&mut replacement_stock, &new);
    let old_cards = personalised(&mut breached_stock, &old);
    let mut door_admitted = 0usize;
    for card in &new_cards {
        door_admitted += usize::from(tap(card, &mut os_rng)?);
    }
    let mut door_old_denied = 0usize;
    for card in &old_cards {
        door_old_denied += usize::from(!tap(card, &mut os_rng)?);
    }
    let copy_denied = new.first().map(|r| {
        let decision = door.tap(&door_id, &r.bytes, None, check_time);
        (!decision.is_admitted(), decision.reason_code())
    });
    // Mean single-threaded time of one accepted verification.
    let sample: Vec<&CredentialRecord> = new.iter().take(2000).collect();
    let t = Instant::now();
    let mut ok = 0usize;
    for r in &sample {
        ok += usize::from(
            verifier
                .verify(std::hint::black_box(&r.bytes), check_time)
                .is_ok(),
        );
    }
    let verify_us = if ok == 0 {
        0.0
    } else {
        (t.elapsed().as_secs_f64() * 1e6 / ok as f64 * 100.0).round() / 100.0
    };

    // The floor the reissue is held to, measured in this run: one Ed25519 key
    // generation and one signature per card, single-threaded.
    let mut floor_cpu_ms = None;
    let floor_ms = reissue_ms.map(|_| {
        use ed25519_dalek::{Signer, SigningKey};
        let message = [0x5au8; 320];
        let t = Instant::now();
        let cpu = cpu_ms();
        for _ in 0..reissued_now {
            let k = SigningKey::generate(&mut os_rng);
            std::hint::black_box(k.sign(std::hint::black_box(&message)));
        }
        floor_cpu_ms = cpu_since(cpu);
        ms(t.elapsed())
    });

    // With the key in a token, the token's own floor in the same run: as many
    // signatures of 320 bytes as the reissue made, on every core, each through the
    // token key's session pool and its check after signing, with no registry at all.
    // The reissue cannot beat it; `token_reissue / token_sign_floor` is what the
    // library and the registry add to the token.
    #[cfg(feature = "pkcs11")]
    let token_floor_ms = match (&token_for_floor, reissue_ms) {
        (Some(token), Some(_)) => {
            use ed25519_dalek::Signer as _;
            let t = Instant::now();
            (0..reissued_now).into_par_iter().try_for_each(|i| {
                let mut message = [0x5au8; 320];
                message[..8].copy_from_slice(&i.to_le_bytes());
                token.try_sign(&message).map(|_| ())
            })?;
            Some(ms(t.elapsed()))
        }
        _ => None,
    };
    #[cfg(not(feature = "pkcs11"))]
    let token_floor_ms: Option<f64> = None;

    let summary = registry.summary()?;
    let audit = registry.verify_audit()?;
    let reissued = new.iter().filter(|r| r.supersedes.is_some()).count();
    say(format!(
        "Verifier (trust anchor, list {} + breach delta, final list {}): {} of {} old cards denied as revoked, {} of {} new cards accepted ({verify_us} us per verification).",
        before_breach.sequence,
        final_list.sequence,
        old_rejected,
        old.len(),
        new_accepted,
        new.len()
    ))?;
    say(format!(
        "Door {door_id} (holder binding required): {door_admitted} of {} replacement cards admitted, each signing the door's challenge with its chip's key; {door_old_denied} of {} old cards denied{}.",
        new_cards.len(),
        old_cards.len(),
        match copy_denied {
            Some((true, reason)) =>
                format!("; a copy of a new card's credential without its chip denied ({reason})"),
            Some((false, _)) =>
                "; a copy of a new card's credential without its chip ADMITTED".to_owned(),
            None => String::new(),
        }
    ))?;
    say(format!(
        "Registry: {} issued, {} active, {} revoked, {} replaced; audit chain of {} entries verifies. Final list {} bytes, breach delta {} bytes.",
        summary.issued,
        summary.active,
        summary.revoked,
        summary.superseded,
        audit.entries,
        final_list.list.len(),
        delta.len()
    ))?;
    if let (Some(r), Some(f)) = (reissue_ms, floor_ms) {
        let what = if reissued_now == job_affected.count() {
            "Breach to last replacement committed and final list published"
        } else {
            "This run's part of the reissue (resumed), to the final list published"
        };
        say(format!(
            "{what}: {r:.0} ms, {:.2}x the bare cost of {reissued_now} Ed25519 key generations and signatures on one core ({f:.0} ms, measured just now), for the {reissued_now} replacements this run committed.",
            r / f,
        ))?;
    }
    match &manifest_path {
        Some(path) => say(format!(
            "Print manifest for {REPLACEMENT}: {} and .json beside it ({} cards: printed fields and chip public keys, no secret).",
            path.display(),
            manifest.cards.len()
        ))?,
        None => {
            say(format!(
                "Print manifest for {REPLACEMENT} ({} cards: printed fields and chip public keys, no secret), not kept without --db; its first rows:",
                manifest.cards.len()
            ))?;
            for line in manifest_csv.lines().take(3) {
                say(format!("  {line}"))?;
            }
        }
    }
    *LAST_REISSUE_MS.lock().unwrap_or_else(|e| e.into_inner()) = reissue_ms;
    *LAST_FLOOR_MS.lock().unwrap_or_else(|e| e.into_inner()) = floor_ms;
    let signing_key = key.location();
    let compared = SOFTWARE_REISSUE_MS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .filter(|_| args.hsm.is_some());
    if let (Some((software_ms, software_floor_ms)), Some(r)) = (compared, reissue_ms) {
        say(format!(
            "Reissue with the signing key at {signing_key}: {r:.0} ms; with a software key in this process just before: {software_ms:.0} ms ({:.2}x).",
            r / software_ms
        ))?;
        if let Some(f) = token_floor_ms {
            say(format!(
                "The token alone, signing as many messages on every core: {f:.0} ms ({:.2}x the software reissue; the token reissue is {:.2}x it).",
                f / software_ms,
                r / f
            ))?;
        }
        if args.json {
            out(&serde_json::json!({
                "signing_key": signing_key,
                "token_reissue_ms": r,
                "software_reissue_ms": software_ms,
                "token_over_software": (r / software_ms * 1000.0).round() / 1000.0,
                "token_floor_keygen_sign_ms": floor_ms,
                "token_sign_floor_ms": token_floor_ms,
                "token_reissue_over_token_sign_floor": token_floor_ms
                    .map(|f| (r / f * 1000.0).round() / 1000.0),
                "software_floor_keygen_sign_ms": software_floor_ms,
            })
            .to_string())?;
        }
    }
    if args.json {
        let line = serde_json::json!({
            "signing_key": signing_key,
            "cards": args.count,
            "issued": old.len(),
            "affected": affected,
            "revoked": summary.revoked,
            "reissued": reissued,
            "old_rejected": old_rejected,
            "new_accepted": new_accepted,
            "active_cards": summary.active,
            "issue_ms": issue_ms,
            "issue_list_check_ms": issue_list_check_ms,
            "issue_cpu_ms": issue_cpu_ms,
            "revoke_publish_ms": revoke_publish_ms,
            "reissue_ms": reissue_ms,
            "reissue_list_check_ms": reissue_list_check_ms,
            "reissue_cpu_ms": reissue_cpu_ms,
            "list_bytes": final_list.list.len(),
            "delta_bytes": delta.len(),
            "verify_us": verify_us,
            "door_new_tapped": new_cards.len(),
            "door_new_admitted": door_admitted,
            "door_old_tapped": old_cards.len(),
            "door_old_denied": door_old_denied,
            "door_copy_denied": copy_denied.map(|c| c.0),
            "floor_keygen_sign_ms": floor_ms,
            "floor_cpu_ms": floor_cpu_ms,
            "reissued_this_run": reissued_now,
        });
        out(&line.to_string())?;
    }
    if door_admitted != new_cards.len()
        || door_old_denied != old_cards.len()
        || copy_denied.is_some_and(|c| !c.0)
    {
        return Err("the door requiring holder binding did not decide as it must".into());
    }
    Ok(Ended::Done)
}

fn reissue(
    registry: &mut Registry<AnyStore>,
    key: &IssuerKey,
    incident: &Incident,
    cards: &mut BlankCardList,
    rng: &mut StdRng,
) -> Result<ReissueReport, Box<dyn std::error::Error>> {
    let total = match registry
        .store()
        .jobs()?
        .into_iter()
        .find(|j| j.finished_at.is_none())
        .map(|j| j.kind)
    {
        Some(JobKind::Reissue { affected, .. }) => usize::try_from(affected.count())?,
        _ => 0,
    };
    let pb = bar(total, "reissuing");
    let mut hooks = Hooks {
        progress: Box::new(|p: Progress| {
            pb.set_position(p.done as u64);
            if stopping() {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        }),
        ..Hooks::default()
    };
    let t = now();
    let report = registry.execute(
        incident,
        key,
        REPLACEMENT,
        cards,
        t,
        t.plus(LIST_LIFETIME),
        rng,
        &mut hooks,
    );
    drop(hooks);
    pb.finish_and_clear();
    report?.ok_or_else(|| "nothing to reissue".into())
}
