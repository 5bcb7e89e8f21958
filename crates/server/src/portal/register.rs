//! Registering a location from the portal: `GET /locations/register` is the form (type and
//! target), and `POST` the same address either reads the target without registering
//! anything (`step=preview`, the first submit: the API's `dryRun`) and shows what would be
//! registered, or registers it (`step=register`, the preview's confirm button: the API's
//! `POST /locations` with `onConflict=reject`).
//!
//! Both run the platform's operations as the API does, so the source is checked against
//! `catalog.reading` before anything is read and read under the same limits. A target that
//! is refused, cannot be read or is registered already comes back on the form's field
//! (422, `aria-invalid`). Permission: `catalog.location.create` for the type (only admins
//! register types outside `auth.locations.nonAdminTypes`), decided in the handler and
//! audited when refused; the registration itself is audited by the platform.

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use pave_auth::{Permission, Resource};
use pave_ingest::LocationKind;
use pave_platform::{LocationError, Principal};

use super::locations::{
    DonePage, KindGroup, Link, by_kind, field, form_fields, portal_error, registrable_kinds,
    report_lines, same_site, shown_target, store_error,
};
use super::problems::ProblemView;
use super::{Layout, PortalError, Section, render};
use crate::AppState;
use crate::auth::{self, Caller};
use crate::error::ApiError;

/// The longest target accepted (URLs and paths are far shorter).
pub(crate) const MAX_TARGET: usize = 2048;
/// The largest form body read.
const MAX_FORM: usize = 16 * 1024;
/// Problems listed in a preview (the rest are counted).
const MAX_PROBLEMS: usize = 200;

/// A choice of the type select.
pub(crate) struct KindOption {
    pub(crate) value: &'static str,
    pub(crate) selected: bool,
}

/// What a dry run found.
pub(crate) struct PreviewView {
    pub(crate) total: usize,
    pub(crate) groups: Vec<KindGroup>,
    pub(crate) unlisted: usize,
    pub(crate) problems: Vec<ProblemView>,
    pub(crate) problems_total: usize,
    pub(crate) errors: usize,
}

#[derive(Template)]
#[template(path = "location_register.html")]
pub(crate) struct RegisterPage {
    pub(crate) layout: Layout,
    pub(crate) kinds: Vec<KindOption>,
    pub(crate) kind: String,
    pub(crate) target: String,
    pub(crate) kind_error: Option<String>,
    pub(crate) target_error: Option<String>,
    pub(crate) preview: Option<PreviewView>,
    pub(crate) max_target: usize,
}

impl RegisterPage {
    fn new(kinds: &[LocationKind], kind: &str, target: &str) -> Self {
        RegisterPage {
            layout: Layout::new("Register a location", Section::Locations),
            kinds: kinds
                .iter()
                .map(|k| KindOption {
                    value: k.as_str(),
                    selected: k.as_str() == kind,
                })
                .collect(),
            kind: kind.to_owned(),
            // Typed text comes back for correcting, without control characters (a NUL in
            // the page is not what was typed any more than its replacement is).
            target: target
                .chars()
                .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
                .collect(),
            kind_error: None,
            target_error: None,
            preview: None,
            max_target: MAX_TARGET,
        }
    }

    /// What the target box should say about the kind chosen.
    pub(crate) fn placeholder(&self) -> &'static str {
        match self.kind.as_str() {
            "file" => "/srv/catalog/catalog-info.yaml",
            "git" => "https://git.example.com/team/repo.git#main",
            _ => "https://github.com/org/repo/blob/main/catalog-info.yaml",
        }
    }

    fn respond(self, status: StatusCode) -> Response {
        match render(&self) {
            Ok(html) => (status, html).into_response(),
            Err(e) => e.into_response(),
        }
    }
}

/// `GET /locations/register`.
pub(crate) async fn form(
    State(state): State<Arc<AppState>>,
    Caller(principal): Caller,
) -> Response {
    let answer = async {
        may_register(&state, &principal).await?;
        let kinds = registrable_kinds(&state, &principal).await;
        let kind = kinds.first().map_or("url", |k| k.as_str());
        Ok::<_, PortalError>(RegisterPage::new(&kinds, kind, "").respond(StatusCode::OK))
    };
    match answer.await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

/// `catalog.location.create` of some type (audited when refused).
async fn may_register(state: &AppState, principal: &Principal) -> Result<(), PortalError> {
    auth::check(
        state,
        principal,
        Permission::CatalogLocationCreate,
        &Resource::None,
        "/locations/register",
    )
    .await
    .map_err(portal_error)
}

/// `POST /locations/register`: `type`, `target` and `step` (`preview` or `register`).
pub(crate) async fn submit(
    State(state): State<Arc<AppState>>,
    Caller(principal): Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match submitted(&state, &principal, &headers, &body).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn submitted(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, PortalError> {
    same_site(headers)?;
    let form = form_fields(body, MAX_FORM)?;
    let (kind, target, step) = (
        field(&form, "type").trim(),
        field(&form, "target").trim(),
        field(&form, "step").trim(),
    );
    let register = match step {
        "" | "preview" => false,
        "register" => true,
        other => {
            return Err(PortalError::BadRequest(format!(
                "“{}” is not a step of registering; it is preview or register.",
                super::view::shorten(other, 40)
            )));
        }
    };
    may_register(state, principal).await?;
    let kinds = registrable_kinds(state, principal).await;
    let mut page = RegisterPage::new(&kinds, kind, target);
    // The shape of the answers first: nothing is decided or read for a malformed one.
    let Some(parsed) = LocationKind::parse(kind) else {
        page.kind = kinds.first().map_or("url", |k| k.as_str()).to_owned();
        page.kind_error = Some(format!(
            "Choose a type: {}.",
            kinds
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        return Ok(page.respond(StatusCode::UNPROCESSABLE_ENTITY));
    };
    if let Some(problem) = target_problem(target) {
        page.target_error = Some(problem);
        return Ok(page.respond(StatusCode::UNPROCESSABLE_ENTITY));
    }
    // As the API decides it: registering this type (only admins register types outside
    // `auth.locations.nonAdminTypes`), refused and recorded for a crafted form.
    auth::check(
        state,
        principal,
        Permission::CatalogLocationCreate,
        &Resource::NewLocation {
            kind: kind.to_owned(),
        },
        &format!("{kind}:{target}"),
    )
    .await
    .map_err(portal_error)?;
    if register {
        return registered(state, principal, parsed, target, page).await;
    }
    match state
        .platform
        .preview_location(principal, kind, target)
        .await
    {
        Ok((kind, admitted, preview, exists)) => {
            if exists {
                page.target_error = Some(already_registered());
                return Ok(page.respond(StatusCode::UNPROCESSABLE_ENTITY));
            }
            let paths = crate::api::locations::client_paths(state, kind, &admitted);
            let catalog = state.catalog();
            let (groups, unlisted) = by_kind(&preview.entities, Some(&catalog));
            let problems: Vec<ProblemView> = preview
                .diagnostics
                .iter()
                .take(MAX_PROBLEMS)
                .map(|d| ProblemView::of(&paths.diagnostic(d), &catalog))
                .collect();
            page.preview = Some(PreviewView {
                total: preview.entities.len(),
                groups,
                unlisted,
                problems,
                problems_total: preview.diagnostics.len(),
                errors: preview.diagnostics.iter().filter(|d| d.is_error()).count(),
            });
            Ok(page.respond(StatusCode::OK))
        }
        Err(error) => on_field(state, parsed, target, error, page),
    }
}

/// Why `target` cannot be a location's target as typed, if it cannot.
fn target_problem(target: &str) -> Option<String> {
    if target.is_empty() {
        return Some("Enter the URL or path to read.".into());
    }
    if target.len() > MAX_TARGET {
        return Some(format!(
            "The target is too long (at most {MAX_TARGET} bytes)."
        ));
    }
    if target.chars().any(char::is_control) {
        return Some("The target must not contain control characters (a newline, a tab).".into());
    }
    None
}

fn already_registered() -> String {
    "This location is registered already: refresh it from the Locations page.".into()
}

/// A refusal or failure of the source as the form shows it, on the target's field; a store
/// failure is the error page.
fn on_field(
    state: &AppState,
    kind: LocationKind,
    target: &str,
    error: LocationError,
    mut page: RegisterPage,
) -> Result<Response, PortalError> {
    let message = match error {
        LocationError::Invalid(message) => message,
        LocationError::Conflict(_) => already_registered(),
        LocationError::Unreadable(e) => {
            let paths = crate::api::locations::client_paths(state, kind, target);
            format!("It cannot be read: {}", paths.text(&e.to_string()))
        }
        LocationError::Store(e) => return Err(store_error("registering a location", e)),
        other => return Err(portal_error(ApiError::from(other))),
    };
    page.target_error = Some(message);
    Ok(page.respond(StatusCode::UNPROCESSABLE_ENTITY))
}

/// `step=register`: registers and reads the location; the outcome page lists what it
/// provides.
async fn registered(
    state: &AppState,
    principal: &Principal,
    kind: LocationKind,
    target: &str,
    page: RegisterPage,
) -> Result<Response, PortalError> {
    let (location, _, report) = match state
        .platform
        .add_location(principal, kind.as_str(), target, false)
        .await
    {
        Ok(done) => done,
        Err(error) => return on_field(state, kind, target, error, page),
    };
    let entities = state
        .platform
        .location_entities(principal, &location.id)
        .await
        .map_err(|e| store_error("reading a location's entities", e))?;
    let catalog = state.catalog();
    let (groups, unlisted) = by_kind(&entities, Some(&catalog));
    let (lines, failed) = report_lines(state, &report);
    let shown = shown_target(location.kind, &location.target);
    let done = DonePage {
        layout: Layout::new(format!("Registered {shown}"), Section::Locations),
        heading: format!("Registered {} location {shown}", location.kind),
        lines,
        failed,
        groups,
        unlisted,
        links: vec![
            Link {
                label: "Back to the locations".into(),
                href: "/locations".into(),
            },
            Link {
                label: "Its problems".into(),
                href: super::problems::href(Some(location.id.as_str()), None, 1),
            },
        ],
    };
    Ok(match render(&done) {
        Ok(html) => (StatusCode::CREATED, html).into_response(),
        Err(e) => e.into_response(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_checked_before_anything_is_read() {
        assert!(target_problem("").is_some());
        assert!(target_problem(&"a".repeat(MAX_TARGET + 1)).is_some());
        assert!(target_problem("https://x.example/a\nb").is_some());
        assert!(target_problem("https://example.com/catalog-info.yaml").is_none());
    }
}
