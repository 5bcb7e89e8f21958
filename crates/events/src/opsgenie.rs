//! Opsgenie webhook integration (alert actions). Opsgenie signs nothing and sends no delivery
//! id, so the idempotency key is the body's SHA-256 and the secret travels in a custom
//! header configured on the integration (`X-Pave-Secret`).
//!
//! `Create` → Opened, `Acknowledge` → Acknowledged, `Close` → Resolved, each an [`Incident`]
//! whose id is the `alertId`. Other actions (`AddNote`, `UnAcknowledge`, `AssignOwnership`,
//! …) are ignored with the reason.
//!
//! Times: `createdAt` is in milliseconds, `updatedAt` in nanoseconds (Opsgenie's own samples);
//! both are normalised. A `Create` happens at `createdAt`, other actions at `updatedAt`.
//!
//! The subject keeps the alert's `entity`, teams, `tags` and `details` (the extra
//! properties, sent when the integration's "Add Alert Details to Payload" is on): what the
//! Backstage plugin's `opsgenie.com/component-selector` queries select on. Teams are the
//! names of the `responders` of type `team` (the webhook's `teams` lists team *ids*, which
//! no `opsgenie.com/team` annotation holds), then those ids.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::Delivery;
use crate::error::{ReadError, parse};
use crate::incident_text::severity;
use crate::model::{Event, Incident, IncidentStatus, Subject};
use crate::source::Source;
use crate::time::MaybeTime;

const SENDER: Source = Source::Opsgenie;

#[derive(Deserialize)]
struct Payload {
    action: String,
    alert: OpsgenieAlert,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OpsgenieAlert {
    alert_id: String,
    message: Option<String>,
    tiny_id: Option<String>,
    entity: Option<String>,
    #[serde(default)]
    teams: Vec<Team>,
    #[serde(default)]
    responders: Vec<Responder>,
    #[serde(default)]
    tags: Vec<String>,
    /// Extra properties: string values (other scalars are kept as their JSON text).
    #[serde(default)]
    details: BTreeMap<String, Value>,
    priority: Option<Priority>,
    #[serde(default)]
    created_at: MaybeTime,
    #[serde(default)]
    updated_at: MaybeTime,
}

/// One who is notified: a team, a user, an escalation or a schedule.
#[derive(Deserialize)]
struct Responder {
    #[serde(rename = "type")]
    kind: Option<String>,
    name: Option<String>,
}

/// Teams come as ids (Opsgenie's webhook), names, or `{id, name}` objects.
#[derive(Deserialize)]
#[serde(untagged)]
enum Team {
    Name(String),
    Object {
        name: Option<String>,
        id: Option<String>,
    },
}

/// `P3` or `3`.
#[derive(Deserialize)]
#[serde(untagged)]
enum Priority {
    Text(String),
    Number(u64),
}

pub(crate) fn read(body: &[u8]) -> Result<Delivery, ReadError> {
    let payload: Payload = parse(SENDER, body, "")?;
    let id = crate::body_key(body);
    let alert = payload.alert;
    let status = match payload.action.as_str() {
        "Create" => IncidentStatus::Opened,
        "Acknowledge" => IncidentStatus::Acknowledged,
        "Close" => IncidentStatus::Resolved,
        other => {
            let reason = format!("Opsgenie action {other:?} is not read");
            return Ok(Delivery::new(
                SENDER,
                id,
                payload.action,
                vec![],
                Some(reason),
                None,
            ));
        }
    };
    let at = match status {
        IncidentStatus::Opened => alert.created_at.0,
        _ => alert.updated_at.0,
    };
    let Some(at) = at.or(alert.created_at.0) else {
        let field = if status == IncidentStatus::Opened {
            "createdAt"
        } else {
            "updatedAt"
        };
        return Err(crate::error::invalid(
            &format!("alert.{field}"),
            "required field is missing",
        ));
    };
    let severity = alert.priority.and_then(|priority| match priority {
        Priority::Text(text) => severity(&text),
        Priority::Number(number) => severity(&number.to_string()),
    });
    let mut teams: Vec<String> = Vec::new();
    let named = alert
        .responders
        .into_iter()
        .filter(|responder| responder.kind.as_deref() == Some("team"))
        .filter_map(|responder| responder.name);
    let listed = alert.teams.into_iter().filter_map(|team| match team {
        Team::Name(name) => Some(name),
        Team::Object { name, id } => name.or(id),
    });
    for team in named.chain(listed) {
        if !team.is_empty() && !teams.contains(&team) {
            teams.push(team);
        }
    }
    let incident = Incident {
        subject: Subject::Opsgenie {
            teams,
            entity: alert.entity.filter(|entity| !entity.is_empty()),
            tags: alert
                .tags
                .into_iter()
                .filter(|tag| !tag.is_empty())
                .collect(),
            details: alert
                .details
                .into_iter()
                .filter_map(|(key, value)| match value {
                    Value::String(text) => Some((key, text)),
                    Value::Null | Value::Array(_) | Value::Object(_) => None,
                    scalar => Some((key, scalar.to_string())),
                })
                .collect(),
        },
        id: alert.alert_id,
        number: alert.tiny_id.as_deref().and_then(|tiny| tiny.parse().ok()),
        title: alert.message,
        severity,
        status,
        at,
        opened_at: alert.created_at.0,
        url: None,
        caused_by: None,
        environment: None,
    };
    Ok(Delivery::new(
        SENDER,
        id,
        payload.action,
        vec![Event::Incident(incident)],
        None,
        Some(at),
    ))
}
