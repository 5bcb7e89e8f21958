//! `POST /api/postmortems` (a postmortem posted as Markdown with front matter, or as JSON
//! `{"name", "markdown"}`) into the intake, and `GET /api/postmortems`: every postmortem
//! known (read from registered sources, or posted) with the postmortem KPIs over a window.
//!
//! The routes are registered here ([`routes`]) with their own body limit, outside the
//! catalog's: a postmortem may be larger than a catalog request.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use pave_dora::postmortem::Window;
use pave_intake::IntakeError;
use serde::Deserialize;
use serde_json::{Value, json};

use super::dora::{DoraParams, reports};
use crate::AppState;
use crate::auth::{self, Access, Caller, Declared};
use crate::error::ApiError;

/// The largest postmortem accepted: the parser's limits (64 KiB of front matter, 1 MiB of
/// Markdown) and room for a JSON envelope's escapes.
pub const POSTMORTEM_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// The window parameters `GET /api/postmortems` takes (read as `GET /api/dora` reads them).
const LIST_PARAMS: [&str; 3] = ["since", "from", "to"];

/// The routes, each declaring its permission, with their body limit.
pub(crate) fn routes(state: &Arc<AppState>) -> (Router<Arc<AppState>>, Vec<Declared>) {
    use pave_auth::Permission as P;
    let (router, table) = auth::Routes::new(state, "")
        .route(
            "/api/postmortems",
            Method::POST,
            Access::Require(P::PostmortemWrite),
            post(post_postmortem),
        )
        // Read like the delivery figures they feed.
        .route(
            "/api/postmortems",
            Method::GET,
            Access::Require(P::CatalogEntityRead),
            get(list),
        )
        .into_parts();
    let router = router
        .layer(axum::extract::DefaultBodyLimit::max(POSTMORTEM_BODY_LIMIT))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            POSTMORTEM_BODY_LIMIT,
        ));
    (router, table)
}

/// A postmortem posted as JSON.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PostmortemBody {
    /// The name to keep it under (letters, digits, `-`, `_`, `.`; `.md` added); default:
    /// its date and title.
    name: Option<String>,
    /// The whole file: `---`, the YAML front matter, `---`, the Markdown.
    markdown: String,
}

/// Post a postmortem.
///
/// The body is the postmortem file (Markdown with YAML front matter, `Content-Type:
/// text/markdown`; the name in `?name=`), or JSON `{"name", "markdown"}`. Posting the same
/// text under the same name again changes nothing (200); a changed text is a new revision
/// that replaces the earlier one (201). Problems are reported all at once, each with its
/// line and column in the Markdown.
#[utoipa::path(post, path = "/api/postmortems", tag = "delivery",
    params(("name" = Option<String>, Query, description = "The name to keep it under (Markdown bodies); default: its date and title")),
    request_body(content = String, content_type = "text/markdown", description = "The postmortem file (or JSON `{name, markdown}`)"),
    responses(
        (status = 201, description = "`{name, revision, seq, duplicate: false, postmortem}`: recorded"),
        (status = 200, description = "The same text was posted under this name before: nothing changed"),
        (status = 400, description = "The postmortem cannot be read: `problems: [{line, column, path, code, message}]` (or a bad name)"),
        (status = 401, description = "Not signed in"),
        (status = 403, description = "Lacks postmortem.write"),
        (status = 413, description = "Larger than 2 MiB"),
        (status = 429, description = "The write queue is full (`Retry-After`)"),
    ))]
pub(crate) async fn post_postmortem(
    State(state): State<Arc<AppState>>,
    Caller(principal): Caller,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let Some(events) = state.events() else {
        return Err(ApiError::NotFound(
            "this server keeps no delivery data, so no postmortems".into(),
        ));
    };
    if body.len() > POSTMORTEM_BODY_LIMIT {
        return Err(ApiError::TooLarge(format!(
            "the postmortem is {} bytes, over the limit of {POSTMORTEM_BODY_LIMIT}",
            body.len()
        )));
    }
    let mut name: Option<String> = None;
    for (key, value) in url::form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes()) {
        match key.as_ref() {
            "name" if name.is_none() => name = Some(value.into_owned()),
            "name" => {
                return Err(ApiError::Input(
                    "bad parameter `name`: given more than once".into(),
                ));
            }
            other => {
                return Err(ApiError::Input(format!(
                    "bad parameter `{other}`: unknown; the parameter is name"
                )));
            }
        }
    }
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    let text = if is_json {
        let posted: PostmortemBody = serde_json::from_slice(&body).map_err(|e| {
            ApiError::Input(format!(
                "the JSON body cannot be read at line {} column {}: {e}",
                e.line(),
                e.column()
            ))
        })?;
        if posted.name.is_some() && name.is_some() {
            return Err(ApiError::Input(
                "give the name in the body or in `?name=`, not both".into(),
            ));
        }
        name = name.or(posted.name);
        posted.markdown
    } else {
        String::from_utf8(body.to_vec()).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            let line = body[..at].iter().filter(|b| **b == b'\n').count() + 1;
            ApiError::Input(format!(
                "the postmortem is not UTF-8 text (line {line}, byte {at})"
            ))
        })?
    };
    let origin = match &principal {
        pave_platform::Principal::Request(request) => pave_intake::Origin {
            address: request.source.clone(),
            request_id: request.request_id.clone(),
        },
        _ => pave_intake::Origin::default(),
    };
    let now = pave_stdx::time::unix_millis();
    let posted = events
        .intake
        .post_postmortem(&origin, name.as_deref(), &text, principal.actor(), now)
        .await;
    match posted {
        Ok(posted) => {
            events.processor.note_posted(&posted);
            let status = if posted.duplicate {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            Ok((status, Json(posted)).into_response())
        }
        Err(IntakeError::Postmortem(error)) => Ok(problems(&error)),
        Err(e) => Err(crate::events::intake_error(&e, "postmortem not recorded")),
    }
}

/// 400 with every problem of the file and where it is.
fn problems(error: &pave_dora::postmortem::PostmortemError) -> Response {
    let message = format!("the postmortem cannot be read:\n{}", error.render());
    let body = json!({
        "error": {"name": "InputError", "message": message},
        "response": {"statusCode": 400},
        "problems": error.diagnostics,
    });
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

/// List postmortems, with their KPIs.
///
/// Every postmortem pave knows: read from registered sources (`docs/postmortems/*.md` beside
/// catalog files, `origin: source`) and posted (`origin: api`), without their Markdown
/// bodies; and the postmortem KPIs over the window for the whole organisation: completion
/// for sev-1/2 incidents within 5 days, corrective-action closure by due date, repeat
/// incidents per service, and every overdue action by owner.
#[utoipa::path(get, path = "/api/postmortems", tag = "delivery",
    params(
        ("since" = Option<String>, Query, description = "The KPIs' window: this long before `to` (or now), e.g. `90d` (default 90d)"),
        ("from" = Option<String>, Query, description = "Window start instead: RFC 3339, a date, or Unix ms"),
        ("to" = Option<String>, Query, description = "Window end, exclusive (default now; a date includes that day)"),
    ),
    responses(
        (status = 200, description = "`{items: [{origin, file, title, incidents, date, severity, summary, entity, actions, excerpt}], kpis: {window, now, options, completion, closure, repeats, overdue_by_owner}}`"),
        (status = 400, description = "A bad parameter (named)"),
        (status = 401, description = "Not signed in"),
        (status = 403, description = "Lacks catalog.entity.read"),
        (status = 404, description = "No delivery data configured"),
    ))]
pub(crate) async fn list(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let now = pave_stdx::time::unix_millis();
    let params = DoraParams::parse(raw.as_deref(), &LIST_PARAMS, now)?;
    let reports = reports(&state)?;
    let window = Window {
        from: params.from,
        to: params.to,
    };
    let body = state
        .heavy()
        .run(move || {
            let items: Vec<Value> = reports
                .postmortems()
                .iter()
                .filter_map(|p| {
                    let mut value = serde_json::to_value(p).ok()?;
                    if let Some(map) = value.as_object_mut() {
                        // Bodies may be a megabyte each: a list carries the excerpt.
                        map.remove("body");
                        map.remove("body_line");
                    }
                    Some(value)
                })
                .collect();
            let kpis = reports.postmortem_kpis(window, now);
            json!({"items": items, "kpis": kpis}).to_string()
        })
        .await?;
    Ok(super::json_response(StatusCode::OK, body))
}
