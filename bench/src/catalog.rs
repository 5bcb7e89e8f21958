//! Catalog benchmark: generates a Backstage-style catalog of N components (plus N/20 groups,
//! N/50 systems, N/10 APIs; about six relations per component), starts `pave serve` on it and
//! measures time to fully queryable, API latencies and peak RSS, printed next to the figures
//! Backstage's catalog backend (4.0.5, SQLite, same generator, 2 cores) reached in the issue.
//!
//! Usage: `bench/catalog.sh [N ...]` (default 10000 50000). Needs a release build of `pave`.

#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pave_testkit::{Server, http};

/// Backstage's figures from the issue, measured on the same generator (2 vCPU, SQLite).
struct Peer {
    load_s: Option<f64>,
    all_ms: Option<f64>,
    fields_ms: Option<f64>,
    filter_ms: Option<f64>,
    by_query_ms: Option<f64>,
    by_name_ms: Option<f64>,
    facets_ms: Option<f64>,
    rss_mb: Option<f64>,
    note: &'static str,
}

fn backstage(components: usize) -> Option<Peer> {
    match components {
        10_000 => Some(Peer {
            load_s: Some(137.0),
            all_ms: Some(1035.0),
            fields_ms: Some(495.0),
            filter_ms: Some(424.0),
            by_query_ms: Some(47.0),
            by_name_ms: Some(2.8),
            facets_ms: Some(3.4),
            rss_mb: Some(898.0),
            note: "Backstage 4.0.5: 137 s to load, peak RSS 898 MB",
        }),
        50_000 => Some(Peer {
            load_s: None,
            all_ms: None,
            fields_ms: None,
            filter_ms: None,
            by_query_ms: None,
            by_name_ms: None,
            facets_ms: None,
            rss_mb: Some(763.0),
            note: "Backstage 4.0.5 had loaded only 15,711 of 58,500 entities after 9 min 13 s",
        }),
        _ => None,
    }
}

struct Measured {
    entities: usize,
    load_s: f64,
    reload_s: f64,
    reload_rss_mb: f64,
    all_ms: f64,
    all_bytes: usize,
    fields_ms: f64,
    filter_ms: f64,
    filter_count: usize,
    by_query_ms: f64,
    predicate_ms: f64,
    predicate_hits: u64,
    predicate_facets_ms: f64,
    ancestry_ms: f64,
    by_name_ms: f64,
    facets_ms: f64,
    rss_mb: f64,
}

fn median_ms(server: &Server, path: &str, runs: usize) -> (f64, pave_testkit::Response) {
    let mut last = server.get(path);
    assert_eq!(last.status, 200, "{path}: {}", last.body);
    let _ = server.get(path);
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        last = http(server.addr, "GET", path, None);
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], last)
}

/// The median time of `runs` `POST`s of `body` to `path`.
fn median_post_ms(
    server: &Server,
    path: &str,
    body: &str,
    runs: usize,
) -> (f64, pave_testkit::Response) {
    let mut last = http(server.addr, "POST", path, Some(body));
    assert_eq!(last.status, 200, "{path}: {}", last.body);
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        last = http(server.addr, "POST", path, Some(body));
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], last)
}

/// What the Backstage client sends for `queryEntities({query})` and
/// `getEntityFacets({query})`: services that are not experimental, or any API.
const PREDICATE: &str = r#"{"$any": [{"$all": [{"kind": "component"}, {"spec.type": {"$in": ["service", "website"]}}, {"$not": {"spec.lifecycle": "experimental"}}]}, {"kind": "api"}]}"#;

fn bench(binary: &Path, work: &Path, components: usize, runs: usize) -> Measured {
    let dir = work.join(format!("catalog-{components}"));
    let _ = std::fs::remove_dir_all(&dir);
    let summary = pave_demo::write_bench_catalog(&dir, components).unwrap();
    // Every generated entity, the root Location and the Location pave generates for the source.
    let expected = summary.entities + 2;
    let db = format!("sqlite://{}", dir.join("pave.db").display());
    let source = dir.join("catalog-info.yaml");
    let source = source.to_str().unwrap();
    let args = ["--source", source, "--refresh-interval", "0"];

    let count_path = "/api/catalog/entities/by-query?limit=0";
    // Cold starts are noisy on a shared 2-core machine: take the median of three, each on a
    // fresh database; the last one stays up for the query measurements.
    let mut loads = Vec::new();
    let mut server = None;
    for trial in 0..3 {
        drop(server.take());
        let _ = std::fs::remove_file(dir.join("pave.db"));
        let _ = std::fs::remove_file(dir.join("pave.db-wal"));
        let _ = std::fs::remove_file(dir.join("pave.db-shm"));
        let started = Instant::now();
        let started_server = Server::start(binary, &args, &db, true);
        let counted = started_server.wait_for_within(count_path, Duration::from_secs(600), |r| {
            r.status == 200 && r.json()["totalItems"].as_u64() == Some(expected as u64)
        });
        loads.push(started.elapsed().as_secs_f64());
        assert_eq!(
            counted.json()["totalItems"].as_u64(),
            Some(expected as u64),
            "not all entities loaded (trial {trial})"
        );
        server = Some(started_server);
    }
    let Some(server) = server else {
        unreachable!("three trials ran")
    };
    loads.sort_by(f64::total_cmp);
    let load_s = loads[1];
    // Relations are queryable too: the last component's, and their reverses on its owner.
    let component = format!("bench-component-{:06}", components - 1);
    let entity = server
        .get(&format!(
            "/api/catalog/entities/by-name/component/default/{component}"
        ))
        .json();
    let relations = entity["relations"].as_array().map_or(0, Vec::len);
    assert!(relations >= 4, "{component} has {relations} relations");
    let owner = entity["spec"]["owner"].as_str().unwrap_or_default();
    let owner = server
        .get(&format!(
            "/api/catalog/entities/by-name/group/default/{owner}"
        ))
        .json();
    assert!(
        owner["relations"].as_array().is_some_and(|r| r
            .iter()
            .any(|r| r["targetRef"] == format!("component:default/{component}").as_str())),
        "reverse relation missing"
    );

    let (all_ms, all) = median_ms(&server, "/api/catalog/entities", runs.min(15));
    let (fields_ms, _) = median_ms(
        &server,
        "/api/catalog/entities?fields=kind,metadata.name,metadata.namespace",
        runs.min(15),
    );
    let (filter_ms, filtered) = median_ms(
        &server,
        "/api/catalog/entities?filter=kind=component,spec.type=service",
        runs,
    );
    let (by_query_ms, _) = median_ms(&server, "/api/catalog/entities/by-query?limit=100", runs);
    let (predicate_ms, predicate) = median_post_ms(
        &server,
        "/api/catalog/entities/by-query",
        &format!(r#"{{"query": {PREDICATE}, "limit": 100}}"#),
        runs,
    );
    let (predicate_facets_ms, _) = median_post_ms(
        &server,
        "/api/catalog/entity-facets",
        &format!(r#"{{"facets": ["kind", "spec.type", "spec.owner"], "query": {PREDICATE}}}"#),
        runs,
    );
    let (ancestry_ms, ancestry) = median_ms(
        &server,
        &format!("/api/catalog/entities/by-name/component/default/{component}/ancestry"),
        runs * 5,
    );
    assert!(
        ancestry.json()["items"]
            .as_array()
            .is_some_and(|i| i.len() >= 2),
        "{}",
        ancestry.body
    );
    let (by_name_ms, _) = median_ms(
        &server,
        &format!("/api/catalog/entities/by-name/component/default/{component}"),
        runs * 5,
    );
    let (facets_ms, _) = median_ms(
        &server,
        "/api/catalog/entity-facets?facet=kind&facet=spec.type&facet=spec.owner",
        runs,
    );
    let rss_mb = server.peak_rss_kib().unwrap_or(0) as f64 / 1024.0;
    let status = server.terminate();
    assert!(status.success());

    // A restart over the stored catalog: files are unchanged, so nothing is re-parsed.
    let started = Instant::now();
    let server = Server::start(binary, &args, &db, true);
    server.wait_for_within(count_path, Duration::from_secs(600), |r| {
        r.status == 200 && r.json()["totalItems"].as_u64() == Some(expected as u64)
    });
    let reload_s = started.elapsed().as_secs_f64();
    // Give the background re-read of the (unchanged) source time to finish.
    std::thread::sleep(Duration::from_millis(1500));
    let reload_rss_mb = server.peak_rss_kib().unwrap_or(0) as f64 / 1024.0;
    let _ = server.terminate();

    Measured {
        entities: expected,
        load_s,
        reload_s,
        reload_rss_mb,
        all_ms,
        all_bytes: all.body.len(),
        fields_ms,
        filter_ms,
        filter_count: filtered.json().as_array().map_or(0, Vec::len),
        by_query_ms,
        predicate_ms,
        predicate_hits: predicate.json()["totalItems"].as_u64().unwrap_or(0),
        predicate_facets_ms,
        ancestry_ms,
        by_name_ms,
        facets_ms,
        rss_mb,
    }
}

fn ratio(peer: Option<f64>, ours: f64) -> String {
    match peer {
        Some(p) if ours > 0.0 => format!("{:.0}x", p / ours),
        _ => "-".into(),
    }
}

fn peer_cell(v: Option<f64>, unit: &str) -> String {
    v.map_or_else(|| "not reached".into(), |v| format!("{v} {unit}"))
}

fn report(components: usize, m: &Measured) {
    let peer = backstage(components);
    let p = |f: fn(&Peer) -> Option<f64>| peer.as_ref().and_then(f);
    let target = |t: &str| t.to_owned();
    let (load_target, all_target) = match components {
        10_000 => (target("< 1 s"), target("< 50 ms")),
        50_000 => (target("< 4 s"), target("-")),
        _ => (target("-"), target("-")),
    };
    println!(
        "\n### N = {components} components ({} entities)\n",
        m.entities
    );
    println!("| measure | pave | Backstage | Backstage / pave | target |");
    println!("|---|---|---|---|---|");
    let rows: Vec<(String, String, String, String, String)> = vec![
        (
            "start to all entities and relations queryable".into(),
            format!("{:.2} s", m.load_s),
            peer_cell(p(|p| p.load_s), "s"),
            ratio(p(|p| p.load_s), m.load_s),
            load_target,
        ),
        (
            "restart on the stored catalog, queryable".into(),
            format!("{:.2} s", m.reload_s),
            "-".into(),
            "-".into(),
            "-".into(),
        ),
        (
            format!("GET /entities (all, {:.1} MB)", m.all_bytes as f64 / 1e6),
            format!("{:.1} ms", m.all_ms),
            peer_cell(p(|p| p.all_ms), "ms"),
            ratio(p(|p| p.all_ms), m.all_ms),
            all_target,
        ),
        (
            "GET /entities?fields=kind,metadata.name,metadata.namespace".into(),
            format!("{:.1} ms", m.fields_ms),
            peer_cell(p(|p| p.fields_ms), "ms"),
            ratio(p(|p| p.fields_ms), m.fields_ms),
            "-".into(),
        ),
        (
            format!(
                "GET /entities?filter=kind=component,spec.type=service ({} hits)",
                m.filter_count
            ),
            format!("{:.2} ms", m.filter_ms),
            peer_cell(p(|p| p.filter_ms), "ms"),
            ratio(p(|p| p.filter_ms), m.filter_ms),
            if components == 10_000 {
                "< 15 ms".into()
            } else {
                "-".into()
            },
        ),
        (
            "GET /entities/by-query?limit=100".into(),
            format!("{:.2} ms", m.by_query_ms),
            peer_cell(p(|p| p.by_query_ms), "ms"),
            ratio(p(|p| p.by_query_ms), m.by_query_ms),
            "-".into(),
        ),
        (
            "GET /entities/by-name/…".into(),
            format!("{:.3} ms", m.by_name_ms),
            peer_cell(p(|p| p.by_name_ms), "ms"),
            ratio(p(|p| p.by_name_ms), m.by_name_ms),
            if components == 10_000 {
                "< 0.5 ms".into()
            } else {
                "-".into()
            },
        ),
        (
            "GET /entity-facets (kind, spec.type, spec.owner)".into(),
            format!("{:.2} ms", m.facets_ms),
            peer_cell(p(|p| p.facets_ms), "ms"),
            ratio(p(|p| p.facets_ms), m.facets_ms),
            "-".into(),
        ),
        (
            format!(
                "POST /entities/by-query with a query predicate, limit 100 ({} hits)",
                m.predicate_hits
            ),
            format!("{:.2} ms", m.predicate_ms),
            "not measured".into(),
            "-".into(),
            "-".into(),
        ),
        (
            "POST /entity-facets with the same predicate (3 facets)".into(),
            format!("{:.2} ms", m.predicate_facets_ms),
            "not measured".into(),
            "-".into(),
            "-".into(),
        ),
        (
            "GET /entities/by-name/…/ancestry".into(),
            format!("{:.3} ms", m.ancestry_ms),
            "not measured".into(),
            "-".into(),
            "-".into(),
        ),
        (
            "peak RSS after a restart over the stored catalog".into(),
            format!("{:.0} MB", m.reload_rss_mb),
            "-".into(),
            "-".into(),
            "-".into(),
        ),
        (
            "peak RSS (first start)".into(),
            format!("{:.0} MB", m.rss_mb),
            peer_cell(p(|p| p.rss_mb), "MB"),
            ratio(p(|p| p.rss_mb), m.rss_mb),
            if components == 10_000 {
                "< 80 MB".into()
            } else {
                "-".into()
            },
        ),
    ];
    for (a, b, c, d, e) in rows {
        println!("| {a} | {b} | {c} | {d} | {e} |");
    }
    if let Some(peer) = peer {
        println!("\n{}", peer.note);
    }
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if args.is_empty() {
        vec![10_000, 50_000]
    } else {
        args
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let binary = std::env::var_os("PAVE_BIN")
        .map_or_else(|| root.join("target/release/pave"), PathBuf::from);
    assert!(
        binary.exists(),
        "build pave first: cargo build --release -p pave ({} missing)",
        binary.display()
    );
    let work = root.join("target/bench-work");
    std::fs::create_dir_all(&work).unwrap();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "pave catalog benchmark: {} on {cores} cores; latencies are medians over HTTP on loopback",
        binary.display()
    );
    for components in sizes {
        let measured = bench(&binary, &work, components, 20);
        report(components, &measured);
    }
}
