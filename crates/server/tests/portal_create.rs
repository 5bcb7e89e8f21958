//! The Create page's registered templates and its push, through the full router: templates
//! registered in the catalog as cards, forms and archives (from a folder and from git),
//! hostile and broken templates, and the push of a branch to a real bare repository with
//! every refusal (no target, no permission, no CSRF token, another site, a bad name, a
//! target that cannot be reached or hangs, a branch that exists).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::*;
use pave_ingest::{IngestConfig, Source};
use pave_server::{AppState, CreatePush};
use pave_store::AuditQuery;
use pave_store::audit::Outcome;
use serde_json::json;
use tower::ServiceExt;

/// A request with a method, headers and a form body, through the full router.
async fn send(
    state: &Arc<AppState>,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Page {
    let mut request = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if body.is_some() {
        request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    }
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_owned()));
    let response = pave_server::router(Arc::clone(state))
        .oneshot(request.body(body).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Page {
        status,
        content_type,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        bytes: bytes.to_vec(),
    }
}

fn zip_names(bytes: &[u8]) -> Vec<String> {
    let archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    archive
        .file_names()
        .map(|n| n.unwrap().into_owned())
        .collect()
}

fn zip_text(bytes: &[u8], name: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut text = String::new();
    archive
        .by_name(name)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    text
}

fn write<P: AsRef<str>>(dir: &Path, files: &[(P, &str)]) {
    for (path, text) in files {
        let path = dir.join(path.as_ref());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn bare_repository(path: &Path) {
    std::fs::create_dir_all(path).unwrap();
    git(path, &["init", "--quiet", "--bare"]);
}

async fn audit(state: &AppState, action: &str) -> Vec<pave_store::audit::AuditRecord> {
    let query = AuditQuery {
        action: Some(action.into()),
        limit: 100,
        ..AuditQuery::default()
    };
    state.platform.store().audit_records(&query).await.unwrap()
}

/// A small pave template: `name` without a pattern (so the push's own name check is what
/// refuses), an owner, one file per kind of answer.
const TEMPLATE_YAML: &str = "apiVersion: pave.dev/v1alpha1
kind: Template
metadata:
  name: tiny
  title: Tiny service
  description: A tiny template for tests.
spec:
  version: 2.1.0
  type: service
  parameters:
    type: object
    required: [name, owner]
    properties:
      name: {type: string, description: The repository's name}
      owner: {type: string, description: Owning team}
      replicas: {type: integer, minimum: 1, maximum: 5, default: 2}
";

const SKELETON: &[(&str, &str)] = &[
    (
        "skeleton/README.md",
        "# {{ name }}\n\nOwned by {{ owner }}.\n",
    ),
    ("skeleton/deploy/replicas.txt", "{{ replicas }}\n"),
];

fn template_entity(name: &str, reference: &str) -> String {
    format!(
        "apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: {name}
  title: {name} title
  annotations:
    pave.dev/template-ref: {reference:?}
spec:
  type: service
  owner: team-a
  steps: []
"
    )
}

const ORG: &str = "apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: jane}
spec:
  profile: {displayName: Jane Doe, email: jane@example.com}
  memberOf: [team-a]
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: vic}
spec:
  profile: {displayName: Vic Viewer, email: vic@example.com}
  memberOf: [team-a]
";

/// The demo's registered template: a card beside the built-in ones, a form, an archive
/// whose answers name the folder relative to the source (never a server path), and a
/// command that says where it runs.
#[tokio::test]
async fn the_demo_registered_template_is_a_card_a_form_and_an_archive() {
    let demo = demo().await;
    let server_path = demo.dir.path().display().to_string();
    let index = get(&demo.state, "/create", false).await;
    assert_eq!(index.status, StatusCode::OK);
    let html = &index.body;
    for name in ["api-service", "async-worker", "batch-job"] {
        assert!(
            html.contains(&format!(r#"<a href="/create/{name}">"#)),
            "{name}"
        );
    }
    assert!(
        html.contains(r#"<a href="/create/registered/default/python-library">Python library</a>"#),
        "{html}"
    );
    assert!(html.contains(r#"<span class="chip chip-registered">Registered</span> <a href="/catalog/default/template/python-library">template:default/python-library</a></p><p class="template-origin template-owner">Owner <a class="ref" href="/catalog/default/group/developer-experience""#), "{html}");
    assert!(html.contains("<code>templates/python-library/template</code>"));
    assert_eq!(html.matches("template-card-registered").count(), 1);
    assert!(!html.contains(&server_path), "a server path on /create");

    let form = get(
        &demo.state,
        "/create/registered/default/python-library",
        false,
    )
    .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert_layout(&form.body);
    let html = &form.body;
    assert!(html.contains(r#"<input id="param-name" name="name" type="text" value="" "#));
    assert!(html.contains(r#"<select id="param-python" name="python""#));
    assert!(
        html.contains(
            r#"<input type="checkbox" id="param-typed" name="typed" value="true" checked"#
        )
    );
    assert!(html.contains(r#"action="/create/registered/default/python-library" method="get""#));
    assert!(
        html.contains(r#"<code id="create-command">pave new ./templates/python-library/template ./my-repo</code>"#),
        "{html}"
    );
    assert!(html.contains(r#"id="create-command-note""#));
    assert!(
        !html.contains("create-push"),
        "no push target, no push button"
    );

    let bad = get(
        &demo.state,
        "/create/registered/default/python-library?go=1&name=Bad&owner=data-engineering",
        false,
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains(r#"id="param-name-error""#),
        "{}",
        bad.body
    );

    let good = get(
        &demo.state,
        "/create/registered/default/python-library?go=1&name=ledger-utils&owner=data-engineering&python=3.13&typed=true",
        false,
    )
    .await;
    assert_eq!(good.status, StatusCode::OK, "{}", good.body);
    assert_eq!(good.headers["content-type"], "application/zip");
    assert_eq!(
        good.headers["content-disposition"],
        r#"attachment; filename="ledger-utils.zip""#
    );
    let names = zip_names(&good.bytes);
    for want in [
        "ledger-utils/pyproject.toml",
        "ledger-utils/src/ledger_utils/__init__.py",
        "ledger-utils/src/ledger_utils/py.typed",
        "ledger-utils/catalog-info.yaml",
        "ledger-utils/.pave/answers.yaml",
    ] {
        assert!(names.contains(&want.to_owned()), "{want}: {names:?}");
    }
    let answers = zip_text(&good.bytes, "ledger-utils/.pave/answers.yaml");
    assert!(answers.contains("template: python-library\n"), "{answers}");
    assert!(
        answers.contains("source: templates/python-library/template\n"),
        "{answers}"
    );
    assert!(answers.contains("python: \"3.13\""), "{answers}");
    assert!(!answers.contains(&server_path), "{answers}");
    let pyproject = zip_text(&good.bytes, "ledger-utils/pyproject.toml");
    assert!(
        pyproject.contains("requires-python = \">=3.13\""),
        "{pyproject}"
    );
    // Unchecked, the marker is left out (the template's condition).
    let untyped = get(
        &demo.state,
        "/create/registered/default/python-library?go=1&name=ledger-utils&owner=data-engineering",
        false,
    )
    .await;
    assert_eq!(untyped.status, StatusCode::OK);
    assert!(
        !zip_names(&untyped.bytes)
            .iter()
            .any(|n| n.ends_with("py.typed"))
    );

    // Other addresses: not a registered template, not an entity, not a path.
    for (uri, status) in [
        ("/create/registered/default/no-such", StatusCode::NOT_FOUND),
        (
            "/create/registered/default/developer-experience",
            StatusCode::NOT_FOUND,
        ),
        (
            "/create/registered/default/python-library/extra",
            StatusCode::NOT_FOUND,
        ),
        (
            "/create/registered/..%2F../python-library",
            StatusCode::NOT_FOUND,
        ),
    ] {
        assert_eq!(get(&demo.state, uri, false).await.status, status, "{uri}");
    }
}

/// Templates that cannot be used say why on their card and form, with `file:line:column`
/// for a malformed `template.yaml`; escapes (`..`, links out of the source, a link out of
/// the template) are refused; no answer is a 500, and no page names a server path.
#[tokio::test]
async fn broken_and_hostile_registered_templates_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside");
    write(
        &outside,
        &[
            ("template.yaml", TEMPLATE_YAML),
            ("secret.txt", "the server's secret\n"),
        ],
    );
    let root = dir.path().join("source");
    let mut good_files = vec![("templates/good/template.yaml".to_owned(), TEMPLATE_YAML)];
    good_files.extend(
        SKELETON
            .iter()
            .map(|(p, t)| (format!("templates/good/{p}"), *t)),
    );
    write(&root, &good_files);
    write(
        &root,
        &[
            (
                "templates/malformed/template.yaml",
                "apiVersion: pave.dev/v1alpha1\nkind: Template\nmetadata:\n  name: malformed\nspec:\n  version: one\n",
            ),
            (
                "templates/yaml-error/template.yaml",
                "apiVersion: pave.dev/v1alpha1\nkind: Template\nmetadata: {name: [unclosed\n",
            ),
            ("templates/empty/README.md", "no manifest here\n"),
            ("templates/leaky/template.yaml", TEMPLATE_YAML),
            ("templates/leaky/skeleton/README.md", "# {{ name }}\n"),
        ],
    );
    std::os::unix::fs::symlink(&outside, root.join("templates/linked-out")).unwrap();
    std::os::unix::fs::symlink(
        outside.join("secret.txt"),
        root.join("templates/leaky/skeleton/secret.txt"),
    )
    .unwrap();
    let entities = [
        template_entity("good", "dir:./templates/good"),
        template_entity("malformed", "dir:./templates/malformed"),
        template_entity("yaml-error", "dir:./templates/yaml-error"),
        template_entity("empty", "dir:./templates/empty"),
        template_entity("missing", "dir:./templates/missing"),
        template_entity("dotdot", "dir:../outside"),
        template_entity("absolute", "dir:/etc"),
        template_entity("url-ref", "url:https://github.com/x/y"),
        template_entity("linked-out", "dir:./templates/linked-out"),
        template_entity("leaky", "dir:./templates/leaky"),
    ]
    .join("---\n");
    std::fs::write(
        root.join("catalog-info.yaml"),
        format!("{ORG}---\n{entities}"),
    )
    .unwrap();
    let state = serving(dir.path(), &root.join("catalog-info.yaml")).await;
    let server_path = dir.path().display().to_string();

    let index = get(&state, "/create", false).await;
    assert_eq!(index.status, StatusCode::OK);
    let html = &index.body;
    assert_eq!(
        html.matches("template-card-registered").count(),
        10,
        "{html}"
    );
    assert_eq!(
        html.matches("This template cannot be used").count(),
        8,
        "{html}"
    );
    assert!(
        !html.contains(&server_path),
        "a server path on /create: {html}"
    );

    let problems: &[(&str, &str)] = &[
        (
            "malformed",
            "templates/malformed/template.yaml:6:3: `one` is not a semantic version",
        ),
        ("yaml-error", "templates/yaml-error/template.yaml:"),
        ("empty", "no template.yaml in `templates/empty`"),
        (
            "missing",
            "the folder `templates/missing` named by pave.dev/template-ref does not exist",
        ),
        (
            "dotdot",
            "pave.dev/template-ref: dir:../outside: is outside the source root",
        ),
        ("absolute", "name a folder relative to the catalog file"),
        ("url-ref", "only dir: references are read"),
        (
            "linked-out",
            "the folder `templates/linked-out` named by pave.dev/template-ref leads outside the source root",
        ),
    ];
    for (name, problem) in problems {
        let escaped = problem.replace('`', "&#96;");
        assert!(
            html.contains(problem) || html.contains(&escaped),
            "{name}: {problem} not on /create"
        );
        let form = get(&state, &format!("/create/registered/default/{name}"), false).await;
        assert_eq!(form.status, StatusCode::OK, "{name}");
        assert!(
            form.body.contains(r#"id="create-problem""#),
            "{name}: {}",
            form.body
        );
        assert!(
            form.body.contains(problem) || form.body.contains(&escaped),
            "{name}: {}",
            form.body
        );
        assert!(!form.body.contains(r#"id="create-form""#), "{name}");
        assert!(!form.body.contains(&server_path), "{name}: {}", form.body);
        let go = get(
            &state,
            &format!("/create/registered/default/{name}?go=1&name=x&owner=team-a"),
            false,
        )
        .await;
        assert_eq!(go.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert_ne!(go.content_type, "application/zip", "{name}");
    }
    // The card of a template with a link out of it in its skeleton reads (only the manifest
    // is read there); its form refuses the link and never reads what it points at.
    let leaky = get(&state, "/create/registered/default/leaky", false).await;
    assert_eq!(leaky.status, StatusCode::OK);
    assert!(
        leaky.body.contains(
            "templates/leaky/skeleton/secret.txt: a symbolic link pointing outside the template"
        ),
        "{}",
        leaky.body
    );
    assert!(!leaky.body.contains(&server_path), "{}", leaky.body);
    let leaky = get(
        &state,
        "/create/registered/default/leaky?go=1&name=x&owner=team-a",
        false,
    )
    .await;
    assert_eq!(leaky.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!leaky.body.contains("the server's secret"));

    // The good one works, and its archive is the template's.
    let good = get(
        &state,
        "/create/registered/default/good?go=1&name=svc&owner=team-a&replicas=3",
        false,
    )
    .await;
    assert_eq!(good.status, StatusCode::OK, "{}", good.body);
    assert_eq!(zip_text(&good.bytes, "svc/deploy/replicas.txt"), "3\n");
    assert_eq!(
        zip_text(&good.bytes, "svc/README.md"),
        "# svc\n\nOwned by team-a.\n"
    );
    let bad = get(
        &state,
        "/create/registered/default/good?go=1&name=svc&owner=team-a&replicas=9",
        false,
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body
            .contains(r#"id="param-replicas-error">9 is greater than the maximum of 5</p>"#),
        "{}",
        bad.body
    );
}

/// A state over `source` (a git repository's `file://` URL), its checkouts in `dir`.
async fn serving_git(dir: &Path, url: &str) -> Arc<AppState> {
    let store = pave_store_sqlite::SqliteStore::open(&dir.join("pave.db"))
        .await
        .unwrap();
    let ingest = IngestConfig {
        git_cache: dir.join("git-cache"),
        ..IngestConfig::default()
    };
    let state = AppState::new(Arc::new(store), ingest);
    let locations = pave_ingest::register(
        state.platform.store().as_ref(),
        &[Source::Git {
            url: url.to_owned(),
            reference: None,
        }],
    )
    .await
    .unwrap();
    let report = state.refresh(&locations).await.unwrap();
    assert!(
        !report.has_failures(),
        "{:?}",
        report.diagnostics().collect::<Vec<_>>()
    );
    state
}

/// A template registered from git: read from the checkout, and the command fetches the
/// same commit (`pave new <url>@<commit>` for a template at the repository's root; a clone
/// and `pave new ./<folder>` for one in a folder), which the answers record too.
#[tokio::test]
async fn templates_registered_from_git_name_their_repository_and_commit() {
    if !pave_testkit::have("git") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let catalog = format!(
        "{ORG}---\n{}---\n{}",
        template_entity("at-root", "dir:."),
        template_entity("in-folder", "dir:./nested/t"),
    );
    let mut owned: Vec<(String, &str)> = vec![
        ("template.yaml".into(), TEMPLATE_YAML),
        ("catalog-info.yaml".into(), catalog.as_str()),
        ("nested/t/template.yaml".into(), TEMPLATE_YAML),
    ];
    owned.extend(SKELETON.iter().map(|(p, t)| ((*p).to_owned(), *t)));
    owned.extend(SKELETON.iter().map(|(p, t)| (format!("nested/t/{p}"), *t)));
    let files: Vec<(&str, &str)> = owned.iter().map(|(p, t)| (p.as_str(), *t)).collect();
    let url = pave_testkit::git_repo(&dir.path().join("repo"), &files);
    let commit = git(&dir.path().join("repo"), &["rev-parse", "HEAD"])
        .trim()
        .to_owned();
    let state = serving_git(dir.path(), &url).await;

    let index = get(&state, "/create", false).await;
    assert_eq!(
        index.body.matches("template-card-registered").count(),
        2,
        "{}",
        index.body
    );
    assert!(
        !index.body.contains("This template cannot be used"),
        "{}",
        index.body
    );

    let root = get(
        &state,
        "/create/registered/default/at-root?name=svc&owner=team-a",
        false,
    )
    .await;
    assert_eq!(root.status, StatusCode::OK, "{}", root.body);
    let want = format!(
        r#"<code id="create-command">pave new {url}@{commit} ./svc --set name=svc --set owner=team-a</code>"#
    );
    assert!(root.body.contains(&want), "{want}\n{}", root.body);
    assert!(!root.body.contains(r#"id="create-command-note""#));
    let archive = get(
        &state,
        "/create/registered/default/at-root?go=1&name=svc&owner=team-a",
        false,
    )
    .await;
    assert_eq!(archive.status, StatusCode::OK, "{}", archive.body);
    let answers = zip_text(&archive.bytes, "svc/.pave/answers.yaml");
    assert!(answers.contains(&format!("source: {url}\n")), "{answers}");
    assert!(
        answers.contains(&format!("commit: \"{commit}\"\n"))
            || answers.contains(&format!("commit: {commit}\n")),
        "{answers}"
    );

    let nested = get(
        &state,
        "/create/registered/default/in-folder?name=svc&owner=team-a",
        false,
    )
    .await;
    assert_eq!(nested.status, StatusCode::OK, "{}", nested.body);
    let want = format!(
        r#"<code id="create-command">git clone --quiet -- {url} pave-template &#38;&#38; git -C pave-template checkout --quiet {commit} &#38;&#38; pave new ./pave-template/nested/t ./svc --set name=svc --set owner=team-a</code>"#
    );
    assert!(nested.body.contains(&want), "{want}\n{}", nested.body);
    let archive = get(
        &state,
        "/create/registered/default/in-folder?go=1&name=svc&owner=team-a",
        false,
    )
    .await;
    assert_eq!(archive.status, StatusCode::OK);
    let answers = zip_text(&archive.bytes, "svc/.pave/answers.yaml");
    assert!(answers.contains("source: nested/t\n"), "{answers}");
}

/// A source with the small template registered, served with pushes to `push_url`.
async fn push_setup(dir: &Path, push_url: Option<String>, timeout: Duration) -> Arc<AppState> {
    let root = dir.join("source");
    let mut files = vec![("templates/tiny/template.yaml".to_owned(), TEMPLATE_YAML)];
    files.extend(
        SKELETON
            .iter()
            .map(|(p, t)| (format!("templates/tiny/{p}"), *t)),
    );
    write(&root, &files);
    std::fs::write(
        root.join("catalog-info.yaml"),
        format!(
            "{ORG}---\n{}",
            template_entity("tiny", "dir:./templates/tiny")
        ),
    )
    .unwrap();
    let state = serving(dir, &root.join("catalog-info.yaml")).await;
    if let Some(url) = push_url {
        state.set_create_push(Some(CreatePush::new(&url, None, timeout).unwrap()));
    }
    state
}

const TINY: &str = "/create/registered/default/tiny";

/// The push, end to end against a real bare repository: the form offers it, a confirmation
/// lists what will happen, the POST commits and pushes the branch, the page names it, the
/// repository cloned back holds the files on `pave/new-<name>`, and the audit log has it.
#[tokio::test]
async fn a_push_lands_as_a_branch_in_a_bare_repository() {
    if !pave_testkit::have("git") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let remotes = dir.path().join("remotes");
    bare_repository(&remotes.join("orders.git"));
    let push_url = format!("file://{}/{{name}}.git", remotes.display());
    let state = push_setup(dir.path(), Some(push_url.clone()), Duration::from_secs(30)).await;

    let form = get(&state, TINY, false).await;
    assert!(
        form.body
            .contains(r#"id="create-push" name="push" value="1""#),
        "{}",
        form.body
    );
    let confirm = get(
        &state,
        &format!("{TINY}?go=1&push=1&name=orders&owner=team-a&replicas=4"),
        false,
    )
    .await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    let html = &confirm.body;
    assert!(html.contains("Push orders as a branch?"), "{html}");
    assert!(html.contains(r#"<code id="push-branch">pave/new-orders</code>"#));
    assert!(html.contains(&format!(
        r#"<code id="push-target">file://{}/orders.git</code>"#,
        remotes.display()
    )));
    assert!(html.contains(&format!(
        r#"<form class="create-actions" action="{TINY}" method="post">"#
    )));
    assert!(
        html.contains(r#"<input type="hidden" name="replicas" value="4">"#),
        "{html}"
    );
    assert!(
        git(&remotes.join("orders.git"), &["branch", "--list"]).is_empty(),
        "the confirmation pushes nothing"
    );

    let pushed = send(
        &state,
        "POST",
        TINY,
        &[],
        Some("csrf=&name=orders&owner=team-a&replicas=4"),
    )
    .await;
    assert_eq!(pushed.status, StatusCode::OK, "{}", pushed.body);
    let html = &pushed.body;
    assert!(html.contains("Pushed pave/new-orders"), "{html}");
    let commit = html
        .split(r#"<code id="push-commit">"#)
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap()
        .to_owned();
    assert_eq!(commit.len(), 40, "{commit}");

    let clone = dir.path().join("clone");
    let status = std::process::Command::new("git")
        .args(["clone", "--quiet", "--branch", "pave/new-orders"])
        .arg(remotes.join("orders.git"))
        .arg(&clone)
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(git(&clone, &["rev-parse", "HEAD"]).trim(), commit);
    assert_eq!(
        std::fs::read_to_string(clone.join("README.md")).unwrap(),
        "# orders\n\nOwned by team-a.\n"
    );
    assert_eq!(
        std::fs::read_to_string(clone.join("deploy/replicas.txt")).unwrap(),
        "4\n"
    );
    let answers = std::fs::read_to_string(clone.join(".pave/answers.yaml")).unwrap();
    assert!(answers.contains("source: templates/tiny\n"), "{answers}");
    let log = git(&clone, &["log", "--format=%an <%ae>|%cn <%ce>|%s"]);
    assert_eq!(
        log.trim(),
        "pave <pave@localhost>|pave <pave@localhost>|Create orders from the tiny golden path (2.1.0)"
    );
    assert_eq!(
        git(&remotes.join("orders.git"), &["branch", "--list"]).trim(),
        "pave/new-orders",
        "only the new branch"
    );

    let records = audit(&state, "template.push").await;
    assert_eq!(records.len(), 1);
    let record = &records[0];
    assert_eq!(record.event.outcome, Outcome::Success);
    assert_eq!(
        record.event.target,
        format!("file://{}/orders.git#pave/new-orders", remotes.display())
    );
    assert_eq!(record.event.details["commit"], json!(commit));
    assert_eq!(
        record.event.details["source"],
        json!("template:default/tiny")
    );
    assert_eq!(record.event.details["template"], json!("tiny"));

    // Again: the branch exists, the push is not forced.
    let again = send(&state, "POST", TINY, &[], Some("name=orders&owner=team-a")).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(
        again.body.contains("The branch pave/new-orders exists at"),
        "{}",
        again.body
    );
    assert_eq!(git(&clone, &["rev-parse", "HEAD"]).trim(), commit);
    let records = audit(&state, "template.push").await;
    assert_eq!(records.len(), 2);
    assert!(records.iter().any(|r| r.event.outcome == Outcome::Failure));

    // A built-in template pushes the same way.
    bare_repository(&remotes.join("payments.git"));
    let builtin = send(
        &state,
        "POST",
        "/create/api-service",
        &[],
        Some("name=payments&owner=team-a&system=shop"),
    )
    .await;
    assert_eq!(builtin.status, StatusCode::OK, "{}", builtin.body);
    let files = git(
        &remotes.join("payments.git"),
        &["ls-tree", "-r", "--name-only", "pave/new-payments"],
    );
    assert!(files.lines().any(|f| f == "catalog-info.yaml"), "{files}");
    assert!(files.lines().any(|f| f == ".pave/answers.yaml"), "{files}");
}

/// Every way a push is refused, each a page that says why, none reaching the target.
#[tokio::test]
async fn pushes_are_refused_with_reasons() {
    if !pave_testkit::have("git") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();

    // No target configured: no button, and a POST is a bad request.
    let state = push_setup(dir.path(), None, Duration::from_secs(30)).await;
    let post = send(&state, "POST", TINY, &[], Some("name=x&owner=team-a")).await;
    assert_eq!(post.status, StatusCode::BAD_REQUEST);
    assert!(post.body.contains("--create-push-url"), "{}", post.body);
    let confirm = get(
        &state,
        &format!("{TINY}?go=1&push=1&name=x&owner=team-a"),
        false,
    )
    .await;
    assert_eq!(confirm.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(confirm.body.contains("This server has no push target"));

    let remotes = dir.path().join("remotes");
    bare_repository(&remotes.join("orders.git"));
    let push_url = format!("file://{}/{{name}}.git", remotes.display());
    state.set_create_push(Some(
        CreatePush::new(&push_url, None, Duration::from_secs(30)).unwrap(),
    ));
    let branches = || git(&remotes.join("orders.git"), &["for-each-ref", "refs/heads"]);

    // Names that cannot go into the URL: on the name field, before git runs.
    for name in [
        "../orders",
        "orders/x",
        "x y",
        "orders.git",
        "-orders",
        "o%2e%2e",
    ] {
        let body = format!(
            "name={}&owner=team-a",
            url::form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>()
        );
        let page = send(&state, "POST", TINY, &[], Some(&body)).await;
        assert_eq!(
            page.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name}: {}",
            page.body
        );
        assert!(
            page.body.contains(r#"id="param-name-error">"#),
            "{name}: {}",
            page.body
        );
        assert!(
            page.body.contains("cannot name the pushed repository"),
            "{name}"
        );
        let confirm = get(&state, &format!("{TINY}?go=1&push=1&{body}"), false).await;
        assert_eq!(confirm.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
    }
    // Answers the schema refuses: the form again, nothing pushed.
    let page = send(
        &state,
        "POST",
        TINY,
        &[],
        Some("name=orders&owner=team-a&replicas=0"),
    )
    .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains(r#"id="param-replicas-error""#));
    // Another site's page: refused whoever is signed in, and recorded.
    for headers in [
        vec![
            ("origin", "https://evil.example"),
            ("host", "127.0.0.1:7007"),
        ],
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
        vec![("origin", "null")],
    ] {
        let page = send(
            &state,
            "POST",
            TINY,
            &headers,
            Some("name=orders&owner=team-a"),
        )
        .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{headers:?}");
        assert!(page.body.contains("another site"), "{}", page.body);
    }
    assert_eq!(audit(&state, "auth.denied").await.len(), 4);
    assert!(branches().is_empty(), "{}", branches());
    // The same site is fine (a browser's form on pave itself).
    let same = send(
        &state,
        "POST",
        TINY,
        &[
            ("origin", "http://127.0.0.1:7007"),
            ("host", "127.0.0.1:7007"),
            ("sec-fetch-site", "same-origin"),
        ],
        Some("name=orders&owner=team-a"),
    )
    .await;
    assert_eq!(same.status, StatusCode::OK, "{}", same.body);

    // A target that is not there: a clear error, no server path but the target's.
    let missing = send(&state, "POST", TINY, &[], Some("name=nothere&owner=team-a")).await;
    assert_eq!(missing.status, StatusCode::BAD_GATEWAY, "{}", missing.body);
    assert!(
        missing.body.contains(&format!(
            "git push to file://{}/nothere.git failed",
            remotes.display()
        )),
        "{}",
        missing.body
    );
    assert!(
        missing.body.contains("create it at the target first"),
        "{}",
        missing.body
    );
    assert!(
        !missing.body.contains("pave-create-"),
        "the scratch folder: {}",
        missing.body
    );

    // Credentials in the URL never reach a page or the audit log.
    state.set_create_push(Some(
        CreatePush::new(
            "https://robot:s3cr3t-t0ken@127.0.0.1:9/{name}.git",
            None,
            Duration::from_secs(20),
        )
        .unwrap(),
    ));
    let refused = send(&state, "POST", TINY, &[], Some("name=orders&owner=team-a")).await;
    assert_eq!(refused.status, StatusCode::BAD_GATEWAY, "{}", refused.body);
    assert!(
        refused
            .body
            .contains("git push to https://127.0.0.1:9/orders.git failed"),
        "{}",
        refused.body
    );
    assert!(!refused.body.contains("s3cr3t"), "{}", refused.body);
    let confirm = get(
        &state,
        &format!("{TINY}?go=1&push=1&name=orders&owner=team-a"),
        false,
    )
    .await;
    assert!(!confirm.body.contains("s3cr3t"));
    let records = audit(&state, "template.push").await;
    assert!(
        records.iter().all(|r| !r.event.target.contains("s3cr3t")
            && !r.event.details.to_string().contains("s3cr3t"))
    );

    // A target that never answers (a git:// port that accepts and stays silent): stopped at
    // the time limit, with its helpers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let held = std::thread::spawn(move || {
        let mut kept = Vec::new();
        for stream in silent.incoming().take(1) {
            kept.push(stream);
            std::thread::sleep(Duration::from_secs(4));
        }
    });
    state.set_create_push(Some(
        CreatePush::new(
            &format!("git://127.0.0.1:{port}/{{name}}.git"),
            None,
            Duration::from_secs(2),
        )
        .unwrap(),
    ));
    let started = Instant::now();
    let hung = send(&state, "POST", TINY, &[], Some("name=orders&owner=team-a")).await;
    let took = started.elapsed();
    assert_eq!(hung.status, StatusCode::GATEWAY_TIMEOUT, "{}", hung.body);
    assert!(
        hung.body.contains("did not finish within 2 s"),
        "{}",
        hung.body
    );
    assert!(took < Duration::from_secs(6), "{took:?}");
    held.join().unwrap();
}

/// With auth on: anonymous callers authenticate first; a role without `template.push` is
/// refused and recorded; a signed-in browser's push needs its session's CSRF token, and its
/// commit is authored by the person (their catalog e-mail address).
#[tokio::test]
async fn pushes_need_the_permission_and_the_session_token() {
    if !pave_testkit::have("git") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let remotes = dir.path().join("remotes");
    bare_repository(&remotes.join("orders.git"));
    let push_url = format!("file://{}/{{name}}.git", remotes.display());
    let state = push_setup(dir.path(), Some(push_url), Duration::from_secs(30)).await;
    let config: pave_auth::AuthConfig = serde_json::from_value(json!({
        "bindings": [
            {"role": "editor", "users": ["user:default/jane"]},
            {"role": "viewer", "users": ["user:default/vic"]}
        ]
    }))
    .unwrap();
    state.set_access_policy(Some(Arc::new(config.validate().unwrap())));
    let branches = || git(&remotes.join("orders.git"), &["for-each-ref", "refs/heads"]);
    let body = "name=orders&owner=team-a";

    let anonymous = send(&state, "POST", TINY, &[], Some(body)).await;
    assert_eq!(
        anonymous.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        anonymous.body
    );

    // Sessions, as sign-in writes them.
    let now = pave_ingest::now_millis();
    let session = |secret: &str, user: &str, name: &str| pave_store::SessionRow {
        id_hash: sha256_hex(secret),
        subject: json!({"kind": "user", "userRef": user, "name": name}).to_string(),
        csrf: format!("csrf-{secret}"),
        created_at: now,
        last_seen_at: now,
        expires_at: now + 3_600_000,
    };
    let store = state.platform.store();
    store
        .put_session(
            &session("jane-secret", "user:default/jane", "Jane Doe"),
            &[],
        )
        .await
        .unwrap();
    store
        .put_session(
            &session("vic-secret", "user:default/vic", "Vic Viewer"),
            &[],
        )
        .await
        .unwrap();
    let jane = [("cookie", "pave_session=jane-secret")];
    let vic = [("cookie", "pave_session=vic-secret")];

    // The form offers the push to jane, and tells vic what it would take.
    let form = send(&state, "GET", TINY, &jane, None).await;
    assert!(form.body.contains(r#"id="create-push""#), "{}", form.body);
    let form = send(&state, "GET", TINY, &vic, None).await;
    assert!(!form.body.contains(r#"id="create-push""#));
    assert!(
        form.body
            .contains("needs the <code>template.push</code> permission"),
        "{}",
        form.body
    );
    let refused = send(
        &state,
        "GET",
        &format!("{TINY}?go=1&push=1&{body}"),
        &vic,
        None,
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("Pushing a branch needs the template.push permission"),
        "{}",
        refused.body
    );
    // The confirmation carries jane's token for the POST.
    let confirm = send(
        &state,
        "GET",
        &format!("{TINY}?go=1&push=1&{body}"),
        &jane,
        None,
    )
    .await;
    assert!(
        confirm
            .body
            .contains(r#"<input type="hidden" name="csrf" value="csrf-jane-secret">"#),
        "{}",
        confirm.body
    );
    assert!(
        confirm.body.contains("Jane Doe &#60;jane@example.com&#62;"),
        "{}",
        confirm.body
    );

    // Without the token, or with another's: refused before the handler.
    for form_body in [body.to_owned(), format!("csrf=csrf-vic-secret&{body}")] {
        let page = send(&state, "POST", TINY, &jane, Some(&form_body)).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
        assert!(page.body.contains("CSRF"), "{}", page.body);
    }
    // A viewer holds no template.push: refused and recorded.
    let page = send(
        &state,
        "POST",
        TINY,
        &vic,
        Some(&format!("csrf=csrf-vic-secret&{body}")),
    )
    .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    assert!(page.body.contains("template.push denied"), "{}", page.body);
    let denied = audit(&state, "auth.denied").await;
    assert!(
        denied
            .iter()
            .any(|r| r.event.details["permission"] == json!("template.push")
                && r.event.target == TINY),
        "{denied:?}"
    );
    assert!(branches().is_empty());

    // jane, with her token: pushed, authored by her, committed by pave.
    let page = send(
        &state,
        "POST",
        TINY,
        &jane,
        Some(&format!("csrf=csrf-jane-secret&{body}")),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let log = git(
        &remotes.join("orders.git"),
        &["log", "--format=%an <%ae>|%cn <%ce>|%b", "pave/new-orders"],
    );
    assert!(
        log.starts_with("Jane Doe <jane@example.com>|pave <pave@localhost>|Made on pave's Create page for Jane Doe."),
        "{log}"
    );
    let records = audit(&state, "template.push").await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].event.actor.id, "user:default/jane");
}

fn sha256_hex(text: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}
