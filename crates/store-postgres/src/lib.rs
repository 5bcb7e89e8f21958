//! PostgreSQL implementation of [`pave_store::Store`], for shared and scaled-out deployments.

use std::borrow::Cow;
use std::time::Duration;

use async_trait::async_trait;
use pave_store::{
    Batch, EntityRow, FileRow, LocationRow, ROWS_PER_STATEMENT, Result, Store, StoreError, in_list,
    multi_row_insert,
};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::PgPoolOptions;
use sqlx::{AssertSqlSafe, Connection, PgConnection, PgPool, Postgres, Transaction};

const MIGRATIONS: &[(i64, &str, &str)] =
    &[(1, "catalog", include_str!("../migrations/0001_catalog.sql"))];

fn migrator() -> Migrator {
    Migrator::with_migrations(
        MIGRATIONS
            .iter()
            .map(|(version, name, sql)| {
                Migration::new(
                    *version,
                    Cow::Borrowed(*name),
                    MigrationType::Simple,
                    sqlx::SqlStr::from_static(sql),
                    false,
                )
            })
            .collect(),
    )
}

/// The catalog in a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

fn q(context: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| StoreError::query(context, e)
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
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(connect_error)?;
        migrator()
            .run(&pool)
            .await
            .map_err(|e| StoreError::Migrate(Box::new(e)))?;
        Ok(PostgresStore { pool })
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

type EntityTuple = (String, String, String, String, String, String, String, i64);

fn entity_from(t: EntityTuple) -> EntityRow {
    EntityRow {
        entity_ref: t.0,
        uid: t.1,
        location_id: t.2,
        location_key: t.3,
        body: t.4,
        relations: t.5,
        hash: t.6,
        updated_at: t.7,
    }
}

type LocationTuple = (String, String, String, i64, Option<i64>, Option<String>);

fn location_from(t: LocationTuple) -> LocationRow {
    LocationRow {
        id: t.0,
        kind: t.1,
        target: t.2,
        created_at: t.3,
        refreshed_at: t.4,
        status: t.5,
    }
}

const ENTITY_COLUMNS: &str =
    "entity_ref, uid, location_id, location_key, body, relations, hash, updated_at";
const LOCATION_COLUMNS: &str = "id, type, target, created_at, refreshed_at, status";

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn add_location(
        &self,
        kind: &str,
        target: &str,
        now: i64,
    ) -> Result<(LocationRow, bool)> {
        let id = uuid::Uuid::new_v4().to_string();
        let inserted = sqlx::query(
            "INSERT INTO locations (id, type, target, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (type, target) DO NOTHING",
        )
        .bind(&id)
        .bind(kind)
        .bind(target)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(q("adding a location"))?
        .rows_affected()
            == 1;
        let row: LocationTuple = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {LOCATION_COLUMNS} FROM locations WHERE type = $1 AND target = $2"
        )))
        .bind(kind)
        .bind(target)
        .fetch_one(&self.pool)
        .await
        .map_err(q("reading a location"))?;
        Ok((location_from(row), inserted))
    }

    async fn locations(&self) -> Result<Vec<LocationRow>> {
        let rows: Vec<LocationTuple> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {LOCATION_COLUMNS} FROM locations ORDER BY created_at, id"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(q("listing locations"))?;
        Ok(rows.into_iter().map(location_from).collect())
    }

    async fn location(&self, id: &str) -> Result<Option<LocationRow>> {
        let row: Option<LocationTuple> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {LOCATION_COLUMNS} FROM locations WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(q("reading a location"))?;
        Ok(row.map(location_from))
    }

    async fn delete_location(&self, id: &str) -> Result<bool> {
        // Entities and files go with it (ON DELETE CASCADE).
        let result = sqlx::query("DELETE FROM locations WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(q("deleting a location"))?;
        Ok(result.rows_affected() > 0)
    }

    async fn entities(&self) -> Result<Vec<EntityRow>> {
        let rows: Vec<EntityTuple> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {ENTITY_COLUMNS} FROM entities ORDER BY entity_ref"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(q("reading entities"))?;
        Ok(rows.into_iter().map(entity_from).collect())
    }

    async fn entity_relations(&self) -> Result<Vec<(String, String)>> {
        sqlx::query_as("SELECT entity_ref, relations FROM entities")
            .fetch_all(&self.pool)
            .await
            .map_err(q("reading relations"))
    }

    async fn visit_entities(&self, visit: &mut (dyn FnMut(EntityRow) + Send)) -> Result<()> {
        use futures_util::TryStreamExt;
        let mut rows = sqlx::query_as::<_, (String, String, String, String, String, String, i64)>(
            "SELECT entity_ref, uid, location_id, location_key, body, hash, updated_at FROM entities ORDER BY entity_ref",
        )
        .fetch(&self.pool);
        while let Some(t) = rows.try_next().await.map_err(q("reading entities"))? {
            visit(EntityRow {
                entity_ref: t.0,
                uid: t.1,
                location_id: t.2,
                location_key: t.3,
                body: t.4,
                relations: String::new(),
                hash: t.5,
                updated_at: t.6,
            });
        }
        Ok(())
    }

    async fn location_entities(&self, location_id: &str) -> Result<Vec<EntityRow>> {
        let rows: Vec<EntityTuple> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {ENTITY_COLUMNS} FROM entities WHERE location_id = $1 ORDER BY entity_ref"
        )))
        .bind(location_id)
        .fetch_all(&self.pool)
        .await
        .map_err(q("reading a location's entities"))?;
        Ok(rows.into_iter().map(entity_from).collect())
    }

    async fn entity_owners(&self) -> Result<Vec<(String, String)>> {
        sqlx::query_as("SELECT entity_ref, location_id FROM entities")
            .fetch_all(&self.pool)
            .await
            .map_err(q("reading entity owners"))
    }

    async fn files(&self, location_id: &str) -> Result<Vec<FileRow>> {
        let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
            "SELECT location_id, path, hash, deps, problems FROM files WHERE location_id = $1 ORDER BY path",
        )
        .bind(location_id)
        .fetch_all(&self.pool)
        .await
        .map_err(q("reading file state"))?;
        Ok(rows
            .into_iter()
            .map(|(location_id, path, hash, deps, problems)| FileRow {
                location_id,
                path,
                hash,
                deps,
                problems,
            })
            .collect())
    }

    async fn apply(&self, batch: &Batch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(q("starting a transaction"))?;
        apply_in(&mut tx, batch).await?;
        tx.commit().await.map_err(q("committing"))
    }
}

fn placeholder(n: usize) -> String {
    format!("${n}")
}

async fn apply_in(tx: &mut Transaction<'_, Postgres>, batch: &Batch) -> Result<()> {
    for chunk in batch.delete_entities.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "DELETE FROM entities WHERE entity_ref IN {}",
            in_list(1, chunk.len(), placeholder)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for r in chunk {
            query = query.bind(r);
        }
        query
            .execute(&mut **tx)
            .await
            .map_err(q("deleting entities"))?;
    }
    for (location_id, path) in &batch.delete_files {
        sqlx::query("DELETE FROM files WHERE location_id = $1 AND path = $2")
            .bind(location_id)
            .bind(path)
            .execute(&mut **tx)
            .await
            .map_err(q("deleting file state"))?;
    }
    for chunk in batch.upsert_entities.chunks(ROWS_PER_STATEMENT) {
        let columns: Vec<&str> = ENTITY_COLUMNS.split(", ").collect();
        let mut sql = multi_row_insert("entities", &columns, chunk.len(), placeholder);
        sql.push_str(
            " ON CONFLICT (entity_ref) DO UPDATE SET uid = excluded.uid, location_id = excluded.location_id, \
             location_key = excluded.location_key, body = excluded.body, relations = excluded.relations, \
             hash = excluded.hash, updated_at = excluded.updated_at",
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for e in chunk {
            query = query
                .bind(&e.entity_ref)
                .bind(&e.uid)
                .bind(&e.location_id)
                .bind(&e.location_key)
                .bind(&e.body)
                .bind(&e.relations)
                .bind(&e.hash)
                .bind(e.updated_at);
        }
        query
            .execute(&mut **tx)
            .await
            .map_err(q("writing entities"))?;
    }
    for chunk in batch.upsert_files.chunks(ROWS_PER_STATEMENT) {
        let mut sql = multi_row_insert(
            "files",
            &["location_id", "path", "hash", "deps", "problems"],
            chunk.len(),
            placeholder,
        );
        sql.push_str(
            " ON CONFLICT (location_id, path) DO UPDATE SET hash = excluded.hash, deps = excluded.deps, problems = excluded.problems",
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for f in chunk {
            query = query
                .bind(&f.location_id)
                .bind(&f.path)
                .bind(&f.hash)
                .bind(&f.deps)
                .bind(&f.problems);
        }
        query
            .execute(&mut **tx)
            .await
            .map_err(q("writing file state"))?;
    }
    for (location_id, refreshed_at, status) in &batch.location_status {
        sqlx::query("UPDATE locations SET refreshed_at = $1, status = $2 WHERE id = $3")
            .bind(refreshed_at)
            .bind(status)
            .bind(location_id)
            .execute(&mut **tx)
            .await
            .map_err(q("updating location status"))?;
    }
    Ok(())
}

#[cfg(feature = "testing")]
pub mod testing;
