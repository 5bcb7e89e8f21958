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
