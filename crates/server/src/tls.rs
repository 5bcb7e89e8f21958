//! HTTPS for `pave serve` (the Kubernetes API server calls admission webhooks over TLS only).
//!
//! Handshakes run in their own tasks and finished connections are handed to axum through a
//! channel, so one slow or hostile client cannot hold up the accept loop. Certificate files
//! are re-read when they change (cert-manager rotates them in place).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
use tokio_rustls::rustls::sign::CertifiedKey;
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::server::TlsStream;

/// Where the certificate chain and key are.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {message}")]
    Read { path: String, message: String },
    #[error("{0} holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)")]
    NoCertificate(String),
    #[error("{0} holds no PEM private key (PKCS#8, PKCS#1 or SEC1)")]
    NoKey(String),
    #[error("{path}: cannot use it to verify client certificates: {message}")]
    ClientCa { path: String, message: String },
    #[error("unusable certificate or key ({cert}, {key}): {message}")]
    Unusable {
        cert: String,
        key: String,
        message: String,
    },
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn load_key(files: &TlsFiles) -> Result<Arc<CertifiedKey>, TlsError> {
    let shown = |p: &Path| p.display().to_string();
    let read = |p: &Path| {
        std::fs::read(p).map_err(|e| TlsError::Read {
            path: shown(p),
            message: e.to_string(),
        })
    };
    let cert_pem = read(&files.cert)?;
    let key_pem = read(&files.key)?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::Read {
            path: shown(&files.cert),
            message: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate(shown(&files.cert)));
    }
    let key =
        PrivateKeyDer::from_pem_slice(&key_pem).map_err(|_| TlsError::NoKey(shown(&files.key)))?;
    let unusable = |message: String| TlsError::Unusable {
        cert: shown(&files.cert),
        key: shown(&files.key),
        message,
    };
    let certified =
        CertifiedKey::from_der(chain, key, &provider()).map_err(|e| unusable(e.to_string()))?;
    Ok(Arc::new(certified))
}

/// Serves the current certificate; a background task swaps in renewed files.
#[derive(Debug)]
struct Reloading {
    current: RwLock<Arc<CertifiedKey>>,
}

impl ResolvesServerCert for Reloading {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        match self.current.read() {
            Ok(guard) => Some(Arc::clone(&guard)),
            Err(poisoned) => Some(Arc::clone(&poisoned.into_inner())),
        }
    }
}

fn modified(files: &TlsFiles) -> Option<(SystemTime, SystemTime)> {
    let m = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    Some((m(&files.cert)?, m(&files.key)?))
}

/// A verifier that admits only clients presenting a certificate chained to a CA in the
/// PEM file `path` (the Kubernetes API server's client certificate, for the admission
/// listener).
fn client_verifier(
    path: &Path,
) -> Result<Arc<dyn rustls::server::danger::ClientCertVerifier>, TlsError> {
    let shown = path.display().to_string();
    let unusable = |message: String| TlsError::ClientCa {
        path: shown.clone(),
        message,
    };
    let pem = std::fs::read(path).map_err(|e| TlsError::Read {
        path: shown.clone(),
        message: e.to_string(),
    })?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| unusable(e.to_string()))?;
        roots.add(cert).map_err(|e| unusable(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(TlsError::NoCertificate(shown));
    }
    rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
        .build()
        .map_err(|e| unusable(e.to_string()))
}

/// A TLS server configuration from PEM files, checked now so that a bad file stops the
/// server at start with a clear message. With `client_ca`, clients must present a
/// certificate that CA signed (mutual TLS); the handshake fails for any other.
pub fn server_config(
    files: &TlsFiles,
    client_ca: Option<&Path>,
) -> Result<Arc<ServerConfig>, TlsError> {
    let resolver = Arc::new(Reloading {
        current: RwLock::new(load_key(files)?),
    });
    let builder = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Unusable {
            cert: files.cert.display().to_string(),
            key: files.key.display().to_string(),
            message: e.to_string(),
        })?;
    let builder = match client_ca {
        Some(path) => builder.with_client_cert_verifier(client_verifier(path)?),
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_cert_resolver(resolver.clone());
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let files = files.clone();
    let mut seen = modified(&files);
    let weak = Arc::downgrade(&resolver);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(30)).await;
            let Some(resolver) = weak.upgrade() else {
                return;
            };
            let now = modified(&files);
            if now.is_some() && now != seen {
                match load_key(&files) {
                    Ok(key) => {
                        if let Ok(mut current) = resolver.current.write() {
                            *current = key;
                        }
                        seen = now;
                        tracing::info!(cert = %files.cert.display(), "reloaded the TLS certificate");
                    }
                    // Half-written files during a rotation: keep the old key and retry.
                    Err(e) => tracing::warn!(error = %e, "cannot reload the TLS certificate yet"),
                }
            }
        }
    });
    Ok(Arc::new(config))
}

/// A listener that yields connections whose TLS handshake has finished.
pub struct TlsListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
}

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

impl TlsListener {
    pub fn new(tcp: TcpListener, config: Arc<ServerConfig>) -> std::io::Result<Self> {
        let local = tcp.local_addr()?;
        let acceptor = TlsAcceptor::from(config);
        let (tx, ready) = mpsc::channel(256);
        tokio::spawn(async move {
            loop {
                let (stream, peer) = match tcp.accept().await {
                    Ok(conn) => conn,
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                if tx.is_closed() {
                    return;
                }
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(TlsListener { local, ready })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // The accept task ended (the runtime is shutting down): accept nothing more.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
