//! The static published layout (`Registry::publish_to`, ARCHITECTURE.md "The published
//! layout"): what it writes, that it never rewrites a published file, and that a door
//! given only the files, read from disk or fetched through a real nginx on loopback,
//! verifies anchor -> key set -> list -> deltas and denies a revoked card.
//!
//! The nginx test starts its own nginx (non-daemon, one process, a generated
//! configuration in a temporary folder, a free loopback port) and stops it. If nginx is
//! missing it FAILS under CI (`CI` set, or `REVOCARD_REQUIRE_SERVICES=1`) and otherwise
//! prints "skipped: nginx missing"; `scripts/ensure-nginx` (called by `scripts/test`)
//! installs it from Debian.

mod common;

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use revocard::issue::*;
use revocard::net::layout::issuer_dir_name;
use revocard::net::*;
use revocard::registry::*;
use revocard::*;
use serde_json::Value;
use sha2::Digest as _;

fn roster(n: u32) -> Vec<HolderRequest> {
    (0..n)
        .map(|i| HolderRequest {
            kind: Kind::WarrantCard,
            holder: holder(i),
            vetting: Vetting::new(PoliceVetting::Force(ForceVetting::Recruitment), None),
            validity: Validity::new(NOW.minus(60), NOW.plus(YEAR)).unwrap(),
        })
        .collect()
}

struct Issuer {
    reg: Registry<SqliteStore>,
    key: IssuerKey,
    /// Every card, in status-index order of issue.
    cards: Vec<CredentialRecord>,
}

/// A registry with six cards and four status changes after the first list: card 0
/// revoked, card 1 suspended then reinstated, card 2 revoked (sequences 2 to 5).
fn issuer(seed: u64) -> Issuer {
    let mut rng = rng(seed);
    let key = issuer_key(&mut rng);
    let store = SqliteStore::open_in_memory().unwrap();
    let mut reg = create_registry(store, &key, CAPACITY, NOW, NOW.plus(3600)).unwrap();
    let mut blanks = card_list(&mut rng, 6);
    reg.issue_roster(
        &key,
        "northgate-print",
        &roster(6),
        &mut blanks,
        NOW,
        &mut rng,
        &mut Hooks::default(),
    )
    .unwrap();
    let cards = reg.store().credentials(&CredentialFilter::All).unwrap();
    assert_eq!(cards.len(), 6);
    let mut issuer = Issuer { reg, key, cards };
    issuer.change(0, Status::Revoked);
    issuer.change(1, Status::Suspended);
    issuer.change(1, Status::Valid);
    issuer.change(2, Status::Revoked);
    issuer
}

impl Issuer {
    fn change(&mut self, card: usize, status: Status) -> PublicationRecord {
        self.reg
            .set_status(
                &self.key,
                self.cards[card].serial,
                status,
                RevocationReason::Lost,
                NOW,
                NOW.plus(3600),
            )
            .unwrap()
    }

    fn latest(&self) -> PublicationRecord {
        self.reg.latest_publication().unwrap().unwrap()
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What a door does with the layout, given a way to fetch a path under the issuer's
/// folder: read `latest.json`, check every file it names against its digest, install
/// the anchor, the key set and the list `from` sequences behind, walk the deltas up to
/// the latest, and end in exactly the state of the latest full list.
fn door_walks_the_layout(
    fetch: &dyn Fn(&str) -> Option<Vec<u8>>,
    issuer: &Issuer,
    behind: u64,
) -> Verifier {
    let latest: Value = serde_json::from_slice(&fetch("latest.json").unwrap()).unwrap();
    let record = issuer.latest();
    let n = record.sequence;
    assert_eq!(latest["format"], 1);
    assert_eq!(latest["issuer"], issuer.key.issuer().as_str());
    assert_eq!(latest["published_at"], record.published_at.0);
    assert_eq!(latest["next_update"], NOW.plus(3600).0);
    assert_eq!(latest["list"]["sequence"], n);
    assert_eq!(latest["list"]["path"], format!("lists/{n}.rcl"));
    assert_eq!(latest["delta"]["from"], n - 1);
    assert_eq!(latest["delta"]["to"], n);
    assert_eq!(latest["delta"]["path"], format!("deltas/{n}.rcd"));
    assert_eq!(latest["anchor"]["path"], "anchor.rca");
    let named = |part: &str| -> Vec<u8> {
        let path = latest[part]["path"].as_str().unwrap();
        let bytes = fetch(path).unwrap_or_else(|| panic!("{path} missing"));
        assert_eq!(latest[part]["sha256"], sha256_hex(&bytes), "{path} digest");
        if let Some(len) = latest[part]["bytes"].as_u64() {
            assert_eq!(len, bytes.len() as u64, "{path} length");
        }
        bytes
    };
    let (anchor, key_set, list, delta) = (
        named("anchor"),
        named("key_set"),
        named("list"),
        named("delta"),
    );
    assert_eq!(list, record.list);
    assert_eq!(Some(delta), record.delta);
    assert_eq!(key_set, issuer.reg.key_set_bytes().unwrap());

    let door = Verifier::new(TrustStore::new(), VerifyOptions::default());
    door.add_root(RootPublicKey::from_bytes(&anchor).unwrap())
        .unwrap();
    door.install_key_set(&key_set, NOW).unwrap();
    let start = n - behind;
    let old = fetch(&format!("lists/{start}.rcl")).unwrap();
    assert_eq!(
        door.install_list(&old, NOW).unwrap(),
        ListUpdate::Installed { sequence: start }
    );
    for to in start + 1..=n {
        let delta = fetch(&format!("deltas/{to}.rcd")).unwrap();
        assert_eq!(
            door.apply_delta(&delta, NOW).unwrap(),
            ListUpdate::Advanced { from: to - 1, to }
        );
    }
    let held = door.list(issuer.key.issuer()).unwrap();
    assert_eq!(held.sequence(), n);
    assert_eq!(held.state_digest(), list_state_digest(&list).unwrap().0);
    // The revoked cards are denied; the others, the reinstated one too, admitted.
    for (i, card) in issuer.cards.iter().enumerate() {
        let answer = door.verify(&card.bytes, NOW);
        match i {
            0 | 2 => assert!(
                matches!(answer, Err(Denial::Revoked { .. })),
                "card {i}: {answer:?}"
            ),
            _ => assert!(answer.is_ok(), "card {i}: {answer:?}"),
        }
    }
    door
}

#[test]
fn the_layout_holds_every_publication_and_never_rewrites_one() {
    let mut issuer = issuer(41);
    let out = tempfile::tempdir().unwrap();
    let n = issuer.latest().sequence;
    assert_eq!(n, 5);

    let report = issuer.reg.publish_to(out.path()).unwrap();
    let dir = out.path().join("test-police");
    assert_eq!(report.issuer_dir, dir);
    assert_eq!(report.list_sequence, n);
    assert_eq!(report.key_set_sequence, 1);
    let mut expected = vec!["lists/1.rcl".to_owned()];
    for s in 2..=n {
        expected.push(format!("deltas/{s}.rcd"));
        expected.push(format!("lists/{s}.rcl"));
    }
    expected.extend(["keysets/1.rks", "anchor.rca", "latest.json"].map(str::to_owned));
    assert_eq!(report.written, expected, "oldest first, latest.json last");
    assert_eq!(report.unchanged, 0);
    // No temporary file is left behind.
    for sub in ["", "lists", "deltas", "keysets"] {
        for entry in std::fs::read_dir(dir.join(sub)).unwrap() {
            let name = entry.unwrap().file_name();
            assert!(!name.to_string_lossy().starts_with('.'), "{name:?}");
        }
    }
    let fetch = |path: &str| std::fs::read(dir.join(path)).ok();
    // A door holding the list three sequences back walks three deltas.
    door_walks_the_layout(&fetch, &issuer, 3);
    door_walks_the_layout(&fetch, &issuer, n - 1);

    // Again with nothing new: only the pointer is written.
    let again = issuer.reg.publish_to(out.path()).unwrap();
    assert_eq!(again.written, vec!["latest.json".to_owned()]);
    // One more revocation: its delta and list, then the pointer.
    issuer.change(3, Status::Revoked);
    let next = issuer.reg.publish_to(out.path()).unwrap();
    assert_eq!(
        next.written,
        vec![
            format!("deltas/{}.rcd", n + 1),
            format!("lists/{}.rcl", n + 1),
            "latest.json".to_owned()
        ]
    );
    let latest: Value = serde_json::from_slice(&fetch("latest.json").unwrap()).unwrap();
    assert_eq!(latest["list"]["sequence"], n + 1);

    // A published file is never rewritten with other bytes, and the pointer is not
    // moved past it.
    let pointer = fetch("latest.json").unwrap();
    let list = dir.join(format!("lists/{}.rcl", n + 1));
    let mut bytes = std::fs::read(&list).unwrap();
    *bytes.last_mut().unwrap() ^= 1;
    std::fs::write(&list, &bytes).unwrap();
    issuer.change(4, Status::Revoked);
    match issuer.reg.publish_to(out.path()) {
        Err(PublishError::Conflict { path }) => assert_eq!(path, list),
        other => panic!("{other:?}"),
    }
    assert_eq!(fetch("latest.json").unwrap(), pointer);
    assert_eq!(std::fs::read(&list).unwrap(), bytes);
    assert!(fetch(&format!("lists/{}.rcl", n + 2)).is_none());
}

#[test]
fn a_folder_of_another_issuer_is_refused_and_nothing_published_is_an_error() {
    let issuer = issuer(42);
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("test-police");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("latest.json"), br#"{"format":1,"issuer":"other"}"#).unwrap();
    match issuer.reg.publish_to(out.path()) {
        Err(PublishError::OtherIssuer { found, .. }) => assert_eq!(found, "other"),
        other => panic!("{other:?}"),
    }
    assert!(!dir.join("lists/1.rcl").exists());
    assert_eq!(issuer_dir_name(issuer.key.issuer()), "test-police");
}

// ---------------------------------------------------------------------------
// Through nginx
// ---------------------------------------------------------------------------

/// Whether a missing service must fail the test rather than skip it.
fn services_required() -> bool {
    std::env::var_os("CI").is_some()
        || std::env::var("REVOCARD_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

fn nginx_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into()])
        .map(|dir| dir.join("nginx"))
        .find(|p| p.is_file())
}

/// An nginx serving `root` on a loopback port, stopped on drop.
struct Nginx {
    child: Child,
    port: u16,
    _scratch: tempfile::TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_nginx(binary: &Path, root: &Path) -> Nginx {
    let scratch = tempfile::tempdir().unwrap();
    let s = scratch.path().display().to_string();
    for _attempt in 0..5 {
        // A free port: bind port 0, read it, let it go (nginx may lose a race for it;
        // then the next attempt takes another).
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let conf = format!(
            "daemon off;\nmaster_process off;\nworker_processes 1;\npid {s}/nginx.pid;\n\
             error_log {s}/error.log warn;\nevents {{ worker_connections 64; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {s}/body;\n\
             proxy_temp_path {s}/proxy;\n  fastcgi_temp_path {s}/fastcgi;\n\
             uwsgi_temp_path {s}/uwsgi;\n  scgi_temp_path {s}/scgi;\n\
             types {{ application/json json; application/octet-stream rca rks rcl rcd; }}\n\
             default_type application/octet-stream;\n\
             server {{\n    listen 127.0.0.1:{port};\n    root {root};\n\
             location / {{ try_files $uri =404; }}\n  }}\n}}\n",
            root = root.display()
        );
        let conf_path = scratch.path().join("nginx.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let mut child = Command::new(binary)
            .arg("-p")
            .arg(scratch.path())
            .arg("-e")
            .arg(scratch.path().join("error.log"))
            .arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Nginx {
                    child,
                    port,
                    _scratch: scratch,
                };
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    let log = std::fs::read_to_string(scratch.path().join("error.log")).unwrap_or_default();
    panic!("nginx did not start on loopback after 5 attempts:\n{log}");
}

/// A bounded HTTP/1.0 GET on loopback: (status, headers, body).
fn get(port: u16, path: &str) -> (u16, String, Vec<u8>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut response = Vec::new();
    stream.take(1 << 20).read_to_end(&mut response).unwrap();
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP response");
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status code");
    (status, head, response[split + 4..].to_vec())
}

#[test]
fn nginx_serves_the_layout_and_a_door_walks_it() {
    let Some(binary) = nginx_binary() else {
        assert!(
            !services_required(),
            "nginx is missing and CI requires it (scripts/ensure-nginx installs it)"
        );
        eprintln!("\n*** skipped: nginx missing (run scripts/ensure-nginx) ***\n");
        return;
    };
    let issuer = issuer(43);
    let out = tempfile::tempdir().unwrap();
    issuer.reg.publish_to(out.path()).unwrap();
    let nginx = start_nginx(&binary, out.path());
    let port = nginx.port;
    let fetch = |path: &str| {
        let (status, head, body) = get(port, &format!("/test-police/{path}"));
        match status {
            200 => {
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("Content-Length: "))
                    .and_then(|v| v.trim().parse::<usize>().ok());
                assert_eq!(length, Some(body.len()), "{path}: {head}");
                Some(body)
            }
            404 => None,
            other => panic!("{path}: HTTP {other}\n{head}"),
        }
    };
    let n = issuer.latest().sequence;
    door_walks_the_layout(&fetch, &issuer, 3);
    // A sequence not published yet is not there; nothing outside DIR is served.
    assert!(fetch(&format!("lists/{}.rcl", n + 1)).is_none());
    assert_eq!(get(port, "/../etc/passwd").0, 400);
    drop(nginx);
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "nginx stopped"
    );
}
