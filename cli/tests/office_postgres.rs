//! The operator's tool on a PostgreSQL registry: reading never writes, a failed `init`
//! leaves nothing, a connection cut mid-command is one resumable error.
//!
//! The server comes from `REVOCARD_TEST_DATABASE_URL` (`scripts/with-postgres` starts
//! a throwaway one; `scripts/test` runs everything under it). Without it each test
//! says SKIPPED on stderr and passes, except under CI (`CI` or
//! `REVOCARD_REQUIRE_POSTGRES` set), where it fails.

mod common;

use std::fmt::Write as _;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use common::{Office, Run, roster};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

const URL_ENV: &str = "REVOCARD_TEST_DATABASE_URL";

fn required() -> bool {
    ["CI", "REVOCARD_REQUIRE_POSTGRES"]
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0" && v != "false"))
}

/// The server's URL, or `None` (after saying SKIPPED) when there is none and CI does
/// not require one.
fn server_url(test: &str) -> Option<String> {
    match std::env::var(URL_ENV) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if required() => panic!(
            "{URL_ENV} is not set and CI requires the PostgreSQL tests: run them under scripts/with-postgres"
        ),
        _ => {
            eprintln!("SKIPPED {test}: no PostgreSQL server ({URL_ENV} is not set)");
            None
        }
    }
}

fn admin(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).unwrap_or_else(|e| panic!("{e}"))
}

/// A new, empty database on the server: (its name, its URL).
fn fresh_database(url: &str) -> (String, String) {
    static N: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "revocard_cli{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = admin(url);
    let mut tries = 0;
    // PostgreSQL refuses to copy its template while another session uses it.
    while let Err(e) = admin.batch_execute(&format!("CREATE DATABASE {name}")) {
        tries += 1;
        assert!(tries < 50, "CREATE DATABASE {name}: {e}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let base = match base[after_scheme..].find('/') {
        Some(i) => &base[..after_scheme + i],
        None => base,
    };
    (name.clone(), format!("{base}/{name}{query}"))
}

/// The tables of database `db`.
fn tables(db: &str) -> Vec<String> {
    admin(db)
        .query(
            "SELECT table_name::TEXT FROM information_schema.tables WHERE table_schema = current_schema()",
            &[],
        )
        .unwrap_or_else(|e| panic!("{e}"))
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// `revocard ARGS --db URL` in the office's folder.
fn run(office: &Office, db: &str, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_revocard"))
        .args(args)
        .args(["--db", db])
        .env_remove("REVOCARD_DB")
        .env_remove("REVOCARD_KEYS")
        .current_dir(office.dir.path())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    Run { output }
}

fn blanks(office: &Office, n: usize, seed: u64) -> String {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut csv = String::from("card_public_key\n");
    for _ in 0..n {
        let mut secret = [0u8; 32];
        rng.fill_bytes(&mut secret);
        let _ = writeln!(
            csv,
            "{}",
            revocard::issue::CardKey::from_secret_bytes(&secret).public()
        );
    }
    office
        .write("blanks.csv", &csv)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn read_only_commands_create_nothing_in_an_empty_database() {
    let Some(url) = server_url("read_only_commands_create_nothing_in_an_empty_database") else {
        return;
    };
    let (_, db) = fresh_database(&url);
    let office = Office::new();
    let out = office.path("credentials.csv");
    let out = out.to_string_lossy();
    let reads: [&[&str]; 6] = [
        &["summary"],
        &["audit", "verify"],
        &["credentials", "--batch", "1", "--out", &out],
        &["show", "00000000000000000000000000000000"],
        &["key", "list"],
        &["audit", "export"],
    ];
    for args in reads {
        let r = run(&office, &db, &[args, &["--json"]].concat()).exits(2);
        let v: serde_json::Value = serde_json::from_str(r.stdout().trim())
            .unwrap_or_else(|e| panic!("{args:?}: not one JSON object ({e}): {}", r.stdout()));
        assert_eq!(v["error"], "no_registry", "{args:?}: {v}");
        assert!(tables(&db).is_empty(), "{args:?} wrote: {:?}", tables(&db));
    }
    assert!(!office.path("credentials.csv").exists());
}

#[test]
fn a_failed_init_on_postgres_leaves_no_registry_and_the_next_init_works() {
    let Some(url) =
        server_url("a_failed_init_on_postgres_leaves_no_registry_and_the_next_init_works")
    else {
        return;
    };
    let (_, db) = fresh_database(&url);
    let office = Office::new();
    let not_a_dir = office.write("keys-file", "not a folder\n");
    let failed = run(
        &office,
        &db,
        &[
            "init",
            "--issuer",
            "metro-police",
            "--keys",
            &not_a_dir.to_string_lossy(),
        ],
    )
    .exits(2);
    assert!(
        failed.stderr().contains(&*not_a_dir.to_string_lossy()),
        "{}",
        failed.stderr()
    );
    assert!(!office.path("trust-anchor.rca").exists());
    run(&office, &db, &["summary"]).exits(2);
    // Not "already exists": the next init makes the registry.
    run(&office, &db, &["init", "--issuer", "metro-police"]).ok();
    run(&office, &db, &["audit", "verify"]).ok();
}

#[test]
fn a_connection_cut_mid_issue_is_one_resumable_error_and_a_rerun_finishes() {
    let Some(url) =
        server_url("a_connection_cut_mid_issue_is_one_resumable_error_and_a_rerun_finishes")
    else {
        return;
    };
    const N: usize = 20_000;
    let (name, db) = fresh_database(&url);
    let office = Office::new();
    run(&office, &db, &["init", "--issuer", "metro-police"]).ok();
    let staff = office.write("staff.csv", &roster(N));
    run(
        &office,
        &db,
        &["roster", "sync", &staff.to_string_lossy(), "--apply"],
    )
    .ok();
    let cards = blanks(&office, N, 7);
    let args = [
        "issue",
        "--supplier",
        "northgate-print",
        "--cards",
        cards.as_str(),
    ];
    let child = Command::new(env!("CARGO_BIN_EXE_revocard"))
        .args(args)
        .args(["--db", &db, "--json"])
        .env_remove("REVOCARD_DB")
        .current_dir(office.dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    // Once it has committed a chunk, the server ends its session as a restart would
    // (SQLSTATE 57P01, "terminating connection due to administrator command").
    let mut admin = admin(&url);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let batch: i64 = postgres::Client::connect(&db, postgres::NoTls)
            .and_then(|mut c| {
                c.query_one(
                    "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'credentials'",
                    &[],
                )
                .map(|r| r.get::<_, i64>(0))
                .and_then(|t| {
                    if t == 0 {
                        return Ok(0);
                    }
                    c.query_one(
                        "SELECT COUNT(*) FROM credentials WHERE print_batch = 1",
                        &[],
                    )
                    .map(|r| r.get(0))
                })
            })
            .unwrap_or(0);
        if batch > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the issue never committed a chunk"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'revocard'",
            &[&name],
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stdout}\n{stderr}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let v: serde_json::Value =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(v["error"], "connection_lost", "{v}");
    let message = v["message"].as_str().unwrap_or_default();
    assert!(message.contains("run the same command again"), "{message}");
    assert!(!message.contains("refused a statement"), "{message}");
    // Rerun: it resumes and finishes, every holder carded once.
    run(&office, &db, &args).ok();
    let s = run(&office, &db, &["summary", "--json"]).ok().json();
    assert_eq!(s["issued"], N, "{s}");
    assert_eq!(s["pending"], 0, "{s}");
    run(&office, &db, &["audit", "verify"]).ok();
}
