//! Prometheus Alertmanager webhook notifications (payload version 4). One delivery is a group
//! of alerts; each becomes an [`Alert`] whose subject is its labels. The idempotency key is
//! the body's SHA-256: Alertmanager sends no delivery id, and a repeated notification of an
//! unchanged group is the same news.
//!
//! The secret comes as `Authorization: Bearer <secret>` (`http_config.authorization` in the
//! receiver's `webhook_configs`).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::Delivery;
use crate::error::{ReadError, parse};
use crate::model::{Alert, AlertStatus, Event, Subject};
use crate::source::Source;
use crate::time::{MaybeTime, Time, is_go_zero_time};

const SENDER: Source = Source::Alertmanager;

#[derive(Deserialize)]
struct Payload {
    version: Option<String>,
    status: String,
    #[serde(default)]
    alerts: Vec<AmAlert>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AmAlert {
    status: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    starts_at: Time,
    #[serde(default)]
    ends_at: MaybeTime,
    #[serde(rename = "generatorURL")]
    generator_url: Option<String>,
    fingerprint: Option<String>,
}

pub(crate) fn read(body: &[u8]) -> Result<Delivery, ReadError> {
    let payload: Payload = parse(SENDER, body, "")?;
    let id = crate::body_key(body);
    if let Some(version) = payload.version.as_deref().filter(|version| *version != "4") {
        let reason = format!("Alertmanager payload version {version} is not read (4 is)");
        return Ok(Delivery::new(
            SENDER,
            id,
            payload.status,
            vec![],
            Some(reason),
            None,
        ));
    }
    let mut events = Vec::with_capacity(payload.alerts.len());
    for (index, alert) in payload.alerts.into_iter().enumerate() {
        let status = match alert.status.as_str() {
            "firing" => AlertStatus::Firing,
            "resolved" => AlertStatus::Resolved,
            other => {
                return Err(crate::error::invalid(
                    &format!("alerts[{index}].status"),
                    format!("{other:?} is neither \"firing\" nor \"resolved\""),
                ));
            }
        };
        // A firing alert has not ended; its endsAt is Go's zero time or a provisional
        // resolve time, neither of which is an end.
        let ends_at = alert
            .ends_at
            .0
            .filter(|at| status == AlertStatus::Resolved && !is_go_zero_time(*at));
        // Alertmanager before 0.19 sent no fingerprint; the sorted label set identifies the
        // alert just as well.
        let fingerprint = alert
            .fingerprint
            .filter(|print| !print.is_empty())
            .unwrap_or_else(|| {
                let pairs: Vec<String> = alert
                    .labels
                    .iter()
                    .map(|(name, value)| format!("{name}={value:?}"))
                    .collect();
                format!("{{{}}}", pairs.join(","))
            });
        events.push(Event::Alert(Alert {
            name: alert.labels.get("alertname").cloned(),
            severity: alert.labels.get("severity").cloned(),
            subject: Subject::Labels(alert.labels),
            fingerprint,
            status,
            summary: alert.annotations.get("summary").cloned(),
            starts_at: alert.starts_at.0,
            ends_at,
            url: alert.generator_url.filter(|url| !url.is_empty()),
        }));
    }
    let ignored = events
        .is_empty()
        .then(|| "the notification lists no alerts".to_owned());
    Ok(Delivery::new(
        SENDER,
        id,
        payload.status,
        events,
        ignored,
        None,
    ))
}
