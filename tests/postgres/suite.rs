//! The tests themselves (feature `postgres`); see `tests/postgres.rs`.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use crate::common::*;
use rand::RngExt;
use revocard::issue::*;
use revocard::registry::*;
use revocard::*;

const URL_ENV: &str = "REVOCARD_TEST_DATABASE_URL";
const PG_CTL_ENV: &str = "REVOCARD_TEST_PG_CTL";
const CHILD_URL: &str = "REVOCARD_PG_CHILD_URL";
const CHILD_COUNT: &str = "REVOCARD_PG_CHILD_COUNT";
const BREACHED: &str = "northgate-print";
const SPARE: &str = "southbank-print";
/// Cards of the concurrency and fault tests in the normal run (the 47,000-card runs
/// are `examples/backends.rs`; figures in BENCHMARKS.md).
const HOLDERS: u32 = 2000;
const CHUNK_SIZE: usize = 128;

/// Tests hold this to read; the test that stops the server holds it to write, so that
/// no other test's connection sees the server go away.
static SERVER: RwLock<()> = RwLock::new(());

fn required() -> bool {
    let set = |name: &str| {
        std::env::var(name)
            .map(|v| !v.is_empty() && v != "0" && v != "false")
            .unwrap_or(false)
    };
    set("CI") || set("REVOCARD_REQUIRE_POSTGRES")
}

/// The server's URL, or `None` (after saying SKIPPED loudly) when there is none and CI
/// does not require one.
fn server_url(test: &str) -> Option<String> {
    match std::env::var(URL_ENV) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if required() => panic!(
            "{URL_ENV} is not set and CI requires the PostgreSQL tests: run them under scripts/with-postgres (scripts/test does)"
        ),
        _ => {
            eprintln!(
                "SKIPPED {test}: no PostgreSQL server ({URL_ENV} is not set; run `bash scripts/test`, which starts one)"
            );
            None
        }
    }
}

/// `url` with its database replaced by `db`.
fn with_db(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let base = match base[after_scheme..].find('/') {
        Some(i) => &base[..after_scheme + i],
        None => base,
    };
    format!("{base}/{db}{query}")
}

fn admin(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).expect("the test server")
}

/// A new, empty database on the server; its URL. One at a time (PostgreSQL refuses
/// to copy its template while another session uses it), retried while the template
/// is busy.
fn fresh_database(url: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let name = format!(
        "revocard_t{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = admin(url);
    let mut tries = 0;
    while let Err(e) = admin.batch_execute(&format!("CREATE DATABASE {name}")) {
        tries += 1;
        assert!(tries < 50, "CREATE DATABASE {name}: {e}");
        std::thread::sleep(Duration::from_millis(100));
    }
    with_db(url, &name)
}

/// Waits (at most 30 s) until no session but this one is connected to the database
/// `db` names: the sessions of killed clients have ended, with whatever they had
/// committed.
fn settle(db: &str) {
    let mut client = admin(db);
    let start = Instant::now();
    loop {
        let others: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
                &[],
            )
            .unwrap()
            .get(0);
        if others == 0 {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{others} sessions of killed clients still connected after 30 s"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn read_lock() -> RwLockReadGuard<'static, ()> {
    SERVER.read().unwrap_or_else(|e| e.into_inner())
}

fn write_lock() -> RwLockWriteGuard<'static, ()> {
    SERVER.write().unwrap_or_else(|e| e.into_inner())
}

fn key() -> IssuerKey {
    issuer_key(&mut rng(42))
}

fn roster(n: u32) -> Vec<HolderRequest> {
    (0..n)
        .map(|i| HolderRequest {
            kind: Kind::WarrantCard,
            holder: holder(i),
            vetting: Vetting::new(PoliceVetting::Force(ForceVetting::Recruitment), None),
            validity: Validity::new(NOW.minus(60), NOW.plus(YEAR)).unwrap(),
        })
        .collect()
}

fn incident() -> Incident {
    Incident::Supplier {
        supplier: BREACHED.to_owned(),
    }
}

/// Every table of the current schema with its row count: "nothing was written".
fn snapshot(url: &str) -> BTreeMap<String, i64> {
    let mut c = admin(url);
    let tables: Vec<String> = c
        .query(
            "SELECT table_name::TEXT FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    tables
        .into_iter()
        .map(|t| {
            let n: i64 = c
                .query_one(&format!("SELECT COUNT(*) FROM \"{t}\""), &[])
                .unwrap()
                .get(0);
            (t, n)
        })
        .collect()
}

#[test]
fn postgres_keeps_the_store_contract() {
    let Some(url) = server_url("postgres_keeps_the_store_contract") else {
        return;
    };
    let _server = read_lock();
    conformance::check_store(|| PostgresStore::connect(&fresh_database(&url)).unwrap());
}

#[test]
fn postgres_keeps_the_store_contract_with_two_writers() {
    let Some(url) = server_url("postgres_keeps_the_store_contract_with_two_writers") else {
        return;
    };
    let _server = read_lock();
    let shared = fresh_database(&url);
    conformance::check_concurrent_writers(|| PostgresStore::connect(&shared).unwrap());
    conformance::check_invariants(&PostgresStore::connect(&shared).unwrap());
}

/// Two clients opening one empty database at the same moment: one creates the schema,
/// the other finds it; both end with the same registry, created once.
#[test]
fn two_clients_creating_one_registry_at_once_make_one() {
    let Some(url) = server_url("two_clients_creating_one_registry_at_once_make_one") else {
        return;
    };
    let _server = read_lock();
    let db = fresh_database(&url);
    let barrier = std::sync::Barrier::new(2);
    let results: Vec<Result<(), RegistryError>> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    let store = PostgresStore::connect(&db)?;
                    create_registry(store, &key(), CAPACITY, NOW, NOW.plus(3600)).map(|_| ())
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let created = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(created, 1, "{results:?}");
    assert!(
        results.iter().any(|r| matches!(
            r,
            Err(RegistryError::AlreadyCreated)
                | Err(RegistryError::Conflict(ConflictKind::StaleAuditHead { .. }))
        )),
        "{results:?}"
    );
    let reg = Registry::open(PostgresStore::connect(&db).unwrap()).unwrap();
    reg.verify_audit().unwrap();
}

#[test]
fn wrong_urls_refusing_servers_and_foreign_databases_are_one_line_errors_with_nothing_written() {
    let Some(url) = server_url(
        "wrong_urls_refusing_servers_and_foreign_databases_are_one_line_errors_with_nothing_written",
    ) else {
        return;
    };
    let _server = read_lock();
    let one_line = |e: &RegistryError| {
        let text = e.to_string();
        assert!(!text.contains('\n'), "not one line: {text:?}");
        assert!(!text.contains("hunter2"), "names the password: {text}");
        text
    };

    // A connection string that is not one.
    let e = PostgresStore::connect("postgres://revocard:hunter2@127.0.0.1:notaport/x").unwrap_err();
    assert!(one_line(&e).contains("not a PostgreSQL connection string"));

    // A server that refuses: a database that does not exist, a user it does not know.
    let e = PostgresStore::connect(&with_db(&url, "no_such_database")).unwrap_err();
    let text = one_line(&e);
    assert!(
        text.contains("cannot connect") && text.contains("no_such_database"),
        "{text}"
    );
    let stranger = url.replacen("revocard@", "stranger:hunter2@", 1);
    let e = PostgresStore::connect(&stranger).unwrap_err();
    assert!(one_line(&e).contains("cannot connect"), "{e}");
    // TLS demanded of a build that connects without it: refused, never sent in clear.
    let tls = if url.contains('?') {
        format!("{url}&sslmode=require")
    } else {
        format!("{url}?sslmode=require")
    };
    let e = PostgresStore::connect(&tls).unwrap_err();
    assert!(one_line(&e).contains("cannot connect"), "{e}");

    // A database of another application: refused by name, nothing written.
    let other = fresh_database(&url);
    admin(&other)
        .batch_execute(
            "CREATE TABLE payroll (id BIGINT PRIMARY KEY); INSERT INTO payroll VALUES (1)",
        )
        .unwrap();
    let before = snapshot(&other);
    match PostgresStore::connect(&other) {
        Err(
            e @ RegistryError::NotARegistry {
                detail: NotARegistry::MissingTables,
                ..
            },
        ) => {
            one_line(&e);
        }
        other => panic!("a foreign database opened: {other:?}"),
    }
    assert_eq!(snapshot(&other), before);

    // A registry of a newer schema: refused by name, nothing written.
    let newer = fresh_database(&url);
    create_registry(
        PostgresStore::connect(&newer).unwrap(),
        &key(),
        CAPACITY,
        NOW,
        NOW.plus(3600),
    )
    .unwrap();
    admin(&newer)
        .batch_execute("UPDATE revocard_meta SET value = '99' WHERE key = 'schema_version'")
        .unwrap();
    let before = snapshot(&newer);
    match PostgresStore::connect(&newer) {
        Err(e @ RegistryError::NewerSchema { found: 99, .. }) => {
            one_line(&e);
        }
        other => panic!("a newer schema opened: {other:?}"),
    }
    assert_eq!(snapshot(&newer), before);

    // Another issuer's registry: the key is refused before anything is signed or written.
    let theirs = fresh_database(&url);
    let their_key = IssuerKey::generate(
        IssuerId::new("other-constabulary").unwrap(),
        Validity::new(NOW.minus(YEAR), NOW.plus(10 * YEAR)).unwrap(),
        &mut rng(9),
    )
    .unwrap();
    let mut reg = create_registry(
        PostgresStore::connect(&theirs).unwrap(),
        &their_key,
        CAPACITY,
        NOW,
        NOW.plus(3600),
    )
    .unwrap();
    reg.issue_roster(
        &their_key,
        BREACHED,
        &roster(3),
        &mut fresh(&mut rand::rng()),
        NOW,
        &mut rng(1),
        &mut Hooks::default(),
    )
    .unwrap();
    let before = snapshot(&theirs);
    let mut reg = Registry::open(PostgresStore::connect(&theirs).unwrap()).unwrap();
    match reg.execute(
        &incident(),
        &key(),
        SPARE,
        &mut fresh(&mut rand::rng()),
        NOW.plus(10),
        NOW.plus(3600),
        &mut rng(2),
        &mut Hooks::default(),
    ) {
        Err(
            e @ RegistryError::WrongKey {
                why: WrongKey::OtherIssuer,
                ..
            },
        ) => {
            one_line(&e);
        }
        other => panic!("another issuer's registry took our key: {other:?}"),
    }
    assert_eq!(snapshot(&theirs), before);
}

/// Opens the registry at `url`, creating it (and issuing the roster) if it is new.
fn open_or_create(url: &str, holders: u32) -> Registry<PostgresStore> {
    let key = key();
    let reg = match Registry::open(PostgresStore::connect(url).unwrap()) {
        Ok(reg) => reg,
        Err(RegistryError::Empty) => {
            match create_registry(
                PostgresStore::connect(url).unwrap(),
                &key,
                CAPACITY,
                NOW,
                NOW.plus(3600),
            ) {
                Ok(reg) => reg,
                // Another process created it first.
                Err(RegistryError::AlreadyCreated | RegistryError::Conflict(_)) => {
                    Registry::open(PostgresStore::connect(url).unwrap()).unwrap()
                }
                Err(e) => panic!("{e}"),
            }
        }
        Err(e) => panic!("{e}"),
    };
    let mut reg = reg.with_chunk_size(CHUNK_SIZE);
    let reissue_started = reg
        .store()
        .jobs()
        .unwrap()
        .iter()
        .any(|j| matches!(j.kind, JobKind::Reissue { .. }));
    if !reissue_started {
        reg.issue_roster(
            &key,
            BREACHED,
            &roster(holders),
            &mut fresh(&mut rand::rng()),
            NOW,
            &mut rand::rng(),
            &mut Hooks::default(),
        )
        .unwrap();
    }
    reg
}

/// A worker: runs the job to its end, starting again whenever another writer's commit
/// overtook its reads (a typed conflict, never a second replacement).
fn work_until_done(reg: &mut Registry<PostgresStore>) -> u32 {
    let key = key();
    let mut overtaken = 0;
    loop {
        match reg.execute(
            &incident(),
            &key,
            SPARE,
            &mut fresh(&mut rand::rng()),
            NOW.plus(10),
            NOW.plus(3600),
            &mut rand::rng(),
            &mut Hooks::default(),
        ) {
            Ok(Some(r)) if !r.finished => {}
            Ok(_) => return overtaken,
            Err(RegistryError::Conflict(_)) if overtaken < 10_000 => overtaken += 1,
            Err(e) => panic!("a worker failed: {e}"),
        }
    }
}

/// Run by the tests below in child processes only.
#[test]
#[ignore = "run by the PostgreSQL process tests in a child process"]
fn pg_child() {
    let url = std::env::var(CHILD_URL).expect("started by a PostgreSQL process test");
    let holders = std::env::var(CHILD_COUNT)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(HOLDERS);
    let mut reg = open_or_create(&url, holders);
    let overtaken = work_until_done(&mut reg);
    println!("overtaken {overtaken}");
}

fn spawn_child(url: &str, holders: u32) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "suite::pg_child",
            "--test-threads",
            "1",
            "--nocapture",
        ])
        .env(CHILD_URL, url)
        .env(CHILD_COUNT, holders.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// The summary an uninterrupted single run on SQLite ends with: what every PostgreSQL
/// run, however interrupted or shared, must end with too.
fn sqlite_reference(holders: u32) -> Summary {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reference.sqlite");
    let key = key();
    let mut reg = create_registry(
        SqliteStore::open(&path).unwrap(),
        &key,
        CAPACITY,
        NOW,
        NOW.plus(3600),
    )
    .unwrap()
    .with_chunk_size(CHUNK_SIZE);
    reg.issue_roster(
        &key,
        BREACHED,
        &roster(holders),
        &mut fresh(&mut rand::rng()),
        NOW,
        &mut rand::rng(),
        &mut Hooks::default(),
    )
    .unwrap();
    work_until_done_on(&mut reg);
    reg.summary().unwrap()
}

fn work_until_done_on<S: Store>(reg: &mut Registry<S>) {
    let report = reg
        .execute(
            &incident(),
            &key(),
            SPARE,
            &mut fresh(&mut rand::rng()),
            NOW.plus(10),
            NOW.plus(3600),
            &mut rand::rng(),
            &mut Hooks::default(),
        )
        .unwrap()
        .unwrap();
    assert!(report.finished);
}

/// Two issuing offices (two processes, two connections) run the same reissue job at
/// once: every affected card ends with exactly one replacement, the counts equal an
/// uninterrupted SQLite run's, and the audit chain verifies.
#[test]
fn two_processes_resuming_one_job_replace_every_card_once() {
    let Some(url) = server_url("two_processes_resuming_one_job_replace_every_card_once") else {
        return;
    };
    let _server = read_lock();
    let db = fresh_database(&url);
    // The roster issued and the breach declared, then both offices resume the job.
    let mut reg = open_or_create(&db, HOLDERS);
    let plan = reg.plan(&incident(), NOW.plus(10)).unwrap();
    reg.declare(&plan, &key(), SPARE, NOW.plus(10), NOW.plus(3600))
        .unwrap();
    let mut a = spawn_child(&db, HOLDERS);
    let mut b = spawn_child(&db, HOLDERS);
    assert!(a.wait().unwrap().success(), "the first office failed");
    assert!(b.wait().unwrap().success(), "the second office failed");
    let reg = Registry::open(PostgresStore::connect(&db).unwrap()).unwrap();
    assert_eq!(
        check_consistent(&reg),
        (u64::from(HOLDERS) * 2, u64::from(HOLDERS))
    );
    assert!(
        reg.store()
            .jobs()
            .unwrap()
            .iter()
            .all(|j| j.finished_at.is_some())
    );
    assert_eq!(reg.summary().unwrap(), sqlite_reference(HOLDERS));
}

/// Clients killed with SIGKILL at random points of roster issue, declare and reissue;
/// after each kill the registry is consistent, and a last run converges to what an
/// uninterrupted run ends with.
#[test]
fn clients_killed_at_random_points_converge() {
    let Some(url) = server_url("clients_killed_at_random_points_converge") else {
        return;
    };
    let _server = read_lock();
    let reference = fresh_database(&url);
    let t = Instant::now();
    assert!(spawn_child(&reference, HOLDERS).wait().unwrap().success());
    let full = t.elapsed();
    let reg = Registry::open(PostgresStore::connect(&reference).unwrap()).unwrap();
    assert_eq!(
        check_consistent(&reg),
        (u64::from(HOLDERS) * 2, u64::from(HOLDERS))
    );
    let want = reg.summary().unwrap();
    assert_eq!(want, sqlite_reference(HOLDERS));

    let mut rng = rng(7);
    let mut db = fresh_database(&url);
    let (mut kills, mut last) = (0, (0, 0));
    while kills < 12 {
        let mut child = spawn_child(&db, HOLDERS);
        let wait = Duration::from_micros(
            rng.random_range(0..u64::try_from(full.as_micros()).unwrap().max(1)),
        );
        std::thread::sleep(wait);
        let finished = child.try_wait().unwrap().is_some();
        child.kill().ok(); // SIGKILL
        child.wait().unwrap();
        // A commit the killed client had already sent may still land: read the
        // registry only once the server has ended the client's session, so that the
        // checks (several queries) see one settled state.
        settle(&db);
        let now = match Registry::open(PostgresStore::connect(&db).unwrap()) {
            Ok(reg) => check_consistent(&reg),
            Err(RegistryError::Empty) => (0, 0), // killed before the registry was created
            Err(e) => panic!("{e}"),
        };
        assert!(
            now.0 >= last.0 && now.1 >= last.1,
            "committed work went backwards"
        );
        last = now;
        if !finished {
            kills += 1;
        }
        if finished && now.1 == u64::from(HOLDERS) {
            // Done before a kill landed: start again so that every kill lands in the work.
            db = fresh_database(&url);
            last = (0, 0);
        }
    }
    assert!(spawn_child(&db, HOLDERS).wait().unwrap().success());
    let reg = Registry::open(PostgresStore::connect(&db).unwrap()).unwrap();
    assert_eq!(
        check_consistent(&reg),
        (u64::from(HOLDERS) * 2, u64::from(HOLDERS))
    );
    assert_eq!(reg.summary().unwrap(), want);
}

/// The server stopped (`pg_ctl stop -m immediate`, as a crash) in the middle of a
/// reissue: the client gets a clear error, not a panic; once the server is back, a
/// resume on the same handle finishes the job, nothing lost or issued twice.
#[test]
fn the_server_stopped_mid_reissue_then_a_resume_finishes() {
    let Some(url) = server_url("the_server_stopped_mid_reissue_then_a_resume_finishes") else {
        return;
    };
    let pg_ctl = match std::env::var(PG_CTL_ENV) {
        Ok(p) => p,
        Err(_) if required() => panic!("{PG_CTL_ENV} is not set: run under scripts/with-postgres"),
        Err(_) => {
            eprintln!(
                "SKIPPED the_server_stopped_mid_reissue_then_a_resume_finishes: {PG_CTL_ENV} is not set (a server this test may stop)"
            );
            return;
        }
    };
    let _server = write_lock();
    let db = fresh_database(&url);
    let key = key();
    let mut reg = open_or_create(&db, HOLDERS);
    let plan = reg.plan(&incident(), NOW.plus(10)).unwrap();
    reg.declare(&plan, &key, SPARE, NOW.plus(10), NOW.plus(3600))
        .unwrap();
    // A checkpoint first, so that crash recovery replays this test's work only, not the
    // databases the other tests made (seconds, not a minute).
    admin(&url).batch_execute("CHECKPOINT").unwrap();
    // Stop the server after the second chunk commits.
    let mut chunks = 0;
    let mut hooks = Hooks {
        progress: Box::new(|_| {
            chunks += 1;
            if chunks == 2 {
                let ok = Command::new(&pg_ctl)
                    .arg("stop")
                    .status()
                    .unwrap()
                    .success();
                assert!(ok, "pg_ctl stop failed");
            }
            std::ops::ControlFlow::Continue(())
        }),
        ..Hooks::default()
    };
    let e = reg
        .resume(
            &key,
            &mut fresh(&mut rand::rng()),
            NOW.plus(20),
            NOW.plus(3600),
            &mut rand::rng(),
            &mut hooks,
        )
        .unwrap_err();
    drop(hooks);
    let text = e.to_string();
    assert!(!text.contains('\n'), "{text}");
    assert!(
        matches!(&e, RegistryError::Storage(s) if s.downcast_ref::<PostgresError>().is_some_and(|p| matches!(p, PostgresError::ConnectionLost { .. } | PostgresError::Unreachable { .. } | PostgresError::Server { .. }))),
        "{e:?}"
    );
    // While it is down, calls fail the same way, with no panic.
    assert!(reg.summary().is_err());
    let ok = Command::new(&pg_ctl)
        .arg("start")
        .status()
        .unwrap()
        .success();
    assert!(ok, "pg_ctl start failed");
    // The same handle connects again and the resume finishes the job.
    let report = reg
        .resume(
            &key,
            &mut fresh(&mut rand::rng()),
            NOW.plus(30),
            NOW.plus(3600),
            &mut rand::rng(),
            &mut Hooks::default(),
        )
        .unwrap()
        .unwrap();
    assert!(report.finished);
    assert_eq!(report.reissued, u64::from(HOLDERS));
    assert_eq!(
        check_consistent(&reg),
        (u64::from(HOLDERS) * 2, u64::from(HOLDERS))
    );
    assert!(chunks >= 2);
}

/// A registry an older build of this backend made (schema 2, before the roster) is
/// migrated in a transaction on opening: the roster table appears, nothing is lost.
#[test]
fn an_older_schema_is_migrated_in_place() {
    let Some(url) = server_url("an_older_schema_is_migrated_in_place") else {
        return;
    };
    let _server = read_lock();
    let db = fresh_database(&url);
    let reg = open_or_create(&db, 10);
    let before = reg.summary().unwrap();
    let head = reg.store().audit_head().unwrap();
    drop(reg);
    // Back to what schema 2 was: no roster table.
    admin(&db)
        .batch_execute(
            "DROP TABLE roster; ALTER TABLE credentials DROP COLUMN card_key; \
             UPDATE revocard_meta SET value = '2' WHERE key = 'schema_version'",
        )
        .unwrap();
    let reg = Registry::open(PostgresStore::connect(&db).unwrap()).unwrap();
    assert_eq!(reg.summary().unwrap(), before);
    assert_eq!(reg.store().audit_head().unwrap(), head);
    assert_eq!(reg.store().roster().unwrap(), Vec::new());
    let version: String = admin(&db)
        .query_one(
            "SELECT value FROM revocard_meta WHERE key = 'schema_version'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(version, SCHEMA_VERSION.to_string());
}

/// `--db postgres://...` opens the PostgreSQL backend, which names where it is without
/// the password; a path opens SQLite.
#[test]
fn any_store_opens_the_backend_a_db_string_names() {
    let Some(url) = server_url("any_store_opens_the_backend_a_db_string_names") else {
        return;
    };
    let _server = read_lock();
    let db = fresh_database(&url);
    for url in [db.clone(), db.replacen("postgres://", "postgresql://", 1)] {
        assert!(AnyStore::is_postgres_url(&url));
        let store = AnyStore::open(&url).unwrap();
        assert!(matches!(store, AnyStore::Postgres(_)), "{store:?}");
        assert!(!store.location().contains('@'), "{}", store.location());
        conformance::check_invariants(&store);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.sqlite");
    let store = AnyStore::open(path.to_str().unwrap()).unwrap();
    assert!(matches!(store, AnyStore::Sqlite(_)));
    let passworded = db.replacen("revocard@", "revocard:hunter2@", 1);
    let store = AnyStore::open(&passworded).unwrap();
    assert!(!format!("{store:?}").contains("hunter2"));
}

/// Two offices at once on one registry: a bulk issue of 10,000 cards and 200 single
/// revocations from another handle, concurrently. Each commit that loses the race to
/// the other's unrelated change reads again and retries (bounded), so both finish, and
/// the counts are exact.
#[test]
fn a_bulk_issue_and_single_revocations_at_once_both_finish() {
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;
    const BULK: u32 = 10_000;
    const SINGLES: u32 = 200;
    let Some(url) = server_url("a_bulk_issue_and_single_revocations_at_once_both_finish") else {
        return;
    };
    let _server = read_lock();
    let db = fresh_database(&url);
    let key = key();
    let mut reg = create_registry(
        PostgresStore::connect(&db).unwrap(),
        &key,
        CAPACITY,
        NOW,
        NOW.plus(3600),
    )
    .unwrap();
    // The cards the second office will revoke, issued first.
    let first: Vec<HolderRequest> = roster(SINGLES);
    reg.issue_roster(
        &key,
        BREACHED,
        &first,
        &mut fresh(&mut rng(1)),
        NOW,
        &mut rng(2),
        &mut Hooks::default(),
    )
    .unwrap();
    let to_revoke: Vec<Serial> = reg
        .store()
        .credentials(&CredentialFilter::All)
        .unwrap()
        .iter()
        .map(|c| c.serial)
        .collect();
    assert_eq!(to_revoke.len(), SINGLES as usize);
    let bulk: Vec<HolderRequest> = roster(SINGLES + BULK)
        .into_iter()
        .skip(SINGLES as usize)
        .collect();
    let revoked = Arc::new(AtomicUsize::new(0));
    let started = Arc::new(AtomicBool::new(false));
    // Chunks the bulk issue has committed: the revocations go in groups, each after
    // another chunk, so the two interleave on any machine, however fast either is.
    let chunks = Arc::new(AtomicUsize::new(0));
    let issuer = {
        let (db, key, revoked, started, chunks) = (
            db.clone(),
            self::key(),
            revoked.clone(),
            started.clone(),
            chunks.clone(),
        );
        std::thread::spawn(move || {
            let mut reg = Registry::open(PostgresStore::connect(&db).unwrap())
                .unwrap()
                .with_chunk_size(1024);
            // How many revocations had committed at each chunk's commit.
            let mut seen = Vec::new();
            let report = reg.issue_roster(
                &key,
                SPARE,
                &bulk,
                &mut fresh(&mut rng(3)),
                NOW,
                &mut rng(4),
                &mut Hooks {
                    progress: Box::new(|_| {
                        started.store(true, Ordering::SeqCst);
                        chunks.fetch_add(1, Ordering::SeqCst);
                        let at = revoked.load(Ordering::SeqCst);
                        seen.push(at);
                        // Hold the next chunk (bounded) until a revocation has
                        // committed since this one, so the two interleave however
                        // fast signing is next to opening the office's registry.
                        let waiting = std::time::Instant::now();
                        while revoked.load(Ordering::SeqCst) == at
                            && at < SINGLES as usize
                            && waiting.elapsed() < Duration::from_secs(10)
                        {
                            std::thread::sleep(Duration::from_millis(2));
                        }
                        std::ops::ControlFlow::Continue(())
                    }),
                    ..Hooks::default()
                },
            );
            (report, seen)
        })
    };
    while !started.load(Ordering::SeqCst) && !issuer.is_finished() {
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut office = Registry::open(PostgresStore::connect(&db).unwrap()).unwrap();
    const GROUP: usize = 20;
    let mut chunks_before = chunks.load(Ordering::SeqCst);
    for (i, serial) in to_revoke.iter().enumerate() {
        if i > 0 && i % GROUP == 0 {
            // Wait (bounded) for the bulk issue to commit another chunk.
            let waiting = std::time::Instant::now();
            while chunks.load(Ordering::SeqCst) == chunks_before
                && !issuer.is_finished()
                && waiting.elapsed() < Duration::from_secs(60)
            {
                std::thread::sleep(Duration::from_millis(2));
            }
            chunks_before = chunks.load(Ordering::SeqCst);
        }
        office
            .set_status(
                &key,
                *serial,
                Status::Revoked,
                RevocationReason::LeftService,
                NOW.plus(1),
                NOW.plus(3600),
            )
            .unwrap_or_else(|e| panic!("a single revocation beside the bulk issue: {e}"));
        revoked.fetch_add(1, Ordering::SeqCst);
    }
    let (report, seen) = issuer.join().unwrap();
    let report = report.unwrap_or_else(|e| panic!("the bulk issue beside revocations: {e}"));
    assert!(report.finished, "{report:?}");
    assert_eq!(report.issued_now, u64::from(BULK));
    // They did run at once: chunks committed between revocations.
    assert!(
        seen.iter().any(|&n| n > 0 && n < SINGLES as usize),
        "no chunk committed while the revocations ran: {seen:?}"
    );
    let s = office.summary().unwrap();
    assert_eq!(s.issued, u64::from(SINGLES + BULK));
    assert_eq!(s.revoked, u64::from(SINGLES));
    assert_eq!(s.active, u64::from(BULK));
    office.verify_audit().unwrap();
    conformance::check_invariants(office.store());
}

/// A leavers' roster sync applied while another office revokes cards one by one: the
/// sync, overtaken, plans and commits again from fresh reads; both finish.
#[test]
fn a_leavers_sync_beside_single_revocations_both_finish() {
    const HOLDERS: u32 = 1000;
    const SINGLES: usize = 60;
    const STAYING: u32 = 900;
    let Some(url) = server_url("a_leavers_sync_beside_single_revocations_both_finish") else {
        return;
    };
    let _server = read_lock();
    let db = fresh_database(&url);
    let key = key();
    let mut reg = create_registry(
        PostgresStore::connect(&db).unwrap(),
        &key,
        CAPACITY,
        NOW,
        NOW.plus(3600),
    )
    .unwrap();
    reg.issue_roster(
        &key,
        BREACHED,
        &roster(HOLDERS),
        &mut fresh(&mut rng(1)),
        NOW,
        &mut rng(2),
        &mut Hooks::default(),
    )
    .unwrap();
    // The first 60 holders' cards are revoked by the other office; they stay on the
    // roster. The last 100 holders leave.
    let first: Vec<String> = (0..SINGLES as u32)
        .map(|i| holder(i).pay_number().to_owned())
        .collect();
    let singles: Vec<Serial> = reg
        .store()
        .credentials(&CredentialFilter::PayNumbers(first))
        .unwrap()
        .iter()
        .map(|c| c.serial)
        .collect();
    assert_eq!(singles.len(), SINGLES);
    let revoker = {
        let db = db.clone();
        std::thread::spawn(move || {
            let key = self::key();
            let mut office = Registry::open(PostgresStore::connect(&db).unwrap()).unwrap();
            for serial in singles {
                office
                    .set_status(
                        &key,
                        serial,
                        Status::Revoked,
                        RevocationReason::Lost,
                        NOW.plus(1),
                        NOW.plus(3600),
                    )
                    .unwrap_or_else(|e| panic!("a revocation beside the sync: {e}"));
            }
        })
    };
    let staying = roster(STAYING);
    let mut applied = None;
    // Applied a few times while the revocations run: the first applies the leavers,
    // the next ones find nothing more to do (or a revoked holder pending again).
    for _ in 0..3 {
        let r = reg
            .roster_apply(&key, &staying, NOW.plus(2), NOW.plus(3600))
            .unwrap_or_else(|e| panic!("the sync beside revocations: {e}"));
        applied.get_or_insert(r);
    }
    revoker.join().unwrap();
    let applied = applied.unwrap();
    assert_eq!(applied.plan.leavers.len(), (HOLDERS - STAYING) as usize);
    let s = reg.summary().unwrap();
    assert_eq!(s.issued, u64::from(HOLDERS));
    assert_eq!(s.revoked, (HOLDERS - STAYING) as u64 + SINGLES as u64);
    reg.verify_audit().unwrap();
    conformance::check_invariants(reg.store());
}
