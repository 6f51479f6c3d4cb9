//! The publisher and the door feed on loopback (features `serve` and `feed`): a
//! revocation reaching a door with no restart, a hostile or broken publisher that
//! never makes a door fail open, crash or grow, and hostile clients that never read
//! outside the directory or stop a push.

mod common;

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use revocard::door::{DoorController, DoorPolicy};
use revocard::issue::*;
use revocard::net::feed::{Feed, FeedConfig, FeedError, FeedEvent, FeedHandle, FeedMode};
use revocard::net::layout::{Latest, sha256_hex};
use revocard::net::serve::{ServeConfig, ServerHandle};
use revocard::registry::*;
use revocard::*;

/// How long a test waits for something that should take milliseconds.
const PATIENCE: Duration = Duration::from_secs(10);

fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return true;
        }
        thread::sleep(Duration::from_millis(10));
    }
    done()
}

/// Events a feed reported, for assertions.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<FeedEvent>>>);

impl Log {
    fn sink(&self) -> Arc<dyn Fn(&FeedEvent) + Send + Sync> {
        let log = Arc::clone(&self.0);
        Arc::new(move |e: &FeedEvent| log.lock().unwrap().push(e.clone()))
    }
    fn any(&self, f: impl Fn(&FeedEvent) -> bool) -> bool {
        self.0.lock().unwrap().iter().any(f)
    }
    fn refused(&self, f: impl Fn(&FeedError) -> bool) -> bool {
        self.any(|e| matches!(e, FeedEvent::Refused { error } if f(error)))
    }
    fn dump(&self) -> String {
        format!("{:#?}", self.0.lock().unwrap())
    }
}

/// A feed config for tests: the fixed test clock, short timeouts.
fn feed_config(base: &str, log: &Log) -> FeedConfig {
    let mut config = FeedConfig::new(base, issuer_id());
    config.clock = Arc::new(|| NOW);
    config.on_event = Some(log.sink());
    config.fetch_timeout = Duration::from_millis(800);
    config.idle_timeout = Duration::from_millis(800);
    config.backoff_min = Duration::from_millis(50);
    config.backoff_max = Duration::from_millis(200);
    config.poll_interval = Duration::from_millis(100);
    config
}

fn serve(dir: &std::path::Path) -> ServerHandle {
    let mut config = ServeConfig::new(dir, "127.0.0.1:0".parse().unwrap());
    config.watch_interval = Duration::from_millis(20);
    config.ping_interval = Duration::from_millis(200);
    config.worker_threads = 2;
    revocard::net::serve::spawn(config).unwrap()
}

fn base_url(addr: SocketAddr) -> String {
    format!("http://{addr}")
}

// --- serve + feed + registry --------------------------------------------------------

fn registry_with_cards(n: u32) -> (Registry<SqliteStore>, IssuerKey, Vec<CredentialRecord>) {
    let mut rng = rng(12);
    let key = issuer_key(&mut rng);
    let mut reg = create_registry(
        SqliteStore::open_in_memory().unwrap(),
        &key,
        CAPACITY,
        NOW,
        NOW.plus(3600),
    )
    .unwrap();
    let roster: Vec<HolderRequest> = (0..n)
        .map(|i| HolderRequest {
            kind: Kind::WarrantCard,
            holder: holder(i),
            vetting: Vetting::new(PoliceVetting::Force(ForceVetting::Recruitment), None),
            validity: Validity::new(NOW.minus(60), NOW.plus(YEAR)).unwrap(),
        })
        .collect();
    reg.issue_roster(
        &key,
        "northgate-print",
        &roster,
        &mut fresh(&mut rng),
        NOW,
        &mut rng,
        &mut Hooks::default(),
    )
    .unwrap();
    let cards = reg.store().credentials(&CredentialFilter::All).unwrap();
    (reg, key, cards)
}

#[test]
fn a_revocation_declared_at_the_registry_denies_the_next_tap_at_a_fed_door() {
    let dir = tempfile::tempdir().unwrap();
    let (mut reg, key, cards) = registry_with_cards(4);
    let folder = reg.publish_to(dir.path()).unwrap().issuer_dir;
    let server = serve(dir.path());

    // The door is configured once with the issuer's root anchor, as its vendor ships it.
    let anchor = std::fs::read(folder.join("anchor.rca")).unwrap();
    let verifier = Arc::new(Verifier::new(TrustStore::new(), VerifyOptions::default()));
    verifier
        .add_root(RootPublicKey::from_bytes(&anchor).unwrap())
        .unwrap();
    let front = door::DoorId::new("front-gate").unwrap();
    let controller =
        DoorController::new(Arc::clone(&verifier), vec![DoorPolicy::new(front.clone())]).unwrap();
    let log = Log::default();
    let feed = Feed::new(
        feed_config(&base_url(server.local_addr()), &log),
        Arc::clone(&verifier),
    )
    .unwrap()
    .spawn()
    .unwrap();

    let tap = |bytes: &[u8]| controller.tap(&front, bytes, None, NOW);
    assert!(
        wait_until(PATIENCE, || tap(&cards[0].bytes).is_admitted()),
        "the feed never installed the key set and list: {}",
        log.dump()
    );
    assert!(wait_until(PATIENCE, || log.any(|e| *e == FeedEvent::PushConnected)));

    // Lost card: one call at the registry, one publication, no restart anywhere.
    reg.set_status(
        &key,
        cards[0].serial,
        Status::Revoked,
        RevocationReason::Lost,
        NOW,
        NOW.plus(3600),
    )
    .unwrap();
    reg.publish_to(dir.path()).unwrap();
    assert!(
        wait_until(PATIENCE, || !tap(&cards[0].bytes).is_admitted()),
        "the door never learnt of the revocation: {}",
        log.dump()
    );
    let decision = tap(&cards[0].bytes);
    assert_eq!(decision.reason_code(), "revoked");
    assert!(
        tap(&cards[1].bytes).is_admitted(),
        "other cards still open the door"
    );
    assert!(
        log.any(|e| matches!(e, FeedEvent::DeltaApplied { pushed: true, .. })),
        "the revocation came as a pushed delta: {}",
        log.dump()
    );
    assert_eq!(feed.stats().lists_installed, 1, "one full list, at start");
    feed.stop();
    server.shutdown();
}

#[test]
fn a_door_behind_a_static_server_polls_and_takes_deltas_by_conditional_get() {
    // No event stream (this server answers `events` with 404, as nginx would).
    let dir = tempfile::tempdir().unwrap();
    let (mut reg, key, cards) = registry_with_cards(2);
    reg.publish_to(dir.path()).unwrap();
    let files = StaticServer::start(dir.path().to_path_buf());
    let verifier = Arc::new(Verifier::new(TrustStore::new(), VerifyOptions::default()));
    verifier.add_root(reg.root().clone()).unwrap();
    let log = Log::default();
    let feed = Feed::new(
        feed_config(&base_url(files.addr), &log),
        Arc::clone(&verifier),
    )
    .unwrap()
    .spawn()
    .unwrap();
    assert!(wait_until(PATIENCE, || verifier
        .verify(&cards[0].bytes, NOW)
        .is_ok()));
    assert!(
        wait_until(PATIENCE, || files.not_modified() > 0),
        "polling is conditional: an unchanged pointer is answered 304"
    );
    reg.set_status(
        &key,
        cards[0].serial,
        Status::Revoked,
        RevocationReason::Lost,
        NOW,
        NOW.plus(3600),
    )
    .unwrap();
    reg.publish_to(dir.path()).unwrap();
    assert!(
        wait_until(PATIENCE, || verifier.verify(&cards[0].bytes, NOW).is_err()),
        "{}",
        log.dump()
    );
    assert!(log.any(|e| matches!(e, FeedEvent::PushUnavailable { status: 404 })));
    assert!(log.any(|e| matches!(e, FeedEvent::DeltaApplied { pushed: false, .. })));
    feed.stop();
}

// --- a deliberately broken publisher --------------------------------------------------

/// What the broken server does with one request.
#[derive(Clone)]
enum Reply {
    /// Status, content type, body, and whether to send `Content-Length`.
    Full(u16, &'static str, Vec<u8>, bool),
    /// Headers announcing `len` bytes, then one byte every `every`.
    Drip { len: usize, every: Duration },
    /// Headers without a length, then bytes for ever.
    Endless,
    /// An event stream: these bytes, then silence with the connection held open.
    EventsThenSilence(String),
    /// Reads the request and never answers.
    Hang,
    /// These bytes, as they are.
    Raw(Vec<u8>),
    /// An event stream of pings naming a sequence far ahead, as fast as it can write.
    PingFlood,
}

/// Path and whole request head to a reply.
type Routes = Arc<dyn Fn(&str, &str) -> Reply + Send + Sync>;

/// A loopback HTTP server that answers each request as its routes say, one thread a
/// connection, `Connection: close`. Dropped: it stops and every connection ends.
struct Broken {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    acceptor: Option<thread::JoinHandle<()>>,
}

impl Broken {
    fn start(routes: Routes) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let acceptor = thread::spawn(move || {
            for conn in listener.incoming() {
                if stopping.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let routes = Arc::clone(&routes);
                let stopping = Arc::clone(&stopping);
                thread::spawn(move || answer(conn, &*routes, &stopping));
            }
        });
        Self {
            addr,
            stop,
            acceptor: Some(acceptor),
        }
    }
}

impl Drop for Broken {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(self.addr);
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
    }
}

fn read_head(conn: &mut TcpStream) -> Option<String> {
    conn.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
        if conn.read(&mut byte).ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    String::from_utf8(head).ok()
}

fn answer(mut conn: TcpStream, routes: &dyn Fn(&str, &str) -> Reply, stop: &AtomicBool) {
    let Some(head) = read_head(&mut conn) else {
        return;
    };
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let until_stopped = |conn: &mut TcpStream, mut step: Box<dyn FnMut(&mut TcpStream) -> bool>| {
        let start = Instant::now();
        while !stop.load(Ordering::Relaxed) && start.elapsed() < Duration::from_secs(30) {
            if !step(conn) {
                return;
            }
        }
    };
    match routes(&path, &head) {
        Reply::Raw(bytes) => {
            let _ = conn.write_all(&bytes);
        }
        Reply::Full(status, ctype, body, length) => {
            let mut out =
                format!("HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nConnection: close\r\n");
            if length {
                out.push_str(&format!("Content-Length: {}\r\n", body.len()));
            }
            out.push_str("\r\n");
            let _ = conn.write_all(out.as_bytes());
            let _ = conn.write_all(&body);
        }
        Reply::Drip { len, every } => {
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n"
            );
            until_stopped(
                &mut conn,
                Box::new(move |c| {
                    thread::sleep(every);
                    c.write_all(b"\x01").is_ok()
                }),
            );
        }
        Reply::Endless => {
            let _ = conn.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
            );
            let chunk = vec![0x5a_u8; 64 * 1024];
            until_stopped(&mut conn, Box::new(move |c| c.write_all(&chunk).is_ok()));
        }
        Reply::EventsThenSilence(events) => {
            let _ = conn.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n",
            );
            let _ = conn.write_all(events.as_bytes());
            until_stopped(
                &mut conn,
                Box::new(|_| {
                    thread::sleep(Duration::from_millis(20));
                    true
                }),
            );
        }
        Reply::PingFlood => {
            let _ = conn.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n",
            );
            let burst = "event: ping\ndata: 999\n\n".repeat(100);
            until_stopped(
                &mut conn,
                Box::new(move |c| {
                    thread::sleep(Duration::from_millis(1));
                    c.write_all(burst.as_bytes()).is_ok()
                }),
            );
        }
        Reply::Hang => until_stopped(
            &mut conn,
            Box::new(|_| {
                thread::sleep(Duration::from_millis(20));
                true
            }),
        ),
    }
}

fn not_found() -> Reply {
    Reply::Full(404, "text/plain", b"no".to_vec(), true)
}

/// The honest issuer's objects: list 1 (what the door holds), list 2 and its delta.
struct Honest {
    key: IssuerKey,
    card: Credential,
    lists: Vec<Publication>,
    /// A branch: list 2' (another revocation at sequence 2) and its successor 3'.
    branch: Vec<Publication>,
}

fn honest() -> Honest {
    let mut rng = rng(21);
    let key = issuer_key(&mut rng);
    let card = key.issue(request(5), NOW, &mut rng).unwrap();
    let mut statuses = IssuerStatusList::new(issuer_id(), CAPACITY).unwrap();
    let mut branch_statuses = IssuerStatusList::new(issuer_id(), CAPACITY).unwrap();
    let first = statuses.publish(&key, NOW, NOW.plus(3600)).unwrap();
    assert_eq!(
        branch_statuses.publish(&key, NOW, NOW.plus(3600)).unwrap(),
        first
    );
    statuses.revoke(9, RevocationReason::Lost, NOW).unwrap();
    let second = statuses.publish(&key, NOW, NOW.plus(3600)).unwrap();
    branch_statuses
        .revoke(11, RevocationReason::Lost, NOW)
        .unwrap();
    let second_b = branch_statuses.publish(&key, NOW, NOW.plus(3600)).unwrap();
    branch_statuses
        .revoke(12, RevocationReason::Lost, NOW)
        .unwrap();
    let third_b = branch_statuses.publish(&key, NOW, NOW.plus(3600)).unwrap();
    Honest {
        key,
        card,
        lists: vec![first, second],
        branch: vec![second_b, third_b],
    }
}

/// A pointer naming `list` at `sequence`, whatever its bytes.
fn pointer(issuer: &str, sequence: u64, list: &[u8]) -> Vec<u8> {
    Latest {
        format: 1,
        issuer: issuer.to_owned(),
        published_at: NOW.0,
        next_update: NOW.plus(3600).0,
        list: revocard::net::layout::ListPointer {
            sequence,
            path: format!("lists/{sequence}.rcl"),
            sha256: sha256_hex(list),
            // A hostile server may say anything here; the feed bounds by the constant.
            bytes: list.len().min(MAX_LIST_BYTES) as u64,
        },
        delta: None,
        key_set: revocard::net::layout::KeySetPointer {
            sequence: 1,
            path: "keysets/1.rks".into(),
            sha256: "0".repeat(64),
        },
        anchor: revocard::net::layout::AnchorPointer {
            path: "anchor.rca".into(),
            sha256: "0".repeat(64),
        },
    }
    .to_json()
}

/// Runs a feed against `routes` for a door holding `held` (signed by the honest key,
/// pinned: no root), for `run`, then checks what every case must hold: the list held
/// is unchanged, the card still passes on it, a stale list denies, and the feed is
/// alive and stops promptly. Returns the log.
fn against_broken(
    held: &Publication,
    routes: Routes,
    run: Duration,
    mode: FeedMode,
) -> (Log, revocard::net::feed::FeedStats) {
    let honest = honest();
    let verifier = Arc::new(Verifier::new(TrustStore::new(), VerifyOptions::default()));
    verifier.add_key(honest.key.public().clone()).unwrap();
    verifier.install_list(&held.list, NOW).unwrap();
    let before = verifier.list(&issuer_id()).unwrap();
    let server = Broken::start(routes);
    let log = Log::default();
    let mut config = feed_config(&base_url(server.addr), &log);
    config.mode = mode;
    let feed: FeedHandle = Feed::new(config, Arc::clone(&verifier))
        .unwrap()
        .spawn()
        .unwrap();
    thread::sleep(run);
    assert!(feed.is_running(), "the feed never ends by itself");
    let stats = feed.stats();
    let stopping = Instant::now();
    feed.stop();
    assert!(
        stopping.elapsed() < Duration::from_secs(2),
        "the feed stops promptly"
    );
    let after = verifier.list(&issuer_id()).unwrap();
    assert_eq!(after.sequence(), before.sequence(), "{}", log.dump());
    assert_eq!(after.state_digest(), before.state_digest());
    // The door keeps its last good list until it is stale, then denies.
    verifier.verify(honest.card.bytes(), NOW).unwrap();
    let stale = NOW.plus(3600 + DEFAULT_STATUS_GRACE_SECS + 1);
    assert!(matches!(
        verifier.verify(honest.card.bytes(), stale),
        Err(Denial::StatusStale { .. })
    ));
    drop(server);
    (log, stats)
}

/// Routes serving `body` as list 2 (named by a pointer whose digest matches it) and no
/// event stream, so that the feed polls.
fn list_two(body: Reply, digest_of: Vec<u8>) -> Routes {
    let latest = pointer(issuer_id().as_str(), 2, &digest_of);
    Arc::new(move |path: &str, _: &str| match path {
        "/test-police/latest.json" => Reply::Full(200, "application/json", latest.clone(), true),
        "/test-police/lists/2.rcl" => body.clone(),
        _ => not_found(),
    })
}

/// `list_two` answering the list's bytes, with a Content-Length when `announced`.
fn list_bytes(body: Vec<u8>, announced: bool) -> Routes {
    list_two(
        Reply::Full(200, "application/octet-stream", body.clone(), announced),
        body,
    )
}

const RUN: Duration = Duration::from_millis(1500);

#[test]
fn garbage_is_refused_and_the_door_keeps_its_list() {
    let h = honest();
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let (log, stats) = against_broken(&h.lists[0], list_bytes(garbage, true), RUN, FeedMode::Push);
    assert!(
        log.refused(|e| matches!(e, FeedError::List(ListError::Malformed(_)))),
        "{}",
        log.dump()
    );
    assert_eq!(stats.lists_installed, 0);
}

#[test]
fn a_truncated_list_is_refused() {
    let h = honest();
    let full = &h.lists[1].list;
    let truncated = full[..full.len() / 2].to_vec();
    let (log, _) = against_broken(
        &h.lists[0],
        list_bytes(truncated, true),
        RUN,
        FeedMode::Push,
    );
    assert!(
        log.refused(|e| matches!(e, FeedError::List(ListError::Malformed(_)))),
        "{}",
        log.dump()
    );
    // A body cut short of its Content-Length is a transport failure, also refused.
    let (log, _) = against_broken(
        &h.lists[0],
        list_two(
            Reply::Full(
                200,
                "application/octet-stream",
                full[..full.len() / 2].to_vec(),
                false,
            ),
            full.clone(),
        ),
        RUN,
        FeedMode::Push,
    );
    assert!(log.refused(|_| true), "{}", log.dump());
}

#[test]
fn an_oversized_list_is_refused_before_it_is_read_or_as_soon_as_it_passes_the_limit() {
    let h = honest();
    let huge = vec![0u8; MAX_LIST_BYTES + 1];
    // Announced by Content-Length: refused before the body is read.
    let (log, stats) = against_broken(
        &h.lists[0],
        list_bytes(huge.clone(), true),
        RUN,
        FeedMode::Poll(Duration::from_millis(200)),
    );
    assert!(
        log.refused(|e| matches!(e, FeedError::TooLarge { max, .. } if *max == MAX_LIST_BYTES)),
        "{}",
        log.dump()
    );
    assert!(
        stats.bytes_received < 64 * 1024,
        "nothing of the body was kept: {stats:?}"
    );
    // Not announced: read up to the limit, then refused.
    let (log, _) = against_broken(
        &h.lists[0],
        list_bytes(huge, false),
        RUN,
        FeedMode::Poll(Duration::from_millis(200)),
    );
    assert!(
        log.refused(|e| matches!(e, FeedError::TooLarge { .. })),
        "{}",
        log.dump()
    );
}

#[test]
fn a_slow_drip_times_out() {
    let h = honest();
    let list = h.lists[1].list.clone();
    let (log, stats) = against_broken(
        &h.lists[0],
        list_two(
            Reply::Drip {
                len: list.len(),
                every: Duration::from_millis(20),
            },
            list,
        ),
        RUN,
        FeedMode::Push,
    );
    assert!(
        log.refused(|e| matches!(e, FeedError::TimedOut { .. })),
        "{}",
        log.dump()
    );
    assert!(stats.bytes_received < 1024, "{stats:?}");
}

#[test]
fn a_never_ending_body_is_cut_at_the_limit() {
    let h = honest();
    let (log, stats) = against_broken(
        &h.lists[0],
        list_two(Reply::Endless, vec![1]),
        RUN,
        FeedMode::Poll(Duration::from_secs(10)),
    );
    assert!(
        log.refused(|e| matches!(e, FeedError::TooLarge { max, .. } if *max == MAX_LIST_BYTES)),
        "{}",
        log.dump()
    );
    // One attempt in the run: what was read stops within a read of the limit.
    assert!(
        stats.bytes_received <= (MAX_LIST_BYTES + 256 * 1024) as u64,
        "{stats:?}"
    );
}

#[test]
fn a_valid_list_of_another_issuer_is_refused() {
    let h = honest();
    let mut rng = rng(99);
    let other = IssuerId::new("other-police").unwrap();
    let other_key = IssuerKey::generate(
        other.clone(),
        Validity::new(NOW.minus(YEAR), NOW.plus(YEAR)).unwrap(),
        &mut rng,
    )
    .unwrap();
    let mut statuses = IssuerStatusList::new(other.clone(), CAPACITY).unwrap();
    statuses.publish(&other_key, NOW, NOW.plus(3600)).unwrap();
    let theirs = statuses
        .publish(&other_key, NOW, NOW.plus(3600))
        .unwrap()
        .list;
    // Behind our issuer's pointer: the signature is good, the signer is not ours.
    let (log, _) = against_broken(
        &h.lists[0],
        list_bytes(theirs.clone(), true),
        RUN,
        FeedMode::Push,
    );
    assert!(
        log.refused(|e| matches!(e, FeedError::List(ListError::Untrusted(_)))),
        "{}",
        log.dump()
    );
    // Behind a pointer that says so: refused before anything is fetched.
    let latest = pointer("other-police", 2, &theirs);
    let (log, _) = against_broken(
        &h.lists[0],
        Arc::new(move |path: &str, _: &str| match path {
            "/test-police/latest.json" => {
                Reply::Full(200, "application/json", latest.clone(), true)
            }
            "/test-police/lists/2.rcl" => {
                Reply::Full(200, "application/octet-stream", theirs.clone(), true)
            }
            _ => not_found(),
        }),
        RUN,
        FeedMode::Push,
    );
    assert!(
        log.refused(|e| matches!(e, FeedError::WrongIssuer { .. })),
        "{}",
        log.dump()
    );
}

fn delta_event(seq: u64, delta: &[u8]) -> String {
    use base64::Engine as _;
    format!(
        "event: delta\nid: {seq}\ndata: {}\n\n",
        base64::engine::general_purpose::STANDARD.encode(delta)
    )
}

#[test]
fn a_replayed_old_delta_is_ignored() {
    let h = honest();
    let held = h.lists[1].clone();
    let old = held.delta.clone().unwrap();
    let latest = pointer(issuer_id().as_str(), 2, &held.list);
    let events = delta_event(2, &old).repeat(3);
    let (log, stats) = against_broken(
        &held,
        Arc::new(move |path: &str, _: &str| match path {
            "/test-police/latest.json" => {
                Reply::Full(200, "application/json", latest.clone(), true)
            }
            "/test-police/events" => Reply::EventsThenSilence(events.clone()),
            _ => not_found(),
        }),
        RUN,
        FeedMode::Push,
    );
    assert!(
        log.any(|e| matches!(e, FeedEvent::ReplayIgnored { held: 2 })),
        "{}",
        log.dump()
    );
    assert_eq!(stats.deltas_applied, 0);
}

#[test]
fn a_delta_from_another_branch_is_refused_and_so_is_the_branchs_list() {
    let h = honest();
    let held = h.lists[1].clone();
    let branch_delta = h.branch[1].delta.clone().unwrap();
    // After the refusal the feed reads the pointer, which names the branch's list 3:
    // signed by the right key, it lifts the revocation the door holds, and is refused.
    let branch_list = h.branch[1].list.clone();
    let latest = pointer(issuer_id().as_str(), 3, &branch_list);
    let events = delta_event(3, &branch_delta);
    let (log, stats) = against_broken(
        &held,
        Arc::new(move |path: &str, _: &str| match path {
            "/test-police/latest.json" => {
                Reply::Full(200, "application/json", latest.clone(), true)
            }
            "/test-police/lists/3.rcl" => {
                Reply::Full(200, "application/octet-stream", branch_list.clone(), true)
            }
            "/test-police/events" => Reply::EventsThenSilence(events.clone()),
            _ => not_found(),
        }),
        RUN,
        FeedMode::Push,
    );
    assert!(
        log.refused(|e| matches!(e, FeedError::List(ListError::Branch { sequence: 2 }))),
        "{}",
        log.dump()
    );
    assert!(
        log.refused(|e| matches!(e, FeedError::List(ListError::Inconsistent(_)))),
        "{}",
        log.dump()
    );
    assert_eq!(stats.deltas_applied + stats.lists_installed, 0);
}

#[test]
fn a_server_gone_silent_is_left_and_retried_with_backoff() {
    let h = honest();
    let held = h.lists[0].clone();
    let latest = pointer(issuer_id().as_str(), 1, &held.list);
    // The stream opens, then nothing: no event, no ping.
    let (log, stats) = against_broken(
        &held,
        Arc::new(move |path: &str, _: &str| match path {
            "/test-police/latest.json" => {
                Reply::Full(200, "application/json", latest.clone(), true)
            }
            "/test-police/events" => Reply::EventsThenSilence(String::new()),
            _ => not_found(),
        }),
        Duration::from_millis(2500),
        FeedMode::Push,
    );
    assert!(
        log.any(|e| matches!(
            e,
            FeedEvent::Disconnected {
                error: FeedError::Silent { .. }
            }
        )),
        "{}",
        log.dump()
    );
    assert!(log.any(|e| matches!(e, FeedEvent::Backoff { .. })));
    assert!(stats.connects >= 2, "it reconnects: {stats:?}");
    // Every request answered by silence: each one times out, nothing else happens.
    let (log, _) = against_broken(
        &held,
        Arc::new(|_: &str, _: &str| Reply::Hang),
        RUN,
        FeedMode::Push,
    );
    assert!(
        log.refused(|e| matches!(e, FeedError::TimedOut { .. })),
        "{}",
        log.dump()
    );
}

// --- hostile clients against the publisher ---------------------------------------------

/// One raw request (the path exactly as given: no client-side normalisation); the
/// status and the whole response.
fn raw_get(addr: SocketAddr, path: &str, extra: &str) -> (u16, String) {
    // A connection refused or closed at once (a flood) reads as status 0.
    let Ok(mut conn) = TcpStream::connect(addr) else {
        return (0, String::new());
    };
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    if write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{extra}\r\n"
    )
    .is_err()
    {
        return (0, String::new());
    }
    let mut out = Vec::new();
    let _ = conn.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

#[test]
fn paths_outside_the_directory_are_never_served() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), "TOP-SECRET-MARKER").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (reg, _, _) = registry_with_cards(1);
    let folder = reg.publish_to(dir.path()).unwrap().issuer_dir;
    let secret = outside.path().join("secret");
    std::os::unix::fs::symlink(&secret, folder.join("lists/99.rcl")).unwrap();
    std::os::unix::fs::symlink(outside.path(), folder.join("../evil")).unwrap();
    std::os::unix::fs::symlink(outside.path(), folder.join("deltas/sub")).unwrap();
    std::fs::write(folder.join("lists/7.rcl.bak"), "TOP-SECRET-MARKER").unwrap();
    let server = serve(dir.path());
    let addr = server.local_addr();
    let secret_path = secret.display().to_string();
    for path in [
        "/../secret",
        "/test-police/../../secret",
        "/test-police/lists/../../../secret",
        "/%2e%2e/secret",
        "/test-police/%2e%2e/%2e%2e/secret",
        "/test-police/lists/..%2f..%2fsecret",
        "/test-police/lists/%2e%2e%2f99.rcl",
        "/test-police/lists/99.rcl",
        "/test-police/lists/7.rcl.bak",
        "/evil/secret",
        "/evil/latest.json",
        "/test-police/deltas/sub/secret",
        "/test-police\\..\\..\\secret",
        "/test-police/lists/1.rcl%00",
        &format!("/{secret_path}"),
        &format!("/test-police/lists/{}", "9".repeat(30)),
        "*",
        "http://x/../secret",
    ] {
        let (status, text) = raw_get(addr, path, "");
        assert_ne!(status, 200, "{path} was served");
        assert!(!text.contains("TOP-SECRET-MARKER"), "{path} leaked");
    }
    assert!(server.stats().refused_paths >= 10, "{:?}", server.stats());
    // What is in the layout is served, with its freshness headers.
    let list = format!(
        "/test-police/lists/{}.rcl",
        reg.latest_publication().unwrap().unwrap().sequence
    );
    let (status, text) = raw_get(addr, &list, "");
    assert_eq!(status, 200, "{text}");
    assert!(
        text.contains("cache-control: public, max-age=31536000, immutable"),
        "{text}"
    );
    let etag = text
        .lines()
        .find_map(|l| l.strip_prefix("etag: "))
        .unwrap()
        .to_owned();
    let (status, _) = raw_get(addr, &list, &format!("If-None-Match: {etag}\r\n"));
    assert_eq!(status, 304);
    let (status, text) = raw_get(addr, "/test-police/latest.json", "");
    assert_eq!(status, 200);
    // The list's next update is far past now (the test clock is in the future), so
    // the pointer gets the configured max-age; one already past would get 0.
    assert!(
        text.contains("cache-control: public, max-age=10\r\n"),
        "{text}"
    );
    let (status, _) = raw_get(addr, "/test-police/latest.json", "If-None-Match: *\r\n");
    assert_eq!(status, 304);
    server.shutdown();
}

#[test]
fn oversized_and_slow_request_heads_are_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let (reg, _, _) = registry_with_cards(1);
    reg.publish_to(dir.path()).unwrap();
    let mut config = ServeConfig::new(dir.path(), "127.0.0.1:0".parse().unwrap());
    config.header_timeout = Duration::from_millis(300);
    config.idle_timeout = Duration::from_millis(600);
    let server = revocard::net::serve::spawn(config).unwrap();
    let addr = server.local_addr();
    // A 64 KiB header: refused, the server lives on.
    let (status, _) = raw_get(
        addr,
        "/test-police/latest.json",
        &format!("X-Big: {}\r\n", "a".repeat(64 * 1024)),
    );
    assert!(status == 431 || status == 0, "got {status}");
    // Too many headers.
    let many: String = (0..100).map(|i| format!("X-{i}: 1\r\n")).collect();
    let (status, _) = raw_get(addr, "/test-police/latest.json", &many);
    assert!(status == 431 || status == 0, "got {status}");
    // Slowloris: a head that never ends is closed after the header timeout.
    let mut slow = TcpStream::connect(addr).unwrap();
    slow.write_all(b"GET /test-police/latest.json HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let start = Instant::now();
    let mut sink = Vec::new();
    let _ = slow.read_to_end(&mut sink);
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "closed after {:?}",
        start.elapsed()
    );
    // An idle keep-alive connection is closed too.
    let mut idle = TcpStream::connect(addr).unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let start = Instant::now();
    let _ = idle.read_to_end(&mut sink);
    assert!(start.elapsed() < Duration::from_secs(3));
    let (status, _) = raw_get(addr, "/test-police/latest.json", "");
    assert_eq!(status, 200, "the server lives on");
    // Only GET and HEAD.
    let mut post = TcpStream::connect(addr).unwrap();
    post.write_all(b"POST /test-police/latest.json HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    let _ = post.read_to_string(&mut out);
    assert!(out.starts_with("HTTP/1.1 405"), "{out}");
    server.shutdown();
}

#[test]
fn a_connection_flood_does_not_delay_a_push_to_a_connected_door() {
    let dir = tempfile::tempdir().unwrap();
    let (mut reg, key, cards) = registry_with_cards(2);
    reg.publish_to(dir.path()).unwrap();
    let mut config = ServeConfig::new(dir.path(), "127.0.0.1:0".parse().unwrap());
    config.max_connections = 32;
    config.watch_interval = Duration::from_millis(20);
    // Pings well inside the door's idle timeout (800 ms here), so that the door's stream
    // stays up however long the flood takes to build on a loaded machine.
    config.ping_interval = Duration::from_millis(200);
    config.header_timeout = Duration::from_secs(30);
    config.idle_timeout = Duration::from_secs(30);
    let server = revocard::net::serve::spawn(config).unwrap();
    let addr = server.local_addr();
    let verifier = Arc::new(Verifier::new(TrustStore::new(), VerifyOptions::default()));
    verifier.add_root(reg.root().clone()).unwrap();
    let log = Log::default();
    let feed = Feed::new(feed_config(&base_url(addr), &log), Arc::clone(&verifier))
        .unwrap()
        .spawn()
        .unwrap();
    assert!(wait_until(PATIENCE, || log.any(|e| *e == FeedEvent::PushConnected)));
    // The flood: 300 connections that send half a request head and wait.
    let flood: Vec<TcpStream> = (0..300)
        .filter_map(|_| {
            let mut c = TcpStream::connect(addr).ok()?;
            let _ = c.write_all(b"GET /test-police/latest.json HTTP/1.1\r\n");
            Some(c)
        })
        .collect();
    assert!(wait_until(PATIENCE, || server.stats().connections_refused > 0));
    // New clients are turned away while it lasts...
    let (status, _) = raw_get(addr, "/test-police/latest.json", "");
    assert_eq!(status, 0, "a new client is refused during the flood");
    // ...and the connected door still gets the push at once.
    reg.set_status(
        &key,
        cards[0].serial,
        Status::Revoked,
        RevocationReason::Lost,
        NOW,
        NOW.plus(3600),
    )
    .unwrap();
    let published = Instant::now();
    reg.publish_to(dir.path()).unwrap();
    assert!(
        wait_until(Duration::from_secs(2), || verifier
            .verify(&cards[0].bytes, NOW)
            .is_err()),
        "{}",
        log.dump()
    );
    assert!(published.elapsed() < Duration::from_secs(2));
    assert!(log.any(|e| matches!(e, FeedEvent::DeltaApplied { pushed: true, .. })));
    // The flood ends; the server serves new clients again.
    drop(flood);
    assert!(wait_until(PATIENCE, || raw_get(
        addr,
        "/test-police/latest.json",
        ""
    )
    .0 == 200));
    feed.stop();
    server.shutdown();
}

/// Opens an event stream by hand and returns it with the response head.
fn open_stream(addr: SocketAddr) -> (TcpStream, String) {
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    write!(conn, "GET /test-police/events HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let head = read_until(&mut conn, "\r\n\r\n", PATIENCE);
    (conn, head)
}

/// Reads from `conn` until what was read contains `marker` or `limit` passes.
fn read_until(conn: &mut TcpStream, marker: &str, limit: Duration) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let start = Instant::now();
    while start.elapsed() < limit && !String::from_utf8_lossy(&out).contains(marker) {
        match conn.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn past_the_stream_limit_a_subscriber_is_refused_with_503_and_the_open_streams_keep_their_pushes() {
    let dir = tempfile::tempdir().unwrap();
    let (mut reg, key, cards) = registry_with_cards(2);
    reg.publish_to(dir.path()).unwrap();
    let mut config = ServeConfig::new(dir.path(), "127.0.0.1:0".parse().unwrap());
    config.max_streams = 2;
    config.watch_interval = Duration::from_millis(20);
    // Pings inside the door's idle timeout, so that its stream, once in, stays in.
    config.ping_interval = Duration::from_millis(200);
    let server = revocard::net::serve::spawn(config).unwrap();
    let addr = server.local_addr();
    let (mut first, head) = open_stream(addr);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("text/event-stream"), "{head}");
    let (mut second, head) = open_stream(addr);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    // The third subscriber is refused, and told when to come back.
    let (status, text) = raw_get(addr, "/test-police/events", "");
    assert_eq!(status, 503, "{text}");
    assert!(
        text.to_ascii_lowercase().contains("retry-after: 5"),
        "{text}"
    );
    let stats = server.stats();
    assert_eq!((stats.streams_open, stats.streams_refused), (2, 1));
    // Files are still served to everyone.
    assert_eq!(raw_get(addr, "/test-police/latest.json", "").0, 200);
    // A door that finds the streams full says why, backs off, and still learns of the
    // next publication from the pointer.
    let verifier = Arc::new(Verifier::new(TrustStore::new(), VerifyOptions::default()));
    verifier.add_root(reg.root().clone()).unwrap();
    let log = Log::default();
    let feed = Feed::new(feed_config(&base_url(addr), &log), Arc::clone(&verifier))
        .unwrap()
        .spawn()
        .unwrap();
    assert!(
        wait_until(PATIENCE, || log.any(|e| matches!(
            e,
            FeedEvent::Disconnected {
                error: FeedError::Status { status: 503, .. }
            }
        ))),
        "{}",
        log.dump()
    );
    assert!(verifier.verify(&cards[0].bytes, NOW).is_ok());
    reg.set_status(
        &key,
        cards[0].serial,
        Status::Revoked,
        RevocationReason::Lost,
        NOW,
        NOW.plus(3600),
    )
    .unwrap();
    reg.publish_to(dir.path()).unwrap();
    let sequence = reg.latest_publication().unwrap().unwrap().sequence;
    // Both open streams get the push.
    for conn in [&mut first, &mut second] {
        let marker = format!("event: delta\nid: {sequence}\n");
        let text = read_until(conn, &marker, PATIENCE);
        assert!(text.contains(&marker), "{text}");
    }
    assert!(
        wait_until(PATIENCE, || verifier.verify(&cards[0].bytes, NOW).is_err()),
        "{}",
        log.dump()
    );
    assert!(!log.any(|e| *e == FeedEvent::PushConnected));
    assert_eq!(server.stats().streams_open, 2);
    // A stream that ends gives its place to the next subscriber: the door's.
    drop(first);
    assert!(
        wait_until(PATIENCE, || log.any(|e| *e == FeedEvent::PushConnected)),
        "{}",
        log.dump()
    );
    assert_eq!(server.stats().streams_open, 2);
    feed.stop();
    drop(second);
    server.shutdown();
}

#[test]
fn a_resuming_stream_replays_what_it_missed_or_is_told_to_fetch() {
    let dir = tempfile::tempdir().unwrap();
    let (mut reg, key, cards) = registry_with_cards(3);
    reg.publish_to(dir.path()).unwrap();
    let server = serve(dir.path());
    let addr = server.local_addr();
    let first = reg.latest_publication().unwrap().unwrap().sequence;
    for card in &cards {
        reg.set_status(
            &key,
            card.serial,
            Status::Revoked,
            RevocationReason::Lost,
            NOW,
            NOW.plus(3600),
        )
        .unwrap();
        reg.publish_to(dir.path()).unwrap();
        thread::sleep(Duration::from_millis(60));
    }
    let last = reg.latest_publication().unwrap().unwrap().sequence;
    assert_eq!(last, first + 3);
    let stream = |last_id: u64| {
        let mut conn = TcpStream::connect(addr).unwrap();
        conn.set_read_timeout(Some(Duration::from_millis(400)))
            .unwrap();
        write!(
            conn,
            "GET /test-police/events HTTP/1.1\r\nHost: x\r\nLast-Event-ID: {last_id}\r\n\r\n"
        )
        .unwrap();
        // The stream never ends (pings): read what comes in half a second.
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(500) {
            match conn.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    // The server watched the three publications: it replays the two after `first + 1`.
    let text = stream(first + 1);
    assert!(text.contains("text/event-stream"), "{text}");
    assert!(!text.contains(&format!("id: {}\n", first + 1)), "{text}");
    assert!(
        text.contains(&format!("event: delta\nid: {}\n", first + 2)),
        "{text}"
    );
    assert!(
        text.contains(&format!("event: delta\nid: {}\n", first + 3)),
        "{text}"
    );
    // Further back than it holds (it started after `first`): fetch the list instead.
    let text = stream(0);
    assert!(
        text.contains(&format!("event: fetch\nid: {last}\n")),
        "{text}"
    );
    server.shutdown();
}

// --- a plain static server (as nginx would be): files only, no event stream ---------

struct StaticServer {
    addr: SocketAddr,
    not_modified: Arc<std::sync::atomic::AtomicU64>,
    _inner: Broken,
}

impl StaticServer {
    fn start(dir: std::path::PathBuf) -> Self {
        let not_modified = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counted = Arc::clone(&not_modified);
        let routes: Routes = Arc::new(move |path: &str, head: &str| {
            let rel = path.trim_start_matches('/');
            if rel.contains("..") {
                return not_found();
            }
            let Ok(body) = std::fs::read(dir.join(rel)) else {
                return not_found();
            };
            let etag = format!("\"{}\"", &sha256_hex(&body)[..16]);
            let conditional = head
                .lines()
                .any(|l| l.to_ascii_lowercase().starts_with("if-none-match:") && l.contains(&etag));
            if conditional {
                counted.fetch_add(1, Ordering::Relaxed);
                return Reply::Raw(
                    format!(
                        "HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nConnection: close\r\n\r\n"
                    )
                    .into_bytes(),
                );
            }
            let mut out = format!(
                "HTTP/1.1 200 OK\r\nETag: {etag}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .into_bytes();
            out.extend_from_slice(&body);
            Reply::Raw(out)
        });
        let inner = Broken::start(routes);
        Self {
            addr: inner.addr,
            not_modified,
            _inner: inner,
        }
    }

    fn not_modified(&self) -> u64 {
        self.not_modified.load(Ordering::Relaxed)
    }
}

// --- issue 20: a door never amplifies a broken publisher ---------------------------------

/// Routes answering `latest.json` with a pointer to the list held (counting the reads)
/// and the event stream with `events`.
fn counting_pointer(held: &Publication, events: Reply, reads: &Arc<AtomicUsize>) -> Routes {
    let latest = pointer(issuer_id().as_str(), 1, &held.list);
    let reads = Arc::clone(reads);
    Arc::new(move |path: &str, _: &str| match path {
        "/test-police/latest.json" => {
            reads.fetch_add(1, Ordering::Relaxed);
            Reply::Full(200, "application/json", latest.clone(), true)
        }
        "/test-police/events" => events.clone(),
        _ => not_found(),
    })
}

#[test]
fn a_ping_flood_makes_a_door_read_the_pointer_about_once_a_second() {
    let h = honest();
    // A stream of pings naming sequence 999 (each asks for a sync), as fast as the
    // server writes them; then the same as 20,000 buffered pings and a silent stream.
    for events in [
        Reply::PingFlood,
        Reply::EventsThenSilence("event: ping\ndata: 999\n\n".repeat(20_000)),
    ] {
        let reads = Arc::new(AtomicUsize::new(0));
        let run = Duration::from_secs(3);
        let (log, stats) = against_broken(
            &h.lists[0],
            counting_pointer(&h.lists[0], events, &reads),
            run,
            FeedMode::Push,
        );
        let reads = reads.load(Ordering::Relaxed);
        // The default least interval is 1 s (each drawn ±10%): the start, then at most
        // one a second, with one of slack.
        let bound = 2 + (run.as_millis() / 900) as usize;
        assert!(
            reads <= bound,
            "{reads} reads of latest.json in {run:?} (bound {bound}); {stats:?}"
        );
        assert!(reads >= 2, "the wanted syncs still happen: {reads}");
        assert!(log.any(|e| matches!(e, FeedEvent::PushConnected)));
    }
}

#[test]
fn a_not_modified_answer_never_asked_for_is_refused() {
    let h = honest();
    // A fresh pointer read carries no If-None-Match: a 304 answers nothing asked.
    let (log, _) = against_broken(
        &h.lists[0],
        Arc::new(|path: &str, _: &str| match path {
            "/test-police/latest.json" => Reply::Full(304, "application/json", Vec::new(), false),
            _ => not_found(),
        }),
        Duration::from_millis(600),
        FeedMode::Poll(Duration::from_millis(100)),
    );
    assert!(
        log.refused(|e| matches!(e, FeedError::Status { status: 304, .. })),
        "{}",
        log.dump()
    );
}

#[test]
fn a_door_held_stale_by_a_hostile_publisher_denies_reports_it_and_recovers() {
    let mut rng = rng(2030);
    let key = issuer_key(&mut rng);
    let card = key.issue(request(5), NOW, &mut rng).unwrap();
    let mut statuses = IssuerStatusList::new(issuer_id(), CAPACITY).unwrap();
    let first = statuses.publish(&key, NOW, NOW.plus(3600)).unwrap();
    // What the honest publisher says once it is back: list 2, signed later, fresh.
    let later = NOW.plus(3600 + DEFAULT_STATUS_GRACE_SECS + 60);
    let second = statuses.publish(&key, later, later.plus(3600)).unwrap();
    let verifier = Arc::new(Verifier::new(TrustStore::new(), VerifyOptions::default()));
    verifier.add_key(key.public().clone()).unwrap();
    verifier.install_list(&first.list, NOW).unwrap();

    // The hostile publisher answers garbage for the pointer, until `good` is set.
    let good = Arc::new(AtomicBool::new(false));
    let routes: Routes = {
        let good = Arc::clone(&good);
        let latest = pointer(issuer_id().as_str(), 2, &second.list);
        let list = second.list.clone();
        Arc::new(move |path: &str, _: &str| {
            if !good.load(Ordering::Relaxed) {
                return Reply::Full(200, "application/json", b"{\"format\":".to_vec(), true);
            }
            match path {
                "/test-police/latest.json" => {
                    Reply::Full(200, "application/json", latest.clone(), true)
                }
                "/test-police/lists/2.rcl" => {
                    Reply::Full(200, "application/octet-stream", list.clone(), true)
                }
                _ => not_found(),
            }
        })
    };
    let server = Broken::start(routes);
    let clock = Arc::new(AtomicU64::new(NOW.0));
    let log = Log::default();
    let mut config = feed_config(&base_url(server.addr), &log);
    config.mode = FeedMode::Poll(Duration::from_millis(100));
    config.min_fetch_interval = Duration::from_millis(100);
    let reading = Arc::clone(&clock);
    config.clock = Arc::new(move || UnixTime(reading.load(Ordering::Relaxed)));
    let feed = Feed::new(config, Arc::clone(&verifier))
        .unwrap()
        .spawn()
        .unwrap();

    // While the held list is fresh, the card passes and the refusals are reported.
    assert!(
        wait_until(PATIENCE, || log.refused(|_| true)),
        "{}",
        log.dump()
    );
    verifier.verify(card.bytes(), NOW).unwrap();
    assert!(!log.any(|e| matches!(e, FeedEvent::Stale { .. })));
    // The publisher outlasts the list's next update plus grace: the door denies, and
    // the feed says so (once).
    clock.store(later.0, Ordering::Relaxed);
    assert!(matches!(
        verifier.verify(card.bytes(), later),
        Err(Denial::StatusStale { .. })
    ));
    assert!(
        wait_until(PATIENCE, || log.any(|e| matches!(
            e,
            FeedEvent::Stale {
                sequence: Some(1),
                ..
            }
        ))),
        "{}",
        log.dump()
    );
    thread::sleep(Duration::from_millis(300));
    let stale_reports = log
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e, FeedEvent::Stale { .. }))
        .count();
    assert_eq!(stale_reports, 1, "{}", log.dump());
    // A good publisher returns: the door takes list 2, admits again, and says so.
    good.store(true, Ordering::Relaxed);
    assert!(
        wait_until(PATIENCE, || log
            .any(|e| matches!(e, FeedEvent::Fresh { sequence: 2 }))),
        "{}",
        log.dump()
    );
    verifier.verify(card.bytes(), later).unwrap();
    feed.stop();
    drop(server);
}
