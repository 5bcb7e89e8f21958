//! Incidents declared by hand (`pave incident declare|resolve`), for teams whose pager does
//! not send pave its incidents. Each is a CDEvents `incident.reported` / `incident.resolved`
//! CloudEvent (structured JSON) recorded as a `cdevents` delivery through the intake's queue
//! and transaction: declared and paged incidents are merged, linked to deployments,
//! replayed and counted by the same rules, and the raw event is kept like any other.
//!
//! The event's service is `{source: "pave:catalog", id: <entity reference>}`
//! ([`pave_delivery::CATALOG_SOURCE`]), which attribution reads as the entity itself.

use pave_audit::Actor;
use pave_catalog::EntityRef;
use pave_delivery::CATALOG_SOURCE;
use pave_events::{Millis, Source};
use serde_json::{Value, json};

use crate::error::IntakeError;
use crate::intake::{Intake, Receipt};

/// The CDEvents version pave writes (read back by `pave_events::cdevents`).
const CDEVENTS_VERSION: &str = "0.4.1";

/// An incident to declare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declaration {
    /// The entity it is about: `checkout`, `component:default/checkout`.
    pub entity: String,
    /// Its id; a new one (`inc-<uuid>`) when `None`.
    pub id: Option<String>,
    pub title: String,
    /// `sev1`…`sev5`, `P1`, `critical`, … (read as the pagers' words are).
    pub severity: Option<String>,
    pub environment: Option<String>,
    /// When it started (defaults to when it is declared).
    pub at: Millis,
}

/// RFC 3339 with milliseconds, UTC.
pub fn rfc3339_ms(millis: Millis) -> String {
    let seconds = millis.div_euclid(1000);
    let ms = millis.rem_euclid(1000);
    let (days, rem) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = pave_stdx::time::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn entity_key(entity: &str) -> Result<String, IntakeError> {
    EntityRef::parse(entity.trim(), Some("component"), "default")
        .map(|r| r.key().into_string())
        .map_err(|e| IntakeError::Invalid(format!("{entity:?} is not an entity reference: {e}")))
}

/// The CloudEvent (structured mode) for an incident of `entity`: `reported` or `resolved`.
pub fn incident_event(
    entity: &str,
    id: &str,
    resolved: bool,
    title: Option<&str>,
    severity: Option<&str>,
    environment: Option<&str>,
    at: Millis,
) -> Result<Vec<u8>, IntakeError> {
    let entity = entity_key(entity)?;
    if id.trim().is_empty() {
        return Err(IntakeError::Invalid(
            "an incident id must not be empty".to_owned(),
        ));
    }
    let predicate = if resolved { "resolved" } else { "reported" };
    let ty = format!("dev.cdevents.incident.{predicate}.0.2.0");
    let event_id = uuid::Uuid::new_v4().to_string();
    let time = rfc3339_ms(at);
    let mut content = json!({"service": {"id": entity, "source": CATALOG_SOURCE}});
    if let Some(title) = title {
        content["description"] = Value::from(title);
    }
    if let Some(environment) = environment {
        content["environment"] = json!({"id": environment, "source": CATALOG_SOURCE});
    }
    let mut data = json!({
        "context": {
            "version": CDEVENTS_VERSION,
            "id": event_id,
            "source": CATALOG_SOURCE,
            "type": ty,
            "timestamp": time,
        },
        "subject": {"id": id.trim(), "source": CATALOG_SOURCE, "content": content},
    });
    if let Some(severity) = severity {
        data["customData"] = json!({"severity": severity});
        data["customDataContentType"] = Value::from("application/json");
    }
    let event = json!({
        "specversion": "1.0",
        "id": event_id,
        "source": CATALOG_SOURCE,
        "type": ty,
        "time": time,
        "datacontenttype": "application/json",
        "data": data,
    });
    serde_json::to_vec(&event).map_err(|e| IntakeError::Invalid(e.to_string()))
}

const HEADERS: [(&str, &str); 1] = [(
    "Content-Type",
    pave_events::cdevents::STRUCTURED_CONTENT_TYPE,
)];

impl Intake {
    /// Declares an incident; returns its id and the receipt of the recorded event.
    pub async fn declare_incident(
        &self,
        declaration: &Declaration,
        actor: Actor,
        now: Millis,
    ) -> Result<(String, Receipt), IntakeError> {
        let id = declaration
            .id
            .clone()
            .unwrap_or_else(|| format!("inc-{}", uuid::Uuid::new_v4().simple()));
        let body = incident_event(
            &declaration.entity,
            &id,
            false,
            Some(&declaration.title),
            declaration.severity.as_deref(),
            declaration.environment.as_deref(),
            declaration.at,
        )?;
        let receipt = self
            .record(Source::Cdevents, &HEADERS, &body, now, actor)
            .await?;
        Ok((id, receipt))
    }

    /// Resolves an incident declared with [`Intake::declare_incident`] (same entity and id).
    pub async fn resolve_incident(
        &self,
        entity: &str,
        id: &str,
        at: Millis,
        actor: Actor,
        now: Millis,
    ) -> Result<Receipt, IntakeError> {
        let body = incident_event(entity, id, true, None, None, None, at)?;
        self.record(Source::Cdevents, &HEADERS, &body, now, actor)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pave_events::{Event, IncidentStatus, ReadOptions, Subject};

    #[test]
    fn declared_incidents_read_back_as_cdevents() {
        let at = 1_767_225_600_123; // 2026-01-01T00:00:00.123Z
        assert_eq!(rfc3339_ms(at), "2026-01-01T00:00:00.123Z");
        let body = incident_event(
            "Checkout",
            "inc-1",
            false,
            Some("Checkout is down"),
            Some("sev2"),
            Some("production"),
            at,
        )
        .unwrap();
        let delivery =
            pave_events::read(Source::Cdevents, &HEADERS, &body, &ReadOptions::default()).unwrap();
        let [Event::Incident(incident)] = delivery.events.as_slice() else {
            panic!("{delivery:?}")
        };
        assert_eq!(incident.status, IncidentStatus::Opened);
        assert_eq!(incident.id, "pave:catalog#inc-1");
        assert_eq!(incident.at, at);
        assert_eq!(incident.severity.as_ref().map(|s| s.level), Some(2));
        assert_eq!(incident.title.as_deref(), Some("Checkout is down"));
        assert_eq!(incident.environment.as_deref(), Some("production"));
        assert_eq!(
            incident.subject,
            Subject::Cdevents {
                source: CATALOG_SOURCE.to_owned(),
                id: "component:default/checkout".to_owned()
            }
        );
        let body =
            incident_event("checkout", "inc-1", true, None, None, None, at + 60_000).unwrap();
        let delivery =
            pave_events::read(Source::Cdevents, &HEADERS, &body, &ReadOptions::default()).unwrap();
        let [Event::Incident(resolved)] = delivery.events.as_slice() else {
            panic!("{delivery:?}")
        };
        assert_eq!(resolved.status, IncidentStatus::Resolved);
        assert_eq!(resolved.id, incident.id);
        assert_eq!(resolved.subject, incident.subject);
        assert!(incident_event("", "x", false, None, None, None, at).is_err());
        assert!(incident_event("checkout", " ", false, None, None, None, at).is_err());
    }
}
