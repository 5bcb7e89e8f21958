//! The demo organisation's `pave check` reports, as its CI would have published them with
//! `pave check --publish`: real reports of real files.
//!
//! Every service and worker was made from a golden path (`pave.dev/template` and
//! `-version` on its entity), so its repository is that template rendered with its answers,
//! and its `deploy/` folder what `pave render score.yaml` writes. Golden paths are born
//! compliant; what a report finds is what the team changed since, the *drift* listed per
//! service below (a base image left unpinned, a `HEALTHCHECK` dropped, a secret in an
//! environment variable…), applied to those files before the built-in rules run over them
//! as `pave check .` would in the repository. Most services are clean or only warned, a few
//! fail, two carry exceptions (one expired). Some have older reports too, from before a
//! fix, so the tab has a history.
//!
//! Deterministic for a given `now` (only received times and exception dates depend on it).

use std::collections::BTreeMap;
use std::fmt;

use pave_policy::{Document, Exceptions, InputError, Policy, PolicyConfig};
use pave_policy_output::{RenderOptions, StoredReport};
use pave_template::RenderedFile;
use pave_workload::{NoFiles, Provisioners, Workload};
use serde_json::{Map, Value, json};

use crate::demo::landscape::{Component, ComponentType, RESOURCES, SYSTEMS, System};

/// One report as CI would have published it.
#[derive(Debug, Clone)]
pub struct DemoCheckReport {
    /// Canonical `component:default/<name>`.
    pub entity_ref: String,
    /// Unix seconds.
    pub received_at: i64,
    /// The commit checked (40 hex digits).
    pub commit: String,
    pub branch: String,
    pub report: StoredReport,
}

/// Why the demo's reports could not be made (a golden path that no longer renders: a bug).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoReportError(pub String);

impl fmt::Display for DemoReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DemoReportError {}

/// What a team changed in its repository after `pave new`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Drift {
    /// `HEALTHCHECK` dropped from the Dockerfile (`docker-healthcheck`, info).
    NoHealthcheck,
    /// The CPU limit removed, against throttling (`k8s-cpu-limits`, low).
    NoCpuLimit,
    /// `readOnlyRootFilesystem: false` (`k8s-read-only-root-fs`, low).
    WritableRootFs,
    /// The build stage's base image without a tag (`docker-base-unpinned`, medium).
    UnpinnedBase,
    /// A workflow step on a tag instead of a commit (`gha-action-unpinned`, medium).
    UnpinnedAction,
    /// The image by `:latest` instead of its digest (`k8s-image-tag`, medium).
    LatestTag,
    /// The memory limit removed (`k8s-memory-limits`, medium).
    NoMemoryLimit,
    /// The runtime stage on distroless's `:debug` image (it runs as root and has a shell)
    /// and `USER` dropped (`docker-root-user`, high).
    RootUser,
    /// An API key as a plain environment variable (`k8s-env-secret`, high).
    SecretInEnv,
}

use Drift::*;

#[cfg(test)]
impl Drift {
    /// The rule that reports it (the tests check each drift shows as its finding).
    fn rule(self) -> &'static str {
        match self {
            NoHealthcheck => "docker-healthcheck",
            NoCpuLimit => "k8s-cpu-limits",
            WritableRootFs => "k8s-read-only-root-fs",
            UnpinnedBase => "docker-base-unpinned",
            UnpinnedAction => "gha-action-unpinned",
            LatestTag => "k8s-image-tag",
            NoMemoryLimit => "k8s-memory-limits",
            RootUser => "docker-root-user",
            SecretInEnv => "k8s-env-secret",
        }
    }
}

/// A service's drift now (its last report), and what its older reports also had (fixed
/// since), oldest last.
type DriftEntry = (&'static str, &'static [Drift], &'static [&'static [Drift]]);

/// Services not listed are as their golden path made them.
const DRIFT: &[DriftEntry] = &[
    // Failing: a deprecated service nobody maintains, experiments cutting corners.
    (
        "legacy-basket",
        &[RootUser, UnpinnedBase, NoHealthcheck],
        &[],
    ),
    (
        "legacy-sso-bridge",
        &[SecretInEnv, LatestTag],
        &[&[NoHealthcheck]],
    ),
    ("recommendations-service", &[LatestTag, WritableRootFs], &[]),
    (
        "payment-links-service",
        &[UnpinnedAction],
        &[&[UnpinnedAction, UnpinnedBase]],
    ),
    ("demand-forecaster", &[NoMemoryLimit, NoCpuLimit], &[]),
    // An expired exception: the root user is reported again, and the expiry.
    ("courier-app-backend", &[RootUser], &[&[RootUser]]),
    // An active exception: the finding is excepted, the run passes.
    (
        "fraud-scoring",
        &[RootUser, NoHealthcheck],
        &[&[RootUser, NoHealthcheck]],
    ),
    // Warnings only.
    ("image-resizer", &[WritableRootFs], &[]),
    (
        "search-indexer",
        &[NoCpuLimit],
        &[&[NoCpuLimit, UnpinnedAction]],
    ),
    ("tracking-service", &[NoHealthcheck], &[]),
    (
        "label-printer-worker",
        &[WritableRootFs, NoHealthcheck],
        &[],
    ),
    ("route-optimizer", &[NoCpuLimit], &[]),
    (
        "loyalty-service",
        &[NoHealthcheck],
        &[&[NoHealthcheck, LatestTag]],
    ),
    ("gdpr-erasure-worker", &[NoCpuLimit], &[]),
    // As made now; failing before the fix.
    (
        "cart-service",
        &[],
        &[&[UnpinnedBase], &[UnpinnedBase, RootUser]],
    ),
    (
        "order-service",
        &[],
        &[&[UnpinnedBase], &[UnpinnedBase, RootUser]],
    ),
    ("payment-gateway", &[], &[&[SecretInEnv]]),
    ("stock-ledger", &[], &[&[NoMemoryLimit]]),
];

fn drift_of(name: &str) -> (&'static [Drift], &'static [&'static [Drift]]) {
    DRIFT
        .iter()
        .find(|(n, _, _)| *n == name)
        .map_or((&[], &[]), |(_, now, older)| (now, older))
}

/// The exceptions file of a service (`pave-exceptions.yaml`), if it has one; `now` decides
/// the dates.
fn exceptions_of(name: &str, now: i64) -> Option<String> {
    let (owner, reason, expires) = match name {
        "fraud-scoring" => (
            "payments-core",
            "the model runtime loads its GPU driver as root; a non-root image is tracked in PAY-311",
            now + 45 * 86_400,
        ),
        "courier-app-backend" => (
            "last-mile",
            "the label printer SDK writes to /root; replaced by the v3 SDK (LM-88)",
            now - 9 * 86_400,
        ),
        _ => return None,
    };
    let date = pave_stdx::time::iso8601_utc(expires);
    Some(format!(
        "exceptions:\n- id: {name}-root-user\n  rules: [docker-root-user]\n  match:\n    files: [Dockerfile]\n  owner: {owner}\n  reason: {reason}\n  expires: {date}\n"
    ))
}

/// The template and version `pave new` made `component` from, if any.
fn golden_path(component: &Component) -> Option<(&'static str, &'static str)> {
    let mut template = None;
    let mut version = None;
    for (key, value) in crate::demo::golden_path(component) {
        match key {
            "pave.dev/template" => template = Some(value),
            "pave.dev/template-version" => version = Some(value),
            _ => {}
        }
    }
    Some((template?, version?))
}

/// The reports of every service and worker, each entity's oldest first (so that storing
/// them in order leaves the right one newest).
///
/// # Errors
/// A golden path that does not render or check: a bug in the templates or here.
pub fn demo_check_reports(now: i64) -> Result<Vec<DemoCheckReport>, DemoReportError> {
    let mut out = Vec::new();
    for system in SYSTEMS {
        for component in system.components {
            let Some((template, version)) = golden_path(component) else {
                continue;
            };
            let files = repository(component, system, template, version)?;
            let (now_drift, older) = drift_of(component.name);
            let seed = hash(component.name);
            // Received at a believable time of the last day: each service's last CI run.
            let latest = now - 600 - i64::try_from(seed % 20 * 3_600).unwrap_or(0);
            // Older reports two days apart, the oldest first.
            for (age, drift) in older.iter().enumerate().rev() {
                let age = age + 1;
                let at = latest - i64::try_from(age).unwrap_or(0) * 2 * 86_400;
                out.push(report(component, &files, drift, at, now, age)?);
            }
            out.push(report(component, &files, now_drift, latest, now, 0)?);
        }
    }
    Ok(out)
}

/// The rendered repository of `component`: the template's files, then `deploy/` as `pave
/// render` writes it (objects still as values, so drift can be applied before the layout).
struct Repository {
    files: BTreeMap<String, String>,
    workload: pave_workload::Rendered,
}

fn repository(
    component: &Component,
    system: &System,
    template: &str,
    version: &str,
) -> Result<Repository, DemoReportError> {
    let fail = |what: &str, e: &dyn fmt::Display| {
        DemoReportError(format!("{}: {what}: {e}", component.name))
    };
    let version = pave_template::parse_version(version).ok_or_else(|| fail("version", &version))?;
    let loaded =
        pave_template::builtin::load(template, &version).map_err(|e| fail("template", &e))?;
    let mut answers = Map::new();
    answers.insert("name".into(), component.name.into());
    answers.insert("owner".into(), system.owner.into());
    answers.insert("system".into(), system.name.into());
    answers.insert("description".into(), component.description.into());
    answers.insert("lifecycle".into(), component.lifecycle.as_str().into());
    let uses = |kind: &str| {
        component.depends_on.iter().any(|d| {
            RESOURCES
                .iter()
                .any(|r| r.resource_type == kind && d.strip_prefix("resource:") == Some(r.name))
        })
    };
    answers.insert("database".into(), Value::Bool(uses("database")));
    if component.component_type == ComponentType::Worker {
        answers.insert("bucket".into(), Value::Bool(uses("s3-bucket")));
    }
    if loaded
        .manifest
        .parameters
        .pointer("/properties/ci")
        .is_some_and(Value::is_object)
    {
        answers.insert("ci".into(), "github".into());
    }
    let answers = pave_template::params::prepare(&loaded.manifest, answers)
        .map_err(|e| fail("answers", &e))?;
    let rendered = pave_template::render(&loaded, &answers).map_err(|e| fail("render", &e))?;
    let mut files = BTreeMap::new();
    for (path, RenderedFile { contents, .. }) in rendered {
        if let Ok(text) = String::from_utf8(contents) {
            files.insert(path, text);
        }
    }
    let score = files
        .get("score.yaml")
        .ok_or_else(|| fail("render", &"no score.yaml"))?;
    let workload = Workload::parse("score.yaml", score).map_err(|e| fail("score.yaml", &e))?;
    let options = pave_workload::RenderOptions {
        image: Some(format!(
            "ghcr.io/northwind/{}@sha256:{}",
            component.name,
            fake_hex(component.name, 99, 64)
        )),
        ..pave_workload::RenderOptions::default()
    };
    let workload = pave_workload::render(&workload, &Provisioners::builtin(), &NoFiles, &options)
        .map_err(|e| fail("pave render", &e))?;
    Ok(Repository { files, workload })
}

/// One report: `drift` applied to the repository, the built-in rules run over it as `pave
/// check .` does there.
fn report(
    component: &Component,
    repo: &Repository,
    drift: &[Drift],
    received_at: i64,
    now: i64,
    age: usize,
) -> Result<DemoCheckReport, DemoReportError> {
    let mut files = repo.files.clone();
    let mut workload = repo.workload.clone();
    for d in drift {
        apply(*d, &mut files, &mut workload);
    }
    for (path, text) in workload.layout().files {
        files.insert(format!("deploy/{path}"), text);
    }
    let exceptions = match exceptions_of(component.name, now) {
        Some(text) => {
            let parsed = Exceptions::parse("pave-exceptions.yaml", &text)
                .map_err(|e| DemoReportError(format!("{}: exceptions: {e}", component.name)))?;
            files.insert("pave-exceptions.yaml".into(), text);
            parsed
        }
        None => Exceptions::default(),
    };
    let limits = pave_yaml::Limits::default();
    let mut docs: Vec<Document> = Vec::new();
    let mut errors = Vec::new();
    for (path, text) in &files {
        if !checked_path(path) {
            continue;
        }
        match pave_policy::load(path, text.clone(), None, &limits) {
            Ok(found) => docs.extend(found),
            Err(e) => errors.push(InputError {
                file: path.clone(),
                line: None,
                column: None,
                message: e.to_string(),
            }),
        }
    }
    let policy = Policy::new(PolicyConfig::default(), exceptions);
    let checked = policy.check(&docs, errors, received_at);
    Ok(DemoCheckReport {
        entity_ref: format!("component:default/{}", component.name),
        received_at,
        commit: fake_hex(component.name, age, 40),
        branch: "main".into(),
        report: StoredReport::from_report(&checked, &RenderOptions::default()),
    })
}

/// What `pave check .` reads in a repository: YAML, JSON and Dockerfiles outside hidden
/// folders other than `.github`.
fn checked_path(path: &str) -> bool {
    let hidden = path
        .split('/')
        .rev()
        .skip(1)
        .any(|dir| dir.starts_with('.') && dir != ".github");
    let name = path.rsplit('/').next().unwrap_or(path);
    !hidden
        && (pave_policy::doc::is_dockerfile_name(name)
            || [".yaml", ".yml", ".json"].iter().any(|e| name.ends_with(e)))
}

fn apply(
    drift: Drift,
    files: &mut BTreeMap<String, String>,
    workload: &mut pave_workload::Rendered,
) {
    let mut edit_file = |path: &str, edit: &dyn Fn(&str) -> String| {
        if let Some(text) = files.get_mut(path) {
            *text = edit(text);
        }
    };
    match drift {
        NoHealthcheck => edit_file("Dockerfile", &|t| {
            t.lines()
                .filter(|l| !l.starts_with("HEALTHCHECK"))
                .map(|l| format!("{l}\n"))
                .collect()
        }),
        RootUser => edit_file("Dockerfile", &|t| {
            t.lines()
                .filter(|l| !l.starts_with("USER "))
                .map(|l| match l.strip_suffix(":nonroot") {
                    Some(image) if l.starts_with("FROM gcr.io/distroless/") => {
                        format!("{image}:debug\n")
                    }
                    _ => format!("{l}\n"),
                })
                .collect()
        }),
        UnpinnedBase => edit_file("Dockerfile", &|t| {
            t.lines()
                .map(|l| match l.strip_prefix("FROM golang:") {
                    Some(rest) => {
                        let stage = rest.split_once(' ').map_or("", |(_, s)| s);
                        format!("FROM golang {stage}\n")
                    }
                    None => format!("{l}\n"),
                })
                .collect()
        }),
        UnpinnedAction => edit_file(".github/workflows/ci.yaml", &|t| {
            let mut done = false;
            t.lines()
                .map(|l| {
                    if !done && l.trim_start().starts_with("- uses: actions/checkout@") {
                        done = true;
                        let indent = &l[..l.len() - l.trim_start().len()];
                        format!("{indent}- uses: actions/checkout@v4\n")
                    } else {
                        format!("{l}\n")
                    }
                })
                .collect()
        }),
        NoCpuLimit => container(workload, |c| {
            if let Some(limits) = c
                .get_mut("resources")
                .and_then(|r| r.get_mut("limits"))
                .and_then(Value::as_object_mut)
            {
                limits.remove("cpu");
            }
        }),
        WritableRootFs => container(workload, |c| {
            if let Some(sc) = c.get_mut("securityContext").and_then(Value::as_object_mut) {
                sc.insert("readOnlyRootFilesystem".into(), false.into());
            }
        }),
        NoMemoryLimit => container(workload, |c| {
            if let Some(limits) = c
                .get_mut("resources")
                .and_then(|r| r.get_mut("limits"))
                .and_then(Value::as_object_mut)
            {
                limits.remove("memory");
            }
        }),
        SecretInEnv => container(workload, |c| {
            let env = c.entry("env").or_insert_with(|| json!([]));
            if let Some(list) = env.as_array_mut() {
                list.push(json!({"name": "PARTNER_API_KEY", "value": "pk_live_51Hx9c2e7b1"}));
            }
        }),
        LatestTag => container(workload, |c| {
            if let Some(image) = c.get("image").and_then(Value::as_str) {
                let repo = image.split(['@', ':']).next().unwrap_or(image).to_owned();
                c.insert("image".into(), format!("{repo}:latest").into());
            }
        }),
    }
}

/// Applies `edit` to the first container of every workload object, in every environment:
/// what a team changes in its Score file or base lands in `deploy/base/`, which is what
/// `pave check` reads (the overlays are JSON patches).
fn container(workload: &mut pave_workload::Rendered, edit: impl Fn(&mut Map<String, Value>)) {
    for rendered in &mut workload.environments {
        for object in &mut rendered.objects {
            let pod = match object.get("kind").and_then(Value::as_str) {
                Some("Deployment" | "StatefulSet" | "Job") => "/spec/template/spec/containers/0",
                Some("CronJob") => "/spec/jobTemplate/spec/template/spec/containers/0",
                _ => continue,
            };
            if let Some(c) = object.pointer_mut(pod).and_then(Value::as_object_mut) {
                edit(c);
            }
        }
    }
}

/// FNV-1a of `text`: a stable seed per service.
fn hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `len` hex digits that look like a digest, the same for the same `(text, n)`.
fn fake_hex(text: &str, n: usize, len: usize) -> String {
    let mut state = hash(text) ^ (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut out = String::with_capacity(len);
    while out.len() < len {
        // splitmix64
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        out.push_str(&format!("{z:016x}"));
    }
    out.truncate(len);
    out
}

#[cfg(test)]
#[path = "guardrails_tests.rs"]
mod tests;
