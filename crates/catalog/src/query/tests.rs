use super::*;
use crate::stitch::{SourceEntity, stitch};
use serde_json::json;

fn entity(kind: &str, name: &str, spec: Value, tags: &[&str]) -> SourceEntity {
    let key = format!("{}:default/{}", kind.to_lowercase(), name.to_lowercase());
    SourceEntity {
        key: key.clone(),
        uid: format!("uid-{name}"),
        entity: json!({"apiVersion": "backstage.io/v1alpha1", "kind": kind,
            "metadata": {"name": name, "namespace": "default", "tags": tags}, "spec": spec}),
        relations: spec
            .get("owner")
            .and_then(Value::as_str)
            .map(|o| {
                vec![crate::relations::Relation {
                    source: key.clone(),
                    relation: crate::relations::RelationType::OwnedBy,
                    target: format!("group:default/{o}"),
                }]
            })
            .unwrap_or_default(),
    }
}

fn catalog() -> Catalog {
    Catalog::build(stitch(vec![
        entity(
            "Component",
            "b-svc",
            json!({"type": "service", "owner": "team-a", "lifecycle": "production"}),
            &["java"],
        ),
        entity(
            "Component",
            "a-web",
            json!({"type": "website", "owner": "team-b", "lifecycle": "experimental"}),
            &["go", "java"],
        ),
        entity(
            "Component",
            "c-svc",
            json!({"type": "Service", "owner": "team-a", "lifecycle": "production"}),
            &[],
        ),
        entity(
            "API",
            "api-1",
            json!({"type": "openapi", "owner": "team-a"}),
            &["Java"],
        ),
        entity(
            "Group",
            "team-a",
            json!({"type": "team", "children": []}),
            &[],
        ),
    ]))
}

fn names(items: &[Cow<'_, str>]) -> Vec<String> {
    items
        .iter()
        .map(|i| {
            let v: Value = serde_json::from_str(i).unwrap();
            v["metadata"]["name"].as_str().unwrap_or("?").to_owned()
        })
        .collect()
}

fn filter(params: &[&str]) -> Option<EntityFilter> {
    EntityFilter::parse(params).unwrap()
}

fn rendered<'a>(
    c: &'a Catalog,
    page: &EntitiesPage,
    fields: Option<&FieldSelection>,
) -> Vec<Cow<'a, str>> {
    page.ids.iter().map(|id| c.render(*id, fields)).collect()
}

fn list(params: &[&str]) -> Vec<String> {
    let c = catalog();
    let page = c
        .entities(&EntitiesRequest {
            filter: filter(params),
            ..Default::default()
        })
        .unwrap();
    names(&rendered(&c, &page, None))
}

#[test]
fn filters_and_or_case_insensitive() {
    assert_eq!(
        list(&["kind=component,spec.type=service"]),
        vec!["b-svc", "c-svc"]
    );
    assert_eq!(
        list(&["kind=API", "spec.type=website"]),
        vec!["api-1", "a-web"]
    );
    assert_eq!(
        list(&["metadata.tags=java"]),
        vec!["api-1", "a-web", "b-svc"]
    );
    assert_eq!(list(&["metadata.tags.go"]), vec!["a-web"]);
    assert_eq!(
        list(&["metadata.tags.go,metadata.tags.java"]),
        vec!["a-web"]
    );
    assert_eq!(
        list(&["relations.ownedby=group:default/team-a"]),
        vec!["api-1", "b-svc", "c-svc"]
    );
    assert_eq!(list(&["spec.lifecycle"]), vec!["a-web", "b-svc", "c-svc"]);
    // Empty arrays have no rows, so they do not "exist" (as in Backstage).
    assert!(list(&["spec.children"]).is_empty());
    assert_eq!(list(&["kind=component,kind=group"]).len(), 4);
    assert!(list(&["no.such.key=x"]).is_empty());
}

#[test]
fn ordering_offset_limit_and_after() {
    let c = catalog();
    let req = EntitiesRequest {
        filter: filter(&["kind=component"]),
        order: vec![OrderField::parse_prefixed("desc:metadata.name").unwrap()],
        limit: Some(2),
        ..Default::default()
    };
    let page = c.entities(&req).unwrap();
    assert_eq!(names(&rendered(&c, &page, None)), vec!["c-svc", "b-svc"]);
    let after = page.next_after.expect("more pages");
    let page2 = c
        .entities(&EntitiesRequest {
            after: Some(after),
            ..req.clone()
        })
        .unwrap();
    assert_eq!(names(&rendered(&c, &page2, None)), vec!["a-web"]);
    assert!(page2.next_after.is_none());
    // Entities without the order field come last whatever the direction.
    let req = EntitiesRequest {
        order: vec![OrderField::parse_prefixed("asc:spec.lifecycle").unwrap()],
        ..Default::default()
    };
    assert_eq!(
        names(&rendered(&c, &c.entities(&req).unwrap(), None)),
        vec!["a-web", "b-svc", "c-svc", "api-1", "team-a"]
    );
    assert!(
        c.entities(&EntitiesRequest {
            limit: Some(0),
            ..Default::default()
        })
        .is_err()
    );
    assert!(
        c.entities(&EntitiesRequest {
            after: Some("%%%".into()),
            ..Default::default()
        })
        .is_err()
    );
}

#[test]
fn fields_projection() {
    let c = catalog();
    let req = EntitiesRequest {
        filter: filter(&["kind=group"]),
        fields: FieldSelection::parse(&["kind,metadata.name"]).unwrap(),
        ..Default::default()
    };
    let page = c.entities(&req).unwrap();
    assert_eq!(
        rendered(&c, &page, req.fields.as_ref())[0],
        json!({"kind": "Group", "metadata": {"name": "team-a"}}).to_string()
    );
}

#[test]
fn by_query_pages_forward_and_back() {
    let c = catalog();
    let first = c
        .query(&QueryRequest {
            order_field: Some(OrderField::parse_suffixed("metadata.name,asc").unwrap()),
            limit: Some(2),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(first.total_items, 5);
    assert_eq!(names(&first.items), vec!["a-web", "api-1"]);
    assert!(first.prev_cursor.is_none());
    let second = c
        .query(&QueryRequest {
            cursor: first.next_cursor.clone(),
            limit: Some(2),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(names(&second.items), vec!["b-svc", "c-svc"]);
    assert_eq!(second.total_items, 5);
    let third = c
        .query(&QueryRequest {
            cursor: second.next_cursor.clone(),
            limit: Some(2),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(names(&third.items), vec!["team-a"]);
    assert!(third.next_cursor.is_none());
    let back = c
        .query(&QueryRequest {
            cursor: third.prev_cursor.clone(),
            limit: Some(2),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(names(&back.items), vec!["b-svc", "c-svc"]);
    let back2 = c
        .query(&QueryRequest {
            cursor: back.prev_cursor.clone(),
            limit: Some(2),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(names(&back2.items), vec!["a-web", "api-1"]);
    assert!(back2.prev_cursor.is_none());
}

#[test]
fn by_query_full_text_and_filter() {
    let c = catalog();
    let page = c
        .query(&QueryRequest {
            filter: filter(&["kind=component"]),
            full_text: Some(FullTextFilter {
                term: "SVC".into(),
                fields: vec![],
            }),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(names(&page.items), vec!["b-svc", "c-svc"]);
    assert_eq!(page.total_items, 2);
    let page = c
        .query(&QueryRequest {
            full_text: Some(FullTextFilter {
                term: "web".into(),
                fields: vec!["spec.type".into()],
            }),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(names(&page.items), vec!["a-web"]);
    assert!(
        c.query(&QueryRequest {
            cursor: Some("bm90IGpzb24=".into()),
            ..Default::default()
        })
        .is_err()
    );
}

#[test]
fn facets_count_original_values() {
    let c = catalog();
    let facets = c.facets(
        None,
        None,
        &[
            "kind".into(),
            "spec.type".into(),
            "metadata.tags".into(),
            "nope".into(),
        ],
    );
    assert_eq!(
        facets[0].1,
        vec![
            ("API".into(), 1),
            ("Component".into(), 3),
            ("Group".into(), 1)
        ]
    );
    assert_eq!(
        facets[1].1,
        vec![
            ("Service".into(), 1),
            ("openapi".into(), 1),
            ("service".into(), 1),
            ("team".into(), 1),
            ("website".into(), 1)
        ]
    );
    assert_eq!(
        facets[2].1,
        vec![("Java".into(), 1), ("go".into(), 1), ("java".into(), 2)]
    );
    assert!(facets[3].1.is_empty());
    let filtered = c.facets(filter(&["kind=api"]).as_ref(), None, &["kind".into()]);
    assert_eq!(filtered[0].1, vec![("API".into(), 1)]);
}

#[test]
fn lookups() {
    let c = catalog();
    assert!(c.get("Component:default/B-SVC").is_some());
    assert_eq!(
        c.get_by_uid("uid-team-a").map(|r| &*r.key),
        Some("group:default/team-a")
    );
    let items = c.by_refs(
        &[
            "group:default/team-a".into(),
            "component:default/nope".into(),
            "component:default/a-web".into(),
        ],
        None,
        None,
        None,
    );
    assert!(items[0].is_some() && items[1].is_none() && items[2].is_some());
    let filtered = c.by_refs(
        &["group:default/team-a".into()],
        filter(&["kind=component"]).as_ref(),
        None,
        None,
    );
    assert!(filtered[0].is_none());
    assert_eq!(c.count("KIND", "component"), 3);
}

fn predicate(value: Value) -> Predicate {
    Predicate::parse(&value).unwrap()
}

fn query_names(c: &Catalog, query: Value) -> Vec<String> {
    names(
        &c.query(&QueryRequest {
            query: Some(query),
            ..Default::default()
        })
        .unwrap()
        .items,
    )
}

#[test]
fn predicates_match_as_backstage_evaluates_them() {
    let c = catalog();
    // Equality ignores case; arrays match on any item; `$in`, `$exists`, `$hasPrefix`.
    assert_eq!(
        query_names(&c, json!({"kind": "COMPONENT", "metadata.tags": "java"})),
        ["a-web", "b-svc"]
    );
    assert_eq!(
        query_names(&c, json!({"spec.type": {"$in": ["website", "openapi"]}})),
        ["api-1", "a-web"]
    );
    assert_eq!(
        query_names(&c, json!({"spec.owner": {"$exists": false}})),
        ["team-a"]
    );
    assert_eq!(
        query_names(&c, json!({"metadata.name": {"$hasPrefix": "B-"}})),
        ["b-svc"]
    );
    // Logic: `$all` of nothing is everything, `$any` of nothing is nothing, `$not` complements.
    assert_eq!(query_names(&c, json!({"$all": []})).len(), 5);
    assert!(query_names(&c, json!({"$any": []})).is_empty());
    assert_eq!(
        query_names(
            &c,
            json!({"$all": [{"kind": "component"}, {"$not": {"metadata.tags": {"$contains": "java"}}}]})
        ),
        ["c-svc"]
    );
    // Relations by type and target.
    assert_eq!(
        query_names(
            &c,
            json!({"relations": {"$contains": {"type": "ownedBy", "targetRef": "group:default/team-a"}}})
        ),
        ["api-1", "b-svc", "c-svc"]
    );
    assert_eq!(
        query_names(&c, json!({"relations": {"$contains": {"type": "ownedby"}}})).len(),
        4
    );
}

#[test]
fn predicates_combine_with_filters_refs_facets_and_cursors() {
    let c = catalog();
    let only_java = predicate(json!({"metadata.tags": "java"}));
    let items = c.by_refs(
        &[
            "component:default/c-svc".into(),
            "component:default/b-svc".into(),
        ],
        None,
        Some(&only_java),
        None,
    );
    assert!(items[0].is_none() && items[1].is_some());
    let facets = c.facets(
        filter(&["kind=component"]).as_ref(),
        Some(&only_java),
        &["kind".into()],
    );
    assert_eq!(facets[0].1, vec![("Component".into(), 2)]);
    // The cursor carries the predicate (Backstage's client looks for `query` in it).
    let first = c
        .query(&QueryRequest {
            query: Some(json!({"kind": "component"})),
            limit: Some(2),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(first.total_items, 3);
    let cursor = first.next_cursor.clone().unwrap();
    let decoded: Value = decode_cursor(&cursor).unwrap();
    assert_eq!(decoded["query"], json!({"kind": "component"}));
    let second = c
        .query(&QueryRequest {
            cursor: Some(cursor),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(names(&second.items), ["c-svc"]);
    // `totalItems: exclude` counts nothing; bad predicates are input errors.
    let page = c
        .query(&QueryRequest {
            exclude_total: true,
            ..Default::default()
        })
        .unwrap();
    assert_eq!((page.total_items, page.items.len()), (0, 5));
    assert!(
        c.query(&QueryRequest {
            query: Some(json!({"kind": {"$regex": "x"}})),
            ..Default::default()
        })
        .is_err()
    );
}

#[test]
fn a_panic_while_building_the_index_is_not_an_index_with_holes() {
    let entities = stitch(
        (0..200)
            .map(|i| {
                entity(
                    "Component",
                    &format!("c{i:03}"),
                    json!({"owner": "team-a"}),
                    &[],
                )
            })
            .collect(),
    );
    let built = std::panic::catch_unwind(move || {
        let mut builder = CatalogBuilder::new(4);
        builder.add_batch(entities, |e| {
            assert!(e.key != "component:default/c123", "injected");
            Some(e)
        });
        builder.finish()
    });
    assert!(built.is_err(), "the panic reached the caller");
}
