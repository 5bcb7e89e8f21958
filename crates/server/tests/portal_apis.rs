//! API entities' pages: OpenAPI, AsyncAPI, gRPC and GraphQL definitions laid out,
//! downloaded, and shown as text with a reason when they cannot be read.

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

/// A GraphQL schema: the root types' fields as operations with their arguments and return
/// types (linked to the types listed below), then the schema's other types.
#[tokio::test]
async fn graphql_apis_are_laid_out() {
    let demo = demo().await;
    let page = get(
        &demo.state,
        "/catalog/default/api/mobile-bff-api/api",
        false,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    let html = &page.body;
    assert!(!html.contains("The definition is shown as text"), "{html}");
    let types_at = html.find(r#"id="types""#).expect("a types card");
    let operations = &html[html.find(r#"id="operations""#).expect("an operations card")..types_at];
    assert!(
        operations
            .contains(r#"<h2 id="operations-title">Operations</h2><span class="count">11</span>"#),
        "{operations}"
    );
    for group in ["Query", "Mutation", "Subscription"] {
        assert!(
            operations.contains(&format!(r#"<h3 class="api-tag">{group}</h3>"#)),
            "{group}: {operations}"
        );
    }
    assert!(
        operations.contains(r#"<details class="api-op" id="op-query-home">
      <summary><span class="api-method api-method-query">QUERY</span> <code class="api-path">home</code> <span class="api-summary">The home screen&#39;s sections, in the order the app shows them.</span></summary>"#),
        "{operations}"
    );
    // Arguments: no "In" column, defaults shown, `!` without a default required.
    assert!(!operations.contains(r#"<th scope="col">In</th>"#));
    assert!(operations.contains(r#"<th scope="col">Argument</th>"#));
    assert!(
        operations.contains(r#"<td><code>platform</code></td><td>Platform <span class="muted">= <code>IOS</code></span></td>"#),
        "{operations}"
    );
    assert!(
        operations.contains(
            r#"<td><code>sku</code> <span class="muted">required</span></td><td>ID!</td>"#
        ),
        "{operations}"
    );
    assert!(
        operations.contains(
            r##"<p>Returns <a href="#type-HomeScreen"><code>HomeScreen!</code></a></p>"##
        ),
        "{operations}"
    );
    assert!(
        operations.contains(r#"<span class="api-method api-method-subscription">SUBSCRIPTION</span> <code class="api-path">orderStatusChanged</code>"#),
        "{operations}"
    );
    let tracking = &operations[operations.find(r#"id="op-query-tracking""#).unwrap()..];
    assert!(
        tracking.contains(r#"<span class="badge lifecycle-deprecated">deprecated</span>"#),
        "{tracking}"
    );
    assert!(
        tracking.contains("<p class=\"muted\">Deprecated: Use `Order.tracking`.</p>"),
        "{tracking}"
    );

    let types = &html[types_at..];
    assert!(
        types.contains(r#"<details class="api-op" id="type-Product">"#),
        "{types}"
    );
    assert!(
        types.contains("<td><code>inStock</code></td><td>Boolean!</td>"),
        "{types}"
    );
    assert!(
        types.contains(r##"<td><code>sections</code></td><td><a href="#type-FeedSection">[FeedSection!]!</a></td>"##),
        "a field's type links to it: {types}"
    );
    assert!(
        types.contains(
            r#"<code>products</code><span class="api-args">(<code>first: Int = 12</code>)</span>"#
        ),
        "{types}"
    );
    assert!(
        types.contains("<p>One of <code>Order</code> <code>CheckoutError</code> </p>"),
        "{types}"
    );
    assert!(types.contains(r#"<th scope="col">Value</th>"#), "{types}");
    assert!(
        types.contains("Orders on hold are CANCELLED since 2024."),
        "a deprecated enum value: {types}"
    );
    assert!(
        types.contains("<p>Implements <code>Node</code> </p>"),
        "{types}"
    );

    let file = get(
        &demo.state,
        "/catalog/default/api/mobile-bff-api/definition",
        false,
    )
    .await;
    assert_eq!(
        file.headers["content-disposition"],
        r#"attachment; filename="mobile-bff-api.graphql""#
    );
    assert!(file.body.contains("type Query {"), "{}", file.body);
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
        "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: broken\nspec:\n  type: openapi\n  lifecycle: production\n  owner: team\n  definition: |\n    openapi: 3.0.0\n    paths: [\n---\napiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: sly\nspec:\n  type: openapi\n  lifecycle: production\n  owner: team\n  definition: |\n    openapi: 3.1.0\n    info: {title: \"<script>alert(1)</script>\", version: \"1\"}\n    paths:\n      /x:\n        get:\n          summary: \"<img src=x onerror=alert(2)>\"\n          responses: {\"200\": {description: ok}}\n---\napiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: broken-graph\nspec:\n  type: graphql\n  lifecycle: production\n  owner: team\n  definition: |\n    type Query {\n      order(id: ID!: Order\n    }\n---\napiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: sly-graph\nspec:\n  type: graphql\n  lifecycle: production\n  owner: team\n  definition: |\n    type Query {\n      \"<img src=x onerror=alert(3)>\"\n      a(b: String = \"<script>alert(4)</script>\"): Int @deprecated(reason: \"</details><script>alert(5)</script>\")\n    }\n",
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

    // GraphQL: a syntax error names its line and column; text in a schema stays text.
    let broken = get(&state, "/catalog/default/api/broken-graph/api", false).await;
    assert_eq!(broken.status, StatusCode::OK);
    assert!(
        broken
            .body
            .contains("The definition is shown as text: line 2, column 16: expected `)`, got :"),
        "{}",
        broken.body
    );
    assert!(!broken.body.contains(r#"id="operations""#));
    let sly = get(&state, "/catalog/default/api/sly-graph/api", false).await;
    assert_eq!(sly.status, StatusCode::OK);
    assert!(sly.body.contains(r#"id="op-query-a""#), "{}", sly.body);
    for markup in [
        "<img src=x",
        "<script>alert(4)",
        "</details><script>alert(5)",
    ] {
        assert!(!sly.body.contains(markup), "{markup} is escaped");
    }
}
