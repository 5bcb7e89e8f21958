//! Sources: what a user points pave at (a file, a folder, a git repository), and fetching git
//! repositories with the git CLI.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha1::{Digest, Sha1};

use crate::IngestError;

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
}

/// Location type for files and folders.
pub const FILE: &str = "file";
/// Location type for git repositories.
pub const GIT: &str = "git";

impl Source {
    /// Parses a command-line source: URLs (`https://…`, `ssh://…`, `git@host:…`, `file://…`)
    /// are git repositories, optionally followed by `#<ref>`; anything else is a path.
    pub fn parse(text: &str) -> Source {
        let is_url = text.contains("://") || (text.starts_with("git@") && text.contains(':'));
        if !is_url {
            return Source::Path(PathBuf::from(text));
        }
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

    /// The `(type, target)` this source is registered under. Paths are made absolute (and
    /// must exist, so that a typo is an error now rather than an empty catalog later).
    pub fn location(&self) -> Result<(String, String), IngestError> {
        match self {
            Source::Path(path) => {
                let absolute = std::fs::canonicalize(path).map_err(|e| IngestError::Source {
                    source_text: path.display().to_string(),
                    message: format!("cannot read it: {e}"),
                })?;
                Ok((FILE.into(), absolute.display().to_string()))
            }
            Source::Git { url, reference } => {
                check_git_source(url, reference.as_deref()).map_err(|message| {
                    IngestError::Source {
                        source_text: url.clone(),
                        message,
                    }
                })?;
                Ok((
                    GIT.into(),
                    match reference {
                        Some(r) => format!("{url}#{r}"),
                        None => url.clone(),
                    },
                ))
            }
        }
    }

    /// The source a registered location stands for.
    pub fn from_location(kind: &str, target: &str) -> Result<Source, IngestError> {
        match kind {
            FILE => Ok(Source::Path(PathBuf::from(target))),
            GIT => Ok(Source::parse(target)),
            other => Err(IngestError::Source {
                source_text: format!("{other}:{target}"),
                message: format!(
                    "unsupported location type `{other}` (pave reads `file` and `git` locations)"
                ),
            }),
        }
    }
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

/// How long one git command may take before it is stopped: a server that hangs must not
/// stall every later refresh and shutdown.
const GIT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// A checked-out repository.
#[derive(Debug, Clone)]
pub(crate) struct Checkout {
    pub(crate) dir: PathBuf,
    pub(crate) commit: String,
}

/// Where the checkout of `url` lives in the git cache `cache_dir` (whether or not it exists
/// yet): what `managed-by-location` paths of a git source are relative to.
pub fn git_checkout_dir(url: &str, cache_dir: &Path) -> PathBuf {
    cache_dir.join(&crate::files::hex(&Sha1::digest(url.as_bytes()))[..16])
}

/// Clones or updates `url` at `reference` (default: the remote's HEAD) into the cache, with a
/// shallow fetch, and checks it out.
pub(crate) fn sync_git(
    url: &str,
    reference: Option<&str>,
    cache_dir: &Path,
) -> Result<Checkout, IngestError> {
    let fail = |message: String| IngestError::Source {
        source_text: match reference {
            Some(r) => format!("{url}#{r}"),
            None => url.to_owned(),
        },
        message,
    };
    check_git_source(url, reference).map_err(&fail)?;
    let dir = git_checkout_dir(url, cache_dir);
    std::fs::create_dir_all(&dir).map_err(|e| {
        fail(format!(
            "cannot create the git cache {}: {e}",
            dir.display()
        ))
    })?;
    if !dir.join(".git").exists() {
        git(&dir, &["init", "--quiet"]).map_err(&fail)?;
        git(&dir, &["remote", "add", "--", "origin", url]).map_err(&fail)?;
    } else {
        git(&dir, &["remote", "set-url", "--", "origin", url]).map_err(&fail)?;
    }
    let wanted = reference.unwrap_or("HEAD");
    git(
        &dir,
        &[
            "fetch",
            "--quiet",
            "--depth",
            "1",
            "--no-tags",
            "--end-of-options",
            "origin",
            wanted,
        ],
    )
    .map_err(|e| fail(format!("git fetch failed: {e}")))?;
    git(
        &dir,
        &["checkout", "--quiet", "--force", "--detach", "FETCH_HEAD"],
    )
    .map_err(&fail)?;
    git(&dir, &["clean", "--quiet", "-fdx"]).map_err(&fail)?;
    let commit = git(&dir, &["rev-parse", "HEAD"]).map_err(&fail)?;
    Ok(Checkout {
        dir,
        commit: commit.trim().to_owned(),
    })
}

fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let child = Command::new("git")
        // Remote helpers such as `ext::` run commands; they are never wanted here.
        .args(["-c", "protocol.ext.allow=never", "-C"])
        .arg(dir)
        .args(args)
        // Never wait for a password prompt: a server run has nobody to answer it.
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "")
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
    let output = wait_with_timeout(child, GIT_TIMEOUT)
        .map_err(|e| format!("git {}: {e}", args.first().copied().unwrap_or_default()))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(stderr
            .trim()
            .lines()
            .last()
            .unwrap_or("git failed")
            .to_owned())
    }
}

/// Waits for `child`, reading its output, and kills it after `timeout`.
fn wait_with_timeout(
    mut child: std::process::Child,
    timeout: std::time::Duration,
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
                return Err(format!("timed out after {} s", timeout.as_secs()));
            }
            Ok(None) => std::thread::sleep(std::time::Duration::from_millis(20)),
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
        let err = sync_git("file:///nonexistent/repo", Some(&evil), temp.path())
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a branch, tag or commit name"), "{err}");
        for url in ["-oProxyCommand=x://y", "ext::sh -c touch% /tmp/x"] {
            let err = sync_git(url, None, temp.path()).unwrap_err().to_string();
            assert!(err.contains("not"), "{url}: {err}");
        }
        assert!(!marker.exists(), "git ran the injected command");
        // Ordinary refs and IPv6 hosts still pass.
        for reference in ["main", "v1.2.3", "release/2026-11", "a1b2c3d4"] {
            assert!(check_git_source("https://[::1]/org/repo.git", Some(reference)).is_ok());
        }
    }
}
