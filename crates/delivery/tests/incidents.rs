//! Incidents: lifecycles merged in any order, explicit links (deployment id, sha, shipped
//! commit) against the opt-in time heuristic, fixes by rollbacks and hotfixes.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use pave_delivery::{LedgerConfig, LinkKind, Rows};
use pave_events::{DeploymentStatus, IncidentStatus, Source};

const SLUG: &str = "shop/checkout";

/// c1, c2 pushed; d1 ships c1 (T0+1h), d2 ships c2 (T0+3h).
fn history() -> Vec<pave_events::Delivery> {
    let mut all = vec![push(
        SLUG,
        "p1",
        "",
        &[("c1", T0), ("c2", T0 + 2 * HOUR)],
        false,
    )];
    all.extend(deployed(SLUG, "d1", "c1", T0 + HOUR));
    all.extend(deployed(SLUG, "d2", "c2", T0 + 3 * HOUR));
    all
}

fn run(config: LedgerConfig, deliveries: &[pave_events::Delivery]) -> Rows {
    let mut feed = Feed::new(config);
    feed.apply_all(deliveries);
    feed.rows()
}

fn opened(reference: Option<&str>, at: i64) -> pave_events::Delivery {
    incident(
        Source::Pagerduty,
        pagerduty("PCHK"),
        "Q1",
        IncidentStatus::Opened,
        at,
        reference,
    )
}

#[test]
fn explicit_links_by_sha_deployment_id_or_shipped_commit_in_any_order() {
    let short_c2 = sha("c2")[..10].to_owned();
    let table: Vec<(&str, String, &str, LinkKind)> = vec![
        ("abbreviated sha", short_c2, "d2", LinkKind::Sha),
        ("full sha", sha("c1"), "d1", LinkKind::Sha),
        (
            "deployment id",
            "D2".to_owned(),
            "d2",
            LinkKind::DeploymentId,
        ),
    ];
    for (name, reference, expected, kind) in table {
        for incident_first in [false, true] {
            let incident = opened(Some(&reference), T0 + 10 * HOUR);
            let mut deliveries = history();
            if incident_first {
                deliveries.insert(0, incident);
            } else {
                deliveries.push(incident);
            }
            let rows = run(LedgerConfig::default(), &deliveries);
            let row = &rows.incidents[0];
            assert_eq!(
                row.caused_by,
                Some(deployment_row(&rows, expected).id),
                "{name}, incident first: {incident_first}"
            );
            assert_eq!(row.link, Some(kind), "{name}");
            assert_eq!(row.entity.as_deref(), Some("component:default/checkout"));
        }
    }
}

#[test]
fn a_named_commit_that_was_never_deployed_itself_links_to_its_shipping_deployment() {
    // c1 is not any deployment's sha when d1 deploys c1b on top of it.
    let mut deliveries = vec![push(
        SLUG,
        "p1",
        "",
        &[("c1", T0), ("c1b", T0 + MINUTE)],
        false,
    )];
    deliveries.extend(deployed(SLUG, "d1", "c1b", T0 + HOUR));
    deliveries.push(opened(Some(&sha("c1")), T0 + 2 * HOUR));
    let rows = run(LedgerConfig::default(), &deliveries);
    assert_eq!(
        rows.incidents[0].caused_by,
        Some(deployment_row(&rows, "d1").id)
    );
    assert_eq!(rows.incidents[0].link, Some(LinkKind::Commit));
}

#[test]
fn the_time_heuristic_is_off_by_default_and_bounded_by_its_window() {
    let heuristic = LedgerConfig {
        link_by_time: true,
        link_by_time_window_ms: 2 * HOUR,
        ..LedgerConfig::default()
    };
    // (config, opened at, expected deployment)
    let table = [
        (LedgerConfig::default(), T0 + 4 * HOUR, None),
        (heuristic.clone(), T0 + 4 * HOUR, Some("d2")),
        (heuristic.clone(), T0 + 2 * HOUR, Some("d1")),
        // Opened before any deployment finished, or long after the last one.
        (heuristic.clone(), T0 + 30 * MINUTE, None),
        (heuristic.clone(), T0 + 6 * HOUR, None),
    ];
    for (config, at, expected) in table {
        let time_on = config.link_by_time;
        let mut deliveries = history();
        deliveries.push(opened(None, at));
        let rows = run(config, &deliveries);
        let row = &rows.incidents[0];
        assert_eq!(
            row.caused_by,
            expected.map(|e| deployment_row(&rows, e).id),
            "time heuristic {time_on}, opened at +{}h",
            (at - T0) / HOUR
        );
        assert_eq!(row.link, expected.map(|_| LinkKind::Time));
    }
    // An explicit reference wins over the heuristic.
    let mut deliveries = history();
    deliveries.push(opened(Some(&sha("c1")), T0 + 4 * HOUR));
    let rows = run(heuristic, &deliveries);
    assert_eq!(rows.incidents[0].link, Some(LinkKind::Sha));
    assert_eq!(
        rows.incidents[0].caused_by,
        Some(deployment_row(&rows, "d1").id)
    );
}

#[test]
fn fixed_by_the_first_rollback_or_hotfix_between_open_and_resolve() {
    let fix = |id: &str, label: &str, at: i64| {
        let mut d = Deploy::new(SLUG, id, "c1", DeploymentStatus::Succeeded, at);
        d.labels = vec![label.to_owned()];
        d.delivery(id)
    };
    // (fix deployments, resolved at, expected fixed_by)
    let table: Vec<(Vec<pave_events::Delivery>, Option<i64>, Option<&str>)> = vec![
        (
            vec![fix("rb", "deploy:rollback", T0 + 5 * HOUR)],
            Some(T0 + 6 * HOUR),
            Some("rb"),
        ),
        (
            vec![fix("hf", "deploy:hotfix", T0 + 5 * HOUR)],
            Some(T0 + 6 * HOUR),
            Some("hf"),
        ),
        // An ordinary deployment is not a fix.
        (
            vec![fix("plain", "deploy", T0 + 5 * HOUR)],
            Some(T0 + 6 * HOUR),
            None,
        ),
        // After the resolution: not the fix.
        (
            vec![fix("late", "deploy:hotfix", T0 + 7 * HOUR)],
            Some(T0 + 6 * HOUR),
            None,
        ),
        // Still open: any later one.
        (
            vec![fix("open", "deploy:hotfix", T0 + 7 * HOUR)],
            None,
            Some("open"),
        ),
        // Two: the first.
        (
            vec![
                fix("b", "deploy:hotfix", T0 + 5 * HOUR + 30 * MINUTE),
                fix("a", "deploy:rollback", T0 + 5 * HOUR),
            ],
            Some(T0 + 6 * HOUR),
            Some("a"),
        ),
    ];
    for (case, (fixes, resolved, expected)) in table.into_iter().enumerate() {
        let mut deliveries = history();
        deliveries.push(opened(Some(&sha("c2")), T0 + 4 * HOUR));
        deliveries.extend(fixes);
        if let Some(at) = resolved {
            deliveries.push(incident(
                Source::Pagerduty,
                pagerduty("PCHK"),
                "Q1",
                IncidentStatus::Resolved,
                at,
                None,
            ));
        }
        let rows = run(LedgerConfig::default(), &deliveries);
        assert_eq!(
            rows.incidents[0].fixed_by,
            expected.map(|e| deployment_row(&rows, e).id),
            "case {case}"
        );
        assert_eq!(
            rows.incidents[0].caused_by,
            Some(deployment_row(&rows, "d2").id)
        );
    }
}

#[test]
fn lifecycles_merge_in_any_order_and_reopenings_count() {
    let events = [
        (IncidentStatus::Opened, T0),
        (IncidentStatus::Acknowledged, T0 + 5 * MINUTE),
        (IncidentStatus::Resolved, T0 + HOUR),
        (IncidentStatus::Reopened, T0 + 2 * HOUR),
        (IncidentStatus::Resolved, T0 + 3 * HOUR),
    ];
    let mut first: Option<Rows> = None;
    for seed in 0..24u64 {
        let mut order = events.to_vec();
        pave_dora::generate::shuffle(seed, &mut order);
        let deliveries: Vec<_> = order
            .iter()
            .map(|&(status, at)| {
                incident(Source::Pagerduty, pagerduty("PCHK"), "Q9", status, at, None)
            })
            .collect();
        let rows = without_seqs(run(LedgerConfig::default(), &deliveries));
        let row = &rows.incidents[0];
        assert_eq!(row.opened_at, T0);
        assert_eq!(row.acknowledged_at, Some(T0 + 5 * MINUTE));
        assert_eq!(row.resolved_at, Some(T0 + 3 * HOUR));
        assert_eq!(row.reopened_at, [T0 + 2 * HOUR]);
        assert_eq!(row.severity, Some(2));
        match &first {
            None => first = Some(rows),
            Some(first) => assert_eq!(&rows, first, "order {order:?}"),
        }
    }
    // Reopened after the last resolution: open again.
    let deliveries: Vec<_> = events[..4]
        .iter()
        .map(|&(status, at)| incident(Source::Pagerduty, pagerduty("PCHK"), "Q9", status, at, None))
        .collect();
    let rows = run(LedgerConfig::default(), &deliveries);
    assert_eq!(rows.incidents[0].resolved_at, None);
    assert_eq!(rows.incidents[0].last_resolved_at, Some(T0 + HOUR));
}

#[test]
fn unattributed_incidents_link_only_explicitly_and_count_for_the_org() {
    let mut deliveries = history();
    deliveries.push(incident(
        Source::Pagerduty,
        pagerduty("PUNKNOWN"),
        "U1",
        IncidentStatus::Opened,
        T0 + 4 * HOUR,
        Some(&sha("c2")),
    ));
    deliveries.push(incident(
        Source::Pagerduty,
        pagerduty("PUNKNOWN"),
        "U2",
        IncidentStatus::Opened,
        T0 + 4 * HOUR,
        None,
    ));
    let mut feed = Feed::new(LedgerConfig {
        link_by_time: true,
        ..LedgerConfig::default()
    });
    feed.apply_all(&deliveries);
    let rows = feed.rows();
    let by_id = |id: &str| rows.incidents.iter().find(|i| i.incident == id).unwrap();
    assert_eq!(by_id("U1").entity, None);
    assert_eq!(by_id("U1").caused_by, Some(deployment_row(&rows, "d2").id));
    assert_eq!(by_id("U2").caused_by, None, "no entity, no heuristic");
    let unattributed = feed.ledger.unattributed();
    assert_eq!(unattributed.len(), 1);
    assert_eq!(unattributed[0].0, "pagerduty:PUNKNOWN");
    assert_eq!(unattributed[0].1, 2);
    // pave-dora attributes U1 through its deployment; U2 counts for the org only.
    let org = feed.attribution.org().clone();
    let facts = feed.ledger.facts(&org, "production");
    assert_eq!(
        facts
            .incidents
            .iter()
            .filter(|i| i.entity.is_none())
            .count(),
        2
    );
    assert_eq!(
        facts
            .incidents
            .iter()
            .filter(|i| i.caused_by.is_some())
            .count(),
        1
    );
}
