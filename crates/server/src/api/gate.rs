//! `POST /api/slo/gate/overrides`: the record of a deploy-gate override. `pave slo gate
//! --override-reason … --pave-url …` decides from Prometheus as always; letting a frozen
//! change through is then authorized (`slo.gate.override`) and appended to the audit log
//! here, so the override has an actor and cannot go unrecorded: a refusal fails the gate.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pave_store::audit::Outcome;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::AppState;
use crate::api::body;
use crate::auth::Caller;
use crate::error::ApiError;

/// The longest reason kept, in characters.
const MAX_REASON: usize = 2_000;
/// The most SLO names one override lists.
const MAX_SLOS: usize = 1_000;

/// An override of the deploy gate.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct GateOverride {
    /// Why the change cannot wait (required, non-empty).
    pub(crate) reason: String,
    /// What is being deployed (an entity ref, a service, a pipeline run).
    #[serde(default)]
    pub(crate) target: String,
    /// The SLOs whose budgets said freeze.
    #[serde(default)]
    pub(crate) slos: Vec<String>,
    /// The gate's decision as `pave slo gate -o json` printed it.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub(crate) decision: Option<Value>,
}

/// Record a deploy-gate override.
#[utoipa::path(post, path = "/api/slo/gate/overrides", tag = "slo", request_body = GateOverride,
    responses((status = 201, description = "`{seq, hash}` of the audit record"), (status = 400, description = "No reason, or too long"), (status = 401, description = "Not signed in"), (status = 403, description = "Lacks slo.gate.override")))]
pub(crate) async fn record_override(
    State(state): State<Arc<AppState>>,
    Caller(principal): Caller,
    request: Result<Json<GateOverride>, JsonRejection>,
) -> Result<Response, ApiError> {
    let request = body(request)?;
    let reason = request.reason.trim();
    if reason.is_empty() {
        return Err(ApiError::Input(
            "an override needs its reason: why the change cannot wait".into(),
        ));
    }
    if reason.chars().count() > MAX_REASON || request.slos.len() > MAX_SLOS {
        return Err(ApiError::Input(format!(
            "at most {MAX_REASON} characters of reason and {MAX_SLOS} SLOs"
        )));
    }
    let event = principal.event(
        "gate.override",
        &request.target,
        Outcome::Success,
        json!({"reason": reason, "slos": request.slos, "decision": request.decision}),
    );
    let records = state.platform.store().append_audit(&[event]).await?;
    let record = records
        .first()
        .ok_or_else(|| ApiError::Internal("the audit log took no record".into()))?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"seq": record.seq, "hash": record.hash.to_hex()})),
    )
        .into_response())
}
