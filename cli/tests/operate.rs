//! What an operator relies on around the commands: the registry's files are private,
//! help never shows a password, output files are never overwritten or followed by
//! mistake, a failed `init` leaves nothing, and every failure has its exit code and,
//! under `--json`, exactly one JSON object.

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use common::{Office, Run};

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

fn with_suffix(p: &Path, suffix: &str) -> std::path::PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    s.into()
}

/// The one JSON object a `--json` run printed: stdout is exactly one line, an object.
fn one_object(run: &Run) -> serde_json::Value {
    let out = run.stdout();
    assert_eq!(out.lines().count(), 1, "not one line: {out}");
    let v: serde_json::Value =
        serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"));
    assert!(v.is_object(), "{v}");
    v
}

#[test]
fn the_registry_and_its_wal_are_created_private_and_a_readable_one_warns_once() {
    let office = Office::new();
    office.init();
    let db = office.db();
    assert_eq!(mode(&db), 0o600);
    // While a connection holds it, SQLite's -wal and -shm files exist: same mode.
    let held =
        revocard::registry::SqliteStore::open_existing(&db).unwrap_or_else(|e| panic!("{e}"));
    for suffix in ["-wal", "-shm"] {
        let p = with_suffix(&db, suffix);
        assert!(p.exists(), "{}", p.display());
        assert_eq!(mode(&p), 0o600, "{}", p.display());
    }
    drop(held);
    // Quiet on a private registry.
    let quiet = office.run(&["summary"]).ok();
    assert!(!quiet.stderr().contains("warning"), "{}", quiet.stderr());
    // One that others can read still works, and says so once.
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644))
        .unwrap_or_else(|e| panic!("{e}"));
    let warned = office.run(&["summary"]).ok();
    let err = warned.stderr();
    assert_eq!(err.matches("others can read").count(), 1, "{err}");
    assert!(err.contains("chmod 600"), "{err}");
}

#[test]
fn init_refuses_a_folder_others_can_write_and_writes_nothing() {
    let office = Office::new();
    let open = office.path("shared");
    std::fs::create_dir(&open).unwrap_or_else(|e| panic!("{e}"));
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777))
        .unwrap_or_else(|e| panic!("{e}"));
    let db = open.join("registry.sqlite");
    let run = office
        .run(&[
            "init",
            "--issuer",
            "metro-police",
            "--db",
            &db.to_string_lossy(),
        ])
        .exits(2);
    assert!(
        run.stderr().contains("others can write"),
        "{}",
        run.stderr()
    );
    assert_eq!(
        std::fs::read_dir(&open).map(Iterator::count).unwrap_or(99),
        0
    );
}

#[test]
fn help_never_shows_the_database_url_and_calls_it_a_path_or_a_url() {
    for args in [&["--help"][..], &["summary", "--help"], &["init", "--help"]] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_revocard"))
            .args(args)
            .env(
                "REVOCARD_DB",
                "postgres://office:hunter2@db.example/registry",
            )
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{text}");
        assert!(!text.contains("hunter2"), "{args:?}: {text}");
        assert!(!text.contains("db.example"), "{args:?}: {text}");
        assert!(text.contains("PostgreSQL URL"), "{args:?}: {text}");
        assert!(!text.contains("(an SQLite file)"), "{args:?}: {text}");
        assert!(text.contains("PGPASSWORD"), "{args:?}: {text}");
    }
}

#[test]
fn an_output_file_is_never_overwritten_or_followed_without_force() {
    let office = Office::new();
    office.init();
    let out = office.path("audit.jsonl");
    let out_s = out.to_string_lossy().into_owned();
    office.run(&["audit", "export", "--out", &out_s]).ok();
    let first = std::fs::read(&out).unwrap_or_default();
    assert!(!first.is_empty());
    // The same bytes again: a no-op, so a rerun stays idempotent.
    office.run(&["audit", "export", "--out", &out_s]).ok();
    assert_eq!(std::fs::read(&out).unwrap_or_default(), first);
    // Other content there: refused, left alone; --force replaces it.
    std::fs::write(&out, "someone else's file\n").unwrap_or_else(|e| panic!("{e}"));
    let refused = office.run(&["audit", "export", "--out", &out_s]).exits(1);
    assert!(refused.stderr().contains("--force"), "{}", refused.stderr());
    assert_eq!(
        std::fs::read_to_string(&out).unwrap_or_default(),
        "someone else's file\n"
    );
    office
        .run(&["audit", "export", "--out", &out_s, "--force"])
        .ok();
    assert_eq!(std::fs::read(&out).unwrap_or_default(), first);
    // A symbolic link at the target is never followed.
    let target = office.path("precious.txt");
    std::fs::write(&target, "precious\n").unwrap_or_else(|e| panic!("{e}"));
    let link = office.path("link.jsonl");
    std::os::unix::fs::symlink(&target, &link).unwrap_or_else(|e| panic!("{e}"));
    let link_s = link.to_string_lossy().into_owned();
    office.run(&["audit", "export", "--out", &link_s]).exits(1);
    office
        .run(&["audit", "export", "--out", &link_s, "--force"])
        .ok();
    assert_eq!(
        std::fs::read_to_string(&target).unwrap_or_default(),
        "precious\n"
    );
    assert!(
        !std::fs::symlink_metadata(&link)
            .map(|m| m.file_type().is_symlink())
            .unwrap_or(true)
    );
    assert_eq!(std::fs::read(&link).unwrap_or_default(), first);
    // No temporary file is left behind.
    let leftovers: Vec<String> = std::fs::read_dir(office.dir.path())
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".tmp"))
                .collect()
        })
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_failed_init_leaves_nothing_and_names_the_path() {
    let office = Office::new();
    // The keys folder is a file: init cannot write the keys.
    let not_a_dir = office.write("keys-file", "not a folder\n");
    let run = office
        .run(&[
            "init",
            "--issuer",
            "metro-police",
            "--keys",
            &not_a_dir.to_string_lossy(),
        ])
        .exits(2);
    assert!(
        run.stderr().contains(&*not_a_dir.to_string_lossy()),
        "{}",
        run.stderr()
    );
    assert!(!office.db().exists());
    assert!(!office.path("trust-anchor.rca").exists());
    for suffix in ["-wal", "-shm"] {
        assert!(!with_suffix(&office.db(), suffix).exists());
    }
    // The next init is not told that anything already exists.
    office.init();
    office.run(&["audit", "verify"]).ok();
}

#[test]
fn under_json_every_failure_is_one_object_with_a_stable_code() {
    let office = Office::new();
    // No registry at --db, a folder, a file that is not a registry: exit 2.
    let missing = office.run(&["summary", "--json"]).exits(2);
    assert_eq!(one_object(&missing)["error"], "no_registry");
    let folder = office.path("adir");
    std::fs::create_dir(&folder).unwrap_or_else(|e| panic!("{e}"));
    let dir = office
        .run(&[
            "show",
            "--pay-number",
            "P1",
            "--json",
            "--db",
            &folder.to_string_lossy(),
        ])
        .exits(2);
    let v = one_object(&dir);
    assert_eq!(v["error"], "not_a_registry");
    assert!(
        v["message"]
            .as_str()
            .unwrap_or_default()
            .contains("is a folder"),
        "{v}"
    );
    // An empty file is not given a schema by reading it.
    let empty = office.write("empty.sqlite", "");
    let run = office
        .run(&["summary", "--json", "--db", &empty.to_string_lossy()])
        .exits(2);
    assert_eq!(one_object(&run)["error"], "not_a_registry");
    assert_eq!(std::fs::metadata(&empty).map(|m| m.len()).unwrap_or(1), 0);
    let junk = office.write("junk.sqlite", "not a registry\n");
    let junk = office
        .run(&["key", "list", "--json", "--db", &junk.to_string_lossy()])
        .exits(2);
    assert_eq!(one_object(&junk)["error"], "not_a_registry");
    // A command line that does not parse.
    let usage = office
        .run(&["summary", "--no-such-flag", "--json"])
        .exits(2);
    assert_eq!(one_object(&usage)["error"], "usage");
    office.init();
    // init again, a card that is not there, a bad roster: refused, exit 1.
    let again = office
        .run(&["init", "--issuer", "metro-police", "--json"])
        .exits(1);
    let v = one_object(&again);
    assert_eq!(v["error"], "already_exists");
    assert_eq!(v["exit_code"], 1);
    let show = office
        .run(&["show", "00000000000000000000000000000000", "--json"])
        .exits(1);
    assert_eq!(one_object(&show)["error"], "refused");
    let bad = office.write(
        "bad.csv",
        &format!("{}P1,,PC,Unit,warrant-card,NPPV2,x\nP2\n", common::HEADER),
    );
    let roster = office
        .run(&["roster", "sync", &bad.to_string_lossy(), "--json"])
        .exits(1);
    let v = one_object(&roster);
    assert_eq!(v["error"], "refused");
    assert!(
        v["problems"].as_array().is_some_and(|p| !p.is_empty()),
        "{v}"
    );
    // Success is one object too, an export to a file included.
    let out = office.path("audit.jsonl");
    let export = office
        .run(&["audit", "export", "--out", &out.to_string_lossy(), "--json"])
        .ok();
    let v = one_object(&export);
    assert_eq!(v["command"], "audit export");
    assert_eq!(v["entries"], 4);
}

#[test]
fn a_postgres_password_file_others_can_read_is_refused_before_connecting() {
    let office = Office::new();
    let pass = office.write("pgpass", "127.0.0.1:1:registry:office:hunter2\n");
    let url = "postgres://office@127.0.0.1:1/registry?connect_timeout=2";
    let with_passfile = |mode: u32| {
        std::fs::set_permissions(&pass, std::fs::Permissions::from_mode(mode))
            .unwrap_or_else(|e| panic!("{e}"));
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_revocard"))
            .args(["summary", "--json", "--db", url])
            .env("PGPASSFILE", &pass)
            .env_remove("PGPASSWORD")
            .current_dir(office.dir.path())
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        Run { output }
    };
    let refused = with_passfile(0o644).exits(2);
    let v = one_object(&refused);
    let message = v["message"].as_str().unwrap_or_default();
    assert!(message.contains(&*pass.to_string_lossy()), "{message}");
    assert!(message.contains("chmod 600"), "{message}");
    assert!(!refused.stdout().contains("hunter2"));
    assert!(!refused.stderr().contains("hunter2"));
    // Private, it is used: the tool goes on to connect (nothing listens on port 1).
    let private = with_passfile(0o600).exits(2);
    let message = one_object(&private)["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(message.contains("cannot connect"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
}
