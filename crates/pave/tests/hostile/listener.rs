//! The server's edge against hostile clients: slow and partial request heads, idle
//! keep-alive connections, connection floods, one client hogging the server, unknown methods
//! and random paths inflating `/metrics`, foreign `Host` headers (DNS rebinding), missing
//! security headers, CORS, and admission reviews starved by catalog load. Each finding is
//! reproduced small, on loopback, against the real binary, with limits set low so the
//! tests are quick, and margins wide so a loaded machine does not make them flaky.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use pave_testkit::{Response, have, http};
use serde_json::json;

use crate::common::{Server, write_catalog};

fn sqlite(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("pave.db").display())
}

/// A connection from `from` (any 127.0.0.0/8 address: each is a different client to the
/// server).
fn connect_from(from: [u8; 4], to: SocketAddr) -> TcpStream {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap();
    let stream = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::from((from, 0))).unwrap();
        socket.connect(to).await.unwrap().into_std().unwrap()
    });
    stream.set_nonblocking(false).unwrap();
    stream
}

/// Sends a raw request on `stream` and reads one response head and body (by
/// `content-length`); the connection stays open.
fn exchange(stream: &mut TcpStream, request: &str) -> (u16, String, String) {
    stream.write_all(request.as_bytes()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).unwrap();
        assert!(
            n > 0,
            "closed before a full answer: {}",
            String::from_utf8_lossy(&raw)
        );
        raw.extend_from_slice(&buf[..n]);
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..end]).into_owned();
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            while raw.len() < end + 4 + length {
                let n = stream.read(&mut buf).unwrap();
                assert!(n > 0, "closed in the body");
                raw.extend_from_slice(&buf[..n]);
            }
            let status = head.split(' ').nth(1).unwrap().parse().unwrap();
            let body = String::from_utf8_lossy(&raw[end + 4..end + 4 + length]).into_owned();
            return (status, head, body);
        }
    }
}

/// How long until the server closes `stream` (reads return 0 or fail), at most `limit`.
fn time_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut buf = [0u8; 1024];
    while started.elapsed() < limit {
        match stream.read(&mut buf) {
            Ok(0) => return Some(started.elapsed()),
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return Some(started.elapsed()),
        }
    }
    None
}

/// Whether the server has closed `stream` by now (without waiting).
fn is_closed(stream: &mut TcpStream) -> bool {
    stream.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 1024];
    let closed = loop {
        match stream.read(&mut buf) {
            Ok(0) => break true,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => break false,
            Err(_) => break true,
        }
    };
    stream.set_nonblocking(false).unwrap();
    closed
}

fn open_files(server: &pave_testkit::Server) -> usize {
    std::fs::read_dir(format!("/proc/{}/fd", server.child.id()))
        .map(|d| d.count())
        .unwrap_or(0)
}

fn get_with(addr: SocketAddr, path: &str, headers: &str) -> Response {
    let mut stream = TcpStream::connect(addr).unwrap();
    let (status, head, body) = exchange(
        &mut stream,
        &format!("GET {path} HTTP/1.1\r\n{headers}Connection: close\r\n\r\n"),
    );
    let headers = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Response {
        status,
        headers,
        body,
    }
}

#[test]
fn a_partial_request_head_is_closed_within_the_header_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&["--header-timeout", "1s"], &sqlite(dir.path()));
    // Before: a head trickled a byte at a time was held for 150 s and never closed.
    let mut slow = TcpStream::connect(server.addr).unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        .unwrap();
    let started = Instant::now();
    let trickle = std::thread::spawn({
        let mut writer = slow.try_clone().unwrap();
        move || {
            for _ in 0..100 {
                std::thread::sleep(Duration::from_millis(100));
                if writer.write_all(b"a").is_err() {
                    return;
                }
            }
        }
    });
    let closed = time_until_closed(&mut slow, Duration::from_secs(10))
        .expect("a trickled head was never closed");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900),
        "closed before the header timeout: {waited:?} ({closed:?})"
    );
    assert!(waited < Duration::from_secs(6), "closed late: {waited:?}");
    trickle.join().unwrap();

    // A head larger than 64 KiB is refused at once (hyper's default buffer is ~400 KiB, held
    // per slow connection until the timeout).
    let mut large = TcpStream::connect(server.addr).unwrap();
    let head = format!(
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: {}\r\n\r\n",
        "b".repeat(70 * 1024)
    );
    // The server may answer and close before reading it all (then the write fails).
    let _ = large.write_all(head.as_bytes());
    large
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut answer = Vec::new();
    let read = large.read_to_end(&mut answer);
    assert!(
        !matches!(&read, Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)),
        "a 70 KiB head kept the connection open"
    );
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "a 70 KiB head was read: {answer}"
    );
    // A 40 KB query string is still read.
    let long = format!("/healthz?{}", "a=1&".repeat(10_000));
    assert_eq!(server.get(&long).status, 200);

    // A connection that sends nothing at all is closed too.
    let mut silent = TcpStream::connect(server.addr).unwrap();
    let closed = time_until_closed(&mut silent, Duration::from_secs(10));
    assert!(closed.is_some(), "a silent connection was never closed");
    assert_eq!(server.get("/healthz").status, 200);
}

#[test]
fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        &["--header-timeout", "1s", "--idle-timeout", "5s"],
        &sqlite(dir.path()),
    );
    let mut stream = TcpStream::connect(server.addr).unwrap();
    let request = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let (status, _, body) = exchange(&mut stream, request);
    assert_eq!((status, body.as_str()), (200, "ok"));
    // Idle longer than the header timeout: still open (idle is not a slow head)…
    std::thread::sleep(Duration::from_millis(1800));
    let (status, _, _) = exchange(&mut stream, request);
    assert_eq!(status, 200, "closed at the header timeout while idle");
    // …and closed once the idle timeout passes.
    let started = Instant::now();
    let closed = time_until_closed(&mut stream, Duration::from_secs(15))
        .expect("an idle connection was never closed");
    assert!(
        closed >= Duration::from_millis(4000) && started.elapsed() < Duration::from_secs(12),
        "closed after {closed:?}, expected about 5 s"
    );

    // A kept-alive connection whose next request head trickles in gets the header timeout
    // from its first byte, not what is left of the idle timeout.
    let mut stream = TcpStream::connect(server.addr).unwrap();
    let (status, _, _) = exchange(&mut stream, request);
    assert_eq!(status, 200);
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nX-Slow: ")
        .unwrap();
    let closed = time_until_closed(&mut stream, Duration::from_secs(15))
        .expect("a trickled head on a kept-alive connection was never closed");
    assert!(
        closed >= Duration::from_millis(800) && closed < Duration::from_millis(3500),
        "closed after {closed:?}, expected about 1 s (the header timeout)"
    );
}

#[test]
fn a_flood_of_idle_connections_does_not_stop_healthz() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        &["--max-connections", "50", "--header-timeout", "30s"],
        &sqlite(dir.path()),
    );
    let baseline = open_files(&server);
    // Before: ~20,000 idle connections reached the open-files limit and /healthz failed
    // for about 70 s. Here 400 idle connections from two client addresses, held open, against
    // a cap of 50.
    let mut flood = Vec::new();
    for i in 0..400 {
        let from = if i % 2 == 0 {
            [127, 0, 0, 2]
        } else {
            [127, 0, 0, 3]
        };
        flood.push(connect_from(from, server.addr));
        if i % 50 == 49 {
            let r = server.get("/healthz");
            assert_eq!(r.status, 200, "healthz during the flood: {}", r.body);
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    for _ in 0..20 {
        let started = Instant::now();
        let r = server.get("/healthz");
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(started.elapsed() < Duration::from_secs(3));
    }
    let held = open_files(&server);
    assert!(
        held <= baseline + 50 + 10,
        "the server holds {held} files (was {baseline}) with a cap of 50 connections"
    );
    let still_open = flood
        .iter_mut()
        .map(is_closed)
        .filter(|closed| !closed)
        .count();
    assert!(
        still_open <= 50,
        "{still_open} flood connections still open"
    );

    // When every connection is working, a new one is refused at once with a 503, not
    // queued: 50 requests whose bodies never finish keep all 50 busy.
    drop(flood);
    std::thread::sleep(Duration::from_millis(300));
    let mut busy = Vec::new();
    for i in 0..50u8 {
        let mut s = connect_from([127, 0, 1, i], server.addr);
        s.write_all(b"POST /api/catalog/entities/by-refs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
            .unwrap();
        busy.push(s);
    }
    std::thread::sleep(Duration::from_millis(500));
    let refused = http(server.addr, "GET", "/healthz", None);
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert!(
        refused.body.contains("too many connections"),
        "{}",
        refused.body
    );
    drop(busy);
    let r = server.wait_for_within("/healthz", Duration::from_secs(10), |r| r.status == 200);
    assert_eq!(r.status, 200, "not back after the busy connections closed");
}

#[test]
fn one_client_cannot_take_every_connection_or_request_slot() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        &[
            "--max-connections-per-client",
            "5",
            "--max-requests-per-client",
            "2",
            "--read-timeout",
            "20s",
        ],
        &sqlite(dir.path()),
    );
    // Connections: a client over its cap closes its own idle ones, nobody else's.
    let mut other = TcpStream::connect(server.addr).unwrap();
    let mut mine: Vec<TcpStream> = (0..20)
        .map(|_| connect_from([127, 0, 0, 4], server.addr))
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let open = mine
        .iter_mut()
        .map(is_closed)
        .filter(|closed| !closed)
        .count();
    assert!(open <= 5, "{open} connections of one client still open");
    let (status, _, _) = exchange(
        &mut other,
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n",
    );
    assert_eq!(status, 200, "another client's idle connection was closed");

    // Requests: two in progress (bodies that never finish) from one address; the third
    // gets 429 at once; another address is served.
    let mut slow = Vec::new();
    for _ in 0..2 {
        let mut s = connect_from([127, 0, 0, 5], server.addr);
        s.write_all(b"POST /api/catalog/entities/by-refs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
            .unwrap();
        slow.push(s);
    }
    std::thread::sleep(Duration::from_millis(300));
    let mut third = connect_from([127, 0, 0, 5], server.addr);
    let started = Instant::now();
    let (status, head, body) = exchange(
        &mut third,
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n",
    );
    assert_eq!(status, 429, "{head}\n{body}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(body.contains("--max-requests-per-client"), "{body}");
    assert!(head.to_ascii_lowercase().contains("retry-after"), "{head}");
    let mut elsewhere = connect_from([127, 0, 0, 6], server.addr);
    let (status, _, _) = exchange(
        &mut elsewhere,
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n",
    );
    assert_eq!(status, 200);
    // The slots come back when the requests end.
    drop(slow);
    std::thread::sleep(Duration::from_millis(300));
    let (status, _, _) = exchange(
        &mut third,
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n",
    );
    assert_eq!(status, 200);
}

#[test]
fn a_request_past_its_time_limit_gets_503_and_sigterm_finishes_requests_in_progress() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&["--read-timeout", "1s"], &sqlite(dir.path()));
    // A body that never comes: the handler waits for it until the read limit.
    let mut stuck = TcpStream::connect(server.addr).unwrap();
    let started = Instant::now();
    let (status, _, body) = exchange(
        &mut stuck,
        "POST /api/catalog/entities/by-refs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    );
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("--read-timeout"), "{body}");
    assert!(started.elapsed() < Duration::from_secs(5));

    // Graceful shutdown: a request in progress at SIGTERM is answered, then the server exits.
    let mut in_progress = TcpStream::connect(server.addr).unwrap();
    let body = r#"{"entityRefs":[]}"#;
    in_progress
        .write_all(
            format!(
                "POST /api/catalog/entities/by-refs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        )
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let pid = server.child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    std::thread::sleep(Duration::from_millis(200));
    let (status, _, answer) = exchange(&mut in_progress, body);
    assert_eq!(status, 200, "{answer}");
    let exited = server.terminate();
    assert!(exited.success(), "{exited:?}");
}

fn metrics_size(server: &pave_testkit::Server) -> usize {
    let r = server.get("/metrics");
    assert_eq!(r.status, 200);
    r.body.len()
}

#[test]
fn unknown_methods_and_random_paths_keep_metrics_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[], &sqlite(dir.path()));
    let odd = |i: usize| {
        let method = format!("M{i}X");
        http(
            server.addr,
            &method,
            &format!("/random/{i}/{}", i * 7919),
            None,
        );
        http(server.addr, "GET", &format!("/api/catalog/x{i}"), None);
        http(server.addr, "DELETE", &format!("/catalog/a/b/c{i}"), None);
        http(server.addr, "FROB", "/catalog", None);
    };
    // One of each kind first, so every series these requests can touch exists.
    odd(0);
    let series = |text: &str| -> BTreeSet<String> {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.rsplit_once(' ').map(|(name, _)| name.to_owned()))
            .collect()
    };
    let before_text = server.get("/metrics").body;
    let before = metrics_size(&server);
    // Before: arbitrary methods grew /metrics to 63.7 MB (a series per method sent).
    for i in 1..300 {
        odd(i);
    }
    let after_text = server.get("/metrics").body;
    let after = metrics_size(&server);
    let new: Vec<String> = series(&after_text)
        .difference(&series(&before_text))
        .cloned()
        .collect();
    // Series may still appear as the server's own work goes on (a first refresh, a first
    // checkpoint), but none named after what the requests sent.
    let from_requests: Vec<&String> = new
        .iter()
        .filter(|s| {
            let sent_method = s.split(|c: char| !c.is_ascii_alphanumeric()).any(|word| {
                word.len() > 2
                    && word.starts_with('M')
                    && word.ends_with('X')
                    && word[1..word.len() - 1].bytes().all(|b| b.is_ascii_digit())
            });
            sent_method
                || s.contains("/random/")
                || s.contains("/catalog/a/")
                || s.contains("/api/catalog/x")
        })
        .collect();
    assert!(
        from_requests.is_empty() && new.len() <= 30,
        "/metrics grew from {before} to {after} bytes after 1,200 odd requests; new series: {new:#?}"
    );
    let text = server.get("/metrics").body;
    assert!(!text.contains("M17X"), "a method sent became a label");
    assert!(!text.contains("/random/"), "a path sent became a label");
    assert!(text.contains(r#"method="OTHER""#), "{text}");
    assert!(text.contains(r#"status="4xx""#), "{text}");
}

#[test]
fn a_foreign_host_is_refused_and_loopback_names_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        &[
            "--public-url",
            "https://pave.example.com",
            "--allowed-host",
            "pave.pave-system.svc",
        ],
        &sqlite(dir.path()),
    );
    let port = server.addr.port();
    // Before: any Host was answered, so a page on a rebound name read the loopback server.
    for host in [
        "evil.example",
        &format!("evil.example:{port}"),
        "localhost.evil.example",
    ] {
        let r = get_with(
            server.addr,
            "/api/catalog/entities",
            &format!("Host: {host}\r\n"),
        );
        assert_eq!(r.status, 421, "{host}: {}", r.body);
        assert!(r.body.contains("DNS rebinding"), "{}", r.body);
        assert!(r.body.contains("--public-url"), "{}", r.body);
    }
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
        "pave.example.com".to_owned(),
        "pave.pave-system.svc:7007".to_owned(),
    ] {
        let r = get_with(server.addr, "/healthz", &format!("Host: {host}\r\n"));
        assert_eq!(r.status, 200, "{host}: {}", r.body);
    }
    // The webhook path is exempt: the API server sends the Service name.
    let mut stream = TcpStream::connect(server.addr).unwrap();
    let review = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {"uid": "u1", "operation": "DELETE"}})
    .to_string();
    let (status, _, body) = exchange(
        &mut stream,
        &format!(
            "POST /api/admission/validate HTTP/1.1\r\nHost: pave.other-namespace.svc\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{review}",
            review.len()
        ),
    );
    assert_eq!(status, 200, "{body}");
}

#[test]
fn every_response_carries_the_security_headers() {
    let dir = tempfile::tempdir().unwrap();
    let root = write_catalog(dir.path());
    let server = Server::start(&["--source", root.to_str().unwrap()], &sqlite(dir.path()));
    server.wait_for("/api/catalog/entities", |r| {
        r.status == 200 && r.json().as_array().is_some_and(|a| a.len() == 5)
    });
    for path in [
        "/catalog",
        "/catalog/default/component/orders",
        "/api/catalog/entities",
        "/api/catalog/nothing",
        "/no/such/page",
        "/static/style.css",
        "/metrics",
        "/healthz",
    ] {
        let r = server.get(path);
        let csp = r
            .header("content-security-policy")
            .unwrap_or_else(|| panic!("{path}: no CSP"));
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"), "{path}");
    }
    // The portal's pages hold no inline script, style or event handler for the CSP to block.
    for path in [
        "/catalog",
        "/catalog/default/component/orders",
        "/catalog/default/group/team-a",
    ] {
        let page = server.get(path).body;
        for needle in [
            "<script>",
            "<style",
            " style=",
            " onclick=",
            " onload=",
            "javascript:",
        ] {
            assert!(!page.contains(needle), "{path} contains {needle}");
        }
    }
}

#[test]
fn cors_is_off_by_default_and_on_for_configured_origins() {
    let dir = tempfile::tempdir().unwrap();
    let preflight = "Origin: https://app.example.com\r\nAccess-Control-Request-Method: GET\r\nHost: localhost\r\n";
    let off = Server::start(&[], &sqlite(dir.path()));
    let r = get_with(
        off.addr,
        "/api/catalog/entities",
        "Origin: https://app.example.com\r\nHost: localhost\r\n",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), None);
    let mut s = TcpStream::connect(off.addr).unwrap();
    let (_, head, _) = exchange(
        &mut s,
        &format!("OPTIONS /api/catalog/entities HTTP/1.1\r\n{preflight}Connection: close\r\n\r\n"),
    );
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("access-control-allow-origin"),
        "{head}"
    );
    drop(off);

    let dir = tempfile::tempdir().unwrap();
    let on = Server::start(
        &["--cors-origin", "https://app.example.com"],
        &sqlite(dir.path()),
    );
    let r = get_with(
        on.addr,
        "/api/catalog/entities",
        "Origin: https://app.example.com\r\nHost: localhost\r\n",
    );
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    let mut s = TcpStream::connect(on.addr).unwrap();
    let (status, head, _) = exchange(
        &mut s,
        &format!("OPTIONS /api/catalog/entities HTTP/1.1\r\n{preflight}Connection: close\r\n\r\n"),
    );
    assert!(status < 300, "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("access-control-allow-origin: https://app.example.com"),
        "{head}"
    );
    let r = get_with(
        on.addr,
        "/api/catalog/entities",
        "Origin: https://evil.example\r\nHost: localhost\r\n",
    );
    assert_eq!(r.header("access-control-allow-origin"), None);
}

/// A catalog of `n` components in files of 500.
fn write_big_catalog(dir: &Path, n: usize) -> std::path::PathBuf {
    let root = dir.join("big");
    std::fs::create_dir_all(&root).unwrap();
    let mut targets = Vec::new();
    for file in 0..n.div_ceil(500) {
        let mut text = String::new();
        for i in file * 500..((file + 1) * 500).min(n) {
            text.push_str(&format!(
                "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: svc-{i}\n  description: service number {i} of the load test\n  tags: [t{}, t{}]\nspec:\n  type: {}\n  lifecycle: production\n  owner: team-{}\n  system: sys-{}\n",
                i % 13,
                i % 7,
                ["service", "website", "library"][i % 3],
                i % 40,
                i % 60
            ));
        }
        let name = format!("components-{file}.yaml");
        std::fs::write(root.join(&name), text).unwrap();
        targets.push(format!("./{name}"));
    }
    std::fs::write(
        root.join("catalog-info.yaml"),
        format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: big\nspec:\n  targets: {}\n",
            serde_json::to_string(&targets).unwrap()
        ),
    )
    .unwrap();
    root.join("catalog-info.yaml")
}

fn review(uid: &str) -> String {
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "operation": "CREATE",
            "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "namespace": "shop",
            "object": {
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "shop"},
                "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "nginx:1.27",
                        "securityContext": {"privileged": true}}]}}}
            }
        }
    })
    .to_string()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

#[test]
fn admission_reviews_on_their_own_listener_stay_fast_under_catalog_load() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = write_big_catalog(dir.path(), 3000);
    let server = Server::start(
        &[
            "--source",
            catalog.to_str().unwrap(),
            "--admission-addr",
            "127.0.0.1:0",
        ],
        &sqlite(dir.path()),
    );
    assert_ne!(
        server.admission, server.addr,
        "no admission listener of its own"
    );
    server.wait_for_within(
        "/api/catalog/entities?limit=1&filter=metadata.name=svc-2999",
        Duration::from_secs(120),
        |r| r.status == 200 && r.json().as_array().is_some_and(|a| a.len() == 1),
    );

    // Catalog-side overload: heavy facet requests and full listings in a loop, on more
    // connections than there are cores. Before: a review under such load took 12.1 s.
    let facets: String = [
        "metadata.name",
        "metadata.description",
        "metadata.tags",
        "spec.type",
        "spec.owner",
        "spec.system",
        "kind",
        "metadata.uid",
        "spec.lifecycle",
        "metadata.namespace",
    ]
    .iter()
    .cycle()
    .take(60)
    .map(|f| format!("facet={f}"))
    .collect::<Vec<_>>()
    .join("&");
    let heavy = [
        format!("/api/catalog/entity-facets?{facets}"),
        "/api/catalog/entities".to_owned(),
    ];
    let stop = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicUsize::new(0));
    let load: Vec<_> = (0..4)
        .map(|i| {
            let (stop, served, path, addr) = (
                Arc::clone(&stop),
                Arc::clone(&served),
                heavy[i % 2].clone(),
                server.addr,
            );
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let r = http(addr, "GET", &path, None);
                    if r.status == 200 {
                        served.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));

    let body = review("u");
    let mut times = Vec::new();
    let started = Instant::now();
    for i in 0..200 {
        let t = Instant::now();
        let r = http(
            server.admission,
            "POST",
            "/api/admission/validate",
            Some(&body),
        );
        times.push(t.elapsed());
        assert_eq!(r.status, 200, "review {i}: {}", r.body);
        assert_eq!(r.json()["response"]["allowed"], false, "{}", r.body);
    }
    let reviewing = started.elapsed();
    let during = served.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    for t in load {
        t.join().unwrap();
    }
    times.sort();
    let (p50, p99, max) = (
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times[times.len() - 1],
    );
    eprintln!(
        "admission under catalog load: 200 reviews in {reviewing:.2?}, p50 {p50:.2?}, p99 {p99:.2?}, max {max:.2?}; {during} heavy catalog requests served meanwhile"
    );
    assert!(during > 0, "the catalog load did not run");
    // The goal is a p99 under 50 ms (docs/operations.md has the measured figure); on a
    // shared, loaded 2-core machine the test asserts a generous bound that a review waiting
    // on catalog work (seconds) still fails.
    assert!(p99 < Duration::from_millis(750), "p99 {p99:?}");
}

#[test]
fn the_admission_listener_serves_https_with_the_main_certificate() {
    if !have("openssl") || !have("curl") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let certs = pave_testkit::tls_certificates(dir.path(), "pave.pave-system.svc");
    let server = Server::start(
        &[
            "--tls-cert",
            certs.cert.to_str().unwrap(),
            "--tls-key",
            certs.key.to_str().unwrap(),
            "--admission-addr",
            "127.0.0.1:0",
        ],
        &sqlite(dir.path()),
    );
    let review = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {"uid": "u-tls", "operation": "DELETE"}})
    .to_string();
    let url = format!("https://{}/api/admission/validate", server.admission);
    let out = std::process::Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "10",
            "--cacert",
            certs.ca.to_str().unwrap(),
        ])
        .args([
            "-H",
            "Content-Type: application/json",
            "--data",
            &review,
            &url,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["response"]["uid"], "u-tls");
    assert_eq!(answer["response"]["allowed"], true);
    // Only the webhook (and /healthz) there: the catalog is not reachable on this port.
    let out = std::process::Command::new("curl")
        .args([
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--max-time",
            "10",
        ])
        .args(["--cacert", certs.ca.to_str().unwrap()])
        .arg(format!("https://{}/api/catalog/entities", server.admission))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "404");
}
