//! `pave check --publish` against a running `pave serve`: a repository made by `pave new`,
//! rendered by `pave render`, checked and published for the entity of its
//! `catalog-info.yaml`, with the commit and branch from git (or CI's variables); the server
//! keeps it as the entity's latest. Publishing leaves `pave check`'s output and exit code as
//! they are; a publication that fails (no token, a token without `events.write`, an entity
//! the catalog does not know, no server) exits 2 after the report, naming why.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{pave, stderr, stdout, write_catalog};
use serde_json::Value;

const PRIVILEGED: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: debug\n  namespace: shop\nspec:\n  containers:\n  - name: debug\n    image: busybox:1.37\n    securityContext:\n      privileged: true\n";

/// A repository as `pave new` makes it for the catalog's `orders` component, with its
/// manifests rendered to `deploy/`, committed on `main`.
fn repository(dir: &Path) -> Option<PathBuf> {
    let repo = dir.join("orders");
    let out = pave()
        .args(["new", "api-service"])
        .arg(&repo)
        .args([
            "--set",
            "name=orders",
            "--set",
            "owner=team-a",
            "--set",
            "system=shop",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = pave()
        .current_dir(&repo)
        .args([
            "render",
            "score.yaml",
            "--image",
            "ghcr.io/acme/orders:1.4.2",
            "-o",
            "deploy",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    if !pave_testkit::have("git") {
        pave_testkit::skip("git is not installed");
        return None;
    }
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .current_dir(&repo)
            .args(["-c", "user.name=CI", "-c", "user.email=ci@example.com"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "init"]);
    Some(repo)
}

fn head(repo: &Path) -> String {
    let out = Command::new("git")
        .current_dir(repo)
        .args(["rev-parse", "HEAD"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// `pave check ARGS` in `dir` with `token` as PAVE_TOKEN and CI's variables cleared.
fn check(dir: &Path, token: Option<&str>, args: &[&str]) -> Output {
    let mut command = pave();
    command.current_dir(dir).arg("check").args(args);
    for var in [
        "PAVE_TOKEN",
        "GITHUB_SHA",
        "CI_COMMIT_SHA",
        "GITHUB_HEAD_REF",
        "GITHUB_REF_NAME",
        "CI_COMMIT_REF_NAME",
    ] {
        command.env_remove(var);
    }
    if let Some(token) = token {
        command.env("PAVE_TOKEN", token);
    }
    command.output().unwrap()
}

/// `GET path` with a bearer token: the JSON of a 200.
fn get_as(addr: std::net::SocketAddr, token: &str, path: &str) -> Value {
    let mut connection = pave_testkit::KeepAlive::open(addr).unwrap();
    let authorization = format!("Bearer {token}");
    let (status, body) = connection
        .send("GET", path, &[("Authorization", &authorization)], b"")
        .unwrap();
    let body = String::from_utf8(body).unwrap();
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

fn token(config: &Path, db: &str, role: &str) -> String {
    let out = pave()
        .args(["--config", config.to_str().unwrap()])
        .args([
            "token",
            "create",
            "--name",
            role,
            "--role",
            role,
            "--expires",
            "1d",
        ])
        .env("PAVE_DATABASE_URL", db)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stdout(&out).trim().to_owned()
}

#[test]
fn reports_are_published_for_the_repositorys_entity() {
    let dir = tempfile::tempdir().unwrap();
    let Some(repo) = repository(dir.path()) else {
        return;
    };
    let db = format!("sqlite://{}", dir.path().join("pave.db").display());
    let config = dir.path().join("pave.yaml");
    std::fs::write(
        &config,
        "auth:\n  roles:\n    ci: {permissions: [events.write]}\n    reader: {permissions: [catalog.entity.read]}\n",
    )
    .unwrap();
    let (ci, reader) = (token(&config, &db, "ci"), token(&config, &db, "reader"));
    let root = write_catalog(dir.path());
    let server = pave_testkit::Server::start(
        Path::new(env!("CARGO_BIN_EXE_pave")),
        &[
            "--config",
            config.to_str().unwrap(),
            "--source",
            root.to_str().unwrap(),
        ],
        &db,
        true,
    );
    let url = format!("http://{}", server.addr);
    let latest = |bearer: &str| {
        get_as(
            server.addr,
            bearer,
            "/api/guardrails/reports/latest?entity=orders",
        )
    };
    server.wait_for("/readyz", |r| r.status == 200);

    // The golden path as made: it passes (warnings only), and is published with git's
    // commit and branch. The output is what it is without publishing.
    let plain = check(&repo, None, &["-f", "json"]);
    assert_eq!(plain.status.code(), Some(0), "{}", stderr(&plain));
    let out = check(&repo, Some(&ci), &["-f", "json", "--publish", &url]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), stdout(&plain), "publishing changes no output");
    assert!(
        stderr(&out).contains("pave: published the report for component:default/orders"),
        "{}",
        stderr(&out)
    );
    let first = latest(&reader);
    assert_eq!(first["commit"], head(&repo));
    assert_eq!(first["branch"], "main");
    assert_eq!(first["failed"], 0);
    let printed: Value = serde_json::from_str(&stdout(&plain)).unwrap();
    assert_eq!(first["report"]["summary"], printed["summary"]);
    assert_eq!(first["report"]["findings"], printed["findings"]);

    // A privileged pod added: the check fails (exit 1, as without publishing) and the
    // failing report is the latest, with CI's commit and branch.
    std::fs::write(repo.join("deploy/debug-pod.yaml"), PRIVILEGED).unwrap();
    let sha = "0123456789abcdef0123456789abcdef01234567";
    let mut command = pave();
    command
        .current_dir(&repo)
        .args(["check", "--publish", &url])
        .env("PAVE_TOKEN", &ci)
        .env("GITHUB_SHA", sha)
        .env("GITHUB_HEAD_REF", "feature/debug")
        .env("GITHUB_REF_NAME", "7/merge");
    let out = command.output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).contains("pss-privileged"), "{}", stdout(&out));
    let second = latest(&reader);
    assert_eq!(
        (second["commit"].as_str(), second["branch"].as_str()),
        (Some(sha), Some("feature/debug"))
    );
    assert!(second["failed"].as_u64().unwrap() >= 1, "{second}");
    let finding = second["report"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "pss-privileged")
        .unwrap()
        .clone();
    assert_eq!(finding["file"], "deploy/debug-pod.yaml");
    assert_eq!(finding["object"]["name"], "debug");

    // From a sub-folder, naming the entity and commit: the flags win.
    let out = check(
        &repo.join("deploy"),
        Some(&ci),
        &[
            "--publish",
            &url,
            "--entity",
            "billing",
            "--commit",
            "abcdef12",
            "--branch",
            "release/2",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let billing = get_as(
        server.addr,
        &reader,
        "/api/guardrails/reports?entity=billing",
    );
    assert_eq!(billing["items"][0]["commit"], "abcdef12");
    assert_eq!(billing["items"][0]["branch"], "release/2");

    // Publications that fail exit 2 after the report, naming why; nothing is stored.
    for (token, args, why) in [
        (None, vec![], "the server answered 401"),
        (
            Some(reader.as_str()),
            vec![],
            "the server answered 403: events.write denied",
        ),
        (
            Some(ci.as_str()),
            vec!["--entity", "nobody"],
            "the server answered 404: no entity component:default/nobody in the catalog",
        ),
    ] {
        let mut all = vec!["--publish", url.as_str()];
        all.extend(args);
        let out = check(&repo, token, &all);
        assert_eq!(out.status.code(), Some(2), "{why}: {}", stderr(&out));
        assert!(
            stdout(&out).contains("pss-privileged"),
            "the report is printed"
        );
        assert!(
            stderr(&out).contains("the report was checked but not published for"),
            "{}",
            stderr(&out)
        );
        assert!(stderr(&out).contains(why), "{why}: {}", stderr(&out));
    }
    assert_eq!(latest(&reader)["id"], second["id"]);
}

#[test]
fn publishing_mistakes_are_found_before_checking() {
    let dir = tempfile::tempdir().unwrap();
    // No catalog-info.yaml here, and no --entity.
    std::fs::write(dir.path().join("pod.yaml"), PRIVILEGED).unwrap();
    let out = check(dir.path(), None, &["--publish", "http://127.0.0.1:9"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stdout(&out).is_empty(),
        "nothing was checked: {}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains("name it with --entity"),
        "{}",
        stderr(&out)
    );

    let out = check(
        dir.path(),
        None,
        &["--publish", "pave.example.com", "--entity", "x"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is not a URL"), "{}", stderr(&out));

    let out = check(dir.path(), None, &["--entity", "x"]);
    assert_eq!(out.status.code(), Some(2), "--entity needs --publish");

    let out = check(
        dir.path(),
        None,
        &[
            "--conftest",
            "--publish",
            "http://127.0.0.1:9",
            "--entity",
            "x",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("conftest mode"), "{}", stderr(&out));

    // No server there: the report is printed, then the reason, exit 2.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let out = check(
        dir.path(),
        None,
        &["--publish", &closed, "--entity", "x", "--commit", "abcd"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).contains("pss-privileged"), "{}", stdout(&out));
    assert!(stderr(&out).contains("cannot connect"), "{}", stderr(&out));
}
