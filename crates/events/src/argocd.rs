//! Argo CD notifications. Argo CD's webhook service sends whatever body its template
//! defines; pave defines the one below. Paste it into `argocd-notifications-cm`, put the
//! shared secret in `argocd-notifications-secret` under `pave-events-secret`, and subscribe
//! applications with the annotation `notifications.argoproj.io/subscribe.on-deployed.pave: ""`
//! (add `on-sync-running`, `on-sync-failed` and `on-health-degraded` likewise for start and
//! failure times).
//!
//! ```yaml
//! apiVersion: v1
//! kind: ConfigMap
//! metadata:
//!   name: argocd-notifications-cm
//! data:
//!   service.webhook.pave: |
//!     url: https://pave.example.com/api/events/argocd
//!     headers:
//!       - name: Content-Type
//!         value: application/json
//!       - name: X-Pave-Secret
//!         value: $pave-events-secret
//!   template.pave: |
//!     webhook:
//!       pave:
//!         method: POST
//!         body: |
//!           {
//!             "id": "{{.app.metadata.uid}}/{{.app.status.operationState.startedAt}}/{{.app.status.operationState.phase}}/{{.app.status.health.status}}",
//!             "app": "{{.app.metadata.name}}",
//!             "appNamespace": "{{.app.metadata.namespace}}",
//!             "project": "{{.app.spec.project}}",
//!             "destination": {
//!               "server": "{{.app.spec.destination.server}}",
//!               "name": "{{.app.spec.destination.name}}",
//!               "namespace": "{{.app.spec.destination.namespace}}"
//!             },
//!             "repoURL": "{{.app.spec.source.repoURL}}",
//!             "revision": "{{.app.status.sync.revision}}",
//!             "environment": "{{with .app.metadata.labels}}{{index . "pave.dev/environment"}}{{end}}",
//!             "sourceSha": "{{with .app.metadata.annotations}}{{index . "pave.dev/source-sha"}}{{end}}",
//!             "phase": "{{.app.status.operationState.phase}}",
//!             "startedAt": "{{.app.status.operationState.startedAt}}",
//!             "finishedAt": "{{.app.status.operationState.finishedAt}}",
//!             "health": "{{.app.status.health.status}}"
//!           }
//!   trigger.on-deployed: |
//!     - description: Application is synced and healthy. Triggered once per commit.
//!       oncePer: app.status.sync.revision
//!       send: [pave]
//!       when: app.status.operationState != nil and app.status.operationState.phase in ['Succeeded'] and app.status.health.status == 'Healthy'
//!   trigger.on-sync-running: |
//!     - description: Application is being synced
//!       send: [pave]
//!       when: app.status.operationState != nil and app.status.operationState.phase in ['Running']
//!   trigger.on-sync-failed: |
//!     - description: Application syncing has failed
//!       send: [pave]
//!       when: app.status.operationState != nil and app.status.operationState.phase in ['Error', 'Failed']
//!   trigger.on-health-degraded: |
//!     - description: Application has degraded
//!       send: [pave]
//!       when: app.status.health.status == 'Degraded'
//! ```
//!
//! One template serves every trigger: the status is read from `phase` and `health`
//! (`Running` → Started; `Succeeded` and `Healthy` → Succeeded; `Succeeded` and `Degraded`,
//! `Failed`, `Error` → Failed; `Succeeded` while `Progressing` → Started; `Terminating` →
//! Canceled). A body may name the status itself with `"status"` (`started`, `succeeded`,
//! `failed`, …) for custom triggers.
//!
//! - **Idempotency key**: the body's `id` (application uid, operation start, phase, health:
//!   one per state an operation reaches); the body's SHA-256 when absent.
//! - **Deployment id** (`source_id`): application namespace, name and operation start, so
//!   the running, succeeded and failed notifications of one sync are one deployment.
//! - **Environment**: the application's `pave.dev/environment` label, else its destination
//!   cluster name, else its destination namespace.
//! - **Commit**: `revision` is the commit of the repository Argo CD syncs from. When
//!   manifests live in a separate GitOps repository that is not the application's commit:
//!   have CI set the annotation `pave.dev/source-sha` on the application (or derive it from
//!   the image tag) and the template sends it as `sourceSha`, which pave prefers.
//!
//! Missing fields print as `<no value>` in Argo CD templates; pave reads that (and `""`) as
//! absent. Multi-source applications have no `spec.source`: `repoURL` is then absent.

use serde::Deserialize;

use crate::Delivery;
use crate::error::{ReadError, parse};
use crate::model::{Deployment, DeploymentStatus, Event, Subject};
use crate::source::Source;
use crate::subject::given;
use crate::time::MaybeTime;

const SENDER: Source = Source::Argocd;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    id: Option<String>,
    app: String,
    app_namespace: Option<String>,
    #[serde(default)]
    destination: Destination,
    #[serde(rename = "repoURL")]
    repo_url: Option<String>,
    revision: Option<String>,
    environment: Option<String>,
    source_sha: Option<String>,
    status: Option<String>,
    phase: Option<String>,
    health: Option<String>,
    #[serde(default)]
    started_at: MaybeTime,
    #[serde(default)]
    finished_at: MaybeTime,
}

#[derive(Deserialize, Default)]
struct Destination {
    server: Option<String>,
    name: Option<String>,
    namespace: Option<String>,
}

pub(crate) fn read(body: &[u8]) -> Result<Delivery, ReadError> {
    let payload: Payload = parse(SENDER, body, "")?;
    let id = given(payload.id.clone()).unwrap_or_else(|| crate::body_key(body));
    let phase = given(payload.phase);
    let health = given(payload.health);
    let kind = format!(
        "{}/{}",
        phase.as_deref().unwrap_or("-"),
        health.as_deref().unwrap_or("-")
    );
    let Some(app) = given(Some(payload.app)) else {
        return Err(crate::error::invalid(
            "app",
            "the application name is empty",
        ));
    };
    let status = match given(payload.status) {
        Some(status) => match status_word(&status) {
            Some(status) => status,
            None => {
                let reason = format!("Argo CD status {status:?} is not read");
                return Ok(Delivery::new(SENDER, id, kind, vec![], Some(reason), None));
            }
        },
        None => match status_of(phase.as_deref(), health.as_deref()) {
            Some(status) => status,
            None => {
                let reason = format!("Argo CD phase {kind} says nothing about a deployment");
                return Ok(Delivery::new(SENDER, id, kind, vec![], Some(reason), None));
            }
        },
    };
    let started_at = payload.started_at.0;
    let finished_at = payload.finished_at.0.filter(|_| status.is_final());
    let Some(at) = finished_at.or(started_at) else {
        return Err(crate::error::invalid(
            "startedAt",
            "neither startedAt nor finishedAt is a time (is the application's operationState empty?)",
        ));
    };
    let destination = payload.destination;
    let environment = [
        payload.environment,
        destination.name.clone(),
        destination.namespace.clone(),
    ]
    .into_iter()
    .find_map(given)
    .or_else(|| given(destination.server.clone()))
    .unwrap_or_else(|| "default".to_owned());
    let app_namespace = given(payload.app_namespace).unwrap_or_else(|| "argocd".to_owned());
    let revision = given(payload.revision);
    let operation = started_at.map_or_else(|| "-".to_owned(), |at| at.to_string());
    let event = Deployment {
        subject: Subject::ArgoApp {
            name: app.clone(),
            repo_url: given(payload.repo_url),
        },
        source_id: format!("{app_namespace}/{app}/{operation}"),
        environment,
        sha: given(payload.source_sha).or_else(|| revision.clone()),
        version: revision,
        status,
        at,
        started_at,
        finished_at,
        rollback: status == DeploymentStatus::RolledBack,
        labels: vec![],
        git_ref: None,
        production: None,
        url: None,
    };
    Ok(Delivery::new(
        SENDER,
        id,
        kind,
        vec![Event::Deployment(event)],
        None,
        Some(at),
    ))
}

fn status_of(phase: Option<&str>, health: Option<&str>) -> Option<DeploymentStatus> {
    Some(match (phase?, health) {
        ("Running", _) => DeploymentStatus::Started,
        ("Succeeded", Some("Healthy")) => DeploymentStatus::Succeeded,
        ("Succeeded", Some("Degraded")) => DeploymentStatus::Failed,
        ("Succeeded", Some("Progressing")) => DeploymentStatus::Started,
        ("Failed" | "Error", _) => DeploymentStatus::Failed,
        ("Terminating", _) => DeploymentStatus::Canceled,
        _ => return None,
    })
}

fn status_word(word: &str) -> Option<DeploymentStatus> {
    Some(match word.to_ascii_lowercase().as_str() {
        "queued" => DeploymentStatus::Queued,
        "started" | "running" => DeploymentStatus::Started,
        "succeeded" | "deployed" => DeploymentStatus::Succeeded,
        "failed" => DeploymentStatus::Failed,
        "canceled" | "cancelled" => DeploymentStatus::Canceled,
        "rolledback" | "rolled_back" => DeploymentStatus::RolledBack,
        "removed" | "deleted" => DeploymentStatus::Removed,
        _ => return None,
    })
}
