//! API errors, serialized the way Backstage's error handler does:
//! `{"error": {"name", "message"}, "request": {"method", "url"}, "response": {"statusCode"}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error an API handler returns.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Bad parameters or body (400).
    #[error("{0}")]
    Input(String),
    /// Nothing there (404).
    #[error("{0}")]
    NotFound(String),
    /// Already there (409).
    #[error("{0}")]
    Conflict(String),
    /// Our fault (500); details go to the log, not to the client.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Input(_) => (StatusCode::BAD_REQUEST, "InputError"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "NotFoundError"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "ConflictError"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "Error"),
        }
    }

    pub fn internal(context: &str, error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "{context}");
        ApiError::Internal(format!("{context}; see the server log"))
    }
}

impl From<pave_catalog::query::QueryError> for ApiError {
    fn from(e: pave_catalog::query::QueryError) -> Self {
        ApiError::Input(e.to_string())
    }
}

impl From<pave_store::StoreError> for ApiError {
    fn from(e: pave_store::StoreError) -> Self {
        ApiError::internal("database error", e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, name) = self.parts();
        let body = json!({
            "error": {"name": name, "message": self.to_string()},
            "response": {"statusCode": status.as_u16()},
        });
        (status, axum::Json(body)).into_response()
    }
}
