//! Authentication and authorization at the HTTP edge (when pave.yaml has an `auth:`
//! section; without one every caller is the operator, as before, and the server listens on
//! loopback only unless `--insecure-no-auth`).
//!
//! - [`authenticate`], around the whole router: `Authorization: Bearer pave_…` → the token's
//!   hash → the store → a [`Subject`]; `Bearer <JWT>` from an `auth.workload` issuer → a
//!   workload subject (`workload.rs`); no credentials → anonymous; bad ones → 401 and a
//!   rate-limited `auth.failed` audit record. The [`Principal`] goes into the request's
//!   extensions, where handlers read it through [`Caller`].
//! - [`Routes`]: every route is registered with its [`Access`], so none exists without one
//!   (a test compares the table with the OpenAPI document). `Require` routes are checked
//!   before the handler with [`Resource::None`]; `InHandler` routes, whose decision depends
//!   on what they touch, call [`check`] with the resource themselves.
//! - The admission webhook route is not registered here: the Kubernetes API server calls
//!   it over TLS and carries no user credentials (docs/operations.md, "Access control").

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use pave_auth::{AccessPolicy, Permission, Resource, Subject, SubjectKind, TokenDigest, TokenHash};
use pave_platform::Principal;
use pave_store::audit::Outcome;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiError;
use crate::sessions;
use crate::workload::WorkloadFailure;

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Anyone (health, the OpenAPI document, static assets, redirects).
    Public,
    /// `permission` on no resource in particular, checked before the handler runs.
    Require(Permission),
    /// `permission`, checked by the handler with the resource it touches (ownership).
    InHandler(Permission),
}

/// A route's declaration, for the route-coverage test and the docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Declared {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) access: Access,
}

/// A router under construction whose every route declares its [`Access`].
pub(crate) struct Routes {
    state: Arc<AppState>,
    prefix: &'static str,
    router: Router<Arc<AppState>>,
    table: Vec<Declared>,
}

impl Routes {
    /// Routes that will be nested under `prefix` (`""` for the root).
    pub(crate) fn new(state: &Arc<AppState>, prefix: &'static str) -> Self {
        Routes {
            state: Arc::clone(state),
            prefix,
            router: Router::new(),
            table: Vec::new(),
        }
    }

    /// Registers `handler` (one method's router, e.g. `get(f)`) for `method` on `path`.
    pub(crate) fn route(
        mut self,
        path: &str,
        method: Method,
        access: Access,
        handler: MethodRouter<Arc<AppState>>,
    ) -> Self {
        self.table.push(Declared {
            method,
            path: format!("{}{path}", self.prefix),
            access,
        });
        let handler = match access {
            Access::Public => handler,
            access => {
                let guarded = Guarded {
                    state: Arc::clone(&self.state),
                    access,
                };
                handler.route_layer(axum::middleware::from_fn_with_state(guarded, guard))
            }
        };
        self.router = self.router.route(path, handler);
        self
    }

    /// Applies `f` to the router (fallbacks, layers), keeping the table.
    pub(crate) fn map(
        mut self,
        f: impl FnOnce(Router<Arc<AppState>>) -> Router<Arc<AppState>>,
    ) -> Self {
        self.router = f(self.router);
        self
    }

    pub(crate) fn into_parts(self) -> (Router<Arc<AppState>>, Vec<Declared>) {
        (self.router, self.table)
    }
}

/// In-memory bookkeeping: tokens looked up lately, and failed authentications per client
/// address not yet audited.
#[derive(Default)]
pub(crate) struct AuthRuntime {
    failures: Mutex<HashMap<String, FailureWindow>>,
    /// Tokens looked up lately, by their SHA-256: the database is asked again after
    /// [`TOKEN_CACHE_FOR`], so a token revoked elsewhere (the CLI, another replica) stops
    /// working within that time; one revoked through this server stops at once.
    tokens: Mutex<HashMap<TokenDigest, (Instant, Arc<CachedToken>), DigestHash>>,
}

/// Hashes a SHA-256 digest by its first eight bytes: they are already uniform, and only
/// tokens found in the database are ever inserted, so no caller can crowd a bucket. SipHash
/// over the hex text was a tenth of the authentication's cost per request.
#[derive(Default)]
struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes.iter().take(8) {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
}

type DigestHash = BuildHasherDefault<DigestHasher>;

/// A looked-up token with the subject it authenticates, built once per lookup rather than
/// once per request: the per-request cost of authentication is the budget.
pub(crate) struct CachedToken {
    row: pave_store::TokenRow,
    subject: Arc<Subject>,
    /// When its last use was last written (Unix ms; 0: not by this process), carried from
    /// one lookup of the token to the next.
    touched_at: AtomicI64,
}

impl CachedToken {
    fn new(row: pave_store::TokenRow) -> Self {
        let owner = (!row.owner.is_empty()).then_some(row.owner.as_str());
        let subject = Arc::new(Subject::token(&row.id, &row.name, owner, &row.role));
        CachedToken {
            row,
            subject,
            touched_at: AtomicI64::new(0),
        }
    }

    /// Whether to write its last use at `now` (Unix ms): at most once per [`TOUCH_EVERY`].
    fn should_touch(&self, now: i64) -> bool {
        let last = self.touched_at.load(Ordering::Relaxed);
        let every = i64::try_from(TOUCH_EVERY.as_millis()).unwrap_or(i64::MAX);
        now.saturating_sub(last) >= every
            && self
                .touched_at
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

struct FailureWindow {
    recorded: Instant,
    /// Failures since the last record, not recorded themselves.
    suppressed: u64,
}

/// A token's last use is written at most this often.
const TOUCH_EVERY: Duration = Duration::from_secs(60);
/// At most one `auth.failed` record per client address this often.
const FAILURE_RECORD_EVERY: Duration = Duration::from_secs(10);
/// How long a looked-up token is trusted without asking the database again: a lookup costs
/// about 90 µs per request (bench/auth.sh), the budget for all of authentication is 20.
pub(crate) const TOKEN_CACHE_FOR: Duration = Duration::from_secs(5);
/// Entries kept at most in each map, so a flood of addresses cannot grow them unbounded.
const MAX_TRACKED: usize = 100_000;

impl AuthRuntime {
    /// The token cached for `digest`, if looked up less than [`TOKEN_CACHE_FOR`] ago.
    fn cached_token(&self, digest: &TokenDigest, now: Instant) -> Option<Arc<CachedToken>> {
        let tokens = lock(&self.tokens);
        tokens
            .get(digest)
            .filter(|(at, _)| now.duration_since(*at) < TOKEN_CACHE_FOR)
            .map(|(_, cached)| Arc::clone(cached))
    }

    /// Caches a token just looked up, keeping when its last use was written.
    fn cache_token(&self, digest: TokenDigest, cached: Arc<CachedToken>, now: Instant) {
        let mut tokens = lock(&self.tokens);
        if let Some((_, previous)) = tokens.get(&digest)
            && previous.row.id == cached.row.id
        {
            let touched = previous.touched_at.load(Ordering::Relaxed);
            cached.touched_at.store(touched, Ordering::Relaxed);
        }
        if tokens.len() >= MAX_TRACKED {
            tokens.retain(|_, (at, _)| now.duration_since(*at) < TOKEN_CACHE_FOR);
        }
        tokens.insert(digest, (now, cached));
    }

    /// Forgets token `id` at once (it was revoked here).
    pub(crate) fn forget_token(&self, id: &str) {
        lock(&self.tokens).retain(|_, (_, cached)| cached.row.id != id);
    }

    /// `Some(failures not recorded since the last record)` when a record is due for `client`.
    fn failure_due(&self, client: &str, now: Instant) -> Option<u64> {
        let mut failures = lock(&self.failures);
        match failures.get_mut(client) {
            Some(window) if now.duration_since(window.recorded) < FAILURE_RECORD_EVERY => {
                window.suppressed += 1;
                None
            }
            Some(window) => {
                let suppressed = window.suppressed;
                *window = FailureWindow {
                    recorded: now,
                    suppressed: 0,
                };
                Some(suppressed)
            }
            None => {
                if failures.len() >= MAX_TRACKED {
                    failures.retain(|_, w| now.duration_since(w.recorded) < FAILURE_RECORD_EVERY);
                }
                let window = FailureWindow {
                    recorded: now,
                    suppressed: 0,
                };
                failures.insert(client.to_owned(), window);
                Some(0)
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// A request id: unique within this process, ordered, and unguessable enough for logs:
/// the process's start (8 hex digits) and a counter (at least 6). Written by hand, as the
/// formatting machinery cost more than the rest of the request id's work.
fn request_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    static START: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let start = *START
        .get_or_init(|| u64::try_from(pave_ingest::now_millis()).unwrap_or_default() & 0xffff_ffff);
    let next = NEXT.fetch_add(1, Ordering::Relaxed);
    let mut id = String::with_capacity(24);
    push_hex(&mut id, start, 8);
    id.push('-');
    let digits = (64 - next.leading_zeros()).div_ceil(4).max(6);
    push_hex(&mut id, next, digits);
    id
}

/// The low `digits` hex digits of `value`, zero-padded.
fn push_hex(out: &mut String, value: u64, digits: u32) {
    for shift in (0..digits).rev() {
        let nibble = (value >> (shift * 4)) & 0xf;
        out.push(char::from(b"0123456789abcdef"[nibble as usize]));
    }
}

/// The client's address as text; IPv4 without the formatting machinery (see [`request_id`]).
fn address_text(ip: std::net::IpAddr) -> String {
    let std::net::IpAddr::V4(v4) = ip else {
        return ip.to_string();
    };
    let mut text = String::with_capacity(15);
    for (i, octet) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            text.push('.');
        }
        if octet >= 100 {
            text.push(char::from(b'0' + octet / 100));
        }
        if octet >= 10 {
            text.push(char::from(b'0' + octet / 10 % 10));
        }
        text.push(char::from(b'0' + octet % 10));
    }
    text
}

/// Why credentials were refused (the 401's message and the audit record's reason; never
/// the secret).
fn refusal(reason: &str) -> ApiError {
    ApiError::Unauthenticated(reason.to_owned())
}

/// Who the portal's pages show as signed in, and the CSRF token their forms carry.
#[derive(Debug, Clone, Default)]
pub(crate) struct Viewer {
    pub(crate) name: Option<String>,
    pub(crate) csrf: String,
    /// Whether the header links the Locations and Problems pages (`catalog.location.read`).
    pub(crate) locations: bool,
}

/// Whether `path` is one of the portal's pages, whose layout needs a [`Viewer`] (the API,
/// assets and probes need none, and their authentication stays as cheap as it was).
fn is_portal_page(path: &str) -> bool {
    !(path == "/api"
        || path.starts_with("/api/")
        || path.starts_with("/static/")
        || matches!(path, "/healthz" | "/readyz" | "/metrics"))
}

tokio::task_local! {
    /// Set around each request by [`authenticate`], so the shared page layout shows
    /// "signed in as" without every page handler passing the caller through.
    pub(crate) static VIEWER: Viewer;
}

/// Authenticates the request (when auth is on) and puts its [`Principal`] in the request's
/// extensions: a bearer token, else the session cookie (whose non-GET requests must carry
/// the session's CSRF token), else anonymous.
pub(crate) async fn authenticate(
    State(state): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(policy) = state.access_policy() else {
        request.extensions_mut().insert(Principal::Operator);
        if is_portal_page(request.uri().path()) {
            // Auth off: the operator may do everything, and the header says so.
            let viewer = Viewer {
                locations: true,
                ..Viewer::default()
            };
            return VIEWER.scope(viewer, next.run(request)).await;
        }
        return next.run(request).await;
    };
    let source = request
        .extensions()
        .get::<crate::listener::ConnectionInfo>()
        .map(|info| address_text(info.peer.ip()));
    let id = request_id();
    let credentials = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or_default().to_owned())
        // On the events routes a `Bearer` that is no pave credential is a source's shared
        // secret (Alertmanager, Argo CD, CDEvents senders): the intake checks it.
        .filter(|value| {
            !crate::events::is_events_path(request.uri().path()) || is_pave_credential(value)
        });
    let mut session = None;
    let subject: Result<Arc<Subject>, Failure> = match credentials {
        Some(value) => token_subject(&state, &value).await,
        None => {
            let name = sessions::cookie_name(state.public_site().https());
            match sessions::cookie(request.headers(), name) {
                None => Ok(Arc::new(Subject::anonymous())),
                Some(secret) => {
                    let now = pave_ingest::now_millis();
                    match sessions::session_subject(&state, &policy, &secret, now).await {
                        Ok(Ok((subject, found))) => {
                            session = Some(found);
                            Ok(Arc::new(subject))
                        }
                        // An ended session is no credential: the caller signs in again.
                        Ok(Err(_)) => Ok(Arc::new(Subject::anonymous())),
                        Err(e) => Err(Failure::Store(e)),
                    }
                }
            }
        }
    };
    match subject {
        Ok(subject) => {
            if let Some(found) = &session
                && !is_safe_method(request.method())
            {
                let (checked, ok) = csrf_checked(request, &found.csrf).await;
                request = checked;
                if !ok {
                    let reason = "a signed-in browser's form or request without its CSRF token \
                                  (the csrf field or X-CSRF-Token header)";
                    let principal = Principal::request(subject, source, Some(id));
                    let target = request.uri().path().to_owned();
                    let event = principal.event(
                        "auth.denied",
                        &target,
                        Outcome::Denied,
                        json!({"reason": reason}),
                    );
                    if let Err(e) = state.platform.store().append_audit(&[event]).await {
                        tracing::error!(error = %e, "cannot append the CSRF refusal's audit record");
                    }
                    return ApiError::Forbidden(format!("refused: {reason}")).into_response();
                }
            }
            let page = is_portal_page(request.uri().path());
            let name = session.as_ref().map(|_| subject.display_name.clone());
            let principal = Principal::request(subject, source, Some(id));
            // The header's operations links, for those who may follow them (decided as the
            // pages decide, without recording a refusal: nobody asked for anything yet).
            let locations = page
                && may(
                    &state,
                    &principal,
                    Permission::CatalogLocationRead,
                    &Resource::None,
                )
                .await;
            request.extensions_mut().insert(principal);
            let viewer = (page || session.is_some()).then(|| Viewer {
                name,
                csrf: session
                    .as_ref()
                    .map(|found| found.csrf.clone())
                    .unwrap_or_default(),
                locations,
            });
            if let Some(found) = session {
                request.extensions_mut().insert(found);
            }
            match viewer {
                Some(viewer) => VIEWER.scope(viewer, next.run(request)).await,
                // An API call without a session: nothing renders a layout.
                None => next.run(request).await,
            }
        }
        Err(Failure::Refused(reason)) => {
            audit_failure(&state, source, id, &reason).await;
            refusal(&reason).into_response()
        }
        Err(Failure::Store(e)) => e.into_response(),
    }
}

fn is_safe_method(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Largest form body read for its CSRF field.
const CSRF_FORM_LIMIT: usize = 64 * 1024;

/// Whether the request carries `csrf` (the `X-CSRF-Token` header, or the `csrf` field of a
/// form body, which is read and put back).
async fn csrf_checked(request: Request, csrf: &str) -> (Request, bool) {
    if let Some(value) = request.headers().get("x-csrf-token") {
        let ok = value
            .to_str()
            .is_ok_and(|v| sessions::same_secret(v.trim(), csrf));
        return (request, ok);
    }
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return (request, false);
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, CSRF_FORM_LIMIT).await else {
        return (Request::from_parts(parts, axum::body::Body::empty()), false);
    };
    let ok = url::form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == "csrf")
        .is_some_and(|(_, v)| sessions::same_secret(&v, csrf));
    (
        Request::from_parts(parts, axum::body::Body::from(bytes)),
        ok,
    )
}

/// Whether an `Authorization` value carries a pave API token or a workload token (JWT).
fn is_pave_credential(value: &str) -> bool {
    match value.split_once(' ') {
        Some((scheme, secret)) if scheme.eq_ignore_ascii_case("bearer") => {
            let secret = secret.trim();
            secret.starts_with("pave_") || crate::workload::looks_like_jwt(secret)
        }
        _ => false,
    }
}

enum Failure {
    Refused(String),
    Store(ApiError),
}

async fn token_subject(state: &AppState, value: &str) -> Result<Arc<Subject>, Failure> {
    let secret = match value.split_once(' ') {
        Some((scheme, secret)) if scheme.eq_ignore_ascii_case("bearer") => secret.trim(),
        _ => {
            return Err(Failure::Refused(
                "the Authorization header must be `Bearer pave_…` (an API token) or `Bearer <JWT>` (a workload token)".into(),
            ));
        }
    };
    if crate::workload::looks_like_jwt(secret) {
        let Some(policy) = state.access_policy() else {
            return Err(Failure::Refused("auth is off".into()));
        };
        let now = pave_ingest::now_millis() / 1000;
        return state
            .workload_runtime()
            .subject(state, &policy, secret, now)
            .await
            .map(Arc::new)
            .map_err(|e| match e {
                WorkloadFailure::Refused(reason) => Failure::Refused(reason),
                WorkloadFailure::Unreachable(reason) => {
                    tracing::warn!(%reason, "workload token not checked");
                    Failure::Store(ApiError::Unavailable(reason))
                }
            });
    }
    let store = state.platform.store();
    let runtime = state.auth_runtime();
    let cached = match runtime.cached_token(&TokenHash::cache_key(secret), Instant::now()) {
        Some(cached) => cached,
        None => {
            // Malformed secrets are refused before any database lookup.
            let digest =
                TokenHash::digest_of(secret).map_err(|e| Failure::Refused(e.to_string()))?;
            let hash = TokenHash::from_digest(&digest);
            let row = store
                .token_by_hash(hash.as_str())
                .await
                .map_err(|e| Failure::Store(e.into()))?
                .ok_or_else(|| Failure::Refused("unknown token".into()))?;
            let cached = Arc::new(CachedToken::new(row));
            runtime.cache_token(digest, Arc::clone(&cached), Instant::now());
            cached
        }
    };
    let row = &cached.row;
    let now = pave_ingest::now_millis();
    if row.revoked_at.is_some() {
        return Err(Failure::Refused(format!("token {} is revoked", row.name)));
    }
    if row.expires_at <= now {
        return Err(Failure::Refused(format!("token {} has expired", row.name)));
    }
    if cached.should_touch(now)
        && let Err(e) = store.touch_token(&row.id, now).await
    {
        tracing::warn!(error = %e, token = %row.id, "cannot record the token's last use");
    }
    Ok(Arc::clone(&cached.subject))
}

/// Appends `auth.failed` for `source`, at most once per address per
/// [`FAILURE_RECORD_EVERY`], counting the failures in between in the next record.
pub(crate) async fn audit_failure(
    state: &AppState,
    source: Option<String>,
    id: String,
    reason: &str,
) {
    let client = source.clone().unwrap_or_default();
    let Some(suppressed) = state.auth_runtime().failure_due(&client, Instant::now()) else {
        return;
    };
    let principal = Principal::request(Subject::anonymous(), source, Some(id));
    let mut details = json!({"reason": reason});
    if suppressed > 0 {
        details["unrecordedFailures"] = json!(suppressed);
    }
    let event = principal.event("auth.failed", &client, Outcome::Denied, details);
    if let Err(e) = state.platform.store().append_audit(&[event]).await {
        tracing::error!(error = %e, "cannot append the auth.failed audit record");
    }
}

/// The caller of a request: what [`authenticate`] put in the extensions, or, where it did not
/// run, the operator when auth is off and anonymous when it is on (fail closed).
pub(crate) struct Caller(pub(crate) Principal);

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        Ok(Caller(caller(&parts.extensions, state)))
    }
}

fn caller(extensions: &axum::http::Extensions, state: &AppState) -> Principal {
    match extensions.get::<Principal>() {
        Some(principal) => principal.clone(),
        None if state.access_policy().is_some() => {
            Principal::request(Subject::anonymous(), None, None)
        }
        None => Principal::Operator,
    }
}

/// The per-route check of [`Access::Require`] (and, for anonymous callers, of
/// [`Access::InHandler`]: they are asked to authenticate before anything is read).
#[derive(Clone)]
struct Guarded {
    state: Arc<AppState>,
    access: Access,
}

async fn guard(
    State(Guarded { state, access }): State<Guarded>,
    request: Request,
    next: Next,
) -> Response {
    let principal = caller(request.extensions(), &state);
    let outcome = match access {
        Access::Public => Ok(()),
        Access::Require(permission) => {
            check(&state, &principal, permission, &Resource::None, "").await
        }
        Access::InHandler(permission) => match state.access_policy() {
            Some(_) if principal.subject().kind == SubjectKind::Anonymous => {
                Err(unauthenticated(permission))
            }
            _ => Ok(()),
        },
    };
    match outcome {
        Ok(()) => next.run(request).await,
        Err(ApiError::Unauthenticated(_)) if wants_sign_in_page(&state, &request) => {
            let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
            let target = format!(
                "/auth/sign-in?{}",
                url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("return", path)
                    .finish()
            );
            axum::response::Redirect::to(&target).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// Whether an unauthenticated request is a browser's page view that should go to the
/// sign-in page (OIDC configured, GET, not the API, HTML accepted) rather than get a 401.
fn wants_sign_in_page(state: &AppState, request: &Request) -> bool {
    let html = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    let path = request.uri().path();
    html && request.method() == Method::GET
        && !(path == "/api" || path.starts_with("/api/"))
        && state.access_policy().is_some_and(|p| p.oidc.is_some())
}

fn unauthenticated(permission: Permission) -> ApiError {
    ApiError::Unauthenticated(format!(
        "authentication required: {permission} needs a signed-in identity or an API token (Authorization: Bearer pave_…)"
    ))
}

/// Whether `principal` may do `permission` to `resource` (always, when auth is off): a
/// denial is audited (`target`: what was refused) and answered 403 naming the permission
/// and the reason, or 401 for an anonymous caller.
pub(crate) async fn check(
    state: &AppState,
    principal: &Principal,
    permission: Permission,
    resource: &Resource,
    target: &str,
) -> Result<(), ApiError> {
    let Some(decision) = decide(state, principal, permission, resource).await? else {
        return Ok(());
    };
    if decision.allowed {
        return Ok(());
    }
    let subject = principal.subject();
    if subject.kind == SubjectKind::Anonymous {
        return Err(unauthenticated(permission));
    }
    let details = json!({"permission": permission.name(), "reason": decision.reason});
    let event = principal.event("auth.denied", target, Outcome::Denied, details);
    if let Err(e) = state.platform.store().append_audit(&[event]).await {
        tracing::error!(error = %e, "cannot append the denial's audit record");
    }
    Err(ApiError::Forbidden(format!(
        "{permission} denied: {}",
        decision.reason
    )))
}

/// Whether `principal` may do `permission` to `resource`, decided exactly as [`check`]
/// decides but recording nothing: for showing a button or a link, never for doing the
/// thing (the handler behind the button calls [`check`]). A failing policy says no.
pub(crate) async fn may(
    state: &AppState,
    principal: &Principal,
    permission: Permission,
    resource: &Resource,
) -> bool {
    match decide(state, principal, permission, resource).await {
        Ok(None) => true,
        Ok(Some(decision)) => decision.allowed,
        Err(_) => false,
    }
}

/// The decision on `permission`, or `None` when it is allowed without a sentence saying
/// why (auth off, or a role granting it outright).
async fn decide(
    state: &AppState,
    principal: &Principal,
    permission: Permission,
    resource: &Resource,
) -> Result<Option<pave_auth::Decision>, ApiError> {
    let Some(policy) = state.access_policy() else {
        return Ok(None);
    };
    let subject = principal.subject();
    let external = state.authorization_policy();
    // Most requests are allowed by a role outright: that needs no sentence saying why.
    if external.is_none() && pave_auth::allowed_outright(&policy, &subject, permission) {
        return Ok(None);
    }
    let decision = match external {
        None => pave_auth::authorize(&policy, &subject, permission, resource),
        // Rego runs on its own evaluation thread and may take up to its time limit: off
        // the request's runtime thread.
        Some(external) => {
            let (subject, resource) = (subject.as_ref().clone(), resource.clone());
            tokio::task::spawn_blocking(move || {
                pave_auth::authorize_with(
                    &policy,
                    Some(external.as_ref()),
                    &subject,
                    permission,
                    &resource,
                )
            })
            .await
            .map_err(|e| ApiError::Internal(format!("the authorization policy failed: {e}")))?
        }
    };
    Ok(Some(decision))
}

/// The owners of an entity (its `ownedBy` relations' targets) as rendered.
pub(crate) fn owners_of(entity: &Value) -> Vec<String> {
    entity["relations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["type"] == "ownedBy")
        .filter_map(|r| r["targetRef"].as_str().map(str::to_owned))
        .collect()
}

/// The resource of an entity in the current snapshot.
pub(crate) fn entity_resource(state: &AppState, key: &str) -> Resource {
    let catalog = state.catalog();
    let owners = catalog
        .get(key)
        .map(|record| owners_of(&pave_catalog::query::Record::entity(record)))
        .unwrap_or_default();
    Resource::Entity {
        entity_ref: key.to_owned(),
        owners,
    }
}

/// Whether auth is on; handlers skip building resources when it is not.
pub(crate) fn enabled(state: &AppState) -> Option<Arc<AccessPolicy>> {
    state.access_policy()
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;

    #[test]
    fn hand_written_hex_is_what_format_writes() {
        for value in [
            0u64,
            1,
            0xabc,
            0xff_ffff,
            0x100_0000,
            0xdead_beef_cafe,
            u64::MAX,
        ] {
            let mut text = String::new();
            let digits = (64 - value.leading_zeros()).div_ceil(4).max(6);
            push_hex(&mut text, value, digits);
            assert_eq!(text, format!("{value:06x}"));
            let mut eight = String::new();
            push_hex(&mut eight, value & 0xffff_ffff, 8);
            assert_eq!(eight, format!("{:08x}", value & 0xffff_ffff));
        }
        let (a, b) = (request_id(), request_id());
        assert!(a < b, "request ids are ordered: {a} then {b}");
        assert_eq!(a.split_once('-').map(|(start, _)| start.len()), Some(8));
    }

    #[test]
    fn addresses_read_as_std_writes_them() {
        for text in [
            "0.0.0.0",
            "127.0.0.1",
            "10.20.255.9",
            "192.168.100.1",
            "::1",
            "fe80::1",
        ] {
            let ip: IpAddr = text.parse().unwrap();
            assert_eq!(address_text(ip), ip.to_string());
        }
    }

    #[test]
    fn a_digest_hashes_by_its_leading_bytes() {
        let mut a = DigestHasher::default();
        a.write(&[1, 2, 3, 4, 5, 6, 7, 8, 9]);
        let mut b = DigestHasher::default();
        b.write(&[1, 2, 3, 4, 5, 6, 7, 8, 10]);
        assert_eq!(a.finish(), b.finish());
        assert_eq!(a.finish(), 0x0102_0304_0506_0708);
    }

    #[test]
    fn a_token_is_touched_once_per_interval() {
        let row = pave_store::TokenRow {
            id: "t1".into(),
            name: "ci".into(),
            owner: String::new(),
            role: "viewer".into(),
            hash: "0".repeat(64),
            created_at: 0,
            expires_at: i64::MAX,
            last_used_at: None,
            revoked_at: None,
        };
        let cached = CachedToken::new(row);
        let every = i64::try_from(TOUCH_EVERY.as_millis()).unwrap();
        let start = 1_000_000_000;
        assert!(cached.should_touch(start));
        assert!(!cached.should_touch(start + 1));
        assert!(!cached.should_touch(start + every - 1));
        assert!(cached.should_touch(start + every));
    }
}
