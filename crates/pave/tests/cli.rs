//! The `pave` binary: commands, output formats, exit codes.

#![allow(clippy::unwrap_used)]

mod common;

use common::{run, stderr, stdout, write_catalog};

fn sqlite(dir: &std::path::Path) -> String {
    format!("sqlite://{}", dir.join("pave.db").display())
}

#[test]
fn help_lists_every_command_and_bad_usage_exits_2() {
    let out = common::pave().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = stdout(&out);
    for command in ["demo", "serve", "catalog", "completions"] {
        assert!(
            text.contains(&format!("  {command} ")),
            "{command} missing from:\n{text}"
        );
    }
    let out = common::pave().args(["catalog", "--help"]).output().unwrap();
    for command in [
        "ingest",
        "validate",
        "list",
        "get",
        "locations",
        "unregister",
    ] {
        assert!(stdout(&out).contains(&format!("  {command} ")), "{command}");
    }
    let out = common::pave().arg("--no-such-flag").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = common::pave()
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(stdout(&out).contains("_pave()"));
}

#[test]
fn ingest_list_get_and_output_formats() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite(dir.path());
    let root = write_catalog(dir.path());
    let out = run(&["catalog", "ingest", root.to_str().unwrap()], &db);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("5 added"), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains('\u{1b}'),
        "NO_COLOR: no escape codes"
    );

    let out = run(&["catalog", "list", "--kind", "component"], &db);
    assert_eq!(
        stdout(&out),
        "KIND       NAMESPACE  NAME     TYPE     OWNER   LIFECYCLE\n\
         Component  default    billing  service  team-a  production\n\
         Component  default    orders   service  team-a  production\n"
    );
    let out = run(
        &["catalog", "list", "-f", "spec.type=openapi", "-o", "json"],
        &db,
    );
    let items: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(items[0]["metadata"]["name"], "orders-api");
    assert_eq!(items[0]["relations"][0]["type"], "apiProvidedBy");

    let out = run(&["catalog", "get", "orders"], &db);
    let text = stdout(&out);
    assert!(
        text.starts_with("apiVersion: backstage.io/v1alpha1\nkind: Component\n"),
        "{text}"
    );
    assert!(
        text.contains("targetRef: component:default/billing"),
        "{text}"
    );
    // The whole entity as `get` prints it, pinned (the uid, etag and folder vary by run).
    let root_text = root.to_str().unwrap().to_owned();
    insta::with_settings!({filters => vec![
        (root_text.as_str(), "[ROOT]"),
        (r#"uid: "?[0-9a-f-]{36}"?"#, "uid: [UID]"),
        (r#"etag: "?[0-9a-f]+"?"#, "etag: [ETAG]"),
    ]}, {
        insta::assert_snapshot!(text, @r"
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: orders
          namespace: default
          annotations:
            backstage.io/managed-by-location: file:[ROOT]/svc/catalog-info.yaml
            backstage.io/managed-by-origin-location: file:[ROOT]
          uid: [UID]
          etag: [ETAG]
        spec:
          type: service
          lifecycle: production
          owner: team-a
          providesApis:
            - orders-api
          dependsOn:
            - component:billing
        relations:
          - type: dependsOn
            targetRef: component:default/billing
          - type: ownedBy
            targetRef: group:default/team-a
          - type: providesApi
            targetRef: api:default/orders-api
        ");
    });
    let out = run(&["catalog", "get", "component:nope"], &db);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no entity component:default/nope"));

    let out = run(&["catalog", "locations", "-o", "yaml"], &db);
    assert!(stdout(&out).contains("type: file"), "{}", stdout(&out));

    // Re-ingesting everything registered reads nothing new.
    let out = run(&["catalog", "ingest"], &db);
    assert!(
        stderr(&out).contains("0 files read, 2 unchanged"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn failures_exit_1_and_input_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite(dir.path());
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, common::component("bad name", "team", "")).unwrap();
    let out = run(&["catalog", "validate", bad.to_str().unwrap()], &db);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("bad.yaml:4:3: error: metadata.name \"bad name\" is not valid"),
        "{}",
        stderr(&out)
    );

    let out = run(&["catalog", "ingest", bad.to_str().unwrap()], &db);
    assert_eq!(out.status.code(), Some(1), "rejected entities are failures");

    let out = run(&["catalog", "ingest", "/definitely/not/here"], &db);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("source /definitely/not/here: cannot read it"),
        "{}",
        stderr(&out)
    );

    if pave_testkit::have("git") {
        let repo = dir.path().join("no-such-repo");
        let url = format!("file://{}", repo.display());
        let out = run(&["catalog", "ingest", &url], &db);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("git fetch failed"),
            "{}",
            stderr(&out)
        );
    }
    let out = run(
        &[
            "catalog",
            "ingest",
            "https://example.com/r.git#--upload-pack=x",
        ],
        &db,
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is not a branch, tag or commit name"),
        "{}",
        stderr(&out)
    );

    let out = run(&["catalog", "list"], "mysql://nope");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("use sqlite://PATH or postgres://"),
        "{}",
        stderr(&out)
    );

    let config = dir.path().join("pave.yaml");
    std::fs::write(&config, "catalog:\n  rules: [Component]\n  colour: blue\n").unwrap();
    let out = common::pave()
        .args([
            "--config",
            config.to_str().unwrap(),
            "catalog",
            "validate",
            bad.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown field `colour`"),
        "{}",
        stderr(&out)
    );
    // Commands that do not read pave.yaml are not stopped by a broken one.
    let out = common::pave()
        .args(["--config", config.to_str().unwrap(), "completions", "bash"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn postgres_database_url_works_end_to_end() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let Some(db) = runtime.block_on(pave_store_postgres::testing::TestDatabase::create()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let root = write_catalog(dir.path());
    let out = run(&["catalog", "ingest", root.to_str().unwrap()], &db.url);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = run(&["catalog", "list", "-o", "json"], &db.url);
    let items: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(items.as_array().unwrap().len(), 5);

    // `pave serve` on the same PostgreSQL database serves what was ingested, relations included.
    let server = common::Server::start(&[], &db.url);
    let orders = server.wait_for(
        "/api/catalog/entities/by-name/component/default/orders",
        |r| r.status == 200,
    );
    let relations = orders.json()["relations"].to_string();
    assert!(
        relations.contains("component:default/billing"),
        "{relations}"
    );
    let page = server
        .get("/api/catalog/entities/by-query?filter=kind=component")
        .json();
    assert_eq!(page["totalItems"], 2, "{page}");
    drop(server);
    runtime.block_on(db.drop_database());
}
