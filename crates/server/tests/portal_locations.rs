//! The portal's operations pages through the full router, on a real SQLite store: the
//! Locations page, registering with a dry run first, refreshing, unregistering after a
//! confirmation, the Problems page and the entity page's Refresh button; with auth on, who
//! sees which button, refusals as portal pages (and in the audit log), and forms without
//! their CSRF token or from another site.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use pave_ingest::{IngestConfig, Source};
use pave_server::AppState;
use pave_store::audit::Outcome;
use pave_store::{AuditQuery, SessionRow};
use serde_json::{Value, json};
use tower::ServiceExt;

use common::ops::{BROKEN, write_fixtures};

struct Setup {
    dir: tempfile::TempDir,
    state: Arc<AppState>,
    /// The registered catalog folder (inside the temporary directory).
    catalog: PathBuf,
    /// The id of its location.
    id: String,
}

async fn setup(auth: Option<Value>) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let catalog = write_fixtures(dir.path());
    let store = pave_store_sqlite::SqliteStore::open(&dir.path().join("pave.db"))
        .await
        .unwrap();
    let ingest = IngestConfig {
        file_roots: vec![
            pave_ingest::reach::parse_file_root(dir.path().to_str().unwrap()).unwrap(),
        ],
        ..IngestConfig::default()
    };
    let state = AppState::new(Arc::new(store), ingest);
    let locations = pave_ingest::register(
        state.platform.store().as_ref(),
        &[Source::Path(catalog.join("catalog-info.yaml"))],
    )
    .await
    .unwrap();
    state.refresh(&locations).await.unwrap();
    let policy = auth.map(|v| {
        let config: pave_auth::AuthConfig = serde_json::from_value(v).unwrap();
        Arc::new(config.validate().unwrap())
    });
    state.set_access_policy(policy);
    Setup {
        id: locations[0].id.to_string(),
        dir,
        state,
        catalog,
    }
}

/// Roles by user: `ad` admin, `ed` editor, `vi` viewer, `gu` guest; `own` has none (a
/// member of team-a, which owns `shop`).
fn roles() -> Value {
    json!({"bindings": [
        {"role": "admin", "users": ["ad"]},
        {"role": "editor", "users": ["ed"]},
        {"role": "viewer", "users": ["vi"]},
        {"role": "guest", "users": ["gu"]},
    ]})
}

fn sha256_hex(text: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// A browser session of `user` (a name in the default namespace): the cookie and the
/// session's CSRF token.
async fn session(state: &AppState, user: &str) -> (String, String) {
    let secret = format!("secret-of-{user}-0123456789abcdef0123456789");
    let csrf = format!("csrf-of-{user}-0123456789abcdef");
    let now = pave_ingest::now_millis();
    let subject = json!({"kind": "user", "userRef": format!("user:default/{user}"), "name": user});
    let row = SessionRow {
        id_hash: sha256_hex(&secret),
        subject: subject.to_string(),
        csrf: csrf.clone(),
        created_at: now,
        last_seen_at: now,
        expires_at: now + 3_600_000,
    };
    state.platform.store().put_session(&row, &[]).await.unwrap();
    (format!("pave_session={secret}"), csrf)
}

struct Answer {
    status: StatusCode,
    content_type: String,
    body: String,
}

/// `method uri` with the session `cookie`, a form body and extra headers.
async fn send(
    state: &Arc<AppState>,
    method: &str,
    uri: &str,
    cookie: Option<&str>,
    form: Option<&str>,
    extra: &[(&str, &str)],
) -> Answer {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, "localhost")
        .header(header::ACCEPT, "text/html");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    let body = match form {
        Some(form) => {
            request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            Body::from(form.to_owned())
        }
        None => Body::empty(),
    };
    let response = pave_server::router(Arc::clone(state))
        .oneshot(request.body(body).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Answer {
        status,
        content_type,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

async fn get(state: &Arc<AppState>, uri: &str, cookie: Option<&str>) -> Answer {
    send(state, "GET", uri, cookie, None, &[]).await
}

async fn post(state: &Arc<AppState>, uri: &str, cookie: Option<&str>, form: &str) -> Answer {
    send(state, "POST", uri, cookie, Some(form), &[]).await
}

fn form(pairs: &[(&str, &str)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        query.append_pair(k, v);
    }
    query.finish()
}

async fn audit(state: &AppState, action: &str) -> Vec<pave_store::audit::AuditRecord> {
    let query = AuditQuery {
        action: Some(action.into()),
        limit: 100,
        ..AuditQuery::default()
    };
    state.platform.store().audit_records(&query).await.unwrap()
}

async fn location_count(state: &AppState) -> usize {
    state.platform.store().locations().await.unwrap().len()
}

fn has_entity(state: &AppState, key: &str) -> bool {
    state.catalog().get(key).is_some()
}

/// No page names the server's folders.
fn no_server_paths(body: &str, dir: &Path) {
    let dir = dir.to_str().unwrap();
    assert!(!body.contains(dir), "a server path leaked: {body}");
    assert!(!body.contains("secret-folder"), "a server folder leaked");
}

#[tokio::test]
async fn the_locations_page_lists_readings_without_server_paths() {
    let s = setup(None).await;
    let page = get(&s.state, "/locations", None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.content_type.starts_with("text/html"));
    common::assert_layout(&page.body);
    // Auth off: the operator sees the header links and every button.
    assert!(page.body.contains(r#"href="/locations">Locations</a>"#));
    assert!(
        page.body
            .contains(r#"href="/locations/problems">Problems</a>"#)
    );
    assert!(
        page.body
            .contains(r#"aria-current="page" href="/locations">"#)
    );
    assert!(page.body.contains(r#"data-total="1""#));
    assert!(page.body.contains("…/catalog-info.yaml"));
    assert!(page.body.contains(&format!(r#"data-location="{}""#, s.id)));
    assert!(
        page.body
            .contains(&format!(r#"action="/locations/{}/refresh""#, s.id))
    );
    assert!(
        page.body
            .contains(&format!(r#"href="/locations/{}/unregister""#, s.id))
    );
    assert!(page.body.contains(r#"id="register-link""#));
    // Its entities, counted from the store: 5 in the file, 1 from broken.yaml, the two
    // Locations (generated and `more`).
    let stored = s
        .state
        .platform
        .store()
        .location_entities(&s.id.as_str().into())
        .await
        .unwrap()
        .len();
    assert_eq!(stored, 7);
    assert!(
        page.body
            .contains(&format!(r#"<td class="location-entities">{stored}</td>"#)),
        "{}",
        page.body
    );
    assert!(page.body.contains("1 error"), "{}", page.body);
    assert!(page.body.contains("UTC") && !page.body.contains(">never<"));
    no_server_paths(&page.body, s.dir.path());

    // Pages: past the end shows the last; a bad number is a 400 page.
    let past = get(&s.state, "/locations?page=9", None).await;
    assert_eq!(past.status, StatusCode::OK);
    assert!(past.body.contains("location-row"));
    for bad in ["page=0", "page=x", "page=-1"] {
        let answer = get(&s.state, &format!("/locations?{bad}"), None).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(answer.content_type.starts_with("text/html"));
    }
}

#[tokio::test]
async fn the_problems_page_names_files_relative_to_their_location() {
    let s = setup(None).await;
    let page = get(&s.state, "/locations/problems", None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    common::assert_layout(&page.body);
    assert!(
        page.body.contains(r#"id="problem-count" data-total="1""#),
        "{}",
        page.body
    );
    // broken.yaml's second document: its name, at line 9, column 3.
    assert!(
        page.body
            .contains(r#"<code class="problem-position">broken.yaml:9:3</code>"#),
        "{}",
        page.body
    );
    assert!(page.body.contains(r#"data-severity="error""#));
    assert!(page.body.contains("bad name!"), "{}", page.body);
    no_server_paths(&page.body, s.dir.path());
    // Filters: by location (its own option is selected), by severity.
    let mine = get(
        &s.state,
        &format!("/locations/problems?location={}", s.id),
        None,
    )
    .await;
    assert!(
        mine.body
            .contains(&format!(r#"<option value="{}" selected>"#, s.id))
    );
    assert!(mine.body.contains(r#"data-total="1""#));
    let warnings = get(&s.state, "/locations/problems?severity=warning", None).await;
    assert!(
        warnings.body.contains(r#"data-total="0""#),
        "{}",
        warnings.body
    );
    assert!(warnings.body.contains("No problem matches these filters"));
    let none = get(&s.state, "/locations/problems?location=no-such-id", None).await;
    assert_eq!(none.status, StatusCode::OK);
    assert!(none.body.contains(r#"data-total="0""#));
    for bad in [
        "severity=fatal".to_owned(),
        format!("location={}", "x".repeat(500)),
        "page=0".to_owned(),
    ] {
        let answer = get(&s.state, &format!("/locations/problems?{bad}"), None).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    // A reading keeps its first 500 problems, and the page says so; pages of 50.
    let many = s.dir.path().join("many");
    std::fs::create_dir_all(&many).unwrap();
    let bad: Vec<String> = (0..520)
        .map(|i| {
            format!(
                "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: bad {i}\nspec: {{type: service, lifecycle: production, owner: team-a}}\n"
            )
        })
        .collect();
    std::fs::write(many.join("catalog-info.yaml"), bad.join("---\n")).unwrap();
    let registered = post(
        &s.state,
        "/locations/register",
        None,
        &form(&[
            ("type", "file"),
            ("target", many.join("catalog-info.yaml").to_str().unwrap()),
            ("step", "register"),
        ]),
    )
    .await;
    assert_eq!(
        registered.status,
        StatusCode::CREATED,
        "{}",
        registered.body
    );
    let page = get(&s.state, "/locations/problems", None).await;
    assert!(page.body.contains(r#"data-total="501""#), "{}", page.body);
    assert!(page.body.contains(r#"id="problems-capped""#));
    assert!(page.body.contains("Page 1 of 11"));
    assert_eq!(page.body.matches(r#"class="problem-row""#).count(), 50);
    let last = get(&s.state, "/locations/problems?page=11", None).await;
    assert_eq!(last.body.matches(r#"class="problem-row""#).count(), 1);
    let past = get(&s.state, "/locations/problems?page=99", None).await;
    assert!(
        past.body.contains("Page 11 of 11"),
        "past the end: the last page"
    );
    let bad_only = get(&s.state, "/locations/problems?severity=error&page=2", None).await;
    assert!(bad_only.body.contains("catalog-info.yaml:"));
    no_server_paths(&bad_only.body, s.dir.path());

    // The Locations page links a location's problems.
    let list = get(&s.state, "/locations", None).await;
    assert!(
        list.body
            .contains(&format!(r#"href="/locations/problems?location={}""#, s.id))
    );
}

#[tokio::test]
async fn registering_previews_first_and_registers_on_confirmation() {
    let s = setup(None).await;
    let second = s.dir.path().join("second").join("catalog-info.yaml");
    let target = second.to_str().unwrap();
    let form_page = get(&s.state, "/locations/register", None).await;
    assert_eq!(form_page.status, StatusCode::OK, "{}", form_page.body);
    for kind in ["url", "file", "git"] {
        assert!(
            form_page
                .body
                .contains(&format!(r#"<option value="{kind}""#))
        );
    }

    // The dry run: what would be registered, nothing stored.
    let before = location_count(&s.state).await;
    let audited = audit(&s.state, "location.create").await.len();
    let preview = post(
        &s.state,
        "/locations/register",
        None,
        &form(&[("type", "file"), ("target", target), ("step", "preview")]),
    )
    .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(preview.body.contains(r#"id="preview""#));
    assert!(preview.body.contains(">billing<") && preview.body.contains(">billing-api<"));
    assert!(
        preview
            .body
            .contains(r#"<code class="problem-position">catalog-info.yaml:"#),
        "{}",
        preview.body
    );
    assert!(preview.body.contains(r#"name="step" value="register""#));
    assert!(
        preview
            .body
            .contains(&format!(r#"name="target" value="{target}""#))
    );
    assert_eq!(
        location_count(&s.state).await,
        before,
        "a dry run registers nothing"
    );
    assert!(!has_entity(&s.state, "component:default/billing"));
    assert_eq!(audit(&s.state, "location.create").await.len(), audited);

    // Confirmed: registered, read, audited.
    let done = post(
        &s.state,
        "/locations/register",
        None,
        &form(&[("type", "file"), ("target", target), ("step", "register")]),
    )
    .await;
    assert_eq!(done.status, StatusCode::CREATED, "{}", done.body);
    assert!(
        done.body
            .contains("Registered file location …/catalog-info.yaml")
    );
    assert!(done.body.contains("billing-api"));
    no_server_paths(&done.body, s.dir.path());
    assert_eq!(location_count(&s.state).await, before + 1);
    assert!(has_entity(&s.state, "component:default/billing"));
    assert!(has_entity(&s.state, "api:default/billing-api"));
    assert_eq!(audit(&s.state, "location.create").await.len(), audited + 1);

    // Again: a conflict, on the target's field.
    for step in ["preview", "register"] {
        let again = post(
            &s.state,
            "/locations/register",
            None,
            &form(&[("type", "file"), ("target", target), ("step", step)]),
        )
        .await;
        assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "{step}");
        assert!(again.body.contains("registered already"), "{}", again.body);
        assert!(
            again
                .body
                .contains(r#"aria-invalid="true" aria-describedby="location-target-error""#)
        );
    }
    assert_eq!(location_count(&s.state).await, before + 1);
}

#[tokio::test]
async fn bad_targets_come_back_on_the_form() {
    let s = setup(None).await;
    let outside = std::env::temp_dir().join("pave-not-a-root.yaml");
    let long = "a".repeat(3000);
    let cases: Vec<(&str, String, &str)> = vec![
        ("file", "../../etc".into(), "location-target-error"),
        ("file", "/etc/passwd".into(), "location-target-error"),
        (
            "file",
            outside.to_str().unwrap().into(),
            "location-target-error",
        ),
        ("file", String::new(), "location-target-error"),
        ("file", long, "location-target-error"),
        ("file", "a\nb".into(), "location-target-error"),
        ("file", "/tmp/a\0b".into(), "location-target-error"),
        ("url", "javascript:alert(1)".into(), "location-target-error"),
        (
            "url",
            "http://127.0.0.1:9/catalog-info.yaml".into(),
            "location-target-error",
        ),
        (
            "git",
            "--upload-pack=touch /tmp/x".into(),
            "location-target-error",
        ),
        ("ftp", "ftp://x/y".into(), "location-type-error"),
        ("", "x".into(), "location-type-error"),
    ];
    let before = location_count(&s.state).await;
    for (kind, target, error) in &cases {
        let answer = post(
            &s.state,
            "/locations/register",
            None,
            &form(&[("type", kind), ("target", target)]),
        )
        .await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{kind} {target}: {}",
            answer.body
        );
        assert!(
            answer.body.contains(&format!(r#"id="{error}""#)),
            "{kind} {target}"
        );
        assert!(answer.body.contains(r#"aria-invalid="true""#));
        assert!(!answer.body.contains(r#"id="preview""#));
        if target.contains('\0') {
            assert!(!answer.body.contains('\0'), "a NUL came back");
            assert!(answer.body.contains("/tmp/a\u{FFFD}b"));
        }
        no_server_paths(&answer.body, s.dir.path());
        // What was typed is kept (escaped) for correcting it.
        if error.contains("target") && !target.contains(char::is_control) && target.len() < 100 {
            let shown = target
                .replace('&', "&#38;")
                .replace('"', "&#34;")
                .replace('<', "&#60;");
            assert!(answer.body.contains(&shown), "{target}");
        }
    }
    assert_eq!(location_count(&s.state).await, before);
    // A step that is neither, and an oversized form.
    let answer = post(
        &s.state,
        "/locations/register",
        None,
        "type=file&target=x&step=drop",
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    let huge = format!("type=file&target={}", "a".repeat(20_000));
    let answer = post(&s.state, "/locations/register", None, &huge).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.body.contains("too large"));
}

#[tokio::test]
async fn unregistering_asks_first_and_removes_what_the_location_provides() {
    let s = setup(None).await;
    let uri = format!("/locations/{}/unregister", s.id);
    let confirm = get(&s.state, &uri, None).await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    assert!(
        confirm.body.contains(r#"id="removed-count">7<"#),
        "{}",
        confirm.body
    );
    assert!(
        confirm
            .body
            .contains(r#"href="/catalog/default/component/shop">shop</a>"#)
    );
    assert!(
        confirm
            .body
            .contains(&format!(r#"action="{uri}" method="post""#))
    );
    no_server_paths(&confirm.body, s.dir.path());
    // Looking changed nothing.
    assert!(has_entity(&s.state, "component:default/shop"));

    let done = post(&s.state, &uri, None, "").await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("7 entities it provided were removed"));
    assert_eq!(location_count(&s.state).await, 0);
    for key in [
        "component:default/shop",
        "group:default/team-a",
        "component:default/fine",
    ] {
        assert!(!has_entity(&s.state, key), "{key}");
    }
    let records = audit(&s.state, "location.delete").await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].event.target, s.id);
    // Gone: both addresses are 404 pages now; unknown ids too.
    for answer in [
        get(&s.state, &uri, None).await,
        post(&s.state, &uri, None, "").await,
        post(&s.state, &format!("/locations/{}/refresh", s.id), None, "").await,
        get(&s.state, "/locations/..%2F..%2Fetc/unregister", None).await,
    ] {
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.body);
        assert!(answer.content_type.starts_with("text/html"));
    }
}

#[tokio::test]
async fn refreshing_reads_the_location_again() {
    let s = setup(None).await;
    std::fs::write(
        s.catalog.join("broken.yaml"),
        BROKEN.replace("bad name!", "fixed-name"),
    )
    .unwrap();
    let refreshed = post(&s.state, &format!("/locations/{}/refresh", s.id), None, "").await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.body);
    assert!(
        refreshed.body.contains("1 entity added"),
        "{}",
        refreshed.body
    );
    assert!(refreshed.body.contains("Problems: none."));
    assert!(has_entity(&s.state, "component:default/fixed-name"));
    // Recorded after the first reading's (newest first).
    let records = audit(&s.state, "location.refresh").await;
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].event.target, s.id);
    let problems = get(&s.state, "/locations/problems", None).await;
    assert!(problems.body.contains(r#"data-total="0""#));

    // The entity page's button reads the location it came from.
    let entity = get(&s.state, "/catalog/default/component/shop", None).await;
    assert!(
        entity
            .body
            .contains(r#"action="/catalog/default/component/shop/refresh" method="post""#),
        "{}",
        entity.body
    );
    std::fs::remove_file(s.catalog.join("broken.yaml")).unwrap();
    let answer = post(
        &s.state,
        "/catalog/default/component/shop/refresh",
        None,
        "",
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(
        answer
            .body
            .contains(r#"href="/catalog/default/component/shop">Back to the entity"#)
    );
    assert!(!has_entity(&s.state, "component:default/fixed-name"));
    assert!(answer.body.contains("Problems: 1 error"), "{}", answer.body);
    no_server_paths(&answer.body, s.dir.path());
    let missing = post(
        &s.state,
        "/catalog/default/component/nope/refresh",
        None,
        "",
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // A source that cannot be read: 503, and why (relative to the location).
    std::fs::remove_dir_all(&s.catalog).unwrap();
    let answer = post(&s.state, &format!("/locations/{}/refresh", s.id), None, "").await;
    assert_eq!(
        answer.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        answer.body
    );
    assert!(answer.body.contains(r#"id="outcome-failed""#));
    no_server_paths(&answer.body, s.dir.path());
}

#[tokio::test]
async fn buttons_follow_permissions_and_refusals_are_portal_pages() {
    let s = setup(Some(roles())).await;
    let refresh = format!("/locations/{}/refresh", s.id);
    let unregister = format!("/locations/{}/unregister", s.id);

    // A viewer reads the pages, with the header's links, and sees no button.
    let (viewer, viewer_csrf) = session(&s.state, "vi").await;
    let page = get(&s.state, "/locations", Some(&viewer)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains(r#"href="/locations/problems">Problems</a>"#)
    );
    for button in ["location-refresh", "location-unregister", "register-link"] {
        assert!(!page.body.contains(button), "{button} shown to a viewer");
    }
    let entity = get(&s.state, "/catalog/default/component/shop", Some(&viewer)).await;
    assert!(!entity.body.contains("refresh-entity"));
    let problems = get(&s.state, "/locations/problems", Some(&viewer)).await;
    assert_eq!(problems.status, StatusCode::OK);
    // …and is refused every action, as a portal page, recorded.
    let denied_before = audit(&s.state, "auth.denied").await.len();
    let csrf = format!("csrf={viewer_csrf}");
    for (method, uri, body) in [
        ("POST", refresh.as_str(), csrf.clone()),
        ("GET", unregister.as_str(), String::new()),
        ("POST", unregister.as_str(), csrf.clone()),
        ("GET", "/locations/register", String::new()),
        (
            "POST",
            "/locations/register",
            format!("{csrf}&type=url&target=https://x.example/c.yaml"),
        ),
        (
            "POST",
            "/catalog/default/component/shop/refresh",
            csrf.clone(),
        ),
    ] {
        let form = (method == "POST").then_some(body.as_str());
        let answer = send(&s.state, method, uri, Some(&viewer), form, &[]).await;
        assert_eq!(
            answer.status,
            StatusCode::FORBIDDEN,
            "{method} {uri}: {}",
            answer.body
        );
        assert!(
            answer.content_type.starts_with("text/html"),
            "{method} {uri}"
        );
        assert!(answer.body.contains("Not allowed"));
        common::assert_layout(&answer.body);
    }
    let denied = audit(&s.state, "auth.denied").await;
    assert_eq!(denied.len(), denied_before + 6);
    assert!(denied.iter().all(|r| r.event.outcome == Outcome::Denied));
    assert_eq!(location_count(&s.state).await, 1);
    assert!(has_entity(&s.state, "component:default/shop"));

    // A guest reads entities only: no operations links, and the pages are refused.
    let (guest, _) = session(&s.state, "gu").await;
    let catalog = get(&s.state, "/catalog", Some(&guest)).await;
    assert_eq!(catalog.status, StatusCode::OK);
    assert!(!catalog.body.contains(r#"href="/locations""#));
    for uri in ["/locations", "/locations/problems"] {
        let answer = get(&s.state, uri, Some(&guest)).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{uri}");
        assert!(answer.body.contains("catalog.location.read denied"));
    }
    // Nobody signed in: asked to authenticate, nothing shown.
    let anonymous = get(&s.state, "/locations", None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let anonymous = post(&s.state, &refresh, None, "").await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);

    // An editor refreshes and unregisters, registers url locations but not file ones.
    let (editor, editor_csrf) = session(&s.state, "ed").await;
    let page = get(&s.state, "/locations", Some(&editor)).await;
    for button in ["location-refresh", "location-unregister", "register-link"] {
        assert!(page.body.contains(button), "{button} hidden from an editor");
    }
    let register = get(&s.state, "/locations/register", Some(&editor)).await;
    assert!(register.body.contains(r#"<option value="url""#));
    assert!(!register.body.contains(r#"<option value="file""#));
    let crafted = form(&[
        ("csrf", &editor_csrf),
        ("type", "file"),
        ("target", s.dir.path().join("second").to_str().unwrap()),
    ]);
    let answer = post(&s.state, "/locations/register", Some(&editor), &crafted).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
    assert!(answer.body.contains("needs admin"));
    let answer = post(
        &s.state,
        &refresh,
        Some(&editor),
        &format!("csrf={editor_csrf}"),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let refreshed = audit(&s.state, "location.refresh").await;
    assert_eq!(refreshed.len(), 2, "the first reading's and the editor's");
    assert_eq!(refreshed[0].event.actor.id, "user:default/ed");

    // Ownership: a member of team-a refreshes the entities team-a owns, not the others.
    let (owner, owner_csrf) = session(&s.state, "own").await;
    let shop = get(&s.state, "/catalog/default/component/shop", Some(&owner)).await;
    assert!(
        shop.body.contains(r#"id="refresh-entity""#),
        "{}",
        shop.body
    );
    let other = get(&s.state, "/catalog/default/component/other", Some(&owner)).await;
    assert!(!other.body.contains(r#"id="refresh-entity""#));
    let csrf = format!("csrf={owner_csrf}");
    let answer = post(
        &s.state,
        "/catalog/default/component/shop/refresh",
        Some(&owner),
        &csrf,
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let answer = post(
        &s.state,
        "/catalog/default/component/other/refresh",
        Some(&owner),
        &csrf,
    )
    .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(
        answer.body.contains("not among the owners"),
        "{}",
        answer.body
    );

    // An admin unregisters.
    let (admin, admin_csrf) = session(&s.state, "ad").await;
    let answer = post(
        &s.state,
        &unregister,
        Some(&admin),
        &format!("csrf={admin_csrf}"),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(location_count(&s.state).await, 0);
    assert_eq!(
        audit(&s.state, "location.delete").await[0].event.actor.id,
        "user:default/ad"
    );
}

#[tokio::test]
async fn forms_need_their_csrf_token_and_pave_own_pages() {
    let s = setup(Some(roles())).await;
    let refresh = format!("/locations/{}/refresh", s.id);
    let unregister = format!("/locations/{}/unregister", s.id);
    let (admin, csrf) = session(&s.state, "ad").await;
    let register = form(&[
        ("type", "file"),
        ("target", s.dir.path().join("second").to_str().unwrap()),
        ("step", "register"),
    ]);
    for (uri, body) in [
        (refresh.as_str(), String::new()),
        (unregister.as_str(), String::new()),
        ("/locations/register", register.clone()),
        ("/catalog/default/component/shop/refresh", String::new()),
    ] {
        for token in ["", "csrf=wrong&"] {
            let answer = post(&s.state, uri, Some(&admin), &format!("{token}{body}")).await;
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{uri} {token}");
            assert!(answer.body.contains("CSRF"), "{uri}: {}", answer.body);
        }
    }
    assert_eq!(location_count(&s.state).await, 1);
    assert_eq!(
        audit(&s.state, "location.refresh").await.len(),
        1,
        "only the first reading"
    );

    // With the token, but sent from another site's page: refused as well.
    let with_token = format!("csrf={csrf}&{register}");
    for headers in [
        &[("origin", "https://evil.example")][..],
        &[("sec-fetch-site", "cross-site")][..],
    ] {
        let answer = send(
            &s.state,
            "POST",
            "/locations/register",
            Some(&admin),
            Some(&with_token),
            headers,
        )
        .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN);
        assert!(answer.body.contains("another site"));
    }
    assert_eq!(location_count(&s.state).await, 1);
    let same = send(
        &s.state,
        "POST",
        "/locations/register",
        Some(&admin),
        Some(&with_token),
        &[
            ("origin", "http://localhost"),
            ("sec-fetch-site", "same-origin"),
        ],
    )
    .await;
    assert_eq!(same.status, StatusCode::CREATED, "{}", same.body);
    assert_eq!(location_count(&s.state).await, 2);
}

#[tokio::test]
async fn without_auth_forms_from_other_sites_are_refused() {
    let s = setup(None).await;
    let refresh = format!("/locations/{}/refresh", s.id);
    let cross = [("origin", "https://evil.example")];
    for uri in [
        refresh.as_str(),
        &format!("/locations/{}/unregister", s.id),
        "/catalog/default/component/shop/refresh",
    ] {
        let answer = send(&s.state, "POST", uri, None, Some(""), &cross).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{uri}");
    }
    assert_eq!(location_count(&s.state).await, 1);
    // Wrong methods: the portal does not take them.
    for (method, uri) in [
        ("GET", refresh.as_str()),
        ("DELETE", "/locations/register"),
        ("PUT", "/locations"),
    ] {
        let answer = send(&s.state, method, uri, None, None, &[]).await;
        assert_eq!(
            answer.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {uri}"
        );
    }
}
