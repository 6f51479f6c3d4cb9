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
