//! Helpers the portal's router tests share: the demo organisation or a catalog file
//! served from a temporary store, and pages fetched through the full router.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub(crate) mod browser;
pub(crate) mod ops;

use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use pave_ingest::{IngestConfig, Source};
use pave_server::AppState;
use tower::ServiceExt;

pub(crate) struct Demo {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) state: Arc<AppState>,
}

pub(crate) async fn demo() -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let demo_dir = dir.path().join("demo");
    pave_demo::write_demo_org(&demo_dir).unwrap();
    let store = pave_store_sqlite::SqliteStore::open(&dir.path().join("pave.db"))
        .await
        .unwrap();
    let state = AppState::new(Arc::new(store), IngestConfig::default());
    let locations = pave_ingest::register(
        state.platform.store().as_ref(),
        &[Source::Path(demo_dir.join("catalog-info.yaml"))],
    )
    .await
    .unwrap();
    let report = state.refresh(&locations).await.unwrap();
    assert!(!report.has_failures(), "demo ingestion failed");
    Demo { dir, state }
}

/// A server over the catalog file `file`, its store in `dir`.
pub(crate) async fn serving(dir: &Path, file: &Path) -> Arc<AppState> {
    let store = pave_store_sqlite::SqliteStore::open(&dir.join("pave.db"))
        .await
        .unwrap();
    let state = AppState::new(Arc::new(store), IngestConfig::default());
    let locations = pave_ingest::register(
        state.platform.store().as_ref(),
        &[Source::Path(file.to_owned())],
    )
    .await
    .unwrap();
    state.refresh(&locations).await.unwrap();
    state
}

pub(crate) struct Page {
    pub(crate) status: StatusCode,
    pub(crate) content_type: String,
    pub(crate) headers: axum::http::HeaderMap,
    pub(crate) body: String,
    pub(crate) bytes: Vec<u8>,
}

pub(crate) async fn get(state: &Arc<AppState>, uri: &str, htmx: bool) -> Page {
    let headers: &[(&str, &str)] = if htmx { &[("HX-Request", "true")] } else { &[] };
    get_with(state, uri, headers).await
}

/// `GET uri` with these request headers.
pub(crate) async fn get_with(state: &Arc<AppState>, uri: &str, headers: &[(&str, &str)]) -> Page {
    let mut request = Request::get(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = pave_server::router(Arc::clone(state))
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Page {
        status,
        content_type,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        bytes: bytes.to_vec(),
    }
}

/// Structural sanity: every page is a full document with the shared layout.
pub(crate) fn assert_layout(html: &str) {
    assert!(
        html.starts_with("<!doctype html>"),
        "{}",
        &html[..100.min(html.len())]
    );
    assert!(html.contains(r#"<a class="brand" href="/catalog""#));
    for nav in [
        r#"href="/catalog">Catalog</a>"#,
        r#"href="/catalog?kind=API">APIs</a>"#,
        r#"href="/catalog?kind=Group">Groups</a>"#,
        r#"href="/docs">Docs</a>"#,
    ] {
        assert!(html.contains(nav), "missing nav {nav}");
    }
    assert!(html.contains(r#"class="global-search""#));
    assert!(html.contains("/static/style.css?v="));
    assert!(html.contains("/static/htmx.min.js?v="));
    assert!(html.trim_end().ends_with("</html>"));
}
