//! One HTTP/1.1 request per connection over hyper's low-level client, with TLS (rustls, ring,
//! the system's CA bundle, from `pave-http`) for `https://`.

use base64::Engine as _;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;

use crate::{ClientOptions, Error, Method};

pub(crate) struct Endpoint {
    /// The URL without credentials, for messages.
    pub(crate) shown: String,
    host: String,
    port: u16,
    /// The `Host` header.
    authority: String,
    /// The path prefix without a trailing `/` (empty or e.g. `/prometheus`).
    prefix: String,
    authorization: Option<String>,
    tls: Option<(TlsConnector, ServerName<'static>)>,
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
        let host = url
            .host_str()
            .ok_or_else(|| invalid("no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = url
            .port_or_known_default()
            .ok_or_else(|| invalid("no port"))?;
        let authority = match url.port() {
            Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_owned(),
        };
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
        let tls = if https {
            let name = ServerName::try_from(host.clone())
                .map_err(|e| invalid(&format!("not a TLS server name: {e}")))?;
            let connector = pave_http::tls_connector().map_err(|message| Error::Tls {
                url: shown.clone(),
                message,
            })?;
            Some((connector, name))
        } else {
            None
        };
        Ok(Endpoint {
            shown,
            host,
            port,
            authority,
            prefix,
            authorization,
            tls,
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
        let exchange = async {
            let stream = TcpStream::connect((self.host.as_str(), self.port))
                .await
                .map_err(|error| Error::Unreachable {
                    url: self.shown.clone(),
                    error,
                })?;
            let _ = stream.set_nodelay(true);
            let request = self.request(path, form, options)?;
            match &self.tls {
                None => self.exchange(TokioIo::new(stream), request, options).await,
                Some((connector, name)) => {
                    let stream =
                        connector
                            .connect(name.clone(), stream)
                            .await
                            .map_err(|e| Error::Tls {
                                url: self.shown.clone(),
                                message: e.to_string(),
                            })?;
                    self.exchange(TokioIo::new(stream), request, options).await
                }
            }
        };
        tokio::time::timeout(options.timeout, exchange)
            .await
            .map_err(|_| Error::Timeout {
                url: self.shown.clone(),
                timeout: options.timeout,
            })?
    }

    fn request(
        &self,
        path: &str,
        form: &str,
        options: &ClientOptions,
    ) -> Result<hyper::Request<Full<Bytes>>, Error> {
        let builder = match options.method {
            Method::Post => hyper::Request::post(format!("{}{path}", self.prefix))
                .header("content-type", "application/x-www-form-urlencoded"),
            Method::Get => hyper::Request::get(format!("{}{path}?{form}", self.prefix)),
        };
        let mut builder = builder
            .header("host", &self.authority)
            .header("accept", "application/json")
            .header("user-agent", concat!("pave/", env!("CARGO_PKG_VERSION")));
        if let Some(auth) = &self.authorization {
            builder = builder.header("authorization", auth);
        }
        let body = match options.method {
            Method::Post => Bytes::copy_from_slice(form.as_bytes()),
            Method::Get => Bytes::new(),
        };
        builder.body(Full::new(body)).map_err(|e| Error::Transport {
            url: self.shown.clone(),
            message: e.to_string(),
        })
    }

    async fn exchange<T>(
        &self,
        io: TokioIo<T>,
        request: hyper::Request<Full<Bytes>>,
        options: &ClientOptions,
    ) -> Result<(u16, Bytes), Error>
    where
        T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let transport = |e: hyper::Error| Error::Transport {
            url: self.shown.clone(),
            message: e.to_string(),
        };
        let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(transport)?;
        // Drives the connection; it ends when the response is read and `sender` dropped.
        tokio::spawn(async move {
            let _ = connection.await;
        });
        let response = sender.send_request(request).await.map_err(transport)?;
        let status = response.status().as_u16();
        let body = Limited::new(response.into_body(), options.max_body_bytes)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    Error::TooLarge {
                        url: self.shown.clone(),
                        limit: options.max_body_bytes,
                    }
                } else {
                    Error::Transport {
                        url: self.shown.clone(),
                        message: e.to_string(),
                    }
                }
            })?
            .to_bytes();
        Ok((status, body))
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
        assert_eq!(e.authority, "prom.example:9090");
        assert_eq!(e.port, 9090);
        let expected = base64::engine::general_purpose::STANDARD.encode("alice:s@cret");
        assert_eq!(e.authorization, Some(format!("Basic {expected}")));

        let e = Endpoint::parse("http://prom.example", Some("tok")).unwrap();
        assert_eq!((e.port, e.prefix.as_str()), (80, ""));
        assert_eq!(e.authorization.as_deref(), Some("Bearer tok"));

        for bad in ["prom:9090", "ftp://x", "http://"] {
            let err = Endpoint::parse(bad, None).err().unwrap();
            assert!(err.to_string().contains("invalid Prometheus URL"), "{err}");
        }
    }
}
