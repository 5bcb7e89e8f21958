//! Receiving deliveries against real stores: acknowledged only once committed, duplicates
//! change nothing, refusals are audited and store nothing, limits answer as the server will
//! (404, 401, 413, 400 with a position, 429).

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::*;
use pave_intake::{ErrorKind, Intake, IntakeConfig, Origin};
use pave_store::{AuditQuery, Store};

async fn audit(store: &Arc<dyn Store>, action: &str) -> Vec<pave_audit::AuditRecord> {
    store
        .audit_records(&AuditQuery {
            action: Some(action.to_owned()),
            limit: 100,
            ..AuditQuery::default()
        })
        .await
        .unwrap()
}

async fn signed_deliveries_are_recorded_once(test: &TestStore) {
    let store = test.open().await;
    let intake = Intake::start(store.clone(), config());
    let body = push_body("shop/checkout", 1);
    let headers = github_headers("push", "d-1", SECRET, &body);
    let receipt = intake
        .receive_from(
            &Origin {
                address: Some("192.0.2.7".into()),
                request_id: Some("req-1".into()),
            },
            "github",
            &headers,
            &body,
            NOW,
        )
        .await
        .unwrap();
    assert!(receipt.seq > 0);
    assert!(!receipt.duplicate);
    assert_eq!((receipt.id.as_str(), receipt.events), ("d-1", 1));
    // Committed before the answer: another connection sees it.
    let other = test.open().await;
    let stored = other.delivery("github", "d-1").await.unwrap().unwrap();
    assert_eq!(stored.seq, receipt.seq);
    assert_eq!(stored.body, body);
    assert_eq!(stored.received_at, NOW);
    // The headers a reader needs, never the signature.
    assert!(
        stored.headers.contains("x-github-event"),
        "{}",
        stored.headers
    );
    assert!(!stored.headers.contains("sha256="), "{}", stored.headers);

    // Redelivered (GitHub keeps the id): a duplicate, nothing new stored.
    let again = intake
        .receive("github", &headers, &body, NOW + MINUTE)
        .await
        .unwrap();
    assert!(again.duplicate);
    assert_eq!(again.seq, receipt.seq);
    let stats = other.delivery_stats().await.unwrap();
    assert_eq!(stats.deliveries, 1);
    // The previous secret still works while senders are moved over.
    let body2 = push_body("shop/checkout", 2);
    let old = github_headers("push", "d-2", OLD_SECRET, &body2);
    assert!(
        !intake
            .receive("github", &old, &body2, NOW)
            .await
            .unwrap()
            .duplicate
    );

    // One audit record per acknowledged delivery, naming it.
    let records = audit(&store, "events.receive").await;
    assert_eq!(records.len(), 3);
    // Newest first: the oldest record is the first delivery's.
    let first = records
        .iter()
        .rev()
        .find(|r| r.event.details["secret"] == "current")
        .unwrap();
    assert_eq!(first.event.target, "events/github/d-1");
    assert_eq!(first.event.source.as_deref(), Some("192.0.2.7"));
    assert_eq!(first.event.request_id.as_deref(), Some("req-1"));
    assert_eq!(first.event.details["kind"], "push");
    assert!(
        records
            .iter()
            .any(|r| r.event.details["secret"] == "previous")
    );
}
on_both_stores!(signed_deliveries_are_recorded_once);

async fn refusals_are_audited_and_store_nothing(test: &TestStore) {
    let store = test.open().await;
    let intake = Intake::start(store.clone(), config());
    let body = push_body("shop/checkout", 1);
    let origin = Origin {
        address: Some("198.51.100.9".into()),
        request_id: None,
    };
    // Signed with another secret; signature missing; body changed after signing.
    let wrong = github_headers("push", "d-1", b"not-the-secret", &body);
    let mut missing = github_headers("push", "d-2", SECRET, &body);
    missing.retain(|(name, _)| name != "X-Hub-Signature-256");
    let signed = github_headers("push", "d-3", SECRET, &body);
    let mut tampered = body.clone();
    tampered[10] ^= 1;
    for (headers, body) in [(&wrong, &body), (&missing, &body), (&signed, &tampered)] {
        let err = intake
            .receive_from(&origin, "github", headers, body, NOW)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unauthorized, "{err}");
        assert!(!err.to_string().contains("github-webhook-secret"), "{err}");
    }
    assert_eq!(store.delivery_stats().await.unwrap().deliveries, 0);
    // The first refusal from the address is recorded; the rest in its window are counted
    // into the next record rather than flooding the log.
    let refused = audit(&store, "events.refused").await;
    assert_eq!(refused.len(), 1, "{refused:?}");
    let record = &refused[0].event;
    assert_eq!(record.outcome, pave_audit::Outcome::Denied);
    assert_eq!(record.target, "events/github");
    assert_eq!(record.source.as_deref(), Some("198.51.100.9"));
    assert!(
        record.details["reason"]
            .as_str()
            .unwrap()
            .contains("X-Hub-Signature-256"),
        "{record:?}"
    );
    // Another address gets its own record.
    intake
        .receive_from(
            &Origin {
                address: Some("203.0.113.1".into()),
                request_id: None,
            },
            "github",
            &wrong,
            &body,
            NOW,
        )
        .await
        .unwrap_err();
    assert_eq!(audit(&store, "events.refused").await.len(), 2);
    assert!(audit(&store, "events.receive").await.is_empty());
}
on_both_stores!(refusals_are_audited_and_store_nothing);

async fn limits_and_unreadable_deliveries(test: &TestStore) {
    let store = test.open().await;
    let intake = Intake::start(
        store.clone(),
        IntakeConfig {
            body_limit: 2_000,
            ..config()
        },
    );
    let body = push_body("shop/checkout", 1);
    let headers = github_headers("push", "d-1", SECRET, &body);
    // Unknown and unconfigured sources are not found.
    let err = intake
        .receive("jenkins", &headers, &body, NOW)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = intake
        .receive("gitlab", &headers, &body, NOW)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains("events.sources.gitlab"), "{err}");

    // Over the limit: 413, before the signature is even checked.
    let big = vec![b' '; 2_001];
    let err = intake
        .receive(
            "github",
            &github_headers("push", "d-big", b"whatever", &big),
            &big,
            NOW,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge);
    assert!(err.to_string().contains("2001 bytes"), "{err}");
    assert!(audit(&store, "events.refused").await.is_empty());

    // Malformed JSON, correctly signed: 400 with line and column.
    let bad = b"{\n  \"ref\": \"refs/heads/main\",\n  \"before\": ,\n}".to_vec();
    let err = intake
        .receive(
            "github",
            &github_headers("push", "d-bad", SECRET, &bad),
            &bad,
            NOW,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    assert!(err.to_string().contains("line 3, column 13"), "{err}");
    // A field of the wrong type: its path.
    let wrong = br#"{"ref": "refs/heads/main", "before": "a", "after": "b", "repository": {"full_name": 7, "html_url": "x"}}"#.to_vec();
    let err = intake
        .receive(
            "github",
            &github_headers("push", "d-wrong", SECRET, &wrong),
            &wrong,
            NOW,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    assert!(err.to_string().contains("repository.full_name"), "{err}");
    // An event type pave does not read is accepted, counted as ignored.
    let ping = br#"{"zen": "Keep it logically awesome.", "hook_id": 1}"#.to_vec();
    let receipt = intake
        .receive(
            "github",
            &github_headers("ping", "d-ping", SECRET, &ping),
            &ping,
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(receipt.events, 0);
    assert!(receipt.ignored.unwrap().contains("ping"));
    assert_eq!(store.delivery_stats().await.unwrap().deliveries, 1);
}
on_both_stores!(limits_and_unreadable_deliveries);

async fn a_full_queue_answers_busy_and_loses_nothing(test: &TestStore) {
    let store = test.open().await;
    let intake = Arc::new(Intake::start(
        store.clone(),
        IntakeConfig {
            queue_capacity: 3,
            max_batch: 2,
            ..config()
        },
    ));
    let paused = intake.pause().await;
    let mut tasks = Vec::new();
    for n in 0..12u64 {
        let intake = intake.clone();
        tasks.push(tokio::spawn(async move {
            let body = push_body("shop/checkout", n);
            let headers = github_headers("push", &format!("d-{n}"), SECRET, &body);
            intake.receive("github", &headers, &body, NOW).await
        }));
    }
    // While the writer waits, the queue fills: the rest are told to come back.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(store.delivery_stats().await.unwrap().deliveries, 0);
    drop(paused);
    let mut receipts = Vec::new();
    let mut busy = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(receipt) => receipts.push(receipt),
            Err(err) => {
                assert_eq!(err.kind(), ErrorKind::Busy, "{err}");
                assert!(err.retry_after().unwrap().as_secs() >= 1);
                busy += 1;
            }
        }
    }
    assert!(busy >= 6, "{busy} busy");
    assert!(receipts.len() >= 3, "{} acknowledged", receipts.len());
    // Every acknowledged delivery is stored, and nothing else.
    assert_eq!(
        store.delivery_stats().await.unwrap().deliveries,
        receipts.len() as u64
    );
    for receipt in &receipts {
        assert!(
            store
                .delivery("github", &receipt.id)
                .await
                .unwrap()
                .is_some()
        );
    }
}
on_both_stores!(a_full_queue_answers_busy_and_loses_nothing);

async fn concurrent_callers_share_transactions(test: &TestStore) {
    let store = test.open().await;
    let intake = Arc::new(Intake::start(store.clone(), config()));
    let mut tasks = Vec::new();
    for n in 0..200u64 {
        let intake = intake.clone();
        tasks.push(tokio::spawn(async move {
            let body = push_body("shop/checkout", n);
            // Some ids twice: the second is a duplicate whichever wins.
            let id = format!("d-{}", n % 150);
            let headers = github_headers("push", &id, SECRET, &body);
            intake
                .receive("github", &headers, &body, NOW)
                .await
                .unwrap()
        }));
    }
    let mut duplicates = 0;
    let mut seqs = std::collections::HashMap::new();
    for task in tasks {
        let receipt = task.await.unwrap();
        duplicates += usize::from(receipt.duplicate);
        let seq = *seqs.entry(receipt.id.clone()).or_insert(receipt.seq);
        assert_eq!(seq, receipt.seq, "{}", receipt.id);
    }
    assert_eq!(duplicates, 50);
    assert_eq!(store.delivery_stats().await.unwrap().deliveries, 150);
    // An audit record for every acknowledged delivery, redeliveries included.
    let mut received = 0;
    store
        .visit_audit(1, &mut |record| {
            received += usize::from(record.event.action == "events.receive");
        })
        .await
        .unwrap();
    assert_eq!(received, 200);
}
on_both_stores!(concurrent_callers_share_transactions);
