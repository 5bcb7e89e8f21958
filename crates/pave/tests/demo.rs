//! `pave demo --no-serve`: writes the Northwind Labs files, seeds the store, prints the
//! summary and exits; a second run reuses the store instead of duplicating the catalog.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::{run, stderr, stdout};
use serde_json::Value;

/// Runs `cmd` with its output in files under `dir`, killing it if it has not exited within
/// two minutes (a demo that serves instead of exiting must fail the test, not hang it).
fn run_bounded(mut cmd: Command, dir: &Path, label: &str) -> (ExitStatus, String) {
    let out_path = dir.join(format!("{label}.stdout"));
    let err_path = dir.join(format!("{label}.stderr"));
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`pave demo --no-serve` still running after 120 s:\n{}",
                std::fs::read_to_string(&err_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (status, std::fs::read_to_string(&err_path).unwrap())
}

/// The entity count in `demo organisation Northwind Labs in DIR: N entities (...)`.
fn summary_entities(log: &str) -> usize {
    let line = log
        .lines()
        .find(|l| l.contains("demo organisation Northwind Labs in "))
        .unwrap_or_else(|| panic!("no summary line in:\n{log}"));
    let (_, rest) = line
        .rsplit_once(": ")
        .filter(|(_, rest)| rest.contains(" entities ("))
        .unwrap_or_else(|| panic!("no entity count in {line}"));
    rest.split(' ').next().unwrap().parse().unwrap()
}

/// The per-kind counts in the summary's parentheses: `(14 groups, 46 users, …)`.
fn summary_kinds(log: &str) -> BTreeMap<String, usize> {
    let line = log
        .lines()
        .find(|l| l.contains("demo organisation Northwind Labs in "))
        .unwrap_or_else(|| panic!("no summary line in:\n{log}"));
    let inner = line
        .rsplit_once(" entities (")
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(inner, _)| inner)
        .unwrap_or_else(|| panic!("no per-kind counts in {line}"));
    inner
        .split(", ")
        .map(|part| {
            let (count, kind) = part.split_once(' ').unwrap();
            (kind.to_owned(), count.parse().unwrap())
        })
        .collect()
}

/// Every entity in the store, as `pave catalog list -o json` prints it.
fn list(db: &str) -> Vec<Value> {
    let out = run(&["catalog", "list", "-o", "json"], db);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let items: Value = serde_json::from_str(&stdout(&out)).unwrap();
    items.as_array().unwrap().clone()
}

fn kind_counts(items: &[Value]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for item in items {
        *counts
            .entry(item["kind"].as_str().unwrap().to_owned())
            .or_insert(0) += 1;
    }
    counts
}

fn entity_refs(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|e| {
            format!(
                "{}:{}/{}",
                e["kind"].as_str().unwrap().to_lowercase(),
                e["metadata"]["namespace"].as_str().unwrap_or("default"),
                e["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn demo_no_serve_seeds_the_store_and_a_second_run_reuses_it() {
    let tmp = tempfile::tempdir().unwrap();
    let demo_dir = tmp.path().join("northwind");
    let db = format!("sqlite://{}", tmp.path().join("demo.db").display());
    let demo = || {
        let mut cmd = common::pave();
        cmd.args(["demo", "--no-serve", "--dir", demo_dir.to_str().unwrap()])
            .env("PAVE_DATABASE_URL", &db);
        cmd
    };

    // First run: files written, store seeded, summary printed, exit 0 without serving.
    let (status, log) = run_bounded(demo(), tmp.path(), "first");
    assert!(status.success(), "{status}:\n{log}");
    for part in [
        "demo organisation Northwind Labs in ",
        "10 systems",
        "60 components",
        "32 APIs",
        "10 resources",
        "1 templates",
    ] {
        assert!(log.contains(part), "`{part}` missing from:\n{log}");
    }
    assert!(!log.contains("open http://"), "--no-serve served:\n{log}");
    let entities = summary_entities(&log);
    // The services' pave check reports, for their Guardrails tabs.
    let guardrails = log
        .lines()
        .find_map(|l| l.strip_prefix("demo guardrails: "))
        .unwrap_or_else(|| panic!("no check reports stored:\n{log}"));
    let reports: usize = guardrails.split(' ').next().unwrap().parse().unwrap();
    assert!(reports > 40, "{guardrails}");

    for file in [
        "catalog-info.yaml",
        "org/groups.yaml",
        "org/users.yaml",
        "domains.yaml",
        "systems/checkout.yaml",
        "apis/checkout.yaml",
        "apis/definitions/orders-api.yaml",
        "apis/definitions/route-planning-api.proto",
    ] {
        assert!(demo_dir.join(file).is_file(), "{file} was not written");
    }
    let definitions = std::fs::read_dir(demo_dir.join("apis/definitions"))
        .unwrap()
        .count();
    assert_eq!(definitions, 32, "one definition file per API");

    let first = list(&db);
    assert_eq!(first.len(), entities, "the summary counts what was stored");
    let kinds = kind_counts(&first);
    let summary = summary_kinds(&log);
    for (kind, plural) in [
        ("Group", "groups"),
        ("User", "users"),
        ("System", "systems"),
        ("Component", "components"),
        ("API", "APIs"),
        ("Resource", "resources"),
        ("Template", "templates"),
    ] {
        assert_eq!(
            kinds[kind], summary[plural],
            "{kind}: {kinds:?} vs {summary:?}"
        );
    }
    assert_eq!(kinds["API"], 32, "{kinds:?}");
    let apis: Vec<&Value> = first.iter().filter(|e| e["kind"] == "API").collect();
    let real = apis
        .iter()
        .filter(|e| {
            matches!(
                e["spec"]["type"].as_str(),
                Some("openapi" | "asyncapi" | "grpc" | "graphql")
            )
        })
        .count();
    assert_eq!(real, 32, "{real} APIs with definitions the portal lays out");
    // `$text` placeholders were resolved into the definitions themselves.
    let orders = apis
        .iter()
        .find(|e| e["metadata"]["name"] == "orders-api")
        .unwrap();
    let definition = orders["spec"]["definition"].as_str().unwrap();
    assert!(definition.contains("openapi: \"3.0.3\""), "{definition}");

    // Second run: the same store is reused; a lost file is written again.
    std::fs::remove_file(demo_dir.join("apis/definitions/orders-api.yaml")).unwrap();
    let (status, log) = run_bounded(demo(), tmp.path(), "second");
    assert!(status.success(), "{status}:\n{log}");
    assert_eq!(summary_entities(&log), entities, "{log}");
    assert!(demo_dir.join("apis/definitions/orders-api.yaml").is_file());
    assert!(
        !log.contains("demo guardrails:"),
        "the second run published the reports again:\n{log}"
    );

    let second = list(&db);
    assert_eq!(second.len(), entities, "the second run duplicated entities");
    let refs = entity_refs(&second);
    let unique: HashSet<&String> = refs.iter().collect();
    assert_eq!(unique.len(), refs.len(), "duplicate entity refs");
    let mut before = entity_refs(&first);
    let mut after = refs;
    before.sort();
    after.sort();
    assert_eq!(before, after, "the second run changed which entities exist");

    // One registered location, not one per run.
    let out = run(&["catalog", "locations", "-o", "json"], &db);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let locations: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let locations = locations.as_array().unwrap();
    assert_eq!(locations.len(), 1, "{locations:?}");
    assert_eq!(locations[0]["errors"], 0, "{locations:?}");

    // Postmortems with actions for the demo's incidents: some closed on time, some overdue
    // for their teams (what the team pages list).
    let out = run(&["dora", "-o", "json"], &db);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let dora: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let postmortems = &dora["postmortems"];
    let overdue = postmortems["overdue_by_owner"].as_array().unwrap();
    assert!(
        overdue.len() >= 2,
        "teams with overdue actions: {postmortems}"
    );
    assert!(
        overdue
            .iter()
            .all(|o| o["owner"].as_str().unwrap().starts_with("group:default/")),
        "{postmortems}"
    );
    assert!(postmortems["closure"]["closed_on_time"].as_u64().unwrap() > 0);
    assert!(postmortems["completion"]["on_time"].as_u64().unwrap() > 0);

    // Alert quality has the demo's Alertmanager history: actionable error-rate alerts,
    // short-lived latency ones, and noisy alerts to point at.
    let out = run(&["alerts", "-o", "json"], &db);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let alerts: Value = serde_json::from_str(&stdout(&out)).unwrap();
    for measure in ["firings", "actionable", "shortLived", "noisyAlerts"] {
        assert!(alerts[measure].as_u64().unwrap() > 0, "{measure}: {alerts}");
    }
    assert_eq!(alerts["unattributed"], 0, "{alerts}");
}

/// Without `--dir` and `--database-url` the demo writes to the platform data directory
/// (`$XDG_DATA_HOME/pave` on Linux): `demo/` for the files and `demo.db` for the store.
#[cfg(target_os = "linux")]
#[test]
fn demo_defaults_to_the_data_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut cmd = common::pave();
    cmd.args(["demo", "--no-serve"])
        .env("XDG_DATA_HOME", &data)
        .env("HOME", tmp.path());
    let (status, log) = run_bounded(cmd, tmp.path(), "defaults");
    assert!(status.success(), "{status}:\n{log}");
    let pave_dir = data.join("pave");
    assert!(
        log.contains(&format!(
            "demo organisation Northwind Labs in {}:",
            pave_dir.join("demo").display()
        )),
        "{log}"
    );
    assert!(pave_dir.join("demo/catalog-info.yaml").is_file());
    assert!(pave_dir.join("demo.db").is_file(), "no demo.db");
    assert!(
        !pave_dir.join("pave.db").exists(),
        "the demo must not seed the default store"
    );
    let db = format!("sqlite://{}", pave_dir.join("demo.db").display());
    assert_eq!(list(&db).len(), summary_entities(&log));
}
