//! The portal's HTML over the demo organisation, through the full router (no browser).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::*;
use pave_ingest::IngestConfig;
use pave_server::AppState;
use tower::ServiceExt;

/// The `<tbody>` rows of the first entity table.
fn rows(html: &str) -> Vec<&str> {
    let Some(start) = html.find("<tbody>") else {
        return Vec::new();
    };
    let end = html[start..].find("</tbody>").unwrap() + start;
    html[start..end].split("<tr>").skip(1).collect()
}

fn total(html: &str) -> usize {
    let at = html.find("data-total=\"").expect("no result count") + 12;
    html[at..].split('"').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn catalog_lists_filters_searches_and_pages() {
    let demo = demo().await;
    let state = &demo.state;

    let all = get(state, "/catalog", false).await;
    assert_eq!(all.status, StatusCode::OK);
    assert!(
        all.content_type.starts_with("text/html"),
        "{}",
        all.content_type
    );
    assert_layout(&all.body);
    // 14 groups, 4 domains, 10 systems, 60 components, 32 APIs, 10 resources and 1 registered
    // template: the 46 users and the locations are listed only when asked for (a kind, or a
    // search).
    assert_eq!(total(&all.body), 131, "{}", total(&all.body));
    let users = get(state, "/catalog?kind=user", false).await;
    assert_eq!(total(&users.body), 46);
    assert!(total(&get(state, "/catalog?kind=location", false).await.body) >= 1);
    let found = get(state, "/catalog?q=maya.okafor", false).await;
    assert!(
        rows(&found.body).iter().any(|r| r.contains("kind-user")),
        "a search finds every kind"
    );
    assert_eq!(rows(&all.body).len(), 25);
    assert!(
        all.body
            .contains(&format!("Page 1 of {}", total(&all.body).div_ceil(25)))
    );
    assert!(all.body.contains(r#"rel="next" href="/catalog?page=2""#));
    // The filter bar: fed by facets, with counts, and a plain GET form wired to htmx. The
    // kind is one choice; the others are checkbox lists.
    assert!(all.body.contains(r#"<select id="filter-kind""#));
    for list in [
        "filter-type",
        "filter-owner",
        "filter-lifecycle",
        "filter-tag",
    ] {
        assert!(
            all.body
                .contains(&format!(r#"<details class="filter-multi" id="{list}">"#)),
            "{list}"
        );
    }
    assert!(
        all.body
            .contains(r#"<option value="Component">Component (60)</option>"#)
    );
    assert!(
        all.body
            .contains(r#"<option value="API">API (32)</option>"#)
    );
    assert!(
        all.body
            .contains(r#"<input type="checkbox" name="lifecycle" value="production">"#)
    );
    assert!(all.body.contains(r#"action="/catalog" method="get""#));
    assert!(all.body.contains(r##"hx-target="#results""##));
    assert!(all.body.contains(r#"hx-push-url="true""#));
    assert_eq!(
        all.headers.get(header::VARY).unwrap(),
        "HX-Request, HX-Target"
    );

    // kind=API: only APIs, and the count says so; the select shows the choice.
    let apis = get(state, "/catalog?kind=api", false).await;
    assert_eq!(apis.status, StatusCode::OK);
    assert_eq!(total(&apis.body), 32);
    assert!(apis.body.contains("<strong>32</strong> entities"));
    assert!(apis.body.contains(r#"<option value="API" selected>"#));
    assert!(apis.body.contains("<h1>APIs</h1>"));
    let api_rows = rows(&apis.body);
    assert_eq!(api_rows.len(), 25);
    for row in &api_rows {
        assert!(
            row.contains(r#"<span class="badge kind-api">API</span>"#),
            "{row}"
        );
    }
    assert!(apis.body.contains("Page 1 of 2"));

    // Filters combine (AND) and the owner column links to the owning group.
    let services = get(
        state,
        "/catalog?kind=Component&type=service&lifecycle=production&owner=basket-checkout",
        false,
    )
    .await;
    let service_rows = rows(&services.body);
    assert!(!service_rows.is_empty());
    assert_eq!(service_rows.len(), total(&services.body));
    for row in &service_rows {
        assert!(row.contains("kind-component"));
        assert!(row.contains("<td>service</td>"), "{row}");
        assert!(
            row.contains(r#"href="/catalog/default/group/basket-checkout""#),
            "{row}"
        );
        assert!(row.contains("lifecycle-production"));
    }
    assert!(
        services
            .body
            .contains(r#"href="/catalog/default/component/order-service">Order Service</a>"#)
    );

    // A filter given twice matches either value, and both stay ticked.
    let either = get(
        state,
        "/catalog?kind=component&type=service&type=website",
        false,
    )
    .await;
    let either_rows = rows(&either.body);
    assert!(either_rows.iter().any(|r| r.contains("<td>service</td>")));
    assert!(either_rows.iter().any(|r| r.contains("<td>website</td>")));
    for row in &either_rows {
        assert!(
            row.contains("<td>service</td>") || row.contains("<td>website</td>"),
            "{row}"
        );
    }
    let only_services = total(
        &get(state, "/catalog?kind=component&type=service", false)
            .await
            .body,
    );
    let only_websites = total(
        &get(state, "/catalog?kind=component&type=website", false)
            .await
            .body,
    );
    assert_eq!(total(&either.body), only_services + only_websites);
    assert!(either.body.contains(r#"value="service" checked>"#));
    assert!(either.body.contains(r#"value="website" checked>"#));
    assert!(
        either
            .body
            .contains("<summary aria-describedby=\"filter-type-label\">2 selected</summary>")
    );
    // Types, owners and tags are counted within the chosen kind: APIs offer APIs' types
    // (openapi, grpc…), not components' (service, website).
    assert!(apis.body.contains(r#"name="type" value="openapi""#));
    assert!(!apis.body.contains(r#"name="type" value="service""#));
    assert!(all.body.contains(r#"name="type" value="service""#));
    // Changing the kind reloads the filter bar with the results: an htmx request that
    // targets the whole view gets the whole page (htmx picks `#catalog-view` out of it).
    let view = get_with(
        state,
        "/catalog?kind=api",
        &[("hx-request", "true"), ("hx-target", "catalog-view")],
    )
    .await;
    assert!(view.body.contains(r#"<div id="catalog-view">"#));
    assert!(view.body.contains(r#"name="type" value="openapi""#));
    assert_eq!(
        view.headers.get("hx-push-url").unwrap(),
        "/catalog?kind=api"
    );
    let fragment = get_with(state, "/catalog?kind=api", &[("hx-request", "true")]).await;
    assert!(!fragment.body.contains("catalog-view"));
    assert!(!fragment.body.contains("<html"));

    // Tags filter.
    let kafka = get(state, "/catalog?tag=kafka", false).await;
    assert!(total(&kafka.body) >= 3);
    for row in rows(&kafka.body) {
        assert!(row.contains(">kafka</a>"), "{row}");
    }

    // Text search looks at names, titles and descriptions, ignoring case.
    let search = get(state, "/catalog?q=ORDER+SERVICE", false).await;
    assert!(search.body.contains("Order Service"));
    assert!(search.body.contains("matching “ORDER SERVICE”"));
    assert!(
        search.body.contains(r#"value="ORDER SERVICE""#),
        "the search box keeps the text"
    );
    let by_description = get(state, "/catalog?q=voucher", false).await;
    assert!(by_description.body.contains("promotions-service"));

    // Nothing matches: an empty state, not an empty table.
    let none = get(state, "/catalog?kind=API&q=zzzz-no-such-thing", false).await;
    assert_eq!(none.status, StatusCode::OK);
    assert!(none.body.contains("Nothing matches"));
    assert!(!none.body.contains("<table"));

    // Paging: page 2 continues where page 1 stopped; past the end clamps to the last page.
    let page2 = get(state, "/catalog?kind=API&page=2", false).await;
    assert_eq!(rows(&page2.body).len(), 7);
    assert!(page2.body.contains("Page 2 of 2"));
    assert!(page2.body.contains("showing 26–32"));
    assert!(
        page2
            .body
            .contains(r#"rel="prev" href="/catalog?kind=API""#)
    );
    let past = get(state, "/catalog?kind=API&page=99", false).await;
    assert!(past.body.contains("Page 2 of 2"));
}

#[tokio::test]
async fn htmx_requests_get_only_the_results_fragment() {
    let demo = demo().await;
    let fragment = get(&demo.state, "/catalog?kind=Component&type=&owner=&q=", true).await;
    assert_eq!(fragment.status, StatusCode::OK);
    assert!(!fragment.body.contains("<html"));
    assert!(
        !fragment.body.contains("<select"),
        "the filter bar is not part of the fragment"
    );
    assert!(fragment.body.contains(r#"<table class="entity-table">"#));
    assert_eq!(total(&fragment.body), 60);
    // The address bar gets the tidy URL, without the form's empty fields.
    assert_eq!(
        fragment.headers.get("hx-push-url").unwrap(),
        "/catalog?kind=Component"
    );
    assert_eq!(
        fragment.headers.get(header::VARY).unwrap(),
        "HX-Request, HX-Target"
    );

    // htmx restoring history wants the whole page.
    let response = pave_server::router(Arc::clone(&demo.state))
        .oneshot(
            Request::get("/catalog?kind=API")
                .header("HX-Request", "true")
                .header("HX-History-Restore-Request", "true")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&body).contains("<html"));
}

#[tokio::test]
async fn entity_page_shows_metadata_relations_and_graph() {
    let demo = demo().await;
    // Any case works, as in Backstage.
    let page = get(
        &demo.state,
        "/catalog/default/Component/Order-Service",
        false,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    let html = &page.body;
    assert_layout(html);
    assert!(html.contains("<title>Order Service · Component · pave</title>"));
    assert!(html.contains("<h1>Order Service</h1>"));
    assert!(html.contains("component:default/order-service"));
    assert!(html.contains("Turns a checked-out basket into an order"));
    assert!(html.contains(r#"class="tag" href="/catalog?tag=kafka">kafka</a>"#));
    // About: owner, system and (through the system) domain are links.
    assert!(
        html.contains(
            r#"<a href="/catalog/default/group/basket-checkout">Basket &#38; Checkout</a>"#
        ),
        "owner"
    );
    assert!(
        html.contains(r#"<a href="/catalog/default/system/checkout">"#),
        "system"
    );
    assert!(
        html.contains(r#"<a href="/catalog/default/domain/shopping">Shopping</a>"#),
        "domain"
    );
    assert!(html.contains(r#"<span class="badge lifecycle-production">production</span>"#));
    // Links and annotations.
    assert!(html.contains("Grafana dashboard"));
    assert!(
        html.contains(r#"href="https://grafana.northwind.example.com/d/order-service/overview""#)
    );
    assert!(html.contains("github.com/project-slug"));
    assert!(html.contains("northwind/order-service"));
    // Tabs: links to pages of their own, the current one marked; what the entity lacks
    // (an API definition) has no tab.
    assert!(html.contains(
        r#"<a id="tab-overview" href="/catalog/default/component/order-service" aria-current="page">Overview</a>"#
    ));
    for tab in ["api", "dependencies", "guardrails"] {
        assert!(
            html.contains(&format!(
                r#"<a id="tab-{tab}" href="/catalog/default/component/order-service/{tab}">"#
            )),
            "tab {tab}"
        );
    }
    assert!(
        !html.contains("<h3>Depends on"),
        "the relations list is the Dependencies tab's"
    );
    assert!(
        !html.contains("API definition"),
        "components have no definition"
    );
    // The overview keeps the graph.
    assert!(html.contains(r#"<svg class="graph""#));

    let dependencies = get(
        &demo.state,
        "/catalog/default/component/order-service/dependencies",
        false,
    )
    .await;
    assert_eq!(dependencies.status, StatusCode::OK);
    let html = &dependencies.body;
    assert!(html.contains("<title>Dependencies · Order Service · pave</title>"));
    assert!(html.contains(r#"<a id="tab-dependencies" href="/catalog/default/component/order-service/dependencies" aria-current="page">"#));
    // Relations, grouped under human labels.
    for label in [
        "Owned by",
        "Part of",
        "Provides API",
        "Consumes API",
        "Depends on",
    ] {
        assert!(
            html.contains(&format!("<h3>{label} <span")),
            "missing relation group {label}"
        );
    }
    assert!(html.contains(r#"href="/catalog/default/api/payments-api""#));
    assert!(html.contains(r#"href="/catalog/default/resource/orders-db""#));
    // The graph: inline SVG with the entity, its owner and neighbours as links.
    assert!(html.contains(r#"<svg class="graph""#));
    assert!(
        html.contains(r#"role="group""#),
        "node links stay reachable"
    );
    assert!(html.contains("graph-node graph-node-center"));
    assert!(html.contains("graph-node graph-node-owner"));
    assert!(html.matches("graph-node graph-node-out").count() >= 5);
    assert!(html.contains(
        r#"<a href="/catalog/default/resource/orders-db" class="graph-node graph-node-out"#
    ));

    // The API tab of a component lists what it provides and consumes, linked to their own
    // API tabs.
    let apis = get(
        &demo.state,
        "/catalog/default/component/order-service/api",
        false,
    )
    .await;
    assert_eq!(apis.status, StatusCode::OK);
    assert!(apis.body.contains(r#"<h2 id="apis-title">APIs</h2>"#));
    assert!(apis.body.contains("<h3 class=\"api-tag\">Provided"));
    assert!(
        apis.body
            .contains(r#"href="/catalog/default/api/payments-api/api""#)
    );
    // A tab the entity does not have is a 404 page, not an empty page.
    let missing = get(
        &demo.state,
        "/catalog/default/group/basket-checkout/api",
        false,
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("has no API tab"), "{}", missing.body);
}

/// The Create page: the built-in golden paths as cards, a form from a template's parameter
/// schema with errors inline, and a zip of the rendered repository that matches `pave new`.
#[tokio::test]
async fn create_page_makes_a_repository_from_a_form() {
    let demo = demo().await;
    let index = get(&demo.state, "/create", false).await;
    assert_eq!(index.status, StatusCode::OK);
    for name in ["api-service", "async-worker", "batch-job"] {
        assert!(
            index
                .body
                .contains(&format!(r#"<a href="/create/{name}">"#)),
            "{name}: {}",
            index.body
        );
    }
    assert!(
        index
            .body
            .contains(r#"aria-current="page" href="/create">Create</a>"#)
    );

    let form = get(&demo.state, "/create/api-service", false).await;
    assert_eq!(form.status, StatusCode::OK);
    let html = &form.body;
    assert!(
        html.contains(r#"<input id="param-name" name="name" type="text" value="" "#),
        "{html}"
    );
    assert!(html.contains(r#"<input id="param-port" name="port" type="number" value="8080" "#));
    assert!(html.contains(r#"<select id="param-lifecycle" name="lifecycle""#));
    assert!(html.contains(r#"<option value="experimental" selected>"#));
    assert!(
        html.contains(r#"<input type="checkbox" id="param-database" name="database" value="true""#)
    );
    assert!(
        html.contains("Port the service listens on"),
        "descriptions shown"
    );
    assert!(
        html.contains(r#"<code id="create-command">pave new api-service ./my-repo</code>"#),
        "{html}"
    );

    // Wrong answers come back on their fields, with the command so far.
    let bad = get(
        &demo.state,
        "/create/api-service?go=1&name=Bad_Name&owner=team-a&system=shop&port=80&availability=abc",
        false,
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = &bad.body;
    assert!(
        html.contains(r#"id="param-availability-error">`abc` is not a number</p>"#),
        "{html}"
    );
    assert!(
        !html.contains("param-name-error"),
        "the schema is checked once every value reads"
    );
    let bad = get(
        &demo.state,
        "/create/api-service?go=1&name=Bad_Name&owner=team-a&system=shop&port=80",
        false,
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = &bad.body;
    assert!(html.contains(r#"id="param-name-error">"#), "{html}");
    assert!(
        html.contains(r#"id="param-port-error">80 is less than the minimum of 1024</p>"#),
        "{html}"
    );
    assert!(html.contains(r#"aria-invalid="true""#));
    assert!(html.contains("--set name=Bad_Name"), "{html}");
    let missing = get(&demo.state, "/create/api-service?go=1&name=orders", false).await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        missing
            .body
            .contains(r#"id="param-owner-error">is required</p>"#),
        "{}",
        missing.body
    );

    // Good answers: the archive, every file under the service's folder, answers recorded.
    let good = get(
        &demo.state,
        "/create/api-service?go=1&name=orders&owner=team-a&system=shop&port=9090&database=true&lifecycle=production",
        false,
    )
    .await;
    assert_eq!(good.status, StatusCode::OK, "{}", good.body);
    assert_eq!(good.headers["content-type"], "application/zip");
    assert_eq!(
        good.headers["content-disposition"],
        r#"attachment; filename="orders.zip""#
    );
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(good.bytes.clone())).unwrap();
    let names: Vec<String> = archive
        .file_names()
        .map(|n| n.unwrap().into_owned())
        .collect();
    assert!(names.iter().all(|n| n.starts_with("orders/")), "{names:?}");
    assert!(
        names.contains(&"orders/catalog-info.yaml".to_owned()),
        "{names:?}"
    );
    let mut answers = String::new();
    std::io::Read::read_to_string(
        &mut archive.by_name("orders/.pave/answers.yaml").unwrap(),
        &mut answers,
    )
    .unwrap();
    assert!(answers.contains("port: 9090"), "{answers}");
    assert!(answers.contains("database: true"), "{answers}");

    // A link may set a box either way; a value that is neither is refused on its field.
    let off = get(
        &demo.state,
        "/create/api-service?go=1&name=orders&owner=team-a&system=shop&database=false&cache=on",
        false,
    )
    .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(off.bytes.clone())).unwrap();
    let mut answers = String::new();
    std::io::Read::read_to_string(
        &mut archive.by_name("orders/.pave/answers.yaml").unwrap(),
        &mut answers,
    )
    .unwrap();
    assert!(answers.contains("database: false"), "{answers}");
    assert!(answers.contains("cache: true"), "{answers}");
    let maybe = get(
        &demo.state,
        "/create/api-service?go=1&name=orders&owner=team-a&system=shop&database=maybe",
        false,
    )
    .await;
    assert_eq!(maybe.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        maybe.body.contains("`maybe` is not true or false"),
        "{}",
        maybe.body
    );
    // A prefilled link (no `go`) shows its answers, boxes included, in the form and command.
    let prefilled = get(
        &demo.state,
        "/create/api-service?name=orders&cache=true",
        false,
    )
    .await;
    assert_eq!(prefilled.status, StatusCode::OK);
    assert!(
        prefilled
            .body
            .contains(r#"name="cache" value="true" checked"#),
        "{}",
        prefilled.body
    );
    assert!(
        prefilled.body.contains("--set cache=true"),
        "{}",
        prefilled.body
    );
    // A newline in a one-line answer would write code into the generated files: refused.
    let injected = get(
        &demo.state,
        "/create/api-service?go=1&name=abc&owner=team-x&system=sys-y&description=x%0A%7D%0Afunc%20init()%20%7B%7D",
        false,
    )
    .await;
    assert_eq!(injected.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        injected.body.contains(
            r#"id="param-description-error">must be one line, without control characters</p>"#
        ),
        "{}",
        injected.body
    );

    let unknown = get(&demo.state, "/create/no-such-template", false).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let long = format!("/create/api-service?go=1&name={}", "x".repeat(20_000));
    assert_eq!(
        get(&demo.state, &long, false).await.status,
        StatusCode::BAD_REQUEST
    );
}

/// The dependency-graph page: from a system, what it is made of and what that talks to, as
/// a drawing and as a table; bounded parameters; a start list without a root.
#[tokio::test]
async fn dependency_graph_page_draws_and_lists_connections() {
    let demo = demo().await;
    let start = get(&demo.state, "/graph", false).await;
    assert_eq!(start.status, StatusCode::OK);
    assert!(
        start
            .body
            .contains(r#"<a href="/graph?root=system%3Adefault%2Fcheckout">"#),
        "{}",
        start.body
    );

    let page = get(
        &demo.state,
        "/graph?root=system:default/checkout&depth=2",
        false,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    let html = &page.body;
    assert!(html.contains(r#"<svg class="graph""#), "{html}");
    assert!(html.contains("graph-node graph-node-center"));
    let table = &html[html.find(r#"id="connections""#).unwrap()..];
    assert!(
        table.contains(r#"<a href="/catalog/default/system/checkout">"#)
            && table.contains("<td>has part</td>"),
        "the system's parts: {table}"
    );
    assert!(
        table.contains("<td>depends on</td>"),
        "two steps reach dependencies"
    );
    let one_step = get(
        &demo.state,
        "/graph?root=system:default/checkout&depth=1&kind=Component&kind=System",
        false,
    )
    .await;
    let rows = |html: &str| html.matches("</tr>").count();
    assert!(
        rows(&one_step.body) < rows(html),
        "fewer steps and kinds, fewer connections"
    );
    assert!(
        !one_step.body.contains("/catalog/default/resource/"),
        "kinds not chosen are not drawn"
    );

    // The entity page links here.
    let entity = get(&demo.state, "/catalog/default/system/checkout", false).await;
    assert!(
        entity
            .body
            .contains(r#"id="graph-link" href="/graph?root=system%3Adefault%2Fcheckout""#)
    );

    for bad in [
        "/graph?root=system:default/checkout&depth=9",
        "/graph?root=x&kind=User",
    ] {
        assert_eq!(
            get(&demo.state, bad, false).await.status,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
    let unknown = get(&demo.state, "/graph?root=component:default/nope", false).await;
    assert_eq!(unknown.status, StatusCode::OK);
    assert!(
        unknown
            .body
            .contains("No entity “component:default/nope” in the catalog")
    );
}

/// No page shows where the server keeps files: a Location's target is its file name.
#[tokio::test]
async fn location_pages_hide_server_paths() {
    let demo = demo().await;
    let list = get(&demo.state, "/catalog?kind=Location", false).await;
    let start = list
        .body
        .find(r#"href="/catalog/default/location/"#)
        .expect("a location");
    let href = &list.body[start + 6..];
    let href = &href[..href.find('"').unwrap()];
    let page = get(&demo.state, href, false).await;
    assert_eq!(page.status, StatusCode::OK);
    let root = demo.dir.path().to_str().unwrap();
    assert!(!page.body.contains(root), "{root} on {href}");
    assert!(
        page.body.contains("file:…/catalog-info.yaml"),
        "{}",
        page.body
    );
}

/// Groups whose parents loop (a childOf cycle) and a team with hostile markup in its title
/// still get a finite, escaped org chart.
#[tokio::test]
async fn org_chart_ends_on_cycles_and_escapes_titles() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("catalog-info.yaml");
    let group = |name: &str, title: &str, parent: &str| {
        format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: {name}\n  title: '{title}'\nspec:\n  type: team\n  parent: {parent}\n  children: []\n"
        )
    };
    let text = [
        group("a", "A", "c"),
        group("b", "<b>B</b>", "a"),
        group("c", "C", "b"),
    ]
    .join("---\n");
    std::fs::write(&file, text).unwrap();
    let state = serving(dir.path(), &file).await;
    let page = get(&state, "/catalog/default/group/a", false).await;
    assert_eq!(page.status, StatusCode::OK);
    let chart = &page.body[page.body.find(r#"id="org-chart""#).expect("a chart")..];
    let chart = &chart[..chart.find("</section>").unwrap()];
    assert!(chart.contains("&lt;b&gt;B&lt;/b&gt;"), "{chart}");
    assert!(!chart.contains("<b>B</b>"), "{chart}");
    assert_eq!(
        chart.matches(r#"aria-current="page""#).count(),
        1,
        "the cycle is not walked twice: {chart}"
    );
    assert!(
        chart.contains("already shown above"),
        "the loop is said: {chart}"
    );
    assert_eq!(
        chart.matches("<ul").count(),
        chart.matches("</ul>").count(),
        "balanced lists: {chart}"
    );
}

#[tokio::test]
async fn group_page_lists_members_children_and_owned_entities() {
    let demo = demo().await;
    let team = get(&demo.state, "/catalog/default/group/basket-checkout", false).await;
    assert_eq!(team.status, StatusCode::OK);
    let html = &team.body;
    assert!(html.contains("<h1>Basket &#38; Checkout</h1>"));
    assert!(html.contains(r#"id="members""#));
    assert!(html.contains(
        r#"<a class="member-name" href="/catalog/default/user/priya.raman">Priya Raman</a>"#
    ));
    assert!(html.contains("mailto:priya.raman@northwind.example.com"));
    assert!(html.contains(r#"<span class="avatar" aria-hidden="true">PR</span>"#));
    assert!(html.contains(r#"id="owned""#));
    assert!(html.contains(r#"<a class="entity-link" href="/catalog/default/component/order-service">Order Service</a>"#));
    assert!(html.contains(r#"<a class="entity-link" href="/catalog/default/system/checkout">"#));
    assert!(
        html.contains(r#"href="/catalog/default/group/commerce-engineering""#),
        "parent group"
    );
    // The org chart: the line from the organisation down to this team, the team current.
    let chart = &html[html.find(r#"id="org-chart""#).expect("an org chart")..];
    let root = chart
        .find(r#"<a class="org-name" href="/catalog/default/group/northwind">"#)
        .expect("the organisation at the top");
    let department = chart
        .find(r#"<a class="org-name" href="/catalog/default/group/commerce-engineering">"#)
        .expect("the department");
    let current = chart
        .find(r#"<span class="org-name org-current" aria-current="page">Basket &amp; Checkout</span>"#)
        .expect("the team itself");
    assert!(root < department && department < current, "{chart}");
    assert!(chart.contains(" members · "), "counts beside each group");
    assert!(
        html.contains(r#"class="nav-link active" aria-current="page" href="/catalog?kind=Group""#)
    );

    let department = get(
        &demo.state,
        "/catalog/default/group/commerce-engineering",
        false,
    )
    .await;
    let chart = &department.body[department.body.find(r#"id="org-chart""#).unwrap()..];
    let below = &chart[chart.find("org-current").unwrap()..];
    assert!(
        below.contains(r#"<a class="org-name" href="/catalog/default/group/basket-checkout">"#),
        "its teams below it: {chart}"
    );
    // The department's page rolls up what its teams own, each row naming its owner.
    let owned = &department.body[department.body.find(r#"id="owned""#).unwrap()..];
    assert!(
        owned
            .contains(r#"<a class="entity-link" href="/catalog/default/component/order-service">"#),
        "a team's component on its department's page"
    );
    assert!(
        owned.contains(r#"<td class="owned-by"><a href="/catalog/default/group/basket-checkout">"#)
    );
    let org = get(&demo.state, "/catalog/default/group/northwind", false).await;
    let department_rows = department.body.matches("<td class=\"owned-by\">").count();
    let org_rows = org.body.matches("<td class=\"owned-by\">").count();
    assert!(
        org_rows > department_rows,
        "{org_rows} rows for the organisation, {department_rows} for one department"
    );
    assert!(
        department
            .body
            .contains(r#"href="/catalog/default/group/basket-checkout""#)
    );

    let user = get(&demo.state, "/catalog/default/user/priya.raman", false).await;
    assert_eq!(user.status, StatusCode::OK);
    assert!(user.body.contains("<h1>Priya Raman</h1>"));
    assert!(user.body.contains(r#"id="groups""#));
    assert!(
        user.body
            .contains(r#"href="/catalog/default/group/basket-checkout""#)
    );
}

#[tokio::test]
async fn errors_render_the_error_page_with_the_right_status() {
    let demo = demo().await;
    let missing = get(
        &demo.state,
        "/catalog/default/component/no-such-thing",
        false,
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.content_type.starts_with("text/html"));
    assert_layout(&missing.body);
    assert!(missing.body.contains("Entity not found"));
    assert!(
        missing
            .body
            .contains("<code>component:default/no-such-thing</code>")
    );
    assert!(
        missing.body.contains(
            r#"<a class="button button-primary" href="/catalog">Back to the catalog</a>"#
        )
    );

    let escaped = get(
        &demo.state,
        "/catalog/default/component/%3Cscript%3E",
        false,
    )
    .await;
    assert_eq!(escaped.status, StatusCode::NOT_FOUND);
    assert!(
        escaped
            .body
            .contains("<code>component:default/&#60;script&#62;</code>")
    );
    assert!(!escaped.body.contains("<script>"));

    let bad = get(&demo.state, "/catalog?page=zero", false).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("Bad request"));
    assert!(bad.body.contains("is not a page number"));

    let malformed = get(&demo.state, "/catalog/default/component/%FF", false).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert!(malformed.body.contains("The entity address is malformed."));

    let nope = get(&demo.state, "/nope", false).await;
    assert_eq!(nope.status, StatusCode::NOT_FOUND);
    assert!(nope.content_type.starts_with("text/html"));
    assert!(nope.body.contains("Page not found"));
    assert!(nope.body.contains("<code>/nope</code>"));

    // The API keeps its JSON errors, and its own routes are untouched.
    let api = get(&demo.state, "/api/nope", false).await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert!(
        api.content_type.starts_with("application/json"),
        "{}",
        api.content_type
    );
    let api = get(&demo.state, "/api/catalog/nope", false).await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert!(api.content_type.starts_with("application/json"));
    assert_eq!(get(&demo.state, "/healthz", false).await.body, "ok");
    let entity = get(
        &demo.state,
        "/api/catalog/entities/by-name/component/default/order-service",
        false,
    )
    .await;
    assert_eq!(entity.status, StatusCode::OK);
}

#[tokio::test]
async fn assets_are_embedded_with_types_and_cache_headers() {
    let demo = demo().await;
    let css = get(&demo.state, "/static/style.css", false).await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(css.content_type, "text/css; charset=utf-8");
    assert_eq!(
        css.headers.get(header::CACHE_CONTROL).unwrap(),
        "public, max-age=3600"
    );
    assert!(css.headers.contains_key(header::ETAG));
    assert!(css.body.contains(".entity-table"));

    let js = get(&demo.state, "/static/htmx.min.js", false).await;
    assert_eq!(js.status, StatusCode::OK);
    assert_eq!(js.content_type, "text/javascript; charset=utf-8");
    assert!(js.body.starts_with("/* htmx 2.0.11, 0BSD"));
    let portal = get(&demo.state, "/static/portal.js", false).await;
    assert_eq!(portal.content_type, "text/javascript; charset=utf-8");
    let icon = get(&demo.state, "/static/favicon.svg", false).await;
    assert!(icon.content_type.starts_with("image/svg+xml"));

    // Pages link versioned URLs, which may be cached for good.
    let page = get(&demo.state, "/catalog", false).await;
    let at = page.body.find("/static/style.css?v=").unwrap();
    let url = page.body[at..].split('"').next().unwrap().to_owned();
    let versioned = get(&demo.state, &url, false).await;
    assert_eq!(
        versioned.headers.get(header::CACHE_CONTROL).unwrap(),
        "public, max-age=31536000, immutable"
    );

    // Conditional requests.
    let etag = css.headers.get(header::ETAG).unwrap().clone();
    let response = pave_server::router(Arc::clone(&demo.state))
        .oneshot(
            Request::get("/static/style.css")
                .header(header::IF_NONE_MATCH, etag)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);

    let missing = get(&demo.state, "/static/nope.css", false).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[test]
fn templates_and_assets_exist_on_disk() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for file in [
        "templates/base.html",
        "assets/style.css",
        "assets/htmx.min.js",
        "assets/LICENSE-htmx",
    ] {
        assert!(root.join(file).is_file(), "{file}");
    }
}

#[tokio::test]
async fn empty_catalog_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let store = pave_store_sqlite::SqliteStore::open(&dir.path().join("pave.db"))
        .await
        .unwrap();
    let state = AppState::new(Arc::new(store), IngestConfig::default());
    // Not ready until the index has been loaded once; a load balancer keeps traffic away.
    let ready = get(&state, "/readyz", false).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(ready.body.contains("not loaded yet"), "{}", ready.body);
    assert_eq!(get(&state, "/healthz", false).await.status, StatusCode::OK);
    state.reload().await.unwrap();
    assert_eq!(get(&state, "/readyz", false).await.status, StatusCode::OK);

    let page = get(&state, "/catalog", false).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("The catalog is empty"));
    assert!(!page.body.contains("Page 1 of"));
}

#[tokio::test]
async fn dangling_refs_hostile_text_and_unsafe_links() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("catalog-info.yaml");
    std::fs::write(
        &file,
        r#"apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: lonely
  title: "<b>Lonely</b> & 'quoted'"
  description: "<script>alert(1)</script>"
  tags: [x]
  annotations:
    backstage.io/source-location: url:https://github.com/acme/lonely/tree/main/
    backstage.io/edit-url: "javascript:alert(2)"
  links:
    - url: "javascript:alert(1)"
      title: Evil
    - url: https://example.com/ok
      title: Fine
spec:
  type: service
  lifecycle: beta
  owner: ghost-team
  dependsOn: ["resource:missing-db"]
"#,
    )
    .unwrap();
    let state = serving(dir.path(), &file).await;

    let page = get(&state, "/catalog/default/component/lonely", false).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = &page.body;
    assert!(!html.contains("<script>alert"), "description is escaped");
    assert!(!html.contains("<b>Lonely"), "title is escaped");
    assert!(html.contains("&#60;b&#62;Lonely&#60;/b&#62;") || html.contains("&lt;b&gt;Lonely"));
    // Dangling targets are plain text with a hint, in the lists and in the graph.
    assert!(html.contains("ghost-team"));
    assert!(html.contains("missing-db"));
    assert!(html.contains(r#"<span class="hint">not in catalog</span>"#));
    assert!(!html.contains(r#"href="/catalog/default/resource/missing-db""#));
    assert!(html.contains("graph-node-missing"));
    assert!(html.contains("RESOURCE · not in catalog"));
    // Only web links become hrefs.
    assert!(!html.contains(r#"href="javascript:"#));
    assert!(html.contains(r#"href="https://example.com/ok""#));
    assert!(html.contains("lifecycle-other"));
    // "View source" from the source location; no "Edit" for an address that is not a web one.
    assert!(html.contains(
        r#"<a class="button" href="https://github.com/acme/lonely/tree/main/" rel="noopener noreferrer">View source</a>"#
    ));
    assert!(!html.contains(">Edit</a>"));
    // Where the server read the entity is not shown: only the file's name.
    let folder = dir.path().display().to_string();
    assert!(!html.contains(&folder), "a server path is shown");
    assert!(html.contains("file:…/catalog-info.yaml"));

    let list = get(&state, "/catalog?kind=component", false).await;
    assert!(
        list.body.contains("ghost-team"),
        "unresolved owner shown as text"
    );
    assert!(list.body.contains("not in catalog"));
    assert!(!list.body.contains("<b>Lonely"));
}

/// Portal pages, styles and scripts go compressed as the browser asks (brotli first, then
/// gzip); API JSON and small answers go as they are.
#[tokio::test]
async fn portal_pages_are_compressed_and_api_json_is_not() {
    use std::io::Read as _;
    let demo = demo().await;
    let fetch = |uri: &'static str, accept: &'static str| {
        let state = Arc::clone(&demo.state);
        async move {
            let response = pave_server::router(state)
                .oneshot(
                    Request::get(uri)
                        .header(header::ACCEPT_ENCODING, accept)
                        .body(Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            let encoding = response
                .headers()
                .get(header::CONTENT_ENCODING)
                .map(|v| v.to_str().unwrap().to_owned());
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            (encoding, bytes.to_vec())
        }
    };
    let plain = get(&demo.state, "/catalog", false).await.body;
    let (encoding, gzipped) = fetch("/catalog", "gzip").await;
    assert_eq!(encoding.as_deref(), Some("gzip"));
    let mut unzipped = String::new();
    flate2::read::GzDecoder::new(gzipped.as_slice())
        .read_to_string(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, plain);
    assert!(
        gzipped.len() * 4 < plain.len(),
        "{} of {}",
        gzipped.len(),
        plain.len()
    );
    let (encoding, brotli) = fetch("/catalog", "gzip, deflate, br").await;
    assert_eq!(encoding.as_deref(), Some("br"));
    assert!(
        brotli.len() < gzipped.len(),
        "{} vs {}",
        brotli.len(),
        gzipped.len()
    );

    // The stylesheet and scripts the pages link.
    for uri in [
        "/static/style.css",
        "/static/htmx.min.js",
        "/static/portal.js",
    ] {
        assert!(plain.contains(uri), "{uri} is not linked");
        assert_eq!(fetch(uri, "gzip").await.0.as_deref(), Some("gzip"), "{uri}");
    }
    for uri in ["/api/catalog/entities", "/healthz", "/metrics"] {
        assert_eq!(fetch(uri, "gzip, br").await.0, None, "{uri}");
    }
    assert_eq!(fetch("/catalog", "identity").await.0, None);
}

/// The catalog table sorts by its columns, both ways, keeping the filters; the header says
/// which column sorts (aria-sort) and links to the other direction; unknown columns are a
/// clear 400.
#[tokio::test]
async fn the_catalog_table_sorts_by_its_columns() {
    let demo = demo().await;
    let state = &demo.state;
    let first_name = |html: &str| -> String {
        let row = rows(html)[0];
        let at = row.find("class=\"entity-link\"").unwrap();
        row[at..]
            .split('>')
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_owned()
    };
    let ascending = get(state, "/catalog?kind=component&sort=name", false).await;
    let descending = get(state, "/catalog?kind=component&sort=-name", false).await;
    assert_eq!(ascending.status, StatusCode::OK);
    assert_eq!(total(&ascending.body), 60);
    assert_eq!(total(&descending.body), 60);
    let (a, d) = (first_name(&ascending.body), first_name(&descending.body));
    assert!(a.to_lowercase() < d.to_lowercase(), "{a} then {d}");
    assert!(ascending.body.contains(
        r#"aria-sort="ascending"><a class="sort-link" href="/catalog?kind=component&#38;sort=-name">Name</a>"#
    ), "the sorted column links to the other direction");
    assert!(descending.body.contains(r#"aria-sort="descending""#));
    assert!(ascending.body.contains(r#"aria-sort="none"><a class="sort-link" href="/catalog?kind=component&#38;sort=owner">Owner</a>"#));
    // Paging keeps the order.
    assert!(
        ascending.body.contains("sort=name&#38;page=2"),
        "paging keeps the order"
    );

    let bad = get(state, "/catalog?sort=password", false).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("cannot be sorted by"), "{}", bad.body);
}
