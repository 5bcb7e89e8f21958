//! The I/O edge: listing and reading a docs folder on disk, and `git log` dates.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

use pave_docs::{DocsError, DocsFolder, Limits, find_page, is_fresh, last_changed, open_site};

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "mkdocs.yml", "site_name: Demo\nnav:\n  - index.md\n");
    write(root, "docs/index.md", "# Home page\n");
    write(root, "docs/guides/setup.md", "Intro\n\n# Setup\n");
    write(
        root,
        "docs/guides/index.md",
        "```\n# not a title\n```\n# Guides\n",
    );
    write(root, "docs/img/arch.png", "PNG");
    write(root, "docs/.hidden/secret.md", "# hidden");
    write(root, "docs/.env", "TOKEN=x");
    write(root, "secret.txt", "outside the docs folder");
    dir
}

#[test]
fn lists_pages_and_reads_inside() {
    let dir = site();
    let (config, folder) = open_site(dir.path(), &Limits::default()).unwrap();
    assert_eq!(config.site_name.as_deref(), Some("Demo"));
    assert_eq!(
        folder.pages().as_slice(),
        ["guides/index.md", "guides/setup.md", "index.md"]
    );
    assert_eq!(
        folder.read_page("guides/setup.md").unwrap(),
        "Intro\n\n# Setup\n"
    );
    assert_eq!(folder.read_asset("img/arch.png").unwrap(), b"PNG");
    assert_eq!(
        find_page(folder.pages(), "guides/setup"),
        Some("guides/setup.md")
    );
    assert_eq!(find_page(folder.pages(), "guides"), Some("guides/index.md"));
    let titles = folder.titles();
    assert_eq!(
        titles.get("index.md").map(String::as_str),
        Some("Home page")
    );
    assert_eq!(
        titles.get("guides/index.md").map(String::as_str),
        Some("Guides")
    );
    assert_eq!(
        titles.get("guides/setup.md").map(String::as_str),
        Some("Setup")
    );
}

#[test]
fn escapes_are_refused() {
    let dir = site();
    let docs = dir.path().join("docs");
    let folder = DocsFolder::open(&docs, &Limits::default()).unwrap();
    for path in [
        "../secret.txt",
        "guides/../../secret.txt",
        "/etc/passwd",
        "..\\secret.txt",
        ".env",
        ".hidden/secret.md",
        "",
    ] {
        let err = folder.read_asset(path).unwrap_err();
        assert!(matches!(err, DocsError::Refused { .. }), "{path}: {err}");
    }
    assert!(matches!(
        folder.read_page("missing.md").unwrap_err(),
        DocsError::NotFound { .. }
    ));
}

#[cfg(unix)]
#[test]
fn symlinks_leaving_the_folder_are_refused() {
    use std::os::unix::fs::symlink;
    let dir = site();
    let root = dir.path();
    let docs = root.join("docs");
    symlink(root.join("secret.txt"), docs.join("leak.md")).unwrap();
    symlink(root.join("secret.txt"), docs.join("leak.png")).unwrap();
    symlink(root, docs.join("up")).unwrap();
    symlink(docs.join("index.md"), docs.join("alias.md")).unwrap();
    let folder = DocsFolder::open(&docs, &Limits::default()).unwrap();
    // The link to a file inside is listed; the one leading out is not, nor is the linked
    // folder walked.
    assert_eq!(
        folder.pages().as_slice(),
        ["alias.md", "guides/index.md", "guides/setup.md", "index.md"]
    );
    assert!(
        folder.warnings.iter().any(|w| w.contains("leak.md")),
        "{:?}",
        folder.warnings
    );
    for path in ["leak.md", "leak.png", "up/secret.txt", "up/mkdocs.yml"] {
        let err = folder.read_asset(path).unwrap_err();
        assert!(matches!(err, DocsError::Refused { .. }), "{path}: {err}");
    }
    assert!(matches!(
        folder.read_page("leak.md").unwrap_err(),
        DocsError::Refused { .. }
    ));
    assert_eq!(folder.read_page("alias.md").unwrap(), "# Home page\n");
    // What counts is where a path leads: through the link out and back in is inside.
    assert_eq!(
        folder.read_page("up/docs/index.md").unwrap(),
        "# Home page\n"
    );
    // A docs_dir that is a link out of the site folder is refused as a whole.
    let other = tempfile::tempdir().unwrap();
    write(other.path(), "x.md", "# x");
    let site2 = tempfile::tempdir().unwrap();
    write(site2.path(), "mkdocs.yml", "site_name: S\n");
    symlink(other.path(), site2.path().join("docs")).unwrap();
    let err = open_site(site2.path(), &Limits::default()).unwrap_err();
    assert!(matches!(err, DocsError::Refused { .. }), "{err}");
}

#[test]
fn listing_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..12 {
        write(dir.path(), &format!("p{i}.md"), "x");
    }
    write(dir.path(), "a/b/c/d/deep.md", "x");
    let limits = Limits {
        max_pages: 10,
        ..Limits::default()
    };
    let err = DocsFolder::open(dir.path(), &limits).unwrap_err();
    assert!(
        matches!(err, DocsError::TooManyPages { limit: 10, .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("more than 10 Markdown pages"),
        "{err}"
    );
    let limits = Limits {
        max_entries: 5,
        ..Limits::default()
    };
    assert!(matches!(
        DocsFolder::open(dir.path(), &limits).unwrap_err(),
        DocsError::TooManyEntries { .. }
    ));
    let limits = Limits {
        max_depth: 3,
        ..Limits::default()
    };
    let folder = DocsFolder::open(dir.path(), &limits).unwrap();
    assert_eq!(folder.pages().len(), 12, "deep.md is below the depth limit");
    let limits = Limits {
        max_depth: 5,
        ..Limits::default()
    };
    assert_eq!(
        DocsFolder::open(dir.path(), &limits).unwrap().pages().len(),
        13
    );
}

#[test]
fn reads_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "big.md", &"x".repeat(2000));
    write(dir.path(), "big.png", &"x".repeat(2000));
    let limits = Limits {
        max_page_bytes: 1000,
        max_asset_bytes: 1000,
        ..Limits::default()
    };
    let folder = DocsFolder::open(dir.path(), &limits).unwrap();
    let err = folder.read_page("big.md").unwrap_err().to_string();
    assert!(err.contains("over the limit"), "{err}");
    assert!(folder.read_asset("big.png").is_err());
}

fn git(dir: &Path, args: &[&str], date: &str) {
    let status = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

#[test]
fn last_changed_reads_git_history() {
    if Command::new("git").arg("--version").output().is_err() {
        // git is part of the documented test environment; say so rather than pass silently.
        panic!("git is not installed");
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let d = "2024-01-01T00:00:00Z";
    git(root, &["init", "-q", "-b", "main"], d);
    git(root, &["config", "user.name", "Test"], d);
    git(root, &["config", "user.email", "test@example.com"], d);
    git(root, &["config", "commit.gpgsign", "false"], d);
    write(root, "docs/index.md", "# v1");
    write(root, "docs/guides/set up.md", "# v1");
    write(root, "docs/émoji.md", "# v1");
    write(root, "README.md", "outside docs");
    git(root, &["add", "-A"], d);
    git(root, &["commit", "-q", "-m", "one"], "2024-01-01T00:00:00Z");
    write(root, "docs/index.md", "# v2");
    write(root, "README.md", "changed outside docs");
    git(
        root,
        &["commit", "-q", "-am", "two"],
        "2024-03-01T00:00:00Z",
    );

    let map = last_changed(root, "docs", &Limits::default());
    assert_eq!(map.get("index.md"), Some(&1_709_251_200), "{map:?}"); // 2024-03-01
    assert_eq!(map.get("guides/set up.md"), Some(&1_704_067_200), "{map:?}"); // 2024-01-01
    assert_eq!(map.get("émoji.md"), Some(&1_704_067_200), "{map:?}");
    assert_eq!(map.len(), 3, "{map:?}");

    let now = 1_704_067_200 + 200 * 86_400;
    assert!(is_fresh(map["index.md"], now, 182));
    assert!(!is_fresh(map["guides/set up.md"], now, 182));

    // Not a repository, a missing folder, a path leaving the root: empty, not an error.
    let plain = tempfile::tempdir().unwrap();
    write(plain.path(), "docs/x.md", "x");
    assert!(last_changed(plain.path(), "docs", &Limits::default()).is_empty());
    assert!(last_changed(root, "nope", &Limits::default()).is_empty());
    assert!(last_changed(root, "../..", &Limits::default()).is_empty());
}

#[test]
fn a_folder_below_the_top_of_a_repository_works_as_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let top = dir.path();
    let d = "2024-01-01T00:00:00Z";
    git(top, &["init", "-q", "-b", "main"], d);
    git(top, &["config", "user.name", "Test"], d);
    git(top, &["config", "user.email", "test@example.com"], d);
    git(top, &["config", "commit.gpgsign", "false"], d);
    write(top, "services/pay/docs/index.md", "# x");
    write(top, "services/pay/docs/a/b.md", "# x");
    write(top, "services/other/docs/index.md", "# y");
    git(top, &["add", "-A"], d);
    git(top, &["commit", "-q", "-m", "one"], d);
    let docs = top.join("services/pay/docs");
    let map = last_changed(&docs, "", &Limits::default());
    let mut keys: Vec<&str> = map.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["a/b.md", "index.md"]);
    assert_eq!(
        last_changed(&top.join("services"), "pay/docs", &Limits::default()).len(),
        2
    );
}

/// A named pipe in the docs folder (a registered folder can hold one) must not block: the
/// open would wait for a writer forever and hold a worker of the server's heavy pool.
#[cfg(unix)]
#[test]
fn named_pipes_are_not_opened() {
    let dir = site();
    let docs = dir.path().join("docs");
    for name in ["pipe.md", "pipe.png"] {
        let made = Command::new("mkfifo")
            .arg(docs.join(name))
            .status()
            .unwrap();
        assert!(made.success(), "mkfifo {name}");
    }
    // Each step runs on a thread, so a regression fails the test instead of hanging it.
    let (tx, rx) = std::sync::mpsc::channel();
    let root = docs.clone();
    std::thread::spawn(move || {
        let folder = DocsFolder::open(&root, &Limits::default()).unwrap();
        let titles = folder.titles();
        let page = folder.read_page("pipe.md").map(|_| ());
        let asset = folder.read_asset("pipe.png").map(|_| ());
        let _ = tx.send((titles.len(), page.is_err(), asset.is_err()));
    });
    let (titles, page_refused, asset_refused) = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("reading a named pipe blocked");
    assert!(titles >= 2, "the real pages still have titles");
    assert!(
        page_refused && asset_refused,
        "a pipe is not a page or an asset"
    );
}

/// A docs folder laid out as a bare repository (ordinary files a repository can carry) is
/// not read as one: git would use its history and its config.
#[test]
fn a_bare_repository_as_the_docs_folder_is_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    let d = "2024-01-01T00:00:00Z";
    write(&work, "page.md", "# Page\n");
    git(&work, &["init", "-q"], d);
    git(&work, &["add", "."], d);
    let author = ["-c", "user.name=t", "-c", "user.email=t@example.com"];
    git(
        &work,
        &[&author[..], &["commit", "-q", "-m", "page"]].concat(),
        d,
    );
    git(dir.path(), &["clone", "-q", "--bare", "work", "docs"], d);
    let dates = last_changed(&dir.path().join("docs"), "", &Limits::default());
    assert!(
        dates.is_empty(),
        "a bare repository's history was read: {dates:?}"
    );
}
