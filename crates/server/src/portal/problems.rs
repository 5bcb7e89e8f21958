//! `GET /locations/problems`: every problem the locations' last readings found, with its
//! file, line and column, severity, message and entity, filterable by location and
//! severity, a page at a time (`catalog.location.read`).
//!
//! The problems are what `GET /api/catalog/locations/{id}` shows as `status.diagnostics`:
//! each reading stores its first [`pave_ingest::STORED_DIAGNOSTICS`] (problems of files that
//! did not change are reported again at every reading), and a reading that failed as a
//! whole is one problem of its own. Files are named relative to their location's root
//! (`ClientPaths`, as the API names them), never by the server's folders.

use std::sync::Arc;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use pave_auth::{Permission, Resource};
use pave_catalog::Catalog;
use pave_ingest::{ClientPaths, Diagnostic, StoredStatus};
use pave_platform::Principal;
use pave_store::LocationRow;

use super::locations::{portal_error, shown_target, store_error};
use super::view::{self, RefView};
use super::{Layout, PortalError, Section, render};
use crate::AppState;
use crate::auth::{self, Caller};

/// Problems per page.
const PER_PAGE: usize = 50;
/// Locations named in the note on readings that kept only their first problems.
const MAX_CAPPED_NAMED: usize = 10;

/// One problem as the tables show it.
pub(crate) struct ProblemView {
    /// `file:line:column`, relative to the location's root.
    pub(crate) position: String,
    /// `error` or `warning`.
    pub(crate) severity: &'static str,
    pub(crate) message: String,
    /// The entity concerned, when known (a link when it is in the catalog).
    pub(crate) entity: Option<RefView>,
    /// The location it was found in (the Problems page; a preview has one).
    pub(crate) location: String,
    pub(crate) location_href: String,
}

impl ProblemView {
    /// `diagnostic` with its paths already made relative (`ClientPaths::diagnostic`).
    pub(crate) fn of(diagnostic: &Diagnostic, catalog: &Catalog) -> Self {
        let mut position = diagnostic.file.clone();
        if let Some(line) = diagnostic.line {
            position.push_str(&format!(":{line}"));
            if let Some(column) = diagnostic.column {
                position.push_str(&format!(":{column}"));
            }
        }
        ProblemView {
            position,
            severity: if diagnostic.is_error() {
                "error"
            } else {
                "warning"
            },
            message: diagnostic.message.clone(),
            entity: diagnostic
                .entity_ref
                .as_deref()
                .map(|r| view::resolve(catalog, r, None, pave_catalog::DEFAULT_NAMESPACE)),
            location: String::new(),
            location_href: String::new(),
        }
    }

    pub(crate) fn severity_class(&self) -> &'static str {
        match self.severity {
            "error" => "badge outcome-denied",
            _ => "badge outcome-failure",
        }
    }
}

/// The first part of a location's id (a UUID): enough to tell locations apart on a page.
pub(crate) fn short_id(id: &str) -> &str {
    id.split('-').next().unwrap_or(id)
}

/// `/locations/problems` with these filters, on `page` (1 is left out).
pub(crate) fn href(location: Option<&str>, severity: Option<&str>, page: usize) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if let Some(location) = location.filter(|l| !l.is_empty()) {
        query.append_pair("location", location);
    }
    if let Some(severity) = severity.filter(|s| !s.is_empty()) {
        query.append_pair("severity", severity);
    }
    if page > 1 {
        query.append_pair("page", &page.to_string());
    }
    let query = query.finish();
    if query.is_empty() {
        "/locations/problems".to_owned()
    } else {
        format!("/locations/problems?{query}")
    }
}

/// The page's parameters.
#[derive(Debug, Default, Clone)]
struct Params {
    location: String,
    severity: String,
    page: usize,
}

impl Params {
    fn parse(raw: Option<&str>) -> Result<Self, PortalError> {
        let page = super::locations::page_param(raw)?;
        let mut params = Params {
            page,
            ..Params::default()
        };
        for (key, value) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            let value = value.trim();
            match key.as_ref() {
                // Location ids are UUIDs: a longer value names none.
                "location" if value.len() <= 100 => value.clone_into(&mut params.location),
                "location" => {
                    return Err(PortalError::BadRequest(
                        "No location has an id that long.".into(),
                    ));
                }
                "severity" => match value {
                    "" | "error" | "warning" => value.clone_into(&mut params.severity),
                    _ => {
                        return Err(PortalError::BadRequest(
                            "The severity is error or warning.".into(),
                        ));
                    }
                },
                _ => {}
            }
        }
        Ok(params)
    }
}

/// A choice of the location filter.
pub(crate) struct LocationOption {
    pub(crate) id: String,
    pub(crate) label: String,
    pub(crate) count: usize,
    pub(crate) selected: bool,
}

#[derive(Template)]
#[template(path = "problems.html")]
pub(crate) struct ProblemsPage {
    pub(crate) layout: Layout,
    pub(crate) locations: Vec<LocationOption>,
    pub(crate) severity: String,
    pub(crate) rows: Vec<ProblemView>,
    pub(crate) total: usize,
    pub(crate) first: usize,
    pub(crate) last: usize,
    pub(crate) page: usize,
    pub(crate) pages: usize,
    pub(crate) prev_href: Option<String>,
    pub(crate) next_href: Option<String>,
    pub(crate) filtered: bool,
    /// Locations whose reading found more problems than are kept (the first few named).
    pub(crate) capped: Vec<String>,
    pub(crate) capped_more: usize,
    pub(crate) kept: usize,
}

/// `GET /locations/problems`.
pub(crate) async fn page(
    State(state): State<Arc<AppState>>,
    Caller(principal): Caller,
    RawQuery(raw): RawQuery,
) -> Response {
    match problems_page(&state, &principal, raw.as_deref()).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn problems_page(
    state: &AppState,
    principal: &Principal,
    raw: Option<&str>,
) -> Result<Response, PortalError> {
    auth::check(
        state,
        principal,
        Permission::CatalogLocationRead,
        &Resource::None,
        "/locations/problems",
    )
    .await
    .map_err(portal_error)?;
    let params = Params::parse(raw)?;
    let locations = state
        .platform
        .locations(principal)
        .await
        .map_err(|e| store_error("listing locations", e))?;
    // Every location's stored status is parsed and its paths are made relative (which asks
    // the file system where its root is): heavy work, off the async threads.
    let catalog = state.catalog();
    let git_cache = state.platform.ingest_config().git_cache.clone();
    let layout = Layout::new("Problems", Section::Problems);
    let built = state
        .heavy()
        .run(move || build(&catalog, &git_cache, &locations, &params, layout))
        .await
        .map_err(PortalError::from)?;
    Ok(render(&built)?.into_response())
}

fn build(
    catalog: &Catalog,
    git_cache: &std::path::Path,
    locations: &[LocationRow],
    params: &Params,
    layout: Layout,
) -> ProblemsPage {
    let wanted =
        |d: &Diagnostic| params.severity.is_empty() || (params.severity == "error") == d.is_error();
    let mut options = Vec::new();
    let mut capped = Vec::new();
    let mut capped_total = 0;
    // The chosen locations' problems, each a reading's failure first, then its diagnostics.
    let mut chosen: Vec<(&LocationRow, String, Vec<Diagnostic>)> = Vec::new();
    for location in locations {
        let status = location
            .status
            .as_deref()
            .and_then(StoredStatus::parse)
            .unwrap_or_default();
        let count = status.diagnostics.len() + usize::from(status.failed.is_some());
        let selected = params.location == location.id.as_str();
        // File locations show only their file's name, so two may read alike: the start of
        // the id tells them apart.
        let label = format!(
            "{} ({})",
            shown_target(location.kind, &location.target),
            short_id(location.id.as_str())
        );
        if count > 0 || selected {
            options.push(LocationOption {
                id: location.id.to_string(),
                label: format!("{} {label}", location.kind),
                count,
                selected,
            });
        }
        if count == 0 || (!params.location.is_empty() && !selected) {
            continue;
        }
        if status.diagnostics.len() >= pave_ingest::STORED_DIAGNOSTICS {
            capped_total += 1;
            if capped.len() < MAX_CAPPED_NAMED {
                capped.push(label.clone());
            }
        }
        let failed = status.failed.map(|why| {
            Diagnostic::error(".", None, format!("the location could not be read: {why}"))
        });
        let problems: Vec<Diagnostic> = failed
            .into_iter()
            .chain(status.diagnostics)
            .filter(|d| wanted(d))
            .collect();
        chosen.push((location, label, problems));
    }
    let total: usize = chosen.iter().map(|(_, _, p)| p.len()).sum();
    let pages = total.div_ceil(PER_PAGE).max(1);
    // Past the end (after a filter narrowed it): the last page instead.
    let page = params.page.min(pages);
    let skip = (page - 1) * PER_PAGE;
    // Only the page's rows are built, and only their locations' paths looked up.
    let mut rows = Vec::new();
    let mut seen = 0;
    for (location, label, problems) in &chosen {
        if seen + problems.len() <= skip {
            seen += problems.len();
            continue;
        }
        let paths = ClientPaths::new(location.kind, &location.target, git_cache);
        let location_href = href(Some(location.id.as_str()), None, 1);
        for diagnostic in problems {
            seen += 1;
            if seen <= skip {
                continue;
            }
            let mut row = ProblemView::of(&paths.diagnostic(diagnostic), catalog);
            row.location.clone_from(label);
            row.location_href.clone_from(&location_href);
            rows.push(row);
            if rows.len() == PER_PAGE {
                break;
            }
        }
        if rows.len() == PER_PAGE {
            break;
        }
    }
    let first = if rows.is_empty() { 0 } else { skip + 1 };
    let link = |page: usize| {
        href(
            Some(params.location.as_str()),
            Some(params.severity.as_str()),
            page,
        )
    };
    ProblemsPage {
        layout,
        locations: options,
        severity: params.severity.clone(),
        first,
        last: first + rows.len().saturating_sub(1),
        prev_href: (page > 1).then(|| link(page - 1)),
        next_href: (page < pages).then(|| link(page + 1)),
        page,
        pages,
        total,
        rows,
        filtered: !params.location.is_empty() || !params.severity.is_empty(),
        capped_more: capped_total - capped.len(),
        capped,
        kept: pave_ingest::STORED_DIAGNOSTICS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_filters() {
        assert_eq!(href(None, None, 1), "/locations/problems");
        assert_eq!(
            href(Some("a b"), Some("error"), 3),
            "/locations/problems?location=a+b&severity=error&page=3"
        );
        assert!(Params::parse(Some("severity=fatal")).is_err());
        assert!(Params::parse(Some(&format!("location={}", "x".repeat(101)))).is_err());
        let p = Params::parse(Some("location=abc&severity=warning&page=2")).unwrap();
        assert_eq!(
            (p.location.as_str(), p.severity.as_str(), p.page),
            ("abc", "warning", 2)
        );
    }
}
