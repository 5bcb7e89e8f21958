//! Portal benchmark: every kind of portal page, served by `pave serve` over the catalog
//! benchmark's generated catalog (10,000 components, about 11,700 entities), timed over
//! HTTP on loopback. The target is under 20 ms per page at this size.
//!
//! Backstage renders these pages in the browser from catalog API calls; its figures for
//! those calls on the same generator (`bench/catalog.sh`: the catalog table's first call,
//! an entity by name) are printed beside pave's for the pages that need them.
//!
//! Usage: `bench/portal.sh [components]` (default 10000). Needs a release build of `pave`.

#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pave_testkit::{Server, http, percentile};

/// Requests per page after three to warm up.
const RUNS: usize = 60;

/// The ceiling for a page's server time.
const TARGET_MS: f64 = 20.0;

struct Page {
    label: &'static str,
    path: String,
    /// What Backstage's browser needs first for the same page (from `bench/catalog.sh`'s
    /// measured Backstage figures at 10,000 components).
    backstage: &'static str,
}

struct Timing {
    p50_ms: f64,
    p99_ms: f64,
    bytes: usize,
}

fn time(server: &Server, path: &str) -> Timing {
    let first = server.get(path);
    assert_eq!(first.status, 200, "{path}: {}", first.body);
    for _ in 0..3 {
        let _ = http(server.addr, "GET", path, None);
    }
    let mut times = Vec::with_capacity(RUNS);
    let mut bytes = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        let answer = http(server.addr, "GET", path, None);
        times.push(started.elapsed());
        assert_eq!(answer.status, 200, "{path}");
        bytes = answer.body.len();
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    Timing {
        p50_ms: ms(percentile(&times, 0.5)),
        p99_ms: ms(percentile(&times, 0.99)),
        bytes,
    }
}

fn pages(server: &Server, components: usize) -> Vec<Page> {
    let component = format!("bench-component-{:06}", components / 2);
    let entity = server
        .get(&format!(
            "/api/catalog/entities/by-name/component/default/{component}"
        ))
        .json();
    let owner = entity["spec"]["owner"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let system = entity["spec"]["system"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let api = entity["relations"]
        .as_array()
        .and_then(|r| {
            r.iter()
                .find(|r| r["type"] == "providesApi" || r["type"] == "consumesApi")
        })
        .and_then(|r| r["targetRef"].as_str())
        .and_then(|t| t.rsplit_once('/'))
        .map(|(_, name)| name.to_owned());
    let entity_page = format!("/catalog/default/component/{component}");
    let by_name = "by-name 2.8 ms, then relations";
    let mut pages = vec![
        Page {
            label: "home",
            path: "/".into(),
            backstage: "",
        },
        Page {
            label: "catalog list",
            path: "/catalog".into(),
            backstage: "by-query 47 ms + facets 3.4 ms",
        },
        Page {
            label: "catalog, 2 types of a kind",
            path: "/catalog?kind=component&type=service&type=website".into(),
            backstage: "filter 424 ms",
        },
        Page {
            label: "catalog, text search",
            path: "/catalog?q=component-0042".into(),
            backstage: "",
        },
        Page {
            label: "entity: Overview",
            path: entity_page.clone(),
            backstage: by_name,
        },
        Page {
            label: "entity: Dependencies",
            path: format!("{entity_page}/dependencies"),
            backstage: by_name,
        },
        Page {
            label: "entity: API",
            path: format!("{entity_page}/api"),
            backstage: by_name,
        },
        Page {
            label: "entity: Guardrails",
            path: format!("{entity_page}/guardrails"),
            backstage: "",
        },
        Page {
            label: "group (owner)",
            path: format!("/catalog/default/group/{owner}"),
            backstage: by_name,
        },
        Page {
            label: "system",
            path: format!("/catalog/default/system/{system}"),
            backstage: by_name,
        },
        Page {
            label: "dependency graph (system, depth 2)",
            path: format!("/graph?root=system:default/{system}&depth=2"),
            backstage: "",
        },
        Page {
            label: "search page",
            path: format!("/search?q={component}"),
            backstage: "",
        },
        Page {
            label: "type-ahead",
            path: "/search/suggest?q=bench-comp".into(),
            backstage: "",
        },
        Page {
            label: "Create",
            path: "/create".into(),
            backstage: "",
        },
        Page {
            label: "Create form",
            path: "/create/api-service".into(),
            backstage: "",
        },
    ];
    if let Some(api) = api {
        pages.insert(
            8,
            Page {
                label: "API: API tab",
                path: format!("/catalog/default/api/{api}/api"),
                backstage: by_name,
            },
        );
    }
    pages
}

fn main() {
    let components: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
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
    run(&binary, &work, components);
}

fn run(binary: &Path, work: &Path, components: usize) {
    let dir = work.join(format!("portal-{components}"));
    let _ = std::fs::remove_dir_all(&dir);
    let summary = pave_demo::write_bench_catalog(&dir, components).unwrap();
    let expected = summary.entities + 2;
    let db = format!("sqlite://{}", dir.join("pave.db").display());
    let source = dir.join("catalog-info.yaml");
    let args = [
        "--source",
        source.to_str().unwrap(),
        "--refresh-interval",
        "0",
    ];
    let server = Server::start(binary, &args, &db, true);
    server.wait_for_within(
        "/api/catalog/entities/by-query?limit=0",
        Duration::from_secs(600),
        |r| r.status == 200 && r.json()["totalItems"].as_u64() == Some(expected as u64),
    );
    // The search index is built after ingestion, in the background.
    let probe = format!("/api/search?term=bench-component-{:06}", components / 2);
    server.wait_for_within(&probe, Duration::from_secs(300), |r| {
        r.status == 200
            && r.json()["results"]
                .as_array()
                .is_some_and(|a| !a.is_empty())
    });
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "pave portal benchmark: {} on {cores} cores, {expected} entities; {RUNS} requests a page over HTTP on loopback (one connection each)",
        binary.display()
    );
    println!(
        "| page | p50 | p99 | HTML | under {TARGET_MS} ms | Backstage's first API calls for it |"
    );
    println!("|---|--:|--:|--:|---|---|");
    let mut worst: f64 = 0.0;
    for page in pages(&server, components) {
        let t = time(&server, &page.path);
        worst = worst.max(t.p99_ms);
        println!(
            "| {} (`{}`) | {:.2} ms | {:.2} ms | {} KB | {} | {} |",
            page.label,
            page.path,
            t.p50_ms,
            t.p99_ms,
            t.bytes / 1024,
            if t.p99_ms < TARGET_MS {
                "yes"
            } else {
                "**no**"
            },
            page.backstage
        );
    }
    println!("slowest page p99: {worst:.2} ms (target < {TARGET_MS} ms)");
}
