//! Every GitHub webhook example of the conformance corpus (`octokit/webhooks` payloads) is
//! authenticated and read; the events it maps are checked field by field against the payload.

// Test helpers outside #[test] functions panic on bad fixtures on purpose.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use pave_events::{
    DeploymentStatus, Event, IncidentStatus, PipelineStatus, ReadOptions, Secrets, Source, Subject,
    authenticate, read,
};
use serde_json::Value;

fn headers(event: &str, delivery: &str, body: &[u8]) -> Vec<(String, String)> {
    vec![
        ("X-GitHub-Event".into(), event.into()),
        ("X-GitHub-Delivery".into(), delivery.into()),
        (
            "X-Hub-Signature-256".into(),
            format!("sha256={}", sign(SECRET, body)),
        ),
        ("Content-Type".into(), "application/json".into()),
    ]
}

fn repository_subject(payload: &Value) -> Subject {
    Subject::Repository {
        host: url_host(&text(payload, "/repository/html_url")),
        slug: text(payload, "/repository/full_name"),
        url: text(payload, "/repository/html_url"),
    }
}

/// What the payload says should come out, checked against the delivery. Returns whether an
/// event was mapped.
fn check(
    event_name: &str,
    payload: &Value,
    delivery: &pave_events::Delivery,
    options: &ReadOptions,
) -> bool {
    let action = opt_text(payload, "/action").unwrap_or_default();
    match event_name {
        "push" => {
            let git_ref = text(payload, "/ref");
            let deleted = at(payload, "/deleted").as_bool() == Some(true);
            if !git_ref.starts_with("refs/heads/") || deleted {
                assert!(
                    delivery.events.is_empty() && delivery.ignored.is_some(),
                    "{delivery:#?}"
                );
                return false;
            }
            let Event::Push(push) = only_event(delivery) else {
                panic!("not a push: {delivery:#?}")
            };
            assert_eq!(push.subject, repository_subject(payload));
            assert_eq!(push.branch, git_ref.trim_start_matches("refs/heads/"));
            assert_eq!(push.before, text(payload, "/before"));
            assert_eq!(push.after, text(payload, "/after"));
            assert_eq!(
                push.default_branch,
                opt_text(payload, "/repository/default_branch")
            );
            // `pushed_at` is epoch seconds in push payloads.
            assert_eq!(
                push.pushed_at,
                Some(number(payload, "/repository/pushed_at") as i64 * 1000)
            );
            let commits = at(payload, "/commits").as_array().expect("commits");
            assert_eq!(push.commits.len(), commits.len());
            assert!(!push.truncated);
            for (index, commit) in push.commits.iter().enumerate() {
                let base = format!("/commits/{index}");
                assert_eq!(commit.sha, text(payload, &format!("{base}/id")));
                assert_eq!(
                    commit.committed_at,
                    Some(rfc3339(payload, &format!("{base}/timestamp")))
                );
                let message = text(payload, &format!("{base}/message"));
                assert_eq!(commit.message, message.lines().next().unwrap_or_default());
                assert_eq!(
                    commit.author,
                    opt_text(payload, &format!("{base}/author/name"))
                );
            }
            true
        }
        "pull_request" => {
            let merged = at(payload, "/pull_request/merged").as_bool() == Some(true);
            if action != "closed" || !merged {
                assert!(
                    delivery.events.is_empty() && delivery.ignored.is_some(),
                    "{delivery:#?}"
                );
                return false;
            }
            let Event::ChangeMerged(change) = only_event(delivery) else {
                panic!("{delivery:#?}")
            };
            assert_eq!(change.subject, repository_subject(payload));
            assert_eq!(change.number, Some(number(payload, "/pull_request/number")));
            assert_eq!(
                change.id,
                number(payload, "/pull_request/number").to_string()
            );
            assert_eq!(
                change.merged_at,
                rfc3339(payload, "/pull_request/merged_at")
            );
            assert_eq!(
                change.created_at,
                Some(rfc3339(payload, "/pull_request/created_at"))
            );
            assert_eq!(
                change.merge_sha,
                opt_text(payload, "/pull_request/merge_commit_sha")
            );
            assert_eq!(
                change.head_branch,
                opt_text(payload, "/pull_request/head/ref")
            );
            assert_eq!(
                change.base_branch,
                opt_text(payload, "/pull_request/base/ref")
            );
            let labels: Vec<String> = at(payload, "/pull_request/labels")
                .as_array()
                .expect("labels")
                .iter()
                .map(|label| text(label, "/name"))
                .collect();
            assert_eq!(change.labels, labels);
            true
        }
        "deployment" | "deployment_status" => {
            let (status, at_pointer, environment) = if event_name == "deployment" {
                (
                    Some(DeploymentStatus::Queued),
                    "/deployment/created_at",
                    "/deployment/environment",
                )
            } else {
                let status = match text(payload, "/deployment_status/state").as_str() {
                    "queued" | "pending" => Some(DeploymentStatus::Queued),
                    "in_progress" => Some(DeploymentStatus::Started),
                    "success" => Some(DeploymentStatus::Succeeded),
                    "failure" | "error" => Some(DeploymentStatus::Failed),
                    _ => None,
                };
                (
                    status,
                    "/deployment_status/updated_at",
                    "/deployment_status/environment",
                )
            };
            let Some(status) = status else {
                assert!(delivery.events.is_empty() && delivery.ignored.is_some());
                return false;
            };
            let Event::Deployment(deployment) = only_event(delivery) else {
                panic!("{delivery:#?}")
            };
            assert_eq!(deployment.subject, repository_subject(payload));
            assert_eq!(
                deployment.source_id,
                number(payload, "/deployment/id").to_string()
            );
            assert_eq!(deployment.environment, text(payload, environment));
            assert_eq!(deployment.sha, opt_text(payload, "/deployment/sha"));
            assert_eq!(deployment.git_ref, opt_text(payload, "/deployment/ref"));
            assert_eq!(deployment.labels, vec![text(payload, "/deployment/task")]);
            assert_eq!(
                deployment.production,
                payload
                    .pointer("/deployment/production_environment")
                    .and_then(Value::as_bool)
            );
            assert_eq!(deployment.status, status);
            assert_eq!(deployment.at, rfc3339(payload, at_pointer));
            assert_eq!(
                deployment.finished_at,
                status.is_final().then_some(deployment.at)
            );
            assert_eq!(delivery.occurred_at, Some(deployment.at));
            true
        }
        "workflow_run" => {
            if action != "completed" {
                assert!(delivery.events.is_empty() && delivery.ignored.is_some());
                return false;
            }
            let Event::Pipeline(pipeline) = only_event(delivery) else {
                panic!("{delivery:#?}")
            };
            let expected = match text(payload, "/workflow_run/conclusion").as_str() {
                "success" => PipelineStatus::Succeeded,
                "failure" => PipelineStatus::Failed,
                "cancelled" => PipelineStatus::Canceled,
                other => panic!("the corpus has a conclusion {other} this test does not know"),
            };
            assert_eq!(pipeline.status, expected);
            assert_eq!(pipeline.id, number(payload, "/workflow_run/id").to_string());
            assert_eq!(pipeline.sha, opt_text(payload, "/workflow_run/head_sha"));
            assert_eq!(
                pipeline.branch,
                opt_text(payload, "/workflow_run/head_branch")
            );
            assert_eq!(
                pipeline.started_at,
                Some(rfc3339(payload, "/workflow_run/run_started_at"))
            );
            assert_eq!(
                pipeline.finished_at,
                Some(rfc3339(payload, "/workflow_run/updated_at"))
            );
            let run_name = text(payload, "/workflow_run/name");
            let name = if run_name.is_empty() {
                text(payload, "/workflow/name")
            } else {
                run_name
            };
            assert_eq!(pipeline.name, name);
            true
        }
        "release" => {
            if action != "published" {
                assert!(delivery.events.is_empty() && delivery.ignored.is_some());
                return false;
            }
            let Event::Release(release) = only_event(delivery) else {
                panic!("{delivery:#?}")
            };
            assert_eq!(release.subject, repository_subject(payload));
            assert_eq!(release.tag, text(payload, "/release/tag_name"));
            assert_eq!(release.at, rfc3339(payload, "/release/published_at"));
            assert_eq!(
                release.target,
                opt_text(payload, "/release/target_commitish")
            );
            assert_eq!(
                release.prerelease,
                at(payload, "/release/prerelease")
                    .as_bool()
                    .unwrap_or(false)
            );
            true
        }
        "issues" => {
            let labels: Vec<String> = payload
                .pointer("/issue/labels")
                .and_then(Value::as_array)
                .map(|labels| labels.iter().map(|label| text(label, "/name")).collect())
                .unwrap_or_default();
            let labelled = labels
                .iter()
                .any(|label| label.eq_ignore_ascii_case(&options.incident_label));
            let added = opt_text(payload, "/label/name")
                .is_some_and(|label| label.eq_ignore_ascii_case(&options.incident_label));
            let status = match action.as_str() {
                _ if !labelled => None,
                "opened" => Some(IncidentStatus::Opened),
                "labeled" if added => Some(IncidentStatus::Opened),
                "closed" => Some(IncidentStatus::Resolved),
                "reopened" => Some(IncidentStatus::Reopened),
                _ => None,
            };
            let Some(status) = status else {
                assert!(
                    delivery.events.is_empty() && delivery.ignored.is_some(),
                    "{delivery:#?}"
                );
                return false;
            };
            let Event::Incident(incident) = only_event(delivery) else {
                panic!("{delivery:#?}")
            };
            assert_eq!(incident.status, status);
            assert_eq!(incident.subject, repository_subject(payload));
            assert_eq!(
                incident.id,
                format!(
                    "{}#{}",
                    text(payload, "/repository/full_name"),
                    number(payload, "/issue/number")
                )
            );
            assert_eq!(
                incident.opened_at,
                Some(rfc3339(payload, "/issue/created_at"))
            );
            let expected_at = match status {
                IncidentStatus::Opened if action == "opened" => {
                    rfc3339(payload, "/issue/created_at")
                }
                IncidentStatus::Resolved => rfc3339(payload, "/issue/closed_at"),
                _ => rfc3339(payload, "/issue/updated_at"),
            };
            assert_eq!(incident.at, expected_at);
            assert_eq!(incident.title, opt_text(payload, "/issue/title"));
            true
        }
        _ => {
            assert!(delivery.events.is_empty(), "{event_name}: {delivery:#?}");
            assert!(delivery.ignored.is_some());
            false
        }
    }
}

fn each_payload(mut visit: impl FnMut(&str, &str, &[u8])) -> usize {
    let Some(root) = corpus("github-webhooks") else {
        return 0;
    };
    let mut count = 0;
    let mut folders: Vec<_> = std::fs::read_dir(&root)
        .expect("corpus folder")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.is_dir())
        .collect();
    folders.sort();
    for folder in folders {
        let event = folder
            .file_name()
            .and_then(|name| name.to_str())
            .expect("folder name")
            .to_owned();
        for file in json_files(&folder) {
            let body = std::fs::read(&file).expect("payload");
            let name = file
                .file_name()
                .and_then(|name| name.to_str())
                .expect("file name");
            visit(&event, name, &body);
            count += 1;
        }
    }
    count
}

#[test]
fn every_github_example_is_authenticated_read_and_mapped() {
    let secrets = Secrets::new().with(Source::Github, SECRET, None).unwrap();
    let options = ReadOptions::default();
    let mut mapped = std::collections::BTreeMap::<String, usize>::new();
    let count = each_payload(|event, name, body| {
        let delivery_id = format!("{event}/{name}");
        let headers = headers(event, &delivery_id, body);
        authenticate(Source::Github, &headers, body, &secrets)
            .unwrap_or_else(|err| panic!("{event}/{name}: {err}"));
        let delivery = read(Source::Github, &headers, body, &options)
            .unwrap_or_else(|err| panic!("{event}/{name}: {err}"));
        assert_eq!(delivery.id, delivery_id);
        assert_eq!(delivery.kind, event);
        let payload = json(body);
        if check(event, &payload, &delivery, &options) {
            *mapped.entry(event.to_owned()).or_default() += 1;
        }
    });
    if count == 0 {
        return;
    }
    assert!(count >= 100, "only {count} payloads in the corpus");
    // Every event kind the corpus holds an applicable example of is mapped at least once.
    for event in [
        "push",
        "deployment",
        "deployment_status",
        "workflow_run",
        "release",
    ] {
        assert!(
            mapped.get(event).copied().unwrap_or(0) > 0,
            "{event} never mapped: {mapped:?}"
        );
    }
}

#[test]
fn issues_labelled_with_the_configured_label_are_incidents() {
    // None of the corpus issues carries `incident`; they carry `bug`, so configure that.
    let options = ReadOptions {
        incident_label: "BUG".to_owned(),
    };
    let mut statuses = std::collections::BTreeSet::new();
    each_payload(|event, name, body| {
        if event != "issues" {
            return;
        }
        let headers = headers(event, name, body);
        let delivery = read(Source::Github, &headers, body, &options)
            .unwrap_or_else(|err| panic!("{name}: {err}"));
        if check(event, &json(body), &delivery, &options) {
            let Event::Incident(incident) = &delivery.events[0] else {
                unreachable!()
            };
            statuses.insert(format!("{:?}", incident.status));
        }
    });
    if corpus("github-webhooks").is_some() {
        // The corpus has opened, labeled and reopened issues (no closed one).
        assert!(
            statuses.contains("Opened") && statuses.contains("Reopened"),
            "{statuses:?}"
        );
    }
}

#[test]
fn a_merged_pull_request_is_a_change() {
    // The corpus closes its pull requests without merging; GitHub sends the same payload
    // with `merged: true` and `merged_at` when a pull request is merged.
    let Some(root) = corpus("github-webhooks") else {
        return;
    };
    let mut payload = json(&std::fs::read(root.join("pull_request/closed.payload.json")).unwrap());
    payload["pull_request"]["merged"] = Value::Bool(true);
    payload["pull_request"]["merged_at"] = Value::String("2019-05-15T17:20:33+02:00".into());
    let body = serde_json::to_vec(&payload).unwrap();
    let headers = headers("pull_request", "merged", &body);
    let delivery = read_ok(Source::Github, &headers, &body);
    assert!(check(
        "pull_request",
        &payload,
        &delivery,
        &ReadOptions::default()
    ));
    let Event::ChangeMerged(change) = &delivery.events[0] else {
        unreachable!()
    };
    // 17:20:33+02:00 is 15:20:33 UTC.
    assert_eq!(change.merged_at, 1_557_933_633_000);
}
