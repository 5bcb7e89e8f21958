//! Where templates come from: built in, a folder, or a git repository (versions are semver
//! tags `v1.2.3` or `1.2.3`), fetched with the git CLI into a cache folder.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use semver::Version;

use crate::error::{Error, Result};
use crate::manifest::parse_version;
use crate::template::Template;

/// A template source.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Source {
    /// Embedded in the binary.
    Builtin(String),
    /// A folder holding `template.yaml`, or version folders each holding one.
    Folder(PathBuf),
    /// A git repository: a URL or a local path.
    Git(String),
}

/// A source plus an optional `@ref` (a version, tag, branch or commit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRef {
    pub source: Source,
    pub reference: Option<String>,
    /// Set when the text could also have meant something else (a built-in name that is also
    /// a folder here): what was chosen and how to ask for the other.
    pub note: Option<String>,
}

impl Source {
    /// What the answers file records as `source`.
    pub fn record(&self) -> String {
        match self {
            Source::Builtin(_) => "builtin".to_owned(),
            Source::Folder(p) => p.display().to_string(),
            Source::Git(url) => url.clone(),
        }
    }

    /// The source an answers file names (`template`, `source`).
    pub fn from_record(template: &str, source: &str) -> Source {
        if source == "builtin" {
            return Source::Builtin(template.to_owned());
        }
        if is_url(source)
            || Path::new(source).join(".git").exists()
            || looks_bare(Path::new(source))
        {
            Source::Git(source.to_owned())
        } else {
            Source::Folder(PathBuf::from(source))
        }
    }
}

fn is_url(s: &str) -> bool {
    ["https://", "http://", "ssh://", "git://", "file://", "git@"]
        .iter()
        .any(|p| s.starts_with(p))
}

fn looks_bare(p: &Path) -> bool {
    p.join("HEAD").is_file() && p.join("objects").is_dir()
}

/// Whether `text` is written as a path (`./api-service`, `../t`, `/abs`, `~/t`, `a/b`), so a
/// built-in of the same name is not meant.
fn written_as_path(text: &str) -> bool {
    text.contains('/') || text.contains('\\') || text.starts_with('.') || text.starts_with('~')
}

/// Reads what a user typed for `<template>`: `builtin:NAME`, a built-in name, a git URL
/// (`https://…`, `git@…`, `ssh://…`, `file://…`), a local git repository or a folder, each
/// with an optional `@ref`. Local paths are made absolute. A bare built-in name means the
/// built-in even when a folder of that name exists here (the note says so): write `./NAME`
/// for the folder.
pub fn parse_source(text: &str) -> Result<SourceRef> {
    if let Some(name) = text.strip_prefix("builtin:") {
        let (name, reference) = split_ref(name, 0);
        return Ok(SourceRef {
            source: Source::Builtin(name.to_owned()),
            reference,
            note: None,
        });
    }
    if !written_as_path(text) {
        let (name, reference) = split_ref(text, 0);
        if crate::manifest::valid_name(name) && crate::builtin::catalog().contains_key(name) {
            let note = Path::new(name).exists().then(|| {
                format!("using the built-in template `{name}`; for the folder `{name}` here, write `./{name}`")
            });
            return Ok(SourceRef {
                source: Source::Builtin(name.to_owned()),
                reference,
                note,
            });
        }
    }
    if is_url(text) {
        // The ref is after the last `@` past the host (`git@host:org/repo@v1`).
        let host_end = text.find("://").map_or(0, |i| i + 3);
        let after_host = text[host_end..]
            .find(['/', ':'])
            .map_or(text.len(), |i| host_end + i);
        let (url, reference) = split_ref(text, after_host);
        return Ok(SourceRef {
            source: Source::Git(url.to_owned()),
            reference,
            note: None,
        });
    }
    let local = |path: &str| -> Option<Source> {
        let p = Path::new(path);
        if !p.exists() {
            return None;
        }
        let abs = p.canonicalize().ok()?;
        Some(if abs.join(".git").exists() || looks_bare(&abs) {
            Source::Git(abs.display().to_string())
        } else {
            Source::Folder(abs)
        })
    };
    if let Some(source) = local(text) {
        return Ok(SourceRef {
            source,
            reference: None,
            note: None,
        });
    }
    let (path, reference) = split_ref(text, 0);
    if reference.is_some()
        && let Some(source) = local(path)
    {
        return Ok(SourceRef {
            source,
            reference,
            note: None,
        });
    }
    if crate::manifest::valid_name(path) {
        return Ok(SourceRef {
            source: Source::Builtin(path.to_owned()),
            reference,
            note: None,
        });
    }
    Err(Error::Source(format!(
        "`{text}` is not a built-in template, an existing folder or git repository, or a git URL"
    )))
}

fn split_ref(text: &str, from: usize) -> (&str, Option<String>) {
    match text[from..].rfind('@') {
        Some(i) if from + i + 1 < text.len() => {
            (&text[..from + i], Some(text[from + i + 1..].to_owned()))
        }
        _ => (text, None),
    }
}

/// Which version to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Want {
    /// The highest release (git without version tags: the default branch).
    Latest,
    Version(Version),
    /// A tag, branch or commit (a version for built-ins and folders).
    Ref(String),
}

/// A template loaded from a source, with what the answers file records.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub template: Template,
    pub source: Source,
    /// The commit rendered (git only).
    pub commit: Option<String>,
}

/// Loads templates, remembering git fetches and checkouts for the life of the value (one
/// fetch per repository per run, however many repos `pave drift`/`update` look at).
#[derive(Debug)]
pub struct Sources {
    cache_dir: PathBuf,
    repos: Mutex<HashMap<String, PathBuf>>,
    checkouts: Mutex<HashMap<(String, String), Template>>,
}

impl Sources {
    /// `cache_dir`: where git sources are cloned (e.g. `~/.cache/pave/templates`).
    pub fn new(cache_dir: impl Into<PathBuf>) -> Sources {
        Sources {
            cache_dir: cache_dir.into(),
            repos: Mutex::new(HashMap::new()),
            checkouts: Mutex::new(HashMap::new()),
        }
    }

    /// Released versions, ascending.
    pub fn versions(&self, source: &Source) -> Result<Vec<Version>> {
        match source {
            Source::Builtin(name) => Ok(crate::builtin::catalog().remove(name).unwrap_or_default()),
            Source::Folder(dir) => Ok(folder_versions(dir)?.into_iter().map(|(v, _)| v).collect()),
            Source::Git(url) => {
                let repo = self.repo(url)?;
                Ok(tags(&repo)?.into_iter().map(|(v, _)| v).collect())
            }
        }
    }

    /// The highest version (pre-releases only when there is nothing else); `None` for a git
    /// repository without version tags.
    pub fn latest(&self, source: &Source) -> Result<Option<Version>> {
        Ok(latest_of(&self.versions(source)?))
    }

    /// Loads `want` from `source`.
    pub fn load(&self, source: &Source, want: &Want) -> Result<Loaded> {
        match source {
            Source::Builtin(name) => {
                let version = match want {
                    Want::Latest => self
                        .latest(source)?
                        .ok_or_else(|| Error::Source(format!("no built-in template `{name}`")))?,
                    Want::Version(v) => v.clone(),
                    Want::Ref(r) => parse_version(r).ok_or_else(|| {
                        Error::Source(format!(
                            "built-in versions are semantic versions, not `{r}`"
                        ))
                    })?,
                };
                Ok(Loaded {
                    template: crate::builtin::load(name, &version)?,
                    source: source.clone(),
                    commit: None,
                })
            }
            Source::Folder(dir) => {
                let versions = folder_versions(dir)?;
                let wanted = match want {
                    Want::Latest => {
                        latest_of(&versions.iter().map(|(v, _)| v.clone()).collect::<Vec<_>>())
                    }
                    Want::Version(v) => Some(v.clone()),
                    Want::Ref(r) => Some(parse_version(r).ok_or_else(|| {
                        Error::Source(format!(
                            "folder template versions are semantic versions, not `{r}`"
                        ))
                    })?),
                };
                let found = versions.iter().find(|(v, _)| Some(v) == wanted.as_ref());
                let Some((_, path)) = found else {
                    let have: Vec<String> = versions.iter().map(|(v, _)| v.to_string()).collect();
                    return Err(Error::Source(format!(
                        "{}: no version {} (has {})",
                        dir.display(),
                        wanted.map_or_else(|| "at all".to_owned(), |v| v.to_string()),
                        have.join(", ")
                    )));
                };
                Ok(Loaded {
                    template: crate::load::load_dir(path)?,
                    source: source.clone(),
                    commit: None,
                })
            }
            Source::Git(url) => {
                let repo = self.repo(url)?;
                let rev = match want {
                    Want::Latest => {
                        let tags = tags(&repo)?;
                        let latest =
                            latest_of(&tags.iter().map(|(v, _)| v.clone()).collect::<Vec<_>>());
                        match latest.and_then(|l| tags.into_iter().find(|(v, _)| *v == l)) {
                            Some((_, tag)) => format!("refs/tags/{tag}"),
                            None => "HEAD".to_owned(),
                        }
                    }
                    Want::Version(v) => {
                        let tag = tags(&repo)?
                            .into_iter()
                            .find(|(t, _)| t == v)
                            .map(|(_, tag)| tag);
                        format!(
                            "refs/tags/{}",
                            tag.ok_or_else(|| Error::Source(format!("{url}: no tag v{v} or {v}")))?
                        )
                    }
                    Want::Ref(r) => {
                        // `1.2.3` finds tag `v1.2.3` too.
                        let tag = parse_version(r)
                            .and_then(|v| tags(&repo).ok()?.into_iter().find(|(t, _)| *t == v));
                        tag.map_or_else(|| r.clone(), |(_, t)| format!("refs/tags/{t}"))
                    }
                };
                let commit = git(
                    &repo,
                    &[
                        "rev-parse",
                        "--verify",
                        "--quiet",
                        &format!("{rev}^{{commit}}"),
                    ],
                )
                .map_err(|_| {
                    Error::Source(format!(
                        "{url}: no such version, tag, branch or commit `{rev}`"
                    ))
                })?
                .trim()
                .to_owned();
                let template = self.checkout(url, &repo, &commit)?;
                Ok(Loaded {
                    template,
                    source: source.clone(),
                    commit: Some(commit),
                })
            }
        }
    }

    /// Loads the exact commit recorded in an answers file (git), else the version.
    pub fn load_recorded(
        &self,
        source: &Source,
        version: &Version,
        commit: Option<&str>,
    ) -> Result<Loaded> {
        // The answers file is repository content: only a commit id may reach git.
        let commit = commit.filter(|c| is_commit_id(c));
        if let (Source::Git(url), Some(commit)) = (source, commit) {
            let repo = self.repo(url)?;
            if git(&repo, &["cat-file", "-e", &format!("{commit}^{{commit}}")]).is_ok() {
                let template = self.checkout(url, &repo, commit)?;
                return Ok(Loaded {
                    template,
                    source: source.clone(),
                    commit: Some(commit.to_owned()),
                });
            }
        }
        self.load(source, &Want::Version(version.clone()))
    }

    fn checkout(&self, url: &str, repo: &Path, commit: &str) -> Result<Template> {
        let key = (url.to_owned(), commit.to_owned());
        if let Some(t) = self
            .checkouts
            .lock()
            .ok()
            .and_then(|m| m.get(&key).cloned())
        {
            return Ok(t);
        }
        let tmp = tempfile::Builder::new()
            .prefix("pave-template-")
            .tempdir()
            .map_err(|e| Error::io(std::env::temp_dir(), e))?;
        let tree = tmp.path().join("tree");
        std::fs::create_dir(&tree).map_err(|e| Error::io(&tree, e))?;
        let mut cmd = Command::new("git");
        cmd.arg("--git-dir")
            .arg(repo)
            .arg("--work-tree")
            .arg(&tree)
            .args([
                "-c",
                "core.symlinks=true",
                "checkout",
                "--quiet",
                "-f",
                commit,
                "--",
                ".",
            ])
            .env("GIT_INDEX_FILE", tmp.path().join("index"));
        run(cmd, &format!("checkout {commit}"))?;
        let template = crate::load::load_dir(&tree)?;
        if let Ok(mut m) = self.checkouts.lock() {
            m.insert(key, template.clone());
        }
        Ok(template)
    }

    /// The cached bare clone of `url`, cloned or fetched once per run.
    fn repo(&self, url: &str) -> Result<PathBuf> {
        if let Some(p) = self.repos.lock().ok().and_then(|m| m.get(url).cloned()) {
            return Ok(p);
        }
        if url.starts_with('-') {
            return Err(Error::Source(format!("`{url}` is not a git URL")));
        }
        let dir = self.cache_dir.join(cache_name(url));
        if looks_bare(&dir) {
            git(
                &dir,
                &[
                    "fetch",
                    "--quiet",
                    "--prune",
                    "--force",
                    "origin",
                    "+refs/heads/*:refs/heads/*",
                    "+refs/tags/*:refs/tags/*",
                ],
            )?;
        } else {
            std::fs::create_dir_all(&self.cache_dir).map_err(|e| Error::io(&self.cache_dir, e))?;
            let tmp = tempfile::Builder::new()
                .prefix(".clone-")
                .tempdir_in(&self.cache_dir)
                .map_err(|e| Error::io(&self.cache_dir, e))?;
            let mut cmd = Command::new("git");
            cmd.args(["clone", "--quiet", "--bare", "--", url])
                .arg(tmp.path().join("repo"));
            run(cmd, &format!("clone {url}"))?;
            // Another run may have won the race; either copy will do.
            if std::fs::rename(tmp.path().join("repo"), &dir).is_err() && !looks_bare(&dir) {
                return Err(Error::Source(format!(
                    "cannot move the clone of {url} to {}",
                    dir.display()
                )));
            }
        }
        if let Ok(mut m) = self.repos.lock() {
            m.insert(url.to_owned(), dir.clone());
        }
        Ok(dir)
    }
}

/// An abbreviated or full SHA-1/SHA-256 commit id, and nothing git could read as an option.
fn is_commit_id(text: &str) -> bool {
    (7..=64).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn latest_of(versions: &[Version]) -> Option<Version> {
    versions
        .iter()
        .filter(|v| v.pre.is_empty())
        .max()
        .or_else(|| versions.iter().max())
        .cloned()
}

/// A folder template's versions: itself, or its subfolders holding `template.yaml`.
fn folder_versions(dir: &Path) -> Result<Vec<(Version, PathBuf)>> {
    let manifest = |d: &Path| -> Result<Version> {
        let path = d.join(crate::MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        Ok(crate::Manifest::parse(&text)
            .map_err(|e| Error::Source(format!("{}: {e}", d.display())))?
            .version)
    };
    if dir.join(crate::MANIFEST_FILE).is_file() {
        return Ok(vec![(manifest(dir)?, dir.to_path_buf())]);
    }
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.join(crate::MANIFEST_FILE).is_file() {
            out.push((manifest(&path)?, path));
        }
    }
    if out.is_empty() {
        let builtin = dir
            .file_name()
            .and_then(|n| n.to_str())
            .filter(|n| crate::builtin::catalog().contains_key(*n))
            .map(|n| format!(" (for the built-in template, write `builtin:{n}`)"))
            .unwrap_or_default();
        return Err(Error::Source(format!(
            "{}: no {} here or in its subfolders{builtin}",
            dir.display(),
            crate::MANIFEST_FILE
        )));
    }
    out.sort();
    Ok(out)
}

/// Version tags, ascending by version.
fn tags(repo: &Path) -> Result<Vec<(Version, String)>> {
    let list = git(repo, &["tag", "--list"])?;
    let mut out: Vec<(Version, String)> = list
        .lines()
        .filter_map(|t| parse_version(t.trim()).map(|v| (v, t.trim().to_owned())))
        .collect();
    out.sort();
    out.dedup_by(|a, b| a.0 == b.0);
    Ok(out)
}

fn git(repo: &Path, args: &[&str]) -> Result<String> {
    let mut cmd = Command::new("git");
    cmd.arg("--git-dir").arg(repo).args(args);
    run(cmd, args.first().copied().unwrap_or_default())
}

/// Runs a git command (never prompting for credentials); its stdout, or its stderr as the error.
fn run(mut cmd: Command, label: &str) -> Result<String> {
    let out = cmd
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .map_err(|e| git_missing(&e))?;
    if !out.status.success() {
        return Err(Error::Git {
            command: label.to_owned(),
            message: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn git_missing(e: &std::io::Error) -> Error {
    Error::Git {
        command: "(start)".into(),
        message: format!("cannot run git (is it installed?): {e}"),
    }
}

/// `host_org_repo-<hash>`: readable, and distinct for distinct URLs.
fn cache_name(url: &str) -> String {
    let readable: String = url
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let tail: String = readable
        .chars()
        .rev()
        .take(48)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    // FNV-1a: stable across Rust versions, unlike `DefaultHasher`.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in url.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{tail}-{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(s: &str) -> (Source, Option<String>) {
        let r = parse_source(s).unwrap_or_else(|e| panic!("{e}"));
        (r.source, r.reference)
    }

    #[test]
    fn parses_sources() {
        assert_eq!(
            parsed("api-service"),
            (Source::Builtin("api-service".into()), None)
        );
        assert_eq!(
            parsed("builtin:api-service@1.0.0"),
            (Source::Builtin("api-service".into()), Some("1.0.0".into()))
        );
        assert_eq!(
            parsed("https://git.example.com/org/t.git"),
            (
                Source::Git("https://git.example.com/org/t.git".into()),
                None
            )
        );
        assert_eq!(
            parsed("https://git.example.com/org/t.git@v2.0.0"),
            (
                Source::Git("https://git.example.com/org/t.git".into()),
                Some("v2.0.0".into())
            )
        );
        assert_eq!(
            parsed("https://me@git.example.com/org/t.git"),
            (
                Source::Git("https://me@git.example.com/org/t.git".into()),
                None
            )
        );
        assert_eq!(
            parsed("git@github.com:org/t.git"),
            (Source::Git("git@github.com:org/t.git".into()), None)
        );
        assert_eq!(
            parsed("git@github.com:org/t.git@feature/x"),
            (
                Source::Git("git@github.com:org/t.git".into()),
                Some("feature/x".into())
            )
        );
        assert!(parse_source("./no/such/Folder").is_err());
    }

    #[test]
    fn cache_names_are_safe_and_distinct() {
        let a = cache_name("https://x.example/org/a.git");
        let b = cache_name("https://x.example/org/b.git");
        assert_ne!(a, b);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "{a}"
        );
        assert_eq!(
            latest_of(&[
                Version::new(1, 0, 0),
                Version::parse("2.0.0-rc.1").unwrap_or_else(|e| panic!("{e}"))
            ]),
            Some(Version::new(1, 0, 0))
        );
    }

    #[test]
    fn only_commit_ids_from_answers_files_reach_git() {
        assert!(is_commit_id("0123abc"));
        assert!(is_commit_id(&"f".repeat(40)));
        for bad in [
            "--output=/tmp/x",
            "HEAD",
            "abc",
            "main^{commit}",
            "0123abc --all",
        ] {
            assert!(!is_commit_id(bad), "{bad}");
        }
    }
}
