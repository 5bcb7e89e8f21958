//! Workload identity through the full router: CI tokens minted here (ES256 with a key ring
//! generates per run, RS256 with the test RSA key of `crates/auth/tests/fixtures/`), their
//! issuers' discovery documents and key sets served from loopback by a counting HTTP server.
//! A GitHub-Actions-shaped token maps to the Component carrying its repository's slug and
//! records a gate override; every refusal is a 401 naming its reason, audited as
//! `auth.failed`; an unknown `kid` costs one key-set fetch, then refusal.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pave_ingest::IngestConfig;
use pave_server::AppState;
use pave_store::AuditQuery;
use pave_store::audit::ActorKind;
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use serde_json::{Value, json};
use tower::ServiceExt;

const RSA_DER: &[u8] = include_bytes!("../../auth/tests/fixtures/rsa-2048.der");
const RSA_JWK: &str = include_str!("../../auth/tests/fixtures/rsa-2048.jwk.json");
const RSA_KID: &str = "rsa-test-1";

const CATALOG: &str = r"
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: payments-team}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments
  annotations: {github.com/project-slug: acme/payments}
spec: {type: service, lifecycle: production, owner: payments-team}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ledger
  annotations: {github.com/project-slug: acme/ledger}
spec: {type: service, lifecycle: production, owner: payments-team}
";

/// A CI issuer on loopback: `/.well-known/openid-configuration` and `/jwks`, counting the
/// key-set fetches.
struct Issuer {
    url: String,
    jwks_fetches: Arc<AtomicUsize>,
    discovery_fetches: Arc<AtomicUsize>,
}

async fn issuer(jwks: Value) -> Issuer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let jwks_fetches: Arc<AtomicUsize> = Arc::default();
    let discovery_fetches: Arc<AtomicUsize> = Arc::default();
    let discovery = json!({"issuer": url, "jwks_uri": format!("{url}/jwks"),
                           "subject_types_supported": ["public"]});
    let router = axum::Router::new()
        .route(
            "/.well-known/openid-configuration",
            axum::routing::get({
                let (count, doc) = (Arc::clone(&discovery_fetches), discovery.clone());
                move || async move {
                    count.fetch_add(1, Ordering::SeqCst);
                    axum::Json(doc)
                }
            }),
        )
        .route(
            "/mixed-up/.well-known/openid-configuration",
            axum::routing::get({
                // A document naming another issuer (a mix-up): refused.
                let (count, doc) = (Arc::clone(&discovery_fetches), discovery.clone());
                move || async move {
                    count.fetch_add(1, Ordering::SeqCst);
                    axum::Json(doc)
                }
            }),
        )
        .route(
            "/jwks",
            axum::routing::get({
                let count = Arc::clone(&jwks_fetches);
                move || async move {
                    count.fetch_add(1, Ordering::SeqCst);
                    axum::Json(jwks)
                }
            }),
        );
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    Issuer {
        url,
        jwks_fetches,
        discovery_fetches,
    }
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

struct EcKey {
    pair: EcdsaKeyPair,
    kid: String,
}

impl EcKey {
    fn generate(kid: &str) -> EcKey {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        EcKey {
            pair,
            kid: kid.into(),
        }
    }

    fn jwk(&self) -> Value {
        let point = self.pair.public_key().as_ref(); // 0x04 || x || y
        json!({"kty": "EC", "crv": "P-256", "kid": self.kid, "use": "sig", "alg": "ES256",
               "x": b64(&point[1..33]), "y": b64(&point[33..])})
    }

    fn sign(&self, claims: &Value) -> String {
        let header = json!({"alg": "ES256", "typ": "JWT", "kid": self.kid});
        let message = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
        let signature = self
            .pair
            .sign(&SystemRandom::new(), message.as_bytes())
            .unwrap();
        format!("{message}.{}", b64(signature))
    }
}

fn rs256(claims: &Value) -> String {
    let pair = RsaKeyPair::from_der(RSA_DER).unwrap();
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": RSA_KID});
    let message = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
    let mut signature = vec![0; pair.public().modulus_len()];
    pair.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        message.as_bytes(),
        &mut signature,
    )
    .unwrap();
    format!("{message}.{}", b64(signature))
}

fn now() -> i64 {
    pave_ingest::now_millis() / 1000
}

/// A GitHub Actions ID token's claims for `repository` on `git_ref`.
fn github(iss: &str, repository: &str, git_ref: &str, aud: &str) -> Value {
    json!({"iss": iss, "aud": aud, "sub": format!("repo:{repository}:ref:{git_ref}"),
           "repository": repository, "repository_owner": "acme", "ref": git_ref,
           "workflow": "deploy", "run_id": "42", "iat": now() - 5, "nbf": now() - 5, "exp": now() + 300})
}

struct Setup {
    _dir: tempfile::TempDir,
    state: Arc<AppState>,
}

async fn setup(auth: Value) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("catalog-info.yaml"), CATALOG).unwrap();
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
    let source = pave_ingest::Source::Path(dir.path().join("catalog-info.yaml"));
    let locations = state
        .platform
        .register(&pave_platform::Principal::Operator, &[source])
        .await
        .unwrap();
    state.refresh(&locations).await.unwrap();
    let config: pave_auth::AuthConfig = serde_json::from_value(auth).unwrap();
    state.set_access_policy(Some(Arc::new(config.validate().unwrap())));
    Setup { _dir: dir, state }
}

async fn call(
    state: &Arc<AppState>,
    method: &str,
    uri: &str,
    bearer: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, "127.0.0.1")
        .header(header::AUTHORIZATION, format!("Bearer {bearer}"));
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
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn override_body() -> Value {
    json!({"reason": "hotfix for the checkout outage", "target": "component:default/payments",
           "slos": ["payments-availability"]})
}

/// `auth.workload` trusting `github` (discovery) for deployers on main and viewers of the
/// acme organisation, and `gitlab` (a configured `jwksUri`) for viewers of project 42.
fn auth(github: &str, gitlab: &str) -> Value {
    json!({
        "roles": {"deployer": {"permissions": ["catalog.entity.read", "slo.gate.override"]}},
        "workload": [
            {"issuer": github, "audience": "pave", "role": "deployer", "rules": [
                {"claim": "repository", "equalsAnnotation": "github.com/project-slug"},
                {"claim": "ref", "equals": "refs/heads/main"}]},
            {"issuer": github, "audience": "pave-read", "role": "viewer", "rules": [
                {"claim": "repository_owner", "equals": "acme"}]},
            {"issuer": gitlab, "audience": "pave", "jwksUri": format!("{gitlab}/jwks"), "role": "viewer",
             "rules": [{"claim": "project_id", "equals": "42"}]}
        ]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_github_actions_token_acts_for_its_component() {
    let key = EcKey::generate("gh-1");
    let gh = issuer(json!({"keys": [key.jwk()]})).await;
    let rsa: Value = serde_json::from_str(RSA_JWK).unwrap();
    let gl = issuer(json!({"keys": [rsa]})).await;
    let s = setup(auth(&gh.url, &gl.url)).await;

    let main = key.sign(&github(&gh.url, "acme/payments", "refs/heads/main", "pave"));
    let (status, body) = call(
        &s.state,
        "POST",
        "/api/slo/gate/overrides",
        &main,
        Some(override_body()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let records = s
        .state
        .platform
        .store()
        .audit_records(&AuditQuery {
            action: Some("gate.override".into()),
            limit: 10,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(records.len(), 1);
    let actor = &records[0].event.actor;
    assert_eq!(actor.kind, ActorKind::Workload);
    assert_eq!(
        actor.id,
        format!("{}#repo:acme/payments:ref:refs/heads/main", gh.url)
    );
    assert_eq!(actor.role.as_deref(), Some("deployer"));
    assert_eq!(
        records[0].event.details["workloadEntity"],
        "component:default/payments"
    );
    assert_eq!(records[0].seq, body["seq"].as_i64().unwrap());
    // The second token is verified with the cached keys; the discovery document was read once.
    let ledger = key.sign(&github(&gh.url, "acme/ledger", "refs/heads/main", "pave"));
    let (status, _) = call(
        &s.state,
        "GET",
        "/api/catalog/entities/by-name/component/default/ledger",
        &ledger,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(gh.discovery_fetches.load(Ordering::SeqCst), 1);
    assert_eq!(gh.jwks_fetches.load(Ordering::SeqCst), 1);

    // Another audience, another trust: a viewer may read but not override.
    let reader = key.sign(&github(
        &gh.url,
        "acme/tools",
        "refs/heads/dev",
        "pave-read",
    ));
    let (status, _) = call(
        &s.state,
        "GET",
        "/api/catalog/entities/by-name/component/default/payments",
        &reader,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call(
        &s.state,
        "POST",
        "/api/slo/gate/overrides",
        &reader,
        Some(override_body()),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("slo.gate.override denied"),
        "{body}"
    );

    // RS256 from an issuer whose keys are configured (no discovery document read).
    let gitlab = json!({"iss": gl.url, "aud": "pave", "sub": "project_path:acme/payments",
                        "project_id": 42, "iat": now(), "exp": now() + 300});
    let (status, body) = call(
        &s.state,
        "GET",
        "/api/catalog/entities/by-name/component/default/payments",
        &rs256(&gitlab),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(gl.discovery_fetches.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_workload_tokens_are_refused_with_their_reason() {
    let key = EcKey::generate("gh-1");
    let gh = issuer(json!({"keys": [key.jwk()]})).await;
    let rsa: Value = serde_json::from_str(RSA_JWK).unwrap();
    let gl = issuer(json!({"keys": [rsa]})).await;
    let s = setup(auth(&gh.url, &gl.url)).await;
    let stranger = EcKey::generate("gh-1");
    let claims = |changes: Value| {
        let mut c = github(&gh.url, "acme/payments", "refs/heads/main", "pave");
        for (k, v) in changes.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    let good = key.sign(&claims(json!({})));
    let (head, rest) = good.split_once('.').unwrap();
    let (_, signature) = rest.split_once('.').unwrap();
    let forged_payload = b64(claims(json!({"repository": "acme/ledger"})).to_string());
    let tampered = format!("{head}.{forged_payload}.{signature}");
    let none = format!(
        "{}.{}.",
        b64(r#"{"alg":"none"}"#),
        b64(claims(json!({})).to_string())
    );
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "unconfigured issuer",
            key.sign(&claims(json!({"iss": "https://ci.evil.example"}))),
            "issuer https://ci.evil.example is not trusted (auth.workload)",
        ),
        (
            "no entity with the slug",
            key.sign(&claims(json!({"repository": "evil/payments"}))),
            "no catalog entity has github.com/project-slug = \"evil/payments\"",
        ),
        (
            "a rule's claim differs",
            key.sign(&claims(json!({"ref": "refs/heads/feature"}))),
            "claim \"ref\" is \"refs/heads/feature\", expected \"refs/heads/main\"",
        ),
        (
            "wrong audience",
            key.sign(&claims(json!({"aud": "someone-else"}))),
            "wrong audience",
        ),
        (
            "expired",
            key.sign(&claims(json!({"exp": now() - 600}))),
            "expired at",
        ),
        (
            "not yet valid",
            key.sign(&claims(json!({"nbf": now() + 600}))),
            "not valid yet",
        ),
        (
            "signed by another key with the same kid",
            stranger.sign(&claims(json!({}))),
            "bad signature",
        ),
        ("a tampered payload", tampered, "bad signature"),
        ("alg none", none, "algorithm \"none\" is not accepted"),
        (
            "a very long unconfigured issuer, repeated only in part",
            key.sign(&claims(
                json!({"iss": format!("https://{}", "x".repeat(5000))}),
            )),
            "xxx… is not trusted",
        ),
    ];
    for (what, token, want) in &cases {
        let (status, body) = call(
            &s.state,
            "GET",
            "/api/catalog/entities/by-name/component/default/payments",
            token,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.starts_with("workload token: ") && message.contains(want),
            "{what}: want {want}\n got {message}"
        );
        assert!(message.len() < 1000, "{what}: {} bytes", message.len());
    }
    // Refusals are audited (rate-limited per address: the first one here).
    let failed = s
        .state
        .platform
        .store()
        .audit_records(&AuditQuery {
            action: Some("auth.failed".into()),
            limit: 10,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0].event.details["reason"]
            .as_str()
            .unwrap()
            .contains("is not trusted"),
        "{:?}",
        failed[0].event.details
    );
    // None of them got further than one key-set fetch.
    assert_eq!(gh.jwks_fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_kid_fetches_the_keys_once_then_is_refused() {
    let key = EcKey::generate("gh-1");
    let gh = issuer(json!({"keys": [key.jwk()]})).await;
    let rsa: Value = serde_json::from_str(RSA_JWK).unwrap();
    let gl = issuer(json!({"keys": [rsa]})).await;
    let s = setup(auth(&gh.url, &gl.url)).await;
    let claims = github(&gh.url, "acme/payments", "refs/heads/main", "pave");
    let read = |token: String| {
        let state = Arc::clone(&s.state);
        async move {
            call(
                &state,
                "GET",
                "/api/catalog/entities/by-name/component/default/payments",
                &token,
                None,
            )
            .await
        }
    };
    // The first token names a key the issuer does not publish: one fetch, then refusal.
    for i in 0..5 {
        let (status, body) = read(EcKey::generate(&format!("made-up-{i}")).sign(&claims)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("no signing key with kid \"made-up-{i}\""))
                && message.contains("at most once a minute"),
            "{message}"
        );
        // A flood of made-up kids within the minute costs no further fetch.
        assert_eq!(gh.jwks_fetches.load(Ordering::SeqCst), 1, "after {i}");
    }
    // The key set fetched then serves the real key.
    let (status, _) = read(key.sign(&claims)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(gh.jwks_fetches.load(Ordering::SeqCst), 1);
    // API tokens still take their own path.
    let (status, body) = read("pave_not-a-real-token".into()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        !body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("workload"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_issuer_is_a_503_and_tried_once_a_minute() {
    let key = EcKey::generate("gh-1");
    let gh = issuer(json!({"keys": [key.jwk()]})).await;
    let mixed_up = format!("{}/mixed-up", gh.url);
    // A closed port for the configured key set.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let s = setup(json!({"workload": [
        {"issuer": mixed_up, "audience": "pave", "role": "viewer",
         "rules": [{"claim": "repository_owner", "equals": "acme"}]},
        {"issuer": closed, "audience": "pave", "jwksUri": format!("{closed}/jwks"), "role": "viewer",
         "rules": [{"claim": "repository_owner", "equals": "acme"}]}
    ]}))
    .await;
    for round in 0..3 {
        let token = key.sign(&github(
            &mixed_up,
            "acme/payments",
            "refs/heads/main",
            "pave",
        ));
        let (status, body) = call(&s.state, "GET", "/api/catalog/entities", &token, None).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("workload issuer {mixed_up}'s discovery"))
                && message.contains("is for issuer"),
            "{message}"
        );
        assert_eq!(
            gh.discovery_fetches.load(Ordering::SeqCst),
            1,
            "round {round}"
        );
    }
    // Unreachable keys: a 503, not a refusal of the token, also within the minute.
    for round in 0..2 {
        let token = key.sign(&github(&closed, "acme/payments", "refs/heads/main", "pave"));
        let (status, body) = call(&s.state, "GET", "/api/catalog/entities", &token, None).await;
        assert_eq!(
            status,
            StatusCode::SERVICE_UNAVAILABLE,
            "round {round}: {body}"
        );
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(&format!(
                "cannot fetch the keys of workload issuer {closed}"
            )),
            "{message}"
        );
        assert_eq!(
            message.contains("at most once a minute"),
            round > 0,
            "{message}"
        );
    }
}

/// A CI job's token mapped to its Component publishes that Component's check reports, and
/// only that one's: another entity's is a 403, audited with the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workload_token_publishes_check_reports_for_its_entity_only() {
    let key = EcKey::generate("gh-ci");
    let gh = issuer(json!({"keys": [key.jwk()]})).await;
    let s = setup(json!({
        "roles": {"ci": {"permissions": ["events.write"]}},
        "workload": [
            {"issuer": gh.url, "audience": "pave", "role": "ci", "rules": [
                {"claim": "repository", "equalsAnnotation": "github.com/project-slug"}]}
        ]
    }))
    .await;
    let policy = pave_policy::Policy::new(
        pave_policy::PolicyConfig::default(),
        pave_policy::Exceptions::default(),
    );
    let clean = pave_policy_output::StoredReport::from_report(
        &policy.check(&[], Vec::new(), 0),
        &pave_policy_output::RenderOptions::default(),
    );
    let report: Value = serde_json::from_str(&clean.to_json()).unwrap();
    let token = key.sign(&github(&gh.url, "acme/payments", "refs/heads/main", "pave"));

    let (status, body) = call(
        &s.state,
        "POST",
        "/api/guardrails/reports?entity=payments",
        &token,
        Some(report.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["entity"], "component:default/payments");

    let (status, body) = call(
        &s.state,
        "POST",
        "/api/guardrails/reports?entity=ledger",
        &token,
        Some(report),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(
            "a workload token of component:default/payments publishes check reports for component:default/payments only"
        ),
        "{message}"
    );
    let store = s.state.platform.store();
    assert_eq!(
        store
            .latest_check_report("component:default/ledger")
            .await
            .unwrap(),
        None
    );
    let denied = store
        .audit_records(&AuditQuery {
            action: Some("auth.denied".into()),
            limit: 10,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0].event.target, "component:default/ledger");
    assert_eq!(
        denied[0].event.details["workloadEntity"],
        "component:default/payments"
    );
}
