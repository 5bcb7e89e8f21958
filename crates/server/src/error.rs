//! API errors, serialized the way Backstage's error handler does:
//! `{"error": {"name", "message"}, "request": {"method", "url"}, "response": {"statusCode"}}`.
//!
//! A handler's [`ApiError`] becomes a response that carries the error as an extension;
//! [`describe_errors`], a middleware around the whole router, knows the request and writes
//! the body, so that every error (405s and unknown routes included) has the same shape.

use axum::body::Body;
use axum::extract::{OriginalUri, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error an API handler returns.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Bad parameters or body (400).
    #[error("{0}")]
    Input(String),
    /// No or bad credentials (401 with `WWW-Authenticate: Bearer`).
    #[error("{0}")]
    Unauthenticated(String),
    /// Authenticated, but not allowed (403).
    #[error("{0}")]
    Forbidden(String),
    /// Nothing there (404).
    #[error("{0}")]
    NotFound(String),
    /// The route exists, the method does not (405).
    #[error("{0}")]
    MethodNotAllowed(String),
    /// Already there (409).
    #[error("{0}")]
    Conflict(String),
    /// Something pave depends on failed: a source that cannot be read, a database that does
    /// not answer (503).
    #[error("{0}")]
    Unavailable(String),
    /// Too much heavy work at once: try again after `retry_after` seconds (503 with
    /// `Retry-After`).
    #[error("{message}")]
    Busy { message: String, retry_after: u64 },
    /// The body is over the route's limit (413).
    #[error("{0}")]
    TooLarge(String),
    /// The body was read but is not what the route takes (422): a `pave check` report of
    /// another schema version, malformed, or contradicting itself.
    #[error("{0}")]
    Unprocessable(String),
    /// The caller sends faster than the server can record: retry after `retry_after`
    /// seconds (429 with `Retry-After`).
    #[error("{message}")]
    TooMany { message: String, retry_after: u64 },
    /// Our fault (500); details go to the log, not to the client.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Input(_) => (StatusCode::BAD_REQUEST, "InputError"),
            ApiError::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "AuthenticationError"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "NotAllowedError"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "NotFoundError"),
            ApiError::MethodNotAllowed(_) => {
                (StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowedError")
            }
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "ConflictError"),
            ApiError::Unavailable(_) | ApiError::Busy { .. } => {
                (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailableError")
            }
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLargeError"),
            ApiError::Unprocessable(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "UnprocessableEntityError")
            }
            ApiError::TooMany { .. } => (StatusCode::TOO_MANY_REQUESTS, "TooManyRequestsError"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "Error"),
        }
    }

    pub fn internal(context: &str, error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "{context}");
        ApiError::Internal(format!("{context}; see the server log"))
    }
}

impl From<crate::work::WorkError> for ApiError {
    fn from(e: crate::work::WorkError) -> Self {
        match e {
            crate::work::WorkError::Busy {
                message,
                retry_after,
            } => ApiError::Busy {
                message,
                retry_after,
            },
            crate::work::WorkError::Failed => {
                ApiError::Internal("the request failed; see the server log".into())
            }
        }
    }
}

impl From<pave_catalog::query::LimitExceeded> for ApiError {
    fn from(e: pave_catalog::query::LimitExceeded) -> Self {
        ApiError::Input(e.to_string())
    }
}

impl From<pave_catalog::query::QueryError> for ApiError {
    fn from(e: pave_catalog::query::QueryError) -> Self {
        ApiError::Input(e.to_string())
    }
}

impl From<pave_ingest::IngestError> for ApiError {
    fn from(e: pave_ingest::IngestError) -> Self {
        match e {
            pave_ingest::IngestError::Store(e) => e.into(),
            e @ pave_ingest::IngestError::Unreadable { .. } => ApiError::Unavailable(e.to_string()),
            e @ pave_ingest::IngestError::Invalid { .. } => ApiError::Input(e.to_string()),
            other => ApiError::internal("catalog update failed", other),
        }
    }
}

impl From<pave_platform::LocationError> for ApiError {
    fn from(e: pave_platform::LocationError) -> Self {
        use pave_platform::LocationError;
        match e {
            LocationError::Invalid(message) => ApiError::Input(message),
            LocationError::NotFound(_) => ApiError::NotFound(e.to_string()),
            LocationError::Conflict(_) => ApiError::Conflict(e.to_string()),
            LocationError::Unreadable(e) => ApiError::Unavailable(e.to_string()),
            LocationError::Store(e) => e.into(),
            LocationError::Ingest(e) => e.into(),
        }
    }
}

impl From<pave_store::StoreError> for ApiError {
    fn from(e: pave_store::StoreError) -> Self {
        if e.is_unavailable() {
            // An outage, not a bug: the client may retry (webhook senders do on a 503).
            tracing::warn!(error = %e, "database unavailable");
            return ApiError::Busy {
                message: "the database is unavailable; try again shortly".into(),
                retry_after: 5,
            };
        }
        ApiError::internal("database error", e)
    }
}

/// The error of a response, for [`describe_errors`] to render with the request.
#[derive(Clone)]
struct ErrorBody {
    name: &'static str,
    message: String,
}

fn render(status: StatusCode, error: &ErrorBody, request: Option<(&str, &str)>) -> String {
    let mut body = json!({
        "error": {"name": error.name, "message": error.message},
        "response": {"statusCode": status.as_u16()},
    });
    if let Some((method, url)) = request {
        body["request"] = json!({"method": method, "url": url});
    }
    body.to_string()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, name) = self.parts();
        let retry_after = match &self {
            ApiError::Busy { retry_after, .. } | ApiError::TooMany { retry_after, .. } => {
                Some(*retry_after)
            }
            _ => None,
        };
        let error = ErrorBody {
            name,
            message: self.to_string(),
        };
        let mut response = Response::new(Body::from(render(status, &error, None)));
        *response.status_mut() = status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if matches!(self, ApiError::Unauthenticated(_)) {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"pave\""),
            );
        }
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response.extensions_mut().insert(error);
        response
    }
}

/// Adds `request: {method, url}` to every [`ApiError`] body, as Backstage does.
pub(crate) async fn describe_errors(request: Request, next: Next) -> Response {
    let method = request.method().as_str().to_owned();
    let url = request
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| request.uri().clone(), |o| o.0.clone())
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let mut response = next.run(request).await;
    if let Some(error) = response.extensions_mut().remove::<ErrorBody>() {
        let body = render(response.status(), &error, Some((&method, &url)));
        response.headers_mut().remove(header::CONTENT_LENGTH);
        *response.body_mut() = Body::from(body);
    }
    response
}
