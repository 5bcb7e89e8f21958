//! GitLab, PagerDuty, Opsgenie, Alertmanager, Flux and Argo CD fixtures (see
//! `tests/fixtures/NOTICE`): authenticated as their senders do it, read, and every mapped
//! field checked against the payload.

// Test helpers outside #[test] functions panic on bad fixtures on purpose.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use pave_events::{
    AlertStatus, DeploymentStatus, Event, IncidentStatus, PipelineStatus, ReadOptions, Secrets,
    Source, Subject, authenticate, read,
};
use serde_json::Value;

/// GitLab's headers; `idempotency_key` as GitLab 17.4+ sends it (older ones send none).
/// `X-Gitlab-Event-UUID` is always there, and never the key (see `pave_events::gitlab`).
fn gitlab_headers(event: &str, idempotency_key: Option<&str>) -> Vec<(String, String)> {
    let mut headers = vec![
        ("X-Gitlab-Event".to_owned(), event.to_owned()),
        (
            "X-Gitlab-Token".to_owned(),
            String::from_utf8(SECRET.to_vec()).unwrap(),
        ),
        (
            "X-Gitlab-Event-UUID".to_owned(),
            "13792a34-cac6-4fda-95a8-c58e00a3954e".to_owned(),
        ),
    ];
    if let Some(key) = idempotency_key {
        headers.push(("Idempotency-Key".to_owned(), key.to_owned()));
    }
    headers
}

fn gitlab_subject(payload: &Value) -> Subject {
    Subject::Repository {
        host: url_host(&text(payload, "/project/web_url")),
        slug: text(payload, "/project/path_with_namespace"),
        url: text(payload, "/project/web_url"),
    }
}

#[test]
fn gitlab_deliveries_authenticate_with_their_token() {
    let secrets = Secrets::new().with(Source::Gitlab, SECRET, None).unwrap();
    for file in json_files(&fixtures().join("gitlab")) {
        let body = std::fs::read(&file).unwrap();
        let auth = authenticate(
            Source::Gitlab,
            &gitlab_headers("Push Hook", None),
            &body,
            &secrets,
        );
        assert!(auth.is_ok(), "{}: {auth:?}", file.display());
    }
}

#[test]
fn gitlab_pushes_convert_offsets_and_flag_truncation() {
    for (file, truncated) in [("gitlab/push_hook.json", false), ("gitlab/push.json", true)] {
        let body = fixture(file);
        let payload = json(&body);
        let delivery = read_ok(
            Source::Gitlab,
            &gitlab_headers("Push Hook", Some("u-1")),
            &body,
        );
        assert_eq!(delivery.id, "u-1");
        assert_eq!(delivery.kind, "Push Hook");
        let Event::Push(push) = only_event(&delivery) else {
            panic!("{delivery:#?}")
        };
        assert_eq!(push.subject, gitlab_subject(&payload));
        assert_eq!(
            push.branch,
            text(&payload, "/ref").trim_start_matches("refs/heads/")
        );
        assert_eq!(push.after, text(&payload, "/after"));
        assert_eq!(
            push.total_commits,
            Some(number(&payload, "/total_commits_count"))
        );
        assert_eq!(push.truncated, truncated, "{file}");
        assert_eq!(
            push.default_branch,
            opt_text(&payload, "/project/default_branch")
        );
        let commits = at(&payload, "/commits").as_array().unwrap();
        assert_eq!(push.commits.len(), commits.len());
        for (index, commit) in push.commits.iter().enumerate() {
            assert_eq!(commit.sha, text(&payload, &format!("/commits/{index}/id")));
            // `+02:00` offsets: the UTC instant, not the wall-clock time.
            let when = rfc3339(&payload, &format!("/commits/{index}/timestamp"));
            assert_eq!(commit.committed_at, Some(when));
            assert_eq!(
                commit.author,
                opt_text(&payload, &format!("/commits/{index}/author/name"))
            );
        }
    }
    // 2016-08-17T21:17:54+02:00 is 19:17:54 UTC.
    let delivery = read_ok(
        Source::Gitlab,
        &gitlab_headers("Push Hook", None),
        &fixture("gitlab/push_hook.json"),
    );
    let Event::Push(push) = &delivery.events[0] else {
        unreachable!()
    };
    assert_eq!(push.commits[0].committed_at, Some(1_471_461_474_000));
    // Without Idempotency-Key (GitLab before 17.4) the key is the body's SHA-256, whatever
    // X-Gitlab-Event-UUID says: two events that share it (a recursive webhook recycles it) are
    // two deliveries.
    assert_eq!(
        delivery.id,
        pave_events::body_key(&fixture("gitlab/push_hook.json"))
    );
    let other = read_ok(
        Source::Gitlab,
        &gitlab_headers("Push Hook", None),
        &fixture("gitlab/push.json"),
    );
    assert_ne!(other.id, delivery.id);
}

#[test]
fn gitlab_deployments_use_the_full_sha_and_utc() {
    for (file, status) in [
        ("gitlab/deployment.json", DeploymentStatus::Succeeded),
        (
            "gitlab/deployment_hook__succeeded.json",
            DeploymentStatus::Succeeded,
        ),
        (
            "gitlab/deployment_hook__failed.json",
            DeploymentStatus::Failed,
        ),
    ] {
        let body = fixture(file);
        let payload = json(&body);
        let delivery = read_ok(
            Source::Gitlab,
            &gitlab_headers("Deployment Hook", Some("d")),
            &body,
        );
        let Event::Deployment(deployment) = only_event(&delivery) else {
            panic!("{delivery:#?}")
        };
        assert_eq!(deployment.status, status, "{file}");
        assert_eq!(deployment.subject, gitlab_subject(&payload));
        assert_eq!(
            deployment.source_id,
            number(&payload, "/deployment_id").to_string()
        );
        assert_eq!(deployment.environment, text(&payload, "/environment"));
        let commit_url = text(&payload, "/commit_url");
        let full_sha = commit_url.rsplit('/').next().unwrap();
        assert!(full_sha.starts_with(&text(&payload, "/short_sha")));
        assert_eq!(deployment.sha.as_deref(), Some(full_sha));
        assert_eq!(deployment.at, gitlab_time(&payload, "/status_changed_at"));
        assert_eq!(deployment.finished_at, Some(deployment.at));
        assert_eq!(deployment.git_ref, opt_text(&payload, "/ref"));
        assert_eq!(
            deployment.production,
            opt_text(&payload, "/environment_tier").map(|tier| tier == "production")
        );
    }
    // `2021-04-28 21:50:00 +0200` is 19:50 UTC (Four Keys dropped the offset).
    let delivery = read_ok(
        Source::Gitlab,
        &gitlab_headers("Deployment Hook", None),
        &fixture("gitlab/deployment.json"),
    );
    assert_eq!(delivery.occurred_at, Some(1_619_639_400_000));
    // A self-hosted instance is its own host, port included.
    let Event::Deployment(deployment) = &delivery.events[0] else {
        unreachable!()
    };
    assert!(
        matches!(&deployment.subject, Subject::Repository { host, .. } if host == "10.126.0.2:3000")
    );
}

#[test]
fn gitlab_merge_requests_are_changes_only_when_merged() {
    let body = fixture("gitlab/merge_request.json");
    let delivery = read_ok(
        Source::Gitlab,
        &gitlab_headers("Merge Request Hook", None),
        &body,
    );
    assert!(delivery.events.is_empty());
    assert!(delivery.ignored.unwrap().contains("only merges"));

    // GitLab sends the same payload with action `merge` when the merge request is merged.
    let mut payload = json(&body);
    payload["object_attributes"]["action"] = Value::String("merge".into());
    payload["object_attributes"]["state"] = Value::String("merged".into());
    payload["object_attributes"]["merge_commit_sha"] =
        Value::String("da1560886d4f094c3e6c9ef40349f7d38b5d27d7".into());
    payload["object_attributes"]["updated_at"] = Value::String("2013-12-03 19:23:34 +0200".into());
    let body = serde_json::to_vec(&payload).unwrap();
    let delivery = read_ok(
        Source::Gitlab,
        &gitlab_headers("Merge Request Hook", None),
        &body,
    );
    let Event::ChangeMerged(change) = only_event(&delivery) else {
        panic!("{delivery:#?}")
    };
    assert_eq!(change.subject, gitlab_subject(&payload));
    assert_eq!(
        change.number,
        Some(number(&payload, "/object_attributes/iid"))
    );
    assert_eq!(
        change.merge_sha,
        opt_text(&payload, "/object_attributes/merge_commit_sha")
    );
    assert_eq!(
        change.merged_at,
        gitlab_time(&payload, "/object_attributes/updated_at")
    );
    assert_eq!(
        change.created_at,
        Some(rfc3339(&payload, "/object_attributes/created_at"))
    );
    assert_eq!(
        change.head_branch,
        opt_text(&payload, "/object_attributes/source_branch")
    );
    assert_eq!(
        change.base_branch,
        opt_text(&payload, "/object_attributes/target_branch")
    );
    assert_eq!(
        change.labels,
        vec![text(&payload, "/object_attributes/labels/0/title")]
    );
}

#[test]
fn gitlab_pipelines_are_read_when_finished() {
    let body = fixture("gitlab/pipeline.json");
    let payload = json(&body);
    let delivery = read_ok(
        Source::Gitlab,
        &gitlab_headers("Pipeline Hook", None),
        &body,
    );
    let Event::Pipeline(pipeline) = only_event(&delivery) else {
        panic!("{delivery:#?}")
    };
    assert_eq!(pipeline.status, PipelineStatus::Succeeded);
    assert_eq!(
        pipeline.id,
        number(&payload, "/object_attributes/id").to_string()
    );
    assert_eq!(pipeline.sha, opt_text(&payload, "/object_attributes/sha"));
    assert_eq!(
        pipeline.branch,
        opt_text(&payload, "/object_attributes/ref")
    );
    let finished = gitlab_time(&payload, "/object_attributes/finished_at");
    assert_eq!(pipeline.finished_at, Some(finished));
    let duration = number(&payload, "/object_attributes/duration") as i64;
    assert_eq!(pipeline.started_at, Some(finished - duration * 1000));

    let mut running = payload.clone();
    running["object_attributes"]["status"] = Value::String("running".into());
    let body = serde_json::to_vec(&running).unwrap();
    let delivery = read_ok(
        Source::Gitlab,
        &gitlab_headers("Pipeline Hook", None),
        &body,
    );
    assert!(delivery.events.is_empty() && delivery.ignored.unwrap().contains("running"));
}

#[test]
fn gitlab_incidents_are_native_or_labelled() {
    // A GitLab incident (`type: Incident`) closed.
    let body = fixture("gitlab/issue_hook__incident_closed.json");
    let payload = json(&body);
    let delivery = read_ok(Source::Gitlab, &gitlab_headers("Issue Hook", None), &body);
    let Event::Incident(incident) = only_event(&delivery) else {
        panic!("{delivery:#?}")
    };
    assert_eq!(incident.status, IncidentStatus::Resolved);
    assert_eq!(
        incident.at,
        rfc3339(&payload, "/object_attributes/closed_at")
    );
    assert_eq!(
        incident.opened_at,
        Some(rfc3339(&payload, "/object_attributes/created_at"))
    );
    assert_eq!(
        incident.id,
        format!(
            "{}#{}",
            text(&payload, "/project/path_with_namespace"),
            number(&payload, "/object_attributes/iid")
        )
    );
    // Severity `unknown` names no level.
    assert_eq!(incident.severity, None);

    // An ordinary issue is an incident only with the configured label.
    let body = fixture("gitlab/issue.json");
    let payload = json(&body);
    let delivery = read_ok(Source::Gitlab, &gitlab_headers("Issue Hook", None), &body);
    assert!(delivery.events.is_empty() && delivery.ignored.is_some());
    let options = ReadOptions {
        incident_label: "api".into(),
    };
    let delivery = read(
        Source::Gitlab,
        &gitlab_headers("Issue Hook", None),
        &body,
        &options,
    )
    .unwrap();
    let Event::Incident(incident) = only_event(&delivery) else {
        panic!("{delivery:#?}")
    };
    assert_eq!(incident.status, IncidentStatus::Opened);
    assert_eq!(
        incident.at,
        rfc3339(&payload, "/object_attributes/created_at")
    );
    assert_eq!(
        incident.title,
        opt_text(&payload, "/object_attributes/title")
    );
    // GitLab's `severity: high`.
    assert_eq!(
        incident.severity.as_ref().map(|severity| severity.level),
        Some(2)
    );
}

fn pagerduty_headers(body: &[u8], secrets: &[&[u8]]) -> Vec<(String, String)> {
    let signatures: Vec<String> = secrets
        .iter()
        .map(|secret| format!("v1={}", sign(secret, body)))
        .collect();
    vec![("X-PagerDuty-Signature".to_owned(), signatures.join(","))]
}

#[test]
fn pagerduty_v3_incidents_follow_their_lifecycle() {
    let secrets = Secrets::new()
        .with(Source::Pagerduty, SECRET, None)
        .unwrap();
    for (name, status) in [
        ("triggered", IncidentStatus::Opened),
        ("acknowledged", IncidentStatus::Acknowledged),
        ("resolved", IncidentStatus::Resolved),
        ("reopened", IncidentStatus::Reopened),
    ] {
        let body = fixture(&format!("pagerduty/incident.{name}.json"));
        let payload = json(&body);
        let headers = pagerduty_headers(&body, &[SECRET]);
        authenticate(Source::Pagerduty, &headers, &body, &secrets).unwrap();
        let delivery = read_ok(Source::Pagerduty, &headers, &body);
        assert_eq!(delivery.id, text(&payload, "/event/id"));
        assert_eq!(delivery.kind, text(&payload, "/event/event_type"));
        let Event::Incident(incident) = only_event(&delivery) else {
            panic!("{delivery:#?}")
        };
        assert_eq!(incident.status, status);
        assert_eq!(incident.id, text(&payload, "/event/data/id"));
        assert_eq!(
            incident.number,
            Some(number(&payload, "/event/data/number"))
        );
        assert_eq!(incident.at, rfc3339(&payload, "/event/occurred_at"));
        assert_eq!(incident.url, opt_text(&payload, "/event/data/html_url"));
        assert_eq!(
            incident.subject,
            Subject::PagerDutyService {
                id: text(&payload, "/event/data/service/id"),
                name: opt_text(&payload, "/event/data/service/summary"),
            }
        );
        assert_eq!(
            incident.opened_at,
            payload
                .pointer("/event/data/created_at")
                .map(|_| rfc3339(&payload, "/event/data/created_at"))
        );
        // Priority `P3` when set, else urgency.
        let expected_level = match opt_text(&payload, "/event/data/priority/summary") {
            Some(priority) => priority[1..].parse::<u8>().unwrap(),
            None if text(&payload, "/event/data/urgency") == "high" => 2,
            None => 4,
        };
        assert_eq!(
            incident.severity.as_ref().map(|severity| severity.level),
            Some(expected_level)
        );
    }
}

#[test]
fn opsgenie_actions_become_incident_states_with_normalised_epochs() {
    let secrets = Secrets::new().with(Source::Opsgenie, SECRET, None).unwrap();
    let headers = vec![(
        "X-Pave-Secret".to_owned(),
        String::from_utf8(SECRET.to_vec()).unwrap(),
    )];
    for (action, status) in [
        ("Create", IncidentStatus::Opened),
        ("Acknowledge", IncidentStatus::Acknowledged),
        ("Close", IncidentStatus::Resolved),
    ] {
        let body = fixture(&format!("opsgenie/{action}.json"));
        let payload = json(&body);
        authenticate(Source::Opsgenie, &headers, &body, &secrets).unwrap();
        let delivery = read_ok(Source::Opsgenie, &headers, &body);
        assert_eq!(delivery.id, pave_events::body_key(&body));
        assert_eq!(delivery.kind, action);
        let Event::Incident(incident) = only_event(&delivery) else {
            panic!("{delivery:#?}")
        };
        assert_eq!(incident.status, status);
        assert_eq!(incident.id, text(&payload, "/alert/alertId"));
        assert_eq!(incident.title, opt_text(&payload, "/alert/message"));
        assert_eq!(
            incident.number,
            Some(text(&payload, "/alert/tinyId").parse().unwrap())
        );
        // createdAt is in milliseconds, updatedAt in nanoseconds.
        let created_ms = number(&payload, "/alert/createdAt") as i64;
        let updated_ns = number(&payload, "/alert/updatedAt") as i64;
        assert_eq!(incident.opened_at, Some(created_ms));
        let expected_at = if status == IncidentStatus::Opened {
            created_ms
        } else {
            updated_ns / 1_000_000
        };
        assert_eq!(incident.at, expected_at);
        let entity = opt_text(&payload, "/alert/entity").filter(|entity| !entity.is_empty());
        assert_eq!(
            incident.subject,
            Subject::Opsgenie {
                teams: vec![],
                entity,
                tags: payload["alert"]["tags"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t.as_str().unwrap().to_owned())
                    .collect(),
                details: Default::default(),
            }
        );
    }
    // Create's numeric priority 3.
    let delivery = read_ok(Source::Opsgenie, &headers, &fixture("opsgenie/Create.json"));
    let Event::Incident(incident) = &delivery.events[0] else {
        unreachable!()
    };
    assert_eq!(
        incident.severity.as_ref().map(|severity| severity.level),
        Some(3)
    );
}

#[test]
fn alertmanager_groups_become_one_alert_each() {
    let secrets = Secrets::new()
        .with(Source::Alertmanager, SECRET, None)
        .unwrap();
    let headers = vec![(
        "Authorization".to_owned(),
        format!("Bearer {}", String::from_utf8(SECRET.to_vec()).unwrap()),
    )];
    for (file, status) in [
        ("alertmanager/firing.json", AlertStatus::Firing),
        ("alertmanager/resolved.json", AlertStatus::Resolved),
    ] {
        let body = fixture(file);
        let payload = json(&body);
        authenticate(Source::Alertmanager, &headers, &body, &secrets).unwrap();
        let delivery = read_ok(Source::Alertmanager, &headers, &body);
        assert_eq!(delivery.kind, text(&payload, "/status"));
        let alerts = at(&payload, "/alerts").as_array().unwrap();
        assert_eq!(delivery.events.len(), alerts.len());
        for (index, event) in delivery.events.iter().enumerate() {
            let Event::Alert(alert) = event else {
                panic!("{event:#?}")
            };
            let base = format!("/alerts/{index}");
            assert_eq!(alert.status, status);
            assert_eq!(
                alert.fingerprint,
                text(&payload, &format!("{base}/fingerprint"))
            );
            assert_eq!(
                alert.name,
                opt_text(&payload, &format!("{base}/labels/alertname"))
            );
            assert_eq!(
                alert.severity,
                opt_text(&payload, &format!("{base}/labels/severity"))
            );
            assert_eq!(
                alert.starts_at,
                rfc3339(&payload, &format!("{base}/startsAt"))
            );
            let labels: std::collections::BTreeMap<String, String> =
                serde_json::from_value(at(&payload, &format!("{base}/labels")).clone()).unwrap();
            assert_eq!(alert.subject, Subject::Labels(labels));
            // Go's zero time is no end.
            assert_eq!(alert.ends_at, None);
        }
    }
}

#[test]
fn flux_events_are_deployments_by_kind_and_reason() {
    let secrets = Secrets::new().with(Source::Flux, SECRET, None).unwrap();
    let body = fixture("flux/kustomization-validation-failed.json");
    let payload = json(&body);
    let headers = vec![(
        "X-Signature".to_owned(),
        format!("sha256={}", sign(SECRET, &body)),
    )];
    authenticate(Source::Flux, &headers, &body, &secrets).unwrap();
    let delivery = read_ok(Source::Flux, &headers, &body);
    let Event::Deployment(deployment) = only_event(&delivery) else {
        panic!("{delivery:#?}")
    };
    assert_eq!(deployment.status, DeploymentStatus::Failed);
    assert_eq!(
        deployment.subject,
        Subject::Flux {
            kind: text(&payload, "/involvedObject/kind"),
            namespace: text(&payload, "/involvedObject/namespace"),
            name: text(&payload, "/involvedObject/name"),
        }
    );
    let revision = text(&payload, "/metadata/kustomize.toolkit.fluxcd.io~1revision");
    assert_eq!(deployment.version.as_deref(), Some(revision.as_str()));
    assert_eq!(deployment.sha.as_deref(), revision.split('/').nth(1));
    assert_eq!(
        deployment.environment,
        text(&payload, "/involvedObject/namespace")
    );
    assert_eq!(deployment.at, rfc3339(&payload, "/timestamp"));

    // The same object succeeding, with the environment from the Alert's eventMetadata and a
    // Flux 2 revision.
    let mut succeeded = payload.clone();
    succeeded["severity"] = Value::String("info".into());
    succeeded["reason"] = Value::String("ReconciliationSucceeded".into());
    succeeded["metadata"] = serde_json::json!({
        "kustomize.toolkit.fluxcd.io/revision": "main@sha1:731f7eaddfb6af01cb2173e18f0f75b0ba780ef1",
        "env": "production"
    });
    let body = serde_json::to_vec(&succeeded).unwrap();
    let delivery = read_ok(Source::Flux, &headers, &body);
    let Event::Deployment(deployment) = only_event(&delivery) else {
        panic!("{delivery:#?}")
    };
    assert_eq!(deployment.status, DeploymentStatus::Succeeded);
    assert_eq!(deployment.environment, "production");
    assert_eq!(
        deployment.sha.as_deref(),
        Some("731f7eaddfb6af01cb2173e18f0f75b0ba780ef1")
    );

    // A HelmRelease rollback; a source event is ignored.
    let mut rollback = payload.clone();
    rollback["involvedObject"]["kind"] = Value::String("HelmRelease".into());
    rollback["reason"] = Value::String("RollbackSucceeded".into());
    let delivery = read_ok(
        Source::Flux,
        &headers,
        &serde_json::to_vec(&rollback).unwrap(),
    );
    let Event::Deployment(deployment) = only_event(&delivery) else {
        panic!("{delivery:#?}")
    };
    assert!(deployment.rollback && deployment.status == DeploymentStatus::RolledBack);
    let mut source = payload;
    source["involvedObject"]["kind"] = Value::String("GitRepository".into());
    source["reason"] = Value::String("NewArtifact".into());
    let delivery = read_ok(
        Source::Flux,
        &headers,
        &serde_json::to_vec(&source).unwrap(),
    );
    assert!(delivery.events.is_empty() && delivery.ignored.unwrap().contains("GitRepository"));
}

#[test]
fn argocd_template_bodies_are_deployments() {
    let secrets = Secrets::new().with(Source::Argocd, SECRET, None).unwrap();
    let headers = vec![(
        "X-Pave-Secret".to_owned(),
        String::from_utf8(SECRET.to_vec()).unwrap(),
    )];
    let body = fixture("argocd/deployed.json");
    let payload = json(&body);
    authenticate(Source::Argocd, &headers, &body, &secrets).unwrap();
    let delivery = read_ok(Source::Argocd, &headers, &body);
    assert_eq!(delivery.id, text(&payload, "/id"));
    let Event::Deployment(deployment) = only_event(&delivery) else {
        panic!("{delivery:#?}")
    };
    assert_eq!(deployment.status, DeploymentStatus::Succeeded);
    assert_eq!(
        deployment.subject,
        Subject::ArgoApp {
            name: text(&payload, "/app"),
            repo_url: opt_text(&payload, "/repoURL")
        }
    );
    assert_eq!(deployment.environment, text(&payload, "/environment"));
    // The annotated source commit wins over the GitOps repository's revision.
    assert_eq!(deployment.sha, opt_text(&payload, "/sourceSha"));
    assert_eq!(deployment.version, opt_text(&payload, "/revision"));
    assert_eq!(deployment.started_at, Some(rfc3339(&payload, "/startedAt")));
    assert_eq!(
        deployment.finished_at,
        Some(rfc3339(&payload, "/finishedAt"))
    );
    assert_eq!(deployment.at, rfc3339(&payload, "/finishedAt"));

    // The same sync while running: same deployment id, Started, no finish; missing template
    // fields print as `<no value>`.
    let mut running = payload.clone();
    running["phase"] = Value::String("Running".into());
    running["health"] = Value::String("Progressing".into());
    running["finishedAt"] = Value::String("<no value>".into());
    running["environment"] = Value::String("<no value>".into());
    running["sourceSha"] = Value::String("".into());
    running.as_object_mut().unwrap().remove("id");
    let body = serde_json::to_vec(&running).unwrap();
    let started = read_ok(Source::Argocd, &headers, &body);
    assert_eq!(started.id, pave_events::body_key(&body));
    let Event::Deployment(start) = only_event(&started) else {
        panic!("{started:#?}")
    };
    assert_eq!(start.status, DeploymentStatus::Started);
    assert_eq!(start.source_id, deployment.source_id);
    assert_eq!(start.finished_at, None);
    assert_eq!(start.at, rfc3339(&payload, "/startedAt"));
    // No environment label and no destination name: the destination namespace.
    assert_eq!(start.environment, text(&payload, "/destination/namespace"));
    assert_eq!(start.sha, opt_text(&payload, "/revision"));

    for (phase, health, status) in [
        ("Failed", "Healthy", DeploymentStatus::Failed),
        ("Succeeded", "Degraded", DeploymentStatus::Failed),
        ("Error", "Missing", DeploymentStatus::Failed),
    ] {
        let mut body = payload.clone();
        body["phase"] = Value::String(phase.into());
        body["health"] = Value::String(health.into());
        let delivery = read_ok(
            Source::Argocd,
            &headers,
            &serde_json::to_vec(&body).unwrap(),
        );
        let Event::Deployment(deployment) = only_event(&delivery) else {
            panic!("{delivery:#?}")
        };
        assert_eq!(deployment.status, status, "{phase}/{health}");
    }
}

/// Opsgenie's webhook lists team ids under `teams` and the teams' names among the
/// `responders`; with "Add Alert Details to Payload" the extra properties come as `details`.
#[test]
fn opsgenie_subjects_name_responder_teams_tags_and_details() {
    let mut payload = json(&fixture("opsgenie/Create.json"));
    let team_id = "a6da4929-aa71-41bc-ac30-ac7ae9519034";
    payload["alert"]["teams"] = serde_json::json!([team_id]);
    payload["alert"]["responders"] = serde_json::json!([
        {"id": "5e7ececc-df4a-40f1-9c6c-3598c90422b0", "type": "user", "name": "jane@example.com"},
        {"id": team_id, "type": "team", "name": "Tech"},
    ]);
    payload["alert"]["details"] =
        serde_json::json!({"service": "gdpr-deleter", "replicas": 3, "labels": {"a": "b"}});
    let body = serde_json::to_vec(&payload).unwrap();
    let delivery = read_ok(Source::Opsgenie, &Vec::<(String, String)>::new(), &body);
    let Event::Incident(incident) = only_event(&delivery) else {
        panic!("{delivery:#?}")
    };
    assert_eq!(
        incident.subject,
        Subject::Opsgenie {
            teams: vec!["Tech".to_owned(), team_id.to_owned()],
            entity: Some("Server".to_owned()),
            tags: vec!["vip".to_owned()],
            details: [("replicas", "3"), ("service", "gdpr-deleter")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        }
    );
}
