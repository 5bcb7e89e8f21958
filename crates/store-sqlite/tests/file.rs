//! The database file as an operator handles it: one server at a time, a backup taken while
//! writers go on (a consistent snapshot), restoring one (the previous database kept), and
//! files that are not backups refused without touching the database.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use pave_store::audit::{Actor, ActorKind, AuditEvent, Outcome};
use pave_store::{IdentityStore, LocationKind, Store, StoreError};
use pave_store_sqlite::SqliteStore;

fn event(n: i64) -> AuditEvent {
    AuditEvent {
        time_ms: 1_000 + n,
        actor: Actor {
            kind: ActorKind::Token,
            id: "token:ci".into(),
            role: Some("editor".into()),
        },
        action: "location.register".into(),
        target: format!("location:{n}"),
        outcome: Outcome::Success,
        source: None,
        request_id: None,
        details: serde_json::json!({"n": n}),
    }
}

/// Every record of `store`'s chain, checked to be one gapless chain ending at the head;
/// returns how many there are.
async fn sound_chain(store: &SqliteStore) -> i64 {
    let mut records = Vec::new();
    store
        .visit_audit(0, &mut |r| records.push(r))
        .await
        .unwrap();
    let mut prev = pave_store::audit::Hash::ZERO;
    for (i, record) in records.iter().enumerate() {
        assert_eq!(
            record.seq,
            i64::try_from(i).unwrap() + 1,
            "gap in the chain"
        );
        assert_eq!(
            record.prev_hash, prev,
            "record {} does not extend",
            record.seq
        );
        assert_eq!(
            record.computed_hash(),
            record.hash,
            "record {} edited",
            record.seq
        );
        prev = record.hash;
    }
    let head = store.audit_head().await.unwrap();
    assert_eq!(head.seq, i64::try_from(records.len()).unwrap());
    assert_eq!(head.hash, prev);
    head.seq
}

async fn locations(path: &Path) -> usize {
    let store = SqliteStore::open(path).await.unwrap();
    let n = store.locations().await.unwrap().len();
    store.close().await;
    n
}

#[tokio::test]
async fn one_server_per_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pave.db");
    let first = SqliteStore::open(&path).await.unwrap();
    let second = SqliteStore::open(&path).await.unwrap();
    let claim = first.claim_serving().unwrap();
    assert!(claim.is_exclusive());
    let err = second.claim_serving().unwrap_err();
    assert!(matches!(err, StoreError::InUse { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains(&path.display().to_string())
            && text.contains(&format!("pid {}", std::process::id()))
            && text.contains("PostgreSQL"),
        "{text}"
    );
    // Other commands still open the file while it is served.
    assert!(second.locations().await.unwrap().is_empty());
    drop(claim);
    assert!(second.claim_serving().unwrap().is_exclusive());
    first.close().await;
    second.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_is_a_consistent_snapshot_while_writers_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pave.db");
    let store = SqliteStore::open(&path).await.unwrap();
    for n in 0..50 {
        store
            .add_location(LocationKind::File, &format!("/src/{n}"), n, &[event(n)])
            .await
            .unwrap();
    }
    // A writer appending records while the backup reads.
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            for n in 0..400 {
                store.append_audit(&[event(1_000 + n)]).await.unwrap();
            }
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let backup_path = dir.path().join("backups/pave-1.db");
    std::fs::create_dir_all(backup_path.parent().unwrap()).unwrap();
    let backup = store.backup(&backup_path).await.unwrap();
    writer.await.unwrap();
    assert!(!dir.path().join("backups/pave-1.db.partial").exists());
    assert_eq!(backup.bytes, std::fs::metadata(&backup_path).unwrap().len());
    assert_eq!(backup.schema, store.schema_status().await.unwrap().known);
    assert!(backup.audit_records >= 50, "{backup:?}");

    let copy = SqliteStore::open(&backup_path).await.unwrap();
    assert_eq!(sound_chain(&copy).await, backup.audit_records);
    assert_eq!(copy.locations().await.unwrap().len(), 50);
    copy.close().await;
    assert_eq!(sound_chain(&store).await, 450);

    // A backup never overwrites, and says which folder is missing.
    let err = store.backup(&backup_path).await.unwrap_err();
    assert!(err.to_string().contains("exists already"), "{err}");
    let nowhere = dir.path().join("no/such/folder/pave.db");
    let err = store.backup(&nowhere).await.unwrap_err().to_string();
    assert!(err.contains("no/such/folder does not exist"), "{err}");
    // PostgreSQL's answer is pg_dump; SQLite's a copy: checked at the edge (CLI tests).
    store.close().await;
}

#[tokio::test]
async fn restoring_keeps_the_database_it_replaces() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pave.db");
    let store = SqliteStore::open(&path).await.unwrap();
    store
        .add_location(LocationKind::File, "/src/a", 1, &[event(1)])
        .await
        .unwrap();
    let backup_path = dir.path().join("backup.db");
    store.backup(&backup_path).await.unwrap();
    store
        .add_location(LocationKind::File, "/src/b", 2, &[event(2)])
        .await
        .unwrap();

    // Refused while a server holds the database; nothing changes.
    let claim = store.claim_serving().unwrap();
    let err = pave_store_sqlite::restore(&backup_path, &path)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InUse { .. }), "{err:?}");
    drop(claim);
    store.close().await;
    assert_eq!(locations(&path).await, 2);

    let restored = pave_store_sqlite::restore(&backup_path, &path)
        .await
        .unwrap();
    assert_eq!(restored.backup.entities, 0);
    assert_eq!(restored.backup.audit_records, 1);
    assert_eq!(locations(&path).await, 1);
    let previous = restored.previous.unwrap();
    assert!(
        previous
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("pave.db.before-restore-")
    );
    // The database that was there, with what its WAL held, is intact beside it.
    assert_eq!(locations(&previous).await, 2);
    let restored_store = SqliteStore::open(&path).await.unwrap();
    assert_eq!(sound_chain(&restored_store).await, 1);
    // The restored chain goes on.
    restored_store.append_audit(&[event(3)]).await.unwrap();
    assert_eq!(sound_chain(&restored_store).await, 2);
    restored_store.close().await;

    // Onto a new machine, where the data folder does not exist yet.
    let elsewhere = dir.path().join("new-machine/data/pave.db");
    let restored = pave_store_sqlite::restore(&backup_path, &elsewhere)
        .await
        .unwrap();
    assert_eq!(restored.previous, None);
    assert_eq!(locations(&elsewhere).await, 1);
}

#[tokio::test]
async fn what_is_not_a_backup_is_refused_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pave.db");
    let store = SqliteStore::open(&path).await.unwrap();
    store
        .add_location(LocationKind::File, "/src/a", 1, &[])
        .await
        .unwrap();
    store.close().await;

    let text_file = dir.path().join("notes.txt");
    std::fs::write(
        &text_file,
        "not a database at all, but long enough to look like one ".repeat(100),
    )
    .unwrap();
    let other = dir.path().join("other.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=rwc", other.display()))
        .await
        .unwrap();
    sqlx::query("CREATE TABLE t (a TEXT)")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let cases = [
        (dir.path().join("missing.db"), "cannot read"),
        (text_file, "cannot be restored"),
        (other, "not a pave one"),
    ];
    for (file, expected) in cases {
        let err = pave_store_sqlite::restore(&file, &path).await.unwrap_err();
        let text = err.to_string();
        assert!(text.contains(expected), "{}: {text}", file.display());
        assert!(text.contains(&file.display().to_string()), "{text}");
        assert_eq!(locations(&path).await, 1, "{}", file.display());
    }
    let leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("restoring") || n.contains("before-restore"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
