//! The audit trail through the store and the binary (issue 14's targets): appending records
//! to SQLite inside write transactions (≥ 5,000 records/s), `pave audit verify` of
//! 1,000,000 stored records (< 2 s) and `pave evidence` over 100,000 (< 3 s), each run as an
//! operator runs it. `audit-bench` measures the pure core alone.
//!
//! Usage: `bench/audit.sh` or
//! `target/release/audit-store-bench [--binary target/release/pave] [--records 1000000] [--pack 100000] [--keep big.db]`

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use pave_store::audit::{Actor, ActorKind, AuditEvent, Outcome};
use pave_store::{IdentityStore as _, Store as _};
use pave_store_sqlite::SqliteStore;
use pave_testkit::arg;
use serde_json::json;

fn event(n: i64) -> AuditEvent {
    AuditEvent {
        time_ms: 1_767_225_600_000 + n * 37,
        actor: Actor {
            kind: ActorKind::User,
            id: format!("user:default/person-{}", n % 977),
            role: Some("editor".to_owned()),
        },
        action: "location.refresh".to_owned(),
        target: format!("location-{}", n % 4_001),
        outcome: Outcome::Success,
        source: Some(format!("10.0.{}.{}", n / 256 % 256, n % 256)),
        request_id: Some(format!("req-{n:08x}")),
        details: json!({"type": "url", "target": format!("https://git.example.com/team-{}/repo-{n}/blob/main/catalog-info.yaml", n % 89)}),
    }
}

fn timed(mut command: Command) -> Duration {
    let started = Instant::now();
    let out = command.output().unwrap();
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "{:?} failed: {}",
        command,
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

fn pave(binary: &Path, db: &Path) -> Command {
    let mut command = Command::new(binary);
    command.env("PAVE_DATABASE_URL", format!("sqlite://{}", db.display()));
    command
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let binary = PathBuf::from(arg("--binary").unwrap_or_else(|| "target/release/pave".into()));
    let records: i64 = arg("--records").map_or(1_000_000, |r| r.parse().unwrap());
    let pack: i64 = arg("--pack").map_or(100_000, |r| r.parse().unwrap());
    let dir = tempfile::tempdir().unwrap();

    println!("| measure | figure | target |");
    println!("|---|---|---|");

    // One record per write transaction: the way a change and its record are written.
    let db = dir.path().join("single.db");
    let store = SqliteStore::open(&db).await.unwrap();
    let n = 5_000;
    let started = Instant::now();
    for i in 0..n {
        store.append_audit(&[event(i)]).await.unwrap();
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    println!(
        "| append, 1 record per write transaction (SQLite) | {rate:.0} records/s | ≥ 5,000/s |"
    );
    // Many callers at once, one record each (a burst of sign-ins or refused webhooks): the
    // appends that queue while one is written go in together (group commit).
    let callers = 16;
    let per_caller = 1_000;
    let store = std::sync::Arc::new(store);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..callers {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per_caller {
                store
                    .append_audit(&[event(c * per_caller + i)])
                    .await
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let rate = (callers * per_caller) as f64 / started.elapsed().as_secs_f64();
    println!(
        "| append, 1 record per call, {callers} callers at once (SQLite) | {rate:.0} records/s | ≥ 5,000/s |"
    );
    // With a location change in the same transaction (the real case).
    let started = Instant::now();
    for i in 0..1_000 {
        let (location, _) = store
            .add_location(
                pave_store::LocationKind::Url,
                &format!("https://example.com/{i}.yaml"),
                1,
                &[event(i)],
            )
            .await
            .unwrap();
        let _ = location;
    }
    let rate = 1_000.0 / started.elapsed().as_secs_f64();
    println!("| location registered with its record, per transaction | {rate:.0} changes/s | |");
    store.close().await;

    // Many records: batches of 1,000 per transaction. `--keep <file>` keeps (and reuses) the
    // database, to look into one step at a time.
    let kept = arg("--keep").map(PathBuf::from);
    let reuse = kept.as_ref().is_some_and(|p| p.exists());
    let big = kept.unwrap_or_else(|| dir.path().join("big.db"));
    let store = SqliteStore::open(&big).await.unwrap();
    let started = Instant::now();
    let mut written = if reuse { records } else { 0 };
    while written < records {
        let batch: Vec<AuditEvent> = (written..(written + 1_000).min(records))
            .map(event)
            .collect();
        store.append_audit(&batch).await.unwrap();
        written += batch.len() as i64;
    }
    let rate = records as f64 / started.elapsed().as_secs_f64();
    println!("| append, batches of 1,000 ({records} records) | {rate:.0} records/s | |");
    store.close().await;
    let size = std::fs::metadata(&big).map_or(0, |m| m.len());
    println!(
        "| database with {records} records | {:.0} MB | |",
        size as f64 / 1e6
    );

    let mut verify = pave(&binary, &big);
    verify.args(["audit", "verify"]);
    let took = timed(verify);
    println!(
        "| `pave audit verify`, {records} records | {:.2} s | < 2 s |",
        took.as_secs_f64()
    );

    // An evidence pack over the last `pack` records' window.
    let key = dir.path().join("audit.pem");
    let mut keygen = pave(&binary, &big);
    keygen.args(["audit", "keygen", "--out", key.to_str().unwrap()]);
    timed(keygen);
    let from_ms = 1_767_225_600_000 + (records - pack) * 37;
    let from = pave_stdx::time::iso8601_utc(from_ms / 1000 + 1);
    let to = pave_stdx::time::iso8601_utc(1_767_225_600_000 / 1000 + records * 37 / 1000 + 10);
    let out = dir.path().join("evidence.zip");
    let mut evidence = pave(&binary, &big);
    evidence.args([
        "evidence",
        "--from",
        &from,
        "--to",
        &to,
        "--key",
        key.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let took = timed(evidence);
    let bytes = std::fs::metadata(&out).map_or(0, |m| m.len());
    println!(
        "| `pave evidence`, window of ~{pack} of {records} records | {:.2} s ({:.1} MB) | < 3 s |",
        took.as_secs_f64(),
        bytes as f64 / 1e6
    );
    let mut check = pave(&binary, &big);
    check.args(["evidence", "verify", out.to_str().unwrap()]);
    let took = timed(check);
    println!(
        "| `pave evidence verify` of that pack | {:.2} s | |",
        took.as_secs_f64()
    );
}
