//! The office's data: what goes into the registry from HR's roster, and what comes out
//! of it to suppliers, doors and operators, kept exactly as it should be.

mod common;

use std::fmt::Write as _;

use common::{Office, roster};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use revocard::issue::CardKey;
use revocard::registry::{PRINTED_FIELDS, PrintManifest, PrintedCard};
use revocard::{CardPublicKey, PrintBatchId};

/// `roster sync FILE --apply`, expected to be refused with every `expect` on stderr,
/// and to write nothing.
fn refused(office: &Office, name: &str, bytes: &[u8], expect: &[&str]) -> String {
    let path = office.path(name);
    std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{e}"));
    let before = office.run(&["audit", "verify", "--json"]).ok().json();
    let run = office
        .run(&["roster", "sync", &path.to_string_lossy(), "--apply"])
        .exits(1);
    let err = run.stderr();
    for e in expect {
        assert!(err.contains(e), "expected {e:?} in:\n{err}");
    }
    let after = office.run(&["audit", "verify", "--json"]).ok().json();
    assert_eq!(before, after, "a refused roster wrote something");
    err
}

// Item 4: every required field is non-empty after trimming, and the refusal says why.
#[test]
fn an_empty_or_blank_required_field_is_refused_and_the_message_says_why() {
    let office = Office::new();
    office.init();
    let mut text = roster(200);
    text.push_str("2000000,,Sergeant,CID,warrant-card,MV,p.jpg\n");
    text.push_str("2000001,   ,Sergeant,CID,warrant-card,MV,p.jpg\n");
    text.push_str("2000002,\"Jo\nSmith\",Sergeant,CID,warrant-card,MV,p.jpg\n");
    text.push_str(&format!(
        "2000003,{},Sergeant,CID,warrant-card,MV,p.jpg\n",
        "N".repeat(200)
    ));
    text.push_str("2000004,Jo Smith,,CID,warrant-card,MV,p.jpg\n");
    text.push_str("2000005,Jo Smith,Sergeant, ,warrant-card,MV,p.jpg\n");
    text.push_str("2000006,Jo Tab,Ser\tgeant,CID,warrant-card,MV,p.jpg\n");
    text.push_str(" ,Jo Smith,Sergeant,CID,warrant-card,MV,p.jpg\n");
    let err = refused(
        &office,
        "bad.csv",
        text.as_bytes(),
        &[
            "bad.csv:202: name: name is not valid: it is empty",
            "bad.csv:203: name: name is not valid: it is empty",
            "bad.csv:204: name: name is not valid: it holds a line break (U+000A) at character 3",
            "bad.csv:206: name: name is not valid: it is too long: 200 bytes, more than the limit of 96",
            "bad.csv:207: rank: rank is not valid: it is empty",
            "bad.csv:208: unit: unit is not valid: it is empty",
            "bad.csv:209: rank: rank is not valid: it holds a tab",
            "bad.csv:210: pay_number: pay_number is not valid: it is empty",
            "8 bad lines; nothing was written",
        ],
    );
    assert!(!err.contains("bad.csv:205"), "{err}");
}

// Item 5: a CRLF file with a byte-order mark (Excel's "CSV UTF-8") names the same lines
// as its LF twin.
#[test]
fn line_numbers_in_a_crlf_file_with_bom_are_those_of_the_lf_file() {
    let office = Office::new();
    office.init();
    let mut text = roster(10);
    text.push_str("2000000,Bad Vetting,Sergeant,CID,warrant-card,XV,p.jpg\n");
    // A cell with a line break in it (Excel writes a bare LF inside the quotes).
    text.push_str("2000001,\"Two@Lines\",Sergeant,CID,warrant-card,MV,p.jpg\n");
    text.push_str("2000002,Bad Kind,Sergeant,CID,helicopter,MV,p.jpg\n");
    let expect = [
        "12: vetting",
        "13: name: name is not valid: it holds a line break",
        "15: kind",
    ];
    let lf = refused(
        &office,
        "lf.csv",
        text.replace('@', "\n").as_bytes(),
        &expect,
    );
    let mut crlf = b"\xef\xbb\xbf".to_vec();
    crlf.extend_from_slice(text.replace('\n', "\r\n").replace('@', "\n").as_bytes());
    let crlf = refused(&office, "crlf.csv", &crlf, &expect);
    assert_eq!(
        lf.replace("lf.csv", "F"),
        crlf.replace("crlf.csv", "F"),
        "CRLF and LF name different lines"
    );
    // And a good CRLF roster with a BOM is taken whole.
    let mut good = b"\xef\xbb\xbf".to_vec();
    good.extend_from_slice(roster(5).replace('\n', "\r\n").as_bytes());
    let path = office.path("good.csv");
    std::fs::write(&path, good).unwrap_or_else(|e| panic!("{e}"));
    let run = office
        .run(&["roster", "sync", &path.to_string_lossy(), "--json"])
        .ok()
        .json();
    assert_eq!(run["joiners"].as_array().map(Vec::len), Some(5), "{run}");
}

/// How many chip keys of [`chip_keys`] start with `-`.
const DASHES: usize = 8;

/// `n` (at least [`DASHES`]) chip keys from a seeded RNG, the first [`DASHES`] chosen
/// to start with `-` (as about one base64url key in 64 does).
fn chip_keys(n: usize, seed: u64) -> Vec<CardPublicKey> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut keys = Vec::with_capacity(n);
    let mut dashes = Vec::new();
    while keys.len() + DASHES < n || dashes.len() < DASHES {
        let mut secret = [0u8; 32];
        rng.fill_bytes(&mut secret);
        let public = CardKey::from_secret_bytes(&secret).public();
        if public.to_string().starts_with('-') {
            if dashes.len() < DASHES {
                dashes.push(public);
            }
        } else if keys.len() + DASHES < n {
            keys.push(public);
        }
    }
    dashes.extend(keys);
    dashes
}

/// The rows of a CSV manifest as read back by a supplier's CSV reader.
fn manifest_rows(text: &str) -> Vec<csv::StringRecord> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap_or_else(|e| panic!("{e}")).clone();
    assert_eq!(header.iter().collect::<Vec<_>>(), PRINTED_FIELDS);
    reader
        .records()
        .map(|r| r.unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

// Item 1: the formula guard is for roster text only; every chip key of a 47,000-card
// manifest reads back as the chip's key.
#[test]
fn every_chip_key_of_a_47000_card_manifest_reads_back_as_the_chips_key() {
    const N: usize = 47_000;
    let keys = chip_keys(N, 19);
    let cards: Vec<PrintedCard> = keys
        .iter()
        .enumerate()
        .map(|(i, key)| PrintedCard {
            serial: format!("{i:032x}"),
            card_type: "Warrant Card",
            // Roster text that a spreadsheet would run as a formula is still guarded.
            name: match i % 4 {
                0 => format!("=HYPERLINK(\"http://x\",\"{i}\")"),
                1 => format!("-{i}"),
                2 => format!("@Holder {i}"),
                _ => format!("Holder, {i}"),
            },
            rank: if i % 2 == 0 { "+1" } else { "Sergeant" }.into(),
            photo_ref: format!("{i:064x}"),
            card_public_key: Some(key.to_string()),
        })
        .collect();
    let manifest = PrintManifest {
        supplier: "northgate".into(),
        batch: PrintBatchId(1),
        cards,
    };
    let rows = manifest_rows(&manifest.to_csv());
    assert_eq!(rows.len(), N);
    let dashes = keys
        .iter()
        .filter(|k| k.to_string().starts_with('-'))
        .count();
    assert!(dashes >= DASHES, "only {dashes} keys start with '-'");
    for (i, (row, key)) in rows.iter().zip(&keys).enumerate() {
        let cell = row.get(5).unwrap_or_default();
        let parsed: CardPublicKey = cell
            .parse()
            .unwrap_or_else(|e| panic!("row {i}: `{cell}` is not a chip key: {e}"));
        assert_eq!(&parsed, key, "row {i}");
        assert_eq!(row.get(0), Some(format!("{i:032x}").as_str()), "row {i}");
        assert_eq!(row.get(4), Some(format!("{i:064x}").as_str()), "row {i}");
        let name = row.get(2).unwrap_or_default();
        match i % 4 {
            3 => assert_eq!(name, format!("Holder, {i}")),
            _ => assert!(
                name.starts_with('\''),
                "row {i}: formula not guarded: {name}"
            ),
        }
        let rank = row.get(3).unwrap_or_default();
        assert_eq!(rank, if i % 2 == 0 { "'+1" } else { "Sergeant" });
    }
    // Whatever a generated field holds, it is written as it is: the writer never
    // rewrites what the registry made, whichever character starts it.
    for first in ['-', '=', '+', '@'] {
        let text = format!("{first}abc");
        let m = PrintManifest {
            supplier: "s".into(),
            batch: PrintBatchId(2),
            cards: vec![PrintedCard {
                serial: text.clone(),
                card_type: "Staff Pass",
                name: "A".into(),
                rank: "B".into(),
                photo_ref: text.clone(),
                card_public_key: Some(text.clone()),
            }],
        };
        let rows = manifest_rows(&m.to_csv());
        let row = rows.first().unwrap_or_else(|| panic!("no row"));
        for column in [0, 4, 5] {
            assert_eq!(row.get(column), Some(text.as_str()), "{first}: {row:?}");
        }
    }
}

/// A supplier's blank-card report of these keys.
fn blanks_csv(office: &Office, name: &str, keys: &[CardPublicKey]) -> String {
    let mut csv = String::from("chip_id,card_public_key\n");
    for (i, k) in keys.iter().enumerate() {
        let _ = writeln!(csv, "{name}-{i},{k}");
    }
    office
        .write(&format!("{name}.csv"), &csv)
        .to_string_lossy()
        .into_owned()
}

// Item 1 through the binary: a batch printed on chips whose keys start with `-`.
#[test]
fn an_issued_manifest_names_each_chip_by_its_own_key() {
    let office = Office::new();
    office.init();
    office.sync_roster(40);
    let keys = chip_keys(40, 7);
    let blanks = blanks_csv(&office, "northgate", &keys);
    let out = office
        .run(&[
            "issue",
            "--supplier",
            "northgate",
            "--cards",
            &blanks,
            "--json",
        ])
        .ok()
        .json();
    let text = std::fs::read_to_string(out["manifest"].as_str().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}"));
    let rows = manifest_rows(&text);
    assert_eq!(rows.len(), 40);
    let mut seen = std::collections::HashSet::new();
    for row in &rows {
        let cell = row.get(5).unwrap_or_default();
        let key: CardPublicKey = cell
            .parse()
            .unwrap_or_else(|e| panic!("`{cell}` is not a chip key: {e}"));
        assert!(keys.contains(&key), "{cell} is not a northgate chip");
        seen.insert(key);
    }
    assert_eq!(seen.len(), 40);
    assert!(
        rows.iter()
            .any(|r| r.get(5).is_some_and(|k| k.starts_with('-'))),
        "no key starting with '-' was printed"
    );
}

// Issue 23: a supplier's report is checked when it is read, not card by card while
// signing: a key no door could check refuses the whole report, naming its line.
#[test]
fn a_blank_card_report_with_an_unusable_key_is_refused_naming_its_line() {
    let office = Office::new();
    office.init();
    office.sync_roster(10);
    let mut keys = chip_keys(DASHES + 2, 11);
    // The identity point: a key of small order, under which one signature verifies
    // every message.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let identity = CardPublicKey(identity);
    keys.insert(4, identity);
    let blanks = blanks_csv(&office, "northgate", &keys);
    let before = office.run(&["audit", "verify", "--json"]).ok().json();
    let run = office
        .run(&["issue", "--supplier", "northgate", "--cards", &blanks])
        .exits(1);
    let err = run.stderr();
    // Line 1 is the header; the fifth key is on line 6.
    for expect in ["northgate.csv:6", &identity.to_string(), "card_public_key"] {
        assert!(err.contains(expect), "expected {expect:?} in:\n{err}");
    }
    let after = office.run(&["audit", "verify", "--json"]).ok().json();
    assert_eq!(before, after, "a refused report let something be written");
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

// Item 2: a manifest is derived from the registry: `revocard manifest` writes any
// batch's again, and a rerun of a finished `issue` or `incident reissue` whose manifest
// is missing (a kill after the last commit) writes it, byte for byte the first.
#[test]
fn a_lost_manifest_is_written_again_byte_for_byte() {
    let office = Office::new();
    office.init();
    office.sync_roster(300);
    let north = blanks_csv(&office, "northgate", &chip_keys(300, 1));
    let issue = [
        "issue",
        "--supplier",
        "northgate",
        "--cards",
        north.as_str(),
        "--json",
    ];
    let first = office.run(&issue).ok().json();
    let path = first["manifest"].as_str().unwrap_or_default().to_owned();
    let bytes = read(&path);
    // Simulate the kill just after the last chunk committed: no manifest.
    std::fs::remove_file(&path).unwrap_or_else(|e| panic!("{e}"));
    let rerun = office.run(&issue).ok().json();
    assert_eq!(rerun["issued_now"], 0, "{rerun}");
    assert_eq!(rerun["manifest"].as_str(), Some(path.as_str()), "{rerun}");
    assert_eq!(read(&path), bytes, "the rewritten manifest differs");
    // A rerun with the manifest in place leaves it alone.
    let again = office.run(&issue).ok().json();
    assert!(again["manifest"].is_null(), "{again}");
    // `revocard manifest` derives the same bytes, in either format.
    let out = office.path("again.csv").to_string_lossy().into_owned();
    office
        .run(&["manifest", "--batch", "1", "--out", &out])
        .ok();
    assert_eq!(read(&out), bytes);
    let json_out = office.path("again.json").to_string_lossy().into_owned();
    office
        .run(&[
            "manifest", "--batch", "1", "--out", &json_out, "--format", "json",
        ])
        .ok();
    let doc: serde_json::Value =
        serde_json::from_slice(&read(&json_out)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(doc["cards"].as_array().map(Vec::len), Some(300));
    let refused = office
        .run(&["manifest", "--batch", "9", "--out", &out])
        .exits(1);
    assert!(
        refused.stderr().contains("no print batch 9"),
        "{}",
        refused.stderr()
    );

    // The same for the replacements of an incident.
    office
        .run(&[
            "incident",
            "declare",
            "--supplier",
            "northgate",
            "--reissue-via",
            "southbank",
        ])
        .ok();
    let south = blanks_csv(&office, "southbank", &chip_keys(300, 2));
    let manifest = office.path("south.json").to_string_lossy().into_owned();
    let reissue = [
        "incident",
        "reissue",
        "--supplier",
        "southbank",
        "--cards",
        south.as_str(),
        "--manifest",
        manifest.as_str(),
        "--format",
        "json",
        "--json",
    ];
    let first = office.run(&reissue).ok().json();
    assert_eq!(first["finished"], true, "{first}");
    let batch = first["batch"].to_string();
    let bytes = read(&manifest);
    std::fs::remove_file(&manifest).unwrap_or_else(|e| panic!("{e}"));
    let rerun = office.run(&reissue).ok().json();
    assert_eq!(rerun["reissued_now"], 0, "{rerun}");
    assert_eq!(read(&manifest), bytes, "the rewritten manifest differs");
    let out = office
        .path("south-again.json")
        .to_string_lossy()
        .into_owned();
    office
        .run(&[
            "manifest", "--batch", &batch, "--out", &out, "--format", "json",
        ])
        .ok();
    assert_eq!(read(&out), bytes);
}

/// A roster of holders `from..to` of [`roster`]'s numbering.
fn roster_range(from: usize, to: usize) -> String {
    let all = roster(to);
    let mut lines = all.lines();
    let mut s = format!("{}\n", lines.next().unwrap_or_default());
    for l in lines.skip(from) {
        s.push_str(l);
        s.push('\n');
    }
    s
}

// Item 3: a truncated HR export does not revoke the force: past the threshold, `roster
// sync --apply` writes nothing and asks for the exact number.
#[test]
fn a_truncated_roster_is_refused_until_its_exact_leaver_count_is_approved() {
    let office = Office::new();
    office.init();
    office.sync_roster(1_200);
    let blanks = blanks_csv(&office, "northgate", &chip_keys(1_200, 3));
    office
        .run(&["issue", "--supplier", "northgate", "--cards", &blanks])
        .ok();
    let before = office.run(&["audit", "verify", "--json"]).ok().json();
    // HR's export lost its first 600 rows: 600 leavers, more than the default 500.
    let cut = office.write("cut.csv", &roster_range(600, 1_200));
    let cut = cut.to_string_lossy().into_owned();
    let run = office.run(&["roster", "sync", &cut, "--apply"]).exits(1);
    let err = run.stderr();
    for want in [
        "removes 600 holders (revoking 600 cards)",
        "threshold of 500",
        "nothing was written",
        &format!("revocard roster sync {cut} --apply --allow-leavers 600"),
    ] {
        assert!(err.contains(want), "expected {want:?} in {err}");
    }
    let after = office.run(&["audit", "verify", "--json"]).ok().json();
    assert_eq!(before, after, "a refused sync wrote something");
    // The dry run warns.
    let dry = office.run(&["roster", "sync", &cut]).ok();
    assert!(
        dry.stdout().contains("--allow-leavers 600"),
        "{}",
        dry.stdout()
    );
    // An approval for another number (another export's) is refused.
    let wrong = office
        .run(&["roster", "sync", &cut, "--apply", "--allow-leavers", "599"])
        .exits(1);
    assert!(
        wrong
            .stderr()
            .contains("removes 600 holders, not the 599 approved"),
        "{}",
        wrong.stderr()
    );
    let after = office.run(&["audit", "verify", "--json"]).ok().json();
    assert_eq!(before, after, "a refused sync wrote something");
    // The exact number goes ahead.
    let done = office
        .run(&[
            "roster",
            "sync",
            &cut,
            "--apply",
            "--allow-leavers",
            "600",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(done["leavers"].as_array().map(Vec::len), Some(600));
    assert_eq!(done["revoked"], 600);
    assert!(done["published_sequence"].is_u64());
    let summary = office.run(&["summary", "--json"]).ok().json();
    assert_eq!(
        (summary["active"].as_u64(), summary["revoked"].as_u64()),
        (Some(600), Some(600))
    );
}

#[test]
fn the_leaver_threshold_is_the_registrys_setting() {
    let office = Office::new();
    office.init();
    office.sync_roster(100);
    let shown = office.run(&["config", "show", "--json"]).ok().json();
    assert_eq!(shown["max_leavers"], 500);
    let set = office
        .run(&["config", "set", "max-leavers", "10", "--json"])
        .ok()
        .json();
    assert_eq!(set["max_leavers"], 10);
    // Every office on the registry sees it: a fresh process reads it from the registry.
    let shown = office.run(&["config", "show", "--json"]).ok().json();
    assert_eq!(shown["max_leavers"], 10);
    let cut = office.write("cut.csv", &roster_range(11, 100));
    let run = office
        .run(&["roster", "sync", &cut.to_string_lossy(), "--apply"])
        .exits(1);
    assert!(
        run.stderr().contains("removes 11 holders") && run.stderr().contains("threshold of 10"),
        "{}",
        run.stderr()
    );
    // Ten leavers are within it.
    let cut = office.write("cut10.csv", &roster_range(10, 100));
    let done = office
        .run(&[
            "roster",
            "sync",
            &cut.to_string_lossy(),
            "--apply",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(done["leavers"].as_array().map(Vec::len), Some(10), "{done}");
    // The change is in the audit log.
    let log = office.run(&["audit", "export"]).ok().stdout();
    assert!(log.contains("setting:max-leavers"), "{log}");
}

/// The `latest.json` pointer of the one issuer in a published folder.
fn latest(dir: &std::path::Path) -> serde_json::Value {
    let issuer = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(Result::ok)
        .find(|e| e.path().is_dir())
        .unwrap_or_else(|| panic!("no issuer folder in {}", dir.display()));
    let bytes = std::fs::read(issuer.path().join("latest.json")).unwrap_or_else(|e| panic!("{e}"));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{e}"))
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

// Item 9: `publish --out` re-signs a held list that has run out or is within its margin
// of running out, and never writes one doors would refuse as stale.
#[test]
fn publish_re_signs_a_list_that_is_about_to_run_out() {
    let office = Office::new();
    office
        .run(&["init", "--issuer", "metro-police", "--list-lifetime", "60s"])
        .ok();
    // The list init signed runs out within a minute: inside the margin (a quarter of
    // the lifetime, at least the doors' clock skew of 60 s), so publish signs anew.
    let out = office.path("published");
    let run = office
        .run(&[
            "publish",
            "--out",
            &out.to_string_lossy(),
            "--list-lifetime",
            "1h",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(run["resigned_sequence"], 2, "{run}");
    let pointer = latest(&out);
    assert_eq!(pointer["list"]["sequence"], 2, "{pointer}");
    let next = pointer["next_update"].as_u64().unwrap_or_default();
    assert!(
        next >= unix_now() + 3000,
        "the published list runs out at {next}, {} s from now",
        next.saturating_sub(unix_now())
    );
    // A list with most of its life left is written as it is: no new signature.
    let again = office
        .run(&["publish", "--out", &out.to_string_lossy(), "--json"])
        .ok()
        .json();
    assert!(again["resigned_sequence"].is_null(), "{again}");
    assert_eq!(latest(&out)["list"]["sequence"], 2);
}

// Item 14: `show` gives every claim and the status index, plain and JSON; by pay number
// it lists all of the holder's cards, newest first.
#[test]
fn show_gives_every_claim_and_the_status_index_and_lists_a_holders_cards() {
    let office = Office::new();
    office.init();
    office.sync_roster(4);
    let blanks = blanks_csv(&office, "northgate", &chip_keys(20, 5));
    office
        .run(&["issue", "--supplier", "northgate", "--cards", &blanks])
        .ok();
    // Holder 1000001 is promoted: a replacement card.
    let promoted = roster(4).replace("1000001,Holder 1,Sergeant", "1000001,Holder 1,Inspector");
    let staff = office.write("staff.csv", &promoted);
    office
        .run(&["roster", "sync", &staff.to_string_lossy(), "--apply"])
        .ok();
    // (Issued within the same second as the first card, most likely: newest first
    // holds on the order of issue too.)
    office
        .run(&["issue", "--supplier", "northgate", "--cards", &blanks])
        .ok();
    let shown = office
        .run(&["show", "--pay-number", "1000001", "--json"])
        .ok()
        .json();
    let cards = shown["cards"].as_array().cloned().unwrap_or_default();
    assert_eq!(cards.len(), 2, "{shown}");
    let (new, old) = (&cards[0], &cards[1]);
    assert_eq!(new["rank"], "Inspector", "newest first: {shown}");
    assert_eq!(old["rank"], "Sergeant", "{shown}");
    assert_eq!(new["supersedes"], old["serial"]);
    for card in &cards {
        assert_eq!(card["name"], "Holder 1");
        assert_eq!(card["unit"], "Response");
        assert_eq!(card["pay_number"], "1000001");
        assert_eq!(card["issuer"], "metro-police");
        assert!(card["status_index"].is_u64(), "{card}");
        assert!(card["card_public_key"].is_string(), "{card}");
    }
    assert_ne!(new["status_index"], old["status_index"]);
    // By serial, plain and JSON name the same claims and index.
    let serial = new["serial"].as_str().unwrap_or_default();
    let one = office.run(&["show", serial, "--json"]).ok().json();
    for field in ["name", "rank", "unit", "status_index", "vetting", "kind"] {
        assert_eq!(one[field], new[field], "{field}: {one}");
    }
    let plain = office.run(&["show", serial]).ok().stdout();
    for want in [
        "name       Holder 1".to_owned(),
        "rank       Inspector".to_owned(),
        "unit       Response".to_owned(),
        format!("status index {}", new["status_index"]),
    ] {
        assert!(plain.contains(&want), "expected {want:?} in:\n{plain}");
    }
    let all = office
        .run(&["show", "--pay-number", "1000001"])
        .ok()
        .stdout();
    let (first, second) = (
        all.find(&format!("card {serial}")).unwrap_or(usize::MAX),
        all.find(&format!(
            "card {}",
            old["serial"].as_str().unwrap_or_default()
        ))
        .unwrap_or(usize::MAX),
    );
    assert!(first < second && second < usize::MAX, "{all}");
}

/// The payload of a compact JWS (not checked: tests/standards.rs checks signatures).
fn jwt_payload(token: &str) -> serde_json::Value {
    let part = token.split('.').nth(1).unwrap_or_default();
    let mut bits = 0u32;
    let mut nbits = 0;
    let mut bytes = Vec::new();
    for c in part.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => panic!("not base64url: {c}"),
        };
        bits = (bits << 6) | u32::from(v);
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            bytes.push((bits >> nbits) as u8);
        }
    }
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{e}"))
}

/// The `ttl` of the IETF token and of the W3C revocation credential published in `out`.
fn view_ttls(out: &std::path::Path) -> (serde_json::Value, serde_json::Value) {
    let status = out.join("metro-police/status");
    let read = |f: &str| std::fs::read_to_string(status.join(f)).unwrap_or_else(|e| panic!("{e}"));
    (
        jwt_payload(&read("ietf.jwt"))["ttl"].clone(),
        jwt_payload(&read("w3c-revocation.jwt"))["credentialSubject"]["ttl"].clone(),
    )
}

// Item 15: the standards views' ttl is the operator's (default 300 s, the publisher's
// max-age), not the list's lifetime: seconds for IETF, milliseconds for W3C.
#[test]
fn the_standard_views_ttl_is_five_minutes_unless_the_operator_sets_it() {
    let office = Office::new();
    office.init();
    let out = office.path("published");
    let out_text = out.to_string_lossy().into_owned();
    let url = "https://status.example.org/revocard";
    office
        .run(&["publish", "--out", &out_text, "--base-url", url])
        .ok();
    assert_eq!(view_ttls(&out), (300.into(), 300_000.into()));
    office
        .run(&[
            "publish",
            "--out",
            &out_text,
            "--base-url",
            url,
            "--status-ttl",
            "2m",
        ])
        .ok();
    assert_eq!(view_ttls(&out), (120.into(), 120_000.into()));
    // Never past the list's lifetime (an hour here).
    office
        .run(&[
            "publish",
            "--out",
            &out_text,
            "--base-url",
            url,
            "--status-ttl",
            "5h",
        ])
        .ok();
    assert_eq!(view_ttls(&out), (3600.into(), 3_600_000.into()));
    // Without --base-url there are no views, and no ttl to set.
    office.run(&["publish", "--out", &out_text]).ok();
    office
        .run(&["publish", "--out", &out_text, "--status-ttl", "2m"])
        .exits(2);
}

// Item 3, the same guard on `issue`: a batch that would revoke more replaced cards
// than the threshold (a roster that moved most holders) is refused before anything is
// signed, until its exact number is approved.
#[test]
fn an_issue_revoking_more_replaced_cards_than_the_threshold_asks_for_the_number() {
    let office = Office::new();
    office.init();
    office.sync_roster(40);
    let blanks = blanks_csv(&office, "northgate", &chip_keys(100, 9));
    let issue = [
        "issue",
        "--supplier",
        "northgate",
        "--cards",
        blanks.as_str(),
    ];
    office.run(&issue).ok();
    office.run(&["config", "set", "max-leavers", "5"]).ok();
    // HR renamed the unit of the first ten holders: ten movers, ten replacements.
    let mut moved = String::from(common::HEADER);
    for (i, line) in roster(40).lines().skip(1).enumerate() {
        let line = if i < 10 {
            line.replace(",Response,", ",Renamed Unit,")
        } else {
            line.to_owned()
        };
        moved.push_str(&line);
        moved.push('\n');
    }
    let staff = office.write("moved.csv", &moved);
    office
        .run(&["roster", "sync", &staff.to_string_lossy(), "--apply"])
        .ok();
    let before = office.run(&["summary", "--json"]).ok().json();
    let run = office.run(&issue).exits(1);
    for want in [
        "would revoke 10 replaced cards",
        "threshold of 5",
        "nothing was signed",
        "--allow-revocations 10",
    ] {
        assert!(
            run.stderr().contains(want),
            "expected {want:?} in {}",
            run.stderr()
        );
    }
    let wrong = office
        .run(&[&issue[..], &["--allow-revocations", "9"]].concat())
        .exits(1);
    assert!(
        wrong.stderr().contains("not the 9 approved"),
        "{}",
        wrong.stderr()
    );
    let after = office.run(&["summary", "--json"]).ok().json();
    assert_eq!(before, after, "a refused issue wrote something");
    let done = office
        .run(&[&issue[..], &["--allow-revocations", "10", "--json"]].concat())
        .ok()
        .json();
    assert_eq!(done["issued_now"], 10, "{done}");
    let summary = office.run(&["summary", "--json"]).ok().json();
    assert_eq!(
        (summary["active"].as_u64(), summary["revoked"].as_u64()),
        (Some(40), Some(10)),
        "{summary}"
    );
}
