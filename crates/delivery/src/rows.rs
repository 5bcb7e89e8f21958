//! The rows the ledger asks the store to persist, and from which it is rebuilt.
//!
//! Every row is plain data with a stable key, so the store can upsert it: deployments,
//! incidents and alerts have a 63-bit `id` derived from their natural key (the same on every
//! replay, whatever the order of deliveries); commits and changes are keyed by
//! `(repo, sha)`; subjects by `key`; deliveries by `(source, id)`. Each [`crate::Applied`]
//! lists a row once, in its latest state. Entity references, environment and repository
//! names are text here; the ledger interns them in memory.
//!
//! Merge state is part of the rows (a deployment's `queued_at`, `started_at` and its final
//! status with the time it was reached; an incident's last resolution and reopenings), so
//! that a ledger rebuilt from rows merges later events exactly as the one that wrote them.

use pave_dora::facts::Exclusion;
use pave_events::{DeploymentStatus, Millis, Source, Subject};
use serde::{Deserialize, Serialize};

/// A subject events were about: what it was attributed to and how often it was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectRow {
    /// [`crate::Attribution::subject_key`].
    pub key: String,
    /// The subject as first seen (re-attributed when the catalog changes).
    pub subject: Subject,
    pub entity: Option<String>,
    /// The rule that attributed it (`annotation github.com/project-slug`), when one did.
    pub how: Option<String>,
    /// Events about it.
    pub events: u64,
    /// The latest `received_at` of a delivery about it.
    pub last_seen: Millis,
}

/// A delivery the ledger applied (its idempotency key): a replayed or redelivered copy
/// changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRow {
    pub source: Source,
    pub id: String,
    pub seq: u64,
    pub received_at: Millis,
    pub events: u32,
}

/// Where a commit of the graph came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommitSource {
    /// A push event (parents inferred from the order of its commits, see [`crate::ledger`]).
    Push,
    /// `git log` of a registered source ([`crate::Ledger::add_commits`]): exact parents.
    Git,
}

/// One commit of a repository's graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitRow {
    /// `host/slug` ([`crate::repo_key`]).
    pub repo: String,
    pub sha: String,
    pub parents: Vec<String>,
    pub committed_at: Millis,
    pub source: CommitSource,
}

/// Where a change's facts came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeSource {
    /// A commit of a push: `committed_at` is its timestamp.
    Push,
    /// A commit from `git log`: `committed_at` is its committer date.
    Git,
    /// Only a merged pull or merge request names it: `committed_at` is the merge time.
    Merge,
}

/// The first successful production deployment, per environment, that shipped a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShippedIn {
    pub environment: String,
    pub deployment: u64,
}

/// A change: a commit of the default branch, a merged pull/merge request's commit, or a
/// commit a production deployment shipped. Lead time is `shipped` deployment's finish minus
/// `committed_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRow {
    pub repo: String,
    pub sha: String,
    /// The repository's entity, else the entity of the first deployment that shipped it.
    pub entity: Option<String>,
    pub committed_at: Millis,
    pub source: ChangeSource,
    pub merged_at: Option<Millis>,
    /// The pull or merge request number.
    pub number: Option<u64>,
    /// A label or head branch of its merge matched a hotfix pattern.
    pub hotfix: bool,
    pub shipped: Vec<ShippedIn>,
}

/// Why a deployment is a hotfix (the first that applies, in this order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HotfixReason {
    /// One of its labels (GitHub `task`).
    Label,
    /// The branch or tag it deployed.
    Ref,
    /// It shipped a change whose merge was marked hotfix.
    Change,
}

/// Why a change set is what it is (see `pave_dora::changeset` for the walk's own reasons).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum ChangesetReason {
    /// The deployment names no repository, and its entity has none.
    NoRepository,
    /// The deployment names no commit.
    NoSha,
    /// The commit is not in the repository's graph (yet): no changes until pushes or
    /// `git log` bring it.
    UnknownSha,
    /// The previous deployment's commit is not in the graph: a first deployment's lookback.
    UnknownPrevious {
        sha: String,
    },
    HistoryBoundary {
        missing: usize,
    },
    Cap {
        limit: usize,
    },
    /// No earlier successful production deployment: commits since `since` only.
    FirstDeployment {
        since: Millis,
    },
}

impl ChangesetReason {
    /// Whether more history can change the change set (the ledger recomputes it then).
    pub fn is_incomplete(&self) -> bool {
        matches!(
            self,
            ChangesetReason::UnknownSha
                | ChangesetReason::UnknownPrevious { .. }
                | ChangesetReason::HistoryBoundary { .. }
        )
    }
}

/// What a successful production deployment shipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangesetRow {
    /// The previous successful production deployment of the same entity and environment.
    pub previous: Option<u64>,
    /// Commits reachable from its sha and not from the previous one's.
    pub commits: u32,
    /// The list may be incomplete.
    pub truncated: bool,
    pub reason: Option<ChangesetReason>,
    /// Where those commits came from (pushes, `git log`), sorted.
    pub sources: Vec<CommitSource>,
}

/// One deployment, its status updates merged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentRow {
    pub id: u64,
    pub source: Source,
    pub subject_key: String,
    /// The sender's deployment id (GitHub deployment id, Argo CD operation, …).
    pub source_id: String,
    pub entity: Option<String>,
    pub environment: String,
    /// Production by name (configuration) or by the sender's word.
    pub production: bool,
    /// What the sender said about production, if anything.
    pub sender_production: Option<bool>,
    /// The repository its commit is looked up in (`host/slug`).
    pub repo: Option<String>,
    pub sha: Option<String>,
    pub version: Option<String>,
    pub url: Option<String>,
    /// The final status when there is one, else `started` or `queued`.
    pub status: DeploymentStatus,
    /// When the final status was reached (the latest final status wins).
    pub status_at: Option<Millis>,
    pub queued_at: Option<Millis>,
    pub started_at: Option<Millis>,
    pub finished_at: Option<Millis>,
    pub rollback: bool,
    pub hotfix: Option<HotfixReason>,
    /// Kept, shown, and left out of metrics and change sets.
    pub excluded: Option<Exclusion>,
    /// Successful production deployments only.
    pub changeset: Option<ChangesetRow>,
    pub first_seq: u64,
    pub last_seq: u64,
}

/// How an incident was linked to the deployment that caused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// The incident names the deployment's id.
    DeploymentId,
    /// The incident names the deployed commit (or an abbreviation of it).
    Sha,
    /// The incident names a commit the deployment shipped.
    Commit,
    /// The configured time heuristic.
    Time,
}

/// One incident, its lifecycle merged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentRow {
    pub id: u64,
    pub source: Source,
    /// The sender's incident id.
    pub incident: String,
    pub subject_key: String,
    pub entity: Option<String>,
    pub number: Option<u64>,
    pub title: Option<String>,
    /// The most severe level any event gave (1 most severe), and its words.
    pub severity: Option<u8>,
    pub severity_raw: Option<String>,
    pub url: Option<String>,
    pub environment: Option<String>,
    /// `reported_opened_at`, else the first event's time.
    pub opened_at: Millis,
    pub reported_opened_at: Option<Millis>,
    pub first_event_at: Millis,
    pub acknowledged_at: Option<Millis>,
    /// The latest resolution, unless a reopening came after it.
    pub resolved_at: Option<Millis>,
    pub last_resolved_at: Option<Millis>,
    pub reopened_at: Vec<Millis>,
    /// The commit or deployment id the sender names as the cause, lower-cased.
    pub caused_by_reference: Option<String>,
    pub caused_by: Option<u64>,
    pub link: Option<LinkKind>,
    /// The first successful production rollback or hotfix of the entity between opening
    /// and resolution.
    pub fixed_by: Option<u64>,
    pub first_seq: u64,
    pub last_seq: u64,
}

/// One firing of an alert (Alertmanager fingerprint and start).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRow {
    pub id: u64,
    pub source: Source,
    pub fingerprint: String,
    pub subject_key: String,
    pub entity: Option<String>,
    pub name: Option<String>,
    pub severity: Option<String>,
    pub summary: Option<String>,
    pub url: Option<String>,
    pub starts_at: Millis,
    /// Set once resolved.
    pub ends_at: Option<Millis>,
    pub first_seq: u64,
    pub last_seq: u64,
}

/// One row to upsert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "table", rename_all = "snake_case")]
pub enum Row {
    Subject(SubjectRow),
    Delivery(DeliveryRow),
    Commit(CommitRow),
    Change(ChangeRow),
    Deployment(DeploymentRow),
    Incident(IncidentRow),
    Alert(AlertRow),
}

/// Every row of a ledger, by table: what [`crate::Ledger::rows`] returns and
/// [`crate::Ledger::from_rows`] reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rows {
    pub subjects: Vec<SubjectRow>,
    pub deliveries: Vec<DeliveryRow>,
    pub commits: Vec<CommitRow>,
    pub changes: Vec<ChangeRow>,
    pub deployments: Vec<DeploymentRow>,
    pub incidents: Vec<IncidentRow>,
    pub alerts: Vec<AlertRow>,
}

impl Rows {
    /// Files a row under its table (rows are not deduplicated: upsert them first).
    pub fn push(&mut self, row: Row) {
        match row {
            Row::Subject(r) => self.subjects.push(r),
            Row::Delivery(r) => self.deliveries.push(r),
            Row::Commit(r) => self.commits.push(r),
            Row::Change(r) => self.changes.push(r),
            Row::Deployment(r) => self.deployments.push(r),
            Row::Incident(r) => self.incidents.push(r),
            Row::Alert(r) => self.alerts.push(r),
        }
    }
}

/// What applying a delivery (or a catalog change, or commits from `git log`) did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    /// The delivery was applied before: nothing changed.
    pub duplicate: bool,
    /// Rows to upsert, each once, in its latest state.
    pub rows: Vec<Row>,
    /// Events about no catalog entity (kept, and counted by subject).
    pub unattributed: u32,
    /// Events the ledger does not derive facts from (pipelines, releases, artifacts).
    pub unused: u32,
    /// Things worth a log line: a truncated push, a commit history that contradicts itself.
    pub notes: Vec<String>,
}
