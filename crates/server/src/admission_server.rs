//! The admission webhook's own listener (`pave serve --admission-addr`): its own address,
//! TLS files, connection limits and time budget, served by its own single-threaded tokio
//! runtime on a dedicated OS thread, with policy evaluation on that runtime's own blocking
//! threads. Nothing the catalog API or the portal does (busy async workers, a full blocking
//! pool, a connection flood on the main port) can make a review wait: the two share only
//! the CPU and the policy (an `Arc`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tokio::sync::{oneshot, watch};

use crate::admission::Evaluator;
use crate::listener::{Limits, Listener, RequestTimeouts};
use crate::{AppState, tls};

/// How the admission webhook is served.
#[derive(Debug, Clone)]
pub struct AdmissionOptions {
    /// Its own address; `None`: only the main listener serves the webhook path.
    pub addr: Option<SocketAddr>,
    /// Its own certificate and key; `None`: those of the main listener, if any.
    pub tls: Option<tls::TlsFiles>,
    /// Clients of its own listener must present a certificate this CA (a PEM file) signed:
    /// the Kubernetes API server's, configured in its `AdmissionConfiguration`.
    pub client_ca: Option<std::path::PathBuf>,
    /// The limits of its listener (the request time limit is `limits.request.admission`).
    pub limits: Limits,
    /// How long a review may wait for and take its policy evaluation before it is answered
    /// by the failure policy.
    pub budget: Duration,
    /// Reviews evaluated at once (per listener).
    pub workers: usize,
}

/// The default budget: well under the API server's webhook timeout (10 s by default, 5 s in
/// `pave admission manifest`), so the answer is pave's and not a timeout.
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(3);

impl Default for AdmissionOptions {
    fn default() -> Self {
        AdmissionOptions {
            addr: None,
            tls: None,
            client_ca: None,
            limits: Limits {
                max_connections: 256,
                // The API server is one client with many connections.
                max_connections_per_client: 0,
                max_requests_per_client: 0,
                request: RequestTimeouts {
                    admission: DEFAULT_BUDGET + Duration::from_secs(2),
                    ..RequestTimeouts::default()
                },
                ..Limits::default()
            },
            budget: DEFAULT_BUDGET,
            workers: 2,
        }
    }
}

/// The webhook route, its body limit, its evaluator and its time limit.
pub(crate) fn webhook(evaluator: Arc<Evaluator>) -> Router<Arc<AppState>> {
    Router::new()
        .route(
            pave_check::admission::WEBHOOK_PATH,
            post(crate::admission::validate),
        )
        .layer(axum::Extension(evaluator))
        .layer(DefaultBodyLimit::max(crate::ADMISSION_BODY_LIMIT))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            crate::ADMISSION_BODY_LIMIT,
        ))
}

/// The admission listener's router: the webhook and `/healthz`, no `Host` check (the API
/// server sends the Service name), no CORS.
fn router(state: Arc<AppState>, options: &AdmissionOptions) -> Router {
    webhook(Evaluator::new(options.budget, options.workers))
        .route("/healthz", get(|| async { "ok" }))
        .layer(axum::middleware::from_fn_with_state(
            options.limits.request,
            crate::listener::limit_request_time,
        ))
        .layer(axum::middleware::from_fn(crate::browser::security_headers))
        .layer(axum::middleware::from_fn(crate::metrics::track))
        .with_state(state)
}

/// A running admission listener.
pub(crate) struct Running {
    pub(crate) addr: SocketAddr,
    stopped: oneshot::Receiver<()>,
}

impl Running {
    /// Waits until it has finished its reviews in progress (after `shutdown` turned true).
    pub(crate) async fn stopped(self) {
        let _ = self.stopped.await;
    }
}

/// Starts the admission listener on its own thread; returns once it listens (or why it
/// cannot: a bad certificate, an address in use).
pub(crate) async fn start(
    state: Arc<AppState>,
    addr: SocketAddr,
    options: AdmissionOptions,
    tls_files: Option<tls::TlsFiles>,
    shutdown: watch::Receiver<bool>,
) -> std::io::Result<Running> {
    let (ready_tx, ready) = oneshot::channel::<std::io::Result<SocketAddr>>();
    let (stopped_tx, stopped) = oneshot::channel();
    std::thread::Builder::new()
        .name("pave-admission".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .thread_name("pave-admission")
                .max_blocking_threads(options.workers.max(1))
                .build();
            let runtime = match runtime {
                Ok(runtime) => runtime,
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            runtime.block_on(async move {
                // Inside the runtime: the certificate reloader is one of its tasks.
                let client_ca = options.client_ca.as_deref();
                let tls = match tls_files
                    .as_ref()
                    .map(|files| tls::server_config(files, client_ca))
                    .transpose()
                {
                    Ok(tls) => tls,
                    Err(e) => {
                        let _ = ready_tx.send(Err(std::io::Error::other(e)));
                        return;
                    }
                };
                let tcp = match tokio::net::TcpListener::bind(addr).await {
                    Ok(tcp) => tcp,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                match tcp.local_addr() {
                    Ok(local) => {
                        let _ = ready_tx.send(Ok(local));
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                }
                let app = router(state, &options);
                let listener = Listener {
                    tcp,
                    tls,
                    limits: options.limits.clone(),
                    name: "admission",
                };
                listener.run(app, shutdown).await;
            });
            // Evaluations that outlived their budget are bounded by the Rego time limit.
            runtime.shutdown_timeout(Duration::from_secs(2));
            let _ = stopped_tx.send(());
        })?;
    let addr = ready
        .await
        .map_err(|_| std::io::Error::other("the admission listener did not start"))??;
    Ok(Running { addr, stopped })
}
