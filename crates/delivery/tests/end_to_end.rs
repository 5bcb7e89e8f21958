//! Real payloads through the whole path: `pave_events::read` → ledger → `pave_dora::report`.
//!
//! The GitHub part reads the conformance corpus (octokit/webhooks examples; skipped with a
//! note when it is missing, failing under `CI=true`): a push, a deployment and its
//! `deployment_status` of `Codertocat/Hello-World`. The corpus's deployment names a commit
//! its push does not carry, as real histories do; `git log` (here: one commit stated in the
//! test) fills it in, and the lead times are checked against times read from the payloads
//! by hand. The other part reads pave-events' own fixtures (GitLab, PagerDuty,
//! Alertmanager), which need no corpus.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use pave_delivery::{
    Attribution, AttributionConfig, ChangeSource, ChangesetReason, ExternalCommit, Ledger,
    LedgerConfig, SubjectMapping,
};
use pave_events::{DeploymentStatus, ReadOptions, Source, read};
use serde_json::{Value, json};

fn rfc3339(payload: &Value, pointer: &str) -> i64 {
    let text = payload.pointer(pointer).and_then(Value::as_str).unwrap();
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap()
        .timestamp_millis()
}

fn github(dir: &Path, event: &str, file: &str, delivery: &str) -> (pave_events::Delivery, Value) {
    let body = std::fs::read(dir.join(event).join(file)).unwrap();
    let headers = vec![
        ("X-GitHub-Event".to_owned(), event.to_owned()),
        ("X-GitHub-Delivery".to_owned(), delivery.to_owned()),
    ];
    let delivery = read(Source::Github, &headers, &body, &ReadOptions::default()).unwrap();
    (delivery, serde_json::from_slice(&body).unwrap())
}

#[test]
fn github_push_deployment_and_status_give_lead_times_checked_by_hand() {
    let Some(dir) = pave_testkit::corpus("github-webhooks", "push") else {
        return;
    };
    let (push, push_json) = github(&dir, "push", "with-new-branch.payload.json", "p-1");
    let (created, _) = github(&dir, "deployment", "payload.json", "d-1");
    let (status, status_json) = github(&dir, "deployment_status", "payload.json", "d-2");

    let catalog = vec![json!({
        "kind": "Component",
        "metadata": {"name": "hello-world", "annotations": {"github.com/project-slug": "Codertocat/Hello-World"}},
        "spec": {"owner": "octocats", "system": "greetings"},
    })];
    let attribution = Attribution::from_entities(&catalog);
    let mut ledger = Ledger::new(LedgerConfig::default()).unwrap();
    for (seq, delivery) in [&push, &created, &status].into_iter().enumerate() {
        let received_at = delivery.occurred_at.unwrap() + 1000;
        let applied = ledger.apply(seq as u64 + 1, received_at, delivery, &attribution);
        assert_eq!(applied.unattributed, 0, "{applied:?}");
    }

    let rows = ledger.rows();
    assert_eq!(
        rows.deployments.len(),
        1,
        "the deployment and its status are one row"
    );
    let deployment = &rows.deployments[0];
    let finished = rfc3339(&status_json, "/deployment_status/updated_at");
    let created_at = rfc3339(&status_json, "/deployment/created_at");
    let deployed_sha = status_json["deployment"]["sha"].as_str().unwrap();
    assert_eq!(deployment.status, DeploymentStatus::Succeeded);
    assert_eq!(deployment.finished_at, Some(finished));
    assert_eq!(deployment.queued_at, Some(created_at));
    assert_eq!(
        deployment.entity.as_deref(),
        Some("component:default/hello-world")
    );
    assert_eq!(deployment.sha.as_deref(), Some(deployed_sha));
    assert!(deployment.production, "environment `production`");
    // The push's only commit is not the deployed one.
    let pushed_sha = push_json["commits"][0]["id"].as_str().unwrap();
    assert_ne!(pushed_sha, deployed_sha);
    assert_eq!(
        deployment.changeset.as_ref().unwrap().reason,
        Some(ChangesetReason::UnknownSha)
    );

    // `git log` of the repository brings the deployed commit, a child of the pushed one.
    let deployed_commit_at = rfc3339(&push_json, "/commits/0/timestamp") + 35_000;
    let applied = ledger.add_commits(
        "github.com/codertocat/hello-world",
        &[ExternalCommit {
            sha: deployed_sha.to_owned(),
            parents: vec![pushed_sha.to_owned()],
            committed_at: deployed_commit_at,
        }],
    );
    assert!(!applied.rows.is_empty());
    let rows = ledger.rows();
    let changeset = rows.deployments[0].changeset.clone().unwrap();
    assert_eq!(changeset.commits, 2);
    assert!(matches!(
        changeset.reason,
        Some(ChangesetReason::FirstDeployment { .. })
    ));
    let pushed = rows.changes.iter().find(|c| c.sha == pushed_sha).unwrap();
    assert_eq!(pushed.source, ChangeSource::Push);
    assert_eq!(
        pushed.committed_at,
        rfc3339(&push_json, "/commits/0/timestamp")
    );
    assert_eq!(pushed.shipped[0].deployment, rows.deployments[0].id);
    let fetched = rows.changes.iter().find(|c| c.sha == deployed_sha).unwrap();
    assert_eq!(fetched.source, ChangeSource::Git);

    // By hand: the deployment finished at 15:20:55Z; the pushed commit is from 15:19:25Z
    // (90 s), the fetched one 35 s later (55 s): median 72.5 s.
    let by_hand = [
        finished - pushed.committed_at,
        finished - deployed_commit_at,
    ];
    assert_eq!(by_hand, [90_000, 55_000]);
    let org = attribution.org().clone();
    let facts = ledger.facts(&org, "production");
    let index = pave_dora::Index::build(&org, &facts).unwrap();
    let env = index.environment("production").unwrap();
    let mut query = pave_dora::Query::new(finished - 86_400_000, finished + 86_400_000, env);
    query.group_by = pave_dora::GroupBy::Entity;
    let report = pave_dora::report(&index, &query).unwrap();
    let row = report
        .rows
        .iter()
        .find(|r| r.key == "component:default/hello-world")
        .unwrap();
    assert_eq!(row.metrics.deployments.counted, 1);
    assert_eq!(row.metrics.lead_time.changes, 2);
    assert_eq!(
        row.metrics.lead_time.median_ms,
        Some((by_hand[0] + by_hand[1]) as f64 / 2.0)
    );
    assert_eq!(
        row.metrics.lead_time.p90_ms,
        Some(55_000.0 + 0.9 * 35_000.0)
    );
}

fn events_fixture(relative: &str) -> Vec<u8> {
    let path: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../events/tests/fixtures")
        .join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn gitlab_pagerduty_and_alertmanager_fixtures_are_attributed_or_listed() {
    let catalog = vec![
        json!({"kind": "Component", "metadata": {"name": "awesome", "annotations": {"gitlab.com/project-slug": "tomaszkolek0/my-awesome-project"}}, "spec": {"owner": "team"}}),
        json!({"kind": "Component", "metadata": {"name": "pager", "annotations": {"pagerduty.com/service-id": "PA2P440"}}, "spec": {"owner": "team"}}),
    ];
    let config = AttributionConfig {
        mappings: vec![SubjectMapping {
            subject: "labels:alertname=High CPU Temperature".into(),
            entity: "pager".into(),
        }],
        ..AttributionConfig::default()
    };
    let attribution = Attribution::with_config(&catalog, &config).unwrap();
    let gitlab = |event: &str, file: &str| {
        let headers = vec![("X-Gitlab-Event".to_owned(), event.to_owned())];
        read(
            Source::Gitlab,
            &headers,
            &events_fixture(file),
            &ReadOptions::default(),
        )
        .unwrap()
    };
    let plain = |source: Source, file: &str| {
        let headers: Vec<(String, String)> = vec![];
        read(
            source,
            &headers,
            &events_fixture(file),
            &ReadOptions::default(),
        )
        .unwrap()
    };
    let deliveries = [
        gitlab("Push Hook", "gitlab/push_hook.json"),
        gitlab("Deployment Hook", "gitlab/deployment_hook__succeeded.json"),
        plain(Source::Pagerduty, "pagerduty/incident.triggered.json"),
        plain(Source::Pagerduty, "pagerduty/incident.acknowledged.json"),
        plain(Source::Pagerduty, "pagerduty/incident.resolved.json"),
        plain(Source::Alertmanager, "alertmanager/firing.json"),
        plain(Source::Alertmanager, "alertmanager/resolved.json"),
    ];
    let mut ledger = Ledger::new(LedgerConfig::default()).unwrap();
    for (seq, delivery) in deliveries.iter().enumerate() {
        ledger.apply(
            seq as u64 + 1,
            delivery.occurred_at.unwrap_or(0) + 1000,
            delivery,
            &attribution,
        );
    }
    let rows = ledger.rows();
    // The push is to a branch that is not the default one: commits, no changes.
    let push: Value = serde_json::from_slice(&events_fixture("gitlab/push_hook.json")).unwrap();
    assert_eq!(
        rows.commits.len(),
        push["commits"].as_array().unwrap().len()
    );
    assert!(rows.changes.is_empty());
    assert!(
        rows.commits
            .iter()
            .all(|c| c.repo == "gitlab.com/tomaszkolek0/my-awesome-project")
    );
    // The deployment's project is in no catalog: kept, unattributed, listed.
    assert_eq!(rows.deployments.len(), 1);
    assert_eq!(rows.deployments[0].entity, None);
    assert_eq!(
        ledger.unattributed()[0].0,
        "repo:gitlab.com/vedant8600317/test"
    );
    // Three PagerDuty incidents of the annotated service.
    assert_eq!(rows.incidents.len(), 3);
    assert!(
        rows.incidents
            .iter()
            .all(|i| i.entity.as_deref() == Some("component:default/pager"))
    );
    // Two alerts fired; one of them resolved (Alertmanager's zero `endsAt`: resolved when
    // received).
    assert_eq!(rows.alerts.len(), 2);
    let resolved: Vec<_> = rows.alerts.iter().filter(|a| a.ends_at.is_some()).collect();
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0].fingerprint, "a1bc48475b20e73d");
    assert!(
        rows.alerts
            .iter()
            .all(|a| a.entity.as_deref() == Some("component:default/pager"))
    );
}
