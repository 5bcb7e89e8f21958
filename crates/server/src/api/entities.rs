//! Entities: listing, queries (filters and predicates), lookups, ancestry, removal, facets,
//! validation and refresh.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pave_catalog::EntityKey;
use pave_catalog::query::{
    Direction, EntitiesRequest, EntityFilter, FieldSelection, FullTextFilter, OrderField,
    Predicate, QueryRequest, RequestLimits, limits,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{NULL_ID, Params, body, json_response, stream_entities};
use crate::AppState;
use crate::auth::{self, Caller};
use crate::error::ApiError;
use pave_auth::{Permission, Resource};

/// List entities (Backstage's deprecated but widely used endpoint).
#[utoipa::path(get, path = "/api/catalog/entities", tag = "catalog",
    params(
        ("filter" = Option<Vec<String>>, Query, description = "`key=value,…` conditions ANDed; repeat to OR"),
        ("fields" = Option<Vec<String>>, Query, description = "Comma-separated paths to keep"),
        ("order" = Option<Vec<String>>, Query, description = "`asc:<field>` or `desc:<field>`, repeatable"),
        ("offset" = Option<usize>, Query), ("limit" = Option<usize>, Query),
        ("after" = Option<String>, Query, description = "Cursor from the previous page's Link header"),
    ),
    responses((status = 200, description = "Entities; a `Link: <…>; rel=\"next\"` header names the next page"), (status = 400, description = "Bad parameters")))]
pub(crate) async fn entities(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::parse(raw, &state.request_limits())?;
    let order = params
        .all("order")
        .into_iter()
        .map(OrderField::parse_prefixed)
        .collect::<Result<Vec<_>, _>>()?;
    let request = EntitiesRequest {
        filter: params.filter()?,
        fields: params.fields()?,
        order,
        offset: params.number("offset")?,
        limit: params.number("limit")?,
        after: params.one("after").map(str::to_owned),
    };
    let catalog = state.catalog();
    // Filtering and ordering the whole catalog is heavy; the listing itself is streamed.
    let (catalog, request, page) = state
        .heavy()
        .run(move || {
            let page = catalog.entities(&request);
            (catalog, request, page)
        })
        .await?;
    let page = page?;
    let mut response = stream_entities(
        catalog,
        page.ids,
        request.fields,
        String::new(),
        String::new(),
    );
    if let Some(after) = page.next_after {
        let mut next = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &params.0 {
            if k != "offset" && k != "after" {
                next.append_pair(k, v);
            }
        }
        next.append_pair("after", &after);
        let link = format!("</api/catalog/entities?{}>; rel=\"next\"", next.finish());
        if let Ok(value) = HeaderValue::from_str(&link) {
            response.headers_mut().insert(header::LINK, value);
        }
    }
    Ok(response)
}

/// `totalItems=include|exclude`, as Backstage validates it.
fn exclude_total(value: Option<&str>) -> Result<bool, ApiError> {
    match value {
        None | Some("include") => Ok(false),
        Some("exclude") => Ok(true),
        Some(other) => Err(ApiError::Input(format!(
            "Invalid totalItems value \"{other}\", expected one of: include, exclude"
        ))),
    }
}

/// Runs a `by-query` request as heavy work and streams its page:
/// `{items, totalItems, pageInfo: {nextCursor?, prevCursor?}}`.
async fn query_response(state: &AppState, request: QueryRequest) -> Result<Response, ApiError> {
    let catalog = state.catalog();
    let (catalog, request, page) = state
        .heavy()
        .run(move || {
            let page = catalog.query_ids(&request);
            (catalog, request, page)
        })
        .await?;
    let page = page?;
    let mut page_info = serde_json::Map::new();
    if let Some(c) = page.next_cursor {
        page_info.insert("nextCursor".into(), Value::String(c));
    }
    if let Some(c) = page.prev_cursor {
        page_info.insert("prevCursor".into(), Value::String(c));
    }
    let suffix = format!(
        ",\"totalItems\":{},\"pageInfo\":{}}}",
        page.total_items,
        Value::Object(page_info)
    );
    Ok(stream_entities(
        catalog,
        page.ids,
        request.fields,
        "{\"items\":".into(),
        suffix,
    ))
}

/// Query entities with cursor pagination.
#[utoipa::path(get, path = "/api/catalog/entities/by-query", tag = "catalog",
    params(
        ("filter" = Option<Vec<String>>, Query), ("fields" = Option<Vec<String>>, Query),
        ("limit" = Option<usize>, Query, description = "Page size (default 200)"), ("offset" = Option<usize>, Query),
        ("orderField" = Option<String>, Query, description = "`<field>,asc|desc`"),
        ("fullTextFilterTerm" = Option<String>, Query), ("fullTextFilterFields" = Option<String>, Query),
        ("totalItems" = Option<String>, Query, description = "`include` (default) or `exclude` (then 0)"),
        ("cursor" = Option<String>, Query, description = "From pageInfo; replaces filter, order and search"),
    ),
    responses((status = 200, description = "`{items, totalItems, pageInfo: {nextCursor?, prevCursor?}}`"), (status = 400, description = "Bad parameters")))]
pub(crate) async fn by_query(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::parse(raw, &state.request_limits())?;
    let order_field = params
        .all("orderField")
        .first()
        .map(|o| OrderField::parse_suffixed(o))
        .transpose()?;
    let full_text = params.one("fullTextFilterTerm").map(|term| FullTextFilter {
        term: term.to_owned(),
        fields: params
            .all("fullTextFilterFields")
            .iter()
            .flat_map(|f| f.split(','))
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect(),
    });
    let request = QueryRequest {
        filter: params.filter()?,
        order_field,
        full_text,
        offset: params.number("offset")?,
        limit: params.number("limit")?,
        fields: params.fields()?,
        cursor: params.one("cursor").map(str::to_owned),
        query: None,
        exclude_total: exclude_total(params.one("totalItems"))?,
    };
    query_response(&state, request).await
}

/// `orderBy` of `POST /entities/by-query`: one or several `{field, order}`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub(crate) enum OrderBy {
    Many(Vec<OrderByField>),
    One(OrderByField),
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct OrderByField {
    field: String,
    order: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct FullTextBody {
    #[serde(default)]
    term: Option<String>,
    #[serde(default)]
    fields: Option<Vec<String>>,
}

/// The body of `POST /entities/by-query` (what `CatalogClient.queryEntities` sends when a
/// request has a `query` predicate).
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct QueryBody {
    #[serde(default)]
    cursor: Option<String>,
    /// A filter predicate: `$all`, `$any`, `$not`, `$exists`, `$in`, `$hasPrefix`, `$contains`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    query: Option<Value>,
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    offset: Option<usize>,
    #[serde(default)]
    order_by: Option<OrderBy>,
    #[serde(default)]
    full_text_filter: Option<FullTextBody>,
    #[serde(default)]
    fields: Option<Vec<String>>,
    #[serde(default)]
    total_items: Option<String>,
}

/// Query entities with a filter predicate in the body; the same answer as the `GET` form.
#[utoipa::path(post, path = "/api/catalog/entities/by-query", tag = "catalog", request_body = QueryBody,
    responses((status = 200, description = "`{items, totalItems, pageInfo: {nextCursor?, prevCursor?}}`"), (status = 400, description = "Bad body")))]
pub(crate) async fn query_by_predicate(
    State(state): State<Arc<AppState>>,
    request: Result<Json<QueryBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let request = body(request)?;
    let limits = state.request_limits();
    if request.cursor.as_deref() == Some("") {
        return Err(ApiError::Input("Cursor cannot be empty".into()));
    }
    if let Some(query) = &request.query {
        Predicate::parse(query)?;
    }
    if let Some(OrderBy::Many(fields)) = &request.order_by {
        limits::check("order fields", fields.len(), limits.order_fields)?;
    }
    let order_field = match request.order_by {
        None => None,
        Some(OrderBy::One(field)) => Some(field),
        Some(OrderBy::Many(fields)) => fields.into_iter().next(),
    }
    .map(|f| {
        let order = match f.order.as_str() {
            "asc" => Direction::Asc,
            "desc" => Direction::Desc,
            _ => {
                return Err(ApiError::Input(
                    "Invalid order field order, must be asc or desc".into(),
                ));
            }
        };
        Ok(OrderField {
            field: f.field,
            order,
        })
    })
    .transpose()?;
    let full_text = match request.full_text_filter {
        None => None,
        Some(t) => {
            let term = t.term.unwrap_or_default();
            limits::check(
                "characters of full-text search",
                term.chars().count(),
                limits.text_chars,
            )?;
            let fields = RequestLimits::tidy_list(
                "full-text fields",
                t.fields.unwrap_or_default(),
                limits.text_fields,
            )?;
            Some(FullTextFilter { term, fields })
        }
    };
    let fields =
        RequestLimits::tidy_list("fields", request.fields.unwrap_or_default(), limits.fields)?;
    let query = QueryRequest {
        filter: None,
        order_field,
        full_text,
        offset: request.offset,
        limit: request.limit,
        fields: FieldSelection::parse(&fields)?,
        cursor: request.cursor,
        query: request.query,
        exclude_total: exclude_total(request.total_items.as_deref())?,
    };
    query_response(&state, query).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ByRefsBody {
    entity_refs: Vec<String>,
    #[serde(default)]
    fields: Option<Vec<String>>,
    /// A filter predicate; refs whose entity does not match come back as `null`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    query: Option<Value>,
}

/// Fetch entities by reference, in the order asked; `null` for refs that do not exist or do
/// not match the filter and predicate.
#[utoipa::path(post, path = "/api/catalog/entities/by-refs", tag = "catalog", request_body = ByRefsBody,
    params(("filter" = Option<Vec<String>>, Query), ("fields" = Option<Vec<String>>, Query)),
    responses((status = 200, description = "`{items: [entity | null]}`"), (status = 400, description = "Bad body")))]
pub(crate) async fn by_refs(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
    request: Result<Json<ByRefsBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let request = body(request)?;
    let limits = state.request_limits();
    let params = Params::parse(raw, &limits)?;
    let fields = match request.fields {
        Some(fields) if !fields.is_empty() => {
            FieldSelection::parse(&RequestLimits::tidy_list("fields", fields, limits.fields)?)?
        }
        _ => params.fields()?,
    };
    let query = request.query.as_ref().map(Predicate::parse).transpose()?;
    let filter = params.filter()?;
    let refs = request.entity_refs;
    let catalog = state.catalog();
    let (catalog, ids) = state
        .heavy()
        .run(move || {
            let ids = catalog.by_refs_ids(&refs, filter.as_ref(), query.as_ref());
            (catalog, ids)
        })
        .await?;
    let ids = ids.into_iter().map(|id| id.unwrap_or(NULL_ID)).collect();
    Ok(stream_entities(
        catalog,
        ids,
        fields,
        "{\"items\":".into(),
        "}".into(),
    ))
}

fn entity_key(kind: &str, namespace: &str, name: &str) -> String {
    EntityKey::new(kind, namespace, name).into_string()
}

/// Fetch one entity by kind, namespace and name.
#[utoipa::path(get, path = "/api/catalog/entities/by-name/{kind}/{namespace}/{name}", tag = "catalog",
    params(("kind" = String, Path), ("namespace" = String, Path), ("name" = String, Path)),
    responses((status = 200, description = "The entity"), (status = 404, description = "No such entity")))]
pub(crate) async fn by_name(
    State(state): State<Arc<AppState>>,
    Path((kind, namespace, name)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let catalog = state.catalog();
    let record = catalog
        .get(&entity_key(&kind, &namespace, &name))
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "No entity named '{name}' found, with kind '{kind}' in namespace '{namespace}'"
            ))
        })?;
    Ok(json_response(StatusCode::OK, record.json.to_string()))
}

/// The entity and what emitted it, link by link, up to its registered location.
#[utoipa::path(get, path = "/api/catalog/entities/by-name/{kind}/{namespace}/{name}/ancestry", tag = "catalog",
    params(("kind" = String, Path), ("namespace" = String, Path), ("name" = String, Path)),
    responses((status = 200, description = "`{rootEntityRef, items: [{entity, parentEntityRefs}]}`"), (status = 404, description = "No such entity")))]
pub(crate) async fn ancestry(
    Caller(principal): Caller,
    State(state): State<Arc<AppState>>,
    Path((kind, namespace, name)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let key = entity_key(&kind, &namespace, &name);
    let (root, links) = state
        .platform
        .ancestry(&principal, &key)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("No such entity {key}")))?;
    let items: Vec<Value> = links
        .into_iter()
        .map(|l| json!({"entity": l.entity, "parentEntityRefs": l.parent_entity_refs}))
        .collect();
    Ok(Json(json!({"rootEntityRef": root, "items": items})).into_response())
}

/// Fetch one entity by uid.
#[utoipa::path(get, path = "/api/catalog/entities/by-uid/{uid}", tag = "catalog",
    params(("uid" = String, Path)),
    responses((status = 200, description = "The entity"), (status = 404, description = "No such entity")))]
pub(crate) async fn by_uid(
    State(state): State<Arc<AppState>>,
    Path(uid): Path<String>,
) -> Result<Response, ApiError> {
    let catalog = state.catalog();
    let record = catalog
        .get_by_uid(&uid)
        .ok_or_else(|| ApiError::NotFound(format!("No entity with uid {uid}")))?;
    Ok(json_response(StatusCode::OK, record.json.to_string()))
}

/// Remove an entity until its location is read again (it comes back then, unless the
/// location is removed). An unknown uid is not an error, as in Backstage.
#[utoipa::path(delete, path = "/api/catalog/entities/by-uid/{uid}", tag = "catalog",
    params(("uid" = String, Path)),
    responses((status = 204, description = "Removed (or there was no such entity)")))]
pub(crate) async fn delete_by_uid(
    Caller(principal): Caller,
    State(state): State<Arc<AppState>>,
    Path(uid): Path<String>,
) -> Result<Response, ApiError> {
    state.platform.remove_entity(&principal, &uid).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Counts facets as heavy work and writes `{facets: {<facet>: [{value, count}]}}`.
async fn facets_response(
    state: &AppState,
    filter: Option<EntityFilter>,
    query: Option<Predicate>,
    names: Vec<String>,
) -> Result<Response, ApiError> {
    let catalog = state.catalog();
    let body = state
        .heavy()
        .run(move || {
            let facets = catalog.facets(filter.as_ref(), query.as_ref(), &names);
            let mut body = String::from("{\"facets\":{");
            for (i, (name, values)) in facets.iter().enumerate() {
                if i > 0 {
                    body.push(',');
                }
                body.push_str(&Value::from(name.as_str()).to_string());
                body.push_str(":[");
                for (j, (value, count)) in values.iter().enumerate() {
                    if j > 0 {
                        body.push(',');
                    }
                    body.push_str("{\"value\":");
                    body.push_str(&Value::from(value.as_str()).to_string());
                    body.push_str(",\"count\":");
                    body.push_str(&count.to_string());
                    body.push('}');
                }
                body.push(']');
            }
            body.push_str("}}");
            body
        })
        .await?;
    Ok(json_response(StatusCode::OK, body))
}

/// Count distinct values of fields across (filtered) entities.
#[utoipa::path(get, path = "/api/catalog/entity-facets", tag = "catalog",
    params(("facet" = Vec<String>, Query, description = "Field to count, repeatable"), ("filter" = Option<Vec<String>>, Query)),
    responses((status = 200, description = "`{facets: {<facet>: [{value, count}]}}`"), (status = 400, description = "No facet given")))]
pub(crate) async fn facets(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::parse(raw, &state.request_limits())?;
    let names: Vec<String> = params.all("facet").into_iter().map(str::to_owned).collect();
    if names.is_empty() {
        return Err(ApiError::Input("Missing facet parameter".into()));
    }
    facets_response(&state, params.filter()?, None, names).await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct FacetsBody {
    facets: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    query: Option<Value>,
}

/// Count distinct values of fields across the entities a filter predicate matches.
#[utoipa::path(post, path = "/api/catalog/entity-facets", tag = "catalog", request_body = FacetsBody,
    responses((status = 200, description = "`{facets: {<facet>: [{value, count}]}}`"), (status = 400, description = "Bad body")))]
pub(crate) async fn facets_by_predicate(
    State(state): State<Arc<AppState>>,
    request: Result<Json<FacetsBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let request = body(request)?;
    let names: Vec<String> = request
        .facets
        .into_iter()
        .filter(|f| !f.is_empty())
        .collect();
    if names.is_empty() {
        return Err(ApiError::Input("Missing or empty facets parameter".into()));
    }
    let names = RequestLimits::tidy_list("facets", names, state.request_limits().facets)?;
    let query = request.query.as_ref().map(Predicate::parse).transpose()?;
    facets_response(&state, None, query, names).await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct ValidateBody {
    #[schema(value_type = Object)]
    entity: Value,
    /// A location reference, `type:target`.
    location: String,
}

/// Validate an entity without storing it.
#[utoipa::path(post, path = "/api/catalog/validate-entity", tag = "catalog", request_body = ValidateBody,
    responses((status = 200, description = "Valid"), (status = 400, description = "`{errors: [{name, message}]}`")))]
pub(crate) async fn validate_entity(
    State(state): State<Arc<AppState>>,
    request: Result<Json<ValidateBody>, JsonRejection>,
) -> Response {
    let error = |message: String| {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"errors": [{"name": "InputError", "message": message}]})),
        )
            .into_response()
    };
    let request = match request {
        Ok(Json(b)) => b,
        Err(e) => return error(e.body_text()),
    };
    if !request.location.contains(':') {
        return error(format!(
            "Invalid location ref {}, expected <type>:<target>",
            request.location
        ));
    }
    // Processing and the catalog's policies run as heavy work.
    let platform = Arc::clone(&state.platform);
    let checked = state
        .heavy()
        .run(move || platform.validate_entity(request.entity, &request.location))
        .await;
    let checked = match checked {
        Ok(checked) => checked,
        Err(e) => return ApiError::from(e).into_response(),
    };
    match checked {
        Ok(()) => StatusCode::OK.into_response(),
        Err(problems) => {
            let errors: Vec<Value> = problems
                .into_iter()
                .map(|(message, path)| json!({"name": "InputError", "message": message, "path": path}))
                .collect();
            (StatusCode::BAD_REQUEST, Json(json!({"errors": errors}))).into_response()
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RefreshBody {
    /// The entity whose location to re-read; omit to re-read every location.
    #[serde(default)]
    entity_ref: Option<String>,
}

/// Re-read the location an entity came from (or every location: `{}` or no body at all).
#[utoipa::path(post, path = "/api/catalog/refresh", tag = "catalog", request_body = RefreshBody,
    responses((status = 200, description = "Refreshed"), (status = 404, description = "No such entity")))]
pub(crate) async fn refresh(
    Caller(principal): Caller,
    State(state): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    raw: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let request = refresh_body(&headers, &raw)?;
    let report = match request.entity_ref {
        None => {
            let permission = Permission::CatalogEntityRefresh;
            auth::check(&state, &principal, permission, &Resource::None, "*").await?;
            state.platform.refresh_all(&principal).await?
        }
        Some(entity_ref) => {
            let key = pave_catalog::EntityRef::parse(&entity_ref, Some("component"), "default")
                .map_err(|e| ApiError::Input(e.to_string()))?
                .key();
            let resource = auth::entity_resource(&state, key.as_str());
            let permission = Permission::CatalogEntityRefresh;
            auth::check(&state, &principal, permission, &resource, key.as_str()).await?;
            state
                .platform
                .refresh_entity(&principal, &key)
                .await?
                .ok_or_else(|| ApiError::NotFound(format!("No entity {key}")))?
        }
    };
    // A source that could not be read is not a successful refresh.
    let failed: Vec<String> = report
        .locations
        .iter()
        .filter_map(|l| {
            l.failed.as_ref().map(|why| {
                let paths = super::locations::client_paths(&state, l.kind, &l.target);
                format!("{}:{}: {}", l.kind, l.target, paths.text(why))
            })
        })
        .collect();
    if !failed.is_empty() {
        return Err(ApiError::Unavailable(format!(
            "could not read {}",
            failed.join("; ")
        )));
    }
    Ok(StatusCode::OK.into_response())
}

/// The body of `POST /refresh`: JSON, or nothing at all (every location). A browser form
/// (an empty body of another type) is refused, so that a page elsewhere cannot start one.
fn refresh_body(headers: &axum::http::HeaderMap, raw: &[u8]) -> Result<RefreshBody, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        });
    let is_json = content_type.as_deref().is_none_or(|t| {
        t == "application/json" || (t.starts_with("application/") && t.ends_with("+json"))
    });
    if !is_json {
        return Err(ApiError::Input(
            "Malformed request body (did you remember to specify an application/json content type?)"
                .into(),
        ));
    }
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Ok(RefreshBody { entity_ref: None });
    }
    body(Json::<RefreshBody>::from_bytes(raw))
}
