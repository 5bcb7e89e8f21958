//! `render-bench`: `pave render` of 100 Score workloads (HTTP APIs with postgres, redis, route
//! and dns; workers with a queue and a bucket; nightly CronJobs), every environment.
//!
//! Two figures: the wall time of 100 `pave render` processes run one after the other (what a
//! CI job rendering a fleet pays), and the in-process time of `pave_workload` for the same
//! 100 workloads (parse, provision, render three environments, Kustomize layout).
//!
//! `render-bench [--workloads N] [--runs R]`; `PAVE_BIN` overrides the `pave` binary (default:
//! beside this one, i.e. build with `cargo build --release -p pave -p pave-bench`).
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use pave_workload::{NoFiles, Provisioners, RenderOptions, Workload, render};

fn score(i: usize) -> String {
    let head = |name: &str, extra: &str| {
        format!(
            "apiVersion: score.dev/v1b1\nmetadata:\n  name: {name}\n  annotations:\n    pave.dev/owner: team-{team}\n    pave.dev/cost-center: cc-{i:04}\n    pave.dev/priority-class: business-standard\n{extra}",
            team = i % 12
        )
    };
    match i % 3 {
        0 => format!(
            "{}service:\n  ports:\n    http:\n      port: 80\n      targetPort: 8080\ncontainers:\n  api:\n    image: registry.example.com/svc-{i:03}:1.{i}.0\n    variables:\n      APP: ${{metadata.name}}\n      DATABASE_URL: postgresql://${{resources.db.username}}:${{resources.db.password}}@${{resources.db.host}}:${{resources.db.port}}/${{resources.db.database}}\n      REDIS: ${{resources.cache.host}}:${{resources.cache.port}}\n    files:\n      /etc/app/config.yaml:\n        content: |\n          name: ${{metadata.name}}\n          host: ${{resources.dns.host}}\n    readinessProbe:\n      httpGet: {{port: 8080, path: /readyz}}\n    livenessProbe:\n      httpGet: {{port: 8080, path: /livez}}\nresources:\n  db: {{type: postgres}}\n  cache: {{type: redis}}\n  dns: {{type: dns}}\n  route:\n    type: route\n    params: {{host: \"${{resources.dns.host}}\", path: /, port: 80}}\n",
            head(&format!("svc-{i:03}"), "")
        ),
        1 => format!(
            "{}containers:\n  worker:\n    image: .\n    variables:\n      QUEUE: redis://${{resources.queue.host}}:${{resources.queue.port}}\n      QUEUE_PASSWORD: ${{resources.queue.password}}\n      BUCKET: ${{resources.archive.bucket}}\n      AWS_SECRET_ACCESS_KEY: ${{resources.archive.aws_secret_access_key}}\n    livenessProbe:\n      exec: {{command: [/app/worker, health]}}\n    readinessProbe:\n      exec: {{command: [/app/worker, health]}}\nresources:\n  queue: {{type: redis, class: external-secret}}\n  archive: {{type: s3}}\n",
            head(&format!("worker-{i:03}"), "")
        ),
        _ => format!(
            "{}containers:\n  job:\n    image: registry.example.com/job-{i:03}:2.0.{i}\n    variables:\n      DB: ${{resources.db.host}}\nresources:\n  db: {{type: postgres, class: external-secret}}\n",
            head(
                &format!("job-{i:03}"),
                "    pave.dev/workload-kind: CronJob\n    pave.dev/schedule: \"0 3 * * *\"\n"
            )
        ),
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn main() {
    let mut workloads = 100;
    let mut runs = 5;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value: usize = args
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{arg} needs a number"));
        match arg.as_str() {
            "--workloads" => workloads = value,
            "--runs" => runs = value,
            other => panic!("unknown argument {other}"),
        }
    }
    let pave: PathBuf = std::env::var_os("PAVE_BIN").map_or_else(
        || std::env::current_exe().unwrap().with_file_name("pave"),
        PathBuf::from,
    );
    let work = std::env::temp_dir().join(format!("pave-render-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    let texts: Vec<(String, String)> = (0..workloads)
        .map(|i| (format!("score-{i:03}.yaml"), score(i)))
        .collect();
    for (name, text) in &texts {
        std::fs::write(work.join(name), text).unwrap();
    }
    println!(
        "# pave render ({} cores, {workloads} workloads × 3 environments)\n",
        std::thread::available_parallelism().map_or(1, usize::from)
    );

    // In process: the library alone.
    let options = RenderOptions {
        image: Some("registry.example.com/worker:1.0.0".into()),
        ..RenderOptions::default()
    };
    let mut lib = Vec::new();
    let mut files = 0;
    for _ in 0..runs {
        let start = Instant::now();
        files = 0;
        let provisioners = Provisioners::builtin();
        for (name, text) in &texts {
            let w = Workload::parse(name, text).unwrap();
            let rendered = render(&w, &provisioners, &NoFiles, &options).unwrap();
            files += rendered.layout().files.len();
        }
        lib.push(start.elapsed());
    }

    // The CLI: one process per workload, written to disk.
    let mut cli = Vec::new();
    if pave.is_file() {
        for run in 0..runs {
            let start = Instant::now();
            for (name, _) in &texts {
                let out = work
                    .join(format!("out-{run}"))
                    .join(name.trim_end_matches(".yaml"));
                let status = Command::new(&pave)
                    .arg("render")
                    .arg(work.join(name))
                    .arg("-o")
                    .arg(&out)
                    .args(["--image", "registry.example.com/worker:1.0.0"])
                    .output()
                    .unwrap();
                assert!(
                    status.status.success(),
                    "{}",
                    String::from_utf8_lossy(&status.stderr)
                );
            }
            cli.push(start.elapsed());
        }
    } else {
        println!(
            "note: {} not found; skipping the CLI figure",
            pave.display()
        );
    }
    println!("| mode | workloads | files written | median wall | per workload |");
    println!("|---|---|---|---|---|");
    let row = |mode: &str, d: Duration| {
        println!(
            "| {mode} | {workloads} | {files} | {:.0} ms | {:.2} ms |",
            d.as_secs_f64() * 1000.0,
            d.as_secs_f64() * 1000.0 / workloads as f64
        );
    };
    row("pave_workload (in process)", median(lib));
    if !cli.is_empty() {
        let m = median(cli);
        row("`pave render` × N processes", m);
        println!(
            "\ntarget: < 1 s for 100 workloads: {}",
            if m < Duration::from_secs(1) {
                "met"
            } else {
                "missed"
            }
        );
    }
    cleanup(&work);
}

fn cleanup(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
}
