//! Accepting connections within bounds: a connection count past which new connections
//! are closed at once, request heads bounded in size, count and time, and a watchdog
//! that closes a connection once it has neither read nor written for the idle timeout.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::http::{Shared, router};
use super::{MAX_REQUEST_HEAD_BYTES, MAX_REQUEST_HEADERS, bump};

/// Pause after a failed `accept` (out of file descriptors, say) before the next.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(20);

pub(super) async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    shutdown: impl Future<Output = ()> + Send,
) {
    let permits = Arc::new(Semaphore::new(
        shared.config.max_connections.min(Semaphore::MAX_PERMITS),
    ));
    let service = TowerToHyperService::new(router(Arc::clone(&shared)));
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => match Arc::clone(&permits).try_acquire_owned() {
                    Ok(permit) => {
                        let shared = Arc::clone(&shared);
                        let service = service.clone();
                        connections.spawn(async move {
                            shared.counters.connections_open.fetch_add(1, Ordering::Relaxed);
                            serve_connection(tcp, &shared, service).await;
                            shared.counters.connections_open.fetch_sub(1, Ordering::Relaxed);
                            drop(permit);
                        });
                    }
                    Err(_) => {
                        // Full: close it now. The client sees its connection closed and
                        // backs off; the connections already open are not touched.
                        bump(&shared.counters.connections_refused);
                        drop(tcp);
                    }
                },
                Err(_) => tokio::time::sleep(ACCEPT_ERROR_PAUSE).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.abort_all();
}

async fn serve_connection(
    tcp: TcpStream,
    shared: &Shared,
    service: TowerToHyperService<axum::Router>,
) {
    let _ = tcp.set_nodelay(true);
    let epoch = Instant::now();
    let last = Arc::new(AtomicU64::new(0));
    let io = TokioIo::new(Watched {
        inner: tcp,
        last: Arc::clone(&last),
        epoch,
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(shared.config.header_timeout)
        .max_buf_size(MAX_REQUEST_HEAD_BYTES)
        .max_headers(MAX_REQUEST_HEADERS);
    let connection = builder.serve_connection(io, service);
    let idle = shared.config.idle_timeout;
    tokio::select! {
        _ = connection => {}
        () = watchdog(&last, epoch, idle) => bump(&shared.counters.connections_idle_closed),
    }
}

/// Completes once `last` (milliseconds since `epoch` of the last byte moved) is older
/// than `idle`.
async fn watchdog(last: &AtomicU64, epoch: Instant, idle: Duration) {
    let idle_ms = u64::try_from(idle.as_millis()).unwrap_or(u64::MAX);
    loop {
        let since = millis_since(epoch).saturating_sub(last.load(Ordering::Relaxed));
        if since >= idle_ms {
            return;
        }
        tokio::time::sleep(Duration::from_millis(idle_ms - since)).await;
    }
}

fn millis_since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// A TCP stream that records when it last moved a byte.
struct Watched {
    inner: TcpStream,
    last: Arc<AtomicU64>,
    epoch: Instant,
}

impl Watched {
    fn touch(&self) {
        self.last.store(millis_since(self.epoch), Ordering::Relaxed);
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.touch();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
