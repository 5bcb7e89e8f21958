//! The operations pages: registered locations, refreshing and unregistering them, and the
//! Refresh button of entity pages. Registering is in [`super::register`], the ingestion
//! problems in [`super::problems`].
//!
//! - `GET /locations`: the registered locations, a page at a time: type, target, when each
//!   was last read, its entities and its problems, with Refresh and Unregister for those
//!   allowed (`catalog.location.read` to see the page).
//! - `POST /locations/{id}/refresh`: reads the location again (`catalog.entity.refresh` on
//!   the location, with the owners of what it provides, as the API decides it).
//! - `GET /locations/{id}/unregister`: what unregistering would remove, and the button;
//!   `POST` the same address unregisters (`catalog.location.delete`).
//! - `POST /catalog/{namespace}/{kind}/{name}/refresh`: reads the location an entity came
//!   from (`catalog.entity.refresh` on the entity).
//!
//! Every decision is taken in the handler with the resource (as the API's equivalents do,
//! refusals audited), so a refusal is the portal's 403 page; buttons are shown only to
//! those [`auth::may`] allows. The writes go through the platform, which audits them in
//! their own transactions. POSTs are cookie-authenticated forms: [`crate::auth::authenticate`]
//! has checked their `csrf` field before a handler here runs; [`same_site`] also refuses
//! forms sent from other sites, which matters where there is no session (auth off).
//!
//! Targets of `file` locations are paths on the server: only their last part is shown, as
//! on a Location entity's page; problems name files relative to the location's root.

use std::sync::Arc;

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pave_auth::{Permission, Resource};
use pave_catalog::Catalog;
use pave_ingest::{IngestReport, LocationKind};
use pave_platform::Principal;
use pave_store::{LocationId, LocationRow};
use serde_json::Value;

use super::view::{self, Identity};
use super::{Layout, PortalError, Section, render};
use crate::AppState;
use crate::auth::{self, Caller};
use crate::error::ApiError;

/// Locations per page of `/locations`.
const PER_PAGE: usize = 25;
/// Entities listed by name on the unregister and register pages (the rest are counted).
pub(crate) const MAX_LISTED: usize = 200;

/// A refusal or failure from the shared checks, as the portal shows it.
pub(crate) fn portal_error(error: ApiError) -> PortalError {
    match error {
        ApiError::Forbidden(message) | ApiError::Unauthenticated(message) => {
            PortalError::Forbidden(message)
        }
        ApiError::Input(message) => PortalError::BadRequest(message),
        ApiError::NotFound(message) => PortalError::PageNotFound(message),
        ApiError::Busy {
            message,
            retry_after,
        } => PortalError::Busy {
            message,
            retry_after,
        },
        other => PortalError::internal("serving an operations page", other),
    }
}

/// A store failure: a database that does not answer is "busy, try again" (503), anything
/// else is logged with `context` and shown as the 500 page.
pub(crate) fn store_error(context: &str, error: pave_store::StoreError) -> PortalError {
    if error.is_unavailable() {
        return portal_error(ApiError::from(error));
    }
    PortalError::internal(context, error)
}

/// When `ms` (Unix milliseconds) was, in UTC.
pub(crate) fn iso(ms: i64) -> String {
    pave_stdx::time::iso8601_utc(ms.div_euclid(1000))
}

/// A location's target as the portal shows it. A `file` location names a path on the
/// server: only its last part is shown (`…/catalog-info.yaml`), as the Location entity's
/// page does; URLs are shown whole, as the API shows them.
pub(crate) fn shown_target(kind: LocationKind, target: &str) -> String {
    match kind {
        LocationKind::File => {
            let name = target
                .trim_end_matches(['/', '\\'])
                .rsplit(['/', '\\'])
                .next()
                .unwrap_or_default();
            format!("…/{name}")
        }
        LocationKind::Git | LocationKind::Url => target.to_owned(),
    }
}

/// Refuses a form another site's page sent. A browser names the page's origin on every
/// cross-site POST (`Origin`, and `Sec-Fetch-Site` in current browsers); tools that send
/// neither (curl, scripts with a token) are not browsers tricked into sending it. Signed-in
/// forms carry a CSRF token besides; this covers the server with auth off, where there is
/// no session to hold one.
pub(crate) fn same_site(headers: &HeaderMap) -> Result<(), PortalError> {
    let refused = || {
        PortalError::Forbidden(
            "This form was sent from another site; send it from pave's own page.".into(),
        )
    };
    if let Some(site) = headers.get("sec-fetch-site") {
        return match site.to_str().unwrap_or_default() {
            "same-origin" | "none" => Ok(()),
            _ => Err(refused()),
        };
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| url::Url::parse(o).ok())
        .and_then(|u| {
            let host = u.host_str()?.to_owned();
            Some(match u.port() {
                Some(port) => format!("{host}:{port}"),
                None => host,
            })
        });
    match origin_host {
        Some(origin) if !host.is_empty() && origin.eq_ignore_ascii_case(host) => Ok(()),
        _ => Err(refused()),
    }
}

/// The form fields of a urlencoded body (the `csrf` field was checked before the handler).
pub(crate) fn form_fields(body: &[u8], max: usize) -> Result<Vec<(String, String)>, PortalError> {
    if body.len() > max {
        return Err(PortalError::BadRequest(format!(
            "The form is too large (at most {} KiB).",
            max / 1024
        )));
    }
    Ok(url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .take(64)
        .collect())
}

/// The first value of field `name` (empty when absent).
pub(crate) fn field<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// Whether `principal` may do `permission` to any resource without its details (auth off,
/// or a role granting it): then there is no need to read what the location provides.
fn allowed_outright(state: &AppState, principal: &Principal, permission: Permission) -> bool {
    match auth::enabled(state) {
        None => true,
        Some(policy) => {
            state.authorization_policy().is_none()
                && pave_auth::allowed_outright(&policy, &principal.subject(), permission)
        }
    }
}

/// A registered location as authorization sees it (as the API builds it): its type and the
/// owners of each entity it provides.
async fn location_resource(
    state: &AppState,
    principal: &Principal,
    location: &LocationRow,
) -> Result<Resource, PortalError> {
    let entities = state
        .platform
        .location_entities(principal, &location.id)
        .await
        .map_err(|e| store_error("reading a location's entities", e))?;
    Ok(Resource::Location {
        kind: location.kind.to_string(),
        provided_owners: entities.iter().map(auth::owners_of).collect(),
    })
}

/// What the buttons of one location allow.
struct Allowed {
    refresh: bool,
    unregister: bool,
}

async fn allowed_on(
    state: &AppState,
    principal: &Principal,
    location: &LocationRow,
) -> Result<Allowed, PortalError> {
    let refresh = allowed_outright(state, principal, Permission::CatalogEntityRefresh);
    let unregister = allowed_outright(state, principal, Permission::CatalogLocationDelete);
    if refresh && unregister {
        return Ok(Allowed {
            refresh,
            unregister,
        });
    }
    let resource = location_resource(state, principal, location).await?;
    Ok(Allowed {
        refresh: refresh
            || auth::may(
                state,
                principal,
                Permission::CatalogEntityRefresh,
                &resource,
            )
            .await,
        unregister: unregister
            || auth::may(
                state,
                principal,
                Permission::CatalogLocationDelete,
                &resource,
            )
            .await,
    })
}

/// The location kinds `principal` may register (`auth.locations.nonAdminTypes` limits them
/// for everyone but admins).
pub(crate) async fn registrable_kinds(
    state: &AppState,
    principal: &Principal,
) -> Vec<LocationKind> {
    let mut kinds = Vec::new();
    for kind in LocationKind::ALL {
        let resource = Resource::NewLocation {
            kind: kind.to_string(),
        };
        if auth::may(
            state,
            principal,
            Permission::CatalogLocationCreate,
            &resource,
        )
        .await
        {
            kinds.push(kind);
        }
    }
    kinds
}

/// Counts of a location's stored problems.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ProblemCounts {
    pub(crate) errors: usize,
    pub(crate) warnings: usize,
    /// The last reading failed as a whole (its entities were kept as they were).
    pub(crate) failed: bool,
}

impl ProblemCounts {
    pub(crate) fn of(status: &pave_ingest::StoredStatus) -> Self {
        let errors = status.diagnostics.iter().filter(|d| d.is_error()).count();
        ProblemCounts {
            errors: errors + usize::from(status.failed.is_some()),
            warnings: status.diagnostics.len() - errors,
            failed: status.failed.is_some(),
        }
    }

    pub(crate) fn total(&self) -> usize {
        self.errors + self.warnings
    }
}

// --- /locations ---------------------------------------------------------------------------

/// One row of the locations table.
pub(crate) struct LocationView {
    pub(crate) id: String,
    /// The start of the id, which tells locations apart where their targets read alike.
    pub(crate) short_id: String,
    pub(crate) kind: &'static str,
    pub(crate) target: String,
    /// The generated `Location` entity standing for it, and its page.
    pub(crate) entity_ref: String,
    pub(crate) entity_href: Option<String>,
    pub(crate) last_read: String,
    pub(crate) entities: usize,
    pub(crate) problems: ProblemCounts,
    pub(crate) problems_href: String,
    pub(crate) may_refresh: bool,
    pub(crate) may_unregister: bool,
}

impl LocationView {
    /// "2 errors, 1 warning", or "none".
    pub(crate) fn problem_text(&self) -> String {
        problem_text(self.problems)
    }
}

pub(crate) fn problem_text(counts: ProblemCounts) -> String {
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    match (counts.errors, counts.warnings) {
        (0, 0) => "none".to_owned(),
        (e, 0) => plural(e, "error", "errors"),
        (0, w) => plural(w, "warning", "warnings"),
        (e, w) => format!(
            "{}, {}",
            plural(e, "error", "errors"),
            plural(w, "warning", "warnings")
        ),
    }
}

#[derive(Template)]
#[template(path = "locations.html")]
pub(crate) struct LocationsPage {
    pub(crate) layout: Layout,
    pub(crate) rows: Vec<LocationView>,
    pub(crate) total: usize,
    pub(crate) first: usize,
    pub(crate) last: usize,
    pub(crate) page: usize,
    pub(crate) pages: usize,
    pub(crate) prev_href: Option<String>,
    pub(crate) next_href: Option<String>,
    pub(crate) may_register: bool,
}

fn page_href(page: usize) -> String {
    if page <= 1 {
        "/locations".to_owned()
    } else {
        format!("/locations?page={page}")
    }
}

/// The `page` parameter of a listing (1 when absent); other parameters are ignored, and
/// too many of them refused.
pub(crate) fn page_param(raw: Option<&str>) -> Result<usize, PortalError> {
    let pairs = url::form_urlencoded::parse(raw.unwrap_or("").as_bytes());
    let limit = pave_catalog::query::RequestLimits::default().parameters;
    pave_catalog::query::limits::check("query parameters", pairs.count(), limit)
        .map_err(|e| PortalError::BadRequest(format!("{e}.")))?;
    let Some((_, value)) = pairs.into_iter().find(|(k, _)| k == "page") else {
        return Ok(1);
    };
    let value = value.trim();
    if value.is_empty() {
        return Ok(1);
    }
    value.parse().ok().filter(|p| *p >= 1).ok_or_else(|| {
        PortalError::BadRequest(format!(
            "“{}” is not a page number; pages are numbered from 1.",
            view::shorten(value, 40)
        ))
    })
}

/// `GET /locations`.
pub(crate) async fn list(
    State(state): State<Arc<AppState>>,
    Caller(principal): Caller,
    RawQuery(raw): RawQuery,
) -> Response {
    match list_page(&state, &principal, raw.as_deref()).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn list_page(
    state: &AppState,
    principal: &Principal,
    raw: Option<&str>,
) -> Result<Response, PortalError> {
    auth::check(
        state,
        principal,
        Permission::CatalogLocationRead,
        &Resource::None,
        "/locations",
    )
    .await
    .map_err(portal_error)?;
    let requested = page_param(raw)?;
    let locations = state
        .platform
        .locations(principal)
        .await
        .map_err(|e| store_error("listing locations", e))?;
    let total = locations.len();
    let pages = total.div_ceil(PER_PAGE).max(1);
    // Past the end (after unregistering the last ones): the last page instead.
    let page = requested.min(pages);
    // Statuses are parsed for the page's rows only; the Problems page reads them all.
    let catalog = state.catalog();
    let mut rows = Vec::new();
    for location in locations.iter().skip((page - 1) * PER_PAGE).take(PER_PAGE) {
        rows.push(row(state, principal, &catalog, location).await?);
    }
    let first = if rows.is_empty() {
        0
    } else {
        (page - 1) * PER_PAGE + 1
    };
    let view = LocationsPage {
        layout: Layout::new("Locations", Section::Locations),
        total,
        first,
        last: first + rows.len().saturating_sub(1),
        prev_href: (page > 1).then(|| page_href(page - 1)),
        next_href: (page < pages).then(|| page_href(page + 1)),
        page,
        pages,
        may_register: !registrable_kinds(state, principal).await.is_empty(),
        rows,
    };
    Ok(render(&view)?.into_response())
}

async fn row(
    state: &AppState,
    principal: &Principal,
    catalog: &Catalog,
    location: &LocationRow,
) -> Result<LocationView, PortalError> {
    let entities = state
        .platform
        .store()
        .location_entity_heads(&location.id)
        .await
        .map_err(|e| store_error("counting a location's entities", e))?
        .len();
    let status = location
        .status
        .as_deref()
        .and_then(pave_ingest::StoredStatus::parse);
    let problems = status.as_ref().map(ProblemCounts::of).unwrap_or_default();
    let allowed = allowed_on(state, principal, location).await?;
    let entity_ref = pave_ingest::generated_location_ref(location.kind, &location.target);
    let entity_href = catalog
        .get(&entity_ref)
        .map(|record| Identity::of(&record.entity()).href);
    Ok(LocationView {
        id: location.id.to_string(),
        short_id: super::problems::short_id(location.id.as_str()).to_owned(),
        kind: location.kind.as_str(),
        target: shown_target(location.kind, &location.target),
        entity_ref,
        entity_href,
        last_read: location
            .refreshed_at
            .map_or_else(|| "never".to_owned(), iso),
        entities,
        problems,
        problems_href: super::problems::href(Some(location.id.as_str()), None, 1),
        may_refresh: allowed.refresh,
        may_unregister: allowed.unregister,
    })
}

// --- outcomes -----------------------------------------------------------------------------

/// Entities of one kind, by name (at most [`MAX_LISTED`] over all kinds).
pub(crate) struct KindGroup {
    pub(crate) kind: String,
    pub(crate) count: usize,
    pub(crate) entities: Vec<EntityItem>,
}

pub(crate) struct EntityItem {
    pub(crate) label: String,
    pub(crate) href: Option<String>,
}

/// `entities` grouped by kind (kinds by name, entities by namespace and name), the first
/// [`MAX_LISTED`] named; `linked` entities link to their pages when `catalog` has them.
pub(crate) fn by_kind(entities: &[Value], catalog: Option<&Catalog>) -> (Vec<KindGroup>, usize) {
    let mut ids: Vec<Identity> = entities.iter().map(Identity::of).collect();
    ids.sort_by(|a, b| {
        (a.kind.to_lowercase(), &a.namespace, &a.name).cmp(&(
            b.kind.to_lowercase(),
            &b.namespace,
            &b.name,
        ))
    });
    let mut groups: Vec<KindGroup> = Vec::new();
    let mut listed = 0;
    for id in ids {
        let item = (listed < MAX_LISTED).then(|| {
            listed += 1;
            let in_catalog = catalog.is_some_and(|c| c.get(&id.reference).is_some());
            EntityItem {
                label: if id
                    .namespace
                    .eq_ignore_ascii_case(pave_catalog::DEFAULT_NAMESPACE)
                {
                    id.name.clone()
                } else {
                    format!("{}/{}", id.namespace, id.name)
                },
                href: in_catalog.then(|| id.href.clone()),
            }
        });
        match groups.last_mut() {
            Some(group) if group.kind.eq_ignore_ascii_case(&id.kind) => {
                group.count += 1;
                group.entities.extend(item);
            }
            _ => groups.push(KindGroup {
                kind: id.kind.clone(),
                count: 1,
                entities: item.into_iter().collect(),
            }),
        }
    }
    let unlisted = entities.len() - listed;
    (groups, unlisted)
}

/// A link at the bottom of an outcome page.
pub(crate) struct Link {
    pub(crate) label: String,
    pub(crate) href: String,
}

/// What a refresh, registration or unregistration did.
#[derive(Template)]
#[template(path = "location_done.html")]
pub(crate) struct DonePage {
    pub(crate) layout: Layout,
    pub(crate) heading: String,
    /// Sentences saying what happened.
    pub(crate) lines: Vec<String>,
    /// Why the source could not be read (its entities were kept as they were).
    pub(crate) failed: Option<String>,
    pub(crate) groups: Vec<KindGroup>,
    pub(crate) unlisted: usize,
    pub(crate) links: Vec<Link>,
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The sentences and failure of a reading's report, its paths as clients see them.
pub(crate) fn report_lines(
    state: &AppState,
    report: &IngestReport,
) -> (Vec<String>, Option<String>) {
    let t = report.totals();
    let mut lines = vec![format!(
        "{} added, {} updated, {} unchanged, {} removed; {} read ({} unchanged).",
        plural(t.added, "entity", "entities"),
        t.updated,
        t.unchanged,
        t.removed,
        plural(t.files_read, "file", "files"),
        t.files_unchanged,
    )];
    if t.rejected + t.conflicts > 0 {
        lines.push(format!(
            "{} rejected and {} in conflict with another location (each keeps its last accepted version).",
            plural(t.rejected, "entity", "entities"),
            t.conflicts
        ));
    }
    let problems = problem_text(ProblemCounts {
        errors: t.errors,
        warnings: t.warnings,
        failed: false,
    });
    lines.push(format!("Problems: {problems}."));
    let failed: Vec<String> = report
        .locations
        .iter()
        .filter_map(|l| {
            l.failed.as_ref().map(|why| {
                let paths = crate::api::locations::client_paths(state, l.kind, &l.target);
                paths.text(why)
            })
        })
        .collect();
    (lines, (!failed.is_empty()).then(|| failed.join("; ")))
}

/// Renders `page` with `status`.
fn done(page: &DonePage, status: StatusCode) -> Response {
    match render(page) {
        Ok(html) => (status, html).into_response(),
        Err(e) => e.into_response(),
    }
}

// --- POST /locations/{id}/refresh ---------------------------------------------------------

/// The location an `/locations/{id}/…` address names and the entities it provides, once
/// `principal` may do `permission` to it. As with the API, the decision comes first: an
/// unknown id is a location providing nothing (refused unless a role allows), then 404.
async fn addressed(
    state: &AppState,
    principal: &Principal,
    path: Result<Path<String>, PathRejection>,
    permission: Permission,
) -> Result<(LocationRow, Vec<Value>), PortalError> {
    let Ok(Path(id)) = path else {
        return Err(PortalError::BadRequest(
            "The location address is malformed.".into(),
        ));
    };
    // Ids are UUIDs; anything else is no location, and is not echoed back whole.
    let shown = view::shorten(&id, 60);
    let location = if id.len() > 100 || id.chars().any(char::is_control) {
        None
    } else {
        state
            .platform
            .location(principal, &LocationId::from(id.as_str()))
            .await
            .map_err(|e| store_error("reading a location", e))?
    };
    let entities = match &location {
        Some(location) => state
            .platform
            .location_entities(principal, &location.id)
            .await
            .map_err(|e| store_error("reading a location's entities", e))?,
        None => Vec::new(),
    };
    let resource = Resource::Location {
        kind: location
            .as_ref()
            .map(|l| l.kind.to_string())
            .unwrap_or_default(),
        provided_owners: entities.iter().map(auth::owners_of).collect(),
    };
    let target = location.as_ref().map_or(shown.as_str(), |l| l.id.as_str());
    auth::check(state, principal, permission, &resource, target)
        .await
        .map_err(portal_error)?;
    match location {
        Some(location) => Ok((location, entities)),
        None => Err(PortalError::PageNotFound(format!("/locations/{shown}"))),
    }
}

/// `POST /locations/{id}/refresh`.
pub(crate) async fn refresh(
    State(state): State<Arc<AppState>>,
    Caller(principal): Caller,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    let answer = async {
        same_site(&headers)?;
        let (location, _) =
            addressed(&state, &principal, path, Permission::CatalogEntityRefresh).await?;
        let report = state
            .platform
            .refresh(&principal, std::slice::from_ref(&location), None)
            .await
            .map_err(|e| portal_error(e.into()))?;
        let shown = shown_target(location.kind, &location.target);
        Ok::<_, PortalError>(refreshed(
            &state,
            &report,
            format!("Refreshed {} location {shown}", location.kind),
            location.id.as_str(),
            Link {
                label: "Back to the locations".into(),
                href: "/locations".into(),
            },
        ))
    };
    match answer.await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

/// The outcome page of a reading: 503 when the source could not be read, as the API's
/// refresh answers.
fn refreshed(
    state: &AppState,
    report: &IngestReport,
    heading: String,
    location_id: &str,
    back: Link,
) -> Response {
    let (lines, failed) = report_lines(state, report);
    let status = if failed.is_some() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    let page = DonePage {
        layout: Layout::new(heading.clone(), Section::Locations),
        heading,
        lines,
        failed,
        groups: Vec::new(),
        unlisted: 0,
        links: vec![
            back,
            Link {
                label: "Its problems".into(),
                href: super::problems::href(Some(location_id), None, 1),
            },
        ],
    };
    done(&page, status)
}

// --- /locations/{id}/unregister -----------------------------------------------------------

#[derive(Template)]
#[template(path = "location_unregister.html")]
pub(crate) struct UnregisterPage {
    pub(crate) layout: Layout,
    pub(crate) id: String,
    pub(crate) kind: &'static str,
    pub(crate) target: String,
    pub(crate) total: usize,
    pub(crate) groups: Vec<KindGroup>,
    pub(crate) unlisted: usize,
}

/// `GET /locations/{id}/unregister`: the confirmation.
pub(crate) async fn confirm_unregister(
    State(state): State<Arc<AppState>>,
    Caller(principal): Caller,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    let answer = async {
        let (location, entities) =
            addressed(&state, &principal, path, Permission::CatalogLocationDelete).await?;
        let catalog = state.catalog();
        let (groups, unlisted) = by_kind(&entities, Some(&catalog));
        let target = shown_target(location.kind, &location.target);
        let page = UnregisterPage {
            layout: Layout::new(format!("Unregister {target}"), Section::Locations),
            id: location.id.to_string(),
            kind: location.kind.as_str(),
            target,
            total: entities.len(),
            groups,
            unlisted,
        };
        Ok::<_, PortalError>(render(&page)?.into_response())
    };
    match answer.await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

/// `POST /locations/{id}/unregister`.
pub(crate) async fn unregister(
    State(state): State<Arc<AppState>>,
    Caller(principal): Caller,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    let answer = async {
        same_site(&headers)?;
        let (location, entities) =
            addressed(&state, &principal, path, Permission::CatalogLocationDelete).await?;
        let removed = state
            .platform
            .remove_location(&principal, &location.id)
            .await
            .map_err(|e| portal_error(e.into()))?;
        let target = shown_target(location.kind, &location.target);
        if !removed {
            // Unregistered by someone else since it was looked up.
            return Err(PortalError::PageNotFound(format!(
                "/locations/{}",
                location.id
            )));
        }
        let (groups, unlisted) = by_kind(&entities, None);
        let page = DonePage {
            layout: Layout::new(format!("Unregistered {target}"), Section::Locations),
            heading: format!("Unregistered {} location {target}", location.kind),
            lines: vec![format!(
                "{} it provided {} removed from the catalog.",
                plural(entities.len(), "entity", "entities"),
                if entities.len() == 1 { "was" } else { "were" }
            )],
            failed: None,
            groups,
            unlisted,
            links: vec![Link {
                label: "Back to the locations".into(),
                href: "/locations".into(),
            }],
        };
        Ok(done(&page, StatusCode::OK))
    };
    match answer.await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

// --- the entity page's Refresh ------------------------------------------------------------

/// The Refresh form's action for the entity `key` on its page, when `principal` may
/// refresh it (`catalog.entity.refresh` on the entity, which its owners hold too).
pub(crate) async fn entity_refresh_action(
    state: &AppState,
    principal: &Principal,
    key: &str,
) -> Option<String> {
    let permission = Permission::CatalogEntityRefresh;
    // The entity's owners are read only when a role does not settle it.
    let allowed = allowed_outright(state, principal, permission)
        || auth::may(
            state,
            principal,
            permission,
            &auth::entity_resource(state, key),
        )
        .await;
    allowed.then(|| format!("{}/refresh", entity_href_of(state, key)))
}

/// The page of the entity `key` (canonical `kind:namespace/name`).
fn entity_href_of(state: &AppState, key: &str) -> String {
    match state.catalog().get(key) {
        Some(record) => Identity::of(&record.entity()).href,
        None => {
            let (kind, rest) = key.split_once(':').unwrap_or(("component", key));
            let (namespace, name) = rest.split_once('/').unwrap_or(("default", rest));
            view::entity_href(kind, namespace, name)
        }
    }
}

/// `POST /catalog/{namespace}/{kind}/{name}/refresh`: reads the location the entity came
/// from, as the API's `POST /refresh` with an `entityRef` does.
pub(crate) async fn refresh_entity(
    State(state): State<Arc<AppState>>,
    Caller(principal): Caller,
    headers: HeaderMap,
    path: Result<Path<(String, String, String)>, PathRejection>,
) -> Response {
    let answer = async {
        same_site(&headers)?;
        let Ok(Path((namespace, kind, name))) = path else {
            return Err(PortalError::BadRequest(
                "The entity address is malformed.".into(),
            ));
        };
        let key = pave_catalog::EntityKey::new(&kind, &namespace, &name);
        let resource = auth::entity_resource(&state, key.as_str());
        auth::check(
            &state,
            &principal,
            Permission::CatalogEntityRefresh,
            &resource,
            key.as_str(),
        )
        .await
        .map_err(portal_error)?;
        let origin = state
            .platform
            .store()
            .entity_origin(key.as_str())
            .await
            .map_err(|e| store_error("finding an entity's location", e))?;
        let report = state
            .platform
            .refresh_entity(&principal, key.as_str())
            .await
            .map_err(|e| portal_error(e.into()))?;
        let (Some(report), Some(origin)) = (report, origin) else {
            return Err(PortalError::EntityNotFound(format!(
                "{kind}:{namespace}/{name}"
            )));
        };
        let href = entity_href_of(&state, key.as_str());
        Ok(refreshed(
            &state,
            &report,
            format!("Refreshed the location of {}", key.as_str()),
            origin.location_id.as_str(),
            Link {
                label: "Back to the entity".into(),
                href,
            },
        ))
    };
    match answer.await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_targets_show_their_last_part_only() {
        assert_eq!(
            shown_target(LocationKind::File, "/srv/secret/team/catalog-info.yaml"),
            "…/catalog-info.yaml"
        );
        assert_eq!(
            shown_target(LocationKind::File, "/srv/catalog/"),
            "…/catalog"
        );
        assert_eq!(
            shown_target(LocationKind::Url, "https://example.com/a/b.yaml"),
            "https://example.com/a/b.yaml"
        );
    }

    #[test]
    fn forms_from_other_sites_are_refused() {
        let headers = |pairs: &[(&str, &str)]| {
            let mut map = HeaderMap::new();
            for (k, v) in pairs {
                map.insert(
                    axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    v.parse().unwrap(),
                );
            }
            map
        };
        assert!(same_site(&headers(&[])).is_ok(), "curl sends neither");
        assert!(same_site(&headers(&[("sec-fetch-site", "same-origin")])).is_ok());
        assert!(same_site(&headers(&[("sec-fetch-site", "cross-site")])).is_err());
        assert!(same_site(&headers(&[("sec-fetch-site", "same-site")])).is_err());
        assert!(
            same_site(&headers(&[
                ("origin", "http://localhost:7007"),
                ("host", "localhost:7007")
            ]))
            .is_ok()
        );
        assert!(
            same_site(&headers(&[
                ("origin", "https://evil.example"),
                ("host", "localhost:7007")
            ]))
            .is_err()
        );
        assert!(same_site(&headers(&[("origin", "null"), ("host", "localhost")])).is_err());
    }

    #[test]
    fn problems_are_counted_in_words() {
        let counts = |errors, warnings| ProblemCounts {
            errors,
            warnings,
            failed: false,
        };
        assert_eq!(problem_text(counts(0, 0)), "none");
        assert_eq!(problem_text(counts(1, 0)), "1 error");
        assert_eq!(problem_text(counts(2, 1)), "2 errors, 1 warning");
        assert_eq!(problem_text(counts(0, 3)), "3 warnings");
    }

    #[test]
    fn entities_are_grouped_by_kind_and_capped() {
        let mut entities: Vec<Value> = (0..MAX_LISTED + 5)
            .map(|i| serde_json::json!({"kind": "Component", "metadata": {"name": format!("c{i:04}")}}))
            .collect();
        entities.push(
            serde_json::json!({"kind": "API", "metadata": {"name": "a", "namespace": "ops"}}),
        );
        let (groups, unlisted) = by_kind(&entities, None);
        assert_eq!(groups[0].kind, "API");
        assert_eq!(groups[0].entities[0].label, "ops/a");
        assert_eq!(groups[1].count, MAX_LISTED + 5);
        assert_eq!(unlisted, 6);
        assert_eq!(
            groups.iter().map(|g| g.entities.len()).sum::<usize>(),
            MAX_LISTED
        );
    }
}
