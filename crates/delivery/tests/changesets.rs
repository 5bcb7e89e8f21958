//! Change sets through the ledger: linear history, merges, force pushes, unknown shas filled
//! in later (by pushes or `git log`), late deployments, rollbacks, hotfix merges, several
//! environments.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use pave_delivery::{
    ChangeSource, ChangesetReason, CommitSource, ExternalCommit, HotfixReason, LedgerConfig,
};
use pave_events::{ChangeMerged, DeploymentStatus, Event, Source};

const SLUG: &str = "shop/checkout";

fn shipped_names(rows: &pave_delivery::Rows, deployment: u64, names: &[&str]) -> Vec<String> {
    names
        .iter()
        .filter(|n| shipped_by(rows, SLUG, n) == Some(deployment))
        .map(|n| n.to_string())
        .collect()
}

#[test]
fn linear_history_ships_what_is_new_since_the_previous_deployment() {
    let mut feed = Feed::new(LedgerConfig::default());
    feed.apply(&push(
        SLUG,
        "p1",
        "c0",
        &[("c1", T0), ("c2", T0 + HOUR)],
        false,
    ));
    feed.apply_all(&deployed(SLUG, "d1", "c2", T0 + 2 * HOUR));
    feed.apply(&push(
        SLUG,
        "p2",
        "c2",
        &[("c3", T0 + 3 * HOUR), ("c4", T0 + 4 * HOUR)],
        false,
    ));
    feed.apply_all(&deployed(SLUG, "d2", "c4", T0 + 6 * HOUR));
    let rows = feed.rows();
    let d1 = deployment_row(&rows, "d1");
    let d2 = deployment_row(&rows, "d2");
    let all = ["c1", "c2", "c3", "c4"];
    assert_eq!(shipped_names(&rows, d1.id, &all), ["c1", "c2"]);
    assert_eq!(shipped_names(&rows, d2.id, &all), ["c3", "c4"]);
    let c1 = d1.changeset.as_ref().unwrap();
    // c0 (the push's `before`) is outside the known history: a boundary, said so.
    assert_eq!(c1.commits, 2);
    assert_eq!(c1.previous, None);
    assert!(c1.truncated);
    let c2 = d2.changeset.as_ref().unwrap();
    assert_eq!(
        (c2.commits, c2.previous, c2.truncated),
        (2, Some(d1.id), false)
    );
    assert_eq!(c2.reason, None);
    assert_eq!(c2.sources, [CommitSource::Push]);
    assert_eq!(change_row(&rows, SLUG, "c3").source, ChangeSource::Push);
    assert_eq!(
        change_row(&rows, SLUG, "c3").entity.as_deref(),
        Some("component:default/checkout")
    );

    // Lead times as pave-dora reports them: d2 at T0+6h shipped c3 (3h) and c4 (2h).
    let org = feed.attribution.org().clone();
    let facts = feed.ledger.facts(&org, "production");
    let index = pave_dora::Index::build(&org, &facts).unwrap();
    let env = index.environment("production").unwrap();
    let mut query = pave_dora::Query::new(T0 + 5 * HOUR, T0 + 7 * HOUR, env);
    query.group_by = pave_dora::GroupBy::Org;
    let report = pave_dora::report(&index, &query).unwrap();
    let lead = report.rows[0].metrics.lead_time;
    assert_eq!(lead.changes, 2);
    assert_eq!(lead.median_ms, Some((2.5 * HOUR as f64).round()));
}

#[test]
fn merges_bring_their_branch_whether_or_not_it_was_pushed_before() {
    for branch_pushed_first in [true, false] {
        let mut feed = Feed::new(LedgerConfig::default());
        feed.apply(&push(
            SLUG,
            "p1",
            "",
            &[("c1", T0), ("c2", T0 + HOUR)],
            false,
        ));
        feed.apply_all(&deployed(SLUG, "d1", "c2", T0 + 2 * HOUR));
        if branch_pushed_first {
            let mut feature = push(
                SLUG,
                "pf",
                "c2",
                &[("f1", T0 + 3 * HOUR), ("f2", T0 + 4 * HOUR)],
                false,
            );
            if let Event::Push(p) = &mut feature.events[0] {
                p.branch = "feature".into();
            }
            feed.apply(&feature);
        }
        // Meanwhile main moved on (c3), then the merge: compare c3...m lists f1, f2, m.
        feed.apply(&push(SLUG, "p3", "c2", &[("c3", T0 + 5 * HOUR)], false));
        feed.apply(&push(
            SLUG,
            "pm",
            "c3",
            &[
                ("f1", T0 + 3 * HOUR),
                ("f2", T0 + 4 * HOUR),
                ("m", T0 + 6 * HOUR),
            ],
            false,
        ));
        feed.apply_all(&deployed(SLUG, "d2", "m", T0 + 7 * HOUR));
        let rows = feed.rows();
        let d2 = deployment_row(&rows, "d2");
        assert_eq!(
            shipped_names(&rows, d2.id, &["c1", "c2", "c3", "f1", "f2", "m"]),
            ["c3", "f1", "f2", "m"],
            "branch pushed first: {branch_pushed_first}"
        );
        assert!(!d2.changeset.as_ref().unwrap().truncated);
    }
}

#[test]
fn a_force_push_starts_a_new_line() {
    let mut feed = Feed::new(LedgerConfig::default());
    feed.apply(&push(
        SLUG,
        "p1",
        "",
        &[("c1", T0), ("c2", T0 + HOUR)],
        false,
    ));
    feed.apply_all(&deployed(SLUG, "d1", "c2", T0 + 2 * HOUR));
    feed.apply(&push(
        SLUG,
        "p2",
        "c2",
        &[("x1", T0 + 3 * HOUR), ("x2", T0 + 4 * HOUR)],
        true,
    ));
    feed.apply_all(&deployed(SLUG, "d2", "x2", T0 + 5 * HOUR));
    let rows = feed.rows();
    let d2 = deployment_row(&rows, "d2");
    assert_eq!(
        shipped_names(&rows, d2.id, &["c1", "c2", "x1", "x2"]),
        ["x1", "x2"]
    );
    // x1 has no parent: the rewritten history does not reach the old head.
    let x1 = rows.commits.iter().find(|c| c.sha == sha("x1")).unwrap();
    assert!(x1.parents.is_empty());
    let x2 = rows.commits.iter().find(|c| c.sha == sha("x2")).unwrap();
    assert_eq!(x2.parents, [sha("x1")]);
}

#[test]
fn an_unknown_sha_gets_changes_once_a_push_brings_it() {
    let mut feed = Feed::new(LedgerConfig::default());
    feed.apply(&push(SLUG, "p1", "", &[("c1", T0)], false));
    feed.apply_all(&deployed(SLUG, "d1", "c1", T0 + HOUR));
    // The deployment of c3 arrives before the push of c2, c3.
    feed.apply_all(&deployed(SLUG, "d2", "c3", T0 + 5 * HOUR));
    let rows = feed.rows();
    let d2 = deployment_row(&rows, "d2");
    assert_eq!(
        d2.changeset.as_ref().unwrap().reason,
        Some(ChangesetReason::UnknownSha)
    );
    assert_eq!(d2.changeset.as_ref().unwrap().commits, 0);
    let applied = feed
        .apply(&push(
            SLUG,
            "p2",
            "c1",
            &[("c2", T0 + 2 * HOUR), ("c3", T0 + 3 * HOUR)],
            false,
        ))
        .clone();
    // The push's rows include the recomputed deployment.
    assert!(
        applied
            .rows
            .iter()
            .any(|r| matches!(r, pave_delivery::Row::Deployment(d) if d.source_id == "d2"))
    );
    let rows = feed.rows();
    let d2 = deployment_row(&rows, "d2");
    assert_eq!(d2.changeset.as_ref().unwrap().reason, None);
    assert_eq!(
        shipped_names(&rows, d2.id, &["c1", "c2", "c3"]),
        ["c2", "c3"]
    );
}

#[test]
fn git_log_fills_in_what_pushes_never_said() {
    let mut feed = Feed::new(LedgerConfig::default());
    feed.apply(&push(SLUG, "p1", "", &[("c1", T0)], false));
    feed.apply_all(&deployed(SLUG, "d1", "c1", T0 + HOUR));
    feed.apply_all(&deployed(SLUG, "d2", "g2", T0 + 5 * HOUR));
    let applied = feed.ledger.add_commits(
        "github.com/shop/checkout",
        &[
            ExternalCommit {
                sha: sha("g2"),
                parents: vec![sha("g1")],
                committed_at: T0 + 3 * HOUR,
            },
            ExternalCommit {
                sha: sha("g1"),
                parents: vec![sha("c1")],
                committed_at: T0 + 2 * HOUR,
            },
            // Known already: kept as the push gave it.
            ExternalCommit {
                sha: sha("c1"),
                parents: vec![],
                committed_at: T0,
            },
        ],
    );
    assert_eq!(applied.notes.len(), 1, "{:?}", applied.notes);
    let rows = feed.rows();
    let d2 = deployment_row(&rows, "d2");
    let changeset = d2.changeset.as_ref().unwrap();
    assert_eq!(changeset.sources, [CommitSource::Git]);
    assert_eq!(changeset.commits, 2);
    assert_eq!(
        shipped_names(&rows, d2.id, &["c1", "g1", "g2"]),
        ["g1", "g2"]
    );
    assert_eq!(change_row(&rows, SLUG, "g1").source, ChangeSource::Git);
    assert_eq!(change_row(&rows, SLUG, "g1").committed_at, T0 + 2 * HOUR);
}

#[test]
fn a_deployment_that_arrives_late_takes_its_changes_from_the_next_one() {
    let deliveries = |late: bool| {
        let mut all = vec![push(
            SLUG,
            "p1",
            "",
            &[("c1", T0), ("c2", T0 + HOUR), ("c3", T0 + 2 * HOUR)],
            false,
        )];
        let d1 = deployed(SLUG, "d1", "c2", T0 + 3 * HOUR);
        let d2 = deployed(SLUG, "d2", "c3", T0 + 4 * HOUR);
        if late {
            all.extend(d2);
            all.extend(d1);
        } else {
            all.extend(d1);
            all.extend(d2);
        }
        all
    };
    let mut in_order = Feed::new(LedgerConfig::default());
    in_order.apply_all(&deliveries(false));
    let mut late = Feed::new(LedgerConfig::default());
    late.apply_all(&deliveries(true));
    let rows = late.rows();
    let d1 = deployment_row(&rows, "d1").id;
    let d2 = deployment_row(&rows, "d2").id;
    assert_eq!(shipped_names(&rows, d1, &["c1", "c2", "c3"]), ["c1", "c2"]);
    assert_eq!(shipped_names(&rows, d2, &["c1", "c2", "c3"]), ["c3"]);
    assert_eq!(without_seqs(rows), without_seqs(in_order.rows()));
}

#[test]
fn changes_keep_their_first_deployment_across_a_rollback() {
    let mut feed = Feed::new(LedgerConfig::default());
    feed.apply(&push(
        SLUG,
        "p1",
        "",
        &[("c1", T0), ("c2", T0 + HOUR)],
        false,
    ));
    feed.apply_all(&deployed(SLUG, "d1", "c1", T0 + 2 * HOUR));
    feed.apply_all(&deployed(SLUG, "d2", "c2", T0 + 3 * HOUR));
    let mut rollback = Deploy::new(SLUG, "d3", "c1", DeploymentStatus::Succeeded, T0 + 4 * HOUR);
    rollback.labels = vec!["deploy:rollback".into()];
    feed.apply(&rollback.delivery("rb"));
    feed.apply_all(&deployed(SLUG, "d4", "c2", T0 + 5 * HOUR));
    let rows = feed.rows();
    let (d2, d4) = (deployment_row(&rows, "d2"), deployment_row(&rows, "d4"));
    assert_eq!(shipped_by(&rows, SLUG, "c2"), Some(d2.id));
    // d4 shipped c2 again; its change set says so, but c2's lead time stays with d2.
    assert_eq!(d4.changeset.as_ref().unwrap().commits, 1);
    assert!(deployment_row(&rows, "d3").rollback);
}

#[test]
fn a_hotfix_merge_makes_its_deployment_a_hotfix() {
    let mut feed = Feed::new(LedgerConfig::default());
    feed.apply(&push(SLUG, "p1", "", &[("c1", T0)], false));
    feed.apply_all(&deployed(SLUG, "d1", "c1", T0 + HOUR));
    feed.apply(&push(SLUG, "p2", "c1", &[("fix", T0 + 2 * HOUR)], false));
    feed.apply_all(&deployed(SLUG, "d2", "fix", T0 + 3 * HOUR));
    assert_eq!(deployment_row(&feed.rows(), "d2").hotfix, None);
    // The pull request's merge arrives last (order must not matter).
    feed.apply(&delivery(
        Source::Github,
        "merge",
        vec![Event::ChangeMerged(ChangeMerged {
            subject: repo(SLUG),
            id: "17".into(),
            number: Some(17),
            title: Some("Fix login".into()),
            merge_sha: Some(sha("fix")),
            merged_at: T0 + 2 * HOUR + MINUTE,
            created_at: None,
            labels: vec!["HotFix".into()],
            head_branch: Some("fix-login".into()),
            base_branch: Some("main".into()),
            url: None,
        })],
    ));
    let rows = feed.rows();
    assert_eq!(
        deployment_row(&rows, "d2").hotfix,
        Some(HotfixReason::Change)
    );
    assert_eq!(deployment_row(&rows, "d1").hotfix, None);
    let fix = change_row(&rows, SLUG, "fix");
    assert_eq!((fix.number, fix.hotfix), (Some(17), true));
    // The commit's own date stays the lead time's start.
    assert_eq!(fix.committed_at, T0 + 2 * HOUR);
    let org = feed.attribution.org().clone();
    let facts = feed.ledger.facts(&org, "production");
    assert_eq!(facts.deployments.iter().filter(|d| d.hotfix).count(), 1);
}

#[test]
fn a_merge_known_before_its_commit_takes_the_commit_date_later() {
    let mut feed = Feed::new(LedgerConfig::default());
    let merge = delivery(
        Source::Github,
        "merge",
        vec![Event::ChangeMerged(ChangeMerged {
            subject: repo(SLUG),
            id: "3".into(),
            number: Some(3),
            title: None,
            merge_sha: Some(sha("c1")),
            merged_at: T0 + HOUR,
            created_at: None,
            labels: vec![],
            head_branch: None,
            base_branch: None,
            url: None,
        })],
    );
    feed.apply(&merge);
    let rows = feed.rows();
    let c1 = change_row(&rows, SLUG, "c1");
    assert_eq!(
        (c1.source, c1.committed_at),
        (ChangeSource::Merge, T0 + HOUR)
    );
    feed.apply(&push(SLUG, "p1", "", &[("c1", T0)], false));
    let rows = feed.rows();
    let c1 = change_row(&rows, SLUG, "c1");
    assert_eq!(
        (c1.source, c1.committed_at, c1.merged_at),
        (ChangeSource::Push, T0, Some(T0 + HOUR))
    );
}

#[test]
fn each_environment_has_its_own_first_deployment() {
    let mut feed = Feed::new(LedgerConfig {
        production_environments: vec!["production".into(), "staging".into()],
        ..LedgerConfig::default()
    });
    feed.apply(&push(SLUG, "p1", "", &[("c1", T0)], false));
    let mut staging = Deploy::new(SLUG, "s1", "c1", DeploymentStatus::Succeeded, T0 + HOUR);
    staging.environment = "staging";
    feed.apply(&staging.delivery("s"));
    feed.apply_all(&deployed(SLUG, "d1", "c1", T0 + 2 * HOUR));
    let rows = feed.rows();
    let c1 = change_row(&rows, SLUG, "c1");
    let envs: Vec<(&str, u64)> = c1
        .shipped
        .iter()
        .map(|s| (s.environment.as_str(), s.deployment))
        .collect();
    assert_eq!(
        envs,
        [
            ("production", deployment_row(&rows, "d1").id),
            ("staging", deployment_row(&rows, "s1").id)
        ]
    );
    let org = feed.attribution.org().clone();
    for (env, finished) in [("production", T0 + 2 * HOUR), ("staging", T0 + HOUR)] {
        let facts = feed.ledger.facts(&org, env);
        let change = facts.changes.iter().find(|c| c.committed_at == T0).unwrap();
        let d = change.deployment.unwrap();
        assert_eq!(
            facts.deployments[d as usize].finished_at,
            Some(finished),
            "{env}"
        );
    }
}

#[test]
fn deployments_with_no_sha_or_repository_say_why() {
    let mut feed = Feed::new(LedgerConfig::default());
    let mut no_sha = Deploy::new(SLUG, "n", "c1", DeploymentStatus::Succeeded, T0);
    no_sha.sha = None;
    feed.apply(&no_sha.delivery("a"));
    let argo = delivery(
        Source::Argocd,
        "argo",
        vec![Event::Deployment(pave_events::Deployment {
            subject: pave_events::Subject::ArgoApp {
                name: "unknown-app".into(),
                repo_url: None,
            },
            source_id: "argocd/unknown-app/1".into(),
            environment: "production".into(),
            sha: Some(sha("c1")),
            version: None,
            status: DeploymentStatus::Succeeded,
            at: T0,
            started_at: Some(T0 - MINUTE),
            finished_at: Some(T0),
            rollback: false,
            labels: vec![],
            git_ref: None,
            production: None,
            url: None,
        })],
    );
    feed.apply(&argo);
    let rows = feed.rows();
    let reason = |id: &str| {
        deployment_row(&rows, id)
            .changeset
            .as_ref()
            .unwrap()
            .reason
            .clone()
    };
    assert_eq!(reason("n"), Some(ChangesetReason::NoSha));
    assert_eq!(
        reason("argocd/unknown-app/1"),
        Some(ChangesetReason::NoRepository)
    );
}

#[test]
fn a_deployment_that_turns_out_failed_hands_its_changes_to_the_next() {
    // d1 succeeded, then a later update says it failed (GitHub allows a new status); d2
    // then shipped what d1 had. Whatever the order of d1's two final updates and d2.
    let late_failure = Deploy::new(
        SLUG,
        "d1",
        "c2",
        DeploymentStatus::Failed,
        T0 + 2 * HOUR + 5 * MINUTE,
    )
    .delivery("d1/late-failure");
    let base = vec![push(
        SLUG,
        "p1",
        "",
        &[("c1", T0), ("c2", T0 + HOUR), ("c3", T0 + 90 * MINUTE)],
        false,
    )];
    let mut d1 = deployed(SLUG, "d1", "c2", T0 + 2 * HOUR);
    let d2 = deployed(SLUG, "d2", "c3", T0 + 3 * HOUR);
    let mut orders = Vec::new();
    let mut a = base.clone();
    a.extend(d1.clone());
    a.extend(d2.clone());
    a.push(late_failure.clone());
    orders.push(a);
    let mut b = base.clone();
    b.push(late_failure.clone());
    b.extend(d2.clone());
    d1.reverse();
    b.extend(d1);
    orders.push(b);
    let mut results = Vec::new();
    for deliveries in orders {
        let mut feed = Feed::new(LedgerConfig::default());
        feed.apply_all(&deliveries);
        let rows = feed.rows();
        let d1 = deployment_row(&rows, "d1");
        let d2 = deployment_row(&rows, "d2");
        assert_eq!(d1.status, DeploymentStatus::Failed);
        assert_eq!(d1.changeset, None, "a failed deployment ships nothing");
        assert_eq!(
            shipped_names(&rows, d2.id, &["c1", "c2", "c3"]),
            ["c1", "c2", "c3"]
        );
        results.push(without_seqs(rows));
    }
    assert_eq!(results[0], results[1]);
}

#[test]
fn entities_sharing_a_repository_hand_changes_to_each_other() {
    // A monorepo deployed as two Argo CD applications: each change's first deployment is
    // the earliest of either, and goes back to the other when that one turns out failed.
    let entities = vec![
        component(
            "api",
            "team-a",
            "storefront",
            serde_json::json!({
            "github.com/project-slug": "shop/mono", "argocd/app-name": "api"}),
        ),
        component(
            "web",
            "team-b",
            "storefront",
            serde_json::json!({
            "backstage.io/source-location": "url:https://github.com/shop/mono/tree/main/web",
            "argocd/app-name": "web"}),
        ),
    ];
    let argo = |app: &str, status: DeploymentStatus, at: i64, id: &str| {
        delivery(
            Source::Argocd,
            id,
            vec![Event::Deployment(pave_events::Deployment {
                subject: pave_events::Subject::ArgoApp {
                    name: app.into(),
                    repo_url: None,
                },
                source_id: format!("argocd/{app}/1"),
                environment: "production".into(),
                sha: Some(sha("c2")),
                version: None,
                status,
                at,
                started_at: Some(at - 2 * MINUTE),
                finished_at: status.is_final().then_some(at),
                rollback: false,
                labels: vec![],
                git_ref: None,
                production: None,
                url: None,
            })],
        )
    };
    let pushed = push(
        "shop/mono",
        "p",
        "",
        &[("c1", T0), ("c2", T0 + HOUR)],
        false,
    );
    let web = argo("web", DeploymentStatus::Succeeded, T0 + 3 * HOUR, "w");
    let api_ok = argo("api", DeploymentStatus::Succeeded, T0 + 2 * HOUR, "a1");
    let api_failed = argo(
        "api",
        DeploymentStatus::Failed,
        T0 + 2 * HOUR + MINUTE,
        "a2",
    );
    let run = |deliveries: &[&pave_events::Delivery]| {
        let mut feed = Feed::new(LedgerConfig::default());
        feed.attribution = pave_delivery::Attribution::from_entities(&entities);
        for d in deliveries {
            feed.apply(d);
        }
        feed.rows()
    };
    let slug = "shop/mono";
    let rows = run(&[&pushed, &web, &api_ok]);
    let api = deployment_row(&rows, "argocd/api/1").id;
    let web_id = deployment_row(&rows, "argocd/web/1").id;
    assert_eq!(
        shipped_by(&rows, slug, "c1"),
        Some(api),
        "the earlier deployment"
    );
    assert_eq!(shipped_by(&rows, slug, "c2"), Some(api));
    assert_eq!(
        deployment_row(&rows, "argocd/web/1")
            .changeset
            .as_ref()
            .unwrap()
            .commits,
        2
    );
    for order in [
        vec![&pushed, &web, &api_ok, &api_failed],
        vec![&api_failed, &pushed, &api_ok, &web],
        vec![&pushed, &api_ok, &api_failed, &web],
    ] {
        let rows = run(&order);
        assert_eq!(shipped_by(&rows, slug, "c1"), Some(web_id));
        assert_eq!(shipped_by(&rows, slug, "c2"), Some(web_id));
        assert_eq!(deployment_row(&rows, "argocd/api/1").changeset, None);
    }
}
