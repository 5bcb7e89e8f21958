//! `pave backup`, `pave restore` and `pave migrate`: the database as an operator handles it.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::time::Instant;

use anyhow::bail;
use clap::Args;
use pave_store::schema::SchemaStatus;
use serde_json::json;

use crate::Outcome;
use crate::args::OutputFormat;
use crate::config::{Database, open_store};

#[derive(Debug, Args)]
pub(crate) struct BackupArgs {
    /// The new file to write (never overwritten)
    pub(crate) file: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct RestoreArgs {
    /// A file `pave backup` wrote
    pub(crate) file: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct MigrateArgs {
    /// Only report: exit 1 when migrations are pending or a newer pave's schema refuses this one
    #[arg(long)]
    pub(crate) check: bool,
}

fn mib(bytes: u64) -> String {
    #[allow(clippy::cast_precision_loss)] // a size shown to one decimal
    let mib = bytes as f64 / (1024.0 * 1024.0);
    format!("{mib:.1} MiB")
}

fn print(format: OutputFormat, value: &serde_json::Value, text: &str) -> anyhow::Result<()> {
    match format {
        OutputFormat::Table => println!("{text}"),
        format => crate::output::print_data(format, value, &[])?,
    }
    Ok(())
}

pub(crate) async fn backup(
    args: BackupArgs,
    database_url: Option<&str>,
    format: OutputFormat,
) -> anyhow::Result<Outcome> {
    let store = open_store(database_url, "pave.db").await?;
    let started = Instant::now();
    let backup = store.backup(&args.file).await?;
    let seconds = started.elapsed().as_secs_f64();
    print(
        format,
        &json!({
            "file": args.file.display().to_string(),
            "bytes": backup.bytes,
            "entities": backup.entities,
            "auditRecords": backup.audit_records,
            "schema": backup.schema,
            "seconds": seconds,
        }),
        &format!(
            "backed up to {} ({}, {} entities, {} audit records, schema {}) in {seconds:.2} s",
            args.file.display(),
            mib(backup.bytes),
            backup.entities,
            backup.audit_records,
            backup.schema
        ),
    )?;
    Ok(Outcome::Success)
}

pub(crate) async fn restore(
    args: RestoreArgs,
    database_url: Option<&str>,
    format: OutputFormat,
) -> anyhow::Result<Outcome> {
    let path = match Database::named(database_url, "pave.db")? {
        Database::Sqlite(path) => path,
        Database::Postgres(_) => bail!(
            "pave restores SQLite databases; restore PostgreSQL with pg_restore: \
             `pg_restore --clean --if-exists --dbname=\"$PAVE_DATABASE_URL\" pave.dump` \
             (docs/operations.md, \"Backup and restore\")"
        ),
    };
    let restored = pave_store_sqlite::restore(&args.file, &path).await?;
    let previous = restored.previous.as_ref().map(|p| p.display().to_string());
    print(
        format,
        &json!({
            "database": path.display().to_string(),
            "from": args.file.display().to_string(),
            "entities": restored.backup.entities,
            "auditRecords": restored.backup.audit_records,
            "schema": restored.backup.schema,
            "previous": previous,
        }),
        &format!(
            "restored {} from {} ({} entities, {} audit records){}",
            path.display(),
            args.file.display(),
            restored.backup.entities,
            restored.backup.audit_records,
            previous.map_or_else(String::new, |p| format!(
                "; the database that was there is kept as {p}"
            )),
        ),
    )?;
    Ok(Outcome::Success)
}

pub(crate) async fn migrate(
    args: MigrateArgs,
    database_url: Option<&str>,
    format: OutputFormat,
) -> anyhow::Result<Outcome> {
    let database = Database::named(database_url, "pave.db")?;
    let before = match &database {
        Database::Sqlite(path) => pave_store_sqlite::SqliteStore::inspect(path).await?,
        Database::Postgres(url) => pave_store_postgres::PostgresStore::inspect(url).await?,
    };
    let runnable = before.check_runnable();
    if args.check {
        print(format, &status_json(&before, false), &status_text(&before))?;
        if let Err(e) = runnable {
            eprintln!("error: {e}");
            return Ok(Outcome::Failures);
        }
        return Ok(if before.pending.is_empty() {
            Outcome::Success
        } else {
            Outcome::Failures
        });
    }
    runnable?;
    // Opening the store applies what is pending, in one migration lock.
    let _store = open_store(database_url, "pave.db").await?;
    let applied: Vec<String> = before
        .pending
        .iter()
        .map(|(v, name)| format!("{v} {name}"))
        .collect();
    print(
        format,
        &status_json(&before, true),
        &if applied.is_empty() {
            format!("the schema is up to date (migration {})", before.known)
        } else {
            format!("applied {}", applied.join(", "))
        },
    )?;
    Ok(Outcome::Success)
}

fn status_json(status: &SchemaStatus, applied_now: bool) -> serde_json::Value {
    json!({
        "applied": status.applied,
        "pending": if applied_now { json!([]) } else {
            json!(status.pending.iter().map(|(v, n)| json!({"version": v, "name": n})).collect::<Vec<_>>())
        },
        "appliedNow": if applied_now {
            json!(status.pending.iter().map(|(v, n)| json!({"version": v, "name": n})).collect::<Vec<_>>())
        } else { json!([]) },
        "newer": status.newer,
        "readableBy": status.readable_by,
        "known": status.known,
        "runnable": status.check_runnable().is_ok(),
    })
}

fn status_text(status: &SchemaStatus) -> String {
    let mut lines = vec![format!(
        "this pave's schema: migration {}; the database has {} applied",
        status.known,
        status.applied.len()
    )];
    if status.pending.is_empty() {
        lines.push("pending: none".to_owned());
    }
    for (version, name) in &status.pending {
        lines.push(format!("pending: {version} {name}"));
    }
    if !status.newer.is_empty() {
        let newer: Vec<String> = status.newer.iter().map(ToString::to_string).collect();
        lines.push(format!(
            "applied by a newer pave: {} ({})",
            newer.join(", "),
            if status.check_runnable().is_ok() {
                "additive: this pave may run beside it"
            } else {
                "this pave may not run on it"
            }
        ));
    }
    lines.join("\n")
}
