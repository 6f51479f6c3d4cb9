//! Crash tests: the whole story (create, issue a roster, declare a breach, reissue)
//! run in child processes that are killed with SIGKILL at random moments, each kill
//! followed by a consistency check of the file and, at the end, a run to completion.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use rand::RngExt;
use revocard::issue::*;
use revocard::registry::*;
use revocard::*;

const CHILD_ENV: &str = "REVOCARD_CRASH_CHILD_DB";
const HOLDERS: u32 = 2000;
const CHUNK_SIZE: usize = 128;
const BREACHED: &str = "northgate-print";
const SPARE: &str = "southbank-print";

fn roster() -> Vec<HolderRequest> {
    (0..HOLDERS)
        .map(|i| HolderRequest {
            kind: Kind::WarrantCard,
            holder: holder(i),
            vetting: Vetting::new(PoliceVetting::Force(ForceVetting::Recruitment), None),
            validity: Validity::new(NOW.minus(60), NOW.plus(YEAR)).unwrap(),
        })
        .collect()
}

/// The issuer key is the same in every process (fixed seed); serials and card keys come
/// from the OS, as they would in production.
fn key() -> IssuerKey {
    issuer_key(&mut rng(42))
}

fn story(path: &Path) {
    let key = key();
    let mut os = rand::rng();
    let store = SqliteStore::open(path).unwrap();
    let reg = match Registry::open(store) {
        Ok(reg) => reg,
        Err(RegistryError::Empty) => create_registry(
            SqliteStore::open(path).unwrap(),
            &key,
            CAPACITY,
            NOW,
            NOW.plus(3600),
        )
        .unwrap(),
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
            &roster(),
            &mut fresh(&mut os),
            NOW,
            &mut os,
            &mut Hooks::default(),
        )
        .unwrap();
    }
    let incident = Incident::Supplier {
        supplier: BREACHED.to_owned(),
    };
    reg.execute(
        &incident,
        &key,
        SPARE,
        &mut fresh(&mut os),
        NOW.plus(10),
        NOW.plus(3600),
        &mut os,
        &mut Hooks::default(),
    )
    .unwrap();
}

/// Run by the child processes only (the parent starts them with `--ignored --exact`).
#[test]
#[ignore = "run by crash_at_random_points_then_recover in a child process"]
fn crash_child() {
    let path = std::env::var(CHILD_ENV).expect("started by the crash test");
    story(Path::new(&path));
}

fn spawn_child(path: &Path) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "crash_child", "--test-threads", "1"])
        .env(CHILD_ENV, path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// What must hold in the file whenever a process dies (`check_consistent`); a process
/// killed before the registry was created leaves nothing to check.
fn check_file(path: &Path) -> (u64, u64) {
    let Ok(reg) = Registry::open(SqliteStore::open(path).unwrap()) else {
        return (0, 0);
    };
    check_consistent(&reg)
}

#[test]
fn crash_at_random_points_then_recover() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.sqlite");
    // How long an uninterrupted story takes here, to aim the kills inside it.
    let reference = dir.path().join("reference.sqlite");
    let t = Instant::now();
    let status = spawn_child(&reference).wait().unwrap();
    assert!(status.success());
    let full = t.elapsed();
    assert_eq!(
        check_file(&reference),
        (u64::from(HOLDERS) * 2, u64::from(HOLDERS))
    );

    let mut rng = rng(7);
    let mut kills = 0;
    let mut last = (0, 0);
    while kills < 24 {
        let mut child = spawn_child(&path);
        let wait = Duration::from_micros(
            rng.random_range(0..u64::try_from(full.as_micros()).unwrap().max(1)),
        );
        std::thread::sleep(wait);
        let finished = child.try_wait().unwrap().is_some();
        child.kill().ok(); // SIGKILL
        child.wait().unwrap();
        let now = check_file(&path);
        assert!(
            now.0 >= last.0 && now.1 >= last.1,
            "committed work went backwards"
        );
        last = now;
        if !finished {
            kills += 1;
        }
        if finished && now.1 == u64::from(HOLDERS) {
            // The story completed before a kill landed: start again on a fresh file so
            // that every kill lands somewhere in the work.
            std::fs::remove_file(&path).ok();
            std::fs::remove_file(path.with_extension("sqlite-wal")).ok();
            std::fs::remove_file(path.with_extension("sqlite-shm")).ok();
            last = (0, 0);
        }
    }
    // Recovery: run to completion, then the end state equals an uninterrupted run's.
    assert!(spawn_child(&path).wait().unwrap().success());
    assert_eq!(
        check_file(&path),
        (u64::from(HOLDERS) * 2, u64::from(HOLDERS))
    );
    let reg = Registry::open(SqliteStore::open(&path).unwrap()).unwrap();
    assert_eq!(
        reg.summary().unwrap(),
        Summary {
            issued: u64::from(HOLDERS) * 2,
            active: u64::from(HOLDERS),
            revoked: u64::from(HOLDERS),
            suspended: 0,
            superseded: u64::from(HOLDERS),
        }
    );
}
