//! Report requests by name, resolved against a generated organisation: what `pave dora` and
//! `GET /api/dora` accept, and the errors that name the parameter.

#![allow(clippy::unwrap_used)]

mod common;

use common::{DAY, date};
use pave_dora::generate::{LargeParams, large};
use pave_dora::report::Scope;
use pave_dora::{GroupBy, Index, ReportRequest, report};

fn index() -> Index {
    let params = LargeParams {
        services: 30,
        deployments: 3_000,
        changes: 6_000,
        incidents: 200,
        days: 60,
        departments: 2,
        teams: 6,
        systems: 4,
        domains: 2,
        end: date(2025, 1, 6),
    };
    let (org, facts) = large(7, &params);
    Index::build(&org, &facts).unwrap()
}

#[test]
fn a_request_resolves_to_the_query_it_names() {
    let index = index();
    let org = index.org();
    let team = org.groups[1].entity_ref.clone();
    let mut request = ReportRequest::default();
    for (name, value) in [
        ("since", "30d"),
        ("until", "2025-01-05"),
        ("group_by", "entity"),
        ("only", team.as_str()),
        ("buckets", "week"),
    ] {
        request.set(name, value).unwrap();
    }
    let query = request.resolve(&index, 0).unwrap();
    assert_eq!(query.to, date(2025, 1, 6));
    assert_eq!(query.from, date(2025, 1, 6) - 30 * DAY);
    assert_eq!(query.group_by, GroupBy::Entity);
    assert_eq!(query.only, Some(Scope::Group(1)));
    // The report answers for that team's entities only.
    let answer = report(&index, &query).unwrap();
    assert!(!answer.rows.is_empty());
    let owners: Vec<_> = answer
        .rows
        .iter()
        .filter_map(|r| r.parent.clone())
        .collect();
    assert!(owners.iter().all(|o| org.group_ix(o).is_some()));

    // A component named without kind and namespace.
    let component = &org.entities[0].entity_ref;
    let short = component.rsplit('/').next().unwrap();
    request.only = Some(short.to_owned());
    assert_eq!(
        request.resolve(&index, 0).unwrap().only,
        Some(Scope::Entity(0))
    );
}

#[test]
fn unknown_names_are_refused_by_parameter() {
    let index = index();
    let mut request = ReportRequest {
        environment: "prod".into(),
        ..ReportRequest::default()
    };
    let e = request.resolve(&index, date(2025, 1, 6)).unwrap_err();
    assert_eq!(e.name, "env");
    assert!(e.message.contains("known: production"), "{e}");
    request.environment = "production".into();
    request.only = Some("group:default/nobody".into());
    let e = request.resolve(&index, date(2025, 1, 6)).unwrap_err();
    assert_eq!(e.name, "only");
    request.only = None;
    request.since = Some("tomorrow".into());
    assert_eq!(request.resolve(&index, 0).unwrap_err().name, "since");
}
