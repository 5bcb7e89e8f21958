//! The database file itself: one server at a time (a lock file beside it), online backups
//! (`VACUUM INTO`, a consistent snapshot while the server writes) and restoring one.
//!
//! The lock is a separate file because SQLite's own locks are POSIX record locks, which a
//! process loses on the database file when it closes *any* descriptor of that file: locking
//! the database file itself from here would risk releasing SQLite's locks.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use pave_store::{Backup, Result, ServingClaim, StoreError};
use sqlx::SqlitePool;

/// `pave.db` → `pave.db<suffix>`, beside it.
fn beside(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    db.with_file_name(name)
}

fn file_error(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StoreError {
    let path = path.display().to_string();
    move |source| StoreError::File {
        action,
        path,
        source,
    }
}

/// Claims the database at `db` for this process as its one server (`<db>.lock`, an
/// advisory lock the kernel drops when the process ends, however it ends).
pub(crate) fn claim(db: &Path) -> Result<ServingClaim> {
    let lock_path = beside(db, ".lock");
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(file_error("open the lock file", &lock_path))?;
    match file.try_lock() {
        Ok(()) => {
            // Who holds it, for the message another process gives.
            let holder = format!("pid {}", std::process::id());
            file.set_len(0)
                .and_then(|()| file.write_all(holder.as_bytes()))
                .map_err(file_error("write the lock file", &lock_path))?;
            Ok(ServingClaim::holding(file))
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(&lock_path).unwrap_or_default();
            Err(StoreError::InUse {
                path: db.display().to_string(),
                holder: if holder.trim().is_empty() {
                    "see the lock file".to_owned()
                } else {
                    holder.trim().to_owned()
                },
            })
        }
        Err(std::fs::TryLockError::Error(e)) => {
            Err(file_error("lock the lock file", &lock_path)(e))
        }
    }
}

/// Copies the database `pool` serves into the new file `to`: `VACUUM INTO` reads one
/// consistent snapshot while writers go on. The copy is written beside `to`, checked, synced
/// and only then renamed to it, so a crash never leaves a partial file under that name.
pub(crate) async fn backup(pool: &SqlitePool, to: &Path) -> Result<Backup> {
    if to.exists() {
        return Err(StoreError::File {
            action: "back up into",
            path: to.display().to_string(),
            source: std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "it exists already (choose a new name; a backup never overwrites)",
            ),
        });
    }
    if let Some(parent) = to.parent().filter(|p| !p.as_os_str().is_empty())
        && !parent.is_dir()
    {
        return Err(StoreError::File {
            action: "back up into",
            path: to.display().to_string(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("the folder {} does not exist", parent.display()),
            ),
        });
    }
    let partial = beside(to, ".partial");
    // A partial file from an earlier interrupted run is ours to replace.
    let _ = std::fs::remove_file(&partial);
    let text = partial.to_str().ok_or_else(|| StoreError::File {
        action: "back up into",
        path: to.display().to_string(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path is not UTF-8"),
    })?;
    if let Err(e) = sqlx::query("VACUUM INTO ?").bind(text).execute(pool).await {
        let _ = std::fs::remove_file(&partial);
        return Err(StoreError::query("writing the backup", e));
    }
    let checked = inspect_copy(&partial).await;
    let summary = match checked {
        Ok(summary) => summary,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    // SQLite does not sync what VACUUM INTO writes.
    File::open(&partial)
        .and_then(|f| f.sync_all())
        .map_err(file_error("sync", &partial))?;
    std::fs::rename(&partial, to).map_err(file_error("rename the backup to", to))?;
    sync_dir(to);
    Ok(summary)
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// What was restored.
    pub backup: Backup,
    /// Where the database that was there before went (with its WAL), if there was one.
    pub previous: Option<PathBuf>,
}

/// Replaces the database at `db` with the backup `from`, which must be a sound pave database
/// this pave may run on. Refused while a server holds `db`. The database that was there is
/// moved aside (`<db>.before-restore-<unix seconds>`, with its WAL), never deleted; the
/// restored copy is brought up to this pave's schema.
pub async fn restore(from: &Path, db: &Path) -> Result<Restored> {
    // Restoring onto a new machine: the data folder may not exist yet.
    if let Some(parent) = db.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(file_error("create the folder", parent))?;
    }
    let _claim = claim(db)?;
    let backup = inspect_copy(from).await?;
    let copying = beside(db, ".restoring");
    std::fs::copy(from, &copying).map_err(file_error("copy the backup to", &copying))?;
    File::open(&copying)
        .and_then(|f| f.sync_all())
        .map_err(file_error("sync", &copying))?;
    let previous = if db.exists() {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let aside = beside(db, &format!(".before-restore-{stamp}"));
        move_with_journal(db, &aside)?;
        Some(aside)
    } else {
        None
    };
    if let Err(e) = std::fs::rename(&copying, db) {
        // Put the previous database back rather than leave none.
        if let Some(aside) = &previous {
            let _ = move_with_journal(aside, db);
        }
        return Err(file_error("move the restored copy to", db)(e));
    }
    sync_dir(db);
    // The copy may come from an older pave: bring it up to date now, not at the next start.
    let store = crate::SqliteStore::open(db).await?;
    store.close().await;
    Ok(Restored { backup, previous })
}

/// Moves a database file and its `-wal` and `-shm` files together (a hot WAL holds commits).
fn move_with_journal(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to).map_err(file_error("move aside", from))?;
    for suffix in ["-wal", "-shm"] {
        let journal = beside(from, suffix);
        if journal.exists() {
            std::fs::rename(&journal, beside(to, suffix))
                .map_err(file_error("move aside", &journal))?;
        }
    }
    Ok(())
}

/// Syncs the directory holding `path`, so that a rename survives a crash (best effort: not
/// every filesystem lets a directory be opened).
fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && let Ok(dir) = File::open(dir)
    {
        let _ = dir.sync_all();
    }
}

/// Checks that `path` is a sound pave database this pave may run on, and counts what it
/// holds.
async fn inspect_copy(path: &Path) -> Result<Backup> {
    let bad = |reason: String| StoreError::BadBackup {
        path: path.display().to_string(),
        reason,
    };
    let bytes = std::fs::metadata(path)
        .map_err(file_error("read", path))?
        .len();
    let pool = crate::read_only_pool(path)
        .await
        .map_err(|e| bad(e.to_string()))?;
    let checked = check_copy(&pool, bytes).await.map_err(|e| match e {
        StoreError::Query { source, .. } | StoreError::Unavailable { source, .. } => {
            bad(source.to_string())
        }
        StoreError::SchemaNewer(_) => bad(e.to_string()),
        e => e,
    });
    pool.close().await;
    checked
}

async fn check_copy(pool: &SqlitePool, bytes: u64) -> Result<Backup> {
    let problems: Vec<String> = sqlx::query_scalar("PRAGMA quick_check")
        .fetch_all(pool)
        .await
        .map_err(|e| StoreError::query("checking the copy", e))?;
    if problems != ["ok"] {
        return Err(StoreError::query(
            "checking the copy",
            std::io::Error::other(format!("damaged: {}", problems.join("; "))),
        ));
    }
    let status = crate::schema_status(pool).await?;
    if status.applied.is_empty() {
        return Err(StoreError::query(
            "checking the copy",
            std::io::Error::other("it is a SQLite database, but not a pave one"),
        ));
    }
    status.check_runnable()?;
    let count = async |table: &str, sql: &'static str| -> Result<i64> {
        if !crate::table_exists(pool, table).await? {
            return Ok(0);
        }
        sqlx::query_scalar(sql)
            .fetch_one(pool)
            .await
            .map_err(|e| StoreError::query("counting what the copy holds", e))
    };
    Ok(Backup {
        bytes,
        entities: count("entities", "SELECT count(*) FROM entities").await?,
        // Before migration 5 a database had no audit log.
        audit_records: count("audit_log", "SELECT count(*) FROM audit_log").await?,
        schema: status.applied.iter().copied().max().unwrap_or(0),
    })
}
