//! `pave slo status` and `pave slo gate` run as a user would: against a real Prometheus fed
//! with the hand-written Sloth-style fixture and synthetic history, and against servers that
//! are down, slow, or answer garbage.
//!
//! The SLOs are read from Sloth spec files, as users pass them.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use common::{pave, stderr, stdout};
use pave_testkit::prometheus::{TestPrometheus, sloth};
use serde_json::Value;

fn checkout() -> Value {
    sloth::target_json("checkout", "requests-availability", 99.9)
}

fn search() -> Value {
    sloth::target_json("search", "requests-availability", 99.5)
}

fn ghost() -> Value {
    sloth::target_json("ghost", "latency", 99.0)
}

fn slo(dir: &Path, url: &str, args: &[&str], targets: &[Value]) -> Output {
    let file = dir.join(format!("slos-{}.yaml", rand_suffix()));
    std::fs::write(&file, sloth::spec_for(targets)).unwrap();
    pave()
        .arg("slo")
        .args(args)
        .args(["--prometheus-url", url])
        .arg(&file)
        .env_remove("PAVE_PROMETHEUS_URL")
        .output()
        .unwrap()
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// Asserts the exit code and returns stdout.
fn expect(out: &Output, code: i32) -> String {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}{}",
        stdout(out),
        stderr(out)
    );
    stdout(out)
}

fn json_out(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(out), stderr(out)))
}

#[test]
fn status_and_gate_against_a_live_prometheus() {
    let rules = sloth::fixture_rules();
    let history = sloth::history(&sloth::fixture_slos(), 180);
    let Some(prometheus) = TestPrometheus::start(&[rules.as_path()], &history.text()) else {
        return;
    };
    let url = prometheus.url();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    // Status: a table of both SLOs.
    let out = slo(d, url, &["status"], &[checkout(), search()]);
    expect(&out, 0);
    let text = stdout(&out);
    assert!(
        text.contains("BUDGET LEFT") && text.contains("EXHAUSTED IN"),
        "{text}"
    );
    let line = |id: &str| text.lines().find(|l| l.starts_with(id)).unwrap().to_owned();
    let healthy = line("checkout-requests-availability");
    assert!(
        healthy.contains("99.9%") && healthy.contains("50.0%"),
        "{healthy}"
    );
    let spent = line("search-requests-availability");
    assert!(
        spent.contains("exhausted") && spent.contains("page:SearchHighErrorRate"),
        "{spent}"
    );

    // The same as JSON.
    let out = slo(d, url, &["status", "-o", "json"], &[checkout(), search()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = json_out(&out);
    assert_eq!(report["queries"], 10);
    let remaining = report["slos"][0]["budget_remaining"].as_f64().unwrap();
    assert!((remaining - 0.5).abs() < 0.01, "{remaining}");
    let remaining = report["slos"][1]["budget_remaining"].as_f64().unwrap();
    assert!((remaining + 19.0).abs() < 0.2, "{remaining}");
    assert_eq!(report["slos"][1]["state"], "exhausted");
    let alerts = report["slos"][1]["alerts"].as_array().unwrap();
    assert!(
        alerts
            .iter()
            .any(|a| a["severity"] == "page" && a["state"] == "firing"),
        "{alerts:?}"
    );

    // A missing SLO: named, exit 2, the others still reported.
    let out = slo(d, url, &["status"], &[checkout(), ghost()]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out)
            .contains(r#"missing series slo:sli_error:ratio_rate30d{sloth_id="ghost-latency"}"#),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("checkout-requests-availability"));

    // Gate: healthy passes, exhausted freezes.
    let out = slo(d, url, &["gate"], &[checkout()]);
    expect(&out, 0);
    assert!(stdout(&out).starts_with("PASS"), "{}", stdout(&out));

    let out = slo(d, url, &["gate"], &[checkout(), search()]);
    expect(&out, 1);
    let text = stdout(&out);
    assert!(
        text.starts_with("FREEZE")
            && text.contains("search-requests-availability: error budget remaining -19"),
        "{text}"
    );

    // The override goes through and is recorded.
    let out = slo(
        d,
        url,
        &[
            "gate",
            "-o",
            "json",
            "--override-reason",
            "INC-1234: roll back the bad config",
        ],
        &[checkout(), search()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let decision = json_out(&out);
    assert_eq!(decision["freeze"], true);
    assert_eq!(decision["overridden"], true);
    assert_eq!(decision["allowed"], true);
    assert_eq!(
        decision["override_reason"],
        "INC-1234: roll back the bad config"
    );
    assert_eq!(decision["prometheus_url"], url);
    assert!(
        stderr(&out).contains("deploy gate overridden"),
        "{}",
        stderr(&out)
    );

    // A stricter threshold freezes the healthy SLO.
    let out = slo(
        d,
        url,
        &["gate", "--min-budget-remaining", "60%"],
        &[checkout()],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("threshold 60.0%"));

    // An SLO that cannot be read fails closed.
    let out = slo(d, url, &["gate"], &[checkout(), ghost()]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("ghost-latency: status unknown, failing closed: missing series"),
        "{}",
        stdout(&out)
    );
}

fn free_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

#[test]
fn unreachable_prometheus_exits_2_with_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let url = free_url();
    for args in [&["status"][..], &["gate"]] {
        let out = slo(dir.path(), &url, args, &[checkout()]);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stdout(&out));
        let err = stderr(&out);
        assert!(
            err.contains(&format!("cannot reach Prometheus at {url}")) && err.contains("refused"),
            "{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    // An emergency change still goes through, with the reason and the failure on record.
    let out = slo(
        dir.path(),
        &url,
        &[
            "gate",
            "-o",
            "json",
            "--override-reason",
            "prometheus is down, hotfix",
        ],
        &[checkout()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let decision = json_out(&out);
    assert_eq!(decision["overridden"], true);
    assert_eq!(decision["slos"][0]["verdict"], "unknown");
    assert!(
        decision["slos"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("cannot reach Prometheus")
    );
}

/// A server answering every request with `status` and `body` after `delay`.
fn fake(status: u16, body: &'static str, delay: Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
                let mut buf = [0u8; 65_536];
                let _ = stream.read(&mut buf);
                std::thread::sleep(delay);
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    url
}

#[test]
fn errors_and_garbage_exit_2_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    for (status, body, needle) in [
        (
            200,
            "<html><body>Welcome to nginx!</body></html>",
            "is not a Prometheus API response",
        ),
        (502, "Bad Gateway", "answered HTTP 502"),
        (
            422,
            r#"{"status":"error","errorType":"execution","error":"query processing would load too many samples into memory"}"#,
            "execution: query processing would load too many samples",
        ),
        (
            200,
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"abc"]}]}}"#,
            "`abc` is not a sample value",
        ),
    ] {
        let url = fake(status, body, Duration::ZERO);
        for args in [&["status"][..], &["gate"]] {
            let out = slo(dir.path(), &url, args, &[checkout(), search()]);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{args:?} {body}: {err}");
            assert!(err.contains(needle) && err.contains(&url), "{err}");
            assert!(!err.contains("panicked"), "{err}");
        }
    }
}

#[test]
fn a_slow_prometheus_times_out() {
    let dir = tempfile::tempdir().unwrap();
    let url = fake(200, "{}", Duration::from_secs(5));
    let started = std::time::Instant::now();
    let out = slo(
        dir.path(),
        &url,
        &["status", "--query-timeout", "300ms"],
        &[checkout()],
    );
    assert!(started.elapsed() < Duration::from_secs(4));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&format!("Prometheus at {url} did not answer within 300ms")),
        "{}",
        stderr(&out)
    );
}

/// An override recorded with `pave serve`: a token whose role holds `slo.gate.override`
/// records it in the audit log with its reason; a role without it, or no token, or a server
/// that cannot be reached, keeps the gate closed (fail closed: an override nobody recorded
/// does not go through).
#[test]
fn overrides_are_authorized_and_recorded_by_pave_serve() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("pave.db").display());
    let config = dir.path().join("pave.yaml");
    std::fs::write(
        &config,
        "auth:\n  roles:\n    deployer: {permissions: [catalog.entity.read, slo.gate.override]}\n",
    )
    .unwrap();
    let token = |role: &str| {
        let out = pave()
            .args(["--config", config.to_str().unwrap()])
            .args([
                "token",
                "create",
                "--name",
                role,
                "--role",
                role,
                "--expires",
                "1d",
            ])
            .env("PAVE_DATABASE_URL", &db)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        stdout(&out).trim().to_owned()
    };
    let (deployer, viewer) = (token("deployer"), token("viewer"));
    let binary = std::path::PathBuf::from(env!("CARGO_BIN_EXE_pave"));
    let server = pave_testkit::Server::start(
        &binary,
        &[
            "--config",
            config.to_str().unwrap(),
            "--refresh-interval",
            "0",
        ],
        &db,
        true,
    );
    let prometheus = free_url();
    let pave_url = format!("http://{}", server.addr);
    let gate = |token: Option<&str>, url: &str| {
        let file = dir.path().join(format!("slos-{}.yaml", rand_suffix()));
        std::fs::write(&file, sloth::spec_for(&[checkout()])).unwrap();
        let mut command = pave();
        command
            .args(["slo", "gate", "--prometheus-url", &prometheus])
            .args(["--override-reason", "INC-77: prometheus down, hotfix"])
            .args(["--target", "component:default/checkout", "--pave-url", url])
            .arg(&file)
            .env_remove("PAVE_PROMETHEUS_URL")
            .env_remove("PAVE_TOKEN");
        if let Some(token) = token {
            command.env("PAVE_TOKEN", token);
        }
        command.output().unwrap()
    };

    let out = gate(Some(&deployer), &pave_url);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for (token, why) in [
        (Some(viewer.as_str()), "lacks slo.gate.override"),
        (None, "401"),
    ] {
        let out = gate(token, &pave_url);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("the override was not recorded, so the gate stays closed")
                && err.contains(why),
            "{err}"
        );
    }
    let out = gate(Some(&deployer), &free_url());
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unreachable pave: {}",
        stderr(&out)
    );

    // One override on record, with its actor, reason and target; the refusals too.
    let out = pave()
        .args(["audit", "export", "--format", "jsonl"])
        .env("PAVE_DATABASE_URL", &db)
        .output()
        .unwrap();
    let records: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let overrides: Vec<&Value> = records
        .iter()
        .filter(|r| r["action"] == "gate.override")
        .collect();
    assert_eq!(overrides.len(), 1, "{records:?}");
    assert_eq!(overrides[0]["target"], "component:default/checkout");
    assert_eq!(overrides[0]["actor"]["kind"], "token");
    assert_eq!(overrides[0]["actor"]["role"], "deployer");
    assert_eq!(
        overrides[0]["details"]["reason"],
        "INC-77: prometheus down, hotfix"
    );
    assert_eq!(
        overrides[0]["details"]["slos"][0],
        "checkout-requests-availability"
    );
    assert!(
        records
            .iter()
            .any(|r| r["action"] == "auth.denied" && r["outcome"] == "denied"),
        "{records:?}"
    );
    server.terminate();
}
