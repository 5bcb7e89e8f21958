//! PostgreSQL implementation of [`pave_store::Store`], for shared and scaled-out deployments.

use std::time::Duration;

use pave_store::{Result, StoreError};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};

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
        "change_notify",
        include_str!("../migrations/0005_change_notify.sql"),
    ),
    (
        6,
        "identity",
        include_str!("../migrations/0006_identity.sql"),
    ),
    (
        7,
        "deliveries",
        include_str!("../migrations/0007_deliveries.sql"),
    ),
    (
        8,
        "audit_chain",
        include_str!("../migrations/0008_audit_chain.sql"),
    ),
    (
        9,
        "schema_compat",
        include_str!("../migrations/0009_schema_compat.sql"),
    ),
    (
        10,
        "check_reports",
        include_str!("../migrations/0010_check_reports.sql"),
    ),
];

pave_store::impl_sql_schema!(::sqlx::Postgres, migrations = MIGRATIONS, numbered = true);

/// How long a query waits for a connection (the server restarting, the pool busy).
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// The catalog in a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// Where write transactions start: the same pool (PostgreSQL keeps no per-connection
    /// cache for a second pool to protect).
    writer: PgPool,
    changes: std::sync::Arc<changes::Changes>,
    audit_tip: pave_store::AuditTip,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user@host:port/db`) and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Self> {
        let connect_error = |e: sqlx::Error| StoreError::Connect {
            url: redact(url),
            source: Box::new(e),
        };
        // One plain connection first: a pool would retry a dead server until its timeout.
        PgConnection::connect(url)
            .await
            .map_err(connect_error)?
            .close()
            .await
            .map_err(connect_error)?;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            // While the server is down a request waits this long for it to come back, then
            // is answered 503 (`StoreError::Unavailable`).
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect(url)
            .await
            .map_err(connect_error)?;
        migrate(&pool).await?;
        Ok(PostgresStore {
            writer: pool.clone(),
            pool,
            changes: std::sync::Arc::default(),
            audit_tip: pave_store::AuditTip::default(),
        })
    }

    /// Where the schema of the database at `url` stands, read without changing it.
    pub async fn inspect(url: &str) -> Result<pave_store::schema::SchemaStatus> {
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(|e| StoreError::Connect {
                url: redact(url),
                source: Box::new(e),
            })?;
        let status = schema_status(&pool).await;
        pool.close().await;
        status
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Hides a password in a connection URL before it reaches a log or an error.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

mod audit_walk;
mod changes;

pave_store::impl_sql_store!(
    PostgresStore,
    ::sqlx::Postgres,
    backend = "postgres",
    numbered = true,
    begin_write = "BEGIN",
    lock_row = " FOR UPDATE",
    extra = {
        async fn wait_for_change(&self, timeout: std::time::Duration) -> bool {
            self.changes.wait(&self.pool, timeout).await;
            true
        }

        async fn backup(&self, to: &std::path::Path) -> Result<pave_store::Backup> {
            let _ = to;
            Err(StoreError::Unsupported(
                "a PostgreSQL database is backed up with pg_dump, consistent while pave serves: \
                 `pg_dump --format=custom --file=pave.dump \"$PAVE_DATABASE_URL\"`, restored with \
                 `pg_restore --clean --if-exists --dbname=\"$PAVE_DATABASE_URL\" pave.dump` \
                 (docs/operations.md, \"Backup and restore\")"
                    .to_owned(),
            ))
        }
    }
);

#[cfg(feature = "testing")]
pub mod testing;
