//! CDEvents in CloudEvents envelopes: every conformance example of the corpus (v0.5.1) and the
//! v0.4.1 examples copied into the fixtures are accepted in structured and binary mode, and
//! are either mapped (fields checked against the event) or ignored by type.

// Test helpers outside #[test] functions panic on bad fixtures on purpose.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use pave_events::{
    DeploymentStatus, Event, IncidentStatus, PipelineStatus, ReadError, Secrets, Source, Subject,
    authenticate,
};
use serde_json::{Value, json};

fn structured(event: &Value) -> (Vec<(String, String)>, Vec<u8>) {
    let envelope = json!({
        "specversion": "1.0",
        "id": event["context"]["id"],
        "source": event["context"]["source"],
        "type": event["context"]["type"],
        "datacontenttype": "application/json",
        "data": event,
    });
    let headers = vec![
        (
            "Content-Type".to_owned(),
            "application/cloudevents+json; charset=utf-8".to_owned(),
        ),
        (
            "X-Pave-Secret".to_owned(),
            String::from_utf8(SECRET.to_vec()).unwrap(),
        ),
    ];
    (headers, serde_json::to_vec(&envelope).unwrap())
}

fn binary(event: &Value, body: &[u8]) -> (Vec<(String, String)>, Vec<u8>) {
    let attribute = |name: &str| event["context"][name].as_str().unwrap().to_owned();
    let headers = vec![
        ("ce-specversion".to_owned(), "1.0".to_owned()),
        ("ce-id".to_owned(), attribute("id")),
        ("Ce-Source".to_owned(), attribute("source")),
        ("ce-type".to_owned(), attribute("type")),
        ("ce-time".to_owned(), attribute("timestamp")),
        ("Content-Type".to_owned(), "application/json".to_owned()),
        (
            "Authorization".to_owned(),
            format!("Bearer {}", String::from_utf8(SECRET.to_vec()).unwrap()),
        ),
    ];
    (headers, body.to_vec())
}

/// Checks one delivery against the CDEvent it carries; returns whether it was mapped.
fn check(event: &Value, delivery: &pave_events::Delivery) -> bool {
    let ty = text(event, "/context/type");
    let source = text(event, "/context/source");
    let id = text(event, "/context/id");
    assert_eq!(delivery.id, format!("{source}#{id}"));
    assert_eq!(delivery.kind, ty);
    let timestamp = rfc3339(event, "/context/timestamp");
    assert_eq!(delivery.occurred_at, Some(timestamp));
    let parts: Vec<&str> = ty.trim_start_matches("dev.cdevents.").split('.').collect();
    let subject_source = opt_text(event, "/subject/source").unwrap_or_else(|| source.clone());
    let subject_id = text(event, "/subject/id");
    let own_subject = Subject::Cdevents {
        source: subject_source.clone(),
        id: subject_id.clone(),
    };
    match (parts[0], parts[1]) {
        ("change", "merged") => {
            let Event::ChangeMerged(change) = only_event(delivery) else {
                panic!("{delivery:#?}")
            };
            assert_eq!(change.id, subject_id);
            assert_eq!(change.merged_at, timestamp);
            let repo_url = text(event, "/subject/content/repository/source");
            assert_eq!(
                change.subject,
                Subject::Repository {
                    host: url_host(&repo_url),
                    slug: text(event, "/subject/content/repository/id"),
                    url: repo_url,
                }
            );
        }
        ("service", predicate @ ("deployed" | "upgraded" | "rolledback" | "removed")) => {
            let Event::Deployment(deployment) = only_event(delivery) else {
                panic!("{delivery:#?}")
            };
            let expected = match predicate {
                "rolledback" => DeploymentStatus::RolledBack,
                "removed" => DeploymentStatus::Removed,
                _ => DeploymentStatus::Succeeded,
            };
            assert_eq!(deployment.status, expected);
            assert_eq!(deployment.rollback, predicate == "rolledback");
            assert_eq!(deployment.subject, own_subject);
            assert_eq!(
                deployment.environment,
                text(event, "/subject/content/environment/id")
            );
            assert_eq!(
                deployment.version,
                opt_text(event, "/subject/content/artifactId")
            );
            assert_eq!(deployment.at, timestamp);
            assert_eq!(deployment.finished_at, Some(timestamp));
            assert_eq!(deployment.source_id, format!("{source}#{id}"));
        }
        ("pipelinerun", "finished") => {
            let Event::Pipeline(pipeline) = only_event(delivery) else {
                panic!("{delivery:#?}")
            };
            let expected = match text(event, "/subject/content/outcome").as_str() {
                "success" => PipelineStatus::Succeeded,
                "failure" | "error" => PipelineStatus::Failed,
                "cancel" => PipelineStatus::Canceled,
                other => panic!("outcome {other}"),
            };
            assert_eq!(pipeline.status, expected);
            assert_eq!(pipeline.id, subject_id);
            assert_eq!(pipeline.name, text(event, "/subject/content/pipelineName"));
            let url =
                opt_text(event, "/subject/content/uri").or(opt_text(event, "/subject/content/url"));
            assert!(url.is_some());
            assert_eq!(pipeline.url, url);
            assert_eq!(pipeline.finished_at, Some(timestamp));
        }
        ("artifact", "published") => {
            let Event::ArtifactPublished(artifact) = only_event(delivery) else {
                panic!("{delivery:#?}")
            };
            assert_eq!(artifact.id, subject_id);
            assert_eq!(artifact.subject, own_subject);
            assert_eq!(artifact.at, timestamp);
        }
        ("incident", predicate @ ("detected" | "reported" | "resolved")) => {
            let Event::Incident(incident) = only_event(delivery) else {
                panic!("{delivery:#?}")
            };
            let expected = if predicate == "resolved" {
                IncidentStatus::Resolved
            } else {
                IncidentStatus::Opened
            };
            assert_eq!(incident.status, expected);
            assert_eq!(incident.id, format!("{subject_source}#{subject_id}"));
            assert_eq!(
                incident.subject,
                Subject::Cdevents {
                    source: text(event, "/subject/content/service/source"),
                    id: text(event, "/subject/content/service/id"),
                }
            );
            assert_eq!(
                incident.environment,
                opt_text(event, "/subject/content/environment/id")
            );
            assert_eq!(
                incident.title,
                opt_text(event, "/subject/content/description")
            );
            assert_eq!(incident.url, opt_text(event, "/subject/content/ticketURI"));
            assert_eq!(
                incident
                    .severity
                    .as_ref()
                    .map(|severity| severity.raw.clone()),
                opt_text(event, "/customData/severity")
            );
            assert_eq!(incident.at, timestamp);
        }
        _ => {
            assert!(delivery.events.is_empty(), "{ty}: {delivery:#?}");
            let reason = delivery.ignored.as_deref().unwrap_or_default();
            assert!(
                reason.contains("not mapped") && reason.contains(&ty),
                "{reason}"
            );
            return false;
        }
    }
    true
}

/// Reads one CDEvent file both ways; the two deliveries must agree.
fn accept_both_modes(name: &str, body: &[u8]) -> bool {
    let secrets = Secrets::new().with(Source::Cdevents, SECRET, None).unwrap();
    let event = json(body);
    let (headers, envelope) = structured(&event);
    authenticate(Source::Cdevents, &headers, &envelope, &secrets).unwrap();
    let from_structured = read_ok(Source::Cdevents, &headers, &envelope);
    let (headers, data) = binary(&event, body);
    authenticate(Source::Cdevents, &headers, &data, &secrets).unwrap();
    let from_binary = read_ok(Source::Cdevents, &headers, &data);
    assert_eq!(
        from_structured, from_binary,
        "{name}: the two modes disagree"
    );
    check(&event, &from_structured)
}

#[test]
fn every_conformance_example_is_accepted_in_both_modes() {
    let Some(root) = corpus("cdevents") else {
        return;
    };
    let files = json_files(&root.join("conformance"));
    assert!(
        files.len() >= 40,
        "only {} conformance examples",
        files.len()
    );
    let mut mapped = 0;
    for file in &files {
        let body = std::fs::read(file).unwrap();
        if accept_both_modes(&file.display().to_string(), &body) {
            mapped += 1;
        }
    }
    // change.merged, service ×4, pipelinerun.finished, artifact.published, incident ×3.
    assert_eq!(mapped, 10, "mapped {mapped} of {}", files.len());
}

#[test]
fn the_v0_4_examples_are_accepted_in_both_modes() {
    let mut mapped = 0;
    let files = json_files(&fixtures().join("cdevents"));
    assert_eq!(files.len(), 11);
    for file in &files {
        let body = std::fs::read(file).unwrap();
        let event = json(&body);
        assert!(
            event["context"]["version"]
                .as_str()
                .unwrap()
                .starts_with("0.4")
        );
        if accept_both_modes(&file.display().to_string(), &body) {
            mapped += 1;
        }
    }
    assert_eq!(mapped, 10);
}

#[test]
fn a_bare_cdevent_is_read_with_its_context_as_envelope() {
    let body = fixture("cdevents/v0.4.1-service_deployed.json");
    let headers = [("Content-Type", "application/json")];
    let delivery = read_ok(Source::Cdevents, &headers, &body);
    assert!(check(&json(&body), &delivery));
}

#[test]
fn other_cloudevents_and_unsupported_spec_versions_are_ignored() {
    let headers = [
        ("ce-specversion", "1.0"),
        ("ce-id", "1"),
        ("ce-source", "/shop"),
        ("ce-type", "com.example.order.created"),
        ("content-type", "application/json"),
    ];
    let delivery = read_ok(Source::Cdevents, &headers, br#"{"order": 1}"#);
    assert!(delivery.events.is_empty());
    assert!(delivery.ignored.unwrap().contains("not a CDEvents type"));

    let mut event = json(&fixture("cdevents/v0.4.1-service_deployed.json"));
    event["context"]["version"] = Value::String("0.3.0".into());
    let (headers, body) = structured(&event);
    let delivery = read_ok(Source::Cdevents, &headers, &body);
    assert!(delivery.events.is_empty());
    assert!(
        delivery.ignored.unwrap().contains("0.3.0"),
        "the reason names the version"
    );
}

#[test]
fn envelope_and_data_mistakes_are_errors_with_their_place() {
    let event = json(&fixture("cdevents/v0.4.1-service_deployed.json"));
    // Binary mode without ce-id.
    let (headers, body) = binary(&event, &fixture("cdevents/v0.4.1-service_deployed.json"));
    let headers: Vec<_> = headers
        .into_iter()
        .filter(|(name, _)| name != "ce-id")
        .collect();
    let err =
        pave_events::read(Source::Cdevents, &headers, &body, &Default::default()).unwrap_err();
    assert!(
        matches!(
            err,
            ReadError::MissingHeader {
                header: "ce-id",
                ..
            }
        ),
        "{err}"
    );

    // The CloudEvent type must be the CDEvent's.
    let mut envelope_event = event.clone();
    envelope_event["context"]["type"] = Value::String("dev.cdevents.service.upgraded.0.2.0".into());
    let (headers, mut body) = structured(&envelope_event);
    let mut envelope = json(&body);
    envelope["data"] = event.clone();
    body = serde_json::to_vec(&envelope).unwrap();
    let err =
        pave_events::read(Source::Cdevents, &headers, &body, &Default::default()).unwrap_err();
    assert!(err.to_string().starts_with("data.context.type:"), "{err}");

    // A required content field, with its path under `data`.
    let mut broken = event.clone();
    broken["subject"]["content"]
        .as_object_mut()
        .unwrap()
        .remove("environment");
    let (headers, body) = structured(&broken);
    let err =
        pave_events::read(Source::Cdevents, &headers, &body, &Default::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "data.subject.content.environment: required field is missing"
    );

    // A bad timestamp in binary mode: path from the body's top.
    let mut late = event.clone();
    late["context"]["timestamp"] = Value::String("yesterday".into());
    let late_body = serde_json::to_vec(&late).unwrap();
    let (headers, _) = binary(&event, &late_body);
    let headers: Vec<_> = headers
        .into_iter()
        .filter(|(name, _)| name != "ce-time")
        .collect();
    let err =
        pave_events::read(Source::Cdevents, &headers, &late_body, &Default::default()).unwrap_err();
    assert!(
        matches!(&err, ReadError::Timestamp { path, .. } if path == "context.timestamp"),
        "{err}"
    );
    assert!(err.to_string().contains("\"yesterday\""), "{err}");

    // Plain JSON that is no CloudEvent at all.
    let err = pave_events::read(
        Source::Cdevents,
        &[("Content-Type", "application/json")],
        br#"{"hello": "world"}"#,
        &Default::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, ReadError::CloudEvent { .. }) && err.to_string().contains("ce-specversion"),
        "{err}"
    );

    // An envelope without its required `id`.
    let (headers, body) = structured(&event);
    let mut envelope = json(&body);
    envelope.as_object_mut().unwrap().remove("id");
    let body = serde_json::to_vec(&envelope).unwrap();
    let err =
        pave_events::read(Source::Cdevents, &headers, &body, &Default::default()).unwrap_err();
    assert!(matches!(err, ReadError::CloudEvent { .. }), "{err}");
    assert!(err.to_string().contains("id"), "{err}");
}
