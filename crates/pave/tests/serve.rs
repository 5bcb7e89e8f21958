//! `pave serve`: the Backstage-compatible API, health, metrics and OpenAPI, over real HTTP.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Server, write_catalog};
use pave_testkit::http;
use serde_json::{Value, json};

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| e["metadata"]["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn catalog_api_matches_backstage_routes() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("pave.db").display());
    let root = write_catalog(dir.path());
    let server = Server::start(&["--source", root.to_str().unwrap()], &db);
    let all = server.wait_for("/api/catalog/entities", |r| {
        r.status == 200 && r.json().as_array().is_some_and(|a| a.len() == 5)
    });
    assert_eq!(all.json().as_array().unwrap().len(), 5, "{}", all.body);
    assert!(
        all.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(server.get("/readyz").status, 200);
    assert_eq!(server.get("/healthz").body, "ok");
    // The server re-executed itself with mimalloc's lean settings (src/allocator.rs).
    if let Ok(environ) = std::fs::read(format!("/proc/{}/environ", server.child.id())) {
        let environ = String::from_utf8_lossy(&environ);
        assert!(
            environ.split('\0').any(|v| v == "MIMALLOC_ALLOW_THP=0"),
            "{environ}"
        );
    }

    // Filters: comma = AND, repeated = OR, case-insensitive, relations.
    let r = server.get("/api/catalog/entities?filter=kind=Component,spec.type=SERVICE");
    assert_eq!(names(&r.json()), vec!["billing", "orders"]);
    let r = server.get("/api/catalog/entities?filter=kind=api&filter=kind=group");
    assert_eq!(names(&r.json()), vec!["orders-api", "team-a"]);
    let r =
        server.get("/api/catalog/entities?filter=relations.dependencyof=component:default/orders");
    assert_eq!(names(&r.json()), vec!["billing"]);
    let r = server.get("/api/catalog/entities?filter=kind=component&fields=kind,metadata.name");
    assert_eq!(
        r.json()[0],
        json!({"kind": "Component", "metadata": {"name": "billing"}})
    );

    // Offset/limit paging with a Link header to follow.
    let r = server.get("/api/catalog/entities?limit=4&order=asc:metadata.name");
    assert_eq!(r.json().as_array().unwrap().len(), 4);
    let link = r.header("link").unwrap().to_owned();
    assert!(link.ends_with("; rel=\"next\""), "{link}");
    let next = link.trim_start_matches('<').split('>').next().unwrap();
    let r2 = server.get(next);
    assert_eq!(r2.json().as_array().unwrap().len(), 1);
    assert!(r2.header("link").is_none());
    assert_eq!(server.get("/api/catalog/entities?limit=0").status, 400);
    // Plain offset paging agrees with the ordered list.
    let ordered = names(
        &server
            .get("/api/catalog/entities?order=asc:metadata.name")
            .json(),
    );
    let r = server.get("/api/catalog/entities?offset=2&limit=2&order=asc:metadata.name");
    assert_eq!(names(&r.json()), ordered[2..4].to_vec());

    // by-query with cursors.
    let r = server.get("/api/catalog/entities/by-query?limit=4&orderField=metadata.name,asc&filter=kind=component&filter=kind=api&filter=kind=group");
    let page = r.json();
    assert_eq!(page["totalItems"], 4);
    assert_eq!(
        names(&page["items"]),
        vec!["billing", "orders", "orders-api", "team-a"]
    );
    let r = server.get("/api/catalog/entities/by-query?limit=2&orderField=metadata.name,desc&fullTextFilterTerm=ORD");
    let page = r.json();
    assert_eq!(page["totalItems"], 2);
    assert_eq!(names(&page["items"]), vec!["orders-api", "orders"]);
    let r = server.get("/api/catalog/entities/by-query?limit=1&filter=kind=component");
    let cursor = r.json()["pageInfo"]["nextCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = server.get(&format!(
        "/api/catalog/entities/by-query?cursor={}",
        urlencode(&cursor)
    ));
    assert_eq!(names(&r.json()["items"]), vec!["orders"]);
    assert!(r.json()["pageInfo"]["prevCursor"].is_string());

    // Lookups.
    let orders = server
        .get("/api/catalog/entities/by-name/Component/default/ORDERS")
        .json();
    assert_eq!(orders["metadata"]["name"], "orders");
    let rels: Vec<&str> = orders["relations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert_eq!(rels, vec!["dependsOn", "ownedBy", "providesApi"]);
    let uid = orders["metadata"]["uid"].as_str().unwrap();
    assert_eq!(
        server
            .get(&format!("/api/catalog/entities/by-uid/{uid}"))
            .json()["metadata"]["name"],
        "orders"
    );
    let missing = server.get("/api/catalog/entities/by-name/component/default/nope");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["error"]["name"], "NotFoundError");
    let r = http(
        server.addr,
        "POST",
        "/api/catalog/entities/by-refs?fields=metadata.name",
        Some(r#"{"entityRefs": ["component:default/orders", "component:default/nope"]}"#),
    );
    assert_eq!(
        r.json(),
        json!({"items": [{"metadata": {"name": "orders"}}, null]})
    );

    // Facets.
    let facets = server
        .get("/api/catalog/entity-facets?facet=kind&facet=spec.type&filter=kind=component")
        .json();
    assert_eq!(
        facets,
        json!({"facets": {"kind": [{"value": "Component", "count": 2}], "spec.type": [{"value": "service", "count": 2}]}})
    );
    assert_eq!(server.get("/api/catalog/entity-facets").status, 400);

    // Validation.
    let valid = json!({"location": "url:https://example.com/x.yaml", "entity": {"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": "x"}, "spec": {"type": "service", "lifecycle": "production", "owner": "me"}}});
    assert_eq!(
        http(
            server.addr,
            "POST",
            "/api/catalog/validate-entity",
            Some(&valid.to_string())
        )
        .status,
        200
    );
    let mut invalid = valid.clone();
    invalid["entity"]["spec"]["owner"] = json!(42);
    let r = http(
        server.addr,
        "POST",
        "/api/catalog/validate-entity",
        Some(&invalid.to_string()),
    );
    assert_eq!(r.status, 400);
    assert!(
        r.json()["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("spec.owner")
    );

    // Request bodies over the limit are refused.
    let huge = format!(r#"{{"entityRefs": ["{}"]}}"#, "x".repeat(2 * 1024 * 1024));
    assert_eq!(
        http(
            server.addr,
            "POST",
            "/api/catalog/entities/by-refs",
            Some(&huge)
        )
        .status,
        413
    );

    // Health, metrics, OpenAPI.
    let metrics = server.get("/metrics").body;
    assert!(metrics.contains("pave_http_requests_total{"), "{metrics}");
    assert!(
        metrics.contains("pave_catalog_entities{kind=\"Component\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("pave_ingest_duration_seconds_bucket"),
        "{metrics}"
    );
    assert!(
        metrics.contains("pave_http_request_duration_seconds_bucket{"),
        "request latency histogram: {metrics}"
    );
    let openapi = server.get("/api/openapi.json").json();
    assert_eq!(openapi["openapi"], "3.1.0");
    assert!(openapi["paths"]["/api/catalog/entities/by-query"]["get"].is_object());

    let status = server.terminate();
    assert!(status.success(), "graceful shutdown on SIGTERM: {status:?}");
}

#[test]
fn locations_can_be_added_refreshed_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("pave.db").display());
    let root = write_catalog(dir.path());
    // The API registers paths only under the configured roots.
    let config = common::file_roots_config(dir.path());
    let server = Server::start(&["--config", config.to_str().unwrap()], &db);
    server.wait_for("/readyz", |r| r.status == 200);
    assert_eq!(server.get("/api/catalog/locations").json(), json!([]));

    let body = json!({"type": "file", "target": root.to_str().unwrap()}).to_string();
    let r = http(
        server.addr,
        "POST",
        "/api/catalog/locations?dryRun=true",
        Some(&body),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["entities"].as_array().unwrap().len(), 5);
    assert_eq!(
        server
            .get("/api/catalog/entities")
            .json()
            .as_array()
            .unwrap()
            .len(),
        0,
        "dry run stores nothing"
    );

    let r = http(server.addr, "POST", "/api/catalog/locations", Some(&body));
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["location"]["id"].as_str().unwrap().to_owned();
    assert_eq!(r.json()["entities"].as_array().unwrap().len(), 5);
    assert_eq!(
        http(server.addr, "POST", "/api/catalog/locations", Some(&body)).status,
        409
    );
    let listed = server.get("/api/catalog/locations").json();
    assert_eq!(listed[0]["data"]["id"], id.as_str());
    assert_eq!(
        server.get(&format!("/api/catalog/locations/{id}")).json()["status"]["added"],
        5
    );

    // Refresh picks up a change to the file an entity came from.
    let svc = root.join("svc/catalog-info.yaml");
    let text = std::fs::read_to_string(&svc)
        .unwrap()
        .replace("name: billing", "name: invoicing");
    std::fs::write(&svc, text).unwrap();
    let r = http(
        server.addr,
        "POST",
        "/api/catalog/refresh",
        Some(r#"{"entityRef": "component:default/orders"}"#),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        server
            .get("/api/catalog/entities/by-name/component/default/invoicing")
            .status,
        200
    );
    assert_eq!(
        server
            .get("/api/catalog/entities/by-name/component/default/billing")
            .status,
        404
    );

    let r = http(
        server.addr,
        "POST",
        "/api/catalog/locations",
        Some(r#"{"type": "file", "target": "/no/such/dir"}"#),
    );
    assert_eq!(r.status, 400);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/no/such/dir")
    );

    assert_eq!(
        http(
            server.addr,
            "DELETE",
            &format!("/api/catalog/locations/{id}"),
            None
        )
        .status,
        204
    );
    assert_eq!(
        server
            .get("/api/catalog/entities")
            .json()
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        http(
            server.addr,
            "DELETE",
            &format!("/api/catalog/locations/{id}"),
            None
        )
        .status,
        404
    );
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn json_logs_are_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("pave.db").display());
    let root = write_catalog(dir.path());
    let server = Server::start(
        &["--log-format", "json", "--source", root.to_str().unwrap()],
        &db,
    );
    server.wait_for("/api/catalog/entities", |r| {
        r.json().as_array().is_some_and(|a| a.len() == 5)
    });
    let lines = server.log_lines();
    assert!(lines.len() >= 3, "{lines:?}");
    for line in &lines {
        let entry: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(
            entry["level"].is_string() && entry["fields"]["message"].is_string(),
            "{line}"
        );
    }
    assert!(
        lines.iter().any(|l| l.contains("ingestion finished")),
        "{lines:?}"
    );
}

/// The entities `pave serve` answers with, by name, with their `spec.lifecycle`.
fn lifecycles(server: &pave_testkit::Server) -> Vec<(String, String)> {
    server
        .get("/api/catalog/entities")
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["metadata"]["name"].as_str().unwrap().to_owned(),
                e["spec"]["lifecycle"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// Changes `write_catalog`'s folder: `orders` becomes experimental, `billing` is removed
/// and a new `shipping` component appears in a new sub-folder.
fn change_catalog(root: &std::path::Path) {
    let orders = common::component("orders", "team-a", "  providesApis: [orders-api]\n")
        .replace("lifecycle: production", "lifecycle: experimental");
    std::fs::write(root.join("svc/catalog-info.yaml"), orders).unwrap();
    std::fs::create_dir_all(root.join("shipping")).unwrap();
    std::fs::write(
        root.join("shipping/catalog-info.yaml"),
        common::component("shipping", "team-a", ""),
    )
    .unwrap();
}

fn pair(name: &str, lifecycle: &str) -> (String, String) {
    (name.to_owned(), lifecycle.to_owned())
}

#[test]
fn refresh_interval_rereads_sources_on_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("pave.db").display());
    let root = write_catalog(dir.path());
    let server = Server::start(
        &[
            "--source",
            root.to_str().unwrap(),
            "--refresh-interval",
            "300ms",
        ],
        &db,
    );
    let before = [
        pair("billing", "production"),
        pair("orders", "production"),
        pair("orders-api", "production"),
        pair("team-a", ""),
    ];
    server.wait_for("/api/catalog/entities", |r| {
        r.status == 200 && r.json().as_array().is_some_and(|a| a.len() == 5)
    });
    let initial = lifecycles(&server);
    assert!(
        before.iter().all(|entity| initial.contains(entity)),
        "{initial:?}"
    );

    change_catalog(&root);
    // Nobody asks for a refresh: only the 300 ms timer can bring the change in.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let mut seen = lifecycles(&server);
    while !(seen.contains(&pair("shipping", "production"))
        && seen.contains(&pair("orders", "experimental"))
        && !seen.iter().any(|(name, _)| name == "billing"))
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(100));
        seen = lifecycles(&server);
    }
    assert!(
        seen.contains(&pair("shipping", "production")),
        "the added entity did not appear within 15 s: {seen:?}"
    );
    assert!(
        seen.contains(&pair("orders", "experimental")),
        "the changed entity was not updated within 15 s: {seen:?}"
    );
    assert!(
        !seen.iter().any(|(name, _)| name == "billing"),
        "the removed entity is still served after 15 s: {seen:?}"
    );
    assert_eq!(
        server
            .get("/api/catalog/entities/by-name/component/default/billing")
            .status,
        404
    );
    assert_eq!(
        server
            .get("/api/catalog/entities/by-name/component/default/shipping")
            .status,
        200
    );
}

#[test]
fn refresh_interval_zero_never_rereads() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("pave.db").display());
    let root = write_catalog(dir.path());
    let server = Server::start(
        &[
            "--source",
            root.to_str().unwrap(),
            "--refresh-interval",
            "0",
        ],
        &db,
    );
    server.wait_for("/api/catalog/entities", |r| {
        r.status == 200 && r.json().as_array().is_some_and(|a| a.len() == 5)
    });
    change_catalog(&root);
    // Long enough for several 300 ms refreshes in the test above.
    std::thread::sleep(std::time::Duration::from_secs(2));
    let seen = lifecycles(&server);
    assert!(seen.contains(&pair("billing", "production")), "{seen:?}");
    assert!(seen.contains(&pair("orders", "production")), "{seen:?}");
    assert!(!seen.iter().any(|(name, _)| name == "shipping"), "{seen:?}");
}
