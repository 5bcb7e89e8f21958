//! Reading single facts out of the ledger for pages and commands (an incident and the
//! deployments it links, what an entity runs in each environment), without writing every
//! row out ([`Ledger::rows`] also lists every commit).

use std::collections::HashMap;

use pave_events::{DeploymentStatus, Millis};

use super::Ledger;
use crate::keys::NONE;
use crate::rows::{DeploymentRow, IncidentRow};

/// What an entity runs in one environment: its latest deployment (any outcome, or still
/// running) and its latest successful one (the version it runs).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LatestDeployment {
    pub entity: String,
    pub environment: String,
    pub latest: DeploymentRow,
    pub current: Option<DeploymentRow>,
}

impl Ledger {
    /// The deployment with this row id.
    pub fn deployment(&self, id: u64) -> Option<DeploymentRow> {
        self.deployment_ix.get(&id).map(|&d| self.deployment_row(d))
    }

    /// The incident with this row id.
    pub fn incident(&self, id: u64) -> Option<IncidentRow> {
        self.incident_ix.get(&id).map(|&i| self.incident_row(i))
    }

    /// Every incident, most recently opened first.
    pub fn incident_rows(&self) -> Vec<IncidentRow> {
        let mut rows: Vec<IncidentRow> = (0..self.incidents.len() as u32)
            .map(|i| self.incident_row(i))
            .collect();
        rows.sort_by(|a, b| b.opened_at.cmp(&a.opened_at).then(a.id.cmp(&b.id)));
        rows
    }

    /// Every alert firing, most recently started first.
    pub fn alert_rows(&self) -> Vec<crate::rows::AlertRow> {
        let mut rows: Vec<crate::rows::AlertRow> = (0..self.alerts.len() as u32)
            .map(|a| self.alert_row(a))
            .collect();
        rows.sort_by(|a, b| b.starts_at.cmp(&a.starts_at).then(a.id.cmp(&b.id)));
        rows
    }

    /// Per attributed entity and environment, the latest deployment and the latest
    /// successful one, sorted by entity and environment. Excluded deployments (inconsistent
    /// times) are left out: their times cannot say which came last. `entity` narrows to
    /// one entity reference.
    pub fn latest_deployments(&self, entity: Option<&str>) -> Vec<LatestDeployment> {
        let only = match entity {
            Some(name) => match self.entities.get(name) {
                Some(e) => Some(e),
                None => return Vec::new(),
            },
            None => None,
        };
        // (entity, environment) → (latest, current) as (time, id, index).
        type Pick = Option<(Millis, u64, u32)>;
        let mut picks: HashMap<(u32, u16), (Pick, Pick)> = HashMap::new();
        for (d, dep) in self.deployments.iter().enumerate() {
            if dep.entity == NONE
                || only.is_some_and(|e| e != dep.entity)
                || dep.excluded().is_some()
            {
                continue;
            }
            let status = dep.status();
            if matches!(status, DeploymentStatus::Removed) {
                continue;
            }
            let Some(time) = dep.finished_at().or_else(|| dep.start()) else {
                continue;
            };
            let entry = picks.entry((dep.entity, dep.environment)).or_default();
            let candidate = Some((time, dep.id, d as u32));
            if candidate > entry.0 {
                entry.0 = candidate;
            }
            if status == DeploymentStatus::Succeeded && candidate > entry.1 {
                entry.1 = candidate;
            }
        }
        let mut out: Vec<LatestDeployment> = picks
            .into_iter()
            .filter_map(|((entity, environment), (latest, current))| {
                let (_, _, latest) = latest?;
                Some(LatestDeployment {
                    entity: self.entities.name(entity).to_owned(),
                    environment: self.environments.name(u32::from(environment)).to_owned(),
                    latest: self.deployment_row(latest),
                    current: current.map(|(_, _, d)| self.deployment_row(d)),
                })
            })
            .collect();
        out.sort_by(|a, b| (&a.entity, &a.environment).cmp(&(&b.entity, &b.environment)));
        out
    }
}
