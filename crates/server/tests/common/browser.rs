//! What the browser tests share: a state served on an ephemeral port, axe-core's script, and
//! the serious or critical violations axe finds on the page a browser shows.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use pave_server::{AppState, ServeOptions};
use pave_testkit::browser::{Browser, Cdp};

/// Serves `state` from `runtime` on an ephemeral loopback port.
pub(crate) fn serve(runtime: &tokio::runtime::Runtime, state: Arc<AppState>) -> SocketAddr {
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

/// axe-core's script, installed by `npm ci` in `tests/axe` (`.ci/run` does it); without it
/// the accessibility checks are skipped, except on CI.
pub(crate) fn axe_source() -> Option<String> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/axe/node_modules/axe-core/axe.min.js");
    match std::fs::read_to_string(&path) {
        Ok(source) => Some(source),
        Err(_) => {
            pave_testkit::skip(&format!(
                "no {} (run `npm ci` in crates/server/tests/axe)",
                path.display()
            ));
            None
        }
    }
}

/// axe's serious and critical violations on the page `cdp` shows (`axe` is
/// [`axe_source`]'s script), each as `id (impact): the first three targets`; `[]` when none.
pub(crate) fn axe_violations(cdp: &mut Cdp, axe: &str) -> serde_json::Value {
    cdp.eval(axe);
    cdp.eval(
        "axe.run(document, { resultTypes: ['violations'] }).then(r => r.violations \
         .filter(v => v.impact === 'serious' || v.impact === 'critical') \
         .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')))",
    )
}

/// The runtime a browser test serves from: two worker threads, as the machine has.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A page of `browser` that records Content-Security-Policy violations in `window.__csp`
/// (each `directive blocked-uri file:line`), from every document it loads (scripts added
/// this way are not subject to the page's policy).
pub(crate) fn watched_page(browser: &Browser) -> Cdp {
    let mut cdp = Cdp::connect(&browser.ws_url);
    cdp.call("Page.enable", serde_json::json!({}));
    cdp.call(
        "Page.addScriptToEvaluateOnNewDocument",
        serde_json::json!({"source": "window.__csp = []; document.addEventListener('securitypolicyviolation', \
            e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sourceFile || '') + ':' + e.lineNumber));"}),
    );
    cdp
}
