//! The state of each open connection and the registry of all of them: what phase a
//! connection is in (waiting for a request head, working on a request, idle), its deadline,
//! and the caps per listener and per client address.
//!
//! Every connection always has a deadline, so every connection ends: a watchdog task closes
//! it when the deadline passes, whatever the client does. The phase moves on two signals:
//! bytes arriving ([`Tracked`], the transport) and requests starting and finishing
//! ([`Registry::begin_request`] and the [`RequestTicket`] it returns).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

use super::Limits;

/// Deadlines are milliseconds after this instant (so they fit an atomic).
static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

fn now_ms() -> u64 {
    millis(EPOCH.elapsed())
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Where a connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Phase {
    /// Accepted; the TLS handshake and the first request head are due by the deadline.
    Fresh = 0,
    /// Kept alive between requests.
    Idle = 1,
    /// The first bytes of a request arrived; its head is due by the deadline.
    Head = 2,
    /// Working on a request or writing its answer.
    Busy = 3,
}

impl Phase {
    fn from_u8(value: u8) -> Phase {
        match value {
            0 => Phase::Fresh,
            1 => Phase::Idle,
            2 => Phase::Head,
            _ => Phase::Busy,
        }
    }

    /// Why a connection in this phase was closed at its deadline (a metrics label).
    pub(crate) fn timeout_reason(self) -> &'static str {
        match self {
            Phase::Fresh | Phase::Head => "header_timeout",
            Phase::Idle => "idle_timeout",
            Phase::Busy => "request_timeout",
        }
    }
}

/// One open connection, shared by its task, its transport, its requests and the registry.
#[derive(Debug)]
pub(crate) struct Connection {
    id: u64,
    pub(crate) ip: IpAddr,
    phase: AtomicU8,
    /// Requests in progress (HTTP/1.1 serves one at a time; a counter keeps the accounting
    /// right whatever order hyper drops things in).
    requests: AtomicUsize,
    deadline_ms: AtomicU64,
    header_timeout: Duration,
    idle_timeout: Duration,
    /// Told when the registry closes this connection to make room.
    evict: Notify,
    /// Told when the deadline moves (it may move earlier: idle to a request head).
    moved: Notify,
}

impl Connection {
    pub(crate) fn phase(&self) -> Phase {
        Phase::from_u8(self.phase.load(Ordering::Acquire))
    }

    fn set_deadline_in(&self, d: Duration) {
        self.deadline_ms
            .store(now_ms().saturating_add(millis(d)), Ordering::Release);
        self.moved.notify_one();
    }

    /// Bytes arrived: an idle connection starts a request head, due within the header
    /// timeout. A fresh connection keeps the deadline it got when it was accepted (a
    /// trickle of bytes does not extend it).
    fn on_bytes(&self) {
        match self.phase() {
            Phase::Idle => {
                if self
                    .phase
                    .compare_exchange(
                        Phase::Idle as u8,
                        Phase::Head as u8,
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    )
                    .is_ok()
                {
                    self.set_deadline_in(self.header_timeout);
                }
            }
            Phase::Fresh => {
                let _ = self.phase.compare_exchange(
                    Phase::Fresh as u8,
                    Phase::Head as u8,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                );
            }
            Phase::Head | Phase::Busy => {}
        }
    }

    /// Waits until the deadline passes (it may move while waiting); returns the phase then.
    pub(crate) async fn expired(&self) -> Phase {
        loop {
            let deadline = self.deadline_ms.load(Ordering::Acquire);
            let now = now_ms();
            if now >= deadline {
                return self.phase();
            }
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(deadline - now)) => {}
                () = self.moved.notified() => {}
            }
        }
    }

    /// Waits until the registry evicts this connection.
    pub(crate) async fn evicted(&self) {
        self.evict.notified().await;
    }

    /// Whether the registry may close it to make room: nothing is in progress on it.
    fn evictable(&self) -> bool {
        self.phase() != Phase::Busy
    }
}

/// Why a new connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The listener is at `max_connections` and every connection is working.
    Full,
    /// This client is at `max_connections_per_client` and each of them is working.
    Client,
}

impl Refusal {
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Refusal::Full => "refused_full",
            Refusal::Client => "refused_client",
        }
    }
}

#[derive(Debug, Default)]
struct Client {
    connections: BTreeSet<u64>,
    requests: usize,
}

#[derive(Debug, Default)]
struct Open {
    /// By id, which grows with time: the first is the oldest.
    connections: BTreeMap<u64, Arc<Connection>>,
    clients: HashMap<IpAddr, Client>,
}

/// Every open connection of one listener.
#[derive(Debug)]
pub(crate) struct Registry {
    limits: Limits,
    listener: &'static str,
    next_id: AtomicU64,
    open: Mutex<Open>,
}

impl Registry {
    pub(crate) fn new(limits: Limits, listener: &'static str) -> Registry {
        Registry {
            limits,
            listener,
            next_id: AtomicU64::new(0),
            open: Mutex::new(Open::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Open> {
        // The sections below do not panic; a poisoned lock still holds consistent counts.
        self.open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `main` or `admission`.
    pub(crate) fn name(&self) -> &'static str {
        self.listener
    }

    pub(crate) fn limits(&self) -> &Limits {
        &self.limits
    }

    pub(crate) fn open_connections(&self) -> usize {
        self.lock().connections.len()
    }

    /// Registers a new connection from `ip`, closing an idle one when a cap is reached.
    pub(crate) fn admit(&self, ip: IpAddr) -> Result<Arc<Connection>, Refusal> {
        let mut open = self.lock();
        let per_client = self.limits.max_connections_per_client;
        if per_client > 0
            && open
                .clients
                .get(&ip)
                .is_some_and(|c| c.connections.len() >= per_client)
        {
            // The client makes room among its own connections, never among others'.
            let victim = open.clients.get(&ip).and_then(|c| {
                c.connections
                    .iter()
                    .find(|id| open.connections.get(id).is_some_and(|c| c.evictable()))
                    .copied()
            });
            match victim {
                Some(id) => self.evict(&mut open, id),
                None => return Err(Refusal::Client),
            }
        }
        if open.connections.len() >= self.limits.max_connections.max(1) {
            // The client holding the most connections gives one up first (a flood from one
            // address pays for itself), else the oldest idle connection anywhere.
            let heaviest = open
                .clients
                .iter()
                .max_by_key(|(_, c)| c.connections.len())
                .and_then(|(_, c)| {
                    c.connections
                        .iter()
                        .find(|id| open.connections.get(id).is_some_and(|c| c.evictable()))
                        .copied()
                });
            let victim = heaviest.or_else(|| {
                open.connections
                    .iter()
                    .find(|(_, c)| c.evictable())
                    .map(|(id, _)| *id)
            });
            match victim {
                Some(id) => self.evict(&mut open, id),
                None => return Err(Refusal::Full),
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let connection = Arc::new(Connection {
            id,
            ip,
            phase: AtomicU8::new(Phase::Fresh as u8),
            requests: AtomicUsize::new(0),
            deadline_ms: AtomicU64::new(0),
            header_timeout: self.limits.header_timeout,
            idle_timeout: self.limits.idle_timeout,
            evict: Notify::new(),
            moved: Notify::new(),
        });
        connection.set_deadline_in(self.limits.header_timeout);
        open.connections.insert(id, Arc::clone(&connection));
        open.clients.entry(ip).or_default().connections.insert(id);
        self.gauge(&open);
        Ok(connection)
    }

    fn evict(&self, open: &mut Open, id: u64) {
        if let Some(connection) = self.forget(open, id) {
            // Stored if the task is not waiting yet: it closes as soon as it looks.
            connection.evict.notify_one();
            metrics::counter!("pave_connections_closed_total", "listener" => self.listener, "reason" => "evicted").increment(1);
        }
    }

    fn forget(&self, open: &mut Open, id: u64) -> Option<Arc<Connection>> {
        let connection = open.connections.remove(&id)?;
        if let Some(client) = open.clients.get_mut(&connection.ip) {
            client.connections.remove(&id);
            if client.connections.is_empty() && client.requests == 0 {
                open.clients.remove(&connection.ip);
            }
        }
        Some(connection)
    }

    /// The connection ended (or was evicted, which already forgot it).
    pub(crate) fn remove(&self, connection: &Connection) {
        let mut open = self.lock();
        self.forget(&mut open, connection.id);
        self.gauge(&open);
    }

    fn gauge(&self, open: &Open) {
        metrics::gauge!("pave_connections_open", "listener" => self.listener)
            .set(open.connections.len() as f64);
    }

    /// A request head arrived on `connection`: it is busy until the ticket is dropped (the
    /// answer written, or the connection gone), for at most `limit` twice (answering, then
    /// writing the answer). `Err` holds the ticket too, when the client already has
    /// `max_requests_per_client` requests in progress (answer 429).
    pub(crate) fn begin_request(
        self: &Arc<Self>,
        connection: &Arc<Connection>,
        limit: Duration,
    ) -> Result<RequestTicket, RequestTicket> {
        let busy_for = limit.saturating_mul(2);
        let mut open = self.lock();
        let per_client = self.limits.max_requests_per_client;
        let client = open.clients.entry(connection.ip).or_default();
        let counted = per_client == 0 || client.requests < per_client;
        if counted {
            client.requests += 1;
        }
        drop(open);
        connection.requests.fetch_add(1, Ordering::AcqRel);
        connection.phase.store(Phase::Busy as u8, Ordering::Release);
        connection.set_deadline_in(busy_for);
        let ticket = RequestTicket {
            registry: Arc::clone(self),
            connection: Arc::clone(connection),
            counted,
        };
        if counted { Ok(ticket) } else { Err(ticket) }
    }
}

/// A request in progress; dropping it ends the request.
#[derive(Debug)]
pub(crate) struct RequestTicket {
    registry: Arc<Registry>,
    connection: Arc<Connection>,
    /// Whether it counts against its client's requests in progress.
    counted: bool,
}

impl Drop for RequestTicket {
    fn drop(&mut self) {
        if self.counted {
            let mut open = self.registry.lock();
            let ip = self.connection.ip;
            if let Some(client) = open.clients.get_mut(&ip) {
                client.requests = client.requests.saturating_sub(1);
                if client.connections.is_empty() && client.requests == 0 {
                    open.clients.remove(&ip);
                }
            }
        }
        let connection = &self.connection;
        if connection.requests.fetch_sub(1, Ordering::AcqRel) == 1 {
            connection.phase.store(Phase::Idle as u8, Ordering::Release);
            connection.set_deadline_in(connection.idle_timeout);
        }
    }
}

/// A transport that tells its connection when bytes arrive.
pub(crate) struct Tracked<S> {
    inner: S,
    connection: Arc<Connection>,
}

impl<S> Tracked<S> {
    pub(crate) fn new(inner: S, connection: Arc<Connection>) -> Self {
        Tracked { inner, connection }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tracked<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.connection.on_bytes();
        }
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tracked<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max: usize, per_client: usize) -> Limits {
        Limits {
            max_connections: max,
            max_connections_per_client: per_client,
            max_requests_per_client: 2,
            ..Limits::default()
        }
    }

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    #[tokio::test]
    async fn a_full_listener_closes_an_idle_connection_of_the_heaviest_client() {
        let registry = Arc::new(Registry::new(limits(3, 0), "test"));
        let a1 = registry.admit(ip(1)).unwrap();
        let b1 = registry.admit(ip(2)).unwrap();
        let b2 = registry.admit(ip(2)).unwrap();
        // Full: the client with two connections gives up its oldest idle one.
        let a2 = registry.admit(ip(1)).unwrap();
        assert_eq!(registry.open_connections(), 3);
        tokio::time::timeout(Duration::from_secs(1), b1.evicted())
            .await
            .unwrap();
        // Busy connections are never taken.
        let _t1 = registry
            .begin_request(&a1, Duration::from_secs(10))
            .unwrap();
        let _t2 = registry
            .begin_request(&b2, Duration::from_secs(10))
            .unwrap();
        let _t3 = registry
            .begin_request(&a2, Duration::from_secs(10))
            .unwrap();
        assert_eq!(registry.admit(ip(3)).unwrap_err(), Refusal::Full);
        drop(_t2);
        assert_eq!(b2.phase(), Phase::Idle);
        registry.admit(ip(3)).unwrap();
        tokio::time::timeout(Duration::from_secs(1), b2.evicted())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_client_makes_room_among_its_own_connections_only() {
        let registry = Arc::new(Registry::new(limits(100, 2), "test"));
        let other = registry.admit(ip(9)).unwrap();
        let first = registry.admit(ip(1)).unwrap();
        let second = registry.admit(ip(1)).unwrap();
        registry.admit(ip(1)).unwrap();
        tokio::time::timeout(Duration::from_secs(1), first.evicted())
            .await
            .unwrap();
        let _busy = registry
            .begin_request(&second, Duration::from_secs(10))
            .unwrap();
        assert_eq!(registry.open_connections(), 3);
        assert!(other.evictable());
        // One of the two is busy; the other (the newest) is taken next.
        registry.admit(ip(1)).unwrap();
        assert_eq!(registry.open_connections(), 3);
    }

    #[tokio::test]
    async fn requests_beyond_the_client_limit_are_marked() {
        let registry = Arc::new(Registry::new(limits(100, 0), "test"));
        let c1 = registry.admit(ip(1)).unwrap();
        let c2 = registry.admit(ip(1)).unwrap();
        let c3 = registry.admit(ip(1)).unwrap();
        let t1 = registry.begin_request(&c1, Duration::from_secs(1)).unwrap();
        let _t2 = registry.begin_request(&c2, Duration::from_secs(1)).unwrap();
        assert!(registry.begin_request(&c3, Duration::from_secs(1)).is_err());
        drop(t1);
        assert!(registry.begin_request(&c3, Duration::from_secs(1)).is_ok());
    }

    #[tokio::test]
    async fn a_deadline_that_moves_earlier_wakes_the_watchdog() {
        let registry = Arc::new(Registry::new(
            Limits {
                header_timeout: Duration::from_millis(100),
                idle_timeout: Duration::from_secs(30),
                ..Limits::default()
            },
            "test",
        ));
        let c = registry.admit(ip(1)).unwrap();
        drop(registry.begin_request(&c, Duration::from_secs(5)).unwrap());
        assert_eq!(c.phase(), Phase::Idle);
        let watchdog = tokio::spawn({
            let c = Arc::clone(&c);
            async move { c.expired().await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        // The next request's first bytes: its head is due within 100 ms, not 30 s.
        let started = Instant::now();
        c.on_bytes();
        let phase = tokio::time::timeout(Duration::from_secs(5), watchdog)
            .await
            .expect("the watchdog slept through the earlier deadline")
            .unwrap();
        assert_eq!(phase, Phase::Head);
        assert!(started.elapsed() >= Duration::from_millis(90));
    }

    #[tokio::test]
    async fn deadlines_follow_the_phase() {
        let registry = Arc::new(Registry::new(
            Limits {
                header_timeout: Duration::from_millis(50),
                idle_timeout: Duration::from_millis(200),
                ..Limits::default()
            },
            "test",
        ));
        let c = registry.admit(ip(1)).unwrap();
        let started = Instant::now();
        assert_eq!(c.expired().await, Phase::Fresh);
        assert!(started.elapsed() >= Duration::from_millis(50));
        let ticket = registry.begin_request(&c, Duration::from_secs(5)).unwrap();
        assert_eq!(c.phase(), Phase::Busy);
        drop(ticket);
        let idle = Instant::now();
        assert_eq!(c.expired().await, Phase::Idle);
        assert!(idle.elapsed() >= Duration::from_millis(200));
        c.on_bytes();
        assert_eq!(c.phase(), Phase::Head);
        let head = Instant::now();
        assert_eq!(c.expired().await, Phase::Head);
        let waited = head.elapsed();
        assert!(
            waited >= Duration::from_millis(50) && waited < Duration::from_millis(200),
            "{waited:?}"
        );
    }
}
