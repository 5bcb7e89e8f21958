//! `GET /api/search`: Backstage's search API (`@backstage/plugin-search-backend`'s
//! `/query`) over the catalog and docs pages.
//!
//! Parameters as Backstage's client writes them (`qs`): `term`, `types[0]=…` (or `types`,
//! `types[]`), `filters[kind]=…` (also `filters[kind][0]`), `pageCursor`, plus `pageLimit`.
//! The answer is `{results: [{type, document, rank, highlight}], nextPageCursor,
//! previousPageCursor, numberOfResults}`; pave adds `facets` (counts per kind, type, owner
//! and tag).

use std::sync::Arc;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use pave_search::{Dimension, DocType, SearchError, SearchRequest, SearchResults};
use serde_json::{Map, Value, json};

use super::Params;
use crate::AppState;
use crate::error::ApiError;

/// Results per page unless `pageLimit` says otherwise (Backstage's default).
const DEFAULT_PAGE: usize = 25;
/// Marks around matched words in `highlight.fields`: a random tag per response, as
/// Backstage's engines do, so text in a document cannot pose as a mark; the fields are text,
/// not HTML (a client splits them on the tags and escapes the parts).
fn highlight_tags() -> (String, String) {
    let tag = format!("pave-{}", uuid::Uuid::new_v4().simple());
    (format!("<{tag}>"), format!("</{tag}>"))
}

/// Search the catalog and docs pages.
#[utoipa::path(get, path = "/api/search", tag = "search",
    params(
        ("term" = Option<String>, Query, description = "What to search for, as typed: words, no query syntax (any character is accepted)"),
        ("types" = Option<Vec<String>>, Query, description = "`software-catalog`, `techdocs` (also `types[0]=…`); none: both"),
        ("filters[kind]" = Option<Vec<String>>, Query, description = "Also `filters[type]`, `filters[owner]`, `filters[tag]`; values of one filter are ORed"),
        ("pageCursor" = Option<String>, Query, description = "`nextPageCursor` or `previousPageCursor` of a previous answer"),
        ("pageLimit" = Option<usize>, Query, description = "Results per page, 1–100 (default 25)"),
    ),
    responses(
        (status = 200, description = "`{results: [{type, document: {title, text, location, kind, namespace, name, …}, rank, highlight: {preTag, postTag, fields}}], nextPageCursor?, previousPageCursor?, numberOfResults, facets}`"),
        (status = 400, description = "A bad cursor, page size or filter name")))]
pub(crate) async fn search(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::parse(raw, &state.request_limits())?;
    let request = read_request(&params)?;
    let results = run(&state, request.clone()).await?;
    Ok(Json(answer(&request, &results)).into_response())
}

/// Runs a search on the heavy-work pool, with the index brought up to date first.
pub(crate) async fn run(
    state: &Arc<AppState>,
    request: SearchRequest,
) -> Result<SearchResults, ApiError> {
    let index = crate::search::index(state)
        .await
        .map_err(ApiError::Internal)?;
    state
        .heavy()
        .run(move || index.search(&request))
        .await?
        .map_err(|e| match e {
            SearchError::TooDeep { .. } => ApiError::Input(e.to_string()),
            SearchError::Index(_) => ApiError::Internal(e.to_string()),
        })
}

/// Reads the query string into a request; unknown filter names and bad cursors are errors,
/// unknown types are ignored (Backstage ignores types it has no collator for).
fn read_request(params: &Params) -> Result<SearchRequest, ApiError> {
    let mut request = SearchRequest::new(params.one("term").unwrap_or(""));
    for (key, value) in &params.0 {
        if key == "types" || (key.starts_with("types[") && key.ends_with(']')) {
            if let Some(t) = DocType::parse(value.trim())
                && !request.types.contains(&t)
            {
                request.types.push(t);
            }
        } else if let Some(rest) = key.strip_prefix("filters[") {
            let name = rest.split(']').next().unwrap_or("");
            let dimension = Dimension::parse(name).ok_or_else(|| {
                ApiError::Input(format!(
                    "unknown filter `{}`: filters are kind, type, owner and tag",
                    pave_search_clip(name)
                ))
            })?;
            request.filter(dimension, value);
        }
    }
    let limit = params.number("pageLimit")?.unwrap_or(DEFAULT_PAGE);
    if !(1..=pave_search::MAX_PAGE_SIZE).contains(&limit) {
        return Err(ApiError::Input(format!(
            "pageLimit must be between 1 and {}",
            pave_search::MAX_PAGE_SIZE
        )));
    }
    request.limit = limit;
    if let Some(cursor) = params.one("pageCursor").filter(|c| !c.is_empty()) {
        request.offset = page_of(cursor)?.saturating_mul(limit);
    }
    Ok(request)
}

fn pave_search_clip(s: &str) -> String {
    s.chars().take(40).collect()
}

/// Backstage's cursor: base64 of `{"page":N}`.
fn cursor(page: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(json!({ "page": page }).to_string())
}

fn page_of(cursor: &str) -> Result<usize, ApiError> {
    let bad = || ApiError::Input("invalid pageCursor".to_owned());
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(cursor.trim())
        .map_err(|_| bad())?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let page = value.get("page").and_then(Value::as_u64).ok_or_else(bad)?;
    usize::try_from(page).map_err(|_| bad())
}

/// The JSON answer.
fn answer(request: &SearchRequest, results: &SearchResults) -> Value {
    let page = request.offset / request.limit.max(1);
    let (pre, post) = highlight_tags();
    let items: Vec<Value> = results
        .hits
        .iter()
        .enumerate()
        .map(|(i, hit)| {
            let s = &hit.shown;
            let mut document = Map::new();
            document.insert("title".into(), json!(s.title));
            document.insert("text".into(), json!(s.text));
            document.insert("location".into(), json!(s.location));
            document.insert("kind".into(), json!(s.kind));
            document.insert("namespace".into(), json!(s.namespace));
            document.insert("name".into(), json!(s.name));
            let optional = [
                ("owner", s.owner.as_ref()),
                ("type", s.spec_type.as_ref()),
                ("componentType", s.spec_type.as_ref()),
                ("lifecycle", s.lifecycle.as_ref()),
                ("entityTitle", s.entity_title.as_ref()),
                ("path", s.path.as_ref()),
            ];
            for (k, v) in optional {
                if let Some(v) = v {
                    document.insert(k.into(), json!(v));
                }
            }
            if !s.tags.is_empty() {
                document.insert("tags".into(), json!(s.tags));
            }
            json!({
                "type": hit.doctype.as_str(),
                "document": document,
                "rank": request.offset + i + 1,
                "highlight": {
                    "preTag": pre,
                    "postTag": post,
                    "fields": {
                        "title": pave_search::tagged(&hit.title, &pre, &post),
                        "text": pave_search::tagged(&hit.text, &pre, &post),
                    }
                }
            })
        })
        .collect();
    let mut out = Map::new();
    out.insert("results".into(), Value::Array(items));
    let shown_to = request.offset + results.hits.len();
    if shown_to < results.total && shown_to + request.limit <= pave_search::MAX_OFFSET {
        out.insert("nextPageCursor".into(), json!(cursor(page + 1)));
    }
    if page > 0 {
        out.insert("previousPageCursor".into(), json!(cursor(page - 1)));
    }
    out.insert("numberOfResults".into(), json!(results.total));
    let facets: Map<String, Value> = results
        .facets
        .iter()
        .map(|(d, values)| {
            (
                d.as_str().to_owned(),
                Value::Array(
                    values
                        .iter()
                        .map(|(v, n)| json!({"value": v, "count": n}))
                        .collect(),
                ),
            )
        })
        .collect();
    out.insert("facets".into(), Value::Object(facets));
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn params(q: &str) -> Params {
        Params::parse(
            Some(q.to_owned()),
            &pave_catalog::query::RequestLimits::default(),
        )
        .unwrap()
    }

    #[test]
    fn reads_backstage_parameters() {
        let r = read_request(&params(
            "term=pay&types%5B0%5D=techdocs&types=nope&filters%5Bkind%5D=Component&filters%5Btag%5D%5B0%5D=go&pageLimit=10",
        ))
        .unwrap();
        assert_eq!(r.text, "pay");
        assert_eq!(r.types, [DocType::Page]);
        assert_eq!(r.values(Dimension::Kind), ["component"]);
        assert_eq!(r.values(Dimension::Tag), ["go"]);
        assert_eq!((r.offset, r.limit), (0, 10));
        let r = read_request(&params(&format!("pageLimit=10&pageCursor={}", cursor(3)))).unwrap();
        assert_eq!(r.offset, 30);
        for bad in [
            "pageCursor=%%%",
            "pageCursor=e30=",
            "pageLimit=0",
            "pageLimit=1000",
            "filters%5Bsecret%5D=x",
        ] {
            assert!(read_request(&params(bad)).is_err(), "{bad}");
        }
    }
}
