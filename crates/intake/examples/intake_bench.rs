//! Measures the intake on a SQLite file, in a release build:
//!
//! ```text
//! cargo run --release -p pave-intake --example intake_bench [deliveries] [callers] [rate]
//! ```
//!
//! With `rate` (deliveries per second), callers send on a fixed schedule (an open loop, as
//! senders do) instead of as fast as receipts come back: the latency the issue's target
//! (2,000/s, p99 < 20 ms) is about.
//!
//! 1. `receive()`: `deliveries` (default 20,000) signed GitHub push deliveries of ~9 KB
//!    (octokit's branch push example from the corpus, each with its own commit), sent by `callers`
//!    (default 64) concurrent tasks, each waiting for its receipt (the commit) before the
//!    next: deliveries per second, p50/p99/max latency, transactions used.
//! 2. Processing: the processor derives the ledger from all of them (deliveries per second).
//! 3. Storage: 20,000 successful production deployments of 200 services, processed; the
//!    ledger's bytes on disk per deployment fact (file growth after a checkpoint).

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pave_delivery::Attribution;
use pave_events::{Secrets, Source};
use pave_intake::{Intake, IntakeConfig, Processor};
use pave_store::Store;
use pave_store_sqlite::SqliteStore;
use ring::hmac;
use serde_json::{Value, json};

const SECRET: &[u8] = b"bench-secret";

/// A delivery's headers and body, ready to send.
type Signed = Arc<(Vec<(String, String)>, Vec<u8>)>;

fn signature(body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, SECRET);
    let hex: String = hmac::sign(&key, body)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

fn corpus_push() -> Value {
    let root = std::env::var_os("PAVE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    let path = root.join("github-webhooks/push/with-new-branch.payload.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (set PAVE_CORPUS)", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn config() -> IntakeConfig {
    IntakeConfig {
        secrets: Secrets::new().with(Source::Github, SECRET, None).unwrap(),
        ..IntakeConfig::default()
    }
}

async fn file_bytes(path: &Path) -> u64 {
    // Reopening and closing checkpoints the WAL into the file.
    let store = SqliteStore::open(path).await.unwrap();
    store.close().await;
    std::fs::metadata(path).unwrap().len()
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let total: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let callers: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(64);
    let rate: Option<f64> = args.next().and_then(|a| a.parse().ok());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.db");

    // 1. receive()
    let template = corpus_push();
    let bodies: Vec<Signed> = (0..total)
        .map(|n| {
            let mut payload = template.clone();
            let sha = format!("{:040x}", n as u128 * 0x9E37_79B9_7F4A_7C15 + 1);
            payload["after"] = json!(sha);
            payload["commits"][0]["id"] = json!(sha);
            payload["head_commit"]["id"] = json!(sha);
            let body = serde_json::to_vec(&payload).unwrap();
            let headers = vec![
                ("X-GitHub-Event".to_owned(), "push".to_owned()),
                ("X-GitHub-Delivery".to_owned(), format!("bench-{n}")),
                ("X-Hub-Signature-256".to_owned(), signature(&body)),
                ("Content-Type".to_owned(), "application/json".to_owned()),
            ];
            Arc::new((headers, body))
        })
        .collect();
    let average = bodies.iter().map(|b| b.1.len()).sum::<usize>() / total;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await.unwrap());
    let intake = Arc::new(Intake::start(store.clone(), config()));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for caller in 0..callers {
        let intake = intake.clone();
        let mine: Vec<_> = bodies
            .iter()
            .skip(caller)
            .step_by(callers)
            .cloned()
            .collect();
        let start = tokio::time::Instant::now();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(mine.len());
            for (i, delivery) in mine.into_iter().enumerate() {
                if let Some(rate) = rate {
                    // Delivery `caller + i * callers` of the whole stream is due then.
                    let due = (caller + i * callers) as f64 / rate;
                    tokio::time::sleep_until(start + Duration::from_secs_f64(due)).await;
                }
                let sent = Instant::now();
                let receipt = intake
                    .receive(
                        "github",
                        &delivery.0,
                        &delivery.1,
                        pave_stdx::time::unix_millis(),
                    )
                    .await
                    .unwrap();
                assert!(!receipt.duplicate);
                latencies.push(sent.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::with_capacity(total);
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    let wall = started.elapsed();
    latencies.sort();
    let head = store.audit_head().await.unwrap();
    println!(
        "receive: {total} signed GitHub pushes of {average} bytes, {callers} concurrent callers{}: {:.0} deliveries/s; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} audit records)",
        rate.map(|r| format!(" paced at {r:.0}/s"))
            .unwrap_or_default(),
        total as f64 / wall.as_secs_f64(),
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3,
        head.seq,
    );
    drop(bodies);

    // 2. Processing.
    let attribution = Attribution::from_entities(&[json!({
        "kind": "Component",
        "metadata": {"name": "hello-world", "annotations": {"github.com/project-slug": "Codertocat/Hello-World"}},
        "spec": {"owner": "team"},
    })]);
    let processor = Processor::load(store.clone(), attribution, &config())
        .await
        .unwrap();
    let started = Instant::now();
    let progress = processor.catch_up().await.unwrap();
    let wall = started.elapsed();
    println!(
        "processing: {} deliveries in {:.2} s: {:.0} deliveries/s ({} rows written)",
        progress.deliveries,
        wall.as_secs_f64(),
        progress.deliveries as f64 / wall.as_secs_f64(),
        progress.rows
    );
    drop((processor, intake, store));

    // 3. Bytes per deployment fact.
    let path = dir.path().join("facts.db");
    let sqlite = SqliteStore::open(&path).await.unwrap();
    let store: Arc<dyn Store> = Arc::new(sqlite.clone());
    let intake = Arc::new(Intake::start(store.clone(), config()));
    let deployments = 20_000u64;
    let entities: Vec<Value> = (0..200)
        .map(|s| json!({"kind": "Component", "metadata": {"name": format!("service-{s:03}"), "annotations": {"github.com/project-slug": format!("bench/service-{s:03}")}}, "spec": {"owner": format!("team-{}", s % 20)}}))
        .collect();
    for chunk in (0..deployments).collect::<Vec<_>>().chunks(256) {
        let mut tasks = Vec::new();
        for &n in chunk {
            let intake = intake.clone();
            tasks.push(tokio::spawn(async move {
                let slug = format!("bench/service-{:03}", n % 200);
                let at = 1_767_225_600 + n as i64 * 60;
                let body = serde_json::to_vec(&json!({
                    "action": "created",
                    "deployment_status": {"state": "success", "environment": "production", "created_at": at},
                    "deployment": {"id": 5_000_000 + n, "sha": format!("{:040x}", n * 7919 + 13), "ref": "main", "task": "deploy", "environment": "production", "production_environment": true, "created_at": at - 300},
                    "repository": {"full_name": slug, "html_url": format!("https://github.com/{slug}"), "default_branch": "main"},
                }))
                .unwrap();
                let headers = [
                    ("X-GitHub-Event", "deployment_status".to_owned()),
                    ("X-GitHub-Delivery", format!("deploy-{n}")),
                    ("X-Hub-Signature-256", signature(&body)),
                ];
                let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
                intake.receive("github", &headers, &body, at * 1000 + 1000).await.unwrap();
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
    }
    drop(intake);
    drop(store);
    sqlite.close().await;
    let before = file_bytes(&path).await;
    let sqlite = SqliteStore::open(&path).await.unwrap();
    let store: Arc<dyn Store> = Arc::new(sqlite.clone());
    let processor = Processor::load(
        store.clone(),
        Attribution::from_entities(&entities),
        &config(),
    )
    .await
    .unwrap();
    let started = Instant::now();
    let progress = processor.catch_up().await.unwrap();
    let wall = started.elapsed();
    let stats = store.delivery_stats().await.unwrap();
    drop(processor);
    drop(store);
    sqlite.close().await;
    let after = file_bytes(&path).await;
    println!(
        "facts: {deployments} deployments processed at {:.0} deliveries/s; {} ledger rows; the file grew {} bytes: {:.0} bytes per deployment fact on disk",
        progress.deliveries as f64 / wall.as_secs_f64(),
        stats.ledger_rows,
        after - before,
        (after - before) as f64 / deployments as f64
    );
}
