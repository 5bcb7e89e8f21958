//! API entities' pages: OpenAPI, AsyncAPI and gRPC definitions laid out, downloaded, and
//! shown as text with a reason when they cannot be read.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use common::*;

/// AsyncAPI and gRPC definitions are laid out like OpenAPI ones: channels with their
/// messages' fields, services' methods with their gRPC paths and message fields.
#[tokio::test]
async fn event_and_grpc_apis_are_laid_out() {
    let demo = demo().await;
    let events = get(
        &demo.state,
        "/catalog/default/api/order-events-api/api",
        false,
    )
    .await;
    assert_eq!(events.status, StatusCode::OK);
    let html = &events.body;
    let card = &html[html.find(r#"id="operations""#).expect("a channels card")..];
    assert!(
        card.contains(r#"<h2 id="operations-title">Channels</h2>"#),
        "{card}"
    );
    assert!(
        card.contains(r#"<span class="api-method api-method-subscribe">SUBSCRIBE</span> <code class="api-path">order-events</code>"#),
        "{card}"
    );
    assert!(
        card.contains("<code>OrderPlaced (application/json)</code>"),
        "{card}"
    );
    assert!(card.contains("<td>OrderPlaced payload</td>"), "{card}");
    assert!(card.contains("<code>orderId</code>"), "{card}");
    assert!(!html.contains("The definition is shown as text"));

    let grpc = get(
        &demo.state,
        "/catalog/default/api/fraud-scoring-api/api",
        false,
    )
    .await;
    assert_eq!(grpc.status, StatusCode::OK);
    let html = &grpc.body;
    let card = &html[html.find(r#"id="operations""#).expect("a methods card")..];
    assert!(
        card.contains(r#"<h2 id="operations-title">Methods</h2>"#),
        "{card}"
    );
    assert!(
        card.contains(r#"<code class="api-path">/northwind.payments.fraud.v1.FraudScoring/ScorePayment</code>"#),
        "{card}"
    );
    assert!(
        card.contains("Scores one payment attempt; called before authorisation."),
        "the rpc's comment is its summary"
    );
    assert!(card.contains("<code>card_bin</code>"), "{card}");
    assert!(
        card.contains("<td>google.protobuf.Timestamp</td>"),
        "{card}"
    );
    assert!(!html.contains("The definition is shown as text"));

    // The definition downloads as a file named for the API.
    assert!(html.contains(r#"href="/catalog/default/api/fraud-scoring-api/definition" download"#));
    let file = get(
        &demo.state,
        "/catalog/default/api/fraud-scoring-api/definition",
        false,
    )
    .await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(
        file.headers["content-disposition"],
        r#"attachment; filename="fraud-scoring-api.proto""#
    );
    assert!(
        file.body.contains("service FraudScoring {"),
        "{}",
        file.body
    );
    let none = get(
        &demo.state,
        "/catalog/default/component/cart-service/definition",
        false,
    )
    .await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn api_page_shows_definition_and_providers() {
    let demo = demo().await;
    let page = get(&demo.state, "/catalog/default/api/orders-api/api", false).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<details class=\"definition\">"));
    assert!(page.body.contains("<pre tabindex=\"0\"><code>"));
    assert!(page.body.contains("openapi"));
    // The OpenAPI document laid out by operation, each with its method, path and responses.
    let html = &page.body;
    let operations = &html[html.find(r#"id="operations""#).expect("an operations card")..];
    assert!(
        operations.contains(r#"<span class="api-method api-method-get">GET</span>"#),
        "{operations}"
    );
    assert!(operations.contains(r#"<details class="api-op" id="op-"#));
    assert!(operations.contains("<th scope=\"col\">Response</th>"));
    assert!(!operations.contains("The definition is shown as text"));
    assert!(
        page.body
            .contains(r#"class="nav-link active" aria-current="page" href="/catalog?kind=API""#)
    );
    assert!(page.body.contains(
        r#"<a id="tab-api" href="/catalog/default/api/orders-api/api" aria-current="page">"#
    ));
    // Providers and consumers are its dependencies, and point into the API from the left
    // in the overview's graph.
    let dependencies = get(
        &demo.state,
        "/catalog/default/api/orders-api/dependencies",
        false,
    )
    .await;
    assert!(dependencies.body.contains("<h3>API provided by <span"));
    assert!(dependencies.body.contains("<h3>API consumed by <span"));
    let overview = get(&demo.state, "/catalog/default/api/orders-api", false).await;
    assert!(overview.body.contains("graph-node graph-node-in"));
    assert!(
        !overview.body.contains(r#"id="operations""#),
        "the definition is laid out on its tab only"
    );
}

/// A malformed or hostile OpenAPI definition never fails the page: the raw text is shown
/// with why it could not be laid out, and text in it stays text.
#[tokio::test]
async fn bad_api_definitions_are_shown_as_text_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("catalog-info.yaml");
    std::fs::write(
        &file,
        "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: broken\nspec:\n  type: openapi\n  lifecycle: production\n  owner: team\n  definition: |\n    openapi: 3.0.0\n    paths: [\n---\napiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: sly\nspec:\n  type: openapi\n  lifecycle: production\n  owner: team\n  definition: |\n    openapi: 3.1.0\n    info: {title: \"<script>alert(1)</script>\", version: \"1\"}\n    paths:\n      /x:\n        get:\n          summary: \"<img src=x onerror=alert(2)>\"\n          responses: {\"200\": {description: ok}}\n",
    )
    .unwrap();
    let state = serving(dir.path(), &file).await;
    let broken = get(&state, "/catalog/default/api/broken/api", false).await;
    assert_eq!(broken.status, StatusCode::OK);
    assert!(
        broken
            .body
            .contains("The definition is shown as text: line 3"),
        "{}",
        broken.body
    );
    assert!(!broken.body.contains(r#"id="operations""#));
    let sly = get(&state, "/catalog/default/api/sly/api", false).await;
    assert_eq!(sly.status, StatusCode::OK);
    assert!(sly.body.contains(r#"id="operations""#));
    assert!(
        !sly.body.contains("<img src=x"),
        "markup in a summary is escaped"
    );
    assert!(!sly.body.contains("<script>alert(1)"));
}
