//! The requests: the layout's files (confined to the directory, no symlinks), the
//! pointer from memory, and the event streams.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::fs;
use std::io::Read as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::header::{
    ACCEPT, ALLOW, CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH, RETRY_AFTER,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::Stream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, broadcast};

use super::{
    Counters, FILE_CACHE_BYTES, IMMUTABLE_MAX_AGE_SECS, MAX_ISSUERS, ServeConfig, ServeError, bump,
};
use crate::net::layout::{Latest, Resource, parse_request_path, sha256_hex};

/// Pushes each issuer's channel holds for a slow stream before it lags (and is told
/// to fetch instead).
const CHANNEL_CAPACITY: usize = 16;

/// What every connection shares.
pub(super) struct Shared {
    pub(super) config: ServeConfig,
    /// The directory, canonical.
    pub(super) root: PathBuf,
    pub(super) counters: Arc<Counters>,
    issuers: RwLock<HashMap<String, Arc<Issuer>>>,
    cache: Mutex<FileCache>,
    streams: Arc<Semaphore>,
}

/// One issuer's folder as the server knows it.
pub(super) struct Issuer {
    pub(super) dir: String,
    pub(super) state: RwLock<IssuerState>,
    pub(super) tx: broadcast::Sender<Push>,
}

#[derive(Default)]
pub(super) struct IssuerState {
    /// The pointer served.
    pub(super) current: Option<Arc<Current>>,
    /// Length, modification time and inode of the `latest.json` last looked at.
    pub(super) fingerprint: Option<(u64, SystemTime, u64)>,
    /// The last deltas, base64, by the sequence they make (consecutive, oldest first).
    pub(super) recent: VecDeque<(u64, Arc<str>)>,
    /// The sequence last reported overdue.
    pub(super) warned: Option<u64>,
}

/// A pointer as served.
pub(super) struct Current {
    pub(super) latest: Latest,
    pub(super) bytes: Bytes,
    pub(super) etag: HeaderValue,
}

/// A new publication, as pushed.
#[derive(Debug, Clone)]
pub(super) enum Push {
    /// The delta making `seq`, base64.
    Delta { seq: u64, data: Arc<str> },
    /// `seq` was published; fetch it.
    Fetch { seq: u64 },
}

impl Push {
    fn seq(&self) -> u64 {
        match self {
            Self::Delta { seq, .. } | Self::Fetch { seq } => *seq,
        }
    }

    fn event(&self) -> Event {
        match self {
            Self::Delta { seq, data } => Event::default()
                .event("delta")
                .id(seq.to_string())
                .data(data.as_ref()),
            Self::Fetch { seq } => Event::default()
                .event("fetch")
                .id(seq.to_string())
                .data(seq.to_string()),
        }
    }
}

#[derive(Default)]
struct FileCache {
    files: HashMap<String, Arc<Cached>>,
    bytes: usize,
}

struct Cached {
    bytes: Bytes,
    etag: HeaderValue,
}

impl Shared {
    pub(super) fn open(config: &ServeConfig) -> Result<Arc<Self>, ServeError> {
        let dir_error = |source| ServeError::Dir {
            dir: config.dir.clone(),
            source,
        };
        let root = fs::canonicalize(&config.dir).map_err(dir_error)?;
        if !fs::metadata(&root).map_err(dir_error)?.is_dir() {
            return Err(dir_error(std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                "not a directory",
            )));
        }
        let mut config = config.clone();
        let open_files = super::open_files_limit();
        if let Some(allowed) = super::connections_capped(config.max_connections, open_files) {
            if let Some(report) = &config.on_event {
                report(&super::ServeEvent::ConnectionsCapped {
                    configured: config.max_connections,
                    allowed,
                    open_files: open_files.unwrap_or(u64::MAX),
                });
            }
            config.max_connections = allowed;
        }
        let streams = Arc::new(Semaphore::new(
            config.max_streams.min(Semaphore::MAX_PERMITS),
        ));
        Ok(Arc::new(Self {
            config,
            root,
            counters: Arc::new(Counters::default()),
            issuers: RwLock::new(HashMap::new()),
            cache: Mutex::new(FileCache::default()),
            streams,
        }))
    }

    pub(super) fn issuer(&self, dir: &str) -> Option<Arc<Issuer>> {
        self.issuers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(dir)
            .cloned()
    }

    /// The issuer of folder `dir`, added if there is room for it.
    pub(super) fn issuer_or_insert(&self, dir: &str) -> Option<Arc<Issuer>> {
        if let Some(found) = self.issuer(dir) {
            return Some(found);
        }
        let mut issuers = self.issuers.write().unwrap_or_else(PoisonError::into_inner);
        if issuers.len() >= MAX_ISSUERS {
            return None;
        }
        let issuer = issuers.entry(dir.to_owned()).or_insert_with(|| {
            Arc::new(Issuer {
                dir: dir.to_owned(),
                state: RwLock::new(IssuerState::default()),
                tx: broadcast::channel(CHANNEL_CAPACITY).0,
            })
        });
        Some(Arc::clone(issuer))
    }

    pub(super) fn issuers(&self) -> Vec<Arc<Issuer>> {
        self.issuers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }

    pub(super) fn report(&self, event: &super::ServeEvent) {
        if let Some(report) = &self.config.on_event {
            report(event);
        }
    }
}

impl Issuer {
    pub(super) fn read(&self) -> std::sync::RwLockReadGuard<'_, IssuerState> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn write(&self) -> std::sync::RwLockWriteGuard<'_, IssuerState> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn sequence(&self) -> Option<u64> {
        self.read().current.as_ref().map(|c| c.latest.list.sequence)
    }
}

pub(super) fn router(shared: Arc<Shared>) -> axum::Router {
    axum::Router::new().fallback(handle).with_state(shared)
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    bump(&shared.counters.requests);
    let head = method == Method::HEAD;
    if method != Method::GET && !head {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(ALLOW, HeaderValue::from_static("GET, HEAD"))],
        )
            .into_response();
    }
    let Some((dir, resource)) = parse_request_path(uri.path()) else {
        bump(&shared.counters.refused_paths);
        return StatusCode::NOT_FOUND.into_response();
    };
    match resource {
        Resource::Events if head => (
            StatusCode::METHOD_NOT_ALLOWED,
            [(ALLOW, HeaderValue::from_static("GET"))],
        )
            .into_response(),
        Resource::Events => events(&shared, dir, &headers),
        Resource::Latest => latest(&shared, dir, &headers, head),
        // The standard views answer by content type: an `Accept` that admits none of
        // the view's media type is 406 (a status-list client asks for exactly it).
        Resource::Status(view)
            if !view.accepted_by(headers.get(ACCEPT).and_then(|v| v.to_str().ok())) =>
        {
            StatusCode::NOT_ACCEPTABLE.into_response()
        }
        _ => file(&shared, dir, resource, &headers, head).await,
    }
}

fn latest(shared: &Shared, dir: &str, headers: &HeaderMap, head: bool) -> Response {
    let current = shared.issuer(dir).and_then(|i| i.read().current.clone());
    let Some(current) = current else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let left = current.latest.next_update.saturating_sub(unix_now());
    let max_age = left.min(shared.config.latest_max_age.as_secs());
    let cache = HeaderValue::from_str(&format!("public, max-age={max_age}"))
        .unwrap_or(HeaderValue::from_static("no-cache"));
    answer(
        headers,
        &current.etag,
        cache,
        HeaderValue::from_static("application/json"),
        &current.bytes,
        head,
    )
}

async fn file(
    shared: &Shared,
    dir: &str,
    resource: Resource,
    headers: &HeaderMap,
    head: bool,
) -> Response {
    let rel = format!("{dir}/{}", resource.path());
    let cached = shared
        .cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .files
        .get(&rel)
        .cloned();
    let entry = match cached {
        Some(entry) => entry,
        None => {
            let path = shared.root.join(&rel);
            let max = resource.max_bytes();
            let read = tokio::task::spawn_blocking(move || read_confined(&path, max)).await;
            match read {
                Ok(Ok(bytes)) => {
                    let entry = Arc::new(Cached {
                        etag: etag_of(&bytes),
                        bytes: Bytes::from(bytes),
                    });
                    if resource.is_immutable() {
                        shared
                            .cache
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .insert(rel, Arc::clone(&entry));
                    }
                    entry
                }
                Ok(Err(Unservable::Missing)) => return StatusCode::NOT_FOUND.into_response(),
                Ok(Err(Unservable::Refused)) | Err(_) => {
                    bump(&shared.counters.refused_paths);
                    return StatusCode::NOT_FOUND.into_response();
                }
            }
        }
    };
    let cache = if resource.is_immutable() {
        HeaderValue::from_str(&format!(
            "public, max-age={IMMUTABLE_MAX_AGE_SECS}, immutable"
        ))
        .unwrap_or(HeaderValue::from_static("no-cache"))
    } else {
        HeaderValue::from_static("public, max-age=300")
    };
    let content_type = match resource {
        Resource::Status(view) => view.media_type(),
        _ => "application/octet-stream",
    };
    answer(
        headers,
        &entry.etag,
        cache,
        HeaderValue::from_static(content_type),
        &entry.bytes,
        head,
    )
}

fn answer(
    headers: &HeaderMap,
    etag: &HeaderValue,
    cache: HeaderValue,
    content_type: HeaderValue,
    body: &Bytes,
    head: bool,
) -> Response {
    if matches_etag(headers, etag) {
        return (
            StatusCode::NOT_MODIFIED,
            [(ETAG, etag.clone()), (CACHE_CONTROL, cache)],
        )
            .into_response();
    }
    let parts = [
        (ETAG, etag.clone()),
        (CACHE_CONTROL, cache),
        (CONTENT_TYPE, content_type),
    ];
    if head {
        let mut response = (StatusCode::OK, parts).into_response();
        if let Ok(len) = HeaderValue::from_str(&body.len().to_string()) {
            response
                .headers_mut()
                .insert(axum::http::header::CONTENT_LENGTH, len);
        }
        response
    } else {
        (StatusCode::OK, parts, body.clone()).into_response()
    }
}

/// `If-None-Match`: a list of entity tags or `*` (weak tags compare by their value).
fn matches_etag(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let Some(etag) = etag.to_str().ok() else {
        return false;
    };
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim())
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
}

pub(super) fn etag_of(bytes: &[u8]) -> HeaderValue {
    let hex = sha256_hex(bytes);
    HeaderValue::from_str(&format!("\"{}\"", hex.get(..32).unwrap_or(&hex)))
        .unwrap_or(HeaderValue::from_static("\"\""))
}

impl FileCache {
    fn insert(&mut self, rel: String, entry: Arc<Cached>) {
        let len = entry.bytes.len();
        if len > FILE_CACHE_BYTES {
            return;
        }
        if self.bytes + len > FILE_CACHE_BYTES {
            self.files.clear();
            self.bytes = 0;
        }
        if self.files.insert(rel, entry).is_none() {
            self.bytes += len;
        }
    }
}

/// Why a file is not served.
#[derive(Debug)]
pub(super) enum Unservable {
    /// Not there.
    Missing,
    /// Reached through a symlink, not a regular file, or larger than its kind allows.
    Refused,
}

/// Reads `path` (the canonical directory joined with a path of the layout's grammar)
/// if it is a regular file of at most `max` bytes reached through no symlink: its
/// canonical form must be itself, and the last component is opened with `O_NOFOLLOW`.
pub(super) fn read_confined(path: &Path, max: usize) -> Result<Vec<u8>, Unservable> {
    let canonical = fs::canonicalize(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Unservable::Missing,
        _ => Unservable::Refused,
    })?;
    if canonical != path {
        return Err(Unservable::Refused);
    }
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|_| Unservable::Refused)?;
    let meta = file.metadata().map_err(|_| Unservable::Refused)?;
    if !meta.is_file() || meta.len() > max as u64 {
        return Err(Unservable::Refused);
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0).min(max));
    file.take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|_| Unservable::Refused)?;
    if bytes.len() > max {
        return Err(Unservable::Refused);
    }
    Ok(bytes)
}

pub(super) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn events(shared: &Arc<Shared>, dir: &str, headers: &HeaderMap) -> Response {
    let Some(issuer) = shared.issuer(dir) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Ok(permit) = Arc::clone(&shared.streams).try_acquire_owned() else {
        bump(&shared.counters.streams_refused);
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(RETRY_AFTER, HeaderValue::from_static("5"))],
        )
            .into_response();
    };
    // Subscribe before reading the state: a publication is either in the state read
    // or arrives on the channel (the watcher updates the state, then sends).
    let rx = issuer.tx.subscribe();
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let (replay, last_sent) = {
        let state = issuer.read();
        let current = state.current.as_ref().map(|c| c.latest.list.sequence);
        match (resume, current) {
            (Some(held), Some(current)) if held < current => {
                let wanted: Vec<Push> = state
                    .recent
                    .iter()
                    .filter(|(seq, _)| *seq > held && *seq <= current)
                    .map(|(seq, data)| Push::Delta {
                        seq: *seq,
                        data: Arc::clone(data),
                    })
                    .collect();
                let complete = u64::try_from(wanted.len()).ok() == Some(current - held);
                if complete {
                    (VecDeque::from(wanted), current)
                } else {
                    (VecDeque::from([Push::Fetch { seq: current }]), current)
                }
            }
            (_, current) => (VecDeque::new(), current.unwrap_or(0)),
        }
    };
    shared.counters.streams_open.fetch_add(1, Ordering::Relaxed);
    let mut ping = tokio::time::interval(shared.config.ping_interval);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let stream = EventStream {
        replay,
        rx,
        ping,
        last_sent,
        issuer,
        _open: Open {
            counters: Arc::clone(&shared.counters),
            _permit: permit,
        },
    };
    let mut response = Sse::new(stream.into_stream()).into_response();
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// Counts an open stream and holds its permit until dropped.
struct Open {
    counters: Arc<Counters>,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Open {
    fn drop(&mut self) {
        self.counters.streams_open.fetch_sub(1, Ordering::Relaxed);
    }
}

struct EventStream {
    replay: VecDeque<Push>,
    rx: broadcast::Receiver<Push>,
    ping: tokio::time::Interval,
    last_sent: u64,
    issuer: Arc<Issuer>,
    _open: Open,
}

impl EventStream {
    fn into_stream(self) -> impl Stream<Item = Result<Event, Infallible>> + Send {
        futures_util::stream::unfold(self, |mut s| async move {
            let event = s.next_event().await?;
            Some((Ok(event), s))
        })
    }

    async fn next_event(&mut self) -> Option<Event> {
        if let Some(push) = self.replay.pop_front() {
            return Some(push.event());
        }
        loop {
            tokio::select! {
                received = self.rx.recv() => match received {
                    Ok(push) if push.seq() > self.last_sent => {
                        self.last_sent = push.seq();
                        return Some(push.event());
                    }
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let seq = self.issuer.sequence().unwrap_or(self.last_sent);
                        self.last_sent = seq;
                        return Some(Push::Fetch { seq }.event());
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                _ = self.ping.tick() => {
                    let seq = self.issuer.sequence().unwrap_or(0);
                    return Some(Event::default().event("ping").data(seq.to_string()));
                }
            }
        }
    }
}
