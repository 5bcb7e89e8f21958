//! The web portal: server-rendered HTML over the shared catalog index.
//!
//! - `GET /`: the home page, an overview of the platform ([`home`]).
//! - `GET /catalog`: the filterable, searchable, paged entity list. With an `HX-Request`
//!   header (htmx) only the results fragment is returned.
//! - `GET /catalog/{namespace}/{kind}/{name}`: an entity (Backstage's URL shape), with its
//!   relations, a relationship graph ([`graph`]) and, for groups and users, their people and
//!   ownership.
//! - `GET /static/{*path}`: the stylesheet, htmx and the portal script, embedded at build
//!   time ([`assets`]).
//! - `/me`, `/me/tokens`, `/audit`: the signed-in person's account, API tokens and (with
//!   `audit.read`) the audit log ([`account`]).
//! - `/catalog/{namespace}/{kind}/{name}/docs/…`: the entity's docs-as-code (TechDocs'
//!   `mkdocs.yml` and Markdown), rendered with navigation and freshness ([`docs`]).
//! - `/dora`, `/dora/{namespace}/{kind}/{name}`: DORA metrics of the organisation, a team, a
//!   system, a domain or an entity, with server-rendered SVG charts ([`dora`], [`charts`]).
//! - `/search`, `/search/suggest`: full-text search over entities and docs pages with
//!   facets and snippets, and the header box's type-ahead ([`search`]).
//! - `/locations`, `/locations/register`, `/locations/{id}/refresh|unregister`,
//!   `/locations/problems`: the operations pages, registered locations with their readings
//!   and actions ([`locations`], [`register`]) and every ingestion problem ([`problems`]).
//! - `/create`, `/create/{template}`, `/create/registered/{namespace}/{name}`: golden-path
//!   templates (built-in and registered in the catalog), their forms, the download and the
//!   push of a branch to the configured GitOps target ([`create`]).
//! - Anything else outside `/api/` gets the portal's 404 page.
//!
//! Templates live in `crates/server/templates/` (askama, auto-escaped); assets in
//! `crates/server/assets/`. No Node build step and no CDN.

mod account;
mod assets;
pub(crate) mod charts;
pub mod create;
mod depgraph;
pub(crate) mod docs;
mod dora;
mod entity;
mod error;
pub(crate) mod graph;
mod guardrails;
mod home;
mod locations;
mod org;
mod problems;
mod register;
mod search;
mod slo;
mod tabs;
mod view;

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use pave_catalog::Catalog;
use pave_catalog::query::{Direction, EntityFilter, FullTextFilter, OrderField, QueryRequest};
use serde_json::Value;

use crate::AppState;
use crate::auth::{Access, Declared, Routes};
pub(crate) use error::PortalError;
use view::{Identity, RefView};

/// Rows per catalog page.
pub(crate) const PAGE_SIZE: usize = 25;

/// Fields the text search looks at.
const SEARCH_FIELDS: &[&str] = &[
    "metadata.name",
    "metadata.title",
    "metadata.description",
    "spec.profile.displayName",
];

/// The portal's pages, each with its declared access.
pub(crate) fn routes(state: &Arc<AppState>) -> (Router<Arc<AppState>>, Vec<Declared>) {
    use axum::http::Method;
    use axum::routing::post;
    use pave_auth::Permission as P;
    let read = Access::Require(P::CatalogEntityRead);
    // The account pages decide in the handler, so a refusal is a portal page (403), not
    // the API's JSON; anonymous callers are still sent to sign in first.
    let tokens = Access::InHandler(P::AuthTokenManage);
    Routes::new(state, "")
        .route(
            "/me",
            Method::GET,
            Access::InHandler(P::CatalogEntityRead),
            get(account::me),
        )
        .route("/me/tokens", Method::GET, tokens, get(account::tokens))
        .route(
            "/me/tokens",
            Method::POST,
            tokens,
            post(account::create_token),
        )
        .route(
            "/me/tokens/{id}/revoke",
            Method::POST,
            tokens,
            post(account::revoke_token),
        )
        .route(
            "/audit",
            Method::GET,
            Access::InHandler(P::AuditRead),
            get(account::audit),
        )
        // The operations pages decide in the handler too, with the location they touch
        // (ownership counts), so refusals are portal pages.
        .route(
            "/locations",
            Method::GET,
            Access::InHandler(P::CatalogLocationRead),
            get(locations::list),
        )
        .route(
            "/locations/problems",
            Method::GET,
            Access::InHandler(P::CatalogLocationRead),
            get(problems::page),
        )
        .route(
            "/locations/register",
            Method::GET,
            Access::InHandler(P::CatalogLocationCreate),
            get(register::form),
        )
        .route(
            "/locations/register",
            Method::POST,
            Access::InHandler(P::CatalogLocationCreate),
            post(register::submit),
        )
        .route(
            "/locations/{id}/refresh",
            Method::POST,
            Access::InHandler(P::CatalogEntityRefresh),
            post(locations::refresh),
        )
        .route(
            "/locations/{id}/unregister",
            Method::GET,
            Access::InHandler(P::CatalogLocationDelete),
            get(locations::confirm_unregister),
        )
        .route(
            "/locations/{id}/unregister",
            Method::POST,
            Access::InHandler(P::CatalogLocationDelete),
            post(locations::unregister),
        )
        .route(
            "/catalog/{namespace}/{kind}/{name}/refresh",
            Method::POST,
            Access::InHandler(P::CatalogEntityRefresh),
            post(locations::refresh_entity),
        )
        .route("/", Method::GET, read, get(home::page))
        .route("/catalog", Method::GET, read, get(catalog_page))
        .route(
            "/catalog/",
            Method::GET,
            Access::Public,
            get(|| async { Redirect::permanent("/catalog") }),
        )
        .route(
            "/catalog/{namespace}/{kind}/{name}",
            Method::GET,
            read,
            get(entity::page),
        )
        .route(
            "/catalog/{namespace}/{kind}/{name}/api",
            Method::GET,
            read,
            get(entity::api_tab),
        )
        .route(
            "/catalog/{namespace}/{kind}/{name}/dependencies",
            Method::GET,
            read,
            get(entity::dependencies_tab),
        )
        .route(
            "/catalog/{namespace}/{kind}/{name}/slos",
            Method::GET,
            read,
            get(entity::slos_tab),
        )
        .route(
            "/catalog/{namespace}/{kind}/{name}/guardrails",
            Method::GET,
            read,
            get(entity::guardrails_tab),
        )
        .route(
            "/catalog/{namespace}/{kind}/{name}/definition",
            Method::GET,
            read,
            get(entity::definition_file),
        )
        .route(
            "/catalog/{namespace}/{kind}/{name}/docs",
            Method::GET,
            read,
            get(docs::index),
        )
        .route(
            "/catalog/{namespace}/{kind}/{name}/docs/",
            Method::GET,
            read,
            get(docs::index),
        )
        .route(
            "/catalog/{namespace}/{kind}/{name}/docs/{*page}",
            Method::GET,
            read,
            get(docs::page),
        )
        .route(
            "/catalog/{namespace}/{kind}/{name}/docs-assets/{*path}",
            Method::GET,
            read,
            get(docs::asset),
        )
        .route("/docs", Method::GET, read, get(docs::index_page))
        .route("/graph", Method::GET, read, get(depgraph::page))
        .route("/create", Method::GET, read, get(create::index))
        .route("/create/{template}", Method::GET, read, get(create::form))
        .route(
            "/create/{template}",
            Method::POST,
            Access::InHandler(P::TemplatePush),
            post(create::push_builtin),
        )
        .route(
            "/create/registered/{namespace}/{name}",
            Method::GET,
            read,
            get(create::registered_form),
        )
        .route(
            "/create/registered/{namespace}/{name}",
            Method::POST,
            Access::InHandler(P::TemplatePush),
            post(create::push_registered),
        )
        .route("/search", Method::GET, read, get(search::page))
        .route("/search/suggest", Method::GET, read, get(search::suggest))
        .route(
            docs::HIGHLIGHT_CSS_HREF,
            Method::GET,
            Access::Public,
            get(docs::highlight_css),
        )
        .route("/dora", Method::GET, read, get(dora::org_page))
        .route(
            "/dora/{namespace}/{kind}/{name}",
            Method::GET,
            read,
            get(dora::slice_page),
        )
        .route(
            "/static/{*path}",
            Method::GET,
            Access::Public,
            get(assets::serve),
        )
        .map(|router| router.fallback(fallback))
        .into_parts()
}

/// Unknown paths: the portal's 404 page, except under `/api/`, which keeps JSON errors.
async fn fallback(uri: Uri) -> Response {
    let path = uri.path();
    if path == "/api" || path.starts_with("/api/") {
        return crate::ApiError::NotFound(format!("No route for {path}")).into_response();
    }
    PortalError::PageNotFound(path.to_owned()).into_response()
}

/// Which top-level section a page belongs to (highlighted in the header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Catalog,
    Apis,
    Groups,
    Delivery,
    Docs,
    Create,
    Locations,
    Problems,
}

impl Section {
    fn for_kind(kind: &str) -> Self {
        if kind.eq_ignore_ascii_case("api") {
            Section::Apis
        } else if kind.eq_ignore_ascii_case("group") || kind.eq_ignore_ascii_case("user") {
            Section::Groups
        } else {
            Section::Catalog
        }
    }
}

/// What the shared layout (`base.html`) needs from every page.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub(crate) title: String,
    pub(crate) section: Section,
    /// The global search box's value.
    pub(crate) search: String,
    /// The signed-in person's name (a session), for "signed in as" and sign-out.
    pub(crate) signed_in: Option<String>,
    /// The session's CSRF token, for the sign-out form.
    pub(crate) csrf: String,
    /// Whether the header links the Locations and Problems pages.
    pub(crate) locations: bool,
}

impl Layout {
    pub(crate) fn new(title: impl Into<String>, section: Section) -> Self {
        let viewer = crate::auth::VIEWER
            .try_with(Clone::clone)
            .unwrap_or_default();
        Layout {
            title: title.into(),
            section,
            search: String::new(),
            signed_in: viewer.name,
            csrf: viewer.csrf,
            locations: viewer.locations,
        }
    }

    pub(crate) fn asset(&self, name: &str) -> String {
        assets::url(name)
    }

    /// `class` and `aria-current` for a header link.
    pub(crate) fn nav_class(&self, section: &str) -> &'static str {
        let current = match self.section {
            Section::Catalog => "catalog",
            Section::Apis => "apis",
            Section::Groups => "groups",
            Section::Delivery => "dora",
            Section::Docs => "docs",
            Section::Create => "create",
            Section::Locations => "locations",
            Section::Problems => "problems",
        };
        if current == section {
            "nav-link active"
        } else {
            "nav-link"
        }
    }

    pub(crate) fn nav_current(&self, section: &str) -> &'static str {
        if self.nav_class(section).ends_with("active") {
            "page"
        } else {
            "false"
        }
    }
}

/// Renders a template into a response; a rendering failure becomes the 500 page.
pub(crate) fn render(template: &impl Template) -> Result<Html<String>, PortalError> {
    template
        .render()
        .map(Html)
        .map_err(|e| PortalError::internal("rendering a portal page", e))
}

// --- the catalog list -------------------------------------------------------------------

/// One filter of the catalog page: query parameter, indexed field, heading, "any" option.
struct FilterSpec {
    param: &'static str,
    field: &'static str,
    label: &'static str,
    any: &'static str,
}

/// Kinds the catalog page lists only when asked for (a kind chosen, or a search): people
/// have their groups' pages, and locations are bookkeeping.
const HIDDEN_BY_DEFAULT: &[&str] = &["location", "user"];

const FILTERS: &[FilterSpec] = &[
    FilterSpec {
        param: "kind",
        field: "kind",
        label: "Kind",
        any: "All kinds",
    },
    FilterSpec {
        param: "type",
        field: "spec.type",
        label: "Type",
        any: "All types",
    },
    FilterSpec {
        param: "owner",
        field: "spec.owner",
        label: "Owner",
        any: "All owners",
    },
    FilterSpec {
        param: "lifecycle",
        field: "spec.lifecycle",
        label: "Lifecycle",
        any: "All lifecycles",
    },
    FilterSpec {
        param: "tag",
        field: "metadata.tags",
        label: "Tag",
        any: "All tags",
    },
];

/// Values one filter takes at most (`type=a&type=b…`).
const FILTER_VALUES: usize = 50;

/// The catalog page's query parameters.
#[derive(Debug, Default)]
struct CatalogParams {
    /// The values chosen for each filter, in [`FILTERS`] order: a filter given several
    /// times (`type=service&type=website`) matches any of them; empty when unset.
    filters: Vec<Vec<String>>,
    q: String,
    page: usize,
    /// `sort=owner` or `sort=-owner` (descending): a column of [`SORTS`].
    sort: Option<(&'static SortSpec, Direction)>,
}

/// A sortable column of the catalog table.
#[derive(Debug)]
pub(crate) struct SortSpec {
    param: &'static str,
    field: &'static str,
    label: &'static str,
    class: &'static str,
}

const SORTS: &[SortSpec] = &[
    SortSpec {
        param: "name",
        field: "metadata.name",
        label: "Name",
        class: "col-name",
    },
    SortSpec {
        param: "kind",
        field: "kind",
        label: "Kind",
        class: "",
    },
    SortSpec {
        param: "type",
        field: "spec.type",
        label: "Type",
        class: "",
    },
    SortSpec {
        param: "owner",
        field: "spec.owner",
        label: "Owner",
        class: "col-owner",
    },
    SortSpec {
        param: "lifecycle",
        field: "spec.lifecycle",
        label: "Lifecycle",
        class: "",
    },
];

/// A header of the catalog table that sorts by its column.
pub(crate) struct SortColumn {
    pub(crate) label: &'static str,
    pub(crate) class: &'static str,
    /// The listing sorted by this column (the other way when it is sorted by it already).
    pub(crate) href: String,
    /// `ascending`, `descending` or `none`, for `aria-sort`.
    pub(crate) aria_sort: &'static str,
}

impl CatalogParams {
    fn parse(raw: Option<&str>) -> Result<Self, PortalError> {
        let mut params = CatalogParams {
            filters: vec![Vec::new(); FILTERS.len()],
            q: String::new(),
            page: 1,
            sort: None,
        };
        let pairs = url::form_urlencoded::parse(raw.unwrap_or("").as_bytes());
        let limit = pave_catalog::query::RequestLimits::default().parameters;
        pave_catalog::query::limits::check("query parameters", pairs.count(), limit)
            .map_err(|e| PortalError::BadRequest(format!("{e}.")))?;
        for (key, value) in pairs {
            let value = value.trim();
            if key == "q" {
                if value.chars().count() > 200 {
                    return Err(PortalError::BadRequest(
                        "The search text is too long (at most 200 characters).".into(),
                    ));
                }
                value.clone_into(&mut params.q);
            } else if key == "page" {
                if !value.is_empty() {
                    params.page = value.parse().ok().filter(|p| *p >= 1).ok_or_else(|| {
                        PortalError::BadRequest(format!(
                            "“{value}” is not a page number; pages are numbered from 1."
                        ))
                    })?;
                }
            } else if key == "sort" {
                if !value.is_empty() {
                    let (name, direction) = match value.strip_prefix('-') {
                        Some(name) => (name, Direction::Desc),
                        None => (value, Direction::Asc),
                    };
                    let spec = SORTS.iter().find(|s| s.param == name).ok_or_else(|| {
                        let names: Vec<&str> = SORTS.iter().map(|s| s.param).collect();
                        PortalError::BadRequest(format!(
                            "The catalog cannot be sorted by “{name}”; it sorts by {}.",
                            names.join(", ")
                        ))
                    })?;
                    params.sort = Some((spec, direction));
                }
            } else if let Some(i) = FILTERS.iter().position(|f| f.param == key) {
                if value.chars().count() > 200 {
                    return Err(PortalError::BadRequest(format!(
                        "The {key} filter is too long."
                    )));
                }
                if let Some(chosen) = params.filters.get_mut(i)
                    && !value.is_empty()
                    && !chosen.iter().any(|v| v.eq_ignore_ascii_case(value))
                {
                    if chosen.len() >= FILTER_VALUES {
                        return Err(PortalError::BadRequest(format!(
                            "The {key} filter takes at most {FILTER_VALUES} values."
                        )));
                    }
                    chosen.push(value.to_owned());
                }
            }
        }
        Ok(params)
    }

    fn values(&self, param: &str) -> &[String] {
        FILTERS
            .iter()
            .position(|f| f.param == param)
            .and_then(|i| self.filters.get(i))
            .map_or(&[], Vec::as_slice)
    }

    /// The filter's value when exactly one is chosen, else empty.
    fn value(&self, param: &str) -> &str {
        match self.values(param) {
            [one] => one,
            _ => "",
        }
    }

    fn is_filtered(&self) -> bool {
        !self.q.is_empty() || self.filters.iter().any(|v| !v.is_empty())
    }

    /// The catalog URL for these parameters on `page` (1 is left out).
    fn href(&self, page: usize) -> String {
        let page = page.to_string();
        let mut pairs: Vec<(&str, &str)> = FILTERS
            .iter()
            .zip(&self.filters)
            .flat_map(|(f, values)| values.iter().map(|v| (f.param, v.as_str())))
            .collect();
        pairs.push(("q", &self.q));
        let sort = self.sort_param();
        pairs.push(("sort", &sort));
        if page != "1" {
            pairs.push(("page", &page));
        }
        view::catalog_href(&pairs)
    }

    /// The `sort` parameter's value (empty when unsorted).
    fn sort_param(&self) -> String {
        match self.sort {
            Some((spec, Direction::Asc)) => spec.param.to_owned(),
            Some((spec, Direction::Desc)) => format!("-{}", spec.param),
            None => String::new(),
        }
    }

    /// The table's sortable headers: each links to the first page sorted by its column,
    /// ascending, or descending when it is the ascending sort already.
    fn sort_columns(&self) -> Vec<SortColumn> {
        SORTS
            .iter()
            .map(|spec| {
                let current = self
                    .sort
                    .filter(|(s, _)| s.param == spec.param)
                    .map(|(_, d)| d);
                let next = if current == Some(Direction::Asc) {
                    Direction::Desc
                } else {
                    Direction::Asc
                };
                let resorted = CatalogParams {
                    filters: self.filters.clone(),
                    q: self.q.clone(),
                    page: 1,
                    sort: Some((spec, next)),
                };
                SortColumn {
                    label: spec.label,
                    class: spec.class,
                    href: resorted.href(1),
                    aria_sort: match current {
                        Some(Direction::Asc) => "ascending",
                        Some(Direction::Desc) => "descending",
                        None => "none",
                    },
                }
            })
            .collect()
    }

    /// [`CatalogParams::entity_filter`], and with neither a kind chosen nor a search, every
    /// kind but those [`HIDDEN_BY_DEFAULT`]: the listing is what teams build and run.
    fn listing_filter(&self, catalog: &Catalog) -> Option<EntityFilter> {
        if !self.values("kind").is_empty() || !self.q.is_empty() {
            return self.entity_filter();
        }
        let shown = self.kind_scope(catalog);
        let mut filter = self.entity_filter().unwrap_or_default();
        if filter.any_of.is_empty() {
            filter.any_of.push(Vec::new());
        }
        for set in &mut filter.any_of {
            set.push(shown.clone());
        }
        Some(filter)
    }

    /// The kinds the listing shows: those chosen, or every kind but those
    /// [`HIDDEN_BY_DEFAULT`]. The other filters count their values within them, so the
    /// types offered for APIs are APIs' types.
    fn kind_scope(&self, catalog: &Catalog) -> pave_catalog::query::Condition {
        let chosen = self.values("kind");
        let kinds: Vec<String> = if chosen.is_empty() {
            catalog
                .facets(None, None, &["kind".to_owned()])
                .into_iter()
                .flat_map(|(_, values)| values)
                .map(|(kind, _)| kind.to_lowercase())
                .filter(|kind| !HIDDEN_BY_DEFAULT.contains(&kind.as_str()))
                .collect()
        } else {
            chosen.iter().map(|k| k.to_lowercase()).collect()
        };
        pave_catalog::query::Condition {
            key: "kind".to_owned(),
            values: Some(kinds),
        }
    }

    fn entity_filter(&self) -> Option<EntityFilter> {
        let conditions: Vec<pave_catalog::query::Condition> = FILTERS
            .iter()
            .zip(&self.filters)
            .filter(|(_, values)| !values.is_empty())
            .map(|(f, values)| pave_catalog::query::Condition {
                key: f.field.to_owned(),
                values: Some(values.iter().map(|v| v.to_lowercase()).collect()),
            })
            .collect();
        (!conditions.is_empty()).then(|| EntityFilter {
            any_of: vec![conditions],
        })
    }
}

/// A filter of the filter bar: a `<select>` for the kind, checkboxes for the others.
pub(crate) struct FilterSelect {
    pub(crate) param: &'static str,
    pub(crate) label: &'static str,
    pub(crate) any: &'static str,
    pub(crate) options: Vec<FilterOption>,
}

impl FilterSelect {
    /// The kind decides what the others offer: it is one choice, and changing it reloads
    /// the filter bar.
    pub(crate) fn is_kind(&self) -> bool {
        self.param == "kind"
    }

    /// The closed checkbox list's summary: "All types", the one value, or "3 selected".
    pub(crate) fn summary(&self) -> String {
        let chosen: Vec<&FilterOption> = self.options.iter().filter(|o| o.selected).collect();
        match chosen.as_slice() {
            [] => self.any.to_owned(),
            [one] => one.label.clone(),
            many => format!("{} selected", many.len()),
        }
    }
}

pub(crate) struct FilterOption {
    pub(crate) value: String,
    pub(crate) label: String,
    pub(crate) count: usize,
    pub(crate) selected: bool,
}

/// One row of an entity table.
pub(crate) struct Row {
    pub(crate) id: Identity,
    pub(crate) href: Option<String>,
    pub(crate) spec_type: String,
    pub(crate) owner: Option<RefView>,
    pub(crate) lifecycle: String,
    pub(crate) description: String,
    pub(crate) tags: Vec<Tag>,
}

impl Row {
    pub(crate) fn of(catalog: &Catalog, entity: &Value) -> Self {
        let id = Identity::of(entity);
        let owner = view::str_at(entity, &["spec", "owner"])
            .map(|owner| view::resolve(catalog, owner, Some("Group"), &id.namespace));
        Row {
            href: Some(id.href.clone()),
            spec_type: view::str_at(entity, &["spec", "type"])
                .unwrap_or("")
                .to_owned(),
            owner,
            lifecycle: view::str_at(entity, &["spec", "lifecycle"])
                .unwrap_or("")
                .to_owned(),
            description: view::shorten(&id.description, 110),
            tags: tags(entity),
            id,
        }
    }

    /// A row for a referenced entity that is not in the catalog.
    pub(crate) fn missing(reference: &RefView) -> Self {
        Row {
            id: Identity {
                kind: reference.kind.clone(),
                namespace: String::new(),
                name: reference.label.clone(),
                title: None,
                description: String::new(),
                href: String::new(),
                reference: reference.reference.clone(),
            },
            href: None,
            spec_type: String::new(),
            owner: None,
            lifecycle: String::new(),
            description: String::new(),
            tags: Vec::new(),
        }
    }

    pub(crate) fn lifecycle_class(&self) -> String {
        view::lifecycle_class(&self.lifecycle)
    }
}

/// A tag, linking to the catalog filtered by it.
pub(crate) struct Tag {
    pub(crate) name: String,
    pub(crate) href: String,
}

pub(crate) fn tags(entity: &Value) -> Vec<Tag> {
    entity
        .pointer("/metadata/tags")
        .and_then(Value::as_array)
        .map(|tags| {
            tags.iter()
                .filter_map(Value::as_str)
                .map(|t| Tag {
                    name: t.to_owned(),
                    href: view::catalog_href(&[("tag", t)]),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The results part of the catalog page (also the htmx fragment).
#[derive(Template)]
#[template(path = "catalog_results.html")]
pub(crate) struct CatalogResults {
    pub(crate) rows: Vec<Row>,
    pub(crate) total: usize,
    pub(crate) page: usize,
    pub(crate) pages: usize,
    pub(crate) first: usize,
    pub(crate) last: usize,
    pub(crate) prev_href: Option<String>,
    pub(crate) next_href: Option<String>,
    pub(crate) filtered: bool,
    pub(crate) q: String,
    pub(crate) columns: Vec<SortColumn>,
}

#[derive(Template)]
#[template(path = "catalog.html")]
pub(crate) struct CatalogPage {
    pub(crate) layout: Layout,
    pub(crate) heading: String,
    pub(crate) subtitle: String,
    pub(crate) selects: Vec<FilterSelect>,
    pub(crate) q: String,
    /// The rendered [`CatalogResults`].
    pub(crate) results: String,
}

/// `GET /catalog`.
async fn catalog_page(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    // The filter bar counts every value of five fields and a search scans the catalog:
    // heavy work, off the async threads.
    let catalog = state.catalog();
    let answer = state
        .heavy()
        .run(move || catalog_response(&catalog, raw.as_deref(), &headers))
        .await;
    match answer {
        Ok(Ok(response)) => response,
        Ok(Err(error)) => error.into_response(),
        Err(busy) => PortalError::from(busy).into_response(),
    }
}

fn catalog_response(
    catalog: &Catalog,
    raw: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response, PortalError> {
    let params = CatalogParams::parse(raw)?;
    let results = catalog_results(catalog, &params)?;
    let htmx =
        headers.contains_key("hx-request") && !headers.contains_key("hx-history-restore-request");
    // A new kind reloads the filter bar with the results (`#catalog-view`, picked out of the
    // whole page); any other change only the results.
    let whole_view = headers
        .get("hx-target")
        .is_some_and(|t| t.as_bytes() == b"catalog-view");
    let mut response = if htmx && !whole_view {
        let mut response = render(&results)?.into_response();
        // Push the tidy URL (without the form's empty fields) to the address bar.
        if let Ok(url) = HeaderValue::from_str(&params.href(results.page)) {
            response.headers_mut().insert("hx-push-url", url);
        }
        response
    } else {
        let kind = params.value("kind");
        let (heading, subtitle, section) = if kind.eq_ignore_ascii_case("api") {
            (
                "APIs",
                "Every API in the catalog, with its type, owner and lifecycle.",
                Section::Apis,
            )
        } else if kind.eq_ignore_ascii_case("group") {
            (
                "Groups",
                "Teams, departments and the organisation itself.",
                Section::Groups,
            )
        } else {
            (
                "Catalog",
                "Components, APIs, resources, systems and the teams that own them.",
                Section::Catalog,
            )
        };
        let mut layout = Layout::new(heading, section);
        layout.search.clone_from(&params.q);
        let page = CatalogPage {
            layout,
            heading: heading.to_owned(),
            subtitle: subtitle.to_owned(),
            selects: selects(catalog, &params),
            q: params.q.clone(),
            results: results
                .render()
                .map_err(|e| PortalError::internal("rendering catalog results", e))?,
        };
        let mut response = render(&page)?.into_response();
        if htmx && let Ok(url) = HeaderValue::from_str(&params.href(results.page)) {
            response.headers_mut().insert("hx-push-url", url);
        }
        response
    };
    response.headers_mut().insert(
        header::VARY,
        HeaderValue::from_static("HX-Request, HX-Target"),
    );
    Ok(response)
}

fn catalog_results(
    catalog: &Catalog,
    params: &CatalogParams,
) -> Result<CatalogResults, PortalError> {
    let query = |page: usize| {
        catalog.query(&QueryRequest {
            filter: params.listing_filter(catalog),
            full_text: (!params.q.is_empty()).then(|| FullTextFilter {
                term: params.q.clone(),
                fields: SEARCH_FIELDS.iter().map(|f| (*f).to_owned()).collect(),
            }),
            order_field: params.sort.map(|(spec, order)| OrderField {
                field: spec.field.to_owned(),
                order,
            }),
            offset: Some((page - 1).saturating_mul(PAGE_SIZE)),
            limit: Some(PAGE_SIZE),
            ..QueryRequest::default()
        })
    };
    let mut page = params.page;
    let mut result = query(page).map_err(|e| PortalError::BadRequest(e.to_string()))?;
    let pages = result.total_items.div_ceil(PAGE_SIZE).max(1);
    if page > pages {
        // Past the end (say, after narrowing a filter): show the last page instead.
        page = pages;
        result = query(page).map_err(|e| PortalError::BadRequest(e.to_string()))?;
    }
    let rows: Vec<Row> = result
        .items
        .iter()
        .filter_map(|json| serde_json::from_str::<Value>(json).ok())
        .map(|entity| Row::of(catalog, &entity))
        .collect();
    let first = if rows.is_empty() {
        0
    } else {
        (page - 1) * PAGE_SIZE + 1
    };
    Ok(CatalogResults {
        first,
        last: first + rows.len().saturating_sub(1),
        total: result.total_items,
        prev_href: (page > 1).then(|| params.href(page - 1)),
        next_href: (page < pages).then(|| params.href(page + 1)),
        page,
        pages,
        rows,
        filtered: params.is_filtered(),
        q: params.q.clone(),
        columns: params.sort_columns(),
    })
}

/// The filter bar: every value with its count, merged ignoring case. Kinds are counted over
/// the whole catalog, the other fields within the kinds listed.
fn selects(catalog: &Catalog, params: &CatalogParams) -> Vec<FilterSelect> {
    let kinds = catalog.facets(None, None, &["kind".to_owned()]);
    let fields: Vec<String> = FILTERS
        .iter()
        .filter(|f| f.param != "kind")
        .map(|f| f.field.to_owned())
        .collect();
    let scope = EntityFilter {
        any_of: vec![vec![params.kind_scope(catalog)]],
    };
    let scoped = catalog.facets(Some(&scope), None, &fields);
    FILTERS
        .iter()
        .zip(&params.filters)
        .map(|(spec, current)| {
            let mut options: Vec<FilterOption> = Vec::new();
            let values = kinds
                .iter()
                .chain(&scoped)
                .find(|(f, _)| f == spec.field)
                .map(|(_, v)| v.as_slice())
                .unwrap_or(&[]);
            for (value, count) in values {
                match options
                    .iter_mut()
                    .find(|o| o.value.eq_ignore_ascii_case(value))
                {
                    Some(option) => option.count += count,
                    None => options.push(FilterOption {
                        value: value.clone(),
                        label: value.clone(),
                        count: *count,
                        selected: false,
                    }),
                }
            }
            if spec.param == "owner" {
                for option in &mut options {
                    let owner = view::resolve(
                        catalog,
                        &option.value,
                        Some("Group"),
                        pave_catalog::DEFAULT_NAMESPACE,
                    );
                    if owner.href.is_some() && owner.label != option.value {
                        option.label = owner.label;
                    }
                }
            }
            options.sort_by_key(|o| o.label.to_lowercase());
            // A chosen value the kind has none of stays on the list (count 0), so it can be
            // unchosen.
            for value in current {
                match options
                    .iter_mut()
                    .find(|o| o.value.eq_ignore_ascii_case(value))
                {
                    Some(option) => option.selected = true,
                    None => options.insert(
                        0,
                        FilterOption {
                            value: value.clone(),
                            label: value.clone(),
                            count: 0,
                            selected: true,
                        },
                    ),
                }
            }
            FilterSelect {
                param: spec.param,
                label: spec.label,
                any: spec.any,
                options,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_parse_and_round_trip() {
        let p = CatalogParams::parse(Some("kind=API&q=pay+ments&page=2&type=&bogus=1")).unwrap();
        assert_eq!(p.value("kind"), "API");
        assert_eq!(p.q, "pay ments");
        assert_eq!(p.page, 2);
        assert!(p.is_filtered());
        assert_eq!(p.href(3), "/catalog?kind=API&q=pay+ments&page=3");
        assert_eq!(p.href(1), "/catalog?kind=API&q=pay+ments");
        let filter = p.entity_filter().unwrap();
        assert_eq!(filter.any_of.len(), 1);
        assert_eq!(filter.any_of[0][0].key, "kind");

        let empty = CatalogParams::parse(None).unwrap();
        assert_eq!(empty.page, 1);
        assert!(!empty.is_filtered());
        assert!(empty.entity_filter().is_none());
        assert_eq!(empty.href(1), "/catalog");

        // Commas and equals signs stay inside the value instead of changing the filter.
        let p = CatalogParams::parse(Some("tag=a%2Ckind%3Dapi")).unwrap();
        let filter = p.entity_filter().unwrap();
        assert_eq!(filter.any_of[0].len(), 1);
        assert_eq!(
            filter.any_of[0][0].values.as_deref(),
            Some(&["a,kind=api".to_owned()][..])
        );

        // A filter given several times keeps each value once (ignoring case), in order, and
        // the listing's URL gives them back.
        let p = CatalogParams::parse(Some(
            "type=service&type=Service&type=website&kind=Component",
        ))
        .unwrap();
        assert_eq!(p.values("type"), ["service", "website"]);
        assert_eq!(p.value("type"), "", "not one value");
        assert_eq!(p.value("kind"), "Component");
        assert_eq!(
            p.href(1),
            "/catalog?kind=Component&type=service&type=website"
        );
        let filter = p.entity_filter().unwrap();
        let types = filter.any_of[0]
            .iter()
            .find(|c| c.key == "spec.type")
            .unwrap();
        assert_eq!(
            types.values.as_deref(),
            Some(&["service".to_owned(), "website".to_owned()][..])
        );
        let too_many: Vec<String> = (0..=FILTER_VALUES).map(|i| format!("tag=t{i}")).collect();
        assert!(matches!(
            CatalogParams::parse(Some(&too_many.join("&"))),
            Err(PortalError::BadRequest(_))
        ));

        let many = vec!["kind=api"; 1001].join("&");
        for bad in ["page=0", "page=-1", "page=two", many.as_str()] {
            assert!(
                matches!(
                    CatalogParams::parse(Some(bad)),
                    Err(PortalError::BadRequest(_))
                ),
                "{bad}"
            );
        }
    }
}
