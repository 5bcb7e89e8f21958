//! Bounded work per request (issue 13): repeated and oversized query parameters are refused
//! before any work with a 400 that names the limit; heavy requests run off the async
//! threads behind their own concurrency limit, so by-name reads keep their latency and a
//! full queue is answered 503 with `Retry-After`; admission reviews are bounded in what
//! they take and what they answer; a small write updates the index instead of rebuilding it.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use pave_testkit::{Response, Server, http};
use serde_json::{Value, json};

use crate::common;

/// A catalog of `components` components owned by 20 groups, in one file.
fn write_catalog(dir: &Path, components: usize) -> PathBuf {
    let root = dir.join("catalog");
    std::fs::create_dir_all(&root).unwrap();
    let mut text = String::new();
    for g in 0..20 {
        text.push_str(&format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-{g:02}\nspec:\n  type: team\n  children: []\n---\n"
        ));
    }
    for i in 0..components {
        text.push_str(&format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: svc-{i:05}\n  tags: [t{}]\nspec:\n  type: service\n  lifecycle: production\n  owner: team-{:02}\n---\n",
            i % 7,
            i % 20
        ));
    }
    std::fs::write(root.join("catalog-info.yaml"), text).unwrap();
    root
}

/// A server on a catalog of `components` components, loaded.
fn start(dir: &Path, components: usize, args: &[&str]) -> Server {
    let root = write_catalog(dir, components);
    let db = format!("sqlite://{}", dir.join("pave.db").display());
    let mut all = vec![
        "--source",
        root.to_str().unwrap(),
        "--refresh-interval",
        "0",
    ];
    all.extend_from_slice(args);
    let server = common::Server::start(&all, &db);
    // The groups, the components and the Location generated for the source.
    let expected = components as u64 + 21;
    let r = server.wait_for_within(
        "/api/catalog/entities/by-query?limit=0",
        Duration::from_secs(120),
        |r| r.status == 200 && r.json()["totalItems"].as_u64() == Some(expected),
    );
    assert_eq!(
        r.json()["totalItems"].as_u64(),
        Some(expected),
        "{}",
        r.body
    );
    server
}

fn message(r: &Response) -> String {
    r.json()["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn post(server: &Server, path: &str, body: &Value) -> Response {
    http(server.addr, "POST", path, Some(&body.to_string()))
}

#[test]
fn repeated_and_oversized_parameters_are_refused_naming_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), 50, &[]);
    let distinct: Vec<String> = (0..4000).map(|i| format!("facet=f{i}")).collect();
    // (request, status, message) — each refused before any work, so quickly.
    let cases: Vec<(String, u16, &str)> = vec![
        (
            format!("/api/catalog/entity-facets?{}", distinct.join("&")),
            400,
            "at most 20 facets per request; got 4,000",
        ),
        (
            // 40 KB of one facet, repeated: the issue's request.
            format!(
                "/api/catalog/entity-facets?{}",
                vec!["facet=kind"; 3600].join("&")
            ),
            400,
            "at most 1,000 query parameters per request; got 3,600",
        ),
        (
            format!(
                "/api/catalog/entities?filter={}",
                vec!["kind=component"; 1001].join(",")
            ),
            400,
            "at most 1,000 filter conditions per request; got 1,001",
        ),
        (
            format!(
                "/api/catalog/entities/by-query?fields={}",
                vec!["kind"; 101].join(",")
            ),
            400,
            "at most 100 fields per request; got 101",
        ),
        (
            format!(
                "/api/catalog/entities/by-query?{}",
                (0..11)
                    .map(|i| format!("orderField=f{i},asc"))
                    .collect::<Vec<_>>()
                    .join("&")
            ),
            400,
            "at most 10 order fields per request; got 11",
        ),
        (
            format!(
                "/api/catalog/entities/by-query?fullTextFilterTerm={}",
                "x".repeat(5000)
            ),
            400,
            "at most 1,000 characters of full-text search per request; got 5,000",
        ),
    ];
    for (path, status, want) in cases {
        let started = Instant::now();
        let r = server.get(&path);
        assert_eq!(r.status, status, "{}…: {}", &path[..60], r.body);
        assert_eq!(message(&r), want);
        assert_eq!(r.json()["error"]["name"], "InputError");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{want}: {:?}",
            started.elapsed()
        );
    }
    // The same limits on bodies.
    let facets: Vec<String> = (0..4000).map(|i| format!("f{i}")).collect();
    let r = post(
        &server,
        "/api/catalog/entity-facets",
        &json!({"facets": facets}),
    );
    assert_eq!(r.status, 400);
    assert_eq!(message(&r), "at most 20 facets per request; got 4,000");
    let r = post(
        &server,
        "/api/catalog/entities/by-query",
        &json!({"query": {"metadata.name": {"$in": vec!["x"; 20_000]}}}),
    );
    assert_eq!(r.status, 400);
    assert!(message(&r).contains("too large"), "{}", r.body);
    let r = server.get(&format!("/catalog?{}", vec!["kind=api"; 1001].join("&")));
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("at most 1,000 query parameters"),
        "{}",
        r.body
    );

    // Repeats cost nothing and change nothing: one facet, counted once.
    let r = server.get(
        "/api/catalog/entity-facets?facet=kind&facet=kind&filter=kind=group&filter=kind=group",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json(),
        json!({"facets": {"kind": [{"value": "Group", "count": 20}]}})
    );
    // Up to the limits, Backstage's answers.
    let twenty: Vec<String> = (0..19)
        .map(|i| format!("facet=f{i}"))
        .chain(["facet=spec.owner".into()])
        .collect();
    let r = server.get(&format!("/api/catalog/entity-facets?{}", twenty.join("&")));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json()["facets"]["spec.owner"].as_array().unwrap().len(),
        20
    );
    assert_eq!(server.get("/healthz").status, 200);
}

/// A predicate that scans every name once per `$hasPrefix`: heavy, but within the limits.
fn heavy_predicate() -> String {
    let prefixes: Vec<Value> = (0..4000)
        .map(|i| json!({"metadata.name": {"$hasPrefix": format!("svc-{i:05}x")}}))
        .collect();
    json!({"query": {"$any": prefixes}, "limit": 10}).to_string()
}

/// Latencies of `n` by-name reads one after another, sorted (ms).
fn by_name_latencies(server: &Server, n: usize) -> Vec<f64> {
    let mut times: Vec<f64> = (0..n)
        .map(|i| {
            let started = Instant::now();
            let r = server.get(&format!(
                "/api/catalog/entities/by-name/component/default/svc-{:05}",
                i * 7 % 1000
            ));
            assert_eq!(r.status, 200, "{}", r.body);
            std::thread::sleep(Duration::from_millis(5));
            started.elapsed().as_secs_f64() * 1000.0 - 5.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times
}

#[test]
fn cheap_reads_keep_their_latency_while_heavy_requests_run() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), 1000, &[]);
    let body = heavy_predicate();
    // How long one heavy request takes alone: the bar a by-name read must stay far under.
    let started = Instant::now();
    let r = http(
        server.addr,
        "POST",
        "/api/catalog/entities/by-query",
        Some(&body),
    );
    let heavy_ms = started.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(r.status, 200, "{}", r.body);
    let idle = by_name_latencies(&server, 40);

    let stop = Arc::new(AtomicBool::new(false));
    let loaders: Vec<_> = (0..4)
        .map(|_| {
            let (stop, body, addr) = (Arc::clone(&stop), body.clone(), server.addr);
            std::thread::spawn(move || {
                let mut statuses = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    statuses.push(
                        http(addr, "POST", "/api/catalog/entities/by-query", Some(&body)).status,
                    );
                }
                statuses
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let loaded = by_name_latencies(&server, 40);
    stop.store(true, Ordering::Relaxed);
    let statuses: Vec<u16> = loaders
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert!(
        !statuses.is_empty() && statuses.iter().all(|s| *s == 200),
        "{statuses:?}"
    );

    let p90 = |t: &[f64]| t[t.len() * 9 / 10];
    // Relative, with generous margins: a by-name read under load must not wait for a heavy
    // request (on the async threads it waited for up to a whole one), and stays within a
    // large factor of its idle latency.
    eprintln!(
        "heavy request alone {heavy_ms:.0} ms; by-name p90 idle {:.1} ms, under load {:.1} ms",
        p90(&idle),
        p90(&loaded)
    );
    assert!(
        heavy_ms > 100.0,
        "the heavy request must be heavy for this test to mean anything: {heavy_ms:.0} ms"
    );
    assert!(
        p90(&loaded) < heavy_ms / 3.0,
        "by-name p90 {:.1} ms under load vs a heavy request of {heavy_ms:.0} ms",
        p90(&loaded)
    );
    assert!(
        p90(&loaded) < (p90(&idle) * 50.0).max(100.0),
        "by-name p90 {:.1} ms under load vs {:.1} ms idle",
        p90(&loaded),
        p90(&idle)
    );
}

#[test]
fn a_full_heavy_queue_is_answered_503_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(
        dir.path(),
        1000,
        &[
            "--max-heavy-requests",
            "1",
            "--heavy-queue",
            "1",
            "--heavy-wait",
            "30s",
        ],
    );
    let body = heavy_predicate();
    let clients: Vec<_> = (0..6)
        .map(|_| {
            let (body, addr) = (body.clone(), server.addr);
            std::thread::spawn(move || {
                http(addr, "POST", "/api/catalog/entities/by-query", Some(&body))
            })
        })
        .collect();
    let answers: Vec<Response> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    let busy: Vec<&Response> = answers.iter().filter(|r| r.status == 503).collect();
    let served = answers.iter().filter(|r| r.status == 200).count();
    // One runs, one waits, the rest are turned away at once (threads may start late, so
    // at least one is served and at least one refused).
    assert!(
        served >= 1 && !busy.is_empty(),
        "{:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert_eq!(served + busy.len(), 6);
    for r in busy {
        assert_eq!(r.header("retry-after"), Some("2"), "{r:?}");
        assert_eq!(r.json()["error"]["name"], "ServiceUnavailableError");
        assert!(message(r).contains("busy"), "{}", r.body);
    }
    // Cheap reads were never queued, and the queue drains.
    assert_eq!(
        server
            .get("/api/catalog/entities/by-name/group/default/team-01")
            .status,
        200
    );
    let r = http(
        server.addr,
        "POST",
        "/api/catalog/entities/by-query",
        Some(&body),
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

/// An AdmissionReview of one Pod.
fn review(pod: &Value) -> String {
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {"uid": "7f0e1f4c-0000-4000-8000-000000000001", "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "operation": "CREATE", "namespace": "shop", "object": pod}})
    .to_string()
}

#[test]
fn admission_reviews_are_bounded_in_what_they_take_and_answer() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), 10, &[]);
    let path = "/api/admission/validate";
    // Over the body limit: refused before it is read.
    let huge = format!(
        r#"{{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","pad":"{}"}}"#,
        "x".repeat(9 * 1024 * 1024)
    );
    let r = http(server.addr, "POST", path, Some(&huge));
    assert_eq!(r.status, 413, "{}", &r.body[..r.body.len().min(200)]);
    // Within the body limit but larger than any object the API server stores: denied
    // unchecked, with a message that says why.
    let fat = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "fat", "annotations": {"a": "x".repeat(4 * 1024 * 1024)}},
        "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}});
    let r = http(server.addr, "POST", path, Some(&review(&fat)));
    assert_eq!(r.status, 200, "{}", r.body);
    let answer = r.json();
    assert_eq!(answer["response"]["allowed"], false);
    assert_eq!(answer["response"]["status"]["code"], 413);
    assert!(
        answer["response"]["status"]["message"]
            .as_str()
            .unwrap()
            .contains("3 MiB")
    );
    assert!(r.body.len() < 1024, "{} bytes", r.body.len());
    // A large, valid review (1,000 bad containers, 2.5 MB of annotations): a small answer
    // naming a few denials and counting the rest, never an echo of the object.
    let containers = |n: usize| -> Vec<Value> {
        (0..n)
            .map(|i| json!({"name": format!("c{i:05}"), "image": "nginx", "securityContext": {"privileged": true}}))
            .collect()
    };
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "many", "annotations": {"pad": "p".repeat(2_500_000)}},
        "spec": {"containers": containers(1000)}});
    let body = review(&pod);
    assert!(body.len() > 2_500_000);
    let r = http(server.addr, "POST", path, Some(&body));
    assert_eq!(r.status, 200, "{}", &r.body[..r.body.len().min(300)]);
    assert!(
        r.body.len() < 8 * 1024,
        "{} bytes answer to a {} byte review",
        r.body.len(),
        body.len()
    );
    let answer = r.json();
    let response = answer["response"].as_object().unwrap();
    assert_eq!(response["uid"], "7f0e1f4c-0000-4000-8000-000000000001");
    assert_eq!(response["allowed"], false);
    let message = response["status"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("pave denied Pod/shop/many: "),
        "{message}"
    );
    assert!(
        message.contains("more (run pave check for all)"),
        "{message}"
    );
    assert!(
        !r.body.contains("c00999") && !r.body.contains("ppp"),
        "the object is not echoed"
    );
    // More containers than are reviewed: the failure policy (Fail by default) answers, at once.
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "wide"}, "spec": {"containers": containers(20_000)}});
    let started = Instant::now();
    let r = http(server.addr, "POST", path, Some(&review(&pod)));
    assert!(started.elapsed() < Duration::from_secs(20));
    let answer = r.json();
    assert_eq!(answer["response"]["allowed"], false);
    assert_eq!(
        answer["response"]["status"]["message"],
        "pave could not evaluate the policy for Pod/shop/wide (failure policy Fail): the object has 20000 containers; pave reviews at most 1000"
    );
    assert_eq!(server.get("/healthz").status, 200);
}

#[test]
fn a_small_write_updates_the_index_and_reads_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), 300, &[]);
    let file = dir.path().join("catalog/catalog-info.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replacen("name: svc-00007\n", "name: svc-00007\n  title: Seven\n", 1)
            .replacen("owner: team-07\n", "owner: team-19\n", 1),
    )
    .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (stop, addr) = (Arc::clone(&stop), server.addr);
        std::thread::spawn(move || {
            let mut failures = 0;
            while !stop.load(Ordering::Relaxed) {
                if http(
                    addr,
                    "GET",
                    "/api/catalog/entities/by-name/component/default/svc-00100",
                    None,
                )
                .status
                    != 200
                {
                    failures += 1;
                }
            }
            failures
        })
    };
    let r = post(
        &server,
        "/api/catalog/refresh",
        &json!({"entityRef": "component:default/svc-00007"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    stop.store(true, Ordering::Relaxed);
    assert_eq!(
        reader.join().unwrap(),
        0,
        "every read during the write was answered"
    );
    let seven = server
        .get("/api/catalog/entities/by-name/component/default/svc-00007")
        .json();
    assert_eq!(seven["metadata"]["title"], "Seven");
    let owned_by = |group: &str| -> Vec<String> {
        server
            .get(&format!(
                "/api/catalog/entities/by-name/group/default/{group}"
            ))
            .json()["relations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["type"] == "ownerOf")
            .map(|r| r["targetRef"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(owned_by("team-19").contains(&"component:default/svc-00007".to_owned()));
    assert!(!owned_by("team-07").contains(&"component:default/svc-00007".to_owned()));
    assert!(
        server
            .log_lines()
            .iter()
            .any(|l| l.contains("catalog index updated")),
        "the write updated the index instead of rebuilding it"
    );
}
