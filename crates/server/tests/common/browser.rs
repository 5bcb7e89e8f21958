//! What the browser tests share: a state served on an ephemeral port, axe-core's script, and
//! the serious or critical violations axe finds on the page a browser shows.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use pave_server::{AppState, ServeOptions};
use pave_testkit::browser::Cdp;

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
