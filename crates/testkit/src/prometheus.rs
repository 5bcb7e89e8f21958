//! A real Prometheus for tests: synthetic history backfilled with `promtool tsdb
//! create-blocks-from openmetrics`, rule files evaluated every second, a free loopback port,
//! killed and cleaned up on drop.
//!
//! Needs `prometheus` and `promtool` on `PATH` (or `PAVE_TEST_PROMETHEUS` /
//! `PAVE_TEST_PROMTOOL`). Without them the helpers return `None` after a note, except under
//! `CI=true`, where they panic: CI must not skip.
//!
//! Pitfalls handled here: history must end before "now" (the head refuses samples older than
//! the newest block), the retention must cover it (default 15d would drop a 30-day history),
//! OpenMetrics needs `# EOF` and timestamps in seconds, and promtool 2.42 writes one block per
//! two hours that hold samples (so keep long histories sparse: each block costs ~0.1 s).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// Unix seconds now.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn find_tool(env: &str, name: &str) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env) {
        return Some(PathBuf::from(path));
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// `prometheus` and `promtool`, or `None` with a note; panics under `CI=true`.
pub fn tools() -> Option<(PathBuf, PathBuf)> {
    let found = find_tool("PAVE_TEST_PROMETHEUS", "prometheus")
        .zip(find_tool("PAVE_TEST_PROMTOOL", "promtool"));
    if found.is_none() {
        crate::skip("prometheus and promtool are not installed (apt-get install prometheus)");
    }
    found
}

/// `promtool check rules <file>`, or `None` when promtool is missing (see [`tools`]).
pub fn check_rules(file: &Path) -> Option<Output> {
    let (_, promtool) = tools()?;
    Some(
        Command::new(promtool)
            .args(["check", "rules"])
            .arg(file)
            .output()
            .unwrap(),
    )
}

/// Synthetic history in the OpenMetrics text format, grouped by metric family as the format
/// requires. Add each series' samples in time order.
#[derive(Debug, Default)]
pub struct History {
    families: BTreeMap<String, String>,
    samples: usize,
    latest: Option<i64>,
}

impl History {
    pub fn new() -> Self {
        History::default()
    }

    /// One sample of `metric{labels}` at `timestamp` (Unix seconds).
    pub fn sample(&mut self, metric: &str, labels: &[(&str, &str)], timestamp: i64, value: f64) {
        let lines = self.families.entry(metric.to_owned()).or_default();
        lines.push_str(metric);
        if !labels.is_empty() {
            lines.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                let sep = if i == 0 { "" } else { "," };
                let v = v.replace('\\', "\\\\").replace('"', "\\\"");
                let _ = write!(lines, "{sep}{k}=\"{v}\"");
            }
            lines.push('}');
        }
        let value = if value.is_nan() {
            "NaN".to_owned()
        } else {
            format!("{value}")
        };
        let _ = writeln!(lines, " {value} {timestamp}");
        self.samples += 1;
        self.latest = Some(self.latest.map_or(timestamp, |l| l.max(timestamp)));
    }

    /// How many samples were added.
    pub fn len(&self) -> usize {
        self.samples
    }

    pub fn is_empty(&self) -> bool {
        self.samples == 0
    }

    /// The newest timestamp.
    pub fn latest(&self) -> Option<i64> {
        self.latest
    }

    /// The OpenMetrics text, ending with `# EOF`.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for lines in self.families.values() {
            out.push_str(lines);
        }
        out.push_str("# EOF\n");
        out
    }
}

/// How the test Prometheus runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// `global.evaluation_interval`.
    pub evaluation_interval: Duration,
    /// `--storage.tsdb.retention.time` (must cover the history).
    pub retention: String,
    /// How long to wait for readiness and the first rule evaluations.
    pub startup_timeout: Duration,
    /// Echo Prometheus' log to stderr.
    pub verbose: bool,
    /// Targets to scrape (live services under test).
    pub scrape: Vec<ScrapeJob>,
}

/// One `scrape_configs` entry with a static target.
#[derive(Debug, Clone)]
pub struct ScrapeJob {
    /// `job_name` (the `job` label).
    pub job: String,
    /// `host:port`.
    pub target: String,
    /// `metrics_path`.
    pub path: String,
    /// `scrape_interval` (and timeout, capped at 10 s).
    pub interval: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            evaluation_interval: Duration::from_secs(1),
            retention: "400d".to_owned(),
            startup_timeout: Duration::from_secs(90),
            verbose: false,
            scrape: Vec::new(),
        }
    }
}

/// A running Prometheus with backfilled history; killed and its directory removed on drop.
pub struct TestPrometheus {
    child: Child,
    addr: SocketAddr,
    url: String,
    dir: tempfile::TempDir,
    /// How long backfilling took.
    pub backfill_time: Duration,
    /// How long startup took, from process start to rules evaluated three times.
    pub startup_time: Duration,
}

impl TestPrometheus {
    /// Starts Prometheus with `rule_files` and `history` (OpenMetrics text ending in
    /// `# EOF`, all samples before now) and waits until every rule group has been evaluated
    /// three times (so rules that read other rules' output, and `ALERTS`, have data). `None`
    /// when the tools are
    /// missing (see [`tools`]).
    ///
    /// # Panics
    /// When backfilling fails or Prometheus does not become ready.
    pub fn start(rule_files: &[&Path], history: &str) -> Option<TestPrometheus> {
        Self::start_with(rule_files, history, &Options::default())
    }

    /// [`TestPrometheus::start`] with options.
    ///
    /// # Panics
    /// As [`TestPrometheus::start`].
    pub fn start_with(
        rule_files: &[&Path],
        history: &str,
        options: &Options,
    ) -> Option<TestPrometheus> {
        let (prometheus, promtool) = tools()?;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let started = Instant::now();
        if history.trim() != "# EOF" && !history.trim().is_empty() {
            let file = dir.path().join("history.om.txt");
            std::fs::write(&file, history).unwrap();
            let out = Command::new(&promtool)
                .args(["tsdb", "create-blocks-from", "openmetrics", "--quiet"])
                .arg(&file)
                .arg(&data)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "promtool could not backfill the history: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            let _ = std::fs::remove_file(&file);
        }
        let backfill_time = started.elapsed();

        let mut config = format!(
            "global:\n  evaluation_interval: {}ms\nrule_files:\n",
            options.evaluation_interval.as_millis()
        );
        for (i, rules) in rule_files.iter().enumerate() {
            let copy = dir.path().join(format!("rules-{i}.yml"));
            std::fs::copy(rules, &copy)
                .unwrap_or_else(|e| panic!("cannot copy {}: {e}", rules.display()));
            let _ = writeln!(config, "  - {}", copy.display());
        }
        if !options.scrape.is_empty() {
            config.push_str("scrape_configs:\n");
            for job in &options.scrape {
                let interval = job.interval.as_millis().max(100);
                let _ = write!(
                    config,
                    "  - job_name: {:?}\n    scrape_interval: {interval}ms\n    scrape_timeout: {}ms\n    metrics_path: {:?}\n    static_configs:\n      - targets: [{:?}]\n",
                    job.job,
                    interval.min(10_000),
                    job.path,
                    job.target
                );
            }
        }
        let config_file = dir.path().join("prometheus.yml");
        std::fs::write(&config_file, config).unwrap();

        let log_file = dir.path().join("prometheus.log");
        let mut last_log = String::new();
        for _attempt in 0..3 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .unwrap()
                .port();
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let log = std::fs::File::create(&log_file).unwrap();
            let mut child = Command::new(&prometheus)
                .arg(format!("--config.file={}", config_file.display()))
                .arg(format!("--storage.tsdb.path={}", data.display()))
                .arg(format!(
                    "--storage.tsdb.retention.time={}",
                    options.retention
                ))
                .arg(format!("--web.listen-address={addr}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap();
            let run_started = Instant::now();
            match wait_until_evaluated(&mut child, addr, options.startup_timeout) {
                Ok(()) => {
                    let server = TestPrometheus {
                        child,
                        addr,
                        url: format!("http://{addr}"),
                        dir,
                        backfill_time,
                        startup_time: run_started.elapsed(),
                    };
                    if options.verbose {
                        eprintln!("{}", server.log());
                    }
                    return Some(server);
                }
                Err(why) => {
                    let exited = child.try_wait().ok().flatten().is_some();
                    let _ = child.kill();
                    let _ = child.wait();
                    last_log = format!(
                        "{why}\n{}",
                        std::fs::read_to_string(&log_file).unwrap_or_default()
                    );
                    // Retry only when another process took the port.
                    if !(exited && last_log.contains("address already in use")) {
                        break;
                    }
                }
            }
        }
        panic!("Prometheus did not start: {last_log}");
    }

    /// The base URL, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Prometheus' log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// `GET <path>` with a blocking client: (status, body).
    pub fn get(&self, path: &str) -> (u16, String) {
        get(self.addr, path)
    }

    /// The `result` of an instant query (`Value::Null` on any error).
    pub fn query(&self, promql: &str) -> Value {
        let (_, body) = self.get(&format!("/api/v1/query?query={}", encode(promql)));
        serde_json::from_str::<Value>(&body)
            .ok()
            .map_or(Value::Null, |v| v["data"]["result"].clone())
    }

    /// Polls `promql` until `ok` holds for its result or `timeout` passes.
    pub fn wait_for(&self, promql: &str, timeout: Duration, ok: impl Fn(&Value) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if ok(&self.query(promql)) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for TestPrometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let r = crate::http(addr, "GET", path, None);
    (r.status, r.body)
}

/// Each rule group's `lastEvaluation`.
fn group_evaluations(addr: SocketAddr) -> Option<Vec<String>> {
    let (status, body) = get(addr, "/api/v1/rules");
    if status != 200 {
        return None;
    }
    let v: Value = serde_json::from_str(&body).ok()?;
    v["data"]["groups"].as_array().map(|groups| {
        groups
            .iter()
            .map(|g| g["lastEvaluation"].as_str().unwrap_or("").to_owned())
            .collect()
    })
}

/// Waits for `/-/ready`, then until every rule group has been evaluated three times: the
/// second round sees what other groups recorded in the first, and alerting rules write
/// `ALERTS` only from their first evaluation after restoring their state (the second).
fn wait_until_evaluated(
    child: &mut Child,
    addr: SocketAddr,
    timeout: Duration,
) -> Result<(), String> {
    const ROUNDS: usize = 3;
    let deadline = Instant::now() + timeout;
    let never = |t: &String| t.is_empty() || t.starts_with("0001-");
    let mut previous: Option<Vec<String>> = None;
    let mut rounds = 0;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("prometheus exited ({status})"));
        }
        if Instant::now() > deadline {
            return Err(format!("not ready within {timeout:?}"));
        }
        let ready = std::net::TcpStream::connect(addr).is_ok() && get(addr, "/-/ready").0 == 200;
        if ready && let Some(evals) = group_evaluations(addr) {
            let next_round = match &previous {
                None => !evals.iter().any(never),
                Some(prev) => {
                    evals.len() == prev.len() && evals.iter().zip(prev).all(|(a, b)| a != b)
                }
            };
            if next_round {
                rounds += 1;
                if rounds == ROUNDS {
                    return Ok(());
                }
                previous = Some(evals);
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Percent-encodes a query parameter.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Sloth-shaped synthetic SLOs: rules in Sloth's layout and history for them.
pub mod sloth {
    use std::fmt::Write as _;

    use super::History;

    /// One synthetic SLO measured from `http_requests_total{job=<service>}`.
    #[derive(Debug, Clone)]
    pub struct SyntheticSlo {
        pub service: String,
        pub slo: String,
        pub objective_percent: f64,
        /// Requests per minute.
        pub requests_per_minute: f64,
        /// The error ratio now (the counters' recent history runs at this ratio).
        pub error_ratio_now: f64,
        /// The recorded 5-minute error ratio over the period, as (older half, newer half):
        /// older samples sit more than 15 days back, so a short retention changes the result.
        pub period_ratios: (f64, f64),
        pub alert_name: String,
        /// Labels the rules add to every series (Sloth copies the spec's labels), e.g. `owner`.
        pub extra_labels: Vec<(String, String)>,
    }

    impl SyntheticSlo {
        pub fn id(&self) -> String {
            format!("{}-{}", self.service, self.slo)
        }

        /// The labels Sloth puts on every series of this SLO (without `sloth_window`).
        fn id_labels(&self) -> [(&'static str, String); 3] {
            [
                ("sloth_id", self.id()),
                ("sloth_service", self.service.clone()),
                ("sloth_slo", self.slo.clone()),
            ]
        }

        /// The filter `{sloth_id="…", sloth_service="…", sloth_slo="…"}`.
        fn filter(&self) -> String {
            let labels: Vec<String> = self
                .id_labels()
                .iter()
                .map(|(k, v)| format!("{k}=\"{v}\""))
                .collect();
            format!("{{{}}}", labels.join(", "))
        }
    }

    /// Days back of the period history clusters: four older than 15 days, four newer.
    const CLUSTERS_OLD: [i64; 4] = [28, 25, 22, 19];
    const CLUSTERS_NEW: [i64; 4] = [11, 8, 5, 2];
    /// Samples per cluster, 5 minutes apart (one two-hour block each).
    const CLUSTER_SAMPLES: i64 = 12;

    /// Adds `slo`'s history ending at `end` (Unix seconds, before now): the request counters
    /// for the last `counter_minutes` minutes (one sample a minute), and the recorded
    /// `slo:sli_error:ratio_rate5m` over the 30-day period in eight sparse clusters, half at
    /// `period_ratios.0`, half at `period_ratios.1`.
    pub fn add_history(history: &mut History, slo: &SyntheticSlo, end: i64, counter_minutes: i64) {
        let job = slo.service.as_str();
        let errors_per_minute = slo.requests_per_minute * slo.error_ratio_now;
        let ok_per_minute = slo.requests_per_minute - errors_per_minute;
        for (code, per_minute) in [("200", ok_per_minute), ("500", errors_per_minute)] {
            for m in 0..=counter_minutes {
                let t = end - (counter_minutes - m) * 60;
                history.sample(
                    "http_requests_total",
                    &[("job", job), ("code", code)],
                    t,
                    per_minute * m as f64,
                );
            }
        }
        let ids = slo.id_labels();
        let mut labels: Vec<(&str, &str)> = ids.iter().map(|(k, v)| (*k, v.as_str())).collect();
        labels.push(("sloth_window", "5m"));
        labels.extend(
            slo.extra_labels
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
        let clusters = CLUSTERS_OLD
            .iter()
            .map(|d| (d, slo.period_ratios.0))
            .chain(CLUSTERS_NEW.iter().map(|d| (d, slo.period_ratios.1)));
        for (days_back, ratio) in clusters {
            // Start on a two-hour boundary so a cluster fills exactly one block.
            let start = (end - days_back * 86_400) / 7200 * 7200 + 600;
            for i in 0..CLUSTER_SAMPLES {
                history.sample(
                    "slo:sli_error:ratio_rate5m",
                    &labels,
                    start + i * 300,
                    ratio,
                );
            }
        }
    }

    /// Sloth's rule groups for `slo` (30-day period, default windows), as `sloth generate`
    /// lays them out; the SLI is `http_requests_total{job=<service>,code=~"5.."}` over all.
    pub fn rules(slo: &SyntheticSlo) -> String {
        let (id, f) = (slo.id(), slo.filter());
        let labels = |window: Option<&str>| {
            let mut out = String::from("    labels:\n");
            for (k, v) in slo.id_labels() {
                let _ = writeln!(out, "      {k}: {v}");
            }
            if let Some(w) = window {
                let _ = writeln!(out, "      sloth_window: {w}");
            }
            for (k, v) in &slo.extra_labels {
                let _ = writeln!(out, "      {k}: \"{v}\"");
            }
            out
        };
        let mut out = format!("- name: sloth-slo-sli-recordings-{id}\n  rules:\n");
        let job = &slo.service;
        for w in ["5m", "30m", "1h", "2h", "6h", "1d", "3d"] {
            let _ = write!(
                out,
                "  - record: slo:sli_error:ratio_rate{w}\n    expr: |\n      (sum(rate(http_requests_total{{job=\"{job}\",code=~\"5..\"}}[{w}])))\n      /\n      (sum(rate(http_requests_total{{job=\"{job}\"}}[{w}])))\n{}",
                labels(Some(w))
            );
        }
        let _ = write!(
            out,
            "  - record: slo:sli_error:ratio_rate30d\n    expr: |\n      sum_over_time(slo:sli_error:ratio_rate5m{f}[30d])\n      / ignoring (sloth_window)\n      count_over_time(slo:sli_error:ratio_rate5m{f}[30d])\n{}",
            labels(Some("30d"))
        );
        let objective = slo.objective_percent / 100.0;
        let budget = (100.0 - slo.objective_percent) / 100.0;
        let _ = write!(out, "- name: sloth-slo-meta-recordings-{id}\n  rules:\n");
        for (record, expr) in [
            ("slo:objective:ratio", format!("vector({objective})")),
            ("slo:error_budget:ratio", format!("vector(1-{objective})")),
            ("slo:time_period:days", "vector(30)".to_owned()),
            (
                "slo:current_burn_rate:ratio",
                format!(
                    "slo:sli_error:ratio_rate5m{f}\n      / on(sloth_id, sloth_slo, sloth_service) group_left\n      slo:error_budget:ratio{f}"
                ),
            ),
            (
                "slo:period_burn_rate:ratio",
                format!(
                    "slo:sli_error:ratio_rate30d{f}\n      / on(sloth_id, sloth_slo, sloth_service) group_left\n      slo:error_budget:ratio{f}"
                ),
            ),
            (
                "slo:period_error_budget_remaining:ratio",
                format!("1 - slo:period_burn_rate:ratio{f}"),
            ),
        ] {
            let _ = write!(
                out,
                "  - record: {record}\n    expr: |\n      {expr}\n{}",
                labels(None)
            );
        }
        let _ = write!(
            out,
            "  - record: sloth_slo_info\n    expr: vector(1)\n{}      sloth_objective: \"{}\"\n",
            labels(None),
            slo.objective_percent
        );
        let _ = write!(out, "- name: sloth-slo-alerts-{id}\n  rules:\n");
        for (severity, pairs) in [
            ("page", [("5m", "1h", 14.4), ("30m", "6h", 6.0)]),
            ("ticket", [("2h", "1d", 3.0), ("6h", "3d", 1.0)]),
        ] {
            let cond = |(short, long, factor): (&str, &str, f64)| {
                format!(
                    "        (\n          max(slo:sli_error:ratio_rate{short}{f} > ({factor} * {budget})) without (sloth_window)\n          and\n          max(slo:sli_error:ratio_rate{long}{f} > ({factor} * {budget})) without (sloth_window)\n        )\n"
                )
            };
            let _ = write!(
                out,
                "  - alert: {}\n    expr: |\n{}        or\n{}    labels:\n      sloth_severity: {severity}\n    annotations:\n      title: ({severity}) {{{{$labels.sloth_service}}}} {{{{$labels.sloth_slo}}}} SLO error budget burn rate is too fast.\n",
                slo.alert_name,
                cond(pairs[0]),
                cond(pairs[1]),
            );
        }
        out
    }

    /// The two SLOs of `crates/slo-status/tests/fixtures/sloth-two-slos.rules.yml` (the
    /// hand-written fixture, see [`fixture_rules`]): `checkout-requests-availability` at
    /// 99.9% is healthy (0.05% errors now and on average over the period: half the budget
    /// left, burn rate 0.5), `search-requests-availability` at 99.5% has spent its budget
    /// (10% errors: burn rate 20, budget remaining −19, page and ticket alerts firing).
    pub fn fixture_slos() -> Vec<SyntheticSlo> {
        let slo =
            |service: &str, objective, errors, period, owner: &str, tier: &str| SyntheticSlo {
                service: service.to_owned(),
                slo: "requests-availability".to_owned(),
                objective_percent: objective,
                requests_per_minute: 2000.0,
                error_ratio_now: errors,
                period_ratios: period,
                alert_name: format!("{}HighErrorRate", capitalized(service)),
                extra_labels: vec![
                    ("owner".to_owned(), owner.to_owned()),
                    ("tier".to_owned(), tier.to_owned()),
                ],
            };
        vec![
            slo(
                "checkout",
                99.9,
                0.0005,
                (0.0002, 0.0008),
                "team-payments",
                "1",
            ),
            slo("search", 99.5, 0.1, (0.05, 0.15), "team-discovery", "2"),
        ]
    }

    fn capitalized(s: &str) -> String {
        let mut chars = s.chars();
        chars
            .next()
            .map(|c| c.to_uppercase().chain(chars).collect())
            .unwrap_or_default()
    }

    /// The path of the hand-written two-SLO rule file.
    pub fn fixture_rules() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../slo-status/tests/fixtures/sloth-two-slos.rules.yml")
    }

    /// History for `slos` ending 30 seconds ago, with `counter_minutes` of request counters.
    pub fn history(slos: &[SyntheticSlo], counter_minutes: i64) -> History {
        let end = super::now() - 30;
        let mut history = History::new();
        for slo in slos {
            add_history(&mut history, slo, end, counter_minutes);
        }
        history
    }

    /// An SLO as `pave slo status --targets-json` takes it (the JSON of
    /// `pave_slo_status::SloTarget`): Sloth's id, a 30-day period and Sloth's default windows.
    pub fn target_json(service: &str, name: &str, objective_percent: f64) -> serde_json::Value {
        let window = |severity, short, long, factor| serde_json::json!({"severity": severity, "short": short, "long": long, "burn_rate_factor": factor});
        serde_json::json!({
            "id": format!("{service}-{name}"),
            "service": service,
            "name": name,
            "objective_percent": objective_percent,
            "period": "30d",
            "alert_windows": [
                window("page", "5m", "1h", 14.4),
                window("page", "30m", "6h", 6.0),
                window("ticket", "2h", "1d", 3.0),
                window("ticket", "6h", "3d", 1.0),
            ],
        })
    }

    /// A Sloth `prometheus/v1` spec (one YAML document per service) declaring the SLOs of
    /// `targets` (values from [`target_json`]): what `pave slo status|gate` read.
    pub fn spec_for(targets: &[serde_json::Value]) -> String {
        let mut out = String::new();
        for t in targets {
            let (service, name) = (t["service"].as_str().unwrap(), t["name"].as_str().unwrap());
            out.push_str(&format!(
                "---\nversion: prometheus/v1\nservice: {service}\nslos:\n  - name: {name}\n    objective: {}\n    sli:\n      events:\n        error_query: sum(rate(http_requests_total{{service=\"{service}\",code=~\"5..\"}}[{{{{.window}}}}]))\n        total_query: sum(rate(http_requests_total{{service=\"{service}\"}}[{{{{.window}}}}]))\n    alerting:\n      name: {}HighErrorRate\n",
                t["objective_percent"],
                capitalized(service)
            ));
        }
        out
    }

    /// A whole rule file for `slos`.
    pub fn rule_file(slos: &[SyntheticSlo]) -> String {
        let mut out = String::from("groups:\n");
        for slo in slos {
            out.push_str(&rules(slo));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openmetrics_text() {
        let mut h = History::new();
        h.sample("b", &[("x", "1")], 20, 1.5);
        h.sample("a", &[], 10, f64::NAN);
        h.sample("b", &[("x", "q\"")], 30, 2.0);
        assert_eq!(
            h.text(),
            "a NaN 10\nb{x=\"1\"} 1.5 20\nb{x=\"q\\\"\"} 2 30\n# EOF\n"
        );
        assert_eq!((h.len(), h.latest()), (3, Some(30)));
        assert_eq!(encode("up{a=\"b\"}"), "up%7Ba%3D%22b%22%7D");
    }
}
