//! SLO status benchmark: `pave slo status` for N SLOs (default 500) against a live Prometheus
//! loaded with Sloth-shaped rules and synthetic history for all of them. Target: < 2 s.
//!
//! Usage: `bench/slo_status.sh [--slos 500] [--runs 5] [--interval 30] [--keep SECONDS]`.
//! `--interval` is the rule evaluation interval in seconds: 8,500 rules every 5 s keep a core
//! of a 2-core machine busy, and status then measures Prometheus' queueing, not pave. Each run
//! is the whole `pave` process (start, queries, output), timed from outside.

#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use pave_testkit::percentile;
use pave_testkit::prometheus::{Options, TestPrometheus, sloth};
use serde_json::Value;

struct Args {
    slos: usize,
    runs: usize,
    interval: u64,
    pave: PathBuf,
    /// Keep Prometheus running this long after measuring (to poke at it).
    keep: u64,
}

fn parse_args() -> Args {
    let mut args = Args {
        slos: 500,
        runs: 5,
        interval: 30,
        pave: PathBuf::from("target/release/pave"),
        keep: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--slos" => args.slos = value().parse().unwrap(),
            "--runs" => args.runs = value().parse().unwrap(),
            "--interval" => args.interval = value().parse().unwrap(),
            "--pave" => args.pave = PathBuf::from(value()),
            "--keep" => args.keep = value().parse().unwrap(),
            other => panic!("unknown argument {other}"),
        }
    }
    args
}

/// SLO `i`: objectives 99.9/99.5/99.0 in turn; one in ten spends its budget.
fn synthetic(i: usize) -> sloth::SyntheticSlo {
    let burning = i % 10 == 9;
    let objective = [99.9, 99.5, 99.0][i % 3];
    let budget = (100.0 - objective) / 100.0;
    let ratio = if burning { budget * 20.0 } else { budget * 0.4 };
    sloth::SyntheticSlo {
        service: format!("svc{i:04}"),
        slo: "requests-availability".to_owned(),
        objective_percent: objective,
        requests_per_minute: 600.0,
        error_ratio_now: ratio,
        period_ratios: (ratio * 0.5, ratio * 1.5),
        alert_name: format!("Svc{i:04}HighErrorRate"),
        extra_labels: vec![("team".to_owned(), format!("team{}", i % 20))],
    }
}

fn main() {
    let args = parse_args();
    assert!(
        args.pave.exists(),
        "{} not found (build with cargo build --release -p pave)",
        args.pave.display()
    );
    let slos: Vec<sloth::SyntheticSlo> = (0..args.slos).map(synthetic).collect();
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.yml");
    std::fs::write(&rules, sloth::rule_file(&slos)).unwrap();
    let history = sloth::history(&slos, 60);
    println!(
        "{} SLOs: {} rules, {} samples of synthetic history",
        args.slos,
        args.slos * 17,
        history.len()
    );
    let options = Options {
        evaluation_interval: Duration::from_secs(args.interval),
        startup_timeout: Duration::from_secs(300),
        ..Options::default()
    };
    let Some(prometheus) =
        TestPrometheus::start_with(&[rules.as_path()], &history.text(), &options)
    else {
        eprintln!("prometheus/promtool missing: nothing to measure");
        return;
    };
    println!(
        "Prometheus 2.42 at {}: backfill {:.1} s, ready with rules evaluated in {:.1} s",
        prometheus.url(),
        prometheus.backfill_time.as_secs_f64(),
        prometheus.startup_time.as_secs_f64()
    );

    let targets = dir.path().join("slos.yaml");
    println!("SLO specs: {}", targets.display());
    let list: Vec<Value> = slos
        .iter()
        .map(|s| sloth::target_json(&s.service, &s.slo, s.objective_percent))
        .collect();
    std::fs::write(&targets, sloth::spec_for(&list)).unwrap();
    let run = |command: &str| {
        let started = Instant::now();
        let out = Command::new(&args.pave)
            .args([
                "slo",
                command,
                "-o",
                "json",
                "--prometheus-url",
                prometheus.url(),
            ])
            .arg(&targets)
            .output()
            .unwrap();
        (started.elapsed(), out)
    };

    let mut times = Vec::new();
    let mut report = Value::Null;
    for _ in 0..args.runs {
        let (elapsed, out) = run("status");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        report = serde_json::from_slice(&out.stdout).unwrap();
        times.push(elapsed);
    }
    times.sort();
    let slo_list = report["slos"].as_array().unwrap();
    let count = |state: &str| slo_list.iter().filter(|s| s["state"] == state).count();
    let firing = slo_list
        .iter()
        .filter(|s| {
            s["alerts"]
                .as_array()
                .is_some_and(|a| a.iter().any(|a| a["state"] == "firing"))
        })
        .count();
    println!(
        "status: {} SLOs ({} ok, {} exhausted, {} with firing alerts) in {} queries",
        slo_list.len(),
        count("ok"),
        count("exhausted"),
        firing,
        report["queries"]
    );
    println!(
        "status wall time over {} runs: min {:.0} ms, median {:.0} ms, max {:.0} ms (target < 2000 ms)",
        times.len(),
        times[0].as_secs_f64() * 1000.0,
        percentile(&times, 0.5).as_secs_f64() * 1000.0,
        times[times.len() - 1].as_secs_f64() * 1000.0
    );
    let (elapsed, out) = run("gate");
    let decision: Value = serde_json::from_slice(&out.stdout).unwrap();
    println!(
        "gate: exit {:?}, freeze {}, {} reasons, {:.0} ms",
        out.status.code(),
        decision["freeze"],
        decision["reasons"].as_array().map_or(0, Vec::len),
        elapsed.as_secs_f64() * 1000.0
    );
    std::thread::sleep(Duration::from_secs(args.keep));
    assert!(
        percentile(&times, 0.5) < Duration::from_secs(2),
        "status took longer than 2 s"
    );
}
