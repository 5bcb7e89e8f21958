//! A headless Chromium driven over the Chrome DevTools Protocol: a small blocking client
//! on one websocket (tungstenite), enough for the portal's browser tests (navigate,
//! evaluate, wait for a condition, screenshot). Screenshots go to [`artifacts_dir`].

// Test support: a panic is how a failure is reported.
#![allow(clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// How long [`Cdp::wait_for`] waits.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// The window and screenshot size.
pub const VIEWPORT: (u32, u32) = (1360, 900);

/// Chromium: `$CHROMIUM`, `/usr/bin/chromium`, or `chromium`/`chromium-browser` on `PATH`.
pub fn find_chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .filter(|p| p.is_file())
    {
        return Some(path);
    }
    let fixed = Path::new("/usr/bin/chromium");
    if fixed.is_file() {
        return Some(fixed.to_owned());
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// Where screenshots go: `$PAVE_TEST_ARTIFACTS`, else `target/test-artifacts/`.
pub fn artifacts_dir() -> PathBuf {
    let dir = std::env::var_os("PAVE_TEST_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-artifacts")
        });
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A running Chromium; killed when dropped.
pub struct Browser {
    child: Child,
    pub ws_url: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub fn launch(binary: &Path) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-quic",
                "--hide-scrollbars",
                "--remote-debugging-port=0",
                &format!("--window-size={},{}", VIEWPORT.0, VIEWPORT.1),
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        // Keep draining stderr for the browser's whole life so it never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(at) = line.find("DevTools listening on ")
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(line[at + 22..].trim().to_owned());
                }
            }
        });
        let ws_url = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("Chromium did not print its DevTools address within 30 s");
        Browser {
            child,
            ws_url,
            _profile: profile,
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal CDP client: one page session over the browser's websocket.
pub struct Cdp {
    pub ws: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    session: Option<String>,
}

impl Cdp {
    pub fn connect(ws_url: &str) -> Cdp {
        let (ws, _) = tungstenite::connect(ws_url).expect("connecting to the DevTools websocket");
        if let MaybeTlsStream::Plain(stream) = ws.get_ref() {
            stream
                .set_read_timeout(Some(Duration::from_millis(500)))
                .unwrap();
        }
        let mut cdp = Cdp {
            ws,
            next_id: 0,
            session: None,
        };
        let target = cdp.call("Target.createTarget", json!({"url": "about:blank"}));
        let target_id = target["targetId"].as_str().unwrap().to_owned();
        let attached = cdp.call(
            "Target.attachToTarget",
            json!({"targetId": target_id, "flatten": true}),
        );
        cdp.session = Some(attached["sessionId"].as_str().unwrap().to_owned());
        cdp
    }

    /// Sends a command and waits for its answer (events in between are dropped).
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        self.try_call(method, params)
            .unwrap_or_else(|error| panic!("{method} failed: {error}"))
    }

    /// [`Self::call`], returning the protocol's error (e.g. "execution context was destroyed"
    /// while a page navigates) instead of failing.
    pub fn try_call(&mut self, method: &str, params: Value) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = &self.session {
            message["sessionId"] = json!(session);
        }
        self.ws.send(Message::text(message.to_string())).unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            assert!(
                Instant::now() < deadline,
                "no answer to {method} within 30 s"
            );
            let text = match self.ws.read() {
                Ok(Message::Text(text)) => text,
                Ok(_) => continue,
                Err(tungstenite::Error::Io(e))
                    // A signal to this process (git's children ending in a test that
                    // pushes) interrupts the read: it is retried, not a failure.
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock
                            | std::io::ErrorKind::TimedOut
                            | std::io::ErrorKind::Interrupted
                    ) =>
                {
                    continue;
                }
                Err(e) => panic!("DevTools connection failed during {method}: {e}"),
            };
            let reply: Value = serde_json::from_str(text.as_str()).unwrap();
            if reply["id"].as_u64() != Some(id) {
                continue;
            }
            if let Some(error) = reply.get("error") {
                return Err(error.to_string());
            }
            return Ok(reply["result"].clone());
        }
    }

    /// Evaluates `expression` in the page and returns its value.
    pub fn eval(&mut self, expression: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(exception) = result.get("exceptionDetails") {
            panic!("script failed: {expression}\n{exception}");
        }
        result["result"]["value"].clone()
    }

    /// Polls `condition` (a JS expression) until it is true; screenshots and fails on timeout.
    pub fn wait_for(&mut self, what: &str, condition: &str) {
        let deadline = Instant::now() + TIMEOUT;
        while Instant::now() < deadline {
            // During a navigation the page has no context to evaluate in: just try again.
            let answer = self.try_call(
                "Runtime.evaluate",
                json!({
                    "expression": format!("(() => {{ try {{ return !!({condition}); }} catch (e) {{ return false; }} }})()"),
                    "returnByValue": true,
                }),
            );
            if answer.is_ok_and(|r| r["result"]["value"] == json!(true)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let shot = artifacts_dir().join("portal-failure.png");
        self.screenshot(&shot, false);
        let url = self.eval("location.href");
        panic!(
            "timed out after {TIMEOUT:?} waiting for {what} (at {url}); screenshot: {}",
            shot.display()
        );
    }

    pub fn navigate(&mut self, url: &str) {
        self.call("Page.navigate", json!({"url": url}));
    }

    /// Saves a PNG of the viewport, or of the whole page.
    pub fn screenshot(&mut self, path: &Path, full_page: bool) {
        let mut params = json!({"format": "png"});
        if full_page {
            let metrics = self.call("Page.getLayoutMetrics", json!({}));
            let size = &metrics["cssContentSize"];
            params["captureBeyondViewport"] = json!(true);
            params["clip"] = json!({
                "x": 0, "y": 0,
                "width": size["width"].as_f64().unwrap_or(f64::from(VIEWPORT.0)),
                "height": size["height"].as_f64().unwrap_or(f64::from(VIEWPORT.1)),
                "scale": 1,
            });
        }
        let shot = self.call("Page.captureScreenshot", params);
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        std::fs::write(path, png).unwrap();
    }
}

impl Cdp {
    /// Asks the browser to close (the [`Browser`]'s drop kills it if this does not work).
    pub fn close(&mut self) {
        let _ = self.ws.send(Message::text(
            json!({"id": 0, "method": "Browser.close"}).to_string(),
        ));
    }
}
