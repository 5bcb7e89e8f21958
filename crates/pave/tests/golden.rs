//! `pave new`, `pave update`, `pave drift` and `pave templates`, run as a user would, with a
//! template in a real git repository (tags v1.0.0 and v2.0.0). Needs `git`: skipped locally
//! when it is missing, a failure under `CI=true`.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{pave, stderr, stdout};

fn has_git() -> bool {
    pave_testkit::have("git")
}

fn fixture(version: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../template/tests/fixtures/service")
        .join(version)
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "tag.gpgsign=false",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from).into_iter().flatten() {
        let rel = entry.path().strip_prefix(from).unwrap();
        let target = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A git repository holding the fixture template at `version`, committed and tagged.
fn publish(repo: &Path, version: &str, tag: &str) {
    if repo.exists() {
        for entry in std::fs::read_dir(repo).unwrap().flatten() {
            if entry.file_name() != ".git" {
                let p = entry.path();
                if p.is_dir() {
                    std::fs::remove_dir_all(p).unwrap()
                } else {
                    std::fs::remove_file(p).unwrap()
                }
            }
        }
    } else {
        std::fs::create_dir_all(repo).unwrap();
        git(repo, &["init", "--quiet", "--initial-branch=main"]);
    }
    copy_dir(&fixture(version), repo);
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "--quiet", "-m", version]);
    git(repo, &["tag", tag]);
}

fn run(cache: &Path, cwd: &Path, args: &[&str]) -> Output {
    pave()
        .current_dir(cwd)
        .env("PAVE_CACHE_DIR", cache)
        .args(args)
        .output()
        .unwrap()
}

/// Exit code `code` and `needle` in stderr.
fn fails_with(out: &Output, code: i32, needle: &str) {
    assert_eq!(out.status.code(), Some(code), "{}", stderr(out));
    assert!(stderr(out).contains(needle), "{}", stderr(out));
}

fn read(dir: &Path, path: &str) -> String {
    std::fs::read_to_string(dir.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out: Vec<_> = walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| (e.path().to_path_buf(), std::fs::read(e.path()).unwrap()))
        .collect();
    out.sort();
    out
}

#[test]
fn new_update_and_drift_from_a_git_template() {
    if !has_git() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let template = tmp.path().join("template-repo");
    publish(&template, "1.0.0", "v1.0.0");
    let src = template.display().to_string();

    // Missing parameters without a terminal: every one listed, nothing written.
    let out = run(&cache, tmp.path(), &["new", &src, "svc-a"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("missing required parameters"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out)
            .contains("  - name (string): Service name\n  - owner (string): Owning catalog group"),
        "{}",
        stderr(&out)
    );
    assert!(!tmp.path().join("svc-a").exists());

    // Schema failures list each parameter.
    let out = run(
        &cache,
        tmp.path(),
        &[
            "new",
            &src,
            "svc-a",
            "--set",
            "name=Bad Name",
            "--set",
            "owner=t",
            "--set",
            "port=70000",
        ],
    );
    fails_with(&out, 2, "  - name: \"Bad Name\" does not match");
    assert!(
        stderr(&out).contains("  - port: 70000 is greater than the maximum of 65535"),
        "{}",
        stderr(&out)
    );
    let out = run(
        &cache,
        tmp.path(),
        &["new", &src, "svc-a", "--set", "port=many"],
    );
    fails_with(&out, 2, "--set port=many: `many` is not an integer");

    // Three repositories at v1.0.0 (one from a values file, one as JSON output).
    let out = run(
        &cache,
        tmp.path(),
        &[
            "new",
            &src,
            "svc-a",
            "--set",
            "name=svc-a",
            "--set",
            "owner=team-a",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("Created svc-a from fixture-service 1.0.0 ("),
        "{}",
        stdout(&out)
    );
    std::fs::write(
        tmp.path().join("values.yaml"),
        "name: svc-b\nowner: team-b\nci: gitlab\n",
    )
    .unwrap();
    let out = run(
        &cache,
        tmp.path(),
        &[
            "new",
            &format!("{src}@v1.0.0"),
            "fleet/svc-b",
            "--values",
            "values.yaml",
            "-o",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let created: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(created["version"], "1.0.0");
    assert_eq!(created["commit"].as_str().map(str::len), Some(40));
    assert!(
        !tmp.path().join("fleet/svc-b/.github").exists(),
        "condition ignored"
    );
    let out = run(
        &cache,
        tmp.path(),
        &[
            "new",
            &src,
            "fleet/svc-c",
            "--set",
            "name=svc-c",
            "--set",
            "owner=team-c",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // A non-empty destination is refused without --force.
    let out = run(
        &cache,
        tmp.path(),
        &[
            "new",
            &src,
            "svc-a",
            "--set",
            "name=svc-a",
            "--set",
            "owner=team-a",
        ],
    );
    fails_with(&out, 2, "destination exists and is not empty");

    let repo = tmp.path().join("svc-a");
    let answers = read(&repo, ".pave/answers.yaml");
    assert!(
        answers.contains("template: fixture-service\n") && answers.contains("version: \"1.0.0\"\n"),
        "{answers}"
    );
    assert!(answers.contains(&format!("source: {src}\n")), "{answers}");
    assert_eq!(read(&repo, "assets/logo.txt"), "{{ copied verbatim }}\n");

    // The team edits the repository.
    let readme = read(&repo, "README.md").replace(
        "Listens on port 8080.",
        "Listens on port 8080 behind the mesh.",
    );
    std::fs::write(repo.join("README.md"), readme).unwrap();
    let config = read(&repo, "config/svc-a.yaml").replace("timeout: 30", "timeout: 90");
    std::fs::write(repo.join("config/svc-a.yaml"), config).unwrap();
    std::fs::remove_file(repo.join("docs/guide.md")).unwrap();
    std::fs::write(repo.join("mine.txt"), "my own file\n").unwrap();

    // The template moves on.
    publish(&template, "2.0.0", "v2.0.0");

    // Drift before updating: all three behind by one.
    let out = run(
        &cache,
        tmp.path(),
        &["drift", "svc-a", "fleet", "-o", "json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let rows: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 3);
    for row in rows {
        assert_eq!(row["template"], "fixture-service");
        assert_eq!(row["version"], "1.0.0");
        assert_eq!(row["latest"], "2.0.0");
        assert_eq!(row["behind"], 1);
        assert_eq!(row["status"], "behind");
    }

    // --dry-run: a diff, conflicts listed, exit 1, nothing written.
    let before = snapshot(&repo);
    let out = run(&cache, &repo, &["update", "--dry-run"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let diff = stdout(&out);
    assert!(
        diff.contains("--- a/src/main.py\n+++ b/src/main.py\n"),
        "{diff}"
    );
    assert!(
        diff.contains("--- /dev/null\n+++ b/CHANGELOG.md\n"),
        "{diff}"
    );
    assert!(diff.contains("--- a/old.txt\n+++ /dev/null\n"), "{diff}");
    assert!(
        stderr(&out)
            .contains("Conflicts (resolve the <<<<<<< markers, then commit):\n  README.md\n"),
        "{}",
        stderr(&out)
    );
    assert_eq!(snapshot(&repo), before, "--dry-run wrote something");

    // The update.
    let out = run(&cache, &repo, &["update", "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["from"], "1.0.0");
    assert_eq!(report["to"], "2.0.0");
    assert_eq!(report["conflicts"], serde_json::json!(["README.md"]));
    let readme = read(&repo, "README.md");
    assert!(readme.contains("<<<<<<< ours\nListens on port 8080 behind the mesh.\n=======\nServes HTTP on port 8080.\n>>>>>>> theirs\n"), "{readme}");
    let config = read(&repo, "config/svc-a.yaml");
    assert!(
        config.contains("timeout: 90\n"),
        "an edit was lost: {config}"
    );
    assert!(
        config.contains("log_level: warn\nreplicas: 2\n"),
        "the template change is missing: {config}"
    );
    assert!(
        !repo.join("docs/guide.md").exists(),
        "a deleted file came back"
    );
    assert!(
        !repo.join("old.txt").exists(),
        "a file the template removed is still there"
    );
    assert_eq!(read(&repo, "mine.txt"), "my own file\n");
    assert!(repo.join("CHANGELOG.md").is_file());
    let answers = read(&repo, ".pave/answers.yaml");
    assert!(
        answers.contains("version: \"2.0.0\"\n") && answers.contains("replicas: 2\n"),
        "{answers}"
    );

    // Drift afterwards: svc-a current, the other two behind; table output.
    let out = run(&cache, tmp.path(), &["drift", "svc-a", "fleet"]);
    assert_eq!(out.status.code(), Some(1));
    let table = stdout(&out);
    assert!(table.starts_with("REPO"), "{table}");
    assert_eq!(table.matches("behind").count(), 2, "{table}");
    assert_eq!(table.matches("current").count(), 1, "{table}");
    let out = run(&cache, tmp.path(), &["drift", "svc-a"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // An update with nothing to do.
    let out = run(
        &cache,
        &tmp.path().join("fleet/svc-c"),
        &["update", "--to", "1.0.0"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn templates_show_and_bad_sources() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let folder = fixture("2.0.0");
    let out = run(
        &cache,
        tmp.path(),
        &[
            "templates",
            "show",
            &folder.display().to_string(),
            "-o",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let shown: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(shown["name"], "fixture-service");
    assert_eq!(shown["version"], "2.0.0");
    let names: Vec<&str> = shown["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["name", "owner", "port", "replicas", "ci"]);
    let out = run(
        &cache,
        tmp.path(),
        &["templates", "show", &folder.display().to_string()],
    );
    assert!(stdout(&out).contains("PARAMETER"), "{}", stdout(&out));
    let out = run(&cache, tmp.path(), &["templates", "list", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).trim_start().starts_with('['));

    let out = run(&cache, tmp.path(), &["new", "no-such-template", "x"]);
    fails_with(&out, 2, "no built-in template `no-such-template`");
    let out = run(&cache, tmp.path(), &["update", "."]);
    fails_with(&out, 2, ".pave/answers.yaml");
}

#[test]
fn a_builtin_name_wins_over_a_folder_of_that_name_unless_written_as_a_path() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    // A folder named like a built-in, without a template in it (say, a checkout of a service).
    std::fs::create_dir_all(tmp.path().join("api-service/src")).unwrap();
    let set = [
        "--set",
        "name=orders",
        "--set",
        "owner=team-a",
        "--set",
        "system=shop",
    ];
    let mut args = vec!["new", "api-service", "out"];
    args.extend(set);
    let out = run(&cache, tmp.path(), &args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("using the built-in template `api-service`; for the folder `api-service` here, write `./api-service`"),
        "{}",
        stderr(&out)
    );
    assert!(read(&tmp.path().join("out"), ".pave/answers.yaml").contains("source: builtin"));

    // Written as a path, it is the folder; the error names the other reading.
    let mut args = vec!["new", "./api-service", "out2"];
    args.extend(set);
    let out = run(&cache, tmp.path(), &args);
    fails_with(&out, 2, "no template.yaml here or in its subfolders");
    assert!(
        stderr(&out).contains("for the built-in template, write `builtin:api-service`"),
        "{}",
        stderr(&out)
    );
    assert!(!tmp.path().join("out2").exists());
}
