//! The portal in a real headless Chromium, driven over the Chrome DevTools Protocol.
//!
//! Loads the catalog, filters it with the kind select (htmx swaps the results in place), opens
//! the first entity and checks the relationship graph renders. Screenshots go to
//! `target/test-artifacts/` (or `$PAVE_TEST_ARTIFACTS`).
//!
//! Without a Chromium binary the test is skipped, except on CI (`CI=true`), where it fails.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use pave_ingest::{IngestConfig, Source};
use pave_server::{AppState, ServeOptions};
use serde_json::{Value, json};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

const TIMEOUT: Duration = Duration::from_secs(10);
const VIEWPORT: (u32, u32) = (1360, 900);

fn find_chromium() -> Option<PathBuf> {
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

fn artifacts_dir() -> PathBuf {
    let dir = std::env::var_os("PAVE_TEST_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-artifacts")
        });
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A running Chromium; killed when dropped.
struct Browser {
    child: Child,
    ws_url: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn launch(binary: &Path) -> Browser {
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
struct Cdp {
    ws: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    session: Option<String>,
}

impl Cdp {
    fn connect(ws_url: &str) -> Cdp {
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
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.try_call(method, params)
            .unwrap_or_else(|error| panic!("{method} failed: {error}"))
    }

    /// [`Self::call`], returning the protocol's error (e.g. "execution context was destroyed"
    /// while a page navigates) instead of failing.
    fn try_call(&mut self, method: &str, params: Value) -> Result<Value, String> {
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
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
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
    fn eval(&mut self, expression: &str) -> Value {
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
    fn wait_for(&mut self, what: &str, condition: &str) {
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

    fn navigate(&mut self, url: &str) {
        self.call("Page.navigate", json!({"url": url}));
    }

    /// Saves a PNG of the viewport, or of the whole page.
    fn screenshot(&mut self, path: &Path, full_page: bool) {
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

/// Seeds a catalog with the demo organisation and serves it on an ephemeral port.
fn start_server(runtime: &tokio::runtime::Runtime, dir: &Path) -> SocketAddr {
    let demo_dir = dir.join("demo");
    pave_demo::write_demo_org(&demo_dir).unwrap();
    let state = runtime.block_on(async {
        let store = pave_store_sqlite::SqliteStore::open(&dir.join("pave.db"))
            .await
            .unwrap();
        let state = AppState::new(Arc::new(store), IngestConfig::default());
        let locations = pave_ingest::register(
            state.platform.store().as_ref(),
            &[Source::Path(demo_dir.join("catalog-info.yaml"))],
        )
        .await
        .unwrap();
        state.refresh(&locations).await.unwrap();
        state
    });
    let (tx, rx) = mpsc::channel();
    runtime.spawn(async move {
        let options = ServeOptions::new("127.0.0.1:0".parse().unwrap());
        pave_server::serve(state, options, move |bound| {
            let _ = tx.send(bound.addr);
        })
        .await
        .unwrap();
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("server did not start")
}

#[test]
fn portal_in_headless_chromium() {
    let Some(chromium) = find_chromium() else {
        pave_testkit::skip(
            "no chromium binary (/usr/bin/chromium, chromium, chromium-browser): install `chromium` or set CHROMIUM=/path/to/binary",
        );
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let addr = start_server(&runtime, dir.path());
    let base = format!("http://{addr}");
    let artifacts = artifacts_dir();

    let browser = Browser::launch(&chromium);
    let mut cdp = Cdp::connect(&browser.ws_url);
    cdp.call("Page.enable", json!({}));
    // Every Content-Security-Policy violation on every page is recorded (scripts added this
    // way are not subject to the page's policy).
    cdp.call(
        "Page.addScriptToEvaluateOnNewDocument",
        json!({"source": "window.__csp = []; document.addEventListener('securitypolicyviolation', \
            e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sourceFile || '') + ':' + e.lineNumber));"}),
    );
    let no_csp_violations = |cdp: &mut Cdp, page: &str| {
        let violations = cdp.eval("JSON.stringify(window.__csp)");
        assert_eq!(violations, json!("[]"), "CSP violations on {page}");
    };
    cdp.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": VIEWPORT.0, "height": VIEWPORT.1, "deviceScaleFactor": 1, "mobile": false}),
    );

    // 1. The catalog lists entities.
    cdp.navigate(&format!("{base}/catalog"));
    cdp.wait_for(
        "the catalog page",
        "document.readyState === 'complete' && window.htmx && document.querySelector('#results tbody tr')",
    );
    let rows = cdp.eval("document.querySelectorAll('#results tbody tr').length");
    assert_eq!(rows, json!(25), "a full first page");
    let total: usize = cdp
        .eval("document.getElementById('result-count').dataset.total")
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(total >= 177, "{total} entities");
    assert_eq!(cdp.eval("document.title"), json!("Catalog · pave"));
    let stylesheet_applied =
        cdp.eval("getComputedStyle(document.querySelector('.topbar')).position");
    assert_eq!(
        stylesheet_applied,
        json!("sticky"),
        "style.css is served and applied"
    );
    cdp.screenshot(&artifacts.join("portal-catalog.png"), false);
    no_csp_violations(&mut cdp, "the catalog");

    // 2. Filtering by kind swaps the results in place (htmx), no page load.
    cdp.eval("window.__samePage = true");
    cdp.eval(
        "(() => { const s = document.getElementById('filter-kind'); s.value = 'Component'; \
         s.dispatchEvent(new Event('change', { bubbles: true })); })()",
    );
    cdp.wait_for(
        "only Components in the results",
        "document.getElementById('result-count').dataset.total === '60' && \
         [...document.querySelectorAll('#results tbody tr')].length === 25 && \
         [...document.querySelectorAll('#results tbody tr')].every(r => \
            r.querySelector('td:nth-child(2) .badge').textContent.trim() === 'Component')",
    );
    assert_eq!(
        cdp.eval("window.__samePage === true"),
        json!(true),
        "htmx swapped the fragment"
    );
    assert_eq!(
        cdp.eval("location.search"),
        json!("?kind=Component"),
        "the URL follows the filter"
    );
    assert_eq!(
        cdp.eval("document.querySelectorAll('select').length"),
        json!(5),
        "filter bar still there"
    );
    cdp.screenshot(&artifacts.join("portal-catalog-components.png"), false);
    no_csp_violations(&mut cdp, "the filtered catalog (htmx)");

    // Paging and typing in the search box go through htmx as well.
    cdp.eval("document.querySelector('#results a[rel=next]').click()");
    cdp.wait_for(
        "the second page",
        "document.querySelector('.page-status').textContent.trim() === 'Page 2 of 3' && \
         location.search === '?kind=Component&page=2'",
    );
    cdp.eval(
        "(() => { const q = document.getElementById('filter-q'); q.value = 'service'; \
         q.dispatchEvent(new Event('input', { bubbles: true })); })()",
    );
    cdp.wait_for(
        "search results",
        "location.search === '?kind=Component&q=service' && \
         Number(document.getElementById('result-count').dataset.total) < 60 && \
         document.querySelectorAll('#results tbody tr').length > 0",
    );
    assert_eq!(
        cdp.eval("window.__samePage === true"),
        json!(true),
        "still no page load"
    );

    // 3. Open the first entity.
    let href =
        cdp.eval("document.querySelector('#results tbody a.entity-link').getAttribute('href')");
    let href = href.as_str().unwrap().to_owned();
    assert!(href.starts_with("/catalog/default/component/"), "{href}");
    cdp.eval("document.querySelector('#results tbody a.entity-link').click()");
    cdp.wait_for(
        "the entity page",
        &format!(
            "location.pathname === {} && document.readyState === 'complete' && document.querySelector('svg.graph')",
            json!(href)
        ),
    );

    // 4. The graph renders: visible, with the entity and its neighbours.
    let graph = cdp.eval(
        "(() => { const svg = document.querySelector('svg.graph'); const r = svg.getBoundingClientRect(); \
         return { width: r.width, height: r.height, nodes: svg.querySelectorAll('.graph-node').length, \
         center: svg.querySelectorAll('.graph-node-center').length, \
         links: svg.querySelectorAll('a.graph-node[href]').length }; })()",
    );
    assert!(graph["width"].as_f64().unwrap() > 100.0, "{graph}");
    assert!(graph["height"].as_f64().unwrap() > 40.0, "{graph}");
    assert!(graph["nodes"].as_u64().unwrap() >= 2, "{graph}");
    assert_eq!(graph["center"], json!(1), "{graph}");
    assert!(graph["links"].as_u64().unwrap() >= 2, "{graph}");
    let heading = cdp.eval("document.querySelector('h1').textContent.trim()");
    assert!(!heading.as_str().unwrap().is_empty());
    assert!(
        cdp.eval("document.querySelector('#relations .relation-group') !== null") == json!(true)
    );
    cdp.screenshot(&artifacts.join("portal-entity.png"), true);
    no_csp_violations(&mut cdp, "an entity page");

    // 5. A group page, for the record.
    cdp.navigate(&format!("{base}/catalog/default/group/basket-checkout"));
    cdp.wait_for(
        "the group page",
        "document.readyState === 'complete' && document.querySelector('#members .member')",
    );
    cdp.screenshot(&artifacts.join("portal-group.png"), true);
    no_csp_violations(&mut cdp, "a group page");

    // The policy is enforced: an injected inline script does not run, and is reported.
    let inline = cdp.eval(
        "(() => { const s = document.createElement('script'); s.textContent = 'window.__inline = 1'; \
         document.head.appendChild(s); return window.__inline === undefined; })()",
    );
    assert_eq!(inline, json!(true), "an inline script ran despite the CSP");
    cdp.wait_for("the violation report", "window.__csp.length === 1");

    // Close cleanly; the Drop guard kills Chromium if this does not work.
    let _ = cdp.ws.send(Message::text(
        json!({"id": 0, "method": "Browser.close"}).to_string(),
    ));
    drop(browser);
    runtime.shutdown_timeout(Duration::from_secs(2));
}
