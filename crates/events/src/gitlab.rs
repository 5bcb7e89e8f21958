//! GitLab webhooks. The `X-Gitlab-Event` header names the event. The idempotency key is the
//! `Idempotency-Key` header (GitLab 17.4+: one per delivery, the same on every retry of it),
//! else the body's SHA-256 (a retry resends the logged body unchanged).
//!
//! `X-Gitlab-Event-UUID` is *not* a delivery id, although its name suggests one: GitLab makes
//! it per execution, so a retry carries a new one, and a webhook triggered by a request that
//! a webhook receiver made (a bot merging a merge request when a pipeline hook arrives)
//! recycles the triggering delivery's value, so distinct events share it
//! (`Gitlab::WebHooks::RecursionDetection::UUID`). Keyed by it, retries were recorded twice
//! and such events dropped as duplicates.
//!
//! | `X-Gitlab-Event` | read as |
//! |---|---|
//! | `Push Hook` | [`Push`]; branch deletions ignored. GitLab lists the newest 20 commits of `total_commits_count`: `truncated` says when there were more |
//! | `Merge Request Hook` | action `merge` → [`ChangeMerged`] (`merged_at` is the event's `updated_at`: GitLab's payload has no merge time of its own) |
//! | `Deployment Hook` | [`Deployment`]: `created`/`blocked` → Queued, `running` → Started, `success` → Succeeded, `failed` → Failed, `canceled` → Canceled; the full SHA comes from `commit_url` |
//! | `Pipeline Hook` | finished pipelines (`success`, `failed`, `canceled`, `skipped`) → [`Pipeline`] |
//! | `Issue Hook`, `Confidential Issue Hook` | GitLab incidents (`type: Incident`) and issues labelled as incidents → [`Incident`]: `open` → Opened, `close` → Resolved, `reopen` → Reopened, `update` adding the label → Opened |
//!
//! Everything else (`Tag Push Hook`, `Note Hook`, `Job Hook`, …) is ignored with the reason.
//! GitLab times come as `2021-04-28 21:50:00 +0200`, `… UTC` or RFC 3339; all are converted
//! to UTC.

use serde::Deserialize;

use crate::error::{ReadError, parse, validate};
use crate::headers::Headers;
use crate::incident_text::{caused_by, severity, severity_from_labels};
use crate::model::{
    ChangeMerged, Commit, Deployment, DeploymentStatus, Event, Incident, IncidentStatus, Pipeline,
    PipelineStatus, Push, Subject,
};
use crate::source::Source;
use crate::subject::{branch_of, first_line, is_full_sha, repository};
use crate::time::{MaybeTime, Time};
use crate::{Delivery, ReadOptions, body_key, required_header};

/// The header that names the event.
pub const EVENT_HEADER: &str = "X-Gitlab-Event";
/// The header that carries the delivery's id, the same on every retry (GitLab 17.4+).
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

const SENDER: Source = Source::Gitlab;

#[derive(Deserialize)]
struct Project {
    path_with_namespace: String,
    web_url: String,
    default_branch: Option<String>,
}

impl Project {
    fn subject(&self) -> Subject {
        repository(&self.web_url, &self.path_with_namespace)
    }
}

#[derive(Deserialize)]
struct Label {
    title: String,
}

type Reading = (Vec<Event>, Option<String>, Option<i64>);

fn ignore(reason: String) -> Result<Reading, ReadError> {
    Ok((vec![], Some(reason), None))
}

pub(crate) fn read(
    headers: &(impl Headers + ?Sized),
    body: &[u8],
    options: &ReadOptions,
) -> Result<Delivery, ReadError> {
    let kind = required_header(headers, EVENT_HEADER)?.trim().to_owned();
    let id = headers
        .get(IDEMPOTENCY_HEADER)
        .map(str::trim)
        .filter(|key| !key.is_empty())
        .map_or_else(|| body_key(body), str::to_owned);
    let (events, ignored, occurred_at) = match kind.as_str() {
        "Push Hook" => push(body)?,
        "Merge Request Hook" => merge_request(body)?,
        "Deployment Hook" => deployment(body)?,
        "Pipeline Hook" => pipeline(body)?,
        "Issue Hook" | "Confidential Issue Hook" => issue(body, options)?,
        other => {
            validate(SENDER, body)?;
            (
                vec![],
                Some(format!("GitLab event {other:?} is not read")),
                None,
            )
        }
    };
    Ok(Delivery::new(
        SENDER,
        id,
        kind,
        events,
        ignored,
        occurred_at,
    ))
}

#[derive(Deserialize)]
struct PushPayload {
    #[serde(rename = "ref")]
    git_ref: String,
    before: String,
    after: String,
    #[serde(default)]
    commits: Vec<PushCommit>,
    total_commits_count: Option<u64>,
    project: Project,
}

#[derive(Deserialize)]
struct PushCommit {
    id: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    timestamp: MaybeTime,
    author: Option<Person>,
}

#[derive(Deserialize)]
struct Person {
    name: Option<String>,
    email: Option<String>,
}

fn push(body: &[u8]) -> Result<Reading, ReadError> {
    let payload: PushPayload = parse(SENDER, body, "")?;
    let Some(branch) = branch_of(&payload.git_ref) else {
        return ignore(format!("push to {} is not a branch push", payload.git_ref));
    };
    if payload.after.bytes().all(|byte| byte == b'0') {
        return ignore(format!("push deleted the branch {branch}"));
    }
    let listed = payload.commits.len() as u64;
    let truncated = payload
        .total_commits_count
        .is_some_and(|total| total > listed);
    let commits = payload
        .commits
        .into_iter()
        .map(|commit| Commit {
            sha: commit.id,
            committed_at: commit.timestamp.0,
            author: commit
                .author
                .and_then(|person| person.name.filter(|name| !name.is_empty()).or(person.email)),
            message: first_line(&commit.message),
        })
        .collect::<Vec<_>>();
    let event = Push {
        subject: payload.project.subject(),
        branch: branch.to_owned(),
        before: payload.before,
        after: payload.after,
        forced: false,
        commits,
        truncated,
        total_commits: payload.total_commits_count,
        default_branch: payload.project.default_branch,
        // GitLab's push payload has no time of its own (commit dates are not push dates).
        pushed_at: None,
    };
    Ok((vec![Event::Push(event)], None, None))
}

#[derive(Deserialize)]
struct MergeRequestPayload {
    object_attributes: MergeRequest,
    #[serde(default)]
    labels: Vec<Label>,
    project: Project,
}

#[derive(Deserialize)]
struct MergeRequest {
    iid: u64,
    title: Option<String>,
    action: Option<String>,
    state: Option<String>,
    merge_commit_sha: Option<String>,
    #[serde(default)]
    created_at: MaybeTime,
    #[serde(default)]
    updated_at: MaybeTime,
    source_branch: Option<String>,
    target_branch: Option<String>,
    url: Option<String>,
    #[serde(default)]
    labels: Vec<Label>,
}

fn merge_request(body: &[u8]) -> Result<Reading, ReadError> {
    let payload: MergeRequestPayload = parse(SENDER, body, "")?;
    let mr = payload.object_attributes;
    let action = mr.action.as_deref().unwrap_or_default();
    if action != "merge" {
        let state = mr.state.as_deref().unwrap_or("unknown");
        return ignore(format!(
            "merge request !{} {action:?} (state {state}): only merges are read",
            mr.iid
        ));
    }
    let Some(merged_at) = mr.updated_at.0 else {
        return Err(crate::error::invalid(
            "object_attributes.updated_at",
            "a merge event must say when it happened",
        ));
    };
    let labels = if mr.labels.is_empty() {
        payload.labels
    } else {
        mr.labels
    };
    let event = ChangeMerged {
        subject: payload.project.subject(),
        id: mr.iid.to_string(),
        number: Some(mr.iid),
        title: mr.title,
        merge_sha: mr.merge_commit_sha,
        merged_at,
        created_at: mr.created_at.0,
        labels: labels.into_iter().map(|label| label.title).collect(),
        head_branch: mr.source_branch,
        base_branch: mr.target_branch,
        url: mr.url,
    };
    Ok((vec![Event::ChangeMerged(event)], None, Some(merged_at)))
}

#[derive(Deserialize)]
struct DeploymentPayload {
    status: String,
    status_changed_at: Time,
    deployment_id: u64,
    environment: String,
    environment_tier: Option<String>,
    short_sha: Option<String>,
    commit_url: Option<String>,
    #[serde(rename = "ref")]
    git_ref: Option<String>,
    deployable_url: Option<String>,
    project: Project,
}

fn deployment(body: &[u8]) -> Result<Reading, ReadError> {
    let payload: DeploymentPayload = parse(SENDER, body, "")?;
    let status = match payload.status.as_str() {
        "created" | "blocked" => DeploymentStatus::Queued,
        "running" => DeploymentStatus::Started,
        "success" => DeploymentStatus::Succeeded,
        "failed" => DeploymentStatus::Failed,
        "canceled" => DeploymentStatus::Canceled,
        other => return ignore(format!("deployment status {other:?} is not read")),
    };
    let at = payload.status_changed_at.0;
    // `commit_url` is the only place GitLab puts the full SHA; `short_sha` is the fallback.
    let full_sha = payload
        .commit_url
        .as_deref()
        .and_then(|url| url.rsplit('/').next())
        .filter(|sha| is_full_sha(sha))
        .map(str::to_owned);
    let event = Deployment {
        subject: payload.project.subject(),
        source_id: payload.deployment_id.to_string(),
        environment: payload.environment,
        sha: full_sha.or(payload.short_sha),
        version: None,
        status,
        at,
        started_at: (status == DeploymentStatus::Started).then_some(at),
        finished_at: status.is_final().then_some(at),
        rollback: false,
        labels: vec![],
        git_ref: payload.git_ref,
        production: payload.environment_tier.map(|tier| tier == "production"),
        url: payload.deployable_url,
    };
    Ok((vec![Event::Deployment(event)], None, Some(at)))
}

#[derive(Deserialize)]
struct PipelinePayload {
    object_attributes: GitlabPipeline,
    project: Project,
}

#[derive(Deserialize)]
struct GitlabPipeline {
    id: u64,
    name: Option<String>,
    #[serde(rename = "ref")]
    git_ref: Option<String>,
    #[serde(default)]
    tag: bool,
    sha: Option<String>,
    status: String,
    #[serde(default)]
    created_at: MaybeTime,
    #[serde(default)]
    finished_at: MaybeTime,
    /// Seconds the pipeline ran.
    duration: Option<f64>,
    url: Option<String>,
}

fn pipeline(body: &[u8]) -> Result<Reading, ReadError> {
    let payload: PipelinePayload = parse(SENDER, body, "")?;
    let pipeline = payload.object_attributes;
    let status = match pipeline.status.as_str() {
        "success" => PipelineStatus::Succeeded,
        "failed" => PipelineStatus::Failed,
        "canceled" => PipelineStatus::Canceled,
        "skipped" => PipelineStatus::Skipped,
        other => {
            return ignore(format!(
                "pipeline {other}: only finished pipelines are read"
            ));
        }
    };
    let finished_at = pipeline.finished_at.0;
    // GitLab says when the pipeline was created and how long it ran; the start is the finish
    // minus the run time (created_at includes the time spent queued).
    let started_at = match (finished_at, pipeline.duration) {
        (Some(finished), Some(seconds)) if seconds.is_finite() && seconds >= 0.0 => {
            Some(finished.saturating_sub((seconds * 1000.0).round() as i64))
        }
        _ => pipeline.created_at.0,
    };
    let url = pipeline
        .url
        .unwrap_or_else(|| format!("{}/-/pipelines/{}", payload.project.web_url, pipeline.id));
    let event = Pipeline {
        subject: payload.project.subject(),
        id: pipeline.id.to_string(),
        name: pipeline
            .name
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| "pipeline".into()),
        status,
        conclusion: pipeline.status,
        sha: pipeline.sha,
        branch: pipeline.git_ref.filter(|_| !pipeline.tag),
        started_at,
        finished_at,
        url: Some(url),
    };
    Ok((vec![Event::Pipeline(event)], None, finished_at))
}

#[derive(Deserialize)]
struct IssuePayload {
    object_attributes: GitlabIssue,
    #[serde(default)]
    labels: Vec<Label>,
    #[serde(default)]
    changes: Changes,
    project: Project,
}

#[derive(Deserialize)]
struct GitlabIssue {
    iid: u64,
    title: Option<String>,
    action: Option<String>,
    #[serde(rename = "type")]
    work_item_type: Option<String>,
    issue_type: Option<String>,
    severity: Option<String>,
    #[serde(default)]
    created_at: MaybeTime,
    #[serde(default)]
    updated_at: MaybeTime,
    #[serde(default)]
    closed_at: MaybeTime,
    url: Option<String>,
    description: Option<String>,
    #[serde(default)]
    labels: Vec<Label>,
}

#[derive(Deserialize, Default)]
struct Changes {
    labels: Option<LabelChange>,
}

#[derive(Deserialize)]
struct LabelChange {
    #[serde(default)]
    previous: Vec<Label>,
    #[serde(default)]
    current: Vec<Label>,
}

fn issue(body: &[u8], options: &ReadOptions) -> Result<Reading, ReadError> {
    let payload: IssuePayload = parse(SENDER, body, "")?;
    let issue = payload.object_attributes;
    let labels = if issue.labels.is_empty() {
        payload.labels
    } else {
        issue.labels
    };
    let is_label = |label: &Label| label.title.eq_ignore_ascii_case(&options.incident_label);
    let native = [&issue.work_item_type, &issue.issue_type]
        .into_iter()
        .flatten()
        .any(|kind| kind.eq_ignore_ascii_case("incident"));
    if !native && !labels.iter().any(is_label) {
        return ignore(format!(
            "issue #{} is neither a GitLab incident nor labelled {:?}",
            issue.iid, options.incident_label
        ));
    }
    let action = issue.action.as_deref().unwrap_or_default();
    let status = match action {
        "open" => IncidentStatus::Opened,
        "close" => IncidentStatus::Resolved,
        "reopen" => IncidentStatus::Reopened,
        "update"
            if payload.changes.labels.as_ref().is_some_and(|change| {
                change.current.iter().any(is_label) && !change.previous.iter().any(is_label)
            }) =>
        {
            IncidentStatus::Opened
        }
        other => {
            return ignore(format!(
                "issue {other:?}: no change to the incident's lifecycle"
            ));
        }
    };
    let at = match status {
        IncidentStatus::Opened if action == "open" => issue.created_at.0,
        IncidentStatus::Resolved => issue.closed_at.0.or(issue.updated_at.0),
        _ => issue.updated_at.0,
    };
    let Some(at) = at.or(issue.created_at.0) else {
        return Err(crate::error::invalid(
            "object_attributes.updated_at",
            "required field is missing",
        ));
    };
    let severity = issue
        .severity
        .as_deref()
        .and_then(severity)
        .or_else(|| severity_from_labels(labels.iter().map(|label| label.title.as_str())));
    let event = Incident {
        subject: payload.project.subject(),
        id: format!("{}#{}", payload.project.path_with_namespace, issue.iid),
        number: Some(issue.iid),
        title: issue.title,
        severity,
        status,
        at,
        opened_at: issue.created_at.0,
        url: issue.url,
        caused_by: issue.description.as_deref().and_then(caused_by),
        environment: None,
    };
    Ok((vec![Event::Incident(event)], None, Some(at)))
}
