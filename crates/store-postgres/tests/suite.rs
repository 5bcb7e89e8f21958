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

/// A rolling upgrade on one database: a newer pave's additive migration leaves this one
/// running beside it; one that raises `readable_by` refuses it by name. A backup is pointed
/// at pg_dump.
#[tokio::test]
async fn a_newer_paves_schema_is_run_beside_or_named() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let store = PostgresStore::connect(&db.url).await.unwrap();
    let status = pave_store::Store::schema_status(&store).await.unwrap();
    // Additive migrations after the marker leave `readable_by` behind the newest.
    assert!(
        status.is_current() && status.readable_by.is_some_and(|r| r <= status.known),
        "{status:?}"
    );
    let err = pave_store::Store::backup(&store, std::path::Path::new("/tmp/x"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("pg_dump --format=custom"), "{err}");
    store.close().await;

    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (999, 'from the future', TRUE, '\\x00', 0)",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("CREATE TABLE from_the_future (a TEXT)")
        .execute(&pool)
        .await
        .unwrap();
    let store = PostgresStore::connect(&db.url).await.unwrap();
    pave_store::Store::add_location(&store, pave_store::LocationKind::File, "/y", 2, &[])
        .await
        .unwrap();
    assert_eq!(pave_store::Store::locations(&store).await.unwrap().len(), 1);
    store.close().await;

    sqlx::query("UPDATE pave_schema_compat SET readable_by = 999")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let err = PostgresStore::connect(&db.url).await.unwrap_err();
    assert!(
        matches!(err, pave_store::StoreError::SchemaNewer(999)),
        "{err:?}"
    );
    let status = PostgresStore::inspect(&db.url).await.unwrap();
    assert_eq!((status.newer, status.readable_by), (vec![999], Some(999)));
    db.drop_database().await;
}

/// Each migration after the compatibility marker is additive or raises `readable_by`.
#[test]
fn migrations_keep_the_previous_version_running() {
    let migrations = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let marker = 9;
    for entry in std::fs::read_dir(&migrations).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let version: i64 = name[..4].parse().unwrap();
        if version > marker {
            let sql = std::fs::read_to_string(&path).unwrap();
            let breaking = pave_store::schema::breaking_statements(&sql);
            assert!(
                breaking.is_empty(),
                "{name} would stop the previous pave during a rolling upgrade: {breaking:?}"
            );
        }
    }
}
