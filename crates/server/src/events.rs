//! Delivery events in and delivery facts out: `POST /api/events/{source}` hands each webhook
//! delivery to the intake (`pave-intake`), and [`LedgerReports`] serves the DORA pages, the
//! Delivery cards and the incident API from the processor's ledger.
//!
//! The route is public: every source authenticates its own way (an HMAC signature or a shared
//! secret, checked by the intake). A CDEvents sender may instead present a pave API token or
//! a workload token whose role holds `events.write`; the `authenticate` middleware leaves any
//! other `Bearer` value on these paths to the intake, where it is a source's shared secret.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use pave_auth::Permission;
use pave_auth::SubjectKind;
use pave_delivery::DeploymentRow;
use pave_dora::Index;
use pave_events::{DeploymentStatus, Source};
use pave_intake::{ErrorKind, Intake, IntakeError, Origin, Processor};

use crate::AppState;
use crate::auth::{Caller, check};
use crate::delivery::{
    DeliveryCard, DeliveryReports, DeploymentOutcome, IncidentFilter, IncidentState,
    IncidentSummary, KnownPostmortem, LastDeployment, TimelineEntry,
};
use crate::error::ApiError;

/// The intake and the processor of one server.
pub struct Events {
    pub intake: Arc<Intake>,
    pub processor: Arc<Processor>,
}

/// Whether `path` is an events route, where a `Bearer` value that is no pave credential is
/// a source's shared secret (see the module docs).
pub(crate) fn is_events_path(path: &str) -> bool {
    path.starts_with("/api/events/")
}

/// `POST /api/events/{source}`.
pub(crate) async fn receive(
    State(state): State<Arc<AppState>>,
    Caller(principal): Caller,
    Path(source): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(events) = state.events() else {
        return ApiError::NotFound(
            "this server takes no delivery events: configure `events.sources` in pave.yaml".into(),
        )
        .into_response();
    };
    let pairs: Vec<(&str, &str)> = headers
        .iter()
        .filter_map(|(name, value)| value.to_str().ok().map(|v| (name.as_str(), v)))
        .collect();
    let now = pave_stdx::time::unix_millis();
    let subject = principal.subject();
    let with_credential = !matches!(subject.kind, SubjectKind::Anonymous | SubjectKind::Operator);
    let result = if with_credential {
        // A pave token or workload token: the role must allow posting events, and only
        // CDEvents (the sender-neutral format) is taken this way.
        if let Err(e) = check(
            &state,
            &principal,
            Permission::EventsWrite,
            &pave_auth::Resource::None,
            &format!("events/{source}"),
        )
        .await
        {
            return e.into_response();
        }
        match source.parse::<Source>() {
            Ok(Source::Cdevents) => {
                events
                    .intake
                    .record(
                        Source::Cdevents,
                        pairs.as_slice(),
                        &body,
                        now,
                        principal.actor(),
                    )
                    .await
            }
            Ok(other) => {
                return ApiError::Input(format!(
                    "{other} deliveries are authenticated by the sender's signature or secret; \
                     only cdevents may be posted with a pave token"
                ))
                .into_response();
            }
            Err(e) => Err(IntakeError::from(e)),
        }
    } else {
        let origin = match &principal {
            pave_platform::Principal::Request(request) => Origin {
                address: request.source.clone(),
                request_id: request.request_id.clone(),
            },
            _ => Origin::default(),
        };
        events
            .intake
            .receive_from(&origin, &source, pairs.as_slice(), &body, now)
            .await
    };
    match result {
        Ok(receipt) => {
            let status = if receipt.duplicate {
                StatusCode::OK
            } else {
                StatusCode::ACCEPTED
            };
            (status, Json(receipt)).into_response()
        }
        Err(e) => intake_error(&e, "delivery not recorded").into_response(),
    }
}

/// The answer for an intake error: its kind decides the status, its text the message
/// (`internal` names what was not recorded in the log line).
pub(crate) fn intake_error(error: &IntakeError, internal: &str) -> ApiError {
    let message = error.to_string();
    match error.kind() {
        ErrorKind::NotFound => ApiError::NotFound(message),
        ErrorKind::Unauthorized => ApiError::Unauthenticated(message),
        ErrorKind::TooLarge => ApiError::TooLarge(message),
        ErrorKind::BadRequest => ApiError::Input(message),
        ErrorKind::Busy => ApiError::TooMany {
            message,
            retry_after: error.retry_after().map_or(1, |d| d.as_secs().max(1)),
        },
        ErrorKind::Unavailable => ApiError::Unavailable(message),
        ErrorKind::Internal => ApiError::internal(internal, message),
    }
}

/// The largest body the events route reads: the intake's limit, plus one byte so that the
/// intake itself refuses what is over it (413 with its message, not a cut-off body).
pub(crate) fn body_limit(state: &AppState) -> usize {
    state
        .events()
        .map_or(pave_intake::IntakeConfig::default().body_limit, |e| {
            e.intake.config().body_limit
        })
        + 1
}

/// DORA reports, Delivery cards and incidents from the processor's ledger; postmortems
/// from the platform's sources and the processor's posted ones.
pub struct LedgerReports {
    pub processor: Arc<Processor>,
    pub platform: Arc<pave_platform::Platform>,
}

impl DeliveryReports for LedgerReports {
    fn postmortems(&self) -> Vec<KnownPostmortem> {
        let from_sources =
            self.platform
                .source_postmortems()
                .into_iter()
                .map(|p| KnownPostmortem {
                    origin: "source",
                    postmortem: p,
                });
        let posted = self
            .processor
            .posted_postmortems()
            .into_iter()
            .map(|p| KnownPostmortem {
                origin: "api",
                postmortem: p,
            });
        from_sources.chain(posted).collect()
    }

    fn incident_records(&self) -> Vec<pave_dora::postmortem::IncidentRecord> {
        self.processor.incident_records()
    }

    fn index(&self, environment: &str) -> Option<Arc<Index>> {
        match self.processor.index_blocking(environment) {
            Ok(index) if index.environment(environment).is_some() => Some(index),
            Ok(_) => None,
            Err(e) => {
                tracing::error!(error = %e, "cannot build the DORA index");
                None
            }
        }
    }

    fn delivery_card(&self, entity_ref: &str) -> DeliveryCard {
        let mut environments: Vec<LastDeployment> = Vec::new();
        let mut production_version = None;
        for latest in self.processor.latest_deployments(Some(entity_ref)) {
            let d = &latest.latest;
            if d.production
                && let Some(current) = &latest.current
            {
                production_version = current.version.clone().or_else(|| current.sha.clone());
            }
            environments.push(LastDeployment {
                environment: latest.environment.clone(),
                at: d
                    .finished_at
                    .or(d.started_at)
                    .or(d.queued_at)
                    .unwrap_or(d.first_seq as i64),
                version: d.version.clone(),
                sha: d.sha.clone(),
                outcome: outcome_of(d.status),
                rollback: d.rollback,
                url: d.url.clone(),
            });
        }
        environments.sort_by(|a, b| {
            (a.environment != "production", &a.environment)
                .cmp(&(b.environment != "production", &b.environment))
        });
        let open_incidents = self.incidents(&IncidentFilter {
            entities: Some(vec![entity_ref.to_owned()]),
            state: Some(IncidentState::Open),
            ..IncidentFilter::default()
        });
        DeliveryCard {
            environments,
            production_version,
            open_incidents,
        }
    }

    fn incidents(&self, filter: &IncidentFilter) -> Vec<IncidentSummary> {
        let entity = match filter.entities.as_deref() {
            Some([one]) => Some(one.as_str()),
            _ => None,
        };
        self.processor
            .incidents(entity, filter.state == Some(IncidentState::Open))
            .into_iter()
            .map(|view| summary(&view.row, None, Vec::new()))
            .filter(|s| filter.matches(s))
            .take(filter.limit)
            .collect()
    }

    fn alert_report(
        &self,
        entities: Option<&[String]>,
        since: i64,
        now: i64,
    ) -> pave_delivery::alerts::AlertReport {
        let options = pave_delivery::alerts::AlertQualityOptions::default();
        self.processor.alert_report(entities, since, now, &options)
    }

    fn incident(&self, id: &str) -> Option<IncidentSummary> {
        let detail = self.processor.incident(id)?;
        let timeline = detail
            .timeline
            .iter()
            .map(|(at, what)| TimelineEntry {
                at: *at,
                what: what.clone(),
            })
            .collect();
        Some(summary(
            &detail.incident.row,
            detail.caused_by.as_ref(),
            timeline,
        ))
    }
}

fn summary(
    row: &pave_delivery::IncidentRow,
    caused_by: Option<&DeploymentRow>,
    timeline: Vec<TimelineEntry>,
) -> IncidentSummary {
    let caused = caused_by.map(|d| {
        let what = d
            .version
            .clone()
            .or_else(|| d.sha.as_deref().map(|s| s.chars().take(12).collect()))
            .unwrap_or_else(|| d.source_id.clone());
        format!("{what} to {}", d.environment)
    });
    IncidentSummary {
        id: row.incident.clone(),
        title: row.title.clone().unwrap_or_else(|| row.incident.clone()),
        entity: row.entity.clone(),
        severity: row.severity,
        state: if row.resolved_at.is_some() {
            IncidentState::Resolved
        } else {
            IncidentState::Open
        },
        opened_at: row.opened_at,
        acknowledged_at: row.acknowledged_at,
        resolved_at: row.resolved_at,
        caused_by: caused.or_else(|| row.caused_by.map(|d| format!("deployment {d}"))),
        source: row.source.as_str().to_owned(),
        url: row.url.clone(),
        timeline,
    }
}

/// A deployment's status as the card shows it: canceled counts as not succeeded.
fn outcome_of(status: DeploymentStatus) -> DeploymentOutcome {
    match status {
        DeploymentStatus::Succeeded | DeploymentStatus::RolledBack | DeploymentStatus::Removed => {
            DeploymentOutcome::Succeeded
        }
        DeploymentStatus::Failed | DeploymentStatus::Canceled => DeploymentOutcome::Failed,
        DeploymentStatus::Queued | DeploymentStatus::Started => DeploymentOutcome::Running,
    }
}

/// How often the processor looks for deliveries another replica recorded.
pub const PROCESSOR_POLL: Duration = Duration::from_secs(5);
