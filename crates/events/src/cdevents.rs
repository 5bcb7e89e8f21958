//! CDEvents (v0.4 and v0.5 of the specification) in CloudEvents envelopes, over HTTP.
//!
//! The envelope is read by the CloudEvents Rust SDK (`cloudevents-sdk`), through its message
//! traits implemented for pave's [`Headers`] view:
//!
//! - **structured mode** — `Content-Type: application/cloudevents+json`, the body a
//!   CloudEvent whose `data` is the CDEvent;
//! - **binary mode** — `ce-specversion`, `ce-id`, `ce-source`, `ce-type` (and any other
//!   `ce-*`) headers, the body the CDEvent itself;
//! - a bare CDEvent (neither of the above; e.g. `curl` with `application/json`) is accepted
//!   too, its `context` standing in for the envelope.
//!
//! The idempotency key is the CloudEvent's `source` and `id` (`<source>#<id>`). The CloudEvent
//! `type` must equal the CDEvent's `context.type` (the CDEvents CloudEvents binding requires
//! it). Types are `dev.cdevents.<subject>.<predicate>.<version>`; any event version is read,
//! as long as the specification version (`context.specversion` in v0.5, `context.version`
//! in v0.4) is 0.4 or 0.5.
//!
//! | type | read as |
//! |---|---|
//! | `change.merged` | [`ChangeMerged`] (subject: the repository when `content.repository.source` is a URL) |
//! | `service.deployed`, `service.upgraded` | [`Deployment`] Succeeded |
//! | `service.rolledback` | [`Deployment`] RolledBack |
//! | `service.removed` | [`Deployment`] Removed |
//! | `pipelinerun.finished` | [`Pipeline`] |
//! | `artifact.published` | [`ArtifactPublished`] |
//! | `incident.detected`, `incident.reported` | [`Incident`] Opened |
//! | `incident.resolved` | [`Incident`] Resolved |
//!
//! Every other valid type (and any CloudEvent that is not a CDEvent) is accepted and ignored
//! by type.

use cloudevents::event::SpecVersion;
use cloudevents::message::{
    BinaryDeserializer, BinarySerializer, Encoding, MessageAttributeValue, MessageDeserializer,
    StructuredDeserializer, StructuredSerializer,
};
use cloudevents::{AttributesReader, Data};
use serde::Deserialize;
use serde_json::Value;

use crate::Delivery;
use crate::error::{ReadError, check_object, from_value, invalid, join_path, parse};
use crate::headers::Headers;
use crate::incident_text::severity;
use crate::model::{
    ArtifactPublished, ChangeMerged, Deployment, DeploymentStatus, Event, Incident, IncidentStatus,
    Pipeline, PipelineStatus, Subject,
};
use crate::source::Source;
use crate::subject::host_of;
use crate::time::Time;

const SENDER: Source = Source::Cdevents;

/// The content type of a structured-mode CloudEvent.
pub const STRUCTURED_CONTENT_TYPE: &str = "application/cloudevents+json";

/// CDEvents specification versions read (major.minor).
pub const SPEC_VERSIONS: [&str; 2] = ["0.4", "0.5"];

/// An HTTP request as the CloudEvents SDK's message traits see it.
struct HttpMessage<'a, H: Headers + ?Sized> {
    headers: &'a H,
    body: &'a [u8],
}

impl<H: Headers + ?Sized> HttpMessage<'_, H> {
    fn content_type(&self) -> Option<&str> {
        self.headers.get("Content-Type").map(str::trim)
    }
}

impl<H: Headers + ?Sized> StructuredDeserializer for HttpMessage<'_, H> {
    fn deserialize_structured<R: Sized, V: StructuredSerializer<R>>(
        self,
        serializer: V,
    ) -> cloudevents::message::Result<R> {
        serializer.set_structured_event(self.body.to_vec())
    }
}

impl<H: Headers + ?Sized> BinaryDeserializer for HttpMessage<'_, H> {
    fn deserialize_binary<R: Sized, V: BinarySerializer<R>>(
        self,
        mut serializer: V,
    ) -> cloudevents::message::Result<R> {
        let spec_version = SpecVersion::try_from(
            self.headers
                .get("ce-specversion")
                .unwrap_or_default()
                .trim(),
        )?;
        let attributes = spec_version.attribute_names();
        serializer = serializer.set_spec_version(spec_version)?;
        for (name, value) in self.headers.pairs() {
            let name = name.to_ascii_lowercase();
            let Some(attribute) = name.strip_prefix("ce-") else {
                continue;
            };
            if attribute == "specversion" {
                continue;
            }
            let value = MessageAttributeValue::String(value.trim().to_owned());
            serializer = if attributes.contains(&attribute) {
                serializer.set_attribute(attribute, value)?
            } else {
                serializer.set_extension(attribute, value)?
            };
        }
        if let Some(content_type) = self.content_type() {
            serializer = serializer.set_attribute(
                "datacontenttype",
                MessageAttributeValue::String(content_type.to_owned()),
            )?;
        }
        if self.body.is_empty() {
            serializer.end()
        } else {
            serializer.end_with_data(self.body.to_vec())
        }
    }
}

impl<H: Headers + ?Sized> MessageDeserializer for HttpMessage<'_, H> {
    fn encoding(&self) -> Encoding {
        let structured = self.content_type().is_some_and(|content_type| {
            content_type.len() >= STRUCTURED_CONTENT_TYPE.len()
                && content_type.as_bytes()[..STRUCTURED_CONTENT_TYPE.len()]
                    .eq_ignore_ascii_case(STRUCTURED_CONTENT_TYPE.as_bytes())
        });
        if structured {
            Encoding::STRUCTURED
        } else if self.headers.get("ce-specversion").is_some() {
            Encoding::BINARY
        } else {
            Encoding::UNKNOWN
        }
    }
}

fn envelope_error(err: cloudevents::message::Error) -> ReadError {
    match err {
        cloudevents::message::Error::SerdeJsonError { source }
            if source.is_syntax() || source.is_eof() =>
        {
            let text = source.to_string();
            let message = text
                .rfind(" at line ")
                .map_or(text.as_str(), |at| &text[..at]);
            ReadError::Json {
                line: source.line(),
                column: source.column(),
                message: message.into(),
            }
        }
        other => ReadError::CloudEvent {
            message: other.to_string(),
        },
    }
}

/// The CDEvent as read from the data, and where the data sits in the body (for paths).
struct Unwrapped {
    id: String,
    kind: String,
    time: Option<i64>,
    cdevent: Option<(Value, &'static str)>,
}

pub(crate) fn read(headers: &(impl Headers + ?Sized), body: &[u8]) -> Result<Delivery, ReadError> {
    check_object(SENDER, body)?;
    let message = HttpMessage { headers, body };
    let unwrapped = match message.encoding() {
        Encoding::STRUCTURED => {
            let mut event = MessageDeserializer::into_event(message).map_err(envelope_error)?;
            unwrap(&mut event, "data")?
        }
        Encoding::BINARY => {
            for header in ["ce-id", "ce-source", "ce-type"] {
                if headers.get(header).is_none() {
                    return Err(ReadError::MissingHeader {
                        header,
                        hint: " (a binary-mode CloudEvent needs ce-specversion, ce-id, ce-source and ce-type)",
                    });
                }
            }
            let mut event = MessageDeserializer::into_event(message).map_err(envelope_error)?;
            unwrap(&mut event, "")?
        }
        _ => {
            // A bare CDEvent: its context is the envelope.
            let value: Value = parse(SENDER, body, "")?;
            let Some(context) = value.get("context").cloned() else {
                return Err(ReadError::CloudEvent {
                    message: "neither structured (Content-Type: application/cloudevents+json), \
                              binary (ce-specversion, ce-id, ce-source, ce-type headers) nor a \
                              bare CDEvent (a body with a context)"
                        .to_owned(),
                });
            };
            let context: BareContext = from_value(context, "context")?;
            Unwrapped {
                id: format!("{}#{}", context.source, context.id),
                kind: context.ty,
                time: None,
                cdevent: Some((value, "")),
            }
        }
    };
    let Unwrapped {
        id,
        kind,
        time,
        cdevent,
    } = unwrapped;
    let Some((data, prefix)) = cdevent else {
        let reason = format!("CloudEvents type {kind:?} is not a CDEvents type");
        return Ok(Delivery::new(SENDER, id, kind, vec![], Some(reason), time));
    };
    let (events, ignored, at) = read_cdevent(data, prefix, &kind)?;
    Ok(Delivery::new(
        SENDER,
        id,
        kind,
        events,
        ignored,
        time.or(at),
    ))
}

#[derive(Deserialize)]
struct BareContext {
    id: String,
    source: String,
    #[serde(rename = "type")]
    ty: String,
}

/// The envelope's key, type and time, and its data as JSON when the type is a CDEvents type.
fn unwrap(event: &mut cloudevents::Event, prefix: &'static str) -> Result<Unwrapped, ReadError> {
    let id = format!("{}#{}", event.source(), event.id());
    let kind = event.ty().to_owned();
    let time = event.time().map(|time| time.timestamp_millis());
    if !kind.starts_with("dev.cdevents.") {
        return Ok(Unwrapped {
            id,
            kind,
            time,
            cdevent: None,
        });
    }
    let (_, _, data) = event.take_data();
    let value = match data {
        Some(Data::Json(value)) => value,
        Some(Data::Binary(bytes)) => parse(SENDER, &bytes, prefix)?,
        Some(Data::String(text)) => parse(SENDER, text.as_bytes(), prefix)?,
        None => {
            return Err(invalid(
                if prefix.is_empty() { "(body)" } else { prefix },
                "a CDEvent is required",
            ));
        }
    };
    if !value.is_object() {
        return Err(invalid(
            if prefix.is_empty() { "(body)" } else { prefix },
            "a CDEvent must be a JSON object",
        ));
    }
    Ok(Unwrapped {
        id,
        kind,
        time,
        cdevent: Some((value, prefix)),
    })
}

#[derive(Deserialize)]
struct CdEvent {
    context: Context,
    subject: CdSubject,
    #[serde(rename = "customData")]
    custom_data: Option<Value>,
}

#[derive(Deserialize)]
struct Context {
    /// v0.5.
    specversion: Option<String>,
    /// v0.4.
    version: Option<String>,
    id: String,
    source: String,
    #[serde(rename = "type")]
    ty: String,
    timestamp: Time,
}

#[derive(Deserialize)]
struct CdSubject {
    id: String,
    source: Option<String>,
    #[serde(default)]
    content: Value,
}

#[derive(Deserialize)]
struct Reference {
    id: String,
    source: Option<String>,
}

type Reading = (Vec<Event>, Option<String>, Option<i64>);

/// `dev.cdevents.service.deployed.0.3.0` → (`service`, `deployed`).
pub(crate) fn subject_and_predicate(ty: &str) -> Option<(&str, &str)> {
    let rest = ty.strip_prefix("dev.cdevents.")?;
    let mut parts = rest.splitn(3, '.');
    let (subject, predicate, version) = (parts.next()?, parts.next()?, parts.next()?);
    let is_number = |part: Option<&str>| {
        part.is_some_and(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
    };
    let mut numbers = version.splitn(3, '.');
    let (major, minor, patch) = (numbers.next(), numbers.next(), numbers.next());
    // The patch may carry a pre-release suffix (`0-draft`).
    let patch = patch.map(|patch| patch.split('-').next().unwrap_or_default());
    (!subject.is_empty()
        && !predicate.is_empty()
        && is_number(major)
        && is_number(minor)
        && is_number(patch))
    .then_some((subject, predicate))
}

fn read_cdevent(data: Value, prefix: &'static str, kind: &str) -> Result<Reading, ReadError> {
    let event: CdEvent = from_value(data, prefix)?;
    let context = event.context;
    if context.ty != kind {
        return Err(invalid(
            &join_path(prefix, "context.type"),
            format!("{:?} differs from the CloudEvent type {kind:?}", context.ty),
        ));
    }
    let Some((subject_kind, predicate)) = subject_and_predicate(&context.ty) else {
        return Err(invalid(
            &join_path(prefix, "context.type"),
            format!(
                "{:?} is not dev.cdevents.<subject>.<predicate>.<major>.<minor>.<patch>",
                context.ty
            ),
        ));
    };
    let Some(spec_version) = context
        .specversion
        .as_deref()
        .or(context.version.as_deref())
    else {
        return Err(invalid(
            &join_path(prefix, "context.specversion"),
            "required field is missing",
        ));
    };
    let major_minor = spec_version
        .splitn(3, '.')
        .take(2)
        .collect::<Vec<_>>()
        .join(".");
    if !SPEC_VERSIONS.contains(&major_minor.as_str()) {
        let reason = format!("CDEvents specification {spec_version} is not read (0.4 and 0.5 are)");
        return Ok((vec![], Some(reason), None));
    }
    let at = context.timestamp.0;
    let subject_source = event
        .subject
        .source
        .clone()
        .unwrap_or_else(|| context.source.clone());
    let content_path = join_path(prefix, "subject.content");
    let cdevents_subject = Subject::Cdevents {
        source: subject_source.clone(),
        id: event.subject.id.clone(),
    };
    let mapped = match (subject_kind, predicate) {
        ("change", "merged") => {
            let content: ChangeContent = from_value(event.subject.content, &content_path)?;
            let subject = match content.repository {
                Some(Reference {
                    id,
                    source: Some(url),
                }) if host_of(&url).is_some() => crate::subject::repository(&url, &id),
                Some(Reference { id, source }) => Subject::Cdevents {
                    source: source.unwrap_or_else(|| subject_source.clone()),
                    id,
                },
                None => cdevents_subject,
            };
            Event::ChangeMerged(ChangeMerged {
                subject,
                id: event.subject.id,
                number: None,
                title: None,
                merge_sha: None,
                merged_at: at,
                created_at: None,
                labels: vec![],
                head_branch: None,
                base_branch: None,
                url: None,
            })
        }
        ("service", "deployed" | "upgraded" | "rolledback" | "removed") => {
            let content: ServiceContent = from_value(event.subject.content, &content_path)?;
            let status = match predicate {
                "rolledback" => DeploymentStatus::RolledBack,
                "removed" => DeploymentStatus::Removed,
                _ => DeploymentStatus::Succeeded,
            };
            Event::Deployment(Deployment {
                subject: cdevents_subject,
                source_id: format!("{}#{}", context.source, context.id),
                environment: content.environment.id,
                sha: None,
                version: content.artifact_id,
                status,
                at,
                started_at: None,
                finished_at: Some(at),
                rollback: status == DeploymentStatus::RolledBack,
                labels: vec![],
                git_ref: None,
                production: None,
                url: None,
            })
        }
        ("pipelinerun", "finished") => {
            let content: PipelineRunContent = from_value(event.subject.content, &content_path)?;
            let conclusion = content.outcome.unwrap_or_default();
            let status = match conclusion.as_str() {
                "success" => PipelineStatus::Succeeded,
                "failure" | "error" => PipelineStatus::Failed,
                "cancel" => PipelineStatus::Canceled,
                other => {
                    let reason = format!("pipelinerun.finished with outcome {other:?} is not read");
                    return Ok((vec![], Some(reason), Some(at)));
                }
            };
            Event::Pipeline(Pipeline {
                subject: cdevents_subject,
                name: content
                    .pipeline_name
                    .unwrap_or_else(|| event.subject.id.clone()),
                id: event.subject.id,
                status,
                conclusion,
                sha: None,
                branch: None,
                started_at: None,
                finished_at: Some(at),
                url: content.uri.or(content.url),
            })
        }
        ("artifact", "published") => Event::ArtifactPublished(ArtifactPublished {
            subject: cdevents_subject,
            id: event.subject.id,
            at,
        }),
        ("incident", "detected" | "reported" | "resolved") => {
            let content: IncidentContent = from_value(event.subject.content, &content_path)?;
            let status = if predicate == "resolved" {
                IncidentStatus::Resolved
            } else {
                IncidentStatus::Opened
            };
            let subject = match content.service {
                Some(service) => Subject::Cdevents {
                    source: service.source.unwrap_or_else(|| subject_source.clone()),
                    id: service.id,
                },
                None => cdevents_subject,
            };
            let severity = event
                .custom_data
                .as_ref()
                .and_then(|data| data.get("severity"))
                .and_then(Value::as_str)
                .and_then(severity);
            Event::Incident(Incident {
                subject,
                id: format!("{subject_source}#{}", event.subject.id),
                number: None,
                title: content.description,
                severity,
                status,
                at,
                opened_at: (status == IncidentStatus::Opened).then_some(at),
                url: content.ticket_uri,
                caused_by: None,
                environment: content.environment.map(|environment| environment.id),
            })
        }
        _ => {
            let reason = format!("CDEvents type {} is not mapped", context.ty);
            return Ok((vec![], Some(reason), Some(at)));
        }
    };
    Ok((vec![mapped], None, Some(at)))
}

#[derive(Deserialize)]
struct ChangeContent {
    repository: Option<Reference>,
}

#[derive(Deserialize)]
struct ServiceContent {
    environment: Reference,
    #[serde(rename = "artifactId")]
    artifact_id: Option<String>,
}

#[derive(Deserialize)]
struct PipelineRunContent {
    #[serde(rename = "pipelineName")]
    pipeline_name: Option<String>,
    /// v0.5.
    uri: Option<String>,
    /// v0.4.
    url: Option<String>,
    outcome: Option<String>,
}

#[derive(Deserialize)]
struct IncidentContent {
    description: Option<String>,
    environment: Option<Reference>,
    service: Option<Reference>,
    #[serde(rename = "ticketURI")]
    ticket_uri: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_split_into_subject_and_predicate() {
        assert_eq!(
            subject_and_predicate("dev.cdevents.service.deployed.0.3.0"),
            Some(("service", "deployed"))
        );
        assert_eq!(
            subject_and_predicate("dev.cdevents.pipelinerun.finished.0.2.0-draft"),
            Some(("pipelinerun", "finished"))
        );
        for bad in [
            "dev.cdevents.service.deployed",
            "dev.cdevents.service.deployed.0.3",
            "dev.cdevents.service.deployed.a.b.c",
            "com.example.service.deployed.0.1.0",
            "dev.cdevents..deployed.0.1.0",
        ] {
            assert_eq!(subject_and_predicate(bad), None, "{bad}");
        }
    }
}
