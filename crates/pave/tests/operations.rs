//! The database as an operator handles it, through the binary: one server per SQLite file,
//! `pave backup` while serving, `pave restore`, `pave migrate [--check]`, and `kill -9`
//! during a write flood losing nothing that was acknowledged.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Server, component, run, stderr, stdout};
use pave_testkit::http;
use serde_json::{Value, json};

/// `n` catalog files, one component each, under `dir/sources`.
fn sources(dir: &Path, n: usize) -> Vec<String> {
    let root = dir.join("sources");
    std::fs::create_dir_all(&root).unwrap();
    (0..n)
        .map(|i| {
            let file = root.join(format!("c{i}.yaml"));
            std::fs::write(&file, component(&format!("c{i}"), "team-a", "")).unwrap();
            file.display().to_string()
        })
        .collect()
}

fn register(server: &pave_testkit::Server, target: &str) -> u16 {
    let body = json!({"type": "file", "target": target}).to_string();
    http(server.addr, "POST", "/api/catalog/locations", Some(&body)).status
}

#[test]
fn one_server_per_sqlite_file_backups_while_serving_and_restore() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pave.db");
    let db = format!("sqlite://{}", path.display());
    let config = common::file_roots_config(dir.path());
    let config = config.to_str().unwrap();
    let targets = sources(dir.path(), 3);
    let server = Server::start(&["--config", config], &db);
    server.wait_for("/readyz", |r| r.status == 200);
    assert_eq!(register(&server, &targets[0]), 201);

    // A second server on the same file stops at once, naming the first.
    let second = common::pave()
        .args(["serve", "--addr", "127.0.0.1:0", "--config", config])
        .env("PAVE_DATABASE_URL", &db)
        .output()
        .unwrap();
    assert!(!second.status.success());
    let text = stderr(&second);
    assert!(
        text.contains("is served by another pave process")
            && text.contains(&format!("pid {}", server.child.id()))
            && text.contains("PostgreSQL"),
        "{text}"
    );

    // A backup while serving, and another name is never overwritten.
    let backup = dir.path().join("pave-backup.db");
    let out = run(&["backup", backup.to_str().unwrap()], &db);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("backed up to"), "{}", stdout(&out));
    let out = run(&["backup", backup.to_str().unwrap(), "-o", "json"], &db);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("exists already"), "{}", stderr(&out));
    assert_eq!(register(&server, &targets[1]), 201);

    // Restoring under a running server is refused; after it stops, the backup comes back and
    // the database it replaced is kept.
    let out = run(&["restore", backup.to_str().unwrap()], &db);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("is served by another pave process"),
        "{}",
        stderr(&out)
    );
    assert!(server.terminate().success());
    let out = run(&["restore", backup.to_str().unwrap(), "-o", "json"], &db);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let previous = report["previous"].as_str().unwrap().to_owned();
    assert_eq!(report["schema"], report["schema"].as_i64().unwrap());

    let server = Server::start(&["--config", config], &db);
    server.wait_for("/readyz", |r| r.status == 200);
    assert_eq!(common::location_targets(&server), vec![targets[0].clone()]);
    drop(server);
    let server = Server::start(&["--config", config], &format!("sqlite://{previous}"));
    assert_eq!(common::location_targets(&server).len(), 2);
    drop(server);

    // A file that is not a backup is refused by name, the database untouched.
    let out = run(&["restore", config], &db);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains(&format!("{config} cannot be restored")),
        "{}",
        stderr(&out)
    );
}

#[test]
fn migrate_reports_and_applies() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("pave.db").display());
    let out = run(&["migrate", "--check"], &db);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("pending: 1 catalog"),
        "{}",
        stdout(&out)
    );
    assert!(
        !dir.path().join("pave.db").exists(),
        "--check creates nothing"
    );

    let out = run(&["migrate"], &db);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("applied 1 catalog, 2 entity_parent"),
        "{}",
        stdout(&out)
    );

    let out = run(&["migrate", "--check", "-o", "json"], &db);
    assert!(out.status.success(), "{}", stderr(&out));
    let status: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(status["pending"], json!([]));
    assert_eq!(status["runnable"], true);
    assert_eq!(
        status["applied"].as_array().unwrap().len(),
        usize::try_from(status["known"].as_i64().unwrap()).unwrap()
    );
    let out = run(&["migrate"], &db);
    assert!(
        stdout(&out).contains("the schema is up to date"),
        "{}",
        stdout(&out)
    );

    // PostgreSQL is backed up and restored with its own tools, named in the answer.
    let out = run(&["restore", "x.dump"], "postgres://nobody@127.0.0.1:1/none");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("pg_restore --clean"),
        "{}",
        stderr(&out)
    );
}

/// `kill -9` while clients register locations: after a restart every registration that was
/// answered 201 is there, the audit chain verifies, and the server is ready again quickly.
#[test]
fn kill_9_during_a_write_flood_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pave.db");
    let db = format!("sqlite://{}", path.display());
    let config = common::file_roots_config(dir.path());
    let config = config.to_str().unwrap();
    let targets = Arc::new(sources(dir.path(), 2_000));
    let mut server = Server::start(&["--config", config], &db);
    server.wait_for("/readyz", |r| r.status == 200);

    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let addr = server.addr;
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let targets = Arc::clone(&targets);
            let acknowledged = Arc::clone(&acknowledged);
            std::thread::spawn(move || {
                for target in targets.iter().skip(w).step_by(4) {
                    let body = json!({"type": "file", "target": target}).to_string();
                    // A killed server answers nothing: the writer stops.
                    let Some(status) = common::try_post(addr, "/api/catalog/locations", &body)
                    else {
                        return;
                    };
                    if status == 201 {
                        acknowledged.lock().unwrap().push(target.clone());
                    }
                }
            })
        })
        .collect();
    // Kill once a good number of writes went through, while the flood goes on.
    let started = Instant::now();
    while acknowledged.lock().unwrap().len() < 100 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no writes acknowledged"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    for writer in writers {
        writer.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    drop(server);

    let restarted = Instant::now();
    let server = Server::start(&["--config", config], &db);
    server.wait_for("/readyz", |r| r.status == 200);
    eprintln!(
        "{} writes acknowledged before kill -9; ready again in {:?}",
        acknowledged.len(),
        restarted.elapsed()
    );
    let present = common::location_targets(&server);
    let missing: Vec<&String> = acknowledged
        .iter()
        .filter(|t| present.binary_search(t).is_err())
        .collect();
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
    drop(server);

    // The audit chain, which records each registration, is whole.
    let out = run(&["audit", "verify"], &db);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
}

/// SIGTERM with `--shutdown-delay`: the server says it is not ready while it goes on
/// serving, so a load balancer stops sending before the listener closes; then it exits
/// cleanly.
#[test]
fn sigterm_reports_not_ready_and_serves_on_for_the_shutdown_delay() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("pave.db").display());
    let mut server = Server::start(&["--shutdown-delay", "3s"], &db);
    server.wait_for("/readyz", |r| r.status == 200);
    let signalled = Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let ready = server.wait_for_within("/readyz", Duration::from_secs(2), |r| r.status == 503);
    assert_eq!((ready.status, ready.body.as_str()), (503, "shutting down"));
    // Still serving meanwhile.
    assert_eq!(server.get("/api/catalog/entities").status, 200);
    assert!(
        server
            .log_lines()
            .iter()
            .any(|l| l.contains("serving on before closing"))
    );
    let exit = loop {
        if let Some(exit) = server.child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(20),
            "did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}");
    assert!(
        signalled.elapsed() >= Duration::from_secs(3),
        "stopped before its delay: {:?}",
        signalled.elapsed()
    );
}
