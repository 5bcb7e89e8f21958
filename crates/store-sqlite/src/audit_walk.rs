//! Long walks of the audit log (`pave audit verify`, evidence packs) on SQLite: one `SELECT`
//! over the seq range, stepped row by row on a blocking thread with rusqlite, over the same
//! libsqlite3-sys that sqlx builds, the rows gathered into chunks for the caller.
//!
//! Why not sqlx: its SQLite driver hands every row from the connection's worker thread to
//! the caller, so a million records cost a million hand-offs; the way around that (each
//! chunk as one `json_group_array`, then parsed) left SQLite building JSON for more than half
//! the walk. Read here, the walk is a scan of the file, mapped into memory, and one statement
//! sees one snapshot from the first record to the last (bench/audit.sh has the figures).

use std::path::Path;

use pave_store::audit::{Hash, StoredRecord};
use pave_store::{Result, StoreError};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, Row};

use crate::SqliteStore;

/// Records per chunk handed to the caller.
const AUDIT_CHUNK: usize = 2_048;

/// Chunks read ahead of the caller.
const AUDIT_READ_AHEAD: usize = 4;

/// How much of the file the walk maps into memory (reads past it go through `read`).
const MMAP_BYTES: i64 = 1 << 30;

impl SqliteStore {
    /// Hands `visit` the stored records `from_seq..=through_seq` (clamped to the records
    /// there are) a chunk at a time, oldest first, until it returns false.
    pub(crate) async fn walk_stored_audit(
        &self,
        from_seq: i64,
        through_seq: i64,
        visit: &mut (dyn FnMut(Vec<StoredRecord>) -> bool + Send),
    ) -> Result<()> {
        let (sender, mut chunks) = tokio::sync::mpsc::channel(AUDIT_READ_AHEAD);
        let path = self.path.clone();
        let reader =
            tokio::task::spawn_blocking(move || read_chunks(&path, from_seq, through_seq, &sender));
        while let Some(chunk) = chunks.recv().await {
            if !visit(chunk) {
                break;
            }
        }
        // A caller that stopped early closes the channel: the reader stops at its next chunk.
        drop(chunks);
        reader
            .await
            .map_err(|e| StoreError::query("reading the audit log", e))?
    }
}

/// Reads the records in `from_seq..=through_seq` and sends them a chunk at a time, until
/// the receiver is gone.
fn read_chunks(
    path: &Path,
    from_seq: i64,
    through_seq: i64,
    sender: &tokio::sync::mpsc::Sender<Vec<StoredRecord>>,
) -> Result<()> {
    let failed = |e: rusqlite::Error| StoreError::query("reading the audit log", e);
    let db = open(path).map_err(|e| StoreError::Connect {
        url: format!("sqlite://{}", path.display()),
        source: Box::new(e),
    })?;
    let mut statement = db
        .prepare(
            "SELECT seq, time_ms, actor_kind, actor_id, actor_role, action, target, outcome, \
             source, request_id, details, prev_hash, hash \
             FROM audit_log WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq",
        )
        .map_err(failed)?;
    let mut rows = statement.query([from_seq, through_seq]).map_err(failed)?;
    let mut chunk = Vec::with_capacity(AUDIT_CHUNK);
    while let Some(row) = rows.next().map_err(failed)? {
        chunk.push(stored_record(row)?);
        if chunk.len() == AUDIT_CHUNK {
            let full = std::mem::replace(&mut chunk, Vec::with_capacity(AUDIT_CHUNK));
            if sender.blocking_send(full).is_err() {
                return Ok(());
            }
        }
    }
    if !chunk.is_empty() {
        let _ = sender.blocking_send(chunk);
    }
    Ok(())
}

/// A connection of its own, read-only, with the file mapped into memory.
fn open(path: &Path) -> rusqlite::Result<Connection> {
    let db = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    db.busy_timeout(std::time::Duration::from_secs(10))?;
    db.pragma_update(None, "mmap_size", MMAP_BYTES)?;
    Ok(db)
}

/// One row as [`StoredRecord`]. A column that does not read back (text where a number
/// belongs, a hash that is not 64 hex digits) is an error naming the record.
fn stored_record(row: &Row<'_>) -> Result<StoredRecord> {
    let seq: i64 = row
        .get(0)
        .map_err(|e| StoreError::query("reading the audit log", e))?;
    let column = |e: rusqlite::Error| bad_record(seq, &e);
    let hash = |i: usize| -> Result<Hash> {
        let text = match row.get_ref(i).map_err(column)? {
            ValueRef::Text(bytes) => std::str::from_utf8(bytes).map_err(|e| bad_record(seq, &e))?,
            other => {
                return Err(bad_record(
                    seq,
                    &format!("a hash stored as {:?}", other.data_type()),
                ));
            }
        };
        Hash::from_hex(text).map_err(|e| bad_record(seq, &e))
    };
    Ok(StoredRecord {
        seq,
        time_ms: row.get(1).map_err(column)?,
        actor_kind: row.get(2).map_err(column)?,
        actor_id: row.get(3).map_err(column)?,
        actor_role: row.get(4).map_err(column)?,
        action: row.get(5).map_err(column)?,
        target: row.get(6).map_err(column)?,
        outcome: row.get(7).map_err(column)?,
        source: row.get(8).map_err(column)?,
        request_id: row.get(9).map_err(column)?,
        details: row.get(10).map_err(column)?,
        prev_hash: hash(11)?,
        hash: hash(12)?,
    })
}

fn bad_record(seq: i64, e: &dyn std::fmt::Display) -> StoreError {
    StoreError::query(
        "reading the audit log",
        std::io::Error::other(format!("record {seq}: {e}")),
    )
}
