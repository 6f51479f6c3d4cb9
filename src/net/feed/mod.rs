//! The door side (feature `feed`): keeps a [`Verifier`] (and so every
//! [`DoorController`](crate::door::DoorController) built on it) fresh from a
//! publisher's URL.
//!
//! On start and whenever it may have missed something (a gap, a delta from another
//! branch, a `fetch` event, a ping naming a newer sequence) it reads the issuer's
//! `latest.json` with `If-None-Match`, installs a newer root-signed key set (checked
//! against the root the door was configured with: never one the server offers), then
//! applies the pointer's delta if it starts at the list held, else installs the full
//! list. Between those it applies every delta pushed on the server's event stream. It
//! reconnects with exponential backoff and full jitter, and polls (conditional GETs)
//! while push is unavailable (a plain static server, a CDN). It reports what happened
//! as [`FeedEvent`]s.
//!
//! Nothing from the network is trusted: every object goes through the verifier's
//! checks (signatures, rollback, branch, issuer), so a hostile or broken publisher can
//! at worst keep a door on its last good list, which goes stale and then denies as
//! the verifier always does. Every body is bounded by its kind's `MAX_*` constant and
//! every request by a timeout; an event stream is bounded per event and closed when
//! idle.
//!
//! [`Feed::run`] is a future for applications that run tokio; [`Feed::spawn`] runs it
//! on a thread of its own for door software that has no async runtime.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use eventsource_stream::Eventsource as _;
use futures_util::StreamExt as _;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE, ETAG, IF_NONE_MATCH};

use crate::model::{IssuerId, UnixTime};
use crate::net::layout::{
    Latest, LatestError, MAX_LATEST_BYTES, Resource, issuer_dir_name, sha256_hex,
};
use crate::verify::{KeySetError, ListError, ListUpdate, Verifier};
use crate::wire::{MAX_DELTA_BYTES, MAX_KEY_SET_BYTES, MAX_LIST_BYTES};

/// Largest event read from the push channel: an inline delta of the server's largest
/// ([`MAX_PUSHED_DELTA_BYTES`]) in base64, with its field names and id.
pub const MAX_EVENT_BYTES: usize = MAX_PUSHED_DELTA_BYTES.div_ceil(3) * 4 + 256;
/// Largest delta the feed takes from an event (the server pushes at most 8 KiB and
/// announces larger ones with `fetch`).
pub const MAX_PUSHED_DELTA_BYTES: usize = 8 * 1024;

/// How the feed learns of new publications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FeedMode {
    /// The server's event stream; conditional polling at
    /// [`FeedConfig::poll_interval`] while it is unavailable.
    Push,
    /// Conditional GETs of `latest.json` at this interval only.
    Poll(Duration),
}

/// A clock the feed reads `now` from (the verifier's checks take it).
pub type Clock = Arc<dyn Fn() -> UnixTime + Send + Sync>;

/// Where the feed reports.
pub type EventSink = Arc<dyn Fn(&FeedEvent) + Send + Sync>;

/// Where to fetch from and the feed's bounds.
#[derive(Clone)]
#[non_exhaustive]
pub struct FeedConfig {
    /// The publisher's base URL (the directory holding the issuer folders), e.g.
    /// `http://publisher.example:8080` or a CDN prefix.
    pub base_url: String,
    /// The issuer this feed keeps fresh.
    pub issuer: IssuerId,
    /// Push or poll.
    pub mode: FeedMode,
    /// Time allowed to open a connection.
    pub connect_timeout: Duration,
    /// Time allowed for one whole fetch (request, headers and body).
    pub fetch_timeout: Duration,
    /// An event stream with no complete event for this long is closed (the server
    /// pings more often).
    pub idle_timeout: Duration,
    /// First reconnection delay; doubled on every failure up to [`Self::backoff_max`],
    /// each delay drawn uniformly below it (full jitter).
    pub backoff_min: Duration,
    /// Longest reconnection delay.
    pub backoff_max: Duration,
    /// Conditional polling interval while push is unavailable.
    pub poll_interval: Duration,
    /// How long to poll before trying push again.
    pub push_retry: Duration,
    /// Least time between two reads of `latest.json` by this feed (each drawn ±10%
    /// around it): pings, `fetch` events and refused deltas that arrive meanwhile
    /// collapse into one read when it is due, so a publisher (or a proxy) that floods
    /// events cannot make a fleet of doors flood it.
    pub min_fetch_interval: Duration,
    /// The clock (default: the system's).
    pub clock: Clock,
    /// Where events go (default: nowhere).
    pub on_event: Option<EventSink>,
}

impl std::fmt::Debug for FeedConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedConfig")
            .field("base_url", &self.base_url)
            .field("issuer", &self.issuer)
            .field("mode", &self.mode)
            .field("connect_timeout", &self.connect_timeout)
            .field("fetch_timeout", &self.fetch_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("backoff_min", &self.backoff_min)
            .field("backoff_max", &self.backoff_max)
            .field("poll_interval", &self.poll_interval)
            .field("push_retry", &self.push_retry)
            .field("min_fetch_interval", &self.min_fetch_interval)
            .finish_non_exhaustive()
    }
}

impl FeedConfig {
    /// Push from `base_url` for `issuer`, with the default bounds.
    #[must_use]
    pub fn new(base_url: impl Into<String>, issuer: IssuerId) -> Self {
        Self {
            base_url: base_url.into(),
            issuer,
            mode: FeedMode::Push,
            connect_timeout: Duration::from_secs(5),
            fetch_timeout: Duration::from_secs(20),
            idle_timeout: Duration::from_secs(45),
            backoff_min: Duration::from_millis(250),
            backoff_max: Duration::from_secs(30),
            poll_interval: Duration::from_secs(30),
            push_retry: Duration::from_secs(300),
            min_fetch_interval: Duration::from_secs(1),
            clock: Arc::new(system_now),
            on_event: None,
        }
    }
}

fn system_now() -> UnixTime {
    UnixTime(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    )
}

/// What failed on the network side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport {
    /// The connection could not be opened.
    Connect,
    /// The request or its body failed (reset, closed early, bad HTTP).
    Request,
    /// The event stream is not valid SSE (UTF-8 or syntax).
    EventSyntax,
}

/// Why a fetch, an event or an object was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FeedError {
    /// The base URL is not usable.
    #[error("cannot use base URL {url}")]
    BadUrl {
        /// The URL.
        url: String,
    },
    /// The HTTP client or its runtime could not be built.
    #[error("cannot build the HTTP client")]
    Client,
    /// The network failed.
    #[error("{kind:?} failure fetching {url}")]
    Transport {
        /// What was fetched.
        url: String,
        /// What failed.
        kind: Transport,
    },
    /// The server answered with another status.
    #[error("{url} answered {status}")]
    Status {
        /// What was fetched.
        url: String,
        /// The status.
        status: u16,
    },
    /// The body (or an event) is larger than its kind allows.
    #[error("{url} sent more than {max} bytes")]
    TooLarge {
        /// What was fetched.
        url: String,
        /// The limit.
        max: usize,
    },
    /// The whole fetch took longer than allowed (slow or never-ending body).
    #[error("{url} took longer than {after:?}")]
    TimedOut {
        /// What was fetched.
        url: String,
        /// The timeout.
        after: Duration,
    },
    /// The event stream was silent (no complete event) for too long.
    #[error("the event stream was silent for {after:?}")]
    Silent {
        /// The timeout.
        after: Duration,
    },
    /// The server closed the event stream.
    #[error("the server closed the event stream")]
    Closed,
    /// The pointer is malformed.
    #[error(transparent)]
    Pointer(#[from] LatestError),
    /// The pointer names another issuer.
    #[error("latest.json names issuer {found}")]
    WrongIssuer {
        /// The issuer it names.
        found: String,
    },
    /// A file is not the one the pointer names (its SHA-256 differs).
    #[error("{path} does not match its digest in latest.json")]
    DigestMismatch {
        /// The file.
        path: String,
    },
    /// A pushed delta is not base64.
    #[error("a pushed delta is not base64")]
    BadEventData,
    /// The verifier refused a list or delta.
    #[error(transparent)]
    List(#[from] ListError),
    /// The verifier refused a key set.
    #[error(transparent)]
    KeySet(#[from] KeySetError),
}

/// What the feed did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FeedEvent {
    /// A full list was installed.
    ListInstalled {
        /// What the verifier did.
        update: ListUpdate,
        /// Its length.
        bytes: usize,
    },
    /// A delta was applied.
    DeltaApplied {
        /// What the verifier did.
        update: ListUpdate,
        /// Its length.
        bytes: usize,
        /// Whether it came on the event stream (else fetched).
        pushed: bool,
    },
    /// A root-signed key set was installed.
    KeySetInstalled {
        /// What the verifier did.
        update: ListUpdate,
    },
    /// A delta older than the list held was offered again and ignored.
    ReplayIgnored {
        /// The sequence held.
        held: u64,
    },
    /// An object or event was refused; the verifier keeps what it held.
    Refused {
        /// Why.
        error: FeedError,
    },
    /// The pointer's anchor is not the root this door was configured with. The feed
    /// never installs a root from the network: an operator must look.
    AnchorMismatch,
    /// The event stream is open.
    PushConnected,
    /// The server has no event stream here (a static server): polling instead.
    PushUnavailable {
        /// The status it answered.
        status: u16,
    },
    /// The event stream ended.
    Disconnected {
        /// Why.
        error: FeedError,
    },
    /// Waiting before the next attempt.
    Backoff {
        /// How long.
        delay: Duration,
    },
    /// The door holds no list in force and fresh for the issuer (none installed, its
    /// signer no longer usable, or past its next update plus grace): it denies every
    /// card of the issuer (fail closed) until a good publication arrives. Reported
    /// once when it happens, not on every check.
    Stale {
        /// The list in force, if any (then past its next update).
        sequence: Option<u64>,
        /// When that list's next update was due (the earlier of its own and its
        /// signer's window's end).
        next_update: Option<UnixTime>,
        /// The time of the check.
        now: UnixTime,
    },
    /// The door has a list in force and fresh again after [`FeedEvent::Stale`].
    Fresh {
        /// Its sequence.
        sequence: u64,
    },
}

/// Counters of a feed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FeedStats {
    /// Body and event-stream bytes received (HTTP heads not counted).
    pub bytes_received: u64,
    /// Full lists installed.
    pub lists_installed: u64,
    /// Deltas applied.
    pub deltas_applied: u64,
    /// Objects and events refused.
    pub refused: u64,
    /// Event streams opened.
    pub connects: u64,
}

#[derive(Debug, Default)]
struct Counters {
    bytes_received: AtomicU64,
    lists_installed: AtomicU64,
    deltas_applied: AtomicU64,
    refused: AtomicU64,
    connects: AtomicU64,
}

/// A handle on a feed's counters (cheap to clone, readable from any thread).
#[derive(Debug, Clone)]
pub struct StatsHandle(Arc<Counters>);

impl StatsHandle {
    /// The counters now.
    #[must_use]
    pub fn get(&self) -> FeedStats {
        let c = &self.0;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        FeedStats {
            bytes_received: get(&c.bytes_received),
            lists_installed: get(&c.lists_installed),
            deltas_applied: get(&c.deltas_applied),
            refused: get(&c.refused),
            connects: get(&c.connects),
        }
    }
}

/// Keeps one issuer's list (and key set) fresh in a verifier.
pub struct Feed {
    config: FeedConfig,
    verifier: Arc<Verifier>,
    client: reqwest::Client,
    /// `<base>/<issuer-dir>/`.
    folder: String,
    /// The `ETag` of the last pointer fully acted on.
    etag: Option<String>,
    counters: Arc<Counters>,
    /// When `latest.json` was last requested, and the earliest the next read may go.
    next_pointer_read: Option<Instant>,
    /// Whether the last check found the door without a list in force and fresh.
    stale: bool,
}

impl std::fmt::Debug for Feed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Feed")
            .field("folder", &self.folder)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

enum Fetched {
    Body { body: Vec<u8>, etag: Option<String> },
    NotModified,
}

/// How an event stream ended.
enum StreamEnd {
    /// No stream here: poll.
    Unavailable(u16),
    /// Lost: back off and reconnect.
    Lost(FeedError),
}

impl Feed {
    /// A feed for `config.issuer` into `verifier`, which must already trust the
    /// issuer: its root (for key sets) or pinned signing keys.
    ///
    /// # Errors
    /// [`FeedError::BadUrl`] for a base URL that is not `http://` or `https://`;
    /// [`FeedError::Client`] if the HTTP client cannot be built.
    pub fn new(config: FeedConfig, verifier: Arc<Verifier>) -> Result<Self, FeedError> {
        let base = config.base_url.trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(FeedError::BadUrl {
                url: config.base_url.clone(),
            });
        }
        let folder = format!("{base}/{}/", issuer_dir_name(&config.issuer));
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("revocard-feed/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|_| FeedError::Client)?;
        Ok(Self {
            config,
            verifier,
            client,
            folder,
            etag: None,
            counters: Arc::new(Counters::default()),
            next_pointer_read: None,
            stale: false,
        })
    }

    /// The feed's counters.
    #[must_use]
    pub fn stats(&self) -> StatsHandle {
        StatsHandle(Arc::clone(&self.counters))
    }

    /// Runs until `shutdown` completes: syncs, then follows the event stream (or
    /// polls), reconnecting with backoff. Never returns an error: failures are
    /// reported as events and retried.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) {
        tokio::select! {
            () = shutdown => {}
            () = self.run_forever() => {}
        }
    }

    /// Runs the feed on a thread of its own (with a single-threaded runtime), for door
    /// software without an async runtime. Stop it with [`FeedHandle::stop`] (or by
    /// dropping the handle).
    ///
    /// # Errors
    /// [`FeedError::Client`] if the runtime or the thread cannot be started.
    pub fn spawn(self) -> Result<FeedHandle, FeedError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|_| FeedError::Client)?;
        let stats = self.stats();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("revocard-feed".into())
            .spawn(move || {
                runtime.block_on(self.run(async {
                    let _ = stopped.await;
                }));
            })
            .map_err(|_| FeedError::Client)?;
        Ok(FeedHandle {
            stats,
            worker: crate::net::worker::Worker::new(stop, thread),
        })
    }

    async fn run_forever(&mut self) {
        let mut backoff = Backoff::new(self.config.backoff_min, self.config.backoff_max);
        loop {
            self.throttled_sync().await;
            match self.config.mode {
                FeedMode::Poll(every) => {
                    tokio::time::sleep(jittered_interval(every)).await;
                }
                FeedMode::Push => match self.follow(&mut backoff).await {
                    StreamEnd::Unavailable(status) => {
                        self.report(FeedEvent::PushUnavailable { status });
                        self.poll_for(self.config.push_retry).await;
                    }
                    StreamEnd::Lost(error) => {
                        self.report(FeedEvent::Disconnected { error });
                        let delay = backoff.next();
                        self.report(FeedEvent::Backoff { delay });
                        tokio::time::sleep(delay).await;
                    }
                },
            }
        }
    }

    async fn poll_for(&mut self, period: Duration) {
        let until = Instant::now() + period;
        while Instant::now() < until {
            tokio::time::sleep(jittered_interval(self.config.poll_interval)).await;
            self.throttled_sync().await;
        }
    }

    /// Waits until the next read of `latest.json` is due, then syncs, reporting a
    /// refusal and whether the door is left without a fresh list.
    async fn throttled_sync(&mut self) {
        if let Some(due) = self.next_pointer_read {
            tokio::time::sleep_until(due.into()).await;
        }
        if let Err(error) = self.sync().await {
            self.refused(error);
        }
        self.check_freshness();
    }

    /// Reports the moment the door goes without a list in force and fresh (its
    /// doors deny every card of the issuer, fail closed), and the moment it has one
    /// again: once each, not on every check.
    fn check_freshness(&mut self) {
        let now = self.now();
        let options = self.verifier.options();
        let snapshot = self.verifier.snapshot();
        let held = snapshot
            .list_in_force(&self.config.issuer, now, &options)
            .ok();
        let next_update = snapshot.effective_next_update(&self.config.issuer, now, &options);
        let stale = next_update.is_none_or(|next| now > next.plus(options.status_grace_secs));
        let sequence = held.map(|l| l.sequence());
        drop(snapshot);
        if stale && !self.stale {
            self.report(FeedEvent::Stale {
                sequence,
                next_update,
                now,
            });
        } else if !stale && self.stale {
            self.report(FeedEvent::Fresh {
                sequence: sequence.unwrap_or_default(),
            });
        }
        self.stale = stale;
    }

    fn held(&self) -> Option<u64> {
        self.verifier
            .list_in_force(&self.config.issuer, self.now())
            .map(|l| l.sequence())
    }

    /// Reads the pointer (conditionally) and brings the verifier up to it: a newer key
    /// set, then the pointer's delta if it starts at the list held, else the full
    /// list. Public for door software that wants to sync on its own schedule.
    ///
    /// # Errors
    /// [`FeedError`] naming the first fetch or object that failed; the verifier keeps
    /// what it held.
    pub async fn sync(&mut self) -> Result<(), FeedError> {
        let url = format!("{}{}", self.folder, Resource::Latest.path());
        self.next_pointer_read =
            Some(Instant::now() + jittered_interval(self.config.min_fetch_interval));
        let (body, etag) = match self
            .fetch(&url, MAX_LATEST_BYTES, self.etag.clone().as_deref())
            .await?
        {
            Fetched::NotModified => return Ok(()),
            Fetched::Body { body, etag } => (body, etag),
        };
        let latest = Latest::from_json(&body)?;
        if latest.issuer != self.config.issuer.as_str() {
            return Err(FeedError::WrongIssuer {
                found: latest.issuer,
            });
        }
        let snapshot = self.verifier.snapshot();
        let trust = snapshot.trust();
        if let Some(root) = trust.root(&self.config.issuer) {
            if sha256_hex(&root.to_bytes()) != latest.anchor.sha256 {
                self.report(FeedEvent::AnchorMismatch);
            }
            let held = trust.key_set_sequence(&self.config.issuer);
            if held.is_none_or(|held| held < latest.key_set.sequence) {
                let path = latest.key_set.path.clone();
                let bytes = self
                    .fetch_named(&path, MAX_KEY_SET_BYTES, &latest.key_set.sha256)
                    .await?;
                let update = self.verifier.install_key_set(&bytes, self.now())?;
                self.report(FeedEvent::KeySetInstalled { update });
            }
        }
        drop(snapshot);
        let held = self.held();
        let target = latest.list.sequence;
        if held.is_some_and(|held| held >= target) {
            self.etag = etag;
            return Ok(());
        }
        if let (Some(delta), Some(held)) = (&latest.delta, held)
            && delta.from == held
        {
            let applied = match self
                .fetch_named(&delta.path, MAX_DELTA_BYTES, &delta.sha256)
                .await
            {
                Ok(bytes) => self.apply_delta(&bytes, false),
                Err(error) => Err(error),
            };
            match applied {
                Ok(()) => {
                    self.etag = etag;
                    return Ok(());
                }
                // The full list below may still do.
                Err(error) => self.refused(error),
            }
        }
        let bytes = self
            .fetch_named(&latest.list.path, MAX_LIST_BYTES, &latest.list.sha256)
            .await?;
        let update = self.verifier.install_list(&bytes, self.now())?;
        self.counters
            .lists_installed
            .fetch_add(1, Ordering::Relaxed);
        self.report(FeedEvent::ListInstalled {
            update,
            bytes: bytes.len(),
        });
        self.etag = etag;
        Ok(())
    }

    fn apply_delta(&self, bytes: &[u8], pushed: bool) -> Result<(), FeedError> {
        match self.verifier.apply_delta(bytes, self.now()) {
            Ok(update) => {
                self.counters.deltas_applied.fetch_add(1, Ordering::Relaxed);
                self.report(FeedEvent::DeltaApplied {
                    update,
                    bytes: bytes.len(),
                    pushed,
                });
                Ok(())
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Opens the event stream and applies what it carries until it ends.
    async fn follow(&mut self, backoff: &mut Backoff) -> StreamEnd {
        let url = format!("{}{}", self.folder, Resource::Events.path());
        let mut request = self.client.get(&url).header(ACCEPT, "text/event-stream");
        if let Some(held) = self.held() {
            request = request.header("last-event-id", held.to_string());
        }
        let response = match tokio::time::timeout(self.config.fetch_timeout, request.send()).await {
            Err(_) => {
                return StreamEnd::Lost(FeedError::TimedOut {
                    url,
                    after: self.config.fetch_timeout,
                });
            }
            Ok(Err(e)) => return StreamEnd::Lost(transport(&url, &e)),
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        let is_stream = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if status.is_client_error() || (status.is_success() && !is_stream) {
            return StreamEnd::Unavailable(status.as_u16());
        }
        if !status.is_success() {
            return StreamEnd::Lost(FeedError::Status {
                url,
                status: status.as_u16(),
            });
        }
        self.counters.connects.fetch_add(1, Ordering::Relaxed);
        self.report(FeedEvent::PushConnected);
        // Bytes since the last complete event: the parser's buffer never holds more
        // than this plus one read.
        let pending = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&pending);
        let counters = Arc::clone(&self.counters);
        let events_url = url.clone();
        let mut events = response
            .bytes_stream()
            .map(move |chunk| {
                let chunk = chunk.map_err(|e| transport(&events_url, &e))?;
                counters
                    .bytes_received
                    .fetch_add(chunk.len() as u64, Ordering::Relaxed);
                if counted.fetch_add(chunk.len(), Ordering::Relaxed) + chunk.len() > MAX_EVENT_BYTES
                {
                    return Err(FeedError::TooLarge {
                        url: events_url.clone(),
                        max: MAX_EVENT_BYTES,
                    });
                }
                Ok(chunk)
            })
            .eventsource();
        // A read of the pointer asked for by events, done when it is due: every event
        // that asks meanwhile collapses into it.
        let mut sync_wanted = false;
        loop {
            let idle = tokio::time::timeout(self.config.idle_timeout, events.next());
            let next = match (sync_wanted, self.next_pointer_read) {
                (true, due) => {
                    let due = due.unwrap_or_else(Instant::now);
                    tokio::select! {
                        biased;
                        () = tokio::time::sleep_until(due.into()) => {
                            sync_wanted = false;
                            self.throttled_sync().await;
                            continue;
                        }
                        next = idle => next,
                    }
                }
                (false, _) => idle.await,
            };
            self.check_freshness();
            let event = match next {
                Err(_) => {
                    return StreamEnd::Lost(FeedError::Silent {
                        after: self.config.idle_timeout,
                    });
                }
                Ok(None) => return StreamEnd::Lost(FeedError::Closed),
                Ok(Some(Err(eventsource_stream::EventStreamError::Transport(error)))) => {
                    return StreamEnd::Lost(error);
                }
                Ok(Some(Err(_))) => {
                    return StreamEnd::Lost(FeedError::Transport {
                        url,
                        kind: Transport::EventSyntax,
                    });
                }
                Ok(Some(Ok(event))) => event,
            };
            pending.store(0, Ordering::Relaxed);
            match event.event.as_str() {
                "delta" => {
                    let data = base64::engine::general_purpose::STANDARD
                        .decode(event.data.as_bytes())
                        .ok()
                        .filter(|d| d.len() <= MAX_PUSHED_DELTA_BYTES);
                    let Some(data) = data else {
                        self.refused(FeedError::BadEventData);
                        continue;
                    };
                    match self.apply_delta(&data, true) {
                        Ok(()) => backoff.reset(),
                        Err(FeedError::List(ListError::Rollback { held, .. })) => {
                            self.report(FeedEvent::ReplayIgnored { held });
                        }
                        Err(error) => {
                            // A gap, another branch, an unknown key (a new key set?):
                            // the pointer says where the issuer is.
                            self.refused(error);
                            sync_wanted = true;
                        }
                    }
                }
                "fetch" => sync_wanted = true,
                "ping" => {
                    backoff.reset();
                    let announced = event.data.trim().parse::<u64>().ok();
                    if announced.is_some_and(|a| self.held().is_none_or(|h| h < a)) {
                        sync_wanted = true;
                    }
                }
                _ => {}
            }
        }
    }

    /// Fetches a file the pointer names and checks its digest.
    async fn fetch_named(
        &self,
        path: &str,
        max: usize,
        sha256: &str,
    ) -> Result<Vec<u8>, FeedError> {
        let url = format!("{}{path}", self.folder);
        match self.fetch(&url, max, None).await? {
            Fetched::Body { body, .. } if sha256_hex(&body) == sha256 => Ok(body),
            Fetched::Body { .. } => Err(FeedError::DigestMismatch {
                path: path.to_owned(),
            }),
            Fetched::NotModified => Err(FeedError::Status { url, status: 304 }),
        }
    }

    /// One GET, its body bounded by `max` and the whole by the fetch timeout.
    async fn fetch(&self, url: &str, max: usize, etag: Option<&str>) -> Result<Fetched, FeedError> {
        let after = self.config.fetch_timeout;
        tokio::time::timeout(after, self.fetch_unbounded_in_time(url, max, etag))
            .await
            .map_err(|_| FeedError::TimedOut {
                url: url.to_owned(),
                after,
            })?
    }

    async fn fetch_unbounded_in_time(
        &self,
        url: &str,
        max: usize,
        etag: Option<&str>,
    ) -> Result<Fetched, FeedError> {
        let mut request = self.client.get(url);
        if let Some(etag) = etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        let mut response = request.send().await.map_err(|e| transport(url, &e))?;
        let status = response.status();
        // "Not modified" answers only a conditional request: unasked, it is a bad
        // answer like any other (a fresh door would otherwise hear nothing at all).
        if status == StatusCode::NOT_MODIFIED && etag.is_some() {
            return Ok(Fetched::NotModified);
        }
        if !status.is_success() {
            return Err(FeedError::Status {
                url: url.to_owned(),
                status: status.as_u16(),
            });
        }
        let too_large = || FeedError::TooLarge {
            url: url.to_owned(),
            max,
        };
        if response.content_length().is_some_and(|n| n > max as u64) {
            return Err(too_large());
        }
        let etag = response
            .headers()
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| transport(url, &e))? {
            self.counters
                .bytes_received
                .fetch_add(chunk.len() as u64, Ordering::Relaxed);
            if body.len() + chunk.len() > max {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched::Body { body, etag })
    }

    fn now(&self) -> UnixTime {
        (self.config.clock)()
    }

    fn refused(&self, error: FeedError) {
        self.counters.refused.fetch_add(1, Ordering::Relaxed);
        self.report(FeedEvent::Refused { error });
    }

    fn report(&self, event: FeedEvent) {
        if let Some(sink) = &self.config.on_event {
            sink(&event);
        }
    }
}

fn transport(url: &str, error: &reqwest::Error) -> FeedError {
    FeedError::Transport {
        url: url.to_owned(),
        kind: if error.is_connect() {
            Transport::Connect
        } else {
            Transport::Request
        },
    }
}

/// An interval with ±10% jitter, so that a fleet started together does not poll in
/// step.
fn jittered_interval(every: Duration) -> Duration {
    let millis = u64::try_from(every.as_millis()).unwrap_or(u64::MAX).max(1);
    let spread = millis / 10;
    Duration::from_millis(millis - spread + rand::random_range(0..=2 * spread))
}

/// Exponential backoff with full jitter: each delay is drawn uniformly from zero to
/// the current ceiling, which doubles on every failure up to the maximum.
#[derive(Debug)]
struct Backoff {
    min: Duration,
    max: Duration,
    ceiling: Duration,
}

impl Backoff {
    fn new(min: Duration, max: Duration) -> Self {
        Self {
            min,
            max: max.max(min),
            ceiling: min,
        }
    }

    fn next(&mut self) -> Duration {
        let ceiling = u64::try_from(self.ceiling.as_millis()).unwrap_or(u64::MAX);
        let floor = u64::try_from(self.min.as_millis())
            .unwrap_or(0)
            .min(ceiling)
            / 2;
        let delay = Duration::from_millis(rand::random_range(floor..=ceiling));
        self.ceiling = (self.ceiling * 2).min(self.max);
        delay
    }

    fn reset(&mut self) {
        self.ceiling = self.min;
    }
}

/// A feed running on its own thread ([`Feed::spawn`]).
#[derive(Debug)]
pub struct FeedHandle {
    stats: StatsHandle,
    worker: crate::net::worker::Worker,
}

impl FeedHandle {
    /// The feed's counters.
    #[must_use]
    pub fn stats(&self) -> FeedStats {
        self.stats.get()
    }

    /// Whether the feed's thread is still running (it only ends when stopped).
    #[must_use]
    pub fn is_running(&self) -> bool {
        self.worker.is_running()
    }

    /// Stops the feed and waits for its thread (at most the time of one pending
    /// verifier update: every network wait is cancelled).
    pub fn stop(mut self) {
        self.worker.stop_and_join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_its_ceiling_with_jitter_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(800));
        let delays: Vec<_> = (0..8).map(|_| b.next()).collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_millis(800)));
        assert_eq!(b.ceiling, Duration::from_millis(800));
        b.reset();
        assert!(b.next() <= Duration::from_millis(100));
    }
}
