//! The normalised events every sender's payload is read into: what the store derives delivery
//! facts (deployments, changes, incidents) from. Times are Unix milliseconds in UTC, whatever
//! offset or unit the sender wrote.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::source::Source;

/// Unix time in milliseconds, UTC.
pub type Millis = i64;

/// One webhook delivery, read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub source: Source,
    /// The idempotency key: the same delivery sent twice (a retry, a redelivery) has the same
    /// key, so the server stores it once. Unique per source. See the crate documentation for
    /// where each source's key comes from.
    pub id: String,
    /// The event type as the sender named it (`deployment_status`, `Deployment Hook`,
    /// `dev.cdevents.service.deployed.0.2.0`, `incident.resolved`, …).
    pub kind: String,
    /// When the sender says the event happened, when it says.
    pub occurred_at: Option<Millis>,
    /// What the delivery means for delivery metrics; often one event, several for an
    /// Alertmanager group, none when the delivery is about something pave does not track.
    pub events: Vec<Event>,
    /// Why `events` is empty (an event type or action pave does not map, a branch deletion, …).
    /// Not an error: the server answers 200 and counts it.
    pub ignored: Option<String>,
}

/// A normalised event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Push(Push),
    ChangeMerged(ChangeMerged),
    Deployment(Deployment),
    Pipeline(Pipeline),
    Release(Release),
    ArtifactPublished(ArtifactPublished),
    Incident(Incident),
    Alert(Alert),
}

impl Event {
    /// What the event is about, for attribution to catalog entities.
    pub fn subject(&self) -> &Subject {
        match self {
            Event::Push(event) => &event.subject,
            Event::ChangeMerged(event) => &event.subject,
            Event::Deployment(event) => &event.subject,
            Event::Pipeline(event) => &event.subject,
            Event::Release(event) => &event.subject,
            Event::ArtifactPublished(event) => &event.subject,
            Event::Incident(event) => &event.subject,
            Event::Alert(event) => &event.subject,
        }
    }

    /// When it happened, when known.
    pub fn at(&self) -> Option<Millis> {
        match self {
            Event::Push(event) => event.pushed_at,
            Event::ChangeMerged(event) => Some(event.merged_at),
            Event::Deployment(event) => Some(event.at),
            Event::Pipeline(event) => event.finished_at,
            Event::Release(event) => Some(event.at),
            Event::ArtifactPublished(event) => Some(event.at),
            Event::Incident(event) => Some(event.at),
            Event::Alert(event) => Some(event.ends_at.unwrap_or(event.starts_at)),
        }
    }
}

/// What an event is about: what attribution looks up in the catalog (a repository slug, a
/// PagerDuty service, an Argo CD application, …).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Subject {
    /// A Git repository. `host` is `github.com`, `gitlab.com` or a self-hosted host (with its
    /// port, if the URL has one); `slug` is `org/repo` (`group/subgroup/repo` on GitLab).
    Repository {
        host: String,
        slug: String,
        url: String,
    },
    PagerDutyService {
        id: String,
        name: Option<String>,
    },
    /// An Opsgenie alert's teams and entity (the component it is about), and the tags and
    /// details (extra properties) that Opsgenie alert queries select on: the Backstage
    /// plugin's `opsgenie.com/component-selector` is such a query (`tag:"service:x"`,
    /// `detailsPair(component:x)`).
    Opsgenie {
        teams: Vec<String>,
        entity: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tags: Vec<String>,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        details: BTreeMap<String, String>,
    },
    ArgoApp {
        name: String,
        repo_url: Option<String>,
    },
    /// A Flux object (`Kustomization`, `HelmRelease`).
    Flux {
        kind: String,
        namespace: String,
        name: String,
    },
    /// A CDEvents subject (or the service it names): unique by `source` and `id`.
    Cdevents {
        source: String,
        id: String,
    },
    /// An alert's labels (Alertmanager): attribution matches them against entity annotations.
    Labels(BTreeMap<String, String>),
}

/// Commits pushed to a branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Push {
    pub subject: Subject,
    pub branch: String,
    /// The branch head before the push; all zeros when the push created the branch.
    pub before: String,
    /// The branch head after the push.
    pub after: String,
    /// A force push (GitHub says so; GitLab does not, so `false` there).
    pub forced: bool,
    /// Oldest first, as senders list them.
    pub commits: Vec<Commit>,
    /// The payload lists fewer commits than were pushed (GitLab sends the newest 20 of
    /// `total_commits_count`; GitHub at most 2048): the change set must come from the
    /// repository (compare `before...after`), not from `commits`.
    pub truncated: bool,
    /// How many commits were pushed, when the sender says (GitLab).
    pub total_commits: Option<u64>,
    pub default_branch: Option<String>,
    pub pushed_at: Option<Millis>,
}

/// One commit of a push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commit {
    pub sha: String,
    /// The commit's timestamp as the sender gives it (GitHub and GitLab: the commit date).
    pub committed_at: Option<Millis>,
    /// The author's name (or e-mail when there is no name).
    pub author: Option<String>,
    /// The first line of the message.
    pub message: String,
}

/// A change (pull request, merge request) merged into its target branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeMerged {
    pub subject: Subject,
    /// Unique within the subject: the PR/MR number, or the CDEvents change id.
    pub id: String,
    pub number: Option<u64>,
    pub title: Option<String>,
    /// The commit the merge produced on the target branch (GitHub's `merge_commit_sha`, which
    /// is the squash or rebase result for those merge methods).
    pub merge_sha: Option<String>,
    pub merged_at: Millis,
    pub created_at: Option<Millis>,
    pub labels: Vec<String>,
    pub head_branch: Option<String>,
    pub base_branch: Option<String>,
    pub url: Option<String>,
}

/// Where a deployment is in its life. Senders report a deployment several times (queued,
/// started, finished); the store merges them by `source_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentStatus {
    Queued,
    Started,
    Succeeded,
    Failed,
    /// Stopped before it finished (GitLab `canceled`): neither a success nor a failure of
    /// the change.
    Canceled,
    /// The deployment returned the environment to an earlier version.
    RolledBack,
    /// The service was removed from the environment.
    Removed,
}

impl DeploymentStatus {
    /// Whether no further status is expected.
    pub fn is_final(self) -> bool {
        !matches!(self, DeploymentStatus::Queued | DeploymentStatus::Started)
    }
}

/// A deployment of a subject to an environment, at one point of its life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    pub subject: Subject,
    /// The deployment as the sender knows it (GitHub deployment id, GitLab `deployment_id`,
    /// Argo CD application and operation, Flux object and revision, CDEvents event id):
    /// the status updates of one deployment share it.
    pub source_id: String,
    pub environment: String,
    /// The commit deployed, when the sender names one. Argo CD and Flux name the commit of
    /// the repository they deploy from, which is the application's own commit only when
    /// manifests live beside the code (see [`crate::argocd`]).
    pub sha: Option<String>,
    /// A version, tag, chart version or artifact id, when the sender names one.
    pub version: Option<String>,
    pub status: DeploymentStatus,
    /// When this status was reached.
    pub at: Millis,
    pub started_at: Option<Millis>,
    pub finished_at: Option<Millis>,
    /// The deployment returned to an earlier version (CDEvents `rolledback`, a Helm rollback).
    pub rollback: bool,
    /// The sender's task or labels (GitHub `task`, e.g. `deploy:hotfix`), for hotfix rules.
    pub labels: Vec<String>,
    /// The branch or tag deployed from, when the sender names one.
    pub git_ref: Option<String>,
    /// Whether the sender marks the environment as production (GitHub
    /// `production_environment`, GitLab `environment_tier`); `None` when it does not say.
    pub production: Option<bool>,
    pub url: Option<String>,
}

/// How a finished pipeline ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PipelineStatus {
    Succeeded,
    Failed,
    Canceled,
    /// Did not run (skipped, stale, waiting for a manual action).
    Skipped,
}

/// A finished CI pipeline (GitHub workflow run, GitLab pipeline, CDEvents pipeline run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pipeline {
    pub subject: Subject,
    pub id: String,
    pub name: String,
    pub status: PipelineStatus,
    /// The sender's own word for the outcome (`success`, `timed_out`, `canceled`, …).
    pub conclusion: String,
    pub sha: Option<String>,
    pub branch: Option<String>,
    pub started_at: Option<Millis>,
    pub finished_at: Option<Millis>,
    pub url: Option<String>,
}

/// A release published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    pub subject: Subject,
    pub tag: String,
    pub name: Option<String>,
    /// The commit released, when the sender names a commit (GitHub's `target_commitish` is
    /// usually a branch name; then only `target` is set).
    pub sha: Option<String>,
    pub target: Option<String>,
    pub prerelease: bool,
    pub at: Millis,
    pub url: Option<String>,
}

/// An artifact (image, package) published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactPublished {
    pub subject: Subject,
    /// The artifact's id (CDEvents: a package URL).
    pub id: String,
    pub at: Millis,
}

/// Where an incident is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    Opened,
    Acknowledged,
    Resolved,
    Reopened,
}

/// An incident's severity: `level` 1 (most severe) to 5, and the sender's own words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Severity {
    pub level: u8,
    /// What the sender said (`P2`, `urgency high`, `critical`, the label `sev1`).
    pub raw: String,
}

/// An incident, at one point of its life (PagerDuty incidents, Opsgenie alerts, GitHub and
/// GitLab issues marked as incidents, CDEvents incidents). The store merges one incident's
/// events by `(source, id)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    /// The service (or repository) the incident is about.
    pub subject: Subject,
    /// Unique per source: PagerDuty and Opsgenie ids are global; issue ids include the
    /// repository (`org/repo#12`), so issues of different repositories never merge.
    pub id: String,
    pub number: Option<u64>,
    pub title: Option<String>,
    pub severity: Option<Severity>,
    pub status: IncidentStatus,
    /// When this status was reached.
    pub at: Millis,
    /// When the incident was opened, when the sender says.
    pub opened_at: Option<Millis>,
    pub url: Option<String>,
    /// The commit SHA or deployment id the sender names as the cause (an issue body's
    /// `caused by: <sha>` or `root cause: <sha>` line).
    pub caused_by: Option<String>,
    pub environment: Option<String>,
}

/// An alert's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    Firing,
    Resolved,
}

/// One alert of an Alertmanager notification. Its labels are the subject
/// ([`Subject::Labels`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub subject: Subject,
    pub fingerprint: String,
    /// The `alertname` label.
    pub name: Option<String>,
    pub status: AlertStatus,
    /// The `severity` label, as written.
    pub severity: Option<String>,
    pub summary: Option<String>,
    pub starts_at: Millis,
    /// When it stopped firing; `None` while firing (Alertmanager's zero time).
    pub ends_at: Option<Millis>,
    pub url: Option<String>,
}
