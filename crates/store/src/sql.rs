//! The SQL both backends share, written once: the schemas are the same and sqlx's API is the
//! same for SQLite and PostgreSQL, but its types differ per database, so the implementation is
//! a macro each backend instantiates. Queries are written with `?` placeholders and renumbered
//! (`$1`, `$2`, …) for PostgreSQL.

/// Rewrites `?` placeholders as `$1, $2, …` when `numbered`.
pub fn placeholders(sql: &str, numbered: bool) -> String {
    if !numbered {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// Lower-case hexadecimal, as signatures are stored.
pub use pave_stdx::hex;

/// The bytes of [`hex`]'s text; `None` when it is not that.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect()
}

/// The schema half of a backend: `migrator`, `schema_status` and `migrate` for
/// `sqlx::Pool<$db>`, over `$migrations` (`&[(version, name, sql)]`). See
/// [`schema`](crate::schema) for which pave may run on a database.
#[macro_export]
macro_rules! impl_sql_schema {
    ($db:ty, migrations = $migrations:expr, numbered = $numbered:literal) => {
/// This pave's migrations, in order. A database a newer pave migrated further is run on as
/// far as its `readable_by` allows, checked by `migrate` before sqlx sees it.
fn migrator() -> ::sqlx::migrate::Migrator {
    let mut migrator = ::sqlx::migrate::Migrator::with_migrations(
        $migrations
            .iter()
            .map(|(version, name, sql)| {
                ::sqlx::migrate::Migration::new(
                    *version,
                    ::std::borrow::Cow::Borrowed(*name),
                    ::sqlx::migrate::MigrationType::Simple,
                    ::sqlx::SqlStr::from_static(sql),
                    false,
                )
            })
            .collect(),
    );
    migrator.set_ignore_missing(true);
    migrator
}

async fn table_exists(pool: &::sqlx::Pool<$db>, table: &str) -> $crate::Result<bool> {
    let sql = if $numbered {
        "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = $1"
    } else {
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
    };
    let count: i64 = ::sqlx::query_scalar(sql)
        .bind(table)
        .fetch_one(pool)
        .await
        .map_err(|e| $crate::StoreError::query("reading the schema version", e))?;
    Ok(count > 0)
}

/// Where the database's schema stands against this pave's migrations, read without
/// changing anything.
async fn schema_status(
    pool: &::sqlx::Pool<$db>,
) -> $crate::Result<$crate::schema::SchemaStatus> {
    if !table_exists(pool, "_sqlx_migrations").await? {
        return Ok(status_of(Vec::new(), None));
    }
    let read = |e| $crate::StoreError::query("reading the schema version", e);
    let applied: Vec<i64> =
        ::sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(pool)
            .await
            .map_err(read)?;
    let readable_by: Option<i64> = if table_exists(pool, "pave_schema_compat").await? {
        ::sqlx::query_scalar("SELECT readable_by FROM pave_schema_compat WHERE id = 1")
            .fetch_optional(pool)
            .await
            .map_err(read)?
    } else {
        None
    };
    Ok(status_of(applied, readable_by))
}

/// The status of a database with `applied` migrations against this pave's.
fn status_of(applied: Vec<i64>, readable_by: Option<i64>) -> $crate::schema::SchemaStatus {
    let ours: Vec<(i64, &str)> = $migrations.iter().map(|(v, name, _)| (*v, *name)).collect();
    $crate::schema::SchemaStatus::new(&ours, applied, readable_by)
}

/// Brings the schema up to date, unless a newer pave migrated it past what this one may run
/// beside. Returns the status it found.
async fn migrate(pool: &::sqlx::Pool<$db>) -> $crate::Result<$crate::schema::SchemaStatus> {
    let before = schema_status(pool).await?;
    before.check_runnable()?;
    migrator().run(pool).await.map_err(|e| match e {
        ::sqlx::migrate::MigrateError::VersionMissing(version) => {
            $crate::StoreError::SchemaNewer(version)
        }
        e => $crate::StoreError::Migrate(Box::new(e)),
    })?;
    if !before.newer.is_empty() {
        ::tracing::warn!(
            newer = ?before.newer,
            "a newer pave migrated this database; running beside it (its migrations keep this version's reads and writes working)"
        );
    }
    Ok(before)
}
    };
}

/// Implements [`Store`](crate::Store) for `$store`, whose `pool` field is a `sqlx::Pool<$db>`.
/// The caller depends on `sqlx`, `async-trait`, `futures-util` and `uuid`.
#[macro_export]
macro_rules! impl_sql_store {
    ($store:ty, $db:ty, backend = $backend:literal, numbered = $numbered:literal, begin_write = $begin_write:literal, lock_row = $lock_row:literal $(, extra = { $($extra:tt)* })?) => {
type EntityTuple = (String, String, String, String, String, String, String, i64, String);

fn entity_from(t: EntityTuple) -> $crate::EntityRow {
    $crate::EntityRow {
        entity_ref: t.0,
        uid: t.1,
        location_id: t.2.into(),
        location_key: t.3,
        body: t.4,
        relations: t.5,
        hash: t.6,
        updated_at: t.7,
        parent_ref: t.8,
    }
}

type LocationTuple = (String, String, String, i64, Option<i64>, Option<String>);

fn location_from(t: LocationTuple) -> $crate::Result<$crate::LocationRow> {
    Ok($crate::LocationRow {
        kind: $crate::LocationKind::parse(&t.1)
            .ok_or($crate::StoreError::UnknownLocationKind(t.1))?,
        id: t.0.into(),
        target: t.2,
        created_at: t.3,
        refreshed_at: t.4,
        status: t.5,
    })
}

const ENTITY_COLUMNS: &str =
    "entity_ref, uid, location_id, location_key, body, relations, hash, updated_at, parent_ref";
const LOCATION_COLUMNS: &str = "id, type, target, created_at, refreshed_at, status";

#[::async_trait::async_trait]
impl $crate::Store for $store {
    fn backend(&self) -> &'static str {
        $backend
    }

    async fn schema_status(&self) -> $crate::Result<$crate::schema::SchemaStatus> {
        schema_status(&self.pool).await
    }

    $($($extra)*)?

    async fn add_location(
        &self,
        kind: $crate::LocationKind,
        target: &str,
        now: i64,
        audit: &[$crate::audit::AuditEvent],
    ) -> $crate::Result<($crate::LocationRow, bool)> {
        let kind = kind.as_str();
        let id = ::uuid::Uuid::new_v4().to_string();
        let mut tx = begin_write(&self.writer).await?;
        let inserted = ::sqlx::query(::sqlx::AssertSqlSafe(sql("INSERT INTO locations (id, type, target, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (type, target) DO NOTHING")))
        .bind(&id)
        .bind(kind)
        .bind(target)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(q("adding a location"))?
        .rows_affected()
            == 1;
        if inserted {
            bump_version(&mut tx).await?;
            append_audit_in(&mut tx, audit).await?;
        }
        tx.commit().await.map_err(q("committing"))?;
        let row: LocationTuple = ::sqlx::query_as(::sqlx::AssertSqlSafe(sql(&format!("SELECT {LOCATION_COLUMNS} FROM locations WHERE type = ? AND target = ?"))))
        .bind(kind)
        .bind(target)
        .fetch_one(&self.pool)
        .await
        .map_err(q("reading a location"))?;
        Ok((location_from(row)?, inserted))
    }

    async fn locations(&self) -> $crate::Result<Vec<$crate::LocationRow>> {
        let rows: Vec<LocationTuple> = ::sqlx::query_as(::sqlx::AssertSqlSafe(sql(&format!("SELECT {LOCATION_COLUMNS} FROM locations ORDER BY created_at, id"))))
        .fetch_all(&self.pool)
        .await
        .map_err(q("listing locations"))?;
        rows.into_iter().map(location_from).collect()
    }

    async fn location(&self, id: &$crate::LocationId) -> $crate::Result<Option<$crate::LocationRow>> {
        let row: Option<LocationTuple> = ::sqlx::query_as(::sqlx::AssertSqlSafe(sql(&format!("SELECT {LOCATION_COLUMNS} FROM locations WHERE id = ?"))))
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(q("reading a location"))?;
        row.map(location_from).transpose()
    }

    async fn update_location(&self, id: &$crate::LocationId, kind: $crate::LocationKind, target: &str, audit: &[$crate::audit::AuditEvent]) -> $crate::Result<$crate::LocationUpdate> {
        let kind = kind.as_str();
        let mut tx = begin_write(&self.writer).await?;
        let conflict: Option<(String,)> = ::sqlx::query_as(::sqlx::AssertSqlSafe(sql("SELECT id FROM locations WHERE type = ? AND target = ? AND id <> ?")))
            .bind(kind)
            .bind(target)
            .bind(id.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(q("reading a location"))?;
        if conflict.is_some() {
            tx.rollback().await.map_err(q("rolling back"))?;
            return Ok($crate::LocationUpdate::Conflict);
        }
        let updated = ::sqlx::query(::sqlx::AssertSqlSafe(sql("UPDATE locations SET type = ?, target = ? WHERE id = ?")))
            .bind(kind)
            .bind(target)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(q("updating a location"))?
            .rows_affected();
        if updated == 0 {
            tx.rollback().await.map_err(q("rolling back"))?;
            return Ok($crate::LocationUpdate::NotFound);
        }
        bump_version(&mut tx).await?;
        append_audit_in(&mut tx, audit).await?;
        let row: LocationTuple = ::sqlx::query_as(::sqlx::AssertSqlSafe(sql(&format!("SELECT {LOCATION_COLUMNS} FROM locations WHERE id = ?"))))
            .bind(id.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(q("reading a location"))?;
        tx.commit().await.map_err(q("committing"))?;
        Ok($crate::LocationUpdate::Updated(location_from(row)?))
    }

    async fn delete_location(&self, id: &$crate::LocationId, audit: &[$crate::audit::AuditEvent]) -> $crate::Result<bool> {
        // Entities and files go with it (ON DELETE CASCADE).
        let mut tx = begin_write(&self.writer).await?;
        let result = ::sqlx::query(::sqlx::AssertSqlSafe(sql("DELETE FROM locations WHERE id = ?")))
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(q("deleting a location"))?;
        let deleted = result.rows_affected() > 0;
        if deleted {
            bump_version(&mut tx).await?;
            append_audit_in(&mut tx, audit).await?;
        }
        tx.commit().await.map_err(q("committing"))?;
        Ok(deleted)
    }

    async fn entities(&self) -> $crate::Result<Vec<$crate::EntityRow>> {
        let rows: Vec<EntityTuple> = ::sqlx::query_as(::sqlx::AssertSqlSafe(sql(&format!("SELECT {ENTITY_COLUMNS} FROM entities ORDER BY entity_ref"))))
        .fetch_all(&self.pool)
        .await
        .map_err(q("reading entities"))?;
        Ok(rows.into_iter().map(entity_from).collect())
    }

    async fn entity_relations(&self) -> $crate::Result<Vec<(String, String)>> {
        ::sqlx::query_as(::sqlx::AssertSqlSafe(sql("SELECT entity_ref, relations FROM entities")))
            .fetch_all(&self.pool)
            .await
            .map_err(q("reading relations"))
    }

    async fn recently_updated(&self, limit: usize) -> $crate::Result<Vec<(String, i64)>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        ::sqlx::query_as(::sqlx::AssertSqlSafe(sql(
            "SELECT entity_ref, updated_at FROM entities ORDER BY updated_at DESC, entity_ref LIMIT ?",
        )))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(q("reading recently updated entities"))
    }

    async fn visit_entities(&self, visit: &mut (dyn FnMut($crate::EntityRow) + Send)) -> $crate::Result<()> {
        use ::futures_util::TryStreamExt;
        let mut rows = ::sqlx::query_as::<_, (String, String, String, String, String, String, i64, String)>(::sqlx::AssertSqlSafe(sql("SELECT entity_ref, uid, location_id, location_key, body, hash, updated_at, parent_ref FROM entities ORDER BY entity_ref")))
        .fetch(&self.pool);
        while let Some(t) = rows.try_next().await.map_err(q("reading entities"))? {
            visit($crate::EntityRow {
                entity_ref: t.0,
                uid: t.1,
                location_id: t.2.into(),
                location_key: t.3,
                body: t.4,
                relations: String::new(),
                hash: t.5,
                updated_at: t.6,
                parent_ref: t.7,
            });
        }
        Ok(())
    }

    async fn location_entities(&self, location_id: &$crate::LocationId) -> $crate::Result<Vec<$crate::EntityRow>> {
        let rows: Vec<EntityTuple> = ::sqlx::query_as(::sqlx::AssertSqlSafe(sql(&format!("SELECT {ENTITY_COLUMNS} FROM entities WHERE location_id = ? ORDER BY entity_ref"))))
        .bind(location_id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(q("reading a location's entities"))?;
        Ok(rows.into_iter().map(entity_from).collect())
    }

    async fn location_entity_heads(&self, location_id: &$crate::LocationId) -> $crate::Result<Vec<$crate::EntityHead>> {
        let rows: Vec<(String, String, String, String, Option<String>, String)> = ::sqlx::query_as(::sqlx::AssertSqlSafe(sql(
            "SELECT entity_ref, uid, location_key, hash, CASE WHEN entity_ref LIKE 'location:%' THEN body END, parent_ref FROM entities WHERE location_id = ? ORDER BY entity_ref",
        )))
        .bind(location_id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(q("reading a location's entities"))?;
        Ok(rows
            .into_iter()
            .map(|(entity_ref, uid, location_key, hash, body, parent_ref)| $crate::EntityHead { entity_ref, uid, location_key, hash, body, parent_ref })
            .collect())
    }

    async fn entity_owners_of(&self, refs: &[String]) -> $crate::Result<Vec<(String, $crate::LocationId)>> {
        let mut owners = Vec::new();
        for chunk in refs.chunks($crate::ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT entity_ref, location_id FROM entities WHERE entity_ref IN {}",
                $crate::in_list(1, chunk.len(), placeholder)
            );
            let mut query = ::sqlx::query_as::<_, (String, String)>(::sqlx::AssertSqlSafe(sql));
            for r in chunk {
                query = query.bind(r);
            }
            owners.extend(
                query
                    .fetch_all(&self.pool)
                    .await
                    .map_err(q("reading entity owners"))?
                    .into_iter()
                    .map(|(entity_ref, location_id)| (entity_ref, location_id.into())),
            );
        }
        Ok(owners)
    }

    async fn entity_origin(&self, entity_ref: &str) -> $crate::Result<Option<$crate::EntityOrigin>> {
        let row: Option<(String, String, String)> = ::sqlx::query_as(::sqlx::AssertSqlSafe(sql("SELECT location_id, location_key, parent_ref FROM entities WHERE entity_ref = ?")))
            .bind(entity_ref)
            .fetch_optional(&self.pool)
            .await
            .map_err(q("reading an entity's origin"))?;
        Ok(row.map(|(location_id, location_key, parent_ref)| $crate::EntityOrigin { location_id: location_id.into(), location_key, parent_ref }))
    }

    async fn entity_origins(&self, refs: &[String]) -> $crate::Result<Vec<(String, $crate::EntityOrigin)>> {
        let mut origins = Vec::new();
        for chunk in refs.chunks($crate::ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT entity_ref, location_id, location_key, parent_ref FROM entities WHERE entity_ref IN {}",
                $crate::in_list(1, chunk.len(), placeholder)
            );
            let mut query = ::sqlx::query_as::<_, (String, String, String, String)>(::sqlx::AssertSqlSafe(sql));
            for r in chunk {
                query = query.bind(r);
            }
            let rows = query.fetch_all(&self.pool).await.map_err(q("reading entity origins"))?;
            origins.extend(rows.into_iter().map(|(entity_ref, location_id, location_key, parent_ref)| {
                (entity_ref, $crate::EntityOrigin { location_id: location_id.into(), location_key, parent_ref })
            }));
        }
        Ok(origins)
    }

    async fn files(&self, location_id: &$crate::LocationId) -> $crate::Result<Vec<$crate::FileRow>> {
        let rows: Vec<(String, String, String, String, String, bool)> = ::sqlx::query_as(::sqlx::AssertSqlSafe(sql("SELECT location_id, path, hash, deps, problems, reread FROM files WHERE location_id = ? ORDER BY path")))
        .bind(location_id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(q("reading file state"))?;
        Ok(rows
            .into_iter()
            .map(|(location_id, path, hash, deps, problems, reread)| $crate::FileRow {
                location_id: location_id.into(),
                path,
                hash,
                deps,
                problems,
                reread,
            })
            .collect())
    }

    async fn apply(&self, batch: &$crate::Batch) -> $crate::Result<()> {
        self.apply_versioned(batch).await.map(|_| ())
    }

    async fn apply_versioned(&self, batch: &$crate::Batch) -> $crate::Result<$crate::Applied> {
        if batch.is_empty() {
            return Ok($crate::Applied::default());
        }
        let mut tx = begin_write(&self.writer).await?;
        let skipped = apply_in(&mut tx, batch).await?;
        // The version row before the audit head, as every write takes them (see
        // `bump_version`).
        let mut version = None;
        if !batch.upsert_entities.is_empty()
            || !batch.delete_entities.is_empty()
            || !batch.set_parents.is_empty()
        {
            bump_version(&mut tx).await?;
            let (now,): (i64,) = ::sqlx::query_as(::sqlx::AssertSqlSafe(sql("SELECT version FROM catalog_version WHERE id = 1")))
                .fetch_one(&mut *tx)
                .await
                .map_err(q("reading the catalog version"))?;
            version = Some(now);
        }
        append_audit_in(&mut tx, &batch.audit).await?;
        tx.commit().await.map_err(q("committing"))?;
        Ok($crate::Applied { version, skipped })
    }

    async fn change_version(&self) -> $crate::Result<i64> {
        let (version,): (i64,) = ::sqlx::query_as(::sqlx::AssertSqlSafe(sql("SELECT version FROM catalog_version WHERE id = 1")))
            .fetch_one(&self.pool)
            .await
            .map_err(q("reading the catalog version"))?;
        Ok(version)
    }

    async fn acquire_lease(&self, name: &str, holder: &str, now: i64, ttl_ms: i64) -> $crate::Result<bool> {
        let taken = ::sqlx::query(::sqlx::AssertSqlSafe(sql(
            "INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE leases.holder = excluded.holder OR leases.expires_at < ?",
        )))
        .bind(name)
        .bind(holder)
        .bind(now.saturating_add(ttl_ms))
        .bind(now)
        .execute(&self.writer)
        .await
        .map_err(q("taking a lease"))?
        .rows_affected();
        Ok(taken == 1)
    }

    async fn release_lease(&self, name: &str, holder: &str) -> $crate::Result<()> {
        ::sqlx::query(::sqlx::AssertSqlSafe(sql("DELETE FROM leases WHERE name = ? AND holder = ?")))
            .bind(name)
            .bind(holder)
            .execute(&self.writer)
            .await
            .map_err(q("giving a lease up"))?;
        Ok(())
    }
}

$crate::__identity_helpers!($db, lock_row = $lock_row);
$crate::__identity_methods!($store);
$crate::__delivery_methods!($store, $db);
$crate::__guardrail_methods!($store, $db);

/// Starts a transaction that will write. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`): a deferred transaction that reads first and then writes cannot wait
/// for another writer (SQLite answers "database is locked" at once rather than deadlock), so
/// it would fail whenever two writes meet; waiting at the start honours the busy timeout.
async fn begin_write(pool: &::sqlx::Pool<$db>) -> $crate::Result<::sqlx::Transaction<'static, $db>> {
    pool.begin_with($begin_write).await.map_err(q("starting a transaction"))
}

/// Moves the catalog version on, inside the writing transaction. The two rows every write
/// shares are locked in one order, this one first and then the audit head
/// (`append_audit_in`): in the other order, on PostgreSQL, a registration and an ingestion
/// that met deadlocked, and one of them failed.
async fn bump_version(tx: &mut ::sqlx::Transaction<'_, $db>) -> $crate::Result<()> {
    ::sqlx::query(::sqlx::AssertSqlSafe(sql("UPDATE catalog_version SET version = version + 1 WHERE id = 1")))
        .execute(&mut **tx)
        .await
        .map_err(q("moving the catalog version"))?;
    Ok(())
}

fn placeholder(n: usize) -> String {
    if $numbered { format!("${n}") } else { "?".to_owned() }
}

/// Writes `?` placeholders the way this database wants them.
fn sql(text: &str) -> String {
    $crate::sql::placeholders(text, $numbered)
}

fn q(context: &'static str) -> impl FnOnce(::sqlx::Error) -> $crate::StoreError {
    move |e| $crate::StoreError::query(context, e)
}

/// Applies `batch` inside `tx`; returns the upserted refs that were not written (another
/// location owns them).
async fn apply_in(tx: &mut ::sqlx::Transaction<'_, $db>, batch: &$crate::Batch) -> $crate::Result<Vec<String>> {
    let mut skipped = Vec::new();
    for chunk in batch.delete_entities.chunks($crate::ROWS_PER_STATEMENT) {
        let sql = format!(
            "DELETE FROM entities WHERE entity_ref IN {}",
            $crate::in_list(1, chunk.len(), placeholder)
        );
        let mut query = ::sqlx::query(::sqlx::AssertSqlSafe(sql));
        for r in chunk {
            query = query.bind(r);
        }
        query
            .execute(&mut **tx)
            .await
            .map_err(q("deleting entities"))?;
    }
    for (location_id, path) in &batch.delete_files {
        ::sqlx::query(::sqlx::AssertSqlSafe(sql("DELETE FROM files WHERE location_id = ? AND path = ?")))
            .bind(location_id.as_str())
            .bind(path)
            .execute(&mut **tx)
            .await
            .map_err(q("deleting file state"))?;
    }
    for chunk in batch.upsert_entities.chunks($crate::ROWS_PER_STATEMENT) {
        let columns: Vec<&str> = ENTITY_COLUMNS.split(", ").collect();
        let mut sql = $crate::multi_row_insert("entities", &columns, chunk.len(), placeholder);
        sql.push_str(
            // An entity keeps its uid for ever, and a row another location owns is left to it
            // (two readings racing for one ref: the first claimant keeps it).
            " ON CONFLICT (entity_ref) DO UPDATE SET \
             location_key = excluded.location_key, body = excluded.body, relations = excluded.relations, \
             hash = excluded.hash, updated_at = excluded.updated_at, parent_ref = excluded.parent_ref \
             WHERE entities.location_id = excluded.location_id RETURNING entity_ref, uid",
        );
        let mut query = ::sqlx::query_as::<_, (String, String)>(::sqlx::AssertSqlSafe(sql));
        for e in chunk {
            query = query
                .bind(&e.entity_ref)
                .bind(&e.uid)
                .bind(e.location_id.as_str())
                .bind(&e.location_key)
                .bind(&e.body)
                .bind(&e.relations)
                .bind(&e.hash)
                .bind(e.updated_at)
                .bind(&e.parent_ref);
        }
        let written = query
            .fetch_all(&mut **tx)
            .await
            .map_err(q("writing entities"))?;
        // Rows another location owns are not written, and a row keeps its uid: either way
        // the store differs from the batch there.
        let written: ::std::collections::HashSet<(&str, &str)> =
            written.iter().map(|(r, u)| (r.as_str(), u.as_str())).collect();
        skipped.extend(
            chunk
                .iter()
                .filter(|e| !written.contains(&(e.entity_ref.as_str(), e.uid.as_str())))
                .map(|e| e.entity_ref.clone()),
        );
    }
    for chunk in batch.upsert_files.chunks($crate::ROWS_PER_STATEMENT) {
        let mut sql = $crate::multi_row_insert(
            "files",
            &["location_id", "path", "hash", "deps", "problems", "reread"],
            chunk.len(),
            placeholder,
        );
        sql.push_str(
            " ON CONFLICT (location_id, path) DO UPDATE SET hash = excluded.hash, deps = excluded.deps, problems = excluded.problems, reread = excluded.reread",
        );
        let mut query = ::sqlx::query(::sqlx::AssertSqlSafe(sql));
        for f in chunk {
            query = query
                .bind(f.location_id.as_str())
                .bind(&f.path)
                .bind(&f.hash)
                .bind(&f.deps)
                .bind(&f.problems)
                .bind(f.reread);
        }
        query
            .execute(&mut **tx)
            .await
            .map_err(q("writing file state"))?;
    }
    for (entity_ref, parent_ref) in &batch.set_parents {
        ::sqlx::query(::sqlx::AssertSqlSafe(sql("UPDATE entities SET parent_ref = ? WHERE entity_ref = ?")))
            .bind(parent_ref)
            .bind(entity_ref)
            .execute(&mut **tx)
            .await
            .map_err(q("updating entity parents"))?;
    }
    for $crate::LocationStatus { location_id, refreshed_at, status } in &batch.location_status {
        ::sqlx::query(::sqlx::AssertSqlSafe(sql("UPDATE locations SET refreshed_at = ?, status = ? WHERE id = ?")))
            .bind(refreshed_at)
            .bind(status)
            .bind(location_id.as_str())
            .execute(&mut **tx)
            .await
            .map_err(q("updating location status"))?;
    }
    Ok(skipped)
}

    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_placeholders_for_postgres() {
        assert_eq!(
            super::placeholders("a = ? AND b = ?", true),
            "a = $1 AND b = $2"
        );
        assert_eq!(super::placeholders("a = ?", false), "a = ?");
    }
}
