//! The HTTP server: the Backstage-compatible catalog API, the portal, health, metrics and the
//! OpenAPI document. Handlers translate requests into calls on the application layer
//! (`pave_platform::Platform`) and render its snapshot; they keep no catalog state of
//! their own.

mod admission;
pub mod admission_server;
mod api;
mod auth;
pub mod browser;
pub mod checkpoints;
pub mod delivery;
mod error;
pub mod events;
pub(crate) mod guardrails;
mod jwks;
pub mod listener;
pub mod metrics;
mod oidc;
mod openapi;
pub mod portal;
pub(crate) mod search;
mod sessions;
pub mod slo;
pub mod tls;
mod work;
mod workload;

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use api::{entities, locations};
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use pave_auth::AccessPolicy;
use pave_catalog::Catalog;
use pave_ingest::{IngestConfig, IngestError, IngestReport};
use pave_platform::{Platform, Principal, Snapshot};
use pave_store::{LocationRow, Store};

pub use admission_server::AdmissionOptions;
pub use api::dora::{alert_query, dora_query};
pub use api::postmortems::POSTMORTEM_BODY_LIMIT;
pub use browser::BrowserOptions;
pub use delivery::DeliveryReports;
pub use error::ApiError;
pub use listener::Limits;
pub use portal::create::{CreatePush, DEFAULT_PUSH_IDENTITY, DEFAULT_PUSH_TIMEOUT};
pub use work::{WorkLimits, cores};

/// Shared server state: the platform, plus what only the server has (the admission policy
/// and the live SLO status reader).
pub struct AppState {
    pub platform: Arc<Platform>,
    /// The guardrails the admission webhook applies (swappable, like the snapshot).
    policy: RwLock<Arc<pave_policy::Policy>>,
    /// What the webhook answers when the policy cannot be evaluated (`--admission-failure-policy`).
    admission_failure: RwLock<pave_check::admission::FailurePolicy>,
    /// Live SLO status (`--prometheus-url`).
    live: RwLock<Option<Arc<slo::LiveStatus>>>,
    /// Heavy requests' own concurrency limit, and the caps on what a request may ask for.
    work: RwLock<Arc<work::HeavyWork>>,
    /// `auth:` of pave.yaml, checked; `None` (no section): every caller is the operator.
    access: RwLock<Option<Arc<AccessPolicy>>>,
    /// `auth.policy.rego`, loaded: decides instead of the built-in rules.
    authz: RwLock<Option<Arc<dyn pave_auth::ExternalPolicy>>>,
    /// Tokens' last recorded use and failed authentications not yet audited.
    auth_runtime: auth::AuthRuntime,
    /// The OpenID provider's discovery document and keys, as fetched.
    oidc: oidc::OidcRuntime,
    /// Where browsers reach this server (callback URL, cookie name).
    site: RwLock<oidc::PublicSite>,
    /// The workload issuers' keys, as fetched.
    workload: workload::WorkloadRuntime,
    /// `auth.audit.signingKey`, read at start: signs the audit chain's checkpoints.
    audit_key: RwLock<Option<Arc<pave_store::audit::SigningKey>>>,
    /// Where DORA reports, Delivery cards and incidents come from (the delivery ledger).
    delivery: RwLock<Option<Arc<dyn DeliveryReports>>>,
    /// `events:` of pave.yaml, running: the webhook intake and the ledger's processor.
    events: RwLock<Option<Arc<events::Events>>>,
    /// Shutting down: `/readyz` says not ready while requests are still served.
    draining: std::sync::atomic::AtomicBool,
    /// Docs folders' last-changed dates from git, reused for a minute.
    docs_freshness: portal::docs::FreshnessCache,
    /// Full-text search over entities and docs pages, kept in step with the snapshot.
    search: search::SearchState,
    /// Where the Create page pushes new repositories (`--create-push-url`), if anywhere.
    create_push: RwLock<Option<Arc<CreatePush>>>,
    /// Check reports the Guardrails tab parsed lately.
    parsed_reports: guardrails::ParsedReports,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, ingest: IngestConfig) -> Arc<Self> {
        Self::with_platform(Platform::new(store, ingest))
    }

    pub fn with_platform(platform: Arc<Platform>) -> Arc<Self> {
        Arc::new(AppState {
            platform,
            policy: RwLock::new(Arc::new(pave_policy::Policy::new(
                pave_policy::PolicyConfig::default(),
                pave_policy::Exceptions::default(),
            ))),
            admission_failure: RwLock::new(pave_check::admission::FailurePolicy::default()),
            live: RwLock::new(None),
            work: RwLock::new(Arc::new(work::HeavyWork::new(WorkLimits::default()))),
            access: RwLock::new(None),
            authz: RwLock::new(None),
            auth_runtime: auth::AuthRuntime::default(),
            oidc: oidc::OidcRuntime::default(),
            site: RwLock::new(oidc::PublicSite::default()),
            workload: workload::WorkloadRuntime::default(),
            audit_key: RwLock::new(None),
            delivery: RwLock::new(None),
            events: RwLock::new(None),
            draining: std::sync::atomic::AtomicBool::new(false),
            docs_freshness: portal::docs::FreshnessCache::default(),
            search: search::SearchState::default(),
            create_push: RwLock::new(None),
            parsed_reports: guardrails::ParsedReports::default(),
        })
    }

    /// Lets the Create page push new repositories as branches to `push`'s target, or
    /// (`None`) offer downloads only.
    pub fn set_create_push(&self, push: Option<CreatePush>) {
        let push = push.map(Arc::new);
        match self.create_push.write() {
            Ok(mut guard) => *guard = push,
            Err(poisoned) => *poisoned.into_inner() = push,
        }
    }

    pub(crate) fn create_push(&self) -> Option<Arc<CreatePush>> {
        match self.create_push.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Takes delivery events at `POST /api/events/{source}` into `events.intake`, and serves
    /// DORA reports, Delivery cards and incidents from `events.processor`'s ledger.
    pub fn set_events(&self, events: Option<events::Events>) {
        let events = events.map(Arc::new);
        let reports = events.as_ref().map(|e| {
            Arc::new(events::LedgerReports {
                processor: Arc::clone(&e.processor),
                platform: Arc::clone(&self.platform),
            }) as Arc<dyn DeliveryReports>
        });
        match self.events.write() {
            Ok(mut guard) => *guard = events,
            Err(poisoned) => *poisoned.into_inner() = events,
        }
        self.set_delivery_reports(reports);
    }

    /// The running intake and processor, when `events:` is configured.
    pub fn events(&self) -> Option<Arc<events::Events>> {
        match self.events.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Serves DORA reports, Delivery cards and incidents from `reports` (`None`: the API
    /// answers 404 and the portal shows no delivery data).
    pub fn set_delivery_reports(&self, reports: Option<Arc<dyn DeliveryReports>>) {
        match self.delivery.write() {
            Ok(mut guard) => *guard = reports,
            Err(poisoned) => *poisoned.into_inner() = reports,
        }
    }

    /// The delivery reports, if some were set.
    pub fn delivery_reports(&self) -> Option<Arc<dyn DeliveryReports>> {
        match self.delivery.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Where browsers reach this server: `--public-url` (if given) and whether the main
    /// listener speaks TLS. Decides the OIDC callback URL and the session cookie's name
    /// (`__Host-pave_session` over HTTPS).
    pub fn set_public_site(&self, url: Option<url::Url>, tls: bool) {
        let site = oidc::PublicSite { url, tls };
        match self.site.write() {
            Ok(mut guard) => *guard = site,
            Err(poisoned) => *poisoned.into_inner() = site,
        }
    }

    pub(crate) fn public_site(&self) -> oidc::PublicSite {
        match self.site.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub(crate) fn oidc_runtime(&self) -> &oidc::OidcRuntime {
        &self.oidc
    }

    pub(crate) fn workload_runtime(&self) -> &workload::WorkloadRuntime {
        &self.workload
    }

    /// The key checkpoints of the audit chain are signed with (`auth.audit.signingKey`);
    /// `None`: no checkpoints are written by the server.
    pub fn set_audit_signing_key(&self, key: Option<pave_store::audit::SigningKey>) {
        let key = key.map(Arc::new);
        match self.audit_key.write() {
            Ok(mut guard) => *guard = key,
            Err(poisoned) => *poisoned.into_inner() = key,
        }
    }

    pub(crate) fn audit_signing_key(&self) -> Option<Arc<pave_store::audit::SigningKey>> {
        match self.audit_key.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Turns authentication and authorization on (`Some`, from pave.yaml's `auth:`) or off.
    pub fn set_access_policy(&self, policy: Option<Arc<AccessPolicy>>) {
        match self.access.write() {
            Ok(mut guard) => *guard = policy,
            Err(poisoned) => *poisoned.into_inner() = policy,
        }
    }

    /// Lets `policy` (the loaded `auth.policy.rego`) decide instead of the built-in rules,
    /// or (`None`) the built-in rules alone.
    pub fn set_authorization_policy(&self, policy: Option<Arc<dyn pave_auth::ExternalPolicy>>) {
        match self.authz.write() {
            Ok(mut guard) => *guard = policy,
            Err(poisoned) => *poisoned.into_inner() = policy,
        }
    }

    pub(crate) fn authorization_policy(&self) -> Option<Arc<dyn pave_auth::ExternalPolicy>> {
        match self.authz.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub(crate) fn auth_runtime(&self) -> &auth::AuthRuntime {
        &self.auth_runtime
    }

    /// The access policy, when auth is on.
    pub fn access_policy(&self) -> Option<Arc<AccessPolicy>> {
        match self.access.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Sets how much work requests may cause (`--max-heavy-requests` and friends).
    pub fn set_work_limits(&self, limits: WorkLimits) {
        let work = Arc::new(work::HeavyWork::new(limits));
        match self.work.write() {
            Ok(mut guard) => *guard = work,
            Err(poisoned) => *poisoned.into_inner() = work,
        }
    }

    /// The concurrency limit heavy requests run under.
    pub(crate) fn heavy(&self) -> Arc<work::HeavyWork> {
        match self.work.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// The caps on what one catalog request may ask for.
    pub(crate) fn request_limits(&self) -> pave_catalog::query::RequestLimits {
        self.heavy().limits().request
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

    /// What the webhook answers when the policy cannot be evaluated for an object.
    pub fn admission_failure_policy(&self) -> pave_check::admission::FailurePolicy {
        match self.admission_failure.read() {
            Ok(guard) => *guard,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }

    /// Sets [`Self::admission_failure_policy`].
    pub fn set_admission_failure_policy(&self, failure: pave_check::admission::FailurePolicy) {
        match self.admission_failure.write() {
            Ok(mut guard) => *guard = failure,
            Err(poisoned) => *poisoned.into_inner() = failure,
        }
    }

    /// What readers see now: the catalog and its SLOs, built together.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.platform.snapshot()
    }

    /// The current index (cheap: an `Arc` clone).
    pub fn catalog(&self) -> Arc<Catalog> {
        Arc::clone(&self.snapshot().catalog)
    }

    /// The SLOs attached to entities (cheap: an `Arc` clone).
    pub fn slos(&self) -> Arc<pave_platform::SloIndex> {
        Arc::clone(&self.snapshot().slos)
    }

    /// Live SLO status, if a Prometheus was named.
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

    /// Starts keeping the search index in step with the catalog (idempotent; also started
    /// by the first search). Call from within the runtime after the first snapshot loads.
    pub fn start_search(self: &Arc<Self>) {
        search::start(self);
    }

    /// Rebuilds the snapshot from the store.
    ///
    /// # Errors
    /// As [`Platform::reload`].
    pub async fn reload(&self) -> Result<(), IngestError> {
        self.platform.reload().await
    }

    /// Reads `locations` (as the operator), then rebuilds the snapshot.
    ///
    /// # Errors
    /// As [`Platform::refresh`].
    pub async fn refresh(&self, locations: &[LocationRow]) -> Result<IngestReport, IngestError> {
        self.platform
            .refresh(&Principal::Operator, locations, None)
            .await
    }

    /// Reads every registered location (as the scheduler).
    ///
    /// # Errors
    /// As [`Platform::refresh`].
    pub async fn refresh_all(&self) -> Result<IngestReport, IngestError> {
        self.platform.refresh_all(&Principal::Scheduler).await
    }
}

/// Largest request body accepted (entity refs lists, validation requests).
pub const BODY_LIMIT: usize = 1024 * 1024;

/// Every route: API, portal, health, metrics, OpenAPI, with the default limits and
/// browser protections (what `serve` uses with its options).
pub fn router(state: Arc<AppState>) -> Router {
    app(state, &ServeOptions::default())
}

/// Every route, with `options`' request time limits, `Host` names, CORS origins and
/// webhook budget.
fn app(state: Arc<AppState>, options: &ServeOptions) -> Router {
    let (catalog, _) = routes(&state);
    let catalog = catalog
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(BODY_LIMIT));
    // Webhook deliveries have their own, larger limit (`events.bodyLimit`).
    let (deliveries, _) = events_routes(&state);
    let events_limit = events::body_limit(&state);
    let catalog = catalog.merge(
        deliveries
            .layer(DefaultBodyLimit::max(events_limit))
            .layer(tower_http::limit::RequestBodyLimitLayer::new(events_limit)),
    );
    // Posted postmortems too (`api::postmortems::POSTMORTEM_BODY_LIMIT`).
    let catalog = catalog.merge(api::postmortems::routes(&state).0);
    // Published check reports too (`pave_policy_output::MAX_REPORT_BYTES`, read by the
    // handler).
    let catalog = catalog.merge(api::guardrails::routes(&state).0);
    // The webhook keeps its path here for deployments that call the main port; its own
    // listener (`--admission-addr`) is what keeps reviews clear of catalog load.
    let evaluator = admission::Evaluator::new(options.admission.budget, options.admission.workers);
    let mut router = catalog
        .merge(admission_server::webhook(evaluator))
        .layer(axum::middleware::from_fn_with_state(
            options.limits.request,
            listener::limit_request_time,
        ))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            auth::authenticate,
        ))
        .layer(axum::middleware::from_fn(error::describe_errors));
    if let Some(cors) = options.browser.cors() {
        router = router.layer(cors);
    }
    router
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(options.browser.clone()),
            browser::check_host,
        ))
        .layer(axum::middleware::from_fn(browser::security_headers))
        .layer(portal_compression())
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Brotli or gzip, as the browser asks, for the portal's HTML, CSS, JavaScript and SVG. API
/// JSON goes as it is: a client reading thousands of entities would pay the CPU on every
/// read, and API clients on a cluster network gain little. Level 5 of either: the larger
/// levels cost several times the CPU for a few percent.
fn portal_compression()
-> tower_http::compression::CompressionLayer<impl tower_http::compression::Predicate> {
    use tower_http::compression::predicate::{Predicate as _, SizeAbove};
    let portal_types = |_: axum::http::StatusCode,
                        _: axum::http::Version,
                        headers: &axum::http::HeaderMap,
                        _: &axum::http::Extensions| {
        headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| {
                [
                    "text/html",
                    "text/css",
                    "text/javascript",
                    "application/javascript",
                    "image/svg+xml",
                ]
                .iter()
                .any(|portal| t.starts_with(portal))
            })
    };
    tower_http::compression::CompressionLayer::new()
        .quality(tower_http::CompressionLevel::Precise(5))
        .compress_when(SizeAbove::new(512).and(portal_types))
}

/// `POST /api/events/{source}`: public, because every sender authenticates its own way (the
/// intake checks signatures and secrets); see [`events`].
fn events_routes(state: &Arc<AppState>) -> (Router<Arc<AppState>>, Vec<auth::Declared>) {
    use axum::http::Method;
    auth::Routes::new(state, "")
        .route(
            "/api/events/{source}",
            Method::POST,
            auth::Access::Public,
            post(events::receive),
        )
        .into_parts()
}

/// Every route but the admission webhook's, each with its declared [`auth::Access`], and
/// the table of declarations. The webhook is excluded from user auth: the Kubernetes API
/// server calls it (over TLS) without user credentials.
fn routes(state: &Arc<AppState>) -> (Router<Arc<AppState>>, Vec<auth::Declared>) {
    use auth::Access::{InHandler, Public, Require};
    use axum::http::Method;
    use pave_auth::Permission as P;
    let read = Require(P::CatalogEntityRead);
    let locations_read = Require(P::CatalogLocationRead);
    // Literal segments (`by-query`, `by-entity`) are routes of their own, so they are never
    // read as a location `{id}`.
    let (api, mut table) = auth::Routes::new(state, "/api/catalog")
        .route("/entities", Method::GET, read, get(entities::entities))
        .route(
            "/entities/by-query",
            Method::GET,
            read,
            get(entities::by_query),
        )
        .route(
            "/entities/by-query",
            Method::POST,
            read,
            post(entities::query_by_predicate),
        )
        .route(
            "/entities/by-refs",
            Method::POST,
            read,
            post(entities::by_refs),
        )
        .route(
            "/entities/by-name/{kind}/{namespace}/{name}",
            Method::GET,
            read,
            get(entities::by_name),
        )
        .route(
            "/entities/by-name/{kind}/{namespace}/{name}/ancestry",
            Method::GET,
            read,
            get(entities::ancestry),
        )
        .route(
            "/entities/by-uid/{uid}",
            Method::GET,
            read,
            get(entities::by_uid),
        )
        .route(
            "/entities/by-uid/{uid}",
            Method::DELETE,
            Require(P::CatalogEntityDelete),
            delete(entities::delete_by_uid),
        )
        .route("/entity-facets", Method::GET, read, get(entities::facets))
        .route(
            "/entity-facets",
            Method::POST,
            read,
            post(entities::facets_by_predicate),
        )
        .route(
            "/validate-entity",
            Method::POST,
            read,
            post(entities::validate_entity),
        )
        .route(
            "/refresh",
            Method::POST,
            InHandler(P::CatalogEntityRefresh),
            post(entities::refresh),
        )
        .route(
            "/locations",
            Method::GET,
            locations_read,
            get(locations::list_locations),
        )
        .route(
            "/locations",
            Method::POST,
            InHandler(P::CatalogLocationCreate),
            post(locations::add_location),
        )
        .route(
            "/locations/by-query",
            Method::POST,
            locations_read,
            post(locations::query_locations),
        )
        .route(
            "/locations/by-entity/{kind}/{namespace}/{name}",
            Method::GET,
            locations_read,
            get(locations::location_by_entity),
        )
        .route(
            "/locations/{id}",
            Method::GET,
            locations_read,
            get(locations::get_location),
        )
        .route(
            "/locations/{id}",
            Method::PUT,
            InHandler(P::CatalogLocationCreate),
            put(locations::update_location),
        )
        .route(
            "/locations/{id}",
            Method::DELETE,
            InHandler(P::CatalogLocationDelete),
            delete(locations::delete_location),
        )
        .route(
            "/analyze-location",
            Method::POST,
            InHandler(P::CatalogLocationCreate),
            post(locations::analyze_location),
        )
        .map(|router| {
            router
                .method_not_allowed_fallback(|| async {
                    ApiError::MethodNotAllowed(
                        "That method is not allowed on this catalog route".into(),
                    )
                })
                .fallback(|| async { ApiError::NotFound("No such catalog route".into()) })
        })
        .into_parts();
    let _ = metrics::handle();
    let (portal, portal_table) = portal::routes(state);
    let (root, root_table) = auth::Routes::new(state, "")
        .route(
            "/api/openapi.json",
            Method::GET,
            Public,
            get(openapi::document),
        )
        .route(
            "/api/slo/gate/overrides",
            Method::POST,
            Require(P::SloGateOverride),
            post(api::gate::record_override),
        )
        .route(
            "/api/audit",
            Method::GET,
            Require(P::AuditRead),
            get(api::audit::list),
        )
        // Delivery figures are read like the catalog they are attributed to.
        .route("/api/dora", Method::GET, read, get(api::dora::dora))
        .route(
            "/api/incidents",
            Method::GET,
            read,
            get(api::dora::incidents),
        )
        .route(
            "/api/incidents/{id}",
            Method::GET,
            read,
            get(api::dora::incident),
        )
        .route("/api/alerts", Method::GET, read, get(api::dora::alerts))
        // Search shows entities and docs: read like the catalog.
        .route("/api/search", Method::GET, read, get(api::search::search))
        .route(
            "/api/audit/checkpoints",
            Method::POST,
            Require(P::Admin),
            post(api::checkpoints::create_checkpoint),
        )
        .route("/healthz", Method::GET, Public, get(|| async { "ok" }))
        .route("/readyz", Method::GET, Public, get(readyz))
        // Signing in and out is for those not (or no longer) signed in.
        .route(
            "/auth/sign-in",
            Method::GET,
            Public,
            get(oidc::sign_in_page),
        )
        .route("/auth/login", Method::GET, Public, get(oidc::login))
        .route("/auth/callback", Method::GET, Public, get(oidc::callback))
        .route("/auth/logout", Method::POST, Public, post(oidc::logout))
        // Metrics name entities and sources: administrators only when auth is on.
        .route(
            "/metrics",
            Method::GET,
            Require(P::Admin),
            get(metrics_text),
        )
        .into_parts();
    table.extend(root_table);
    table.extend(portal_table);
    let router = root.nest("/api/catalog", api).merge(portal);
    (router, table)
}

#[cfg(test)]
mod route_coverage {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use std::collections::BTreeSet;

    use super::*;

    /// Every operation of the OpenAPI document, and every portal page, is registered with a
    /// declared access; nothing is declared twice.
    #[test]
    fn every_route_declares_its_permission() {
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let store = rt
            .block_on(pave_store_sqlite::SqliteStore::open(
                &dir.path().join("p.db"),
            ))
            .unwrap();
        let state = AppState::new(Arc::new(store), IngestConfig::default());
        let (_, mut table) = routes(&state);
        table.extend(events_routes(&state).1);
        table.extend(api::postmortems::routes(&state).1);
        table.extend(api::guardrails::routes(&state).1);
        let declared: BTreeSet<(String, String)> = table
            .iter()
            .map(|d| (d.method.as_str().to_lowercase(), d.path.clone()))
            .collect();
        assert_eq!(declared.len(), table.len(), "a route is declared twice");
        let doc = serde_json::to_value(<openapi::ApiDoc as utoipa::OpenApi>::openapi()).unwrap();
        let mut operations = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                operations += 1;
                assert!(
                    declared.contains(&(method.clone(), path.clone())),
                    "{method} {path} is served but declares no permission"
                );
            }
        }
        assert!(operations >= 20, "{operations}");
        for page in [
            "/",
            "/catalog",
            "/catalog/{namespace}/{kind}/{name}",
            "/healthz",
            "/metrics",
            "/me",
            "/me/tokens",
            "/audit",
            "/api/audit",
            "/dora",
            "/dora/{namespace}/{kind}/{name}",
            "/api/dora",
            "/docs",
            "/catalog/{namespace}/{kind}/{name}/docs",
            "/catalog/{namespace}/{kind}/{name}/docs/{*page}",
            "/catalog/{namespace}/{kind}/{name}/docs-assets/{*path}",
            "/catalog/{namespace}/{kind}/{name}/definition",
            "/create",
            "/create/{template}",
            "/graph",
            "/search",
            "/search/suggest",
            "/api/search",
            "/locations",
            "/locations/problems",
            "/locations/register",
            "/locations/{id}/unregister",
        ] {
            assert!(declared.contains(&("get".into(), page.into())), "{page}");
        }
        // The operations pages' writes decide in the handler, with the location or entity
        // they touch, so that ownership counts and refusals are portal pages.
        for (path, permission) in [
            (
                "/locations/register",
                pave_auth::Permission::CatalogLocationCreate,
            ),
            (
                "/locations/{id}/refresh",
                pave_auth::Permission::CatalogEntityRefresh,
            ),
            (
                "/locations/{id}/unregister",
                pave_auth::Permission::CatalogLocationDelete,
            ),
            (
                "/catalog/{namespace}/{kind}/{name}/refresh",
                pave_auth::Permission::CatalogEntityRefresh,
            ),
        ] {
            let d = table
                .iter()
                .find(|d| d.path == path && d.method == axum::http::Method::POST)
                .unwrap();
            assert_eq!(d.access, auth::Access::InHandler(permission), "{path}");
        }
        // Search shows what the catalog shows: it needs exactly the catalog's permission.
        for path in ["/search", "/search/suggest", "/api/search"] {
            let d = table.iter().find(|d| d.path == path).unwrap();
            assert_eq!(
                d.access,
                auth::Access::Require(pave_auth::Permission::CatalogEntityRead),
                "{path}"
            );
        }
        // The only public routes are these; anything else must name a permission.
        let public: BTreeSet<&str> = table
            .iter()
            .filter(|d| d.access == auth::Access::Public)
            .map(|d| d.path.as_str())
            .collect();
        let want = BTreeSet::from([
            "/catalog/",
            "/static/{*path}",
            // The code highlighter's stylesheet: built from syntect's theme, like /static.
            "/docs-highlight.css",
            "/api/openapi.json",
            "/healthz",
            "/readyz",
            "/auth/sign-in",
            "/auth/login",
            "/auth/callback",
            "/auth/logout",
            "/api/events/{source}",
        ]);
        assert_eq!(public, want);
    }
}

/// Largest AdmissionReview accepted (objects are at most ~1.5 MiB in etcd, twice for updates).
pub const ADMISSION_BODY_LIMIT: usize = 8 * 1024 * 1024;

/// How long `/readyz` waits for the database.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// Ready means serving a loaded snapshot. A database that does not answer is reported (body
/// and `pave_database_up`) but does not take the server out of rotation: reads are served
/// from memory.
async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    if state.draining.load(std::sync::atomic::Ordering::Acquire) {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    }
    if !state.platform.is_loaded() {
        return (StatusCode::SERVICE_UNAVAILABLE, "catalog not loaded yet").into_response();
    }
    let check = tokio::time::timeout(READY_TIMEOUT, state.platform.store().locations()).await;
    let problem = match check {
        Ok(Ok(_)) => None,
        Ok(Err(e)) => Some(format!("database unavailable: {e}")),
        Err(_) => Some(format!(
            "database unavailable: no answer within {} s",
            READY_TIMEOUT.as_secs()
        )),
    };
    ::metrics::gauge!("pave_database_up").set(if problem.is_some() { 0.0 } else { 1.0 });
    match problem {
        None => "ready".into_response(),
        Some(problem) => {
            tracing::warn!("{problem}");
            format!("ready (serving the loaded catalog; {problem})").into_response()
        }
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

/// How often a server checks whether another replica changed the catalog.
const FOLLOW_EVERY: Duration = Duration::from_millis(500);

/// How `serve` runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub addr: SocketAddr,
    /// Re-ingest every registered location this often (None: never).
    pub refresh_interval: Option<Duration>,
    /// Serve HTTPS with these files instead of HTTP.
    pub tls: Option<tls::TlsFiles>,
    /// Timeouts and connection caps of the main listener.
    pub limits: Limits,
    /// `Host` names and CORS origins.
    pub browser: BrowserOptions,
    /// The admission webhook's listener and budget.
    pub admission: AdmissionOptions,
    /// How often the audit chain's checkpoints and retention are looked after.
    pub audit_upkeep: checkpoints::AuditUpkeep,
    /// How long to go on serving, not ready, after SIGTERM before closing the listeners, so
    /// that load balancers stop sending first (`--shutdown-delay`).
    pub shutdown_delay: Duration,
}

impl ServeOptions {
    /// Defaults everywhere but the address.
    pub fn new(addr: SocketAddr) -> Self {
        ServeOptions {
            addr,
            refresh_interval: None,
            tls: None,
            limits: Limits::default(),
            browser: BrowserOptions::default(),
            admission: AdmissionOptions::default(),
            audit_upkeep: checkpoints::AuditUpkeep::default(),
            shutdown_delay: Duration::ZERO,
        }
    }
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions::new(SocketAddr::from(([127, 0, 0, 1], 7007)))
    }
}

/// Where the server listens.
#[derive(Debug, Clone, Copy)]
pub struct Bound {
    /// The main listener (API, portal, health, metrics, and the webhook path).
    pub addr: SocketAddr,
    /// The admission webhook's own listener, if `--admission-addr` was given.
    pub admission: Option<SocketAddr>,
}

/// How often the metrics exporter folds recorded samples into its histograms (they are
/// kept until then; only a scrape did it before, so an unscraped server grew).
const METRICS_UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Serves until SIGTERM or Ctrl-C, then finishes in-flight requests. `on_bound` is told the
/// actual addresses (useful with port 0).
pub async fn serve(
    state: Arc<AppState>,
    options: ServeOptions,
    on_bound: impl FnOnce(Bound),
) -> std::io::Result<()> {
    // Checked before binding, so a bad certificate stops the server with a clear message.
    let tls_config = match &options.tls {
        Some(files) => Some(tls::server_config(files, None).map_err(std::io::Error::other)?),
        None => None,
    };
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let admission = match options.admission.addr {
        Some(addr) => {
            let files = options
                .admission
                .tls
                .clone()
                .or_else(|| options.tls.clone());
            Some(
                admission_server::start(
                    Arc::clone(&state),
                    addr,
                    options.admission.clone(),
                    files,
                    stopping.clone(),
                )
                .await?,
            )
        }
        None => None,
    };
    let tcp = tokio::net::TcpListener::bind(options.addr).await?;
    let addr = tcp.local_addr()?;
    let mut limits = options.limits.clone();
    let others = admission
        .as_ref()
        .map_or(0, |_| options.admission.limits.max_connections);
    limits.max_connections = listener::fit_to_open_files(limits.max_connections, others);
    on_bound(Bound {
        addr,
        admission: admission.as_ref().map(|a| a.addr),
    });
    tracing::info!(%addr, admission = ?admission.as_ref().map(|a| a.addr), "serving");
    // Replicas on one database: each follows the others' changes; one leads the schedule.
    let follower = tokio::spawn(Arc::clone(&state.platform).follow_changes(FOLLOW_EVERY));
    let refresher = options.refresh_interval.map(|interval| {
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticker.tick().await; // the first tick fires at once; the caller already ingested
            loop {
                ticker.tick().await;
                if !state.platform.is_leading() {
                    tracing::debug!("another replica runs the scheduled refreshes");
                    continue;
                }
                if let Err(e) = state.refresh_all().await {
                    tracing::error!(error = %e, "scheduled refresh failed");
                }
            }
        })
    });
    // One leader for the scheduled refreshes and the audit upkeep, renewed on its own clock.
    let leadership = tokio::spawn(Arc::clone(&state.platform).keep_the_lead());
    let audit = tokio::spawn(checkpoints::run_audit_upkeep(
        Arc::clone(&state),
        options.audit_upkeep,
    ));
    let upkeep = tokio::spawn(async {
        let mut ticker = tokio::time::interval(METRICS_UPKEEP_EVERY);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            metrics::handle().run_upkeep();
        }
    });
    let signal = {
        let state = Arc::clone(&state);
        let delay = options.shutdown_delay;
        tokio::spawn(async move {
            shutdown_signal().await;
            state
                .draining
                .store(true, std::sync::atomic::Ordering::Release);
            if !delay.is_zero() {
                // A load balancer takes a moment to see the pod go (Kubernetes removes its
                // endpoint while the pod already has SIGTERM): serve on, not ready, meanwhile.
                tracing::info!(
                    delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                    "not ready; serving on before closing the listeners"
                );
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    // A second signal stops at once.
                    () = shutdown_signal() => {}
                }
            }
            let _ = stop.send(true);
        })
    };
    state.set_public_site(options.browser.public_url().cloned(), tls_config.is_some());
    let state_for_shutdown = Arc::clone(&state);
    let app = app(state, &options);
    let main = listener::Listener {
        tcp,
        tls: tls_config,
        limits,
        name: "main",
    };
    main.run(app, stopping).await;
    if let Some(admission) = admission {
        admission.stopped().await;
    }
    if let Some(task) = refresher {
        task.abort();
    }
    follower.abort();
    leadership.abort();
    state_for_shutdown.platform.resign().await;
    audit.abort();
    upkeep.abort();
    signal.abort();
    tracing::info!("stopped");
    Ok(())
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
