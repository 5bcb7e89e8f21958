//! Fetching an issuer's documents and keeping its signing keys: shared by OIDC sign-in
//! (`oidc.rs`) and workload tokens (`workload.rs`). The refresh rule is
//! `pave_auth::JwksCache`'s: an unknown `kid` fetches the key set again at most once a minute,
//! and the fetch happens under the cache's lock, so a flood of made-up `kid`s costs one fetch.

use std::time::Duration;

use pave_auth::jwt::{peek_header, verify_with_key};
use pave_auth::{Claims, Expected, Jwks, JwksCache, JwtError, Lookup};
use url::Url;

/// Each request to an issuer, whole.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// Discovery documents, key sets and token responses are small.
pub(crate) const FETCH_MAX_BYTES: usize = 1024 * 1024;

/// Why a token could not be verified.
#[derive(Debug)]
pub(crate) enum KeyError {
    /// The token was refused (the message names why).
    Refused(JwtError),
    /// The issuer's key set could not be fetched or read.
    Unreachable(String),
}

fn https_or_loopback(url: &Url) -> bool {
    match (url.scheme(), url.host()) {
        ("https", _) => true,
        ("http", Some(url::Host::Domain(d))) => d == "localhost",
        ("http", Some(url::Host::Ipv4(ip))) => ip.is_loopback(),
        ("http", Some(url::Host::Ipv6(ip))) => ip.is_loopback(),
        _ => false,
    }
}

/// GETs `url` (https, or http on loopback) as text; `setting` names what configured it.
pub(crate) async fn fetch(url: &Url, setting: &'static str) -> Result<String, String> {
    let options = pave_http::GetOptions {
        timeout: FETCH_TIMEOUT,
        max_bytes: FETCH_MAX_BYTES,
        max_redirects: 3,
        allow: &https_or_loopback,
        allow_setting: setting,
        // The issuer is what the administrator configured; any address it resolves to.
        check_address: &|_, _| Ok(()),
    };
    let fetched = pave_http::get(url, &options)
        .await
        .map_err(|e| e.to_string())?;
    String::from_utf8(fetched.body.to_vec()).map_err(|_| format!("{url} answered with non-UTF-8"))
}

/// One issuer's signing keys, as last fetched.
#[derive(Default)]
pub(crate) struct KeySet {
    /// Held across a refresh, so concurrent unknown `kid`s wait for one fetch.
    state: tokio::sync::Mutex<Keys>,
}

#[derive(Default)]
struct Keys {
    cache: JwksCache,
    /// Why the last fetch failed (cleared by a good one): until the next allowed fetch, an
    /// unknown `kid` is reported as the issuer being unreachable, not as a bad token.
    failed: Option<String>,
}

impl KeySet {
    /// Verifies `token` against the keys at `jwks_uri` (fetched when a `kid` is unknown, at
    /// most once a minute) and `expected`, at `now_secs`.
    pub(crate) async fn verify(
        &self,
        jwks_uri: &Url,
        setting: &'static str,
        token: &str,
        expected: &[Expected],
        now_secs: i64,
    ) -> Result<Claims, KeyError> {
        let header = peek_header(token).map_err(KeyError::Refused)?;
        let mut keys = self.state.lock().await;
        let Keys { cache, failed } = &mut *keys;
        for _ in 0..2 {
            match cache.lookup(header.kid.as_deref(), header.alg, now_secs) {
                Lookup::Found(key) => return verify_any(token, key, expected, now_secs),
                Lookup::Refresh => {
                    let fetched = fetch(jwks_uri, setting)
                        .await
                        .and_then(|text| Jwks::parse(&text).map_err(|e| format!("the JWKS: {e}")));
                    match fetched {
                        Ok(jwks) => {
                            cache.update(jwks, now_secs);
                            *failed = None;
                        }
                        Err(e) => {
                            *failed = Some(e.clone());
                            return Err(KeyError::Unreachable(e));
                        }
                    }
                }
                Lookup::Unknown => break,
            }
        }
        if let Some(e) = failed {
            return Err(KeyError::Unreachable(format!(
                "{e} (tried again at most once a minute)"
            )));
        }
        Err(KeyError::Refused(JwtError::UnknownKey { kid: header.kid }))
    }
}

/// The claims, when `token` meets one of `expected` (a workload issuer may be trusted for
/// several audiences). Only the audience differs between them, so any other failure is final.
fn verify_any(
    token: &str,
    key: &pave_auth::jwt::Jwk,
    expected: &[Expected],
    now_secs: i64,
) -> Result<Claims, KeyError> {
    let mut wrong_audience = None;
    for want in expected {
        match verify_with_key(token, key, want, now_secs) {
            Ok(claims) => return Ok(claims),
            Err(e @ JwtError::WrongAudience { .. }) => _ = wrong_audience.get_or_insert(e),
            Err(e) => return Err(KeyError::Refused(e)),
        }
    }
    Err(KeyError::Refused(
        wrong_audience.unwrap_or(JwtError::MissingClaim("aud")),
    ))
}
