//! Hostile requests against `pave serve` (issue 13, "bounded work per request"): the same
//! requests as the issue's outside test, on the benchmark catalog of N components (10,000
//! components are 11,700 entities), measured on the server process:
//!
//! 1. a 40 KB GET repeating `facet=metadata.name`: answer, time, server CPU, memory;
//! 2. by-name reads while three clients loop heavy requests: the flood above, then heavy
//!    requests the limits allow (the full listing, a 20-facet count, a predicate query);
//! 3. a 5.2 MB AdmissionReview (a Pod of ~70,000 privileged containers) and one of 3 MB
//!    (just under the largest object the API server stores): time, CPU, memory and the size
//!    of the answer;
//! 4. by-name reads per second (wrk) idle and while one entity is changed and its location
//!    refreshed once a second, and how long each index update took.
//!
//! Usage: `bench/hostile.sh [--binary PATH] [--components N]` (default: target/release/pave,
//! 10000). Compare two binaries by running it once with each.

#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use pave_testkit::{Server, http, http_waiting, process_cpu_seconds, process_memory_mb};

/// CPU seconds the process has used (user + system), from `/proc/<pid>/stat`.
/// Resets the process's peak RSS to its current RSS (Linux 4.0+: write 5 to `clear_refs`).
fn reset_peak(pid: u32) {
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
}

struct Cost {
    status: u16,
    wall_ms: f64,
    cpu_s: f64,
    peak_growth_mb: f64,
    answer_bytes: usize,
    message: String,
}

/// Sends one request and measures it on the server process.
fn measure(server: &Server, method: &str, path: &str, body: Option<&str>) -> Cost {
    let pid = server.child.id();
    reset_peak(pid);
    let rss = process_memory_mb(pid, "VmRSS:");
    let cpu = process_cpu_seconds(pid);
    let started = Instant::now();
    // The facet flood took longer than the tests' 30 s on a busy machine.
    let response = http_waiting(server.addr, method, path, body, Duration::from_secs(600));
    let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    // Work may go on after the answer (freeing); give the counters a moment.
    std::thread::sleep(Duration::from_millis(200));
    let message = serde_json::from_str::<serde_json::Value>(&response.body)
        .ok()
        .and_then(|v| {
            v["error"]["message"]
                .as_str()
                .map(str::to_owned)
                .or_else(|| {
                    v["response"]["status"]["message"]
                        .as_str()
                        .map(|m| m.chars().take(100).collect())
                })
        })
        .unwrap_or_default();
    Cost {
        status: response.status,
        wall_ms,
        cpu_s: process_cpu_seconds(pid) - cpu,
        peak_growth_mb: (process_memory_mb(pid, "VmHWM:") - rss).max(0.0),
        answer_bytes: response.body.len(),
        message,
    }
}

fn print_cost(what: &str, cost: &Cost) {
    println!(
        "| {what} | {} | {:.0} ms | {:.2} s | {:.0} MB | {:.1} KB | {} |",
        cost.status,
        cost.wall_ms,
        cost.cpu_s,
        cost.peak_growth_mb,
        cost.answer_bytes as f64 / 1024.0,
        cost.message.replace('|', "/")
    );
}

/// Latencies of by-name reads sent one after another for `duration`, in ms, sorted; a read
/// that failed or got no answer within 60 s counts with the time it took.
fn by_name_latencies(addr: SocketAddr, path: &str, duration: Duration) -> Vec<f64> {
    let mut times = Vec::new();
    let started = Instant::now();
    while started.elapsed() < duration {
        let t = Instant::now();
        let status = send_discarding(addr, "GET", path, None);
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        if status != 200 {
            eprintln!(
                "by-name read answered {status} after {:.0} ms",
                t.elapsed().as_secs_f64() * 1000.0
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    times.sort_by(f64::total_cmp);
    times
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// By-name latencies while `clients` threads loop over `requests`; also the heavy answers
/// by status.
fn under_load(
    server: &Server,
    by_name: &str,
    requests: &[(&'static str, String, Option<String>)],
    clients: usize,
) -> (Vec<f64>, Vec<(u16, usize)>) {
    let stop = Arc::new(AtomicBool::new(false));
    let addr = server.addr;
    let loaders: Vec<_> = (0..clients)
        .map(|i| {
            let stop = Arc::clone(&stop);
            let requests = requests.to_vec();
            std::thread::spawn(move || {
                let mut statuses: Vec<(u16, usize)> = Vec::new();
                let mut n = i;
                while !stop.load(Ordering::Relaxed) {
                    let (method, path, body) = &requests[n % requests.len()];
                    let status = send_discarding(addr, method, path, body.as_deref());
                    match statuses.iter_mut().find(|(s, _)| *s == status) {
                        Some((_, count)) => *count += 1,
                        None => statuses.push((status, 1)),
                    }
                    n += 1;
                }
                statuses
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let latencies = by_name_latencies(addr, by_name, Duration::from_secs(10));
    stop.store(true, Ordering::Relaxed);
    let mut statuses: Vec<(u16, usize)> = Vec::new();
    for loader in loaders {
        for (status, count) in loader.join().unwrap() {
            match statuses.iter_mut().find(|(s, _)| *s == status) {
                Some((_, c)) => *c += count,
                None => statuses.push((status, count)),
            }
        }
    }
    statuses.sort_unstable();
    (latencies, statuses)
}

/// One request whose answer is read and dropped as it comes (a listing is tens of MB).
fn send_discarding(addr: SocketAddr, method: &str, path: &str, body: Option<&str>) -> u16 {
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return 0;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    let body = body.unwrap_or("");
    let _ = write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut head = [0u8; 16];
    let mut got = 0;
    while got < 12 {
        match stream.read(&mut head[got..]) {
            Ok(0) | Err(_) => return 0,
            Ok(n) => got += n,
        }
    }
    let status = std::str::from_utf8(&head[9..12])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut sink = [0u8; 64 * 1024];
    while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
    status
}

/// An AdmissionReview of about `bytes` bytes: one Pod of privileged containers without
/// image tags; at most `max_containers`, the rest of the size an annotation.
fn big_review(bytes: usize, max_containers: usize) -> String {
    let container = |i: usize| {
        format!(r#"{{"name":"c{i:06}","image":"nginx","securityContext":{{"privileged":true}}}}"#)
    };
    let mut containers = String::new();
    let mut i = 0;
    while containers.len() < bytes && i < max_containers {
        if i > 0 {
            containers.push(',');
        }
        containers.push_str(&container(i));
        i += 1;
    }
    let pad = "p".repeat(bytes.saturating_sub(containers.len()));
    format!(
        r#"{{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{{"uid":"b1","kind":{{"group":"","version":"v1","kind":"Pod"}},"operation":"CREATE","namespace":"shop","object":{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"big","annotations":{{"pad":"{pad}"}}}},"spec":{{"containers":[{containers}]}}}}}}}}"#
    )
}

/// wrk's requests per second for `path` over `seconds`.
fn wrk_rate(addr: SocketAddr, path: &str, seconds: u64) -> f64 {
    let out = Command::new("wrk")
        .args(["-t2", "-c16", &format!("-d{seconds}s")])
        .arg(format!("http://{addr}{path}"))
        .output();
    let Ok(out) = out else {
        eprintln!("wrk is not installed: apt-get install -y wrk");
        return 0.0;
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.starts_with("Requests/sec:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0.0)
}

/// Index rebuild times the server logged since `from` (its log lines, in ms).
fn rebuild_times(server: &Server, from: usize) -> Vec<f64> {
    server.log_lines()[from..]
        .iter()
        .filter(|l| l.contains("catalog index"))
        .filter_map(|l| {
            let rest = l.split("elapsed_ms=").nth(1)?;
            rest.split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        })
        .collect()
}

fn main() {
    let mut binary = PathBuf::from("target/release/pave");
    let mut components = 10_000;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--binary" => binary = PathBuf::from(args.next().unwrap()),
            "--components" => components = args.next().unwrap().parse().unwrap(),
            other => panic!("unknown argument {other}"),
        }
    }
    let work = tempfile::tempdir().unwrap();
    run(&binary, work.path(), components);
}

fn run(binary: &Path, work: &Path, components: usize) {
    let dir = work.join("catalog");
    let summary = pave_demo::write_bench_catalog(&dir, components).unwrap();
    let expected = summary.entities + 2;
    let db = format!("sqlite://{}", work.join("pave.db").display());
    let source = dir.join("catalog-info.yaml");
    let server = Server::start(
        binary,
        &[
            "--source",
            source.to_str().unwrap(),
            "--refresh-interval",
            "0",
        ],
        &db,
        true,
    );
    server.wait_for_within(
        "/api/catalog/entities/by-query?limit=0",
        Duration::from_secs(600),
        |r| r.status == 200 && r.json()["totalItems"].as_u64() == Some(expected as u64),
    );
    println!(
        "\n### {} on {expected} entities ({})\n",
        binary.display(),
        std::env::consts::ARCH
    );
    let by_name = format!(
        "/api/catalog/entities/by-name/component/default/bench-component-{:06}",
        components / 2
    );

    // 1. The facet flood.
    let flood = format!(
        "/api/catalog/entity-facets?{}",
        vec!["facet=metadata.name"; 40 * 1024 / 19].join("&")
    );
    println!("| request | status | time | server CPU | peak RSS growth | answer | message |");
    println!("|---|---|---|---|---|---|---|");
    print_cost(
        "GET /entity-facets, 40 KB repeating facet=metadata.name",
        &measure(&server, "GET", &flood, None),
    );
    let distinct = format!(
        "/api/catalog/entity-facets?facet=metadata.name&{}",
        (0..3000)
            .map(|i| format!("facet=f{i}"))
            .collect::<Vec<_>>()
            .join("&")
    );
    print_cost(
        "GET /entity-facets, 3,001 distinct facets",
        &measure(&server, "GET", &distinct, None),
    );
    print_cost(
        "GET /entities (all)",
        &measure(&server, "GET", "/api/catalog/entities", None),
    );

    // 3. Large AdmissionReviews: the issue's 5.2 MB of containers, 3 MB of containers (just
    //    under the largest object the API server stores), and 3 MB of which 1,000 bad
    //    containers (the most reviewed) and the rest an annotation.
    for (bytes, containers) in [
        (5_200_000, usize::MAX),
        (3_000_000, usize::MAX),
        (3_000_000, 1000),
    ] {
        let review = big_review(bytes, containers);
        let cost = measure(&server, "POST", pave_check_path(), Some(review.as_str()));
        let what = if containers == usize::MAX {
            "all containers".to_owned()
        } else {
            format!("{containers} containers")
        };
        print_cost(
            &format!(
                "POST AdmissionReview of {:.1} MB ({what})",
                review.len() as f64 / 1e6
            ),
            &cost,
        );
    }

    // 2. By-name reads under heavy load.
    let idle = by_name_latencies(server.addr, &by_name, Duration::from_secs(5));
    let heavy_allowed: Vec<(&'static str, String, Option<String>)> = vec![
        ("GET", "/api/catalog/entities".into(), None),
        (
            "GET",
            format!(
                "/api/catalog/entity-facets?{}",
                [
                    "metadata.name",
                    "metadata.uid",
                    "metadata.etag",
                    "metadata.description",
                    "spec.owner",
                    "spec.system",
                    "relations.ownedby",
                    "relations.partof",
                    "relations.dependson",
                    "relations.providesapi",
                    "relations.consumesapi",
                    "relations.dependencyof",
                    "relations.haspart",
                    "relations.ownerof",
                    "relations.apiprovidedby",
                    "relations.apiconsumedby",
                    "kind",
                    "spec.type",
                    "spec.lifecycle",
                    "metadata.namespace",
                ]
                .map(|f| format!("facet={f}"))
                .join("&")
            ),
            None,
        ),
        (
            "POST",
            "/api/catalog/entities/by-query".into(),
            Some(r#"{"query": {"$any": [{"metadata.name": {"$hasPrefix": "bench-comp"}}, {"kind": "api"}]}, "limit": 1000}"#.into()),
        ),
    ];
    let flood_requests = vec![("GET", flood.clone(), None)];
    println!("\n| by-name reads | p50 | p99 | max | heavy answers |");
    println!("|---|---|---|---|---|");
    println!(
        "| idle | {:.1} ms | {:.1} ms | {:.1} ms | - |",
        percentile(&idle, 0.5),
        percentile(&idle, 0.99),
        percentile(&idle, 1.0)
    );
    for (what, requests) in [
        ("3 clients looping the facet flood", &flood_requests),
        (
            "3 clients looping allowed heavy requests (listing, 20 facets, predicate)",
            &heavy_allowed,
        ),
    ] {
        let (latencies, statuses) = under_load(&server, &by_name, requests, 3);
        println!(
            "| {what} | {:.1} ms | {:.1} ms | {:.1} ms | {} |",
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.99),
            percentile(&latencies, 1.0),
            statuses
                .iter()
                .map(|(s, n)| format!("{n}× {s}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }

    // 4. Reads per second during index updates.
    let idle_rate = wrk_rate(server.addr, &by_name, 5);
    let log_from = server.log_lines().len();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = Arc::clone(&stop);
        let addr = server.addr;
        let file = first_file_with(&dir, "bench-component-000001");
        std::thread::spawn(move || {
            let original = std::fs::read_to_string(&file).unwrap();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let started = Instant::now();
                let changed = original.replacen(
                    "name: bench-component-000001",
                    &format!("name: bench-component-000001\n  title: changed {n}"),
                    1,
                );
                std::fs::write(&file, changed).unwrap();
                let r = http(
                    addr,
                    "POST",
                    "/api/catalog/refresh",
                    Some(r#"{"entityRef": "component:default/bench-component-000001"}"#),
                );
                assert_eq!(r.status, 200, "{}", r.body);
                // One write a second: the same writes before and after a change.
                std::thread::sleep(Duration::from_secs(1).saturating_sub(started.elapsed()));
            }
            std::fs::write(&file, original).unwrap();
            n
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    let busy_rate = wrk_rate(server.addr, &by_name, 10);
    stop.store(true, Ordering::Relaxed);
    let refreshes = writer.join().unwrap();
    let times = rebuild_times(&server, log_from);
    let mean = times.iter().sum::<f64>() / times.len().max(1) as f64;
    println!("\n| by-name reads/s (wrk, 2 threads, 16 connections) | value |");
    println!("|---|---|");
    println!("| idle | {idle_rate:.0}/s |");
    println!(
        "| while one entity is changed and its location refreshed once a second ({refreshes} refreshes) | {busy_rate:.0}/s |"
    );
    println!(
        "| index update after each refresh (server log, mean of {}) | {mean:.0} ms |",
        times.len()
    );
    let _ = server.terminate();
}

fn pave_check_path() -> &'static str {
    "/api/admission/validate"
}

/// The generated catalog file that defines `name`.
fn first_file_with(dir: &Path, name: &str) -> PathBuf {
    let needle = format!("name: {name}\n");
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if std::fs::read_to_string(&path).is_ok_and(|t| t.contains(&needle)) {
                return path;
            }
        }
    }
    panic!("no file defines {name}");
}
