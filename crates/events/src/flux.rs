//! Flux notification-controller events, as its `generic` and `generic-hmac` providers post
//! them (the `Event` of `fluxcd/pkg/apis/event/v1`). Flux sends no delivery id: the
//! idempotency key is the body's SHA-256.
//!
//! | involved object | reason | read as |
//! |---|---|---|
//! | `Kustomization` | `Progressing` | [`Deployment`] Started |
//! | `Kustomization` | `ReconciliationSucceeded` | Succeeded |
//! | `Kustomization` | `ReconciliationFailed`, `HealthCheckFailed`, `BuildFailed`, `ValidationFailed`, `PruneFailed` | Failed |
//! | `HelmRelease` | `InstallSucceeded`, `UpgradeSucceeded` | Succeeded |
//! | `HelmRelease` | `InstallFailed`, `UpgradeFailed`, `TestFailed`, `RollbackFailed`, `UninstallFailed` | Failed |
//! | `HelmRelease` | `RollbackSucceeded` | RolledBack (`rollback: true`) |
//! | `HelmRelease` | `UninstallSucceeded` | Removed |
//!
//! Other kinds (sources, image automation) and reasons are ignored with the reason.
//!
//! - **Revision**: the `metadata` entry `<group>/revision` — `main@sha1:<sha>` (or the older
//!   `main/<sha>`) for a Kustomization, whose SHA becomes `sha`; the chart version for a
//!   HelmRelease. The whole revision is `version`.
//! - **Environment**: the `environment` (or `env`) entry of `metadata` — set it with the
//!   Alert's `spec.eventMetadata` — else the object's namespace.
//! - **Deployment id**: kind, namespace, name and revision, so the progress and result of one
//!   revision are one deployment.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::Delivery;
use crate::error::{ReadError, parse};
use crate::model::{Deployment, DeploymentStatus, Event, Subject};
use crate::source::Source;
use crate::subject::is_full_sha;
use crate::time::Time;

const SENDER: Source = Source::Flux;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    involved_object: ObjectReference,
    severity: String,
    timestamp: Time,
    reason: String,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct ObjectReference {
    kind: String,
    name: String,
    namespace: String,
}

pub(crate) fn read(body: &[u8]) -> Result<Delivery, ReadError> {
    let payload: Payload = parse(SENDER, body, "")?;
    let id = crate::body_key(body);
    let object = payload.involved_object;
    let kind = format!("{}/{}", object.kind, payload.reason);
    let status = match (object.kind.as_str(), payload.reason.as_str()) {
        ("Kustomization", "Progressing") => DeploymentStatus::Started,
        ("Kustomization", "ReconciliationSucceeded") => DeploymentStatus::Succeeded,
        (
            "Kustomization",
            "ReconciliationFailed"
            | "HealthCheckFailed"
            | "BuildFailed"
            | "ValidationFailed"
            | "PruneFailed",
        ) => DeploymentStatus::Failed,
        ("HelmRelease", "InstallSucceeded" | "UpgradeSucceeded") => DeploymentStatus::Succeeded,
        (
            "HelmRelease",
            "InstallFailed" | "UpgradeFailed" | "TestFailed" | "RollbackFailed" | "UninstallFailed",
        ) => DeploymentStatus::Failed,
        ("HelmRelease", "RollbackSucceeded") => DeploymentStatus::RolledBack,
        ("HelmRelease", "UninstallSucceeded") => DeploymentStatus::Removed,
        _ => {
            let reason = format!(
                "Flux {} {} ({}) is not a deployment event",
                object.kind, payload.reason, payload.severity
            );
            return Ok(Delivery::new(SENDER, id, kind, vec![], Some(reason), None));
        }
    };
    let at = payload.timestamp.0;
    let revision = payload
        .metadata
        .iter()
        .find(|(key, _)| *key == "revision" || key.ends_with("/revision"))
        .map(|(_, value)| value.clone())
        .filter(|revision| !revision.is_empty());
    let environment = ["environment", "env"]
        .iter()
        .find_map(|key| payload.metadata.get(*key))
        .filter(|environment| !environment.is_empty())
        .cloned()
        .unwrap_or_else(|| object.namespace.clone());
    let source_id = format!(
        "{}/{}/{}@{}",
        object.kind,
        object.namespace,
        object.name,
        revision.as_deref().unwrap_or("-")
    );
    let event = Deployment {
        subject: Subject::Flux {
            kind: object.kind,
            namespace: object.namespace,
            name: object.name,
        },
        source_id,
        environment,
        sha: revision.as_deref().and_then(sha_of_revision),
        version: revision,
        status,
        at,
        started_at: (status == DeploymentStatus::Started).then_some(at),
        finished_at: status.is_final().then_some(at),
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

/// `main@sha1:<sha>` (Flux 2.0+) or `main/<sha>` (earlier) → the SHA.
fn sha_of_revision(revision: &str) -> Option<String> {
    let candidate = revision
        .rsplit_once("@sha1:")
        .map(|(_, sha)| sha)
        .or_else(|| revision.rsplit_once('/').map(|(_, sha)| sha))
        .or_else(|| revision.strip_prefix("sha1:"))?;
    is_full_sha(candidate).then(|| candidate.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_name_their_commit() {
        let sha = "731f7eaddfb6af01cb2173e18f0f75b0ba780ef1";
        assert_eq!(
            sha_of_revision(&format!("main@sha1:{sha}")).as_deref(),
            Some(sha)
        );
        assert_eq!(
            sha_of_revision(&format!("main/{sha}")).as_deref(),
            Some(sha)
        );
        assert_eq!(
            sha_of_revision(&format!("sha1:{sha}")).as_deref(),
            Some(sha)
        );
        assert_eq!(sha_of_revision("6.0.1"), None);
        assert_eq!(sha_of_revision("latest@sha256:0b31b1c0"), None);
    }
}
