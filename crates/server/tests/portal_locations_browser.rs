//! The operations pages in a real headless Chromium (as `portal_browser.rs` drives the
//! rest of the portal): the Locations page, the register form with an error on its field,
//! then its dry-run preview and the registration, the Problems page and the unregister
//! confirmation, each checked with axe-core (no serious or critical violation) and for
//! Content-Security-Policy violations. Screenshots go to `target/test-artifacts/`.
//!
//! Without a Chromium binary the test is skipped, except on CI (`CI=true`), where it fails.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use pave_ingest::{IngestConfig, Source};
use pave_server::AppState;
use pave_testkit::browser::{Browser, Cdp, VIEWPORT, artifacts_dir, find_chromium};
use serde_json::json;

/// Serves the fixtures' catalog (auth off: the operator sees every button), files under
/// `dir` readable as `file` locations. Returns the address and the location's id.
fn start_server(runtime: &tokio::runtime::Runtime, dir: &Path) -> (SocketAddr, String) {
    let catalog = common::ops::write_fixtures(dir);
    let (state, id) = runtime.block_on(async {
        let store = pave_store_sqlite::SqliteStore::open(&dir.join("pave.db"))
            .await
            .unwrap();
        let ingest = IngestConfig {
            file_roots: vec![pave_ingest::reach::parse_file_root(dir.to_str().unwrap()).unwrap()],
            ..IngestConfig::default()
        };
        let state = AppState::new(Arc::new(store), ingest);
        let locations = pave_ingest::register(
            state.platform.store().as_ref(),
            &[Source::Path(catalog.join("catalog-info.yaml"))],
        )
        .await
        .unwrap();
        state.refresh(&locations).await.unwrap();
        (state, locations[0].id.to_string())
    });
    (common::browser::serve(runtime, state), id)
}

/// No serious or critical axe-core violation on the current page, and no CSP violation.
fn check_page(cdp: &mut Cdp, axe: Option<&str>, page: &str) {
    assert_eq!(
        cdp.eval("JSON.stringify(window.__csp)"),
        json!("[]"),
        "CSP violations on {page}"
    );
    if let Some(axe) = axe {
        let found = common::browser::axe_violations(cdp, axe);
        assert_eq!(found, json!([]), "accessibility violations on {page}");
    }
}

#[test]
fn operations_pages_in_headless_chromium() {
    let Some(chromium) = find_chromium() else {
        pave_testkit::skip(
            "no chromium binary (/usr/bin/chromium, chromium, chromium-browser): install `chromium` or set CHROMIUM=/path/to/binary",
        );
        return;
    };
    let runtime = common::browser::runtime();
    let dir = tempfile::tempdir().unwrap();
    let (addr, id) = start_server(&runtime, dir.path());
    let base = format!("http://{addr}");
    let artifacts = artifacts_dir();
    let axe = common::browser::axe_source();
    let axe = axe.as_deref();

    let browser = Browser::launch(&chromium);
    let mut cdp = common::browser::watched_page(&browser);
    cdp.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": VIEWPORT.0, "height": VIEWPORT.1, "deviceScaleFactor": 1, "mobile": false}),
    );

    // 1. The Locations page: one location, its counts and buttons.
    cdp.navigate(&format!("{base}/locations"));
    cdp.wait_for(
        "the locations page",
        "document.readyState === 'complete' && document.querySelector('tr.location-row')",
    );
    assert_eq!(
        cdp.eval("document.querySelector('tr.location-row .location-entities').textContent.trim()"),
        json!("7")
    );
    assert_eq!(
        cdp.eval("document.querySelectorAll('tr.location-row .location-refresh, tr.location-row .location-unregister').length"),
        json!(2)
    );
    assert_eq!(
        cdp.eval("document.querySelector('.nav a[aria-current=page]').textContent"),
        json!("Locations")
    );
    cdp.screenshot(&artifacts.join("portal-locations.png"), false);
    check_page(&mut cdp, axe, "/locations");

    // 2. Register: a target outside the allowed folders comes back on its field.
    cdp.eval("document.getElementById('register-link').click()");
    cdp.wait_for(
        "the register form",
        "location.pathname === '/locations/register' && document.readyState === 'complete'",
    );
    let fill = |cdp: &mut Cdp, kind: &str, target: &str| {
        cdp.eval(&format!(
            "(() => {{ document.getElementById('location-type').value = {}; \
             document.getElementById('location-target').value = {}; \
             document.getElementById('register-preview').click(); }})()",
            json!(kind),
            json!(target)
        ));
    };
    fill(&mut cdp, "file", "../../etc");
    cdp.wait_for(
        "the error on the target's field",
        "document.readyState === 'complete' && document.getElementById('location-target-error')",
    );
    assert_eq!(
        cdp.eval("document.getElementById('location-target').getAttribute('aria-invalid')"),
        json!("true")
    );
    assert_eq!(
        cdp.eval("document.getElementById('location-target').value"),
        json!("../../etc"),
        "what was typed is kept"
    );
    cdp.screenshot(&artifacts.join("portal-register-error.png"), false);
    check_page(&mut cdp, axe, "/locations/register (with an error)");

    // 3. The dry run of the second catalog: what would be registered, and its problem.
    let second = dir.path().join("second").join("catalog-info.yaml");
    fill(&mut cdp, "file", second.to_str().unwrap());
    cdp.wait_for(
        "the preview",
        "document.readyState === 'complete' && document.getElementById('preview')",
    );
    assert_eq!(
        cdp.eval("document.getElementById('preview-count').textContent.trim()"),
        json!("3")
    );
    let position = cdp.eval("document.querySelector('#preview .problem-position').textContent");
    assert!(
        position.as_str().unwrap().starts_with("catalog-info.yaml:"),
        "{position}"
    );
    cdp.screenshot(&artifacts.join("portal-register-preview.png"), true);
    check_page(&mut cdp, axe, "/locations/register (a preview)");

    // 4. Confirmed: registered.
    cdp.eval("document.getElementById('register-confirm').click()");
    cdp.wait_for(
        "the registration",
        "document.readyState === 'complete' && document.getElementById('outcome-title') && \
         document.getElementById('outcome-title').textContent.startsWith('Registered')",
    );
    check_page(&mut cdp, axe, "a registration's outcome");
    cdp.navigate(&format!("{base}/locations"));
    cdp.wait_for(
        "two locations",
        "document.readyState === 'complete' && document.querySelectorAll('tr.location-row').length === 2",
    );

    // 5. The Problems page, both locations' problems.
    cdp.navigate(&format!("{base}/locations/problems"));
    cdp.wait_for(
        "the problems page",
        "document.readyState === 'complete' && document.querySelector('tr.problem-row')",
    );
    assert_eq!(
        cdp.eval("document.querySelectorAll('tr.problem-row').length"),
        json!(2)
    );
    cdp.screenshot(&artifacts.join("portal-problems.png"), false);
    check_page(&mut cdp, axe, "/locations/problems");

    // 6. The unregister confirmation, and an entity page with its Refresh button.
    cdp.navigate(&format!("{base}/locations/{id}/unregister"));
    cdp.wait_for(
        "the confirmation",
        "document.readyState === 'complete' && document.getElementById('unregister-confirm')",
    );
    check_page(&mut cdp, axe, "/locations/{id}/unregister");
    cdp.navigate(&format!("{base}/catalog/default/component/shop"));
    cdp.wait_for(
        "the entity page",
        "document.readyState === 'complete' && document.getElementById('refresh-entity')",
    );
    cdp.eval("document.getElementById('refresh-entity').click()");
    cdp.wait_for(
        "the refresh's outcome",
        "location.pathname === '/catalog/default/component/shop/refresh' && document.readyState === 'complete' && document.getElementById('outcome-title')",
    );
    check_page(&mut cdp, axe, "a refresh's outcome");

    cdp.close();
    drop(browser);
    runtime.shutdown_timeout(Duration::from_secs(2));
}
