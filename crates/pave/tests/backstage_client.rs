//! The real `@backstage/catalog-client` (pinned in `backstage-client/package.json`) against
//! `pave serve` on the demo organisation: every `CatalogApi` method, checked on data
//! (`backstage-client/client.mjs`). Needs Node.js and npm; the packages are installed with
//! `npm ci` from the lock file when missing (`.ci/run` does it up front).

#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Server, pave, stderr, stdout};
use pave_testkit::{git_repo, http, serve_files};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/backstage-client")
}

/// Installs the pinned client from the lock file unless it is there already.
fn install_client(dir: &Path) {
    if dir
        .join("node_modules/@backstage/catalog-client/package.json")
        .is_file()
    {
        return;
    }
    let output = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "npm ci failed:\n{}{}",
        stdout(&output),
        stderr(&output)
    );
}

fn component(name: &str) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: service\n  lifecycle: production\n  owner: team-http\n"
    )
}

#[test]
fn the_backstage_catalog_client_works_unchanged() {
    if !pave_testkit::have("node") || !pave_testkit::have("npm") || !pave_testkit::have("git") {
        return;
    }
    let client_dir = fixture_dir();
    install_client(&client_dir);

    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("pave.db").display());
    let demo = pave()
        .args(["demo", "--no-serve", "--dir"])
        .arg(dir.path().join("demo"))
        .env("PAVE_DATABASE_URL", &db)
        .output()
        .unwrap();
    assert!(demo.status.success(), "{}", stderr(&demo));

    // What the `url` locations read: two YAML files served over HTTP by this test.
    let http_base = serve_files(vec![
        (
            "/catalog/a.yaml".into(),
            format!(
                "{}---\n{}",
                component("http-served"),
                component("http-common")
            ),
        ),
        (
            "/catalog/b.yaml".into(),
            format!(
                "{}---\n{}",
                component("http-moved"),
                component("http-common")
            ),
        ),
    ]);
    let config = dir.path().join("pave.yaml");
    std::fs::write(
        &config,
        format!(
            "catalog:\n  reading:\n    allow:\n      - host: {}\n    fileRoots: ['{}']\n",
            http_base.trim_start_matches("http://"),
            dir.path().display()
        ),
    )
    .unwrap();
    // Repositories for analyzeLocation: one with catalog files, one without.
    let with_catalog = git_repo(
        &dir.path().join("repo-with-catalog"),
        &[
            ("catalog-info.yaml", &component("analyzed-svc")),
            (
                "api/catalog-info.yaml",
                "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: analyzed-api\nspec:\n  type: openapi\n  lifecycle: production\n  owner: team\n  definition: x\n",
            ),
        ],
    );
    let without = git_repo(&dir.path().join("bare-repo"), &[("README.md", "# bare\n")]);

    let server = Server::start(
        &[
            "--config",
            config.to_str().unwrap(),
            "--refresh-interval",
            "0",
        ],
        &db,
    );
    server.wait_for("/readyz", |r| r.status == 200);
    let base = format!("http://{}", server.addr);

    // Hostile and unusual requests the client never sends still get Backstage's error shape.
    let r = http(server.addr, "PATCH", "/api/catalog/entities", None);
    assert_eq!(r.status, 405, "{}", r.body);
    assert_eq!(r.json()["error"]["name"], "MethodNotAllowedError");
    assert_eq!(
        r.json()["request"],
        serde_json::json!({"method": "PATCH", "url": "/api/catalog/entities"})
    );
    let r = http(server.addr, "GET", "/api/catalog/locations/by-query", None);
    assert_eq!(
        r.status, 405,
        "by-query is never read as a location id: {}",
        r.body
    );
    let r = server.get("/api/catalog/no-such-route?x=1");
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["request"]["url"], "/api/catalog/no-such-route?x=1");

    // A `url` location on a host the configuration does not allow is refused before it is
    // registered, naming the setting; a `file://` repository URL keeps type `url`.
    let r = http(
        server.addr,
        "POST",
        "/api/catalog/locations",
        Some(r#"{"type": "url", "target": "https://example.invalid/catalog-info.yaml"}"#),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not allowed by catalog.reading.allow"),
        "{}",
        r.body
    );
    let body = serde_json::json!({"type": "url", "target": with_catalog}).to_string();
    let r = http(
        server.addr,
        "POST",
        "/api/catalog/locations?dryRun=true",
        Some(&body),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["location"]["type"], "url");
    assert_eq!(r.json()["location"]["id"], format!("url:{with_catalog}"));

    let fixtures = serde_json::json!({
        "httpBase": http_base,
        "fileA": "catalog/a.yaml",
        "fileB": "catalog/b.yaml",
        "repoWithCatalog": with_catalog,
        "repoWithout": without,
    });
    let output = Command::new("node")
        .arg("client.mjs")
        .arg(&base)
        .arg(fixtures.to_string())
        .current_dir(&client_dir)
        .output()
        .unwrap();
    let out = stdout(&output);
    eprintln!("{out}");
    assert!(
        output.status.success(),
        "the Backstage client failed against pave:\n{out}\n{}",
        stderr(&output)
    );
    // Every CatalogApi method ran (the script exits 1 on any failure, and this guards
    // against a script that stops early).
    for method in [
        "getEntities",
        "getEntitiesByRefs",
        "queryEntities",
        "queryEntities (query predicate)",
        "getEntityAncestors",
        "getEntityByRef",
        "removeEntityByUid",
        "refreshEntity",
        "getEntityFacets",
        "getLocations",
        "queryLocations",
        "streamLocations",
        "getLocationById",
        "getLocationByRef",
        "addLocation",
        "removeLocationById",
        "updateLocation",
        "getLocationByEntity",
        "validateEntity",
        "analyzeLocation",
        "streamEntities",
    ] {
        assert!(
            out.lines().any(|l| l.starts_with(&format!("ok {method}:"))),
            "{method} did not pass:\n{out}"
        );
    }
}
