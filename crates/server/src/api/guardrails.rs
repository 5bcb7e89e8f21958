//! `POST /api/guardrails/reports` (a `pave check` JSON report, published by CI with `pave
//! check --publish`), `GET /api/guardrails/reports/latest` (an entity's newest) and `GET
//! /api/guardrails/reports` (its history): the data of the portal's Guardrails tab.
//!
//! Reports are kept per catalog entity (its newest 20, `pave_store::CHECK_REPORTS_KEPT`) as
//! `pave_policy_output::StoredReport` reads them: bounded, other schema versions refused,
//! summary checked against the findings. The routes are registered here ([`routes`]) with
//! their own body limit, outside the catalog's.
//!
//! Publishing takes `events.write`, which CI tokens hold for delivery events. A workload
//! token (a CI job's OIDC token) whose `auth.workload` rule maps it to an entity publishes
//! for that entity only: a pipeline of one service cannot overwrite another's guardrails.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use pave_auth::SubjectKind;
use pave_policy_output::{MAX_REPORT_BYTES, ReportError, StoredReport};
use pave_store::audit::Outcome;
use pave_store::{CHECK_REPORTS_KEPT, CheckCounts, CheckReportSummary, NewCheckReport};
use serde::Serialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::{self, Access, Caller, Declared};
use crate::error::ApiError;
use crate::guardrails::{entity_key, guardrails_history, latest_guardrails};

/// The longest commit id taken (a SHA-256 object name).
const MAX_COMMIT: usize = 64;
/// The longest branch name taken, in bytes (git's own limit is the file system's, 255).
const MAX_BRANCH: usize = 255;

/// The routes, each declaring its permission; the body limit is the handler's own (a clear
/// 413 rather than the layer's bare one).
pub(crate) fn routes(state: &Arc<AppState>) -> (Router<Arc<AppState>>, Vec<Declared>) {
    use pave_auth::Permission as P;
    auth::Routes::new(state, "")
        .route(
            "/api/guardrails/reports",
            Method::POST,
            Access::Require(P::EventsWrite),
            post(publish),
        )
        .route(
            "/api/guardrails/reports",
            Method::GET,
            Access::Require(P::CatalogEntityRead),
            get(history),
        )
        .route(
            "/api/guardrails/reports/latest",
            Method::GET,
            Access::Require(P::CatalogEntityRead),
            get(latest),
        )
        .into_parts()
}

/// The query parameters of a route: each at most once, none unknown.
fn params(raw: Option<&str>, known: &[&str]) -> Result<Vec<(String, String)>, ApiError> {
    let mut seen: Vec<(String, String)> = Vec::new();
    for (key, value) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        if !known.contains(&key.as_ref()) {
            return Err(ApiError::Input(format!(
                "bad parameter `{key}`: unknown; the parameters are {}",
                known.join(", ")
            )));
        }
        if seen.iter().any(|(k, _)| *k == key) {
            return Err(ApiError::Input(format!(
                "bad parameter `{key}`: given more than once"
            )));
        }
        seen.push((key.into_owned(), value.into_owned()));
    }
    Ok(seen)
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// The `entity` parameter as a canonical key.
fn entity_param(params: &[(String, String)]) -> Result<String, ApiError> {
    let text = param(params, "entity").ok_or_else(|| {
        ApiError::Input(
            "bad parameter `entity`: required, the entity's ref ([kind:][namespace/]name)".into(),
        )
    })?;
    entity_key(text).map_err(|e| ApiError::Input(format!("bad parameter `entity`: {e}")))
}

/// A commit id as git prints it (hex, abbreviated to 4 or more), lower-cased.
fn commit_param(value: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(value) = value else { return Ok(None) };
    if (4..=MAX_COMMIT).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(Some(value.to_ascii_lowercase()))
    } else {
        Err(ApiError::Input(format!(
            "bad parameter `commit`: a git commit id (4 to {MAX_COMMIT} hexadecimal digits), got `{}`",
            value.chars().take(80).collect::<String>()
        )))
    }
}

/// A branch name: no control characters or spaces (git refuses both), at most 255 bytes.
fn branch_param(value: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(value) = value else { return Ok(None) };
    if value.len() <= MAX_BRANCH && !value.chars().any(|c| c.is_control() || c.is_whitespace()) {
        Ok(Some(value.to_owned()))
    } else {
        Err(ApiError::Input(format!(
            "bad parameter `branch`: a branch name (at most {MAX_BRANCH} bytes, no spaces or control characters)"
        )))
    }
}

/// What `POST` answers, and the metadata `GET` answers with.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Stored {
    id: i64,
    entity: String,
    /// Unix seconds.
    received_at: i64,
    commit: Option<String>,
    branch: Option<String>,
    failed: u64,
    warnings: u64,
    excepted: u64,
    errors: u64,
    files: u64,
}

impl From<CheckReportSummary> for Stored {
    fn from(s: CheckReportSummary) -> Self {
        Stored {
            id: s.id,
            entity: s.entity_ref,
            received_at: s.received_at,
            commit: s.commit,
            branch: s.branch,
            failed: s.failed,
            warnings: s.warnings,
            excepted: s.excepted,
            errors: s.errors,
            files: s.files,
        }
    }
}

/// Publish a `pave check` report for a catalog entity.
///
/// The body is the report as `pave check --format json` writes it (`schemaVersion` 1), or as
/// `pave check --publish` sends it. At most the 5,000 most important findings are kept (the
/// rest counted), and the entity's newest 20 reports.
#[utoipa::path(post, path = "/api/guardrails/reports", tag = "guardrails",
    params(
        ("entity" = String, Query, description = "The entity the report is for: `[kind:][namespace/]name` (kind component, namespace default when left out); it must be in the catalog"),
        ("commit" = Option<String>, Query, description = "The commit checked (4 to 64 hex digits)"),
        ("branch" = Option<String>, Query, description = "The branch checked"),
    ),
    request_body(content = Object, content_type = "application/json", description = "The `pave check` JSON report (schemaVersion 1), at most 8 MiB"),
    responses(
        (status = 201, description = "`{id, entity, receivedAt, commit, branch, failed, warnings, excepted, errors, files, omittedFindings}`: stored"),
        (status = 400, description = "A bad parameter (named)"),
        (status = 401, description = "Not signed in"),
        (status = 403, description = "Lacks events.write, or a workload token of another entity"),
        (status = 404, description = "No such entity in the catalog"),
        (status = 413, description = "Larger than 8 MiB"),
        (status = 422, description = "Not a schemaVersion 1 report: another version, malformed (with the path of the first problem), or counts that contradict the findings"),
    ))]
pub(crate) async fn publish(
    State(state): State<Arc<AppState>>,
    Caller(principal): Caller,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let params = params(raw.as_deref(), &["entity", "commit", "branch"])?;
    let key = entity_param(&params)?;
    let commit = commit_param(param(&params, "commit"))?;
    let branch = branch_param(param(&params, "branch"))?;
    if state.catalog().get(&key).is_none() {
        return Err(ApiError::NotFound(format!(
            "no entity {key} in the catalog: check reports are kept per catalog entity (register its catalog-info.yaml, or name another with --entity)"
        )));
    }
    // Only kinds that show a Guardrails tab take reports: others would be kept unseen.
    let kind = key.split(':').next().unwrap_or_default();
    if !crate::guardrails::GUARDRAIL_KINDS.contains(&kind) {
        return Err(ApiError::Unprocessable(format!(
            "check reports are kept for components, resources and systems (what is built and deployed from a repository), not for {key}"
        )));
    }
    let subject = principal.subject();
    if let SubjectKind::Workload {
        entity: Some(own), ..
    } = &subject.kind
        && *own != key
    {
        let reason =
            format!("a workload token of {own} publishes check reports for {own} only, not {key}");
        let details = json!({"permission": "events.write", "reason": reason});
        let event = principal.event("auth.denied", &key, Outcome::Denied, details);
        if let Err(e) = state.platform.store().append_audit(&[event]).await {
            tracing::error!(error = %e, "cannot append the denial's audit record");
        }
        return Err(ApiError::Forbidden(format!(
            "events.write denied: {reason}"
        )));
    }
    let too_large = |size: Option<u64>| {
        let size = size.map_or_else(String::new, |n| format!("{n} bytes, "));
        ApiError::TooLarge(format!(
            "the report is {size}over the limit of {MAX_REPORT_BYTES} bytes (`pave check --publish` sends the 5,000 most important findings of any report)"
        ))
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(length) = declared.filter(|l| *l > MAX_REPORT_BYTES as u64) {
        return Err(too_large(Some(length)));
    }
    let bytes = axum::body::to_bytes(body, MAX_REPORT_BYTES)
        .await
        .map_err(|_| too_large(None))?;
    let report = state
        .heavy()
        .run(move || StoredReport::parse_slice(&bytes))
        .await?
        .map_err(|e| match e {
            ReportError::TooLarge { size, .. } => too_large(u64::try_from(size).ok()),
            e => ApiError::Unprocessable(e.to_string()),
        })?;
    let s = report.summary;
    let counts = CheckCounts {
        failed: s.failed,
        warnings: s.warnings,
        excepted: s.excepted,
        errors: s.errors,
        files: s.files,
    };
    let text = report.to_json();
    let details = json!({
        "commit": commit,
        "branch": branch,
        "failed": s.failed,
        "warnings": s.warnings,
        "excepted": s.excepted,
        "errors": s.errors,
        "omittedFindings": report.omitted.findings,
        "bytes": text.len(),
    });
    let event = principal.event("guardrails.report", &key, Outcome::Success, details);
    let row = NewCheckReport {
        entity_ref: key.clone(),
        received_at: pave_stdx::time::unix_millis().div_euclid(1000),
        commit,
        branch,
        counts,
        report: text,
    };
    let id = state
        .platform
        .store()
        .put_check_report(&row, &[event])
        .await?;
    let mut answer = serde_json::to_value(Stored {
        id,
        entity: key,
        received_at: row.received_at,
        commit: row.commit,
        branch: row.branch,
        failed: s.failed,
        warnings: s.warnings,
        excepted: s.excepted,
        errors: s.errors,
        files: s.files,
    })
    .map_err(|e| ApiError::internal("answering a published report", e))?;
    answer["omittedFindings"] = json!(report.omitted.findings);
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// The newest check report of an entity.
///
/// The report as stored (the `pave check` JSON report without `checked[]`, with the rules
/// its findings name and `omitted` counts) and when and for which commit it was published.
#[utoipa::path(get, path = "/api/guardrails/reports/latest", tag = "guardrails",
    params(("entity" = String, Query, description = "`[kind:][namespace/]name` (kind component, namespace default when left out)")),
    responses(
        (status = 200, description = "`{id, entity, receivedAt, commit, branch, failed, warnings, excepted, errors, files, report}`"),
        (status = 400, description = "A bad parameter (named)"),
        (status = 401, description = "Not signed in"),
        (status = 403, description = "Lacks catalog.entity.read"),
        (status = 404, description = "No report was published for the entity"),
    ))]
pub(crate) async fn latest(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params = params(raw.as_deref(), &["entity"])?;
    let key = entity_param(&params)?;
    let Some((row, report)) = latest_guardrails(&state, &key).await? else {
        return Err(ApiError::NotFound(format!(
            "no check report was published for {key} (`pave check --publish URL` in its CI)"
        )));
    };
    let mut answer = serde_json::to_value(Stored::from(row))
        .map_err(|e| ApiError::internal("answering a check report", e))?;
    answer["report"] = serde_json::to_value(report.as_ref())
        .map_err(|e| ApiError::internal("answering a check report", e))?;
    Ok((StatusCode::OK, Json(answer)).into_response())
}

/// The newest check reports of an entity, without the reports.
#[utoipa::path(get, path = "/api/guardrails/reports", tag = "guardrails",
    params(
        ("entity" = String, Query, description = "`[kind:][namespace/]name` (kind component, namespace default when left out)"),
        ("limit" = Option<usize>, Query, description = "At most this many, newest first (default and most 20)"),
    ),
    responses(
        (status = 200, description = "`{items: [{id, entity, receivedAt, commit, branch, failed, warnings, excepted, errors, files}]}`, newest first"),
        (status = 400, description = "A bad parameter (named)"),
        (status = 401, description = "Not signed in"),
        (status = 403, description = "Lacks catalog.entity.read"),
    ))]
pub(crate) async fn history(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params = params(raw.as_deref(), &["entity", "limit"])?;
    let key = entity_param(&params)?;
    let limit = match param(&params, "limit") {
        None => CHECK_REPORTS_KEPT,
        Some(v) => v
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=CHECK_REPORTS_KEPT).contains(n))
            .ok_or_else(|| {
                ApiError::Input(format!(
                    "bad parameter `limit`: a number from 1 to {CHECK_REPORTS_KEPT}, got `{}`",
                    v.chars().take(40).collect::<String>()
                ))
            })?,
    };
    let items: Vec<Stored> = guardrails_history(&state, &key, limit)
        .await?
        .into_iter()
        .map(Stored::from)
        .collect();
    let value: Value = json!({"items": items});
    Ok((StatusCode::OK, Json(value)).into_response())
}
