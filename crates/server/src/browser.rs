//! What protects a browser user: the `Host` check against DNS rebinding, security headers on
//! every response, and CORS (off unless origins are configured).
//!
//! DNS rebinding: a page on `evil.example` re-resolves its own name to `127.0.0.1` and reads
//! the loopback-bound server as same-origin. The browser still sends `Host: evil.example`,
//! so a server that answers only the names it is known by cannot be read that way. Names
//! accepted: `localhost`, the host of `--public-url`, and each `--allowed-host`. Addresses
//! written as IP literals (`127.0.0.1:7007`, `[::1]`, a pod IP a probe or Prometheus
//! uses) are accepted too: a page can only send them when it was itself loaded from that
//! address, which makes it same-origin with pave, not an attacker's. Ports are not compared
//! (`kubectl port-forward` and container port mappings change them; the attack is in the
//! name). The admission webhook path is exempt: the API server sends the Service name.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// `Content-Security-Policy` of every response: the portal's own scripts, styles and
/// images only (plus `data:` images: the stylesheet draws the select arrow with one; an
/// image cannot run script), no inline script or style, no framing, forms and fetches to
/// pave only.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Why the browser settings are unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BrowserError {
    #[error("--public-url `{0}`: {1}")]
    PublicUrl(String, String),
    #[error("--allowed-host `{0}`: {1}")]
    AllowedHost(String, String),
    #[error("--cors-origin `{0}`: {1}")]
    CorsOrigin(String, String),
}

/// Which `Host` names and CORS origins the main listener accepts.
#[derive(Debug, Clone, Default)]
pub struct BrowserOptions {
    /// Lower-case host names (no port) besides `localhost` and IP literals.
    hosts: Vec<String>,
    /// `--allowed-host '*'`: no `Host` check (a proxy in front checks it).
    any_host: bool,
    /// Exact origins (`https://app.example.com`) allowed to read responses cross-origin.
    cors_origins: Vec<HeaderValue>,
    /// `--public-url`, for the OIDC callback URL and the session cookie.
    public_url: Option<url::Url>,
}

impl BrowserOptions {
    /// Checks and gathers `--public-url`, `--allowed-host` and `--cors-origin`.
    ///
    /// # Errors
    /// A public URL that is not `http(s)://host…`, a host with a scheme, path or space, an
    /// origin that is not `scheme://host[:port]`.
    pub fn new(
        public_url: Option<&str>,
        allowed_hosts: &[String],
        cors_origins: &[String],
    ) -> Result<Self, BrowserError> {
        let mut options = BrowserOptions::default();
        if let Some(raw) = public_url {
            let bad = |why: &str| BrowserError::PublicUrl(raw.to_owned(), why.to_owned());
            let url = url::Url::parse(raw).map_err(|e| bad(&e.to_string()))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(bad("use an http:// or https:// URL"));
            }
            let host = url.host_str().ok_or_else(|| bad("the URL has no host"))?;
            options.hosts.push(normalize(host.trim_matches(['[', ']'])));
            options.public_url = Some(url.clone());
        }
        for raw in allowed_hosts {
            let host = raw.trim();
            if host == "*" {
                options.any_host = true;
                continue;
            }
            let bad = |why: &str| BrowserError::AllowedHost(raw.clone(), why.to_owned());
            if host.is_empty() || host.contains("://") || host.contains(['/', ' ', '@', '?', '#']) {
                return Err(bad(
                    "give a host name (`pave.example.com`), without scheme, port or path",
                ));
            }
            options.hosts.push(normalize(host_without_port(host)));
        }
        for raw in cors_origins {
            let bad = |why: &str| BrowserError::CorsOrigin(raw.clone(), why.to_owned());
            let url = url::Url::parse(raw).map_err(|e| bad(&e.to_string()))?;
            let origin = url.origin().ascii_serialization();
            if origin == "null" || !matches!(url.scheme(), "http" | "https") {
                return Err(bad("give an http(s) origin (`https://app.example.com`)"));
            }
            if origin != raw.trim_end_matches('/') {
                return Err(bad(&format!(
                    "an origin is scheme://host[:port] only (did you mean `{origin}`?)"
                )));
            }
            let value = HeaderValue::from_str(&origin).map_err(|e| bad(&e.to_string()))?;
            options.cors_origins.push(value);
        }
        Ok(options)
    }

    /// Whether a request for `host` (a `Host` header value) is answered.
    pub fn allows_host(&self, host: &str) -> bool {
        if self.any_host {
            return true;
        }
        let name = normalize(host_without_port(host.trim()));
        let literal = match name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
            Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
            None => name.parse::<std::net::Ipv4Addr>().is_ok(),
        };
        name == "localhost" || literal || self.hosts.contains(&name)
    }

    /// `--public-url`, if given.
    pub fn public_url(&self) -> Option<&url::Url> {
        self.public_url.as_ref()
    }

    /// The origins allowed to read responses cross-origin (none: CORS off).
    pub fn cors_origins(&self) -> &[HeaderValue] {
        &self.cors_origins
    }

    /// The CORS layer, when origins are configured.
    pub(crate) fn cors(&self) -> Option<CorsLayer> {
        if self.cors_origins.is_empty() {
            return None;
        }
        Some(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(self.cors_origins.clone()))
                .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
                .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
                .max_age(Duration::from_secs(600)),
        )
    }
}

/// Lower case, no trailing dot (`Example.COM.` is `example.com`).
fn normalize(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// `host:port` → `host`; `[::1]:7007` → `[::1]`; a bare IPv6 address stays whole.
fn host_without_port(host: &str) -> &str {
    if host.starts_with('[') {
        return match host.find(']') {
            Some(end) => &host[..=end],
            None => host,
        };
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    }
}

/// The host a request names: the authority of an absolute-form target, else `Host`.
fn requested_host<'a>(uri: &'a Uri, headers: &'a HeaderMap) -> Option<&'a str> {
    if let Some(authority) = uri.authority() {
        return Some(authority.as_str());
    }
    headers
        .get(header::HOST)
        .map(|v| v.to_str().unwrap_or("\u{fffd}"))
}

/// Router middleware: 421 for a host pave is not known by. Requests without a `Host`
/// (HTTP/1.0 tools) pass: browsers always send one.
pub(crate) async fn check_host(
    State(options): State<Arc<BrowserOptions>>,
    request: Request,
    next: Next,
) -> Response {
    if request.uri().path() == pave_check::admission::WEBHOOK_PATH {
        return next.run(request).await;
    }
    match requested_host(request.uri(), request.headers()) {
        Some(host) if !options.allows_host(host) => {
            metrics::counter!("pave_http_foreign_host_total").increment(1);
            let shown: String = host.chars().take(100).collect();
            (
                StatusCode::MISDIRECTED_REQUEST,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                format!(
                    "pave does not answer for the host `{shown}` (a protection against DNS rebinding). \
                     If pave is reached under this name, start it with --public-url https://{shown} \
                     or --allowed-host {shown}.\n"
                ),
            )
                .into_response()
        }
        _ => next.run(request).await,
    }
}

/// Router middleware: the security headers, on every response that does not set its own.
pub(crate) async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = [
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
    ];
    for (name, value) in set {
        headers.entry(name).or_insert(value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(public: Option<&str>, hosts: &[&str]) -> BrowserOptions {
        let hosts: Vec<String> = hosts.iter().map(|h| (*h).to_owned()).collect();
        BrowserOptions::new(public, &hosts, &[]).unwrap()
    }

    #[test]
    fn loopback_names_and_addresses_pass_foreign_names_do_not() {
        let o = options(None, &[]);
        for ok in [
            "localhost",
            "localhost:7007",
            "LOCALHOST.:8080",
            "127.0.0.1",
            "127.0.0.1:7007",
            "[::1]",
            "[::1]:7007",
            "10.1.2.3:7007",
        ] {
            assert!(o.allows_host(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:7007",
            "localhost.evil.example",
            "127.0.0.1.nip.io",
            "",
            "[::1",
            "::1",
        ] {
            assert!(!o.allows_host(bad), "{bad}");
        }
    }

    #[test]
    fn the_public_url_and_allowed_hosts_pass() {
        let o = options(
            Some("https://Pave.Example.com/portal"),
            &["pave.pave-system.svc"],
        );
        assert!(o.allows_host("pave.example.com"));
        assert!(o.allows_host("pave.example.com:443"));
        assert!(o.allows_host("pave.pave-system.svc:7007"));
        assert!(!o.allows_host("example.com"));
        assert!(options(None, &["*"]).allows_host("anything.example"));
    }

    #[test]
    fn bad_settings_are_refused_with_the_flag() {
        let err = BrowserOptions::new(Some("pave.example.com"), &[], &[]).unwrap_err();
        assert!(err.to_string().starts_with("--public-url"), "{err}");
        let err = BrowserOptions::new(None, &["https://x".into()], &[]).unwrap_err();
        assert!(err.to_string().starts_with("--allowed-host"), "{err}");
        let err = BrowserOptions::new(None, &[], &["https://app.example/x".into()]).unwrap_err();
        assert!(
            err.to_string()
                .contains("did you mean `https://app.example`"),
            "{err}"
        );
        let ok = BrowserOptions::new(None, &[], &["https://app.example/".into()]).unwrap();
        assert!(ok.cors().is_some());
        assert!(BrowserOptions::default().cors().is_none());
    }
}
