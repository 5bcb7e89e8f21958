//! Paths as API clients see them. Until sign-in exists every caller of the server is treated
//! alike, so what the API answers about a location (its status, diagnostics, why it could not
//! be read) names files relative to the location's root, and the git cache as `<git cache>`;
//! absolute paths on the server stay in its log and in the CLI, whose user runs it there.

use std::path::{Path, PathBuf};

use pave_store::LocationKind;

use crate::Diagnostic;
use crate::source::Source;

/// What stands for the git cache folder in answers to clients.
const CACHE_SHOWN: &str = "<git cache>";

/// Rewrites the server's absolute paths for one location, for API clients.
#[derive(Debug, Clone)]
pub struct ClientPaths {
    /// The location's root folder (a folder location itself, a file location's folder), as
    /// registered and with links followed.
    roots: Vec<PathBuf>,
    caches: Vec<PathBuf>,
}

impl ClientPaths {
    /// For the location `kind`/`target`, read with the git cache `git_cache`.
    pub fn new(kind: LocationKind, target: &str, git_cache: &Path) -> Self {
        let root = match Source::from_location(kind, target) {
            Ok(Source::Path(path)) if path.is_dir() => Some(path),
            Ok(Source::Path(path)) => path.parent().map(Path::to_path_buf),
            // A git location's files are named by key (`git:<url>#<ref>/<path>`), and its URL
            // is what the client sent: nothing to rewrite but the cache.
            _ => None,
        };
        let with_real = |path: PathBuf| {
            let real = std::fs::canonicalize(&path).ok();
            std::iter::once(path).chain(real).collect::<Vec<_>>()
        };
        ClientPaths {
            roots: root.map(with_real).unwrap_or_default(),
            caches: with_real(git_cache.to_path_buf()),
        }
    }

    /// A diagnostic's file: relative to the root (`.` for the root itself).
    pub fn file(&self, file: &str) -> String {
        for root in &self.roots {
            if let Ok(rest) = Path::new(file).strip_prefix(root) {
                return if rest.as_os_str().is_empty() {
                    ".".to_owned()
                } else {
                    rest.display().to_string()
                };
            }
        }
        self.text(file)
    }

    /// A message with the root's paths made relative and the git cache named as such.
    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        // Longest first, so that a root inside another is not cut in half.
        let mut replacements: Vec<(String, &str)> = self
            .roots
            .iter()
            .map(|r| (r.display().to_string(), "."))
            .chain(
                self.caches
                    .iter()
                    .map(|c| (c.display().to_string(), CACHE_SHOWN)),
            )
            .filter(|(from, _)| from.len() > 1)
            .collect();
        replacements.sort_by_key(|(from, _)| std::cmp::Reverse(from.len()));
        for (from, to) in replacements {
            out = replace_path(&out, &from, to);
        }
        out
    }

    /// `diagnostic` with its file and message rewritten.
    pub fn diagnostic(&self, diagnostic: &Diagnostic) -> Diagnostic {
        Diagnostic {
            file: self.file(&diagnostic.file),
            message: self.text(&diagnostic.message),
            ..diagnostic.clone()
        }
    }
}

/// Replaces the path `from` in `text` where it stands as a whole path or a path's beginning
/// (`from/…` becomes `…` when `to` is `.`), not where it is the start of a longer name.
fn replace_path(text: &str, from: &str, to: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(from) {
        let after = &rest[at + from.len()..];
        let next = after.chars().next();
        out.push_str(&rest[..at]);
        match next {
            Some('/') if to == "." => {
                rest = &after[1..];
            }
            Some(c) if c.is_alphanumeric() || "._-".contains(c) => {
                out.push_str(from);
                rest = after;
            }
            _ => {
                out.push_str(to);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_shown_relative_to_the_root() {
        let temp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(temp.path()).unwrap().join("catalog");
        std::fs::create_dir_all(root.join("svc")).unwrap();
        let cache = temp.path().join("cache");
        let target = root.display().to_string();
        let shown = ClientPaths::new(LocationKind::File, &target, &cache);
        let file = format!("{target}/svc/catalog-info.yaml");
        assert_eq!(shown.file(&file), "svc/catalog-info.yaml");
        assert_eq!(shown.file(&target), ".");
        assert_eq!(
            shown.text(&format!(
                "location target x does not exist (resolved to {target}/svc/x.yaml); {target}2/y stays, {target}: root"
            )),
            format!(
                "location target x does not exist (resolved to svc/x.yaml); {target}2/y stays, .: root"
            )
        );
        assert_eq!(
            shown.text(&format!(
                "cannot create the git cache {}/abc: denied",
                cache.display()
            )),
            "cannot create the git cache <git cache>/abc: denied"
        );
        // A file location: relative to its folder.
        let one = ClientPaths::new(LocationKind::File, &file, &cache);
        assert_eq!(one.file(&file), "catalog-info.yaml");
        // Git keys are not paths on this machine: unchanged.
        let git = ClientPaths::new(LocationKind::Git, "https://example.com/r.git", &cache);
        assert_eq!(
            git.file("git:https://example.com/r.git#HEAD/a.yaml"),
            "git:https://example.com/r.git#HEAD/a.yaml"
        );
    }
}
