//! `POST /api/audit/checkpoints`: a signed checkpoint of the audit chain, now (administrators).
//! The request is itself recorded first, so the checkpoint vouches for its own record.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pave_store::audit::Outcome;
use serde_json::json;

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;

/// Write a signed checkpoint of the audit chain.
#[utoipa::path(post, path = "/api/audit/checkpoints", tag = "audit",
    responses((status = 201, description = "The checkpoint: `{seq, hash, timeMs, keyId, signature}`, as `pave audit checkpoint` prints it (keep a copy: `pave audit verify --checkpoint` then detects a truncated log)"),
        (status = 401, description = "Not signed in"), (status = 403, description = "Not an administrator"),
        (status = 409, description = "No auth.audit.signingKey configured")))]
pub(crate) async fn create_checkpoint(
    State(state): State<Arc<AppState>>,
    Caller(principal): Caller,
) -> Result<Response, ApiError> {
    let key = state.audit_signing_key().ok_or_else(|| {
        ApiError::Conflict(
            "pave serve has no checkpoint signing key: set auth.audit.signingKey in pave.yaml (pave audit keygen makes one)".into(),
        )
    })?;
    let store = state.platform.store();
    let event = principal.event("audit.checkpoint", "audit", Outcome::Success, json!({}));
    store.append_audit(&[event]).await?;
    let head = store.audit_head().await?;
    let checkpoint = key.checkpoint(&head, pave_ingest::now_millis());
    store.add_checkpoint(&checkpoint).await?;
    Ok((StatusCode::CREATED, Json(checkpoint)).into_response())
}
