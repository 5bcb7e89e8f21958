//! Sources: what a user points pave at (a file, a folder, a git repository), and fetching git
//! repositories with the git CLI.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use sha1::{Digest, Sha1};

use crate::reach::Remote;
use crate::{IngestConfig, IngestError};

/// A catalog source as given on the command line or in the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A file or a folder on this machine.
    Path(PathBuf),
    /// A git repository URL and an optional branch, tag or commit.
    Git {
        url: String,
        reference: Option<String>,
    },
    /// A file or folder inside a repository, named by its web URL as Backstage `url` locations
    /// are (`https://github.com/org/repo/blob/main/catalog-info.yaml`, GitLab's `/-/blob/`):
    /// read from a git checkout of `repository` at `reference`.
    Url {
        web_url: String,
        repository: String,
        reference: String,
        path: String,
    },
    /// Any other `http(s)://` URL of a catalog file, fetched over HTTP (Backstage's
    /// `FetchUrlReader`): only from hosts `catalog.reading.allow` names.
    Http { url: String },
}

use pave_store::LocationKind;

impl Source {
    /// Parses a command-line source: a forge's web URL of a file or folder is a file in a
    /// repository; an `http(s)://` URL of a `.yaml`, `.yml` or `.json` file is fetched over
    /// HTTP; other URLs (`https://…`, `ssh://…`, `git@host:…`, `file://…`) are git repositories,
    /// optionally followed by `#<ref>`; anything else is a path.
    pub fn parse(text: &str) -> Source {
        let is_url = text.contains("://") || (text.starts_with("git@") && text.contains(':'));
        if !is_url {
            return Source::Path(PathBuf::from(text));
        }
        if let Some(source) = Self::parse_web_url(text) {
            return source;
        }
        if is_http(text) && !text.contains('#') && names_a_catalog_file(text) {
            return Source::Http {
                url: text.to_owned(),
            };
        }
        Self::parse_git(text)
    }

    fn parse_git(text: &str) -> Source {
        match text.rsplit_once('#') {
            Some((url, reference)) if !reference.is_empty() => Source::Git {
                url: url.to_owned(),
                reference: Some(reference.to_owned()),
            },
            Some((url, _)) => Source::Git {
                url: url.to_owned(),
                reference: None,
            },
            None => Source::Git {
                url: text.to_owned(),
                reference: None,
            },
        }
    }

    /// A forge's web URL of a file or folder: `https://host/<owner>/<repo>/blob|tree/<ref>/<path>`
    /// (GitHub) or `https://host/<group>/<repo>/-/blob|tree/<ref>/<path>` (GitLab). The ref is
    /// one path segment, as Backstage's URL readers take it.
    fn parse_web_url(text: &str) -> Option<Source> {
        let rest = text.strip_prefix("https://")?;
        let (host, path) = rest.split_once('/')?;
        let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        let marker = segments.iter().position(|s| *s == "blob" || *s == "tree")?;
        let repo_segments = match segments.get(..marker)? {
            [prefix @ .., "-"] => prefix,
            all => all,
        };
        let reference = segments.get(marker + 1)?;
        let file_path = segments.get(marker + 2..).unwrap_or_default().join("/");
        if repo_segments.len() < 2 || reference.is_empty() {
            return None;
        }
        Some(Source::Url {
            web_url: text.to_owned(),
            repository: format!("https://{host}/{}.git", repo_segments.join("/")),
            reference: (*reference).to_owned(),
            path: file_path,
        })
    }

    /// The `(type, target)` this source is registered under. Paths are made absolute (and
    /// must exist, so that a typo is an error now rather than an empty catalog later).
    pub fn location(&self) -> Result<(LocationKind, String), IngestError> {
        match self {
            Source::Path(path) => {
                let absolute =
                    std::fs::canonicalize(path).map_err(|e| IngestError::Unreadable {
                        source_text: path.display().to_string(),
                        message: format!("cannot read it: {e}"),
                    })?;
                Ok((LocationKind::File, absolute.display().to_string()))
            }
            Source::Git { url, reference } => {
                check_git_source(url, reference.as_deref()).map_err(|message| {
                    IngestError::Invalid {
                        source_text: url.clone(),
                        message,
                    }
                })?;
                Ok((
                    LocationKind::Git,
                    match reference {
                        Some(r) => format!("{url}#{r}"),
                        None => url.clone(),
                    },
                ))
            }
            Source::Url {
                web_url,
                repository,
                reference,
                path,
            } => {
                check_git_source(repository, Some(reference))
                    .and_then(|()| check_repository_path(path))
                    .map_err(|message| IngestError::Invalid {
                        source_text: web_url.clone(),
                        message,
                    })?;
                Ok((LocationKind::Url, web_url.clone()))
            }
            Source::Http { url } => {
                crate::http::check_url(url).map_err(|message| IngestError::Invalid {
                    source_text: url.clone(),
                    message,
                })?;
                Ok((LocationKind::Url, url.clone()))
            }
        }
    }

    /// The `(type, target)` a location registered as `kind` is stored under: the source's own
    /// (a path made absolute), except that a `url` location keeps type `url` whatever reads it
    /// (`getLocationByRef('url:…')` must find it).
    ///
    /// # Errors
    /// As [`Source::from_location`] and [`Source::location`].
    pub fn resolve(
        kind: LocationKind,
        target: &str,
    ) -> Result<(Source, LocationKind, String), IngestError> {
        let source = Self::from_location(kind, target)?;
        let (own_kind, own_target) = source.location()?;
        Ok(if kind == LocationKind::Url {
            (source, kind, target.to_owned())
        } else {
            (source, own_kind, own_target)
        })
    }

    /// The source a registered location stands for.
    pub fn from_location(kind: LocationKind, target: &str) -> Result<Source, IngestError> {
        match kind {
            LocationKind::File => Ok(Source::Path(PathBuf::from(target))),
            LocationKind::Git => match Source::parse(target) {
                Source::Path(_) => Err(IngestError::Invalid {
                    source_text: target.to_owned(),
                    message: "a `git` location needs a repository URL (https://, ssh://, git@host:, file://)".to_owned(),
                }),
                // A `git` location is a repository, whatever its URL looks like.
                Source::Http { url } => Ok(Self::parse_git(&url)),
                source => Ok(source),
            },
            // As Backstage reads `url` locations: a forge's web URL from a checkout of its
            // repository, other http(s) URLs over HTTP; pave also takes a `file://` or ssh
            // repository URL (read with git) so that local repositories can stand in.
            LocationKind::Url => match Source::parse(target) {
                Source::Path(_) => Err(IngestError::Invalid {
                    source_text: target.to_owned(),
                    message: "a `url` location needs an http(s):// URL".to_owned(),
                }),
                Source::Git { .. } if is_http(target) => Ok(Source::Http {
                    url: target.to_owned(),
                }),
                source => Ok(source),
            },
        }
    }

    /// [`Source::resolve`] for a type given as text (the API, a stored row), refusing types
    /// pave does not read.
    ///
    /// # Errors
    /// An unknown type, and as [`Source::resolve`].
    pub fn resolve_named(
        kind: &str,
        target: &str,
    ) -> Result<(Source, LocationKind, String), IngestError> {
        let known = LocationKind::parse(kind).ok_or_else(|| IngestError::Invalid {
            source_text: format!("{kind}:{target}"),
            message: format!(
                "unsupported location type `{kind}` (pave reads `url`, `file` and `git` locations)"
            ),
        })?;
        Self::resolve(known, target)
    }
}

fn is_http(text: &str) -> bool {
    let lower = text.get(..8).unwrap_or(text).to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// Whether a URL's path ends in a catalog file's extension.
fn names_a_catalog_file(text: &str) -> bool {
    let path = text
        .split(['?', '#'])
        .next()
        .unwrap_or(text)
        .to_ascii_lowercase();
    [".yaml", ".yml", ".json"]
        .iter()
        .any(|ext| path.ends_with(ext))
}

/// Refuses URLs and refs that git would read as options (`--upload-pack=…` runs a command)
/// or that no branch, tag or commit can be named like. Sources come from the API too, so
/// this is a security boundary, not a convenience.
fn check_git_source(url: &str, reference: Option<&str>) -> Result<(), String> {
    if url.starts_with('-') || url.chars().any(char::is_control) {
        return Err(format!("`{url}` is not a git repository URL"));
    }
    let transport = url.split("://").next().unwrap_or(url);
    if transport.contains("::") {
        return Err(format!(
            "`{url}`: git remote helpers (`<transport>::<address>`) are not allowed"
        ));
    }
    if let Some(reference) = reference {
        let allowed = |c: char| c.is_ascii_alphanumeric() || "._/+@-".contains(c);
        if reference.starts_with('-')
            || reference.contains("..")
            || reference.contains("@{")
            || !reference.chars().all(allowed)
        {
            return Err(format!(
                "`{reference}` is not a branch, tag or commit name (letters, digits and `._/+@-`, \
                 not starting with `-`)"
            ));
        }
    }
    Ok(())
}

/// Checks out `repository` at `reference` and finds `path` in it: the checkout folder, the
/// path's folder or file there, the commit, and the checkout's lock (hold it while reading).
pub(crate) fn checkout_path(
    repository: &str,
    reference: &str,
    path: &str,
    config: &IngestConfig,
) -> Result<(PathBuf, PathBuf, String, CheckoutLock), IngestError> {
    let fail = |message: String| IngestError::Unreadable {
        source_text: format!("{repository}#{reference}:{path}"),
        message,
    };
    check_repository_path(path).map_err(fail)?;
    let checkout = sync_git(repository, Some(reference), config)?;
    let dir = std::fs::canonicalize(&checkout.dir).unwrap_or(checkout.dir);
    let root = dir.join(path);
    match std::fs::symlink_metadata(&root) {
        Ok(meta) if !meta.file_type().is_symlink() => {
            Ok((dir, root, checkout.commit, checkout.lock))
        }
        Ok(_) => Err(fail(format!("`{path}` is a symbolic link"))),
        Err(_) => Err(fail(format!(
            "`{path}` does not exist in {repository} at {reference}"
        ))),
    }
}

/// A path inside a repository must stay inside it.
pub(crate) fn check_repository_path(path: &str) -> Result<(), String> {
    if path.starts_with('/') || path.split('/').any(|s| s == "..") {
        return Err(format!("`{path}` leaves the repository"));
    }
    Ok(())
}

/// A checked-out repository, locked for as long as this lives: another process (a replica
/// sharing the cache) or task reading the same repository and ref waits, so a fetch never
/// changes files under a reader.
#[derive(Debug)]
pub(crate) struct Checkout {
    pub(crate) dir: PathBuf,
    pub(crate) commit: String,
    pub(crate) lock: CheckoutLock,
}

/// An exclusive lock on one checkout (`<checkout>.lock`, released when dropped).
#[derive(Debug)]
pub(crate) struct CheckoutLock {
    _file: std::fs::File,
}

fn lock_checkout(dir: &Path) -> Result<CheckoutLock, String> {
    let path = dir.with_extension("lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("cannot open the lock {}: {e}", path.display()))?;
    file.lock()
        .map_err(|e| format!("cannot lock {}: {e}", path.display()))?;
    Ok(CheckoutLock { _file: file })
}

/// Where the checkout of `url` at `reference` (`HEAD` for the default branch) lives in the git
/// cache `cache_dir` (whether or not it exists yet): what `managed-by-location` paths of a git
/// source are relative to. One checkout per ref, so that two locations on different refs of
/// one repository never see each other's files.
pub fn git_checkout_dir(url: &str, reference: &str, cache_dir: &Path) -> PathBuf {
    let key = format!("{url}#{reference}");
    cache_dir.join(&crate::files::hex(&Sha1::digest(key.as_bytes()))[..16])
}

/// The git cache folder of one store, `identity` naming its database: each store has its
/// own checkouts, so that removing one store's never takes another's.
pub fn store_cache_dir(git_cache: &Path, identity: &str) -> PathBuf {
    let key = crate::files::hex(&Sha1::digest(identity.as_bytes()));
    git_cache.join(format!("store-{}", &key[..16]))
}

/// The cache folders reading `source` fills: its checkout, or its HTTP mirror.
pub(crate) fn cache_dirs(source: &Source, cache_dir: &Path) -> Vec<PathBuf> {
    match source {
        Source::Path(_) => Vec::new(),
        Source::Git { url, reference } => vec![git_checkout_dir(
            url,
            reference.as_deref().unwrap_or("HEAD"),
            cache_dir,
        )],
        Source::Url {
            repository,
            reference,
            ..
        } => vec![git_checkout_dir(repository, reference, cache_dir)],
        Source::Http { url } => vec![crate::http::mirror_dir(url, cache_dir)],
    }
}

/// Removes the cache folders of an unregistered location that no location in `remaining`
/// reads, each under its checkout lock (a reader still using it finishes first). Returns the
/// folders removed.
///
/// # Errors
/// When a folder cannot be locked or removed, as a sentence.
pub fn remove_checkout(
    removed: &pave_store::LocationRow,
    remaining: &[pave_store::LocationRow],
    cache_dir: &Path,
) -> Result<Vec<PathBuf>, String> {
    let Ok(source) = Source::from_location(removed.kind, &removed.target) else {
        return Ok(Vec::new());
    };
    let in_use: Vec<PathBuf> = remaining
        .iter()
        .filter_map(|l| Source::from_location(l.kind, &l.target).ok())
        .flat_map(|s| cache_dirs(&s, cache_dir))
        .collect();
    let mut gone = Vec::new();
    for dir in cache_dirs(&source, cache_dir) {
        if in_use.contains(&dir) || !dir.exists() {
            continue;
        }
        let _lock = lock_checkout(&dir)?;
        std::fs::remove_dir_all(&dir)
            .map_err(|e| format!("cannot remove {}: {e}", dir.display()))?;
        gone.push(dir);
    }
    Ok(gone)
}

/// Clones or updates `url` at `reference` (default: the remote's HEAD) into the cache, with a
/// shallow fetch, and checks it out. A remote's host is resolved and every address checked
/// (`IngestConfig::resolve_checked`) right before git runs, and git is held to those
/// addresses.
pub(crate) fn sync_git(
    url: &str,
    reference: Option<&str>,
    config: &IngestConfig,
) -> Result<Checkout, IngestError> {
    let fail = |message: String| IngestError::Unreadable {
        source_text: match reference {
            Some(r) => format!("{url}#{r}"),
            None => url.to_owned(),
        },
        message,
    };
    check_git_source(url, reference).map_err(&fail)?;
    let (run, fetch_url) = GitRun::plan(url, config)?;
    let dir = git_checkout_dir(url, reference.unwrap_or("HEAD"), &config.git_cache);
    std::fs::create_dir_all(&dir).map_err(|e| {
        fail(format!(
            "cannot create the git cache {}: {e}",
            dir.display()
        ))
    })?;
    let lock = lock_checkout(&dir).map_err(&fail)?;
    if !dir.join(".git").exists() {
        run.git(&dir, &["init", "--quiet"]).map_err(&fail)?;
        run.git(&dir, &["remote", "add", "--", "origin", url])
            .map_err(&fail)?;
    } else {
        run.git(&dir, &["remote", "set-url", "--", "origin", url])
            .map_err(&fail)?;
    }
    let wanted = reference.unwrap_or("HEAD");
    run.git(
        &dir,
        &[
            "fetch",
            "--quiet",
            "--depth",
            "1",
            "--no-tags",
            "--end-of-options",
            &fetch_url,
            wanted,
        ],
    )
    .map_err(|e| fail(format!("git fetch failed: {e}")))?;
    run.git(
        &dir,
        &["checkout", "--quiet", "--force", "--detach", "FETCH_HEAD"],
    )
    .map_err(&fail)?;
    run.git(&dir, &["clean", "--quiet", "-fdx"])
        .map_err(&fail)?;
    let commit = run.git(&dir, &["rev-parse", "HEAD"]).map_err(&fail)?;
    Ok(Checkout {
        dir,
        commit: commit.trim().to_owned(),
        lock,
    })
}

/// Below this many bytes a second for [`low_speed_time`], a git HTTP transfer is stopped.
const LOW_SPEED_BYTES: u32 = 1000;

/// How long a git HTTP transfer may stay under [`LOW_SPEED_BYTES`] a second: a stalled
/// server is dropped well before the whole timeout.
fn low_speed_time(timeout: Duration) -> u64 {
    (timeout.as_secs() / 2).clamp(1, 30)
}

/// How git runs for one source: the time limit, the transports allowed, and for a remote
/// on a host name, the connection held to the addresses that were checked.
struct GitRun {
    timeout: Duration,
    /// `-c name=value` settings.
    settings: Vec<String>,
    env: Vec<(&'static str, String)>,
}

impl GitRun {
    /// Checks the remote's addresses and returns how to run git against it, with the URL to
    /// fetch from (the URL itself, or for `git://` the checked address in place of the name).
    fn plan(url: &str, config: &IngestConfig) -> Result<(GitRun, String), IngestError> {
        let mut run = GitRun {
            timeout: config.git_timeout,
            settings: vec![
                // A redirect could lead anywhere; the checked host is the only one read.
                "http.followRedirects=false".to_owned(),
                format!("http.lowSpeedLimit={LOW_SPEED_BYTES}"),
                format!("http.lowSpeedTime={}", low_speed_time(config.git_timeout)),
            ],
            env: Vec::new(),
        };
        let invalid = |message: String| IngestError::Invalid {
            source_text: url.to_owned(),
            message,
        };
        let Some(remote) = Remote::of_git(url).map_err(invalid)? else {
            return Ok((run, url.to_owned()));
        };
        let addresses = config.resolve_checked(&remote, url)?;
        let pinned = remote.host.parse::<std::net::IpAddr>().is_err();
        let mut fetch_url = url.to_owned();
        match remote.url.scheme() {
            "http" | "https" if pinned => {
                let list: Vec<String> = addresses
                    .iter()
                    .map(|a| match a.ip() {
                        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
                        ip @ std::net::IpAddr::V4(_) => ip.to_string(),
                    })
                    .collect();
                run.settings.push(format!(
                    "http.curloptResolve={}:{}:{}",
                    remote.host,
                    remote.port,
                    list.join(",")
                ));
            }
            "git" if pinned => {
                let mut pinned_url = remote.url.clone();
                if let Some(address) = addresses.first() {
                    pinned_url
                        .set_ip_host(address.ip())
                        .map_err(|()| invalid(format!("`{url}` cannot be read over git://")))?;
                }
                fetch_url = pinned_url.to_string();
            }
            "http" | "https" | "git" => {}
            _ => {
                // ssh: hold it to the checked address, keeping known_hosts keyed by the name.
                let base = std::env::var("GIT_SSH_COMMAND").unwrap_or_else(|_| "ssh".to_owned());
                let mut command = format!(
                    "{base} -o BatchMode=yes -o ConnectTimeout={} -o ServerAliveInterval=15 -o ServerAliveCountMax=2",
                    low_speed_time(config.git_timeout)
                );
                if pinned && let Some(address) = addresses.first() {
                    let alias = if remote.port == 22 {
                        remote.host.clone()
                    } else {
                        format!("[{}]:{}", remote.host, remote.port)
                    };
                    command.push_str(&format!(
                        " -o HostName={} -o HostKeyAlias={alias}",
                        address.ip()
                    ));
                }
                run.env.push(("GIT_SSH_COMMAND", command));
            }
        }
        Ok((run, fetch_url))
    }

    fn git(&self, dir: &Path, args: &[&str]) -> Result<String, String> {
        let mut command = Command::new("git");
        // Remote helpers such as `ext::` run commands; they are never wanted here.
        command.args(["-c", "protocol.ext.allow=never"]);
        for setting in &self.settings {
            command.args(["-c", setting]);
        }
        let child = command
            .arg("-C")
            .arg(dir)
            .args(args)
            // Only these transports, whatever a URL or a redirect asks for.
            .env("GIT_ALLOW_PROTOCOL", "https:http:ssh:git:file")
            // Never wait for a password prompt: a server run has nobody to answer it.
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_ASKPASS", "")
            .envs(self.env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => {
                    "the git executable was not found; install git to ingest git sources".to_owned()
                }
                _ => format!("cannot run git: {e}"),
            })?;
        let output = wait_with_timeout(child, self.timeout)
            .map_err(|e| format!("git {}: {e}", args.first().copied().unwrap_or_default()))?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            // git's first `fatal:` or `error:` line says what went wrong; the last is often
            // advice ("…and the repository exists.").
            let stderr = String::from_utf8_lossy(&output.stderr);
            let lines = || stderr.lines().map(str::trim).filter(|l| !l.is_empty());
            Err(lines()
                .find(|l| l.starts_with("fatal:") || l.starts_with("error:"))
                .or_else(|| lines().next_back())
                .unwrap_or("git failed")
                .to_owned())
        }
    }
}

/// Waits for `child`, reading its output, and kills it after `timeout`.
fn wait_with_timeout(
    mut child: std::process::Child,
    timeout: Duration,
) -> Result<std::process::Output, String> {
    use std::io::Read;
    fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut buffer = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut buffer);
            }
            buffer
        })
    }
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let deadline = std::time::Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if std::time::Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "timed out after {} s (catalog.reading.gitTimeout)",
                    timeout.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("cannot wait for git: {e}")),
        }
    };
    Ok(std::process::Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_paths_urls_and_refs() {
        assert_eq!(Source::parse("./catalog"), Source::Path("./catalog".into()));
        assert_eq!(
            Source::parse("https://example.com/org/repo.git#v1.2"),
            Source::Git {
                url: "https://example.com/org/repo.git".into(),
                reference: Some("v1.2".into())
            }
        );
        assert_eq!(
            Source::parse("git@github.com:org/repo.git"),
            Source::Git {
                url: "git@github.com:org/repo.git".into(),
                reference: None
            }
        );
        assert_eq!(
            Source::parse("file:///tmp/repo#"),
            Source::Git {
                url: "file:///tmp/repo".into(),
                reference: None
            }
        );
    }

    #[test]
    fn option_like_refs_and_urls_are_refused_before_git_runs() {
        let temp = tempfile::tempdir().unwrap();
        let marker = temp.path().join("ran");
        let evil = format!("--upload-pack=touch {}", marker.display());
        let source = Source::parse(&format!("file:///nonexistent/repo#{evil}"));
        let err = source.location().unwrap_err().to_string();
        assert!(err.contains("is not a branch, tag or commit name"), "{err}");
        let config = IngestConfig {
            git_cache: temp.path().to_path_buf(),
            ..IngestConfig::default()
        };
        let err = sync_git("file:///nonexistent/repo", Some(&evil), &config)
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a branch, tag or commit name"), "{err}");
        for url in ["-oProxyCommand=x://y", "ext::sh -c touch% /tmp/x"] {
            let err = sync_git(url, None, &config).unwrap_err().to_string();
            assert!(err.contains("not"), "{url}: {err}");
        }
        assert!(!marker.exists(), "git ran the injected command");
        // Ordinary refs and IPv6 hosts still pass.
        for reference in ["main", "v1.2.3", "release/2026-11", "a1b2c3d4"] {
            assert!(check_git_source("https://[::1]/org/repo.git", Some(reference)).is_ok());
        }
    }

    #[test]
    fn forge_web_urls_are_files_in_repositories() {
        let cases = [
            (
                "https://github.com/backstage/backstage/blob/master/packages/catalog-model/examples/all.yaml",
                "https://github.com/backstage/backstage.git",
                "master",
                "packages/catalog-model/examples/all.yaml",
            ),
            (
                "https://gitlab.example.com/platform/team/svc/-/tree/v1.2/catalog",
                "https://gitlab.example.com/platform/team/svc.git",
                "v1.2",
                "catalog",
            ),
            (
                "https://ghe.example.com/org/repo/tree/main",
                "https://ghe.example.com/org/repo.git",
                "main",
                "",
            ),
        ];
        for (web_url, repo, reference, file) in cases {
            let source = Source::parse(web_url);
            assert_eq!(
                source,
                Source::Url {
                    web_url: web_url.into(),
                    repository: repo.into(),
                    reference: reference.into(),
                    path: file.into()
                }
            );
            let (kind, target) = source.location().unwrap();
            assert_eq!((kind, target.as_str()), (LocationKind::Url, web_url));
            assert_eq!(Source::from_location(kind, &target).unwrap(), source);
        }
        // Plain repository URLs stay git sources.
        assert!(matches!(
            Source::parse("https://github.com/org/repo.git#main"),
            Source::Git { .. }
        ));
        let escape = Source::parse("https://github.com/o/r/blob/main/../../etc/passwd");
        assert!(
            escape
                .location()
                .unwrap_err()
                .to_string()
                .contains("leaves the repository")
        );
        assert!(Source::from_location(LocationKind::Url, "./local").is_err());
        let err = Source::resolve_named("bitbucket", "x")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("unsupported location type `bitbucket`"),
            "{err}"
        );
    }

    #[test]
    fn a_checkout_has_one_reader_at_a_time() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("checkout");
        let held = lock_checkout(&dir).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = {
            let dir = dir.clone();
            std::thread::spawn(move || {
                let lock = lock_checkout(&dir).unwrap();
                tx.send(()).unwrap();
                drop(lock);
            })
        };
        let wait = std::time::Duration::from_millis(200);
        assert!(rx.recv_timeout(wait).is_err(), "the second reader waits");
        drop(held);
        rx.recv_timeout(std::time::Duration::from_secs(5))
            .expect("the second reader goes on once the first is done");
        waiter.join().unwrap();
    }

    #[test]
    fn a_checkout_is_removed_when_no_location_reads_it() {
        let temp = tempfile::tempdir().unwrap();
        let cache = temp.path();
        let row = |id: &str, kind, target: &str| pave_store::LocationRow {
            id: id.into(),
            kind,
            target: target.into(),
            created_at: 0,
            refreshed_at: None,
            status: None,
        };
        let git = row("a", LocationKind::Git, "https://example.com/org/r.git#main");
        // A `url` location of the same repository and ref reads the same checkout.
        let web = row(
            "b",
            LocationKind::Url,
            "https://example.com/org/r/blob/main/catalog-info.yaml",
        );
        let other_ref = row("c", LocationKind::Git, "https://example.com/org/r.git#dev");
        let dir = git_checkout_dir("https://example.com/org/r.git", "main", cache);
        std::fs::create_dir_all(dir.join(".git")).unwrap();
        let gone = remove_checkout(&git, &[web.clone(), other_ref.clone()], cache).unwrap();
        assert!(
            gone.is_empty() && dir.exists(),
            "still read by the url location"
        );
        let gone = remove_checkout(&web, &[other_ref], cache).unwrap();
        assert_eq!(gone, vec![dir.clone()]);
        assert!(!dir.exists());
        // Another store's cache is another folder.
        assert_ne!(
            store_cache_dir(cache, "sqlite:/a.db"),
            store_cache_dir(cache, "sqlite:/b.db")
        );
    }

    #[test]
    fn a_path_in_a_repository_is_checked_out() {
        if !pave_testkit::have("git") {
            return;
        }
        let temp = tempfile::tempdir().unwrap();
        let url = pave_testkit::git_repo(
            &temp.path().join("repo"),
            &[("catalog/all.yaml", "kind: Location\n")],
        );
        let config = IngestConfig {
            git_cache: temp.path().join("cache"),
            ..IngestConfig::default()
        };
        let (dir, root, commit, lock) =
            checkout_path(&url, "main", "catalog/all.yaml", &config).unwrap();
        // The checkout is locked until the lock is dropped: a second reader waits.
        drop(lock);
        assert_eq!(root, dir.join("catalog/all.yaml"));
        assert_eq!(std::fs::read_to_string(&root).unwrap(), "kind: Location\n");
        assert_eq!(commit.len(), 40);
        let err = checkout_path(&url, "main", "catalog/none.yaml", &config).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
    }
}
