//! The publisher (feature `serve`): a read-only HTTP server of the published layout,
//! with a push channel per issuer, on axum + tokio.
//!
//! - `GET /<issuer-dir>/<file>` serves the layout's files and nothing else (the request
//!   grammar is [`super::layout::parse_request_path`]; symlinks are refused), with an
//!   `ETag`, `Cache-Control: public, max-age=31536000, immutable` on sequence-named
//!   files and a `max-age` on `latest.json` that never runs past the list's next update.
//! - `GET /<issuer-dir>/events` is a server-sent event stream: `event: delta` with
//!   `id:` the new list's sequence and the delta's bytes in base64 as `data:`; `event:
//!   fetch` (`data:` the sequence) when the delta is missing or too large to push, or the
//!   client asked to resume from too far back; `event: ping` (`data:` the latest
//!   sequence) every [`ServeConfig::ping_interval`]. A client resuming with
//!   `Last-Event-ID: N` first gets every delta after `N` the server still holds.
//! - New publications are noticed by polling each issuer's `latest.json` (every
//!   [`ServeConfig::watch_interval`]): no restart, and any writer that follows the
//!   layout's contract works.
//! - Bounded: connections ([`ServeConfig::max_connections`]; past it a new connection
//!   is closed at once, so a flood degrades new clients, never the streams already
//!   open), event streams, request heads (size, count and time), idle connections, and
//!   everything held in memory.

mod conn;
mod http;
mod watch;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::model::UnixTime;
use crate::net::layout::LatestError;

/// Default bound on open connections: every stream's and 1,024 more for fetches,
/// under the open-file limit of a service here (`ulimit -n` 20,000; lowered to the
/// limit in force less [`RESERVED_FILES`] where it is smaller).
pub const DEFAULT_MAX_CONNECTIONS: usize = DEFAULT_MAX_STREAMS + 1024;
/// Open files kept beside the connections: the listener, the runtime's own, the files
/// being read for answers, the watcher's reads. [`ServeConfig::max_connections`] is
/// lowered to the process's open-file limit less this (and
/// [`ServeEvent::ConnectionsCapped`] reported), so that past it a new connection is
/// closed at once like any other over the bound, instead of `accept` and every file
/// read failing for want of a descriptor while the connections already open hold them
/// all.
pub const RESERVED_FILES: usize = 64;
/// Default bound on open event streams: a force's thousands of doors, or a national
/// scheme's ten thousand, on one publisher. At about 13 KB of resident memory a
/// stream (measured with 10,000, BENCHMARKS.md) the streams hold at most ~210 MB.
pub const DEFAULT_MAX_STREAMS: usize = 16_384;
/// Largest request head (request line and headers) read from a client: hyper's
/// smallest buffer. Nothing in the layout needs more than a few hundred bytes.
pub const MAX_REQUEST_HEAD_BYTES: usize = 8192;
/// Most headers in one request.
pub const MAX_REQUEST_HEADERS: usize = 32;
/// Largest delta pushed inline in an event (larger ones are announced with `fetch`):
/// a one-revocation delta is under 200 bytes, a breach by scope entry the same.
pub const MAX_INLINE_DELTA_BYTES: usize = 8 * 1024;
/// Deltas each issuer keeps in memory for `Last-Event-ID` resumption.
pub const MAX_REPLAY_DELTAS: usize = 32;
/// Issuer folders watched under the directory.
pub const MAX_ISSUERS: usize = 256;
/// Bytes of immutable files kept in memory to answer repeated requests.
pub const FILE_CACHE_BYTES: usize = 32 * 1024 * 1024;
/// `max-age` of sequence-named files: one year, as for any content-addressed asset.
pub const IMMUTABLE_MAX_AGE_SECS: u64 = 31_536_000;

/// What the server serves and its bounds.
#[derive(Clone)]
#[non_exhaustive]
pub struct ServeConfig {
    /// The published layout's directory.
    pub dir: PathBuf,
    /// Where to listen.
    pub listen: SocketAddr,
    /// Open connections at most; a new one past it is closed at once. Lowered at start
    /// to the open-file limit less [`RESERVED_FILES`] if that is smaller.
    pub max_connections: usize,
    /// Open event streams at most; past it `events` answers 503 with `Retry-After`.
    /// Each stream holds its connection, a read buffer and a write buffer of at most
    /// [`MAX_REQUEST_HEAD_BYTES`] each (the write buffer plus one event) and a task
    /// with a timer: about 13 KB of resident memory a stream, measured with 10,000
    /// (BENCHMARKS.md), so this bounds the memory the doors hold.
    pub max_streams: usize,
    /// A connection that neither reads nor writes a byte for this long is closed
    /// (an event stream writes a ping more often).
    pub idle_timeout: Duration,
    /// Time allowed for a request's head.
    pub header_timeout: Duration,
    /// Interval of `ping` events.
    pub ping_interval: Duration,
    /// How often each `latest.json` is looked at.
    pub watch_interval: Duration,
    /// `max-age` of `latest.json` (capped by the time left to the list's next update).
    pub latest_max_age: Duration,
    /// [`ServeEvent::Overdue`] is reported when the newest list's next update is
    /// this close and no newer list was published.
    pub overdue_margin: Duration,
    /// Worker threads of [`serve`] and [`spawn`] (0: one per core).
    pub worker_threads: usize,
    /// Where [`ServeEvent`]s go (the command logs them).
    pub on_event: Option<ServeSink>,
}

/// Where a server reports its [`ServeEvent`]s.
pub type ServeSink = Arc<dyn Fn(&ServeEvent) + Send + Sync>;

impl std::fmt::Debug for ServeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeConfig")
            .field("dir", &self.dir)
            .field("listen", &self.listen)
            .field("max_connections", &self.max_connections)
            .field("max_streams", &self.max_streams)
            .field("idle_timeout", &self.idle_timeout)
            .field("header_timeout", &self.header_timeout)
            .field("ping_interval", &self.ping_interval)
            .field("watch_interval", &self.watch_interval)
            .field("latest_max_age", &self.latest_max_age)
            .field("overdue_margin", &self.overdue_margin)
            .field("worker_threads", &self.worker_threads)
            .finish_non_exhaustive()
    }
}

impl ServeConfig {
    /// Serves `dir` on `listen` with the default bounds.
    #[must_use]
    pub fn new(dir: impl Into<PathBuf>, listen: SocketAddr) -> Self {
        Self {
            dir: dir.into(),
            listen,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_streams: DEFAULT_MAX_STREAMS,
            idle_timeout: Duration::from_secs(60),
            header_timeout: Duration::from_secs(10),
            ping_interval: Duration::from_secs(15),
            watch_interval: Duration::from_millis(100),
            latest_max_age: Duration::from_secs(10),
            overdue_margin: Duration::from_secs(15 * 60),
            worker_threads: 0,
            on_event: None,
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The directory cannot be opened.
    #[error("cannot serve {dir}: {source}")]
    Dir {
        /// The directory.
        dir: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The address cannot be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The runtime or its thread could not start.
    #[error("cannot start the server's runtime: {0}")]
    Runtime(std::io::Error),
}

/// What the server reports as it runs (for logs and metrics).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServeEvent {
    /// An issuer's new list was noticed and pushed.
    Published {
        /// The issuer's folder.
        issuer_dir: String,
        /// The new sequence.
        sequence: u64,
        /// Whether its delta went out inline (else a `fetch` event did).
        pushed_inline: bool,
    },
    /// A `latest.json` was refused; the previous one is still served.
    PointerRefused {
        /// The issuer's folder.
        issuer_dir: String,
        /// Why.
        error: PointerError,
    },
    /// The open-file limit is below [`ServeConfig::max_connections`] plus
    /// [`RESERVED_FILES`]: the server holds at most `allowed` connections. Reported
    /// once, at start.
    ConnectionsCapped {
        /// The configured bound.
        configured: usize,
        /// The bound in force.
        allowed: usize,
        /// The process's open-file limit (soft).
        open_files: u64,
    },
    /// The newest list's next update is less than [`ServeConfig::overdue_margin`]
    /// away (or past) and nothing newer was published: the schedule was missed.
    /// Reported once per list.
    Overdue {
        /// The issuer's folder.
        issuer_dir: String,
        /// The newest sequence.
        sequence: u64,
        /// Its next update.
        next_update: UnixTime,
        /// When noticed.
        now: UnixTime,
    },
}

/// Why a `latest.json` was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PointerError {
    /// It does not parse or check.
    #[error(transparent)]
    Latest(#[from] LatestError),
    /// It names another issuer than its folder.
    #[error("latest.json names issuer {issuer}, not this folder's")]
    WrongFolder {
        /// The issuer it names.
        issuer: String,
    },
    /// It is a symlink, not a file, or unreadable.
    #[error("latest.json is not a regular file that can be read")]
    Unreadable,
}

/// Counters of a running server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServeStats {
    /// Connections open now.
    pub connections_open: u64,
    /// Connections closed at once because [`ServeConfig::max_connections`] were open.
    pub connections_refused: u64,
    /// Connections closed for being idle.
    pub connections_idle_closed: u64,
    /// Event streams open now.
    pub streams_open: u64,
    /// Event streams refused (503) because [`ServeConfig::max_streams`] were open.
    pub streams_refused: u64,
    /// Requests answered.
    pub requests: u64,
    /// Requests for a path outside the layout, a symlink or an oversized file (404).
    pub refused_paths: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    connections_open: AtomicU64,
    connections_refused: AtomicU64,
    connections_idle_closed: AtomicU64,
    streams_open: AtomicU64,
    streams_refused: AtomicU64,
    requests: AtomicU64,
    refused_paths: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> ServeStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        ServeStats {
            connections_open: get(&self.connections_open),
            connections_refused: get(&self.connections_refused),
            connections_idle_closed: get(&self.connections_idle_closed),
            streams_open: get(&self.streams_open),
            streams_refused: get(&self.streams_refused),
            requests: get(&self.requests),
            refused_paths: get(&self.refused_paths),
        }
    }
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Serves `config.dir` until the process is interrupted (Ctrl-C or SIGTERM). Blocks.
/// The process is the server's: its open-file limit is first raised to the hard limit
/// (as Go's runtime does for every program), since each connection is a descriptor.
///
/// # Errors
/// [`ServeError`] if the directory, the address or the runtime cannot be had.
pub fn serve(config: ServeConfig) -> Result<(), ServeError> {
    raise_open_files_limit();
    let runtime = runtime(config.worker_threads)?;
    runtime.block_on(async move {
        let listener = bind(config.listen).await?;
        run(listener, config, interrupted()).await
    })
}

/// Starts the server on its own thread and runtime, bound before this returns (give
/// port 0 and read [`ServerHandle::local_addr`]). Dropping the handle stops it.
///
/// # Errors
/// [`ServeError`] if the directory, the address or the runtime cannot be had.
pub fn spawn(config: ServeConfig) -> Result<ServerHandle, ServeError> {
    let runtime = runtime(config.worker_threads)?;
    let std_listener =
        std::net::TcpListener::bind(config.listen).map_err(|source| ServeError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = std_listener.local_addr().map_err(ServeError::Runtime)?;
    std_listener
        .set_nonblocking(true)
        .map_err(ServeError::Runtime)?;
    let shared = runtime.block_on(async {
        let listener =
            tokio::net::TcpListener::from_std(std_listener).map_err(ServeError::Runtime)?;
        let shared = http::Shared::open(&config)?;
        Ok::<_, ServeError>((listener, shared))
    })?;
    let (listener, shared) = shared;
    let counters = Arc::clone(&shared.counters);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("revocard-serve".into())
        .spawn(move || {
            runtime.block_on(run_shared(listener, shared, async {
                let _ = stopped.await;
            }));
        })
        .map_err(ServeError::Runtime)?;
    Ok(ServerHandle {
        addr,
        counters,
        worker: crate::net::worker::Worker::new(stop, thread),
    })
}

/// Serves `config.dir` on `listener` until `shutdown` completes, on the caller's
/// runtime (for applications that already run tokio).
///
/// # Errors
/// [`ServeError::Dir`] if the directory cannot be opened.
pub async fn run(
    listener: tokio::net::TcpListener,
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let shared = http::Shared::open(&config)?;
    run_shared(listener, shared, shutdown).await;
    Ok(())
}

async fn run_shared(
    listener: tokio::net::TcpListener,
    shared: Arc<http::Shared>,
    shutdown: impl Future<Output = ()> + Send,
) {
    // The first scan before the first connection, so that every issuer is known.
    watch::scan_once(&shared).await;
    let watcher = tokio::spawn(watch::watch(Arc::clone(&shared)));
    conn::accept_loop(listener, shared, shutdown).await;
    watcher.abort();
}

/// A server started by [`spawn`].
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    counters: Arc<Counters>,
    worker: crate::net::worker::Worker,
}

impl ServerHandle {
    /// The address it listens on.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its counters now.
    #[must_use]
    pub fn stats(&self) -> ServeStats {
        self.counters.snapshot()
    }

    /// Stops it: closes the listener and every connection, and waits for its thread.
    pub fn shutdown(mut self) {
        self.worker.stop_and_join();
    }
}

/// The process's open-file limit (soft); `None` if unlimited.
fn open_files_limit() -> Option<u64> {
    rustix::process::getrlimit(rustix::process::Resource::Nofile).current
}

/// Raises the open-file limit (soft) to the hard limit; failing that, leaves it.
fn raise_open_files_limit() {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let _ = setrlimit(
            Resource::Nofile,
            Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            },
        );
    }
}

/// The connections a process with `open_files` descriptors can hold beside
/// [`RESERVED_FILES`], if fewer than `configured`.
fn connections_capped(configured: usize, open_files: Option<u64>) -> Option<usize> {
    let open_files = usize::try_from(open_files?).unwrap_or(usize::MAX);
    let allowed = open_files.saturating_sub(RESERVED_FILES);
    (allowed < configured).then_some(allowed)
}

fn runtime(threads: usize) -> Result<tokio::runtime::Runtime, ServeError> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if threads > 0 {
        builder.worker_threads(threads);
    }
    builder
        .enable_all()
        .thread_name("revocard-serve-worker")
        .build()
        .map_err(ServeError::Runtime)
}

async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, ServeError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })
}

async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_capped_to_the_open_files_less_the_reserve() {
        assert_eq!(connections_capped(8192, Some(20_000)), None);
        assert_eq!(connections_capped(8192, None), None);
        assert_eq!(
            connections_capped(8192, Some(1024)),
            Some(1024 - RESERVED_FILES)
        );
        assert_eq!(
            connections_capped(20_000, Some(20_000)),
            Some(20_000 - RESERVED_FILES)
        );
        assert_eq!(connections_capped(10, Some(10)), Some(0));
        assert_eq!(connections_capped(0, Some(10)), None);
    }

    #[test]
    fn a_server_caps_its_connections_to_its_open_files_and_says_so() {
        let limit = open_files_limit();
        let dir = std::env::temp_dir();
        let mut config = ServeConfig::new(
            &dir,
            "127.0.0.1:0".parse().unwrap_or_else(|_| unreachable!()),
        );
        config.max_connections = usize::MAX;
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        config.on_event = Some(Arc::new(move |e: &ServeEvent| {
            sink.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(e.clone());
        }));
        let shared = http::Shared::open(&config).unwrap_or_else(|e| panic!("{e}"));
        let events = seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        match limit {
            Some(open_files) => {
                let allowed = usize::try_from(open_files).unwrap_or(usize::MAX) - RESERVED_FILES;
                assert_eq!(shared.config.max_connections, allowed);
                assert_eq!(
                    events,
                    vec![ServeEvent::ConnectionsCapped {
                        configured: usize::MAX,
                        allowed,
                        open_files,
                    }]
                );
            }
            None => {
                assert_eq!(shared.config.max_connections, usize::MAX);
                assert!(events.is_empty());
            }
        }
    }
}
