//! The Backstage-compatible catalog API under `/api/catalog`.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pave_catalog::query::{
    EntitiesRequest, EntityFilter, FieldSelection, FullTextFilter, OrderField, QueryRequest,
};
use pave_catalog::{CatalogRules, ProcessContext, process_entity};
use pave_ingest::Source;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiError;

/// Query parameters in order, repeats kept (`filter=a&filter=b`).
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(raw: Option<String>) -> Self {
        Params(
            url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn one(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn number(&self, name: &str) -> Result<Option<usize>, ApiError> {
        self.one(name)
            .map(|v| {
                v.trim().parse::<usize>().map_err(|_| {
                    ApiError::Input(format!(
                        "invalid {name}, must be a non-negative integer, got '{v}'"
                    ))
                })
            })
            .transpose()
    }

    fn filter(&self) -> Result<Option<EntityFilter>, ApiError> {
        Ok(EntityFilter::parse(&self.all("filter"))?)
    }

    fn fields(&self) -> Result<Option<FieldSelection>, ApiError> {
        Ok(FieldSelection::parse(&self.all("fields"))?)
    }
}

fn json_response(status: StatusCode, body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

fn json_array<'a>(
    items: impl IntoIterator<Item = std::borrow::Cow<'a, str>>,
    size_hint: usize,
) -> String {
    let mut out = String::with_capacity(size_hint);
    out.push('[');
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&item);
    }
    out.push(']');
    out
}

/// Renders a JSON array of entities a chunk (about 64 KiB) at a time.
struct JsonArrayChunks {
    catalog: Arc<pave_catalog::Catalog>,
    ids: Vec<u32>,
    fields: Option<FieldSelection>,
    next: usize,
    done: bool,
}

impl Iterator for JsonArrayChunks {
    type Item = axum::body::Bytes;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut chunk = String::with_capacity(64 * 1024 + 4096);
        if self.next == 0 {
            chunk.push('[');
        }
        while let Some(id) = self.ids.get(self.next) {
            if self.next > 0 {
                chunk.push(',');
            }
            chunk.push_str(&self.catalog.render(*id, self.fields.as_ref()));
            self.next += 1;
            if chunk.len() >= 64 * 1024 {
                return Some(chunk.into());
            }
        }
        chunk.push(']');
        self.done = true;
        Some(chunk.into())
    }
}

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
    let params = Params::parse(raw);
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
    let page = catalog.entities(&request)?;
    let next_after = page.next_after.clone();
    // Stream the array in chunks: a catalog can be tens of megabytes of JSON.
    let chunks = JsonArrayChunks {
        catalog,
        ids: page.ids,
        fields: request.fields,
        next: 0,
        done: false,
    };
    let body = Body::from_stream(futures_util::stream::iter(
        chunks.map(Ok::<_, std::convert::Infallible>),
    ));
    let mut response = Response::new(body);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    if let Some(after) = next_after {
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

/// Query entities with cursor pagination.
#[utoipa::path(get, path = "/api/catalog/entities/by-query", tag = "catalog",
    params(
        ("filter" = Option<Vec<String>>, Query), ("fields" = Option<Vec<String>>, Query),
        ("limit" = Option<usize>, Query, description = "Page size (default 200)"), ("offset" = Option<usize>, Query),
        ("orderField" = Option<String>, Query, description = "`<field>,asc|desc`"),
        ("fullTextFilterTerm" = Option<String>, Query), ("fullTextFilterFields" = Option<String>, Query),
        ("cursor" = Option<String>, Query, description = "From pageInfo; replaces filter, order and search"),
    ),
    responses((status = 200, description = "`{items, totalItems, pageInfo: {nextCursor?, prevCursor?}}`"), (status = 400, description = "Bad parameters")))]
pub(crate) async fn by_query(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::parse(raw);
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
    };
    let catalog = state.catalog();
    let page = catalog.query(&request)?;
    let mut page_info = serde_json::Map::new();
    if let Some(c) = page.next_cursor {
        page_info.insert("nextCursor".into(), Value::String(c));
    }
    if let Some(c) = page.prev_cursor {
        page_info.insert("prevCursor".into(), Value::String(c));
    }
    let hint = page.items.iter().map(|i| i.len() + 1).sum::<usize>() + 64;
    let mut body = String::with_capacity(hint);
    body.push_str("{\"items\":");
    body.push_str(&json_array(page.items, hint));
    body.push_str(&format!(
        ",\"totalItems\":{},\"pageInfo\":{}}}",
        page.total_items,
        Value::Object(page_info)
    ));
    Ok(json_response(StatusCode::OK, body))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ByRefsBody {
    entity_refs: Vec<String>,
    #[serde(default)]
    fields: Option<Vec<String>>,
}

/// Fetch entities by reference, in the order asked; `null` for refs that do not exist.
#[utoipa::path(post, path = "/api/catalog/entities/by-refs", tag = "catalog", request_body = ByRefsBody,
    params(("filter" = Option<Vec<String>>, Query), ("fields" = Option<Vec<String>>, Query)),
    responses((status = 200, description = "`{items: [entity | null]}`"), (status = 400, description = "Bad body")))]
pub(crate) async fn by_refs(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
    body: Result<Json<ByRefsBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body.map_err(|e| ApiError::Input(e.body_text()))?;
    let params = Params::parse(raw);
    let fields = match body.fields {
        Some(fields) if !fields.is_empty() => FieldSelection::from_fields(fields),
        _ => params.fields()?,
    };
    let catalog = state.catalog();
    let items = catalog.by_refs(
        &body.entity_refs,
        params.filter()?.as_ref(),
        fields.as_ref(),
    );
    let items = items
        .into_iter()
        .map(|i| i.unwrap_or(std::borrow::Cow::Borrowed("null")));
    Ok(json_response(
        StatusCode::OK,
        format!("{{\"items\":{}}}", json_array(items, 1024)),
    ))
}

/// Fetch one entity by kind, namespace and name.
#[utoipa::path(get, path = "/api/catalog/entities/by-name/{kind}/{namespace}/{name}", tag = "catalog",
    params(("kind" = String, Path), ("namespace" = String, Path), ("name" = String, Path)),
    responses((status = 200, description = "The entity"), (status = 404, description = "No such entity")))]
pub(crate) async fn by_name(
    State(state): State<Arc<AppState>>,
    Path((kind, namespace, name)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let key = format!("{kind}:{namespace}/{name}").to_lowercase();
    let catalog = state.catalog();
    let record = catalog.get(&key).ok_or_else(|| {
        ApiError::NotFound(format!(
            "No entity named '{name}' found, with kind '{kind}' in namespace '{namespace}'"
        ))
    })?;
    Ok(json_response(StatusCode::OK, record.json.to_string()))
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

/// Count distinct values of fields across (filtered) entities.
#[utoipa::path(get, path = "/api/catalog/entity-facets", tag = "catalog",
    params(("facet" = Vec<String>, Query, description = "Field to count, repeatable"), ("filter" = Option<Vec<String>>, Query)),
    responses((status = 200, description = "`{facets: {<facet>: [{value, count}]}}`"), (status = 400, description = "No facet given")))]
pub(crate) async fn facets(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::parse(raw);
    let names: Vec<String> = params.all("facet").into_iter().map(str::to_owned).collect();
    if names.is_empty() {
        return Err(ApiError::Input("Missing facet parameter".into()));
    }
    let catalog = state.catalog();
    let facets = catalog.facets(params.filter()?.as_ref(), &names);
    let body: serde_json::Map<String, Value> = facets
        .into_iter()
        .map(|(name, values)| {
            let values = values
                .into_iter()
                .map(|(value, count)| json!({"value": value, "count": count}))
                .collect();
            (name, Value::Array(values))
        })
        .collect();
    Ok(Json(json!({"facets": body})).into_response())
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
    body: Result<Json<ValidateBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let error = |message: String| {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"errors": [{"name": "InputError", "message": message}]})),
        )
            .into_response()
    };
    let Json(body) = match body {
        Ok(b) => b,
        Err(e) => return error(e.body_text()),
    };
    if !body.location.contains(':') {
        return error(format!(
            "Invalid location ref {}, expected <type>:<target>",
            body.location
        ));
    }
    let rules: &CatalogRules = &state.ingest.rules;
    let context = ProcessContext {
        rules,
        location: &body.location,
        origin_location: &body.location,
        placeholders: None,
    };
    match process_entity(body.entity, &context) {
        Ok(_) => StatusCode::OK.into_response(),
        Err(rejected) => {
            let errors: Vec<Value> = rejected
                .problems
                .iter()
                .map(|p| json!({"name": "InputError", "message": p.message, "path": p.dotted_path()}))
                .collect();
            (StatusCode::BAD_REQUEST, Json(json!({"errors": errors}))).into_response()
        }
    }
}

fn location_json(l: &pave_store::LocationRow) -> Value {
    json!({"id": l.id, "type": l.kind, "target": l.target})
}

/// List registered locations.
#[utoipa::path(get, path = "/api/catalog/locations", tag = "locations",
    responses((status = 200, description = "`[{data: {id, type, target}}]`")))]
pub(crate) async fn list_locations(
    State(state): State<Arc<AppState>>,
) -> Result<Response, ApiError> {
    let locations = state.store.locations().await?;
    let items: Vec<Value> = locations
        .iter()
        .map(|l| json!({"data": location_json(l)}))
        .collect();
    Ok(Json(items).into_response())
}

/// One location, with its last ingestion status.
#[utoipa::path(get, path = "/api/catalog/locations/{id}", tag = "locations",
    params(("id" = String, Path)),
    responses((status = 200, description = "`{id, type, target}` plus pave's `refreshedAt` and `status`"), (status = 404, description = "No such location")))]
pub(crate) async fn get_location(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let location = state
        .store
        .location(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Found no location with ID {id}")))?;
    let mut value = location_json(&location);
    value["refreshedAt"] = json!(location.refreshed_at);
    value["status"] = location
        .status
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or(Value::Null);
    Ok(Json(value).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct LocationBody {
    /// `file` (a path on the server) or `git` / `url` (a repository URL, `URL#ref`).
    #[serde(rename = "type")]
    kind: String,
    target: String,
}

/// Register a location and ingest it.
#[utoipa::path(post, path = "/api/catalog/locations", tag = "locations", request_body = LocationBody,
    params(("dryRun" = Option<bool>, Query, description = "Only read it; register nothing")),
    responses((status = 201, description = "`{location, entities}`"), (status = 400, description = "Unreadable source"), (status = 409, description = "Already registered")))]
pub(crate) async fn add_location(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
    body: Result<Json<LocationBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body.map_err(|e| ApiError::Input(e.body_text()))?;
    let params = Params::parse(raw);
    let dry_run = params
        .one("dryRun")
        .is_some_and(|v| matches!(v, "true" | "1" | "yes"));
    let source = match body.kind.as_str() {
        "file" => Source::Path(body.target.clone().into()),
        "git" | "url" => Source::parse(&body.target),
        other => {
            return Err(ApiError::Input(format!(
                "unsupported location type `{other}`; use file, git or url"
            )));
        }
    };
    if let Source::Git { .. } = &source
        && !body.target.contains("://")
        && !body.target.starts_with("git@")
    {
        return Err(ApiError::Input(format!(
            "{} is not a repository URL",
            body.target
        )));
    }
    let (kind, target) = source
        .location()
        .map_err(|e| ApiError::Input(e.to_string()))?;
    if dry_run {
        let preview = pave_ingest::preview(&source, &state.ingest)
            .await
            .map_err(|e| ApiError::Input(e.to_string()))?;
        let exists = state
            .store
            .locations()
            .await?
            .iter()
            .any(|l| l.kind == kind && l.target == target);
        return Ok((
            StatusCode::CREATED,
            Json(json!({
                "location": {"id": "", "type": kind, "target": target},
                "entities": preview.entities,
                "exists": exists,
                "diagnostics": preview.diagnostics,
            })),
        )
            .into_response());
    }
    let (location, created) = state
        .store
        .add_location(&kind, &target, pave_ingest::now_millis())
        .await?;
    if !created {
        return Err(ApiError::Conflict(format!(
            "Location {kind}:{target} already exists"
        )));
    }
    let report = state
        .refresh(std::slice::from_ref(&location))
        .await
        .map_err(|e| ApiError::internal("ingestion failed", e))?;
    let catalog = state.catalog();
    let rows = state.store.location_entities(&location.id).await?;
    let entities: Vec<Value> = rows
        .iter()
        .filter_map(|r| catalog.get(&r.entity_ref).map(|rec| rec.entity()))
        .collect();
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "location": location_json(&location),
            "entities": entities,
            "diagnostics": report.diagnostics().collect::<Vec<_>>(),
        })),
    )
        .into_response())
}

/// Unregister a location and remove what it produced.
#[utoipa::path(delete, path = "/api/catalog/locations/{id}", tag = "locations",
    params(("id" = String, Path)),
    responses((status = 204, description = "Removed"), (status = 404, description = "No such location")))]
pub(crate) async fn delete_location(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    if !state.remove_location(&id).await? {
        return Err(ApiError::NotFound(format!(
            "Found no location with ID {id}"
        )));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RefreshBody {
    /// The entity whose location to re-read; omit to re-read every location.
    #[serde(default)]
    entity_ref: Option<String>,
}

/// Re-read the location an entity came from (or every location).
#[utoipa::path(post, path = "/api/catalog/refresh", tag = "catalog", request_body = RefreshBody,
    responses((status = 200, description = "Refreshed"), (status = 404, description = "No such entity")))]
pub(crate) async fn refresh(
    State(state): State<Arc<AppState>>,
    body: Result<Json<RefreshBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body.map_err(|e| ApiError::Input(e.body_text()))?;
    let locations = match body.entity_ref {
        None => state.store.locations().await?,
        Some(entity_ref) => {
            let key = pave_catalog::EntityRef::parse(&entity_ref, Some("component"), "default")
                .map_err(|e| ApiError::Input(e.to_string()))?
                .key();
            let owner = state
                .store
                .entity_owners()
                .await?
                .into_iter()
                .find(|(r, _)| *r == key)
                .ok_or_else(|| ApiError::NotFound(format!("No entity {key}")))?;
            state.store.location(&owner.1).await?.into_iter().collect()
        }
    };
    state
        .refresh(&locations)
        .await
        .map_err(|e| ApiError::internal("ingestion failed", e))?;
    Ok(StatusCode::OK.into_response())
}
