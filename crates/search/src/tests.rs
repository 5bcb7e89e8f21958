#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;

use super::*;

fn entity(kind: &str, name: &str, title: &str, description: &str, tags: &[&str]) -> String {
    json!({
        "kind": kind,
        "metadata": {"name": name, "namespace": "default", "title": title,
            "description": description, "tags": tags},
        "spec": {"type": "service", "owner": "group:default/payments", "lifecycle": "production"}
    })
    .to_string()
}

fn corpus() -> Vec<(String, String, String)> {
    vec![
        (
            "component:default/payments".into(),
            "1".into(),
            entity(
                "Component",
                "payments",
                "Payments",
                "Takes card payments",
                &["go"],
            ),
        ),
        (
            "component:default/payments-api".into(),
            "1".into(),
            entity(
                "Component",
                "payments-api",
                "Payments API",
                "The public API of payments",
                &["go", "rest"],
            ),
        ),
        (
            "component:default/ledger".into(),
            "1".into(),
            entity(
                "Component",
                "ledger",
                "Ledger",
                "Double-entry bookkeeping for payments",
                &["kafka"],
            ),
        ),
        (
            "api:default/inventory".into(),
            "1".into(),
            entity("API", "inventory", "Inventory", "Stock levels", &["grpc"]),
        ),
    ]
}

fn index() -> SearchIndex {
    let index = SearchIndex::new(1).unwrap();
    let c = corpus();
    let synced = index
        .sync_entities(
            c.iter()
                .map(|(k, h, j)| (k.as_str(), h.as_str(), j.as_str())),
        )
        .unwrap();
    assert_eq!(synced.added, 4);
    index
}

fn first(index: &SearchIndex, text: &str) -> Option<String> {
    let r = index.search(&SearchRequest::new(text)).unwrap();
    r.hits.first().map(|h| h.shown.name.clone())
}

#[test]
fn exact_name_first_then_words_typos_and_prefixes() {
    let i = index();
    assert_eq!(first(&i, "payments").as_deref(), Some("payments"));
    assert_eq!(first(&i, "payments-api").as_deref(), Some("payments-api"));
    assert_eq!(first(&i, "Payments API").as_deref(), Some("payments-api"));
    assert_eq!(first(&i, "kafka").as_deref(), Some("ledger"));
    assert_eq!(first(&i, "inventroy").as_deref(), Some("inventory"));
    assert_eq!(first(&i, "invent").as_deref(), Some("inventory"));
    assert_eq!(first(&i, "zzzz"), None);
    // Every word must match: "payments" is in three documents, "bookkeeping" in one.
    let r = i
        .search(&SearchRequest::new("payments bookkeeping"))
        .unwrap();
    assert_eq!(r.total, 1);
}

#[test]
fn syntax_never_fails() {
    let i = index();
    for text in [
        "\"",
        "name:payments",
        "(payments",
        "pay*",
        "payments AND",
        "~payments^3",
        "[a TO z]",
        "-payments",
        "\\",
        "\u{0}",
        "ü",
        "🙂",
        "",
        "   ",
    ] {
        i.search(&SearchRequest::new(text)).unwrap();
        let mut t = SearchRequest::new(text);
        t.typeahead = true;
        i.search(&t).unwrap();
    }
    let long = "payments ".repeat(5_000);
    assert!(i.search(&SearchRequest::new(&long)).unwrap().total > 0);
    assert_eq!(first(&i, "name:payments").as_deref(), Some("payments"));
}

#[test]
fn filters_and_counts() {
    let i = index();
    let mut r = SearchRequest::new("payments");
    r.filter(Dimension::Tag, "REST");
    let out = i.search(&r).unwrap();
    assert_eq!(out.total, 1);
    assert_eq!(out.hits[0].shown.name, "payments-api");
    // The tag facet ignores its own filter: the other tags stay countable.
    let tags = &out
        .facets
        .iter()
        .find(|(d, _)| *d == Dimension::Tag)
        .unwrap()
        .1;
    assert!(tags.contains(&("go".to_owned(), 2)), "{tags:?}");
    assert!(tags.contains(&("kafka".to_owned(), 1)), "{tags:?}");
    let kinds = &out
        .facets
        .iter()
        .find(|(d, _)| *d == Dimension::Kind)
        .unwrap()
        .1;
    assert_eq!(kinds, &[("component".to_owned(), 1)]);
    // No text, a filter: browse.
    let mut r = SearchRequest::new("");
    r.filter(Dimension::Kind, "api");
    assert_eq!(i.search(&r).unwrap().total, 1);
    // No text, no filter: nothing (not the whole index).
    assert_eq!(i.search(&SearchRequest::new("")).unwrap().total, 0);
}

#[test]
fn updates_only_what_changed() {
    let i = index();
    let mut c = corpus();
    c.remove(3);
    c[2].1 = "2".into();
    c[2].2 = entity("Component", "ledger", "Ledger", "now about invoices", &[]);
    let synced = i
        .sync_entities(
            c.iter()
                .map(|(k, h, j)| (k.as_str(), h.as_str(), j.as_str())),
        )
        .unwrap();
    assert_eq!(
        synced,
        Synced {
            added: 0,
            updated: 1,
            removed: 1
        }
    );
    assert_eq!(first(&i, "inventory"), None);
    assert_eq!(first(&i, "invoices").as_deref(), Some("ledger"));
    assert_eq!(first(&i, "bookkeeping"), None);
    assert_eq!(i.len(), 3);
    // An entity that can no longer be read is dropped, not left as it was.
    c[0].1 = "3".into();
    c[0].2 = "{\"kind\": \"Component\"}".into();
    let synced = i
        .sync_entities(
            c.iter()
                .map(|(k, h, j)| (k.as_str(), h.as_str(), j.as_str())),
        )
        .unwrap();
    assert_eq!(synced.removed, 1);
    assert_eq!(first(&i, "card"), None);
    assert_eq!(i.len(), 2);
    let again = i
        .sync_entities(
            c.iter()
                .map(|(k, h, j)| (k.as_str(), h.as_str(), j.as_str())),
        )
        .unwrap();
    assert!(!again.changed());
}

#[test]
fn pages_are_found_marked_and_replaced() {
    let i = index();
    let (title, headings, body) =
        page_text("# Payments runbook\n\n## High error rate\n\nRestart the **consumer** pods.\n");
    let page = PageDoc {
        entity_key: "component:default/payments".into(),
        entity_name: "payments".into(),
        entity_kind: "Component".into(),
        entity_owner: Some("group:default/payments".into()),
        location: "/catalog/default/component/payments/docs/runbook".into(),
        path: "runbook.md".into(),
        title: title.unwrap(),
        headings,
        body,
        ..PageDoc::default()
    };
    let site = |fp| Site {
        entity_key: "component:default/payments".into(),
        fingerprint: fp,
        pages: vec![page.clone()],
    };
    assert_eq!(i.sync_pages([site(1)], true).unwrap().added, 1);
    assert!(!i.sync_pages([site(1)], true).unwrap().changed());
    let mut r = SearchRequest::new("consumer restart");
    r.types = vec![DocType::Page];
    let out = i.search(&r).unwrap();
    assert_eq!(out.total, 1);
    let hit = &out.hits[0];
    assert_eq!(hit.doctype, DocType::Page);
    assert_eq!(hit.shown.path.as_deref(), Some("runbook.md"));
    assert_eq!(
        tagged(&hit.text, "[", "]"),
        "Payments runbook High error rate [Restart] the [consumer] pods."
    );
    // The entity ranks above its runbook for its own name.
    assert_eq!(first(&i, "payments").as_deref(), Some("payments"));
    // Removing the entity removes its pages.
    let c = corpus();
    i.sync_entities(
        c[1..]
            .iter()
            .map(|(k, h, j)| (k.as_str(), h.as_str(), j.as_str())),
    )
    .unwrap();
    assert_eq!(i.search(&r).unwrap().total, 0);
    // Sites no longer listed go too.
    i.sync_pages([site(2)], true).unwrap();
    assert_eq!(i.search(&r).unwrap().total, 1);
    i.sync_pages([], true).unwrap();
    assert_eq!(i.search(&r).unwrap().total, 0);
}

#[test]
fn paging_is_bounded() {
    let i = index();
    let mut r = SearchRequest::new("payments");
    r.limit = 1;
    let one = i.search(&r).unwrap();
    // All four are owned by the payments group.
    assert_eq!((one.hits.len(), one.total), (1, 4));
    r.offset = 1;
    assert_ne!(
        i.search(&r).unwrap().hits[0].shown.name,
        one.hits[0].shown.name
    );
    r.offset = MAX_OFFSET + 1;
    assert!(matches!(i.search(&r), Err(SearchError::TooDeep { .. })));
}

#[test]
fn openapi_operations_are_found_through_the_reader() {
    fn reader(definition: &str) -> Vec<String> {
        definition.split(',').map(str::to_owned).collect()
    }
    let api = json!({"kind": "API", "metadata": {"name": "pets"},
        "spec": {"type": "openapi", "definition": "listPets,Show one pet"}})
    .to_string();
    let service = json!({"kind": "Component", "metadata": {"name": "petshop"},
        "spec": {"type": "service", "definition": "listPets"}})
    .to_string();
    let entities = [
        ("api:default/pets", api),
        ("component:default/petshop", service),
    ];
    let with = SearchIndex::new(1).unwrap().reading_operations(reader);
    with.sync_entities(entities.iter().map(|(k, j)| (*k, "1", j.as_str())))
        .unwrap();
    let r = with.search(&SearchRequest::new("listPets")).unwrap();
    // Only an OpenAPI API's definition is read.
    assert_eq!(r.total, 1);
    assert_eq!(r.hits[0].shown.name, "pets");
    let without = SearchIndex::new(1).unwrap();
    without
        .sync_entities(entities.iter().map(|(k, j)| (*k, "1", j.as_str())))
        .unwrap();
    assert_eq!(
        without
            .search(&SearchRequest::new("listPets"))
            .unwrap()
            .total,
        0
    );
}
