//! `GET /graph`: how the parts of the catalog connect, around one entity. From `root`, the
//! structural relations are followed both ways (`dependsOn`, `providesApi`, `consumesApi`,
//! `hasPart` and their reverses) up to `depth` steps, keeping the chosen `kind`s; each step
//! is a column of the drawing, and every edge is also listed as text (the table is the
//! graph for screen readers and for copying). A system's or domain's graph shows what it is
//! made of and what that talks to.
//!
//! Bounded: depth at most [`MAX_DEPTH`], nodes at most [`MAX_NODES`] (the page says how many
//! were left out); the walk reads each entity once.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use pave_catalog::{Catalog, EntityRef};
use serde_json::Value;

use super::graph::{self, Layered, Node};
use super::view::{self, Identity};
use super::{Layout, PortalError, Section};
use crate::AppState;

pub(crate) const MAX_DEPTH: usize = 4;
pub(crate) const MAX_NODES: usize = 120;
const DEFAULT_DEPTH: usize = 2;

/// Kinds the graph can show, in the order of the form.
const KINDS: &[&str] = &["Domain", "System", "Component", "API", "Resource"];

/// Relations followed: `(type, forward relation, whether the entity is the source)`.
const RELATIONS: &[(&str, &str, bool)] = &[
    ("dependsOn", "depends on", true),
    ("dependencyOf", "depends on", false),
    ("providesApi", "provides", true),
    ("apiProvidedBy", "provides", false),
    ("consumesApi", "consumes", true),
    ("apiConsumedBy", "consumes", false),
    ("hasPart", "has part", true),
    ("partOf", "has part", false),
];

pub(crate) struct KindChoice {
    pub(crate) kind: &'static str,
    pub(crate) checked: bool,
}

/// One edge, as the table lists it.
pub(crate) struct Connection {
    pub(crate) from: Identity,
    pub(crate) relation: &'static str,
    pub(crate) to: Identity,
}

#[derive(Template)]
#[template(path = "graph.html")]
pub(crate) struct GraphPage {
    pub(crate) layout: Layout,
    pub(crate) root_text: String,
    pub(crate) root: Option<Identity>,
    pub(crate) depth: usize,
    pub(crate) depths: Vec<usize>,
    pub(crate) kinds: Vec<KindChoice>,
    pub(crate) svg: Option<String>,
    pub(crate) connections: Vec<Connection>,
    pub(crate) nodes: usize,
    /// Related entities past the cap (of any kind: they are counted, not read).
    pub(crate) left_out: usize,
    /// Why nothing is drawn (an unknown root).
    pub(crate) problem: Option<String>,
    /// Systems to start from when no root is given.
    pub(crate) systems: Vec<Identity>,
}

struct Params {
    root: String,
    depth: usize,
    kinds: Vec<&'static str>,
}

fn parse(raw: Option<&str>) -> Result<Params, PortalError> {
    let mut params = Params {
        root: String::new(),
        depth: DEFAULT_DEPTH,
        kinds: Vec::new(),
    };
    for (key, value) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()).take(64) {
        let value = value.trim();
        match key.as_ref() {
            "root" if value.chars().count() <= 300 => value.clone_into(&mut params.root),
            "root" => return Err(PortalError::BadRequest("The root is too long.".into())),
            "depth" => {
                params.depth = value
                    .parse()
                    .ok()
                    .filter(|d| (1..=MAX_DEPTH).contains(d))
                    .ok_or_else(|| {
                        PortalError::BadRequest(format!(
                            "The depth is a number from 1 to {MAX_DEPTH}."
                        ))
                    })?;
            }
            "kind" => {
                let kind = KINDS
                    .iter()
                    .find(|k| k.eq_ignore_ascii_case(value))
                    .ok_or_else(|| {
                        PortalError::BadRequest(format!(
                            "The graph shows the kinds {}.",
                            KINDS.join(", ")
                        ))
                    })?;
                if !params.kinds.contains(kind) {
                    params.kinds.push(kind);
                }
            }
            _ => {}
        }
    }
    if params.kinds.is_empty() {
        params.kinds = KINDS.to_vec();
    }
    Ok(params)
}

pub(crate) async fn page(State(state): State<Arc<AppState>>, RawQuery(raw): RawQuery) -> Response {
    let params = match parse(raw.as_deref()) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let catalog = state.catalog();
    let built = state.heavy().run(move || build(&catalog, &params)).await;
    match built {
        Ok(page) => match super::render(&page) {
            Ok(html) => html.into_response(),
            Err(e) => e.into_response(),
        },
        Err(busy) => PortalError::from(busy).into_response(),
    }
}

fn build(catalog: &Catalog, params: &Params) -> GraphPage {
    let mut page = GraphPage {
        layout: Layout::new("Dependency graph", Section::Catalog),
        root_text: params.root.clone(),
        root: None,
        depth: params.depth,
        depths: (1..=MAX_DEPTH).collect(),
        kinds: KINDS
            .iter()
            .map(|kind| KindChoice {
                kind,
                checked: params.kinds.contains(kind),
            })
            .collect(),
        svg: None,
        connections: Vec::new(),
        nodes: 0,
        left_out: 0,
        problem: None,
        systems: Vec::new(),
    };
    if params.root.is_empty() {
        page.systems = systems(catalog);
        return page;
    }
    let Some(root) = EntityRef::parse(&params.root, Some("Component"), "default")
        .ok()
        .and_then(|r| catalog.get(&r.key()))
        .map(|record| record.entity())
    else {
        page.problem = Some(format!(
            "No entity “{}” in the catalog (write kind:namespace/name, e.g. system:default/checkout).",
            params.root
        ));
        page.systems = systems(catalog);
        return page;
    };
    let walk = walk(catalog, &root, params);
    page.root = Some(Identity::of(&root));
    page.nodes = walk.order.len();
    page.left_out = walk.left_out;
    let mut columns: Vec<Vec<Node>> = vec![Vec::new(); params.depth + 1];
    let mut place: HashMap<&str, (usize, usize)> = HashMap::new();
    for (key, depth) in &walk.order {
        let Some(identity) = walk.identities.get(key) else {
            continue;
        };
        let column = &mut columns[*depth];
        place.insert(key.as_str(), (*depth, column.len()));
        column.push(Node {
            kind: identity.kind.clone(),
            label: identity.display().to_owned(),
            reference: identity.reference.clone(),
            href: Some(identity.href.clone()),
        });
    }
    columns.retain(|c| !c.is_empty());
    let mut edges = Vec::new();
    for (from, relation, to) in &walk.edges {
        if let (Some(a), Some(b)) = (place.get(from.as_str()), place.get(to.as_str())) {
            edges.push((*a, *b));
            if let (Some(f), Some(t)) = (walk.identities.get(from), walk.identities.get(to)) {
                page.connections.push(Connection {
                    from: f.clone(),
                    relation,
                    to: t.clone(),
                });
            }
        }
    }
    let root_id = Identity::of(&root);
    page.svg = Some(graph::render_layered(&Layered {
        aria: format!(
            "Dependency graph around {}: {} entities, {} connections",
            root_id.reference,
            walk.order.len(),
            edges.len()
        ),
        columns,
        edges,
    }));
    page
}

struct Walk {
    /// Entity keys in the order found, with their distance from the root.
    order: Vec<(String, usize)>,
    identities: HashMap<String, Identity>,
    /// `(source key, relation, target key)`, each once.
    edges: Vec<(String, &'static str, String)>,
    left_out: usize,
}

fn walk(catalog: &Catalog, root: &Value, params: &Params) -> Walk {
    let root_key = EntityRef::parse(
        &Identity::of(root).reference,
        None,
        pave_catalog::DEFAULT_NAMESPACE,
    )
    .map(|r| r.key().into_string())
    .unwrap_or_default();
    let mut walk = Walk {
        order: vec![(root_key.clone(), 0)],
        identities: HashMap::from([(root_key.clone(), Identity::of(root))]),
        edges: Vec::new(),
        left_out: 0,
    };
    let mut seen_edges: HashSet<(String, &'static str, String)> = HashSet::new();
    let mut refused: HashSet<String> = HashSet::new();
    let mut next = 0;
    while next < walk.order.len() {
        let (key, depth) = walk.order[next].clone();
        next += 1;
        let Some(entity) = catalog.get(&key).map(|r| r.entity()) else {
            continue;
        };
        let namespace = view::str_at(&entity, &["metadata", "namespace"])
            .unwrap_or(pave_catalog::DEFAULT_NAMESPACE)
            .to_owned();
        for relation in entity["relations"].as_array().into_iter().flatten() {
            let (Some(kind), Some(target)) =
                (relation["type"].as_str(), relation["targetRef"].as_str())
            else {
                continue;
            };
            let Some((_, label, forward)) = RELATIONS.iter().find(|(t, _, _)| *t == kind) else {
                continue;
            };
            let Ok(target_ref) = EntityRef::parse(target, None, &namespace) else {
                continue;
            };
            let target_key = target_ref.key().into_string();
            if !walk.identities.contains_key(&target_key) {
                if depth >= params.depth || refused.contains(&target_key) {
                    continue;
                }
                if walk.order.len() >= MAX_NODES {
                    // Counted, not read: past the cap the walk does no more per entity than
                    // this (a domain of thousands of components stays fast).
                    refused.insert(target_key);
                    walk.left_out += 1;
                    continue;
                }
                let Some(entity) = catalog.get(&target_key).map(|r| r.entity()) else {
                    continue;
                };
                let identity = Identity::of(&entity);
                if !params
                    .kinds
                    .iter()
                    .any(|k| k.eq_ignore_ascii_case(&identity.kind))
                {
                    refused.insert(target_key);
                    continue;
                }
                walk.order.push((target_key.clone(), depth + 1));
                walk.identities.insert(target_key.clone(), identity);
            }
            let edge = if *forward {
                (key.clone(), *label, target_key)
            } else {
                (target_key, *label, key.clone())
            };
            if seen_edges.insert(edge.clone()) {
                walk.edges.push(edge);
            }
        }
    }
    walk
}

/// Every System, to start a graph from (at most 200).
fn systems(catalog: &Catalog) -> Vec<Identity> {
    let request = pave_catalog::query::QueryRequest {
        filter: pave_catalog::query::EntityFilter::parse(&["kind=system"])
            .ok()
            .flatten(),
        order_field: Some(pave_catalog::query::OrderField {
            field: "metadata.name".to_owned(),
            order: pave_catalog::query::Direction::Asc,
        }),
        limit: Some(200),
        ..pave_catalog::query::QueryRequest::default()
    };
    catalog
        .query(&request)
        .map(|page| {
            page.items
                .iter()
                .filter_map(|json| serde_json::from_str::<Value>(json).ok())
                .map(|entity| Identity::of(&entity))
                .collect()
        })
        .unwrap_or_default()
}
