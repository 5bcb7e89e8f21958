//! The OpenAPI 3.1 document at `/api/openapi.json`.

use axum::Json;
use axum::response::IntoResponse;
use utoipa::OpenApi;

use crate::api;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "pave catalog API",
        description = "Backstage-compatible software catalog API served by pave.",
        license(name = "Apache-2.0")
    ),
    paths(
        api::entities,
        api::by_query,
        api::by_refs,
        api::by_name,
        api::by_uid,
        api::facets,
        api::validate_entity,
        api::list_locations,
        api::get_location,
        api::add_location,
        api::delete_location,
        api::refresh,
    ),
    components(schemas(api::ByRefsBody, api::ValidateBody, api::LocationBody, api::RefreshBody)),
    tags(
        (name = "catalog", description = "Entities, facets, validation and refresh"),
        (name = "locations", description = "Registered sources")
    )
)]
pub(crate) struct ApiDoc;

pub(crate) async fn document() -> impl IntoResponse {
    Json(ApiDoc::openapi())
}
