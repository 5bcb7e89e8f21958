//! Search over the demo organisation, through the full router: relevance, the API's shape,
//! hostile queries and the search page.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use pave_server::AppState;
use serde_json::Value;
use tower::ServiceExt;

use common::demo;

async fn get(state: &Arc<AppState>, uri: &str) -> (StatusCode, String) {
    let page = common::get(state, uri, false).await;
    (page.status, page.body)
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn search(state: &Arc<AppState>, query: &str) -> Value {
    let (status, body) = get(state, &format!("/api/search?{query}")).await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// The docs pages are indexed in the background after the entities: wait for them.
async fn docs_indexed(state: &Arc<AppState>) {
    let started = Instant::now();
    loop {
        let answer = search(state, "term=runbook&types%5B0%5D=techdocs").await;
        if answer["numberOfResults"].as_u64().unwrap() > 0 {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "docs pages were never indexed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn first(answer: &Value) -> (String, String) {
    let r = &answer["results"][0];
    (
        r["type"].as_str().unwrap_or("none").to_owned(),
        r["document"]["location"]
            .as_str()
            .unwrap_or("none")
            .to_owned(),
    )
}

/// What people type, and what must come first on the demo organisation.
const RELEVANCE: &[(&str, &str, &str)] = &[
    // An exact name comes first, before names that contain it.
    (
        "orders-api",
        "software-catalog",
        "/catalog/default/api/orders-api",
    ),
    (
        "Orders API",
        "software-catalog",
        "/catalog/default/api/orders-api",
    ),
    (
        "checkout",
        "software-catalog",
        "/catalog/default/system/checkout",
    ),
    (
        "image-resizer",
        "software-catalog",
        "/catalog/default/component/image-resizer",
    ),
    // A tag no name carries finds what is tagged.
    (
        "iceberg",
        "software-catalog",
        "/catalog/default/resource/data-lake",
    ),
    (
        "pci",
        "software-catalog",
        "/catalog/default/resource/payments-db",
    ),
    (
        "kafka",
        "software-catalog",
        "/catalog/default/resource/order-events",
    ),
    // One typo, in a name and in a tag.
    (
        "storfront",
        "software-catalog",
        "/catalog/default/system/storefront",
    ),
    (
        "inventroy",
        "software-catalog",
        "/catalog/default/system/inventory",
    ),
    (
        "resizr",
        "software-catalog",
        "/catalog/default/component/image-resizer",
    ),
    (
        "desgin system",
        "software-catalog",
        "/catalog/default/component/design-system",
    ),
    (
        "kafak",
        "software-catalog",
        "/catalog/default/resource/order-events",
    ),
    // A prefix, as the type-ahead sends while typing.
    (
        "lakeho",
        "software-catalog",
        "/catalog/default/component/lakehouse-ingest",
    ),
    // A title.
    (
        "Payments & Trust",
        "software-catalog",
        "/catalog/default/domain/payments",
    ),
    // An operation of an OpenAPI definition.
    (
        "cancelOrder",
        "software-catalog",
        "/catalog/default/api/orders-api",
    ),
    (
        "addCartItem",
        "software-catalog",
        "/catalog/default/api/cart-api",
    ),
    // A docs page's heading.
    (
        "high error rate",
        "techdocs",
        "/catalog/default/component/api-gateway/docs/runbook",
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relevance_on_the_demo_organisation() {
    let demo = demo().await;
    docs_indexed(&demo.state).await;
    let mut failures = Vec::new();
    for (query, doctype, location) in RELEVANCE {
        let answer = search(&demo.state, &format!("term={}", encode(query))).await;
        let got = first(&answer);
        if got != ((*doctype).to_owned(), (*location).to_owned()) {
            failures.push(format!("{query:?}: expected {location}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_in_backstage_shape_with_filters_facets_and_pages() {
    let demo = demo().await;
    docs_indexed(&demo.state).await;
    let state = &demo.state;
    let all = search(state, "term=payments&pageLimit=5").await;
    let total = all["numberOfResults"].as_u64().unwrap();
    assert!(total > 5, "{all}");
    let results = all["results"].as_array().unwrap();
    assert_eq!(results.len(), 5);
    let hit = &results[0];
    assert_eq!(hit["rank"], 1);
    assert_eq!(hit["type"], "software-catalog");
    for field in ["title", "text", "location", "kind", "namespace", "name"] {
        assert!(hit["document"][field].is_string(), "{field}: {hit}");
    }
    // Tags are random per answer (text in a document cannot pose as one), as Backstage's.
    let (pre, post) = (
        hit["highlight"]["preTag"].as_str().unwrap(),
        hit["highlight"]["postTag"].as_str().unwrap(),
    );
    assert!(
        pre.starts_with("<pave-") && post == pre.replace('<', "</"),
        "{hit}"
    );
    assert!(
        hit["highlight"]["fields"]["title"]
            .as_str()
            .unwrap()
            .contains(&format!("{pre}Payments{post}")),
        "{hit}"
    );
    let again = search(state, "term=payments&pageLimit=5").await;
    assert_ne!(again["results"][0]["highlight"]["preTag"], pre);
    assert!(all.get("previousPageCursor").is_none());
    // The next page continues the ranking.
    let cursor = all["nextPageCursor"].as_str().unwrap();
    let next = search(
        state,
        &format!("term=payments&pageLimit=5&pageCursor={}", encode(cursor)),
    )
    .await;
    assert_eq!(next["results"][0]["rank"], 6);
    assert!(next["previousPageCursor"].is_string());
    assert_ne!(next["results"][0]["document"], results[0]["document"]);
    // Facets count what a filter would leave; a kind filter keeps only that kind.
    let kinds = all["facets"]["kind"].as_array().unwrap();
    let components = kinds
        .iter()
        .find(|k| k["value"] == "component")
        .expect("a component facet")["count"]
        .as_u64()
        .unwrap();
    let only = search(
        state,
        "term=payments&filters%5Bkind%5D=Component&pageLimit=100",
    )
    .await;
    assert_eq!(only["numberOfResults"].as_u64().unwrap(), components);
    assert!(
        only["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["document"]["kind"]
                .as_str()
                .unwrap()
                .eq_ignore_ascii_case("component")),
        "{only}"
    );
    // Types: docs pages only, with their entity and path; never a server path.
    let docs = search(state, "term=runbook&types%5B0%5D=techdocs").await;
    let page = &docs["results"][0];
    assert_eq!(page["type"], "techdocs");
    assert!(
        page["document"]["path"].as_str().unwrap().ends_with(".md"),
        "{page}"
    );
    assert!(
        page["document"]["location"]
            .as_str()
            .unwrap()
            .contains("/docs/"),
        "{page}"
    );
    let dir = demo.dir.path().to_str().unwrap().to_owned();
    assert!(
        !docs.to_string().contains(&dir),
        "a server path leaked: {docs}"
    );
    // The tag filter, and an owner filter by the owner's name.
    let tagged = search(state, "term=&filters%5Btag%5D=iceberg").await;
    assert!(tagged["numberOfResults"].as_u64().unwrap() >= 1);
    let owned = search(state, "term=payments&filters%5Bowner%5D=payments-core").await;
    assert!(
        owned["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["document"]["owner"]
                .as_str()
                .unwrap()
                .ends_with("payments-core")),
        "{owned}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_queries_never_fail() {
    let demo = demo().await;
    let state = &demo.state;
    let long = "payments ".repeat(2_000);
    // Long enough to be cut (512 bytes are read), short enough for a URI.
    let wide = "é".repeat(4_000);
    let terms = [
        "\"",
        "\"payments",
        "name:payments",
        "kind:Component AND",
        "(((",
        ")",
        "*",
        "pay*",
        "?",
        "~",
        "payments~2",
        "^3",
        "[a TO z]",
        "{}",
        "-",
        "+",
        "!",
        "\\",
        "/",
        "AND",
        "OR NOT",
        "\u{0}",
        "\u{202e}gnp.exe",
        "日本語の検索",
        "🙂🙂🙂",
        "",
        "     ",
        "%",
        "<script>alert(1)</script>",
        long.as_str(),
        wide.as_str(),
    ];
    for term in terms {
        for prefix in ["/api/search?term=", "/search?q=", "/search/suggest?q="] {
            let uri = format!("{prefix}{}", encode(term));
            let (status, body) = get(state, &uri).await;
            assert_eq!(
                status,
                StatusCode::OK,
                "{prefix}{:?}: {}",
                term.chars().take(40).collect::<String>(),
                &body[..body.len().min(300)]
            );
            assert!(!body.contains("<script>alert"), "{prefix}: unescaped");
        }
    }
    // Bad parameters are the caller's error, never the server's.
    for uri in [
        "/api/search?term=x&pageCursor=%25%25",
        "/api/search?term=x&pageCursor=e30%3D",
        "/api/search?term=x&pageLimit=0",
        "/api/search?term=x&pageLimit=100000",
        "/api/search?term=x&pageLimit=-1",
        "/api/search?term=x&filters%5Bpassword%5D=x",
        "/api/search?term=x&pageCursor=eyJwYWdlIjo5OTk5OTl9",
        "/search?q=x&page=0",
        "/search?q=x&page=999999999999999999999",
    ] {
        let (status, body) = get(state, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
    }
    // Unknown types and odd filter values match nothing rather than fail.
    let odd = search(state, "term=payments&types=nope&filters%5Bkind%5D=%22%3A(").await;
    assert_eq!(odd["numberOfResults"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_search_page_and_type_ahead() {
    let demo = demo().await;
    docs_indexed(&demo.state).await;
    let state = &demo.state;
    let (status, html) = get(state, "/search?q=desgin+system").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.starts_with("<!doctype html>"));
    assert!(
        html.contains(r#"<a class="search-hit-title" href="/catalog/default/component/design-system">Basil <mark>Design</mark> <mark>System</mark></a>"#),
        "{html}"
    );
    assert!(html.contains(r#"id="facet-kind""#), "facets missing");
    // A facet link narrows, and the chosen value links back to all.
    let (_, narrowed) = get(state, "/search?q=payments&kind=component").await;
    assert!(narrowed.contains(r#"aria-current="true""#));
    assert!(narrowed.contains("Clear filters"));
    assert!(!narrowed.contains(r#"<span class="badge badge-sm">System</span>"#));
    // htmx gets the fragment only.
    let response = pave_server::router(Arc::clone(state))
        .oneshot(
            Request::get("/search?q=kafka")
                .header("HX-Request", "true")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let fragment = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(!fragment.contains("<html"));
    assert!(fragment.contains("order-events"));
    // The header box submits to the search page.
    let (_, home) = get(state, "/catalog").await;
    assert!(
        home.contains(
            r#"<form class="global-search" action="/search" method="get" role="search">"#
        )
    );
    // Type-ahead: a prefix, as JSON the script renders as text.
    let (status, body) = get(state, "/search/suggest?q=lakeho").await;
    assert_eq!(status, StatusCode::OK);
    let suggestions: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        suggestions[0]["href"],
        "/catalog/default/component/lakehouse-ingest"
    );
    assert!(suggestions.as_array().unwrap().len() <= 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_follows_catalog_changes() {
    let demo = demo().await;
    let state = &demo.state;
    assert_eq!(
        search(state, "term=zebra-probe").await["numberOfResults"],
        0
    );
    let root = demo.dir.path().join("demo/catalog-info.yaml");
    let mut text = std::fs::read_to_string(&root).unwrap();
    text.push_str(
        "\n---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: zebra-probe\n  description: added after start\nspec:\n  type: service\n  owner: platform-engineering\n  lifecycle: experimental\n",
    );
    std::fs::write(&root, text).unwrap();
    state.refresh_all().await.unwrap();
    let started = Instant::now();
    loop {
        let answer = search(state, "term=zebra-probe").await;
        if first(&answer).1 == "/catalog/default/component/zebra-probe" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the new entity was never found: {answer}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
