//! A small HTTP/1.1 client for the servers pave is pointed at (Prometheus, catalog files
//! served over HTTP): one request per connection over hyper's low-level client, TLS with
//! rustls on `ring` and the system's CA bundle, and every exchange bounded in time and size.
//!
//! Why not reqwest or ureq: both bring a second HTTP stack and TLS configuration for the two
//! callers pave has; hyper, rustls and tokio are already built for the server.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use url::Url;

/// Where the system keeps its CA bundle, tried in order after `$SSL_CERT_FILE`.
const CA_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
];

/// A TLS connector trusting the system's CA bundle (`$SSL_CERT_FILE` or the usual paths),
/// built once per process.
///
/// # Errors
/// When no bundle can be read, as a sentence.
pub fn tls_connector() -> Result<TlsConnector, String> {
    static CONNECTOR: OnceLock<Result<TlsConnector, String>> = OnceLock::new();
    CONNECTOR.get_or_init(build_connector).clone()
}

fn build_connector() -> Result<TlsConnector, String> {
    let candidates: Vec<String> = std::env::var("SSL_CERT_FILE")
        .ok()
        .into_iter()
        .chain(CA_BUNDLES.iter().map(|s| (*s).to_owned()))
        .collect();
    let Some(bundle) = candidates
        .iter()
        .find(|p| std::path::Path::new(p).is_file())
    else {
        return Err(format!(
            "no CA bundle found (set SSL_CERT_FILE; looked at {})",
            candidates.join(", ")
        ));
    };
    let mut roots = rustls::RootCertStore::empty();
    let certs =
        CertificateDer::pem_file_iter(bundle).map_err(|e| format!("cannot read {bundle}: {e}"))?;
    for cert in certs.flatten() {
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        return Err(format!("{bundle} holds no usable certificate"));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// A failed fetch. Every message names the URL.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{url} is not a URL pave can fetch: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("{url} is not allowed by {setting}")]
    NotAllowed { url: String, setting: String },
    /// An address the host resolved to was refused by [`GetOptions::check_address`].
    #[error("{url} is not fetched: {reason}")]
    AddressRefused { url: String, reason: String },
    #[error("cannot connect to {url}: {error}")]
    Unreachable {
        url: String,
        #[source]
        error: std::io::Error,
    },
    #[error("TLS with {url} failed: {message}")]
    Tls { url: String, message: String },
    #[error("{url} did not answer within {} s", timeout.as_secs_f64())]
    Timeout { url: String, timeout: Duration },
    #[error("{url} answered with more than {limit} bytes")]
    TooLarge { url: String, limit: usize },
    #[error("{url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url} redirected more than {max} times")]
    TooManyRedirects { url: String, max: usize },
    #[error("reading {url} failed: {message}")]
    Transport { url: String, message: String },
}

/// How [`get`] fetches.
pub struct GetOptions<'a> {
    /// For the whole fetch: every hop, connecting, sending and reading.
    pub timeout: Duration,
    /// Bodies larger than this are refused.
    pub max_bytes: usize,
    pub max_redirects: usize,
    /// Asked before every hop, redirects included; a refusal is [`Error::NotAllowed`].
    pub allow: &'a (dyn Fn(&Url) -> bool + Send + Sync),
    /// What to name in a refusal (for example the configuration setting that allows hosts).
    pub allow_setting: &'a str,
    /// Asked for every address a hop's host resolves to, before connecting; the connection
    /// then goes to those addresses only, so a DNS answer that changes in between cannot
    /// move it. A refusal (its reason) is [`Error::AddressRefused`].
    pub check_address: &'a (dyn Fn(&Url, std::net::IpAddr) -> Result<(), String> + Send + Sync),
}

/// A successful fetch.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// Where the body came from, after redirects.
    pub url: Url,
    pub body: Bytes,
}

/// Fetches `url` (`http` or `https`) with `GET`, following up to `max_redirects` redirects,
/// each of them allowed by `options.allow`.
///
/// # Errors
/// See [`Error`]; statuses other than 2xx and 3xx are errors.
pub async fn get(url: &Url, options: &GetOptions<'_>) -> Result<Fetched, Error> {
    let shown = url.as_str().to_owned();
    tokio::time::timeout(options.timeout, follow(url.clone(), options))
        .await
        .map_err(|_| Error::Timeout {
            url: shown,
            timeout: options.timeout,
        })?
}

async fn follow(mut url: Url, options: &GetOptions<'_>) -> Result<Fetched, Error> {
    let mut hops = 0;
    loop {
        if !(options.allow)(&url) {
            return Err(Error::NotAllowed {
                url: url.to_string(),
                setting: options.allow_setting.to_owned(),
            });
        }
        let addresses = resolve(&url).await?;
        for address in &addresses {
            (options.check_address)(&url, address.ip()).map_err(|reason| {
                Error::AddressRefused {
                    url: url.to_string(),
                    reason,
                }
            })?;
        }
        let Exchanged {
            status,
            location,
            body,
        } = exchange_at(
            Request {
                method: hyper::Method::GET,
                url: &url,
                headers: &[("accept", "*/*")],
                body: Bytes::new(),
                max_bytes: options.max_bytes,
            },
            &addresses,
        )
        .await?;
        match (status, location) {
            (200..=299, _) => return Ok(Fetched { url, body }),
            (300..=399, Some(location)) => {
                hops += 1;
                if hops > options.max_redirects {
                    return Err(Error::TooManyRedirects {
                        url: url.to_string(),
                        max: options.max_redirects,
                    });
                }
                url = url.join(&location).map_err(|e| Error::InvalidUrl {
                    url: location.clone(),
                    reason: format!("a redirect from {url} to it: {e}"),
                })?;
            }
            (status, _) => {
                return Err(Error::Status {
                    url: url.to_string(),
                    status,
                });
            }
        }
    }
}

/// One HTTP request, as [`exchange`] sends it.
pub struct Request<'a> {
    /// `GET` or `POST`.
    pub method: hyper::Method,
    pub url: &'a Url,
    /// Sent besides `host` and `user-agent`.
    pub headers: &'a [(&'a str, &'a str)],
    pub body: Bytes,
    /// Bodies larger than this are refused.
    pub max_bytes: usize,
}

/// What [`exchange`] read.
#[derive(Debug, Clone)]
pub struct Exchanged {
    pub status: u16,
    /// The `location` header, for redirects.
    pub location: Option<String>,
    pub body: Bytes,
}

struct Target {
    host: String,
    port: u16,
    authority: String,
    path: String,
    https: bool,
}

fn target(url: &Url) -> Result<Target, Error> {
    let invalid = |reason: &str| Error::InvalidUrl {
        url: url.to_string(),
        reason: reason.to_owned(),
    };
    let https = match url.scheme() {
        "http" => false,
        "https" => true,
        _ => return Err(invalid("use an http:// or https:// URL")),
    };
    let host_str = url.host_str().ok_or_else(|| invalid("no host"))?;
    let port = url
        .port_or_known_default()
        .ok_or_else(|| invalid("no port"))?;
    let authority = match url.port() {
        Some(p) => format!("{host_str}:{p}"),
        None => host_str.to_owned(),
    };
    let mut path = url.path().to_owned();
    if let Some(query) = url.query() {
        path.push('?');
        path.push_str(query);
    }
    Ok(Target {
        host: host_str
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
        port,
        authority,
        path,
        https,
    })
}

/// Sends one request on a new connection and reads the whole answer, whatever its status.
/// The caller bounds its time (`tokio::time::timeout`). Messages name the URL as given,
/// so give one without credentials.
///
/// # Errors
/// Connection, TLS and protocol failures, and bodies over `max_bytes`.
pub async fn exchange(request: Request<'_>) -> Result<Exchanged, Error> {
    let addresses = resolve(request.url).await?;
    exchange_at(request, &addresses).await
}

/// The addresses `url`'s host resolves to (itself, for an address).
async fn resolve(url: &Url) -> Result<Vec<std::net::SocketAddr>, Error> {
    let target = target(url)?;
    let addresses: Vec<std::net::SocketAddr> =
        tokio::net::lookup_host((target.host.as_str(), target.port))
            .await
            .map_err(|error| Error::Unreachable {
                url: url.to_string(),
                error,
            })?
            .collect();
    if addresses.is_empty() {
        return Err(Error::Unreachable {
            url: url.to_string(),
            error: std::io::Error::other("the host resolves to no address"),
        });
    }
    Ok(addresses)
}

/// [`exchange`] on a connection to one of `addresses` (tried in order), with `request.url`'s
/// host still named in `host` and TLS.
async fn exchange_at(
    request: Request<'_>,
    addresses: &[std::net::SocketAddr],
) -> Result<Exchanged, Error> {
    let target = target(request.url)?;
    let shown = request.url.to_string();
    let stream = TcpStream::connect(addresses)
        .await
        .map_err(|error| Error::Unreachable {
            url: shown.clone(),
            error,
        })?;
    let _ = stream.set_nodelay(true);
    let mut builder = hyper::Request::builder()
        .method(request.method)
        .uri(&target.path)
        .header("host", &target.authority)
        .header("user-agent", concat!("pave/", env!("CARGO_PKG_VERSION")));
    for (name, value) in request.headers {
        builder = builder.header(*name, *value);
    }
    let http_request = builder
        .body(Full::new(request.body))
        .map_err(|e| Error::Transport {
            url: shown.clone(),
            message: e.to_string(),
        })?;
    if target.https {
        let connector = tls_connector().map_err(|message| Error::Tls {
            url: shown.clone(),
            message,
        })?;
        let name = ServerName::try_from(target.host.clone()).map_err(|e| Error::Tls {
            url: shown.clone(),
            message: format!("not a TLS server name: {e}"),
        })?;
        let stream = connector
            .connect(name, stream)
            .await
            .map_err(|e| Error::Tls {
                url: shown.clone(),
                message: e.to_string(),
            })?;
        send(
            TokioIo::new(stream),
            http_request,
            &shown,
            request.max_bytes,
        )
        .await
    } else {
        send(
            TokioIo::new(stream),
            http_request,
            &shown,
            request.max_bytes,
        )
        .await
    }
}

async fn send<T>(
    io: TokioIo<T>,
    request: hyper::Request<Full<Bytes>>,
    shown: &str,
    max_bytes: usize,
) -> Result<Exchanged, Error>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let transport = |e: hyper::Error| Error::Transport {
        url: shown.to_owned(),
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
    let location = response
        .headers()
        .get(hyper::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = Limited::new(response.into_body(), max_bytes)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                Error::TooLarge {
                    url: shown.to_owned(),
                    limit: max_bytes,
                }
            } else {
                Error::Transport {
                    url: shown.to_owned(),
                    message: e.to_string(),
                }
            }
        })?
        .to_bytes();
    Ok(Exchanged {
        status,
        location,
        body,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Answers each connection with the next canned response.
    async fn server(responses: Vec<String>) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            for response in responses {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut buffer = [0u8; 4096];
                let _ = socket.read(&mut buffer).await;
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            }
        });
        addr
    }

    fn ok(body: &str) -> String {
        format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
    }

    fn options<'a>(allow: &'a (dyn Fn(&Url) -> bool + Send + Sync)) -> GetOptions<'a> {
        GetOptions {
            timeout: Duration::from_secs(5),
            max_bytes: 64,
            max_redirects: 2,
            allow,
            allow_setting: "test.allow",
            check_address: &|_, _| Ok(()),
        }
    }

    #[tokio::test]
    async fn follows_allowed_redirects_and_bounds_the_rest() {
        let addr = server(vec![
            "HTTP/1.1 302 Found\r\nlocation: /b.yaml\r\ncontent-length: 0\r\n\r\n".into(),
            ok("kind: Component\n"),
        ])
        .await;
        let url = Url::parse(&format!("http://{addr}/a.yaml")).unwrap();
        let fetched = get(&url, &options(&|_| true)).await.unwrap();
        assert_eq!(fetched.url.path(), "/b.yaml");
        assert_eq!(&fetched.body[..], b"kind: Component\n");

        // A redirect to a host that is not allowed is refused, naming the setting.
        let addr = server(vec![
            "HTTP/1.1 301 Moved\r\nlocation: http://elsewhere.invalid/x\r\ncontent-length: 0\r\n\r\n".into(),
        ])
        .await;
        let url = Url::parse(&format!("http://{addr}/a.yaml")).unwrap();
        let only_local = |u: &Url| u.host_str() == Some("127.0.0.1");
        let err = get(&url, &options(&only_local)).await.unwrap_err();
        assert!(
            err.to_string()
                .contains("elsewhere.invalid/x is not allowed by test.allow"),
            "{err}"
        );

        let addr = server(vec![ok(&"x".repeat(100))]).await;
        let url = Url::parse(&format!("http://{addr}/big")).unwrap();
        let err = get(&url, &options(&|_| true)).await.unwrap_err();
        assert!(matches!(err, Error::TooLarge { limit: 64, .. }), "{err}");

        let addr = server(vec![
            "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n".into(),
        ])
        .await;
        let url = Url::parse(&format!("http://{addr}/none")).unwrap();
        let err = get(&url, &options(&|_| true)).await.unwrap_err();
        assert!(
            err.to_string().ends_with("/none answered HTTP 404"),
            "{err}"
        );

        let loop_back = "HTTP/1.1 302 Found\r\nlocation: /again\r\ncontent-length: 0\r\n\r\n";
        let addr = server(vec![loop_back.into(); 3]).await;
        let url = Url::parse(&format!("http://{addr}/again")).unwrap();
        let err = get(&url, &options(&|_| true)).await.unwrap_err();
        assert!(
            matches!(err, Error::TooManyRedirects { max: 2, .. }),
            "{err}"
        );

        let err = get(&Url::parse("ftp://x/y").unwrap(), &options(&|_| true))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("use an http:// or https:// URL"));
    }

    #[tokio::test]
    async fn a_refused_address_is_never_connected_to() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = std::sync::Arc::clone(&accepted);
        tokio::spawn(async move {
            while listener.accept().await.is_ok() {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        });
        let url = Url::parse(&format!("http://{addr}/a.yaml")).unwrap();
        let mut o = options(&|_| true);
        let refuse = |_: &Url, ip: std::net::IpAddr| Err(format!("{ip} is refused"));
        o.check_address = &refuse;
        let err = get(&url, &o).await.unwrap_err();
        assert!(
            matches!(err, Error::AddressRefused { ref reason, .. } if reason == "127.0.0.1 is refused"),
            "{err}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_silent_server_times_out() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (_socket, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(30)).await;
        });
        let url = Url::parse(&format!("http://{addr}/slow")).unwrap();
        let mut o = options(&|_| true);
        o.timeout = Duration::from_millis(300);
        let err = get(&url, &o).await.unwrap_err();
        assert!(matches!(err, Error::Timeout { .. }), "{err}");
    }
}
