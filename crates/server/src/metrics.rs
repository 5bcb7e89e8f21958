//! Prometheus metrics: request counts and latencies per route, catalog sizes, ingest runs,
//! connections. Labels take values from fixed sets only (so `/metrics` stays bounded
//! whatever clients send), and `serve` runs the exporter's upkeep on a timer (histogram
//! samples are folded into buckets then, not only when someone scrapes).

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];
const INGEST_BUCKETS: &[f64] = &[0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0];

/// The process-wide recorder (metrics are global; several servers in one test process share it).
pub fn handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("pave_http_request_duration_seconds".into()),
                    LATENCY_BUCKETS,
                )
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full("pave_ingest_duration_seconds".into()),
                        INGEST_BUCKETS,
                    )
                });
            let recorder = match builder {
                Ok(builder) => builder.build_recorder(),
                Err(_) => PrometheusBuilder::new().build_recorder(),
            };
            let handle = recorder.handle();
            // Fails only if another recorder is installed; metrics then go there instead.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// Methods kept as themselves in labels; anything else is `OTHER`.
const KNOWN_METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

/// The method label: one of [`KNOWN_METHODS`] or `OTHER` (a label taken from the request
/// as sent let a client mint a series per request).
pub fn method_label(method: &Method) -> &'static str {
    KNOWN_METHODS
        .iter()
        .find(|known| **known == method.as_str())
        .copied()
        .unwrap_or("OTHER")
}

/// The status label: its class (`2xx` … `5xx`; `other` outside 100-599).
pub fn status_label(status: StatusCode) -> &'static str {
    match status.as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        500..=599 => "5xx",
        _ => "other",
    }
}

/// Counts and times every request by method, route template and status class: labels from
/// fixed sets only, so no request can add a series (route templates come from the router's
/// `MatchedPath`, else `unmatched`).
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let status = status_label(response.status());
    metrics::counter!("pave_http_requests_total", "method" => method, "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("pave_http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_come_from_fixed_sets() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::from_bytes(b"FROB").unwrap()), "OTHER");
        assert_eq!(method_label(&Method::from_bytes(b"get").unwrap()), "OTHER");
        assert_eq!(status_label(StatusCode::OK), "2xx");
        assert_eq!(status_label(StatusCode::MISDIRECTED_REQUEST), "4xx");
        assert_eq!(status_label(StatusCode::from_u16(599).unwrap()), "5xx");
        assert_eq!(status_label(StatusCode::from_u16(999).unwrap()), "other");
    }
}
