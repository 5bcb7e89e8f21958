//! `pave check --publish URL`: the report sent to a pave server for the entity's Guardrails
//! tab (`POST /api/guardrails/reports`), and the demo's reports stored by `pave demo`.
//!
//! What is published is `pave_policy_output::StoredReport::from_report`: the JSON report
//! with its 5,000 most important findings and the counts of the rest, so a report of any size
//! fits the server's 8 MiB. The entity defaults to the repository's `catalog-info.yaml`; the
//! commit and branch to CI's variables, then git's. Publishing does not change what `pave
//! check` prints or how its exit code is decided; a publication that fails is an error of its
//! own (exit code 2, after the report), so a CI job does not pass with its report missing from
//! the portal.

#![allow(clippy::print_stderr)]

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use clap::Args;
use pave_platform::Principal;
use pave_policy_output::{MAX_REPORT_BYTES, StoredReport};
use pave_server::AppState;
use pave_store::audit::Outcome as AuditOutcome;
use pave_store::{CheckCounts, NewCheckReport};
use serde_json::{Value, json};

/// How long a publication may take, connecting and answering included.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(60);
/// The catalog file that names a repository's entity.
const CATALOG_FILE: &str = "catalog-info.yaml";
/// Kinds an entity of a repository may be, in the order they are looked for.
const REPOSITORY_KINDS: [&str; 3] = ["Component", "Resource", "System"];

/// `pave check`'s publishing flags.
#[derive(Debug, Args)]
#[command(next_help_heading = "publishing to a pave server")]
pub(crate) struct PublishArgs {
    /// Also send the report to this pave server (`https://pave.example.com`), where it is the entity's latest on its Guardrails tab; the token is PAVE_TOKEN's (a role with events.write). A failed publication exits 2 after the report
    #[arg(long, value_name = "URL")]
    pub(crate) publish: Option<String>,

    /// The catalog entity the report is for, `[kind:][namespace/]name` [default: the first Component, else Resource, else System of ./catalog-info.yaml or the repository root's]
    #[arg(long, value_name = "REF", requires = "publish")]
    pub(crate) entity: Option<String>,

    /// The commit checked [default: $GITHUB_SHA, $CI_COMMIT_SHA, else `git rev-parse HEAD`]
    #[arg(long, value_name = "SHA", requires = "publish")]
    pub(crate) commit: Option<String>,

    /// The branch checked [default: $GITHUB_HEAD_REF, $GITHUB_REF_NAME, $CI_COMMIT_REF_NAME, else git's current branch]
    #[arg(long, value_name = "NAME", requires = "publish")]
    pub(crate) branch: Option<String>,
}

/// Where and as what a report is published: decided before anything is checked, so that a
/// mistake costs no check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) url: url::Url,
    pub(crate) entity: String,
    pub(crate) commit: Option<String>,
    pub(crate) branch: Option<String>,
}

/// The target of `args`, if publishing was asked for; `dir` is where `pave check` runs.
pub(crate) fn target(args: &PublishArgs, dir: &Path) -> anyhow::Result<Option<Target>> {
    let Some(base) = &args.publish else {
        return Ok(None);
    };
    let shown = strip_credentials(base);
    let base_url =
        url::Url::parse(base).map_err(|e| anyhow!("--publish `{shown}` is not a URL: {e}"))?;
    if !matches!(base_url.scheme(), "http" | "https") {
        bail!("--publish `{shown}`: use an http:// or https:// URL");
    }
    let mut url = base_url
        .join("/api/guardrails/reports")
        .map_err(|e| anyhow!("--publish `{shown}`: {e}"))?;
    let entity = match &args.entity {
        Some(entity) => entity.trim().to_owned(),
        None => repository_entity(dir)?,
    };
    let commit = match &args.commit {
        Some(c) if is_commit(c) => Some(c.to_ascii_lowercase()),
        Some(c) => bail!("--commit `{c}` is not a git commit id (4 to 64 hexadecimal digits)"),
        None => detected_commit(dir),
    };
    let branch = match &args.branch {
        Some(b) if is_branch(b) => Some(b.clone()),
        Some(b) => bail!("--branch `{b}` is not a branch name (no spaces or control characters)"),
        None => detected_branch(dir),
    };
    {
        let mut query = url.query_pairs_mut();
        query.append_pair("entity", &entity);
        if let Some(commit) = &commit {
            query.append_pair("commit", commit);
        }
        if let Some(branch) = &branch {
            query.append_pair("branch", branch);
        }
    }
    Ok(Some(Target {
        url,
        entity,
        commit,
        branch,
    }))
}

fn is_commit(text: &str) -> bool {
    (4..=64).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_branch(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 255
        && !text.chars().any(|c| c.is_control() || c.is_whitespace())
}

/// The entity of the repository `dir` is in: the first Component (else Resource, else
/// System) of `catalog-info.yaml` in `dir`, else at the repository's root.
fn repository_entity(dir: &Path) -> anyhow::Result<String> {
    let mut candidates = vec![dir.join(CATALOG_FILE)];
    if let Some(root) = dir.ancestors().find(|d| d.join(".git").exists())
        && root != dir
    {
        candidates.push(root.join(CATALOG_FILE));
    }
    let Some(file) = candidates.iter().find(|p| p.is_file()) else {
        bail!(
            "--publish needs the entity the report is for: name it with --entity, or run in a repository with a {CATALOG_FILE}"
        );
    };
    entity_in(file)
}

/// The first Component, else Resource, else System of the catalog file at `path`, as a
/// `kind:namespace/name` ref.
fn entity_in(path: &Path) -> anyhow::Result<String> {
    let bytes = pave_fs::read_bounded(path, 4 * 1024 * 1024)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let text = pave_fs::into_text(bytes).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let docs = pave_yaml::parse_documents(&text, &pave_yaml::Limits::default())
        .map_err(|e| anyhow!("{}: {e}", path.display()))?;
    for kind in REPOSITORY_KINDS {
        let found = docs.iter().map(|d| &d.value).find(|v| {
            v["kind"]
                .as_str()
                .is_some_and(|k| k.eq_ignore_ascii_case(kind))
                && v["metadata"]["name"]
                    .as_str()
                    .is_some_and(|n| !n.is_empty())
        });
        if let Some(entity) = found {
            let namespace = entity["metadata"]["namespace"]
                .as_str()
                .filter(|n| !n.is_empty())
                .unwrap_or("default");
            let name = entity["metadata"]["name"].as_str().unwrap_or_default();
            return Ok(format!("{}:{namespace}/{name}", kind.to_ascii_lowercase()));
        }
    }
    bail!(
        "{} has no Component, Resource or System: name the entity with --entity",
        path.display()
    )
}

/// CI's commit, else git's; `None` outside a repository (a warning says why nothing is sent).
fn detected_commit(dir: &Path) -> Option<String> {
    let from_env = ["GITHUB_SHA", "CI_COMMIT_SHA"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()));
    let commit = from_env.or_else(|| git(dir, &["rev-parse", "HEAD"]))?;
    if is_commit(&commit) {
        Some(commit.to_ascii_lowercase())
    } else {
        eprintln!("pave: warning: `{commit}` is not a commit id; publishing without one");
        None
    }
}

/// CI's branch (a pull request's source branch first), else git's current branch.
fn detected_branch(dir: &Path) -> Option<String> {
    let from_env = ["GITHUB_HEAD_REF", "GITHUB_REF_NAME", "CI_COMMIT_REF_NAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()));
    let branch = from_env
        .or_else(|| git(dir, &["rev-parse", "--abbrev-ref", "HEAD"]))
        // A detached HEAD has no branch.
        .filter(|b| b != "HEAD")?;
    is_branch(&branch).then_some(branch)
}

/// One line of git's output in `dir`, if git is there and succeeds.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let line = text.lines().next()?.trim().to_owned();
    (!line.is_empty()).then_some(line)
}

/// `http://user:pw@host/x` → `http://host/x`.
fn strip_credentials(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        Err(_) => url.chars().take(200).collect(),
    }
}

/// Sends `report` to `target`'s server with `PAVE_TOKEN`; says where it went on stderr.
pub(crate) async fn publish(target: &Target, report: &StoredReport) -> anyhow::Result<()> {
    let shown = strip_credentials(target.url.as_str());
    let body = report.to_json();
    if body.len() > MAX_REPORT_BYTES {
        bail!(
            "the report is {} bytes even with its 5,000 most important findings, over the server's {MAX_REPORT_BYTES}",
            body.len()
        );
    }
    let token = std::env::var("PAVE_TOKEN").unwrap_or_default();
    let authorization = format!("Bearer {}", token.trim());
    let mut headers = vec![("content-type", "application/json")];
    if !token.trim().is_empty() {
        headers.push(("authorization", authorization.as_str()));
    }
    let request = pave_http::Request {
        method: hyper::Method::POST,
        url: &target.url,
        headers: &headers,
        body: body.into(),
        max_bytes: 64 * 1024,
    };
    let answer = tokio::time::timeout(PUBLISH_TIMEOUT, pave_http::exchange(request))
        .await
        .map_err(|_| {
            anyhow!(
                "{shown} did not answer within {} s",
                PUBLISH_TIMEOUT.as_secs()
            )
        })?
        .map_err(|e| anyhow!("{e}"))?;
    let reply: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
    if answer.status == 201 {
        eprintln!(
            "pave: published the report for {} to {} (report {}{})",
            reply["entity"].as_str().unwrap_or(&target.entity),
            target.url.origin().ascii_serialization(),
            reply["id"],
            target
                .commit
                .as_deref()
                .map(|c| format!(", commit {}", &c[..c.len().min(12)]))
                .unwrap_or_default()
        );
        return Ok(());
    }
    let message = reply["error"]["message"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| {
            String::from_utf8_lossy(&answer.body)
                .chars()
                .take(300)
                .collect()
        });
    Err(anyhow!("the server answered {}: {message}", answer.status))
}

/// Stores the demo's check reports (`pave_demo::demo_check_reports`) for the services of the
/// catalog that have none yet, each with its audit record as the operator's publication.
/// Returns how many were stored.
pub(crate) async fn seed_demo(state: &Arc<AppState>) -> anyhow::Result<usize> {
    // The demo's services are the components made from a golden path: when each has its
    // reports already (a restarted demo), there is nothing to render and check.
    let made: Vec<String> = state
        .catalog()
        .records()
        .iter()
        .map(|record| record.entity())
        .filter(|e| {
            e["kind"] == "Component"
                && e["metadata"]["annotations"]["pave.dev/template"].is_string()
        })
        .filter_map(|e| {
            let namespace = e["metadata"]["namespace"].as_str().unwrap_or("default");
            let name = e["metadata"]["name"].as_str()?;
            Some(format!("component:{namespace}/{name}").to_lowercase())
        })
        .collect();
    let mut missing = false;
    for entity in &made {
        if state
            .platform
            .store()
            .latest_check_report(entity)
            .await?
            .is_none()
        {
            missing = true;
            break;
        }
    }
    if !missing {
        return Ok(0);
    }
    let now = pave_stdx::time::unix_millis().div_euclid(1000);
    // Rendering and checking some forty repositories: off the async threads.
    let reports = tokio::task::spawn_blocking(move || pave_demo::demo_check_reports(now))
        .await
        .map_err(|e| anyhow!("making the demo's check reports: {e}"))?
        .context("making the demo's check reports")?;
    let store = state.platform.store();
    let catalog = state.catalog();
    // An entity with reports before this run keeps them as they are: a restarted demo does
    // not publish again.
    let entities: std::collections::BTreeSet<&String> =
        reports.iter().map(|r| &r.entity_ref).collect();
    let mut skip = std::collections::BTreeSet::new();
    for entity in entities {
        if catalog.get(entity).is_none() || store.latest_check_report(entity).await?.is_some() {
            skip.insert(entity.clone());
        }
    }
    let mut stored = 0;
    for demo in reports {
        if skip.contains(&demo.entity_ref) {
            continue;
        }
        let s = demo.report.summary;
        let event = Principal::Operator.event(
            "guardrails.report",
            &demo.entity_ref,
            AuditOutcome::Success,
            json!({"commit": demo.commit, "branch": demo.branch, "failed": s.failed,
                   "warnings": s.warnings, "excepted": s.excepted, "errors": s.errors,
                   "demo": true}),
        );
        store
            .put_check_report(
                &NewCheckReport {
                    entity_ref: demo.entity_ref,
                    received_at: demo.received_at,
                    commit: Some(demo.commit),
                    branch: Some(demo.branch),
                    counts: CheckCounts {
                        failed: s.failed,
                        warnings: s.warnings,
                        excepted: s.excepted,
                        errors: s.errors,
                        files: s.files,
                    },
                    report: demo.report.to_json(),
                },
                &[event],
            )
            .await?;
        stored += 1;
    }
    Ok(stored)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn args(publish: &str, entity: Option<&str>, commit: Option<&str>) -> PublishArgs {
        PublishArgs {
            publish: Some(publish.into()),
            entity: entity.map(Into::into),
            commit: commit.map(Into::into),
            branch: Some("main".into()),
        }
    }

    #[test]
    fn the_entity_comes_from_the_repositorys_catalog_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = target(&args("http://pave:7007", None, Some("abc1")), dir.path()).unwrap_err();
        assert!(err.to_string().contains("name it with --entity"), "{err}");
        std::fs::write(
            dir.path().join(CATALOG_FILE),
            "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata: {name: orders-api}\n---\n\
             apiVersion: backstage.io/v1alpha1\nkind: System\nmetadata: {name: shop}\n---\n\
             apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: Orders, namespace: sales}\n",
        )
        .unwrap();
        let t = target(&args("http://pave:7007/", None, Some("ABC123")), dir.path())
            .unwrap()
            .unwrap();
        assert_eq!(t.entity, "component:sales/Orders");
        assert_eq!(t.commit.as_deref(), Some("abc123"));
        assert_eq!(
            t.url.as_str(),
            "http://pave:7007/api/guardrails/reports?entity=component%3Asales%2FOrders&commit=abc123&branch=main"
        );
        // A sub-folder of the repository finds the root's file.
        std::fs::create_dir_all(dir.path().join(".git")).unwrap();
        std::fs::create_dir_all(dir.path().join("deploy/k8s")).unwrap();
        let t = target(
            &args("https://pave", None, None),
            &dir.path().join("deploy/k8s"),
        )
        .unwrap()
        .unwrap();
        assert_eq!(t.entity, "component:sales/Orders");
        // --entity wins; nothing is read.
        let t = target(
            &args("https://pave", Some("resource:db"), None),
            Path::new("/nonexistent"),
        )
        .unwrap()
        .unwrap();
        assert_eq!(t.entity, "resource:db");
        std::fs::write(
            dir.path().join(CATALOG_FILE),
            "kind: Group\nmetadata: {name: x}\n",
        )
        .unwrap();
        let err = target(&args("https://pave", None, None), dir.path()).unwrap_err();
        assert!(
            err.to_string()
                .contains("has no Component, Resource or System"),
            "{err}"
        );
    }

    #[test]
    fn bad_flags_are_refused_before_checking() {
        let dir = Path::new("/nonexistent");
        for (url, commit, message) in [
            ("pave.example.com", None, "is not a URL"),
            ("ftp://pave", None, "use an http:// or https:// URL"),
            ("http://pave", Some("main"), "is not a git commit id"),
        ] {
            let err = target(&args(url, Some("x"), commit), dir).unwrap_err();
            assert!(err.to_string().contains(message), "{url}: {err}");
        }
        let mut a = args("http://pave", Some("x"), None);
        a.branch = Some("a b".into());
        assert!(target(&a, dir).is_err());
        assert_eq!(
            strip_credentials("https://user:secret@pave.example.com/x"),
            "https://pave.example.com/x"
        );
    }
}
