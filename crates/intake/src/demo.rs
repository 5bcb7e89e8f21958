//! The demo's history as the webhook deliveries GitHub and Alertmanager would have sent:
//! each normalised delivery of [`pave_delivery::demo`] written back into GitHub's payload
//! (`push`, `pull_request`, `deployment`, `deployment_status`, `issues`) or Alertmanager's
//! (version 4) with its headers, so the demo goes through the same intake, storage, replay
//! and reading as real deliveries.
//!
//! GitHub cannot say everything a normalised event can: an incident's acknowledgement has
//! no issue event, and deployment ids are numbers. What has no GitHub form is skipped
//! ([`github_delivery`] returns `None`); a deployment id that is not a number becomes a
//! stable number derived from it. Severities become `sevN` labels (the level is kept, the
//! sender's word becomes `sevN`).

use pave_events::{
    AlertStatus, ChangeMerged, Deployment, DeploymentStatus, Event, Incident, IncidentStatus, Push,
    Source, Subject,
};
use serde_json::{Value, json};

use crate::error::IntakeError;
use crate::incident::rfc3339_ms;

/// A delivery as a sender posts it (unsigned: the caller signs it or records it trusted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawDelivery {
    pub source: Source,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

fn repository(subject: &Subject) -> Result<Value, IntakeError> {
    match subject {
        Subject::Repository { slug, url, .. } => Ok(json!({
            "full_name": slug,
            "html_url": url,
            "default_branch": "main",
        })),
        other => Err(IntakeError::Invalid(format!(
            "a GitHub delivery is about a repository, not {other:?}"
        ))),
    }
}

/// A GitHub deployment id for a deployment's source id: the number itself, else a stable
/// 52-bit FNV-1a digest of the text (GitHub's ids are JSON numbers).
fn deployment_number(source_id: &str) -> u64 {
    if let Ok(n) = source_id.parse::<u64>() {
        return n;
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in source_id.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash >> 12
}

/// The delivery as its sender posts it: GitHub's payload for a GitHub delivery
/// ([`github_delivery`]), Alertmanager's for an Alertmanager one
/// ([`alertmanager_delivery`]); `None` when the sender has no form for it.
pub fn raw_delivery(delivery: &pave_events::Delivery) -> Result<Option<RawDelivery>, IntakeError> {
    match delivery.source {
        Source::Alertmanager => alertmanager_delivery(delivery).map(Some),
        _ => github_delivery(delivery),
    }
}

/// Alertmanager's webhook notification (payload version 4) for `delivery`'s alerts, one
/// group labelled by `alertname` and `service`. Each alert's `runbook_url` is the section of
/// its service's runbook in the portal's docs that answers it (`service` names a Component of
/// the default namespace, as the demo's do).
pub fn alertmanager_delivery(delivery: &pave_events::Delivery) -> Result<RawDelivery, IntakeError> {
    let mut alerts = Vec::with_capacity(delivery.events.len());
    for event in &delivery.events {
        let Event::Alert(alert) = event else {
            return Err(IntakeError::Invalid(format!(
                "an Alertmanager notification carries alerts, not {:?}",
                std::mem::discriminant(event)
            )));
        };
        let Subject::Labels(labels) = &alert.subject else {
            return Err(IntakeError::Invalid(
                "an alert's subject is its labels".to_owned(),
            ));
        };
        let mut annotations = serde_json::Map::new();
        if let Some(summary) = &alert.summary {
            annotations.insert("summary".to_owned(), summary.clone().into());
        }
        if let Some(service) = labels.get("service") {
            // The section of the demo's runbook that answers this alert.
            let name = alert.name.as_deref().unwrap_or("");
            let section = if name.ends_with("HighErrorRate") {
                "#high-error-rate"
            } else if name.ends_with("HighLatency") {
                "#high-latency"
            } else {
                ""
            };
            annotations.insert(
                "runbook_url".to_owned(),
                format!("/catalog/default/component/{service}/docs/runbook/{section}").into(),
            );
        }
        alerts.push(json!({
            "status": match alert.status {
                AlertStatus::Firing => "firing",
                AlertStatus::Resolved => "resolved",
            },
            "labels": labels,
            "annotations": annotations,
            "startsAt": rfc3339_ms(alert.starts_at),
            // Go's zero time while firing, as Alertmanager sends it.
            "endsAt": alert.ends_at.map_or_else(|| "0001-01-01T00:00:00Z".to_owned(), rfc3339_ms),
            "generatorURL": alert.url.clone().unwrap_or_default(),
            "fingerprint": alert.fingerprint,
        }));
    }
    let firing = alerts.iter().any(|a| a["status"] == "firing");
    let first = alerts
        .first()
        .map(|a| a["labels"].clone())
        .unwrap_or_default();
    let group = json!({
        "alertname": first["alertname"],
        "service": first["service"],
    });
    let body = json!({
        "version": "4",
        "groupKey": format!("{{}}:{{alertname={:?}, service={:?}}}",
            first["alertname"].as_str().unwrap_or(""), first["service"].as_str().unwrap_or("")),
        "truncatedAlerts": 0,
        "status": if firing { "firing" } else { "resolved" },
        "receiver": "pave",
        "groupLabels": group,
        "commonLabels": first,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.demo:9093",
        "alerts": alerts,
    });
    Ok(RawDelivery {
        source: Source::Alertmanager,
        headers: vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("User-Agent".to_owned(), "Alertmanager/0.28.1".to_owned()),
        ],
        body: serde_json::to_vec(&body).map_err(|e| IntakeError::Invalid(e.to_string()))?,
    })
}

/// The GitHub delivery for `delivery` (a GitHub one), or `None` when GitHub has no form for
/// it (see the module docs).
pub fn github_delivery(
    delivery: &pave_events::Delivery,
) -> Result<Option<RawDelivery>, IntakeError> {
    if delivery.source != Source::Github {
        return Err(IntakeError::Invalid(format!(
            "{} deliveries have no GitHub form",
            delivery.source
        )));
    }
    let [event] = delivery.events.as_slice() else {
        return Err(IntakeError::Invalid(format!(
            "GitHub deliveries carry one event, {} has {}",
            delivery.id,
            delivery.events.len()
        )));
    };
    let rendered = match event {
        Event::Push(push) => Some(("push", push_payload(push)?)),
        Event::ChangeMerged(merge) => Some(("pull_request", pull_request_payload(merge)?)),
        Event::Deployment(deployment) => deployment_payload(deployment)?,
        Event::Incident(incident) => issue_payload(incident)?.map(|body| ("issues", body)),
        other => {
            return Err(IntakeError::Invalid(format!(
                "no GitHub form for {:?} events",
                std::mem::discriminant(other)
            )));
        }
    };
    let Some((kind, body)) = rendered else {
        return Ok(None);
    };
    Ok(Some(RawDelivery {
        source: Source::Github,
        headers: vec![
            ("X-GitHub-Event".to_owned(), kind.to_owned()),
            ("X-GitHub-Delivery".to_owned(), delivery.id.clone()),
            ("Content-Type".to_owned(), "application/json".to_owned()),
            (
                "User-Agent".to_owned(),
                "GitHub-Hookshot/pave-demo".to_owned(),
            ),
        ],
        body: serde_json::to_vec(&body).map_err(|e| IntakeError::Invalid(e.to_string()))?,
    }))
}

fn push_payload(push: &Push) -> Result<Value, IntakeError> {
    let mut repository = repository(&push.subject)?;
    if let Some(at) = push.pushed_at {
        // Push payloads give `pushed_at` as an epoch number; milliseconds keep its precision
        // (the reader tells the unit by magnitude).
        repository["pushed_at"] = Value::from(at);
    }
    if let Some(branch) = &push.default_branch {
        repository["default_branch"] = Value::from(branch.as_str());
    }
    let commits: Vec<Value> = push
        .commits
        .iter()
        .map(|c| {
            json!({
                "id": c.sha,
                "timestamp": c.committed_at.map(rfc3339_ms),
                "message": c.message,
                "author": {"name": c.author, "email": null},
            })
        })
        .collect();
    Ok(json!({
        "ref": format!("refs/heads/{}", push.branch),
        "before": push.before,
        "after": push.after,
        "forced": push.forced,
        "deleted": false,
        "commits": commits,
        "repository": repository,
    }))
}

fn pull_request_payload(merge: &ChangeMerged) -> Result<Value, IntakeError> {
    let number = merge
        .number
        .or_else(|| merge.id.parse().ok())
        .ok_or_else(|| {
            IntakeError::Invalid(format!("pull request {:?} has no number", merge.id))
        })?;
    Ok(json!({
        "action": "closed",
        "number": number,
        "pull_request": {
            "number": number,
            "title": merge.title,
            "merged": true,
            "merged_at": rfc3339_ms(merge.merged_at),
            "merge_commit_sha": merge.merge_sha,
            "created_at": merge.created_at.map(rfc3339_ms),
            "labels": merge.labels.iter().map(|l| json!({"name": l})).collect::<Vec<_>>(),
            "head": {"ref": merge.head_branch},
            "base": {"ref": merge.base_branch},
            "html_url": merge.url,
        },
        "repository": repository(&merge.subject)?,
    }))
}

fn deployment_payload(d: &Deployment) -> Result<Option<(&'static str, Value)>, IntakeError> {
    let state = match d.status {
        DeploymentStatus::Queued => None,
        DeploymentStatus::Started => Some("in_progress"),
        DeploymentStatus::Succeeded => Some("success"),
        DeploymentStatus::Failed => Some("failure"),
        DeploymentStatus::Canceled | DeploymentStatus::RolledBack | DeploymentStatus::Removed => {
            return Ok(None);
        }
    };
    let mut deployment = json!({
        "id": deployment_number(&d.source_id),
        "sha": d.sha,
        "ref": d.git_ref,
        "task": d.labels.first(),
        "environment": d.environment,
        "created_at": rfc3339_ms(d.started_at.unwrap_or(d.at)),
    });
    if let Some(production) = d.production {
        deployment["production_environment"] = Value::from(production);
    }
    let repository = repository(&d.subject)?;
    Ok(Some(match state {
        None => {
            deployment["created_at"] = Value::from(rfc3339_ms(d.at));
            (
                "deployment",
                json!({"action": "created", "deployment": deployment, "repository": repository}),
            )
        }
        Some(state) => (
            "deployment_status",
            json!({
                "action": "created",
                "deployment_status": {
                    "state": state,
                    "environment": d.environment,
                    "created_at": rfc3339_ms(d.at),
                    "log_url": d.url,
                },
                "deployment": deployment,
                "repository": repository,
            }),
        ),
    }))
}

fn issue_payload(incident: &Incident) -> Result<Option<Value>, IntakeError> {
    let action = match incident.status {
        IncidentStatus::Opened => "opened",
        IncidentStatus::Resolved => "closed",
        IncidentStatus::Reopened => "reopened",
        IncidentStatus::Acknowledged => return Ok(None),
    };
    let number = incident
        .number
        .or_else(|| {
            incident
                .id
                .rsplit_once('#')
                .and_then(|(_, n)| n.parse().ok())
        })
        .ok_or_else(|| IntakeError::Invalid(format!("issue {:?} has no number", incident.id)))?;
    let mut labels = vec![json!({"name": "incident"})];
    if let Some(severity) = &incident.severity {
        labels.push(json!({"name": format!("sev{}", severity.level)}));
    }
    let opened = incident.opened_at.unwrap_or(incident.at);
    Ok(Some(json!({
        "action": action,
        "issue": {
            "number": number,
            "title": incident.title,
            "labels": labels,
            "created_at": rfc3339_ms(opened),
            "updated_at": rfc3339_ms(incident.at),
            "closed_at": (incident.status == IncidentStatus::Resolved).then(|| rfc3339_ms(incident.at)),
            "html_url": incident.url,
            "body": incident.caused_by.as_ref().map(|c| format!("caused by: {c}")),
        },
        "repository": repository(&incident.subject)?,
    })))
}
