//! The cost of authentication and authorization per request (issue 14: < 20 µs at p50 and
//! < 5 %): `GET /api/catalog/entities/by-name/…` on the same catalog from two `pave serve`
//! processes, one without an `auth` section and one requiring an API token, over one
//! keep-alive connection each, in alternating rounds so both see the same machine load.
//! Every server gets the same bytes, the token included, so the difference is the server's
//! work; a second server without auth, measured alike, shows the noise floor. Also: a
//! request with a revoked token (the refusal path) and one with a malformed token
//! (refused before any lookup).
//!
//! Usage: `bench/auth.sh [--binary target/release/pave] [--requests 20000]`

#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use pave_testkit::{KeepAlive, Server, arg, percentile};

/// One keep-alive connection, reading by name with or without a token.
struct Connection(KeepAlive);

impl Connection {
    fn open(addr: SocketAddr) -> Connection {
        Connection(KeepAlive::open(addr).unwrap())
    }

    /// Sends a GET and reads the answer; returns its status.
    fn get(&mut self, path: &str, bearer: Option<&str>) -> u16 {
        let auth = bearer.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("Authorization", a.as_str())).collect();
        self.0.send("GET", path, &headers, b"").unwrap().0
    }

    /// Sends a GET with `headers` prepared by the caller (the measured loop formats nothing).
    fn get_with(&mut self, path: &str, headers: &[(&str, &str)]) -> u16 {
        self.0.send("GET", path, headers, b"").unwrap().0
    }
}

fn pave(binary: &Path, db: &str, config: &Path, args: &[&str]) -> String {
    let out = Command::new(binary)
        .args(["--config", config.to_str().unwrap()])
        .args(args)
        .env("PAVE_DATABASE_URL", db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn main() {
    let binary = PathBuf::from(arg("--binary").unwrap_or_else(|| "target/release/pave".into()));
    let requests: usize = arg("--requests").map_or(20_000, |r| r.parse().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("catalog");
    pave_demo::write_bench_catalog(&catalog, 1_000).unwrap();

    let open_config = dir.path().join("open.yaml");
    std::fs::write(&open_config, "{}\n").unwrap();
    let auth_config = dir.path().join("auth.yaml");
    std::fs::write(&auth_config, "auth: {}\n").unwrap();

    let open_db = format!("sqlite://{}", dir.path().join("open.db").display());
    let auth_db = format!("sqlite://{}", dir.path().join("auth.db").display());
    let token = pave(
        &binary,
        &auth_db,
        &auth_config,
        &[
            "token",
            "create",
            "--name",
            "bench",
            "--role",
            "viewer",
            "--expires",
            "1d",
        ],
    );
    let revoked = pave(
        &binary,
        &auth_db,
        &auth_config,
        &[
            "token",
            "create",
            "--name",
            "old",
            "--role",
            "viewer",
            "--expires",
            "1d",
        ],
    );
    let list = pave(
        &binary,
        &auth_db,
        &auth_config,
        &["token", "list", "-o", "json"],
    );
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    let old_id = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "old")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    pave(
        &binary,
        &auth_db,
        &auth_config,
        &["token", "revoke", &old_id],
    );

    let source = catalog.to_str().unwrap();
    let start = |db: &str, config: &Path| {
        Server::start(
            &binary,
            &[
                "--config",
                config.to_str().unwrap(),
                "--source",
                source,
                "--refresh-interval",
                "0",
            ],
            db,
            true,
        )
    };
    let open = start(&open_db, &open_config);
    // A second server without auth: the difference between the two is the noise floor.
    let twin_db = format!("sqlite://{}", dir.path().join("twin.db").display());
    let twin = start(&twin_db, &open_config);
    let secured = start(&auth_db, &auth_config);
    let path = "/api/catalog/entities/by-name/component/default/bench-component-000001";
    for server in [&open, &twin, &secured] {
        let mut c = Connection::open(server.addr);
        let deadline = Instant::now() + Duration::from_secs(60);
        while c.get(path, Some(token.as_str())) != 200 {
            assert!(Instant::now() < deadline, "the catalog was not served");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    let mut open_conn = Connection::open(open.addr);
    let mut twin_conn = Connection::open(twin.addr);
    let mut twin_times = Vec::with_capacity(requests);
    let mut auth_conn = Connection::open(secured.addr);
    let mut open_times = Vec::with_capacity(requests);
    let mut auth_times = Vec::with_capacity(requests);
    // Both servers get the same bytes, the token included (the server without auth ignores
    // it), so the difference is the server's own work and not a longer request.
    let bearer = format!("Bearer {token}");
    let headers = [("Authorization", bearer.as_str())];
    // Warm-up, then alternate rounds of 100 so load changes hit both alike.
    for _ in 0..1_000 {
        open_conn.get_with(path, &headers);
        twin_conn.get_with(path, &headers);
        auth_conn.get_with(path, &headers);
    }
    while open_times.len() < requests {
        for _ in 0..100 {
            let t = Instant::now();
            assert_eq!(open_conn.get_with(path, &headers), 200);
            open_times.push(t.elapsed());
        }
        for _ in 0..100 {
            let t = Instant::now();
            assert_eq!(twin_conn.get_with(path, &headers), 200);
            twin_times.push(t.elapsed());
        }
        for _ in 0..100 {
            let t = Instant::now();
            assert_eq!(auth_conn.get_with(path, &headers), 200);
            auth_times.push(t.elapsed());
        }
    }
    open_times.sort();
    twin_times.sort();
    auth_times.sort();
    let mut refusals = Vec::new();
    let mut malformed = Vec::new();
    for _ in 0..2_000 {
        let mut c = Connection::open(secured.addr);
        let t = Instant::now();
        assert_eq!(c.get(path, Some(revoked.as_str())), 401);
        refusals.push(t.elapsed());
        let mut c = Connection::open(secured.addr);
        let t = Instant::now();
        assert_eq!(c.get(path, Some("pave_not-a-token")), 401);
        malformed.push(t.elapsed());
    }
    refusals.sort();
    malformed.sort();

    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let (open_p50, auth_p50) = (percentile(&open_times, 0.5), percentile(&auth_times, 0.5));
    let overhead = us(auth_p50) - us(open_p50);
    println!("| {requests} by-name reads, one keep-alive connection | p50 | p99 |");
    println!("|---|---|---|");
    println!(
        "| without auth | {:.0} µs | {:.0} µs |",
        us(open_p50),
        us(percentile(&open_times, 0.99))
    );
    let twin_p50 = percentile(&twin_times, 0.5);
    println!(
        "| without auth, a second server (the noise floor: {:+.1} µs) | {:.0} µs | {:.0} µs |",
        us(twin_p50) - us(open_p50),
        us(twin_p50),
        us(percentile(&twin_times, 0.99))
    );
    println!(
        "| with an API token (viewer) | {:.0} µs | {:.0} µs |",
        us(auth_p50),
        us(percentile(&auth_times, 0.99))
    );
    println!(
        "| overhead of authentication and authorization | {overhead:.1} µs ({:.1} %) | target < 20 µs and < 5 % |",
        overhead / us(open_p50) * 100.0
    );
    println!(
        "| a revoked token, refused and audited (new connection) | {:.0} µs | {:.0} µs |",
        us(percentile(&refusals, 0.5)),
        us(percentile(&refusals, 0.99))
    );
    println!(
        "| a malformed token, refused before any lookup (new connection) | {:.0} µs | {:.0} µs |",
        us(percentile(&malformed, 0.5)),
        us(percentile(&malformed, 0.99))
    );
    open.terminate();
    twin.terminate();
    secured.terminate();
}
