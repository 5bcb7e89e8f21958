//! Delivery events against `pave serve` as GitHub sends them: signed with HMAC-SHA256 over
//! the raw body the way GitHub does, redelivered, forged, malformed, oversized, unknown —
//! then the facts through `/api/dora` and `pave dora`, incidents declared and resolved by
//! hand, and a `kill -9` in the middle of a flood that loses no acknowledged delivery.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::{Server, component, run, stderr, stdout};
use ring::hmac;
use serde_json::{Value, json};

const SECRET: &str = "it's a secret to everybody";

fn sign(body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, SECRET.as_bytes());
    let tag = hmac::sign(&key, body);
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// Posts `body` to `/api/events/github` with GitHub's headers; returns (status, body).
fn post(addr: SocketAddr, event: &str, id: &str, body: &[u8], signature: &str) -> (u16, String) {
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return (0, String::new());
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let head = format!(
        "POST /api/events/github HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nX-GitHub-Event: {event}\r\nX-GitHub-Delivery: {id}\r\n\
         X-Hub-Signature-256: {signature}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    (status, body)
}

fn push(sha: &str, at: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "ref": "refs/heads/main", "before": "0".repeat(40), "after": sha,
        "created": false, "deleted": false, "forced": false,
        "commits": [{"id": sha, "timestamp": at, "message": "Tune the pool", "distinct": true,
                     "author": {"name": "Jane", "email": "jane@example.com"}}],
        "head_commit": {"id": sha, "timestamp": at, "message": "Tune the pool"},
        "repository": {"full_name": "acme/checkout", "html_url": "https://github.com/acme/checkout",
                       "default_branch": "main"},
        "sender": {"login": "jane"}
    }))
    .unwrap()
}

fn deployment_status(id: u64, sha: &str, state: &str, at: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "action": "created",
        "deployment_status": {"id": id * 10, "state": state, "environment": "production",
                              "created_at": at, "updated_at": at},
        "deployment": {"id": id, "sha": sha, "ref": "main", "task": "deploy",
                       "environment": "production", "production_environment": true,
                       "created_at": at, "updated_at": at},
        "repository": {"full_name": "acme/checkout", "html_url": "https://github.com/acme/checkout",
                       "default_branch": "main"},
        "sender": {"login": "ci"}
    }))
    .unwrap()
}

fn setup(dir: &std::path::Path, body_limit: &str) -> (String, String) {
    std::fs::write(
        dir.join("catalog-info.yaml"),
        format!(
            "{}---\napiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: payments\nspec:\n  type: team\n  children: []\n",
            component(
                "checkout",
                "group:payments",
                "",
            )
            .replace(
                "metadata:\n  name: checkout\n",
                "metadata:\n  name: checkout\n  annotations:\n    github.com/project-slug: acme/checkout\n",
            )
        ),
    )
    .unwrap();
    let config = dir.join("pave.yaml");
    std::fs::write(
        &config,
        format!(
            "events:\n  sources:\n    github:\n      secrets: [\"{SECRET}\"]\n  bodyLimit: {body_limit}\n"
        ),
    )
    .unwrap();
    (
        format!("sqlite://{}", dir.join("pave.db").display()),
        config.display().to_string(),
    )
}

fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn github_deliveries_become_dora_figures_and_bad_ones_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (db, config) = setup(dir.path(), "64KiB");
    let catalog = dir.path().join("catalog-info.yaml");
    let server = Server::start(
        &[
            "--config",
            &config,
            "--source",
            catalog.to_str().unwrap(),
            "--refresh-interval",
            "0",
        ],
        &db,
    );
    server.wait_for(
        "/api/catalog/entities/by-name/component/default/checkout",
        |r| r.status == 200,
    );
    let addr = server.addr;
    let sha = "a".repeat(40);
    let now = pave_stdx_now();
    let pushed = iso(now - 3 * 3_600_000);
    let deployed = iso(now - 3_600_000);

    let body = push(&sha, &pushed);
    let (status, answer) = post(addr, "push", "d-push", &body, &sign(&body));
    assert_eq!(status, 202, "{answer}");
    let receipt: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(receipt["duplicate"], false);
    assert_eq!(receipt["events"], 1);
    // A redelivery (GitHub's "Redeliver" button) changes nothing.
    let (status, answer) = post(addr, "push", "d-push", &body, &sign(&body));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        serde_json::from_str::<Value>(&answer).unwrap()["duplicate"],
        true
    );

    let body = deployment_status(7, &sha, "success", &deployed);
    let (status, answer) = post(addr, "deployment_status", "d-deploy", &body, &sign(&body));
    assert_eq!(status, 202, "{answer}");

    // Refusals: a forged signature (401), a malformed body (400 with its position), a body
    // over the limit (413), an event pave does not read (200/202, ignored), an unknown
    // source (404).
    let forged = deployment_status(8, &sha, "failure", &deployed);
    let (status, answer) = post(
        addr,
        "deployment_status",
        "d-forged",
        &forged,
        &sign(b"other"),
    );
    assert_eq!(status, 401, "{answer}");
    assert!(answer.contains("not authentic"), "{answer}");
    let broken = br#"{"ref": "refs/heads/main", "after": }"#;
    let (status, answer) = post(addr, "push", "d-broken", broken, &sign(broken));
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("line 1, column"), "{answer}");
    let big = vec![b' '; 70 * 1024];
    let (status, _) = post(addr, "push", "d-big", &big, &sign(&big));
    assert_eq!(status, 413);
    let starred = br#"{"action": "created", "repository": {"full_name": "acme/checkout"}}"#;
    let (status, answer) = post(addr, "star", "d-star", starred, &sign(starred));
    assert_eq!(status, 202, "{answer}");
    assert!(serde_json::from_str::<Value>(&answer).unwrap()["ignored"].is_string());
    let r = pave_testkit::http(addr, "POST", "/api/events/svn", Some("{}"));
    assert_eq!(r.status, 404);

    // The forged delivery is audited and not stored.
    let audit = server.get("/api/audit?action=events.refused").json();
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(1), "{audit}");
    // Every receipt is audited, the redelivery too (it is evidence of what was sent).
    let audit = server.get("/api/audit?action=events.receive").json();
    let targets: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["target"].as_str())
        .collect();
    assert_eq!(
        targets,
        [
            "events/github/d-star",
            "events/github/d-deploy",
            "events/github/d-push",
            "events/github/d-push"
        ],
        "{audit}"
    );

    // The deployment and its change reach the DORA report, attributed to checkout.
    let path = "/api/dora?group_by=entity&since=1d";
    wait_until("the deployment in /api/dora", || {
        let r = server.get(path);
        r.status == 200 && r.json()["rows"][0]["metrics"]["deployments"]["counted"] == 1
    });
    let report = server.get(path).json();
    let row = &report["rows"][0];
    assert_eq!(row["key"], "component:default/checkout");
    let lead = row["metrics"]["lead_time"]["median_ms"].as_f64().unwrap();
    assert_eq!(
        lead,
        2.0 * 3_600_000.0,
        "pushed 3 h ago, deployed 1 h ago: {row}"
    );
    let page = server.get("/dora");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<svg"), "the DORA page draws its charts");
    drop(server);

    // The CLI reads the same ledger.
    let out = run(
        &[
            "dora",
            "--config",
            &config,
            "--group-by",
            "entity",
            "--since",
            "1d",
            "-o",
            "json",
        ],
        &db,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let cli: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(cli["rows"][0]["metrics"]["lead_time"]["median_ms"], lead);
    // A replay rebuilds the same facts from the kept deliveries.
    let out = run(
        &["events", "replay", "--config", &config, "-o", "json"],
        &db,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let replay: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(replay["replayed"], 3, "{replay}");
    let out = run(
        &[
            "dora",
            "--config",
            &config,
            "--group-by",
            "entity",
            "--since",
            "1d",
            "-o",
            "json",
        ],
        &db,
    );
    let again: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(again["rows"], cli["rows"]);
    let out = run(
        &["events", "status", "--config", &config, "-o", "json"],
        &db,
    );
    let status: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(status["deliveries"], 3, "push, deployment, star: {status}");
    assert_eq!(status["pending"], 0);

    // An incident declared and resolved by hand.
    let out = run(
        &[
            "incident",
            "declare",
            "--config",
            &config,
            "--entity",
            "checkout",
            "--title",
            "Checkout errors",
            "--severity",
            "sev2",
        ],
        &db,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let id = stdout(&out).trim().to_owned();
    let out = run(
        &[
            "incident", "list", "--config", &config, "--open", "-o", "json",
        ],
        &db,
    );
    let open: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(open[0]["entity"], "component:default/checkout", "{open}");
    assert_eq!(open[0]["severity"], 2);
    let out = run(&["incident", "resolve", "--config", &config, &id], &db);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(
        &[
            "incident", "list", "--config", &config, "--open", "-o", "json",
        ],
        &db,
    );
    assert_eq!(
        serde_json::from_str::<Value>(&stdout(&out)).unwrap(),
        json!([])
    );
    let out = run(&["incident", "resolve", "--config", &config, &id], &db);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("resolved already"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_kill_during_a_flood_loses_no_acknowledged_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let (db, config) = setup(dir.path(), "1MiB");
    let args = ["--config", config.as_str(), "--refresh-interval", "0"];
    let mut server = Server::start(&args, &db);
    let addr = server.addr;
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let senders: Vec<_> = (0..8)
        .map(|t| {
            let acknowledged = acknowledged.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    n += 1;
                    let sha = format!("{t:02x}{n:038x}");
                    let body = push(&sha, "2026-11-30T10:00:00Z");
                    let id = format!("flood-{t}-{n}");
                    let (status, _) = post(addr, "push", &id, &body, &sign(&body));
                    match status {
                        202 | 200 => acknowledged.lock().unwrap().push((id, body)),
                        // Refused (busy) or cut off by the kill: the sender retries later.
                        _ => {}
                    }
                }
            })
        })
        .collect();
    wait_until("some deliveries", || {
        acknowledged.lock().unwrap().len() >= 200
    });
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for s in senders {
        s.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();

    // After the restart every acknowledged delivery is there: redelivering it is a duplicate.
    let server = Server::start(&args, &db);
    for (id, body) in &acknowledged {
        let (status, answer) = post(server.addr, "push", id, body, &sign(body));
        assert_eq!(
            status, 200,
            "{id} was acknowledged before the kill: {answer}"
        );
    }
    // And the processor caught up with them after the restart.
    drop(server);
    let out = run(
        &["events", "status", "--config", &config, "-o", "json"],
        &db,
    );
    let status: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(
        status["deliveries"].as_u64().unwrap() >= acknowledged.len() as u64,
        "{status}"
    );
}

fn pave_stdx_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// RFC 3339 (UTC, seconds) of Unix milliseconds.
fn iso(millis: i64) -> String {
    let secs = millis / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil from days (Howard Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
