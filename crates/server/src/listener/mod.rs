//! The server's edge: accepting connections and serving HTTP/1.1 on them, with the limits
//! that keep slow, idle and flooding clients from exhausting the server.
//!
//! `axum::serve` exposes neither hyper's timers nor a connection cap, so the accept loop is
//! written here on `hyper::server::conn::http1` with hyper-util's graceful shutdown:
//!
//! - **every connection has a deadline** ([`connection`]): the TLS handshake and the first
//!   request head within the header timeout from accept; a later request's head within the
//!   header timeout from its first byte; the next request within the idle timeout after an
//!   answer; a request's answer within twice its route's time limit. A watchdog closes the
//!   connection when the deadline passes. (hyper's own `header_read_timeout` starts when a
//!   connection waits for a head, which on a kept-alive connection is the idle time too, so
//!   it cannot tell idle from slow; it stays on as a backstop at the larger of the two.)
//! - **a cap on open connections**, per listener and per client address: at the cap, the
//!   connection that has nothing in progress (idle, or still sending its head) and belongs
//!   to the client holding the most connections is closed to make room, so a flood of idle
//!   or slow connections cannot lock anyone out; only when every connection is working is
//!   a new one refused, with a 503 written at once (plain HTTP) and closed. File
//!   descriptors stay bounded by the cap.
//! - **a cap on requests in progress per client address** (429 beyond it).
//! - **a time limit per route class** ([`limits::limit_request_time`], a router layer: 503
//!   in Backstage's error shape).
//!
//! Graceful shutdown: on the signal the listener stops accepting, idle connections close,
//! and requests in progress finish (each within its deadline).

mod connection;
mod limits;

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;

use connection::{Connection, Registry, RequestTicket, Tracked};
pub use limits::{Limits, RequestTimeouts, RouteClass, classify};
pub(crate) use limits::{limit_request_time, show};

/// The largest request head (request line and headers) read; 431 beyond. hyper's default is
/// its whole buffer, ~400 KiB, which a thousand slow clients would each hold until the header
/// timeout; 64 KiB still takes a 40 KB query string.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Where a request came in: added to every request's extensions.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionInfo {
    /// The client's address.
    pub peer: SocketAddr,
    /// The address the client connected to.
    pub local: SocketAddr,
}

/// One listening socket and what it serves.
pub(crate) struct Listener {
    pub(crate) tcp: TcpListener,
    pub(crate) tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
    pub(crate) limits: Limits,
    /// `main` or `admission` (logs and metrics).
    pub(crate) name: &'static str,
}

impl Listener {
    /// Serves `app` until `shutdown` turns true, then lets requests in progress finish.
    pub(crate) async fn run(self, app: Router, mut shutdown: watch::Receiver<bool>) {
        let Listener {
            tcp,
            tls,
            limits,
            name,
        } = self;
        let registry = Arc::new(Registry::new(limits, name));
        let acceptor = tls.map(TlsAcceptor::from);
        let graceful = GracefulShutdown::new();
        let local = tcp.local_addr().ok();
        let refusing = Arc::new(Semaphore::new(REFUSALS_IN_FLIGHT));
        loop {
            let accepted = tokio::select! {
                biased;
                _ = shutdown.wait_for(|stop| *stop) => break,
                accepted = tcp.accept() => accepted,
            };
            let (stream, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(listener = name, error = %e, "accept failed");
                    metrics::counter!("pave_accept_errors_total", "listener" => name).increment(1);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let connection = match registry.admit(peer.ip()) {
                Ok(connection) => connection,
                Err(refusal) => {
                    metrics::counter!("pave_connections_closed_total", "listener" => name, "reason" => refusal.reason()).increment(1);
                    tracing::debug!(listener = name, %peer, reason = refusal.reason(), "connection refused");
                    refuse(stream, acceptor.is_none(), &refusing);
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let info = ConnectionInfo {
                peer,
                local: stream.local_addr().ok().or(local).unwrap_or(peer),
            };
            let task = ConnectionTask {
                registry: Arc::clone(&registry),
                connection,
                app: app.clone(),
                info,
                watcher: graceful.watcher(),
            };
            let acceptor = acceptor.clone();
            tokio::spawn(task.run(stream, acceptor));
        }
        drop(tcp);
        tracing::debug!(
            listener = name,
            open = registry.open_connections(),
            "stopped accepting; finishing requests in progress"
        );
        // Bounded: every connection has a deadline.
        graceful.shutdown().await;
    }
}

/// Refused connections kept open at once to deliver their 503 cleanly (beyond this they are
/// closed without a word).
const REFUSALS_IN_FLIGHT: usize = 64;

/// How long a refused connection is kept to deliver its 503.
const REFUSAL_LINGER: Duration = Duration::from_secs(1);

/// The answer to a connection the listener cannot take: a 503 written without waiting
/// (a fresh socket's send buffer has room), the write side shut, and what the client sent
/// read and dropped for at most a second, so that the client reads the 503 instead of a
/// reset. At most [`REFUSALS_IN_FLIGHT`] at once; TLS connections are just closed.
fn refuse(stream: TcpStream, plain: bool, refusing: &Arc<Semaphore>) {
    if !plain {
        return;
    }
    let body = "pave: too many connections; try again shortly\n";
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    if stream.try_write(answer.as_bytes()).is_err() {
        return;
    }
    let Ok(permit) = Arc::clone(refusing).try_acquire_owned() else {
        return;
    };
    tokio::spawn(async move {
        let _permit = permit;
        let mut stream = stream;
        let _ = tokio::time::timeout(REFUSAL_LINGER, async {
            let _ = stream.shutdown().await;
            let mut sink = [0u8; 4096];
            let mut left: usize = 64 * 1024;
            while left > 0 {
                match stream.read(&mut sink).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => left = left.saturating_sub(n),
                }
            }
        })
        .await;
    });
}

/// One accepted connection: TLS, HTTP/1.1, its watchdog.
struct ConnectionTask {
    registry: Arc<Registry>,
    connection: Arc<Connection>,
    app: Router,
    info: ConnectionInfo,
    watcher: Watcher,
}

impl ConnectionTask {
    async fn run(self, stream: TcpStream, acceptor: Option<TlsAcceptor>) {
        let registry = Arc::clone(&self.registry);
        let connection = Arc::clone(&self.connection);
        let name = registry.name();
        let serve = async move {
            match acceptor {
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(tls) => self.serve(tls).await,
                    Err(e) => {
                        tracing::debug!(peer = %self.info.peer, error = %e, "TLS handshake failed")
                    }
                },
                None => self.serve(stream).await,
            }
        };
        tokio::select! {
            () = serve => {}
            phase = connection.expired() => {
                metrics::counter!("pave_connections_closed_total", "listener" => name, "reason" => phase.timeout_reason()).increment(1);
                tracing::debug!(listener = name, reason = phase.timeout_reason(), "connection closed at its deadline");
            }
            () = connection.evicted() => {
                tracing::debug!(listener = name, "idle connection closed to make room");
            }
        }
        registry.remove(&connection);
    }

    async fn serve<S>(self, io: S)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let limits = self.registry.limits();
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .keep_alive(true)
            .max_header_size(MAX_HEAD_BYTES)
            // A backstop only: the connection's own deadlines are shorter.
            .header_read_timeout(limits.header_timeout.max(limits.idle_timeout));
        let io = TokioIo::new(Tracked::new(io, Arc::clone(&self.connection)));
        let service = Service {
            registry: Arc::clone(&self.registry),
            connection: self.connection,
            app: self.app,
            info: self.info,
        };
        let peer = self.info.peer;
        if let Err(e) = self.watcher.watch(http.serve_connection(io, service)).await {
            tracing::debug!(%peer, error = %e, "connection ended with an error");
        }
    }
}

/// The per-connection hyper service: accounting, then the router.
#[derive(Clone)]
struct Service {
    registry: Arc<Registry>,
    connection: Arc<Connection>,
    app: Router,
    info: ConnectionInfo,
}

type BoxFuture = Pin<Box<dyn Future<Output = Result<Response<TrackedBody>, Infallible>> + Send>>;

impl hyper::service::Service<Request<Incoming>> for Service {
    type Response = Response<TrackedBody>;
    type Error = Infallible;
    type Future = BoxFuture;

    fn call(&self, mut request: Request<Incoming>) -> Self::Future {
        let limits = self.registry.limits();
        let class = classify(request.method(), request.uri().path());
        let ticket = match self
            .registry
            .begin_request(&self.connection, limits.request.of(class))
        {
            Ok(ticket) => ticket,
            Err(ticket) => {
                let name = self.registry.name();
                metrics::counter!("pave_requests_refused_total", "listener" => name, "reason" => "client_requests").increment(1);
                let response =
                    too_many_requests(self.connection.ip, limits.max_requests_per_client);
                return Box::pin(std::future::ready(Ok(
                    response.map(|body| TrackedBody::new(body, ticket))
                )));
            }
        };
        request.extensions_mut().insert(self.info);
        let mut app = self.app.clone();
        Box::pin(async move {
            let response = match tower::Service::call(&mut app, request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            Ok(response.map(|body| TrackedBody::new(body, ticket)))
        })
    }
}

/// 429 in Backstage's error shape.
fn too_many_requests(ip: IpAddr, limit: usize) -> Response<Body> {
    let body = serde_json::json!({
        "error": {
            "name": "TooManyRequestsError",
            "message": format!("{ip} already has {limit} requests in progress (--max-requests-per-client); try again shortly"),
        },
        "response": {"statusCode": 429},
    });
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// A response body that ends its request when hyper is done with it (written, or dropped
/// with the connection).
pub(crate) struct TrackedBody {
    inner: Body,
    _ticket: RequestTicket,
}

impl TrackedBody {
    fn new(inner: Body, ticket: RequestTicket) -> Self {
        TrackedBody {
            inner,
            _ticket: ticket,
        }
    }
}

impl hyper::body::Body for TrackedBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The soft limit on open files of this process (Linux `/proc/self/limits`), if known.
pub(crate) fn open_files_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line.split_whitespace().nth(3)?;
    soft.parse().ok()
}

/// File descriptors kept for everything but connections: the database pool, git and its
/// pipes, files being read, the listening sockets.
pub(crate) const RESERVED_FILES: usize = 128;

/// `wanted` connections, or fewer if the open-files limit would run out first.
pub(crate) fn fit_to_open_files(wanted: usize, others: usize) -> usize {
    match open_files_limit() {
        Some(limit) => {
            let room = limit.saturating_sub(RESERVED_FILES + others).max(16);
            if wanted > room {
                tracing::warn!(
                    wanted,
                    allowed = room,
                    open_files_limit = limit,
                    "--max-connections is above what the open-files limit (ulimit -n) leaves room for; using {room}"
                );
                room
            } else {
                wanted
            }
        }
        None => wanted,
    }
}
