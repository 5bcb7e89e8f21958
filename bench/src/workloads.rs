//! `pave render` of generated Score workloads, shared by `render-bench` and `golden-bench`:
//! HTTP APIs with postgres, redis, route and dns; workers with a queue and a bucket; nightly
//! CronJobs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use pave_workload::{NoFiles, Provisioners, RenderOptions, Workload, render};

const IMAGE: &str = "registry.example.com/worker:1.0.0";

/// Workload `i` (the kind cycles: API, worker, CronJob).
pub(crate) fn score(i: usize) -> String {
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

/// The median of `v` (zero when empty).
pub(crate) fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

/// The `pave` binary: `PAVE_BIN`, or beside this one (`cargo build --release -p pave -p pave-bench`).
pub(crate) fn pave_bin() -> PathBuf {
    std::env::var_os("PAVE_BIN").map_or_else(
        || {
            std::env::current_exe()
                .expect("the path of this binary")
                .with_file_name("pave")
        },
        PathBuf::from,
    )
}

/// Median walls over `runs` runs of rendering `workloads` workloads, every environment.
pub(crate) struct Figures {
    /// `pave_workload` in process: parse, provision, render, Kustomize layout.
    pub(crate) lib: Duration,
    /// One `pave render` process per workload, one after the other, written to disk (`None`
    /// when the `pave` binary is missing).
    pub(crate) cli: Option<Duration>,
    /// One `pave render` process for all the workloads (`-o DIR`, a layout per workload).
    pub(crate) cli_batch: Option<Duration>,
    /// Files in the layouts of one run.
    pub(crate) files: usize,
}

/// Writes the workloads under `work` and measures both figures.
pub(crate) fn measure(pave: &Path, work: &Path, workloads: usize, runs: usize) -> Figures {
    std::fs::create_dir_all(work).expect("create the work folder");
    let texts: Vec<(String, String)> = (0..workloads)
        .map(|i| (format!("score-{i:03}.yaml"), score(i)))
        .collect();
    for (name, text) in &texts {
        std::fs::write(work.join(name), text).expect("write a Score file");
    }

    let options = RenderOptions {
        image: Some(IMAGE.into()),
        ..RenderOptions::default()
    };
    let mut lib = Vec::new();
    let mut files = 0;
    for _ in 0..runs {
        let start = Instant::now();
        files = 0;
        let provisioners = Provisioners::builtin();
        for (name, text) in &texts {
            let w = Workload::parse(name, text).expect("a generated workload parses");
            let rendered = render(&w, &provisioners, &NoFiles, &options)
                .expect("a generated workload renders");
            files += rendered.layout().files.len();
        }
        lib.push(start.elapsed());
    }

    let mut cli = Vec::new();
    if pave.is_file() {
        for run in 0..runs {
            let start = Instant::now();
            for (name, _) in &texts {
                let out = work
                    .join(format!("out-{run}"))
                    .join(name.trim_end_matches(".yaml"));
                let status = Command::new(pave)
                    .arg("render")
                    .arg(work.join(name))
                    .arg("-o")
                    .arg(&out)
                    .args(["--image", IMAGE])
                    .output()
                    .expect("run pave render");
                assert!(
                    status.status.success(),
                    "pave render {name}: {}",
                    String::from_utf8_lossy(&status.stderr)
                );
            }
            cli.push(start.elapsed());
        }
    }
    let mut cli_batch = Vec::new();
    if pave.is_file() {
        for run in 0..runs {
            let out = work.join(format!("batch-{run}"));
            let start = Instant::now();
            let status = Command::new(pave)
                .arg("render")
                .args(texts.iter().map(|(name, _)| work.join(name)))
                .arg("-o")
                .arg(&out)
                .args(["--image", IMAGE])
                .output()
                .expect("run pave render");
            cli_batch.push(start.elapsed());
            assert!(
                status.status.success(),
                "pave render (all): {}",
                String::from_utf8_lossy(&status.stderr)
            );
            let written = walk_files(&out);
            assert_eq!(
                written,
                files,
                "one layout per workload under {}",
                out.display()
            );
        }
    }
    Figures {
        lib: median(lib),
        cli: (!cli.is_empty()).then(|| median(cli)),
        cli_batch: (!cli_batch.is_empty()).then(|| median(cli_batch)),
        files,
    }
}

/// Files below `dir`.
fn walk_files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| {
                let path = e.path();
                if path.is_dir() { walk_files(&path) } else { 1 }
            })
            .sum()
    })
}
