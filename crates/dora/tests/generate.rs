//! The generators: deterministic, exact sizes, valid references, and the variety they promise.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

use common::{DAY, date};
use pave_dora::facts::Facts;
use pave_dora::generate::{DemoEntity, LargeParams, SplitMix64, demo, large};
use pave_dora::tiers::Level;
use pave_dora::{GroupBy, Index, Query, report};

fn params() -> LargeParams {
    LargeParams {
        services: 60,
        deployments: 20_000,
        changes: 50_000,
        incidents: 1_000,
        days: 120,
        departments: 3,
        teams: 20,
        systems: 6,
        domains: 2,
        end: date(2025, 1, 6),
    }
}

fn same(a: &Facts, b: &Facts) -> bool {
    a.environments == b.environments
        && a.deployments == b.deployments
        && a.changes == b.changes
        && a.incidents == b.incidents
}

#[test]
fn splitmix64_is_the_published_sequence() {
    // splitmix64 seeded with 1234567: the first outputs of the reference C implementation.
    let mut rng = SplitMix64::new(1_234_567);
    let first: Vec<u64> = (0..3).map(|_| rng.next_u64()).collect();
    assert_eq!(
        first,
        [
            6_457_827_717_110_365_317,
            3_203_168_211_198_807_973,
            9_817_491_932_198_370_423
        ]
    );
    // `below` stays below; `unit` in [0, 1).
    for n in [1u64, 2, 7, 1000] {
        assert!((0..1000).all(|_| rng.below(n) < n));
    }
    assert!(
        (0..1000)
            .map(|_| rng.unit())
            .all(|u| (0.0..1.0).contains(&u))
    );
}

#[test]
fn large_is_deterministic_exact_and_valid() {
    let p = params();
    let (org, facts) = large(9, &p);
    let (org2, facts2) = large(9, &p);
    assert!(same(&facts, &facts2));
    assert_eq!(org.entities.len(), org2.entities.len());
    let (_, other) = large(10, &p);
    assert!(!same(&facts, &other), "another seed, another history");

    assert_eq!(facts.deployments.len(), 20_000);
    assert_eq!(facts.changes.len(), 50_000);
    assert_eq!(facts.incidents.len(), 1_000);
    assert_eq!(org.entities.len(), 60);
    assert_eq!(org.groups.len(), 3 + 20);
    // Teams hang under departments.
    assert!(
        org.groups[3..]
            .iter()
            .all(|g| g.parent.is_some_and(|p| p < 3))
    );
    // Every reference is valid, and the history is inside its days (except the deliberate
    // "in the future" ones).
    Index::build(&org, &facts).unwrap();
    let start = p.end - 120 * DAY;
    for d in &facts.deployments {
        if d.excluded.is_none() {
            assert!((start..p.end).contains(&d.finished_at.unwrap_or(d.started_at)));
        }
    }
}

#[test]
fn large_teams_differ_in_performance() {
    let p = params();
    let (org, facts) = large(3, &p);
    let index = Index::build(&org, &facts).unwrap();
    let query = Query {
        group_by: GroupBy::Team,
        ..Query::new(p.end - 120 * DAY, p.end, 0)
    };
    let r = report(&index, &query).unwrap();
    let lead: BTreeSet<Level> = r
        .rows
        .iter()
        .filter_map(|row| row.metrics.lead_time.level)
        .collect();
    let frequency: BTreeSet<Level> = r
        .rows
        .iter()
        .filter_map(|row| row.metrics.deployment_frequency.level)
        .collect();
    assert!(
        lead.contains(&Level::Elite) && lead.contains(&Level::Low),
        "{lead:?}"
    );
    assert!(
        frequency.contains(&Level::Elite) && frequency.len() >= 3,
        "{frequency:?}"
    );
}

fn catalog() -> Vec<DemoEntity<'static>> {
    [
        (
            "component:default/storefront",
            "group:default/web-experience",
            Some("system:default/storefront"),
        ),
        (
            "component:default/bff",
            "group:default/web-experience",
            Some("system:default/storefront"),
        ),
        (
            "component:default/basket",
            "group:default/basket-checkout",
            Some("system:default/checkout"),
        ),
        (
            "component:default/checkout",
            "group:default/basket-checkout",
            Some("system:default/checkout"),
        ),
        (
            "component:default/payments",
            "group:default/payments-core",
            Some("system:default/payments"),
        ),
        (
            "component:default/search",
            "group:default/discovery",
            Some("system:default/product-catalog"),
        ),
        (
            "component:default/warehouse",
            "group:default/fulfilment",
            None,
        ),
    ]
    .into_iter()
    .map(|(entity_ref, owner, system)| DemoEntity {
        entity_ref,
        owner,
        system,
    })
    .collect()
}

#[test]
fn demo_is_deterministic_and_realistic() {
    let now = date(2026, 3, 4) + 14 * 3_600_000;
    let (org, facts) = demo(42, &catalog(), 90, now);
    let (_, again) = demo(42, &catalog(), 90, now);
    assert!(same(&facts, &again));
    assert_eq!(org.entities.len(), 7);
    assert_eq!(org.groups.len(), 5);
    assert_eq!(org.systems.len(), 4);
    assert_eq!(org.entities[6].system, None);

    let index = Index::build(&org, &facts).unwrap();
    // A window reaching past `now` shows the deliberately odd facts too.
    let query = Query {
        group_by: GroupBy::Team,
        ..Query::new(now - 90 * DAY, now + DAY, 0)
    };
    let r = report(&index, &query).unwrap();
    let levels: BTreeSet<Level> = r
        .rows
        .iter()
        .filter_map(|row| row.metrics.lead_time.level)
        .collect();
    assert!(
        levels.contains(&Level::Elite),
        "some teams elite: {levels:?}"
    );
    assert!(
        levels.iter().any(|&l| l >= Level::Medium),
        "some struggling: {levels:?}"
    );
    let org_row = report(
        &index,
        &Query {
            group_by: GroupBy::Org,
            ..query
        },
    )
    .unwrap()
    .rows
    .remove(0)
    .metrics;
    assert!(org_row.rework_rate.rollback > 0 && org_row.rework_rate.hotfix > 0);
    assert!(org_row.change_failure_rate.caused_incident > 0);
    assert!(org_row.rework_rate.fixed_incident > 0);
    assert!(org_row.recovery_time.unrecovered > 0);
    assert_eq!(org_row.excluded.deployments_finishing_before_start, 1);
    assert_eq!(org_row.excluded.deployments_in_the_future, 1);
    assert_eq!(org_row.excluded.changes_committed_after_deployment, 1);
    assert!(org_row.incidents.unresolved >= 1);
    // Working days dominate: far fewer production deployments at weekends.
    let weekend = facts
        .deployments
        .iter()
        .filter(|d| d.environment == 0)
        .filter(|d| (d.finished_at.unwrap_or(d.started_at).div_euclid(DAY) + 3).rem_euclid(7) >= 5)
        .count();
    let production = facts
        .deployments
        .iter()
        .filter(|d| d.environment == 0)
        .count();
    assert!(
        weekend * 10 < production,
        "{weekend} of {production} at weekends"
    );
}

#[test]
fn a_shared_index_outlives_its_builder_and_reports_the_same() {
    let (org, facts) = large(7, &params());
    let query = Query {
        group_by: GroupBy::Team,
        ..Query::new(date(2024, 10, 1), date(2025, 1, 6), 0)
    };
    let borrowed = report(&Index::build(&org, &facts).unwrap(), &query).unwrap();
    // Built in a helper that drops every local: the index keeps the organisation alive.
    let shared: std::sync::Arc<Index> = {
        let org = std::sync::Arc::new(org.clone());
        std::sync::Arc::new(Index::build_shared(org, &facts).unwrap())
    };
    assert_eq!(shared.org().groups.len(), org.groups.len());
    assert_eq!(report(&shared, &query).unwrap(), borrowed);
    assert!(!borrowed.rows.is_empty());
}
