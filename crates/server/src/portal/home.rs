//! `GET /`: the platform's front page. What the catalog holds by kind, the systems and the
//! docs there are to read, and (signed in) a way to what is yours; never a raw table.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use pave_catalog::Catalog;
use pave_catalog::query::{Direction, EntityFilter, OrderField, QueryRequest};
use serde_json::Value;

use super::view::Identity;
use super::{Layout, Section};
use crate::AppState;

/// Entries per card.
const CARD_ROWS: usize = 12;

/// Kinds in the order people look for them; others follow by name.
const KIND_ORDER: &[&str] = &[
    "Component",
    "API",
    "System",
    "Domain",
    "Resource",
    "Group",
    "User",
    "Template",
    "Location",
];

pub(crate) struct KindCount {
    pub(crate) kind: String,
    pub(crate) count: usize,
    pub(crate) href: String,
}

#[derive(Template)]
#[template(path = "home.html")]
pub(crate) struct HomePage {
    pub(crate) layout: Layout,
    pub(crate) total: usize,
    pub(crate) kinds: Vec<KindCount>,
    pub(crate) systems: Vec<Identity>,
    pub(crate) systems_total: usize,
    pub(crate) docs: Vec<Identity>,
    pub(crate) docs_total: usize,
}

pub(crate) async fn page(State(state): State<Arc<AppState>>) -> Response {
    let catalog = state.catalog();
    let (systems, systems_total) = listed(&catalog, "kind=system");
    let (docs, docs_total) = listed(&catalog, "metadata.annotations.backstage.io/techdocs-ref");
    let page = HomePage {
        layout: Layout::new("Home", Section::Catalog),
        total: catalog.len(),
        kinds: kinds(&catalog),
        systems,
        systems_total,
        docs,
        docs_total,
    };
    match super::render(&page) {
        Ok(html) => html.into_response(),
        Err(e) => e.into_response(),
    }
}

/// Entity counts by kind (kinds differing only in case counted together).
fn kinds(catalog: &Catalog) -> Vec<KindCount> {
    let facets = catalog.facets(None, None, &["kind".to_owned()]);
    let mut counts: Vec<KindCount> = Vec::new();
    for (value, count) in facets.into_iter().flat_map(|(_, values)| values) {
        match counts
            .iter_mut()
            .find(|k| k.kind.eq_ignore_ascii_case(&value))
        {
            Some(k) => k.count += count,
            None => counts.push(KindCount {
                href: super::view::catalog_href(&[("kind", &value)]),
                kind: value,
                count,
            }),
        }
    }
    let rank = |kind: &str| {
        KIND_ORDER
            .iter()
            .position(|k| k.eq_ignore_ascii_case(kind))
            .unwrap_or(KIND_ORDER.len())
    };
    counts.sort_by(|a, b| (rank(&a.kind), &a.kind).cmp(&(rank(&b.kind), &b.kind)));
    counts
}

/// The first entities (by name) matching a Backstage filter, and how many match.
fn listed(catalog: &Catalog, filter: &str) -> (Vec<Identity>, usize) {
    let request = QueryRequest {
        filter: EntityFilter::parse(&[filter]).ok().flatten(),
        order_field: Some(OrderField {
            field: "metadata.name".to_owned(),
            order: Direction::Asc,
        }),
        limit: Some(CARD_ROWS),
        ..QueryRequest::default()
    };
    match catalog.query(&request) {
        Ok(page) => (
            page.items
                .iter()
                .filter_map(|json| serde_json::from_str::<Value>(json).ok())
                .map(|entity| Identity::of(&entity))
                .collect(),
            page.total_items,
        ),
        Err(_) => (Vec::new(), 0),
    }
}
