//! The SQL of identity and audit, shared by both backends like `sql.rs`: sessions, sign-ins
//! in flight, API tokens, and the hash-chained audit log. Expanded inside
//! [`impl_sql_store!`](crate::impl_sql_store), whose `sql`, `q` and `begin_write` it uses.
//!
//! The database keeps the audit chain: triggers refuse a record that does not extend the
//! head (the next seq, the head's hash as its previous hash) and move the head as each record
//! is inserted. So records are numbered without gaps across replicas and processes whatever
//! wrote them. Two ways in:
//!
//! - inside the caller's transaction (`append_audit_in`): the head row is read (and on
//!   PostgreSQL locked, `lock_row`; SQLite's write transactions already hold the database),
//!   each event is hashed onto it ([`pave_audit::chain_next`]) and the records inserted, so a
//!   change and its record commit or roll back together;
//! - on its own ([`IdentityStore::append_audit`](crate::IdentityStore::append_audit)): the
//!   records are chained onto the head this store last wrote ([`AuditTip`](crate::AuditTip))
//!   and inserted in one autocommit statement. When another writer moved the head meanwhile,
//!   the triggers refuse the insert and the head is read again. A transaction of its own cost
//!   five round trips to SQLite's worker thread; this costs one (bench/audit.sh).
//!
//! Long walks (`visit_stored_audit`, `visit_audit_range`) are each backend's own
//! `walk_stored_audit`, an inherent method: the fastest way to read a million rows differs
//! (rusqlite on SQLite, JSON aggregates on PostgreSQL).

/// The helper functions; `lock_row` is appended to the head's `SELECT`.
#[doc(hidden)]
#[macro_export]
macro_rules! __identity_helpers {
    ($db:ty, lock_row = $lock_row:literal) => {
type AuditTuple = (
    i64,
    i64,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
);

const AUDIT_COLUMNS: &str = "seq, time_ms, actor_kind, actor_id, actor_role, action, target, outcome, source, request_id, details, prev_hash, hash";

fn corrupt(context: &'static str, e: impl std::error::Error + Send + Sync + 'static) -> $crate::StoreError {
    $crate::StoreError::query(context, e)
}

fn audit_from(t: AuditTuple) -> $crate::Result<$crate::audit::AuditRecord> {
    use $crate::audit::{Actor, AuditEvent, AuditRecord, Hash};
    Ok(AuditRecord {
        seq: t.0,
        event: AuditEvent {
            time_ms: t.1,
            actor: Actor {
                kind: t.2.parse().map_err(|e| corrupt("reading an audit record's actor", e))?,
                id: t.3,
                role: t.4,
            },
            action: t.5,
            target: t.6,
            outcome: t.7.parse().map_err(|e| corrupt("reading an audit record's outcome", e))?,
            source: t.8,
            request_id: t.9,
            details: ::serde_json::from_str(&t.10).map_err(|e| corrupt("reading an audit record's details", e))?,
        },
        prev_hash: Hash::from_hex(&t.11).map_err(|e| corrupt("reading an audit record's hash", e))?,
        hash: Hash::from_hex(&t.12).map_err(|e| corrupt("reading an audit record's hash", e))?,
    })
}

type CheckpointTuple = (i64, String, i64, String, String);

fn checkpoint_from(t: CheckpointTuple) -> $crate::Result<$crate::audit::Checkpoint> {
    Ok($crate::audit::Checkpoint {
        seq: t.0,
        hash: $crate::audit::Hash::from_hex(&t.1).map_err(|e| corrupt("reading a checkpoint", e))?,
        time_ms: t.2,
        key_id: t.3,
        signature: $crate::sql::unhex(&t.4).ok_or_else(|| {
            $crate::StoreError::query("reading a checkpoint's signature", std::io::Error::other("not hexadecimal"))
        })?,
    })
}

type SessionTuple = (String, String, String, i64, i64, i64);

fn session_from(t: SessionTuple) -> $crate::SessionRow {
    $crate::SessionRow { id_hash: t.0, subject: t.1, csrf: t.2, created_at: t.3, last_seen_at: t.4, expires_at: t.5 }
}

type TokenTuple = (String, String, String, String, String, i64, i64, Option<i64>, Option<i64>);

const TOKEN_COLUMNS: &str = "id, name, owner, role, hash, created_at, expires_at, last_used_at, revoked_at";

fn token_from(t: TokenTuple) -> $crate::TokenRow {
    $crate::TokenRow {
        id: t.0,
        name: t.1,
        owner: t.2,
        role: t.3,
        hash: t.4,
        created_at: t.5,
        expires_at: t.6,
        last_used_at: t.7,
        revoked_at: t.8,
    }
}

/// Chains `events` onto the log inside `tx` (see the module comment).
async fn append_audit_in(
    tx: &mut ::sqlx::Transaction<'_, $db>,
    events: &[$crate::audit::AuditEvent],
) -> $crate::Result<Vec<$crate::audit::AuditRecord>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let (seq, hash): (i64, String) = ::sqlx::query_as(::sqlx::AssertSqlSafe(sql(concat!("SELECT seq, hash FROM audit_head WHERE id = 1", $lock_row))))
        .fetch_one(&mut **tx)
        .await
        .map_err(q("reading the audit chain's head"))?;
    let head = $crate::audit::ChainHead {
        seq,
        hash: $crate::audit::Hash::from_hex(&hash).map_err(|e| corrupt("reading the audit chain's head", e))?,
    };
    let records = chain(&head, events);
    // The triggers move the head as the rows go in.
    for chunk in records.chunks(AUDIT_INSERT_ROWS) {
        audit_insert(chunk).execute(&mut **tx).await.map_err(q("appending to the audit log"))?;
    }
    Ok(records)
}

/// Records per `INSERT`: 13 parameters a row, far below either database's limit.
const AUDIT_INSERT_ROWS: usize = 200;

/// One `INSERT` of `records` (at most [`AUDIT_INSERT_ROWS`]).
fn audit_insert(
    records: &[$crate::audit::AuditRecord],
) -> ::sqlx::query::Query<'static, $db, <$db as ::sqlx::Database>::Arguments> {
    let columns: Vec<&str> = AUDIT_COLUMNS.split(", ").collect();
    let sql = $crate::multi_row_insert("audit_log", &columns, records.len(), placeholder);
    let mut query = ::sqlx::query(::sqlx::AssertSqlSafe(sql));
    for r in records {
        // Canonical text: `pave audit verify` hashes the column as stored, unparsed.
        let details = $crate::audit::canonical_json(&r.event.details);
        query = query
            .bind(r.seq)
            .bind(r.event.time_ms)
            .bind(r.event.actor.kind.as_str())
            .bind(r.event.actor.id.clone())
            .bind(r.event.actor.role.clone())
            .bind(r.event.action.clone())
            .bind(r.event.target.clone())
            .bind(r.event.outcome.as_str())
            .bind(r.event.source.clone())
            .bind(r.event.request_id.clone())
            .bind(details)
            .bind(r.prev_hash.to_hex())
            .bind(r.hash.to_hex());
    }
    query
}

/// Whether `e` is the triggers refusing a record that does not extend the head (another
/// writer moved it), or a second record with the same seq.
fn head_moved(e: &::sqlx::Error) -> bool {
    match e.as_database_error() {
        Some(db) => {
            db.message().contains(AUDIT_HEAD_MOVED)
                || db.kind() == ::sqlx::error::ErrorKind::UniqueViolation
        }
        None => false,
    }
}

/// What the triggers say when a record does not extend the head (the migrations' text).
const AUDIT_HEAD_MOVED: &str = "audit chain head moved";

/// Chained appends tried on a remembered head before falling back to a transaction that
/// reads it under the write lock.
const AUDIT_TRIES: usize = 4;

/// The head as stored.
async fn read_audit_head(pool: &::sqlx::Pool<$db>) -> $crate::Result<$crate::audit::ChainHead> {
    let (seq, hash): (i64, String) = ::sqlx::query_as(::sqlx::AssertSqlSafe(sql("SELECT seq, hash FROM audit_head WHERE id = 1")))
        .fetch_one(pool)
        .await
        .map_err(q("reading the audit chain's head"))?;
    Ok($crate::audit::ChainHead {
        seq,
        hash: $crate::audit::Hash::from_hex(&hash).map_err(|e| corrupt("reading the audit chain's head", e))?,
    })
}

/// Appends `events` on their own (see the module comment), together with whatever other
/// appends queued meanwhile ([`AuditTip`](crate::AuditTip)'s group commit). The write runs
/// in a task of its own: a caller that goes away (a client that hung up) must not take
/// other callers' records down with it.
async fn append_audit_alone(
    pool: &::sqlx::Pool<$db>,
    tip: &$crate::AuditTip,
    events: &[$crate::audit::AuditEvent],
) -> $crate::Result<Vec<$crate::audit::AuditRecord>> {
    let mine = tip.enqueue(events);
    let (pool, tip) = (pool.clone(), tip.clone());
    ::tokio::spawn(async move { write_waiting(&pool, &tip).await });
    mine.await.unwrap_or_else(|_| {
        Err($crate::StoreError::query(
            "appending to the audit log",
            std::io::Error::other("the append was dropped before it was written"),
        ))
    })
}

/// Takes the head and writes every queued append (none, when the last writer took them
/// along), in one statement when they fit.
async fn write_waiting(pool: &::sqlx::Pool<$db>, tip: &$crate::AuditTip) {
    let mut remembered = tip.lock().await;
    let waiting = tip.take_waiting();
    if waiting.is_empty() {
        return;
    }
    let all: Vec<$crate::audit::AuditEvent> =
        waiting.iter().flat_map(|w| w.events.iter().cloned()).collect();
    match append_chained(pool, &mut remembered, &all).await {
        Ok(records) => {
            let mut rest = records.into_iter();
            for w in waiting {
                let theirs: Vec<_> = rest.by_ref().take(w.events.len()).collect();
                let _ = w.done.send(Ok(theirs));
            }
        }
        // One error for many callers: each gets an attempt, and an error, of its own.
        Err(_) => {
            for w in waiting {
                let result = append_chained(pool, &mut remembered, &w.events).await;
                let _ = w.done.send(result);
            }
        }
    }
}

/// Appends `events` onto the head in `remembered`: one statement, the head read again when
/// another writer moved it; a transaction when the records need more than one statement or
/// the head keeps moving.
async fn append_chained(
    pool: &::sqlx::Pool<$db>,
    remembered: &mut Option<$crate::audit::ChainHead>,
    events: &[$crate::audit::AuditEvent],
) -> $crate::Result<Vec<$crate::audit::AuditRecord>> {
    if events.len() <= AUDIT_INSERT_ROWS {
        for _ in 0..AUDIT_TRIES {
            let head = match remembered.take() {
                Some(head) => head,
                None => read_audit_head(pool).await?,
            };
            let records = chain(&head, events);
            match audit_insert(&records).execute(pool).await {
                Ok(_) => {
                    *remembered = records.last().map($crate::audit::AuditRecord::head);
                    return Ok(records);
                }
                Err(e) if head_moved(&e) => continue,
                Err(e) => return Err(q("appending to the audit log")(e)),
            }
        }
    }
    let mut tx = begin_write(pool).await?;
    let records = append_audit_in(&mut tx, events).await?;
    tx.commit().await.map_err(q("committing"))?;
    *remembered = records.last().map($crate::audit::AuditRecord::head);
    Ok(records)
}

/// `events` hashed onto `head`, in order.
fn chain(
    head: &$crate::audit::ChainHead,
    events: &[$crate::audit::AuditEvent],
) -> Vec<$crate::audit::AuditRecord> {
    let mut head = *head;
    let mut records = Vec::with_capacity(events.len());
    for event in events {
        let record = $crate::audit::chain_next(&head, event.clone());
        head = record.head();
        records.push(record);
    }
    records
}

    };
}

/// [`IdentityStore`](crate::IdentityStore) for `$store`.
#[doc(hidden)]
#[macro_export]
macro_rules! __identity_methods {
    ($store:ty) => {
#[::async_trait::async_trait]
impl $crate::IdentityStore for $store {
    async fn append_audit(&self, events: &[$crate::audit::AuditEvent]) -> $crate::Result<Vec<$crate::audit::AuditRecord>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        append_audit_alone(&self.writer, &self.audit_tip, events).await
    }

    async fn audit_head(&self) -> $crate::Result<$crate::audit::ChainHead> {
        read_audit_head(&self.pool).await
    }

    async fn audit_records(&self, query: &$crate::AuditQuery) -> $crate::Result<Vec<$crate::audit::AuditRecord>> {
        let mut conditions: Vec<&str> = Vec::new();
        if query.since.is_some() { conditions.push("time_ms >= ?"); }
        if query.until.is_some() { conditions.push("time_ms < ?"); }
        if query.actor.is_some() { conditions.push("actor_id = ?"); }
        // `auth.*`: a prefix, as pave_audit::Filter reads it (the same rule as exports).
        let action = query.action.as_deref().map(|a| match a.strip_suffix('*') { Some(p) => (p, true), None => (a, false) });
        match action { Some((_, true)) => conditions.push("substr(action, 1, CAST(? AS INTEGER)) = ?"), Some(_) => conditions.push("action = ?"), None => {} }
        // A prefix by range, not LIKE: no escaping of `%` and `_`, and the index order holds.
        if query.target_prefix.is_some() { conditions.push("substr(target, 1, CAST(? AS INTEGER)) = ?"); }
        if query.outcome.is_some() { conditions.push("outcome = ?"); }
        if query.before_seq.is_some() { conditions.push("seq < ?"); }
        let filter = if conditions.is_empty() { String::new() } else { format!(" WHERE {}", conditions.join(" AND ")) };
        let limit = query.limit.clamp(1, $crate::AUDIT_PAGE_MAX);
        let text = sql(&format!("SELECT {AUDIT_COLUMNS} FROM audit_log{filter} ORDER BY seq DESC LIMIT {limit}"));
        let mut q_ = ::sqlx::query_as::<_, AuditTuple>(::sqlx::AssertSqlSafe(text));
        if let Some(t) = query.since { q_ = q_.bind(t); }
        if let Some(t) = query.until { q_ = q_.bind(t); }
        if let Some(a) = &query.actor { q_ = q_.bind(a.clone()); }
        match action {
            Some((p, true)) => q_ = q_.bind(i64::try_from(p.chars().count()).unwrap_or(i64::MAX)).bind(p.to_owned()),
            Some((a, false)) => q_ = q_.bind(a.to_owned()),
            None => {}
        }
        if let Some(p) = &query.target_prefix {
            q_ = q_.bind(i64::try_from(p.chars().count()).unwrap_or(i64::MAX)).bind(p.clone());
        }
        if let Some(o) = query.outcome { q_ = q_.bind(o.as_str()); }
        if let Some(s) = query.before_seq { q_ = q_.bind(s); }
        let rows = q_.fetch_all(&self.pool).await.map_err(q("reading the audit log"))?;
        rows.into_iter().map(audit_from).collect()
    }

    async fn visit_audit(
        &self,
        from_seq: i64,
        visit: &mut (dyn FnMut($crate::audit::AuditRecord) + Send),
    ) -> $crate::Result<()> {
        $crate::IdentityStore::visit_audit_range(self, from_seq, i64::MAX, visit).await
    }

    async fn audit_window(&self, since_ms: i64, until_ms: i64) -> $crate::Result<Option<(i64, i64)>> {
        let (first, last): (Option<i64>, Option<i64>) = ::sqlx::query_as(::sqlx::AssertSqlSafe(sql(
            "SELECT (SELECT min(seq) FROM audit_log WHERE time_ms >= ?), (SELECT max(seq) FROM audit_log WHERE time_ms < ?)",
        )))
        .bind(since_ms)
        .bind(until_ms)
        .fetch_one(&self.pool)
        .await
        .map_err(q("reading the audit log's window"))?;
        Ok(match (first, last) {
            (Some(first), Some(last)) if first <= last => Some((first, last)),
            _ => None,
        })
    }

    async fn visit_audit_range(
        &self,
        from_seq: i64,
        through_seq: i64,
        visit: &mut (dyn FnMut($crate::audit::AuditRecord) + Send),
    ) -> $crate::Result<()> {
        let mut failed = None;
        self.walk_stored_audit(from_seq, through_seq, &mut |chunk| {
            for stored in chunk {
                match stored.into_record() {
                    Ok(record) => visit(record),
                    Err(e) => {
                        failed = Some(corrupt("reading the audit log", e));
                        return false;
                    }
                }
            }
            true
        })
        .await?;
        failed.map_or(Ok(()), Err)
    }

    async fn visit_stored_audit(
        &self,
        from_seq: i64,
        through_seq: i64,
        visit: &mut (dyn FnMut(Vec<$crate::audit::StoredRecord>) -> bool + Send),
    ) -> $crate::Result<()> {
        self.walk_stored_audit(from_seq, through_seq, visit).await
    }

    async fn add_checkpoint(&self, checkpoint: &$crate::audit::Checkpoint) -> $crate::Result<()> {
        ::sqlx::query(::sqlx::AssertSqlSafe(sql("INSERT INTO audit_checkpoints (seq, hash, time_ms, key_id, signature) VALUES (?, ?, ?, ?, ?) ON CONFLICT (seq) DO NOTHING")))
            .bind(checkpoint.seq)
            .bind(checkpoint.hash.to_hex())
            .bind(checkpoint.time_ms)
            .bind(checkpoint.key_id.clone())
            .bind($crate::sql::hex(&checkpoint.signature))
            .execute(&self.writer)
            .await
            .map_err(q("storing an audit checkpoint"))?;
        Ok(())
    }

    async fn checkpoints(&self) -> $crate::Result<Vec<$crate::audit::Checkpoint>> {
        let rows: Vec<CheckpointTuple> = ::sqlx::query_as(::sqlx::AssertSqlSafe(sql("SELECT seq, hash, time_ms, key_id, signature FROM audit_checkpoints ORDER BY seq")))
            .fetch_all(&self.pool)
            .await
            .map_err(q("reading audit checkpoints"))?;
        rows.into_iter().map(checkpoint_from).collect()
    }

    async fn expire_audit(&self, checkpoint: &$crate::audit::Checkpoint) -> $crate::Result<u64> {
        let mut tx = begin_write(&self.writer).await?;
        ::sqlx::query(::sqlx::AssertSqlSafe(sql("INSERT INTO audit_checkpoints (seq, hash, time_ms, key_id, signature) VALUES (?, ?, ?, ?, ?) ON CONFLICT (seq) DO NOTHING")))
            .bind(checkpoint.seq)
            .bind(checkpoint.hash.to_hex())
            .bind(checkpoint.time_ms)
            .bind(checkpoint.key_id.clone())
            .bind($crate::sql::hex(&checkpoint.signature))
            .execute(&mut *tx)
            .await
            .map_err(q("storing an audit checkpoint"))?;
        ::sqlx::query(::sqlx::AssertSqlSafe(sql("UPDATE audit_head SET expired_through = ? WHERE id = 1 AND expired_through < ?")))
            .bind(checkpoint.seq)
            .bind(checkpoint.seq)
            .execute(&mut *tx)
            .await
            .map_err(q("moving the audit log's retention mark"))?;
        let deleted = ::sqlx::query(::sqlx::AssertSqlSafe(sql("DELETE FROM audit_log WHERE seq <= ?")))
            .bind(checkpoint.seq)
            .execute(&mut *tx)
            .await
            .map_err(q("expiring audit records"))?
            .rows_affected();
        tx.commit().await.map_err(q("committing"))?;
        Ok(deleted)
    }

    async fn put_session(&self, session: &$crate::SessionRow, audit: &[$crate::audit::AuditEvent]) -> $crate::Result<()> {
        let mut tx = begin_write(&self.writer).await?;
        ::sqlx::query(::sqlx::AssertSqlSafe(sql("INSERT INTO sessions (id_hash, subject, csrf, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)")))
            .bind(session.id_hash.clone())
            .bind(session.subject.clone())
            .bind(session.csrf.clone())
            .bind(session.created_at)
            .bind(session.last_seen_at)
            .bind(session.expires_at)
            .execute(&mut *tx)
            .await
            .map_err(q("storing a session"))?;
        append_audit_in(&mut tx, audit).await?;
        tx.commit().await.map_err(q("committing"))?;
        Ok(())
    }

    async fn session(&self, id_hash: &str) -> $crate::Result<Option<$crate::SessionRow>> {
        let row: Option<SessionTuple> = ::sqlx::query_as(::sqlx::AssertSqlSafe(sql("SELECT id_hash, subject, csrf, created_at, last_seen_at, expires_at FROM sessions WHERE id_hash = ?")))
            .bind(id_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(q("reading a session"))?;
        Ok(row.map(session_from))
    }

    async fn touch_session(&self, id_hash: &str, now: i64) -> $crate::Result<()> {
        ::sqlx::query(::sqlx::AssertSqlSafe(sql("UPDATE sessions SET last_seen_at = ? WHERE id_hash = ? AND last_seen_at < ?")))
            .bind(now)
            .bind(id_hash)
            .bind(now)
            .execute(&self.writer)
            .await
            .map_err(q("touching a session"))?;
        Ok(())
    }

    async fn delete_session(&self, id_hash: &str, audit: &[$crate::audit::AuditEvent]) -> $crate::Result<bool> {
        let mut tx = begin_write(&self.writer).await?;
        let deleted = ::sqlx::query(::sqlx::AssertSqlSafe(sql("DELETE FROM sessions WHERE id_hash = ?")))
            .bind(id_hash)
            .execute(&mut *tx)
            .await
            .map_err(q("ending a session"))?
            .rows_affected()
            > 0;
        if deleted {
            append_audit_in(&mut tx, audit).await?;
        }
        tx.commit().await.map_err(q("committing"))?;
        Ok(deleted)
    }

    async fn delete_expired_sessions(&self, now: i64, idle_before: i64) -> $crate::Result<u64> {
        Ok(::sqlx::query(::sqlx::AssertSqlSafe(sql("DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at < ?")))
            .bind(now)
            .bind(idle_before)
            .execute(&self.writer)
            .await
            .map_err(q("removing expired sessions"))?
            .rows_affected())
    }

    async fn put_login(&self, login: &$crate::LoginRow, stale_before: i64) -> $crate::Result<()> {
        let mut tx = begin_write(&self.writer).await?;
        ::sqlx::query(::sqlx::AssertSqlSafe(sql("DELETE FROM logins WHERE created_at < ?")))
            .bind(stale_before)
            .execute(&mut *tx)
            .await
            .map_err(q("removing stale sign-ins"))?;
        ::sqlx::query(::sqlx::AssertSqlSafe(sql("INSERT INTO logins (state_hash, nonce, verifier, return_to, created_at) VALUES (?, ?, ?, ?, ?)")))
            .bind(login.state_hash.clone())
            .bind(login.nonce.clone())
            .bind(login.verifier.clone())
            .bind(login.return_to.clone())
            .bind(login.created_at)
            .execute(&mut *tx)
            .await
            .map_err(q("storing a sign-in"))?;
        tx.commit().await.map_err(q("committing"))?;
        Ok(())
    }

    async fn take_login(&self, state_hash: &str) -> $crate::Result<Option<$crate::LoginRow>> {
        // DELETE … RETURNING: of two callbacks with the same state, one gets the row.
        let row: Option<(String, String, String, String, i64)> = ::sqlx::query_as(::sqlx::AssertSqlSafe(sql("DELETE FROM logins WHERE state_hash = ? RETURNING state_hash, nonce, verifier, return_to, created_at")))
            .bind(state_hash)
            .fetch_optional(&self.writer)
            .await
            .map_err(q("taking a sign-in"))?;
        Ok(row.map(|t| $crate::LoginRow { state_hash: t.0, nonce: t.1, verifier: t.2, return_to: t.3, created_at: t.4 }))
    }

    async fn create_token(&self, token: &$crate::TokenRow, audit: &[$crate::audit::AuditEvent]) -> $crate::Result<()> {
        let mut tx = begin_write(&self.writer).await?;
        ::sqlx::query(::sqlx::AssertSqlSafe(sql(&format!("INSERT INTO api_tokens ({TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"))))
            .bind(token.id.clone())
            .bind(token.name.clone())
            .bind(token.owner.clone())
            .bind(token.role.clone())
            .bind(token.hash.clone())
            .bind(token.created_at)
            .bind(token.expires_at)
            .bind(token.last_used_at)
            .bind(token.revoked_at)
            .execute(&mut *tx)
            .await
            .map_err(q("storing a token"))?;
        append_audit_in(&mut tx, audit).await?;
        tx.commit().await.map_err(q("committing"))?;
        Ok(())
    }

    async fn token_by_hash(&self, hash: &str) -> $crate::Result<Option<$crate::TokenRow>> {
        let row: Option<TokenTuple> = ::sqlx::query_as(::sqlx::AssertSqlSafe(sql(&format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE hash = ?"))))
            .bind(hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(q("reading a token"))?;
        Ok(row.map(token_from))
    }

    async fn token(&self, id: &str) -> $crate::Result<Option<$crate::TokenRow>> {
        let row: Option<TokenTuple> = ::sqlx::query_as(::sqlx::AssertSqlSafe(sql(&format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = ?"))))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(q("reading a token"))?;
        Ok(row.map(token_from))
    }

    async fn tokens(&self) -> $crate::Result<Vec<$crate::TokenRow>> {
        let rows: Vec<TokenTuple> = ::sqlx::query_as(::sqlx::AssertSqlSafe(sql(&format!("SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY created_at DESC, id"))))
            .fetch_all(&self.pool)
            .await
            .map_err(q("listing tokens"))?;
        Ok(rows.into_iter().map(token_from).collect())
    }

    async fn revoke_token(&self, id: &str, now: i64, audit: &[$crate::audit::AuditEvent]) -> $crate::Result<bool> {
        let mut tx = begin_write(&self.writer).await?;
        let revoked = ::sqlx::query(::sqlx::AssertSqlSafe(sql("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")))
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(q("revoking a token"))?
            .rows_affected()
            > 0;
        if revoked {
            append_audit_in(&mut tx, audit).await?;
        }
        tx.commit().await.map_err(q("committing"))?;
        Ok(revoked)
    }

    async fn touch_token(&self, id: &str, now: i64) -> $crate::Result<()> {
        ::sqlx::query(::sqlx::AssertSqlSafe(sql("UPDATE api_tokens SET last_used_at = ? WHERE id = ?")))
            .bind(now)
            .bind(id)
            .execute(&self.writer)
            .await
            .map_err(q("recording a token's use"))?;
        Ok(())
    }
}
    };
}

/// Implements [`IdentityStore`](crate::IdentityStore) for a wrapper by forwarding to the
/// store in its field `$field` (test doubles that change only catalog writes).
#[macro_export]
macro_rules! forward_identity_store {
    ($wrapper:ty, $field:tt) => {
        #[::async_trait::async_trait]
        impl $crate::IdentityStore for $wrapper {
            async fn append_audit(
                &self,
                events: &[$crate::audit::AuditEvent],
            ) -> $crate::Result<Vec<$crate::audit::AuditRecord>> {
                self.$field.append_audit(events).await
            }
            async fn audit_head(&self) -> $crate::Result<$crate::audit::ChainHead> {
                self.$field.audit_head().await
            }
            async fn audit_records(
                &self,
                query: &$crate::AuditQuery,
            ) -> $crate::Result<Vec<$crate::audit::AuditRecord>> {
                self.$field.audit_records(query).await
            }
            async fn visit_audit(
                &self,
                from_seq: i64,
                visit: &mut (dyn FnMut($crate::audit::AuditRecord) + Send),
            ) -> $crate::Result<()> {
                self.$field.visit_audit(from_seq, visit).await
            }
            async fn audit_window(
                &self,
                since_ms: i64,
                until_ms: i64,
            ) -> $crate::Result<Option<(i64, i64)>> {
                self.$field.audit_window(since_ms, until_ms).await
            }
            async fn visit_audit_range(
                &self,
                from_seq: i64,
                through_seq: i64,
                visit: &mut (dyn FnMut($crate::audit::AuditRecord) + Send),
            ) -> $crate::Result<()> {
                self.$field
                    .visit_audit_range(from_seq, through_seq, visit)
                    .await
            }
            async fn visit_stored_audit(
                &self,
                from_seq: i64,
                through_seq: i64,
                visit: &mut (dyn FnMut(Vec<$crate::audit::StoredRecord>) -> bool + Send),
            ) -> $crate::Result<()> {
                self.$field
                    .visit_stored_audit(from_seq, through_seq, visit)
                    .await
            }
            async fn add_checkpoint(
                &self,
                checkpoint: &$crate::audit::Checkpoint,
            ) -> $crate::Result<()> {
                self.$field.add_checkpoint(checkpoint).await
            }
            async fn checkpoints(&self) -> $crate::Result<Vec<$crate::audit::Checkpoint>> {
                self.$field.checkpoints().await
            }
            async fn expire_audit(
                &self,
                checkpoint: &$crate::audit::Checkpoint,
            ) -> $crate::Result<u64> {
                self.$field.expire_audit(checkpoint).await
            }
            async fn put_session(
                &self,
                session: &$crate::SessionRow,
                audit: &[$crate::audit::AuditEvent],
            ) -> $crate::Result<()> {
                self.$field.put_session(session, audit).await
            }
            async fn session(&self, id_hash: &str) -> $crate::Result<Option<$crate::SessionRow>> {
                self.$field.session(id_hash).await
            }
            async fn touch_session(&self, id_hash: &str, now: i64) -> $crate::Result<()> {
                self.$field.touch_session(id_hash, now).await
            }
            async fn delete_session(
                &self,
                id_hash: &str,
                audit: &[$crate::audit::AuditEvent],
            ) -> $crate::Result<bool> {
                self.$field.delete_session(id_hash, audit).await
            }
            async fn delete_expired_sessions(
                &self,
                now: i64,
                idle_before: i64,
            ) -> $crate::Result<u64> {
                self.$field.delete_expired_sessions(now, idle_before).await
            }
            async fn put_login(
                &self,
                login: &$crate::LoginRow,
                stale_before: i64,
            ) -> $crate::Result<()> {
                self.$field.put_login(login, stale_before).await
            }
            async fn take_login(
                &self,
                state_hash: &str,
            ) -> $crate::Result<Option<$crate::LoginRow>> {
                self.$field.take_login(state_hash).await
            }
            async fn create_token(
                &self,
                token: &$crate::TokenRow,
                audit: &[$crate::audit::AuditEvent],
            ) -> $crate::Result<()> {
                self.$field.create_token(token, audit).await
            }
            async fn token_by_hash(&self, hash: &str) -> $crate::Result<Option<$crate::TokenRow>> {
                self.$field.token_by_hash(hash).await
            }
            async fn token(&self, id: &str) -> $crate::Result<Option<$crate::TokenRow>> {
                self.$field.token(id).await
            }
            async fn tokens(&self) -> $crate::Result<Vec<$crate::TokenRow>> {
                self.$field.tokens().await
            }
            async fn revoke_token(
                &self,
                id: &str,
                now: i64,
                audit: &[$crate::audit::AuditEvent],
            ) -> $crate::Result<bool> {
                self.$field.revoke_token(id, now, audit).await
            }
            async fn touch_token(&self, id: &str, now: i64) -> $crate::Result<()> {
                self.$field.touch_token(id, now).await
            }
        }
    };
}
