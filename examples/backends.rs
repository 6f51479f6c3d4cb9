//! The breach story's revoke + reissue + publish on both backends, side by side in one
//! run, each beside its floor (N Ed25519 key generations plus N signatures, one core,
//! measured in the same run): SQLite, PostgreSQL with one worker, PostgreSQL with two
//! workers on one job; then registry bytes per card on each.
//!
//! ```text
//! scripts/with-postgres cargo run --release --features postgres --example backends -- --count 47000
//! ```
//!
//! `--url URL` names the server (default: `REVOCARD_TEST_DATABASE_URL`); the example
//! creates a fresh database on it per run (the user needs `CREATEDB`). `--json` prints
//! one JSON line.

use std::hint::black_box;
use std::time::{Duration, Instant};

use ed25519_dalek::{Signer, SigningKey};
use rand::{SeedableRng, rngs::StdRng};
use revocard::issue::*;
use revocard::registry::*;
use revocard::*;

const NOW: UnixTime = UnixTime(1_800_000_000);
const YEAR: u64 = 365 * 24 * 3600;
const BREACHED: &str = "northgate-print";
const SPARE: &str = "southbank-print";

fn roster(n: u32) -> Vec<HolderRequest> {
    (0..n)
        .map(|i| HolderRequest {
            kind: if i % 3 == 0 {
                Kind::StaffPass
            } else {
                Kind::WarrantCard
            },
            holder: Holder::new(
                format!("{i:07}"),
                format!("Officer {i}"),
                "Police Constable",
                "Response",
                PhotoDigest([1; 32]),
            )
            .expect("holder"),
            vetting: Vetting::new(PoliceVetting::Force(ForceVetting::Recruitment), None),
            validity: Validity::new(NOW.minus(60), NOW.plus(YEAR)).expect("validity"),
        })
        .collect()
}

fn keys(rng: &mut StdRng) -> (IssuerKey, RootKey) {
    let issuer = IssuerId::new("bench-police").expect("issuer");
    let key = IssuerKey::generate(
        issuer.clone(),
        Validity::new(NOW.minus(YEAR), NOW.plus(10 * YEAR)).expect("window"),
        rng,
    )
    .expect("key");
    let root = RootKey::generate(
        issuer,
        Validity::new(NOW.minus(3600), NOW.plus(20 * YEAR)).expect("window"),
        rng,
    )
    .expect("root");
    (key, root)
}

/// A registry with `n` cards issued through the supplier about to be breached.
fn prepared<S: Store>(
    store: S,
    n: u32,
    key: &IssuerKey,
    root: &RootKey,
    rng: &mut StdRng,
) -> Registry<S> {
    let capacity = MIN_LIST_CAPACITY.max((n * 4).next_power_of_two());
    let mut draft = KeySetDraft::first(root.public(), NOW);
    draft
        .certify(key.public(), KeyUsage::CredentialsAndLists)
        .expect("certify");
    let key_set = root.sign_key_set(&draft).expect("sign key set");
    let mut reg = Registry::create(
        store,
        root.public(),
        &key_set,
        key,
        capacity,
        NOW,
        NOW.plus(3600),
    )
    .expect("create");
    let mut cards = supplier_list(n, rng);
    reg.issue_roster(
        key,
        BREACHED,
        &roster(n),
        &mut cards,
        NOW,
        rng,
        &mut Hooks::default(),
    )
    .expect("roster");
    reg
}

/// A supplier's list of `n` blank cards' public keys (keys made on the cards and the
/// list checked when received, before the timed work: the floor still counts a key
/// generation per card).
fn supplier_list(n: u32, rng: &mut StdRng) -> BlankCardList {
    let mut stock = SoftwareCards::generate(n as usize, rng);
    BlankCardList::check(std::iter::from_fn(|| stock.report())).expect("software chips' keys")
}

fn incident() -> Incident {
    Incident::Supplier {
        supplier: BREACHED.into(),
    }
}

/// Breach declared -> every replacement committed and the final list published.
fn revoke_and_reissue<S: Store>(
    reg: &mut Registry<S>,
    key: &IssuerKey,
    n: u32,
    rng: &mut StdRng,
) -> Duration {
    let mut cards = supplier_list(n, rng);
    let t = Instant::now();
    let report = reg
        .execute(
            &incident(),
            key,
            SPARE,
            &mut cards,
            NOW.plus(10),
            NOW.plus(3600),
            rng,
            &mut Hooks::default(),
        )
        .expect("reissue")
        .expect("a job");
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

/// `url` with its database replaced by `db`.
fn with_db(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let base = match base.get(after_scheme..).and_then(|rest| rest.find('/')) {
        Some(i) => &base[..after_scheme + i],
        None => base,
    };
    format!("{base}/{db}{query}")
}

/// A fresh database on the server; its URL and a client on it.
fn fresh(url: &str, name: &str) -> (String, postgres::Client) {
    let mut admin = postgres::Client::connect(url, postgres::NoTls).expect("the server");
    // Two calls: one string would run as one transaction, which these cannot.
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
        .expect("drop database");
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create database");
    let db = with_db(url, name);
    let client = postgres::Client::connect(&db, postgres::NoTls).expect("the new database");
    (db, client)
}

fn db_size(client: &mut postgres::Client) -> i64 {
    client
        .query_one("SELECT pg_database_size(current_database())", &[])
        .expect("size")
        .get(0)
}

/// Blank cards made on demand (each worker has its own source: a chunk lost to another
/// worker's commit consumes keys that are never bound).
struct OnDemand(StdRng);

impl BlankCards for OnDemand {
    fn next_card(&mut self) -> Result<Option<CheckedCardKey>, BlankCardsError> {
        let key = CardKey::generate(&mut self.0).public();
        CheckedCardKey::check(key)
            .map(Some)
            .map_err(|_| BlankCardsError::UnusableCardKey { key })
    }
}

/// A worker: resumes the job to its end, starting again when another worker's commit
/// overtook its reads. Returns how often that happened.
fn worker(url: &str, key: &IssuerKey, seed: u64) -> u32 {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut reg = Registry::open(PostgresStore::connect(url).expect("connect")).expect("open");
    let mut cards = OnDemand(StdRng::seed_from_u64(seed ^ 0xca4d));
    let mut overtaken = 0;
    loop {
        match reg.resume(
            key,
            &mut cards,
            NOW.plus(20),
            NOW.plus(3600),
            &mut rng,
            &mut Hooks::default(),
        ) {
            Ok(Some(r)) if !r.finished => {}
            Ok(_) => return overtaken,
            Err(RegistryError::Conflict(_)) => overtaken += 1,
            Err(e) => panic!("worker: {e}"),
        }
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e4).round() / 10.0
}

fn main() {
    let mut count: u32 = 47_000;
    let mut url = std::env::var("REVOCARD_TEST_DATABASE_URL").ok();
    let mut json = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--count" => count = args.next().and_then(|v| v.parse().ok()).expect("--count N"),
            "--url" => url = args.next(),
            "--json" => json = true,
            _ => {
                eprintln!("usage: backends [--count N] [--url postgres://...] [--json]");
                std::process::exit(2);
            }
        }
    }
    let Some(url) = url else {
        eprintln!("backends: no server: pass --url or run under scripts/with-postgres");
        std::process::exit(2);
    };
    let mut rng = StdRng::seed_from_u64(13);
    let (key, root) = keys(&mut rng);
    let n = u64::from(count);

    // SQLite.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("r.sqlite");
    let mut reg = prepared(
        SqliteStore::open(&path).expect("sqlite"),
        count,
        &key,
        &root,
        &mut rng,
    );
    let floor_sqlite = floor(count, &mut rng);
    let sqlite = revoke_and_reissue(&mut reg, &key, count, &mut rng);
    drop(reg);
    // Bytes once the write-ahead log is folded into the file.
    {
        let store = SqliteStore::open(&path).expect("sqlite");
        drop(store);
    }
    let sqlite_bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0)
        + std::fs::metadata(path.with_extension("sqlite-wal"))
            .map(|m| m.len())
            .unwrap_or(0);

    // PostgreSQL, one worker.
    let (db, mut client) = fresh(&url, "revocard_bench_one");
    let empty = db_size(&mut client);
    let mut reg = prepared(
        PostgresStore::connect(&db).expect("postgres"),
        count,
        &key,
        &root,
        &mut rng,
    );
    let floor_pg = floor(count, &mut rng);
    let pg = revoke_and_reissue(&mut reg, &key, count, &mut rng);
    drop(reg);
    client.batch_execute("VACUUM ANALYZE").expect("vacuum");
    let pg_bytes = u64::try_from(db_size(&mut client) - empty).unwrap_or(0);

    // PostgreSQL, one worker on a declared job, then two workers on another.
    let resume = |workers: u64, rng: &mut StdRng| -> (Duration, Vec<u32>) {
        let (db, _client) = fresh(&url, &format!("revocard_bench_w{workers}"));
        let mut reg = prepared(
            PostgresStore::connect(&db).expect("postgres"),
            count,
            &key,
            &root,
            rng,
        );
        let plan = reg.plan(&incident(), NOW.plus(10)).expect("plan");
        reg.declare(&plan, &key, SPARE, NOW.plus(10), NOW.plus(3600))
            .expect("declare");
        let t = Instant::now();
        let overtaken = std::thread::scope(|s| {
            let threads: Vec<_> = (0..workers)
                .map(|w| {
                    let (db, key) = (&db, &key);
                    s.spawn(move || worker(db, key, 100 + w))
                })
                .collect();
            threads
                .into_iter()
                .map(|t| t.join().expect("worker"))
                .collect::<Vec<_>>()
        });
        let took = t.elapsed();
        let reg = Registry::open(PostgresStore::connect(&db).expect("postgres")).expect("open");
        reg.verify_audit().expect("audit chain");
        let s = reg.summary().expect("summary");
        assert_eq!((s.issued, s.superseded, s.active), (2 * n, n, n), "{s:?}");
        (took, overtaken)
    };
    let (one, _) = resume(1, &mut rng);
    let floor_workers = floor(count, &mut rng);
    let (two, overtaken) = resume(2, &mut rng);

    let per_card = |bytes: u64| bytes as f64 / (2 * n) as f64;
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    if json {
        println!(
            "{}",
            serde_json::json!({
                "cards": count,
                "sqlite_ms": ms(sqlite), "sqlite_floor_ms": ms(floor_sqlite),
                "sqlite_ratio_to_floor": ratio(sqlite, floor_sqlite),
                "postgres_ms": ms(pg), "postgres_floor_ms": ms(floor_pg),
                "postgres_ratio_to_floor": ratio(pg, floor_pg),
                "postgres_over_sqlite": ratio(pg, sqlite),
                "resume_one_worker_ms": ms(one), "resume_two_workers_ms": ms(two),
                "resume_floor_ms": ms(floor_workers),
                "two_over_one": ratio(two, one),
                "two_workers_overtaken": overtaken,
                "sqlite_bytes_per_card": per_card(sqlite_bytes),
                "postgres_bytes_per_card": per_card(pg_bytes),
            })
        );
        return;
    }
    println!(
        "revoke + reissue {count} cards + publish, each beside its floor (keygen+sign, 1 core):"
    );
    println!("| backend | time | floor | ratio to floor |");
    println!("| --- | --- | --- | --- |");
    println!(
        "| SQLite | {:.0} ms | {:.0} ms | {:.2}x |",
        ms(sqlite),
        ms(floor_sqlite),
        ratio(sqlite, floor_sqlite)
    );
    println!(
        "| PostgreSQL | {:.0} ms | {:.0} ms | {:.2}x |",
        ms(pg),
        ms(floor_pg),
        ratio(pg, floor_pg)
    );
    println!(
        "PostgreSQL / SQLite: {:.2}x (floor-normalised {:.2}x)",
        ratio(pg, sqlite),
        ratio(pg, floor_pg) / ratio(sqlite, floor_sqlite)
    );
    println!(
        "resume of a declared job on PostgreSQL: one worker {:.0} ms, two workers {:.0} ms ({:.2}x; overtaken {overtaken:?}); floor {:.0} ms",
        ms(one),
        ms(two),
        ratio(two, one),
        ms(floor_workers)
    );
    println!(
        "registry bytes per card ({} credentials, history included): SQLite {:.0}, PostgreSQL {:.0}",
        2 * n,
        per_card(sqlite_bytes),
        per_card(pg_bytes)
    );
}
