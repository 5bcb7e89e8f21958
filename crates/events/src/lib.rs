//! Delivery and incident event intake, as a pure core: is this delivery authentic (each
//! sender's signature or shared secret, two active secrets for rotation, constant-time
//! comparison), what is its idempotency key, and what did it say, as normalised events the
//! store derives facts from. No database and no HTTP: the server hands it headers and the raw
//! body it has already bounded.
//!
//! ```text
//! POST /api/events/<source> ─ Source::from_str ─► authenticate(source, headers, body, &Secrets)
//!                                                 └► read(source, headers, body, &ReadOptions)
//!                                                    └► Delivery { id, kind, events, ignored }
//! ```
//!
//! # Senders
//!
//! | source | authentication ([`auth`]) | idempotency key ([`Delivery::id`]) | read ([`Event`]s) |
//! |---|---|---|---|
//! | `github` | `X-Hub-Signature-256` HMAC | `X-GitHub-Delivery` | [`github`]: push, merged PR, deployment(_status), workflow run, release, incident issues |
//! | `gitlab` | `X-Gitlab-Token` | `Idempotency-Key` (body SHA-256 without it; not `X-Gitlab-Event-UUID`, see [`gitlab`]) | [`gitlab`]: push, merged MR, deployment, pipeline, incident issues |
//! | `cdevents` | shared secret | CloudEvent `source#id` | [`cdevents`]: change, service, pipeline run, artifact, incident events |
//! | `argocd` | shared secret | the template's `id` (body SHA-256 without it) | [`argocd`]: sync operations (template in its docs) |
//! | `flux` | `X-Signature` HMAC or shared secret | body SHA-256 | [`flux`]: Kustomization and HelmRelease events |
//! | `pagerduty` | `X-PagerDuty-Signature` HMAC (several `v1=`) | `event.id` | [`pagerduty`]: v3 incident events |
//! | `opsgenie` | shared secret | body SHA-256 | [`opsgenie`]: Create, Acknowledge, Close |
//! | `alertmanager` | shared secret | body SHA-256 | [`alertmanager`]: one alert per alert of the group |
//!
//! A body SHA-256 key is `sha256:<hex>`: senders that give no delivery id resend identical
//! bodies for the same news, so identical bodies are one delivery.
//!
//! # Errors and what is not one
//!
//! An event type or action pave does not map is *not* an error: [`read`] returns a
//! [`Delivery`] with no events and [`Delivery::ignored`] saying why (the server answers 200
//! and counts it). A [`ReadError`] means the delivery claims to be something it is not:
//! invalid JSON (with line and column), a missing or ill-typed field (with its JSON path), a
//! timestamp that is none (with the field and value), a missing required header.
//!
//! # Times
//!
//! Every time is Unix milliseconds in UTC ([`Millis`]); senders' offsets (`+0200`), units
//! (seconds, milliseconds, nanoseconds) and formats are normalised ([`time`]).

pub mod alertmanager;
pub mod argocd;
pub mod auth;
pub mod cdevents;
mod error;
pub mod flux;
pub mod github;
pub mod gitlab;
mod headers;
mod incident_text;
mod model;
pub mod opsgenie;
pub mod pagerduty;
mod source;
mod subject;
pub mod time;

pub use auth::{
    AuthError, Authenticated, Credential, SecretError, SecretSlot, Secrets, authenticate,
};
pub use error::ReadError;
pub use headers::Headers;
pub use model::{
    Alert, AlertStatus, ArtifactPublished, ChangeMerged, Commit, Delivery, Deployment,
    DeploymentStatus, Event, Incident, IncidentStatus, Millis, Pipeline, PipelineStatus, Push,
    Release, Severity, Subject,
};
pub use source::{Source, UnknownSource};

use ring::digest;

/// How payloads are read where pave's configuration decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOptions {
    /// The label that marks a GitHub or GitLab issue as an incident (compared
    /// case-insensitively). GitLab incidents (`type: Incident`) are incidents without it.
    pub incident_label: String,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            incident_label: "incident".to_owned(),
        }
    }
}

/// Reads a delivery from `source`: its idempotency key, its type, and its normalised events.
/// Call [`authenticate`] first; this does not check who sent it. `body` is the raw request
/// body.
pub fn read(
    source: Source,
    headers: &(impl Headers + ?Sized),
    body: &[u8],
    options: &ReadOptions,
) -> Result<Delivery, ReadError> {
    match source {
        Source::Github => github::read(headers, body, options),
        Source::Gitlab => gitlab::read(headers, body, options),
        Source::Cdevents => cdevents::read(headers, body),
        Source::Argocd => argocd::read(body),
        Source::Flux => flux::read(body),
        Source::Pagerduty => pagerduty::read(body),
        Source::Opsgenie => opsgenie::read(body),
        Source::Alertmanager => alertmanager::read(body),
    }
}

impl Delivery {
    /// A delivery; its time is `occurred_at`, else its first event's.
    pub(crate) fn new(
        source: Source,
        id: String,
        kind: String,
        events: Vec<Event>,
        ignored: Option<String>,
        occurred_at: Option<Millis>,
    ) -> Delivery {
        let occurred_at = occurred_at.or_else(|| events.iter().find_map(Event::at));
        Delivery {
            source,
            id,
            kind,
            occurred_at,
            events,
            ignored,
        }
    }
}

/// The idempotency key of a sender that gives none: `sha256:<hex of the body>`.
pub fn body_key(body: &[u8]) -> String {
    let digest = digest::digest(&digest::SHA256, body);
    let mut key = String::with_capacity(7 + 64);
    key.push_str("sha256:");
    for byte in digest.as_ref() {
        key.push(char::from_digit(u32::from(byte >> 4), 16).unwrap_or('0'));
        key.push(char::from_digit(u32::from(byte & 0xf), 16).unwrap_or('0'));
    }
    key
}

fn required_header<'h>(
    headers: &'h (impl Headers + ?Sized),
    header: &'static str,
) -> Result<&'h str, ReadError> {
    headers
        .get(header)
        .filter(|value| !value.trim().is_empty())
        .ok_or(ReadError::MissingHeader { header, hint: "" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_keys_are_the_sha256() {
        // SHA-256 of the empty string, a well-known value.
        assert_eq!(
            body_key(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_ne!(body_key(b"{}"), body_key(b"{ }"));
    }
}
