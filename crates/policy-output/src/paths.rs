//! Report paths as repository-relative paths and SARIF URIs (lexical only: no file system).

use std::path::Path;

use crate::RenderOptions;

/// Where a report path points, for machine formats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Place {
    /// `-`: standard input.
    Stdin,
    /// Relative to the repository root (or to the working directory when the root is not
    /// known), forward slashes, no `.` segments.
    Relative(String),
    /// Absolute and outside the repository, forward slashes.
    Absolute(String),
}

impl Place {
    /// The path for GitHub annotations (`file=`): `None` for stdin.
    pub(crate) fn annotation_path(&self) -> Option<&str> {
        match self {
            Place::Stdin => None,
            Place::Relative(p) | Place::Absolute(p) => Some(p),
        }
    }

    /// The SARIF `artifactLocation`: its `uri`, and whether it is relative to `%SRCROOT%`.
    pub(crate) fn sarif_uri(&self) -> (String, bool) {
        match self {
            // Not a file of the repository: a relative reference with no base.
            Place::Stdin => ("stdin".to_owned(), false),
            Place::Relative(p) => (percent_encode(p, false), true),
            Place::Absolute(p) => (file_uri(p), false),
        }
    }
}

pub(crate) struct Resolver {
    working_dir: Option<String>,
    repo_root: Option<String>,
}

impl Resolver {
    pub(crate) fn new(options: &RenderOptions) -> Self {
        let absolute = |p: &Option<std::path::PathBuf>| {
            p.as_deref()
                .map(path_string)
                .filter(|p| is_absolute(p))
                .map(|p| normalize(&p))
        };
        Resolver {
            working_dir: absolute(&options.working_dir),
            repo_root: absolute(&options.repo_root),
        }
    }

    /// `file:///…/` for the repository root (SARIF `originalUriBaseIds`), when known.
    pub(crate) fn root_uri(&self) -> Option<String> {
        self.repo_root.as_deref().map(|root| {
            let mut uri = file_uri(root);
            if !uri.ends_with('/') {
                uri.push('/');
            }
            uri
        })
    }

    pub(crate) fn place(&self, file: &str) -> Place {
        if file == "-" {
            return Place::Stdin;
        }
        let path = file.replace('\\', "/");
        let absolute = if is_absolute(&path) {
            Some(normalize(&path))
        } else {
            self.working_dir
                .as_ref()
                .map(|dir| normalize(&format!("{dir}/{path}")))
        };
        if let (Some(abs), Some(root)) = (&absolute, &self.repo_root) {
            let prefix = if root.ends_with('/') {
                root.clone()
            } else {
                format!("{root}/")
            };
            return match abs.strip_prefix(&prefix) {
                Some(rest) => Place::Relative(rest.to_owned()),
                None => Place::Absolute(abs.clone()),
            };
        }
        if is_absolute(&path) {
            Place::Absolute(normalize(&path))
        } else {
            Place::Relative(normalize(&path))
        }
    }
}

fn path_string(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

/// `/x` or `C:/x` (after backslashes became slashes).
fn is_absolute(p: &str) -> bool {
    let b = p.as_bytes();
    p.starts_with('/')
        || (b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'/')
}

/// Drops empty and `.` segments and resolves `..` lexically (kept at the start of a
/// relative path, dropped at the root of an absolute one).
fn normalize(p: &str) -> String {
    let (prefix, rest) = if let Some(rest) = p.strip_prefix('/') {
        ("/", rest)
    } else if is_absolute(p) {
        (&p[..3], &p[3..])
    } else {
        ("", p)
    };
    let mut parts: Vec<&str> = Vec::new();
    for seg in rest.split('/') {
        match seg {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if prefix.is_empty() => parts.push(".."),
                _ => {}
            },
            s => parts.push(s),
        }
    }
    format!("{prefix}{}", parts.join("/"))
}

fn file_uri(abs: &str) -> String {
    // `C:/x` becomes `file:///C:/x`; `/x` becomes `file:///x`.
    let lead = if abs.starts_with('/') { "" } else { "/" };
    format!("file://{lead}{}", percent_encode(abs, true))
}

/// Percent-encodes everything but RFC 3986 unreserved characters and `/` (and `:` in
/// absolute URIs, for drive letters). Encoding `:` in relative references keeps a first
/// segment like `a:b.yaml` from reading as a scheme.
fn percent_encode(s: &str, keep_colon: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/')
            || (keep_colon && b == b':');
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolver(working: Option<&str>, root: Option<&str>) -> Resolver {
        Resolver::new(&RenderOptions {
            working_dir: working.map(Into::into),
            repo_root: root.map(Into::into),
            ..RenderOptions::default()
        })
    }

    #[test]
    fn paths_become_repo_relative() {
        let r = resolver(Some("/repo/deploy"), Some("/repo"));
        assert_eq!(
            r.place("app.yaml"),
            Place::Relative("deploy/app.yaml".into())
        );
        assert_eq!(
            r.place("./k8s/../app.yaml"),
            Place::Relative("deploy/app.yaml".into())
        );
        assert_eq!(
            r.place("../Dockerfile"),
            Place::Relative("Dockerfile".into())
        );
        assert_eq!(
            r.place("/repo/x/y.yaml"),
            Place::Relative("x/y.yaml".into())
        );
        assert_eq!(
            r.place("/elsewhere/y.yaml"),
            Place::Absolute("/elsewhere/y.yaml".into())
        );
        assert_eq!(r.place("../../up.yaml"), Place::Absolute("/up.yaml".into()));
        assert_eq!(r.place("-"), Place::Stdin);
        assert_eq!(
            r.place("win\\dir\\a.yaml"),
            Place::Relative("deploy/win/dir/a.yaml".into())
        );
        // A sibling directory that shares the root's prefix is not inside it.
        assert_eq!(
            r.place("/repository/a.yaml"),
            Place::Absolute("/repository/a.yaml".into())
        );
    }

    #[test]
    fn without_a_root_paths_stay_as_given() {
        let r = resolver(None, None);
        assert_eq!(r.place("./a/b.yaml"), Place::Relative("a/b.yaml".into()));
        assert_eq!(r.place("../b.yaml"), Place::Relative("../b.yaml".into()));
        assert_eq!(
            r.place("C:\\x\\b.yaml"),
            Place::Absolute("C:/x/b.yaml".into())
        );
    }

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(
            Place::Relative("my dir/café #1%.yaml".into()).sarif_uri(),
            ("my%20dir/caf%C3%A9%20%231%25.yaml".into(), true)
        );
        assert_eq!(
            Place::Relative("a:b.yaml".into()).sarif_uri().0,
            "a%3Ab.yaml"
        );
        assert_eq!(
            Place::Absolute("/tmp/a b".into()).sarif_uri().0,
            "file:///tmp/a%20b"
        );
        assert_eq!(
            Place::Absolute("C:/x/y".into()).sarif_uri().0,
            "file:///C:/x/y"
        );
        assert_eq!(Place::Stdin.sarif_uri(), ("stdin".into(), false));
        assert_eq!(
            resolver(None, Some("/r o")).root_uri().as_deref(),
            Some("file:///r%20o/")
        );
    }
}
