//! The root ceremony across two machines, with key files (for trials and tests; the
//! same commands with keys in tokens run in tests/hsm.rs): the root made offline, the
//! office drafting, the offline machine signing what it showed, the office installing.
//! Two temporary folders stand for the two machines.

mod common;

use std::path::Path;

use common::Office;

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// The offline machine: a folder with the root's key file and anchor, no registry.
struct Offline {
    machine: Office,
}

impl Offline {
    fn new(issuer: &str) -> Self {
        let machine = Office::new();
        machine
            .run(&[
                "root",
                "init",
                "--issuer",
                issuer,
                "--key-file",
                &s(&machine.path("root.key")),
                "--out",
                &s(&machine.path("root.anchor")),
            ])
            .ok();
        Self { machine }
    }

    fn anchor(&self) -> String {
        s(&self.machine.path("root.anchor"))
    }

    /// `keyset sign DRAFT --root root.key --yes`, the signed file written here.
    fn sign(&self, draft: &str, out: &str) -> common::Run {
        self.machine.run(&[
            "keyset",
            "sign",
            draft,
            "--root",
            &s(&self.machine.path("root.key")),
            "--anchor",
            &self.anchor(),
            "--out",
            &s(&self.machine.path(out)),
            "--yes",
            "--json",
        ])
    }
}

/// An office made with `init --root-anchor`: it holds the first draft and waits for
/// the offline root to sign it.
fn office_awaiting(offline: &Offline) -> Office {
    office_awaiting_with_init(offline).0
}

/// [`office_awaiting`], with what `init --json` said.
fn office_awaiting_with_init(offline: &Offline) -> (Office, serde_json::Value) {
    let office = Office::new();
    let init = office
        .run(&[
            "init",
            "--issuer",
            "metro-police",
            "--root-anchor",
            &offline.anchor(),
            "--json",
        ])
        .ok()
        .json();
    (office, init)
}

fn blanks(office: &Office, n: usize) -> String {
    office
        .run(&[
            "simulate-blanks",
            "--count",
            &n.to_string(),
            "--out",
            &s(&office.path("blanks")),
        ])
        .ok();
    s(&office.path("blanks/blanks.csv"))
}

#[test]
fn an_offline_root_certifies_and_revokes_the_office_keys_through_drafts() {
    let offline = Offline::new("metro-police");

    // The office: a signing key and the first draft, no registry until the root signs.
    let (office, init) = office_awaiting_with_init(&offline);
    assert_eq!(init["pending"], true);
    assert!(!office.db().exists(), "a registry before the root signed");
    assert!(
        !office.path("keys/root.key").exists(),
        "the root's secret in the office"
    );
    let first_key = init["signing_key_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(init["set"]["certify"][0]["key_id"], first_key.as_str());
    office.run(&["summary"]).exits(2);
    let draft = s(&office.path("keyset-1.draft"));

    // The offline machine shows and signs it; it has no registry and makes none.
    let signed = offline.sign(&draft, "keyset-1.signed").ok().json();
    assert_eq!(signed["set"]["sequence"], 1);
    assert_eq!(signed["set"]["certify"][0]["key_id"], first_key.as_str());
    assert!(
        !offline.machine.db().exists(),
        "keyset sign made a registry"
    );

    // Back in the office: the registry is created with the signed set; it can issue.
    let signed_1 = s(&offline.machine.path("keyset-1.signed"));
    let installed = office
        .run(&["keyset", "install", &signed_1, "--json"])
        .ok()
        .json();
    assert_eq!(installed["created"], true);
    assert!(!office.path("keys/pending-init.json").exists());
    office.sync_roster(8);
    let cards = blanks(&office, 8);
    office
        .run(&["issue", "--supplier", "northgate-print", "--cards", &cards])
        .ok();
    // The same signed set again is refused: the registry has it.
    office.run(&["keyset", "install", &signed_1]).exits(1);

    // Rotation through the ceremony: the new key waits uncertified.
    let rotated = office.run(&["key", "rotate", "--json"]).ok().json();
    let second_key = rotated["key_id"].as_str().unwrap_or_default().to_owned();
    let draft_2 = rotated["draft"].as_str().unwrap_or_default().to_owned();
    let listed = office.run(&["key", "list", "--json"]).ok().json();
    assert_eq!(listed["keys"].as_array().map(Vec::len), Some(1));
    offline.sign(&draft_2, "keyset-2.signed").ok();

    // A compromise drafted before the rotation is installed follows set 1: once set 2
    // is in, it is for another draft and is refused.
    let compromised = office
        .run(&[
            "key",
            "compromised",
            &first_key,
            "--out",
            "stale.draft",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(
        compromised["set"]["revoke"][0]["key_id"],
        first_key.as_str()
    );
    offline
        .sign(&s(&office.path("stale.draft")), "stale.signed")
        .ok();

    office
        .run(&[
            "keyset",
            "install",
            &s(&offline.machine.path("keyset-2.signed")),
        ])
        .ok();
    let run = office
        .run(&[
            "keyset",
            "install",
            &s(&offline.machine.path("stale.signed")),
        ])
        .exits(1);
    assert!(run.stderr().contains("another draft"), "{}", run.stderr());

    // The compromise again, after set 2: signed and installed, the key is revoked.
    let compromised = office
        .run(&["key", "compromised", &first_key, "--json"])
        .ok()
        .json();
    let draft_3 = compromised["draft"].as_str().unwrap_or_default().to_owned();
    let signed_3 = offline.sign(&draft_3, "keyset-3.signed").ok().json();
    assert_eq!(signed_3["set"]["revoke"][0]["key_id"], first_key.as_str());
    assert_eq!(signed_3["set"]["keep"][0], second_key.as_str());
    office
        .run(&[
            "keyset",
            "install",
            &s(&offline.machine.path("keyset-3.signed")),
        ])
        .ok();
    let listed = office.run(&["key", "list", "--json"]).ok().json();
    let keys = listed["keys"].as_array().cloned().unwrap_or_default();
    assert_eq!(listed["key_set"], 3);
    assert!(
        keys.iter()
            .any(|k| k["key_id"] == first_key.as_str() && k["revoked"] == true)
    );
    // The office signs with the new key: a revocation publishes a list.
    office
        .run(&[
            "incident",
            "declare",
            "--key",
            &first_key,
            "--reissue-via",
            "southgate-print",
        ])
        .ok();
    office.run(&["audit", "verify"]).ok();
}

#[test]
fn a_draft_edited_after_it_was_written_is_not_signed() {
    let offline = Offline::new("metro-police");
    let office = office_awaiting(&offline);
    let draft = office.path("keyset-1.draft");
    let text = std::fs::read_to_string(&draft).unwrap_or_default();
    // A window stretched by someone on the way: the digest no longer matches.
    let edited = text.replacen("\"credentials-and-lists\"", "\"credentials\"", 1);
    assert_ne!(edited, text);
    std::fs::write(&draft, edited).unwrap_or_else(|e| panic!("{e}"));
    let run = offline.sign(&s(&draft), "keyset-1.signed").exits(1);
    assert!(run.stdout().contains("bad_draft"), "{}", run.stdout());
    assert!(!offline.machine.path("keyset-1.signed").exists());
}

#[test]
fn a_root_refuses_a_draft_of_another_issuer() {
    let metro = Offline::new("metro-police");
    let county = Offline::new("county-police");
    let office = Office::new();
    office
        .run(&[
            "init",
            "--issuer",
            "metro-police",
            "--root-anchor",
            &metro.anchor(),
        ])
        .ok();
    let run = county
        .sign(&s(&office.path("keyset-1.draft")), "keyset-1.signed")
        .exits(1);
    assert!(run.stdout().contains("other_issuer"), "{}", run.stdout());
    assert!(!county.machine.path("keyset-1.signed").exists());
    // An init refuses a root anchor of another issuer, writing nothing.
    let other = Office::new();
    other
        .run(&[
            "init",
            "--issuer",
            "metro-police",
            "--root-anchor",
            &county.anchor(),
        ])
        .exits(1);
    assert!(!other.path("keys").exists());
}

#[test]
fn keyset_sign_asks_before_signing() {
    let offline = Offline::new("metro-police");
    let office = office_awaiting(&offline);
    // No terminal and no --yes: nothing is signed.
    let run = offline
        .machine
        .run(&[
            "keyset",
            "sign",
            &s(&office.path("keyset-1.draft")),
            "--root",
            &s(&offline.machine.path("root.key")),
            "--out",
            &s(&offline.machine.path("keyset-1.signed")),
        ])
        .exits(1);
    assert!(run.stderr().contains("--yes"), "{}", run.stderr());
    assert!(!offline.machine.path("keyset-1.signed").exists());
    // The office cannot issue before the first set is installed.
    office.run(&["summary"]).exits(2);
    // A second init while one waits is refused.
    office
        .run(&[
            "init",
            "--issuer",
            "metro-police",
            "--root-anchor",
            &offline.anchor(),
        ])
        .exits(1);
}

#[test]
fn trial_key_files_still_certify_at_once() {
    let office = Office::new();
    office.init();
    let root = s(&office.path("keys/root.key"));
    let rotated = office
        .run(&["key", "rotate", "--root-key", &root, "--json"])
        .ok()
        .json();
    assert_eq!(rotated["key_set"], 2);
    let first = office.run(&["key", "list", "--json"]).ok().json()["keys"][0]["key_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let revoked = office
        .run(&["key", "compromised", &first, "--root-key", &root, "--json"])
        .ok()
        .json();
    assert_eq!(revoked["key_set"], 3);
}

#[cfg(not(feature = "pkcs11"))]
#[test]
fn without_pkcs11_support_hsm_says_so_and_writes_nothing() {
    let office = Office::new();
    let run = office
        .run(&[
            "init",
            "--issuer",
            "metro-police",
            "--hsm",
            "pkcs11:token=office;object=signing",
        ])
        .exits(2);
    assert!(
        run.stderr().contains("no PKCS#11 support"),
        "{}",
        run.stderr()
    );
    assert!(!office.db().exists());
    assert!(!office.path("keys").exists());
}

/// `keyset sign` on a terminal (a pseudo-terminal through util-linux's `script`, part
/// of every Debian system): it shows what it is about to sign and signs only on `y`.
#[test]
fn keyset_sign_on_a_terminal_shows_the_set_and_signs_only_on_yes() {
    use std::io::Write as _;
    let offline = Offline::new("metro-police");
    let (office, init) = office_awaiting_with_init(&offline);
    let key = init["signing_key_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let out = offline.machine.path("keyset-1.signed");
    let sign = format!(
        "{} keyset sign {} --root {} --out {}",
        env!("CARGO_BIN_EXE_revocard"),
        s(&office.path("keyset-1.draft")),
        s(&offline.machine.path("root.key")),
        s(&out)
    );
    let on_terminal = |answer: &str| {
        let mut child = std::process::Command::new("script")
            .args(["-qec", &sign, "/dev/null"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("script (util-linux): {e}"));
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(answer.as_bytes());
        }
        let output = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
        let shown = String::from_utf8_lossy(&output.stdout).into_owned();
        (output.status.code(), shown)
    };
    let (code, shown) = on_terminal("n\n");
    assert_eq!(code, Some(1), "{shown}");
    assert!(shown.contains("sign this key set? [y/N]"), "{shown}");
    assert!(shown.contains(&format!("certify  key {key}")), "{shown}");
    assert!(
        shown.contains("key set 1 of issuer metro-police"),
        "{shown}"
    );
    assert!(!out.exists(), "signed after no");
    let (code, shown) = on_terminal("y\n");
    assert_eq!(code, Some(0), "{shown}");
    assert!(out.exists(), "{shown}");
}
