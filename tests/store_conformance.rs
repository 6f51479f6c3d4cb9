//! The backend conformance suite (`registry::conformance`, feature `conformance`, which
//! the crate's dev-dependency on itself turns on for its tests) run against the
//! embedded SQLite store and against the crash-injecting wrapper the crash tests use.
//! The next backend (PostgreSQL) is held to the same calls.

mod common;

use common::Crashing;
use revocard::registry::{AnyStore, SqliteStore, conformance};

#[test]
fn sqlite_in_memory_keeps_the_store_contract() {
    conformance::check_store(|| SqliteStore::open_in_memory().unwrap());
}

#[test]
fn sqlite_files_keep_the_store_contract_with_two_writers() {
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    conformance::check_store(|| {
        n += 1;
        SqliteStore::open(dir.path().join(format!("{n}.sqlite"))).unwrap()
    });
    // Every handle on one file: another connection, as another process would hold.
    let shared = dir.path().join("shared.sqlite");
    conformance::check_concurrent_writers(|| SqliteStore::open(&shared).unwrap());
}

/// The crash tests (tests/registry.rs) are only as good as their wrapper: one that
/// does not crash must be the store it wraps.
#[test]
fn the_crash_injecting_wrapper_keeps_the_store_contract() {
    conformance::check_store(|| Crashing::never(SqliteStore::open_in_memory().unwrap()));
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared.sqlite");
    conformance::check_concurrent_writers(|| Crashing::never(SqliteStore::open(&shared).unwrap()));
}

/// The store tools open from a `--db` string is the backend it names, and conforms.
#[test]
fn any_store_opened_from_a_path_is_sqlite_and_keeps_the_store_contract() {
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    conformance::check_store(|| {
        n += 1;
        let path = dir.path().join(format!("{n}.sqlite"));
        let store = AnyStore::open(path.to_str().unwrap()).unwrap();
        assert!(matches!(store, AnyStore::Sqlite(_)));
        store
    });
}
