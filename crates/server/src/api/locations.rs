//! Locations: list, query, register (with `dryRun` and `onConflict`), read, move, remove,
//! look up by entity, and analyse a repository before registering it.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use pave_catalog::query::{Matcher, Predicate};
use pave_ingest::{ClientPaths, LocationKind};
use pave_platform::LocationError;
use pave_store::{LocationId, LocationRow};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Params, body};
use crate::AppState;
use crate::auth::{self, Caller};
use crate::error::ApiError;
use pave_auth::{Permission, Resource};
/// A location as Backstage's `Location` type has it: `{id, type, target, entityRef}`.
fn location_json(l: &LocationRow) -> Value {
    json!({
        "id": l.id,
        "type": l.kind,
        "target": l.target,
        "entityRef": pave_ingest::generated_location_ref(l.kind, &l.target),
    })
}

/// List registered locations.
#[utoipa::path(get, path = "/api/catalog/locations", tag = "locations",
    responses((status = 200, description = "`[{data: {id, type, target, entityRef}}]`")))]
pub(crate) async fn list_locations(
    Caller(principal): Caller,
    State(state): State<Arc<AppState>>,
) -> Result<Response, ApiError> {
    let locations = state.platform.locations(&principal).await?;
    let items: Vec<Value> = locations
        .iter()
        .map(|l| json!({"data": location_json(l)}))
        .collect();
    Ok(Json(items).into_response())
}

/// The body of `POST /locations/by-query`.
#[derive(Deserialize, Default, utoipa::ToSchema)]
pub(crate) struct LocationQueryBody {
    #[serde(default)]
    limit: Option<i64>,
    /// A filter predicate on `id`, `type`, `target` and `entityRef`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    query: Option<Value>,
    #[serde(default)]
    cursor: Option<String>,
}

/// What a locations cursor carries (Backstage's shape: base64 JSON).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LocationCursor {
    limit: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    query: Option<Value>,
}

const DEFAULT_LOCATION_LIMIT: usize = 1000;

/// Whether a location matches a predicate, as Backstage's location store evaluates it: keys
/// `id`, `type`, `target`, `entityRef`; values compared without case.
fn location_matches(location: &Value, predicate: &Predicate) -> bool {
    match predicate {
        Predicate::All(items) => items.iter().all(|p| location_matches(location, p)),
        Predicate::Any(items) => items.iter().any(|p| location_matches(location, p)),
        Predicate::Not(inner) => !location_matches(location, inner),
        Predicate::Fields(fields) => fields.iter().all(|(key, matcher)| {
            let column = if key == "entityref" { "entityRef" } else { key };
            let value = location[column].as_str().unwrap_or_default().to_lowercase();
            match matcher {
                Matcher::Equals(wanted) => value == *wanted,
                Matcher::Exists(exists) => *exists,
                Matcher::In(values) => values.contains(&value),
                Matcher::HasPrefix(prefix) => value.starts_with(prefix.as_str()),
                // Location fields are not arrays: Backstage's store matches nothing.
                Matcher::Contains(_) | Matcher::Relation { .. } => false,
            }
        }),
    }
}

fn check_location_keys(predicate: &Predicate) -> Result<(), ApiError> {
    match predicate {
        Predicate::All(items) | Predicate::Any(items) => {
            items.iter().try_for_each(check_location_keys)
        }
        Predicate::Not(inner) => check_location_keys(inner),
        Predicate::Fields(fields) => fields.iter().try_for_each(|(key, _)| {
            if ["id", "type", "target", "entityref"].contains(&key.as_str()) {
                Ok(())
            } else {
                Err(ApiError::Input(format!(
                    "Invalid filter predicate, expected key to be 'id', 'type', 'target', or 'entityRef', got '{key}'"
                )))
            }
        }),
    }
}

/// Query locations with a filter predicate, a page at a time (ordered by id).
#[utoipa::path(post, path = "/api/catalog/locations/by-query", tag = "locations", request_body = LocationQueryBody,
    responses((status = 200, description = "`{items: [location], totalItems, pageInfo: {nextCursor?}}`"), (status = 400, description = "Bad body")))]
pub(crate) async fn query_locations(
    Caller(principal): Caller,
    State(state): State<Arc<AppState>>,
    request: Result<Json<LocationQueryBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let request = body(request)?;
    let cursor = match request.cursor.as_deref() {
        Some("") => return Err(ApiError::Input("Cursor cannot be empty".into())),
        Some(text) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|_| ApiError::Input("Malformed cursor, unknown encoding".into()))?;
            serde_json::from_slice::<LocationCursor>(&bytes)
                .map_err(|e| ApiError::Input(format!("Malformed cursor: {e}")))?
        }
        None => {
            let limit = request.limit.unwrap_or(DEFAULT_LOCATION_LIMIT as i64);
            let limit = usize::try_from(limit)
                .ok()
                .filter(|l| *l >= 1)
                .ok_or_else(|| ApiError::Input("Limit must be a positive integer >= 1".into()))?;
            LocationCursor {
                limit,
                after_id: None,
                query: request.query,
            }
        }
    };
    let predicate = cursor.query.as_ref().map(Predicate::parse).transpose()?;
    if let Some(p) = &predicate {
        check_location_keys(p)?;
    }
    let mut matching: Vec<Value> = state
        .platform
        .locations(&principal)
        .await?
        .iter()
        .map(location_json)
        .filter(|l| predicate.as_ref().is_none_or(|p| location_matches(l, p)))
        .collect();
    matching.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    let total = matching.len();
    let after = cursor.after_id.as_deref();
    let mut page: Vec<Value> = matching
        .into_iter()
        .filter(|l| after.is_none_or(|a| l["id"].as_str().is_some_and(|id| id > a)))
        .take(cursor.limit.saturating_add(1))
        .collect();
    let has_more = page.len() > cursor.limit;
    page.truncate(cursor.limit);
    let next_cursor = match page.last() {
        Some(last) if has_more => {
            let next = LocationCursor {
                limit: cursor.limit,
                after_id: last["id"].as_str().map(str::to_owned),
                query: cursor.query.clone(),
            };
            let text = serde_json::to_vec(&next).unwrap_or_default();
            Some(base64::engine::general_purpose::STANDARD.encode(text))
        }
        _ => None,
    };
    let mut page_info = serde_json::Map::new();
    if let Some(c) = next_cursor {
        page_info.insert("nextCursor".into(), Value::String(c));
    }
    Ok(Json(json!({"items": page, "totalItems": total, "pageInfo": page_info})).into_response())
}

/// A location with pave's record of its last reading (`GET /locations/{id}`): the API's own
/// type, so that what ingestion stores can change without changing the API.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LocationWithStatus {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    target: String,
    /// The `location:` entity Backstage generates for it.
    entity_ref: String,
    /// When it was last read (Unix seconds); absent before the first reading.
    refreshed_at: Option<i64>,
    /// The last reading; null before the first one.
    status: Option<ReadingStatus>,
}

/// What the last reading of a location did.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReadingStatus {
    added: usize,
    updated: usize,
    unchanged: usize,
    removed: usize,
    rejected: usize,
    conflicts: usize,
    files_read: usize,
    files_unchanged: usize,
    /// The commit read, for git sources.
    #[serde(skip_serializing_if = "Option::is_none")]
    commit: Option<String>,
    /// Why the location could not be read (its entities were kept as they were).
    #[serde(skip_serializing_if = "Option::is_none")]
    failed: Option<String>,
    /// Problems found, each with its file and position (at most 500).
    diagnostics: Vec<ReadingProblem>,
}

/// One problem of a reading: `file:line:column: severity: message`.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReadingProblem {
    file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<u32>,
    /// `error` or `warning`.
    severity: &'static str,
    message: String,
    /// The entity concerned, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    entity_ref: Option<String>,
}

impl ReadingStatus {
    /// The stored status as clients see it: paths relative to the location's root.
    fn shown(s: pave_ingest::StoredStatus, paths: &ClientPaths) -> Self {
        ReadingStatus {
            added: s.added,
            updated: s.updated,
            unchanged: s.unchanged,
            removed: s.removed,
            rejected: s.rejected,
            conflicts: s.conflicts,
            files_read: s.files_read,
            files_unchanged: s.files_unchanged,
            commit: s.commit,
            failed: s.failed.map(|why| paths.text(&why)),
            diagnostics: s
                .diagnostics
                .iter()
                .map(|d| {
                    let d = paths.diagnostic(d);
                    ReadingProblem {
                        severity: if d.is_error() { "error" } else { "warning" },
                        file: d.file,
                        line: d.line,
                        column: d.column,
                        message: d.message,
                        entity_ref: d.entity_ref,
                    }
                })
                .collect(),
        }
    }
}

/// One location, with its last ingestion status.
#[utoipa::path(get, path = "/api/catalog/locations/{id}", tag = "locations",
    params(("id" = String, Path)),
    responses((status = 200, body = LocationWithStatus, description = "`{id, type, target, entityRef}` as Backstage, plus pave's `refreshedAt` and `status`"), (status = 404, description = "No such location")))]
pub(crate) async fn get_location(
    Caller(principal): Caller,
    State(state): State<Arc<AppState>>,
    Path(id): Path<LocationId>,
) -> Result<Response, ApiError> {
    let location = state
        .platform
        .location(&principal, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Found no location with ID {id}")))?;
    let paths = client_paths(&state, location.kind, &location.target);
    let status = location
        .status
        .as_deref()
        .and_then(pave_ingest::StoredStatus::parse)
        .map(|s| ReadingStatus::shown(s, &paths));
    Ok(Json(LocationWithStatus {
        entity_ref: pave_ingest::generated_location_ref(location.kind, &location.target),
        id: location.id.into_string(),
        kind: location.kind.to_string(),
        target: location.target,
        refreshed_at: location.refreshed_at,
        status,
    })
    .into_response())
}

/// The location an entity came from.
#[utoipa::path(get, path = "/api/catalog/locations/by-entity/{kind}/{namespace}/{name}", tag = "locations",
    params(("kind" = String, Path), ("namespace" = String, Path), ("name" = String, Path)),
    responses((status = 200, description = "`{id, type, target, entityRef}`"), (status = 404, description = "No such entity, or it has no location")))]
pub(crate) async fn location_by_entity(
    Caller(principal): Caller,
    State(state): State<Arc<AppState>>,
    Path((kind, namespace, name)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let key = pave_catalog::EntityKey::new(&kind, &namespace, &name);
    let location = state
        .platform
        .location_of(&principal, &key)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("found no entity for ref {key}")))?;
    Ok(Json(location_json(&location)).into_response())
}

/// How the paths of location `kind`/`target` are shown to API clients (relative to its root;
/// the server's log keeps them whole).
pub(crate) fn client_paths(state: &AppState, kind: LocationKind, target: &str) -> ClientPaths {
    ClientPaths::new(kind, target, &state.platform.ingest_config().git_cache)
}

/// An error of an operation on an admitted location, its paths as clients see them. A
/// refusal (`Invalid`) names only what the client sent and is passed on as it is.
fn shown_error(state: &AppState, request: &LocationBody, error: LocationError) -> ApiError {
    match error {
        LocationError::Unreadable(e) => {
            let kind = LocationKind::parse(&request.kind).unwrap_or(LocationKind::Url);
            let paths = client_paths(state, kind, &request.target);
            ApiError::Unavailable(paths.text(&e.to_string()))
        }
        e => e.into(),
    }
}

/// `{type, target}` (Backstage also accepts `presence`, which registered locations ignore).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LocationBody {
    /// `url` (an http(s) URL: a forge's web URL of a file or folder is read from a checkout
    /// of its repository, any other URL is fetched), `file` (a path on the server) or `git`
    /// (a repository URL, `URL#ref`).
    #[serde(rename = "type")]
    kind: String,
    target: String,
    #[serde(default)]
    #[allow(dead_code)]
    presence: Option<String>,
}

/// Register a location and ingest it.
#[utoipa::path(post, path = "/api/catalog/locations", tag = "locations", request_body = LocationBody,
    params(
        ("dryRun" = Option<bool>, Query, description = "Only read it; register nothing"),
        ("onConflict" = Option<String>, Query, description = "`reject` (default: 409 when registered) or `refresh` (read it again)"),
    ),
    responses((status = 201, description = "`{location, entities, exists?}`"), (status = 400, description = "Unreadable or not allowed"), (status = 409, description = "Already registered")))]
pub(crate) async fn add_location(
    Caller(principal): Caller,
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
    request: Result<Json<LocationBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let request = body(request)?;
    let target = format!("{}:{}", request.kind, request.target);
    let resource = Resource::NewLocation {
        kind: request.kind.clone(),
    };
    auth::check(
        &state,
        &principal,
        Permission::CatalogLocationCreate,
        &resource,
        &target,
    )
    .await?;
    let params = Params::parse(raw, &state.request_limits())?;
    let refresh_existing = match params.one("onConflict") {
        None | Some("reject") => false,
        Some("refresh") => true,
        Some(other) => {
            return Err(ApiError::Input(format!(
                "Invalid onConflict value \"{other}\", expected reject or refresh"
            )));
        }
    };
    if params.flag("dryRun") {
        let (kind, target, preview, exists) = state
            .platform
            .preview_location(&principal, &request.kind, &request.target)
            .await
            .map_err(|e| shown_error(&state, &request, e))?;
        let paths = client_paths(&state, kind, &target);
        let diagnostics: Vec<_> = preview
            .diagnostics
            .iter()
            .map(|d| paths.diagnostic(d))
            .collect();
        return Ok((
            StatusCode::CREATED,
            Json(json!({
                "location": {
                    "id": format!("{kind}:{target}"),
                    "type": kind,
                    "target": target,
                    "entityRef": pave_ingest::generated_location_ref(kind, &target),
                },
                "entities": preview.entities,
                "exists": exists,
                "diagnostics": diagnostics,
            })),
        )
            .into_response());
    }
    let (location, existed, report) = state
        .platform
        .add_location(&principal, &request.kind, &request.target, refresh_existing)
        .await
        .map_err(|e| shown_error(&state, &request, e))?;
    let entities = state
        .platform
        .location_entities(&principal, &location.id)
        .await?;
    // The reading's outcome, always: a location read again (`onConflict=refresh`) that could
    // not be read says why, as an error diagnostic.
    let paths = client_paths(&state, location.kind, &location.target);
    let diagnostics: Vec<pave_ingest::Diagnostic> = report
        .locations
        .iter()
        .filter_map(|l| {
            l.failed.as_ref().map(|why| {
                pave_ingest::Diagnostic::error(
                    format!("{}:{}", l.kind, l.target),
                    None,
                    why.clone(),
                )
            })
        })
        .chain(report.diagnostics().cloned())
        .map(|d| paths.diagnostic(&d))
        .collect();
    let mut answer = json!({
        "location": location_json(&location),
        "entities": entities,
        "diagnostics": diagnostics,
    });
    if existed {
        answer["exists"] = Value::Bool(true);
    }
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// Move a location to a new type and target, and read it there.
#[utoipa::path(put, path = "/api/catalog/locations/{id}", tag = "locations", request_body = LocationBody,
    params(("id" = String, Path)),
    responses((status = 200, description = "`{id, type, target, entityRef}`"), (status = 404, description = "No such location"), (status = 409, description = "Another location has that target")))]
pub(crate) async fn update_location(
    Caller(principal): Caller,
    State(state): State<Arc<AppState>>,
    Path(id): Path<LocationId>,
    request: Result<Json<LocationBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let request = body(request)?;
    // Moving a location is registering it anew, and unregistering what it was.
    let existing = location_resource(&state, &principal, &id).await?;
    auth::check(
        &state,
        &principal,
        Permission::CatalogLocationDelete,
        &existing,
        id.as_str(),
    )
    .await?;
    let resource = Resource::NewLocation {
        kind: request.kind.clone(),
    };
    auth::check(
        &state,
        &principal,
        Permission::CatalogLocationCreate,
        &resource,
        id.as_str(),
    )
    .await?;
    let location = state
        .platform
        .update_location(&principal, &id, &request.kind, &request.target)
        .await
        .map_err(|e| shown_error(&state, &request, e))?;
    Ok(Json(location_json(&location)).into_response())
}

/// Unregister a location and remove what it produced.
#[utoipa::path(delete, path = "/api/catalog/locations/{id}", tag = "locations",
    params(("id" = String, Path)),
    responses((status = 204, description = "Removed"), (status = 404, description = "No such location")))]
pub(crate) async fn delete_location(
    Caller(principal): Caller,
    State(state): State<Arc<AppState>>,
    Path(id): Path<LocationId>,
) -> Result<Response, ApiError> {
    let resource = location_resource(&state, &principal, &id).await?;
    auth::check(
        &state,
        &principal,
        Permission::CatalogLocationDelete,
        &resource,
        id.as_str(),
    )
    .await?;
    if !state.platform.remove_location(&principal, &id).await? {
        return Err(ApiError::NotFound(format!(
            "Found no location with ID {id}"
        )));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AnalyzeBody {
    location: LocationBody,
    /// The catalog file name to look for (default `catalog-info.yaml`).
    #[serde(default)]
    catalog_filename: Option<String>,
}

/// A Backstage entity name made from a repository or folder name: at most 63 characters of
/// `[A-Za-z0-9._-]`, starting and ending with a letter or digit.
fn entity_name(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = cleaned.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    let mut name: String = trimmed.chars().take(63).collect();
    while name.ends_with(|c: char| !c.is_ascii_alphanumeric()) {
        name.pop();
    }
    if name.is_empty() {
        "unnamed".into()
    } else {
        name
    }
}

/// What a repository or folder holds for the catalog: its catalog files, or an entity to
/// generate for it (Backstage's "register existing component").
#[utoipa::path(post, path = "/api/catalog/analyze-location", tag = "locations", request_body = AnalyzeBody,
    responses((status = 200, description = "`{existingEntityFiles: [{location, isRegistered, entity}], generateEntities: [{entity, fields}]}`"), (status = 400, description = "Not a location pave reads, or not allowed"), (status = 503, description = "The source cannot be read")))]
pub(crate) async fn analyze_location(
    Caller(principal): Caller,
    State(state): State<Arc<AppState>>,
    request: Result<Json<AnalyzeBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let request = body(request)?;
    // Analysing reads the source, as registering would (a `file` one reads this machine).
    let resource = Resource::NewLocation {
        kind: request.location.kind.clone(),
    };
    let target = format!("{}:{}", request.location.kind, request.location.target);
    auth::check(
        &state,
        &principal,
        Permission::CatalogLocationCreate,
        &resource,
        &target,
    )
    .await?;
    let filename = request
        .catalog_filename
        .unwrap_or_else(|| "catalog-info.yaml".to_owned());
    let analysis = state
        .platform
        .analyze_location(
            &principal,
            &request.location.kind,
            &request.location.target,
            &filename,
        )
        .await
        .map_err(|e| shown_error(&state, &request.location, e))?;
    let catalog = state.catalog();
    let existing: Vec<Value> = analysis
        .files
        .iter()
        .flat_map(|file| {
            let catalog = &catalog;
            file.entities.iter().map(move |entity| {
                let key = pave_catalog::EntityRef::parse(
                    &format!(
                        "{}:{}/{}",
                        entity["kind"].as_str().unwrap_or_default(),
                        entity["metadata"]["namespace"]
                            .as_str()
                            .unwrap_or("default"),
                        entity["metadata"]["name"].as_str().unwrap_or_default()
                    ),
                    None,
                    "default",
                )
                .map(|r| r.key())
                .ok();
                json!({
                    "location": {"type": file.location_type, "target": file.location_target},
                    "isRegistered": key.is_some_and(|k| catalog.get(&k).is_some()),
                    "entity": entity,
                })
            })
        })
        .collect();
    if !existing.is_empty() {
        return Ok(
            Json(json!({"existingEntityFiles": existing, "generateEntities": []})).into_response(),
        );
    }
    // As Backstage's analyzer: a Component named after the repository, with the forge's
    // project-slug annotation where the host is GitHub or GitLab.
    let name = &analysis.name;
    let mut entity = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": entity_name(&name.name)},
        "spec": {"type": "other", "lifecycle": "unknown"},
    });
    let prefix = name.host.as_deref().and_then(|host| {
        if host.contains("github") {
            Some("github.com")
        } else if host.contains("gitlab") {
            Some("gitlab.com")
        } else {
            None
        }
    });
    if let (Some(prefix), Some(owner)) = (prefix, &name.owner) {
        entity["metadata"]["annotations"] =
            json!({format!("{prefix}/project-slug"): format!("{owner}/{}", name.name)});
    }
    Ok(Json(json!({
        "existingEntityFiles": [],
        "generateEntities": [{"entity": entity, "fields": []}],
    }))
    .into_response())
}

/// A registered location as authorization sees it: its type and the owners of each entity
/// it provides (unknown locations have none; the handler answers 404 for them).
async fn location_resource(
    state: &AppState,
    principal: &pave_platform::Principal,
    id: &LocationId,
) -> Result<Resource, ApiError> {
    if auth::enabled(state).is_none() {
        return Ok(Resource::None);
    }
    let Some(location) = state.platform.location(principal, id).await? else {
        return Ok(Resource::Location {
            kind: String::new(),
            provided_owners: Vec::new(),
        });
    };
    let entities = state.platform.location_entities(principal, id).await?;
    Ok(Resource::Location {
        kind: location.kind.to_string(),
        provided_owners: entities.iter().map(auth::owners_of).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_names_are_valid_entity_names() {
        assert_eq!(entity_name("shop"), "shop");
        assert_eq!(entity_name("my repo!"), "my-repo");
        assert_eq!(entity_name("-_x_-"), "x");
        assert_eq!(entity_name("???"), "unnamed");
        assert_eq!(entity_name(&"a".repeat(80)).len(), 63);
    }

    #[test]
    fn location_predicates_follow_backstage() {
        let location = json!({"id": "b1", "type": "url", "target": "https://GitHub.com/org/r/blob/main/x.yaml", "entityRef": "location:default/generated-1"});
        let matches = |q: Value| location_matches(&location, &Predicate::parse(&q).unwrap());
        assert!(matches(json!({"type": "URL"})));
        assert!(matches(
            json!({"target": {"$hasPrefix": "https://github.com/org"}})
        ));
        assert!(matches(
            json!({"entityRef": {"$in": ["location:default/generated-1"]}})
        ));
        assert!(!matches(json!({"$not": {"type": "url"}})));
        assert!(matches(json!({"$any": [{"type": "file"}, {"id": "b1"}]})));
        assert!(!matches(json!({"type": {"$contains": "url"}})));
        assert!(check_location_keys(&Predicate::parse(&json!({"kind": "x"})).unwrap()).is_err());
    }
}
