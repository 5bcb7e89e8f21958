//! The engine end to end on the fixture template (two versions in a folder source): render,
//! write, the day-2 plan, and the bad-input defences.

#![allow(clippy::unwrap_used, clippy::print_stderr, unreachable_pub)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pave_template::ops::{generate, plan_dir_update};
use pave_template::write::{apply_plan, write_new};
use pave_template::{Action, Answers, Source, Sources, Want};
use serde_json::json;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/service")
}

fn answers(pairs: &[(&str, serde_json::Value)]) -> Answers {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

fn base_answers() -> Answers {
    answers(&[
        ("name", json!("payments-api")),
        ("owner", json!("team-payments")),
    ])
}

/// Every file of a folder (relative path → text), `.git` left out.
fn tree(dir: &Path) -> BTreeMap<String, String> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_entry(|e| e.file_name() != ".git")
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (rel, std::fs::read_to_string(e.path()).unwrap())
        })
        .collect()
}

fn read(dir: &Path, path: &str) -> String {
    std::fs::read_to_string(dir.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn folder_source_has_both_versions_and_renders_v1() {
    let cache = tempfile::tempdir().unwrap();
    let sources = Sources::new(cache.path());
    let source = Source::Folder(fixture());
    let versions = sources.versions(&source).unwrap();
    assert_eq!(
        versions.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["1.0.0", "2.0.0"]
    );
    let v1 = sources.load(&source, &Want::Ref("1.0.0".into())).unwrap();
    let files = generate(&v1, base_answers()).unwrap();
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("payments-api");
    write_new(&dest, &files, false).unwrap();
    let listing: String = tree(&dest)
        .iter()
        .map(|(path, text)| format!("=== {path}\n{text}"))
        .collect::<String>()
        .replace(&fixture().display().to_string(), "<FIXTURE>");
    insta::assert_snapshot!("fixture_v1_render", listing);
}

#[test]
fn day2_update_merges_keeps_edits_and_lists_conflicts() {
    let cache = tempfile::tempdir().unwrap();
    let sources = Sources::new(cache.path());
    let source = Source::Folder(fixture());
    let v1 = sources
        .load(&source, &Want::Version(semver::Version::new(1, 0, 0)))
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    let repo = out.path().join("repo");
    write_new(&repo, &generate(&v1, base_answers()).unwrap(), false).unwrap();

    // The team's edits.
    let readme = read(&repo, "README.md").replace(
        "Listens on port 8080.",
        "Listens on port 8080 behind the mesh.",
    );
    std::fs::write(repo.join("README.md"), readme).unwrap();
    let config = read(&repo, "config/payments-api.yaml").replace("timeout: 30", "timeout: 90");
    std::fs::write(repo.join("config/payments-api.yaml"), config).unwrap();
    std::fs::remove_file(repo.join("docs/guide.md")).unwrap();
    std::fs::create_dir_all(repo.join("notes")).unwrap();
    std::fs::write(repo.join("notes/mine.txt"), "my own file\n").unwrap();
    let before = tree(&repo);

    // Dry run: a plan and a diff, nothing written.
    let outcome = plan_dir_update(&repo, &sources, None).unwrap();
    assert_eq!(outcome.to.to_string(), "2.0.0");
    assert_eq!(tree(&repo), before, "planning wrote something");
    let actions: BTreeMap<&str, Action> = outcome
        .plan
        .changes
        .iter()
        .map(|c| (c.path.as_str(), c.action))
        .collect();
    assert_eq!(
        actions,
        BTreeMap::from([
            (".pave/answers.yaml", Action::Update),
            ("CHANGELOG.md", Action::Add),
            ("README.md", Action::Conflict),
            ("config/payments-api.yaml", Action::Merge),
            ("docs/guide.md", Action::KeepDeleted),
            ("old.txt", Action::Delete),
            ("src/main.py", Action::Update),
        ])
    );
    assert_eq!(outcome.plan.conflicts(), ["README.md"]);
    let diff = outcome.plan.diff();
    assert!(
        diff.contains("--- a/src/main.py\n+++ b/src/main.py\n"),
        "{diff}"
    );
    assert!(
        diff.contains("-version: \"1.0.0\"\n+version: \"2.0.0\"\n"),
        "{diff}"
    );

    apply_plan(&repo, &outcome.plan).unwrap();
    let readme = read(&repo, "README.md");
    assert!(
        readme.contains("<<<<<<< ours\nListens on port 8080 behind the mesh.\n=======\nServes HTTP on port 8080.\n>>>>>>> theirs\n"),
        "{readme}"
    );
    let config = read(&repo, "config/payments-api.yaml");
    assert!(config.contains("timeout: 90\n"), "edit lost: {config}");
    assert!(
        config.contains("log_level: warn\nreplicas: 2\n"),
        "template change lost: {config}"
    );
    assert!(
        !repo.join("docs/guide.md").exists(),
        "a deleted file came back"
    );
    assert!(!repo.join("old.txt").exists());
    assert_eq!(read(&repo, "notes/mine.txt"), "my own file\n");
    assert!(read(&repo, "src/main.py").contains("__main__"));
    let recorded = pave_template::ops::read_answers(&repo).unwrap();
    assert_eq!(recorded.version.to_string(), "2.0.0");
    assert_eq!(recorded.answers.get("replicas"), Some(&json!(2)));

    // Up to date now: nothing to do.
    let again = plan_dir_update(&repo, &sources, None).unwrap();
    assert!(
        again
            .plan
            .changes
            .iter()
            .all(|c| c.action == Action::KeepDeleted),
        "{:?}",
        again.plan.changes
    );
}

fn write_template(dir: &Path, files: &[(&str, &str)]) {
    std::fs::create_dir_all(dir.join("skeleton")).unwrap();
    std::fs::write(
        dir.join("template.yaml"),
        "apiVersion: pave.dev/v1alpha1\nkind: Template\nmetadata: {name: bad}\nspec:\n  version: 0.1.0\n  parameters: {type: object, properties: {name: {type: string, default: x}}}\n",
    )
    .unwrap();
    for (p, c) in files {
        let path = dir.join("skeleton").join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, c).unwrap();
    }
}

fn try_new(template: &Path, dest: &Path) -> Result<(), String> {
    let sources = Sources::new(template.join(".cache"));
    let loaded = sources
        .load(&Source::Folder(template.to_path_buf()), &Want::Latest)
        .map_err(|e| e.to_string())?;
    let files = generate(&loaded, Answers::new()).map_err(|e| e.to_string())?;
    write_new(dest, &files, false).map_err(|e| e.to_string())
}

#[cfg(unix)]
#[test]
fn symlinks_outside_the_template_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let outside = tmp.path().join("secret.txt");
    std::fs::write(&outside, "secret").unwrap();
    let t = tmp.path().join("t");
    write_template(&t, &[("ok.txt", "fine")]);
    std::os::unix::fs::symlink(&outside, t.join("skeleton/leak.txt")).unwrap();
    let dest = tmp.path().join("out");
    let e = try_new(&t, &dest).unwrap_err();
    assert!(
        e.contains("skeleton/leak.txt: a symbolic link pointing outside the template"),
        "{e}"
    );
    assert!(!dest.exists());
    // A link inside the template is read as the file it points to.
    std::fs::remove_file(t.join("skeleton/leak.txt")).unwrap();
    std::os::unix::fs::symlink(t.join("skeleton/ok.txt"), t.join("skeleton/alias.txt")).unwrap();
    try_new(&t, &dest).unwrap();
    assert_eq!(read(&dest, "alias.txt"), "fine");
}

/// The skeleton folder itself may not be a link out of the template (its files would be
/// read as the skeleton's), nor a link at all.
#[cfg(unix)]
#[test]
fn a_linked_skeleton_folder_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let outside = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), "secret").unwrap();
    let t = tmp.path().join("t");
    write_template(&t, &[]);
    std::fs::remove_dir(t.join("skeleton")).unwrap();
    std::os::unix::fs::symlink(&outside, t.join("skeleton")).unwrap();
    let e = pave_template::load_dir(&t).unwrap_err().to_string();
    assert!(
        e.starts_with("skeleton: a symbolic link pointing outside the template"),
        "{e}"
    );
    std::fs::remove_file(t.join("skeleton")).unwrap();
    std::fs::create_dir_all(t.join("files")).unwrap();
    std::os::unix::fs::symlink(t.join("files"), t.join("skeleton")).unwrap();
    let e = pave_template::load_dir(&t).unwrap_err().to_string();
    assert_eq!(
        e,
        "skeleton: symbolic links to directories are not supported"
    );
}

/// A server reading others' templates stops at its limits.
#[test]
fn loading_stops_at_the_limits() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path().join("t");
    write_template(
        &t,
        &[("a.txt", &"a".repeat(600)), ("b.txt", &"b".repeat(600))],
    );
    let limits = pave_template::LoadLimits {
        max_files: 10,
        max_file_bytes: 1_000,
        max_total_bytes: 1_000,
    };
    let e = pave_template::load_dir_within(&t, &limits)
        .unwrap_err()
        .to_string();
    assert_eq!(e, "skeleton: more than 1000 bytes in all");
    let limits = pave_template::LoadLimits {
        max_file_bytes: 500,
        max_total_bytes: 10_000,
        ..limits
    };
    let e = pave_template::load_dir_within(&t, &limits)
        .unwrap_err()
        .to_string();
    assert_eq!(e, "skeleton/a.txt: larger than 500 bytes");
    let limits = pave_template::LoadLimits {
        max_files: 1,
        max_file_bytes: 1_000,
        max_total_bytes: 10_000,
    };
    let e = pave_template::load_dir_within(&t, &limits)
        .unwrap_err()
        .to_string();
    assert!(e.ends_with("skeleton: more than 1 files"), "{e}");
    assert!(pave_template::load_dir(&t).is_ok());
}

#[test]
fn a_failed_render_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path().join("t");
    write_template(&t, &[("a.txt", "fine"), ("b.txt", "one\ntwo\n{% for %}\n")]);
    let dest = tmp.path().join("out");
    let e = try_new(&t, &dest).unwrap_err();
    assert!(e.starts_with("skeleton/b.txt:3: syntax error"), "{e}");
    assert!(!dest.exists());
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");

    write_template(
        &t,
        &[(
            "b.txt",
            "{% for a in range(100000) %}{% for b in range(100000) %}{{ a }}{% endfor %}{% endfor %}",
        )],
    );
    let e = try_new(&t, &dest).unwrap_err();
    assert!(
        e.contains("skeleton/b.txt:1: rendering stopped after"),
        "{e}"
    );

    write_template(&t, &[("b.txt", "x"), ("{{ '../escape' }}.txt", "x")]);
    let e = try_new(&t, &dest).unwrap_err();
    assert!(e.contains("`..` would escape the destination"), "{e}");
    write_template(&t, &[("{{ '../escape' }}.txt", "x")]);
    std::fs::remove_file(t.join("skeleton/{{ '../escape' }}.txt")).unwrap();
    write_template(&t, &[("{{ '/tmp/abs' }}.txt", "x")]);
    let e = try_new(&t, &dest).unwrap_err();
    assert!(e.contains("absolute paths are not allowed"), "{e}");
    assert!(!dest.exists());
}

#[test]
fn a_non_empty_destination_needs_force() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path().join("t");
    write_template(&t, &[("a.txt", "{{ name }}")]);
    let dest = tmp.path().join("out");
    std::fs::create_dir_all(&dest).unwrap();
    std::fs::write(dest.join("keep.txt"), "mine").unwrap();
    let e = try_new(&t, &dest).unwrap_err();
    assert!(
        e.contains("destination exists and is not empty (use --force"),
        "{e}"
    );
    assert!(!dest.join("a.txt").exists());
    let sources = Sources::new(t.join(".cache"));
    let loaded = sources
        .load(&Source::Folder(t.clone()), &Want::Latest)
        .unwrap();
    write_new(&dest, &generate(&loaded, Answers::new()).unwrap(), true).unwrap();
    assert_eq!(read(&dest, "a.txt"), "x");
    assert_eq!(read(&dest, "keep.txt"), "mine");
    // An empty destination is fine without --force.
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    write_new(&empty, &generate(&loaded, Answers::new()).unwrap(), false).unwrap();
    assert!(empty.join(".pave/answers.yaml").is_file());
}

#[test]
fn schema_failures_list_every_parameter() {
    let cache = tempfile::tempdir().unwrap();
    let sources = Sources::new(cache.path());
    let v1 = sources
        .load(&Source::Folder(fixture()), &Want::Latest)
        .unwrap();
    let bad = answers(&[
        ("name", json!("Bad Name")),
        ("owner", json!("t")),
        ("port", json!(0)),
        ("ci", json!("jenkins")),
    ]);
    let e = generate(&v1, bad).unwrap_err().to_string();
    assert!(e.contains("  - name: \"Bad Name\" does not match"), "{e}");
    assert!(
        e.contains("  - port: 0 is less than the minimum of 1"),
        "{e}"
    );
    assert!(e.contains("  - ci: \"jenkins\" is not one of"), "{e}");
    let e = generate(&v1, Answers::new()).unwrap_err().to_string();
    assert!(
        e.contains("  - name (string): Service name\n  - owner (string): Owning catalog group"),
        "{e}"
    );
}

#[cfg(unix)]
#[test]
fn force_does_not_write_through_links_leading_out() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path().join("t");
    write_template(&t, &[("a.txt", "a"), ("sub/b.txt", "b")]);
    let dest = tmp.path().join("out");
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&dest).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, dest.join("sub")).unwrap();
    let sources = Sources::new(t.join(".cache"));
    let loaded = sources
        .load(&Source::Folder(t.clone()), &Want::Latest)
        .unwrap();
    let e = write_new(&dest, &generate(&loaded, Answers::new()).unwrap(), true)
        .unwrap_err()
        .to_string();
    assert!(e.contains("is a link leading outside"), "{e}");
    assert!(!elsewhere.join("b.txt").exists());
    assert!(!dest.join("a.txt").exists(), "written before the check");
}
