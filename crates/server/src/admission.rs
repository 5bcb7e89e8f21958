//! `POST /api/admission/validate`: the validating admission webhook.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::AppState;

pub(crate) async fn validate(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let policy = state.policy();
    let failure = state.admission_failure_policy();
    // Rego policies may take milliseconds: keep them off the async workers.
    let answer = tokio::task::spawn_blocking(move || {
        pave_check::admission::review(&policy, failure, &body, pave_check::now_unix())
    })
    .await;
    match answer {
        Ok(Ok(answer)) => {
            let verdict = if answer.allowed { "allowed" } else { "denied" };
            metrics::counter!("pave_admission_reviews_total", "verdict" => verdict).increment(1);
            if !answer.allowed {
                tracing::info!(object = %answer.object, "admission denied");
            }
            axum::Json(answer.review).into_response()
        }
        Ok(Err(bad)) => {
            metrics::counter!("pave_admission_reviews_total", "verdict" => "invalid").increment(1);
            (StatusCode::BAD_REQUEST, bad.to_string()).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "admission review panicked");
            (StatusCode::INTERNAL_SERVER_ERROR, "admission review failed").into_response()
        }
    }
}
