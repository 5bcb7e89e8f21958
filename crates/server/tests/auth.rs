//! Authentication and authorization through the full router, with tokens in a real SQLite
//! store: 401s for missing, unknown, malformed, revoked and expired tokens; roles' limits
//! (403 and an audit record); an editor may register `url` locations but not `file` ones.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use pave_ingest::IngestConfig;
use pave_server::AppState;
use pave_store::audit::Outcome;
use pave_store::{AuditQuery, TokenRow};
use serde_json::{Value, json};
use tower::ServiceExt;

struct Setup {
    _dir: tempfile::TempDir,
    state: Arc<AppState>,
}

async fn setup(auth: Option<Value>) -> Setup {
    let dir = tempfile::tempdir().unwrap();
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
    state.reload().await.unwrap();
    let policy = auth.map(|v| {
        let config: pave_auth::AuthConfig = serde_json::from_value(v).unwrap();
        Arc::new(config.validate().unwrap())
    });
    state.set_access_policy(policy);
    Setup { _dir: dir, state }
}

fn now() -> i64 {
    pave_ingest::now_millis()
}

/// A token of `role`; `revoked`/`expired` as named.
async fn token(state: &AppState, id: &str, role: &str, revoked: bool, expired: bool) -> String {
    let (secret, hash) = pave_auth::TokenSecret::generate().unwrap();
    let row = TokenRow {
        id: id.into(),
        name: format!("{id}-name"),
        owner: String::new(),
        role: role.into(),
        hash: hash.as_str().into(),
        created_at: now() - 100,
        expires_at: if expired {
            now() - 1
        } else {
            now() + 3_600_000
        },
        last_used_at: None,
        revoked_at: revoked.then(|| now() - 10),
    };
    state
        .platform
        .store()
        .create_token(&row, &[])
        .await
        .unwrap();
    secret
}

async fn call(
    state: &Arc<AppState>,
    method: &str,
    uri: &str,
    bearer: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, "127.0.0.1");
    if let Some(secret) = bearer {
        request = request.header(header::AUTHORIZATION, format!("Bearer {secret}"));
    }
    let body = match body {
        Some(v) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    let response = pave_server::router(Arc::clone(state))
        .oneshot(request.body(body).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, headers, value)
}

async fn audit(state: &AppState, action: &str) -> Vec<pave_store::audit::AuditRecord> {
    let query = AuditQuery {
        action: Some(action.into()),
        limit: 100,
        ..AuditQuery::default()
    };
    state.platform.store().audit_records(&query).await.unwrap()
}

#[tokio::test]
async fn credentials_are_checked_before_anything_is_read() {
    let s = setup(Some(json!({}))).await;
    let viewer = token(&s.state, "t-viewer", "viewer", false, false).await;
    let revoked = token(&s.state, "t-revoked", "viewer", true, false).await;
    let expired = token(&s.state, "t-expired", "viewer", false, true).await;
    let (unknown, _) = pave_auth::TokenSecret::generate().unwrap();
    // (bearer, status, message part)
    let cases: &[(Option<&str>, StatusCode, &str)] = &[
        (None, StatusCode::UNAUTHORIZED, "authentication required"),
        (Some(&viewer), StatusCode::OK, ""),
        (Some(&revoked), StatusCode::UNAUTHORIZED, "revoked"),
        (Some(&expired), StatusCode::UNAUTHORIZED, "expired"),
        (Some(&unknown), StatusCode::UNAUTHORIZED, "unknown token"),
        (Some("pave_x"), StatusCode::UNAUTHORIZED, "not a pave token"),
        (
            Some("ghp_abc"),
            StatusCode::UNAUTHORIZED,
            "not a pave token",
        ),
    ];
    for (bearer, want, part) in cases {
        let (status, headers, body) =
            call(&s.state, "GET", "/api/catalog/entities", *bearer, None).await;
        assert_eq!(status, *want, "{bearer:?}: {body}");
        if *want == StatusCode::UNAUTHORIZED {
            let message = body["error"]["message"].as_str().unwrap();
            assert!(message.contains(part), "{bearer:?}: {message}");
            assert_eq!(body["error"]["name"], "AuthenticationError");
            assert_eq!(body["response"]["statusCode"], 401);
            assert!(
                headers[header::WWW_AUTHENTICATE]
                    .to_str()
                    .unwrap()
                    .starts_with("Bearer")
            );
        }
    }
    // Health stays public; metrics need admin.
    let (status, _, _) = call(&s.state, "GET", "/healthz", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = call(&s.state, "GET", "/metrics", Some(&viewer), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Failed authentications are audited without the secret, rate-limited per client
    // (the test client has no address: one record for all of them within 10 s).
    let failed = audit(&s.state, "auth.failed").await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].event.outcome, Outcome::Denied);
    let text = serde_json::to_string(&failed[0].event.details).unwrap();
    for secret in [&revoked, &expired, &unknown] {
        assert!(!text.contains(secret.as_str()));
    }
    // The viewer's token use was recorded.
    let row = s
        .state
        .platform
        .store()
        .token("t-viewer")
        .await
        .unwrap()
        .unwrap();
    assert!(row.last_used_at.is_some());
}

#[tokio::test]
async fn roles_limit_what_tokens_may_do_and_denials_are_audited() {
    let s = setup(Some(json!({}))).await;
    let viewer = token(&s.state, "t-viewer", "viewer", false, false).await;
    let editor = token(&s.state, "t-editor", "editor", false, false).await;
    let admin = token(&s.state, "t-admin", "admin", false, false).await;
    let file = s._dir.path().join("catalog-info.yaml");
    std::fs::write(&file, "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: x}\nspec: {type: service, lifecycle: production, owner: team-a}\n").unwrap();
    let file_location = json!({"type": "file", "target": file.to_str().unwrap()});
    // A url location the server cannot fetch: authorization passes, reading does not.
    let url_location = json!({"type": "url", "target": "https://127.0.0.1:9/catalog-info.yaml"});
    let dry = "/api/catalog/locations?dryRun=true";
    // (bearer, body, 403 or not)
    let cases: &[(&str, &Value, bool)] = &[
        (&viewer, &url_location, true),
        (&viewer, &file_location, true),
        (&editor, &url_location, false),
        (&editor, &file_location, true),
        (&admin, &file_location, false),
    ];
    for (bearer, body, forbidden) in cases {
        let (status, _, answer) =
            call(&s.state, "POST", dry, Some(bearer), Some((*body).clone())).await;
        if *forbidden {
            assert_eq!(status, StatusCode::FORBIDDEN, "{body}: {answer}");
            assert_eq!(answer["error"]["name"], "NotAllowedError");
            let message = answer["error"]["message"].as_str().unwrap();
            assert!(message.contains("catalog.location.create"), "{message}");
        } else {
            assert_ne!(status, StatusCode::FORBIDDEN, "{body}: {answer}");
            assert_ne!(status, StatusCode::UNAUTHORIZED, "{body}: {answer}");
        }
    }
    // The viewer reads; the viewer's denial is on record with its reason.
    let (status, _, _) = call(
        &s.state,
        "GET",
        "/api/catalog/locations",
        Some(&viewer),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let denied = audit(&s.state, "auth.denied").await;
    assert_eq!(denied.len(), 3, "{denied:?}");
    let viewer_denial = denied
        .iter()
        .find(|r| r.event.actor.id == "t-viewer")
        .unwrap();
    assert_eq!(viewer_denial.event.outcome, Outcome::Denied);
    assert_eq!(
        viewer_denial.event.details["permission"],
        "catalog.location.create"
    );
    let reasons: Vec<&str> = denied
        .iter()
        .map(|r| r.event.details["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons.contains(&"role viewer lacks catalog.location.create"),
        "{reasons:?}"
    );
    // The admin registers the file location; the record names the token.
    let (status, _, answer) = call(
        &s.state,
        "POST",
        "/api/catalog/locations",
        Some(&admin),
        Some(file_location.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let created = audit(&s.state, "location.create").await;
    assert!(
        created.iter().any(|r| r.event.actor.id == "t-admin"),
        "{created:?}"
    );
    // A viewer may not delete it or refresh.
    let id = answer["location"]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/catalog/locations/{id}");
    let (status, _, _) = call(&s.state, "DELETE", &path, Some(&viewer), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = call(
        &s.state,
        "POST",
        "/api/catalog/refresh",
        Some(&viewer),
        Some(json!({"entityRef": "component:default/x"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = call(&s.state, "DELETE", &path, Some(&editor), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn without_an_auth_section_everyone_is_the_operator() {
    let s = setup(None).await;
    for (method, uri) in [
        ("GET", "/api/catalog/entities"),
        ("GET", "/metrics"),
        ("GET", "/api/catalog/locations"),
    ] {
        let (status, _, _) = call(&s.state, method, uri, None, None).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
    }
    // A token is not even looked at.
    let (status, _, _) = call(
        &s.state,
        "GET",
        "/api/catalog/entities",
        Some("pave_x"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

/// A token revoked elsewhere (the CLI, another replica) stops working within the cache's
/// lifetime: looked-up tokens are trusted for `TOKEN_CACHE_FOR` (5 s) without a query.
#[tokio::test]
async fn a_token_revoked_elsewhere_stops_within_seconds() {
    let s = setup(Some(json!({}))).await;
    let secret = token(&s.state, "t-cached", "viewer", false, false).await;
    let read = || {
        call(
            &s.state,
            "GET",
            "/api/catalog/entities",
            Some(&secret),
            None,
        )
    };
    assert_eq!(read().await.0, StatusCode::OK);
    let store = s.state.platform.store();
    assert!(store.revoke_token("t-cached", now(), &[]).await.unwrap());
    let revoked_at = std::time::Instant::now();
    let deadline = revoked_at + std::time::Duration::from_secs(8);
    loop {
        let (status, _, _) = read().await;
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert_eq!(status, StatusCode::OK);
        assert!(
            std::time::Instant::now() < deadline,
            "still accepted 8 s after revocation"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(
        revoked_at.elapsed() >= std::time::Duration::from_secs(4),
        "answered from the cache meanwhile ({:?})",
        revoked_at.elapsed()
    );
}
