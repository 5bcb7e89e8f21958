//! Sources: what a caller of the API can make the server read, connect to and keep doing.
//! `file` locations only under `catalog.reading.fileRoots`, refused alike whether the path
//! exists; git and `url` locations only on allowed hosts, refused before any connection (a
//! hanging listener counts them); private addresses only when listed, redirects included;
//! a hanging git host holds up only its own source; `DELETE` racing a refresh of everything;
//! `POST /refresh` without a body; checkouts removed on unregister; paths shown relative.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use pave_testkit::{Response, http};
use serde_json::{Value, json};

use crate::common::{Server, component, write_catalog};

/// A TCP peer that accepts connections and never answers (a hanging git or web host),
/// counting the connections it was sent.
struct HangingHost {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
}

impl HangingHost {
    fn start() -> HangingHost {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&connections);
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming().flatten() {
                counted.fetch_add(1, Ordering::SeqCst);
                held.push(stream); // open and silent
            }
        });
        HangingHost { addr, connections }
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    fn port(&self) -> u16 {
        self.addr.port()
    }
}

/// Answers every connection with `response` (a redirect, say), counting them.
fn answering(response: String) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&connections);
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            counted.fetch_add(1, Ordering::SeqCst);
            let mut buffer = [0u8; 4096];
            let _ = stream.read(&mut buffer);
            let _ = stream.write_all(response.as_bytes());
        }
    });
    (addr, connections)
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn sqlite(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("pave.db").display())
}

/// Writes `pave.yaml` with `catalog.reading` set to `reading` (YAML, indented by four).
fn config(dir: &Path, reading: &str) -> PathBuf {
    let path = dir.join("pave.yaml");
    std::fs::write(&path, format!("catalog:\n  reading:\n{reading}")).unwrap();
    path
}

fn start(config: &Path, db: &str) -> pave_testkit::Server {
    Server::start(
        &[
            "--config",
            config.to_str().unwrap(),
            "--refresh-interval",
            "0",
        ],
        db,
    )
}

fn register(server: &pave_testkit::Server, kind: &str, target: &str) -> Response {
    let body = json!({"type": kind, "target": target}).to_string();
    http(server.addr, "POST", "/api/catalog/locations", Some(&body))
}

fn message(r: &Response) -> String {
    r.json()["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn entity_count(server: &pave_testkit::Server) -> usize {
    server
        .get("/api/catalog/entities")
        .json()
        .as_array()
        .unwrap()
        .len()
}

/// Sends `head` (request line and headers, no body) as it is and returns the status.
fn raw_status(addr: SocketAddr, head: &str) -> u16 {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer}"))
}

#[test]
fn file_locations_outside_the_roots_are_refused_alike() {
    let dir = tempfile::tempdir().unwrap();
    let roots = dir.path().join("roots");
    std::fs::create_dir_all(&roots).unwrap();
    let catalog = write_catalog(&roots);
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(
        outside.join("catalog-info.yaml"),
        component("secret", "x", ""),
    )
    .unwrap();
    std::os::unix::fs::symlink(&outside, roots.join("link-out")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("gone"), roots.join("dangling")).unwrap();

    // By default the API registers no path at all.
    let default = Server::start(&["--refresh-interval", "0"], &sqlite(dir.path()));
    default.wait_for("/readyz", |r| r.status == 200);
    let r = register(&default, "file", catalog.to_str().unwrap());
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        message(&r).contains("catalog.reading.fileRoots"),
        "{}",
        r.body
    );
    assert_eq!(entity_count(&default), 0);
    drop(default);

    let cfg = config(
        dir.path(),
        &format!("    fileRoots: ['{}']\n", roots.display()),
    );
    let db = format!("sqlite://{}", dir.path().join("roots.db").display());
    let server = start(&cfg, &db);
    server.wait_for("/readyz", |r| r.status == 200);
    let roots = roots.display().to_string();
    let refused = [
        "/".to_owned(),
        "/etc/shadow".to_owned(),
        "/root".to_owned(),
        "/etc/pave-no-such-file".to_owned(),
        "/no/such/dir".to_owned(),
        format!("{roots}/../outside"),
        format!("{roots}/link-out"),
        format!("{roots}/link-out/catalog-info.yaml"),
        format!("{roots}/link-out/no-such-file.yaml"),
        format!("{roots}/dangling"),
    ];
    let mut messages = Vec::new();
    for target in &refused {
        let body = json!({"type": "file", "target": target}).to_string();
        let analyze = json!({"location": {"type": "file", "target": target}}).to_string();
        for (path, body) in [
            ("/api/catalog/locations", &body),
            ("/api/catalog/locations?dryRun=true", &body),
            ("/api/catalog/analyze-location", &analyze),
        ] {
            let r = http(server.addr, "POST", path, Some(body));
            assert_eq!(r.status, 400, "{path} {target}: {}", r.body);
            let text = message(&r);
            for leak in [
                "No such file",
                "Permission denied",
                "not a directory",
                "os error",
            ] {
                assert!(!text.contains(leak), "{target}: {text}");
            }
            let text = text
                .replace(&format!("`{target}`"), "`<target>`")
                .replace(&format!("source {target}:"), "source <target>:");
            messages.push((target.clone(), text));
        }
    }
    // One answer, whatever exists outside: `/etc/shadow` reads as `/etc/pave-no-such-file`.
    let first = &messages[0].1;
    for (target, text) in &messages {
        assert_eq!(text, first, "{target}");
    }
    assert!(first.contains("catalog.reading.fileRoots"), "{first}");
    // file:// repositories are paths too.
    let r = register(&server, "git", &format!("file://{}", outside.display()));
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        message(&r).contains("catalog.reading.fileRoots"),
        "{}",
        r.body
    );
    assert_eq!(entity_count(&server), 0, "nothing outside was read");

    // Inside a root: registered and read.
    let r = register(&server, "file", catalog.to_str().unwrap());
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(entity_count(&server), 5);
}

#[test]
fn git_and_url_locations_on_hosts_not_allowed_are_refused_before_any_connection() {
    let dir = tempfile::tempdir().unwrap();
    let host = HangingHost::start();
    let port = host.port();
    let cfg = config(dir.path(), "    gitTimeout: 5s\n");
    let server = start(&cfg, &sqlite(dir.path()));
    server.wait_for("/readyz", |r| r.status == 200);
    let targets = |port: u16| {
        [
            ("git", format!("git://127.0.0.1:{port}/x")),
            ("git", format!("http://127.0.0.1:{port}/org/x.git#main")),
            ("git", format!("ssh://git@127.0.0.1:{port}/org/x.git")),
            ("url", format!("http://127.0.0.1:{port}/catalog-info.yaml")),
            (
                "url",
                format!("https://127.0.0.1:{port}/org/x/blob/main/catalog-info.yaml"),
            ),
        ]
    };
    let mut seen = Vec::new();
    for port in [port, closed_port()] {
        let mut answers = Vec::new();
        for (kind, target) in targets(port) {
            let body = json!({"type": kind, "target": target}).to_string();
            let analyze = json!({"location": {"type": kind, "target": target}}).to_string();
            for (path, body) in [
                ("/api/catalog/locations", &body),
                ("/api/catalog/locations?dryRun=true", &body),
                ("/api/catalog/analyze-location", &analyze),
            ] {
                let started = Instant::now();
                let r = http(server.addr, "POST", path, Some(body));
                assert_eq!(r.status, 400, "{path} {target}: {}", r.body);
                let text = message(&r);
                assert!(
                    text.contains("not allowed by catalog.reading.allow"),
                    "{target}: {text}"
                );
                assert!(
                    started.elapsed() < Duration::from_secs(5),
                    "refused at once, not after a connection attempt"
                );
                answers.push(text.replace(&port.to_string(), "<port>"));
            }
        }
        seen.push(answers);
    }
    // A listening port and a closed one answer alike: no port scanning through the API.
    assert_eq!(seen[0], seen[1]);
    assert_eq!(host.connections(), 0, "nothing connected to the host");
    assert!(
        server
            .get("/api/catalog/locations")
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn private_addresses_are_refused_unless_listed_redirects_included() {
    use std::net::ToSocketAddrs;
    if ("localhost", 80).to_socket_addrs().is_err() {
        pave_testkit::skip("`localhost` does not resolve here");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let host = HangingHost::start();
    let port = host.port();
    // An allowed web host (named by its address) that redirects to the hanging one.
    let (redirector, redirects) = answering(format!(
        "HTTP/1.1 302 Found\r\nlocation: http://localhost:{port}/catalog-info.yaml\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    ));
    let allow = format!(
        "    gitTimeout: 2s\n    allow:\n      - host: localhost:{port}\n      - host: 127.0.0.1:{}\n",
        redirector.port()
    );
    let cfg = config(dir.path(), &allow);
    let server = start(&cfg, &sqlite(dir.path()));
    server.wait_for("/readyz", |r| r.status == 200);

    // Allowed by name, but the name resolves to loopback: refused, without the address.
    for (kind, target) in [
        ("git", format!("git://localhost:{port}/x")),
        ("git", format!("http://localhost:{port}/x.git")),
        ("url", format!("http://localhost:{port}/catalog-info.yaml")),
    ] {
        let r = register(&server, kind, &target);
        assert_eq!(r.status, 400, "{target}: {}", r.body);
        let text = message(&r);
        assert!(
            text.contains("a loopback address") && text.contains("catalog.reading.privateNetworks"),
            "{text}"
        );
        assert!(!text.contains("127.0.0.1"), "{text}");
    }
    // A redirect from an allowed address to the loopback name is refused at the hop.
    let r = register(
        &server,
        "url",
        &format!("http://127.0.0.1:{}/catalog-info.yaml", redirector.port()),
    );
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(message(&r).contains("a loopback address"), "{}", r.body);
    assert!(
        redirects.load(Ordering::SeqCst) >= 1,
        "the first hop was fetched"
    );
    assert_eq!(host.connections(), 0, "nothing reached the private host");
    drop(server);

    // Listed: pave connects (and gives up after gitTimeout).
    let listed = config(
        dir.path(),
        &format!("{allow}    privateNetworks: [127.0.0.0/8, '::1']\n"),
    );
    let db = format!("sqlite://{}", dir.path().join("listed.db").display());
    let server = start(&listed, &db);
    server.wait_for("/readyz", |r| r.status == 200);
    let r = register(&server, "git", &format!("git://localhost:{port}/x"));
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(
        message(&r).contains("timed out after 2 s (catalog.reading.gitTimeout)"),
        "{}",
        r.body
    );
    assert!(host.connections() >= 1, "a listed network is connected to");
}

#[test]
fn a_hanging_git_host_holds_up_only_its_own_source() {
    let dir = tempfile::tempdir().unwrap();
    let host = HangingHost::start();
    let roots = dir.path().join("roots");
    for (name, entity) in [("a", "alpha"), ("b", "beta")] {
        std::fs::create_dir_all(roots.join(name)).unwrap();
        std::fs::write(
            roots.join(name).join("catalog-info.yaml"),
            component(entity, "team", ""),
        )
        .unwrap();
    }
    let cfg = config(
        dir.path(),
        &format!(
            "    gitTimeout: 300s\n    fileRoots: ['{}']\n    allow:\n      - host: 127.0.0.1:{}\n",
            roots.display(),
            host.port()
        ),
    );
    let server = Server::start(
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--refresh-interval",
            "1s",
        ],
        &sqlite(dir.path()),
    );
    server.wait_for("/readyz", |r| r.status == 200);
    let r = register(&server, "file", roots.join("a").to_str().unwrap());
    assert_eq!(r.status, 201, "{}", r.body);

    // A registration of a git repository on a host that accepts and never answers.
    let addr = server.addr;
    let done = Arc::new(AtomicBool::new(false));
    let hanging = {
        let done = Arc::clone(&done);
        let target = format!("git://127.0.0.1:{}/x", host.port());
        std::thread::spawn(move || {
            let body = json!({"type": "git", "target": target}).to_string();
            let status = std::panic::catch_unwind(|| {
                http(addr, "POST", "/api/catalog/locations", Some(&body)).status
            });
            done.store(true, Ordering::SeqCst);
            status.ok()
        })
    };
    let started = Instant::now();
    while host.connections() == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "git never connected"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let readings = |s: &pave_testkit::Server| {
        s.log_lines()
            .iter()
            .filter(|l| l.contains("ingestion finished"))
            .count()
    };

    // Meanwhile, everything else goes on: another registration, a refresh of another
    // location, a refresh of everything (which leaves the busy source to its reading).
    let mut took = Vec::new();
    let started = Instant::now();
    let r = register(&server, "file", roots.join("b").to_str().unwrap());
    assert_eq!(r.status, 201, "{}", r.body);
    took.push(("register another source", started.elapsed()));
    let started = Instant::now();
    let r = http(
        addr,
        "POST",
        "/api/catalog/refresh",
        Some(r#"{"entityRef": "component:default/alpha"}"#),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    took.push(("refresh another location", started.elapsed()));
    let started = Instant::now();
    let r = http(addr, "POST", "/api/catalog/refresh", Some("{}"));
    assert_eq!(r.status, 200, "{}", r.body);
    took.push(("refresh everything", started.elapsed()));
    // The scheduled refresh (every second) goes on too: three more readings, and nobody
    // but the scheduler reads now.
    let scheduled_before = readings(&server);
    let started = Instant::now();
    while readings(&server) < scheduled_before + 3 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "scheduled refreshes stopped behind the hanging source"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    took.push(("three scheduled refreshes", started.elapsed()));
    eprintln!("while a git host hangs: {took:?}");
    assert!(
        !done.load(Ordering::SeqCst),
        "all of this finished while the hanging registration was still waiting"
    );
    for (what, took) in &took {
        assert!(*took < Duration::from_secs(60), "{what} took {took:?}");
    }
    let names: Vec<String> = server
        .get("/api/catalog/entities?filter=kind=component")
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["metadata"]["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(names.contains(&"beta".to_owned()), "{names:?}");
    drop(server);
    let _ = hanging.join();
}

#[test]
fn a_failed_git_registration_answers_with_its_outcome() {
    if !pave_testkit::have("git") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let host = HangingHost::start();
    let cfg = config(
        dir.path(),
        &format!(
            "    gitTimeout: 2s\n    fileRoots: ['{}']\n    allow:\n      - host: 127.0.0.1:{}\n",
            dir.path().display(),
            host.port()
        ),
    );
    let server = start(&cfg, &sqlite(dir.path()));
    server.wait_for("/readyz", |r| r.status == 200);

    // A new location that cannot be read: not 201, the reason given, nothing registered.
    let started = Instant::now();
    let r = register(
        &server,
        "git",
        &format!("git://127.0.0.1:{}/x", host.port()),
    );
    eprintln!("a hanging git host answered after {:?}", started.elapsed());
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(
        message(&r).contains("timed out after 2 s (catalog.reading.gitTimeout)"),
        "{}",
        r.body
    );
    let locations = server.get("/api/catalog/locations").json();
    assert_eq!(locations, json!([]), "a failed registration is not kept");

    // A registered repository read again that cannot be read: 201 (it stays registered),
    // with the failure among the diagnostics.
    let repo_dir = dir.path().join("repo");
    let repo = pave_testkit::git_repo(
        &repo_dir,
        &[("catalog-info.yaml", &component("svc", "team", ""))],
    );
    let r = register(&server, "git", &repo);
    assert_eq!(r.status, 201, "{}", r.body);
    std::fs::remove_dir_all(&repo_dir).unwrap();
    let body = json!({"type": "git", "target": repo}).to_string();
    let r = http(
        server.addr,
        "POST",
        "/api/catalog/locations?onConflict=refresh",
        Some(&body),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["exists"], true);
    let diagnostics = r.json()["diagnostics"].as_array().unwrap().clone();
    assert!(
        diagnostics.iter().any(|d| d["severity"] == "error"
            && d["message"]
                .as_str()
                .unwrap_or_default()
                .contains("git fetch failed")),
        "{diagnostics:?}"
    );
}

/// Adds and removes a location in a loop while every location is refreshed in a loop:
/// nothing answers 500, and the locations that stay keep their entities.
fn delete_racing_refresh(db: &str, dir: &Path) {
    let roots = dir.join("roots");
    for i in 0..12 {
        let folder = roots.join(format!("stay-{i}"));
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(
            folder.join("catalog-info.yaml"),
            component(&format!("stay-{i}"), "team", ""),
        )
        .unwrap();
    }
    let churn = roots.join("churn");
    std::fs::create_dir_all(&churn).unwrap();
    std::fs::write(
        churn.join("catalog-info.yaml"),
        component("churn", "team", ""),
    )
    .unwrap();
    let cfg = config(dir, &format!("    fileRoots: ['{}']\n", roots.display()));
    let server = start(&cfg, db);
    server.wait_for("/readyz", |r| r.status == 200);
    for i in 0..12 {
        let r = register(
            &server,
            "file",
            roots.join(format!("stay-{i}")).to_str().unwrap(),
        );
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let addr = server.addr;
    let stop = Arc::new(AtomicBool::new(false));
    let refresher = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut statuses = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let r = http(addr, "POST", "/api/catalog/refresh", Some("{}"));
                statuses.push((r.status, r.body));
            }
            statuses
        })
    };
    let mut churned = Vec::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(8) {
        let r = register(&server, "file", churn.to_str().unwrap());
        let id = r.json()["location"]["id"].as_str().map(str::to_owned);
        churned.push((r.status, r.body.clone()));
        if let Some(id) = id {
            let r = http(
                addr,
                "DELETE",
                &format!("/api/catalog/locations/{id}"),
                None,
            );
            churned.push((r.status, r.body));
        }
    }
    stop.store(true, Ordering::SeqCst);
    let refreshed = refresher.join().unwrap();
    let failed: Vec<_> = refreshed
        .iter()
        .chain(&churned)
        .filter(|(status, _)| *status >= 500)
        .collect();
    eprintln!(
        "{} refreshes of everything and {} registrations/removals; failed: {}",
        refreshed.len(),
        churned.len(),
        failed.len()
    );
    assert!(failed.is_empty(), "{failed:?}");
    assert!(
        refreshed.len() >= 3,
        "the refreshes ran: {}",
        refreshed.len()
    );
    let names: Vec<Value> = server
        .get("/api/catalog/entities?filter=kind=component")
        .json()
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(names.len(), 12, "{names:?}");
}

#[test]
fn delete_racing_a_refresh_of_everything_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    delete_racing_refresh(&sqlite(dir.path()), dir.path());
}

#[test]
fn delete_racing_a_refresh_of_everything_on_postgres() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let Some(db) = runtime.block_on(pave_store_postgres::testing::TestDatabase::create()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    delete_racing_refresh(&db.url, dir.path());
    runtime.block_on(db.drop_database());
}

#[test]
fn refresh_without_a_body_reads_everything() {
    let dir = tempfile::tempdir().unwrap();
    let root = write_catalog(dir.path());
    let server = Server::start(
        &[
            "--source",
            root.to_str().unwrap(),
            "--refresh-interval",
            "0",
        ],
        &sqlite(dir.path()),
    );
    server.wait_for(
        "/api/catalog/entities/by-name/component/default/billing",
        |r| r.status == 200,
    );
    let svc = root.join("svc/catalog-info.yaml");
    let text = std::fs::read_to_string(&svc)
        .unwrap()
        .replace("name: billing", "name: invoicing");
    std::fs::write(&svc, text).unwrap();
    // `curl -X POST …/refresh`: no body, no content type.
    let status = raw_status(
        server.addr,
        "POST /api/catalog/refresh HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 200);
    assert_eq!(
        server
            .get("/api/catalog/entities/by-name/component/default/invoicing")
            .status,
        200
    );
    // An empty JSON body and `{}` too; a browser form's empty body is not a refresh.
    let status = raw_status(
        server.addr,
        "POST /api/catalog/refresh HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 200);
    assert_eq!(
        http(server.addr, "POST", "/api/catalog/refresh", Some("{}")).status,
        200
    );
    let status = raw_status(
        server.addr,
        "POST /api/catalog/refresh HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 400);
    assert_eq!(
        http(server.addr, "POST", "/api/catalog/refresh", Some("{")).status,
        400
    );
}

/// The checkout folders in a git cache, per store.
fn checkouts(cache: &Path) -> Vec<PathBuf> {
    let git = cache.join("pave/git");
    let mut found = Vec::new();
    for store in std::fs::read_dir(&git).into_iter().flatten().flatten() {
        for entry in std::fs::read_dir(store.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            if entry.path().join(".git").is_dir() {
                found.push(entry.path());
            }
        }
    }
    found.sort();
    found
}

#[test]
fn checkouts_are_kept_per_store_and_removed_on_unregister() {
    if !pave_testkit::have("git") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let repo = pave_testkit::git_repo(
        &dir.path().join("repo"),
        &[("catalog-info.yaml", &component("svc", "team", ""))],
    );
    let cfg = config(
        dir.path(),
        &format!("    fileRoots: ['{}']\n", dir.path().display()),
    );
    let args = ["--config", cfg.to_str().unwrap(), "--refresh-interval", "0"];
    let env = [("XDG_CACHE_HOME", cache.as_path())];
    let one = Server::start_with_env(&args, &sqlite(dir.path()), &env);
    let other_db = format!("sqlite://{}", dir.path().join("other.db").display());
    let other = Server::start_with_env(&args, &other_db, &env);
    for server in [&one, &other] {
        server.wait_for("/readyz", |r| r.status == 200);
    }
    // Two locations of one store read one checkout (`git` and `url` of the same repository
    // and ref); the other store has its own.
    let git = register(&one, "git", &format!("{repo}#main"));
    assert_eq!(git.status, 201, "{}", git.body);
    let url = register(&one, "url", &format!("{repo}#main"));
    assert_eq!(url.status, 201, "{}", url.body);
    let r = register(&other, "git", &format!("{repo}#main"));
    assert_eq!(r.status, 201, "{}", r.body);
    let before = checkouts(&cache);
    assert_eq!(before.len(), 2, "one checkout per store: {before:?}");
    assert_ne!(before[0].parent(), before[1].parent());

    let delete = |server: &pave_testkit::Server, r: &Response| {
        let id = r.json()["location"]["id"].as_str().unwrap().to_owned();
        let r = http(
            server.addr,
            "DELETE",
            &format!("/api/catalog/locations/{id}"),
            None,
        );
        assert_eq!(r.status, 204, "{}", r.body);
    };
    delete(&one, &git);
    assert_eq!(
        checkouts(&cache),
        before,
        "still read by the `url` location"
    );
    delete(&one, &url);
    let after = checkouts(&cache);
    assert_eq!(after.len(), 1, "{after:?}");
    assert!(
        other
            .log_lines()
            .iter()
            .all(|l| !l.contains("removed its cached copy")),
        "the other store kept its own"
    );
    assert!(
        after[0].exists() && r.status == 201,
        "the other store's checkout is untouched"
    );
}

#[test]
fn clients_see_paths_relative_to_the_location_root() {
    let dir = tempfile::tempdir().unwrap();
    let roots = std::fs::canonicalize(dir.path()).unwrap().join("roots");
    let root = roots.join("team");
    std::fs::create_dir_all(root.join("svc")).unwrap();
    std::fs::write(
        root.join("catalog-info.yaml"),
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: team\nspec:\n  targets: [./missing.yaml, ../../../../etc/passwd]\n",
    )
    .unwrap();
    std::fs::write(root.join("svc/catalog-info.yaml"), "kind: [\n").unwrap();
    let cfg = config(
        dir.path(),
        &format!("    fileRoots: ['{}']\n", roots.display()),
    );
    let server = start(&cfg, &sqlite(dir.path()));
    server.wait_for("/readyz", |r| r.status == 200);
    let r = register(&server, "file", root.to_str().unwrap());
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["location"]["id"].as_str().unwrap().to_owned();
    let status = server.get(&format!("/api/catalog/locations/{id}")).json()["status"].clone();
    let root_text = root.display().to_string();
    for diagnostics in [&r.json()["diagnostics"], &status["diagnostics"]] {
        let files: Vec<&str> = diagnostics
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["file"].as_str().unwrap())
            .collect();
        assert!(files.contains(&"svc/catalog-info.yaml"), "{files:?}");
        assert!(files.contains(&"catalog-info.yaml"), "{files:?}");
        let text = diagnostics.to_string();
        assert!(!text.contains(&root_text), "{text}");
        assert!(!text.contains(&roots.display().to_string()), "{text}");
        assert!(text.contains("outside the source root"), "{text}");
        assert!(text.contains("missing.yaml"), "{text}");
    }
    // The server's log keeps the whole paths.
    assert!(
        server.log_lines().iter().any(|l| l.contains(&root_text)),
        "absolute paths stay in the log"
    );
}
