//! The day of a breach, end to end through the binary only: init, a roster of 47,000
//! (`REVOCARD_STORY_COUNT` to change it), issue, declare, reissue, publish, then a
//! door's verdict on an old card (denied) and a new one (admitted, the card proving
//! its own key), and the audit chain.

mod common;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use common::{Office, roster};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use revocard::issue::CardKey;

/// A supplier's blank cards: software stand-ins keeping their secrets here, and the
/// report of their public keys the supplier sends.
struct Blanks {
    secrets: HashMap<String, [u8; 32]>,
}

impl Blanks {
    fn make(office: &Office, name: &str, n: usize, seed: u64) -> (Self, String) {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut csv = String::from("chip_id,card_public_key\n");
        let mut secrets = HashMap::new();
        for i in 0..n {
            let mut secret = [0u8; 32];
            rng.fill_bytes(&mut secret);
            let public = CardKey::from_secret_bytes(&secret).public().to_string();
            let _ = writeln!(csv, "{name}-{i},{public}");
            secrets.insert(public, secret);
        }
        let path = office.write(&format!("{name}.csv"), &csv);
        (Self { secrets }, path.to_string_lossy().into_owned())
    }

    /// Writes the secret of the chip holding `public` as a card key file (mode 0600).
    fn key_file(&self, office: &Office, public: &str) -> String {
        let secret = self
            .secrets
            .get(public)
            .unwrap_or_else(|| panic!("no blank card {public}"));
        let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
        let path = office.path(&format!("card-{}.key", &public[..8]));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(&path).unwrap_or_else(|e| panic!("{e}"));
        std::io::Write::write_all(&mut f, hex.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        path.to_string_lossy().into_owned()
    }
}

/// Rows of a CSV file as header -> value maps.
fn rows(path: &Path) -> Vec<HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{e}"));
    let headers = reader.headers().unwrap_or_else(|e| panic!("{e}")).clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap_or_else(|e| panic!("{e}"));
            headers
                .iter()
                .map(str::to_owned)
                .zip(r.iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

/// `revocard verify` of the card in `card` against the anchor and the published folder,
/// the card answering the challenge with the secret in `key`.
fn verify(office: &Office, card: &Path, key: &str) -> common::Run {
    let anchor = office.path("trust-anchor.rca");
    let published = office.path("published");
    office.run(&[
        "verify",
        "--anchor",
        &anchor.to_string_lossy(),
        "--list",
        &published.to_string_lossy(),
        &card.to_string_lossy(),
        "--card-key",
        key,
        "--json",
    ])
}

#[test]
fn the_breach_story_runs_through_the_cli_alone() {
    let n: usize = std::env::var("REVOCARD_STORY_COUNT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(47_000);
    let office = Office::new();
    office.init();
    let staff = office.write("staff.csv", &roster(n));
    let staff = staff.to_string_lossy();
    let synced = office
        .run(&["roster", "sync", &staff, "--apply", "--json"])
        .ok()
        .json();
    assert_eq!(synced["joiners"].as_array().map(Vec::len), Some(n));

    let (northgate, northgate_csv) = Blanks::make(&office, "northgate-blanks", n, 1);
    let issued = office
        .run(&[
            "issue",
            "--supplier",
            "northgate-print",
            "--cards",
            &northgate_csv,
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(issued["issued_now"], n);
    assert_eq!(issued["finished"], true);
    let old_batch = issued["batch"].as_u64().unwrap_or_default().to_string();
    // The manifest holds printed fields and chip keys, never a secret or a pay number.
    let manifest = issued["manifest"].as_str().unwrap_or_default().to_owned();
    let printed = rows(Path::new(&manifest));
    assert_eq!(printed.len(), n);
    let manifest_text = std::fs::read_to_string(&manifest).unwrap_or_default();
    assert!(
        !manifest_text.contains("1000000"),
        "pay number in the manifest"
    );
    for s in northgate.secrets.values().take(50) {
        let hex: String = s.iter().map(|b| format!("{b:02x}")).collect();
        assert!(!manifest_text.contains(&hex), "a secret in the manifest");
    }

    // An old card, as the enrolment station wrote it onto its chip.
    let old_creds = office.path("old-credentials.csv");
    office
        .run(&[
            "credentials",
            "--batch",
            &old_batch,
            "--out",
            &old_creds.to_string_lossy(),
        ])
        .ok();
    let old = rows(&old_creds).into_iter().next().unwrap_or_default();
    let old_card = office.write("old-card.txt", &old["credential"]);
    let old_key = northgate.key_file(&office, &old["card_public_key"]);

    // Before the breach the old card opens the door, proving its chip's key.
    let published = office.path("published");
    let published = published.to_string_lossy();
    office.run(&["publish", "--out", &published]).ok();
    let verdict = verify(&office, &old_card, &old_key).ok().json();
    assert_eq!(verdict["decision"], "admit");

    // The breach.
    let plan = office
        .run(&[
            "incident",
            "plan",
            "--supplier",
            "northgate-print",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(plan["affected"], n);
    let declared = office
        .run(&[
            "incident",
            "declare",
            "--supplier",
            "northgate-print",
            "--reissue-via",
            "southbank-print",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(declared["revoked"], n);
    // The same declaration again (a run killed after its commit, a retried script): it
    // says the incident is declared and where its job stands, signs and writes nothing.
    let before = office.run(&["summary", "--json"]).ok().json();
    let again = office
        .run(&[
            "incident",
            "declare",
            "--supplier",
            "northgate-print",
            "--reissue-via",
            "southbank-print",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(again["already_declared"], true);
    assert_eq!(again["job"], declared["job"]);
    assert_eq!(again["revoked"], n);
    assert_eq!(
        office.run(&["summary", "--json"]).ok().json()["last_publication"],
        before["last_publication"]
    );
    // Through another supplier it is not the same declaration: the open job comes first.
    office
        .run(&[
            "incident",
            "declare",
            "--supplier",
            "northgate-print",
            "--reissue-via",
            "westgate-print",
        ])
        .exits(1);
    let (southbank, southbank_csv) = Blanks::make(&office, "southbank-blanks", n, 2);
    let reissued = office
        .run(&[
            "incident",
            "reissue",
            "--supplier",
            "southbank-print",
            "--cards",
            &southbank_csv,
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(reissued["reissued_now"], n);
    assert_eq!(reissued["finished"], true);
    let new_batch = reissued["batch"].as_u64().unwrap_or_default().to_string();
    office.run(&["publish", "--out", &published]).ok();

    // The old card is denied, with its reason; a new one is admitted.
    let denied = verify(&office, &old_card, &old_key);
    assert_eq!(denied.code(), 1, "{}", denied.stderr());
    let denied = denied.json();
    assert_eq!(denied["decision"], "deny");
    assert!(
        denied["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("revoked"),
        "{denied}"
    );
    let new_creds = office.path("new-credentials.csv");
    office
        .run(&[
            "credentials",
            "--batch",
            &new_batch,
            "--out",
            &new_creds.to_string_lossy(),
        ])
        .ok();
    let new = rows(&new_creds).into_iter().next().unwrap_or_default();
    let new_card = office.write("new-card.txt", &new["credential"]);
    let new_key = southbank.key_file(&office, &new["card_public_key"]);
    let admitted = verify(&office, &new_card, &new_key).ok().json();
    assert_eq!(admitted["decision"], "admit");
    assert_eq!(admitted["holder_binding"], true);
    // Another chip cannot answer for the new card: the tool refuses the pairing.
    let wrong = verify(&office, &new_card, &old_key);
    assert_eq!(wrong.code(), 1, "{}", wrong.stdout());

    // Running the reissue again once it finished is a no-op, not an error.
    let again = office
        .run(&[
            "incident",
            "reissue",
            "--supplier",
            "southbank-print",
            "--cards",
            &southbank_csv,
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(again["reissued_now"], 0);
    let audit = office.run(&["audit", "verify", "--json"]).ok().json();
    assert!(audit["entries"].as_u64().unwrap_or(0) > 4);
    let summary = office.run(&["summary", "--json"]).ok().json();
    assert_eq!(summary["active"], n);
    assert_eq!(summary["revoked"], n);
    assert_eq!(summary["pending"], 0);
}
