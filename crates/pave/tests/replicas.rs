//! Several `pave serve` processes on one PostgreSQL database, as an operator runs them behind
//! a Service: a change through any replica is served by all, one replica reads a source at a
//! time and one leads the schedule (another takes over when it is killed), uids stay, and a
//! registration interrupted before its first reading succeeds when retried.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Server, component};
use pave_testkit::http;
use serde_json::{Value, json};

/// How long a change may take to reach another replica here (they check every 0.5 s; a
/// loaded CI machine gets slack).
const PROPAGATION: Duration = Duration::from_secs(5);

fn names(server: &pave_testkit::Server) -> Vec<String> {
    let mut names: Vec<String> = server
        .get("/api/catalog/entities?filter=kind=component&fields=metadata.name")
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["metadata"]["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

fn wait_until(what: &str, timeout: Duration, ok: impl Fn() -> bool) -> Duration {
    let started = Instant::now();
    while !ok() {
        assert!(
            started.elapsed() < timeout,
            "{what}: not within {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    started.elapsed()
}

/// Scheduled or manual readings a replica logged.
fn readings(server: &pave_testkit::Server) -> usize {
    server
        .log_lines()
        .iter()
        .filter(|l| l.contains("ingestion finished"))
        .count()
}

#[test]
fn replicas_on_one_postgres_agree() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let Some(db) = runtime.block_on(pave_store_postgres::testing::TestDatabase::create()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first");
    std::fs::create_dir_all(&first).unwrap();
    std::fs::write(
        first.join("catalog-info.yaml"),
        component("alpha", "team", ""),
    )
    .unwrap();
    let second = dir.path().join("second");
    std::fs::create_dir_all(&second).unwrap();
    std::fs::write(
        second.join("catalog-info.yaml"),
        component("beta", "team", ""),
    )
    .unwrap();

    // A registers the first source and reads it; B and C start after it. The API registers
    // paths only under the configured roots.
    let config = common::file_roots_config(dir.path());
    let interval = [
        "--refresh-interval",
        "1s",
        "--config",
        config.to_str().unwrap(),
    ];
    let a = Server::start(
        &[&["--source", first.to_str().unwrap()][..], &interval].concat(),
        &db.url,
    );
    a.wait_for(
        "/api/catalog/entities/by-name/component/default/alpha",
        |r| r.status == 200,
    );
    let b = Server::start(&interval, &db.url);
    let c = Server::start(&interval, &db.url);
    for replica in [&b, &c] {
        wait_until("a new replica serves what is stored", PROPAGATION, || {
            names(replica) == ["alpha"]
        });
    }

    // A registration through B is served by A and C.
    let body = json!({"type": "file", "target": second}).to_string();
    let r = http(b.addr, "POST", "/api/catalog/locations", Some(&body));
    assert_eq!(r.status, 201, "{}", r.body);
    let second_id = r.json()["location"]["id"].as_str().unwrap().to_owned();
    for replica in [&a, &c] {
        let took = wait_until(
            "a registration on B reaches the others",
            PROPAGATION,
            || names(replica) == ["alpha", "beta"],
        );
        eprintln!("propagated in {took:?}");
    }

    // Every replica serves the same uid, and it stays through refreshes on any replica.
    let uid = |s: &pave_testkit::Server| {
        s.get("/api/catalog/entities/by-name/component/default/beta")
            .json()["metadata"]["uid"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let beta = uid(&b);
    for replica in [&a, &b, &c] {
        let r = http(replica.addr, "POST", "/api/catalog/refresh", Some("{}"));
        assert_eq!(r.status, 200, "{}", r.body);
    }
    std::thread::sleep(Duration::from_secs(1));
    for replica in [&a, &b, &c] {
        assert_eq!(uid(replica), beta);
        let by_uid = replica.get(&format!("/api/catalog/entities/by-uid/{beta}"));
        assert_eq!(by_uid.status, 200, "{}", by_uid.body);
    }

    // One replica leads the schedule: over a few intervals, only one reads on schedule.
    let before: Vec<usize> = [&a, &b, &c].iter().map(|s| readings(s)).collect();
    std::thread::sleep(Duration::from_secs(4));
    let grew: Vec<usize> = [&a, &b, &c]
        .iter()
        .zip(&before)
        .map(|(s, n)| readings(s) - n)
        .collect();
    assert_eq!(
        grew.iter().filter(|n| **n > 0).count(),
        1,
        "exactly one replica reads on schedule: {grew:?}"
    );
    let (leader, others): (Vec<_>, Vec<_>) =
        [a, b, c].into_iter().zip(&grew).partition(|(_, n)| **n > 0);
    let mut leader = leader.into_iter().map(|(s, _)| s).next().unwrap();
    let others: Vec<pave_testkit::Server> = others.into_iter().map(|(s, _)| s).collect();

    // Killed without a word, the leader is replaced once its lease (8 s, renewed every 2 s
    // whatever the refresh interval) runs out: within 10 s, plus a reading here.
    let _ = leader.child.kill();
    let _ = leader.child.wait();
    let counts: Vec<usize> = others.iter().map(readings).collect();
    let took = wait_until(
        "another replica takes the lead",
        Duration::from_secs(14),
        || {
            others
                .iter()
                .zip(&counts)
                .any(|(s, n)| readings(s) > *n + 1)
        },
    );
    eprintln!("a new leader in {took:?}");

    // A removal through one survivor reaches the other.
    let r = http(
        others[0].addr,
        "DELETE",
        &format!("/api/catalog/locations/{second_id}"),
        None,
    );
    assert_eq!(r.status, 204, "{}", r.body);
    wait_until("a removal reaches the other replica", PROPAGATION, || {
        names(&others[1]) == ["alpha"]
    });

    // A registration interrupted between its row and its first reading (a crash): the
    // client's retry reads it instead of answering 409.
    runtime.block_on(async {
        let store = pave_store_postgres::PostgresStore::connect(&db.url)
            .await
            .unwrap();
        use pave_store::Store;
        let target = std::fs::canonicalize(&second).unwrap();
        store
            .add_location(
                pave_store::LocationKind::File,
                target.to_str().unwrap(),
                1,
                &[],
            )
            .await
            .unwrap();
    });
    let r = http(
        others[1].addr,
        "POST",
        "/api/catalog/locations",
        Some(&body),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let entities: Vec<Value> = r.json()["entities"].as_array().unwrap().clone();
    assert!(
        entities.iter().any(|e| e["metadata"]["name"] == "beta"),
        "{}",
        r.body
    );

    // A leader stopped with SIGTERM gives the lead up: the last replica takes it at its
    // next renewal, not after the lease runs out.
    let mut others = others;
    let last = others.pop().unwrap();
    let stopping = others.pop().unwrap();
    let (new_leader, last) = if readings(&stopping) > readings(&last) {
        (stopping, last)
    } else {
        (last, stopping)
    };
    let before = readings(&last);
    assert!(new_leader.terminate().success());
    let took = wait_until(
        "the last replica takes the lead after a graceful stop",
        Duration::from_secs(6),
        || readings(&last) > before + 1,
    );
    eprintln!("the lead handed over in {took:?}");
    assert!(
        last.log_lines()
            .iter()
            .any(|l| l.contains("this replica leads the scheduled work"))
    );
    drop(last);
    runtime.block_on(db.drop_database());
}
