//! The examples as a newcomer runs them: the binaries, driven through `std::process`
//! (help, bad flags, limits, resuming, Ctrl-C, a closed pipe, what they print).

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// Builds the examples once per test run, in this test's profile (cargo rebuilds only
/// what changed; `cargo test --test examples` alone would otherwise run stale or
/// missing binaries), and returns the path of `name`.
fn example(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
    BUILT.get_or_init(|| {
        let mut cargo = Command::new(env!("CARGO"));
        cargo
            .args(["build", "--quiet", "--examples"])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            cargo.arg("--release");
        }
        assert!(
            cargo.status().unwrap().success(),
            "building the examples failed"
        );
    });
    profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

fn run_in(name: &str, args: &[&str], tmp: &Path) -> Output {
    Command::new(example(name))
        .args(args)
        .env("TMPDIR", tmp)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// No panic, no Debug structure (`Foo { .. }`, `Some(..)`, `ParseIntError`).
fn assert_plain(output: &str) {
    assert!(!output.contains("panicked"), "{output}");
    for debug in ["Some(", "None,", " { ", "ParseIntError", "Error {"] {
        assert!(
            !output.contains(debug),
            "Debug output {debug:?} in:\n{output}"
        );
    }
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn help_exits_zero_on_stdout_with_defaults_and_limits() {
    let tmp = tempfile::tempdir().unwrap();
    for flag in ["--help", "-h"] {
        let o = run_in("reissue_batch", &[flag], tmp.path());
        assert!(o.status.success(), "{flag}: {:?}", o.status);
        let help = text(&o.stdout);
        for expected in [
            "--count",
            "[default: 47000]",
            "1048576",
            "--db",
            "SECRET",
            "--seed",
            "[default: 1]",
            "--json",
            "cargo run --release --example reissue_batch -- --count 1000",
            "130",
        ] {
            assert!(
                help.contains(expected),
                "{flag} lacks {expected:?}:\n{help}"
            );
        }
    }
    for (name, expected) in [
        ("door_controller", "[default: 1]"),
        ("quickstart", "--json"),
        ("gen_vectors", "--write"),
    ] {
        let o = run_in(name, &["--help"], tmp.path());
        assert!(o.status.success(), "{name} --help: {:?}", o.status);
        assert!(text(&o.stdout).contains(expected), "{name}");
    }
    let gen_help = text(&run_in("gen_vectors", &["--help"], tmp.path()).stdout);
    assert!(gen_help.contains("--out <DIR>"), "{gen_help}");
}

#[test]
fn unknown_flags_and_bad_values_are_refused_in_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    for name in [
        "reissue_batch",
        "door_controller",
        "quickstart",
        "gen_vectors",
    ] {
        let o = run_in(name, &["--bogus"], tmp.path());
        assert_eq!(o.status.code(), Some(2), "{name} --bogus");
        assert!(text(&o.stderr).contains("--bogus"), "{name}");
        assert!(o.stdout.is_empty(), "{name} printed {}", text(&o.stdout));
    }
    for name in ["reissue_batch", "door_controller"] {
        let o = run_in(name, &["--seed", "abc"], tmp.path());
        assert_eq!(o.status.code(), Some(2), "{name} --seed abc");
        let err = text(&o.stderr);
        let first = err.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("error:") && first.contains("--seed") && first.contains("abc"),
            "{err}"
        );
        assert_plain(&err);
    }
}

#[test]
fn a_count_above_the_card_limit_is_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("r.sqlite");
    let o = run_in(
        "reissue_batch",
        &["--count", "10000000", "--db", db.to_str().unwrap()],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.contains("1048576"), "names the real limit: {err}");
    assert!(!err.contains("67108864"), "{err}");
    assert!(
        files_in(tmp.path()).is_empty(),
        "{:?}",
        files_in(tmp.path())
    );
}

#[test]
fn resuming_with_other_flags_is_refused_with_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("r.sqlite");
    let db = db.to_str().unwrap();
    let o = run_in("reissue_batch", &["--count", "60", "--db", db], tmp.path());
    assert!(o.status.success(), "{}", text(&o.stderr));
    let first = text(&o.stdout);
    assert_plain(&first);
    assert!(
        first.contains("60 of 60 replacement cards admitted"),
        "{first}"
    );
    for other in [
        ["--count", "40", "--seed", "1"],
        ["--count", "60", "--seed", "2"],
    ] {
        let mut args = vec!["--db", db];
        args.extend(other);
        let o = run_in("reissue_batch", &args, tmp.path());
        assert_eq!(o.status.code(), Some(1), "{other:?}");
        let err = text(&o.stderr);
        assert!(
            err.contains("was started with --count 60 --seed 1")
                && err.contains("run it with those"),
            "{err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    // The same flags re-check the finished run; nothing was changed by the refusals.
    let o = run_in("reissue_batch", &["--count", "60", "--db", db], tmp.path());
    assert!(o.status.success(), "{}", text(&o.stderr));
    let again = text(&o.stdout);
    assert!(again.contains("already handled"), "{again}");
    assert!(again.contains("120 issued, 60 active"), "{again}");
}

#[test]
fn a_run_without_db_keeps_nothing_and_prints_no_dead_path() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run_in("reissue_batch", &["--count", "30"], tmp.path());
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert_plain(&out);
    assert!(out.contains("not kept without --db"), "{out}");
    assert!(
        !out.contains(tmp.path().to_str().unwrap()),
        "no path into the deleted folder: {out}"
    );
    assert!(
        out.contains("serial,card_type,name,rank,photo_ref,card_public_key"),
        "{out}"
    );
    assert!(
        files_in(tmp.path()).is_empty(),
        "{:?}",
        files_in(tmp.path())
    );
}

/// Sends SIGINT (Ctrl-C) to a running child.
fn interrupt(child: &std::process::Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn ctrl_c_stops_after_the_chunk_in_flight_and_says_how_to_resume() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("r.sqlite");
    let db = db.to_str().unwrap();
    let args = ["--count", "20000", "--db", db];
    let child = Command::new(example("reissue_batch"))
        .args(args)
        .env("TMPDIR", tmp.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    interrupt(&child);
    let o = child.wait_with_output().unwrap();
    let err = text(&o.stderr);
    assert_plain(&err);
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert!(
        err.contains("to resume, run the same command again"),
        "{err}"
    );
    assert!(
        err.contains(&format!("--db {db} --count 20000 --seed 1")),
        "{err}"
    );
    // Running it again resumes and finishes.
    let o = run_in("reissue_batch", &args, tmp.path());
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("(resumed)"), "{out}");
    assert!(out.contains("40000 issued, 20000 active"), "{out}");
}

#[test]
fn ctrl_c_without_db_deletes_the_temporary_registry_and_its_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let child = Command::new(example("reissue_batch"))
        .args(["--count", "20000"])
        .env("TMPDIR", tmp.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    interrupt(&child);
    let o = child.wait_with_output().unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert!(err.contains("temporary folder, now deleted"), "{err}");
    assert!(err.contains("--db"), "{err}");
    assert!(
        files_in(tmp.path()).is_empty(),
        "{:?}",
        files_in(tmp.path())
    );
}

#[test]
fn a_closed_pipe_stops_the_examples_quietly() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, args) in [
        ("reissue_batch", vec!["--count", "30"]),
        ("door_controller", vec![]),
        ("quickstart", vec![]),
    ] {
        let mut child = Command::new(example(name))
            .args(&args)
            .env("TMPDIR", tmp.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away at once, as `| head -0` would.
        drop(child.stdout.take());
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(!err.contains("panicked"), "{name}: {err}");
        assert!(status.success(), "{name}: {status:?} {err}");
    }
    assert!(
        files_in(tmp.path()).is_empty(),
        "{:?}",
        files_in(tmp.path())
    );
}

#[test]
fn door_controller_prints_words_not_debug_structures() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run_in("door_controller", &["--seed", "3"], tmp.path());
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert_plain(&out);
    assert!(!out.contains("VettingRequirement"), "{out}");
    assert!(out.contains("vetting: force vetting MV or above"), "{out}");
    let reasons: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("denials by reason"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .collect();
    assert!(!reasons.is_empty(), "{out}");
    assert!(
        reasons
            .iter()
            .all(|l| l.split_whitespace().next() != Some("admitted")),
        "admitted is not a denial: {reasons:?}"
    );
}

#[test]
fn gen_vectors_never_touches_the_source_tree_unless_told_to() {
    let tmp = tempfile::tempdir().unwrap();
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let before: Vec<(String, Vec<u8>)> = files_in(&vectors)
        .into_iter()
        .map(|n| {
            let bytes = std::fs::read(vectors.join(&n)).unwrap_or_default();
            (n, bytes)
        })
        .collect();
    let o = run_in("gen_vectors", &[], tmp.path());
    assert_eq!(o.status.code(), Some(2), "no target given");
    assert!(text(&o.stderr).contains("--write"), "{}", text(&o.stderr));
    let out = tmp.path().join("out");
    let o = run_in("gen_vectors", &["--out", out.to_str().unwrap()], tmp.path());
    assert!(o.status.success(), "{}", text(&o.stderr));
    let written = files_in(&out.join("tests/vectors"));
    assert!(!written.is_empty());
    // What --out wrote is what is committed, and the checkout is untouched.
    for (name, bytes) in &before {
        if name.ends_with(".json") {
            assert_eq!(
                &std::fs::read(out.join("tests/vectors").join(name)).unwrap(),
                bytes,
                "{name}"
            );
        }
    }
    let after: Vec<(String, Vec<u8>)> = files_in(&vectors)
        .into_iter()
        .map(|n| {
            let bytes = std::fs::read(vectors.join(&n)).unwrap_or_default();
            (n, bytes)
        })
        .collect();
    assert_eq!(before, after);
}
