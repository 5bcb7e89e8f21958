//! The facts DORA is computed from, in the shape the metrics read fast.
//!
//! The store derives these from events and keeps them in tables; a report loads (or keeps in
//! memory) one [`Facts`] and computes every figure from it. Facts are columnar-friendly plain
//! data: entities, environments and groups are dense indices into the [`Org`] the caller
//! builds from the catalog, times are Unix milliseconds in UTC, and cross-references
//! (the deployment that shipped a change, the deployment that caused an incident) are indices
//! into the same [`Facts`]. No strings on the hot path: 1,000,000 deployments and 5,000,000
//! changes must fit comfortably in memory and be summed in well under a second.

use serde::{Deserialize, Serialize};

/// Unix time in milliseconds, UTC.
pub type Millis = i64;

/// Index of a catalog entity in [`Org::entities`].
pub type EntityIx = u32;
/// Index of a group in [`Org::groups`].
pub type GroupIx = u32;
/// Index of a system in [`Org::systems`].
pub type SystemIx = u32;
/// Index of a domain in [`Org::domains`].
pub type DomainIx = u32;
/// Index of an environment name in [`Facts::environments`].
pub type EnvIx = u16;
/// Index of a deployment in [`Facts::deployments`].
pub type DeploymentIx = u32;
/// Index of an incident in [`Facts::incidents`].
pub type IncidentIx = u32;

/// The slice of the catalog the metrics roll up over: who owns what, which system each
/// component is part of, which domain each system belongs to, and the group hierarchy.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Org {
    pub entities: Vec<EntityNode>,
    pub groups: Vec<GroupNode>,
    pub systems: Vec<Named>,
    /// Parallel to `systems`: the domain each system is part of.
    pub system_domains: Vec<Option<DomainIx>>,
    pub domains: Vec<Named>,
}

impl Org {
    /// The index of the entity `entity_ref` (a linear scan: for resolving a command-line or
    /// API argument once, not for the hot path).
    pub fn entity_ix(&self, entity_ref: &str) -> Option<EntityIx> {
        position(
            self.entities.iter().map(|e| e.entity_ref.as_str()),
            entity_ref,
        )
    }

    /// The index of the group `entity_ref` (linear scan, see [`Org::entity_ix`]).
    pub fn group_ix(&self, entity_ref: &str) -> Option<GroupIx> {
        position(
            self.groups.iter().map(|g| g.entity_ref.as_str()),
            entity_ref,
        )
    }

    /// The index of the system `entity_ref` (linear scan, see [`Org::entity_ix`]).
    pub fn system_ix(&self, entity_ref: &str) -> Option<SystemIx> {
        position(
            self.systems.iter().map(|s| s.entity_ref.as_str()),
            entity_ref,
        )
    }

    /// The index of the domain `entity_ref` (linear scan, see [`Org::entity_ix`]).
    pub fn domain_ix(&self, entity_ref: &str) -> Option<DomainIx> {
        position(
            self.domains.iter().map(|d| d.entity_ref.as_str()),
            entity_ref,
        )
    }
}

fn position<'a>(mut refs: impl Iterator<Item = &'a str>, wanted: &str) -> Option<u32> {
    refs.position(|r| r == wanted)
        .and_then(|i| u32::try_from(i).ok())
}

/// A catalog entity deliveries are attributed to (usually a Component).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EntityNode {
    /// The entity reference, e.g. `component:default/checkout`.
    pub entity_ref: String,
    /// The owning group (`spec.owner` resolved), if it is a group in the catalog.
    pub owner: Option<GroupIx>,
    pub system: Option<SystemIx>,
}

/// A group and its parent (`spec.parent`), so team figures roll up to departments.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupNode {
    pub entity_ref: String,
    pub parent: Option<GroupIx>,
}

/// A system or domain, by entity reference.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Named {
    pub entity_ref: String,
}

/// Every fact of an organisation (or of the part a report asks for).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Facts {
    /// Interned environment names (`production`, `staging`, …).
    pub environments: Vec<String>,
    pub deployments: Vec<Deployment>,
    pub changes: Vec<Change>,
    pub incidents: Vec<Incident>,
}

impl Facts {
    /// The index of the environment `name` (`production`), if any fact uses it.
    pub fn environment_ix(&self, name: &str) -> Option<EnvIx> {
        self.environments
            .iter()
            .position(|e| e == name)
            .and_then(|i| EnvIx::try_from(i).ok())
    }
}

/// One deployment of one entity to one environment (all status updates of it merged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    pub entity: EntityIx,
    pub environment: EnvIx,
    pub started_at: Millis,
    /// When it finished (succeeded or failed); a deployment still running has none and is
    /// not counted yet.
    pub finished_at: Option<Millis>,
    pub outcome: Outcome,
    /// This deployment returned to an earlier version (a rollback: Argo CD/CDEvents
    /// `rolledback`, or a version older than the one deployed before it).
    pub rollback: bool,
    /// Marked unplanned by its sender (a `hotfix` label, branch or task, per configuration).
    pub hotfix: bool,
    /// Set when the facts are inconsistent (finishes before it starts, in the future, out of
    /// order beyond repair): the deployment is stored and shown but excluded from metrics.
    pub excluded: Option<Exclusion>,
}

/// How a finished deployment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Succeeded,
    Failed,
    /// Not finished yet.
    Running,
}

/// Why a fact is kept but left out of the figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exclusion {
    FinishesBeforeStart,
    InTheFuture,
    /// A change committed after the deployment that is said to ship it.
    CommittedAfterDeployment,
}

/// One commit that reached an environment: its lead time is the shipping deployment's
/// `finished_at` minus `committed_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub entity: EntityIx,
    /// When the commit was made (its committer date, or the merge time when the source only
    /// says that; the store records which).
    pub committed_at: Millis,
    /// The first successful deployment to each environment that shipped it is a separate
    /// fact per environment; this is the one for the environment the facts were loaded for
    /// (usually production). `None`: not deployed yet.
    pub deployment: Option<DeploymentIx>,
}

/// One incident, its lifecycle merged from pager, issue tracker or `pave incident` events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    pub entity: Option<EntityIx>,
    /// 1 (most severe) to 5; `None` when the source gives none.
    pub severity: Option<u8>,
    pub opened_at: Millis,
    pub acknowledged_at: Option<Millis>,
    pub resolved_at: Option<Millis>,
    /// The deployment that caused it, when linked (explicitly, or by the configured time
    /// heuristic; the store records which).
    pub caused_by: Option<DeploymentIx>,
    /// The deployment that fixed it (a rollback or a fix forward), when known: it counts as
    /// rework.
    pub fixed_by: Option<DeploymentIx>,
}
