//! Delivery storage figures on a SQLite file: `accept_deliveries` throughput by batch size
//! (~7 KB bodies, one audit record each) and the on-disk bytes of a ledger row.
//!
//! `cargo run --release -p pave-store-sqlite --example delivery_bench [-- DIR]`

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::time::Instant;

use pave_store::audit::{Actor, ActorKind, AuditEvent, Outcome};
use pave_store::{DeliveryStore, LedgerRow, NewDelivery};
use pave_store_sqlite::SqliteStore;

/// A deterministic pseudo-random stream (xorshift), so runs compare.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Text of `len` bytes from a JSON-like alphabet (SQLite stores bodies as they are, so
    /// only the size matters).
    fn text(&mut self, len: usize) -> Vec<u8> {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789\":{},_- ";
        (0..len)
            .map(|_| ALPHABET[(self.next() % ALPHABET.len() as u64) as usize])
            .collect()
    }
}

fn audit(n: usize) -> AuditEvent {
    AuditEvent {
        time_ms: 1_700_000_000_000 + n as i64,
        actor: Actor {
            kind: ActorKind::Anonymous,
            id: "source:github".into(),
            role: None,
        },
        action: "delivery.received".into(),
        target: format!("github/{n:08x}-delivery"),
        outcome: Outcome::Success,
        source: Some("192.0.2.10".into()),
        request_id: Some(format!("req-{n}")),
        details: serde_json::json!({"event": "deployment_status", "bytes": 7_168}),
    }
}

async fn throughput(dir: &std::path::Path, batch: usize, total: usize) {
    let path = dir.join(format!("accept-{batch}.db"));
    let store = SqliteStore::open(&path).await.unwrap();
    let mut noise = Noise(0x9e37_79b9_7f4a_7c15 ^ batch as u64);
    let deliveries: Vec<NewDelivery> = (0..total)
        .map(|n| NewDelivery {
            source: "github".into(),
            delivery_id: format!("{:016x}-{n}", noise.next()),
            received_at: 1_700_000_000_000 + n as i64,
            headers: format!(
                "{{\"x-github-event\":\"deployment_status\",\"x-github-delivery\":\"{n}\",\"x-github-hook-id\":\"123456\",\"user-agent\":\"GitHub-Hookshot/abc123\"}}"
            ),
            body: noise.text(7 * 1024),
        })
        .collect();
    let events: Vec<AuditEvent> = (0..total).map(audit).collect();
    let started = Instant::now();
    for (chunk, events) in deliveries.chunks(batch).zip(events.chunks(batch)) {
        store.accept_deliveries(chunk, events).await.unwrap();
    }
    let elapsed = started.elapsed();
    let stats = store.delivery_stats().await.unwrap();
    assert_eq!(stats.deliveries, total as u64);
    println!(
        "accept_deliveries batch {batch:>3}: {total} deliveries in {:.2} s = {:.0} deliveries/s ({:.2} ms a batch)",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1_000.0 / total.div_ceil(batch) as f64,
    );
    store.close().await;
}

async fn pages(path: &std::path::Path) -> i64 {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let count: i64 = sqlx::query_scalar("PRAGMA page_count")
        .fetch_one(&pool)
        .await
        .unwrap();
    let size: i64 = sqlx::query_scalar("PRAGMA page_size")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    count * size
}

/// Bytes on disk a ledger row costs: `rows` rows with `body_len`-byte bodies, keyed like a
/// deployment (a 63-bit id in hex) or a commit (`host/org/repo` and a sha), committed
/// 2,000 at a time in random (`shuffled`) or key order.
async fn ledger_bytes(
    dir: &std::path::Path,
    label: &str,
    key_of: fn(u64) -> String,
    shuffled: bool,
) {
    const ROWS: u64 = 100_000;
    let path = dir.join(format!("ledger-{label}-{shuffled}.db"));
    let store = SqliteStore::open(&path).await.unwrap();
    store.close().await;
    let empty = pages(&path).await;
    let store = SqliteStore::open(&path).await.unwrap();
    let mut noise = Noise(0x2545_f491_4f6c_dd1d);
    let mut rows: Vec<LedgerRow> = (0..ROWS)
        .map(|n| LedgerRow {
            kind: 1,
            key: key_of(n),
            body: noise.text(120),
        })
        .collect();
    if shuffled {
        for i in (1..rows.len()).rev() {
            let j = (noise.next() % (i as u64 + 1)) as usize;
            rows.swap(i, j);
        }
    } else {
        rows.sort_by(|a, b| a.key.cmp(&b.key));
    }
    let started = Instant::now();
    for (i, chunk) in rows.chunks(2_000).enumerate() {
        store.commit_ledger(chunk, i as i64 + 1, &[]).await.unwrap();
    }
    let elapsed = started.elapsed();
    store.close().await;
    let bytes = pages(&path).await - empty;
    let key_len = rows.iter().map(|r| r.key.len()).sum::<usize>() / rows.len();
    println!(
        "ledger, {label} keys ({key_len} B), 120 B bodies, {}: {} rows = {bytes} B = {:.1} B/row ({:.0} rows/s written)",
        if shuffled {
            "random order"
        } else {
            "key order"
        },
        ROWS,
        bytes as f64 / ROWS as f64,
        ROWS as f64 / elapsed.as_secs_f64(),
    );
}

#[tokio::main]
async fn main() {
    let kept = std::env::args().nth(1).map(std::path::PathBuf::from);
    let temp = tempfile::tempdir().unwrap();
    let dir = kept.as_deref().unwrap_or(temp.path());
    std::fs::create_dir_all(dir).unwrap();
    throughput(dir, 1, 2_000).await;
    throughput(dir, 50, 10_000).await;
    throughput(dir, 500, 20_000).await;
    for shuffled in [false, true] {
        ledger_bytes(
            dir,
            "deployment",
            |n| format!("{:016x}", n.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 1),
            shuffled,
        )
        .await;
        ledger_bytes(
            dir,
            "commit",
            |n| {
                format!(
                    "github.com/acme/service-{}/{:040x}",
                    n % 50,
                    u128::from(n).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)
                )
            },
            shuffled,
        )
        .await;
    }
}
