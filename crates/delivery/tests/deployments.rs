//! Deployment rules: status updates merge to one row in any order; exclusions are kept;
//! production, rollback and hotfix rules.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use pave_delivery::{HotfixReason, LedgerConfig};
use pave_dora::facts::Exclusion;
use pave_events::{DeploymentStatus, Source};

fn permutations<T: Clone>(items: &[T]) -> Vec<Vec<T>> {
    if items.len() <= 1 {
        return vec![items.to_vec()];
    }
    let mut out = Vec::new();
    for i in 0..items.len() {
        let mut rest = items.to_vec();
        let first = rest.remove(i);
        for mut tail in permutations(&rest) {
            tail.insert(0, first.clone());
            out.push(tail);
        }
    }
    out
}

/// Status updates; the status, finish and exclusion they must merge to.
type Case = (
    Vec<(DeploymentStatus, i64)>,
    DeploymentStatus,
    Option<i64>,
    Option<Exclusion>,
);

#[test]
fn every_order_of_three_status_updates_gives_the_same_row() {
    // (events, expected status, expected finished_at, expected exclusion)
    let cases: Vec<Case> = vec![
        (
            vec![
                (DeploymentStatus::Queued, T0),
                (DeploymentStatus::Started, T0 + MINUTE),
                (DeploymentStatus::Succeeded, T0 + 5 * MINUTE),
            ],
            DeploymentStatus::Succeeded,
            Some(T0 + 5 * MINUTE),
            None,
        ),
        (
            // Failed, then retried to success: the latest final status wins.
            vec![
                (DeploymentStatus::Started, T0),
                (DeploymentStatus::Failed, T0 + MINUTE),
                (DeploymentStatus::Succeeded, T0 + 4 * MINUTE),
            ],
            DeploymentStatus::Succeeded,
            Some(T0 + 4 * MINUTE),
            None,
        ),
        (
            // Two final statuses at the same time: the pessimistic one.
            vec![
                (DeploymentStatus::Started, T0),
                (DeploymentStatus::Succeeded, T0 + MINUTE),
                (DeploymentStatus::Failed, T0 + MINUTE),
            ],
            DeploymentStatus::Failed,
            Some(T0 + MINUTE),
            None,
        ),
        (
            // Finishes before it starts: kept, excluded.
            vec![
                (DeploymentStatus::Queued, T0),
                (DeploymentStatus::Started, T0 + 10 * MINUTE),
                (DeploymentStatus::Succeeded, T0 + 5 * MINUTE),
            ],
            DeploymentStatus::Succeeded,
            Some(T0 + 5 * MINUTE),
            Some(Exclusion::FinishesBeforeStart),
        ),
    ];
    for (case, (events, status, finished_at, excluded)) in cases.iter().enumerate() {
        let mut rows_seen = Vec::new();
        for order in permutations(events) {
            let mut feed = Feed::new(LedgerConfig::default());
            for (k, &(s, at)) in order.iter().enumerate() {
                feed.apply(
                    &Deploy::new("shop/checkout", "42", "c1", s, at).delivery(&format!("d{k}")),
                );
            }
            let rows = without_seqs(feed.rows());
            assert_eq!(rows.deployments.len(), 1, "case {case}: one row");
            let row = &rows.deployments[0];
            assert_eq!(row.status, *status, "case {case} {order:?}");
            assert_eq!(row.finished_at, *finished_at, "case {case}");
            assert_eq!(row.excluded, *excluded, "case {case}");
            rows_seen.push(rows);
        }
        assert_eq!(rows_seen.len(), 6);
        for rows in &rows_seen[1..] {
            assert_eq!(rows, &rows_seen[0], "case {case}: order changed the rows");
        }
    }
}

#[test]
fn times_in_the_future_are_kept_and_excluded() {
    let mut feed = Feed::new(LedgerConfig::default());
    let d = Deploy::new(
        "shop/checkout",
        "7",
        "c1",
        DeploymentStatus::Succeeded,
        T0 + 2 * HOUR,
    );
    // Received at T0: two hours ahead is beyond the 5-minute skew.
    let applied = feed
        .ledger
        .apply(1, T0, &d.delivery("x"), &feed.attribution.clone());
    assert_eq!(
        applied.rows.len(),
        2,
        "subject and deployment rows: {applied:?}"
    );
    let rows = feed.rows();
    assert_eq!(rows.deployments[0].excluded, Some(Exclusion::InTheFuture));
    // Within the skew: not excluded.
    let d = Deploy::new(
        "shop/checkout",
        "8",
        "c1",
        DeploymentStatus::Succeeded,
        T0 + 4 * MINUTE,
    );
    feed.ledger
        .apply(2, T0, &d.delivery("y"), &feed.attribution.clone());
    assert_eq!(deployment_row(&feed.rows(), "8").excluded, None);
    // Excluded deployments are in the facts with their reason, never dropped.
    let org = feed.attribution.org().clone();
    let facts = feed.ledger.facts(&org, "production");
    assert_eq!(facts.deployments.len(), 2);
    assert!(
        facts
            .deployments
            .iter()
            .any(|d| d.excluded == Some(Exclusion::InTheFuture))
    );
}

#[test]
fn production_by_name_or_by_the_senders_word() {
    let table = [
        ("production", None, true),
        ("Prod", None, true),
        ("staging", None, false),
        ("eu-live", Some(true), true),
        ("production", Some(false), true),
    ];
    for (environment, flag, expected) in table {
        let mut feed = Feed::new(LedgerConfig::default());
        let mut d = Deploy::new("shop/checkout", "1", "c1", DeploymentStatus::Succeeded, T0);
        d.environment = environment;
        let mut delivery = d.delivery("x");
        if let pave_events::Event::Deployment(dep) = &mut delivery.events[0] {
            dep.production = flag;
        }
        feed.apply(&delivery);
        let rows = feed.rows();
        assert_eq!(
            rows.deployments[0].production, expected,
            "{environment} {flag:?}"
        );
        assert_eq!(rows.deployments[0].environment, environment);
    }
}

#[test]
fn rollback_and_hotfix_from_labels_refs_and_status() {
    let mut feed = Feed::new(LedgerConfig::default());
    let mut hotfix = Deploy::new("shop/checkout", "h", "c1", DeploymentStatus::Succeeded, T0);
    hotfix.labels = vec!["deploy:hotfix".into()];
    let mut rollback = Deploy::new(
        "shop/checkout",
        "r",
        "c1",
        DeploymentStatus::Succeeded,
        T0 + HOUR,
    );
    rollback.labels = vec!["deploy:rollback".into()];
    let rolled_back = Deploy::new(
        "shop/checkout",
        "rb",
        "c1",
        DeploymentStatus::RolledBack,
        T0 + 2 * HOUR,
    );
    let plain = Deploy::new(
        "shop/checkout",
        "p",
        "c1",
        DeploymentStatus::Succeeded,
        T0 + 3 * HOUR,
    );
    for (i, d) in [&hotfix, &rollback, &rolled_back, &plain]
        .iter()
        .enumerate()
    {
        feed.apply(&d.delivery(&i.to_string()));
    }
    let mut branch = Deploy::new(
        "shop/checkout",
        "b",
        "c1",
        DeploymentStatus::Succeeded,
        T0 + 4 * HOUR,
    );
    let mut delivery = branch.delivery("b");
    if let pave_events::Event::Deployment(dep) = &mut delivery.events[0] {
        dep.git_ref = Some("hotfix/login".into());
    }
    branch.labels.clear();
    feed.apply(&delivery);
    let rows = feed.rows();
    let table = [
        ("h", false, Some(HotfixReason::Label)),
        ("r", true, None),
        ("rb", true, None),
        ("p", false, None),
        ("b", false, Some(HotfixReason::Ref)),
    ];
    for (id, rollback, hotfix) in table {
        let row = deployment_row(&rows, id);
        assert_eq!(row.rollback, rollback, "{id}");
        assert_eq!(row.hotfix, hotfix, "{id}");
    }
    assert_eq!(
        deployment_row(&rows, "rb").status,
        DeploymentStatus::RolledBack
    );
}

#[test]
fn deployments_of_the_same_id_from_other_subjects_or_senders_are_distinct() {
    let mut feed = Feed::new(LedgerConfig::default());
    feed.apply(
        &Deploy::new("shop/checkout", "1", "c1", DeploymentStatus::Succeeded, T0).delivery("a"),
    );
    feed.apply(
        &Deploy::new("shop/search", "1", "c1", DeploymentStatus::Succeeded, T0).delivery("b"),
    );
    let mut other_sender =
        Deploy::new("shop/checkout", "1", "c1", DeploymentStatus::Succeeded, T0).delivery("c");
    other_sender.source = Source::Gitlab;
    feed.apply(&other_sender);
    let rows = feed.rows();
    assert_eq!(rows.deployments.len(), 3);
    let mut ids: Vec<u64> = rows.deployments.iter().map(|d| d.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 3);
    assert!(ids.iter().all(|&id| id <= i64::MAX as u64));
}

#[test]
fn canceled_and_removed_deployments_are_kept_but_not_dora_deployments() {
    let mut feed = Feed::new(LedgerConfig::default());
    feed.apply(
        &Deploy::new("shop/checkout", "c", "c1", DeploymentStatus::Canceled, T0).delivery("a"),
    );
    feed.apply(
        &Deploy::new("shop/checkout", "r", "c1", DeploymentStatus::Removed, T0).delivery("b"),
    );
    feed.apply(
        &Deploy::new("shop/checkout", "s", "c1", DeploymentStatus::Started, T0).delivery("c"),
    );
    assert_eq!(feed.rows().deployments.len(), 3);
    let org = feed.attribution.org().clone();
    let facts = feed.ledger.facts(&org, "production");
    assert_eq!(facts.deployments.len(), 1, "only the running one");
    assert_eq!(
        facts.deployments[0].outcome,
        pave_dora::facts::Outcome::Running
    );
    assert_eq!(facts.deployments[0].finished_at, None);
}
