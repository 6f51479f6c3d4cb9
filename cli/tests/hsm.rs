//! The breach story with every issuer key in a token, through the binary only: the
//! root in one SoftHSM token folder (the offline machine), the signing keys in another
//! (the office), the ceremony between them; then the faults an operator meets (a wrong
//! PIN, no such token or key, a file that is not a PKCS#11 module, the token gone
//! before a reissue), each one line naming the token and the key and never the PIN.
//!
//! Run under `scripts/with-softhsm` with `--features pkcs11`. Under CI (`CI` set, or
//! `REVOCARD_REQUIRE_SOFTHSM=1`) a build without the feature, or a machine without
//! SoftHSM, FAILS; elsewhere the tests say SKIPPED.

mod common;

use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Office, Run, roster};

const ROOT_PIN: &str = "root-pin-0815";
const OFFICE_PIN: &str = "office-pin-4711";
const SO_PIN: &str = "so-pin-93120";
const ROOT_URI: &str = "pkcs11:token=root;object=root";

fn required() -> bool {
    std::env::var_os("CI").is_some()
        || std::env::var("REVOCARD_REQUIRE_SOFTHSM").is_ok_and(|v| v == "1")
}

/// SoftHSM's module, or `None` (SKIPPED) where it is missing and may be.
fn softhsm() -> Option<PathBuf> {
    if !cfg!(feature = "pkcs11") {
        assert!(
            !required(),
            "the HSM tests must run here: build with --features revocard-cli/pkcs11"
        );
        eprintln!("SKIPPED: built without the pkcs11 feature");
        return None;
    }
    let module = std::env::var_os("REVOCARD_PKCS11_MODULE")
        .map(PathBuf::from)
        .into_iter()
        .chain(
            [
                "/usr/lib/softhsm/libsofthsm2.so",
                "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
            ]
            .map(PathBuf::from),
        )
        .find(|p| p.exists());
    let util = Command::new("softhsm2-util")
        .arg("--version")
        .output()
        .is_ok();
    match module {
        Some(m) if util => Some(m),
        _ => {
            assert!(
                !required(),
                "no SoftHSM module or softhsm2-util: run under scripts/with-softhsm"
            );
            eprintln!("SKIPPED: no SoftHSM (run under scripts/with-softhsm)");
            None
        }
    }
}

/// One machine: a folder with its own SoftHSM token folder (`SOFTHSM2_CONF`), its own
/// PIN file, and (for the office) a registry.
struct Machine {
    office: Office,
    module: PathBuf,
    /// Everything this machine printed, to check no PIN was ever shown.
    printed: std::cell::RefCell<String>,
}

impl Machine {
    fn new(module: &Path, token: &str, pin: &str) -> Self {
        let office = Office::new();
        let tokens = office.path("tokens");
        std::fs::create_dir_all(&tokens).unwrap_or_else(|e| panic!("{e}"));
        office.write(
            "softhsm2.conf",
            &format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        );
        let machine = Self {
            office,
            module: module.to_path_buf(),
            printed: std::cell::RefCell::new(String::new()),
        };
        machine.init_token(token, pin);
        machine.pin_file("pin", pin);
        machine
    }

    fn conf(&self) -> PathBuf {
        self.office.path("softhsm2.conf")
    }

    fn init_token(&self, label: &str, pin: &str) {
        let out = Command::new("softhsm2-util")
            .args([
                "--init-token",
                "--free",
                "--label",
                label,
                "--pin",
                pin,
                "--so-pin",
                SO_PIN,
            ])
            .env("SOFTHSM2_CONF", self.conf())
            .output()
            .unwrap_or_else(|e| panic!("softhsm2-util: {e}"));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A PIN file of this machine (mode 0600).
    fn pin_file(&self, name: &str, pin: &str) -> PathBuf {
        let p = self.office.write(name, &format!("{pin}\n"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))
                .unwrap_or_else(|e| panic!("{e}"));
        }
        p
    }

    fn path(&self, name: &str) -> String {
        self.office.path(name).to_string_lossy().into_owned()
    }

    /// `revocard root init` of the `metro-police` root in `ROOT_URI`, its anchor written
    /// to `out` in this machine's folder.
    fn root_init(&self, out: &str) -> Vec<String> {
        let out = self.path(out);
        [
            "root",
            "init",
            "--issuer",
            "metro-police",
            "--hsm",
            ROOT_URI,
            "--out",
            &out,
        ]
        .map(str::to_owned)
        .to_vec()
    }

    /// `revocard ARGS` on this machine, the PIN from its PIN file.
    fn run(&self, args: &[impl AsRef<OsStr>]) -> Run {
        self.run_with(args, &[("REVOCARD_PIN_FILE", &self.path("pin"))])
    }

    fn run_with(&self, args: &[impl AsRef<OsStr>], env: &[(&str, &str)]) -> Run {
        let output = self
            .command(args, env)
            .output()
            .unwrap_or_else(|e| panic!("running revocard: {e}"));
        self.record(Run { output })
    }

    /// Keeps what a run printed, to check no PIN was ever shown.
    fn record(&self, run: Run) -> Run {
        let mut printed = self.printed.borrow_mut();
        printed.push_str(&run.stdout());
        printed.push_str(&run.stderr());
        drop(printed);
        run
    }

    /// `revocard ARGS` on this machine, not started yet.
    fn command(&self, args: &[impl AsRef<OsStr>], env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_revocard"));
        cmd.args(args)
            .env("REVOCARD_DB", self.office.db())
            .env("SOFTHSM2_CONF", self.conf())
            .env("REVOCARD_PKCS11_MODULE", &self.module)
            .env_remove("REVOCARD_KEYS")
            .env_remove("REVOCARD_PIN")
            .env_remove("REVOCARD_PIN_FILE")
            .env_remove("REVOCARD_LIST_LIFETIME")
            .current_dir(self.office.dir.path());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Panics if this machine ever printed a PIN.
    fn never_printed_a_pin(&self) {
        let printed = self.printed.borrow();
        for pin in [ROOT_PIN, OFFICE_PIN, SO_PIN, "wrong-pin-1234"] {
            assert!(!printed.contains(pin), "a PIN was printed: {printed}");
        }
    }
}

/// Every file under `dir` (the token folder left out: the token's own store).
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != "tokens") {
                    todo.push(p);
                }
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// The public keys of every key the tokens hold: the root's (from its anchor) and the
/// signing keys' (from the office's records).
fn token_public_keys(machines: &[&Machine]) -> Vec<[u8; 32]> {
    let mut keys = Vec::new();
    for m in machines {
        for p in files(m.office.dir.path()) {
            let name = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            if name == "root.anchor" {
                let bytes = std::fs::read(&p).unwrap_or_default();
                let root = revocard::RootPublicKey::from_bytes(&bytes)
                    .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                keys.push(root.public_key_bytes());
            }
            if name.ends_with(".pkcs11") {
                let text = std::fs::read_to_string(&p).unwrap_or_default();
                let hex = text.split_whitespace().nth(6).unwrap_or_default();
                keys.push(unhex32(hex).unwrap_or_else(|| panic!("{}", p.display())));
            }
        }
    }
    keys
}

fn unhex32(hex: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if hex.len() != 64 {
        return None;
    }
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Whether the file holds, raw at any offset or as 64 hex digits, the secret of a key
/// whose Ed25519 public key is in `publics`.
fn holds_secret(path: &Path, publics: &[[u8; 32]]) -> bool {
    let is_secret = |candidate: &[u8; 32]| {
        let public = revocard::issue::CardKey::from_secret_bytes(candidate)
            .public()
            .0;
        publics.contains(&public)
    };
    let bytes = std::fs::read(path).unwrap_or_default();
    let raw = bytes.windows(32).any(|window| {
        let mut candidate = [0u8; 32];
        candidate.copy_from_slice(window);
        is_secret(&candidate)
    });
    raw || String::from_utf8_lossy(&bytes)
        .split(|c: char| !c.is_ascii_hexdigit())
        .filter_map(unhex32)
        .any(|candidate| is_secret(&candidate))
}

/// No key file and no secret anywhere on the machines: no `*.key` file, nothing in
/// revocard's key file format, and no 32 bytes (raw at any offset, or as 64 hex digits)
/// that are the secret of a key the tokens hold (its public key derived and compared).
fn no_secret_anywhere(machines: &[&Machine]) {
    let publics = token_public_keys(machines);
    assert!(
        publics.len() >= 3,
        "root and two signing keys: {}",
        publics.len()
    );
    // The scan can fail: a known secret hidden in a file, raw at an odd offset and in
    // hex, is found.
    let control = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let secret = [7u8; 32];
    let public = revocard::issue::CardKey::from_secret_bytes(&secret)
        .public()
        .0;
    let raw = control.path().join("raw");
    std::fs::write(&raw, [&b"x"[..], &secret, b"y"].concat()).unwrap_or_else(|e| panic!("{e}"));
    let hex = control.path().join("hex");
    std::fs::write(&hex, format!("k={}\n", "07".repeat(32))).unwrap_or_else(|e| panic!("{e}"));
    assert!(holds_secret(&raw, &[public]) && holds_secret(&hex, &[public]));
    for m in machines {
        for p in files(m.office.dir.path()) {
            let name = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            assert!(!name.ends_with(".key"), "a key file: {}", p.display());
            let bytes = std::fs::read(&p).unwrap_or_default();
            assert!(
                !bytes.starts_with(b"revocard-key"),
                "a key file: {}",
                p.display()
            );
            assert!(
                !holds_secret(&p, &publics),
                "a token key's secret in {}",
                p.display()
            );
        }
    }
}

/// The token protects the key: it cannot leave, and never could.
fn protected(attributes: &serde_json::Value) {
    assert_eq!(attributes["extractable"], false, "{attributes}");
    assert_eq!(attributes["sensitive"], true, "{attributes}");
    assert_eq!(attributes["never_extractable"], true, "{attributes}");
    assert_eq!(attributes["local"], true, "{attributes}");
}

/// A supplier's blank cards (software stand-ins), made in a folder of its own.
struct Supplier {
    dir: tempfile::TempDir,
}

impl Supplier {
    fn new(office: &Machine, n: usize) -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let out = dir.path().join("blanks");
        office
            .run(&[
                "simulate-blanks",
                "--count",
                &n.to_string(),
                "--out",
                &out.to_string_lossy(),
            ])
            .ok();
        Self { dir }
    }

    fn csv(&self) -> String {
        self.dir
            .path()
            .join("blanks/blanks.csv")
            .to_string_lossy()
            .into_owned()
    }

    fn secret_file(&self, public: &str) -> String {
        self.dir
            .path()
            .join(format!("blanks/secrets/{public}.key"))
            .to_string_lossy()
            .into_owned()
    }
}

fn first_row(path: &str) -> HashMap<String, String> {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{e}"));
    let headers = reader.headers().unwrap_or_else(|e| panic!("{e}")).clone();
    let row = reader
        .records()
        .next()
        .unwrap_or_else(|| panic!("{path} is empty"))
        .unwrap_or_else(|e| panic!("{e}"));
    headers
        .iter()
        .map(str::to_owned)
        .zip(row.iter().map(str::to_owned))
        .collect()
}

/// A door's verdict on the first card of `batch`, its chip answering from `supplier`.
fn verdict(office: &Machine, batch: &str, supplier: &Supplier) -> Run {
    let creds = office.path(&format!("credentials-{batch}.csv"));
    office
        .run(&["credentials", "--batch", batch, "--out", &creds, "--force"])
        .ok();
    let card = first_row(&creds);
    let card_file = office
        .office
        .write(&format!("card-{batch}.txt"), &card["credential"]);
    office.run(&[
        "verify",
        "--anchor",
        &office.path("trust-anchor.rca"),
        "--list",
        &office.path("published"),
        &card_file.to_string_lossy(),
        "--card-key",
        &supplier.secret_file(&card["card_public_key"]),
        "--json",
    ])
}

/// The root ceremony: the offline machine signs `draft` (a path on the office
/// machine), the office installs it.
fn ceremony(offline: &Machine, office: &Machine, draft: &str, name: &str) -> serde_json::Value {
    let signed = offline
        .run(&[
            "keyset",
            "sign",
            draft,
            "--root",
            ROOT_URI,
            "--anchor",
            &offline.path("root.anchor"),
            "--out",
            &offline.path(name),
            "--yes",
            "--json",
        ])
        .ok()
        .json();
    protected(&signed["root_attributes"]);
    assert!(!offline.office.db().exists(), "keyset sign made a registry");
    office.run(&["keyset", "install", &offline.path(name)]).ok();
    signed
}

#[test]
fn the_breach_story_runs_with_the_root_and_the_signing_keys_in_two_tokens() {
    let Some(module) = softhsm() else { return };
    let n = 12;
    let offline = Machine::new(&module, "root", ROOT_PIN);
    let office = Machine::new(&module, "office", OFFICE_PIN);

    // Offline: the root is born in its token; only its anchor leaves.
    let root = offline
        .run(&[offline.root_init("root.anchor"), vec!["--json".to_owned()]].concat())
        .ok()
        .json();
    protected(&root["attributes"]);

    // The office: the signing key born in its token, the first draft, no registry yet.
    let init = office
        .run(&[
            "init",
            "--issuer",
            "metro-police",
            "--hsm",
            "pkcs11:token=office;object=signing-1",
            "--root-anchor",
            &offline.path("root.anchor"),
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(init["pending"], true);
    protected(&init["signing_key_attributes"]);
    let first_key = init["signing_key_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!office.office.db().exists());
    let signed = ceremony(
        &offline,
        &office,
        &office.path("keyset-1.draft"),
        "keyset-1.signed",
    );
    assert_eq!(signed["set"]["certify"][0]["key_id"], first_key.as_str());

    // Issue, publish: a card opens the door.
    office.office.write("staff.csv", &roster(n));
    office.run(&["roster", "sync", "staff.csv", "--apply"]).ok();
    let northgate = Supplier::new(&office, n);
    let issued = office
        .run(&[
            "issue",
            "--supplier",
            "northgate-print",
            "--cards",
            &northgate.csv(),
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(issued["issued_now"], n);
    office
        .run(&["publish", "--out", &office.path("published")])
        .ok();
    assert_eq!(
        verdict(&office, "1", &northgate).ok().json()["decision"],
        "admit"
    );

    // The breach: declare, reissue through another supplier, publish.
    office
        .run(&[
            "incident",
            "declare",
            "--supplier",
            "northgate-print",
            "--reissue-via",
            "southgate-print",
        ])
        .ok();
    let southgate = Supplier::new(&office, n);
    let reissued = office
        .run(&[
            "incident",
            "reissue",
            "--supplier",
            "southgate-print",
            "--cards",
            &southgate.csv(),
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(reissued["reissued_now"], n);
    office
        .run(&["publish", "--out", &office.path("published")])
        .ok();
    let denied = verdict(&office, "1", &northgate).exits(1).json();
    assert_eq!(denied["decision"], "deny");
    assert_eq!(
        verdict(&office, "2", &southgate).ok().json()["decision"],
        "admit"
    );

    // Rotation through the ceremony: the new key born in the office token.
    let rotated = office
        .run(&[
            "key",
            "rotate",
            "--hsm",
            "pkcs11:token=office;object=signing-2",
            "--json",
        ])
        .ok()
        .json();
    protected(&rotated["attributes"]);
    let draft = rotated["draft"].as_str().unwrap_or_default().to_owned();
    ceremony(&offline, &office, &draft, "keyset-2.signed");
    let listed = office
        .run(&["key", "list", "--attributes", "--json"])
        .ok()
        .json();
    let keys = listed["keys"].as_array().cloned().unwrap_or_default();
    assert_eq!(keys.len(), 2, "{listed}");
    for k in &keys {
        assert!(
            k["uri"]
                .as_str()
                .unwrap_or_default()
                .starts_with("pkcs11:token=office"),
            "{k}"
        );
        protected(&k["attributes"]);
    }
    // The office signs with the new key now: a revocation publishes a list.
    office
        .run(&[
            "revoke",
            "--pay-number",
            "1000001",
            "--reason",
            "left-service",
        ])
        .ok();
    office.run(&["audit", "verify"]).ok();

    no_secret_anywhere(&[&offline, &office]);
    offline.never_printed_a_pin();
    office.never_printed_a_pin();
}

/// One line on stderr naming `names`, no PIN.
fn one_line(run: &Run, names: &[&str]) {
    let err = run.stderr();
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    for n in names {
        assert!(err.contains(n), "{n} not named: {err}");
    }
}

#[test]
fn a_wrong_pin_no_token_no_key_or_not_a_module_is_one_line_and_leaves_nothing() {
    let Some(module) = softhsm() else { return };
    let office = Machine::new(&module, "office", OFFICE_PIN);
    let wrong = office.pin_file("wrong-pin", "wrong-pin-1234");
    let wrong = wrong.to_string_lossy();
    let init = |uri: &str, env: &[(&str, &str)]| {
        office.run_with(&["init", "--issuer", "metro-police", "--hsm", uri], env)
    };
    let nothing_written = || {
        assert!(!office.office.db().exists());
        assert!(!office.office.path("keys").exists());
        assert!(!office.office.path("trust-anchor.rca").exists());
    };

    // A wrong PIN: refused (1), the token named, nothing written.
    let run = init(
        "pkcs11:token=office;object=signing-1",
        &[("REVOCARD_PIN_FILE", &wrong)],
    )
    .exits(1);
    one_line(&run, &["office", "PIN"]);
    nothing_written();
    // The PIN from the environment works the same way.
    let run = init(
        "pkcs11:token=office;object=signing-1",
        &[("REVOCARD_PIN", "wrong-pin-1234")],
    )
    .exits(1);
    one_line(&run, &["office"]);
    // No such token: the environment (2).
    let run = init(
        "pkcs11:token=nowhere;object=signing-1",
        &[("REVOCARD_PIN", OFFICE_PIN)],
    )
    .exits(2);
    one_line(&run, &["nowhere"]);
    nothing_written();
    // A file that is not a PKCS#11 module: the environment (2), the path named.
    let not_a_module = office.office.write("not-a-module.so", "just text\n");
    let run = init(
        "pkcs11:token=office;object=signing-1",
        &[
            ("REVOCARD_PKCS11_MODULE", &not_a_module.to_string_lossy()),
            ("REVOCARD_PIN", OFFICE_PIN),
        ],
    )
    .exits(2);
    one_line(&run, &["not-a-module.so"]);
    nothing_written();
    // A PIN in the URI is refused before anything is asked.
    let run = init("pkcs11:token=office;object=signing-1?pin-value=1234", &[]).exits(1);
    one_line(&run, &["PIN"]);
    nothing_written();

    // No such key at the offline machine: the token and the key named.
    let root = office.run(&office.root_init("root.anchor")).exits(2);
    one_line(&root, &["root"]);
    office.init_token("root", ROOT_PIN);
    office
        .run_with(
            &office.root_init("root.anchor"),
            &[("REVOCARD_PIN", ROOT_PIN)],
        )
        .ok();
    // The same object again: never overwritten.
    let again = office
        .run_with(
            &office.root_init("root-2.anchor"),
            &[("REVOCARD_PIN", ROOT_PIN)],
        )
        .exits(1);
    one_line(&again, &["root"]);
    office
        .run(&[
            "init",
            "--issuer",
            "metro-police",
            "--hsm",
            "pkcs11:token=office;object=signing-1",
            "--root-anchor",
            &office.path("root.anchor"),
        ])
        .ok();
    let sign = office
        .run_with(
            &[
                "keyset",
                "sign",
                &office.path("keyset-1.draft"),
                "--root",
                "pkcs11:token=root;object=no-such-key",
                "--anchor",
                &office.path("root.anchor"),
                "--out",
                &office.path("keyset-1.signed"),
                "--yes",
            ],
            &[("REVOCARD_PIN", ROOT_PIN)],
        )
        .exits(1);
    one_line(&sign, &["root", "no-such-key"]);
    assert!(!office.office.path("keyset-1.signed").exists());
    // The office's signing key is not a root: its public key is not the anchor's.
    let sign = office
        .run(&[
            "keyset",
            "sign",
            &office.path("keyset-1.draft"),
            "--root",
            "pkcs11:token=office;object=signing-1",
            "--anchor",
            &office.path("root.anchor"),
            "--out",
            &office.path("keyset-1.signed"),
            "--yes",
        ])
        .exits(1);
    one_line(&sign, &["signing-1"]);
    office.never_printed_a_pin();
}

/// A supplier's blank-card report of `n` chips (public keys only: no card here needs
/// to answer a door).
fn blank_report(office: &Machine, name: &str, n: usize, seed: u64) -> String {
    use rand::{Rng as _, SeedableRng as _};
    use std::fmt::Write as _;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
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
        .office
        .write(&format!("{name}.csv"), &csv)
        .to_string_lossy()
        .into_owned()
}

/// Takes the token away (its folder moved), as if unplugged.
fn unplug(office: &Machine) {
    std::fs::rename(
        office.office.path("tokens"),
        office.office.path("tokens-away"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    std::fs::create_dir_all(office.office.path("tokens")).unwrap_or_else(|e| panic!("{e}"));
}

fn plug_back(office: &Machine) {
    std::fs::remove_dir(office.office.path("tokens")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::rename(
        office.office.path("tokens-away"),
        office.office.path("tokens"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
}

fn active(office: &Machine) -> u64 {
    office.run(&["summary", "--json"]).ok().json()["active"]
        .as_u64()
        .unwrap_or_default()
}

#[test]
fn a_reissue_stopped_by_the_token_going_away_resumes_when_it_is_back() {
    let Some(module) = softhsm() else { return };
    // Two of the registry's chunks (4096 cards), so that the token can go away once
    // the first is committed and before the second is.
    let n = 7_000;
    let office = Machine::new(&module, "office", OFFICE_PIN);
    office
        .run(&[
            "init",
            "--issuer",
            "metro-police",
            "--hsm",
            "pkcs11:token=office;object=signing-1",
        ])
        .ok();
    office.office.write("staff.csv", &roster(n));
    office.run(&["roster", "sync", "staff.csv", "--apply"]).ok();
    let northgate = blank_report(&office, "northgate", n, 1);
    office
        .run(&[
            "issue",
            "--supplier",
            "northgate-print",
            "--cards",
            &northgate,
        ])
        .ok();
    office
        .run(&[
            "incident",
            "declare",
            "--supplier",
            "northgate-print",
            "--reissue-via",
            "southgate-print",
        ])
        .ok();
    let cards = blank_report(&office, "southgate", n, 2);
    let reissue = [
        "incident",
        "reissue",
        "--supplier",
        "southgate-print",
        "--cards",
        &cards,
        "--json",
    ];

    // Gone before the reissue starts: one line naming the token, nothing signed.
    unplug(&office);
    let stopped = office.run(&reissue).exits(2);
    assert_eq!(stopped.json()["error"], "no_token", "{}", stopped.stdout());
    assert!(stopped.stdout().contains("office"), "{}", stopped.stdout());
    assert_eq!(active(&office), 0);
    plug_back(&office);

    // Gone in the middle: the chunks committed are kept, the run stops (exit 3) naming
    // the token and the key.
    let pin = office.path("pin");
    let child = office
        .command(&reissue, &[("REVOCARD_PIN_FILE", &pin)])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    while active(&office) == 0 {
        assert!(std::time::Instant::now() < deadline, "no chunk committed");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    unplug(&office);
    let stopped = office.record(Run {
        output: child.wait_with_output().unwrap_or_else(|e| panic!("{e}")),
    });
    let stopped = stopped.exits(3);
    let error = stopped.json();
    assert_eq!(error["error"], "token_failed", "{error}");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("office") && message.contains("signing-1"),
        "{message}"
    );
    assert_eq!(
        stopped.stderr().trim_end().lines().count(),
        1,
        "{}",
        stopped.stderr()
    );
    let part = active(&office);
    assert!(part > 0 && part < n as u64, "{part} of {n}");

    // Back: the same command finishes the job, every holder reissued exactly once.
    plug_back(&office);
    let done = office.run(&reissue).ok().json();
    assert_eq!(done["finished"], true);
    assert_eq!(active(&office), n as u64);
    office.run(&["audit", "verify"]).ok();
    office.never_printed_a_pin();
}

/// Not a test on its own: run as a child of this test binary by
/// [`make_bad_keys`] (`REVOCARD_HELPER_TOKEN` set, `SOFTHSM2_CONF` naming the
/// machine's token folder), it makes keys revocard would never make in the token: an
/// ECDSA P-256 pair `p256`, an Ed25519 pair `no-sign` whose private key may not sign,
/// and an extractable Ed25519 pair `extractable`.
#[test]
fn helper_makes_keys_revocard_would_never_make() {
    use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
    use cryptoki::mechanism::Mechanism;
    use cryptoki::object::Attribute;
    use cryptoki::session::UserType;
    use cryptoki::types::AuthPin;
    let Ok(label) = std::env::var("REVOCARD_HELPER_TOKEN") else {
        return;
    };
    let module = std::env::var_os("REVOCARD_PKCS11_MODULE").unwrap_or_default();
    let ctx = Pkcs11::new(PathBuf::from(module)).unwrap_or_else(|e| panic!("{e}"));
    ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .unwrap_or_else(|e| panic!("{e}"));
    let slot = ctx
        .get_slots_with_token()
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .find(|s| ctx.get_token_info(*s).is_ok_and(|t| t.label() == label))
        .unwrap_or_else(|| panic!("no token {label}"));
    let session = ctx.open_rw_session(slot).unwrap_or_else(|e| panic!("{e}"));
    session
        .login(UserType::User, Some(&AuthPin::new(OFFICE_PIN.into())))
        .unwrap_or_else(|e| panic!("{e}"));
    let p256 = vec![0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    let ed25519 = vec![0x06, 0x03, 0x2b, 0x65, 0x70];
    let keys = [
        ("p256", Mechanism::EccKeyPairGen, p256, true, false),
        (
            "no-sign",
            Mechanism::EccEdwardsKeyPairGen,
            ed25519.clone(),
            false,
            false,
        ),
        (
            "extractable",
            Mechanism::EccEdwardsKeyPairGen,
            ed25519,
            true,
            true,
        ),
    ];
    for (name, mechanism, params, sign, extractable) in keys {
        let label = name.as_bytes().to_vec();
        session
            .generate_key_pair(
                &mechanism,
                &[
                    Attribute::Token(true),
                    Attribute::EcParams(params),
                    Attribute::Verify(true),
                    Attribute::Label(label.clone()),
                ],
                &[
                    Attribute::Token(true),
                    Attribute::Private(true),
                    Attribute::Sensitive(!extractable),
                    Attribute::Extractable(extractable),
                    Attribute::Sign(sign),
                    Attribute::Label(label),
                ],
            )
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

/// Runs [`helper_makes_keys_revocard_would_never_make`] for the token `label` of
/// `machine`, in a child process (SoftHSM reads its folder once per process).
fn make_bad_keys(machine: &Machine, label: &str) {
    let out = Command::new(std::env::current_exe().unwrap_or_else(|e| panic!("{e}")))
        .args([
            "helper_makes_keys_revocard_would_never_make",
            "--exact",
            "--nocapture",
        ])
        .env("REVOCARD_HELPER_TOKEN", label)
        .env("SOFTHSM2_CONF", machine.conf())
        .env("REVOCARD_PKCS11_MODULE", &machine.module)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_key_of_another_type_one_that_may_not_sign_or_one_that_can_leave_is_refused() {
    let Some(module) = softhsm() else { return };
    let office = Machine::new(&module, "office", OFFICE_PIN);
    make_bad_keys(&office, "office");
    // An offline root made in a file (trials) so that the office's keys can be named
    // at init without one being generated: each bad key offered as the root instead.
    office
        .run(&[
            "root",
            "init",
            "--issuer",
            "metro-police",
            "--key-file",
            &office.path("root.key"),
            "--out",
            &office.path("root.anchor"),
        ])
        .ok();
    office
        .run(&[
            "init",
            "--issuer",
            "metro-police",
            "--root-anchor",
            &office.path("root.anchor"),
        ])
        .ok();
    let sign_with = |object: &str, extra: &[&str]| {
        let root = format!("pkcs11:token=office;object={object}");
        let mut args = vec![
            "keyset",
            "sign",
            "keyset-1.draft",
            "--root",
            &root,
            "--anchor",
            "root.anchor",
            "--out",
            "keyset-1.signed",
            "--yes",
        ];
        args.extend_from_slice(extra);
        office.run(&args)
    };
    for (object, what) in [
        ("p256", "Ed25519"),
        ("no-sign", "CKA_SIGN"),
        ("extractable", "extract"),
    ] {
        let run = sign_with(object, &[]).exits(1);
        one_line(&run, &["office", object, what]);
        assert!(!office.office.path("keyset-1.signed").exists());
    }
    // An extractable key only when the operator says so; it is still not this root.
    let run = sign_with("extractable", &["--allow-extractable"]).exits(1);
    one_line(&run, &["extractable", "not the root"]);
    office.never_printed_a_pin();
}

#[test]
fn publish_on_a_schedule_opens_its_token_once() {
    use std::io::BufRead as _;
    let Some(module) = softhsm() else { return };
    let office = Machine::new(&module, "office", OFFICE_PIN);
    office
        .run(&[
            "init",
            "--issuer",
            "metro-police",
            "--hsm",
            "pkcs11:token=office;object=signing-1",
        ])
        .ok();
    let pin = office.pin_file("pin-once", OFFICE_PIN);
    let mut child = office
        .command(
            &[
                "publish",
                "--out",
                &office.path("published"),
                "--every",
                "1s",
                "--json",
            ],
            &[("REVOCARD_PIN_FILE", &pin.to_string_lossy())],
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut sequences = Vec::new();
    while sequences.len() < 3 {
        // A run that could not sign prints nothing on stdout (MISSED on stderr).
        let Ok(line) = rx.recv_timeout(std::time::Duration::from_secs(60)) else {
            let _ = child.kill();
            panic!(
                "no publication after {sequences:?}: the token was opened again, without its PIN"
            );
        };
        let v: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        sequences.push(v["sequence"].as_u64().unwrap_or_default());
        // The PIN is gone after the first run: the key stays open for the next ones.
        let _ = std::fs::remove_file(&pin);
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(sequences.windows(2).all(|w| w[0] < w[1]), "{sequences:?}");
}
