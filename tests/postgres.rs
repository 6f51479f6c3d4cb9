//! The registry on a real PostgreSQL server (feature `postgres`): the conformance
//! suite exactly as on SQLite, two writers, two reissue workers (processes) on one job,
//! clients killed with SIGKILL, the server stopped mid-reissue, and the operator's
//! mistakes (a wrong connection string, a server that refuses, a database that is not
//! a registry or is another issuer's).
//!
//! The server comes from `REVOCARD_TEST_DATABASE_URL` (`scripts/with-postgres` starts a
//! throwaway one and sets it; `scripts/test` runs everything under it). Each test makes
//! its own databases on that server. Without the URL every test here says SKIPPED on
//! stderr and passes, except under CI (`CI` or `REVOCARD_REQUIRE_POSTGRES` set), where
//! it fails: CI never passes without having run them.

mod common;

#[cfg(feature = "postgres")]
#[path = "postgres/suite.rs"]
mod suite;

/// Built without the backend: say so, and fail where CI requires the PostgreSQL tests.
#[cfg(not(feature = "postgres"))]
#[test]
fn postgres_tests_need_the_postgres_feature() {
    let required = ["CI", "REVOCARD_REQUIRE_POSTGRES"]
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0" && v != "false"));
    assert!(
        !required,
        "CI requires the PostgreSQL tests: build them with `--features postgres` (scripts/test does)"
    );
    eprintln!(
        "SKIPPED the PostgreSQL tests: built without feature `postgres` (run `bash scripts/test`)"
    );
}
