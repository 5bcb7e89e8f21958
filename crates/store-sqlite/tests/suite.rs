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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_file_keep_one_audit_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pave.db");
    let first = SqliteStore::open(&path).await.unwrap();
    let second = SqliteStore::open(&path).await.unwrap();
    pave_store::testsuite::two_writers_keep_one_chain(&first, &second).await;
    first.close().await;
    second.close().await;
}

/// What a newer pave leaves behind: a migration this one does not know, raising
/// `readable_by` (one this pave may not run beside) or not (an additive one).
async fn migrate_as_a_newer_pave(path: &std::path::Path, raise_readable_by: bool) {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (999, 'from the future', TRUE, x'00', 0)",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("CREATE TABLE from_the_future (a TEXT)")
        .execute(&pool)
        .await
        .unwrap();
    if raise_readable_by {
        sqlx::query("UPDATE pave_schema_compat SET readable_by = 999")
            .execute(&pool)
            .await
            .unwrap();
    }
    pool.close().await;
}

#[tokio::test]
async fn a_newer_paves_additive_schema_is_run_beside() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pave.db");
    let store = SqliteStore::open(&path).await.unwrap();
    pave_store::Store::add_location(&store, pave_store::LocationKind::File, "/x", 1, &[])
        .await
        .unwrap();
    store.close().await;
    migrate_as_a_newer_pave(&path, false).await;
    // This pave (N-1 to the one that migrated) reads and writes on.
    let store = SqliteStore::open(&path).await.unwrap();
    let status = pave_store::Store::schema_status(&store).await.unwrap();
    assert_eq!(status.newer, vec![999]);
    assert!(status.pending.is_empty() && status.check_runnable().is_ok());
    pave_store::Store::add_location(&store, pave_store::LocationKind::File, "/y", 2, &[])
        .await
        .unwrap();
    assert_eq!(pave_store::Store::locations(&store).await.unwrap().len(), 2);
    store.close().await;
}

#[tokio::test]
async fn a_database_upgraded_by_a_newer_pave_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pave.db");
    SqliteStore::open(&path).await.unwrap().close().await;
    migrate_as_a_newer_pave(&path, true).await;
    let err = SqliteStore::open(&path).await.unwrap_err();
    assert!(
        matches!(err, pave_store::StoreError::SchemaNewer(999)),
        "{err:?}"
    );
    assert!(err.to_string().contains("newer pave"), "{err}");
    let status = SqliteStore::inspect(&path).await.unwrap();
    assert_eq!((status.newer, status.readable_by), (vec![999], Some(999)));
}

/// A database from before a migration is brought up to date with its data; and each
/// migration after the compatibility marker is additive or raises `readable_by`.
#[tokio::test]
async fn migrations_keep_the_previous_version_running() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pave.db");
    let fresh = SqliteStore::inspect(&path).await.unwrap();
    assert!(fresh.applied.is_empty() && !path.exists());
    let store = SqliteStore::open(&path).await.unwrap();
    let status = pave_store::Store::schema_status(&store).await.unwrap();
    assert!(status.is_current(), "{status:?}");
    let readable_by = status.readable_by.unwrap();
    store.close().await;
    let migrations = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut checked = 0;
    for entry in std::fs::read_dir(&migrations).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let version: i64 = name[..4].parse().unwrap();
        assert!(version <= status.known, "{name} is not in MIGRATIONS");
        if version > readable_by {
            let sql = std::fs::read_to_string(&path).unwrap();
            let breaking = pave_store::schema::breaking_statements(&sql);
            assert!(
                breaking.is_empty(),
                "{name} would stop the previous pave during a rolling upgrade: {breaking:?}; \
                 make it additive or set pave_schema_compat.readable_by = {version} in it"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, status.known - readable_by);
}

#[tokio::test]
async fn reopening_keeps_data_and_does_not_remigrate() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pave.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let (loc, _) =
        pave_store::Store::add_location(&store, pave_store::LocationKind::File, "/x", 1, &[])
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

/// The audit log refuses changes and deletions below the database's own triggers, whoever
/// opens the file: only records a retention checkpoint released may go.
#[tokio::test]
async fn the_audit_log_is_append_only_in_the_database() {
    use pave_store::IdentityStore as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pave.db");
    let store = SqliteStore::open(&path).await.unwrap();
    store
        .append_audit(&[
            pave_store::testsuite::sample_event(1),
            pave_store::testsuite::sample_event(2),
        ])
        .await
        .unwrap();
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    for statement in [
        "UPDATE audit_log SET action = 'x' WHERE seq = 1",
        "DELETE FROM audit_log WHERE seq = 1",
        "DELETE FROM audit_log",
        "UPDATE audit_checkpoints SET key_id = 'x'",
        "INSERT INTO audit_log (seq, time_ms, actor_kind, actor_id, action, target, outcome, details, prev_hash, hash) VALUES (3, 0, 'user', 'x', 'x', 'x', 'success', '{}', 'forged', 'forged')",
    ] {
        let result = sqlx::query(statement).execute(&pool).await;
        // Statements that match no row (the checkpoints table is empty) change nothing.
        if let Err(err) = result {
            assert!(
                err.to_string().contains("append-only")
                    || err.to_string().contains("cannot be changed")
                    || err.to_string().contains("does not extend the chain"),
                "{statement}: {err}"
            );
        } else {
            assert!(
                statement.contains("audit_checkpoints"),
                "{statement} went through"
            );
        }
    }
    let mut seqs = Vec::new();
    store
        .visit_audit(0, &mut |r| seqs.push(r.seq))
        .await
        .unwrap();
    assert_eq!(seqs, vec![1, 2]);
    pool.close().await;
    store.close().await;
}

/// A ledger row costs its bytes and little more on disk (the target is at most 200 bytes a
/// deployment): the table is WITHOUT ROWID, so its rows live in the primary key's b-tree
/// alone (~161 bytes a row here; a rowid table with its key index took ~176, and more the
/// longer the keys).
#[tokio::test]
async fn ledger_rows_stay_small_on_disk() {
    use pave_store::{DeliveryStore as _, LedgerRow};
    const ROWS: u64 = 20_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pave.db");
    let page_bytes = |pool: sqlx::SqlitePool| async move {
        let count: i64 = sqlx::query_scalar("PRAGMA page_count")
            .fetch_one(&pool)
            .await
            .unwrap();
        let size: i64 = sqlx::query_scalar("PRAGMA page_size")
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        count * size
    };
    let url = format!("sqlite://{}", path.display());
    let store = SqliteStore::open(&path).await.unwrap();
    let empty = page_bytes(sqlx::SqlitePool::connect(&url).await.unwrap()).await;
    // Keys like a deployment's id (63 bits in hex), arriving in no particular order.
    let rows: Vec<LedgerRow> = (0..ROWS)
        .map(|n| LedgerRow {
            kind: 1,
            key: format!("{:016x}", n.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 1),
            body: (0..120).map(|i| b'a' + ((n + i) % 26) as u8).collect(),
        })
        .collect();
    for (i, chunk) in rows.chunks(1_000).enumerate() {
        store.commit_ledger(chunk, i as i64 + 1, &[]).await.unwrap();
    }
    assert_eq!(store.delivery_stats().await.unwrap().ledger_rows, ROWS);
    let used = page_bytes(sqlx::SqlitePool::connect(&url).await.unwrap()).await - empty;
    let per_row = used as f64 / ROWS as f64;
    assert!(
        (140.0..200.0).contains(&per_row),
        "{per_row:.1} bytes a ledger row"
    );
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let rowid = sqlx::query("SELECT rowid FROM delivery_ledger LIMIT 1")
        .fetch_optional(&pool)
        .await;
    assert!(rowid.is_err(), "the ledger has rowids");
    pool.close().await;
    store.close().await;
}
