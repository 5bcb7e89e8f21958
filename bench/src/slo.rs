//! SLO benchmark: `pave slo generate` on 1,000 SLOs spread over 100 Sloth spec files (events
//! and raw SLIs, alerts on most), folder in, folder out, like a monorepo's CI step.
//!
//! Usage: `bench/slo.sh [--files 100] [--per-file 10] [--runs 7]`. Prints the median and best
//! wall time of the whole process (start, read, generate, write) and the output size.

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn spec(file: usize, per_file: usize) -> String {
    let mut out = format!(
        "version: prometheus/v1\nservice: svc-{file:03}\nlabels:\n  team: team-{}\n  tier: \"{}\"\nslos:\n",
        file % 17,
        file % 3
    );
    for i in 0..per_file {
        let objective = [99.9, 99.5, 99.99, 99.0, 95.0][i % 5];
        if i % 4 == 3 {
            out.push_str(&format!(
                "  - name: latency-{i}\n    objective: {objective}\n    sli:\n      raw:\n        error_ratio_query: |\n          1 - (sum(rate(http_request_duration_seconds_bucket{{app=\"svc-{file:03}\",route=\"/r{i}\",le=\"0.3\"}}[{{{{.window}}}}]))\n          / sum(rate(http_request_duration_seconds_count{{app=\"svc-{file:03}\",route=\"/r{i}\"}}[{{{{.window}}}}])))\n    alerting:\n      page_alert: {{disable: true}}\n      ticket_alert: {{disable: true}}\n"
            ));
        } else {
            out.push_str(&format!(
                "  - name: availability-{i}\n    objective: {objective}\n    labels:\n      route: /r{i}\n    sli:\n      events:\n        error_query: sum(rate(http_requests_total{{app=\"svc-{file:03}\",route=\"/r{i}\",code=~\"5..\"}}[{{{{.window}}}}]))\n        total_query: sum(rate(http_requests_total{{app=\"svc-{file:03}\",route=\"/r{i}\"}}[{{{{.window}}}}]))\n    alerting:\n      name: Svc{file:03}Availability{i}\n      labels:\n        owner: team-{}\n      page_alert:\n        labels: {{severity: critical}}\n      ticket_alert:\n        labels: {{severity: warning}}\n",
                file % 17
            ));
        }
    }
    out
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn dir_size(dir: &Path) -> (usize, u64) {
    let mut files = 0;
    let mut bytes = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            let (f, b) = dir_size(&path);
            files += f;
            bytes += b;
        } else {
            files += 1;
            bytes += std::fs::metadata(&path).unwrap().len();
        }
    }
    (files, bytes)
}

fn main() {
    let mut files = 100;
    let mut per_file = 10;
    let mut runs = 7;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value: usize = args
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{arg} needs a number"));
        match arg.as_str() {
            "--files" => files = value,
            "--per-file" => per_file = value,
            "--runs" => runs = value,
            other => panic!("unknown argument {other}"),
        }
    }
    let pave: PathBuf = std::env::current_exe().unwrap().with_file_name("pave");
    let work = std::env::temp_dir().join(format!("pave-slo-bench-{}", std::process::id()));
    let input = work.join("specs");
    for f in 0..files {
        let dir = input.join(format!("team-{:02}", f % 10));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("svc-{f:03}.yaml")), spec(f, per_file)).unwrap();
    }
    let mut walls = Vec::new();
    for run in 0..runs {
        let out = work.join(format!("rules-{run}"));
        let start = Instant::now();
        let status = Command::new(&pave)
            .args(["slo", "generate", "-i"])
            .arg(&input)
            .arg("-o")
            .arg(&out)
            .output()
            .unwrap();
        walls.push(start.elapsed());
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
    }
    let (out_files, out_bytes) = dir_size(&work.join("rules-0"));
    let slos = files * per_file;
    let best = walls.iter().min().copied().unwrap_or_default();
    let med = median(walls);
    println!(
        "# pave slo generate ({} cores)\n",
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    println!(
        "| SLOs | spec files | output files | output | median wall | best wall | per SLO (median) |"
    );
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| {slos} | {files} | {out_files} | {:.1} MiB | {:.0} ms | {:.0} ms | {:.0} µs |",
        out_bytes as f64 / 1_048_576.0,
        med.as_secs_f64() * 1000.0,
        best.as_secs_f64() * 1000.0,
        med.as_secs_f64() * 1e6 / slos as f64
    );
    println!(
        "\ntarget: < 200 ms for 1,000 SLOs: {}",
        if med < Duration::from_millis(200) {
            "met"
        } else {
            "MISSED"
        }
    );
    let _ = std::fs::remove_dir_all(&work);
}
