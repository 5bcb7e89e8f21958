//! The seam between the server and whatever keeps delivery facts (the delivery ledger, or a
//! test's generated history): [`DeliveryReports`]. The server computes DORA reports from the
//! index it hands out and shows its cards and incidents; it never reads events or the ledger
//! itself, so the intake can change without the portal knowing.
//!
//! `AppState::set_delivery_reports` installs one (or `None`: the API answers 404 and the
//! portal's DORA pages say there is no delivery data, the entity page has no Delivery card).

use std::sync::Arc;

use pave_dora::Index;
use pave_dora::postmortem::{
    IncidentRecord, KpiOptions, OverdueAction, Postmortem, PostmortemKpis, Window,
};
use serde::Serialize;
use utoipa::ToSchema;

/// What the server asks of the delivery ledger.
pub trait DeliveryReports: Send + Sync {
    /// The index reports are computed from for `environment` (`"production"`), built once
    /// and kept until the facts change; `None` when there is no data for it.
    fn index(&self, environment: &str) -> Option<Arc<Index>>;

    /// What an entity page's Delivery card shows for `entity_ref` (`kind:namespace/name`,
    /// lower case, as catalog keys are); an empty card when nothing was delivered.
    fn delivery_card(&self, entity_ref: &str) -> DeliveryCard;

    /// Incidents matching `filter`, newest (by `opened_at`) first, at most `filter.limit`.
    fn incidents(&self, filter: &IncidentFilter) -> Vec<IncidentSummary>;

    /// Alert quality over the firings that started in `since..=now`; `entities` narrows to
    /// those entity references. No firings by default.
    fn alert_report(
        &self,
        _entities: Option<&[String]>,
        since: i64,
        now: i64,
    ) -> pave_delivery::alerts::AlertReport {
        pave_delivery::alerts::AlertReport {
            since,
            now,
            ..Default::default()
        }
    }

    /// One incident by id, with its timeline.
    fn incident(&self, id: &str) -> Option<IncidentSummary> {
        self.incidents(&IncidentFilter::default())
            .into_iter()
            .find(|i| i.id == id)
    }

    /// Every postmortem known: those read from registered sources and those posted through
    /// the API. None by default.
    fn postmortems(&self) -> Vec<KnownPostmortem> {
        Vec::new()
    }

    /// The incidents as the postmortem KPIs see them. None by default.
    fn incident_records(&self) -> Vec<IncidentRecord> {
        Vec::new()
    }

    /// The postmortem KPIs over `window` at `now` (completion for sev-1/2 incidents, action
    /// closure by due date, repeat incidents per service, overdue actions by owner).
    fn postmortem_kpis(&self, window: Window, now: i64) -> PostmortemKpis {
        let postmortems: Vec<Postmortem> = self
            .postmortems()
            .into_iter()
            .map(|k| k.postmortem)
            .collect();
        pave_dora::postmortem::kpis(
            &postmortems,
            &self.incident_records(),
            window,
            now,
            &KpiOptions::default(),
        )
    }

    /// Open corrective actions past their due day whose owner is `owner_ref` (a group or
    /// user key), most overdue first; shown on the owning team's page.
    fn overdue_actions(&self, owner_ref: &str) -> Vec<OverdueAction> {
        let postmortems: Vec<Postmortem> = self
            .postmortems()
            .into_iter()
            .map(|k| k.postmortem)
            .filter(|p| p.actions.iter().any(|a| a.owner == owner_ref))
            .collect();
        pave_dora::postmortem::overdue_actions(&postmortems, pave_stdx::time::unix_millis())
            .into_iter()
            .filter(|a| a.owner == owner_ref)
            .collect()
    }
}

/// A postmortem and where pave got it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KnownPostmortem {
    /// `source`: read from a registered catalog source (`docs/postmortems/*.md`); `api`:
    /// posted through `POST /api/postmortems`.
    pub origin: &'static str,
    #[serde(flatten)]
    pub postmortem: Postmortem,
}

/// An entity's delivery at a glance.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DeliveryCard {
    /// The latest deployment to each environment the entity was deployed to, production
    /// first, then by name.
    pub environments: Vec<LastDeployment>,
    /// The version (or commit) production runs: its latest successful deployment's.
    pub production_version: Option<String>,
    /// Incidents of the entity not resolved yet, newest first.
    pub open_incidents: Vec<IncidentSummary>,
}

impl DeliveryCard {
    pub fn is_empty(&self) -> bool {
        self.environments.is_empty()
            && self.production_version.is_none()
            && self.open_incidents.is_empty()
    }
}

/// The latest deployment to one environment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LastDeployment {
    pub environment: String,
    /// When it finished, or when it started if it is still running.
    pub at: i64,
    pub version: Option<String>,
    /// The commit deployed (full or short).
    pub sha: Option<String>,
    pub outcome: DeploymentOutcome,
    /// It returned to an earlier version.
    pub rollback: bool,
    /// The sender's page for it (a workflow run, an Argo CD application).
    pub url: Option<String>,
}

/// How a deployment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentOutcome {
    Succeeded,
    Failed,
    Running,
}

impl DeploymentOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentOutcome::Succeeded => "succeeded",
            DeploymentOutcome::Failed => "failed",
            DeploymentOutcome::Running => "running",
        }
    }
}

impl From<pave_dora::facts::Outcome> for DeploymentOutcome {
    fn from(outcome: pave_dora::facts::Outcome) -> Self {
        match outcome {
            pave_dora::facts::Outcome::Succeeded => DeploymentOutcome::Succeeded,
            pave_dora::facts::Outcome::Failed => DeploymentOutcome::Failed,
            pave_dora::facts::Outcome::Running => DeploymentOutcome::Running,
        }
    }
}

/// Which incidents to list. Every field narrows; the default is every incident, newest
/// [`IncidentFilter::DEFAULT_LIMIT`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentFilter {
    /// Only incidents attributed to one of these entities (keys); `None`: any, unattributed
    /// ones included.
    pub entities: Option<Vec<String>>,
    pub state: Option<IncidentState>,
    /// 1 (most severe) to 5.
    pub severity: Option<u8>,
    /// At most this many, newest first.
    pub limit: usize,
}

impl IncidentFilter {
    /// Incidents listed when the caller names no limit.
    pub const DEFAULT_LIMIT: usize = 100;
    /// The most one listing returns.
    pub const MAX_LIMIT: usize = 1000;

    /// Whether `incident` passes every condition but the limit (for implementations).
    pub fn matches(&self, incident: &IncidentSummary) -> bool {
        self.entities.as_ref().is_none_or(|wanted| {
            incident
                .entity
                .as_ref()
                .is_some_and(|e| wanted.iter().any(|w| w == e))
        }) && self.state.is_none_or(|s| s == incident.state)
            && self.severity.is_none_or(|s| incident.severity == Some(s))
    }
}

impl Default for IncidentFilter {
    fn default() -> Self {
        IncidentFilter {
            entities: None,
            state: None,
            severity: None,
            limit: IncidentFilter::DEFAULT_LIMIT,
        }
    }
}

/// Whether an incident is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IncidentState {
    /// Not resolved (acknowledged or not: see `acknowledged_at`).
    Open,
    Resolved,
}

impl IncidentState {
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentState::Open => "open",
            IncidentState::Resolved => "resolved",
        }
    }
}

/// One incident, as listed; [`DeliveryReports::incident`] adds its timeline.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct IncidentSummary {
    /// The id its source gives it (`PD-Q2K3ZL0`, `github:acme/checkout#812`).
    pub id: String,
    pub title: String,
    /// The entity it is attributed to (a key), when known.
    pub entity: Option<String>,
    /// 1 (most severe) to 5, when the source says.
    pub severity: Option<u8>,
    pub state: IncidentState,
    /// Unix ms, UTC.
    pub opened_at: i64,
    pub acknowledged_at: Option<i64>,
    pub resolved_at: Option<i64>,
    /// The deployment that caused it (a description: version and time), when linked.
    pub caused_by: Option<String>,
    /// Where it came from (`pagerduty`, `opsgenie`, `pave`).
    pub source: String,
    /// The source's page for it.
    pub url: Option<String>,
    /// What happened, oldest first (only in a single incident's answer).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<TimelineEntry>,
}

/// One event of an incident's life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TimelineEntry {
    /// Unix ms, UTC.
    pub at: i64,
    /// What happened (`opened`, `acknowledged by …`, `resolved`).
    pub what: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incident(
        entity: Option<&str>,
        state: IncidentState,
        severity: Option<u8>,
    ) -> IncidentSummary {
        IncidentSummary {
            id: "i".into(),
            title: "t".into(),
            entity: entity.map(str::to_owned),
            severity,
            state,
            opened_at: 0,
            acknowledged_at: None,
            resolved_at: None,
            caused_by: None,
            source: "pave".into(),
            url: None,
            timeline: Vec::new(),
        }
    }

    #[test]
    fn filters_narrow_by_every_field() {
        let open = incident(Some("component:default/a"), IncidentState::Open, Some(2));
        let orphan = incident(None, IncidentState::Resolved, None);
        let any = IncidentFilter::default();
        assert!(any.matches(&open) && any.matches(&orphan));
        let only_a = IncidentFilter {
            entities: Some(vec!["component:default/a".into()]),
            ..IncidentFilter::default()
        };
        assert!(only_a.matches(&open));
        assert!(
            !only_a.matches(&orphan),
            "unattributed incidents belong to no entity"
        );
        let resolved = IncidentFilter {
            state: Some(IncidentState::Resolved),
            ..IncidentFilter::default()
        };
        assert!(!resolved.matches(&open) && resolved.matches(&orphan));
        let sev2 = IncidentFilter {
            severity: Some(2),
            ..IncidentFilter::default()
        };
        assert!(sev2.matches(&open) && !sev2.matches(&orphan));
    }
}
