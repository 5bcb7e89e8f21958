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
            Source::Git { url, reference } => Ok((
                GIT.into(),
                match reference {
                    Some(r) => format!("{url}#{r}"),
                    None => url.clone(),
                },
            )),
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
    let dir = git_checkout_dir(url, cache_dir);
    std::fs::create_dir_all(&dir).map_err(|e| {
        fail(format!(
            "cannot create the git cache {}: {e}",
            dir.display()
        ))
    })?;
    if !dir.join(".git").exists() {
        git(&dir, &["init", "--quiet"]).map_err(&fail)?;
        git(&dir, &["remote", "add", "origin", url]).map_err(&fail)?;
    } else {
        git(&dir, &["remote", "set-url", "origin", url]).map_err(&fail)?;
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
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        // Never wait for a password prompt: a server run has nobody to answer it.
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "")
        .output()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                "the git executable was not found; install git to ingest git sources".to_owned()
            }
            _ => format!("cannot run git: {e}"),
        })?;
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
}
