//! The I/O edge: listing and reading a docs folder from disk, and asking git when each file
//! last changed. Everything it reads is bounded (count, depth, bytes, time) and stays inside
//! the folder: a path with `..` above the root, or a symbolic link whose target is outside it,
//! is refused after comparing canonical paths.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::site::{Pages, is_page, normalize};
use crate::{DocsError, Limits, MkdocsConfig, parse_mkdocs};

/// A docs folder on disk: its canonical root and the Markdown pages below it.
#[derive(Debug, Clone)]
pub struct DocsFolder {
    root: PathBuf,
    pages: Pages,
    limits: Limits,
    /// Entries skipped while listing (names that are not UTF-8, links leaving the folder).
    pub warnings: Vec<String>,
}

impl DocsFolder {
    /// Lists the `*.md` pages below `root` (the docs folder itself): hidden files and folders
    /// (`.git`, `.github`…) are skipped, folder links are not followed, file links only when
    /// they stay inside the folder.
    pub fn open(root: &Path, limits: &Limits) -> Result<DocsFolder, DocsError> {
        let io = |source| DocsError::Io {
            path: root.to_owned(),
            source,
        };
        let real_root = std::fs::canonicalize(root).map_err(io)?;
        if !real_root.is_dir() {
            return Err(io(std::io::Error::other("not a folder")));
        }
        let shown = root.display().to_string();
        let mut found = Vec::new();
        let mut warnings = Vec::new();
        let mut entries = 0usize;
        // (folder, its path relative to the root, depth of its entries)
        let mut stack = vec![(real_root.clone(), String::new(), 1usize)];
        while let Some((dir, rel, depth)) = stack.pop() {
            let listing = std::fs::read_dir(&dir).map_err(|source| DocsError::Io {
                path: dir.clone(),
                source,
            })?;
            for entry in listing {
                let entry = entry.map_err(|source| DocsError::Io {
                    path: dir.clone(),
                    source,
                })?;
                entries += 1;
                if entries > limits.max_entries {
                    return Err(DocsError::TooManyEntries {
                        root: shown,
                        limit: limits.max_entries,
                    });
                }
                let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                    warnings.push(format!(
                        "{}: a name that is not UTF-8 is skipped",
                        entry.path().display()
                    ));
                    continue;
                };
                if name.starts_with('.') {
                    continue;
                }
                let child = if rel.is_empty() {
                    name.clone()
                } else {
                    format!("{rel}/{name}")
                };
                // `file_type` does not follow links: a linked folder is never walked.
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                if kind.is_dir() {
                    if depth < limits.max_depth {
                        stack.push((entry.path(), child, depth + 1));
                    }
                } else if !(kind.is_file() || kind.is_symlink()) {
                    // Pipes, sockets, devices: never pages or assets.
                    continue;
                } else if is_page(&name) {
                    if kind.is_symlink() && !inside(&entry.path(), &real_root) {
                        warnings.push(format!(
                            "{child}: a link to a file outside the docs folder is skipped"
                        ));
                        continue;
                    }
                    if found.len() == limits.max_pages {
                        return Err(DocsError::TooManyPages {
                            root: shown,
                            limit: limits.max_pages,
                        });
                    }
                    found.push(child);
                }
            }
        }
        let pages = Pages::new(found, limits.max_pages, &shown)?;
        Ok(DocsFolder {
            root: real_root,
            pages,
            limits: limits.clone(),
            warnings,
        })
    }

    /// The canonical path of the folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn pages(&self) -> &Pages {
        &self.pages
    }

    /// The text of the page at `page` (relative to the folder), at most
    /// [`Limits::max_page_bytes`].
    pub fn read_page(&self, page: &str) -> Result<String, DocsError> {
        let path = self.checked(page)?;
        let limit = u64::try_from(self.limits.max_page_bytes).unwrap_or(u64::MAX);
        let bytes = read(&path, &self.root, limit, page)?;
        pave_fs::into_text(bytes).map_err(|source| DocsError::Read { path, source })
    }

    /// The bytes of the file at `asset` (relative to the folder), at most
    /// [`Limits::max_asset_bytes`].
    pub fn read_asset(&self, asset: &str) -> Result<Vec<u8>, DocsError> {
        let path = self.checked(asset)?;
        read(&path, &self.root, self.limits.max_asset_bytes, asset)
    }

    /// Each page's title from its first `# ` line (the common case, read from at most the
    /// first 16 KiB of each page), for navigation without rendering every page. Front matter
    /// titles and setext headings are left to [`crate::render_page`].
    pub fn titles(&self) -> HashMap<String, String> {
        let mut out = HashMap::new();
        for page in self.pages.as_slice() {
            let Ok(path) = self.checked(page) else {
                continue;
            };
            let Ok(bytes) = read_head(&path, 16 * 1024) else {
                continue;
            };
            let text = String::from_utf8_lossy(&bytes);
            let mut fence = false;
            for line in text.lines() {
                if line.starts_with("```") || line.starts_with("~~~") {
                    fence = !fence;
                }
                if let Some(title) = line.strip_prefix("# ").filter(|_| !fence) {
                    let title = title.trim().trim_end_matches('#').trim();
                    if !title.is_empty() {
                        out.insert(page.clone(), title.to_owned());
                    }
                    break;
                }
            }
        }
        out
    }

    /// `rel` as a path below the root: normalised, no hidden segment (`.env`, `.git/…`).
    fn checked(&self, rel: &str) -> Result<PathBuf, DocsError> {
        let refused = |reason| DocsError::Refused {
            path: rel.to_owned(),
            reason,
        };
        let normal = normalize(rel).ok_or_else(|| refused("not a path inside the docs folder"))?;
        if normal.is_empty() {
            return Err(refused("names the docs folder itself"));
        }
        if normal.split('/').any(|s| s.starts_with('.')) {
            return Err(refused("hidden files are not served"));
        }
        Ok(self.root.join(normal))
    }
}

/// Reads `path` if its canonical form is inside `root` (symbolic links followed and checked).
fn read(path: &Path, root: &Path, limit: u64, shown: &str) -> Result<Vec<u8>, DocsError> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(DocsError::NotFound {
                path: shown.to_owned(),
            });
        }
        _ => {}
    }
    pave_fs::read_inside(path, root, limit).map_err(|source| match source {
        pave_fs::ReadError::OutsideRoot { .. } => DocsError::Refused {
            path: shown.to_owned(),
            reason: "leads outside the docs folder",
        },
        pave_fs::ReadError::NotFound => DocsError::NotFound {
            path: shown.to_owned(),
        },
        source => DocsError::Read {
            path: path.to_owned(),
            source,
        },
    })
}

fn read_head(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    // A named pipe would block the open until a writer comes (`pave_fs::read_bounded`).
    if !std::fs::metadata(path)?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(limit)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn inside(path: &Path, real_root: &Path) -> bool {
    std::fs::canonicalize(path).is_ok_and(|p| p.starts_with(real_root))
}

/// Reads `mkdocs.yml` (or `mkdocs.yaml`) in `site_root` and opens its docs folder, which
/// must stay inside `site_root`.
pub fn open_site(
    site_root: &Path,
    limits: &Limits,
) -> Result<(MkdocsConfig, DocsFolder), DocsError> {
    let (file, name) = ["mkdocs.yml", "mkdocs.yaml"]
        .iter()
        .map(|n| (site_root.join(n), *n))
        .find(|(p, _)| p.is_file())
        .ok_or_else(|| DocsError::NotFound {
            path: site_root.join("mkdocs.yml").display().to_string(),
        })?;
    let bytes = read(&file, site_root, limits.max_config_bytes, name)?;
    let text = pave_fs::into_text(bytes).map_err(|source| DocsError::Read {
        path: file.clone(),
        source,
    })?;
    let config = parse_mkdocs(&text, name)?;
    let docs = site_root.join(&config.docs_dir);
    if !inside(
        &docs,
        &std::fs::canonicalize(site_root).map_err(|source| DocsError::Io {
            path: site_root.to_owned(),
            source,
        })?,
    ) {
        return Err(DocsError::Refused {
            path: config.docs_dir.clone(),
            reason: "docs_dir leads outside the site folder",
        });
    }
    let folder = DocsFolder::open(&docs, limits)?;
    Ok((config, folder))
}

/// When each file below `docs_dir` (relative to `repo_root`, a folder of a git work tree,
/// not necessarily its top) was last changed: unix seconds of the newest commit touching it,
/// keyed by its path relative to `docs_dir` (the same paths as [`Pages`]). One `git log` run, bounded by
/// [`Limits::git_timeout`]; no git, not a repository, or a timeout gives an empty map: the
/// dates are a nicety, never a reason to fail a page.
pub fn last_changed(repo_root: &Path, docs_dir: &str, limits: &Limits) -> HashMap<String, i64> {
    let Some(dir) = normalize(docs_dir) else {
        return HashMap::new();
    };
    let cwd = if dir.is_empty() {
        repo_root.to_owned()
    } else {
        repo_root.join(&dir)
    };
    let child = Command::new("git")
        .arg("-C")
        .arg(&cwd)
        .args([
            "-c",
            "core.quotePath=false",
            // A docs folder laid out as a bare repository (files any repository can carry)
            // must not be taken for one, with its own config.
            "-c",
            "safe.bareRepository=explicit",
            "log",
            "--no-renames",
            "--no-show-signature",
            // A record separator before each commit's time, then its file names.
            "--format=%x1e%ct",
            "--name-only",
            "--relative",
            "--",
            ".",
        ])
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut child) = child else {
        return HashMap::new();
    };
    let Some(stdout) = child.stdout.take() else {
        let _ = child.kill();
        let _ = child.wait();
        return HashMap::new();
    };
    // Read on a thread so that the wait below can give up after the timeout.
    let reader = std::thread::spawn(move || parse_log(BufReader::new(stdout)));
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() < limits.git_timeout => {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let map = reader.join().unwrap_or_default();
    match status {
        Some(s) if s.success() => map,
        _ => HashMap::new(),
    }
}

/// `git log --format=%x1e%ct --name-only` output → path → newest commit time. The newest is
/// the maximum rather than the first seen: rebased history can list an older date first.
fn parse_log(out: impl BufRead) -> HashMap<String, i64> {
    let mut map: HashMap<String, i64> = HashMap::new();
    let mut time: Option<i64> = None;
    for line in out.split(b'\n') {
        let Ok(line) = line else {
            break;
        };
        let Ok(line) = std::str::from_utf8(&line) else {
            continue;
        };
        if let Some(t) = line.strip_prefix('\u{1e}') {
            time = t.trim().parse().ok();
        } else if !line.is_empty()
            && let Some(t) = time
        {
            let entry = map.entry(line.to_owned()).or_insert(t);
            *entry = (*entry).max(t);
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_output_is_read() {
        let out = "\u{1e}200\n\nindex.md\nguides/a b.md\n\u{1e}100\n\nindex.md\nold.md\n\u{1e}300\n\nold.md\n";
        let map = parse_log(out.as_bytes());
        assert_eq!(map.get("index.md"), Some(&200));
        assert_eq!(map.get("guides/a b.md"), Some(&200));
        assert_eq!(map.get("old.md"), Some(&300));
        assert_eq!(map.len(), 3);
    }
}
