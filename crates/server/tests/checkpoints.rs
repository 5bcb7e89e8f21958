//! Signed checkpoints written by the server (`auth.audit`): every `checkpointEvery` records
//! (the upkeep run by hand, then the background task at a short interval), on demand through
//! `POST /api/audit/checkpoints` (administrators only), and retention expiring old records
//! after a checkpoint, leaving a chain that still verifies.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use pave_ingest::IngestConfig;
use pave_platform::Principal;
use pave_server::AppState;
use pave_server::checkpoints::{AuditUpkeep, audit_upkeep, run_audit_upkeep};
use pave_store::audit::{AuditRecord, Checkpoint, Outcome, SigningKey};
use pave_store::{AuditQuery, TokenRow};
use serde_json::{Value, json};
use tower::ServiceExt;

const DAY_MS: i64 = 86_400_000;

struct Setup {
    _dir: tempfile::TempDir,
    state: Arc<AppState>,
    key: SigningKey,
}

async fn setup(audit: Value, with_key: bool) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let store = pave_store_sqlite::SqliteStore::open(&dir.path().join("pave.db"))
        .await
        .unwrap();
    let state = AppState::new(Arc::new(store), IngestConfig::default());
    state.reload().await.unwrap();
    let config: pave_auth::AuthConfig = serde_json::from_value(json!({"audit": audit})).unwrap();
    state.set_access_policy(Some(Arc::new(config.validate().unwrap())));
    let key = SigningKey::generate().unwrap();
    if with_key {
        state.set_audit_signing_key(Some(SigningKey::from_pem(&key.to_pem()).unwrap()));
    }
    Setup {
        _dir: dir,
        state,
        key,
    }
}

/// Appends `n` records dated `time_ms`.
async fn append(state: &AppState, n: usize, time_ms: i64) {
    let events: Vec<_> = (0..n)
        .map(|i| {
            let mut e = Principal::Operator.event(
                "test.event",
                &format!("t{i}"),
                Outcome::Success,
                json!({}),
            );
            e.time_ms = time_ms;
            e
        })
        .collect();
    state.platform.store().append_audit(&events).await.unwrap();
}

async fn records(state: &AppState) -> Vec<AuditRecord> {
    let mut all = Vec::new();
    state
        .platform
        .store()
        .visit_audit(0, &mut |r| all.push(r))
        .await
        .unwrap();
    all
}

async fn checkpoint_seqs(state: &AppState) -> Vec<i64> {
    let all = state.platform.store().checkpoints().await.unwrap();
    all.iter().map(|c| c.seq).collect()
}

fn now() -> i64 {
    pave_ingest::now_millis()
}

#[tokio::test]
async fn a_checkpoint_every_n_records() {
    let s = setup(
        json!({"signingKey": "unused.pem", "checkpointEvery": 5}),
        true,
    )
    .await;
    // (records appended, checkpoint seqs afterwards)
    let steps: &[(usize, &[i64])] = &[
        (0, &[]),
        (4, &[]),
        (1, &[5]),
        (3, &[5]),
        (3, &[5, 11]),
        (12, &[5, 11, 23]),
    ];
    for (n, want) in steps {
        append(&s.state, *n, now()).await;
        let report = audit_upkeep(&s.state, now(), true).await.unwrap();
        assert_eq!(&checkpoint_seqs(&s.state).await, want, "after {n} more");
        assert!(report.expired.is_none());
        if let Some(c) = report.checkpoint {
            assert!(s.key.public().verify_checkpoint(&c));
            assert_eq!(c.seq, *want.last().unwrap());
        }
    }
    let report = pave_store::audit::verify(
        records(&s.state).await.into_iter().map(Ok::<_, String>),
        &s.state.platform.store().checkpoints().await.unwrap(),
        Some(&s.key.public()),
        None,
    );
    assert!(report.is_ok(), "{report}");
    assert_eq!(
        (report.checkpoints_matched, report.signatures_verified),
        (3, 3)
    );

    // Without a key the upkeep writes nothing, whatever the growth.
    let keyless = setup(json!({"checkpointEvery": 1}), false).await;
    append(&keyless.state, 3, now()).await;
    let report = audit_upkeep(&keyless.state, now(), true).await.unwrap();
    assert_eq!(report, pave_server::checkpoints::UpkeepReport::default());
    assert!(checkpoint_seqs(&keyless.state).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_task_writes_them() {
    let s = setup(
        json!({"signingKey": "unused.pem", "checkpointEvery": 3}),
        true,
    )
    .await;
    let options = AuditUpkeep {
        interval: Duration::from_millis(50),
        retention_every: Duration::from_secs(3600),
    };
    let task = tokio::spawn(run_audit_upkeep(Arc::clone(&s.state), options));
    append(&s.state, 7, now()).await;
    // Only the replica that leads the scheduled work looks after the chain.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        checkpoint_seqs(&s.state).await.is_empty(),
        "written without the lead"
    );
    let lead = tokio::spawn(Arc::clone(&s.state.platform).keep_the_lead());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while checkpoint_seqs(&s.state).await.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "no checkpoint within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(checkpoint_seqs(&s.state).await, [7]);
    task.abort();
    lead.abort();
}

#[tokio::test]
async fn retention_expires_old_records_after_a_checkpoint() {
    let s = setup(
        json!({"signingKey": "unused.pem", "checkpointEvery": 1000, "retention": "30d"}),
        true,
    )
    .await;
    append(&s.state, 4, now() - 40 * DAY_MS).await;
    append(&s.state, 2, now() - 31 * DAY_MS).await;
    append(&s.state, 3, now() - 29 * DAY_MS).await;
    // Not this run: retention is not due.
    let report = audit_upkeep(&s.state, now(), false).await.unwrap();
    assert!(report.expired.is_none());
    assert_eq!(records(&s.state).await.len(), 9);

    let report = audit_upkeep(&s.state, now(), true).await.unwrap();
    let (checkpoint, removed) = report.expired.unwrap();
    assert_eq!((checkpoint.seq, removed), (6, 6));
    assert!(s.key.public().verify_checkpoint(&checkpoint));
    let left = records(&s.state).await;
    let seqs: Vec<i64> = left.iter().map(|r| r.seq).collect();
    // Records 7–9, and the expiry's own record.
    assert_eq!(seqs, [7, 8, 9, 10]);
    assert_eq!(left[3].event.action, "audit.expire");
    assert_eq!(left[3].event.details["removed"], 6);
    // What remains verifies from the checkpoint of the last record to go.
    let checkpoints = s.state.platform.store().checkpoints().await.unwrap();
    let anchor: &Checkpoint = checkpoints.iter().find(|c| c.seq == 6).unwrap();
    let report = pave_store::audit::verify(
        left.into_iter().map(Ok::<_, String>),
        &checkpoints,
        Some(&s.key.public()),
        Some(anchor),
    );
    assert!(report.is_ok(), "{report}");
    // Nothing older is left: the next run removes nothing.
    let report = audit_upkeep(&s.state, now(), true).await.unwrap();
    assert!(report.expired.is_none());
}

async fn token(state: &AppState, role: &str) -> String {
    let (secret, hash) = pave_auth::TokenSecret::generate().unwrap();
    let row = TokenRow {
        id: format!("t-{role}"),
        name: role.into(),
        owner: String::new(),
        role: role.into(),
        hash: hash.as_str().into(),
        created_at: now() - 100,
        expires_at: now() + 3_600_000,
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

async fn post_checkpoint(state: &Arc<AppState>, bearer: &str) -> (StatusCode, Value) {
    let request = Request::builder()
        .method("POST")
        .uri("/api/audit/checkpoints")
        .header(header::HOST, "127.0.0.1")
        .header(header::AUTHORIZATION, format!("Bearer {bearer}"))
        .body(Body::empty())
        .unwrap();
    let response = pave_server::router(Arc::clone(state))
        .oneshot(request)
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

#[tokio::test]
async fn administrators_write_one_on_demand() {
    let s = setup(json!({"signingKey": "unused.pem"}), true).await;
    let admin = token(&s.state, "admin").await;
    let viewer = token(&s.state, "viewer").await;
    append(&s.state, 3, now()).await;

    let (status, body) = post_checkpoint(&s.state, &viewer).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = post_checkpoint(&s.state, &admin).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let checkpoint = Checkpoint::from_json(&body.to_string()).unwrap();
    assert!(s.key.public().verify_checkpoint(&checkpoint));
    // It vouches for the chain through its own request's record (after the viewer's refusal).
    let head = s.state.platform.store().audit_head().await.unwrap();
    assert_eq!((checkpoint.seq, checkpoint.hash), (head.seq, head.hash));
    let own = s
        .state
        .platform
        .store()
        .audit_records(&AuditQuery {
            action: Some("audit.checkpoint".into()),
            limit: 5,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(own.len(), 1);
    assert_eq!(own[0].seq, head.seq);
    assert_eq!(own[0].event.actor.id, "t-admin");
    assert_eq!(checkpoint_seqs(&s.state).await, [head.seq]);

    // Without a key: a 409 that says what to configure.
    let keyless = setup(json!({}), false).await;
    let admin = token(&keyless.state, "admin").await;
    let (status, body) = post_checkpoint(&keyless.state, &admin).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("auth.audit.signingKey"),
        "{body}"
    );
}
