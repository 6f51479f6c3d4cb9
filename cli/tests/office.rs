//! The office's everyday commands and every bad input, through the binary only.

mod common;

use common::{HEADER, Office, roster};

#[test]
fn help_works_for_every_subcommand() {
    let office = Office::new();
    let all: &[&[&str]] = &[
        &[],
        &["init"],
        &["roster"],
        &["roster", "sync"],
        &["issue"],
        &["revoke"],
        &["suspend"],
        &["reinstate"],
        &["incident"],
        &["incident", "plan"],
        &["incident", "declare"],
        &["incident", "reissue"],
        &["publish"],
        &["show"],
        &["summary"],
        &["audit"],
        &["audit", "verify"],
        &["audit", "export"],
        &["verify"],
        &["key"],
        &["key", "rotate"],
        &["key", "compromised"],
        &["key", "list"],
        &["root"],
        &["root", "init"],
        &["keyset"],
        &["keyset", "draft"],
        &["keyset", "sign"],
        &["keyset", "install"],
        &["completions"],
        &["serve"],
        &["credentials"],
        &["simulate-blanks"],
    ];
    for args in all {
        let mut with_help = args.to_vec();
        with_help.push("--help");
        let run = office.run(&with_help).ok();
        assert!(
            run.stdout().contains("Usage: revocard"),
            "{args:?} --help: {}",
            run.stdout()
        );
    }
    let top = office.run(&["--help"]).stdout();
    for code in [
        "0  done",
        "1  refused",
        "2  failed",
        "3  interrupted, resumable",
    ] {
        assert!(top.contains(code), "{top}");
    }
}

#[test]
fn completions_are_printed_for_bash() {
    let office = Office::new();
    let run = office.run(&["completions", "bash"]).ok();
    assert!(run.stdout().contains("_revocard()"), "{}", run.stdout());
}

#[test]
fn init_makes_a_registry_keys_with_mode_0600_and_an_anchor_and_never_overwrites() {
    let office = Office::new();
    let run = office
        .run(&["init", "--issuer", "metro-police", "--json"])
        .ok();
    let doc = run.json();
    assert_eq!(doc["issuer"], "metro-police");
    assert!(office.db().is_file());
    assert!(office.path("trust-anchor.rca").is_file());
    let keys: Vec<_> = std::fs::read_dir(office.path("keys"))
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(Result::ok)
        .collect();
    assert_eq!(keys.len(), 2, "root and signing key files");
    #[cfg(unix)]
    for k in &keys {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = k.metadata().map(|m| m.permissions().mode() & 0o777);
        assert_eq!(mode.ok(), Some(0o600), "{:?}", k.path());
    }
    // A second init refuses, and changes nothing.
    let before = std::fs::read(office.db()).unwrap_or_default();
    let again = office.run(&["init", "--issuer", "metro-police"]).exits(1);
    assert!(
        again.stderr().contains("already exists"),
        "{}",
        again.stderr()
    );
    assert_eq!(std::fs::read(office.db()).unwrap_or_default(), before);
}

#[test]
#[cfg(unix)]
fn a_key_file_others_can_read_is_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let office = Office::new();
    office.init();
    for k in std::fs::read_dir(office.path("keys"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let _ = std::fs::set_permissions(k.path(), std::fs::Permissions::from_mode(0o644));
    }
    let csv = office.write("staff.csv", &roster(3));
    let run = office
        .run(&[
            "roster",
            "sync",
            csv.to_str().unwrap_or_default(),
            "--apply",
        ])
        .exits(1);
    assert!(
        run.stderr().contains("can be read by others"),
        "{}",
        run.stderr()
    );
    assert!(run.stderr().contains("chmod 600"), "{}", run.stderr());
    assert_eq!(office.run(&["summary", "--json"]).ok().json()["pending"], 0);
}

#[test]
fn a_db_that_is_not_a_registry_is_refused_and_left_alone() {
    let office = Office::new();
    let not = office.write("registry.sqlite", "this is a spreadsheet, not a registry\n");
    let run = office.run(&["summary"]).exits(2);
    assert_eq!(run.stderr().lines().count(), 1, "{}", run.stderr());
    assert_eq!(
        std::fs::read_to_string(&not).unwrap_or_default(),
        "this is a spreadsheet, not a registry\n"
    );
    // A registry that does not exist is not created by reading it.
    let other = Office::new();
    other.run(&["summary"]).exits(2);
    assert!(!other.db().exists());
}

#[test]
fn no_db_given_is_a_one_line_refusal() {
    let office = Office::new();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_revocard"))
        .arg("summary")
        .env_remove("REVOCARD_DB")
        .current_dir(office.dir.path())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--db"));
}

fn bad_roster_is_refused(office: &Office, text: &str, expect: &[&str]) {
    let csv = office.write("bad.csv", text);
    let before = office.run(&["audit", "verify", "--json"]).ok().json();
    let run = office
        .run(&[
            "roster",
            "sync",
            csv.to_str().unwrap_or_default(),
            "--apply",
        ])
        .exits(1);
    let err = run.stderr();
    for e in expect {
        assert!(err.contains(e), "expected {e:?} in:\n{err}");
    }
    let after = office.run(&["audit", "verify", "--json"]).ok().json();
    assert_eq!(before, after, "a refused roster wrote something");
}

#[test]
fn every_bad_roster_line_is_named_and_nothing_is_written() {
    let office = Office::new();
    office.init();
    let mut text = roster(3);
    text.push_str("1000000,Dup Holder,Sergeant,CID,warrant-card,MV,p.jpg\n");
    text.push_str("1000010,Bad Vetting,Sergeant,CID,warrant-card,XV,p.jpg\n");
    text.push_str("1000011,Bad Kind,Sergeant,CID,helicopter,MV,p.jpg\n");
    text.push_str(&format!(
        "1000012,{},Sergeant,CID,warrant-card,MV,p.jpg\n",
        "N".repeat(200)
    ));
    text.push_str("1000013,Short Row,Sergeant\n");
    bad_roster_is_refused(
        &office,
        &text,
        &[
            "bad.csv:5: pay_number: pay number 1000000 is already on line 2",
            "bad.csv:6: vetting",
            "bad.csv:7: kind",
            "bad.csv:8: name",
            "bad.csv:9: row",
            "5 bad lines; nothing was written",
        ],
    );
}

#[test]
fn a_roster_with_a_wrong_header_or_encoding_is_refused() {
    let office = Office::new();
    office.init();
    bad_roster_is_refused(
        &office,
        "pay,name,rank\n1,a,b\n",
        &["header", "pay_number,name,rank,unit,kind,vetting,photo_ref"],
    );
    // Latin-1 (not UTF-8) in a name.
    let mut bytes = HEADER.as_bytes().to_vec();
    bytes.extend_from_slice(b"1000000,Ren\xe9e Smith,Sergeant,CID,warrant-card,MV,p.jpg\n");
    let csv = office.path("latin1.csv");
    std::fs::write(&csv, bytes).unwrap_or_else(|e| panic!("{e}"));
    let run = office
        .run(&[
            "roster",
            "sync",
            csv.to_str().unwrap_or_default(),
            "--apply",
        ])
        .exits(1);
    assert!(
        run.stderr().contains("latin1.csv:2: name: is not UTF-8"),
        "{}",
        run.stderr()
    );
}

#[test]
fn roster_sync_is_a_dry_run_by_default_and_twice_changes_nothing() {
    let office = Office::new();
    office.init();
    let csv = office.write("staff.csv", &roster(40));
    let csv = csv.to_str().unwrap_or_default();
    let dry = office.run(&["roster", "sync", csv, "--json"]).ok().json();
    assert_eq!(dry["joiners"].as_array().map(Vec::len), Some(40));
    assert_eq!(dry["applied"], false);
    let summary = office.run(&["summary", "--json"]).ok().json();
    assert_eq!(summary["pending"], 0, "a dry run wrote");
    let applied = office
        .run(&["roster", "sync", csv, "--apply", "--json"])
        .ok()
        .json();
    assert_eq!(applied["joiners"].as_array().map(Vec::len), Some(40));
    let head = office.run(&["audit", "verify", "--json"]).ok().json();
    let again = office
        .run(&["roster", "sync", csv, "--apply", "--json"])
        .ok()
        .json();
    assert_eq!(again["joiners"].as_array().map(Vec::len), Some(0));
    assert_eq!(again["unchanged"], 40);
    assert_eq!(office.run(&["audit", "verify", "--json"]).ok().json(), head);
    assert_eq!(
        office.run(&["summary", "--json"]).ok().json()["pending"],
        40
    );
}

#[test]
fn an_unknown_serial_or_pay_number_is_refused() {
    let office = Office::new();
    office.init();
    let run = office
        .run(&[
            "revoke",
            "0123456789abcdef0123456789abcdef",
            "--reason",
            "lost",
        ])
        .exits(1);
    assert!(
        run.stderr().contains("no card with serial"),
        "{}",
        run.stderr()
    );
    let run = office.run(&["show", "--pay-number", "42"]).exits(1);
    assert!(
        run.stderr().contains("no card for pay number 42"),
        "{}",
        run.stderr()
    );
    let run = office.run(&["show", "not-a-serial"]).exits(1);
    assert!(run.stderr().contains("not a serial"), "{}", run.stderr());
}

#[test]
fn a_key_of_another_issuer_is_refused() {
    let office = Office::new();
    office.init();
    let other = Office::new();
    other.run(&["init", "--issuer", "county-police"]).ok();
    let root = other.path("keys/root.key");
    let run = office
        .run(&[
            "key",
            "rotate",
            "--root-key",
            root.to_str().unwrap_or_default(),
        ])
        .exits(1);
    assert!(
        run.stderr()
            .contains("not of this registry's issuer metro-police"),
        "{}",
        run.stderr()
    );
}

#[test]
fn an_unknown_supplier_is_refused() {
    let office = Office::new();
    office.init();
    let run = office
        .run(&["incident", "plan", "--supplier", "nobody-print"])
        .exits(1);
    assert!(
        run.stderr().contains("no supplier `nobody-print`"),
        "{}",
        run.stderr()
    );
}

#[test]
fn audit_verify_prints_a_head_and_export_carries_no_pay_numbers() {
    let office = Office::new();
    office.init();
    office.sync_roster(5);
    let v = office.run(&["audit", "verify", "--json"]).ok().json();
    assert!(v["entries"].as_u64().unwrap_or(0) >= 3, "{v}");
    assert_eq!(v["head"].as_str().map(str::len), Some(64));
    let export = office.run(&["audit", "export", "--format", "jsonl"]).ok();
    let lines: Vec<&str> = export
        .output
        .stdout
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| std::str::from_utf8(l).unwrap_or_default())
        .collect();
    assert_eq!(lines.len() as u64, v["entries"].as_u64().unwrap_or(0));
    assert!(!export.stdout().contains("1000001"), "{}", export.stdout());
}

#[test]
fn piping_into_a_closed_pipe_does_not_panic() {
    use std::io::Read as _;
    use std::process::{Command, Stdio};
    let office = Office::new();
    office.init();
    let mut child = Command::new(env!("CARGO_BIN_EXE_revocard"))
        .args(["completions", "bash"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    // Read one byte and close the pipe, as `| head -c1` would.
    let mut out = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    let mut one = [0u8; 1];
    let _ = out.read(&mut one);
    drop(out);
    let status = child.wait().unwrap_or_else(|e| panic!("{e}"));
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    assert!(!err.contains("panicked"), "{err}");
    assert!(status.code().is_some_and(|c| c == 0), "{status:?} {err}");
}

#[test]
fn serve_answers_the_published_folder_and_refuses_a_path_outside_it() {
    use std::io::{Read as _, Write as _};
    let office = Office::new();
    office.init();
    let out = office.path("published");
    office
        .run(&["publish", "--out", &out.to_string_lossy()])
        .ok();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"));
    let listen = format!("127.0.0.1:{port}");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_revocard"))
        .args([
            "serve",
            "--dir",
            &out.to_string_lossy(),
            "--listen",
            &listen,
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let get = |path: &str| -> Option<String> {
        let mut s = std::net::TcpStream::connect(&listen).ok()?;
        s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .ok()?;
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut text = String::new();
        s.read_to_string(&mut text).ok()?;
        Some(text)
    };
    let mut answer = None;
    for _ in 0..100 {
        answer = get("/metro-police/latest.json");
        if answer.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let traversal = get("/metro-police/../../keys/root.key");
    let _ = child.kill();
    let _ = child.wait();
    let answer = answer.unwrap_or_else(|| panic!("serve never answered on {listen}"));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("etag:"), "{answer}");
    assert!(answer.contains("\"issuer\":\"metro-police\""), "{answer}");
    let traversal = traversal.unwrap_or_default();
    assert!(!traversal.starts_with("HTTP/1.1 200"), "{traversal}");
    assert!(!traversal.contains("revocard-key"), "{traversal}");
}

#[test]
fn publish_with_a_base_url_writes_the_standard_views_beside_the_native_files() {
    let office = Office::new();
    office.init();
    let out = office.path("published");
    let out_text = out.to_string_lossy().into_owned();
    office.run(&["publish", "--out", &out_text]).ok();
    assert!(
        !out.join("metro-police/status").exists(),
        "views without --base-url"
    );
    office
        .run(&[
            "publish",
            "--out",
            &out_text,
            "--base-url",
            "https://status.example.org/revocard",
        ])
        .ok();
    let status = out.join("metro-police/status");
    for f in [
        "ietf.jwt",
        "w3c-revocation.jwt",
        "w3c-suspension.jwt",
        "jwks.json",
    ] {
        assert!(
            status.join(f).is_file(),
            "{f} missing in {}",
            status.display()
        );
    }
    let token = std::fs::read_to_string(status.join("ietf.jwt")).unwrap_or_default();
    assert_eq!(token.split('.').count(), 3, "{token}");
}

/// Cards issued in a period (the window a contractor's systems were open): the plan
/// covers exactly those, records a supplier breach (not the cards' own keys'
/// compromise), and declaring revokes them with that reason. A period holding no card
/// is refused.
#[test]
fn an_incident_by_issue_period_revokes_what_was_issued_then_as_a_supplier_breach() {
    let office = Office::new();
    office.init();
    office.sync_roster(12);
    office
        .run(&["simulate-blanks", "--count", "12", "--out", "north"])
        .ok();
    let north = office.path("north/blanks.csv");
    let issued = office
        .run(&[
            "issue",
            "--supplier",
            "northgate-print",
            "--cards",
            &north.to_string_lossy(),
            "--json",
        ])
        .ok()
        .json();
    let manifest = std::fs::read_to_string(issued["manifest"].as_str().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}"));
    let serial = manifest
        .lines()
        .nth(1)
        .and_then(|l| l.split(',').next())
        .unwrap_or_default()
        .to_owned();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let window = format!("{}..{}", now - 3600, now + 3600);
    let plan = office
        .run(&["incident", "plan", "--issued", &window, "--json"])
        .ok()
        .json();
    assert_eq!(plan["affected"], 12, "{plan}");
    assert_eq!(plan["reason"], "supplier-breach", "{plan}");

    let before = "2001-01-01T00:00:00Z..2001-02-01T00:00:00Z";
    let run = office
        .run(&["incident", "plan", "--issued", before])
        .exits(1);
    assert!(
        run.stderr().contains("no card was issued in"),
        "{}",
        run.stderr()
    );

    let declared = office
        .run(&[
            "incident",
            "declare",
            "--issued",
            &window,
            "--reissue-via",
            "southbank-print",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(declared["revoked"], 12, "{declared}");
    let shown = office.run(&["show", &serial, "--json"]).ok().json();
    let text = shown.to_string();
    assert!(text.contains("supplier-breach"), "{text}");
    assert!(text.contains("revoked"), "{text}");
}
