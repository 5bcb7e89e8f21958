//! What a listener allows: timeouts, connection caps, per-client caps, and the request time
//! limit of each class of route.

use std::time::Duration;

use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::ApiError;

/// The limits of one listener (`pave serve --header-timeout …`; docs/operations.md lists
/// the defaults and why).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// From accepting a connection (TLS handshake included), or from the first byte of a
    /// later request, until the whole request head has arrived.
    pub header_timeout: Duration,
    /// How long a kept-alive connection may wait for its next request.
    pub idle_timeout: Duration,
    /// Open connections on this listener. Beyond it, the connection that waits the longest
    /// without a request in progress is closed to make room; when every connection is
    /// working, the new one is refused (503) and closed.
    pub max_connections: usize,
    /// Open connections from one IP address (0: no limit), handled the same way.
    pub max_connections_per_client: usize,
    /// Requests in progress from one IP address (0: no limit); beyond it, 429.
    pub max_requests_per_client: usize,
    /// How long each class of route may take to produce its answer.
    pub request: RequestTimeouts,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(75),
            max_connections: 1024,
            max_connections_per_client: 256,
            max_requests_per_client: 64,
            request: RequestTimeouts::default(),
        }
    }
}

/// How long a request of each class may take to produce its answer (a 503 after that);
/// writing the answer to the client may take as long again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestTimeouts {
    /// API and portal reads (also the queries sent as POST).
    pub read: Duration,
    /// Requests that change the catalog or read a source (register, refresh, analyze,
    /// delete).
    pub write: Duration,
    /// `GET /metrics`.
    pub metrics: Duration,
    /// The admission webhook (its policy evaluation has a budget of its own, well below).
    pub admission: Duration,
}

impl Default for RequestTimeouts {
    fn default() -> Self {
        RequestTimeouts {
            read: Duration::from_secs(10),
            write: Duration::from_secs(120),
            metrics: Duration::from_secs(10),
            admission: Duration::from_secs(5),
        }
    }
}

/// Which time limit a request gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteClass {
    Read,
    Write,
    Metrics,
    Admission,
}

impl RouteClass {
    /// The `pave serve` flag that sets this class's limit.
    pub fn flag(self) -> &'static str {
        match self {
            RouteClass::Read => "--read-timeout",
            RouteClass::Write => "--write-timeout",
            RouteClass::Metrics => "--metrics-timeout",
            RouteClass::Admission => "--admission-timeout",
        }
    }
}

/// Catalog queries that are sent as `POST` (a body instead of a long query string) but only
/// read.
const POST_READS: &[&str] = &[
    "/api/catalog/entities/by-query",
    "/api/catalog/entities/by-refs",
    "/api/catalog/entity-facets",
    "/api/catalog/validate-entity",
    "/api/catalog/locations/by-query",
];

/// The class of a request, from its method and path alone (no routing needed, so the
/// listener can use it before the router runs).
pub fn classify(method: &Method, path: &str) -> RouteClass {
    if path == "/metrics" {
        RouteClass::Metrics
    } else if path == pave_check::admission::WEBHOOK_PATH {
        RouteClass::Admission
    } else if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
        || POST_READS.contains(&path)
    {
        RouteClass::Read
    } else {
        RouteClass::Write
    }
}

impl RequestTimeouts {
    pub fn of(&self, class: RouteClass) -> Duration {
        match class {
            RouteClass::Read => self.read,
            RouteClass::Write => self.write,
            RouteClass::Metrics => self.metrics,
            RouteClass::Admission => self.admission,
        }
    }

    /// The longest of them: what a connection busy with a request may take at most, twice
    /// (answer, then writing it).
    pub fn longest(&self) -> Duration {
        self.read
            .max(self.write)
            .max(self.metrics)
            .max(self.admission)
    }
}

/// Router middleware: answers 503 (Backstage's error shape, with `Retry-After`) when a
/// request's handler does not finish within its class's limit. The handler's future is
/// dropped: its work stops at its next await point, and writes roll back (one transaction
/// each).
pub(crate) async fn limit_request_time(
    State(timeouts): State<RequestTimeouts>,
    request: Request,
    next: Next,
) -> Response {
    let path = request
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| request.uri().path().to_owned(), |o| o.path().to_owned());
    let class = classify(request.method(), &path);
    let limit = timeouts.of(class);
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            metrics::counter!("pave_http_request_timeouts_total").increment(1);
            let mut response = ApiError::Unavailable(format!(
                "The request did not finish within {} (the server's limit for this kind of request, {})",
                show(limit),
                class.flag()
            ))
            .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            response
        }
    }
}

/// `10 s`, `500 ms`.
pub(crate) fn show(duration: Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{} s", duration.as_secs())
    } else {
        format!("{} ms", duration.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_fall_into_their_classes() {
        let get = Method::GET;
        let post = Method::POST;
        assert_eq!(classify(&get, "/api/catalog/entities"), RouteClass::Read);
        assert_eq!(classify(&get, "/catalog"), RouteClass::Read);
        assert_eq!(classify(&get, "/metrics"), RouteClass::Metrics);
        assert_eq!(
            classify(&post, "/api/catalog/entities/by-query"),
            RouteClass::Read
        );
        assert_eq!(classify(&post, "/api/catalog/locations"), RouteClass::Write);
        assert_eq!(classify(&post, "/api/catalog/refresh"), RouteClass::Write);
        assert_eq!(
            classify(&Method::DELETE, "/api/catalog/locations/x"),
            RouteClass::Write
        );
        assert_eq!(
            classify(&post, pave_check::admission::WEBHOOK_PATH),
            RouteClass::Admission
        );
        // Unknown methods are not reads.
        let odd = Method::from_bytes(b"FROB").unwrap();
        assert_eq!(classify(&odd, "/catalog"), RouteClass::Write);
    }

    #[test]
    fn durations_read_as_written() {
        assert_eq!(show(Duration::from_secs(10)), "10 s");
        assert_eq!(show(Duration::from_millis(1500)), "1500 ms");
    }
}
