//! The portal in a real headless Chromium, driven over the Chrome DevTools Protocol.
//!
//! Loads the catalog, filters it with the kind select (htmx swaps the results in place), opens
//! the first entity and checks the relationship graph renders; then every kind of page at
//! phone widths (`portal_at_phone_widths`). Screenshots go to `target/test-artifacts/` (or
//! `$PAVE_TEST_ARTIFACTS`).
//!
//! Without a Chromium binary the test is skipped, except on CI (`CI=true`), where it fails.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use pave_ingest::{IngestConfig, Source};
use pave_server::AppState;
use pave_testkit::browser::{Browser, Cdp, VIEWPORT, artifacts_dir, find_chromium};
use serde_json::json;

/// Seeds a catalog with the demo organisation and serves it on an ephemeral port.
fn start_server(runtime: &tokio::runtime::Runtime, dir: &Path) -> SocketAddr {
    let demo_dir = dir.join("demo");
    pave_demo::write_demo_org(&demo_dir).unwrap();
    let state = runtime.block_on(async {
        let store = pave_store_sqlite::SqliteStore::open(&dir.join("pave.db"))
            .await
            .unwrap();
        let state = AppState::new(Arc::new(store), IngestConfig::default());
        let locations = pave_ingest::register(
            state.platform.store().as_ref(),
            &[Source::Path(demo_dir.join("catalog-info.yaml"))],
        )
        .await
        .unwrap();
        state.refresh(&locations).await.unwrap();
        // The check reports `pave demo` publishes, for the services the Guardrails tab is
        // looked at on.
        let now = pave_stdx::time::unix_seconds();
        for demo in pave_demo::demo_check_reports(now).unwrap() {
            if demo.entity_ref != "component:default/cart-service" {
                continue;
            }
            let s = &demo.report.summary;
            let report = pave_store::NewCheckReport {
                entity_ref: demo.entity_ref.clone(),
                received_at: demo.received_at,
                commit: Some(demo.commit.clone()),
                branch: Some(demo.branch.clone()),
                counts: pave_store::CheckCounts {
                    failed: s.failed,
                    warnings: s.warnings,
                    excepted: s.excepted,
                    errors: s.errors,
                    files: s.files,
                },
                report: demo.report.to_json(),
            };
            state
                .platform
                .store()
                .put_check_report(&report, &[])
                .await
                .unwrap();
        }
        state
    });
    common::browser::serve(runtime, state)
}

#[test]
fn portal_in_headless_chromium() {
    let Some(chromium) = find_chromium() else {
        pave_testkit::skip(
            "no chromium binary (/usr/bin/chromium, chromium, chromium-browser): install `chromium` or set CHROMIUM=/path/to/binary",
        );
        return;
    };
    let runtime = common::browser::runtime();
    let dir = tempfile::tempdir().unwrap();
    let addr = start_server(&runtime, dir.path());
    let base = format!("http://{addr}");
    let artifacts = artifacts_dir();

    let browser = Browser::launch(&chromium);
    let mut cdp = common::browser::watched_page(&browser);
    let no_csp_violations = |cdp: &mut Cdp, page: &str| {
        let violations = cdp.eval("JSON.stringify(window.__csp)");
        assert_eq!(violations, json!("[]"), "CSP violations on {page}");
    };
    cdp.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": VIEWPORT.0, "height": VIEWPORT.1, "deviceScaleFactor": 1, "mobile": false}),
    );

    // 1. The catalog lists entities.
    cdp.navigate(&format!("{base}/catalog"));
    cdp.wait_for(
        "the catalog page",
        "document.readyState === 'complete' && window.htmx && document.querySelector('#results tbody tr')",
    );
    let rows = cdp.eval("document.querySelectorAll('#results tbody tr').length");
    assert_eq!(rows, json!(25), "a full first page");
    let total: usize = cdp
        .eval("document.getElementById('result-count').dataset.total")
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    // Users and locations are listed only when asked for (the demo's registered template is
    // the 131st).
    assert_eq!(total, 131, "{total} entities");
    assert_eq!(cdp.eval("document.title"), json!("Catalog · pave"));
    let stylesheet_applied =
        cdp.eval("getComputedStyle(document.querySelector('.topbar')).position");
    assert_eq!(
        stylesheet_applied,
        json!("sticky"),
        "style.css is served and applied"
    );
    cdp.screenshot(&artifacts.join("portal-catalog.png"), false);
    no_csp_violations(&mut cdp, "the catalog");

    // 2. Filtering by kind swaps the results in place (htmx), no page load.
    cdp.eval("window.__samePage = true");
    cdp.eval(
        "(() => { const s = document.getElementById('filter-kind'); s.value = 'Component'; \
         s.dispatchEvent(new Event('change', { bubbles: true })); })()",
    );
    cdp.wait_for(
        "only Components in the results",
        "document.getElementById('result-count').dataset.total === '60' && \
         [...document.querySelectorAll('#results tbody tr')].length === 25 && \
         [...document.querySelectorAll('#results tbody tr')].every(r => \
            r.querySelector('td:nth-child(2) .badge').textContent.trim() === 'Component')",
    );
    assert_eq!(
        cdp.eval("window.__samePage === true"),
        json!(true),
        "htmx swapped the fragment"
    );
    assert_eq!(
        cdp.eval("location.search"),
        json!("?kind=Component"),
        "the URL follows the filter"
    );
    assert_eq!(
        cdp.eval("document.querySelectorAll('select').length + document.querySelectorAll('details.filter-multi').length"),
        json!(5),
        "filter bar still there"
    );
    // The new kind's filter bar offers components' types only.
    assert_eq!(
        cdp.eval("!!document.querySelector('#filter-type input[value=service]') && !document.querySelector('#filter-type input[value=openapi]')"),
        json!(true),
        "types scoped to the kind"
    );
    cdp.screenshot(&artifacts.join("portal-catalog-components.png"), false);
    no_csp_violations(&mut cdp, "the filtered catalog (htmx)");

    // Paging and typing in the search box go through htmx as well.
    cdp.eval("document.querySelector('#results a[rel=next]').click()");
    cdp.wait_for(
        "the second page",
        "document.querySelector('.page-status').textContent.trim() === 'Page 2 of 3' && \
         location.search === '?kind=Component&page=2'",
    );
    cdp.eval(
        "(() => { const q = document.getElementById('filter-q'); q.value = 'service'; \
         q.dispatchEvent(new Event('input', { bubbles: true })); })()",
    );
    cdp.wait_for(
        "search results",
        "location.search === '?kind=Component&q=service' && \
         Number(document.getElementById('result-count').dataset.total) < 60 && \
         document.querySelectorAll('#results tbody tr').length > 0",
    );
    assert_eq!(
        cdp.eval("window.__samePage === true"),
        json!(true),
        "still no page load"
    );

    // Two types ticked in the checkbox list: either matches, the summary says so, and the
    // address bar keeps both.
    cdp.eval(
        "(() => { const d = document.getElementById('filter-type'); d.open = true; \
         for (const v of ['service', 'website']) { const box = d.querySelector(`input[value=${v}]`); \
         box.checked = true; box.dispatchEvent(new Event('change', { bubbles: true })); } })()",
    );
    cdp.wait_for(
        "two types",
        "location.search.includes('type=service') && location.search.includes('type=website') && \
         document.querySelector('#filter-type summary').textContent.trim() === '2 selected' && \
         [...document.querySelectorAll('#results tbody tr')].length > 0 && \
         [...document.querySelectorAll('#results tbody tr')].every(r => \
            ['service', 'website'].includes(r.querySelector('td:nth-child(3)').textContent.trim()))",
    );
    assert_eq!(cdp.eval("window.__samePage === true"), json!(true));
    cdp.screenshot(&artifacts.join("portal-catalog-filters.png"), false);

    // 3. Open the first entity.
    let href =
        cdp.eval("document.querySelector('#results tbody a.entity-link').getAttribute('href')");
    let href = href.as_str().unwrap().to_owned();
    assert!(href.starts_with("/catalog/default/component/"), "{href}");
    cdp.eval("document.querySelector('#results tbody a.entity-link').click()");
    cdp.wait_for(
        "the entity page",
        &format!(
            "location.pathname === {} && document.readyState === 'complete' && document.querySelector('svg.graph')",
            json!(href)
        ),
    );

    // 4. The graph renders: visible, with the entity and its neighbours.
    let graph = cdp.eval(
        "(() => { const svg = document.querySelector('svg.graph'); const r = svg.getBoundingClientRect(); \
         return { width: r.width, height: r.height, nodes: svg.querySelectorAll('.graph-node').length, \
         center: svg.querySelectorAll('.graph-node-center').length, \
         links: svg.querySelectorAll('a.graph-node[href]').length }; })()",
    );
    assert!(graph["width"].as_f64().unwrap() > 100.0, "{graph}");
    assert!(graph["height"].as_f64().unwrap() > 40.0, "{graph}");
    assert!(graph["nodes"].as_u64().unwrap() >= 2, "{graph}");
    assert_eq!(graph["center"], json!(1), "{graph}");
    assert!(graph["links"].as_u64().unwrap() >= 2, "{graph}");
    let heading = cdp.eval("document.querySelector('h1').textContent.trim()");
    assert!(!heading.as_str().unwrap().is_empty());
    cdp.screenshot(&artifacts.join("portal-entity.png"), true);
    no_csp_violations(&mut cdp, "an entity page");
    // The Dependencies tab is a page of its own, reached by its link.
    cdp.eval("document.getElementById('tab-dependencies').click()");
    cdp.wait_for(
        "the Dependencies tab",
        "location.pathname.endsWith('/dependencies') && document.readyState === 'complete' && \
         document.querySelector('#relations .relation-group') && \
         document.querySelector('#tab-dependencies[aria-current=page]')",
    );
    no_csp_violations(&mut cdp, "an entity's Dependencies tab");

    // 5. A group page, for the record.
    cdp.navigate(&format!("{base}/catalog/default/group/basket-checkout"));
    cdp.wait_for(
        "the group page",
        "document.readyState === 'complete' && document.querySelector('#members .member')",
    );
    cdp.screenshot(&artifacts.join("portal-group.png"), true);
    no_csp_violations(&mut cdp, "a group page");

    // 6. A component's docs: rendered Markdown with the highlighter's stylesheet, nav and
    // contents, within the same policy.
    cdp.navigate(&format!(
        "{base}/catalog/default/component/cart-service/docs/runbook"
    ));
    cdp.wait_for(
        "the docs page",
        "document.readyState === 'complete' && document.querySelector('.markdown h1') && \
         document.querySelector('.docs-nav a[aria-current=page]')",
    );
    let highlighted = cdp.eval(
        "[...document.styleSheets].some(s => (s.href || '').endsWith('/docs-highlight.css') && s.cssRules.length > 10)",
    );
    assert_eq!(
        highlighted,
        json!(true),
        "the highlight stylesheet is applied"
    );
    cdp.screenshot(&artifacts.join("portal-docs.png"), true);
    no_csp_violations(&mut cdp, "a docs page");

    // 6b. Search: the header box is a combobox whose list fills as you type; arrows choose,
    // Enter opens. Then the search page with its facets and highlighted results.
    cdp.navigate(&format!("{base}/catalog"));
    cdp.wait_for("the catalog page", "document.readyState === 'complete'");
    assert_eq!(
        cdp.eval("document.getElementById('global-q').getAttribute('role')"),
        json!("combobox")
    );
    cdp.eval(
        "(() => { const q = document.getElementById('global-q'); q.focus(); q.value = 'lakeho'; \
         q.dispatchEvent(new Event('input', { bubbles: true })); })()",
    );
    cdp.wait_for(
        "type-ahead suggestions",
        "!document.getElementById('global-suggestions').hidden && \
         document.querySelectorAll('#global-suggestions [role=option]').length >= 2 && \
         document.getElementById('global-q').getAttribute('aria-expanded') === 'true'",
    );
    assert_eq!(
        cdp.eval("document.querySelector('#global-suggestions [role=option] .suggestion-title').textContent"),
        json!("lakehouse-ingest")
    );
    let key = |cdp: &mut Cdp, key: &str| {
        cdp.eval(&format!(
            "document.getElementById('global-q').dispatchEvent(new KeyboardEvent('keydown', {{ key: {}, bubbles: true, cancelable: true }}))",
            json!(key)
        ));
    };
    key(&mut cdp, "ArrowDown");
    assert_eq!(
        cdp.eval("(() => { const q = document.getElementById('global-q'); const id = q.getAttribute('aria-activedescendant'); \
                  return id && document.getElementById(id).getAttribute('aria-selected'); })()"),
        json!("true"),
        "the first option is active"
    );
    cdp.screenshot(&artifacts.join("portal-typeahead.png"), false);
    if let Some(axe) = common::browser::axe_source() {
        let found = common::browser::axe_violations(&mut cdp, &axe);
        assert_eq!(
            found,
            json!([]),
            "accessibility violations with the type-ahead open"
        );
    }
    key(&mut cdp, "Escape");
    assert_eq!(
        cdp.eval("document.getElementById('global-suggestions').hidden"),
        json!(true),
        "Escape closes the list"
    );
    key(&mut cdp, "ArrowDown");
    key(&mut cdp, "Enter");
    cdp.wait_for(
        "the suggested entity",
        "location.pathname === '/catalog/default/component/lakehouse-ingest' && document.readyState === 'complete'",
    );
    no_csp_violations(&mut cdp, "the type-ahead");

    cdp.navigate(&format!("{base}/search?q=desgin+system"));
    cdp.wait_for(
        "the search page",
        "document.readyState === 'complete' && document.querySelector('#search-list .search-hit')",
    );
    assert_eq!(
        cdp.eval("document.querySelector('#search-list .search-hit-title').getAttribute('href')"),
        json!("/catalog/default/component/design-system"),
        "one typo tolerated"
    );
    assert!(
        cdp.eval("document.querySelectorAll('#search-list mark').length")
            .as_u64()
            .unwrap()
            >= 2
    );
    cdp.screenshot(&artifacts.join("portal-search.png"), true);
    no_csp_violations(&mut cdp, "the search page");
    // A facet narrows the results (a full page load; the results agree with its count).
    let facet = cdp.eval(
        "(() => { const a = [...document.querySelectorAll('#facet-kind + .facet-list a')].find(a => a.textContent.includes('component')); \
         return a ? [a.getAttribute('href'), Number(a.querySelector('.count').textContent)] : null; })()",
    );
    let facet_href = facet[0].as_str().unwrap().to_owned();
    cdp.navigate(&format!("{base}{facet_href}"));
    cdp.wait_for("the narrowed results", "document.readyState === 'complete'");
    assert_eq!(
        cdp.eval("Number(document.getElementById('search-count').dataset.total)"),
        facet[1]
    );

    // 7. Accessibility: axe-core (pinned in tests/axe) on each kind of page, no serious or
    // critical violation.
    if let Some(axe) = common::browser::axe_source() {
        for page in [
            "/",
            "/catalog",
            "/catalog/default/component/cart-service",
            "/catalog/default/component/cart-service/api",
            "/catalog/default/component/cart-service/dependencies",
            "/catalog/default/component/cart-service/slos",
            "/catalog/default/component/cart-service/guardrails",
            "/catalog/default/group/basket-checkout",
            "/catalog/default/api/orders-api/api",
            "/catalog/default/api/order-events-api/api",
            "/catalog/default/api/fraud-scoring-api/api",
            "/catalog/default/api/mobile-bff-api/api",
            "/create",
            "/create/api-service",
            "/create/api-service?go=1&name=X&port=1",
            "/graph",
            "/graph?root=system:default/checkout",
            "/docs",
            "/catalog/default/component/cart-service/docs",
            "/catalog/default/component/cart-service/docs/runbook",
            "/search?q=payments",
            "/search?q=payments&kind=component",
            "/search?q=zzzzzz",
        ] {
            cdp.navigate(&format!("{base}{page}"));
            cdp.wait_for(page, "document.readyState === 'complete'");
            // The pages docs/portal.md shows (copied from target/test-artifacts by hand).
            let shot = match page {
                "/" => Some("portal-home.png"),
                "/catalog/default/api/order-events-api/api" => Some("portal-api.png"),
                "/catalog/default/component/cart-service/guardrails" => {
                    Some("portal-guardrails.png")
                }
                "/create/api-service" => Some("portal-create.png"),
                "/graph?root=system:default/checkout" => Some("portal-graph.png"),
                _ => None,
            };
            if let Some(name) = shot {
                if name == "portal-api.png" {
                    cdp.eval(
                        "(() => { const card = document.getElementById('operations'); \
                         card.querySelector('details').open = true; card.scrollIntoView(); })()",
                    );
                }
                cdp.screenshot(&artifacts.join(name), false);
            }
            let found = common::browser::axe_violations(&mut cdp, &axe);
            assert_eq!(found, json!([]), "accessibility violations on {page}");
        }
    }

    // 8. The API tab's Copy button copies the definition and says so (or says why not).
    cdp.navigate(&format!("{base}/catalog/default/api/orders-api/api"));
    cdp.wait_for(
        "the API tab",
        "document.readyState === 'complete' && getComputedStyle(document.getElementById('copy-definition')).display !== 'none'",
    );
    cdp.eval("document.getElementById('copy-definition').click()");
    cdp.wait_for(
        "the copy's status",
        "document.getElementById('copy-status').textContent !== ''",
    );
    let said = cdp.eval("document.getElementById('copy-status').textContent");
    assert!(
        [
            "Copied.",
            "Copying was refused by the browser.",
            "Copying is not available here."
        ]
        .contains(&said.as_str().unwrap()),
        "{said}"
    );

    // The policy is enforced: an injected inline script does not run, and is reported.
    let inline = cdp.eval(
        "(() => { const s = document.createElement('script'); s.textContent = 'window.__inline = 1'; \
         document.head.appendChild(s); return window.__inline === undefined; })()",
    );
    assert_eq!(inline, json!(true), "an inline script ran despite the CSP");
    cdp.wait_for("the violation report", "window.__csp.length === 1");

    // Close cleanly; the Drop guard kills Chromium if this does not work.
    cdp.close();
    drop(browser);
    runtime.shutdown_timeout(Duration::from_secs(2));
}

/// The pages checked at phone widths: every kind of portal page, the API layouts with their
/// wide tables, the graph, docs, search, the Create form and an error page.
const PHONE_PAGES: &[&str] = &[
    "/",
    "/catalog",
    "/catalog?kind=API",
    "/catalog/default/component/cart-service",
    "/catalog/default/system/checkout",
    "/catalog/default/group/basket-checkout",
    "/catalog/default/user/priya.raman",
    "/catalog/default/component/cart-service/dependencies",
    "/catalog/default/component/cart-service/guardrails",
    "/catalog/default/api/orders-api",
    "/catalog/default/api/orders-api/api",
    "/catalog/default/api/order-events-api/api",
    "/catalog/default/api/fraud-scoring-api/api",
    "/catalog/default/api/mobile-bff-api/api",
    "/create",
    "/create/api-service",
    "/create/api-service?go=1&name=X&port=1",
    "/graph",
    "/graph?root=system:default/checkout",
    "/docs",
    "/catalog/default/component/cart-service/docs/runbook",
    "/search?q=payments",
    "/search?q=zzzzzz",
    "/dora",
    "/catalog/default/component/no-such-thing",
];

/// At 375 and 414 px (phones, as a mobile browser lays them out): no page scrolls sideways
/// (wide tables, graphs and code scroll in their own boxes) and no card cuts its content off,
/// every header link and the search
/// box are on screen and not covered, the type-ahead works, and axe finds nothing serious.
#[test]
fn portal_at_phone_widths() {
    let Some(chromium) = find_chromium() else {
        pave_testkit::skip("no chromium binary: install `chromium` or set CHROMIUM");
        return;
    };
    let runtime = common::browser::runtime();
    let dir = tempfile::tempdir().unwrap();
    let addr = start_server(&runtime, dir.path());
    let base = format!("http://{addr}");
    let artifacts = artifacts_dir();
    let axe = common::browser::axe_source();

    let browser = Browser::launch(&chromium);
    let mut cdp = common::browser::watched_page(&browser);
    for (width, height) in [(375, 812), (414, 896)] {
        cdp.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": true}),
        );
        for page in PHONE_PAGES {
            cdp.navigate(&format!("{base}{page}"));
            cdp.wait_for(page, "document.readyState === 'complete'");
            // Closed sections hold the widest content (operations' tables, definitions).
            cdp.eval("document.querySelectorAll('details').forEach(d => d.open = true)");
            // A mobile browser zooms out to fit a page wider than the screen, which would
            // widen `innerWidth` too: the width asked for is the measure.
            let sideways = cdp.eval(&format!(
                "(() => {{ const w = {width}; const page = document.documentElement.scrollWidth; \
                 if (page <= w && window.innerWidth === w) return null; \
                 const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w + 0.5) \
                   .filter(e => e.parentElement.getBoundingClientRect().right <= w + 0.5) \
                   .slice(0, 5).map(e => e.tagName.toLowerCase() + '.' + [...e.classList].join('.') + ' ' + Math.round(e.getBoundingClientRect().right)); \
                 return {{ page, inner: window.innerWidth, wide }}; }})()"
            ));
            assert_eq!(
                sideways,
                json!(null),
                "{page} scrolls sideways at {width}px"
            );
            // Nor is anything cut off by a card's edge (cards clip what overflows them),
            // unless it is inside a box that scrolls.
            let clipped = cdp.eval(
                "[...document.querySelectorAll('.card *')].filter(e => { \
                   const r = e.getBoundingClientRect(); if (r.width === 0) return false; \
                   const card = e.closest('.card'); if (r.right <= card.getBoundingClientRect().right + 1) return false; \
                   for (let p = e.parentElement; p && p !== card.parentElement; p = p.parentElement) { \
                     const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll') return false; } \
                   return true; }).slice(0, 5).map(e => e.tagName.toLowerCase() + '.' + [...e.classList].join('.') + ' ' + e.textContent.trim().slice(0, 40))",
            );
            assert_eq!(clipped, json!([]), "{page} at {width}px cuts content off");
            let header = cdp.eval(
                "(() => { const shown = e => { const r = e.getBoundingClientRect(); \
                   if (r.width < 1 || r.height < 1 || r.left < 0 || r.right > window.innerWidth) return false; \
                   const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2); \
                   return !!hit && (e === hit || e.contains(hit)); }; \
                 const q = document.getElementById('global-q'); \
                 return { search: shown(q), searchWidth: Math.round(q.getBoundingClientRect().width), \
                   hidden: [...document.querySelectorAll('.topbar a, .topbar button')].filter(a => !shown(a)).map(a => a.textContent.trim()) }; })()",
            );
            assert_eq!(
                header["search"],
                json!(true),
                "{page} at {width}px: {header}"
            );
            assert!(
                header["searchWidth"].as_u64().unwrap() >= 150,
                "{page} at {width}px: a search box too narrow to use: {header}"
            );
            assert_eq!(header["hidden"], json!([]), "{page} at {width}px: {header}");
            assert_eq!(
                cdp.eval("JSON.stringify(window.__csp)"),
                json!("[]"),
                "CSP violations on {page}"
            );
            if width == 375 && *page == "/catalog/default/api/mobile-bff-api/api" {
                cdp.eval("document.getElementById('operations').scrollIntoView()");
                cdp.screenshot(&artifacts.join("portal-mobile-graphql.png"), false);
            }
            if let (Some(axe), 375) = (&axe, width) {
                let found = common::browser::axe_violations(&mut cdp, axe);
                assert_eq!(
                    found,
                    json!([]),
                    "accessibility violations on {page} at 375px"
                );
            }
        }
    }

    // The type-ahead at 375 px: its list opens below the box, inside the screen, and Enter
    // opens the chosen entity.
    cdp.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 375, "height": 812, "deviceScaleFactor": 1, "mobile": true}),
    );
    cdp.navigate(&format!("{base}/catalog"));
    cdp.wait_for(
        "the catalog page",
        "document.readyState === 'complete' && window.htmx",
    );
    cdp.screenshot(&artifacts.join("portal-mobile.png"), false);
    cdp.eval(
        "(() => { const q = document.getElementById('global-q'); q.focus(); q.value = 'lakeho'; \
         q.dispatchEvent(new Event('input', { bubbles: true })); })()",
    );
    cdp.wait_for(
        "type-ahead suggestions at 375px",
        "!document.getElementById('global-suggestions').hidden && \
         document.querySelectorAll('#global-suggestions [role=option]').length >= 2",
    );
    let list = cdp.eval(
        "(() => { const r = document.getElementById('global-suggestions').getBoundingClientRect(); \
         const q = document.getElementById('global-q').getBoundingClientRect(); \
         return { left: r.left >= 0, right: r.right <= window.innerWidth, below: r.top >= q.bottom - 1, \
                  page: document.documentElement.scrollWidth <= 375 }; })()",
    );
    assert_eq!(
        list,
        json!({"left": true, "right": true, "below": true, "page": true}),
        "the suggestion list at 375px"
    );
    cdp.screenshot(&artifacts.join("portal-mobile-typeahead.png"), false);
    if let Some(axe) = &axe {
        let found = common::browser::axe_violations(&mut cdp, axe);
        assert_eq!(found, json!([]), "the type-ahead at 375px");
    }
    cdp.eval(
        "document.getElementById('global-q').dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true }))",
    );
    cdp.eval(
        "document.getElementById('global-q').dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }))",
    );
    cdp.wait_for(
        "the suggested entity",
        "location.pathname === '/catalog/default/component/lakehouse-ingest' && document.readyState === 'complete'",
    );

    cdp.close();
    drop(browser);
    runtime.shutdown_timeout(Duration::from_secs(2));
}

// --- The Create page's registered templates and push (its own test, so that the axe list
// above stays the other pages'). ---

/// The demo served with pushes to bare repositories under `dir/remotes`.
fn start_create_server(runtime: &tokio::runtime::Runtime, dir: &Path) -> SocketAddr {
    let demo_dir = dir.join("demo");
    pave_demo::write_demo_org(&demo_dir).unwrap();
    let remotes = dir.join("remotes");
    std::fs::create_dir_all(remotes.join("ledger-utils.git")).unwrap();
    let status = std::process::Command::new("git")
        .args(["init", "--quiet", "--bare"])
        .arg(remotes.join("ledger-utils.git"))
        .status()
        .unwrap();
    assert!(status.success());
    let state = runtime.block_on(async {
        let store = pave_store_sqlite::SqliteStore::open(&dir.join("pave.db"))
            .await
            .unwrap();
        let state = AppState::new(Arc::new(store), IngestConfig::default());
        let locations = pave_ingest::register(
            state.platform.store().as_ref(),
            &[Source::Path(demo_dir.join("catalog-info.yaml"))],
        )
        .await
        .unwrap();
        state.refresh(&locations).await.unwrap();
        let url = format!("file://{}/{{name}}.git", remotes.display());
        let push = pave_server::CreatePush::new(&url, None, Duration::from_secs(30)).unwrap();
        state.set_create_push(Some(push));
        state
    });
    common::browser::serve(runtime, state)
}

/// The registered template's card and form, the push's confirmation, its result and its
/// refusal, driven by clicks: no serious or critical axe violation, no CSP violation.
#[test]
fn create_pages_with_a_registered_template_and_a_push_in_headless_chromium() {
    let Some(chromium) = find_chromium() else {
        pave_testkit::skip(
            "no chromium binary (/usr/bin/chromium, chromium, chromium-browser): install `chromium` or set CHROMIUM=/path/to/binary",
        );
        return;
    };
    if !pave_testkit::have("git") {
        return;
    }
    let runtime = common::browser::runtime();
    let dir = tempfile::tempdir().unwrap();
    let addr = start_create_server(&runtime, dir.path());
    let base = format!("http://{addr}");
    let artifacts = artifacts_dir();
    let axe = common::browser::axe_source();

    let browser = Browser::launch(&chromium);
    let mut cdp = common::browser::watched_page(&browser);
    cdp.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": VIEWPORT.0, "height": VIEWPORT.1, "deviceScaleFactor": 1, "mobile": false}),
    );
    let check = |cdp: &mut Cdp, page: &str| {
        assert_eq!(
            cdp.eval("JSON.stringify(window.__csp)"),
            json!("[]"),
            "CSP violations on {page}"
        );
        if let Some(axe) = &axe {
            let found = common::browser::axe_violations(cdp, axe);
            assert_eq!(found, json!([]), "accessibility violations on {page}");
        }
    };

    for page in [
        "/create",
        "/create/registered/default/python-library",
        "/create/registered/default/python-library?go=1&name=X",
    ] {
        cdp.navigate(&format!("{base}{page}"));
        cdp.wait_for(page, "document.readyState === 'complete'");
        check(&mut cdp, page);
    }
    cdp.navigate(&format!("{base}/create"));
    cdp.wait_for("/create", "document.readyState === 'complete'");
    assert_eq!(
        cdp.eval("document.querySelectorAll('.template-card-registered .chip-registered').length"),
        json!(1)
    );
    cdp.screenshot(&artifacts.join("portal-create-registered.png"), true);

    // Fill in the form and ask for the push; confirm it; the branch is there.
    cdp.navigate(&format!("{base}/create/registered/default/python-library"));
    cdp.wait_for(
        "the form",
        "document.readyState === 'complete' && document.getElementById('create-push')",
    );
    cdp.eval(
        "(() => { document.getElementById('param-name').value = 'ledger-utils'; \
         document.getElementById('param-owner').value = 'data-engineering'; \
         document.getElementById('create-push').click(); })()",
    );
    cdp.wait_for(
        "the push's confirmation",
        "document.readyState === 'complete' && document.getElementById('push-confirm')",
    );
    assert_eq!(
        cdp.eval("document.getElementById('push-branch').textContent"),
        json!("pave/new-ledger-utils")
    );
    check(&mut cdp, "the push's confirmation");
    cdp.eval("document.getElementById('push-confirm').click()");
    cdp.wait_for(
        "the pushed branch",
        "document.readyState === 'complete' && document.getElementById('push-done')",
    );
    let commit = cdp.eval("document.getElementById('push-commit').textContent");
    assert_eq!(commit.as_str().map(str::len), Some(40), "{commit}");
    cdp.screenshot(&artifacts.join("portal-create-pushed.png"), true);
    check(&mut cdp, "the pushed branch");

    // The same again: the branch exists, the page says so.
    cdp.eval("history.back()");
    cdp.wait_for(
        "the confirmation again",
        "document.readyState === 'complete' && document.getElementById('push-confirm')",
    );
    cdp.eval("document.getElementById('push-confirm').click()");
    cdp.wait_for(
        "the refusal",
        "document.readyState === 'complete' && document.getElementById('push-error')",
    );
    let error = cdp.eval("document.getElementById('push-error').textContent");
    assert!(error.as_str().unwrap().contains("exists at"), "{error}");
    check(&mut cdp, "a refused push");

    cdp.close();
    drop(browser);
    runtime.shutdown_timeout(Duration::from_secs(2));
}
