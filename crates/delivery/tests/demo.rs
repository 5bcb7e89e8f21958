//! The demo history, through the ledger, over pave's own demo catalog (pave-demo's Northwind
//! Labs): elite and struggling teams, odd facts kept and excluded, deterministic by seed.

#![allow(clippy::unwrap_used)]

use pave_delivery::demo::{DEMO_DAYS, demo_deliveries, received_at};
use pave_delivery::{Attribution, Ledger, LedgerConfig, LinkKind};
use pave_dora::facts::Exclusion;
use pave_dora::{GroupBy, Level, Query, RowKind};
use pave_events::DeploymentStatus;
use serde_json::Value;

const DAY: i64 = 86_400_000;
/// 2026-03-02 12:00 UTC.
const NOW: i64 = 20_514 * DAY + 12 * 3_600_000;

/// The demo catalog's entities, as the catalog would hand them over.
fn demo_catalog() -> Vec<Value> {
    pave_demo::demo_org_entities()
}

#[test]
fn the_demo_catalog_names_a_repository_for_every_component() {
    let entities = demo_catalog();
    let components: Vec<&Value> = entities
        .iter()
        .filter(|e| e["kind"] == "Component")
        .collect();
    assert!(components.len() > 30, "{} components", components.len());
    for c in &components {
        let slug = c.pointer("/metadata/annotations/github.com~1project-slug");
        assert!(
            slug.is_some_and(Value::is_string),
            "{}",
            c["metadata"]["name"]
        );
        // No PagerDuty services: the demo's incidents are GitHub issues.
        assert!(
            c.pointer("/metadata/annotations/pagerduty.com~1service-id")
                .is_none()
        );
    }
}

#[test]
fn ninety_days_through_the_ledger_give_leaders_and_strugglers() {
    let entities = demo_catalog();
    let deliveries = demo_deliveries(&entities, NOW, 7);
    assert_eq!(
        deliveries,
        demo_deliveries(&entities, NOW, 7),
        "deterministic"
    );
    assert_ne!(deliveries, demo_deliveries(&entities, NOW, 8));

    let attribution = Attribution::from_entities(&entities);
    assert!(
        attribution.conflicts().is_empty(),
        "{:?}",
        attribution.conflicts()
    );
    let mut ledger = Ledger::new(LedgerConfig::default()).unwrap();
    let mut duplicates = 0;
    for (seq, delivery) in deliveries.iter().enumerate() {
        let applied = ledger.apply(
            seq as u64 + 1,
            received_at(delivery, NOW),
            delivery,
            &attribution,
        );
        duplicates += usize::from(applied.duplicate);
        assert!(applied.notes.is_empty(), "{:?}", applied.notes);
    }
    assert!(duplicates > 0, "the demo redelivers some deliveries");
    let rows = ledger.rows();
    let stats = ledger.stats();
    assert!(stats.deployments > 2_000, "{stats:?}");

    // Alerts: each labelled with a catalog service (so attributed), firing then resolved.
    let alerts = ledger.alert_rows();
    assert!(alerts.len() > 50, "{}", alerts.len());
    assert!(
        alerts.iter().all(|a| a.entity.is_some()),
        "every demo alert is attributed"
    );
    assert!(alerts.iter().filter(|a| a.ends_at.is_some()).count() > alerts.len() / 2);

    // The odd facts are kept, and excluded where they are inconsistent.
    let excluded = |reason| {
        rows.deployments
            .iter()
            .filter(|d| d.excluded == Some(reason))
            .count()
    };
    assert_eq!(excluded(Exclusion::InTheFuture), 1);
    assert_eq!(excluded(Exclusion::FinishesBeforeStart), 1);
    assert!(
        rows.deployments
            .iter()
            .any(|d| d.source_id == "odd-running" && d.status == DeploymentStatus::Started)
    );
    let late = rows
        .deployments
        .iter()
        .find(|d| d.source_id == "odd-order")
        .unwrap();
    assert!(late.queued_at.is_some() && late.finished_at.is_some());
    assert!(rows.incidents.iter().any(|i| i.resolved_at.is_none()));
    let unattributed = ledger.unattributed();
    assert_eq!(unattributed.len(), 1);
    assert_eq!(
        unattributed[0].0,
        "repo:github.com/northwind/legacy-scripts"
    );

    // Incidents name their causes; rollbacks and hotfixes fix them.
    assert!(
        rows.incidents
            .iter()
            .filter(|i| i.link == Some(LinkKind::Sha))
            .count()
            > 5
    );
    assert!(
        rows.incidents
            .iter()
            .filter(|i| i.fixed_by.is_some())
            .count()
            > 5
    );
    assert!(
        rows.changes
            .iter()
            .filter(|c| !c.shipped.is_empty())
            .count()
            > 1_000
    );

    let org = attribution.org().clone();
    let facts = ledger.facts(&org, "production");
    let index = pave_dora::Index::build(&org, &facts).unwrap();
    let env = index.environment("production").unwrap();
    let mut query = Query::new(NOW - DEMO_DAYS * DAY, NOW, env);
    query.group_by = GroupBy::Team;
    let report = pave_dora::report(&index, &query).unwrap();
    // Teams: groups no other group has as parent (departments roll their teams up).
    let parents: Vec<&str> = org
        .groups
        .iter()
        .filter_map(|g| g.parent.map(|p| org.groups[p as usize].entity_ref.as_str()))
        .collect();
    let teams: Vec<_> = report
        .rows
        .iter()
        .filter(|r| r.kind == RowKind::Group && !parents.contains(&r.key.as_str()))
        .filter(|r| r.metrics.deployments.counted >= 5)
        .collect();
    assert!(teams.len() >= 6, "{} teams deploy", teams.len());
    let levels = |pick: fn(&pave_dora::Metrics) -> Option<Level>| -> Vec<Level> {
        teams.iter().filter_map(|t| pick(&t.metrics)).collect()
    };
    let frequency = levels(|m| m.deployment_frequency.level);
    assert!(frequency.contains(&Level::Elite), "{frequency:?}");
    assert!(frequency.iter().any(|&l| l > Level::Elite), "{frequency:?}");
    let lead = levels(|m| m.lead_time.level);
    assert!(lead.contains(&Level::Elite), "{lead:?}");
    assert!(lead.iter().any(|&l| l >= Level::Medium), "{lead:?}");
    let rates: Vec<f64> = teams
        .iter()
        .filter(|t| t.metrics.deployments.counted >= 20)
        .filter_map(|t| t.metrics.change_failure_rate.rate)
        .collect();
    let (low, high) = rates
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), &r| (lo.min(r), hi.max(r)));
    assert!(high > 2.0 * low + 0.05, "change failure rates {rates:?}");
    let org_row = report
        .rows
        .iter()
        .find(|r| r.kind == RowKind::Group)
        .unwrap();
    assert!(org_row.metrics.rework_rate.unplanned > 0);
    assert!(org_row.metrics.recovery_time.recovered > 0);
}
