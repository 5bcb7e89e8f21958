//! `POST /api/admission/validate`: the validating admission webhook.
//!
//! Policy evaluation runs on blocking threads, at most `workers` at a time per listener,
//! and within a time budget: a review that cannot be evaluated in time (its turn did not
//! come, or the policy is slow) is answered by the failure policy at once, well before the
//! API server's own webhook timeout. The evaluation itself then finishes in the background
//! (Rego has its own hard limit), still holding its worker, so the pool stays bounded.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use crate::AppState;

/// A listener's budget for policy evaluation.
#[derive(Debug)]
pub(crate) struct Evaluator {
    budget: Duration,
    workers: Arc<Semaphore>,
}

impl Evaluator {
    pub(crate) fn new(budget: Duration, workers: usize) -> Arc<Self> {
        Arc::new(Evaluator {
            budget,
            workers: Arc::new(Semaphore::new(workers.max(1))),
        })
    }
}

pub(crate) async fn validate(
    State(state): State<Arc<AppState>>,
    Extension(evaluator): Extension<Arc<Evaluator>>,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let policy = state.policy();
    let failure = state.admission_failure_policy();
    let request = body.clone();
    let workers = Arc::clone(&evaluator.workers);
    let evaluation = async move {
        let permit = workers.acquire_owned().await.ok()?;
        // Rego policies may take milliseconds: keep them off the async workers.
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            pave_check::admission::review(&policy, failure, &request, pave_check::now_unix())
        })
        .await
        .map_err(|e| tracing::error!(error = %e, "admission review panicked"))
        .ok()
    };
    let (answer, evaluated) = match tokio::time::timeout(evaluator.budget, evaluation).await {
        Ok(Some(answer)) => (answer, true),
        Ok(None) => {
            return (StatusCode::INTERNAL_SERVER_ERROR, "admission review failed").into_response();
        }
        Err(_) => {
            let reason = format!(
                "no verdict within the webhook's budget of {} (--admission-timeout)",
                crate::listener::show(evaluator.budget)
            );
            tracing::warn!(
                waited_ms = started.elapsed().as_millis(),
                "admission review: {reason}"
            );
            (
                pave_check::admission::unevaluated(failure, &body, &reason),
                false,
            )
        }
    };
    match answer {
        Ok(answer) => {
            let verdict = match (evaluated, answer.allowed) {
                (false, _) => "unevaluated",
                (true, true) => "allowed",
                (true, false) => "denied",
            };
            metrics::counter!("pave_admission_reviews_total", "verdict" => verdict).increment(1);
            if !answer.allowed {
                tracing::info!(object = %answer.object, "admission denied");
            }
            axum::Json(answer.review).into_response()
        }
        Err(bad) => {
            metrics::counter!("pave_admission_reviews_total", "verdict" => "invalid").increment(1);
            (StatusCode::BAD_REQUEST, bad.to_string()).into_response()
        }
    }
}
