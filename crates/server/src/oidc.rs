//! OpenID Connect sign-in for the portal: the authorization-code flow with PKCE against the
//! provider of `auth.oidc`. The deciding is `pave_auth::oidc` and `pave_auth::jwt`; this
//! module fetches, stores and answers.
//!
//! - `GET /auth/login?return=/path`: a fresh PKCE verifier, `state` and `nonce`; the sign-in
//!   is stored by the SHA-256 of its state (good once, ten minutes), the state is also put
//!   in a short-lived cookie (so a callback only completes in the browser that started it:
//!   no one can sign a victim in as themselves by sending a callback link), and the browser
//!   goes to the provider.
//! - `GET /auth/callback?code&state`: the sign-in is taken (a replayed or unknown state is a
//!   400 page and an `auth.failed` record), the code exchanged with the verifier, the ID
//!   token verified (signature with the cached JWKS, refreshed on an unknown `kid` at most
//!   once a minute; `iss`, `aud`, `exp`/`iat`, `nonce`), the identity resolved against the
//!   catalog; then a new session and `auth.sign_in` in one transaction, and a 303 to the
//!   return path (same-origin relative paths only).
//! - `POST /auth/logout` (CSRF-checked by the middleware): the session is deleted with
//!   `auth.sign_out`, the cookie cleared, and the browser sent to the provider's
//!   `end_session_endpoint` when it has one.
//! - `GET /auth/sign-in`: the sign-in page.
//!
//! The discovery document is fetched on first use (ten seconds at most) and kept.

use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pave_auth::JwtError;
use pave_auth::config::OidcConfig;
use pave_auth::oidc::{self, Discovery, TokenResponse};
use pave_auth::{AccessPolicy, Claims, Expected, SignIn, Subject};
use pave_platform::Principal;
use pave_store::LoginRow;
use pave_store::audit::Outcome;
use serde_json::json;
use url::Url;

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::jwks::{FETCH_MAX_BYTES, KeyError, KeySet};
use crate::portal::{Layout, PortalError, Section, render};
use crate::sessions::{self, CatalogDirectory, Session, SessionSubject};

/// How long a sign-in may take between `/auth/login` and the callback.
const LOGIN_TTL_MS: i64 = 10 * 60 * 1000;
/// The cookie tying a callback to the browser that started the sign-in.
const LOGIN_COOKIE_HOST: &str = "__Host-pave_login";
const LOGIN_COOKIE_PLAIN: &str = "pave_login";
/// The token exchange, whole.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// The provider as far as fetched: its discovery document and keys.
#[derive(Default)]
pub(crate) struct OidcRuntime {
    /// By issuer, so a changed configuration fetches again.
    discovery: tokio::sync::Mutex<Option<Arc<Discovery>>>,
    jwks: KeySet,
}

/// Where this server is reached (for the callback URL and the cookie's name).
#[derive(Debug, Clone, Default)]
pub(crate) struct PublicSite {
    /// `--public-url`.
    pub(crate) url: Option<Url>,
    /// TLS on the main listener.
    pub(crate) tls: bool,
}

impl PublicSite {
    /// Whether browsers reach pave over HTTPS (the `__Host-` cookie, `Secure`).
    pub(crate) fn https(&self) -> bool {
        self.tls || self.url.as_ref().is_some_and(|u| u.scheme() == "https")
    }

    /// The absolute URL of `path`: under `--public-url`, else the request's own `Host`
    /// (already checked against the allowed names by `browser::check_host`).
    fn absolute(&self, headers: &HeaderMap, path: &str) -> Result<String, SignInError> {
        if let Some(url) = &self.url {
            return url
                .join(path)
                .map(String::from)
                .map_err(|e| SignInError::Internal(format!("--public-url: {e}")));
        }
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .ok_or_else(|| SignInError::Failed("the request names no Host".into()))?;
        let scheme = if self.tls { "https" } else { "http" };
        Ok(format!("{scheme}://{host}{path}"))
    }
}

/// Why a sign-in step failed: shown on the 400 page and audited, or logged (internal).
#[derive(Debug)]
pub(crate) enum SignInError {
    /// The browser's request or the provider's answer was refused.
    Failed(String),
    /// The provider could not be reached or answered nonsense (502 page), or pave failed.
    Provider(String),
    Internal(String),
}

impl From<ApiError> for SignInError {
    fn from(e: ApiError) -> Self {
        SignInError::Internal(e.to_string())
    }
}

impl From<pave_store::StoreError> for SignInError {
    fn from(e: pave_store::StoreError) -> Self {
        SignInError::Internal(e.to_string())
    }
}

fn oidc_config(state: &AppState) -> Option<(Arc<AccessPolicy>, OidcConfig)> {
    let policy = state.access_policy()?;
    let config = policy.oidc.clone()?;
    Some((policy, config))
}

async fn fetch(url: &Url) -> Result<String, SignInError> {
    crate::jwks::fetch(url, "auth.oidc.issuer (https, or http on loopback)")
        .await
        .map_err(SignInError::Provider)
}

impl OidcRuntime {
    /// The provider's discovery document, fetched once.
    async fn discovery(&self, config: &OidcConfig) -> Result<Arc<Discovery>, SignInError> {
        let mut cached = self.discovery.lock().await;
        if let Some(d) = cached.as_ref().filter(|d| d.issuer == config.issuer) {
            return Ok(Arc::clone(d));
        }
        let base = config.issuer.trim_end_matches('/');
        let url = Url::parse(&format!("{base}/.well-known/openid-configuration"))
            .map_err(|e| SignInError::Provider(format!("auth.oidc.issuer: {e}")))?;
        let text = fetch(&url).await?;
        let discovery = Arc::new(
            Discovery::parse(&text, &config.issuer)
                .map_err(|e| SignInError::Provider(e.to_string()))?,
        );
        *cached = Some(Arc::clone(&discovery));
        Ok(discovery)
    }

    /// Verifies an ID token against the provider's keys (refreshed on an unknown `kid`, at
    /// most once a minute) and `expected`.
    async fn verify(
        &self,
        discovery: &Discovery,
        token: &str,
        expected: &Expected,
        now_secs: i64,
    ) -> Result<Claims, SignInError> {
        let setting = "auth.oidc.issuer (https, or http on loopback)";
        let verified = self
            .jwks
            .verify(
                &discovery.jwks_uri,
                setting,
                token,
                std::slice::from_ref(expected),
                now_secs,
            )
            .await;
        verified.map_err(|e| match e {
            KeyError::Refused(JwtError::UnknownKey { kid }) => SignInError::Failed(format!(
                "ID token: no key {} at the provider (keys are re-fetched at most once a minute)",
                kid.as_deref().unwrap_or("(no kid)")
            )),
            KeyError::Refused(e) => SignInError::Failed(format!("ID token: {e}")),
            KeyError::Unreachable(e) => SignInError::Provider(e),
        })
    }
}

fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The return path of a `return` parameter, if safe; else `/`.
fn return_path(raw: Option<&str>) -> String {
    raw.and_then(pave_auth::safe_return_path)
        .unwrap_or("/")
        .to_owned()
}

fn redirect(status: StatusCode, location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (status, [(header::LOCATION, value)]).into_response(),
        Err(_) => PortalError::Internal.into_response(),
    }
}

/// `GET /auth/login`: to the provider.
pub(crate) async fn login(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let Some((_, config)) = oidc_config(&state) else {
        return not_configured();
    };
    match start_login(&state, &config, &headers, raw.as_deref()).await {
        Ok(response) => response,
        Err(e) => failure_page(&state, None, e).await,
    }
}

async fn start_login(
    state: &AppState,
    config: &OidcConfig,
    headers: &HeaderMap,
    raw: Option<&str>,
) -> Result<Response, SignInError> {
    let pairs = query_pairs(raw);
    let return_to = return_path(param(&pairs, "return"));
    let discovery = state.oidc_runtime().discovery(config).await?;
    let internal = |e: pave_auth::OidcError| SignInError::Internal(e.to_string());
    let pkce = pave_auth::Pkce::generate().map_err(internal)?;
    let state_value = oidc::random_state().map_err(internal)?;
    let nonce = oidc::random_nonce().map_err(internal)?;
    let site = state.public_site();
    let redirect_uri = site.absolute(headers, "/auth/callback")?;
    let now = pave_ingest::now_millis();
    let row = LoginRow {
        state_hash: sessions::sha256_hex(&state_value),
        nonce: nonce.clone(),
        verifier: pkce.verifier.clone(),
        return_to,
        created_at: now,
    };
    state
        .platform
        .store()
        .put_login(&row, now - LOGIN_TTL_MS)
        .await?;
    let url = oidc::authorization_url(
        &discovery,
        &config.client_id,
        &redirect_uri,
        &config.scopes,
        &state_value,
        &nonce,
        &pkce,
    );
    let mut response = redirect(StatusCode::FOUND, &url);
    let cookie = sessions::set_cookie(
        login_cookie(site.https()),
        &state_value,
        site.https(),
        Some(LOGIN_TTL_MS / 1000),
    );
    response.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(response)
}

fn login_cookie(https: bool) -> &'static str {
    if https {
        LOGIN_COOKIE_HOST
    } else {
        LOGIN_COOKIE_PLAIN
    }
}

/// `GET /auth/callback`: the provider's answer.
pub(crate) async fn callback(
    State(state): State<Arc<AppState>>,
    Caller(principal): Caller,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let Some((policy, config)) = oidc_config(&state) else {
        return not_configured();
    };
    let https = state.public_site().https();
    let mut response = match finish_login(&state, &policy, &config, &principal, &headers, raw).await
    {
        Ok(response) => response,
        Err(e) => failure_page(&state, Some(&principal), e).await,
    };
    // The sign-in cookie is spent either way.
    let clear = sessions::set_cookie(login_cookie(https), "", https, Some(0));
    response.headers_mut().append(header::SET_COOKIE, clear);
    response
}

async fn finish_login(
    state: &AppState,
    policy: &AccessPolicy,
    config: &OidcConfig,
    principal: &Principal,
    headers: &HeaderMap,
    raw: Option<String>,
) -> Result<Response, SignInError> {
    let pairs = query_pairs(raw.as_deref());
    if let Some(error) = param(&pairs, "error") {
        let description = param(&pairs, "error_description").unwrap_or_default();
        return Err(SignInError::Failed(format!(
            "the provider answered {error} {description}"
        )));
    }
    let (Some(code), Some(state_value)) = (param(&pairs, "code"), param(&pairs, "state")) else {
        return Err(SignInError::Failed(
            "the callback lacks its code or state".into(),
        ));
    };
    let site = state.public_site();
    let store = state.platform.store();
    let login = store
        .take_login(&sessions::sha256_hex(state_value))
        .await?
        .ok_or_else(|| {
            SignInError::Failed("unknown or already used sign-in state (start again)".into())
        })?;
    let now = pave_ingest::now_millis();
    if login.created_at < now - LOGIN_TTL_MS {
        return Err(SignInError::Failed(
            "the sign-in took longer than 10 minutes (start again)".into(),
        ));
    }
    let bound = sessions::cookie(headers, login_cookie(site.https()))
        .is_some_and(|c| sessions::same_secret(&c, state_value));
    if !bound {
        return Err(SignInError::Failed(
            "this sign-in was started in another browser".into(),
        ));
    }
    let discovery = state.oidc_runtime().discovery(config).await?;
    let redirect_uri = site.absolute(headers, "/auth/callback")?;
    let secret = match &config.client_secret_env {
        Some(name) => Some(std::env::var(name).map_err(|_| {
            SignInError::Internal(format!(
                "auth.oidc.clientSecretEnv: the environment variable {name} is not set"
            ))
        })?),
        None => None,
    };
    let form = oidc::token_request_form(
        code,
        &login.verifier,
        &redirect_uri,
        &config.client_id,
        secret.as_deref(),
    );
    let tokens = exchange(&discovery, &form).await?;
    let expected = Expected::new(&config.issuer, &config.client_id).with_nonce(&login.nonce);
    let claims = state
        .oidc_runtime()
        .verify(&discovery, &tokens.id_token, &expected, now / 1000)
        .await?;
    let catalog = state.catalog();
    let dir = CatalogDirectory(&catalog);
    let named = match pave_auth::resolve_sign_in(config, &claims, &dir) {
        SignIn::User { user_ref, groups } => {
            let name = catalog_display_name(&catalog, &user_ref, &claims);
            let claim_groups = if config.groups_claim.is_some() {
                groups.into_iter().collect()
            } else {
                Vec::new()
            };
            SessionSubject {
                kind: "user".into(),
                user_ref,
                name,
                claim_groups,
                issuer: config.issuer.clone(),
                sub: claims.sub().unwrap_or_default().to_owned(),
            }
        }
        SignIn::Guest { display_name } => SessionSubject {
            kind: "guest".into(),
            user_ref: String::new(),
            name: display_name,
            claim_groups: Vec::new(),
            issuer: config.issuer.clone(),
            sub: claims.sub().unwrap_or_default().to_owned(),
        },
        SignIn::Refused(reason) => return Err(SignInError::Failed(reason)),
    };
    let subject = sessions::rebuild(state, policy, &named);
    let secret = sessions::random_secret()?;
    let csrf = sessions::random_secret()?;
    let row = sessions::new_row(policy, sessions::sha256_hex(&secret), csrf, &named, now)?;
    let signed_in = with_subject(principal, subject);
    let target = if named.user_ref.is_empty() {
        named.name.clone()
    } else {
        named.user_ref.clone()
    };
    let details =
        json!({"method": "oidc", "issuer": named.issuer, "sub": named.sub, "kind": named.kind});
    let event = signed_in.event("auth.sign_in", &target, Outcome::Success, details);
    store.put_session(&row, &[event]).await?;
    let mut response = redirect(StatusCode::SEE_OTHER, &login.return_to);
    let cookie = sessions::set_cookie(
        sessions::cookie_name(site.https()),
        &secret,
        site.https(),
        None,
    );
    response.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(response)
}

/// The User's `spec.profile.displayName`, else the token's name, else the ref.
fn catalog_display_name(
    catalog: &pave_catalog::Catalog,
    user_ref: &str,
    claims: &Claims,
) -> String {
    let from_catalog = catalog.get(user_ref).and_then(|r| {
        pave_catalog::query::Record::entity(r)["spec"]["profile"]["displayName"]
            .as_str()
            .map(str::to_owned)
    });
    from_catalog
        .or_else(|| claims.str("name").map(str::to_owned))
        .unwrap_or_else(|| user_ref.to_owned())
}

/// `principal`'s source and request id with `subject` as who acts.
fn with_subject(principal: &Principal, subject: Subject) -> Principal {
    match principal {
        Principal::Request(r) => {
            Principal::request(subject, r.source.clone(), r.request_id.clone())
        }
        _ => Principal::request(subject, None, None),
    }
}

/// The token endpoint's answer to `form`.
async fn exchange(
    discovery: &Discovery,
    form: &[(String, String)],
) -> Result<TokenResponse, SignInError> {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let url = &discovery.token_endpoint;
    let request = pave_http::Request {
        method: hyper::Method::POST,
        url,
        headers: &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("accept", "application/json"),
        ],
        body: body.into(),
        max_bytes: FETCH_MAX_BYTES,
    };
    let answer = tokio::time::timeout(FETCH_TIMEOUT, pave_http::exchange(request))
        .await
        .map_err(|_| SignInError::Provider(format!("{url} did not answer in time")))?
        .map_err(|e| SignInError::Provider(e.to_string()))?;
    let text = String::from_utf8_lossy(&answer.body);
    match TokenResponse::parse(&text) {
        Ok(tokens) if (200..300).contains(&answer.status) => Ok(tokens),
        Ok(_) => Err(SignInError::Provider(format!(
            "{url} answered HTTP {}",
            answer.status
        ))),
        Err(e @ pave_auth::OidcError::TokenEndpoint { .. }) => {
            Err(SignInError::Failed(e.to_string()))
        }
        Err(e) => Err(SignInError::Provider(e.to_string())),
    }
}

/// The 400 (or 502/500) page of a failed sign-in; refusals are audited (`auth.failed`,
/// rate-limited per address like bad tokens).
async fn failure_page(
    state: &AppState,
    principal: Option<&Principal>,
    error: SignInError,
) -> Response {
    let (status, message) = match error {
        SignInError::Failed(reason) => {
            let (source, id) = match principal {
                Some(Principal::Request(r)) => (r.source.clone(), r.request_id.clone()),
                _ => (None, None),
            };
            crate::auth::audit_failure(
                state,
                source,
                id.unwrap_or_default(),
                &format!("sign-in: {reason}"),
            )
            .await;
            (StatusCode::BAD_REQUEST, reason)
        }
        SignInError::Provider(reason) => {
            tracing::warn!(%reason, "OpenID provider");
            (
                StatusCode::BAD_GATEWAY,
                format!("the OpenID provider could not be used: {reason}"),
            )
        }
        SignInError::Internal(reason) => {
            tracing::error!(%reason, "sign-in");
            return PortalError::Internal.into_response();
        }
    };
    PortalError::SignInFailed { status, message }.into_response()
}

fn not_configured() -> Response {
    PortalError::PageNotFound("/auth (no auth.oidc in pave.yaml)".into()).into_response()
}

/// `POST /auth/logout`: ends the session (the middleware checked its CSRF token).
pub(crate) async fn logout(
    State(state): State<Arc<AppState>>,
    Caller(principal): Caller,
    session: Option<axum::Extension<Session>>,
) -> Response {
    let https = state.public_site().https();
    let mut target = "/".to_owned();
    if let Some(axum::Extension(session)) = session {
        let event = principal.event(
            "auth.sign_out",
            &principal.actor().id,
            Outcome::Success,
            json!({}),
        );
        if let Err(e) = state
            .platform
            .store()
            .delete_session(&session.id_hash, &[event])
            .await
        {
            return ApiError::from(e).into_response();
        }
    }
    let mut provider_logout = None;
    if let Some((_, config)) = oidc_config(&state) {
        target = "/auth/sign-in".into();
        if let Ok(discovery) = state.oidc_runtime().discovery(&config).await
            && let Some(url) = oidc::logout_url(
                &discovery,
                None,
                &config.client_id,
                config.post_logout_redirect.as_deref(),
            )
        {
            provider_logout = Some((config.issuer, url));
        }
    }
    // The provider's logout is reached by a page, not by redirecting the form's POST:
    // browsers apply the portal's CSP `form-action 'self'` to a form's redirects too.
    let mut response = match provider_logout {
        Some((issuer, provider_logout)) => render(&SignedOutPage {
            layout: Layout::new("Signed out", Section::Catalog),
            issuer,
            provider_logout,
        })
        .into_response(),
        None => redirect(StatusCode::SEE_OTHER, &target),
    };
    let clear = sessions::set_cookie(sessions::cookie_name(https), "", https, Some(0));
    response.headers_mut().append(header::SET_COOKIE, clear);
    response
}

#[derive(Template)]
#[template(path = "signed_out.html")]
struct SignedOutPage {
    layout: Layout,
    issuer: String,
    provider_logout: String,
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    layout: Layout,
    issuer: Option<String>,
    login_href: String,
}

/// `GET /auth/sign-in`: the sign-in page.
pub(crate) async fn sign_in_page(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Response {
    let pairs = query_pairs(raw.as_deref());
    let return_to = return_path(param(&pairs, "return"));
    let login_href = format!(
        "/auth/login?{}",
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("return", &return_to)
            .finish()
    );
    let page = SignInPage {
        layout: Layout::new("Sign in", Section::Catalog),
        issuer: oidc_config(&state).map(|(_, c)| c.issuer),
        login_href,
    };
    render(&page).into_response()
}
