//! Long walks of the audit log (`pave audit verify`, evidence packs) on PostgreSQL: chunks of
//! seqs, each returned by one query as a JSON array (a row per record costs the driver more
//! than hashing it does), a few queries in flight while the caller hashes the last chunk.

use futures_util::{StreamExt as _, TryStreamExt as _};
use pave_store::audit::StoredRecord;
use pave_store::{Result, StoreError};
use sqlx::PgPool;

use crate::PostgresStore;

/// Records per query.
const AUDIT_CHUNK: i64 = 2_048;

/// Queries in flight at once: the next chunks are built by the server while this one is
/// parsed and hashed.
const AUDIT_PREFETCH: usize = 3;

impl PostgresStore {
    /// Hands `visit` the stored records `from_seq..=through_seq` (clamped to the records
    /// there are) a chunk at a time, oldest first, until it returns false.
    pub(crate) async fn walk_stored_audit(
        &self,
        from_seq: i64,
        through_seq: i64,
        visit: &mut (dyn FnMut(Vec<StoredRecord>) -> bool + Send),
    ) -> Result<()> {
        let pool = &self.pool;
        let (first, last): (Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT min(seq), max(seq) FROM audit_log WHERE seq >= $1 AND seq <= $2",
        )
        .bind(from_seq)
        .bind(through_seq)
        .fetch_one(pool)
        .await
        .map_err(|e| StoreError::query("reading the audit log", e))?;
        let (Some(first), Some(last)) = (first, last) else {
            return Ok(());
        };
        let ranges = std::iter::successors(Some(first), move |start: &i64| {
            start.checked_add(AUDIT_CHUNK).filter(|next| *next <= last)
        })
        .map(move |start| (start, start.saturating_add(AUDIT_CHUNK - 1).min(last)));
        let mut chunks = futures_util::stream::iter(ranges)
            .map(|(start, end)| stored_audit_range(pool.clone(), start, end))
            .buffered(AUDIT_PREFETCH);
        while let Some(chunk) = chunks.try_next().await? {
            if !chunk.is_empty() && !visit(chunk) {
                break;
            }
        }
        Ok(())
    }
}

/// The stored records with seqs in `from_seq..=through_seq`, oldest first.
async fn stored_audit_range(
    pool: PgPool,
    from_seq: i64,
    through_seq: i64,
) -> Result<Vec<StoredRecord>> {
    let text: String = sqlx::query_scalar(
        "SELECT COALESCE(json_agg(json_build_array(seq, time_ms, actor_kind, actor_id, actor_role, \
         action, target, outcome, source, request_id, details, prev_hash, hash)), '[]')::text \
         FROM audit_log WHERE seq >= $1 AND seq <= $2",
    )
    .bind(from_seq)
    .bind(through_seq)
    .fetch_one(&pool)
    .await
    .map_err(|e| StoreError::query("reading the audit log", e))?;
    let mut chunk: Vec<StoredRecord> =
        serde_json::from_str(&text).map_err(|e| StoreError::query("reading the audit log", e))?;
    // Aggregates keep the scan's order in practice, but SQL does not promise it: order
    // here, in one pass when the rows came in order.
    if !chunk.windows(2).all(|w| w[0].seq < w[1].seq) {
        chunk.sort_unstable_by_key(|r| r.seq);
    }
    Ok(chunk)
}
