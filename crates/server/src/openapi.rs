//! The OpenAPI 3.1 document at `/api/openapi.json`.

use axum::Json;
use axum::response::IntoResponse;
use utoipa::OpenApi;

use crate::api::{
    audit, checkpoints, dora, entities, gate, guardrails, locations, postmortems, search,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "pave catalog API",
        description = "Backstage-compatible software catalog API served by pave, with DORA metrics, incidents and guardrail reports.",
        license(name = "Apache-2.0")
    ),
    paths(
        entities::entities,
        entities::by_query,
        entities::query_by_predicate,
        entities::by_refs,
        entities::by_name,
        entities::ancestry,
        entities::by_uid,
        entities::delete_by_uid,
        entities::facets,
        entities::facets_by_predicate,
        entities::validate_entity,
        entities::refresh,
        locations::list_locations,
        locations::query_locations,
        locations::get_location,
        locations::location_by_entity,
        locations::add_location,
        locations::update_location,
        locations::delete_location,
        locations::analyze_location,
        gate::record_override,
        audit::list,
        checkpoints::create_checkpoint,
        dora::dora,
        dora::incidents,
        dora::alerts,
        dora::incident,
        postmortems::post_postmortem,
        postmortems::list,
        guardrails::publish,
        guardrails::latest,
        guardrails::history,
        search::search,
    ),
    components(schemas(
        entities::ByRefsBody,
        entities::QueryBody,
        entities::OrderBy,
        entities::OrderByField,
        entities::FullTextBody,
        entities::FacetsBody,
        entities::ValidateBody,
        entities::RefreshBody,
        locations::LocationBody,
        locations::LocationQueryBody,
        locations::AnalyzeBody,
        locations::LocationWithStatus,
        locations::ReadingStatus,
        locations::ReadingProblem,
        gate::GateOverride,
        crate::delivery::IncidentSummary,
        crate::delivery::IncidentState,
        crate::delivery::TimelineEntry,
        postmortems::PostmortemBody,
    )),
    tags(
        (name = "catalog", description = "Entities, facets, validation and refresh"),
        (name = "locations", description = "Registered sources"),
        (name = "slo", description = "The deploy gate's overrides"),
        (name = "audit", description = "The hash-chained audit log and its signed checkpoints"),
        (name = "search", description = "Full-text search over entities and docs pages (Backstage's search API)"),
        (name = "delivery", description = "DORA metrics, incidents, alert quality and postmortems from the delivery ledger"),
        (name = "guardrails", description = "`pave check` reports published by CI (`pave check --publish`), kept per catalog entity")
    )
)]
pub(crate) struct ApiDoc;

pub(crate) async fn document() -> impl IntoResponse {
    Json(ApiDoc::openapi())
}
