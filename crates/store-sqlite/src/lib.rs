//! SQLite implementation of [`pave_store::Store`]: one file, WAL journal, bundled SQLite (no
//! system library needed).

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use pave_store::{Result, StoreError};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "catalog", include_str!("../migrations/0001_catalog.sql")),
    (
        2,
        "entity_parent",
        include_str!("../migrations/0002_entity_parent.sql"),
    ),
    (
        3,
        "replicas",
        include_str!("../migrations/0003_replicas.sql"),
    ),
    (
        4,
        "file_reread",
        include_str!("../migrations/0004_file_reread.sql"),
    ),
    (
        5,
        "identity",
        include_str!("../migrations/0005_identity.sql"),
    ),
    (
        6,
        "deliveries",
        include_str!("../migrations/0006_deliveries.sql"),
    ),
    (
        7,
        "audit_chain",
        include_str!("../migrations/0007_audit_chain.sql"),
    ),
    (
        8,
        "schema_compat",
        include_str!("../migrations/0008_schema_compat.sql"),
    ),
    (
        9,
        "check_reports",
        include_str!("../migrations/0009_check_reports.sql"),
    ),
];

pave_store::impl_sql_schema!(::sqlx::Sqlite, migrations = MIGRATIONS, numbered = false);

/// The catalog in a SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Reads only. Every write, a single statement too, goes through `writer`: a write on
    /// one of these connections while the writer holds SQLite's lock sleeps in the busy
    /// handler (1, 2, 5, 10… ms), and made the writer sleep in turn; the processor's lease
    /// renewal did that under a webhook flood, a tail of tens of milliseconds.
    pool: SqlitePool,
    /// One connection for write transactions and audit appends. SQLite lets one writer in
    /// at a time anyway; on one connection the writes queue in order instead of sleeping in
    /// the busy handler, and that connection's page cache stays valid: a pooled connection
    /// that finds the file changed by another drops its whole cache, which was most of the
    /// cost of a one-record audit append (bench/audit.sh).
    writer: SqlitePool,
    path: PathBuf,
    /// Dropped with the last clone of the store, which stops the WAL checkpointer (and so
    /// releases its hold on the pool's connections).
    _checkpointer: Arc<tokio::sync::oneshot::Sender<()>>,
    audit_tip: pave_store::AuditTip,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Self> {
        let connect_error = |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Connect {
            url: format!("sqlite://{}", path.display()),
            source: e,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| connect_error(Box::new(e)))?;
        }
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(|e| connect_error(Box::new(e)))?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .page_size(8192)
            // Checkpoints run on a connection of their own (below), not inside the commit
            // that crossed the threshold: a webhook flood's p99 was that commit waiting.
            .pragma("wal_autocheckpoint", "0");
        let pool_of = |connections: u32| {
            SqlitePoolOptions::new()
                .max_connections(connections)
                // A ping before each use is one more round trip to the connection's worker
                // thread (a sixth of a one-record audit append); a local file needs none.
                .test_before_acquire(false)
                // A connection whose COMMIT failed on a full disk is left inside a
                // transaction SQLite already rolled back (sqlx's ROLLBACK then fails, and its
                // count stays at one): every later write on it failed "at non-zero
                // transaction depth". Such a connection is closed instead of reused.
                .after_release(|conn, _| {
                    Box::pin(async move { Ok(!sqlx::Connection::is_in_transaction(conn)) })
                })
        };
        let pool = pool_of(4)
            .connect_with(options.clone())
            .await
            .map_err(|e| connect_error(Box::new(e)))?;
        migrate(&pool).await?;
        let writer = pool_of(1)
            .connect_with(options)
            .await
            .map_err(|e| connect_error(Box::new(e)))?;
        let (stop, stopped) = tokio::sync::oneshot::channel();
        tokio::spawn(checkpoint_wal(pool.clone(), stopped));
        Ok(SqliteStore {
            pool,
            writer,
            path: path.to_owned(),
            _checkpointer: Arc::new(stop),
            audit_tip: pave_store::AuditTip::default(),
        })
    }

    /// Where the schema of the database at `path` stands, read without changing it; a
    /// missing file is a database with nothing applied.
    pub async fn inspect(path: &Path) -> Result<pave_store::schema::SchemaStatus> {
        if !path.exists() {
            return Ok(status_of(Vec::new(), None));
        }
        let pool = read_only_pool(path)
            .await
            .map_err(|e| StoreError::Connect {
                url: format!("sqlite://{}", path.display()),
                source: Box::new(e),
            })?;
        let status = schema_status(&pool).await;
        pool.close().await;
        status
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Closes the pool, checkpointing the WAL.
    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }
}

/// One read-only connection to the file at `path` (looking at a database or a backup
/// without changing it).
async fn read_only_pool(path: &Path) -> std::result::Result<SqlitePool, sqlx::Error> {
    let options = SqliteConnectOptions::from_str("sqlite://")?
        .filename(path)
        .read_only(true);
    SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
}

/// How often the WAL is copied back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// Checkpoints the WAL in the background until the store is dropped or closed. `PASSIVE`
/// never waits for readers or writers, so commits go on while it copies; the WAL is reused
/// from its start once a checkpoint has caught up. (SQLite's default, an automatic
/// checkpoint after 1,000 pages, runs inside the committing transaction and stalls it.)
async fn checkpoint_wal(pool: SqlitePool, mut stopped: tokio::sync::oneshot::Receiver<()>) {
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            () = tokio::time::sleep(CHECKPOINT_EVERY) => {}
        }
        if pool.is_closed() {
            break;
        }
        if let Err(e) = ::sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            tracing::debug!(error = %e, "WAL checkpoint");
        }
    }
    // The last checkpoint, so that a closed store leaves a short WAL behind.
    if !pool.is_closed() {
        let _ = ::sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await;
    }
}

pave_store::impl_sql_store!(
    SqliteStore,
    ::sqlx::Sqlite,
    backend = "sqlite",
    numbered = false,
    begin_write = "BEGIN IMMEDIATE",
    lock_row = "",
    extra = {
        async fn backup(&self, to: &std::path::Path) -> Result<pave_store::Backup> {
            file::backup(&self.pool, to).await
        }

        fn claim_serving(&self) -> Result<pave_store::ServingClaim> {
            file::claim(&self.path)
        }
    }
);

mod audit_walk;
mod file;
pub use file::{Restored, restore};
