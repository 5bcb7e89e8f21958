//! The ledger over time: redeliveries, catalog changes, rebuilding from rows.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use pave_delivery::{Attribution, Ledger, LedgerConfig, LedgerError, Row};
use pave_events::{DeploymentStatus, IncidentStatus, Source};
use serde_json::json;

/// Pushes, deployments (one late, one failed), incidents for both components.
fn stream() -> Vec<pave_events::Delivery> {
    let mut all = Vec::new();
    for slug in ["shop/checkout", "shop/search"] {
        all.push(push(
            slug,
            &format!("{slug}/p1"),
            "",
            &[("a1", T0), ("a2", T0 + HOUR)],
            false,
        ));
        all.extend(deployed(slug, "d1", "a2", T0 + 2 * HOUR));
        all.push(push(
            slug,
            &format!("{slug}/p2"),
            "a2",
            &[("a3", T0 + 3 * HOUR)],
            false,
        ));
        all.push(
            Deploy::new(slug, "d2", "a3", DeploymentStatus::Failed, T0 + 4 * HOUR)
                .delivery(&format!("{slug}/d2")),
        );
        all.extend(deployed(slug, "d3", "a3", T0 + 5 * HOUR));
        all.push(incident(
            Source::Github,
            repo(slug),
            &format!("{slug}#1"),
            IncidentStatus::Opened,
            T0 + 4 * HOUR + MINUTE,
            Some(&sha("a3")),
        ));
        all.push(incident(
            Source::Github,
            repo(slug),
            &format!("{slug}#1"),
            IncidentStatus::Resolved,
            T0 + 5 * HOUR,
            None,
        ));
    }
    all
}

#[test]
fn a_redelivery_changes_nothing_and_a_replay_after_a_rebuild_changes_no_fact() {
    let mut feed = Feed::new(LedgerConfig::default());
    feed.apply_all(&stream());
    let rows = feed.rows();
    for delivery in stream() {
        let applied = feed.apply(&delivery).clone();
        assert!(applied.duplicate);
        assert!(applied.rows.is_empty(), "{applied:?}");
    }
    assert_eq!(feed.rows(), rows);

    // A rebuilt ledger has forgotten the deliveries: applying them again goes through
    // every merge, which must be idempotent.
    let (mut rebuilt, applied) =
        Ledger::from_rows(LedgerConfig::default(), &rows, &feed.attribution).unwrap();
    assert!(
        applied.rows.is_empty(),
        "same catalog, nothing to re-attribute: {applied:?}"
    );
    assert_eq!(rebuilt.rows(), rows);
    for (seq, delivery) in stream().iter().enumerate() {
        let applied = rebuilt.apply(
            seq as u64 + 1,
            delivery.occurred_at.unwrap() + 1000,
            delivery,
            &feed.attribution,
        );
        assert!(!applied.duplicate);
    }
    let mut again = rebuilt.rows();
    let mut expected = rows.clone();
    // Only the per-subject event counters count the replayed events.
    for s in &mut again.subjects {
        s.events /= 2;
    }
    again.subjects.iter_mut().for_each(|s| s.last_seen = 0);
    expected.subjects.iter_mut().for_each(|s| s.last_seen = 0);
    assert_eq!(again, expected);
}

#[test]
fn a_rebuilt_ledger_carries_on_like_the_original() {
    let all = stream();
    let (first, rest) = all.split_at(all.len() / 2);
    let mut original = Feed::new(LedgerConfig::default());
    original.apply_all(first);
    let (rebuilt, applied) = Ledger::from_rows(
        LedgerConfig::default(),
        &original.rows(),
        &original.attribution,
    )
    .unwrap();
    assert!(applied.rows.is_empty());
    let mut rebuilt = Feed {
        ledger: rebuilt,
        attribution: original.attribution.clone(),
        seq: original.seq,
        applied: vec![],
        stored: Default::default(),
    };
    original.apply_all(rest);
    rebuilt.apply_all(rest);
    assert_eq!(rebuilt.rows(), original.rows());
    // Both answer DORA alike.
    let org = original.attribution.org().clone();
    let a = original.ledger.facts(&org, "production");
    let b = rebuilt.ledger.facts(&org, "production");
    assert_eq!(a.deployments, b.deployments);
    assert_eq!(a.changes, b.changes);
    assert_eq!(a.incidents, b.incidents);
}

#[test]
fn a_catalog_change_reattributes_rows_as_if_known_from_the_start() {
    let without_search: Vec<serde_json::Value> = catalog()
        .into_iter()
        .filter(|e| e["metadata"]["name"] != "search")
        .collect();
    let before = Attribution::from_entities(&without_search);
    let after = attribution();
    let mut feed = Feed::new(LedgerConfig::default());
    feed.attribution = before;
    feed.apply_all(&stream());
    let unattributed = feed.ledger.unattributed();
    assert_eq!(unattributed.len(), 1);
    assert_eq!(unattributed[0].0, "repo:github.com/shop/search");
    // 2 pushes, 7 deployment updates, 2 incident events.
    assert_eq!(unattributed[0].1, 11);
    let rows = feed.rows();
    assert!(
        rows.deployments
            .iter()
            .filter(|d| d.subject_key.contains("search"))
            .all(|d| d.entity.is_none())
    );

    let applied = feed.ledger.reattribute(&after);
    assert!(feed.ledger.unattributed().is_empty());
    // Only search's rows changed.
    for row in &applied.rows {
        let about_search = match row {
            Row::Subject(s) => s.key.contains("search"),
            Row::Deployment(d) => d.subject_key.contains("search"),
            Row::Change(c) => c.repo.contains("search"),
            Row::Incident(i) => i.subject_key.contains("search"),
            other => panic!("unexpected row {other:?}"),
        };
        assert!(about_search, "{row:?}");
    }
    assert!(applied.rows.iter().any(|r| matches!(r, Row::Deployment(_))));

    let mut known = Feed::new(LedgerConfig::default());
    known.apply_all(&stream());
    assert_eq!(without_seqs(feed.rows()), without_seqs(known.rows()));

    // And back: apply() notices a different catalog by itself.
    let mut back = Feed::new(LedgerConfig::default());
    back.apply_all(&stream());
    back.attribution = Attribution::from_entities(&without_search);
    let applied = back
        .apply(&push(
            "shop/checkout",
            "late",
            "a3",
            &[("a4", T0 + 6 * HOUR)],
            false,
        ))
        .clone();
    assert!(applied.rows.iter().any(|r| matches!(r, Row::Deployment(d) if d.subject_key.contains("search") && d.entity.is_none())));
    assert_eq!(
        back.ledger.unattributed()[0].0,
        "repo:github.com/shop/search"
    );
}

#[test]
fn reattribution_moves_change_sets_to_the_new_entity() {
    // Deployments of an Argo CD application no annotation names: unattributed, no
    // repository, no change sets. Once `checkout` names the application, they are
    // checkout's, in its repository, with change sets.
    let argo = |id: &str, name: &str, at: i64| {
        delivery(
            Source::Argocd,
            id,
            vec![pave_events::Event::Deployment(pave_events::Deployment {
                subject: pave_events::Subject::ArgoApp {
                    name: "checkout-prod".into(),
                    repo_url: None,
                },
                source_id: id.into(),
                environment: "production".into(),
                sha: Some(sha(name)),
                version: None,
                status: DeploymentStatus::Succeeded,
                at,
                started_at: Some(at - MINUTE),
                finished_at: Some(at),
                rollback: false,
                labels: vec![],
                git_ref: None,
                production: None,
                url: None,
            })],
        )
    };
    let deliveries = vec![
        push(
            "shop/checkout",
            "p",
            "",
            &[("c1", T0), ("c2", T0 + HOUR)],
            false,
        ),
        argo("argo-1", "c1", T0 + 2 * HOUR),
        argo("argo-2", "c2", T0 + 3 * HOUR),
    ];
    let mut feed = Feed::new(LedgerConfig::default());
    feed.apply_all(&deliveries);
    let rows = feed.rows();
    assert_eq!(deployment_row(&rows, "argo-2").entity, None);
    assert_eq!(shipped_by(&rows, "shop/checkout", "c2"), None);

    let mut entities = catalog();
    entities[5]["metadata"]["annotations"]["argocd/app-name"] = json!("checkout-prod");
    feed.attribution = Attribution::from_entities(&entities);
    feed.ledger.reattribute(&feed.attribution.clone());
    let rows = feed.rows();
    let d2 = deployment_row(&rows, "argo-2");
    assert_eq!(d2.entity.as_deref(), Some("component:default/checkout"));
    assert_eq!(d2.repo.as_deref(), Some("github.com/shop/checkout"));
    assert_eq!(shipped_by(&rows, "shop/checkout", "c2"), Some(d2.id));
    assert_eq!(
        shipped_by(&rows, "shop/checkout", "c1"),
        Some(deployment_row(&rows, "argo-1").id)
    );
}

#[test]
fn rows_that_do_not_fit_together_are_errors_naming_the_row() {
    let mut feed = Feed::new(LedgerConfig::default());
    feed.apply_all(&stream());
    let rows = feed.rows();

    let mut broken = rows.clone();
    broken.deployments[1].subject_key = "repo:github.com/nowhere/x".into();
    let err = Ledger::from_rows(LedgerConfig::default(), &broken, &feed.attribution).unwrap_err();
    assert_eq!(
        err,
        LedgerError::Rows {
            path: "deployments[1].subject_key".into(),
            message: "no subject row repo:github.com/nowhere/x".into()
        }
    );

    let mut broken = rows.clone();
    let c = broken
        .changes
        .iter()
        .position(|c| !c.shipped.is_empty())
        .unwrap();
    broken.changes[c].shipped[0].deployment = 7;
    let err = Ledger::from_rows(LedgerConfig::default(), &broken, &feed.attribution).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("changes[{c}].shipped[0].deployment: no deployment 7")
    );

    let mut broken = rows;
    broken.commits[0].parents = vec![broken.commits[0].sha.clone()];
    let err = Ledger::from_rows(LedgerConfig::default(), &broken, &feed.attribution).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("commits (repository github.com/shop/"),
        "{err}"
    );
    assert!(err.to_string().contains("cycle"), "{err}");
}

#[test]
fn rows_round_trip_through_json() {
    let mut feed = Feed::new(LedgerConfig::default());
    feed.apply_all(&stream());
    let rows = feed.rows();
    let text = serde_json::to_string(&rows).unwrap();
    let back: pave_delivery::Rows = serde_json::from_str(&text).unwrap();
    assert_eq!(back, rows);
}
