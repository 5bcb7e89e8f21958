//! Guardrail reports through the full router and a real SQLite store: a report `pave check`
//! made of real manifests is published (`POST /api/guardrails/reports`), read back as the
//! newest (`GET …/latest`) and listed (`GET /api/guardrails/reports`), audited; every way a
//! publication can be wrong is refused with its status and a message naming why (unknown
//! entity 404, too large 413, another schema version, malformed or self-contradicting 422,
//! bad parameters 400), and nothing of it is stored; with auth on, publishing needs
//! `events.write` (401 without a credential, 403 audited without the permission).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use pave_ingest::IngestConfig;
use pave_policy::{Exceptions, Policy, PolicyConfig};
use pave_policy_output::{MAX_REPORT_BYTES, RenderOptions, StoredReport};
use pave_server::AppState;
use pave_store::AuditQuery;
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
---
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata:
  name: orders-db
  namespace: data
spec:
  type: database
  owner: group:default/payments
";

/// A Deployment that breaks a few rules (a privileged container, no limits, `latest`).
const MANIFEST: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
  namespace: shop
  labels: {app: checkout}
spec:
  replicas: 1
  selector: {matchLabels: {app: checkout}}
  template:
    metadata: {labels: {app: checkout}}
    spec:
      containers:
        - name: app
          image: ghcr.io/acme/checkout:latest
          securityContext: {privileged: true}
";

/// The JSON report `pave check` writes for [`MANIFEST`].
fn report_json() -> String {
    let docs = pave_policy::load(
        "deploy/checkout.yaml",
        MANIFEST.to_owned(),
        None,
        &pave_yaml::Limits::default(),
    )
    .unwrap();
    let policy = Policy::new(PolicyConfig::default(), Exceptions::default());
    let report = policy.check(&docs, Vec::new(), 1_800_000_000);
    assert!(report.summary().failed >= 3, "{:?}", report.summary());
    pave_policy_output::json(&report, &RenderOptions::default())
}

struct Setup {
    _dir: tempfile::TempDir,
    state: Arc<AppState>,
}

async fn setup(auth: Option<Value>) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("catalog-info.yaml");
    std::fs::write(&file, CATALOG).unwrap();
    let store = pave_store_sqlite::SqliteStore::open(&dir.path().join("pave.db"))
        .await
        .unwrap();
    let state = AppState::new(Arc::new(store), IngestConfig::default());
    let locations = pave_ingest::register(
        state.platform.store().as_ref(),
        &[pave_ingest::Source::Path(file)],
    )
    .await
    .unwrap();
    state.refresh(&locations).await.unwrap();
    let policy = auth.map(|v| {
        let config: pave_auth::AuthConfig = serde_json::from_value(v).unwrap();
        Arc::new(config.validate().unwrap())
    });
    state.set_access_policy(policy);
    Setup { _dir: dir, state }
}

async fn call(
    state: &Arc<AppState>,
    method: &str,
    uri: &str,
    bearer: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, "127.0.0.1")
        .header(header::CONTENT_TYPE, "application/json");
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

async fn publish(state: &Arc<AppState>, query: &str, body: &str) -> (StatusCode, Value) {
    call(
        state,
        "POST",
        &format!("/api/guardrails/reports?{query}"),
        None,
        body.as_bytes().to_vec(),
    )
    .await
}

async fn get(state: &Arc<AppState>, uri: &str) -> (StatusCode, Value) {
    call(state, "GET", uri, None, Vec::new()).await
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

async fn audit(state: &AppState, action: &str) -> Vec<pave_store::audit::AuditRecord> {
    state
        .platform
        .store()
        .audit_records(&AuditQuery {
            action: Some(action.into()),
            limit: 50,
            ..AuditQuery::default()
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn a_published_report_is_the_entitys_latest() {
    let s = setup(None).await;
    let text = report_json();
    let want = StoredReport::parse(&text).unwrap();

    let (status, none) = get(&s.state, "/api/guardrails/reports/latest?entity=checkout").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{none}");
    assert!(
        none["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no check report was published for component:default/checkout"),
        "{none}"
    );

    let (status, first) = publish(
        &s.state,
        "entity=Component:default/Checkout&commit=ABCDEF0123&branch=main",
        &text,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["entity"], "component:default/checkout");
    assert_eq!(first["commit"], "abcdef0123");
    assert_eq!(first["branch"], "main");
    assert_eq!(first["failed"], want.summary.failed);
    assert_eq!(first["files"], 1);
    assert_eq!(first["omittedFindings"], 0);
    let now = pave_ingest::now_millis() / 1000;
    assert!(
        (now - first["receivedAt"].as_i64().unwrap()).abs() < 60,
        "{first}"
    );

    let (status, latest) = get(
        &s.state,
        "/api/guardrails/reports/latest?entity=component:default/checkout",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{latest}");
    assert_eq!(latest["id"], first["id"]);
    assert_eq!(latest["commit"], "abcdef0123");
    let got: StoredReport = serde_json::from_value(latest["report"].clone()).unwrap();
    assert_eq!(got, want, "the report as read on publication");
    assert!(got.findings.iter().any(|f| f.rule == "pss-privileged"
        && f.file == "deploy/checkout.yaml"
        && f.line == Some(16)));
    assert!(got.rule("pss-privileged").is_some());

    // A second report, of a clean run without commit or branch, becomes the latest; the
    // history lists both, newest first.
    let clean = StoredReport::from_report(
        &Policy::new(PolicyConfig::default(), Exceptions::default()).check(&[], Vec::new(), 0),
        &RenderOptions::default(),
    );
    let (status, second) = publish(&s.state, "entity=checkout", &clean.to_json()).await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    assert_eq!(
        (second["commit"].clone(), second["failed"].clone()),
        (Value::Null, json!(0))
    );
    let (_, latest) = get(&s.state, "/api/guardrails/reports/latest?entity=checkout").await;
    assert_eq!(latest["id"], second["id"]);
    assert_eq!(latest["report"]["exitCode"], 0);
    let (status, history) = get(&s.state, "/api/guardrails/reports?entity=checkout").await;
    assert_eq!(status, StatusCode::OK, "{history}");
    let ids: Vec<&Value> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["id"])
        .collect();
    assert_eq!(ids, [&second["id"], &first["id"]]);
    assert!(history["items"][0].get("report").is_none());
    let (_, one) = get(&s.state, "/api/guardrails/reports?entity=checkout&limit=1").await;
    assert_eq!(one["items"].as_array().unwrap().len(), 1);

    // Another kind and namespace, named in full.
    let (status, resource) = publish(&s.state, "entity=resource:data/orders-db", &text).await;
    assert_eq!(status, StatusCode::CREATED, "{resource}");
    assert_eq!(resource["entity"], "resource:data/orders-db");

    // Each publication is in the audit log with what it held.
    let records = audit(&s.state, "guardrails.report").await;
    assert_eq!(records.len(), 3);
    let first_record = records
        .iter()
        .find(|r| r.event.details["commit"] == "abcdef0123")
        .unwrap();
    assert_eq!(first_record.event.target, "component:default/checkout");
    assert_eq!(first_record.event.details["failed"], want.summary.failed);
}

#[tokio::test]
async fn bad_publications_are_refused_and_store_nothing() {
    let s = setup(None).await;
    let text = report_json();
    let mut value: Value = serde_json::from_str(&text).unwrap();
    let cases: Vec<(&str, String, StatusCode, &str)> = vec![
        (
            "entity=component:default/nobody",
            text.clone(),
            StatusCode::NOT_FOUND,
            "no entity component:default/nobody in the catalog",
        ),
        // A group has no Guardrails tab: its report would be kept unseen.
        (
            "entity=group:default/payments",
            text.clone(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "kept for components, resources and systems",
        ),
        (
            "",
            text.clone(),
            StatusCode::BAD_REQUEST,
            "`entity`: required",
        ),
        (
            "entity=a:b:c/",
            text.clone(),
            StatusCode::BAD_REQUEST,
            "not an entity ref",
        ),
        (
            "entity=checkout&commit=main",
            text.clone(),
            StatusCode::BAD_REQUEST,
            "a git commit id",
        ),
        (
            "entity=checkout&branch=a%20b",
            text.clone(),
            StatusCode::BAD_REQUEST,
            "parameter `branch`",
        ),
        (
            "entity=checkout&entity=checkout",
            text.clone(),
            StatusCode::BAD_REQUEST,
            "given more than once",
        ),
        (
            "entity=checkout&comit=abcd",
            text.clone(),
            StatusCode::BAD_REQUEST,
            "bad parameter `comit`: unknown",
        ),
        (
            "entity=checkout",
            text.replacen("\"schemaVersion\": 1", "\"schemaVersion\": 2", 1),
            StatusCode::UNPROCESSABLE_ENTITY,
            "the report has schemaVersion 2",
        ),
        (
            "entity=checkout",
            text[..text.len() - 10].to_owned(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "the report is not JSON: EOF while parsing",
        ),
        (
            "entity=checkout",
            "<html>not json</html>".to_owned(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "the report is not JSON",
        ),
        (
            "entity=checkout",
            {
                value["findings"][0]["severity"] = json!("severe");
                value.to_string()
            },
            StatusCode::UNPROCESSABLE_ENTITY,
            "at `findings[0].severity`",
        ),
        (
            "entity=checkout",
            {
                value["findings"][0]["severity"] = json!("high");
                value["summary"]["failed"] = json!(0);
                value.to_string()
            },
            StatusCode::UNPROCESSABLE_ENTITY,
            "contradicts itself: summary.failed is 0",
        ),
        (
            "entity=checkout",
            format!("{text}{}", " ".repeat(MAX_REPORT_BYTES)),
            StatusCode::PAYLOAD_TOO_LARGE,
            "over the limit of 8388608",
        ),
    ];
    for (query, body, status, message) in cases {
        let (got, answer) = publish(&s.state, query, &body).await;
        assert_eq!(got, status, "{query}: {answer}");
        let text = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(text.contains(message), "{query}: {text} (wanted {message})");
    }
    // A Content-Length over the limit is refused before the body is read.
    let request = Request::builder()
        .method("POST")
        .uri("/api/guardrails/reports?entity=checkout")
        .header(header::HOST, "127.0.0.1")
        .header(header::CONTENT_LENGTH, (MAX_REPORT_BYTES + 1).to_string())
        .body(Body::empty())
        .unwrap();
    let response = pave_server::router(Arc::clone(&s.state))
        .oneshot(request)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let store = s.state.platform.store();
    assert_eq!(
        store
            .latest_check_report("component:default/checkout")
            .await
            .unwrap(),
        None
    );
    assert!(audit(&s.state, "guardrails.report").await.is_empty());
    let (status, _) = get(&s.state, "/api/guardrails/reports?entity=checkout&limit=0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = get(&s.state, "/api/guardrails/reports?entity=checkout&limit=21").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn publishing_needs_events_write() {
    let s = setup(Some(json!({
        "roles": {
            "ci": {"permissions": ["events.write"]},
            "reader": {"permissions": ["catalog.entity.read"]}
        }
    })))
    .await;
    let (ci, reader) = (
        token(&s.state, "ci-token", "ci").await,
        token(&s.state, "reader-token", "reader").await,
    );
    let text = report_json();
    let uri = "/api/guardrails/reports?entity=checkout&commit=0123abcd";

    let (status, answer) = call(&s.state, "POST", uri, None, text.clone().into_bytes()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
    let (status, answer) = call(
        &s.state,
        "POST",
        uri,
        Some(&reader),
        text.clone().into_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("events.write"),
        "{answer}"
    );
    let denied = audit(&s.state, "auth.denied").await;
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0].event.details["permission"], "events.write");

    let (status, answer) = call(&s.state, "POST", uri, Some(&ci), text.into_bytes()).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let published = audit(&s.state, "guardrails.report").await;
    assert_eq!(published[0].event.actor.id, "ci-token");

    // Reading takes catalog.entity.read: the reader may, the CI token may not.
    let latest = "/api/guardrails/reports/latest?entity=checkout";
    let (status, answer) = call(&s.state, "GET", latest, Some(&reader), Vec::new()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["commit"], "0123abcd");
    let (status, _) = call(&s.state, "GET", latest, Some(&ci), Vec::new()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(&s.state, "GET", latest, None, Vec::new()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_api_document_describes_the_routes() {
    let s = setup(None).await;
    let (status, doc) = get(&s.state, "/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    let paths = &doc["paths"];
    assert!(paths["/api/guardrails/reports"]["post"]["responses"]["422"].is_object());
    assert!(paths["/api/guardrails/reports"]["get"].is_object());
    assert!(paths["/api/guardrails/reports/latest"]["get"].is_object());
}

/// Stores the demo's check reports (`pave demo` does the same) in `state`'s store.
async fn seed_demo_reports(state: &AppState) -> usize {
    let now = pave_ingest::now_millis() / 1000;
    let reports = pave_demo::demo_check_reports(now).unwrap();
    let count = reports.len();
    for r in reports {
        let s = r.report.summary;
        let row = pave_store::NewCheckReport {
            entity_ref: r.entity_ref,
            received_at: r.received_at,
            commit: Some(r.commit),
            branch: Some(r.branch),
            counts: pave_store::CheckCounts {
                failed: s.failed,
                warnings: s.warnings,
                excepted: s.excepted,
                errors: s.errors,
                files: s.files,
            },
            report: r.report.to_json(),
        };
        state
            .platform
            .store()
            .put_check_report(&row, &[])
            .await
            .unwrap();
    }
    count
}

/// The demo's reports are for entities of the demo's catalog, and read back through the API
/// as the portal will: a failing service, a passing one with an excepted finding, a history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demos_reports_are_served_for_its_services() {
    let demo = common::demo().await;
    let state = &demo.state;
    assert!(seed_demo_reports(state).await > 40);
    let catalog = state.catalog();
    let (status, legacy) = get(state, "/api/guardrails/reports/latest?entity=legacy-basket").await;
    assert_eq!(status, StatusCode::OK, "{legacy}");
    assert!(catalog.get("component:default/legacy-basket").is_some());
    assert!(legacy["failed"].as_u64().unwrap() >= 2, "{legacy}");
    assert_eq!(legacy["report"]["exitCode"], 1);
    let (_, fraud) = get(state, "/api/guardrails/reports/latest?entity=fraud-scoring").await;
    assert_eq!(
        (fraud["failed"].as_u64(), fraud["excepted"].as_u64()),
        (Some(0), Some(1))
    );
    let excepted = fraud["report"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["status"] == "excepted")
        .unwrap();
    assert_eq!(excepted["exception"]["owner"], "payments-core");
    let (_, history) = get(state, "/api/guardrails/reports?entity=cart-service").await;
    let failed: Vec<u64> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["failed"].as_u64().unwrap())
        .collect();
    assert_eq!(failed, [0, 1, 2], "newest first: fixed over time");
    // A library has no pipeline that publishes.
    let (status, _) = get(state, "/api/guardrails/reports/latest?entity=design-system").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The Guardrails tab shows the newest report CI published for the entity: its verdict,
/// the findings that fail first with file:line:col, and the reports before it; an entity
/// without one says how to publish.
#[tokio::test]
async fn guardrails_tab_shows_the_published_check_report() {
    let demo = common::demo().await;
    let reports = pave_demo::demo_check_reports(pave_stdx::time::unix_seconds()).unwrap();
    // A service whose newest report fails (some were fixed since their first report).
    let newest_of = |entity: &str| {
        reports
            .iter()
            .filter(|r| r.entity_ref == entity)
            .max_by_key(|r| r.received_at)
            .unwrap()
    };
    let failing = reports
        .iter()
        .map(|r| r.entity_ref.clone())
        .find(|e| newest_of(e).report.summary.failed > 0)
        .expect("the demo has a failing service");
    // Oldest first, as CI would have published them.
    let mut ordered: Vec<_> = reports.iter().filter(|r| r.entity_ref == failing).collect();
    ordered.sort_by_key(|r| r.received_at);
    for r in &ordered {
        let body = serde_json::to_vec(&r.report).unwrap();
        let query = format!(
            "entity={}&commit={}&branch={}",
            r.entity_ref, r.commit, r.branch
        );
        let response = pave_server::router(Arc::clone(&demo.state))
            .oneshot(
                Request::post(format!("/api/guardrails/reports?{query}"))
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
    }
    let newest = ordered.last().unwrap();
    let name = failing.rsplit_once('/').unwrap().1;
    let page = common::get(
        &demo.state,
        &format!("/catalog/default/component/{name}/guardrails"),
        false,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let html = &page.body;
    assert!(html.contains(r#"<a id="tab-guardrails" href="/catalog/default/component/"#));
    assert!(
        html.contains(
            r#"<span class="badge check-failing" id="guardrails-verdict">Failing</span>"#
        ),
        "{html}"
    );
    assert!(html.contains(&format!(
        r#"<strong id="guardrails-failed">{}</strong>"#,
        newest.report.summary.failed
    )));
    assert!(html.contains(&format!(
        r#"<code id="guardrails-commit">{}</code>"#,
        &newest.commit[..12]
    )));
    // Failed findings come first, each with its place in the repository.
    let first = html.find(r#"<tr class="guardrails-finding">"#).unwrap();
    let row = &html[first..first + html[first..].find("</tr>").unwrap()];
    assert!(row.contains("check-failing"), "{row}");
    let failed = newest
        .report
        .findings
        .iter()
        .find(|f| f.status == pave_policy::Status::Failed)
        .unwrap();
    let place = match (failed.line, failed.column) {
        (Some(l), Some(c)) => format!("{}:{l}:{c}", failed.file),
        _ => failed.file.clone(),
    };
    assert!(
        html.contains(&format!(r#"<code class="guardrails-place">{place}</code>"#)),
        "{place}"
    );
    assert_eq!(
        html.matches(r#"<tr class="guardrails-finding">"#).count(),
        newest.report.findings.len().min(500)
    );
    if ordered.len() > 1 {
        assert!(html.contains("Earlier reports"));
        assert_eq!(html.matches(r#"aria-current="true""#).count(), 1);
    }
    // Another service has none yet: the tab says how to publish one.
    let other = reports
        .iter()
        .map(|r| r.entity_ref.clone())
        .find(|r| *r != failing)
        .unwrap();
    let other_name = other.rsplit_once('/').unwrap().1;
    let none = common::get(
        &demo.state,
        &format!("/catalog/default/component/{other_name}/guardrails"),
        false,
    )
    .await;
    assert_eq!(none.status, StatusCode::OK);
    assert!(none.body.contains(r#"id="guardrails-none""#));
    assert!(none.body.contains("pave check --publish"));
}
