//! Helpers shared by the integration tests and the benchmarks: start a `pave serve` process
//! and talk HTTP/1.1 to it with a tiny blocking client (no async runtime, no dependencies);
//! run a real Prometheus with synthetic history ([`prometheus`]); drive a headless Chromium
//! ([`browser`]).

// Test and benchmark support: a panic is how a failure is reported.
#![allow(clippy::print_stderr, clippy::unwrap_used)]

pub mod browser;
pub mod k8s;
pub mod prometheus;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `pave serve`, stopped (SIGTERM) when dropped.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    /// Where the admission webhook listens: its own listener (`--admission-addr`) or `addr`.
    pub admission: SocketAddr,
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `<binary> serve --addr 127.0.0.1:0 <args>` with `db` as its database and waits
    /// until it says where it listens. Its log lines are echoed to stderr unless `quiet`.
    ///
    /// # Panics
    /// When the process cannot start or does not report an address within 30 s.
    pub fn start(binary: &Path, args: &[&str], db: &str, quiet: bool) -> Server {
        Self::start_with_env(binary, args, db, quiet, &[])
    }

    /// [`Server::start`] with extra environment variables (`XDG_CACHE_HOME` to find the git
    /// cache, for example).
    ///
    /// # Panics
    /// As [`Server::start`].
    pub fn start_with_env(
        binary: &Path,
        args: &[&str],
        db: &str,
        quiet: bool,
        env: &[(&str, &Path)],
    ) -> Server {
        let mut child = Command::new(binary)
            .env_remove("PAVE_CONFIG")
            .envs(env.iter().copied())
            .env("NO_COLOR", "1")
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(args)
            .env("PAVE_DATABASE_URL", db)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let Some(stderr) = child.stderr.take() else {
            panic!("no stderr from {}", binary.display());
        };
        let (tx, rx) = std::sync::mpsc::channel();
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let lines = std::sync::Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(mut lines) = lines.lock() {
                    lines.push(line.clone());
                }
                if let Some(rest) = line
                    .split("open http://")
                    .nth(1)
                    .or_else(|| line.split("open https://").nth(1))
                {
                    let addr = rest.split('/').next().unwrap_or_default().to_owned();
                    let admission = line
                        .split("admission webhook at ")
                        .nth(1)
                        .and_then(|rest| rest.split("://").nth(1))
                        .map(|rest| rest.split('/').next().unwrap_or_default().to_owned())
                        .unwrap_or_else(|| addr.clone());
                    let _ = tx.send((addr, admission));
                }
                if !quiet {
                    eprintln!("[pave] {line}");
                }
            }
        });
        let (addr, admission) = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("server did not start");
        Server {
            child,
            addr: addr.parse().unwrap(),
            admission: admission.parse().unwrap(),
            log,
        }
    }

    pub fn get(&self, path: &str) -> Response {
        http(self.addr, "GET", path, None)
    }

    /// Waits until `path` answers with `status`.
    pub fn wait_for(&self, path: &str, ok: impl Fn(&Response) -> bool) -> Response {
        self.wait_for_within(path, Duration::from_secs(30), ok)
    }

    /// Polls `path` until `ok` holds or `timeout` passes; returns the last response.
    pub fn wait_for_within(
        &self,
        path: &str,
        timeout: Duration,
        ok: impl Fn(&Response) -> bool,
    ) -> Response {
        let deadline = Instant::now() + timeout;
        loop {
            let r = self.get(path);
            if ok(&r) || Instant::now() > deadline {
                return r;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Every line the server wrote to stderr so far.
    pub fn log_lines(&self) -> Vec<String> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// The server's peak resident set size in KiB (Linux `VmHWM`), if known.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    ///
    /// # Panics
    /// When the body is not JSON (tests want to fail loudly).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// One keep-alive HTTP/1.1 connection, for benchmarks that time requests without the cost of
/// connecting each time.
pub struct KeepAlive {
    reader: BufReader<TcpStream>,
    addr: SocketAddr,
}

impl KeepAlive {
    /// Connects (no Nagle delay; answers awaited up to 30 s).
    ///
    /// # Errors
    /// When the server does not accept the connection.
    pub fn open(addr: SocketAddr) -> std::io::Result<KeepAlive> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(KeepAlive {
            reader: BufReader::new(stream),
            addr,
        })
    }

    /// Sends one request with `headers` and `body` (a `Content-Length` is added when there
    /// is a body) and reads the answer: its status and body, or `None` when the connection
    /// failed (then open a new one).
    pub fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Option<(u16, Vec<u8>)> {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.addr);
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if !body.is_empty() {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        let stream = self.reader.get_mut();
        stream.write_all(head.as_bytes()).ok()?;
        stream.write_all(body).ok()?;
        let mut status_line = String::new();
        if self.reader.read_line(&mut status_line).ok()? == 0 {
            return None;
        }
        let status = status_line.split(' ').nth(1)?.parse().ok()?;
        let mut length = 0;
        let mut chunked = false;
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line).ok()? == 0 {
                return None;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().ok()?;
                } else if name.eq_ignore_ascii_case("transfer-encoding") {
                    chunked = value.trim().eq_ignore_ascii_case("chunked");
                }
            }
        }
        if chunked {
            // `<hex size>\r\n<bytes>\r\n` until a zero size (streamed listings).
            let mut answer = Vec::new();
            loop {
                let mut size = String::new();
                self.reader.read_line(&mut size).ok()?;
                let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
                let mut chunk = vec![0; size + 2];
                self.reader.read_exact(&mut chunk).ok()?;
                if size == 0 {
                    break;
                }
                chunk.truncate(size);
                answer.extend(chunk);
            }
            return Some((status, answer));
        }
        let mut answer = vec![0; length];
        self.reader.read_exact(&mut answer).ok()?;
        Some((status, answer))
    }
}

/// The value after `--name` on the command line, for benches' flags.
pub fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// The value at quantile `p` (0–1) of `sorted`, by nearest rank; zero when empty.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// `VmRSS`, `VmHWM` or another `/proc/<pid>/status` memory field of a process, in MB (0 when
/// it cannot be read).
pub fn process_memory_mb(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

/// User and system CPU time a process has used, in seconds.
pub fn process_cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the stat line: 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// A minimal HTTP/1.1 client (one request per connection), waiting up to 30 s for the answer.
pub fn http(addr: SocketAddr, method: &str, path: &str, body: Option<&str>) -> Response {
    http_waiting(addr, method, path, body, Duration::from_secs(30))
}

/// [`http`], waiting up to `timeout` for the answer (benchmarks of slow requests).
pub fn http_waiting(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
    timeout: Duration,
) -> Response {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(timeout)).unwrap();
    let body = body.unwrap_or("");
    // A server may answer (413) and close before reading a large body; read the answer anyway.
    let _ = write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        panic!("not an HTTP response: {}", String::from_utf8_lossy(&raw));
    };
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let head_len = split + 4;
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let payload = if headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"))
    {
        dechunk(&raw[head_len..])
    } else {
        raw.drain(..head_len);
        raw
    };
    let body = String::from_utf8(payload)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&data[..end]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let Some(chunk) = data.get(end + 2..end + 2 + size) else {
            break;
        };
        out.extend_from_slice(chunk);
        data = data.get(end + 2 + size + 2..).unwrap_or_default();
    }
    out
}

/// Whether this run is CI (`CI=true` or `CI=1`, as `.ci/run` sets it): there a missing tool or
/// corpus fails the test instead of skipping it.
pub fn on_ci() -> bool {
    matches!(std::env::var("CI").as_deref(), Ok("true" | "1"))
}

/// What a test does when something it needs (`what`: a tool, a corpus folder, a database) is
/// absent: under CI it fails the test; elsewhere it notes the skip on stderr. Returns `false`
/// so callers can write `if !present { return skip(...) }`.
pub fn skip(what: &str) -> bool {
    assert!(!on_ci(), "CI=true but {what}");
    eprintln!("skipping: {what}");
    false
}

/// Whether `tool` runs (`tool --version` or `tool version`); without it a test skips with a
/// note, except under CI, where a missing tool fails the test.
pub fn have(tool: &str) -> bool {
    let runs = |arg: &str| {
        Command::new(tool)
            .arg(arg)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    runs("--version") || runs("version") || skip(&format!("`{tool}` is not installed"))
}

/// `shared/corpus/<name>` beside the repository (or under `$PAVE_CORPUS`) when `marker` exists
/// inside it; otherwise a skip (a failure under CI). Conformance tests read the corpus; the
/// project's own tests never need it.
pub fn corpus(name: &str, marker: &str) -> Option<PathBuf> {
    let root = std::env::var_os("PAVE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    let dir = root.join(name);
    if dir.join(marker).exists() {
        return Some(dir);
    }
    let expected = if marker == "." { dir } else { dir.join(marker) };
    skip(&format!(
        "the conformance corpus is missing at {}",
        expected.display()
    ));
    None
}

/// A test certificate authority and a server certificate it signed, made with the `openssl`
/// CLI: `ca.pem`, `server.pem` and `server.key` in the folder given to [`tls_certificates`].
pub struct TestCertificates {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Writes a CA and a server certificate for `dns_name` and 127.0.0.1 (as SANs) into `dir`,
/// valid for two days.
pub fn tls_certificates(dir: &Path, dns_name: &str) -> TestCertificates {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ca_subject = "/CN=pave test CA";
    openssl(&[
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "2", "-subj", ca_subject,
    ]);
    let subject = format!("/CN={dns_name}");
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
        &subject,
    ]);
    std::fs::write(
        dir.join("san.cnf"),
        format!("subjectAltName=DNS:{dns_name},IP:127.0.0.1\n"),
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
    TestCertificates {
        ca: dir.join("ca.pem"),
        cert: dir.join("server.pem"),
        key: dir.join("server.key"),
    }
}

/// A client certificate (`extendedKeyUsage=clientAuth`) for `name`, signed by the CA of
/// `ca` (from [`tls_certificates`]): `(<name>.pem, <name>.key)` in `dir`.
pub fn client_certificate(dir: &Path, ca: &TestCertificates, name: &str) -> (PathBuf, PathBuf) {
    let ca_key = ca.ca.with_file_name("ca.key");
    let (cert, key, csr) = (
        dir.join(format!("{name}.pem")),
        dir.join(format!("{name}.key")),
        dir.join(format!("{name}.csr")),
    );
    let run = |args: &[&str]| {
        let out = Command::new("openssl").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let subject = format!("/CN={name}");
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        key.to_str().unwrap(),
        "-out",
        csr.to_str().unwrap(),
        "-subj",
        &subject,
    ]);
    let ext = dir.join(format!("{name}.cnf"));
    std::fs::write(&ext, "extendedKeyUsage=clientAuth\n").unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        csr.to_str().unwrap(),
        "-CA",
        ca.ca.to_str().unwrap(),
        "-CAkey",
        ca_key.to_str().unwrap(),
        "-CAcreateserial",
        "-out",
        cert.to_str().unwrap(),
        "-days",
        "2",
        "-extfile",
        ext.to_str().unwrap(),
    ]);
    (cert, key)
}

/// Serves `files` (URL path → body) over plain HTTP on a free loopback port until the
/// process ends, one connection at a time; anything else is a 404. Returns `http://host:port`.
pub fn serve_files(files: Vec<(String, String)>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).map_or(true, |n| n == 0) || header == "\r\n" {
                    break;
                }
            }
            let response = match files.iter().find(|(p, _)| *p == path) {
                Some((_, body)) => format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/yaml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                ),
                None => "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    .to_owned(),
            };
            let _ = (&stream).write_all(response.as_bytes());
        }
    });
    format!("http://{addr}")
}

/// Runs `git <args>` in `dir` as a test author; panics when it fails.
pub fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?} in {}", dir.display());
}

/// Writes `files` (relative path → text) into `dir`, commits them on `main` in a new
/// repository there, and returns its `file://` URL.
pub fn git_repo(dir: &Path, files: &[(&str, &str)]) -> String {
    std::fs::create_dir_all(dir).unwrap();
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    git(dir, &["init", "--quiet", "--initial-branch=main"]);
    git(dir, &["add", "."]);
    git(dir, &["commit", "--quiet", "-m", "init"]);
    format!("file://{}", dir.display())
}
