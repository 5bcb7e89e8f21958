//! The HTTP server: the Backstage-compatible catalog API, the portal, health, metrics and the
//! OpenAPI document, over one shared in-memory catalog index.
//!
//! The store is the source of truth; the index (`pave_catalog::Catalog`) is rebuilt from it
//! after every change and swapped in atomically, so reads never wait for ingestion.

mod admission;
mod api;
mod error;
pub mod metrics;
mod openapi;
mod operations;
pub mod portal;
pub mod slo;
pub mod tls;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use api::{entities, locations};
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use pave_catalog::Catalog;
use pave_ingest::{IngestConfig, IngestError, IngestReport};
use pave_store::{LocationRow, Store};

pub use error::ApiError;
pub use operations::{AncestryLink, LocationError};

/// Shared server state.
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub ingest: IngestConfig,
    catalog: RwLock<Arc<Catalog>>,
    /// One ingestion (or other catalog write) at a time; readers never take it.
    pub(crate) refresh_lock: tokio::sync::Mutex<()>,
    ready: AtomicBool,
    /// The guardrails the admission webhook applies (swappable, like the catalog index).
    policy: RwLock<Arc<pave_policy::Policy>>,
    /// SLOs attached to entities (`pave.dev/slo`), rebuilt with the index.
    slos: RwLock<Arc<slo::SloIndex>>,
    /// Live SLO status (`--prometheus-url`).
    live: RwLock<Option<Arc<slo::LiveStatus>>>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, ingest: IngestConfig) -> Arc<Self> {
        Arc::new(AppState {
            store,
            ingest,
            catalog: RwLock::new(Arc::new(Catalog::default())),
            refresh_lock: tokio::sync::Mutex::new(()),
            ready: AtomicBool::new(false),
            policy: RwLock::new(Arc::new(pave_policy::Policy::new(
                pave_policy::PolicyConfig::default(),
                pave_policy::Exceptions::default(),
            ))),
            slos: RwLock::new(Arc::new(slo::SloIndex::default())),
            live: RwLock::new(None),
        })
    }

    /// The policy the admission webhook applies.
    pub fn policy(&self) -> Arc<pave_policy::Policy> {
        match self.policy.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Replaces the admission policy (configuration, exceptions, custom rules).
    pub fn set_policy(&self, policy: pave_policy::Policy) {
        let policy = Arc::new(policy);
        match self.policy.write() {
            Ok(mut guard) => *guard = policy,
            Err(poisoned) => *poisoned.into_inner() = policy,
        }
    }

    /// The SLOs attached to entities (cheap: an `Arc` clone).
    pub fn slos(&self) -> Arc<slo::SloIndex> {
        match self.slos.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Where live SLO status is read from, if anywhere.
    pub fn live_status(&self) -> Option<Arc<slo::LiveStatus>> {
        match self.live.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Reads live SLO status from the Prometheus at `url` (`pave serve --prometheus-url`).
    ///
    /// # Errors
    /// When the URL is not a usable Prometheus address.
    pub fn set_prometheus_url(&self, url: &str) -> Result<(), pave_prometheus::Error> {
        let live = Some(Arc::new(slo::LiveStatus::new(url)?));
        match self.live.write() {
            Ok(mut guard) => *guard = live,
            Err(poisoned) => *poisoned.into_inner() = live,
        }
        Ok(())
    }

    /// Re-reads the SLO specs entities name (after ingestion; the specs may have changed
    /// even when the entities did not).
    async fn rebuild_slos(&self) {
        let catalog = self.catalog();
        let git_cache = self.ingest.git_cache.clone();
        let built =
            tokio::task::spawn_blocking(move || slo::SloIndex::build(&catalog, &git_cache)).await;
        let index = match built {
            Ok(index) => Arc::new(index),
            Err(e) => {
                tracing::error!(error = %e, "reading SLO specs failed");
                return;
            }
        };
        if !index.is_empty() {
            tracing::info!(entities = index.len(), "SLO specs read");
        }
        match self.slos.write() {
            Ok(mut guard) => *guard = index,
            Err(poisoned) => *poisoned.into_inner() = index,
        }
    }

    /// The current index (cheap: an `Arc` clone).
    pub fn catalog(&self) -> Arc<Catalog> {
        match self.catalog.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Rebuilds the index from the store and swaps it in.
    ///
    /// # Errors
    /// When the store cannot be read or building the index failed; the old index stays.
    pub async fn reload(&self) -> Result<(), IngestError> {
        let started = Instant::now();
        let catalog = pave_ingest::load_catalog(self.store.as_ref()).await?;
        record_catalog_metrics(&catalog);
        let entities = catalog.len();
        match self.catalog.write() {
            Ok(mut guard) => *guard = Arc::new(catalog),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(catalog),
        }
        self.rebuild_slos().await;
        self.ready.store(true, Ordering::Release);
        tracing::info!(
            entities,
            elapsed_ms = started.elapsed().as_millis() as u64,
            rss_mb = resident_mb(),
            "catalog index rebuilt"
        );
        Ok(())
    }

    /// Unregisters a location and drops its entities. Holds the refresh lock so that a refresh
    /// running now does not write entities for a location that is gone (its batch would fail
    /// and lose every other location's refresh).
    pub async fn remove_location(&self, id: &str) -> Result<bool, IngestError> {
        let _guard = self.refresh_lock.lock().await;
        if !self.store.delete_location(id).await? {
            return Ok(false);
        }
        self.reload().await?;
        Ok(true)
    }

    /// Ingests `locations`, then rebuilds the index.
    pub async fn refresh(&self, locations: &[LocationRow]) -> Result<IngestReport, IngestError> {
        let _guard = self.refresh_lock.lock().await;
        let started = Instant::now();
        let result = pave_ingest::ingest(self.store.as_ref(), &self.ingest, locations, None).await;
        ::metrics::histogram!("pave_ingest_duration_seconds")
            .record(started.elapsed().as_secs_f64());
        let report = match result {
            Ok(report) => report,
            Err(e) => {
                ::metrics::counter!("pave_ingest_runs_total", "outcome" => "error").increment(1);
                return Err(e);
            }
        };
        let totals = report.totals();
        let outcome = if report.has_failures() {
            "partial"
        } else {
            "ok"
        };
        ::metrics::counter!("pave_ingest_runs_total", "outcome" => outcome).increment(1);
        ::metrics::counter!("pave_ingest_rejected_total").increment(totals.rejected as u64);
        for d in report.diagnostics().filter(|d| d.is_error()).take(20) {
            tracing::warn!("{d}");
        }
        tracing::info!(
            added = totals.added,
            updated = totals.updated,
            removed = totals.removed,
            rejected = totals.rejected,
            errors = totals.errors,
            elapsed_ms = report.duration_ms,
            rss_mb = resident_mb(),
            "ingestion finished"
        );
        let changed = totals.added + totals.updated + totals.removed > 0;
        if changed || !self.ready.load(Ordering::Acquire) {
            self.reload().await?;
        } else {
            self.rebuild_slos().await;
        }
        Ok(report)
    }

    /// Ingests every registered location.
    pub async fn refresh_all(&self) -> Result<IngestReport, IngestError> {
        let locations = self.store.locations().await?;
        self.refresh(&locations).await
    }
}

/// Resident memory in MiB (Linux; 0 elsewhere), for logs.
fn resident_mb() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096 / (1024 * 1024))
}

fn record_catalog_metrics(catalog: &Catalog) {
    ::metrics::gauge!("pave_catalog_entities_total").set(catalog.len() as f64);
    let kinds = catalog.facets(None, None, &["kind".to_owned()]);
    for (kind, count) in kinds.into_iter().flat_map(|(_, values)| values) {
        ::metrics::gauge!("pave_catalog_entities", "kind" => kind).set(count as f64);
    }
}

/// Largest request body accepted (entity refs lists, validation requests).
pub const BODY_LIMIT: usize = 1024 * 1024;

/// Every route: API, portal, health, metrics, OpenAPI.
pub fn router(state: Arc<AppState>) -> Router {
    // Literal segments (`by-query`, `by-entity`) are routes of their own, so they are never
    // read as a location `{id}`.
    let api = Router::new()
        .route("/entities", get(entities::entities))
        .route(
            "/entities/by-query",
            get(entities::by_query).post(entities::query_by_predicate),
        )
        .route("/entities/by-refs", post(entities::by_refs))
        .route(
            "/entities/by-name/{kind}/{namespace}/{name}",
            get(entities::by_name),
        )
        .route(
            "/entities/by-name/{kind}/{namespace}/{name}/ancestry",
            get(entities::ancestry),
        )
        .route(
            "/entities/by-uid/{uid}",
            get(entities::by_uid).delete(entities::delete_by_uid),
        )
        .route(
            "/entity-facets",
            get(entities::facets).post(entities::facets_by_predicate),
        )
        .route("/validate-entity", post(entities::validate_entity))
        .route("/refresh", post(entities::refresh))
        .route(
            "/locations",
            get(locations::list_locations).post(locations::add_location),
        )
        .route("/locations/by-query", post(locations::query_locations))
        .route(
            "/locations/by-entity/{kind}/{namespace}/{name}",
            get(locations::location_by_entity),
        )
        .route(
            "/locations/{id}",
            get(locations::get_location)
                .put(locations::update_location)
                .delete(locations::delete_location),
        )
        .route("/analyze-location", post(locations::analyze_location))
        .method_not_allowed_fallback(|| async {
            ApiError::MethodNotAllowed("That method is not allowed on this catalog route".into())
        })
        .fallback(|| async { ApiError::NotFound("No such catalog route".into()) });
    let _ = metrics::handle();
    let catalog = Router::new()
        .nest("/api/catalog", api)
        .route("/api/openapi.json", get(openapi::document))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .merge(portal::router())
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(BODY_LIMIT));
    // AdmissionReviews carry the object and its previous version: allow more.
    let admission = Router::new()
        .route(
            pave_check::admission::WEBHOOK_PATH,
            post(admission::validate),
        )
        .layer(DefaultBodyLimit::max(ADMISSION_BODY_LIMIT))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            ADMISSION_BODY_LIMIT,
        ));
    catalog
        .merge(admission)
        .layer(axum::middleware::from_fn(error::describe_errors))
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Largest AdmissionReview accepted (objects are at most ~1.5 MiB in etcd, twice for updates).
pub const ADMISSION_BODY_LIMIT: usize = 8 * 1024 * 1024;

async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    if !state.ready.load(Ordering::Acquire) {
        return (StatusCode::SERVICE_UNAVAILABLE, "catalog not loaded yet").into_response();
    }
    match state.store.locations().await {
        Ok(_) => "ready".into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("database unavailable: {e}"),
        )
            .into_response(),
    }
}

async fn metrics_text() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        metrics::handle().render(),
    )
        .into_response()
}

/// How `serve` runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub addr: SocketAddr,
    /// Re-ingest every registered location this often (None: never).
    pub refresh_interval: Option<Duration>,
    /// Serve HTTPS with these files instead of HTTP.
    pub tls: Option<tls::TlsFiles>,
}

/// Serves until SIGTERM or Ctrl-C, then finishes in-flight requests. `on_bound` is told the
/// actual address (useful with port 0).
pub async fn serve(
    state: Arc<AppState>,
    options: ServeOptions,
    on_bound: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    // Checked before binding, so a bad certificate stops the server with a clear message.
    let tls_config = match &options.tls {
        Some(files) => Some(tls::server_config(files).map_err(std::io::Error::other)?),
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(options.addr).await?;
    let addr = listener.local_addr()?;
    on_bound(addr);
    tracing::info!(%addr, "serving");
    let refresher = options.refresh_interval.map(|interval| {
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticker.tick().await; // the first tick fires at once; the caller already ingested
            loop {
                ticker.tick().await;
                if let Err(e) = state.refresh_all().await {
                    tracing::error!(error = %e, "scheduled refresh failed");
                }
            }
        })
    });
    let app = router(state).into_make_service();
    let result = match tls_config {
        Some(config) => {
            axum::serve(tls::TlsListener::new(listener, config)?, app)
                .with_graceful_shutdown(shutdown_signal())
                .await
        }
        None => {
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown_signal())
                .await
        }
    };
    if let Some(task) = refresher {
        task.abort();
    }
    tracing::info!("stopped");
    result
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
