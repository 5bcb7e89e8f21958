//! Postmortems end to end, through the full router and a real SQLite store: read from a
//! registered folder (`docs/postmortems/*.md` beside its catalog file; a broken one is a
//! diagnostic at its line and column in the location's status, and the valid one's overdue
//! action reaches its owning team), and posted through `POST /api/postmortems` (recorded
//! durably, listed, audited; bad input is a 400 with positions, 401/403 without the
//! permission, 413 over the limit).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use pave_delivery::Attribution;
use pave_ingest::{IngestConfig, Source};
use pave_intake::{Intake, IntakeConfig, Processor};
use pave_platform::Principal;
use pave_server::AppState;
use pave_server::events::Events;
use pave_store::Store;
use serde_json::{Value, json};
use tower::ServiceExt;

const CATALOG: &str = "apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: payments
spec:
  type: team
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout
spec:
  type: service
  lifecycle: production
  owner: group:payments
";

/// Valid; its first action is long overdue, the second closed.
const GOOD: &str = "---
title: Checkout outage after the 2.14 deploy
incidents: [INC-7]
date: 2026-01-10
severity: 1
actions:
  - title: Alert on queue depth
    owner: group:default/Payments
    due: 2026-01-20
    status: open
  - title: Load-test the pool
    owner: group:default/payments
    due: 2026-01-15
    status: done
    closed: 2026-01-14
---
# What happened
";

/// Broken: a status that does not exist, on line 8 (its value at column 13).
const BAD: &str = "---
title: Search slow
incidents: []
date: 2026-01-11
actions:
  - title: Add an index
    owner: group:default/payments
    status: in_progress
    due: 2026-02-01
---
";

struct Setup {
    dir: tempfile::TempDir,
    state: Arc<AppState>,
    store: Arc<dyn Store>,
}

async fn setup(auth: Option<Value>) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(
        pave_store_sqlite::SqliteStore::open(&dir.path().join("pave.db"))
            .await
            .unwrap(),
    );
    let state = AppState::new(Arc::clone(&store), IngestConfig::default());
    state.reload().await.unwrap();
    let config = IntakeConfig::default();
    let attribution = Attribution::with_config(&[], &config.attribution).unwrap();
    let processor = Arc::new(
        Processor::load(Arc::clone(&store), attribution, &config)
            .await
            .unwrap(),
    );
    let intake = Arc::new(Intake::start(Arc::clone(&store), config));
    state.set_events(Some(Events { intake, processor }));
    let policy = auth.map(|v| {
        let config: pave_auth::AuthConfig = serde_json::from_value(v).unwrap();
        Arc::new(config.validate().unwrap())
    });
    state.set_access_policy(policy);
    Setup { dir, state, store }
}

async fn call(
    state: &Arc<AppState>,
    method: &str,
    uri: &str,
    bearer: Option<&str>,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, "127.0.0.1")
        .header(header::CONTENT_TYPE, content_type);
    if let Some(secret) = bearer {
        request = request.header(header::AUTHORIZATION, format!("Bearer {secret}"));
    }
    let response = pave_server::router(Arc::clone(state))
        .oneshot(request.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn get(state: &Arc<AppState>, uri: &str) -> (StatusCode, Value) {
    call(state, "GET", uri, None, "application/json", Vec::new()).await
}

async fn post_markdown(
    state: &Arc<AppState>,
    uri: &str,
    bearer: Option<&str>,
    text: &str,
) -> (StatusCode, Value) {
    call(
        state,
        "POST",
        uri,
        bearer,
        "text/markdown",
        text.as_bytes().to_vec(),
    )
    .await
}

async fn token(state: &AppState, id: &str, role: &str) -> String {
    let now = pave_ingest::now_millis();
    let (secret, hash) = pave_auth::TokenSecret::generate().unwrap();
    let row = pave_store::TokenRow {
        id: id.into(),
        name: id.into(),
        owner: String::new(),
        role: role.into(),
        hash: hash.as_str().into(),
        created_at: now - 100,
        expires_at: now + 3_600_000,
        last_used_at: None,
        revoked_at: None,
    };
    state
        .platform
        .store()
        .create_token(&row, &[])
        .await
        .unwrap();
    secret
}

fn overdue_titles(kpis: &Value, owner: &str) -> Vec<String> {
    kpis["overdue_by_owner"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["owner"] == owner)
        .flat_map(|o| o["actions"].as_array().unwrap().clone())
        .map(|a| a["title"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn postmortems_beside_catalog_files_are_read_with_positioned_problems() {
    let s = setup(None).await;
    let repo = s.dir.path().join("checkout");
    std::fs::create_dir_all(repo.join("docs/postmortems")).unwrap();
    std::fs::write(repo.join("catalog-info.yaml"), CATALOG).unwrap();
    std::fs::write(repo.join("docs/postmortems/2026-01-10-checkout.md"), GOOD).unwrap();
    std::fs::write(repo.join("docs/postmortems/2026-01-11-search.md"), BAD).unwrap();

    let platform = &s.state.platform;
    let locations = platform
        .register(
            &Principal::Operator,
            &[Source::parse(repo.to_str().unwrap())],
        )
        .await
        .unwrap();
    let report = platform
        .refresh(&Principal::Operator, &locations, None)
        .await
        .unwrap();
    // The catalog was read all the same.
    assert!(report.totals().added >= 2, "{report:?}");
    let shown: Vec<String> = report
        .diagnostics()
        .map(ToString::to_string)
        .filter(|d| d.contains("postmortem"))
        .collect();
    let bad = shown
        .iter()
        .find(|d| d.contains("2026-01-11-search.md"))
        .unwrap_or_else(|| panic!("{shown:?}"));
    assert!(
        bad.contains("2026-01-11-search.md:8:13: error: postmortem:")
            && bad.contains("in-progress"),
        "{bad}"
    );
    assert_eq!(
        shown.len(),
        1,
        "only the broken file has problems: {shown:?}"
    );

    // The location's status, as the API shows it, holds the problem with its position.
    let (status, location) = get(
        &s.state,
        &format!("/api/catalog/locations/{}", locations[0].id),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{location}");
    let text = location.to_string();
    assert!(
        text.contains("2026-01-11-search.md")
            && text.contains("\"line\":8")
            && text.contains("\"column\":13"),
        "{location:#}"
    );

    // The valid one is listed, attributed to the folder's component, and its open action
    // is overdue for the owning team (the reference read in the catalog's lower case).
    let (status, list) = get(&s.state, "/api/postmortems?since=3650d").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list:#}");
    assert_eq!(items[0]["origin"], "source");
    assert_eq!(items[0]["entity"], "component:default/checkout");
    assert!(items[0].get("body").is_none(), "lists carry no bodies");
    assert_eq!(
        overdue_titles(&list["kpis"], "group:default/payments"),
        ["Alert on queue depth"]
    );
    assert_eq!(list["kpis"]["closure"]["closed_on_time"], 1);
    assert_eq!(list["kpis"]["closure"]["overdue"], 1);
    let reports = s.state.delivery_reports().unwrap();
    let overdue = reports.overdue_actions("group:default/payments");
    assert_eq!(overdue.len(), 1);
    assert!(overdue[0].days_overdue > 300, "{overdue:?}");
    assert!(reports.overdue_actions("group:default/search").is_empty());

    // Fixed in the repository: the next reading takes it and drops the problem.
    std::fs::write(
        repo.join("docs/postmortems/2026-01-11-search.md"),
        BAD.replace("in_progress", "in-progress"),
    )
    .unwrap();
    let report = platform
        .refresh(&Principal::Operator, &locations, None)
        .await
        .unwrap();
    assert_eq!(
        report
            .diagnostics()
            .filter(|d| d.message.contains("postmortem"))
            .count(),
        0,
        "{report:?}"
    );
    let (_, list) = get(&s.state, "/api/postmortems?since=3650d").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        overdue_titles(&list["kpis"], "group:default/payments"),
        ["Alert on queue depth", "Add an index"]
    );

    // A second platform on the same store (another replica, a restart) reads them from the
    // folder before any reading of its own.
    let other = pave_platform::Platform::new(Arc::clone(&s.store), IngestConfig::default());
    assert_eq!(other.read_stored_postmortems().await.unwrap(), 2);
    assert_eq!(other.source_postmortems().len(), 2);
}

#[tokio::test]
async fn posted_postmortems_are_recorded_listed_and_revised() {
    let s = setup(None).await;
    let (status, posted) = post_markdown(
        &s.state,
        "/api/postmortems?name=checkout-outage",
        None,
        GOOD,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{posted}");
    assert_eq!(posted["name"], "checkout-outage.md");
    assert_eq!(posted["duplicate"], false);
    assert_eq!(posted["postmortem"]["incidents"], json!(["INC-7"]));
    // The same text again changes nothing.
    let (status, again) = post_markdown(
        &s.state,
        "/api/postmortems?name=checkout-outage",
        None,
        GOOD,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(
        (again["duplicate"].clone(), again["seq"].clone()),
        (json!(true), posted["seq"].clone())
    );

    // As JSON, with a name derived from the date and title.
    let body = json!({"markdown": BAD.replace("in_progress", "in-progress")});
    let (status, json_posted) = call(
        &s.state,
        "POST",
        "/api/postmortems",
        None,
        "application/json",
        body.to_string().into_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{json_posted}");
    assert_eq!(json_posted["name"], "2026-01-11-search-slow.md");

    let (_, list) = get(&s.state, "/api/postmortems?since=3650d").await;
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["file"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["2026-01-11-search-slow.md", "checkout-outage.md"]);
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["origin"] == "api")
    );

    // A revision (the action closed) replaces the earlier text under the same name.
    let closed = GOOD.replace(
        "    status: open\n",
        "    status: done\n    closed: 2026-01-19\n",
    );
    let (status, revised) = post_markdown(
        &s.state,
        "/api/postmortems?name=checkout-outage.md",
        None,
        &closed,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{revised}");
    assert_ne!(revised["revision"], posted["revision"]);
    let (_, list) = get(&s.state, "/api/postmortems?since=3650d").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        overdue_titles(&list["kpis"], "group:default/payments"),
        ["Add an index"]
    );

    // Durable: a processor loaded from the store afresh (a restart) has the latest revisions.
    let config = IntakeConfig::default();
    let fresh = Processor::load(
        Arc::clone(&s.store),
        Attribution::with_config(&[], &config.attribution).unwrap(),
        &config,
    )
    .await
    .unwrap();
    let mut kept = fresh.posted_postmortems();
    kept.sort_by(|a, b| a.file.cmp(&b.file));
    assert_eq!(kept.len(), 2);
    assert_eq!(
        kept[1].actions[0].status,
        Some(pave_dora::postmortem::ActionStatus::Done)
    );
    // And audited: every post, the duplicate too (as webhook deliveries are).
    let records = s
        .store
        .audit_records(&pave_store::AuditQuery {
            action: Some("postmortem.post".into()),
            limit: 10,
            ..pave_store::AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(records.len(), 4);
    assert!(
        records
            .iter()
            .any(|r| r.event.target == "postmortems/checkout-outage.md")
    );

    // GET /api/dora carries the same KPIs beside the report (no deployments here: 404).
    let (status, _) = get(&s.state, "/api/dora").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_postmortems_are_refused_with_positions_and_nothing_is_recorded() {
    let s = setup(None).await;
    let (status, answer) = post_markdown(&s.state, "/api/postmortems?name=search", None, BAD).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let problem = &answer["problems"][0];
    assert_eq!(
        (problem["line"].clone(), problem["column"].clone()),
        (json!(8), json!(13)),
        "{answer:#}"
    );
    assert_eq!(problem["code"], "bad-status");
    assert_eq!(problem["path"], "actions.0.status");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("search.md:8:13:"),
        "{answer:#}"
    );
    // No front matter at all, a bad name, bad JSON, a bad parameter.
    let (status, answer) = post_markdown(&s.state, "/api/postmortems", None, "# Notes\n").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["problems"][0]["code"], "missing-front-matter");
    let (status, answer) = post_markdown(&s.state, "/api/postmortems?name=../x", None, GOOD).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let (status, answer) = call(
        &s.state,
        "POST",
        "/api/postmortems",
        None,
        "application/json",
        b"{\"markdown\": 3}".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("line 1 column"),
        "{answer}"
    );
    let (status, _) = post_markdown(&s.state, "/api/postmortems?nmae=x", None, GOOD).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = get(&s.state, "/api/postmortems?since=soon").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Over the limit: 413, whatever the content.
    let huge = format!("{GOOD}{}", "x".repeat(pave_server::POSTMORTEM_BODY_LIMIT));
    let (status, _) = post_markdown(&s.state, "/api/postmortems", None, &huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    // Nothing of it was recorded.
    assert!(
        s.store
            .deliveries_of(pave_intake::POSTMORTEM_SOURCE, 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn posting_needs_postmortem_write() {
    let s = setup(Some(json!({}))).await;
    let viewer = token(&s.state, "t-viewer", "viewer").await;
    let editor = token(&s.state, "t-editor", "editor").await;
    let (status, _) = post_markdown(&s.state, "/api/postmortems", None, GOOD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, answer) = post_markdown(&s.state, "/api/postmortems", Some(&viewer), GOOD).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert!(answer.to_string().contains("postmortem.write"), "{answer}");
    let (status, answer) = post_markdown(&s.state, "/api/postmortems", Some(&editor), GOOD).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    // Reading needs catalog.entity.read, which a viewer has.
    let (status, list) = call(
        &s.state,
        "GET",
        "/api/postmortems",
        Some(&viewer),
        "application/json",
        Vec::new(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let records = s
        .store
        .audit_records(&pave_store::AuditQuery {
            action: Some("postmortem.post".into()),
            limit: 10,
            ..pave_store::AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].event.actor.id, "t-editor");
}
