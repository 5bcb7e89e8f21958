//! Webhook intake under load (issue 15: signed GitHub deliveries at 2,000/s for 60 s on 2
//! cores, p99 < 20 ms, nothing lost). `pave serve` on a SQLite file with a GitHub secret;
//! an open-loop client sends signed `push` (about 6 KB, shaped like GitHub's) and
//! `deployment_status` deliveries at a fixed rate from several keep-alive connections and
//! measures each from the moment it was *due* (so a stalled server is not hidden by a client
//! that waits for it). Afterwards the server is killed with SIGKILL and restarted, and every
//! delivery it acknowledged must be in the database.
//!
//! Usage: `bench/events.sh [--binary target/release/pave] [--rate 2000] [--seconds 60]
//! [--connections 32]`

#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pave_testkit::{KeepAlive, Server, arg, percentile};
use ring::hmac;
use serde_json::json;

const SECRET: &str = "bench-webhook-secret";

const REPOSITORY_URLS: [&str; 40] = [
    "forks",
    "keys",
    "collaborators",
    "teams",
    "hooks",
    "issue_events",
    "events",
    "assignees",
    "branches",
    "tags",
    "blobs",
    "git_tags",
    "git_refs",
    "trees",
    "statuses",
    "languages",
    "stargazers",
    "contributors",
    "subscribers",
    "subscription",
    "commits",
    "git_commits",
    "comments",
    "issue_comment",
    "contents",
    "compare",
    "merges",
    "archive",
    "downloads",
    "issues",
    "pulls",
    "milestones",
    "notifications",
    "labels",
    "releases",
    "deployments",
    "svn",
    "mirror",
    "homepage",
    "archive_format",
];

/// A push of three commits to `acme/service-<n>`, shaped like GitHub's (repository, pusher,
/// sender, commits with their files).
fn push_body(n: u64) -> Vec<u8> {
    let repo = format!("service-{:04}", n % 2_000);
    let sha = |k: u64| format!("{:040x}", (n << 8) | k);
    let commit = |k: u64| {
        json!({
            "id": sha(k), "tree_id": sha(k + 100), "distinct": true,
            "message": format!("Change {k} of push {n}: tune the connection pool and retry budget"),
            "timestamp": "2026-11-30T10:15:00Z",
            "url": format!("https://github.com/acme/{repo}/commit/{}", sha(k)),
            "author": {"name": "Jane Doe", "email": "jane@example.com", "username": "jane"},
            "committer": {"name": "GitHub", "email": "noreply@github.com", "username": "web-flow"},
            "added": [], "removed": [], "modified": ["src/pool.rs", "src/retry.rs", "README.md"]
        })
    };
    let owner = json!({"name": "acme", "login": "acme", "id": 1, "type": "Organization",
        "url": "https://api.github.com/users/acme", "html_url": "https://github.com/acme"});
    let mut body = json!({
        "ref": "refs/heads/main", "before": sha(0), "after": sha(3),
        "created": false, "deleted": false, "forced": false, "base_ref": null,
        "compare": format!("https://github.com/acme/{repo}/compare/{}...{}", sha(0), sha(3)),
        "commits": [commit(1), commit(2), commit(3)],
        "head_commit": commit(3),
        "repository": {
            "id": 1000 + n % 2_000, "node_id": "R_kgDOB", "name": repo,
            "full_name": format!("acme/{repo}"), "private": true, "owner": owner,
            "html_url": format!("https://github.com/acme/{repo}"),
            "description": "A service of the bench organisation",
            "url": format!("https://github.com/acme/{repo}"),
            "git_url": format!("git://github.com/acme/{repo}.git"),
            "ssh_url": format!("git@github.com:acme/{repo}.git"),
            "clone_url": format!("https://github.com/acme/{repo}.git"),
            "default_branch": "main", "master_branch": "main",
            "created_at": 1_700_000_000, "pushed_at": 1_764_497_700, "size": 1234,
            "stargazers_count": 0, "watchers_count": 0, "language": "Rust",
            "topics": ["service", "payments"], "visibility": "private"
        },
        "pusher": {"name": "jane", "email": "jane@example.com"},
        "sender": {"login": "jane", "id": 2, "type": "User",
            "url": "https://api.github.com/users/jane", "html_url": "https://github.com/jane"}
    });
    // GitHub's repository object carries some forty API URL templates: most of a real
    // push's ~7 KB.
    let api = format!("https://api.github.com/repos/acme/{repo}");
    for name in REPOSITORY_URLS {
        body["repository"][format!("{name}_url")] = json!(format!("{api}/{name}{{/number}}"));
    }
    serde_json::to_vec(&body).unwrap()
}

/// A successful production `deployment_status` for the same repositories.
fn deployment_status_body(n: u64) -> Vec<u8> {
    let repo = format!("service-{:04}", n % 2_000);
    let body = json!({
        "action": "created",
        "deployment_status": {
            "id": 10_000_000 + n, "state": "success", "environment": "production",
            "description": "Deployed by the bench", "created_at": "2026-11-30T10:20:00Z",
            "updated_at": "2026-11-30T10:20:00Z",
            "target_url": format!("https://ci.example.com/acme/{repo}/runs/{n}"),
            "creator": {"login": "ci-bot", "id": 3, "type": "Bot"}
        },
        "deployment": {
            "id": 20_000_000 + n / 2, "sha": format!("{:040x}", (n << 8) | 3),
            "ref": "main", "task": "deploy", "environment": "production",
            "production_environment": true, "created_at": "2026-11-30T10:16:00Z",
            "updated_at": "2026-11-30T10:20:00Z", "payload": {},
            "creator": {"login": "ci-bot", "id": 3, "type": "Bot"}
        },
        "repository": {
            "id": 1000 + n % 2_000, "name": repo, "full_name": format!("acme/{repo}"),
            "private": true, "html_url": format!("https://github.com/acme/{repo}"),
            "owner": {"login": "acme", "id": 1, "type": "Organization"},
            "default_branch": "main"
        },
        "sender": {"login": "ci-bot", "id": 3, "type": "Bot"}
    });
    serde_json::to_vec(&body).unwrap()
}

struct Delivery {
    id: String,
    event: &'static str,
    body: Vec<u8>,
    signature: String,
}

fn delivery(n: u64) -> Delivery {
    let (event, body) = if n % 4 == 3 {
        ("deployment_status", deployment_status_body(n))
    } else {
        ("push", push_body(n))
    };
    let key = hmac::Key::new(hmac::HMAC_SHA256, SECRET.as_bytes());
    let tag = hmac::sign(&key, &body);
    let signature = format!("sha256={}", pave_store::sql::hex(tag.as_ref()));
    Delivery {
        id: format!("bench-{n:08}"),
        event,
        body,
        signature,
    }
}

/// One keep-alive connection posting GitHub deliveries.
struct Connection(KeepAlive);

impl Connection {
    fn open(addr: SocketAddr) -> Option<Connection> {
        KeepAlive::open(addr).ok().map(Connection)
    }

    /// Posts one delivery; returns the status, or 0 when the connection failed.
    fn post(&mut self, d: &Delivery) -> u16 {
        let headers = [
            ("Content-Type", "application/json"),
            ("User-Agent", "GitHub-Hookshot/bench"),
            ("X-GitHub-Event", d.event),
            ("X-GitHub-Delivery", d.id.as_str()),
            ("X-Hub-Signature-256", d.signature.as_str()),
        ];
        self.0
            .send("POST", "/api/events/github", &headers, &d.body)
            .map_or(0, |(status, _)| status)
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    acknowledged: Vec<String>,
    busy: u64,
    other: Vec<u16>,
}

fn main() {
    let binary = PathBuf::from(arg("--binary").unwrap_or_else(|| "target/release/pave".into()));
    let rate: u64 = arg("--rate").map_or(2_000, |r| r.parse().unwrap());
    let seconds: u64 = arg("--seconds").map_or(60, |r| r.parse().unwrap());
    let connections: u64 = arg("--connections").map_or(32, |r| r.parse().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pave.yaml");
    std::fs::write(
        &config,
        format!("events:\n  sources:\n    github:\n      secrets: [\"{SECRET}\"]\n"),
    )
    .unwrap();
    let db_path = dir.path().join("events.db");
    let db = format!("sqlite://{}", db_path.display());
    let args = [
        "--config",
        config.to_str().unwrap(),
        "--refresh-interval",
        "0",
    ];
    let server = Server::start(&binary, &args, &db, true);

    let total = rate * seconds;
    eprintln!("preparing {total} signed deliveries…");
    let deliveries: Arc<Vec<Delivery>> = Arc::new((0..total).map(delivery).collect());
    let mean_bytes = deliveries.iter().map(|d| d.body.len()).sum::<usize>() / total as usize;
    // Warm-up with distinct ids (not counted).
    let mut warm = Connection::open(server.addr).unwrap();
    for n in 0..200 {
        let mut d = delivery(n);
        d.id = format!("warm-{n}");
        let status = warm.post(&d);
        assert!(
            status == 200 || status == 202,
            "warm-up delivery answered {status}: is the events intake on?"
        );
    }

    let tally = Arc::new(Mutex::new(Tally::default()));
    let start = Instant::now() + Duration::from_millis(100);
    let interval = Duration::from_secs_f64(connections as f64 / rate as f64);
    let threads: Vec<_> = (0..connections)
        .map(|c| {
            let deliveries = Arc::clone(&deliveries);
            let tally = Arc::clone(&tally);
            let addr = server.addr;
            std::thread::spawn(move || {
                let mut conn = Connection::open(addr).unwrap();
                let mut local = Tally::default();
                // Connection c sends deliveries c, c + connections, … each at its due time.
                for (k, n) in (c..total).step_by(connections as usize).enumerate() {
                    let due = start
                        + interval * k as u32
                        + interval.mul_f64(c as f64 / connections as f64);
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    let d = &deliveries[n as usize];
                    let status = conn.post(d);
                    let latency = Instant::now().duration_since(due);
                    match status {
                        200 | 202 => {
                            local.latencies.push(latency);
                            local.acknowledged.push(d.id.clone());
                        }
                        429 => local.busy += 1,
                        0 => {
                            local.other.push(0);
                            if let Some(fresh) = Connection::open(addr) {
                                conn = fresh;
                            }
                        }
                        s => local.other.push(s),
                    }
                }
                let mut all = tally.lock().unwrap();
                all.latencies.extend(local.latencies);
                all.acknowledged.extend(local.acknowledged);
                all.busy += local.busy;
                all.other.extend(local.other);
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let elapsed = start.elapsed();
    let mut tally = Arc::try_unwrap(tally).ok().unwrap().into_inner().unwrap();
    tally.latencies.sort();

    // Kill -9, restart, and count what survived.
    let mut server = server;
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let stored = stored_ids(&db_path);
    let lost: Vec<&String> = tally
        .acknowledged
        .iter()
        .filter(|id| !stored.contains(id.as_str()))
        .collect();

    println!(
        "| {total} signed GitHub deliveries, {mean_bytes} B mean, {rate}/s offered for {seconds} s, {connections} connections | figure |"
    );
    println!("|---|---|");
    println!(
        "| acknowledged (200/202) | {} ({:.0}/s) |",
        tally.acknowledged.len(),
        tally.acknowledged.len() as f64 / elapsed.as_secs_f64()
    );
    println!("| refused busy (429) | {} |", tally.busy);
    println!(
        "| other answers | {} {:?} |",
        tally.other.len(),
        &tally.other[..tally.other.len().min(5)]
    );
    for (name, p) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0)] {
        println!(
            "| latency {name} (from due time) | {:.2} ms |",
            ms(percentile(&tally.latencies, p))
        );
    }
    println!(
        "| acknowledged but missing after kill -9 | {} |",
        lost.len()
    );
    if !lost.is_empty() {
        eprintln!("LOST: {:?}", &lost[..lost.len().min(10)]);
        std::process::exit(1);
    }
}

/// The delivery ids recorded in the SQLite database (read with the sqlite3 CLI's library
/// through pave's store, so the bench checks what a restarted server would see).
fn stored_ids(db: &std::path::Path) -> BTreeSet<String> {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        use pave_store::DeliveryStore;
        let store = pave_store_sqlite::SqliteStore::open(db).await.unwrap();
        let mut ids = BTreeSet::new();
        let mut after = 0;
        loop {
            let page = store.deliveries_after(after, 5_000).await.unwrap();
            let Some(last) = page.last() else { break };
            after = last.seq;
            ids.extend(page.into_iter().map(|d| d.delivery_id));
        }
        ids
    })
}
