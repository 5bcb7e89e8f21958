//! One HTTP/1.1 request per connection over hyper's low-level client, with TLS (rustls, ring,
//! the system's CA bundle, from `pave-http`) for `https://`.

use base64::Engine as _;
use hyper::body::Bytes;
use tokio_rustls::rustls::pki_types::ServerName;

use crate::{ClientOptions, Error, Method};

pub(crate) struct Endpoint {
    /// The URL without credentials, for messages.
    pub(crate) shown: String,
    /// The URL without credentials, whose path is the prefix requests go under.
    base: url::Url,
    /// The path prefix without a trailing `/` (empty or e.g. `/prometheus`).
    prefix: String,
    authorization: Option<String>,
}

impl Endpoint {
    pub(crate) fn parse(raw: &str, bearer_token: Option<&str>) -> Result<Endpoint, Error> {
        let invalid = |reason: &str| Error::InvalidUrl {
            url: raw.to_owned(),
            reason: reason.to_owned(),
        };
        let mut url = url::Url::parse(raw).map_err(|e| invalid(&e.to_string()))?;
        let https = match url.scheme() {
            "http" => false,
            "https" => true,
            _ => return Err(invalid("use an http:// or https:// URL")),
        };
        let host = url.host_str().ok_or_else(|| invalid("no host"))?;
        if https {
            ServerName::try_from(
                host.trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_owned(),
            )
            .map_err(|e| invalid(&format!("not a TLS server name: {e}")))?;
        }
        url.port_or_known_default()
            .ok_or_else(|| invalid("no port"))?;
        let basic = (!url.username().is_empty()).then(|| {
            let user = percent_decode(url.username());
            let password = url.password().map(percent_decode).unwrap_or_default();
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            )
        });
        let authorization = bearer_token.map(|t| format!("Bearer {t}")).or(basic);
        let _ = url.set_username("");
        let _ = url.set_password(None);
        let prefix = url.path().trim_end_matches('/').to_owned();
        let shown = url.as_str().trim_end_matches('/').to_owned();
        if https {
            // Checked now, so that a missing CA bundle is a clear error before any query.
            pave_http::tls_connector().map_err(|message| Error::Tls {
                url: shown.clone(),
                message,
            })?;
        }
        Ok(Endpoint {
            shown,
            base: url,
            prefix,
            authorization,
        })
    }

    /// Sends `form` to `path` (POST body or GET query string) and returns the status and the
    /// whole body, all within `options.timeout`.
    pub(crate) async fn send(
        &self,
        path: &str,
        form: &str,
        options: &ClientOptions,
    ) -> Result<(u16, Bytes), Error> {
        let mut url = self.base.clone();
        url.set_path(&format!("{}{path}", self.prefix));
        let (method, body) = match options.method {
            Method::Post => (hyper::Method::POST, Bytes::copy_from_slice(form.as_bytes())),
            Method::Get => {
                url.set_query(Some(form));
                (hyper::Method::GET, Bytes::new())
            }
        };
        let mut headers = vec![("accept", "application/json")];
        if options.method == Method::Post {
            headers.push(("content-type", "application/x-www-form-urlencoded"));
        }
        if let Some(auth) = &self.authorization {
            headers.push(("authorization", auth.as_str()));
        }
        let exchange = pave_http::exchange(pave_http::Request {
            method,
            url: &url,
            headers: &headers,
            body,
            max_bytes: options.max_body_bytes,
        });
        let answer = tokio::time::timeout(options.timeout, exchange)
            .await
            .map_err(|_| Error::Timeout {
                url: self.shown.clone(),
                timeout: options.timeout,
            })?
            .map_err(|e| self.error(e))?;
        Ok((answer.status, answer.body))
    }

    /// Names the Prometheus endpoint (not the query URL) in transport errors.
    fn error(&self, error: pave_http::Error) -> Error {
        let url = self.shown.clone();
        match error {
            pave_http::Error::Unreachable { error, .. } => Error::Unreachable { url, error },
            pave_http::Error::Tls { message, .. } => Error::Tls { url, message },
            pave_http::Error::TooLarge { limit, .. } => Error::TooLarge { url, limit },
            pave_http::Error::Timeout { timeout, .. } => Error::Timeout { url, timeout },
            other => Error::Transport {
                url,
                message: other.to_string(),
            },
        }
    }
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn urls_credentials_and_prefixes() {
        let e =
            Endpoint::parse("http://alice:s%40cret@prom.example:9090/prometheus/", None).unwrap();
        assert_eq!(e.shown, "http://prom.example:9090/prometheus");
        assert_eq!(e.prefix, "/prometheus");
        assert_eq!(e.base.as_str(), "http://prom.example:9090/prometheus/");
        let expected = base64::engine::general_purpose::STANDARD.encode("alice:s@cret");
        assert_eq!(e.authorization, Some(format!("Basic {expected}")));

        let e = Endpoint::parse("http://prom.example", Some("tok")).unwrap();
        assert_eq!(e.prefix, "");
        assert_eq!(e.base.port_or_known_default(), Some(80));
        assert_eq!(e.authorization.as_deref(), Some("Bearer tok"));

        for bad in ["prom:9090", "ftp://x", "http://"] {
            let err = Endpoint::parse(bad, None).err().unwrap();
            assert!(err.to_string().contains("invalid Prometheus URL"), "{err}");
        }
    }
}
