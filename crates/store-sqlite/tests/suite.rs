//! The shared store suite against a real SQLite file.

#![allow(clippy::unwrap_used)]

use pave_store_sqlite::SqliteStore;

#[tokio::test]
async fn sqlite_passes_the_store_suite() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("nested/dir/pave.db"))
        .await
        .unwrap();
    pave_store::testsuite::run_all(&store).await;
    store.close().await;
}

#[tokio::test]
async fn reopening_keeps_data_and_does_not_remigrate() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pave.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let (loc, _) = pave_store::Store::add_location(&store, pave_store::LocationKind::File, "/x", 1)
        .await
        .unwrap();
    store.close().await;
    let store = SqliteStore::open(&path).await.unwrap();
    let again = pave_store::Store::location(&store, &loc.id).await.unwrap();
    assert_eq!(again, Some(loc));
}

#[tokio::test]
async fn unopenable_paths_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let err = SqliteStore::open(&file.join("pave.db")).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("cannot open the database sqlite://"),
        "{text}"
    );
    assert!(text.contains("a-file"), "{text}");
}
