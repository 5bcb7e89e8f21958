//! async-worker in each language: Redis with a password or TLS, at-least-once, dead letters, SLOs fed.

use super::*;

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
        let tls_ca = tls.then(|| pave_testkit::tls_certificates(dir.path(), "localhost").ca);
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
