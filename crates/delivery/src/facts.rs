//! From ledger to DORA: the dense [`Facts`] `pave_dora::Index::build` reads.
//!
//! * **Deployments**: every deployment of an entity in the [`Org`] that is a deployment of
//!   a change: succeeded or rolled back (outcome `succeeded`), failed (`failed`), or not
//!   finished (`running`). Canceled and removed deployments are kept in the ledger and left
//!   out here, as are deployments of entities the organisation does not list (unattributed
//!   ones included). Excluded deployments are passed on with their reason. Facts list
//!   deployments by `(finished_at or start, id)`, so ties break the same way whatever order
//!   deliveries came in. `hotfix` includes "shipped a change merged as a hotfix".
//! * **Changes**: every change. Its deployment is the first successful deployment that
//!   shipped it to the requested environment (usually production), when that deployment is
//!   in the facts, and the change then counts for that deployment's entity; otherwise it is
//!   "not deployed yet" for its own entity (and left out when that is not in the org).
//! * **Incidents**: every incident; its entity when the org lists it (else none, and
//!   `pave_dora` attributes it through its causing deployment), its causing and fixing
//!   deployments when they are in the facts. Severities outside 1-5 become unknown.

use std::collections::HashMap;

use pave_dora::facts::{Change, Deployment, DeploymentIx, EntityIx, Facts, Incident, Org, Outcome};
use pave_events::DeploymentStatus;

use crate::keys::NONE;
use crate::ledger::Ledger;

impl Ledger {
    /// The facts of every entity in `org`, with changes' deployments in `environment`.
    pub fn facts(&self, org: &Org, environment: &str) -> Facts {
        let org_ix: HashMap<&str, EntityIx> = org
            .entities
            .iter()
            .enumerate()
            .map(|(i, e)| (e.entity_ref.as_str(), i as EntityIx))
            .collect();
        let entity_of: Vec<Option<EntityIx>> = (0..self.entities.len() as u32)
            .map(|e| org_ix.get(self.entities.name(e)).copied())
            .collect();
        let mapped = |entity: u32| -> Option<EntityIx> {
            (entity != NONE)
                .then(|| entity_of.get(entity as usize).copied().flatten())
                .flatten()
        };

        let mut order: Vec<(i64, u64, u32)> = Vec::with_capacity(self.deployments.len());
        for (d, dep) in self.deployments.iter().enumerate() {
            let counted = !matches!(
                dep.status(),
                DeploymentStatus::Canceled | DeploymentStatus::Removed
            );
            if counted && mapped(dep.entity).is_some() {
                let time = dep
                    .finished_at()
                    .or_else(|| dep.start())
                    .unwrap_or(i64::MIN);
                order.push((time, dep.id, d as u32));
            }
        }
        order.sort_unstable();
        let mut facts_ix: Vec<DeploymentIx> = vec![NONE; self.deployments.len()];
        let mut deployments = Vec::with_capacity(order.len());
        for (i, &(_, _, d)) in order.iter().enumerate() {
            facts_ix[d as usize] = i as DeploymentIx;
            let dep = &self.deployments[d as usize];
            let (outcome, finished_at) = match dep.status() {
                DeploymentStatus::Succeeded | DeploymentStatus::RolledBack => {
                    (Outcome::Succeeded, dep.finished_at())
                }
                DeploymentStatus::Failed => (Outcome::Failed, dep.finished_at()),
                _ => (Outcome::Running, None),
            };
            deployments.push(Deployment {
                entity: mapped(dep.entity).unwrap_or(0),
                environment: dep.environment,
                started_at: dep.start().unwrap_or(0),
                finished_at,
                outcome,
                rollback: dep.rollback,
                hotfix: self.is_hotfix(d),
                excluded: dep.excluded(),
            });
        }
        let to_facts =
            |d: u32| (d != NONE && facts_ix[d as usize] != NONE).then(|| facts_ix[d as usize]);

        let env = self
            .environments
            .get(environment)
            .and_then(|e| u16::try_from(e).ok());
        let mut changes = Vec::with_capacity(self.changes.len());
        for (c, change) in self.changes.iter().enumerate() {
            let shipping = env.map(|env| self.claim(c as u32, env)).and_then(to_facts);
            match shipping {
                Some(ix) => changes.push(Change {
                    entity: deployments[ix as usize].entity,
                    committed_at: change.committed_at,
                    deployment: Some(ix),
                }),
                None => {
                    if let Some(entity) = mapped(self.change_entity(c as u32)) {
                        changes.push(Change {
                            entity,
                            committed_at: change.committed_at,
                            deployment: None,
                        });
                    }
                }
            }
        }

        let incidents = self
            .incidents
            .iter()
            .map(|inc| Incident {
                entity: mapped(inc.entity),
                severity: inc
                    .severity
                    .as_ref()
                    .map(|s| s.0)
                    .filter(|level| (1..=5).contains(level)),
                opened_at: inc.opened_at(),
                acknowledged_at: inc.acknowledged_at,
                resolved_at: inc.resolved_at(),
                caused_by: to_facts(inc.caused_by),
                fixed_by: to_facts(inc.fixed_by),
            })
            .collect();

        Facts {
            environments: (0..self.environments.len() as u32)
                .map(|e| self.environments.name(e).to_owned())
                .collect(),
            deployments,
            changes,
            incidents,
        }
    }
}
