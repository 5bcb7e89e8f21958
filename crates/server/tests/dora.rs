//! DORA over the demo organisation: a `DeliveryReports` built from `pave_dora::generate::demo`
//! (a real index, real reports) behind the full router. `/api/dora` must answer what
//! `pave_dora::report` computes; the pages must draw what the report says.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use pave_catalog::query::{EntityFilter, QueryRequest};
use pave_catalog::{Catalog, EntityRef};
use pave_dora::facts::{Facts, GroupNode, Named, Org, Outcome};
use pave_dora::generate::DemoEntity;
use pave_dora::postmortem::{ActionStatus, Day, OverdueAction};
use pave_dora::{BucketSize, GroupBy, Index, Query, Report, Scope, TierVersion};
use pave_ingest::{IngestConfig, Source};
use pave_server::AppState;
use pave_server::delivery::{
    DeliveryCard, DeliveryReports, IncidentFilter, IncidentState, IncidentSummary, LastDeployment,
    TimelineEntry,
};
use serde_json::Value;
use tower::ServiceExt;

const DAY: i64 = 86_400_000;

/// Delivery facts for the demo catalog, held the way a ledger would hold them.
struct DemoReports {
    index: Arc<Index>,
    facts: Facts,
    /// The team given an overdue postmortem action.
    overdue_owner: String,
}

impl DemoReports {
    fn entity_key(&self, incident: &pave_dora::facts::Incident) -> Option<String> {
        let org = self.index.org();
        incident
            .entity
            .or_else(|| {
                incident
                    .caused_by
                    .map(|d| self.facts.deployments[d as usize].entity)
            })
            .map(|e| org.entities[e as usize].entity_ref.clone())
    }

    fn summary(&self, ix: usize) -> IncidentSummary {
        let i = &self.facts.incidents[ix];
        IncidentSummary {
            id: format!("INC-{ix}"),
            title: format!("Incident {ix}"),
            entity: self.entity_key(i),
            severity: i.severity,
            state: if i.resolved_at.is_some() {
                IncidentState::Resolved
            } else {
                IncidentState::Open
            },
            opened_at: i.opened_at,
            acknowledged_at: i.acknowledged_at,
            resolved_at: i.resolved_at,
            caused_by: i.caused_by.map(|d| format!("deployment {d}")),
            source: "pave".into(),
            url: Some(format!("https://pager.example.com/incidents/INC-{ix}")),
            timeline: Vec::new(),
        }
    }
}

impl DeliveryReports for DemoReports {
    fn index(&self, environment: &str) -> Option<Arc<Index>> {
        self.index
            .environment(environment)
            .map(|_| Arc::clone(&self.index))
    }

    fn delivery_card(&self, entity_ref: &str) -> DeliveryCard {
        let Some(e) = self.index.org().entity_ix(entity_ref) else {
            return DeliveryCard::default();
        };
        let mut card = DeliveryCard::default();
        for (env_ix, environment) in self.facts.environments.iter().enumerate() {
            let last = self
                .facts
                .deployments
                .iter()
                .enumerate()
                .filter(|(_, d)| d.entity == e && usize::from(d.environment) == env_ix)
                .max_by_key(|(_, d)| d.finished_at.unwrap_or(d.started_at));
            if let Some((ix, d)) = last {
                card.environments.push(LastDeployment {
                    environment: environment.clone(),
                    at: d.finished_at.unwrap_or(d.started_at),
                    version: Some(format!("1.{ix}.0")),
                    sha: Some(format!("{:040x}", ix * 7919)),
                    outcome: d.outcome.into(),
                    rollback: d.rollback,
                    url: Some(format!("https://ci.example.com/runs/{ix}")),
                });
            }
        }
        card.production_version = self
            .facts
            .deployments
            .iter()
            .enumerate()
            .filter(|(_, d)| d.entity == e && d.environment == 0 && d.outcome == Outcome::Succeeded)
            .max_by_key(|(_, d)| d.finished_at.unwrap_or(d.started_at))
            .map(|(ix, _)| format!("1.{ix}.0"));
        card.open_incidents = self.incidents(&IncidentFilter {
            entities: Some(vec![entity_ref.to_owned()]),
            state: Some(IncidentState::Open),
            ..IncidentFilter::default()
        });
        card
    }

    fn incidents(&self, filter: &IncidentFilter) -> Vec<IncidentSummary> {
        let mut all: Vec<IncidentSummary> = (0..self.facts.incidents.len())
            .map(|ix| self.summary(ix))
            .filter(|i| filter.matches(i))
            .collect();
        all.sort_by(|a, b| b.opened_at.cmp(&a.opened_at).then(a.id.cmp(&b.id)));
        all.truncate(filter.limit);
        all
    }

    fn incident(&self, id: &str) -> Option<IncidentSummary> {
        let ix: usize = id.strip_prefix("INC-")?.parse().ok()?;
        (ix < self.facts.incidents.len()).then(|| {
            let mut s = self.summary(ix);
            s.timeline.push(TimelineEntry {
                at: s.opened_at,
                what: "opened".into(),
            });
            if let Some(at) = s.acknowledged_at {
                s.timeline.push(TimelineEntry {
                    at,
                    what: "acknowledged".into(),
                });
            }
            if let Some(at) = s.resolved_at {
                s.timeline.push(TimelineEntry {
                    at,
                    what: "resolved".into(),
                });
            }
            s
        })
    }

    fn overdue_actions(&self, owner_ref: &str) -> Vec<OverdueAction> {
        if owner_ref != self.overdue_owner {
            return Vec::new();
        }
        vec![OverdueAction {
            owner: owner_ref.to_owned(),
            title: "Add a canary stage <before> prod".into(),
            due: Day(20_000),
            days_overdue: 12,
            status: ActionStatus::Open,
            link: Some("https://tracker.example.com/PAVE-1".into()),
            postmortem_file: "docs/postmortems/2026-01-checkout.md".into(),
            postmortem_title: "Checkout outage".into(),
            entity: None,
        }]
    }
}

struct Demo {
    _dir: tempfile::TempDir,
    state: Arc<AppState>,
    reports: Arc<DemoReports>,
}

fn str_at<'a>(v: &'a Value, path: &str) -> Option<&'a str> {
    v.pointer(path).and_then(Value::as_str)
}

fn key_of(reference: &str, kind: &str, namespace: &str) -> String {
    EntityRef::parse(reference, Some(kind), namespace)
        .unwrap()
        .key()
        .into_string()
}

/// Every entity of `kind` in the catalog.
fn entities(catalog: &Catalog, kind: &str) -> Vec<Value> {
    let page = catalog
        .query(&QueryRequest {
            filter: Some(EntityFilter::all_of([("kind", kind)])),
            limit: Some(10_000),
            ..QueryRequest::default()
        })
        .unwrap();
    page.items
        .iter()
        .map(|json| serde_json::from_str(json).unwrap())
        .collect()
}

/// The org of the demo catalog's components, with the group hierarchy and domains filled
/// in from the catalog, and 90 days of generated deliveries.
fn reports_for(catalog: &Catalog, now: i64) -> DemoReports {
    let components = entities(catalog, "Component");
    let owned: Vec<(String, String, Option<String>)> = components
        .iter()
        .filter_map(|c| {
            let ns = str_at(c, "/metadata/namespace").unwrap_or("default");
            let key = key_of(str_at(c, "/metadata/name")?, "component", ns);
            let owner = key_of(str_at(c, "/spec/owner")?, "group", ns);
            let system = str_at(c, "/spec/system").map(|s| key_of(s, "system", ns));
            Some((key, owner, system))
        })
        .collect();
    let demo_entities: Vec<DemoEntity<'_>> = owned
        .iter()
        .map(|(key, owner, system)| DemoEntity {
            entity_ref: key,
            owner,
            system: system.as_deref(),
        })
        .collect();
    let (mut org, facts) = pave_dora::generate::demo(42, &demo_entities, 90, now);
    complete_org(&mut org, catalog);
    let overdue_owner = org.groups[0].entity_ref.clone();
    let index = Index::build_shared(Arc::new(org), &facts).unwrap();
    DemoReports {
        index: Arc::new(index),
        facts,
        overdue_owner,
    }
}

/// Parents of groups (added until every ancestor is in) and domains of systems.
fn complete_org(org: &mut Org, catalog: &Catalog) {
    let mut g = 0;
    while g < org.groups.len() {
        let key = org.groups[g].entity_ref.clone();
        let parent = catalog
            .get(&key)
            .map(|r| r.entity())
            .and_then(|e| str_at(&e, "/spec/parent").map(|p| key_of(p, "group", "default")));
        if let Some(parent) = parent {
            let p = org.group_ix(&parent).unwrap_or_else(|| {
                org.groups.push(GroupNode {
                    entity_ref: parent.clone(),
                    parent: None,
                });
                (org.groups.len() - 1) as u32
            });
            org.groups[g].parent = Some(p);
        }
        g += 1;
    }
    for s in 0..org.systems.len() {
        let key = org.systems[s].entity_ref.clone();
        let domain = catalog
            .get(&key)
            .map(|r| r.entity())
            .and_then(|e| str_at(&e, "/spec/domain").map(|d| key_of(d, "domain", "default")));
        org.system_domains[s] = domain.map(|d| {
            org.domain_ix(&d).unwrap_or_else(|| {
                org.domains.push(Named { entity_ref: d });
                (org.domains.len() - 1) as u32
            })
        });
    }
}

async fn demo() -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let demo_dir = dir.path().join("demo");
    pave_demo::write_demo_org(&demo_dir).unwrap();
    let store = pave_store_sqlite::SqliteStore::open(&dir.path().join("pave.db"))
        .await
        .unwrap();
    let state = AppState::new(Arc::new(store), IngestConfig::default());
    let locations = pave_ingest::register(
        state.platform.store().as_ref(),
        &[Source::Path(demo_dir.join("catalog-info.yaml"))],
    )
    .await
    .unwrap();
    let report = state.refresh(&locations).await.unwrap();
    assert!(!report.has_failures(), "demo ingestion failed");
    let reports = Arc::new(reports_for(
        &state.catalog(),
        pave_stdx::time::unix_millis(),
    ));
    state.set_delivery_reports(Some(Arc::clone(&reports) as Arc<dyn DeliveryReports>));
    Demo {
        _dir: dir,
        state,
        reports,
    }
}

struct Answer {
    status: StatusCode,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

async fn get(state: &Arc<AppState>, uri: &str) -> Answer {
    let response = pave_server::router(Arc::clone(state))
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Answer {
        status,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

/// The report `pave_dora` gives for the same question.
fn expected(reports: &DemoReports, query: Query) -> Report {
    pave_dora::report(&reports.index, &query).unwrap()
}

fn base_query(from: i64, to: i64) -> Query {
    Query {
        from,
        to,
        environment: 0,
        group_by: GroupBy::Team,
        only: None,
        buckets: BucketSize::None,
        compare_previous: false,
        tiers: TierVersion::Dora2023,
    }
}

/// The API's answer without the fields it adds to the report.
fn report_part(mut answer: Value) -> Value {
    let map = answer.as_object_mut().unwrap();
    map.remove("only");
    map.remove("buckets");
    map.remove("postmortems");
    answer
}

#[tokio::test]
async fn the_api_answers_what_the_library_computes() {
    let demo = demo().await;
    let (state, reports) = (&demo.state, &demo.reports);
    let to = pave_stdx::time::unix_millis();
    let from = to - 90 * DAY;

    // The organisation by team, weekly, with the previous period.
    let answer = get(
        state,
        &format!("/api/dora?from={from}&to={to}&buckets=week&previous=true"),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let json = answer.json();
    assert_eq!(json["buckets"], "week");
    assert_eq!(json["only"], Value::Null);
    let want = expected(
        reports,
        Query {
            buckets: BucketSize::Week,
            compare_previous: true,
            ..base_query(from, to)
        },
    );
    assert_eq!(
        report_part(json.clone()),
        serde_json::to_value(&want).unwrap()
    );
    // Not a vacuous comparison: teams, deployments and weeks are there.
    assert!(want.rows.len() >= 5, "{} rows", want.rows.len());
    let counted: u64 = want
        .rows
        .iter()
        .filter(|r| r.depth == 0)
        .map(|r| r.metrics.deployments.counted)
        .sum();
    assert!(counted > 100, "{counted} deployments");
    assert!(want.rows.iter().all(|r| r.buckets.len() >= 13));
    // Names, not indices: every row is a catalog reference.
    for row in json["rows"].as_array().unwrap() {
        assert!(
            row["key"].as_str().unwrap().starts_with("group:default/"),
            "{row}"
        );
    }

    // One team's components by entity, 2024 levels; a `since` window ending at `to`.
    let team = reports
        .index
        .org()
        .groups
        .iter()
        .find(|g| g.parent.is_some())
        .unwrap()
        .entity_ref
        .clone();
    let answer = get(
        state,
        &format!("/api/dora?since=30d&to={to}&group_by=entity&only={team}&tiers=2024"),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let json = answer.json();
    assert_eq!(json["only"], team.as_str());
    let g = reports.index.org().group_ix(&team).unwrap();
    let want = expected(
        reports,
        Query {
            group_by: GroupBy::Entity,
            only: Some(Scope::Group(g)),
            tiers: TierVersion::Dora2024,
            ..base_query(to - 30 * DAY, to)
        },
    );
    assert!(!want.rows.is_empty());
    assert_eq!(report_part(json), serde_json::to_value(&want).unwrap());

    // The whole organisation in staging, by system, monthly.
    let answer = get(
        state,
        &format!("/api/dora?from={from}&to={to}&env=staging&group_by=system&buckets=month"),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let want = expected(
        reports,
        Query {
            environment: 1,
            group_by: GroupBy::System,
            buckets: BucketSize::Month,
            ..base_query(from, to)
        },
    );
    assert_eq!(want.environment, "staging");
    assert_eq!(
        report_part(answer.json()),
        serde_json::to_value(&want).unwrap()
    );

    // The default window is the 90 days up to now.
    let answer = get(state, "/api/dora?group_by=org").await;
    let json = answer.json();
    let (from, to) = (json["from"].as_i64().unwrap(), json["to"].as_i64().unwrap());
    assert_eq!(to - from, 90 * DAY);
    assert!((to - pave_stdx::time::unix_millis()).abs() < 60_000);
    let want = expected(
        reports,
        Query {
            group_by: GroupBy::Org,
            ..base_query(from, to)
        },
    );
    assert_eq!(report_part(json), serde_json::to_value(&want).unwrap());

    // Declared in the OpenAPI document.
    let doc = get(state, "/api/openapi.json").await.json();
    for path in ["/api/dora", "/api/incidents", "/api/incidents/{id}"] {
        assert!(doc["paths"][path]["get"].is_object(), "{path}");
    }
    assert!(doc["components"]["schemas"]["IncidentSummary"].is_object());
}

#[tokio::test]
async fn bad_parameters_are_400s_naming_the_parameter() {
    let demo = demo().await;
    let state = &demo.state;
    for (query, name) in [
        ("since=abc", "since"),
        ("since=7d&from=2026-01-01", "since"),
        ("from=tomorrow", "from"),
        ("from=2026-02-01&to=2026-01-01", "to"),
        ("group_by=planet", "group_by"),
        ("buckets=day", "buckets"),
        ("previous=perhaps", "previous"),
        ("tiers=1999", "tiers"),
        ("only=checkout", "only"),
        ("bogus=1", "bogus"),
        ("env=a&env=b", "env"),
    ] {
        let answer = get(state, &format!("/api/dora?{query}")).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            answer.body
        );
        let json = answer.json();
        assert_eq!(json["error"]["name"], "InputError");
        let message = json["error"]["message"].as_str().unwrap();
        assert!(message.contains(&format!("`{name}`")), "{query}: {message}");
    }
    // What the data does not know is a 404 that says what.
    for (query, what) in [
        ("env=qa", "`qa`"),
        (
            "only=group:default/nobody-here",
            "group:default/nobody-here",
        ),
    ] {
        let answer = get(state, &format!("/api/dora?{query}")).await;
        assert_eq!(
            answer.status,
            StatusCode::NOT_FOUND,
            "{query}: {}",
            answer.body
        );
        assert!(answer.body.contains(what), "{}", answer.body);
    }
    for (path, name) in [
        ("/api/incidents?state=closed", "state"),
        ("/api/incidents?severity=9", "severity"),
        ("/api/incidents?limit=0", "limit"),
        ("/api/incidents?since=1d", "since"),
    ] {
        let answer = get(state, path).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(
            answer.body.contains(&format!("`{name}`")),
            "{}",
            answer.body
        );
    }
    // The portal refuses the same way, as a page.
    let page = get(state, "/dora?since=forever").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("<!doctype html>") && page.body.contains("`since`"));

    // Without delivery data: 404 from the API, an empty state in the portal.
    state.set_delivery_reports(None);
    for path in ["/api/dora", "/api/incidents", "/api/incidents/INC-1"] {
        let answer = get(state, path).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        assert!(answer.body.contains("no delivery data"), "{}", answer.body);
    }
    let page = get(state, "/dora").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(r#"id="dora-empty""#));
    assert!(!page.body.contains("<svg xmlns"), "no charts without data");
    let component = get(state, "/catalog/default/component/order-service").await;
    assert_eq!(component.status, StatusCode::OK);
    assert!(!component.body.contains(r#"id="delivery""#));
}

#[tokio::test]
async fn incidents_are_listed_newest_first_and_shown_with_their_timeline() {
    let demo = demo().await;
    let (state, reports) = (&demo.state, &demo.reports);
    let all = get(state, "/api/incidents?limit=1000").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    let items = all.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), reports.facts.incidents.len().min(1000));
    assert!(items.len() > 5, "{} incidents", items.len());
    let opened: Vec<i64> = items
        .iter()
        .map(|i| i["opened_at"].as_i64().unwrap())
        .collect();
    assert!(opened.windows(2).all(|w| w[0] >= w[1]), "newest first");
    assert_eq!(
        get(state, "/api/incidents").await.json()["items"]
            .as_array()
            .unwrap()
            .len(),
        items.len().min(100)
    );

    let open = get(state, "/api/incidents?state=open").await.json();
    let open = open["items"].as_array().unwrap();
    let want_open = reports
        .facts
        .incidents
        .iter()
        .filter(|i| i.resolved_at.is_none())
        .count();
    assert_eq!(open.len(), want_open.min(100));
    assert!(open.iter().all(|i| i["state"] == "open"));

    let first = items
        .iter()
        .find(|i| i["entity"].is_string() && i["severity"].is_number())
        .unwrap();
    let entity = first["entity"].as_str().unwrap();
    let of_entity = get(
        state,
        &format!(
            "/api/incidents?entity={entity}&severity={}",
            first["severity"]
        ),
    )
    .await
    .json();
    let of_entity = of_entity["items"].as_array().unwrap();
    assert!(of_entity.iter().any(|i| i["id"] == first["id"]));
    assert!(
        of_entity
            .iter()
            .all(|i| i["entity"] == entity && i["severity"] == first["severity"])
    );

    let id = first["id"].as_str().unwrap();
    let one = get(state, &format!("/api/incidents/{id}")).await;
    assert_eq!(one.status, StatusCode::OK);
    let one = one.json();
    assert_eq!(one["id"], id);
    let timeline = one["timeline"].as_array().unwrap();
    assert_eq!(timeline[0]["what"], "opened");
    assert_eq!(timeline[0]["at"], first["opened_at"]);
    let missing = get(state, "/api/incidents/INC-99999999").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

/// The `<svg>` charts of a page, each parsed as XML.
fn charts(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<svg xmlns=") {
        let end = rest[start..].find("</svg>").unwrap() + start + 6;
        let svg = &rest[start..end];
        roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("{e}: {svg}"));
        out.push(svg.to_owned());
        rest = &rest[end..];
    }
    out
}

fn count_class(svg: &str, class: &str) -> usize {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| n.attribute("class") == Some(class))
        .count()
}

/// Checks a DORA page against the org-grouped weekly report of `only`.
fn check_page(html: &str, report: &Report) {
    let row = &report.rows[0];
    let weeks = &row.buckets;
    let charts = charts(html);
    assert_eq!(charts.len(), 4, "four charts");
    let with = |f: &dyn Fn(&pave_dora::Bucket) -> bool| weeks.iter().filter(|b| f(b)).count();
    assert_eq!(
        count_class(&charts[0], "bar"),
        with(&|b| b.metrics.deployments.counted > 0),
        "one bar per week with deployments"
    );
    assert_eq!(
        count_class(&charts[1], "range"),
        with(&|b| b.metrics.lead_time.median_ms.is_some())
    );
    assert_eq!(
        count_class(&charts[2], "point"),
        with(&|b| b.metrics.change_failure_rate.rate.is_some())
    );
    assert_eq!(
        count_class(&charts[3], "dot"),
        with(&|b| b.metrics.recovery_time.median_ms.is_some())
    );
    for svg in &charts {
        assert!(
            svg.contains("<title id=") && svg.contains("<desc id="),
            "{svg}"
        );
        assert_eq!(count_class(svg, "axis-label axis-label-x"), 1);
        assert_eq!(count_class(svg, "axis-label axis-label-y"), 1);
    }
    // The table behind the charts: one row per week.
    assert_eq!(
        html.matches(r#"<tr class="week-row">"#).count(),
        weeks.len()
    );
    assert_eq!(
        html.matches(r#"<article class="card dora-tile""#).count(),
        6
    );
    assert!(
        html.contains(&format!(
            "{} deployments</p>",
            row.metrics.deployments.counted
        )),
        "the frequency tile counts the report's deployments"
    );
    if let Some(level) = row.metrics.lead_time.level {
        assert!(html.contains(&format!(r#"<span class="level level-{}">"#, level.as_str())));
    }
    // The previous period's comparison is shown when both periods have figures.
    if row
        .previous
        .as_ref()
        .is_some_and(|p| p.deployments.counted > 0)
    {
        assert!(html.contains("previous period: "), "no change shown");
    }
}

fn weekly(from: i64, to: i64, only: Option<Scope>) -> Query {
    Query {
        group_by: GroupBy::Org,
        only,
        buckets: BucketSize::Week,
        compare_previous: true,
        ..base_query(from, to)
    }
}

#[tokio::test]
async fn dora_pages_draw_the_report() {
    let demo = demo().await;
    let (state, reports) = (&demo.state, &demo.reports);
    let org = reports.index.org();
    let to = pave_stdx::time::unix_millis();
    let from = to - 90 * DAY;
    let window = format!("from={from}&to={to}");

    let page = get(state, &format!("/dora?{window}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(r#"href="/dora">DORA</a>"#), "nav link");
    assert!(page.body.contains(r#"aria-current="page" href="/dora""#));
    check_page(&page.body, &expected(reports, weekly(from, to, None)));
    assert!(page.body.contains(r#"id="dora-teams""#) && page.body.contains(r#"id="dora-systems""#));
    // The breakdown links to every team's page.
    for group in &org.groups {
        let r = EntityRef::from_key(&group.entity_ref).unwrap();
        assert!(
            page.body
                .contains(&format!(r#"href="/dora/default/group/{}""#, r.name)),
            "{}",
            group.entity_ref
        );
    }
    assert!(page.body.contains(r#"id="dora-incidents""#));
    assert!(page.body.matches(r#"<tr class="incident-row">"#).count() > 0);

    // A team with a parent, and the team holding the overdue action.
    for (g, group) in org.groups.iter().enumerate() {
        let r = EntityRef::from_key(&group.entity_ref).unwrap();
        let page = get(state, &format!("/dora/default/group/{}?{window}", r.name)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", group.entity_ref);
        check_page(
            &page.body,
            &expected(reports, weekly(from, to, Some(Scope::Group(g as u32)))),
        );
        let overdue = group.entity_ref == reports.overdue_owner
            || reports
                .index
                .rollup()
                .in_subtree(org.group_ix(&reports.overdue_owner).unwrap(), g as u32);
        assert_eq!(
            page.body.contains(r#"id="dora-overdue""#),
            overdue,
            "{}",
            group.entity_ref
        );
        // Teams with sub-teams list them.
        let has_children = org.groups.iter().any(|c| c.parent == Some(g as u32));
        assert_eq!(
            page.body.contains(r#"id="dora-teams""#),
            has_children,
            "{}",
            group.entity_ref
        );
        if overdue {
            // Escaped, with its tracker link.
            assert!(
                page.body
                    .contains("Add a canary stage &#60;before&#62; prod")
                    || page.body.contains("Add a canary stage &lt;before&gt; prod"),
                "overdue action"
            );
            assert!(
                page.body
                    .contains(r#"href="https://tracker.example.com/PAVE-1""#)
            );
        }
        // Its components, each linked to its own page.
        for e in reports.index.rollup().group_entities(g as u32) {
            let r = EntityRef::from_key(&org.entities[*e as usize].entity_ref).unwrap();
            assert!(
                page.body
                    .contains(&format!(r#"href="/dora/default/component/{}""#, r.name))
            );
        }
    }

    let system = &org.systems[0].entity_ref;
    let name = EntityRef::from_key(system).unwrap().name;
    let page = get(
        state,
        &format!("/dora/default/system/{name}?{window}&tiers=2024"),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    check_page(
        &page.body,
        &expected(
            reports,
            Query {
                tiers: TierVersion::Dora2024,
                ..weekly(from, to, Some(Scope::System(0)))
            },
        ),
    );
    assert!(page.body.contains(r#"id="dora-components""#));

    let component = &org.entities[0].entity_ref;
    let name = EntityRef::from_key(component).unwrap().name;
    let page = get(state, &format!("/dora/default/component/{name}?{window}")).await;
    assert_eq!(page.status, StatusCode::OK);
    check_page(
        &page.body,
        &expected(reports, weekly(from, to, Some(Scope::Entity(0)))),
    );

    // Something of the catalog nothing is delivered for: an empty state; a name nobody
    // has: 404.
    let catalog = state.catalog();
    let api = entities(&catalog, "API");
    let api_name = str_at(&api[0], "/metadata/name").unwrap();
    let page = get(state, &format!("/dora/default/api/{api_name}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(r#"id="dora-empty""#), "{api_name}");
    assert!(page.body.contains("No deliveries are attributed to"));
    let missing = get(state, "/dora/default/group/no-such-team").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // An empty window's charts say so instead of drawing (and never divide by zero).
    let long_ago = get(state, "/dora?from=2001-01-01&to=2001-02-01").await;
    assert_eq!(long_ago.status, StatusCode::OK);
    let charts = charts(&long_ago.body);
    assert_eq!(charts.len(), 4);
    for svg in &charts {
        assert_eq!(count_class(svg, "chart-empty"), 1, "{svg}");
        assert!(!svg.contains("NaN"));
    }
}

#[tokio::test]
async fn entity_pages_show_the_delivery_card_and_link_the_dora_pages() {
    let demo = demo().await;
    let (state, reports) = (&demo.state, &demo.reports);
    let org = reports.index.org();
    // A component with a production deployment and, if any, open incidents.
    let node = org
        .entities
        .iter()
        .find(|n| !reports.delivery_card(&n.entity_ref).environments.is_empty())
        .unwrap();
    let card = reports.delivery_card(&node.entity_ref);
    let name = EntityRef::from_key(&node.entity_ref).unwrap().name;
    let page = get(state, &format!("/catalog/default/component/{name}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = &page.body;
    assert!(
        html.contains(r#"<section class="card" id="delivery""#),
        "no Delivery card"
    );
    assert_eq!(
        html.matches(r#"<tr class="delivery-env">"#).count(),
        card.environments.len()
    );
    for d in &card.environments {
        assert!(html.contains(&format!("<th scope=\"row\">{}</th>", d.environment)));
        assert!(html.contains(&format!("{} (", d.version.as_deref().unwrap())));
        assert!(html.contains(r#"href="https://ci.example.com/runs/"#));
    }
    if let Some(v) = &card.production_version {
        assert!(html.contains(&format!(
            r#"<strong id="delivery-production-version">{v}</strong>"#
        )));
    }
    assert_eq!(
        html.matches(r#"<li class="delivery-incident">"#).count(),
        card.open_incidents.len()
    );
    assert!(html.contains(&format!(
        r#"href="/dora/default/component/{name}" id="delivery-dora-link""#
    )));

    // Groups and systems link their DORA pages; they get no card of their own.
    let team = EntityRef::from_key(&org.groups[0].entity_ref).unwrap().name;
    let group = get(state, &format!("/catalog/default/group/{team}")).await;
    assert!(
        group
            .body
            .contains(&format!(r#"href="/dora/default/group/{team}""#))
    );
    assert!(!group.body.contains(r#"id="delivery""#));
    let system = EntityRef::from_key(&org.systems[0].entity_ref)
        .unwrap()
        .name;
    let page = get(state, &format!("/catalog/default/system/{system}")).await;
    assert!(
        page.body
            .contains(&format!(r#"href="/dora/default/system/{system}""#))
    );

    // A component nothing was delivered for has an empty card.
    let api = entities(&state.catalog(), "API");
    let api_name = str_at(&api[0], "/metadata/name").unwrap();
    let page = get(state, &format!("/catalog/default/api/{api_name}")).await;
    assert!(
        page.body
            .contains("No deployments recorded for this entity.")
    );
}
