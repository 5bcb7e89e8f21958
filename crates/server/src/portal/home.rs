//! `GET /`: the platform's front page; never a raw table. Signed in, it starts with what is
//! yours: your teams, what they own (rolled up through their child teams) and, when delivery
//! data is kept, the open incidents on it. Then, for everyone, the platform's overview: what
//! the catalog holds by kind, the systems, the golden paths to start from, and the docs.

use std::sync::{Arc, Mutex, Weak};

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use pave_catalog::Catalog;
use pave_catalog::query::{Direction, EntityFilter, OrderField, QueryRequest};
use serde_json::Value;

use super::dora::IncidentRow;
use super::view::{self, Identity, RefView};
use super::{Layout, Row, Section};
use crate::AppState;
use crate::auth::Caller;
use crate::delivery::{IncidentFilter, IncidentState};

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

/// The signed-in person's part of the page.
pub(crate) struct Yours {
    pub(crate) teams: Vec<RefView>,
    /// What they and their teams own, child teams' included, systems first; the first
    /// [`OWNED_ROWS`].
    pub(crate) owned: Vec<Row>,
    pub(crate) owned_total: usize,
    /// Keys of everything owned (not only the rows listed), for the incidents.
    owned_keys: Vec<String>,
    /// Open incidents on what they own; `None` when the server keeps no delivery data.
    pub(crate) incidents: Option<Vec<IncidentRow>>,
    /// What they own whose newest published `pave check` report fails, worst first.
    pub(crate) failing: Vec<FailingCheck>,
}

/// An owned entity whose newest check report fails.
pub(crate) struct FailingCheck {
    pub(crate) label: String,
    /// Its Guardrails tab.
    pub(crate) href: String,
    pub(crate) failed: u64,
    pub(crate) errors: u64,
}

/// Entities the "Recently changed" card lists.
const RECENT_ROWS: usize = 8;

/// The recently changed entities of the catalog snapshot they were read for: read from the
/// store once per snapshot (a change to the catalog makes a new one), not on every view.
static RECENT: Mutex<Option<RecentFor>> = Mutex::new(None);

/// The snapshot the rows were read for, and `(entity_ref, updated_at)` newest first.
type RecentFor = (Weak<Catalog>, Vec<(String, i64)>);

/// A recently changed entity.
pub(crate) struct RecentRow {
    pub(crate) id: Identity,
    pub(crate) changed: String,
}

/// Owned entities the home page lists before linking to the rest.
const OWNED_ROWS: usize = 10;

/// The built-in golden paths (newest version of each), read once: they are compiled in.
static GOLDEN_PATHS: std::sync::LazyLock<Vec<PathCard>> = std::sync::LazyLock::new(|| {
    let versions = pave_template::builtin::catalog();
    versions
        .iter()
        .filter_map(|(name, list)| {
            let template = pave_template::builtin::load(name, list.last()?).ok()?;
            let manifest = template.manifest;
            Some(PathCard {
                title: manifest.title.unwrap_or_else(|| name.clone()),
                href: format!("/create/{name}"),
                description: manifest.description.unwrap_or_default(),
            })
        })
        .collect()
});

/// A golden path to start from.
#[derive(Clone)]
pub(crate) struct PathCard {
    pub(crate) title: String,
    pub(crate) href: String,
    pub(crate) description: String,
}

#[derive(Template)]
#[template(path = "home.html")]
pub(crate) struct HomePage {
    pub(crate) layout: Layout,
    pub(crate) yours: Option<Yours>,
    pub(crate) paths: Vec<PathCard>,
    pub(crate) recent: Vec<RecentRow>,
    pub(crate) total: usize,
    pub(crate) kinds: Vec<KindCount>,
    pub(crate) systems: Vec<Identity>,
    pub(crate) systems_total: usize,
    pub(crate) docs: Vec<Identity>,
    pub(crate) docs_total: usize,
}

pub(crate) async fn page(
    State(state): State<Arc<AppState>>,
    Caller(principal): Caller,
) -> Response {
    let catalog = state.catalog();
    let subject = principal.subject();
    let user = subject.acting_user().map(str::to_owned);
    let teams: Vec<String> = subject.groups.iter().cloned().collect();
    let yours = if user.is_some() || !teams.is_empty() {
        // A team high in a large organisation rolls up thousands of entities: heavy work.
        let job_catalog = Arc::clone(&catalog);
        let owned = state
            .heavy()
            .run(move || yours(&job_catalog, user.as_deref(), &teams))
            .await;
        match owned {
            Ok(mut yours) => {
                yours.incidents = state
                    .delivery_reports()
                    .map(|reports| open_incidents(reports.as_ref(), &catalog, &yours));
                yours.failing = match failing_checks(&state, &catalog, &yours.owned_keys).await {
                    Ok(failing) => failing,
                    Err(e) => {
                        let e = crate::guardrails::GuardrailsError::from(e);
                        return super::PortalError::from(e).into_response();
                    }
                };
                Some(yours)
            }
            Err(busy) => return super::PortalError::from(busy).into_response(),
        }
    } else {
        None
    };
    let (systems, systems_total) = listed(&catalog, "kind=system");
    let (docs, docs_total) = listed(&catalog, "metadata.annotations.backstage.io/techdocs-ref");
    let page = HomePage {
        layout: Layout::new("Home", Section::Catalog),
        yours,
        paths: GOLDEN_PATHS.clone(),
        recent: recently_changed(&state, &catalog).await,
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

/// The teams of the signed-in user (or token owner) and what they own: the user's own
/// entities, each team's, and each team's child teams' (as a group page rolls them up).
fn yours(catalog: &Catalog, user: Option<&str>, teams: &[String]) -> Yours {
    let resolve =
        |r: &str, kind| view::resolve(catalog, r, Some(kind), pave_catalog::DEFAULT_NAMESPACE);
    // The signed-in user's groups, and the catalog's `memberOf` of the user (a token acting
    // for a user carries no groups of its own).
    let mut team_refs: Vec<String> = teams.to_vec();
    if let Some(record) = user.and_then(|u| catalog.get(&resolve(u, "User").key)) {
        team_refs.extend(
            view::relations(&record.entity())
                .into_iter()
                .filter(|r| r.kind == "memberOf")
                .map(|r| r.target),
        );
    }
    let mut teams: Vec<RefView> = team_refs.iter().map(|t| resolve(t, "Group")).collect();
    teams.sort_by_key(|t| t.label.to_lowercase());
    teams.dedup_by(|a, b| a.key == b.key);
    let mut owned: Vec<Row> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let owners = user
        .map(|u| resolve(u, "User"))
        .into_iter()
        .chain(teams.iter().cloned());
    for owner in owners {
        let Some(record) = catalog.get(&owner.key) else {
            continue;
        };
        let entity = record.entity();
        let targets = |relation: &str| -> Vec<RefView> {
            view::relations(&entity)
                .iter()
                .filter(|r| r.kind == relation)
                .map(|r| view::resolve(catalog, &r.target, None, pave_catalog::DEFAULT_NAMESPACE))
                .collect()
        };
        let rows =
            super::entity::rolled_up_owned(catalog, &targets("ownerOf"), &targets("parentOf"));
        owned.extend(
            rows.into_iter()
                .filter(|row| seen.insert(row.id.reference.to_lowercase())),
        );
    }
    owned.sort_by(|a, b| {
        (
            super::entity::kind_rank(&a.id.kind),
            a.id.name.to_lowercase(),
        )
            .cmp(&(
                super::entity::kind_rank(&b.id.kind),
                b.id.name.to_lowercase(),
            ))
    });
    let owned_total = owned.len();
    let owned_keys = owned
        .iter()
        .filter(|row| row.href.is_some())
        .map(|row| row.id.reference.to_lowercase())
        .collect();
    owned.truncate(OWNED_ROWS);
    Yours {
        teams,
        owned,
        owned_total,
        owned_keys,
        incidents: None,
        failing: Vec::new(),
    }
}

/// Open incidents attributed to what the person owns, newest first.
fn open_incidents(
    reports: &dyn crate::DeliveryReports,
    catalog: &Catalog,
    yours: &Yours,
) -> Vec<IncidentRow> {
    let keys = yours.owned_keys.clone();
    if keys.is_empty() {
        return Vec::new();
    }
    let now = pave_stdx::time::unix_millis();
    reports
        .incidents(&IncidentFilter {
            entities: Some(keys),
            state: Some(IncidentState::Open),
            limit: CARD_ROWS,
            ..IncidentFilter::default()
        })
        .iter()
        .map(|incident| IncidentRow::of(incident, catalog, now))
        .collect()
}

/// Owned entities whose newest published check report has failed findings or files that
/// could not be checked: one store read per 500 entities.
async fn failing_checks(
    state: &AppState,
    catalog: &Catalog,
    keys: &[String],
) -> Result<Vec<FailingCheck>, pave_store::StoreError> {
    let mut failing: Vec<FailingCheck> = state
        .platform
        .store()
        .latest_check_summaries(keys)
        .await?
        .into_iter()
        .filter(|s| s.failed > 0 || s.errors > 0)
        .map(|s| {
            let target = view::resolve(
                catalog,
                &s.entity_ref,
                None,
                pave_catalog::DEFAULT_NAMESPACE,
            );
            let href = target
                .href
                .map_or_else(String::new, |h| format!("{h}/guardrails"));
            FailingCheck {
                label: target.label,
                href,
                failed: s.failed,
                errors: s.errors,
            }
        })
        .filter(|f| !f.href.is_empty())
        .collect();
    failing.sort_by(|a, b| (b.failed + b.errors, &a.label).cmp(&(a.failed + a.errors, &b.label)));
    failing.truncate(CARD_ROWS);
    Ok(failing)
}

/// What changed last in the catalog (Locations left out: they are bookkeeping), newest first.
async fn recently_changed(state: &AppState, catalog: &Arc<Catalog>) -> Vec<RecentRow> {
    let cached = RECENT.lock().ok().and_then(|cache| {
        cache
            .as_ref()
            .filter(|(of, _)| of.upgrade().is_some_and(|c| Arc::ptr_eq(&c, catalog)))
            .map(|(_, rows)| rows.clone())
    });
    let rows = match cached {
        Some(rows) => rows,
        None => {
            // More than shown: Locations and entities gone since are skipped.
            let rows = match state
                .platform
                .store()
                .recently_updated(RECENT_ROWS * 4)
                .await
            {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::warn!("home page: recently changed entities not read: {e}");
                    return Vec::new();
                }
            };
            if let Ok(mut cache) = RECENT.lock() {
                *cache = Some((Arc::downgrade(catalog), rows.clone()));
            }
            rows
        }
    };
    rows.into_iter()
        .filter(|(key, _)| !key.starts_with("location:"))
        .filter_map(|(key, at)| {
            let entity = catalog.get(&key)?.entity();
            Some(RecentRow {
                id: Identity::of(&entity),
                changed: super::dora::date_time(at),
            })
        })
        .take(RECENT_ROWS)
        .collect()
}
