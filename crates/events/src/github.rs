//! GitHub webhooks. The `X-GitHub-Event` header names the event, `X-GitHub-Delivery` is the
//! idempotency key (GitHub keeps it on redelivery).
//!
//! | event | action | read as |
//! |---|---|---|
//! | `push` | (branch pushes) | [`Push`]; tag pushes and branch deletions are ignored |
//! | `pull_request` | `closed` with `merged: true` | [`ChangeMerged`] |
//! | `deployment` | `created` | [`Deployment`], `Queued` |
//! | `deployment_status` | `created` | [`Deployment`]: `queued`/`pending` → Queued, `in_progress` → Started, `success` → Succeeded, `failure`/`error` → Failed; `inactive` (superseded) is ignored |
//! | `workflow_run` | `completed` | [`Pipeline`] |
//! | `release` | `published` | [`Release`] |
//! | `issues` | `opened`, `labeled`, `closed`, `reopened` of issues labelled as incidents | [`Incident`] |
//!
//! Everything else (`ping`, `create`, `check_suite`, `workflow_job`, other actions) is read
//! as valid JSON and ignored with the reason.

use serde::Deserialize;

use crate::error::{ReadError, parse, validate};
use crate::headers::Headers;
use crate::incident_text::{caused_by, severity_from_labels};
use crate::model::{
    ChangeMerged, Commit, Deployment, DeploymentStatus, Event, Incident, IncidentStatus, Pipeline,
    PipelineStatus, Push, Release,
};
use crate::source::Source;
use crate::subject::{branch_of, first_line, is_full_sha, repository};
use crate::time::{MaybeTime, Time};
use crate::{Delivery, ReadOptions, required_header};

/// The header that names the event.
pub const EVENT_HEADER: &str = "X-GitHub-Event";
/// The header that carries the delivery's unique id.
pub const DELIVERY_HEADER: &str = "X-GitHub-Delivery";

/// GitHub lists at most this many commits in a push; more were pushed when it lists this many.
pub const MAX_PUSH_COMMITS: usize = 2048;

const SENDER: Source = Source::Github;

#[derive(Deserialize)]
struct Repository {
    full_name: String,
    html_url: String,
    default_branch: Option<String>,
    #[serde(default)]
    pushed_at: MaybeTime,
}

impl Repository {
    fn subject(&self) -> crate::model::Subject {
        repository(&self.html_url, &self.full_name)
    }
}

#[derive(Deserialize)]
struct Named {
    name: String,
}

pub(crate) fn read(
    headers: &(impl Headers + ?Sized),
    body: &[u8],
    options: &ReadOptions,
) -> Result<Delivery, ReadError> {
    let kind = required_header(headers, EVENT_HEADER)?.trim().to_owned();
    let id = required_header(headers, DELIVERY_HEADER)?.trim().to_owned();
    let (events, ignored, occurred_at) = match kind.as_str() {
        "push" => push(body)?,
        "pull_request" => pull_request(body)?,
        "deployment" => deployment(body)?,
        "deployment_status" => deployment_status(body)?,
        "workflow_run" => workflow_run(body)?,
        "release" => release(body)?,
        "issues" => issues(body, options)?,
        "ping" => {
            validate(SENDER, body)?;
            (vec![], Some("ping: the webhook is set up".to_owned()), None)
        }
        other => {
            validate(SENDER, body)?;
            (
                vec![],
                Some(format!("GitHub event {other:?} is not read")),
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

/// What one payload reading yields: events, or why none, and the delivery's own time.
type Reading = (Vec<Event>, Option<String>, Option<i64>);

fn ignore(reason: String) -> Result<Reading, ReadError> {
    Ok((vec![], Some(reason), None))
}

#[derive(Deserialize)]
struct PushPayload {
    #[serde(rename = "ref")]
    git_ref: String,
    before: String,
    after: String,
    #[serde(default)]
    deleted: bool,
    #[serde(default)]
    forced: bool,
    #[serde(default)]
    commits: Vec<PushCommit>,
    repository: Repository,
}

#[derive(Deserialize)]
struct PushCommit {
    id: String,
    #[serde(default)]
    timestamp: MaybeTime,
    #[serde(default)]
    message: String,
    author: Option<Person>,
}

#[derive(Deserialize)]
struct Person {
    name: Option<String>,
    email: Option<String>,
}

impl Person {
    fn display(self) -> Option<String> {
        self.name.filter(|name| !name.is_empty()).or(self.email)
    }
}

fn push(body: &[u8]) -> Result<Reading, ReadError> {
    let payload: PushPayload = parse(SENDER, body, "")?;
    let Some(branch) = branch_of(&payload.git_ref) else {
        return ignore(format!(
            "push to {} is not a branch push (tags are read from release events)",
            payload.git_ref
        ));
    };
    if payload.deleted {
        return ignore(format!("push deleted the branch {branch}"));
    }
    let truncated = payload.commits.len() >= MAX_PUSH_COMMITS;
    let commits = payload
        .commits
        .into_iter()
        .map(|commit| Commit {
            sha: commit.id,
            committed_at: commit.timestamp.0,
            author: commit.author.and_then(Person::display),
            message: first_line(&commit.message),
        })
        .collect();
    let pushed_at = payload.repository.pushed_at.0;
    let event = Push {
        subject: payload.repository.subject(),
        branch: branch.to_owned(),
        before: payload.before,
        after: payload.after,
        forced: payload.forced,
        commits,
        truncated,
        total_commits: None,
        default_branch: payload.repository.default_branch,
        pushed_at,
    };
    Ok((vec![Event::Push(event)], None, pushed_at))
}

#[derive(Deserialize)]
struct PullRequestPayload {
    action: String,
    pull_request: PullRequest,
    repository: Repository,
}

#[derive(Deserialize)]
struct PullRequest {
    number: u64,
    title: Option<String>,
    #[serde(default)]
    merged: Option<bool>,
    #[serde(default)]
    merged_at: MaybeTime,
    merge_commit_sha: Option<String>,
    #[serde(default)]
    created_at: MaybeTime,
    #[serde(default)]
    labels: Vec<Named>,
    head: Option<BranchRef>,
    base: Option<BranchRef>,
    html_url: Option<String>,
}

#[derive(Deserialize)]
struct BranchRef {
    #[serde(rename = "ref")]
    git_ref: Option<String>,
}

fn pull_request(body: &[u8]) -> Result<Reading, ReadError> {
    let payload: PullRequestPayload = parse(SENDER, body, "")?;
    let pr = payload.pull_request;
    if payload.action != "closed" {
        return ignore(format!(
            "pull_request {}: only merged pull requests are read",
            payload.action
        ));
    }
    let merged_at = match (pr.merged, pr.merged_at.0) {
        (Some(false), _) | (None, None) => {
            return ignore(format!(
                "pull_request #{} was closed without merging",
                pr.number
            ));
        }
        (_, Some(at)) => at,
        (Some(true), None) => {
            return Err(crate::error::invalid(
                "pull_request.merged_at",
                "a merged pull request must say when it was merged",
            ));
        }
    };
    let event = ChangeMerged {
        subject: payload.repository.subject(),
        id: pr.number.to_string(),
        number: Some(pr.number),
        title: pr.title,
        merge_sha: pr.merge_commit_sha,
        merged_at,
        created_at: pr.created_at.0,
        labels: pr.labels.into_iter().map(|label| label.name).collect(),
        head_branch: pr.head.and_then(|head| head.git_ref),
        base_branch: pr.base.and_then(|base| base.git_ref),
        url: pr.html_url,
    };
    Ok((vec![Event::ChangeMerged(event)], None, Some(merged_at)))
}

#[derive(Deserialize)]
struct DeploymentPayload {
    action: Option<String>,
    deployment: GithubDeployment,
    deployment_status: Option<GithubDeploymentStatus>,
    repository: Repository,
}

#[derive(Deserialize)]
struct GithubDeployment {
    id: u64,
    sha: Option<String>,
    #[serde(rename = "ref")]
    git_ref: Option<String>,
    task: Option<String>,
    environment: String,
    production_environment: Option<bool>,
    created_at: Time,
}

#[derive(Deserialize)]
struct GithubDeploymentStatus {
    state: String,
    environment: Option<String>,
    created_at: Time,
    #[serde(default)]
    updated_at: MaybeTime,
    log_url: Option<String>,
    target_url: Option<String>,
}

fn github_deployment(
    repository: Repository,
    deployment: GithubDeployment,
    status: DeploymentStatus,
    at: i64,
    environment: Option<String>,
    url: Option<String>,
) -> Deployment {
    let started_at = (status == DeploymentStatus::Started).then_some(at);
    let finished_at = status.is_final().then_some(at);
    Deployment {
        subject: repository.subject(),
        source_id: deployment.id.to_string(),
        environment: environment.unwrap_or(deployment.environment),
        sha: deployment.sha,
        version: None,
        status,
        at,
        started_at,
        finished_at,
        rollback: false,
        labels: deployment.task.into_iter().collect(),
        git_ref: deployment.git_ref,
        production: deployment.production_environment,
        url,
    }
}

fn deployment(body: &[u8]) -> Result<Reading, ReadError> {
    let payload: DeploymentPayload = parse(SENDER, body, "")?;
    let action = payload.action.as_deref().unwrap_or("created");
    if action != "created" {
        return ignore(format!(
            "deployment {action}: only created deployments are read"
        ));
    }
    let at = payload.deployment.created_at.0;
    let event = github_deployment(
        payload.repository,
        payload.deployment,
        DeploymentStatus::Queued,
        at,
        None,
        None,
    );
    Ok((vec![Event::Deployment(event)], None, Some(at)))
}

fn deployment_status(body: &[u8]) -> Result<Reading, ReadError> {
    let payload: DeploymentPayload = parse(SENDER, body, "")?;
    let Some(status) = payload.deployment_status else {
        return Err(crate::error::invalid(
            "deployment_status",
            "required field is missing",
        ));
    };
    let mapped = match status.state.as_str() {
        "queued" | "pending" | "waiting" => DeploymentStatus::Queued,
        "in_progress" => DeploymentStatus::Started,
        "success" => DeploymentStatus::Succeeded,
        "failure" | "error" => DeploymentStatus::Failed,
        "inactive" => {
            return ignore(
                "deployment_status inactive: a later deployment to the environment superseded it"
                    .to_owned(),
            );
        }
        other => return ignore(format!("deployment_status state {other:?} is not read")),
    };
    // Four Keys dates a deployment by `updated_at`; statuses are immutable, so it equals
    // `created_at` unless GitHub says otherwise.
    let at = status.updated_at.0.unwrap_or(status.created_at.0);
    let url = status
        .log_url
        .or(status.target_url)
        .filter(|url| !url.is_empty());
    let event = github_deployment(
        payload.repository,
        payload.deployment,
        mapped,
        at,
        status.environment,
        url,
    );
    Ok((vec![Event::Deployment(event)], None, Some(at)))
}

#[derive(Deserialize)]
struct WorkflowRunPayload {
    action: String,
    workflow_run: WorkflowRun,
    workflow: Option<Named>,
    repository: Repository,
}

#[derive(Deserialize)]
struct WorkflowRun {
    id: u64,
    name: Option<String>,
    head_sha: Option<String>,
    head_branch: Option<String>,
    conclusion: Option<String>,
    #[serde(default)]
    run_started_at: MaybeTime,
    #[serde(default)]
    created_at: MaybeTime,
    #[serde(default)]
    updated_at: MaybeTime,
    html_url: Option<String>,
}

fn workflow_run(body: &[u8]) -> Result<Reading, ReadError> {
    let payload: WorkflowRunPayload = parse(SENDER, body, "")?;
    if payload.action != "completed" {
        return ignore(format!(
            "workflow_run {}: only completed runs are read",
            payload.action
        ));
    }
    let run = payload.workflow_run;
    let conclusion = run.conclusion.unwrap_or_default();
    let status = match conclusion.as_str() {
        "success" | "neutral" => PipelineStatus::Succeeded,
        "failure" | "timed_out" | "startup_failure" => PipelineStatus::Failed,
        "cancelled" => PipelineStatus::Canceled,
        "skipped" | "stale" | "action_required" => PipelineStatus::Skipped,
        other => return ignore(format!("workflow_run conclusion {other:?} is not read")),
    };
    // A run's own name may be empty (the corpus has one); the workflow's name is then the one
    // people know it by.
    let name = [run.name, payload.workflow.map(|workflow| workflow.name)]
        .into_iter()
        .flatten()
        .find(|name| !name.is_empty())
        .unwrap_or_else(|| "workflow".to_owned());
    let finished_at = run.updated_at.0;
    let event = Pipeline {
        subject: payload.repository.subject(),
        id: run.id.to_string(),
        name,
        status,
        conclusion,
        sha: run.head_sha,
        branch: run.head_branch,
        started_at: run.run_started_at.0.or(run.created_at.0),
        finished_at,
        url: run.html_url,
    };
    Ok((vec![Event::Pipeline(event)], None, finished_at))
}

#[derive(Deserialize)]
struct ReleasePayload {
    action: String,
    release: GithubRelease,
    repository: Repository,
}

#[derive(Deserialize)]
struct GithubRelease {
    tag_name: String,
    name: Option<String>,
    target_commitish: Option<String>,
    #[serde(default)]
    prerelease: bool,
    #[serde(default)]
    published_at: MaybeTime,
    #[serde(default)]
    created_at: MaybeTime,
    html_url: Option<String>,
}

fn release(body: &[u8]) -> Result<Reading, ReadError> {
    let payload: ReleasePayload = parse(SENDER, body, "")?;
    if payload.action != "published" {
        // `published` fires for every release made public (`released` repeats it for
        // non-prereleases); reading one action counts each release once.
        return ignore(format!(
            "release {}: only published releases are read",
            payload.action
        ));
    }
    let release = payload.release;
    let Some(at) = release.published_at.0.or(release.created_at.0) else {
        return Err(crate::error::invalid(
            "release.published_at",
            "a published release must say when it was published",
        ));
    };
    let sha = release
        .target_commitish
        .clone()
        .filter(|target| is_full_sha(target));
    let event = Release {
        subject: payload.repository.subject(),
        tag: release.tag_name,
        name: release.name.filter(|name| !name.is_empty()),
        sha,
        target: release.target_commitish,
        prerelease: release.prerelease,
        at,
        url: release.html_url,
    };
    Ok((vec![Event::Release(event)], None, Some(at)))
}

#[derive(Deserialize)]
struct IssuesPayload {
    action: String,
    issue: Issue,
    label: Option<Named>,
    repository: Repository,
}

#[derive(Deserialize)]
struct Issue {
    number: u64,
    title: Option<String>,
    #[serde(default)]
    labels: Vec<Named>,
    #[serde(default)]
    created_at: MaybeTime,
    #[serde(default)]
    updated_at: MaybeTime,
    #[serde(default)]
    closed_at: MaybeTime,
    html_url: Option<String>,
    body: Option<String>,
}

fn issues(body: &[u8], options: &ReadOptions) -> Result<Reading, ReadError> {
    let payload: IssuesPayload = parse(SENDER, body, "")?;
    let issue = payload.issue;
    let is_label = |name: &str| name.eq_ignore_ascii_case(&options.incident_label);
    if !issue.labels.iter().any(|label| is_label(&label.name)) {
        return ignore(format!(
            "issue #{} is not labelled {:?}",
            issue.number, options.incident_label
        ));
    }
    let status = match payload.action.as_str() {
        "opened" => IncidentStatus::Opened,
        // Labelled an incident now; another label on an incident changes nothing.
        "labeled"
            if payload
                .label
                .as_ref()
                .is_some_and(|label| is_label(&label.name)) =>
        {
            IncidentStatus::Opened
        }
        "closed" => IncidentStatus::Resolved,
        "reopened" => IncidentStatus::Reopened,
        other => {
            return ignore(format!(
                "issues {other}: no change to the incident's lifecycle"
            ));
        }
    };
    let at = match status {
        IncidentStatus::Opened if payload.action == "opened" => issue.created_at.0,
        IncidentStatus::Resolved => issue.closed_at.0.or(issue.updated_at.0),
        _ => issue.updated_at.0,
    };
    let Some(at) = at.or(issue.created_at.0) else {
        return Err(crate::error::invalid(
            "issue.updated_at",
            "required field is missing",
        ));
    };
    let slug = payload.repository.full_name.clone();
    let event = Incident {
        subject: payload.repository.subject(),
        id: format!("{slug}#{}", issue.number),
        number: Some(issue.number),
        title: issue.title,
        severity: severity_from_labels(issue.labels.iter().map(|label| label.name.as_str())),
        status,
        at,
        opened_at: issue.created_at.0,
        url: issue.html_url,
        caused_by: issue.body.as_deref().and_then(caused_by),
        environment: None,
    };
    Ok((vec![Event::Incident(event)], None, Some(at)))
}
