//! Guardrails benchmark: `pave check` against Checkov on the same generated Deployments (half
//! compliant, half with several violations), the admission webhook under a paced load, and
//! the cost of Rego policies per document.
//!
//! Usage: `bench/check.sh [--sizes 500,10000] [--rate 500] [--seconds 10]`. Wall time and
//! peak RSS of each run come from `getrusage(RUSAGE_CHILDREN)` in a tiny python3 wrapper, the
//! same way for both tools.

#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

struct Options {
    sizes: Vec<usize>,
    checkov: Option<PathBuf>,
    rate: u32,
    seconds: u64,
    runs: usize,
    checkov_max: usize,
    /// Size of the single-file case in MB (0 skips it).
    single_file_mb: usize,
    checkov_single_file: bool,
}

fn parse_args() -> Options {
    let mut options = Options {
        sizes: vec![500, 10_000],
        checkov: None,
        rate: 500,
        seconds: 10,
        runs: 3,
        checkov_max: 1000,
        single_file_mb: 50,
        checkov_single_file: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--sizes" => {
                options.sizes = value()
                    .split(',')
                    .map(|s| s.trim().parse().unwrap())
                    .collect()
            }
            "--checkov" => options.checkov = Some(PathBuf::from(value())).filter(|p| p.exists()),
            "--rate" => options.rate = value().parse().unwrap(),
            "--seconds" => options.seconds = value().parse().unwrap(),
            "--runs" => options.runs = value().parse().unwrap(),
            "--checkov-max" => options.checkov_max = value().parse().unwrap(),
            "--single-file-mb" => options.single_file_mb = value().parse().unwrap(),
            "--checkov-single-file" => options.checkov_single_file = true,
            other => panic!("unknown argument {other}"),
        }
    }
    options
}

/// A Deployment: compliant ones pass every built-in rule that can judge one object; the
/// others run privileged as root, with `:latest`, no limits, no probes, a secret in env.
fn deployment(i: usize, compliant: bool) -> String {
    if compliant {
        format!(
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: svc-{i}
  namespace: team-{ns}
  labels: {{app: svc-{i}, owner: team-{ns}, cost-center: cc-{ns}}}
spec:
  replicas: 2
  selector:
    matchLabels: {{app: svc-{i}}}
  template:
    metadata:
      labels: {{app: svc-{i}}}
    spec:
      automountServiceAccountToken: false
      serviceAccountName: svc-{i}
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: {{type: RuntimeDefault}}
      containers:
      - name: app
        image: registry.example.com/svc-{i}@sha256:{digest}
        imagePullPolicy: Always
        ports: [{{containerPort: 8080}}]
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities: {{drop: [ALL]}}
        resources:
          requests: {{cpu: 100m, memory: 128Mi}}
          limits: {{cpu: 500m, memory: 256Mi}}
        livenessProbe: {{httpGet: {{path: /healthz, port: 8080}}}}
        readinessProbe: {{httpGet: {{path: /readyz, port: 8080}}}}
"#,
            ns = i % 20,
            digest = "0".repeat(64)
        )
    } else {
        format!(
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: svc-{i}
  namespace: team-{ns}
spec:
  replicas: 1
  selector:
    matchLabels: {{app: svc-{i}}}
  template:
    metadata:
      labels: {{app: svc-{i}}}
    spec:
      hostNetwork: true
      containers:
      - name: app
        image: registry.example.com/svc-{i}:latest
        env:
        - {{name: DB_PASSWORD, value: hunter2}}
        securityContext:
          privileged: true
          capabilities: {{add: [SYS_ADMIN]}}
"#,
            ns = i % 20
        )
    }
}

fn generate(dir: &Path, n: usize) {
    std::fs::create_dir_all(dir).unwrap();
    for i in 0..n {
        std::fs::write(
            dir.join(format!("deploy-{i:05}.yaml")),
            deployment(i, i.is_multiple_of(2)),
        )
        .unwrap();
    }
}

/// One multi-document file of about `megabytes` MB: the Deployments above, each followed by
/// a small Service selecting it (about 111,000 objects in 50 MB). Returns the object count.
fn generate_single_file(path: &Path, megabytes: usize) -> usize {
    let mut text = String::with_capacity(megabytes << 20);
    let mut objects = 0;
    let mut i = 0;
    while text.len() < megabytes << 20 {
        text.push_str("---\n");
        text.push_str(&deployment(i, i.is_multiple_of(2)));
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: Service\nmetadata: {{name: svc-{i}, namespace: team-{ns}}}\nspec:\n  selector: {{app: svc-{i}}}\n  ports: [{{port: 80, targetPort: 8080}}]\n",
            ns = i % 20
        ));
        objects += 2;
        i += 1;
    }
    std::fs::write(path, text).unwrap();
    objects
}

/// `pave check` on one large file (`--single-file-mb`, default 50): wall time and peak RSS.
/// Checkov runs on it only with `--checkov-single-file` (it had not finished after an hour).
fn single_file(options: &Options, work: &Path) {
    if options.single_file_mb == 0 {
        return;
    }
    let pave = pave_binary();
    let path = work.join("single.yaml");
    let objects = generate_single_file(&path, options.single_file_mb);
    let path_s = path.to_str().unwrap();
    let (wall, rss, rc) = repeat(
        options.runs.min(2),
        &[pave.to_str().unwrap(), "check", "-f", "json", path_s],
        &[],
    );
    assert_eq!(rc, 1, "pave check should find the violations");
    println!(
        "\n## One {} MB file ({objects} objects)\n",
        options.single_file_mb
    );
    println!("| tool | wall | peak RSS |");
    println!("|---|---|---|");
    println!("| pave check -f json | {wall:.2} s | **{rss:.0} MB** |");
    if let Some(checkov) = options
        .checkov
        .as_ref()
        .filter(|_| options.checkov_single_file)
    {
        let (cw, cr, _) = measure(
            &[
                checkov.to_str().unwrap(),
                "-f",
                path_s,
                "--framework",
                "kubernetes",
                "--skip-download",
                "--compact",
                "--quiet",
                "-o",
                "json",
            ],
            &[("BC_SKIP_MAPPING", "TRUE")],
        );
        println!("| Checkov | {cw:.1} s | {cr:.0} MB |");
    }
}

/// Wall seconds and peak RSS (MB) of `command`, measured by a python3 wrapper around it.
fn measure(command: &[&str], env: &[(&str, &str)]) -> (f64, f64, i32) {
    const WRAPPER: &str = "import resource, subprocess, sys, time\n\
        t = time.perf_counter()\n\
        rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode\n\
        wall = time.perf_counter() - t\n\
        print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, rc)\n";
    let out = Command::new("python3")
        .arg("-c")
        .arg(WRAPPER)
        .args(command)
        .envs(env.iter().copied())
        .output()
        .expect("python3 is needed to measure runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.split_whitespace();
    let wall: f64 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "wrapper said: {text} {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let rss_kib: f64 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0.0);
    let rc: i32 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(-1);
    (wall, rss_kib / 1024.0, rc)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median wall time and the largest RSS over `runs` runs.
fn repeat(runs: usize, command: &[&str], env: &[(&str, &str)]) -> (f64, f64, i32) {
    let mut walls = Vec::new();
    let mut rss: f64 = 0.0;
    let mut rc = 0;
    for _ in 0..runs {
        let (w, r, code) = measure(command, env);
        walls.push(w);
        rss = rss.max(r);
        rc = code;
    }
    (median(walls), rss, rc)
}

fn pave_binary() -> PathBuf {
    let me = std::env::current_exe().unwrap();
    me.with_file_name("pave")
}

fn check_vs_checkov(options: &Options, work: &Path) {
    let pave = pave_binary();
    println!("\n## pave check vs Checkov (N Deployments, one file each, half compliant)\n");
    println!("| N | pave wall | pave peak RSS | Checkov wall | Checkov peak RSS | ratio (wall) |");
    println!("|---|---|---|---|---|---|");
    for &n in &options.sizes {
        let dir = work.join(format!("k8s-{n}"));
        generate(&dir, n);
        let dir_s = dir.to_str().unwrap();
        // Sanity: pave finds the violations (exit 1) and reads every file.
        let out = Command::new(&pave)
            .args(["check", "-f", "json", dir_s])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let failed = report["summary"]["failed"].as_u64().unwrap_or(0);
        let documents = report["summary"]["documents"].as_u64().unwrap_or(0);
        assert_eq!(documents, n as u64);
        let (pave_wall, pave_rss, _) = repeat(
            options.runs,
            &[pave.to_str().unwrap(), "check", "-f", "json", dir_s],
            &[],
        );
        // Checkov needs minutes beyond a thousand documents; `--checkov-max` raises the cap.
        let checkov = options
            .checkov
            .as_ref()
            .filter(|_| n <= options.checkov_max)
            .map(|checkov| {
                let checkov_runs = if n > 1000 { 1 } else { options.runs };
                repeat(
                    checkov_runs,
                    &[
                        checkov.to_str().unwrap(),
                        "-d",
                        dir_s,
                        "--framework",
                        "kubernetes",
                        "--skip-download",
                        "--compact",
                        "--quiet",
                        "-o",
                        "json",
                    ],
                    &[("BC_SKIP_MAPPING", "TRUE")],
                )
            });
        match checkov {
            Some((cw, cr, _)) => println!(
                "| {n} | {:.3} s | {pave_rss:.0} MB | {cw:.2} s | {cr:.0} MB | **{:.0}x** |",
                pave_wall,
                cw / pave_wall
            ),
            None if options.checkov.is_some() => println!(
                "| {n} | {pave_wall:.3} s | {pave_rss:.0} MB | (not run: N > --checkov-max) | | |"
            ),
            None => println!("| {n} | {pave_wall:.3} s | {pave_rss:.0} MB | (not installed) | | |"),
        }
        eprintln!("  N={n}: pave reported {failed} failing findings over {documents} documents");
    }
}

/// One keep-alive connection posting AdmissionReviews.
struct Conn(pave_testkit::KeepAlive);

impl Conn {
    fn open(addr: SocketAddr) -> Conn {
        Conn(pave_testkit::KeepAlive::open(addr).unwrap())
    }

    fn post(&mut self, path: &str, body: &str) -> u16 {
        let headers = [("Content-Type", "application/json")];
        self.0
            .send("POST", path, &headers, body.as_bytes())
            .unwrap()
            .0
    }
}

fn review(i: usize) -> String {
    let object = pave_yaml_value(&deployment(i, i.is_multiple_of(2)));
    serde_json::json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {"uid": format!("uid-{i}"), "operation": "CREATE", "namespace": object["metadata"]["namespace"], "object": object}
    })
    .to_string()
}

/// The generator's YAML as JSON, read with the parser pave uses.
fn pave_yaml_value(yaml: &str) -> serde_json::Value {
    pave_yaml::parse_documents(yaml, &pave_yaml::Limits::default())
        .unwrap()
        .remove(0)
        .value
}

/// Paced (open-loop) load: requests are scheduled at a fixed rate over several connections
/// and latency counts from the scheduled time, so a stall is not hidden by waiting.
fn webhook(options: &Options, work: &Path) {
    let db = format!("sqlite://{}", work.join("bench.db").display());
    let server = pave_testkit::Server::start(&pave_binary(), &[], &db, true);
    let addr = server.addr;
    let bodies: Vec<String> = (0..64).map(review).collect();
    let connections = 8usize;
    let per_conn_interval = Duration::from_secs_f64(connections as f64 / f64::from(options.rate));
    let total = Duration::from_secs(options.seconds);
    // Warm up.
    let mut warm = Conn::open(addr);
    for body in &bodies {
        assert_eq!(warm.post("/api/admission/validate", body), 200);
    }
    let started = Instant::now() + Duration::from_millis(50);
    let handles: Vec<_> = (0..connections)
        .map(|c| {
            let bodies = bodies.clone();
            std::thread::spawn(move || {
                let mut conn = Conn::open(addr);
                let mut latencies = Vec::new();
                let offset = per_conn_interval.mul_f64(c as f64 / connections as f64);
                let mut k = 0u32;
                loop {
                    let scheduled = started + offset + per_conn_interval * k;
                    if scheduled.duration_since(started) >= total {
                        break;
                    }
                    let now = Instant::now();
                    if scheduled > now {
                        std::thread::sleep(scheduled - now);
                    }
                    let body = &bodies[(k as usize * connections + c) % bodies.len()];
                    assert_eq!(conn.post("/api/admission/validate", body), 200);
                    latencies.push(scheduled.elapsed().as_secs_f64() * 1000.0);
                    k += 1;
                }
                latencies
            })
        })
        .collect();
    let mut all: Vec<f64> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    all.sort_by(f64::total_cmp);
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    let rss = server.peak_rss_kib().map_or(0.0, |k| k as f64 / 1024.0);
    println!(
        "\n## Admission webhook (paced {} requests/s over {connections} keep-alive connections, {} s)\n",
        options.rate, options.seconds
    );
    println!("| requests | achieved rate | p50 | p90 | p99 | max | server peak RSS |");
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| {} | {:.0}/s | {:.2} ms | {:.2} ms | **{:.2} ms** | {:.2} ms | {rss:.0} MB |",
        all.len(),
        all.len() as f64 / options.seconds as f64,
        pct(0.50),
        pct(0.90),
        pct(0.99),
        all[all.len() - 1]
    );
}

/// Peak RSS of this process so far, MB.
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// `check-bench --stages PATH [FORMAT]`: time and memory of each stage of `pave check`, in
/// process (reading, rules, rendering).
fn stages(args: &[String]) {
    let paths = vec![args[0].clone()];
    let format =
        pave_policy_output::Format::parse(args.get(1).map_or("json", String::as_str)).unwrap();
    let started = Instant::now();
    let inputs = pave_check::read_inputs(
        &paths,
        &mut std::io::empty(),
        &pave_check::ReadOptions::default(),
    );
    let read = started.elapsed();
    println!(
        "read   {:>8.1} ms  peak {:>6.0} MB  ({} documents)",
        read.as_secs_f64() * 1e3,
        peak_rss_mb(),
        inputs.documents.len()
    );
    let policy = pave_policy::Policy::new(
        pave_policy::PolicyConfig::default(),
        pave_policy::Exceptions::default(),
    );
    let started = Instant::now();
    let report = policy.check(&inputs.documents, inputs.errors, 0);
    println!(
        "check  {:>8.1} ms  peak {:>6.0} MB  ({} findings)",
        started.elapsed().as_secs_f64() * 1e3,
        peak_rss_mb(),
        report.findings.len()
    );
    let started = Instant::now();
    let text = pave_policy_output::render(
        &report,
        format,
        &pave_policy_output::RenderOptions::default(),
    );
    println!(
        "render {:>8.1} ms  peak {:>6.0} MB  ({} bytes of {})",
        started.elapsed().as_secs_f64() * 1e3,
        peak_rss_mb(),
        text.len(),
        format.as_str()
    );
}

/// conftest-style policies as a team would write them: four rules over Deployments.
const REGO_POLICY: &str = r#"package main

import rego.v1

deny contains msg if {
  input.kind == "Deployment"
  some c in input.spec.template.spec.containers
  endswith(c.image, ":latest")
  msg := sprintf("%s: container %s uses a latest tag", [input.metadata.name, c.name])
}

deny contains msg if {
  input.kind == "Deployment"
  some c in input.spec.template.spec.containers
  c.securityContext.privileged
  msg := sprintf("%s: container %s is privileged", [input.metadata.name, c.name])
}

warn contains msg if {
  input.kind == "Deployment"
  not input.spec.template.spec.securityContext.runAsNonRoot
  msg := sprintf("%s: set runAsNonRoot", [input.metadata.name])
}

deny_labels contains msg if {
  not input.metadata.labels.owner
  msg := sprintf("%s has no owner label", [input.metadata.name])
}
"#;

/// What Rego policies add per document: the same inputs with and without `--policy`.
fn rego_cost(options: &Options, work: &Path) {
    let pave = pave_binary();
    let n = 1000;
    let dir = work.join("rego-inputs");
    generate(&dir, n);
    let policy = work.join("rego-policy");
    std::fs::create_dir_all(&policy).unwrap();
    std::fs::write(policy.join("deployments.rego"), REGO_POLICY).unwrap();
    let (dir_s, policy_s) = (dir.to_str().unwrap(), policy.to_str().unwrap());
    // Sanity: the policies report something (their findings are `main.deny`, `main.warn`).
    let out = Command::new(&pave)
        .args(["check", "-f", "json", "--policy", policy_s, dir_s])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rego_findings = report["findings"].as_array().map_or(0, |f| {
        f.iter()
            .filter(|f| f["rule"].as_str().is_some_and(|r| r.starts_with("main.")))
            .count()
    });
    assert!(
        rego_findings > 0,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let runs = options.runs.max(3);
    let (plain, _, _) = repeat(
        runs,
        &[pave.to_str().unwrap(), "check", "-f", "json", dir_s],
        &[],
    );
    let (with_rego, rss, _) = repeat(
        runs,
        &[
            pave.to_str().unwrap(),
            "check",
            "-f",
            "json",
            "--policy",
            policy_s,
            dir_s,
        ],
        &[],
    );
    println!("\n## Rego policies ({n} Deployments, 4 conftest-style rules)\n");
    println!(
        "| built-in rules only | plus Rego | Rego per document (wall, all cores) | peak RSS | Rego findings |"
    );
    println!("|---|---|---|---|---|");
    println!(
        "| {plain:.3} s | {with_rego:.3} s | {:.0} µs | {rss:.0} MB | {rego_findings} |",
        (with_rego - plain) / n as f64 * 1e6
    );
}

fn main() {
    // `check-bench --generate DIR N`: only write the inputs (for profiling by hand).
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--generate") {
        let dir = PathBuf::from(args.get(2).expect("--generate DIR N"));
        generate(
            &dir,
            args.get(3)
                .and_then(|n| n.parse().ok())
                .expect("--generate DIR N"),
        );
        return;
    }
    if args.get(1).map(String::as_str) == Some("--stages") {
        stages(&args[2..]);
        return;
    }
    let options = parse_args();
    let work = std::env::temp_dir().join(format!("pave-check-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    println!(
        "# pave guardrails benchmark ({} cores)",
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    check_vs_checkov(&options, &work);
    single_file(&options, &work);
    rego_cost(&options, &work);
    webhook(&options, &work);
    let _ = std::fs::remove_dir_all(&work);
}
