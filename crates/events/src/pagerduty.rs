//! PagerDuty v3 webhooks (webhook subscriptions). The idempotency key is `event.id`.
//!
//! `incident.triggered` → Opened, `incident.acknowledged` → Acknowledged,
//! `incident.resolved` → Resolved, `incident.reopened` → Reopened, each an [`Incident`] about
//! the PagerDuty service. Other event types (`incident.annotated`, `incident.priority_updated`,
//! `service.*`, …) are ignored with the reason; so are v1/v2 payloads (`messages: [...]`),
//! which PagerDuty retired.
//!
//! Severity: the incident's priority (`P1`…`P5`) when it has one, else its urgency
//! (`high` → 2, `low` → 4).

use serde::Deserialize;

use crate::Delivery;
use crate::error::{ReadError, from_value, parse};
use crate::incident_text::severity;
use crate::model::{Event, Incident, IncidentStatus, Severity, Subject};
use crate::source::Source;
use crate::time::{MaybeTime, Time};

const SENDER: Source = Source::Pagerduty;

#[derive(Deserialize)]
struct Payload {
    event: Option<PagerDutyEvent>,
    /// v1/v2 webhooks: a batch of messages.
    messages: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct PagerDutyEvent {
    id: String,
    event_type: String,
    occurred_at: Time,
    /// Read as an incident only for the event types pave maps: other types carry other
    /// resources (notes, responders, services) that must not fail the delivery.
    data: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct IncidentData {
    id: String,
    number: Option<u64>,
    title: Option<String>,
    #[serde(default)]
    created_at: MaybeTime,
    html_url: Option<String>,
    service: Option<Reference>,
    priority: Option<Reference>,
    urgency: Option<String>,
}

#[derive(Deserialize)]
struct Reference {
    id: Option<String>,
    summary: Option<String>,
}

pub(crate) fn read(body: &[u8]) -> Result<Delivery, ReadError> {
    let payload: Payload = parse(SENDER, body, "")?;
    let Some(event) = payload.event else {
        if payload.messages.is_some() {
            let id = crate::body_key(body);
            let reason = "PagerDuty v1/v2 webhooks are not read; add a v3 webhook subscription";
            return Ok(Delivery::new(
                SENDER,
                id,
                "v2".into(),
                vec![],
                Some(reason.into()),
                None,
            ));
        }
        return Err(crate::error::invalid("event", "required field is missing"));
    };
    let at = event.occurred_at.0;
    let status = match event.event_type.as_str() {
        "incident.triggered" => Some(IncidentStatus::Opened),
        "incident.acknowledged" => Some(IncidentStatus::Acknowledged),
        "incident.resolved" => Some(IncidentStatus::Resolved),
        "incident.reopened" => Some(IncidentStatus::Reopened),
        _ => None,
    };
    let (events, ignored) = match (status, event.data) {
        (None, _) => (
            vec![],
            Some(format!("PagerDuty {} is not read", event.event_type)),
        ),
        (Some(_), None) => {
            return Err(crate::error::invalid(
                "event.data",
                "required field is missing",
            ));
        }
        (Some(status), Some(data)) => {
            let data: IncidentData = from_value(data, "event.data")?;
            (vec![Event::Incident(incident(status, at, data)?)], None)
        }
    };
    Ok(Delivery::new(
        SENDER,
        event.id,
        event.event_type,
        events,
        ignored,
        Some(at),
    ))
}

fn incident(status: IncidentStatus, at: i64, data: IncidentData) -> Result<Incident, ReadError> {
    let Some(Reference {
        id: Some(service_id),
        summary,
    }) = data.service
    else {
        return Err(crate::error::invalid(
            "event.data.service.id",
            "required field is missing",
        ));
    };
    let severity = data
        .priority
        .and_then(|priority| priority.summary)
        .as_deref()
        .and_then(severity)
        .or_else(|| {
            let level = match data.urgency.as_deref()? {
                "high" => 2,
                "low" => 4,
                _ => return None,
            };
            Some(Severity {
                level,
                raw: format!("urgency {}", data.urgency.as_deref()?),
            })
        });
    Ok(Incident {
        subject: Subject::PagerDutyService {
            id: service_id,
            name: summary,
        },
        id: data.id,
        number: data.number,
        title: data.title,
        severity,
        status,
        at,
        opened_at: data.created_at.0,
        url: data.html_url,
        caused_by: None,
        environment: None,
    })
}
