//! The shared store suite against a real PostgreSQL server.

#![allow(clippy::unwrap_used)]

use pave_store_postgres::PostgresStore;
use pave_store_postgres::testing::TestDatabase;

#[tokio::test]
async fn postgres_passes_the_store_suite() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let store = PostgresStore::connect(&db.url).await.unwrap();
    pave_store::testsuite::run_all(&store).await;
    // Connecting again finds the schema in place.
    let again = PostgresStore::connect(&db.url).await.unwrap();
    assert_eq!(
        pave_store::Store::locations(&again).await.unwrap(),
        pave_store::Store::locations(&store).await.unwrap()
    );
    again.close().await;
    store.close().await;
    db.drop_database().await;
}

#[tokio::test]
async fn unreachable_servers_are_clear_errors_without_passwords() {
    let err = PostgresStore::connect("postgres://user:secret@127.0.0.1:1/db")
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("cannot open the database postgres://user:***@127.0.0.1:1/db"),
        "{text}"
    );
    assert!(!text.contains("secret"), "{text}");
}

/// LISTEN/NOTIFY: a replica waiting for changes wakes when another one commits, long before
/// its poll interval; with nothing written it waits the whole interval.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_database_keep_one_audit_chain() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let first = PostgresStore::connect(&db.url).await.unwrap();
    let second = PostgresStore::connect(&db.url).await.unwrap();
    pave_store::testsuite::two_writers_keep_one_chain(&first, &second).await;
    first.close().await;
    second.close().await;
    db.drop_database().await;
}

#[tokio::test]
async fn a_change_through_one_store_wakes_another_at_once() {
    use pave_store::{LocationKind, Store};
    use std::time::{Duration, Instant};
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let writer = PostgresStore::connect(&db.url).await.unwrap();
    let follower = PostgresStore::connect(&db.url).await.unwrap();
    // The first wait starts the listener and returns at once (a change may have been missed
    // before it listened).
    assert!(follower.wait_for_change(Duration::from_secs(5)).await);
    let quiet = Instant::now();
    follower.wait_for_change(Duration::from_millis(300)).await;
    assert!(
        quiet.elapsed() >= Duration::from_millis(250),
        "woke with no change"
    );

    let before = follower.change_version().await.unwrap();
    let waiting = tokio::spawn(async move {
        let started = Instant::now();
        follower.wait_for_change(Duration::from_secs(20)).await;
        (started.elapsed(), follower)
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    writer
        .add_location(LocationKind::File, "/catalog/notify", 1, &[])
        .await
        .unwrap();
    let (waited, follower) = waiting.await.unwrap();
    assert!(waited < Duration::from_secs(5), "woken after {waited:?}");
    assert!(follower.change_version().await.unwrap() > before);
    writer.close().await;
    follower.close().await;
    db.drop_database().await;
}

/// The audit log refuses changes and deletions below the database's own triggers, whoever
/// connects: only records a retention checkpoint released may go.
#[tokio::test]
async fn the_audit_log_is_append_only_in_the_database() {
    use pave_store::IdentityStore as _;
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let store = PostgresStore::connect(&db.url).await.unwrap();
    store
        .append_audit(&[
            pave_store::testsuite::sample_event(1),
            pave_store::testsuite::sample_event(2),
        ])
        .await
        .unwrap();
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    for statement in [
        "UPDATE audit_log SET action = 'x' WHERE seq = 1",
        "DELETE FROM audit_log WHERE seq = 1",
        "TRUNCATE audit_log",
        "UPDATE audit_checkpoints SET key_id = 'x'",
        "INSERT INTO audit_log (seq, time_ms, actor_kind, actor_id, action, target, outcome, details, prev_hash, hash) VALUES (3, 0, 'user', 'x', 'x', 'x', 'success', '{}', 'forged', 'forged')",
    ] {
        let err = sqlx::query(statement).execute(&pool).await.unwrap_err();
        assert!(
            err.to_string().contains("append-only")
                || err.to_string().contains("does not extend the chain"),
            "{statement}: {err}"
        );
    }
    let mut seqs = Vec::new();
    store
        .visit_audit(0, &mut |r| seqs.push(r.seq))
        .await
        .unwrap();
    assert_eq!(seqs, vec![1, 2]);
    pool.close().await;
    store.close().await;
    db.drop_database().await;
}
