//! An entity's docs (TechDocs-compatible docs-as-code), rendered by the portal:
//!
//! - `GET /catalog/{namespace}/{kind}/{name}/docs` and `…/docs/{*page}`: a page of the
//!   folder `backstage.io/techdocs-ref: dir:<path>` names (its `mkdocs.yml` nav beside it),
//!   with the navigation, a table of contents and when the page last changed in git;
//! - `GET /catalog/{namespace}/{kind}/{name}/docs-assets/{*path}`: the folder's other files
//!   (images), read inside the folder only;
//! - `GET /docs-highlight.css`: the classes the code highlighter writes.
//!
//! Reading and rendering is `pave-docs`' on the heavy-work pool; this module finds the folder
//! (`pave_platform::docs`), keeps the git dates for a while, and lays the page out. Messages
//! shown on a page never name server paths.

use std::collections::HashMap;
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use pave_docs::{Limits, LinkBase, NavItem};

use super::tabs::{Tab, TabLink};
use super::view::Identity;
use super::{Layout, PortalError, Section};
use crate::AppState;

/// How long a docs folder's git dates are reused: `git log` over a long history costs more
/// than rendering the page.
const FRESHNESS_FOR: Duration = Duration::from_secs(60);

/// Folders whose dates are kept at once; past it the cache starts over.
const FRESHNESS_ENTRIES: usize = 512;

/// Pages not changed for this long are marked as due for review (the freshness KPI).
pub(crate) const REVIEW_WITHIN_DAYS: u32 = 183;

/// A docs folder's pages and the unix time each last changed.
type Dates = Arc<HashMap<String, i64>>;

/// Each docs folder's last-changed dates, as `git log` gave them a moment ago.
#[derive(Debug, Default)]
pub(crate) struct FreshnessCache(Mutex<HashMap<PathBuf, (Instant, Dates)>>);

impl FreshnessCache {
    fn get(&self, folder: &FsPath, limits: &Limits) -> Dates {
        let now = Instant::now();
        if let Ok(map) = self.0.lock()
            && let Some((at, dates)) = map.get(folder)
            && now.duration_since(*at) < FRESHNESS_FOR
        {
            return Arc::clone(dates);
        }
        let dates = Arc::new(pave_docs::last_changed(folder, "", limits));
        if let Ok(mut map) = self.0.lock() {
            if map.len() >= FRESHNESS_ENTRIES {
                map.clear();
            }
            map.insert(folder.to_owned(), (now, Arc::clone(&dates)));
        }
        dates
    }
}

/// One line of the navigation, flattened for the template.
pub(crate) struct NavLine {
    pub(crate) title: String,
    pub(crate) href: Option<String>,
    pub(crate) depth: usize,
    pub(crate) current: bool,
    pub(crate) external: bool,
}

#[derive(Template)]
#[template(path = "docs.html")]
pub(crate) struct DocsPage {
    pub(crate) layout: Layout,
    pub(crate) id: Identity,
    /// The entity's tab bar, Docs selected.
    pub(crate) tabs: Vec<TabLink>,
    pub(crate) site_name: String,
    pub(crate) nav: Vec<NavLine>,
    /// Sanitised by `pave-docs` (ammonia's allow-list).
    pub(crate) content: String,
    pub(crate) toc: Vec<pave_docs::TocEntry>,
    pub(crate) changed: Option<String>,
    pub(crate) stale: bool,
    pub(crate) warnings: Vec<String>,
    pub(crate) highlight_css: String,
}

/// What went wrong, as the page says it.
enum DocsProblem {
    /// No such page (404).
    Missing(String),
    /// The docs cannot be read at all: the page says why (200, so the entity's other pages
    /// and the nav stay usable).
    Unreadable(String),
}

pub(crate) async fn index(
    State(state): State<Arc<AppState>>,
    path: Result<Path<(String, String, String)>, PathRejection>,
) -> Response {
    let Ok(Path((namespace, kind, name))) = path else {
        return PortalError::BadRequest("The entity address is malformed.".into()).into_response();
    };
    serve_page(state, namespace, kind, name, String::new()).await
}

pub(crate) async fn page(
    State(state): State<Arc<AppState>>,
    path: Result<Path<(String, String, String, String)>, PathRejection>,
) -> Response {
    let Ok(Path((namespace, kind, name, page))) = path else {
        return PortalError::BadRequest("The docs address is malformed.".into()).into_response();
    };
    serve_page(state, namespace, kind, name, page).await
}

/// The docs folder of the entity at this address, or the response saying why there is none.
async fn locate(
    state: &AppState,
    namespace: &str,
    kind: &str,
    name: &str,
) -> Result<DocsTarget, Response> {
    let catalog = state.catalog();
    let key = pave_catalog::EntityKey::new(kind, namespace, name);
    let Some(record) = catalog.get(&key) else {
        return Err(
            PortalError::EntityNotFound(format!("{kind}:{namespace}/{name}")).into_response(),
        );
    };
    let entity = record.entity();
    let id = Identity::of(&entity);
    let tabs = super::entity::tab_facts(state, &record.key, &entity).links(&id.href, Tab::Docs);
    let Some(reference) = pave_platform::docs::techdocs_ref(&entity).map(str::to_owned) else {
        return Err(PortalError::PageNotFound(format!(
            "{}/docs ({} has no {} annotation)",
            id.href,
            id.reference,
            pave_platform::docs::ANNOTATION
        ))
        .into_response());
    };
    let location = match state.platform.entity_source(&record.key).await {
        Ok(source) => pave_platform::docs::resolve(&source, &reference),
        Err(e) => Err(e),
    };
    Ok(DocsTarget { id, tabs, location })
}

/// Ids the docs page's layout uses (`base.html`, `docs.html`, the tab bar): an author's
/// heading "Main" must not become the skip link's target.
const HOST_IDS: &[&str] = &[
    "main",
    "global-q",
    "global-suggestions",
    "global-suggestions-status",
    "menu-audit",
    "menu-me",
    "menu-tokens",
    "sign-out",
    "signed-in-as",
    "docs-content",
    "docs-changed",
    "tab-overview",
    "tab-docs",
    "tab-api",
    "tab-dependencies",
    "tab-slos",
    "tab-guardrails",
];

/// The entity whose docs are asked for, its tab bar, and where its docs are.
struct DocsTarget {
    id: Identity,
    tabs: Vec<TabLink>,
    location: Result<pave_platform::docs::DocsLocation, String>,
}

async fn serve_page(
    state: Arc<AppState>,
    namespace: String,
    kind: String,
    name: String,
    page: String,
) -> Response {
    let DocsTarget { id, tabs, location } = match locate(&state, &namespace, &kind, &name).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let layout = Layout::new(format!("{} · Docs", id.display()), Section::Docs);
    let links = LinkBase::new(
        format!("{}/docs", id.href),
        format!("{}/docs-assets", id.href),
    )
    .with_host_ids(HOST_IDS);
    let view = match location {
        Ok(location) => {
            let state_for_job = Arc::clone(&state);
            let job = move || read_page(&state_for_job, &location, &page, &links);
            match state.heavy().run(job).await {
                Ok(view) => view,
                Err(busy) => return PortalError::from(busy).into_response(),
            }
        }
        Err(problem) => Err(DocsProblem::Unreadable(problem)),
    };
    let (status, page) = match view {
        Ok(page) => (StatusCode::OK, page),
        Err(DocsProblem::Missing(what)) => {
            return PortalError::PageNotFound(format!("{}/docs: {what}", id.href)).into_response();
        }
        Err(DocsProblem::Unreadable(why)) => (
            StatusCode::OK,
            ReadPage {
                site_name: "Docs".to_owned(),
                nav: Vec::new(),
                content: String::new(),
                toc: Vec::new(),
                changed: None,
                stale: false,
                warnings: vec![why],
            },
        ),
    };
    let html = super::render(&DocsPage {
        layout,
        id,
        tabs,
        site_name: page.site_name,
        nav: page.nav,
        content: page.content,
        toc: page.toc,
        changed: page.changed,
        stale: page.stale,
        warnings: page.warnings,
        highlight_css: HIGHLIGHT_CSS_HREF.to_owned(),
    });
    match html {
        Ok(html) => (status, html).into_response(),
        Err(e) => e.into_response(),
    }
}

/// A page as read and rendered, before the layout.
struct ReadPage {
    site_name: String,
    nav: Vec<NavLine>,
    content: String,
    toc: Vec<pave_docs::TocEntry>,
    changed: Option<String>,
    stale: bool,
    warnings: Vec<String>,
}

/// Reads and renders `page` (a URL path below `…/docs`) of the site at `location`.
fn read_page(
    state: &AppState,
    location: &pave_platform::docs::DocsLocation,
    page: &str,
    links: &LinkBase,
) -> Result<ReadPage, DocsProblem> {
    let limits = Limits::default();
    let scrub = |message: String| scrub_paths(message, location);
    let site_root = checked_site_root(location).map_err(DocsProblem::Unreadable)?;
    let (config, folder) = pave_docs::open_site(&site_root, &limits)
        .map_err(|e| DocsProblem::Unreadable(scrub(e.to_string())))?;
    let pages = folder.pages();
    let Some(file) = pave_docs::find_page(pages, page.trim_matches('/')).map(str::to_owned) else {
        return Err(DocsProblem::Missing(if page.is_empty() {
            "the docs folder has no index.md".to_owned()
        } else {
            format!("no page `{page}`")
        }));
    };
    // A page that cannot be read (not UTF-8, too large) says so in place; the nav and the
    // other pages stay usable.
    let rendered = match folder.read_page(&file) {
        Ok(markdown) => pave_docs::render_page(&markdown, &file, links, &limits),
        Err(e) => pave_docs::Rendered {
            refused: Some(scrub(e.to_string())),
            ..pave_docs::Rendered::default()
        },
    };
    let titles = folder.titles();
    let nav = if config.nav.is_empty() {
        pave_docs::default_nav(pages.as_slice(), &titles)
    } else {
        let mut nav = config.nav.clone();
        pave_docs::fill_titles(&mut nav, &titles);
        nav
    };
    let mut lines = Vec::new();
    flatten(&nav, 0, &file, links, &mut lines);
    let dates = state.docs_freshness.get(folder.root(), &limits);
    let changed_at = dates.get(&file).copied();
    let now = pave_stdx::time::unix_seconds();
    let mut warnings: Vec<String> = config.warnings.clone();
    warnings.extend(rendered.warnings.iter().cloned());
    if let Some(refused) = &rendered.refused {
        warnings.push(refused.clone());
    }
    Ok(ReadPage {
        site_name: config
            .site_name
            .clone()
            .unwrap_or_else(|| "Docs".to_owned()),
        nav: lines,
        content: rendered.html,
        toc: rendered
            .toc
            .into_iter()
            .filter(|t| (2..=3).contains(&t.level))
            .collect(),
        changed: changed_at.map(|t| pave_stdx::time::iso8601_utc(t).chars().take(10).collect()),
        stale: changed_at.is_some_and(|t| !pave_docs::is_fresh(t, now, REVIEW_WITHIN_DAYS)),
        warnings: capped(warnings).into_iter().map(scrub).collect(),
    })
}

/// Problems shown on a page at most; a page of 70,000 bad links says how many more.
const SHOWN_WARNINGS: usize = 20;

fn capped(mut warnings: Vec<String>) -> Vec<String> {
    if warnings.len() > SHOWN_WARNINGS {
        let more = warnings.len() - SHOWN_WARNINGS;
        warnings.truncate(SHOWN_WARNINGS);
        warnings.push(format!("… and {more} more problems on this page"));
    }
    warnings
}

/// The site folder, if it really is inside the source once symbolic links are followed.
fn checked_site_root(location: &pave_platform::docs::DocsLocation) -> Result<PathBuf, String> {
    let missing = || {
        format!(
            "the docs folder named by {} does not exist",
            pave_platform::docs::ANNOTATION
        )
    };
    let root = std::fs::canonicalize(&location.dir).map_err(|_| missing())?;
    let boundary = std::fs::canonicalize(&location.boundary).map_err(|_| missing())?;
    if !root.starts_with(&boundary) {
        return Err(format!(
            "the docs folder named by {} leads outside the source root",
            pave_platform::docs::ANNOTATION
        ));
    }
    Ok(root)
}

/// `message` without the server's paths to the source (what is left is relative to it).
fn scrub_paths(message: String, location: &pave_platform::docs::DocsLocation) -> String {
    let mut out = message;
    let mut prefixes = vec![location.boundary.clone()];
    if let Ok(real) = std::fs::canonicalize(&location.boundary) {
        prefixes.push(real);
    }
    for prefix in prefixes {
        let text = prefix.display().to_string();
        if !text.is_empty() && text != "/" {
            out = out.replace(&format!("{text}/"), "").replace(&text, ".");
        }
    }
    out
}

fn flatten(
    items: &[NavItem],
    depth: usize,
    current: &str,
    links: &LinkBase,
    out: &mut Vec<NavLine>,
) {
    for item in items {
        let (href, external) = match (&item.page, &item.url) {
            (Some(page), _) => (Some(links.page(page)), false),
            (None, Some(url)) => (Some(url.clone()), true),
            (None, None) => (None, false),
        };
        out.push(NavLine {
            title: item.title.clone(),
            href,
            depth,
            current: item.page.as_deref() == Some(current),
            external,
        });
        flatten(&item.children, depth + 1, current, links, out);
    }
}

pub(crate) async fn asset(
    State(state): State<Arc<AppState>>,
    path: Result<Path<(String, String, String, String)>, PathRejection>,
) -> Response {
    let Ok(Path((namespace, kind, name, file))) = path else {
        return PortalError::BadRequest("The docs address is malformed.".into()).into_response();
    };
    let DocsTarget { id, location, .. } = match locate(&state, &namespace, &kind, &name).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let not_found = || PortalError::PageNotFound(format!("{}/docs-assets/{file}", id.href));
    let Ok(location) = location else {
        return not_found().into_response();
    };
    let wanted = file.clone();
    let job = move || -> Option<Vec<u8>> {
        let limits = Limits::default();
        let site_root = checked_site_root(&location).ok()?;
        let (_, folder) = pave_docs::open_site(&site_root, &limits).ok()?;
        folder.read_asset(&wanted).ok()
    };
    match state.heavy().run(job).await {
        Ok(Some(bytes)) => {
            // SVG can hold script: the sandbox keeps it an image, never a document that runs.
            (
                [
                    (header::CONTENT_TYPE, content_type(&file).to_owned()),
                    (
                        header::CONTENT_SECURITY_POLICY,
                        "sandbox; default-src 'none'; style-src 'unsafe-inline'".to_owned(),
                    ),
                    (header::CACHE_CONTROL, "private, max-age=60".to_owned()),
                ],
                bytes,
            )
                .into_response()
        }
        Ok(None) => not_found().into_response(),
        Err(busy) => PortalError::from(busy).into_response(),
    }
}

/// The media type of a docs folder's file, by extension; anything else is a download.
fn content_type(file: &str) -> &'static str {
    let extension = file.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match extension.as_deref() {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("svg") => "image/svg+xml",
        Some("ico") => "image/x-icon",
        Some("pdf") => "application/pdf",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Where the highlighter's stylesheet is served.
pub(crate) const HIGHLIGHT_CSS_HREF: &str = "/docs-highlight.css";

static HIGHLIGHT_CSS: LazyLock<String> = LazyLock::new(pave_docs::highlight_css);

pub(crate) async fn highlight_css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        HIGHLIGHT_CSS.as_str(),
    )
        .into_response()
}

/// Entities listed on `/docs` at most (by name).
const INDEX_ROWS: usize = 1_000;

/// One entity's docs on `/docs`: how many pages, when they last changed, how many are due
/// for review.
pub(crate) struct DocsRow {
    pub(crate) id: Identity,
    pub(crate) pages: usize,
    pub(crate) changed: Option<String>,
    pub(crate) stale: usize,
    pub(crate) problem: Option<String>,
}

#[derive(Template)]
#[template(path = "docs_index.html")]
pub(crate) struct DocsIndexPage {
    pub(crate) layout: Layout,
    pub(crate) rows: Vec<DocsRow>,
    pub(crate) total: usize,
    pub(crate) pages: usize,
    pub(crate) stale: usize,
    pub(crate) review_days: u32,
}

/// `GET /docs`: every entity's docs with their freshness (the "reviewed within 6 months"
/// KPI), by entity name.
pub(crate) async fn index_page(State(state): State<Arc<AppState>>) -> Response {
    let catalog = state.catalog();
    let request = pave_catalog::query::QueryRequest {
        filter: pave_catalog::query::EntityFilter::parse(&[format!(
            "metadata.annotations.{}",
            pave_platform::docs::ANNOTATION
        )])
        .ok()
        .flatten(),
        order_field: Some(pave_catalog::query::OrderField {
            field: "metadata.name".to_owned(),
            order: pave_catalog::query::Direction::Asc,
        }),
        limit: Some(INDEX_ROWS),
        ..Default::default()
    };
    let (entities, total) = match catalog.query(&request) {
        Ok(page) => (
            page.items
                .iter()
                .filter_map(|json| serde_json::from_str::<serde_json::Value>(json).ok())
                .collect::<Vec<_>>(),
            page.total_items,
        ),
        Err(e) => return PortalError::BadRequest(e.to_string()).into_response(),
    };
    let keys: Vec<String> = entities
        .iter()
        .map(Identity::of)
        .map(|id| pave_catalog::EntityKey::new(&id.kind, &id.namespace, &id.name).to_string())
        .collect();
    let sources: HashMap<String, Result<pave_ingest::SourceFile, String>> =
        match state.platform.entity_sources(&keys).await {
            Ok(sources) => sources.into_iter().collect(),
            Err(e) => {
                tracing::warn!(error = %e, "reading docs sources");
                HashMap::new()
            }
        };
    let layout = Layout::new("Docs", Section::Docs);
    let state_for_job = Arc::clone(&state);
    let job = move || {
        let limits = Limits::default();
        let now = pave_stdx::time::unix_seconds();
        entities
            .iter()
            .zip(&keys)
            .map(|(entity, key)| {
                let id = Identity::of(entity);
                let location = match sources.get(key) {
                    Some(Ok(source)) => pave_platform::docs::techdocs_ref(entity)
                        .ok_or_else(String::new)
                        .and_then(|r| pave_platform::docs::resolve(source, r)),
                    Some(Err(e)) => Err(e.clone()),
                    None => Err("the entity's catalog file is not known".to_owned()),
                };
                let summary = location.and_then(|location| {
                    let root = checked_site_root(&location)?;
                    let (_, folder) = pave_docs::open_site(&root, &limits)
                        .map_err(|e| scrub_paths(e.to_string(), &location))?;
                    let dates = state_for_job.docs_freshness.get(folder.root(), &limits);
                    let pages = folder.pages().as_slice();
                    let times: Vec<i64> =
                        pages.iter().filter_map(|p| dates.get(p).copied()).collect();
                    let stale = times
                        .iter()
                        .filter(|t| !pave_docs::is_fresh(**t, now, REVIEW_WITHIN_DAYS))
                        .count();
                    Ok((pages.len(), times.iter().max().copied(), stale))
                });
                match summary {
                    Ok((pages, changed, stale)) => DocsRow {
                        id,
                        pages,
                        changed: changed
                            .map(|t| pave_stdx::time::iso8601_utc(t).chars().take(10).collect()),
                        stale,
                        problem: None,
                    },
                    Err(problem) => DocsRow {
                        id,
                        pages: 0,
                        changed: None,
                        stale: 0,
                        problem: Some(problem),
                    },
                }
            })
            .collect::<Vec<DocsRow>>()
    };
    let rows = match state.heavy().run(job).await {
        Ok(rows) => rows,
        Err(busy) => return PortalError::from(busy).into_response(),
    };
    let page = DocsIndexPage {
        layout,
        pages: rows.iter().map(|r| r.pages).sum(),
        stale: rows.iter().map(|r| r.stale).sum(),
        rows,
        total,
        review_days: REVIEW_WITHIN_DAYS,
    };
    match super::render(&page) {
        Ok(html) => html.into_response(),
        Err(e) => e.into_response(),
    }
}
