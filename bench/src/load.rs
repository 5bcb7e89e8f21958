//! Mixed load against `pave serve` (issue 17: 1,000 requests/s for 10 minutes on 2 cores,
//! 0 errors, p99 < 20 ms, RSS flat). An open-loop client sends, at a fixed rate from several
//! keep-alive connections: 90 % catalog reads of every kind (by name, lists by kind with
//! filters, by-query pages, facets, relations of a group), 9 % writes (signed GitHub webhook
//! deliveries, committed before their answer), 1 % portal pages (catalog list, entity page).
//! Each request is timed from the moment it was *due*, so a stalled server is not hidden by
//! a client that waits for it. The server's RSS and CPU are sampled every 10 s.
//!
//! Usage: `bench/load.sh [--binary target/release/pave] [--rate 1000] [--seconds 600]
//! [--connections 16] [--components 5000] [--writes no]`

#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pave_testkit::{KeepAlive, Server, arg, percentile, process_cpu_seconds, process_memory_mb};
use ring::hmac;
use serde_json::json;

const SECRET: &str = "bench-webhook-secret";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Class {
    Read,
    Write,
    Page,
}

struct Request {
    class: Class,
    method: &'static str,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

/// The `n`th request of the mix; without `writes`, the writes' share goes to reads (to tell
/// what the stored deliveries take in memory from anything else).
fn request(n: u64, components: usize, writes: bool) -> Request {
    let pick = |modulus: usize| (n.wrapping_mul(2_654_435_761) % modulus as u64) as usize;
    let groups = (components / 20).max(1);
    let systems = (components / 50).max(1);
    let apis = (components / 10).max(1);
    let get = |class, path: String| Request {
        class,
        method: "GET",
        path,
        headers: Vec::new(),
        body: Vec::new(),
    };
    let slot = match n % 100 {
        slot @ 90..=98 if !writes => slot - 90,
        slot => slot,
    };
    match slot {
        0..=89 => get(
            Class::Read,
            match n % 9 {
                0 => format!(
                    "/api/catalog/entities/by-name/component/default/bench-component-{:06}",
                    pick(components)
                ),
                1 => format!(
                    "/api/catalog/entities/by-name/api/default/bench-api-{:05}",
                    pick(apis)
                ),
                2 => format!(
                    "/api/catalog/entities/by-name/group/default/bench-group-{:05}",
                    pick(groups)
                ),
                3 => format!(
                    "/api/catalog/entities/by-name/system/default/bench-system-{:05}",
                    pick(systems)
                ),
                4 => "/api/catalog/entities?filter=kind=group&limit=20".to_owned(),
                5 => format!(
                    "/api/catalog/entities/by-query?filter=kind=component,spec.system=bench-system-{:05}&limit=20",
                    pick(systems)
                ),
                6 => format!(
                    "/api/catalog/entities/by-query?filter=relations.ownedBy=group:default/bench-group-{:05}&limit=50&fields=metadata.name,kind",
                    pick(groups)
                ),
                7 => "/api/catalog/entity-facets?facet=kind&facet=spec.type".to_owned(),
                _ => format!(
                    "/api/catalog/entities/by-name/component/default/bench-component-{:06}/ancestry",
                    pick(components)
                ),
            },
        ),
        90..=98 => {
            let body = serde_json::to_vec(&json!({
                "ref": "refs/heads/main",
                "before": format!("{:040x}", n.wrapping_sub(1)),
                "after": format!("{n:040x}"),
                "repository": {
                    "full_name": format!("acme/bench-component-{:06}", pick(components)),
                    "html_url": format!("https://github.com/acme/bench-component-{:06}", pick(components)),
                    "default_branch": "main"
                },
                "pusher": {"name": "dev", "email": "dev@example.com"},
                "head_commit": {"id": format!("{n:040x}"), "timestamp": "2026-12-01T10:00:00Z", "message": "change", "author": {"email": "dev@example.com"}},
                "commits": [{"id": format!("{n:040x}"), "timestamp": "2026-12-01T10:00:00Z", "message": "change", "author": {"email": "dev@example.com"}}]
            }))
            .unwrap();
            let key = hmac::Key::new(hmac::HMAC_SHA256, SECRET.as_bytes());
            let signature = format!(
                "sha256={}",
                pave_store::sql::hex(hmac::sign(&key, &body).as_ref())
            );
            Request {
                class: Class::Write,
                method: "POST",
                path: "/api/events/github".to_owned(),
                headers: vec![
                    ("Content-Type", "application/json".to_owned()),
                    ("X-GitHub-Event", "push".to_owned()),
                    ("X-GitHub-Delivery", format!("load-{n:010}")),
                    ("X-Hub-Signature-256", signature),
                ],
                body,
            }
        }
        _ => get(
            Class::Page,
            if n % 200 < 100 {
                "/catalog?kind=component".to_owned()
            } else {
                format!(
                    "/catalog/default/component/bench-component-{:06}",
                    pick(components)
                )
            },
        ),
    }
}

#[derive(Default)]
struct Tally {
    latencies: Vec<(Class, Duration)>,
    errors: Vec<(Class, u16, String)>,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let binary = PathBuf::from(arg("--binary").unwrap_or_else(|| "target/release/pave".into()));
    let rate: u64 = arg("--rate").map_or(1_000, |r| r.parse().unwrap());
    let seconds: u64 = arg("--seconds").map_or(600, |r| r.parse().unwrap());
    let connections: u64 = arg("--connections").map_or(16, |r| r.parse().unwrap());
    let components: usize = arg("--components").map_or(5_000, |r| r.parse().unwrap());
    let writes = arg("--writes").is_none_or(|w| w != "no");

    let work = tempfile::tempdir().unwrap();
    let catalog = work.path().join("catalog");
    let summary = pave_demo::write_bench_catalog(&catalog, components).unwrap();
    let config = work.path().join("pave.yaml");
    std::fs::write(
        &config,
        format!("events:\n  sources:\n    github:\n      secrets: [\"{SECRET}\"]\n"),
    )
    .unwrap();
    let db = format!("sqlite://{}", work.path().join("pave.db").display());
    let source = catalog.join("catalog-info.yaml");
    let server = Server::start(
        &binary,
        &[
            "--config",
            config.to_str().unwrap(),
            "--source",
            source.to_str().unwrap(),
            "--refresh-interval",
            "0",
            // The client is one address: the per-client caps are for the open internet.
            "--max-requests-per-client",
            "0",
            "--max-connections-per-client",
            "0",
        ],
        &db,
        true,
    );
    let expected = summary.entities + 2;
    server.wait_for_within(
        "/api/catalog/entities/by-query?limit=0",
        Duration::from_secs(600),
        |r| r.status == 200 && r.json()["totalItems"].as_u64() == Some(expected as u64),
    );
    let pid = server.child.id();

    // Warm-up (not counted): every kind of request once.
    let mut warm = KeepAlive::open(server.addr).unwrap();
    for n in 0..300 {
        let r = request(1_000_000_000 + n, components, true);
        let headers: Vec<(&str, &str)> = r.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, body) = warm.send(r.method, &r.path, &headers, &r.body).unwrap();
        assert!(
            status < 300,
            "warm-up {} {} answered {status}: {}",
            r.method,
            r.path,
            String::from_utf8_lossy(&body)
        );
    }

    let total = rate * seconds;
    let tally = Arc::new(Mutex::new(Tally::default()));
    let samples = Arc::new(Mutex::new(Vec::<(f64, f64, f64)>::new()));
    let start = Instant::now() + Duration::from_millis(100);
    let sampler = {
        let samples = Arc::clone(&samples);
        std::thread::spawn(move || {
            let deadline = start + Duration::from_secs(seconds);
            let (cpu0, t0) = (process_cpu_seconds(pid), Instant::now());
            while Instant::now() < deadline {
                samples.lock().unwrap().push((
                    t0.elapsed().as_secs_f64(),
                    process_memory_mb(pid, "VmRSS"),
                    process_cpu_seconds(pid) - cpu0,
                ));
                std::thread::sleep(Duration::from_secs(10).min(deadline - Instant::now()));
            }
        })
    };
    let interval = Duration::from_secs_f64(connections as f64 / rate as f64);
    let addr: SocketAddr = server.addr;
    let threads: Vec<_> = (0..connections)
        .map(|c| {
            let tally = Arc::clone(&tally);
            std::thread::spawn(move || {
                let mut conn = KeepAlive::open(addr).unwrap();
                let mut local = Tally::default();
                for (k, n) in (c..total).step_by(connections as usize).enumerate() {
                    let due = start
                        + interval * k as u32
                        + interval.mul_f64(c as f64 / connections as f64);
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    let r = request(n, components, writes);
                    let headers: Vec<(&str, &str)> =
                        r.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    match conn.send(r.method, &r.path, &headers, &r.body) {
                        Some((status, _)) if status < 300 => {
                            local
                                .latencies
                                .push((r.class, Instant::now().duration_since(due)));
                        }
                        Some((status, body)) => local.errors.push((
                            r.class,
                            status,
                            String::from_utf8_lossy(&body).chars().take(200).collect(),
                        )),
                        None => {
                            local.errors.push((r.class, 0, "connection failed".into()));
                            if let Ok(fresh) = KeepAlive::open(addr) {
                                conn = fresh;
                            }
                        }
                    }
                }
                let mut all = tally.lock().unwrap();
                all.latencies.extend(local.latencies);
                all.errors.extend(local.errors);
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let elapsed = start.elapsed();
    sampler.join().unwrap();
    let tally = Arc::try_unwrap(tally).ok().unwrap().into_inner().unwrap();
    let samples = samples.lock().unwrap().clone();

    println!(
        "\n| {rate}/s offered for {seconds} s, {connections} connections, {} entities ({}) | figure |",
        expected,
        binary.display()
    );
    println!("|---|---|");
    println!(
        "| answered 2xx | {} of {total} ({:.0}/s) |",
        tally.latencies.len(),
        tally.latencies.len() as f64 / elapsed.as_secs_f64()
    );
    println!(
        "| errors | {} {:?} |",
        tally.errors.len(),
        &tally.errors[..tally.errors.len().min(3)]
    );
    for (name, class) in [
        ("catalog reads (90 %)", Some(Class::Read)),
        ("webhook writes (9 %)", Some(Class::Write)),
        ("portal pages (1 %)", Some(Class::Page)),
        ("all", None),
    ] {
        let mut latencies: Vec<Duration> = tally
            .latencies
            .iter()
            .filter(|(c, _)| class.is_none_or(|want| *c == want))
            .map(|(_, d)| *d)
            .collect();
        latencies.sort();
        println!(
            "| {name}: p50 / p99 / max (from due time) | {:.2} / {:.2} / {:.2} ms |",
            ms(percentile(&latencies, 0.5)),
            ms(percentile(&latencies, 0.99)),
            ms(percentile(&latencies, 1.0))
        );
    }
    if let (Some(first), Some(last)) = (samples.get(1).or(samples.first()), samples.last()) {
        println!(
            "| server RSS: after 10 s / at the end | {:.0} / {:.0} MB ({:+.1} MB) |",
            first.1,
            last.1,
            last.1 - first.1
        );
        println!(
            "| server CPU | {:.0} % of one core |",
            100.0 * last.2 / last.0.max(1.0)
        );
    }
    let rss: Vec<String> = samples.iter().map(|(_, r, _)| format!("{r:.0}")).collect();
    println!("| RSS every 10 s (MB) | {} |", rss.join(" "));
    if !tally.errors.is_empty() {
        std::process::exit(1);
    }
}
