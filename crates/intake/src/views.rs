//! What pages and commands read: DORA reports (from a cached index), incidents with their
//! timelines, alert quality, what each entity runs, and the subjects no entity claims.

use pave_delivery::alerts::{AlertQualityOptions, AlertReport, IncidentSpan};
use pave_delivery::{DeploymentRow, IncidentRow, LatestDeployment};
use pave_dora::{Query, Report};
use pave_events::Millis;
use serde::Serialize;

use crate::error::IntakeError;
use crate::processor::Processor;

/// An incident for lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncidentView {
    #[serde(flatten)]
    pub row: IncidentRow,
    pub open: bool,
    /// Resolution minus opening, once resolved.
    pub duration_ms: Option<Millis>,
}

impl IncidentView {
    fn new(row: IncidentRow) -> IncidentView {
        IncidentView {
            open: row.resolved_at.is_none(),
            duration_ms: row.resolved_at.map(|r| r - row.opened_at),
            row,
        }
    }
}

/// One incident with the deployments it is linked to and what happened when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncidentDetail {
    pub incident: IncidentView,
    /// The deployment that caused it, when linked (how: `incident.row.link`).
    pub caused_by: Option<DeploymentRow>,
    /// The rollback or hotfix that fixed it.
    pub fixed_by: Option<DeploymentRow>,
    /// `(time, what)`, oldest first.
    pub timeline: Vec<(Millis, String)>,
}

/// What an entity runs in an environment.
pub type DeploymentView = LatestDeployment;

/// A subject no entity claims: its key (to annotate or map), events, last seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unattributed {
    pub key: String,
    pub events: u64,
    pub last_seen: Millis,
}

impl Processor {
    /// The DORA report for `query` over the facts of `environment` (the query's own
    /// environment index is replaced by that environment's). The index behind it is built
    /// once per change of the ledger and shared by every report until the next change.
    pub async fn report(&self, query: &Query, environment: &str) -> Result<Report, IntakeError> {
        let index = self.index(environment).await?;
        let Some(env) = index.environment(environment) else {
            return Err(IntakeError::Invalid(format!(
                "no deployment to {environment:?} has been recorded yet"
            )));
        };
        let mut query = *query;
        query.environment = env;
        tokio::task::spawn_blocking(move || pave_dora::report(&index, &query))
            .await
            .map_err(IntakeError::Worker)?
            .map_err(IntakeError::from)
    }

    /// Incidents, most recently opened first; `entity` narrows to one entity reference,
    /// `open_only` to unresolved ones.
    pub fn incidents(&self, entity: Option<&str>, open_only: bool) -> Vec<IncidentView> {
        self.with_ledger(|ledger, _| {
            ledger
                .incident_rows()
                .into_iter()
                .filter(|row| entity.is_none_or(|e| row.entity.as_deref() == Some(e)))
                .filter(|row| !open_only || row.resolved_at.is_none())
                .map(IncidentView::new)
                .collect()
        })
    }

    /// One incident by its row id (decimal) or the sender's id (`org/repo#12`, `Q1ABC…`,
    /// a declared incident's id).
    pub fn incident(&self, id: &str) -> Option<IncidentDetail> {
        self.with_ledger(|ledger, _| {
            let row = match id.parse::<u64>().ok().and_then(|n| ledger.incident(n)) {
                Some(row) => row,
                None => ledger
                    .incident_rows()
                    .into_iter()
                    .find(|row| row.incident == id)?,
            };
            let caused_by = row.caused_by.and_then(|d| ledger.deployment(d));
            let fixed_by = row.fixed_by.and_then(|d| ledger.deployment(d));
            let timeline = timeline(&row, caused_by.as_ref(), fixed_by.as_ref());
            Some(IncidentDetail {
                incident: IncidentView::new(row),
                caused_by,
                fixed_by,
                timeline,
            })
        })
    }

    /// The latest and the current (latest successful) deployment of each entity in each
    /// environment; `entity` narrows to one.
    pub fn latest_deployments(&self, entity: Option<&str>) -> Vec<DeploymentView> {
        self.with_ledger(|ledger, _| ledger.latest_deployments(entity))
    }

    /// Alert quality over the firings that started in `since..=now` (`entities` narrows to
    /// those entity references), judged against every incident of the same entities.
    pub fn alert_report(
        &self,
        entities: Option<&[String]>,
        since: Millis,
        now: Millis,
        options: &AlertQualityOptions,
    ) -> AlertReport {
        // Rows are copied out under the ledger's lock and measured after it is released.
        let (alerts, incidents) = self.with_ledger(|ledger, _| {
            let alerts: Vec<_> = ledger
                .alert_rows()
                .into_iter()
                .filter(|row| {
                    entities.is_none_or(|set| row.entity.as_ref().is_some_and(|e| set.contains(e)))
                })
                .collect();
            (alerts, ledger.incident_rows())
        });
        let spans: Vec<IncidentSpan<'_>> = incidents.iter().filter_map(IncidentSpan::of).collect();
        pave_delivery::alerts::alert_report(&alerts, &spans, since, now, options)
    }

    /// Subjects no entity claims, most events first.
    pub fn unattributed(&self) -> Vec<Unattributed> {
        self.with_ledger(|ledger, _| {
            ledger
                .unattributed()
                .into_iter()
                .map(|(key, events, last_seen)| Unattributed {
                    key,
                    events,
                    last_seen,
                })
                .collect()
        })
    }
}

fn describe(deployment: &DeploymentRow) -> String {
    let what = deployment
        .version
        .as_deref()
        .or(deployment.sha.as_deref().map(|s| s.get(..12).unwrap_or(s)))
        .unwrap_or(&deployment.source_id);
    format!("{} to {}", what, deployment.environment)
}

fn timeline(
    row: &IncidentRow,
    caused_by: Option<&DeploymentRow>,
    fixed_by: Option<&DeploymentRow>,
) -> Vec<(Millis, String)> {
    let mut events = Vec::new();
    if let Some(d) = caused_by
        && let Some(at) = d.finished_at
    {
        events.push((at, format!("deployed {} (the cause)", describe(d))));
    }
    events.push((row.opened_at, "opened".to_owned()));
    if let Some(at) = row.acknowledged_at {
        events.push((at, "acknowledged".to_owned()));
    }
    if let Some(d) = fixed_by
        && let Some(at) = d.finished_at
    {
        let kind = if d.rollback { "rolled back" } else { "hotfix" };
        events.push((at, format!("{kind}: deployed {}", describe(d))));
    }
    if let Some(at) = row.last_resolved_at {
        events.push((at, "resolved".to_owned()));
    }
    for &at in &row.reopened_at {
        events.push((at, "reopened".to_owned()));
    }
    events.sort_by_key(|e| e.0);
    events
}
