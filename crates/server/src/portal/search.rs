//! `GET /search`: full-text search over entities and docs pages, with facets and
//! highlighted snippets; `GET /search/suggest`: the header box's type-ahead (JSON).
//!
//! Parameters: `q`, `types` (`software-catalog` or `techdocs`), `kind`, `type`, `owner`,
//! `tag` (one value each, chosen from the facets), `page`. With `HX-Request` only the
//! results fragment is returned.

use std::sync::Arc;

use askama::Template;
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use pave_search::{Dimension, DocType, Fragment, SearchRequest, SearchResults};
use serde_json::json;

use super::{Layout, PortalError, Section, render};
use crate::AppState;
use crate::error::ApiError;

/// Results per page.
const PAGE_SIZE: usize = 20;
/// Suggestions in the header's list.
const SUGGESTIONS: usize = 8;
/// Pages reachable by paging (`pave_search::MAX_OFFSET` results deep).
const MAX_PAGE: usize = pave_search::MAX_OFFSET / PAGE_SIZE;

/// The page's parameters, tidied.
#[derive(Debug, Default, Clone)]
struct SearchParams {
    q: String,
    doctype: Option<DocType>,
    filters: Vec<(Dimension, String)>,
    page: usize,
}

impl SearchParams {
    fn parse(raw: Option<&str>) -> Result<SearchParams, PortalError> {
        let mut p = SearchParams::default();
        for (k, v) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            let v = v.trim();
            match &*k {
                "q" => p.q = v.chars().take(pave_search::MAX_QUERY_BYTES).collect(),
                "types" => p.doctype = DocType::parse(v),
                "page" if !v.is_empty() => {
                    p.page = v
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=MAX_PAGE).contains(n))
                        .ok_or_else(|| {
                            PortalError::BadRequest(format!(
                                "page must be a number from 1 to {MAX_PAGE}"
                            ))
                        })?
                        - 1;
                }
                other => {
                    if let Some(d) = Dimension::parse(other)
                        && !v.is_empty()
                        && !p.filters.iter().any(|(f, _)| *f == d)
                    {
                        p.filters.push((d, v.chars().take(256).collect()));
                    }
                }
            }
        }
        Ok(p)
    }

    fn request(&self) -> SearchRequest {
        let mut r = SearchRequest::new(&self.q);
        r.types = self.doctype.into_iter().collect();
        for (d, v) in &self.filters {
            r.filter(*d, v);
        }
        r.offset = self.page * PAGE_SIZE;
        r.limit = PAGE_SIZE;
        r
    }

    fn value(&self, d: Dimension) -> Option<&str> {
        self.filters
            .iter()
            .find(|(f, _)| *f == d)
            .map(|(_, v)| v.as_str())
    }

    /// `/search?…` with `change` applied (`None`: that parameter removed), page 1.
    fn href_with(&self, change: Option<(&str, Option<&str>)>, page: usize) -> String {
        let mut pairs: Vec<(String, String)> = Vec::new();
        if !self.q.is_empty() {
            pairs.push(("q".into(), self.q.clone()));
        }
        if let Some(t) = self.doctype {
            pairs.push(("types".into(), t.as_str().into()));
        }
        for (d, v) in &self.filters {
            pairs.push((d.as_str().into(), v.clone()));
        }
        if let Some((key, value)) = change {
            pairs.retain(|(k, _)| k != key);
            if let Some(v) = value {
                pairs.push((key.into(), v.into()));
            }
        }
        if page > 0 {
            pairs.push(("page".into(), (page + 1).to_string()));
        }
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &pairs {
            s.append_pair(k, v);
        }
        let query = s.finish();
        if query.is_empty() {
            "/search".to_owned()
        } else {
            format!("/search?{query}")
        }
    }
}

pub(crate) struct FacetView {
    pub(crate) label: &'static str,
    pub(crate) id: &'static str,
    pub(crate) values: Vec<FacetValue>,
}

pub(crate) struct FacetValue {
    pub(crate) value: String,
    pub(crate) count: u64,
    pub(crate) href: String,
    pub(crate) selected: bool,
}

pub(crate) struct HitView {
    pub(crate) title: Vec<Fragment>,
    pub(crate) text: Vec<Fragment>,
    pub(crate) href: String,
    /// "Component", "Docs"…
    pub(crate) badge: String,
    /// Owner, type, the entity a docs page belongs to.
    pub(crate) context: String,
}

#[derive(Template)]
#[template(path = "search_results.html")]
pub(crate) struct SearchResultsView {
    pub(crate) q: String,
    pub(crate) total: usize,
    pub(crate) hits: Vec<HitView>,
    pub(crate) facets: Vec<FacetView>,
    pub(crate) types: Vec<FacetValue>,
    pub(crate) clear: Option<String>,
    pub(crate) previous: Option<String>,
    pub(crate) next: Option<String>,
    pub(crate) first: usize,
    pub(crate) last: usize,
}

#[derive(Template)]
#[template(path = "search.html")]
pub(crate) struct SearchPage {
    pub(crate) layout: Layout,
    pub(crate) q: String,
    pub(crate) hidden: Vec<(String, String)>,
    pub(crate) results: String,
}

impl From<ApiError> for PortalError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Input(m) => PortalError::BadRequest(m),
            ApiError::Busy {
                message,
                retry_after,
            } => PortalError::Busy {
                message,
                retry_after,
            },
            other => PortalError::internal("searching", other),
        }
    }
}

/// `GET /search`.
pub(crate) async fn page(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    match page_response(&state, raw.as_deref(), &headers).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn page_response(
    state: &Arc<AppState>,
    raw: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response, PortalError> {
    let params = SearchParams::parse(raw)?;
    let request = params.request();
    let results = if request.text.trim().is_empty() && request.filters.is_empty() {
        SearchResults::default()
    } else {
        crate::api::search::run(state, request).await?
    };
    let view = results_view(&params, results);
    let fragment =
        headers.contains_key("hx-request") && !headers.contains_key("hx-history-restore-request");
    let mut response = if fragment {
        let mut response = render(&view)?.into_response();
        if let Ok(url) = HeaderValue::from_str(&params.href_with(None, params.page)) {
            response.headers_mut().insert("hx-push-url", url);
        }
        response
    } else {
        let mut layout = Layout::new(
            if params.q.is_empty() {
                "Search".to_owned()
            } else {
                format!("Search: {}", params.q)
            },
            Section::Catalog,
        );
        layout.search.clone_from(&params.q);
        let mut hidden: Vec<(String, String)> = params
            .filters
            .iter()
            .map(|(d, v)| (d.as_str().to_owned(), v.clone()))
            .collect();
        if let Some(t) = params.doctype {
            hidden.push(("types".into(), t.as_str().into()));
        }
        let page = SearchPage {
            layout,
            q: params.q.clone(),
            hidden,
            results: view
                .render()
                .map_err(|e| PortalError::internal("rendering search results", e))?,
        };
        render(&page)?.into_response()
    };
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("HX-Request"));
    Ok(response)
}

fn results_view(params: &SearchParams, results: SearchResults) -> SearchResultsView {
    let facets = results
        .facets
        .iter()
        .map(|(d, values)| FacetView {
            label: match d {
                Dimension::Kind => "Kind",
                Dimension::Type => "Type",
                Dimension::Owner => "Owner",
                Dimension::Tag => "Tag",
            },
            id: d.as_str(),
            values: values
                .iter()
                .map(|(value, count)| {
                    let selected = params
                        .value(*d)
                        .is_some_and(|v| v.eq_ignore_ascii_case(value));
                    FacetValue {
                        href: params.href_with(
                            Some((d.as_str(), (!selected).then_some(value.as_str()))),
                            0,
                        ),
                        value: value.clone(),
                        count: *count,
                        selected,
                    }
                })
                .collect(),
        })
        .collect();
    let types = [(DocType::Entity, "Catalog"), (DocType::Page, "Docs")]
        .into_iter()
        .map(|(t, label)| {
            let selected = params.doctype == Some(t);
            FacetValue {
                value: label.to_owned(),
                count: 0,
                href: params.href_with(Some(("types", (!selected).then_some(t.as_str()))), 0),
                selected,
            }
        })
        .collect();
    let hits: Vec<HitView> = results
        .hits
        .into_iter()
        .map(|h| {
            let s = h.shown;
            let (badge, context) = match h.doctype {
                DocType::Entity => (
                    s.kind.clone(),
                    [
                        s.spec_type.clone(),
                        s.owner
                            .as_deref()
                            .map(|o| format!("owned by {}", pave_search::short_ref(o))),
                    ]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" · "),
                ),
                DocType::Page => (
                    "Docs".to_owned(),
                    format!(
                        "{} · {}",
                        s.entity_title.clone().unwrap_or_else(|| s.name.clone()),
                        s.path.clone().unwrap_or_default()
                    ),
                ),
            };
            HitView {
                title: h.title,
                text: h.text,
                href: s.location,
                badge,
                context,
            }
        })
        .collect();
    let first = params.page * PAGE_SIZE + 1;
    let last = params.page * PAGE_SIZE + hits.len();
    SearchResultsView {
        q: params.q.clone(),
        total: results.total,
        previous: (params.page > 0).then(|| params.href_with(None, params.page - 1)),
        next: (last < results.total && params.page + 1 < MAX_PAGE)
            .then(|| params.href_with(None, params.page + 1)),
        clear: (!params.filters.is_empty() || params.doctype.is_some()).then(|| {
            SearchParams {
                q: params.q.clone(),
                ..SearchParams::default()
            }
            .href_with(None, 0)
        }),
        first,
        last,
        hits,
        facets,
        types,
    }
}

/// `GET /search/suggest?q=…`: the type-ahead's suggestions, `[{title, kind, href}]`.
/// JSON, so the script builds the list with `textContent` (nothing to escape, no inline
/// markup under the CSP).
pub(crate) async fn suggest(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = url::form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes())
        .find(|(k, _)| k == "q")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let mut request = SearchRequest::new(&q);
    request.typeahead = true;
    request.limit = SUGGESTIONS;
    if request.text.trim().is_empty() {
        return Json(json!([])).into_response();
    }
    match crate::api::search::run(&state, request).await {
        Ok(results) => Json(
            results
                .hits
                .iter()
                .map(|h| {
                    json!({
                        "title": h.shown.title,
                        "kind": match h.doctype {
                            DocType::Entity => h.shown.kind.clone(),
                            DocType::Page => format!(
                                "Docs · {}",
                                h.shown.entity_title.clone().unwrap_or_default()
                            ),
                        },
                        "href": h.shown.location,
                    })
                })
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(e) => e.into_response(),
    }
}
